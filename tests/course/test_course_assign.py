"""What ``simlab course build`` writes: a student notebook with no answer in it, a solution
notebook, and an autograder whose tests are all hidden."""

from __future__ import annotations

import json
import re
import zipfile

import nbformat
import pytest
from course_masters import MASTERS, ROOT

from simlab.course import assign

LESSONS = [p.stem for p in MASTERS]
NO_PROMPT = re.compile(r"# BEGIN SOLUTION NO PROMPT\n(.*?)# END SOLUTION", re.S)


def _solution_cells(lesson: str) -> list[nbformat.NotebookNode]:
    """The cells of a master between raw ``# BEGIN SOLUTION`` and ``# END SOLUTION`` cells."""
    inside, found = False, []
    for cell in nbformat.read(ROOT / "course" / f"{lesson}.ipynb", 4).cells:
        if cell.cell_type == "raw" and cell.source.strip() in ("# BEGIN SOLUTION",
                                                                "# END SOLUTION"):
            inside = cell.source.strip() == "# BEGIN SOLUTION"
        elif inside:
            found.append(cell)
    return found


def _solution_only_lines(cell: nbformat.NotebookNode) -> list[str]:
    """A master code cell's lines the student must not see: ``# SOLUTION`` lines (without the
    marker) and the lines of ``# BEGIN SOLUTION NO PROMPT`` blocks."""
    lines = [re.sub(r"\s*# SOLUTION\s*$", "", line) for line in cell.source.splitlines()
             if line.rstrip().endswith("# SOLUTION")]
    for block in NO_PROMPT.findall(cell.source):
        lines += block.splitlines()
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


@pytest.mark.parametrize("lesson", LESSONS)
def test_build_writes_the_three_parts(built: dict, lesson: str) -> None:
    b = built[lesson]
    assert b.student == b.root / "student" / f"{lesson}.ipynb" and b.student.is_file()
    assert b.solution == b.root / "solution" / f"{lesson}.ipynb" and b.solution.is_file()
    assert b.autograder == b.root / "autograder" / f"{lesson}-autograder.zip"
    manifest = json.loads((b.root / assign.QUESTIONS_FILE).read_text())
    assert manifest["lesson"] == lesson
    assert [q["name"] for q in manifest["questions"]] == [q.name for q in b.questions]
    assert any(q.manual for q in b.questions) or lesson != "00_start_here"


@pytest.mark.parametrize("lesson", LESSONS)
def test_student_notebook_holds_no_answer(built: dict, lesson: str) -> None:
    b = built[lesson]
    student = nbformat.read(b.student, 4)
    text = "\n".join(c.source for c in student.cells)
    answer_cells = "\n".join(c.source for c in student.cells
                             if "otter_answer_cell" in c.metadata.get("tags", []))
    assert "SOLUTION" not in text and "grader." not in text
    for q in b.questions:
        if not q.manual:
            assert re.findall(rf"^{q.name} = (.*?)(?:\s+#.*)?$", text, flags=re.M) == ["..."], \
                q.name
    for cell in _solution_cells(lesson):
        if cell.cell_type == "markdown":  # a written answer and its rubric
            assert cell.source not in text, f"{lesson}: the student sees {cell.source[:80]!r}"
        for line in _solution_only_lines(cell):
            assert line not in answer_cells, f"{lesson}: the student's cells show {line!r}"
    tests = student.metadata.get("otter", {}).get("tests", {})
    assert tests and all(not s["cases"] for t in tests.values() for s in t["suites"]), \
        "a test reached the student's notebook"


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_auto_graded_question_has_hidden_tests_in_the_zip(built: dict,
                                                                lesson: str) -> None:
    b = built[lesson]
    with zipfile.ZipFile(b.autograder) as z:
        names = set(z.namelist())
        for q in b.questions:
            path = f"tests/{q.name}.py"
            if q.manual:
                assert path not in names
                continue
            source = z.read(path).decode()
            assert "'hidden': True" in source and "'hidden': False" not in source, q.name
            assert re.search(rf"'points': {q.points:g}\b", source), q.name


@pytest.mark.parametrize("lesson", LESSONS)
def test_solution_notebook_is_clean(built: dict, lesson: str) -> None:
    b = built[lesson]
    solution = nbformat.read(b.solution, 4)
    text = "\n".join(c.source for c in solution.cells)
    assert "SOLUTION" not in text and "_Type your answer here" not in text
    assert "(solutions)" in solution.cells[0].source
    assert solution.metadata["otter"] == {"assignment_name": lesson}
    for cell in _solution_cells(lesson):
        for line in _solution_only_lines(cell):
            assert line in text


def _notebook(cells: list) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = cells
    return nb


CONFIG = "# ASSIGNMENT CONFIG\nname: 01_demo\ngenerate: true"


@pytest.mark.parametrize("cells, message", [
    ([], "first cell must be a raw '# ASSIGNMENT CONFIG'"),
    ([nbformat.v4.new_raw_cell("# ASSIGNMENT CONFIG\nname: other\ngenerate: true")],
     "name: 01_demo and generate: true"),
    ([nbformat.v4.new_raw_cell("# ASSIGNMENT CONFIG\nname: 01_demo")], "generate: true"),
    ([nbformat.v4.new_raw_cell(CONFIG),
      nbformat.v4.new_raw_cell("# BEGIN QUESTION\nname: q-1\npoints: 1")], "identifier"),
    ([nbformat.v4.new_raw_cell(CONFIG),
      nbformat.v4.new_raw_cell("# BEGIN QUESTION\nname: q1\npoints: 0")], "points > 0"),
    ([nbformat.v4.new_raw_cell(CONFIG),
      nbformat.v4.new_raw_cell("# BEGIN QUESTION\nname: q1\npoints: 1"),
      nbformat.v4.new_raw_cell("# BEGIN QUESTION\nname: q1\npoints: 2")], "two questions"),
])
def test_a_bad_master_is_a_clear_error(tmp_path, cells: list, message: str) -> None:
    master = tmp_path / "01_demo.ipynb"
    nbformat.write(_notebook(cells), master)
    with pytest.raises(assign.CourseError, match=re.escape(message)):
        assign.read_questions(master)


def test_masters_folder_errors(tmp_path) -> None:
    with pytest.raises(assign.CourseError, match="does not exist"):
        assign.find_masters(tmp_path / "nope")
    with pytest.raises(assign.CourseError, match="holds no master"):
        assign.find_masters(tmp_path)
    nbformat.write(_notebook([nbformat.v4.new_raw_cell(CONFIG)]), tmp_path / "01_demo.ipynb")
    assert assign.find_masters(tmp_path) == [tmp_path / "01_demo.ipynb"]
    with pytest.raises(assign.CourseError, match=r"\['02_other'\] have no master"):
        assign.find_masters(tmp_path, ["02_other"])
