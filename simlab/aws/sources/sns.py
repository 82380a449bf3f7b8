"""SNS topics as a source: one message, fanned out to every subscribed function.

Publish/subscribe decouples who produces an event from who reacts to it: a producer publishes a
message to a *topic*, and SNS delivers a copy to every *subscription*. With Lambda subscribers SNS
invokes each function **asynchronously** (LAMBDA_FACTS 7.5), with an event ``{"Records": [{"Sns":
{"Message": ..., "MessageId": ..., "TopicArn": ...}}]}``. So one message becomes one event per
subscribed function, each with its own retries: a failing subscriber does not delay the others.

:class:`SNSTopic` takes its messages from an arrival process or a list, and from code running during
the simulation with :meth:`SNSTopic.publish` (a handler notifying others, the mobile backend
pushing a notification). The messages of a run are ``result.output(<name>)``.

Subscription filter policies and SNS's own delivery retries (when it cannot reach Lambda at all)
are not simulated: Lambda's asynchronous queue always accepts the event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from simlab.aws.sources.arrivals import ArrivalProcess, arrival_times
from simlab.aws.sources.base import Source
from simlab.aws.sources.handlers import install_handler_runner
from simlab.aws.sources.lazy import LazyPayload
from simlab.aws.sources.payloads.context import PayloadContext, records_event
from simlab.aws.sources.payloads.notifications import sns_record
from simlab.aws.sources.timeline import at_times
from simlab.core import validate
from simlab.core.validate import BadInput

if TYPE_CHECKING:  # pragma: no cover
    from simlab.aws.simulation import Run

__all__ = ["SNSTopic", "TopicLog", "MAX_MESSAGE_BYTES"]

#: Largest SNS message: 256 KB.
MAX_MESSAGE_BYTES = 256 * 1024

_TOPIC_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


class TopicLog:
    """The messages published on a topic during one run (``result.output(<name>)``)."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.rows: list[tuple[float, str, str, int]] = []

    @property
    def messages(self) -> pd.DataFrame:
        """One row per message: ``time_s``, ``message_id``, ``message``, ``deliveries``."""
        return pd.DataFrame(self.rows, columns=["time_s", "message_id", "message", "deliveries"])

    def __repr__(self) -> str:
        return f"<TopicLog {self.topic!r}: {len(self.rows)} messages>"


def _check_message(where: str, message: Any) -> str:
    if not isinstance(message, str) or not message:
        raise validate.fail(where, message, "a non-empty string (SNS messages are text of 1 byte "
                                            "to 256 KB; use json.dumps for data)")
    if len(message.encode()) > MAX_MESSAGE_BYTES:
        raise BadInput(f"{where} is {len(message.encode()):,} bytes; SNS messages are at most "
                         f"{MAX_MESSAGE_BYTES:,} bytes (256 KB)")
    return message


class SNSTopic(Source):
    """An SNS topic whose messages go, asynchronously, to every target function.

    Parameters
    ----------
    name
        Topic name (1 to 256 letters, digits, ``-``, ``_``).
    messages
        When messages are published: an :class:`~simlab.aws.sources.arrivals.ArrivalProcess` (texts
        from ``message``), or a list of ``(time_s, message)`` or ``(time_s, message, subject)``.
        ``None``: only :meth:`publish` publishes.
    message
        Text of the messages drawn from an arrival process: a string, or a function of the
        message number ``n`` returning one.
    subject
        Subject of those messages (``None``: no subject).
    """

    kind = "sns"
    output_type = TopicLog

    def __init__(self, name: str, messages: ArrivalProcess | Sequence[Sequence[Any]] | None = None,
                 *, message: str | Callable[[int], str] = "message",
                 subject: str | None = None) -> None:
        if not (isinstance(name, str) and 1 <= len(name) <= 256 and set(name) <= _TOPIC_CHARS):
            raise BadInput(f"topic name must be 1 to 256 letters, digits, '-' or '_', "
                             f"got {name!r}")
        self.topic = name
        if isinstance(message, str):
            _check_message("message", message)
        elif not callable(message):
            raise BadInput(f"message must be a string or a function of n, got {message!r}")
        self.message = message
        if subject is not None and (not isinstance(subject, str) or not subject
                                    or len(subject) > 100):
            raise BadInput(f"subject must be a non-empty string of at most 100 characters or "
                             f"None, got {subject!r}")
        self.subject = subject
        self.messages = self._check_messages(messages)
        self._run: dict[str, Any] | None = None

    @staticmethod
    def _check_messages(messages: Any) -> Any:
        if messages is None or isinstance(messages, ArrivalProcess):
            return messages
        if isinstance(messages, str | bytes) or not isinstance(messages, Sequence):
            raise BadInput(f"messages must be an arrival process or a list of (time_s, "
                            f"message[, subject]), got {messages!r}")
        out = []
        for i, m in enumerate(messages):
            if isinstance(m, str | bytes) or not isinstance(m, Sequence) or len(m) not in (2, 3):
                raise BadInput(f"messages[{i}] must be (time_s, message) or (time_s, message, "
                                 f"subject), got {m!r}")
            t = validate.real(f"messages[{i}] time_s", m[0], 0)
            _check_message(f"messages[{i}] message", m[1])
            out.append((float(t), m[1], m[2] if len(m) == 3 else None))
        return sorted(out, key=lambda m: m[0])

    def start(self, run: Run, targets: list[str]) -> None:
        name = self.name or self.kind
        log = run.service(name, lambda run: TopicLog(self.topic), shared=False)
        install_handler_runner(run)
        self._run = {
            "run": run, "log": log, "ctx": PayloadContext(seed=run.seed, epoch=run.epoch),
            "fns": [run.engine.function(t) for t in targets],
            "src": run.engine.source_index(name), "queue": run._async_queue(), "counter": 0,
        }
        if self.messages is None:
            return
        if isinstance(self.messages, ArrivalProcess):
            text = self.message

            def fire_drawn(k: int, t: float) -> None:
                self.publish(text(k) if callable(text) else text, subject=self.subject)

            at_times(run, arrival_times(self.messages, run.rng("source", name, "messages")),
                     fire_drawn)
        else:
            listed = self.messages

            def fire_listed(k: int, t: float) -> None:
                self.publish(listed[k][1], subject=listed[k][2])

            at_times(run, [m[0] for m in listed], fire_listed)

    def publish(self, message: str, subject: str | None = None,
                attributes: Mapping[str, str] | None = None) -> str:
        """Publish ``message`` now (simulated time) to every subscribed function.

        Returns
        -------
        str
            The ``MessageId``.
        """
        _check_message("message", message)
        st = self._run
        if st is None:
            raise RuntimeError(f"topic {self.topic!r} is not in a running simulation: attach it "
                               f"with sim.add_source(topic, target=[...]) and publish from code "
                               f"that runs during sim.run (a handler, a source)")
        number = st["counter"]
        st["counter"] = number + 1
        now = st["run"].now
        record = sns_record(message, now, topic=self.topic, subject=subject,
                            attributes=attributes, number=number, ctx=st["ctx"])
        for fn in st["fns"]:  # built if a handler or a destination record reads it
            event = LazyPayload(_subscription_event, record, self.topic, fn.name, st["ctx"])
            st["queue"].submit(fn, st["src"], event, None)
        mid = record["Sns"]["MessageId"]
        st["log"].rows.append((now, mid, message, len(st["fns"])))
        return mid

    def __repr__(self) -> str:
        return f"SNSTopic({self.topic!r})"


def _subscription_event(record: dict[str, Any], topic: str, function: str,
                        ctx: PayloadContext) -> dict[str, Any]:
    """The event of one subscription: the message's record with the subscription's own ARN."""
    sub = f"{record['Sns']['TopicArn']}:{ctx.uuid(f'sns:{topic}:subscription:{function}', 0)}"
    return records_event([dict(record, EventSubscriptionArn=sub)])
