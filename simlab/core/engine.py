"""The engine: execution environments, their pool, concurrency limits and the life of a request.

This is the heart of the simulator, on a SimPy :class:`simpy.Environment`. A request for a function
arrives (:meth:`Engine.invoke`) and goes through what Lambda does:

1. **Admission.** Concurrency (environments initialising or busy) must stay under the function's
   reserved concurrency, or under what the account leaves to unreserved functions. Provisioned
   concurrency is set aside for its function: an unreserved function uses the shared pool only
   beyond its provisioned environments. Otherwise the request is *throttled* (a 429 for a
   synchronous caller).
2. **Warm or cold.** A provisioned environment that is idle is used first; then the *most recently
   used* idle environment (a stack, O(1)), so that the others age out. With none idle, a new
   environment is created: the scaling rule must allow it (else: throttled), it is placed on a host,
   and the request waits for its INIT: a *cold start*. On-demand INIT is capped at
   :data:`INIT_LIMIT_S` (10 s): a longer one times out there, and Lambda runs it again inside the
   first invocation, under the function's timeout (so a 15 s INIT with a 3 s timeout never
   succeeds; the row gets ``init_timeout=True`` and its log an ``INIT_REPORT ... Status: timeout``
   line). A provisioned environment's INIT may take up to ``max(130 s, timeout)``; past that the
   attempt fails (end reason ``init_timeout``) and another starts.
3. **Run.** The handler's time is ``cpu / min(vcpu_share, parallelism) + io`` (or ``duration_s``).
   Peak memory above the configured memory kills the runtime (``oom``); a run reaching the timeout
   is killed at exactly ``timeout_s`` (``timeout``); otherwise it fails with probability
   ``error_rate`` (``error``) or succeeds (``ok``). A killed environment is discarded, and so is
   one whose real handler exited the runtime (``sys.exit()``: end reason ``runtime_exit``).
4. **Keep-alive.** The environment becomes idle. The keep-alive policy says how long it is kept.
   One timer per environment checks, when it fires, whether the environment was used since; if so
   it re-arms for the new deadline. An environment older than the maximum lifetime is recycled when
   it next becomes idle; with the ``recycle_prewarm`` rule a replacement is initialised at once,
   so the next request finds it warm (a new environment all the same).

Each request costs two SimPy events (its arrival, made by the source, and its completion), whatever
the number of live environments; keep-alive timers fire about once per idle period.

Glossary (each name means one thing in the code):

- **kernel**: the :class:`simpy.Environment` (simulated clock and event queue) of one run,
  ``engine.kernel`` and ``run.kernel``; read its clock with ``kernel.now``.
- **sim**: a :class:`simlab.Simulation`, the model a user builds and runs.
- **env** (:class:`~simlab.core.engine_state.ExecutionEnvironment`): an execution environment of
  a function (a sandbox with its runtime); its function's state is a
  :class:`~simlab.core.engine_state.FunctionState`.
- **request**: what a source hands to :meth:`Engine.invoke` (its keyword arguments); **call**:
  the attempt in flight it becomes (:class:`Call`, in :mod:`simlab.core.invocation`, the engine's
  public contract with the sources), changed only through its methods.

SimPy's private ``Environment._now`` and ``Event._value`` are read in this module only, on the
hot path (each request's arrival and end, each keep-alive timer): the public ``kernel.now`` and
``event.value`` properties cost 5 % on ``benchmarks/bench_engine.py`` case a (1.924 s against
1.830 s of CPU for 200,000 invocations, best of 5). Everything outside the engine uses the public
API (``kernel.now``, ``kernel.peek()``, ``event.value``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import simpy

from simlab.core.config import FunctionConfig, PlatformRules
from simlab.core.engine_state import ExecutionEnvironment, FunctionState
from simlab.core.hosts import HostPool
from simlab.core.invocation import (
    ASYNC,
    DROPPED,
    ERROR,
    OK,
    OOM,
    POLL,
    SYNC,
    THROTTLED,
    TIMEOUT,
    Call,
)
from simlab.core.keepalive import check_idle_timeout
from simlab.core.random_streams import RandomStreams
from simlab.core.records import EnvironmentRecorder, InvocationRecorder

__all__ = ["Engine", "Call", "OK", "ERROR", "TIMEOUT", "OOM", "THROTTLED", "DROPPED",
           "SYNC", "ASYNC", "POLL", "INIT_LIMIT_S", "PROVISIONED_INIT_LIMIT_S"]

# End reasons: indexes into simlab.core.records.END_REASONS.
_IDLE, _LIFETIME, _KILL_TIMEOUT, _KILL_OOM, _ALIVE, _UPDATED, _INIT_TIMEOUT, _KILL_EXIT = range(8)
#: Longest on-demand INIT (s); past it INIT is retried inside the first invocation (LAMBDA_FACTS 3).
INIT_LIMIT_S = 10.0
#: A provisioned environment's INIT may last max(this, the function's timeout) (LAMBDA_FACTS 3).
PROVISIONED_INIT_LIMIT_S = 130.0


class Engine:
    """The platform's data plane for one run.

    Parameters
    ----------
    kernel
        The SimPy environment (simulated clock and event queue).
    rules
        The platform's rules.
    functions
        The functions, in a fixed order (their index is their code in the records).
    streams
        Named random streams of the run.
    recorder
        Where invocation rows go.
    """

    def __init__(self, kernel: simpy.Environment, rules: PlatformRules,
                 functions: list[FunctionConfig], streams: RandomStreams,
                 recorder: InvocationRecorder | None = None) -> None:
        self.kernel = kernel
        self.rules = rules
        self.streams = streams
        self.recorder = recorder if recorder is not None else InvocationRecorder()
        self.envs = EnvironmentRecorder()
        self.hosts = HostPool(rules.host_memory_mb)
        self.fns = [FunctionState(cfg, i, streams) for i, cfg in enumerate(functions)]
        self.by_name = {f.name: f for f in self.fns}
        buckets = rules.scaling.buckets([f.name for f in self.fns])
        for f in self.fns:
            f.bucket = buckets[f.name]
            f.annotate = self.recorder.extra
        self.account_concurrency = rules.account_concurrency
        self.unreserved_pool = 0
        self.unreserved_in_flight = 0
        self._recount_pool()
        self.in_flight = 0
        self.max_in_flight = 0
        # A policy with run state (e.g. recent demand) gives each run its own copy.
        fresh = getattr(rules.keep_alive, "fresh", None)
        self.policy = fresh() if fresh is not None else rules.keep_alive
        self.prewarm = rules.recycle_prewarm
        self.observe: Callable[[str, float], Any] | None = getattr(self.policy, "observe", None)
        self.max_life = rules.max_lifetime_s
        self.sources: list[str] = []
        self.next_iid = 0
        self.next_env = 0
        self.alive: dict[int, ExecutionEnvironment] = {}
        self.closing = False
        self.until_s = math.inf
        self.handler_runner: Callable[[Call], None] | None = None
        self._add = self.recorder.add
        for f in self.fns:
            for _ in range(f.provisioned):
                self._provision(f, 0.0, ahead=True)

    # -- sources -------------------------------------------------------------------------------
    def source_index(self, name: str) -> int:
        """Register a source name and return its code."""
        try:
            return self.sources.index(name)
        except ValueError:
            self.sources.append(name)
            return len(self.sources) - 1

    def function(self, name: str) -> FunctionState:
        """The runtime state of function ``name``."""
        try:
            return self.by_name[name]
        except KeyError:
            raise KeyError(
                f"no function named {name!r}; functions: {sorted(self.by_name)}"
            ) from None

    def annotate(self, iid: int, column: str, value: Any) -> None:
        """Attach ``value`` to the row of invocation ``iid`` (in flight, future or throttled), in
        the sparse column ``column``."""
        self.recorder.extra(column, iid, value)

    def annotation(self, iid: int, column: str, default: Any = None) -> Any:
        """The value attached to invocation ``iid`` in column ``column`` (``default`` if none)."""
        return self.recorder.extras.get(column, {}).get(iid, default)

    # -- the life of a request -----------------------------------------------------------------
    def invoke(self, fn: FunctionState, *, source: int = 0, invocation_type: int = SYNC,
               attempt: int = 1, on_done: Callable[[Call], Any] | None = None,
               payload: Any = None, arrival: float | None = None, iid: int | None = None,
               run_s: float | None = None, fail: bool = False,
               request_key: int | None = None, tag: Any = None) -> Call | None:
        """Handle a request for ``fn`` (from :meth:`function`) arriving now.

        The one entry point for requests; everything after ``fn`` is keyword-only (a slotted
        request object, built per request, cost 6 % on ``benchmarks/bench_engine.py`` case a:
        1.830 s against 1.727 s of CPU for 200,000 invocations, best of 5).

        Parameters
        ----------
        fn
            The function's runtime state.
        source
            The source's code, from :meth:`source_index`.
        invocation_type
            ``SYNC``, ``ASYNC`` or ``POLL`` (from :mod:`simlab.core.invocation`).
        attempt
            1 for a first attempt; retries count up.
        on_done
            Called with the :class:`Call` when it ends (not for a throttled request).
        payload
            The event the handler receives.
        arrival
            When the request first reached the platform (default: now), for requests that
            waited in a queue.
        iid
            The invocation id, reserved with :meth:`new_invocation_id` (default: a new one).
        run_s
            Replaces the drawn handler time (trace replay: recorded durations).
        fail
            True makes the handler fail (status ``error``, unless it times out or runs out of
            memory first): poison records.
        request_key
            The invocation id whose request id this attempt carries (an async retry keeps its
            first attempt's, as on Lambda); by default its own.
        tag
            Anything the source wants back on the call (``call.tag``).

        Returns
        -------
        Call or None
            The call in flight, or ``None`` if the request was throttled (then ``on_done`` is
            not called; the throttled row is recorded at once).
        """
        src = source
        itype = invocation_type
        now = self.kernel._now  # SimPy private: see the module docstring
        if iid is None:
            iid = self.new_invocation_id()
        if arrival is None:
            arrival = now
        if self.observe is not None:
            self.observe(fn.name, now)
        # 1. admission
        limit = fn.limit
        pooled = limit is None and fn.in_flight >= fn.provisioned
        if limit is None:
            if pooled and self.unreserved_in_flight >= self.unreserved_pool:
                self._throttle(fn, iid, src, itype, attempt, arrival, now)
                return None
        elif fn.in_flight >= limit:
            self._throttle(fn, iid, src, itype, attempt, arrival, now)
            return None
        # 2. warm or cold
        cold = False
        retried_init = 0.0
        if fn.pidle:
            e = fn.pidle.pop()
            init = 0.0
        elif fn.idle:
            e = fn.idle.pop()
            init = 0.0
            if e.ready > now:  # a replacement still initialising: wait for the rest of INIT
                init = e.ready - now
                cold = True
        else:
            cold = True
            if not fn.bucket.take(now):
                self._throttle(fn, iid, src, itype, attempt, arrival, now)
                return None
            host, new_host = self.hosts.place(fn.memory_mb, now)
            init = fn.init()
            if init > INIT_LIMIT_S:
                # INIT timed out at the limit; it runs again inside this invocation.
                retried_init = init
                init = INIT_LIMIT_S
                self.recorder.extra("init_timeout", iid, True)
            if new_host:
                init += self.rules.host_provision_delay_s
            e = ExecutionEnvironment(self.next_env, fn, host, now, init, False)
            self.next_env += 1
            self.alive[e.env_id] = e
        e.busy = True
        fn.in_flight += 1
        if pooled:
            self.unreserved_in_flight += 1
        self.in_flight += 1
        if self.in_flight > self.max_in_flight:
            self.max_in_flight = self.in_flight
        # 3. run
        if run_s is not None:
            run = run_s
        elif fn.dur is not None:
            run = fn.dur()
        else:
            run = fn.cpu() / fn.eff_vcpu + fn.io()
        mem = fn.mem()
        if not (run >= 0.0 and init >= 0.0 and mem >= 0.0):  # also catches NaN
            self._bad_draw(fn, run, init, mem)
        run += retried_init
        u = fn.err()
        if run >= fn.timeout:
            status, run = TIMEOUT, fn.timeout
        elif mem > fn.memory_mb:
            status = OOM
        elif fail or u < fn.error_rate:
            status = ERROR
        else:
            status = OK
        c = Call()
        c.iid = iid
        c.fn = fn
        c.env = e
        c.src = src
        c.itype = itype
        c.attempt = attempt
        c.arrival = arrival
        c.start = now + init
        c.end = now + init + run
        c.init = init
        c.dur = run
        c.cold = cold
        c.status = status
        c.mem = mem if mem < fn.memory_mb else float(fn.memory_mb)
        c.on_done = on_done
        c.payload = payload
        c.output = None
        c.tag = tag
        c.key = iid if request_key is None else request_key
        if self.handler_runner is not None and fn.cfg.handler is not None:
            self.handler_runner(c)
        ev = simpy.Timeout(self.kernel, init + run, c)
        ev.callbacks.append(self._complete)
        return c

    @staticmethod
    def _bad_draw(fn: FunctionState, run: float, init: float, mem: float) -> None:
        if not mem >= 0.0:
            raise ValueError(
                f"{fn.name}.memory_used_mb drew {mem!r}; a distribution of memory used must only "
                f"draw numbers >= 0 (MB)"
            )
        what = "init_s" if not init >= 0.0 else (
            "duration_s" if fn.dur is not None else "cpu_s/io_s")
        value = init if not init >= 0.0 else run
        raise ValueError(
            f"{fn.name}.{what} drew {value!r}; a distribution of times must only draw numbers "
            f">= 0 (use a non-negative distribution such as LogNormal or a truncated one)"
        )

    def _throttle(self, fn: FunctionState, iid: int, src: int, itype: int, attempt: int,
                  arrival: float, now: float) -> None:
        self._unserved(fn, iid, src, itype, attempt, arrival, now, THROTTLED)

    def record_dropped(self, fn: FunctionState, iid: int, src: int, itype: int, attempt: int,
                       arrival: float) -> None:
        """Record a request that was dropped without running (e.g. an async event too old)."""
        self._unserved(fn, iid, src, itype, attempt, arrival, self.kernel._now, DROPPED)

    def _unserved(self, fn: FunctionState, iid: int, src: int, itype: int, attempt: int,
                  arrival: float, now: float, status: int) -> None:
        """The row of a request that never ran: no environment, no time."""
        self._add(iid, fn.idx, src, itype, attempt, arrival, now, now, 0.0, 0.0, 0, status,
                  -1, -1, 0.0, 0, fn.memory_mb, fn.arch)

    def new_invocation_id(self) -> int:
        """Reserve the next invocation id (for requests recorded later, such as queued events)."""
        iid = self.next_iid
        self.next_iid += 1
        return iid

    def _complete(self, ev: simpy.Event) -> None:
        c: Call = ev._value
        e = c.env
        fn = c.fn
        now = self.kernel._now
        fn.in_flight -= 1
        if fn.limit is None and fn.in_flight >= fn.provisioned:
            self.unreserved_in_flight -= 1
        self.in_flight -= 1
        self._add(c.iid, fn.idx, c.src, c.itype, c.attempt, c.arrival, c.start, now,
                  c.init * 1000.0, c.dur * 1000.0, c.cold, c.status, e.env_id, e.host.host_id,
                  c.mem, e.provisioned, e.mem_mb, e.arch)
        e.n += 1
        e.busy_s += c.dur
        e.last_end = now
        if c.mem > e.max_mem:
            e.max_mem = c.mem
        status = c.status
        if status == TIMEOUT or status == OOM or e.exited:
            self._end(e, now, _KILL_TIMEOUT if status == TIMEOUT
                      else _KILL_OOM if status == OOM else _KILL_EXIT)
            if e.provisioned and not self.closing and e.version == fn.version:
                self._provision(fn, now, ahead=False)
        else:
            self._release(e, now)
        if c.on_done is not None:
            c.on_done(c)

    # -- environments --------------------------------------------------------------------------
    def _release(self, e: ExecutionEnvironment, now: float) -> None:
        e.busy = False
        fn = e.fn
        if e.version != fn.version:
            self._end(e, now, _UPDATED)
            return
        if e.provisioned:
            fn.pidle.append(e)
            return
        life_end = e.created + self.max_life
        if now >= life_end:
            self._recycle(e, now)
            return
        ttl = self.policy.idle_timeout_s(fn.name, now)
        if ttl.__class__ is not float or not ttl >= 0.0:  # NaN fails the comparison
            ttl = check_idle_timeout(self.policy, fn.name, ttl)
        if ttl <= 0.0:
            self._end(e, now, _IDLE)
            return
        deadline = now + ttl
        if life_end < deadline:
            deadline = life_end
        e.deadline = deadline
        fn.idle.append(e)
        if e.timer_at is None or deadline < e.timer_at:
            self._arm(e, deadline, now)

    def _arm(self, e: ExecutionEnvironment, at: float, now: float) -> None:
        if at == math.inf:
            e.timer_at = math.inf
            return
        e.timer_at = at
        ev = simpy.Timeout(self.kernel, at - now, e)
        ev.callbacks.append(self._expire)

    def _expire(self, ev: simpy.Event) -> None:
        e: ExecutionEnvironment = ev._value
        now = self.kernel._now
        if not e.alive or self.closing or e.timer_at != now:
            return
        e.timer_at = None
        if e.busy:
            return  # _release re-arms when this request ends
        if now >= e.deadline:
            e.fn.idle.remove(e)
            if now >= e.created + self.max_life:
                self._recycle(e, now)
            else:
                self._end(e, now, _IDLE)
        else:
            self._arm(e, e.deadline, now)

    def _recycle(self, e: ExecutionEnvironment, now: float) -> None:
        """End ``e`` at its maximum lifetime; with the platform's ``recycle_prewarm`` rule, start
        a replacement now, initialised ahead of the next request (a new environment, idle)."""
        self._end(e, now, _LIFETIME)
        if not self.prewarm or self.closing:
            return
        fn = e.fn
        host, _ = self.hosts.place(fn.memory_mb, now)
        r = ExecutionEnvironment(self.next_env, fn, host, now, fn.init(), False)
        self.next_env += 1
        self.alive[r.env_id] = r
        r.busy = False
        r.deadline = r.ready + self.policy.idle_timeout_s(fn.name, now)
        fn.idle.append(r)  # where the recycled one was: the next request takes it
        self._arm(r, r.deadline, now)

    def _end(self, e: ExecutionEnvironment, now: float, reason: int) -> None:
        e.alive = False
        del self.alive[e.env_id]
        # Host memory integrals stop at the end of the run (the drain runs past it).
        e.host.change(-e.mem_mb, now if now < self.until_s else self.until_s)
        self.envs.add(e.env_id, e.fn.idx, e.host.host_id, e.mem_mb, e.provisioned,
                      e.created, e.ready, now, reason, e.n, e.busy_s, e.init_s)

    def _provision(self, fn: FunctionState, now: float, ahead: bool) -> None:
        """Create a provisioned environment: initialised before the run (``ahead``) or now."""
        host, _ = self.hosts.place(fn.memory_mb, now)
        init = fn.init()
        limit = max(PROVISIONED_INIT_LIMIT_S, fn.timeout)
        if init > limit:
            # This INIT attempt times out at the limit; Lambda starts another.
            e = ExecutionEnvironment(self.next_env, fn, host, now, limit, True)
            self.next_env += 1
            self.alive[e.env_id] = e
            ev = simpy.Timeout(self.kernel, limit, e)
            ev.callbacks.append(self._provision_timed_out)
            return
        created = now - init if ahead else now
        e = ExecutionEnvironment(self.next_env, fn, host, created, init, True)
        self.next_env += 1
        self.alive[e.env_id] = e
        if ahead:
            e.busy = False
            fn.pidle.append(e)
        else:  # initialising until ready
            ev = simpy.Timeout(self.kernel, init, e)
            ev.callbacks.append(self._provisioned_ready)

    def _recount_pool(self) -> None:
        """What the account leaves to unreserved functions, and how much of it is in use.

        Reserved concurrency and the provisioned concurrency of unreserved functions are set
        aside; an unreserved function's calls use the shared pool beyond its provisioned ones.
        """
        set_aside = sum(f.limit if f.limit is not None else f.provisioned for f in self.fns)
        self.unreserved_pool = self.account_concurrency - set_aside
        self.unreserved_in_flight = sum(max(f.in_flight - f.provisioned, 0)
                                        for f in self.fns if f.limit is None)

    def _provision_timed_out(self, ev: simpy.Event) -> None:
        e: ExecutionEnvironment = ev._value
        if not e.alive:
            return  # replaced by a configuration update meanwhile
        now = self.kernel._now
        self._end(e, now, _INIT_TIMEOUT)
        if not self.closing and e.version == e.fn.version:
            self._provision(e.fn, now, ahead=False)

    def _provisioned_ready(self, ev: simpy.Event) -> None:
        e: ExecutionEnvironment = ev._value
        if e.alive and not self.closing:
            e.busy = False
            e.fn.pidle.append(e)

    # -- the control plane ---------------------------------------------------------------------
    def update_function(self, name: str, cfg: FunctionConfig) -> None:
        """Apply a new configuration to function ``name`` now (UpdateFunctionConfiguration or
        PutFunctionConcurrency).

        As on Lambda, later requests get environments of the new version: idle environments of
        the old one are reclaimed at once (end reason ``updated``), busy ones when they finish.
        Provisioned environments are replaced by new ones initialised now.
        """
        fn = self.function(name)
        now = self.kernel._now
        fn.version += 1
        fn.configure(cfg, self.streams)
        # Reservations and provisioned concurrency move calls between the pools.
        self._recount_pool()
        for e in list(fn.idle) + fn.pidle:
            self._end(e, now, _UPDATED)
        fn.idle.clear()
        fn.pidle.clear()
        for e in [e for e in self.alive.values()
                  if e.fn is fn and e.provisioned and e.n == 0 and now < e.ready]:
            self._end(e, now, _UPDATED)  # still initialising: replaced
        for _ in range(fn.provisioned):
            self._provision(fn, now, ahead=False)

    def close(self, until_s: float) -> None:
        """Stop at ``until_s``: sources stop, nothing is reclaimed, requests in flight finish."""
        self.closing = True
        self.until_s = until_s

    def finish(self, until_s: float) -> None:
        """After the drain: record every environment still alive as ``alive``."""
        for e in list(self.alive.values()):
            end = max(until_s, e.last_end)
            e.alive = False
            self.envs.add(e.env_id, e.fn.idx, e.host.host_id, e.mem_mb, e.provisioned,
                          e.created, e.ready, end, _ALIVE, e.n, e.busy_s, e.init_s)
        self.alive.clear()
