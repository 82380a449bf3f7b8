"""The Invoke API: RequestResponse, Event and DryRun from a program and from handlers."""

from __future__ import annotations

import base64
import json

import pytest

import simlab
from simlab.aws.sources import SDK
from simlab.aws.sources.sdk import (
    MAX_CHAIN_DEPTH,
    RecursiveInvocationException,
    RequestTooLargeException,
    ResourceNotFoundException,
    TooManyRequestsException,
    async_payload_limit,
)


def test_three_invocation_types_from_a_program() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f", duration_s=0.3, init_s=0.2)
    calls = [(1.0, "f", {"a": 1}), (2.0, "f", b'{"b": 2}', "Event"), (3.0, "f", "{}", "DryRun")]
    sim.add_source(SDK(calls=calls), target="f")
    r = sim.run(until_s=60)
    resp = r.output("sdk").responses
    assert resp["status_code"].tolist() == [200, 202, 204]
    inv = r.invocations
    assert inv["invocation_type"].tolist() == ["sync", "async"]  # DryRun runs nothing
    assert resp["invocation_id"].tolist() == [0, 1, -1]
    # a synchronous caller hears back when the function ends; the others at once
    assert resp["responded_s"].tolist() == [pytest.approx(1.5), 2.0, 3.0]


def test_throttled_synchronous_call_answers_429() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f", duration_s=0.3, reserved_concurrency=0)
    sim.add_source(SDK(calls=[(1.0, "f", None)]), target="f")
    r = sim.run(until_s=10)
    resp = r.output("sdk").responses
    assert resp["status_code"].tolist() == [429]
    assert resp["error_code"].tolist() == ["TooManyRequestsException"]
    assert r.invocations["status"].tolist() == ["throttled"]


def _chain(caller: object, **callee: object) -> tuple[simlab.Simulation, list]:
    sim = simlab.Simulation(seed=5)
    seen: list = []

    def worker(event: dict, context: object) -> dict:
        seen.append(event)
        return {"sum": sum(event["values"])}

    sim.add_function("front", duration_s=0.1, handler=caller)
    sim.add_function("worker", duration_s=0.4, handler=worker, **callee)
    sim.add_source(SDK(calls=[(1.0, "front", {})]), target="front")
    return sim, seen


def test_chained_request_response_returns_the_callees_output() -> None:
    answers: list = []

    def front(event: dict, context: object) -> dict:
        resp = context.lambda_client.invoke(FunctionName="worker",
                                            Payload=json.dumps({"values": [1, 2, 3]}),
                                            LogType="Tail")
        answers.append(resp)
        return json.loads(resp["Payload"].read())

    sim, seen = _chain(front)
    r = sim.run(until_s=60)
    assert seen == [{"values": [1, 2, 3]}]
    assert answers[0]["StatusCode"] == 200 and "FunctionError" not in answers[0]
    assert base64.b64decode(answers[0]["LogResult"]) == b""
    inv = r.invocations.set_index("function")
    assert inv.loc["front", "output"] == {"sum": 6}
    assert inv.loc["worker", "source"] == "invoke:front"
    assert inv.loc["worker", "parent_invocation_id"] == inv.loc["front", "invocation_id"]
    # the callee starts when the caller's code runs
    assert inv.loc["worker", "arrival_s"] == pytest.approx(inv.loc["front", "start_s"])


def test_chained_call_to_a_failing_function_reports_function_error() -> None:
    answers: list = []

    def front(event: dict, context: object) -> None:
        answers.append(context.lambda_client.invoke(FunctionName="worker", Payload=b"{}"))

    sim, _ = _chain(front, error_rate=1.0)
    sim.run(until_s=60)
    assert answers[0]["StatusCode"] == 200
    assert answers[0]["FunctionError"] == "Unhandled"
    assert "errorMessage" in json.loads(answers[0]["Payload"].read())


def test_chained_event_and_dry_run() -> None:
    answers: list = []

    def front(event: dict, context: object) -> None:
        client = context.lambda_client
        answers.append(client.invoke(FunctionName="worker", InvocationType="Event",
                                     Payload=json.dumps({"values": [4]})))
        answers.append(client.invoke(FunctionName="worker", InvocationType="DryRun"))

    sim, seen = _chain(front)
    r = sim.run(until_s=60)
    assert [a["StatusCode"] for a in answers] == [202, 204]
    assert seen == [{"values": [4]}]  # the Event ran, the DryRun did not
    inv = r.invocations
    assert inv.loc[inv["function"] == "worker", "invocation_type"].tolist() == ["async"]


def test_chained_errors_like_boto3() -> None:
    errors: list = []

    def front(event: dict, context: object) -> None:
        client = context.lambda_client
        for kwargs in ({"FunctionName": "nobody"},
                       {"FunctionName": "worker"},  # reserved concurrency 0: throttled
                       {"FunctionName": "worker", "InvocationType": "Event",
                        "Payload": json.dumps({"x": "a" * 2_000_000})}):
            try:
                client.invoke(**kwargs)
            except Exception as exc:  # noqa: BLE001
                errors.append(type(exc))

    sim, _ = _chain(front, reserved_concurrency=0)
    sim.run(until_s=60)
    assert errors == [ResourceNotFoundException, TooManyRequestsException,
                      RequestTooLargeException]


def test_recursive_synchronous_chain_is_stopped() -> None:
    depth: list = []

    def recurse(event: dict, context: object) -> None:
        depth.append(event.get("n", 0))
        context.lambda_client.invoke(FunctionName=context.invoked_function_arn,
                                     Payload=json.dumps({"n": len(depth)}))

    sim = simlab.Simulation(seed=1, account_concurrency=1000)
    sim.add_function("loop", duration_s=0.1, handler=recurse)
    sim.add_source(SDK(calls=[(0.0, "loop", {})]), target="loop")
    r = sim.run(until_s=10)
    assert len(depth) == MAX_CHAIN_DEPTH
    errors = r.invocations["error"].dropna().tolist()
    # the deepest call failed; the callers got a FunctionError answer and went on
    assert len(errors) == 1 and errors[0].startswith("RecursiveInvocationException")
    assert RecursiveInvocationException.code == "RecursiveInvocationException"


def test_async_payload_limit_follows_the_era() -> None:
    import datetime as dt

    assert async_payload_limit(dt.date(2018, 6, 1)) == 128 * 1024
    assert async_payload_limit(dt.date(2020, 6, 1)) == 256 * 1024
    assert async_payload_limit(dt.date(2026, 1, 1)) == 1024 * 1024


@pytest.mark.parametrize(("calls", "match"), [
    ("f", "calls must be a list"),
    ([(1.0, "f")], r"calls\[0\] must be"),
    ([(-1.0, "f", None)], r"calls\[0\] time_s"),
    ([(float("nan"), "f", None)], r"calls\[0\] time_s"),
    ([(1.0, "", None)], r"calls\[0\] function"),
    ([(1.0, "f", None, "Async")], r"calls\[0\] invocation_type must be one of"),
    ([(1.0, "f", b"{not json")], r"calls\[0\] payload is not JSON"),
])
def test_bad_sdk_calls_are_rejected(calls: object, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        SDK(calls=calls)


def test_sdk_calls_must_name_targets() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f")
    sim.add_function("g")
    with pytest.raises(ValueError, match="invokes 'g', which is not among"):
        sim.add_source(SDK(calls=[(1.0, "g", None)]), target="f")
