"""Tests of simlab.exercises: right, wrong, unanswered and invalid answers; answers never shown;
hints; and the registry lessons use."""

from __future__ import annotations

import math

import IPython.lib.pretty
import pytest

from simlab.core.theory import p_cold_ttl
from simlab.course import exercises
from simlab.course.exercises import REGISTRY, check, exercise, hint

LESSON1 = ["01-simulated-cold-fraction", "01-keep-alive-for-5-percent",
           "01-mean-idle-environments"]


def test_lesson1_exercises_are_registered() -> None:
    assert exercises.exercises(1) == LESSON1
    for ex in LESSON1:
        assert len(REGISTRY[ex].hints) >= 2 and REGISTRY[ex].why


@pytest.mark.parametrize("answer", [..., None])
@pytest.mark.parametrize("ex", LESSON1)
def test_unanswered_does_not_raise(ex: str, answer: object, capsys) -> None:
    result = check(ex, answer)
    assert result.status == "unanswered" and not result
    assert "not answered yet" in capsys.readouterr().out


@pytest.mark.parametrize("answer", ["0.3", True, [0.3], math.nan, math.inf])
def test_invalid_answers_are_explained_not_raised(answer: object, capsys) -> None:
    result = check("01-keep-alive-for-5-percent", answer)
    assert result.status == "invalid"
    assert "number" in capsys.readouterr().out


def test_simulated_cold_fraction() -> None:
    truth = float(exercises.lesson1_simulation().summary()["cold_start_fraction"])
    assert check("01-simulated-cold-fraction", truth).correct
    assert check("01-simulated-cold-fraction", round(truth, 4)).correct
    wrong = check("01-simulated-cold-fraction", truth + 0.01)
    assert wrong.status == "incorrect" and "too high" in wrong.message


def test_theory_value_gets_targeted_feedback() -> None:
    theory = float(p_cold_ttl(1 / 600, 26 * 60))
    truth = float(exercises.lesson1_simulation().summary()["cold_start_fraction"])
    assert abs(theory - truth) > 0.001  # the exercise distinguishes the two
    result = check("01-simulated-cold-fraction", theory)
    assert not result and "exp(-lambda T) predicts" in result.message
    assert "between 0 and 1" in check("01-simulated-cold-fraction", truth * 100).message


def test_keep_alive_for_5_percent() -> None:
    minutes = -math.log(0.05) * 300 / 60  # solve exp(-T/300 s) = 0.05
    assert check("01-keep-alive-for-5-percent", minutes).correct
    assert check("01-keep-alive-for-5-percent", round(minutes)).correct
    assert not check("01-keep-alive-for-5-percent", minutes + 1)
    low = check("01-keep-alive-for-5-percent", minutes - 1)
    assert "too low" in low.message
    seconds = check("01-keep-alive-for-5-percent", minutes * 60)
    assert "minutes, not seconds" in seconds.message


def test_mean_idle_environments_from_theory_or_simulation() -> None:
    import simlab

    sim = simlab.Simulation(era="today", seed=5, keep_alive_s=600, max_lifetime_s=math.inf)
    sim.add_function("f", duration_s=0.2)
    sim.add_source(simlab.sources.Poisson(rate_per_s=1 / 300), target="f")
    simulated = float(sim.run(until_s=200 * 3600).summary()["mean_idle_environments"])
    assert check("01-mean-idle-environments", simulated).correct
    assert not check("01-mean-idle-environments", math.exp(-2))  # P(cold), not idle time
    assert not check("01-mean-idle-environments", 0.5)


@pytest.mark.parametrize("ex", LESSON1)
def test_messages_never_reveal_the_answer(ex: str) -> None:
    expected = REGISTRY[ex].expected()
    for answer in (expected * 1.5 + 0.1, expected * 0.5, expected):
        message = check(ex, answer).message
        for shown in (f"{expected:g}", f"{expected:.2f}", f"{expected:.1%}", f"{expected:.3f}"):
            if f"{answer:g}".startswith(shown):
                continue  # the student's own answer is echoed back
            assert shown not in message, (ex, answer, message)


def test_unknown_exercise_is_an_error() -> None:
    with pytest.raises(ValueError, match="no exercise '99-nothing'"):
        check("99-nothing", 1)
    with pytest.raises(ValueError, match="no exercise"):
        hint("99-nothing")


def test_hints(capsys) -> None:
    text = hint("01-keep-alive-for-5-percent")
    assert "hint 1 of 3" in text and "hint('01-keep-alive-for-5-percent', 2)" in text
    # Shown once: as the cell's value (plain text, no quotes), nothing printed besides.
    assert capsys.readouterr().out == ""
    assert repr(text) == str(text) and IPython.lib.pretty.pretty(text) == str(text)
    assert "for more" not in hint("01-keep-alive-for-5-percent", 3)
    for bad in (0, 4, 1.5, True):
        with pytest.raises(ValueError, match="n must be a whole number from 1 to 3"):
            hint("01-keep-alive-for-5-percent", bad)


def test_registry_decorator(monkeypatch) -> None:
    monkeypatch.setattr(exercises, "REGISTRY", {})

    @exercise("42-answer", tolerance=0.5, hints=("Think.",), unit="units", why="Because.")
    def _answer() -> float:
        return 42.0

    assert exercises.exercises() == ["42-answer"]
    assert check("42-answer", 42.4).message.endswith("Because.")
    assert not check("42-answer", 43)
    assert "in units" in check("42-answer", "x").message
    with pytest.raises(ValueError, match="registered already"):
        exercise("42-answer", tolerance=1)(_answer)
    with pytest.raises(ValueError, match="NN-name"):
        exercise("answer", tolerance=1)
    with pytest.raises(ValueError, match="tolerance"):
        exercise("43-x")
    with pytest.raises(ValueError, match="no hints"):
        exercise("44-x", rel_tolerance=0.1)(_answer) and hint("44-x")
