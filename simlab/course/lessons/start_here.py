"""Lesson 0: start here. What a serverless platform does for you, and what an application is.

On a serverless platform such as AWS Lambda you hand over *code* and say which *events* should run
it; the platform does the rest. It plans capacity, provisions machines, scales from zero to
thousands of copies and back, and patches the operating system and the language runtime. In
exchange you give up control of the platform: a request may wait for a cold start, every function
lives within limits (memory, run time, payload size, concurrency), and nothing stays on the
machine between requests for sure.

The anatomy of a serverless application fits in three words: **code, event, output**. This lesson
runs a real Python handler, :func:`word_count_handler`, on S3 events: each text file uploaded to a
bucket invokes it with an event that names the bucket and the (URL-encoded) key; the handler reads
the file, counts its words, prints a line and returns a small JSON document. The run is then read
the way an operator reads a real one: the events received, the return values, the CloudWatch logs
(START, the handler's own lines, END, REPORT) and the bill.

* :func:`lesson_run` runs the story and returns the result with the events the handler received;
* :func:`trimmed_event` keeps the fields of an S3 event worth reading;
* :func:`limits_table` lists the platform's limits from :data:`simlab.core.config.ERAS`;
* :func:`scaling_view` (pure) and :func:`scaling_dashboard` (sliders): the platform following a
  bursty load, environments created and reclaimed without anyone asking.

The exercises ``00-...`` are registered with :mod:`simlab.course.exercises` when this module is
imported.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simlab.aws.simulation import Simulation
from simlab.aws.sources import Bursty, S3Bucket
from simlab.core import billing, plots
from simlab.core.config import ERAS
from simlab.core.dists import LogNormal
from simlab.core.result import Result
from simlab.core.validate import number, whole
from simlab.course.exercises import explanation, prediction
from simlab.course.lessons.event_payloads import trim
from simlab.course.widgets import format_number

__all__ = [
    "LESSON0", "FUNCTION", "DOCUMENTS", "word_count_handler", "LessonRun", "lesson_simulation",
    "lesson_run", "uploads_table", "trimmed_event", "output_for", "limits_table",
    "ScalingView", "scaling_run", "scaling_view", "scaling_readout", "scaling_dashboard",
]  # fmt: skip

#: The lesson's settings (the notebook prints them).
LESSON0: dict[str, Any] = {
    "era": "today", "seed": 0, "bucket": "course-notes", "memory_mb": 128, "until_s": 3600.0,
    "duration_median_s": 0.12, "duration_sigma": 0.25,
}  # fmt: skip
#: The function's name.
FUNCTION = "word-count"

#: The files uploaded during the hour: (time in s, key, text). Keys with spaces and ``&`` show
#: S3's URL-encoding; two files land 50 ms apart, so the second needs a second environment.
DOCUMENTS: tuple[tuple[float, str, str], ...] = (
    (60.0, "notes/shopping list.txt", "eggs milk bread coffee apples rice"),
    (95.0, "notes/todo.txt",
     "call the dentist, renew the passport, water the plants, back up the laptop"),
    (300.0, "reports/2026 q1 summary.txt",
     "Revenue grew in every region this quarter. Costs stayed flat, so the margin improved. "
     "The serverless migration removed three servers from the budget."),
    (300.05, "reports/budget.txt", "servers 0 functions 12 storage 3 support 5"),
    (900.0, "notes/meeting minutes.txt",
     "Present: Ana, Ben, Chloe. Decided to move the thumbnail service to Lambda next month. Ben "
     "checks the memory setting with a power-tuning run; Chloe writes the alarms. Next meeting "
     "on Friday."),
    (1000.0, "poems/haiku.txt", "an old silent pond / a frog jumps into the pond / splash! "
     "silence again"),
    (2400.0, "notes/ideas & plans.txt",
     "learn queueing theory, measure cold starts, write the lab report"),
    (2520.0, "notes/reading.txt",
     "Little's law holds for any queue that is stable over a long run"),
)


def word_count_handler(bucket: S3Bucket) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The lesson's function: count the words of each text file uploaded to ``bucket``.

    On Lambda the S3 client would be ``boto3.client("s3")``, made once outside the handler; here
    it is the simulated bucket, whose :meth:`~simlab.aws.sources.S3Bucket.get_object` returns the
    file's bytes. Lambda calls the returned ``handler(event, context)`` once per event.
    """

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        record = event["Records"][0]  # S3 sends one record per event
        bucket_name = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])  # "red+flower.jpg" -> "red flower.jpg"
        text = bucket.get_object(key).decode("utf-8")
        words = len(text.split())
        print(f"counted {words} words in s3://{bucket_name}/{key}")
        return {"bucket": bucket_name, "key": key, "words": words}

    return handler


@dataclass(frozen=True)
class LessonRun:
    """The lesson's run: the result and the events the handler received, in order."""

    result: Result
    events: tuple[dict[str, Any], ...]


def _recording(handler: Callable[[dict[str, Any], Any], Any],
               events: list[dict[str, Any]]) -> Callable[[dict[str, Any], Any], Any]:
    """``handler``, keeping a copy of every event it receives in ``events``."""

    def recorded(event: dict[str, Any], context: Any) -> Any:
        events.append(copy.deepcopy(event))
        return handler(event, context)

    return recorded


def lesson_simulation(*, seed: int = 0,
                      events: list[dict[str, Any]] | None = None) -> Simulation:
    """The lesson's simulation, ready to run for :data:`LESSON0` ``["until_s"]``.

    ``word-count`` (128 MB, today's rules, runs a log-normal 0.12 s) is notified by the bucket
    ``course-notes``, into which the files of :data:`DOCUMENTS` are uploaded.

    Parameters
    ----------
    seed
        Seed of the run (durations and INIT times), 0 to 2**32 - 1.
    events
        If given, every event the handler receives is appended to this list.
    """
    seed = whole("seed", seed, 0, 2**32 - 1)
    if events is not None and not isinstance(events, list):
        raise TypeError(f"events must be a list (to collect the events) or None, got {events!r}")
    bucket = S3Bucket(LESSON0["bucket"], uploads=[(t, key, None, text.encode("utf-8"))
                                                  for t, key, text in DOCUMENTS])
    handler = word_count_handler(bucket)
    if events is not None:
        handler = _recording(handler, events)
    sim = Simulation(era=LESSON0["era"], seed=seed)
    sim.add_function(FUNCTION, memory_mb=LESSON0["memory_mb"], timeout_s=3,
                     duration_s=LogNormal(median=LESSON0["duration_median_s"],
                                          sigma=LESSON0["duration_sigma"]),
                     handler=handler)
    sim.add_source(bucket, target=FUNCTION)
    return sim


def lesson_run(*, seed: int = 0) -> LessonRun:
    """Run :func:`lesson_simulation` for an hour; return the result and the events received."""
    events: list[dict[str, Any]] = []
    result = lesson_simulation(seed=seed, events=events).run(until_s=LESSON0["until_s"])
    return LessonRun(result=result, events=tuple(events))


def uploads_table() -> pd.DataFrame:
    """The uploads of :data:`DOCUMENTS`: ``time_s``, ``key``, ``size_bytes``, ``words``."""
    return pd.DataFrame([(t, key, len(text.encode("utf-8")), len(text.split()))
                         for t, key, text in DOCUMENTS],
                        columns=["time_s", "key", "size_bytes", "words"])


#: The fields of an S3 event :func:`trimmed_event` keeps.
_EVENT_FIELDS = ("Records.0.eventSource", "Records.0.eventTime", "Records.0.eventName",
                 "Records.0.s3.bucket.name", "Records.0.s3.object.key",
                 "Records.0.s3.object.size")


def trimmed_event(event: dict[str, Any]) -> dict[str, Any]:
    """The S3 event with only the fields worth reading; each level that lost fields says how
    many (``"...": "n more keys"``)."""
    if not isinstance(event, dict) or "Records" not in event:
        raise ValueError(f"event must be an S3 event with 'Records', got {event!r:.80}")
    return trim(event, _EVENT_FIELDS)


def output_for(run: LessonRun, key: str) -> Any:
    """What the handler returned for the upload of ``key`` (its ``output``)."""
    inv = run.result.invocations
    outputs = [out for out in inv["output"] if isinstance(out, dict) and out.get("key") == key]
    if not outputs:
        keys = [k for _, k, _ in DOCUMENTS]
        raise ValueError(f"no output for key {key!r}; keys: {keys}")
    return outputs[0]


def limits_table(era: str = "today") -> pd.DataFrame:
    """The limits you accept on a serverless platform, from the rules of ``era``.

    Returns
    -------
    pandas.DataFrame
        One row per limit: ``limit``, ``value``, ``what it means``.
    """
    if era not in ERAS:
        raise ValueError(f"era must be one of {sorted(ERAS)}, got {era!r}")
    r = ERAS[era]
    ka = getattr(r.keep_alive, "ttl_s", None)
    rows = [
        ("memory", f"{r.memory_min_mb:,} to {r.memory_max_mb:,} MB",
         "also sets the CPU share: 1,769 MB buys one vCPU"),
        ("run time per request", f"at most {r.timeout_max_s / 60:g} min",
         "longer work must be split or moved off Lambda"),
        ("concurrency", f"{r.account_concurrency:,} environments per account and region",
         "requests beyond it are throttled (raised on request)"),
        ("idle environments kept", "not guaranteed" if ka is None else f"about {ka / 60:g} min",
         "after that the next request is a cold start"),
        ("environment lifetime", f"about {r.max_lifetime_s / 3600:g} h",
         "recycled even when busy: keep no state in memory or /tmp for long"),
        ("billing", f"per request, and per {r.billing_granularity_ms:g} ms of run time",
         "you pay for use, not for idle servers"),
    ]
    return pd.DataFrame(rows, columns=["limit", "value", "what it means"])


# -- the dashboard: the platform scales for you ----------------------------------------------------
@dataclass(frozen=True)
class ScalingView:
    """What :func:`scaling_view` computed."""

    result: Result
    peak_per_min: float
    requests: int
    environments_created: int
    peak_environments: int
    cold_start_fraction: float
    cost_per_million_usd: float


def scaling_run(peak_per_min: float = 300.0, duration_s: float = 1.0, *,
                seed: int = 0) -> Result:
    """An hour of bursty uploads: 10 busy minutes at ``peak_per_min`` uploads per minute, then
    10 quiet minutes at a twentieth of it, three times over. Each upload invokes ``word-count``
    asynchronously, as S3 does, and runs ``duration_s`` (log-normal around it); the handler's
    code is left out so that thousands of uploads run fast.

    Parameters
    ----------
    peak_per_min
        Uploads per minute in the busy periods, 1 to 1,200.
    duration_s
        Median run time of one upload (s), 0.01 to 60.
    seed
        Seed of the run.
    """
    peak = number("peak_per_min", peak_per_min, 1.0, 1200.0)
    median = number("duration_s", duration_s, 0.01, 60.0)
    seed = whole("seed", seed, 0, 2**32 - 1)
    rate = peak / 60.0
    sim = Simulation(era=LESSON0["era"], seed=seed)
    sim.add_function(FUNCTION, memory_mb=LESSON0["memory_mb"], timeout_s=900,
                     duration_s=LogNormal(median=median, sigma=LESSON0["duration_sigma"]))
    sim.add_source(Bursty(on_rate_per_s=rate, on_s=600.0, off_s=600.0, off_rate_per_s=rate / 20,
                          invocation_type="async"), target=FUNCTION)
    return sim.run(until_s=3600.0)


def _alive_steps(envs: pd.DataFrame, until_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Times and counts of environments alive (created, not yet ended): a step function."""
    t = np.concatenate([envs["created_s"].to_numpy(float),
                        np.minimum(envs["ended_s"].to_numpy(float), until_s)])
    step = np.concatenate([np.ones(len(envs)), -np.ones(len(envs))])
    order = np.lexsort((step, t))  # at equal times, ends before starts
    return np.concatenate([[0.0], t[order], [until_s]]), np.concatenate(
        [[0.0], np.cumsum(step[order]), [np.sum(step)]])


def _per_bin_mean(t: np.ndarray, level: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Time average in each bin of ``edges`` of a step function worth ``level[i]`` from ``t[i]``
    to ``t[i + 1]``."""
    area = np.concatenate([[0.0], np.cumsum(level[:-1] * np.diff(t))])
    return np.diff(np.interp(edges, t, area)) / np.diff(edges)


def scaling_view(peak_per_min: float = 300.0, duration_s: float = 1.0, *,
                 seed: int = 0) -> tuple[ScalingView, Figure]:
    """The lesson's dashboard as a pure function: run :func:`scaling_run` and draw it.

    Top: uploads per minute. Bottom: environments alive (created and not yet reclaimed) and
    environments busy, over the hour. Nobody configured a server: the platform creates
    environments when uploads come faster and reclaims them after the keep-alive.

    Parameters
    ----------
    peak_per_min, duration_s, seed
        As in :func:`scaling_run`.

    Returns
    -------
    (ScalingView, matplotlib.figure.Figure)
    """
    result = scaling_run(peak_per_min, duration_s, seed=seed)
    inv = result.invocations
    s = result.summary()
    fig = Figure(figsize=(9.0, 5.0))
    top, bottom = fig.subplots(2, 1, sharex=True)
    fig.subplots_adjust(left=0.1, right=0.76, top=0.92, bottom=0.1, hspace=0.12)
    edges = np.arange(0.0, result.until_s + 60.0, 60.0)
    counts, _ = np.histogram(inv["arrival_s"].to_numpy(float), edges)
    top.bar(edges[:-1] / 60, counts, width=1.0, align="edge", color=plots.OKABE_ITO["blue"],
            label="uploads")
    top.set_ylabel("uploads\nper minute")
    t, alive = _alive_steps(result.environments, result.until_s)
    bottom.step(t / 60, alive, where="post", color=plots.OKABE_ITO["sky_blue"], lw=2.0,
                label="alive (busy or idle)")
    busy_t, busy = _alive_steps(pd.DataFrame({
        "created_s": (inv["start_s"] - inv["init_ms"] / 1000).to_numpy(float),
        "ended_s": inv["end_s"].to_numpy(float)}), result.until_s)
    bottom.stairs(_per_bin_mean(busy_t, busy, edges), edges / 60, color=plots.COLORS["busy"],
                  lw=1.2, label="busy (INIT or running),\nmean per minute")
    bottom.set_xlabel("time (min)")
    bottom.set_ylabel("environments")
    bottom.set_xlim(0, result.until_s / 60)
    for ax in (top, bottom):
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    fig.suptitle(f"{format_number(peak_per_min)} uploads/min at the peak, "
                 f"{format_number(duration_s)} s each: the platform follows the load",
                 fontsize="medium")
    cost = billing.total_cost(result.bill(free_tier=False))
    n = int(s["requests"])
    view = ScalingView(result=result, peak_per_min=float(peak_per_min), requests=n,
                       environments_created=int(s["environments_created"]),
                       peak_environments=int(alive.max()),
                       cold_start_fraction=float(s["cold_start_fraction"]),
                       cost_per_million_usd=cost / n * 1e6 if n else math.nan)
    return view, fig


def scaling_readout(view: ScalingView) -> str:
    """One line: requests, environments created and at most alive, cold starts, cost."""
    return (f"{view.requests:,} uploads: <b>{view.environments_created:,} environments "
            f"created</b>, at most {view.peak_environments:,} alive at once; cold starts "
            f"{view.cold_start_fraction:.1%}; cost ${view.cost_per_million_usd:.2f} per million "
            f"uploads")


def scaling_dashboard(show: bool = True, **defaults: Any) -> Any:
    """Sliders for the peak upload rate and the run time over :func:`scaling_view`, with a Run
    button (a run of many uploads takes longer than a quarter of a second).

    ``defaults`` may set ``peak_per_min`` and ``duration_s``.
    """
    from simlab.course.widgets import check_defaults, choice_slider, dashboard, nice_values

    check_defaults(defaults, ("peak_per_min", "duration_s"))
    peak = choice_slider(nice_values(1.0, 1000.0), defaults.get("peak_per_min", 300.0),
                         "peak uploads/min")
    duration = choice_slider(nice_values(0.01, 10.0), defaults.get("duration_s", 1.0),
                             "run time (s)")
    return dashboard(scaling_view, {"peak_per_min": peak, "duration_s": duration},
                     readout=scaling_readout, run_button=True, show=show)


# -- exercises -----------------------------------------------------------------------------------
def _cold_feedback(answer: float, expected: float) -> str | None:
    if answer == len(DOCUMENTS):
        return "Not every request was cold: some found an idle environment waiting."
    if answer == 1:
        return "Look again at the two reports uploaded 50 ms apart, and at the long pauses."
    return None


def _cold_outcome() -> tuple[float, str]:
    inv = lesson_run().result.invocations
    which = ", ".join(str(i + 1) for i in np.flatnonzero(inv["cold"].to_numpy()))
    return float(inv["cold"].sum()), (f"{int(inv['cold'].sum())} of the {len(inv)} uploads "
                                      f"waited for a new environment (uploads {which}).")


prediction("00-cold-requests", outcome=_cold_outcome, tolerance=0.5, unit="requests", hints=(
    "A request is cold when no idle environment is ready for it. Go down the upload times and ask, "
    "for each one: is there an environment alive and free when it arrives?",
    "Three things make a request cold: no environment exists yet; every environment is still busy "
    "(a run takes about 0.1 s); or the last request ended more than the keep-alive (about 360 s) "
    "ago, so its environment was reclaimed.",
    "Look at the gap between each upload and the one before it: under 0.1 s, or over 360 s?",
), why="A request is cold when no idle environment is waiting: the first one, one that comes while "
       "the only environment is busy, and one that comes after the keep-alive (about 6 minutes "
       "today) has run out.", feedback=_cold_feedback)


explanation("00-upload-delivered-twice", review=(
    "does it say what the handler does with the file (and what it changes, if anything), whether "
    "a second run would change the count, and what the second run costs?"), hints=(
    "What does the handler do with the file: does it change anything, or only read and count?",
    "A second delivery is a second request: think of the count it returns, and of the bill "
    "(section 5) and the environments (section 3) of a second run.",
))


def _billed_feedback(answer: float, expected: float) -> str | None:
    first = lesson_run().result.invocations.iloc[0]
    if abs(answer - math.ceil(first["duration_ms"])) < 0.5 and abs(answer - expected) >= 0.5:
        return ("That is the run time rounded up to 1 ms: since August 2025 the INIT of a cold "
                "start is billed too.")
    if answer < 1:
        return "Billed Duration is in milliseconds."
    return None


def _billed_outcome() -> tuple[float, str]:
    first = lesson_run().result.invocations.iloc[0]
    return float(first["billed_ms"]), (f"the first request's REPORT line says Billed Duration: "
                                       f"{first['billed_ms']:g} ms (INIT {first['init_ms']:.2f} "
                                       f"ms + run {first['duration_ms']:.2f} ms, rounded up).")


prediction("00-first-billed-ms", outcome=_billed_outcome, tolerance=0.5, unit="ms", hints=(
    "Every request's REPORT line says 'Billed Duration: ... ms': what goes into it today?",
    "Add the first request's INIT time and run time from the table, then round the sum up (not to "
    "the nearest) to a whole millisecond.",
), why="Today a request is billed per 1 ms of its run time, plus its INIT when it was cold (since "
       "August 2025); in 2020 it was rounded up to 100 ms and INIT was free.",
   feedback=_billed_feedback)
