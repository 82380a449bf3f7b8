"""simlab.course.timing counts a lesson's words, outputs, dashboards and exercises from its
notebook, and turns them into minutes."""

from __future__ import annotations

import math
from pathlib import Path

import nbformat
import pytest

from simlab.course import timing
from simlab.course.timing import LessonTiming, exercise_ids, lesson_timing

ROOT = Path(__file__).resolve().parents[2]


def _notebook(tmp_path: Path) -> Path:
    v4 = nbformat.v4
    shown = v4.new_code_cell("table")
    shown.outputs = [v4.new_output("execute_result", data={"text/plain": "a table"},
                                   execution_count=1)]
    silent = v4.new_code_cell("x = 1")  # no output: not counted
    dashboard = v4.new_code_cell("# NBVAL_IGNORE_OUTPUT\n_ = lesson.power_tuning_dashboard()")
    dashboard.outputs = [v4.new_output("display_data", data={"text/plain": "VBox(...)"})]
    mentioned = v4.new_code_cell("# the dashboard( above; not a dashboard cell")
    nb = v4.new_notebook(cells=[
        v4.new_markdown_cell("one two three four five"),
        shown, silent, dashboard, mentioned,
        v4.new_code_cell('# hint("01-first")'),
        v4.new_code_cell('answer = ...\n\noutcome = check("01-first", answer)'),
        v4.new_code_cell("answer = ...\noutcome = check('01-second', answer)"),
        v4.new_code_cell("outcome = check_policy(policy)"),
        v4.new_markdown_cell("six seven"),
    ])
    path = tmp_path / "01_sample.ipynb"
    nbformat.write(nb, path)
    return path


def test_counts_each_kind_of_cell(tmp_path: Path) -> None:
    counted = lesson_timing(_notebook(tmp_path))
    assert counted == LessonTiming("01_sample", words=7, outputs=1, dashboards=1, exercises=2,
                                   design_tasks=1)
    assert exercise_ids(_notebook(tmp_path)) == ["01-first", "01-second"]


def test_minutes_follow_the_rates() -> None:
    t = LessonTiming("x", words=301, outputs=3, dashboards=2, exercises=3, design_tasks=1)
    assert t.reading_min == math.ceil(301 / timing.WORDS_PER_MINUTE) == 3
    assert t.cells_min == math.ceil(3 * timing.MINUTES_PER_OUTPUT) == 2
    assert t.dashboards_min == 2 * timing.MINUTES_PER_DASHBOARD
    assert t.exercises_min == 3 * timing.MINUTES_PER_EXERCISE + timing.MINUTES_PER_DESIGN_TASK
    assert t.total_min == t.reading_min + t.cells_min + t.dashboards_min + t.exercises_min
    table = t.table()
    assert "| reading | 3 | 301 words" in table and f"| **total** | {t.total_min} |" in table


def test_sentence_gives_the_tables_figures() -> None:
    t = LessonTiming("x", words=1501, outputs=3, dashboards=2, exercises=3, design_tasks=1)
    assert t.sentence() == (
        f"**Time:** about {t.total_min} minutes: 11 of reading (1,501 words at about 150 a "
        "minute), 2 for the 3 tables and figures the cells produce, 10 for the 2 dashboards, "
        "15 for the 3 exercises and 15 for the policy you design.")
    one = LessonTiming("y", words=150, outputs=1, dashboards=1, exercises=1, design_tasks=0)
    assert one.sentence().endswith("5 for the dashboard and 5 for the exercise.")
    none = LessonTiming("z", words=150, outputs=1, dashboards=0, exercises=2, design_tasks=0)
    assert none.sentence() == ("**Time:** about 12 minutes: 1 of reading (150 words at about 150 "
                               "a minute), 1 for the table or figure the cells produce and 10 "
                               "for the 2 exercises.")
    bare = LessonTiming("w", words=10, outputs=0, dashboards=0, exercises=0, design_tasks=0)
    assert bare.sentence() == ("**Time:** about 1 minutes: 1 of reading (10 words at about 150 "
                               "a minute).")


def test_lesson_one_as_committed() -> None:
    counted = lesson_timing(ROOT / "notebooks" / "01_cold_and_warm_starts.ipynb")
    assert counted.dashboards == 1 and counted.exercises == len(exercise_ids(
        ROOT / "notebooks" / "01_cold_and_warm_starts.ipynb")) >= 1
    assert 1000 < counted.words < 5000  # a lesson, not a stub nor the whole course


def test_bad_path_is_refused_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="path must be a notebook file, got .*nowhere"):
        lesson_timing(tmp_path / "nowhere.ipynb")


def test_main_prints_every_lesson(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _notebook(tmp_path)
    assert timing.main([str(tmp_path)]) == 0
    assert "## 01_sample" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="NOTEBOOKS_DIR must hold the lesson notebooks"):
        timing.main([str(tmp_path / "empty")])
