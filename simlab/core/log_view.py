"""Reading a function's logs the way an operator does: the console's view, its filters, and the
REPORT lines read back into numbers.

:class:`LogView` holds log events as :func:`simlab.core.logs.log_events` builds them (one row per
event) and prints them like the CloudWatch console (``print(view)``: one event per line, its UTC
timestamp then its message); it filters them like the basics of Logs Insights (by function,
stream, time window and pattern) and reads every REPORT line into a table
(:meth:`LogView.reports`). :func:`parse_report` reads one REPORT line back into numbers, as an
operator would from a line copied out of the console.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from simlab.core import validate
from simlab.core.logs import iso_timestamps

__all__ = ["LogView", "parse_report", "parse_reports"]


_REPORT = re.compile(
    r"^REPORT RequestId: (?P<request_id>\S+)"
    r"\s+Duration: (?P<duration_ms>\d+(?:\.\d+)?) ms"
    r"\s+Billed Duration: (?P<billed_duration_ms>\d+) ms"
    r"\s+Memory Size: (?P<memory_size_mb>\d+) MB"
    r"\s+Max Memory Used: (?P<max_memory_used_mb>\d+) MB"
    r"(?:\s+Init Duration: (?P<init_duration_ms>\d+(?:\.\d+)?) ms)?"
    r"(?:\s+Status: (?P<status>\w+))?"
    r"(?:\s+Error Type: (?P<error_type>[\w.]+))?"
)
_INT_FIELDS = ("billed_duration_ms", "memory_size_mb", "max_memory_used_mb")
_FLOAT_FIELDS = ("duration_ms", "init_duration_ms")


def parse_report(line: str) -> dict[str, Any]:
    """Read a REPORT line back into numbers.

    Fields may be separated by tabs (as Lambda writes them) or spaces (as copied from a console).
    Fields simlab does not write (X-Ray, SnapStart restore) are ignored.

    Parameters
    ----------
    line : str
        ``REPORT RequestId: <id>\\tDuration: 102.25 ms\\tBilled Duration: 200 ms\\t...``

    Returns
    -------
    dict
        ``request_id`` (str), ``duration_ms`` (float), ``billed_duration_ms`` (int),
        ``memory_size_mb`` (int), ``max_memory_used_mb`` (int), ``init_duration_ms`` (float, or
        None on a warm start), ``status`` and ``error_type`` (str, or None when absent).

    Raises
    ------
    ValueError
        If ``line`` is not a REPORT line.

    Examples
    --------
    >>> r = parse_report("REPORT RequestId: abc\\tDuration: 1.50 ms\\tBilled Duration: 2 ms\\t"
    ...                  "Memory Size: 128 MB\\tMax Memory Used: 40 MB\\t")
    >>> r["billed_duration_ms"], r["init_duration_ms"]
    (2, None)
    """
    if not isinstance(line, str):
        raise TypeError(f"line must be a str, got {type(line).__name__}")
    m = _REPORT.match(line)
    if m is None:
        raise ValueError(f"line is not a REPORT line: {line[:120]!r}")
    out: dict[str, Any] = m.groupdict()
    for k in _INT_FIELDS:
        out[k] = int(out[k])
    for k in _FLOAT_FIELDS:
        out[k] = None if out[k] is None else float(out[k])
    return out


def parse_reports(messages: pd.Series | Sequence[str]) -> pd.DataFrame:
    """Parse every REPORT line among ``messages`` at once (other lines are skipped).

    Returns a DataFrame with the keys of :func:`parse_report` as columns (``init_duration_ms`` NaN
    on warm starts), indexed like the REPORT lines in ``messages``.
    """
    s = pd.Series(messages, dtype="str") if not isinstance(messages, pd.Series) else messages
    s = s[s.str.startswith("REPORT ")]
    df = s.str.extract(_REPORT)
    bad = df["request_id"].isna()
    if bad.any():
        raise ValueError(f"malformed REPORT line: {s[bad].iloc[0][:120]!r}")
    for k in _INT_FIELDS:
        df[k] = df[k].astype(np.int64)
    for k in _FLOAT_FIELDS:
        df[k] = df[k].astype(float)
    return df


# ---------------------------------------------------------------------------------------------
# The text view.


class LogView:
    """Log events shown like the CloudWatch console and filtered like Logs Insights basics.

    ``print(view)`` writes one event per line, its UTC timestamp then its message; ``view.df`` is
    the tidy DataFrame. :meth:`head`, :meth:`tail` and :meth:`filter` return new views.

    Parameters
    ----------
    df : DataFrame
        Events with at least the columns ``timestamp_s``, ``timestamp_ms``, ``request_id``,
        ``log_stream`` and ``message`` (as :func:`log_events` returns).
    """

    _COLUMNS = ("timestamp_s", "timestamp_ms", "request_id", "log_stream", "message")

    def __init__(self, df: pd.DataFrame) -> None:
        validate.frame("df", df, self._COLUMNS)
        self._df = df

    @property
    def df(self) -> pd.DataFrame:
        """The events as a tidy DataFrame."""
        return self._df

    @property
    def streams(self) -> list[str]:
        """The log streams present, in order of their first event."""
        return list(pd.unique(self._df["log_stream"]))

    def __len__(self) -> int:
        return len(self._df)

    def head(self, n: int = 10) -> LogView:
        """The first ``n`` events."""
        return LogView(self._df.head(_count(n)))

    def tail(self, n: int = 10) -> LogView:
        """The last ``n`` events."""
        return LogView(self._df.tail(_count(n)))

    def filter(
        self,
        request_id: str | Iterable[str] | None = None,
        pattern: str | re.Pattern[str] | None = None,
        start_s: float | None = None,
        end_s: float | None = None,
        stream: str | None = None,
    ) -> LogView:
        """Keep the events that match every given condition.

        Parameters
        ----------
        request_id : str or iterable of str, optional
            Events of these requests.
        pattern : str or compiled regex, optional
            A plain string matches as a case-sensitive substring; ``"/.../"`` (as in Logs
            Insights' ``like /regex/``) or a compiled pattern matches as a regular expression.
        start_s, end_s : float, optional
            Simulated time range ``start_s <= t < end_s``.
        stream : str, optional
            Events of one log stream.
        """
        df = self._df
        keep = np.ones(len(df), dtype=bool)
        if request_id is not None:
            ids = [request_id] if isinstance(request_id, str) else list(request_id)
            keep &= df["request_id"].isin(ids).to_numpy()
        if pattern is not None:
            keep &= _match(df["message"], pattern)
        lo = _time_bound(start_s, "start_s")
        hi = _time_bound(end_s, "end_s")
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"start_s ({lo}) must not exceed end_s ({hi})")
        t = df["timestamp_s"].to_numpy(dtype=float)
        if lo is not None:
            keep &= t >= lo
        if hi is not None:
            keep &= t < hi
        if stream is not None:
            keep &= (df["log_stream"] == stream).to_numpy()
        return LogView(df.loc[keep])

    def reports(self) -> pd.DataFrame:
        """The REPORT lines parsed into numbers (see :func:`parse_reports`)."""
        return parse_reports(self._df["message"])

    def __str__(self) -> str:
        if self._df.empty:
            return "(no log events)"
        stamps = iso_timestamps(self._df["timestamp_ms"].to_numpy(dtype=np.int64)).tolist()
        pad = "\n" + " " * (len(stamps[0]) + 2)
        return "\n".join(
            f"{s}  {m.replace(chr(10), pad)}"
            for s, m in zip(stamps, self._df["message"].tolist(), strict=True)
        )

    def __repr__(self) -> str:
        # A notebook shows the repr: keep it short for big views (print() shows every event).
        if len(self) <= 40:
            return str(self)
        return f"({len(self)} log events; the last 20 below, print() shows all)\n{self.tail(20)}"


def _count(n: int) -> int:
    return validate.integer("n", n, 0)


def _time_bound(value: float | None, name: str) -> float | None:
    if value is None:
        return None
    return validate.real(name, value, allow_inf=True, unit="seconds")


def _match(messages: pd.Series, pattern: str | re.Pattern[str]) -> np.ndarray:
    if isinstance(pattern, re.Pattern):
        return messages.str.contains(pattern, regex=True).to_numpy(dtype=bool)
    if not isinstance(pattern, str):
        raise TypeError(f"pattern must be a str or re.Pattern, got {type(pattern).__name__}")
    if len(pattern) >= 2 and pattern.startswith("/") and pattern.endswith("/"):
        try:
            rx = re.compile(pattern[1:-1])
        except re.error as exc:
            raise ValueError(
                f"pattern {pattern!r} is not a valid regular expression: {exc}"
            ) from exc
        return messages.str.contains(rx, regex=True).to_numpy(dtype=bool)
    return messages.str.contains(pattern, regex=False).to_numpy(dtype=bool)
