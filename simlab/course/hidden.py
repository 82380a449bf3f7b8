"""What the hidden tests of a graded lesson call: the self-check's own judgement, without a word.

A master notebook's hidden test for an exercise checked with :func:`simlab.course.exercises.check`
reads::

    # HIDDEN
    from simlab.course.hidden import is_right
    assert is_right("00-cold-requests", answer_00_1)

so that the autograder and the student's self-check judge an answer by the same rule: the
exercise's own judge, which compares it with the teacher-side reference answer (see
:func:`simlab.course.teacher.expected_answer`, computed once per kernel) within the exercise's
tolerance, or verifies a design by simulating it. :func:`is_right` prints nothing (a doctest-style
test fails on unexpected output) and never raises for a wrong or missing answer: ``...``,
``None``, a value of the wrong type or one the exercise cannot take is simply not right. A written
answer ("explain") is never right here: it is graded by hand. The capstone's policy is judged by
:func:`policy_beats_baseline`, the rule of its own check.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from typing import Any

__all__ = ["is_right", "policy_beats_baseline"]


def _import_lessons() -> None:
    import importlib
    import pkgutil

    import simlab.course.lessons

    for module in pkgutil.iter_modules(simlab.course.lessons.__path__):
        importlib.import_module(f"simlab.course.lessons.{module.name}")


def is_right(exercise_id: str, answer: Any) -> bool:
    """True when ``answer`` is a right answer to exercise ``exercise_id``.

    Parameters
    ----------
    exercise_id
        An exercise of :data:`simlab.course.exercises.REGISTRY`; an unknown id raises ValueError
        (a mistake in the master notebook, not in the submission).
    answer
        The student's value.

    Returns
    -------
    bool
        Whether :func:`simlab.course.exercises.check` would call the answer correct.
    """
    from simlab.course import exercises

    if exercise_id not in exercises.REGISTRY:
        _import_lessons()  # the lessons register their exercises when imported
    if exercise_id not in exercises.REGISTRY:
        raise ValueError(f"exercise_id {exercise_id!r} is not a registered exercise; "
                         f"registered: {', '.join(exercises.REGISTRY)}")
    if answer is None or answer is Ellipsis:
        return False
    judge = exercises.REGISTRY[exercise_id].judge
    return _quietly(lambda: judge(answer)[0] == "correct")


def policy_beats_baseline(policy: Any) -> bool:
    """True when the capstone's :func:`~simlab.course.lessons.keep_alive_game.check_policy` would
    accept ``policy``: an adaptive policy that beats the 10-minute baseline's score on the
    validation workloads by at least the lesson's margin. Prints nothing and never raises for a
    wrong or missing answer.

    This is the exercise's goal as the student's check states it. The class's ranking on held-out
    workloads is the teacher's, with seeds chosen when grading
    (:func:`simlab.course.teacher.held_out_leaderboard`).
    """
    from simlab.course.lessons.keep_alive_game import check_policy

    return _quietly(lambda: check_policy(policy).correct)


def _quietly(verdict: Callable[[], bool]) -> bool:
    """``verdict()`` with whatever it prints swallowed, and False if it raises: a student's
    answer must never crash the grading."""
    quiet = io.StringIO()
    try:
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            return bool(verdict())
    except Exception:  # noqa: BLE001 - any error of the student's answer is a wrong answer
        return False
