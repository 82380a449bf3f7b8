"""Asynchronous invocation: retry timing and counts, throttle backoff, maximum event age,
destinations and dead-letter queues."""

from __future__ import annotations

import numpy as np
import pytest

import simlab
from simlab.aws.sources import (
    SDK,
    AsyncConfig,
    Bursty,
    DeadLetterQueue,
    Diurnal,
    FixedInterval,
    LambdaDestination,
    Poisson,
    Queue,
    Replay,
    configure_async,
)


def _sim(error_rate: float = 1.0, **fn: object) -> simlab.Simulation:
    sim = simlab.Simulation(seed=3)
    sim.add_function("f", duration_s=0.5, init_s=0.2, error_rate=error_rate, **fn)
    return sim


def _one_event(sim: simlab.Simulation, at: float = 10.0, payload: object = None) -> None:
    sim.add_source(SDK(calls=[(at, "f", payload or {"order": 7}, "Event")]), target="f")


def test_failing_event_is_tried_three_times_one_then_two_minutes_apart() -> None:
    sim = _sim()
    dlq = DeadLetterQueue("dlq")
    configure_async(sim, "f", dead_letter_queue=dlq)
    _one_event(sim)
    r = sim.run(until_s=1000)
    inv = r.invocations
    assert inv["attempt"].tolist() == [1, 2, 3]
    assert inv["status"].tolist() == ["error"] * 3
    assert (inv["invocation_type"] == "async").all()
    arrival, end = inv["arrival_s"].to_numpy(), inv["end_s"].to_numpy()
    assert arrival[0] == 10.0
    assert arrival[1] - end[0] == pytest.approx(60.0, abs=1e-9)
    assert arrival[2] - end[1] == pytest.approx(120.0, abs=1e-9)
    # all attempts belong to one event, and know how old it was
    assert inv["event_id"].tolist() == [inv["invocation_id"].iloc[0]] * 3
    np.testing.assert_allclose(inv["event_age_ms"].to_numpy(dtype=float),
                               (arrival - 10.0) * 1000.0)
    recs = r.output("dlq").records
    assert len(recs) == 1
    ctx = recs[0]["requestContext"]
    assert ctx["condition"] == "RetriesExhausted"
    assert ctx["approximateInvokeCount"] == 3
    assert ctx["requestId"] == simlab.core.ids.request_id(3, int(inv["invocation_id"].iloc[0]))
    assert ctx["functionArn"].endswith(":function:f:$LATEST")
    assert recs[0]["requestPayload"] == {"order": 7}
    assert recs[0]["responseContext"]["functionError"] == "Unhandled"
    msg = r.output("dlq").messages()[0]
    assert msg["body"] == '{"order":7}'
    assert msg["messageAttributes"]["RequestID"]["stringValue"] == ctx["requestId"]
    assert r.output("async").counts == {"submitted": 1, "succeeded": 0, "failed": 1,
                                        "expired": 0}


@pytest.mark.parametrize("retries", [0, 1, 2])
def test_maximum_retry_attempts_sets_the_number_of_attempts(retries: int) -> None:
    sim = _sim()
    configure_async(sim, "f", max_retries=retries)
    _one_event(sim)
    inv = sim.run(until_s=1000).invocations
    assert inv["attempt"].tolist() == list(range(1, retries + 2))


def test_success_goes_to_the_on_success_destination_once() -> None:
    sim = _sim(error_rate=0.0)
    ok, bad = Queue("ok"), Queue("bad")
    configure_async(sim, "f", on_success=ok, on_failure=bad)
    _one_event(sim)
    r = sim.run(until_s=100)
    assert r.invocations["attempt"].tolist() == [1]
    assert [x["requestContext"]["condition"] for x in r.output("ok").records] == ["Success"]
    assert "functionError" not in r.output("ok").records[0]["responseContext"]
    assert len(r.output("bad")) == 0
    assert r.output("ok").frame()["condition"].tolist() == ["Success"]


def test_throttled_event_backs_off_from_one_second_and_expires_at_its_maximum_age() -> None:
    sim = _sim(error_rate=0.0, reserved_concurrency=0)
    dlq = DeadLetterQueue("dlq")
    configure_async(sim, "f", max_event_age_s=60, dead_letter_queue=dlq)
    _one_event(sim, at=0.0)
    r = sim.run(until_s=500)
    inv = r.invocations
    throttled = inv[inv["status"] == "throttled"]
    # waits 1, 2, 4, 8, 16 s; the next (32 s, at 63 s) would be past the 60 s maximum age
    assert throttled["arrival_s"].tolist() == [0.0, 1.0, 3.0, 7.0, 15.0, 31.0]
    assert (throttled["attempt"] == 1).all()  # throttles are not retries
    dropped = inv[inv["status"] == "dropped"]
    assert len(dropped) == 1
    assert dropped["end_s"].iloc[0] == 60.0
    assert dropped["event_age_ms"].iloc[0] == 60_000.0
    rec = r.output("dlq").records[0]
    assert rec["requestContext"]["condition"] == "EventAgeExceeded"
    assert rec["requestContext"]["approximateInvokeCount"] == 0
    assert "responseContext" not in rec
    assert r.summary()["dropped_fraction"] == pytest.approx(1 / 7)


def test_throttle_backoff_is_capped_at_five_minutes() -> None:
    sim = _sim(error_rate=0.0, reserved_concurrency=0)
    _one_event(sim, at=0.0)
    r = sim.run(until_s=22_000)
    inv = r.invocations
    t = inv.loc[inv["status"] == "throttled", "arrival_s"].to_numpy()
    gaps = np.diff(t)
    assert gaps[:8].tolist() == [1, 2, 4, 8, 16, 32, 64, 128]
    assert gaps[8] == 256 and set(gaps[9:].tolist()) == {300.0}
    # the default maximum age: 6 hours
    assert inv.loc[inv["status"] == "dropped", "end_s"].tolist() == [21_600.0]


def test_an_event_too_old_for_its_next_retry_is_dropped_at_its_maximum_age() -> None:
    sim = _sim()
    dlq = DeadLetterQueue("dlq")
    configure_async(sim, "f", max_event_age_s=100, on_failure=dlq)
    _one_event(sim, at=0.0)
    r = sim.run(until_s=1000)
    inv = r.invocations
    assert inv["status"].tolist() == ["error", "error", "dropped"]
    assert inv["end_s"].iloc[-1] == 100.0
    assert inv["attempt"].iloc[-1] == 3
    rec = r.output("dlq").records[0]
    assert rec["requestContext"]["condition"] == "EventAgeExceeded"
    assert rec["requestContext"]["approximateInvokeCount"] == 2


def test_async_arrival_processes_go_through_the_queue() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f", duration_s=0.1)
    sim.add_source(Poisson(rate_per_s=2.0, invocation_type="async"), target="f")
    r = sim.run(until_s=60)
    inv = r.invocations
    assert 60 < len(inv) < 200
    assert (inv["invocation_type"] == "async").all()
    assert (inv["event_age_ms"] == 0.0).all()
    assert r.output("async").counts["succeeded"] == len(inv)


@pytest.mark.parametrize("process", [
    FixedInterval(2.0, invocation_type="async"),
    Bursty(on_rate_per_s=2.0, on_s=10.0, off_s=10.0, invocation_type="async"),
    Diurnal(mean_rate_per_s=1.0, period_s=60.0, invocation_type="async"),
    Replay([1.0, 2.0, 3.5], invocation_type="async"),
])
def test_every_arrival_process_can_invoke_asynchronously(process: object) -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f", duration_s=0.1)
    sim.add_source(process, target="f")
    r = sim.run(until_s=60)
    assert len(r.invocations) > 0
    assert (r.invocations["invocation_type"] == "async").all()
    assert r.output("async").counts["submitted"] == len(r.invocations)


def test_lambda_destination_invokes_another_function_with_the_record() -> None:
    seen: list[dict] = []

    def audit(event: dict, context: object) -> None:
        seen.append(event)

    sim = _sim()
    sim.add_function("audit", duration_s=0.05, handler=audit)
    configure_async(sim, "f", max_retries=0, on_failure=LambdaDestination("audit"))
    _one_event(sim)
    r = sim.run(until_s=100)
    assert len(seen) == 1
    assert seen[0]["requestContext"]["condition"] == "RetriesExhausted"
    assert seen[0]["requestPayload"] == {"order": 7}
    inv = r.invocations
    assert inv.loc[inv["function"] == "audit", "source"].tolist() == ["destination"]
    assert len(r.output("lambda:audit")) == 1


def test_events_waiting_when_the_run_ends_stay_pending() -> None:
    sim = _sim()
    _one_event(sim, at=0.0)
    r = sim.run(until_s=30)  # the first retry would be at about 60.7 s
    assert len(r.invocations) == 1
    assert [p["attempts"] for p in r.output("async").pending] == [1]


def test_every_async_event_ends_in_exactly_one_outcome() -> None:
    # f fails every time (2 retries, 1 and 2 minutes apart); g succeeds; h is throttled until
    # its events are too old. Events sent late in the run are still waiting at its end.
    sim = simlab.Simulation(seed=3)
    sim.add_function("f", duration_s=0.5, error_rate=1.0)
    sim.add_function("g", duration_s=0.5)
    sim.add_function("h", duration_s=0.5, reserved_concurrency=0)
    configure_async(sim, "h", max_event_age_s=60)
    calls = [(float(t), fn, {"t": t}, "Event") for t in range(0, 400, 40) for fn in "fgh"]
    sim.add_source(SDK(calls=calls), target=["f", "g", "h"])
    r = sim.run(until_s=400)
    table = r.outcomes()
    assert set(table["source"]) == {"async"} and set(table["unit"]) == {"event"}
    got = table.pivot(index="function", columns="outcome", values="count")
    # f: an event sent at t fails for good at t + 180.x s if that is before the end.
    f_failed = sum(t + 181 < 400 for t in range(0, 400, 40))
    assert got.loc["f"].to_dict() == {"succeeded": 0, "failed": f_failed, "expired": 0,
                                      "pending": 10 - f_failed}
    assert got.loc["g"].to_dict() == {"succeeded": 10, "failed": 0, "expired": 0, "pending": 0}
    h_expired = sum(t + 60 < 400 for t in range(0, 400, 40))
    assert got.loc["h"].to_dict() == {"succeeded": 0, "failed": 0, "expired": h_expired,
                                      "pending": 10 - h_expired}
    assert table["count"].sum() == r.output("async").counts["submitted"] == 30


def test_handler_exception_is_a_function_error_and_is_retried() -> None:
    calls: list[int] = []

    def flaky(event: dict, context: object) -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("database busy")
        return "done"

    sim = simlab.Simulation(seed=2)
    sim.add_function("f", duration_s=0.1, handler=flaky)
    ok = Queue("ok")
    configure_async(sim, "f", on_success=ok)
    sim.add_source(Replay([5.0], invocation_type="async"), target="f")
    r = sim.run(until_s=400)
    inv = r.invocations
    assert inv["status"].tolist() == ["error", "error", "ok"]
    assert inv["error"].tolist()[:2] == ["RuntimeError: database busy"] * 2
    rec = r.output("ok").records[0]
    assert rec["responsePayload"] == "done"
    assert rec["requestContext"]["approximateInvokeCount"] == 3


def test_same_seed_same_queue_history() -> None:
    def run() -> list:
        sim = _sim(error_rate=0.5)
        sim.add_source(Poisson(rate_per_s=0.2, invocation_type="async"), target="f")
        return sim.run(until_s=600).invocations[["arrival_s", "status", "attempt"]].values.tolist()

    assert run() == run()


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"max_retries": 3}, "max_retries.*0 to 2.*3"),
    ({"max_retries": -1}, "max_retries"),
    ({"max_retries": 1.0}, "max_retries"),
    ({"max_event_age_s": 59}, "max_event_age_s.*60 to 21,600.*59"),
    ({"max_event_age_s": 21_601}, "max_event_age_s"),
    ({"max_event_age_s": 90.5}, "max_event_age_s"),
    ({"on_success": DeadLetterQueue("d")}, "on_success cannot be a DeadLetterQueue"),
    ({"on_failure": "my-queue"}, "on_failure must be a destination"),
    ({"dead_letter_queue": Queue("q")}, "dead_letter_queue must be"),
])
def test_bad_async_configuration_is_rejected(kwargs: dict, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        AsyncConfig(**kwargs)


def test_configure_async_checks_the_functions() -> None:
    sim = _sim()
    with pytest.raises(ValueError, match="'g' is not a function"):
        configure_async(sim, "g")
    with pytest.raises(ValueError, match="destination function 'nope'"):
        configure_async(sim, "f", on_failure=LambdaDestination("nope"))
    with pytest.raises(ValueError, match="queue name"):
        Queue("bad name!")


def test_destination_objects_are_configuration_and_point_to_the_results() -> None:
    dlq = DeadLetterQueue("dlq")
    with pytest.raises(RuntimeError, match=r"result\.output\('dlq'\)"):
        dlq.records  # noqa: B018
