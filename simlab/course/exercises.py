"""Exercises with checks: is a student's answer right, and why, without giving the answer away.

Each exercise has an id (``"01-simulated-cold-fraction"``: the lesson number, then a name), a
task, hints, and an *expected answer computed by simlab*, by a simulation or a formula of
:mod:`simlab.core.theory`, never typed in, so that the exercise stays right when the model improves.
:func:`check` compares an answer with it under a tolerance and prints what it concludes:

* right: a short explanation of why;
* wrong: in which direction, and which idea to revisit, never the number itself;
* not answered yet (``...`` or ``None``): a friendly reminder, no error, so that a student's
  notebook runs top to bottom before it is finished.

A lesson adds an exercise with the :func:`exercise` decorator on the function that computes the
expected answer::

    @exercise("02-throttled-fraction", tolerance=0.005,
              hints=("A throttled request never gets an environment.",
                     "Run the simulation and read result.summary()."),
              why="Erlang B gives the fraction of requests that find every environment busy.")
    def _throttled() -> float:
        return float(simlab.theory.erlang_b(10, 8.0))

Optional ``feedback(answer, expected)`` functions add targeted messages for common mistakes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Exercise", "CheckResult", "Hint", "exercise", "check", "hint", "exercises",
           "REGISTRY"]


@dataclass(frozen=True)
class Exercise:
    """One exercise: how to compute its answer and how to judge one.

    Attributes
    ----------
    id
        ``"NN-name"``, NN the lesson number.
    expected
        Computes the expected answer (a number).
    tolerance
        Absolute tolerance of a right answer.
    rel_tolerance
        Relative tolerance (of the expected value); an answer within either tolerance is right.
    hints
        Hints, from gentle to nearly a solution.
    why
        Shown with a right answer: the idea the exercise is about.
    unit
        Unit of the answer, used in messages (``"min"``, ``""`` for fractions).
    feedback
        Optional ``feedback(answer, expected) -> str | None``: a message for a known mistake.
    """

    id: str
    expected: Callable[[], float]
    tolerance: float = 0.0
    rel_tolerance: float = 0.0
    hints: tuple[str, ...] = ()
    why: str = ""
    unit: str = ""
    feedback: Callable[[float, float], str | None] | None = None

    def is_right(self, answer: float, expected: float) -> bool:
        """True when ``answer`` is within the tolerances of ``expected``."""
        return abs(answer - expected) <= max(self.tolerance, self.rel_tolerance * abs(expected))


@dataclass(frozen=True)
class CheckResult:
    """What :func:`check` concluded: ``status`` is ``correct``, ``incorrect``, ``unanswered`` or
    ``invalid``; ``message`` is what was printed. True only when correct."""

    exercise_id: str
    status: str
    message: str = field(repr=False)

    @property
    def correct(self) -> bool:
        """The answer is right."""
        return self.status == "correct"

    def __bool__(self) -> bool:
        return self.correct


#: Every exercise of the course, by id (filled by the :func:`exercise` decorator).
REGISTRY: dict[str, Exercise] = {}


def exercise(exercise_id: str, *, tolerance: float = 0.0, rel_tolerance: float = 0.0,
             hints: tuple[str, ...] = (), why: str = "", unit: str = "",
             feedback: Callable[[float, float], str | None] | None = None,
             ) -> Callable[[Callable[[], float]], Callable[[], float]]:
    """Register the decorated function as the expected answer of exercise ``exercise_id``."""
    if (not isinstance(exercise_id, str) or len(exercise_id) < 4 or not exercise_id[:2].isdigit()
            or exercise_id[2] != "-"):
        raise ValueError(f"exercise_id must look like 'NN-name' (NN the lesson), "
                         f"got {exercise_id!r}")
    if tolerance < 0 or rel_tolerance < 0 or tolerance == rel_tolerance == 0:
        raise ValueError(f"{exercise_id}: give a tolerance or rel_tolerance > 0, got "
                         f"{tolerance!r} and {rel_tolerance!r}")

    def register(fn: Callable[[], float]) -> Callable[[], float]:
        if exercise_id in REGISTRY:
            raise ValueError(f"exercise {exercise_id!r} is registered already")
        REGISTRY[exercise_id] = Exercise(exercise_id, fn, tolerance, rel_tolerance,
                                         tuple(hints), why, unit, feedback)
        return fn

    return register


def exercises(lesson: int | None = None) -> list[str]:
    """Ids of the registered exercises (of one ``lesson`` number)."""
    return [k for k in REGISTRY if lesson is None or int(k[:2]) == lesson]


def _get(exercise_id: str) -> Exercise:
    if exercise_id not in REGISTRY:
        raise ValueError(f"no exercise {exercise_id!r}; exercises: {', '.join(REGISTRY)}")
    return REGISTRY[exercise_id]


def _say(exercise_id: str, status: str, message: str) -> CheckResult:
    print(message)
    return CheckResult(exercise_id, status, message)


def check(exercise_id: str, answer: Any) -> CheckResult:
    """Judge ``answer`` to exercise ``exercise_id``; print and return the verdict.

    Parameters
    ----------
    exercise_id
        The exercise (see :func:`exercises`); an unknown id raises ValueError.
    answer
        A number; ``...`` or ``None`` means not answered yet (no error is raised).

    Returns
    -------
    CheckResult
        ``bool(result)`` is True when the answer is right.
    """
    ex = _get(exercise_id)
    if answer is None or answer is Ellipsis:
        return _say(exercise_id, "unanswered",
                    f"⏳ {exercise_id}: not answered yet. Replace `...` with your answer and "
                    f"run the cell again (hint(\"{exercise_id}\") gives a hint).")
    if isinstance(answer, bool) or not isinstance(answer, int | float | np.integer | np.floating):
        return _say(exercise_id, "invalid",
                    f"✋ {exercise_id}: the answer should be a number"
                    f"{' in ' + ex.unit if ex.unit else ''}, got {type(answer).__name__} "
                    f"{answer!r}.")
    value = float(answer)
    if not math.isfinite(value):
        return _say(exercise_id, "invalid",
                    f"✋ {exercise_id}: the answer should be a finite number, got {answer!r}.")
    expected = float(ex.expected())
    if ex.is_right(value, expected):
        return _say(exercise_id, "correct", f"✅ {exercise_id}: right. {ex.why}".rstrip())
    special = ex.feedback(value, expected) if ex.feedback is not None else None
    direction = "too high" if value > expected else "too low"
    more = f" {special}" if special else ""
    return _say(exercise_id, "incorrect",
                f"❌ {exercise_id}: not yet: {value:g}{' ' + ex.unit if ex.unit else ''} is "
                f"{direction}.{more} Try hint(\"{exercise_id}\").")


class Hint(str):
    """A hint's text, shown once: as a cell's value it displays as the plain text (no quotes);
    nothing is printed on the side, so ``hint(...)`` alone in a cell shows it exactly once."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def hint(exercise_id: str, n: int = 1) -> Hint:
    """Hint ``n`` (1 = the gentlest) of exercise ``exercise_id``, shown as the cell's value.

    Returns
    -------
    Hint
        The text (a ``str``), displayed once when it is the cell's last expression; inside a
        loop or function, ``print()`` it.
    """
    ex = _get(exercise_id)
    if not ex.hints:
        raise ValueError(f"exercise {exercise_id!r} has no hints")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(ex.hints):
        raise ValueError(f"n must be a whole number from 1 to {len(ex.hints)} for "
                         f"{exercise_id!r}, got {n!r}")
    more = f" (hint({exercise_id!r}, {n + 1}) for more)" if n < len(ex.hints) else ""
    return Hint(f"💡 {exercise_id}, hint {n} of {len(ex.hints)}: {ex.hints[n - 1]}{more}")


# ==================================================================================================
# Lesson 1: cold and warm starts
# ==================================================================================================
#: The function of lesson 1's exercises (names the notebook uses too).
LESSON1 = {"era": "2018", "seed": 7, "rate_per_s": 1 / 600, "duration_s": 0.2,
           "until_s": 48 * 3600.0}


def lesson1_simulation() -> Any:
    """The run of exercise 01-simulated-cold-fraction: 2018 rules, one request per 10 minutes
    on average (Poisson), 0.2 s each, for 48 hours, seed 7."""
    import simlab

    sim = simlab.Simulation(era=LESSON1["era"], seed=LESSON1["seed"])
    sim.add_function("thumbnail", memory_mb=512, duration_s=LESSON1["duration_s"])
    sim.add_source(simlab.sources.Poisson(rate_per_s=LESSON1["rate_per_s"]), target="thumbnail")
    return sim.run(until_s=LESSON1["until_s"])


def _theory_2018() -> float:
    from simlab.core.config import ERAS
    from simlab.core.theory import p_cold_ttl

    return float(p_cold_ttl(LESSON1["rate_per_s"], ERAS["2018"].keep_alive.ttl_s))


def _is_theory(answer: float, expected: float) -> str | None:
    if abs(answer - _theory_2018()) < 0.005:
        return ("That is what exp(-lambda T) predicts; the question asks what this simulation "
                "measured.")
    if answer > 1:
        return "A fraction is between 0 and 1 (did you give a percentage or a count?)."
    return None


@exercise("01-simulated-cold-fraction", tolerance=0.0005, hints=(
    "Build the simulation the task describes (or call simlab.exercises.lesson1_simulation()).",
    "result.summary() holds the figure you need.",
    "Look at summary()['cold_start_fraction'] and give it as a number between 0 and 1.",
), why="A request is cold when no idle environment is waiting for it; in 2018 idle environments "
        "were kept about 26 minutes.", feedback=_is_theory)
def _simulated_cold_fraction() -> float:
    return float(lesson1_simulation().summary()["cold_start_fraction"])


def _keep_alive_for(target: float, rate_per_s: float) -> float:
    """Smallest keep-alive (min) with P(cold) <= target, found by bisection on the theory."""
    from simlab.core.theory import p_cold_ttl

    low, high = 0.0, 1.0
    while p_cold_ttl(rate_per_s, high * 60) > target:
        high *= 2
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if p_cold_ttl(rate_per_s, mid * 60) > target else (low, mid)
    return high


def _per_second(answer: float, expected: float) -> str | None:
    if abs(answer - expected * 60) <= 0.25 * 60:
        return "Check the unit: the answer is asked in minutes, not seconds."
    return None


@exercise("01-keep-alive-for-5-percent", tolerance=0.25, unit="min", hints=(
    "For a function called rarely, P(cold) = exp(-lambda T): lambda is the arrival rate in "
    "requests per second, T the keep-alive in seconds.",
    "Solve exp(-lambda T) = 0.05 for T (take logarithms), then convert seconds to minutes.",
    "simlab.theory.p_cold_ttl(rate_per_s, ttl_s) lets you check a value of T.",
), why="P(cold) = exp(-lambda T) falls fast at first, then slowly: each halving of the "
        "cold-start fraction costs the same extra keep-alive, ln 2 / lambda.",
   feedback=_per_second)
def _keep_alive_for_5_percent() -> float:
    return _keep_alive_for(0.05, 1 / 300)


@exercise("01-mean-idle-environments", rel_tolerance=0.05, hints=(
    "An environment is idle when it is alive but not initialising or running a request.",
    "The run's summary() gives mean_idle_environments; simlab.theory has a formula too.",
    "simlab.theory.mean_idle_environments_ttl(rate_per_s, ttl_s, duration_s, init_s)",
), why="With one request every 5 minutes and a 10-minute keep-alive, the environment waits "
        "idle most of the time: memory the provider holds, and you do not pay for. It is no "
        "coincidence that this is close to the chance a request starts warm, 1 - exp(-lambda T): "
        "Poisson arrivals see time averages (PASTA), so the share of requests finding an idle "
        "environment equals the share of time one is idle.")
def _mean_idle_environments() -> float:
    from simlab.core.config import DEFAULT_INIT
    from simlab.core.theory import mean_idle_environments_ttl

    return float(mean_idle_environments_ttl(1 / 300, 600.0, 0.2, DEFAULT_INIT.mean()))
