"""The course's concept checks: short multiple-choice questions with diagnostic distractors.

Every wrong option is a known misconception, named in its feedback; the right option's feedback
says why it is right. The questions are data, ``simlab/data/concept_checks.toml`` (read through
:mod:`importlib.resources`); facts follow the project's fact sheet (LAMBDA_FACTS.md) and the
lessons' text. :mod:`simlab.course.concept_checks` shows them as widgets and renders the
instructor's list.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib.resources import files

__all__ = ["Option", "Question", "BANK", "LESSONS", "load"]

#: The lessons, in course order: id prefix -> notebook stem.
LESSONS: dict[str, str] = {
    "00": "00_start_here",
    "01": "01_cold_and_warm_starts",
    "02": "02_concurrency_and_throttling",
    "02b": "02b_scaling_and_erlang_b",
    "03": "03_memory_cpu_and_timeouts",
    "03b": "03b_power_tuning",
    "04": "04_billing_granularity",
    "04b": "04b_provisioned_concurrency",
    "05": "05_event_sources",
    "05b": "05b_event_payloads",
    "06": "06_logs_and_monitoring",
    "06b": "06b_metrics_and_trail",
    "07": "07_use_case_labs",
    "07b": "07b_background_labs",
    "08": "08_is_the_simulator_right",
    "08b": "08b_calibrating_the_model",
    "09": "09_capstone_keep_alive",
    "09b": "09b_keep_alive_policy",
}


@dataclass(frozen=True)
class Option:
    """One option of a question.

    Attributes
    ----------
    key
        ``"a"``, ``"b"``, ...
    text
        What the student reads.
    misconception
        For a wrong option, the misconception choosing it reveals (a short sentence); ``None`` for
        the right option.
    why
        The explanation shown when the option is chosen.
    """

    key: str
    text: str
    misconception: str | None = field(repr=False)
    why: str = field(repr=False)


@dataclass(frozen=True)
class Question:
    """One concept check.

    Attributes
    ----------
    id
        ``"<lesson>.<n>"``, e.g. ``"01.2"``; the notebook variable is ``concept_01_2``.
    concept
        The concept it checks (a few words).
    prompt
        The question.
    options
        The options, keys ``a``, ``b``, ... in order; exactly one has no misconception.
    """

    id: str
    concept: str
    prompt: str
    options: tuple[Option, ...]

    @property
    def lesson(self) -> str:
        """The lesson's id prefix (``"01"``, ``"05b"``)."""
        return self.id.split(".")[0]

    @property
    def variable(self) -> str:
        """The notebook variable that records the student's answer: ``concept_01_2``."""
        return "concept_" + self.id.replace(".", "_")

    @property
    def keys(self) -> tuple[str, ...]:
        """The option keys, in order."""
        return tuple(o.key for o in self.options)


def load(text: str) -> dict[str, Question]:
    """Questions from the TOML text of a bank (the format of ``concept_checks.toml``).

    Raises
    ------
    ValueError
        If a question's id is not ``<lesson>.<n>`` for a lesson of :data:`LESSONS`, is repeated,
        or its options do not include exactly one right option (without a misconception) and at
        least two wrong ones.
    """
    bank: dict[str, Question] = {}
    for entry in tomllib.loads(text)["question"]:
        qid = entry["id"]
        match = re.fullmatch(r"([0-9]{2}b?)\.[1-9]", qid)
        if match is None or match.group(1) not in LESSONS or qid in bank:
            raise ValueError(f"question id {qid!r}: must be '<lesson>.<n>' for a lesson of "
                             f"{', '.join(LESSONS)}, and unique")
        options = tuple(Option("abcdefgh"[i], o["text"], o.get("misconception"), o["why"])
                        for i, o in enumerate(entry["option"]))
        right = sum(o.misconception is None for o in options)
        if right != 1 or len(options) < 3:
            raise ValueError(f"question {qid!r} has {len(options)} options and {right} right "
                             f"ones; it needs at least 3, exactly 1 right")
        bank[qid] = Question(qid, entry["concept"], entry["prompt"], options)
    return bank


#: Every concept check, by id, in course order.
BANK: dict[str, Question] = load(
    files("simlab").joinpath("data", "concept_checks.toml").read_text(encoding="utf-8"))
