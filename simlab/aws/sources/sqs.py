"""Amazon SQS standard queues as event sources: batches, visibility timeout, redrive, scaling.

An SQS queue keeps messages until a consumer deletes them. Lambda's event source mapping polls the
queue, receives up to ``batch_size`` messages and invokes the function *synchronously* with them.
Receiving a message does not remove it: it becomes **invisible** for the queue's
``visibility_timeout_s``. When the function succeeds, Lambda deletes the batch. When it fails, or is
throttled, nothing is deleted: the messages reappear when their visibility timeout ends and are
received again, their ``ApproximateReceiveCount`` one higher. A **redrive policy** moves a message
received ``max_receive_count`` times to a **dead-letter queue** instead of delivering it again, so
one bad message cannot be retried forever.

A standard queue has **no order**: a failing message blocks nobody (compare a stream shard), and a
retried message comes back after newer ones. Delivery is *at least once*: if the visibility timeout
is shorter than the time a batch takes, the batch reappears while it is still being processed and
runs twice. That is why the visibility timeout must be at least the function's timeout (AWS
recommends six times it), and why simlab refuses a shorter one.

The mapping **scales** with the backlog: it starts with 5 concurrent batches and, while messages
wait, adds 300 more per minute up to 1,250 (before late 2023: 60 per minute up to 1,000); it shrinks
back at the same pace when the queue is empty. ``max_concurrency`` (2 to 1,000, since January 2023)
caps it, which protects what the function calls downstream. Throttled invocations make the
poller back off (1 s, doubling up to 60 s).

After a run, ``result.output("sqs:<queue>")`` is a :class:`QueueLog`: one row per message and per
batch invocation, the mapping's concurrency limit over time, and the dead-lettered messages. As
for streams, a batch's event (SQS's record shape) is built during the run only for a function with
a real ``handler``; :meth:`QueueLog.event` builds it afterwards.
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
import math
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from simlab.aws.sources.arrivals import ArrivalProcess
from simlab.aws.sources.base import Source
from simlab.aws.sources.handlers import install_handler_runner
from simlab.aws.sources.payloads import PayloadContext, records_event, sqs_record
from simlab.aws.sources.pollers import (
    MAX_BATCH_BYTES,
    ask_predicate,
    backoff_s,
    check_predicate,
    check_seconds,
    check_whole,
    force_error,
    later,
    reported_failures,
)
from simlab.aws.sources.queue_log import (
    MESSAGE_OUTCOMES,
    OUTCOME_DEAD,
    OUTCOME_EXPIRED,
    OUTCOME_OK,
    OUTCOME_PENDING,
    MessageState,
    QueueLog,
    QueueMessage,
)
from simlab.core import validate
from simlab.core.invocation import POLL, THROTTLED, Call

if TYPE_CHECKING:  # pragma: no cover
    from simlab.aws.simulation import Run
    from simlab.core.config import FunctionConfig

__all__ = ["SQSQueue", "QueueLog", "QueueMessage", "MESSAGE_OUTCOMES", "FAST_SCALING_SINCE",
           "MAX_CONCURRENCY_SINCE"]

#: The mapping's faster scale-up (+300/min up to 1,250) is used for eras from this date on
#: (announced in 2023; the exact day is not confirmed, see LAMBDA_FACTS section 10).
FAST_SCALING_SINCE = dt.date(2023, 11, 1)
#: ScalingConfig.MaximumConcurrency exists from this date on (checked by simlab.core.features).
MAX_CONCURRENCY_SINCE = dt.date(2023, 1, 12)
_START_BATCHES = 5


class _Mapping:
    """One event source mapping: the queue feeding one function, with its own scaling."""

    def __init__(self, q: QueueRun, target: str, run: Run) -> None:
        src = q.src
        self.q, self.src = q, src
        self.fn = run.engine.function(target)
        self.code = run.engine.source_index(src.name or src.kind)
        self.wants_payload = self.fn.cfg.handler is not None
        fast = run.simulation.rules.date >= FAST_SCALING_SINCE
        cap = 1_250 if fast else 1_000
        if src.max_concurrency is not None:
            cap = min(cap, src.max_concurrency)
        self.cap, self.rate = float(cap), (300.0 if fast else 60.0) / 60.0
        self.floor = float(min(_START_BATCHES, cap))
        self.limit, self.scaled_at, self.backlogged = self.floor, 0.0, False
        self.in_flight, self.throttles, self.backoff_until = 0, 0, 0.0
        self.window_end: float | None = None
        q.log.scaling.append((0.0, self.fn.name, int(self.limit)))

    def scale(self, now: float) -> None:
        """Grow the limit while messages waited since the last event; shrink it otherwise."""
        step = self.rate * (now - self.scaled_at)
        old = int(self.limit)
        self.limit = (min(self.cap, self.limit + step) if self.backlogged
                      else max(self.floor, self.limit - step))
        self.scaled_at = now
        if int(self.limit) != old:
            self.q.log.scaling.append((now, self.fn.name, int(self.limit)))

    def dispatch(self, now: float) -> float:
        """Send batches while there is room; return when this mapping next needs waking."""
        q, size, window = self.q, self.src.batch_size, self.src.batching_window_s
        self.scale(now)
        while self.in_flight < int(self.limit) and now >= self.backoff_until and q.ready:
            if len(q.ready) < size and window > 0:
                if self.window_end is None:
                    self.window_end = now + window
                if now < self.window_end:
                    break
            self.window_end = None
            batch = q.take(size, now)
            if batch:
                self.invoke(batch, now)
        self.backlogged = bool(q.ready) and self.in_flight >= int(self.limit)
        wake = math.inf
        if now < self.backoff_until:
            wake = self.backoff_until
        elif self.in_flight < int(self.limit):
            wake = q.next_arrival(size - len(q.ready) if self.window_end is not None else 1)
            if self.window_end is not None:
                wake = min(wake, self.window_end)
        elif self.backlogged and self.limit < self.cap:
            wake = now + (math.floor(self.limit) + 1 - self.limit) / self.rate
        return wake

    def invoke(self, batch: list[MessageState], now: float) -> None:
        q, engine = self.q, self.q.engine
        iid = engine.new_invocation_id()
        payload = q.event(batch) if self.wants_payload else None
        attempt = max(m.receives for m in batch)
        row = q.log.add(iid, self.fn.name, now, batch, attempt, -1)
        call = engine.invoke(self.fn, source=self.code, invocation_type=POLL, attempt=attempt,
                             on_done=lambda c: self.done(c, batch, row), payload=payload,
                             iid=iid)
        for m in batch:
            m.iid = iid
        if call is None:  # the messages come back after their visibility timeout
            q.log.status[row] = THROTTLED
            self.throttles += 1
            self.backoff_until = now + backoff_s(self.throttles)
            return
        self.in_flight += 1
        if not self.src.report_batch_item_failures and any(m.poison for m in batch):
            force_error(call)

    def done(self, call: Call, batch: list[MessageState], row: int) -> None:
        q = self.q
        q.log.status[row] = call.status
        self.in_flight -= 1
        failed: list[int] | None = []
        if not call.failed and self.src.report_batch_item_failures:
            failed = self.item_failures(call, batch)
        if not call.failed and failed is not None:
            self.throttles = 0
            now = q.kernel.now
            keep = set(failed)  # reported failures reappear after their visibility timeout
            for i, m in enumerate(batch):
                # delete the others (a duplicate may still be in flight)
                if i not in keep and m.outcome == OUTCOME_PENDING:
                    m.outcome, m.done_s, m.function, m.iid = OUTCOME_OK, now, self.fn.name, call.iid
        q.pump()

    def item_failures(self, call: Call, batch: list[MessageState]) -> list[int] | None:
        """Positions in ``batch`` of the messages reported failed (poison messages, and what a
        real handler's partial batch response names); None if the response is invalid."""
        reported = reported_failures(call.output,
                                     lambda: [self.q.record(m)["messageId"] for m in batch])
        if reported is None:
            return None
        return sorted(set(reported) | {i for i, m in enumerate(batch) if m.poison})


class QueueRun:
    """The queue during one run: its messages, visible or not, and the mappings reading it."""

    def __init__(self, src: SQSQueue, run: Run, log: QueueLog) -> None:
        self.src, self.run, self.log = src, run, log
        self.kernel, self.engine = run.kernel, run.engine
        self.ctx = PayloadContext(seed=run.seed, epoch=run.epoch)
        self.ready: deque[MessageState] = deque()
        self.hidden: list[tuple[float, int, MessageState]] = []  # (visible_at, number, message)
        self.arrivals: list[float] = []
        self.bodies: list[str] | None = None
        self.cursor = 0
        self.mappings: list[_Mapping] = []
        self.seeded, self.wake_at, self.turn = False, math.inf, 0

    def seed(self, run: Run) -> None:
        """Schedule the messages the source sends (once per run)."""
        if self.seeded:
            return
        self.seeded = True
        src = self.src
        if src.process is not None:
            self.arrivals = src.process.times(run.rng("source", src.name or src.kind, "messages"),
                                              run.until_s).tolist()
        elif src.times is not None:
            n = int(np.searchsorted(src.times, run.until_s, side="left"))
            self.arrivals, self.bodies = src.times[:n].tolist(), src.bodies

    def put(self, body: str, sent: float) -> MessageState:
        number = len(self.log.messages)
        poison = self.src.poison is not None and ask_predicate(
            f"SQS queue {self.src.queue_name!r}", "poison", self.src.poison,
            QueueMessage(number, body, sent))
        m = MessageState(number, body, sent, poison)
        self.log.messages.append(m)
        return m

    def admit(self, now: float) -> None:
        """Make visible what has arrived or whose visibility timeout ended."""
        arrivals, bodies, i = self.arrivals, self.bodies, self.cursor
        n = len(arrivals)
        while i < n and arrivals[i] <= now:
            self.ready.append(self.put(bodies[i] if bodies is not None else f'{{"n": {i}}}',
                                       arrivals[i]))
            i += 1
        self.cursor = i
        hidden = self.hidden
        while hidden and hidden[0][0] <= now:
            t, _, m = heapq.heappop(hidden)
            if m.outcome == OUTCOME_PENDING and m.visible_at == t:
                self.ready.append(m)

    def next_arrival(self, k: int) -> float:
        """When the ``k``-th next message is due (new arrivals; the next reappearance too)."""
        hidden = self.hidden
        while hidden and (hidden[0][2].outcome != OUTCOME_PENDING or hidden[0][2].visible_at
                          != hidden[0][0]):
            heapq.heappop(hidden)  # deleted, or received again since: nothing will reappear
        t = math.inf
        j = self.cursor + max(k, 1) - 1
        if j < len(self.arrivals):
            t = self.arrivals[j]
        elif self.cursor < len(self.arrivals):
            t = self.arrivals[-1]
        return min(t, self.hidden[0][0]) if self.hidden else t

    def take(self, k: int, now: float) -> list[MessageState]:
        """Receive up to ``k`` visible messages (redriving and expiring on the way)."""
        src, out, size = self.src, [], 0
        while self.ready and len(out) < k:
            m = self.ready[0]
            if now - m.sent >= src.retention_s:
                self.ready.popleft()
                m.outcome, m.done_s = OUTCOME_EXPIRED, now
                continue
            if src.max_receive_count is not None and m.receives >= src.max_receive_count:
                self.ready.popleft()
                self.redrive(m, now)
                continue
            if out and size + m.size > MAX_BATCH_BYTES:
                break
            self.ready.popleft()
            m.receives += 1
            if m.receives == 1:
                m.first = now
            m.visible_at = now + src.visibility_timeout_s
            heapq.heappush(self.hidden, (m.visible_at, m.number, m))
            out.append(m)
            size += m.size
        return out

    def redrive(self, m: MessageState, now: float) -> None:
        m.outcome, m.done_s = OUTCOME_DEAD, now
        self.log.dead_letters.append(self.record(m))
        dlq = self.src.dead_letter_queue
        if dlq is not None:
            dlq.deliver_body(m.body, now, self.run)

    def record(self, m: MessageState) -> dict[str, Any]:
        return sqs_record(m.body, m.sent, queue=self.src.queue_name, number=m.number,
                          receive_count=max(m.receives, 1),
                          first_receive_s=None if math.isnan(m.first) else m.first, ctx=self.ctx)

    def event(self, batch: list[MessageState]) -> dict[str, Any]:
        """The event of a batch: ``{"Records": [...]}`` with SQS's message shape."""
        return records_event([self.record(m) for m in batch])

    def pump(self) -> None:
        """Hand out batches now, and arrange to be woken when something is next due."""
        if self.engine.closing:
            return
        now = self.kernel.now
        self.admit(now)
        n = len(self.mappings)
        self.turn = (self.turn + 1) % max(n, 1)  # take turns when several functions share a queue
        wake = min((self.mappings[(self.turn + j) % n].dispatch(now) for j in range(n)),
                   default=math.inf)
        if now < wake < self.wake_at:
            self.wake_at = wake
            later(self.kernel, wake - now, self._woken, wake)

    def _woken(self, at: float) -> None:
        if self.wake_at == at:
            self.wake_at = math.inf
        self.pump()


class SQSQueue(Source):
    """An SQS standard queue read by an event source mapping.

    Parameters
    ----------
    name
        The queue's name (1 to 80 letters, digits, ``-`` or ``_``; FIFO queues are not modelled).
    messages
        What is sent to the queue: an :class:`~simlab.aws.sources.arrivals.ArrivalProcess` (send
        times; bodies ``{"n": 0}``, ``{"n": 1}``...), a list of ``(time_s, body)``, or None for a
        queue fed only by other sources (as a destination or dead-letter queue).
    batch_size
        Messages per batch: 1 to 10,000; above 10 needs ``batching_window_s`` >= 1.
    batching_window_s
        How long to gather messages before invoking with a partial batch: 0 to 300 s.
    visibility_timeout_s
        How long a received message stays hidden: 0 to 43,200 s, and at least the timeout of every
        function reading the queue (AWS recommends 6 times it).
    max_receive_count
        Redrive policy: after this many receipts (1 to 1,000) a message goes to the dead-letter
        queue instead; None for no redrive.
    dead_letter_queue
        Another :class:`SQSQueue` the redriven messages are sent to (None: they are only listed in
        the log's ``dead_letters``).
    max_concurrency
        ScalingConfig.MaximumConcurrency: at most this many batches at once, 2 to 1,000 (eras
        from January 2023 on); None for the platform's limit.
    retention_s
        How long the queue keeps a message: 60 to 1,209,600 s (4 days by default).
    poison
        Optional predicate on a :class:`QueueMessage`: any batch holding a message for which it
        is true fails (whatever the function's ``error_rate``).
    report_batch_item_failures
        ``FunctionResponseTypes: ReportBatchItemFailures`` (since Nov 2021): the handler reports
        the messages it failed (``{"batchItemFailures": [{"itemIdentifier": <messageId>}]}``;
        poison messages count as reported) and only those return to the queue; the others are
        deleted. A function error still fails the whole batch.
    """

    kind = "sqs"
    output_type = QueueLog

    @property
    def output_key(self) -> str:
        """``"sqs:<queue>"``: the queue's log, shared by the run's senders and pollers."""
        return f"sqs:{self.queue_name}"

    def __init__(self, name: str, messages: ArrivalProcess | Sequence[tuple[float, str]] | None
                 = None, *, batch_size: int = 10, batching_window_s: float = 0.0,
                 visibility_timeout_s: float = 30.0, max_receive_count: int | None = None,
                 dead_letter_queue: SQSQueue | None = None, max_concurrency: int | None = None,
                 retention_s: float = 345_600.0,
                 poison: Callable[[QueueMessage], bool] | None = None,
                 report_batch_item_failures: bool = False) -> None:
        if not (isinstance(name, str) and 1 <= len(name) <= 80 and name.isascii()
                and all(c.isalnum() or c in "-_" for c in name)):
            hint = " (FIFO queues are not modelled)" if str(name).endswith(".fifo") else ""
            raise ValueError(f"name must be 1 to 80 letters, digits, '-' or '_'{hint}, "
                             f"got {name!r}")
        self.queue_name = name
        self.batch_size = check_whole("batch_size", batch_size, 1, 10_000)
        self.batching_window_s = check_seconds("batching_window_s", batching_window_s, 0, 300)
        if self.batch_size > 10 and self.batching_window_s < 1:
            raise ValueError(f"batch_size {batch_size} (> 10) needs batching_window_s >= 1 s, "
                             f"got batching_window_s={batching_window_s!r}")
        self.visibility_timeout_s = check_seconds("visibility_timeout_s", visibility_timeout_s,
                                                  0, 43_200)
        self.max_receive_count = (None if max_receive_count is None else
                                  check_whole("max_receive_count", max_receive_count, 1, 1_000))
        if dead_letter_queue is not None and not isinstance(dead_letter_queue, SQSQueue):
            raise TypeError(f"dead_letter_queue must be None or an SQSQueue, "
                            f"got {dead_letter_queue!r}")
        if dead_letter_queue is not None and max_receive_count is None:
            raise ValueError("dead_letter_queue needs max_receive_count (the redrive policy)")
        if dead_letter_queue is self:
            raise ValueError("dead_letter_queue must be another queue than the queue itself")
        self.dead_letter_queue = dead_letter_queue
        self.max_concurrency = (None if max_concurrency is None else
                                check_whole("max_concurrency", max_concurrency, 2, 1_000))
        self.retention_s = check_seconds("retention_s", retention_s, 60, 1_209_600)
        self.poison = check_predicate("poison", poison)
        if not isinstance(report_batch_item_failures, bool):
            raise TypeError(f"report_batch_item_failures must be True or False, "
                            f"got {report_batch_item_failures!r}")
        self.report_batch_item_failures = report_batch_item_failures
        self.process: ArrivalProcess | None = None
        self.times: np.ndarray | None = None
        self.bodies: list[str] | None = None
        if isinstance(messages, ArrivalProcess):
            self.process = messages
        elif messages is not None:
            self._messages_from_list(messages)

    def _messages_from_list(self, messages: Any) -> None:
        if isinstance(messages, str | bytes) or not isinstance(messages, Sequence):
            raise TypeError(f"messages must be an arrival process, a list of (time_s, body) or "
                            f"None, got {messages!r}")
        times, bodies = [], []
        for i, row in enumerate(messages):
            if not isinstance(row, tuple | list) or len(row) != 2:
                raise ValueError(f"messages[{i}] must be a (time_s, body) pair, got {row!r}")
            t, body = row
            times.append(check_seconds(f"messages[{i}] time", t, 0, math.inf))
            if not isinstance(body, str) or len(body.encode()) > 1_048_576:
                raise ValueError(f"messages[{i}] body must be a string of at most 1 MB "
                                 f"(1,048,576 bytes), got {type(body).__name__}")
            bodies.append(body)
        order = np.argsort(np.asarray(times, dtype=float), kind="stable")
        self.times = np.asarray(times, dtype=float)[order]
        self.bodies = [bodies[i] for i in order]

    def runtime(self, run: Run) -> QueueRun:
        """This queue in ``run`` (created on first use, by the source or by a sender)."""
        key = self.output_key
        log = run.service(key, lambda run: QueueLog(self.queue_name), shared=QueueLog)
        if log.runtime is None:
            log.runtime = QueueRun(self, run, log)
        elif log.runtime.src is not self:
            raise ValueError(f"two different SQSQueue objects want the output {key!r}: give "
                             f"each SQSQueue of a simulation its own name")
        return log.runtime

    def start(self, run: Run, targets: list[str]) -> None:
        # Whether the era had max_concurrency is checked with the other launch dates
        # (simlab.core.features), before the run.
        # That the visibility timeout covers every target's timeout is checked before the run
        # (check_config), when the queue is added and at every configuration update.
        install_handler_runner(run)
        q = self.runtime(run)
        if self.dead_letter_queue is not None:  # in the results even if nothing is redriven
            self.dead_letter_queue.runtime(run)
        q.seed(run)
        q.mappings.extend(_Mapping(q, target, run) for target in targets)
        later(run.kernel, 0.0, q.pump)

    def check_config(self, target: str, config: FunctionConfig,
                     at_s: float | None = None) -> None:
        """Refuse a target whose timeout is longer than this queue's visibility timeout (a batch
        would reappear while still being processed)."""
        timeout, visibility = config.timeout_s, self.visibility_timeout_s
        if visibility >= timeout:
            return
        advice = f"AWS recommends a visibility timeout of {6 * timeout:g} s (6 times)"
        if at_s is None:
            raise validate.BadInput(
                f"visibility_timeout_s of SQS queue {self.queue_name!r} must be at least the "
                f"timeout of function {target!r} ({timeout:g} s), got {visibility:g} s; {advice}")
        raise validate.BadInput(
            f"timeout_s of function {target!r} (update at {at_s:g} s) must be at most the "
            f"visibility timeout of SQS queue {self.queue_name!r} that feeds it "
            f"({visibility:g} s), got {timeout:g} s; {advice}")

    def deliver(self, time_s: float, record: dict[str, Any], run: Run) -> None:
        """Destination protocol: send ``record`` (as JSON text) to this queue now."""
        self.deliver_body(json.dumps(record, separators=(",", ":")), time_s, run)

    def deliver_body(self, body: str, time_s: float, run: Run) -> None:
        """Send a message with ``body`` to this queue now (during ``run``)."""
        q = self.runtime(run)
        q.ready.append(q.put(body, float(time_s)))
        if q.mappings:
            later(run.kernel, 0.0, q.pump)

    def __repr__(self) -> str:
        return (f"SQSQueue({self.queue_name!r}, batch_size={self.batch_size}, "
                f"visibility_timeout_s={self.visibility_timeout_s:g})")

    def feature_uses(self, label: str) -> Iterator[tuple[str, str]]:
        """The era-dated features (keys of :data:`simlab.core.features.FEATURES`) this source
        uses, each with where it is used, for the era check before the run."""
        yield "sqs_event_source", label
        if self.batching_window_s > 0:
            yield "sqs_batch_window", f"{label} batching_window_s={self.batching_window_s:g}"
        if self.batch_size > 10:
            yield "sqs_batch_window", f"{label} batch_size={self.batch_size}"
        if getattr(self, "report_batch_item_failures", False):
            yield "sqs_batch_item_failures", f"{label} report_batch_item_failures=True"
        if self.max_concurrency is not None:
            yield "sqs_max_concurrency", f"{label} max_concurrency={self.max_concurrency}"


