"""Real handlers: outputs, exceptions, captured logs and the context object."""

from __future__ import annotations

import json
import logging
import math
import re

import pytest

import simlab
from simlab.aws.sources import SDK
from simlab.core.ids import request_id


def _run(handler: object, calls: list, until_s: float = 60.0, seed: int = 4,
         **fn: object) -> simlab.Result:
    sim = simlab.Simulation(seed=seed)
    cfg = {"duration_s": 0.25, "init_s": 0.1, "memory_mb": 256, "timeout_s": 3} | fn
    sim.add_function("f", handler=handler, **cfg)
    sim.add_source(SDK(calls=calls), target="f")
    return sim.run(until_s=until_s)


def test_return_value_is_recorded_as_output() -> None:
    def double(event: dict, context: object) -> dict:
        return {"twice": event["n"] * 2}

    r = _run(double, [(1.0, "f", {"n": 4}), (2.0, "f", {"n": 5})])
    assert r.invocations["output"].tolist() == [{"twice": 8}, {"twice": 10}]
    assert r.invocations["status"].tolist() == ["ok", "ok"]
    assert r.output("sdk").responses["payload"].tolist() == [{"twice": 8}, {"twice": 10}]


def test_exception_makes_an_error_with_its_message_and_a_log_line() -> None:
    def picky(event: dict, context: object) -> str:
        if event["n"] < 0:
            raise ValueError(f"negative: {event['n']}")
        return "fine"

    r = _run(picky, [(1.0, "f", {"n": -1}), (2.0, "f", {"n": 1})])
    inv = r.invocations
    assert inv["status"].tolist() == ["error", "ok"]
    assert inv["error"].iloc[0] == "ValueError: negative: -1"
    assert inv["log_lines"].iloc[0] == ["[ERROR] ValueError: negative: -1"]
    assert inv["output"].tolist()[1] == "fine"
    resp = r.output("sdk").responses
    assert resp["function_error"].iloc[0] == "Unhandled"
    assert resp["function_error"].isna().iloc[1]
    assert resp["status_code"].tolist() == [200, 200]  # sync invoke: 200 even on error
    assert resp["payload"].iloc[0]["errorType"] == "ValueError"


def test_prints_and_logging_are_captured_in_order_as_log_lines() -> None:
    log = logging.getLogger("orders")

    def chatty(event: dict, context: object) -> None:
        print("hello")
        log.warning("stock low for %s", event["item"])
        print("bye\nagain")

    r = _run(chatty, [(1.0, "f", {"item": "tea"})])
    lines = r.invocations["log_lines"].iloc[0]
    rid = request_id(4, 0)
    assert lines[0] == "hello"
    assert lines[1].split("\t") == ["[WARNING]", "2026-11-27T00:00:01.100Z", rid,
                                    "stock low for tea"]
    assert lines[2:] == ["bye", "again"]


def test_logging_below_the_loggers_level_is_not_captured() -> None:
    def quiet(event: dict, context: object) -> None:
        logging.getLogger("quiet.child").debug("invisible")

    r = _run(quiet, [(1.0, "f", {})])
    assert "log_lines" not in r.invocations.columns


def test_context_has_the_runtime_fields() -> None:
    seen: list = []

    def look(event: dict, context: object) -> None:
        seen.append(context)

    _run(look, [(1.0, "f", None)], duration_s=0.25, timeout_s=3, memory_mb=256)
    ctx = seen[0]
    assert ctx.aws_request_id == request_id(4, 0)
    assert ctx.function_name == "f"
    assert ctx.function_version == "$LATEST"
    assert ctx.memory_limit_in_mb == "256"
    assert ctx.invoked_function_arn == "arn:aws:lambda:us-east-1:123456789012:function:f"
    assert ctx.log_group_name == "/aws/lambda/f"
    assert ctx.log_stream_name.startswith("2026/11/27/[$LATEST]")
    assert len(ctx.log_stream_name.split("]")[1]) == 32
    assert ctx.get_remaining_time_in_millis() == 2750  # 3 s timeout - 0.25 s run


def test_timeout_keeps_its_status_and_has_no_output() -> None:
    def slow(event: dict, context: object) -> str:
        assert context.get_remaining_time_in_millis() == 0
        return "never seen"

    r = _run(slow, [(1.0, "f", {})], duration_s=5.0, timeout_s=3)
    inv = r.invocations
    assert inv["status"].tolist() == ["timeout"]
    assert "output" not in inv.columns
    payload = r.output("sdk").responses["payload"].iloc[0]
    assert "Task timed out after 3.00 seconds" in payload["errorMessage"]


def test_handler_gets_a_fresh_copy_of_the_event() -> None:
    events: list = []

    def mutate(event: dict, context: object) -> None:
        events.append(json.dumps(event))
        event["seen"] = True
        raise RuntimeError("again")

    sim = simlab.Simulation(seed=1)
    sim.add_function("f", duration_s=0.1, handler=mutate)
    sim.add_source(SDK(calls=[(0.0, "f", {"a": 1}, "Event")]), target="f")
    sim.run(until_s=400)
    assert events == ['{"a": 1}'] * 3


def test_a_return_value_that_is_not_json_is_a_marshal_error() -> None:
    r = _run(lambda e, c: {1, 2}, [(1.0, "f", {})])
    assert r.invocations["status"].tolist() == ["error"]
    assert r.invocations["error"].iloc[0].startswith("Runtime.MarshalError: Unable to marshal")


@pytest.mark.parametrize(("result", "where"), [
    (math.nan, "response is nan"), ({"a": [1.0, math.inf]}, r"response\['a'\]\[1\] is inf"),
    ([{"b": -math.inf}], r"response\[0\]\['b'\] is -inf")])
def test_a_return_value_with_nan_or_inf_is_a_marshal_error(result, where) -> None:
    r = _run(lambda e, c: result, [(1.0, "f", {})])
    assert r.invocations["status"].tolist() == ["error"]
    assert re.fullmatch(r"Runtime.MarshalError: Unable to marshal response: Out of range float "
                        rf"values are not JSON compliant.* \({where}\)",
                        r.invocations["error"].iloc[0])


def test_handler_runs_at_the_start_after_init() -> None:
    times: list = []

    def when(event: dict, context: object) -> None:
        times.append(context.lambda_client.run.now)

    r = _run(when, [(1.0, "f", {})], init_s=0.4)
    assert times == [pytest.approx(1.4)]
    assert r.invocations["start_s"].iloc[0] == pytest.approx(1.4)


def test_error_rate_still_applies_on_top_of_the_code() -> None:
    r = _run(lambda e, c: "ok", [(float(t), "f", {}) for t in range(1, 6)], error_rate=1.0)
    assert (r.invocations["status"] == "error").all()
    assert "output" not in r.invocations.columns


# --------------------------------------------------------------------------------------------------
# a handler that exits the runtime
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "reason", "printed"), [
    (1, "Runtime exited with error: exit status 1", []),
    (3, "Runtime exited with error: exit status 3", []),
    (None, "Runtime exited without providing a reason", []),
    (0, "Runtime exited without providing a reason", []),
    ("bad input", "Runtime exited with error: exit status 1", ["bad input"]),
])
def test_sys_exit_is_a_runtime_exit_error_and_resets_the_environment(
        code: object, reason: str, printed: list[str]) -> None:
    import sys

    def quitter(event: dict, context: object) -> str:
        if event["n"] == 2:
            sys.exit(code)
        return "fine"

    calls = [(1.0, "f", {"n": 1}), (2.0, "f", {"n": 2}), (3.0, "f", {"n": 3})]
    r = _run(quitter, calls)  # must not raise SystemExit out of run()
    inv = r.invocations
    rid = request_id(4, int(inv["invocation_id"].iloc[1]))
    text = f"Runtime.ExitError: RequestId: {rid} Error: {reason}"
    assert inv["status"].tolist() == ["ok", "error", "ok"]
    assert inv["error"].iloc[1] == text
    assert inv["log_lines"].iloc[1] == [*printed, f"[ERROR] {text}"]
    payload = r.output("sdk").responses["payload"].iloc[1]
    assert payload == {"errorType": "Runtime.ExitError",
                       "errorMessage": f"RequestId: {rid} Error: {reason}"}
    # the environment is reset: it ends with the request; the next request starts cold
    assert inv["cold"].tolist() == [True, False, True]
    assert inv["env_id"].iloc[0] == inv["env_id"].iloc[1] != inv["env_id"].iloc[2]
    envs = r.environments.set_index("env_id")
    first = envs.loc[inv["env_id"].iloc[1]]
    assert first["end_reason"] == "runtime_exit"
    assert first["ended_s"] == pytest.approx(inv["end_s"].iloc[1])


def test_sys_exit_in_a_called_function_fails_that_call_only() -> None:
    import sys

    def leaf(event: dict, context: object) -> None:
        sys.exit(2)

    def caller(event: dict, context: object) -> dict:
        resp = context.lambda_client.invoke(FunctionName="leaf", Payload=b"{}")
        return {"leaf_error": resp.get("FunctionError")}

    sim = simlab.Simulation(seed=4)
    sim.add_function("f", handler=caller, duration_s=0.25, init_s=0.1)
    sim.add_function("leaf", handler=leaf, duration_s=0.1, init_s=0.1)
    sim.add_source(SDK(calls=[(1.0, "f", {})]), target="f")
    inv = sim.run(until_s=20).invocations.set_index("function")
    assert inv.loc["f", "status"] == "ok"
    assert inv.loc["f", "output"] == {"leaf_error": "Unhandled"}
    assert inv.loc["leaf", "status"] == "error"
    assert inv.loc["leaf", "error"].endswith("Error: Runtime exited with error: exit status 2")


# --------------------------------------------------------------------------------------------------
# the real-time budget of a handler call
# --------------------------------------------------------------------------------------------------


def _hang_sim(handler: object, **extra: object) -> simlab.Simulation:
    sim = simlab.Simulation(seed=4)
    sim.add_function("stuck", handler=handler, duration_s=0.25, init_s=0.1)
    for name, h in extra.items():
        sim.add_function(name, handler=h, duration_s=0.1, init_s=0.1)
    sim.add_source(SDK(calls=[(1.0, "stuck", {}), (2.0, "stuck", {})]), target="stuck")
    return sim


def _sleeps(event: dict, context: object) -> None:
    import time

    time.sleep(3600)


def _loops(event: dict, context: object) -> None:
    while True:
        pass


BUDGET_MESSAGE = (r"^the handler of function '{name}' \(invocation \d+\) ran for more than "
                  r"handler_budget_s=0.3 s of real time; a handler's code takes no simulated "
                  r"time, .* or allow more with sim.run\(\.\.\., handler_budget_s=\.\.\.\)$")


@pytest.mark.parametrize("handler", [_sleeps, _loops], ids=["sleep", "loop"])
def test_a_handler_that_hangs_stops_the_run_with_an_error_naming_the_function(
        handler: object) -> None:
    import signal
    import time

    from simlab.aws.sources.handlers import HandlerBudgetError

    before = signal.getsignal(signal.SIGALRM)
    t0 = time.perf_counter()
    with pytest.raises(HandlerBudgetError, match=BUDGET_MESSAGE.format(name="stuck")):
        _hang_sim(handler).run(until_s=10, handler_budget_s=0.3)
    assert time.perf_counter() - t0 < 10
    assert signal.getsignal(signal.SIGALRM) == before  # the run leaves no alarm handler behind
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_handler_catching_exception_cannot_swallow_the_budget() -> None:
    from simlab.aws.sources.handlers import HandlerBudgetError

    def stubborn(event: dict, context: object) -> None:
        while True:
            try:
                _loops(event, context)
            except Exception:  # noqa: BLE001, S112 - what a student might write
                continue

    with pytest.raises(HandlerBudgetError, match=BUDGET_MESSAGE.format(name="stuck")):
        _hang_sim(stubborn).run(until_s=10, handler_budget_s=0.3)


def test_the_budget_names_the_called_function_that_hangs() -> None:
    from simlab.aws.sources.handlers import HandlerBudgetError

    def caller(event: dict, context: object) -> None:
        context.lambda_client.invoke(FunctionName="leaf", Payload=b"{}")

    with pytest.raises(HandlerBudgetError, match=BUDGET_MESSAGE.format(name="leaf")):
        _hang_sim(caller, leaf=_loops).run(until_s=10, handler_budget_s=0.3)


def test_the_budget_also_holds_outside_the_main_thread() -> None:
    import threading

    from simlab.aws.sources.handlers import HandlerBudgetError

    caught: list[BaseException] = []

    def work() -> None:
        try:
            _hang_sim(_loops).run(until_s=10, handler_budget_s=0.3)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            caught.append(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert len(caught) == 1 and isinstance(caught[0], HandlerBudgetError)
    assert "the handler of function 'stuck'" in str(caught[0])


def test_fast_handlers_run_within_the_default_budget() -> None:
    from simlab.aws.sources.handlers import DEFAULT_HANDLER_BUDGET_S

    assert DEFAULT_HANDLER_BUDGET_S == 10.0
    r = _run(lambda event, context: "fine", [(1.0, "f", {}), (2.0, "f", {})])
    assert r.invocations["output"].tolist() == ["fine", "fine"]
    r = _run(lambda event, context: "fine", [(1.0, "f", {})])
    assert r.invocations["status"].tolist() == ["ok"]
