"""Tests of simlab.exercises: the four kinds of exercise, unanswered and invalid answers, answers
never shown nor bisectable, tolerances from the estimator's standard error, expected answers
computed once, hints that nudge without the code, and lesson 1's exercises."""

from __future__ import annotations

import math
import re

import IPython.lib.pretty
import numpy as np
import pytest

from simlab.core.theory import p_cold_ttl
from simlab.course import exercises
from simlab.course.exercises import (
    KINDS,
    REGISTRY,
    check,
    design,
    exercise,
    explanation,
    hint,
    prediction,
)
from simlab.course.teacher import expected_answer

LESSON1 = ["01-simulated-cold-fraction", "01-keep-alive-for-5-percent",
           "01-mean-idle-environments"]


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> dict:
    """An empty registry for exercises made up by a test."""
    monkeypatch.setattr(exercises, "REGISTRY", {})
    monkeypatch.setattr(exercises, "_REFERENCE", {})
    return exercises.REGISTRY


def test_lesson1_exercises_are_registered_with_their_kinds() -> None:
    assert exercises.exercises(1) == LESSON1
    assert [REGISTRY[i].kind for i in LESSON1] == ["compute", "design", "predict"]
    for ex in LESSON1:
        assert len(REGISTRY[ex].hints) >= 2 and REGISTRY[ex].why


@pytest.mark.parametrize("answer", [..., None])
@pytest.mark.parametrize("ex", LESSON1)
def test_unanswered_does_not_raise(ex: str, answer: object, capsys) -> None:
    result = check(ex, answer)
    assert result.status == "unanswered" and not result
    out = capsys.readouterr().out
    assert ("commit your prediction first" if REGISTRY[ex].kind == "predict"
            else "not answered yet") in out


@pytest.mark.parametrize("answer", ["0.3", True, [0.3], math.nan, math.inf])
def test_invalid_answers_are_explained_not_raised(answer: object, capsys) -> None:
    result = check("01-simulated-cold-fraction", answer)
    assert result.status == "invalid"
    assert "number" in capsys.readouterr().out


def test_nothing_public_hands_out_the_expected_answer() -> None:
    ex = REGISTRY["01-simulated-cold-fraction"]
    assert not hasattr(ex, "expected")
    assert "expected" not in repr(ex) and "judge" not in repr(ex)
    assert not any(name.startswith("expected") for name in dir(exercises) if name in
                   exercises.__all__)
    # Only the teacher's module reads the references.
    assert expected_answer("01-simulated-cold-fraction") == pytest.approx(0.107, abs=0.01)


def test_a_simulated_answer_is_accepted_from_any_seed_within_three_standard_errors() -> None:
    runs = [float(exercises.lesson1_simulation(seed).summary()["cold_start_fraction"])
            for seed in (7, 8, 9, 10)]
    for one in runs:
        assert check("01-simulated-cold-fraction", one).correct
    assert check("01-simulated-cold-fraction", float(np.mean(runs))).correct  # seeds averaged
    truth = expected_answer("01-simulated-cold-fraction")
    se = exercises._one_run_se(truth)
    assert 0.003 < se < 0.006  # sqrt(p (1 - p) / 4,320 requests)
    assert check("01-simulated-cold-fraction", truth + 2.9 * se).correct
    wrong = check("01-simulated-cold-fraction", truth + 3.1 * se)
    assert wrong.status == "incorrect"
    assert "too high" not in wrong.message and "too low" not in wrong.message


def test_theory_and_percent_get_targeted_feedback() -> None:
    theory = float(p_cold_ttl(1 / 600, 26 * 60))
    truth = expected_answer("01-simulated-cold-fraction")
    assert abs(theory - truth) > 3 * exercises._one_run_se(truth)  # the check tells them apart
    result = check("01-simulated-cold-fraction", theory)
    assert not result and "exp(-lambda T) predicts" in result.message
    assert "percentage" in check("01-simulated-cold-fraction", truth * 100).message


def test_expected_answers_are_computed_once(registry) -> None:
    calls = []

    @exercise("42-once", tolerance=0.5)
    def _once() -> float:
        calls.append(1)
        return 42.0

    for answer in (42, 41, 1, 42.2):
        check("42-once", answer)
    assert len(calls) == 1


def test_compute_feedback_names_unit_slips_and_never_a_direction(registry) -> None:
    exercise("50-seconds", tolerance=0.5, unit="s")(lambda: 90.0)
    exercise("50-fraction", tolerance=0.01)(lambda: 0.25)
    exercise("50-percent", tolerance=0.1, unit="%")(lambda: 2.0)
    assert "minutes" in check("50-seconds", 1.5).message
    assert "milliseconds" in check("50-seconds", 90_000).message
    assert "percentage" in check("50-fraction", 25).message
    assert "fraction" in check("50-percent", 0.02).message
    for ex, answer in (("50-seconds", 200), ("50-seconds", 10), ("50-fraction", 0.9)):
        message = check(ex, answer).message
        assert "too high" not in message and "too low" not in message
        assert "90" not in message.replace(f"{answer:g}", "") or ex != "50-seconds"


def test_prediction_with_options_compares_with_the_run(registry) -> None:
    runs = []

    def outcome() -> tuple[str, str]:
        runs.append(1)
        return "b", "the run gave 0.37."

    prediction("51-halve", outcome=outcome, options={"a": "It falls by more.", "b": "",
                                                      "c": "Not linear."}, why="e^(-λT).")
    right = check("51-halve", "B")
    assert right.correct and "you predicted (b)" in right.message and "0.37" in right.message
    wrong = check("51-halve", "(c)")
    assert not wrong and "Not linear." in wrong.message and "0.37" in wrong.message
    assert check("51-halve", "d").status == "invalid"
    assert check("51-halve", 2).status == "invalid"
    assert len(runs) == 1  # the run happens once per kernel, after a prediction is in
    assert check("51-halve", ...).status == "unanswered"


def test_numeric_prediction_and_its_tolerance(registry) -> None:
    prediction("52-count", outcome=lambda: (6.0, "6 runs."), tolerance=0.5,
               feedback=lambda a, e: "Each subscriber." if a == 3 else None)
    assert check("52-count", 6).correct
    assert "Each subscriber." in check("52-count", 3).message
    with pytest.raises(ValueError, match="tolerance"):
        prediction("53-x", outcome=lambda: (1.0, ""))


def test_design_accepts_several_answers_and_explains_the_others(registry) -> None:
    def verify(answer):
        if not isinstance(answer, int):
            raise ValueError(f"a whole number, got {answer!r}")
        return 15 <= answer <= 18, f"{answer} measured"

    design("54-keep", verify=verify, reference=lambda: 15, why="Because.")
    assert all(check("54-keep", n).correct for n in (15, 16, 18))
    no = check("54-keep", 20)
    assert not no and "20 measured" in no.message
    assert check("54-keep", 1.5).status == "invalid"


def test_a_design_of_several_values_may_be_written_as_a_list(registry) -> None:
    def verify(answer):
        if not (isinstance(answer, tuple) and len(answer) == 2):
            raise ValueError(f"two numbers, got {answer!r}")
        return sum(answer) == 4, f"{answer} measured"

    design("56-pair", verify=verify, reference=lambda: (2, 2), why="Because.")
    assert check("56-pair", (2, 2)).correct and check("56-pair", [2, 2]).correct
    assert not check("56-pair", [1, 2]) and "(1, 2) measured" in check("56-pair", [1, 2]).message
    unhashable = check("56-pair", {"a": 1})  # verified without the cache, then refused
    assert unhashable.status == "invalid" and "two numbers" in unhashable.message


def test_a_written_answer_is_recorded_for_the_teacher(registry) -> None:
    explanation("55-why", review="does it name the mechanism?", min_words=5)
    recorded = check("55-why", "Because the environment was reclaimed after the keep-alive.")
    assert recorded.status == "recorded" and not recorded.correct
    assert "does it name the mechanism?" in recorded.message
    assert check("55-why", "Because.").status == "invalid"
    assert check("55-why", 42).status == "invalid"
    assert exercises._REFERENCE["55-why"]() is None


def test_keep_alive_design_accepts_a_range_and_names_mistakes() -> None:
    shortest = -math.log(0.05) * 240 / 60  # solve exp(-T/240 s) = 0.05, in minutes
    assert expected_answer("01-keep-alive-for-5-percent") == math.ceil(shortest) == 12
    for minutes in (math.ceil(shortest), 13, 14):
        assert check("01-keep-alive-for-5-percent", minutes).correct, minutes
    assert not check("01-keep-alive-for-5-percent", shortest - 2)
    longer = check("01-keep-alive-for-5-percent", shortest + 5)
    assert not longer and "longer than it needs to be" in longer.message
    assert check("01-keep-alive-for-5-percent", "12").status == "invalid"


def test_idle_prediction_names_the_misconceptions() -> None:
    assert expected_answer("01-mean-idle-environments") == "c"
    assert check("01-mean-idle-environments", "c").correct
    assert "cold-start fraction" in check("01-mean-idle-environments", "b").message
    assert "busy" in check("01-mean-idle-environments", "a").message


@pytest.mark.parametrize("ex", [i for i in LESSON1 if REGISTRY[i].kind == "compute"])
def test_messages_never_reveal_the_answer(ex: str) -> None:
    expected = expected_answer(ex)
    for answer in (expected * 1.5 + 0.1, expected * 0.5, expected):
        message = check(ex, answer).message
        for shown in (f"{expected:g}", f"{expected:.2f}", f"{expected:.1%}", f"{expected:.3f}"):
            if f"{answer:g}".startswith(shown):
                continue  # the student's own answer is echoed back
            assert shown not in message, (ex, answer, message)


def test_every_registered_exercise_has_a_kind_and_hints_that_end_in_a_nudge() -> None:
    import simlab.course.lessons.background_labs  # noqa: F401
    import simlab.course.lessons.billing  # noqa: F401
    import simlab.course.lessons.calibration  # noqa: F401
    import simlab.course.lessons.capstone  # noqa: F401 (registers lessons 9 and the keep-alive game)
    import simlab.course.lessons.concurrency  # noqa: F401
    import simlab.course.lessons.event_sources  # noqa: F401
    import simlab.course.lessons.memory  # noqa: F401
    import simlab.course.lessons.monitoring  # noqa: F401
    import simlab.course.lessons.start_here  # noqa: F401
    import simlab.course.lessons.use_cases  # noqa: F401
    import simlab.course.lessons.validation  # noqa: F401

    # Code: a call of a dotted or snake_case name, or indexing with a string.
    code = re.compile(r"[A-Za-z_]\w*\.[A-Za-z_][\w.]*\(|\b[a-z]+_[a-z_]+\(|\w\[['\"]")
    for ex in REGISTRY.values():
        assert ex.kind in KINDS
        assert len(ex.hints) >= 2, ex.id
        assert not code.search(ex.hints[-1]), (ex.id, ex.hints[-1])  # a nudge, not the code


def test_unknown_exercise_is_an_error() -> None:
    with pytest.raises(ValueError, match="no exercise '99-nothing'"):
        check("99-nothing", 1)
    with pytest.raises(ValueError, match="no exercise"):
        hint("99-nothing")
    with pytest.raises(ValueError, match="no exercise '99-nothing'"):
        expected_answer("99-nothing")


def test_hints(capsys) -> None:
    text = hint("01-simulated-cold-fraction")
    assert "hint 1 of 3" in text and "hint('01-simulated-cold-fraction', 2)" in text
    # Shown once: as the cell's value (plain text, no quotes), nothing printed besides.
    assert capsys.readouterr().out == ""
    assert repr(text) == str(text) and IPython.lib.pretty.pretty(text) == str(text)
    assert "for more" not in hint("01-simulated-cold-fraction", 3)
    for bad in (0, 4, 1.5, True):
        with pytest.raises(ValueError, match="n must be a whole number from 1 to 3"):
            hint("01-simulated-cold-fraction", bad)


def test_registry_decorator(registry) -> None:
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
