"""Lesson 3's limits: out of memory and the timeout, what happens when a function outgrows them.

Peak memory and run time are log-normal; the chance of a kill is the tail above the limit, and a
run on a schedule shows the kills and what follows them (the environment is gone, so the next
request starts cold). :mod:`simlab.course.lessons.memory` re-exports these for the notebook.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simlab.aws.simulation import Simulation
from simlab.aws.sources import FixedInterval
from simlab.core import plots
from simlab.core.dists import LogNormal
from simlab.core.result import Result
from simlab.core.validate import number, whole

__all__ = ["oom_probability", "oom_run", "after_kills", "oom_figure", "timeout_probability",
           "timeout_run", "timeout_figure"]

_C = plots.COLORS


# -- 2. out of memory ------------------------------------------------------------------------------
def _lognormal_tail(limit: float, median: float, sigma: float) -> float:
    """P(X > limit) for a log-normal X of the given median and sigma (of its logarithm)."""
    return 0.5 * math.erfc(math.log(limit / median) / (sigma * math.sqrt(2.0)))


def oom_probability(memory_mb: float, median_mb: float, sigma: float) -> float:
    """P(peak > memory_mb) when the peak memory is log-normal (``median_mb``, ``sigma``)."""
    return _lognormal_tail(number("memory_mb", memory_mb, 0.0, 1e7, low_open=True),
                           number("median_mb", median_mb, 0.0, 1e7, low_open=True),
                           number("sigma", sigma, 0.0, 10.0, low_open=True))


def _scheduled(function: str, interval_s: float, requests: int, seed: int,
               **config: Any) -> Result:
    """Today's rules; ``function`` called every ``interval_s`` seconds, ``requests`` times."""
    gap = number("interval_s", interval_s, 1.0, 3600.0)
    n = whole("requests", requests, 1, 100_000)
    sim = Simulation(era="today", seed=seed)
    sim.add_function(function, **config)
    sim.add_source(FixedInterval(interval_s=gap), target=function, name="schedule")
    return sim.run(until_s=n * gap - gap / 2)


def oom_run(memory_mb: int = 512, *, median_mb: float = 400.0, sigma: float = 0.2,
            interval_s: float = 10.0, requests: int = 60, seed: int = 3) -> Result:
    """A function ("etl", 0.5 s per run) whose peak memory varies from request to request
    (log-normal, median ``median_mb``), called every ``interval_s`` seconds, ``requests`` times.

    Requests are far apart, so one environment serves them all, until an invocation needs more
    than ``memory_mb`` and is killed with its environment.
    """
    return _scheduled("etl", interval_s, requests, seed, memory_mb=memory_mb, duration_s=0.5,
                      memory_used_mb=LogNormal(median=median_mb, sigma=sigma))


def after_kills(result: Result, function: str | None = None) -> pd.DataFrame:
    """Each invocation killed (``oom`` or ``timeout``) and what happened to the next request.

    Returns
    -------
    pandas.DataFrame
        ``invocation_id``, ``status``, ``env_id``, ``killed_at_s``, ``environment_end``
        (the killed environment's end reason), ``next_arrival_s``, ``next_env_id`` and
        ``next_cold`` of the next request that ran (NaN/None after the last).
    """
    inv = result.invocations
    if function is not None:
        inv = inv[(inv["function"] == function).to_numpy()]
    ran = inv[~inv["status"].isin(["throttled", "dropped"]).to_numpy()].reset_index(drop=True)
    killed = np.flatnonzero(ran["status"].isin(["oom", "timeout"]).to_numpy())
    nxt = np.minimum(killed + 1, max(len(ran) - 1, 0))
    has = killed + 1 < len(ran)
    ends = result.environments.set_index("env_id")["end_reason"].astype(str)
    env = ran["env_id"].to_numpy()[killed]
    return pd.DataFrame({
        "invocation_id": ran["invocation_id"].to_numpy()[killed],
        "status": ran["status"].astype(str).to_numpy()[killed],
        "env_id": env,
        "killed_at_s": ran["end_s"].to_numpy()[killed],
        "environment_end": ends.reindex(env).to_numpy(),
        "next_arrival_s": np.where(has, ran["arrival_s"].to_numpy()[nxt], np.nan),
        "next_env_id": np.where(has, ran["env_id"].to_numpy()[nxt], -1),
        "next_cold": pd.Series(ran["cold"].to_numpy()[nxt] if len(ran) else [],
                               dtype="boolean").where(has).to_numpy(),
    })


def oom_figure(result: Result, median_mb: float, sigma: float) -> Figure:
    """Top: the environments of an :func:`oom_run` (diamonds: killed). Bottom: the distribution of
    peak memory against the configured memory; beyond it, the invocation is killed."""
    mem = float(result.functions["memory_mb"].iloc[0])
    fig = Figure(figsize=(9.5, 6.6))
    top, bottom = fig.subplots(2, 1, height_ratios=(1.3, 1.0))
    fig.subplots_adjust(left=0.1, right=0.76, top=0.95, bottom=0.08, hspace=0.4)
    plots.timeline(result, ax=top, max_environments=20)
    hi = max(mem, median_mb * math.exp(3 * sigma)) * 1.05
    x = np.linspace(1.0, hi, 400)
    pdf = np.exp(-(np.log(x / median_mb)) ** 2 / (2 * sigma ** 2)) / (x * sigma * math.sqrt(
        2 * math.pi))
    bottom.plot(x, pdf, color=_C["theory"], lw=1.2, label="peak memory\n(distribution)")
    beyond = x > mem
    bottom.fill_between(x[beyond], pdf[beyond], color=_C["oom"], alpha=0.6,
                        label=f"killed: {oom_probability(mem, median_mb, sigma):.1%}")
    inv = result.invocations
    ok = inv[(inv["status"] == "ok").to_numpy()]
    bottom.hist(ok["max_memory_used_mb"], bins=30, density=True, color=_C["ok"], alpha=0.5,
                label="recorded peaks\n(ok invocations)")
    bottom.axvline(mem, color=_C["oom"], ls="--", lw=1.4, label=f"memory_mb = {mem:,.0f}")
    bottom.set(xlabel="peak memory of an invocation (MB)", ylabel="density (1/MB)", xlim=(0, hi),
               title="Peak memory against the configured memory")
    bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return fig


# -- 3. the timeout --------------------------------------------------------------------------------
def timeout_probability(timeout_s: float, median_s: float, sigma: float) -> float:
    """P(run time >= timeout_s) when the run time is log-normal (``median_s``, ``sigma``)."""
    return _lognormal_tail(number("timeout_s", timeout_s, 0.0, 1e6, low_open=True),
                           number("median_s", median_s, 0.0, 1e6, low_open=True),
                           number("sigma", sigma, 0.0, 10.0, low_open=True))


def timeout_run(timeout_s: int = 3, *, median_s: float = 2.0, sigma: float = 0.3,
                interval_s: float = 10.0, requests: int = 200, seed: int = 4) -> Result:
    """A function ("report", 256 MB) that waits on a slow API (log-normal wait, median
    ``median_s``), called every ``interval_s`` seconds, with a timeout of ``timeout_s``."""
    return _scheduled("report", interval_s, requests, seed, memory_mb=256, timeout_s=timeout_s,
                      io_s=LogNormal(median=median_s, sigma=sigma))


def timeout_figure(result: Result) -> Figure:
    """Durations of a :func:`timeout_run`: a pile-up at exactly the timeout, where runs are
    killed; and billed against run time."""
    inv = result.invocations
    timeout_ms = float(result.functions["timeout_s"].iloc[0]) * 1000.0
    fig = Figure(figsize=(10.0, 3.8))
    left, right = fig.subplots(1, 2, width_ratios=(1.3, 1.0))
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.15, top=0.88, wspace=0.25)
    bins = np.linspace(0.0, timeout_ms * 1.02, 52)
    for status in ("ok", "timeout"):
        part = inv[(inv["status"] == status).to_numpy()]
        left.hist(part["duration_ms"], bins=bins, color=_C[status], alpha=0.85,
                  label=f"{status} ({len(part)})")
    left.axvline(timeout_ms, color=_C["timeout"], ls="--", lw=1.2,
                 label=f"timeout {timeout_ms / 1000:g} s")
    left.set(xlabel="duration (ms)", ylabel="invocations",
             title="Durations: a pile-up at the timeout")
    left.legend(loc="upper left", fontsize="small")
    plots.duration_vs_billed(result, ax=right, billed_ms=inv.loc[
        ~inv["status"].isin(["throttled", "dropped"]), "billed_ms"].to_numpy())
    right.set_title("Billed against run time (+ INIT if cold)")
    return fig
