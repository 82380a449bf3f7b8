"""Lesson 7b: background labs, the work no user waits for, run end to end.

Each lab starts from a ready-made scenario of :mod:`simlab.aws.scenarios` (real handlers wired to
their triggers the way the application works on AWS), as in lesson 7
(:mod:`simlab.course.lessons.use_cases`), and reads one lesson off the run:

* **infrastructure automation** (:func:`infra_run`): the run's own control-plane calls
  (configuration changes made while it runs), delivered by CloudTrail as files landing in S3,
  trigger a function that flags a chosen API call, minutes after it was made;
* **data validation** (:func:`validation_run`): a DynamoDB stream feeds every order to a checker
  whose log lines list what it rejected, and why;
* **nightly job** (:func:`nightly_run`): an EventBridge cron rule at 02:00 UTC; a failing night is
  retried 1 and 2 minutes later, and a night whose three attempts fail lands in a queue;
* **batches** (:func:`partial_batch_runs`): one poison message in an SQS batch, with and without
  ``ReportBatchItemFailures``.

Each lab has a run, a table and a figure, all pure functions of their parameters and a seed; the
exercises of lesson 7b (ids ``07-...``, the course's ids carrying the lesson's number) are
registered with :mod:`simlab.course.exercises` when this module is imported.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simlab.aws import scenarios
from simlab.core import plots
from simlab.core.result import Result
from simlab.core.validate import number
from simlab.course.exercises import exercise, explanation, prediction
from simlab.course.lessons.use_cases import lab_figure

__all__ = [
    "infra_run", "alert_delays", "infra_figure", "validation_run", "rejections",
    "validation_figure", "nightly_run", "nights", "nightly_figure", "partial_batch_runs",
]  # fmt: skip

_C = plots.COLORS
_O = plots.OKABE_ITO


# -- infrastructure automation ---------------------------------------------------------------------
def infra_run(watched_call: str = "PutFunctionConcurrency", *, seed: int = 0) -> Result:
    """:func:`simlab.aws.scenarios.infra_automation` for 24 hours (a deployment pipeline changes the
    functions' configuration about 4 times an hour; trail files every 5 minutes), flagging
    ``watched_call``."""
    return scenarios.infra_automation(seed=seed, watched_call=watched_call).run(until_s=86_400.0)


def alert_delays(result: Result) -> pd.DataFrame:
    """One row per alert published on ``security-alerts``: who made the call (``user``), when
    (``called_s``), when the alert was published (``alerted_s``) and ``delay_s`` between them.
    CloudTrail's ``eventTime`` is to the second, so delays are too."""
    msgs = result.output("sns").messages
    body = [json.loads(m) for m in msgs["message"]]
    called = pd.to_datetime([b["eventTime"] for b in body], utc=True)
    called_s = (called - pd.Timestamp(result.epoch)).total_seconds().to_numpy()
    return pd.DataFrame({"user": [b["user"] for b in body], "called_s": called_s,
                         "alerted_s": msgs["time_s"].to_numpy(dtype=float),
                         "delay_s": msgs["time_s"].to_numpy(dtype=float) - called_s})


def infra_figure(result: Result, *, fig: Figure | None = None) -> Figure:
    """How long after the watched call its alert was published: a histogram (min)."""
    fig = lab_figure(fig, (8.0, 3.4))
    ax = fig.subplots()
    delays = alert_delays(result)["delay_s"].to_numpy() / 60
    ax.hist(delays, bins=np.arange(0, 6.5, 0.5), color=_O["blue"], edgecolor="white")
    ax.axvline(5, color="0.3", ls="--", lw=1, label="trail delivery period (5 min)")
    ax.set_xlabel("delay from the API call to its alert (min)")
    ax.set_ylabel("alerts")
    ax.legend(loc="upper right", fontsize="small", frameon=False)
    ax.grid(alpha=0.3)
    return fig


# -- data validation -------------------------------------------------------------------------------
def validation_run(invalid_fraction: float = 0.05, *, minutes: float = 15.0,
                   seed: int = 0) -> tuple[Result, list]:
    """:func:`simlab.aws.scenarios.data_validation` (2 order changes a second, 2 shards, batches of
    up
    to 100 gathered for up to 1 s) for ``minutes`` (1 to 240), then one more minute without writes
    so that the stream drains and every change written is read.

    Returns
    -------
    tuple
        The run's result, and the order changes written to the table (what :func:`rejections`
        compares the checker's log with).
    """
    hours = number("minutes", minutes, 1.0, 240.0) / 60.0
    fraction = number("invalid_fraction", invalid_fraction, 0.0, 1.0)
    result = scenarios.data_validation(seed=seed, invalid_fraction=fraction,
                                       hours=hours).run(until_s=hours * 3600.0 + 60.0)
    return result, scenarios.order_changes(seed, hours, 2.0, fraction)


def rejections(result: Result, changes: list) -> pd.DataFrame:
    """Invalid orders by reason in a :func:`validation_run`: ``injected`` (in the ``changes``
    written to the table) against ``found`` (``rejected`` warnings in ``validate-orders``'s
    log)."""
    reasons = ("negative amount", "unknown currency", "no e-mail")
    injected = pd.Series([p for c in changes for p in scenarios.invalid_order(c[3])],
                         dtype=object).value_counts()
    lines = result.logs("validate-orders").filter(pattern="rejected: ").df["message"]
    found = lines.str.extract(r"rejected: (.*)$")[0].str.split(", ").explode().value_counts()
    return pd.DataFrame({"injected": injected.reindex(reasons, fill_value=0),
                         "found": found.reindex(reasons, fill_value=0)}).rename_axis("reason")


def validation_figure(table: pd.DataFrame, *, fig: Figure | None = None) -> Figure:
    """Invalid orders by reason: injected into the table against found in the validator's log."""
    fig = lab_figure(fig, (7.0, 3.2))
    ax = fig.subplots()
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["injected"], 0.4, color=_O["sky_blue"], label="written to the table")
    ax.bar(x + 0.2, table["found"], 0.4, color=_O["vermillion"],
           label="rejected (validate-orders' log)")
    ax.set_xticks(x, table.index)
    ax.set_ylabel("invalid orders")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    ax.grid(alpha=0.3, axis="y")
    return fig


# -- nightly job -----------------------------------------------------------------------------------
def nightly_run(error_rate: float = 0.3, *, nights: int = 30, seed: int = 0) -> Result:
    """:func:`simlab.aws.scenarios.nightly_job` (``cron(0 2 * * ? *)``, a report of about 4 min)
    failing with probability ``error_rate``, for ``nights`` days (1 to 366)."""
    if isinstance(nights, bool) or not isinstance(nights, int) or not 1 <= nights <= 366:
        raise ValueError(f"nights must be a whole number from 1 to 366, got {nights!r}")
    return scenarios.nightly_job(seed=seed, error_rate=number("error_rate", error_rate, 0.0, 1.0)
                                 ).run(until_s=nights * 86_400.0)


def nights(result: Result) -> pd.DataFrame:
    """One row per night: ``date``, ``attempts``, ``succeeded``, ``ready_min`` (minutes after
    02:00 UTC when the report was ready; NaN if never), ``in_failure_queue``."""
    inv = result.invocations.sort_values("arrival_s")
    night = (inv["arrival_s"] // 86_400).astype(int)
    g = inv.groupby(night)
    ok_end = inv["end_s"].where(inv["status"] == "ok").groupby(night).min()
    failed = result.output("report-failures").frame()["time_s"] // 86_400
    out = pd.DataFrame({
        "date": (pd.Timestamp(result.epoch) + pd.to_timedelta(g["arrival_s"].min(), "s")
                 ).dt.strftime("%Y-%m-%d"),
        "attempts": g.size(), "succeeded": ok_end.notna(),
        "ready_min": (ok_end - (ok_end // 86_400 * 86_400 + 7200)) / 60,
        "in_failure_queue": g.size().index.isin(failed.astype(int))})
    return out.rename_axis("night").reset_index()


def nightly_figure(result: Result, *, fig: Figure | None = None) -> Figure:
    """Every attempt of every night: when it started (minutes after 02:00 UTC), ok or failed;
    nights whose event ended in the failure queue are marked."""
    fig = lab_figure(fig, (9.0, 3.4))
    ax = fig.subplots()
    inv = result.invocations
    day = (inv["arrival_s"] // 86_400).to_numpy() + 1
    minute = (inv["start_s"] % 86_400 - 7200).to_numpy() / 60
    ok = (inv["status"] == "ok").to_numpy()
    ax.plot(day[ok], minute[ok], "o", color=_C["ok"], label="attempt succeeded")
    ax.plot(day[~ok], minute[~ok], "X", color=_C["error"], ms=8, label="attempt failed")
    table = nights(result)
    lost = table[table["in_failure_queue"]]["night"].to_numpy() + 1
    for d in lost:
        ax.axvspan(d - 0.45, d + 0.45, color=_C["error"], alpha=0.15, lw=0)
    ax.plot([], [], "s", color=_C["error"], alpha=0.3, label="night sent to report-failures")
    ax.set_xlabel("night (day of the month)")
    ax.set_ylabel("attempt started\n(min after 02:00 UTC)")
    ax.set_xlim(0.4, table["night"].max() + 1.6)
    ax.set_ylim(-1, max(float(minute.max()), 10.0) * 1.15)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return fig


# -- exercises -------------------------------------------------------------------------------------
def _pages_feedback(answer: float, expected: float) -> str | None:
    if answer == len(alert_delays(infra_run())) and answer != expected:
        return ("That is PutFunctionConcurrency, the default: give "
                "watched_call='UpdateFunctionCode'.")
    return None


@exercise("07-infra-pages", tolerance=0.5, unit="alerts", hints=(
    "background_labs.infra_run(watched_call='UpdateFunctionCode') runs the day again.",
    "Count the alerts: each one is an invocation of notify-security, and a row of the run's "
    "alert delays.",
), why="Every UpdateFunctionCode call in the trail's files is flagged and paged, within the five "
        "minutes of a delivery period.", feedback=_pages_feedback)
def _infra_pages() -> float:
    return float(len(alert_delays(infra_run("UpdateFunctionCode"))))


#: Exercise 07-validation-rejected: a prediction within this many standard errors counts.
REJECTED_SE = 3.0


def _rejected_outcome() -> tuple[float, str]:
    result, written = validation_run(0.2)
    n = len(result.logs("validate-orders").filter(pattern="rejected: "))
    changes = len(written)
    return float(n), (f"validate-orders flagged {n} of the {changes} order changes "
                      f"({n / changes:.1%}).")


def _rejected_tolerance() -> float:
    changes = 2.0 * 15 * 60
    return REJECTED_SE * float(np.sqrt(changes * 0.2 * 0.8))


prediction("07-validation-rejected", outcome=_rejected_outcome, tolerance=_rejected_tolerance(),
           unit="orders", hints=(
    "The table receives 2 order changes a second for 15 minutes; each is invalid with "
    "probability 0.2, independently.",
    "The expected count is the number of changes times 0.2; the run's count varies around it "
    "by a few times sqrt(n p (1 - p)).",
), why="The validator sees every change of the table, in order per item, through the stream; "
       "its log lines say which order broke which rule. The count is a binomial draw: it lands "
       "near n p, within a few standard errors sqrt(n p (1 - p)), not on it.")


explanation("07-nightly-failed-nights", review=(
    "does it say where 0.5 cubed comes from (how many attempts a night gets), compare it with "
    "the count you read, and explain why a single run of 30 nights need not give 3.75?"), hints=(
    "result = background_labs.nightly_run(error_rate=0.5); the records of "
    "result.output('report-failures') are the lost nights.",
    "A night is lost when every attempt fails: how many attempts does an asynchronous event get? "
    "And can a count of nights be 3.75?",
))


# -- partial batch responses -----------------------------------------------------------------------
def partial_batch_runs(*, messages: int = 100, poison_every: int = 25, batch_size: int = 10,
                       max_receive_count: int = 3,
                       seed: int = 0) -> tuple[pd.DataFrame, dict[str, Result]]:
    """An SQS queue of ``messages`` orders, every ``poison_every``-th one poison (it always fails),
    read in batches of ``batch_size`` with a redrive policy of ``max_receive_count`` receipts,
    once without and once with ``ReportBatchItemFailures``.

    Without it a poison message fails its whole batch, so the good messages that share its
    batches are received again and again and end in the dead-letter queue with it. With it the
    handler reports the poison message alone: its batch-mates are deleted after one receipt.
    Returns one row per configuration (``processed``, ``dead_lettered``,
    ``good_dead_lettered``, ``invocations``, ``receipts``) and the runs.
    """
    from simlab.aws.simulation import Simulation
    from simlab.aws.sources import SQSQueue

    n = int(number("messages", messages, 1, 10_000))
    every = int(number("poison_every", poison_every, 1, 10_000))
    size = int(number("batch_size", batch_size, 1, 10))
    receives = int(number("max_receive_count", max_receive_count, 1, 100))
    orders = [(1.0 + 0.01 * i, json.dumps({"order": i})) for i in range(n)]
    rows, runs = {}, {}
    for label, report in (("whole batch fails", False), ("ReportBatchItemFailures", True)):
        sim = Simulation(seed=seed)
        sim.add_function("orders", duration_s=0.2, timeout_s=5)
        queue = SQSQueue("orders", orders, batch_size=size, visibility_timeout_s=30,
                         max_receive_count=receives, dead_letter_queue=SQSQueue("orders-dlq"),
                         poison=lambda m: (m.message_number + 1) % every == 0,
                         report_batch_item_failures=report)
        sim.add_source(queue, target="orders")
        result = runs[label] = sim.run(until_s=30.0 * (receives + 2))
        frame = result.output("sqs:orders").frame
        dead = frame["outcome"] == "dead_letter"
        poison = (frame["message_number"] + 1) % every == 0
        rows[label] = {"processed": int((frame["outcome"] == "ok").sum()),
                       "dead_lettered": int(dead.sum()),
                       "good_dead_lettered": int((dead & ~poison).sum()),
                       "invocations": len(result.invocations),
                       "receipts": int(frame["receive_count"].sum())}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("configuration"), runs


def _batch_outcome() -> tuple[str, str]:
    table, _ = partial_batch_runs()
    lost = int(table.loc["whole batch fails", "good_dead_lettered"])
    key = "a" if lost == 0 else "b" if lost < 10 else "c" if lost < 50 else "d"
    kept = int(table.loc["ReportBatchItemFailures", "good_dead_lettered"])
    return key, (f"without ReportBatchItemFailures, {lost} of the 96 good orders ended in the "
                 f"dead-letter queue with the 4 poison ones; with it, {kept}.")


prediction("07-batch-good-orders-lost", outcome=_batch_outcome, options={
    "a": "Without a partial batch response Lambda cannot tell which message failed: a failed "
         "batch comes back whole, and each receipt counts towards the redrive limit of every "
         "message in it.",
    "b": "The batch-mates do not escape after one failure: they come back with the poison order "
         "every time it fails its batch, until the third receipt.",
    "c": "",
    "d": "Only the batches that hold a poison order fail; the other batches are deleted after one "
         "receipt, and 4 poison orders have at most 9 batch-mates each.",
}, hints=(
    "A batch succeeds or fails as a whole: which messages come back to the queue when a poison "
    "order fails its batch?",
    "4 poison orders, batches of up to 10, a redrive after 3 receipts: do a poison order's "
    "batch-mates ever get a receipt without it?",
), why="Without a partial batch response a poison message fails its whole batch at every "
       "receipt, so its batch-mates reach the redrive limit with it; with "
       "ReportBatchItemFailures only the messages the handler names come back.")
