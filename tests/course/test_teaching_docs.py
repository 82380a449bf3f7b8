"""The instructor guide (docs/teaching/) covers every lesson and stays in step with the notebooks.

* every lesson notebook has a page, named after it, with the required sections;
* each page's timing table is what ``simlab.course.timing`` counts from the notebook (reading
  within a tolerance, so that a few words added to a lesson do not fail the build; dashboards
  and exercises exactly), and its parts add up to its total, as the guide's README lists it;
* every exercise a notebook checks is answered on its page;
* every relative link in docs/teaching resolves, and the project README's course section links the
  guide.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from simlab.course.timing import exercise_ids, lesson_timing

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "teaching"
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*.ipynb"))
PAGES = sorted(GUIDE.glob("[0-9][0-9]*.md"))
REQUIRED_SECTIONS = ("Objectives", "Timings", "Lecture flow", "Answers and rubrics",
                     "Common mistakes and misconceptions", "See also")
COMPANIONS = ("concept-checks.md", "rubrics.md", "assignments.md")

_LINK = re.compile(r"\]\(([^)\s]+)\)")
_ROW = re.compile(r"^\|\s*(\*\*total\*\*|reading|dashboards|exercises|running the cells)\s*\|"
                  r"\s*(\d+)\s*\|", re.MULTILINE)


def _sections(text: str) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(r"^## (.+)$", text, re.MULTILINE)]


def _timing_rows(text: str) -> dict[str, int]:
    return {name.strip("*"): int(minutes) for name, minutes in _ROW.findall(text)}


def _page(notebook: Path) -> Path:
    return GUIDE / f"{notebook.stem}.md"


def _ids(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_every_lesson_has_a_page_and_every_page_a_lesson() -> None:
    assert len(LESSONS) >= 11, "the course's lessons are notebooks/NN_*.ipynb"
    missing = [n.stem for n in LESSONS if not _page(n).is_file()]
    assert not missing, f"lessons without a guide page in docs/teaching/: {missing}"
    orphans = sorted({p.stem for p in PAGES} - {n.stem for n in LESSONS})
    assert not orphans, f"guide pages without a lesson notebook: {orphans}"


@pytest.mark.parametrize("notebook", LESSONS, ids=_ids)
def test_page_has_the_required_sections_in_order(notebook: Path) -> None:
    sections = _sections(_page(notebook).read_text(encoding="utf-8"))
    missing = [s for s in REQUIRED_SECTIONS if s not in sections]
    assert not missing, f"{_page(notebook).name} lacks the sections {missing}"
    order = [sections.index(s) for s in REQUIRED_SECTIONS]
    assert order == sorted(order), f"{_page(notebook).name}: sections out of order: {sections}"


@pytest.mark.parametrize("notebook", LESSONS, ids=_ids)
def test_page_links_the_companion_files(notebook: Path) -> None:
    links = set(_LINK.findall(_page(notebook).read_text(encoding="utf-8")))
    missing = [c for c in COMPANIONS if c not in links]
    assert not missing, f"{_page(notebook).name} does not link {missing}"


@pytest.mark.parametrize("notebook", LESSONS, ids=_ids)
def test_page_timings_are_counted_from_the_notebook(notebook: Path) -> None:
    rows = _timing_rows(_page(notebook).read_text(encoding="utf-8"))
    assert set(rows) == {"reading", "dashboards", "exercises", "running the cells", "total"}, (
        f"{_page(notebook).name}: the Timings table needs reading, dashboards, exercises, running "
        f"the cells and **total** rows; found {sorted(rows)}")
    counted = lesson_timing(notebook)
    regenerate = "regenerate the table with `python -m simlab.course.timing`"
    # A lesson's text changes a little with every edit: reading may lag by 2 minutes or 15 %.
    assert abs(rows["reading"] - counted.reading_min) <= max(2, 0.15 * counted.reading_min), (
        f"{notebook.name}: page says {rows['reading']} min of reading, the notebook's "
        f"{counted.words} words take {counted.reading_min}; {regenerate}")
    assert rows["dashboards"] == counted.dashboards_min, (
        f"{notebook.name}: {counted.dashboards} dashboards; {regenerate}")
    assert rows["exercises"] == counted.exercises_min, (
        f"{notebook.name}: {counted.exercises} exercises and {counted.design_tasks} design "
        f"tasks; {regenerate}")
    parts = rows["reading"] + rows["dashboards"] + rows["exercises"] + rows["running the cells"]
    assert rows["total"] == parts, f"{_page(notebook).name}: the parts add up to {parts}"


@pytest.mark.parametrize("notebook", LESSONS, ids=_ids)
def test_page_answers_every_exercise_of_the_notebook(notebook: Path) -> None:
    text = _page(notebook).read_text(encoding="utf-8")
    ids = exercise_ids(notebook)
    unanswered = [i for i in ids if f"`{i}`" not in text]
    assert not unanswered, f"{_page(notebook).name} does not answer the exercises {unanswered}"


def test_guide_readme_lists_every_page_with_its_total() -> None:
    text = (GUIDE / "README.md").read_text(encoding="utf-8")
    for notebook in LESSONS:
        page = _page(notebook)
        row = re.search(rf"\[{re.escape(page.name)}\]\({re.escape(page.name)}\)\s*\|\s*(\d+) min",
                        text)
        assert row, f"the guide's README does not list {page.name} with its time"
        total = _timing_rows(page.read_text(encoding="utf-8"))["total"]
        assert int(row.group(1)) == total, (
            f"README gives {row.group(1)} min for {page.name}, the page {total}")


def _relative_links() -> list[tuple[Path, str]]:
    out = []
    for page in sorted(GUIDE.rglob("*.md")):
        for target in _LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue  # http(s), mailto: not ours to check; an anchor on the same page
            out.append((page, target))
    return out


def test_relative_links_resolve() -> None:
    links = _relative_links()
    assert len(links) > 50, "the guide's pages link each other, the notebooks and companions"
    broken = []
    for page, target in links:
        path = (page.parent / target.split("#", 1)[0]).resolve()
        if path.exists():
            continue
        broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_project_readme_links_the_guide_from_its_course_section() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    course = re.search(r"^## Course\n(.*?)(?=^## )", text, re.MULTILINE | re.DOTALL)
    assert course, "README.md has a '## Course' section"
    assert "(docs/teaching/README.md)" in course.group(1), (
        "README.md's course section links the instructor guide, docs/teaching/README.md")


_TIME = re.compile(r"\*\*Time:\*\* about (\d+) minutes:")


@pytest.mark.parametrize("notebook", LESSONS, ids=_ids)
def test_notebook_states_the_time_its_guide_page_gives(notebook: Path) -> None:
    cells = nbformat.read(notebook, as_version=4).cells
    stated = [int(m) for c in cells if c.cell_type == "markdown" for m in _TIME.findall(c.source)]
    assert len(stated) == 1, f"{notebook.name} states its time {len(stated)} times, not once"
    page = _timing_rows(_page(notebook).read_text(encoding="utf-8"))["total"]
    assert stated[0] == page, (f"{notebook.name} says about {stated[0]} minutes, its guide page "
                               f"{page}: use `LessonTiming.sentence()` for both")
    counted = lesson_timing(notebook)
    assert abs(stated[0] - counted.total_min) <= max(2, 0.15 * counted.total_min), (
        f"{notebook.name} says about {stated[0]} minutes; counted now: {counted.total_min}")
    # Only the words may have moved since: every other part is as counted.
    said = " ".join(c.source for c in cells if c.cell_type == "markdown" and _TIME.search(c.source))
    said = " ".join(said[said.index("**Time:**"):].split())
    expected = counted.sentence()
    words = re.compile(r"about \d+ minutes: \d+ of reading \([\d,]+ words")
    assert words.sub("", said).startswith(words.sub("", expected)), (
        f"{notebook.name}: its Time sentence should read {expected!r} (give or take the words)")
