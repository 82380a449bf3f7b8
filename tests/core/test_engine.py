"""Tests of the engine's core: the life of a request (admission, warm or cold, run, outcome),
provisioned and reserved concurrency, throttling, timeouts, out-of-memory kills, CPU share, and
the drain at the end of a run."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.stats
import simpy

import simlab
from simlab.aws.sources import Replay, Source
from simlab.core.config import FunctionConfig, era_rules, vcpu_share
from simlab.core.engine import Engine
from simlab.core.invocation import (
    DROPPED,
    ERROR,
    OK,
    OOM,
    SYNC,
    THROTTLED,
    TIMEOUT,
    Call,
)
from simlab.core.random_streams import RandomStreams
from simlab.core.schema import STATUSES


class Sequence:
    """A distribution that hands out ``values`` in order, cyclically (for scripted scenarios)."""

    def __init__(self, values: list[float]) -> None:
        self.values = np.asarray(values, dtype=float)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.resize(self.values, size)


def run(times: list[float], until_s: float = 100.0, *, era: str = "today",
        rules: dict[str, Any] | None = None, **function: Any) -> simlab.Result:
    """One function ``f`` (INIT 0.5 s, 1 s long unless told) fed with requests at ``times``."""
    sim = simlab.Simulation(era=era, seed=1, **(rules or {}))
    cfg = {"init_s": 0.5, **function}
    if "cpu_s" not in cfg and "io_s" not in cfg:
        cfg.setdefault("duration_s", 1.0)
    sim.add_function("f", **cfg)
    sim.add_source(Replay(times), target="f")
    return sim.run(until_s=until_s)


def test_status_codes_match_the_schema() -> None:
    assert [STATUSES[c] for c in (OK, ERROR, TIMEOUT, OOM, THROTTLED, DROPPED)] == [
        "ok", "error", "timeout", "oom", "throttled", "dropped"]


# --------------------------------------------------------------------------------------------------
# warm and cold
# --------------------------------------------------------------------------------------------------


def test_cold_request_waits_for_init_and_warm_request_does_not() -> None:
    inv = run([1.0, 5.0]).invocations
    cold, warm = inv.iloc[0], inv.iloc[1]
    assert cold["cold"] and cold["init_ms"] == 500.0
    assert (cold["arrival_s"], cold["start_s"], cold["end_s"]) == (1.0, 1.5, 2.5)
    assert cold["latency_ms"] == 1500.0 and cold["duration_ms"] == 1000.0
    assert not warm["cold"] and warm["init_ms"] == 0.0
    assert (warm["arrival_s"], warm["start_s"], warm["end_s"]) == (5.0, 5.0, 6.0)
    assert warm["latency_ms"] == 1000.0
    assert warm["env_id"] == cold["env_id"]


def test_a_request_arriving_during_an_init_gets_its_own_environment() -> None:
    inv = run([0.0, 0.2]).invocations
    assert inv["cold"].tolist() == [True, True]
    assert inv["env_id"].tolist() == [0, 1]


def test_environment_row_describes_its_life() -> None:
    r = run([0.0, 3.0], rules={"keep_alive_s": 10})
    env = r.environments.iloc[0]
    assert (env["created_s"], env["ready_s"], env["init_s"]) == (0.0, 0.5, 0.5)
    assert env["invocations"] == 2 and env["busy_s"] == pytest.approx(2.0)
    assert env["memory_mb"] == 128 and not env["provisioned"]
    assert env["function"] == "f" and env["host_id"] == 0


# --------------------------------------------------------------------------------------------------
# CPU share
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("memory", "parallelism", "expected"), [
    (128, 1, 1769 / 128),          # a small function is slow: 13.8 s for 1 CPU-second
    (1769, 1, 1.0),                # one full vCPU
    (3538, 1, 1.0),                # single-threaded code gains nothing above 1 vCPU
    (3538, 2, 0.5),                # two threads use two vCPUs
    (3538, 4, 0.5),                # but no more than the share
    (10240, 8, 1769 / 10240),      # up to 5.79 vCPUs at 10,240 MB
])
def test_cpu_time_scales_with_the_memory_share(memory: int, parallelism: int,
                                               expected: float) -> None:
    inv = run([0.0], memory_mb=memory, parallelism=parallelism, cpu_s=1.0,
              timeout_s=60).invocations
    assert inv["duration_ms"].item() == pytest.approx(expected * 1000)
    assert inv["duration_ms"].item() == pytest.approx(
        1000 / min(vcpu_share(memory), parallelism))


def test_io_time_does_not_depend_on_memory() -> None:
    small = run([0.0], memory_mb=128, cpu_s=0.1, io_s=0.5, timeout_s=60).invocations
    large = run([0.0], memory_mb=1769, cpu_s=0.1, io_s=0.5, timeout_s=60).invocations
    assert small["duration_ms"].item() == pytest.approx(1000 * (0.1 * 1769 / 128 + 0.5))
    assert large["duration_ms"].item() == pytest.approx(1000 * (0.1 + 0.5))


def test_duration_shorthand_does_not_depend_on_memory() -> None:
    for memory in (128, 1769, 10240):
        assert run([0.0], memory_mb=memory, duration_s=0.7).invocations[
            "duration_ms"].item() == pytest.approx(700.0)


def test_cpu_bound_function_times_out_at_low_memory() -> None:
    assert run([0.0], memory_mb=128, cpu_s=1.0, timeout_s=3).invocations[
        "status"].item() == "timeout"
    assert run([0.0], memory_mb=1024, cpu_s=1.0, timeout_s=3).invocations[
        "status"].item() == "ok"


# --------------------------------------------------------------------------------------------------
# timeouts, out of memory, errors
# --------------------------------------------------------------------------------------------------


def test_timeout_kills_at_exactly_the_timeout_and_resets_the_environment() -> None:
    r = run([0.0, 10.0, 20.0], duration_s=Sequence([5.0, 1.0, 1.0]), timeout_s=3)
    inv = r.invocations
    assert inv["status"].tolist() == ["timeout", "ok", "ok"]
    killed = inv.iloc[0]
    assert killed["duration_ms"] == 3000.0
    assert killed["end_s"] - killed["start_s"] == 3.0
    assert killed["end_s"] == 3.5
    assert inv["cold"].tolist() == [True, True, False]  # next request re-initialises
    assert inv["env_id"].tolist() == [0, 1, 1]
    envs = r.environments.set_index("env_id")
    assert envs.loc[0, "end_reason"] == "timeout" and envs.loc[0, "ended_s"] == 3.5
    assert envs.loc[0, "busy_s"] == pytest.approx(3.0)


def test_a_run_of_exactly_the_timeout_is_a_timeout() -> None:
    assert run([0.0], duration_s=3.0, timeout_s=3).invocations["status"].item() == "timeout"
    assert run([0.0], duration_s=2.999, timeout_s=3).invocations["status"].item() == "ok"


def test_out_of_memory_kills_the_runtime_and_resets_the_environment() -> None:
    r = run([0.0, 10.0, 20.0], memory_mb=128, memory_used_mb=Sequence([200.0, 60.0, 60.0]))
    inv = r.invocations
    assert inv["status"].tolist() == ["oom", "ok", "ok"]
    assert inv["max_memory_used_mb"].tolist() == [128.0, 60.0, 60.0]  # capped at memory_mb
    assert inv["cold"].tolist() == [True, True, False]
    envs = r.environments.set_index("env_id")
    assert envs.loc[0, "end_reason"] == "oom" and envs.loc[0, "ended_s"] == 1.5


def test_memory_equal_to_the_limit_is_not_out_of_memory() -> None:
    assert run([0.0], memory_mb=128, memory_used_mb=128).invocations["status"].item() == "ok"


def test_timeout_takes_precedence_over_out_of_memory() -> None:
    inv = run([0.0], duration_s=5.0, timeout_s=3, memory_used_mb=500).invocations
    assert inv["status"].item() == "timeout"


def test_handler_errors_keep_the_environment() -> None:
    r = run([0.0, 10.0, 20.0], error_rate=1.0)
    inv = r.invocations
    assert inv["status"].tolist() == ["error"] * 3
    assert inv["cold"].tolist() == [True, False, False]
    assert inv["env_id"].nunique() == 1


def test_error_rate_is_the_fraction_of_errors() -> None:
    n = 4000
    inv = run(list(np.arange(n) * 2.0), until_s=2 * n, error_rate=0.3, duration_s=0.1,
              rules={"keep_alive_s": 600}).invocations
    p = (inv["status"] == "error").mean()
    assert abs(p - 0.3) < 4 * np.sqrt(0.3 * 0.7 / n)  # independent draws: n_eff = n


def test_a_distribution_drawing_negative_times_gets_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"f\.duration_s"):
        run([0.0, 1.0, 2.0], duration_s=scipy.stats.norm(-1.0, 0.1))


# --------------------------------------------------------------------------------------------------
# provisioned concurrency
# --------------------------------------------------------------------------------------------------


def test_provisioned_environments_are_used_first_and_spill_over_to_on_demand() -> None:
    r = run([0.0, 0.0, 0.0, 10.0, 10.5, 11.0], provisioned_concurrency=2,
            rules={"keep_alive_s": 60})
    inv = r.invocations
    # two provisioned environments serve warm; the third request spills over to on-demand
    assert inv["provisioned"].tolist()[:3] == [True, True, False]
    assert inv["cold"].tolist()[:3] == [False, False, True]
    assert inv["init_ms"].tolist()[:3] == [0.0, 0.0, 500.0]
    # later, provisioned environments are preferred although the on-demand one is idle and MRU
    assert inv["provisioned"].tolist()[3:] == [True, True, True]
    assert not inv["cold"].iloc[3:].any()


def test_provisioned_environments_are_initialised_ahead_and_never_reclaimed() -> None:
    r = run([0.0, 5000.0], until_s=9000, provisioned_concurrency=1,
            rules={"keep_alive_s": 10, "max_lifetime_s": 100})
    inv = r.invocations
    assert not inv["cold"].any() and inv["provisioned"].all()
    assert inv["env_id"].nunique() == 1
    env = r.environments.iloc[0]
    assert env["provisioned"] and env["end_reason"] == "alive" and env["ended_s"] == 9000
    assert env["ready_s"] == 0.0 and env["created_s"] == -0.5  # INIT done before the run


def test_a_killed_provisioned_environment_is_replaced() -> None:
    r = run([0.0, 1.0, 20.0], provisioned_concurrency=1, timeout_s=3,
            duration_s=Sequence([5.0, 1.0, 1.0]))
    inv = r.invocations
    assert inv["status"].tolist() == ["timeout", "ok", "ok"]
    # at 1.0 the provisioned environment is busy: on demand, cold
    assert inv["provisioned"].tolist() == [True, False, True]
    envs = r.environments.set_index("env_id")
    replacement = envs[envs["provisioned"] & (envs["end_reason"] == "alive")]
    assert len(replacement) == 1
    assert replacement["created_s"].item() == 3.0  # re-initialised when the old one was killed
    assert inv.iloc[2]["env_id"] == replacement.index.item()


# --------------------------------------------------------------------------------------------------
# concurrency limits and throttling
# --------------------------------------------------------------------------------------------------


def test_reserved_concurrency_caps_a_function() -> None:
    r = run([0.0] * 5 + [20.0] * 5, reserved_concurrency=2)
    inv = r.invocations
    assert inv["status"].tolist() == (["ok"] * 2 + ["throttled"] * 3) * 2
    assert r.summary()["max_concurrency"] == 2


def test_reserved_concurrency_zero_throttles_everything() -> None:
    inv = run([0.0, 1.0, 2.0], reserved_concurrency=0).invocations
    assert (inv["status"] == "throttled").all()


def test_reservations_are_taken_from_the_account_pool() -> None:
    sim = simlab.Simulation(seed=1, account_concurrency=10, unreserved_minimum=0)
    sim.add_function("reserved", reserved_concurrency=4, init_s=0.0, duration_s=5.0, timeout_s=10)
    sim.add_function("other", init_s=0.0, duration_s=5.0, timeout_s=10)
    sim.add_source(Replay([0.0] * 10), target="other")
    sim.add_source(Replay([1.0] * 4), target="reserved")
    r = sim.run(until_s=20)
    s_other, s_res = r.summary("other"), r.summary("reserved")
    assert (s_other["invocations"], s_other["requests"]) == (6, 10)
    assert (s_res["invocations"], s_res["throttle_fraction"]) == (4, 0.0)  # guaranteed
    assert r.summary()["max_concurrency"] == 10


def test_account_concurrency_throttles() -> None:
    r = run([0.0] * 15, rules={"account_concurrency": 10, "unreserved_minimum": 0})
    inv = r.invocations
    assert (inv["status"] == "ok").sum() == 10 and (inv["status"] == "throttled").sum() == 5
    assert r.summary()["max_concurrency"] == 10


def test_concurrency_includes_environments_in_init() -> None:
    # two requests 0.2 s apart, INIT 0.5 s: both count while the first initialises
    r = run([0.0, 0.2], reserved_concurrency=1)
    assert r.invocations["status"].tolist() == ["ok", "throttled"]


def test_throttled_rows() -> None:
    inv = run([0.0, 0.0], reserved_concurrency=1).invocations
    row = inv.iloc[1]
    assert row["status"] == "throttled"
    assert (row["arrival_s"], row["start_s"], row["end_s"]) == (0.0, 0.0, 0.0)
    assert (row["env_id"], row["host_id"]) == (-1, -1)
    assert (row["init_ms"], row["duration_ms"], row["latency_ms"]) == (0.0, 0.0, 0.0)
    assert not row["cold"] and not row["provisioned"]


def test_the_100_unreserved_rule_is_enforced_before_the_run() -> None:
    started = []

    class Spy(Source):
        kind = "spy"

        def start(self, run: Any, targets: list[str]) -> None:
            started.append(run.now)

    sim = simlab.Simulation(seed=1)
    sim.add_function("a", reserved_concurrency=500)
    sim.add_function("b", reserved_concurrency=401)
    sim.add_source(Spy(), target="a")
    with pytest.raises(ValueError, match=r"\(901\) decreases the account's unreserved "
                                         r"concurrency below its minimum value of 100"):
        sim.run(until_s=10)
    assert started == []


def test_the_unreserved_rule_follows_the_account_limit() -> None:
    sim = simlab.Simulation(seed=1, account_concurrency=3000)
    sim.add_function("a", reserved_concurrency=2900, init_s=0.0)
    sim.add_source(Replay([0.0]), target="a")
    assert sim.run(until_s=10).invocations["status"].item() == "ok"


# --------------------------------------------------------------------------------------------------
# the end of the run
# --------------------------------------------------------------------------------------------------


def test_requests_in_flight_at_the_end_finish_and_get_a_row() -> None:
    r = run([5.0, 9.0], until_s=10.0, duration_s=4.0, timeout_s=10)
    inv = r.invocations
    assert len(inv) == 2 and (inv["status"] == "ok").all()
    assert inv["end_s"].tolist() == [9.5, 13.5]
    envs = r.environments
    # the environment still alive is recorded until its last request ended
    assert envs["end_reason"].tolist() == ["alive", "alive"]
    assert envs["ended_s"].tolist() == [10.0, 13.5]


def test_no_request_starts_at_or_after_the_end() -> None:
    inv = run([1.0, 9.999, 10.0, 11.0], until_s=10.0).invocations
    assert inv["arrival_s"].tolist() == [1.0, 9.999]


def test_a_timeout_during_the_drain_is_recorded() -> None:
    r = run([9.0], until_s=10.0, duration_s=5.0, timeout_s=3)
    assert r.invocations["status"].item() == "timeout"
    assert r.environments["end_reason"].item() == "timeout"
    assert r.environments["ended_s"].item() == 12.5


# --------------------------------------------------------------------------------------------------
# the engine's API for sources
# --------------------------------------------------------------------------------------------------


def make_engine(**cfg: Any) -> tuple[simpy.Environment, Engine]:
    kernel = simpy.Environment()
    rules = era_rules("today", account_concurrency=2, unreserved_minimum=0)
    fn = FunctionConfig("f", init_s=0.5, duration_s=1.0, **cfg)
    return kernel, Engine(kernel, rules, [fn], RandomStreams(0))


def test_invoke_returns_a_call_and_reports_its_end() -> None:
    kernel, engine = make_engine(error_rate=1.0)
    done: list[Call] = []
    fn = engine.function("f")
    call = engine.invoke(fn, source=engine.source_index("test"), on_done=done.append,
                         payload={"k": 1})
    assert isinstance(call, Call) and done == []
    assert (call.function, call.start, call.end, call.cold) == ("f", 0.5, 1.5, True)
    assert call.payload == {"k": 1}
    kernel.run()
    assert done == [call]
    assert call.status == ERROR and call.failed
    assert engine.in_flight == 0
    assert len(engine.recorder) == 1


def test_throttled_invoke_returns_none_and_records_at_once() -> None:
    kernel, engine = make_engine()
    fn = engine.function("f")
    done: list[Call] = []
    calls = [engine.invoke(fn, on_done=done.append) for _ in range(3)]
    assert calls[2] is None and len(engine.recorder) == 1
    kernel.run()
    assert len(done) == 2 and not any(c.failed for c in done)


def test_invoke_keeps_an_earlier_arrival_and_a_given_id() -> None:
    kernel, engine = make_engine()
    kernel.run(until=5.0)
    iid = engine.new_invocation_id()
    assert engine.new_invocation_id() == iid + 1
    call = engine.invoke(engine.function("f"), attempt=2, arrival=1.0, iid=iid)
    assert (call.arrival, call.iid, call.attempt) == (1.0, iid, 2)


def test_record_dropped() -> None:
    kernel, engine = make_engine()
    engine.record_dropped(engine.function("f"), engine.new_invocation_id(), 0, SYNC, 1, 0.0)
    assert list(engine.recorder.cols["status"]) == [DROPPED]


def test_handler_runner_is_called_for_functions_with_a_handler() -> None:
    seen: list[Call] = []
    kernel, engine = make_engine(handler=lambda event, context: "hi")
    engine.handler_runner = seen.append
    call = engine.invoke(engine.function("f"), payload="event")
    assert seen == [call]


def test_unknown_function_names_the_known_ones() -> None:
    _, engine = make_engine()
    with pytest.raises(KeyError, match=r"no function named 'g'; functions: \['f'\]"):
        engine.function("g")


def test_extra_columns_are_attached_to_invocations() -> None:
    class Tagger(Source):
        kind = "tagger"

        def start(self, run: Any, targets: list[str]) -> None:
            def go(_: Any) -> None:
                call = run.invoke("f")
                run.engine.recorder.extra("note", call.iid, f"hello {call.iid}")

            t = simpy.Timeout(run.kernel, 1.0)
            t.callbacks.append(go)

    sim = simlab.Simulation(seed=1)
    sim.add_function("f")
    sim.add_source(Replay([0.0]), target="f")
    sim.add_source(Tagger(), target="f")
    inv = sim.run(until_s=10).invocations
    assert inv["note"].isna().tolist() == [True, False]
    assert inv["note"].iloc[1] == "hello 1"
    assert inv["source"].astype(str).tolist() == ["replay", "sdk"]


def test_closing_is_set_once_the_run_is_over() -> None:
    seen: list[tuple[float, bool]] = []

    class Watcher(Source):
        kind = "watcher"

        def start(self, run: Any, targets: list[str]) -> None:
            def go(_: Any) -> None:
                seen.append((run.now, run.engine.closing))
                run.invoke("f", on_done=lambda call: seen.append((run.now,
                                                                  run.engine.closing)))

            t = simpy.Timeout(run.kernel, 9.0)
            t.callbacks.append(go)

    sim = simlab.Simulation(seed=1)
    sim.add_function("f", init_s=0.0, duration_s=5.0, timeout_s=10)
    sim.add_source(Watcher(), target="f")
    r = sim.run(until_s=10)
    assert seen == [(9.0, False), (14.0, True)]
    assert r.invocations["end_s"].item() == 14.0


def test_run_time_and_failure_overrides() -> None:
    kernel, engine = make_engine(timeout_s=3)
    fn = engine.function("f")
    a = engine.invoke(fn, run_s=2.5)
    b = engine.invoke(fn, run_s=0.25, fail=True)
    assert (a.dur, a.status, b.dur, b.status) == (2.5, OK, 0.25, ERROR)
    kernel.run()
    _, engine2 = make_engine(timeout_s=3)
    c = engine2.invoke(engine2.function("f"), run_s=9.0, fail=True)
    assert (c.dur, c.status) == (3.0, TIMEOUT)  # the timeout comes first


# --------------------------------------------------------------------------------------------------
# configuration changes during a run
# --------------------------------------------------------------------------------------------------


def test_update_reclaims_idle_environments_and_new_requests_get_the_new_version() -> None:
    sim = simlab.Simulation(seed=1, keep_alive_s=600)
    sim.add_function("f", memory_mb=128, init_s=0.5, duration_s=1.0)
    sim.add_source(Replay([0.0, 5.0, 20.0, 25.0]), target="f")
    sim.update_function_configuration(10.0, "f", memory_mb=512)
    r = sim.run(until_s=100)
    inv = r.invocations
    assert inv["cold"].tolist() == [True, False, True, False]
    assert inv["memory_mb"].tolist() == [128, 128, 512, 512]
    envs = r.environments.set_index("env_id")
    assert envs.loc[0, "end_reason"] == "updated" and envs.loc[0, "ended_s"] == 10.0
    assert envs.loc[1, "memory_mb"] == 512


def test_update_lets_a_busy_environment_finish_then_reclaims_it() -> None:
    sim = simlab.Simulation(seed=1, keep_alive_s=600)
    sim.add_function("f", init_s=0.0, duration_s=4.0, timeout_s=10)
    sim.add_source(Replay([0.0, 6.0]), target="f")
    sim.update_function_configuration(2.0, "f", timeout_s=20)
    r = sim.run(until_s=100)
    inv = r.invocations
    assert inv["status"].tolist() == ["ok", "ok"]
    assert inv["env_id"].tolist() == [0, 1] and inv["cold"].tolist() == [True, True]
    envs = r.environments.set_index("env_id")
    assert envs.loc[0, "end_reason"] == "updated" and envs.loc[0, "ended_s"] == 4.0


def test_update_replaces_provisioned_environments() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f", init_s=0.5, duration_s=1.0, provisioned_concurrency=2)
    sim.add_source(Replay([10.2, 12.0]), target="f")
    sim.update_function_configuration(10.0, "f", memory_mb=256)
    r = sim.run(until_s=50)
    envs = r.environments
    old, new = envs[envs["memory_mb"] == 128], envs[envs["memory_mb"] == 256]
    assert (old["end_reason"] == "updated").all() and (old["ended_s"] == 10.0).all()
    prov = new[new["provisioned"]]
    assert len(prov) == 2 and (prov["created_s"] == 10.0).all() and (prov["ready_s"] == 10.5).all()
    inv = r.invocations
    # at 10.2 the new provisioned environments are still initialising: on demand, cold
    assert inv["provisioned"].tolist() == [False, True]
    assert inv["cold"].tolist() == [True, False]


def test_putting_and_deleting_a_reservation_during_a_run() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f", init_s=0.0, duration_s=5.0, timeout_s=10)
    sim.add_source(Replay([0.0] * 3 + [20.0] * 3 + [40.0] * 3), target="f")
    sim.put_function_concurrency(10.0, "f", 1)
    sim.put_function_concurrency(30.0, "f", None)
    inv = sim.run(until_s=60).invocations
    assert inv["status"].tolist() == ["ok"] * 3 + ["ok", "throttled", "throttled"] + ["ok"] * 3


def test_removing_a_reservation_never_lets_concurrency_exceed_the_account_limit() -> None:
    sim = simlab.Simulation(seed=1, account_concurrency=10, unreserved_minimum=0)
    sim.add_function("f", reserved_concurrency=10, init_s=0.0, duration_s=10.0, timeout_s=20)
    sim.add_source(Replay([0.0] * 10 + [2.0] * 10), target="f")
    sim.put_function_concurrency(1.0, "f", None)
    r = sim.run(until_s=30)
    assert r.concurrency()["concurrency"].max() <= 10
    assert r.summary()["max_concurrency"] <= 10


def test_update_keeps_the_configured_number_of_provisioned_environments() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f", provisioned_concurrency=1, init_s=0.5, duration_s=5.0, timeout_s=3)
    sim.add_source(Replay([0.0]), target="f")
    sim.update_function_configuration(1.0, "f", memory_mb=256)
    envs = sim.run(until_s=20).environments
    alive = envs[envs["end_reason"] == "alive"]
    assert alive["provisioned"].sum() == 1


def test_provisioned_concurrency_is_set_aside_from_the_shared_pool() -> None:
    # A flood on "b" must not take the environments provisioned for "a" (AWS sets provisioned
    # concurrency aside from the account's unreserved concurrency).
    sim = simlab.Simulation(seed=1, account_concurrency=200)
    sim.add_function("a", provisioned_concurrency=5, duration_s=0.5)
    sim.add_function("b", duration_s=1.0)
    sim.add_source(simlab.sources.Poisson(1.0), target="a")
    sim.add_source(simlab.sources.Poisson(400.0), target="b")
    result = sim.run(until_s=120)
    assert result.summary("a")["throttle_fraction"] == 0.0
    assert result.summary("b")["throttle_fraction"] > 0.3
    assert result.summary("b")["max_concurrency"] <= 200 - 5
    assert result.max_concurrency <= 200


def test_rows_keep_the_architecture_they_ran_on() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f", duration_s=0.5)
    sim.add_source(simlab.sources.FixedInterval(1.0), target="f")
    sim.update_function_configuration(50, "f", architecture="arm64")
    inv = sim.run(until_s=100).invocations
    arch = inv["architecture"].astype(str).to_numpy()
    assert (arch[inv["arrival_s"].to_numpy() < 50] == "x86_64").all()
    assert (arch[inv["arrival_s"].to_numpy() >= 50] == "arm64").all()


def test_call_fail_turns_an_ok_call_into_an_error_with_its_payload() -> None:
    kernel, engine = make_engine()
    call = engine.invoke(engine.function("f"))
    assert call is not None and call.status == OK
    assert call.fail({"errorMessage": "poison"}) is True
    assert call.status == ERROR and call.output == {"errorMessage": "poison"}
    call.annotate("error", "poison")
    kernel.run()
    assert engine.annotation(call.iid, "error") == "poison"
    assert engine.annotation(call.iid, "missing", "none") == "none"


def test_call_fail_keeps_a_timeout() -> None:
    kernel, engine = make_engine(timeout_s=0.5)
    call = engine.invoke(engine.function("f"))
    assert call is not None and call.status == TIMEOUT
    assert call.fail({"errorMessage": "late"}) is False
    assert call.status == TIMEOUT and call.output is None


def test_engine_annotates_a_throttled_request_by_its_id() -> None:
    kernel, engine = make_engine()
    fn = engine.function("f")
    for _ in range(2):
        engine.invoke(fn)
    iid = engine.new_invocation_id()
    engine.annotate(iid, "http_status", 429)
    assert engine.invoke(fn, iid=iid) is None
    assert engine.annotation(iid, "http_status") == 429
