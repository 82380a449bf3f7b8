"""The course's exercises, counted from the notebooks: the kind each exercise cell declares in its
metadata (``{"simlab": {"kind": ...}}``), the shares the course keeps (at least half predict,
design or explain; at most a quarter computations; a prediction and a design or explanation in
every lesson), the answer variables graders read, and no computed answer printed on the page
before the exercise that asks for it."""

from __future__ import annotations

import collections
import importlib
import json
import re
from pathlib import Path

import pytest

from simlab.course.exercises import KINDS, REGISTRY
from simlab.course.teacher import expected_answer

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
LESSONS = ("start_here", "concurrency", "scaling", "memory", "billing", "provisioned",
           "event_sources", "monitoring", "use_cases", "background_labs", "validation",
           "calibration", "capstone")
CHECK = re.compile(r"""(?<![\w.])check(?:_policy)?\((?:"([^"]+)")?""")
ANSWER = re.compile(r"^(answer_\w+) = ", re.M)


def _exercise_cells(path: Path) -> list[tuple[int, dict]]:
    cells = json.loads(path.read_text())["cells"]
    return [(i, c) for i, c in enumerate(cells)
            if c["cell_type"] == "code" and c.get("metadata", {}).get("simlab", {}).get("kind")
            in KINDS]


def _kinds(path: Path) -> list[str]:
    return [c["metadata"]["simlab"]["kind"] for _, c in _exercise_cells(path)]


@pytest.fixture(scope="module", autouse=True)
def lessons_registered() -> None:
    for name in LESSONS:
        importlib.import_module(f"simlab.course.lessons.{name}")


def test_every_lesson_declares_its_exercises() -> None:
    assert len(NOTEBOOKS) == 18
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        checked = [c for c in cells if c["cell_type"] == "code"
                   and CHECK.search("".join(c["source"]))
                   and not "".join(c["source"]).lstrip().startswith("#")]
        declared = _exercise_cells(path)
        assert len(declared) == len(checked) >= 3, path.name  # every check cell has a kind


def test_the_course_keeps_its_shares_of_kinds() -> None:
    counts = collections.Counter(k for path in NOTEBOOKS for k in _kinds(path))
    total = sum(counts.values())
    thinking = counts["predict"] + counts["design"] + counts["explain"]
    assert thinking >= total / 2, counts
    assert counts["compute"] <= total / 4, counts


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_lesson_has_a_prediction_and_a_design_or_explanation(path: Path) -> None:
    kinds = _kinds(path)
    assert "predict" in kinds, kinds
    assert "design" in kinds or "explain" in kinds, kinds


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_kinds_and_answer_variables_match_in_both_copies(path: Path) -> None:
    student = _exercise_cells(path)
    solution = _exercise_cells(ROOT / "notebooks" / "solutions" / path.name)
    assert len(student) == len(solution)
    for (_, s), (_, t) in zip(student, solution, strict=True):
        s_src, t_src = "".join(s["source"]), "".join(t["source"])
        assert s["metadata"]["simlab"] == t["metadata"]["simlab"]
        assert CHECK.search(s_src).group(1) == CHECK.search(t_src).group(1)
        names = ANSWER.findall(s_src)
        assert len(names) == 1 and re.search(rf"^{names[0]} = \.\.\.", s_src, re.M), s_src
        assert names[0] in ANSWER.findall(t_src)  # the solution sets the same variable
        assert names[0].startswith("answer_" + path.stem.split("_")[0] + "_")
        ex_id = CHECK.search(s_src).group(1)
        if ex_id is not None:
            assert REGISTRY[ex_id].kind == s["metadata"]["simlab"]["kind"], ex_id


def _outputs(cell: dict) -> str:
    parts = []
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        for text in (out.get("text"), data.get("text/plain"), data.get("text/html")):
            if text:
                parts.append("".join(text))
    return "\n".join(parts)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_computed_answer_is_printed_before_its_exercise(path: Path) -> None:
    cells = json.loads(path.read_text())["cells"]
    for i, cell in _exercise_cells(path):
        ex_id = CHECK.search("".join(cell["source"])).group(1)
        if ex_id is None or REGISTRY[ex_id].kind != "compute":
            continue  # a prediction's outcome is shown after it is committed
        value = float(expected_answer(ex_id))
        if value == int(value):
            if value < 20:
                continue  # small whole numbers are in every table; lesson 6's count was read
            shown = {f"{int(value)}", f"{int(value):,}"}
        else:
            shown = {f"{value:g}", f"{value:.2f}", f"{value:.3f}", f"{value:.1%}"}
        before = "\n".join(_outputs(c) for c in cells[:i])
        for text in shown:
            hit = re.search(rf"(?<![\d.]){re.escape(text)}(?!\d)", before)
            assert hit is None, (ex_id, text, before[max(0, hit.start() - 80):hit.end() + 40])


def test_every_written_answer_has_a_rubric() -> None:
    rubrics = (ROOT / "docs" / "teaching" / "rubrics.md").read_text()
    headings = set(re.findall(r"^### (\d\d-[\w-]+)", rubrics, re.M))
    explain = {i for i, ex in REGISTRY.items() if ex.kind == "explain"}
    assert explain and explain == headings
    for ex_id in explain:
        section = rubrics.split(f"### {ex_id}")[1].split("\n## ")[0]
        assert re.search(r"^1\. .*^2\. .*^3\. ", section, re.M | re.S), ex_id
        assert "*Model answer.*" in section and "*Typical mistakes.*" in section
