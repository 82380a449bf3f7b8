"""Tests of simlab.sweep: identical tables on a process pool, on a Dask cluster and in any order of
completion; failed grid points kept; seeds; confidence intervals; Pareto fronts."""

from __future__ import annotations

import concurrent.futures as cf
import math
import random
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import simlab
from simlab.aws.keep_alive_experiment import idle_memory_gb_s, keep_alive_model
from simlab.aws.sweep import (
    SerialExecutor,
    derive_seed,
    pareto_front,
    summarise,
    summary_names,
    sweep,
)

# keep_alive_s = -1 is invalid: that grid point must come back as an error row.
GRID = {"keep_alive_s": [-1, 0, 300], "rate_per_s": [0.05, 0.5]}
SEEDS = [3, 11]
KW = dict(until_s=1200.0, metrics=["requests", "cold_start_fraction", "mean_idle_environments"],
          extra_metrics={"idle_memory_gb_s": idle_memory_gb_s}, progress=False)


def _sweep(executor: cf.Executor | None, **kw) -> pd.DataFrame:
    with pytest.warns(RuntimeWarning, match="4 of 12 runs failed"):
        return sweep(keep_alive_model, GRID, SEEDS, executor=executor, **{**KW, **kw})


@pytest.fixture(scope="module")
def serial_table() -> pd.DataFrame:
    return _sweep(SerialExecutor())


class _ShuffledExecutor(cf.ThreadPoolExecutor):
    """Finishes tasks in a scrambled order: each waits a random few milliseconds first."""

    def __init__(self) -> None:
        super().__init__(max_workers=4)
        self._rng = random.Random(5)

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        delay = self._rng.random() * 0.05

        def late():
            time.sleep(delay)
            return fn(*args, **kwargs)

        return super().submit(late)


def test_table_shape_order_and_failed_points(serial_table: pd.DataFrame) -> None:
    df = serial_table
    assert list(df.columns) == ["keep_alive_s", "rate_per_s", "seed", "run_seed", "requests",
                                "cold_start_fraction", "mean_idle_environments",
                                "idle_memory_gb_s", "error"]
    # grid order (first parameter slowest), then seeds
    expected = [(k, r, s) for k in GRID["keep_alive_s"] for r in GRID["rate_per_s"] for s in SEEDS]
    assert list(df[["keep_alive_s", "rate_per_s", "seed"]].itertuples(index=False, name=None)) \
        == expected
    assert df.attrs["parameters"] == ["keep_alive_s", "rate_per_s"]
    bad = df["keep_alive_s"] == -1
    assert df.loc[bad, "error"].str.startswith("BadInput: keep_alive").all()
    assert df.loc[bad, ["requests", "cold_start_fraction"]].isna().all().all()
    assert df.loc[~bad, "error"].isna().all()
    assert (df.loc[~bad, "requests"] > 0).all()


def test_same_table_on_process_pool_and_in_any_completion_order(serial_table) -> None:
    with cf.ProcessPoolExecutor(max_workers=2) as pool:
        pd.testing.assert_frame_equal(_sweep(pool), serial_table)
    with _ShuffledExecutor() as shuffled:
        pd.testing.assert_frame_equal(_sweep(shuffled), serial_table)


def test_default_executor_is_a_local_process_pool(serial_table) -> None:
    pd.testing.assert_frame_equal(_sweep(None, max_workers=2), serial_table)


@pytest.mark.slow  # starts a two-process cluster (about 20 s)
def test_same_table_on_a_dask_local_cluster(serial_table) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        table = _sweep(client.get_executor())
        ran_on = set(client.run(lambda: 1))  # the two worker processes
    assert len(ran_on) == 2
    pd.testing.assert_frame_equal(table, serial_table)


def test_common_seeds_give_common_arrivals(serial_table) -> None:
    # Poisson arrivals do not depend on the keep-alive: with common random numbers, every
    # keep-alive sees exactly the same requests for a given rate and seed.
    ok = serial_table[serial_table["error"].isna()]
    per_point = ok.groupby(["rate_per_s", "seed"])["requests"].nunique()
    assert (per_point == 1).all()
    assert (ok["run_seed"] == ok["seed"]).all()


def test_derived_seeds_depend_only_on_the_point_and_seed() -> None:
    kw = dict(until_s=600.0, metrics=["requests"], progress=False, seed_mode="derived",
              executor=SerialExecutor())
    full = sweep(keep_alive_model, {"keep_alive_s": [0, 60], "rate_per_s": [0.2]}, [0, 1], **kw)
    part = sweep(keep_alive_model, {"keep_alive_s": [60], "rate_per_s": [0.2]}, [1], **kw)
    row = full[(full["keep_alive_s"] == 60) & (full["seed"] == 1)].reset_index(drop=True)
    pd.testing.assert_frame_equal(row, part, check_dtype=False)
    assert full["run_seed"].tolist() == [derive_seed({"keep_alive_s": k, "rate_per_s": 0.2}, s)
                                         for k in (0, 60) for s in (0, 1)]
    assert full["run_seed"].nunique() == 4


def test_derive_seed_is_canonical() -> None:
    assert derive_seed({"a": 1, "b": "x"}, 2) == derive_seed({"b": "x", "a": np.float64(1.0)}, 2)
    assert derive_seed({"a": 1}, 2) != derive_seed({"a": 2}, 2)
    assert derive_seed({"a": 1}, 2) != derive_seed({"a": 1}, 3)
    assert 0 <= derive_seed({"a": [1, 2]}, 0) < 2**63
    with pytest.raises(TypeError, match="parameter 'p'"):
        derive_seed({"p": object()}, 0)


def _no_seed(keep_alive_s: float, seed: int):
    return keep_alive_model(keep_alive_s, 0.1, seed=7)


def test_a_build_that_ignores_its_seed_is_reported() -> None:
    with pytest.warns(RuntimeWarning):
        df = sweep(_no_seed, {"keep_alive_s": [60]}, [0], executor=SerialExecutor(),
                   until_s=60.0, progress=False)
    assert "build ignored its seed" in df.loc[0, "error"]


def _memory_model(memory_mb: int, seed: int):

    sim = simlab.Simulation(seed=seed)
    sim.add_function("f", memory_mb=memory_mb, cpu_s=0.2)
    sim.add_source(simlab.sources.Poisson(rate_per_s=1.0), target="f")
    return sim


def test_a_grid_of_numpy_numbers_runs_every_point() -> None:
    # np.arange gives numpy integers: every real number is a valid parameter value.
    df = sweep(_memory_model, {"memory_mb": np.arange(256, 1025, 256)}, [0, 1],
               executor=SerialExecutor(), until_s=120.0,
               metrics=["requests", "warm_latency_p50_ms"], progress=False)
    assert df["error"].isna().all(), df["error"].dropna().tolist()
    assert sorted(set(df["memory_mb"])) == [256, 512, 768, 1024]
    # More memory, more CPU: the CPU-bound function gets faster at every step.
    means = df.groupby("memory_mb")["warm_latency_p50_ms"].mean()
    assert means.is_monotonic_decreasing and means.iloc[0] > means.iloc[-1]


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    (dict(grid={"keep_alive_s": "60"}), TypeError, "must be a list"),
    (dict(grid={"keep_alive_s": []}), ValueError, "is empty"),
    (dict(grid={"seed": [1]}), ValueError, "reserved"),
    (dict(seeds=[1, 1]), ValueError, "must not repeat"),
    (dict(seeds=[-1]), ValueError, "whole numbers >= 0"),
    (dict(seeds=0), ValueError, ">= 1"),
    (dict(metrics=["cold_starts"]), ValueError, "unknown \\['cold_starts'\\]"),
    (dict(until_s=0), ValueError, "until_s"),
    (dict(record="rows"), ValueError, "record"),
    (dict(seed_mode="fresh"), ValueError, "seed_mode"),
    (dict(grid={"keep_alive": [1]}), TypeError, "cannot take the grid's parameters"),
    (dict(build=lambda keep_alive_s, rate_per_s, seed: None), TypeError, "picklable"),
    (dict(executor="pool"), TypeError, "Executor"),
])
def test_bad_arguments_fail_before_anything_runs(kwargs, error, match) -> None:
    args = dict(build=keep_alive_model, grid={"keep_alive_s": [60], "rate_per_s": [0.1]},
                seeds=[0], until_s=60.0, progress=False)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        sweep(args.pop("build"), args.pop("grid"), **args)


def test_default_metrics_are_the_whole_summary() -> None:
    df = sweep(keep_alive_model, {"keep_alive_s": [60], "rate_per_s": [0.1]}, 1,
               executor=SerialExecutor(), until_s=300.0, progress=False)
    assert df.attrs["metrics"] == summary_names()
    assert list(df.columns) == ["keep_alive_s", "rate_per_s", "seed", "run_seed",
                                *summary_names(), "error"]


def test_progress_bar_is_shown(capsys) -> None:
    sweep(keep_alive_model, {"keep_alive_s": [60], "rate_per_s": [0.1]}, 2,
          executor=SerialExecutor(), until_s=60.0, metrics=["requests"], progress=True)
    err = capsys.readouterr().err
    assert "sweep" in err and "2/2" in err


def test_summarise_matches_a_t_interval() -> None:
    df = pd.DataFrame({"k": [1, 1, 1, 1, 2, 2, 3], "m": [1.0, 2.0, 4.0, np.nan, 5.0, 6.0, 9.0]})
    s = summarise(df, by=["k"], metric="m", confidence=0.9)
    one = s[s["k"] == 1].iloc[0]
    x = np.array([1.0, 2.0, 4.0])
    half = stats.t.ppf(0.95, 2) * x.std(ddof=1) / math.sqrt(3)
    assert one["n"] == 3
    assert one["m_mean"] == pytest.approx(x.mean())
    assert one["m_ci_low"] == pytest.approx(x.mean() - half)
    assert one["m_ci_high"] == pytest.approx(x.mean() + half)
    three = s[s["k"] == 3].iloc[0]
    assert three["n"] == 1 and math.isnan(three["m_ci_low"])
    with pytest.raises(ValueError, match="confidence"):
        summarise(df, by=["k"], metric="m", confidence=1.0)
    with pytest.raises(ValueError, match="no columns"):
        summarise(df, by=["k"], metric="x")


def test_summarise_uses_the_sweep_attrs(serial_table) -> None:
    s = summarise(serial_table)
    assert len(s) == 6 and list(s.columns[:3]) == ["keep_alive_s", "rate_per_s", "n"]
    assert s.loc[s["keep_alive_s"] == -1, "n"].eq(0).all()
    assert s.loc[s["keep_alive_s"] != -1, "n"].eq(2).all()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=30),
       st.floats(0.5, 0.99), st.floats(0.5, 0.99))
def test_intervals_hold_the_mean_and_widen_with_confidence(values, c1, c2) -> None:
    df = pd.DataFrame({"m": values})
    lo, hi = sorted((c1, c2))
    a = summarise(df, by=[], metric="m", confidence=lo).iloc[0]
    b = summarise(df, by=[], metric="m", confidence=hi).iloc[0]
    tol = 1e-9 * (1 + abs(a["m_mean"]))
    assert a["m_ci_low"] <= a["m_mean"] + tol and a["m_mean"] <= a["m_ci_high"] + tol
    assert b["m_ci_low"] <= a["m_ci_low"] + tol and a["m_ci_high"] <= b["m_ci_high"] + tol


def test_pareto_front_by_hand() -> None:
    df = pd.DataFrame({"cost": [1, 2, 3, 2, 4, np.nan, 1], "cold": [0.5, 0.2, 0.1, 0.4, 0.1,
                                                                    0.0, 0.5]})
    assert pareto_front(df, "cost", "cold").index.tolist() == [0, 1, 2]
    assert pareto_front(df, "cost", "cold", minimize=(True, False)).index.tolist() == [0]
    with pytest.raises(ValueError, match=r"lacks the columns \['x'\]"):
        pareto_front(df, "x", "cold")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=1, max_size=40))
def test_pareto_front_is_exactly_the_non_dominated_points(points) -> None:
    df = pd.DataFrame(points, columns=["x", "y"])
    front = pareto_front(df, "x", "y")
    pts = set(points)

    def dominated(p):
        return any(q[0] <= p[0] and q[1] <= p[1] and q != p for q in pts)

    chosen = set(front.itertuples(index=False, name=None))
    assert chosen == {p for p in pts if not dominated(p)}
    assert len(front) == len(chosen)  # duplicates appear once
    assert front["x"].is_monotonic_increasing


def test_doctests() -> None:
    import doctest

    from simlab.aws import sweep as module

    assert doctest.testmod(module).failed == 0
