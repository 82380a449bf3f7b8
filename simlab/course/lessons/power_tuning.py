"""Power tuning: how memory sets a function's speed and cost, and where the cheapest size is.

Lambda gives a function CPU in proportion to its memory: 1,769 MB buys one vCPU; the linear
model gives 10,240 / 1,769 = 5.8 vCPUs at the top, where AWS documents "up to 6 vCPUs". simlab
models one invocation as ``cpu_s`` seconds of CPU at one full vCPU plus ``io_s`` seconds of
waiting, so its duration is ``cpu_s / min(share, parallelism) + io_s``
(:class:`simlab.core.config.FunctionConfig`). The cost is memory times billed duration, hence:

* a single-threaded **CPU-bound** function gets faster in proportion to memory up to 1,769 MB,
  and its cost stays flat (twice the memory, half the time); above one vCPU it is no faster and
  the cost grows with memory;
* an **I/O-bound** function waits whatever its memory: more memory barely speeds it up, and its
  cost grows with memory;
* under 100 ms billing (until November 2020) the rounding adds a sawtooth: the cheapest size was
  the one whose run landed just under a 100 ms step.

"Power tuning" is running the same function at several sizes and picking one. AWS's operator guide
measured a prime-number function at four sizes ("Example E", LAMBDA_FACTS 1.6); :func:`example_e`
holds those numbers. Its duration and cost columns agree only at 128 MB, so the CPU-bound workload
(here and in lesson 3) is fitted to that row alone (:func:`example_e_cpu_s`).

The figure (:func:`power_tuning_view`) is pure, parameters -> ``(data, matplotlib Figure)``;
:func:`power_tuning_dashboard` puts a memory slider over it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from simlab.aws.simulation import Simulation
from simlab.aws.sources import Poisson
from simlab.core import billing, plots
from simlab.core.config import MB_PER_VCPU, era_rules, vcpu_share
from simlab.core.result import Result
from simlab.core.validate import number

__all__ = [
    "EXAMPLE_E_SOURCE", "MEMORY_GRID", "WORKLOADS", "PowerTuningView", "example_e",
    "example_e_cpu_s", "power_tuning", "power_tuning_dashboard", "power_tuning_readout",
    "power_tuning_run", "power_tuning_table", "power_tuning_view", "reprice",
]

_C = plots.COLORS


def _granularity(value: Any) -> float:
    lo, hi = billing.GRANULARITY_RANGE_MS
    return number("granularity_ms", value, lo, hi)


#: Room under the axes (in) for the tick labels, the axis label and a one- or two-row legend.
_BELOW_IN = 1.15


def _figure(size: tuple[float, float], ncols: int = 1, left: float = 0.08,
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


def _label(ax: Any, xlabel: str, ylabel: str, title: str, legend: bool = True) -> None:
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

    Returns ``invocation_id``, ``function``, ``duration_ms``, ``init_ms``, ``billed_ms`` and
    ``cost_usd``: the same run under another rounding, without simulating again.
    """
    g = _granularity(granularity_ms)
    inv = result.invocations
    inv = inv[~inv["status"].isin(billing.NOT_BILLED_STATUSES).to_numpy()]
    priced = billing.price_invocations(inv, result.functions, date=result.rules.date,
                                       granularity_ms=g)
    out = inv[["invocation_id", "function", "duration_ms", "init_ms"]].copy()
    out["billed_ms"] = priced["billed_ms"].to_numpy()
    out["cost_usd"] = priced["cost_usd"].to_numpy()
    return out.reset_index(drop=True)


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


#: The two functions of the power-tuning figure: a single-threaded CPU-bound one (Example E's
#: 128 MB row, as in lesson 3) and an I/O-bound one (20 ms of CPU, then 250 ms waiting for a
#: remote call).
WORKLOADS: Mapping[str, Mapping[str, float]] = MappingProxyType({
    "cpu-bound": MappingProxyType({"cpu_s": round(example_e_cpu_s(), 4), "io_s": 0.0}),
    "io-bound": MappingProxyType({"cpu_s": 0.02, "io_s": 0.25}),
})
#: Memory sizes of the power-tuning sweep (MB), 128 to 10,240, with 1,769 MB (one vCPU).
MEMORY_GRID: tuple[int, ...] = (128, 192, 256, 384, 512, 768, 1024, 1280, 1536, 1769, 2048, 3008,
                                4096, 6144, 8192, 10240)


def power_tuning_run(memories: Iterable[int] = MEMORY_GRID, *,
                     workloads: Mapping[str, Mapping[str, float]] = WORKLOADS, era: str = "today",
                     rate_per_s: float = 0.2, until_s: float = 600.0, seed: int = 5) -> Result:
    """One run with a function per workload and memory size, all called by the same Poisson
    requests (so the sizes differ only by memory).

    Functions are named ``"<workload>_<memory_mb>"``; each workload maps to ``cpu_s``, ``io_s``
    and optionally ``parallelism`` (see :class:`simlab.core.config.FunctionConfig`).
    """
    given = list(memories)
    mems = sorted({int(number("memories", m, 1, 1e6)) for m in given})
    bad = [m for m in given if float(m) % 1]
    if bad:
        raise ValueError(f"memories must be whole numbers of MB, got {bad[0]!r}")
    if not mems:
        raise ValueError("memories must list at least one memory size (MB)")
    if not workloads:
        raise ValueError("workloads must name at least one workload")
    rules = era_rules(era)
    sim = Simulation(era=era, seed=seed, account_concurrency=100_000)
    for name, w in workloads.items():
        unknown = set(w) - {"cpu_s", "io_s", "parallelism"}
        if unknown:
            raise ValueError(f"workload {name!r}: unknown key(s) {sorted(unknown)}; allowed: "
                             f"cpu_s, io_s, parallelism")
        cpu = number(f"{name}.cpu_s", w.get("cpu_s", 0.0), 0.0, 3600.0)
        io = number(f"{name}.io_s", w.get("io_s", 0.0), 0.0, 3600.0)
        slowest = cpu / vcpu_share(min(mems)) + io
        if slowest >= rules.timeout_max_s:
            raise ValueError(f"workload {name!r} runs {slowest:.0f} s at {min(mems)} MB, beyond "
                             f"the {era!r} era's {rules.timeout_max_s:g} s timeout")
        for m in mems:
            sim.add_function(f"{name}_{m}", memory_mb=m, cpu_s=cpu, io_s=io,
                             parallelism=int(w.get("parallelism", 1)),
                             timeout_s=int(min(rules.timeout_max_s, math.ceil(slowest) + 1)))
    sim.add_source(Poisson(rate_per_s=rate_per_s), target=list(sim.functions))
    return sim.run(until_s=until_s)


def power_tuning_table(result: Result, granularity_ms: float | None = None) -> pd.DataFrame:
    """Mean duration, billed duration and cost per million invocations of each function of a
    :func:`power_tuning_run`, at ``granularity_ms`` (default: the era's). List prices, no free
    tier; INIT included when the era bills it."""
    g = result.rules.billing_granularity_ms if granularity_ms is None else granularity_ms
    inv = reprice(result, g)
    means = inv.groupby("function", observed=True)[["duration_ms", "billed_ms", "cost_usd"]].mean()
    names = means.index.astype(str)
    out = pd.DataFrame({
        "workload": [n.rsplit("_", 1)[0] for n in names],
        "memory_mb": [int(n.rsplit("_", 1)[1]) for n in names],
        "duration_ms": means["duration_ms"].to_numpy(),
        "billed_ms": means["billed_ms"].to_numpy(),
        "cost_per_million_usd": means["cost_usd"].to_numpy() * 1e6,
    })
    out.insert(2, "vcpu_share", [vcpu_share(m) for m in out["memory_mb"]])
    return out.sort_values(["workload", "memory_mb"], ignore_index=True)


def power_tuning(memories: Iterable[int], *, cpu_s: float, io_s: float = 0.0,
                 parallelism: int = 1, era: str = "today", granularity_ms: float | None = None,
                 seed: int = 5) -> pd.DataFrame:
    """:func:`power_tuning_table` of one workload at each of ``memories`` (a few minutes of
    simulated traffic): the power-tuning curve of a function you describe."""
    w = {"function": {"cpu_s": cpu_s, "io_s": io_s, "parallelism": parallelism}}
    table = power_tuning_table(power_tuning_run(memories, workloads=w, era=era, seed=seed),
                               granularity_ms)
    return table.drop(columns="workload")


@dataclass(frozen=True)
class PowerTuningView:
    """What :func:`power_tuning_view` computed: the sweep's table and the chosen memory's rows."""

    table: pd.DataFrame
    chosen: pd.DataFrame
    memory_mb: int
    granularity_ms: float


def power_tuning_view(memory_mb: int = 1024, granularity_ms: float = 1.0, *,
                      sweep: Result | None = None,
                      table: pd.DataFrame | None = None) -> tuple[PowerTuningView, Figure]:
    """Duration and cost per million invocations against memory, for :data:`WORKLOADS`.

    ``sweep`` is a :func:`power_tuning_run` to reuse (it is simulated when ``None``), and
    ``table`` its :func:`power_tuning_table` at ``granularity_ms`` if already computed. The chosen
    ``memory_mb`` (128 to 10,240) is simulated on its own and starred. AWS's Example E durations
    are drawn as crosses, and priced with the same sheet on the cost panel.
    """
    m = int(number("memory_mb", memory_mb, 128, 10_240))
    g = _granularity(granularity_ms)
    sweep = power_tuning_run() if sweep is None else sweep
    table = power_tuning_table(sweep, g) if table is None else table
    chosen = power_tuning_table(power_tuning_run([m], era=sweep.rules.era), g)
    fig, (dur, cost) = _figure((10.0, 3.9), 2)
    for (name, part), color in zip(table.groupby("workload"), (_C["cold"], _C["busy"]),
                                   strict=False):
        pick = chosen[chosen["workload"] == name]
        for ax, col, scale in ((dur, "duration_ms", 1e-3), (cost, "cost_per_million_usd", 1.0)):
            ax.plot(part["memory_mb"], part[col] * scale, marker="o", ms=3, color=color,
                    label=name)
            ax.plot(pick["memory_mb"], pick[col] * scale, marker="*", ms=14, ls="",
                    color=color)
    ticks = [128, 256, 512, 1024, 2048, 4096, 10240]
    x = "memory (MB)  [dotted: 1,769 MB = 1 vCPU]"
    for ax in (dur, cost):
        ax.set(xscale="log", yscale="log")
        ax.set_xticks(ticks, [f"{t:,}" for t in ticks])
        ax.minorticks_off()
        ax.axvline(MB_PER_VCPU, color="0.4", ls=":", lw=1)
    _label(dur, x, "duration (s)", "More memory, more CPU: faster up to 1 vCPU")
    _label(cost, x, "cost per million invocations (USD)", f"Cost at {g:g} ms granularity")
    return PowerTuningView(table, chosen, m, g), fig


def power_tuning_readout(view: PowerTuningView) -> str:
    """One line per workload at the chosen memory: duration and cost per million."""
    parts = [f"{r.workload}: <b>{r.duration_ms:,.0f} ms, ${r.cost_per_million_usd:,.2f}</b> per "
             f"million" for r in view.chosen.itertuples()]
    return (f"{view.memory_mb:,} MB ({vcpu_share(view.memory_mb):.2f} vCPU), "
            f"{view.granularity_ms:g} ms billing: " + "; ".join(parts))


def power_tuning_dashboard(show: bool = True, memory_mb: int = 1024,
                           sweep: Result | None = None) -> Any:
    """A memory slider (128 to 10,240 MB) and a granularity choice over
    :func:`power_tuning_view`; the sweep (a :func:`power_tuning_run`) is simulated once, when
    the dashboard is built, unless given."""
    from simlab.course.widgets import dashboard, granularity_dropdown, memory_slider

    sweep = power_tuning_run() if sweep is None else sweep
    tables = {g: power_tuning_table(sweep, g) for g in (1.0, 100.0)}  # the dropdown's choices

    def compute(memory_mb: int, granularity_ms: float) -> tuple[PowerTuningView, Figure]:
        return power_tuning_view(memory_mb, granularity_ms, sweep=sweep,
                                 table=tables.get(granularity_ms))

    controls = {"memory_mb": memory_slider(memory_mb), "granularity_ms": granularity_dropdown()}
    return dashboard(compute, controls, readout=power_tuning_readout, show=show)
