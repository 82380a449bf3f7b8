"""Asynchronous invocation: Lambda's internal event queue, its retries and its time limit.

When S3, SNS, EventBridge, or an SDK call with ``InvocationType="Event"`` invokes a function, the
caller does not wait: Lambda puts the event in an internal queue, answers ``202 Accepted`` at once,
and a poller hands the event to the function. What the caller never sees is what happens next, and
that is the point of this module (numbers from LAMBDA_FACTS.md sections 5 and 6):

* **Function errors** (the handler raised, timed out or ran out of memory): Lambda retries the
  event up to ``MaximumRetryAttempts`` times (0 to 2, default 2), waiting **1 minute** before the
  second attempt and **2 minutes** before the third.
* **Throttling** (no concurrency left): the event goes back to the queue and is retried with
  exponential backoff, **1 s** doubling up to **5 minutes**, for as long as the event may live.
  Throttles do not count as retries.
* **Maximum event age** (``MaximumEventAgeInSeconds``, 60 s to 6 h, default 6 h): an event still
  waiting when it reaches this age is discarded, recorded with status ``dropped``.
* Then the event's record goes to the **on-failure destination** or the **dead-letter queue**
  (conditions ``RetriesExhausted`` or ``EventAgeExceeded``), or to the **on-success destination**.

Each attempt is a row of ``result.invocations`` with ``invocation_type`` ``async``, ``attempt`` 1,
2, 3, and two extra columns: ``event_id`` (the invocation id of the event's first attempt, shared
by all its attempts, so ``groupby("event_id")`` follows one event) and ``event_age_ms`` (how long
the event had been queued when the attempt was made). Every attempt has its own invocation id (its
row), but, as on AWS, all the attempts of one event carry the first attempt's **request id**: in
the logs' START/END/REPORT lines, in the handler's ``context.aws_request_id``, in error documents
and in the records sent to destinations.

Configure a function with :func:`configure_async` (AWS's ``PutFunctionEventInvokeConfig``)::

    simlab.sources.configure_async(sim, "resize", max_retries=1, max_event_age_s=3600,
                                   on_failure=simlab.sources.DeadLetterQueue("failed"))

After the run, the queue is ``result.output("async")`` and each destination's records are in
``result.output(<its name>)``.

Simplifications: events are handed to the function as soon as they are queued (no polling delay),
never delivered twice (AWS may), and the queue does not slow down under a backlog. Events still
waiting when the run ends stay in :attr:`AsyncEventQueue.pending`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
import simpy

from simlab.aws.sources.destinations import DeadLetterQueue, Destination, LambdaDestination
from simlab.aws.sources.handlers import install_handler_runner
from simlab.aws.sources.lazy import resolve
from simlab.aws.sources.payloads.context import PayloadContext
from simlab.aws.sources.responses import function_arn, response_payload
from simlab.core import validate
from simlab.core.ids import request_id
from simlab.core.invocation import ASYNC, Call

if TYPE_CHECKING:  # pragma: no cover
    from simlab.aws.simulation import Run, Simulation

__all__ = [
    "AsyncConfig",
    "AsyncEventQueue",
    "EVENT_OUTCOMES",
    "configure_async",
    "async_config",
    "RETRY_DELAYS_S",
    "THROTTLE_BACKOFF_FIRST_S",
    "THROTTLE_BACKOFF_MAX_S",
]

#: What became of an asynchronous event (see :meth:`AsyncEventQueue.outcomes`).
EVENT_OUTCOMES: tuple[str, ...] = ("succeeded", "failed", "expired", "pending")
#: Waits before the 2nd and the 3rd attempt after a function error (LAMBDA_FACTS 6).
RETRY_DELAYS_S: tuple[float, ...] = (60.0, 120.0)
#: First wait after a throttle; it doubles up to the maximum (LAMBDA_FACTS 5).
THROTTLE_BACKOFF_FIRST_S = 1.0
THROTTLE_BACKOFF_MAX_S = 300.0


@dataclass(frozen=True)
class AsyncConfig:
    """How a function handles asynchronous events (AWS's ``FunctionEventInvokeConfig``).

    Parameters
    ----------
    max_retries
        ``MaximumRetryAttempts``: retries after a function error, 0 to 2.
    max_event_age_s
        ``MaximumEventAgeInSeconds``: how long an event may wait, 60 to 21,600 whole seconds.
    on_success, on_failure
        Destinations (:class:`~simlab.aws.sources.destinations.Queue`,
        :class:`~simlab.aws.sources.destinations.LambdaDestination`...) or ``None``.
    dead_letter_queue
        The function's dead-letter queue (:class:`~simlab.aws.sources.destinations.DeadLetterQueue`)
        or ``None``; it gets failed events, as the on-failure destination does.
    """

    max_retries: int = 2
    max_event_age_s: int = 21_600
    on_success: Destination | None = None
    on_failure: Destination | None = None
    dead_letter_queue: DeadLetterQueue | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_retries", validate.integer(
            "max_retries (MaximumRetryAttempts)", self.max_retries, 0, 2))
        object.__setattr__(self, "max_event_age_s", validate.integer(
            "max_event_age_s (MaximumEventAgeInSeconds)", self.max_event_age_s, 60, 21_600,
            unit="seconds"))
        for name in ("on_success", "on_failure"):
            d = getattr(self, name)
            if d is not None and not isinstance(d, Destination):
                raise TypeError(f"{name} must be a destination (simlab.sources.Queue, "
                                f"LambdaDestination, DeadLetterQueue) or None, got {d!r}")
        if isinstance(self.on_success, DeadLetterQueue):
            raise ValueError("on_success cannot be a DeadLetterQueue: a dead-letter queue only "
                             "receives failed events; use simlab.sources.Queue")
        d = self.dead_letter_queue
        if d is not None and not isinstance(d, DeadLetterQueue):
            raise TypeError(f"dead_letter_queue must be a simlab.sources.DeadLetterQueue or None, "
                            f"got {d!r}")

    def destinations(self) -> list[Destination]:
        """The destinations this configuration names."""
        return [d for d in (self.on_success, self.on_failure, self.dead_letter_queue)
                if d is not None]


_DEFAULT = AsyncConfig()


def configure_async(sim: Simulation, function: str, **config: Any) -> AsyncConfig:
    """Set how ``function`` handles asynchronous events (``PutFunctionEventInvokeConfig``).

    Parameters
    ----------
    sim
        The simulation; ``function`` must have been added to it.
    function
        The function's name.
    **config
        :class:`AsyncConfig` fields: ``max_retries``, ``max_event_age_s``, ``on_success``,
        ``on_failure``, ``dead_letter_queue``.

    Returns
    -------
    AsyncConfig
        The configuration now in force (also kept in ``sim.async_configs[function]``).
    """
    if function not in sim.functions:
        raise ValueError(f"function {function!r} is not a function of this simulation; add it "
                         f"first with add_function (functions: {sorted(sim.functions)})")
    allowed = [f.name for f in dataclasses.fields(AsyncConfig)]
    unknown = sorted(set(config) - set(allowed))
    if unknown:
        raise validate.BadInput(f"{function}: unknown asynchronous invocation setting(s) "
                                f"{unknown}; allowed: {allowed}")
    cfg = AsyncConfig(**config)
    for d in cfg.destinations():
        if isinstance(d, LambdaDestination) and d.function not in sim.functions:
            raise ValueError(f"destination function {d.function!r} is not a function of this "
                             f"simulation (functions: {sorted(sim.functions)})")
    configs = _configs(sim)
    configs[function] = cfg
    return cfg


def _configs(sim: Simulation) -> dict[str, AsyncConfig]:
    configs = getattr(sim, "async_configs", None)
    if configs is None:
        configs = {}
        sim.async_configs = configs  # type: ignore[attr-defined]
    return configs


def async_config(sim: Simulation, function: str) -> AsyncConfig:
    """The asynchronous configuration of ``function`` (AWS's defaults when none was set)."""
    return _configs(sim).get(function, _DEFAULT)


class _Event:
    """One event in the queue."""

    __slots__ = ("eid", "fn", "src", "payload", "queued", "expiry", "attempts", "throttles",
                 "on_done", "cfg", "last", "run_s")

    def __init__(self, eid: int, fn: Any, src: int, payload: Any, queued: float, cfg: AsyncConfig,
                 on_done: Callable[[Call], Any] | None, run_s: float | None) -> None:
        self.eid = eid
        self.fn = fn
        self.src = src
        self.payload = payload
        self.queued = queued
        self.expiry = queued + cfg.max_event_age_s
        self.attempts = 0
        self.throttles = 0
        self.on_done = on_done
        self.cfg = cfg
        self.last: Call | None = None
        self.run_s = run_s


class AsyncEventQueue:
    """The internal queue of asynchronous events of one run (one per run, shared by functions).

    Made by the run on first use (``Run.invoke`` or ``Run.deliverer`` with ``"async"``);
    sources hand it
    events with :meth:`submit`.

    Attributes
    ----------
    pending
        Events still waiting when the run stopped (dicts: ``event_id``, ``function``,
        ``queued_s``, ``attempts``).
    counts
        Events ``submitted``, ``succeeded``, ``failed`` (retries exhausted), ``expired`` (too old).
    destinations
        The run's destination copies, by name (also the run's outputs, ``result.outputs``).
    """

    #: What :meth:`outcomes` counts (a column of ``Result.outcomes()``).
    outcome_unit = "event"

    def __init__(self, run: Run) -> None:
        self.run = run
        self.kernel = run.kernel
        self.engine = run.engine
        self.seed = run.seed
        self.ctx = PayloadContext(seed=run.seed, epoch=run.epoch)
        self.counts = {"submitted": 0, "succeeded": 0, "failed": 0, "expired": 0}
        self._ended: dict[tuple[str, str], int] = {}  # (function, outcome) -> events
        self._waiting: dict[int, _Event] = {}
        self._annotate = run.engine.annotate
        sim = run.simulation
        self.configs: dict[str, AsyncConfig] = {}
        self.destinations: dict[str, Destination] = {}
        copies: dict[int, Destination] = {}
        for fname in sim.functions:
            cfg = async_config(sim, fname)
            for d in cfg.destinations():
                if id(d) not in copies:
                    if isinstance(d, LambdaDestination) and d.function not in sim.functions:
                        raise ValueError(f"destination function {d.function!r} is not a function "
                                         f"of this simulation")
                    # One copy per name and run, shared with other sources that name it.
                    copies[id(d)] = d.run_copy(run)
                    self.destinations[d.name] = copies[id(d)]
            if cfg is not _DEFAULT:
                self.configs[fname] = AsyncConfig(
                    cfg.max_retries, cfg.max_event_age_s,
                    *(None if d is None else copies[id(d)]
                      for d in (cfg.on_success, cfg.on_failure, cfg.dead_letter_queue)))
        install_handler_runner(run)

    # -- submitting ------------------------------------------------------------------------------
    def submit(self, fn: Any, src: int, payload: Any = None,
               on_done: Callable[[Call], Any] | None = None, *,
               run_s: float | None = None) -> int:
        """Queue an event for function ``fn`` (the engine's function object) now; return its id.

        The caller gets the answer at once (HTTP 202): the event id, which is also the invocation
        id of its first attempt. ``on_done(call)`` is called once, with the event's last attempt,
        when the event succeeds or its retries are exhausted (not when it is dropped).
        ``run_s`` fixes the handler's run time of every attempt (trace replay). ``payload`` may
        be a :class:`~simlab.aws.sources.lazy.LazyPayload`, built only if a handler or a destination
        record reads it.
        """
        eid = self.engine.new_invocation_id()
        ev = _Event(eid, fn, src, payload, self.kernel.now, self.configs.get(fn.name, _DEFAULT),
                    on_done, run_s)
        self.counts["submitted"] += 1
        self._tally(fn.name, "submitted")
        self._dispatch(ev)
        return eid

    @property
    def pending(self) -> list[dict[str, Any]]:
        """Events still waiting (for a retry or after a throttle) when the run stopped."""
        return [{"event_id": ev.eid, "function": ev.fn.name, "queued_s": ev.queued,
                 "attempts": ev.attempts} for ev in self._waiting.values()]

    def _tally(self, function: str, what: str) -> None:
        key = (function, what)
        self._ended[key] = self._ended.get(key, 0) + 1

    def outcomes(self) -> pd.DataFrame:
        """How many events ended in each state (:data:`EVENT_OUTCOMES`), per function: columns
        ``function``, ``outcome`` and ``count``. Every event submitted is counted once:
        ``succeeded``, ``failed`` (retries exhausted), ``expired`` (too old) or ``pending``
        (waiting for a retry or after a throttle when the run stopped)."""
        waiting: dict[str, int] = {}
        for ev in self._waiting.values():
            waiting[ev.fn.name] = waiting.get(ev.fn.name, 0) + 1
        functions = dict.fromkeys(f for f, what in self._ended if what == "submitted")
        rows = [(f, o, waiting.get(f, 0) if o == "pending" else self._ended.get((f, o), 0))
                for f in functions for o in EVENT_OUTCOMES]
        return pd.DataFrame(rows, columns=["function", "outcome", "count"])

    # -- the life of an event --------------------------------------------------------------------
    def _dispatch(self, ev: _Event) -> None:
        engine = self.engine
        if engine.closing:
            self._waiting[ev.eid] = ev
            return
        now = self.kernel.now
        if now > ev.expiry:
            self._expire(ev)
            return
        iid = ev.eid if ev.attempts == 0 and ev.throttles == 0 else engine.new_invocation_id()
        self._annotate(iid, "event_id", ev.eid)
        self._annotate(iid, "event_age_ms", (now - ev.queued) * 1000.0)
        call = engine.invoke(ev.fn, source=ev.src, invocation_type=ASYNC,
                             attempt=ev.attempts + 1, on_done=self._done, payload=ev.payload,
                             arrival=now, iid=iid, run_s=ev.run_s, request_key=ev.eid, tag=ev)
        if call is None:  # throttled: back to the queue with backoff
            ev.throttles += 1
            wait = min(THROTTLE_BACKOFF_FIRST_S * 2.0 ** (ev.throttles - 1),
                       THROTTLE_BACKOFF_MAX_S)
            self._later(ev, now + wait)
            return

    def _done(self, call: Call) -> None:
        ev: _Event = call.tag
        ev.attempts += 1
        ev.throttles = 0
        ev.last = call
        if not call.failed:
            self.counts["succeeded"] += 1
            self._tally(ev.fn.name, "succeeded")
            self._send(ev, "Success", call)
            if ev.on_done is not None:
                ev.on_done(call)
            return
        if ev.attempts <= ev.cfg.max_retries:
            self._later(ev, self.kernel.now + RETRY_DELAYS_S[ev.attempts - 1])
            return
        self.counts["failed"] += 1
        self._tally(ev.fn.name, "failed")
        self._send(ev, "RetriesExhausted", call)
        if ev.on_done is not None:
            ev.on_done(call)

    def _later(self, ev: _Event, at: float) -> None:
        """Try ``ev`` again at ``at``, or drop it when it reaches its maximum age first."""
        if self.engine.closing:
            self._waiting[ev.eid] = ev
            return
        now = self.kernel.now
        self._waiting[ev.eid] = ev
        if at > ev.expiry:
            timer = simpy.Timeout(self.kernel, max(ev.expiry - now, 0.0), ev)
            timer.callbacks.append(self._expire_event)
        else:
            timer = simpy.Timeout(self.kernel, at - now, ev)
            timer.callbacks.append(self._retry_event)

    def _retry_event(self, timer: simpy.Event) -> None:
        ev: _Event = timer.value
        if self.engine.closing:
            return  # stays in _waiting
        del self._waiting[ev.eid]
        self._dispatch(ev)

    def _expire_event(self, timer: simpy.Event) -> None:
        ev: _Event = timer.value
        if self.engine.closing:
            return
        del self._waiting[ev.eid]
        self._expire(ev)

    def _expire(self, ev: _Event) -> None:
        engine = self.engine
        iid = engine.new_invocation_id()
        now = self.kernel.now
        self._annotate(iid, "event_id", ev.eid)
        self._annotate(iid, "event_age_ms", (now - ev.queued) * 1000.0)
        engine.record_dropped(ev.fn, iid, ev.src, ASYNC, ev.attempts + 1, ev.queued)
        self.counts["expired"] += 1
        self._tally(ev.fn.name, "expired")
        self._send(ev, "EventAgeExceeded", ev.last)

    # -- destinations ----------------------------------------------------------------------------
    def _send(self, ev: _Event, condition: str, call: Call | None) -> None:
        cfg = ev.cfg
        if condition == "Success":
            targets = [cfg.on_success]
        else:
            targets = [cfg.on_failure, cfg.dead_letter_queue]
        targets = [d for d in targets if d is not None]
        if not targets:
            return
        record = self.record(ev, condition, call)
        now = self.kernel.now
        for d in targets:
            d.deliver(now, record, self.run)

    def record(self, ev: _Event, condition: str, call: Call | None) -> dict[str, Any]:
        """The invocation record of ``ev`` (AWS's destination record shape)."""
        out: dict[str, Any] = {
            "version": "1.0",
            "timestamp": self.ctx.iso_ms(self.kernel.now),
            "requestContext": {
                "requestId": request_id(self.seed, ev.eid),
                "functionArn": function_arn(ev.fn.name, self.ctx) + ":$LATEST",
                "condition": condition,
                "approximateInvokeCount": ev.attempts,
            },
            "requestPayload": {} if ev.payload is None else resolve(ev.payload),
        }
        if call is not None:
            response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
            if call.failed:
                response["functionError"] = "Unhandled"
            out["responseContext"] = response
            out["responsePayload"] = response_payload(call, self.seed, self.ctx)
        return out

    def __repr__(self) -> str:
        c = self.counts
        return (f"<AsyncEventQueue submitted={c['submitted']} succeeded={c['succeeded']} "
                f"failed={c['failed']} expired={c['expired']} pending={len(self._waiting)}>")
