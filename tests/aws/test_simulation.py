"""Tests of simlab.aws.simulation: building and running a simulation, eras, determinism, and the
validation of every public parameter before the run."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
import pytest

import simlab
from simlab.aws.simulation import DEFAULT_EPOCH, Run
from simlab.aws.sources.arrivals import FixedInterval, Poisson, Replay
from simlab.aws.sources.base import Source
from simlab.core.dists import Exponential, LogNormal
from simlab.core.invocation import Call


def small(seed: int = 1, **rules: Any) -> simlab.Simulation:
    sim = simlab.Simulation(seed=seed, **rules)
    sim.add_function("f", memory_mb=256, init_s=LogNormal(0.3, 0.4), duration_s=Exponential(0.5),
                     error_rate=0.05)
    sim.add_source(Poisson(rate_per_s=2.0), target="f")
    return sim


def frames(result: simlab.Result) -> list[pd.DataFrame]:
    return [result.invocations, result.environments, result.hosts, result.functions]


# --------------------------------------------------------------------------------------------------
# building
# --------------------------------------------------------------------------------------------------


def test_defaults() -> None:
    sim = simlab.Simulation()
    assert sim.rules.era == "today" and sim.seed == 0 and sim.epoch == DEFAULT_EPOCH
    assert repr(sim) == "Simulation(era='today', seed=0, functions=[], sources=[])"


def test_rules_are_overridden_by_keyword() -> None:
    sim = simlab.Simulation(era="2018", seed=1, keep_alive_s=600, account_concurrency=200,
                            billing_granularity_ms=1)
    assert sim.rules.keep_alive.ttl_s == 600 and sim.rules.account_concurrency == 200
    assert sim.rules.billing_granularity_ms == 1 and sim.rules.timeout_max_s == 300


def test_add_function_returns_the_simulation_and_rejects_duplicates() -> None:
    sim = simlab.Simulation()
    assert sim.add_function("resize", memory_mb=512, timeout_s=3, init_s=0.25,
                            duration_s=1.9) is sim
    cfg = sim.functions["resize"]
    assert cfg.name == "resize" and cfg.memory_mb == 512
    with pytest.raises(ValueError, match="a function named 'resize' exists already"):
        sim.add_function("resize")


def test_a_model_reads_as_one_expression() -> None:
    poisson, fixed = Poisson(2.0), simlab.sources.FixedInterval(interval_s=5)
    sim = (simlab.Simulation(seed=4)
           .add_function("f", memory_mb=256, duration_s=0.1)
           .add_function("g", memory_mb=1024, duration_s=0.3)
           .add_source(poisson, target="f")
           .add_source(fixed, target=["f", "g"], name="tick"))
    assert isinstance(sim, simlab.Simulation)
    assert [(c.name, c.memory_mb) for c in sim.functions.values()] == [("f", 256), ("g", 1024)]
    assert [(s, t) for s, t in sim.sources] == [(poisson, ["f"]), (fixed, ["f", "g"])]
    assert (poisson.name, fixed.name) == ("poisson", "tick")
    # the chained model runs exactly like the one built statement by statement
    step = simlab.Simulation(seed=4)
    step.add_function("f", memory_mb=256, duration_s=0.1)
    step.add_function("g", memory_mb=1024, duration_s=0.3)
    step.add_source(Poisson(2.0), target="f")
    step.add_source(simlab.sources.FixedInterval(interval_s=5), target=["f", "g"], name="tick")
    chained, stepwise = sim.run(until_s=120).invocations, step.run(until_s=120).invocations
    assert len(chained) > 200
    pd.testing.assert_frame_equal(chained, stepwise)


def test_add_source_checks_its_arguments() -> None:
    sim = simlab.Simulation()
    sim.add_function("f")
    with pytest.raises(TypeError, match=r"source must be a simlab source \(e.g. "
                                        r"simlab.sources.Poisson\), got 'poisson'"):
        sim.add_source("poisson", target="f")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"target 'g' is not a function of this simulation; add "
                                         r"it first with add_function \(functions: \['f'\]\)"):
        sim.add_source(Poisson(1.0), target="g")
    with pytest.raises(ValueError, match=r"target must be a function name or a non-empty list "
                                         r"of function names, got \[\]"):
        sim.add_source(Poisson(1.0), target=[])
    sim.add_source(Poisson(1.0), target="f", name="users")
    with pytest.raises(ValueError, match="a source named 'users' exists already"):
        sim.add_source(Poisson(1.0), target="f", name="users")


def test_a_target_listed_twice_is_refused_and_traffic_is_not_doubled() -> None:
    sim = simlab.Simulation()
    sim.add_function("f")
    sim.add_function("g")
    with pytest.raises(ValueError, match=r"target names function\(s\) \['f'\] more than once, "
                                         r"got \['f', 'g', 'f'\]; each target gets every "
                                         r"request, so list each function once"):
        sim.add_source(Poisson(1.0), target=["f", "g", "f"])
    assert sim.sources == []


def test_the_same_source_object_attached_twice_is_refused() -> None:
    sim = simlab.Simulation()
    sim.add_function("f")
    sim.add_function("g")
    source = Poisson(1.0)
    assert sim.add_source(source, target="f") is sim
    for target in ("f", "g"):
        with pytest.raises(ValueError, match=r"this source object is attached already \(as "
                                             r"'poisson'\); to send the same traffic to more "
                                             r"functions give them all in one target list"):
            sim.add_source(source, target=target, name="again")
    assert [(s.name, t) for s, t in sim.sources] == [("poisson", ["f"])]


def test_sources_validate_their_targets_before_the_run() -> None:
    class Picky(Source):
        kind = "picky"

        def start(self, run: Any, targets: list[str]) -> None:  # pragma: no cover
            raise AssertionError("never started")

        def validate(self, targets: list[str]) -> None:
            raise ValueError(f"picky cannot feed {targets}")

    sim = simlab.Simulation()
    sim.add_function("f")
    with pytest.raises(ValueError, match=r"picky cannot feed \['f'\]"):
        sim.add_source(Picky(), target="f")


# --------------------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------------------


def test_the_design_example_runs() -> None:
    sim = simlab.Simulation(era="2018", seed=1, keep_alive_s=600, account_concurrency=1000)
    sim.add_function("resize", memory_mb=512, timeout_s=3, init_s=0.25, duration_s=1.9)
    sim.add_source(Poisson(rate_per_s=0.9), target="resize")
    result = sim.run(until_s=3600)
    s = result.summary()
    assert abs(s["requests"] - 0.9 * 3600) < 4 * math.sqrt(0.9 * 3600)
    assert s["cold_start_fraction"] < 0.01 and s["throttle_fraction"] == 0
    assert (result.until_s, result.seed, result.rules.era) == (3600.0, 1, "2018")


def test_running_twice_gives_identical_results() -> None:
    sim = small()
    a, b = sim.run(until_s=500), sim.run(until_s=500)
    c = small().run(until_s=500)
    for x, y, z in zip(frames(a), frames(b), frames(c), strict=True):
        pd.testing.assert_frame_equal(x, y)
        pd.testing.assert_frame_equal(x, z)


def test_different_seeds_give_different_results() -> None:
    a = small(seed=1).run(until_s=500).invocations
    b = small(seed=2).run(until_s=500).invocations
    assert len(a) != len(b) or not a["arrival_s"].equals(b["arrival_s"])


def test_progress_bar_does_not_change_the_result() -> None:
    a = small().run(until_s=200)
    b = small().run(until_s=200, progress=True)
    pd.testing.assert_frame_equal(a.invocations, b.invocations)


def test_the_run_object_seen_by_sources() -> None:
    seen: dict[str, Any] = {}

    class Probe(Source):
        kind = "probe"

        def start(self, run: Run, targets: list[str]) -> None:
            seen["until"], seen["seed"], seen["epoch"] = run.until_s, run.seed, run.epoch
            seen["now"] = run.now
            seen["rng"] = run.rng("source", "probe").random()
            made = []
            svc1 = run.service("thing", lambda r: made.append(r) or object())
            svc2 = run.service("thing", lambda r: made.append(r) or object())
            seen["service_once"] = svc1 is svc2 and made == [run]
            call = run.invoke(targets[0], {"x": 1}, source="probe")
            seen["call"] = call
            with pytest.raises(ValueError, match="invocation_type must be 'sync' or 'async', "
                                                 "got 'stream'"):
                run.invoke(targets[0], invocation_type="stream")

    epoch = dt.datetime(2020, 3, 1, tzinfo=dt.UTC)
    sim = simlab.Simulation(seed=7, epoch=epoch)
    sim.add_function("f")
    sim.add_source(Probe(), target="f")
    r = sim.run(until_s=5)
    assert (seen["until"], seen["seed"], seen["epoch"], seen["now"]) == (5.0, 7, epoch, 0.0)
    expected = simlab.core.random_streams.RandomStreams(7).generator("source", "probe").random()
    assert seen["rng"] == expected
    assert seen["service_once"]
    assert isinstance(seen["call"], Call) and seen["call"].payload == {"x": 1}
    assert r.invocations["source"].astype(str).tolist() == ["probe"]
    assert r.output("thing") is not None and r.epoch == epoch


def test_every_arrival_before_the_end_has_exactly_one_row() -> None:
    times = [0.0, 0.0, 0.5, 1.0, 2.0, 9.9]
    sim = simlab.Simulation(seed=1, account_concurrency=2, unreserved_minimum=0)
    sim.add_function("f", init_s=0.2, duration_s=3.0, timeout_s=5)
    sim.add_source(Replay(times), target="f")
    inv = sim.run(until_s=10).invocations
    assert inv["arrival_s"].tolist() == times
    assert inv["invocation_id"].tolist() == list(range(len(times)))
    assert inv["status"].notna().all()


# --------------------------------------------------------------------------------------------------
# eras behave as documented
# --------------------------------------------------------------------------------------------------


def cold_after_first(era: str, interval_s: float) -> bool:
    # the maximum lifetime (2 h) would recycle the environment too: left out here
    sim = simlab.Simulation(era=era, seed=1, max_lifetime_s=math.inf)
    sim.add_function("f", init_s=0.2, duration_s=0.1)
    sim.add_source(FixedInterval(interval_s=interval_s), target="f")
    inv = sim.run(until_s=10 * interval_s).invocations
    assert inv["cold"].iloc[0]
    later = inv["cold"].iloc[1:]
    assert later.all() or not later.any()
    return bool(later.all())


@pytest.mark.parametrize(("interval", "expected"), [
    (300.0, {"2018": False, "2020": False, "today": False}),
    (480.0, {"2018": False, "2020": False, "today": True}),
    (900.0, {"2018": False, "2020": True, "today": True}),
    (1800.0, {"2018": True, "2020": True, "today": True}),
])
def test_eras_keep_environments_for_different_times(interval: float,
                                                    expected: dict[str, bool]) -> None:
    assert {era: cold_after_first(era, interval) for era in expected} == expected


def test_eras_allow_different_memory_and_timeouts() -> None:
    for era, memory, ok in (("2018", 200, False), ("2020", 200, False), ("today", 200, True),
                            ("2020", 4096, False), ("today", 4096, True)):
        sim = simlab.Simulation(era=era)
        if ok:
            sim.add_function("f", memory_mb=memory)
        else:
            with pytest.raises(ValueError, match="f.memory_mb"):
                sim.add_function("f", memory_mb=memory)
    with pytest.raises(ValueError, match="f.timeout_s must be whole seconds from 1 to 300 in the "
                                         "'2018' era, got 600"):
        simlab.Simulation(era="2018").add_function("f", timeout_s=600)
    simlab.Simulation(era="2020").add_function("f", timeout_s=600)


def test_eras_bill_and_scale_differently() -> None:
    rules = {e: simlab.Simulation(era=e).rules for e in ("2018", "2020", "today")}
    assert [rules[e].billing_granularity_ms for e in rules] == [100, 100, 1]
    assert isinstance(rules["2018"].scaling, simlab.AccountBurstScaling)
    assert isinstance(rules["today"].scaling, simlab.PerFunctionScaling)


# --------------------------------------------------------------------------------------------------
# bad input: every public parameter, a clear error naming it, its value and the allowed range,
# raised before the run
# --------------------------------------------------------------------------------------------------

BAD_SIMULATION = [
    ({"era": "2019"}, ValueError, r"era must be one of \['2018', '2020', 'today'\], got '2019'"),
    ({"seed": -1}, ValueError, r"seed must be a whole number >= 0, got -1"),
    ({"seed": 1.5}, ValueError, r"seed must be a whole number >= 0, got 1.5"),
    ({"epoch": dt.datetime(2026, 1, 1)}, ValueError,
     r"epoch must be a timezone-aware datetime, got datetime.datetime\(2026, 1, 1, 0, 0\)"),
    ({"epoch": "2026-11-27"}, ValueError, r"epoch must be a timezone-aware datetime, got "
                                          r"'2026-11-27'"),
    ({"keep_alive_s": -5}, ValueError, r"keep_alive_s must be a number >= 0 \(seconds\), got -5"),
    ({"keep_alive_s": "never"}, TypeError, r"keep_alive_s must be seconds \(a number >= 0\), "
                                           r"None, or an object with idle_timeout_s"),
    ({"account_concurrency": 0}, ValueError,
     r"account_concurrency must be a whole number from 1 to 10,000,000, got 0"),
    ({"unreserved_minimum": -1}, ValueError,
     r"unreserved_minimum must be a whole number from 0 to 1,000, got -1"),
    ({"max_lifetime_s": 0}, ValueError, r"max_lifetime_s must be a number of seconds > 0 "
                                        r"\(inf: never recycled\), got 0"),
    ({"memory_min_mb": 0}, ValueError, r"memory_min_mb must be a whole number from 1 to "
                                       r"1,000,000, got 0"),
    ({"memory_max_mb": 64}, ValueError, r"memory_max_mb must be a whole number from 128 to "
                                        r"1,000,000, got 64"),
    ({"memory_step_mb": 0}, ValueError, r"memory_step_mb must be a whole number from 1 to "
                                        r"10,240, got 0"),
    ({"timeout_max_s": 0}, ValueError, r"timeout_max_s must be a number from 1 to 86400, got 0"),
    ({"billing_granularity_ms": -1}, ValueError,
     r"billing_granularity_ms must be a number > 0 and <= 3.6e\+06, got -1"),
    ({"host_memory_mb": 100}, ValueError,
     r"host_memory_mb must be a whole number from 128 to 100,000,000 \(a host must hold at "
     r"least one environment of the smallest memory size\), got 100"),
    ({"host_provision_delay_s": math.inf}, ValueError,
     r"host_provision_delay_s must be a number from 0 to 86400, got inf"),
    ({"scaling": 1000}, TypeError, r"scaling must be PerFunctionScaling or AccountBurstScaling, "
                                   r"got 1000"),
    ({"date": 2018}, TypeError, r"date must be a datetime.date, got 2018"),
    ({"keepalive": 5}, TypeError, r"unknown platform rule\(s\) \['keepalive'\]; allowed: "),
]


@pytest.mark.parametrize(("kw", "exc", "match"), BAD_SIMULATION)
def test_bad_simulation_parameters(kw: dict, exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        simlab.Simulation(**kw)


BAD_FUNCTION = [
    ({"memory_mb": 100}, ValueError,
     r"f.memory_mb must be 128 to 10,240 MB in 1 MB steps in the 'today' era, got 100"),
    ({"memory_mb": 20_000}, ValueError, r"f.memory_mb must be 128 to 10,240 MB .* got 20000"),
    ({"timeout_s": 0}, ValueError, r"f.timeout_s must be whole seconds from 1 to 900 in the "
                                   r"'today' era, got 0"),
    ({"timeout_s": 901}, ValueError, r"f.timeout_s must be whole seconds from 1 to 900 .* "
                                     r"got 901"),
    ({"timeout_s": 1.5}, ValueError, r"f.timeout_s .* got 1.5"),
    ({"architecture": "mips"}, ValueError, r"f.architecture must be one of \('x86_64', "
                                           r"'arm64'\), got 'mips'"),
    ({"runtime": None}, ValueError, r"f.runtime must be a non-empty label, got None"),
    ({"package_type": "tar"}, ValueError, r"f.package_type must be one of \('zip', 'image'\), "
                                          r"got 'tar'"),
    ({"ephemeral_storage_mb": 20_000}, ValueError,
     r"f.ephemeral_storage_mb must be a whole number from 512 to 10,240, got 20000"),
    ({"reserved_concurrency": -1}, ValueError,
     r"f.reserved_concurrency must be a whole number from 0 to 10,000,000, got -1"),
    ({"provisioned_concurrency": 1.5}, ValueError,
     r"f.provisioned_concurrency must be a whole number from 0 to 10,000,000, got 1.5"),
    ({"init_s": -1}, ValueError, r"f.init_s must be between 0 and inf, got -1"),
    ({"cpu_s": -1}, ValueError, r"f.cpu_s must be between 0 and inf, got -1"),
    ({"io_s": -1}, ValueError, r"f.io_s must be between 0 and inf, got -1"),
    ({"duration_s": -1}, ValueError, r"f.duration_s must be between 0 and inf, got -1"),
    ({"duration_s": 1, "cpu_s": 1}, ValueError, r"give duration_s, or cpu_s and/or io_s, "
                                                r"not both"),
    ({"parallelism": 100}, ValueError, r"f.parallelism must be a whole number from 1 to 64, "
                                       r"got 100"),
    ({"memory_used_mb": -1}, ValueError, r"f.memory_used_mb must be between 0 and inf, got -1"),
    ({"error_rate": 2}, ValueError, r"f.error_rate must be a number from 0 to 1, got 2"),
    ({"handler": "main"}, TypeError, r"f.handler must be callable\(event, context\), "
                                     r"got 'main'"),
    ({"memroy_mb": 512}, TypeError, r"memroy_mb"),
]


@pytest.mark.parametrize(("kw", "exc", "match"), BAD_FUNCTION)
def test_bad_function_parameters_are_rejected_by_add_function(kw: dict, exc: type,
                                                              match: str) -> None:
    sim = simlab.Simulation()
    with pytest.raises(exc, match=match):
        sim.add_function("f", **kw)
    assert sim.functions == {}


def test_bad_function_name_is_rejected_by_add_function() -> None:
    with pytest.raises(ValueError, match=r"function name must be 1 to 64 letters, digits, '-' "
                                         r"or '_', got 'my function'"):
        simlab.Simulation().add_function("my function")


@pytest.mark.parametrize("until", [0, -1, math.inf, math.nan, "60", True, None])
def test_bad_until_s(until: object) -> None:
    sim = small()
    with pytest.raises(ValueError, match=rf"until_s must be a finite number of seconds > 0, "
                                         rf"got {until!r}"):
        sim.run(until_s=until)  # type: ignore[arg-type]


def test_run_needs_a_function() -> None:
    with pytest.raises(ValueError, match="add at least one function before running"):
        simlab.Simulation().run(until_s=10)


def test_a_run_with_functions_and_no_sources_is_empty() -> None:
    sim = simlab.Simulation()
    sim.add_function("f")
    r = sim.run(until_s=10)
    assert len(r.invocations) == 0 and len(r.environments) == 0


@pytest.mark.parametrize(("kw", "match"), [
    ({"record": "rows"}, r"record must be 'all', 'summary' or 'metrics', got 'rows'"),
    ({"record": "metrics", "period_s": 0},
     r"period_s must be a finite number of seconds > 0, got 0"),
    ({"record": "metrics", "period_s": math.nan},
     r"period_s must be a finite number of seconds > 0, got nan"),
])
def test_bad_record_options(kw: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        small().run(until_s=10, **kw)


# --------------------------------------------------------------------------------------------------
# configuration changes scheduled during the run are validated when scheduled
# --------------------------------------------------------------------------------------------------


def test_scheduled_changes_are_logged_as_control_plane_calls() -> None:
    sim = small()
    sim.update_function_configuration(20.0, "f", memory_mb=512)
    sim.put_function_concurrency(10.0, "f", 5)
    sim.put_function_concurrency(30.0, "f", None)
    sim.update_function_configuration(500.0, "f", memory_mb=1024)  # after the end: not applied
    log = sim.run(until_s=100).output("control_plane")
    assert [(t, api) for t, api, _, _ in log] == [
        (0.0, "CreateFunction"), (10.0, "PutFunctionConcurrency"),
        (20.0, "UpdateFunctionConfiguration"), (30.0, "DeleteFunctionConcurrency")]
    assert log[2][3] == {"memory_mb": 512}


@pytest.mark.parametrize(("call", "exc", "match"), [
    (lambda s: s.update_function_configuration(-1.0, "f", memory_mb=256), ValueError,
     r"at_s must be a finite number of seconds >= 0, got -1.0"),
    (lambda s: s.update_function_configuration(math.inf, "f", memory_mb=256), ValueError,
     r"at_s must be a finite number of seconds >= 0, got inf"),
    (lambda s: s.update_function_configuration(5.0, "g", memory_mb=256), ValueError,
     r"no function named 'g'; functions: \['f'\]"),
    (lambda s: s.update_function_configuration(5.0, "f"), ValueError,
     r"give at least one configuration change"),
    (lambda s: s.update_function_configuration(5.0, "f", memory_mb=100), ValueError,
     r"f.memory_mb must be 128 to 10,240 MB in 1 MB steps in the 'today' era, got 100"),
    (lambda s: s.update_function_configuration(5.0, "f", timeout_s=1000), ValueError,
     r"f.timeout_s must be whole seconds from 1 to 900 in the 'today' era, got 1000"),
    (lambda s: s.update_function_configuration(5.0, "f", colour="red"), TypeError, r"colour"),
    (lambda s: s.put_function_concurrency(5.0, "f", -3), ValueError,
     r"f.reserved_concurrency must be a whole number from 0 to 10,000,000, got -3"),
    (lambda s: s.put_function_concurrency("soon", "f", 3), ValueError,
     r"at_s must be a finite number of seconds >= 0, got 'soon'"),
])
def test_bad_scheduled_changes_are_rejected_when_scheduled(call, exc: type, match: str) -> None:
    sim = small()
    with pytest.raises(exc, match=match):
        call(sim)
    assert sim.actions == []


def test_a_scheduled_reservation_breaking_the_unreserved_rule_is_rejected_before_the_run(
) -> None:
    started: list[float] = []

    class Spy(Source):
        kind = "spy"

        def start(self, run: Any, targets: list[str]) -> None:
            started.append(run.now)

    sim = simlab.Simulation(seed=1)
    sim.add_function("f")
    sim.add_source(Spy(), target="f")
    with pytest.raises(ValueError, match=r"minimum value of 100"):
        sim.put_function_concurrency(5.0, "f", 950)
        sim.run(until_s=10)
    assert started == []


def test_a_scheduled_change_can_switch_to_cpu_work() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f")
    sim.update_function_configuration(5.0, "f", cpu_s=0.5)
    assert len(sim.actions) == 1


def test_provisioned_concurrency_before_it_existed_is_rejected_before_the_run() -> None:
    sim = simlab.Simulation(era="2018", seed=1)
    try:
        sim.add_function("f", provisioned_concurrency=1)
    except ValueError as error:  # the fix may reject it up front, naming the parameter
        assert "provisioned_concurrency" in str(error)
        return
    sim.add_source(Replay([0.0]), target="f")
    result = sim.run(until_s=10)
    assert len(result.invocations) == 1  # or else the records must be readable


@pytest.mark.parametrize("name", ["", 5])
def test_bad_source_names_are_rejected(name: object) -> None:
    sim = simlab.Simulation()
    sim.add_function("f")
    with pytest.raises((TypeError, ValueError), match=rf"name must be .* got {name!r}"):
        sim.add_source(Poisson(1.0), target="f", name=name)  # type: ignore[arg-type]


def test_bad_progress_flag_is_rejected() -> None:
    with pytest.raises((TypeError, ValueError), match=r"progress must be True or False, "
                                                      r"got 'no'"):
        small().run(until_s=10, progress="no")  # type: ignore[arg-type]
