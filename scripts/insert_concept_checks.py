"""Insert the concept-check cells into the lessons, student and solution copies alike.

    .venv/bin/python scripts/insert_concept_checks.py            # rewrite the notebooks
    .venv/bin/python scripts/insert_concept_checks.py --check    # exit 1 if any is out of date

Each check goes right after (or before) the one cell whose source contains its anchor text, so
that it follows the concept it tests. Existing concept cells (metadata ``simlab.kind ==
"concept"``) are removed first, so running it twice changes nothing; no other cell is touched.
The student copy's variable holds ``...``, the solution's the right letter. Re-execute the
notebooks afterwards: the new cells have no outputs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from simlab.course.concept_checks import LESSONS, cell_source, question

ROOT = Path(__file__).resolve().parents[1]

#: check id -> ("after" | "before", text found in exactly one cell of the lesson).
ANCHORS: dict[str, tuple[str, str]] = {
    "00.1": ("after", "start_here.limits_table()"),
    "00.2": ("after", "ax = plots.timeline(result)"),
    "00.3": ("before", "A fraction of a cent per thousand files"),
    "01.1": ("before", "## 2. Environments on hosts"),
    "01.2": ("before", "## 3. How often is a request cold?"),
    "01.3": ("after", "Keep-alive is not free: the environment sits idle"),
    "02.1": ("after", "The mean is about 9 environments"),
    "02.2": ("before", "## 3. Provisioned concurrency"),
    "02.3": ("before", "The timelines show the first burst."),
    "02b.1": ("before", "The two rules fail differently."),
    "02b.2": ("before", "This is the *loss system*"),
    "03.1": ("before", "Three shapes from one rule:"),
    "03.2": ("before", "## 3. The timeout"),
    "03.3": ("after", "The timeout cuts off the slow tail"),
    "03b.1": ("before", "For single-threaded CPU-bound code the cost is **flat"),
    "03b.2": ("after", "Measurements from the platform's owner deserve"),
    "04.1": ("before", "**Explore.** Any granularity can be tried"),
    "04.2": ("after", "at 100 ms the cost is a **staircase**"),
    "04b.1": ("before", "## 2. How many environments to provision"),
    "04b.2": ("after", "* In 2020 the rounding paid back a little of it"),
    "05.1": ("before", "## 2. One function, three triggers"),
    "05.2": ("before", "### Iterator age, up close: a poison record"),
    "05.3": ("before", "## 3. Explore"),
    "05b.1": ("after", "SNS wraps what was published"),
    "05b.2": ("before", "## 3. Calling a function with the SDK"),
    "05b.3": ("before", "**From a phone.**"),
    "06.1": ("before", "What happens to the environment of a request that timed out?"),
    "06.2": ("before", "## 5. Exercises"),
    "06b.1": ("before", "## 3. Who changed what: the trail"),
    "06b.2": ("before", "## 4. Following a record through S3 to a function"),
    "07.1": ("before", "**Question.** Registering a file twice"),
    "07.2": ("before", "**Question.** The offered load is about"),
    "07b.1": ("before", "**Question.** This validator logs and moves on"),
    "07b.2": ("after", "Without partial responses, a good order"),
    "08.1": ("before", "So the engine does what the formulas assume"),
    "08.2": ("before", "## 6. Exercises"),
    "08b.1": ("before", "At 0.0035 req/s real and simulated agree closely"),
    "08b.2": ("before", "## 4. Explore: which keep-alive fits?"),
    "09.2": ("before", "### Exercise 2 · Design: a keep-alive under a budget"),
    "09.1": ("before", "## 5. Exercises"),
    "09b.1": ("before", "### Exercise 1 · Predict: what reclaiming the rare functions costs"),
    "09b.2": ("before", "At this weight the baseline's 10 minutes"),
}


def is_concept_cell(cell: nbformat.NotebookNode) -> bool:
    """Whether a cell is a concept check (metadata ``{"simlab": {"kind": "concept"}}``)."""
    return cell.get("metadata", {}).get("simlab", {}).get("kind") == "concept"


def concept_cell(check_id: str, answered: bool) -> nbformat.NotebookNode:
    """A new concept-check cell, with a stable id (``concept-01-2``)."""
    cell = nbformat.v4.new_code_cell(cell_source(check_id, answered),
                                     metadata={"simlab": {"kind": "concept"}})
    cell["id"] = "concept-" + check_id.replace(".", "-")
    return cell


def with_checks(nb: nbformat.NotebookNode, lesson: str, answered: bool) -> nbformat.NotebookNode:
    """``nb`` with its concept cells replaced by fresh ones at their anchors."""
    cells = [c for c in nb.cells if not is_concept_cell(c)]
    placed: list[tuple[int, int, str]] = []  # (anchor cell, 0 before / 1 after, check id)
    for check_id, (where, text) in ANCHORS.items():
        if question(check_id).lesson != lesson:
            continue
        hits = [i for i, c in enumerate(cells) if text in c.source]
        if len(hits) != 1:
            raise SystemExit(f"{LESSONS[lesson]}: anchor of {check_id} ({text!r}) is in "
                             f"{len(hits)} cells, expected 1")
        placed.append((hits[0], 1 if where == "after" else 0, check_id))
    out = []
    for i, cell in enumerate(cells):
        out += [concept_cell(q, answered) for j, side, q in placed if j == i and side == 0]
        out.append(cell)
        out += [concept_cell(q, answered) for j, side, q in placed if j == i and side == 1]
    nb.cells = out
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report notebooks to update")
    args = parser.parse_args(argv)
    stale = []
    for lesson, stem in LESSONS.items():
        for path, answered in ((ROOT / "notebooks" / f"{stem}.ipynb", False),
                               (ROOT / "notebooks" / "solutions" / f"{stem}.ipynb", True)):
            nb = nbformat.read(path, as_version=4)
            before = [(c.source, is_concept_cell(c)) for c in nb.cells]
            nb = with_checks(nb, lesson, answered)
            if [(c.source, is_concept_cell(c)) for c in nb.cells] == before:
                continue
            stale.append(path.relative_to(ROOT))
            if not args.check:
                nbformat.write(nb, path)
    for path in stale:
        print(("out of date: " if args.check else "updated: ") + str(path))
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
