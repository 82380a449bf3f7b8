"""Lesson 4: billing granularity and cost. What a run costs, who gains from the rounding, and when
provisioned concurrency pays off.

Lambda bills each invocation for its duration *rounded up* to the billing granularity, times the
configured memory (GB-seconds), plus a fee per request. Until November 2020 the granularity was
100 ms: a 101 ms run paid for 200 ms, and the 99 ms nobody used stayed with the provider. Since
December 2020 it is 1 ms. The lesson's figures, each from simlab runs:

* :func:`rounding_view`: duration against billed duration of a short function, invocation by
  invocation, and how many GB-s the rounding adds at any granularity;
* :func:`monthly_cost_view`: the monthly cost of a function against its duration, a staircase at
  100 ms and a slope at 1 ms (AWS's 1 ms announcement: 60 M runs of 28 ms at 1 GB, $112 -> $40);
* :func:`~simlab.course.lessons.power_tuning.power_tuning_view` (re-exported here with the rest of
  :mod:`simlab.course.lessons.power_tuning`, the power tuning of lesson 3): duration and cost
  against memory, priced at either granularity;
* :func:`pc_view`: the cost of provisioned concurrency against on-demand as traffic grows, and the
  break-even where the PC environments are busy about 60 % of the time;
* :func:`provider_view_table`: the provider's side: memory held by idle warm environments, which
  nobody pays for, against memory billed.

Every ``*_view`` function is pure (parameters -> ``(data, matplotlib Figure)``); the
``*_dashboard`` functions put sliders over them. The exercises ``04-...`` are registered with
:mod:`simlab.course.exercises` when this module is imported. Numbers come from ``LAMBDA_FACTS.md``
§1
and §2 through :mod:`simlab.core.prices` and :mod:`simlab.core.config`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from simlab.aws.simulation import Simulation
from simlab.aws.sources import FixedInterval, Poisson
from simlab.core import billing, plots
from simlab.core.config import ERAS
from simlab.core.dists import LogNormal
from simlab.core.prices import SHEETS, price_sheet_for
from simlab.core.result import Result
from simlab.core.validate import number
from simlab.course.exercises import design, exercise, prediction
from simlab.course.lessons.power_tuning import (
    EXAMPLE_E_SOURCE,
    MEMORY_GRID,
    WORKLOADS,
    PowerTuningView,
    check_granularity,
    example_e,
    example_e_cpu_s,
    label_panel,
    panel_figure,
    power_tuning,
    power_tuning_dashboard,
    power_tuning_readout,
    power_tuning_run,
    power_tuning_table,
    power_tuning_view,
    reprice,
)

__all__ = [
    "EXAMPLE_E_SOURCE", "MEMORY_GRID", "PC_RATES", "WORKLOADS", "PCView", "PowerTuningView",
    "RoundingView", "CHEAPEST_CPU_S", "break_even_rate", "example_e", "example_e_cpu_s",
    "monthly_cost_curve", "monthly_cost_view", "pc_break_even_theory", "pc_costs", "pc_view",
    "power_tuning", "power_tuning_dashboard", "power_tuning_readout", "power_tuning_run",
    "power_tuning_table", "power_tuning_view", "price_sheet_table",
    "provider_view_table",
    "provider_figure", "reprice", "rounding_dashboard", "rounding_readout", "rounding_run",
    "rounding_view",
]

_C = plots.COLORS


# -- price sheets ----------------------------------------------------------------------------------
def price_sheet_table() -> pd.DataFrame:
    """The price sheets of :mod:`simlab.core.prices`, one row each, oldest first (US East, USD).

    Duration prices are per million GB-s, so that they read as AWS writes them ($16.6667 per
    million GB-s is $0.0000166667 per GB-s): ``x86`` and ``arm64`` on demand, ``pc`` the
    provisioned-concurrency charge, ``pc_duration`` the duration price of requests served by it;
    ``tiers`` says whether volume discounts apply. Empty cells (NaN) are things that did not exist
    yet (Arm, provisioned concurrency). Columns that are the same in every sheet (the request
    price, the free tier) are left out, and named narrow so the table fits a notebook's width.
    """
    constant = {"requests_usd_per_million": {s.request_usd_per_million for s in SHEETS},
                "free_gb_s_per_month": {s.free_gb_s_per_month for s in SHEETS}}
    for name, values in constant.items():
        if len(values) != 1:
            raise AssertionError(f"{name} differs between price sheets: {sorted(values)}")
    rows = []
    for s in SHEETS:
        arm = s.arm64.first_tier_price * 1e6 if s.arm64 else math.nan
        pc, pcd = s.x86.provisioned_per_gb_s, s.x86.provisioned_duration_per_gb_s
        rows.append({
            "sheet": s.name, "from": s.effective_from.isoformat(),
            "x86": s.x86.first_tier_price * 1e6, "arm64": arm,
            "pc": pc * 1e6 if pc else math.nan, "pc_duration": pcd * 1e6 if pcd else math.nan,
            "tiers": len(s.x86.duration_tiers) > 1,
        })
    return pd.DataFrame(rows).set_index("sheet")


# -- 1. the rounding of short functions ------------------------------------------------------------
def rounding_run(median_ms: float = 30.0, *, era: str = "2020", rate_per_s: float = 2.0,
                 until_s: float = 600.0, memory_mb: int = 512, seed: int = 4) -> Result:
    """A short API-style function: log-normal run times of median ``median_ms`` (sigma 0.5),
    called by Poisson requests at ``rate_per_s`` for ``until_s`` seconds, in ``era``."""
    median = number("median_ms", median_ms, 0.0, 60_000.0, low_open=True)
    sim = Simulation(era=era, seed=seed)
    sim.add_function("api", memory_mb=memory_mb, timeout_s=300,
                     duration_s=LogNormal(median=median / 1000.0, sigma=0.5))
    sim.add_source(Poisson(rate_per_s=rate_per_s), target="api")
    return sim.run(until_s=until_s)


@dataclass(frozen=True)
class RoundingView:
    """What :func:`rounding_view` computed: the run, its invocations billed at the chosen
    granularity, and the totals at 1 ms and at the chosen granularity."""

    result: Result
    granularity_ms: float
    invocations: pd.DataFrame
    totals: pd.DataFrame


def _rounding_totals(result: Result, granularities: Iterable[float],
                     cache: dict[float, dict[str, float]] | None = None) -> pd.DataFrame:
    """One row per granularity; ``cache`` keeps the rows of ``result`` already priced (each
    takes two bills, about 28 ms: half of a redraw's run and figure before it was kept)."""
    rows = []
    for g in granularities:
        if cache is not None and g in cache:
            rows.append(cache[g])
            continue
        pv = result.provider_view(granularity_ms=g).set_index("metric")["value"]
        billed, rounding = float(pv["billed_gb_s"]), float(pv["rounding_gb_s"])
        rows.append({"granularity_ms": g, "run_gb_s": billed - rounding, "billed_gb_s": billed,
                     "rounding_gb_s": rounding, "extra_fraction": rounding / (billed - rounding),
                     "cost_usd": result.total_cost(granularity_ms=g, free_tier=False)})
        if cache is not None:
            cache[g] = rows[-1]
    return pd.DataFrame(rows)


def _columns(ax: Any, x: np.ndarray, heights: np.ndarray, width: float, color: str,
             label: str) -> None:
    """Bars from 0 to ``heights`` at ``x`` as one artist, drawn and scaled like ``ax.bar``: 10 ms
    for the 2 x 20 bars of :func:`rounding_view`, against 40 ms as 40 rectangles."""
    v = np.empty((len(x), 4, 2))
    v[:, :2, 0], v[:, 2:, 0] = (x - width / 2)[:, None], (x + width / 2)[:, None]
    v[:, (0, 3), 1], v[:, 1:3, 1] = 0.0, heights[:, None]
    bars = PolyCollection(v, facecolors=color, linewidths=0, label=label)
    bars.sticky_edges.y.append(0.0)  # like a bar's: no margin under 0
    ax.add_collection(bars)


def rounding_view(granularity_ms: float = 100.0, median_ms: float = 30.0, *, n_shown: int = 20,
                  seed: int = 4, result: Result | None = None,
                  cache: dict[float, dict[str, float]] | None = None,
                  ) -> tuple[RoundingView, Figure]:
    """Duration against billed duration of a short function (see :func:`rounding_run`).

    Left: the first ``n_shown`` invocations, run time (dark) inside billed time (light) at
    ``granularity_ms``. Right: the run's GB-s that the code ran and that the rounding added, at
    1 ms and at ``granularity_ms``: the customer pays both, the provider did not run the second.
    ``result`` is ``rounding_run(median_ms, seed=seed)`` if already simulated; ``cache``, a
    dict kept with it, keeps its totals at each granularity between calls, as a dashboard does.
    """
    g = check_granularity(granularity_ms)
    if isinstance(n_shown, bool) or not isinstance(n_shown, int) or not 1 <= n_shown <= 200:
        raise ValueError(f"n_shown must be a whole number from 1 to 200, got {n_shown!r}")
    result = rounding_run(median_ms, seed=seed) if result is None else result
    inv = reprice(result, g)
    totals = _rounding_totals(result, (1.0, g), cache)
    fig, (left, right) = panel_figure((10.0, 3.8), 2, width_ratios=(2.3, 1.0))
    first = inv.head(n_shown)
    x = np.arange(len(first))
    _columns(left, x, first["billed_ms"].to_numpy(), 0.8, _C["idle"], f"billed at {g:g} ms")
    _columns(left, x, first["duration_ms"].to_numpy(), 0.5, _C["busy"], "run time")
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    label_panel(left, "invocation (in order of arrival)", "time (ms)",
                f"Run time inside billed time, {g:g} ms granularity")
    labels = [f"{v:g} ms" for v in totals["granularity_ms"]]
    right.bar(labels, totals["run_gb_s"], color=_C["busy"], label="code ran")
    right.bar(labels, totals["rounding_gb_s"], bottom=totals["run_gb_s"], color=_C["cold"],
              label="rounding (billed, not run)")
    label_panel(right, "billing granularity", "GB-s in the run",
                f"{len(inv):,} invocations, {result.until_s / 60:g} min")
    return RoundingView(result, g, inv, totals), fig


def rounding_readout(view: RoundingView) -> str:
    """One line: how much more than the run time the chosen granularity bills."""
    t = view.totals.iloc[-1]
    return (f"{view.granularity_ms:g} ms granularity: billed <b>{t['extra_fraction']:.0%} "
            f"more</b> than the code ran ({t['rounding_gb_s']:.1f} GB-s billed but not run); "
            f"the run costs ${t['cost_usd']:.4f}")


def rounding_dashboard(show: bool = True) -> Any:
    """Sliders for the granularity (1 to 200 ms) and the median run time over
    :func:`rounding_view`."""
    import ipywidgets as w

    from simlab.course.widgets import choice_slider, dashboard, nice_values

    runs: dict[float, Result] = {}  # by median run time: a new granularity only re-prices
    totals: dict[float, dict[float, dict[str, float]]] = {}  # the runs' totals, by granularity

    def compute(granularity_ms: float, median_ms: float) -> tuple[RoundingView, Figure]:
        if median_ms not in runs:
            runs[median_ms] = rounding_run(median_ms)
        return rounding_view(granularity_ms, median_ms, result=runs[median_ms],
                             cache=totals.setdefault(median_ms, {}))

    controls = {
        "granularity_ms": w.IntSlider(value=100, min=1, max=200, step=1,
                                      description="granularity (ms)"),
        "median_ms": choice_slider(nice_values(5.0, 1000.0), 30.0, "median run time (ms)"),
    }
    return dashboard(compute, controls, readout=rounding_readout, show=show)


# -- 2. monthly cost against duration --------------------------------------------------------------
def monthly_cost_curve(durations_ms: Sequence[float] | np.ndarray | None = None, *,
                       memory_mb: int = 1024, invocations_per_month: int = 60_000_000,
                       granularities_ms: Sequence[float] = (100.0, 1.0),
                       date: str = "today") -> pd.DataFrame:
    """The monthly list price of a function whose every run lasts ``duration_ms``.

    Priced by :func:`simlab.core.billing.price_invocations` on records with a ``count`` column (one
    row stands for a month of identical runs); no free tier, no INIT. Default: AWS's example of
    the 1 ms announcement (1,024 MB, 60 M invocations a month), at run times from 1.3 to
    499.3 ms in 1 ms steps.

    Returns
    -------
    pandas.DataFrame
        ``granularity_ms``, ``duration_ms``, ``billed_ms``, ``monthly_cost_usd`` and
        ``overpaid_fraction`` (billed / run time - 1).
    """
    d = (np.arange(1.0, 500.0) + 0.3 if durations_ms is None
         else np.asarray(durations_ms, dtype=float))
    if d.ndim != 1 or not len(d) or not (np.isfinite(d) & (d > 0)).all():
        raise ValueError(f"durations_ms must be a non-empty list of durations > 0 ms, got {d!r}")
    number("memory_mb", memory_mb, 128, 10_240)
    number("invocations_per_month", invocations_per_month, 1, 1e13)
    functions = pd.DataFrame({"function": ["f"], "memory_mb": [memory_mb],
                              "architecture": ["x86_64"], "runtime": ["python3.12"],
                              "package_type": ["zip"], "ephemeral_storage_mb": [512],
                              "provisioned_concurrency": [0]})
    inv = pd.DataFrame({"function": "f", "status": "ok", "duration_ms": d, "init_ms": 0.0,
                        "count": float(invocations_per_month)})
    parts = []
    for g in granularities_ms:
        priced = billing.price_invocations(inv, functions, date=date,
                                           granularity_ms=check_granularity(g))
        parts.append(pd.DataFrame({"granularity_ms": float(g), "duration_ms": d,
                                   "billed_ms": priced["billed_ms"].to_numpy(),
                                   "monthly_cost_usd": priced["cost_usd"].to_numpy()}))
    out = pd.concat(parts, ignore_index=True)
    out["overpaid_fraction"] = out["billed_ms"] / out["duration_ms"] - 1.0
    return out


def monthly_cost_view(**kwargs: Any) -> tuple[pd.DataFrame, Figure]:
    """:func:`monthly_cost_curve` (same keyword arguments) and its figure: the monthly cost and
    the fraction paid for time not run, against the run time, one line per granularity."""
    curve = monthly_cost_curve(**kwargs)
    fig, (cost, over) = panel_figure((10.0, 3.6), 2)
    colors = (_C["cold"], _C["busy"], _C["ok"], _C["init"])
    for (g, part), color in zip(curve.groupby("granularity_ms", sort=False), colors,
                                strict=False):
        label = f"{g:g} ms granularity"
        cost.plot(part["duration_ms"], part["monthly_cost_usd"], color=color, label=label)
        over.plot(part["duration_ms"], 100 * part["overpaid_fraction"], color=color, label=label)
    example = monthly_cost_curve([28.0], **{k: v for k, v in kwargs.items() if k != "durations_ms"})
    cost.plot(example["duration_ms"], example["monthly_cost_usd"], "k*", ms=11,
              label="28 ms (AWS's example)")
    over.set_yscale("log")
    x = "run time of each invocation (ms)"
    label_panel(cost, x, "monthly cost (USD)", "Monthly cost: a staircase at 100 ms")
    label_panel(over, x, "billed but not run (% of run time)",
                "The rounding weighs most on short functions")
    return curve, fig


# -- 4. provisioned concurrency against on-demand --------------------------------------------------
#: Request rates (req/s) of the provisioned-concurrency comparison.
PC_RATES: tuple[float, ...] = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0)


def pc_costs(rates_per_s: Iterable[float] = PC_RATES, *, provisioned: int = 10,
             memory_mb: int = 1024, duration_s: float = 1.0, era: str = "today",
             until_s: float = 600.0, seed: int = 6) -> pd.DataFrame:
    """Cost per hour of a function with and without ``provisioned`` concurrency, at each rate.

    One run holds, for every rate, an on-demand function and a provisioned one called by the same
    Poisson requests (a paired comparison). Bills are list prices without free tier (it does not
    apply to functions with PC); PC is billed from the start in 5-minute blocks.

    Returns
    -------
    pandas.DataFrame
        ``rate_per_s``, ``on_demand_usd_per_h``, ``provisioned_usd_per_h``,
        ``on_demand_cold_fraction``, ``provisioned_cold_fraction``, ``pc_utilisation`` (busy
        time of the PC environments over their capacity) and ``spillover_fraction`` (invocations
        served on demand by the provisioned function).
    """
    rates = [number("rates_per_s", r, 0.0, 1000.0, low_open=True) for r in rates_per_s]
    if not rates:
        raise ValueError("rates_per_s must list at least one request rate (req/s)")
    if isinstance(provisioned, bool) or not isinstance(provisioned, int) or provisioned < 1:
        raise ValueError(f"provisioned must be a whole number >= 1, got {provisioned!r}")
    T = number("until_s", until_s, 0.0, 7 * 86_400.0, low_open=True)
    total_pc = provisioned * len(rates)
    sim = Simulation(era=era, seed=seed, account_concurrency=max(100_000, 2 * total_pc))
    for i, rate in enumerate(rates):
        sim.add_function(f"od-{i}", memory_mb=memory_mb, duration_s=duration_s,
                         timeout_s=int(math.ceil(duration_s)) + 1)
        sim.add_function(f"pc-{i}", memory_mb=memory_mb, duration_s=duration_s,
                         timeout_s=int(math.ceil(duration_s)) + 1,
                         provisioned_concurrency=provisioned)
        sim.add_source(Poisson(rate_per_s=rate), target=[f"od-{i}", f"pc-{i}"])
    result = sim.run(until_s=T)
    cost = result.bill(free_tier=False).groupby("function")["cost_usd"].sum() * 3600.0 / T
    inv = result.invocations
    ran = inv[~inv["status"].isin(billing.NOT_BILLED_STATUSES).to_numpy()]
    by_fn = ran.groupby("function", observed=True)
    cold = by_fn["cold"].mean()
    on_pc = ran[ran["provisioned"].to_numpy()].groupby("function", observed=True)["duration_ms"]
    pc_busy_s = on_pc.sum() / 1000.0
    spill = 1.0 - by_fn["provisioned"].mean()
    rows = []
    for i, rate in enumerate(rates):
        od, pc = f"od-{i}", f"pc-{i}"
        rows.append({"rate_per_s": rate, "on_demand_usd_per_h": cost[od],
                     "provisioned_usd_per_h": cost[pc],
                     "on_demand_cold_fraction": cold.get(od, math.nan),
                     "provisioned_cold_fraction": cold.get(pc, math.nan),
                     "pc_utilisation": pc_busy_s.get(pc, 0.0) / (provisioned * T),
                     "spillover_fraction": spill.get(pc, math.nan)})
    return pd.DataFrame(rows)


def break_even_rate(costs: pd.DataFrame) -> float:
    """The request rate at which provisioned concurrency starts to cost less than on-demand:
    the first crossing of the two cost lines of :func:`pc_costs`, interpolated linearly."""
    need = {"rate_per_s", "on_demand_usd_per_h", "provisioned_usd_per_h"}
    if not isinstance(costs, pd.DataFrame) or not need <= set(costs.columns):
        raise TypeError(f"costs must be a DataFrame from pc_costs with columns {sorted(need)}")
    c = costs.sort_values("rate_per_s")
    x = c["rate_per_s"].to_numpy()
    diff = (c["provisioned_usd_per_h"] - c["on_demand_usd_per_h"]).to_numpy()
    cross = np.flatnonzero((diff[:-1] > 0) & (diff[1:] <= 0))
    if not len(cross):
        raise ValueError(f"the cost lines do not cross between {x[0]:g} and {x[-1]:g} req/s; "
                         f"widen rates_per_s")
    i = int(cross[0])
    return float(x[i] + (x[i + 1] - x[i]) * diff[i] / (diff[i] - diff[i + 1]))


def pc_break_even_theory(provisioned: int = 10, duration_s: float = 1.0, *,
                         date: str = "today", architecture: str = "x86_64") -> float:
    """Break-even rate (req/s) if every request ran on a provisioned environment:
    PC pays when ``rate * duration / provisioned`` (its utilisation) exceeds
    ``pc_price / (on_demand_price - pc_duration_price)``, about 60 %. Ignores requests (same on
    both), INIT and spillover."""
    sheet = price_sheet_for(date)
    pc_price, pc_duration = sheet.provisioned(architecture)
    saving = sheet.arch(architecture).first_tier_price - pc_duration
    d = number("duration_s", duration_s, 0.0, 900.0, low_open=True)
    return provisioned * pc_price / saving / d


@dataclass(frozen=True)
class PCView:
    """What :func:`pc_view` computed: the costs table, the simulated and the theory break-even."""

    costs: pd.DataFrame
    break_even_rate: float
    theory_rate: float
    provisioned: int


def pc_view(provisioned: int = 10, *, duration_s: float = 1.0,
            rates_per_s: Iterable[float] = PC_RATES, **kwargs: Any) -> tuple[PCView, Figure]:
    """:func:`pc_costs` and its figure: cost per hour and cold-start fraction against the
    request rate, with and without PC; dashed line: the break-even of
    :func:`pc_break_even_theory`. The simulated break-even (:func:`break_even_rate`) is in the
    data, not on the figure (it is an exercise)."""
    costs = pc_costs(rates_per_s, provisioned=provisioned, duration_s=duration_s, **kwargs)
    theory = pc_break_even_theory(provisioned, duration_s)
    sim_rate = break_even_rate(costs)
    fig, (cost, cold) = panel_figure((10.0, 3.7), 2)
    x = costs["rate_per_s"]
    for ax, what, scale in ((cost, "usd_per_h", 1), (cold, "cold_fraction", 100)):
        ax.plot(x, scale * costs[f"on_demand_{what}"], "o-", color=_C["cold"], label="on-demand")
        ax.plot(x, scale * costs[f"provisioned_{what}"], "s-", color=_C["provisioned"],
                label=f"provisioned concurrency {provisioned}")
    cost.axvline(theory, color="0.3", ls="--", lw=1, label=f"60 % utilisation ({theory:.2g} req/s)")
    label_panel(cost, "request rate (req/s)", "cost (USD per hour)", "Cost against traffic")
    label_panel(cold, "request rate (req/s)", "cold starts (% of invocations)",
                "PC removes cold starts, until traffic spills over")
    return PCView(costs, sim_rate, theory, provisioned), fig


# -- 5. the provider's side ------------------------------------------------------------------------
_PROVIDER_SHOWN = ("billed_gb_s", "rounding_gb_s", "unbilled_init_gb_s", "idle_warm_gb_s",
                   "environment_held_gb_s", "host_used_gb_s")


def provider_view_table(eras: Sequence[str] = ("2020", "today"), *, rate_per_s: float = 0.2,
                        median_ms: float = 120.0, memory_mb: int = 512, until_s: float = 3600.0,
                        seed: int = 8) -> pd.DataFrame:
    """The provider's side (:meth:`simlab.core.result.Result.provider_view`) of the same traffic in
    each era: a function of ``median_ms`` run time called at ``rate_per_s`` for ``until_s``.

    Returns a table with one row per metric (GB-s, and ``billed_per_host_used`` as a ratio) and
    one column per era; same seed in every era, so the same requests and run times.
    """
    if not eras:
        raise ValueError("eras must name at least one era, e.g. ('2020', 'today')")
    cols = {}
    for era in eras:
        r = rounding_run(median_ms, era=era, rate_per_s=rate_per_s, until_s=until_s,
                         memory_mb=memory_mb, seed=seed)
        cols[era] = r.provider_view().set_index("metric")["value"]
    out = pd.DataFrame(cols)
    out.columns.name = "era"
    return out


def provider_figure(table: pd.DataFrame) -> Figure:
    """Grouped horizontal bars of the GB-s metrics of :func:`provider_view_table`, one colour
    per era."""
    shown = [m for m in _PROVIDER_SHOWN if m in table.index]
    fig, ax = panel_figure((9.0, 3.8), left=0.2)
    y = np.arange(len(shown))
    h = 0.8 / max(len(table.columns), 1)
    for k, (era, color) in enumerate(zip(table.columns, (_C["init"], _C["busy"], _C["ok"]),
                                         strict=False)):
        values = table.loc[shown, era].to_numpy(dtype=float)
        ax.barh(y + k * h, values, height=h, color=color, label=f"{era} rules")
        for yi, v in zip(y + k * h, values, strict=True):
            ax.text(max(v, 0.1), yi, f" {v:,.1f}", va="center", fontsize="small")
    ax.set_yticks(y + h * (len(table.columns) - 1) / 2, [s.replace("_gb_s", "") for s in shown])
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlim(0.1, float(table.loc[shown].to_numpy().max()) * 8)
    label_panel(ax, "memory-time (GB-s, log scale)", "",
                "What the provider holds against what it bills")
    return fig


# -- exercises -------------------------------------------------------------------------------------
def _billed_101ms_2018() -> float:
    sim = Simulation(era="2018", seed=1)
    sim.add_function("f", memory_mb=128, duration_s=0.101)
    sim.add_source(FixedInterval(interval_s=60.0), target="f")
    return float(sim.run(until_s=60.0).invocations["billed_ms"].iloc[0])


def _101_feedback(answer: float, expected: float) -> str | None:
    if abs(answer - 101) < 0.5:
        return "That is how it is billed today; what did the 2018 rules do with a run's length?"
    if answer < 101:
        return "The billed duration is never shorter than the run."
    return None


prediction("04-billed-101ms-2018", outcome=lambda: (
    _billed_101ms_2018(), f"a 101 ms run was billed {_billed_101ms_2018():g} ms under the 2018 "
                          f"rules."), tolerance=0.5, unit="ms", hints=(
    "In 2018 the billing granularity was 100 ms; see ERAS['2018'].billing_granularity_ms.",
    "Rounded up, not to the nearest: which multiple of 100 ms is the first one not below 101?",
), why="Until November 2020 each run was rounded up to the next 100 ms: a run just over a step "
       "paid for almost a whole extra step, time the code never used.", feedback=_101_feedback)

#: The CPU-bound function of exercise 04-cheapest-memory-2018.
CHEAPEST_CPU_S = 0.06
#: Exercise 04-cheapest-memory-2018's goal: cost within this share of the cheapest size, and a
#: run under this many ms.
CHEAPEST_GOAL = {"over_cheapest": 0.06, "run_ms": 100.0}


def _tuning_2018() -> pd.DataFrame:
    rules = ERAS["2018"]
    grid = range(rules.memory_min_mb, rules.memory_max_mb + 1, rules.memory_step_mb)
    return power_tuning(grid, cpu_s=CHEAPEST_CPU_S, era="2018")


def _cheapest_memory_2018() -> float:
    t = _tuning_2018()
    return float(t.loc[t["cost_per_million_usd"].idxmin(), "memory_mb"])


def _verify_memory_2018(answer: Any) -> tuple[bool, str]:
    rules = ERAS["2018"]
    if (isinstance(answer, bool) or not isinstance(answer, int | float) or answer != int(answer)
            or not rules.memory_min_mb <= answer <= rules.memory_max_mb
            or (answer - rules.memory_min_mb) % rules.memory_step_mb):
        raise ValueError(f"in 2018 memory came in 64 MB steps from 128 to 3,008 MB, got "
                         f"{answer!r}")
    mine = power_tuning([int(answer)], cpu_s=CHEAPEST_CPU_S, era="2018").iloc[0]
    low = float(_tuning_2018()["cost_per_million_usd"].min())
    over = float(mine["cost_per_million_usd"]) / low - 1
    run_ms = float(mine["duration_ms"])
    g = CHEAPEST_GOAL
    report = (f"at {int(answer):,} MB it runs {run_ms:.1f} ms, billed {mine['billed_ms']:g} ms, "
              f"and costs {over:.1%} more than the cheapest size (goal: under "
              f"{g['run_ms']:g} ms, at most {g['over_cheapest']:.0%} more)")
    return run_ms < g["run_ms"] and over <= g["over_cheapest"] + 1e-9, report


design("04-cheapest-memory-2018", verify=_verify_memory_2018, reference=_cheapest_memory_2018,
       unit="MB", hints=(
           f"Simulate it: lesson.power_tuning(range(128, 3009, 64), cpu_s={CHEAPEST_CPU_S}, "
           "era='2018') gives the run time and the cost per million invocations at each size.",
           "Cost is memory times *billed* duration: look for the sizes whose run lands just "
           "under a 100 ms step, then keep those that also run under 100 ms.",
       ), why="Under 100 ms billing the cheapest memory is the one whose run lands just under a "
              "100 ms step; with 1 ms billing the same function costs about the same at every "
              "size up to 1,769 MB, so more memory is simply faster.")


def _pc_break_even() -> float:
    return break_even_rate(pc_costs())


def _pc_feedback(answer: float, expected: float) -> str | None:
    if abs(answer - pc_break_even_theory()) < 0.01 * expected:
        return ("That is the theory's rate, which assumes every request finds a free PC "
                "environment; the simulation has spillover. Read the crossing from pc_costs().")
    return None


exercise("04-pc-break-even-rate", rel_tolerance=0.03, unit="req/s", hints=(
    "lesson.pc_costs() simulates both set-ups at several rates; find where the two cost columns "
    "cross.",
    "Between the last rate where PC costs more and the first where it costs less, interpolate "
    "linearly on the difference of the two costs.",
    "The theory says PC pays when its environments are busy about 60 % of the time, a good "
    "first guess; spillover to on-demand moves the simulated crossing a little above it.",
), why="PC charges for memory held whether used or not, and discounts the duration of the "
       "requests it serves; it pays once its environments are busy more than "
       "pc_price / (on-demand price - PC duration price), about 60 % of the time; spillover "
       "beyond the PC environments, paid on demand, moves the break-even a little higher.",
   feedback=_pc_feedback)(_pc_break_even)


#: Exercise 04-billed-share-2020: section 6's function, called once every 30 s on average.
SHARE_RATE_PER_S = 1 / 30


def _billed_share(rate_per_s: float) -> float:
    pv = provider_view_table(("2020",), rate_per_s=rate_per_s)["2020"]
    return float(pv["billed_gb_s"] / pv["environment_held_gb_s"])


def _share_outcome() -> tuple[str, str]:
    rare, often = _billed_share(SHARE_RATE_PER_S), _billed_share(0.2)
    key = "a" if rare > 1.25 * often else "c" if rare < 0.8 * often else "b"
    return key, (f"{rare:.2%} of the GB-s held is billed with a request every 30 s, against "
                 f"{often:.2%} with one every 5 s.")


prediction("04-billed-share-2020", outcome=_share_outcome, options={
    "a": "Fewer requests do not make the environment's idle time shorter: it waits up to 10 "
         "minutes after each, and with requests 30 s apart it waits longer each time.",
    "b": "The share depends on how long an environment waits between requests, and that grows "
         "when requests are rarer.",
    "c": "",
}, hints=(
    "lesson.provider_view_table(('2020',), rate_per_s=...) gives the provider's side of a run.",
    "Each request is billed about the same; what happens to the memory held between two "
    "requests when they come six times less often?",
), why="Warm environments wait idle for the next request for minutes; the provider holds their "
       "memory and bills only the time the code ran (plus the rounding). The rarer the requests, "
       "the more of each keep-alive is idle: keep-alive is paid for by the provider.")
