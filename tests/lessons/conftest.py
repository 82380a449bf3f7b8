"""Checks shared by the lesson tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from simlab.exercises import REGISTRY, check


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
