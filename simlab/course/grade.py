"""Grade a folder of submissions of one built lesson with otter-grader, locally, into grades.csv.

::

    simlab course build build/course
    simlab course grade build/course/00_start_here submissions/00/

Every ``.ipynb`` in the submissions folder (not in subfolders) is run top to bottom in a fresh
kernel of the current Python environment by ``otter run``'s engine (no Docker: the environment
must have simlab installed, and the students' code runs with the teacher's rights), then the
lesson's hidden tests are run on its variables. A notebook whose cells fail still gets the points
of the questions whose tests pass; a file that is not a notebook scores zero, with a warning.

``grades.csv`` has one row per submission (the file name without ``.ipynb``, sorted) and one column
per question of the lesson, in the master's order, then ``total``: the auto-graded points. The
columns of written (manual) questions are left empty for the teacher, who adds them to ``total``
after marking them with the rubric of the solution notebook.

Submissions are graded in parallel worker processes (``jobs``, one per CPU by default). The
workers are started fresh ("spawn"), not forked: the calling process may already hold a kernel's
ZeroMQ sockets and threads, which a forked copy must not share; each worker imports otter itself.
Each cell of a submission may run for at most ``CELL_TIMEOUT`` seconds; a cell that takes longer
(an endless loop, or a kernel that stopped answering) ends that submission's grading with an
error, which is retried once and then reported, so one notebook never stalls a class's grading.
"""

from __future__ import annotations

import contextlib
import json
import math
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from simlab.course.assign import QUESTIONS_FILE, CourseError, Question

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterator

    import pandas as pd

__all__ = ["GradedLesson", "graded_lesson", "submissions_in", "grade_one", "grade",
           "GRADES_FILE"]

#: The file :func:`grade` writes, by default into the submissions folder.
GRADES_FILE = "grades.csv"

#: Longest time, in seconds, one cell of a submission may run while it is graded. A lesson's
#: whole notebook runs in about 20 s; the bound is there because the notebook client has been
#: seen to wait forever for an idle kernel's reply (one run in a few, on a loaded machine), and
#: a retry then finishes normally.
CELL_TIMEOUT = 120


@dataclass(frozen=True)
class GradedLesson:
    """A built lesson as the grader needs it: its name, autograder zip and questions."""

    lesson: str
    autograder: Path
    questions: tuple[Question, ...]


def graded_lesson(lesson_dir: Path) -> GradedLesson:
    """Read a lesson built by :func:`simlab.course.assign.build_lesson`.

    Raises
    ------
    CourseError
        ``lesson_dir`` is missing, or is not a built lesson (no ``questions.json`` or no
        autograder zip).
    """
    lesson_dir = Path(lesson_dir)
    if not lesson_dir.is_dir():
        raise CourseError(f"lesson folder {str(lesson_dir)!r} does not exist (build it with "
                          f"'simlab course build OUT', then give OUT/<lesson>)")
    manifest = lesson_dir / QUESTIONS_FILE
    if not manifest.is_file():
        inside = sorted(p.parent.name for p in lesson_dir.glob(f"*/{QUESTIONS_FILE}"))
        where = (f"; it holds the built lessons {', '.join(inside)}: give one of them"
                 if inside else " (run 'simlab course build OUT' and give OUT/<lesson>)")
        raise CourseError(f"{str(lesson_dir)!r} is not a built lesson: it has no "
                          f"{QUESTIONS_FILE}{where}")
    data = json.loads(manifest.read_text())
    lesson = data["lesson"]
    autograder = lesson_dir / "autograder" / f"{lesson}-autograder.zip"
    if not autograder.is_file():
        raise CourseError(f"{str(lesson_dir)!r} is not a built lesson: "
                          f"autograder/{autograder.name} is missing (run 'simlab course build "
                          f"OUT' again)")
    questions = tuple(Question(q["name"], float(q["points"]), bool(q["manual"]))
                      for q in data["questions"])
    return GradedLesson(lesson, autograder, questions)


def submissions_in(folder: Path) -> list[Path]:
    """The ``.ipynb`` files directly in ``folder``, sorted by name.

    Raises
    ------
    CourseError
        The folder is missing or holds no notebook.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CourseError(f"submissions folder {str(folder)!r} does not exist")
    found = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
    if not found:
        raise CourseError(f"submissions folder {str(folder)!r} holds no .ipynb notebook")
    return found


def grade_one(submission: Path, autograder: Path) -> dict[str, object]:
    """Grade one submission with otter's local runner.

    Returns
    -------
    dict
        ``scores``: points per auto-graded question; ``error``: why grading failed as a whole
        (``None`` when it ran).
    """
    from otter.api import grade_submission

    paths = str(Path(submission).resolve()), str(Path(autograder).resolve())
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(2)
    error = None
    try:
        os.dup2(devnull, 2)  # the kernel's start-up warnings; the verdict is in the results
        for _attempt in range(2):  # a stalled kernel is retried once
            try:
                with _cell_timeout():
                    results = grade_submission(*paths, quiet=True)
                error = None
                break
            except TimeoutError as err:
                error = f"a cell ran longer than {CELL_TIMEOUT} s (twice): {err}"
            except Exception as err:  # noqa: BLE001 - one bad file must not stop the grading
                error = f"{type(err).__name__}: {err}"
                break
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    if error is not None:
        return {"scores": {}, "error": error}
    if results.catastrophic_error is not None:
        return {"scores": {}, "error": str(results.catastrophic_error)}
    return {"scores": {name: float(tf.score) for name, tf in results.results.items()},
            "error": None}


@contextlib.contextmanager
def _cell_timeout() -> Iterator[None]:
    """Give the ``ExecutePreprocessor`` otter creates a cell timeout while grading.

    otter imports ``nbconvert.preprocessors.ExecutePreprocessor`` when it grades and configures
    it afresh, with no way to pass a timeout in; for the duration of one grading that name is a
    subclass whose ``timeout`` is :data:`CELL_TIMEOUT`.
    """
    import nbconvert.preprocessors as preprocessors
    from traitlets import Integer

    base = preprocessors.ExecutePreprocessor
    timed = type("TimedExecutePreprocessor", (base,), {
        "timeout": Integer(CELL_TIMEOUT, allow_none=True).tag(config=True)})
    preprocessors.ExecutePreprocessor = timed
    try:
        yield
    finally:
        preprocessors.ExecutePreprocessor = base


def _otter() -> None:
    try:
        import otter.api  # noqa: F401 - a clear error before any submission is run
    except ImportError as err:
        raise CourseError("grading needs otter-grader: pip install 'otter-grader>=7' (it is in "
                          "simlab's [test] extra)") from err


def grade(lesson_dir: Path, submissions: Path, *, out: Path | None = None,
          jobs: int | None = None) -> pd.DataFrame:
    """Grade every submission in a folder and write ``grades.csv``.

    Parameters
    ----------
    lesson_dir
        ``OUT/<lesson>`` of ``simlab course build OUT``.
    submissions
        Folder of the students' ``.ipynb`` files.
    out
        CSV file to write (default ``submissions/grades.csv``).
    jobs
        Worker processes (default: one per CPU, at most one per submission); 1 grades in this
        process.

    Returns
    -------
    pandas.DataFrame
        The table written: ``submission``, one column per question, ``total``; its
        ``attrs["errors"]`` maps each submission that could not be graded (scored 0) to why.
    """
    import pandas as pd

    lesson = graded_lesson(lesson_dir)
    files = submissions_in(submissions)
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise CourseError(f"jobs must be a whole number >= 1, got {jobs!r}")
    _otter()
    workers = min(len(files), jobs if jobs is not None else (os.cpu_count() or 1))
    if workers == 1:
        outcomes = [grade_one(f, lesson.autograder) for f in files]
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            outcomes = list(pool.map(grade_one, files, [lesson.autograder] * len(files)))
    rows, errors = [], {}
    for path, outcome in zip(files, outcomes, strict=True):
        if outcome["error"] is not None:
            errors[path.stem] = outcome["error"]
            print(f"simlab course grade: {path.name} could not be graded, scored 0: "
                  f"{outcome['error']}", file=sys.stderr)
        scores = outcome["scores"]
        row: dict[str, object] = {"submission": path.stem}
        for q in lesson.questions:
            row[q.name] = math.nan if q.manual else float(scores.get(q.name, 0.0))
        row["total"] = sum(float(scores.get(q.name, 0.0)) for q in lesson.questions
                           if not q.manual)
        rows.append(row)
    table = pd.DataFrame(rows, columns=["submission", *(q.name for q in lesson.questions),
                                        "total"])
    target = Path(out) if out is not None else Path(submissions) / GRADES_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(target, index=False)
    table.attrs["errors"] = errors
    return table
