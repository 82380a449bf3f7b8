"""Kinesis Data Streams and DynamoDB Streams: shards, pollers and ordered batches.

A *stream* is an append-only log split into **shards**. A producer puts a record with a *partition
key*; the MD5 hash of the key picks the shard (each shard owns an equal slice of the 128-bit hash
range), so all records of one key land in one shard, in order, and get **sequence numbers** that
grow along it. A DynamoDB stream works the same way: one record per change of the table (INSERT,
MODIFY, REMOVE), with the item's key as partition key.

Lambda reads a stream through an **event source mapping**: a poller per shard asks for new records
(Kinesis once a second, DynamoDB Streams four times a second) and invokes the function
*synchronously* with a batch of up to ``batch_size`` records (fewer when the batching window ends
first; never more than 6 MB). While records are waiting it goes on at once; it idles only when it
has caught up with the shard.

Order is the point of a stream, and it has a price:

* **A failing batch blocks its shard.** The whole batch is retried, and nothing behind it in the
  shard is read, until it succeeds, until ``max_retries`` retries have failed, or until its records
  are older than ``max_record_age_s`` (at most the stream's retention, 24 h by default). Then the
  batch is discarded: a JSON document describing it (not the data) goes to the ``on_failure``
  destination, and the shard moves on. A *poison* record that always fails can hold up its shard
  for a day while the other shards keep flowing, and the shard's **IteratorAge** (now minus the
  arrival time of the last record of the batch in hand) grows: the metric to alarm on.
* ``bisect_on_error`` splits a failing batch in two and retries the halves; a split does not use up
  a retry, so a poison record is isolated in a few steps.
* ``parallelization_factor`` (1 to 10) lets one shard have that many batches in flight: records
  are spread over that many slots by partition key, so order still holds for every key.
* A throttled invocation is not a function error: the poller backs off (1 s, doubling up to 60 s)
  and tries again without counting a retry; the shard waits meanwhile.

After a run, ``result.output("kinesis:<stream>")`` (``"dynamodb:<table>"``) is a
:class:`StreamLog`: one row per record and per batch invocation, the iterator age of each shard
over time, and the messages sent to the on-failure destination. Every batch invocation also has
an ``iterator_age_ms`` column in ``result.invocations``.

The event of a batch (``{"Records": [...]}`` with AWS's record shapes) is built when the function
has a real ``handler``, which receives it; otherwise nobody reads it, so it is not built during the
run, and :meth:`StreamLog.event` builds it afterwards for any batch invocation.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from simlab.aws.sources.arrivals import ArrivalProcess
from simlab.aws.sources.base import Source
from simlab.aws.sources.handlers import install_handler_runner
from simlab.aws.sources.payloads import (
    PayloadContext,
    dynamodb_record,
    kinesis_record,
    kinesis_sequence_number,
)
from simlab.aws.sources.pollers import (
    OUTCOMES,
    StreamLog,
    StreamMapping,
    StreamRecords,
    ask_predicate,
    check_destination,
    check_predicate,
    check_seconds,
    check_whole,
)
from simlab.core import validate

if TYPE_CHECKING:  # pragma: no cover
    from simlab.aws.simulation import Run

__all__ = ["KinesisStream", "DynamoDBStream", "StreamLog", "StreamRecord", "OUTCOMES"]

_RECORD_OVERHEAD = 300  # bytes of JSON around each record's data in the event


class StreamRecord(NamedTuple):
    """One stream record, as a ``poison`` predicate sees it."""

    sequence_number: int
    shard: int
    partition_key: str
    arrival_s: float
    data: Any


class _StreamSource(Source):
    """What Kinesis and DynamoDB streams share: shards, the mapping's settings, the pollers."""

    output_type = StreamLog
    poll_interval_s = 1.0
    batch_info = "KinesisBatchInfo"
    positions: tuple[str, ...] = ("LATEST", "TRIM_HORIZON")
    retention_s = 86_400.0
    starting_position_timestamp_s = 0.0

    @property
    def output_key(self) -> str:
        """``"kinesis:<stream>"`` or ``"dynamodb:<table>"``: the stream's log, shared by the
        functions that read it."""
        return f"{self.kind}:{self.stream_name}"

    def _settings(self, shards: int, batch_size: int, batching_window_s: float,
                  parallelization_factor: int, starting_position: str, max_retries: int,
                  max_record_age_s: float, bisect_on_error: bool, on_failure: Any,
                  poison: Callable[[StreamRecord], bool] | None) -> None:
        self.shards = check_whole("shards", shards, 1, 500)
        self.batch_size = check_whole("batch_size", batch_size, 1, 10_000)
        self.batching_window_s = check_seconds("batching_window_s", batching_window_s, 0, 300)
        self.parallelization_factor = check_whole("parallelization_factor",
                                                  parallelization_factor, 1, 10)
        if starting_position not in self.positions:
            raise ValueError(f"starting_position must be one of {self.positions}, "
                             f"got {starting_position!r}")
        self.starting_position = starting_position
        self.max_retries = check_whole("max_retries", max_retries, 0, 10_000, also=(-1,))
        self.max_record_age_s = check_seconds("max_record_age_s", max_record_age_s, 60, 604_800,
                                              also=(-1,))
        if not isinstance(bisect_on_error, bool):
            raise TypeError(f"bisect_on_error must be True or False, got {bisect_on_error!r}")
        self.bisect_on_error = bisect_on_error
        self.on_failure = check_destination("on_failure", on_failure)
        self.poison = check_predicate("poison", poison)

    def _partial(self, report_batch_item_failures: Any) -> None:
        if not isinstance(report_batch_item_failures, bool):
            raise TypeError(f"report_batch_item_failures must be True or False, "
                            f"got {report_batch_item_failures!r}")
        self.report_batch_item_failures = report_batch_item_failures

    def start(self, run: Run, targets: list[str]) -> None:
        recs = self.records(run)
        if self.poison is not None:
            kind = {"kinesis": "Kinesis", "dynamodb": "DynamoDB"}.get(self.kind, self.kind)
            where = f"{kind} stream {self.stream_name!r}"
            recs.poison = np.fromiter((ask_predicate(where, "poison", self.poison,
                                                     self.view(recs, i))
                                       for i in range(len(recs.t))), bool, len(recs.t))
        log = run.service(self.output_key, lambda _run: StreamLog(self.kind, self.stream_name),
                          shared=StreamLog)
        ctx = PayloadContext(seed=run.seed, epoch=run.epoch)
        install_handler_runner(run)
        for target in targets:
            StreamMapping(self, run, target, recs, log, ctx).start()

    def _cut(self, t: np.ndarray, until_s: float) -> int:
        return int(np.searchsorted(t, until_s, side="left"))

    def feature_uses(self, label: str) -> Iterator[tuple[str, str]]:
        """The era-dated features (keys of :data:`simlab.core.features.FEATURES`) this source
        uses, each with where it is used, for the era check before the run."""
        if self.bisect_on_error:
            yield "stream_bisect", f"{label} bisect_on_error=True"
        if self.max_retries != -1:
            yield "stream_max_retries", f"{label} max_retries={self.max_retries}"
        if self.max_record_age_s != -1:
            yield "stream_max_record_age", f"{label} max_record_age_s={self.max_record_age_s:g}"
        if self.on_failure is not None:
            yield "stream_on_failure", f"{label} on_failure"
        if self.parallelization_factor != 1:
            yield ("stream_parallelization",
                   f"{label} parallelization_factor={self.parallelization_factor}")
        if getattr(self, "report_batch_item_failures", False):
            yield "stream_batch_item_failures", f"{label} report_batch_item_failures=True"


def _check_stream_name(what: str, name: Any) -> str:
    if not (isinstance(name, str) and 1 <= len(name) <= 255 and name.isascii()
            and all(c.isalnum() or c in "-_." for c in name)):
        raise ValueError(f"{what} must be 1 to 255 letters, digits, '-', '_' or '.', got {name!r}")
    return name


def _check_time(what: str, i: int, t: Any, oldest: float) -> float:
    ok = isinstance(t, int | float | np.number) and not isinstance(t, bool) and math.isfinite(t)
    if not ok or t < oldest:
        raise ValueError(f"{what}[{i}] time must be a finite number of seconds >= {oldest:g} "
                         f"(negative: already in the stream when the run starts), got {t!r}")
    return float(t)


class KinesisStream(_StreamSource):
    """A Kinesis data stream read by an event source mapping.

    Parameters
    ----------
    name
        The stream's name.
    records
        What producers put: an :class:`~simlab.aws.sources.arrivals.ArrivalProcess` (record times;
        partition keys drawn uniformly from ``partition_keys``; data a small JSON document), or a
        list of ``(time_s, partition_key, data)`` (data: bytes or str, at most 1 MB). Negative
        times are records already in the stream when the run starts (``TRIM_HORIZON`` reads them).
    shards
        Number of shards (1 to 500); a key's MD5 hash picks its shard.
    partition_keys
        For an arrival process: how many keys (``key-0``, ``key-1``...) or the list of keys.
    batch_size, batching_window_s, parallelization_factor, max_retries, max_record_age_s,
    bisect_on_error
        The mapping's settings, as AWS names them (see the module's description): 1 to 10,000;
        0 to 300 s; 1 to 10; -1 (forever) or 0 to 10,000; -1 (forever) or 60 to 604,800 s; bool.
    starting_position, starting_position_timestamp_s
        ``"LATEST"`` (records from time 0), ``"TRIM_HORIZON"`` (everything retained) or
        ``"AT_TIMESTAMP"`` (records from ``starting_position_timestamp_s``).
    retention_s
        How long the stream keeps records: 86,400 (24 h, default) to 31,536,000 s (365 days).
    on_failure
        Where discarded batches are described (AWS allows an SQS queue or an SNS topic): None,
        or a destination such as ``simlab.sources.Queue("stream-failures")`` (its records are in
        ``result.output("stream-failures")``) or a :class:`~simlab.aws.sources.sqs.SQSQueue` (a
        function can consume them).
    poison
        Optional predicate on a :class:`StreamRecord`: any batch holding a record for which it is
        true fails (whatever the function's ``error_rate``).
    report_batch_item_failures
        ``FunctionResponseTypes: ReportBatchItemFailures`` (since Dec 2020): the handler reports
        failed records by sequence number (``{"batchItemFailures": [{"itemIdentifier": ...}]}``;
        poison records count as reported); the records before the first failure are checkpointed
        and the batch is retried from it. A function error still fails the whole batch.
    """

    kind = "kinesis"
    poll_interval_s = 1.0
    batch_info = "KinesisBatchInfo"
    positions = ("LATEST", "TRIM_HORIZON", "AT_TIMESTAMP")

    def __init__(self, name: str, records: ArrivalProcess | Sequence[tuple[float, str, Any]], *,
                 shards: int = 1, partition_keys: int | Sequence[str] = 100,
                 batch_size: int = 100, batching_window_s: float = 0.0,
                 parallelization_factor: int = 1, starting_position: str = "LATEST",
                 starting_position_timestamp_s: float | None = None, max_retries: int = -1,
                 max_record_age_s: float = -1, bisect_on_error: bool = False,
                 on_failure: Any = None, retention_s: float = 86_400.0,
                 report_batch_item_failures: bool = False,
                 poison: Callable[[StreamRecord], bool] | None = None) -> None:
        self.stream_name = _check_stream_name("name", name)
        self._settings(shards, batch_size, batching_window_s, parallelization_factor,
                       starting_position, max_retries, max_record_age_s, bisect_on_error,
                       on_failure, poison)
        self._partial(report_batch_item_failures)
        self.retention_s = check_seconds("retention_s", retention_s, 86_400, 31_536_000)
        if (starting_position == "AT_TIMESTAMP") != (starting_position_timestamp_s is not None):
            raise ValueError("starting_position_timestamp_s is needed with starting_position "
                             "'AT_TIMESTAMP' and only with it; got starting_position="
                             f"{starting_position!r}, starting_position_timestamp_s="
                             f"{starting_position_timestamp_s!r}")
        if starting_position_timestamp_s is not None:
            self.starting_position_timestamp_s = check_seconds(
                "starting_position_timestamp_s", starting_position_timestamp_s, -math.inf,
                math.inf)
        if validate.is_whole(partition_keys):
            self.partition_keys = [f"key-{k}" for k in
                                   range(check_whole("partition_keys", partition_keys, 1, 10**6))]
        elif isinstance(partition_keys, str | bytes | Mapping) or not isinstance(partition_keys,
                                                                                 Iterable):
            raise validate.fail("partition_keys", partition_keys,
                                "a whole number of keys from 1 to 1,000,000 or a list of keys")
        else:
            self.partition_keys = [_check_key(f"partition_keys[{i}]", k)
                                   for i, k in enumerate(partition_keys)]
            if not self.partition_keys:
                raise ValueError("partition_keys must be a whole number >= 1 or a non-empty list")
        if isinstance(records, ArrivalProcess):
            self.process: ArrivalProcess | None = records
            return
        self.process = None
        rows = _rows("records", records, 3)
        t = np.array([_check_time("records", i, r[0], -self.retention_s)
                      for i, r in enumerate(rows)], dtype=float)
        keys = [_check_key(f"records[{i}] partition key", r[1]) for i, r in enumerate(rows)]
        data = [_check_data(i, r[2]) for i, r in enumerate(rows)]
        order = np.argsort(t, kind="stable")
        self._t = t[order]
        distinct = list(dict.fromkeys(keys))
        code = {k: j for j, k in enumerate(distinct)}
        self._keys = distinct
        self._key = np.array([code[k] for k in keys], dtype=np.int64)[order]
        self._data = [data[i] for i in order]
        self._size = np.array([4 * math.ceil(len(d) / 3) for d in self._data],
                              dtype=np.int64) + _RECORD_OVERHEAD

    def records(self, run: Run) -> StreamRecords:
        if self.process is not None:
            rng = run.rng("source", self.name or self.kind, "records")
            t = self.process.times(rng, run.until_s)
            key = rng.integers(0, len(self.partition_keys), t.size)
            size = np.full(t.size, 40 + _RECORD_OVERHEAD, dtype=np.int64)
            return StreamRecords(t, key, self.partition_keys, size, None, self.shards,
                                 self.parallelization_factor)
        n = self._cut(self._t, run.until_s)
        return StreamRecords(self._t[:n], self._key[:n], self._keys, self._size[:n],
                             self._data[:n], self.shards, self.parallelization_factor)

    def _data_of(self, recs: StreamRecords, i: int) -> bytes:
        if recs.extra is not None:
            return recs.extra[i]
        return json.dumps({"partition_key": recs.keys[recs.key[i]], "n": i}).encode()

    def view(self, recs: StreamRecords, i: int) -> StreamRecord:
        return StreamRecord(i, int(recs.shard[i]), recs.keys[recs.key[i]], float(recs.t[i]),
                            self._data_of(recs, i))

    def record_dict(self, recs: StreamRecords, i: int, ctx: PayloadContext) -> dict[str, Any]:
        return kinesis_record(self._data_of(recs, i), recs.keys[recs.key[i]], i,
                              float(recs.t[i]), stream=self.stream_name,
                              shard=int(recs.shard[i]), ctx=ctx)

    def sequence_string(self, i: int) -> str:
        return kinesis_sequence_number(i)

    def shard_id(self, shard: int, ctx: PayloadContext) -> str:
        return f"shardId-{shard:012d}"

    def arn(self, ctx: PayloadContext) -> str:
        return f"arn:aws:kinesis:{ctx.region}:{ctx.account}:stream/{self.stream_name}"

    def __repr__(self) -> str:
        return (f"KinesisStream({self.stream_name!r}, shards={self.shards}, "
                f"batch_size={self.batch_size})")


_EVENTS = ("INSERT", "MODIFY", "REMOVE")


class DynamoDBStream(_StreamSource):
    """The stream of a DynamoDB table (one record per item change), read by a mapping.

    Parameters
    ----------
    table
        The table's name.
    changes
        The table's changes: an :class:`~simlab.aws.sources.arrivals.ArrivalProcess` (change times;
        the item drawn uniformly from ``items`` items ``{"id": k}``; its first change is an
        INSERT, the others MODIFY, and its last one a REMOVE with probability
        ``remove_fraction``), or a list of ``(time_s, event_name, keys)`` or ``(time_s,
        event_name, keys, new_image, old_image)`` (plain dicts; images default to the keys).
    shards
        Number of shards (1 to 500); the item key's MD5 hash picks the shard.
    stream_view_type
        ``"KEYS_ONLY"``, ``"NEW_IMAGE"``, ``"OLD_IMAGE"`` or ``"NEW_AND_OLD_IMAGES"``.
    batch_size, batching_window_s, parallelization_factor, starting_position, max_retries,
    max_record_age_s, bisect_on_error, on_failure, poison, report_batch_item_failures
        As for :class:`KinesisStream` (starting position ``"LATEST"`` or ``"TRIM_HORIZON"``);
        the stream keeps records 24 hours and is polled four times a second per shard.
    """

    kind = "dynamodb"
    poll_interval_s = 0.25
    batch_info = "DDBStreamBatchInfo"
    positions = ("LATEST", "TRIM_HORIZON")

    def __init__(self, table: str, changes: ArrivalProcess | Sequence[tuple], *,
                 shards: int = 1, items: int = 100, remove_fraction: float = 0.1,
                 stream_view_type: str = "NEW_AND_OLD_IMAGES", batch_size: int = 100,
                 batching_window_s: float = 0.0, parallelization_factor: int = 1,
                 starting_position: str = "LATEST", max_retries: int = -1,
                 max_record_age_s: float = -1, bisect_on_error: bool = False,
                 on_failure: Any = None, report_batch_item_failures: bool = False,
                 poison: Callable[[StreamRecord], bool] | None = None) -> None:
        self.stream_name = self.table = _check_stream_name("table", table)
        self._settings(shards, batch_size, batching_window_s, parallelization_factor,
                       starting_position, max_retries, max_record_age_s, bisect_on_error,
                       on_failure, poison)
        self._partial(report_batch_item_failures)
        self.items = check_whole("items", items, 1, 10**7)
        if not (isinstance(remove_fraction, int | float) and 0 <= remove_fraction <= 1):
            raise ValueError(f"remove_fraction must be from 0 to 1, got {remove_fraction!r}")
        self.remove_fraction = float(remove_fraction)
        dynamodb_record("INSERT", {"id": 0}, 0.0, new_image={"id": 0},
                        stream_view_type=stream_view_type)  # validates the view type
        self.stream_view_type = stream_view_type
        if isinstance(changes, ArrivalProcess):
            self.process: ArrivalProcess | None = changes
            return
        self.process = None
        rows = _rows("changes", changes, 3, 5)
        t = np.array([_check_time("changes", i, r[0], -self.retention_s)
                      for i, r in enumerate(rows)], dtype=float)
        full = []
        for i, r in enumerate(rows):
            event, keys = r[1], r[2]
            new, old = (r[3], r[4]) if len(r) == 5 else (keys, keys)
            new = new if event in ("INSERT", "MODIFY") else None
            old = old if event in ("MODIFY", "REMOVE") else None
            try:
                dynamodb_record(event, keys, 0.0, new_image=new, old_image=old)
            except (TypeError, ValueError) as err:
                raise ValueError(f"changes[{i}] is not a valid change: {err}") from None
            full.append((event, keys, new, old))
        order = np.argsort(t, kind="stable")
        self._t = t[order]
        self._changes = [full[i] for i in order]
        names = [_item_key(c[1]) for c in self._changes]
        self._keys = list(dict.fromkeys(names))
        code = {k: j for j, k in enumerate(self._keys)}
        self._key = np.array([code[k] for k in names], dtype=np.int64)
        self._size = np.array([len(json.dumps(c, default=str)) for c in self._changes],
                              dtype=np.int64) + _RECORD_OVERHEAD

    def records(self, run: Run) -> StreamRecords:
        if self.process is None:
            n = self._cut(self._t, run.until_s)
            return StreamRecords(self._t[:n], self._key[:n], self._keys, self._size[:n],
                                 self._changes[:n], self.shards, self.parallelization_factor)
        rng = run.rng("source", self.name or self.kind, "changes")
        t = self.process.times(rng, run.until_s)
        item = rng.integers(0, self.items, t.size)
        if t.size == 0:  # no change during the run
            empty = np.zeros(0, np.int64)
            return StreamRecords(t, empty, [], empty, (empty, empty, empty), self.shards,
                                 self.parallelization_factor)
        # version = rank of each change among its item's changes (vectorised group rank)
        order = np.argsort(item, kind="stable")
        sorted_items = item[order]
        starts = np.r_[0, np.flatnonzero(np.diff(sorted_items)) + 1]
        counts = np.diff(np.r_[starts, item.size])
        rank = np.arange(item.size) - np.repeat(starts, counts)
        last = np.zeros(item.size, bool)
        last[starts + counts - 1] = True
        version = np.empty(item.size, np.int64)
        is_last = np.empty(item.size, bool)
        version[order], is_last[order] = rank, last
        event = np.where(version == 0, 0, 1)
        event[(version > 0) & is_last & (rng.random(item.size) < self.remove_fraction)] = 2
        used, code = np.unique(item, return_inverse=True)
        keys = [_item_key({"id": int(k)}) for k in used]
        size = np.full(t.size, 80 + _RECORD_OVERHEAD, dtype=np.int64)
        return StreamRecords(t, code, keys, size, (item, version, event), self.shards,
                             self.parallelization_factor)

    def _change(self, recs: StreamRecords, i: int) -> tuple[str, dict, dict | None, dict | None]:
        if isinstance(recs.extra, list):
            return recs.extra[i]
        item, version, event = recs.extra
        name, k, v = _EVENTS[event[i]], int(item[i]), int(version[i])
        new = {"id": k, "version": v} if name != "REMOVE" else None
        old = {"id": k, "version": v - 1} if name != "INSERT" else None
        return name, {"id": k}, new, old

    def view(self, recs: StreamRecords, i: int) -> StreamRecord:
        name, keys, new, old = self._change(recs, i)
        data = {"eventName": name, "Keys": keys, "NewImage": new, "OldImage": old}
        return StreamRecord(i, int(recs.shard[i]), recs.keys[recs.key[i]], float(recs.t[i]), data)

    def record_dict(self, recs: StreamRecords, i: int, ctx: PayloadContext) -> dict[str, Any]:
        name, keys, new, old = self._change(recs, i)
        return dynamodb_record(name, keys, float(recs.t[i]), new_image=new, old_image=old,
                               sequence_number=i, table=self.table,
                               stream_view_type=self.stream_view_type, ctx=ctx)

    def sequence_string(self, i: int) -> str:
        return f"{i + 1:021d}"

    def shard_id(self, shard: int, ctx: PayloadContext) -> str:
        return f"shardId-{ctx.unix_ms(0):020d}-{ctx.hex(f'ddb-shard:{self.table}', shard, 8)}"

    def arn(self, ctx: PayloadContext) -> str:
        label = ctx.epoch.strftime("%Y-%m-%dT%H:%M:%S.000")
        return f"arn:aws:dynamodb:{ctx.region}:{ctx.account}:table/{self.table}/stream/{label}"

    def __repr__(self) -> str:
        return (f"DynamoDBStream({self.table!r}, shards={self.shards}, "
                f"batch_size={self.batch_size})")


def _rows(what: str, rows: Any, *lengths: int) -> list[tuple]:
    if isinstance(rows, str | bytes) or not isinstance(rows, Sequence):
        raise TypeError(f"{what} must be an arrival process or a list of tuples, got {rows!r}")
    for i, r in enumerate(rows):
        if not isinstance(r, tuple | list) or len(r) not in lengths:
            raise ValueError(f"{what}[{i}] must be a tuple of {' or '.join(map(str, lengths))} "
                             f"values, got {r!r}")
    return list(rows)


def _check_key(what: str, key: Any) -> str:
    if not isinstance(key, str) or not 1 <= len(key) <= 256:
        raise ValueError(f"{what} must be a string of 1 to 256 characters, got {key!r}")
    return key


def _check_data(i: int, data: Any) -> bytes:
    if isinstance(data, str):
        data = data.encode()
    if not isinstance(data, bytes | bytearray) or len(data) > 1_048_576:
        raise ValueError(f"records[{i}] data must be bytes or str of at most 1 MB (1,048,576 "
                         f"bytes), got {type(data).__name__} of size "
                         f"{len(data) if hasattr(data, '__len__') else '?'}")
    return bytes(data)


def _item_key(keys: Any) -> str:
    return json.dumps(keys, sort_keys=True, default=str)
