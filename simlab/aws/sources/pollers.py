"""Pollers of event source mappings: reading a stream's shards in order, batch by batch.

For queues and streams Lambda runs the *consumer* itself: an event source mapping whose pollers read
records and invoke the function **synchronously**, one batch at a time. This module holds the stream
pollers and what every poller shares.

A stream poller owns a *lane*: a shard, or with a parallelization factor above 1 one of the shard's
slots (records are spread over the slots by partition key). A lane has at most one batch in flight
and reads its records strictly in order, so:

* when a batch fails, the lane retries that same batch and reads nothing behind it (the shard is
  *blocked*); a bisected batch's halves are retried first half first;
* a batch leaves the lane only by succeeding or by being discarded (retries used up, records too
  old), and a discarded batch is described to the on-failure destination;
* the poller waits for its next poll tick when it has caught up, for the batching window when one is
  set, and backs off when throttled.

Nothing here polls needlessly: a lane wakes only when it has something to do (a record due at a poll
tick, a window ending, a retry, a finished invocation), since all arrival times are known up front.

The engine decides an invocation's outcome from the function's ``error_rate`` when it starts and
reads it when it ends; :func:`force_error` turns an invocation in flight into a function error:
that is how a *poison* record (one that always fails) is modelled.
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import simpy

from simlab.aws.sources.payloads import PayloadContext, records_event
from simlab.core import validate
from simlab.core.ids import request_id
from simlab.core.invocation import POLL, THROTTLED, Call
from simlab.core.schema import STATUSES

if TYPE_CHECKING:  # pragma: no cover
    from simlab.aws.simulation import Run

__all__ = ["StreamLog", "OUTCOMES", "MAX_BATCH_BYTES", "force_error", "later", "check_whole",
           "check_seconds", "check_destination", "run_destination", "check_predicate",
           "backoff_s", "reported_failures"]

#: A batch never carries more than this many bytes of event (AWS's 6 MB invocation payload).
MAX_BATCH_BYTES = 6 * 1024 * 1024
#: First wait of a poller after a throttled invocation; it doubles up to MAX_BACKOFF_S.
THROTTLE_BACKOFF_S = 1.0
MAX_BACKOFF_S = 60.0
#: What became of a record: still waiting (or blocked) at the end, processed, discarded after the
#: last retry, discarded as too old, or never read (older than the starting position).
OUTCOMES: tuple[str, ...] = ("pending", "ok", "discarded_retries", "discarded_age", "skipped")
_PENDING, _OK, _RETRIES, _AGE, _SKIPPED = range(5)
_CONDITION = {_RETRIES: "RetryAttemptsExhausted", _AGE: "RecordAgeExceeded"}


def backoff_s(throttles: int) -> float:
    """The wait after the ``throttles``-th throttled attempt in a row: 1, 2, 4... up to 60 s."""
    return min(MAX_BACKOFF_S, THROTTLE_BACKOFF_S * 2.0 ** (throttles - 1))


def check_whole(name: str, value: Any, low: int, high: int, *, also: tuple[int, ...] = ()) -> int:
    """Return ``value`` if it is a whole number in ``[low, high]`` or in ``also``; else raise."""
    if not validate.is_whole(value) or not (low <= value <= high or value in also):
        alt = "".join(f"{a} or " for a in also)
        raise validate.BadInput(
            f"{name} must be a whole number, {alt}{low:,} to {high:,}; got {value!r}")
    return int(value)


def check_seconds(name: str, value: Any, low: float, high: float, *,
                  also: tuple[float, ...] = ()) -> float:
    """Return ``value`` as float if it is a finite number in ``[low, high]`` or in ``also``."""
    ok = validate.is_real(value) and math.isfinite(value)
    if not ok or not (low <= value <= high or value in also):
        alt = "".join(f"{a:g} or " for a in also)
        raise validate.BadInput(f"{name} must be {alt}{low:,g} to {high:,g} seconds; got {value!r}")
    return float(value)


def check_destination(name: str, destination: Any) -> Any:
    """Return ``destination`` if it is None or has a ``deliver(time_s, record, run)`` method.

    That is the protocol of :mod:`simlab.aws.sources.destinations` (``Queue``, ``DeadLetterQueue``,
    ``LambdaDestination``...) and of :class:`simlab.aws.sources.sqs.SQSQueue`.
    """
    if destination is not None and not callable(getattr(destination, "deliver", None)):
        raise TypeError(f"{name} must be None or a destination with a deliver(time_s, record, run) "
                        f"method (e.g. simlab.sources.Queue or simlab.sources.sqs.SQSQueue); "
                        f"got {destination!r}")
    return destination


def run_destination(run: Run, destination: Any) -> Any:
    """The object that collects ``destination``'s records in ``run``.

    A configuration object of :mod:`simlab.aws.sources.destinations` gets one copy per run
    (:meth:`~simlab.aws.sources.destinations.Destination.run_copy`), the run's service ``name``
    (so ``result.output(name)``), shared by every source of the run that names it; anything
    else is used as it is.
    """
    if not callable(getattr(destination, "run_copy", None)):
        return destination
    return destination.run_copy(run)


def check_predicate(name: str, predicate: Any) -> Any:
    """Return ``predicate`` if it is None or callable."""
    if predicate is not None and not callable(predicate):
        raise TypeError(f"{name} must be None or a function of one record, got {predicate!r}")
    return predicate


def ask_predicate(source: str, name: str, predicate: Callable[[Any], Any], item: Any) -> bool:
    """``bool(predicate(item))``; a predicate that raises is a clear error naming the source,
    the predicate and the item (``source`` as ``"SQS queue 'orders'"``)."""
    try:
        return bool(predicate(item))
    except Exception as err:
        raise validate.BadInput(
            f"{source}: the {name} predicate raised {type(err).__name__}: {err} on {item!r}; "
            f"{name} must return True or False for every "
            f"{type(item).__name__}") from err


def force_error(call: Call) -> None:
    """Make an invocation still in flight end with a function error (a poison record).

    A timeout or an out-of-memory kill stays what it is (see :meth:`Call.fail`).
    """
    call.fail()


def later(kernel: simpy.Environment, delay: float, action: Callable[..., Any], *args: Any) -> None:
    """Call ``action(*args)`` after ``delay`` simulated seconds."""
    ev = simpy.Timeout(kernel, max(delay, 0.0))
    ev.callbacks.append(lambda _ev: action(*args))


def reported_failures(output: Any, ids: Callable[[], list[str]]) -> list[int] | None:
    """The items a partial batch response (``ReportBatchItemFailures``) reports as failed.

    ``output`` is what the handler returned, ``ids()`` the batch's item identifiers in order
    (message ids, or sequence numbers). Returns the failed positions, sorted (empty when the
    response reports none: no ``batchItemFailures``, or an empty one), or ``None`` when the
    response names an item that is not in the batch, or no item at all: Lambda then counts the
    whole batch as failed (AWS: with-sqs.html, "Reporting batch item failures").
    """
    if not isinstance(output, dict) or not output.get("batchItemFailures"):
        return []
    failures = output["batchItemFailures"]
    if not isinstance(failures, list):
        return None
    where = {x: i for i, x in enumerate(ids())}
    out = set()
    for item in failures:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(ident, str) or ident not in where:
            return None
        out.add(where[ident])
    return sorted(out)


class StreamRecords:
    """The records of one stream during one run, as arrays in sequence (arrival) order."""

    def __init__(self, t: np.ndarray, key: np.ndarray, keys: list[str], size: np.ndarray,
                 extra: Any, shards: int, factor: int) -> None:
        # keep only the keys in use (hashing a million unused keys costs)
        used, key = np.unique(key, return_inverse=True)
        keys = [keys[u] for u in used]
        hashes = [int.from_bytes(hashlib.md5(k.encode()).digest(), "big") for k in keys]
        shard_of = np.array([h * shards >> 128 for h in hashes], dtype=np.int64)
        slot_of = np.array([h % factor for h in hashes], dtype=np.int64)
        self.t, self.key, self.keys, self.size, self.extra = t, key, keys, size, extra
        self.shard, self.slot = shard_of[key], slot_of[key]
        self.poison: np.ndarray | None = None


class _Batch:
    """A range ``[a, b)`` of a lane's records being processed, with its retry bookkeeping."""

    __slots__ = ("a", "b", "errors", "attempt", "invokes", "throttles", "ran", "iid", "row")

    def __init__(self, a: int, b: int, errors: int = 0, attempt: int = 1, invokes: int = 0,
                 ran: bool = False) -> None:
        self.a, self.b, self.errors, self.attempt, self.invokes = a, b, errors, attempt, invokes
        self.throttles, self.ran, self.iid, self.row = 0, ran, -1, -1

    def half(self, a: int, b: int) -> _Batch:
        return _Batch(a, b, self.errors, self.attempt + 1, self.invokes, self.ran)


class _Lane:
    """One poller: a shard (or a slot of it); one batch in flight at a time, in order."""

    __slots__ = ("m", "shard", "slot", "idx", "t", "cum", "head", "work", "offset", "window")

    def __init__(self, m: StreamMapping, shard: int, slot: int, idx: np.ndarray,
                 offset: float) -> None:
        self.m, self.shard, self.slot, self.idx, self.offset = m, shard, slot, idx, offset
        self.t = m.recs.t[idx]
        self.cum = np.cumsum(m.recs.size[idx])
        self.head = 0
        self.work: deque[_Batch] = deque()  # halves of a bisected batch, in order
        self.window = False

    def tick_at(self, t: float) -> float:
        """The first poll of this lane at or after ``t``."""
        dt = self.m.src.poll_interval_s
        tick = self.offset + math.ceil((t - self.offset) / dt) * dt
        return tick if tick >= t else tick + dt

    def start(self) -> None:
        now = self.m.kernel.now
        later(self.m.kernel, self.tick_at(max(float(self.t[0]), now)) - now, self.next)

    def next(self) -> None:
        """The lane is free: send the next batch, or wait for records (or the batching window)."""
        while not self.m.engine.closing:
            batch = self.work.popleft() if self.work else self.fresh()
            if batch is None or self.send(batch):
                return

    def fresh(self) -> _Batch | None:
        m, t, head = self.m, self.t, self.head
        if head >= len(t):
            return None
        now = m.kernel.now
        if t[head] > now:
            later(m.kernel, self.tick_at(float(t[head])) - now, self.next)
            return None
        size = m.src.batch_size
        if m.src.batching_window_s > 0 and not self.window:
            end = now + m.src.batching_window_s
            if head + size - 1 < len(t):
                end = min(end, max(float(t[head + size - 1]), now))
            if end > now:
                self.window = True
                later(m.kernel, end - now, self.next)
                return None
        self.window = False
        b = min(int(np.searchsorted(t, now, side="right")), head + size)
        base = self.cum[head - 1] if head else 0
        b = max(head + 1, min(b, int(np.searchsorted(self.cum, base + MAX_BATCH_BYTES, "right"))))
        self.head = b
        return _Batch(head, b)

    def send(self, batch: _Batch) -> bool:
        """Invoke the function with ``batch``; False if all its records were too old."""
        m = self.m
        now = m.kernel.now
        if m.max_age < math.inf:
            cut = batch.a + int(np.searchsorted(self.t[batch.a:batch.b], now - m.max_age, "left"))
            if cut > batch.a:
                m.discard(self, batch, batch.a, cut, _AGE)
                batch.a = cut
                if cut == batch.b:
                    return False
        if m.invoke(self, batch) is None:
            batch.attempt += 1
            batch.throttles += 1
            later(m.kernel, backoff_s(batch.throttles), self.resend, batch)
        return True

    def resend(self, batch: _Batch) -> None:
        if not self.m.engine.closing and not self.send(batch):
            self.next()

    def done(self, call: Call, batch: _Batch) -> None:
        """The batch's invocation ended: move on, retry, bisect or discard."""
        m = self.m
        m.log.status[batch.row] = call.status
        partial = False
        if not call.failed and m.src.report_batch_item_failures:
            failures = m.item_failures(self, batch, call)
            partial = failures is None or bool(failures)
            if failures:  # checkpoint: the records before the first failure are done
                first = batch.a + failures[0]
                if first > batch.a:
                    m.settle(self, batch, batch.a, first, _OK)
                    batch.a = first
        if not call.failed and not partial:
            m.settle(self, batch, batch.a, batch.b, _OK)
            self.next()
        elif call.failed and m.src.bisect_on_error and batch.b - batch.a > 1:
            mid = (batch.a + batch.b) // 2
            self.work.appendleft(batch.half(mid, batch.b))
            self.work.appendleft(batch.half(batch.a, mid))
            later(m.kernel, m.src.poll_interval_s, self.next)
        else:
            batch.errors += 1
            if 0 <= m.src.max_retries < batch.errors:
                m.discard(self, batch, batch.a, batch.b, _RETRIES)
                self.next()
            else:
                batch.attempt += 1
                later(m.kernel, m.src.poll_interval_s, self.resend, batch)


class StreamMapping:
    """One event source mapping (the stream feeding one function) during one run."""

    def __init__(self, src: Any, run: Run, target: str, recs: StreamRecords,
                 log: StreamLog, ctx: PayloadContext) -> None:
        self.src, self.run, self.recs, self.log, self.ctx = src, run, recs, log, ctx
        self.kernel, self.engine = run.kernel, run.engine
        self.fn = run.engine.function(target)
        self.code = run.engine.source_index(src.name or src.kind)
        self.wants_payload = self.fn.cfg.handler is not None
        age = src.max_record_age_s if src.max_record_age_s >= 0 else math.inf
        self.max_age = min(age, src.retention_s)
        n = len(recs.t)
        self.outcome = np.zeros(n, np.int8)
        self.done_s = np.full(n, np.nan)
        self.last_iid = np.full(n, -1, np.int64)
        first = {"LATEST": 0.0, "TRIM_HORIZON": -math.inf}.get(src.starting_position,
                                                             src.starting_position_timestamp_s)
        skipped = recs.t < first
        self.outcome[skipped] = _SKIPPED
        log.mappings.append(self)
        rng = run.rng("source", src.name or src.kind, "poller", target)
        live = np.flatnonzero(~skipped)
        factor = src.parallelization_factor
        lane = recs.shard[live] * factor + recs.slot[live]
        order = np.argsort(lane, kind="stable")  # stable: sequence order within each lane
        codes, starts = np.unique(lane[order], return_index=True)
        # A stream that got no record (or none after the starting position) has no busy lane.
        groups = np.split(live[order], starts[1:]) if live.size else []
        self.lanes = [_Lane(self, int(c) // factor, int(c) % factor, idx,
                            float(rng.uniform(0.0, src.poll_interval_s)))
                      for c, idx in zip(codes, groups, strict=True)]

    def start(self) -> None:
        for lane in self.lanes:
            lane.start()

    def event(self, lane: _Lane, a: int, b: int) -> dict[str, Any]:
        """The event of a batch: ``{"Records": [...]}`` with the real record shapes."""
        return records_event([self.src.record_dict(self.recs, int(i), self.ctx)
                              for i in lane.idx[a:b]])

    def invoke(self, lane: _Lane, batch: _Batch) -> Call | None:
        engine, a, b = self.engine, batch.a, batch.b
        now = self.kernel.now
        iid = engine.new_invocation_id()
        payload = self.event(lane, a, b) if self.wants_payload else None
        call = engine.invoke(self.fn, source=self.code, invocation_type=POLL,
                             attempt=batch.attempt, on_done=lambda c: lane.done(c, batch),
                             payload=payload, iid=iid)
        age_ms = (now - float(lane.t[b - 1])) * 1000.0
        engine.annotate(iid, "iterator_age_ms", age_ms)
        batch.iid, batch.ran = iid, call is not None
        batch.row = self.log.add(lane, a, b, iid, now, age_ms, batch.attempt,
                                 -1 if call is not None else THROTTLED)
        if call is not None:
            batch.invokes += 1
            if (self.recs.poison is not None and not self.src.report_batch_item_failures
                    and self.recs.poison[lane.idx[a:b]].any()):
                force_error(call)
        return call

    def item_failures(self, lane: _Lane, batch: _Batch, call: Call) -> list[int] | None:
        """Positions in ``batch`` of the records reported failed (poison records, and what a real
        handler's partial batch response names); None if the response is invalid."""
        idx = lane.idx[batch.a:batch.b]
        reported = reported_failures(call.output, lambda: [
            self.src.sequence_string(int(i)) for i in idx])
        if reported is None:
            return None
        if self.recs.poison is not None:
            reported = sorted(set(reported) | set(np.flatnonzero(self.recs.poison[idx]).tolist()))
        return reported

    def settle(self, lane: _Lane, batch: _Batch, a: int, b: int, outcome: int) -> None:
        idx = lane.idx[a:b]
        self.outcome[idx] = outcome
        self.done_s[idx] = self.kernel.now
        self.last_iid[idx] = batch.iid

    def discard(self, lane: _Lane, batch: _Batch, a: int, b: int, outcome: int) -> None:
        """Give up on records ``[a, b)`` of ``lane``; tell the on-failure destination."""
        self.settle(lane, batch, a, b, outcome)
        if self.src.on_failure is None:
            return
        ctx, src, t = self.ctx, self.src, self.recs.t
        first, last = int(lane.idx[a]), int(lane.idx[b - 1])
        rid = (request_id(self.run.seed, batch.iid) if batch.iid >= 0
               else ctx.uuid(f"esm-discard:{src.name}", len(self.log.failures)))
        msg: dict[str, Any] = {"requestContext": {
            "requestId": rid,
            "functionArn": f"arn:aws:lambda:{ctx.region}:{ctx.account}:function:{self.fn.name}",
            "condition": _CONDITION[outcome],
            "approximateInvokeCount": batch.invokes}}
        if batch.ran:
            msg["responseContext"] = {"statusCode": 200, "executedVersion": "$LATEST",
                                      "functionError": "Unhandled"}
        msg["version"] = "1.0"
        msg["timestamp"] = ctx.iso_ms(self.kernel.now)
        msg[src.batch_info] = {
            "shardId": src.shard_id(lane.shard, ctx),
            "startSequenceNumber": src.sequence_string(first),
            "endSequenceNumber": src.sequence_string(last),
            "approximateArrivalOfFirstRecord": ctx.iso_ms(float(t[first])),
            "approximateArrivalOfLastRecord": ctx.iso_ms(float(t[last])),
            "batchSize": b - a,
            "streamArn": src.arn(ctx)}
        self.log.failures.append(msg)
        run_destination(self.run, src.on_failure).deliver(self.kernel.now, msg, self.run)


_BATCH_COLUMNS = ("invocation_id", "function", "shard", "slot", "t_s", "records",
                  "first_sequence_number", "last_sequence_number", "attempt", "iterator_age_ms")


class StreamLog:
    """What the event source mappings of one stream did during one run.

    Found in ``result.output("kinesis:<stream>")`` or ``result.output("dynamodb:<table>")``.

    Attributes
    ----------
    failures
        The messages sent to the on-failure destination (AWS's invocation-record shape: a
        ``requestContext``, a ``responseContext`` if the batch ran, and ``KinesisBatchInfo`` or
        ``DDBStreamBatchInfo`` locating the discarded records).
    """

    #: What :meth:`outcomes` counts (a column of ``Result.outcomes()``).
    outcome_unit = "record"

    def __init__(self, kind: str, stream: str) -> None:
        self.kind, self.stream = kind, stream
        self.failures: list[dict[str, Any]] = []
        self.mappings: list[StreamMapping] = []
        self.status: list[int] = []
        self._rows: dict[str, list[Any]] = {c: [] for c in _BATCH_COLUMNS}
        self._where: list[tuple[_Lane, int, int]] = []

    def add(self, lane: _Lane, a: int, b: int, iid: int, t_s: float, age_ms: float,
            attempt: int, status: int) -> int:
        """Log one batch invocation; return its row."""
        for column, value in zip(_BATCH_COLUMNS, (
                iid, lane.m.fn.name, lane.shard, lane.slot, t_s, b - a, int(lane.idx[a]),
                int(lane.idx[b - 1]), attempt, age_ms), strict=True):
            self._rows[column].append(value)
        self.status.append(status)
        self._where.append((lane, a, b))
        return len(self.status) - 1

    @property
    def batches(self) -> pd.DataFrame:
        """One row per batch invocation: which records (``records`` of them, from
        ``first_sequence_number`` to ``last_sequence_number``), when (``t_s``), the attempt,
        ``iterator_age_ms`` and the invocation's ``status``."""
        df = pd.DataFrame(self._rows)
        df["status"] = pd.Categorical.from_codes(np.asarray(self.status, np.int64), STATUSES)
        return df

    def deliveries(self) -> pd.DataFrame:
        """One row per (record, invocation) pair: every invocation each record was part of."""
        lengths = np.array([b - a for _, a, b in self._where], dtype=np.int64)
        seqs = [lane.idx[a:b] for lane, a, b in self._where]
        return pd.DataFrame({
            "function": np.repeat(np.asarray(self._rows["function"], dtype=object), lengths),
            "sequence_number": np.concatenate(seqs) if seqs else np.zeros(0, np.int64),
            "invocation_id": np.repeat(np.asarray(self._rows["invocation_id"], np.int64),
                                       lengths)})

    @property
    def records(self) -> pd.DataFrame:
        """One row per record and mapping: where it went (``shard``, ``slot``), its
        ``partition_key``, ``arrival_s``, the ``outcome`` (see :data:`OUTCOMES`), when it was
        settled (``processed_s``), how many ``invocations`` carried it, and the last of them
        (``invocation_id``, -1 if none)."""
        deliveries = self.deliveries()
        parts = []
        for m in self.mappings:
            r, n = m.recs, len(m.recs.t)
            seq = deliveries.loc[deliveries["function"] == m.fn.name, "sequence_number"]
            parts.append(pd.DataFrame({
                "function": m.fn.name, "sequence_number": np.arange(n), "shard": r.shard,
                "slot": r.slot, "partition_key": np.asarray(r.keys, dtype=object)[r.key],
                "arrival_s": r.t, "processed_s": m.done_s,
                "outcome": pd.Categorical.from_codes(m.outcome, OUTCOMES),
                "invocations": np.bincount(seq.to_numpy(np.int64), minlength=n),
                "invocation_id": m.last_iid}))
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def outcomes(self) -> pd.DataFrame:
        """How many records ended in each state (:data:`OUTCOMES`), per function reading the
        stream: columns ``function``, ``outcome`` and ``count``. Every record put during the run
        (or already in the stream at its start) is counted once per mapping."""
        counts: dict[str, np.ndarray] = {}
        for m in self.mappings:
            n = np.bincount(m.outcome, minlength=len(OUTCOMES))
            counts[m.fn.name] = counts.get(m.fn.name, 0) + n
        rows = [(f, o, int(c)) for f, n in counts.items() for o, c in zip(OUTCOMES, n,
                                                                          strict=True)]
        return pd.DataFrame(rows, columns=["function", "outcome", "count"])

    def iterator_age(self, function: str | None = None) -> pd.DataFrame:
        """IteratorAge over time, per shard: ``t_s``, ``function``, ``shard``, ``iterator_age_ms``
        of every batch invocation that ran (throttled attempts left out)."""
        df = self.batches
        keep = df["status"] != "throttled"
        if function is not None:
            keep &= df["function"] == function
        return df.loc[keep, ["t_s", "function", "shard", "iterator_age_ms"]].reset_index(
            drop=True)

    def event(self, invocation_id: int) -> dict[str, Any]:
        """The event (``{"Records": [...]}``) that batch invocation ``invocation_id`` carried."""
        try:
            row = self._rows["invocation_id"].index(invocation_id)
        except ValueError:
            raise KeyError(f"invocation {invocation_id!r} is not a batch of this stream") from None
        lane, a, b = self._where[row]
        return lane.m.event(lane, a, b)

    def __repr__(self) -> str:
        return (f"StreamLog({self.kind}:{self.stream}, batches={len(self.status)}, "
                f"failures={len(self.failures)})")
