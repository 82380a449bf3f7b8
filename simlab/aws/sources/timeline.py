"""Turning a list of times into simulated events, one SimPy event at a time.

Every trigger (an S3 upload, an SNS message, a schedule firing, an HTTP request) happens at a
time known in advance or drawn from an arrival process. Scheduling all of them at once would fill
SimPy's event queue with millions of entries; instead :func:`at_times` keeps exactly one pending
event per source: when it fires, it does its work and schedules the next. Sources stop at the end
of the run (``run.until_s``) and whenever the platform is closing.

Triggers that borrow an arrival process for *when* things happen read its times lazily with
:func:`simlab.aws.sources.arrivals.arrival_times`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import simpy

if TYPE_CHECKING:  # pragma: no cover
    from simlab.aws.simulation import Run

__all__ = ["at_times"]


def at_times(run: Run, times: Iterable[float], fire: Callable[[int, float], Any]) -> None:
    """Call ``fire(k, t)`` at each simulated time ``t`` of ``times`` (``k`` = 0, 1, ...).

    ``times`` must be non-decreasing; times before the current time fire at once, and the
    sequence stops at the first time at or after ``run.until_s`` or when the platform closes.
    """
    kernel = run.kernel
    engine = run.engine
    until = run.until_s
    it = iter(times)
    counter = [0]

    def schedule(t: float) -> None:
        ev = simpy.Timeout(kernel, max(t - kernel.now, 0.0), t)
        ev.callbacks.append(step)

    def step(ev: simpy.Event) -> None:
        if engine.closing:
            return
        k = counter[0]
        counter[0] = k + 1
        fire(k, ev.value)
        nxt = next(it, math.inf)
        if nxt < until:
            schedule(nxt)

    first = next(it, math.inf)
    if first < until:
        schedule(first)
