"""Grading's own machinery, with tiny notebooks: a file that is not a notebook scores zero with
its reason, and a cell that runs too long is stopped, retried once and reported, in the worker
processes that ``simlab course grade --jobs`` starts.

These tests sit apart from ``test_course_grade.py`` (the lessons' submissions), so that the test
run's workers take the two files side by side: the timeout test mostly waits.
"""

from __future__ import annotations

import nbformat
import pytest

from simlab.course import grade as grading

pytestmark = pytest.mark.slow  # grades notebooks in kernels through otter


def test_a_file_that_is_not_a_notebook_scores_zero_with_its_reason(built: dict, tmp_path,
                                                                   capsys) -> None:
    lesson = built["00_start_here"]
    (tmp_path / "broken.ipynb").write_text("not json")
    table = grading.grade(lesson.root, tmp_path, jobs=1)
    assert table.loc[0, "total"] == 0
    assert "NotJSONError" in table.attrs["errors"]["broken"]
    assert "broken.ipynb could not be graded, scored 0" in capsys.readouterr().err


#: The cell timeout of the two tests below (s): above what otter's own first cell takes (it
#: imports otter: about 1 s on an idle 2-core machine, a few times that when both cores are
#: shared with other tests), far below the cells that stall (60 s).
SHORT_TIMEOUT = 20


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
