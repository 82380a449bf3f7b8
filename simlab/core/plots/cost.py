"""What a run costs: billed against run time, and a bill by function and line item.

* :func:`duration_vs_billed`: each invocation's billed duration against its run time; the gap
  above the line ``billed = duration`` is time paid for that the code did not run (rounding up to
  100 ms before December 2020, to 1 ms since).
* :func:`cost_breakdown`: a bill (:func:`simlab.core.billing.bill`) as stacked bars, one per
function,
  one segment per line item, credits to the left of zero.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from simlab.core.plots._style import COLORS, SERIES, _axes, _by_function, _no_data, _ran, _table

__all__ = ["duration_vs_billed", "cost_breakdown"]


def _billed(duration_ms: np.ndarray, granularity_ms: float) -> np.ndarray:
    try:
        from simlab.core.billing import billed_duration_ms
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
        ax.barh(y, np.abs(v), left=left, color=SERIES[j % len(SERIES)], label=item,
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
