"""Lesson 4b: provisioned concurrency and the provider's side. When paying for environments kept
ready pays off, how many to keep, and what the provider holds that nobody pays for.

Provisioned concurrency (PC) keeps a number of environments initialised: the requests they serve
are never cold and pay a lower duration price, but the environments are charged for every second
they are enabled, busy or not. Each one pays for itself once it is busy more than
``pc_price / (on-demand price - PC duration price)`` of the time, about 60 % at today's x86
prices. The lesson's figures, each from simlab runs:

* :func:`pc_view`: the cost of a PC against on-demand as traffic grows, and the break-even;
* :func:`pc_costs` at one rate and several PC sizes: how many environments to provision;
* :func:`provider_view_table`: the provider's side: memory held by idle warm environments, which
  nobody pays for, against memory billed.

Every ``*_view`` function is pure (parameters -> ``(data, matplotlib Figure)``). Lesson 4b's
exercises (ids ``04-...``, as lesson 5b's are ``05-...``) are registered with
:mod:`simlab.course.exercises` when this module is imported. Prices come from ``LAMBDA_FACTS.md``
§1.3 through :mod:`simlab.core.prices`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simlab.aws.simulation import Simulation
from simlab.aws.sources import Poisson
from simlab.core import billing, plots
from simlab.core.prices import price_sheet_for
from simlab.core.validate import number
from simlab.course.exercises import design, exercise, prediction
from simlab.course.lessons.billing import rounding_run
from simlab.course.lessons.power_tuning import label_panel, panel_figure

__all__ = [
    "PC_RATES", "PC_SIZING", "PCView", "break_even_rate", "pc_break_even_theory", "pc_costs",
    "pc_saving", "pc_view", "provider_figure", "provider_view_table",
]

_C = plots.COLORS


# -- 1. provisioned concurrency against on-demand --------------------------------------------------
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


# -- 2. how many environments to provision ---------------------------------------------------------
#: Exercise 04-pc-size: section 2's function at a steady 8 req/s, and the goal of its design.
PC_SIZING = {"rate_per_s": 8.0, "saving": 0.065, "largest": 100}


def pc_saving(provisioned: int, rate_per_s: float = PC_SIZING["rate_per_s"]) -> pd.Series:
    """One row of :func:`pc_costs` at ``rate_per_s`` for a PC of ``provisioned`` environments,
    with ``saving``: the share of the on-demand cost per hour that the PC saves (negative when it
    costs more)."""
    row = pc_costs([rate_per_s], provisioned=provisioned).iloc[0].copy()
    row["saving"] = 1.0 - row["provisioned_usd_per_h"] / row["on_demand_usd_per_h"]
    return row


# -- 3. the provider's side ------------------------------------------------------------------------
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


def _verify_pc_size(answer: Any) -> tuple[bool, str]:
    largest = PC_SIZING["largest"]
    if (isinstance(answer, bool) or not isinstance(answer, int | float) or answer != int(answer)
            or not 1 <= answer <= largest):
        raise ValueError(f"provisioned concurrency is a whole number of environments from 1 to "
                         f"{largest}, got {answer!r}")
    k = int(answer)
    row = pc_saving(k)
    goal = PC_SIZING["saving"]
    verdict = "cheaper" if row["saving"] >= 0 else "dearer"
    report = (f"a PC of {k} is {abs(row['saving']):.1%} {verdict} than on-demand "
              f"(goal: at least {goal:.1%} cheaper); its environments are busy "
              f"{row['pc_utilisation']:.0%} of the time and {row['spillover_fraction']:.0%} of "
              f"the requests spill over to on-demand environments")
    met = bool(row["saving"] >= goal)
    mean_load = PC_SIZING["rate_per_s"] * 1.0  # requests in flight on average (1 s each)
    if not met and k >= mean_load:
        report += ("; environments above the load that is there most of the time sit idle too "
                   "often to pay for themselves")
    elif not met:
        report += ("; most requests still run on demand at the full price, while more "
                   "environments would each be busy most of the time")
    return met, report


def _pc_size_reference() -> int:
    rate = PC_SIZING["rate_per_s"]
    return max(range(1, 16), key=lambda k: float(pc_saving(k, rate)["saving"]))


design("04-pc-size", verify=_verify_pc_size, reference=_pc_size_reference, unit="environments",
       hints=(
           "lesson.pc_saving(k) runs section 2's function at 8 req/s with a PC of k environments "
           "and gives the share of the on-demand cost it saves; try a few k.",
           "An environment of the PC pays for itself only if it is busy more than about 60 % of "
           "the time. With 8 requests of 1 s in flight on average, how many environments are "
           "busy most of the time, and how often is the 14th one busy?",
       ), why="A PC pays per environment: each one must be busy more than about 60 % of the "
              "time, so the cheapest PC covers the load that is always there, not its peaks; "
              "the peaks spill over to on-demand environments, which are warm most of the time "
              "at this traffic anyway.")


#: Exercise 04-billed-share-2020: section 3's function, called once every 30 s on average.
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
