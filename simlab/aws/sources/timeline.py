"""Turning a list of times into simulated events, one SimPy event at a time.

Every trigger (an S3 upload, an SNS message, a schedule firing, an HTTP request) happens at a
time known in advance or drawn from an arrival process. Scheduling all of them at once would fill
SimPy's event queue with millions of entries; instead :func:`at_times` keeps exactly one pending
event per source: when it fires, it does its work and schedules the next. Sources stop at the end
of the run (``run.until_s``) and whenever the platform is closing.

:func:`arrival_times` reads the times of an :class:`~simlab.aws.sources.arrivals.ArrivalProcess`
lazily,
block by block, so that a trigger can borrow any arrival process for *when* things happen while it
decides *what* happens.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from simlab.aws.sources.arrivals import ArrivalProcess
from simlab.core import validate

if TYPE_CHECKING:  # pragma: no cover
    from simlab.aws.simulation import Run

__all__ = ["at_times", "arrival_times", "register_service", "check_seconds"]


def arrival_times(process: ArrivalProcess, rng: np.random.Generator) -> Iterator[float]:
    """Yield the arrival times (s) of ``process`` one by one, drawing blocks from ``rng``."""
    for block in process.blocks(rng):
        yield from block.tolist()


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


def register_service(run: Run, key: str, obj: Any) -> Any:
    """Put ``obj`` in ``run.services[key]`` (so it lands in ``result.extras``); no overwriting."""
    if key in run.services and run.services[key] is not obj:
        raise ValueError(
            f"two things of this run want the name {key!r} in result.extras (a source and a "
            f"destination, or two destinations); give one of them another name"
        )
    run.services[key] = obj
    return obj


def check_seconds(name: str, value: Any, low: float = 0.0, high: float = math.inf,
                  allow_low: bool = True) -> float:
    """Return ``value`` as a float if it is a finite number of seconds in range, else raise."""
    ok = validate.is_real(value) and math.isfinite(value)
    if ok:
        v = float(value)
        ok = (v >= low if allow_low else v > low) and v <= high
    if not ok:
        lo = ">=" if allow_low else ">"
        hi = "" if high == math.inf else f" and <= {high:g}"
        raise validate.BadInput(f"{name} must be a finite number of seconds {lo} {low:g}{hi}, "
                         f"got {value!r}")
    return float(value)
