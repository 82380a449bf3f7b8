"""Reading TOML text by hand where :mod:`tomllib` stops: values typed on a command line,
durations such as ``"1h30m"``, dotted key paths, and the line each key of a file is on.

``tomllib`` parses a whole document and forgets where things were; a scenario file's errors must
name the line of the key at fault, and ``simlab run --set key.path=value`` passes single values.
So this module holds the small parsers (:func:`parse_duration`, :func:`parse_value`,
:func:`parse_assignment`, :func:`split_key`) and :class:`KeyLines`, an index from each key path of
a TOML text (array entries by position) to its line, built with three regular expressions over
the lines (table headers, ``key =`` and the keys of inline tables).

>>> text = '''
... [functions.api]
... memory_mb = 512
... '''
>>> KeyLines(text).of(("functions", "api", "memory_mb"))
3
"""

from __future__ import annotations

import math
import re
import tomllib
from typing import Any

__all__ = ["parse_duration", "parse_value", "parse_assignment", "split_key", "KeyLines"]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86_400.0}
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|d)")


def parse_duration(value: str | float) -> float:
    """Seconds from a number or a duration such as ``"90s"``, ``"250ms"``, ``"10m"``, ``"1h"``,
    ``"1d"`` or ``"1h30m"``.

    >>> parse_duration("1h30m"), parse_duration("250ms"), parse_duration(90)
    (5400.0, 0.25, 90.0)
    """
    if isinstance(value, bool):
        raise ValueError(f"a duration must be a number of seconds or text like '10m', "
                         f"got {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"a duration must be a finite number of seconds >= 0, got {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"a duration must be a number or text like '10m', got {value!r}")
    text = value.strip().lower().replace(" ", "")
    try:
        return parse_duration(float(text))
    except ValueError:
        pass
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"cannot read {value!r} as a duration: write a number of seconds or "
                         f"text like '90s', '250ms', '10m', '1h', '1d' or '1h30m'")
    return float(sum(float(n) * _UNITS[u] for n, u in parts))


def parse_value(text: str) -> Any:
    """A TOML value from text (``512``, ``0.5``, ``true``, ``[1, 2]``, ``{dist = ...}``), or the
    text itself when it is not one (``10m``, ``today``)."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_assignment(text: str) -> tuple[str, Any]:
    """Split ``"key.path=value"`` into the key path and the parsed value."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ValueError(f"expected KEY=VALUE (e.g. function.memory_mb=512), got {text!r}")
    return key, parse_value(value.strip())


def split_key(key: str) -> list[str]:
    """Split a dotted TOML key, keeping quoted parts whole."""
    parts: list[str] = []
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([^.\s]+)', key):
        parts.append(next(g for g in m.groups() if g is not None))
    return parts


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-.]+|\s)+?)\s*=""")
_INLINE_KEY = re.compile(r"""[{,]\s*("[^"]*"|[A-Za-z0-9_\-]+)\s*=""")


class KeyLines:
    """Line numbers of the keys of a TOML text, by key path (array entries by position)."""

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple[str, ...], int] = {}
        counts: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        for number, line in enumerate(text.splitlines(), start=1):
            header = _HEADER.match(line)
            if header:
                path = tuple(split_key(header.group(2)))
                if header.group(1) == "[[":
                    counts[path] = counts.get(path, -1) + 1
                    path = (*path, str(counts[path]))
                elif path[:1] and path[:1] in counts:
                    path = (path[0], str(counts[path[:1]]), *path[1:])
                table = path
                self.lines.setdefault(table, number)
                continue
            key = _KEY.match(line)
            if key:
                path = (*table, *split_key(key.group(1)))
                self.lines.setdefault(path, number)
                rest = line[key.end():]
                for inner in _INLINE_KEY.finditer(rest):
                    self.lines.setdefault((*path, *split_key(inner.group(1))), number)

    def of(self, path: tuple[str, ...]) -> int | None:
        """The line of ``path``, or of its nearest enclosing key."""
        for n in range(len(path), 0, -1):
            if path[:n] in self.lines:
                return self.lines[path[:n]]
        return None
