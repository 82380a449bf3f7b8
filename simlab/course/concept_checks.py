"""Concept checks: a multiple-choice question after each main concept of a lesson.

Every wrong option names the misconception it reveals, and the right option says why it is right
(the questions are in ``simlab/data/concept_checks.toml``, loaded by
:mod:`simlab.course.concept_bank`). In a notebook, a check is one cell: the
student records a choice in a variable, then the widget shows the question, the choice and its
feedback, and lets the student try the other options::

    concept_01_2 = "b"  # your choice: a letter
    ask("01.2", concept_01_2)

While the variable holds ``...`` the widget shows the question without feedback. The variable,
not the widget, is the recorded answer: grading reads ``concept_01_2``; :func:`is_right` judges
one. The checks are formative: the widget gives feedback on any option the student tries.
:func:`instructor_markdown` writes every question with its answer and the misconception behind
each distractor, for the instructor guide.
"""

from __future__ import annotations

import html
from types import EllipsisType

import ipywidgets as widgets

from simlab.course.concept_bank import BANK, LESSONS, Option, Question

__all__ = ["Option", "Question", "BANK", "LESSONS", "question", "questions", "normalise_choice",
           "is_right", "feedback", "ask", "ConceptCheck", "cell_source", "instructor_markdown"]

Choice = str | EllipsisType | None


def question(check_id: str) -> Question:
    """The concept check ``check_id`` (``"01.2"``).

    Raises
    ------
    KeyError
        If there is no such check; the message lists the lesson's checks.
    """
    try:
        return BANK[check_id]
    except KeyError:
        lesson = check_id.split(".")[0]
        known = [q for q in BANK if q.split(".")[0] == lesson] or list(BANK)
        raise KeyError(f"no concept check {check_id!r}; known: {', '.join(known)}") from None


def questions(lesson: str) -> list[Question]:
    """The concept checks of ``lesson`` (``"01"``, ``"05b"``), in order.

    Raises
    ------
    ValueError
        If ``lesson`` is not one of the course's lessons.
    """
    if lesson not in LESSONS:
        raise ValueError(f"lesson must be one of {', '.join(LESSONS)}; got {lesson!r}")
    return [q for q in BANK.values() if q.lesson == lesson]


def normalise_choice(check_id: str, choice: Choice) -> str | None:
    """The option key a recorded choice stands for, or ``None`` when not answered yet.

    ``...`` and ``None`` mean not answered; a letter is accepted in either case and with
    surrounding spaces (``" B "`` is ``"b"``).

    Raises
    ------
    ValueError
        If ``choice`` is neither ``...``, ``None`` nor one of the question's letters.
    """
    q = question(check_id)
    if choice is ... or choice is None:
        return None
    key = choice.strip().lower() if isinstance(choice, str) else None
    if key not in q.keys:
        raise ValueError(f"{q.variable} must be one of {', '.join(repr(k) for k in q.keys)} "
                         f"(or ... while you think); got {choice!r}")
    return key


def is_right(check_id: str, choice: Choice) -> bool:
    """Whether ``choice`` is the right option of ``check_id`` (``False`` when not answered)."""
    key = normalise_choice(check_id, choice)
    return key is not None and _option(question(check_id), key).misconception is None


def feedback(check_id: str, choice: Choice) -> str:
    """The feedback for ``choice``, as plain text ('' when not answered).

    A wrong option's feedback names its misconception, then says what is true instead; the
    right option's says why it is right.
    """
    key = normalise_choice(check_id, choice)
    if key is None:
        return ""
    option = _option(question(check_id), key)
    if option.misconception is None:
        return f"({key}) is right. {option.why}"
    return f"({key}) is not right. Misconception: {option.misconception} {option.why}"


def _right_key(q: Question) -> str:
    return next(o.key for o in q.options if o.misconception is None)


def _option(q: Question, key: str) -> Option:
    return next(o for o in q.options if o.key == key)


def _question_html(q: Question) -> str:
    items = "".join(f"<li style='margin:0.2em 0'><b>({o.key})</b> {html.escape(o.text)}</li>"
                    for o in q.options)
    return (f"<div style='line-height:1.4; max-width:52em; white-space:normal'>"
            f"<b>Concept check {q.id}</b> &middot; <i>{html.escape(q.concept)}</i><br>"
            f"{html.escape(q.prompt)}"
            f"<ul style='list-style:none; padding-left:0.5em; margin:0.4em 0'>{items}</ul></div>")


class ConceptCheck(widgets.VBox):
    """The widget of one concept check: the question, option buttons and a feedback readout.

    Its text form (shown where widgets cannot be, and compared by nbval) is the question, the
    options and the feedback for the recorded choice.

    Parameters
    ----------
    check_id
        The check, e.g. ``"01.2"``.
    choice
        The student's recorded choice: a letter, or ``...`` (not answered yet).
    """

    def __init__(self, check_id: str, choice: Choice = ...) -> None:
        q = question(check_id)
        recorded = normalise_choice(check_id, choice)
        self.check_id, self.recorded = q.id, recorded
        buttons = widgets.RadioButtons(
            options=list(q.keys), value=recorded, description="Try an option:",
            style={"description_width": "initial"}, layout=widgets.Layout(width="auto"))
        readout = widgets.HTML(layout=widgets.Layout(width="auto", max_width="52em"))
        super().__init__([widgets.HTML(_question_html(q)), buttons, readout],
                         layout=widgets.Layout(border="1px solid #bbb", padding="0.5em",
                                               margin="0.5em 0", width="auto"))
        self.add_class("simlab-concept")
        self._buttons, self._readout = buttons, readout
        buttons.observe(lambda change: self._show(change["new"]), names="value")
        self._show(recorded)

    def _show(self, key: str | None) -> None:
        q = question(self.check_id)
        if key is None:
            self._readout.value = (f"<i>Record your choice: set <code>{q.variable}</code> to a "
                                   f"letter in the cell above the call, and run the cell.</i>")
            return
        text = html.escape(feedback(self.check_id, key))
        colour = "#1a7f37" if is_right(self.check_id, key) else "#b35900"
        note = ""
        if key != self.recorded:
            mine = f"'{self.recorded}'" if self.recorded else "..."
            note = (f"<br><i>Exploring only: your recorded answer stays <code>{q.variable} = "
                    f"{mine}</code></i>")
        self._readout.value = (f"<div style='white-space:normal; line-height:1.4; "
                               f"border-left:4px solid {colour}; padding-left:0.5em'>"
                               f"{text}{note}</div>")

    def _repr_mimebundle_(self, **kwargs: object) -> dict | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is not None:  # the whole text form, not ipywidgets' first 110 characters
            bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        q = question(self.check_id)
        lines = [f"Concept check {q.id} ({q.concept}): {q.prompt}"]
        lines += [f"  ({o.key}) {o.text}" for o in q.options]
        if self.recorded is None:
            lines.append(f"Your answer: {q.variable} = ... (not recorded yet)")
        else:
            lines.append(f"Your answer: {q.variable} = '{self.recorded}'. "
                         f"{feedback(q.id, self.recorded)}")
        return "\n".join(lines)


def ask(check_id: str, choice: Choice = ...) -> ConceptCheck:
    """Show concept check ``check_id`` with the student's recorded ``choice``.

    Parameters
    ----------
    check_id
        The check, e.g. ``"01.2"``.
    choice
        The value of the check's variable (``concept_01_2``): a letter, or ``...`` while not
        answered (the question is then shown without feedback).

    Returns
    -------
    ConceptCheck
        The widget; as a cell's last expression it is displayed.

    Raises
    ------
    KeyError
        If there is no such check.
    ValueError
        If ``choice`` is not one of the question's letters or ``...``.
    """
    return ConceptCheck(check_id, choice)


def cell_source(check_id: str, answered: bool) -> str:
    """The source of a notebook's concept-check cell.

    Parameters
    ----------
    check_id
        The check, e.g. ``"01.2"``.
    answered
        ``True`` for the solution notebook (the variable holds the right letter), ``False`` for
        the student's (it holds ``...``).
    """
    q = question(check_id)
    value = f'"{_right_key(q)}"' if answered else "..."
    letters = ", ".join(f'"{k}"' for k in q.keys)
    return ("from simlab.course.concept_checks import ask\n\n"
            f"{q.variable} = {value}  # your choice: one of {letters}\n"
            f'ask("{q.id}", {q.variable})')


def instructor_markdown() -> str:
    """Every concept check, its answer and the misconception behind each distractor (Markdown).

    This is ``docs/teaching/concept-checks.md``; a test keeps the file equal to it.
    """
    out = ["# Concept checks: answers and misconceptions", "",
           "Each lesson has two to four multiple-choice concept checks, placed right after the "
           "concept they test. A student records a choice in the cell's variable "
           "(`concept_01_2 = \"b\"`) and runs the cell; the widget then shows the feedback for "
           "that choice and lets the student try the others. The variable is the recorded "
           "answer, for grading; the widget's feedback is formative. Every wrong option is a "
           "known misconception, listed below: when many students pick one, that is the idea to "
           "revisit in class.", "",
           "This file is generated from the question bank, `simlab/data/concept_checks.toml`, by "
           "`simlab.course.concept_checks.instructor_markdown()`; edit the bank, not this file.",
           ""]
    for lesson, stem in LESSONS.items():
        out += [f"## Lesson {lesson} (`notebooks/{stem}.ipynb`)", ""]
        for q in questions(lesson):
            right = next(o for o in q.options if o.misconception is None)
            out += [f"### {q.id} · {_md(q.concept)}", "", _md(q.prompt), "",
                    f"Variable `{q.variable}`. **Answer: ({right.key})** {_md(right.text)}", "",
                    f"*Why:* {_md(right.why)}", "", "| option | misconception | what is true |",
                    "|---|---|---|"]
            out += [f"| ({o.key}) {_cell(o.text)} | {_cell(o.misconception)} | {_cell(o.why)} |"
                    for o in q.options if o.misconception is not None]
            out.append("")
    return "\n".join(out)


def _md(text: str) -> str:
    """Text as Markdown shows it literally: asterisks (as in cron expressions) escaped."""
    return text.replace("*", "\\*")


def _cell(text: str | None) -> str:
    return _md(text or "").replace("|", "\\|")
