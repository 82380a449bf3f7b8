"""Trace replay: the Azure Functions 2021 per-invocation and 2019 per-minute formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simlab
from simlab.sources import TraceReplay, add_trace_functions
from simlab.sources.replay_trace import trace_keys
from simlab.sources.traces import load_azure_2021_sample, read_azure_2019_invocations


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
