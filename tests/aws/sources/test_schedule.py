"""EventBridge schedule expressions against hand-computed firing times."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simlab.aws.cron import (
    DEFAULT_EPOCH,
    CronSchedule,
    RateSchedule,
    ScheduleError,
    parse_schedule,
    to_datetime,
    to_sim_seconds,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def fires(expr: str, start: datetime, end: datetime) -> list[datetime]:
    return parse_schedule(expr).fire_times(start, end)


# ---- cron: hand-computed firing times ------------------------------------------------------------


def test_every_ten_minutes_on_working_days_skips_the_weekend() -> None:
    # 2 January 2026 is a Friday, 5 January a Monday.
    got = fires("cron(0/10 * ? * MON-FRI *)", utc(2026, 1, 2, 23, 30), utc(2026, 1, 5, 0, 30))
    assert got == [
        utc(2026, 1, 2, 23, 30),
        utc(2026, 1, 2, 23, 40),
        utc(2026, 1, 2, 23, 50),
        utc(2026, 1, 5, 0, 0),
        utc(2026, 1, 5, 0, 10),
        utc(2026, 1, 5, 0, 20),
    ]


def test_first_monday_of_each_month_over_a_year() -> None:
    got = fires("cron(0 9 ? * 2#1 *)", utc(2026, 1, 1), utc(2027, 1, 1))
    days = [5, 2, 2, 6, 4, 1, 6, 3, 7, 5, 2, 7]  # first Mondays of 2026, by hand
    assert got == [utc(2026, m, d, 9, 0) for m, d in zip(range(1, 13), days, strict=True)]
    assert fires("cron(0 9 ? * MON#1 *)", utc(2026, 1, 1), utc(2027, 1, 1)) == got


def test_noon_on_the_last_day_of_each_month_in_a_leap_year() -> None:
    got = fires("cron(0 12 L * ? *)", utc(2024, 1, 1), utc(2025, 1, 1))
    last = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    assert got == [utc(2024, m, d, 12) for m, d in zip(range(1, 13), last, strict=True)]


def test_daily_at_10_15_with_a_half_open_window() -> None:
    got = fires("cron(15 10 * * ? *)", utc(2026, 3, 1, 10, 15), utc(2026, 3, 4, 10, 15))
    assert got == [utc(2026, 3, 1, 10, 15), utc(2026, 3, 2, 10, 15), utc(2026, 3, 3, 10, 15)]


def test_every_five_minutes_in_office_hours_on_working_days() -> None:
    got = fires("cron(0/5 8-17 ? * MON-FRI *)", utc(2026, 1, 5), utc(2026, 1, 12))
    assert len(got) == 5 * 10 * 12
    assert got[0] == utc(2026, 1, 5, 8, 0) and got[-1] == utc(2026, 1, 9, 17, 55)


def test_last_friday_last_weekday_and_saturday_as_l() -> None:
    year = (utc(2026, 1, 1), utc(2026, 4, 1))
    assert [t.day for t in fires("cron(0 0 ? * 6L *)", *year)] == [30, 27, 27]
    assert [t.day for t in fires("cron(0 0 ? * FRIL *)", *year)] == [30, 27, 27]
    # 31 January 2026 is a Saturday, 28 February a Saturday, 31 March a Tuesday.
    assert [t.day for t in fires("cron(0 0 LW * ? *)", *year)] == [30, 27, 31]
    # L alone in Day-of-week is the last day of the week, Saturday.
    assert [t.day for t in fires("cron(0 0 ? * L *)", utc(2026, 1, 1), utc(2026, 1, 15))] == [3, 10]


def test_nearest_weekday_stays_in_the_month() -> None:
    # 1 August 2026 is a Saturday: 1W moves forward to Monday the 3rd, not back into July.
    assert fires("cron(0 0 1W * ? *)", utc(2026, 8, 1), utc(2026, 9, 1)) == [utc(2026, 8, 3)]
    # 31 May 2026 is a Sunday: 31W moves back to Friday the 29th.
    assert fires("cron(0 0 31W * ? *)", utc(2026, 5, 1), utc(2026, 6, 1)) == [utc(2026, 5, 29)]
    # 15 February 2026 is a Sunday -> Monday 16th; 15 March a Sunday too -> 16th.
    got = fires("cron(0 0 15W * ? *)", utc(2026, 2, 1), utc(2026, 4, 1))
    assert got == [utc(2026, 2, 16), utc(2026, 3, 16)]
    # 31W never fires in a 30-day month.
    assert fires("cron(0 0 31W * ? *)", utc(2026, 6, 1), utc(2026, 7, 1)) == []


def test_fifth_tuesday_only_in_months_that_have_one() -> None:
    got = fires("cron(30 6 ? * 3#5 *)", utc(2026, 1, 1), utc(2026, 7, 1))
    assert got == [utc(2026, 3, 31, 6, 30), utc(2026, 6, 30, 6, 30)]


def test_steps_ranges_lists_and_names() -> None:
    s = parse_schedule("cron(5/20 8-17/3 1,15 JAN,JUL ? 2027-2028)")
    assert isinstance(s, CronSchedule)
    assert s.minutes == (5, 25, 45) and s.hours == (8, 11, 14, 17)
    assert s.months == (1, 7) and s.years == (2027, 2028)
    got = s.fire_times(utc(2026, 1, 1), utc(2030, 1, 1))
    assert len(got) == 2 * 2 * 2 * 4 * 3  # years x months x days x hours x minutes
    assert got[0] == utc(2027, 1, 1, 8, 5) and got[-1] == utc(2028, 7, 15, 17, 45)
    assert parse_schedule("cron(*/15 0 1 * ? *)").minutes == (0, 15, 30, 45)
    assert parse_schedule("cron(0 0 ? * sun,sat *)") == parse_schedule("cron(0 0 ? * 1,7 *)")


def test_sim_seconds_follow_the_epoch() -> None:
    s = parse_schedule("cron(* * * * ? *)")
    assert s.fire_times_s(0, 120).tolist() == [0.0, 60.0]
    late = utc(2026, 1, 1, 0, 0, 30)
    assert s.fire_times_s(0, 120, epoch=late).tolist() == [30.0, 90.0]
    noon = parse_schedule("cron(0 12 * * ? *)").fire_times_s(0, 3 * 86400)
    assert noon.tolist() == [43200.0, 129600.0, 216000.0]
    assert to_sim_seconds(to_datetime(1234.5)) == 1234.5
    assert to_datetime(0) == DEFAULT_EPOCH


def test_datetimes_and_seconds_agree() -> None:
    s = parse_schedule("cron(0/7 */5 ? * MON-FRI *)")
    start, end = utc(2026, 2, 20), utc(2026, 3, 3)
    as_dt = s.fire_times(start, end)
    as_s = s.fire_times_s(to_sim_seconds(start), to_sim_seconds(end))
    assert [to_sim_seconds(t) for t in as_dt] == as_s.tolist()


def test_naive_datetimes_are_utc() -> None:
    naive = fires("cron(15 10 * * ? *)", datetime(2026, 1, 1), datetime(2026, 1, 2))
    assert naive == [utc(2026, 1, 1, 10, 15)]


# ---- rate ----------------------------------------------------------------------------------------


def test_rate_fires_at_creation_then_every_period() -> None:
    assert parse_schedule("rate(5 minutes)").fire_times_s(0, 1200).tolist() == [0, 300, 600, 900]
    created = DEFAULT_EPOCH + timedelta(seconds=100)
    s = parse_schedule("rate(5 minutes)", created=created)
    assert s.fire_times_s(0, 1000).tolist() == [100.0, 400.0, 700.0]
    assert s.fire_times_s(1000, 2000).tolist() == [1000.0, 1300.0, 1600.0, 1900.0]
    assert parse_schedule("rate(1 day)").period_s == 86400
    assert parse_schedule("rate(2 hours)").period_s == 7200


def test_rate_before_creation_does_not_fire() -> None:
    s = parse_schedule("rate(1 hour)", created=utc(2026, 1, 1, 12))
    got = s.fire_times(utc(2026, 1, 1), utc(2026, 1, 1, 15))
    assert got == [utc(2026, 1, 1, 12), utc(2026, 1, 1, 13), utc(2026, 1, 1, 14)]


def test_a_year_of_rate_one_minute_is_arithmetic() -> None:
    t = parse_schedule("rate(1 minute)").fire_times_s(0, 365 * 86400)
    assert t.size == 525_600
    assert np.all(np.diff(t) == 60.0)
    cron = parse_schedule("cron(* * * * ? *)").fire_times_s(0, 365 * 86400)
    np.testing.assert_array_equal(cron, t)


def test_rate_schedule_object() -> None:
    s = RateSchedule(3, "day")
    assert str(s) == "rate(3 days)" and s.period_s == 3 * 86400
    with pytest.raises(ScheduleError, match="unit"):
        RateSchedule(3, "week")


# ---- bad expressions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "words"),
    [
        ("rate(1 hours)", ["'hour'", "not 'hours'"]),
        ("rate(5 hour)", ["'hours'"]),
        ("rate(0 minutes)", ["'0'", ">= 1"]),
        ("rate(1.5 minutes)", ["'1.5'"]),
        ("rate(5 weeks)", ["'weeks'", "minute|minutes"]),
        ("rate(5  minutes)", ["rate(value unit)"]),
        ("every 5 minutes", ["'rate('", "'cron('"]),
        ("cron(0 9 * * ?)", ["6 fields", "got 5"]),
        ("cron(0 9 * * MON *)", ["Day-of-month", "Day-of-week", "neither"]),
        ("cron(0 9 ? * ? *)", ["both"]),
        ("cron(60 * * * ? *)", ["Minutes", "'60'", "0-59"]),
        ("cron(0 24 * * ? *)", ["Hours", "0-23"]),
        ("cron(0 0 32 * ? *)", ["Day-of-month", "1-31"]),
        ("cron(0 0 1 13 ? *)", ["Month", "JAN-DEC"]),
        ("cron(0 0 ? * 8 *)", ["Day-of-week", "SUN-SAT"]),
        ("cron(0 0 1 * ? 1969)", ["Year", "1970-2199"]),
        ("cron(0 0 ? * 2#6 *)", ["'2#6'", "1-5"]),
        ("cron(0 0 ? * */2 *)", ["Day-of-week", "'/'"]),
        ("cron(0 17-8 * * ? *)", ["backwards"]),
        ("cron(0/0 * * * ? *)", ["step"]),
        ("cron(0 0 1,,2 * ? *)", ["empty"]),
        ("cron(0 0 ? * FUN *)", ["'FUN'"]),
        ("cron(0 0 1W,? * ? *)", ["'?'"]),
        ("cron(0 0 1 * ? *", ["')'"]),
    ],
)
def test_bad_expressions_name_expression_field_and_rule(expr: str, words: list[str]) -> None:
    with pytest.raises(ScheduleError) as err:
        parse_schedule(expr)
    message = str(err.value)
    assert repr(expr) in message or expr in message
    for w in words:
        assert w in message


def test_bad_argument_types() -> None:
    with pytest.raises(TypeError):
        parse_schedule(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="end"):
        parse_schedule("rate(1 minute)").fire_times_s(10, 5)
    with pytest.raises(TypeError, match="start"):
        parse_schedule("rate(1 minute)").fire_times("2026-11-27", utc(2026, 1, 2))  # type: ignore[arg-type]


# ---- property: cron agrees with a day-by-day reference -------------------------------------------

MINUTES = [("0", [0]), ("*/15", [0, 15, 30, 45]), ("5/20", [5, 25, 45]), ("58-59", [58, 59])]
HOURS = [("0", [0]), ("9-11", [9, 10, 11]), ("0/12", [0, 12]), ("23", [23])]
MONTHS = [("*", set(range(1, 13))), ("JAN,MAR", {1, 3}), ("2-4", {2, 3, 4}), ("DEC", {12})]


def _last(d: date) -> int:
    return calendar.monthrange(d.year, d.month)[1]


def _weekday(d: date) -> bool:
    return d.weekday() < 5


def _nearest_15(d: date) -> bool:
    target = d.replace(day=15)
    if target.weekday() == 5:
        return d.day == 14
    if target.weekday() == 6:
        return d.day == 16
    return d.day == 15


DAYS = [
    ("* ?", lambda d: True),
    ("1,15 ?", lambda d: d.day in (1, 15)),
    ("L ?", lambda d: d.day == _last(d)),
    (
        "LW ?",
        lambda d: (
            _weekday(d)
            and all(not _weekday(d.replace(day=x)) for x in range(d.day + 1, _last(d) + 1))
        ),
    ),
    ("15W ?", _nearest_15),
    ("? MON-FRI", _weekday),
    ("? 1,7", lambda d: d.weekday() >= 5),
    ("? 4#2", lambda d: d.weekday() == 2 and 8 <= d.day <= 14),
    ("? 6L", lambda d: d.weekday() == 4 and d.day + 7 > _last(d)),
]


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(MINUTES),
    st.sampled_from(HOURS),
    st.sampled_from(MONTHS),
    st.sampled_from(DAYS),
    st.integers(0, 800),
    st.integers(0, 90),
)
def test_cron_matches_reference(minute, hour, month, day, start_day, n_days) -> None:
    dom, dow = day[0].split()
    expr = f"cron({minute[0]} {hour[0]} {dom} {month[0]} {dow} *)"
    start = utc(2025, 1, 1) + timedelta(days=start_day, hours=7)
    end = start + timedelta(days=n_days, minutes=13)
    expected = []
    d = start.date()
    while d <= end.date():
        if d.month in month[1] and day[1](d):
            for h in hour[1]:
                for m in minute[1]:
                    t = utc(d.year, d.month, d.day, h, m)
                    if start <= t < end:
                        expected.append(t)
        d += timedelta(days=1)
    assert fires(expr, start, end) == expected
