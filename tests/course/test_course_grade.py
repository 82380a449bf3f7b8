"""Grading a lesson's submissions with its autograder: the solution gets full marks, the blank
student notebook zero without an error, and one wrong answer loses exactly that question's points.

The three submissions of a lesson are graded by one :func:`simlab.course.grade.grade` call in
this process, one after the other (``otter run`` starts a kernel and runs the whole notebook for
each): a worker process would import otter again, about 6 s of CPU each, while the test suite
keeps every core busy anyway. The worker processes are tested below, with two one-cell notebooks.
"""

from __future__ import annotations

import re

import nbformat
import pandas as pd
import pytest
from course_masters import MASTERS

from simlab.course import grade as grading

pytestmark = pytest.mark.slow  # runs notebooks in kernels through otter: about two minutes

LESSONS = [p.stem for p in MASTERS]

#: Per lesson: an auto-graded question and a wrong answer to it, a mistake a student could make
#: (lesson 0: missing the request that arrives while the only environment is busy; lesson 1:
#: option b of the prediction, which takes the cold-start chance e^(-lambda T) for the idle count).
WRONG = {
    "00_start_here": ("answer_00_1", "3"),
    "01_cold_and_warm_starts": ("answer_01_3", '"b"'),
}


def test_every_lesson_has_a_wrong_answer() -> None:
    assert set(WRONG) == set(LESSONS)


def _with_wrong_answer(solution: nbformat.NotebookNode, question: str,
                       value: str) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(solution)
    pattern = re.compile(rf"^{question} = .*$", flags=re.M)
    cells = [c for c in nb.cells if c.cell_type == "code" and pattern.search(c.source)]
    assert len(cells) == 1, f"{question}: {len(cells)} cells set it"
    cells[0].source = pattern.sub(f"{question} = {value}", cells[0].source)
    return nb


@pytest.fixture(scope="module", params=LESSONS)
def graded(request: pytest.FixtureRequest, built: dict, tmp_path_factory: pytest.TempPathFactory,
           ) -> tuple[object, pd.DataFrame, str]:
    lesson = built[request.param]
    folder = tmp_path_factory.mktemp(f"{lesson.lesson}-submissions")
    solution = nbformat.read(lesson.solution, 4)
    nbformat.write(solution, folder / "solution.ipynb")
    nbformat.write(nbformat.read(lesson.student, 4), folder / "blank.ipynb")
    nbformat.write(_with_wrong_answer(solution, *WRONG[lesson.lesson]), folder / "wrong.ipynb")
    table = grading.grade(lesson.root, folder, jobs=1)
    written = pd.read_csv(folder / grading.GRADES_FILE)
    return lesson, table, written


def test_grades_csv_has_a_row_per_submission_and_a_column_per_question(graded) -> None:
    lesson, table, written = graded
    names = [q.name for q in lesson.questions]
    assert list(written.columns) == ["submission", *names, "total"]
    assert list(written["submission"]) == ["blank", "solution", "wrong"]
    for q in lesson.questions:
        if q.manual:  # left for the teacher
            assert written[q.name].isna().all()
    pd.testing.assert_frame_equal(written, table.astype(written.dtypes.to_dict()),
                                  check_dtype=False)


def test_solution_gets_full_marks(graded) -> None:
    lesson, table, _ = graded
    row = table.set_index("submission").loc["solution"]
    for q in lesson.questions:
        if not q.manual:
            assert row[q.name] == q.points, q.name
    assert row["total"] == sum(q.points for q in lesson.questions if not q.manual) > 0


def test_every_submission_was_graded_without_an_error_on_its_first_run(graded) -> None:
    """No error, and no second run: a notebook of about 20 s never needs the cell timeout
    (a kernel client that missed a reply used to wait that long, see simlab.course.kernel)."""
    _, table, _ = graded
    assert table.attrs["errors"] == {}
    assert table.attrs["retried"] == {}


def test_blank_student_notebook_gets_zero(graded) -> None:
    lesson, table, _ = graded
    row = table.set_index("submission").loc["blank"]
    assert all(row[q.name] == 0 for q in lesson.questions if not q.manual)
    assert row["total"] == 0


def test_one_wrong_answer_loses_exactly_its_points(graded) -> None:
    lesson, table, _ = graded
    question, _ = WRONG[lesson.lesson]
    rows = table.set_index("submission")
    points = {q.name: q.points for q in lesson.questions}
    assert rows.loc["wrong", question] == 0
    assert rows.loc["solution", "total"] - rows.loc["wrong", "total"] == points[question]


def test_a_file_that_is_not_a_notebook_scores_zero_with_its_reason(built: dict, tmp_path,
                                                                   capsys) -> None:
    lesson = built["00_start_here"]
    (tmp_path / "broken.ipynb").write_text("not json")
    table = grading.grade(lesson.root, tmp_path, jobs=1)
    assert table.loc[0, "total"] == 0
    assert "NotJSONError" in table.attrs["errors"]["broken"]
    assert "broken.ipynb could not be graded, scored 0" in capsys.readouterr().err


#: The cell timeout of the two tests below (s): above what otter's own first cell takes (it
#: imports otter: about 4 s on an idle 2-core machine, several times that when both cores are
#: shared with other tests), far below the cells that stall (60 s).
SHORT_TIMEOUT = 30


def test_a_cell_that_runs_too_long_is_stopped_retried_once_and_reported(
        built: dict, tmp_path, capsys) -> None:
    """Two notebooks of one cell each, graded together: one stalls on every run (an error after
    its second run, scored 0), the other only on its first run (graded on its second, named)."""
    lesson = built["00_start_here"]
    metadata = nbformat.read(lesson.student, 4).metadata  # names the assignment
    marker = tmp_path / "first-run-done"
    stalls = {
        "endless": "import time\ntime.sleep(60)",
        "slow_once": (f"import pathlib, time\nmarker = pathlib.Path({str(marker)!r})\n"
                      "if not marker.exists():  # only the first run stalls\n"
                      "    marker.touch()\n    time.sleep(60)"),
    }
    for name, source in stalls.items():
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)],
                                      metadata=metadata)
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
    table = grading.grade(lesson.root, tmp_path, jobs=2, cell_timeout=SHORT_TIMEOUT)
    table = table.set_index("submission")
    assert marker.exists()  # the stalling cell ran
    assert list(table["total"]) == [0, 0]  # neither answers anything
    errors, retried = table.attrs["errors"], table.attrs["retried"]
    assert list(errors) == ["endless"]
    assert errors["endless"] == f"a cell ran longer than {SHORT_TIMEOUT} s (twice)"
    assert list(retried) == ["slow_once"]
    assert retried["slow_once"].startswith(f"a cell ran longer than {SHORT_TIMEOUT} s: ")
    err = capsys.readouterr().err
    assert "endless.ipynb could not be graded, scored 0" in err
    assert "slow_once.ipynb was graded on its second run" in err
