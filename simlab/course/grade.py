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
Each submission runs through a kernel client that polls its sockets in short slices
(:mod:`simlab.course.kernel`): the stock client can sleep through a kernel's reply on a loaded
machine until the cell's timeout. Each cell may run for at most ``cell_timeout`` seconds
(:data:`CELL_TIMEOUT` by default); a cell that takes longer (an endless loop, or a kernel that
stopped answering) ends that run with an error. The submission is then run once more: a second
failure is reported (scored 0), and a submission graded on its second run is named on stderr and
in the table's ``attrs["retried"]``, so one notebook never stalls a class's grading unnoticed.
"""

from __future__ import annotations

import contextlib
import json
import math
import multiprocessing
import os
import sys
import warnings
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
#: whole notebook runs in about 20 s; the bound stops an endless loop, and a kernel that stopped
#: answering.
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


def grade_one(submission: Path, autograder: Path,
              cell_timeout: float = CELL_TIMEOUT) -> dict[str, object]:
    """Grade one submission with otter's local runner, each cell given ``cell_timeout`` s.

    Returns
    -------
    dict
        ``scores``: points per auto-graded question; ``error``: why grading failed as a whole
        (``None`` when it ran); ``retried``: why the first run failed, when a second run was
        needed (``None`` when the first run did).
    """
    from otter.api import grade_submission

    paths = str(Path(submission).resolve()), str(Path(autograder).resolve())
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(2)
    error = retried = None
    try:
        os.dup2(devnull, 2)  # the kernel's start-up warnings; the verdict is in the results
        for _attempt in range(2):  # a cell that ran too long is run once more
            try:
                with _executor(cell_timeout), warnings.catch_warnings():
                    # otter's own use of a pandas keyword that pandas will remove: not the
                    # teacher's concern
                    warnings.filterwarnings("ignore", message="The inplace keyword",
                                            module=r"otter\.")
                    results = grade_submission(*paths, quiet=True)
                error = None
                break
            except TimeoutError as err:  # the error unless the second run ends in time
                retried = f"a cell ran longer than {cell_timeout:g} s: {err}"
                error = f"a cell ran longer than {cell_timeout:g} s (twice)"
            except Exception as err:  # noqa: BLE001 - one bad file must not stop the grading
                error = f"{type(err).__name__}: {err}"
                break
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    if error is not None:
        return {"scores": {}, "error": error, "retried": retried}
    if results.catastrophic_error is not None:
        return {"scores": {}, "error": str(results.catastrophic_error), "retried": retried}
    return {"scores": {name: float(tf.score) for name, tf in results.results.items()},
            "error": None, "retried": retried}


@contextlib.contextmanager
def _executor(cell_timeout: float) -> Iterator[None]:
    """Give the ``ExecutePreprocessor`` otter creates a cell timeout and a kernel client that
    cannot sleep through a reply (:class:`simlab.course.kernel.SlicedPollKernelManager`).

    otter imports ``nbconvert.preprocessors.ExecutePreprocessor`` when it grades and configures
    it afresh, with no way to pass either in; for the duration of one grading that name is a
    subclass whose ``timeout`` is ``cell_timeout`` and whose kernel manager is that class.
    """
    import nbconvert.preprocessors as preprocessors
    from traitlets import Integer, Type

    from simlab.course.kernel import SlicedPollKernelManager

    base = preprocessors.ExecutePreprocessor
    timed = type("TimedExecutePreprocessor", (base,), {
        "timeout": Integer(math.ceil(cell_timeout), allow_none=True).tag(config=True),
        "kernel_manager_class": Type(SlicedPollKernelManager, config=True)})
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
          jobs: int | None = None, cell_timeout: float = CELL_TIMEOUT) -> pd.DataFrame:
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
    cell_timeout
        Longest run of one cell (s), 1 to 3,600: a submission with a cell that runs longer is
        run once more, then scored 0 (:data:`CELL_TIMEOUT` by default).

    Returns
    -------
    pandas.DataFrame
        The table written: ``submission``, one column per question, ``total``; its
        ``attrs["errors"]`` maps each submission that could not be graded (scored 0) to why;
        ``attrs["retried"]`` each submission graded on its second run to why the first failed.
    """
    import pandas as pd

    lesson = graded_lesson(lesson_dir)
    files = submissions_in(submissions)
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise CourseError(f"jobs must be a whole number >= 1, got {jobs!r}")
    if isinstance(cell_timeout, bool) or not isinstance(cell_timeout, (int, float)) or not (
            1 <= cell_timeout <= 3600):
        raise CourseError(f"cell_timeout (--timeout) must be a number of seconds from 1 to "
                          f"3600, got {cell_timeout!r}")
    _otter()
    workers = min(len(files), jobs if jobs is not None else (os.cpu_count() or 1))
    if workers == 1:
        outcomes = [grade_one(f, lesson.autograder, cell_timeout) for f in files]
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            outcomes = list(pool.map(grade_one, files, [lesson.autograder] * len(files),
                                     [cell_timeout] * len(files)))
    rows, errors, retried = [], {}, {}
    for path, outcome in zip(files, outcomes, strict=True):
        if outcome["retried"] is not None and outcome["error"] is None:
            retried[path.stem] = outcome["retried"]
            print(f"simlab course grade: {path.name} was graded on its second run: "
                  f"{outcome['retried']}", file=sys.stderr)
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
    table.attrs["retried"] = retried
    return table
