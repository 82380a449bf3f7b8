"""Power tuning: how memory sets a function's speed and cost, and where the cheapest size is.

Lessons 3 and 4 both power-tune, with this one implementation: lesson 3 to see memory buy CPU,
lesson 4 to see what the billing granularity does to the curve.

Lambda gives a function CPU in proportion to its memory: 1,769 MB buys one vCPU; the linear model
gives 10,240 / 1,769 = 5.8 vCPUs at the top, where AWS documents "up to 6 vCPUs". simlab
models one invocation as ``cpu_s`` seconds of CPU at one full vCPU plus ``io_s`` seconds of
waiting, so its duration is ``cpu_s / min(share, parallelism) + io_s``
(:class:`simlab.core.config.FunctionConfig`). The cost is memory times billed duration, hence:

* a single-threaded **CPU-bound** function gets faster in proportion to memory up to 1,769 MB,
  and its cost stays flat (twice the memory, half the time); above one vCPU it is no faster and
  the cost grows with memory;
* an **I/O-bound** function waits whatever its memory: more memory barely speeds it up, and its
  cost grows with memory;
* a **multi-threaded** function keeps gaining until it has a vCPU per thread;
* under 100 ms billing (until November 2020) the rounding adds a sawtooth: the cheapest size was
  the one whose run landed just under a 100 ms step.

"Power tuning" is running the same function at several sizes and picking one:
:func:`power_tuning_run` simulates every workload at every size with the same requests (one
environment per function, so one cold start each), :func:`power_tuning_table` prices the run at a
granularity (the same run re-priced, not simulated again), and :func:`memory_sweep` and
:func:`power_tuning` do both, for several workloads or for one you describe. AWS's operator guide
measured a prime-number function at four sizes ("Example E", LAMBDA_FACTS 1.6); :func:`example_e`
holds those numbers. Its duration and cost columns agree only at 128 MB, so the CPU-bound
workload is fitted to that row alone (:func:`example_e_cpu_s`).

The figure (:func:`power_tuning_view`) is pure, parameters -> ``(data, matplotlib Figure)``;
:func:`power_tuning_dashboard` puts a memory slider, a workload choice and a granularity choice
over it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator

from simlab.aws.simulation import Simulation
from simlab.aws.sources import FixedInterval
from simlab.core import billing, plots
from simlab.core.config import MAX_VCPUS, MB_PER_VCPU, era_rules, vcpu_share
from simlab.core.result import Result
from simlab.core.validate import number, whole

__all__ = [
    "EXAMPLE_E_SOURCE", "MEMORY_GRID", "WORKLOADS", "PowerTuningView", "cheapest", "example_e",
    "check_granularity", "label_panel", "log_memory_axes", "panel_figure", "series_colors",
    "example_e_cpu_s", "memory_sweep", "model_duration_s", "power_tuning", "power_tuning_dashboard",
    "power_tuning_figure", "power_tuning_readout", "power_tuning_run", "power_tuning_table",
    "power_tuning_view", "reprice",
]

_C = plots.COLORS


def check_granularity(value: Any) -> float:
    """``value`` as a billing granularity (ms), or a clear error naming ``granularity_ms``."""
    lo, hi = billing.GRANULARITY_RANGE_MS
    return number("granularity_ms", value, lo, hi)


#: Room under the axes (in) for the tick labels, the axis label and a one- or two-row legend.
_BELOW_IN = 1.15


def panel_figure(size: tuple[float, float], ncols: int = 1, left: float = 0.08,
                 **grid: Any) -> tuple[Figure, Any]:
    """A pyplot-free figure of ``ncols`` panels side by side (nothing leaks between redraws),
    ``size`` (in) plus room for the legends under the panels; fixed margins, which draw several
    times faster than a constrained layout."""
    width, height = size
    total = height + _BELOW_IN - 0.5
    fig = Figure(figsize=(width, total))
    fig.subplots_adjust(left=left, right=0.98, bottom=_BELOW_IN / total, top=1 - 0.38 / total,
                        wspace=0.28)
    return fig, fig.subplots(1, ncols, **grid)


def label_panel(ax: Any, xlabel: str, ylabel: str, title: str, legend: bool = True) -> None:
    """Axis labels (with units), title, a light grid and the legend under the axes (off the
    data: never on a bar or a line)."""
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if legend:
        box, (width_in, height_in) = ax.get_position(), ax.figure.get_size_inches()
        n = len(ax.get_legend_handles_labels()[1])
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.5 / (box.height * height_in)),
                  ncols=min(n, 2 if box.width * width_in > 3.5 else 1), fontsize="small",
                  frameon=False)
    ax.grid(alpha=0.3)


def reprice(result: Result, granularity_ms: float) -> pd.DataFrame:
    """The invocations of ``result`` that ran, billed at ``granularity_ms`` (list prices).

    Returns ``invocation_id``, ``function``, ``status``, ``duration_ms``, ``init_ms``,
    ``billed_ms`` and ``cost_usd``: the same run under another rounding, without simulating
    again.
    """
    g = check_granularity(granularity_ms)
    inv = result.invocations
    inv = inv[~inv["status"].isin(billing.NOT_BILLED_STATUSES).to_numpy()]
    priced = billing.price_invocations(inv, result.functions, date=result.rules.date,
                                       granularity_ms=g)
    out = inv[["invocation_id", "function", "status", "duration_ms", "init_ms"]].copy()
    out["billed_ms"] = priced["billed_ms"].to_numpy()
    out["cost_usd"] = priced["cost_usd"].to_numpy()
    return out.reset_index(drop=True)


# -- AWS's Example E -------------------------------------------------------------------------------
#: AWS Lambda operator guide, "Example E": 1,000 invocations of a prime-number function.
EXAMPLE_E_SOURCE = "https://docs.aws.amazon.com/lambda/latest/operatorguide/computing-power.html"
_EXAMPLE_E = ((128, 11.722, 0.024628), (512, 6.678, 0.028035), (1024, 3.194, 0.026830),
              (1536, 1.465, 0.024638))


def example_e() -> pd.DataFrame:
    """AWS's published memory/cost trade-off (LAMBDA_FACTS 1.6, Example E): ``memory_mb``,
    ``duration_s`` and ``cost_per_1000_usd`` as published (source: :data:`EXAMPLE_E_SOURCE`)."""
    return pd.DataFrame(_EXAMPLE_E, columns=["memory_mb", "duration_s", "cost_per_1000_usd"])


def example_e_cpu_s() -> float:
    """CPU seconds at one vCPU of Example E's prime-number function, from its 128 MB row:
    ``duration * vcpu_share(128)``.

    The table's two columns (duration, and cost of 1,000 invocations) agree only at 128 MB; at
    512, 1,024 and 1,536 MB the published durations are 2, 2 and 1.5 times what the published
    costs pay for. The course reads the table one way, in lessons 3 and 4 alike: it fits
    ``cpu_s`` to the one row whose columns agree, and cites neither column elsewhere as evidence.
    """
    e = example_e()
    row = e[e["memory_mb"] == 128].iloc[0]
    return float(row["duration_s"] * vcpu_share(128))


# -- the workloads and the sweep -------------------------------------------------------------------
#: The functions both lessons tune (:class:`simlab.core.config.FunctionConfig` arguments). The
#: CPU-bound one needs the CPU time that makes it run 11.722 s at 128 MB, as Example E's
#: prime-number function did (:func:`example_e_cpu_s`); the I/O-bound one computes 50 ms and then
#: waits 0.4 s for a database; the multi-threaded one encodes images on four threads.
WORKLOADS: Mapping[str, Mapping[str, float]] = MappingProxyType({
    "cpu-bound": MappingProxyType({"cpu_s": round(example_e_cpu_s(), 4), "io_s": 0.0,
                                   "parallelism": 1}),
    "io-bound": MappingProxyType({"cpu_s": 0.05, "io_s": 0.4, "parallelism": 1}),
    "multi-threaded": MappingProxyType({"cpu_s": 4.0, "io_s": 0.0, "parallelism": 4}),
})
#: Memory sizes of the sweep (MB), 128 to 10,240, with 1,769 MB (one vCPU) and 7,076 MB (four).
MEMORY_GRID: tuple[int, ...] = (128, 192, 256, 384, 512, 768, 1024, 1280, 1536, 1769, 2048, 3008,
                                4096, 5120, 6144, 7076, 8192, 10240)


def model_duration_s(memory_mb: Any, cpu_s: float, io_s: float = 0.0,
                     parallelism: int = 1) -> Any:
    """Run time of the model: ``cpu_s / min(vcpu_share(memory_mb), parallelism) + io_s`` (s).

    Accepts a number or an array of memory sizes (MB).
    """
    m = np.asarray(memory_mb, dtype=float)
    share = np.minimum(np.minimum(m / MB_PER_VCPU, MAX_VCPUS), float(parallelism))
    out = cpu_s / share + io_s
    return float(out) if out.ndim == 0 else out


def _workload(name: Any, workloads: Mapping[str, Mapping[str, float]] = WORKLOADS
              ) -> Mapping[str, float]:
    if name not in workloads:
        raise ValueError(f"workload must be one of {list(workloads)}, got {name!r}")
    return workloads[name]


def _spec(name: str, w: Mapping[str, float]) -> tuple[float, float, int]:
    """A workload's (cpu_s, io_s, parallelism), checked."""
    unknown = set(w) - {"cpu_s", "io_s", "parallelism"}
    if unknown:
        raise ValueError(f"workload {name!r}: unknown key(s) {sorted(unknown)}; allowed: "
                         f"cpu_s, io_s, parallelism")
    return (number(f"{name}.cpu_s", w.get("cpu_s", 0.0), 0.0, 3600.0),
            number(f"{name}.io_s", w.get("io_s", 0.0), 0.0, 3600.0),
            whole(f"{name}.parallelism", w.get("parallelism", 1), 1, 64))


def power_tuning_run(memories: Iterable[int] = MEMORY_GRID, *,
                     workloads: Mapping[str, Mapping[str, float]] = WORKLOADS, era: str = "today",
                     invocations: int = 100, seed: int = 1) -> Result:
    """One run with a function per workload and memory size, all called together.

    Functions are named ``"<workload>_<memory_mb>"``. A fixed-interval source calls every one
    ``invocations`` times, far enough apart that one environment serves each (one cold start
    each), so the sizes differ only by memory.

    Parameters
    ----------
    memories
        Memory sizes (whole MB), each allowed by ``era``.
    workloads
        Name -> ``cpu_s``, ``io_s`` and optionally ``parallelism`` (see :data:`WORKLOADS`).
    era
        Era of the platform's rules (memory range, timeout, billing granularity, prices).
    invocations
        Invocations of each function, 1 to 10,000.
    seed
        Seed of the run.
    """
    given = list(memories)
    bad = [m for m in given if float(number("memories", m, 1, 1e6)) % 1]
    if bad:
        raise ValueError(f"memories must be whole numbers of MB, got {bad[0]!r}")
    mems = sorted({int(m) for m in given})
    if not mems:
        raise ValueError("memories must list at least one memory size (MB)")
    if not workloads:
        raise ValueError("workloads must name at least one workload")
    specs = {name: _spec(name, w) for name, w in workloads.items()}
    n = whole("invocations", invocations, 1, 10_000)
    rules = era_rules(era)
    longest = {name: model_duration_s(mems[0], *spec) for name, spec in specs.items()}
    for name, run_s in longest.items():  # at the smallest memory, each runs its longest
        if run_s + 1 > rules.timeout_max_s:
            raise ValueError(f"workload {name!r} runs {run_s:.0f} s at {mems[0]} MB, beyond "
                             f"the {era!r} era's {rules.timeout_max_s:g} s timeout")
    slowest = max(longest.values())
    gap = max(60.0, math.ceil(slowest) + 2.0)
    sim = Simulation(era=era, seed=seed, account_concurrency=100_000)
    for name, (cpu, io, par) in specs.items():
        for m in mems:
            sim.add_function(f"{name}_{m}", memory_mb=m, cpu_s=cpu, io_s=io, parallelism=par,
                             timeout_s=int(min(rules.timeout_max_s, math.ceil(slowest) + 1)))
    sim.add_source(FixedInterval(interval_s=gap), target=list(sim.functions))
    return sim.run(until_s=n * gap - gap / 2)


#: Statuses a power-tuning table counts as failed.
_FAILED = ("oom", "timeout", "error")


def power_tuning_table(result: Result, granularity_ms: float | None = None) -> pd.DataFrame:
    """Each function of a :func:`power_tuning_run`, priced at ``granularity_ms`` (default: the
    era's).

    Returns
    -------
    pandas.DataFrame
        One row per (workload, memory), sorted by workload (in the run's order) and memory:
        ``workload``, ``memory_mb``, ``vcpu_share``, ``duration_ms`` (mean), ``billed_ms``
        (median: a warm run's, without the one cold start's INIT), ``failure_fraction`` (oom,
        timeout or error) and ``cost_per_million_usd`` (mean, list prices, no free tier, INIT
        included when the era bills it).
    """
    g = result.rules.billing_granularity_ms if granularity_ms is None else granularity_ms
    inv = reprice(result, g)
    groups = inv.assign(failed=inv["status"].isin(_FAILED).astype(float)).groupby(
        "function", observed=True, sort=False)
    per = groups[["duration_ms", "failed", "cost_usd"]].mean()
    per["billed_ms"] = groups["billed_ms"].median()  # a warm run's: the cold one adds INIT
    names = [n.rsplit("_", 1) for n in per.index.astype(str)]  # "<workload>_<memory_mb>"
    memories = [int(m) for _, m in names]
    out = pd.DataFrame({
        "workload": [w for w, _ in names],
        "memory_mb": memories,
        "vcpu_share": [vcpu_share(m) for m in memories],
        "duration_ms": per["duration_ms"].to_numpy(),
        "billed_ms": per["billed_ms"].to_numpy(),
        "failure_fraction": per["failed"].to_numpy(),
        "cost_per_million_usd": per["cost_usd"].to_numpy() * 1e6,
    })
    order = {w: k for k, w in enumerate(dict.fromkeys(out["workload"]))}
    return out.sort_values(["workload", "memory_mb"], key=lambda c: c.map(order)
                           if c.name == "workload" else c, ignore_index=True)


def memory_sweep(memories: Iterable[int] = MEMORY_GRID, *,
                 workloads: Mapping[str, Mapping[str, float]] = WORKLOADS, era: str = "today",
                 invocations: int = 100, seed: int = 1,
                 granularity_ms: float | None = None) -> pd.DataFrame:
    """Every workload at every memory size: :func:`power_tuning_table` of a
    :func:`power_tuning_run` (see both for the parameters)."""
    return power_tuning_table(power_tuning_run(memories, workloads=workloads, era=era,
                                               invocations=invocations, seed=seed),
                              granularity_ms)


def power_tuning(memories: Iterable[int], *, cpu_s: float, io_s: float = 0.0,
                 parallelism: int = 1, era: str = "today", granularity_ms: float | None = None,
                 seed: int = 1) -> pd.DataFrame:
    """The power-tuning table of a function you describe (``cpu_s``, ``io_s``,
    ``parallelism``) at each of ``memories``: :func:`memory_sweep` of that one workload,
    without the ``workload`` column."""
    w = {"function": {"cpu_s": cpu_s, "io_s": io_s, "parallelism": parallelism}}
    return memory_sweep(memories, workloads=w, era=era, seed=seed,
                        granularity_ms=granularity_ms).drop(columns="workload")


def cheapest(table: pd.DataFrame, workload: str | None = None) -> int:
    """Memory (MB) of the lowest cost among sizes that never failed (of one ``workload`` when
    the table holds several; ties go to the smaller memory)."""
    if workload is None and "workload" in table and table["workload"].nunique() > 1:
        raise ValueError("the table holds several workloads: name one")
    part = table if workload is None else table[(table["workload"] == workload).to_numpy()]
    if not len(part):
        raise ValueError(f"workload {workload!r} is not in the table; it holds "
                         f"{sorted(set(table['workload']))}")
    ok = part[(part["failure_fraction"] == 0).to_numpy()]
    if not len(ok):
        raise ValueError("every memory size failed: none is cheapest")
    best = ok.sort_values(["cost_per_million_usd", "memory_mb"], kind="stable").iloc[0]
    return int(best["memory_mb"])


# -- the figure ------------------------------------------------------------------------------------
def series_colors(names: Sequence[str]) -> dict[str, str]:
    """One colour per workload name, in order (the same workload, the same colour everywhere)."""
    palette = (_C["cold"], _C["busy"], _C["ok"], _C["timeout"], _C["init"])
    return {n: palette[k % len(palette)] for k, n in enumerate(names)}


def log_memory_axes(ax: Any, log_y: bool = True) -> None:
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


def power_tuning_figure(table: pd.DataFrame, workload: str = "cpu-bound", *,
                        highlight: tuple[int, float, float] | None = None, aws: bool = True,
                        granularity_ms: float | None = None) -> Figure:
    """Duration (left) and cost per million invocations (right) against memory for one workload
    of a :func:`power_tuning_table`.

    The cheapest size is marked with a diamond; ``highlight`` = ``(memory_mb, duration_ms,
    cost_per_million_usd)`` with a star; (``aws``) AWS's Example E as crosses for the CPU-bound
    workload. ``granularity_ms`` (the table's) is named in the cost panel's title and, above
    1 ms, the billed duration of a warm run is drawn dashed beside the run time.
    """
    part = table[(table["workload"] == workload).to_numpy()]
    if not len(part):
        raise ValueError(f"workload {workload!r} is not in the table; it holds "
                         f"{sorted(set(table['workload']))}")
    color = series_colors(list(WORKLOADS)).get(workload, _C["busy"])
    fig, (dur, cost) = panel_figure((10.0, 3.6), 2)
    m = part["memory_mb"].to_numpy()
    failed = part["failure_fraction"].to_numpy() > 0
    best = cheapest(part)
    row = part[part["memory_mb"] == best].iloc[0]
    for ax, col, scale in ((dur, "duration_ms", 1e-3), (cost, "cost_per_million_usd", 1.0)):
        y = part[col].to_numpy() * scale
        ax.plot(m, y, marker="o", ms=4, color=color, label=f"{workload} (simulated)")
        if failed.any():
            ax.plot(m[failed], y[failed], ls="", marker="x", ms=8, color=_C["oom"],
                    label="failed (oom, timeout, error)")
        ax.plot([best], [row[col] * scale], ls="", marker="D", ms=9, mfc="none", mew=2,
                color=_C["theory"], label=f"cheapest: {best:,} MB (never failed)")
        if highlight is not None:  # on top of every other mark
            ax.plot([highlight[0]], [highlight[1 if col == "duration_ms" else 2] * scale],
                    ls="", marker="*", ms=15, color=_C["init"], zorder=5,
                    label=f"your size: {highlight[0]:,} MB (simulated alone)")
        ax.axvline(MB_PER_VCPU, color="0.5", ls=":", lw=1)
    if granularity_ms is not None and granularity_ms > 1:
        dur.plot(m, part["billed_ms"].to_numpy() / 1000, ls="--", lw=1.2, color=color,
                 label=f"billed at {granularity_ms:g} ms (a warm run)")
    if aws and workload == "cpu-bound":
        e = example_e()
        dur.plot(e["memory_mb"], e["duration_s"], "kx", ms=8, label="AWS Example E (published)")
        cost.plot(e["memory_mb"], e["cost_per_1000_usd"] * 1000, "kx", ms=8,
                  label="AWS Example E (published)")
    dur.set(yscale="log")
    log_memory_axes(dur)
    log_memory_axes(cost, log_y=False)
    cost.set_ylim(bottom=0)
    x = "memory (MB, log scale; dotted: 1,769 MB = 1 vCPU)"
    label_panel(dur, x, "duration (s, log scale)", "Faster with more memory...", legend=False)
    billing_text = "" if granularity_ms is None else f" ({granularity_ms:g} ms billing)"
    label_panel(cost, x, "cost per million invocations (USD)",
                f"...but is it cheaper?{billing_text}", legend=False)
    # One legend under both panels: most marks are in both.
    entries: dict[str, Any] = {}
    for ax in (dur, cost):
        for handle, text in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(text, handle)
    fig.legend(list(entries.values()), list(entries), loc="lower center", ncols=3,
               fontsize="small", frameon=False)
    return fig


# -- the dashboard ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PowerTuningView:
    """What :func:`power_tuning_view` computed: the sweep's table at the chosen granularity, and
    the chosen workload and size, simulated on its own."""

    table: pd.DataFrame
    workload: str
    memory_mb: int
    granularity_ms: float
    duration_ms: float
    billed_ms: float
    cost_per_million_usd: float
    cheapest_mb: int


def power_tuning_view(memory_mb: int = 1024, workload: str = "cpu-bound",
                      granularity_ms: float = 1.0, *, sweep: Result | None = None,
                      tables: dict[float, pd.DataFrame] | None = None
                      ) -> tuple[PowerTuningView, Figure]:
    """The dashboard's pure function: the power-tuning curves of ``workload`` at
    ``granularity_ms``, with the chosen memory simulated on its own and starred.

    Parameters
    ----------
    memory_mb
        Memory of the function (MB), 128 to 10,240.
    workload
        One of :data:`WORKLOADS`.
    granularity_ms
        Billing granularity (ms) the costs are priced at.
    sweep
        A :func:`power_tuning_run` to reuse (simulated when ``None``). The chosen size is
        simulated as :func:`power_tuning_run` does by default (100 invocations, seed 1), so a
        sweep run with other settings may put the star a little off its curve.
    tables
        A dict that keeps the sweep's table at each granularity between calls, as a dashboard
        does: the same results, without pricing the sweep again.

    Returns
    -------
    (PowerTuningView, matplotlib.figure.Figure)
    """
    m = whole("memory_mb", memory_mb, 128, 10_240)
    _workload(workload)
    g = check_granularity(granularity_ms)
    sweep = power_tuning_run() if sweep is None else sweep
    tables = {} if tables is None else tables
    if g not in tables:
        tables[g] = power_tuning_table(sweep, g)
    table = tables[g]
    own = memory_sweep([m], workloads={workload: WORKLOADS[workload]}, era=sweep.rules.era,
                       granularity_ms=g).iloc[0]
    fig = power_tuning_figure(table, workload, granularity_ms=g, highlight=(
        m, float(own["duration_ms"]), float(own["cost_per_million_usd"])))
    view = PowerTuningView(table=table, workload=workload, memory_mb=m, granularity_ms=g,
                           duration_ms=float(own["duration_ms"]),
                           billed_ms=float(own["billed_ms"]),
                           cost_per_million_usd=float(own["cost_per_million_usd"]),
                           cheapest_mb=cheapest(table, workload))
    return view, fig


def power_tuning_readout(view: PowerTuningView) -> str:
    """One line: the chosen size's CPU share, duration, billed duration and cost, and the
    cheapest size's."""
    part = view.table[(view.table["workload"] == view.workload).to_numpy()]
    low = float(part.loc[part["memory_mb"] == view.cheapest_mb, "cost_per_million_usd"].iloc[0])
    return (f"{view.workload} at {view.memory_mb:,} MB ({vcpu_share(view.memory_mb):.2f} vCPU), "
            f"{view.granularity_ms:g} ms billing: <b>runs {view.duration_ms:,.0f} ms, billed "
            f"{view.billed_ms:,.0f} ms, ${view.cost_per_million_usd:,.2f} per million "
            f"invocations</b> ({view.cost_per_million_usd / low - 1:+.0%} against the cheapest, "
            f"{view.cheapest_mb:,} MB)")


def power_tuning_dashboard(show: bool = True, *, sweep: Result | None = None,
                           granularity_menu: bool = True, **defaults: Any) -> Any:
    """A memory slider (128 to 10,240 MB), a workload choice and (``granularity_menu``) a billing
    granularity choice over :func:`power_tuning_view`; the sweep (a :func:`power_tuning_run`) is
    simulated once, when the dashboard is built, unless given.

    ``defaults`` may set ``memory_mb``, ``workload`` and (with the menu) ``granularity_ms``;
    without the menu the costs are at 1 ms.
    """
    import ipywidgets as w

    from simlab.course.widgets import check_defaults, dashboard, granularity_dropdown, memory_slider

    allowed = ("memory_mb", "workload") + (("granularity_ms",) if granularity_menu else ())
    check_defaults(defaults, allowed)
    workload = defaults.get("workload", "cpu-bound")
    _workload(workload)
    sweep = power_tuning_run() if sweep is None else sweep
    tables: dict[float, pd.DataFrame] = {}

    def compute(**values: Any) -> tuple[PowerTuningView, Figure]:
        return power_tuning_view(**values, sweep=sweep, tables=tables)

    controls = {
        "memory_mb": memory_slider(defaults.get("memory_mb", 1024), era="today"),
        "workload": w.Dropdown(options=list(WORKLOADS), value=workload, description="workload"),
    }
    if granularity_menu:
        controls["granularity_ms"] = granularity_dropdown(defaults.get("granularity_ms", 1.0))
    return dashboard(compute, controls, readout=power_tuning_readout, show=show)
