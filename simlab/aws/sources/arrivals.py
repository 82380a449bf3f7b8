"""Arrival processes: when requests come, as statistical models or as recorded timestamps.

* :class:`Poisson`: independent arrivals at a constant rate (exponential gaps): many independent
  users. The classic model, and the one queueing theory's formulas assume.
* :class:`FixedInterval`: one request every ``interval_s``: a health check, a cron-like poller.
* :class:`Bursty`: on/off traffic: Poisson at ``on_rate_per_s`` for ``on_s`` seconds, then at
  ``off_rate_per_s`` for ``off_s`` seconds, and so on: the pattern that causes waves of cold starts.
* :class:`Diurnal`: Poisson with a rate that rises and falls over a day (a sinusoid).
* :class:`Replay`: the given timestamps, for recorded traces.

Arrival times are drawn in blocks with numpy and fed to the simulation one event per request.
Each arrival invokes every target function, synchronously by default.

Each process also knows how many arrivals it is expected to make before a time
(:meth:`ArrivalProcess.expected_arrivals`), and :func:`expected_requests` adds up what a source
will send, so that :meth:`simlab.Simulation.run` can refuse, before the run, one that could not
finish (``Poisson(1e7)`` or ``FixedInterval(1e-9)`` over an hour).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from simlab.aws.sources.base import Source
from simlab.core import validate
from simlab.core.validate import BadInput

if TYPE_CHECKING:  # pragma: no cover
    from simlab.aws.simulation import Run

__all__ = ["ArrivalProcess", "Poisson", "FixedInterval", "Bursty", "Diurnal", "Replay",
           "expected_requests", "arrival_times"]

_BLOCK = 8192
_TYPES = ("sync", "async")


def _positive(name: str, value: Any, allow_zero: bool = False) -> float:
    return validate.real(name, value, 0, low_open=not allow_zero)


class ArrivalProcess(Source):
    """Base of arrival processes: subclasses yield blocks of increasing arrival times."""

    kind = "arrivals"

    def __init__(self, invocation_type: str = "sync") -> None:
        validate.one_of("invocation_type", invocation_type, _TYPES)
        self.invocation_type = invocation_type

    def blocks(self, rng: np.random.Generator) -> Iterator[np.ndarray]:
        """Yield arrays of arrival times (s), increasing within and across blocks."""
        raise NotImplementedError

    def expected_arrivals(self, until_s: float) -> float:
        """The expected number of arrivals before ``until_s`` (0 when the process cannot tell,
        as for a subclass that does not say)."""
        return 0.0

    def times(self, rng: np.random.Generator, until_s: float) -> np.ndarray:
        """All arrival times before ``until_s`` (for plots and tests)."""
        out = []
        for block in self.blocks(rng):
            out.append(block[block < until_s])
            if len(block) and block[-1] >= until_s:
                break
        return np.concatenate(out) if out else np.array([])

    def start(self, run: Run, targets: list[str]) -> None:
        rng = run.rng("source", self.name or self.kind)
        deliver = run.deliverer(targets, self.name or self.kind, self.invocation_type)
        until = run.until_s
        kernel = run.kernel
        engine = run.engine

        def flat() -> Iterator[float]:
            for block in self.blocks(rng):
                yield from block.tolist()

        times = flat()
        import simpy

        def fire(ev: Any) -> None:
            if engine.closing:
                return
            deliver(None)
            nxt = next(times, math.inf)
            if nxt < until:
                t = simpy.Timeout(kernel, nxt - kernel.now)
                t.callbacks.append(fire)

        first = next(times, math.inf)
        if first < until:
            t0 = simpy.Timeout(kernel, max(first - kernel.now, 0.0))
            t0.callbacks.append(fire)


class Poisson(ArrivalProcess):
    """Poisson arrivals at ``rate_per_s`` requests per second."""

    kind = "poisson"

    def __init__(self, rate_per_s: float, invocation_type: str = "sync") -> None:
        super().__init__(invocation_type)
        self.rate_per_s = _positive("rate_per_s", rate_per_s)

    def blocks(self, rng: np.random.Generator) -> Iterator[np.ndarray]:
        t = 0.0
        while True:
            block = t + np.cumsum(rng.exponential(1.0 / self.rate_per_s, _BLOCK))
            t = float(block[-1])
            yield block

    def expected_arrivals(self, until_s: float) -> float:
        return self.rate_per_s * until_s

    def __repr__(self) -> str:
        return f"Poisson(rate_per_s={self.rate_per_s:g})"


class FixedInterval(ArrivalProcess):
    """One request every ``interval_s`` seconds, the first at ``start_s``."""

    kind = "fixed"

    def __init__(self, interval_s: float, start_s: float = 0.0,
                 invocation_type: str = "sync") -> None:
        super().__init__(invocation_type)
        self.interval_s = _positive("interval_s", interval_s)
        self.start_s = _positive("start_s", start_s, allow_zero=True)

    def blocks(self, rng: np.random.Generator) -> Iterator[np.ndarray]:
        k = 0
        while True:
            yield self.start_s + self.interval_s * np.arange(k, k + _BLOCK, dtype=float)
            k += _BLOCK

    def expected_arrivals(self, until_s: float) -> float:
        if until_s <= self.start_s:
            return 0.0
        return float(math.ceil((until_s - self.start_s) / self.interval_s))

    def __repr__(self) -> str:
        return f"FixedInterval(interval_s={self.interval_s:g})"


class Bursty(ArrivalProcess):
    """On/off traffic: Poisson at ``on_rate_per_s`` for ``on_s``, then ``off_rate_per_s`` for
    ``off_s``, repeating (the first period is "on")."""

    kind = "bursty"

    def __init__(self, on_rate_per_s: float, on_s: float, off_s: float,
                 off_rate_per_s: float = 0.0, invocation_type: str = "sync") -> None:
        super().__init__(invocation_type)
        self.on_rate_per_s = _positive("on_rate_per_s", on_rate_per_s)
        self.on_s = _positive("on_s", on_s)
        self.off_s = _positive("off_s", off_s)
        self.off_rate_per_s = _positive("off_rate_per_s", off_rate_per_s, allow_zero=True)

    def blocks(self, rng: np.random.Generator) -> Iterator[np.ndarray]:
        cycle = self.on_s + self.off_s
        k = 0
        while True:
            parts = []
            for j in range(k, k + 64):
                for begin, length, rate in ((j * cycle, self.on_s, self.on_rate_per_s),
                                            (j * cycle + self.on_s, self.off_s,
                                             self.off_rate_per_s)):
                    n = rng.poisson(rate * length) if rate > 0 else 0
                    parts.append(begin + np.sort(rng.uniform(0.0, length, n)))
            k += 64
            yield np.concatenate(parts)

    def expected_arrivals(self, until_s: float) -> float:
        cycle = self.on_s + self.off_s
        full = math.floor(until_s / cycle)
        rest = until_s - full * cycle
        on = full * self.on_s + min(rest, self.on_s)
        return self.on_rate_per_s * on + self.off_rate_per_s * (until_s - on)

    def __repr__(self) -> str:
        return (f"Bursty(on_rate_per_s={self.on_rate_per_s:g}, on_s={self.on_s:g}, "
                f"off_s={self.off_s:g}, off_rate_per_s={self.off_rate_per_s:g})")


class Diurnal(ArrivalProcess):
    """Poisson with rate ``mean_rate_per_s * (1 + amplitude * cos(2 pi (t - peak_s) / period_s))``.

    Drawn by thinning a Poisson process at the peak rate.
    """

    kind = "diurnal"

    def __init__(self, mean_rate_per_s: float, amplitude: float = 0.5,
                 period_s: float = 86_400.0, peak_s: float = 50_400.0,
                 invocation_type: str = "sync") -> None:
        super().__init__(invocation_type)
        self.mean_rate_per_s = _positive("mean_rate_per_s", mean_rate_per_s)
        self.amplitude = validate.real("amplitude", amplitude, 0, 1)
        self.period_s = _positive("period_s", period_s)
        self.peak_s = _positive("peak_s", peak_s, allow_zero=True)

    def __repr__(self) -> str:
        return (f"Diurnal(mean_rate_per_s={self.mean_rate_per_s:g}, "
                f"amplitude={self.amplitude:g}, period_s={self.period_s:g}, "
                f"peak_s={self.peak_s:g})")

    def rate(self, t: np.ndarray) -> np.ndarray:
        """The rate (requests/s) at times ``t``."""
        phase = 2 * np.pi * (np.asarray(t) - self.peak_s) / self.period_s
        return self.mean_rate_per_s * (1 + self.amplitude * np.cos(phase))

    def blocks(self, rng: np.random.Generator) -> Iterator[np.ndarray]:
        peak = self.mean_rate_per_s * (1 + self.amplitude)
        t = 0.0
        while True:
            cand = t + np.cumsum(rng.exponential(1.0 / peak, _BLOCK))
            t = float(cand[-1])
            keep = rng.random(_BLOCK) * peak < self.rate(cand)
            yield cand[keep]

    def expected_arrivals(self, until_s: float) -> float:
        # the integral of the rate over [0, until_s]
        w = 2 * math.pi / self.period_s
        wave = (math.sin(w * (until_s - self.peak_s)) - math.sin(-w * self.peak_s)) / w
        return self.mean_rate_per_s * (until_s + self.amplitude * wave)


class Replay(ArrivalProcess):
    """Requests at the given times (seconds from the start of the run)."""

    kind = "replay"

    def __init__(self, times_s: Sequence[float] | np.ndarray,
                 invocation_type: str = "sync") -> None:
        super().__init__(invocation_type)
        raw = np.asarray(times_s) if not isinstance(times_s, str | bytes) else np.array(None)
        if raw.dtype.kind not in "iuf" or (raw.ndim == 1 and raw.size == 0):
            raw = np.asarray(raw, dtype=object)
            if raw.ndim != 1 or not all(validate.is_real(x) for x in raw):
                raise BadInput(f"times_s must be a sequence of numbers (seconds), got "
                                        f"{times_s!r:.80}")
        arr = raw.astype(float)
        if arr.ndim != 1:
            raise BadInput(
                f"times_s must be a 1-D sequence of seconds, got shape {arr.shape}")
        bad = ~np.isfinite(arr) | (arr < 0)
        if bad.any():
            raise BadInput(
                f"times_s must be finite and >= 0; entry {int(np.argmax(bad))} is "
                f"{float(arr[np.argmax(bad)])!r}"
            )
        self.times_s = np.sort(arr)

    def blocks(self, rng: np.random.Generator) -> Iterator[np.ndarray]:
        yield self.times_s

    def expected_arrivals(self, until_s: float) -> float:
        return float(np.searchsorted(self.times_s, until_s, side="left"))

    def __repr__(self) -> str:
        return f"Replay(n={self.times_s.size})"


def expected_requests(source: Source, targets: list[str], until_s: float) -> float:
    """How many requests ``source`` is expected to send to ``targets`` before ``until_s``.

    An arrival process sends one request per arrival and target. Another source (a queue, a
    stream, a bucket, a topic, an API) that is fed by arrival processes (its attributes) is
    counted by those arrivals, one per target. Sources fed by a fixed list of items or a schedule
    count 0 here (they cannot be unbounded).
    """
    processes = ([source] if isinstance(source, ArrivalProcess)
                 else [v for v in vars(source).values() if isinstance(v, ArrivalProcess)])
    return sum(p.expected_arrivals(until_s) for p in processes) * max(len(targets), 1)


def arrival_times(process: ArrivalProcess, rng: np.random.Generator) -> Iterator[float]:
    """Yield the arrival times (s) of ``process`` one by one, drawing blocks from ``rng``."""
    for block in process.blocks(rng):
        yield from block.tolist()
