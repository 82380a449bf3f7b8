"""The INIT limit: 10 s on demand, then INIT again inside the first invocation under the function's
timeout; max(130 s, timeout) for provisioned environments."""

from __future__ import annotations

import pytest

import simlab
from simlab.aws.sources import Replay
from simlab.core.engine import INIT_LIMIT_S, PROVISIONED_INIT_LIMIT_S


def _run(era: str = "2020", times: tuple[float, ...] = (1.0, 100.0), until_s: float = 200.0,
         **fn: object) -> simlab.Result:
    sim = simlab.Simulation(era=era, seed=1)
    sim.add_function("f", **({"duration_s": 0.5} | fn))
    sim.add_source(Replay(list(times)), target="f")
    return sim.run(until_s=until_s)


def test_a_15_s_init_with_a_3_s_timeout_never_succeeds() -> None:
    r = _run(init_s=15.0, timeout_s=3)
    inv = r.invocations
    assert inv["status"].tolist() == ["timeout", "timeout"]
    assert inv["cold"].all() and inv["env_id"].nunique() == 2  # each attempt a new environment
    assert inv["init_ms"].tolist() == [INIT_LIMIT_S * 1000] * 2
    # INIT times out at 10 s, runs again inside the invocation and is killed at the timeout
    assert inv["start_s"].tolist() == [11.0, 110.0]
    assert inv["duration_ms"].tolist() == [3000.0, 3000.0]
    assert inv["init_timeout"].tolist() == [True, True]
    assert (r.environments["end_reason"] == "timeout").all()


def test_a_15_s_init_within_a_long_timeout_is_paid_once_then_warm() -> None:
    r = _run(init_s=15.0, timeout_s=30)
    inv = r.invocations
    assert inv["status"].tolist() == ["ok", "ok"]
    assert inv["duration_ms"].tolist() == [15_500.0, 500.0]  # the retried INIT is invoke time
    assert inv["end_s"].iloc[0] == pytest.approx(1.0 + 10.0 + 15.5)
    assert inv["cold"].tolist() == [True, False] and inv["env_id"].nunique() == 1


def test_an_init_under_the_limit_is_unchanged() -> None:
    inv = _run(init_s=9.5, timeout_s=3).invocations
    assert inv["status"].tolist() == ["ok", "ok"]
    assert inv["init_ms"].iloc[0] == 9500.0 and inv["duration_ms"].iloc[0] == 500.0
    assert "init_timeout" not in inv.columns


def test_the_log_has_an_init_report_with_status_timeout() -> None:
    r = _run(times=(1.0,), init_s=15.0, timeout_s=3)
    lines = r.logs("f").df["message"].tolist()
    assert lines[0] == "INIT_REPORT Init Duration: 10000.00 ms\tPhase: init\tStatus: timeout"
    assert lines[1].startswith("START RequestId: ")
    assert "Init Duration" not in lines[-1]  # the REPORT of the invocation
    assert lines[-1].startswith("REPORT RequestId: ") and "Duration: 3000.00 ms" in lines[-1]


@pytest.mark.parametrize(("era", "billed"), [("2020", 3000.0), ("today", 13_000.0)])
def test_billing_the_retried_init_is_invoke_time_the_timed_out_one_follows_the_era(
        era: str, billed: float) -> None:
    # 2020: the first 10 s INIT is free (ZIP, managed runtime), the retry inside the invocation
    # is billed; since Aug 2025 INIT is billed too.
    inv = _run(era=era, times=(1.0,), init_s=15.0, timeout_s=3).invocations
    assert inv["billed_ms"].tolist() == [billed]


def test_provisioned_init_has_its_own_limit() -> None:
    # 60 s INIT: over 10 s, but a provisioned environment may take max(130 s, timeout).
    r = _run(times=(1.0,), init_s=60.0, provisioned_concurrency=1, timeout_s=3)
    inv = r.invocations
    assert inv["status"].tolist() == ["ok"] and not inv["cold"].any()
    assert inv["provisioned"].all()


def test_a_provisioned_init_past_its_limit_fails_and_is_tried_again() -> None:
    r = _run(times=(), until_s=400.0, init_s=200.0, provisioned_concurrency=1, timeout_s=3)
    envs = r.environments
    failed = envs[envs["end_reason"] == "init_timeout"]
    # attempts start at 0, 130, 260 and 390 s, each failing 130 s later
    limit = PROVISIONED_INIT_LIMIT_S
    assert failed["created_s"].tolist() == [0.0, limit, 2 * limit]
    assert (failed["ended_s"] - failed["created_s"]).eq(limit).all()
    assert len(envs) == 4 and envs["end_reason"].iloc[-1] == "alive"
    longer = _run(times=(), until_s=400.0, init_s=200.0, provisioned_concurrency=1,
                  timeout_s=300).environments
    assert (longer["end_reason"] != "init_timeout").all()  # the limit is the timeout, 300 s
