"""Tests of simlab.course.teacher: reference answers for grading, and the capstone's held-out score
and ranking, which no lesson exposes to a student."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simlab.course import teacher
from simlab.course.lessons import capstone
from simlab.course.lessons.keep_alive_game import CAPSTONE

ROOT = Path(__file__).resolve().parents[2]


def test_reference_answers_by_kind() -> None:
    import simlab.course.lessons.concurrency  # noqa: F401 (registers lesson 2)

    assert teacher.expected_answer("02-littles-law") == pytest.approx(14.0)  # compute
    assert teacher.expected_answer("02-burst-seconds-sooner") == "a"  # predict: the option
    assert teacher.expected_answer("02-reserved-for-1-percent") == 18  # design: one right answer
    assert teacher.expected_answer("02-most-reserved") is None  # explain: graded by rubric
    with pytest.raises(ValueError, match="no exercise '99-x'"):
        teacher.expected_answer("99-x")


def test_the_lesson_keeps_no_held_out_seeds() -> None:
    assert "held_out_seeds" not in CAPSTONE
    assert set(CAPSTONE["validation_seeds"]).isdisjoint(CAPSTONE["training_seeds"])
    for name in ("09_capstone_keep_alive.ipynb", "09b_keep_alive_policy.ipynb"):
        for copy in (ROOT / "notebooks" / name, ROOT / "notebooks" / "solutions" / name):
            text = json.loads(copy.read_text())
            sources = "".join("".join(c["source"]) for c in text["cells"])
            assert "simlab.course.teacher" not in sources and "held_out_score" not in sources


@pytest.mark.parametrize("seeds", [[], [1], [51, 200], CAPSTONE["validation_seeds"]])
def test_held_out_seeds_must_avoid_the_lessons_seeds(seeds) -> None:
    with pytest.raises(ValueError, match="held-out seeds"):
        teacher.held_out_score(600, seeds)
    with pytest.raises(ValueError, match="held-out seeds"):
        teacher.held_out_leaderboard([600], seeds)


def test_held_out_score_and_ranking_use_the_teachers_seeds() -> None:
    held = teacher.held_out_score(600, [777])
    assert held == pytest.approx(capstone.score(600, seeds=[777]))
    assert held != pytest.approx(capstone.score(600))  # not the validation workloads
    board = teacher.held_out_leaderboard([None, 600], [777])
    assert list(board["policy"]) == ["fixed 10 min (baseline)", "no keep-alive"]
    assert board["score"].iloc[0] == pytest.approx(held)


def test_check_policy_shows_a_validation_score_only(capsys) -> None:
    class Short(capstone.LearningKeepAlive):
        name = "short"

        def idle_timeout_s(self, function, now_s):
            return 60.0

    result = capstone.check_policy(Short())
    assert "validation score" in result.message
    ours = capstone.score(Short(), seeds=CAPSTONE["validation_seeds"])
    assert f"{ours:.3f}" in result.message
    capsys.readouterr()
