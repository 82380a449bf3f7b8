"""Partial batch responses (ReportBatchItemFailures) for SQS queues and streams: only the items the
handler reports are retried."""

from __future__ import annotations

from typing import Any

import pytest

import simlab
from simlab.aws.sources.pollers import reported_failures
from simlab.aws.sources.sqs import SQSQueue
from simlab.aws.sources.streams import KinesisStream

BODIES = [(1.0, f'{{"n": {i}}}') for i in range(3)]


def _queue_run(report: bool, handler: Any = None, poison: Any = None) -> simlab.Result:
    sim = simlab.Simulation(seed=1)
    sim.add_function("w", duration_s=0.1, timeout_s=5, handler=handler)
    q = SQSQueue("jobs", BODIES, visibility_timeout_s=30, max_receive_count=3,
                 dead_letter_queue=SQSQueue("dlq"), poison=poison,
                 report_batch_item_failures=report)
    sim.add_source(q, target="w")
    return sim.run(until_s=300)


def _outcomes(r: simlab.Result) -> list[str]:
    return r.output("sqs:jobs").frame["outcome"].astype(str).tolist()


def test_without_partial_responses_a_good_message_goes_to_the_dlq_with_a_poison_one() -> None:
    r = _queue_run(False, poison=lambda m: m.message_number == 1)
    assert _outcomes(r) == ["dead_letter"] * 3
    assert r.invocations["status"].tolist() == ["error"] * 3


def test_with_partial_responses_only_the_poison_message_is_retried() -> None:
    r = _queue_run(True, poison=lambda m: m.message_number == 1)
    assert _outcomes(r) == ["ok", "dead_letter", "ok"]
    frame = r.output("sqs:jobs").frame
    assert frame["receive_count"].tolist() == [1, 3, 1]
    # the batch-mates were deleted by the first invocation; it and the retries succeeded
    assert r.invocations["status"].tolist() == ["ok"] * 3
    assert r.output("sqs:jobs").batches["messages"].tolist() == [3, 1, 1]


def test_a_real_handler_reports_failed_message_ids() -> None:
    def handler(event: dict, context: Any) -> dict:
        bad = [r["messageId"] for r in event["Records"] if r["body"] == '{"n": 2}']
        return {"batchItemFailures": [{"itemIdentifier": i} for i in bad]}

    assert _outcomes(_queue_run(True, handler)) == ["ok", "ok", "dead_letter"]
    # the same response without the setting is ignored: the batch succeeded
    assert _outcomes(_queue_run(False, handler)) == ["ok", "ok", "ok"]


@pytest.mark.parametrize("response", [
    {"batchItemFailures": [{"itemIdentifier": "not-a-message-id"}]},
    {"batchItemFailures": [{"itemIdentifier": None}]},
    {"batchItemFailures": [{"wrongKey": "x"}]},
])
def test_an_invalid_partial_response_fails_the_whole_batch(response: dict) -> None:
    assert _outcomes(_queue_run(True, lambda e, c: response)) == ["dead_letter"] * 3


def test_reported_failures_reads_aws_response_shapes() -> None:
    ids = lambda: ["a", "b", "c"]  # noqa: E731
    assert reported_failures(None, ids) == []
    assert reported_failures({"batchItemFailures": []}, ids) == []
    assert reported_failures({"batchItemFailures": [{"itemIdentifier": "c"},
                                                    {"itemIdentifier": "a"}]}, ids) == [0, 2]
    assert reported_failures({"batchItemFailures": "c"}, ids) is None


def _stream_run(report: bool, **kw: Any) -> simlab.Result:
    sim = simlab.Simulation(seed=1)
    sim.add_function("w", duration_s=0.1, timeout_s=5)
    records = [(1.0, "k", f"r{i}") for i in range(6)]
    sim.add_source(KinesisStream("clicks", records, batch_size=6, max_retries=2,
                                 poison=lambda r: r.data == b"r3",
                                 report_batch_item_failures=report, **kw), target="w")
    return sim.run(until_s=60)


def test_streams_checkpoint_before_the_first_reported_failure() -> None:
    whole = _stream_run(False).output("kinesis:clicks")
    assert whole.records["outcome"].astype(str).tolist() == ["discarded_retries"] * 6
    part = _stream_run(True).output("kinesis:clicks")
    # r0-r2 are checkpointed after the first invocation; the retries start at r3
    assert part.records["outcome"].astype(str).tolist() == (["ok"] * 3
                                                            + ["discarded_retries"] * 3)
    assert part.batches["first_sequence_number"].tolist() == [0, 3, 3]
    assert part.records["invocations"].tolist() == [1, 1, 1, 3, 3, 3]


@pytest.mark.parametrize("make", [
    lambda: SQSQueue("q", report_batch_item_failures=1),
    lambda: KinesisStream("s", [(1.0, "k", "d")], report_batch_item_failures="yes"),
])
def test_the_setting_must_be_a_bool(make: Any) -> None:
    with pytest.raises(TypeError, match="report_batch_item_failures must be True or False"):
        make()


def test_the_2020_era_refuses_sqs_partial_responses() -> None:
    sim = simlab.Simulation(era="2020", seed=1)
    sim.add_function("w", duration_s=0.1)
    sim.add_source(SQSQueue("jobs", BODIES, report_batch_item_failures=True), target="w")
    with pytest.raises(ValueError, match="ReportBatchItemFailures of SQS.*2021-11-29"):
        sim.run(until_s=10)
