"""Lesson 4: billing granularity and cost. What a run costs, and who gains from the rounding.

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
  against memory, priced at either granularity.

Provisioned concurrency and the provider's side are lesson 4b's
(:mod:`simlab.course.lessons.provisioned`). Every ``*_view`` function is pure (parameters ->
``(data, matplotlib Figure)``); the ``*_dashboard`` functions put sliders over them. The exercises
``04-...`` are registered with :mod:`simlab.course.exercises` when this module is imported.
Numbers come from ``LAMBDA_FACTS.md`` §1 and §2 through :mod:`simlab.core.prices` and
:mod:`simlab.core.config`.
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
from simlab.core.prices import SHEETS
from simlab.core.result import Result
from simlab.core.validate import number
from simlab.course.exercises import design, explanation, prediction
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
    "EXAMPLE_E_SOURCE", "MEMORY_GRID", "WORKLOADS", "PowerTuningView", "RoundingView",
    "CHEAPEST_CPU_S", "example_e", "example_e_cpu_s", "monthly_cost_curve", "monthly_cost_view",
    "power_tuning", "power_tuning_dashboard", "power_tuning_readout", "power_tuning_run",
    "power_tuning_table", "power_tuning_view", "price_sheet_table", "reprice",
    "rounding_dashboard", "rounding_readout", "rounding_run", "rounding_view",
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


explanation("04-memory-step-2018", review=(
    "does it give both run times and both billed durations, compare memory times billed duration "
    "at the two sizes, and say what the same change does under 1 ms billing, and why?"), hints=(
    "Run lesson.power_tuning([512, 576], cpu_s=lesson.CHEAPEST_CPU_S, era='2018') and compare "
    "duration_ms with billed_ms at the two sizes.",
    "The bill is memory times billed duration: by how much did each of the two change? Then "
    "price the same two runs at 1 ms: memory times run time, for a function whose run time "
    "falls in proportion to its CPU share.",
))
