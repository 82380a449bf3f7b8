"""Tests of simlab.course.lessons.billing: lesson 4's price table, rounding, monthly cost,
dashboards and exercises."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from simlab import exercises  # noqa: E402
from simlab.core.prices import SHEETS  # noqa: E402
from simlab.course.lessons import billing as lesson  # noqa: E402
from simlab.course.teacher import expected_answer  # noqa: E402

IDS = ("04-billed-101ms-2018", "04-cheapest-memory-2018")


@pytest.fixture(scope="module")
def rounding() -> tuple[lesson.RoundingView, Figure]:
    return lesson.rounding_view(100.0)


# -- price sheets ----------------------------------------------------------------------------------
def test_price_table_lists_every_sheet_with_its_date() -> None:
    t = lesson.price_sheet_table()
    assert list(t.index) == [s.name for s in SHEETS]
    assert list(t.columns) == ["from", "x86", "arm64", "pc", "pc_duration", "tiers"]
    assert t["from"].is_monotonic_increasing
    assert t.loc["2018", "x86"] == pytest.approx(16.67)
    assert t.loc["2022-08", "x86"] == pytest.approx(16.6667)
    assert {s.request_usd_per_million for s in SHEETS} == {0.20}  # why the column is left out
    assert math.isnan(t.loc["2019-12", "arm64"])  # Arm came in 2021
    assert t.loc["2021-09", "arm64"] == pytest.approx(13.3334)
    assert math.isnan(t.loc["2018", "pc"])  # PC came in Dec 2019
    assert list(t["tiers"]) == [False, False, False, False, True]


# -- rounding --------------------------------------------------------------------------------------
def test_billed_is_run_rounded_up_to_the_granule(rounding) -> None:
    view, _ = rounding
    inv = view.invocations
    assert len(inv) > 1000
    assert (inv["billed_ms"] >= inv["duration_ms"]).all()
    assert (inv["billed_ms"] - inv["duration_ms"] < 100).all()
    assert np.allclose(inv["billed_ms"] % 100, 0)


def test_any_granularity_rounds_up() -> None:
    inv = lesson.reprice(lesson.rounding_run(), 37)
    assert np.allclose(inv["billed_ms"] / 37, np.ceil(inv["duration_ms"] / 37))


def test_rounding_totals_show_who_gains(rounding) -> None:
    view, _ = rounding
    fine, coarse = view.totals.itertuples()
    assert fine.granularity_ms == 1 and coarse.granularity_ms == 100
    assert fine.run_gb_s == pytest.approx(coarse.run_gb_s)  # the same run, re-priced
    assert coarse.cost_usd > fine.cost_usd  # 1 ms never costs more
    # Median 30 ms runs billed 100 ms: more than double the time run.
    assert coarse.extra_fraction > 1.0
    # At 1 ms the rounding is under 1 ms per invocation (512 MB = 0.5 GB).
    assert 0 < fine.rounding_gb_s < len(view.invocations) * 0.001 * 0.5


def test_rounding_figure_has_labelled_axes(rounding) -> None:
    view, fig = rounding
    left, right = fig.axes
    assert left.get_ylabel() == "time (ms)" and right.get_ylabel() == "GB-s in the run"
    # Billed and run bars of the first 20 invocations, each kind one artist.
    assert [len(bars.get_paths()) for bars in left.collections] == [20, 20]
    assert left.get_legend_handles_labels()[1] == ["billed at 100 ms", "run time"]
    assert left.get_ylim()[0] == 0  # the bars stand on the axis, as ax.bar's do
    extra = view.totals.iloc[-1]["extra_fraction"]
    assert f"billed <b>{extra:.0%} more</b> than the code ran" in lesson.rounding_readout(view)


def test_rounding_view_reuses_a_given_run(rounding) -> None:
    view, _ = rounding
    again, _ = lesson.rounding_view(100.0, result=lesson.rounding_run())
    assert again.totals.equals(view.totals)
    assert again.invocations.equals(view.invocations)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"granularity_ms": 0}, "granularity_ms"),
    ({"granularity_ms": -5}, "granularity_ms"),
    ({"granularity_ms": math.nan}, "granularity_ms"),
    ({"median_ms": 0}, "median_ms"),
    ({"n_shown": 0}, "n_shown"),
])
def test_rounding_view_rejects_bad_input(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        lesson.rounding_view(**kwargs)


# -- monthly cost ----------------------------------------------------------------------------------
def test_monthly_cost_reproduces_aws_1ms_example() -> None:
    # AWS blog, Dec 2020: 60 M invocations of 28 ms at 1 GB; $12 of requests plus $100 of
    # duration at 100 ms rounding, $28 at 1 ms.
    c = lesson.monthly_cost_curve([28.0]).set_index("granularity_ms")["monthly_cost_usd"]
    assert round(c[100.0], 2) == 112.00
    assert round(c[1.0], 2) == 40.00


def test_monthly_cost_is_a_staircase_at_100ms() -> None:
    c = lesson.monthly_cost_curve()
    coarse = c[c["granularity_ms"] == 100.0].set_index("duration_ms")["monthly_cost_usd"]
    fine = c[c["granularity_ms"] == 1.0].set_index("duration_ms")["monthly_cost_usd"]
    assert coarse[100.3] == pytest.approx(coarse[199.3])
    assert coarse[200.3] > coarse[199.3]
    assert (fine <= coarse + 1e-9).all()
    assert (c["overpaid_fraction"] >= 0).all()
    # 1 ms: N x (request + ceil(d) ms x 1 GB x price).
    assert fine[27.3] == pytest.approx(60e6 * (0.2e-6 + 0.028 * 0.0000166667))


def test_monthly_cost_view_and_errors() -> None:
    curve, fig = lesson.monthly_cost_view()
    assert len(curve) == 2 * 499
    assert fig.axes[0].get_ylabel() == "monthly cost (USD)"
    with pytest.raises(ValueError, match="durations_ms"):
        lesson.monthly_cost_curve([])
    with pytest.raises(ValueError, match="durations_ms"):
        lesson.monthly_cost_curve([10.0, -1.0])
    with pytest.raises(ValueError, match="granularity_ms"):
        lesson.monthly_cost_curve([10.0], granularities_ms=(0,))


# -- dashboards ------------------------------------------------------------------------------------
def test_rounding_dashboard_redraws() -> None:
    box = lesson.rounding_dashboard(show=False)
    granularity, median = box.children[0].children[:2]
    readout = box.children[1]
    assert "ms" in granularity.description and granularity.max == 200
    assert readout.value.startswith("100 ms granularity")
    granularity.value = 1
    assert readout.value.startswith("1 ms granularity")


# -- exercises -------------------------------------------------------------------------------------
def test_exercises_are_registered_and_judged(assert_judged) -> None:
    assert set(IDS) <= set(exercises.exercises(4))
    assert [exercises.REGISTRY[i].kind for i in IDS] == ["predict", "design"]
    for ex_id in IDS:
        assert len(exercises.REGISTRY[ex_id].hints) >= 2
    assert_judged(IDS)


def test_the_written_answer_is_recorded_not_judged(capsys) -> None:
    assert exercises.REGISTRY["04-memory-step-2018"].kind == "explain"
    short = exercises.check("04-memory-step-2018", "more CPU")
    assert short.status == "invalid" and "too short" in short.message
    text = ("At 512 MB the run is 207 ms, billed 300 ms; at 576 MB it is 184 ms, billed 200 ms, "
            "so memory times billed time falls; today it would stay the same.")
    assert exercises.check("04-memory-step-2018", text).status == "recorded"
    capsys.readouterr()


def test_the_explained_sizes_cross_a_step_in_2018_and_cost_the_same_today() -> None:
    # The numbers exercise 3 asks about: 512 -> 576 MB drops a 100 ms step in 2018 and cuts the
    # duration charge by a quarter; under 1 ms billing memory x time stays flat (below 1 vCPU).
    old = lesson.power_tuning([512, 576], cpu_s=lesson.CHEAPEST_CPU_S, era="2018")
    assert list(old["billed_ms"]) == [300.0, 200.0]
    gb_s = old["memory_mb"] / 1024 * old["billed_ms"] / 1000
    assert gb_s.iloc[1] / gb_s.iloc[0] == pytest.approx(0.75)
    today = lesson.power_tuning([512, 576], cpu_s=lesson.CHEAPEST_CPU_S, era="today")
    cost = today["cost_per_million_usd"]
    assert abs(cost.iloc[1] / cost.iloc[0] - 1) < 0.01


def test_reference_answers_by_hand() -> None:
    assert expected_answer("04-billed-101ms-2018") == 200.0
    # 60 ms of CPU at 1,088 MB runs 60 x 1769 / 1088 = 97.6 ms: just under one 100 ms step.
    assert expected_answer("04-cheapest-memory-2018") == 1088.0


def test_memory_design_accepts_every_size_that_meets_both_goals(capsys) -> None:
    assert exercises.check("04-cheapest-memory-2018", 1088).correct
    assert exercises.check("04-cheapest-memory-2018", 1152).correct  # 5.3 % dearer, 92 ms
    slow = exercises.check("04-cheapest-memory-2018", 576)  # as cheap +5 %, but 184 ms
    assert not slow and "184" in slow.message
    dear = exercises.check("04-cheapest-memory-2018", 1792)  # fastest, 10 % dearer or more
    assert not dear and "more than the cheapest" in dear.message
    assert exercises.check("04-cheapest-memory-2018", 1000).status == "invalid"
    capsys.readouterr()


@pytest.mark.parametrize(("wrong", "says"), [(101, "today"), (50, "never shorter")])
def test_a_wrong_prediction_gets_feedback_naming_its_mistake(wrong, says) -> None:
    outcome = exercises.check("04-billed-101ms-2018", wrong)
    assert outcome.status == "incorrect" and says in outcome.message
