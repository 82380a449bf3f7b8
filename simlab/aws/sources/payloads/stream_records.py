"""Payloads of stream records: Kinesis Data Streams and DynamoDB Streams.

A poller reads each shard in order and invokes the function synchronously with a batch of records.
Kinesis record data arrives base64-encoded; DynamoDB values arrive in DynamoDB's typed JSON
(``{"Id": {"N": "101"}}``), which :func:`to_dynamodb_json` and :func:`from_dynamodb_json` convert.
Sequence numbers are strings that sort like the record's position in its shard.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from simlab.aws.sources.payloads.context import (
    DEFAULT_CONTEXT,
    PayloadContext,
    check_int,
    check_name,
)

__all__ = [
    "kinesis_record",
    "kinesis_sequence_number",
    "to_dynamodb_json",
    "from_dynamodb_json",
    "dynamodb_record",
]

_STREAM_VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")


def kinesis_sequence_number(n: int) -> str:
    """The 56-digit sequence number of the ``n``-th record of a shard (ordered like ``n``)."""
    check_int("n", n)
    return f"49{n:054d}"


def kinesis_record(
    data: bytes | str,
    partition_key: str,
    sequence_number: int,
    t_s: float,
    *,
    stream: str = "my-stream",
    shard: int = 0,
    ctx: PayloadContext = DEFAULT_CONTEXT,
) -> dict[str, Any]:
    """One Kinesis record as the poller delivers it (wrap a batch with :func:`records_event`).

    ``data`` (bytes; a string is UTF-8 encoded) is carried base64-encoded; ``sequence_number`` is
    the record's position in its shard (0, 1, 2...); ``t_s`` is when it reached the stream
    (``approximateArrivalTimestamp``, Unix seconds).
    """
    if isinstance(data, str):
        data = data.encode()
    if not isinstance(data, bytes | bytearray):
        raise TypeError(f"data must be bytes or str, got {type(data).__name__}")
    check_name("partition_key", partition_key)
    check_name("stream", stream)
    check_int("shard", shard)
    seq = kinesis_sequence_number(sequence_number)
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": seq,
            "data": base64.b64encode(bytes(data)).decode("ascii"),
            "approximateArrivalTimestamp": round(ctx.when(t_s).timestamp(), 3),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-{shard:012d}:{seq}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::{ctx.account}:role/lambda-role",
        "awsRegion": ctx.region,
        "eventSourceARN": f"arn:aws:kinesis:{ctx.region}:{ctx.account}:stream/{stream}",
    }


def _attribute_value(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float | Decimal):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"DynamoDB numbers must be finite, got {value!r}")
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes | bytearray):
        return {"B": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Mapping):
        return {"M": to_dynamodb_json(value)}
    if isinstance(value, set | frozenset):
        if value and all(isinstance(v, str) for v in value):
            return {"SS": sorted(value)}
        if value and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            return {"NS": [str(v) for v in sorted(value)]}
        raise TypeError("a DynamoDB set must be a non-empty set of strings or of numbers")
    if isinstance(value, list | tuple):
        return {"L": [_attribute_value(v) for v in value]}
    raise TypeError(f"cannot store {type(value).__name__} in DynamoDB JSON: {value!r}")


def to_dynamodb_json(item: Mapping[str, Any]) -> dict[str, Any]:
    """Marshal a plain item to DynamoDB's typed JSON: ``{"Id": 101}`` -> ``{"Id": {"N": "101"}}``.

    str -> S, int/float/Decimal -> N (as a string), bool -> BOOL, None -> NULL, bytes -> B (base64),
    dict -> M, list/tuple -> L, set of str -> SS, set of numbers -> NS.
    """
    if not isinstance(item, Mapping):
        raise TypeError(f"item must be a mapping of attribute names to values, got {item!r}")
    return {str(k): _attribute_value(v) for k, v in item.items()}


def _plain_value(av: Mapping[str, Any]) -> Any:
    if not isinstance(av, Mapping) or len(av) != 1:
        raise ValueError(f"a DynamoDB attribute value has exactly one type key, got {av!r}")
    ((tag, v),) = av.items()
    if tag == "N":
        d = Decimal(v)
        return int(d) if d == d.to_integral_value() else float(d)
    simple = {"S": lambda x: x, "BOOL": lambda x: x, "NULL": lambda x: None, "SS": set}
    if tag in simple:
        return simple[tag](v)
    if tag == "B":
        return base64.b64decode(v)
    if tag == "M":
        return from_dynamodb_json(v)
    if tag == "L":
        return [_plain_value(x) for x in v]
    if tag == "NS":
        return {_plain_value({"N": x}) for x in v}
    raise ValueError(f"unknown DynamoDB type {tag!r}")


def from_dynamodb_json(item: Mapping[str, Any]) -> dict[str, Any]:
    """Unmarshal DynamoDB's typed JSON back to plain values (numbers become int or float)."""
    return {k: _plain_value(v) for k, v in item.items()}


def _value_size(av: Mapping[str, Any]) -> int:
    """Bytes of one attribute value by DynamoDB's item-size rules."""
    ((tag, v),) = av.items()
    if tag == "S":
        return len(v.encode())
    if tag == "N":  # 1 byte per 2 significant digits, plus 1
        try:
            digits = len(Decimal(v).normalize().as_tuple().digits)
        except InvalidOperation as err:
            raise ValueError(f"not a DynamoDB number: {v!r}") from err
        return (digits + 1) // 2 + 1
    if tag == "B":
        return len(base64.b64decode(v))
    if tag in ("BOOL", "NULL"):
        return 1
    if tag in ("SS", "NS"):
        return sum(_value_size({tag[0]: x}) for x in v)
    if tag == "L":
        return 3 + sum(1 + _value_size(x) for x in v)
    return 3 + sum(1 + len(k.encode()) + _value_size(x) for k, x in v.items())  # M


def dynamodb_record(
    event_name: str,
    keys: Mapping[str, Any],
    t_s: float,
    *,
    new_image: Mapping[str, Any] | None = None,
    old_image: Mapping[str, Any] | None = None,
    sequence_number: int = 0,
    table: str = "my-table",
    stream_view_type: str = "NEW_AND_OLD_IMAGES",
    ctx: PayloadContext = DEFAULT_CONTEXT,
) -> dict[str, Any]:
    """One DynamoDB Streams record as the poller delivers it (wrap a batch with records_event).

    Parameters
    ----------
    event_name
        ``'INSERT'`` (needs ``new_image``), ``'MODIFY'`` (both images) or ``'REMOVE'``
        (``old_image``). Images the stream view type does not carry are left out, as on AWS.
    keys, new_image, old_image
        Plain dicts, marshalled with :func:`to_dynamodb_json`.
    t_s
        Simulated time of the change (``ApproximateCreationDateTime``, Unix seconds).
    sequence_number
        The record's position in its shard, 0, 1, 2... (a 21-digit string in the record).
    table, stream_view_type, ctx
        The table, what the stream carries, and the run's context.

    Notes
    -----
    ``SizeBytes`` follows DynamoDB's item-size rules over Keys and the images carried; it matches
    the examples in AWS's documentation (26, 59 and 38 bytes).
    """
    needs = {"INSERT": (True, False), "MODIFY": (True, True), "REMOVE": (False, True)}
    if event_name not in needs:
        raise ValueError(f"event_name must be 'INSERT', 'MODIFY' or 'REMOVE', got {event_name!r}")
    if stream_view_type not in _STREAM_VIEW_TYPES:
        raise ValueError(
            f"stream_view_type must be one of {_STREAM_VIEW_TYPES}, got {stream_view_type!r}"
        )
    check_int("sequence_number", sequence_number)
    check_name("table", table)
    images = {"NewImage": new_image, "OldImage": old_image}
    for (label, image), needed in zip(images.items(), needs[event_name], strict=True):
        if needed != (image is not None):
            what = "needs" if needed else "has no"
            raise ValueError(f"a {event_name} record {what} {label} (got {image!r})")
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": int(ctx.when(t_s).timestamp()),
        "Keys": to_dynamodb_json(keys),
    }
    views = {"NewImage": "NEW_IMAGE", "OldImage": "OLD_IMAGE"}
    for label, image in images.items():
        if image is not None and stream_view_type in (views[label], "NEW_AND_OLD_IMAGES"):
            body[label] = to_dynamodb_json(image)
    carried = [body[k] for k in ("Keys", "NewImage", "OldImage") if k in body]
    body["SequenceNumber"] = f"{sequence_number + 1:021d}"
    body["SizeBytes"] = sum(len(k.encode()) + _value_size(v) for i in carried for k, v in i.items())
    body["StreamViewType"] = stream_view_type
    label = ctx.epoch.strftime("%Y-%m-%dT%H:%M:%S.000")
    return {
        "eventID": ctx.hex(f"dynamodb:{table}", sequence_number),
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": ctx.region,
        "dynamodb": body,
        "eventSourceARN": f"arn:aws:dynamodb:{ctx.region}:{ctx.account}:table/{table}/stream/"
        f"{label}",
    }
