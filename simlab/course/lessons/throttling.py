"""Lesson 2b's dashboard: one run under a reserved concurrency limit, beside Erlang B.

:func:`throttling_view` is the pure function (parameters -> ``(data, matplotlib Figure)``): the
function's concurrency over the first seconds of a run against its reserved limit, and the
Erlang B curve of that limit against offered load with the run's throttled fraction as a star.
:func:`throttling_dashboard` puts sliders over it. The lesson's module
(:mod:`simlab.course.lessons.scaling`) re-exports all four, so a notebook reaches them as
``lesson.throttling_dashboard()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from simlab.aws.simulation import Simulation
from simlab.aws.sources import Poisson
from simlab.core import plots
from simlab.core.result import Result
from simlab.core.theory import erlang_b, littles_law_concurrency
from simlab.core.validate import number, whole
from simlab.course.widgets import format_number

__all__ = ["ThrottlingView", "throttling_view", "throttling_readout", "throttling_dashboard"]

_C = plots.COLORS


@dataclass(frozen=True)
class ThrottlingView:
    """What :func:`throttling_view` computed."""

    result: Result
    reserved: int
    rate_per_s: float
    duration_s: float
    offered_load: float
    throttle_fraction: float
    erlang_b: float


def throttling_view(reserved: int = 10, rate_per_s: float = 50.0, *, duration_s: float = 0.2,
                    requests: int = 5000, window_s: float = 20.0,
                    seed: int = 1) -> tuple[ThrottlingView, Figure]:
    """The dashboard's pure function: one run under a reserved limit, and Erlang B beside it.

    Left: the function's concurrency over the first ``window_s`` seconds, against its reserved
    limit. Right: the Erlang B curve of this limit against offered load, with the run's throttled
    fraction as a star. The function has no INIT (``init_s=0``), so cold starts do not lengthen
    service and the run is exactly Erlang's loss system.

    Parameters
    ----------
    reserved
        Reserved concurrency, 1 to 500.
    rate_per_s
        Poisson arrival rate (req/s), in (0, 1,000].
    duration_s
        Run time of a request (s), in (0, 60].
    requests
        Expected requests of the run (its length is ``requests / rate_per_s``), 100 to 100,000.
    window_s
        Seconds of the run shown on the concurrency plot, > 0.
    seed
        Seed of the run.

    Returns
    -------
    (ThrottlingView, matplotlib.figure.Figure)
    """
    n = whole("reserved", reserved, 1, 500)
    rate = number("rate_per_s", rate_per_s, 0.0, 1000.0, low_open=True)
    d = number("duration_s", duration_s, 0.0, 60.0, low_open=True)
    m = whole("requests", requests, 100, 100_000)
    window = number("window_s", window_s, 0.0, 86_400.0, low_open=True)
    sim = Simulation(era="today", seed=seed)
    sim.add_function("f", memory_mb=512, duration_s=d, reserved_concurrency=n, init_s=0.0,
                     timeout_s=60)
    sim.add_source(Poisson(rate_per_s=rate), target="f")
    result = sim.run(until_s=m / rate)
    a = float(littles_law_concurrency(rate, d))
    frac = float(result.summary()["throttle_fraction"])
    theory = float(erlang_b(n, a))
    fig = Figure(figsize=(10.0, 3.8))
    left, right = fig.subplots(1, 2, width_ratios=(1.3, 1.0))
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.15, top=0.88, wspace=0.25)
    shown = min(window, result.until_s)
    c = result.concurrency("f")
    c = c[c["time_s"].to_numpy() <= shown]
    left.step(np.r_[c["time_s"].to_numpy(), shown], np.r_[c["concurrency"].to_numpy(),
              c["concurrency"].to_numpy()[-1:] if len(c) else [0]], where="post",
              color=_C["busy"], lw=1, label="concurrency")
    left.axhline(n, color=_C["reserved"], ls="--", lw=1.2, label=f"reserved {n}")
    left.axhline(a, color=_C["theory"], ls=":", lw=1, label=f"offered load {format_number(a)}")
    left.set_xlim(0, shown)
    left.set_ylim(0, max(n, a) * 1.3)
    left.set_xlabel("time (s)")
    left.set_ylabel("concurrency (environments)")
    left.set_title(f"Concurrency, first {shown:g} s")
    left.legend(loc="upper right", fontsize="small", ncols=3)
    grid = np.linspace(0.0, max(2.0 * n, 1.3 * a), 300)
    right.plot(grid, erlang_b(n, grid), color=_C["theory"], lw=1.4, label=f"Erlang B, n = {n}")
    right.plot([a], [frac], marker="*", ms=14, ls="", color=_C["throttled"],
               label=f"this run: {frac:.1%}")
    right.set_xlabel("offered load a = λ·E[S] (Erlangs)")
    right.set_ylabel("fraction throttled")
    right.set_ylim(-0.02, 1.0)
    right.set_xlim(0, grid[-1])
    right.set_title("Simulated against Erlang B")
    right.legend(loc="upper left", fontsize="small")
    right.grid(alpha=0.3)
    view = ThrottlingView(result=result, reserved=n, rate_per_s=rate, duration_s=d,
                          offered_load=a, throttle_fraction=frac, erlang_b=theory)
    return view, fig


def throttling_readout(view: ThrottlingView) -> str:
    """One line: the setting, the throttled fraction and Erlang B's."""
    n = int(view.result.summary()["requests"])
    return (f"reserved {view.reserved}, {format_number(view.rate_per_s)} req/s of "
            f"{format_number(view.duration_s)} s (offered load "
            f"{format_number(view.offered_load)}): <b>throttled {view.throttle_fraction:.1%}"
            f"</b> of {n:,} requests; Erlang B {view.erlang_b:.1%}")


def throttling_dashboard(show: bool = True, **defaults: Any) -> Any:
    """Reserved-concurrency and arrival-rate sliders over :func:`throttling_view`.

    ``defaults`` may set ``reserved`` and ``rate_per_s``.
    """
    from simlab.course.widgets import check_defaults, concurrency_slider, dashboard, rate_slider

    check_defaults(defaults, ("reserved", "rate_per_s"))
    controls = {"reserved": concurrency_slider(defaults.get("reserved", 10), high=50, low=1),
                "rate_per_s": rate_slider(defaults.get("rate_per_s", 50.0), low=1.0, high=250.0)}
    return dashboard(throttling_view, controls, readout=throttling_readout, show=show)
