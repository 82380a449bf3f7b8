"""Lessons 3 and 3b: memory, CPU and timeouts, the one dial Lambda gives you and what it turns.

A Lambda function has no CPU setting. You choose its **memory** (128 MB to 10,240 MB today), and
the platform gives it a share of CPU in proportion: 1,769 MB buys one full vCPU; the linear model
(:func:`simlab.vcpu_share`) gives 5.8 at 10,240 MB, where AWS documents "up to 6 vCPUs". So
memory sets speed:

* code that computes on **one thread** runs ``1769 / memory_mb`` times slower than on a full vCPU
  below 1,769 MB, and gains nothing above it: the extra vCPUs sit idle;
* code that **waits** (for a database, a remote API) takes the same time whatever its memory;
* code with **several threads** keeps gaining until it has a vCPU per thread.

simlab models one invocation's run time as ``cpu_s / min(vcpu_share, parallelism) + io_s``.

Memory is also a hard ceiling. An invocation whose peak memory goes above the configured memory
is killed (status ``oom``, "Runtime exited with error: signal: killed" in the logs), and its
environment is discarded: the next request needs a new one, a cold start. A run that reaches the
**timeout** is killed at exactly ``timeout_s`` (status ``timeout``, "Task timed out after 3.00
seconds"), billed up to the kill, and its environment is discarded too.

Since the bill is memory x billed time, the memory dial trades speed against cost: **power
tuning**, lesson 3b. For single-threaded CPU-bound code the cost is flat up to 1,769 MB (twice the
memory, half the time) and then rises; for I/O-bound code it rises from the start. AWS's own
measurements ("Example E" of its operator guide, LAMBDA_FACTS 1.6) are drawn beside the
simulation, and read one way only
(:func:`~simlab.course.lessons.power_tuning.example_e_cpu_s`): two of its columns disagree at
three sizes of four.

Everything here is a pure function of its parameters and a seed: the sweeps and runs of the
notebook, their figures, and the dashboard's pure function :func:`power_tuning_view` under its
thin ipywidgets layer :func:`power_tuning_dashboard`. The ``03-...`` exercises of both lessons
are registered with :mod:`simlab.course.exercises` when this module is imported. Facts:
LAMBDA_FACTS.md sections 1.6, 2, 3.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from scipy import stats

from simlab.aws.simulation import Simulation
from simlab.aws.sources import FixedInterval, Replay
from simlab.core import plots
from simlab.core.config import ERAS, MAX_VCPUS, MB_PER_VCPU, era_rules, vcpu_share
from simlab.core.prices import price_sheet_for
from simlab.core.result import Result
from simlab.core.validate import number, whole
from simlab.course.exercises import design, exercise, explanation, prediction
from simlab.course.lessons.limits import (
    after_kills,
    oom_figure,
    oom_probability,
    oom_run,
    timeout_figure,
    timeout_probability,
    timeout_run,
)
from simlab.course.lessons.power_tuning import (
    EXAMPLE_E_SOURCE,
    MEMORY_GRID,
    WORKLOADS,
    PowerTuningView,
    cheapest,
    example_e,
    example_e_cpu_s,
    log_memory_axes,
    memory_sweep,
    model_duration_s,
    power_tuning,
    power_tuning_dashboard,
    power_tuning_figure,
    power_tuning_readout,
    power_tuning_run,
    power_tuning_table,
    power_tuning_view,
    series_colors,
)

__all__ = [
    "EXAMPLE_E_SOURCE", "EXERCISES", "MEMORY_GRID", "WORKLOADS", "workloads_table",
    "era_limits_table", "model_duration_s", "memory_sweep", "power_tuning_run",
    "power_tuning_table", "duration_figure", "oom_run", "oom_probability",
    "after_kills", "oom_figure", "timeout_run", "timeout_probability", "timeout_figure",
    "example_e", "example_e_cpu_s", "example_e_table", "cheapest", "power_tuning_figure",
    "PowerTuningView", "power_tuning_view", "power_tuning_readout", "power_tuning_dashboard",
    "init_limit_table", "power_tuning", "LATENCY_DESIGN",
]

_C = plots.COLORS


# -- 1. memory sets the CPU share ------------------------------------------------------------------
def workloads_table(workloads: Mapping[str, Mapping[str, float]] = WORKLOADS) -> pd.DataFrame:
    """The workloads as a table: one row each, ``cpu_s``, ``io_s`` and ``parallelism``."""
    rows = {name: {"cpu_s": float(w.get("cpu_s", 0.0)), "io_s": float(w.get("io_s", 0.0)),
                   "parallelism": int(w.get("parallelism", 1))} for name, w in workloads.items()}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("workload")


def era_limits_table() -> pd.DataFrame:
    """Memory and timeout limits of each era, and the CPU share of the largest function."""
    rows = [(e, r.memory_min_mb, r.memory_max_mb, r.memory_step_mb, r.timeout_max_s,
             round(vcpu_share(r.memory_max_mb), 2)) for e, r in ERAS.items()]
    return pd.DataFrame(rows, columns=["era", "memory_min_mb", "memory_max_mb",
                                       "memory_step_mb", "timeout_max_s",
                                       "vcpus_at_max"]).set_index("era")


def duration_figure(sweep: pd.DataFrame,
                    workloads: Mapping[str, Mapping[str, float]] = WORKLOADS) -> Figure:
    """Left: the CPU share against memory. Right: each workload's simulated duration (points,
    from a :func:`memory_sweep`) and the model (lines, for the workloads named in
    ``workloads``) against memory, both axes logarithmic."""
    fig = Figure(figsize=(10.0, 3.9))
    share_ax, dur = fig.subplots(1, 2, width_ratios=(1.0, 1.3))
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.15, top=0.88, wspace=0.22)
    grid = np.linspace(128, 10240, 400)
    share_ax.plot(grid, np.minimum(grid / MB_PER_VCPU, MAX_VCPUS),
                  color=_C["busy"], label="vCPU share = memory / 1,769 MB")
    share_ax.axhline(1.0, color="0.5", ls=":", lw=1)
    share_ax.axvline(MB_PER_VCPU, color="0.5", ls=":", lw=1)
    share_ax.set(xlabel="memory (MB)", ylabel="CPU share (vCPUs)", xlim=(0, 10240), ylim=(0, 6.2),
                 title="Memory buys CPU (dotted: 1,769 MB = 1 vCPU)")
    share_ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    share_ax.grid(alpha=0.3)
    share_ax.legend(loc="upper left", fontsize="small")
    colors = series_colors(list(dict.fromkeys(sweep["workload"])))
    for name, part in sweep.groupby("workload", sort=False):
        m = part["memory_mb"].to_numpy()
        dur.plot(m, part["duration_ms"] / 1000.0, ls="", marker="o", ms=4, color=colors[name],
                 label=f"{name} (simulated)")
        if name in workloads:
            w = workloads[name]
            dur.plot(m, model_duration_s(m, w.get("cpu_s", 0.0), w.get("io_s", 0.0),
                                         int(w.get("parallelism", 1))),
                     color=colors[name], lw=1, alpha=0.7)
    dur.axvline(MB_PER_VCPU, color="0.5", ls=":", lw=1)
    dur.set(yscale="log", xlabel="memory (MB, log scale)", ylabel="duration (s, log scale)",
            title="Duration against memory (lines: the model)")
    log_memory_axes(dur)
    dur.legend(loc="upper right", fontsize="small")
    return fig


# -- lesson 3b: power tuning -------------------------------------------------------------------
def example_e_table(era: str = "today") -> pd.DataFrame:
    """AWS's Example E beside the model: published duration and cost of 1,000 invocations, the
    run time the published cost implies (at ``era``'s first-tier price), and the model's run time
    for :data:`WORKLOADS` ``["cpu-bound"]``."""
    sheet = price_sheet_for(era_rules(era).date)
    e = example_e()
    per_gb_s = sheet.x86.first_tier_price
    gb = e["memory_mb"] / 1024.0
    e["implied_duration_s"] = (e["cost_per_1000_usd"] / 1000.0 - sheet.request_price) / (
        per_gb_s * gb)
    w = WORKLOADS["cpu-bound"]
    e["model_duration_s"] = model_duration_s(e["memory_mb"].to_numpy(), w["cpu_s"])
    return e.set_index("memory_mb")


# -- exercises -------------------------------------------------------------------------------------
#: Settings of the exercises (the notebook prints them).
EXERCISES: dict[str, Any] = {
    "cpu_s": 2.0, "io_s": 0.3, "memory_mb": 4096,
    "threads": 3,
    "oom_memory_mb": 512, "oom_median_mb": 400.0, "oom_sigma": 0.25,
    "ratio_high_mb": 10240, "ratio_low_mb": 1769,
}


def _duration_at_4096() -> float:
    e = EXERCISES
    sim = Simulation(era="today", seed=1)
    sim.add_function("f", memory_mb=e["memory_mb"], cpu_s=e["cpu_s"], io_s=e["io_s"])
    sim.add_source(FixedInterval(interval_s=10.0), target="f")
    return float(sim.run(until_s=5.0).invocations["duration_ms"].iloc[0]) / 1000.0


def _duration_feedback(answer: float, expected: float) -> str | None:
    e = EXERCISES
    if abs(answer - model_duration_s(e["memory_mb"], e["cpu_s"], e["io_s"], 64)) < 0.02:
        return "The function has one thread: how many vCPUs can it keep busy?"
    if abs(answer - e["cpu_s"] * MB_PER_VCPU / e["memory_mb"]) < 0.02:
        return "Do not forget the time spent waiting for I/O."
    return None


exercise("03-duration-at-4096", tolerance=0.01, unit="s", hints=(
    "Duration = CPU time / CPU share actually used + I/O time.",
    "At 4,096 MB the function gets vcpu_share(4096) vCPUs, but one thread uses at most one.",
    "Check by simulation: a function with memory_mb=4096, cpu_s=2.0 and io_s=0.3, called once; "
    "its invocation's duration_ms is the answer in milliseconds.",
), why="A single thread runs on one vCPU at most: above 1,769 MB the extra share sits idle, so "
       "the duration stops falling while the price keeps rising.",
   feedback=_duration_feedback)(_duration_at_4096)


def _gains_stop() -> float:
    return float(math.ceil(EXERCISES["threads"] * MB_PER_VCPU))


def _gains_outcome() -> tuple[str, str]:
    t = EXERCISES["threads"]
    grid = np.arange(128, 10241)
    d = model_duration_s(grid, cpu_s=float(t), parallelism=t)
    stop = float(grid[np.argmax(d <= d.min() + 1e-12)])
    key = ("a" if abs(stop - MB_PER_VCPU) < 64 else "b" if abs(stop - t * MB_PER_VCPU) < 64
           else "c" if stop >= 10240 else "d")
    return key, (f"the three-threaded function's run time stops falling at {stop:,.0f} MB "
                 f"({t} vCPUs); above it, it is flat.")


prediction("03-memory-where-gains-stop", outcome=_gains_outcome, options={
    "a": "1,769 MB is where one thread stops gaining: this code has three, and each can use a "
         "vCPU of its own.",
    "b": "",
    "c": "The share keeps growing up to 10,240 MB (about 5.8 vCPUs), but three threads cannot "
         "use more than three vCPUs.",
    "d": "Memory buys CPU share, and the share only helps while there are threads to use it.",
}, hints=(
    "A function with p threads gains from more CPU share until the share reaches p vCPUs.",
    "One vCPU comes with 1,769 MB (simlab.core.config.MB_PER_VCPU): how much memory buys three?",
), why="Multi-threaded code keeps gaining until it has one vCPU per thread: three threads need "
       "three times the memory of one.")


#: Exercise 03-oom-fraction: the goal (share of invocations killed) and the spare memory allowed.
OOM_DESIGN = {"target": 0.01, "spare_mb": 64, "requests": 20_000}


def _smallest_memory_for_oom() -> float:
    e = EXERCISES
    z = float(stats.norm.isf(OOM_DESIGN["target"]))
    return float(math.ceil(e["oom_median_mb"] * math.exp(e["oom_sigma"] * z)))


def _verify_oom(answer: Any) -> tuple[bool, str]:
    e, d = EXERCISES, OOM_DESIGN
    if isinstance(answer, bool) or not isinstance(answer, int | float) or answer != int(answer):
        raise ValueError(f"memory is a whole number of MB, got {answer!r}")
    m = int(answer)
    if not 128 <= m <= 10240:
        raise ValueError(f"memory_mb must be from 128 to 10,240 MB, got {m}")
    run = oom_run(m, median_mb=e["oom_median_mb"], sigma=e["oom_sigma"], interval_s=1.0,
                  requests=d["requests"])
    killed = float(run.summary()["oom_fraction"])
    se = math.sqrt(d["target"] * (1 - d["target"]) / d["requests"])
    report = (f"with {m:,} MB, {killed:.2%} of 20,000 simulated invocations are killed (goal: at "
              f"most 1 %, give or take three standard errors, {3 * se:.2%})")
    met = killed <= d["target"] + 3 * se
    if met and m > _smallest_memory_for_oom() + d["spare_mb"]:
        return False, (report + f"; that meets the goal, but with more than {d['spare_mb']} MB "
                       f"beyond what it needs, billed on every invocation")
    return met, report


design("03-oom-fraction", verify=_verify_oom, reference=_smallest_memory_for_oom, unit="MB",
       hints=(
           "An invocation is killed when its peak memory is above memory_mb; the peak is "
           "log-normal, so log(peak) is normal with mean log(400) and standard deviation 0.25.",
           "1 % of a normal lies above its mean plus 2.33 standard deviations: turn that back "
           "into MB, round up, and try it with lesson.oom_run.",
       ), why="Memory is a ceiling, not a target: a function sized to its median peak is killed "
              "whenever a request needs more, so size memory to a high percentile of the peak.")


def _cost_ratio() -> float:
    e = EXERCISES
    t = memory_sweep([e["ratio_low_mb"], e["ratio_high_mb"]],
                     workloads={"cpu-bound": WORKLOADS["cpu-bound"]})
    c = t.set_index("memory_mb")["cost_per_million_usd"]
    return float(c[e["ratio_high_mb"]] / c[e["ratio_low_mb"]])


def _ratio_outcome() -> tuple[str, str]:
    r = _cost_ratio()
    key = "a" if r < 1.5 else "b" if r < 3.5 else "c" if r < 8 else "d"
    return key, f"the same invocations cost {r:.2f} times more at 10,240 MB than at 1,769 MB."


prediction("03-cost-ratio-10240", outcome=_ratio_outcome, options={
    "a": "More memory does make many functions faster, so they cost about the same; but this one "
         "has one thread and runs no faster above one vCPU.",
    "b": "The run time does not fall at all above 1,769 MB for one thread, so the cost grows with "
         "the memory alone.",
    "c": "",
    "d": "Cost is memory times time: the memory grows 5.8 times and the time stays the same, so "
         "the cost cannot grow more than that.",
}, hints=(
    "The CPU-bound function has one thread: compare its duration at 1,769 and 10,240 MB.",
    "Cost is memory times time: if the time stays the same, the cost grows by the ratio of the "
    "memories.",
), why="Above one vCPU a single thread runs no faster, so every extra MB is billed for the same "
       "time: the cost grows in proportion to the memory.")


def init_limit_table(init_s: float = 15.0, timeouts: Sequence[int] = (3, 30), *,
                     requests: int = 3, interval_s: float = 60.0, era: str = "2020",
                     seed: int = 0) -> tuple[pd.DataFrame, dict[int, Result]]:
    """The INIT limit: a function whose INIT takes ``init_s`` (past the 10 s on-demand limit),
    called ``requests`` times every ``interval_s`` s, once per timeout of ``timeouts``.

    INIT stops at 10 s (an ``INIT_REPORT ... Status: timeout`` log line) and runs again inside the
    first invocation, under the function's timeout: with a timeout shorter than ``init_s`` every
    request times out in a new environment; with a longer one the first request pays
    10 s + ``init_s`` and the others are warm. Returns one row per timeout (``ok``, ``timeouts``,
    ``environments``, ``first_latency_s``, ``billed_s`` in the era's billing) and the runs.
    """
    init = number("init_s", init_s, 0.0, 900.0)
    n = whole("requests", requests, 1, 1000)
    runs: dict[int, Result] = {}
    rows = {}
    for t in timeouts:
        t = whole("timeouts", t, 1, 900)
        sim = Simulation(era=era, seed=seed)
        sim.add_function("slow-init", timeout_s=t, init_s=init, duration_s=0.2)
        sim.add_source(Replay([1.0 + interval_s * k for k in range(n)]), target="slow-init")
        r = runs[t] = sim.run(until_s=interval_s * n + init + t + 1.0)
        inv = r.invocations
        rows[t] = {"ok": int((inv["status"] == "ok").sum()),
                   "timeouts": int((inv["status"] == "timeout").sum()),
                   "environments": len(r.environments),
                   "first_latency_s": float(inv["latency_ms"].iloc[0]) / 1000.0,
                   "billed_s": float(inv["billed_ms"].sum()) / 1000.0}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("timeout_s"), runs


# -- lesson 3b's exercises -------------------------------------------------------------------------
#: Exercise 03-latency-budget: a function that computes (``cpu_s`` at one vCPU, one thread), then
#: waits ``io_s``; the run-time budget its API gives it, and the extra cost allowed above the
#: cheapest size that meets the budget.
LATENCY_DESIGN: dict[str, float] = {"cpu_s": 0.12, "io_s": 0.08, "budget_ms": 250.0,
                                    "extra_cost": 0.05}


def _smallest_memory_for_budget() -> float:
    d = LATENCY_DESIGN
    return float(math.ceil(d["cpu_s"] * MB_PER_VCPU / (d["budget_ms"] / 1000.0 - d["io_s"])))


def _verify_budget(answer: Any) -> tuple[bool, str]:
    d = LATENCY_DESIGN
    if isinstance(answer, bool) or not isinstance(answer, int | float) or answer != int(answer):
        raise ValueError(f"memory is a whole number of MB, got {answer!r}")
    m = int(answer)
    if not 128 <= m <= 10240:
        raise ValueError(f"memory_mb must be from 128 to 10,240 MB, got {m}")
    best = int(_smallest_memory_for_budget())
    table = power_tuning(sorted({m, best}), cpu_s=d["cpu_s"], io_s=d["io_s"]).set_index(
        "memory_mb")
    run_ms = float(table.loc[m, "duration_ms"])
    cost, least = (float(table.loc[k, "cost_per_million_usd"]) for k in (m, best))
    report = f"with {m:,} MB a run takes {run_ms:.1f} ms (budget: {d['budget_ms']:.0f} ms)"
    if run_ms > d["budget_ms"]:
        return False, (report + ": too slow; the waiting does not shrink with memory, so the "
                       "computing part has to fit in what is left of the budget")
    report += f" and a million invocations cost {cost:.2f} USD"
    allowed = f"{100 * d['extra_cost']:.0f} %"
    if cost > (1.0 + d["extra_cost"]) * least:
        return False, (report + f", {100 * (cost / least - 1):.0f} % more than the cheapest size "
                       f"that meets the budget (the goal allows {allowed}): past the budget, more "
                       f"speed is not needed, and the waiting is billed for every MB")
    return True, report + f", within {allowed} of the cheapest size that meets it"


design("03-latency-budget", verify=_verify_budget, reference=_smallest_memory_for_budget,
       unit="MB", hints=(
           "The run time is cpu_s / vCPU share + io_s, and only the first part shrinks with "
           "memory; lesson.power_tuning([...], cpu_s=0.12, io_s=0.08) shows both the run time "
           "and the cost of the sizes you list.",
           "How much of the 250 ms budget is left for computing once the 80 ms of waiting is "
           "taken out? Below 1,769 MB the share is memory / 1,769: solve for the memory, round "
           "up, and ask whether any larger size could cost less.",
       ), why="For code that also waits, the computing part costs the same at every size below "
              "one vCPU but the waiting is billed per MB, so the cost rises with memory: buy the "
              "speed the budget needs, and no more.")


explanation("03-multithreaded-2018", review=(
    "does it say why the cost hardly changed with memory in 2018, which size a tuning today "
    "would choose and why there, and what that size gains, with numbers?"), hints=(
    "Compare lesson.memory_sweep([1024, 3008], workloads={'multi-threaded': "
    "lesson.WORKLOADS['multi-threaded']}, era='2018') with the same call today at 3,008 MB "
    "and at larger sizes up to 10,240 MB: duration_ms and cost_per_million_usd.",
    "How many vCPUs did 3,008 MB give, and how many threads does the function have? While the "
    "share is below the number of threads, twice the memory halves the run time: what does "
    "that do to memory x time, and where does it stop today?",
))
