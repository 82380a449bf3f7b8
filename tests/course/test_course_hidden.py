"""The hidden tests' judge agrees with the self-check, prints nothing and never raises for a
student's answer."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simlab.core.keepalive import FixedKeepAlive
from simlab.course.exercises import check
from simlab.course.hidden import is_right, policy_beats_baseline
from simlab.course.lessons import billing, start_here  # noqa: F401 - registers their exercises
from simlab.course.teacher import expected_answer


def test_a_prediction_agrees_with_check() -> None:
    expected = expected_answer("00-cold-requests")
    for answer in (expected, expected + 0.4, expected + 1, expected - 1,
                   np.int64(round(expected)), 0):
        assert is_right("00-cold-requests", answer) == check("00-cold-requests", answer).correct
    assert is_right("00-cold-requests", expected) is True
    assert is_right("00-cold-requests", expected + 1) is False


def test_a_design_is_judged_by_simulating_it() -> None:
    right = expected_answer("04-cheapest-memory-2018")
    assert is_right("04-cheapest-memory-2018", right) is True
    assert is_right("04-cheapest-memory-2018", right) == check("04-cheapest-memory-2018",
                                                              right).correct


def test_a_written_answer_is_never_right_here() -> None:
    text = "Nothing goes wrong because the handler only reads the file and counts its words again"
    assert check("00-upload-delivered-twice", text).status == "recorded"
    assert is_right("00-upload-delivered-twice", text) is False


def test_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    is_right("00-cold-requests", expected_answer("00-cold-requests"))
    is_right("00-cold-requests", "x")
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("answer", [..., None, "4", True, math.nan, math.inf, [4], object()])
def test_a_missing_or_malformed_answer_is_wrong_not_an_error(answer: object) -> None:
    assert is_right("00-cold-requests", answer) is False


def test_an_unknown_exercise_is_an_error_of_the_master() -> None:
    with pytest.raises(ValueError, match="'00-nope' is not a registered exercise"):
        is_right("00-nope", 1)


@pytest.mark.parametrize("policy", [..., None, 600, "fixed 10 min", object(),
                                    FixedKeepAlive(600.0)])  # the last one does not adapt
def test_a_missing_or_fixed_capstone_policy_is_not_right_and_prints_nothing(
        policy: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert policy_beats_baseline(policy) is False
    assert capsys.readouterr() == ("", "")
