"""The machine's speed, measured the same way by every benchmark, so that results compare across
machines.

The yardstick is bare SimPy: one process that yields ``env.timeout(1)`` over and over, the
cheapest thing a discrete-event simulation does, in the same Python as the benchmark. Each
benchmark prints it next to its result and the result relative to it:

* a rate (invocations per second) as **SimPy timeouts per invocation**: how many bare timeouts
  the machine does in the time one invocation takes;
* a duration (seconds) as **millions of SimPy timeouts**: how many bare timeouts the machine does
  in that time.

Both stay about the same on a faster or slower machine, or Python build, where the raw figures do
not. The yardstick is measured before and after the benchmark: on a shared machine the two differ
when the load changed meanwhile, and the relative figures use their mean.

Run alone:  .venv/bin/python benchmarks/_calibrate.py
"""

from __future__ import annotations

import platform
import time

import simpy

__all__ = ["Calibration", "simpy_timeouts_per_s"]


def simpy_timeouts_per_s(timeouts: int = 100_000, repeat: int = 3) -> float:
    """Bare SimPy timeouts per second on this machine: the best of ``repeat`` runs of one process
    yielding ``timeouts`` timeouts."""

    def ticker(env: simpy.Environment, n: int):
        for _ in range(n):
            yield env.timeout(1)

    best = float("inf")
    for _ in range(repeat):
        env = simpy.Environment()
        env.process(ticker(env, timeouts))
        t0 = time.perf_counter()
        env.run()
        best = min(best, time.perf_counter() - t0)
    return timeouts / best


class Calibration:
    """The yardstick, measured when created (and printed), and again by :meth:`finish`."""

    def __init__(self) -> None:
        self.before = simpy_timeouts_per_s()
        self.after: float | None = None
        print(f"calibration: bare SimPy {self.before:,.0f} timeouts/s (Python "
              f"{platform.python_version()}, SimPy {simpy.__version__}, {platform.machine()})",
              flush=True)

    @property
    def timeouts_per_s(self) -> float:
        """The yardstick: the mean of the measures before and after, or the one before."""
        return self.before if self.after is None else (self.before + self.after) / 2

    def finish(self) -> None:
        """Measure again and print both, with how much the machine's speed moved."""
        self.after = simpy_timeouts_per_s()
        change = self.after / self.before - 1
        print(f"calibration after: bare SimPy {self.after:,.0f} timeouts/s ({change:+.0%} from "
              f"before; relative figures use the mean, {self.timeouts_per_s:,.0f}/s)", flush=True)

    def rate(self, per_s: float, unit: str = "invocation") -> str:
        """``per_s`` (things per second) as SimPy timeouts per thing."""
        return f"{self.timeouts_per_s / per_s:.2f} SimPy timeouts per {unit}"

    def duration(self, seconds: float) -> str:
        """``seconds`` as millions of SimPy timeouts."""
        return f"{seconds * self.timeouts_per_s / 1e6:.2f} M SimPy timeouts"


if __name__ == "__main__":
    Calibration().finish()
