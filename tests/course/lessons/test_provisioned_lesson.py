"""Tests of simlab.course.lessons.provisioned: lesson 4b's provisioned-concurrency break-even,
its sizing, the provider's side and the exercises."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from simlab import exercises  # noqa: E402
from simlab.course.lessons import provisioned as lesson  # noqa: E402
from simlab.course.teacher import expected_answer  # noqa: E402

IDS = ("04-pc-size", "04-pc-break-even-rate", "04-billed-share-2020")


@pytest.fixture(scope="module")
def pc() -> tuple[lesson.PCView, Figure]:
    return lesson.pc_view()


@pytest.fixture(scope="module")
def provider() -> pd.DataFrame:
    return lesson.provider_view_table()


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


# -- how many environments ------------------------------------------------------------------------
def test_pc_saving_is_a_row_of_pc_costs_with_the_saving() -> None:
    row = lesson.pc_saving(7)
    same = lesson.pc_costs([8.0], provisioned=7).iloc[0]
    assert row.drop("saving").equals(same)
    assert row["saving"] == pytest.approx(1 - same["provisioned_usd_per_h"]
                                          / same["on_demand_usd_per_h"])


def test_the_cheapest_pc_covers_the_base_load_not_the_peaks() -> None:
    savings = {k: float(lesson.pc_saving(k)["saving"]) for k in (1, 7, 16)}
    # One environment always busy saves little; seven save most; sixteen (mean load 8, peaks
    # above 14) cost more than on-demand.
    assert 0 < savings[1] < savings[7]
    assert savings[16] < 0
    best = expected_answer("04-pc-size")
    assert 6 <= best <= 8  # below the mean load of 8: each environment must be busy 60 %


def test_the_sizing_design_accepts_every_size_that_saves_enough(capsys) -> None:
    goal = lesson.PC_SIZING["saving"]
    for k in (6, 7, 8):
        assert exercises.check("04-pc-size", k).correct, k
        assert lesson.pc_saving(k)["saving"] >= goal
    # Section 1's PC of 10 saves, but too little: its top environments are idle too often.
    ten = exercises.check("04-pc-size", 10)
    assert not ten and "sit idle too often" in ten.message
    peak = exercises.check("04-pc-size", 16)
    assert not peak and "dearer than on-demand" in peak.message
    small = exercises.check("04-pc-size", 1)
    assert not small and "still run on demand" in small.message
    for bad in (0, 2.5, "seven", True, 101):
        assert exercises.check("04-pc-size", bad).status == "invalid", bad
    capsys.readouterr()


# -- exercises -------------------------------------------------------------------------------------
def test_exercises_are_registered_and_judged(assert_judged) -> None:
    assert set(IDS) <= set(exercises.exercises(4))
    assert [exercises.REGISTRY[i].kind for i in IDS] == ["design", "compute", "predict"]
    for ex_id in IDS:
        assert len(exercises.REGISTRY[ex_id].hints) >= 2
    assert_judged(IDS)


def test_reference_answers_by_hand() -> None:
    assert expected_answer("04-billed-share-2020") == "c"  # rarer requests: less of it billed


@pytest.mark.parametrize(("ex_id", "wrong", "says"), [
    ("04-pc-break-even-rate", 6.0, "theory"),
    ("04-billed-share-2020", "a", "idle time"),
])
def test_wrong_answers_get_feedback_not_the_answer(ex_id, wrong, says) -> None:
    outcome = exercises.check(ex_id, wrong)
    assert outcome.status == "incorrect"
    assert says in outcome.message
    if exercises.REGISTRY[ex_id].kind == "compute":
        assert f"{expected_answer(ex_id):g}" not in outcome.message
