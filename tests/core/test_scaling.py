"""Tests of the scaling-rate rules: token buckets, per function (today) or account-wide (before
Nov 2023), with exact counts of the cold starts they allow."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import simlab
from simlab.aws.sources import Replay
from simlab.core.config import ERAS
from simlab.core.scaling import AccountBurstScaling, PerFunctionScaling, TokenBucket

# --------------------------------------------------------------------------------------------------
# the token bucket
# --------------------------------------------------------------------------------------------------


def test_bucket_starts_full_and_empties() -> None:
    b = TokenBucket(capacity=3, rate_per_s=1.0)
    assert [b.take(0.0) for _ in range(4)] == [True, True, True, False]


def test_bucket_refills_continuously_at_its_rate() -> None:
    b = TokenBucket(capacity=1000, rate_per_s=100.0)
    assert sum(b.take(0.0) for _ in range(1500)) == 1000
    assert sum(b.take(1.0) for _ in range(150)) == 100
    assert sum(b.take(1.5) for _ in range(150)) == 50
    assert not b.take(1.5)
    assert b.take(1.51)  # one more token after 10 ms


def test_bucket_does_not_accumulate_beyond_its_capacity() -> None:
    b = TokenBucket(capacity=5, rate_per_s=1.0)
    assert sum(b.take(0.0) for _ in range(5)) == 5
    assert sum(b.take(1000.0) for _ in range(10)) == 5


def test_failed_takes_do_not_consume_tokens() -> None:
    b = TokenBucket(capacity=1, rate_per_s=1.0)
    assert b.take(0.0)
    assert not b.take(0.4) and not b.take(0.8)
    assert b.take(1.0)


def test_per_function_rule_gives_independent_buckets() -> None:
    buckets = PerFunctionScaling(step=1000, period_s=10.0).buckets(["a", "b"])
    assert buckets["a"] is not buckets["b"]
    assert buckets["a"].capacity == 1000 and buckets["a"].rate_per_s == 100.0


def test_account_rule_shares_one_bucket() -> None:
    buckets = AccountBurstScaling(burst=3000, per_minute=500).buckets(["a", "b", "c"])
    assert buckets["a"] is buckets["b"] is buckets["c"]
    assert buckets["a"].capacity == 3000
    assert buckets["a"].rate_per_s == pytest.approx(500 / 60)


_WHOLE = "must be a whole number of environments >= 1"


@pytest.mark.parametrize(("make", "match"), [
    (lambda: PerFunctionScaling(step=0), rf"^scaling step {_WHOLE}, got 0$"),
    (lambda: PerFunctionScaling(step=1.5), rf"^scaling step {_WHOLE}, got 1.5$"),
    (lambda: PerFunctionScaling(step=math.inf), rf"^scaling step {_WHOLE}, got inf$"),
    (lambda: PerFunctionScaling(period_s=0),
     r"^scaling period_s must be a finite number of seconds > 0, got 0$"),
    (lambda: PerFunctionScaling(period_s=-1.0),
     r"^scaling period_s must be a finite number of seconds > 0, got -1.0$"),
    (lambda: AccountBurstScaling(burst=0), rf"^scaling burst {_WHOLE}, got 0$"),
    (lambda: AccountBurstScaling(burst=2999.5), rf"^scaling burst {_WHOLE}, got 2999.5$"),
    (lambda: AccountBurstScaling(per_minute=0.5),
     r"^scaling per_minute must be a finite number of environments a minute >= 1, got 0.5$"),
    (lambda: AccountBurstScaling(burst=math.nan), rf"^scaling burst {_WHOLE}, got nan$"),
])
def test_bad_scaling_parameters(make, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()


def test_era_scaling_rules() -> None:
    assert ERAS["today"].scaling == PerFunctionScaling(step=1000, period_s=10.0)
    assert ERAS["2018"].scaling == AccountBurstScaling(burst=3000, per_minute=500)
    assert ERAS["2020"].scaling == AccountBurstScaling(burst=3000, per_minute=500)


# --------------------------------------------------------------------------------------------------
# in a simulation
# --------------------------------------------------------------------------------------------------


def simulate(bursts: dict[str, list[tuple[float, int]]], era: str = "today", duration: float = 100,
             until_s: float = 60.0, **rules: Any) -> simlab.Result:
    """Functions receiving ``count`` simultaneous requests at each ``time``; requests last long
    enough that every one needs a new environment."""
    rules = {"account_concurrency": 100_000, "unreserved_minimum": 0, **rules}
    sim = simlab.Simulation(era=era, seed=1, **rules)
    for name, burst in bursts.items():
        sim.add_function(name, memory_mb=128, init_s=0.0, duration_s=duration, timeout_s=300)
        times = np.concatenate([np.full(n, t) for t, n in burst])
        sim.add_source(Replay(times), target=name, name=f"to-{name}")
    return sim.run(until_s=until_s)


def counts(result: simlab.Result, function: str, at: float) -> tuple[int, int]:
    inv = result.invocations
    rows = inv[(inv["function"] == function) & (inv["arrival_s"] == at)]
    ran = int((rows["status"] == "ok").sum())
    throttled = int((rows["status"] == "throttled").sum())
    assert ran + throttled == len(rows)
    return ran, throttled


def test_today_one_thousand_at_once_then_one_hundred_a_second() -> None:
    r = simulate({"f": [(0.0, 1500), (1.0, 150), (1.5, 80), (11.5, 1200)]})
    assert counts(r, "f", 0.0) == (1000, 500)
    assert counts(r, "f", 1.0) == (100, 50)
    assert counts(r, "f", 1.5) == (50, 30)
    assert counts(r, "f", 11.5) == (1000, 200)  # 10 s later the bucket is full again, not more
    inv = r.invocations
    assert inv.loc[inv["status"] == "ok", "cold"].all()


def test_today_each_function_scales_independently() -> None:
    r = simulate({"a": [(0.0, 1200)], "b": [(0.0, 1200)]})
    assert counts(r, "a", 0.0) == (1000, 200)
    assert counts(r, "b", 0.0) == (1000, 200)


def test_before_2023_the_burst_is_shared_by_the_account() -> None:
    rule = AccountBurstScaling(burst=20, per_minute=60)  # one environment a second after it
    r = simulate({"a": [(0.0, 15), (5.0, 10)], "b": [(0.0, 15), (5.5, 10)]}, era="2018",
                 scaling=rule, host_memory_mb=3008)
    a0, b0 = counts(r, "a", 0.0), counts(r, "b", 0.0)
    # the two sources interleave at time 0; together they get exactly the burst
    assert a0[0] + b0[0] == 20 and a0[1] + b0[1] == 10
    assert counts(r, "a", 5.0) == (5, 5)
    assert counts(r, "b", 5.5) == (0, 10)  # a took everything; half a token since
    total_ok = int((r.invocations["status"] == "ok").sum())
    assert total_ok == 25


def test_default_2018_burst_is_three_thousand_then_500_a_minute() -> None:
    r = simulate({"f": [(0.0, 3200), (60.0, 600)]}, era="2018", until_s=100,
                 host_memory_mb=1_000_000)
    assert counts(r, "f", 0.0) == (3000, 200)
    assert counts(r, "f", 60.0) == (500, 100)


def test_warm_starts_take_no_token() -> None:
    rule = AccountBurstScaling(burst=5, per_minute=1)
    r = simulate({"f": [(0.0, 5), (2.0, 5), (4.0, 6)]}, era="2020", scaling=rule, duration=1.0)
    assert counts(r, "f", 0.0) == (5, 0)
    assert counts(r, "f", 2.0) == (5, 0)  # all five environments are idle again: warm
    assert counts(r, "f", 4.0) == (5, 1)  # the sixth needs a new one: no token left
    inv = r.invocations
    assert not inv.loc[(inv["arrival_s"] > 0) & (inv["status"] == "ok"), "cold"].any()


def test_scaling_throttles_are_throttled_rows() -> None:
    r = simulate({"f": [(0.0, 3)]}, scaling=PerFunctionScaling(step=2, period_s=10.0))
    inv = r.invocations
    assert inv["status"].tolist() == ["ok", "ok", "throttled"]
    row = inv.iloc[2]
    assert (row["env_id"], row["host_id"], row["latency_ms"]) == (-1, -1, 0.0)
    assert r.summary()["throttle_fraction"] == pytest.approx(1 / 3)


@pytest.mark.parametrize(("make", "match"), [
    (lambda: PerFunctionScaling(period_s="10"), r"scaling period_s must be a finite number of "
                                                r"seconds > 0, got '10'"),
    (lambda: PerFunctionScaling(step=True), rf"scaling step {_WHOLE}, got True"),
])
def test_non_numbers_are_rejected_with_the_parameter_name(make, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()
