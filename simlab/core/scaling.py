"""Scaling-rate rules: how fast a burst of traffic may create new execution environments.

Concurrency limits say how many environments may be busy at once; the *scaling rate* says how fast
that number may grow. AWS changed the rule on 26-27 November 2023:

* **before**: an account-wide initial burst of 500 to 3,000 environments (3,000 in us-east-1), then
  500 more per minute, shared by all functions of the account;
* **since**: every function may add 1,000 environments every 10 seconds, independently.

Both are modelled as *token buckets* on new environments: a bucket holds at most ``capacity``
tokens, refills continuously at ``rate_per_s`` and a cold start takes one token. A request that
needs a new environment when its bucket is empty is throttled. Warm starts take no token. The bucket
is topped up lazily when asked, so it costs no simulation events.
"""

from __future__ import annotations

from dataclasses import dataclass

from simlab.core import validate

__all__ = ["TokenBucket", "PerFunctionScaling", "AccountBurstScaling", "ScalingRule"]


class TokenBucket:
    """A token bucket refilled continuously, starting full."""

    __slots__ = ("capacity", "rate_per_s", "tokens", "last_s")

    def __init__(self, capacity: float, rate_per_s: float) -> None:
        self.capacity = float(capacity)
        self.rate_per_s = float(rate_per_s)
        self.tokens = float(capacity)
        self.last_s = 0.0

    def take(self, now_s: float) -> bool:
        """Take one token at ``now_s`` if there is one; return whether it was taken."""
        tokens = self.tokens + (now_s - self.last_s) * self.rate_per_s
        if tokens > self.capacity:
            tokens = self.capacity
        self.last_s = now_s
        if tokens >= 1.0:
            self.tokens = tokens - 1.0
            return True
        self.tokens = tokens
        return False


@dataclass(frozen=True)
class PerFunctionScaling:
    """Since Nov 2023: each function may add ``step`` environments every ``period_s`` seconds."""

    step: int = 1000
    period_s: float = 10.0

    def __post_init__(self) -> None:
        validate.integer("scaling step", self.step, 1, unit="environments")
        validate.real("scaling period_s", self.period_s, 0, low_open=True, unit="seconds")

    def buckets(self, functions: list[str]) -> dict[str, TokenBucket]:
        """One independent bucket per function."""
        return {f: TokenBucket(self.step, self.step / self.period_s) for f in functions}


@dataclass(frozen=True)
class AccountBurstScaling:
    """Before Nov 2023: an account-wide ``burst``, then ``per_minute`` more environments a
    minute."""

    burst: int = 3000
    per_minute: int = 500

    def __post_init__(self) -> None:
        validate.integer("scaling burst", self.burst, 1, unit="environments")
        validate.real("scaling per_minute", self.per_minute, 1, unit="environments a minute")

    def buckets(self, functions: list[str]) -> dict[str, TokenBucket]:
        """One bucket shared by every function of the account."""
        shared = TokenBucket(self.burst, self.per_minute / 60.0)
        return dict.fromkeys(functions, shared)


ScalingRule = PerFunctionScaling | AccountBurstScaling
