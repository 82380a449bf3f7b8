"""Tests of simlab.sources.streams and simlab.sources.pollers: Kinesis and DynamoDB stream mappings.

Per-key order under retries, bisection and parallelization (a property test), a poison record
blocking only its shard, discards to the on-failure destination (retries, record age), bisection,
throttling back-off, batching, polling rates, starting positions, payload shapes, bad settings.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simlab
from simlab.aws.sources.arrivals import FixedInterval, Poisson
from simlab.aws.sources.streams import DynamoDBStream, KinesisStream


class Collector:
    """A destination that keeps what it is given (the deliver protocol)."""

    def __init__(self) -> None:
        self.got: list[tuple[float, dict[str, Any]]] = []

    def deliver(self, time_s: float, record: dict[str, Any], run: Any) -> None:
        self.got.append((time_s, record))


def shard_of(key: str, shards: int) -> int:
    return int.from_bytes(hashlib.md5(key.encode()).digest(), "big") * shards >> 128


def keys_for_shards(shards: int) -> list[str]:
    """One partition key per shard, in shard order."""
    found: dict[int, str] = {}
    k = 0
    while len(found) < shards:
        found.setdefault(shard_of(f"key-{k}", shards), f"key-{k}")
        k += 1
    return [found[s] for s in range(shards)]


def run_stream(stream: Any, until_s: float = 60.0, seed: int = 1, **fn: Any) -> Any:
    sim = simlab.Simulation(era="today", seed=seed)
    fn.setdefault("duration_s", 0.2)
    sim.add_function("f", **fn)
    sim.add_source(stream, target="f")
    return sim.run(until_s=until_s)


def max_overlap(starts: np.ndarray, ends: np.ndarray) -> int:
    times = np.r_[starts, ends]
    steps = np.r_[np.ones(len(starts)), -np.ones(len(ends))]
    order = np.lexsort((steps, times))  # ends before starts at equal times
    return int(np.cumsum(steps[order]).max()) if len(times) else 0


# -- shards, sequence numbers, batches -----------------------------------------------------------
def test_partition_key_md5_picks_the_shard_and_sequence_numbers_grow_per_shard() -> None:
    recs = [(0.01 * i, f"user-{i % 13}", f"r{i}") for i in range(300)]
    res = run_stream(KinesisStream("clicks", recs, shards=4), until_s=30)
    table = res.output("kinesis:clicks").records
    expected = [shard_of(k, 4) for k in table["partition_key"]]
    assert table["shard"].tolist() == expected
    assert set(expected) == {0, 1, 2, 3}
    for _, shard in table.groupby("shard"):
        assert shard["sequence_number"].is_monotonic_increasing
        assert shard["arrival_s"].is_monotonic_increasing
    assert (table["outcome"] == "ok").all()


def test_batches_hold_consecutive_records_of_one_shard_up_to_batch_size() -> None:
    recs = [(0.0, f"k{i % 5}", "x") for i in range(250)]
    res = run_stream(KinesisStream("s", recs, shards=2, batch_size=7), until_s=60)
    log = res.output("kinesis:s")
    batches = log.batches
    assert batches["records"].max() == 7
    d = log.deliveries().merge(log.records[["sequence_number", "shard"]], on="sequence_number")
    for iid, rows in d.groupby("invocation_id"):
        assert rows["shard"].nunique() == 1
        lane_seq = log.records.loc[log.records["shard"] == rows["shard"].iloc[0],
                                   "sequence_number"].tolist()
        pos = [lane_seq.index(s) for s in rows["sequence_number"]]
        assert pos == list(range(pos[0], pos[0] + len(pos))), iid
    assert log.records["invocations"].eq(1).all()


def test_iterator_age_column_is_now_minus_arrival_of_the_last_record() -> None:
    recs = [(1.0 + 0.1 * i, "k", "x") for i in range(20)]
    res = run_stream(KinesisStream("s", recs, batch_size=4), until_s=30)
    inv = res.invocations
    assert inv["invocation_type"].eq("poll").all()
    log = res.output("kinesis:s")
    merged = inv.merge(log.batches[["invocation_id", "last_sequence_number"]], on="invocation_id")
    last_arrival = log.records.set_index("sequence_number").loc[
        merged["last_sequence_number"], "arrival_s"].to_numpy()
    np.testing.assert_allclose(merged["iterator_age_ms"].astype(float),
                               (merged["arrival_s"] - last_arrival) * 1000.0)
    assert (merged["iterator_age_ms"].astype(float) >= 0).all()


@pytest.mark.parametrize(("stream", "interval"), [
    (lambda recs: KinesisStream("s", recs), 1.0),
    (lambda recs: DynamoDBStream("t", [(t, "INSERT", {"id": i}) for i, (t, _, _) in
                                       enumerate(recs)]), 0.25),
])
def test_pollers_pick_records_up_at_their_polling_rate(stream: Any, interval: float) -> None:
    times = [10.3 + 7.1 * i for i in range(8)]
    res = run_stream(stream([(t, "k", "x") for t in times]), until_s=80)
    inv = res.invocations.sort_values("arrival_s")
    waits = inv["arrival_s"].to_numpy() - np.array(times)
    assert len(inv) == len(times)
    assert (waits >= 0).all() and (waits < interval + 1e-9).all()
    # a fixed phase: every poll happens on one grid of the polling interval
    phase = np.mod(inv["arrival_s"].to_numpy(), interval)
    np.testing.assert_allclose(phase, phase[0], atol=1e-6)


def test_batching_window_waits_for_records_or_a_full_batch() -> None:
    slow = [(float(t), "k", "x") for t in range(0, 20)]  # one record a second
    res = run_stream(KinesisStream("s", slow, batch_size=100, batching_window_s=5), until_s=40)
    sizes = res.output("kinesis:s").batches["records"]
    assert sizes.iloc[:3].tolist() == [5, 5, 5] or sizes.iloc[:3].between(4, 6).all()
    assert sizes.sum() == 20
    fast = [(0.001 * i, "k", "x") for i in range(50)]
    res = run_stream(KinesisStream("s", fast, batch_size=10, batching_window_s=60), until_s=40)
    b = res.output("kinesis:s").batches
    assert b["records"].tolist() == [10] * 5
    assert b["t_s"].max() < 5  # full batches do not wait for the window


def test_a_large_batch_is_cut_at_6_mb() -> None:
    recs = [(0.0, "k", b"x" * 900_000) for _ in range(12)]
    res = run_stream(KinesisStream("s", recs, batch_size=100), until_s=30)
    sizes = res.output("kinesis:s").batches["records"].tolist()
    assert sum(sizes) == 12 and max(sizes) < 12
    assert all(4 * -(-900_000 // 3) * n <= 6 * 1024 * 1024 for n in sizes)


# -- failures ------------------------------------------------------------------------------------
def test_a_poison_record_blocks_only_its_shard_and_its_iterator_age_grows() -> None:
    keys = keys_for_shards(4)
    recs = [(0.5 * i, keys[i % 4], f"r{i}") for i in range(200)]
    stream = KinesisStream("s", recs, shards=4, batch_size=5,
                           poison=lambda r: r.sequence_number == 21)
    res = run_stream(stream, until_s=120)
    log = res.output("kinesis:s")
    table = log.records
    bad_shard = shard_of(keys[21 % 4], 4)
    blocked = table[table["shard"] == bad_shard]
    others = table[table["shard"] != bad_shard]
    assert (others["outcome"] == "ok").all()
    assert (blocked.loc[blocked["sequence_number"] < 21, "outcome"] == "ok").all()
    assert (blocked.loc[blocked["sequence_number"] >= 21, "outcome"] == "pending").all()
    age = log.iterator_age().groupby("shard")["iterator_age_ms"].max()
    assert age[bad_shard] > 100_000 - 21 * 500  # grows until the end of the run
    assert age.drop(bad_shard).max() < 2_000  # at most a poll interval plus a run
    retries = log.batches[log.batches["shard"] == bad_shard]["status"].value_counts()
    assert retries["error"] > 50


def test_max_retries_discards_the_batch_to_on_failure_and_the_shard_moves_on() -> None:
    dest = Collector()
    recs = [(0.0, "k", f"r{i}") for i in range(10)] + [(20.0, "k", "late")]
    stream = KinesisStream("s", recs, batch_size=4, max_retries=2, on_failure=dest,
                           poison=lambda r: r.data == b"r5")
    res = run_stream(stream, until_s=60)
    log = res.output("kinesis:s")
    table = log.records.set_index("sequence_number")
    assert table.loc[[4, 5, 6, 7], "outcome"].eq("discarded_retries").all()
    assert table.loc[[0, 1, 2, 3, 8, 9, 10], "outcome"].eq("ok").all()
    assert table.loc[5, "invocations"] == 3  # first try and two retries
    assert len(dest.got) == 1 and log.failures == [dest.got[0][1]]
    msg = dest.got[0][1]
    assert msg["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert msg["requestContext"]["approximateInvokeCount"] == 3
    assert msg["requestContext"]["functionArn"].endswith(":function:f")
    assert msg["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST",
                                      "functionError": "Unhandled"}
    info = msg["KinesisBatchInfo"]
    assert info["batchSize"] == 4 and info["shardId"] == "shardId-000000000000"
    assert info["startSequenceNumber"] < info["endSequenceNumber"]
    assert info["startSequenceNumber"].endswith("4") and info["endSequenceNumber"].endswith("7")
    assert info["streamArn"] == "arn:aws:kinesis:us-east-1:123456789012:stream/s"
    assert set(msg) == {"requestContext", "responseContext", "version", "timestamp",
                        "KinesisBatchInfo"}


def test_max_record_age_discards_old_records_with_record_age_exceeded() -> None:
    dest = Collector()
    recs = [(0.0, "k", "bad")] + [(1.0 + i, "k", f"r{i}") for i in range(100)]
    stream = KinesisStream("s", recs, batch_size=1, max_record_age_s=60, on_failure=dest,
                           poison=lambda r: r.data == b"bad")
    res = run_stream(stream, until_s=200)
    table = res.output("kinesis:s").records
    assert table.loc[0, "outcome"] == "discarded_age"
    assert 60 <= table.loc[0, "processed_s"] <= 62
    # the records that waited behind it for more than 60 s went the same way; the rest ran
    assert set(table["outcome"]) <= {"ok", "discarded_age"}
    old = table[table["outcome"] == "discarded_age"]
    assert ((old["processed_s"] - old["arrival_s"]) >= 60).all()
    assert table["outcome"].iloc[-10:].eq("ok").all()
    conditions = {m["requestContext"]["condition"] for _, m in dest.got}
    assert conditions == {"RecordAgeExceeded"}


def test_bisect_on_error_halves_the_failing_batch_down_to_the_poison_record() -> None:
    recs = [(0.0, "k", f"r{i}") for i in range(8)]
    stream = KinesisStream("s", recs, batch_size=8, bisect_on_error=True, max_retries=0,
                           poison=lambda r: r.sequence_number == 5)
    res = run_stream(stream, until_s=60)
    log = res.output("kinesis:s")
    b = log.batches
    assert b["records"].tolist() == [8, 4, 4, 2, 1, 1, 2]
    assert b["status"].tolist() == ["error", "ok", "error", "error", "ok", "error", "ok"]
    out = log.records.set_index("sequence_number")["outcome"]
    assert out[5] == "discarded_retries" and (out.drop(5) == "ok").all()


def test_throttled_poller_backs_off_without_using_retries() -> None:
    stream = KinesisStream("s", [(0.0, "k", "x")], max_retries=0)
    res = run_stream(stream, until_s=300, reserved_concurrency=0)
    b = res.output("kinesis:s").batches
    assert (b["status"] == "throttled").all()
    gaps = np.diff(b["t_s"].to_numpy())
    np.testing.assert_allclose(gaps[:8], [1, 2, 4, 8, 16, 32, 60, 60])
    assert res.output("kinesis:s").records.loc[0, "outcome"] == "pending"


def test_a_record_throttled_until_too_old_is_discarded_without_a_response_context() -> None:
    dest = Collector()
    stream = KinesisStream("s", [(0.0, "k", "x")], max_record_age_s=60, on_failure=dest)
    run_stream(stream, until_s=300, reserved_concurrency=0)
    (_, msg), = dest.got
    assert msg["requestContext"]["condition"] == "RecordAgeExceeded"
    assert msg["requestContext"]["approximateInvokeCount"] == 0
    assert "responseContext" not in msg


def test_parallelization_processes_slots_of_one_shard_at_once() -> None:
    recs = [(0.0, f"user-{i % 40}", "x") for i in range(400)]
    stream = KinesisStream("s", recs, batch_size=5, parallelization_factor=10)
    res = run_stream(stream, until_s=200, duration_s=1.0)
    inv = res.invocations
    slots = {int.from_bytes(hashlib.md5(f"user-{k}".encode()).digest(), "big") % 10
             for k in range(40)}
    assert max_overlap(inv["arrival_s"].to_numpy(), inv["end_s"].to_numpy()) == len(slots)
    assert (res.output("kinesis:s").records["outcome"] == "ok").all()


# -- order: the property -------------------------------------------------------------------------
@st.composite
def scenarios(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(1, 30))
    times = sorted(draw(st.lists(st.floats(0, 20, allow_nan=False), min_size=n, max_size=n)))
    keys = draw(st.lists(st.sampled_from("abcd"), min_size=n, max_size=n))
    poison = draw(st.sets(st.integers(0, n - 1), max_size=3))
    return {
        "records": [(t, k, f"r{i}") for i, (t, k) in enumerate(zip(times, keys, strict=True))],
        "poison": poison,
        "shards": draw(st.integers(1, 3)),
        "factor": draw(st.integers(1, 4)),
        "batch_size": draw(st.integers(1, 6)),
        "bisect": draw(st.booleans()),
        "max_retries": draw(st.sampled_from([-1, 0, 1, 3])),
        "error_rate": draw(st.sampled_from([0.0, 0.2, 0.5])),
        "seed": draw(st.integers(0, 1000)),
    }


@settings(max_examples=80, deadline=None)
@given(scenarios())
def test_order_per_partition_key_holds_under_retries_and_parallelization(sc: dict) -> None:
    poison = sc["poison"]
    stream = KinesisStream("s", sc["records"], shards=sc["shards"], batch_size=sc["batch_size"],
                           parallelization_factor=sc["factor"], bisect_on_error=sc["bisect"],
                           max_retries=sc["max_retries"],
                           poison=lambda r: r.sequence_number in poison)
    res = run_stream(stream, until_s=40, seed=sc["seed"], duration_s=0.3,
                     error_rate=sc["error_rate"])
    log = res.output("kinesis:s")
    table = log.records.set_index("sequence_number")
    first_seen = log.deliveries().merge(log.batches[["invocation_id", "t_s"]])
    last_try = first_seen.groupby("sequence_number")["t_s"].max()
    for _, rec in table.groupby("partition_key"):
        settled = rec["outcome"] != "pending"
        # settled records of a key are a prefix of its records, settled in sequence order
        assert not (settled.to_numpy()[1:] & ~settled.to_numpy()[:-1]).any()
        done = rec[settled]
        assert done["processed_s"].is_monotonic_increasing
        ok = done[done["outcome"] == "ok"]
        assert ok["invocation_id"].is_monotonic_increasing
        # nothing is tried after a later record of the same key has succeeded
        for seq, row in ok.iterrows():
            earlier = [s for s in rec.index if s < seq and s in last_try.index]
            assert (last_try[earlier] <= row["processed_s"]).all()
    # every poison record ends discarded or pending, never ok
    assert not (table.loc[sorted(poison), "outcome"] == "ok").any()
    # one batch in flight per lane (shard, slot)
    ran = res.invocations.merge(log.batches[["invocation_id", "shard", "slot"]])
    for _, lane in ran[ran["status"] != "throttled"].groupby(["shard", "slot"]):
        lane = lane.sort_values("arrival_s")
        assert (lane["arrival_s"].to_numpy()[1:] >= lane["end_s"].to_numpy()[:-1] - 1e-9).all()


# -- DynamoDB ------------------------------------------------------------------------------------
def test_generated_dynamodb_changes_insert_first_and_remove_last() -> None:
    seen: list[Any] = []
    stream = DynamoDBStream("orders", Poisson(5.0), items=20, remove_fraction=0.5,
                            poison=lambda r: seen.append(r) and False)
    res = run_stream(stream, until_s=60)
    assert len(seen) > 200
    by_key = pd.DataFrame({"key": [r.partition_key for r in seen],
                           "event": [r.data["eventName"] for r in seen]})
    for _, changes in by_key.groupby("key", sort=False):
        events = changes["event"].tolist()
        assert events[0] == "INSERT" and "INSERT" not in events[1:]
        assert "REMOVE" not in events[:-1]
    assert "REMOVE" in set(by_key["event"]) and "MODIFY" in set(by_key["event"])
    assert (res.output("dynamodb:orders").records["outcome"] == "ok").all()


def test_dynamodb_events_and_failure_records_have_aws_shapes() -> None:
    events: list[dict] = []

    def handler(event: dict, context: Any) -> None:
        events.append(event)
        if any(r["dynamodb"]["Keys"]["id"]["N"] == "2" for r in event["Records"]):
            raise ValueError("cannot handle item 2")

    dest = Collector()
    changes = [(0.0, "INSERT", {"id": 1}), (0.0, "INSERT", {"id": 2}),
               (0.0, "MODIFY", {"id": 1}, {"id": 1, "n": 2}, {"id": 1, "n": 1}),
               (5.0, "REMOVE", {"id": 1})]
    stream = DynamoDBStream("orders", changes, batch_size=10, max_retries=1, on_failure=dest)
    res = run_stream(stream, until_s=30, handler=handler)
    first = events[0]["Records"]
    assert [r["eventName"] for r in first] == ["INSERT", "INSERT", "MODIFY"]
    assert first[2]["dynamodb"]["NewImage"] == {"id": {"N": "1"}, "n": {"N": "2"}}
    assert first[0]["eventSource"] == "aws:dynamodb"
    assert res.output("dynamodb:orders").event(0)["Records"] == first
    (_, msg), = dest.got
    info = msg["DDBStreamBatchInfo"]
    assert info["batchSize"] == 3 and info["shardId"].startswith("shardId-")
    assert info["startSequenceNumber"] == "000000000000000000001"
    assert info["streamArn"].startswith("arn:aws:dynamodb:us-east-1:123456789012:table/orders/")
    assert events[-1]["Records"][0]["eventName"] == "REMOVE"


# -- starting positions and the stream's retention -----------------------------------------------
@pytest.mark.parametrize(("position", "extra", "read"), [
    ("LATEST", {}, [2, 3]),
    ("TRIM_HORIZON", {}, [0, 1, 2, 3]),
    ("AT_TIMESTAMP", {"starting_position_timestamp_s": -50.0}, [1, 2, 3]),
])
def test_starting_position_decides_which_old_records_are_read(position: str, extra: dict,
                                                              read: list[int]) -> None:
    recs = [(-100.0, "k", "old"), (-10.0, "k", "recent"), (1.0, "k", "a"), (2.0, "k", "b")]
    res = run_stream(KinesisStream("s", recs, starting_position=position, **extra), until_s=20)
    table = res.output("kinesis:s").records
    assert table.loc[table["outcome"] == "ok", "sequence_number"].tolist() == read
    assert set(table.loc[~table["sequence_number"].isin(read), "outcome"]) <= {"skipped"}
    if position == "TRIM_HORIZON":
        assert res.invocations["iterator_age_ms"].max() > 1_000  # the backlog shows its age


@pytest.mark.parametrize("stream", [
    KinesisStream("s", Poisson(rate_per_s=1e-6), shards=2),
    DynamoDBStream("t", Poisson(rate_per_s=1e-6), parallelization_factor=3),
    KinesisStream("s", [(-5.0, "k", "old"), (3.0, "k", "a")], starting_position="AT_TIMESTAMP",
                  starting_position_timestamp_s=50.0),
    KinesisStream("s", [(30.0, "k", "after the run")]),
    DynamoDBStream("t", [(-5.0, "INSERT", {"id": 1})]),  # LATEST: nothing after time 0
])
def test_a_stream_with_no_record_to_read_runs_and_invokes_nothing(stream: Any) -> None:
    res = run_stream(stream, until_s=10)
    log = res.output(f"{stream.kind}:{stream.stream_name}")
    assert len(res.invocations) == 0
    assert log.batches.empty
    assert set(log.records["outcome"]) <= {"skipped"}


def test_every_stream_record_ends_in_exactly_one_outcome_per_function() -> None:
    # Shard of key "a" is blocked by a poison record from t = 5 s; every record of key "b" after
    # it is processed. One record is older than the starting position, one comes after the run.
    a, b = keys_for_shards(2)
    recs = ([(-1.0, a, "old")] + [(float(t), a, "bad" if t == 5 else "x") for t in range(10)]
            + [(float(t), b, "x") for t in range(10)] + [(40.0, a, "late")])
    stream = KinesisStream("s", recs, shards=2, poison=lambda r: r.data == b"bad")
    sim = simlab.Simulation(seed=1)
    sim.add_function("f", duration_s=0.1)
    sim.add_function("g", duration_s=0.1)
    sim.add_source(stream, target=["f", "g"])
    table = sim.run(until_s=30).outcomes()
    assert set(table["source"]) == {"kinesis:s"} and set(table["unit"]) == {"record"}
    got = table.pivot(index="function", columns="outcome", values="count")
    for fn in ("f", "g"):
        assert got.loc[fn].to_dict() == {"pending": 5, "ok": 15, "discarded_retries": 0,
                                         "discarded_age": 0, "skipped": 1}


def test_same_seed_same_run_and_arrival_process_input() -> None:
    def once() -> pd.DataFrame:
        stream = KinesisStream("s", FixedInterval(0.5), shards=3, partition_keys=7)
        return run_stream(stream, until_s=30, error_rate=0.2).output("kinesis:s").records

    a, b = once(), once()
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 60 and set(a["partition_key"]) <= {f"key-{k}" for k in range(7)}
    data = KinesisStream("s", FixedInterval(1.0))
    res = run_stream(data, until_s=3, handler=lambda e, c: base64.b64decode(
        e["Records"][0]["kinesis"]["data"]).decode())
    assert res.invocations["output"].dropna().iloc[0].startswith('{"partition_key"')


# -- bad settings --------------------------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "word"), [
    ({"shards": 0}, "shards"),
    ({"batch_size": 10_001}, "batch_size"),
    ({"batch_size": 0}, "batch_size"),
    ({"batching_window_s": 301}, "batching_window_s"),
    ({"parallelization_factor": 11}, "parallelization_factor"),
    ({"max_retries": -2}, "max_retries"),
    ({"max_retries": 10_001}, "max_retries"),
    ({"max_record_age_s": 59}, "max_record_age_s"),
    ({"max_record_age_s": 604_801}, "max_record_age_s"),
    ({"bisect_on_error": 1}, "bisect_on_error"),
    ({"starting_position": "EARLIEST"}, "starting_position"),
    ({"starting_position": "AT_TIMESTAMP"}, "starting_position_timestamp_s"),
    ({"starting_position_timestamp_s": 5.0}, "starting_position_timestamp_s"),
    ({"on_failure": []}, "on_failure"),
    ({"poison": "bad"}, "poison"),
    ({"retention_s": 3600}, "retention_s"),
    ({"partition_keys": 0}, "partition_keys"),
])
def test_kinesis_rejects_bad_settings(kwargs: dict, word: str) -> None:
    with pytest.raises((ValueError, TypeError), match=word):
        KinesisStream("s", Poisson(1.0), **kwargs)


@pytest.mark.parametrize(("records", "word"), [
    ([(float("nan"), "k", "x")], "records"),
    ([(-90_000.0, "k", "x")], "records"),
    ([(0.0, "", "x")], "partition key"),
    ([(0.0, "k", 5)], "data"),
    ([(0.0, "k", b"x" * 1_048_577)], "data"),
    ([(0.0, "k")], "records"),
    ("abc", "records"),
])
def test_kinesis_rejects_bad_records(records: Any, word: str) -> None:
    with pytest.raises((ValueError, TypeError), match=word):
        KinesisStream("s", records)


@pytest.mark.parametrize(("args", "kwargs", "word"), [
    (("bad name!", Poisson(1.0)), {}, "table"),
    (("t", [(0.0, "UPSERT", {"id": 1})]), {}, "changes"),
    (("t", [(0.0, "INSERT", "id")]), {}, "changes"),
    (("t", Poisson(1.0)), {"starting_position": "AT_TIMESTAMP"}, "starting_position"),
    (("t", Poisson(1.0)), {"stream_view_type": "ALL"}, "stream_view_type"),
    (("t", Poisson(1.0)), {"remove_fraction": 2}, "remove_fraction"),
    (("t", Poisson(1.0)), {"items": 0}, "items"),
])
def test_dynamodb_rejects_bad_settings(args: tuple, kwargs: dict, word: str) -> None:
    with pytest.raises((ValueError, TypeError), match=word):
        DynamoDBStream(*args, **kwargs)
