"""Lesson 8b: calibrating the model. What the 2020 measurements say about keep-alive, and what
two experiments can and cannot pin down.

Lesson 8 (:mod:`simlab.course.lessons.validation`) found that simlab, replaying two experiments
measured on AWS Lambda in 2020 under a fixed 10-minute keep-alive, makes too many cold starts.
Lesson 8b reads the keep-alive off the data (:func:`~simlab.course.lessons.validation.idle_gaps`,
:func:`~simlab.course.lessons.validation.keep_alive_figure`), follows the live instances over the
28 hours (:func:`~simlab.course.lessons.validation.instances_figure`), and fits the measured 2020
rules (:mod:`simlab.core.measured`, ``benchmarks/calibrate_2020.py``) with a leave-one-out test.
The figures and the replay are :mod:`~simlab.course.lessons.validation`'s; this
module adds :func:`replay_cold_starts`, the dashboard that replays an experiment with another
keep-alive (:func:`replay_view`, :func:`replay_dashboard`) and the lesson's exercises.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from simlab.aws.data_sets import load_aws_lambda_2020
from simlab.core.result import Result
from simlab.core.validate import number
from simlab.course.exercises import design, explanation, prediction
from simlab.course.lessons.validation import (
    LABELS,
    LESSON8,
    idle_gaps,
    instances_panel,
    replay_result,
)

__all__ = ["QUIET_FIT", "replay_cold_starts", "longest_warm_idle_s", "ReplayView", "replay_view",
           "replay_readout", "replay_dashboard"]

#: Exercise 08-keep-alive-for-the-quiet-function: the seeds its replays average, and how far the
#: mean may be from the measured cold starts.
QUIET_FIT: dict[str, Any] = {"seeds": (0, 1, 2, 3), "within": 3}


def replay_cold_starts(name: str, keep_alive_s: float,
                       seeds: Sequence[int] = QUIET_FIT["seeds"]) -> float:
    """Mean number of cold starts of the replayed experiment ``name`` (``"low_rate"`` or
    ``"high_rate"``) under a fixed keep-alive of ``keep_alive_s`` seconds, over ``seeds``."""
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    return float(np.mean([replay_result(name, keep_alive_s=keep_alive_s, seed=s)
                          .invocations["cold"].sum() for s in seeds]))


def longest_warm_idle_s(name: str) -> float:
    """The longest time (s) an instance of the measured experiment ``name`` sat idle and then
    still served a warm request: a lower bound of the real keep-alive."""
    gaps = idle_gaps(load_aws_lambda_2020(name))
    return float(gaps.loc[~gaps["is_cold"].to_numpy(bool), "instance_idle_s"].max())


# -- the dashboard ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReplayView:
    """What :func:`replay_view` computed."""

    name: str
    keep_alive_s: float
    result: Result
    real_cold: int
    sim_cold: int
    real_instances: int
    sim_environments: int


def replay_view(keep_alive_min: float = 10.0, name: str = "high_rate", *,
                seed: int = 0) -> tuple[ReplayView, Figure]:
    """The lesson's dashboard as a pure function: replay ``name`` with another keep-alive.

    Parameters
    ----------
    keep_alive_min
        Keep-alive of the simulation (min), 0 to 60.
    name
        ``"low_rate"`` or ``"high_rate"``.
    seed
        Seed of the run.
    """
    ka_s = number("keep_alive_min", keep_alive_min, 0.0, 60.0) * 60.0
    result = replay_result(name, keep_alive_s=ka_s, seed=seed)
    df = load_aws_lambda_2020(name)
    fig = Figure(figsize=(9.0, 3.4))
    ax = fig.subplots()
    fig.subplots_adjust(left=0.08, right=0.72, top=0.88, bottom=0.15)
    instances_panel(ax, name, result, LESSON8["bin_s"])
    ax.set_xlabel("time since the first request (h)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    view = ReplayView(name=name, keep_alive_s=ka_s, result=result,
                      real_cold=int(df["is_cold"].sum()),
                      sim_cold=int(result.invocations["cold"].sum()),
                      real_instances=int(df["inst_id"].nunique()),
                      sim_environments=len(result.environments))
    return view, fig


def replay_readout(view: ReplayView) -> str:
    """One line: cold starts and instances, real against simulated."""
    return (f"{LABELS[view.name]}, keep-alive {view.keep_alive_s / 60:g} min: <b>cold starts "
            f"{view.sim_cold} simulated, {view.real_cold} real</b>; instances "
            f"{view.sim_environments} simulated, {view.real_instances} real")


def replay_dashboard(show: bool = True, **defaults: Any) -> Any:
    """A keep-alive slider and an experiment menu over :func:`replay_view`, with a Run button.

    ``defaults`` may set ``keep_alive_min`` and ``name``.
    """
    import ipywidgets as w

    from simlab.course.widgets import check_defaults, dashboard

    check_defaults(defaults, ("keep_alive_min", "name"))
    ka = w.FloatSlider(value=defaults.get("keep_alive_min", 10.0), min=0.0, max=60.0, step=1.0,
                       description="keep-alive (min)", readout_format=".0f")
    name = w.Dropdown(options=[(f"{v} ({k})", k) for k, v in LABELS.items()],
                      value=defaults.get("name", "high_rate"), description="experiment")
    return dashboard(replay_view, {"keep_alive_min": ka, "name": name}, readout=replay_readout,
                     run_button=True, show=show)


# -- exercises -------------------------------------------------------------------------------------
explanation("08-longest-warm-idle", review=(
    "does it give the longest idle time you found, say why a warm request after that idle time "
    "proves the keep-alive was at least that long but not longer, and name what you would need "
    "to observe to measure the keep-alive itself?"), hints=(
    "validation.idle_gaps(df) has, for each request, how long its instance had been idle "
    "(instance_idle_s) and whether it was cold.",
    "A warm request after an idle time t proves the instance was kept at least t. What would "
    "you need to see to know when an instance was reclaimed?",
))


def _verify_quiet(answer: Any) -> tuple[bool, str]:
    if isinstance(answer, bool) or not isinstance(answer, int | float | np.integer | np.floating):
        raise ValueError(f"a keep-alive is a number of seconds, got {answer!r}")
    ka = number("keep_alive_s", float(answer), 0.0, 7200.0)
    real = int(load_aws_lambda_2020("low_rate")["is_cold"].sum())
    bound = longest_warm_idle_s("low_rate")
    cold = replay_cold_starts("low_rate", ka)
    fits = abs(cold - real) <= QUIET_FIT["within"]
    report = (f"with a keep-alive of {ka:g} s the replays average {cold:.1f} cold starts, "
              f"{real} were measured (goal: within {QUIET_FIT['within']})")
    if ka < 60:
        return False, report + "; that looks like minutes: the keep-alive is asked in seconds"
    if fits and ka < bound:
        return False, (report + f"; the count fits, but the data contradict it: an instance "
                       f"served a warm request after idling {bound:.0f} s, so the real "
                       f"keep-alive was at least that long")
    if not fits and cold > real:
        report += ("; more cold starts than were measured: with this keep-alive the replay "
                   "reclaims environments in idle gaps that the real platform still bridged "
                   "with a warm request")
    elif not fits:
        report += ("; fewer cold starts than were measured: with this keep-alive the replay "
                   "keeps environments through idle gaps after which the real requests found "
                   "theirs gone and started cold")
    return fits, report


design("08-keep-alive-for-the-quiet-function", verify=_verify_quiet,
       reference=lambda: 660.0, unit="s", hints=(
           "Two things must hold: replay_cold_starts('low_rate', your_keep_alive_s) within 3 of "
           "the 35 measured, and no warm request of the data after a longer idle time than your "
           "keep-alive.",
           "Exercise 1 gives a lower bound of the keep-alive; the left panel of section 1 shows "
           "where the real step from warm to cold lies. Try values between the two.",
       ), why="Two kinds of evidence pin the quiet function's keep-alive down to a window of "
              "about ten seconds around 11 minutes: the cold starts it must reproduce, and the "
              "warm requests it must not contradict.")


def _cold_20_outcome() -> tuple[str, str]:
    at_600 = int(replay_result("high_rate").invocations["cold"].sum())
    at_1200 = int(replay_result("high_rate", keep_alive_s=1200.0).invocations["cold"].sum())
    r = at_1200 / at_600
    key = "d" if r > 1.1 else "a" if r > 0.9 else "b" if r > 0.5 else "c"
    return key, (f"the replay with 20 minutes gives {at_1200} cold starts, against {at_600} "
                 f"with 10 minutes.")


prediction("08-cold-starts-at-20-min", outcome=_cold_20_outcome, options={
    "a": "Doubling the keep-alive saves the environments whose gaps fall between 10 and 20 "
         "minutes, and this experiment has many such quiet stretches.",
    "b": "",
    "c": "Cold starts that come from a first request, from overlapping requests and from "
         "environments recycled after their lifetime stay: the keep-alive cannot remove them.",
    "d": "A longer keep-alive can only keep more environments warm: it never adds cold starts.",
}, hints=(
    "Which cold starts does a longer keep-alive remove, and which does it leave?",
    "Only the gaps between 10 and 20 minutes turn from cold to warm; overlaps, first requests "
    "and recycled environments stay cold.",
), why="With 20 minutes the idle second environment survives the quiet stretches, as the real "
       "one did: the count comes close to the 37 measured.")
