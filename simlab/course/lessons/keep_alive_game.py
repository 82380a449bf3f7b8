"""The keep-alive game: a workload built from a real trace, a score, and a leaderboard.

A keep-alive policy decides how long an idle environment is kept (:mod:`simlab.core.keepalive`).
Keeping it costs the provider **idle memory**; reclaiming it costs the next request a **cold
start**. This module sets up a fair contest between policies, for lesson 9 (the capstone).

The workload. The Azure Functions 2021 trace sample shipped with simlab has 31 functions of 13
applications; :func:`real_sample` keeps its first 20 minutes (195 invocations). Twenty minutes is
too short to judge a keep-alive of 10 minutes, so :func:`tiled_workload` builds a longer one from
it: the 20 minutes repeated, each application's 20 minutes rotated by a random offset in every
block. Each function keeps its requests per block, its durations and its pattern within the window
(timers, bursts), and an application's functions keep their timing relative to each other. What
the tiled workload does *not* have is anything the sample cannot show: daily cycles, trends, gaps
longer than 40 minutes. It is a model built from a real trace, not a longer trace. The trace
records neither memory nor timeout: every function gets 256 MB and the 15-minute maximum.

The score. :func:`score` runs a policy on *validation* workloads (seeds the sweeps of the lesson
do not use) and combines its two costs into one number, lower is better::

    score = cold-start fraction + WEIGHT * idle memory cost / idle memory cost of the baseline

The baseline is the fixed 10-minute keep-alive measured on AWS Lambda in 2019-2020. With
``WEIGHT = 0.4``, holding as much idle memory as the baseline counts as much as 40 % of requests
starting cold: the baseline scores its cold-start fraction plus 0.4, no keep-alive scores 1.
:func:`leaderboard` ranks policies (fixed TTLs, none, your own) by score, and
:func:`check_policy` tells whether a policy beats the baseline: scores at least ``MARGIN = 0.01``
below it, which no fixed keep-alive does on this workload (the best, about 10.5 minutes, gains
0.004).

An adaptive policy learns from the arrivals it sees (``observe``) and may keep each function's
environments for a different time, in the spirit of the hybrid histogram policy of Shahrad et al.,
"Serverless in the Wild", USENIX ATC 2020. :class:`LearningKeepAlive` records the gaps between
each function's requests, so that a policy only has to decide.

Data: Azure Public Dataset, AzureFunctionsInvocationTrace2021 (CC BY 4.0); Zhang et al., "Faster
and Cheaper Serverless Computing on Harvested Resources", SOSP 2021.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from simlab.aws.keep_alive_experiment import idle_memory_cost_usd, idle_memory_gb_s
from simlab.aws.simulation import Simulation
from simlab.aws.sources.replay_trace import TraceReplay, add_trace_functions
from simlab.aws.sources.traces import load_azure_2021_sample
from simlab.core.keepalive import FixedKeepAlive, NoKeepAlive, as_keep_alive
from simlab.core.result import Result
from simlab.core.validate import number
from simlab.course.exercises import CheckResult, Hint

__all__ = [
    "CAPSTONE", "WEIGHT", "MARGIN", "real_sample", "tiled_workload", "run_until_s", "replay_model",
    "idle_gb_s", "idle_cost_usd", "LearningKeepAlive", "policy_name", "evaluate", "score",
    "leaderboard", "check_policy", "policy_hint",
]  # fmt: skip

#: The capstone's settings (the notebook prints them): the assumed memory and timeout of every
#: function, the tiling block, the workload's length, the baseline, the seeds of the sweeps
#: (training) and of the score students see (validation), and the fixed keep-alives the lesson
#: sweeps. The held-out workloads that rank a class are the teacher's: their seeds are chosen at
#: grading time (:mod:`simlab.course.teacher`), and no default for them is kept here.
CAPSTONE: dict[str, Any] = {
    "era": "today", "memory_mb": 256, "timeout_s": 900, "block_s": 1200.0, "hours": 4.0,
    "baseline_keep_alive_s": 600.0, "training_seeds": (1, 2, 3), "validation_seeds": (51, 52, 53),
    "keep_alive_min": (0, 1, 2, 5, 10, 15, 20, 30, 60),
}  # fmt: skip
#: Weight of the normalised idle memory cost in :func:`score`.
WEIGHT: float = 0.4
#: How much lower than the baseline's a score must be to *beat* it. The best fixed keep-alives (10.5
#: to 11.5 min) score 0.002 to 0.004 below the 10-minute baseline; beating it by 0.01 takes a
#: policy that does more than shift one fixed setting.
MARGIN: float = 0.01
_WORKLOADS = ("tiled", "real")


def check_seeds(seeds: Any) -> tuple[int, ...]:
    """``seeds`` as a tuple of whole numbers >= 0, or a clear error naming ``seeds``."""
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Iterable):
        raise TypeError(f"seeds must be a list of whole numbers >= 0, got {seeds!r}")
    out = tuple(seeds)
    if not out or any(isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 0
                      for s in out):
        raise ValueError(f"seeds must be a non-empty list of whole numbers >= 0, got {seeds!r}")
    return tuple(int(s) for s in out)


# -- the workload ----------------------------------------------------------------------------------
def real_sample() -> pd.DataFrame:
    """The Azure 2021 sample's first 20 minutes: 195 invocations of 31 functions.

    The shipped file runs to 1,200.015 s: its last 4 invocations are timers firing at 20:00, the
    first of the next 20 minutes, and are left out so that the window repeats cleanly.
    """
    trace = load_azure_2021_sample()
    return trace[trace["arrival_s"] < CAPSTONE["block_s"]].reset_index(drop=True)


def tiled_workload(hours: float = CAPSTONE["hours"], seed: int = 0, *,
                   sample: pd.DataFrame | None = None) -> pd.DataFrame:
    """A longer workload built from :func:`real_sample`: its 20 minutes repeated ``hours`` long.

    In every 20-minute block each application's arrivals are rotated by an offset drawn uniformly
    in [0, 20 min) (``numpy.random.default_rng(seed)``): ``(t + offset) mod 20 min``. Durations are
    the recorded ones.

    Parameters
    ----------
    hours
        Length (h), > 0 and <= 168; the last block is cut at ``hours``.
    seed
        Seed of the offsets (whole number >= 0): another seed, another workload.
    sample
        The 20 minutes to repeat, with ``app`` as a categorical (default: :func:`real_sample`).

    Returns
    -------
    pandas.DataFrame
        ``arrival_s, duration_s, app, func``, sorted by arrival (a replay table).
    """
    hours = number("hours", hours, 0.0, 168.0, low_open=True)
    (seed,) = check_seeds([seed])
    sample = real_sample() if sample is None else sample
    block = CAPSTONE["block_s"]
    n_blocks = math.ceil(hours * 3600.0 / block)
    app = sample["app"].cat.codes.to_numpy()
    n_apps = len(sample["app"].cat.categories)
    offsets = np.random.default_rng(seed).random((n_blocks, n_apps)) * block
    t = sample["arrival_s"].to_numpy()
    times = ((t[None, :] + offsets[:, app]) % block + block * np.arange(n_blocks)[:, None]).ravel()
    rows = np.tile(np.arange(len(sample)), n_blocks)
    keep = times < hours * 3600.0
    order = np.argsort(times[keep], kind="stable")
    out = sample.iloc[rows[keep][order]].reset_index(drop=True)
    out["arrival_s"] = times[keep][order]
    return out


def run_until_s(workload: str = "tiled", hours: float = CAPSTONE["hours"]) -> float:
    """How long a run of ``workload`` lasts (s): 20 minutes for the real sample, else ``hours``."""
    if workload not in _WORKLOADS:
        raise ValueError(f"workload must be one of {_WORKLOADS}, got {workload!r}")
    if workload == "real":
        return CAPSTONE["block_s"]
    return number("hours", hours, 0.0, 168.0, low_open=True) * 3600.0


def replay_model(keep_alive_s: Any, seed: int, *, workload: str = "tiled",
                 hours: float = CAPSTONE["hours"]) -> Simulation:
    """The capstone's simulation (a :func:`simlab.sweep` build function).

    One function per traced function (256 MB, 900 s timeout, durations as recorded), fed by the
    real sample or by ``tiled_workload(hours, seed)``, under keep-alive ``keep_alive_s``: seconds,
    ``None`` (none), or a policy object, deep-copied so that what it learns in this run never
    leaks into another run (or back into the caller's object). Run it for
    :func:`run_until_s` ``(workload, hours)``.
    """
    if workload not in _WORKLOADS:
        raise ValueError(f"workload must be one of {_WORKLOADS}, got {workload!r}")
    policy = _Guarded(as_keep_alive(copy.deepcopy(keep_alive_s)))
    sample = real_sample()
    trace = sample if workload == "real" else tiled_workload(hours, seed, sample=sample)
    sim = Simulation(era=CAPSTONE["era"], seed=seed, keep_alive_s=policy)
    mapping = add_trace_functions(sim, sample, by="func", memory_mb=CAPSTONE["memory_mb"],
                                  timeout_s=CAPSTONE["timeout_s"])
    sim.add_source(TraceReplay(trace, mapping=mapping), target=sorted(mapping.values()))
    return sim


class _Guarded:
    """A policy whose answers are checked: a clear error instead of a silently broken run."""

    def __init__(self, policy: Any) -> None:
        self.policy = policy
        if callable(getattr(policy, "observe", None)):
            self.observe = policy.observe

    def idle_timeout_s(self, function: str, now_s: float) -> float:
        ttl = self.policy.idle_timeout_s(function, now_s)
        ok = isinstance(ttl, int | float | np.integer | np.floating) and not isinstance(ttl, bool)
        if not ok or math.isnan(ttl) or ttl < 0:
            raise ValueError(f"{type(self.policy).__name__}.idle_timeout_s({function!r}, "
                             f"{now_s:.1f}) returned {ttl!r}: it must be a number of seconds >= 0 "
                             f"(math.inf keeps the environment until its maximum lifetime)")
        return float(ttl)


def idle_gb_s(result: Result) -> float:
    """GB-s held by idle warm environments in a run of :func:`replay_model`.

    The same number as :func:`simlab.aws.keep_alive_experiment.idle_memory_gb_s`, from the
    account-wide summary alone (one pass instead of one per function), which needs every
    function to have the same memory.
    """
    _check_one_memory(result, "idle_gb_s")
    return idle_memory_gb_s(result)


def _check_one_memory(result: Result, name: str) -> None:
    memory = result.functions["memory_mb"].unique()
    if len(memory) != 1:
        raise ValueError(f"{name} needs functions of one memory size, got {sorted(memory)} "
                         f"(use simlab.aws.keep_alive_experiment.idle_memory_gb_s)")


def idle_cost_usd(result: Result) -> float:
    """:func:`idle_gb_s` priced as
    :func:`simlab.aws.keep_alive_experiment.idle_memory_cost_usd` prices it: at the first-tier
    duration price of the functions' architecture on the run's date."""
    arch = result.functions["architecture"].unique()
    if len(arch) != 1:
        raise ValueError(f"idle_cost_usd needs functions of one architecture, got {list(arch)}")
    _check_one_memory(result, "idle_cost_usd")
    return idle_memory_cost_usd(result)


# -- adaptive policies and the game ---------------------------------------------------------------
class LearningKeepAlive:
    """Base class of an adaptive keep-alive policy: it remembers when each function was called.

    The engine calls :meth:`observe` at every request and :meth:`idle_timeout_s` each time an
    environment becomes idle. Override :meth:`idle_timeout_s`; :meth:`gaps` gives the seconds
    between a function's past requests, oldest first. Until you override it, the policy is the
    10-minute baseline.
    """

    default_s: float = 600.0

    def observe(self, function: str, arrival_s: float) -> None:
        """Record a request of ``function`` at ``arrival_s`` (called by the engine)."""
        last = self.__dict__.setdefault("_last", {})
        gaps = self.__dict__.setdefault("_gaps", {})
        if function in last:
            gaps.setdefault(function, []).append(arrival_s - last[function])
        last[function] = arrival_s

    def gaps(self, function: str) -> np.ndarray:
        """Seconds between consecutive requests of ``function`` seen so far (oldest first)."""
        return np.array(self.__dict__.get("_gaps", {}).get(function, ()), dtype=float)

    def idle_timeout_s(self, function: str, now_s: float) -> float:
        """Seconds to keep an environment of ``function`` that became idle at ``now_s``."""
        return self.default_s


def policy_name(policy: Any) -> str:
    """How the leaderboard names a policy: ``fixed 10 min``, ``no keep-alive``, or the policy's
    ``name`` attribute, else its class name."""
    p = as_keep_alive(policy)
    if isinstance(p, NoKeepAlive) or (isinstance(p, FixedKeepAlive) and p.ttl_s == 0):
        return "no keep-alive"
    if isinstance(p, FixedKeepAlive):
        return f"fixed {p.ttl_s / 60:g} min"
    return str(getattr(p, "name", type(p).__name__))


def evaluate(policy: Any, seeds: Sequence[int] = CAPSTONE["validation_seeds"], *,
             workload: str = "tiled", hours: float = CAPSTONE["hours"]) -> pd.Series:
    """Run ``policy`` (seconds, ``None`` or a policy object) on each seed's workload.

    Returns
    -------
    pandas.Series
        Means over the seeds: ``invocations``, ``cold_start_fraction``, ``idle_memory_gb_s``,
        ``idle_memory_cost_usd`` (per run).
    """
    as_keep_alive(policy)  # a bad policy fails here, before any run
    until = run_until_s(workload, hours)
    rows = []
    for seed in check_seeds(seeds):
        result = replay_model(policy, seed, workload=workload, hours=hours).run(
            until, record="summary")
        s = result.summary()
        rows.append((s["invocations"], s["cold_start_fraction"], idle_gb_s(result),
                     idle_cost_usd(result)))
    return pd.DataFrame(rows, columns=["invocations", "cold_start_fraction", "idle_memory_gb_s",
                                       "idle_memory_cost_usd"]).mean()


def _score(metrics: pd.Series, baseline: pd.Series, weight: float) -> float:
    return float(metrics["cold_start_fraction"]
                 + weight * metrics["idle_memory_cost_usd"] / baseline["idle_memory_cost_usd"])


def score(policy: Any, *, weight: float = WEIGHT,
          seeds: Sequence[int] = CAPSTONE["validation_seeds"]) -> float:
    """The capstone's score of ``policy`` on the validation workloads; lower is better.

    ``cold-start fraction + weight * idle memory cost / idle memory cost of the fixed 10-minute
    keep-alive``, both over the same workloads (``seeds``, 4 h each).
    """
    weight = number("weight", weight, 0.0, math.inf)
    baseline = evaluate(CAPSTONE["baseline_keep_alive_s"], seeds)
    return _score(evaluate(policy, seeds), baseline, weight)


def _entries(policies: Any) -> list[tuple[str, Any]]:
    items = policies.items() if isinstance(policies, Mapping) else policies
    out = []
    for item in items:
        if item is Ellipsis:
            continue  # an exercise not done yet
        name, policy = item if isinstance(item, tuple) else (policy_name(item), item)
        if policy is not Ellipsis:
            out.append((str(name), policy))
    return out


def leaderboard(policies: Iterable[Any] | Mapping[str, Any], *, weight: float = WEIGHT,
                seeds: Sequence[int] = CAPSTONE["validation_seeds"]) -> pd.DataFrame:
    """Rank policies by :func:`score` on the validation workloads (the class's ranking on
    held-out workloads is :func:`simlab.course.teacher.held_out_leaderboard`).

    Parameters
    ----------
    policies
        Seconds (a fixed TTL), ``None`` (no keep-alive), policy objects, ``(name, policy)`` pairs,
        or a dict name -> policy. ``...`` (a policy not written yet) is left out. The 10-minute
        baseline is added if missing.
    weight, seeds
        As in :func:`score`.

    Returns
    -------
    pandas.DataFrame
        Best first, ranks from 1: ``policy``, ``kind`` (``fixed`` or ``adaptive``),
        ``cold_start_fraction``, ``idle_memory_cost_usd``, ``idle_cost_vs_baseline``, ``score``,
        ``beats_baseline`` (a score at least :data:`MARGIN` below the baseline's).
    """
    weight = number("weight", weight, 0.0, math.inf)
    entries = _entries(policies)
    base_s = CAPSTONE["baseline_keep_alive_s"]
    base_name = policy_name(base_s)
    if base_name not in [n for n, _ in entries]:
        entries.append((base_name, base_s))
    names = [n for n, _ in entries]
    if len(set(names)) != len(names):
        raise ValueError(f"policy names must be unique, got {names}: pass (name, policy) pairs")
    for _, policy in entries:
        as_keep_alive(policy)
    baseline = evaluate(base_s, seeds)
    rows = []
    for name, policy in entries:
        m = baseline if name == base_name else evaluate(policy, seeds)
        fixed = isinstance(as_keep_alive(policy), FixedKeepAlive | NoKeepAlive)
        rows.append({"policy": name + (" (baseline)" if name == base_name else ""),
                     "kind": "fixed" if fixed else "adaptive",
                     "cold_start_fraction": float(m["cold_start_fraction"]),
                     "idle_memory_cost_usd": float(m["idle_memory_cost_usd"]),
                     "idle_cost_vs_baseline": float(m["idle_memory_cost_usd"]
                                                    / baseline["idle_memory_cost_usd"]),
                     "score": _score(m, baseline, weight)})
    board = pd.DataFrame(rows).sort_values("score", kind="stable").reset_index(drop=True)
    board["beats_baseline"] = board["score"] <= _score(baseline, baseline, weight) - MARGIN
    board.index = pd.RangeIndex(1, len(board) + 1, name="rank")
    return board


# -- the policy exercise (its answer is a policy, not a number) -----------------------------------
_POLICY_ID = "09-beat-the-baseline"
_POLICY_HINTS = (
    "Look at capstone.function_report(...): where does the 10-minute baseline hold idle memory "
    "that never turns into a warm start?",
    "A function whose gaps are almost all longer than any keep-alive you can afford gains nothing "
    "from keeping its environment: return 0 for it. A timer that fires every 60 s needs just over "
    "60 s, not 600.",
    "Decide per function from its own recent gaps: keep its environment a little longer than the "
    "gaps it usually has, not at all when those gaps are longer than any keep-alive worth paying "
    "for, and fall back on the baseline while there are too few gaps to judge.",
)


def policy_hint(n: int = 1) -> Hint:
    """Hint ``n`` of the policy exercise, shown once as the cell's value (as
    :func:`simlab.course.exercises.hint`)."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(_POLICY_HINTS):
        raise ValueError(f"n must be a whole number from 1 to {len(_POLICY_HINTS)}, got {n!r}")
    more = f" (policy_hint({n + 1}) for more)" if n < len(_POLICY_HINTS) else ""
    return Hint(f"💡 {_POLICY_ID}, hint {n} of {len(_POLICY_HINTS)}: {_POLICY_HINTS[n - 1]}{more}")


def check_policy(policy: Any) -> CheckResult:
    """Does ``policy`` beat the 10-minute baseline's :func:`score` on the validation workloads by
    at least :data:`MARGIN`? Print and return the verdict (a validation score only: the held-out
    score that grades it is the teacher's, :func:`simlab.course.teacher.held_out_score`).

    ``...`` or ``None`` means not answered yet (no error). A fixed keep-alive is not accepted:
    the exercise asks for a policy that adapts. Prints how the policy did on each count.
    """
    def say(status: str, message: str) -> CheckResult:
        print(message)
        return CheckResult(_POLICY_ID, status, message)

    if policy is None or policy is Ellipsis:
        return say("unanswered", f"⏳ {_POLICY_ID}: not answered yet. Replace `...` with an "
                                 f"instance of your policy class (policy_hint() gives a hint).")
    if not callable(getattr(policy, "idle_timeout_s", None)) or isinstance(
            policy, FixedKeepAlive | NoKeepAlive):
        return say("invalid", f"✋ {_POLICY_ID}: the answer should be a policy object with an "
                              f"idle_timeout_s(function, now_s) method (not a fixed keep-alive), "
                              f"got {type(policy).__name__}.")
    baseline = evaluate(CAPSTONE["baseline_keep_alive_s"])
    mine = evaluate(policy)
    ours, theirs = _score(mine, baseline, WEIGHT), _score(baseline, baseline, WEIGHT)
    how = (f"cold starts {mine['cold_start_fraction']:.1%} (baseline "
           f"{baseline['cold_start_fraction']:.1%}), idle memory "
           f"{mine['idle_memory_cost_usd'] / baseline['idle_memory_cost_usd']:.0%} of the "
           f"baseline's: validation score {ours:.3f} against {theirs:.3f}")
    if ours <= theirs - MARGIN:
        return say("correct", f"✅ {_POLICY_ID}: right, your policy beats the baseline: {how}. "
                              f"Keeping environments per function, as long as that function "
                              f"needs, saves memory where the fixed setting wastes it.")
    close = (f" Better, but by less than {MARGIN:g}: a fixed keep-alive of 11 minutes does as well."
             if ours < theirs else "")
    return say("incorrect", f"❌ {_POLICY_ID}: not yet: {how}.{close} Try policy_hint().")

