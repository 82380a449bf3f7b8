"""Replaying real workloads: readers for the Azure Functions traces of 2019 and 2021.

Synthetic arrival processes (Poisson, bursty, diurnal) are models; a *trace* is what a production
platform really saw. Microsoft's Azure Public Dataset publishes two families, in two shapes:

2021, per invocation (``AzureFunctionsInvocationTrace2021``)
    One row per invocation: ``app,func,end_timestamp,duration`` (seconds). The start is
    ``end_timestamp - duration``. This is the exact workload, timing included, so it can be
    replayed as it was. :func:`read_azure_2021`, and :func:`load_azure_2021_sample` for the
    199-invocation sample shipped with simlab.

2019, aggregated (``AzureFunctionsDataset2019``)
    Counts of invocations *per minute* per function over a day
    (``HashOwner,HashApp,HashFunction,Trigger,1..1440``), a separate file of execution-time
    percentiles per function (milliseconds; ``Average,Count,Minimum,Maximum,
    percentile_Average_0,1,25,50,75,99,100``) and one of allocated-memory percentiles per
    application (``SampleCount,AverageAllocatedMb,AverageAllocatedMb_pct1,...,pct100``). The exact
    times within a minute are lost, so replaying means choosing them: spread each minute's count
    uniformly at random over the minute (the default), or evenly. Durations are lost too: each
    function's percentiles define a distribution to draw from (:class:`QuantileDistribution`).
    :func:`read_azure_2019_invocations`, :func:`arrivals_from_counts`,
    :func:`read_azure_2019_durations`, :func:`duration_distributions`,
    :func:`read_azure_2019_memory`, :func:`memory_distributions`.

Both kinds of replay give the same table, one row per invocation sorted by ``arrival_s``:
``arrival_s, duration_s, app, func`` (app and function hashes as categoricals).

The data are licensed CC BY 4.0 (Azure Public Dataset, Microsoft); cite Shahrad et al.,
"Serverless in the Wild", USENIX ATC 2020 for 2019 and Zhang et al., "Faster and Cheaper Serverless
Computing on Harvested Resources", SOSP 2021 for 2021.

Examples
--------
>>> df = load_azure_2021_sample()
>>> len(df), df["app"].nunique(), list(df.columns)
(199, 13, ['arrival_s', 'duration_s', 'app', 'func'])
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import IO, Literal

import numpy as np
import pandas as pd

from simlab.core import validate
from simlab.core.dists import QuantileDistribution
from simlab.core.validate import BadInput

__all__ = [
    "AZURE_2021_COLUMNS",
    "AZURE_2019_INVOCATION_KEYS",
    "AZURE_2019_DURATION_COLUMNS",
    "AZURE_2019_MEMORY_COLUMNS",
    "read_azure_2021",
    "load_azure_2021_sample",
    "MinuteCounts",
    "read_azure_2019_invocations",
    "arrivals_from_counts",
    "attach_durations",
    "QuantileDistribution",
    "read_azure_2019_durations",
    "duration_distributions",
    "read_azure_2019_memory",
    "memory_distributions",
]

Source = str | os.PathLike | IO

#: Columns of the 2021 per-invocation trace.
AZURE_2021_COLUMNS: tuple[str, ...] = ("app", "func", "end_timestamp", "duration")
#: Key columns of the 2019 invocations-per-minute files (followed by minute columns 1..1440).
AZURE_2019_INVOCATION_KEYS: tuple[str, ...] = ("HashOwner", "HashApp", "HashFunction", "Trigger")
_DURATION_PCTS = (0, 1, 25, 50, 75, 99, 100)
#: Columns of the 2019 function-duration percentile files (milliseconds).
AZURE_2019_DURATION_COLUMNS: tuple[str, ...] = (
    "HashOwner",
    "HashApp",
    "HashFunction",
    "Average",
    "Count",
    "Minimum",
    "Maximum",
    *(f"percentile_Average_{p}" for p in _DURATION_PCTS),
)
_MEMORY_PCTS = (1, 5, 25, 50, 75, 95, 99, 100)
#: Columns of the 2019 application-memory percentile files (MB).
AZURE_2019_MEMORY_COLUMNS: tuple[str, ...] = (
    "HashOwner",
    "HashApp",
    "SampleCount",
    "AverageAllocatedMb",
    *(f"AverageAllocatedMb_pct{p}" for p in _MEMORY_PCTS),
)
_SAMPLE = ("data", "azure_functions_2021", "Azure2021_200.csv")


def _name(source: Source) -> str:
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    return str(getattr(source, "name", "<stream>"))


def _read(source: Source, required: Sequence[str], what: str, **kwargs: object) -> pd.DataFrame:
    """Read a CSV and check that ``required`` columns are there, naming the file if not."""
    try:
        df = pd.read_csv(source, **kwargs)  # type: ignore[call-overload]
    except FileNotFoundError as err:
        raise FileNotFoundError(f"{what} file not found: {_name(source)}") from err
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise BadInput(
            f"{_name(source)} is not a {what} file: missing columns {missing} "
            f"(it has {list(df.columns)[:12]}{'...' if len(df.columns) > 12 else ''})"
        )
    return df


def _numeric(df: pd.DataFrame, columns: Sequence[str], source: Source) -> None:
    """Raise if any of ``columns`` holds non-numbers, NaN or infinities."""
    for c in columns:
        values = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise BadInput(
                f"{_name(source)}: column {c!r} must hold finite numbers; row {row} has "
                f"{df[c].iloc[row]!r}"
            )
        df[c] = values


def _categorical(values: np.ndarray, index: np.ndarray) -> pd.Categorical:
    """``values[index]`` as a categorical, without building a large object array."""
    uniques, codes = np.unique(values.astype(str), return_inverse=True)
    return pd.Categorical.from_codes(codes[index], categories=pd.Index(uniques, dtype=object))


# --------------------------------------------------------------------------------------------------
# 2021: one row per invocation
# --------------------------------------------------------------------------------------------------


def read_azure_2021(source: Source, *, start_at_zero: bool = False) -> pd.DataFrame:
    """Read a 2021 per-invocation trace (``app,func,end_timestamp,duration``, seconds).

    Parameters
    ----------
    source
        Path or open file of the CSV.
    start_at_zero
        Shift all times so that the first invocation starts at 0 s.

    Returns
    -------
    pandas.DataFrame
        ``arrival_s`` (= end - duration), ``duration_s``, ``app``, ``func`` (categoricals), one
        row per invocation, sorted by ``arrival_s`` (ties keep the file's order).
    """
    df = _read(source, AZURE_2021_COLUMNS, "Azure Functions 2021 invocation trace")
    _numeric(df, ["end_timestamp", "duration"], source)
    if (df["duration"] < 0).any():
        row = int(np.flatnonzero(df["duration"].to_numpy() < 0)[0])
        raise BadInput(f"{_name(source)}: duration must be >= 0; row {row} has a negative one")
    end = df["end_timestamp"].to_numpy(dtype=float)
    duration = df["duration"].to_numpy(dtype=float)
    arrival = end - duration
    order = np.argsort(arrival, kind="stable")
    if start_at_zero and arrival.size:
        arrival = arrival - arrival.min()
    idx = np.arange(len(df))[order]
    return pd.DataFrame(
        {
            "arrival_s": arrival[order],
            "duration_s": duration[order],
            "app": _categorical(df["app"].to_numpy(), idx),
            "func": _categorical(df["func"].to_numpy(), idx),
        }
    )


def load_azure_2021_sample() -> pd.DataFrame:
    """The 199-invocation, 13-application, 21-minute sample of the 2021 trace shipped with simlab.

    Source: Azure Public Dataset, AzureFunctionsInvocationTrace2021 (CC BY 4.0), as cut by the
    vhive-serverless/invitro repository; times shifted to start at 0. See
    ``simlab/data/azure_functions_2021/README.md``.
    """
    resource = files("simlab").joinpath(*_SAMPLE)
    with resource.open("rb") as fh:
        return read_azure_2021(fh)


# --------------------------------------------------------------------------------------------------
# 2019: counts per minute
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MinuteCounts:
    """Invocations per minute of each function (a 2019 ``invocations_per_function`` file).

    Attributes
    ----------
    functions
        One row per function: ``owner``, ``app``, ``func``, ``trigger``.
    counts
        Integer array of shape (functions, minutes): ``counts[i, m]`` invocations of function ``i``
        in minute ``m`` (minute 0 is the file's column ``1``).
    """

    functions: pd.DataFrame
    counts: np.ndarray

    def __post_init__(self) -> None:
        c = self.counts
        if c.ndim != 2 or c.shape[0] != len(self.functions):
            raise BadInput(
                f"counts must have shape (functions={len(self.functions)}, minutes), got {c.shape}"
            )
        if not np.issubdtype(c.dtype, np.integer) or (c < 0).any():
            raise BadInput("counts must be whole numbers >= 0")

    @property
    def n_minutes(self) -> int:
        """Number of minutes covered."""
        return int(self.counts.shape[1])

    def total(self) -> int:
        """Total number of invocations."""
        return int(self.counts.sum())

    def subset(self, rows: np.ndarray | Sequence[int] | Sequence[bool]) -> MinuteCounts:
        """Keep some functions (a boolean mask or positions), e.g. the busiest few for a lesson."""
        sel = np.asarray(rows)
        if sel.dtype == bool and sel.shape != (len(self.functions),):
            raise BadInput(f"a boolean mask must have {len(self.functions)} entries")
        return MinuteCounts(self.functions.iloc[sel].reset_index(drop=True), self.counts[sel])


def read_azure_2019_invocations(source: Source) -> MinuteCounts:
    """Read a 2019 invocations-per-minute file (``HashOwner,HashApp,HashFunction,Trigger,1..1440``).

    The minute columns must be ``1`` to ``N`` without gaps (1,440 in the real files: one day).
    """
    what = "Azure Functions 2019 invocations-per-minute"
    df = _read(
        source,
        AZURE_2019_INVOCATION_KEYS,
        what,
        dtype=dict.fromkeys(AZURE_2019_INVOCATION_KEYS, str),
    )
    minute_cols = [c for c in df.columns if str(c).isdigit()]
    if not minute_cols:
        raise BadInput(
            f"{_name(source)} is not a {what} file: missing columns ['1', ..., '1440']"
        )
    last = max(int(c) for c in minute_cols)
    missing = sorted(set(range(1, last + 1)) - {int(c) for c in minute_cols})
    if missing:
        raise BadInput(
            f"{_name(source)}: missing minute columns {[str(m) for m in missing[:20]]}"
        )
    ordered = [str(m) for m in range(1, last + 1)]
    try:
        values = df[ordered].to_numpy(dtype=float)
    except (TypeError, ValueError):  # text in a count column: find it for the error below
        values = df[ordered].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0) | (values != np.floor(values))
    if bad.any():
        row, col = (int(x[0]) for x in np.nonzero(bad))
        raise BadInput(
            f"{_name(source)}: counts must be whole numbers >= 0; row {row}, minute column "
            f"{ordered[col]!r} has {df[ordered[col]].iloc[row]!r}"
        )
    functions = pd.DataFrame(
        {
            "owner": df["HashOwner"].astype(str).to_numpy(),
            "app": df["HashApp"].astype(str).to_numpy(),
            "func": df["HashFunction"].astype(str).to_numpy(),
            "trigger": df["Trigger"].astype(str).to_numpy(),
        }
    )
    return MinuteCounts(functions, values.astype(np.int64))


def arrivals_from_counts(
    counts: MinuteCounts,
    rng: np.random.Generator,
    *,
    spread: Literal["uniform", "even"] = "uniform",
    offset_s: float = 0.0,
) -> pd.DataFrame:
    """Turn per-minute counts into arrival times.

    Parameters
    ----------
    counts
        From :func:`read_azure_2019_invocations` (use ``counts.subset(...)`` for a few functions:
        a full day of the real trace holds hundreds of millions of invocations).
    rng
        Draws the times within each minute (``spread='uniform'``); unused for ``'even'``.
    spread
        ``'uniform'``: each of a minute's ``c`` invocations at an independent uniform time in the
        minute. ``'even'``: at ``(j + 0.5) * 60 / c`` seconds into the minute, ``j = 0..c-1``.
    offset_s
        Added to every time (for example ``86_400`` for the second day's file).

    Returns
    -------
    pandas.DataFrame
        ``arrival_s``, ``app``, ``func``, ``trigger`` (categoricals), sorted by ``arrival_s``.
    """
    if not isinstance(counts, MinuteCounts):
        raise BadInput(f"counts must be a MinuteCounts, got {type(counts).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise BadInput(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if spread not in ("uniform", "even"):
        raise BadInput(f"spread must be 'uniform' or 'even', got {spread!r}")
    offset_s = validate.real("offset_s", offset_s, unit="seconds")
    flat = counts.counts.ravel()  # function-major: cell k is function k // M, minute k % M
    n = int(flat.sum())
    cell = np.repeat(np.arange(flat.size), flat)
    func_idx, minute = np.divmod(cell, counts.n_minutes)
    if spread == "uniform":
        within = rng.random(n) * 60.0
    else:
        first = np.cumsum(flat) - flat  # position of each cell's first invocation
        j = np.arange(n) - first[cell]
        within = (j + 0.5) * 60.0 / flat[cell]
    arrival = offset_s + minute * 60.0 + within
    order = np.argsort(arrival, kind="stable")
    f = counts.functions
    return pd.DataFrame(
        {
            "arrival_s": arrival[order],
            "app": _categorical(f["app"].to_numpy(), func_idx[order]),
            "func": _categorical(f["func"].to_numpy(), func_idx[order]),
            "trigger": _categorical(f["trigger"].to_numpy(), func_idx[order]),
        }
    )


def attach_durations(
    arrivals: pd.DataFrame,
    distributions: dict[tuple[str, str], QuantileDistribution],
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Add a ``duration_s`` column drawn from each invocation's function distribution.

    Turns :func:`arrivals_from_counts` output into the replay table of the 2021 reader
    (``arrival_s, duration_s, app, func, ...``). Functions are visited in sorted (app, func) order,
    so the draws depend only on ``rng``'s state.

    Raises
    ------
    ValueError
        If some function of ``arrivals`` has no distribution (the real files do not cover all).
    """
    if not isinstance(rng, np.random.Generator):
        raise BadInput(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    groups = arrivals.groupby(["app", "func"], observed=True, sort=True).indices
    missing = [k for k in groups if k not in distributions]
    if missing:
        raise BadInput(
            f"no duration distribution for {len(missing)} of {len(groups)} functions, for "
            f"example {missing[0]}; drop them with counts.subset(...) first"
        )
    duration = np.empty(len(arrivals))
    for key, idx in groups.items():
        duration[idx] = distributions[key].sample(rng, idx.size)
    out = arrivals.copy()
    out.insert(1, "duration_s", duration)
    return out


# --------------------------------------------------------------------------------------------------
# 2019: duration and memory percentiles
# --------------------------------------------------------------------------------------------------


def read_azure_2019_durations(source: Source) -> pd.DataFrame:
    """Read a 2019 function-duration file (milliseconds) into tidy columns.

    Returns
    -------
    pandas.DataFrame
        ``owner, app, func, average_ms, count, minimum_ms, maximum_ms, p0_ms, p1_ms, p25_ms,
        p50_ms, p75_ms, p99_ms, p100_ms``: one row per function.
    """
    df = _read(source, AZURE_2019_DURATION_COLUMNS, "Azure Functions 2019 duration percentiles")
    numbers = AZURE_2019_DURATION_COLUMNS[3:]
    _numeric(df, numbers, source)
    names = ["average_ms", "count", "minimum_ms", "maximum_ms"]
    names += [f"p{p}_ms" for p in _DURATION_PCTS]
    out = pd.DataFrame({"owner": df["HashOwner"], "app": df["HashApp"], "func": df["HashFunction"]})
    for new, old in zip(names, numbers, strict=True):
        out[new] = df[old].to_numpy()
    out["count"] = out["count"].astype(np.int64)
    return out.astype({"owner": str, "app": str, "func": str})


def duration_distributions(durations: pd.DataFrame) -> dict[tuple[str, str], QuantileDistribution]:
    """Per-function duration distributions in **seconds**, keyed by ``(app, func)``.

    Built from the 0th to 100th percentiles of :func:`read_azure_2019_durations`. These are
    percentiles of per-interval *average* execution times, weighted by invocations, so the tails
    are narrower than those of single invocations; the dataset has nothing finer.
    """
    cols = [f"p{p}_ms" for p in _DURATION_PCTS]
    missing = [c for c in ["app", "func", *cols] if c not in durations.columns]
    if missing:
        raise BadInput(f"durations is missing columns {missing}; use read_azure_2019_durations")
    keys = list(zip(durations["app"], durations["func"], strict=True))
    if len(set(keys)) != len(keys):
        raise BadInput("durations has several rows for one (app, func)")
    probs = np.array(_DURATION_PCTS) / 100
    values = durations[cols].to_numpy(dtype=float) / 1000.0
    out: dict[tuple[str, str], QuantileDistribution] = {}
    for key, row in zip(keys, values, strict=True):
        try:
            out[key] = QuantileDistribution(probs, row)
        except ValueError as err:
            raise BadInput(f"function {key}: {err}") from err
    return out


def read_azure_2019_memory(source: Source) -> pd.DataFrame:
    """Read a 2019 application-memory file (MB) into tidy columns.

    Returns
    -------
    pandas.DataFrame
        ``owner, app, sample_count, average_mb, p1_mb, p5_mb, p25_mb, p50_mb, p75_mb, p95_mb,
        p99_mb, p100_mb`` (and ``func`` when the file has ``HashFunction``).
    """
    df = _read(source, AZURE_2019_MEMORY_COLUMNS, "Azure Functions 2019 memory percentiles")
    numbers = AZURE_2019_MEMORY_COLUMNS[2:]
    _numeric(df, numbers, source)
    out = pd.DataFrame({"owner": df["HashOwner"].astype(str), "app": df["HashApp"].astype(str)})
    if "HashFunction" in df.columns:
        out["func"] = df["HashFunction"].astype(str)
    names = ["sample_count", "average_mb", *(f"p{p}_mb" for p in _MEMORY_PCTS)]
    for new, old in zip(names, numbers, strict=True):
        out[new] = df[old].to_numpy()
    out["sample_count"] = out["sample_count"].astype(np.int64)
    return out


def memory_distributions(memory: pd.DataFrame) -> dict[str, QuantileDistribution]:
    """Per-application allocated-memory distributions (MB), keyed by ``app``.

    Built from the 1st to 100th percentiles of :func:`read_azure_2019_memory`; below the 1st
    percentile the quantile function stays at the 1st percentile's value.
    """
    cols = [f"p{p}_mb" for p in _MEMORY_PCTS]
    missing = [c for c in ["app", *cols] if c not in memory.columns]
    if missing:
        raise BadInput(f"memory is missing columns {missing}; use read_azure_2019_memory")
    if memory["app"].duplicated().any():
        raise BadInput("memory has several rows for one app")
    probs = np.array(_MEMORY_PCTS) / 100
    out: dict[str, QuantileDistribution] = {}
    for app, row in zip(memory["app"], memory[cols].to_numpy(dtype=float), strict=True):
        try:
            out[app] = QuantileDistribution(probs, row)
        except ValueError as err:
            raise BadInput(f"app {app!r}: {err}") from err
    return out
