"""The hidden tests' judge agrees with the self-check and never raises for a student's answer."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simlab.course.exercises import REGISTRY, check
from simlab.course.hidden import is_right
from simlab.course.lessons import start_here  # noqa: F401 - registers lesson 0's exercises


def test_agrees_with_check() -> None:
    expected = REGISTRY["00-cold-requests"].expected()
    for answer in (expected, expected + 0.4, expected - 1, np.int64(round(expected)), 0):
        assert is_right("00-cold-requests", answer) == check("00-cold-requests", answer).correct


@pytest.mark.parametrize("answer", [..., None, "4", True, math.nan, math.inf, [4]])
def test_a_missing_or_malformed_answer_is_wrong_not_an_error(answer: object) -> None:
    assert is_right("00-cold-requests", answer) is False


def test_an_unknown_exercise_is_an_error_of_the_master() -> None:
    with pytest.raises(ValueError, match="'00-nope' is not a registered exercise"):
        is_right("00-nope", 1)
