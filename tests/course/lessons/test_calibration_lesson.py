"""Tests of lesson 8b (simlab.course.lessons.calibration): the replay's cold starts over seeds, the
lower bound of the keep-alive the data give, the dashboard and the exercises."""

from __future__ import annotations

import ipywidgets as w
import pytest
from matplotlib.figure import Figure

from simlab.aws.data_sets import load_aws_lambda_2020
from simlab.course.exercises import REGISTRY, check
from simlab.course.lessons import calibration as cal
from simlab.course.lessons import validation as v
from simlab.course.teacher import expected_answer

IDS = ["08-longest-warm-idle", "08-keep-alive-for-the-quiet-function", "08-cold-starts-at-20-min"]
DESIGN = "08-keep-alive-for-the-quiet-function"


def test_replay_cold_starts_is_the_mean_over_seeds() -> None:
    counts = [int(v.replay_result("low_rate", keep_alive_s=600.0, seed=s).invocations["cold"].sum())
              for s in (0, 1)]
    assert cal.replay_cold_starts("low_rate", 600.0, seeds=(0, 1)) == sum(counts) / 2
    with pytest.raises(ValueError, match="seeds"):
        cal.replay_cold_starts("low_rate", 600.0, seeds=())
    with pytest.raises(ValueError, match="name"):
        cal.replay_cold_starts("medium_rate", 600.0)


def test_longest_warm_idle_is_a_little_over_10_minutes() -> None:
    bound = cal.longest_warm_idle_s("low_rate")
    gaps = v.idle_gaps(load_aws_lambda_2020("low_rate"))
    assert bound == gaps.loc[~gaps["is_cold"], "instance_idle_s"].max()
    assert 600 < bound < 700


def test_replay_view_readout_and_dashboard() -> None:
    view, fig = cal.replay_view(keep_alive_min=20, name="high_rate")
    assert isinstance(fig, Figure) and view.keep_alive_s == 1200.0
    assert view.real_cold == 37 and view.sim_cold == view.sim_environments
    text = cal.replay_readout(view)
    assert "keep-alive 20 min" in text and "37 real" in text
    box = cal.replay_dashboard(show=False)
    ka, name, button = box.children[0].children
    assert isinstance(button, w.Button) and ka.value == 10 and name.value == "high_rate"
    name.value = "low_rate"
    button.click()
    assert "0.0035 req/s" in box.children[1].value
    with pytest.raises(ValueError, match="keep_alive_min"):
        cal.replay_view(keep_alive_min=90)
    with pytest.raises(ValueError, match="name"):
        cal.replay_view(name="medium_rate")
    with pytest.raises(TypeError, match="unknown default"):
        cal.replay_dashboard(show=False, seed=1)


def test_exercises_are_registered_and_judged(assert_judged) -> None:
    assert [REGISTRY[i].kind for i in IDS] == ["explain", "design", "predict"]
    at_600 = int(v.replay_result("high_rate").invocations["cold"].sum())
    at_1200 = int(v.replay_result("high_rate", keep_alive_s=1200).invocations["cold"].sum())
    assert 0.5 * at_600 < at_1200 <= 0.9 * at_600
    assert expected_answer("08-cold-starts-at-20-min") == "b"
    assert_judged(IDS)


def test_quiet_keep_alive_needs_both_the_count_and_the_bound(capsys) -> None:
    bound = cal.longest_warm_idle_s("low_rate")
    assert check(DESIGN, expected_answer(DESIGN)).correct
    assert check(DESIGN, round(bound) + 1).correct  # just above the bound
    fits_but_too_short = check(DESIGN, 630)  # the count fits, the data contradict it
    assert not fits_but_too_short.correct and "at least" in fits_but_too_short.message
    era = check(DESIGN, 600)  # the documented 2020 value: too many cold starts
    assert not era.correct and "more cold starts than were measured" in era.message
    assert "fewer cold starts than were measured" in check(DESIGN, 720).message
    for message in (era.message, check(DESIGN, 720).message):
        assert "lengthen" not in message and "shorten" not in message  # no direction to bisect
    assert "minutes" in check(DESIGN, 11).message
    assert check(DESIGN, "660").status == "invalid"
    assert check(DESIGN, 9000).status == "invalid"
    capsys.readouterr()


def test_feedback_names_the_common_mistakes(capsys) -> None:
    assert "cannot remove them" in check("08-cold-starts-at-20-min", "c").message
    capsys.readouterr()
