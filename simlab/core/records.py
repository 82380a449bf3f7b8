"""Columnar records of a run, appended as it goes and turned into DataFrames once, at the end.

A million invocations must fit in memory and be cheap to record, so each column is a typed
:class:`array.array` (8 bytes a number, no Python object per value). Strings (function, status...)
are stored as small integer codes and expanded into categoricals when the table is built.
"""

from __future__ import annotations

import functools
from array import array
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from simlab.core.schema import ARCHITECTURES, STATUSES

__all__ = ["InvocationRecorder", "EnvironmentRecorder", "INVOCATION_TYPES", "END_REASONS"]

INVOCATION_TYPES: tuple[str, ...] = ("sync", "async", "poll")
END_REASONS: tuple[str, ...] = ("idle_timeout", "max_lifetime", "timeout", "oom", "alive",
                                "updated", "init_timeout", "runtime_exit")

_INV_COLUMNS = (
    ("invocation_id", "q"), ("function", "i"), ("source", "i"), ("invocation_type", "b"),
    ("attempt", "i"), ("arrival_s", "d"), ("start_s", "d"), ("end_s", "d"), ("init_ms", "d"),
    ("duration_ms", "d"), ("cold", "b"), ("status", "b"), ("env_id", "q"), ("host_id", "q"),
    ("max_memory_used_mb", "d"), ("provisioned", "b"), ("memory_mb", "i"),
    ("architecture", "b"),
)


class InvocationRecorder:
    """Keeps one row per invocation attempt (``record="all"``)."""

    def __init__(self) -> None:
        self.cols = {name: array(code) for name, code in _INV_COLUMNS}
        appends = [self.cols[name].append for name, _ in _INV_COLUMNS]
        (self._a0, self._a1, self._a2, self._a3, self._a4, self._a5, self._a6, self._a7,
         self._a8, self._a9, self._a10, self._a11, self._a12, self._a13, self._a14,
         self._a15, self._a16, self._a17) = appends
        self.extras: dict[str, dict[int, Any]] = {}

    def add(self, iid: int, fn: int, src: int, itype: int, attempt: int, arrival: float,
            start: float, end: float, init_ms: float, dur_ms: float, cold: int, status: int,
            env_id: int, host_id: int, mem: float, prov: int, memory_mb: int,
            arch: int) -> None:
        """Append one row (codes as in the tables' category lists)."""
        self._a0(iid)
        self._a1(fn)
        self._a2(src)
        self._a3(itype)
        self._a4(attempt)
        self._a5(arrival)
        self._a6(start)
        self._a7(end)
        self._a8(init_ms)
        self._a9(dur_ms)
        self._a10(cold)
        self._a11(status)
        self._a12(env_id)
        self._a13(host_id)
        self._a14(mem)
        self._a15(prov)
        self._a16(memory_mb)
        self._a17(arch)

    def extra(self, column: str, invocation_id: int, value: Any) -> None:
        """Attach a sparse extra value (e.g. a handler's output) to an invocation."""
        self.extras.setdefault(column, {})[invocation_id] = value

    def __len__(self) -> int:
        return len(self.cols["invocation_id"])

    def frame(self, functions: Sequence[str], sources: Sequence[str]) -> pd.DataFrame:
        """Build the INVOCATIONS table, sorted by invocation_id.

        The columns are moved out of the recorder one at a time (so that a million rows never
        exist twice); the recorder is empty afterwards.
        """
        cols, extras = self.cols, self.extras
        self.__init__()  # fresh, empty columns and append methods
        ids = _np(cols.pop("invocation_id"))
        order = None if np.all(ids[:-1] <= ids[1:]) else np.argsort(ids, kind="stable")

        def take(name: str) -> np.ndarray:
            arr = _np(cols.pop(name))
            return arr if order is None else arr[order]

        out: dict[str, Any] = {"invocation_id": ids if order is None else ids[order]}
        fn = take("function")
        out["function"] = _cat(fn, functions)
        out["source"] = _cat(take("source"), sources)
        out["invocation_type"] = _cat(take("invocation_type"), INVOCATION_TYPES)
        out["attempt"] = take("attempt")
        for name in ("arrival_s", "start_s", "end_s", "init_ms", "duration_ms"):
            out[name] = take(name)
        out["latency_ms"] = (out["end_s"] - out["arrival_s"]) * 1000.0
        out["cold"] = take("cold").astype(bool)
        out["status"] = _cat(take("status"), STATUSES)
        out["env_id"] = take("env_id")
        out["host_id"] = take("host_id")
        out["memory_mb"] = take("memory_mb").astype(np.int64)
        out["max_memory_used_mb"] = take("max_memory_used_mb")
        out["provisioned"] = take("provisioned").astype(bool)
        out["architecture"] = _cat(take("architecture"), ARCHITECTURES)
        df = pd.DataFrame(out, copy=False)
        for column, values in extras.items():
            df[column] = _extra_column(values, out["invocation_id"])
        return df


def _extra_column(values: dict[int, Any], ids: np.ndarray) -> np.ndarray | pd.array:
    """A sparse extra column aligned on ``ids``: numbers stay numeric (whole numbers as nullable
    integers), anything else is kept as objects; missing entries are NaN or <NA>."""
    series = pd.Series(values, dtype=None if values else object)
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return pd.Series(values, dtype=object).reindex(ids).to_numpy()
    if pd.api.types.is_integer_dtype(series):
        return series.astype("Int64").reindex(ids).array
    return series.astype(float).reindex(ids).to_numpy()


_DTYPES = {"q": np.int64, "i": np.int32, "b": np.int8, "d": np.float64}


def _np(a: array) -> np.ndarray:
    """A numpy array over an array.array (a copy-free view)."""
    return np.frombuffer(a, dtype=_DTYPES[a.typecode]) if len(a) else \
        np.array([], dtype=_DTYPES[a.typecode])


@functools.lru_cache(maxsize=256)
def _categories(categories: tuple[str, ...]) -> tuple[pd.CategoricalDtype, np.ndarray]:
    """The dtype of ``categories`` (duplicates dropped) and each name's code in it, read-only.
    Kept between runs: building and checking the dtypes anew took about a tenth of a
    100-request run."""
    cats = list(dict.fromkeys(categories))
    remap = np.array([cats.index(c) for c in categories], dtype=np.int64)
    remap.flags.writeable = False  # shared by every run with these categories
    return pd.CategoricalDtype(cats), remap


def _cat(codes: np.ndarray, categories: Sequence[str]) -> pd.Categorical:
    dtype, remap = _categories(tuple(categories))
    codes = remap[codes] if len(codes) else codes.astype(np.int64)
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)  # codes are ours


class EnvironmentRecorder:
    """Keeps one row per execution environment, written when it ends."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []

    def add(self, env_id: int, fn: int, host_id: int, memory_mb: int, provisioned: bool,
            created_s: float, ready_s: float, ended_s: float, reason: int, invocations: int,
            busy_s: float, init_s: float) -> None:
        """Append one environment."""
        self.rows.append((env_id, fn, host_id, memory_mb, provisioned, created_s, ready_s,
                          ended_s, reason, invocations, busy_s, init_s))

    def frame(self, functions: Sequence[str]) -> pd.DataFrame:
        """Build the ENVIRONMENTS table, sorted by env_id."""
        names = ["env_id", "function", "host_id", "memory_mb", "provisioned", "created_s",
                 "ready_s", "ended_s", "end_reason", "invocations", "busy_s", "init_s"]
        df = pd.DataFrame.from_records(self.rows, columns=names)
        df = df.astype({"env_id": np.int64, "function": np.int64, "host_id": np.int64,
                        "memory_mb": np.int64, "provisioned": bool, "created_s": float,
                        "ready_s": float, "ended_s": float, "end_reason": np.int64,
                        "invocations": np.int64, "busy_s": float, "init_s": float})
        df["function"] = _cat(df["function"].to_numpy(), functions)
        df["end_reason"] = _cat(df["end_reason"].to_numpy(), END_REASONS)
        return df.sort_values("env_id", kind="stable").reset_index(drop=True)
