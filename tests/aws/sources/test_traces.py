"""Azure Functions trace readers: the shipped 2021 sample and synthesized 2019-format files."""

from __future__ import annotations

import math
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simlab.aws.sources.traces import (
    AZURE_2019_DURATION_COLUMNS,
    AZURE_2019_MEMORY_COLUMNS,
    MinuteCounts,
    arrivals_from_counts,
    attach_durations,
    duration_distributions,
    load_azure_2021_sample,
    memory_distributions,
    read_azure_2019_durations,
    read_azure_2019_invocations,
    read_azure_2019_memory,
    read_azure_2021,
)
from simlab.core.dists import QuantileDistribution

# ---- 2021 sample ---------------------------------------------------------------------------------


def test_sample_loads_with_its_real_counts() -> None:
    df = load_azure_2021_sample()
    assert list(df.columns) == ["arrival_s", "duration_s", "app", "func"]
    assert len(df) == 199
    assert df["app"].nunique() == 13 and df["func"].nunique() == 31
    assert (df["arrival_s"] >= 0).all() and (df["duration_s"] >= 0).all()
    assert df["arrival_s"].is_monotonic_increasing
    # about 21 minutes of arrivals
    assert 19 * 60 < df["arrival_s"].max() < 21 * 60


def test_sample_arrival_is_end_minus_duration() -> None:
    raw = pd.read_csv(
        files("simlab").joinpath("data", "azure_functions_2021", "Azure2021_200.csv").open()
    )
    df = load_azure_2021_sample()
    want = np.sort((raw["end_timestamp"] - raw["duration"]).to_numpy())
    np.testing.assert_allclose(df["arrival_s"].to_numpy(), want)
    key = raw.assign(a=raw.end_timestamp - raw.duration).sort_values("a", kind="stable")
    assert list(df["func"].astype(str)) == list(key["func"])


def test_sample_licence_note_is_shipped() -> None:
    note = files("simlab").joinpath("data", "azure_functions_2021", "README.md").read_text()
    assert "CC BY 4.0" in note and "SOSP" in note and "invitro" in note


def test_2021_reader_start_at_zero_and_errors(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("app,func,end_timestamp,duration\na,f,10.0,2.0\nb,g,7.0,1.0\n")
    df = read_azure_2021(p, start_at_zero=True)
    assert df["arrival_s"].tolist() == [0.0, 2.0] and df["app"].astype(str).tolist() == ["b", "a"]
    bad = tmp_path / "bad.csv"
    bad.write_text("app,end_timestamp\na,1\n")
    with pytest.raises(ValueError) as err:
        read_azure_2021(bad)
    assert "bad.csv" in str(err.value) and "'func'" in str(err.value)
    assert "'duration'" in str(err.value)
    neg = tmp_path / "neg.csv"
    neg.write_text("app,func,end_timestamp,duration\na,f,1.0,-2\n")
    with pytest.raises(ValueError, match="duration"):
        read_azure_2021(neg)
    nan = tmp_path / "nan.csv"
    nan.write_text("app,func,end_timestamp,duration\na,f,x,2\n")
    with pytest.raises(ValueError, match="end_timestamp"):
        read_azure_2021(nan)


# ---- 2019 per-minute counts ----------------------------------------------------------------------


def _write_counts(path: Path, counts: np.ndarray) -> None:
    n_func, n_min = counts.shape
    df = pd.DataFrame(
        {
            "HashOwner": [f"o{i % 2}" for i in range(n_func)],
            "HashApp": [f"app{i // 2}" for i in range(n_func)],
            "HashFunction": [f"f{i}" for i in range(n_func)],
            "Trigger": ["http", "timer", "queue", "http"][:n_func],
        }
    )
    minutes = pd.DataFrame(counts, columns=[str(m) for m in range(1, n_min + 1)])
    pd.concat([df, minutes], axis=1).to_csv(path, index=False)


@pytest.fixture
def day_counts() -> np.ndarray:
    rng = np.random.default_rng(2019)
    counts = rng.poisson([[0.3], [2.0], [8.0], [0.0]], size=(4, 1440))
    counts[3, 700] = 5  # a function that runs once in the day, five times
    return counts


@pytest.mark.parametrize("spread", ["uniform", "even"])
def test_2019_counts_round_trip_per_minute(tmp_path: Path, day_counts, spread) -> None:
    path = tmp_path / "invocations_per_function_md.anon.d01.csv"
    _write_counts(path, day_counts)
    mc = read_azure_2019_invocations(path)
    np.testing.assert_array_equal(mc.counts, day_counts)
    assert mc.n_minutes == 1440 and mc.total() == day_counts.sum()
    assert mc.functions["func"].tolist() == ["f0", "f1", "f2", "f3"]
    arr = arrivals_from_counts(mc, np.random.default_rng(1), spread=spread)
    assert len(arr) == day_counts.sum()
    assert arr["arrival_s"].is_monotonic_increasing
    assert arr["arrival_s"].min() >= 0 and arr["arrival_s"].max() < 86400
    for i in range(4):
        t = arr.loc[arr["func"] == f"f{i}", "arrival_s"].to_numpy()
        per_minute = np.bincount((t // 60).astype(int), minlength=1440)
        np.testing.assert_array_equal(per_minute, day_counts[i])
    assert set(arr.loc[arr["func"] == "f1", "trigger"].astype(str)) == {"timer"}


def test_even_spread_centres_invocations_in_their_minute(tmp_path: Path) -> None:
    counts = np.zeros((1, 3), dtype=int)
    counts[0, 1] = 4
    counts[0, 2] = 1
    path = tmp_path / "c.csv"
    _write_counts(path, counts)
    arr = arrivals_from_counts(
        read_azure_2019_invocations(path), np.random.default_rng(0), spread="even", offset_s=86400
    )
    want = [86400 + 60 + x for x in (7.5, 22.5, 37.5, 52.5)] + [86400 + 120 + 30.0]
    assert arr["arrival_s"].tolist() == want


def test_uniform_spread_is_deterministic_per_seed(tmp_path: Path, day_counts) -> None:
    path = tmp_path / "c.csv"
    _write_counts(path, day_counts)
    mc = read_azure_2019_invocations(path)
    a = arrivals_from_counts(mc, np.random.default_rng(5))
    b = arrivals_from_counts(mc, np.random.default_rng(5))
    c = arrivals_from_counts(mc, np.random.default_rng(6))
    pd.testing.assert_frame_equal(a, b)
    assert not np.array_equal(a["arrival_s"].to_numpy(), c["arrival_s"].to_numpy())
    # Seconds within the minute are uniform: mean 30 s, sd 60/sqrt(12) / sqrt(n).
    within = a["arrival_s"].to_numpy() % 60
    assert abs(within.mean() - 30) < 4 * (60 / math.sqrt(12)) / math.sqrt(within.size)


def test_subset_keeps_the_chosen_functions(tmp_path: Path, day_counts) -> None:
    path = tmp_path / "c.csv"
    _write_counts(path, day_counts)
    mc = read_azure_2019_invocations(path)
    busy = mc.subset(mc.counts.sum(axis=1) > 1000)
    assert busy.functions["func"].tolist() == ["f1", "f2"]
    np.testing.assert_array_equal(busy.counts, day_counts[[1, 2]])


def test_2019_counts_errors(tmp_path: Path) -> None:
    gap = tmp_path / "gap.csv"
    gap.write_text("HashOwner,HashApp,HashFunction,Trigger,1,2,4\no,a,f,http,1,2,3\n")
    with pytest.raises(ValueError, match=r"gap\.csv.*\['3'\]"):
        read_azure_2019_invocations(gap)
    nokey = tmp_path / "nokey.csv"
    nokey.write_text("HashOwner,HashApp,Trigger,1\no,a,http,1\n")
    with pytest.raises(ValueError, match=r"nokey\.csv.*'HashFunction'"):
        read_azure_2019_invocations(nokey)
    neg = tmp_path / "neg.csv"
    neg.write_text("HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f,http,1,-2\n")
    with pytest.raises(ValueError, match="'2'"):
        read_azure_2019_invocations(neg)
    with pytest.raises(ValueError, match="spread"):
        arrivals_from_counts(
            MinuteCounts(
                pd.DataFrame({"app": ["a"], "func": ["f"], "trigger": ["t"]}),
                np.ones((1, 2), dtype=np.int64),
            ),
            np.random.default_rng(0),
            spread="poisson",  # type: ignore[arg-type]
        )


# ---- 2019 durations and memory -------------------------------------------------------------------


def test_quantile_distribution_matches_its_quantiles() -> None:
    q = QuantileDistribution([0, 0.01, 0.25, 0.5, 0.75, 0.99, 1], [1, 2, 5, 10, 20, 80, 100])
    n = 40_000
    x = q.sample(np.random.default_rng(3), n)
    assert x.min() >= 1 and x.max() <= 100
    for p, v in [(0.25, 5), (0.5, 10), (0.75, 20), (0.99, 80)]:
        # the fraction below the p-quantile is binomial(n, p) / n
        assert abs((x < v).mean() - p) < 4 * math.sqrt(p * (1 - p) / n)
    assert abs(x.mean() - q.mean()) < 4 * x.std() / math.sqrt(n)
    assert q.quantile(0.375) == pytest.approx(7.5)
    flat_below = QuantileDistribution([0.5, 1], [3, 4])
    assert flat_below.quantile(0.1) == 3.0 and flat_below.mean() == pytest.approx(3.25)


def test_quantile_distribution_rejects_bad_points() -> None:
    with pytest.raises(ValueError, match="non-decreasing"):
        QuantileDistribution([0, 0.5, 1], [1, 3, 2])
    with pytest.raises(ValueError, match="increase"):
        QuantileDistribution([0, 0.5, 0.5], [1, 2, 3])
    with pytest.raises(ValueError, match="same"):
        QuantileDistribution([0, 1], [1, 2, 3])


def _durations_frame() -> pd.DataFrame:
    rows = [
        ["o", "app0", "f0", 120, 50, 10, 900, 10, 12, 50, 100, 150, 800, 900],
        ["o", "app0", "f1", 2000, 7, 1500, 3000, 1500, 1500, 1800, 2000, 2200, 2900, 3000],
    ]
    return pd.DataFrame(rows, columns=list(AZURE_2019_DURATION_COLUMNS))


def test_durations_file_to_distributions_in_seconds(tmp_path: Path) -> None:
    path = tmp_path / "function_durations_percentiles.anon.d01.csv"
    _durations_frame().to_csv(path, index=False)
    d = read_azure_2019_durations(path)
    assert list(d.columns[:7]) == [
        "owner",
        "app",
        "func",
        "average_ms",
        "count",
        "minimum_ms",
        "maximum_ms",
    ]
    assert d["p50_ms"].tolist() == [100, 2000]
    dists = duration_distributions(d)
    assert set(dists) == {("app0", "f0"), ("app0", "f1")}
    assert dists[("app0", "f1")].quantile(0.5) == pytest.approx(2.0)
    x = dists[("app0", "f0")].sample(np.random.default_rng(0), 1000)
    assert 0.010 <= x.min() and x.max() <= 0.900


def test_attach_durations_gives_the_2021_shape(tmp_path: Path) -> None:
    counts = np.array([[3, 0, 2], [1, 1, 0]])
    path = tmp_path / "c.csv"
    _write_counts(path, counts)
    arr = arrivals_from_counts(read_azure_2019_invocations(path), np.random.default_rng(0))
    dists = duration_distributions(_durations_from_file(tmp_path))
    replay = attach_durations(arr, dists, np.random.default_rng(0))
    assert list(replay.columns[:4]) == ["arrival_s", "duration_s", "app", "func"]
    f1 = replay.loc[replay["func"] == "f1", "duration_s"]
    assert f1.between(1.5, 3.0).all() and len(f1) == 2
    with pytest.raises(ValueError, match="no duration distribution"):
        attach_durations(arr, {("app0", "f0"): dists[("app0", "f0")]}, np.random.default_rng(0))


def _durations_from_file(tmp_path: Path) -> pd.DataFrame:
    path = tmp_path / "durations.csv"
    _durations_frame().to_csv(path, index=False)
    return read_azure_2019_durations(path)


def test_durations_file_errors(tmp_path: Path) -> None:
    path = tmp_path / "durations.csv"
    _durations_frame().drop(columns=["percentile_Average_99", "Count"]).to_csv(path, index=False)
    with pytest.raises(ValueError) as err:
        read_azure_2019_durations(path)
    assert "durations.csv" in str(err.value)
    assert "'Count'" in str(err.value) and "'percentile_Average_99'" in str(err.value)
    bad = _durations_frame()
    bad.loc[0, "percentile_Average_50"] = 5  # below the 25th percentile
    bad.to_csv(path, index=False)
    with pytest.raises(ValueError, match="f0"):
        duration_distributions(read_azure_2019_durations(path))


def test_memory_file_to_distributions(tmp_path: Path) -> None:
    rows = [
        ["o", "app0", 1440, 150, 100, 110, 130, 150, 170, 200, 230, 260],
        ["o", "app1", 20, 40, 30, 31, 35, 40, 44, 50, 55, 60],
    ]
    path = tmp_path / "app_memory_percentiles.anon.d01.csv"
    pd.DataFrame(rows, columns=list(AZURE_2019_MEMORY_COLUMNS)).to_csv(path, index=False)
    m = read_azure_2019_memory(path)
    assert m["p50_mb"].tolist() == [150, 40] and m["sample_count"].tolist() == [1440, 20]
    dists = memory_distributions(m)
    assert dists["app0"].quantile(0.5) == 150 and dists["app1"].quantile(0.0) == 30
    x = dists["app0"].sample(np.random.default_rng(0), 500)
    assert x.min() >= 100 and x.max() <= 260
    short = tmp_path / "short.csv"
    pd.DataFrame(rows, columns=list(AZURE_2019_MEMORY_COLUMNS)).drop(
        columns=["AverageAllocatedMb_pct95"]
    ).to_csv(short, index=False)
    with pytest.raises(ValueError, match=r"short\.csv.*AverageAllocatedMb_pct95"):
        read_azure_2019_memory(short)
