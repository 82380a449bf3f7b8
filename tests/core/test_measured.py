"""The measured rules: a keep-alive growing with demand, and a pre-initialised replacement at the
maximum lifetime."""

from __future__ import annotations

import pytest

import simlab
from simlab.aws.sources import Replay
from simlab.core.keepalive import DemandKeepAlive
from simlab.core.measured import MEASURED_2020, MEASURED_TODAY


def test_demand_keep_alive_grows_with_recent_requests_up_to_its_cap() -> None:
    p = DemandKeepAlive(base_s=600.0, per_request_s=20.0, window_s=600.0, max_s=1260.0).fresh()
    assert p.idle_timeout_s("f", 0.0) == 600.0
    for t in range(10):
        p.observe("f", float(t))
    assert p.idle_timeout_s("f", 10.0) == 600.0 + 20.0 * 10
    assert p.idle_timeout_s("g", 10.0) == 600.0  # per function
    for t in range(100):
        p.observe("f", 20.0 + t)
    assert p.idle_timeout_s("f", 120.0) == 1260.0
    assert p.idle_timeout_s("f", 2000.0) == 600.0  # the window forgot them


def test_each_run_gets_a_fresh_copy_so_runs_repeat() -> None:
    def run() -> simlab.Result:
        sim = simlab.Simulation(era="2020", seed=1, **MEASURED_2020)
        sim.add_function("f", duration_s=1.0, init_s=0.3)
        sim.add_source(simlab.sources.Poisson(0.02), target="f")
        return sim.run(until_s=20_000)

    a, b = run(), run()
    assert a.invocations.equals(b.invocations)
    assert not MEASURED_2020["keep_alive"]._recent  # the preset itself was never used


def test_a_busy_functions_spare_environment_is_kept_longer() -> None:
    # 40 requests in 400 s, the last two overlapping (a spare), then two overlapping requests
    # 15 min later: a fixed 10-minute keep-alive lost both environments; the demand keep-alive
    # (600 + 20 x 41 s, at most 1,260 s) still has them.
    times = [10.0 * k for k in range(40)] + [390.0, 390.0 + 900.0, 390.0 + 900.0]

    def envs(**rules: object) -> int:
        sim = simlab.Simulation(era="2020", seed=1, **rules)
        sim.add_function("f", duration_s=1.0, init_s=0.2)
        sim.add_source(Replay(times), target="f")
        return len(sim.run(until_s=2000).environments)

    assert envs(keep_alive_s=600.0) == 4
    assert envs(keep_alive=DemandKeepAlive(600.0, 20.0, 600.0, 1260.0)) == 2


@pytest.mark.parametrize("prewarm", [False, True])
def test_recycling_at_the_lifetime_with_a_pre_initialised_replacement(prewarm: bool) -> None:
    sim = simlab.Simulation(era="2020", seed=1, keep_alive_s=600.0, max_lifetime_s=100.0,
                            recycle_prewarm=prewarm)
    sim.add_function("f", duration_s=1.0, init_s=0.5)
    sim.add_source(Replay([0.0, 60.0, 120.0, 180.0]), target="f")
    r = sim.run(until_s=400)
    inv, envs = r.invocations, r.environments
    # the first environment, idle since 61.5 s, is recycled at its 100 s lifetime
    assert envs["end_reason"].iloc[0] == "max_lifetime" and envs["ended_s"].iloc[0] == 100.0
    assert inv["env_id"].tolist() == [0, 0, 1, 1]  # then a new environment serves
    # ... initialised ahead (at 100 s) with the rule, on demand (at 120 s) without it
    assert bool(inv["cold"].iloc[2]) is (not prewarm)
    assert envs["created_s"].iloc[1] == (100.0 if prewarm else 120.0)


def test_a_request_arriving_while_the_replacement_initialises_waits_for_the_rest() -> None:
    sim = simlab.Simulation(era="2020", seed=1, keep_alive_s=600.0, max_lifetime_s=10.0,
                            recycle_prewarm=True)
    sim.add_function("f", duration_s=1.0, init_s=2.0)
    sim.add_source(Replay([0.0, 11.0, 13.0]), target="f")
    inv = sim.run(until_s=100).invocations
    # recycled idle at its 10 s lifetime; the replacement, started then, is ready at 12 s: the
    # request at 11 s waits 1 s for the rest of its INIT; the one at 13 s finds it warm
    assert inv["env_id"].tolist() == [0, 1, 1]
    assert inv["cold"].tolist() == [True, True, False]
    assert inv["init_ms"].tolist() == pytest.approx([2000.0, 1000.0, 0.0])


def test_the_measured_overrides_are_valid_rules() -> None:
    for overrides, era in ((MEASURED_2020, "2020"), (MEASURED_TODAY, "today")):
        rules = simlab.core.config.era_rules(era, **overrides)
        assert rules.recycle_prewarm and isinstance(rules.keep_alive, DemandKeepAlive)
    with pytest.raises(TypeError, match="recycle_prewarm must be True or False"):
        simlab.core.config.era_rules("2020", recycle_prewarm=1)
    with pytest.raises(ValueError, match="max_s"):
        DemandKeepAlive(base_s=600.0, max_s=300.0)
