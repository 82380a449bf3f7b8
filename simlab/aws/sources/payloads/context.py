"""What every event builder shares: the run's seed, region, account and epoch, and small checks.

Ids in events are derived, never random: a hash of the run's seed, a kind of id (``s3:photos``,
``sqs:orders``...) and a counter. Times are simulated seconds turned into the formats each service
uses (ISO 8601 with milliseconds, Unix seconds, Unix milliseconds, API Gateway's log format).
"""

from __future__ import annotations

import base64
import json
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from simlab.aws.cron import to_datetime
from simlab.core.config import DEFAULT_EPOCH
from simlab.core.ids import derived_hex, derived_uuid

__all__ = [
    "PayloadContext",
    "DEFAULT_CONTEXT",
    "records_event",
    "check_int",
    "check_name",
    "encode_body",
    "Body",
]

#: What a body argument may be.
Body = str | bytes | dict | list | None


@dataclass(frozen=True)
class PayloadContext:
    """Where and when events happen, shared by all builders of a run.

    Parameters
    ----------
    seed
        The run's seed: ids are hashes of it, so two runs with one seed give the same ids.
    region, account
        Used in ARNs, domain names and ``awsRegion``; the default account is the placeholder of
        AWS's documentation.
    epoch
        The datetime that simulated time 0 stands for (UTC).
    """

    seed: int = 0
    region: str = "us-east-1"
    account: str = "123456789012"
    epoch: datetime = DEFAULT_EPOCH

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise TypeError(f"seed must be an int, got {self.seed!r}")
        check_name("region", self.region)
        if not (
            isinstance(self.account, str) and len(self.account) == 12 and self.account.isdigit()
        ):
            raise ValueError(f"account must be a string of 12 digits, got {self.account!r}")
        if not isinstance(self.epoch, datetime):
            raise TypeError(f"epoch must be a datetime, got {self.epoch!r}")

    def hex(self, kind: str, number: int, n_hex: int = 32) -> str:
        """``n_hex`` hex digits derived from the seed, a kind of id and a counter."""
        return derived_hex(self.seed, kind, number, n_hex)

    def uuid(self, kind: str, number: int) -> str:
        """A version-4-shaped UUID derived from the seed, a kind of id and a counter."""
        return derived_uuid(self.seed, kind, number)

    def b64(self, kind: str, number: int, n_bytes: int) -> str:
        """Base64 of ``n_bytes`` derived bytes (receipt handles, host ids)."""
        return base64.b64encode(bytes.fromhex(self.hex(kind, number, 2 * n_bytes))).decode()

    def when(self, t_s: float) -> datetime:
        """The UTC datetime of simulated time ``t_s``."""
        if isinstance(t_s, bool) or not isinstance(t_s, numbers.Real):
            raise TypeError(f"t_s must be a number of simulated seconds, got {t_s!r}")
        return to_datetime(t_s, self.epoch)

    def iso_ms(self, t_s: float) -> str:
        """ISO 8601 with milliseconds and ``Z``: ``2026-11-27T00:00:12.500Z``."""
        return self.when(t_s).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def unix_ms(self, t_s: float) -> int:
        """Unix time in whole milliseconds."""
        return round(self.when(t_s).timestamp() * 1000)

    def clf(self, t_s: float) -> str:
        """API Gateway's request time: ``12/Mar/2020:19:03:58 +0000``."""
        return self.when(t_s).strftime("%d/%b/%Y:%H:%M:%S +0000")


def check_int(name: str, value: Any, low: int = 0) -> int:
    """Return ``value`` if it is a whole number >= ``low``; else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a whole number, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}")
    return value


def check_name(name: str, value: Any) -> str:
    """Return ``value`` if it is a non-empty string; else raise naming ``name``."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


DEFAULT_CONTEXT = PayloadContext()


def encode_body(body: Body) -> tuple[str | None, bool]:
    """Return (body string, is base64) for str, bytes, JSON-able containers or None."""
    if body is None or isinstance(body, str):
        return body, False
    if isinstance(body, bytes | bytearray):
        return base64.b64encode(bytes(body)).decode("ascii"), True
    if isinstance(body, dict | list):
        return json.dumps(body, separators=(",", ":")), False
    raise TypeError(f"body must be str, bytes, dict, list or None, got {type(body).__name__}")


def records_event(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Wrap records (S3, SNS, SQS, Kinesis, DynamoDB) as the event Lambda receives: ``Records``."""
    if isinstance(records, Mapping) or not isinstance(records, Sequence) or not records:
        raise ValueError(f"records must be a non-empty sequence of record dicts, got {records!r}")
    return {"Records": [dict(r) for r in records]}
