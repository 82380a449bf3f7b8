"""The engine's public contract with the event sources: requests, calls and their codes.

A source builds a :class:`Request` and hands it to :meth:`simlab.core.engine.Engine.invoke`; it
gets back the :class:`Call` in flight (or ``None`` if the request was throttled) and changes that
call only through its methods (:meth:`Call.fail`, :meth:`Call.reply`, :meth:`Call.exit_runtime`,
:meth:`Call.annotate`). Sources import from this module, never from the engine itself (an
import-linter contract in ``pyproject.toml``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["Call", "Request", "OK", "ERROR", "TIMEOUT", "OOM", "THROTTLED", "DROPPED",
           "SYNC", "ASYNC", "POLL"]

# Status codes: indexes into simlab.core.schema.STATUSES.
OK, ERROR, TIMEOUT, OOM, THROTTLED, DROPPED = range(6)
# Invocation types: indexes into simlab.core.records.INVOCATION_TYPES.
SYNC, ASYNC, POLL = range(3)


class Request:
    """One request for a function, as a source hands it to the engine.

    Parameters
    ----------
    fn
        The function's runtime state, from ``engine.function(name)``.
    source
        The source's code, from ``engine.source_index(name)``.
    invocation_type
        :data:`SYNC`, :data:`ASYNC` or :data:`POLL`.
    attempt
        1 for a first attempt; retries count up.
    on_done
        Called with the :class:`Call` when it ends (not for a throttled request).
    payload
        The event the handler receives.
    arrival
        When the request first reached the platform (default: now), for requests that waited.
    iid
        The invocation id, reserved with ``engine.new_invocation_id()`` (default: a new one).
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
    """

    __slots__ = ("fn", "source", "invocation_type", "attempt", "on_done", "payload", "arrival",
                 "iid", "run_s", "fail", "request_key", "tag")

    def __init__(self, fn: Any, source: int = 0, invocation_type: int = SYNC, attempt: int = 1,
                 on_done: Callable[[Call], Any] | None = None, payload: Any = None,
                 arrival: float | None = None, iid: int | None = None,
                 run_s: float | None = None, fail: bool = False,
                 request_key: int | None = None, tag: Any = None) -> None:
        self.fn = fn
        self.source = source
        self.invocation_type = invocation_type
        self.attempt = attempt
        self.on_done = on_done
        self.payload = payload
        self.arrival = arrival
        self.iid = iid
        self.run_s = run_s
        self.fail = fail
        self.request_key = request_key
        self.tag = tag


class Call:
    """One invocation attempt in flight; handed to ``on_done`` when it ends."""

    __slots__ = ("iid", "fn", "env", "src", "itype", "attempt", "arrival", "start", "end",
                 "init", "dur", "cold", "status", "mem", "on_done", "payload", "output", "tag",
                 "key")

    @property
    def function(self) -> str:
        return self.fn.name

    @property
    def failed(self) -> bool:
        """True for a function error (error, timeout, oom); False for ok; throttles are not."""
        return self.status in (ERROR, TIMEOUT, OOM)

    # The only ways a source or a handler runner changes a call in flight. The engine draws the
    # outcome when the call starts and reads it only when it ends, so these are safe in between.
    def fail(self, output: Any = None) -> bool:
        """Make this call end with a function error (a poison record, a handler that raised).

        A timeout or an out-of-memory kill stays what it is. ``output`` (if given) becomes the
        error payload returned to a synchronous caller. Returns True if the call now fails with
        status ``error``.
        """
        if self.status == TIMEOUT or self.status == OOM:
            return False
        self.status = ERROR
        if output is not None:
            self.output = output
        return True

    def reply(self, output: Any) -> None:
        """Set the response payload the function returns to its caller."""
        self.output = output

    def exit_runtime(self) -> None:
        """The handler exited the runtime: its environment ends with this call."""
        self.env.exited = True

    def annotate(self, column: str, value: Any) -> None:
        """Attach ``value`` to this call's row, in the sparse column ``column``."""
        self.fn.annotate(column, self.iid, value)
