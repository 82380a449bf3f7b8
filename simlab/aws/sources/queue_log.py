"""What happened to one SQS queue during one run: its messages, its batch invocations, its
dead letters (:class:`QueueLog`, ``result.output("sqs:<queue>")``).

The queue itself, its event source mapping and its pollers are :mod:`simlab.aws.sources.sqs`;
this module holds what they leave behind. Every message sent during the run ends in exactly one
of :data:`MESSAGE_OUTCOMES`; :meth:`QueueLog.frame` has one row per message,
:attr:`QueueLog.batches` one per batch invocation.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from simlab.core.schema import STATUSES

if TYPE_CHECKING:  # pragma: no cover
    from simlab.aws.sources.sqs import QueueRun

__all__ = ["QueueLog", "QueueMessage", "MESSAGE_OUTCOMES"]

#: What became of a message: still in the queue at the end, deleted after a successful batch,
#: moved to the dead-letter queue, or deleted by SQS after the retention period.
MESSAGE_OUTCOMES: tuple[str, ...] = ("pending", "ok", "dead_letter", "expired")
#: Codes of :data:`MESSAGE_OUTCOMES`, as the queue's source and its log store them.
OUTCOME_PENDING, OUTCOME_OK, OUTCOME_DEAD, OUTCOME_EXPIRED = range(4)
_MESSAGE_OVERHEAD = 500  # bytes of JSON around each message body in the event


class QueueMessage(NamedTuple):
    """One message, as a ``poison`` predicate sees it."""

    message_number: int
    body: str
    sent_s: float


class MessageState:
    """One message during a run: its body, size, receives, visibility and outcome (the queue's
    source changes it; the log reads it)."""

    __slots__ = ("number", "body", "sent", "size", "receives", "first", "visible_at", "outcome",
                 "done_s", "function", "iid", "poison")

    def __init__(self, number: int, body: str, sent: float, poison: bool) -> None:
        self.number, self.body, self.sent, self.poison = number, body, sent, poison
        self.size = (len(body) if body.isascii() else len(body.encode())) + _MESSAGE_OVERHEAD
        self.receives, self.first, self.visible_at = 0, math.nan, sent
        self.outcome, self.done_s, self.function, self.iid = OUTCOME_PENDING, math.nan, "", -1


_BATCH_COLUMNS = ("invocation_id", "function", "t_s", "messages", "attempt",
                  "oldest_message_age_ms")


class QueueLog:
    """What happened to one queue during one run (``result.output("sqs:<queue>")``).

    Attributes
    ----------
    dead_letters
        The messages moved to the dead-letter queue, in SQS's record shape (``messageId``,
        ``body``, ``attributes.ApproximateReceiveCount``...).
    scaling
        ``(t_s, function, limit)`` each time a mapping's concurrency limit changed.
    """

    #: What :meth:`outcomes` counts (a column of ``Result.outcomes()``).
    outcome_unit = "message"

    def __init__(self, queue: str) -> None:
        self.queue = queue
        self.messages: list[MessageState] = []
        self.dead_letters: list[dict[str, Any]] = []
        self.scaling: list[tuple[float, str, int]] = []
        self.status: list[int] = []
        self._rows: dict[str, list[Any]] = {c: [] for c in _BATCH_COLUMNS}
        self._numbers: list[list[int]] = []
        self.runtime: QueueRun | None = None

    def add(self, iid: int, function: str, t_s: float, batch: list[MessageState], attempt: int,
            status: int) -> int:
        """Log one batch invocation; return its row."""
        oldest = min(m.sent for m in batch)
        for column, value in zip(_BATCH_COLUMNS, (iid, function, t_s, len(batch), attempt,
                                                  (t_s - oldest) * 1000.0), strict=True):
            self._rows[column].append(value)
        self.status.append(status)
        self._numbers.append([m.number for m in batch])
        return len(self.status) - 1

    @property
    def batches(self) -> pd.DataFrame:
        """One row per batch invocation: ``t_s``, how many ``messages``, ``attempt`` (the highest
        receive count in the batch), ``oldest_message_age_ms`` and the invocation's ``status``."""
        df = pd.DataFrame(self._rows)
        df["status"] = pd.Categorical.from_codes(np.asarray(self.status, np.int64), STATUSES)
        return df

    def deliveries(self) -> pd.DataFrame:
        """One row per (message, invocation) pair: every invocation each message was part of."""
        lengths = np.array([len(n) for n in self._numbers], dtype=np.int64)
        flat = [x for n in self._numbers for x in n]
        return pd.DataFrame({
            "message_number": np.asarray(flat, dtype=np.int64),
            "invocation_id": np.repeat(np.asarray(self._rows["invocation_id"], np.int64),
                                       lengths)})

    @property
    def frame(self) -> pd.DataFrame:
        """One row per message: ``message_number``, ``sent_s``, ``receive_count``,
        ``first_receive_s``, ``outcome`` (see :data:`MESSAGE_OUTCOMES`), ``processed_s`` (deleted,
        dead-lettered or expired), the ``function`` that deleted it and the last
        ``invocation_id`` that carried it (-1 if none)."""
        ms = self.messages
        return pd.DataFrame({
            "message_number": np.array([m.number for m in ms], dtype=np.int64),
            "sent_s": np.array([m.sent for m in ms], dtype=float),
            "receive_count": np.array([m.receives for m in ms], dtype=np.int64),
            "first_receive_s": np.array([m.first for m in ms], dtype=float),
            "outcome": pd.Categorical.from_codes(np.array([m.outcome for m in ms], np.int64),
                                                 MESSAGE_OUTCOMES),
            "processed_s": np.array([m.done_s for m in ms], dtype=float),
            "function": np.array([m.function for m in ms], dtype=object),
            "invocation_id": np.array([m.iid for m in ms], dtype=np.int64)})

    def finish_run(self, until_s: float) -> None:
        """At the end of the run: put in the log every message sent before ``until_s`` that no
        poller received (it is still in the queue), and expire those older than the retention."""
        q = self.runtime
        if q is None:
            return
        q.admit(until_s)
        keep = q.src.retention_s
        for m in self.messages:
            if m.outcome == OUTCOME_PENDING and until_s - m.sent >= keep:
                m.outcome, m.done_s = OUTCOME_EXPIRED, m.sent + keep

    def outcomes(self) -> pd.DataFrame:
        """How many messages ended in each state (:data:`MESSAGE_OUTCOMES`): columns
        ``function`` (the one that deleted it; None for messages no function deleted),
        ``outcome`` and ``count``. Every message sent during the run is counted once."""
        codes = np.array([m.outcome for m in self.messages], dtype=np.int64)
        readers = [] if self.runtime is None else [mp.fn.name for mp in self.runtime.mappings]
        deleted = pd.Series([m.function for m in self.messages if m.outcome == OUTCOME_OK],
                            dtype=object).value_counts()
        rows = []
        for k, n in enumerate(np.bincount(codes, minlength=len(MESSAGE_OUTCOMES))):
            if k != OUTCOME_OK:
                rows.append((None, MESSAGE_OUTCOMES[k], int(n)))
            else:
                rows += [(f, "ok", int(deleted.get(f, 0))) for f in dict.fromkeys(readers)]
        return pd.DataFrame(rows, columns=["function", "outcome", "count"])

    def event(self, invocation_id: int) -> dict[str, Any]:
        """The event (``{"Records": [...]}``) batch invocation ``invocation_id`` carried, with
        the receive counts the messages have now."""
        try:
            row = self._rows["invocation_id"].index(invocation_id)
        except ValueError:
            raise KeyError(f"invocation {invocation_id!r} is not a batch of this queue") from None
        assert self.runtime is not None
        return self.runtime.event([self.messages[n] for n in self._numbers[row]])

    def __repr__(self) -> str:
        return (f"QueueLog(sqs:{self.queue}, messages={len(self.messages)}, "
                f"batches={len(self.status)}, dead_letters={len(self.dead_letters)})")
