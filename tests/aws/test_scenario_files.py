"""Tests of simlab.aws.scenario_files: TOML scenarios, key paths, and errors naming the key and
line."""

from __future__ import annotations

import pickle
from pathlib import Path

import pandas as pd
import pytest

import simlab
from simlab.aws.scenario_files import (
    ScenarioFileError,
    apply_to_simulation,
    load,
    loads,
    source_types,
)
from simlab.aws.scenario_sweeps import FileBuild, check_grid, sweep_spec
from simlab.core import dists
from simlab.core.scaling import AccountBurstScaling

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

SMALL = """\
[simulation]
era = "2020"
seed = 4
until = "30m"

[platform]
keep_alive_s = "5m"
account_concurrency = 500

[functions.api]
memory_mb = 512
timeout_s = 3
init_s = { dist = "lognormal", median = 0.3, sigma = 0.2 }
duration_s = 0.12

[functions.worker]
memory_mb = 1024
cpu_s = { dist = "uniform", low = 0.5, high = 1.0 }

[[sources]]
name = "users"
type = "poisson"
target = "api"
rate_per_s = 0.5

[[sources]]
type = "fixed"
target = ["worker"]
interval_s = "2m"
"""


def _line(text: str, fragment: str) -> int:
    """The 1-based line of the first occurrence of ``fragment``."""
    return next(i for i, t in enumerate(text.splitlines(), 1) if fragment in t)


def test_source_types_cover_the_arrival_processes() -> None:
    types = source_types()
    for kind, cls in [("poisson", simlab.sources.Poisson), ("fixed", simlab.sources.FixedInterval),
                      ("fixedinterval", simlab.sources.FixedInterval),
                      ("bursty", simlab.sources.Bursty), ("diurnal", simlab.sources.Diurnal),
                      ("replay", simlab.sources.Replay)]:
        assert types[kind] is cls
    assert "arrivalprocess" not in types and "source" not in types


# -- building --------------------------------------------------------------------------------------


def test_small_file_builds_the_same_simulation_as_python() -> None:
    scenario = loads(SMALL, "small.toml")
    assert scenario.until_s == 1800.0 and scenario.name == "small"
    from_file = scenario.build()
    sim = simlab.Simulation(era="2020", seed=4, keep_alive_s=300, account_concurrency=500)
    sim.add_function("api", memory_mb=512, timeout_s=3,
                     init_s=dists.LogNormal(median=0.3, sigma=0.2), duration_s=0.12)
    sim.add_function("worker", memory_mb=1024, cpu_s=dists.Uniform(0.5, 1.0))
    sim.add_source(simlab.sources.Poisson(rate_per_s=0.5), target="api", name="users")
    sim.add_source(simlab.sources.FixedInterval(interval_s=120), target=["worker"])
    assert from_file.rules == sim.rules
    assert [s.name for s, _ in from_file.sources] == ["users", "fixed"]
    a, b = from_file.run(1800.0), sim.run(1800.0)
    pd.testing.assert_series_equal(a.summary(), b.summary())
    pd.testing.assert_frame_equal(a.invocations, b.invocations)


def test_seed_argument_overrides_the_file() -> None:
    assert loads(SMALL).build(seed=9).seed == 9
    assert loads(SMALL).build().seed == 4


@pytest.mark.parametrize("name", ["api.toml", "sweep_keepalive.toml"])
def test_examples_build_and_run(name) -> None:
    scenario = load(EXAMPLES / name)
    sim = scenario.build()
    result = sim.run(600.0, record="summary")
    assert result.summary()["requests"] > 0


def test_every_distribution_kind() -> None:
    text = SMALL.replace("duration_s = 0.12", "duration_s = {spec}")
    cases = {
        '{ dist = "constant", value = 0.2 }': dists.Constant(0.2),
        '{ dist = "exponential", mean = 0.2 }': dists.Exponential(0.2),
        '{ dist = "lognormal", median = 0.2, sigma = 0.1 }': dists.LogNormal(0.2, 0.1),
        '{ dist = "uniform", low = 0.1, high = 0.3 }': dists.Uniform(0.1, 0.3),
    }
    for spec, expected in cases.items():
        sim = loads(text.replace("{spec}", spec)).build()
        assert sim.functions["api"].duration_s == expected
    sim = loads(text.replace("{spec}", '{ dist = "empirical", values = [0.1, 0.2] }')).build()
    assert list(sim.functions["api"].duration_s.values) == [0.1, 0.2]


def test_platform_extras_and_actions() -> None:
    text = SMALL.replace('keep_alive_s = "5m"', 'keep_alive_s = "none"\n'
                         'scaling = { type = "account_burst", burst = 500, per_minute = 100 }')
    text += '\n[[actions]]\nat = "10m"\nfunction = "api"\nmemory_mb = 1024\n'
    text += '\n[[actions]]\nat = "20m"\nfunction = "api"\nreserved_concurrency = 5\n'
    sim = loads(text).build()
    assert isinstance(sim.rules.keep_alive, simlab.NoKeepAlive)
    assert sim.rules.scaling == AccountBurstScaling(burst=500, per_minute=100)
    assert [(t, api) for t, api, _, _ in sim.actions] == [
        (600.0, "UpdateFunctionConfiguration"), (1200.0, "PutFunctionConcurrency")]


# -- key paths -------------------------------------------------------------------------------------


def test_key_paths_and_shorthands() -> None:
    s = loads(SMALL)
    assert s.build(values={"api.memory_mb": 256}).functions["api"].memory_mb == 256
    assert s.build(values={"functions.worker.memory_mb": 256}).functions["worker"].memory_mb == 256
    both = s.build(values={"function.timeout_s": 7})
    assert [c.timeout_s for c in both.functions.values()] == [7, 7]
    assert s.build(values={"keep_alive_s": "1m"}).rules.keep_alive_policy.idle_timeout_s(
        "api", 0.0) == 60.0
    assert s.build(values={"seed": 12}).seed == 12
    assert s.build(values={"sources.users.rate_per_s": 2}).sources[0][0].rate_per_s == 2
    assert s.build(values={"sources.1.interval_s": "30s"}).sources[1][0].interval_s == 30
    with pytest.raises(ScenarioFileError, match="functions.api.duration_s is a value"):
        s.build(values={"api.duration_s.value": 1})
    assert s.build(values={"api.init_s.median": 0.5}).functions["api"].init_s.median == 0.5


@pytest.mark.parametrize(("key", "match"), [
    ("nope.memory_mb", "unknown key path"),
    ("functions.nope.memory_mb", "no function 'nope'"),
    ("sources.5.rate_per_s", "has 2 sources, no entry 5"),
    ("sources.bots.rate_per_s", "no source named 'bots'"),
])
def test_bad_key_paths(key, match) -> None:
    with pytest.raises(ScenarioFileError, match=match) as info:
        loads(SMALL, "small.toml").build(values={key: 1})
    assert info.value.key == key


def test_file_build_is_picklable_and_rebuilds_the_same() -> None:
    build = pickle.loads(pickle.dumps(FileBuild(SMALL, "small.toml", (("api.memory_mb", 256),))))
    sim = build(seed=3, **{"platform.keep_alive_s": 60})
    assert sim.seed == 3 and sim.functions["api"].memory_mb == 256
    assert sim.rules.keep_alive_policy.idle_timeout_s("api", 0.0) == 60.0


def test_apply_to_a_built_simulation() -> None:
    sim = loads(SMALL).build()
    apply_to_simulation(sim, "function.memory_mb", 2048)
    apply_to_simulation(sim, "api.duration_s", {"dist": "exponential", "mean": 0.1})
    apply_to_simulation(sim, "platform.keep_alive_s", "10m")
    apply_to_simulation(sim, "account_concurrency", 800)
    assert [c.memory_mb for c in sim.functions.values()] == [2048, 2048]
    assert sim.functions["api"].duration_s == dists.Exponential(0.1)
    assert sim.rules.keep_alive_policy.idle_timeout_s("api", 0.0) == 600.0
    assert sim.rules.account_concurrency == 800
    with pytest.raises(ValueError, match="memory_mb must be 128 to 3,008"):
        apply_to_simulation(sim, "api.memory_mb", 5000)  # the 2020 era's limit
    with pytest.raises(ValueError, match="no function 'nope'"):
        apply_to_simulation(sim, "nope.memory_mb", 512)
    assert sim.functions["api"].memory_mb == 2048  # unchanged by the failed calls


# -- errors name the key and the line ------------------------------------------------------------


@pytest.mark.parametrize(("old", "new", "key", "match"), [
    ("memory_mb = 512", "memory_mb = 100", "functions.api.memory_mb", "128 to 3,008 MB"),
    ("memory_mb = 512", "memroy_mb = 512", "functions.api.memroy_mb", "unknown key"),
    ("timeout_s = 3", "timeout_s = 1000", "functions.api.timeout_s", "1 to 900"),
    ("median = 0.3", "median = -1", "functions.api.init_s", "median must be"),
    ("median = 0.3", "mediam = 0.3", "functions.api.init_s.mediam", "takes \\['median'"),
    ('dist = "lognormal"', 'dist = "gaussian"', "functions.api.init_s.dist", "must be one of"),
    ('type = "poisson"', 'type = "poison"', "sources.0.type", "must be one of"),
    ("rate_per_s = 0.5", "rate_per_s = -0.5", "sources.0.rate_per_s", "rate_per_s must be"),
    ("rate_per_s = 0.5", "rate = 0.5", "sources.0.rate", "unknown key for a poisson source"),
    ('target = "api"', 'target = "apj"', "sources.0.target", "not a function"),
    ('interval_s = "2m"', 'interval_s = "2 mins"', "sources.1.interval_s", "duration"),
    ("account_concurrency = 500", "account_concurrency = 0", "platform.account_concurrency",
     "from 1 to"),
    ("account_concurrency = 500", "acount_concurrency = 50", "platform.acount_concurrency",
     "unknown key; allowed here"),
    ('era = "2020"', 'era = "2019"', "simulation.era", "era must be one of"),
    ('until = "30m"', 'until = "soon"', "simulation.until", "duration"),
    ('until = "30m"', 'until = 0', "simulation.until",
     r"until must be a duration > 0 \(e.g. 90, '10m', '1h'\), got 0$"),
    ('until = "30m"', 'until = "0s"', "simulation.until",
     r"until must be a duration > 0 \(e.g. 90, '10m', '1h'\), got '0s'$"),
    ("[platform]", "[platfrom]", "platfrom", "unknown key; allowed here"),
])
def test_errors_name_key_and_line(old, new, key, match) -> None:
    text = SMALL.replace(old, new, 1)
    with pytest.raises(ScenarioFileError, match=match) as info:
        scenario = loads(text, "small.toml")
        scenario.until_s  # noqa: B018 - reading it checks it
        scenario.build()
    err = info.value
    assert err.key == key
    assert err.line == _line(text, new)
    assert str(err).startswith(f"small.toml, line {err.line}, key {key!r}: ")


def test_syntax_error_gives_the_line() -> None:
    text = SMALL.replace("memory_mb = 512", "memory_mb = ")
    with pytest.raises(ScenarioFileError, match="not valid TOML") as info:
        loads(text, "small.toml")
    assert info.value.line == _line(text, "memory_mb = ")


def test_missing_file_and_no_function(tmp_path) -> None:
    with pytest.raises(ScenarioFileError, match="no such file"):
        load(tmp_path / "absent.toml")
    with pytest.raises(ScenarioFileError, match="defines no function"):
        loads("[simulation]\nseed = 1\n").build()


def test_values_set_over_the_file_say_where_they_came_from() -> None:
    with pytest.raises(ScenarioFileError, match=r"value from --set api.memory_mb=100") as info:
        loads(SMALL, "small.toml").build(values={"api.memory_mb": 100})
    assert info.value.key == "functions.api.memory_mb"
    assert info.value.line == _line(SMALL, "memory_mb = 512")


# -- sweeps ---------------------------------------------------------------------------------------

SWEEP = SMALL + """
[sweep]
seeds = [1, 2]
until = "10m"
metrics = ["cold_start_fraction"]

[sweep.grid]
"platform.keep_alive_s" = [0, 60, 600]
"api.memory_mb" = [256, 512]
"""


def test_sweep_spec() -> None:
    spec = sweep_spec(loads(SWEEP))
    assert spec.grid == {"platform.keep_alive_s": [0, 60, 600], "api.memory_mb": [256, 512]}
    assert spec.seeds == [1, 2] and spec.until_s == 600.0
    assert spec.metrics == ["cold_start_fraction"] and spec.seed_mode == "common"
    check_grid(loads(SWEEP))


@pytest.mark.parametrize(("old", "new", "key", "match"), [
    ("[0, 60, 600]", "[0, 60, -600]", "platform.keep_alive_s", "keep_alive_s must be"),
    ("[256, 512]", "[256, 5000]", "functions.api.memory_mb", "3,008"),
    ('"api.memory_mb"', '"apx.memory_mb"', "sweep.grid.apx.memory_mb", "unknown key path"),
    ("[256, 512]", "[]", "sweep.grid.api.memory_mb", "non-empty list"),
    ("seeds = [1, 2]", "seeds = [1, 1]", "sweep.seeds", "distinct"),
])
def test_grid_errors_point_at_the_grid_line(old, new, key, match) -> None:
    text = SWEEP.replace(old, new)
    with pytest.raises(ScenarioFileError, match=match) as info:
        check_grid(loads(text, "sweep.toml"))
    assert info.value.key == key
    assert info.value.line == _line(text, new)
