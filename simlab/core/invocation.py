"""The engine's public contract with the event sources: requests, calls and their codes.

A source sends a request with :meth:`simlab.core.engine.Engine.invoke` (the function, then keyword
arguments); it gets back the :class:`Call` in flight (or ``None`` if the request was throttled)
and changes that call only through its methods (:meth:`Call.fail`, :meth:`Call.reply`,
:meth:`Call.exit_runtime`, :meth:`Call.annotate`). Sources import from this module, never from
the engine itself (an import-linter contract in ``pyproject.toml``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Call", "OK", "ERROR", "TIMEOUT", "OOM", "THROTTLED", "DROPPED",
           "SYNC", "ASYNC", "POLL"]

# Status codes: indexes into simlab.core.schema.STATUSES.
OK, ERROR, TIMEOUT, OOM, THROTTLED, DROPPED = range(6)
# Invocation types: indexes into simlab.core.records.INVOCATION_TYPES.
SYNC, ASYNC, POLL = range(3)


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
