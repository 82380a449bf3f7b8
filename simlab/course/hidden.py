"""What the hidden tests of a graded lesson call: the self-check's own judgement, without a word.

A master notebook's hidden test for an exercise checked with :func:`simlab.exercises.check` reads::

    # HIDDEN
    from simlab.course.hidden import is_right
    assert is_right("00-cold-requests", cold_requests)

so that the autograder and the student's self-check judge an answer by the same expected value
and the same tolerance, defined once in the lesson's module. :func:`is_right` prints nothing (a
doctest-style test fails on unexpected output) and never raises for a wrong or missing answer:
``...``, ``None``, text or a non-finite number is simply not right.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["is_right"]


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
        An exercise of :data:`simlab.exercises.REGISTRY`; an unknown id raises ValueError (a
        mistake in the master notebook, not in the submission).
    answer
        The student's value.

    Returns
    -------
    bool
        Whether the answer is a finite number within the exercise's tolerance of its expected
        value, the rule :func:`simlab.exercises.check` applies.
    """
    from simlab.course import exercises

    if exercise_id not in exercises.REGISTRY:
        _import_lessons()  # the lessons register their exercises when imported
    if exercise_id not in exercises.REGISTRY:
        raise ValueError(f"exercise_id {exercise_id!r} is not a registered exercise; "
                         f"registered: {', '.join(exercises.REGISTRY)}")
    ex = exercises.REGISTRY[exercise_id]
    if isinstance(answer, bool) or not isinstance(answer, int | float | np.integer | np.floating):
        return False
    value = float(answer)
    if not math.isfinite(value):
        return False
    return ex.is_right(value, float(ex.expected()))
