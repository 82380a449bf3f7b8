"""Tests of lesson 5 (simlab.course.lessons.event_sources and event_payloads): the three-trigger
experiment, the single-behaviour runs, payloads, schedules, the handler chain, the figures, the
dashboard and the exercises."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import ipywidgets as w
import numpy as np
import pytest
from matplotlib.figure import Figure

from simlab.core.theory import erlang_b
from simlab.course.exercises import REGISTRY, check
from simlab.course.lessons import event_sources as es
from simlab.course.teacher import expected_answer

IDS = ["05-fanout-attempts", "05-poison-iterator-age", "05-api-status-40s",
       "05-billed-slow-api", "05-async-throttle-wait", "05-weekend-firings"]


@pytest.fixture(scope="module")
def result():
    return es.three_triggers()


@pytest.fixture(scope="module")
def summary(result):
    return es.trigger_summary(result)


@pytest.fixture(scope="module")
def poisoned():
    return es.poison_stream()  # the run and its poison record


def test_every_trigger_uses_its_documented_invocation_type() -> None:
    modes = es.invocation_modes()
    assert modes["invocations"].tolist() == [1] * len(modes)
    got = dict(zip(modes["trigger"], modes["invocation_type"], strict=True))
    assert {k for k, v in got.items() if v == "sync"} == {"API Gateway", "SDK RequestResponse"}
    assert {k for k, v in got.items() if v == "poll"} == {"Kinesis", "DynamoDB Streams", "SQS"}
    assert {k for k, v in got.items() if v == "async"} == {"SDK Event", "S3", "SNS",
                                                          "EventBridge schedule"}
    assert es.AWS_MODES["invocation_type"].tolist() == ["sync", "async", "poll"]


def test_api_gateway_hands_every_failure_to_its_client(result, summary) -> None:
    api = summary.loc["API Gateway"]
    assert api["invocation_type"] == "sync" and api["retries"] == 0
    assert api["failed_items"] == api["function_errors"] + api["throttles"]
    statuses = result.output("apigateway").requests["http_status"].value_counts()
    assert statuses[502] == api["function_errors"] and statuses[500] == api["throttles"]
    # Throttled fraction: Erlang B(3, lambda * d = 1) within 4 binomial standard errors.
    p = float(erlang_b(3, es.LESSON5["rate_per_s"] * es.LESSON5["duration_s"]))
    n = api["items"]
    assert abs(api["throttles"] / n - p) < 4 * math.sqrt(p * (1 - p) / n)
    # About 5 % of the invocations that ran failed.
    q = es.LESSON5["failure_rate"]
    ran = api["invocations"]
    assert abs(api["function_errors"] / ran - q) < 4 * math.sqrt(q * (1 - q) / ran)


def test_s3_turns_failures_into_retries_and_loses_almost_nothing(result, summary) -> None:
    s3 = summary.loc["S3"]
    assert s3["invocation_type"] == "async" and s3["throttles"] > 0
    # every failed attempt is retried, except the last of an event that failed for good or waits
    assert s3["retries"] >= (s3["function_errors"] + s3["throttles"] - s3["pending_items"]
                             - s3["failed_items"])
    assert s3["failed_items"] <= 1
    assert s3["max_delay_s"] >= 60.0  # an error waits a minute before its retry
    queue = result.output("async")
    assert queue.counts["submitted"] == s3["items"]
    assert queue.counts["failed"] == s3["failed_items"]


def test_a_stream_is_never_throttled_below_its_shard_count(result, summary) -> None:
    k = summary.loc["Kinesis"]
    assert k["invocation_type"] == "poll" and k["throttles"] == 0 and k["failed_items"] == 0
    assert k["retries"] >= k["function_errors"] - 1
    assert k["max_delay_s"] < 10.0
    tight = es.trigger_summary(es.three_triggers(0.0, 10, 1))
    assert tight.loc["Kinesis", "throttles"] > 0  # 2 shards, 1 environment
    assert tight.loc["S3", "failed_items"] == 0  # throttled async events are delayed, not lost


def test_small_batches_let_a_failing_stream_fall_behind() -> None:
    small = es.trigger_summary(es.three_triggers(0.3, 1))
    large = es.trigger_summary(es.three_triggers(0.3, 10))
    assert small.loc["Kinesis", "max_delay_s"] > 60.0
    assert large.loc["Kinesis", "max_delay_s"] < 30.0
    assert small.loc["Kinesis", "pending_items"] > 10 * max(large.loc["Kinesis",
                                                                       "pending_items"], 1)
    # The other triggers do not care about the stream's batch size.
    assert small.loc["API Gateway"].equals(large.loc["API Gateway"])


def test_same_parameters_same_run(result, summary) -> None:
    again = es.trigger_summary(es.three_triggers())
    assert again.equals(summary)


def test_throttled_async_events_wait_doubling_backoffs(result) -> None:
    waits = es.throttle_waits(result)
    assert (waits["wait_s"] == 2.0 ** waits["throttles"] - 1).all()
    s3 = es.attempts(result, es.FUNCTIONS["S3"])
    ran_first = (s3["attempt"] == 1) & (s3["status"] != "throttled")
    assert waits["events"].sum() == int(ran_first.sum())
    assert waits["throttles"].max() >= 3


def test_an_always_failing_event_is_tried_three_times_then_dead_lettered() -> None:
    failing = es.always_failing_upload()
    tries = es.attempts(failing)
    assert tries["attempt"].tolist() == [1, 2, 3] and (tries["status"] == "error").all()
    gaps = tries["arrival_s"].to_numpy()[1:] - tries["end_s"].to_numpy()[:-1]
    np.testing.assert_allclose(gaps, [60.0, 120.0])
    assert tries["event_age_s"].dtype == float and tries["event_age_s"].iloc[0] == 0.0
    dlq = failing.output("failed-uploads")
    assert dlq.frame()["condition"].tolist() == ["RetriesExhausted"]
    assert dlq.frame()["approximate_invoke_count"].tolist() == [3]
    assert len(es.attempts(es.always_failing_upload(max_retries=0))) == 1


def test_sns_fans_out_one_event_per_subscriber_each_with_its_retries() -> None:
    inv = es.always_failing_fanout(3).invocations
    assert len(inv) == 9
    assert inv.groupby("function", observed=True)["attempt"].max().tolist() == [3, 3, 3]
    with pytest.raises(ValueError, match="subscribers"):
        es.always_failing_fanout(0)


def test_a_poison_record_blocks_only_its_shard(poisoned) -> None:
    poisoned, poison = poisoned
    shard = poison["shard"]
    records = poisoned.output("kinesis:clicks").records
    mine = records[records["shard"] == shard]
    behind = mine[mine["sequence_number"] >= poison["sequence_number"]]
    assert (behind["outcome"] == "pending").all() and len(behind) > 100
    assert (mine[mine["sequence_number"] < poison["sequence_number"]]["outcome"] == "ok").all()
    other = records[records["shard"] != shard]
    assert (other[other["arrival_s"] < 890]["outcome"] == "ok").all()
    # The blocked shard's iterator age grows one second per second.
    t0 = poison["arrival_s"]
    a1 = es.iterator_age_at(poisoned, t0 + 300, shard)
    a2 = es.iterator_age_at(poisoned, t0 + 600, shard)
    assert (a2 - a1) / 1000 == pytest.approx(300.0, abs=2.5)
    assert es.iterator_age_at(poisoned, t0 + 600, 1 - shard) < 5_000
    assert math.isnan(es.iterator_age_at(poisoned, 0.0, shard))


def test_api_gateway_gives_up_at_29_s_but_the_function_runs_on() -> None:
    slow = es.slow_api(40)
    response = slow.output("apigateway").responses.iloc[0]
    assert response["http_status"] == 504 and response["latency_ms"] == pytest.approx(29_000)
    row = slow.invocations.iloc[0]
    assert row["status"] == "ok" and row["billed_ms"] >= 40_000
    assert es.slow_api(10).output("apigateway").responses["http_status"].tolist() == [200]


def test_received_events_have_the_shapes_of_their_sources() -> None:
    events = es.received_events()
    record = events["S3"]["Records"][0]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["object"]["key"] == "photos/red+flower.jpg"
    api = events["API Gateway"]
    assert api["httpMethod"] == "GET" and api["path"] == "/orders"
    assert api["queryStringParameters"] == {"id": "42"} and api["body"] is None
    sns = events["SNS"]["Records"][0]
    assert sns["EventSource"] == "aws:sns" and sns["Sns"]["Subject"] == "order shipped"
    assert json.loads(sns["Sns"]["Message"]) == {"order": 7, "status": "shipped"}
    change = events["DynamoDB Streams"]["Records"][0]
    assert change["eventSource"] == "aws:dynamodb" and change["eventName"] == "MODIFY"
    assert change["dynamodb"]["Keys"] == {"id": {"N": "7"}}
    assert change["dynamodb"]["OldImage"]["status"] == {"S": "paid"}
    assert change["dynamodb"]["NewImage"]["status"] == {"S": "shipped"}


def test_trim_keeps_the_asked_paths_and_counts_the_rest() -> None:
    event = {"a": {"b": 1, "c": 2, "d": 3}, "e": [{"f": 1, "g": 2}], "h": 4}
    assert es.trim(event, ["a.b", "e.0.f"]) == {
        "a": {"b": 1, "...": "2 more keys"}, "e": [{"f": 1, "...": "1 more keys"}],
        "...": "1 more keys"}
    assert es.trim(event, ["h", "a", "e"]) == event  # nothing dropped: no "..." entry
    assert es.trim(event, []) is event
    with pytest.raises(KeyError, match="'x'"):
        es.trim(event, ["x"])


def test_cron_on_working_days_skips_the_weekend() -> None:
    start, end = datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 5, 12, tzinfo=UTC)
    table = es.firings("cron(0/10 * ? * MON-FRI *)", start, end)
    assert len(table) == 24 * 6 + 12 * 6 and set(table["weekday"]) == {"Fri", "Mon"}
    assert table["time"].iloc[0] == datetime(2026, 1, 2, tzinfo=UTC)
    assert len(es.firings("cron(0/10 * ? * MON-FRI *)", *es.WEEKEND)) == 72
    assert len(es.firings("rate(1 hour)", start, end)) == 84
    fig = es.firings_figure(table, start, end)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "firings per hour" and "UTC" in ax.get_xlabel()
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == 84 and sum(heights) == len(table)
    with pytest.raises(ValueError, match="'\\?'"):
        es.firings("cron(0/10 * * * MON-FRI *)", start, end)


def test_handler_chain_links_calls_and_reports_errors_in_the_payload() -> None:
    chain = es.handler_chain()
    inv = chain.invocations
    assert inv["function"].tolist() == ["checkout", "charge-card", "send-receipt", "checkout",
                                        "charge-card"]
    assert inv["invocation_type"].tolist() == ["sync", "sync", "async", "sync", "sync"]
    assert inv["parent_invocation_id"].tolist()[1:3] == [0, 0]
    assert inv["status"].tolist() == ["ok", "ok", "ok", "error", "error"]
    assert inv["output"].iloc[0] == {"order": 1, "status": "paid"}
    assert "over the card's limit" in inv["error"].iloc[3]
    responses = chain.output("sdk").responses
    assert responses["status_code"].tolist() == [200, 200]
    assert responses["function_error"].tolist()[1] == "Unhandled"


def test_figures_have_labelled_panels(result) -> None:
    fig = es.triggers_figure(result)
    top, mid, low = fig.axes
    assert "API Gateway" in top.get_title(loc="left") and top.get_ylabel() == "per minute"
    assert "S3" in mid.get_title(loc="left")
    assert low.get_ylabel() == "iterator age (s)" and "(min)" in low.get_xlabel()
    labels = [t.get_text() for t in top.get_legend().get_texts()]
    assert labels[0].startswith("200 OK") and labels[2].startswith("500")
    assert len(low.get_lines()) == es.LESSON5["shards"]
    again = es.triggers_figure(result, fig=fig)
    assert again is fig and len(fig.axes) == 3
    assert isinstance(es.iterator_age_figure(result), Figure)


def test_view_readout_and_dashboard() -> None:
    view, fig = es.triggers_view(0.2, 5, 2)
    assert isinstance(fig, Figure) and view.batch_size == 5
    text = es.triggers_readout(view)
    assert "API Gateway" in text and "dead-letter queue" in text and "iterator age" in text
    box = es.triggers_dashboard(show=False)
    failure, batch, reserved, button = box.children[0].children
    assert isinstance(button, w.Button)
    assert (failure.value, batch.value, reserved.value) == (0.05, 10, 3)
    assert reserved.min == 1 and not failure.continuous_update
    before = box.children[1].value
    reserved.value = 1
    button.click()
    assert box.children[1].value != before
    with pytest.raises(TypeError, match="unknown default"):
        es.triggers_dashboard(show=False, seed=3)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"failure_rate": 1.5}, "failure_rate"), ({"failure_rate": -0.1}, "failure_rate"),
    ({"batch_size": 0}, "batch_size"), ({"batch_size": 2.5}, "batch_size"),
    ({"reserved_concurrency": 0}, "reserved_concurrency"),
    ({"reserved_concurrency": True}, "reserved_concurrency"), ({"until_s": 10}, "until_s"),
])
def test_bad_parameters_are_refused_before_the_run(kwargs, name) -> None:
    with pytest.raises(ValueError, match=name):
        es.three_triggers(**kwargs)


def test_bad_poison_and_slow_api_parameters() -> None:
    with pytest.raises(ValueError, match="poison_after_s"):
        es.poison_stream(poison_after_s=2000, minutes=15)
    with pytest.raises(ValueError, match="minutes"):
        es.poison_stream(minutes=0)
    with pytest.raises(ValueError, match="duration_s"):
        es.slow_api(-1)


def test_exercises_are_registered_and_judged(assert_judged) -> None:
    assert [REGISTRY[i].kind for i in IDS] == ["predict", "compute", "predict", "explain",
                                               "explain", "compute"]
    assert_judged(IDS)


def test_reference_answers_are_what_the_runs_show(poisoned, capsys) -> None:
    assert expected_answer("05-fanout-attempts") == 6
    assert expected_answer("05-api-status-40s") == "c"  # 504
    assert "HTTP 504" in check("05-api-status-40s", "c").message
    assert expected_answer("05-weekend-firings") == 72
    assert es.slow_api(40.0).invocations["billed_ms"].iloc[0] / 1000 >= 40  # the whole run
    tight = es.three_triggers(failure_rate=0, reserved_concurrency=2)
    assert es.trigger_summary(tight).loc["S3", "max_delay_s"] == pytest.approx(127.0)
    poisoned, poison = poisoned
    age = es.iterator_age_at(poisoned, poison["arrival_s"] + 600, poison["shard"]) / 60_000
    assert check("05-poison-iterator-age", age).correct
    assert check("05-poison-iterator-age", 10).correct  # one minute per minute
    capsys.readouterr()


def test_feedback_names_the_common_mistakes(poisoned, capsys) -> None:
    assert "per subscribed function" in check("05-fanout-attempts", 3).message
    assert "retries only" in check("05-fanout-attempts", 4).message
    poisoned, poison = poisoned
    other = es.iterator_age_at(poisoned, poison["arrival_s"] + 600, 1 - poison["shard"])
    assert "other shard" in check("05-poison-iterator-age", other / 60_000).message
    assert "minutes" in check("05-poison-iterator-age", 600).message
    assert "was slow" in check("05-api-status-40s", "b").message
    assert "throttles" in check("05-api-status-40s", "d").message
    assert "Saturday and Sunday" in check("05-weekend-firings", 360).message
    capsys.readouterr()
