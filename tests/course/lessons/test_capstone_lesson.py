"""Tests of lessons 9 and 9b, the capstone (simlab.course.lessons.capstone and
simlab.course.lessons.keep_alive_game):
the workload tiled from the Azure sample, the sweep and its Pareto plot, the score, the
leaderboard, the policy check, the dashboard and the exercises."""

from __future__ import annotations

import concurrent.futures as cf
import math

import ipywidgets as w
import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simlab.aws.keep_alive_experiment import idle_memory_cost_usd, idle_memory_gb_s
from simlab.aws.sweep import pareto_front, summarise
from simlab.core.keepalive import FixedKeepAlive
from simlab.course.exercises import REGISTRY, check, hint
from simlab.course.lessons import capstone
from simlab.course.lessons.capstone import CAPSTONE, WEIGHT
from simlab.course.teacher import expected_answer

matplotlib.use("Agg")

IDS = ["09-real-sample-forever", "09-cheapest-ttl-under-10-percent", "09-what-the-flat-end-shows",
       "09-reclaim-rare-functions", "09-who-sets-the-weight"]
BLOCK = CAPSTONE["block_s"]


class RecentGaps(capstone.LearningKeepAlive):
    """Keep just longer than the longest of the last 20 gaps, unless that is over 20 min."""

    def idle_timeout_s(self, function: str, now_s: float) -> float:
        gaps = self.gaps(function)[-20:]
        if len(gaps) < 2:
            return 600.0
        ttl = 1.1 * gaps.max() + 1.0
        return ttl if ttl <= 1200.0 else 0.0


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return capstone.ttl_sweep(progress=False)


@pytest.fixture(scope="module")
def means(table) -> pd.DataFrame:
    return summarise(table, by=["keep_alive_min"],
                     metric=["cold_start_fraction", "idle_memory_cost_usd"])


@pytest.fixture(scope="module")
def baseline() -> pd.Series:
    return capstone.evaluate(600)


# -- the workload ----------------------------------------------------------------------------------
def test_real_sample_is_the_first_20_minutes() -> None:
    real = capstone.real_sample()
    assert (len(real), real["app"].nunique(), real["func"].nunique()) == (195, 13, 31)
    assert real["arrival_s"].max() < BLOCK and real["arrival_s"].is_monotonic_increasing


def test_tiled_workload_repeats_each_applications_20_minutes_rotated() -> None:
    real = capstone.real_sample()
    tiled = capstone.tiled_workload(4, seed=5)
    assert len(tiled) == 12 * len(real) and tiled["arrival_s"].is_monotonic_increasing
    assert tiled["arrival_s"].min() >= 0 and tiled["arrival_s"].max() < 4 * 3600
    block = (tiled["arrival_s"] // BLOCK).astype(int)
    counts = tiled.groupby([block, "func"], observed=True).size().unstack()
    np.testing.assert_array_equal(counts.to_numpy(),
                                  np.tile(real["func"].value_counts()[counts.columns], (12, 1)))
    np.testing.assert_allclose(np.sort(tiled["duration_s"]),
                               np.sort(np.tile(real["duration_s"], 12)))
    # Within a block, every arrival of an application is shifted by the same offset (mod 20 min):
    # the pattern of the window and the timing between its functions are kept.
    for app in real["app"].cat.categories:
        mine = np.sort(real.loc[real["app"] == app, "arrival_s"].to_numpy())
        for k in range(12):
            part = tiled.loc[(tiled["app"] == app) & (block == k), "arrival_s"].to_numpy()
            part = part - k * BLOCK
            rotations = [np.sort((part - part[0] + m) % BLOCK) for m in mine]
            assert any(np.allclose(r, mine, atol=1e-6) for r in rotations), (app, k)
    # The offsets differ between blocks and seeds; the same seed gives the same workload.
    first = tiled.groupby(block)["arrival_s"].min() % BLOCK
    assert first.nunique() > 6
    assert tiled.equals(capstone.tiled_workload(4, seed=5))
    assert not tiled["arrival_s"].equals(capstone.tiled_workload(4, seed=6)["arrival_s"])
    assert capstone.tiled_workload(0.5, seed=5)["arrival_s"].max() < 1800


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"hours": 0}, "hours"), ({"hours": -1}, "hours"), ({"hours": "4"}, "hours"),
    ({"hours": math.nan}, "hours"), ({"seed": -1}, "seeds"), ({"seed": 1.5}, "seeds"),
])
def test_tiled_workload_rejects_bad_input(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        capstone.tiled_workload(**kwargs)


def test_idle_metrics_agree_with_the_sweep_module() -> None:
    result = capstone.replay_model(300, 2, hours=1).run(3600)
    assert capstone.idle_gb_s(result) == pytest.approx(idle_memory_gb_s(result), rel=1e-9)
    assert capstone.idle_cost_usd(result) == pytest.approx(idle_memory_cost_usd(result), rel=1e-9)
    assert capstone.idle_gb_s(result) > 0


def test_replay_model_copies_the_policy_and_checks_its_answers() -> None:
    policy = RecentGaps()
    capstone.replay_model(policy, 1, hours=1).run(3600, record="summary")
    assert len(policy.gaps(capstone.real_sample()["func"].iloc[0])) == 0  # caller's copy unused

    class Broken(capstone.LearningKeepAlive):
        def idle_timeout_s(self, function: str, now_s: float) -> float:
            return math.nan

    with pytest.raises(ValueError, match="returned nan.*>= 0"):
        capstone.replay_model(Broken(), 1, hours=1).run(3600)
    with pytest.raises(TypeError, match="keep_alive"):
        capstone.replay_model("ten minutes", 1)
    with pytest.raises(ValueError, match="workload"):
        capstone.replay_model(600, 1, workload="azure")


def test_learning_keep_alive_records_gaps_without_an_init_call() -> None:
    class Mine(capstone.LearningKeepAlive):
        def __init__(self, cap_s: float) -> None:  # no super().__init__(): still works
            self.cap_s = cap_s

    p = Mine(60.0)
    for t in (0.0, 10.0, 25.0):
        p.observe("f", t)
    p.observe("g", 3.0)
    np.testing.assert_array_equal(p.gaps("f"), [10.0, 15.0])
    assert len(p.gaps("g")) == 0 and len(p.gaps("h")) == 0
    assert p.idle_timeout_s("f", 30.0) == 600.0


# -- the sweep and the Pareto plot ----------------------------------------------------------------
def test_ttl_sweep_trades_cold_starts_for_idle_memory(table, means) -> None:
    assert len(table) == len(CAPSTONE["keep_alive_min"]) * len(CAPSTONE["training_seeds"])
    assert table["error"].isna().all() and (table["invocations"] == 2340).all()
    assert means["cold_start_fraction_mean"].is_monotonic_decreasing
    assert means["idle_memory_cost_usd_mean"].is_monotonic_increasing
    none = means[means["keep_alive_min"] == 0].iloc[0]
    assert none["cold_start_fraction_mean"] == 1.0
    assert none["idle_memory_cost_usd_mean"] == pytest.approx(0.0, abs=1e-9)  # float rounding
    # Every fixed TTL is a different compromise: none is dominated.
    front = pareto_front(means, "idle_memory_cost_usd_mean", "cold_start_fraction_mean")
    assert len(front) == len(means)


def test_ttl_sweep_gives_the_same_table_on_a_process_pool() -> None:
    serial = capstone.ttl_sweep([0, 10], [1], hours=1, progress=False)
    with cf.ProcessPoolExecutor(2) as pool:
        parallel = capstone.ttl_sweep([0, 10], [1], hours=1, progress=False, executor=pool)
    pd.testing.assert_frame_equal(serial, parallel)


def test_ttl_sweep_of_the_real_sample_and_bad_input() -> None:
    real = capstone.ttl_sweep([10], [1], workload="real", progress=False)
    assert real["invocations"].iloc[0] == 195
    forever = capstone.ttl_sweep([math.inf], [1], workload="real", progress=False)
    assert forever["keep_alive_min"].tolist() == [math.inf]
    assert forever["cold_start_fraction"].iloc[0] == pytest.approx(
        capstone.evaluate(math.inf, [1], workload="real")["cold_start_fraction"])
    with pytest.raises(ValueError, match="keep_alive_min"):
        capstone.ttl_sweep([-1], progress=False)
    with pytest.raises(ValueError, match="keep_alive_min"):
        capstone.ttl_sweep([], progress=False)
    with pytest.raises(ValueError, match="workload"):
        capstone.ttl_sweep([1], workload="trace", progress=False)


def test_pareto_draws_the_front_filled_and_the_rest_hollow() -> None:
    df = pd.DataFrame({"cost": [1.0, 2.0, 3.0, 2.5, 0.5], "cold": [0.5, 0.2, 0.1, 0.4, 0.9],
                       "name": ["a", "b", "c", "d", "e"], "kind": ["x", "x", "x", "x", "y"]})
    fig = Figure()
    ax = capstone.pareto(df, "cost", "cold", label="name", ax=fig.subplots())
    assert isinstance(ax, Axes) and ax.get_xlabel() == "cost" and ax.get_ylabel() == "cold"
    points = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    filled, hollow = points
    assert sorted(filled.get_xdata()) == [0.5, 1.0, 2.0, 3.0] and list(hollow.get_xdata()) == [2.5]
    assert hollow.get_markerfacecolor() == "none"
    assert sorted(t.get_text() for t in ax.texts) == ["a", "b", "c", "d", "e"]
    by = capstone.pareto(df, "cost", "cold", by="kind", ax=Figure().subplots())
    labels = [t.get_text() for t in by.get_legend().get_texts()]
    assert labels == ["x: on the Pareto front", "x: dominated", "y: on the Pareto front"]
    for bad, match in (({"by": "colour"}, "by='colour'"), ({"label": 3}, "label=3")):
        with pytest.raises(ValueError, match=match):
            capstone.pareto(df, "cost", "cold", **bad)
    with pytest.raises(ValueError, match="x='price'"):
        capstone.pareto(df, "price", "cold")
    with pytest.raises(TypeError, match="ax"):
        capstone.pareto(df, "cost", "cold", ax="left")
    with pytest.raises(TypeError, match="DataFrame"):
        capstone.pareto(df.to_dict(), "cost", "cold")


def test_pareto_of_a_summary_labels_units_and_draws_intervals(means) -> None:
    ax = capstone.pareto(means, "idle_memory_cost_usd_mean", "cold_start_fraction_mean",
                         label="keep_alive_min", ax=Figure().subplots())
    assert ax.get_xlabel().startswith("idle memory cost (USD")
    assert ax.get_ylabel().startswith("cold-start fraction")
    assert len(ax.collections) == 1  # the confidence intervals
    assert "10" in [t.get_text() for t in ax.texts]


def test_function_report_adds_up_and_finds_the_waste() -> None:
    result = capstone.replay_model(600, 1).run(capstone.run_until_s())
    report = capstone.function_report(result)
    s = result.summary()
    assert len(report) == 31 and report["invocations"].sum() == s["invocations"]
    assert report["cold_starts"].sum() == round(s["cold_start_fraction"] * s["invocations"])
    assert report["idle_memory_gb_s"].sum() == pytest.approx(capstone.idle_gb_s(result),
                                                             rel=1e-9)
    # Functions called once per 20 minutes mostly start cold anyway, yet hold idle memory:
    # per warm start, far more than the timers that fire every minute.
    rare = report[report["invocations"] == 12]
    timers = report[(report["invocations"] >= 120) & report["median_gap_s"].between(55, 125)]
    assert len(rare) >= 8 and rare["cold_starts"].sum() > 0.7 * rare["invocations"].sum()
    assert rare["idle_gb_s_per_warm_start"].min() > 10 * timers["idle_gb_s_per_warm_start"].max()


# -- the game -------------------------------------------------------------------------------------
def test_score_of_the_baseline_none_and_weight_zero(baseline) -> None:
    assert capstone.score(600) == pytest.approx(baseline["cold_start_fraction"] + WEIGHT)
    assert capstone.score(None) == pytest.approx(1.0)
    assert capstone.score(600, weight=0) == pytest.approx(baseline["cold_start_fraction"])
    assert baseline["invocations"] == 2340
    with pytest.raises(ValueError, match="weight"):
        capstone.score(600, weight=-0.1)
    with pytest.raises(ValueError, match="weight must be a number >= 0.*got inf"):
        capstone.score(600, weight=math.inf)  # every score would be inf or nan


def test_leaderboard_ranks_and_the_baseline_is_the_best_fixed_ttl() -> None:
    board = capstone.leaderboard([None, 300, 900, 1800, ...])
    assert list(board.index) == [1, 2, 3, 4, 5] and board["score"].is_monotonic_increasing
    assert board["policy"].iloc[0] == "fixed 10 min (baseline)"  # added, and the best fixed one
    assert not board["beats_baseline"].any() and (board["kind"] == "fixed").all()
    none = board[board["policy"] == "no keep-alive"].iloc[0]
    assert none["score"] == pytest.approx(1.0)
    assert none["idle_cost_vs_baseline"] == pytest.approx(0.0, abs=1e-9)
    named = capstone.leaderboard({"ten": FixedKeepAlive(600.0), "mine": RecentGaps()})
    assert set(named["policy"]) == {"ten", "mine", "fixed 10 min (baseline)"}
    with pytest.raises(ValueError, match="unique"):
        capstone.leaderboard([60, 60.0])
    with pytest.raises(TypeError, match="keep_alive"):
        capstone.leaderboard([600, "forever"])


def test_no_fixed_ttl_near_the_baseline_beats_it_by_the_margin() -> None:
    board = capstone.leaderboard([480, 540, 630, 660, 690, 720, 780])
    best = board["score"].min()
    assert not board["beats_baseline"].any()
    baseline = board.loc[board["policy"] == "fixed 10 min (baseline)", "score"].iloc[0]
    assert baseline - capstone.MARGIN < best <= baseline


def test_an_adaptive_policy_beats_every_fixed_ttl(baseline) -> None:
    board = capstone.leaderboard([None, 60, 300, 900, 1200, 3600, RecentGaps()])
    assert board["policy"].iloc[0] == "RecentGaps" and board["kind"].iloc[0] == "adaptive"
    assert board["beats_baseline"].tolist() == [True] + [False] * (len(board) - 1)
    mine = board.iloc[0]
    assert mine["idle_cost_vs_baseline"] < 0.9  # it saves memory where the baseline wastes it


def test_check_policy(capsys) -> None:
    for unanswered in (None, ...):
        assert capstone.check_policy(unanswered).status == "unanswered"
    for invalid in (600, FixedKeepAlive(600.0), object()):
        outcome = capstone.check_policy(invalid)
        assert outcome.status == "invalid" and "idle_timeout_s" in outcome.message
    tie = capstone.check_policy(capstone.LearningKeepAlive())  # the baseline itself
    assert tie.status == "incorrect" and "policy_hint" in tie.message
    class Eleven(capstone.LearningKeepAlive):  # a fixed setting in disguise
        def idle_timeout_s(self, function: str, now_s: float) -> float:
            return 660.0

    close = capstone.check_policy(Eleven())
    assert close.status == "incorrect" and "less than 0.01" in close.message
    good = capstone.check_policy(RecentGaps())
    assert good.correct and "beats the baseline" in good.message
    assert "score" in capsys.readouterr().out


def test_policy_hint(capsys) -> None:
    text = capstone.policy_hint()
    assert text.startswith("💡 09-beat-the-baseline, hint 1 of 3") and "policy_hint(2)" in text
    assert "return" not in capstone.policy_hint(3)  # the last hint nudges, it is not the code
    assert capsys.readouterr().out == "" and repr(text) == str(text)
    for bad in (0, 4, 1.0, True):
        with pytest.raises(ValueError, match="n must"):
            capstone.policy_hint(bad)


# -- the dashboard --------------------------------------------------------------------------------
def test_tradeoff_view_moves_the_best_ttl_with_the_weight(table) -> None:
    view, fig = capstone.tradeoff_view(10, WEIGHT, sweep_table=table)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert view.best_min == 10.0  # at the game's weight, the baseline is the best fixed TTL
    assert capstone.tradeoff_view(10, 0.0, sweep_table=table)[0].best_min == 60.0
    assert capstone.tradeoff_view(10, 2.0, sweep_table=table)[0].best_min == 0.0
    ten = view.table[view.table["keep_alive_min"] == 10].iloc[0]
    assert ten["score"] == pytest.approx(ten["cold_start_fraction_mean"] + WEIGHT)
    text = capstone.tradeoff_readout(view)
    assert "keep-alive 10 min" in text and "best fixed TTL 10 min" in text
    right = fig.axes[1]
    assert right.get_xlabel() == "fixed keep-alive (min)"
    assert "lower is better" in right.get_ylabel()
    with pytest.raises(ValueError, match="keep_alive_min"):
        capstone.tradeoff_view(7, sweep_table=table)
    with pytest.raises(ValueError, match="weight"):
        capstone.tradeoff_view(10, -1, sweep_table=table)


def test_tradeoff_dashboard_builds_its_controls(table) -> None:
    box = capstone.tradeoff_dashboard(table, show=False)
    assert isinstance(box, w.VBox) and "simlab-dashboard" in box._dom_classes
    ttl, weight = box.children[0].children
    assert isinstance(ttl, w.SelectionSlider) and ttl.value == 10
    # Labelled for people: "10", not "10.0".
    assert list(ttl.options) == [(f"{m:g}", float(m)) for m in CAPSTONE["keep_alive_min"]]
    assert weight.value == WEIGHT and weight.continuous_update is False


# -- exercises ------------------------------------------------------------------------------------
def test_exercises_are_registered_and_judged(assert_judged) -> None:
    assert [REGISTRY[i].kind for i in IDS] == ["predict", "design", "explain", "predict", "explain"]
    for ex in IDS:
        assert len(REGISTRY[ex].hints) >= 2
        assert REGISTRY[ex].why or REGISTRY[ex].kind == "explain"
        assert hint(ex).startswith("💡")
    assert_judged(IDS)


def test_reference_answers(means) -> None:
    forever = capstone.evaluate(math.inf, [1], workload="real")["cold_start_fraction"]
    ten = capstone.evaluate(600, [1], workload="real")["cold_start_fraction"]
    assert 31 / 195 < forever and ten - 0.03 <= forever < ten  # about as many as with 10 min
    assert expected_answer("09-real-sample-forever") == "d"
    cheapest = expected_answer("09-cheapest-ttl-under-10-percent")
    row = means[means["keep_alive_min"] == cheapest].iloc[0]
    assert row["cold_start_fraction_mean"] < 0.10
    cheaper = means[means["idle_memory_cost_usd_mean"] < row["idle_memory_cost_usd_mean"]]
    assert (cheaper["cold_start_fraction_mean"] >= 0.10).all()


def test_keep_alive_design_accepts_a_range_and_explains_the_rest(capsys) -> None:
    cheapest = expected_answer("09-cheapest-ttl-under-10-percent")
    assert check("09-cheapest-ttl-under-10-percent", cheapest).correct
    assert check("09-cheapest-ttl-under-10-percent", cheapest + 1).correct  # several are right
    over = check("09-cheapest-ttl-under-10-percent", 10)
    assert not over and "budget: under 10%" in over.message
    dear = check("09-cheapest-ttl-under-10-percent", 60)
    assert not dear and "idle memory" in dear.message
    assert check("09-cheapest-ttl-under-10-percent", -1).status == "invalid"
    assert "overlap" in check("09-real-sample-forever", "b").message
    capsys.readouterr()


def test_the_rare_functions_are_the_ones_called_once_per_block() -> None:
    report = capstone.function_report(capstone.replay_model(600, 1).run(capstone.run_until_s()))
    rare = capstone._rare_functions()
    assert len(rare) == 9
    assert rare == set(report.loc[report["invocations"] == 12, "function"])


def test_reclaiming_the_rare_functions_costs_under_two_points_of_cold_starts(capsys) -> None:
    assert expected_answer("09-reclaim-rare-functions") == "b"
    outcome = check("09-reclaim-rare-functions", "b")
    assert outcome.correct and "idle memory falls by" in outcome.message
    base = capstone.evaluate(600, CAPSTONE["training_seeds"])
    mine = capstone.evaluate(capstone._RareReclaimed(), CAPSTONE["training_seeds"])
    assert 0 < mine["cold_start_fraction"] - base["cold_start_fraction"] < 0.02
    assert mine["idle_memory_cost_usd"] < 0.9 * base["idle_memory_cost_usd"]
    assert "no other function" in check("09-reclaim-rare-functions", "d").message
    capsys.readouterr()


def test_the_flat_end_is_the_tiled_workloads_longest_gap() -> None:
    # Exercise 09-what-the-flat-end-shows: no gap in the tiled workload reaches 40 minutes.
    for seed in CAPSTONE["training_seeds"]:
        tiled = capstone.tiled_workload(seed=seed)
        longest = tiled.groupby("func", observed=True)["arrival_s"].apply(
            lambda t: np.diff(np.sort(t.to_numpy())).max())
        assert 30 * 60 < longest.max() < 40 * 60
