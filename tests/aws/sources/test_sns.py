"""SNS topics: asynchronous fan-out to every subscribed function, publish from handlers."""

from __future__ import annotations

import pytest

import simlab
from simlab.aws.sources import FixedInterval, SNSTopic, configure_async


def _subscribers(sim: simlab.Simulation, names: list[str], **cfg: object) -> dict[str, list]:
    seen: dict[str, list] = {}
    for n in names:
        seen[n] = []
        sim.add_function(n, duration_s=0.1, handler=lambda e, c, box=seen[n]: box.append(e),
                         **cfg)
    return seen


def test_each_message_reaches_every_subscriber_asynchronously() -> None:
    sim = simlab.Simulation(seed=1)
    seen = _subscribers(sim, ["email", "sms", "push"])
    topic = SNSTopic("orders", messages=[(1.0, '{"id": 1}', "new order"), (5.0, '{"id": 2}')])
    sim.add_source(topic, target=["email", "sms", "push"])
    r = sim.run(until_s=60)
    for events in seen.values():
        assert [e["Records"][0]["Sns"]["Message"] for e in events] == ['{"id": 1}', '{"id": 2}']
        rec = events[0]["Records"][0]
        assert rec["EventSource"] == "aws:sns"
        assert rec["Sns"]["Subject"] == "new order"
        assert rec["Sns"]["TopicArn"] == "arn:aws:sns:us-east-1:123456789012:orders"
    # each subscription has its own ARN
    subs = {n: ev[0]["Records"][0]["EventSubscriptionArn"] for n, ev in seen.items()}
    assert len(set(subs.values())) == 3
    ids = {ev[0]["Records"][0]["Sns"]["MessageId"] for ev in seen.values()}
    assert len(ids) == 1  # one message, three deliveries
    inv = r.invocations
    assert len(inv) == 6 and (inv["invocation_type"] == "async").all()
    log = r.output("sns").messages
    assert log["deliveries"].tolist() == [3, 3]


def test_a_failing_subscriber_is_retried_alone() -> None:
    sim = simlab.Simulation(seed=1)
    _subscribers(sim, ["good"])
    sim.add_function("bad", duration_s=0.1, error_rate=1.0)
    configure_async(sim, "bad", max_retries=1)
    sim.add_source(SNSTopic("t", messages=[(0.0, "hi")]), target=["good", "bad"])
    inv = sim.run(until_s=300).invocations
    assert inv.groupby("function", observed=True).size().to_dict() == {"good": 1, "bad": 2}


def test_publish_from_a_handler_and_messages_from_an_arrival_process() -> None:
    sim = simlab.Simulation(seed=1)
    seen = _subscribers(sim, ["listener"])
    alerts = SNSTopic("alerts")

    def watchdog(event: dict, context: object) -> None:
        alerts.publish(f"tick {event['Records'][0]['Sns']['Message']}")

    sim.add_function("watchdog", duration_s=0.1, handler=watchdog)
    ticks = SNSTopic("ticks", messages=FixedInterval(10.0), message=lambda n: f"#{n}")
    sim.add_source(ticks, target="watchdog")
    sim.add_source(alerts, target="listener")
    r = sim.run(until_s=35)
    got = [e["Records"][0]["Sns"]["Message"] for e in seen["listener"]]
    assert got == ["tick #0", "tick #1", "tick #2", "tick #3"]
    assert len(r.output("sns-2").messages) == 4


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"name": "bad name"}, "topic name"),
    ({"name": ""}, "topic name"),
    ({"name": "t", "message": 5}, "message must be a string or a function"),
    ({"name": "t", "message": "x" * 300_000}, "at most 262,144 bytes"),
    ({"name": "t", "subject": ""}, "subject"),
    ({"name": "t", "messages": "hello"}, "messages must be an arrival process"),
    ({"name": "t", "messages": [(1.0,)]}, r"messages\[0\] must be"),
    ({"name": "t", "messages": [(-2.0, "x")]}, r"messages\[0\] time_s"),
    ({"name": "t", "messages": [(2.0, {"a": 1})]},
     r"messages\[0\] message must be a non-empty string.*got \{.a.: 1\}"),
    ({"name": "t", "message": ""}, r"message must be a non-empty string .*got ''"),
])
def test_bad_topic_configuration_is_rejected(kwargs: dict, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        SNSTopic(**kwargs)


def test_publish_outside_a_run_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="not in a running simulation"):
        SNSTopic("t").publish("x")
