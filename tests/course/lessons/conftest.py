"""Checks shared by the lesson tests: every exercise of a lesson is registered and judged by its
kind, against the reference answer the teacher's module gives (computed once per process by
:mod:`simlab.course.exercises` itself)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from simlab.course.exercises import REGISTRY, check
from simlab.course.teacher import expected_answer

#: A written answer long enough to be recorded.
TEXT = ("The function is refused because the account keeps some concurrency for the others, and "
        "that is why the answer is what it is here.")


@pytest.fixture
def assert_judged(capsys: pytest.CaptureFixture[str]) -> Callable[[Iterable[str]], None]:
    """Check that each exercise of ``ids`` is registered and judged by its kind.

    The reference answer is correct (a written answer is recorded); ``...`` and ``None`` are
    unanswered; a wrong answer is incorrect without the message giving the expected one away or a
    direction to bisect on (for a prediction, every other option is judged wrong). What the
    checks print is swallowed.
    """

    def judged(ids: Iterable[str]) -> None:
        ids = list(ids)
        assert set(ids) <= set(REGISTRY)
        for i in ids:
            ex = REGISTRY[i]
            assert check(i, ...).status == "unanswered"
            assert check(i, None).status == "unanswered"
            expected = expected_answer(i)
            if ex.kind == "explain":
                assert expected is None
                assert check(i, TEXT).status == "recorded"
                assert check(i, "Too short.").status == "invalid"
                assert check(i, 3).status == "invalid"
                continue
            assert check(i, expected).correct, i
            if ex.kind == "predict" and isinstance(expected, str):
                for other in sorted(set("abcd") - {expected}):
                    result = check(i, other)
                    assert result.status in ("incorrect", "invalid"), (i, other)
                assert check(i, "z").status == "invalid"
                continue
            if ex.kind == "compute" or (ex.kind == "predict" and not isinstance(expected, str)):
                wrong = check(i, expected * 3 + 7)
                assert wrong.status == "incorrect"
                tail = wrong.message.split(":", 1)[-1]
                if ex.kind == "compute":
                    assert f"{expected:g}" not in tail.replace(f"{expected * 3 + 7:g}", "")
                assert "too high" not in wrong.message and "too low" not in wrong.message
        capsys.readouterr()

    return judged
