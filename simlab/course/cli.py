"""``simlab course``: build graded lessons from their masters, grade submissions, regenerate the
committed notebooks.

::

    simlab course build OUT                          # every lesson with a master in course/
    simlab course grade OUT/00_start_here SUBMISSIONS # grades.csv into SUBMISSIONS
    simlab course sync                               # notebooks/ from the masters, executed

A mistake (a missing folder, no notebooks, a lesson not built) stops with a message and exit
status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["add_course_parser", "run_course"]


def add_course_parser(commands: Any, positive_int: Callable[[str], int]) -> None:
    """Add ``course`` and its sub-commands to the ``simlab`` command's sub-parsers;
    ``positive_int`` parses a whole number >= 1 (argparse ``type``)."""
    course = commands.add_parser(
        "course", help="graded lessons: build, grade, regenerate the notebooks",
        description="Graded lessons from one master notebook each (course/NN_name.ipynb, "
        "otter-grader's assign format). See docs/teaching/assignments.md.")
    actions = course.add_subparsers(dest="action", metavar="ACTION", required=True)

    build = actions.add_parser(
        "build", help="write student, solution and autograder of every lesson",
        description="Write OUT/<lesson>/student/, OUT/<lesson>/solution/ and "
        "OUT/<lesson>/autograder/<lesson>-autograder.zip for every lesson with a master.")
    build.add_argument("out", metavar="OUT", type=Path, help="output folder")
    build.add_argument("--masters", type=Path, metavar="DIR",
                       help="folder of master notebooks (default: the repository's course/)")
    build.add_argument("--lesson", dest="lessons", action="append", metavar="NAME",
                       help="only this lesson, e.g. 00_start_here (repeatable)")

    grade = actions.add_parser(
        "grade", help="grade a folder of submitted notebooks into grades.csv",
        description="Run every .ipynb of SUBMISSIONS with the lesson's hidden tests (otter run, "
        "locally, no Docker) and write grades.csv: one row per submission, one column per "
        "question, total. Written (manual) questions' columns are left for the teacher.")
    grade.add_argument("lesson", metavar="OUT/LESSON", type=Path,
                       help="a lesson folder written by 'simlab course build'")
    grade.add_argument("submissions", metavar="SUBMISSIONS", type=Path,
                       help="folder of the students' .ipynb files")
    grade.add_argument("--out", type=Path, metavar="FILE",
                       help="CSV file to write (default: SUBMISSIONS/grades.csv)")
    grade.add_argument("--jobs", type=positive_int, metavar="N",
                       help="submissions graded at once (default: one per CPU)")
    grade.add_argument("--timeout", type=positive_int, metavar="SECONDS",
                       help="time limit of one cell, 1 to 3600; a submission past it is run "
                       "once more, then scored 0 (default: 120)")

    sync = actions.add_parser(
        "sync", help="regenerate notebooks/ and notebooks/solutions/ from the masters",
        description="Write notebooks/<lesson>.ipynb and notebooks/solutions/<lesson>.ipynb "
        "from every master and execute them, so they are committed with their outputs.")
    sync.add_argument("--masters", type=Path, metavar="DIR",
                      help="folder of master notebooks (default: the repository's course/)")
    sync.add_argument("--notebooks", type=Path, metavar="DIR",
                      help="the course's notebooks folder (default: the repository's "
                      "notebooks/)")
    sync.add_argument("--lesson", dest="lessons", action="append", metavar="NAME",
                      help="only this lesson (repeatable)")
    sync.add_argument("--no-execute", action="store_true",
                      help="write the notebooks without running them")
    sync.add_argument("--timeout", type=positive_int, default=300, metavar="SECONDS",
                      help="time limit of one cell (default: 300)")


def run_course(args: argparse.Namespace) -> int:
    """Run a ``simlab course`` action; returns the exit status (2 for bad input, with the
    reason on stderr)."""
    from simlab.course.assign import CourseError

    try:
        return _run(args)
    except CourseError as err:
        print(f"simlab course {args.action}: error: {err}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from simlab.course import assign

    if args.action == "build":
        built = assign.build(args.out, args.masters, args.lessons)
        for lesson in built:
            print(f"{lesson.lesson}: {lesson.student}, {lesson.solution}, {lesson.autograder}")
        return 0
    if args.action == "grade":
        from simlab.course.grade import CELL_TIMEOUT, GRADES_FILE, grade

        table = grade(args.lesson, args.submissions, out=args.out, jobs=args.jobs,
                      cell_timeout=CELL_TIMEOUT if args.timeout is None else args.timeout)
        target = args.out if args.out is not None else args.submissions / GRADES_FILE
        print(table.to_string(index=False, na_rep=""))
        print(f"wrote {target}", file=sys.stderr)
        return 0
    notebooks = args.notebooks if args.notebooks is not None else (
        assign.default_masters().parent / "notebooks")
    for path in assign.sync(notebooks, args.masters, args.lessons, execute=not args.no_execute,
                            timeout=args.timeout):
        print(path)
    return 0
