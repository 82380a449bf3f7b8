"""Tests of simlab.course.concept_checks: the question bank, the widget, the notebooks' check
cells (student and solution copies) and the instructor's list of answers."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import ipywidgets as w
import nbformat
import pytest

from simlab.course.concept_bank import load
from simlab.course.concept_checks import (
    BANK,
    LESSONS,
    ConceptCheck,
    ask,
    cell_source,
    feedback,
    instructor_markdown,
    is_right,
    normalise_choice,
    question,
    questions,
)

ROOT = Path(__file__).resolve().parents[2]
IDS = list(BANK)


def _right(check_id: str) -> str:
    return next(o.key for o in BANK[check_id].options if o.misconception is None)


def _wrong(check_id: str) -> list[str]:
    return [o.key for o in BANK[check_id].options if o.misconception is not None]


# -- the bank --------------------------------------------------------------------------------------
@pytest.mark.parametrize("lesson", list(LESSONS))
def test_every_lesson_has_two_to_four_checks_numbered_in_order(lesson: str) -> None:
    ids = [q.id for q in questions(lesson)]
    assert 2 <= len(ids) <= 4
    assert ids == [f"{lesson}.{n}" for n in range(1, len(ids) + 1)]


@pytest.mark.parametrize("check_id", IDS)
def test_one_right_option_and_every_distractor_names_a_misconception(check_id: str) -> None:
    q = BANK[check_id]
    assert len(q.options) >= 3
    assert q.keys == tuple("abcdefgh"[: len(q.options)])
    assert sum(o.misconception is None for o in q.options) == 1
    for o in q.options:
        assert o.text.strip() and o.why.strip()
        assert o.misconception is None or len(o.misconception.split()) >= 3
    assert len({o.text for o in q.options}) == len(q.options)
    assert q.variable == "concept_" + check_id.replace(".", "_") and q.variable.isidentifier()


def test_right_letters_are_spread() -> None:
    """No letter is a safe guess: none is right for more than a third of the checks."""
    counts = Counter(_right(i) for i in IDS)
    assert set(counts) == {"a", "b", "c", "d"}
    assert max(counts.values()) <= len(IDS) / 3


def test_texts_hold_no_dollar_sign() -> None:
    """Amounts are written in USD: JupyterLab typesets text between dollar signs as math."""
    texts = [t for q in BANK.values() for t in (q.prompt, q.concept)]
    texts += [t or "" for q in BANK.values() for o in q.options
              for t in (o.text, o.misconception, o.why)]
    assert not [t for t in texts if "$" in t]


def test_reprs_of_questions_and_options_do_not_tell_which_is_right() -> None:
    q = BANK["02.2"]
    text = repr(q)
    assert "misconception" not in text and "None" not in text
    assert all(o.why not in text for o in q.options)


_ONE = """
[[question]]
id = "{qid}"
concept = "c"
prompt = "p"
{options}
"""
_RIGHT = '[[question.option]]\ntext = "r"\nwhy = "w"\n'
_WRONG = '[[question.option]]\ntext = "x{n}"\nmisconception = "m m m"\nwhy = "w"\n'


def test_the_bank_loads_from_its_data_file_in_order() -> None:
    text = (ROOT / "simlab" / "data" / "concept_checks.toml").read_text(encoding="utf-8")
    assert list(load(text)) == IDS and load(text) == BANK


@pytest.mark.parametrize("qid,options,why", [
    ("01.1", _RIGHT + _WRONG.format(n=1), "at least 3"),
    ("01.1", _WRONG.format(n=1) + _WRONG.format(n=2) + _WRONG.format(n=3), "0 right"),
    ("01.1", _RIGHT + _RIGHT + _WRONG.format(n=1), "2 right"),
    ("10.1", _RIGHT + _WRONG.format(n=1) + _WRONG.format(n=2), "'10.1'"),
    ("01-1", _RIGHT + _WRONG.format(n=1) + _WRONG.format(n=2), "'01-1'"),
])
def test_a_malformed_bank_is_refused(qid: str, options: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        load(_ONE.format(qid=qid, options=options))
    good = _ONE.format(qid="01.1", options=_RIGHT + _WRONG.format(n=1) + _WRONG.format(n=2))
    with pytest.raises(ValueError, match="unique"):
        load(good + good)


# -- choices, feedback, errors ---------------------------------------------------------------------
def test_choices_are_normalised_and_unanswered_is_none() -> None:
    assert normalise_choice("01.3", " C ") == "c"
    assert normalise_choice("01.3", ...) is None and normalise_choice("01.3", None) is None


@pytest.mark.parametrize("bad", ["e", "", "ab", 2, True])
def test_a_bad_choice_names_the_variable_and_the_letters(bad: object) -> None:
    with pytest.raises(ValueError, match=r"concept_01_3 must be one of 'a', 'b', 'c', 'd'"):
        normalise_choice("01.3", bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="concept_01_3"):
        ask("01.3", bad)  # type: ignore[arg-type]


def test_unknown_checks_and_lessons_are_refused() -> None:
    with pytest.raises(KeyError, match=r"'01.9'.*01.1, 01.2, 01.3"):
        question("01.9")
    with pytest.raises(ValueError, match="lesson must be one of 00, 01"):
        questions("10")


@pytest.mark.parametrize("check_id", IDS)
def test_feedback_explains_the_right_option_and_names_each_misconception(check_id: str) -> None:
    q, right = BANK[check_id], _right(check_id)
    assert is_right(check_id, right) and not is_right(check_id, ...)
    assert feedback(check_id, right).startswith(f"({right}) is right.")
    assert feedback(check_id, ...) == ""
    for key in _wrong(check_id):
        option = next(o for o in q.options if o.key == key)
        text = feedback(check_id, key)
        assert not is_right(check_id, key)
        assert f"Misconception: {option.misconception}" in text and option.why in text
        assert f"({right})" not in text  # a wrong choice is not told the right letter


# -- the widget ----------------------------------------------------------------------------------
def _parts(check: ConceptCheck) -> tuple[w.HTML, w.RadioButtons, w.HTML]:
    question_html, buttons, readout = check.children
    return question_html, buttons, readout


def test_unanswered_check_shows_the_question_and_no_feedback() -> None:
    check = ask("02.2")
    question_html, buttons, readout = _parts(check)
    assert "reserved concurrency is 10" in question_html.value
    assert buttons.value is None and list(buttons.options) == ["a", "b", "c", "d"]
    assert "concept_02_2" in readout.value and "Misconception" not in readout.value
    text = check._repr_mimebundle_()["text/plain"]
    assert text.startswith("Concept check 02.2") and "not recorded yet" in text
    assert all(o.why not in text and o.why not in readout.value for o in BANK["02.2"].options)


def test_answered_check_shows_its_feedback_and_trying_another_option_keeps_the_record() -> None:
    right, wrong = _right("01.3"), _wrong("01.3")[0]
    check = ask("01.3", wrong)
    _, buttons, readout = _parts(check)
    assert buttons.value == wrong and "Misconception" in readout.value
    assert f"concept_01_3 = '{wrong}'" in check._repr_mimebundle_()["text/plain"]
    buttons.value = right  # the student tries another option
    assert "is right" in readout.value and "recorded answer stays" in readout.value
    assert f"'{wrong}'" in readout.value
    buttons.value = wrong
    assert "Exploring" not in readout.value


def test_controls_are_labelled_and_wrap() -> None:
    question_html, buttons, readout = _parts(ask("05b.2"))
    assert buttons.description and buttons.style.description_width == "initial"
    assert buttons.layout.width == "auto" and readout.layout.width == "auto"
    assert "white-space:normal" in question_html.value


# -- notebook cells --------------------------------------------------------------------------------
@pytest.mark.parametrize("check_id", ["00.1", "05b.3"])
def test_cell_source_runs_and_records_the_choice(check_id: str) -> None:
    for answered, expected in ((True, _right(check_id)), (False, None)):
        source = cell_source(check_id, answered)
        *body, last = source.strip().splitlines()
        namespace: dict[str, object] = {}
        exec("\n".join(body), namespace)  # noqa: S102 - the cell's own code
        shown = eval(last, namespace)  # noqa: S307
        assert isinstance(shown, ConceptCheck) and shown.recorded == expected


def _notebooks() -> list[tuple[str, Path, bool]]:
    return [(lesson, ROOT / "notebooks" / sub / f"{stem}.ipynb", sub == "solutions")
            for lesson, stem in LESSONS.items() for sub in ("", "solutions")]


@pytest.mark.parametrize("lesson,path,solution", _notebooks(),
                         ids=[str(p.relative_to(ROOT / "notebooks")) for _, p, _ in _notebooks()])
def test_notebooks_hold_every_check_once_run_with_its_answer(lesson: str, path: Path,
                                                             solution: bool) -> None:
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if c.metadata.get("simlab", {}).get("kind") == "concept"]
    assert [c.id for c in cells] == ["concept-" + q.id.replace(".", "-") for q in questions(lesson)]
    for cell, q in zip(cells, questions(lesson), strict=True):
        assert cell.cell_type == "code" and cell.source == cell_source(q.id, solution)
        assert cell.execution_count is not None, f"{q.id} was not run"
        text = "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs)
        assert text.startswith(f"Concept check {q.id}")
        assert (f"({_right(q.id)}) is right." in text) if solution else ("not recorded" in text)


def test_checks_sit_at_their_anchors() -> None:
    """The insertion script finds nothing to change: every check is where its anchor puts it."""
    done = subprocess.run([sys.executable, "scripts/insert_concept_checks.py", "--check"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_instructor_list_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "teaching" / "concept-checks.md").read_text()
    assert committed == instructor_markdown() + "\n", (
        "regenerate docs/teaching/concept-checks.md from instructor_markdown()")
    for q in BANK.values():
        assert f"### {q.id} · " in committed and f"**Answer: ({_right(q.id)})**" in committed
