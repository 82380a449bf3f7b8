"""Dollar amounts and math in markdown cells, read the way JupyterLab 4.6 renders them.

JupyterLab first takes ``$...$`` and ``$$...$$`` out of a markdown cell as math (skipping ``\\$``
and code), renders the rest with marked, then MathJax typesets the page, where ``\\$`` prints a
dollar. Marked drops the backslash of ``\\$`` before MathJax sees it, so one backslash is not
enough: an amount is written ``\\\\$1.50`` (two backslashes) in a cell's source, and the page
shows "$1.50". Checked in the browser; see tests/browser/test_lesson_browser.py.

Shared by tests/test_notebook_markdown.py (the source) and the browser test (the rendered page).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: An amount written the way that renders: two backslashes, a dollar, a number.
AMOUNT = re.compile(r"(?<!\\)\\\\\$(\d[\d,]*(?:\.\d+)?)")
#: Forms that were typeset as math (or lost their dollar) in JupyterLab 4.6.
BROKEN_FORMS = {
    "one backslash before the dollar (marked drops it, MathJax then pairs the dollars)":
        re.compile(r"(?<!\\)\\\$\d"),
    "an HTML entity for the dollar": re.compile(r"&#0*36;|&#x0*24;|&dollar;", re.IGNORECASE),
    "a dollar alone in an HTML element": re.compile(r"<(\w+)[^>]*>\s*\$\s*</\1>"),
}
_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
# The delimiters JupyterLab's math splitter stops at: $$, $, an escaped \$ \{ \} (skipped), a
# paragraph break (ends an unclosed span).
_SPLIT = re.compile(r"\$\$|\\[{}$]|\$|\n[ \t]*\n")
_TEXT_ARG = re.compile(r"\\(?:text\w*|math\w+|operatorname)\s*\{[^{}]*\}")
_ANY_AMOUNT = re.compile(r"(?:\$|&#0*36;|&#x0*24;|&dollar;)(\d[\d,]*(?:\.\d+)?)", re.IGNORECASE)
_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}")


@dataclass(frozen=True)
class MathSpan:
    """A piece of a cell that JupyterLab typesets: its delimiter and what it holds."""

    delimiter: str
    content: str
    start: int = 0  #: offset of the opening delimiter in :func:`without_code`'s text
    end: int = 0  #: offset just after the closing delimiter


def without_code(source: str) -> str:
    """``source`` without fenced code blocks and inline code spans (never typeset)."""
    return _CODE_SPAN.sub(" ", _FENCE.sub("\n", source))


def math_spans(source: str) -> tuple[list[MathSpan], list[int]]:
    """The math spans of a markdown cell's ``source`` and the offsets of unpaired ``$``.

    A simplified copy of JupyterLab's splitter: ``$...$`` and ``$$...$$`` within a paragraph,
    ``\\$`` skipped, code removed first.
    """
    text = without_code(source)
    spans: list[MathSpan] = []
    unpaired: list[int] = []
    open_at: int | None = None
    opener = ""
    for m in _SPLIT.finditer(text):
        token = m.group()
        if token.startswith("\\"):
            continue
        if token.startswith("\n"):
            if open_at is not None:
                unpaired.append(open_at)
                open_at = None
            continue
        if open_at is None:
            open_at, opener = m.start(), token
        elif token == opener:
            spans.append(MathSpan(opener, text[open_at + len(opener):m.start()], open_at,
                                  m.end()))
            open_at = None
    if open_at is not None:
        unpaired.append(open_at)
    return spans, unpaired


def looks_like_prose(span: MathSpan) -> bool:
    """True when a ``$...$`` span is text between two dollar amounts, not a formula: it starts
    with a digit and ends in a space, or holds plain words (outside ``\\text{...}``)."""
    if span.delimiter != "$":
        return False
    body = span.content
    return body[:1].isdigit() and (body != body.rstrip()
                                   or bool(_WORD.search(_TEXT_ARG.sub(" ", body))))


def currency_problems(source: str) -> list[str]:
    """Why the dollar amounts of a markdown cell's ``source`` would not render as currency."""
    problems = []
    text = without_code(source)
    for why, pattern in BROKEN_FORMS.items():
        for m in pattern.finditer(text):
            problems.append(f"{why}: {_around(text, m.start())!r}")
    spans, unpaired = math_spans(source)
    for span in spans:
        if looks_like_prose(span):
            problems.append(f"dollar amounts typeset as math: ${span.content}$")
    for at in unpaired:
        if text[at + 1:at + 2].isdigit() and text[at - 1:at] != "\\":
            problems.append(f"a dollar amount without \\\\$: {_around(text, at)!r}")
    return problems


def dollar_amounts(source: str) -> list[str]:
    """Every dollar amount of ``source``, as a reader should see it: ``"$1.50"``, whichever way it
    was written (``\\\\$1.50``, ``\\$1.50``, ``$1.50``, an entity), except a number that opens
    a formula (``$0.05^3$``)."""
    text = without_code(source)
    spans, _ = math_spans(source)
    formulas = [(s.start, s.end) for s in spans if not looks_like_prose(s)]
    return [f"${m.group(1)}" for m in _ANY_AMOUNT.finditer(text)
            if not any(a <= m.start() < b for a, b in formulas)]


def holds_math(source: str) -> bool:
    """True when JupyterLab may typeset something in this cell (a math span, ``\\(`` or ``\\[``)."""
    spans, _ = math_spans(source)
    text = without_code(source)
    return bool(spans) or "\\(" in text or "\\[" in text or "\\begin{" in text


def _around(text: str, at: int, width: int = 30) -> str:
    return text[max(0, at - width):at + width].replace("\n", " ")
