"""Tests of simlab.aws.toml_text: durations, values, key paths and the line of each key."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simlab.aws import toml_text
from simlab.aws.toml_text import KeyLines, parse_assignment, parse_duration, parse_value, split_key


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90.0), ("250ms", 0.25), ("10m", 600.0), ("1h", 3600.0), ("1d", 86400.0),
    ("1h30m", 5400.0), ("1.5h", 5400.0), ("45", 45.0), (12, 12.0), (0.5, 0.5), (" 2 m ", 120.0),
])
def test_parse_duration(text, seconds) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "10 minutes", "1x", "h", "-5s", -1, float("nan"), True,
                                 "1h 2q"])
def test_parse_duration_rejects(bad) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


@given(st.integers(0, 99), st.integers(0, 59), st.integers(0, 59))
def test_parse_duration_adds_its_parts(h, m, s) -> None:
    assert parse_duration(f"{h}h{m}m{s}s") == 3600 * h + 60 * m + s


def test_parse_value_and_assignment() -> None:
    assert parse_value("512") == 512 and parse_value("0.5") == 0.5
    assert parse_value("true") is True and parse_value("[1, 2]") == [1, 2]
    assert parse_value("10m") == "10m" and parse_value("today") == "today"
    assert parse_value('{dist = "exponential", mean = 2}') == {"dist": "exponential", "mean": 2}
    assert parse_assignment("function.memory_mb=512") == ("function.memory_mb", 512)
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_assignment("memory_mb")


def test_split_key_keeps_quoted_parts_whole() -> None:
    assert split_key('sweep.grid."platform.keep_alive_s"') == ["sweep", "grid",
                                                               "platform.keep_alive_s"]
    assert split_key("functions.api.memory_mb") == ["functions", "api", "memory_mb"]


def test_key_lines_find_tables_array_entries_and_inline_keys() -> None:
    text = (
        "[simulation]\n"                                         # 1
        "seed = 4\n"                                             # 2
        "[functions.api]\n"                                      # 3
        'duration_s = { dist = "lognormal", median = 0.1 }\n'   # 4
        "[[sources]]\n"                                          # 5
        'type = "poisson"\n'                                     # 6
        "[[sources]]\n"                                          # 7
        'type = "sqs"\n'                                         # 8
    )
    lines = KeyLines(text)
    assert lines.of(("simulation", "seed")) == 2
    assert lines.of(("functions", "api", "duration_s", "median")) == 4
    assert lines.of(("sources", "0", "type")) == 6
    assert lines.of(("sources", "1", "type")) == 8
    assert lines.of(("functions", "api", "memory_mb")) == 3  # not written: its table's line
    assert lines.of(("platform", "keep_alive_s")) is None


def test_doctests() -> None:
    assert doctest.testmod(toml_text).failed == 0
