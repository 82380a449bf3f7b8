"""The provider's side of a run: memory held against memory billed, in GB-seconds.

The customer pays for billed duration (:mod:`simlab.core.billing`); the provider pays for memory
held on hosts. The gap between the two is what keeping functions warm costs the provider: idle
warm environments (kept for reuse, never billed), INIT that is not billed, and environments kept
for provisioned concurrency (paid by the PC charge, not by duration). Rounding up to the billing
granularity works the other way: billed time the code did not run. :func:`provider_view` adds
these up from a run's records, like billing a pure function of them
(:meth:`simlab.core.result.Result.provider_view` calls it on a run).
"""

from __future__ import annotations

import datetime as dt
import math
from types import MappingProxyType

import pandas as pd

from simlab.core import validate
from simlab.core.billing import checked_functions, record_arrays
from simlab.core.prices import as_date

__all__ = ["PROVIDER_METRICS", "provider_view"]

#: The provider's-side metrics: name -> (unit, meaning).
PROVIDER_METRICS: MappingProxyType[str, tuple[str, str]] = MappingProxyType(
    {
        "billed_gb_s": ("GB-s", "billed duration x memory (on-demand and provisioned)"),
        "rounding_gb_s": ("GB-s", "billed but not run: the rounding up to the granularity"),
        "unbilled_init_gb_s": ("GB-s", "INIT time that was not billed"),
        "idle_warm_gb_s": ("GB-s", "on-demand environments kept warm while idle (not billed)"),
        "provisioned_held_gb_s": ("GB-s", "provisioned environments held (paid by the PC charge)"),
        "environment_held_gb_s": (
            "GB-s",
            "all environments, from INIT start to reclaim or run end",
        ),
        "host_used_gb_s": ("GB-s", "host memory in use (hosts.used_mb_s)"),
        "host_capacity_gb_s": ("GB-s", "host memory available, from each host's creation"),
        "billed_per_host_used": ("ratio", "billed GB-s per GB-s of host memory in use"),
    }
)


def provider_view(
    invocations: pd.DataFrame,
    environments: pd.DataFrame,
    hosts: pd.DataFrame,
    functions: pd.DataFrame,
    until_s: float,
    *,
    date: dt.date | str,
    granularity_ms: float,
) -> pd.DataFrame:
    """Return the provider's side of a run: memory held versus memory billed, in GB-s.

    The customer pays for billed duration; the provider pays for memory held on hosts. The gap
    is idle warm environments (kept for reuse, never billed), unbilled INIT, and environments
    kept for provisioned concurrency (paid by the PC charge, not by duration). Rounding up to the
    granularity works the other way: billed time the code did not run.

    Parameters
    ----------
    invocations, environments, hosts, functions
        The run's tables (see :mod:`simlab.core.schema`).
    until_s
        End of the run in s; environments and hosts are counted up to it.
    date, granularity_ms
        As for :func:`bill` (they decide what is billed).

    Returns
    -------
    pandas.DataFrame
        One row per metric with columns ``metric``, ``value``, ``unit``, ``meaning``.
    """
    until = validate.real("until_s", until_s, 0.0, low_open=True, unit="seconds")
    funcs = checked_functions(functions)
    r = record_arrays(invocations, funcs, as_date(date), granularity_ms)
    for label, table, needed in (
        ("environments", environments, ("memory_mb", "provisioned", "created_s", "ended_s")),
        ("environments", environments, ("busy_s", "init_s")),
        ("hosts", hosts, ("memory_mb", "created_s", "used_mb_s")),
    ):
        validate.frame(label, table, needed)
    env = environments
    start = env["created_s"].clip(upper=until)
    held_s = (env["ended_s"].clip(upper=until) - start).clip(lower=0.0)
    gb = env["memory_mb"] / 1024.0
    pc = env["provisioned"].astype(bool)
    idle_s = (held_s - env["init_s"] - env["busy_s"]).clip(lower=0.0)
    billed = float(r["billed_gb_s"].sum())
    host_used = float(hosts["used_mb_s"].sum()) / 1024.0
    capacity = float((hosts["memory_mb"] * (until - hosts["created_s"].clip(upper=until))).sum())
    values = {
        "billed_gb_s": billed,
        "rounding_gb_s": billed - float(r["run_gb_s"].sum()),
        "unbilled_init_gb_s": float(r["unbilled_init_gb_s"].sum()),
        "idle_warm_gb_s": float((idle_s * gb)[~pc].sum()),
        "provisioned_held_gb_s": float((held_s * gb)[pc].sum()),
        "environment_held_gb_s": float((held_s * gb).sum()),
        "host_used_gb_s": host_used,
        "host_capacity_gb_s": capacity / 1024.0,
        "billed_per_host_used": billed / host_used if host_used > 0 else math.nan,
    }
    metrics = [(m, values[m], unit, meaning) for m, (unit, meaning) in PROVIDER_METRICS.items()]
    return pd.DataFrame(metrics, columns=["metric", "value", "unit", "meaning"])
