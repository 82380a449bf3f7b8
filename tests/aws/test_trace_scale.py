"""The trace-scale path of benchmarks/bench_trace_scale.py, end to end on a small trace: write the
2019-format files, read them with simlab.sources.traces, replay them with record="summary"."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simlab.aws.sources.traces import read_azure_2019_durations, read_azure_2019_invocations

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_trace_scale.py"


@pytest.fixture(scope="module")
def bench():
    # Run as a script, the benchmark finds its neighbour _calibrate.py on sys.path[0].
    sys.path.insert(0, str(BENCH.parent))
    try:
        spec = importlib.util.spec_from_file_location("bench_trace_scale", BENCH)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH.parent))
    return module


@pytest.fixture(scope="module")
def files(bench, tmp_path_factory) -> dict[str, Path]:
    return bench.synthesise_day(tmp_path_factory.mktemp("trace"), n_functions=8, minutes=60,
                                seed=3, per_day=200_000)


def test_files_have_the_2019_format(bench, files) -> None:
    header = pd.read_csv(files["invocations"], nrows=0).columns.tolist()
    assert header == ["HashOwner", "HashApp", "HashFunction", "Trigger",
                      *[str(m) for m in range(1, 61)]]
    counts = read_azure_2019_invocations(files["invocations"])
    assert counts.counts.shape == (8, 60)
    assert set(counts.functions["trigger"]) <= set(bench.TRIGGERS)
    assert counts.functions["func"].str.fullmatch("[0-9a-f]{64}").all()
    durations = read_azure_2019_durations(files["durations"])
    pct = durations[["p0_ms", "p1_ms", "p25_ms", "p50_ms", "p75_ms", "p99_ms", "p100_ms"]]
    assert (np.diff(pct.to_numpy(), axis=1) >= 0).all()


def test_timer_functions_fire_on_a_period(bench, tmp_path) -> None:
    paths = bench.synthesise_day(tmp_path, n_functions=60, minutes=120, seed=1)
    counts = read_azure_2019_invocations(paths["invocations"])
    timers = counts.counts[(counts.functions["trigger"] == "timer").to_numpy()]
    assert len(timers) > 0
    for row in timers:
        minutes = np.flatnonzero(row)
        assert set(row[minutes]) == {1}
        assert len(set(np.diff(minutes))) == 1 and np.diff(minutes)[0] in bench.TIMER_PERIODS


@pytest.mark.parametrize("via", ["trace", "replay"])
def test_replay_sends_every_counted_invocation_to_its_function(bench, files, via) -> None:
    sim, info = bench.replay_simulation(files, seed=2, via=via)
    result = sim.run(info["minutes"] * 60.0, record="summary")
    counts = info["counts"].counts.sum(axis=1)
    assert info["invocations"] == counts.sum() > 100
    assert result.summary()["requests"] == info["invocations"]
    for name, n in zip(info["names"], counts, strict=True):
        assert result.summary(name)["requests"] == n


def test_replay_is_deterministic(bench, files) -> None:
    a = bench.replay_simulation(files, seed=2)[0].run(3600.0, record="summary").summary()
    b = bench.replay_simulation(files, seed=2)[0].run(3600.0, record="summary").summary()
    pd.testing.assert_series_equal(a, b)


def test_benchmark_main_runs(bench, capsys) -> None:
    assert bench.main(["--functions", "5", "--minutes", "30", "--per-day", "20000"]) == 0
    out = capsys.readouterr().out
    assert "5 functions, 30 minutes" in out and "requests/s" in out
    assert re.search(r"^calibration: bare SimPy [\d,]+ timeouts/s", out, re.M)
    assert re.search(r"^calibration after: bare SimPy [\d,]+ timeouts/s", out, re.M)
    assert re.search(r"relative to the calibration: [\d.]+ M SimPy timeouts; [\d.]+ SimPy "
                     r"timeouts per request", out)
