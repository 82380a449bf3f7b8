"""Figures of a run: what the platform did, drawn from its records.

Every function here takes a :class:`~simlab.core.result.Result` (or the record tables it holds),
draws
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

They are written for interactive use: one vectorised artist per kind of bar, no loop over
invocations, so a one-hour run at 10 requests/s redraws in a small fraction of a second.
:class:`PlotAccessor` offers them as ``result.plot.<name>()``.

The figures live in submodules by subject (:mod:`~simlab.core.plots.environments`,
:mod:`~simlab.core.plots.traffic`, :mod:`~simlab.core.plots.cost`,
:mod:`~simlab.core.plots.keepalive`) and
share their look (:mod:`~simlab.core.plots._style`); all are importable from here.

>>> import simlab
>>> sim = (simlab.Simulation(seed=1)
...        .add_function("f", duration_s=0.2)
...        .add_source(simlab.sources.Poisson(rate_per_s=0.05), target="f"))
>>> ax = timeline(sim.run(until_s=600))
>>> ax.get_xlabel()
'time (s)'
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.axes import Axes

from simlab.core.plots._style import COLORS, OKABE_ITO
from simlab.core.plots.cost import cost_breakdown, duration_vs_billed
from simlab.core.plots.environments import host_packing, timeline
from simlab.core.plots.keepalive import cold_start_vs_keep_alive
from simlab.core.plots.traffic import concurrency, latency_cdf, outcomes

__all__ = [
    "OKABE_ITO", "COLORS", "timeline", "concurrency", "latency_cdf", "outcomes",
    "duration_vs_billed", "cost_breakdown", "host_packing", "cold_start_vs_keep_alive",
    "PlotAccessor",
]


class PlotAccessor:
    """``result.plot.<name>(...)``: the figures of this module for one Result.

    >>> import simlab
    >>> sim = (simlab.Simulation(seed=2)
    ...        .add_function("f", duration_s=0.2)
    ...        .add_source(simlab.sources.Poisson(rate_per_s=0.1), target="f"))
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
