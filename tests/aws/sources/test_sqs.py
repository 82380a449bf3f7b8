"""Tests of simlab.sources.sqs: SQS standard queues read by an event source mapping.

Visibility timeout and redelivery, redrive to a dead-letter queue, no blocking and no order,
batch sizes and the batching window, throttling, the era's scaling rate and max concurrency,
at-least-once duplicates, queues as destinations, and bad settings.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

import simlab
from simlab.aws.sources.arrivals import Poisson
from simlab.aws.sources.sqs import SQSQueue
from simlab.aws.sources.streams import KinesisStream


def make_sim(era: str = "today", seed: int = 1, **fn: Any) -> simlab.Simulation:
    sim = simlab.Simulation(era=era, seed=seed)
    fn.setdefault("duration_s", 0.2)
    sim.add_function("f", **fn)
    return sim


def in_flight_at(inv: Any, t: float) -> int:
    ran = inv[inv["status"] != "throttled"]
    return int(((ran["arrival_s"] <= t) & (ran["end_s"] > t)).sum())


def test_successful_batches_delete_their_messages_once() -> None:
    sim = make_sim()
    sim.add_source(SQSQueue("orders", Poisson(20.0)), target="f")
    res = sim.run(until_s=120)
    log = res.output("sqs:orders")
    frame = log.frame
    assert len(frame) > 2000
    assert (frame["outcome"] == "ok").mean() > 0.99  # the last few are still in flight
    assert (frame.loc[frame["outcome"] == "ok", "receive_count"] == 1).all()
    assert log.batches["messages"].max() <= 10
    assert log.batches["status"].eq("ok").all()
    d = log.deliveries()
    assert len(d) == log.batches["messages"].sum()
    assert d["message_number"].is_unique


def test_same_seed_same_run() -> None:
    def once() -> Any:
        sim = make_sim(error_rate=0.3)
        sim.add_source(SQSQueue("q", Poisson(5.0), visibility_timeout_s=10), target="f")
        return sim.run(until_s=100).output("sqs:q")

    a, b = once(), once()
    assert len(a.frame) > 300 and (a.frame["receive_count"] > 1).any()
    assert a.frame.equals(b.frame) and a.batches.equals(b.batches)


def test_a_failed_message_reappears_after_the_visibility_timeout() -> None:
    events: list[dict] = []

    def handler(event: dict, context: Any) -> None:
        events.append(event)
        raise RuntimeError("always fails")

    sim = make_sim(handler=handler, timeout_s=5)
    sim.add_source(SQSQueue("q", [(1.0, "hello")], visibility_timeout_s=30), target="f")
    res = sim.run(until_s=100)
    starts = res.invocations["arrival_s"].to_numpy()
    np.testing.assert_allclose(np.diff(starts), [30.0, 30.0, 30.0])
    assert res.invocations["attempt"].tolist() == [1, 2, 3, 4]
    counts = [e["Records"][0]["attributes"]["ApproximateReceiveCount"] for e in events]
    assert counts == ["1", "2", "3", "4"]
    record = events[0]["Records"][0]
    assert record["body"] == "hello" and record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":q")
    assert res.output("sqs:q").frame.loc[0, "outcome"] == "pending"


def test_redrive_moves_a_message_to_the_dead_letter_queue_after_max_receive_count() -> None:
    sim = make_sim(error_rate=0.0)
    sim.add_function("g", duration_s=0.1)
    dlq = SQSQueue("orders-dlq")
    queue = SQSQueue("orders", [(0.0, "ok-1"), (0.0, "bad"), (0.0, "ok-2")],
                     visibility_timeout_s=10, max_receive_count=3, dead_letter_queue=dlq,
                     batch_size=1, poison=lambda m: m.body == "bad")
    sim.add_source(queue, target="f")
    sim.add_source(dlq, target="g")
    res = sim.run(until_s=100)
    frame = res.output("sqs:orders").frame.set_index("message_number")
    assert frame.loc[1, "outcome"] == "dead_letter" and frame.loc[1, "receive_count"] == 3
    assert 20 <= frame.loc[1, "processed_s"] <= 31  # at the 4th receive, after 3 timeouts
    assert frame.loc[[0, 2], "outcome"].eq("ok").all()
    (dead,) = res.output("sqs:orders").dead_letters
    assert dead["body"] == "bad" and dead["attributes"]["ApproximateReceiveCount"] == "3"
    dlq_frame = res.output("sqs:orders-dlq").frame
    assert dlq_frame["outcome"].tolist() == ["ok"] and dlq_frame["function"].tolist() == ["g"]
    assert (res.invocations["function"] == "g").sum() == 1


def test_a_failing_message_blocks_nobody_in_a_standard_queue() -> None:
    sim = make_sim()
    msgs = [(0.0, "bad")] + [(0.5 * i, f"m{i}") for i in range(1, 100)]
    queue = SQSQueue("q", msgs, batch_size=1, poison=lambda m: m.body == "bad")
    sim.add_source(queue, target="f")
    res = sim.run(until_s=120)
    frame = res.output("sqs:q").frame
    assert frame.loc[frame["message_number"] > 0, "outcome"].eq("ok").all()
    assert frame.loc[0, "receive_count"] == 4  # at 0, 30, 60 and 90 s
    # the retried message comes back after newer ones were done: no order
    log = res.output("sqs:q")
    tries = log.deliveries().merge(log.batches[["invocation_id", "t_s"]])
    assert tries.loc[tries["message_number"] == 0, "t_s"].max() > frame.loc[99, "processed_s"]


def test_batch_size_and_batching_window() -> None:
    sim = make_sim()
    burst = [(0.0, f"m{i}") for i in range(95)]
    sim.add_source(SQSQueue("q", burst, batch_size=10), target="f")
    b = sim.run(until_s=30).output("sqs:q").batches
    assert b["messages"].max() == 10 and b["messages"].sum() == 95
    sim = make_sim()
    trickle = [(float(i), f"m{i}") for i in range(30)]
    sim.add_source(SQSQueue("q", trickle, batch_size=100, batching_window_s=5), target="f")
    b = sim.run(until_s=60).output("sqs:q").batches
    assert b["messages"].sum() == 30
    assert b["messages"].iloc[:5].between(5, 6).all()  # one batch per window of 5 s
    np.testing.assert_allclose(np.diff(b["t_s"].iloc[:5]), 5.0, atol=1.0)


def test_throttled_batches_come_back_after_the_visibility_timeout() -> None:
    sim = make_sim(reserved_concurrency=0)
    sim.add_source(SQSQueue("q", [(0.0, "x")], visibility_timeout_s=20, max_receive_count=4),
                   target="f")
    res = sim.run(until_s=200)
    inv = res.invocations
    assert inv["status"].eq("throttled").all()
    np.testing.assert_allclose(np.diff(inv["arrival_s"]), [20.0, 20.0, 20.0])
    frame = res.output("sqs:q").frame
    assert frame.loc[0, "outcome"] == "dead_letter" and frame.loc[0, "receive_count"] == 4


@pytest.mark.parametrize(("era", "rate", "cap"), [("today", 300, 1_250), ("2020", 60, 1_000)])
def test_the_mapping_scales_at_the_era_rate(era: str, rate: int, cap: int) -> None:
    sim = make_sim(era=era, duration_s=30, timeout_s=30)
    backlog = [(0.0, "x")] * 20_000
    sim.add_source(SQSQueue("q", backlog, visibility_timeout_s=180), target="f")
    res = sim.run(until_s=60)
    inv = res.invocations
    assert in_flight_at(inv, 0.1) == 5
    expected = 5 + rate * 29.5 / 60
    assert abs(in_flight_at(inv, 29.5) - expected) <= 2
    limits = [limit for _, _, limit in res.output("sqs:q").scaling]
    assert max(limits) <= cap and limits[0] == 5


def test_max_concurrency_caps_the_batches_in_flight() -> None:
    sim = make_sim(duration_s=5, timeout_s=5)
    sim.add_source(SQSQueue("q", [(0.0, "x")] * 5_000, max_concurrency=20), target="f")
    inv = sim.run(until_s=200).invocations
    ends = np.sort(inv["end_s"].to_numpy())
    starts = np.sort(inv["arrival_s"].to_numpy())
    in_flight = np.searchsorted(starts, starts, "right") - np.searchsorted(ends, starts, "right")
    assert in_flight.max() == 20


def test_a_visibility_timeout_shorter_than_a_cold_batch_gives_duplicates() -> None:
    sim = make_sim(duration_s=2.9, timeout_s=3, init_s=1.0)
    sim.add_source(SQSQueue("q", [(0.0, "once")], visibility_timeout_s=3), target="f")
    res = sim.run(until_s=20)
    assert len(res.invocations) == 2 and res.invocations["status"].eq("ok").all()
    frame = res.output("sqs:q").frame
    assert frame.loc[0, "receive_count"] == 2 and frame.loc[0, "outcome"] == "ok"


def test_a_queue_as_on_failure_destination_of_a_stream() -> None:
    sim = make_sim()
    sim.add_function("g", duration_s=0.1, handler=lambda e, c: json.loads(e["Records"][0]["body"]))
    failures = SQSQueue("stream-failures")
    stream = KinesisStream("s", [(0.0, "k", "bad"), (1.0, "k", "good")], max_retries=0,
                           on_failure=failures, poison=lambda r: r.data == b"bad")
    sim.add_source(stream, target="f")
    sim.add_source(failures, target="g")
    res = sim.run(until_s=30)
    out = res.invocations.loc[res.invocations["function"] == "g", "output"].iloc[0]
    assert out["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert out["KinesisBatchInfo"]["batchSize"] == 1
    # a destination queue nobody reads keeps the records
    sim = make_sim()
    stream = KinesisStream("s", [(0.0, "k", "bad")], max_retries=0,
                           on_failure=SQSQueue("kept"), poison=lambda r: True)
    sim.add_source(stream, target="f")
    frame = sim.run(until_s=30).output("sqs:kept").frame
    assert frame["outcome"].tolist() == ["pending"]


@pytest.mark.parametrize(("reserved", "ok"), [(None, 8), (0, 0)])
def test_every_message_sent_ends_in_exactly_one_outcome(reserved: Any, ok: int) -> None:
    # 99 messages, one a second, to 2 pollers of batch 1 and a 25 s function: most are still in
    # the queue when the run stops, never received; with reserved concurrency 0 all of them.
    sim = make_sim(duration_s=25, timeout_s=30, reserved_concurrency=reserved)
    sent = [(float(i), json.dumps({"i": i})) for i in range(99)] + [(100.0, "after the run")]
    sim.add_source(SQSQueue("q", sent, batch_size=1, max_concurrency=2), target="f")
    res = sim.run(until_s=100)
    frame = res.output("sqs:q").frame
    assert frame["message_number"].tolist() == list(range(99))
    assert frame["sent_s"].tolist() == [float(i) for i in range(99)]
    table = res.outcomes()
    assert table.columns.tolist() == ["source", "unit", "function", "outcome", "count"]
    assert set(table["source"]) == {"sqs:q"} and set(table["unit"]) == {"message"}
    counts = dict(zip(table["outcome"], table["count"], strict=True))
    assert counts == {"pending": 99 - ok, "dead_letter": 0, "expired": 0, "ok": ok}
    assert table.loc[table["outcome"] == "ok", "function"].tolist() == ["f"]
    assert frame["outcome"].value_counts().to_dict() == {"pending": 99 - ok, "ok": ok,
                                                         "dead_letter": 0, "expired": 0}


def test_messages_older_than_the_retention_at_the_end_are_expired() -> None:
    sim = make_sim(reserved_concurrency=0)
    sim.add_source(SQSQueue("q", [(0.0, "a"), (50.0, "b")], retention_s=60), target="f")
    frame = sim.run(until_s=100).output("sqs:q").frame
    assert frame["outcome"].tolist() == ["expired", "pending"]
    assert frame["processed_s"].tolist()[0] == 60.0


def test_redriven_messages_are_counted_in_both_queues() -> None:
    sim = make_sim(error_rate=1.0)
    dlq = SQSQueue("dlq")
    sim.add_source(SQSQueue("q", [(float(i), "x") for i in range(5)], max_receive_count=1,
                            dead_letter_queue=dlq, visibility_timeout_s=3), target="f")
    table = sim.run(until_s=60).outcomes().set_index(["source", "outcome"])["count"]
    assert table[("sqs:q", "dead_letter")] == 5 and table[("sqs:q", "pending")] == 0
    assert table[("sqs:dlq", "pending")] == 5


def test_a_dead_letter_queue_is_in_the_results_when_nothing_was_redriven() -> None:
    sim = make_sim()
    sim.add_source(SQSQueue("q", [(1.0, "x")], max_receive_count=2,
                            dead_letter_queue=SQSQueue("dlq")), target="f")
    res = sim.run(until_s=30)
    assert len(res.output("sqs:dlq").frame) == 0
    table = res.outcomes()
    assert table.loc[table["source"] == "sqs:dlq", "count"].sum() == 0
    assert table.loc[table["source"] == "sqs:q", "count"].sum() == 1


def test_a_destination_from_simlab_sources_collects_stream_failures() -> None:
    sim = make_sim()
    stream = KinesisStream("s", [(0.0, "k", "bad")], max_retries=1,
                           on_failure=simlab.sources.Queue("failed-batches"),
                           poison=lambda r: True)
    sim.add_source(stream, target="f")
    res = sim.run(until_s=30)
    (record,) = res.output("failed-batches").records
    assert record["requestContext"]["approximateInvokeCount"] == 2


def test_settings_checked_against_the_functions_and_the_era() -> None:
    # the visibility timeout against the function's timeout: refused when the queue is added
    # (test_a_visibility_timeout_shorter_than_the_function_timeout_is_refused_when_added)
    sim = make_sim(era="2020")
    sim.add_source(SQSQueue("q", [(0.0, "x")], max_concurrency=10), target="f")
    with pytest.raises(ValueError, match="max_concurrency"):
        sim.run(until_s=10)


@pytest.mark.parametrize(("kwargs", "word"), [
    ({"batch_size": 11}, "batching_window_s"),
    ({"batch_size": 10_001, "batching_window_s": 1}, "batch_size"),
    ({"batch_size": 0}, "batch_size"),
    ({"batching_window_s": 301}, "batching_window_s"),
    ({"visibility_timeout_s": 43_201}, "visibility_timeout_s"),
    ({"visibility_timeout_s": -1}, "visibility_timeout_s"),
    ({"max_receive_count": 0}, "max_receive_count"),
    ({"max_concurrency": 1}, "max_concurrency"),
    ({"max_concurrency": 1_001}, "max_concurrency"),
    ({"retention_s": 59}, "retention_s"),
    ({"poison": 3}, "poison"),
    ({"dead_letter_queue": "dlq", "max_receive_count": 3}, "dead_letter_queue"),
    ({"dead_letter_queue": SQSQueue("dlq")}, "max_receive_count"),
    ({"messages": [(0.0, 5)]}, "body"),
    ({"messages": [(-1.0, "x")]}, "messages"),
    ({"messages": [(0.0,)]}, "messages"),
    ({"messages": "x"}, "messages"),
])
def test_bad_settings_are_rejected(kwargs: dict, word: str) -> None:
    with pytest.raises((ValueError, TypeError), match=word):
        SQSQueue("q", **kwargs)


@pytest.mark.parametrize("name", ["orders.fifo", "", "a b", "x" * 81])
def test_bad_queue_names_are_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="name"):
        SQSQueue(name)


def test_a_visibility_timeout_shorter_than_the_function_timeout_is_refused_when_added() -> None:
    sim = make_sim(timeout_s=60)
    with pytest.raises(ValueError, match=r"^visibility_timeout_s of SQS queue 'q' must be at "
                                         r"least the timeout of function 'f' \(60 s\), got 30 s; "
                                         r"AWS recommends a visibility timeout of 360 s"):
        sim.add_source(SQSQueue("q", Poisson(1.0)), target="f")
    assert sim.sources == []


def test_a_timeout_update_above_the_visibility_timeout_is_refused() -> None:
    sim = make_sim(timeout_s=10)
    sim.add_source(SQSQueue("q", Poisson(1.0)), target="f")
    sim.update_function_configuration(5.0, "f", timeout_s=30)  # equal: allowed
    with pytest.raises(ValueError, match=r"^timeout_s of function 'f' \(update at 20 s\) must be "
                                         r"at most the visibility timeout of SQS queue 'q' that "
                                         r"feeds it \(30 s\), got 31 s; AWS recommends"):
        sim.update_function_configuration(20.0, "f", timeout_s=31)
    assert [a[0] for a in sim.actions] == [5.0]  # the refused update is not kept
    assert sim.run(30).invocations["function"].eq("f").all()


def test_a_queue_added_after_a_timeout_update_checks_the_updated_timeout() -> None:
    sim = make_sim(timeout_s=10)
    sim.update_function_configuration(5.0, "f", timeout_s=40)
    with pytest.raises(ValueError, match=r"timeout_s of function 'f' \(update at 5 s\) must be "
                                         r"at most the visibility timeout of SQS queue 'q'"):
        sim.add_source(SQSQueue("q", Poisson(1.0)), target="f")
