"""Bad input gets a clear error before the run: the cases of issue 13 ("unclear errors",
"silently accepted"), and a table of every public parameter with a bad value and the message it
gets (parameter, value, allowed range)."""

from __future__ import annotations

import argparse
import inspect
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import simlab
from simlab.aws.scenario_files import ScenarioFileError, loads
from simlab.aws.sources import (
    APIGateway,
    DynamoDBStream,
    KinesisStream,
    Poisson,
    S3Bucket,
    SNSTopic,
    SQSQueue,
    TraceReplay,
)
from simlab.cli import main
from simlab.core.validate import BadInput


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


@pytest.mark.parametrize(("target", "shown"), [
    (None, "None"), (5, "5"), ("", "''"), ({"f"}, r"\{'f'\}"), (["f", 2], r"\['f', 2\]")])
def test_a_python_target_that_is_not_names_is_a_clear_error(target, shown) -> None:
    with pytest.raises(BadInput, match=r"target must be a function name or a non-empty list of "
                                       rf"function names, got {shown}$"):
        _sim().add_source(Poisson(1.0), target=target)


def _raises_on_the_second(item) -> bool:
    return {"a": False}[item.body if hasattr(item, "body") else item.data.decode()]


@pytest.mark.parametrize(("source", "match"), [
    (SQSQueue("orders", [(0.0, "a"), (1.0, "b")], poison=_raises_on_the_second),
     r"SQS queue 'orders': the poison predicate raised KeyError: 'b' on QueueMessage\("
     r"message_number=1, body='b', sent_s=1.0\); poison must return True or False for every "
     r"QueueMessage$"),
    (KinesisStream("clicks", [(0.0, "k", "a"), (1.0, "k", "b")], poison=_raises_on_the_second),
     r"Kinesis stream 'clicks': the poison predicate raised KeyError: 'b' on StreamRecord\("
     r"sequence_number=1, .*data=b'b'\); poison must return True or False for every "
     r"StreamRecord$"),
    (DynamoDBStream("orders", [(0.0, "INSERT", {"id": 1})], poison=lambda r: 1 / 0),
     r"DynamoDB stream 'orders': the poison predicate raised ZeroDivisionError: division by "
     r"zero on StreamRecord\(sequence_number=0, .*\); poison must return True or False for "
     r"every StreamRecord$"),
])
def test_a_poison_predicate_that_raises_names_the_source_and_the_item(source, match) -> None:
    sim = _sim()
    sim.add_source(source, target="f")
    with pytest.raises(BadInput, match=match) as info:
        sim.run(30)
    assert info.value.__cause__ is not None


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


# --------------------------------------------------------------------------------------------------
# the table: every public parameter, a bad value and the message it gets
# --------------------------------------------------------------------------------------------------

# Overrides of the era's rules (Simulation(**rules), TOML [platform]): value, message.
RULES = {
    "date": ("2020-01-01", r"date must be a datetime.date, got '2020-01-01'"),
    "keep_alive": (-1, r"keep_alive_s must be a number >= 0 \(seconds\), got -1"),
    "keep_alive_s": (-5, r"keep_alive_s must be a number >= 0 \(seconds\), got -5"),
    "max_lifetime_s": (0, r"max_lifetime_s must be a number of seconds > 0 \(inf: never "
                          r"recycled\), got 0"),
    "memory_min_mb": (0, r"memory_min_mb must be a whole number from 1 to 1,000,000, got 0"),
    "memory_max_mb": (64, r"memory_max_mb must be a whole number from 128 to 1,000,000, got 64"),
    "memory_step_mb": (0, r"memory_step_mb must be a whole number from 1 to 10,240, got 0"),
    "timeout_max_s": (0.5, r"timeout_max_s must be a number from 1 to 86400, got 0.5"),
    "scaling": ("fast", r"scaling must be .*got '?fast'?"),
    "billing_granularity_ms": (0, r"billing_granularity_ms must be a number > 0 and <= "
                                  r"3.6e\+06, got 0"),
    "account_concurrency": (0, r"account_concurrency must be a whole number from 1 to "
                               r"10,000,000, got 0"),
    "unreserved_minimum": (-1, r"unreserved_minimum must be a whole number from 0 to 1,000, "
                               r"got -1"),
    "host_memory_mb": (64, r"host_memory_mb must be a whole number from 128 to 100,000,000 "
                           r"\(a host must hold .*\), got 64"),
    "recycle_prewarm": ("yes", r"recycle_prewarm must be True or False, got 'yes'"),
    "host_provision_delay_s": (-1, r"host_provision_delay_s must be a number from 0 to 86400, "
                                   r"got -1"),
}

# add_function(name, **config), TOML [functions.f]: value, message.
FUNCTION = {
    "name": ("bad name", r"function name must be 1 to 64 letters, digits, '-' or '_', "
                         r"got 'bad name'"),
    "memory_mb": (100, r"f.memory_mb must be 128 to 10,240 MB in 1 MB steps in the 'today' era, "
                       r"got 100"),
    "timeout_s": (0, r"f.timeout_s must be whole seconds from 1 to 900 in the 'today' era, got 0"),
    "architecture": ("sparc", r"f.architecture must be one of \('x86_64', 'arm64'\), "
                              r"got 'sparc'"),
    "runtime": ("", r"f.runtime must be a non-empty label, got ''"),
    "package_type": ("jar", r"f.package_type must be one of \('zip', 'image'\), got 'jar'"),
    "ephemeral_storage_mb": (100, r"f.ephemeral_storage_mb must be a whole number from 512 to "
                                  r"10,240, got 100"),
    "reserved_concurrency": (-2, r"f.reserved_concurrency must be a whole number from 0 to "
                                 r"10,000,000, got -2"),
    "provisioned_concurrency": (-1, r"f.provisioned_concurrency must be a whole number from 0 to "
                                    r"10,000,000, got -1"),
    "init_s": (-1, r"f.init_s must be between 0 and inf, got -1"),
    "cpu_s": (-1, r"f.cpu_s must be between 0 and inf, got -1"),
    "io_s": ({"dist": "uniform", "low": -1, "high": 1},
             r"f.io_s must draw values from 0 to inf, but Uniform\(low=-1, high=1\) can draw "
             r"values from -1 to 1"),
    "duration_s": (-0.5, r"f.duration_s must be between 0 and inf, got -0.5"),
    "parallelism": (0, r"f.parallelism must be a whole number from 1 to 64, got 0"),
    "memory_used_mb": (math.inf, r"f.memory_used_mb must be between 0 and inf, got inf"),
    "error_rate": (1.5, r"f.error_rate must be a number from 0 to 1, got 1.5"),
    "handler": ("h", r"f.handler must be callable\(event, context\), got 'h'"),
}
_DISTS = {"uniform": simlab.dists.Uniform}


def _py(value):
    """A value of the tables as Python gives it (dist tables become distributions)."""
    if isinstance(value, dict) and "dist" in value:
        spec = dict(value)
        return _DISTS[spec.pop("dist")](**spec)
    return value


_POISSON = {"type": "poisson", "rate_per_s": 1}

# Valid required arguments of each source: for Python, and for a TOML [[sources]] table.
REQUIRED = {
    "Poisson": {"rate_per_s": 1.0}, "FixedInterval": {"interval_s": 1.0},
    "Bursty": {"on_rate_per_s": 1.0, "on_s": 1.0, "off_s": 1.0},
    "Diurnal": {"mean_rate_per_s": 1.0}, "Replay": {"times_s": [1.0]},
    "Schedule": {"expression": "rate(5 minutes)"}, "S3Bucket": {"name": "bucket"},
    "SNSTopic": {"name": "topic"}, "APIGateway": {"arrivals": _POISSON},
    "SDK": {"calls": [[1.0, "f", "{}"]]}, "TraceReplay": {"trace": "azure_2021_sample"},
    "KinesisStream": {"name": "s", "records": _POISSON},
    "DynamoDBStream": {"table": "t", "changes": _POISSON}, "SQSQueue": {"name": "q"},
}
_ARRIVAL = {
    "rate_per_s": (0, r"rate_per_s must be a finite number > 0, got 0"),
    "interval_s": (-1, r"interval_s must be a finite number > 0, got -1"),
    "start_s": (-1, r"start_s must be a finite number >= 0, got -1"),
    "on_rate_per_s": (-1, r"on_rate_per_s must be a finite number > 0, got -1"),
    "on_s": (0, r"on_s must be a finite number > 0, got 0"),
    "off_s": (0, r"off_s must be a finite number > 0, got 0"),
    "off_rate_per_s": (-1, r"off_rate_per_s must be a finite number >= 0, got -1"),
    "mean_rate_per_s": (0, r"mean_rate_per_s must be a finite number > 0, got 0"),
    "amplitude": (1.5, r"amplitude must be a number from 0 to 1, got 1.5"),
    "period_s": (0, r"period_s must be a finite number > 0, got 0"),
    "peak_s": (-1, r"peak_s must be a finite number >= 0, got -1"),
    "times_s": ([1, -2], r"times_s must be finite and >= 0; entry 1 is -2.0"),
    "invocation_type": ("later", r"invocation_type must be one of \('sync', 'async'\), "
                                 r"got 'later'"),
}
_STREAM = {
    "shards": (0, r"shards must be a whole number, 1 to 500; got 0"),
    "batch_size": (0, r"batch_size must be a whole number, 1 to 10,000; got 0"),
    "batching_window_s": (-1, r"batching_window_s must be 0 to 300 seconds; got -1"),
    "parallelization_factor": (11, r"parallelization_factor must be a whole number, 1 to 10; "
                                   r"got 11"),
    "max_retries": (-2, r"max_retries must be a whole number, -1 or 0 to 10,000; got -2"),
    "max_record_age_s": (10, r"max_record_age_s must be -1 or 60 to 604,800 seconds; got 10"),
    "bisect_on_error": ("yes", r"bisect_on_error must be True or False, got 'yes'"),
    "on_failure": (5, r"on_failure must be None or a destination with a deliver.*; got 5"),
    "report_batch_item_failures": ("yes", r"report_batch_item_failures must be True or False, "
                                          r"got 'yes'"),
    "poison": (5, r"poison must be None or a function of one record, got 5"),
}
SOURCES = {
    "Poisson": _ARRIVAL, "FixedInterval": _ARRIVAL, "Bursty": _ARRIVAL, "Diurnal": _ARRIVAL,
    "Replay": _ARRIVAL,
    "Schedule": {
        "expression": ("rate(5 minute)", r"invalid schedule expression 'rate\(5 minute\)': with "
                                         r"value 5 the unit must be 'minutes'"),
        "rule_name": ("", r"rule_name must be 1 to 64 letters, digits, '.', '-' or '_', got ''"),
    },
    "S3Bucket": {
        "name": ("B", r"bucket name must be 3 to 63 lower-case letters, .* got 'B'"),
        "uploads": ("x", r"uploads must be an arrival process .* got 'x'"),
        "prefix": (5, r"prefix must be a string of at most 1,024 characters, got 5"),
        "suffix": (5, r"suffix must be a string of at most 1,024 characters, got 5"),
        "events": ("s3:Bogus", r"events: 's3:Bogus' is not an S3 event type; allowed: "
                               r"\['s3:IntelligentTiering'"),
        "filters": (5, r"filters must map function names to dicts of prefix/suffix/events, "
                       r"got 5"),
        "key_template": (5, r"key_template must be a string with \{n\}, got 5"),
        "size_bytes": (-1, r"size_bytes must be between 0 and inf, got -1"),
    },
    "SNSTopic": {
        "name": ("", r"topic name must be 1 to 256 letters, digits, '-' or '_', got ''"),
        "messages": ("x", r"messages must be an arrival process or a list of .* got 'x'"),
        "message": ("", r"message must be a non-empty string .* got ''"),
        "subject": ("", r"subject must be a non-empty string of at most 100 characters or None, "
                        r"got ''"),
    },
    "APIGateway": {
        "arrivals": ("x", r"arrivals must be an arrival process .* got 'x'"),
        "integration_timeout_s": (40, r"integration_timeout_s must be a finite number of "
                                      r"seconds >= 0.05 and <= 29, got 40"),
        "api": ("soap", r"api must be 'rest' or 'http', got 'soap'"),
        "account_throttle": (5, r"account_throttle must be a simlab.sources.apigateway.Throttle "
                                r"or None, got 5"),
        "stage_throttle": (5, r"stage_throttle must be a simlab.sources.apigateway.Throttle or "
                              r"None, got 5"),
        "method_throttle": (5, r"method_throttle must be a simlab.sources.apigateway.Throttle "
                               r"or None, got 5"),
        "method": ("FETCH", r"method must be one of \('GET', .*\), got 'FETCH'"),
        "path": ("x", r"path must be a string starting with '/', got 'x'"),
        "body": (5, r"body must be str, bytes, dict, list or None, got int"),
        "headers": ({"a": 1}, r"headers\['a'\] must be a string or a list of strings, got 1"),
        "query": ({"q": 1}, r"query\['q'\] must be a string or a list of strings, got 1"),
        "routes": ({"f": "x"}, r"routes\['f'\] must be \(method, path\), got 'x'"),
        "client_retries": (11, r"client_retries must be a whole number from 0 to 10, got 11"),
        "retry_backoff_s": (-1, r"retry_backoff_s must be a finite number of seconds >= 0 and "
                                r"<= 3600, got -1"),
    },
    "SDK": {
        "calls": ([[-1.0, "f", "{}"]], r"calls\[0\] time_s must be a finite number of seconds "
                                       r">= 0, got -1.0"),
    },
    "TraceReplay": {
        "trace": (5, r"trace must be a replay table .* got int"),
        "mapping": (5, r"mapping must be a dict, a function of the key, or None, got 5"),
        "by": ("user", r"by must be one of \('func', 'app', 'app_func'\) .* got 'user'"),
        "unmapped": ("maybe", r"unmapped must be 'error' or 'skip', got 'maybe'"),
        "invocation_type": ("later", r"invocation_type must be one of \('sync', 'async', "
                                     r"'auto'\), got 'later'"),
        "spread": ("odd", r"spread must be 'uniform' or 'even', got 'odd'"),
        "durations": (5, r"durations must map \(app, func\) to distributions, got 5"),
        "time_offset_s": (math.nan, r"time_offset_s must be a finite number, got nan"),
        "use_durations": ("yes", r"use_durations must be True or False, got 'yes'"),
    },
    "KinesisStream": {
        **_STREAM,
        "name": ("", r"name must be 1 to 255 letters, digits, '-', '_' or '.', got ''"),
        "records": ("x", r"records must be an arrival process or a list of tuples, got 'x'"),
        "partition_keys": ("abc", r"partition_keys must be a whole number of keys from 1 to "
                                  r"1,000,000 or a list of keys, got 'abc'"),
        "starting_position": ("MIDDLE", r"starting_position must be one of \('LATEST', "
                                        r"'TRIM_HORIZON', 'AT_TIMESTAMP'\), got 'MIDDLE'"),
        "starting_position_timestamp_s": (math.nan, r"starting_position_timestamp_s is needed "
                                                    r"with starting_position 'AT_TIMESTAMP' "
                                                    r"and only with it"),
        "retention_s": (10, r"retention_s must be 86,400 to 3.1536e\+07 seconds; got 10"),
    },
    "DynamoDBStream": {
        **_STREAM,
        "table": ("", r"table must be 1 to 255 letters, digits, '-', '_' or '.', got ''"),
        "changes": ("x", r"changes must be an arrival process or a list of tuples, got 'x'"),
        "items": (0, r"items must be a whole number, 1 to 10,000,000; got 0"),
        "remove_fraction": (1.5, r"remove_fraction must be from 0 to 1, got 1.5"),
        "stream_view_type": ("ALL", r"stream_view_type must be one of \('KEYS_ONLY', .*\), "
                                    r"got 'ALL'"),
        "starting_position": ("AT_TIMESTAMP", r"starting_position must be one of \('LATEST', "
                                              r"'TRIM_HORIZON'\), got 'AT_TIMESTAMP'"),
    },
    "SQSQueue": {
        "name": ("bad name", r"name must be 1 to 80 letters, digits, '-' or '_', got 'bad name'"),
        "messages": ("x", r"messages must be an arrival process, a list of \(time_s, body\) or "
                          r"None, got 'x'"),
        "batch_size": (0, r"batch_size must be a whole number, 1 to 10,000; got 0"),
        "batching_window_s": (-1, r"batching_window_s must be 0 to 300 seconds; got -1"),
        "visibility_timeout_s": (-1, r"visibility_timeout_s must be 0 to 43,200 seconds; got -1"),
        "max_receive_count": (0, r"max_receive_count must be a whole number, 1 to 1,000; got 0"),
        "dead_letter_queue": (5, r"dead_letter_queue must be None or an SQSQueue, got 5"),
        "max_concurrency": (1, r"max_concurrency must be a whole number, 2 to 1,000; got 1"),
        "retention_s": (10, r"retention_s must be 60 to 1.2096e\+06 seconds; got 10"),
        "poison": (5, r"poison must be None or a function of one record, got 5"),
        "report_batch_item_failures": ("yes", r"report_batch_item_failures must be True or "
                                              r"False, got 'yes'"),
    },
}


def _built(value):
    """A required TOML-style value as Python takes it (a nested source table becomes one)."""
    if isinstance(value, dict) and "type" in value:
        spec = dict(value)
        return simlab.aws.scenario_files.source_types()[spec.pop("type")](**spec)
    if isinstance(value, str) and value == "azure_2021_sample":
        from simlab.aws.sources.traces import load_azure_2021_sample

        return load_azure_2021_sample()
    return value


def _ran() -> simlab.Result:
    sim = _sim()
    sim.add_source(Poisson(1.0), target="f")
    return sim.run(10)


# Everything else: (what, parameter) -> (call, message).
OTHER = {
    ("Simulation", "era"): (lambda: simlab.Simulation(era="1999"),
                            r"era must be one of \['2018', '2020', 'today'\], got '1999'"),
    ("Simulation", "seed"): (lambda: simlab.Simulation(seed=-1),
                             r"seed must be a whole number >= 0, got -1"),
    ("Simulation", "epoch"): (lambda: simlab.Simulation(epoch="2020"),
                              r"epoch must be a timezone-aware datetime, got '2020'"),
    ("Simulation", "**rules"): (lambda: simlab.Simulation(keepalive=1),
                                r"unknown platform rule\(s\) \['keepalive'\]; allowed: era, date"),
    ("add_function", "**config"): (lambda: _sim().add_function("g", memroy_mb=1),
                                   r"g: unknown configuration key\(s\) \['memroy_mb'\]"),
    ("configure_async", "function"): (lambda: _sim().configure_async("g"),
                                      r"function 'g' is not a function of this simulation"),
    ("configure_async", "max_retries"): (lambda: _sim().configure_async("f", max_retries=3),
                                         r"max_retries \(MaximumRetryAttempts\) must be a whole "
                                         r"number from 0 to 2, got 3"),
    ("configure_async", "max_event_age_s"): (
        lambda: _sim().configure_async("f", max_event_age_s=30),
        r"max_event_age_s \(MaximumEventAgeInSeconds\) must be a whole number of seconds from 60 "
        r"to 21,600, got 30"),
    ("configure_async", "on_success"): (lambda: _sim().configure_async("f", on_success=5),
                                        r"on_success must be a destination .* or None, got 5"),
    ("configure_async", "on_failure"): (lambda: _sim().configure_async("f", on_failure=5),
                                        r"on_failure must be a destination .* or None, got 5"),
    ("configure_async", "dead_letter_queue"): (
        lambda: _sim().configure_async("f", dead_letter_queue=5),
        r"dead_letter_queue must be a simlab.sources.DeadLetterQueue or None, got 5"),
    ("configure_async", "**settings"): (lambda: _sim().configure_async("f", retries=1),
                                        r"f: unknown asynchronous invocation setting\(s\) "
                                        r"\['retries'\]; allowed: \['max_retries'"),
    ("run", "until_s"): (lambda: _sim().run(0),
                         r"until_s must be a finite number of seconds > 0, got 0"),
    ("run", "progress"): (lambda: _sim().run(10, progress="yes"),
                          r"progress must be True or False, got 'yes'"),
    ("run", "record"): (lambda: _sim().run(10, record="rows"),
                        r"record must be 'all', 'summary' or 'metrics', got 'rows'"),
    ("run", "period_s"): (lambda: _sim().run(10, record="metrics", period_s=0),
                          r"period_s must be a finite number of seconds > 0, got 0"),
    ("run", "max_events"): (lambda: _sim().run(10, max_events=0),
                            r"max_events must be a number of requests > 0 \(default "
                            r"100,000,000\), got 0"),
    ("run", "handler_budget_s"): (lambda: _sim().run(10, handler_budget_s=-1),
                                  r"handler_budget_s must be seconds of real time > 0 \(math.inf "
                                  r"for no limit; default 10\), got -1"),
    ("bill", "granularity_ms"): (lambda: _ran().bill(granularity_ms=0),
                                 r"granularity_ms must be a finite number of milliseconds from "
                                 r"1e-09 to 3,600,000 \(1 hour\), got 0"),
    ("bill", "prices"): (lambda: _ran().bill(prices=5),
                         r"prices must be a PriceSheet or None, got int"),
    ("bill", "free_tier"): (lambda: _ran().bill(free_tier="yes"),
                            r"free_tier must be True or False, got 'yes'"),
    ("bill", "months"): (lambda: _ran().bill(months=-1),
                         r"months must be a positive finite number of months, got -1"),
    ("logs", "function"): (lambda: _ran().logs("g"), r"no function named 'g'; functions: \['f'\]"),
    ("logs", "style"): (lambda: _ran().logs(style="fancy"),
                        r"style must be one of \('classic', 'status'\), got 'fancy'"),
    ("metrics", "account"): (lambda: _ran().metrics(account="yes"),
                             r"account must be True or False, got 'yes'"),
    ("metrics", "period_s"): (lambda: _ran().metrics(period_s=0),
                              r"period_s must be a finite number of seconds > 0, got 0"),
}


def _python_cases():
    for param, (value, match) in RULES.items():
        yield ("Simulation", param), (lambda p=param, v=value: simlab.Simulation(**{p: v})), match
    for param, (value, match) in FUNCTION.items():
        if param == "name":
            yield ("add_function", param), (lambda v=value: _sim().add_function(v)), match
        else:
            yield (("add_function", param),
                   (lambda p=param, v=value: simlab.Simulation().add_function("f", **{p: _py(v)})),
                   match)
    types = {cls.__name__: cls for cls in simlab.aws.scenario_files.source_types().values()}
    for name, table in SOURCES.items():
        cls = types[name]
        for param in inspect.signature(cls).parameters:
            value, match = table[param]
            kwargs = {k: _built(v) for k, v in REQUIRED[name].items()}

            def make(cls=cls, kwargs=kwargs, param=param, value=value):
                return cls(**{**kwargs, param: value})

            yield (name, param), make, match
    for key, (call, match) in OTHER.items():
        yield key, call, match


PYTHON = list(_python_cases())


@pytest.mark.parametrize(("call", "match"), [(c, m) for _, c, m in PYTHON],
                         ids=[f"{w}.{p}" for (w, p), _, _ in PYTHON])
def test_python_bad_input_table(call, match) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        call()


# --------------------------------------------------------------------------------------------------
# the CLI
# --------------------------------------------------------------------------------------------------

_EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
_RUN = ["run", str(_EXAMPLES / "api.toml")]
_SWEEP = ["sweep", str(_EXAMPLES / "sweep_keepalive.toml")]

# (command, option's dest) -> (argv, message on stderr)
CLI = {
    ("run", "scenario"): (["run", "nowhere.toml"], r"nowhere.toml: no such file"),
    ("run", "until"): ([*_RUN, "--until", "soon"], r"argument --until: cannot read 'soon' as a "
                                                   r"duration"),
    ("run", "seed"): ([*_RUN, "--seed", "-1"], r"argument --seed: must be a whole number >= 0, "
                                               r"got '-1'"),
    ("run", "values"): ([*_RUN, "--set", "memory_mb"], r"--set: expected KEY=VALUE .*got "
                                                       r"'memory_mb'"),
    ("run", "record"): ([*_RUN, "--record", "rows"], r"argument --record: invalid choice: 'rows' "
                                                     r"\(choose from 'all', 'summary', "
                                                     r"'metrics'\)"),
    ("run", "period"): ([*_RUN, "--period", "0"], r"argument --period: must be longer than 0 s, "
                                                  r"got '0'"),
    ("run", "out"): ([*_RUN, "--out", "{file}"], r"--out must be a directory \(new or "
                                                 r"existing\), got '.*': it is an existing file"),
    ("run", "format"): ([*_RUN, "--format", "xls"], r"argument --format: invalid choice: 'xls' "
                                                    r"\(choose from 'csv', 'parquet'\)"),
    ("run", "no_figures"): ([*_RUN, "--no-figures=yes"], r"argument --no-figures: ignored "
                                                         r"explicit argument 'yes'"),
    ("run", "progress"): ([*_RUN, "--progress=yes"], r"argument --progress/--no-progress: "
                                                     r"ignored explicit argument 'yes'"),
    ("sweep", "file"): (["sweep", "nowhere.toml"], r"nowhere.toml: no such file"),
    ("sweep", "seeds"): ([*_SWEEP, "--seeds", "0"], r"argument --seeds: a count of seeds must be "
                                                    r">= 1 \(or a list '1,2,7'\), got '0'"),
    ("sweep", "until"): ([*_SWEEP, "--until", "0"], r"argument --until: must be longer than 0 s, "
                                                    r"got '0'"),
    ("sweep", "values"): ([*_SWEEP, "--set", "x"], r"--set: expected KEY=VALUE .*got 'x'"),
    ("sweep", "workers"): ([*_SWEEP, "--workers", "0"], r"argument --workers: must be >= 1, "
                                                        r"got '0'"),
    ("sweep", "scheduler"): ([*_SWEEP, "--scheduler"], r"argument --scheduler: expected one "
                                                       r"argument"),
    ("sweep", "out"): ([*_SWEEP, "--out", "{dir}"], r"--out must be a file name \(new or "
                                                    r"existing\), got '.*': it is an existing "
                                                    r"directory"),
    ("sweep", "format"): ([*_SWEEP, "--format", "xls"], r"argument --format: invalid choice: "
                                                        r"'xls'"),
    ("sweep", "confidence"): ([*_SWEEP, "--confidence", "1.5"], r"--confidence must be between "
                                                                r"0 and 1, got 1.5"),
    ("sweep", "no_progress"): ([*_SWEEP, "--no-progress=1"], r"argument --no-progress: ignored "
                                                             r"explicit argument '1'"),
    ("check", "file"): (["check", "nowhere.toml"], r"nowhere.toml: no such file"),
    ("course", "action"): (["course", "publish"], r"argument ACTION: invalid choice: 'publish' "
                                                  r"\(choose from 'build', 'grade', 'sync'\)"),
    ("course build", "out"): (["course", "build"], r"the following arguments are required: OUT"),
    ("course build", "masters"): (["course", "build", "{dir}/out", "--masters", "nowhere"],
                                  r"masters folder 'nowhere' does not exist"),
    ("course build", "lessons"): (["course", "build", "{dir}/out", "--lesson", "99_none"],
                                  r"lessons \['99_none'\] have no master in .*; masters: "
                                  r"00_start_here"),
    ("course grade", "lesson"): (["course", "grade", "nowhere", "subs"],
                                 r"lesson folder 'nowhere' does not exist"),
    ("course grade", "submissions"): (["course", "grade", "{dir}"], r"the following arguments "
                                                                    r"are required: SUBMISSIONS"),
    ("course grade", "out"): (["course", "grade", "{dir}", "{dir}", "--out"],
                              r"argument --out: expected one argument"),
    ("course grade", "jobs"): (["course", "grade", "x", "y", "--jobs", "0"],
                               r"argument --jobs: must be >= 1, got '0'"),
    ("course grade", "timeout"): (["course", "grade", "x", "y", "--timeout", "0"],
                                  r"argument --timeout: must be >= 1, got '0'"),
    ("course sync", "masters"): (["course", "sync", "--masters", "nowhere"],
                                 r"masters folder 'nowhere' does not exist"),
    ("course sync", "notebooks"): (["course", "sync", "--notebooks", "nowhere", "--no-execute"],
                                   r"notebooks folder 'nowhere' does not exist"),
    ("course sync", "lessons"): (["course", "sync", "--lesson"],
                                 r"argument --lesson: expected one argument"),
    ("course sync", "no_execute"): (["course", "sync", "--no-execute=1"],
                                    r"argument --no-execute: ignored explicit argument '1'"),
    ("course sync", "timeout"): (["course", "sync", "--timeout", "0"],
                                 r"argument --timeout: must be >= 1, got '0'"),
}


@pytest.mark.parametrize(("argv", "match"), list(CLI.values()),
                         ids=[f"{c}.{d}" for c, d in CLI])
def test_cli_bad_input_table(argv, match, tmp_path, capsys) -> None:
    taken = tmp_path / "taken"
    taken.write_text("x")
    argv = [a.format(file=taken, dir=tmp_path) for a in argv]
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    assert code == 2
    assert re.search(match, capsys.readouterr().err)


# --------------------------------------------------------------------------------------------------
# scenario files (TOML)
# --------------------------------------------------------------------------------------------------


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml(v)}' for k, v in value.items()) + " }"
    raise TypeError(value)


_FILE = "[functions.f]\nduration_s = 0.1\n"
# Where a file says it differently from Python: key -> (value, message).
TOML_ONLY = {
    ("simulation", "era"): ("1999", r"era must be one of \['2018', '2020', 'today'\], "
                                    r"got '1999'"),
    ("simulation", "seed"): (-1, r"seed must be a whole number >= 0, got -1"),
    ("simulation", "until"): ("soon", r"cannot read 'soon' as a duration"),
    ("simulation", "name"): (5, r"name must be a non-empty text, got 5"),
    ("simulation", "description"): ("", r"description must be a non-empty text, got ''"),
    ("platform", "scaling"): ("fast", r"key 'platform.scaling': must be a table, got 'fast'"),
    ("sources", "type"): ("bogus", r"type must be one of \[.*\], got 'bogus'"),
    ("sources", "target"): (5, r"target must be a function name or a non-empty list of function "
                               r"names, got 5"),
    ("sources", "name"): ("", r"name must be a non-empty text, got ''"),
    ("actions", "at"): (-1, r"key 'actions.0.at': a duration must be a finite number of seconds "
                            r">= 0, got -1"),
    ("actions", "function"): ("g", r"key 'actions.0.function': no function named 'g'; "
                                   r"functions: \['f'\]"),
    ("sweep", "grid"): ({"function.memory_mb": 512}, r"key 'sweep.grid.function.memory_mb': "
                                                     r"must be a non-empty list of values, "
                                                     r"got 512"),
    ("sweep", "seeds"): (0, r"key 'sweep.seeds': must be a count >= 1 or a list"),
    ("sweep", "until"): ("soon", r"key 'sweep.until': cannot read 'soon' as a duration"),
    ("sweep", "metrics"): ("cold", r"key 'sweep.metrics': must be a list of names, got 'cold'"),
    ("sweep", "seed_mode"): ("fresh", r"key 'sweep.seed_mode': must be one of .* got 'fresh'"),
    ("sweep", "record"): ("rows", r"key 'sweep.record': must be one of .* got 'rows'"),
}


def _lines(entry: dict) -> str:
    return "".join(f"{k} = {_toml(v)}\n" for k, v in entry.items())


def _toml_cases():
    for (section, key), (value, match) in TOML_ONLY.items():
        if section == "simulation":
            text = f"[simulation]\n{key} = {_toml(value)}\n{_FILE}"
        elif section == "platform":
            text = f"[platform]\n{key} = {_toml(value)}\n{_FILE}"
        elif section == "sources":
            entry = {"type": "poisson", "target": "f", "rate_per_s": 1, key: value}
            text = _FILE + "[[sources]]\n" + _lines(entry)
        elif section == "actions":
            entry = {"at": 10, "function": "f", "memory_mb": 256, key: value}
            text = _FILE + "[[actions]]\n" + _lines(entry)
        else:
            spec = {"grid": {"function.memory_mb": [256, 512]}, key: value}
            grid = spec.pop("grid")
            text = (_FILE + "[sweep]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in spec.items())
                    + "[sweep.grid]\n" + "".join(f'"{k}" = {_toml(v)}\n' for k, v in grid.items()))
        yield (section, key), text, match
    for key, (value, match) in RULES.items():
        if ("platform", key) not in TOML_ONLY:
            yield ("platform", key), f"[platform]\n{key} = {_toml(value)}\n{_FILE}", match
    for key, (value, match) in FUNCTION.items():
        if key not in ("name", "handler"):
            yield ("functions", key), f"[functions.f]\n{key} = {_toml(value)}\n", match
    types = {cls.__name__: cls for cls in simlab.aws.scenario_files.source_types().values()}
    for name, table in SOURCES.items():
        kind = name.lower()
        for key in inspect.signature(types[name]).parameters:
            if key == "name":
                continue  # a file's name key: ("sources", "name")
            value, match = table[key]
            entry = {"type": kind, "target": "f", **REQUIRED[name], key: value}
            text = _FILE + "[[sources]]\n" + _lines(entry)
            yield (f"sources.{kind}", key), text, match


TOML = list(_toml_cases())


@pytest.mark.parametrize(("text", "match"), [(t, m) for _, t, m in TOML],
                         ids=[f"{s}.{k}" for (s, k), _, _ in TOML])
def test_toml_bad_input_table(text, match) -> None:
    from simlab.aws.scenario_sweeps import sweep_spec

    scenario = loads(text, "bad.toml")
    with pytest.raises(ScenarioFileError, match=match) as info:
        scenario.build()
        _ = scenario.until_s
        if "sweep" in scenario.data:
            sweep_spec(scenario)
    assert info.value.file == "bad.toml" and info.value.key is not None


# --------------------------------------------------------------------------------------------------
# coverage: a public parameter without an entry fails
# --------------------------------------------------------------------------------------------------


def _parameters(fn) -> list[str]:
    out = []
    for p in inspect.signature(fn).parameters.values():
        if p.name in ("self", "sim"):
            continue
        out.append(f"**{p.name}" if p.kind is p.VAR_KEYWORD else p.name)
    return out


def test_every_public_parameter_has_an_entry() -> None:
    import dataclasses

    from simlab.aws.scenario_files import _SIMULATION_KEYS, rule_names, source_types
    from simlab.aws.scenario_sweeps import _SWEEP_KEYS
    from simlab.aws.sources.invoke_async import AsyncConfig
    from simlab.cli import build_parser
    from simlab.core.config import FunctionConfig
    from simlab.core.result import Result

    python = {key for key, _, _ in PYTHON}
    missing = []
    wanted = {
        "Simulation": _parameters(simlab.Simulation.__init__) + rule_names() + ["keep_alive"],
        "add_function": _parameters(simlab.Simulation.add_function)
        + [f.name for f in dataclasses.fields(FunctionConfig)],
        "configure_async": _parameters(simlab.Simulation.configure_async)
        + [f.name for f in dataclasses.fields(AsyncConfig)],
        "run": _parameters(simlab.Simulation.run),
        "bill": _parameters(Result.bill),
        "logs": _parameters(Result.logs),
        "metrics": _parameters(Result.metrics),
    }
    for cls in set(source_types().values()):
        wanted[cls.__name__] = _parameters(cls)
    for what, params in wanted.items():
        missing += [f"{what}({p})" for p in params if (what, p) not in python]

    def commands(parser, prefix=""):
        """Every (command path, sub-parser) pair, nested actions such as ``course build`` too."""
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    path = f"{prefix} {name}".strip()
                    yield path, sub
                    yield from commands(sub, path)

    for command, sub in commands(build_parser()):
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction) and action.dest == "command":
                continue
            if action.dest != "help" and (command, action.dest) not in CLI:
                missing.append(f"simlab {command} {action.dest}")

    toml = {key for key, _, _ in TOML}
    keys = ([("simulation", k) for k in _SIMULATION_KEYS] + [("platform", k) for k in rule_names()]
            + [("functions", f.name) for f in dataclasses.fields(FunctionConfig)
               if f.name not in ("name", "handler")]
            + [("sources", k) for k in ("type", "target", "name")]
            + [("actions", k) for k in ("at", "function")] + [("sweep", k) for k in _SWEEP_KEYS])
    for kind, cls in source_types().items():
        if kind == cls.__dict__.get("kind", "").lower() or kind in (
                "fixed", "s3", "sns", "apigateway", "sdk", "trace", "kinesis", "dynamodb", "sqs"):
            keys += [(f"sources.{cls.__name__.lower()}", p) for p in _parameters(cls)
                     if p != "name"]
    missing += [f"TOML {s}.{k}" for s, k in keys if (s, k) not in toml]
    assert not missing, f"public parameters without a bad-input entry: {sorted(set(missing))}"
