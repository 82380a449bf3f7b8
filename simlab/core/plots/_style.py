"""The look shared by every figure: one colour-blind-safe palette, axes, time units, fast bars.

Colours come from Okabe and Ito's eight colours, distinguishable with every common form of colour
blindness; each role (INIT, busy, idle, cold, each outcome, each limit) has one colour across the
course, so a student learns it once. Time axes pick seconds, minutes or hours from the span shown.

Bars are drawn the fast way: all rectangles of one kind form a single compound path (one artist,
built with numpy, no Python loop over rows), and bars closer together than a pixel are merged
first, since they would look the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import PathPatch
from matplotlib.path import Path

__all__ = ["OKABE_ITO", "COLORS", "STATUSES", "SERIES"]


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

STATUSES = ("ok", "error", "timeout", "oom", "throttled", "dropped")
SERIES = [OKABE_ITO[k] for k in ("blue", "vermillion", "bluish_green", "orange",
                                  "reddish_purple", "sky_blue", "black", "yellow")]



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


def _axes(ax: Axes | None, figsize: tuple[float, float] = (10.0, 4.5)) -> Axes:
    """``ax``, or the axes of a new figure 10 in wide: 1,000 px at the notebook's 100 dpi, the
    width of JupyterLab's output area."""
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
    known = set(table["function"]) if "function" in table else set()
    if "function" in table and isinstance(table["function"].dtype, pd.CategoricalDtype):
        known |= set(table["function"].cat.categories)  # functions that got no request
    if function not in known:
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
