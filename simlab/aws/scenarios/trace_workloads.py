"""Production traces as workloads: replaying what real functions did, when, and for how long.

Made-up arrival processes are tidy; production traffic is not. The Azure Functions trace of 2021
lists real invocations (application, function, start, duration). Replaying it means choosing which
simulated function stands for each traced one and sending each recorded invocation to it at its
recorded time, for its recorded duration. What is *not* in the trace (memory, cold starts, the
platform's keep-alive) is the simulated platform's, so the same trace can be replayed on several
platforms, or with another mapping, and the differences read off.
"""

from __future__ import annotations

import pandas as pd

from simlab.aws.simulation import Simulation
from simlab.aws.sources import TraceReplay, add_trace_functions
from simlab.aws.sources.traces import load_azure_2021_sample
from simlab.core.validate import whole

__all__ = ["azure_trace", "azure_sample", "SAMPLE_PERIOD_S"]

#: The length of the shipped sample (its invocations start within the first 20 minutes; the
#: longest runs for 7): a repeated sample starts again every 21 minutes.
SAMPLE_PERIOD_S = 1_260.0
_BY = ("func", "app", "app_func")


def azure_sample(repeat: int = 1) -> pd.DataFrame:
    """The Azure Functions 2021 sample shipped with simlab, ``repeat`` times back to back.

    Returns the replay table (``arrival_s, duration_s, app, func``); copy ``k`` starts at
    ``k * SAMPLE_PERIOD_S``.
    """
    whole("repeat", repeat, 1, 1_000)
    trace = load_azure_2021_sample()
    if repeat == 1:
        return trace
    copies = [trace.assign(arrival_s=trace["arrival_s"] + k * SAMPLE_PERIOD_S)
              for k in range(repeat)]
    return pd.concat(copies, ignore_index=True)


def azure_trace(seed: int = 0, *, era: str = "today", by: str = "func", memory_mb: int = 256,
                repeat: int = 1, invocation_type: str = "sync") -> Simulation:
    """A real workload: the Azure Functions 2021 trace sample replayed on simulated functions.

    The sample shipped with simlab holds 199 invocations of 31 functions of 13 applications over
    about 21 minutes (:func:`simlab.aws.sources.traces.load_azure_2021_sample`). ``by`` chooses what
    one simulated function stands for: each traced function (``"func"``, 31 functions), each
    application (``"app"``, 13: an application's functions share their environments), or each
    (app, func) pair. Each gets ``memory_mb`` and the era's longest timeout, and its recorded
    durations as its duration distribution (:func:`simlab.aws.sources.add_trace_functions`); every
    replayed invocation runs for exactly its recorded duration (cut at the timeout: 5 minutes in
    the 2018 era, so its longest invocations time out). ``repeat`` replays the sample that many
    times back to back, every 21 minutes; ``invocation_type`` is ``"sync"`` or ``"async"``.

    Look at: how many invocations of each function were cold (a trace's rare functions are
    almost always cold), ``by="app"`` against ``by="func"``, the same trace in another ``era``.
    """
    if by not in _BY:
        raise ValueError(f"by must be one of {_BY}, got {by!r}")
    if invocation_type not in ("sync", "async"):
        raise ValueError(f"invocation_type must be 'sync' or 'async', got {invocation_type!r}")
    trace = azure_sample(repeat)
    sim = Simulation(era=era, seed=seed)
    mapping = add_trace_functions(sim, trace, by=by, memory_mb=memory_mb,
                                  timeout_s=sim.rules.timeout_max_s)
    sim.add_source(TraceReplay(trace, mapping=mapping, by=by, invocation_type=invocation_type),
                   target=sorted(mapping.values()))
    return sim
