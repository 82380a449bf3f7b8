"""What grades a class and stays out of a student's notebook: reference answers and the capstone's
held-out ranking.

Students check their work with :func:`simlab.course.exercises.check`, which judges an answer without
handing out the expected one, and the capstone's
:func:`~simlab.course.lessons.keep_alive_game.check_policy`
and :func:`~simlab.course.lessons.keep_alive_game.leaderboard` show a *validation* score. A teacher
grades
with this module, which no lesson imports:

* :func:`expected_answer`: an exercise's reference answer (a number, an option, one right design;
  ``None`` for a written answer, graded with the rubric of ``docs/teaching/rubrics.md``);
* :func:`held_out_score` and :func:`held_out_leaderboard`: the capstone's score and ranking on
  held-out workloads whose seeds the teacher chooses when grading (no default is kept anywhere,
  so a student cannot tune a policy on them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from simlab.course import exercises
from simlab.course.lessons import keep_alive_game

__all__ = ["expected_answer", "held_out_score", "held_out_leaderboard"]


def expected_answer(exercise_id: str) -> Any:
    """The reference answer of exercise ``exercise_id`` (computed once per process).

    Lessons register their exercises when imported: import the lesson's module first (for
    example ``simlab.course.lessons.concurrency``); an unknown id raises ValueError.
    """
    if exercise_id not in exercises.REGISTRY:
        raise ValueError(f"no exercise {exercise_id!r}; import its lesson's module first "
                         f"(registered: {', '.join(exercises.REGISTRY)})")
    return exercises._REFERENCE[exercise_id]()


def _held_out(seeds: Sequence[int]) -> tuple[int, ...]:
    used = set(keep_alive_game.CAPSTONE["training_seeds"]) | set(
        keep_alive_game.CAPSTONE["validation_seeds"])
    out = tuple(seeds)
    if not out or used & set(out):
        raise ValueError(f"held-out seeds must be a non-empty list of seeds the lesson does not "
                         f"use (training and validation: {sorted(used)}), got {list(seeds)!r}")
    return out


def held_out_score(policy: Any, seeds: Sequence[int], *,
                   weight: float = keep_alive_game.WEIGHT) -> float:
    """The capstone's score of ``policy`` on the held-out workloads of ``seeds`` (lower is
    better); ``seeds`` must avoid the lesson's training and validation seeds."""
    return keep_alive_game.score(policy, weight=weight, seeds=_held_out(seeds))


def held_out_leaderboard(policies: Iterable[Any] | Mapping[str, Any], seeds: Sequence[int], *,
                         weight: float = keep_alive_game.WEIGHT) -> pd.DataFrame:
    """The class's ranking: :func:`~simlab.course.lessons.keep_alive_game.leaderboard` on the
    held-out
    workloads of ``seeds`` (which must avoid the lesson's training and validation seeds)."""
    return keep_alive_game.leaderboard(policies, weight=weight, seeds=_held_out(seeds))
