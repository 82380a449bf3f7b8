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
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["KeepAlivePolicy", "FixedKeepAlive", "NoKeepAlive", "as_keep_alive",
           "check_idle_timeout"]


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
