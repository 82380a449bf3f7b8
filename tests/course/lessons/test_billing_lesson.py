"""Tests of simlab.course.lessons.billing: lesson 4's price table, rounding, monthly cost,
provisioned
concurrency break-even, provider's side, dashboards and exercises."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from simlab import exercises  # noqa: E402
from simlab.core.prices import SHEETS  # noqa: E402
from simlab.course.lessons import billing as lesson  # noqa: E402
from simlab.course.teacher import expected_answer  # noqa: E402

IDS = ("04-billed-101ms-2018", "04-cheapest-memory-2018", "04-pc-break-even-rate",
       "04-billed-share-2020")


@pytest.fixture(scope="module")
def rounding() -> tuple[lesson.RoundingView, Figure]:
    return lesson.rounding_view(100.0)


@pytest.fixture(scope="module")
def pc() -> tuple[lesson.PCView, Figure]:
    return lesson.pc_view()


@pytest.fixture(scope="module")
def provider() -> pd.DataFrame:
    return lesson.provider_view_table()


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


# -- provisioned concurrency -----------------------------------------------------------------------
def test_theory_break_even_is_sixty_percent_utilisation() -> None:
    # $0.0000041667 / ($0.0000166667 - $0.0000097222) = 0.6 of 10 environments busy.
    assert lesson.pc_break_even_theory(10, 1.0) == pytest.approx(6.0, abs=1e-3)
    assert lesson.pc_break_even_theory(10, 0.5) == pytest.approx(12.0, abs=2e-3)
    with pytest.raises(ValueError, match="provisioned concurrency"):
        lesson.pc_break_even_theory(10, 1.0, date="2018")


def test_pc_costs_cross_near_the_theory(pc) -> None:
    view, fig = pc
    c = view.costs
    assert c.loc[0, "provisioned_usd_per_h"] > c.loc[0, "on_demand_usd_per_h"]
    assert c.iloc[-1]["provisioned_usd_per_h"] < c.iloc[-1]["on_demand_usd_per_h"]
    # Spillover beyond the 10 environments is paid on demand: the break-even is a little later.
    assert view.theory_rate < view.break_even_rate < 1.15 * view.theory_rate
    assert view.break_even_rate == lesson.break_even_rate(c)
    assert fig.axes[0].get_ylabel() == "cost (USD per hour)"


def test_pc_costs_match_hand_computation(pc) -> None:
    c = pc[0].costs
    T, n = 600.0, c["rate_per_s"] * 600.0
    # On demand: requests plus 1 GB x 1 s per request (and a few billed INITs).
    per_h = c["rate_per_s"] * 3600 * (0.2e-6 + 0.0000166667)
    assert ((c["on_demand_usd_per_h"] / per_h - 1).abs() < 4 / np.sqrt(n) + 0.01).all()
    # PC at low traffic: every request on a PC environment, none cold, utilisation rate x d / 10.
    low = c.iloc[0]
    assert low["provisioned_cold_fraction"] == 0 and low["spillover_fraction"] == 0
    assert abs(low["pc_utilisation"] - 0.1) < 4 * math.sqrt(0.1 * T) / (10 * T)
    pc_charge = 10 * 1.0 * 3600 * 0.0000041667
    assert low["provisioned_usd_per_h"] > pc_charge


def test_break_even_interpolates_and_rejects() -> None:
    c = pd.DataFrame({"rate_per_s": [1.0, 2.0, 3.0], "on_demand_usd_per_h": [1.0, 2.0, 3.0],
                      "provisioned_usd_per_h": [2.0, 2.2, 2.4]})
    # Differences 1.0, 0.2, -0.6: zero a quarter of the way from 2 to 3.
    assert lesson.break_even_rate(c) == pytest.approx(2.25)
    with pytest.raises(ValueError, match="do not cross"):
        lesson.break_even_rate(c.assign(provisioned_usd_per_h=9.0))
    with pytest.raises(TypeError, match="pc_costs"):
        lesson.break_even_rate(c.drop(columns="on_demand_usd_per_h"))


@pytest.mark.parametrize(("args", "kwargs", "match"), [
    ([], {}, "rates_per_s"),
    ([-1.0], {}, "rates_per_s"),
    ([1.0], {"provisioned": 0}, "provisioned"),
    ([1.0], {"until_s": 0}, "until_s"),
])
def test_pc_costs_rejects_bad_input(args, kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        lesson.pc_costs(args, **kwargs)


# -- provider's side -------------------------------------------------------------------------------
def test_provider_holds_far_more_than_it_bills(provider) -> None:
    assert list(provider.columns) == ["2020", "today"]
    for era in provider.columns:
        p = provider[era]
        assert p["idle_warm_gb_s"] > 10 * p["billed_gb_s"]
        assert p["environment_held_gb_s"] >= p["idle_warm_gb_s"]
    # The 100 ms rounding was the provider's; 1 ms leaves almost nothing.
    assert provider.loc["rounding_gb_s", "2020"] > 10 * provider.loc["rounding_gb_s", "today"]
    # INIT of on-demand ZIP functions is billed since August 2025, not in 2020.
    assert provider.loc["unbilled_init_gb_s", "2020"] > 0
    assert provider.loc["unbilled_init_gb_s", "today"] == 0


def test_provider_figure(provider) -> None:
    fig = lesson.provider_figure(provider)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "memory-time (GB-s, log scale)"
    assert len(ax.patches) == 6 * 2
    with pytest.raises(ValueError, match="eras"):
        lesson.provider_view_table(())


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
    assert [exercises.REGISTRY[i].kind for i in IDS] == ["predict", "design", "compute",
                                                         "predict"]
    for ex_id in IDS:
        assert len(exercises.REGISTRY[ex_id].hints) >= 2
    assert_judged(IDS)


def test_reference_answers_by_hand() -> None:
    assert expected_answer("04-billed-101ms-2018") == 200.0
    # 60 ms of CPU at 1,088 MB runs 60 x 1769 / 1088 = 97.6 ms: just under one 100 ms step.
    assert expected_answer("04-cheapest-memory-2018") == 1088.0
    assert expected_answer("04-billed-share-2020") == "c"  # rarer requests: less of it billed


def test_memory_design_accepts_every_size_that_meets_both_goals(capsys) -> None:
    assert exercises.check("04-cheapest-memory-2018", 1088).correct
    assert exercises.check("04-cheapest-memory-2018", 1152).correct  # 5.3 % dearer, 92 ms
    slow = exercises.check("04-cheapest-memory-2018", 576)  # as cheap +5 %, but 184 ms
    assert not slow and "184" in slow.message
    dear = exercises.check("04-cheapest-memory-2018", 1792)  # fastest, 10 % dearer or more
    assert not dear and "more than the cheapest" in dear.message
    assert exercises.check("04-cheapest-memory-2018", 1000).status == "invalid"
    capsys.readouterr()


@pytest.mark.parametrize(("ex_id", "wrong", "says"), [
    ("04-billed-101ms-2018", 101, "today"),
    ("04-billed-101ms-2018", 50, "never shorter"),
    ("04-pc-break-even-rate", 6.0, "theory"),
    ("04-billed-share-2020", "a", "idle time"),
])
def test_wrong_answers_get_feedback_not_the_answer(ex_id, wrong, says) -> None:
    outcome = exercises.check(ex_id, wrong)
    assert outcome.status == "incorrect"
    assert says in outcome.message
    if exercises.REGISTRY[ex_id].kind == "compute":
        assert f"{expected_answer(ex_id):g}" not in outcome.message
