"""The simulation: one platform, its functions and sources, run for a span of simulated time.

>>> import simlab
>>> sim = (simlab.Simulation(era="2018", seed=1, keep_alive_s=600)
...        .add_function("resize", memory_mb=512, timeout_s=3, init_s=0.25, duration_s=1.9)
...        .add_source(simlab.sources.Poisson(rate_per_s=0.9), target="resize"))
>>> sim.functions["resize"].memory_mb
512
>>> result = sim.run(until_s=3600)
>>> bool(result.summary()["cold_start_fraction"] < 0.01)
True

A :class:`Simulation` is a description; :meth:`Simulation.run` builds a fresh SimPy environment
each time, so the same simulation run twice with the same seed gives identical results. All
configuration is validated when it is given (``add_function``, ``add_source``) or, for what depends
on everything together (the 100-unreserved concurrency rule), when ``run`` starts, before any
simulated time passes.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import numbers
from collections.abc import Callable, Iterator
from typing import Any, Self

import numpy as np
import simpy

from simlab.aws.sources.base import Source
from simlab.core import validate
from simlab.core.config import (
    DEFAULT_EPOCH,
    FunctionConfig,
    PlatformRules,
    check_concurrency,
    check_function_keys,
    era_rules,
)
from simlab.core.engine import Engine
from simlab.core.features import check_function, refuse
from simlab.core.invocation import ASYNC, Call
from simlab.core.random_streams import RandomStreams
from simlab.core.result import Result

__all__ = ["Simulation", "Run", "DEFAULT_EPOCH", "MAX_EVENTS"]

#: Simulated time 0 is this instant (UTC), for timestamps in logs and event payloads.

#: Most requests a run's sources may be expected to send unless ``run(max_events=...)`` says more.
MAX_EVENTS = 100_000_000


class Run:
    """What sources see of a run in progress: the clock, the platform and named random streams."""

    def __init__(self, simulation: Simulation, kernel: simpy.Environment, engine: Engine,
                 until_s: float) -> None:
        self.simulation = simulation
        self.kernel = kernel
        self.engine = engine
        self.until_s = until_s
        self.seed = simulation.seed
        self.epoch = simulation.epoch
        self.streams = engine.streams  # one set of named streams per run
        #: Shared services that sources create on demand (e.g. the async event queue).
        self.services: dict[str, Any] = {}

    @property
    def now(self) -> float:
        """Current simulated time (s)."""
        return self.kernel.now

    def rng(self, *names: str) -> np.random.Generator:
        """A generator for the stream ``names`` (e.g. ``("source", "poisson")``)."""
        return self.streams.generator(*names)

    def service(self, name: str, factory: Callable[[Run], Any], *,
                shared: bool | type | tuple[type, ...] = True) -> Any:
        """The run's service ``name``, created by ``factory(run)`` on first use.

        Services are what a run's sources keep while it runs and leave for inspection: the
        async event queue, a queue's log, a bucket's contents... The result hands each out as
        ``result.output(name)`` (or ``result.output(source)``). This is the only way to add one.

        Parameters
        ----------
        name
            The service's name, unique within the run.
        factory
            Makes the service when it does not exist yet.
        shared
            Whether a second request for ``name`` gets the same object: ``True`` (a service
            shared by several sources, such as the async queue), ``False`` (one source's own,
            so a second request is two things wanting one name: an error), or a class (shared
            only if the service there is of that class).

        Raises
        ------
        ValueError
            ``name`` is taken and may not be shared.
        """
        if name not in self.services:
            self.services[name] = factory(self)
            return self.services[name]
        existing = self.services[name]
        if shared is True or (shared is not False and isinstance(existing, shared)):
            return existing
        raise ValueError(f"two things of this run want the name {name!r} for their output (a "
                         f"source and a destination, or two of either); give one of them "
                         f"another name")

    def invoke(self, target: str, payload: Any = None, *, invocation_type: str = "sync",
               source: str = "sdk", on_done: Callable[[Call], Any] | None = None) -> Any:
        """Send one request to ``target`` now.

        ``"sync"`` returns the :class:`~simlab.core.invocation.Call` in flight (``None`` when
        throttled); ``"async"`` hands the event to the platform's internal queue.
        """
        fn = self.engine.function(target)
        src = self.engine.source_index(source)
        if invocation_type == "sync":
            return self.engine.invoke(fn, source=src, on_done=on_done, payload=payload)
        if invocation_type == "async":
            return self._async_queue().submit(fn, src, payload, on_done)
        raise ValueError(f"invocation_type must be 'sync' or 'async', got {invocation_type!r}")

    def _async_queue(self) -> Any:
        from simlab.aws.sources.invoke_async import AsyncEventQueue

        return self.service("async", AsyncEventQueue)

    def deliverer(self, targets: list[str], source: str,
                  invocation_type: str = "sync") -> Callable[[Any], None]:
        """A fast function ``deliver(payload)`` that sends one request to every target now."""
        engine = self.engine
        fns = [engine.function(t) for t in targets]
        src = engine.source_index(source)
        if invocation_type == "sync":
            invoke = engine.invoke
            if len(fns) == 1:
                only = fns[0]
                return lambda payload: invoke(only, source=src, payload=payload)

            def deliver_all(payload: Any) -> None:
                for fn in fns:
                    invoke(fn, source=src, payload=payload)

            return deliver_all
        queue = self._async_queue()

        def deliver_async(payload: Any) -> None:
            for fn in fns:
                queue.submit(fn, src, payload, None)

        return deliver_async


class Simulation:
    """A platform with functions and sources, ready to run.

    Parameters
    ----------
    era
        Preset of platform rules: ``"2018"``, ``"2020"`` or ``"today"`` (see
        :data:`simlab.core.config.ERAS`).
    seed
        Seed of every random stream of the run (a whole number >= 0).
    epoch
        The UTC instant that simulated time 0 stands for (log, trail and payload timestamps).
        Default: midnight UTC of the era's date, at the latest :data:`DEFAULT_EPOCH`
        (2026-11-27, today's era's date), so that a 2018 run is dated in 2018.
    **rules
        Overrides of the era's rules (see :class:`simlab.core.config.PlatformRules`), for example
        ``keep_alive_s=600``, ``account_concurrency=200``, ``billing_granularity_ms=100``.
    """

    def __init__(self, era: str = "today", seed: int = 0, *,
                 epoch: dt.datetime | None = None, **rules: Any) -> None:
        self.rules: PlatformRules = era_rules(era, **rules)
        if epoch is None:
            epoch = min(DEFAULT_EPOCH, dt.datetime.combine(self.rules.date, dt.time(),
                                                           tzinfo=dt.UTC))
        RandomStreams(seed)  # validates the seed
        self.seed = int(seed)
        if not isinstance(epoch, dt.datetime) or epoch.tzinfo is None:
            raise ValueError(f"epoch must be a timezone-aware datetime, got {epoch!r}")
        self.epoch = epoch
        self.functions: dict[str, FunctionConfig] = {}
        self.sources: list[tuple[Source, list[str]]] = []
        self._kinds: dict[str, int] = {}
        #: Control-plane actions scheduled during the run: (time_s, api name, function, changes).
        self.actions: list[tuple[float, str, str, dict[str, Any]]] = []
        self._history: dict[str, tuple[list[float], list[FunctionConfig]]] = {}
        #: Asynchronous invocation settings per function (see :meth:`configure_async`).
        self.async_configs: dict[str, Any] = {}

    # -- building ------------------------------------------------------------------------------
    def add_function(self, name: str, **config: Any) -> Self:
        """Add a function; see :class:`simlab.core.config.FunctionConfig` for the parameters.

        Returns this simulation, so that calls chain; the new configuration is
        ``sim.functions[name]``.
        """
        if name in self.functions:
            raise ValueError(f"a function named {name!r} exists already")
        check_function_keys(str(name), config)
        cfg = FunctionConfig(name, **config)
        cfg.check_against(self.rules)
        self.functions[name] = cfg
        return self

    def add_source(self, source: Source, target: str | list[str],
                   name: str | None = None) -> Self:
        """Attach ``source`` so that it sends requests to ``target`` (one name or a list).

        Returns this simulation, so that calls chain; the source, named (``source.name``), is
        the last entry of ``sim.sources``, a list of ``(source, targets)`` pairs.
        """
        if not isinstance(source, Source):
            raise TypeError(f"source must be a simlab source (e.g. simlab.sources.Poisson), "
                            f"got {source!r}")
        if isinstance(target, str) and target:
            targets = [target]
        elif (isinstance(target, list | tuple) and target
              and all(isinstance(t, str) and t for t in target)):
            targets = list(target)
        else:
            raise validate.fail("target", target, "a function name or a non-empty list of "
                                                  "function names")
        repeated = sorted({t for t in targets if isinstance(t, str) and targets.count(t) > 1})
        if repeated:
            raise ValueError(f"target names function(s) {repeated} more than once, got "
                             f"{target!r}; each target gets every request, so list each "
                             f"function once")
        for attached, _ in self.sources:
            if attached is source:
                raise ValueError(f"this source object is attached already (as "
                                 f"{attached.name!r}); to send the same traffic to more "
                                 f"functions give them all in one target list, or make a second "
                                 f"source object for independent traffic")
        for t in targets:
            if t not in self.functions:
                raise ValueError(f"target {t!r} is not a function of this simulation; add it "
                                 f"first with add_function (functions: {sorted(self.functions)})")
        source.validate(targets)
        for t in targets:
            source.check_config(t, self.functions[t])
            for at_s, cfg in zip(*self._history_of(t), strict=True):
                source.check_config(t, cfg, at_s)
        if name is not None and not (isinstance(name, str) and name.strip()
                                     and name.isprintable()):
            raise ValueError(f"name must be a non-empty text naming the source, got {name!r}")
        if name is None:
            k = self._kinds.get(source.kind, 0) + 1
            self._kinds[source.kind] = k
            name = source.kind if k == 1 else f"{source.kind}-{k}"
        if any(s.name == name for s, _ in self.sources):
            raise ValueError(f"a source named {name!r} exists already")
        source.name = name
        self.sources.append((source, targets))
        return self

    def configure_async(self, function: str, **settings: Any) -> Any:
        """Asynchronous invocation settings of ``function`` (retries, maximum event age,
        destinations, dead-letter queue); see :func:`simlab.aws.sources.configure_async`."""
        from simlab.aws.sources import configure_async

        return configure_async(self, function, **settings)

    # -- the control plane during a run ----------------------------------------------------------
    def update_function_configuration(self, at_s: float, function: str,
                                      **changes: Any) -> None:
        """Change ``function``'s configuration at simulated time ``at_s`` (for example
        ``memory_mb=1024``), as the UpdateFunctionConfiguration API call does. Validated now."""
        self._schedule_action(at_s, "UpdateFunctionConfiguration", function, changes)

    def put_function_concurrency(self, at_s: float, function: str,
                                 reserved_concurrency: int | None) -> None:
        """Set (or, with ``None``, remove) ``function``'s reserved concurrency at ``at_s``."""
        name = ("PutFunctionConcurrency" if reserved_concurrency is not None
                else "DeleteFunctionConcurrency")
        self._schedule_action(at_s, name, function,
                              {"reserved_concurrency": reserved_concurrency})

    def _schedule_action(self, at_s: float, api: str, function: str,
                         changes: dict[str, Any]) -> None:
        if function not in self.functions:
            raise ValueError(f"no function named {function!r}; functions: "
                             f"{sorted(self.functions)}")
        at_s = validate.real("at_s", at_s, 0, unit="seconds")
        if not changes:
            raise ValueError("give at least one configuration change")
        # Validate against everything configured so far, applied in time order.
        cfg = self._config_at(function, at_s).replace(**changes)
        cfg.check_against(self.rules)
        before = list(self.actions)
        latest = not self.actions or at_s >= self.actions[-1][0]
        self.actions.append((float(at_s), api, function, dict(changes)))
        self.actions.sort(key=lambda a: a[0])
        times_f, cfgs_f = self._history_of(function)
        if not times_f or at_s >= times_f[-1]:
            times_f.append(float(at_s))
            cfgs_f.append(cfg)
        else:
            self._history.pop(function)  # rebuilt from the actions when next asked
        # The 100-unreserved rule at this change and, if it lands before others, at every later
        # one (appending in time order, the usual case, checks one time only).
        times = [float(at_s)] if latest else sorted({a[0] for a in self.actions if a[0] >= at_s})
        try:
            for t in times:
                check_concurrency([self._config_at(f, t) for f in self.functions], self.rules)
            for source, targets in self.sources:
                if function in targets:
                    for t, c in zip(*self._history_of(function), strict=True):
                        source.check_config(function, c, t)
        except ValueError:
            self.actions = before
            self._history.pop(function, None)
            raise

    def _history_of(self, function: str) -> tuple[list[float], list[FunctionConfig]]:
        """The times of ``function``'s scheduled changes and its configuration after each."""
        if function not in self._history:
            times: list[float] = []
            cfgs: list[FunctionConfig] = []
            cfg = self.functions[function]
            for t, _, name, changes in self.actions:
                if name == function:
                    cfg = cfg.replace(**changes)
                    times.append(t)
                    cfgs.append(cfg)
            self._history[function] = (times, cfgs)
        return self._history[function]

    def _config_at(self, function: str, at_s: float) -> FunctionConfig:
        times, cfgs = self._history_of(function)
        i = bisect.bisect_right(times, at_s)
        return cfgs[i - 1] if i else self.functions[function]

    # -- running -------------------------------------------------------------------------------
    def run(self, until_s: float, *, progress: bool = False, record: str = "all",
            period_s: float = 60.0, max_events: float = MAX_EVENTS,
            handler_budget_s: float | None = None) -> Result:
        """Simulate ``until_s`` seconds and return the :class:`~simlab.core.result.Result`.

        Sources stop at ``until_s``; requests still running then are allowed to finish, so every
        request that arrived has exactly one row. Time averages cover ``[0, until_s]``.
        ``progress=True`` shows a progress bar over simulated time. ``record`` is ``"all"`` (a
        row per invocation), ``"summary"`` (counts, time integrals and latency histograms only)
        or ``"metrics"`` (summary plus per-``period_s`` metrics); the last two keep memory flat
        however long the run.

        A run whose sources are expected to send more than ``max_events`` requests (default
        :data:`MAX_EVENTS`, 100 million: many minutes of computing) is refused before it starts,
        as a run that would not finish (``Poisson(1e7)`` for an hour is 3.6e10); give a larger
        ``max_events`` to run it anyway. ``handler_budget_s`` is the real time each call of a real
        handler may take (default :data:`simlab.aws.sources.handlers.DEFAULT_HANDLER_BUDGET_S`, 10
        s;
        ``math.inf`` for none): a handler that sleeps or loops stops the run with an error naming
        the function instead of hanging it.
        """
        until_s = validate.real("until_s", until_s, 0, low_open=True, unit="seconds")
        if not self.functions:
            raise ValueError("add at least one function before running")
        functions = list(self.functions.values())
        check_concurrency(functions, self.rules)
        check_simulation(self)
        kernel = simpy.Environment()
        streams = RandomStreams(self.seed)
        if not isinstance(progress, bool):
            raise TypeError(f"progress must be True or False, got {progress!r}")
        if record not in ("all", "summary", "metrics"):
            raise ValueError(f"record must be 'all', 'summary' or 'metrics', got {record!r}")
        period_s = validate.real("period_s", period_s, 0, low_open=True, unit="seconds")
        _check_max_events(max_events)
        budget = _handler_budget(handler_budget_s)
        self._check_expected_requests(float(until_s), max_events)
        recorder = None
        if record != "all":
            from simlab.core.aggregate import AggregateRecorder

            recorder = AggregateRecorder(float(until_s),
                                         float(period_s) if record == "metrics" else None)
        engine = Engine(kernel, self.rules, functions, streams, recorder)
        run = Run(self, kernel, engine, float(until_s))
        run.handler_budget_s = budget
        if any(cfg.handler is not None for cfg in functions):
            from simlab.aws.sources.handlers import install_handler_runner

            install_handler_runner(run)
        for source, targets in self.sources:
            source.start(run, targets)
        self._start_actions(run, functions)
        self._advance(kernel, float(until_s), progress)
        engine.close(until_s)
        # Drain: let requests in flight finish; nothing new starts after until_s.
        while engine.in_flight > 0 and kernel.peek() < math.inf:
            kernel.step()
        engine.finish(until_s)
        for service in run.services.values():  # queues count what they still hold
            finish = getattr(service, "finish_run", None)
            if callable(finish):
                finish(run.until_s)
        return Result.from_engine(engine, seed=run.seed, until_s=run.until_s, epoch=run.epoch,
                                  outputs=dict(run.services))

    def _check_expected_requests(self, until_s: float, max_events: float) -> None:
        """Refuse a run whose sources are expected to send more than ``max_events`` requests."""
        from simlab.aws.sources.arrivals import expected_requests

        counts = [(expected_requests(s, t, until_s), s) for s, t in self.sources]
        total = sum(n for n, _ in counts)
        if total > max_events:
            n, worst = max(counts, key=lambda c: c[0])
            raise ValueError(
                f"this run's sources are expected to send about {total:.3g} requests in "
                f"until_s={until_s:g} s ({n:.3g} from source {worst.name!r}: {worst!r}), more "
                f"than max_events={max_events:.3g}; it would not finish in reasonable time. "
                f"Lower the rate or the length, or run it anyway with "
                f"sim.run(until_s, max_events=...)"
            )

    def _start_actions(self, run: Run, functions: list[FunctionConfig]) -> None:
        """Schedule the control-plane actions; every function is created at time 0."""
        log = run.service("control_plane", lambda run: [])
        for cfg in functions:
            log.append((0.0, "CreateFunction", cfg.name, _public_config(cfg)))
        current = {cfg.name: cfg for cfg in functions}
        for at_s, api, name, changes in self.actions:
            if at_s >= run.until_s:
                continue

            def act(ev: Any, at_s: float = at_s, api: str = api, name: str = name,
                    changes: dict[str, Any] = changes) -> None:
                current[name] = current[name].replace(**changes)
                check_concurrency(list(current.values()), self.rules)
                run.engine.update_function(name, current[name])
                log.append((at_s, api, name, dict(changes)))

            ev = run.kernel.timeout(at_s)
            ev.callbacks.append(act)

    @staticmethod
    def _advance(kernel: simpy.Environment, until_s: float, progress: bool) -> None:
        if not progress:
            kernel.run(until=until_s)
            return
        from tqdm.auto import tqdm

        steps = 100
        with tqdm(total=steps, desc="simulating", unit="%",
                  bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} of simulated time") as bar:
            for k in range(1, steps + 1):
                kernel.run(until=until_s * k / steps)
                bar.update(1)

    def __repr__(self) -> str:
        return (f"Simulation(era={self.rules.era!r}, seed={self.seed}, "
                f"functions={list(self.functions)}, sources={[s.name for s, _ in self.sources]})")


__all__ += ["ASYNC"]


def _public_config(cfg: FunctionConfig) -> dict[str, Any]:
    """The configuration a CreateFunction call would carry (no code, no distributions)."""
    return {"memory_mb": cfg.memory_mb, "timeout_s": cfg.timeout_s,
            "architecture": cfg.architecture, "runtime": cfg.runtime,
            "package_type": cfg.package_type, "ephemeral_storage_mb": cfg.ephemeral_storage_mb,
            "reserved_concurrency": cfg.reserved_concurrency,
            "provisioned_concurrency": cfg.provisioned_concurrency}


def _check_max_events(max_events: Any) -> None:
    if (isinstance(max_events, bool) or not isinstance(max_events, numbers.Real)
            or not max_events > 0):
        raise ValueError(f"max_events must be a number of requests > 0 (default {MAX_EVENTS:,}), "
                         f"got {max_events!r}")


def _handler_budget(handler_budget_s: Any) -> float:
    from simlab.aws.sources.handlers import DEFAULT_HANDLER_BUDGET_S

    if handler_budget_s is None:
        return DEFAULT_HANDLER_BUDGET_S
    if (isinstance(handler_budget_s, bool) or not isinstance(handler_budget_s, numbers.Real)
            or not handler_budget_s > 0):
        raise ValueError(f"handler_budget_s must be seconds of real time > 0 (math.inf for no "
                         f"limit; default {DEFAULT_HANDLER_BUDGET_S:g}), got {handler_budget_s!r}")
    return float(handler_budget_s)


def _async_uses(function: str, cfg: Any) -> Iterator[tuple[str, str]]:
    where = f"configure_async({function!r})"
    if cfg.max_retries != 2:
        yield "async_max_retries", f"{where} max_retries={cfg.max_retries}"
    if cfg.max_event_age_s != 21_600:
        yield "async_max_event_age", f"{where} max_event_age_s={cfg.max_event_age_s}"
    for side in ("on_success", "on_failure"):
        if getattr(cfg, side) is not None:
            yield "async_destinations", f"{where} {side}"


def check_simulation(sim: Simulation) -> None:
    """Refuse, before the run, anything of ``sim`` that its era did not have yet."""
    rules = sim.rules
    for name, first in sim.functions.items():
        for cfg in (first, *sim._history_of(name)[1]):
            check_function(cfg, rules)
    for source, _targets in sim.sources:
        label = f"source {source.name or source.kind!r}"
        for key, where in source.feature_uses(label):
            refuse(rules, key, where)
    for function, cfg in sim.async_configs.items():
        for key, where in _async_uses(function, cfg):
            refuse(rules, key, where)
