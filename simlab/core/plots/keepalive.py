"""Simulation against theory: the cold-start fraction against keep-alive, with ``exp(-lambda T)``.

For a function called rarely enough that its requests never overlap, a request is cold when the
gap since the previous one ended exceeds the keep-alive T; with Poisson arrivals at rate lambda
that happens with probability ``exp(-lambda T)`` (:func:`simlab.core.theory.p_cold_ttl`).
:func:`cold_start_vs_keep_alive` draws simulated fractions, with 95 % error bars, over that curve.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from simlab.core.plots._style import SERIES, _axes

__all__ = ["cold_start_vs_keep_alive"]


def cold_start_vs_keep_alive(sweep: pd.DataFrame, *, ax: Axes | None = None,
                             theory: bool = True, highlight_s: float | None = None) -> Axes:
    """Simulated cold-start fraction against keep-alive, with the theory ``exp(-lambda T)``.

    Parameters
    ----------
    sweep
        One row per simulation: ``keep_alive_s``, ``rate_per_s``, ``cold_start_fraction`` and
        ``invocations`` (for 95 % binomial error bars), as made by
        :func:`simlab.course.widgets.cold_start_sweep`. Several rates are drawn in several colours.
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
    from simlab.core.theory import p_cold_ttl

    ax = _axes(ax, (6.5, 4.0))
    ax.set_xlabel("keep-alive T (min)")
    ax.set_ylabel("cold-start fraction")
    top = float(sweep["keep_alive_s"].max()) if len(sweep) else 1800.0
    if highlight_s is not None:
        top = max(top, float(highlight_s))
    grid = np.linspace(0, max(top, 1.0), 200)
    for k, (rate, part) in enumerate(sweep.groupby("rate_per_s", sort=True)):
        color = SERIES[k % len(SERIES)]
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
