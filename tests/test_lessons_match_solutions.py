"""Each lesson is its solution with the exercise cells left open: checked without running either.

A lesson (``notebooks/NN_*.ipynb``) and its solution (``notebooks/solutions/NN_*.ipynb``) share
every code cell but the exercises'. The test command runs each notebook once: nbval re-executes
the *solutions* and compares every stored output, and the browser test runs every *lesson* in
JupyterLab (Run All, no error output). What nbval would have added by executing the lessons as
well is checked here, from the stored outputs:

* every code cell a lesson shares with its solution (same source, matched in order) stored the
  same outputs, after the nbval sanitizer (``tests/nbval_sanitize.cfg``), as the solution's,
  whose outputs nbval checks against a fresh run; so a lesson output that went stale with a
  change of the code fails here once the solution is re-run;
* every cell only the lesson has is an open exercise: it calls ``check("<id>", answer)`` or
  ``check_policy(policy)`` with the answer left as ``...``, and its stored output is exactly what
  those calls print today for an unanswered exercise;
* every concept check (cell metadata kind ``"concept"``) a lesson leaves open stored exactly the
  text form of the question with no answer recorded, ``ask("<id>", ...)``;
* every exercise a lesson leaves open is answered in its solution.

A lesson whose later outputs depend on the student's answer (the capstone's leaderboard ranks the
student's own policy) cannot be checked so: it is listed in :data:`RUN_BY_NBVAL`, and the test
command's nbval step executes it as well (checked below).
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import io
import pkgutil
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest

import simlab.course.lessons
from simlab.course.concept_checks import ask
from simlab.course.exercises import check
from simlab.course.lessons.capstone import check_policy

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
CHECK = re.compile(r"""\bcheck\(\s*["']([^"']+)["']\s*,\s*answer\w*\s*\)""")
ASK = re.compile(r"""\bask\(\s*["']([^"']+)["']\s*,\s*concept_\w+\s*\)""")
CHECK_POLICY = re.compile(r"\bcheck_policy\(\s*policy\s*\)")
#: Lessons nbval executes too (``scripts/test.sh`` names each), with the reason.
RUN_BY_NBVAL = {
    "09b_keep_alive_policy.ipynb": "the leaderboard after the exercise ranks the student's "
                                   "own policy, so its outputs differ from the solution's",
}
TEST_SH = ROOT / "scripts" / "test.sh"
#: Output parts nbval compares (it never compares images or widget views).
COMPARED = ("text/plain", "text/html", "text/markdown", "application/json")


def _rules() -> list[tuple[str, str]]:
    lines = SANITIZE.read_text(encoding="utf-8").splitlines()
    return [(line[len("regex: "):], lines[i + 1][len("replace: "):])
            for i, line in enumerate(lines) if line.startswith("regex: ")]


RULES = _rules()


def _sanitized(text: str) -> str:
    for regex, replace in RULES:
        text = re.sub(regex, replace, text)
    return text


def _outputs(cell: Any) -> list[tuple[str, ...]]:
    """A cell's outputs as nbval compares them: stream text, the text forms of results, and
    errors."""
    out: list[tuple[str, ...]] = []
    for o in cell.outputs:
        if o.output_type == "stream":  # consecutive chunks of one stream are one output
            if out and out[-1][:2] == ("stream", o.name):
                out[-1] = ("stream", o.name, out[-1][2] + o.text)
            else:
                out.append(("stream", o.name, o.text))
        elif o.output_type == "error":
            out.append(("error", o.ename, o.evalue))
        else:
            out += [(o.output_type, mime, _sanitized(str(o.data[mime])))
                    for mime in COMPARED if mime in o.get("data", {})]
    return [(*o[:2], _sanitized(o[2])) if o[0] == "stream" else o for o in out]


def _printed(cell: Any) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream")


def _code(path: Path) -> list[Any]:
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def _unanswered_output(source: str) -> str:
    """What the exercise checks of a lesson-only cell print with the answer left as ``...``."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for exercise_id in CHECK.findall(source):
            check(exercise_id, ...)
        for _ in CHECK_POLICY.findall(source):
            check_policy(...)
    return printed.getvalue()


@pytest.fixture(scope="module", autouse=True)
def every_exercise_registered() -> None:
    """Exercises register when their lesson module is imported."""
    for module in pkgutil.iter_modules(simlab.course.lessons.__path__):
        importlib.import_module(f"simlab.course.lessons.{module.name}")


def test_every_lesson_has_a_solution() -> None:
    assert len(LESSONS) >= 10
    missing = [p.name for p in LESSONS if not (ROOT / "notebooks" / "solutions" / p.name).exists()]
    assert not missing, f"lessons without a solution in notebooks/solutions/: {missing}"


def test_the_lessons_not_checked_here_are_executed_by_nbval() -> None:
    script = TEST_SH.read_text(encoding="utf-8")
    assert set(RUN_BY_NBVAL) <= {p.name for p in LESSONS}
    missing = [name for name in RUN_BY_NBVAL if f"notebooks/{name}" not in script]
    assert not missing, f"scripts/test.sh's nbval step must execute {missing}"


@pytest.mark.parametrize("lesson", [p for p in LESSONS if p.name not in RUN_BY_NBVAL],
                         ids=lambda p: p.name)
def test_lesson_is_its_solution_with_the_exercises_left_open(lesson: Path) -> None:
    ours = _code(lesson)
    theirs = _code(ROOT / "notebooks" / "solutions" / lesson.name)
    matcher = difflib.SequenceMatcher(a=[c.source for c in ours], b=[c.source for c in theirs],
                                      autojunk=False)
    problems = []
    open_ids: set[str] = set()
    for tag, i1, i2, j1, _ in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                mine, solved = ours[i1 + k], theirs[j1 + k]
                if "NBVAL_IGNORE_OUTPUT" in mine.source:
                    continue  # nbval does not compare it either (a live widget)
                if _outputs(mine) != _outputs(solved):
                    problems.append(
                        f"code cell {i1 + k + 1} has the solution's source but not its outputs "
                        f"(re-run the lesson top to bottom):\n  lesson:   {_outputs(mine)}\n"
                        f"  solution: {_outputs(solved)}")
            continue
        for i in range(i1, i2):
            source = ours[i].source
            if not source.strip():
                continue
            concepts = ASK.findall(source)
            if concepts and ours[i].metadata.get("simlab", {}).get("kind") == "concept":
                shown = [o.data.get("text/plain") for o in ours[i].outputs
                         if o.output_type == "execute_result"]
                if shown != [repr(ask(concepts[-1], ...))]:
                    problems.append(f"code cell {i + 1} (concept check {concepts[-1]}) stored "
                                    f"{shown!r}, not the question with no answer recorded")
                continue
            ids = CHECK.findall(source)
            if not ids and not CHECK_POLICY.search(source):
                problems.append(f"code cell {i + 1} is not in the solution and checks no "
                                f"exercise:\n{source[:300]}")
                continue
            open_ids.update(ids)
            if _printed(ours[i]) != _unanswered_output(source) or any(
                    o.output_type != "stream" for o in ours[i].outputs):
                problems.append(f"code cell {i + 1} (an open exercise) stored "
                                f"{_printed(ours[i])!r}, but unanswered it prints "
                                f"{_unanswered_output(source)!r}")
    solved_ids = {i for c in theirs for i in CHECK.findall(c.source)}
    if open_ids - solved_ids:
        problems.append(f"exercises left open in the lesson but never checked in the solution: "
                        f"{sorted(open_ids - solved_ids)}")
    assert not problems, f"{lesson.name}:\n" + "\n".join(problems)
