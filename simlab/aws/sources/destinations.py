"""Where asynchronous events go when they are done: destinations and dead-letter queues.

With an asynchronous invocation nobody waits for the answer, so what happens to an event that
keeps failing? Lambda retries it (see :mod:`simlab.aws.sources.invoke_async`), and then, if
configured,
sends a *record* of it somewhere a person or another function can look:

* an **on-failure destination** gets events whose retries are exhausted (condition
  ``RetriesExhausted``) or that grew too old in the queue (``EventAgeExceeded``);
* an **on-success destination** gets every event that succeeded (condition ``Success``);
* a **dead-letter queue** (the older mechanism, set on the function) gets failed events only.

A destination can be an SQS queue, an SNS topic, an EventBridge bus or another Lambda function. The
record has this shape (AWS's invocation record)::

    {"version": "1.0", "timestamp": "2026-11-27T00:03:05.123Z",
     "requestContext": {"requestId": "...", "functionArn": "arn:aws:lambda:...:function:f:$LATEST",
                        "condition": "RetriesExhausted", "approximateInvokeCount": 3},
     "requestPayload": {...the event...},
     "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                         "functionError": "Unhandled"},
     "responsePayload": {"errorMessage": "...", "errorType": "..."}}

(``responseContext`` and ``responsePayload`` are left out when the function never ran, for an
event that aged out while being throttled). A dead-letter queue receives the original event as the
message body, with ``RequestID``, ``ErrorCode`` and ``ErrorMessage`` attributes
(:meth:`DeadLetterQueue.messages`).

The objects made here are *configuration*: :func:`simlab.aws.sources.configure_async` takes them,
and
every run makes fresh copies that collect the records of that run, found in
``result.output(<name>)``, so that two runs never mix their records.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pandas as pd

__all__ = ["Destination", "Queue", "DeadLetterQueue", "LambdaDestination", "CONDITIONS"]

#: Conditions of destination records.
CONDITIONS: tuple[str, ...] = ("Success", "RetriesExhausted", "EventAgeExceeded")

_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def _check_queue_name(name: Any) -> str:
    if not (isinstance(name, str) and 1 <= len(name) <= 80 and set(name) <= _NAME_CHARS):
        raise ValueError(
            f"a queue name must be 1 to 80 letters, digits, '-' or '_' (as SQS allows), "
            f"got {name!r}"
        )
    return name


class Destination:
    """Base of destinations: keeps the records delivered to it during one run.

    Parameters
    ----------
    name
        The name of this destination's records among a run's outputs
        (``result.output(destination)``).
    """

    #: Kind of AWS resource ("sqs", "lambda"...).
    kind = "destination"

    @property
    def output_key(self) -> str:
        """The name of this destination's records among a run's outputs: its ``name``."""
        return self.name

    @property
    def output_type(self) -> type[Destination]:
        """A run's copy of this destination (:meth:`fresh`) holds its records."""
        return type(self)

    def __init__(self, name: str) -> None:
        self.name = name
        self._log: list[tuple[float, dict[str, Any]]] | None = None  # None: configuration only

    # -- per run ----------------------------------------------------------------------------------
    def run_copy(self, run: Any) -> Destination:
        """This destination's copy in ``run`` (the run's output ``name``), made on first use and
        shared by every source of the run that names it; a name taken by something else is an
        error."""
        return run.service(self.name, lambda run: self.fresh(), shared=type(self))

    def fresh(self) -> Destination:
        """A copy with an empty record list, for one run."""
        twin = copy.copy(self)
        twin._log = []
        return twin

    def deliver(self, time_s: float, record: dict[str, Any], run: Any) -> None:
        """Accept ``record`` at simulated time ``time_s``."""
        if self._log is None:
            raise RuntimeError(f"destination {self.name!r} is a configuration; deliver to the "
                               f"copy a run makes")
        self._log.append((time_s, record))

    def _entries(self) -> list[tuple[float, dict[str, Any]]]:
        if self._log is None:
            raise RuntimeError(
                f"{type(self).__name__}({self.name!r}) is the configuration; the records of a run "
                f"are in result.output({self.name!r})"
            )
        return self._log

    @property
    def records(self) -> list[dict[str, Any]]:
        """The records delivered during the run, in order (AWS's invocation-record shape)."""
        return [r for _, r in self._entries()]

    def __len__(self) -> int:
        return len(self._entries())

    def frame(self) -> pd.DataFrame:
        """One row per record: ``time_s``, ``request_id``, ``function``, ``condition``,
        ``approximate_invoke_count``, ``function_error``."""
        rows = []
        for t, r in self._entries():
            rc = r.get("requestContext", {})
            arn = rc.get("functionArn", "")
            rows.append({
                "time_s": t,
                "request_id": rc.get("requestId"),
                "function": arn.split(":")[6] if arn.count(":") >= 6 else None,
                "condition": rc.get("condition"),
                "approximate_invoke_count": rc.get("approximateInvokeCount"),
                "function_error": r.get("responseContext", {}).get("functionError"),
            })
        cols = ["time_s", "request_id", "function", "condition", "approximate_invoke_count",
                "function_error"]
        return pd.DataFrame(rows, columns=cols)

    def __repr__(self) -> str:
        n = "configuration" if self._log is None else f"{len(self._log)} records"
        return f"{type(self).__name__}({self.name!r}, {n})"


class Queue(Destination):
    """An SQS standard queue used as a destination: it keeps the records for inspection."""

    kind = "sqs"

    def __init__(self, name: str) -> None:
        super().__init__(_check_queue_name(name))


class DeadLetterQueue(Queue):
    """A function's dead-letter queue (an SQS queue): failed events only.

    Give it as ``dead_letter_queue=`` (the function's ``DeadLetterConfig``) or as ``on_failure=``.
    """

    kind = "dlq"

    def messages(self) -> list[dict[str, Any]]:
        """The messages as SQS holds them: the original event as ``body`` (JSON text) and the
        ``RequestID``, ``ErrorCode`` and ``ErrorMessage`` message attributes."""
        out = []
        for _, r in self._entries():
            payload = r.get("responsePayload")
            message = payload.get("errorMessage", "") if isinstance(payload, dict) else ""
            code = 200 if "responseContext" in r else 0
            rc = r.get("requestContext", {})
            if rc.get("condition") == "EventAgeExceeded" and not message:
                message = "Event age exceeded MaximumEventAgeInSeconds"
            out.append({
                "body": json.dumps(r.get("requestPayload"), separators=(",", ":")),
                "messageAttributes": {
                    "RequestID": {"stringValue": rc.get("requestId", ""),
                                  "dataType": "String"},
                    "ErrorCode": {"stringValue": str(code), "dataType": "Number"},
                    "ErrorMessage": {"stringValue": message, "dataType": "String"},
                },
            })
        return out


class LambdaDestination(Destination):
    """Another function as a destination: it is invoked asynchronously with the record as event.

    Parameters
    ----------
    function
        The function to invoke (it must be a function of the simulation).
    name
        The name of the records among a run's outputs (default ``"lambda:<function>"``).
    """

    kind = "lambda"

    def __init__(self, function: str, name: str | None = None) -> None:
        if not isinstance(function, str) or not function:
            raise ValueError(f"function must be the name of a function, got {function!r}")
        super().__init__(name if name is not None else f"lambda:{function}")
        self.function = function

    def deliver(self, time_s: float, record: dict[str, Any], run: Any) -> None:
        super().deliver(time_s, record, run)
        run.invoke(self.function, record, invocation_type="async", source="destination")
