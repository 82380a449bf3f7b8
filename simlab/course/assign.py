"""Graded lessons from one master notebook each: student, solution and autograder (otter-grader).

Where the masters live
----------------------
``course/NN_name.ipynb`` at the top of the repository, one per lesson, stored without
outputs. A master is the only file anyone edits for that lesson: ``notebooks/NN_name.ipynb`` (the
student's lesson) and ``notebooks/solutions/NN_name.ipynb`` are generated from it by
``simlab course sync`` (which then executes both, so that they are committed with the outputs
strict nbval compares), and ``tests/course/test_drift.py`` fails when a committed notebook's cells
differ from a fresh generation.

The master format (otter-grader's "assign" format, version 1)
-------------------------------------------------------------
* The first cell is a **raw** cell::

      # ASSIGNMENT CONFIG
      name: 00_start_here          # the file's stem; it names the autograder zip
      generate: true               # build the autograder zip
      init_cell: false             # the student's notebook needs no otter: it self-checks with
      check_all_cell: false        #   simlab.exercises.check, and otter grades elsewhere
      export_cell: false
      run_tests: false
      solutions_pdf: false
      template_pdf: false

* Every graded question is a block of cells between a raw ``# BEGIN QUESTION`` cell (YAML:
  ``name``, ``points``, and ``manual: true`` for a written answer) and a raw ``# END QUESTION``
  cell. The first cell after ``# BEGIN QUESTION`` is the prompt (markdown). ``name`` is a Python
  identifier, and for an auto-graded question it is also the variable that holds the answer
  (the autograder runs the whole notebook, then every test against its final variables, so each
  question needs a name of its own, never a shared ``answer``).
* The answer cell is written as the solution: a line ``name = <solution>  # SOLUTION`` becomes
  ``name = ...`` for the student; lines between ``# BEGIN SOLUTION NO PROMPT`` and
  ``# END SOLUTION`` disappear from the student's notebook (working steps, the solution's
  ``assert outcome.correct``). Keep the self-check call ``check("NN-id", name)`` outside them.
  A line ending with ``  # PROMPT`` is the student's only: the student's notebook keeps it
  without the marker, the solution notebook drops it. Together with a ``# BEGIN SOLUTION NO
  PROMPT`` block it gives the student a line otter's ``# SOLUTION`` cannot write (an answer line
  with a comment after ``...``, or the placeholder of a multi-line answer).
* A written answer may also be a code cell (a text in a variable, recorded by ``check``) followed
  by a markdown cell with the rubric, both inside the solution block: otter's "_Type your answer
  here_" cell is then left out of the student's notebook, whose answer cell is the code cell.
* Tests sit between raw ``# BEGIN TESTS`` and ``# END TESTS`` cells, one code cell per test. A
  test starting with ``# HIDDEN`` goes only into the autograder zip. Write tests as ``assert``
  statements (a test's expected output must otherwise be written out, doctest style); call
  :func:`simlab.course.hidden.is_right` so the grade and the self-check agree. Tests are all
  hidden here: a public test would add a ``grader.check`` cell that needs otter in the student's
  kernel.
* A written answer (``manual: true``) has its model answer and rubric as a markdown cell between
  raw ``# BEGIN SOLUTION`` and ``# END SOLUTION`` cells: the student's notebook gets a cell
  "_Type your answer here, replacing this text._" in its place, the solution notebook the answer
  and rubric. It has no tests; its column of ``grades.csv`` is left for the teacher.

See ``docs/teaching/assignments.md`` for a full example of each kind of question and the
teacher's workflow.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat

__all__ = ["CourseError", "Question", "LessonBuild", "default_masters", "find_masters",
           "read_questions", "solution_notebook", "student_notebook", "build_lesson", "build",
           "sync",
           "execute_notebook", "cell_sources", "QUESTIONS_FILE"]

#: The list of a built lesson's questions, written beside its three folders.
QUESTIONS_FILE = "questions.json"

_LESSON = re.compile(r"^\d\d[a-z]?_[a-z0-9_]+$")
_MARKER_LINE = re.compile(r"^\s*# (BEGIN|END) SOLUTION( NO PROMPT)?\s*$")
_SOLUTION_COMMENT = re.compile(r"\s*# ?SOLUTION\s*$")
_PROMPT_LINE = re.compile(r"\s*# PROMPT\s*$")
_RESPONSE_CELL = "_Type your answer here, replacing this text._"


class CourseError(ValueError):
    """A mistake in a course command's input: a missing folder, a lesson not built, a bad master."""


@dataclass(frozen=True)
class Question:
    """One graded question of a master: its ``name``, its ``points`` and whether a person grades
    it (``manual``)."""

    name: str
    points: float
    manual: bool = False


@dataclass(frozen=True)
class LessonBuild:
    """Where :func:`build_lesson` wrote one lesson: ``root`` (``OUT/<lesson>``) and in it the
    ``student`` and ``solution`` notebooks and the ``autograder`` zip."""

    lesson: str
    root: Path
    student: Path
    solution: Path
    autograder: Path
    questions: tuple[Question, ...]


def default_masters() -> Path:
    """The ``course/`` folder of the repository this simlab runs from (an editable install or a
    clone on ``sys.path``)."""
    import simlab

    return Path(simlab.__file__).resolve().parents[1] / "course"


def find_masters(masters: Path | None = None, lessons: Sequence[str] | None = None) -> list[Path]:
    """The master notebooks in ``masters`` (default :func:`default_masters`), in lesson order.

    Parameters
    ----------
    masters
        Folder of ``NN_name.ipynb`` masters.
    lessons
        Only these lessons (stems such as ``"00_start_here"``); an unknown one is an error.

    Raises
    ------
    CourseError
        The folder is missing or holds no master, or a requested lesson has none.
    """
    folder = Path(masters) if masters is not None else default_masters()
    if not folder.is_dir():
        raise CourseError(f"masters folder {str(folder)!r} does not exist (give the course/ "
                          f"folder of a simlab clone with --masters)")
    found = sorted(p for p in folder.glob("*.ipynb") if _LESSON.match(p.stem))
    if not found:
        raise CourseError(f"masters folder {str(folder)!r} holds no master notebook "
                          f"(NN_name.ipynb)")
    if lessons:
        by_name = {p.stem: p for p in found}
        unknown = [name for name in lessons if name not in by_name]
        if unknown:
            raise CourseError(f"lessons {unknown} have no master in {str(folder)!r}; masters: "
                              f"{', '.join(by_name)}")
        found = [by_name[name] for name in lessons]
    return found


def _raw_config(cell: nbformat.NotebookNode, header: str) -> dict | None:
    if cell.cell_type != "raw":
        return None
    lines = cell.source.strip().splitlines()
    if not lines or lines[0].strip() != header:
        return None
    import yaml

    config = yaml.safe_load("\n".join(lines[1:])) or {}
    if not isinstance(config, dict):
        raise CourseError(f"the {header!r} cell must hold YAML keys, got {cell.source!r}")
    return config


def read_questions(master: Path) -> tuple[Question, ...]:
    """The questions of a master notebook, in order, from its ``# BEGIN QUESTION`` cells.

    Raises
    ------
    CourseError
        The master's ``# ASSIGNMENT CONFIG`` is missing, does not name the file's lesson or does
        not build the autograder, or a question lacks a name or positive points, or two share a
        name.
    """
    nb = nbformat.read(master, as_version=4)
    config = _raw_config(nb.cells[0], "# ASSIGNMENT CONFIG") if nb.cells else None
    if config is None:
        raise CourseError(f"{master.name}: the first cell must be a raw '# ASSIGNMENT CONFIG' "
                          f"cell")
    if config.get("name") != master.stem or config.get("generate") is not True:
        raise CourseError(f"{master.name}: ASSIGNMENT CONFIG needs name: {master.stem} and "
                          f"generate: true, got name={config.get('name')!r}, "
                          f"generate={config.get('generate')!r}")
    questions: list[Question] = []
    for cell in nb.cells:
        q = _raw_config(cell, "# BEGIN QUESTION")
        if q is None:
            continue
        name, points = q.get("name"), q.get("points")
        if not isinstance(name, str) or not name.isidentifier():
            raise CourseError(f"{master.name}: a question's name must be a Python identifier, "
                              f"got {name!r}")
        if isinstance(points, bool) or not isinstance(points, int | float) or points <= 0:
            raise CourseError(f"{master.name}: question {name!r} needs points > 0, got "
                              f"{points!r}")
        if any(other.name == name for other in questions):
            raise CourseError(f"{master.name}: two questions are named {name!r}")
        questions.append(Question(name, float(points), bool(q.get("manual", False))))
    return tuple(questions)


def _strip_markers(source: str) -> str:
    lines = [_SOLUTION_COMMENT.sub("", line) for line in source.splitlines()
             if not _MARKER_LINE.match(line) and not _PROMPT_LINE.search(line)]
    return "\n".join(lines)


def student_notebook(otter_student: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student notebook made from otter's: ``# PROMPT`` markers removed (their lines kept),
    and otter's "_Type your answer here_" cell dropped where the written answer is the code cell
    right after it."""
    nb = copy.deepcopy(otter_student)
    kept = []
    for i, cell in enumerate(nb.cells):
        following = nb.cells[i + 1] if i + 1 < len(nb.cells) else None
        if (cell.cell_type == "markdown" and cell.source.strip() == _RESPONSE_CELL
                and following is not None and following.cell_type == "code"
                and "otter_answer_cell" in following.metadata.get("tags", [])):
            continue
        if cell.cell_type == "code":
            cell.source = "\n".join(_PROMPT_LINE.sub("", line)
                                    for line in cell.source.splitlines())
        kept.append(cell)
    nb.cells = kept
    return nb


def solution_notebook(autograder_nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The solution notebook made from otter's autograder notebook: solutions kept without their
    markers, answer placeholders of written questions and grader cells dropped, no tests (its
    metadata keeps only the assignment's name, so that it can be graded as a submission).

    The lesson's title (``# Lesson N · ...``) becomes ``# Lesson N (solutions) · ...``.
    """
    nb = copy.deepcopy(autograder_nb)
    # otter refuses a submission without its assignment's name; the tests stay in the zip
    name = nb.metadata.get("otter", {}).get("assignment_name")
    nb.metadata["otter"] = {"assignment_name": name}
    cells = nb.cells
    kept = []
    for i, cell in enumerate(cells):
        tags = cell.metadata.get("tags", [])
        following = cells[i + 1].metadata.get("tags", []) if i + 1 < len(cells) else []
        if "otter_answer_cell" in tags and "otter_assign_solution_cell" in following:
            continue  # a written question's "type your answer here": the solution follows
        if cell.cell_type == "code" and cell.source.lstrip().startswith("grader."):
            continue
        if cell.cell_type == "code":
            cell.source = _strip_markers(cell.source)
        if "otter_assign_solution_cell" in tags:
            cell.metadata["tags"] = [t for t in tags if t != "otter_assign_solution_cell"]
            if not cell.metadata["tags"]:
                del cell.metadata["tags"]
        cell.metadata.pop("otter", None)
        kept.append(cell)
    if kept and kept[0].cell_type == "markdown":
        kept[0].source = re.sub(r"^# (Lesson \w+) · ", r"# \1 (solutions) · ", kept[0].source,
                                count=1)
    nb.cells = kept
    return nb


def _stable_ids(nb: nbformat.NotebookNode, master: Path,
                lesson: str) -> nbformat.NotebookNode:
    """Give the cells otter adds (a written answer's placeholder) an id derived from their place
    instead of a random one, so that regenerating a notebook changes nothing."""
    known = {c.get("id") for c in nbformat.read(master, as_version=4).cells}
    for i, cell in enumerate(nb.cells):
        if cell.get("id") not in known:
            cell["id"] = hashlib.sha1(f"{lesson}:{i}".encode()).hexdigest()[:8]
    return nb


def _otter_assign(master: Path, result: Path) -> None:
    try:
        from otter.assign import main as otter_assign
    except ImportError as err:
        raise CourseError("building graded lessons needs otter-grader: pip install "
                          "'otter-grader>=7' (it is in simlab's [test] extra)") from err
    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            otter_assign(str(master), str(result), no_pdfs=True, no_run_tests=True)
    except Exception as err:
        raise CourseError(f"{master.name}: otter assign failed: {err}\n{log.getvalue()}") from err


def build_lesson(master: Path, out: Path) -> LessonBuild:
    """Build one lesson into ``out/<lesson>/``: ``student/<lesson>.ipynb``,
    ``solution/<lesson>.ipynb``, ``autograder/<lesson>-autograder.zip`` and ``questions.json``.

    The three folders are replaced if they exist. The notebooks are not executed.
    """
    master = Path(master)
    lesson = master.stem
    questions = read_questions(master)
    root = Path(out) / lesson
    with tempfile.TemporaryDirectory(prefix=f"simlab-{lesson}-") as tmp:
        staged = Path(tmp) / "otter"
        _otter_assign(master.resolve(), staged)
        zips = sorted((staged / "autograder").glob(f"{lesson}-autograder_*.zip"))
        if len(zips) != 1:
            raise CourseError(f"{master.name}: otter assign made {len(zips)} autograder zips, "
                              f"expected one")
        for sub in ("student", "solution", "autograder"):
            shutil.rmtree(root / sub, ignore_errors=True)
            (root / sub).mkdir(parents=True)
        student = root / "student" / f"{lesson}.ipynb"
        nbformat.write(_stable_ids(student_notebook(nbformat.read(
            staged / "student" / f"{lesson}.ipynb", as_version=4)), master, lesson), student)
        solution = root / "solution" / f"{lesson}.ipynb"
        nbformat.write(solution_notebook(nbformat.read(staged / "autograder" / f"{lesson}.ipynb",
                                                       as_version=4)), solution)
        autograder = root / "autograder" / f"{lesson}-autograder.zip"
        shutil.copyfile(zips[0], autograder)
    (root / QUESTIONS_FILE).write_text(json.dumps(
        {"lesson": lesson, "questions": [asdict(q) for q in questions]}, indent=1) + "\n")
    return LessonBuild(lesson, root, student, solution, autograder, questions)


def build(out: Path, masters: Path | None = None,
          lessons: Sequence[str] | None = None) -> list[LessonBuild]:
    """Build every lesson with a master (or only ``lessons``) into ``out``; see
    :func:`build_lesson`."""
    return [build_lesson(master, Path(out)) for master in find_masters(masters, lessons)]


def execute_notebook(path: Path, *, timeout: float = 300.0) -> None:
    """Run a notebook top to bottom in a fresh kernel, in its own folder, and save it with its
    outputs (as ``jupyter nbconvert --execute --inplace`` does).

    Raises
    ------
    CourseError
        A cell failed or ran longer than ``timeout`` seconds.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    from simlab.course.kernel import SlicedPollKernelManager

    nb = nbformat.read(path, as_version=4)
    # The sliced client: the stock one can sleep through a reply until the timeout on a busy
    # machine (see simlab.course.kernel).
    client = NotebookClient(nb, timeout=timeout, kernel_manager_class=SlicedPollKernelManager,
                            resources={"metadata": {"path": str(Path(path).parent)}})
    try:
        client.execute()
    except (CellExecutionError, TimeoutError) as err:
        raise CourseError(f"{path}: a cell failed while executing: {err}") from err
    nbformat.write(nb, path)


def sync(notebooks: Path, masters: Path | None = None, lessons: Sequence[str] | None = None,
         *, execute: bool = True, timeout: float = 300.0) -> list[Path]:
    """Regenerate ``notebooks/<lesson>.ipynb`` and ``notebooks/solutions/<lesson>.ipynb`` from
    their masters, and (with ``execute``) run them so they are stored with their outputs.

    Returns
    -------
    list of Path
        The notebooks written.
    """
    notebooks = Path(notebooks)
    if not notebooks.is_dir():
        raise CourseError(f"notebooks folder {str(notebooks)!r} does not exist")
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="simlab-sync-") as tmp:
        for lesson in build(Path(tmp), masters, lessons):
            pairs = ((lesson.student, notebooks / f"{lesson.lesson}.ipynb"),
                     (lesson.solution, notebooks / "solutions" / f"{lesson.lesson}.ipynb"))
            for generated, target in pairs:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(generated, target)
                written.append(target)
    if execute:
        for path in written:
            execute_notebook(path, timeout=timeout)
    return written


def cell_sources(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """``(cell type, source)`` of every cell: what must agree between a generated notebook and
    the committed one (outputs and execution metadata may differ)."""
    return [(c.cell_type, c.source) for c in nb.cells]
