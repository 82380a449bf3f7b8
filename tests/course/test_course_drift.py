"""The committed notebooks of a converted lesson are what its master generates today.

``notebooks/NN_name.ipynb`` and ``notebooks/solutions/NN_name.ipynb`` are generated from
``course/NN_name.ipynb`` by ``simlab course sync``; editing them by hand, or editing the master
without regenerating, makes the cells differ and this test fail. Outputs are not compared here:
nbval compares them when it runs the notebooks.
"""

from __future__ import annotations

import nbformat
import pytest
from course_masters import MASTERS, ROOT

from simlab.course import assign

LESSONS = [p.stem for p in MASTERS]


def test_there_is_a_master() -> None:
    assert "00_start_here" in LESSONS


def _first_difference(generated: list, committed: list) -> str:
    for i, (g, c) in enumerate(zip(generated, committed, strict=False)):
        if g != c:
            return f"cell {i}: generated {g[0]} {g[1][:200]!r}\n  committed {c[0]} {c[1][:200]!r}"
    return f"{len(generated)} cells generated, {len(committed)} committed"


@pytest.mark.parametrize("lesson", LESSONS)
@pytest.mark.parametrize("kind", ["student", "solution"])
def test_committed_notebook_is_generated_from_its_master(built: dict, lesson: str,
                                                         kind: str) -> None:
    build = built[lesson]
    generated = nbformat.read(build.student if kind == "student" else build.solution, 4)
    committed_path = (ROOT / "notebooks" / f"{lesson}.ipynb" if kind == "student"
                      else ROOT / "notebooks" / "solutions" / f"{lesson}.ipynb")
    assert committed_path.is_file(), f"{committed_path} is missing: run simlab course sync"
    committed = nbformat.read(committed_path, 4)
    g, c = assign.cell_sources(generated), assign.cell_sources(committed)
    assert g == c, (f"{committed_path.relative_to(ROOT)} differs from what "
                    f"course/{lesson}.ipynb generates ({_first_difference(g, c)}); edit the "
                    f"master and run 'simlab course sync --lesson {lesson}'")

