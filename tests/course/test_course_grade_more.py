"""The lessons' grading, second half: the tests of ``test_course_grade.py`` on the lessons it
leaves out, in a file of its own so that a second test worker grades them beside the first."""

from __future__ import annotations

import pandas as pd
import pytest
from test_course_grade import (  # noqa: F401 - collected here, on this file's lessons
    HERE,
    LESSONS,
    graded_lesson,
    test_blank_student_notebook_gets_zero,
    test_every_submission_was_graded_without_an_error_on_its_first_run,
    test_grades_csv_has_a_row_per_submission_and_a_column_per_question,
    test_one_wrong_answer_loses_exactly_its_points,
    test_solution_gets_full_marks,
)

pytestmark = pytest.mark.slow  # runs notebooks in kernels through otter


def test_the_two_files_grade_every_lesson_once() -> None:
    assert sorted(HERE + MORE) == sorted(LESSONS) and not set(HERE) & set(MORE)


MORE = [name for name in LESSONS if name not in HERE]


@pytest.fixture(scope="module", params=MORE)
def graded(request: pytest.FixtureRequest, built: dict, tmp_path_factory: pytest.TempPathFactory,
           ) -> tuple[object, pd.DataFrame, pd.DataFrame]:
    return graded_lesson(request.param, built, tmp_path_factory)
