"""CloudWatch metrics of a run (namespace ``AWS/Lambda``), computed from its records.

Lambda publishes, free and without any code, a handful of *metrics* per function every minute:

* ``Invocations``: requests that ran your code, errors included (what you pay requests for);
  throttled requests are *not* invocations;
* ``Errors``: invocations that ended in a function error: an exception, a timeout or running out
  of memory;
* ``Throttles``: requests refused because no concurrency was left (HTTP 429);
* ``Duration``: handler run time in milliseconds, read with a statistic (Average, p50, p99,
  Maximum);
* ``ConcurrentExecutions``: environments busy at once, initialising included; read its Maximum;
* ``IteratorAge`` (stream sources: age of the last record of a batch) and ``AsyncEventAge`` (time an
  asynchronous event waited in Lambda's internal queue), both in ms.

Each data point is stamped with the *start* of the invocation, so a 10-minute function's Duration
shows up in the minute it started, not the one it ended in. A metric has no value in a period
without data; here the counts are 0 there and the statistics of Duration are NaN.

simlab adds ``ColdStarts`` (not a CloudWatch metric: on AWS you count ``Init Duration`` in the
logs). With ``account=True``, rows whose function is :data:`ACCOUNT` add the region-wide aggregate
(CloudWatch's metrics without a ``FunctionName`` dimension); they are left out by default, so that
summing a metric over the table counts every request once.

The result is *tidy*: one row per (function, metric, statistic, period) with the columns
``function, metric, statistic, unit, period_start_s, value``; :func:`to_wide` pivots it to one
column per metric and statistic for plotting. Everything is vectorised over the records (group
codes and ``np.bincount``), so an hour at 10 requests/s takes a few milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from simlab.core import validate

__all__ = ["ACCOUNT", "METRIC_COLUMNS", "metrics", "to_wide", "max_concurrency"]

#: The ``function`` of the account-level (all functions) rows.
ACCOUNT: str = "(account)"

#: The columns of the DataFrame :func:`metrics` returns, in order.
METRIC_COLUMNS: tuple[str, ...] = (
    "function", "metric", "statistic", "unit", "period_start_s", "value",
)  # fmt: skip

_NEEDED = ("function", "status", "start_s", "end_s", "init_ms", "duration_ms", "cold")
_ERRORS = ("error", "timeout", "oom")
_NOT_RUN = ("throttled", "dropped")
_QUANTILES = (("p50", 0.50), ("p99", 0.99))


def _periods(period_s: float, until_s: float | None, times: np.ndarray) -> int:
    """Number of periods: enough to hold ``until_s`` or, by default, every time in ``times``."""
    if until_s is not None:
        ratio = until_s / period_s
        near = round(ratio)
        return int(near) if abs(ratio - near) < 1e-9 else math.ceil(ratio)
    finite = times[np.isfinite(times)]
    if finite.size == 0:
        return 0
    last = finite.max()
    # The period holding ``last``, found against the same edges used to bin the data.
    return int(np.searchsorted(_edges(period_s, int(last // period_s) + 2), last, side="right"))


def _edges(period_s: float, n: int) -> np.ndarray:
    return np.arange(n + 1, dtype=float) * period_s


def _period_of(t: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Period index of each time (``edges[k] <= t < edges[k + 1]``); -1 when outside."""
    k = np.searchsorted(edges, t, side="right") - 1
    k[(k >= len(edges) - 1) | ~np.isfinite(t)] = -1
    return k


def max_concurrency(
    busy_from_s: np.ndarray, busy_to_s: np.ndarray, period_s: float, n_periods: int
) -> np.ndarray:
    """Most intervals open at once in each period, exactly.

    Intervals are half-open, ``[busy_from_s, busy_to_s)``: an environment that finishes at t and
    one that starts at t never overlap, and an interval of zero length counts for nothing.

    Parameters
    ----------
    busy_from_s, busy_to_s : ndarray
        Start and end of each interval (s).
    period_s : float
        Period length (s); period k is ``[k * period_s, (k + 1) * period_s)``.
    n_periods : int
        Number of periods from t = 0.

    Returns
    -------
    ndarray of int64, shape (n_periods,)

    Examples
    --------
    >>> max_concurrency(np.array([0.0, 0.5, 1.0]), np.array([1.0, 1.5, 2.5]), 1.0, 3).tolist()
    [2, 2, 1]
    """
    edges = _edges(period_s, n_periods)
    t = np.concatenate([busy_from_s, busy_to_s])
    d = np.concatenate([np.ones(len(busy_from_s), np.int64), -np.ones(len(busy_to_s), np.int64)])
    order = np.lexsort((d, t))
    t, level = t[order], np.cumsum(d[order])
    # The level held after an instant is the level after its last event (no zero-length spikes).
    last = np.append(t[1:] != t[:-1], True) if t.size else np.array([], dtype=bool)
    t, level = t[last], level[last]
    at = np.searchsorted(t, edges[:-1], side="right") - 1  # last change at or before each edge
    peak = np.where(at >= 0, level[np.maximum(at, 0)], 0) if t.size else np.zeros(n_periods)
    peak = peak.astype(np.int64)
    k = _period_of(t, edges)
    inside = k >= 0
    if inside.any():
        np.maximum.at(peak, k[inside], level[inside])
    return peak


def _stats_per_cell(
    cell: np.ndarray, values: np.ndarray, n_cells: int
) -> dict[str, np.ndarray]:  # fmt: skip
    """Average, p50, p99 and Maximum of ``values`` per cell (NaN for an empty cell), by sorting."""
    ok = (cell >= 0) & np.isfinite(values)
    cell, values = cell[ok], values[ok]
    order = np.lexsort((values, cell))
    cell, values = cell[order], values[order]
    count = np.bincount(cell, minlength=n_cells)
    first = np.concatenate([[0], np.cumsum(count)[:-1]])
    out: dict[str, np.ndarray] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        out["Average"] = np.bincount(cell, weights=values, minlength=n_cells) / count
    empty = count == 0
    for name, q in _QUANTILES:
        pos = first + q * np.maximum(count - 1, 0)
        lo = np.floor(pos).astype(np.int64)
        hi = np.ceil(pos).astype(np.int64)
        if values.size:
            lo_v = values[np.minimum(lo, values.size - 1)]
            hi_v = values[np.minimum(hi, values.size - 1)]
            val = lo_v + (hi_v - lo_v) * (pos - lo)
        else:
            val = np.full(n_cells, np.nan)
        out[name] = np.where(empty, np.nan, val)
    if values.size:
        out["Maximum"] = np.where(empty, np.nan, values[np.maximum(first + count - 1, 0)])
    else:
        out["Maximum"] = np.full(n_cells, np.nan)
    return out


def _function_names(invocations: pd.DataFrame, functions: Any) -> list[str]:
    present = [str(f) for f in pd.unique(invocations["function"].astype(str))]
    if functions is None:
        return sorted(present)
    if isinstance(functions, pd.DataFrame):
        if "function" not in functions.columns:
            raise ValueError("functions DataFrame lacks the column 'function'")
        names = [str(f) for f in functions["function"]]
    elif isinstance(functions, str):
        names = [functions]
    else:
        names = [str(f) for f in functions]
    if ACCOUNT in names:
        raise ValueError(f"functions must not contain the reserved name {ACCOUNT!r}")
    return list(dict.fromkeys(names))


def metrics(
    invocations: pd.DataFrame,
    period_s: float = 60.0,
    until_s: float | None = None,
    functions: pd.DataFrame | Sequence[str] | str | None = None,
    account: bool = False,
) -> pd.DataFrame:
    """Compute the CloudWatch metrics of a run per function and period (and account totals).

    Parameters
    ----------
    invocations : DataFrame
        The INVOCATIONS table (see :mod:`simlab.core.schema`). Optional columns
        ``iterator_age_ms`` and ``event_age_ms`` add IteratorAge and AsyncEventAge;
        ``provisioned`` adds ProvisionedConcurrencyInvocations; ``invocation_type`` (any
        ``"async"`` row) or a ``"dropped"`` status adds AsyncEventsDropped.
    period_s : float
        Length of a period (s), > 0. CloudWatch's standard resolution is 60 s.
    until_s : float, optional
        End of the window, > 0: periods cover ``[0, until_s)`` and data stamped at or after
        ``until_s`` is left out. By default the window ends after the last time in the table.
    functions : DataFrame, sequence of str or str, optional
        The functions to report (a FUNCTIONS table or names): functions without any request still
        get rows of zeros; others are left out of the per-function rows (not of the account rows).
        A FUNCTIONS table with ``provisioned_concurrency`` also adds
        ProvisionedConcurrencySpilloverInvocations. By default, the functions in the table.
    account : bool
        Also return the account-wide rows (``function == ACCOUNT``), which aggregate every
        function in the table. Off by default: with them, a sum over the table counts each
        request twice.

    Returns
    -------
    DataFrame
        Columns :data:`METRIC_COLUMNS`; one row per (function, metric, statistic, period), every
        period from t = 0 present. Metrics and statistics: Invocations, Errors, Throttles,
        ColdStarts (Sum, Count); Duration (Average, p50, p99, Maximum; Milliseconds; percentiles
        interpolate linearly); ConcurrentExecutions (Maximum, Count); and the optional ones above.
        With ``account=True``, rows with ``function == ACCOUNT`` aggregate every function in the
        table.

    Notes
    -----
    Invocations, Errors, Duration and ColdStarts are stamped with ``start_s`` (the handler's start),
    Throttles and AsyncEventsDropped with ``start_s`` too (when the request was refused or dropped;
    ``arrival_s`` if ``start_s`` is missing). ConcurrentExecutions counts an environment busy from
    ``start_s - init_ms / 1000`` (its INIT, if the request waited for one) to ``end_s``, exactly,
    not sampled. Summing ``Invocations`` over the periods of a function gives the number of its
    rows that ran.

    Raises
    ------
    TypeError, ValueError
        On a missing column or a period or window that is not a positive finite number.
    """
    validate.frame("invocations", invocations, _NEEDED)
    period_s = _positive(period_s, "period_s")
    if until_s is not None:
        until_s = _positive(until_s, "until_s")
    if not isinstance(account, bool | np.bool_):
        raise TypeError(f"account must be True or False, got {account!r}")
    names = _function_names(invocations, functions)

    inv = invocations
    status = _labels(inv["status"])
    start = inv["start_s"].to_numpy(dtype=float)
    stamp = np.where(np.isfinite(start), start, _col(inv, "arrival_s", start))
    ran = ~np.isin(status, _NOT_RUN)
    n = _periods(period_s, until_s, np.concatenate([stamp, inv["end_s"].to_numpy(dtype=float)]))
    edges = _edges(period_s, n)
    k = _period_of(stamp, edges)

    fn_index = {f: i for i, f in enumerate(names)}
    fn_codes, fn_uniques = pd.factorize(inv["function"])
    code = np.array([fn_index.get(str(f), -1) for f in fn_uniques] + [-1], np.int64)[fn_codes]
    G = len(names)

    counts: list[tuple[str, np.ndarray]] = [
        ("Invocations", ran),
        ("Errors", np.isin(status, _ERRORS)),
        ("Throttles", status == "throttled"),
        ("ColdStarts", ran & inv["cold"].to_numpy(dtype=bool)),
    ]
    if (status == "dropped").any() or (
        "invocation_type" in inv.columns and (_labels(inv["invocation_type"]) == "async").any()
    ):
        counts.append(("AsyncEventsDropped", status == "dropped"))
    if "provisioned" in inv.columns and inv["provisioned"].to_numpy(dtype=bool).any():
        counts.append(
            ("ProvisionedConcurrencyInvocations", ran & inv["provisioned"].to_numpy(bool))
        )
    spill_fns = _spillover_functions(functions)
    if spill_fns:
        has_pc = inv["function"].astype(str).isin(spill_fns).to_numpy()
        prov = _col(inv, "provisioned", np.zeros(len(inv))).astype(bool)
        counts.append(("ProvisionedConcurrencySpilloverInvocations", ran & has_pc & ~prov))

    busy_from = start - inv["init_ms"].to_numpy(dtype=float) / 1000
    end = inv["end_s"].to_numpy(dtype=float)
    runs = ran & np.isfinite(busy_from) & np.isfinite(end)
    duration = np.where(ran, inv["duration_ms"].to_numpy(dtype=float), np.nan)
    ages = [
        (metric, inv[column].to_numpy(dtype=float), stats)
        for metric, column, stats in (
            ("IteratorAge", "iterator_age_ms", ("Maximum",)),
            ("AsyncEventAge", "event_age_ms", ("Average", "Maximum")),
        )
        if column in inv.columns
    ]

    blocks: list[tuple[str, str, str, np.ndarray]] = []  # (metric, statistic, unit, (G+1, n))
    groups = [(code, G), (np.zeros(len(inv), np.int64), 1)]  # per function, then the account
    for metric, mask in counts:
        rows = [_count_cells(c, k, mask, g, n) for c, g in groups]
        blocks.append((metric, "Sum", "Count", np.vstack(rows)))
    for metric, values, stats, unit in [("Duration", duration, None, "Milliseconds")] + [
        (m, np.where(ran, v, np.nan), s, "Milliseconds") for m, v, s in ages
    ]:
        per = [_stats_per_cell(_cells(c, k, ran, n), values, g * n) for c, g in groups]
        for stat in stats or ("Average", "p50", "p99", "Maximum"):
            rows = [p[stat].reshape(g, n) for p, (_, g) in zip(per, groups, strict=True)]
            blocks.append((metric, stat, unit, np.vstack(rows)))
    conc = np.zeros((G + 1, n), dtype=float)
    for g in range(G + 1):
        sel = runs if g == G else runs & (code == g)
        conc[g] = max_concurrency(busy_from[sel], end[sel], period_s, n)
    blocks.append(("ConcurrentExecutions", "Maximum", "Count", conc))
    if not account:
        blocks = [(m, s, u, values[:G]) for m, s, u, values in blocks]
    return _assemble(blocks, names + [ACCOUNT] if account else names, edges[:-1])


def _positive(value: Any, name: str) -> float:
    return validate.real(name, value, 0, low_open=True, unit="seconds")


def _labels(column: pd.Series) -> np.ndarray:
    """A column's values as an object array of str, fast for categoricals and repeated strings."""
    codes, uniques = pd.factorize(column)
    return np.array([str(u) for u in uniques] + [""], dtype=object)[codes]


def _col(inv: pd.DataFrame, name: str, default: np.ndarray) -> np.ndarray:
    return inv[name].to_numpy(dtype=float) if name in inv.columns else np.asarray(default, float)


def _spillover_functions(functions: Any) -> list[str]:
    if not isinstance(functions, pd.DataFrame) or "provisioned_concurrency" not in functions:
        return []
    pc = pd.to_numeric(functions["provisioned_concurrency"], errors="coerce").fillna(0)
    return [str(f) for f in functions.loc[pc.to_numpy() > 0, "function"]]


def _cells(code: np.ndarray, k: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    """Flat cell index ``code * n + k`` of each row kept by ``mask``; -1 for the others."""
    return np.where(mask & (code >= 0) & (k >= 0), code * n + k, -1)


def _count_cells(code: np.ndarray, k: np.ndarray, mask: np.ndarray, g: int, n: int) -> np.ndarray:
    cell = _cells(code, k, mask, n)
    return np.bincount(cell[cell >= 0], minlength=g * n).reshape(g, n).astype(float)


def _assemble(
    blocks: list[tuple[str, str, str, np.ndarray]], names: list[str], starts: np.ndarray
) -> pd.DataFrame:
    """Long (tidy) table from per-metric arrays of shape (function, period)."""
    size = len(names) * len(starts)

    def column(values: list[str]) -> pd.Categorical:
        categories = list(dict.fromkeys(values))
        codes = np.array([categories.index(v) for v in values], dtype=np.int64)
        return pd.Categorical.from_codes(np.repeat(codes, size), categories=categories)

    return pd.DataFrame(
        {
            "function": pd.Categorical.from_codes(
                np.tile(np.repeat(np.arange(len(names)), len(starts)), len(blocks)),
                categories=names,
            ),
            "metric": column([b[0] for b in blocks]),
            "statistic": column([b[1] for b in blocks]),
            "unit": column([b[2] for b in blocks]),
            "period_start_s": np.tile(starts, len(names) * len(blocks)),
            "value": np.concatenate([b[3].ravel() for b in blocks]),
        }
    )


def to_wide(table: pd.DataFrame) -> pd.DataFrame:
    """Pivot :func:`metrics` output to one row per (function, period_start_s), one column per
    ``<Metric>_<Statistic>`` (e.g. ``Invocations_Sum``, ``Duration_p99``,
    ``ConcurrentExecutions_Maximum``)."""
    missing = [c for c in METRIC_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"table lacks the columns {missing}; pass the output of metrics()")
    key = table["metric"].astype(str) + "_" + table["statistic"].astype(str)
    wide = table.assign(column=key).pivot(
        index=["function", "period_start_s"], columns="column", values="value"
    )
    wide.columns.name = None
    return wide.reset_index()
