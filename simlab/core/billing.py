"""Billing: what a run costs, computed from its records alone.

Lambda bills *use*, not servers. Each invocation costs a request fee plus its *billed duration*
times the function's configured memory, in GB-seconds (GB = MB / 1024). The billed duration is
the run time rounded **up** to the billing granularity: to the next 100 ms until November 2020
(a 27.40 ms run billed 100 ms), to the next 1 ms since December 2020 (27.55 ms billed 28 ms).
The rounding is paid by the customer and kept by the provider; this module lets a lesson choose
any granularity and see who gains.

What else is billed, and when, depends on the date (see :mod:`simlab.core.prices` for the price
sheets):

* INIT (the cold start) is billed for container images, custom runtimes (``provided.*``) and
  provisioned concurrency; for on-demand ZIP functions on AWS's managed runtimes only from
  1 August 2025 (before, INIT was free for them). Billed INIT is added to the duration before
  rounding (an image's 1293.83 ms INIT + 1049.63 ms run bills 2344 ms).
* Throttled and dropped requests never ran and are not billed at all. Every other attempt is a
  request, including errors, timeouts and async retries.
* Provisioned concurrency (PC): a price per GB-s *configured* for as long as it is enabled,
  rounded up to 5-minute blocks, plus a lower duration price for invocations it serves.
  Invocations beyond it ("spillover") pay on-demand rates.
* Ephemeral storage beyond the free 512 MB: GB-s of extra storage over the billed duration.
* Volume tiers (since August 2022) apply to the month's total on-demand GB-s of each
  architecture; the discount is shared among functions in proportion to their GB-s.
* The free tier, 1,000,000 requests and 400,000 GB-s a month per account, does not apply to
  functions with PC. It is shared among the eligible functions in proportion to their requests
  and on-demand GB-s, and GB-s credits are valued at the first-tier price (the free GB-s are the
  first of the month).

Months: tiers and the free tier are monthly. A run is treated as ``months`` months of use
(default 1: the records are the whole month, as in AWS's worked examples). For a one-hour run
that stands for one hour of a month, pass ``months=run_seconds / SECONDS_PER_MONTH`` to prorate
the allowances and tier thresholds.

Records may carry a ``count`` column: a row then stands for ``count`` identical invocations,
which lets a lesson price 60 million invocations without 60 million rows.

Examples
--------
>>> import pandas as pd
>>> functions = pd.DataFrame({"function": ["f"], "memory_mb": [1024], "architecture": ["x86_64"],
...     "runtime": ["python3.12"], "package_type": ["zip"], "ephemeral_storage_mb": [512],
...     "provisioned_concurrency": [0]})
>>> invocations = pd.DataFrame({"function": ["f"], "status": ["ok"], "duration_ms": [101.0],
...     "init_ms": [0.0], "count": [1_000_000]})
>>> b = bill(invocations, functions, date="2020", granularity_ms=100, free_tier=False)
>>> round(total_cost(b), 2)  # 1M requests ($0.20) + 200,000 GB-s ($3.33)
3.53
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from simlab.core import validate
from simlab.core.prices import (
    ARCHITECTURES,
    INIT_BILLED_FOR_ZIP_FROM,
    ONE_MS_BILLING_FROM,
    PriceSheet,
    Tier,
    as_date,
    granularity_ms_for,
    init_billed,
    price_sheet_for,
)
from simlab.core.schema import STATUSES

__all__ = [
    "FREE_EPHEMERAL_MB",
    "GRANULARITY_RANGE_MS",
    "INIT_BILLED_FOR_ZIP_FROM",
    "ITEMS",
    "NOT_BILLED_STATUSES",
    "ONE_MS_BILLING_FROM",
    "PROVISIONED_BLOCK_S",
    "SECONDS_PER_MONTH",
    "bill",
    "billed_duration_ms",
    "granularity_ms_for",
    "init_billed",
    "price_invocations",
    "total_cost",
]

#: Provisioned concurrency is metered in blocks of this many seconds (5 minutes), rounded up.
PROVISIONED_BLOCK_S: float = 300.0
#: Ephemeral storage included in the price; more is billed.
FREE_EPHEMERAL_MB: int = 512
_MAX_EPHEMERAL_MB = 10_240
#: A billing month as AWS's pricing examples count it (730 hours).
SECONDS_PER_MONTH: float = 730 * 3600.0
#: Statuses of requests that never ran and cost nothing.
NOT_BILLED_STATUSES: tuple[str, ...] = ("throttled", "dropped")
#: Granularities accepted, in ms (as simlab.core.config accepts): up to 1 hour.
GRANULARITY_RANGE_MS: tuple[float, float] = (1e-9, 3_600_000.0)
#: The line items of a bill, in the order they are listed.
ITEMS: tuple[str, ...] = (
    "requests",
    "duration",
    "provisioned_duration",
    "provisioned",
    "ephemeral_storage",
    "free_tier_credit_requests",
    "free_tier_credit_duration",
)
_FUNCTION_COLUMNS = (
    "function",
    "memory_mb",
    "architecture",
    "runtime",
    "package_type",
    "ephemeral_storage_mb",
    "provisioned_concurrency",
)


def _number(name: str, value: Any, what: str, ok: Callable[[float], bool]) -> float:
    """Return ``value`` as a float if it is a finite number for which ``ok`` holds, else raise."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        raise TypeError(f"{name} must be {what}, got {value!r}")
    v = float(value)
    if not (math.isfinite(v) and ok(v)):
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return v


def _positive(v: float) -> bool:
    return v > 0


def _check_granularity(granularity_ms: Any) -> float:
    lo, hi = GRANULARITY_RANGE_MS
    what = f"a finite number of milliseconds from {lo:g} to {hi:,.0f} (1 hour)"
    return _number("granularity_ms", granularity_ms, what, lambda v: lo <= v <= hi)


def billed_duration_ms(duration_ms: ArrayLike, granularity_ms: float) -> float | np.ndarray:
    """Round durations up to the billing granularity, with a minimum of one granule.

    Parameters
    ----------
    duration_ms
        A duration or an array of durations in ms, each finite and >= 0.
    granularity_ms
        The granule in ms (100 and 1 are AWS's; any value in GRANULARITY_RANGE_MS).

    Returns
    -------
    float or numpy.ndarray
        Billed ms, a whole number of granules, never below the duration (exactly, in floating
        point) and never a granule above it. A run of 0 ms bills one granule (the 100 ms era's
        documented minimum; real runs are never 0 ms long).

    Examples
    --------
    >>> billed_duration_ms([101.0, 200.0, 27.40], 100)
    array([200., 200., 100.])
    >>> billed_duration_ms(27.55, 1)
    28.0
    """
    g = _check_granularity(granularity_ms)
    d = np.asarray(duration_ms, dtype=float)
    bad = ~np.isfinite(d) | (d < 0)
    if bad.any():
        raise ValueError(
            f"duration_ms must be finite and >= 0, got {d[bad].flat[0]!r} "
            f"({int(bad.sum())} bad value(s))"
        )
    n = np.maximum(np.ceil(d / g), 1.0)
    # d / g may be off by an ulp: step down or up one granule where the quotient misled ceil.
    n = np.where((n > 1) & ((n - 1) * g >= d), n - 1, n)
    n = np.where(n * g < d, n + 1, n)
    out = n * g
    return float(out) if out.ndim == 0 else out


def checked_functions(functions: pd.DataFrame) -> pd.DataFrame:
    """Validate the FUNCTIONS table and return it indexed by function name (for billing and
    :mod:`simlab.core.provider`)."""
    validate.frame("functions", functions, _FUNCTION_COLUMNS)
    if functions["function"].duplicated().any():
        dup = functions["function"][functions["function"].duplicated()].iloc[0]
        raise ValueError(f"functions.function must be unique, {dup!r} appears twice")
    f = functions.set_index("function")[list(_FUNCTION_COLUMNS[1:])]
    checks = {
        "memory_mb": (f["memory_mb"] > 0, "a positive number of MB"),
        "architecture": (f["architecture"].isin(ARCHITECTURES), f"one of {ARCHITECTURES}"),
        "package_type": (f["package_type"].isin(("zip", "image")), "'zip' or 'image'"),
        "ephemeral_storage_mb": (
            f["ephemeral_storage_mb"].between(FREE_EPHEMERAL_MB, _MAX_EPHEMERAL_MB),
            f"from {FREE_EPHEMERAL_MB} to {_MAX_EPHEMERAL_MB} MB",
        ),
        "provisioned_concurrency": (
            (f["provisioned_concurrency"] >= 0) & (f["provisioned_concurrency"] % 1 == 0),
            "a whole number >= 0",
        ),
    }
    for column, (ok, what) in checks.items():
        if not ok.all():
            name = ok.index[~ok.to_numpy()][0]
            raise ValueError(
                f"functions.{column} must be {what}; function {name!r} has {f.at[name, column]!r}"
            )
    return f


def _require(ok: np.ndarray, column: str, values: Any, what: str) -> None:
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        value = values.iloc[i] if isinstance(values, pd.Series) else values[i]
        raise ValueError(f"invocations.{column} must be {what}; row {i} has {value!r}")


def _encode(values: pd.Series, categories: Any) -> np.ndarray:
    """Return the position of each value in ``categories`` (-1 if absent), fast on strings."""
    codes, uniques = pd.factorize(values)
    lookup = np.append(pd.Index(categories).get_indexer(uniques), -1)
    return lookup[codes]


def record_arrays(
    invocations: pd.DataFrame, funcs: pd.DataFrame, day: dt.date, granularity_ms: float
) -> dict[str, np.ndarray]:
    """Validate the INVOCATIONS table; return per-row arrays of what billing (and
    :mod:`simlab.core.provider`) needs.

    ``fcode`` indexes ``funcs``, ``acode`` indexes ARCHITECTURES. Rows that are not billed have
    ``count`` 0, so every GB-s and request total can be a plain weighted sum.
    """
    g = _check_granularity(granularity_ms)
    validate.frame("invocations", invocations, ("function", "status", "duration_ms", "init_ms"))
    n = len(invocations)
    fcode = _encode(invocations["function"], funcs.index)
    _require(fcode >= 0, "function", invocations["function"], "a function listed in functions")
    scode = _encode(invocations["status"], STATUSES)
    _require(scode >= 0, "status", invocations["status"], f"one of {STATUSES}")
    billed = ~np.isin(scode, [STATUSES.index(x) for x in NOT_BILLED_STATUSES])

    def column(col: str, default: np.ndarray) -> np.ndarray:
        return invocations[col].to_numpy() if col in invocations else default

    own_acode = pd.Index(ARCHITECTURES).get_indexer(funcs["architecture"])
    if "architecture" in invocations:
        arch = invocations["architecture"]
        acode = _encode(arch, ARCHITECTURES)
        _require((acode >= 0) | ~billed, "architecture", arch, f"one of {ARCHITECTURES}")
    else:
        acode = own_acode[fcode]
    provisioned = column("provisioned", np.zeros(n, dtype=bool))
    _require(np.isin(provisioned, (True, False)), "provisioned", provisioned, "True or False")
    provisioned = provisioned.astype(bool)
    memory = column("memory_mb", funcs["memory_mb"].to_numpy()[fcode]).astype(float)
    count = column("count", np.ones(n)).astype(float)
    duration = invocations["duration_ms"].to_numpy(dtype=float)
    init = invocations["init_ms"].to_numpy(dtype=float)
    for col, values in (("duration_ms", duration), ("init_ms", init)):
        ok = (np.isfinite(values) & (values >= 0)) | ~billed
        _require(ok, col, values, "finite and >= 0 on billed rows")
    _require(np.isfinite(memory) & (memory > 0) | ~billed, "memory_mb", memory, "> 0")
    whole = np.isfinite(count) & (count >= 0) & (count % 1 == 0)
    _require(whole, "count", count, "a whole number >= 0")

    pkg, runtime = funcs["package_type"].to_numpy(), funcs["runtime"].to_numpy()
    rule = np.array(
        [
            [init_billed(day, pkg[i], runtime[i], pc) for pc in (False, True)]
            for i in range(len(pkg))
        ]
    ).reshape(len(pkg), 2)
    init_is_billed = rule[fcode, provisioned.astype(int)]
    run_ms = np.where(billed, duration + np.where(init_is_billed, init, 0.0), 0.0)
    billed_ms = np.zeros(n)
    billed_ms[billed] = billed_duration_ms(run_ms[billed], g)
    count = np.where(billed, count, 0.0)
    gb_times_count = memory / 1024.0 * count / 1000.0  # GB per ms of all the row's invocations
    return {
        "fcode": fcode,
        "acode": np.where(billed, acode, 0),
        "provisioned": provisioned,
        "billed": billed,
        "count": count,
        "billed_ms": billed_ms,
        "billed_s": billed_ms * count / 1000.0,
        "billed_gb_s": np.where(billed, billed_ms * gb_times_count, 0.0),
        "run_gb_s": np.where(billed, run_ms * gb_times_count, 0.0),
        "unbilled_init_gb_s": np.where(billed & ~init_is_billed, init * gb_times_count, 0.0),
    }


def _sheet(date: dt.date | str, prices: PriceSheet | None) -> tuple[dt.date, PriceSheet]:
    day = as_date(date)
    if prices is None:
        return day, price_sheet_for(day)
    if not isinstance(prices, PriceSheet):
        raise TypeError(f"prices must be a PriceSheet or None, got {type(prices).__name__}")
    return day, prices


def price_invocations(
    invocations: pd.DataFrame,
    functions: pd.DataFrame,
    *,
    date: dt.date | str,
    granularity_ms: float,
    prices: PriceSheet | None = None,
) -> pd.DataFrame:
    """Return each invocation's billed duration and list price.

    Parameters
    ----------
    invocations, functions
        The INVOCATIONS and FUNCTIONS tables (see :mod:`simlab.core.schema`).
    date
        Date, ISO string or era name: chooses the price sheet (unless ``prices`` is given) and
        whether INIT is billed.
    granularity_ms
        Billing granularity in ms.
    prices
        A price sheet to use instead of the one in effect on ``date``.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``invocations``, with ``billed_ms`` (per invocation; 0 for throttled and
        dropped rows) and ``cost_usd`` (the row's request fee + billed GB-s at the first-tier or
        provisioned duration price + extra ephemeral storage, times ``count`` if given). The free
        tier, volume tiers and the provisioned-concurrency charge are monthly, account-wide
        amounts, so they appear only in :func:`bill`.
    """
    day, sheet = _sheet(date, prices)
    funcs = checked_functions(functions)
    r = record_arrays(invocations, funcs, day, granularity_ms)
    on_demand, on_pc = np.zeros(len(ARCHITECTURES)), np.zeros(len(ARCHITECTURES))
    for a, arch in enumerate(ARCHITECTURES):
        used = r["billed"] & (r["acode"] == a)
        if used.any():
            on_demand[a] = sheet.arch(arch).first_tier_price
        if (used & r["provisioned"]).any():
            on_pc[a] = sheet.provisioned(arch)[1]
    price = np.where(r["provisioned"], on_pc[r["acode"]], on_demand[r["acode"]])
    extra_gb = (funcs["ephemeral_storage_mb"].to_numpy(dtype=float) - FREE_EPHEMERAL_MB) / 1024.0
    extra_gb_s = extra_gb[r["fcode"]] * r["billed_s"]
    storage = sheet.ephemeral_price() * extra_gb_s if (extra_gb_s > 0).any() else 0.0
    cost = r["count"] * sheet.request_price + r["billed_gb_s"] * price + storage
    return pd.DataFrame({"billed_ms": r["billed_ms"], "cost_usd": cost}, index=invocations.index)


def _tiered_cost(total_gb_s: float, tiers: tuple[Tier, ...], months: float) -> float:
    """Cost of ``total_gb_s`` on-demand GB-s over ``months`` months of volume tiers."""
    cost, lower = 0.0, 0.0
    for tier in tiers:
        upper = tier.up_to_gb_s * months
        portion = min(total_gb_s, upper) - lower
        if portion <= 0:
            break
        cost += portion * tier.price_per_gb_s
        lower = upper
    return cost


def _share(allowance: float, weights: np.ndarray) -> np.ndarray:
    """Split min(allowance, total weight) in proportion to ``weights`` (zeros if they sum to 0)."""
    total = float(weights.sum())
    return weights * (min(allowance, total) / total) if total > 0 else weights * 0.0


def bill(
    invocations: pd.DataFrame,
    functions: pd.DataFrame,
    *,
    date: dt.date | str,
    granularity_ms: float,
    prices: PriceSheet | None = None,
    free_tier: bool = True,
    run_seconds: float | None = None,
    months: float = 1.0,
    provisioned_gb_s: dict[str, float] | None = None,
    provisioned_init_gb_s: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Return the bill of a run: one row per function, architecture and line item.

    Parameters
    ----------
    invocations, functions
        The INVOCATIONS and FUNCTIONS tables (see :mod:`simlab.core.schema`); an optional
        ``count`` column in ``invocations`` makes a row stand for that many invocations.
    date
        Date, ISO string or era name; chooses the price sheet and the INIT billing rule.
    granularity_ms
        Billing granularity in ms (see :func:`granularity_ms_for` for the real platform's).
    prices
        A price sheet to use instead of the one in effect on ``date``.
    free_tier
        Apply the monthly free tier.
    run_seconds
        How long provisioned concurrency was configured (the run's length), in s. Required when
        a function has provisioned concurrency; billed in 5-minute blocks, rounded up.
    months
        How many months of use the records stand for (scales the free tier and the tier
        thresholds); 1 treats the records as one whole month.
    provisioned_gb_s
        Provisioned concurrency actually configured, per function: GB-s (concurrency x memory GB
        x seconds, each configured span already rounded up to 5-minute blocks), for runs whose
        provisioned concurrency changed. When given, it replaces ``provisioned_concurrency`` x
        ``run_seconds`` and decides which functions had provisioned concurrency (no free tier).
    provisioned_init_gb_s
        INIT of provisioned environments, per function (GB-s: INIT seconds x memory GB). Their
        INIT happens when the concurrency is allocated, outside any invocation, and is billed
        (LAMBDA_FACTS 1.4); it is added to ``provisioned_duration``, at that rate (AWS does not
        say at which rate; simlab assumes the provisioned duration price).

    Returns
    -------
    pandas.DataFrame
        Columns ``function``, ``architecture``, ``item`` (see :data:`ITEMS`), ``quantity``,
        ``unit``, ``unit_price_usd``, ``cost_usd``; credits are negative. ``quantity *
        unit_price_usd == cost_usd`` on every row (for tiered duration the unit price is the
        function's average). ``attrs`` records the sheet, date, granularity, months and
        free tier. Sum with :func:`total_cost`.
    """
    day, sheet = _sheet(date, prices)
    months = _number("months", months, "a positive finite number of months", _positive)
    if not isinstance(free_tier, bool | np.bool_):
        raise TypeError(f"free_tier must be True or False, got {free_tier!r}")
    funcs = checked_functions(functions)
    if provisioned_gb_s is not None:
        unknown = set(provisioned_gb_s) - set(funcs.index)
        if unknown:
            raise ValueError(
                f"provisioned_gb_s names functions not in the table: {sorted(unknown)}"
            )
        for f, v in provisioned_gb_s.items():
            _number(f"provisioned_gb_s[{f!r}]", v, "a finite number of GB-s >= 0",
                    lambda x: math.isfinite(x) and x >= 0)
        has_pc = pd.Series([provisioned_gb_s.get(f, 0.0) > 0 for f in funcs.index],
                           index=funcs.index)
    else:
        has_pc = funcs["provisioned_concurrency"] > 0
    if run_seconds is None and has_pc.any() and provisioned_gb_s is None:
        raise ValueError(
            "run_seconds is required (how long provisioned concurrency was on, e.g. the run's "
            f"until_s) because function {has_pc.idxmax()!r} has provisioned concurrency"
        )
    if run_seconds is not None:
        what = "a positive finite number of seconds (how long provisioned concurrency was on)"
        run_seconds = _number("run_seconds", run_seconds, what, _positive)
    r = record_arrays(invocations, funcs, day, granularity_ms)
    nf, na = len(funcs), len(ARCHITECTURES)
    key = r["fcode"] * na + r["acode"]

    def per_key(weights: np.ndarray) -> np.ndarray:
        return np.bincount(key, weights=weights, minlength=nf * na).reshape(nf, na)

    requests = per_key(r["count"])
    od = per_key(np.where(r["provisioned"], 0.0, r["billed_gb_s"]))
    pc = per_key(np.where(r["provisioned"], r["billed_gb_s"], 0.0))
    billed_s = per_key(r["billed_s"])
    own_acode = pd.Index(ARCHITECTURES).get_indexer(funcs["architecture"])
    for f, v in (provisioned_init_gb_s or {}).items():
        if f not in funcs.index:
            raise ValueError(f"provisioned_init_gb_s names a function not in the table: {f!r}")
        i = funcs.index.get_loc(f)
        pc[i, own_acode[i]] += _number(f"provisioned_init_gb_s[{f!r}]", v,
                                       "a finite number of GB-s >= 0",
                                       lambda x: math.isfinite(x) and x >= 0)
    own = np.zeros((nf, na), dtype=bool)
    own[np.arange(nf), own_acode] = True
    listed = own | (per_key(r["billed"].astype(float)) > 0)

    duration_cost = np.zeros((nf, na))
    for a, arch in enumerate(ARCHITECTURES):
        total = float(od[:, a].sum())
        if total > 0:
            cost = _tiered_cost(total, sheet.arch(arch).duration_tiers, months)
            duration_cost[:, a] = cost * od[:, a] / total
    eligible = ~has_pc.to_numpy()[:, None] & listed & bool(free_tier)
    free_req = _share(sheet.free_requests_per_month * months, np.where(eligible, requests, 0.0))
    free_gb_s = _share(sheet.free_gb_s_per_month * months, np.where(eligible, od, 0.0))

    rows: list[tuple[str, str, str, float, str, float, float]] = []

    def add(key: tuple[str, str], item: str, qty: float, unit: str, price: float) -> None:
        rows.append((*key, item, float(qty), unit, price, float(qty) * price))

    for i, f in enumerate(funcs.index):
        conf = funcs.iloc[i]
        for a in np.flatnonzero(listed[i]):
            arch = ARCHITECTURES[a]
            k = (f, arch)
            first = sheet.arch(arch).first_tier_price
            add(k, "requests", requests[i, a], "requests", sheet.request_price)
            add(
                k,
                "duration",
                od[i, a],
                "GB-s",
                duration_cost[i, a] / od[i, a] if od[i, a] else first,
            )
            pc_on = bool(has_pc.iloc[i]) and a == own_acode[i]
            if pc[i, a] > 0 or pc_on:
                pc_price, pc_duration_price = sheet.provisioned(arch)
                add(k, "provisioned_duration", pc[i, a], "GB-s", pc_duration_price)
                if pc_on:
                    if provisioned_gb_s is not None:
                        configured_gb_s = provisioned_gb_s[f]
                    else:
                        block_ms = PROVISIONED_BLOCK_S * 1000.0
                        on_s = billed_duration_ms(run_seconds * 1000.0, block_ms) / 1000.0
                        configured_gb_s = (conf["provisioned_concurrency"] * conf["memory_mb"]
                                           / 1024.0 * on_s)
                    add(k, "provisioned", configured_gb_s, "GB-s", pc_price)
            extra_gb = (conf["ephemeral_storage_mb"] - FREE_EPHEMERAL_MB) / 1024.0
            if extra_gb > 0:
                add(
                    k,
                    "ephemeral_storage",
                    extra_gb * billed_s[i, a],
                    "GB-s",
                    sheet.ephemeral_price(),
                )
            if eligible[i, a]:
                add(
                    k, "free_tier_credit_requests", -free_req[i, a], "requests", sheet.request_price
                )
                add(k, "free_tier_credit_duration", -free_gb_s[i, a], "GB-s", first)

    columns = ["function", "architecture", "item", "quantity", "unit", "unit_price_usd", "cost_usd"]
    out = pd.DataFrame(rows, columns=columns)
    out.attrs.update(
        price_sheet=sheet.name,
        date=day.isoformat(),
        granularity_ms=_check_granularity(granularity_ms),
        months=months,
        free_tier=bool(free_tier),
    )
    return out


def total_cost(bill_df: pd.DataFrame) -> float:
    """Return the total of a bill made by :func:`bill`, in USD."""
    if not isinstance(bill_df, pd.DataFrame) or "cost_usd" not in bill_df:
        raise TypeError("bill_df must be a DataFrame from simlab.billing.bill (with cost_usd)")
    return float(bill_df["cost_usd"].sum())
