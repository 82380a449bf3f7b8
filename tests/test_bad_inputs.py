"""Bad input gets a clear error before the run: the cases of issue 13 ("unclear errors",
"silently accepted"), and a table of every public parameter with a bad value and the message it
gets (parameter, value, allowed range)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import simlab
from simlab.cli import main
from simlab.scenario_files import ScenarioFileError, loads
from simlab.sources import (
    APIGateway,
    KinesisStream,
    Poisson,
    S3Bucket,
    SNSTopic,
    TraceReplay,
)
from simlab.validate import BadInput


def _sim() -> simlab.Simulation:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f", duration_s=0.1)
    return sim


# --------------------------------------------------------------------------------------------------
# the cases of the issue, one by one
# --------------------------------------------------------------------------------------------------


def test_an_unhashable_era_names_the_eras() -> None:
    with pytest.raises(BadInput, match=r"era must be one of \['2018', '2020', 'today'\], "
                                       r"got \['today'\]"):
        simlab.Simulation(era=["today"])


def test_a_toml_target_that_is_a_number_names_the_key() -> None:
    text = '[functions.f]\n[[sources]]\ntype = "poisson"\ntarget = 5\nrate_per_s = 1\n'
    with pytest.raises(ScenarioFileError, match=r"line 4, key 'sources.0.target': target must be "
                                                r"a function name or a non-empty list of "
                                                r"function names, got 5"):
        loads(text).build()


@pytest.mark.parametrize(("kw", "match"), [
    ({"headers": {"a": 1}}, r"headers\['a'\] must be a string or a list of strings, got 1"),
    ({"query": {"q": [1, 2]}}, r"query\['q'\] must be a string or a list of strings, "
                               r"got \[1, 2\]"),
    ({"headers": "a=1"}, r"headers must be a mapping of names to a string or a list of strings, "
                         r"got 'a=1'"),
])
def test_api_gateway_headers_and_queries_must_be_text(kw, match) -> None:
    with pytest.raises(BadInput, match=match):
        APIGateway(Poisson(1.0), **kw)


def _table(**columns) -> pd.DataFrame:
    base = {"arrival_s": [0.0, 1.0], "duration_s": [0.5, 0.5], "app": ["a", "a"],
            "func": ["x", "x"]}
    return pd.DataFrame({**base, **columns})


@pytest.mark.parametrize(("durations", "match"), [
    (["0.5", "1"], r"trace duration_s must be numbers of seconds, got '0.5'"),
    ([0.5, math.nan], r"trace duration_s must be finite numbers of seconds >= 0, got nan in row 1"),
    ([-1.0, 0.5], r"trace duration_s must be finite numbers of seconds >= 0, got -1.0 in row 0"),
])
def test_trace_durations_are_checked_before_the_run(durations, match) -> None:
    with pytest.raises(BadInput, match=match):
        TraceReplay(_table(duration_s=durations))


@pytest.mark.parametrize(("function", "match"), [
    ("unknown", r"no function named 'unknown'; functions: \['f', 'g'\]"),
    (1, r"function must be a function name, a list of names or None \(functions: \['f', 'g'\]\), "
        r"got 1"),
    (["f", None], r"function must be .* got \['f', None\]"),
])
def test_logs_of_an_unknown_function_is_an_error_as_summary_is(function, match) -> None:
    sim = _sim()
    sim.add_function("g")
    sim.add_source(Poisson(1.0), target="f")
    result = sim.run(10)
    assert len(result.logs("g").df) == 0  # a function that ran nothing has an empty log
    with pytest.raises(BadInput, match=match):
        result.logs(function)


class _Strings:
    def sample(self, rng, size):
        return np.array(["0.1"] * size)


class _Short:
    def sample(self, rng, size):
        return np.full(size - 1, 0.1)


class _Negative:
    def sample(self, rng, size):
        return rng.normal(0.1, 0.1, size)


class _LateNaN:
    """Good for the first block, NaN from the second: only a draw during the run can tell."""

    def __init__(self) -> None:
        self.calls = 0

    def sample(self, rng, size):
        self.calls += 1
        return np.full(size, 0.1 if self.calls <= 2 else math.nan)


@pytest.mark.parametrize(("dist", "match"), [
    (_Strings(), r"f.duration_s: .*\.sample\(rng, 64\) must return 64 numbers, "
                 r"returned array\(\['0.1'"),
    (_Short(), r"f.duration_s: .*\.sample\(rng, 64\) must return 64 values, returned 63"),
    (_Negative(), r"f.duration_s must be a finite number from 0 to inf, but .* drew -0\.\d+"),
    (stats.norm(0.1, 0.01), r"f.duration_s must draw values from 0 to inf, but "
                            r"ScipyDistribution\(norm\(0.1, 0.01\)\) can draw values from -inf "
                            r"to inf"),
    (simlab.dists.Uniform(-1.0, 1.0), r"f.duration_s must draw values from 0 to inf, but "
                                      r"Uniform\(low=-1.0, high=1.0\) can draw values from -1"),
    (simlab.dists.Empirical([0.2, -0.1]), r"f.duration_s must draw values from 0 to inf, but "
                                          r"Empirical\(.*\) can draw values from -0.1 to 0.2"),
])
def test_distributions_that_can_draw_bad_values_are_refused_before_the_run(dist, match) -> None:
    with pytest.raises(BadInput, match=match):
        simlab.Simulation().add_function("f", duration_s=dist)


def test_a_bad_draw_during_the_run_names_the_function_quantity_and_value() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("api", duration_s=_LateNaN())  # the check before the run draws one block
    sim.add_source(Poisson(200.0), target="api")
    with pytest.raises(BadInput, match=r"api.duration_s must be a finite number from 0 to inf, "
                                       r"but .*_LateNaN.* drew nan"):
        sim.run(120)


def test_simlab_check_refuses_a_file_whose_distribution_draws_negatives(tmp_path, capsys) -> None:
    path = tmp_path / "neg.toml"
    path.write_text('[functions.f]\nduration_s = { dist = "uniform", low = -0.5, high = 1 }\n')
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert re.search(r"line 2, key 'functions.f.duration_s': f.duration_s must draw values from "
                     r"0 to inf, but Uniform\(low=-0.5, high=1\) can draw values from -0.5", err)


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_out_that_cannot_be_written_is_refused_before_the_run(tmp_path, capsys, command) -> None:
    examples = Path(__file__).resolve().parents[1] / "examples"
    if command == "run":
        taken = tmp_path / "a-file"
        taken.write_text("x")
        argv = ["run", str(examples / "api.toml"), "--until", "1m", "--out", str(taken)]
        match = r"--out must be a directory \(new or existing\), got '.*a-file': it is an existing"
    else:
        argv = ["sweep", str(examples / "sweep_keepalive.toml"), "--out", str(tmp_path)]
        match = r"--out must be a file name \(new or existing\), got '.*': it is an existing dir"
    assert main(argv) == 2
    assert re.search(match, capsys.readouterr().err)


def test_kinesis_partition_keys_text_is_not_split_into_letters() -> None:
    with pytest.raises(BadInput, match=r"partition_keys must be a whole number of keys from 1 to "
                                       r"1,000,000 or a list of keys, got 'abc'"):
        KinesisStream("s", Poisson(1.0), partition_keys="abc")


def test_an_empty_sns_message_is_refused() -> None:
    with pytest.raises(BadInput, match=r"message must be a non-empty string .*got ''"):
        SNSTopic("t", Poisson(1.0), message="")


def test_s3_sizes_are_never_clamped() -> None:
    with pytest.raises(BadInput, match=r"size_bytes must draw values from 0 to inf, but "
                                       r"ScipyDistribution\(norm"):
        S3Bucket("bucket", Poisson(1.0), size_bytes=stats.norm(100, 200))
    with pytest.raises(BadInput, match=r"uploads\[0\] size must be a whole number of bytes >= 0, "
                                       r"got -5"):
        S3Bucket("bucket", [(1.0, "k", -5)])


@pytest.mark.parametrize(("changes", "match"), [
    ({"name": "g"}, r"f: name cannot be changed \(got name='g'\)"),
    ({"memroy_mb": 512}, r"f: unknown configuration key\(s\) \['memroy_mb'\]; allowed: "
                         r"\['memory_mb'"),
])
def test_updates_that_would_be_ignored_are_refused(changes, match) -> None:
    with pytest.raises(BadInput, match=match):
        _sim().update_function_configuration(10.0, "f", **changes)
