"""Lessons 6 and 6b: logs and monitoring, or how to debug a system you cannot log in to.

A serverless function runs on machines you never see: no shell, no ``top``, no debugger. What you
get instead is what the platform writes for you:

* **logs** (CloudWatch Logs): for every request a ``START`` line, the handler's own output, an
  ``END`` line and a ``REPORT`` line with its duration, billed duration, memory, and, on a cold
  start only, ``Init Duration``; a request killed at its timeout adds ``Task timed out after
  3.00 seconds``. Cold starts and timeouts can be found from the logs alone;
* **metrics** (CloudWatch, free, per minute): Invocations, Errors, Throttles, Duration
  percentiles, ConcurrentExecutions. They show *when* something changed, not *which request*;
* **the trail** (CloudTrail): who changed the configuration, and when. Delivered to an S3 bucket
  as files every few minutes, it can itself trigger a function: the CloudTrail -> S3 -> Lambda
  pattern of infrastructure automation.

Lesson 6 reads the logs (and sizes the fix from its REPORT lines); lesson 6b reads the metrics and
follows the trail. The run tells one story. ``thumbnail`` (128 MB, 3 s timeout) does CPU work
sized for a bigger share of CPU: at 128 MB it gets 7 % of a vCPU, and some requests hit the
timeout. At t = 30 min the operator raises its memory to 1,024 MB
(``UpdateFunctionConfiguration``): the timeouts stop, Duration falls, the idle environments of the
old configuration are replaced (a burst of cold starts), and the trail delivers the call's record
to a bucket whose notification runs ``audit``, a function that reads the file and prints what
changed.

Everything here is a pure function of its parameters (a fixed seed), so numbers are the same on
every machine: :func:`lesson_result` runs the story, :func:`report_figure` draws REPORT lines,
:func:`metrics_figure` draws the metrics dashboard, :func:`monitoring_view` is the widget's pure
function and :func:`monitoring_dashboard` its thin ipywidgets layer. The lessons' exercises (all
``06-...``) are registered with :mod:`simlab.course.exercises`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simlab.aws.cloudtrail import CloudTrailDelivery, trail_frame, trail_reader
from simlab.aws.simulation import Simulation
from simlab.aws.sources import Poisson, S3Bucket
from simlab.core import plots
from simlab.core.config import ERAS
from simlab.core.dists import LogNormal
from simlab.core.log_view import LogView
from simlab.core.metrics import to_wide
from simlab.core.result import Result
from simlab.core.validate import number
from simlab.course.exercises import design, exercise, explanation, prediction

__all__ = [
    "LESSON6", "FUNCTION", "AUDIT", "BUCKET", "lesson_simulation", "lesson_result",
    "before_after", "change_seen_at", "report_figure", "metrics_figure", "MonitoringView",
    "monitoring_view", "monitoring_readout", "monitoring_dashboard", "filter_log_events",
    "SIZING", "p99_after_fix", "RESERVING", "throttled_after_fix",
]  # fmt: skip

#: The lesson's settings: the run, the change and the trail (the notebook prints them).
LESSON6: dict[str, Any] = {
    "era": "today", "seed": 6, "rate_per_s": 1.0, "until_s": 3600.0, "memory_before_mb": 128,
    "memory_after_mb": 1024, "update_at_min": 30, "timeout_s": 3, "trail_every_s": 300,
}  # fmt: skip
#: The function whose logs and metrics the lesson reads.
FUNCTION = "thumbnail"
#: The function the trail's files trigger.
AUDIT = "audit"
#: The trail's bucket.
BUCKET = "audit-trail-logs"


def lesson_simulation(memory_after_mb: int = 1024, update_at_min: float = 30, *,
                      seed: int = 6, rate_per_s: float = LESSON6["rate_per_s"]) -> Simulation:
    """The lesson's simulation, ready to run for :data:`LESSON6` ``["until_s"]``.

    ``thumbnail``: 128 MB, 3 s timeout, CPU work of 0.15 s at one full vCPU (log-normal, sigma
    0.25) plus 0.04 s of I/O, about 70 MB used; Poisson requests, ``rate_per_s`` a second. At
    ``update_at_min`` its memory becomes ``memory_after_mb``. A trail delivers every 5 minutes to
    the bucket :data:`BUCKET`, which notifies ``audit`` (256 MB, 0.2 s, handler
    :func:`simlab.aws.cloudtrail.trail_reader`).

    Parameters
    ----------
    memory_after_mb : int
        Memory after the change, 128 to 10,240 MB (whole MB, the platform's rule).
    update_at_min : float
        When the change is made (min), 0 to 59.
    seed : int
        Seed of the run.
    rate_per_s : float
        Requests per second to ``thumbnail`` (1 in the lesson's hour), above 0 and at most 100.
    """
    if isinstance(memory_after_mb, bool) or not isinstance(memory_after_mb, int | np.integer):
        raise ValueError(f"memory_after_mb must be a whole number of MB, got {memory_after_mb!r}")
    number("memory_after_mb", memory_after_mb, ERAS["today"].memory_min_mb,
           ERAS["today"].memory_max_mb)
    at_min = number("update_at_min", update_at_min, 0.0, LESSON6["until_s"] / 60 - 1)
    sim = Simulation(era=LESSON6["era"], seed=seed)
    sim.add_function(FUNCTION, memory_mb=LESSON6["memory_before_mb"],
                     timeout_s=LESSON6["timeout_s"], cpu_s=LogNormal(median=0.15, sigma=0.25),
                     io_s=0.04, memory_used_mb=LogNormal(median=70.0, sigma=0.1))
    rate = number("rate_per_s", rate_per_s, 1e-6, 100.0)
    sim.add_source(Poisson(rate_per_s=rate), target=FUNCTION)
    sim.update_function_configuration(at_min * 60.0, FUNCTION, memory_mb=int(memory_after_mb))
    bucket = S3Bucket(BUCKET)
    sim.add_function(AUDIT, memory_mb=256, duration_s=0.2, handler=trail_reader(bucket))
    sim.add_source(bucket, target=AUDIT)
    sim.add_source(CloudTrailDelivery(bucket, every_s=LESSON6["trail_every_s"]), target=AUDIT)
    return sim


def lesson_result(memory_after_mb: int = 1024, update_at_min: float = 30, *,
                  seed: int = 6) -> Result:
    """Run :func:`lesson_simulation` (same parameters) for an hour and return its result."""
    sim = lesson_simulation(memory_after_mb, update_at_min, seed=seed)
    return sim.run(until_s=LESSON6["until_s"])


def _rows(result: Result, function: str) -> pd.DataFrame:
    inv = result.invocations
    if function not in set(result.functions["function"]):
        raise ValueError(f"no function named {function!r}; functions: "
                         f"{list(result.functions['function'])}")
    inv = inv[inv["function"] == function]
    return inv[~inv["status"].isin(["throttled", "dropped"])]


def before_after(result: Result, at_s: float, function: str = FUNCTION) -> pd.DataFrame:
    """Requests of ``function`` that started before and from ``at_s``, side by side.

    Returns
    -------
    DataFrame
        Index ``before``, ``after``; columns ``invocations``, ``timeouts``, ``cold_starts``,
        ``duration_p50_ms``, ``duration_p99_ms``, ``mean_billed_ms``.
    """
    at_s = number("at_s", at_s, 0.0, math.inf)
    ran = _rows(result, function)
    rows = {}
    for label, part in (("before", ran[ran["start_s"] < at_s]),
                        ("after", ran[ran["start_s"] >= at_s])):
        d = part["duration_ms"].to_numpy(dtype=float)
        p50, p99 = (np.percentile(d, (50, 99)) if len(d) else (np.nan, np.nan))
        rows[label] = {"invocations": len(part),
                       "timeouts": int((part["status"] == "timeout").sum()),
                       "cold_starts": int(part["cold"].sum()), "duration_p50_ms": float(p50),
                       "duration_p99_ms": float(p99),
                       "mean_billed_ms": float(part["billed_ms"].mean()) if len(part) else np.nan}
    return pd.DataFrame.from_dict(rows, orient="index")


def change_seen_at(result: Result, function: str = FUNCTION,
                   action: str = "UpdateFunctionConfiguration") -> float:
    """When the audit function started on the trail file that records ``action`` on
    ``function`` (simulated s), or NaN if no such file reached it during the run.

    Read from the audit function's outputs (what :func:`~simlab.aws.cloudtrail.trail_reader`
    returned).
    """
    inv = result.invocations
    if "output" not in inv.columns:
        return math.nan
    audit = inv[(inv["function"] == AUDIT) & inv["output"].notna()]
    seen = [float(t) for t, out in zip(audit["start_s"], audit["output"], strict=True)
            if any(c["action"] == action and c["functionName"] == function
                   for c in out.get("changes", []))]
    return min(seen) if seen else math.nan


# -- REPORT lines --------------------------------------------------------------------------------
def report_figure(logs: LogView, timeout_s: float = LESSON6["timeout_s"], *,
                  fig: Figure | None = None) -> Figure:
    """Every REPORT line of ``logs`` as a dot: its Duration against its Max Memory Used, with the
    configured Memory Size and the timeout as lines, timed-out requests (Duration at the timeout)
    in their own colour.

    Parameters
    ----------
    logs : LogView
        The lines to read (a function's logs, or a part of them from :meth:`LogView.filter`).
    timeout_s : float
        The function's timeout (s), > 0: the REPORT line does not carry it.
    fig : Figure, optional
        Draw on this figure (cleared first); a new 9 x 4 in figure by default.
    """
    timeout_ms = 1000 * number("timeout_s", timeout_s, 1e-9, 900.0)
    reports = logs.reports()
    if reports.empty:
        raise ValueError("logs must hold at least one REPORT line")
    if fig is None:
        fig = Figure(figsize=(9.0, 4.0), layout="constrained")
    fig.clear()
    ax = fig.subplots()
    cut = reports["duration_ms"] >= timeout_ms - 0.5
    for part, color, label in ((reports[~cut], plots.COLORS["ok"], "finished"),
                               (reports[cut], plots.COLORS["timeout"],
                                "timed out (Duration = timeout)")):
        ax.plot(part["max_memory_used_mb"], part["duration_ms"], ls="", marker="o", ms=3,
                alpha=0.5, color=color, label=f"{label}: {len(part):,}")
    sizes = sorted(set(reports["memory_size_mb"]))
    for size in sizes:
        ax.axvline(size, color="0.35", ls="--", lw=1.2, label=f"Memory Size {size:,} MB")
    ax.axhline(timeout_ms, color=plots.COLORS["timeout"], ls=":", lw=1.2,
               label=f"timeout ({timeout_ms / 1000:g} s)")
    ax.set_xlim(0, max(sizes[-1], float(reports["max_memory_used_mb"].max())) * 1.1)
    ax.set_ylim(0, timeout_ms * 1.15)
    ax.set_xlabel("Max Memory Used (MB)")
    ax.set_ylabel("Duration (ms)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    ax.set_title(f"{len(reports):,} REPORT lines: how long each request ran, and how much memory "
                 f"it used", fontsize="medium")
    return fig


# -- the metrics dashboard -------------------------------------------------------------------
_LINES = (("Invocations_Sum", "Invocations", plots.OKABE_ITO["blue"], "-"),
          ("Errors_Sum", "Errors", plots.COLORS["error"], "-"),
          ("Throttles_Sum", "Throttles", plots.COLORS["throttled"], "-"),
          ("ColdStarts_Sum", "cold starts (from Init Duration)", plots.OKABE_ITO["sky_blue"], "--"))


def _mark_changes(axes: list[Axes], result: Result, function: str) -> None:
    trail = trail_frame(result)
    changes = trail[(trail["function"] == function) & (trail["action"] != "CreateFunction")]
    for _, row in changes.iterrows():
        for ax in axes:
            ax.axvline(row["time_s"] / 60, color="0.35", ls="--", lw=1)
        what = row["request_parameters"].replace('"functionName":"' + function + '",', "")
        axes[1].annotate(f"{row['action']}\n{what}", (row["time_s"] / 60, 0.6),
                         xycoords=("data", "axes fraction"), xytext=(4, 0),
                         textcoords="offset points", va="top", fontsize="small", color="0.25")


def metrics_figure(result: Result, function: str = FUNCTION, period_s: float = 60.0, *,
                   fig: Figure | None = None) -> Figure:
    """The CloudWatch dashboard of ``function``: three panels per ``period_s``, against time.

    Top: Invocations, Errors, Throttles (and cold starts) per period. Middle: Duration, p99 and
    average, with the timeout. Bottom: ConcurrentExecutions (Maximum). Dashed lines: the
    configuration changes of ``function`` in the run's trail.

    Parameters
    ----------
    result : Result
        A run with one row per invocation (``record="all"``).
    function : str
        The function to show.
    period_s : float
        Metric period (s), > 0: 60 is CloudWatch's standard resolution.
    fig : Figure, optional
        Draw on this figure (cleared first); a new 9 x 6.6 in figure by default.
    """
    period_s = number("period_s", period_s, 1e-9, math.inf)
    _rows(result, function)  # checks the function
    wide = to_wide(result.metrics(period_s))
    w = wide[wide["function"] == function].sort_values("period_start_s")
    # Each step holds its value over its whole period: repeat the last value at the period's end.
    w = pd.concat([w, w.tail(1).assign(period_start_s=w["period_start_s"].max() + period_s)])
    minutes = w["period_start_s"].to_numpy(dtype=float) / 60
    if fig is None:
        fig = Figure(figsize=(9.0, 6.6))
    fig.clear()
    axes = list(fig.subplots(3, 1, sharex=True))
    fig.subplots_adjust(left=0.09, right=0.74, top=0.94, bottom=0.08, hspace=0.12)
    top, mid, low = axes
    for column, label, color, ls in _LINES:
        top.step(minutes, w[column], where="post", color=color, ls=ls, lw=1.3, label=label)
    top.set_ylabel(f"requests\nper {period_s:g} s")
    mid.step(minutes, w["Duration_p99"], where="post", color=plots.OKABE_ITO["blue"], lw=1.3,
             label="Duration p99")
    mid.step(minutes, w["Duration_Average"], where="post", color=plots.OKABE_ITO["sky_blue"],
             lw=1.3, label="Duration average")
    timeout_ms = 1000 * float(result.functions.set_index("function").loc[function, "timeout_s"])
    mid.axhline(timeout_ms, color=plots.COLORS["timeout"], ls=":", lw=1.2,
                label=f"timeout ({timeout_ms / 1000:g} s)")
    mid.set_ylabel("Duration (ms)")
    mid.set_ylim(0, timeout_ms * 1.15)
    low.step(minutes, w["ConcurrentExecutions_Maximum"], where="post",
             color=plots.OKABE_ITO["bluish_green"], lw=1.3, label="ConcurrentExecutions (max)")
    low.set_ylabel("environments")
    low.set_xlabel("time since the start of the run (min)")
    low.set_xlim(0, minutes[-1])
    for ax in axes:
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    _mark_changes(axes, result, function)
    fig.suptitle(f"CloudWatch metrics of {function!r} (AWS/Lambda), one point per "
                 f"{period_s:g} s", fontsize="medium")
    return fig


# -- the dashboard -----------------------------------------------------------------------------
@dataclass(frozen=True)
class MonitoringView:
    """What :func:`monitoring_view` computed."""

    result: Result
    update_at_s: float
    memory_after_mb: int
    table: pd.DataFrame  #: :func:`before_after` at the change
    seen_at_s: float  #: when ``audit`` started on the change's record (NaN: after the run)


def monitoring_view(memory_after_mb: int = 1024, update_at_min: int = 30, *,
                    seed: int = 6) -> tuple[MonitoringView, Figure]:
    """The lesson's dashboard as a pure function: run the story with another change, draw it.

    Parameters
    ----------
    memory_after_mb : int
        Memory after the change (MB), 128 to 10,240.
    update_at_min : int
        When the change is made (min), 0 to 59.
    seed : int
        Seed of the run.

    Returns
    -------
    (MonitoringView, matplotlib.figure.Figure)
    """
    result = lesson_result(memory_after_mb, update_at_min, seed=seed)
    at_s = float(update_at_min) * 60.0
    view = MonitoringView(result=result, update_at_s=at_s, memory_after_mb=int(memory_after_mb),
                          table=before_after(result, at_s), seen_at_s=change_seen_at(result))
    return view, metrics_figure(result)


def monitoring_readout(view: MonitoringView) -> str:
    """One line: timeouts before and after the change, and when its record reached ``audit``."""
    t = view.table
    seen = ("its trail record reached <i>audit</i> after the run ended"
            if math.isnan(view.seen_at_s) else
            f"its trail record reached <i>audit</i> {(view.seen_at_s - view.update_at_s) / 60:.1f}"
            f" min later")
    return (f"memory 128 → {view.memory_after_mb} MB at {view.update_at_s / 60:g} min: "
            f"<b>timeouts {int(t.loc['before', 'timeouts'])} before, "
            f"{int(t.loc['after', 'timeouts'])} after</b>; <b>Duration p99 "
            f"{t.loc['before', 'duration_p99_ms']:,.0f} → {t.loc['after', 'duration_p99_ms']:,.0f}"
            f" ms</b>; {seen}")


def filter_log_events(logs: LogView, pattern: str, max_items: int = 2) -> dict[str, Any]:
    """What ``aws logs filter-log-events --log-group-name <group> --filter-pattern <pattern>``
    prints for these logs: the API's JSON response, ``{"events": [...]}``.

    Each event has its ``logStreamName``, ``timestamp`` (ms since 1970, UTC) and ``message``, in
    time order; only the first ``max_items`` are kept. ``pattern`` is matched as
    :meth:`LogView.filter` does (a substring), as a quoted CloudWatch filter pattern matches a
    phrase. AWS also gives each event an ``ingestionTime`` and an ``eventId``, and a
    ``nextToken`` when more events match than it returns; simlab has no ingestion, so they are
    left out.
    """
    max_items = int(number("max_items", max_items, 1, 10_000))
    hits = logs.filter(pattern=pattern).df.head(max_items)
    return {"events": [{"logStreamName": row.log_stream, "timestamp": int(row.timestamp_ms),
                        "message": row.message} for row in hits.itertuples()]}


def monitoring_dashboard(show: bool = True, **defaults: Any) -> Any:
    """Sliders for the memory after the change and its time over :func:`monitoring_view`, with
    a Run button (a run and its figure take about 0.3 s).

    ``defaults`` may set ``memory_after_mb`` and ``update_at_min``.
    """
    import ipywidgets as w

    from simlab.course.widgets import check_defaults, dashboard, memory_slider

    check_defaults(defaults, ("memory_after_mb", "update_at_min"))
    memory = memory_slider(defaults.get("memory_after_mb", 1024), era="today", step=32)
    memory.description = "memory after (MB)"
    at = w.IntSlider(value=defaults.get("update_at_min", 30), min=0,
                     max=int(LESSON6["until_s"] / 60) - 1, step=1, description="change at (min)")
    return dashboard(monitoring_view, {"memory_after_mb": memory, "update_at_min": at},
                     readout=monitoring_readout, run_button=True, show=show)


# -- exercises -----------------------------------------------------------------------------------
def _thumbnail_ran() -> tuple[pd.DataFrame, float]:
    return _rows(lesson_result(), FUNCTION), LESSON6["update_at_min"] * 60.0


def _cold_after_feedback(answer: float, expected: float) -> str | None:
    result = lesson_result()
    at = LESSON6["update_at_min"] * 60.0
    inv = result.invocations
    ran = ~inv["status"].isin(["throttled", "dropped"])
    every = int((inv["cold"] & ran & (inv["end_s"] >= at)).sum())
    if answer == every and every != expected:
        return ("That counts the audit function's log group too: read result.logs('thumbnail') "
                "only.")
    if answer == int(_rows(result, FUNCTION)["cold"].sum()):
        return "That is the whole run: keep only the events from 00:30:00 on (start_s=...)."
    return None


@exercise("06-cold-starts-after-update", tolerance=0.5, hints=(
    "A cold start is a REPORT line that carries 'Init Duration'.",
    "result.logs('thumbnail').filter(...) takes a pattern and a start_s (simulated seconds).",
    "Count the REPORT lines with 'Init Duration' in thumbnail's log group only, from "
    "start_s = 30 * 60 on.",
), why="An update replaces every idle environment of the old configuration, so the minutes after "
        "it start cold: a cost of changing a function in production.",
   feedback=_cold_after_feedback)
def _cold_starts_after_update() -> float:
    ran, at = _thumbnail_ran()
    return float((ran["cold"] & (ran["end_s"] >= at)).sum())


def _p99_outcome() -> tuple[str, str]:
    ran, at = _thumbnail_ran()
    before = float(np.percentile(ran.loc[ran["end_s"] < at, "duration_ms"], 99))
    after = float(np.percentile(ran.loc[ran["end_s"] >= at + 60.0, "duration_ms"], 99))
    key = "a" if after > 2000 else "b" if after > 1000 else "c" if after > 250 else "d"
    return key, (f"the 99th percentile of Duration is {after:,.0f} ms from 00:31:00 on, against "
                 f"{before:,.0f} ms before the change.")


prediction("06-p99-duration-after-update", outcome=_p99_outcome, options={
    "a": "The old 99th percentile was the 3 s timeout itself; with 8 times the CPU share the slow "
         "requests now finish long before it.",
    "b": "Eight times the memory is eight times the CPU share: the CPU-bound part runs eight "
         "times faster, not twice.",
    "c": "",
    "d": "Only the CPU-bound part speeds up, and the slowest requests stay several times slower "
         "than the median.",
}, hints=(
    "Before the change the slowest requests hit the 3 s timeout; what does 1,024 MB change?",
    "CPU share grows in proportion to memory below 1,769 MB: divide the CPU-bound part of a slow "
    "request by eight.",
), why="With 8 times the memory the function gets 8 times the CPU share: its CPU-bound part runs "
       "8 times faster and nothing comes near the timeout.")


explanation("06-max-concurrency-before-update", review=(
    "does it give both maxima you read, explain the difference with arrival rate and duration "
    "(Little's law), and draw a consequence for a reserved concurrency?"), hints=(
    "result.metrics() is tidy; simlab.core.metrics.to_wide gives a "
    "ConcurrentExecutions_Maximum column per function and minute.",
    "The requests arrive as before; what changed is how long each one holds its environment. "
    "Concurrency is arrival rate times duration.",
))


def _delay_feedback(answer: float, expected: float) -> str | None:
    every_min = LESSON6["trail_every_s"] / 60
    if abs(answer - every_min) < 0.1 and abs(expected - every_min) >= 0.1:
        return ("A trail does not wait 5 minutes after each call: it cuts files at fixed "
                "5-minute boundaries from t = 0 (00:00, 00:05, ...).")
    if answer < 0.1:
        return "The audit function only runs when the file that holds the record lands in S3."
    return None


def _delay_outcome() -> tuple[float, str]:
    late = _trail_delay_at_32_min()
    return late, (f"audit started on the file that records the 00:32 change {late:.2f} minutes "
                  f"after the call.")


prediction("06-trail-delay-at-32-min", outcome=_delay_outcome, tolerance=0.5, unit="min", hints=(
    "The trail cuts its files at fixed 5-minute boundaries from t = 0 (00:00, 00:05, ...).",
    "Which boundary closes the file that holds a 00:32 call? Add a few seconds for S3's "
    "notification and the function's start.",
), why="CloudTrail delivers a file at the end of each 5-minute window, so a change waits between "
       "0 and 5 minutes (plus S3's notification and an INIT) before an automation sees it.",
   feedback=_delay_feedback)


def _trail_delay_at_32_min() -> float:
    return (change_seen_at(lesson_result(update_at_min=32)) - 32 * 60.0) / 60.0


# -- lesson 6, exercise 3: size the fix from the REPORT lines --------------------------------------
#: Exercise 06-memory-for-half-the-timeout: the goal on the 99th percentile of Duration in the
#: REPORT lines from ``from_s`` on, the run-to-run noise allowed on it, and how much memory above
#: the least that meets it is accepted.
SIZING: dict[str, float] = {"p99_goal_ms": 1500.0, "noise": 0.02, "spare": 0.25,
                            "from_s": 31 * 60.0}


def _durations_after_fix(memory_after_mb: int) -> pd.Series:
    """``thumbnail``'s REPORT Durations (ms) from 00:31 on, in the lesson's run with
    ``memory_after_mb`` from 00:30."""
    logs = lesson_result(memory_after_mb).logs(FUNCTION).filter(start_s=SIZING["from_s"])
    return logs.reports()["duration_ms"]


def p99_after_fix(memory_after_mb: int) -> float:
    """99th percentile of ``thumbnail``'s REPORT Durations (ms) from 00:31 on, in the lesson's run
    with ``memory_after_mb`` from 00:30."""
    return float(np.percentile(_durations_after_fix(memory_after_mb), 99))


@functools.cache
def _least_memory() -> int:
    """The least memory (whole MB) whose run meets :data:`SIZING`'s goal (bisection: Duration
    falls as memory grows, with the same draws)."""
    low, high = LESSON6["memory_before_mb"], LESSON6["memory_after_mb"]
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if p99_after_fix(mid) <= SIZING["p99_goal_ms"] else (mid, high)
    return high


def _verify_memory(answer: Any) -> tuple[bool, str]:
    if isinstance(answer, bool) or not isinstance(answer, int | np.integer):
        raise ValueError(f"give the memory as a whole number of MB (Lambda takes whole MB), got "
                         f"{answer!r}")
    mb = int(answer)
    durations = _durations_after_fix(mb)
    p99 = float(np.percentile(durations, 99))
    goal, least = SIZING["p99_goal_ms"], _least_memory()
    said = f"with {mb:,} MB the REPORT lines from 00:31 on give a p99 of {p99:,.0f} ms"
    if p99 > goal * (1 + SIZING["noise"]):
        typical = float(durations.median())
        why = (": the typical request meets the goal, but the goal is on the slowest percent, "
               "which runs nearly twice as long" if typical <= goal else "")
        return False, f"{said}, above the goal of {goal:,.0f} ms{why}"
    if mb > least * (1 + SIZING["spare"]):
        return False, (f"{said}, within the goal, but that is more than a quarter above the least "
                       f"memory that meets it: past the goal, memory buys speed nobody asked "
                       f"for, and the I/O wait is billed at the higher rate")
    return True, (f"{said} (the goal: at most {goal:,.0f} ms, half the timeout), with less than "
                  f"a quarter of memory to spare")


design("06-memory-for-half-the-timeout", verify=_verify_memory, reference=_least_memory,
       unit="MB", hints=(
           "Exercise 2's check printed the p99 of Duration at 1,024 MB. How does Duration change "
           "when the memory changes?",
           "Below 1,769 MB the CPU share is proportional to memory, and this function's time is "
           "mostly CPU: Duration scales about as 1 / memory. Solve p99 x 1,024 / memory = 1,500.",
       ), why="Memory buys CPU in proportion: the REPORT lines of one run give the slowest "
              "requests' Duration, and dividing it by the ratio of memories sizes the next "
              "configuration, with no need to try every size.")


# -- lesson 6b, exercise 2: a reservation for the faster function ---------------------------------
#: Exercise 06-reserve-after-the-fix: the reservation is set at ``at_s`` with the memory change,
#: for the traffic forecast, ``rate_per_s`` (three times the lesson's); the goal on the throttled
#: share of the requests from then on, and how many environments above the least reservation that
#: meets it are accepted.
RESERVING: dict[str, float] = {"at_s": 1800.0, "rate_per_s": 3.0, "max_throttled": 0.001,
                               "spare": 2}


def throttled_after_fix(reserved: int) -> tuple[int, int]:
    """(throttled, arrived) requests of ``thumbnail`` from 00:30 on, in the lesson's run at the
    forecast traffic (:data:`RESERVING` ``["rate_per_s"]``) with a reserved concurrency of
    ``reserved`` set at 00:30, with the memory change."""
    if isinstance(reserved, bool) or not isinstance(reserved, int | np.integer):
        raise ValueError(f"give the reservation as a whole number of environments, got "
                         f"{reserved!r}")
    reserved = int(number("reserved", reserved, 0, 900))
    sim = lesson_simulation(rate_per_s=RESERVING["rate_per_s"])
    sim.put_function_concurrency(RESERVING["at_s"], FUNCTION, reserved)
    inv = sim.run(until_s=LESSON6["until_s"]).invocations
    after = inv[(inv["function"] == FUNCTION) & (inv["arrival_s"] >= RESERVING["at_s"])]
    return int((after["status"] == "throttled").sum()), len(after)


def _meets_reservation_goal(reserved: int) -> bool:
    throttled, arrived = throttled_after_fix(reserved)
    return throttled <= RESERVING["max_throttled"] * arrived


@functools.cache
def _least_reservation() -> int:
    reserved = 1
    while not _meets_reservation_goal(reserved):
        reserved += 1
    return reserved


@functools.cache
def _busiest_today() -> int:
    """The highest ConcurrentExecutions (Maximum) of ``thumbnail`` in a minute after the change, in
    the lesson's hour at today's traffic (what exercise 1 reads)."""
    wide = to_wide(lesson_result().metrics(60))
    thumb = wide[wide["function"] == FUNCTION]
    return int(thumb.loc[thumb["period_start_s"] >= RESERVING["at_s"] + 60,
                         "ConcurrentExecutions_Maximum"].max())


def _verify_reservation(answer: Any) -> tuple[bool, str]:
    throttled, arrived = throttled_after_fix(answer)
    n = int(answer)
    said = (f"with a reservation of {n}, at three times today's traffic, {throttled:,} of the "
            f"{arrived:,} requests from 00:30 on were throttled")
    today = _busiest_today()
    if throttled > RESERVING["max_throttled"] * arrived:
        if n == 0:
            why = ": a reservation of 0 stops the function altogether"
        elif n <= 1:
            why = (": 1 is about the average concurrency (arrival rate times duration), but a "
                   "reservation must hold the busiest moments, not the average")
        elif n <= today:
            why = (f": {today} environments held the busiest moments at today's one request a "
                   f"second; at three, more requests are in flight at once, and today's Maximum "
                   f"no longer says how many")
        else:
            why = (f": at this load a limit of {n} environments is reached more often than "
                   f"that; Erlang B gives the share it throttles")
        return False, f"{said}, more than 1 in 1,000{why}"
    if n > _least_reservation() + RESERVING["spare"]:
        why = (f"; {n} is three times today's Maximum, but the busiest moments grow less than "
               f"the load: random overlaps of many requests are rarer than of a few"
               if n == 3 * today else "")
        return False, (f"{said}, which meets the goal, but the reservation holds more than 2 "
                       f"environments above the least that does: concurrency the account's other "
                       f"functions can no longer use{why}")
    return True, f"{said} (the goal: at most 1 in 1,000), with at most 2 environments to spare"


design("06-reserve-after-the-fix", verify=_verify_reservation, reference=_least_reservation,
       hints=(
           "A reservation is a ceiling: a request that finds it reached is throttled. The Maximum "
           "of ConcurrentExecutions you read in exercise 1 holds today's traffic; what does a "
           "limit of n environments throttle at three times the load?",
           "Erlang B (lesson 2b) gives the share of requests a limit of n "
           "environments throttles at an offered load a = arrival rate × mean duration. Read the "
           "mean Duration after the change from the metrics, then find the least n whose share "
           "is under 1 in 1,000.",
       ), why="A reservation is sized on the busiest moments, and for traffic that has not come "
              "yet the Maximum of one day cannot say how they grow: Erlang B can. At three "
              "times the load the busiest moments grow by less than three times, so tripling "
              "today's Maximum over-reserves and keeping it throttles.")
