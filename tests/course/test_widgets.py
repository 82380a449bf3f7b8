"""Tests of simlab.widgets: the pure functions behind the dashboards (without widgets), the
controls' ranges and units, and the thin widget layer driven programmatically."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import ipywidgets as w  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from simlab import widgets  # noqa: E402
from simlab.core.config import ERAS  # noqa: E402
from simlab.core.theory import p_cold_ttl  # noqa: E402


@pytest.fixture(scope="module")
def default_view() -> tuple[widgets.ColdStartView, Figure]:
    return widgets.cold_start_view()


def test_view_is_a_result_and_a_figure(default_view) -> None:
    view, fig = default_view
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    timeline, curve = fig.axes
    assert timeline.get_title().startswith("Execution environments")
    assert curve.get_xlabel() == "keep-alive T (min)"
    assert view.keep_alive_s == 360.0 and view.era == "today"
    assert view.invocations == len(view.result.invocations)
    assert view.cold_start_fraction == view.result.summary()["cold_start_fraction"]
    assert view.theory_cold_start_fraction == pytest.approx(math.exp(-(10 ** -2.5) * 360))
    # The timeline shows the first 3 hours.
    assert timeline.get_xlim() == pytest.approx((0, 180))


def test_view_agrees_with_theory(default_view) -> None:
    view, _ = default_view
    p, n = view.theory_cold_start_fraction, view.invocations
    # 4 standard errors of a binomial fraction, plus the first request (always cold).
    assert abs(view.cold_start_fraction - p) <= 4 * math.sqrt(p * (1 - p) / n) + 1 / n


def test_view_is_deterministic(default_view) -> None:
    view, _ = default_view
    again, _ = widgets.cold_start_view()
    assert again.cold_start_fraction == view.cold_start_fraction
    assert again.sweep.equals(view.sweep)


def test_view_reacts_to_its_parameters(default_view) -> None:
    view, _ = default_view
    longer, _ = widgets.cold_start_view(keep_alive_min=20)
    assert longer.cold_start_fraction < view.cold_start_fraction / 3
    older, fig = widgets.cold_start_view(era="2018")
    assert older.result.rules.era == "2018"
    assert any("2018's keep-alive" in t.get_text() for t in fig.axes[1].get_legend().get_texts())


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"keep_alive_min": -1}, "keep_alive_min"),
    ({"keep_alive_min": math.nan}, "keep_alive_min"),
    ({"rate_per_s": 0}, "rate_per_s"),
    ({"rate_per_s": 11}, "rate_per_s"),
    ({"rate_per_s": "fast"}, "rate_per_s"),
    ({"era": "1999"}, "era"),
    ({"window_h": 0}, "window_h"),
    ({"requests": 5}, "requests"),
    ({"requests": 1000.0}, "requests"),
])
def test_view_rejects_bad_input(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        widgets.cold_start_view(**kwargs)


def test_sweep_columns_and_theory() -> None:
    sweep = widgets.cold_start_sweep([0.002, 0.01], [0, 300, 900], requests=300, seed=4)
    assert list(sweep.columns) == ["rate_per_s", "keep_alive_s", "invocations",
                                   "cold_start_fraction", "standard_error",
                                   "theory_cold_start_fraction", "mean_environments",
                                   "mean_idle_environments"]
    assert len(sweep) == 6
    np.testing.assert_allclose(sweep["theory_cold_start_fraction"],
                               p_cold_ttl(sweep["rate_per_s"], sweep["keep_alive_s"]))
    zero = sweep[sweep["keep_alive_s"] == 0]
    assert (zero["cold_start_fraction"] == 1.0).all()  # no keep-alive: every request is cold
    n = sweep["invocations"]
    p = sweep["theory_cold_start_fraction"]
    assert (abs(sweep["cold_start_fraction"] - p)
            <= 4 * np.sqrt(p * (1 - p) / n) + 1 / n).all()
    # Keeping environments longer keeps more of them idle.
    for _, part in sweep.groupby("rate_per_s"):
        assert part["mean_idle_environments"].is_monotonic_increasing


def test_sweep_max_lifetime_adds_cold_starts() -> None:
    kw = {"requests": 400, "seed": 2}
    without = widgets.cold_start_sweep(0.01, [3600.0], **kw)
    with_ = widgets.cold_start_sweep(0.01, [3600.0], max_lifetime=True, **kw)
    assert with_["cold_start_fraction"][0] > without["cold_start_fraction"][0]


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"rate_per_s": [0.01, -1]}, "rate_per_s"),
    ({"keep_alive_s": []}, "keep_alive_s"),
    ({"keep_alive_s": [-5]}, "keep_alive_s"),
    ({"requests": 5}, "requests"),
    ({"duration_s": -1}, "duration_s"),
    ({"era": "2030"}, "era"),
])
def test_sweep_rejects_bad_input(kwargs: dict, match: str) -> None:
    args = {"rate_per_s": 0.01, "keep_alive_s": [60]} | kwargs
    with pytest.raises(ValueError, match=match):
        widgets.cold_start_sweep(**args)


def test_controls_carry_units_and_platform_ranges() -> None:
    mem = widgets.memory_slider()
    assert (mem.min, mem.max) == (128, 10240) and "(MB)" in mem.description
    old = widgets.memory_slider(1024, era="2018")
    assert (old.max, old.step) == (3008, 64)
    assert widgets.timeout_slider(era="2018").max == 300
    assert widgets.timeout_slider().max == 900 and "(s)" in widgets.timeout_slider().description
    ka = widgets.keep_alive_slider()
    assert ka.max >= max(r.keep_alive.ttl_s for r in ERAS.values()) / 60
    assert "(min)" in ka.description and ka.value == 6
    rate = widgets.rate_slider()
    assert "(req/s)" in rate.description and rate.value == 0.003
    values = [v for _, v in rate.options]
    assert values[0] == pytest.approx(1e-3) and values[-1] == pytest.approx(0.1)
    # Round values, labelled for people.
    assert [label for label, _ in rate.options][:4] == ["0.001", "0.0015", "0.002", "0.003"]
    assert widgets.concurrency_slider().max == 1000
    assert [v for _, v in widgets.era_dropdown().options] == list(ERAS)
    assert widgets.granularity_dropdown(100.0).value == 100.0
    for c in (mem, ka, rate):
        assert c.continuous_update is False
        # A label of fixed width and a fixed control width: the track keeps its room.
        assert c.style.description_width == widgets.DESCRIPTION_WIDTH
        assert c.layout.width == widgets.CONTROL_WIDTH and c.tooltip == c.description


@pytest.mark.parametrize(("x", "text"), [
    (398.107, "398"), (1234.4, "1,234"), (0.0031623, "0.00316"), (0.5, "0.5"), (12, "12"),
    (1200.0, "1,200"), (0, "0"), (-2.5, "-2.5"), (5.5555, "5.56"),
])
def test_format_number_for_people(x: float, text: str) -> None:
    assert widgets.format_number(x) == text


def test_nice_values_are_round_and_in_range() -> None:
    assert widgets.nice_values(1, 250) == [1, 1.5, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150,
                                          200]
    assert widgets.nice_values(0.01, 0.02, 0.0123) == [0.01, 0.0123, 0.015, 0.02]


def test_png_is_as_wide_as_the_output_area() -> None:
    import io

    from PIL import Image

    for inches in (6.0, 9.0, 12.0):
        png = widgets.png_bytes(Figure(figsize=(inches, 3.0)))
        assert Image.open(io.BytesIO(png)).size[0] == widgets.FIGURE_WIDTH_PX


def test_the_fast_png_is_what_matplotlib_draws() -> None:
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    def pixels(png: bytes) -> np.ndarray:
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA")).astype(int)

    _, fig = widgets.cold_start_view()
    fast = pixels(widgets.png_bytes(fig))
    buf = io.BytesIO()
    FigureCanvasAgg(fig)
    fig.savefig(buf, format="png", dpi=widgets.FIGURE_WIDTH_PX / fig.get_figwidth())
    plain = pixels(buf.getvalue())
    assert fast.shape == plain.shape
    # Texts are placed at whole pixels (as matplotlib did up to 3.10): only their antialiased
    # edges differ, in under 2 % of the pixels (0.8 % measured on this figure).
    assert (np.abs(fast - plain).max(axis=2) > 64).mean() < 0.02


def test_cached_text_is_drawn_as_first_rendered() -> None:
    def figure(title: str) -> Figure:
        fig = Figure(figsize=(4.0, 2.0))
        ax = fig.subplots()
        ax.set(title=title, xlabel="time (s)", ylabel="concurrency (environments)")
        return fig

    from simlab.course import figure_png

    figure_png._agg_renderer.cache_clear()  # a new renderer: every text rendered afresh
    first = widgets.png_bytes(figure("Cold starts"))
    assert widgets.png_bytes(figure("Cold starts")) == first  # its texts from the cache
    assert widgets.png_bytes(figure("Warm starts")) != first


class _Calls:
    def __init__(self) -> None:
        self.values: list[dict] = []

    def __call__(self, **values):
        self.values.append(values)
        fig = Figure(figsize=(2, 1))
        fig.subplots().plot([0, 1], [0, values["x"]])
        return values["x"] * 2, fig


def test_dashboard_redraws_when_a_control_changes(monkeypatch) -> None:
    import IPython.display

    shown: list = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    compute = _Calls()
    slider = w.IntSlider(value=1, min=0, max=5, continuous_update=True)
    box = widgets.dashboard(compute, {"x": slider}, readout=lambda d: f"twice is {d}",
                            show=False)
    assert slider.continuous_update is False
    assert "simlab-dashboard" in box._dom_classes
    readout = box.children[1]
    assert readout.value == "twice is 2" and compute.values == [{"x": 1}]
    slider.value = 3
    assert compute.values[-1] == {"x": 3} and readout.value == "twice is 6"
    # Each run showed its figure as a PNG image.
    assert [type(o).__name__ for o in shown] == ["Image", "Image"]
    assert shown[-1].data.startswith(b"\x89PNG")


def test_dashboard_with_run_button_waits_for_it() -> None:
    compute = _Calls()
    slider = w.IntSlider(value=1, min=0, max=5)
    box = widgets.dashboard(compute, {"x": slider}, readout=str, run_button=True, show=False)
    button = box.children[0].children[-1]
    assert isinstance(button, w.Button) and button.description == "Run"
    assert len(compute.values) == 1  # one run to start with
    slider.value = 4
    assert len(compute.values) == 1
    button.click()
    assert compute.values[-1] == {"x": 4} and box.children[1].value == "8"


def test_dashboard_rejects_bad_arguments() -> None:
    with pytest.raises(TypeError, match="compute"):
        widgets.dashboard(42, {"x": w.IntSlider()}, show=False)
    with pytest.raises(TypeError, match="controls"):
        widgets.dashboard(_Calls(), {}, show=False)
    with pytest.raises(TypeError, match="controls"):
        widgets.dashboard(_Calls(), {"x": 3}, show=False)


def test_cold_start_dashboard_readout_follows_the_slider() -> None:
    box = widgets.cold_start_dashboard(show=False)
    keep_alive, rate, era = box.children[0].children
    readout = box.children[1]
    assert "keep-alive 6 min" in readout.value and "cold-start fraction" in readout.value
    keep_alive.value = 7
    assert "keep-alive 7 min" in readout.value
    expected, _ = widgets.cold_start_view(keep_alive_min=7, rate_per_s=rate.value)
    assert f"{expected.cold_start_fraction:.1%}" in readout.value
    today = readout.value
    era.value = "2018"
    # The era's measured keep-alive (26 min in 2018) is simulated on the same traffic.
    older, _ = widgets.cold_start_view(keep_alive_min=7, rate_per_s=rate.value, era="2018")
    assert older.era_keep_alive_min == 26
    assert older.era_cold_start_fraction < older.cold_start_fraction
    assert f"2018's measured keep-alive, 26 min: <b>{older.era_cold_start_fraction:.1%}" in (
        readout.value)
    assert readout.value != today
    with pytest.raises(TypeError, match="unknown default"):
        widgets.cold_start_dashboard(show=False, memory_mb=128)
