"""Keep-alive policies: how long an idle execution environment is kept before it is reclaimed.

After a request, Lambda freezes the environment and keeps it for a while, hoping another request
comes: that request then starts *warm*. Keeping environments costs the provider memory; reclaiming
them costs the customer cold starts. The rule deciding how long to wait is a *policy*, passed to the
simulation as an object, so a lesson can compare the platform's fixed timeout with no keep-alive at
all, or with an adaptive policy of its own.

A policy is any object with ``idle_timeout_s(function, now_s) -> float`` (seconds an environment of
``function`` that has just become idle at ``now_s`` is kept) and, optionally,
``observe(function, arrival_s)``, called at every request so that adaptive policies can learn the
arrival pattern. Returning ``math.inf`` keeps environments forever (until their maximum lifetime).
Anything else that is not a number >= 0 (NaN, a negative number, text) stops the run with an error
naming the policy, the function and the value: a NaN timeout would put the environment's timer out
of time order.
"""

from __future__ import annotations

import math
import numbers
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = ["KeepAlivePolicy", "FixedKeepAlive", "NoKeepAlive", "DemandKeepAlive",
           "as_keep_alive", "check_idle_timeout"]


@runtime_checkable
class KeepAlivePolicy(Protocol):
    """What the engine asks a keep-alive policy."""

    def idle_timeout_s(self, function: str, now_s: float) -> float:  # pragma: no cover
        """Seconds to keep an environment of ``function`` that became idle at ``now_s``."""
        ...


@dataclass(frozen=True)
class FixedKeepAlive:
    """Keep every idle environment for ``ttl_s`` seconds after its last request ended.

    This is what measurements of the real platform found: about 26 minutes in 2018, 10 minutes in
    2019 and 2020, 5 to 7 minutes in 2021 (see the era presets).
    """

    ttl_s: float

    def __post_init__(self) -> None:
        if not (isinstance(self.ttl_s, int | float) and not math.isnan(self.ttl_s)
                and self.ttl_s >= 0):
            raise ValueError(f"keep_alive_s must be a number >= 0 (seconds), got {self.ttl_s!r}")

    def idle_timeout_s(self, function: str, now_s: float) -> float:
        return float(self.ttl_s)


@dataclass(frozen=True)
class NoKeepAlive:
    """Reclaim an environment as soon as its request ends: every request is a cold start."""

    def idle_timeout_s(self, function: str, now_s: float) -> float:
        return 0.0


@dataclass
class DemandKeepAlive:
    """A keep-alive that grows with the function's recent demand.

    An idle environment is kept ``base_s + per_request_s * n`` seconds, at most ``max_s``, where
    ``n`` is the number of requests the function received in the last ``window_s`` seconds. A
    function left alone keeps its environments a little over ``base_s``; a busy one keeps its
    spare environments longer. Measured in 2020 (lesson 8's data, LAMBDA_FACTS 4.2): about 10 min
    for a function called every 5 minutes, idle spare environments of a function called every
    20 s surviving up to 21 min. The parameters are calibrated in
    ``benchmarks/calibrate_2020.py`` (see :data:`simlab.core.measured.MEASURED_2020`).

    The policy keeps per-run state; the engine runs on :meth:`fresh` copies, so the object given
    to a simulation is never changed.
    """

    base_s: float = 600.0
    per_request_s: float = 0.0
    window_s: float = 600.0
    max_s: float = 1260.0
    _recent: dict[str, deque[float]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("base_s", "per_request_s", "window_s", "max_s"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not (
                    math.isfinite(v) and v >= 0):
                raise ValueError(f"DemandKeepAlive {name} must be a finite number >= 0, got {v!r}")
        if self.max_s < self.base_s:
            raise ValueError(f"DemandKeepAlive max_s ({self.max_s!r}) must be >= base_s "
                             f"({self.base_s!r})")

    def fresh(self) -> DemandKeepAlive:
        """A copy with no memory of past requests (one per run)."""
        return DemandKeepAlive(self.base_s, self.per_request_s, self.window_s, self.max_s)

    def observe(self, function: str, arrival_s: float) -> None:
        q = self._recent.get(function)
        if q is None:
            q = self._recent[function] = deque()
        q.append(arrival_s)

    def idle_timeout_s(self, function: str, now_s: float) -> float:
        q = self._recent.get(function)
        n = 0
        if q is not None:
            cut = now_s - self.window_s
            while q and q[0] < cut:
                q.popleft()
            n = len(q)
        return min(self.base_s + self.per_request_s * n, self.max_s)


def as_keep_alive(value: object) -> KeepAlivePolicy:
    """Accept a number of seconds, ``None`` (no keep-alive) or a policy object."""
    if value is None:
        return NoKeepAlive()
    if isinstance(value, bool):
        raise TypeError(f"keep_alive_s must be seconds or a keep-alive policy, got {value!r}")
    if isinstance(value, int | float):
        return FixedKeepAlive(float(value))
    if callable(getattr(value, "idle_timeout_s", None)):
        return value  # type: ignore[return-value]
    raise TypeError(
        f"keep_alive_s must be seconds (a number >= 0), None, or an object with "
        f"idle_timeout_s(function, now_s), got {value!r}"
    )


def check_idle_timeout(policy: object, function: str, value: object) -> float:
    """``value`` (what ``policy.idle_timeout_s`` returned for ``function``) as a float, or a
    ``ValueError`` naming the policy, the function and the value unless it is a real number >= 0
    (``math.inf`` included: kept until the maximum lifetime)."""
    if (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and float(value) >= 0.0):  # NaN fails the comparison
        return float(value)
    raise ValueError(
        f"keep-alive policy {type(policy).__name__}: idle_timeout_s({function!r}, now_s) "
        f"returned {value!r}; "
        f"it must return a number of seconds >= 0 (0 reclaims at once, math.inf keeps until the "
        f"maximum lifetime)"
    )
