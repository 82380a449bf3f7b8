"""How long a lesson takes, counted from its notebook: the numbers of the instructor guide.

A lesson's time is the sum of four parts, each counted from the committed notebook:

* **reading**: the words of its markdown cells at :data:`WORDS_PER_MINUTE` (technical prose);
* **cells**: :data:`MINUTES_PER_OUTPUT` for each code cell that shows a table, a figure or printed
  text (not the dashboards, not the exercises);
* **dashboards**: :data:`MINUTES_PER_DASHBOARD` for each dashboard cell;
* **exercises**: :data:`MINUTES_PER_EXERCISE` for each checked exercise, and
  :data:`MINUTES_PER_DESIGN_TASK` for the capstone's policy (a small program, not one answer).

``python -m simlab.course.timing`` prints the table the guide's pages quote
(``docs/teaching/``) and the "**Time:**" sentence each lesson's introduction states
(:meth:`LessonTiming.sentence`); tests keep the pages, the introductions and the notebooks in
step.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = [
    "WORDS_PER_MINUTE", "MINUTES_PER_OUTPUT", "MINUTES_PER_DASHBOARD", "MINUTES_PER_EXERCISE",
    "MINUTES_PER_DESIGN_TASK", "LessonTiming", "lesson_timing", "exercise_ids", "main",
]

#: Reading speed for technical prose, words per minute.
WORDS_PER_MINUTE: float = 150.0
#: Minutes to run and read one cell that shows a table, a figure or printed text.
MINUTES_PER_OUTPUT: float = 0.5
#: Minutes for one dashboard: read its question, move its controls, read the result.
MINUTES_PER_DASHBOARD: float = 5.0
#: Minutes for one checked exercise (prediction, computation or short design).
MINUTES_PER_EXERCISE: float = 5.0
#: Minutes for a design task whose answer is a program (the capstone's keep-alive policy).
MINUTES_PER_DESIGN_TASK: float = 15.0

_CHECK = re.compile(r"""\bcheck\(\s*["']([0-9]{2}-[\w-]+)["']""")
_CHECK_POLICY = re.compile(r"\bcheck_policy\(")
_DASHBOARD = re.compile(r"\b\w*dashboard\(")


@dataclass(frozen=True)
class LessonTiming:
    """The parts of one lesson's time, in minutes, and what they were counted from.

    Attributes
    ----------
    lesson
        The notebook's name without ``.ipynb`` (``"01_cold_and_warm_starts"``).
    words
        Words of its markdown cells.
    outputs
        Code cells showing a table, a figure or text (dashboards and exercises excluded).
    dashboards
        Dashboard cells.
    exercises
        Checked exercises with one answer (``check("NN-...", answer)`` cells).
    design_tasks
        Exercises whose answer is a program (``check_policy(...)`` cells).
    """

    lesson: str
    words: int
    outputs: int
    dashboards: int
    exercises: int
    design_tasks: int

    @property
    def reading_min(self) -> int:
        """Reading time, rounded up to a whole minute."""
        return math.ceil(self.words / WORDS_PER_MINUTE)

    @property
    def cells_min(self) -> int:
        """Time to run and read the cells' tables and figures, rounded up."""
        return math.ceil(self.outputs * MINUTES_PER_OUTPUT)

    @property
    def dashboards_min(self) -> int:
        """Time for the dashboards."""
        return math.ceil(self.dashboards * MINUTES_PER_DASHBOARD)

    @property
    def exercises_min(self) -> int:
        """Time for the exercises, design tasks included."""
        return math.ceil(self.exercises * MINUTES_PER_EXERCISE
                         + self.design_tasks * MINUTES_PER_DESIGN_TASK)

    @property
    def total_min(self) -> int:
        """The lesson's whole time."""
        return self.reading_min + self.cells_min + self.dashboards_min + self.exercises_min

    def sentence(self) -> str:
        """The lesson's own statement of its time (its introduction's "**Time:**" line), from
        the same counts as :meth:`table`, so the notebook and the guide give one figure."""
        parts = [f"{self.reading_min} of reading ({self.words:,} words at about "
                 f"{WORDS_PER_MINUTE:g} a minute)"]
        if self.outputs:
            parts.append(f"{self.cells_min} for " + (
                "the table or figure the cells produce" if self.outputs == 1
                else f"the {self.outputs} tables and figures the cells produce"))
        if self.dashboards:
            dashboards = "the dashboard" if self.dashboards == 1 else (
                f"the {self.dashboards} dashboards")
            parts.append(f"{self.dashboards_min} for {dashboards}")
        if self.exercises:
            parts.append(f"{MINUTES_PER_EXERCISE * self.exercises:g} for "
                         + ("the exercise" if self.exercises == 1
                            else f"the {self.exercises} exercises"))
        if self.design_tasks:
            parts.append(f"{MINUTES_PER_DESIGN_TASK * self.design_tasks:g} for the policy you "
                         f"design")
        listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f" and {parts[-1]}"
        return f"**Time:** about {self.total_min} minutes: {listed}."

    def table(self) -> str:
        """The timing table of the lesson's guide page, in markdown."""
        ex = f"{self.exercises} exercises × {MINUTES_PER_EXERCISE:g} min"
        if self.design_tasks:
            ex += f" + {self.design_tasks} design task × {MINUTES_PER_DESIGN_TASK:g} min"
        rows = [
            ("reading", self.reading_min,
             f"{self.words:,} words of markdown at {WORDS_PER_MINUTE:g} words/min"),
            ("dashboards", self.dashboards_min,
             f"{self.dashboards} × {MINUTES_PER_DASHBOARD:g} min"),
            ("exercises", self.exercises_min, ex),
            ("running the cells", self.cells_min,
             f"{self.outputs} tables, figures and printouts × {MINUTES_PER_OUTPUT:g} min"),
            ("**total**", self.total_min, ""),
        ]
        lines = ["| part | minutes | counted from |", "|---|---|---|"]
        lines += [f"| {name} | {minutes} | {how} |" for name, minutes, how in rows]
        return "\n".join(lines)


def _cells(path: Path) -> list[nbformat.NotebookNode]:
    if not path.is_file():
        raise ValueError(f"path must be a notebook file, got {str(path)!r}")
    return list(nbformat.read(path, as_version=4).cells)


def exercise_ids(path: Path) -> list[str]:
    """Ids of the exercises a notebook checks (``check("NN-name", ...)``), in order."""
    ids: list[str] = []
    for cell in _cells(Path(path)):
        if cell.cell_type == "code":
            ids += [i for i in _CHECK.findall(cell.source) if i not in ids]
    return ids


def lesson_timing(path: Path) -> LessonTiming:
    """Count a lesson notebook's words, outputs, dashboards and exercises.

    Parameters
    ----------
    path : Path
        The lesson's notebook (``notebooks/NN_name.ipynb``), committed with its outputs.

    Returns
    -------
    LessonTiming
        The counts and the minutes they make.
    """
    path = Path(path)
    words = outputs = dashboards = exercises = design = 0
    for cell in _cells(path):
        if cell.cell_type == "markdown":
            words += len(cell.source.split())
            continue
        if cell.cell_type != "code":
            continue
        source = cell.source
        if _CHECK.search(source):
            exercises += len(set(_CHECK.findall(source)))
        elif _CHECK_POLICY.search(source):
            design += 1
        elif _DASHBOARD.search(source) and "NBVAL_IGNORE_OUTPUT" in source:
            dashboards += 1
        elif cell.get("outputs"):
            outputs += 1
    return LessonTiming(path.stem, words, outputs, dashboards, exercises, design)


def main(argv: list[str] | None = None) -> int:
    """Print every lesson's timing table and Time sentence:
    ``python -m simlab.course.timing [NOTEBOOKS_DIR]``."""
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else Path("notebooks")
    notebooks = sorted(folder.glob("[0-9][0-9]*.ipynb"))
    if not notebooks:
        raise SystemExit(f"NOTEBOOKS_DIR must hold the lesson notebooks, got {str(folder)!r}")
    for path in notebooks:
        timing = lesson_timing(path)
        print(f"## {timing.lesson}\n\n{timing.table()}\n\n{timing.sentence()}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
