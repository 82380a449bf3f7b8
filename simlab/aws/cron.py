"""EventBridge schedule expressions: ``rate(...)`` and ``cron(...)`` in AWS's own syntax.

A scheduled rule in Amazon EventBridge (formerly CloudWatch Events) invokes its targets, such as a
Lambda function, *asynchronously* at the times its *schedule expression* names. There are two forms.

``rate(value unit)``
    A fixed period: ``rate(1 minute)``, ``rate(5 minutes)``, ``rate(1 hour)``, ``rate(7 days)``.
    The unit is ``minute``/``minutes``, ``hour``/``hours`` or ``day``/``days``, and AWS insists on
    grammar: the singular unit only when the value is 1 (``rate(1 minutes)`` and ``rate(5 hour)``
    are rejected). A rate rule "starts when you create the rule", so its phase depends on when it
    was created, not on the clock. AWS does not document whether the first firing is at creation or
    one period later; simlab fires at the creation time and then every period. When no creation
    time is given, the rule is taken to be created at the start of the window asked about.

``cron(Minutes Hours Day-of-month Month Day-of-week Year)``
    Six fields, always in UTC. Unlike Unix cron there is a Year field, no seconds, days of the week
    are numbered 1-7 = SUN-SAT, and exactly one of Day-of-month and Day-of-week must be ``?``
    ("no specific value"). Each field takes ``*`` (every value), a value, a range ``8-17``, a list
    ``1,15``, or a step ``0/10``, ``*/5``, ``8-17/2`` (from the start, every n, up to the end).
    Months may be written JAN-DEC and days SUN-SAT. The day fields have extras:

    - Day-of-month ``L`` is the last day of the month, ``15W`` the weekday (Mon-Fri) nearest the
      15th without leaving the month, ``LW`` the last weekday of the month;
    - Day-of-week ``L`` alone is the last day of the week (7 = Saturday), ``5L`` (or ``THUL``) the
      last Thursday of the month, ``2#1`` (or ``MON#1``) the first Monday of the month.

    Examples: ``cron(15 10 * * ? *)`` every day at 10:15; ``cron(0/10 * ? * MON-FRI *)`` every
    10 minutes on working days; ``cron(0 9 ? * 2#1 *)`` 09:00 on the first Monday of each month;
    ``cron(0 12 L * ? *)`` noon on the last day of each month.

Real scheduled events arrive "within that minute, but not on the precise 0th second"; the times here
are the nominal ones (second 0), and a simulation may add its own delay.

Simulated time is seconds since an *epoch* datetime (by default 2026-11-27T00:00:00Z), so the same
schedule gives the same firing times in every run. :meth:`ScheduleExpression.fire_times` works in
datetimes, :meth:`ScheduleExpression.fire_times_s` in simulated seconds; both take half-open
windows ``[start, end)``.

Examples
--------
>>> s = parse_schedule("cron(0 9 ? * 2#1 *)")
>>> [t.day for t in s.fire_times(datetime(2026, 1, 1), datetime(2026, 4, 1))]
[5, 2, 2]
>>> parse_schedule("rate(5 minutes)").fire_times_s(0, 1200).tolist()
[0.0, 300.0, 600.0, 900.0]
"""

from __future__ import annotations

import calendar
import math
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np

from simlab.core import validate
from simlab.core.config import DEFAULT_EPOCH

__all__ = [
    "DEFAULT_EPOCH",
    "ScheduleError",
    "ScheduleExpression",
    "RateSchedule",
    "CronSchedule",
    "parse_schedule",
    "to_datetime",
    "to_sim_seconds",
]


_RATE_UNITS: dict[str, int] = {"minute": 60, "hour": 3600, "day": 86400}
_MONTH_NAMES = {n.upper(): i for i, n in enumerate(calendar.month_abbr) if n}
_DAY_NAMES = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}


class ScheduleError(ValueError):
    """A schedule expression that EventBridge would reject."""


# --------------------------------------------------------------------------------------------------
# Time conversions
# --------------------------------------------------------------------------------------------------


def _as_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {value!r}")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_sim_seconds(when: datetime, epoch: datetime = DEFAULT_EPOCH) -> float:
    """Return the simulated time (s) of ``when``; naive datetimes are read as UTC.

    Examples
    --------
    >>> to_sim_seconds(datetime(2026, 11, 27, 0, 1))  # DEFAULT_EPOCH is 2026-11-27 00:00 UTC
    60.0
    """
    return (_as_utc(when, "when") - _as_utc(epoch, "epoch")).total_seconds()


def to_datetime(t_s: float, epoch: datetime = DEFAULT_EPOCH) -> datetime:
    """Return the UTC datetime of simulated time ``t_s`` (s).

    Examples
    --------
    >>> to_datetime(90.0).isoformat()
    '2026-11-27T00:01:30+00:00'
    """
    validate.real("t_s", t_s, unit="seconds")
    return _as_utc(epoch, "epoch") + timedelta(seconds=float(t_s))


def _check_window(start_s: float, end_s: float) -> None:
    for name, v in (("start_s", start_s), ("end_s", end_s)):
        validate.real(name, v, unit="seconds")
    if end_s < start_s:
        raise ValueError(f"end_s must be >= start_s, got start_s={start_s!r}, end_s={end_s!r}")


# --------------------------------------------------------------------------------------------------
# Schedules
# --------------------------------------------------------------------------------------------------


class ScheduleExpression(ABC):
    """When a scheduled rule fires. Build one with :func:`parse_schedule`."""

    expression: str

    @abstractmethod
    def _seconds(self, start: datetime, end: datetime, epoch: datetime) -> np.ndarray:
        """Firing times in ``[start, end)`` as float seconds after ``epoch`` (all UTC)."""

    def fire_times(self, start: datetime, end: datetime) -> list[datetime]:
        """Return the firing times in ``[start, end)`` as UTC datetimes, in order.

        Parameters
        ----------
        start, end
            The window; naive datetimes are read as UTC.

        Returns
        -------
        list of datetime
            Timezone-aware (UTC) datetimes.
        """
        start_u, end_u = _as_utc(start, "start"), _as_utc(end, "end")
        if end_u < start_u:
            raise ValueError(f"end must be >= start, got start={start!r}, end={end!r}")
        secs = self._seconds(start_u, end_u, start_u)
        return [start_u + timedelta(seconds=s) for s in secs.tolist()]

    def fire_times_s(
        self, start_s: float, end_s: float, *, epoch: datetime = DEFAULT_EPOCH
    ) -> np.ndarray:
        """Return the firing times in ``[start_s, end_s)`` as simulated seconds after ``epoch``.

        Parameters
        ----------
        start_s, end_s
            The window in simulated seconds.
        epoch
            The datetime that simulated time 0 stands for (naive is read as UTC).

        Returns
        -------
        numpy.ndarray
            Sorted float seconds.
        """
        _check_window(start_s, end_s)
        epoch_u = _as_utc(epoch, "epoch")
        start = epoch_u + timedelta(seconds=float(start_s))
        end = epoch_u + timedelta(seconds=float(end_s))
        secs = self._seconds(start, end, epoch_u)
        return secs[(secs >= start_s) & (secs < end_s)]

    def __str__(self) -> str:
        return self.expression


@dataclass(frozen=True)
class RateSchedule(ScheduleExpression):
    """``rate(value unit)``: fires at ``created``, then every ``period_s`` seconds.

    Parameters
    ----------
    value
        The positive whole number in the expression.
    unit
        ``'minute'``, ``'hour'`` or ``'day'`` (singular; the plural is only spelling).
    created
        When the rule was created (naive is read as UTC). ``None``: at the start of each window
        asked about.
    """

    value: int
    unit: str
    created: datetime | None = None
    expression: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not validate.is_whole(self.value) or self.value < 1:
            raise ScheduleError(f"rate value must be a whole number >= 1, got {self.value!r}")
        if self.unit not in _RATE_UNITS:
            raise ScheduleError(
                f"rate unit must be one of {sorted(_RATE_UNITS)}, got {self.unit!r}"
            )
        if self.created is not None:
            object.__setattr__(self, "created", _as_utc(self.created, "created"))
        if not self.expression:
            plural = "" if self.value == 1 else "s"
            object.__setattr__(self, "expression", f"rate({self.value} {self.unit}{plural})")

    @property
    def period_s(self) -> int:
        """The period in seconds."""
        return self.value * _RATE_UNITS[self.unit]

    def _seconds(self, start: datetime, end: datetime, epoch: datetime) -> np.ndarray:
        anchor = (self.created if self.created is not None else start) - epoch
        anchor_s = anchor.total_seconds()
        lo, hi = (start - epoch).total_seconds(), (end - epoch).total_seconds()
        p = self.period_s
        k0 = max(0, math.ceil((lo - anchor_s) / p))
        k1 = math.ceil((hi - anchor_s) / p)  # exclusive
        if k1 <= k0:
            return np.empty(0)
        return anchor_s + p * np.arange(k0, k1, dtype=np.float64)


@dataclass(frozen=True)
class _DayRule:
    """Day-of-month or day-of-week part of a cron expression (one of them is ``?``)."""

    by_month_day: bool
    values: frozenset[int] = frozenset()  # plain days of month, or AWS days of week 1-7
    last_day: bool = False  # DOM L
    last_weekday: bool = False  # DOM LW
    nearest_weekday: frozenset[int] = frozenset()  # DOM nW
    last_of: frozenset[int] = frozenset()  # DOW nL
    nth: frozenset[tuple[int, int]] = frozenset()  # DOW n#k

    def days(self, year: int, month: int) -> list[int]:
        first_py, ndays = calendar.monthrange(year, month)
        first_aws = (first_py + 1) % 7 + 1  # python Monday=0 -> AWS Monday=2

        def aws_dow(day: int) -> int:
            return (first_aws - 1 + day - 1) % 7 + 1

        out: set[int] = set()
        if self.by_month_day:
            out.update(d for d in self.values if d <= ndays)
            if self.last_day:
                out.add(ndays)
            if self.last_weekday:
                d = ndays
                while aws_dow(d) in (1, 7):
                    d -= 1
                out.add(d)
            for n in self.nearest_weekday:
                if n > ndays:
                    continue
                w = aws_dow(n)
                if w == 7:  # Saturday: Friday before, or Monday after if the 1st
                    n = n - 1 if n > 1 else n + 2
                elif w == 1:  # Sunday: Monday after, or Friday before if the last day
                    n = n + 1 if n < ndays else n - 2
                out.add(n)
            return sorted(out)
        out.update(d for d in range(1, ndays + 1) if aws_dow(d) in self.values)
        for w in self.last_of:
            d = ndays
            while aws_dow(d) != w:
                d -= 1
            out.add(d)
        for w, k in self.nth:
            first = 1 + (w - first_aws) % 7
            d = first + 7 * (k - 1)
            if d <= ndays:
                out.add(d)
        return sorted(out)


@dataclass(frozen=True)
class CronSchedule(ScheduleExpression):
    """A parsed ``cron(...)`` expression: the sets of values each field allows.

    Build it with :func:`parse_schedule`; the attributes are the expanded fields.
    """

    expression: str = field(compare=False)
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: tuple[int, ...]
    years: tuple[int, ...]
    day_rule: _DayRule

    def _seconds(self, start: datetime, end: datetime, epoch: datetime) -> np.ndarray:
        offsets = np.array([h * 3600 + m * 60 for h in self.hours for m in self.minutes], np.int64)
        first_ord, last_ord = start.date().toordinal(), end.date().toordinal()
        years = [y for y in self.years if start.year <= y <= end.year]
        ordinals: list[int] = []
        for year in years:
            for month in self.months:
                if date(year, month, calendar.monthrange(year, month)[1]).toordinal() < first_ord:
                    continue
                if date(year, month, 1).toordinal() > last_ord:
                    break
                ordinals.extend(
                    date(year, month, d).toordinal() for d in self.day_rule.days(year, month)
                )
        if not ordinals:
            return np.empty(0)
        days = np.array([o for o in ordinals if first_ord <= o <= last_ord], np.int64)
        midnight = datetime.combine(epoch.date(), datetime.min.time(), UTC)
        epoch_day_s = (epoch - midnight).total_seconds()
        day_s = (days - epoch.date().toordinal()) * 86400
        secs = (day_s[:, None] + offsets[None, :]).ravel().astype(np.float64) - epoch_day_s
        lo, hi = (start - epoch).total_seconds(), (end - epoch).total_seconds()
        return secs[(secs >= lo) & (secs < hi)]


# --------------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    specials: str
    names: dict[str, int] | None = None

    def allowed(self) -> str:
        values = f"{self.low}-{self.high}"
        if self.names:
            first, last = list(self.names)[0], list(self.names)[-1]
            values += f" or {first}-{last}"
        return f"{values} with wildcards {self.specials}"


_FIELDS = (
    _Field("Minutes", 0, 59, ", - * /"),
    _Field("Hours", 0, 23, ", - * /"),
    _Field("Day-of-month", 1, 31, ", - * ? / L W"),
    _Field("Month", 1, 12, ", - * /", _MONTH_NAMES),
    _Field("Day-of-week", 1, 7, ", - * ? L #", _DAY_NAMES),
    _Field("Year", 1970, 2199, ", - * /"),
)


class _FieldParser:
    """Parses one field of one expression, raising errors that name both."""

    def __init__(self, expr: str, spec: _Field, text: str) -> None:
        self.expr, self.spec, self.text = expr, spec, text

    def error(self, problem: str) -> ScheduleError:
        return ScheduleError(
            f"invalid schedule expression {self.expr!r}: {self.spec.name} field {self.text!r}: "
            f"{problem}; allowed: {self.spec.allowed()}"
        )

    def value(self, token: str) -> int:
        if token.isdigit():
            v = int(token)
        elif self.spec.names and token.upper() in self.spec.names:
            v = self.spec.names[token.upper()]
        else:
            raise self.error(f"{token!r} is not a value")
        if not self.spec.low <= v <= self.spec.high:
            raise self.error(f"{v} is out of range {self.spec.low}-{self.spec.high}")
        return v

    def item(self, token: str) -> set[int]:
        """A plain item: ``*``, ``v``, ``a-b`` or a step ``x/n``."""
        base, step = token, 1
        if "/" in token:
            if "/" not in self.spec.specials:
                raise self.error("'/' is not allowed in this field")
            base, _, step_text = token.partition("/")
            if not step_text.isdigit() or int(step_text) < 1:
                raise self.error(f"step {step_text!r} must be a whole number >= 1")
            step = int(step_text)
        if base == "*":
            lo, hi = self.spec.low, self.spec.high
        elif "-" in base:
            a, _, b = base.partition("-")
            lo, hi = self.value(a), self.value(b)
            if lo > hi:
                raise self.error(f"range {base!r} runs backwards")
        else:
            lo = self.value(base)
            hi = self.spec.high if step > 1 or "/" in token else lo
        return set(range(lo, hi + 1, step))

    def plain(self) -> tuple[int, ...]:
        values: set[int] = set()
        for token in self.tokens():
            values |= self.item(token)
        return tuple(sorted(values))

    def tokens(self) -> list[str]:
        tokens = self.text.split(",")
        if any(t == "" for t in tokens):
            raise self.error("empty item in list")
        for t in tokens:
            if "?" in t:
                raise self.error("'?' must be the whole field, and only in a day field")
        return tokens

    def month_days(self) -> _DayRule:
        values: set[int] = set()
        nearest: set[int] = set()
        last = last_weekday = False
        for token in self.tokens():
            up = token.upper()
            if up == "L":
                last = True
            elif up == "LW":
                last_weekday = True
            elif up.endswith("W"):
                nearest.add(self.value(up[:-1]))
            else:
                values |= self.item(token)
        return _DayRule(True, frozenset(values), last, last_weekday, frozenset(nearest))

    def week_days(self) -> _DayRule:
        values: set[int] = set()
        last_of: set[int] = set()
        nth: set[tuple[int, int]] = set()
        for token in self.tokens():
            up = token.upper()
            if up == "L":
                values.add(7)
            elif "#" in up:
                day, _, k = up.partition("#")
                if not k.isdigit() or not 1 <= int(k) <= 5:
                    raise self.error(f"in {token!r} the occurrence after '#' must be 1-5")
                nth.add((self.value(day), int(k)))
            elif up.endswith("L"):
                last_of.add(self.value(up[:-1]))
            else:
                values |= self.item(token)
        return _DayRule(False, frozenset(values), last_of=frozenset(last_of), nth=frozenset(nth))


_RATE_RE = re.compile(r"rate\((\S+) (\S+)\)")
_CRON_RE = re.compile(r"cron\((.*)\)", re.DOTALL)


def _parse_rate(expr: str, inner_value: str, unit_text: str,
                created: datetime | None) -> ScheduleExpression:
    allowed = "rate(value unit) with value a whole number >= 1 and unit minute|minutes|hour|hours|"
    allowed += "day|days (singular only when the value is 1)"
    if not inner_value.isdigit() or int(inner_value) < 1:
        raise ScheduleError(
            f"invalid schedule expression {expr!r}: value {inner_value!r} must be a whole number "
            f">= 1; allowed: {allowed}"
        )
    value = int(inner_value)
    unit = unit_text[:-1] if unit_text.endswith("s") else unit_text
    if unit not in _RATE_UNITS:
        raise ScheduleError(
            f"invalid schedule expression {expr!r}: unit {unit_text!r} is unknown; "
            f"allowed: {allowed}"
        )
    if (value == 1) != (unit_text == unit):
        need = unit if value == 1 else unit + "s"
        raise ScheduleError(
            f"invalid schedule expression {expr!r}: with value {value} the unit must be {need!r}, "
            f"not {unit_text!r}; allowed: {allowed}"
        )
    return RateSchedule(value, unit, created, expr)


def _parse_cron(expr: str, body: str) -> CronSchedule:
    parts = body.split()
    if len(parts) != 6:
        raise ScheduleError(
            f"invalid schedule expression {expr!r}: cron needs 6 fields (Minutes Hours "
            f"Day-of-month Month Day-of-week Year), got {len(parts)}"
        )
    p = [_FieldParser(expr, spec, text) for spec, text in zip(_FIELDS, parts, strict=True)]
    dom_q, dow_q = parts[2] == "?", parts[4] == "?"
    if dom_q == dow_q:
        how = "both are '?'" if dom_q else "neither is '?'"
        raise ScheduleError(
            f"invalid schedule expression {expr!r}: exactly one of Day-of-month ({parts[2]!r}) and "
            f"Day-of-week ({parts[4]!r}) must be '?', but {how}"
        )
    day_rule = p[4].week_days() if dom_q else p[2].month_days()
    return CronSchedule(
        expression=expr,
        minutes=p[0].plain(),
        hours=p[1].plain(),
        months=p[3].plain(),
        years=p[5].plain(),
        day_rule=day_rule,
    )


def parse_schedule(expr: str, *, created: datetime | None = None) -> ScheduleExpression:
    """Parse an EventBridge schedule expression, ``rate(...)`` or ``cron(...)``.

    Parameters
    ----------
    expr
        The expression, for example ``"rate(5 minutes)"`` or ``"cron(0/10 * ? * MON-FRI *)"``.
    created
        For ``rate()`` only: when the rule was created, which sets the phase of its firings.
        ``None`` (the default) counts from the start of each window asked about. Ignored by cron.

    Returns
    -------
    ScheduleExpression
        A :class:`RateSchedule` or a :class:`CronSchedule`.

    Raises
    ------
    ScheduleError
        (a ValueError) naming the expression, the field and what is allowed.

    Examples
    --------
    >>> parse_schedule("rate(1 hour)").period_s
    3600
    >>> try:
    ...     parse_schedule("rate(1 hours)")
    ... except ScheduleError as e:
    ...     print(e)  # doctest: +ELLIPSIS
    invalid schedule expression 'rate(1 hours)': with value 1 the unit must be 'hour', not ...
    """
    if not isinstance(expr, str):
        raise TypeError(f"a schedule expression must be a string, got {expr!r}")
    text = expr.strip()
    if text.startswith("rate("):
        m = _RATE_RE.fullmatch(text)
        if m is None:
            raise ScheduleError(
                f"invalid schedule expression {expr!r}: a rate expression is 'rate(value unit)' "
                "with one space, for example 'rate(5 minutes)'"
            )
        return _parse_rate(text, m.group(1), m.group(2), created)
    if text.startswith("cron("):
        m = _CRON_RE.fullmatch(text)
        if m is None:
            raise ScheduleError(
                f"invalid schedule expression {expr!r}: a cron expression is 'cron(Minutes Hours "
                "Day-of-month Month Day-of-week Year)' and ends with ')'"
            )
        return _parse_cron(text, m.group(1))
    raise ScheduleError(
        f"invalid schedule expression {expr!r}: it must start with 'rate(' or 'cron(', for "
        "example 'rate(5 minutes)' or 'cron(15 10 * * ? *)'"
    )
