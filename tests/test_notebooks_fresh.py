"""No committed notebook carries stale outputs: static checks of every notebook.

The course's notebooks are committed with their outputs, so that they read well without running.
Those outputs must be what the code gives today. That is checked by running them, once per test
run: nbval, in the notebooks step of ``scripts/test.sh``, re-executes every solution notebook (and
the capstone lesson) in a fresh kernel and compares each output after the sanitizer
``tests/nbval_sanitize.cfg``; the browser test runs every lesson; and
``tests/test_lessons_match_solutions.py`` checks that each lesson stored its solution's outputs.
What is checked here, cheaply and for every notebook, is what nbval cannot see: every code cell
was executed in one top-to-bottom run (execution counts 1, 2, 3... in cell order), no cell stored
an error, and every cell whose output is a live widget is marked ``# NBVAL_IGNORE_OUTPUT`` (a
widget's view differs on every run), except a concept check (cell metadata
``{"simlab": {"kind": "concept"}}``), whose text form nbval compares.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

pytestmark = pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks committed yet")


def _ids() -> list[str]:
    return [str(p.relative_to(ROOT / "notebooks")) for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids())
def test_outputs_come_from_one_top_to_bottom_run(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{path.name}: execution counts {counts}; re-run the notebook from the top "
        f"(jupyter nbconvert --to notebook --execute --inplace) before committing")
    for i, cell in enumerate(code):
        errors = [o for o in cell.outputs if o["output_type"] == "error"]
        assert not errors, f"{path.name}, code cell {i + 1} stored an error: {errors[0]['ename']}"
        widget = any(WIDGET_MIME in o.get("data", {}) for o in cell.outputs)
        # A concept check's widget has a text form that is the same on every run (the question
        # and the recorded choice's feedback), and nbval compares it.
        concept = cell.metadata.get("simlab", {}).get("kind") == "concept"
        if widget and not concept:
            assert "NBVAL_IGNORE_OUTPUT" in cell.source, (
                f"{path.name}, code cell {i + 1} shows a widget but lacks # NBVAL_IGNORE_OUTPUT")
