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

How fast concurrency may grow (the scaling rate) and how many requests a limit throttles (Erlang B)
are lesson 2b's (:mod:`simlab.course.lessons.scaling`), which uses :func:`outcome_table` too.

Everything here is a pure function of its parameters and a seed: the runs of the notebook
(:func:`noisy_neighbour_run`, :func:`provisioned_run`), their figures and tables. The ``02-...``
exercises of lesson 2 are registered with :mod:`simlab.course.exercises` when this module is
imported. Facts: LAMBDA_FACTS.md section 5.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from simlab.aws.simulation import Simulation
from simlab.aws.sources import Bursty, Poisson
from simlab.core import plots
from simlab.core.dists import LogNormal
from simlab.core.result import Result
from simlab.core.theory import littles_law_concurrency
from simlab.core.validate import number, whole
from simlab.course.exercises import exercise, explanation, prediction

__all__ = [
    "CONTAINER_INIT", "EXERCISES", "outcome_table", "compare_figure", "noisy_neighbour_run",
    "provisioned_run",
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


# -- exercises -------------------------------------------------------------------------------------
#: Settings of the exercises (the notebook prints them).
EXERCISES: dict[str, Any] = {
    "invocations_per_minute": 2400, "mean_duration_ms": 350,
    "reserved_elsewhere": 300, "cap_batch": 200,
}


def _cap_outcome() -> tuple[str, str]:
    capped = noisy_neighbour_run(batch_reserved=EXERCISES["cap_batch"])
    share = float(outcome_table({"capped": capped}, "checkout").loc["capped", "throttled_pct"])
    key = "b" if share < 1.0 else "c" if share > 25.0 else "a"
    return key, (f"with batch capped at {EXERCISES['cap_batch']}, {share:.1f} % of checkout's "
                 f"requests were throttled.")


prediction("02-cap-the-neighbour", outcome=_cap_outcome, options={
    "a": "checkout needs no guarantee once batch can no longer fill the account: 200 for batch "
         "and about 10 for checkout never reach 1,000.",
    "b": "",
    "c": "A reservation for batch is taken from the account's 1,000, but 800 stay unreserved, far "
         "more than checkout's 10 or so in flight: nothing is taken from checkout.",
}, hints=(
    "Count what reaches the account's pool of 1,000 when batch can never run more than 200 at "
    "once.",
    "A reservation is both a maximum for its function and a guarantee; what is left unreserved "
    "is shared by the others.",
), why="A cap on the noisy neighbour protects everyone else as long as the cap and the others' "
       "peaks stay under the account's limit: with batch held at 200, the account never fills, so "
       "checkout is never throttled, without a reservation of its own.")


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


explanation("02-most-reserved", review=(
    "does it name the rule that refuses 700, give the most orders can reserve with the "
    "arithmetic behind it, and say who would suffer if the rule did not exist?"), hints=(
    "Reservations come out of the account limit (1,000 by default): what is left for the "
    "functions that reserve nothing?",
    "Look up the minimum of unreserved concurrency the account keeps (the era's rules), and "
    "try a Simulation with both reservations: read the error its run gives.",
))
