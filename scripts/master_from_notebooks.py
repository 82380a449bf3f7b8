"""Make a lesson's master notebook (otter-grader's assign format) from its two notebooks.

    .venv/bin/python scripts/master_from_notebooks.py 01_cold_and_warm_starts

reads ``notebooks/NN_name.ipynb`` (the student's) and ``notebooks/solutions/NN_name.ipynb``, which
must have the same cells in the same order, and writes ``course/NN_name.ipynb`` without outputs,
with the solution's cell ids and metadata. Then ``simlab course sync --lesson NN_name`` generates
both notebooks back from it. What becomes a question:

* every exercise cell (metadata ``{"simlab": {"kind": ...}}`` of :data:`KINDS`), named after its
  answer variable (``answer_NN_k``), with the ``### Exercise`` markdown cell before it as its
  prompt and the ``# hint(...)`` cells before it in its solution block. The lines where the two
  copies differ become a ``# BEGIN SOLUTION NO PROMPT`` block (the solution's) and ``# PROMPT``
  lines (the student's); a one-line answer ``name = ...`` becomes ``name = <solution>  # SOLUTION``.
  Predictions, designs and computations get a hidden test calling
  :func:`simlab.course.hidden.is_right`; explanations are manual questions whose rubric (from
  ``docs/teaching/rubrics.md``) is a markdown cell of the solution;
* every concept check (kind ``"concept"``), named after its variable ``concept_NN_n``, graded by a
  hidden test calling :func:`simlab.course.concept_checks.is_right`.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path

import nbformat

from simlab.course.concept_checks import question as concept_question
from simlab.course.exercises import KINDS

ROOT = Path(__file__).resolve().parents[1]
POINTS = {"predict": 2, "design": 3, "compute": 2, "explain": 3, "concept": 1}
CONFIG = """# ASSIGNMENT CONFIG
name: {name}
generate: true
init_cell: false
check_all_cell: false
export_cell: false
run_tests: false
solutions_pdf: false
template_pdf: false"""
_ANSWER = re.compile(r"^((?:answer|concept)_\w+) = ", re.M)
_CHECK = re.compile(r"""(?<![\w.])(?:check|ask)\("([^"]+)\"""")


def _raw(name: str, source: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_raw_cell(source)
    cell["id"] = name
    return cell


def _answer_source(student: str, solution: str) -> str:
    """The master's source of an answer cell: the solution, with the student's lines marked."""
    s_lines, t_lines = student.splitlines(), solution.splitlines()
    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=t_lines, b=s_lines, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out += t_lines[i1:i2]
            continue
        sol, stu = t_lines[i1:i2], s_lines[j1:j2]
        single = re.match(r"^(\s*[\w.]+ =) \.\.\.$", stu[0]) if len(stu) == 1 else None
        if single and len(sol) >= 1 and sol[-1].startswith(single.group(1) + " ") \
                and "#" not in sol[-1]:
            if sol[:-1]:
                out += ["# BEGIN SOLUTION NO PROMPT", *sol[:-1], "# END SOLUTION"]
            out.append(f"{sol[-1]}  # SOLUTION")
            continue
        if sol:
            out += ["# BEGIN SOLUTION NO PROMPT", *sol, "# END SOLUTION"]
        out += [f"{line}  # PROMPT" for line in stu]
    return "\n".join(out)


def _rubric(exercise_id: str) -> str:
    text = (ROOT / "docs" / "teaching" / "rubrics.md").read_text()
    parts = text.split(f"### {exercise_id}")
    if len(parts) != 2:
        raise SystemExit(f"docs/teaching/rubrics.md has no section '### {exercise_id}'")
    body = parts[1].split("\n## ")[0].split("\n### ")[0]
    body = body.split("\n", 1)[1].strip()  # drop the rest of the heading line
    return f"**Rubric** (from `docs/teaching/rubrics.md`, one point per item).\n\n{body}"


def _test(kind: str, ident: str, variable: str) -> str:
    if kind == "concept":
        keys = ", ".join(repr(k) for k in concept_question(ident).keys)
        return ("# HIDDEN\nfrom simlab.course.concept_checks import is_right\n"
                f"assert str({variable}).strip().lower() in ({keys}) and "
                f"is_right({ident!r}, {variable})")
    return (f"# HIDDEN\nfrom simlab.course.hidden import is_right\n"
            f"assert is_right({ident!r}, {variable})")


def master(stem: str) -> nbformat.NotebookNode:
    """The master notebook of lesson ``stem`` built from its two committed notebooks."""
    student = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    solution = nbformat.read(ROOT / "notebooks" / "solutions" / f"{stem}.ipynb", as_version=4)
    if [c.cell_type for c in student.cells] != [c.cell_type for c in solution.cells]:
        raise SystemExit(f"{stem}: the two notebooks do not have the same cells")
    cells = []
    for s, t in zip(student.cells, solution.cells, strict=True):
        cell = nbformat.from_dict(dict(t))
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
        if cell.cell_type == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cell.metadata.pop("execution", None)
        cells.append((s, cell))
    cells[0][1].source = re.sub(r"^# (Lesson \w+) \(solutions\) · ", r"# \1 · ",
                                cells[0][1].source, count=1)
    kind_of = [c.metadata.get("simlab", {}).get("kind") for _, c in cells]
    out = [_raw("assignment-config", CONFIG.format(name=stem))]
    i = 0
    while i < len(cells):
        # an exercise starts at its markdown prompt: find the next exercise cell after it
        kind = kind_of[i]
        start = i
        if kind is None and cells[i][1].cell_type == "markdown" and \
                cells[i][1].source.lstrip().startswith("### Exercise"):
            nxt = next((j for j in range(i + 1, len(cells)) if kind_of[j] in KINDS), None)
            between = range(i + 1, nxt) if nxt is not None else range(0)
            if nxt is not None and not any(cells[j][1].source.lstrip().startswith("### Exercise")
                                           for j in between):
                out += _question(cells, start, nxt, kind_of[nxt])
                i = nxt + 1
                continue
        if kind == "concept":
            out += _question(cells, i, i, kind)
            i += 1
            continue
        if kind in KINDS:
            raise SystemExit(f"{stem}: exercise cell {cells[i][1].get('id')} has no "
                             f"'### Exercise' markdown cell before it")
        out.append(cells[i][1])
        i += 1
    return nbformat.v4.new_notebook(cells=out, metadata=solution.metadata)


def _question(cells: list, start: int, answer: int, kind: str) -> list[nbformat.NotebookNode]:
    s_cell, t_cell = cells[answer]
    source = t_cell.source
    variable = _ANSWER.search(source).group(1)
    ident = _CHECK.search(source).group(1)
    cid = t_cell.get("id")
    head = (f"# BEGIN QUESTION\nname: {variable}\npoints: {POINTS[kind]}"
            + ("\nmanual: true" if kind == "explain" else ""))
    out = [_raw(f"{cid}-begin-question", head)]
    first_solution = answer
    while first_solution - 1 > start and cells[first_solution - 1][1].cell_type == "code" \
            and cells[first_solution - 1][1].source.lstrip().startswith("# hint("):
        first_solution -= 1
    out += [c for _, c in cells[start:first_solution]]
    out.append(_raw(f"{cid}-begin-solution", "# BEGIN SOLUTION"))
    out += [c for _, c in cells[first_solution:answer]]
    t_cell.source = _answer_source(s_cell.source, t_cell.source)
    out.append(t_cell)
    if kind == "explain":
        rubric = nbformat.v4.new_markdown_cell(_rubric(ident))
        rubric["id"] = f"{cid}-rubric"
        out.append(rubric)
    out.append(_raw(f"{cid}-end-solution", "# END SOLUTION"))
    if kind != "explain":
        test = nbformat.v4.new_code_cell(_test(kind, ident, variable))
        test["id"] = f"{cid}-test"
        out += [_raw(f"{cid}-begin-tests", "# BEGIN TESTS"), test,
                _raw(f"{cid}-end-tests", "# END TESTS")]
    out.append(_raw(f"{cid}-end-question", "# END QUESTION"))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lessons", nargs="+", help="lesson stems, e.g. 00_start_here")
    args = parser.parse_args(argv)
    for stem in args.lessons:
        path = ROOT / "course" / f"{stem}.ipynb"
        nbformat.write(master(stem), path)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
