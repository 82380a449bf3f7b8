"""Tests of simlab.plots: every figure renders for empty, single-invocation and large runs, draws
what the records say, and stays vectorised (a bounded number of artists however many rows)."""

from __future__ import annotations

import doctest
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

import simlab  # noqa: E402
from simlab import plots  # noqa: E402
from simlab.core.plots._style import _merge  # noqa: E402
from simlab.core.plots.traffic import _envelope  # noqa: E402
from simlab.core.theory import p_cold_ttl  # noqa: E402


def _run(rate: float | None, until_s: float, era: str = "today", times: list[float] | None = None,
         **fn: object) -> simlab.Result:
    sim = simlab.Simulation(era=era, seed=3)
    sim.add_function("f", **({"memory_mb": 1024, "duration_s": 0.1} | fn))
    if times is not None:
        sim.add_source(simlab.sources.Replay(times), target="f")
    elif rate is not None:
        sim.add_source(simlab.sources.Poisson(rate_per_s=rate), target="f")
    return sim.run(until_s=until_s)


@pytest.fixture(scope="module")
def empty() -> simlab.Result:
    return _run(None, 60.0)


@pytest.fixture(scope="module")
def single() -> simlab.Result:
    return _run(None, 60.0, times=[5.0])


@pytest.fixture(scope="module")
def large() -> simlab.Result:
    """One hour at 10 requests/s, with errors, on 2018 hosts (3 GB: several hosts)."""
    return _run(10.0, 3600.0, era="2018", error_rate=0.02, memory_mb=1024)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _png(ax: Axes) -> bytes:
    buf = io.BytesIO()
    ax.figure.savefig(buf, format="png", dpi=50)
    return buf.getvalue()


RESULT_PLOTS = ["timeline", "concurrency", "latency_cdf", "outcomes", "duration_vs_billed",
                "host_packing"]


@pytest.mark.parametrize("name", RESULT_PLOTS)
@pytest.mark.parametrize("which", ["empty", "single", "large"])
def test_every_plot_renders_with_labelled_axes(name: str, which: str,
                                               request: pytest.FixtureRequest) -> None:
    result = request.getfixturevalue(which)
    ax = getattr(plots, name)(result)
    assert isinstance(ax, Axes)
    assert _png(ax).startswith(b"\x89PNG")
    # Units in brackets on the labelled axes (the y axis of host_packing's heat map is hosts).
    assert "(" in ax.get_xlabel() and ax.get_xlabel().endswith(")")
    assert ax.get_ylabel()


@pytest.mark.parametrize("name", RESULT_PLOTS)
def test_draws_on_the_given_axes(name: str, single: simlab.Result) -> None:
    fig, ax = plt.subplots()
    assert getattr(plots, name)(single, ax=ax) is ax


def test_palette_is_okabe_ito() -> None:
    allowed = {v.lower() for v in plots.OKABE_ITO.values()} | {plots.COLORS["idle"].lower()}
    assert {v.lower() for v in plots.COLORS.values()} <= allowed
    assert len(plots.OKABE_ITO) == 8


def test_large_run_is_drawn_with_few_artists(large: simlab.Result) -> None:
    # 36,000 requests: vectorised drawing keeps the number of artists independent of it.
    for name in RESULT_PLOTS:
        ax = getattr(plots, name)(large)
        artists = len(ax.patches) + len(ax.lines) + len(ax.collections) + len(ax.artists)
        assert artists < 60, (name, artists)
        plt.close(ax.figure)


def test_timeline_rows_and_limit(large: simlab.Result) -> None:
    ax = plots.timeline(large, max_environments=3)
    assert "first 3 of" in ax.get_title()
    assert ax.get_ylabel() == "execution environments, by host"
    ax = plots.timeline(large, max_environments=None, end_s=600)
    envs = large.environments
    assert f"({int((envs['created_s'] < 600).sum())})" in ax.get_title()
    assert all(t.get_text().startswith("host ") for t in ax.get_yticklabels())
    assert ax.get_xlabel() == "time (s)" and ax.get_xlim()[1] == pytest.approx(600)


def test_timeline_marks_every_cold_start_and_reclaim() -> None:
    result = _run(None, 3000.0, times=[0.0, 10.0, 1000.0, 2500.0], init_s=0.5)
    ax = plots.timeline(result, max_environments=None)
    cold = [ln for ln in ax.lines if ln.get_marker() == ">"][0]
    assert len(cold.get_xdata()) == int(result.invocations["cold"].sum()) == 3
    reclaimed = [ln for ln in ax.lines if ln.get_marker() == "x"][0]
    assert len(reclaimed.get_xdata()) == int(
        result.environments["end_reason"].isin(["idle_timeout", "max_lifetime"]).sum())


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_timeline_rejects_bad_limit(bad: object, single: simlab.Result) -> None:
    with pytest.raises(ValueError, match="max_environments"):
        plots.timeline(single, max_environments=bad)


def test_timeline_rejects_empty_window(single: simlab.Result) -> None:
    with pytest.raises(ValueError, match="end_s"):
        plots.timeline(single, start_s=30, end_s=10)


def test_bad_data_and_function(single: simlab.Result) -> None:
    with pytest.raises(TypeError, match="Result"):
        plots.outcomes([1, 2, 3])
    with pytest.raises(ValueError, match="no function named 'g'"):
        plots.latency_cdf(single, function="g")
    with pytest.raises(ValueError, match="environments"):
        plots.timeline({"invocations": single.invocations})


def test_a_function_without_requests_plots_empty() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f")
    sim.add_function("idle")
    sim.add_source(simlab.sources.Poisson(rate_per_s=2.0), target="f")
    result = sim.run(until_s=30)
    for draw in (plots.timeline, plots.concurrency, plots.latency_cdf, plots.outcomes,
                 plots.duration_vs_billed):
        assert isinstance(draw(result, function="idle"), Axes), draw.__name__
        plt.close("all")
    with pytest.raises(ValueError, match="no function named 'g'"):
        plots.outcomes(result, function="g")


def test_accepts_tables_instead_of_a_result(large: simlab.Result) -> None:
    ax = plots.timeline({"environments": large.environments, "invocations": large.invocations})
    assert ax.get_title().startswith("Execution environments")
    ax = plots.latency_cdf(large.invocations)
    assert ax.get_xscale() == "log"


def test_concurrency_peak_matches_the_run() -> None:
    result = _run(2.0, 300.0, duration_s=1.0)
    ax = plots.concurrency(result, show_limits="all")
    line = ax.lines[0]
    assert max(line.get_ydata()) == result.max_concurrency
    assert f"peak {result.max_concurrency}" in ax.get_title()
    limit = [ln for ln in ax.lines if ln.get_label().startswith("account limit")][0]
    assert limit.get_ydata()[0] == result.rules.account_concurrency


def test_concurrency_envelope_for_many_steps(large: simlab.Result) -> None:
    ax = plots.concurrency(large)
    assert f"peak {large.max_concurrency}" in ax.get_title()
    highest = [p for p in ax.patches if p.get_label() == "highest in each bin"][0]
    assert "off scale" in " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert highest.get_path().vertices[:, 1].max() == large.max_concurrency


def test_concurrency_shows_reserved_limit() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f", duration_s=1.0, reserved_concurrency=3)
    sim.add_source(simlab.sources.Poisson(rate_per_s=5.0), target="f")
    result = sim.run(until_s=60)
    ax = plots.concurrency(result, function="f")
    reserved = [ln for ln in ax.lines if ln.get_label().startswith("reserved")][0]
    assert reserved.get_ydata()[0] == 3
    assert max(ax.lines[0].get_ydata()) <= 3
    with pytest.raises(ValueError, match="show_limits"):
        plots.concurrency(result, show_limits="some")


def test_envelope_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    t = np.sort(rng.uniform(0, 100, 5000))
    level = rng.integers(0, 20, 5000)
    edges, low, high = _envelope(t, level, 100.0)
    for k in (0, 1, 500, 999):
        inside = level[(t >= edges[k]) & (t < edges[k + 1])]
        before = level[t < edges[k]]
        values = np.r_[inside, before[-1] if len(before) else 0]
        assert low[k] == values.min() and high[k] == values.max()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.floats(0, 100), st.floats(0, 5)), max_size=40))
def test_merge_keeps_the_union_of_bars(bars: list[tuple[int, float, float]]) -> None:
    if not bars:
        return
    y = np.array([b[0] for b in bars], float)
    x0 = np.array([b[1] for b in bars])
    x1 = x0 + np.array([b[2] for b in bars])
    m0, m1, my = _merge(x0, x1, y, 0.0)
    probe = np.linspace(0, 106, 2000)
    for row in range(4):
        orig = ((probe[:, None] >= x0[y == row]) & (probe[:, None] <= x1[y == row])).any(1)
        merged = ((probe[:, None] >= m0[my == row]) & (probe[:, None] <= m1[my == row])).any(1)
        assert (orig == merged).all()
    # Merged bars of a row do not touch each other.
    for row in range(4):
        a, b = np.sort(m0[my == row]), m1[my == row][np.argsort(m0[my == row])]
        assert (a[1:] > np.maximum.accumulate(b)[:-1]).all()


def test_latency_cdf_reaches_one_for_warm_and_cold(large: simlab.Result) -> None:
    ax = plots.latency_cdf(large)
    labels = [ln.get_label() for ln in ax.lines]
    assert any(lb.startswith("warm (n=") for lb in labels)
    assert any(lb.startswith("cold (n=") for lb in labels)
    for ln in ax.lines:
        assert ln.get_ydata()[-1] == pytest.approx(1.0)
        assert len(ln.get_xdata()) <= 2001
    colors = {ln.get_label().split()[0]: to_hex(ln.get_color()) for ln in ax.lines}
    assert colors == {"warm": plots.COLORS["warm"].lower(), "cold": plots.COLORS["cold"].lower()}


def test_outcomes_stack_adds_up_to_requests(large: simlab.Result) -> None:
    ax = plots.outcomes(large, period_s=60)
    top = ax.patches[-1]  # the last status drawn is on top of the stack
    heights = top.get_path().vertices[:, 1]
    inv = large.invocations
    counts = np.bincount((inv["arrival_s"] // 60).astype(int), minlength=60)[:60]
    assert heights.max() == counts.max()
    labels = [p.get_label() for p in ax.patches]
    assert labels[0] == f"ok ({(inv['status'] == 'ok').sum():,})"
    assert any(lb.startswith("error (") for lb in labels)
    assert ax.get_ylabel() == "requests per 60 s"
    with pytest.raises(ValueError, match="period_s"):
        plots.outcomes(large, period_s=0)


def test_duration_vs_billed(large: simlab.Result) -> None:
    ax = plots.duration_vs_billed(large, granularity_ms=100)
    pts = ax.lines[0]
    assert (np.asarray(pts.get_ydata()) % 100 == 0).all()
    assert (np.asarray(pts.get_ydata()) >= np.asarray(pts.get_xdata())).all()
    ran = int((~large.invocations["status"].isin(["throttled", "dropped"])).sum())
    with pytest.raises(ValueError, match="billed_ms"):
        plots.duration_vs_billed(large, np.ones(ran + 1))
    with pytest.raises(ValueError, match="granularity_ms"):
        plots.duration_vs_billed(large.invocations)
    ax = plots.duration_vs_billed(large.invocations, np.full(ran, 250.0))
    assert set(ax.lines[0].get_ydata()) == {250.0}


def test_cost_breakdown() -> None:
    bill = pd.DataFrame({"function": ["a", "a", "b", "a"],
                         "item": ["requests", "duration", "duration", "free_tier_credit"],
                         "cost_usd": [0.2, 3.0, 1.0, -0.5]})
    ax = plots.cost_breakdown(bill)
    widths = sorted(round(p.get_width(), 6) for p in ax.patches if p.get_width() > 0)
    assert widths == [0.2, 0.5, 1.0, 3.0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert any("$2.7" in t.get_text() for t in ax.texts)
    assert ax.get_xlabel() == "cost (USD)"
    with pytest.raises(TypeError, match="cost_usd"):
        plots.cost_breakdown(bill.drop(columns="cost_usd"))
    plots.cost_breakdown(bill.iloc[:0])  # an empty bill still draws


def test_host_packing_never_exceeds_capacity(large: simlab.Result) -> None:
    ax = plots.host_packing(large, max_hosts=50)
    peaks = large.hosts.set_index("host_id")["peak_used_mb"]
    steps = [ln for ln in ax.lines if ln.get_label().startswith("host ")]
    assert len(steps) == len(large.hosts) > 1
    for ln in steps:
        h = int(ln.get_label().split()[1])
        assert max(ln.get_ydata()) == peaks[h] <= large.rules.host_memory_mb
    widths = [ln.get_linewidth() for ln in steps]  # hosts with the same use all still show
    assert widths == sorted(widths, reverse=True) and widths[0] > widths[-1]
    heat = plots.host_packing(large, max_hosts=1)
    assert heat.images and heat.images[0].get_array().max() <= 1.0


def test_cold_start_vs_keep_alive_draws_theory() -> None:
    sweep = pd.DataFrame({"keep_alive_s": [0, 300, 600] * 2, "rate_per_s": [0.01] * 3 + [0.002] * 3,
                          "cold_start_fraction": [1, 0.05, 0.0, 1, 0.5, 0.3],
                          "invocations": [100] * 6})
    ax = plots.cold_start_vs_keep_alive(sweep, highlight_s=360)
    curves = [ln for ln in ax.lines if len(ln.get_xdata()) == 200]
    assert len(curves) == 2
    for ln in curves:
        x, y = np.asarray(ln.get_xdata()), np.asarray(ln.get_ydata())
        rates = [0.002, 0.01]
        assert any(np.allclose(y, p_cold_ttl(r, x * 60)) for r in rates)
    assert ax.get_xlabel() == "keep-alive T (min)"
    with pytest.raises(TypeError, match="keep_alive_s"):
        plots.cold_start_vs_keep_alive(sweep.drop(columns="invocations"))


def test_plot_accessor(single: simlab.Result) -> None:
    acc = plots.PlotAccessor(single)
    for name in RESULT_PLOTS:
        assert isinstance(getattr(acc, name)(), Axes)
    bill = pd.DataFrame({"function": ["f"], "item": ["requests"], "cost_usd": [0.1]})
    assert isinstance(acc.cost_breakdown(bill), Axes)


def test_doctests() -> None:
    assert doctest.testmod(plots).failed == 0


def test_fast_stairs_match_matplotlibs() -> None:
    from matplotlib.figure import Figure

    from simlab.core.plots.traffic import _stairs

    rng = np.random.default_rng(3)
    values, edges = rng.integers(1, 9, 50).astype(float), np.linspace(2.0, 60.0, 51)
    base = rng.integers(0, 3, 50).astype(float)  # a baseline that is not flat
    for kwargs in ({"label": "a", "color": "C1"},
                   {"baseline": base, "fill": True, "label": "b", "color": "C2", "alpha": 0.35}):
        mine, theirs = (Figure().subplots() for _ in range(2))
        patch = _stairs(mine, values, edges, **kwargs)
        ref = theirs.stairs(values, edges, **kwargs)
        assert patch.get_fill() is ref.get_fill()
        assert patch.get_facecolor() == ref.get_facecolor()
        assert patch.get_edgecolor() == ref.get_edgecolor()
        assert patch.get_linewidth() == ref.get_linewidth()
        assert mine.get_xlim() == theirs.get_xlim() and mine.get_ylim() == theirs.get_ylim()
        assert mine.get_legend_handles_labels()[1] == [kwargs["label"]]
        np.testing.assert_array_equal(patch.get_path().vertices, ref.get_path().vertices)
