"""Trace replay: the Azure Functions 2021 per-invocation and 2019 per-minute formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simlab
from simlab.aws.sources import TraceReplay, add_trace_functions, replay_trace
from simlab.aws.sources.replay_trace import key_codes, trace_keys
from simlab.aws.sources.traces import (
    MinuteCounts,
    arrivals_from_counts,
    attach_durations,
    load_azure_2021_sample,
    read_azure_2019_invocations,
)
from simlab.core.dists import QuantileDistribution
from simlab.core.random_streams import RandomStreams


@pytest.fixture(scope="module")
def trace() -> pd.DataFrame:
    return load_azure_2021_sample()


def test_2021_trace_replays_every_invocation_at_its_time_with_its_durations(
        trace: pd.DataFrame) -> None:
    sim = simlab.Simulation(seed=1)
    mapping = add_trace_functions(sim, trace, by="app", memory_mb=256, timeout_s=900)
    assert len(mapping) == trace["app"].nunique() == 13
    sim.add_source(TraceReplay(trace, mapping=mapping, by="app"), target=sorted(mapping.values()))
    inv = sim.run(until_s=1300).invocations
    assert len(inv) == 199
    np.testing.assert_allclose(np.sort(inv["arrival_s"].to_numpy()), trace["arrival_s"])
    # each function's run times come from its own recorded durations
    keys = trace_keys(trace, "app")
    for key, name in mapping.items():
        recorded = set(np.round(trace.loc[keys == key, "duration_s"], 9))
        ran = inv.loc[(inv["function"] == name) & (inv["status"] == "ok"), "duration_ms"]
        assert set(np.round(ran / 1000.0, 9)) <= recorded
    per_fn = inv.groupby("function", observed=True).size()
    assert per_fn.to_dict() == {mapping[k]: int(v) for k, v in keys.value_counts().items()}


@pytest.mark.parametrize("invocation_type", ["sync", "async"])
def test_each_invocation_runs_for_its_recorded_duration(trace: pd.DataFrame,
                                                        invocation_type: str) -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("all", duration_s=0.1, timeout_s=900)
    sim.add_source(TraceReplay(trace, invocation_type=invocation_type), target="all")
    inv = sim.run(until_s=1300).invocations.sort_values("arrival_s", kind="stable")
    np.testing.assert_allclose(inv["duration_ms"].to_numpy() / 1000.0, trace["duration_s"],
                               atol=1e-9)
    drawn = simlab.Simulation(seed=1)
    drawn.add_function("all", duration_s=0.1, timeout_s=900)
    drawn.add_source(TraceReplay(trace, use_durations=False), target="all")
    assert (drawn.run(until_s=1300).invocations["duration_ms"] == 100.0).all()


def test_mapping_by_function_with_skip_and_a_callable(trace: pd.DataFrame) -> None:
    busiest = trace["func"].astype(str).value_counts().index[0]
    sim = simlab.Simulation(seed=1)
    sim.add_function("hot", duration_s=0.1)
    replay = TraceReplay(trace, mapping=lambda k: "hot" if k == busiest else None,
                         unmapped="skip")
    sim.add_source(replay, target="hot")
    inv = sim.run(until_s=1300).invocations
    assert len(inv) == int((trace["func"].astype(str) == busiest).sum())


def test_unmapped_keys_are_an_error_by_default(trace: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="no function for 12 of 13 trace keys"):
        TraceReplay(trace, mapping={trace["app"].iloc[0]: "f"}, by="app")


def test_without_mapping_everything_goes_to_one_target(trace: pd.DataFrame) -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("all", duration_s=0.1)
    sim.add_source(TraceReplay(trace, time_offset_s=600.0, invocation_type="async"),
                   target="all")
    inv = sim.run(until_s=1300).invocations
    first = inv[inv["attempt"] == 1]
    assert len(first) == int((trace["arrival_s"] >= 600).sum())
    assert (inv["invocation_type"] == "async").all()
    # recorded runs longer than the 3 s timeout time out, and are retried as async events
    assert (inv["attempt"] > 1).sum() > 0
    with pytest.raises(ValueError, match="exactly one target"):
        sim2 = simlab.Simulation(seed=1)
        sim2.add_function("a")
        sim2.add_function("b")
        sim2.add_source(TraceReplay(trace), target=["a", "b"])


def _counts_file(tmp_path: Path) -> Path:
    rows = [
        ["o1", "app1", "fn1", "http", 3, 0, 2],
        ["o1", "app1", "fn2", "timer", 1, 1, 1],
    ]
    df = pd.DataFrame(rows, columns=["HashOwner", "HashApp", "HashFunction", "Trigger",
                                     "1", "2", "3"])
    path = tmp_path / "invocations_per_function_md.anon.d01.csv"
    df.to_csv(path, index=False)
    return path


def test_2019_counts_are_replayed_minute_by_minute(tmp_path: Path) -> None:
    counts = read_azure_2019_invocations(_counts_file(tmp_path))
    sim = simlab.Simulation(seed=1)
    sim.add_function("web", duration_s=0.1)
    sim.add_function("cron", duration_s=0.1)
    replay = TraceReplay(counts, mapping={"fn1": "web", "fn2": "cron"}, invocation_type="auto",
                         spread="even")
    sim.add_source(replay, target=["web", "cron"])
    inv = sim.run(until_s=180).invocations
    web = inv[inv["function"] == "web"]
    cron = inv[inv["function"] == "cron"]
    # fn1: 3 in minute 1 (at 10, 30, 50 s), none in minute 2, 2 in minute 3 (at 135, 165 s)
    assert web["arrival_s"].tolist() == pytest.approx([10.0, 30.0, 50.0, 135.0, 165.0])
    assert cron["arrival_s"].tolist() == pytest.approx([30.0, 90.0, 150.0])
    assert (web["invocation_type"] == "sync").all()  # http trigger
    assert (cron["invocation_type"] == "async").all()  # timer trigger


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"trace": [1, 2, 3]}, "trace must be a replay table"),
    ({"trace": pd.DataFrame({"arrival_s": [1.0]})}, "missing columns"),
    ({"by": "owner"}, "by must be one of"),
    ({"unmapped": "ignore"}, "unmapped must be"),
    ({"invocation_type": "poll"}, "invocation_type must be one of"),
    ({"spread": "random"}, "spread must be"),
    ({"mapping": 42}, "mapping must be a dict"),
    ({"time_offset_s": float("inf")}, "time_offset_s"),
    ({"use_durations": 1}, "use_durations"),
])
def test_bad_replay_configuration_is_rejected(trace: pd.DataFrame, kwargs: dict,
                                              match: str) -> None:
    args = {"trace": trace} | kwargs
    with pytest.raises((ValueError, TypeError), match=match):
        TraceReplay(**args)


def test_unsorted_trace_and_missing_durations_are_rejected(trace: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="sorted"):
        TraceReplay(trace.iloc[::-1])
    sim = simlab.Simulation(seed=1)
    with pytest.raises(ValueError, match="no duration_s column"):
        add_trace_functions(sim, trace.drop(columns="duration_s"))
    with pytest.raises(ValueError, match="sets duration_s from the trace"):
        add_trace_functions(sim, trace, duration_s=1.0)


@pytest.mark.parametrize("by", ["func", "app", "app_func"])
def test_key_codes_give_the_keys_of_trace_keys(trace: pd.DataFrame, by: str) -> None:
    codes, keys = key_codes(trace, by)
    assert [keys[c] for c in codes] == trace_keys(trace, by).tolist()
    assert len(set(keys)) == len(keys)


def test_key_codes_merge_values_with_the_same_text() -> None:
    table = pd.DataFrame({"arrival_s": [0.0, 1.0, 2.0], "app": [1, "1", "x"],
                          "func": ["f", "f", "g"]})
    codes, keys = key_codes(table, "app_func")
    assert keys == [("1", "f"), ("x", "g")] and codes.tolist() == [0, 0, 1]


def _day(seed: int = 0) -> MinuteCounts:
    rng = np.random.default_rng(seed)
    n, minutes = 12, 90
    counts = rng.poisson(rng.uniform(0.0, 6.0, (n, 1)) * np.ones((1, minutes)))
    counts[3] = 0  # a function without invocations
    functions = pd.DataFrame({"owner": ["o"] * n, "app": [f"app{i % 4}" for i in range(n)],
                              "func": [f"fn{i:02d}" for i in range(n)],
                              "trigger": ["http", "timer", "queue"] * 4})
    return MinuteCounts(functions, counts.astype(np.int64))


@pytest.mark.parametrize(("by", "spread", "offset", "block"),
                         [("app_func", "uniform", 0.0, 32_768), ("app", "even", 1234.5, 100),
                          ("func", "uniform", 600.0, 7)])
def test_counts_replay_like_the_table_drawn_from_the_same_streams(
        monkeypatch: pytest.MonkeyPatch, by: str, spread: str, offset: float,
        block: int) -> None:
    monkeypatch.setattr(replay_trace, "BLOCK", block)  # blocks of rows and of minutes
    counts = _day()
    durations = {(a, f): QuantileDistribution([0, 0.5, 1], [0.05, 0.2 + i / 10, 4.0])
                 for i, (a, f) in enumerate(zip(counts.functions["app"],
                                                counts.functions["func"], strict=True))}
    keys = sorted(set(key_codes(counts.functions, by)[1]))
    mapping = {k: f"f{i % 5}" for i, k in enumerate(keys) if i % 7 != 6}  # some skipped

    def run(trace: pd.DataFrame | MinuteCounts, **extra: object) -> simlab.Result:
        sim = simlab.Simulation(seed=3, keep_alive_s=60)
        for i in range(5):
            sim.add_function(f"f{i}", duration_s=0.1, timeout_s=2)
        sim.add_source(TraceReplay(trace, mapping=mapping, by=by, unmapped="skip",
                                   invocation_type="auto", time_offset_s=offset, **extra),
                       target=[f"f{i}" for i in range(5)])
        return sim.run(until_s=3600)

    streams = RandomStreams(3)
    table = attach_durations(
        arrivals_from_counts(counts, streams.generator("source", "trace", "minutes"),
                             spread=spread),
        durations, streams.generator("source", "trace", "durations"))
    from_counts = run(counts, spread=spread, durations=durations)
    from_table = run(table)
    assert len(from_counts.invocations) > 1000
    pd.testing.assert_frame_equal(from_counts.invocations, from_table.invocations)
    assert list(from_counts.outputs) == list(from_table.outputs)
    assert (from_counts.invocations["invocation_type"] == "async").any()


def test_counts_errors_are_raised_when_the_replay_is_made() -> None:
    counts = _day()
    with pytest.raises(ValueError, match="no function for 10 of 11 trace keys"):
        TraceReplay(counts, mapping={"fn00": "f"})  # fn03 has no invocations: not a key
    with pytest.raises(ValueError, match="no duration distribution for 11 of 11 functions"):
        TraceReplay(counts, durations={})
