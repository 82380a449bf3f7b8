"""The engine's state: one object per function and one per execution environment.

:class:`simlab.core.engine.Engine` keeps, for each function, a :class:`FunctionState` (its
configuration's samplers, its warm pools, how many of its requests are in flight, its scaling
bucket) and, for each execution environment, an :class:`ExecutionEnvironment` (its host, when it
was created and became ready, whether it is busy, its idle deadline, its peak memory). Both are
slotted: the engine reads and writes their attributes on every invocation, so they hold plain
values and nothing else. They are the engine's internals: sources and lessons never see them
(import-linter checks it).
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from simlab.core.config import FunctionConfig, vcpu_share
from simlab.core.dists import Sampler, as_distribution
from simlab.core.random_streams import RandomStreams
from simlab.core.records import ARCHITECTURES

__all__ = ["ExecutionEnvironment", "FunctionState"]


class ExecutionEnvironment:
    """One execution environment."""

    __slots__ = ("env_id", "fn", "host", "created", "ready", "provisioned", "alive", "busy",
                 "deadline", "timer_at", "n", "busy_s", "init_s", "last_end", "max_mem",
                 "mem_mb", "version", "arch", "exited")

    def __init__(self, env_id: int, fn: FunctionState, host: Any, created: float, init_s: float,
                 provisioned: bool) -> None:
        self.env_id = env_id
        self.fn = fn
        self.host = host
        self.created = created
        self.ready = created + init_s
        self.init_s = init_s
        self.provisioned = provisioned
        self.alive = True
        self.busy = True
        self.deadline = math.inf
        self.timer_at: float | None = None
        self.n = 0
        self.busy_s = 0.0
        self.last_end = created
        self.max_mem = 0.0
        self.mem_mb = fn.memory_mb
        self.version = fn.version
        self.arch = fn.arch
        #: Set when the handler exited the runtime: the environment ends with its request.
        self.exited = False


class FunctionState:
    """Runtime state of one function."""

    __slots__ = ("cfg", "idx", "name", "idle", "pidle", "in_flight", "limit", "bucket", "init",
                 "cpu", "io", "dur", "mem", "err", "eff_vcpu", "memory_mb", "timeout",
                 "error_rate", "provisioned", "version", "arch", "annotate")

    def __init__(self, cfg: FunctionConfig, idx: int, streams: RandomStreams) -> None:
        self.idx = idx
        self.name = cfg.name
        self.idle: deque[ExecutionEnvironment] = deque()
        self.pidle: list[ExecutionEnvironment] = []
        self.in_flight = 0
        self.bucket: Any = None
        self.version = 0
        self.configure(cfg, streams)

    def configure(self, cfg: FunctionConfig, streams: RandomStreams) -> None:
        """Take ``cfg`` as the function's configuration (a new version after the first)."""
        self.cfg = cfg
        self.limit = cfg.reserved_concurrency
        self.memory_mb = cfg.memory_mb
        self.timeout = float(cfg.timeout_s)
        self.error_rate = float(cfg.error_rate)
        self.provisioned = cfg.provisioned_concurrency
        self.arch = ARCHITECTURES.index(cfg.architecture)
        self.eff_vcpu = min(vcpu_share(cfg.memory_mb), float(cfg.parallelism))
        # Version 0 keeps plain stream names; later versions get their own streams.
        suffix = () if self.version == 0 else (f"version-{self.version}",)

        def sampler(quantity: str, dist: Any) -> Sampler:
            return Sampler(dist, streams.generator("function", cfg.name, quantity, *suffix))

        self.init = sampler("init", cfg.init_s)
        self.mem = sampler("memory_used", cfg.memory_used_mb)
        self.err = sampler("error", as_distribution(0.0, "u") if cfg.error_rate == 0 else _U01)
        if cfg.duration_s is not None:
            self.dur: Sampler | None = sampler("duration", cfg.duration_s)
            self.cpu = self.io = None
        else:
            self.dur = None
            self.cpu = sampler("cpu", cfg.cpu_s)
            self.io = sampler("io", cfg.io_s)


class _Uniform01:
    def sample(self, rng: Any, size: int) -> Any:
        return rng.random(size)


_U01 = _Uniform01()
