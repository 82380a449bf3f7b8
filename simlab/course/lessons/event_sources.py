"""Lesson 5: event sources, or why the same function behaves differently behind each trigger.

A Lambda function is invoked in one of three ways, and the trigger decides which (LAMBDA_FACTS 6):

* **synchronously**: the caller waits for the answer. API Gateway, the SDK's ``RequestResponse``
  (also load balancers, function URLs, Cognito). Nobody retries for you: a function error comes
  back to the caller at once (API Gateway: ``502``), so does a throttle (Lambda's ``429``, which
  API Gateway passes on as ``500 Internal server error``), and a REST API stops waiting after its
  integration timeout (29 s by default, raisable since June 2024 for Regional and private REST
  APIs: ``504``) while the function runs on, billed;
* **asynchronously**: the caller hands the event to Lambda's internal queue and gets ``202`` at
  once. S3, SNS, EventBridge (schedules included), the SDK's ``Event``. Lambda retries a failed
  event twice, 1 and 2 minutes later, then sends it to a dead-letter queue or an on-failure
  destination; a throttled event goes back to the queue and is retried with backoff, for up to 6 h;
* **by polling**: an event source mapping reads a stream or a queue and invokes the function
  synchronously with a *batch*. Kinesis, DynamoDB Streams, SQS. On a stream, a failing batch is
  retried and blocks its shard: nothing behind it is read, and the shard's **iterator age** (how
  old the record in hand is) grows.

The lesson's experiment deploys the same code three times, behind API Gateway, an S3 bucket and a
Kinesis stream, with the same traffic and the same reserved concurrency (:func:`three_triggers`),
and compares what becomes of failures and throttles (:func:`trigger_summary`,
:func:`triggers_figure`); :func:`triggers_view` is its dashboard's pure function. Smaller runs
isolate one behaviour each: :func:`always_failing_upload`, :func:`always_failing_fanout`,
:func:`poison_stream`, :func:`slow_api`. What the function receives (event documents, schedules,
calls from other functions) is in :mod:`simlab.course.lessons.event_payloads`, re-exported here. The
``05-...`` exercises are registered with :mod:`simlab.course.exercises` when this module is
imported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simlab.aws.simulation import Simulation
from simlab.aws.sources import (
    SDK,
    APIGateway,
    DeadLetterQueue,
    Poisson,
    Replay,
    S3Bucket,
    Schedule,
    SNSTopic,
    configure_async,
)
from simlab.aws.sources.sqs import SQSQueue
from simlab.aws.sources.streams import DynamoDBStream, KinesisStream
from simlab.core import plots
from simlab.core.random_streams import RandomStreams
from simlab.core.result import Result
from simlab.core.validate import number, whole
from simlab.course.exercises import exercise, explanation, prediction
from simlab.course.lessons.event_payloads import (
    firings,
    firings_figure,
    handler_chain,
    received_events,
    trim,
)

__all__ = [
    "LESSON5", "FUNCTIONS", "AWS_MODES", "invocation_modes", "three_triggers",
    "trigger_summary", "triggers_figure", "iterator_age_figure", "attempts", "throttle_waits",
    "TriggersView", "triggers_view", "triggers_readout", "triggers_dashboard",
    "always_failing_upload", "always_failing_fanout", "poison_stream", "iterator_age_at",
    "slow_api", "received_events", "trim", "firings", "firings_figure", "handler_chain",
    "WEEKEND", "POISON_MINUTES",
]  # fmt: skip

#: The lesson's experiment: traffic, function, limits and run length (the notebook prints it).
LESSON5: dict[str, Any] = {
    "era": "today", "seed": 5, "rate_per_s": 2.0, "duration_s": 0.5, "memory_mb": 512,
    "reserved_concurrency": 3, "shards": 2, "until_s": 900.0, "failure_rate": 0.05,
    "batch_size": 10,
}  # fmt: skip
#: The three deployments of the same code, by trigger.
FUNCTIONS = {"API Gateway": "process-api", "S3": "process-s3", "Kinesis": "process-stream"}

#: How AWS services invoke Lambda (LAMBDA_FACTS 6: DG pages for the first of each line, secondary
#: sources for the services in the last column).
AWS_MODES = pd.DataFrame([
    ("sync", "API Gateway, SDK RequestResponse", "the caller", "ALB, function URLs, Cognito"),
    ("async", "S3, SNS, EventBridge (schedules), SDK Event", "Lambda: 2 retries, then a DLQ",
     "SES, CloudWatch Logs"),
    ("poll", "Kinesis, DynamoDB Streams, SQS", "the event source mapping (per batch)",
     "MSK/Kafka, MQ, DocumentDB"),
], columns=["invocation_type", "simulated here", "who retries a failure", "also"])


# -- 1. who invokes how ----------------------------------------------------------------------------
def invocation_modes(seed: int = 0) -> pd.DataFrame:
    """Invoke one function once from every simulated trigger; the invocation type each used.

    Returns
    -------
    DataFrame
        One row per trigger: ``trigger``, ``invocation_type`` (``sync``, ``async``, ``poll``),
        ``invocations``.
    """
    sim = Simulation(era="today", seed=seed)
    sim.add_function("f", memory_mb=256, duration_s=0.1)
    sources = {
        "API Gateway": APIGateway(Replay([1.0])),
        "SDK RequestResponse": SDK([(1.0, "f", {"n": 1})]),
        "SDK Event": SDK([(1.0, "f", {"n": 1}, "Event")]),
        "S3": S3Bucket("uploads", uploads=[(1.0, "a.csv", 10)]),
        "SNS": SNSTopic("news", messages=[(1.0, "hello")]),
        "EventBridge schedule": Schedule("rate(1 hour)"),
        "Kinesis": KinesisStream("clicks", [(1.0, "k", b"{}")]),
        "DynamoDB Streams": DynamoDBStream("orders", [(1.0, "INSERT", {"id": 1})]),
        "SQS": SQSQueue("jobs", [(1.0, "{}")]),
    }
    for name, source in sources.items():
        sim.add_source(source, target="f", name=name)
    inv = sim.run(until_s=60.0).invocations
    out = inv.groupby("source", sort=False).agg(invocation_type=("invocation_type", "first"),
                                                 invocations=("invocation_id", "size"))
    return out.reindex(list(sources)).rename_axis("trigger").reset_index()


# -- 2. the same function behind three triggers ----------------------------------------------------
def three_triggers(failure_rate: float = LESSON5["failure_rate"],
                   batch_size: int = LESSON5["batch_size"],
                   reserved_concurrency: int = LESSON5["reserved_concurrency"], *,
                   seed: int = LESSON5["seed"], until_s: float = LESSON5["until_s"],
                   batching_window_s: float = 0.0) -> Result:
    """Run the same function behind API Gateway, S3 and a Kinesis stream.

    Each trigger gets Poisson traffic of :data:`LESSON5` ``["rate_per_s"]`` (requests, uploads,
    records) and its own deployment of the code (:data:`FUNCTIONS`: 512 MB, 0.5 s per invocation,
    failing with probability ``failure_rate``, ``reserved_concurrency`` environments at most). The
    S3 deployment has a dead-letter queue ``failed-uploads``; the stream has
    :data:`LESSON5` ``["shards"]`` shards read with ``batch_size``.

    Parameters
    ----------
    failure_rate
        Probability that an invocation fails, 0 to 1.
    batch_size
        Records per batch of the stream, 1 to 10,000.
    reserved_concurrency
        Reserved concurrency of each deployment, 1 to 100.
    seed, until_s
        Seed and length of the run (s, 60 to 86,400).
    batching_window_s
        How long the stream's poller waits to fill a batch (s, 0 to 300): a batch is sent when it
        holds ``batch_size`` records or when the window ends.
    """
    p = number("failure_rate", failure_rate, 0.0, 1.0)
    batch = whole("batch_size", batch_size, 1, 10_000)
    reserved = whole("reserved_concurrency", reserved_concurrency, 1, 100)
    until = number("until_s", until_s, 60.0, 86_400.0)
    rate = LESSON5["rate_per_s"]
    sim = Simulation(era=LESSON5["era"], seed=seed)
    for fname in FUNCTIONS.values():
        sim.add_function(fname, memory_mb=LESSON5["memory_mb"], duration_s=LESSON5["duration_s"],
                         error_rate=p, reserved_concurrency=reserved)
    sim.add_source(APIGateway(Poisson(rate)), target=FUNCTIONS["API Gateway"])
    sim.add_source(S3Bucket("uploads", uploads=Poisson(rate)), target=FUNCTIONS["S3"])
    configure_async(sim, FUNCTIONS["S3"], dead_letter_queue=DeadLetterQueue("failed-uploads"))
    sim.add_source(KinesisStream("clicks", Poisson(rate), shards=LESSON5["shards"],
                                 batch_size=batch, batching_window_s=batching_window_s),
                   target=FUNCTIONS["Kinesis"])
    return sim.run(until_s=until)


def trigger_summary(result: Result) -> pd.DataFrame:
    """What became of the work of each trigger in a :func:`three_triggers` run.

    Returns
    -------
    DataFrame
        Index: trigger. Columns: ``invocation_type``; ``items`` (client requests, uploaded
        objects, stream records); ``invocations`` that ran; ``function_errors``; ``throttles``
        (attempts refused for lack of concurrency); ``retries`` (attempts made again after an
        error or a throttle, by Lambda or the poller); ``failed_items`` (requests the client saw
        fail, events sent to the dead-letter queue, records discarded); ``pending_items`` (still
        waiting at the end); ``max_delay_s`` (longest client latency, event age at the successful
        attempt, iterator age).
    """
    inv = result.invocations
    rows = {}
    api = result.output("apigateway").requests
    a = inv[inv["function"] == FUNCTIONS["API Gateway"]]
    rows["API Gateway"] = ("sync", len(api), int((a["status"] != "throttled").sum()),
                           int((a["status"] == "error").sum()),
                           int((a["status"] == "throttled").sum()), 0,
                           int((api["http_status"] != 200).sum()), 0,
                           float(api["latency_ms"].max()) / 1000)
    s = inv[inv["function"] == FUNCTIONS["S3"]]
    queue = result.output("async")
    done = s[s["status"] == "ok"]
    rows["S3"] = ("async", int(s["event_id"].nunique()), int((s["status"] != "throttled").sum()),
                  int((s["status"] == "error").sum()), int((s["status"] == "throttled").sum()),
                  len(s) - int(s["event_id"].nunique()), len(result.output("failed-uploads")),
                  len(queue.pending), float(done["event_age_ms"].astype(float).max()) / 1000)
    log = result.output("kinesis:clicks")
    k = inv[inv["function"] == FUNCTIONS["Kinesis"]]
    recs, batches = log.records, log.batches
    rows["Kinesis"] = ("poll", len(recs), int((k["status"] != "throttled").sum()),
                       int((k["status"] == "error").sum()),
                       int((k["status"] == "throttled").sum()), int((batches["attempt"] > 1).sum()),
                       int(recs["outcome"].astype(str).str.startswith("discarded").sum()),
                       int((recs["outcome"] == "pending").sum()),
                       float(log.iterator_age()["iterator_age_ms"].max()) / 1000)
    cols = ["invocation_type", "items", "invocations", "function_errors", "throttles", "retries",
            "failed_items", "pending_items", "max_delay_s"]
    return pd.DataFrame.from_dict(rows, orient="index", columns=cols).rename_axis("trigger")


def _per_minute(t_s: np.ndarray, masks: Sequence[tuple[str, np.ndarray, str]], ax: Any,
                until_s: float) -> None:
    n = max(int(math.ceil(until_s / 60.0)), 1)
    edges = np.arange(n + 1, dtype=float)
    k = np.minimum((t_s // 60.0).astype(int), n - 1)
    base = np.zeros(n)
    for label, mask, color in masks:
        counts = np.bincount(k[mask], minlength=n)[:n].astype(float)
        ax.stairs(base + counts, edges, baseline=base.copy(), fill=True, color=color,
                  label=f"{label} ({int(counts.sum()):,})")
        base += counts
    ax.set_ylabel("per minute")


def triggers_figure(result: Result, *, fig: Figure | None = None) -> Figure:
    """Three panels over time (min) for a :func:`three_triggers` run.

    Top: API Gateway responses per minute by HTTP status. Middle: attempts of the S3 deployment
    per minute (first attempts, retries after an error, throttled attempts sent back to the
    queue), with the dead-letter queue's arrivals. Bottom: the stream's iterator age per shard.
    """
    if fig is None:
        fig = Figure(figsize=(9.0, 7.0))
    fig.clear()
    top, mid, low = fig.subplots(3, 1, sharex=True)
    fig.subplots_adjust(left=0.09, right=0.7, top=0.95, bottom=0.08, hspace=0.3)
    c = plots.COLORS
    until = float(result.until_s)
    resp = result.output("apigateway").responses
    status = resp["http_status"].to_numpy()
    _per_minute(resp["sent_s"].to_numpy(), [
        ("200 OK", status == 200, c["ok"]), ("502 function error", status == 502, c["error"]),
        ("500 throttled by Lambda", status == 500, c["throttled"]),
        ("504 timeout", status == 504, c["timeout"])], top, until)
    top.set_title("API Gateway (sync): what the clients got", fontsize="medium", loc="left")
    inv = result.invocations
    s = inv[inv["function"] == FUNCTIONS["S3"]]
    throttled = (s["status"] == "throttled").to_numpy()
    first = (s["attempt"] == 1).to_numpy() & ~throttled
    _per_minute(s["arrival_s"].to_numpy(), [
        ("first attempts", first, c["ok"]), ("retries after an error", ~first & ~throttled,
                                             c["error"]),
        ("throttled, back to the queue", throttled, c["throttled"])], mid, until)
    dlq = result.output("failed-uploads").frame()["time_s"].to_numpy() / 60.0
    mid.plot(dlq, np.zeros(len(dlq)), ls="", marker="v", ms=9, color="black", clip_on=False,
             label=f"to the dead-letter queue ({len(dlq)})")
    mid.set_title("S3 (async): attempts", fontsize="medium", loc="left")
    iterator_age_figure(result, ax=low)
    low.set_title("Kinesis (poll): iterator age per shard", fontsize="medium", loc="left")
    for ax in (top, mid, low):
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return fig


def iterator_age_figure(result: Result, *, ax: Any = None,
                        stream: str = "kinesis:clicks") -> Figure:
    """The iterator age (s) of each shard of ``stream`` against time (min), on ``ax`` or on a new
    figure; returns the figure."""
    if ax is None:
        ax = Figure(figsize=(8.0, 3.2), layout="constrained").subplots()
    ages = result.output(stream).iterator_age()
    for shard, part in ages.groupby("shard"):
        ax.step(part["t_s"] / 60.0, part["iterator_age_ms"] / 1000.0, where="post", lw=1.2,
                color=plots.OKABE_ITO[("blue", "vermillion", "bluish_green", "orange")[
                    int(shard) % 4]], label=f"shard {int(shard)}")
    ax.set_ylabel("iterator age (s)")
    ax.set_xlabel("time since the start of the run (min)")
    ax.set_xlim(0, float(result.until_s) / 60.0)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize="small", frameon=False)
    return ax.figure


def attempts(result: Result, function: str | None = None) -> pd.DataFrame:
    """One row per attempt of the asynchronous events (of ``function``): ``event_id``,
    ``attempt``, ``arrival_s``, ``start_s``, ``end_s``, ``status``, ``event_age_s`` (how long
    the event had been queued when the attempt was made)."""
    inv = result.invocations
    inv = inv[inv["invocation_type"] == "async"]
    if function is not None:
        inv = inv[inv["function"] == function]
    out = inv[["event_id", "attempt", "arrival_s", "start_s", "end_s", "status"]].copy()
    out["event_id"] = out["event_id"].astype(np.int64)
    out["event_age_s"] = inv["event_age_ms"].astype(float) / 1000.0
    return out.reset_index(drop=True)


def throttle_waits(result: Result) -> pd.DataFrame:
    """S3 events of a :func:`three_triggers` run that ran at their first attempt after ``throttles``
    throttles in a row: how long they had waited in the queue (``wait_s``) and how many
    ``events`` did so. One row per number of throttles."""
    inv = result.invocations
    s = inv[inv["function"] == FUNCTIONS["S3"]]
    first = s[s["attempt"] == 1]
    throttles = first[first["status"] == "throttled"].groupby("event_id").size()
    ran = first[first["status"] != "throttled"].set_index("event_id")
    waits = pd.DataFrame({"throttles": throttles.reindex(ran.index, fill_value=0),
                          "wait_s": (ran["event_age_ms"].astype(float) / 1000.0).round(6)})
    return (waits.groupby(["throttles", "wait_s"]).size().rename("events").reset_index()
            .sort_values("throttles", ignore_index=True))


@dataclass(frozen=True)
class TriggersView:
    """What :func:`triggers_view` computed: the run, its summary and the settings."""

    result: Result
    summary: pd.DataFrame
    failure_rate: float
    batch_size: int
    reserved_concurrency: int


#: The dashboard's batching window (s): at one record a second per shard, a batch of 10 fills in
#: about 10 s, before the window ends, so the batch size sets how often the function runs and how
#: long records wait (without a window, the poller sends whatever has come, one or two records).
DASHBOARD_BATCHING_WINDOW_S = 30.0


def triggers_view(failure_rate: float = LESSON5["failure_rate"],
                  batch_size: int = LESSON5["batch_size"],
                  reserved_concurrency: int = LESSON5["reserved_concurrency"], *,
                  seed: int = LESSON5["seed"],
                  batching_window_s: float = DASHBOARD_BATCHING_WINDOW_S,
                  ) -> tuple[TriggersView, Figure]:
    """The dashboard's pure function: :func:`three_triggers` (with a batching window of
    ``batching_window_s``), its summary and its figure."""
    result = three_triggers(failure_rate, batch_size, reserved_concurrency, seed=seed,
                            batching_window_s=batching_window_s)
    view = TriggersView(result, trigger_summary(result), float(failure_rate), int(batch_size),
                        int(reserved_concurrency))
    return view, triggers_figure(result)


def triggers_readout(view: TriggersView) -> str:
    """One line per trigger: what failed for the sender, and the longest delay."""
    s = view.summary
    api, s3, k = s.loc["API Gateway"], s.loc["S3"], s.loc["Kinesis"]
    return (f"API Gateway: <b>{api['failed_items']:,} of {api['items']:,} requests failed</b> "
            f"for the client ({api['throttles']:,} were 500s: Lambda's throttles). "
            f"S3: <b>{s3['retries']:,} retries</b> ({s3['throttles']:,} after throttles), "
            f"<b>{s3['failed_items']} events "
            f"in the dead-letter queue</b>. Kinesis: <b>{k['invocations']:,} batches</b> of up to "
            f"{view.batch_size} record{'s' if view.batch_size != 1 else ''}, longest iterator "
            f"age <b>{k['max_delay_s']:.1f} s</b>, {k['pending_items']:,} records still waiting.")


def triggers_dashboard(show: bool = True, **defaults: Any) -> Any:
    """Failure rate, batch size and reserved concurrency over :func:`triggers_view`, with a Run
    button (a run takes about half a second). ``defaults`` may set the three parameters."""
    import ipywidgets as w

    from simlab.course.widgets import check_defaults, concurrency_slider, dashboard

    check_defaults(defaults, ("failure_rate", "batch_size", "reserved_concurrency"))
    controls = {
        "failure_rate": w.FloatSlider(value=defaults.get("failure_rate", LESSON5["failure_rate"]),
                                      min=0.0, max=0.5, step=0.01, readout_format=".2f",
                                      description="failure rate"),
        "batch_size": w.IntSlider(value=defaults.get("batch_size", LESSON5["batch_size"]), min=1,
                                  max=100, step=1, description="batch size (records)"),
        "reserved_concurrency": concurrency_slider(
            defaults.get("reserved_concurrency", LESSON5["reserved_concurrency"]), high=10,
            low=1),
    }
    return dashboard(triggers_view, controls, readout=triggers_readout, run_button=True,
                     show=show)


# -- 3. one behaviour at a time --------------------------------------------------------------------
def always_failing_upload(max_retries: int = 2, *, seed: int = 0) -> Result:
    """One upload at t = 10 s to a bucket whose function (0.5 s) always fails; the failed event
    goes to the dead-letter queue ``failed-uploads`` (``max_retries``: 0 to 2)."""
    sim = Simulation(era="today", seed=seed)
    sim.add_function("resize", memory_mb=512, duration_s=0.5, error_rate=1.0)
    sim.add_source(S3Bucket("photos", uploads=[(10.0, "holiday/red flower.jpg", 52_000)]),
                   target="resize")
    configure_async(sim, "resize", max_retries=max_retries,
                    dead_letter_queue=DeadLetterQueue("failed-uploads"))
    return sim.run(until_s=600.0)


def always_failing_fanout(subscribers: int = 2, *, seed: int = 0) -> Result:
    """One SNS message at t = 10 s to a topic with ``subscribers`` functions (1 to 10), each of
    which always fails."""
    n = whole("subscribers", subscribers, 1, 10)
    sim = Simulation(era="today", seed=seed)
    names = [f"subscriber-{k + 1}" for k in range(n)]
    for name in names:
        sim.add_function(name, memory_mb=256, duration_s=0.2, error_rate=1.0)
    sim.add_source(SNSTopic("orders", messages=[(10.0, '{"order": 1}')]), target=names)
    return sim.run(until_s=600.0)


def poison_stream(poison_after_s: float = 60.0, *, minutes: float = 15.0,
                  seed: int = 0) -> tuple[Result, dict[str, float]]:
    """A Kinesis stream of 2 shards (2 records/s, 20 partition keys, batch size 10, function
    0.1 s) whose first record at or after ``poison_after_s`` always fails: its shard is blocked for
    the rest of the run (``minutes`` long).

    Returns
    -------
    tuple
        The run's result, and the poison record: its ``sequence_number``, ``arrival_s`` and
        ``shard``.
    """
    after = number("poison_after_s", poison_after_s, 0.0, 86_400.0)
    until = number("minutes", minutes, 1.0, 1440.0) * 60.0
    if after >= until:
        raise ValueError(f"poison_after_s must be before the end of the run ({until:g} s), "
                         f"got {poison_after_s!r}")
    rng = RandomStreams(seed).generator("lesson5", "poison-stream")
    times = Poisson(2.0).times(rng, until)
    keys = rng.integers(0, 20, times.size)
    records = [(float(t), f"user-{k}", b'{"click": 1}') for t, k in zip(times, keys, strict=True)]
    bad = int(np.searchsorted(times, after))
    if bad >= times.size:
        raise ValueError(f"no record arrives after poison_after_s={poison_after_s!r}")
    sim = Simulation(era="today", seed=seed)
    sim.add_function("count-clicks", memory_mb=256, duration_s=0.1)
    stream = KinesisStream("clicks", records, shards=2, batch_size=10,
                           poison=lambda r: r.sequence_number == bad)
    sim.add_source(stream, target="count-clicks")
    result = sim.run(until_s=until)
    recs = result.output(stream).records
    return result, {"sequence_number": bad, "arrival_s": round(float(times[bad]), 3),
                    "shard": int(recs.loc[bad, "shard"])}


def iterator_age_at(result: Result, t_s: float, shard: int,
                    stream: str = "kinesis:clicks") -> float:
    """The iterator age (ms) of ``shard`` at time ``t_s``: that of its last batch invocation
    started at or before ``t_s`` (NaN if none)."""
    ages = result.output(stream).iterator_age()
    part = ages[(ages["shard"] == shard) & (ages["t_s"] <= t_s)]
    return float(part["iterator_age_ms"].iloc[-1]) if len(part) else math.nan


def slow_api(duration_s: float = 40.0, *, timeout_s: int = 60, seed: int = 0) -> Result:
    """One API Gateway request at t = 10 s to a function that runs ``duration_s`` (its timeout
    ``timeout_s``); the REST API's integration timeout is 29 s, API Gateway's default."""
    d = number("duration_s", duration_s, 0.0, 900.0)
    sim = Simulation(era="today", seed=seed)
    sim.add_function("report", memory_mb=1024, duration_s=d, timeout_s=timeout_s)
    sim.add_source(APIGateway(Replay([10.0]), path="/report"), target="report")
    return sim.run(until_s=10.0 + d + 60.0)


# -- exercises -------------------------------------------------------------------------------------
#: The window of exercise 05-weekend-firings: Friday 2 January 2026, 18:00 UTC, to Monday 5
#: January, 06:00 UTC.
WEEKEND = (datetime(2026, 1, 2, 18, tzinfo=UTC), datetime(2026, 1, 5, 6, tzinfo=UTC))
#: Minutes after the poison record of exercise 05-poison-iterator-age.
POISON_MINUTES = 10


def _fanout_feedback(answer: float, expected: float) -> str | None:
    if answer == expected / 2:
        return "One message becomes one event per subscribed function."
    if answer == expected - 2:
        return "That counts the retries only: each first attempt is an invocation too."
    if answer <= 2:
        return "Nobody waits for an asynchronous event's answer, so Lambda itself tries again."
    return None


def _fanout_outcome() -> tuple[float, str]:
    n = float(len(always_failing_fanout(2).invocations))
    return n, f"Lambda ran the two functions {n:g} times in all for the one message."


prediction("05-fanout-attempts", outcome=_fanout_outcome, tolerance=0.5, unit="invocations",
           hints=(
    "SNS invokes every subscribed function asynchronously, each with its own event.",
    "What does Lambda do with an asynchronous event whose invocation fails, and how many times?",
), why="Each subscriber gets its own event, and each event that keeps failing is tried three "
       "times (two retries, about 1 and 2 minutes apart) before it is given up.",
   feedback=_fanout_feedback)


def _poison_age() -> tuple[float, float]:
    result, p = poison_stream()
    t = p["arrival_s"] + POISON_MINUTES * 60.0
    return (iterator_age_at(result, t, p["shard"]) / 60000.0,
            iterator_age_at(result, t, 1 - p["shard"]) / 60000.0)


def _poison_feedback(answer: float, expected: float) -> str | None:
    if abs(answer - _poison_age()[1]) < 0.05:
        return "That is the other shard, which keeps flowing: read the poison record's shard."
    if abs(answer / 60 - expected) < 0.1:
        return "Check the unit: the answer is asked in minutes."
    return None


@exercise("05-poison-iterator-age", tolerance=0.1, unit="min", hints=(
    "While a batch keeps failing, its shard reads nothing new: the batch in hand gets older.",
    "result, poison = event_sources.poison_stream(): poison says when the record arrived "
    "and in which shard.",
    "Read the iterator age of the poison record's shard (not the other one) 10 minutes after "
    "its arrival, and convert milliseconds to minutes.",
), why="A poison record blocks its shard: the iterator age grows one minute per minute until the "
        "record expires (24 h by default) or the retries run out, while other shards flow.",
   feedback=_poison_feedback)
def _poison_iterator_age() -> float:
    return _poison_age()[0]


def _status_outcome() -> tuple[str, str]:
    status = int(slow_api(40.0).output("apigateway").responses["http_status"].iloc[0])
    key = {200: "a", 502: "b", 504: "c", 500: "d"}.get(status, "e")
    return key, f"the client got HTTP {status}."


prediction("05-api-status-40s", outcome=_status_outcome, options={
    "a": "The function succeeds, but the client does not wait 40 s: API Gateway stops waiting "
         "for its integration long before.",
    "b": "502 means the function failed or answered badly; this one did not fail, it was slow.",
    "c": "",
    "d": "500 is what a client gets when Lambda refuses (throttles) the invoke; this one was "
         "accepted and ran.",
    "e": "Look up what API Gateway does when its integration takes too long.",
}, hints=(
    "API Gateway waits for a synchronous function, but not forever: look up its integration "
    "timeout in the limits table.",
    "The function runs 40 s; compare that with how long a REST API waits for its integration by "
    "default.",
), why="A REST API waits for its integration at most 29 s by default (raisable since June 2024 "
       "for Regional and private REST APIs): the client gets 504 Gateway Timeout, whatever the "
       "function does afterwards.")


explanation("05-billed-slow-api", review=(
    "does it say how long the function ran and was billed, why it kept running after the "
    "client's 504, and one change that avoids paying for answers nobody receives?"), hints=(
    "Does API Gateway stop the function when it stops waiting for it? Read billed_ms in "
    "result.invocations.",
    "Compare the billed time with the 29 s the client waited: who stops the function, and when?",
))


explanation("05-async-throttle-wait", review=(
    "does it account for the number with the backoff rule (which waits, how many throttles in a "
    "row), and say why the same throttle refuses an API client but only delays an S3 event?"),
    hints=(
        "Run event_sources.three_triggers(failure_rate=0, reserved_concurrency=2); "
        "event_sources.trigger_summary(result) has a max_delay_s column.",
        "A throttled asynchronous event is retried after 1 s, then 2 s, 4 s...: which sum of "
        "those waits gives the number you read? Who waits for an API request, and who for an S3 "
        "event?",
    ))


def _weekend_feedback(answer: float, expected: float) -> str | None:
    if abs(answer - 60 * 6) < 0.5:
        return "That counts Saturday and Sunday too: MON-FRI leaves them out."
    return None


@exercise("05-weekend-firings", tolerance=0.5, unit="firings", hints=(
    "cron(0/10 * ? * MON-FRI *): minutes 0, 10, 20... of every hour, on Monday to Friday (UTC).",
    "event_sources.firings(expression, *event_sources.WEEKEND) lists the firing times.",
    "Count by hand: Friday from 18:00 to midnight and Monday from midnight to 06:00, six "
    "firings an hour; then confirm with the list of firing times.",
), why="Six firings an hour on Friday evening and Monday morning, none on the weekend.",
   feedback=_weekend_feedback)
def _weekend_firings() -> float:
    return float(len(firings("cron(0/10 * ? * MON-FRI *)", *WEEKEND)))
