"""Configuration: the platform's rules (by era) and the functions that run on it.

AWS Lambda's rules changed over the years: memory went from 3,008 MB in 64 MB steps to 10,240 MB in
1 MB steps, the maximum timeout from 5 to 15 minutes, billing from 100 ms to 1 ms granularity, the
scaling rule from an account-wide burst to a per-function rate, and measured keep-alive times shrank
from about 26 to about 6 minutes. simlab offers these as *eras*, named presets of
:class:`PlatformRules`, so that a lesson can say "as in 2018" and every rule can still be
overridden.

Every value comes from ``docs/lambda_facts.md`` (LAMBDA_FACTS: the platform's numbers, each with
its public source); the section is noted beside it.
All validation happens here, before a simulation starts, with errors that name the parameter, the
value and the allowed range.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simlab.core import validate
from simlab.core.dists import Constant, LogNormal, as_distribution
from simlab.core.keepalive import FixedKeepAlive, KeepAlivePolicy, as_keep_alive
from simlab.core.scaling import AccountBurstScaling, PerFunctionScaling, ScalingRule
from simlab.core.schema import ARCHITECTURES

__all__ = ["PlatformRules", "FunctionConfig", "ERAS", "era_rules", "vcpu_share"]

#: Memory that buys one full vCPU (LAMBDA_FACTS 2: AWS configuration-memory page).
MB_PER_VCPU = 1769.0
#: Most vCPUs a function can get (LAMBDA_FACTS 2: "up to 10 GB of memory and 6 vCPUs", Dec 2020).
MAX_VCPUS = 6.0


def _int_in(name: str, value: Any, low: float, high: float, why: str = "") -> int:
    return validate.integer(name, value, low, high, why=why)


def _num_in(name: str, value: Any, low: float, high: float) -> float:
    return validate.real(name, value, low, high)


def vcpu_share(memory_mb: float) -> float:
    """CPU share a function of ``memory_mb`` gets: proportional to memory, 1 vCPU at 1,769 MB, at
    most 6.

    >>> round(vcpu_share(1769), 3), round(vcpu_share(128), 4), round(vcpu_share(10240), 3)
    (1.0, 0.0724, 5.789)
    """
    return min(memory_mb / MB_PER_VCPU, MAX_VCPUS)


@dataclass(frozen=True)
class PlatformRules:
    """The rules of one platform (a region of one account), with the era they come from.

    Parameters
    ----------
    era
        Name of the preset these rules started from ("2018", "2020" or "today").
    date
        The date the era stands for; billing uses it to pick the price sheet and INIT billing rule.
    keep_alive
        Keep-alive policy (seconds, ``None`` for none, or a policy object).
    max_lifetime_s
        An environment older than this is recycled when it next becomes idle (``math.inf``: never).
    memory_min_mb, memory_max_mb, memory_step_mb
        Allowed function memory: ``min + k * step`` up to ``max``.
    timeout_max_s
        Longest allowed function timeout.
    scaling
        Scaling-rate rule (see :mod:`simlab.core.scaling`).
    billing_granularity_ms
        Billed duration is rounded up to a multiple of this.
    account_concurrency
        Account concurrency limit (environments initialising or busy at once).
    unreserved_minimum
        Concurrency that reservations must leave to unreserved functions (AWS: 100).
    host_memory_mb
        Memory of one host (EC2 instance) available to environments.
    host_provision_delay_s
        Extra delay of a cold start that needs a new host.
    recycle_prewarm
        When an environment is recycled at ``max_lifetime_s``, initialise its replacement at once
        (AWS documents that it may pre-initialise environments, LAMBDA_FACTS 4.1); the next
        request then starts warm in a new environment.
    """

    era: str = "today"
    date: dt.date = dt.date(2026, 11, 27)
    keep_alive: Any = 360.0
    max_lifetime_s: float = 7200.0
    memory_min_mb: int = 128
    memory_max_mb: int = 10240
    memory_step_mb: int = 1
    timeout_max_s: float = 900.0
    scaling: ScalingRule = field(default_factory=PerFunctionScaling)
    billing_granularity_ms: float = 1.0
    account_concurrency: int = 1000
    unreserved_minimum: int = 100
    host_memory_mb: int = 10240
    host_provision_delay_s: float = 0.0
    recycle_prewarm: bool = False

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        keep_alive = self.keep_alive
        if validate.is_real(keep_alive):
            keep_alive = validate.real("keep_alive_s", keep_alive, 0, allow_inf=True,
                                       why="(seconds)")
        set_(self, "keep_alive", as_keep_alive(keep_alive))
        set_(self, "account_concurrency",
             _int_in("account_concurrency", self.account_concurrency, 1, 10_000_000))
        set_(self, "unreserved_minimum",
             _int_in("unreserved_minimum", self.unreserved_minimum, 0, self.account_concurrency))
        set_(self, "memory_min_mb", _int_in("memory_min_mb", self.memory_min_mb, 1, 1_000_000))
        set_(self, "memory_max_mb",
             _int_in("memory_max_mb", self.memory_max_mb, self.memory_min_mb, 1_000_000))
        set_(self, "memory_step_mb",
             _int_in("memory_step_mb", self.memory_step_mb, 1, self.memory_max_mb))
        set_(self, "timeout_max_s", _num_in("timeout_max_s", self.timeout_max_s, 1, 86_400))
        set_(self, "max_lifetime_s",
             validate.real("max_lifetime_s", self.max_lifetime_s, 0, low_open=True,
                           allow_inf=True, unit="seconds", why="(inf: never recycled)"))
        set_(self, "billing_granularity_ms",
             validate.real("billing_granularity_ms", self.billing_granularity_ms, 0,
                           3_600_000, low_open=True))
        set_(self, "host_memory_mb", _int_in(
            "host_memory_mb", self.host_memory_mb, self.memory_min_mb, 100_000_000,
            why="(a host must hold at least one environment of the smallest memory size)"))
        set_(self, "host_provision_delay_s",
             _num_in("host_provision_delay_s", self.host_provision_delay_s, 0, 86_400))
        if not isinstance(self.scaling, PerFunctionScaling | AccountBurstScaling):
            raise validate.fail("scaling", self.scaling,
                                "PerFunctionScaling or AccountBurstScaling")
        if not isinstance(self.recycle_prewarm, bool):
            raise validate.fail("recycle_prewarm", self.recycle_prewarm, "True or False")
        if not isinstance(self.date, dt.date):
            raise validate.fail("date", self.date, "a datetime.date")
        validate.text("era", self.era)

    @property
    def keep_alive_policy(self) -> KeepAlivePolicy:
        """The keep-alive policy object."""
        return self.keep_alive

    def replace(self, **changes: Any) -> PlatformRules:
        """Return a copy with ``changes`` applied (and validated)."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            allowed = ", ".join(f.name for f in dataclasses.fields(self))
            raise validate.BadInput(
                f"unknown platform rule(s) {sorted(unknown)}; allowed: {allowed}")
        account = changes.get("account_concurrency")
        if "unreserved_minimum" not in changes and validate.is_whole(account):
            # AWS keeps 100 unreserved, or less on accounts whose limit is lower (seen: 50).
            changes["unreserved_minimum"] = min(self.unreserved_minimum, max(int(account), 0))
        return dataclasses.replace(self, **changes)


def _legacy_memory() -> dict[str, Any]:
    # 128-3,008 MB in 64 MB steps until 1 Dec 2020 (LAMBDA_FACTS 2, DG-git limits.md).
    return {"memory_min_mb": 128, "memory_max_mb": 3008, "memory_step_mb": 64}


#: Named presets of the platform's rules. Sources in LAMBDA_FACTS.md (section in brackets).
ERAS: dict[str, PlatformRules] = {
    "2018": PlatformRules(
        era="2018",
        date=dt.date(2018, 6, 1),
        # Idle instances kept ~26 min (Wang et al., USENIX ATC '18) [4.2].
        keep_alive=26 * 60.0,
        # Recycling of busy environments ~2 h, measured 2020; the only figure published [4.2].
        max_lifetime_s=7200.0,
        **_legacy_memory(),
        # 300 s maximum timeout until Oct 2018 [3].
        timeout_max_s=300.0,
        # Account burst 3,000 (us-east-1) then +500/min, until Nov 2023 [5].
        scaling=AccountBurstScaling(burst=3000, per_minute=500),
        # 100 ms billing until Dec 2020 [1.5].
        billing_granularity_ms=100.0,
        # Wang et al. 2018: about 3 GB of functions per VM [4.2, DESIGN Hosts].
        host_memory_mb=3008,
    ),
    "2020": PlatformRules(
        era="2020",
        date=dt.date(2020, 6, 1),
        # Fixed ~10 min after the last request, Jul 2019 - Apr 2020 (Shilkov) [4.2]; the
        # aws_lambda_2020 measurements agree for a rarely called function (a busy one kept idle
        # instances up to about 21 min: see lesson 8).
        keep_alive=600.0,
        # Busy environments recycled roughly every 2 h (xebia, 2020) [4.2].
        max_lifetime_s=7200.0,
        **_legacy_memory(),
        # 900 s since Oct 2018 [3].
        timeout_max_s=900.0,
        scaling=AccountBurstScaling(burst=3000, per_minute=500),
        billing_granularity_ms=100.0,
        host_memory_mb=3008,
    ),
    "today": PlatformRules(
        era="today",
        date=dt.date(2026, 11, 27),
        # 5-7 min in Jan 2021, the latest published measurement (P(cold) 0.41 at 6 min) [4.2].
        keep_alive=360.0,
        max_lifetime_s=7200.0,
        # 128-10,240 MB in 1 MB steps since 1 Dec 2020 [2].
        memory_min_mb=128,
        memory_max_mb=10240,
        memory_step_mb=1,
        timeout_max_s=900.0,
        # Per function +1,000 environments every 10 s since 26-27 Nov 2023 [5].
        scaling=PerFunctionScaling(step=1000, period_s=10.0),
        # 1 ms billing since Dec 2020 [1.5].
        billing_granularity_ms=1.0,
        # Not published. A teaching assumption: the smallest host that fits the largest function.
        host_memory_mb=10240,
    ),
}


def era_rules(era: str = "today", **overrides: Any) -> PlatformRules:
    """Return the rules of ``era`` with ``overrides`` applied.

    ``keep_alive_s`` is accepted as an alias of ``keep_alive``.
    """
    validate.one_of("era", era, sorted(ERAS))
    if "keep_alive_s" in overrides:
        if "keep_alive" in overrides:
            raise validate.BadInput("give keep_alive_s or keep_alive, not both")
        overrides["keep_alive"] = overrides.pop("keep_alive_s")
    return ERAS[era].replace(**overrides) if overrides else ERAS[era]


# Default cold-start overhead: Python's median 0.22 s (Shilkov, Jan 2021) [4.3]. sigma 0.3 puts the
# 95 % range near the measured 0.15 to 0.53 s upper tail without overshooting the lower one.
DEFAULT_INIT = LogNormal(median=0.22, sigma=0.3)
# A small Python function's peak memory: 54 MB in the aws_lambda_2020 measurements.
DEFAULT_MEMORY_USED = Constant(54.0)

PACKAGE_TYPES = ("zip", "image")

#: The UTC instant simulated time 0 stands for unless a run says otherwise (log, trail, schedule
#: and payload timestamps): midnight UTC of the "today" era's date, so that a run of today's rules
#: is dated when they were read (a run of an older era is dated at its own era's date).
DEFAULT_EPOCH: dt.datetime = dt.datetime.combine(ERAS["today"].date, dt.time(), tzinfo=dt.UTC)


@dataclass(frozen=True)
class FunctionConfig:
    """One function: its configuration and the behaviour of its code.

    Parameters
    ----------
    name
        Function name (1 to 64 letters, digits, hyphens or underscores, as AWS allows).
    memory_mb
        Configured memory; also sets the CPU share (see :func:`vcpu_share`).
    timeout_s
        The runtime is killed after this many seconds of handler time (whole seconds, as AWS).
    architecture
        ``"x86_64"`` or ``"arm64"`` (prices differ).
    runtime
        Runtime label, e.g. ``"python3.12"``; ``"provided.*"`` is a custom runtime (INIT billed).
    package_type
        ``"zip"`` or ``"image"`` (container images have INIT billed).
    ephemeral_storage_mb
        /tmp size, 512 to 10,240 MB (billed beyond 512).
    reserved_concurrency
        Reserved concurrency: a maximum and a guarantee; ``None`` for none, 0 throttles everything.
    provisioned_concurrency
        Environments initialised before the run and kept while configured.
    init_s
        Distribution (or number) of the cold-start overhead, in seconds.
    cpu_s
        CPU seconds one invocation needs at one full vCPU.
    io_s
        Seconds one invocation waits (network, disk) whatever its CPU share.
    duration_s
        Shorthand for a fixed-shape run time independent of memory (same as ``io_s``); give either
        ``duration_s`` or ``cpu_s``/``io_s``. Default when none is given: 0.1 s.
    parallelism
        Threads the code can keep busy; CPU work gains from shares above 1 vCPU only up to this.
    memory_used_mb
        Distribution of the peak memory of one invocation; above ``memory_mb`` the runtime is
        killed (status ``oom``).
    error_rate
        Probability that the handler raises (status ``error``).
    handler
        Optional real ``handler(event, context)``; see :mod:`simlab.aws.sources` for how it is
        called.
    """

    name: str
    memory_mb: int = 128
    timeout_s: float = 3.0
    architecture: str = "x86_64"
    runtime: str = "python3.12"
    package_type: str = "zip"
    ephemeral_storage_mb: int = 512
    reserved_concurrency: int | None = None
    provisioned_concurrency: int = 0
    init_s: Any = DEFAULT_INIT
    cpu_s: Any = None
    io_s: Any = None
    duration_s: Any = None
    parallelism: int = 1
    memory_used_mb: Any = DEFAULT_MEMORY_USED
    error_rate: float = 0.0
    handler: Callable[..., Any] | None = None

    def __post_init__(self) -> None:
        name = self.name
        if not (isinstance(name, str) and 1 <= len(name) <= 64
                and all(c.isalnum() or c in "-_" for c in name) and name.isascii()):
            raise validate.BadInput(
                f"function name must be 1 to 64 letters, digits, '-' or '_', got {name!r}"
            )
        if self.duration_s is not None and (self.cpu_s is not None or self.io_s is not None):
            raise validate.BadInput(
                f"function {name!r}: give duration_s, or cpu_s and/or io_s, not both"
            )
        if self.duration_s is None and self.cpu_s is None and self.io_s is None:
            object.__setattr__(self, "duration_s", 0.1)
        set_ = object.__setattr__
        set_(self, "init_s", as_distribution(self.init_s, f"{name}.init_s"))
        if self.duration_s is not None:
            set_(self, "duration_s", as_distribution(self.duration_s, f"{name}.duration_s"))
        else:
            set_(self, "cpu_s", as_distribution(self.cpu_s or 0.0, f"{name}.cpu_s"))
            set_(self, "io_s", as_distribution(self.io_s or 0.0, f"{name}.io_s"))
        set_(self, "memory_used_mb",
             as_distribution(self.memory_used_mb, f"{name}.memory_used_mb"))
        set_(self, "error_rate", _num_in(f"{name}.error_rate", self.error_rate, 0.0, 1.0))
        set_(self, "parallelism", _int_in(f"{name}.parallelism", self.parallelism, 1, 64))
        set_(self, "ephemeral_storage_mb", _int_in(
            f"{name}.ephemeral_storage_mb", self.ephemeral_storage_mb, 512, 10240))
        set_(self, "provisioned_concurrency", _int_in(
            f"{name}.provisioned_concurrency", self.provisioned_concurrency, 0, 10_000_000))
        # Whole numbers of any integer type are kept as int; the era's limits are checked by
        # check_against.
        if validate.is_whole(self.memory_mb):
            set_(self, "memory_mb", int(self.memory_mb))
        if validate.is_real(self.timeout_s) and not validate.is_whole(self.timeout_s):
            set_(self, "timeout_s", float(self.timeout_s))
        elif validate.is_whole(self.timeout_s):
            set_(self, "timeout_s", int(self.timeout_s))
        if self.reserved_concurrency is not None:
            set_(self, "reserved_concurrency", _int_in(
                f"{name}.reserved_concurrency", self.reserved_concurrency, 0, 10_000_000))
            if self.provisioned_concurrency > self.reserved_concurrency:
                raise validate.BadInput(
                    f"{name}.provisioned_concurrency ({self.provisioned_concurrency}) must not "
                    f"exceed its reserved_concurrency ({self.reserved_concurrency})"
                )
        validate.one_of(f"{name}.architecture", self.architecture, ARCHITECTURES)
        validate.one_of(f"{name}.package_type", self.package_type, PACKAGE_TYPES)
        validate.text(f"{name}.runtime", self.runtime, what="label")
        if self.handler is not None and not callable(self.handler):
            raise validate.fail(f"{name}.handler", self.handler, "callable(event, context)")

    def check_against(self, rules: PlatformRules) -> None:
        """Raise a clear error if this function breaks a limit of ``rules``."""
        name, m = self.name, self.memory_mb
        lo, hi, step = rules.memory_min_mb, rules.memory_max_mb, rules.memory_step_mb
        if not validate.is_whole(m) or not lo <= m <= hi or (m - lo) % step:
            steps = "in 1 MB steps" if step == 1 else f"in {step} MB steps ({lo}, {lo + step}, ...)"
            raise validate.BadInput(
                f"{name}.memory_mb must be {lo:,} to {hi:,} MB {steps} in the {rules.era!r} era, "
                f"got {m!r}"
            )
        t = self.timeout_s
        if (not validate.is_real(t) or not math.isfinite(t) or t != int(t)
                or not 1 <= t <= rules.timeout_max_s):
            raise validate.BadInput(
                f"{name}.timeout_s must be whole seconds from 1 to {rules.timeout_max_s:g} in the "
                f"{rules.era!r} era, got {t!r}"
            )
        if m > rules.host_memory_mb:
            raise validate.BadInput(
                f"{name}.memory_mb ({m}) exceeds host_memory_mb ({rules.host_memory_mb}): no host "
                f"could hold its environments; raise host_memory_mb"
            )
        # Features newer than the era (provisioned concurrency, arm64, larger /tmp...).
        from simlab.core.features import check_function

        check_function(self, rules)

    def replace(self, **changes: Any) -> FunctionConfig:
        """Return a copy with ``changes`` applied (and validated).

        Giving ``cpu_s`` or ``io_s`` replaces a ``duration_s`` shorthand, and the reverse. The
        name cannot change (the update API names the function; it cannot rename it).
        """
        check_function_keys(self.name, {k: v for k, v in changes.items() if k != "name"})
        if "name" in changes and changes["name"] != self.name:
            raise validate.BadInput(f"{self.name}: name cannot be changed (got "
                                    f"name={changes['name']!r}); a function keeps the name it "
                                    f"was created with")
        if ("cpu_s" in changes or "io_s" in changes) and "duration_s" not in changes:
            changes["duration_s"] = None
        if "duration_s" in changes and changes["duration_s"] is not None:
            changes.setdefault("cpu_s", None)
            changes.setdefault("io_s", None)
        return dataclasses.replace(self, **changes)


def check_function_keys(name: str, config: dict[str, Any]) -> None:
    """Raise :class:`~simlab.core.validate.BadInput` for keys ``FunctionConfig`` does not take."""
    allowed = [f.name for f in dataclasses.fields(FunctionConfig) if f.name != "name"]
    unknown = sorted(set(config) - set(allowed))
    if unknown:
        raise validate.BadInput(f"{name}: unknown configuration key(s) {unknown}; "
                                f"allowed: {allowed}")


def check_concurrency(functions: list[FunctionConfig], rules: PlatformRules) -> None:
    """Enforce AWS's rule that reservations leave ``unreserved_minimum`` to everyone else."""
    reserved = 0
    for f in functions:
        r = f.reserved_concurrency
        reserved += r if r is not None else f.provisioned_concurrency
    limit = rules.account_concurrency - rules.unreserved_minimum
    if reserved > limit:
        raise validate.BadInput(
            f"reserved plus provisioned concurrency of all functions ({reserved:,}) decreases the "
            f"account's unreserved concurrency below its minimum value of "
            f"{rules.unreserved_minimum:,}: at most {max(limit, 0):,} of the account's "
            f"{rules.account_concurrency:,} may be reserved"
        )


__all__ += ["check_concurrency", "FixedKeepAlive"]
