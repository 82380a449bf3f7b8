"""Tests of lesson 8 (simlab.course.lessons.validation) and of the measured data it reads
(simlab.aws.data_sets): the theory checks, the replay of the real experiments, the figures and
the exercises (lesson 8b's dashboard and exercises: test_calibration_lesson.py)."""

from __future__ import annotations

import fnmatch
import math
import tomllib
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from simlab.aws.data_sets import AWS_LAMBDA_2020, AWS_LAMBDA_2020_COLUMNS, load_aws_lambda_2020
from simlab.core.theory import p_cold_ttl
from simlab.course.exercises import REGISTRY, check
from simlab.course.lessons import validation as v
from simlab.course.teacher import expected_answer

ROOT = Path(__file__).resolve().parents[3]
IDS = ["08-theory-cold-fraction", "08-seeds-for-half-the-interval", "08-saving-at-1ms"]


@pytest.fixture(scope="module")
def low() -> pd.DataFrame:
    return load_aws_lambda_2020("low_rate")


@pytest.fixture(scope="module")
def high() -> pd.DataFrame:
    return load_aws_lambda_2020("high_rate")


# -- the data ----------------------------------------------------------------------------------
def test_the_data_are_package_resources_listed_in_pyproject() -> None:
    folder = files("simlab").joinpath("data", "aws_lambda_2020")
    assert folder.joinpath("README.md").is_file()
    readme = folder.joinpath("README.md").read_text(encoding="utf-8")
    assert "MIT" in readme and "Nima Mahmoudi" in readme
    assert "pacslab/serverless-performance-modeling" in readme
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["simlab"]
    for meta in AWS_LAMBDA_2020.values():
        assert folder.joinpath(meta["file"]).is_file()
        rel = f"data/aws_lambda_2020/{meta['file']}"
        assert any(fnmatch.fnmatch(rel, g) for g in globs), (rel, globs)


def test_loaded_experiments_match_the_published_description(low, high) -> None:
    assert len(low) == 348 and len(high) == 5050
    assert int(low["is_cold"].sum()) == 35 and int(high["is_cold"].sum()) == 37
    for df, rate in ((low, 0.0035), (high, 0.050)):
        assert set(AWS_LAMBDA_2020_COLUMNS) <= set(df.columns)
        assert df["offset_s"].iloc[0] == 0.0 and df["offset_s"].is_monotonic_increasing
        hours = df["offset_s"].iloc[-1] / 3600
        assert 27.5 < hours < 28.5
        assert len(df) / df["offset_s"].iloc[-1] == pytest.approx(rate, rel=0.02)
        assert df.attrs["rate_per_s"] == rate and "Mahmoudi" in df.attrs["source"]
        assert df["aws_max_mem"].max() <= 128
    with pytest.raises(ValueError, match="low_rate"):
        load_aws_lambda_2020("medium")


def test_billed_duration_was_rounded_up_to_100_ms_in_2020(low, high) -> None:
    for df in (low, high):
        b = v.billing_check(df)
        assert b["matches_100ms"] == b["requests"] == len(df)
        assert b["used_s"] < b["billed_s_at_1ms"] < b["billed_s"]
        assert b["billed_s_at_1ms"] - b["used_s"] < 0.001 * len(df)  # under 1 ms each
    assert (low["aws_billed_duration"] % 100 == 0).all()


def test_init_estimate_from_the_cold_requests_extra_latency(low, high) -> None:
    for df in (low, high):
        init = v.init_estimate_s(df)
        assert len(init) == int(df["is_cold"].sum()) and (init >= 0).all()
    # Small Python functions: INIT of a few hundred ms (Shilkov measured 0.15 to 0.53 s).
    assert 0.2 < np.median(v.init_estimate_s(low)) < 0.4
    # In the busy experiment many cold requests waited no longer than warm ones.
    assert (v.init_estimate_s(high) < 0.03).sum() >= 10
    with pytest.raises(ValueError, match="cold and warm"):
        v.init_estimate_s(low[~low["is_cold"]])


def test_idle_gaps_show_a_keep_alive_of_a_little_over_10_minutes(low, high) -> None:
    gaps = v.idle_gaps(low)
    warm = gaps[~gaps["is_cold"]]
    assert 600 < warm["instance_idle_s"].max() < 700
    # Past 11 minutes of idleness every request was cold.
    assert gaps.loc[gaps["idle_s"] > 660, "is_cold"].all()
    assert math.isnan(gaps["idle_s"].iloc[0])
    # In the busy experiment an idle second instance was reused after up to 20 minutes.
    hg = v.idle_gaps(high)
    assert hg.loc[~hg["is_cold"], "instance_idle_s"].max() > 1200
    # The simulation with a 10-minute keep-alive never reuses an instance idle longer.
    sim = v.idle_gaps(v._as_requests(v.replay_result("high_rate")))
    assert sim.loc[~sim["is_cold"], "instance_idle_s"].max() <= 600


# -- the replay --------------------------------------------------------------------------------
def test_replay_uses_the_real_arrivals_and_2020_rules(low) -> None:
    result = v.replay_result("low_rate")
    inv = result.invocations
    np.testing.assert_allclose(np.sort(inv["arrival_s"]), low["offset_s"])
    assert result.rules.keep_alive.ttl_s == 600 and result.rules.billing_granularity_ms == 100
    assert (inv["billed_ms"] % 100 == 0).all() and (inv["billed_ms"] >= inv["duration_ms"]).all()
    assert set(inv["duration_ms"].round(2)) <= set(low["aws_duration"].round(2))
    with pytest.raises(ValueError, match="name"):
        v.replay_simulation("medium")
    with pytest.raises(ValueError, match="keep_alive_s"):
        v.replay_simulation("low_rate", keep_alive_s=-1)


def test_comparison_table_tells_where_real_and_simulated_differ() -> None:
    table = v.comparison_table(seeds=(0, 1, 2))
    lo, hi = table.loc["low_rate"], table.loc["high_rate"]
    assert lo["real_cold"] == 35 and hi["real_cold"] == 37
    # A rarely called function: exp(-lambda T) and the simulation agree (same assumptions).
    assert lo["sim_cold_fraction"] == pytest.approx(lo["theory_exp_lambda_T"], abs=0.01)
    # ... and both predict more cold starts than measured: the real keep-alive was longer.
    assert lo["sim_cold_mean"] > lo["real_cold"]
    # A busy function: exp(-lambda T) says none; cold starts come from overlaps and recycling.
    assert hi["theory_exp_lambda_T"] < 1e-10 and 0.05 < hi["p_overlap"] < 0.15
    assert hi["sim_recycled"] > 5 and hi["sim_cold_mean"] > 1.3 * hi["real_cold"]
    assert hi["sim_environments"] == pytest.approx(hi["sim_cold_mean"])


def test_a_longer_keep_alive_brings_the_busy_experiment_close() -> None:
    at_20 = v.replay_result("high_rate", keep_alive_s=1200.0).invocations["cold"].sum()
    at_10 = v.replay_result("high_rate", keep_alive_s=600.0).invocations["cold"].sum()
    assert at_20 < at_10
    assert abs(at_20 - 37) <= 5


def test_instance_spans_and_live_per_bin_on_a_small_example() -> None:
    df = pd.DataFrame({"inst_id": ["a", "a", "b"], "client_start_time": [100.0, 150.0, 160.0],
                       "start_time": [100_000.0, 150_000.0, 160_000.0],
                       "end_time": [101_000.0, 152_000.0, 170_000.0]})
    spans = v.instance_spans(df)
    assert spans.to_dict("list") == {"first_s": [0.0, 60.0], "last_s": [52.0, 70.0],
                                     "requests": [2, 1]}
    live = v.live_per_bin(spans["first_s"], spans["last_s"], np.array([0.0, 50.0, 100.0]))
    np.testing.assert_allclose(live, [1.0, (2 + 10) / 50])
    with pytest.raises(TypeError, match="measured experiment or a Result"):
        v.instance_spans(pd.DataFrame({"x": [1]}))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-50, 150), st.floats(0, 80)), min_size=1, max_size=20))
def test_live_per_bin_integrates_to_the_covered_time(intervals) -> None:
    first = np.array([a for a, _ in intervals])
    last = first + np.array([d for _, d in intervals])
    edges = np.linspace(0.0, 100.0, 11)
    live = v.live_per_bin(first, last, edges)
    covered = np.clip(np.minimum(last, 100.0) - np.maximum(first, 0.0), 0.0, None).sum()
    assert (live * np.diff(edges)).sum() == pytest.approx(covered, abs=1e-9)
    assert (live >= 0).all() and (live <= len(intervals) + 1e-12).all()


def test_simulated_spans_are_read_from_the_result() -> None:
    result = v.replay_result("low_rate")
    spans = v.instance_spans(result)
    assert len(spans) == len(result.environments) and spans["requests"].sum() == 348
    env = result.environments.sort_values("created_s")
    assert (spans["first_s"].to_numpy() >= env["created_s"].to_numpy() - 1e-9).all()


# -- theory ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def theory_points() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return v.erlang_b_points(), v.busy_points(), v.cold_points()


def test_simulation_agrees_with_theory(theory_points) -> None:
    erlang, busy, cold = theory_points
    for pts in (erlang, busy, cold):
        assert pts["agrees"].all()
        assert pts["within_ci"].mean() >= 0.6
        assert (pts["runs"] == len(v.LESSON8["seeds"])).all()
    assert list(erlang["offered_load"]) == list(v.LESSON8["erlang_loads"])
    assert erlang["simulated"].is_monotonic_increasing
    assert cold["simulated"].iloc[0] == 1.0  # no keep-alive: every request cold
    np.testing.assert_allclose(cold["theory"], p_cold_ttl(1 / 300, cold["keep_alive_s"]))
    np.testing.assert_allclose(busy["simulated"], busy["theory"], rtol=0.08)


def test_intervals_are_those_of_the_sweep_summary() -> None:
    from simlab.aws.sweep import SerialExecutor, summarise, sweep

    grid = {"keep_alive_s": [60.0, 300.0], "rate_per_s": [1 / 300]}
    pts = v._points(v.ttl_model, grid, "keep_alive_s", "cold_start_fraction", 30_000.0, [0, 1, 2])
    runs = sweep(v.ttl_model, grid, [0, 1, 2], executor=SerialExecutor(), until_s=30_000.0,
                 record="summary", progress=False, metrics=["cold_start_fraction"])
    s = summarise(runs, by=["keep_alive_s"], metric="cold_start_fraction")
    np.testing.assert_allclose(pts["simulated"], s["cold_start_fraction_mean"])
    np.testing.assert_allclose(pts["ci_low"], s["cold_start_fraction_ci_low"])
    np.testing.assert_allclose(pts["ci_high"], s["cold_start_fraction_ci_high"])


def test_agrees_flags_a_wrong_theory(theory_points) -> None:
    erlang = theory_points[0][["offered_load", "simulated", "ci_low", "ci_high",
                               "standard_error", "runs"]].copy()
    shifted = v._finish(erlang, erlang["simulated"].to_numpy() + 0.05)
    assert not shifted["agrees"].any() and not shifted["within_ci"].any()


def test_figures_have_labelled_axes(theory_points) -> None:
    fig = v.theory_figure(*theory_points)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    assert [ax.get_ylabel() for ax in fig.axes] == [
        "fraction of requests throttled", "mean busy environments", "fraction of requests cold"]
    assert "(min)" in fig.axes[2].get_xlabel() and "(req/s)" in fig.axes[1].get_xlabel()
    inst = v.instances_figure()
    assert len(inst.axes) == 2 and "(h)" in inst.axes[1].get_xlabel()
    assert "36 real instances" in inst.axes[0].get_title()
    ka = v.keep_alive_figure()
    left, right = ka.axes
    assert "(min)" in left.get_xlabel() and right.get_yscale() == "log"
    assert any("28 after more than 10 min" in t.get_text()
               for t in right.get_legend().get_texts())
    with pytest.raises(ValueError, match="bin_s"):
        v.instances_figure(bin_s=1.0)


# -- exercises ---------------------------------------------------------------------------------
def test_exercises_are_registered_and_judged(low, high, assert_judged) -> None:
    assert [REGISTRY[i].kind for i in IDS] == ["compute", "design", "predict"]
    assert check("08-theory-cold-fraction",
                 p_cold_ttl(len(low) / low["offset_s"].iloc[-1], 600)).correct
    b = v.billing_check(high)
    assert 1.0 < 100 * (1 - b["billed_s_at_1ms"] / b["billed_s"]) < 3.0
    assert expected_answer("08-saving-at-1ms") == "a"
    fewest = expected_answer("08-seeds-for-half-the-interval")
    assert 16 < fewest < 32  # fewer than four times the 8 seeds: t falls too
    assert_judged(IDS)


def test_seeds_design_accepts_every_count_that_halves_the_interval() -> None:
    fewest = expected_answer("08-seeds-for-half-the-interval")
    eight = v.erlang_b_points()
    row = eight.loc[eight["offered_load"] == v.INTERVAL_GOAL["offered_load"]].iloc[0]
    assert row["ci_high"] - row["simulated"] > 2 * v.INTERVAL_GOAL["half_width"]  # 8: too wide
    for n in (fewest, 32, int(v.INTERVAL_GOAL["max_seeds"])):
        assert check("08-seeds-for-half-the-interval", n).correct, n
    over = check("08-seeds-for-half-the-interval", int(v.INTERVAL_GOAL["max_seeds"]) + 1)
    assert not over.correct and "budget" in over.message
    assert check("08-seeds-for-half-the-interval", 2.5).status == "invalid"
    assert check("08-seeds-for-half-the-interval", 1).status == "invalid"


def test_feedback_names_the_common_mistakes(low, capsys) -> None:
    assert "measured" in check("08-theory-cold-fraction", float(low["is_cold"].mean())).message
    assert "50 ms per request" in check("08-saving-at-1ms", "b").message
    assert "1/√n" in check("08-seeds-for-half-the-interval", 16).message  # doubled, not 4x
    capsys.readouterr()
