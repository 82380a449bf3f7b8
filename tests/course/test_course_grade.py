"""Grading a lesson's submissions with its autograder: the solution gets full marks, the blank
student notebook zero without an error, and one wrong answer loses exactly that question's points.

Every lesson's submission with one wrong answer is graded end to end (``otter run`` starts a
kernel, runs the whole notebook, then the hidden tests): it gets full marks on every other
question, so the zip's hidden tests accept the solution's answers and the notebook runs under
the autograder, and zero on the wrong one. Lesson 0 also has its solution and blank student
notebook graded end to end. For the other lessons these two claims are checked at the
only place the wrong submission leaves open, by otter's own test runner on the zip's hidden test
files, without a notebook: the wrong question's test passes on the reference answer, and every
test fails on ``...``, the value each answer has in the student's notebook
(``test_course_assign.py`` checks that; the browser test runs every student notebook without an
error). Each notebook graded costs 10 to 30 s of CPU; grading three per lesson would add about
four minutes to the test command.

The submissions of a lesson are graded by one :func:`simlab.course.grade.grade` call in this
process, one after the other: a worker process would import otter again, about 6 s of CPU each,
while the test suite keeps every core busy anyway. The worker processes, the cell timeout and a
file that is not a notebook are tested in ``test_course_grade_workers.py``, a file of its own so
that it runs beside this one.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from course_masters import MASTERS

import simlab.course.lessons
from simlab.course import grade as grading
from simlab.course.teacher import expected_answer

pytestmark = pytest.mark.slow  # runs notebooks in kernels through otter: minutes

LESSONS = [p.stem for p in MASTERS]

#: Per lesson: an auto-graded question and a wrong answer to it, a mistake a student could make.
WRONG = {
    # missing the request that arrives while the only environment is busy
    "00_start_here": ("answer_00_1", "3"),
    # option b: the cold-start chance e^(-lambda T) taken for the idle count
    "01_cold_and_warm_starts": ("answer_01_3", '"b"'),
    # a cap on batch taken for a cut in the pool checkout shares
    "02_concurrency_and_throttling": ("answer_02_1", '"c"'),
    # section 1's lesson (today's refill wins) carried to a burst the old head start covers
    "02b_scaling_and_erlang_b": ("answer_02b_2", '"d"'),
    # one vCPU at 1,769 MB taken as the end of every speed-up, threads or not
    "03_memory_cpu_and_timeouts": ("answer_03_2", '"a"'),
    # the size that runs fastest (one full vCPU) taken for the one that meets the budget cheapest
    "03b_power_tuning": ("answer_03b_2", "1769"),
    # billed as it ran, today's 1 ms rounding applied to 2018
    "04_billing_granularity": ("answer_04_1", "101"),
    # the theory's break-even (every request on a PC environment) taken for the simulated one
    "04b_provisioned_concurrency": ("answer_04b_2", "lesson.pc_break_even_theory(10, 1.0)"),
    # one invocation per subscriber, the two retries of a failed one forgotten
    "05_event_sources": ("answer_05_1", "2"),
    # the client taken to wait as long as the function runs
    "05b_event_payloads": ("answer_05b_1", '"a"'),
    # memory taken to set only RAM, not the CPU share
    "06_logs_and_monitoring": ("answer_06_2", '"a"'),
    # the trail taken to wait 5 minutes after each call, not to cut files at fixed boundaries
    "06b_metrics_and_trail": ("answer_06b_3", "5"),
    # one retry taken for a fresh draw: a retry 0.5 s later often finds both environments busy
    "07_use_case_labs": ("answer_07_3", "(2, 1)"),
    # every change counted as an invalid order, not one in five
    "07b_background_labs": ("answer_07b_3", "2 * 15 * 60"),
    # a percentage given for a fraction
    "08_is_the_simulator_right": ("answer_08_1", "100 * theory.p_cold_ttl(rate, 600)"),
    # the count matched with a keep-alive shorter than an idle time the data show survived
    "08b_calibrating_the_model": ("answer_08b_2", "630"),
    # environments never reclaimed taken to mean no cold start at all
    "09_capstone_keep_alive": ("answer_09_1", '"a"'),
    # every request of the rarely called functions taken to turn cold, not only their few warm ones
    "09b_keep_alive_policy": ("answer_09b_1", '"a"'),
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


#: The lesson whose solution and blank student notebook are graded end to end as well (the
#: shortest: about 3 s of cells).
END_TO_END = ("00_start_here",)


#: The lessons this file grades; ``test_course_grade_more.py`` runs the same tests on the others,
#: so that two test workers grade at once (eleven notebooks of 10 to 30 s each in a row made one
#: worker the last of the test run).
HERE = LESSONS[0::2]


def graded_lesson(name: str, built: dict, tmp_path_factory: pytest.TempPathFactory,
                  ) -> tuple[object, pd.DataFrame, pd.DataFrame]:
    """Grade lesson ``name``'s submissions: the built lesson, the grade table and grades.csv."""
    lesson = built[name]
    folder = tmp_path_factory.mktemp(f"{lesson.lesson}-submissions")
    solution = nbformat.read(lesson.solution, 4)
    if lesson.lesson in END_TO_END:
        nbformat.write(solution, folder / "solution.ipynb")
        nbformat.write(nbformat.read(lesson.student, 4), folder / "blank.ipynb")
    nbformat.write(_with_wrong_answer(solution, *WRONG[lesson.lesson]), folder / "wrong.ipynb")
    table = grading.grade(lesson.root, folder, jobs=1)
    written = pd.read_csv(folder / grading.GRADES_FILE)
    return lesson, table, written


@pytest.fixture(scope="module", params=HERE)
def graded(request: pytest.FixtureRequest, built: dict, tmp_path_factory: pytest.TempPathFactory,
           ) -> tuple[object, pd.DataFrame, pd.DataFrame]:
    return graded_lesson(request.param, built, tmp_path_factory)


def _hidden_test(lesson: object, question: str, folder: Path) -> object:
    """The question's hidden test file from the lesson's autograder zip, read by otter."""
    from otter.test_files.ok_test import OKTestFile

    with zipfile.ZipFile(lesson.autograder) as z:
        path = Path(z.extract(f"tests/{question}.py", folder))
    return OKTestFile.from_file(str(path))


def _exercise_id(test: object) -> str:
    """The exercise a hidden test judges by (``is_right("<id>", ...)``)."""
    return re.search(r"is_right\(['\"]([^'\"]+)['\"]",
                     "\n".join(case.body for case in test.test_cases)).group(1)


def test_grades_csv_has_a_row_per_submission_and_a_column_per_question(graded) -> None:
    lesson, table, written = graded
    names = [q.name for q in lesson.questions]
    assert list(written.columns) == ["submission", *names, "total"]
    expected = ["blank", "solution", "wrong"] if lesson.lesson in END_TO_END else ["wrong"]
    assert list(written["submission"]) == expected
    for q in lesson.questions:
        if q.manual:  # left for the teacher
            assert written[q.name].isna().all()
    pd.testing.assert_frame_equal(written, table.astype(written.dtypes.to_dict()),
                                  check_dtype=False)


def test_every_submission_was_graded_without_an_error_on_its_first_run(graded) -> None:
    """No error, and no second run: a notebook of under a minute never needs the cell timeout
    (a kernel client that missed a reply used to wait that long, see simlab.course.kernel)."""
    _, table, _ = graded
    assert table.attrs["errors"] == {}
    assert table.attrs["retried"] == {}


def test_one_wrong_answer_loses_exactly_its_points(graded) -> None:
    lesson, table, _ = graded
    question, _ = WRONG[lesson.lesson]
    row = table.set_index("submission").loc["wrong"]
    auto = [q for q in lesson.questions if not q.manual]
    for q in auto:
        assert row[q.name] == (0 if q.name == question else q.points), q.name
    assert row["total"] == sum(q.points for q in auto) - next(
        q.points for q in auto if q.name == question)


def test_solution_gets_full_marks(graded, tmp_path) -> None:
    lesson, table, _ = graded
    auto = [q for q in lesson.questions if not q.manual]
    if lesson.lesson in END_TO_END:
        row = table.set_index("submission").loc["solution"]
        for q in auto:
            assert row[q.name] == q.points, q.name
        assert row["total"] == sum(q.points for q in auto) > 0
        return
    # every other question got full marks in the wrong submission; the wrong one's test:
    question, _ = WRONG[lesson.lesson]
    test = _hidden_test(lesson, question, tmp_path)
    for module in pkgutil.iter_modules(simlab.course.lessons.__path__):  # register exercises
        importlib.import_module(f"simlab.course.lessons.{module.name}")
    test.run({question: expected_answer(_exercise_id(test))})
    assert test.passed_all and test.score == test.possible > 0, test.summary()


def test_blank_student_notebook_gets_zero(graded, tmp_path) -> None:
    lesson, table, _ = graded
    auto = [q for q in lesson.questions if not q.manual]
    if lesson.lesson in END_TO_END:
        row = table.set_index("submission").loc["blank"]
        assert all(row[q.name] == 0 for q in auto)
        assert row["total"] == 0
        return
    for q in auto:  # each answer is `...` in the student's notebook
        test = _hidden_test(lesson, q.name, tmp_path)
        test.run({q.name: ...})
        assert test.score == 0 and not test.passed_all, q.name
