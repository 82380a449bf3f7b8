"""Dashboards: sliders over a simulation, so a lesson's question can be explored by hand.

A dashboard has two layers, kept apart on purpose:

1. a *pure function* from parameters to ``(data, figure)``: it runs simlab and draws with
   :mod:`simlab.core.plots` on a :class:`matplotlib.figure.Figure` of its own (no pyplot state, so
   nothing leaks between redraws). It is deterministic and tested like any other function;
2. a thin ipywidgets layer, :func:`dashboard`, that builds the controls, calls the pure function
   when one changes (``interactive_output``, ``continuous_update=False``: once when a slider is
   released, not at every pixel), shows the figure as a PNG and a one-line readout. Dashboards whose
   run takes longer than about a quarter of a second get a Run button instead.

Controls come from factories (:func:`keep_alive_slider`, :func:`rate_slider`,
:func:`memory_slider`, :func:`choice_slider`...) whose descriptions carry units and whose ranges
come from the platform's limits in :data:`simlab.core.config.ERAS`. :func:`dashboard` gives every
control the same label width and width (:func:`fit`), so a slider keeps a usable track whatever
its description; sliders over several powers of ten offer round values (:func:`nice_values`),
and readouts and titles print numbers for people (:func:`format_number`: "398", not "398.107").
Figures are shown as PNGs :data:`FIGURE_WIDTH_PX` wide, the width of JupyterLab's output area. A
dollar sign in a description is written ``\\$`` (descriptions are typeset as math); in a
readout (an HTML widget, not typeset) it is written as is. So a new lesson's dashboard is a few
lines::

    def memory_dashboard(show=True):
        return dashboard(memory_view, {"memory_mb": memory_slider(1024),
                                       "era": era_dropdown()},
                         readout=lambda data: f"{data.cost_usd:.4f} USD", show=show)

Lesson 1's dashboard, :func:`cold_start_dashboard`, is built on :func:`cold_start_view`: the
environments of a run on their hosts, and the cold-start fraction against keep-alive with the
theory curve ``exp(-lambda T)`` over it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simlab.aws.keep_alive_experiment import keep_alive_model
from simlab.core import plots, validate
from simlab.core.config import ERAS, era_rules
from simlab.core.keepalive import FixedKeepAlive
from simlab.core.result import Result
from simlab.core.theory import p_cold_ttl
from simlab.course.figure_png import FIGURE_WIDTH_PX, PNG_COMPRESS_LEVEL, REDRAW_RC, png_bytes

__all__ = [
    "dashboard", "DashboardParts", "check_defaults", "fit", "format_number", "nice_values",
    "choice_slider",
    "png_bytes", "REDRAW_RC", "PNG_COMPRESS_LEVEL",
    "keep_alive_slider", "rate_slider", "memory_slider", "timeout_slider",
    "concurrency_slider", "era_dropdown", "granularity_dropdown", "ColdStartView",
    "cold_start_sweep", "cold_start_view", "cold_start_readout", "cold_start_dashboard",
    "KEEP_ALIVE_MAX_MIN", "RATE_RANGE_PER_S", "SWEEP_KEEP_ALIVE_MIN", "DESCRIPTION_WIDTH",
    "CONTROL_WIDTH", "FIGURE_WIDTH_PX",
]


def _era_keep_alive_min(era: str) -> float | None:
    policy = ERAS[era].keep_alive
    return policy.ttl_s / 60 if isinstance(policy, FixedKeepAlive) else None


#: Largest keep-alive a slider offers (min): the longest measured (2018, 26 min), rounded up to 5.
KEEP_ALIVE_MAX_MIN: int = int(5 * math.ceil(max(
    v for v in (_era_keep_alive_min(e) for e in ERAS) if v is not None) * 1.1 / 5))
#: Arrival rates the lesson-1 slider offers (req/s): from one request in 17 min to one in 10 s,
#: the range where keep-alive decides whether a request is cold.
RATE_RANGE_PER_S: tuple[float, float] = (1e-3, 1e-1)


# -- controls --------------------------------------------------------------------------------------
#: Width of every control's description (its label) and of the control: at a 1,280 px window
#: with JupyterLab's file browser open, a slider keeps a track of at least 200 px (the browser
#: test measures it). A longer description is cut with an ellipsis; its full text is the tooltip.
DESCRIPTION_WIDTH = "165px"
CONTROL_WIDTH = "490px"


def fit(control: Any) -> Any:
    """Give ``control`` the dashboards' label width, width and tooltip; sliders send their
    value when released (``continuous_update=False``). Returns the control."""
    control.style.description_width = DESCRIPTION_WIDTH
    control.layout.width = CONTROL_WIDTH
    if getattr(control, "description", "") and not getattr(control, "tooltip", None):
        control.tooltip = control.description
    if hasattr(control, "continuous_update"):
        control.continuous_update = False
    return control


def check_defaults(defaults: Mapping[str, Any], allowed: Sequence[str]) -> None:
    """Refuse a dashboard's ``**defaults`` that name none of its controls.

    Raises
    ------
    TypeError
        A key of ``defaults`` is not in ``allowed``; the message lists both.
    """
    unknown = set(defaults) - set(allowed)
    if unknown:
        raise TypeError(f"unknown default(s) {sorted(unknown)}; allowed: {', '.join(allowed)}")


def format_number(x: float, digits: int = 3) -> str:
    """``x`` for people: ``digits`` significant digits, thousands separators, no exponent, no
    trailing zeros (398.107 -> "398", 1234.5 -> "1,235", 0.0031623 -> "0.00316", 0.5 -> "0.5")."""
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    decimals = max(digits - 1 - int(math.floor(math.log10(abs(x)))), 0)
    text = f"{round(x, decimals):,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def nice_values(low: float, high: float, *extra: float) -> list[float]:
    """The 1-1.5-2-3-5-7 series between ``low`` and ``high`` (with ``extra`` values): round
    numbers for a slider over a range of several powers of ten."""
    out = set(extra)
    for k in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1):
        for m in (1, 1.5, 2, 3, 5, 7):
            v = float(f"{m * 10.0 ** k:.6g}")
            if low * (1 - 1e-9) <= v <= high * (1 + 1e-9):
                out.add(v)
    return sorted(out)


def choice_slider(values: Sequence[float], value: float, description: str) -> Any:
    """A slider over ``values`` (round numbers), each labelled for people (:func:`format_number`);
    ``value`` is added to them if missing."""
    import ipywidgets as w

    options = sorted(set(values) | {value})
    return fit(w.SelectionSlider(options=[(format_number(v), v) for v in options], value=value,
                                 description=description))


def keep_alive_slider(value: int = 6) -> Any:
    """Keep-alive in minutes, 0 to :data:`KEEP_ALIVE_MAX_MIN` (beyond the longest measured)."""
    import ipywidgets as w

    return fit(w.IntSlider(value=value, min=0, max=KEEP_ALIVE_MAX_MIN, step=1,
                           description="keep-alive (min)"))


def rate_slider(value: float = 0.003, low: float = RATE_RANGE_PER_S[0],
                high: float = RATE_RANGE_PER_S[1]) -> Any:
    """Arrival rate in requests per second: round values (1, 1.5, 2, 3, 5, 7 x 10^k) from
    ``low`` to ``high``."""
    return choice_slider(nice_values(low, high), value, "arrival rate (req/s)")


def memory_slider(value: int = 1024, era: str | None = None, step: int | None = None) -> Any:
    """Function memory in MB over the range (and step) of ``era``, or of every era together
    (128 to 10,240 MB, 64 MB steps); ``step`` overrides the step."""
    import ipywidgets as w

    rules = [ERAS[era]] if era is not None else list(ERAS.values())
    low = min(r.memory_min_mb for r in rules)
    high = max(r.memory_max_mb for r in rules)
    if step is None:
        step = ERAS[era].memory_step_mb if era is not None else 64
    return fit(w.IntSlider(value=value, min=low, max=high, step=step, description="memory (MB)"))


def timeout_slider(value: int = 3, era: str = "today") -> Any:
    """Function timeout in whole seconds, 1 to the era's maximum (300 s in 2018, 900 s since)."""
    import ipywidgets as w

    return fit(w.IntSlider(value=value, min=1, max=int(ERAS[era].timeout_max_s), step=1,
                           description="timeout (s)"))


def concurrency_slider(value: int = 100, high: int | None = None,
                       description: str = "reserved concurrency", low: int = 0) -> Any:
    """A concurrency limit (environments), ``low`` to ``high`` (default: the default account
    limit, 1,000)."""
    import ipywidgets as w

    top = high if high is not None else max(r.account_concurrency for r in ERAS.values())
    return fit(w.IntSlider(value=value, min=low, max=top, step=1, description=description))


def era_dropdown(value: str = "today") -> Any:
    """The era of the platform's rules, each labelled with its measured keep-alive."""
    import ipywidgets as w

    def label(era: str) -> str:
        ka = _era_keep_alive_min(era)
        return f"{era} (keep-alive {ka:g} min)" if ka is not None else era

    return fit(w.Dropdown(options=[(label(e), e) for e in ERAS], value=value,
                          description="era"))


def granularity_dropdown(value: float = 1.0) -> Any:
    """Billing granularity: 1 ms (since Dec 2020) or 100 ms (before)."""
    import ipywidgets as w

    return fit(w.Dropdown(options=[("1 ms (since Dec 2020)", 1.0),
                                   ("100 ms (until Nov 2020)", 100.0)],
                          value=value, description="billing granularity"))


# -- the generic dashboard -------------------------------------------------------------------------
@dataclass(frozen=True)
class DashboardParts:
    """What a dashboard is made of: its pure function, its controls by parameter name, the
    function that turns the pure function's data into the readout, and its figure's width (px)."""

    compute: Callable[..., tuple[Any, Figure]]
    controls: dict[str, Any]
    readout: Callable[[Any], str] | None
    width_px: int = FIGURE_WIDTH_PX

    def values(self, **changes: Any) -> dict[str, Any]:
        """The controls' values, with ``changes`` applied."""
        return {name: c.value for name, c in self.controls.items()} | changes

    def redraw(self, **values: Any) -> tuple[Any, bytes]:
        """What the dashboard does when a control changes: the pure function with ``values``
        (drawn with :data:`REDRAW_RC`) and its figure as a PNG; returns ``(data, png)``."""
        with matplotlib.rc_context(REDRAW_RC):
            data, fig = self.compute(**values)
        return data, png_bytes(fig, self.width_px)


def dashboard(compute: Callable[..., tuple[Any, Figure]], controls: Mapping[str, Any], *,
              readout: Callable[[Any], str] | None = None, run_button: bool = False,
              show: bool = True, width_px: int = FIGURE_WIDTH_PX) -> Any:
    """Controls, a figure and a readout over a pure function.

    Parameters
    ----------
    compute
        ``compute(**values) -> (data, figure)``, called with the controls' values by name.
    controls
        Parameter name -> ipywidgets control, each given the same label width and width
        (:func:`fit`); sliders are set to ``continuous_update=False``.
    readout
        ``readout(data) -> str`` (HTML allowed), shown above the figure after each run.
    run_button
        Recompute only when a Run button is pressed (for runs longer than about 0.25 s); else
        recompute when a control is released.
    show
        Display the dashboard now (so a notebook cell can be ``_ = dashboard(...)``).
    width_px
        Width of the figure's PNG (px), whatever its size in inches.

    Returns
    -------
    ipywidgets.VBox
        The dashboard (CSS class ``simlab-dashboard``; its readout has ``simlab-readout``). Its
        ``parts`` attribute, a :class:`DashboardParts`, holds ``compute``, ``controls`` and
        ``readout``, so a test can call the pure function with the controls' values.
    """
    import ipywidgets as w
    from IPython.display import Image, display

    if not callable(compute):
        raise TypeError(f"compute must be callable(**values) -> (data, figure), got {compute!r}")
    if not controls or not all(isinstance(c, w.ValueWidget) for c in controls.values()):
        raise TypeError("controls must map parameter names to ipywidgets controls")
    for control in controls.values():
        fit(control)
    text = w.HTML()
    text.add_class("simlab-readout")
    parts = DashboardParts(compute, dict(controls), readout, width_px)

    def render(**values: Any) -> None:
        data, png = parts.redraw(**values)
        display(Image(data=png, format="png"))
        if readout is not None:
            text.value = readout(data)

    row = list(controls.values())
    if run_button:
        out = w.Output()
        button = w.Button(description="Run", icon="play", button_style="primary")

        def run(_: Any = None) -> None:
            with out:
                out.clear_output(wait=True)
                render(**{name: c.value for name, c in controls.items()})

        button.on_click(run)
        row.append(button)
        run()
    else:
        out = w.interactive_output(render, dict(controls))
    box = w.VBox([w.HBox(row, layout=w.Layout(flex_flow="row wrap")), text, out])
    box.add_class("simlab-dashboard")
    box.parts = parts
    if show:
        display(box)
    return box


# -- lesson 1: cold starts and keep-alive ----------------------------------------------------------
def _check_requests(requests: Any) -> None:
    validate.integer("requests", requests, 10, 1_000_000)


def _run_one(rate_per_s: float, keep_alive_s: float, era: str, requests: int, seed: int,
             duration_s: float, max_lifetime: bool) -> Result:
    sim = keep_alive_model(keep_alive_s, rate_per_s, seed, era=era, function="f", memory_mb=1024,
                           duration_s=duration_s, init_s=None,
                           max_lifetime_s=None if max_lifetime else math.inf)
    return sim.run(until_s=requests / rate_per_s)


def cold_start_sweep(rate_per_s: float | Sequence[float], keep_alive_s: Sequence[float], *,
                     era: str = "today", requests: int = 400, seed: int = 1,
                     duration_s: float = 0.2, max_lifetime: bool = False) -> pd.DataFrame:
    """Simulate a rarely called function at each arrival rate and keep-alive; one row per run.

    Each run is a function of 1,024 MB and ``duration_s`` seconds, called by Poisson requests at
    ``rate_per_s`` for ``requests / rate_per_s`` seconds. The same seed at every keep-alive gives
    the same arrivals (common random numbers), so the points differ only by the keep-alive.

    Parameters
    ----------
    rate_per_s
        One arrival rate or several (req/s), each in (0, 10].
    keep_alive_s
        Keep-alive values (s), each >= 0.
    era
        Era of the platform's rules (see :data:`simlab.core.config.ERAS`).
    requests
        Expected requests per run, 10 to 1,000,000.
    seed
        Seed of every run.
    duration_s
        Run time of one request (s), 0 to 900.
    max_lifetime
        Keep the era's maximum environment lifetime (2 h). Off by default: recycling adds cold
        starts that ``exp(-lambda T)`` does not count.

    Returns
    -------
    pandas.DataFrame
        ``rate_per_s``, ``keep_alive_s``, ``invocations``, ``cold_start_fraction``,
        ``standard_error`` (binomial), ``theory_cold_start_fraction`` (``exp(-lambda T)``),
        ``mean_environments``, ``mean_idle_environments``.
    """
    rates = [rate_per_s] if validate.is_real(rate_per_s) else list(rate_per_s)
    for r in rates:
        validate.number("rate_per_s", r, 0.0, 10.0, low_open=True)
    kas = list(keep_alive_s)
    if not kas:
        raise ValueError("keep_alive_s must list at least one keep-alive (s)")
    for ka in kas:
        validate.number("keep_alive_s", ka, 0.0, math.inf)
    _check_requests(requests)
    validate.number("duration_s", duration_s, 0.0, 900.0)
    era_rules(era)  # validates the era
    rows = []
    for rate in rates:
        for ka in kas:
            s = _run_one(float(rate), float(ka), era, requests, seed, duration_s,
                         max_lifetime).summary()
            rows.append((float(rate), float(ka), int(s["invocations"]),
                         float(s["cold_start_fraction"]), float(s["mean_environments"]),
                         float(s["mean_idle_environments"])))
    out = pd.DataFrame(rows, columns=["rate_per_s", "keep_alive_s", "invocations",
                                      "cold_start_fraction", "mean_environments",
                                      "mean_idle_environments"])
    p = out["cold_start_fraction"].to_numpy()
    out.insert(4, "standard_error", np.sqrt(p * (1 - p) / np.maximum(out["invocations"], 1)))
    out.insert(5, "theory_cold_start_fraction",
               p_cold_ttl(out["rate_per_s"].to_numpy(), out["keep_alive_s"].to_numpy()))
    return out


@dataclass(frozen=True)
class ColdStartView:
    """What :func:`cold_start_view` computed: the run at the chosen setting and the sweep."""

    result: Result
    sweep: pd.DataFrame
    keep_alive_s: float
    rate_per_s: float
    era: str
    invocations: int
    cold_start_fraction: float
    theory_cold_start_fraction: float
    era_keep_alive_min: float | None = None  #: the era's measured keep-alive (min)
    era_cold_start_fraction: float = math.nan  #: the same traffic under the era's keep-alive


#: Keep-alive values (min) of the sweep behind lesson 1's curve.
SWEEP_KEEP_ALIVE_MIN: tuple[float, ...] = (0, 2, 5, 10, 15, 20, 30)


def cold_start_view(keep_alive_min: float = 6, rate_per_s: float = 10 ** -2.5,
                    era: str = "today", *, requests: int = 1000, window_h: float = 3.0,
                    seed: int = 1, max_lifetime: bool = False,
                    cache: dict[Any, Any] | None = None) -> tuple[ColdStartView, Figure]:
    """Lesson 1's dashboard, as a pure function: one run, a sweep and their figure.

    Top: the environments of the first ``window_h`` hours of a run at the chosen keep-alive and
    arrival rate, on their hosts. Bottom: the cold-start fraction at several keep-alives
    (:data:`SWEEP_KEEP_ALIVE_MIN`) and at the chosen one, with ``exp(-lambda T)``; dotted line:
    the chosen keep-alive, dashed: the era's measured keep-alive.

    Parameters
    ----------
    keep_alive_min
        Keep-alive T in minutes, 0 to 120.
    rate_per_s
        Poisson arrival rate lambda (req/s), in (0, 10].
    era
        Era of the platform's rules (host size, lifetime); its measured keep-alive is marked.
    requests
        Expected requests of the main run (a tenth as many per sweep point, at least 100).
    window_h
        Hours of the run shown on the timeline, > 0.
    seed
        Seed of every run.
    max_lifetime
        Recycle environments at the era's maximum lifetime (see :func:`cold_start_sweep`).
    cache
        A dict that keeps the runs that do not depend on the keep-alive (the sweep, the era's
        keep-alive) between calls, as a dashboard does: the same results, without running them
        again when only the keep-alive changes.

    Returns
    -------
    (ColdStartView, matplotlib.figure.Figure)
    """
    ka_min = validate.number("keep_alive_min", keep_alive_min, 0.0, 120.0)
    rate = validate.number("rate_per_s", rate_per_s, 0.0, 10.0, low_open=True)
    window = validate.number("window_h", window_h, 0.0, 1e6, low_open=True)
    _check_requests(requests)
    era_rules(era)
    ka_s = ka_min * 60.0
    result = _run_one(rate, ka_s, era, requests, seed, 0.2, max_lifetime)
    cache = {} if cache is None else cache
    key = (rate, era, requests, seed, max_lifetime)
    if ("sweep",) + key not in cache:
        cache[("sweep",) + key] = cold_start_sweep(
            rate, [m * 60.0 for m in SWEEP_KEEP_ALIVE_MIN], era=era,
            requests=max(requests // 10, 100), seed=seed, max_lifetime=max_lifetime)
    sweep = cache[("sweep",) + key]
    summary = result.summary()
    frac = float(summary["cold_start_fraction"])
    theory = float(p_cold_ttl(rate, ka_s))
    fig = Figure(figsize=(9.0, 6.4))
    top, bottom = fig.subplots(2, 1, height_ratios=(1.25, 1.0))
    fig.subplots_adjust(left=0.1, right=0.76, top=0.95, bottom=0.08, hspace=0.38)
    plots.timeline(result, ax=top, end_s=min(window * 3600.0, result.until_s),
                   max_environments=12)
    plots.cold_start_vs_keep_alive(sweep, ax=bottom, highlight_s=ka_s)
    bottom.plot([ka_min], [frac], marker="*", ms=13, ls="", color=plots.COLORS["cold"],
                label=f"this run ({frac:.1%})")
    era_ka = _era_keep_alive_min(era)
    era_frac = math.nan
    if era_ka is not None:
        if era_ka == ka_min:
            cache[("era",) + key] = frac
        if ("era",) + key not in cache:
            cache[("era",) + key] = float(_run_one(rate, era_ka * 60.0, era, requests, seed, 0.2,
                                                   max_lifetime).summary()["cold_start_fraction"])
        era_frac = cache[("era",) + key]
        bottom.axvline(era_ka, color="0.3", ls="--", lw=1,
                       label=f"{era}'s keep-alive ({era_frac:.1%})")
    bottom.set_xlim(0, max(SWEEP_KEEP_ALIVE_MIN[-1], ka_min) * 1.02)
    bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    view = ColdStartView(result=result, sweep=sweep, keep_alive_s=ka_s, rate_per_s=rate, era=era,
                         invocations=int(summary["invocations"]), cold_start_fraction=frac,
                         theory_cold_start_fraction=theory, era_keep_alive_min=era_ka,
                         era_cold_start_fraction=era_frac)
    return view, fig


def cold_start_readout(view: ColdStartView) -> str:
    """Two lines: the chosen setting, the simulated cold-start fraction and the theory's; then
    the same traffic under the era's measured keep-alive."""
    n = view.invocations
    text = (f"keep-alive {view.keep_alive_s / 60:g} min, arrival rate "
            f"{format_number(view.rate_per_s)} req/s (one request every "
            f"{format_number(1 / view.rate_per_s / 60)} min): <b>cold-start fraction "
            f"{view.cold_start_fraction:.1%}</b> of {n:,} requests; theory e<sup>−λT</sup> = "
            f"{view.theory_cold_start_fraction:.1%}")
    if view.era_keep_alive_min is not None:
        diff = round((view.cold_start_fraction - view.era_cold_start_fraction) * 1000)
        text += (f"<br>{view.era}'s measured keep-alive, {view.era_keep_alive_min:g} min: "
                 f"<b>{view.era_cold_start_fraction:.1%} cold</b>")
        if diff:
            text += (f", {abs(diff):,} {'fewer' if diff > 0 else 'more'} cold starts per 1,000 "
                     f"requests than at {view.keep_alive_s / 60:g} min")
    return text


def cold_start_dashboard(show: bool = True, **defaults: Any) -> Any:
    """Lesson 1's dashboard: keep-alive, arrival rate and era sliders over :func:`cold_start_view`.

    ``defaults`` may set ``keep_alive_min``, ``rate_per_s`` and ``era``.
    """
    check_defaults(defaults, ("keep_alive_min", "rate_per_s", "era"))
    controls = {
        "keep_alive_min": keep_alive_slider(defaults.get("keep_alive_min", 6)),
        "rate_per_s": rate_slider(defaults.get("rate_per_s", 0.003)),
        "era": era_dropdown(defaults.get("era", "today")),
    }
    cache: dict[Any, Any] = {}  # runs that only the arrival rate and the era change

    def compute(**values: Any) -> tuple[ColdStartView, Figure]:
        return cold_start_view(**values, cache=cache)

    return dashboard(compute, controls, readout=cold_start_readout, show=show)
