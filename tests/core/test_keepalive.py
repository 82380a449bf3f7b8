"""Tests of keep-alive: the policies, reclaiming idle environments, MRU reuse, maximum lifetime."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import simlab
from simlab.aws.sources import FixedInterval, Replay
from simlab.core.keepalive import FixedKeepAlive, KeepAlivePolicy, NoKeepAlive, as_keep_alive


def run(times: list[float], until_s: float = 100.0, era: str = "today",
        function: dict[str, Any] | None = None, **rules: Any) -> simlab.Result:
    """One function (INIT 0.5 s, duration 1 s) fed with requests at ``times``."""
    sim = simlab.Simulation(era=era, seed=1, **rules)
    cfg = {"init_s": 0.5, "duration_s": 1.0, **(function or {})}
    sim.add_function("f", **cfg)
    sim.add_source(Replay(times), target="f")
    return sim.run(until_s=until_s)


# --------------------------------------------------------------------------------------------------
# the policy objects
# --------------------------------------------------------------------------------------------------


def test_fixed_keep_alive() -> None:
    p = FixedKeepAlive(30)
    assert p.idle_timeout_s("f", 0.0) == 30.0 and p.idle_timeout_s("g", 1e6) == 30.0
    assert FixedKeepAlive(math.inf).idle_timeout_s("f", 0) == math.inf
    assert isinstance(p, KeepAlivePolicy)


@pytest.mark.parametrize("ttl", [-1, math.nan, "10"])
def test_fixed_keep_alive_rejects_bad_ttl(ttl: object) -> None:
    with pytest.raises(ValueError, match=r"keep_alive_s must be a number >= 0 \(seconds\), got"):
        FixedKeepAlive(ttl)  # type: ignore[arg-type]


def test_no_keep_alive() -> None:
    assert NoKeepAlive().idle_timeout_s("f", 5.0) == 0.0
    assert isinstance(NoKeepAlive(), KeepAlivePolicy)


def test_as_keep_alive() -> None:
    assert as_keep_alive(10) == FixedKeepAlive(10.0)
    assert as_keep_alive(2.5) == FixedKeepAlive(2.5)
    assert isinstance(as_keep_alive(None), NoKeepAlive)
    policy = NoKeepAlive()
    assert as_keep_alive(policy) is policy
    with pytest.raises(TypeError, match="keep_alive_s must be seconds or a keep-alive policy, "
                                        "got False"):
        as_keep_alive(False)
    with pytest.raises(TypeError, match=r"an object with idle_timeout_s\(function, now_s\), "
                                        r"got \[10\]"):
        as_keep_alive([10])


# --------------------------------------------------------------------------------------------------
# reclaiming
# --------------------------------------------------------------------------------------------------


def test_idle_environment_is_reclaimed_exactly_ttl_after_its_last_request() -> None:
    r = run([0.0], keep_alive_s=10)
    env = r.environments.iloc[0]
    assert (env["created_s"], env["ready_s"]) == (0.0, 0.5)
    assert env["ended_s"] == pytest.approx(1.5 + 10)
    assert env["end_reason"] == "idle_timeout"
    assert env["invocations"] == 1 and env["busy_s"] == pytest.approx(1.0)


def test_deadline_moves_with_every_request() -> None:
    r = run([0.0, 8.0, 16.0, 24.0], keep_alive_s=10)
    inv = r.invocations
    assert inv["cold"].tolist() == [True, False, False, False]
    assert inv["env_id"].nunique() == 1
    env = r.environments.iloc[0]
    assert env["ended_s"] == pytest.approx(25.0 + 10)
    assert env["invocations"] == 4


@pytest.mark.parametrize(("second", "cold"), [(11.4, False), (11.6, True)])
def test_request_just_before_or_after_the_deadline(second: float, cold: bool) -> None:
    # first request ends at 1.5, so the environment lives until 11.5
    inv = run([0.0, second], keep_alive_s=10).invocations
    assert inv["cold"].tolist() == [True, cold]
    assert (inv["env_id"].nunique() == 2) == cold


@pytest.mark.parametrize(("interval", "cold_after_first"), [(5.0, False), (20.0, True)])
def test_fixed_interval_against_ttl(interval: float, cold_after_first: bool) -> None:
    sim = simlab.Simulation(seed=1, keep_alive_s=10)
    sim.add_function("f", init_s=0.5, duration_s=1.0)
    sim.add_source(FixedInterval(interval_s=interval), target="f")
    inv = sim.run(until_s=400).invocations
    assert inv["cold"].iloc[0]
    assert (inv["cold"].iloc[1:] == cold_after_first).all()
    assert len(inv) == 400 / interval


@pytest.mark.parametrize("keep_alive", [None, 0, NoKeepAlive()])
def test_without_keep_alive_every_request_is_cold(keep_alive: object) -> None:
    r = run([0.0, 5.0, 10.0, 10.5], keep_alive_s=keep_alive)
    inv = r.invocations
    assert inv["cold"].all()
    assert inv["env_id"].nunique() == 4
    envs = r.environments.set_index("env_id")
    # each environment is reclaimed the moment its request ends
    for _, row in inv.iterrows():
        assert envs.loc[row["env_id"], "ended_s"] == row["end_s"]
        assert envs.loc[row["env_id"], "end_reason"] == "idle_timeout"


def test_environments_alive_at_the_end_are_recorded_as_alive() -> None:
    r = run([0.0, 50.0], until_s=60, keep_alive_s=600)
    env = r.environments.iloc[0]
    assert env["end_reason"] == "alive" and env["ended_s"] == 60.0
    assert env["invocations"] == 2


@pytest.mark.parametrize(("era", "warm_gap", "cold_gap"), [
    ("2018", 1500.0, 1600.0),  # 26 min
    ("2020", 550.0, 650.0),    # 10 min
    ("today", 300.0, 400.0),   # 6 min
])
def test_each_era_keeps_environments_as_measured(era: str, warm_gap: float,
                                                 cold_gap: float) -> None:
    # the first request ends at 1.5; the next comes gap seconds later
    warm = run([0.0, 1.5 + warm_gap], until_s=5000, era=era).invocations
    cold = run([0.0, 1.5 + cold_gap], until_s=5000, era=era).invocations
    assert warm["cold"].tolist() == [True, False]
    assert cold["cold"].tolist() == [True, True]


# --------------------------------------------------------------------------------------------------
# most recently used reuse
# --------------------------------------------------------------------------------------------------


def test_most_recently_used_idle_environment_serves_the_next_request() -> None:
    # 0 and 0.5 overlap: two environments; env 1 becomes idle last (1.5) and so serves all the
    # following requests, while env 0 ages out 5 s after its only request ended.
    times = [0.0, 0.5] + [float(t) for t in range(2, 21)]
    r = run(times, until_s=30, keep_alive_s=5, function={"init_s": 0.0})
    inv = r.invocations
    assert inv["env_id"].tolist()[:2] == [0, 1]
    assert (inv["env_id"].iloc[2:] == 1).all()
    assert not inv["cold"].iloc[2:].any()
    envs = r.environments.set_index("env_id")
    assert envs.loc[0, "ended_s"] == pytest.approx(1.0 + 5.0)
    assert envs.loc[0, "end_reason"] == "idle_timeout"
    assert envs.loc[0, "invocations"] == 1
    assert envs.loc[1, "invocations"] == len(times) - 1


class Sequence:
    """A distribution that hands out ``values`` in order, cyclically (for scripted scenarios)."""

    def __init__(self, values: list[float]) -> None:
        self.values = np.asarray(values, dtype=float)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.resize(self.values, size)


def test_mru_order_follows_the_last_release_not_the_creation() -> None:
    # env 0 (request at 0, 3 s long) is released at 3, after env 1 (request at 0.5, 1 s long,
    # released at 1.5): env 0 is the most recently used and serves the request at 4
    r = run([0.0, 0.5, 4.0, 5.0], keep_alive_s=60,
            function={"init_s": 0.0, "timeout_s": 10,
                      "duration_s": Sequence([3.0, 1.0, 1.0, 1.0])})
    assert r.invocations["env_id"].tolist() == [0, 1, 0, 0]
    assert r.invocations["duration_ms"].tolist() == [3000.0, 1000.0, 1000.0, 1000.0]


# --------------------------------------------------------------------------------------------------
# adaptive policies
# --------------------------------------------------------------------------------------------------


class Recorder:
    """A per-function policy that records what the engine tells it."""

    def __init__(self, ttl: dict[str, float]) -> None:
        self.ttl = ttl
        self.seen: list[tuple[str, float]] = []
        self.asked: list[tuple[str, float]] = []

    def observe(self, function: str, arrival_s: float) -> None:
        self.seen.append((function, arrival_s))

    def idle_timeout_s(self, function: str, now_s: float) -> float:
        self.asked.append((function, now_s))
        return self.ttl[function]


def test_adaptive_policy_observes_every_request_and_decides_per_function() -> None:
    policy = Recorder({"hot": 100.0, "cold": 0.0})
    sim = simlab.Simulation(seed=1, keep_alive=policy)
    sim.add_function("hot", init_s=0.5, duration_s=1.0)
    sim.add_function("cold", init_s=0.5, duration_s=1.0)
    sim.add_source(Replay([0.0, 10.0, 20.0]), target=["hot", "cold"])
    inv = sim.run(until_s=50).invocations
    assert policy.seen == [("hot", 0.0), ("cold", 0.0), ("hot", 10.0), ("cold", 10.0),
                           ("hot", 20.0), ("cold", 20.0)]
    # asked when each request ends: hot is cold once (INIT 0.5 s) then warm; cold always cold
    assert sorted(policy.asked) == [("cold", 1.5), ("cold", 11.5), ("cold", 21.5),
                                    ("hot", 1.5), ("hot", 11.0), ("hot", 21.0)]
    assert inv[inv["function"] == "hot"]["cold"].tolist() == [True, False, False]
    assert inv[inv["function"] == "cold"]["cold"].tolist() == [True, True, True]


class Shrinking:
    """Keep the first idle period long, later ones short."""

    def __init__(self, ttls: list[float]) -> None:
        self.ttls = list(ttls)

    def idle_timeout_s(self, function: str, now_s: float) -> float:
        return self.ttls.pop(0)


def test_a_shorter_timeout_later_takes_effect() -> None:
    # released at 1.5 with ttl 100 (deadline 101.5), used at 2, released at 3 with ttl 5
    r = run([0.0, 2.0], until_s=200, keep_alive=Shrinking([100.0, 5.0]))
    env = r.environments.iloc[0]
    assert env["ended_s"] == pytest.approx(8.0) and env["end_reason"] == "idle_timeout"


def test_a_longer_timeout_later_takes_effect() -> None:
    r = run([0.0, 2.0], until_s=200, keep_alive=Shrinking([5.0, 100.0]))
    env = r.environments.iloc[0]
    assert env["ended_s"] == pytest.approx(103.0)


def test_infinite_keep_alive_and_lifetime_keep_environments_to_the_end() -> None:
    r = run([0.0, 1000.0], until_s=5000, keep_alive_s=math.inf, max_lifetime_s=math.inf)
    assert r.invocations["cold"].tolist() == [True, False]
    env = r.environments.iloc[0]
    assert env["end_reason"] == "alive" and env["ended_s"] == 5000.0


# --------------------------------------------------------------------------------------------------
# maximum lifetime
# --------------------------------------------------------------------------------------------------


def test_idle_environment_is_recycled_at_its_maximum_lifetime() -> None:
    # requests every 10 s keep it warm, but it was created at 0 and may live 95 s
    times = [float(t) for t in range(0, 200, 10)]
    r = run(times, until_s=200, keep_alive_s=600, max_lifetime_s=95,
            function={"init_s": 0.0})
    envs = r.environments
    first = envs.iloc[0]
    assert first["ended_s"] == pytest.approx(95.0)
    assert first["end_reason"] == "max_lifetime"
    assert first["invocations"] == 10
    inv = r.invocations
    assert inv["cold"].tolist() == [True] + [False] * 9 + [True] + [False] * 9
    assert envs.iloc[1]["created_s"] == 100.0


def test_busy_environment_is_recycled_when_it_next_becomes_idle() -> None:
    # requests at 0, 10, 20... each 8 s long: busy 88-98 when its lifetime (95 s) ends
    times = [float(t) for t in range(0, 200, 10)]
    r = run(times, until_s=200, keep_alive_s=600, max_lifetime_s=95,
            function={"init_s": 0.0, "duration_s": 8.0, "timeout_s": 10})
    first = r.environments.iloc[0]
    assert first["ended_s"] == pytest.approx(98.0)
    assert first["end_reason"] == "max_lifetime"
    inv = r.invocations
    assert inv.loc[inv["arrival_s"] == 90.0, "status"].item() == "ok"
    assert inv.loc[inv["arrival_s"] == 100.0, "cold"].item()


def test_lifetime_caps_a_long_keep_alive() -> None:
    r = run([0.0], until_s=200, keep_alive_s=600, max_lifetime_s=50)
    env = r.environments.iloc[0]
    assert env["ended_s"] == pytest.approx(50.0) and env["end_reason"] == "max_lifetime"


# --------------------------------------------------------------------------------------------------
# what a policy returns is checked
# --------------------------------------------------------------------------------------------------


class Returns:
    """A policy whose first answer is ``value`` (then 60 s)."""

    def __init__(self, value: object) -> None:
        self.values = [value]

    def idle_timeout_s(self, function: str, now_s: float) -> Any:
        return self.values.pop(0) if self.values else 60.0


@pytest.mark.parametrize("value", [math.nan, np.float64("nan"), -1.0, -1, "600", None,
                                   True, [5.0]])
def test_a_policy_returning_anything_but_a_number_ge_0_is_an_error(value: object) -> None:
    # np.mean([]) in an adaptive policy is NaN: it must stop the run, not schedule a NaN timer
    sim = simlab.Simulation(seed=1, keep_alive=Returns(value))
    sim.add_function("resize", init_s=0.5, duration_s=1.0)
    sim.add_source(Replay([0.0, 10.0]), target="resize")
    with pytest.raises(ValueError) as err:
        sim.run(until_s=50)
    msg = str(err.value)
    assert "keep-alive policy Returns" in msg
    assert "idle_timeout_s('resize', now_s) returned " + repr(value) in msg
    assert "number of seconds >= 0" in msg


@pytest.mark.parametrize("value", [0, 30, np.float64(30.0), np.int64(30), math.inf])
def test_a_policy_may_return_any_real_number_ge_0(value: object) -> None:
    r = run([0.0, 10.0], until_s=50, keep_alive=Returns(value))
    # math.inf is allowed as documented: kept until the maximum lifetime
    assert r.invocations["cold"].tolist() == [True, float(value) == 0.0]
