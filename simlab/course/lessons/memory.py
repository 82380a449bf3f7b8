"""Lesson 3: memory, CPU and timeouts, the one dial Lambda gives you and what it turns.

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
tuning**. For single-threaded CPU-bound code the cost is flat up to 1,769 MB (twice the memory,
half the time) and then rises; for I/O-bound code it rises from the start. AWS's own measurements
("Example E" of its operator guide, LAMBDA_FACTS 1.6) show the flat part.

Everything here is a pure function of its parameters and a seed: the sweeps and runs of the
notebook, their figures, and the dashboard's pure function :func:`power_tuning_view` under its
thin ipywidgets layer :func:`power_tuning_dashboard`. The ``03-...`` exercises are registered with
:mod:`simlab.course.exercises` when this module is imported. Facts: LAMBDA_FACTS.md sections 1.6,
2, 3.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator
from scipy import stats

from simlab.aws.simulation import Simulation
from simlab.aws.sources import FixedInterval, Replay
from simlab.core import plots
from simlab.core.config import ERAS, MAX_VCPUS, MB_PER_VCPU, era_rules, vcpu_share
from simlab.core.prices import price_sheet_for
from simlab.core.result import Result
from simlab.core.validate import number, whole
from simlab.course.exercises import design, exercise, prediction
from simlab.course.lessons.limits import (
    after_kills,
    oom_figure,
    oom_probability,
    oom_run,
    timeout_figure,
    timeout_probability,
    timeout_run,
)
from simlab.course.lessons.power_tuning import EXAMPLE_E_SOURCE, example_e, example_e_cpu_s
from simlab.course.widgets import format_number

__all__ = [
    "EXAMPLE_E_SOURCE", "EXERCISES", "MEMORY_GRID", "WORKLOADS", "workloads_table",
    "era_limits_table", "model_duration_s", "memory_sweep", "duration_figure", "oom_run",
    "oom_probability",
    "after_kills", "oom_figure", "timeout_run", "timeout_probability", "timeout_figure",
    "example_e_table", "cheapest", "power_tuning_figure", "PowerTuningView", "power_tuning_view",
    "power_tuning_readout", "power_tuning_dashboard", "init_limit_table",
]

_C = plots.COLORS

#: Memory sizes of the sweeps (MB), 128 to 10,240, with 1,769 MB (one vCPU) and 7,076 MB (four).
MEMORY_GRID: tuple[int, ...] = (128, 256, 512, 768, 1024, 1536, 1769, 2048, 3008, 4096, 5120,
                                7076, 8192, 10240)

#: The lesson's three functions (:class:`simlab.core.config.FunctionConfig` arguments). The
# CPU-bound
#: one needs the CPU time that makes it run 11.722 s at 128 MB, as Example E's prime-number
#: function did (:func:`~simlab.course.lessons.power_tuning.example_e_cpu_s`, the fit lesson 4 uses
#: too); the I/O-bound one waits 0.4 s for a database; the multi-threaded one encodes images on
#: four threads.
WORKLOADS: Mapping[str, Mapping[str, float]] = MappingProxyType({
    "cpu-bound": MappingProxyType({"cpu_s": round(example_e_cpu_s(), 4), "io_s": 0.0,
                                   "parallelism": 1}),
    "io-bound": MappingProxyType({"cpu_s": 0.05, "io_s": 0.4, "parallelism": 1}),
    "multi-threaded": MappingProxyType({"cpu_s": 4.0, "io_s": 0.0, "parallelism": 4}),
})


def _workload(name: Any, workloads: Mapping[str, Mapping[str, float]] = WORKLOADS
              ) -> Mapping[str, float]:
    if name not in workloads:
        raise ValueError(f"workload must be one of {list(workloads)}, got {name!r}")
    return workloads[name]


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


def model_duration_s(memory_mb: Any, cpu_s: float, io_s: float = 0.0,
                     parallelism: int = 1) -> Any:
    """Run time of the model: ``cpu_s / min(vcpu_share(memory_mb), parallelism) + io_s`` (s).

    Accepts a number or an array of memory sizes (MB).
    """
    m = np.asarray(memory_mb, dtype=float)
    share = np.minimum(np.minimum(m / MB_PER_VCPU, MAX_VCPUS), float(parallelism))
    out = cpu_s / share + io_s
    return float(out) if out.ndim == 0 else out


def _spec(name: str, w: Mapping[str, float]) -> tuple[float, float, int]:
    """A workload's (cpu_s, io_s, parallelism), checked."""
    unknown = set(w) - {"cpu_s", "io_s", "parallelism"}
    if unknown:
        raise ValueError(f"workload {name!r}: unknown key(s) {sorted(unknown)}; allowed: "
                         f"cpu_s, io_s, parallelism")
    return (number(f"{name}.cpu_s", w.get("cpu_s", 0.0), 0.0, 3600.0),
            number(f"{name}.io_s", w.get("io_s", 0.0), 0.0, 3600.0),
            whole(f"{name}.parallelism", w.get("parallelism", 1), 1, 64))


def memory_sweep(memories: Sequence[int] = MEMORY_GRID, *,
                 workloads: Mapping[str, Mapping[str, float]] = WORKLOADS, era: str = "today",
                 invocations: int = 100, seed: int = 1) -> pd.DataFrame:
    """Run every workload at every memory size: duration, failures and cost against memory.

    One simulation holds a function per (workload, memory) pair, named ``"<workload>_<MB>"``;
    a fixed-interval source calls them all together, ``invocations`` times, far enough apart
    that one environment serves each function (one cold start each). Costs are list prices from
    the bill (:meth:`simlab.core.result.Result.bill`, no free tier), INIT included when the era
    bills
    it, per 1,000 invocations.

    Parameters
    ----------
    memories
        Memory sizes (MB), each allowed by ``era``.
    workloads
        Name -> ``cpu_s``, ``io_s``, ``parallelism`` (see :data:`WORKLOADS`).
    era
        Era of the platform's rules (memory range, billing granularity and prices).
    invocations
        Invocations of each function, 1 to 10,000.
    seed
        Seed of the run.

    Returns
    -------
    pandas.DataFrame
        One row per (workload, memory): ``workload``, ``memory_mb``, ``vcpu_share``,
        ``duration_s`` (mean of the runs), ``model_duration_s``, ``failure_fraction``
        (oom, timeout or error), ``cost_per_1000_usd``; sorted by workload and memory.
    """
    mems = sorted({int(number("memories", m, 1, 1e6)) for m in memories})
    if not mems or not workloads:
        raise ValueError("give at least one memory size (MB) and one workload")
    specs = {name: _spec(name, w) for name, w in workloads.items()}
    n = whole("invocations", invocations, 1, 10_000)
    rules = era_rules(era)
    slowest = max(model_duration_s(mems[0], *spec) for spec in specs.values())
    if slowest + 1 > rules.timeout_max_s:
        raise ValueError(f"a workload runs {slowest:.0f} s at {mems[0]} MB, beyond the {era!r} "
                         f"era's {rules.timeout_max_s:g} s timeout")
    gap = max(60.0, math.ceil(slowest) + 2.0)
    sim = Simulation(era=era, seed=seed, account_concurrency=100_000)
    for name, (cpu, io, par) in specs.items():
        for m in mems:
            sim.add_function(f"{name}_{m}", memory_mb=m, cpu_s=cpu, io_s=io, parallelism=par,
                             timeout_s=int(min(rules.timeout_max_s, math.ceil(slowest) + 1)))
    sim.add_source(FixedInterval(interval_s=gap), target=list(sim.functions))
    result = sim.run(until_s=n * gap - gap / 2)
    inv = result.invocations
    failed = inv["status"].isin(["oom", "timeout", "error"]).astype(float)
    per = inv.assign(failed=failed).groupby("function", observed=True).agg(
        duration_ms=("duration_ms", "mean"), failed=("failed", "mean"), n=("failed", "size"))
    per["cost"] = result.bill(free_tier=False).groupby("function", observed=True)[
        "cost_usd"].sum()
    rows = [(name, m, vcpu_share(m), per.at[f"{name}_{m}", "duration_ms"] / 1000.0,
             model_duration_s(m, *spec), per.at[f"{name}_{m}", "failed"],
             per.at[f"{name}_{m}", "cost"] / per.at[f"{name}_{m}", "n"] * 1000.0)
            for name, spec in specs.items() for m in mems]
    return pd.DataFrame(rows, columns=["workload", "memory_mb", "vcpu_share", "duration_s",
                                       "model_duration_s", "failure_fraction",
                                       "cost_per_1000_usd"])


def _series_colors(names: Sequence[str]) -> dict[str, str]:
    palette = (_C["cold"], _C["busy"], _C["ok"], _C["timeout"], _C["init"])
    return {n: palette[k % len(palette)] for k, n in enumerate(names)}


def _log_memory_axes(ax: Any, log_y: bool = True) -> None:
    """Memory on a base-2 log scale labelled in MB (128, 256, ... 8,192), and (``log_y``) a log
    duration axis labelled 1, 2, 5, 10 with grid lines there only: every other minor tick
    (3, 4, 6...) would cost a tick object each at every redraw and carry no label."""
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    if log_y:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.grid(alpha=0.3, which="both")


def duration_figure(sweep: pd.DataFrame) -> Figure:
    """Left: the CPU share against memory. Right: each workload's simulated duration (points)
    and the model (lines) against memory, both axes logarithmic."""
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
    share_ax.grid(alpha=0.3)
    share_ax.legend(loc="upper left", fontsize="small")
    colors = _series_colors(list(dict.fromkeys(sweep["workload"])))
    for name, part in sweep.groupby("workload", sort=False):
        m = part["memory_mb"].to_numpy()
        dur.plot(m, part["duration_s"], ls="", marker="o", ms=4, color=colors[name],
                 label=f"{name} (simulated)")
        dur.plot(m, part["model_duration_s"], color=colors[name], lw=1, alpha=0.7)
    dur.axvline(MB_PER_VCPU, color="0.5", ls=":", lw=1)
    dur.set(yscale="log", xlabel="memory (MB, log scale)", ylabel="duration (s, log scale)",
            title="Duration against memory (lines: the model)")
    _log_memory_axes(dur)
    dur.legend(loc="upper right", fontsize="small")
    return fig


# -- 4. power tuning -------------------------------------------------------------------------------
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


def cheapest(sweep: pd.DataFrame, workload: str | None = None) -> int:
    """Memory (MB) of the lowest cost per 1,000 invocations among sizes that never failed (of one
    ``workload`` when the sweep holds several; ties go to the smaller memory)."""
    if workload is None and "workload" in sweep and sweep["workload"].nunique() > 1:
        raise ValueError("the sweep holds several workloads: name one")
    part = sweep if workload is None else sweep[(sweep["workload"] == workload).to_numpy()]
    ok = part[(part["failure_fraction"] == 0).to_numpy()]
    if not len(ok):
        raise ValueError("every memory size failed: none is cheapest")
    best = ok.sort_values(["cost_per_1000_usd", "memory_mb"], kind="stable").iloc[0]
    return int(best["memory_mb"])


def power_tuning_figure(sweep: pd.DataFrame, workload: str = "cpu-bound", *,
                        highlight: tuple[int, float, float] | None = None,
                        aws: bool = True) -> Figure:
    """Duration (left) and cost per 1,000 invocations (right) against memory for one workload
    of a :func:`memory_sweep`; the cheapest size is marked with a diamond, ``highlight`` =
    ``(memory_mb, duration_s, cost_per_1000_usd)`` with a star, and (``aws``) AWS's Example E as
    crosses for the CPU-bound workload."""
    part = sweep[(sweep["workload"] == workload).to_numpy()]
    if not len(part):
        raise ValueError(f"workload {workload!r} is not in the sweep; it holds "
                         f"{sorted(set(sweep['workload']))}")
    color = _series_colors(list(WORKLOADS)).get(workload, _C["busy"])
    fig = Figure(figsize=(10.0, 3.9))
    dur, cost = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.15, top=0.88, wspace=0.25)
    m = part["memory_mb"].to_numpy()
    failed = part["failure_fraction"].to_numpy() > 0
    best = cheapest(part)
    row = part[part["memory_mb"] == best].iloc[0]
    for ax, col in ((dur, "duration_s"), (cost, "cost_per_1000_usd")):
        y = part[col].to_numpy()
        ax.plot(m, y, marker="o", ms=4, color=color, label=f"{workload} (simulated)")
        if failed.any():
            ax.plot(m[failed], y[failed], ls="", marker="x", ms=8, color=_C["oom"],
                    label="failed (oom, timeout)")
        ax.plot([best], [row[col]], ls="", marker="D", ms=9, mfc="none", mew=2,
                color=_C["theory"], label=f"cheapest: {best:,} MB")
        if highlight is not None:
            ax.plot([highlight[0]], [highlight[1 if col == "duration_s" else 2]], ls="",
                    marker="*", ms=15, color=_C["init"], label=f"{highlight[0]:,} MB")
        ax.axvline(MB_PER_VCPU, color="0.5", ls=":", lw=1)
        ax.set(xlabel="memory (MB, log scale; dotted: 1 vCPU)")
    if aws and workload == "cpu-bound":
        e = example_e()
        dur.plot(e["memory_mb"], e["duration_s"], "kx", ms=8, label="AWS Example E (published)")
        cost.plot(e["memory_mb"], e["cost_per_1000_usd"], "kx", ms=8,
                  label="AWS Example E (published)")
    dur.set(yscale="log", ylabel="duration (s, log scale)", title="Faster with more memory...")
    _log_memory_axes(dur)
    _log_memory_axes(cost, log_y=False)
    cost.set(ylabel="cost of 1,000 invocations (USD)", title="...but is it cheaper?")
    cost.set_ylim(bottom=0)
    dur.legend(loc="best", fontsize="small")
    cost.legend(loc="best", fontsize="small")
    return fig


@dataclass(frozen=True)
class PowerTuningView:
    """What :func:`power_tuning_view` computed: the sweep and the chosen size's own run."""

    sweep: pd.DataFrame
    workload: str
    memory_mb: int
    duration_s: float
    cost_per_1000_usd: float
    cheapest_mb: int


def power_tuning_view(memory_mb: int = 1024, workload: str = "cpu-bound", *,
                      sweep: pd.DataFrame | None = None) -> tuple[PowerTuningView, Figure]:
    """The dashboard's pure function: the power-tuning curves of ``workload`` with the chosen
    memory simulated on its own and starred.

    Parameters
    ----------
    memory_mb
        Memory of the function (MB), 128 to 10,240.
    workload
        One of :data:`WORKLOADS`.
    sweep
        A :func:`memory_sweep` to reuse (simulated when ``None``).

    Returns
    -------
    (PowerTuningView, matplotlib.figure.Figure)
    """
    m = whole("memory_mb", memory_mb, 128, 10_240)
    _workload(workload)
    table = memory_sweep() if sweep is None else sweep
    own = memory_sweep([m], workloads={workload: WORKLOADS[workload]}).iloc[0]
    best = cheapest(table, workload)
    fig = power_tuning_figure(table, workload,
                              highlight=(m, float(own["duration_s"]),
                                         float(own["cost_per_1000_usd"])))
    view = PowerTuningView(sweep=table, workload=workload, memory_mb=m,
                           duration_s=float(own["duration_s"]),
                           cost_per_1000_usd=float(own["cost_per_1000_usd"]), cheapest_mb=best)
    return view, fig


def power_tuning_readout(view: PowerTuningView) -> str:
    """One line: the chosen size's CPU share, duration and cost, and the cheapest size's."""
    part = view.sweep[(view.sweep["workload"] == view.workload).to_numpy()]
    low = float(part.loc[part["memory_mb"] == view.cheapest_mb, "cost_per_1000_usd"].iloc[0])
    return (f"{view.workload} at {view.memory_mb:,} MB ({vcpu_share(view.memory_mb):.2f} vCPU): "
            f"<b>{format_number(view.duration_s)} s, ${view.cost_per_1000_usd:.4f} per 1,000 "
            f"invocations"
            f"</b> ({view.cost_per_1000_usd / low - 1:+.0%} against the cheapest, "
            f"{view.cheapest_mb:,} MB)")


def power_tuning_dashboard(show: bool = True, **defaults: Any) -> Any:
    """A memory slider (128 to 10,240 MB) and a workload choice over :func:`power_tuning_view`;
    the sweep is simulated once, when the dashboard is built.

    ``defaults`` may set ``memory_mb`` and ``workload``.
    """
    import ipywidgets as w

    from simlab.course.widgets import check_defaults, dashboard, memory_slider

    check_defaults(defaults, ("memory_mb", "workload"))
    workload = defaults.get("workload", "cpu-bound")
    _workload(workload)
    sweep = memory_sweep()

    def compute(memory_mb: int, workload: str) -> tuple[PowerTuningView, Figure]:
        return power_tuning_view(memory_mb, workload, sweep=sweep)

    controls = {
        "memory_mb": memory_slider(defaults.get("memory_mb", 1024), era="today"),
        "workload": w.Dropdown(options=list(WORKLOADS), value=workload, description="workload"),
    }
    return dashboard(compute, controls, readout=power_tuning_readout, show=show)


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
    c = t.set_index("memory_mb")["cost_per_1000_usd"]
    return float(c[e["ratio_high_mb"]] / c[e["ratio_low_mb"]])


def _ratio_outcome() -> tuple[str, str]:
    r = _cost_ratio()
    key = "a" if r < 1.5 else "b" if r < 3.5 else "c" if r < 8 else "d"
    return key, f"1,000 invocations cost {r:.2f} times more at 10,240 MB than at 1,769 MB."


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
