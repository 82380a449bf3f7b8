"""The course's graded lessons, built once per test session from the masters in course/."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("otter", reason="otter-grader (simlab's [test] extra) builds the lessons")

from simlab.course import assign  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MASTERS = sorted((ROOT / "course").glob("*.ipynb"))


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, assign.LessonBuild]:
    """Every lesson with a master, built by ``simlab course build`` into a temporary folder."""
    out = tmp_path_factory.mktemp("course")
    return {lesson.lesson: lesson for lesson in assign.build(out, ROOT / "course")}
