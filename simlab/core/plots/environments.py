"""Where requests ran: execution environments on their hosts, and the memory they held.

* :func:`timeline`: a Gantt chart of execution environments grouped by host. Each environment is
  born with an INIT (the cold start), is busy while it runs a request and idle while it is kept
  alive for reuse, until it is reclaimed (or killed by a timeout or out-of-memory). The picture of
  "containers on machines you never see".
* :func:`host_packing`: memory held by environments on each host over time, against the host's
  capacity: the provider's side, where idle environments cost memory nobody is billed for.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from simlab.core.plots._style import (
    COLORS,
    SERIES,
    _axes,
    _bars,
    _by_function,
    _merge,
    _no_data,
    _table,
    _time_unit,
    _until,
)

__all__ = ["timeline", "host_packing"]


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


def host_packing(data: Any, *, ax: Axes | None = None, max_hosts: int = 8) -> Axes:
    """Memory held by environments on each host over time, against the host's capacity.

    Up to ``max_hosts`` hosts are drawn as step lines (capacity dashed), each thinner than the one
    before, so hosts that held the same memory at the same times still all show; with more hosts,
    a heat map of each host's utilisation (fraction of its memory in use) sampled at 400 instants.

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
        widths = np.linspace(3.5, 1.0, len(ids)) if len(ids) > 1 else [1.5]
        for k, (a, b) in enumerate(zip(start, ends, strict=True)):
            color = SERIES[k % len(SERIES)]
            ax.step(np.r_[0.0, t[a:b], until] / scale, np.r_[0, used[a:b], used[b - 1]],
                    where="post", color=color, lw=widths[k], label=f"host {ids[k]}")
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
