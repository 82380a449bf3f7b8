"""What callers saw: concurrency against its limits, latency, and the outcome of each request.

* :func:`concurrency`: environments initialising or busy over time, against the account limit and
  a function's reserved (and provisioned) concurrency; where the curve touches a limit, requests
  are throttled. With more steps than pixels, each time bin shows the range it covered.
* :func:`latency_cdf`: the distribution of what callers waited, warm and cold requests apart (a
  cold start is often ten times slower).
* :func:`outcomes`: requests per period by outcome, ok, error, timeout, oom, throttled and dropped,
  stacked so that the top of each bar is the traffic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import StepPatch
from matplotlib.ticker import FuncFormatter

from simlab.core.plots._style import (
    COLORS,
    STATUSES,
    _axes,
    _by_function,
    _no_data,
    _ran,
    _table,
    _time_unit,
    _until,
)

__all__ = ["concurrency", "latency_cdf", "outcomes"]


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
        _stairs(ax, high, edges / scale, baseline=low, fill=True, color=COLORS["busy"],
                alpha=0.35, label="concurrency (range in each bin)")
        _stairs(ax, high, edges / scale, color=COLORS["busy"], lw=1, label="highest in each bin")
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
    ax.set_ylim(0, ax.get_ylim()[1] * 1.5)  # headroom: the legend above the curve, not on its peak
    ax.set_title(f"Concurrency (peak {peak:,})")
    ax.legend(loc="upper right", fontsize="small")
    return ax


_ENVELOPE_BINS = 1000


def _stairs(ax: Axes, values: np.ndarray, edges: np.ndarray, *, color: Any,
            baseline: np.ndarray | float = 0.0, fill: bool = False, **style: Any) -> StepPatch:
    """``ax.stairs(values, edges, baseline=..., fill=..., color=...)`` (the same patch, style and
    limits), with the data limits taken from the arrays.

    ``Axes.stairs`` finds the limits by walking the patch's path segment by segment in Python:
    0.1 s for each of the concurrency plot's 1,000-bin patches (36,000 invocations), most of the
    plot's time; the arrays give the same limits at once.
    """
    if fill:  # as stairs: a filled area has no outline
        style.setdefault("linewidth", 0)
        style.setdefault("facecolor", color)
    else:
        style.setdefault("edgecolor", color)
    patch = StepPatch(values, edges, baseline=baseline, fill=fill, **style)
    ax.add_artist(patch)  # add_patch would walk the path
    low = np.minimum(np.min(values), np.min(baseline))
    high = np.maximum(np.max(values), np.max(baseline))
    patch.sticky_edges.y.append(np.min(baseline))  # as stairs: no margin under the baseline
    ax.update_datalim([(edges[0], low), (edges[-1], high)])
    ax.autoscale_view()
    return patch


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
    status = pd.Categorical(inv["status"].astype(str), categories=STATUSES).codes
    counts = np.bincount(k * len(STATUSES) + status, minlength=n * len(STATUSES)).reshape(
        n, len(STATUSES))
    scale, unit = _time_unit(until)
    edges = np.arange(n + 1) * period_s / scale
    ax = _axes(ax)
    base = np.zeros(n)
    for j, name in enumerate(STATUSES):
        if counts[:, j].any() or name == "ok":
            _stairs(ax, base + counts[:, j], edges, baseline=base.copy(), fill=True,
                    color=COLORS[name], label=f"{name} ({counts[:, j].sum():,})")
            base += counts[:, j]
    ax.set_xlim(0, edges[-1])
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel(f"requests per {period_s:g} s")
    ax.set_title("Outcomes of requests over time")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return ax
