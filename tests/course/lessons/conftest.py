"""Checks shared by the lesson tests, and one computation of each expected answer per session.

An exercise's expected answer is a deterministic function of the lesson's fixed parameters (often
a whole simulation), and ``check`` computes it on every call: judging one exercise as right,
unanswered and wrong computed it five times. Here it is computed once per test session (its
first use) and kept, so every check still compares against the answer the lesson's code gives.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Iterator

import pytest

from simlab.course.exercises import REGISTRY, check


@pytest.fixture(scope="session", autouse=True)
def expected_answers_computed_once() -> Iterator[None]:
    """Each registered exercise's ``expected`` memoised for the session; restored after."""
    original = dict(REGISTRY)
    for i, ex in original.items():
        REGISTRY[i] = dataclasses.replace(ex, expected=functools.cache(ex.expected))
    try:
        yield
    finally:
        REGISTRY.update(original)


@pytest.fixture
def assert_judged(capsys: pytest.CaptureFixture[str]) -> Callable[[Iterable[str]], None]:
    """Check that each exercise of ``ids`` is registered and judged.

    Its expected answer is correct, ``...`` and ``None`` are unanswered, and a wrong answer is
    incorrect without the message giving the expected one away. What the checks print is
    swallowed.
    """

    def judged(ids: Iterable[str]) -> None:
        ids = list(ids)
        assert set(ids) <= set(REGISTRY)
        for i in ids:
            expected = REGISTRY[i].expected()
            assert check(i, expected).correct
            assert check(i, ...).status == "unanswered"
            assert check(i, None).status == "unanswered"
            wrong = check(i, expected * 3 + 7)
            assert wrong.status == "incorrect"
            assert f"{expected:g}" not in wrong.message.split(":")[-1]
        capsys.readouterr()

    return judged
