"""Lessons 9 and 9b, the capstone: design a keep-alive setting for a real workload.

After a request, the platform keeps the environment warm for a while in case another request comes.
Keep it too briefly and requests start **cold**; keep it too long and the provider holds **idle
memory** that nobody pays for. No setting is best on both counts: a setting is worth considering
only if no other one beats it on both at once, and those settings form the **Pareto front** of
cold-start fraction against idle memory cost.

The workload, the score and the leaderboard are in :mod:`simlab.course.lessons.keep_alive_game`
(re-exported here). This module has the lessons' figures and exercises:

* :func:`workload_figure`: the real 20-minute Azure sample and the longer workload tiled from it;
* :func:`ttl_sweep`: fixed keep-alives over the workload with :func:`simlab.sweep` (its ``tqdm``
  progress bar included), and :func:`pareto`, a plot of any two objectives with their front;
* :func:`function_report`: per function, where a run's cold starts and idle memory come from
  (lesson 9b);
* :func:`tradeoff_view` and :func:`tradeoff_dashboard`: how the weight of idle memory in the score
  moves the best fixed keep-alive (lesson 9b);
* the exercises ``09-...`` of both lessons, registered with :mod:`simlab.course.exercises` when
  this module is imported, and lesson 9b's policy exercise :func:`check_policy` (its answer is a
  policy, not a number).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simlab.aws.sweep import SerialExecutor, summarise, sweep
from simlab.core import plots, validate
from simlab.core.result import Result
from simlab.core.validate import number
from simlab.course.exercises import design, explanation, prediction
from simlab.course.lessons.keep_alive_game import (
    CAPSTONE,
    MARGIN,
    WEIGHT,
    LearningKeepAlive,
    check_policy,
    check_seeds,
    evaluate,
    idle_cost_usd,
    idle_gb_s,
    leaderboard,
    policy_hint,
    policy_name,
    real_sample,
    replay_model,
    run_until_s,
    score,
    tiled_workload,
)

__all__ = [
    "CAPSTONE", "MARGIN", "WEIGHT", "LearningKeepAlive", "check_policy", "evaluate",
    "idle_cost_usd", "idle_gb_s", "leaderboard", "policy_hint", "policy_name", "real_sample",
    "replay_model", "run_until_s", "score", "tiled_workload", "workload_figure", "ttl_sweep",
    "pareto", "function_report", "TradeoffView", "tradeoff_view", "tradeoff_readout",
    "tradeoff_dashboard",
]  # fmt: skip


def workload_figure(hours_shown: float = 2.0, seed: int = CAPSTONE["training_seeds"][0]
                    ) -> Figure:
    """Every arrival, one row per function (busiest at the top): the real 20 minutes above, the
    first ``hours_shown`` hours of ``tiled_workload(seed=seed)`` below (dotted: block borders)."""
    hours_shown = number("hours_shown", hours_shown, 0.0, 168.0, low_open=True)
    real, tiled = real_sample(), tiled_workload(hours_shown, seed)
    order = real["func"].value_counts().index  # busiest first
    row = {f: k for k, f in enumerate(order)}
    fig = Figure(figsize=(9.0, 6.0), layout="constrained")
    for ax, trace, scale, unit in zip(fig.subplots(2, 1), (real, tiled), (1.0, 60.0),
                                      ("s", "min"), strict=True):
        y = trace["func"].map(row).to_numpy(dtype=float)
        ax.scatter(trace["arrival_s"] / scale, y, marker="|", s=40, lw=1,
                   color=plots.OKABE_ITO["blue"])
        ax.set_ylim(len(order) - 0.5, -0.5)
        ax.set_ylabel("function (busiest first)")
        ax.set_xlabel(f"arrival time ({unit})")
    top, bottom = fig.axes
    top.set_title(f"The real sample: {len(real)} invocations of {len(order)} functions in 20 min")
    for k in range(1, math.ceil(hours_shown * 3)):
        bottom.axvline(k * 20, color="0.6", ls=":", lw=0.8)
    bottom.set_title(f"The tiled workload, first {hours_shown:g} h of seed {seed}: the 20 minutes "
                     f"repeated, rotated at random")
    return fig


# -- sweeps and the Pareto front ------------------------------------------------------------------
def _keep_alive_min(value: Any) -> float:
    """A fixed keep-alive in minutes, >= 0; ``math.inf`` (kept until the maximum lifetime) too."""
    if isinstance(value, float | np.floating) and value == math.inf:
        return math.inf
    return number("keep_alive_min", value, 0.0, math.inf)


def ttl_sweep(keep_alive_min: Sequence[float] = CAPSTONE["keep_alive_min"],
              seeds: Sequence[int] = CAPSTONE["training_seeds"], *, workload: str = "tiled",
              hours: float = CAPSTONE["hours"], progress: bool = True,
              executor: Any = None) -> pd.DataFrame:
    """Fixed keep-alives over the workload, with :func:`simlab.sweep` (one row per TTL and seed).

    The build function is :func:`replay_model`. Seed ``s`` is both the run's seed and the tiled
    workload's, so every TTL sees the same workloads (common random numbers). ``executor``
    defaults to :class:`~simlab.sweep.SerialExecutor`: a run takes a few hundredths of a second,
    less than starting a worker process; pass a process pool or a Dask executor to spread them.

    Returns
    -------
    pandas.DataFrame
        ``keep_alive_s``, ``workload``, ``hours``, ``seed``, ``run_seed``, ``invocations``,
        ``cold_start_fraction``, ``idle_memory_gb_s``, ``idle_memory_cost_usd`` (per run),
        ``error``, and ``keep_alive_min``.
    """
    minutes = [_keep_alive_min(m) for m in keep_alive_min]
    if not minutes:
        raise ValueError("keep_alive_min must list at least one keep-alive (min)")
    until_s = run_until_s(workload, hours)  # checks both
    table = sweep(replay_model, {"keep_alive_s": [m * 60.0 for m in minutes],
                                 "workload": [workload], "hours": [float(hours)]},
                  check_seeds(seeds),
                  executor=executor if executor is not None else SerialExecutor(),
                  metrics=["invocations", "cold_start_fraction"],
                  extra_metrics={"idle_memory_gb_s": idle_gb_s,
                                 "idle_memory_cost_usd": idle_cost_usd},
                  until_s=until_s, progress=progress)
    table["keep_alive_min"] = table["keep_alive_s"] / 60.0
    return table


_LABELS = {"cold_start_fraction": "cold-start fraction", "idle_memory_cost_usd": "idle memory "
           "cost (USD per run)", "idle_memory_gb_s": "idle memory (GB-s per run)"}


def _axis_label(column: str) -> str:
    base = column.removesuffix("_mean")
    return _LABELS.get(base, column) + (", mean over seeds" if column.endswith("_mean") else "")


def pareto(summary: pd.DataFrame, x: str, y: str, *, by: str | None = None,
           label: str | None = None, ax: Axes | None = None,
           minimize: tuple[bool, bool] = (True, True)) -> Axes:
    """Points ``(x, y)`` of ``summary`` and their Pareto front (:func:`simlab.sweep.pareto_front`).

    Filled markers are on the front, joined by a staircase (the best ``y`` reachable at each
    ``x``); hollow markers are dominated. With ``by``, one colour and one front per value of that
    column. With ``label``, each point is annotated with its value in that column (numbers as
    ``%g``). When ``summary`` has ``<y>_ci_low`` and ``<y>_ci_high`` (:func:`simlab.sweep.summarise`
    with ``y = <metric>_mean``), vertical bars show the confidence interval.

    Parameters
    ----------
    summary
        One row per point (a :func:`~simlab.sweep.summarise` table, a :func:`leaderboard`...).
    x, y
        Columns of the two objectives.
    by, label
        Optional columns: series, and point labels.
    ax
        Axes to draw on; a new figure when ``None``.
    minimize
        Whether lower is better, for ``x`` and ``y``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from simlab.aws.sweep import pareto_front

    validate.frame("summary", summary)
    for name, col in (("x", x), ("y", y), ("by", by), ("label", label)):
        if col is not None and col not in summary.columns:
            raise ValueError(f"{name}={col!r} is not a column of summary; columns: "
                             f"{list(summary.columns)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 4.5), layout="constrained")
    elif not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    groups = [(None, summary)] if by is None else list(summary.groupby(by, sort=False))
    for k, (name, part) in enumerate(groups):
        color = plots.OKABE_ITO[("blue", "vermillion", "bluish_green", "orange",
                                 "reddish_purple", "sky_blue")[k % 6]]
        front = pareto_front(part, x, y, minimize=minimize)
        rest = part.drop(index=front.index)
        low, high = (f"{y.removesuffix('_mean')}_ci_low", f"{y.removesuffix('_mean')}_ci_high")
        if y.endswith("_mean") and low in part and high in part:
            ax.vlines(part[x], part[low], part[high], color=color, lw=1, alpha=0.6)
        text = "" if name is None else f"{name}: "
        ax.plot(front[x], front[y], ls="", marker="o", color=color,
                label=f"{text}on the Pareto front")
        if len(rest):
            ax.plot(rest[x], rest[y], ls="", marker="o", mfc="none", color=color,
                    label=f"{text}dominated")
        xs, ys = front[x].to_numpy(dtype=float), front[y].to_numpy(dtype=float)
        ax.step(xs, ys, where="post", color=color, lw=1, alpha=0.7)
        if label is not None:
            for _, row in part.iterrows():
                value = row[label]
                tag = f"{value:g}" if isinstance(value, int | float | np.number) else str(value)
                ax.annotate(tag, (row[x], row[y]), xytext=(4, 4), textcoords="offset points",
                            fontsize="small", color="0.25")
    ax.margins(x=0.1, y=0.06)  # room for the labels at the ends
    ax.set_xlabel(_axis_label(x))
    ax.set_ylabel(_axis_label(y))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper right")
    return ax


def function_report(result: Result) -> pd.DataFrame:
    """Per function of a run (``record="all"``): its traffic, its cold starts and what its idle
    memory bought.

    Returns
    -------
    pandas.DataFrame
        ``function``, ``invocations``, ``median_gap_s`` (between its arrivals), ``cold_starts``,
        ``warm_starts``, ``idle_memory_gb_s``, and ``idle_gb_s_per_warm_start``: the idle memory
        held per request that found a warm environment (``inf`` when idle memory bought none).
        Busiest function first.
    """
    inv = result.invocations
    inv = inv[~inv["status"].isin(["throttled", "dropped"])]
    rows = []
    for name, memory_mb in zip(result.functions["function"], result.functions["memory_mb"],
                               strict=True):
        mine = inv[inv["function"] == name]
        gaps = np.diff(np.sort(mine["arrival_s"].to_numpy()))
        idle = float(result.summary(name)["mean_idle_environments"])
        cold = int(mine["cold"].sum())
        rows.append((name, len(mine), float(np.median(gaps)) if len(gaps) else math.nan, cold,
                     len(mine) - cold, idle * memory_mb / 1024 * result.until_s))
    out = pd.DataFrame(rows, columns=["function", "invocations", "median_gap_s", "cold_starts",
                                      "warm_starts", "idle_memory_gb_s"])
    with np.errstate(divide="ignore", invalid="ignore"):
        out["idle_gb_s_per_warm_start"] = (out["idle_memory_gb_s"].to_numpy()
                                           / out["warm_starts"].to_numpy(dtype=float))
    return out.sort_values("invocations", ascending=False, kind="stable").reset_index(drop=True)


# -- the dashboard --------------------------------------------------------------------------------
@dataclass(frozen=True)
class TradeoffView:
    """What :func:`tradeoff_view` computed."""

    table: pd.DataFrame  #: per TTL: means of the sweep and the score at ``weight``
    keep_alive_min: float
    weight: float
    best_min: float  #: the fixed TTL with the lowest score at ``weight``


def tradeoff_view(keep_alive_min: float = 10, weight: float = WEIGHT, *,
                  sweep_table: pd.DataFrame | None = None) -> tuple[TradeoffView, Figure]:
    """The weight's effect, as a pure function: which fixed TTL wins at each weight.

    Left: cold-start fraction against idle memory cost of the fixed TTLs of the sweep, with their
    front; the chosen TTL starred. Right: each TTL's score at ``weight`` (its idle memory
    normalised by the 10-minute TTL's, as in :func:`score` but on the sweep's training seeds); the
    chosen TTL starred, the best one marked by a dotted line. No simulation runs when
    ``sweep_table`` is given.

    Parameters
    ----------
    keep_alive_min
        The chosen fixed keep-alive (min): one of the sweep's values.
    weight
        Weight of the normalised idle memory cost, 0 to 10.
    sweep_table
        A :func:`ttl_sweep` table that includes 10 minutes (default: ``ttl_sweep()`` is run).

    Returns
    -------
    (TradeoffView, matplotlib.figure.Figure)
    """
    weight = number("weight", weight, 0.0, 10.0)
    table = ttl_sweep(progress=False) if sweep_table is None else sweep_table
    means = summarise(table, by=["keep_alive_min"],
                      metric=["cold_start_fraction", "idle_memory_cost_usd"])
    if keep_alive_min not in set(means["keep_alive_min"]) or 10 not in set(
            means["keep_alive_min"]):
        raise ValueError(f"keep_alive_min must be one of the sweep's TTLs "
                         f"{means['keep_alive_min'].tolist()} (min), and 10 among them; got "
                         f"{keep_alive_min!r}")
    base = means.loc[means["keep_alive_min"] == 10, "idle_memory_cost_usd_mean"].iloc[0]
    means["score"] = (means["cold_start_fraction_mean"]
                      + weight * means["idle_memory_cost_usd_mean"] / base)
    best = float(means.loc[means["score"].idxmin(), "keep_alive_min"])
    chosen = means[means["keep_alive_min"] == keep_alive_min]
    # Fixed margins: a constrained layout costs more than the rest of the redraw.
    fig = Figure(figsize=(10.0, 4.2))
    left, right = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.13, top=0.91, wspace=0.25)
    pareto(means, "idle_memory_cost_usd_mean", "cold_start_fraction_mean",
           label="keep_alive_min", ax=left)
    left.plot(chosen["idle_memory_cost_usd_mean"], chosen["cold_start_fraction_mean"], "*",
              ms=14, color=plots.COLORS["cold"], label=f"{keep_alive_min:g} min")
    left.legend(fontsize="small", loc="upper right")
    left.set_title("Fixed keep-alives (labels: min)")
    right.plot(means["keep_alive_min"], means["score"], "o-", color=plots.OKABE_ITO["blue"])
    right.plot([keep_alive_min], chosen["score"], "*", ms=14, color=plots.COLORS["cold"])
    right.axvline(best, color="0.4", ls=":", lw=1, label=f"best: {best:g} min")
    right.set_xscale("function", functions=(np.sqrt, np.square))  # spreads the short TTLs
    right.set_xticks(means["keep_alive_min"], [f"{m:g}" for m in means["keep_alive_min"]])
    right.set_xlim(0, means["keep_alive_min"].max() * 1.1)
    right.set_xlabel("fixed keep-alive (min)")
    right.set_ylabel("score (lower is better)")
    right.set_title(f"score = cold fraction + {weight:g} × idle cost / 10-min's")
    right.grid(alpha=0.3)
    right.legend(fontsize="small")
    return TradeoffView(means, float(keep_alive_min), weight, best), fig


def tradeoff_readout(view: TradeoffView) -> str:
    """One line: the chosen TTL's cold starts, idle cost and score, and the best TTL."""
    row = view.table[view.table["keep_alive_min"] == view.keep_alive_min].iloc[0]
    best = view.table[view.table["keep_alive_min"] == view.best_min].iloc[0]
    return (f"keep-alive {view.keep_alive_min:g} min: cold starts "
            f"{row['cold_start_fraction_mean']:.1%}, idle memory "
            f"${row['idle_memory_cost_usd_mean']:.2f} per 4 h; <b>score {row['score']:.3f}</b> at "
            f"weight {view.weight:g}; best fixed TTL {view.best_min:g} min ({best['score']:.3f})")


def tradeoff_dashboard(sweep_table: pd.DataFrame | None = None, show: bool = True) -> Any:
    """A TTL slider (the sweep's values) and a weight slider over :func:`tradeoff_view`.

    Pass the notebook's :func:`ttl_sweep` table to avoid running it again; redraws need no
    simulation, so the figure follows the sliders.
    """
    import ipywidgets as w

    from simlab.course.widgets import dashboard

    table = ttl_sweep(progress=False) if sweep_table is None else sweep_table
    options = sorted(set(table["keep_alive_min"]))
    controls = {
        "keep_alive_min": w.SelectionSlider(options=[(f"{m:g}", m) for m in options],
                                            value=10 if 10 in options else options[0],
                                            description="keep-alive (min)"),
        "weight": w.FloatSlider(value=WEIGHT, min=0.0, max=2.0, step=0.05,
                                description="idle-memory weight"),
    }

    def compute(keep_alive_min: float, weight: float) -> tuple[TradeoffView, Figure]:
        return tradeoff_view(keep_alive_min, weight, sweep_table=table)

    return dashboard(compute, controls, readout=tradeoff_readout, show=show)


# -- exercises ------------------------------------------------------------------------------------
def _forever_outcome() -> tuple[str, str]:
    forever = float(evaluate(math.inf, [1], workload="real")["cold_start_fraction"])
    ten = float(evaluate(CAPSTONE["baseline_keep_alive_s"], [1],
                         workload="real")["cold_start_fraction"])
    key = ("a" if forever == 0 else "b" if forever < 0.05 else "c" if forever < ten - 0.03
           else "d")
    return key, (f"with environments never reclaimed, {forever:.1%} of the real sample's "
                 f"requests start cold, against {ten:.1%} with 10 minutes.")


prediction("09-real-sample-forever", outcome=_forever_outcome, options={
    "a": "An environment kept forever still has to be created once: every function's first "
         "request is cold, and so is every request that arrives while the others are busy.",
    "b": "Twenty minutes of 31 functions: their first requests and the bursts of overlapping "
         "requests are a large share of the 195.",
    "c": "In a 20-minute sample, few gaps are longer than 10 minutes: keeping environments "
         "longer changes almost nothing.",
    "d": "",
}, hints=(
    "Which cold starts can no keep-alive avoid?",
    "Count what stays cold with environments kept forever: each function's first request, and "
    "every request that overlaps a busy environment (a burst of 16 at once starts 16).",
), why="Even with environments kept forever, every function's first request and every request "
       "that overlaps a busy one start cold: in 20 minutes these are most cold starts, so a "
       "short trace cannot judge a keep-alive.")


@functools.cache  # the sweep behind it takes seconds; each check needs it
def _cheapest_ttl() -> float:
    means = summarise(ttl_sweep(progress=False), by=["keep_alive_min"],
                      metric=["cold_start_fraction", "idle_memory_cost_usd"])
    ok = means[means["cold_start_fraction_mean"] < 0.10]
    return float(ok.loc[ok["idle_memory_cost_usd_mean"].idxmin(), "keep_alive_min"])


@functools.cache
def _cheapest_ttl_evaluation() -> pd.Series:
    return evaluate(_cheapest_ttl() * 60.0, CAPSTONE["training_seeds"])


#: Exercise 09-cheapest-ttl-under-10-percent's goal: the cold-start budget, and how much more idle
#: memory than the sweep's cheapest keep-alive under it a design may hold.
TTL_DESIGN = {"cold_budget": 0.10, "over_cheapest": 0.05}


def _verify_ttl(answer: Any) -> tuple[bool, str]:
    minutes = _keep_alive_min(answer)
    seeds = CAPSTONE["training_seeds"]
    mine = evaluate(minutes * 60.0, seeds)
    best = _cheapest_ttl_evaluation()
    over = float(mine["idle_memory_cost_usd"] / best["idle_memory_cost_usd"]) - 1
    d = TTL_DESIGN
    report = (f"a keep-alive of {minutes:g} min starts {mine['cold_start_fraction']:.1%} of the "
              f"requests cold (budget: under {d['cold_budget']:.0%}) and holds "
              f"{over:+.0%} idle memory against the sweep's cheapest keep-alive within the "
              f"budget (allowed: at most {d['over_cheapest']:+.0%}), over the training workloads")
    return (mine["cold_start_fraction"] < d["cold_budget"]
            and over <= d["over_cheapest"] + 1e-9), report


design("09-cheapest-ttl-under-10-percent", verify=_verify_ttl, reference=_cheapest_ttl,
       unit="min", hints=(
           "summarise(table, by=['keep_alive_min']) gives each TTL's mean cold-start fraction "
           "and idle memory cost over the training workloads.",
           "Walk the front from the cheap end: the first keep-alive under the budget is the "
           "cheapest; a little longer also passes, as long as its idle memory stays within 5 %.",
       ), why="On a Pareto front, a budget on one objective picks the point: the first one under "
              "the budget, walking from the cheap end.")


explanation("09-what-the-flat-end-shows", review=(
    "does it say what in the workload makes a keep-alive over 30 minutes change almost nothing, "
    "whether a real day of traffic has the same property, and what the sweep can therefore "
    "support?"), hints=(
    "Reread section 2's list of what the tiled workload does not have. What is the longest gap "
    "between two requests of one function in it?",
    "A keep-alive only matters for a request that comes after a gap shorter than the keep-alive "
    "and longer than the shorter keep-alives. How many such requests can a keep-alive of 60 "
    "minutes catch here, and how many on a day with nights and hourly jobs?",
))


# -- lesson 9b -------------------------------------------------------------------------------------
def _rare_functions() -> frozenset[str]:
    """The replayed functions called once in the real sample's 20 minutes (their simulated names,
    as :func:`simlab.sources.replay_trace.add_trace_functions` gives them)."""
    counts = real_sample()["func"].value_counts()
    return frozenset(f"func-{f[:8]}" for f in counts[counts == 1].index)


class _RareReclaimed(LearningKeepAlive):
    """The baseline, except that environments of the functions called once per 20 minutes are
    reclaimed at once: a policy that knows the workload in advance, for a prediction only."""

    name = "rare functions reclaimed"

    def __init__(self) -> None:
        self.rare = _rare_functions()

    def idle_timeout_s(self, function: str, now_s: float) -> float:
        return 0.0 if function in self.rare else self.default_s


def _rare_reclaimed_outcome() -> tuple[str, str]:
    seeds = CAPSTONE["training_seeds"]
    base = evaluate(CAPSTONE["baseline_keep_alive_s"], seeds)
    mine = evaluate(_RareReclaimed(), seeds)
    rise = float(mine["cold_start_fraction"] - base["cold_start_fraction"])
    key = "d" if rise < 0 else "c" if rise == 0 else "b" if rise < 0.02 else "a"
    return key, (f"with the {len(_rare_functions())} functions called once per 20 minutes "
                 f"reclaimed at once, {mine['cold_start_fraction']:.1%} of the requests start "
                 f"cold (baseline {base['cold_start_fraction']:.1%}, {100 * rise:+.1f} points), "
                 f"and the idle memory falls by "
                 f"{1 - mine['idle_memory_cost_usd'] / base['idle_memory_cost_usd']:.0%}, over "
                 f"the training workloads.")


prediction("09-reclaim-rare-functions", outcome=_rare_reclaimed_outcome, options={
    "a": "Those functions' requests were mostly cold already: reclaiming their environments "
         "turns only the few warm ones cold, a small share of all requests.",
    "b": "",
    "c": "A few of their requests did come within 10 minutes of the previous one and found a "
         "warm environment: those now start cold.",
    "d": "Reclaiming an environment frees memory, but no other function was waiting for it: "
         "each function's environments are its own, and an idle one never makes another cold.",
}, hints=(
    "Section 1's printout gives those functions' share of the requests and the share of their "
    "requests that already start cold.",
    "Only their warm starts can turn cold: multiply their share of the requests by the share of "
    "their requests that were warm.",
), why="A function whose gaps are mostly longer than the keep-alive gets few warm starts from it: "
       "reclaiming its environments at once costs a few tenths of a point of cold starts and saves "
       "all the memory they held.")


explanation("09-who-sets-the-weight", review=(
    "does it say what the weight measures, which way each provider moves it and which fixed "
    "keep-alive each ends up with, and who, the simulator or someone else, makes the choice?"),
    hints=(
        "The weight says how many cold starts one baseline's worth of idle memory is worth. "
        "Which provider minds idle memory more?",
        "Move the weight slider both ways from 0.4 and read the best fixed keep-alive at each "
        "end; then ask what changed in the simulation between the two (nothing?).",
    ))
