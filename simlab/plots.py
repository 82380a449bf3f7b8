"""Figures of a run: what the platform did, drawn from its records.

Every function here takes a :class:`~simlab.result.Result` (or the record tables it holds), draws
on the matplotlib ``ax`` it is given (or on a new figure) and returns that Axes, so figures can be
combined and restyled. Axes carry labels with units; colours come from one colour-blind-safe
palette (Okabe and Ito's eight colours), each role (INIT, busy, idle, cold, each outcome) always
in the same colour across the course.

The figures, and what they teach:

* :func:`timeline`: a Gantt chart of execution environments grouped by host: INIT (the cold
  start), busy, idle (kept alive, waiting for reuse), then reclaimed. The picture of "containers on
  machines you never see".
* :func:`concurrency`: environments initialising or busy over time against the account limit and
  the function's reserved concurrency; where it touches a limit, requests are throttled.
* :func:`latency_cdf`: what callers waited, warm and cold requests apart.
* :func:`outcomes`: ok, error, throttled, timeout, oom and dropped requests per period.
* :func:`duration_vs_billed`: run time against billed time; the gap is the rounding paid.
* :func:`cost_breakdown`: a bill by function and line item.
* :func:`host_packing`: memory in use on each host over time, the provider's side.
* :func:`cold_start_vs_keep_alive`: simulated cold-start fractions with the theory curve
  ``exp(-lambda T)`` over them.

They are written for interactive use: one vectorised collection per kind of bar, no loop over
invocations, so a one-hour run at 10 requests/s redraws in a small fraction of a second.

>>> import simlab
>>> sim = simlab.Simulation(seed=1)
>>> _ = sim.add_function("f", duration_s=0.2)
>>> _ = sim.add_source(simlab.sources.Poisson(rate_per_s=0.05), target="f")
>>> ax = timeline(sim.run(until_s=600))
>>> ax.get_xlabel()
'time (s)'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path
from matplotlib.ticker import FuncFormatter

__all__ = [
    "OKABE_ITO", "COLORS", "timeline", "concurrency", "latency_cdf", "outcomes",
    "duration_vs_billed", "cost_breakdown", "host_packing", "cold_start_vs_keep_alive",
    "PlotAccessor",
]

#: Okabe & Ito (2008), "Color Universal Design": eight colours distinguishable with every common
#: form of colour blindness.
OKABE_ITO: dict[str, str] = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7",
}

#: The colour of each role, used by every figure.
COLORS: dict[str, str] = {
    "init": OKABE_ITO["orange"], "busy": OKABE_ITO["blue"], "idle": "#BFE1F6",
    "cold": OKABE_ITO["vermillion"], "warm": OKABE_ITO["blue"], "reclaimed": OKABE_ITO["black"],
    "killed": OKABE_ITO["reddish_purple"], "theory": OKABE_ITO["black"],
    "ok": OKABE_ITO["bluish_green"], "error": OKABE_ITO["vermillion"],
    "throttled": OKABE_ITO["orange"], "timeout": OKABE_ITO["reddish_purple"],
    "oom": OKABE_ITO["black"], "dropped": OKABE_ITO["yellow"],
    "account": OKABE_ITO["black"], "reserved": OKABE_ITO["vermillion"],
    "provisioned": OKABE_ITO["bluish_green"],
}

_STATUSES = ("ok", "error", "timeout", "oom", "throttled", "dropped")
_SERIES = [OKABE_ITO[k] for k in ("blue", "vermillion", "bluish_green", "orange",
                                  "reddish_purple", "sky_blue", "black", "yellow")]


# -- helpers ---------------------------------------------------------------------------------------
def _table(data: Any, name: str) -> pd.DataFrame:
    """The table ``name`` of ``data``: a Result, a mapping of tables, or the table itself."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, Mapping):
        if name not in data:
            raise ValueError(f"data must contain a {name!r} table, got keys {sorted(data)}")
        return data[name]
    table = getattr(data, name, None)
    if isinstance(table, pd.DataFrame):
        return table
    raise TypeError(f"data must be a simlab Result, a DataFrame or a dict of DataFrames with "
                    f"{name!r}, got {type(data).__name__}")


def _axes(ax: Axes | None, figsize: tuple[float, float] = (8.0, 4.0)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
        return ax
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def _time_unit(span_s: float) -> tuple[float, str]:
    """Divisor and unit that make a time axis of ``span_s`` seconds readable."""
    if span_s <= 600:
        return 1.0, "s"
    if span_s <= 5 * 3600:
        return 60.0, "min"
    return 3600.0, "h"


def _until(data: Any, *times: np.ndarray) -> float:
    until = getattr(data, "until_s", None)
    if isinstance(until, int | float) and until > 0:
        return float(until)
    ends = [float(np.nanmax(t)) for t in times if len(t)]
    return max(ends + [1.0])


def _by_function(table: pd.DataFrame, function: str | None) -> pd.DataFrame:
    if function is None:
        return table
    if "function" not in table or function not in set(table["function"]):
        raise ValueError(f"no function named {function!r} in the records")
    return table[(table["function"] == function).to_numpy()]


def _ran(inv: pd.DataFrame) -> np.ndarray:
    return ~inv["status"].isin(["throttled", "dropped"]).to_numpy()


def _merge(x0: np.ndarray, x1: np.ndarray, y: np.ndarray,
           tol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge bars on the same row that are closer than ``tol`` (below a pixel: looks the same)."""
    if len(x0) < 2:
        return x0, x1, y
    order = np.lexsort((x0, y))
    x0, x1, y = x0[order], x1[order], y[order]
    new_row = np.r_[True, y[1:] != y[:-1]]
    # Furthest end so far on each row (a running maximum per row).
    reach = pd.Series(x1).groupby(np.cumsum(new_row)).cummax().to_numpy()
    first = np.flatnonzero(new_row | np.r_[True, x0[1:] > reach[:-1] + tol])
    return x0[first], np.maximum.reduceat(x1, first), y[first]


_RECT_CODES = np.array([Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY],
                       dtype=Path.code_type)


def _bars(ax: Axes, x0: np.ndarray, x1: np.ndarray, y: np.ndarray, h: float, color: str,
          edge: float = 0.0, zorder: float = 2) -> None:
    """Rectangles [x0, x1] x [y - h/2, y + h/2] as one compound path: one artist, no loop."""
    if not len(x0):
        return
    n = len(x0)
    v = np.empty((n, 5, 2))
    v[:, 0, 0] = v[:, 3, 0] = v[:, 4, 0] = x0
    v[:, 1, 0] = v[:, 2, 0] = x1
    v[:, 0, 1] = v[:, 1, 1] = v[:, 4, 1] = y - h / 2
    v[:, 2, 1] = v[:, 3, 1] = y + h / 2
    path = Path(v.reshape(-1, 2), np.tile(_RECT_CODES, n))
    # An edge `edge` points wide keeps bars shorter than a pixel visible.
    # add_artist, not add_patch: the axis limits are set by the caller, not from every vertex.
    ax.add_artist(PathPatch(path, facecolor=color, edgecolor=color if edge else "none",
                            linewidth=edge, zorder=zorder, transform=ax.transData))


def _no_data(ax: Axes, what: str) -> Axes:
    ax.text(0.5, 0.5, f"no {what}", transform=ax.transAxes, ha="center", va="center",
            color="0.4")
    return ax


# -- timeline --------------------------------------------------------------------------------------
def timeline(data: Any, *, ax: Axes | None = None, max_environments: int | None = 40,
             function: str | None = None, start_s: float = 0.0,
             end_s: float | None = None) -> Axes:
    """Gantt chart of execution environments on their hosts.

    Each row is one environment, rows grouped by host (shaded bands). An environment is born with
    an INIT (orange, a cold start, marked by a triangle when a request waited for it), then is
    busy (blue) while it runs a request and idle (light blue) while kept alive; a cross marks
    where it was reclaimed, a diamond where it was killed (timeout or out of memory).

    Parameters
    ----------
    data
        A Result, or a mapping with ``environments`` and ``invocations`` tables.
    ax
        Axes to draw on; a new figure when ``None``.
    max_environments
        Show at most this many environments (the first created); ``None`` shows all.
    function
        Only this function's environments.
    start_s, end_s
        Time window shown (s); ``end_s`` defaults to the run's end.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if max_environments is not None and (isinstance(max_environments, bool) or not isinstance(
            max_environments, int) or max_environments < 1):
        raise ValueError(f"max_environments must be a whole number >= 1 or None, "
                         f"got {max_environments!r}")
    envs = _by_function(_table(data, "environments"), function)
    inv = _by_function(_table(data, "invocations"), function)
    end = _until(data, envs["ended_s"].to_numpy()) if end_s is None else float(end_s)
    if not end > start_s:
        raise ValueError(f"end_s must be after start_s ({start_s!r}), got {end_s!r}")
    ax = _axes(ax)
    scale, unit = _time_unit(end - start_s)
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel("execution environments, by host")
    ax.set_xlim(start_s / scale, end / scale)
    created = envs["created_s"].to_numpy()
    in_window = (created < end) & (envs["ended_s"].to_numpy() >= start_s)
    shown = envs[in_window]
    total = len(shown)
    if max_environments is not None and total > max_environments:
        shown = shown.iloc[np.argsort(shown["created_s"].to_numpy(), kind="stable")
                           [:max_environments]]
    if not len(shown):
        ax.set_yticks([])
        return _no_data(ax, "environments in this window")
    order = np.lexsort((shown["created_s"].to_numpy(), shown["host_id"].to_numpy()))
    shown = shown.iloc[order]
    host = shown["host_id"].to_numpy()
    # One row per environment, a gap of half a row between hosts.
    new_host = np.r_[False, host[1:] != host[:-1]]
    row = np.arange(len(shown)) + 0.5 * np.cumsum(new_host)
    c0, r0 = shown["created_s"].to_numpy() / scale, shown["ready_s"].to_numpy() / scale
    e1 = shown["ended_s"].to_numpy() / scale
    _bars(ax, c0, e1, row, 0.7, COLORS["idle"], zorder=1)
    _bars(ax, c0, r0, row, 0.7, COLORS["init"], edge=0.8, zorder=3)
    # Busy spans of the requests these environments served (vectorised lookup of the row).
    ids = shown["env_id"].to_numpy()
    row_of = pd.Series(row, index=ids)
    env = inv["env_id"].to_numpy()
    keep = np.isin(env, ids) & (inv["end_s"].to_numpy() >= start_s) & (
        inv["start_s"].to_numpy() - inv["init_ms"].to_numpy() / 1000.0 <= end)
    busy_rows = row_of.reindex(env[keep]).to_numpy()
    s0 = inv["start_s"].to_numpy()[keep] / scale
    _bars(ax, *_merge(s0, inv["end_s"].to_numpy()[keep] / scale, busy_rows,
                      (end - start_s) / scale / 4000), 0.7, COLORS["busy"], edge=0.6)
    cold = inv["cold"].to_numpy()[keep]
    ax.plot(s0[cold] - inv["init_ms"].to_numpy()[keep][cold] / 1000.0 / scale, busy_rows[cold],
            ls="", marker=">", ms=5, color=COLORS["cold"], zorder=4)
    reason = shown["end_reason"].astype(str).to_numpy()
    for reasons, marker, color in ((("idle_timeout", "max_lifetime"), "x", "reclaimed"),
                                   (("timeout", "oom"), "D", "killed")):
        m = np.isin(reason, reasons) & (e1 <= end / scale)
        ax.plot(e1[m], row[m], ls="", marker=marker, ms=5, color=COLORS[color], zorder=4)
    # Host bands and labels.
    first = np.r_[0, np.flatnonzero(new_host)]
    last = np.r_[first[1:] - 1, len(row) - 1]
    for k, (a, b) in enumerate(zip(first, last, strict=True)):
        if k % 2 == 0:
            ax.axhspan(row[a] - 0.45, row[b] + 0.45, color="0.93", zorder=0)
    ax.set_yticks((row[first] + row[last]) / 2, [f"host {h}" for h in host[first]])
    ax.set_ylim(row[-1] + 0.8, row[0] - 0.8)
    what = f"first {len(shown)} of {total}" if len(shown) < total else f"{total}"
    span = f"{start_s / scale:g} to {end / scale:g} {unit}"
    ax.set_title(f"Execution environments from {span} ({what})")
    handles = [Patch(color=COLORS["init"], label="INIT (cold start)"),
               Patch(color=COLORS["busy"], label="busy"),
               Patch(color=COLORS["idle"], label="idle (kept alive)"),
               Line2D([], [], ls="", marker=">", color=COLORS["cold"], label="cold request"),
               Line2D([], [], ls="", marker="x", color=COLORS["reclaimed"], label="reclaimed")]
    if np.isin(reason, ("timeout", "oom")).any():
        handles.append(Line2D([], [], ls="", marker="D", color=COLORS["killed"], label="killed"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
              frameon=False)
    return ax


# -- concurrency -----------------------------------------------------------------------------------
def concurrency(data: Any, *, ax: Axes | None = None, function: str | None = None,
                account_limit: int | None = None, show_limits: str = "auto") -> Axes:
    """Concurrency (environments initialising or busy) over time, against its limits.

    Parameters
    ----------
    data
        A Result, or a mapping with ``invocations`` (and optionally ``functions``) tables.
    ax
        Axes to draw on; a new figure when ``None``.
    function
        Only this function's concurrency (its reserved and provisioned concurrency are drawn).
    account_limit
        The account limit; by default the Result's ``rules.account_concurrency``.
    show_limits
        ``"auto"`` draws a limit when the curve reaches a tenth of it (otherwise it is named in the
        legend only, so the curve stays readable), ``"all"`` always, ``"none"`` never.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if show_limits not in ("auto", "all", "none"):
        raise ValueError(f"show_limits must be 'auto', 'all' or 'none', got {show_limits!r}")
    inv = _by_function(_table(data, "invocations"), function)
    ran = _ran(inv)
    a = (inv["start_s"].to_numpy() - inv["init_ms"].to_numpy() / 1000.0)[ran]
    b = inv["end_s"].to_numpy()[ran]
    until = _until(data, b)
    scale, unit = _time_unit(until)
    ax = _axes(ax)
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel("concurrency (environments)")
    times = np.concatenate([[0.0], a, b])
    steps = np.concatenate([[0], np.ones(len(a), int), -np.ones(len(b), int)])
    order = np.lexsort((steps, times))
    level = np.cumsum(steps[order])
    t = times[order]
    peak = int(level.max())
    if len(t) <= 2 * _ENVELOPE_BINS:
        ax.step(np.append(t, until) / scale, np.append(level, level[-1]), where="post",
                color=COLORS["busy"], lw=1, label="concurrency")
    else:  # more steps than pixels: draw each time bin's range (min to max) instead
        edges, low, high = _envelope(t, level, until)
        ax.stairs(high, edges / scale, baseline=low, fill=True, color=COLORS["busy"],
                  alpha=0.35, label="concurrency (range in each bin)")
        ax.stairs(high, edges / scale, color=COLORS["busy"], lw=1, label="highest in each bin")
    limits: list[tuple[str, float, str]] = []
    rules = getattr(data, "rules", None)
    if account_limit is None and rules is not None:
        account_limit = rules.account_concurrency
    if account_limit is not None:
        limits.append(("account limit", float(account_limit), "account"))
    funcs = getattr(data, "functions", None)
    if isinstance(data, Mapping):
        funcs = data.get("functions")
    if function is not None and isinstance(funcs, pd.DataFrame):
        row = funcs[funcs["function"] == function]
        if len(row) and pd.notna(row["reserved_concurrency"].iloc[0]):
            limits.append(("reserved", float(row["reserved_concurrency"].iloc[0]), "reserved"))
        if len(row) and row["provisioned_concurrency"].iloc[0] > 0:
            limits.append(("provisioned", float(row["provisioned_concurrency"].iloc[0]),
                           "provisioned"))
    for name, value, role in limits:
        drawn = show_limits == "all" or (show_limits == "auto" and peak >= value / 10)
        label = f"{name} {value:,.0f}" + ("" if drawn else " (off scale)")
        if drawn:
            ax.axhline(value, color=COLORS[role], ls="--", lw=1.2, label=label)
        else:
            ax.plot([], [], color=COLORS[role], ls="--", label=label)
    ax.set_xlim(0, until / scale)
    ax.set_ylim(bottom=0)
    ax.set_title(f"Concurrency (peak {peak:,})")
    ax.legend(loc="upper right", fontsize="small")
    return ax


_ENVELOPE_BINS = 1000


def _envelope(t: np.ndarray, level: np.ndarray,
              until: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Min and max of a step function (value ``level[i]`` from ``t[i]``) in equal time bins."""
    edges = np.linspace(0.0, until, _ENVELOPE_BINS + 1)
    k = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, _ENVELOPE_BINS - 1)
    high = np.full(_ENVELOPE_BINS, -np.inf)
    low = np.full(_ENVELOPE_BINS, np.inf)
    np.maximum.at(high, k, level)
    np.minimum.at(low, k, level)
    # The value carried into each bin from before it counts too.
    i = np.searchsorted(t, edges[:-1], side="right") - 1
    carried = np.where(i >= 0, level[np.maximum(i, 0)], 0)
    return edges, np.minimum(low, carried), np.maximum(high, carried)


# -- latency ---------------------------------------------------------------------------------------
def latency_cdf(data: Any, *, ax: Axes | None = None, function: str | None = None,
                log_x: bool = True, max_points: int = 2000) -> Axes:
    """Cumulative distribution of latency (what callers waited), warm and cold requests apart.

    Parameters
    ----------
    data
        A Result, an ``invocations`` table, or a mapping holding one.
    ax
        Axes to draw on; a new figure when ``None``.
    function
        Only this function's requests.
    log_x
        Logarithmic latency axis (cold starts are often ten times slower).
    max_points
        Each curve is drawn through at most this many quantiles (speed; the shape is exact to
        1 / max_points).

    Returns
    -------
    matplotlib.axes.Axes
    """
    inv = _by_function(_table(data, "invocations"), function)
    ran = _ran(inv)
    lat = inv["latency_ms"].to_numpy()[ran]
    cold = inv["cold"].to_numpy()[ran]
    ax = _axes(ax)
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("fraction of requests with latency ≤ x")
    ax.set_ylim(0, 1.02)
    if not len(lat):
        return _no_data(ax, "requests that ran")
    for label, part in (("warm", ~cold), ("cold", cold)):
        x = np.sort(lat[part])
        if not len(x):
            continue
        p = np.arange(1, len(x) + 1) / len(x)
        if len(x) > max_points:
            idx = np.unique(np.linspace(0, len(x) - 1, max_points).astype(int))
            x, p = x[idx], p[idx]
        ax.step(np.r_[x[0], x], np.r_[0.0, p], where="post", color=COLORS[label],
                label=f"{label} (n={part.sum():,}, median {np.median(lat[part]):,.0f} ms)")
    if log_x and lat.min() > 0:
        ax.set_xscale("log")
        plain = FuncFormatter(lambda v, _: f"{v:g}")
        ax.xaxis.set_major_formatter(plain)
        ax.xaxis.set_minor_formatter(FuncFormatter(
            lambda v, _: f"{v:g}" if f"{v:g}"[0] in "25" else ""))
    ax.set_title("Latency, warm and cold requests")
    ax.legend(loc="lower right", fontsize="small")
    return ax


# -- outcomes --------------------------------------------------------------------------------------
def outcomes(data: Any, *, ax: Axes | None = None, period_s: float | None = None,
             function: str | None = None) -> Axes:
    """Requests per period by outcome (ok, error, timeout, oom, throttled, dropped), stacked.

    Parameters
    ----------
    data
        A Result, an ``invocations`` table, or a mapping holding one.
    ax
        Axes to draw on; a new figure when ``None``.
    period_s
        Length of a period in s (by arrival time); by default one of 1, 10, 60, 300, 600, 3600,
        86400 s that gives at most 100 periods.
    function
        Only this function's requests.

    Returns
    -------
    matplotlib.axes.Axes
    """
    inv = _by_function(_table(data, "invocations"), function)
    arrival = inv["arrival_s"].to_numpy()
    until = _until(data, arrival)
    if period_s is None:
        nice = np.array([1, 10, 60, 300, 600, 3600, 86400], float)
        period_s = float(nice[np.searchsorted(nice, until / 100)]) if until / 100 <= nice[
            -1] else 86400.0 * np.ceil(until / 100 / 86400)
    elif isinstance(period_s, bool) or not isinstance(period_s, int | float) or not period_s > 0:
        raise ValueError(f"period_s must be a number of seconds > 0, got {period_s!r}")
    n = max(int(np.ceil(until / period_s)), 1)
    k = np.minimum((arrival // period_s).astype(int), n - 1)
    status = pd.Categorical(inv["status"].astype(str), categories=_STATUSES).codes
    counts = np.bincount(k * len(_STATUSES) + status, minlength=n * len(_STATUSES)).reshape(
        n, len(_STATUSES))
    scale, unit = _time_unit(until)
    edges = np.arange(n + 1) * period_s / scale
    ax = _axes(ax)
    base = np.zeros(n)
    for j, name in enumerate(_STATUSES):
        if counts[:, j].any() or name == "ok":
            ax.stairs(base + counts[:, j], edges, baseline=base.copy(), fill=True,
                      color=COLORS[name], label=f"{name} ({counts[:, j].sum():,})")
            base += counts[:, j]
    ax.set_xlim(0, edges[-1])
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel(f"requests per {period_s:g} s")
    ax.set_title("Outcomes of requests over time")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return ax


# -- billing ---------------------------------------------------------------------------------------
def _billed(duration_ms: np.ndarray, granularity_ms: float) -> np.ndarray:
    try:
        from simlab.billing import billed_duration_ms
    except ImportError:  # pragma: no cover - billing is part of simlab
        return np.maximum(np.ceil(duration_ms / granularity_ms), 1.0) * granularity_ms
    return np.asarray(billed_duration_ms(duration_ms, granularity_ms), dtype=float)


def duration_vs_billed(data: Any, billed_ms: Any = None, *, ax: Axes | None = None,
                       granularity_ms: float | None = None, function: str | None = None,
                       max_points: int = 5000) -> Axes:
    """Billed duration against run time: each point one invocation, the dotted line y = x.

    The vertical gap to the line is time billed that the code did not run (the rounding up).

    Parameters
    ----------
    data
        A Result, an ``invocations`` table, or a mapping holding one.
    billed_ms
        Billed duration of each invocation that ran, in ms (e.g. from the billing module). By
        default the durations are rounded up to ``granularity_ms`` (INIT not included).
    ax
        Axes to draw on; a new figure when ``None``.
    granularity_ms
        Billing granularity; by default the Result's ``rules.billing_granularity_ms``.
    function
        Only this function's invocations.
    max_points
        Draw at most this many points (evenly spaced in the records).

    Returns
    -------
    matplotlib.axes.Axes
    """
    inv = _by_function(_table(data, "invocations"), function)
    dur = inv["duration_ms"].to_numpy()[_ran(inv)]
    if billed_ms is None:
        if granularity_ms is None:
            rules = getattr(data, "rules", None)
            if rules is None:
                raise ValueError("give granularity_ms or billed_ms when data is not a Result")
            granularity_ms = rules.billing_granularity_ms
        billed = _billed(dur, float(granularity_ms))
    else:
        billed = np.asarray(billed_ms, dtype=float)
        if billed.shape != dur.shape:
            raise ValueError(f"billed_ms must have one value per invocation that ran "
                             f"({len(dur)}), got shape {billed.shape}")
    ax = _axes(ax, (5.5, 4.5))
    ax.set_xlabel("duration (ms)")
    ax.set_ylabel("billed duration (ms)")
    if not len(dur):
        return _no_data(ax, "invocations that ran")
    step = max(len(dur) // max_points, 1)
    ax.plot(dur[::step], billed[::step], ls="", marker=".", ms=3, color=COLORS["busy"],
            alpha=0.6, label="invocations")
    top = float(max(billed.max(), dur.max()))
    ax.plot([0, top], [0, top], ls=":", color=COLORS["theory"], label="billed = duration")
    ax.set_xlim(0, top * 1.05)
    ax.set_ylim(0, top * 1.05)
    paid = billed.sum() / dur.sum() - 1 if dur.sum() > 0 else float("nan")
    ax.set_title(f"Billed vs run time: {paid:+.1%} rounding")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def cost_breakdown(bill: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """A bill as horizontal stacked bars: one bar per function, one segment per line item.

    Credits (negative items such as the free tier) are drawn to the left of zero; the net total
    is written beside each bar.

    Parameters
    ----------
    bill
        A table with columns ``function``, ``item`` and ``cost_usd`` (``simlab.billing.bill``).
    ax
        Axes to draw on; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if not isinstance(bill, pd.DataFrame) or not {"function", "item", "cost_usd"} <= set(bill):
        raise TypeError("bill must be a DataFrame with columns function, item and cost_usd")
    ax = _axes(ax, (8.0, 1.2 + 0.5 * max(bill["function"].nunique(), 1)))
    ax.set_xlabel("cost (USD)")
    if not len(bill):
        return _no_data(ax, "costs")
    table = bill.pivot_table(index="function", columns="item", values="cost_usd",
                             aggfunc="sum", fill_value=0.0, observed=True, sort=False)
    y = np.arange(len(table))
    pos, neg = np.zeros(len(table)), np.zeros(len(table))
    for j, item in enumerate(table.columns):
        v = table[item].to_numpy()
        left = np.where(v >= 0, pos, neg + v)
        ax.barh(y, np.abs(v), left=left, color=_SERIES[j % len(_SERIES)], label=item,
                height=0.6)
        pos += np.clip(v, 0, None)
        neg += np.clip(v, None, 0)
    for yi, total, right in zip(y, table.sum(axis=1).to_numpy(), pos, strict=True):
        ax.text(right, yi, f"  ${total:,.4g}", va="center", fontsize="small")
    ax.set_yticks(y, table.index.astype(str))
    ax.invert_yaxis()
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_title("Cost breakdown")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return ax


# -- hosts -----------------------------------------------------------------------------------------
def host_packing(data: Any, *, ax: Axes | None = None, max_hosts: int = 8) -> Axes:
    """Memory held by environments on each host over time, against the host's capacity.

    Up to ``max_hosts`` hosts are drawn as step lines (capacity dashed); with more hosts, a
    heat map of each host's utilisation (fraction of its memory in use) sampled at 400 instants.

    Parameters
    ----------
    data
        A Result, or a mapping with ``environments`` and ``hosts`` tables.
    ax
        Axes to draw on; a new figure when ``None``.
    max_hosts
        Most hosts drawn as lines.

    Returns
    -------
    matplotlib.axes.Axes
    """
    envs = _table(data, "environments")
    hosts = _table(data, "hosts")
    until = _until(data, envs["ended_s"].to_numpy())
    scale, unit = _time_unit(until)
    ax = _axes(ax)
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel("memory in use (MB)")
    if not len(envs):
        return _no_data(ax, "environments")
    host = envs["host_id"].to_numpy()
    mem = envs["memory_mb"].to_numpy()
    t = np.concatenate([envs["created_s"].to_numpy(), envs["ended_s"].to_numpy()])
    h = np.concatenate([host, host])
    d = np.concatenate([mem, -mem])
    order = np.lexsort((d, t, h))
    t, h, d = t[order], h[order], d[order]
    used = np.cumsum(d)
    start = np.r_[0, np.flatnonzero(h[1:] != h[:-1]) + 1]
    used -= np.repeat(np.r_[0, used[start[1:] - 1]], np.diff(np.r_[start, len(h)]))
    ids = h[start]
    cap = hosts.set_index("host_id")["memory_mb"].reindex(ids).to_numpy()
    if len(ids) <= max_hosts:
        ends = np.r_[start[1:], len(h)]
        for k, (a, b) in enumerate(zip(start, ends, strict=True)):
            color = _SERIES[k % len(_SERIES)]
            ax.step(np.r_[0.0, t[a:b], until] / scale, np.r_[0, used[a:b], used[b - 1]],
                    where="post", color=color, label=f"host {ids[k]}")
            ax.axhline(cap[k], color=color, ls="--", lw=0.8)
        ax.set_ylim(bottom=0)
        ax.set_xlim(0, until / scale)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
                  frameon=False, title="dashed: capacity")
    else:
        grid = np.linspace(0, until, 400)
        util = np.zeros((len(ids), len(grid)))
        ends = np.r_[start[1:], len(h)]
        for k, (a, b) in enumerate(zip(start, ends, strict=True)):
            i = np.searchsorted(t[a:b], grid, side="right") - 1
            util[k] = np.where(i >= 0, used[a:b][np.maximum(i, 0)], 0) / cap[k]
        im = ax.imshow(util, aspect="auto", origin="lower", cmap="cividis", vmin=0, vmax=1,
                       extent=(0, until / scale, -0.5, len(ids) - 0.5), interpolation="nearest")
        ax.figure.colorbar(im, ax=ax, label="fraction of host memory in use")
        ax.set_ylabel("host")
    ax.set_title(f"Host packing ({len(ids)} host{'s' if len(ids) != 1 else ''})")
    return ax


# -- theory ----------------------------------------------------------------------------------------
def cold_start_vs_keep_alive(sweep: pd.DataFrame, *, ax: Axes | None = None,
                             theory: bool = True, highlight_s: float | None = None) -> Axes:
    """Simulated cold-start fraction against keep-alive, with the theory ``exp(-lambda T)``.

    Parameters
    ----------
    sweep
        One row per simulation: ``keep_alive_s``, ``rate_per_s``, ``cold_start_fraction`` and
        ``invocations`` (for 95 % binomial error bars), as made by
        :func:`simlab.widgets.cold_start_sweep`. Several rates are drawn in several colours.
    ax
        Axes to draw on; a new figure when ``None``.
    theory
        Draw the curve ``exp(-lambda T)`` for each rate.
    highlight_s
        A keep-alive (s) to mark with a vertical line (the current setting of a dashboard).

    Returns
    -------
    matplotlib.axes.Axes
    """
    need = {"keep_alive_s", "rate_per_s", "cold_start_fraction", "invocations"}
    if not isinstance(sweep, pd.DataFrame) or not need <= set(sweep):
        raise TypeError(f"sweep must be a DataFrame with columns {sorted(need)}")
    from simlab.theory import p_cold_ttl

    ax = _axes(ax, (6.5, 4.0))
    ax.set_xlabel("keep-alive T (min)")
    ax.set_ylabel("cold-start fraction")
    top = float(sweep["keep_alive_s"].max()) if len(sweep) else 1800.0
    if highlight_s is not None:
        top = max(top, float(highlight_s))
    grid = np.linspace(0, max(top, 1.0), 200)
    for k, (rate, part) in enumerate(sweep.groupby("rate_per_s", sort=True)):
        color = _SERIES[k % len(_SERIES)]
        p = part["cold_start_fraction"].to_numpy()
        n = np.maximum(part["invocations"].to_numpy(), 1)
        err = 1.96 * np.sqrt(p * (1 - p) / n)
        ax.errorbar(part["keep_alive_s"] / 60, p, yerr=err, ls="", marker="o", ms=4,
                    capsize=2, color=color, label=f"simulated, λ = {rate:.3g}/s")
        if theory:
            ax.plot(grid / 60, p_cold_ttl(float(rate), grid), color=color, lw=1.2, alpha=0.8,
                    label=r"theory $e^{-\lambda T}$" if k == 0 else None)
    if highlight_s is not None:
        ax.axvline(highlight_s / 60, color="0.4", ls=":", lw=1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(0, top / 60 * 1.02)
    ax.set_title("Cold starts against keep-alive")
    ax.legend(loc="upper right", fontsize="small")
    return ax


# -- accessor --------------------------------------------------------------------------------------
class PlotAccessor:
    """``result.plot.<name>(...)``: the figures of this module for one Result.

    >>> import simlab
    >>> sim = simlab.Simulation(seed=2)
    >>> _ = sim.add_function("f", duration_s=0.2)
    >>> _ = sim.add_source(simlab.sources.Poisson(rate_per_s=0.1), target="f")
    >>> PlotAccessor(sim.run(until_s=60)).latency_cdf().get_xlabel()
    'latency (ms)'
    """

    def __init__(self, result: Any) -> None:
        self._result = result

    def timeline(self, **kwargs: Any) -> Axes:
        """See :func:`timeline`."""
        return timeline(self._result, **kwargs)

    def concurrency(self, **kwargs: Any) -> Axes:
        """See :func:`concurrency`."""
        return concurrency(self._result, **kwargs)

    def latency_cdf(self, **kwargs: Any) -> Axes:
        """See :func:`latency_cdf`."""
        return latency_cdf(self._result, **kwargs)

    def outcomes(self, **kwargs: Any) -> Axes:
        """See :func:`outcomes`."""
        return outcomes(self._result, **kwargs)

    def duration_vs_billed(self, billed_ms: Any = None, **kwargs: Any) -> Axes:
        """See :func:`duration_vs_billed`."""
        return duration_vs_billed(self._result, billed_ms, **kwargs)

    def cost_breakdown(self, bill: pd.DataFrame | None = None, **kwargs: Any) -> Axes:
        """See :func:`cost_breakdown`; the bill defaults to ``result.bill()``."""
        if bill is None:
            if not hasattr(self._result, "bill"):
                raise TypeError("this result has no bill(); pass bill=simlab.billing.bill(...)")
            bill = self._result.bill()
        return cost_breakdown(bill, **kwargs)

    def host_packing(self, **kwargs: Any) -> Axes:
        """See :func:`host_packing`."""
        return host_packing(self._result, **kwargs)
