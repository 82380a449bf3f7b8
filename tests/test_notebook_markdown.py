"""Every markdown cell of every notebook writes dollar amounts in the one form JupyterLab 4.6
renders as currency (``\\\\$1.50``), not in a form it typesets as math (see
tests/markdown_money.py and, for the rendered page, tests/browser/test_lesson_browser.py)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from markdown_money import (
    MathSpan,
    currency_problems,
    dollar_amounts,
    holds_math,
    looks_like_prose,
    math_spans,
)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))


def _markdown_cells(path: Path) -> list[tuple[int, str]]:
    nb = nbformat.read(path, as_version=4)
    return [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "markdown"]


def test_there_are_notebooks() -> None:
    assert len([p for p in NOTEBOOKS if "solutions" not in p.parts]) >= 10


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_dollar_amounts_render_as_currency(path: Path) -> None:
    problems = [f"cell {i}: {why}" for i, source in _markdown_cells(path)
                for why in currency_problems(source)]
    assert not problems, (f"{path.name}: write amounts as \\\\$1.50 in markdown "
                          f"(two backslashes):\n" + "\n".join(problems))


# -- the rules themselves, on the forms tried in the browser -----------------------------------
@pytest.mark.parametrize("source", [
    r"costs $0.0246 to $0.0280 per 1,000 runs",            # plain: typeset as math
    "- about \\$1.50 of idle memory and \\$0.55 more",     # one backslash, in a list item
    "price &#36;1.50 and &#36;0.55",                        # entity
    "price &dollar;1.50",
    "price <span>$</span>1.50",                            # the dollar alone in a span
    "Requests cost $12; the duration cost $100",
    "AWS's example: $112 → $40 a month.",
    "one amount: $5 a month",                              # unpaired today, paired tomorrow
])
def test_broken_forms_are_rejected(source: str) -> None:
    assert currency_problems(source)


@pytest.mark.parametrize("source", [
    r"costs \\$0.0246 to \\$0.0280 per 1,000 runs",
    "- about \\\\$1.50 of idle memory\n- and \\\\$0.55 more",
    r"keeps $2 \times 0.5 = 1$ environment busy, at $0.05^3$ of them",
    r"$$u^* = \frac{0.0000041667}{0.0000166667 - 0.0000097222} = 60\,\%$$",
    r"at $10 \times 0.6 / 1\ \text{s} = 6$ requests per second, for \\$3",
    "`START RequestId: <id> Version: $LATEST` and `$1 $2`",
    "```bash\necho $1 $2\n```",
])
def test_currency_and_math_forms_are_accepted(source: str) -> None:
    assert currency_problems(source) == []


def test_amounts_and_math_are_found() -> None:
    source = r"From \\$0.0246 to \\$1,234.50 with $e^{-\lambda T}$ and `$9`."
    assert dollar_amounts(source) == ["$0.0246", "$1,234.50"]
    assert holds_math(source) and not holds_math(r"only \\$3 here")
    spans, unpaired = math_spans("$a$ and $$b$$ and $c\n\nd$")
    assert [(s.delimiter, s.content) for s in spans] == [("$", "a"), ("$$", "b")]
    assert len(unpaired) == 2
    # Amounts however written (the browser looks for each as text), formulas left out.
    assert dollar_amounts(r"$0.0246 to $0.0280, \$1.50, &#36;2 and $0.05^3$") == [
        "$0.0246", "$0.0280", "$1.50", "$2"]
    assert looks_like_prose(MathSpan("$", "12; the duration cost "))
    assert not looks_like_prose(MathSpan("$", r"2 \times 0.5 = 1"))
