"""The keep-alive experiment: one function behind Poisson traffic, cold starts against the memory
kept warm.

Keeping an idle environment warm saves the next request a cold start and costs the provider the
memory it holds. :func:`keep_alive_model` is that model (a :func:`~simlab.aws.sweep.sweep` build
function, and the model of every lesson that runs one such function); :func:`idle_memory_gb_s` and
:func:`idle_memory_cost_usd` measure the memory held idle (nobody is billed for it); and
:func:`keep_alive_sweep` sweeps keep-alive times and arrival rates with the metrics a Pareto front
of the two costs needs.

>>> from simlab.aws.sweep import SerialExecutor
>>> df = keep_alive_sweep([0, 600], [0.05], seeds=[1], until_s=1800,
...                       executor=SerialExecutor(), progress=False)
>>> df["cold_start_fraction"].round(2).tolist()
[1.0, 0.02]
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from simlab.aws.sweep import sweep

if TYPE_CHECKING:  # pragma: no cover
    from simlab.aws.simulation import Simulation
    from simlab.core.result import Result

__all__ = ["keep_alive_model", "keep_alive_sweep", "idle_memory_gb_s",
           "idle_gb_s_by_architecture", "idle_memory_cost_usd"]


def keep_alive_model(keep_alive_s: float | None, rate_per_s: float, seed: int, *,
                     memory_mb: int = 512, duration_s: Any = 0.2, init_s: Any = 0.5,
                     era: str = "today", function: str = "fn",
                     max_lifetime_s: float | None = None, **config: Any) -> Simulation:
    """One function behind Poisson traffic, with a fixed keep-alive: the model of the keep-alive
    trade-off (a :func:`sweep` build function), and of every lesson that runs one such function.

    Parameters
    ----------
    keep_alive_s
        How long an idle environment is kept (s, >= 0); ``None`` keeps the era's.
    rate_per_s
        Mean arrival rate (requests/s, > 0).
    seed
        Seed of the run.
    memory_mb, duration_s, init_s, era
        The function's memory, run time and cold-start overhead (s; ``None`` keeps the default
        INIT), and the platform era.
    function
        The function's name (it keys the run's random streams).
    max_lifetime_s
        The environments' maximum lifetime (s); ``None`` keeps the era's.
    **config
        Further settings of the function (see :class:`simlab.core.config.FunctionConfig`).
    """
    from simlab.aws.simulation import Simulation
    from simlab.aws.sources import Poisson

    rules = {key: value for key, value in (("keep_alive_s", keep_alive_s),
                                           ("max_lifetime_s", max_lifetime_s))
             if value is not None}
    if init_s is not None:
        config["init_s"] = init_s
    return (Simulation(era=era, seed=seed, **rules)
            .add_function(function, memory_mb=memory_mb, duration_s=duration_s, **config)
            .add_source(Poisson(rate_per_s=rate_per_s), target=function))


def idle_gb_s_by_architecture(result: Result) -> dict[str, float]:
    """GB-seconds of memory held by idle warm environments during the run, per architecture.

    Per function: time-averaged idle environments x configured memory x the run's length. When
    every function has the same memory and architecture, one pass over the account-wide summary
    gives the same sum (instead of one summary per function).
    """
    funcs = result.functions
    if funcs["memory_mb"].nunique() == 1 and funcs["architecture"].nunique() == 1:
        groups = [(None, float(funcs["memory_mb"].iloc[0]), str(funcs["architecture"].iloc[0]))]
    else:
        groups = list(zip(funcs["function"], funcs["memory_mb"].astype(float),
                          funcs["architecture"].astype(str), strict=True))
    out: dict[str, float] = {}
    for name, memory_mb, arch in groups:
        idle = float(result.summary(name)["mean_idle_environments"])
        out[arch] = out.get(arch, 0.0) + idle * memory_mb / 1024.0 * result.until_s
    return out


def idle_memory_gb_s(result: Result) -> float:
    """GB-seconds of memory held by idle warm environments during the run (all functions).

    Nobody is billed for it; it is the provider's price of keeping functions warm (see
    :func:`idle_gb_s_by_architecture`).
    """
    return sum(idle_gb_s_by_architecture(result).values())


def idle_memory_cost_usd(result: Result) -> float:
    """:func:`idle_memory_gb_s` priced at the first-tier duration price of each function's
    architecture on the run's date: what the idle memory would cost if it were billed."""
    from simlab.core.prices import price_sheet_for

    sheet = price_sheet_for(result.rules.date)
    return sum(gb_s * sheet.arch(arch).first_tier_price
               for arch, gb_s in idle_gb_s_by_architecture(result).items())


def keep_alive_sweep(keep_alive_s: Sequence[float], rate_per_s: Sequence[float],
                     seeds: int | Sequence[int] = 5, *, until_s: float = 3600.0,
                     executor: cf.Executor | None = None, progress: bool = True,
                     max_workers: int | None = None) -> pd.DataFrame:
    """Sweep keep-alive times and arrival rates of :func:`keep_alive_model`.

    Returns the :func:`sweep` table with ``invocations``, ``cold_start_fraction``,
    ``mean_environments``, ``mean_idle_environments``, ``latency_p99_ms``, ``idle_memory_gb_s``
    and ``idle_memory_cost_usd``: what a Pareto front of cold starts against idle memory needs
    (``pareto_front(summarise(df), "idle_memory_cost_usd_mean", "cold_start_fraction_mean")``,
    per rate), and what :func:`simlab.core.plots.cold_start_vs_keep_alive` draws.
    """
    return sweep(
        keep_alive_model,
        {"keep_alive_s": list(keep_alive_s), "rate_per_s": list(rate_per_s)},
        seeds,
        executor=executor,
        metrics=["invocations", "cold_start_fraction", "mean_environments",
                 "mean_idle_environments", "latency_p99_ms"],
        extra_metrics={"idle_memory_gb_s": idle_memory_gb_s,
                       "idle_memory_cost_usd": idle_memory_cost_usd},
        until_s=until_s,
        record="summary",
        progress=progress,
        max_workers=max_workers,
    )
