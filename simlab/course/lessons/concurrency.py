"""Lesson 2: concurrency and throttling, or how many requests a function may run at once.

*Concurrency* is the number of execution environments that are initialising or running a request
at one moment. It is not a rate: a function called 50 times a second whose runs take 0.2 s keeps
about ``50 x 0.2 = 10`` environments busy. That is Little's law, ``L = lambda W``, and AWS's own
sizing rule ("concurrency = requests per second x average duration").

Concurrency is what Lambda limits, in three ways:

* the **account limit** (1,000 per Region by default), shared by every function without a
  reservation. A request that would take concurrency over a limit is *throttled*: a synchronous
  caller gets a 429 at once, nothing runs, nothing is billed;
* **reserved concurrency** on one function: at once a *maximum* (that function never runs more)
  and a *guarantee* (no other function can take it). Reservations must leave at least 100 to
  everyone else;
* **provisioned concurrency**: environments initialised ahead of time, so that requests they serve
  never wait for a cold start; requests beyond them *spill over* to ordinary on-demand
  environments.

A limit on *how fast* concurrency may grow comes on top: before November 2023 an account-wide
burst of 3,000 new environments then 500 more a minute; since then each function may add 1,000
every 10 seconds. A sudden flash crowd is throttled until the rule lets enough environments in.

With Poisson arrivals and a reserved limit of ``n``, the throttled fraction is Erlang's loss
formula ``B(n, a)`` with ``a = lambda E[S]`` (:func:`simlab.core.theory.erlang_b`): the simulator's
throttling should fall on that curve, and :func:`erlang_b_sweep` checks that it does.

Everything here is a pure function of its parameters and a seed: the runs of the notebook
(:func:`noisy_neighbour_run`, :func:`provisioned_run`, :func:`burst_run`), their figures and
tables, and the dashboard's pure function :func:`throttling_view` under its thin ipywidgets layer
:func:`throttling_dashboard`. The ``02-...`` exercises are registered with
:mod:`simlab.course.exercises` when this module is imported. Facts: LAMBDA_FACTS.md section 5.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simlab.aws.simulation import Simulation
from simlab.aws.sources import Bursty, Poisson
from simlab.core import plots
from simlab.core.config import PlatformRules, era_rules
from simlab.core.dists import Exponential, LogNormal
from simlab.core.result import Result
from simlab.core.scaling import AccountBurstScaling, PerFunctionScaling
from simlab.core.theory import erlang_b, erlang_b_servers, littles_law_concurrency
from simlab.core.validate import number, whole
from simlab.course.exercises import design, exercise, explanation, prediction
from simlab.course.lessons.throttling import (
    ThrottlingView,
    throttling_dashboard,
    throttling_readout,
    throttling_view,
)

__all__ = [
    "BURST", "CONTAINER_INIT", "ERLANG_LOADS", "EXERCISES", "outcome_table", "compare_figure",
    "noisy_neighbour_run", "provisioned_run", "scaling_allowance", "time_to_environments",
    "burst_run", "burst_figure", "erlang_b_sweep", "erlang_b_figure", "ThrottlingView",
    "throttling_view", "throttling_readout", "throttling_dashboard",
]

_C = plots.COLORS
#: INIT of a container-image function: median 0.79 s (Node base image, Shilkov, Jan 2021;
#: LAMBDA_FACTS 4.3), sigma 0.25 puts its 95 % range near the measured 0.62 to 1.40 s.
CONTAINER_INIT = LogNormal(median=0.79, sigma=0.25)
#: Offered loads (Erlangs) of the Erlang B sweep.
ERLANG_LOADS: tuple[float, ...] = (2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0)


# -- tables ----------------------------------------------------------------------------------------
def outcome_table(results: Mapping[str, Result], function: str | None = None) -> pd.DataFrame:
    """What each run did to its callers: one row per run (labelled by the mapping's keys).

    Parameters
    ----------
    results
        Label -> Result.
    function
        Only this function's requests (default: all).

    Returns
    -------
    pandas.DataFrame
        Indexed by label: ``requests``, ``throttled_pct`` (of requests), ``cold_starts``,
        ``provisioned_pct`` (of requests that ran, served by a provisioned environment),
        ``latency_p99_ms`` (of requests that ran), ``peak_concurrency``, and the arrival times
        of the first and last throttled requests, ``first_throttle_s`` and ``last_throttle_s``
        (NaN when none was throttled).
    """
    if not isinstance(results, Mapping) or not results:
        raise TypeError("results must map labels to simlab Results")
    rows = []
    for r in results.values():
        inv = r.invocations
        if function is not None:
            inv = inv[(inv["function"] == function).to_numpy()]
        ran = ~inv["status"].isin(["throttled", "dropped"]).to_numpy()
        n, n_ran = len(inv), int(ran.sum())
        s = r.summary(function)
        throttled = inv["arrival_s"].to_numpy()[(inv["status"] == "throttled").to_numpy()]
        rows.append({
            "requests": n,
            "throttled_pct": 100.0 * (n - n_ran) / n if n else float("nan"),
            "cold_starts": int(inv["cold"].to_numpy()[ran].sum()),
            "provisioned_pct": (100.0 * inv["provisioned"].to_numpy()[ran].mean() if n_ran
                                else float("nan")),
            "latency_p99_ms": float(s["latency_p99_ms"]),
            "peak_concurrency": int(s["max_concurrency"]),
            "first_throttle_s": float(throttled.min()) if len(throttled) else float("nan"),
            "last_throttle_s": float(throttled.max()) if len(throttled) else float("nan"),
        })
    return pd.DataFrame(rows, index=pd.Index(list(results), name="run"))


_PANELS = ("outcomes", "concurrency", "latency_cdf", "timeline")


def compare_figure(results: Mapping[str, Result], plot: str = "outcomes", *,
                   function: str | None = None, **kwargs: Any) -> Figure:
    """One panel per run, side by side, each drawn by ``simlab.plots.<plot>`` and titled with
    the run's label, so that runs that differ by one setting can be compared at a glance.

    Parameters
    ----------
    results
        Label -> Result.
    plot
        ``"outcomes"``, ``"concurrency"``, ``"latency_cdf"`` or ``"timeline"``.
    function
        Only this function's requests.
    **kwargs
        Passed to the plot function (e.g. ``period_s`` for outcomes).
    """
    if not isinstance(results, Mapping) or not results:
        raise TypeError("results must map labels to simlab Results")
    if plot not in _PANELS:
        raise ValueError(f"plot must be one of {_PANELS}, got {plot!r}")
    draw = getattr(plots, plot)
    height = 4.4 if plot == "timeline" else 3.6
    fig = Figure(figsize=(4.4 * len(results) + 1.2, height), layout="constrained")
    axes = fig.subplots(1, len(results), squeeze=False, sharey=plot != "timeline")[0]
    for ax, (label, r) in zip(axes, results.items(), strict=True):
        draw(r, ax=ax, function=function, **kwargs)
        ax.set_title(f"{label}" + (f": {function}" if function else ""))
        if ax is not axes[0] and plot != "timeline":
            ax.set_ylabel("")
    return fig


# -- 1. limits: the account pool, reserved and provisioned concurrency -----------------------------
def noisy_neighbour_run(checkout_reserved: int | None = None, batch_reserved: int | None = None,
                        *, seed: int = 2, until_s: float = 60.0) -> Result:
    """Two functions share an account (limit 1,000): ``checkout`` (20 req/s of 0.5 s, about 10
    concurrent) and ``batch``, a backfill job that wants 1,250 (250 req/s of 5 s).

    Parameters
    ----------
    checkout_reserved, batch_reserved
        Reserved concurrency of each function (``None``: none). Together they may reserve at
        most 900 (the 100-unreserved rule), checked when the run starts.
    seed
        Seed of the run.
    until_s
        Simulated seconds, > 0.

    Returns
    -------
    Result
    """
    number("until_s", until_s, 0.0, 86_400.0, low_open=True)
    sim = Simulation(era="today", seed=seed)
    sim.add_function("checkout", memory_mb=512, duration_s=0.5,
                     reserved_concurrency=checkout_reserved)
    sim.add_function("batch", memory_mb=1024, duration_s=5.0, timeout_s=30,
                     reserved_concurrency=batch_reserved)
    sim.add_source(Poisson(rate_per_s=20.0), target="checkout", name="shoppers")
    sim.add_source(Poisson(rate_per_s=250.0), target="batch", name="backfill")
    return sim.run(until_s=until_s)


def provisioned_run(provisioned: int = 0, *, seed: int = 3, bursts: int = 3) -> Result:
    """An API in a container image (INIT about 0.8 s, :data:`CONTAINER_INIT`) whose traffic comes
    in bursts: 10 req/s of 1 s for a minute, then 10 quiet minutes (longer than the keep-alive,
    so every burst finds no warm environment).

    Parameters
    ----------
    provisioned
        Provisioned concurrency (environments initialised before the run), 0 to 100.
    seed
        Seed of the run.
    bursts
        Number of bursts simulated, 1 to 20.

    Returns
    -------
    Result
    """
    pc = whole("provisioned", provisioned, 0, 100)
    n = whole("bursts", bursts, 1, 20)
    sim = Simulation(era="today", seed=seed)
    sim.add_function("api", memory_mb=1024, duration_s=1.0, init_s=CONTAINER_INIT,
                     package_type="image", provisioned_concurrency=pc)
    sim.add_source(Bursty(on_rate_per_s=10.0, on_s=60.0, off_s=600.0), target="api",
                   name="users")
    return sim.run(until_s=n * 660.0)


# -- 2. the scaling rate ---------------------------------------------------------------------------
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


# -- 3. Erlang B over the simulation ---------------------------------------------------------------
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


# -- 4. the dashboard: simlab.course.lessons.throttling (imported above) ---------------------------


# -- exercises -------------------------------------------------------------------------------------
#: Settings of the exercises (the notebook prints them).
EXERCISES: dict[str, Any] = {
    "invocations_per_minute": 2400, "mean_duration_ms": 350,
    "sizing_rate_per_s": 50.0, "sizing_duration_s": 0.2, "sizing_target": 0.01,
    "burst_environments": 2800, "burst_account_limit": 10_000,
    "reserved_elsewhere": 300,
}


def _littles() -> float:
    e = EXERCISES
    return float(littles_law_concurrency(e["invocations_per_minute"] / 60.0,
                                         e["mean_duration_ms"] / 1000.0))


def _littles_feedback(answer: float, expected: float) -> str | None:
    if abs(answer - expected * 60) < 1:
        return "Check the units: Little's law wants requests per second, not per minute."
    if abs(answer - expected * 1000) < 60:
        return "Check the units: the duration is in milliseconds; the law wants seconds."
    return None


exercise("02-littles-law", tolerance=0.05, unit="environments", hints=(
    "Mean concurrency = arrival rate x mean time each request spends running (Little's law).",
    "Convert both to seconds: invocations per second, and duration in seconds.",
    "Multiply the two once both are in seconds: the product is a number of environments.",
), why="Little's law, L = lambda W, holds for any arrival pattern and any duration "
       "distribution; it is AWS's own sizing rule.", feedback=_littles_feedback)(_littles)


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
    "d": "Section 4's flash crowd needed more than 3,000 environments; this burst fits in the "
         "2020 rule's head start of 3,000, so the refill rate never comes into play.",
}, hints=(
    "Each rule is a bucket: some environments at once, then a steady rate (ERAS['2020'].scaling "
    "and ERAS['today'].scaling).",
    "2020: 3,000 at once, then 500 per minute. Today: 1,000 at once, then 1,000 per 10 s. Does "
    "either need its refill for 2,800?",
), why="A head start decides small bursts and the refill rate large ones: up to 3,000 "
       "environments the 2020 rule granted them at once; above that, today's rule, which refills "
       "twelve times faster, wins by minutes (section 4's flash crowd).")


explanation("02-most-reserved", review=(
    "does it name the rule that refuses 700, give the most orders can reserve with the "
    "arithmetic behind it, and say who would suffer if the rule did not exist?"), hints=(
    "Reservations come out of the account limit (1,000 by default): what is left for the "
    "functions that reserve nothing?",
    "Look up the minimum of unreserved concurrency the account keeps (the era's rules), and "
    "try a Simulation with both reservations: read the error its run gives.",
))
