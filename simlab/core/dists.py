"""Distributions of the quantities a function's code is made of.

A cold start, the CPU work of one invocation, its I/O wait, the memory it peaks at: none is a single
number on a real platform. simlab describes each by a *distribution*: any object with a
``sample(rng, size)`` method that draws ``size`` values from a :class:`numpy.random.Generator`.
Plain numbers mean constants, and frozen ``scipy.stats`` distributions
(``scipy.stats.lognorm(...)``) are accepted as they are.

The engine never draws one value at a time: a :class:`Sampler` draws blocks of values with numpy and
hands them out one by one, which keeps a million invocations fast. Each sampler owns its own
generator, so the draws of one quantity never shift the draws of another.

Examples
--------
>>> import numpy as np
>>> d = LogNormal(median=0.22, sigma=0.3)
>>> x = d.sample(np.random.default_rng(1), 5)
>>> x.shape
(5,)
>>> as_distribution(2.5, "duration_s").sample(np.random.default_rng(1), 2)
array([2.5, 2.5])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from simlab.core import validate

__all__ = [
    "Distribution",
    "QuantileDistribution",
    "Constant",
    "Exponential",
    "LogNormal",
    "Uniform",
    "Empirical",
    "ScipyDistribution",
    "as_distribution",
    "Checked",
    "Sampler",
]


@runtime_checkable
class Distribution(Protocol):
    """Anything that draws ``size`` values from a numpy Generator."""

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:  # pragma: no cover
        """Return ``size`` draws as a float array."""
        ...


@dataclass(frozen=True)
class Constant:
    """Always ``value``."""

    value: float

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, float(self.value))

    def mean(self) -> float:
        return float(self.value)


@dataclass(frozen=True)
class Exponential:
    """Exponential with the given ``mean``."""

    mean_value: float

    def __post_init__(self) -> None:
        _check_positive("mean_value", self.mean_value)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean_value, size)

    def mean(self) -> float:
        return float(self.mean_value)


@dataclass(frozen=True)
class LogNormal:
    """Log-normal given by its ``median`` and the ``sigma`` of its logarithm.

    Cold-start and duration measurements are right-skewed; a median and a spread are what
    measurement tables (for example "median 0.22 s, 95 % within 0.15 to 0.53 s") report.
    """

    median: float
    sigma: float

    def __post_init__(self) -> None:
        _check_positive("median", self.median)
        validate.real("sigma", self.sigma, 0)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.lognormal(math.log(self.median), self.sigma, size)

    def mean(self) -> float:
        return self.median * math.exp(self.sigma**2 / 2)


@dataclass(frozen=True)
class Uniform:
    """Uniform on ``[low, high)``."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if not (validate.is_real(self.low) and validate.is_real(self.high)
                and math.isfinite(self.low) and math.isfinite(self.high)
                and self.low <= self.high):
            raise validate.BadInput(
                f"Uniform needs finite low <= high, got low={self.low!r}, high={self.high!r}"
            )

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size)

    def mean(self) -> float:
        return (self.low + self.high) / 2


class Empirical:
    """Resample recorded values (for example durations from a trace) with replacement."""

    def __init__(self, values: Sequence[float] | np.ndarray) -> None:
        arr = np.asarray(values, dtype=float)
        if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
            raise ValueError("Empirical needs a non-empty 1-D sequence of finite numbers")
        self.values = arr

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.choice(self.values, size)

    def mean(self) -> float:
        return float(self.values.mean())

    def __repr__(self) -> str:
        return f"Empirical(n={self.values.size}, mean={self.mean():.4g})"


class ScipyDistribution:
    """Adapter for a frozen ``scipy.stats`` distribution, such as ``scipy.stats.gamma(2)``."""

    def __init__(self, frozen: Any) -> None:
        self.frozen = frozen

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.asarray(self.frozen.rvs(size=size, random_state=rng), dtype=float)

    def mean(self) -> float:
        return float(self.frozen.mean())

    def __repr__(self) -> str:
        return f"ScipyDistribution({self.frozen.dist.name}{self.frozen.args})"


def _check_positive(name: str, value: float) -> None:
    validate.real(name, value, 0, low_open=True)


def as_distribution(value: Any, name: str, *, low: float = 0.0, high: float = math.inf) -> Any:
    """Turn ``value`` into a distribution, or raise a clear error naming ``name``.

    Numbers become :class:`Constant` and must lie in ``[low, high]``; frozen ``scipy.stats``
    distributions are wrapped; any other object with a ``sample(rng, size)`` method is kept,
    behind a check of every block it draws.

    What can be checked before a run is: a distribution whose support reaches outside
    ``[low, high]`` (a normal distribution for a duration, a uniform from -1) is refused here, and
    a custom object is asked for a small sample that must be ``size`` finite numbers in range.
    """
    if isinstance(value, bool):
        raise validate.fail(name, value, "a number or a distribution")
    if validate.is_real(value):
        v = float(value)
        if not (math.isfinite(v) and low <= v <= high):
            raise validate.BadInput(f"{name} must be between {low:g} and {high:g}, got {value!r}")
        return Constant(v)
    if isinstance(value, Checked):
        value = value.dist
    if hasattr(value, "rvs") and hasattr(value, "dist") and not hasattr(value, "sample"):
        value = ScipyDistribution(value)
    if not (hasattr(value, "sample") and callable(value.sample)):
        raise validate.fail(name, value, "a number, a frozen scipy.stats distribution or an "
                                         "object with sample(rng, size)")
    support = _support(value)
    if support is not None:
        lo, hi = support
        if not (lo >= low and hi <= high):
            raise validate.BadInput(
                f"{name} must draw values from {low:g} to {high:g}, but {value!r} can draw "
                f"values from {lo:g} to {hi:g}")
        return value
    checked = Checked(value, name, low, high)
    checked.sample(np.random.default_rng(0), _PROBE)  # refuse a bad distribution before a run
    return checked


#: Draws asked of a custom distribution to check it before a run.
_PROBE = 64


def _support(dist: Any) -> tuple[float, float] | None:
    """The smallest and largest value ``dist`` can draw, when known without drawing."""
    if isinstance(dist, Constant):
        return float(dist.value), float(dist.value)
    if isinstance(dist, Exponential | LogNormal):
        return 0.0, math.inf
    if isinstance(dist, Uniform):
        return float(dist.low), float(dist.high)
    if isinstance(dist, Empirical):
        return float(dist.values.min()), float(dist.values.max())
    if isinstance(dist, ScipyDistribution):
        try:
            lo, hi = dist.frozen.support()
        except Exception:  # noqa: BLE001 - no support to read: the draws are checked instead
            return None
        return float(lo), float(hi)
    return None


class Checked:
    """A custom distribution whose every draw is checked: ``size`` finite numbers in
    ``[low, high]``, else an error naming the quantity (``"api.duration_s"``) and the value.

    Attributes other than :meth:`sample` are those of the wrapped ``dist``.
    """

    def __init__(self, dist: Any, name: str, low: float, high: float) -> None:
        self.dist, self.name, self.low, self.high = dist, name, low, high

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        what = f"{self.name}: {self.dist!r}.sample(rng, {size})"
        try:
            draws = self.dist.sample(rng, size)
        except Exception as err:
            raise validate.BadInput(f"{what} raised {type(err).__name__}: {err}") from err
        arr = np.asarray(draws)
        if arr.dtype.kind not in "iuf":
            raise validate.BadInput(f"{what} must return {size} numbers, returned "
                                    f"{draws!r:.100}")
        if arr.shape != (size,):
            raise validate.BadInput(f"{what} must return {size} values, returned {arr.size} "
                                    f"(shape {arr.shape})")
        arr = arr.astype(float)
        bad = ~np.isfinite(arr) | (arr < self.low) | (arr > self.high)
        if bad.any():
            raise validate.BadInput(
                f"{self.name} must be a finite number from {self.low:g} to {self.high:g}, but "
                f"{self.dist!r} drew {float(arr[np.argmax(bad)])!r}")
        return arr

    def __getattr__(self, attr: str) -> Any:
        if attr == "dist":  # not set yet (copy, pickle)
            raise AttributeError(attr)
        return getattr(self.dist, attr)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Checked) and self.dist == other.dist and self.name == other.name

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.dist)


class Sampler:
    """Hand out draws of one distribution one at a time, drawn from numpy in blocks.

    Parameters
    ----------
    dist
        The distribution to draw from.
    rng
        The generator this sampler owns; nothing else should draw from it.
    block
        How many values to draw at once.
    """

    __slots__ = ("dist", "rng", "block", "_buf", "_i", "constant")

    def __init__(self, dist: Any, rng: np.random.Generator, block: int = 4096) -> None:
        self.dist = dist
        self.rng = rng
        self.block = block
        self.constant: float | None = float(dist.value) if isinstance(dist, Constant) else None
        self._buf: list[float] = []
        self._i = 0

    def __call__(self) -> float:
        """Return the next draw."""
        if self.constant is not None:
            return self.constant
        i = self._i
        if i >= len(self._buf):
            self._buf = np.asarray(self.dist.sample(self.rng, self.block), dtype=float).tolist()
            i = 0
        self._i = i + 1
        return self._buf[i]


class QuantileDistribution:
    """A distribution given by some of its quantiles, linear in between.

    The quantile function ``Q(p)`` passes through the points ``(probabilities[i], values[i])`` and
    is linear between them: the distribution is uniform between consecutive percentiles. Draws use
    inverse transform sampling, ``Q(U)`` with ``U`` uniform on [0, 1). Below the first probability
    ``Q`` stays at the first value, above the last at the last value (with the 0th and 100th
    percentiles given, as in the duration files, there is nothing outside).

    Parameters
    ----------
    probabilities
        Strictly increasing, within [0, 1].
    values
        Non-decreasing finite numbers, one per probability.

    Examples
    --------
    >>> q = QuantileDistribution([0, 0.5, 1], [0.0, 1.0, 3.0])
    >>> q.quantile(0.75), q.mean()
    (2.0, 1.25)
    """

    def __init__(self, probabilities: Sequence[float], values: Sequence[float]) -> None:
        p = np.asarray(probabilities, dtype=float)
        v = np.asarray(values, dtype=float)
        if p.ndim != 1 or p.shape != v.shape or p.size < 1:
            raise validate.BadInput(
                f"probabilities and values must be 1-D of the same non-zero length, got "
                f"{p.shape} and {v.shape}"
            )
        if not (np.all(np.isfinite(p)) and p[0] >= 0 and p[-1] <= 1 and np.all(np.diff(p) > 0)):
            raise validate.BadInput(
                f"probabilities must increase strictly within [0, 1], got {p.tolist()}"
            )
        if not (np.all(np.isfinite(v)) and np.all(np.diff(v) >= 0)):
            raise validate.BadInput(f"values must be finite and non-decreasing, got {v.tolist()}")
        self.probabilities = p
        self.values = v

    def quantile(self, q: float | np.ndarray) -> float | np.ndarray:
        """The value below which a fraction ``q`` of draws fall."""
        out = np.interp(q, self.probabilities, self.values)
        return float(out) if np.ndim(out) == 0 else out

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Return ``size`` draws (inverse transform sampling)."""
        return np.interp(rng.random(size), self.probabilities, self.values)

    def mean(self) -> float:
        """Exact mean of the piecewise-linear quantile function."""
        p, v = self.probabilities, self.values
        inner = float(np.sum(np.diff(p) * (v[:-1] + v[1:]) / 2))
        return float(inner + v[0] * p[0] + v[-1] * (1 - p[-1]))

    def __repr__(self) -> str:
        pairs = zip(self.probabilities, self.values, strict=True)
        pts = ", ".join(f"p{100 * p:g}={v:.4g}" for p, v in pairs)
        return f"QuantileDistribution({pts})"
