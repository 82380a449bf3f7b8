"""Lesson 2b: how fast concurrency may grow, and how many requests a limit throttles.

Limits say how many environments may be busy at once; the **scaling rate** says how fast that
number may grow. Before November 2023 an account could add a burst of 3,000 new environments at
once, then 500 more a minute, shared by all its functions; since then each function may add 1,000
every 10 seconds. simlab models each rule as a token bucket (:func:`scaling_allowance`,
:func:`time_to_environments`), and a flash crowd (:func:`burst_run`) is throttled until the rule
lets enough environments in.

Under a reserved limit of ``n`` with Poisson arrivals, the throttled fraction is Erlang's loss
formula ``B(n, a)`` with ``a = lambda E[S]`` (:func:`simlab.core.theory.erlang_b`):
:func:`erlang_b_sweep` checks that the simulator's throttling falls on that curve, and the
dashboard (:mod:`simlab.course.lessons.throttling`, re-exported here) puts sliders over one run
and the curve. Lesson 2b's exercises (ids ``02-...``, as lesson 2's) are registered with
:mod:`simlab.course.exercises` when this module is imported. Facts: LAMBDA_FACTS.md section 5.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simlab.aws.simulation import Simulation
from simlab.aws.sources import Poisson
from simlab.core import plots
from simlab.core.config import PlatformRules, era_rules
from simlab.core.dists import Exponential
from simlab.core.result import Result
from simlab.core.scaling import AccountBurstScaling, PerFunctionScaling
from simlab.core.theory import erlang_b, erlang_b_servers, littles_law_concurrency
from simlab.core.validate import number, whole
from simlab.course.exercises import design, prediction
from simlab.course.lessons.concurrency import outcome_table
from simlab.course.lessons.throttling import (
    ThrottlingView,
    throttling_dashboard,
    throttling_readout,
    throttling_view,
)

__all__ = [
    "BURST", "ERLANG_LOADS", "EXERCISES", "scaling_allowance", "time_to_environments",
    "burst_run", "burst_figure", "erlang_b_sweep", "erlang_b_figure", "outcome_table",
    "ThrottlingView", "throttling_view", "throttling_readout", "throttling_dashboard",
]

_C = plots.COLORS
#: Offered loads (Erlangs) of the Erlang B sweep.
ERLANG_LOADS: tuple[float, ...] = (2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0)


# -- 1. the scaling rate ---------------------------------------------------------------------------
def _bucket(rules: PlatformRules) -> tuple[float, float]:
    """(capacity, refill per second) of the token bucket one function draws from."""
    s = rules.scaling
    if isinstance(s, PerFunctionScaling):
        return float(s.step), s.step / s.period_s
    if isinstance(s, AccountBurstScaling):
        return float(s.burst), s.per_minute / 60.0
    raise TypeError(f"unknown scaling rule {s!r}")  # pragma: no cover - config validates


def scaling_allowance(rules: PlatformRules | str, times_s: Any) -> np.ndarray:
    """Most environments one function can have created by each time, from a standing start.

    The scaling rule is a token bucket: ``capacity`` environments at once, then ``rate`` more per
    second (2020: 3,000 then 500 a minute, shared by the account; today: 1,000 then 1,000 every
    10 s, per function). The account limit caps it. While no environment has been reclaimed,
    this also caps concurrency.

    Parameters
    ----------
    rules
        Platform rules, or an era name.
    times_s
        Times since the burst began (s), >= 0.

    Returns
    -------
    numpy.ndarray
        Environments, ``min(capacity + rate * t, account_concurrency)``.
    """
    rules = era_rules(rules) if isinstance(rules, str) else rules
    t = np.asarray(times_s, dtype=float)
    if t.size and (not np.all(np.isfinite(t)) or t.min() < 0):
        raise ValueError(f"times_s must be finite and >= 0, got min {t.min()!r}")
    capacity, rate = _bucket(rules)
    return np.minimum(capacity + rate * t, float(rules.account_concurrency))


def time_to_environments(rules: PlatformRules | str, environments: int) -> float:
    """Seconds after a standing start until the scaling rule allows ``environments`` at once.

    Raises ValueError when the account limit is below ``environments`` (it is never reached).
    """
    rules = era_rules(rules) if isinstance(rules, str) else rules
    n = whole("environments", environments, 1, 10_000_000)
    if n > rules.account_concurrency:
        raise ValueError(f"environments ({n:,}) exceeds the account limit "
                         f"({rules.account_concurrency:,}): raise account_concurrency")
    capacity, rate = _bucket(rules)
    return max(0.0, (n - capacity) / rate)


#: The flash crowd of :func:`burst_run`.
BURST = {"rate_per_s": 200.0, "duration_s": 20.0, "until_s": 150.0, "account_concurrency": 5000}


def burst_run(era: str = "today", *, seed: int = 1, **overrides: Any) -> Result:
    """A flash crowd: from nothing to 200 req/s of 20 s each (4,000 concurrent) at t = 0.

    The account's limit is raised to 5,000 (a quota increase), so what throttles is the scaling
    rate of ``era``. ``overrides`` may change ``rate_per_s``, ``duration_s``, ``until_s`` and
    ``account_concurrency`` of :data:`BURST`.
    """
    unknown = set(overrides) - set(BURST)
    if unknown:
        raise TypeError(f"unknown setting(s) {sorted(unknown)}; allowed: {', '.join(BURST)}")
    p = {**BURST, **overrides}
    rate = number("rate_per_s", p["rate_per_s"], 0.0, 2000.0, low_open=True)
    dur = number("duration_s", p["duration_s"], 0.0, 60.0, low_open=True)
    until = number("until_s", p["until_s"], 0.0, 3600.0, low_open=True)
    sim = Simulation(era=era, seed=seed, account_concurrency=p["account_concurrency"])
    sim.add_function("api", memory_mb=512, duration_s=dur, timeout_s=60)
    sim.add_source(Poisson(rate_per_s=rate), target="api", name="crowd")
    return sim.run(until_s=until)


def burst_figure(results: Mapping[str, Result], *, period_s: float = 5.0) -> Figure:
    """For each run (one column), concurrency against what the scaling rule allows (top) and
    the requests' outcomes per ``period_s`` (bottom)."""
    if not isinstance(results, Mapping) or not results:
        raise TypeError("results must map labels to simlab Results")
    fig = Figure(figsize=(4.6 * len(results) + 1.0, 6.4))
    axes = fig.subplots(2, len(results), squeeze=False, sharey="row")
    fig.subplots_adjust(left=0.08, right=0.98, top=0.92, bottom=0.09, hspace=0.45, wspace=0.12)
    for k, (label, r) in enumerate(results.items()):
        top, bottom = axes[0, k], axes[1, k]
        plots.concurrency(r, ax=top, show_limits="all")
        t = np.linspace(0.0, r.until_s, 300)
        top.plot(t, scaling_allowance(r.rules, t), color=_C["cold"], ls=":", lw=1.6,
                 label="scaling rule allows")
        top.set_title(f"{label}: concurrency (peak {int(r.summary()['max_concurrency']):,})")
        top.legend(loc="lower right", fontsize="small")
        plots.outcomes(r, ax=bottom, period_s=period_s)
        bottom.legend(loc="lower right", fontsize="small")
        bottom.set_title(f"{label}: outcomes")
        if k:
            top.set_ylabel("")
            bottom.set_ylabel("")
    return fig


# -- 2. Erlang B over the simulation ---------------------------------------------------------------
def erlang_b_sweep(servers: int = 10, loads: Sequence[float] = ERLANG_LOADS, *,
                   duration_s: float = 0.2, shape: str = "constant", requests: int = 5000,
                   seed: int = 1) -> pd.DataFrame:
    """Simulated throttled fraction of a function with a reserved limit, at several offered loads.

    The function has ``reserved_concurrency = provisioned_concurrency = servers``: every request
    that is admitted finds a ready environment, so no cold start lengthens its service and the
    model is exactly Erlang's loss system M/G/n/n.

    Parameters
    ----------
    servers
        The reserved limit n, 1 to 500.
    loads
        Offered loads ``a = lambda * E[S]`` (Erlangs), each in (0, 1,000]; the arrival rate is
        ``a / duration_s``.
    duration_s
        Mean run time E[S] (s), in (0, 60].
    shape
        ``"constant"`` run times, or ``"exponential"`` with the same mean (Erlang B depends on
        the mean only).
    requests
        Expected requests per point, 100 to 1,000,000.
    seed
        Seed of every run.

    Returns
    -------
    pandas.DataFrame
        ``offered_load``, ``rate_per_s``, ``requests``, ``throttle_fraction``,
        ``standard_error`` (binomial), ``erlang_b``.
    """
    n = whole("servers", servers, 1, 500)
    d = number("duration_s", duration_s, 0.0, 60.0, low_open=True)
    if shape not in ("constant", "exponential"):
        raise ValueError(f"shape must be 'constant' or 'exponential', got {shape!r}")
    m = whole("requests", requests, 100, 1_000_000)
    a_list = [number("loads", a, 0.0, 1000.0, low_open=True) for a in loads]
    if not a_list:
        raise ValueError("loads must list at least one offered load")
    rows = []
    for a in a_list:
        rate = a / d
        sim = Simulation(era="today", seed=seed)
        sim.add_function("f", memory_mb=512, reserved_concurrency=n, provisioned_concurrency=n,
                         duration_s=d if shape == "constant" else Exponential(d), timeout_s=900)
        sim.add_source(Poisson(rate_per_s=rate), target="f")
        s = sim.run(until_s=m / rate).summary()
        rows.append((a, rate, int(s["requests"]), float(s["throttle_fraction"])))
    out = pd.DataFrame(rows, columns=["offered_load", "rate_per_s", "requests",
                                      "throttle_fraction"])
    p = out["throttle_fraction"].to_numpy()
    out["standard_error"] = np.sqrt(p * (1 - p) / out["requests"].to_numpy())
    out["erlang_b"] = erlang_b(n, out["offered_load"].to_numpy())
    out.attrs["servers"] = n
    return out


def erlang_b_figure(sweeps: Mapping[str, pd.DataFrame], *, servers: int | None = None,
                    ax: Any = None) -> Any:
    """Simulated throttled fractions (points, 95 % error bars) on the Erlang B curve.

    ``sweeps`` maps a label to an :func:`erlang_b_sweep` table (same ``servers``). Returns the
    Figure (or the given Axes' figure).
    """
    if not isinstance(sweeps, Mapping) or not sweeps:
        raise TypeError("sweeps must map labels to erlang_b_sweep tables")
    first = next(iter(sweeps.values()))
    n = int(servers if servers is not None else first.attrs.get("servers", 10))
    if ax is None:
        fig = Figure(figsize=(7.0, 4.2))
        ax = fig.subplots()
        fig.subplots_adjust(left=0.11, right=0.97, bottom=0.13, top=0.9)
    top = max(float(s["offered_load"].max()) for s in sweeps.values()) * 1.05
    grid = np.linspace(0.0, top, 300)
    ax.plot(grid, erlang_b(n, grid), color=_C["theory"], lw=1.4,
            label=f"Erlang B, n = {n}")
    markers = ("o", "s", "^", "D")
    colors = (_C["busy"], _C["cold"], _C["ok"], _C["timeout"])
    for k, (label, s) in enumerate(sweeps.items()):
        ax.errorbar(s["offered_load"], s["throttle_fraction"], yerr=1.96 * s["standard_error"],
                    ls="", marker=markers[k % 4], ms=5, capsize=2, color=colors[k % 4],
                    label=f"simulated: {label}")
    ax.axvline(n, color="0.5", ls=":", lw=1)
    ax.set_xlabel("offered load a = λ·E[S] (Erlangs: environments wanted on average)")
    ax.set_ylabel("fraction of requests throttled")
    ax.set_xlim(0, top)
    ax.set_ylim(bottom=0)
    ax.set_title(f"Throttling under a reserved limit of {n} (dotted: a = n)")
    ax.legend(loc="upper left", fontsize="small")
    ax.grid(alpha=0.3)
    return ax.figure


# -- exercises -------------------------------------------------------------------------------------
#: Settings of the exercises (the notebook states them).
EXERCISES: dict[str, Any] = {
    "sizing_rate_per_s": 50.0, "sizing_duration_s": 0.2, "sizing_target": 0.01,
    "burst_environments": 2800, "burst_account_limit": 10_000,
    "pooling_servers": 10, "pooling_scale": 2,
}


def _sizing() -> float:
    e = EXERCISES
    a = littles_law_concurrency(e["sizing_rate_per_s"], e["sizing_duration_s"])
    return float(erlang_b_servers(a, e["sizing_target"]))


#: Exercise 02-reserved-for-1-percent accepts reservations up to this many above the smallest.
SIZING_SPARE = 2


def _verify_sizing(answer: Any) -> tuple[bool, str]:
    e = EXERCISES
    if isinstance(answer, bool) or not isinstance(answer, int | float) or answer != int(answer):
        raise ValueError(f"a reserved concurrency is a whole number of environments, got "
                         f"{answer!r}")
    n = int(answer)
    if not 1 <= n <= 500:
        raise ValueError(f"reserved concurrency must be from 1 to 500 here, got {n}")
    a = float(littles_law_concurrency(e["sizing_rate_per_s"], e["sizing_duration_s"]))
    run = erlang_b_sweep(servers=n, loads=[a], duration_s=e["sizing_duration_s"],
                         requests=100_000, seed=2).iloc[0]
    measured, se = float(run["throttle_fraction"]), float(run["standard_error"])
    met = measured <= e["sizing_target"] + 3 * max(se, 1e-4)
    report = (f"with {n} reserved, {measured:.2%} of 100,000 simulated requests are throttled "
              f"(goal: at most 1 %, give or take three standard errors, {3 * se:.2%})")
    if met and n > _sizing() + SIZING_SPARE:
        return False, (report + f"; that meets the goal, but reserves more than "
                       f"{SIZING_SPARE} environments beyond what the goal needs, concurrency "
                       f"the account's other functions lose")
    if not met and abs(n - a) < 0.5:
        report += ("; that is the mean concurrency: half of the time more requests than that "
                   "are in flight, and those throttle")
    return met, report


design("02-reserved-for-1-percent", verify=_verify_sizing, reference=_sizing,
       unit="environments", hints=(
           "First the offered load: a = rate x duration.",
           "Throttled fraction with a limit of n is Erlang B, theory.erlang_b: find the smallest "
           "n where it is at most 0.01, then try n in lesson.erlang_b_sweep.",
       ), why="Poisson traffic fluctuates around its mean: a limit at the mean concurrency "
              "throttles a lot, and Erlang B says how much headroom keeps throttling rare.")


def _burst_gap() -> float:
    e = EXERCISES
    n, limit = e["burst_environments"], e["burst_account_limit"]
    return (time_to_environments(era_rules("2020", account_concurrency=limit), n)
            - time_to_environments(era_rules("today", account_concurrency=limit), n))


def _burst_outcome() -> tuple[str, str]:
    e = EXERCISES
    n, limit = e["burst_environments"], e["burst_account_limit"]
    old = time_to_environments(era_rules("2020", account_concurrency=limit), n)
    new = time_to_environments(era_rules("today", account_concurrency=limit), n)
    gap = old - new
    key = "a" if gap < -10 else "b" if abs(gap) <= 10 else "c" if gap < 60 else "d"
    return key, (f"the 2020 rule reaches {n:,} environments after {old:.0f} s, today's after "
                 f"{new:.0f} s.")


prediction("02-burst-seconds-sooner", outcome=_burst_outcome, options={
    "a": "",
    "b": "Today's rule refills fast, but it starts with only 1,000: the other 1,800 take almost "
         "two refills, while the 2020 rule has all 2,800 at once.",
    "c": "Refilling faster wins a long race; this one is short: 2,800 environments fit in the "
         "2020 rule's first 3,000, which it grants at once.",
    "d": "Section 1's flash crowd needed more than 3,000 environments; this burst fits in the "
         "2020 rule's head start of 3,000, so the refill rate never comes into play.",
}, hints=(
    "Each rule is a bucket: some environments at once, then a steady rate (ERAS['2020'].scaling "
    "and ERAS['today'].scaling).",
    "2020: 3,000 at once, then 500 per minute. Today: 1,000 at once, then 1,000 per 10 s. Does "
    "either need its refill for 2,800?",
), why="A head start decides small bursts and the refill rate large ones: up to 3,000 "
       "environments the 2020 rule granted them at once; above that, today's rule, which refills "
       "twelve times faster, wins by minutes (section 1's flash crowd).")


def _pooling_outcome() -> tuple[str, str]:
    e = EXERCISES
    n, k = e["pooling_servers"], e["pooling_scale"]
    small, large = erlang_b(n, float(n)), erlang_b(k * n, float(k * n))
    key = "a" if large > 1.1 * small else "b" if large >= 0.9 * small else "c"
    return key, (f"with a limit of {n} and a load of {n}, {small:.1%} of the requests are "
                 f"throttled; with {k * n} and {k * n}, {large:.1%}.")


prediction("02-pooling", outcome=_pooling_outcome, options={
    "a": "Twice the requests do not collide twice as often: the random peaks above the mean grow "
         "like the square root of the load, not in proportion to it.",
    "b": "The load per environment is the same, but a larger pool absorbs random peaks better: "
         "its peaks above the mean are smaller relative to its size.",
    "c": "",
}, hints=(
    "theory.erlang_b(n, a) gives the throttled fraction for a limit of n and an offered load a.",
    "Random peaks above the mean concurrency grow like the square root of the mean: relative to "
    "the limit, are they larger or smaller in a pool twice the size?",
), why="Erlang B falls when the limit and the load grow together (about 21 % at 10 and 10, 16 % "
       "at 20 and 20): random peaks above the mean grow like the square root of the load, so a "
       "larger pool needs relatively less headroom. This is why one shared pool throttles less "
       "than several small ones of the same total size.")
