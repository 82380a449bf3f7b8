"""``simlab course``: the commands' mistakes are clear errors with exit status 2, and ``build``
writes a lesson's three parts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from course_masters import ROOT

from simlab.cli import main


def _error(capsys: pytest.CaptureFixture, argv: list[str]) -> str:
    assert main(argv) == 2
    return capsys.readouterr().err


def test_grade_a_missing_lesson_folder(capsys, tmp_path: Path) -> None:
    err = _error(capsys, ["course", "grade", str(tmp_path / "nope"), str(tmp_path)])
    assert "simlab course grade: error: lesson folder" in err and "does not exist" in err


def test_grade_a_folder_that_is_not_a_built_lesson(capsys, tmp_path: Path) -> None:
    err = _error(capsys, ["course", "grade", str(tmp_path), str(tmp_path)])
    assert "is not a built lesson" in err and "simlab course build OUT" in err


def test_grade_the_build_folder_names_its_lessons(capsys, tmp_path: Path) -> None:
    (tmp_path / "00_start_here").mkdir()
    (tmp_path / "00_start_here" / "questions.json").write_text(
        json.dumps({"lesson": "00_start_here", "questions": []}))
    err = _error(capsys, ["course", "grade", str(tmp_path), str(tmp_path)])
    assert "holds the built lessons 00_start_here: give one of them" in err


def test_grade_a_lesson_whose_zip_is_missing(capsys, tmp_path: Path) -> None:
    (tmp_path / "questions.json").write_text(json.dumps({"lesson": "00_x", "questions": []}))
    err = _error(capsys, ["course", "grade", str(tmp_path), str(tmp_path)])
    assert "autograder/00_x-autograder.zip is missing" in err


def test_grade_missing_or_empty_submissions(capsys, built: dict, tmp_path: Path) -> None:
    lesson = str(built["00_start_here"].root)
    err = _error(capsys, ["course", "grade", lesson, str(tmp_path / "nope")])
    assert "submissions folder" in err and "does not exist" in err
    (tmp_path / "notes.txt").write_text("not a notebook")
    err = _error(capsys, ["course", "grade", lesson, str(tmp_path)])
    assert "holds no .ipynb notebook" in err


def test_grade_a_cell_timeout_out_of_range(capsys, built: dict, tmp_path: Path) -> None:
    (tmp_path / "a.ipynb").write_text("{}")
    err = _error(capsys, ["course", "grade", str(built["00_start_here"].root), str(tmp_path),
                          "--timeout", "3601"])
    assert "cell_timeout (--timeout) must be a number of seconds from 1 to 3600, got 3601" in err


def test_grade_help_gives_the_cell_timeout_default(capsys) -> None:
    from simlab.course.grade import CELL_TIMEOUT

    with pytest.raises(SystemExit):
        main(["course", "grade", "--help"])
    assert f"(default: {CELL_TIMEOUT})" in " ".join(capsys.readouterr().out.split())


def test_build_without_masters(capsys, tmp_path: Path) -> None:
    err = _error(capsys, ["course", "build", str(tmp_path / "out"), "--masters",
                          str(tmp_path / "nope")])
    assert "masters folder" in err and "does not exist" in err
    err = _error(capsys, ["course", "build", str(tmp_path / "out"), "--lesson", "99_nope"])
    assert "['99_nope'] have no master" in err


def test_build_writes_student_solution_and_autograder(capsys, tmp_path: Path) -> None:
    assert main(["course", "build", str(tmp_path), "--masters", str(ROOT / "course"),
                 "--lesson", "00_start_here"]) == 0
    lesson = tmp_path / "00_start_here"
    assert (lesson / "student" / "00_start_here.ipynb").is_file()
    assert (lesson / "solution" / "00_start_here.ipynb").is_file()
    assert (lesson / "autograder" / "00_start_here-autograder.zip").is_file()
    assert str(lesson / "autograder" / "00_start_here-autograder.zip") in capsys.readouterr().out


def test_sync_into_a_missing_folder(capsys, tmp_path: Path) -> None:
    err = _error(capsys, ["course", "sync", "--notebooks", str(tmp_path / "nope")])
    assert "notebooks folder" in err and "does not exist" in err


def test_sync_writes_both_notebooks_of_a_lesson(capsys, built: dict, tmp_path: Path) -> None:
    assert main(["course", "sync", "--notebooks", str(tmp_path), "--lesson", "00_start_here",
                 "--no-execute"]) == 0
    student = tmp_path / "00_start_here.ipynb"
    solution = tmp_path / "solutions" / "00_start_here.ipynb"
    assert capsys.readouterr().out.split() == [str(student), str(solution)]
    lesson = built["00_start_here"]
    assert student.read_bytes() == lesson.student.read_bytes()
    assert solution.read_bytes() == lesson.solution.read_bytes()
