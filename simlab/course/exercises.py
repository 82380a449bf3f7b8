"""Exercises with checks that make students think, judged without giving the answer away.

Each exercise has an id (``"01-keep-alive-for-5-percent"``: the lesson number, then a name), a
*kind*, hints (from gentle to a strong nudge, never the solution code) and a check. The kinds:

* ``predict``: the student commits a prediction (one of a few options, or a number) *before* the
  run that tests it; :func:`check` then runs it, shows what happened next to the prediction and
  explains the difference (register with :func:`prediction`);
* ``design``: the student chooses a configuration that meets a goal; the check simulates the
  choice and verifies the property, so several answers are right (:func:`design`);
* ``explain``: a short written answer, recorded for the teacher, who grades it with the rubric of
  ``docs/teaching/rubrics.md`` (:func:`explanation`);
* ``compute``: a number computed by the student, compared with one *computed by simlab* (a
  simulation or a formula of :mod:`simlab.core.theory`, never typed in) within a tolerance; an
  answer
  that comes from a simulation is accepted within three standard errors of its estimator
  (:func:`exercise`).

:func:`check` prints what it concludes: right and why; wrong and the likely mistake (a percentage
for a fraction, minutes for seconds...), never "too high" or "too low", which would let a student
bisect to the answer; not answered yet (``...`` or ``None``): a reminder, no error, so that a
student's notebook runs top to bottom before it is finished. Expected answers and outcomes are
computed once per kernel (cached). Nothing public hands an expected value out: an
:class:`Exercise` holds only the function that judges an answer; the teacher's grading reads the
references through :func:`simlab.course.teacher.expected_answer`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["KINDS", "Exercise", "CheckResult", "Hint", "exercise", "prediction", "design",
           "explanation", "check", "hint", "exercises", "REGISTRY"]

#: The kinds of exercise, as declared in the notebooks' cell metadata ``{"simlab": {"kind": ...}}``.
KINDS = ("predict", "design", "explain", "compute")


@dataclass(frozen=True)
class CheckResult:
    """What :func:`check` concluded: ``status`` is ``correct``, ``incorrect``, ``recorded`` (a
    written answer, graded by the teacher), ``unanswered`` or ``invalid``; ``message`` is what was
    printed. True only when correct."""

    exercise_id: str
    status: str
    message: str = field(repr=False)

    @property
    def correct(self) -> bool:
        """The answer is right."""
        return self.status == "correct"

    def __bool__(self) -> bool:
        return self.correct


@dataclass(frozen=True)
class Exercise:
    """One exercise: its kind, hints, the idea it teaches, and how to judge an answer.

    Attributes
    ----------
    id
        ``"NN-name"``, NN the lesson number.
    kind
        One of :data:`KINDS`.
    hints
        Hints, from gentle to a strong nudge (never the solution code).
    why
        The idea the exercise is about, shown once the answer (or the prediction) is in.
    unit
        Unit of the answer, used in messages (``"min"``, ``""`` for fractions).
    judge
        ``judge(answer) -> (status, message)`` for an answer that is not ``...``/``None``.
    """

    id: str
    kind: str
    hints: tuple[str, ...] = ()
    why: str = ""
    unit: str = ""
    judge: Callable[[Any], tuple[str, str]] = field(default=lambda a: ("invalid", ""),
                                                    repr=False, compare=False)


#: Every exercise of the course, by id (filled by :func:`exercise`, :func:`prediction`,
#: :func:`design` and :func:`explanation`).
REGISTRY: dict[str, Exercise] = {}
#: Reference answers (for the test suite and the teacher's grading only), by id.
_REFERENCE: dict[str, Callable[[], Any]] = {}


def _check_id(exercise_id: Any) -> None:
    if (not isinstance(exercise_id, str) or len(exercise_id) < 4 or not exercise_id[:2].isdigit()
            or exercise_id[2] != "-"):
        raise ValueError(f"exercise_id must look like 'NN-name' (NN the lesson), "
                         f"got {exercise_id!r}")


def _register(ex: Exercise, reference: Callable[[], Any]) -> None:
    if ex.id in REGISTRY:
        raise ValueError(f"exercise {ex.id!r} is registered already")
    REGISTRY[ex.id] = ex
    _REFERENCE[ex.id] = reference


def _number(answer: Any, unit: str) -> float | str:
    """The answer as a float, or the message saying why it is not a number."""
    if isinstance(answer, bool) or not isinstance(answer, int | float | np.integer | np.floating):
        return (f"the answer should be a number{' in ' + unit if unit else ''}, got "
                f"{type(answer).__name__} {answer!r}.")
    if not math.isfinite(float(answer)):
        return f"the answer should be a finite number, got {answer!r}."
    return float(answer)


def unit_slip(answer: float, expected: float, unit: str,
              close: Callable[[float], bool]) -> str | None:
    """The likely unit mistake when ``close(answer converted)`` holds, else None.

    Tried: a percentage for a fraction (and the reverse), minutes for seconds (and the reverse),
    milliseconds for seconds (and the reverse).
    """
    if not unit and 0 <= expected <= 1 and close(answer / 100):
        return "That looks like a percentage: give a fraction between 0 and 1 (0.25 for 25 %)."
    if unit == "%" and close(answer * 100):
        return "That looks like a fraction: the answer is asked in percent (25 for 25 %)."
    if unit in ("s", "min", "ms") and expected != 0:
        factors = {"s": ((60, "minutes"), (1 / 60, "hours"), (1 / 1000, "milliseconds")),
                   "min": ((1 / 60, "seconds"), (60, "hours")),
                   "ms": ((1000, "seconds"),)}[unit]
        for factor, other in factors:
            if close(answer * factor):
                return f"Check the unit: that looks like {other}; the answer is asked in {unit}."
    return None


def exercise(exercise_id: str, *, tolerance: float = 0.0, rel_tolerance: float = 0.0,
             se: Callable[[float], float] | None = None, hints: tuple[str, ...] = (),
             why: str = "", unit: str = "",
             feedback: Callable[[float, float], str | None] | None = None,
             ) -> Callable[[Callable[[], float]], Callable[[], float]]:
    """Register the decorated function as the expected answer of compute exercise
    ``exercise_id`` (computed once per kernel).

    An answer is right within ``tolerance``, ``rel_tolerance`` times the expected value, or three
    standard errors ``se(expected)`` of the estimator a student uses (a simulated answer is a
    random variable). ``feedback(answer, expected)`` may name a known mistake.
    """
    _check_id(exercise_id)
    if tolerance < 0 or rel_tolerance < 0 or (tolerance == rel_tolerance == 0 and se is None):
        raise ValueError(f"{exercise_id}: give a tolerance, rel_tolerance > 0 or se, got "
                         f"{tolerance!r} and {rel_tolerance!r}")

    def register(fn: Callable[[], float]) -> Callable[[], float]:
        expected_of = functools.cache(fn)

        def allowed(expected: float) -> float:
            return max(tolerance, rel_tolerance * abs(expected),
                       3.0 * se(expected) if se is not None else 0.0)

        def judge(answer: Any) -> tuple[str, str]:
            value = _number(answer, unit)
            if isinstance(value, str):
                return "invalid", f"✋ {exercise_id}: {value}"
            expected = float(expected_of())
            if abs(value - expected) <= allowed(expected):
                return "correct", f"✅ {exercise_id}: right. {why}".rstrip()
            special = feedback(value, expected) if feedback is not None else None
            special = special or unit_slip(value, expected, unit,
                                           lambda v: abs(v - expected) <= allowed(expected))
            more = f" {special}" if special else " Look again at what the question asks."
            return "incorrect", (f"❌ {exercise_id}: not yet: {value:g}"
                                 f"{' ' + unit if unit else ''} is not the answer.{more} "
                                 f"Try hint(\"{exercise_id}\").")

        _register(Exercise(exercise_id, "compute", tuple(hints), why, unit, judge), expected_of)
        return fn

    return register


def prediction(exercise_id: str, *, outcome: Callable[[], tuple[Any, str]],
               options: Mapping[str, str] | None = None, tolerance: float = 0.0,
               rel_tolerance: float = 0.0, hints: tuple[str, ...] = (), why: str = "",
               unit: str = "", feedback: Callable[[float, float], str | None] | None = None,
               ) -> None:
    """Register predict-then-run exercise ``exercise_id``.

    Parameters
    ----------
    outcome
        Runs the experiment the prediction is about (once per kernel) and returns what it showed:
        ``(right option, report)`` with ``options``, ``(value, report)`` without; ``report`` is
        shown to the student after the prediction is in.
    options
        Option key (``"a"``) -> what choosing it wrongly reveals (the misconception); None for a
        numeric prediction, judged within ``tolerance`` / ``rel_tolerance``.
    """
    _check_id(exercise_id)
    if options is None and tolerance <= 0 and rel_tolerance <= 0:
        raise ValueError(f"{exercise_id}: a numeric prediction needs a tolerance > 0")
    keys = {k.lower(): k for k in (options or {})}
    run = functools.cache(outcome)

    def judge(answer: Any) -> tuple[str, str]:
        if options is not None:
            key = answer.strip().strip("()").lower() if isinstance(answer, str) else None
            if key not in keys:
                return "invalid", (f"✋ {exercise_id}: the prediction should be one of "
                                   f"{', '.join(repr(k) for k in options)}, got {answer!r}.")
            right, report = run()
            shown, ok = f"({keys[key]})", keys[key] == right
            special = None if ok else options[keys[key]]
        else:
            value = _number(answer, unit)
            if isinstance(value, str):
                return "invalid", f"✋ {exercise_id}: {value}"
            expected, report = run()
            ok = abs(value - expected) <= max(tolerance, rel_tolerance * abs(expected))
            shown = f"{value:g}{' ' + unit if unit else ''}"
            special = None if ok else (feedback(value, expected) if feedback else None)
        head = f"📝 {exercise_id}: you predicted {shown}. The run: {report}"
        if ok:
            return "correct", f"{head}\n✅ Your prediction holds. {why}".rstrip()
        return "incorrect", (f"{head}\n❌ The run does not bear your prediction out."
                             f"{' ' + special if special else ''} {why}").rstrip()

    _register(Exercise(exercise_id, "predict", tuple(hints), why, unit, judge),
              lambda: run()[0])


def design(exercise_id: str, *, verify: Callable[[Any], tuple[bool, str]],
           reference: Callable[[], Any], hints: tuple[str, ...] = (), why: str = "",
           unit: str = "") -> None:
    """Register design exercise ``exercise_id``: several answers are right.

    ``verify(answer) -> (meets the goal, what the check measured of it)`` simulates the student's
    configuration (raising ValueError, with a message naming the value, for one it cannot take);
    ``reference()`` is one right answer (for the tests and the teacher).
    """
    _check_id(exercise_id)
    checked = functools.cache(verify)

    def judge(answer: Any) -> tuple[str, str]:
        if isinstance(answer, list):
            answer = tuple(answer)  # a design of several values, written as a list: same answer
        try:
            ok, report = checked(answer) if isinstance(answer, Hashable) else verify(answer)
        except (ValueError, TypeError) as error:
            return "invalid", f"✋ {exercise_id}: {error}"
        if ok:
            return "correct", f"✅ {exercise_id}: your design meets the goal: {report}. {why}"
        return "incorrect", (f"❌ {exercise_id}: not yet: {report}. Try hint(\"{exercise_id}\").")

    _register(Exercise(exercise_id, "design", tuple(hints), why, unit, judge), reference)


def explanation(exercise_id: str, *, review: str, min_words: int = 15,
                hints: tuple[str, ...] = ()) -> None:
    """Register explain exercise ``exercise_id``: a written answer of ``min_words`` words or more,
    recorded for the teacher (rubric in ``docs/teaching/rubrics.md``); ``review`` is what the
    student is asked to reread it for (questions, not the answer)."""
    _check_id(exercise_id)

    def judge(answer: Any) -> tuple[str, str]:
        if not isinstance(answer, str):
            return "invalid", (f"✋ {exercise_id}: write your answer as text between quotes, got "
                               f"{type(answer).__name__}.")
        words = len(answer.split())
        if words < min_words:
            return "invalid", (f"✋ {exercise_id}: {words} words is too short to explain it: "
                               f"write at least {min_words}.")
        return "recorded", (f"📝 {exercise_id}: recorded ({words} words); your teacher grades "
                            f"it. Before you move on, reread it: {review}")

    _register(Exercise(exercise_id, "explain", tuple(hints), "", "", judge), lambda: None)


def exercises(lesson: int | None = None) -> list[str]:
    """Ids of the registered exercises (of one ``lesson`` number)."""
    return [k for k in REGISTRY if lesson is None or int(k[:2]) == lesson]


def _get(exercise_id: str) -> Exercise:
    if exercise_id not in REGISTRY:
        raise ValueError(f"no exercise {exercise_id!r}; exercises: {', '.join(REGISTRY)}")
    return REGISTRY[exercise_id]


_PENDING = {
    "predict": "commit your prediction first: replace `...` with it and run this cell again; the "
               "run that tests it happens then.",
    "design": "not answered yet. Replace `...` with your design and run the cell again.",
    "explain": "not answered yet. Replace `...` with your answer, in quotes, and run the cell "
               "again.",
    "compute": "not answered yet. Replace `...` with your answer and run the cell again.",
}


def check(exercise_id: str, answer: Any) -> CheckResult:
    """Judge ``answer`` to exercise ``exercise_id``; print and return the verdict.

    Parameters
    ----------
    exercise_id
        The exercise (see :func:`exercises`); an unknown id raises ValueError.
    answer
        A number, an option (``"b"``), a configuration or a text, by the exercise's kind; ``...``
        or ``None`` means not answered yet (no error is raised).

    Returns
    -------
    CheckResult
        ``bool(result)`` is True when the answer is right.
    """
    ex = _get(exercise_id)
    if answer is None or answer is Ellipsis:
        status, message = "unanswered", (f"⏳ {exercise_id}: {_PENDING[ex.kind]} "
                                         f"(hint(\"{exercise_id}\") gives a hint)")
    else:
        status, message = ex.judge(answer)
    print(message)
    return CheckResult(exercise_id, status, message)


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
#: The function of lesson 1's exercises (names the notebook uses too): 30 days of a function
#: called once every 10 minutes on average, under the 2018 rules.
LESSON1 = {"era": "2018", "seed": 7, "rate_per_s": 1 / 600, "duration_s": 0.2,
           "until_s": 30 * 24 * 3600.0}
#: Seeds whose mean is exercise 01-simulated-cold-fraction's expected value.
LESSON1_SEEDS = tuple(range(1, 21))


def lesson1_simulation(seed: int = LESSON1["seed"]) -> Any:
    """A run of exercise 01-simulated-cold-fraction: 2018 rules, one request per 10 minutes
    on average (Poisson), 0.2 s each, for 30 days, with ``seed``."""
    import simlab

    sim = simlab.Simulation(era=LESSON1["era"], seed=seed)
    sim.add_function("thumbnail", memory_mb=512, duration_s=LESSON1["duration_s"])
    sim.add_source(simlab.sources.Poisson(rate_per_s=LESSON1["rate_per_s"]), target="thumbnail")
    return sim.run(until_s=LESSON1["until_s"])


def _theory_2018() -> float:
    from simlab.core.config import ERAS
    from simlab.core.theory import p_cold_ttl

    return float(p_cold_ttl(LESSON1["rate_per_s"], ERAS["2018"].keep_alive.ttl_s))


def _one_run_se(p: float) -> float:
    """Standard error of one run's cold-start fraction: about sqrt(p(1-p)/n), n the requests."""
    n = LESSON1["rate_per_s"] * LESSON1["until_s"]
    return math.sqrt(max(p * (1 - p), 1e-12) / n)


def _is_theory(answer: float, expected: float) -> str | None:
    if abs(answer - _theory_2018()) < 0.005:
        return ("That is what exp(-lambda T) predicts; the question asks what the simulation "
                "measures.")
    if answer > 1:
        return "A fraction is between 0 and 1 (did you give a percentage or a count?)."
    return None


@exercise("01-simulated-cold-fraction", se=_one_run_se, hints=(
    "Build the simulation the task describes: a Simulation of the 2018 era, the function, its "
    "Poisson source, then run() for 30 days.",
    "The run's summary() holds the figure you need, as a fraction between 0 and 1.",
    "Any seed is accepted, and so is the mean of several seeds: a 30-day run is precise to about "
    "half a percentage point, and the check allows three times that.",
), why="A request is cold when no idle environment is waiting for it; in 2018 idle environments "
        "were kept about 26 minutes, and every environment was also recycled after a lifetime "
        "of about 2 hours, even a busy one, so more requests start cold than exp(-lambda T) says.",
   feedback=_is_theory)
def _simulated_cold_fraction() -> float:
    return float(np.mean([lesson1_simulation(s).summary()["cold_start_fraction"]
                          for s in LESSON1_SEEDS]))


#: Exercise 01-keep-alive-for-5-percent: the function, the goal and the budget of the design.
KEEP_ALIVE_DESIGN = {"rate_per_s": 1 / 240, "target": 0.05, "spare_min": 3.0,
                     "requests": 20_000, "seed": 3}


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


def keep_alive_run(keep_alive_min: float) -> float:
    """Cold-start fraction of exercise 01-keep-alive-for-5-percent's function with a keep-alive
    of ``keep_alive_min`` minutes: 20,000 requests (Poisson, one per 4 minutes), seed 3,
    environments never recycled."""
    import simlab
    from simlab.core.validate import number

    minutes = number("keep_alive_min", keep_alive_min, 0.0, 24 * 60.0)
    d = KEEP_ALIVE_DESIGN
    sim = simlab.Simulation(era="today", seed=d["seed"], keep_alive_s=minutes * 60.0,
                            max_lifetime_s=math.inf)
    sim.add_function("f", duration_s=0.2)
    sim.add_source(simlab.sources.Poisson(rate_per_s=d["rate_per_s"]), target="f")
    result = sim.run(until_s=d["requests"] / d["rate_per_s"])
    return float(result.summary()["cold_start_fraction"])


def _verify_keep_alive(answer: Any) -> tuple[bool, str]:
    value = _number(answer, "min")
    if isinstance(value, str):
        raise ValueError(value)
    d = KEEP_ALIVE_DESIGN
    measured = keep_alive_run(value)
    se = math.sqrt(d["target"] * (1 - d["target"]) / d["requests"])
    shortest = _keep_alive_for(d["target"], d["rate_per_s"])
    if value * 60 > 60 * (shortest + d["spare_min"]) and measured <= d["target"] + 3 * se:
        return False, (f"with {value:g} min, {measured:.1%} of the simulated requests start "
                       f"cold, which meets the goal, but the keep-alive is more than "
                       f"{d['spare_min']:g} minutes longer than it needs to be: every extra "
                       f"minute holds memory for nothing")
    ok = measured <= d["target"] + 3 * se
    if not ok and value > 60 * (shortest + d["spare_min"]):
        return False, (f"with {value:g} min, {measured:.1%} of the simulated requests start cold. "
                       f"Is that a keep-alive in seconds? The answer is asked in minutes")
    return ok, (f"with {value:g} min, {measured:.1%} of 20,000 simulated requests start cold "
                f"(the goal: at most 5 %, give or take the run's noise of "
                f"{3 * se:.1%})")


design("01-keep-alive-for-5-percent", verify=_verify_keep_alive,
       reference=lambda: math.ceil(_keep_alive_for(KEEP_ALIVE_DESIGN["target"],
                                                    KEEP_ALIVE_DESIGN["rate_per_s"])),
       unit="min", hints=(
           "For a function called rarely, P(cold) = exp(-lambda T): lambda is the arrival rate in "
           "requests per second, T the keep-alive in seconds.",
           "Solve exp(-lambda T) = 0.05 for T by taking logarithms, convert seconds to minutes, "
           "and round up: any keep-alive a little above that meets the goal.",
       ), why="P(cold) = exp(-lambda T) falls fast at first, then slowly: each halving of the "
              "cold-start fraction costs the same extra keep-alive, ln 2 / lambda.")


def _idle_outcome() -> tuple[str, str]:
    from simlab.core.config import DEFAULT_INIT
    from simlab.core.theory import mean_idle_environments_ttl

    idle = float(mean_idle_environments_ttl(1 / 300, 600.0, 0.2, DEFAULT_INIT.mean()))
    key = "a" if idle < 0.05 else "b" if idle < 0.5 else "c" if idle < 1.5 else "d"
    return key, (f"on average {idle:.2f} environments sit idle (theory: "
                 f"mean_idle_environments_ttl; a long simulation agrees).")


prediction("01-mean-idle-environments", outcome=_idle_outcome, options={
    "a": "About 0.001 is the share of time the environment is busy (0.2 s in 300): idle is "
         "everything else it is alive for.",
    "b": "About 0.14 is e^(-lambda T), the chance a request finds no idle environment: the "
         "cold-start fraction, not the idle time.",
    "c": "",
    "d": "Requests 5 minutes apart almost never overlap: one environment serves them all, and it "
         "cannot be idle more than all of the time.",
}, hints=(
    "An environment is idle when it is alive but not initialising or running a request.",
    "After each request the environment waits up to 10 minutes for the next one, which comes "
    "5 minutes later on average: how often does it wait the whole 10 minutes in vain?",
), why="With one request every 5 minutes and a 10-minute keep-alive, the environment waits idle "
       "most of the time: memory the provider holds, and you do not pay for. It is no "
       "coincidence that this is close to the chance a request starts warm, 1 - exp(-lambda T): "
       "Poisson arrivals see time averages (PASTA), so the share of requests finding an idle "
       "environment equals the share of time one is idle.")
