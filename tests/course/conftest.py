"""The course's graded lessons, built once per test session from the masters in course/."""

from __future__ import annotations

import pytest
from course_masters import ROOT

pytest.importorskip("otter", reason="otter-grader (simlab's [test] extra) builds the lessons")

from simlab.course import assign  # noqa: E402


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, assign.LessonBuild]:
    """Every lesson with a master, built by ``simlab course build`` into a temporary folder."""
    out = tmp_path_factory.mktemp("course")
    return {lesson.lesson: lesson for lesson in assign.build(out, ROOT / "course")}
