"""Tests of simlab.course.lessons.scaling: lesson 2b's scaling rules of both eras, Erlang B over
the simulation, the dashboard and the exercises."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from simlab import theory  # noqa: E402
from simlab.core.config import ERAS, era_rules  # noqa: E402
from simlab.course.exercises import REGISTRY, check, exercises, hint  # noqa: E402
from simlab.course.lessons import scaling as lesson  # noqa: E402
from simlab.course.teacher import expected_answer  # noqa: E402


@pytest.fixture(scope="module")
def bursts():
    return {era: lesson.burst_run(era, until_s=100.0) for era in ("2020", "today")}


# -- scaling ---------------------------------------------------------------------------------------
def test_scaling_allowance_of_each_era() -> None:
    t = np.array([0.0, 10.0, 60.0, 600.0])
    old = era_rules("2020", account_concurrency=100_000)
    assert list(lesson.scaling_allowance(old, t)) == pytest.approx([3000, 3000 + 500 / 6, 3500,
                                                                    8000])
    today = era_rules("today", account_concurrency=100_000)
    assert list(lesson.scaling_allowance(today, t)) == [1000, 2000, 7000, 61000]
    # The account limit caps both.
    assert lesson.scaling_allowance("today", [1e6])[0] == ERAS["today"].account_concurrency
    with pytest.raises(ValueError, match="times_s"):
        lesson.scaling_allowance("today", [-1.0])


def test_time_to_environments_inverts_the_allowance() -> None:
    for era in ("2020", "today"):
        rules = era_rules(era, account_concurrency=10_000)
        t = lesson.time_to_environments(rules, 5000)
        assert lesson.scaling_allowance(rules, [t])[0] == pytest.approx(5000)
    assert lesson.time_to_environments("2020", 1000) == 0.0  # within the first burst
    with pytest.raises(ValueError, match="account limit"):
        lesson.time_to_environments("today", 5000)


def test_burst_environments_stay_under_the_scaling_allowance(bursts) -> None:
    for r in bursts.values():
        created = np.sort(r.environments["created_s"].to_numpy())
        count = np.arange(1, len(created) + 1)
        assert (count <= lesson.scaling_allowance(r.rules, created) + 1e-9).all()


def test_old_rule_throttles_later_but_longer(bursts) -> None:
    t = lesson.outcome_table(bursts)
    assert t.loc["2020", "first_throttle_s"] > 14 > t.loc["today", "first_throttle_s"] > 9
    assert t.loc["2020", "last_throttle_s"] > 60 > 25 > t.loc["today", "last_throttle_s"]
    assert t.loc["2020", "throttled_pct"] > t.loc["today", "throttled_pct"]


def test_burst_run_rejects_unknown_settings() -> None:
    with pytest.raises(TypeError, match="unknown setting"):
        lesson.burst_run("today", rate=3)
    with pytest.raises(ValueError, match="rate_per_s"):
        lesson.burst_run("today", rate_per_s=0)


# -- Erlang B --------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", ["constant", "exponential"])
def test_erlang_b_sweep_falls_on_the_curve(shape: str) -> None:
    s = lesson.erlang_b_sweep(servers=5, loads=(2.0, 5.0, 9.0), shape=shape, requests=4000,
                              seed=3)
    assert list(s["erlang_b"]) == pytest.approx(theory.erlang_b(5, [2.0, 5.0, 9.0]))
    se = s["standard_error"].to_numpy()
    assert (np.abs(s["throttle_fraction"] - s["erlang_b"]).to_numpy() <= 4 * se + 0.003).all()
    assert s["requests"].between(3700, 4300).all()


def test_erlang_b_sweep_validates() -> None:
    with pytest.raises(ValueError, match="servers"):
        lesson.erlang_b_sweep(servers=0)
    with pytest.raises(ValueError, match="shape"):
        lesson.erlang_b_sweep(shape="lognormal")
    with pytest.raises(ValueError, match="loads"):
        lesson.erlang_b_sweep(loads=[-1.0])


def test_figures_have_labelled_axes(bursts) -> None:
    fig = lesson.burst_figure(bursts)
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    assert all(ax.get_xlabel().startswith("time") for ax in fig.axes)
    sweep = lesson.erlang_b_sweep(servers=3, loads=(1.0, 3.0), requests=500)
    ax = lesson.erlang_b_figure({"constant": sweep}).axes[0]
    assert "offered load" in ax.get_xlabel() and "throttled" in ax.get_ylabel()


# -- the dashboard ---------------------------------------------------------------------------------
def test_throttling_view_agrees_with_erlang_b() -> None:
    view, fig = lesson.throttling_view(reserved=10, rate_per_s=50.0, requests=5000)
    assert view.offered_load == pytest.approx(10.0)
    assert view.erlang_b == pytest.approx(theory.erlang_b(10, 10.0))
    se = math.sqrt(view.erlang_b * (1 - view.erlang_b) / 5000)
    assert abs(view.throttle_fraction - view.erlang_b) < 4 * se
    assert view.result.summary("f")["max_concurrency"] == 10
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    text = lesson.throttling_readout(view)
    assert "reserved 10" in text and "Erlang B 21.5%" in text


def test_throttling_view_is_deterministic_and_validates() -> None:
    a, _ = lesson.throttling_view(reserved=3, rate_per_s=20.0, requests=500)
    b, _ = lesson.throttling_view(reserved=3, rate_per_s=20.0, requests=500)
    assert a.throttle_fraction == b.throttle_fraction
    for bad in ({"reserved": 0}, {"rate_per_s": -1.0}, {"requests": 10}, {"window_s": 0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            lesson.throttling_view(**bad)


def test_throttling_dashboard_builds_without_display() -> None:
    box = lesson.throttling_dashboard(show=False, reserved=5, rate_per_s=10.0)
    assert "simlab-dashboard" in box._dom_classes
    limit, rate = box.children[0].children
    assert (limit.min, limit.value, limit.continuous_update) == (1, 5, False)
    assert rate.value == pytest.approx(10.0)
    with pytest.raises(TypeError, match="unknown default"):
        lesson.throttling_dashboard(show=False, era="2018")


# -- exercises -------------------------------------------------------------------------------------
IDS = ["02-burst-seconds-sooner", "02-reserved-for-1-percent", "02-pooling"]


def test_exercises_are_registered_and_judged(assert_judged) -> None:
    assert set(IDS) <= set(exercises(2))
    assert [REGISTRY[i].kind for i in IDS] == ["predict", "design", "predict"]
    for i in IDS:
        assert len(REGISTRY[i].hints) >= 2
        assert hint(i, 1).startswith("💡")
    assert_judged(IDS)


def test_reference_answers_come_from_simlab() -> None:
    assert expected_answer("02-reserved-for-1-percent") == theory.erlang_b_servers(10.0, 0.01)
    assert expected_answer("02-burst-seconds-sooner") == "a"  # at once against 18 s
    # A pool twice the size at the same load per environment throttles less: 21 % -> 16 %.
    assert theory.erlang_b(20, 20.0) < 0.8 * theory.erlang_b(10, 10.0)
    assert expected_answer("02-pooling") == "c"


def test_sized_reservation_holds_in_simulation() -> None:
    n = int(expected_answer("02-reserved-for-1-percent"))
    at = lesson.erlang_b_sweep(servers=n, loads=[10.0], requests=20000)
    below = lesson.erlang_b_sweep(servers=n - 1, loads=[10.0], requests=20000)
    assert at["throttle_fraction"][0] <= 0.01 < below["throttle_fraction"][0]


def test_design_accepts_every_reservation_that_meets_the_goal(capsys) -> None:
    smallest = int(expected_answer("02-reserved-for-1-percent"))
    for n in range(smallest, smallest + lesson.SIZING_SPARE + 1):
        assert check("02-reserved-for-1-percent", n).correct, n
    too_many = check("02-reserved-for-1-percent", smallest + lesson.SIZING_SPARE + 1)
    assert not too_many and "more than 2 environments beyond" in too_many.message
    assert not check("02-reserved-for-1-percent", smallest - 2)
    capsys.readouterr()


@pytest.mark.parametrize("exercise_id, wrong, says", [
    ("02-reserved-for-1-percent", 10, "mean concurrency"),
    ("02-burst-seconds-sooner", "d", "head start of 3,000"),
    ("02-pooling", "b", "larger pool absorbs"),
])
def test_common_mistakes_get_targeted_feedback(exercise_id, wrong, says, capsys) -> None:
    result = check(exercise_id, wrong)
    assert result.status == "incorrect" and says in result.message
    assert "too high" not in result.message and "too low" not in result.message


def test_a_reservation_must_be_a_whole_number(capsys) -> None:
    assert "whole number" in check("02-reserved-for-1-percent", 17.5).message
    assert check("02-reserved-for-1-percent", 17.5).status == "invalid"
