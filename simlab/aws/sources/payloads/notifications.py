"""Payloads of the asynchronous triggers: EventBridge schedules, S3 notifications, SNS, and SQS.

S3, SNS and EventBridge invoke a function asynchronously with one event; an SQS poller invokes it
synchronously with a batch of messages. In S3 records the object key is URL-encoded (space ->
``+``): a handler must decode it (:func:`decode_s3_key`) before using it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from simlab.aws.sources.payloads.context import (
    DEFAULT_CONTEXT,
    PayloadContext,
    check_int,
    check_name,
)

__all__ = [
    "S3_EVENT_NAMES",
    "scheduled_event",
    "s3_record",
    "decode_s3_key",
    "sns_record",
    "sqs_record",
]

#: ``eventName`` values of S3 notifications (the configuration names without the ``s3:`` prefix).
S3_EVENT_NAMES: tuple[str, ...] = (
    "ObjectCreated:Put",
    "ObjectCreated:Post",
    "ObjectCreated:Copy",
    "ObjectCreated:CompleteMultipartUpload",
    "ObjectRemoved:Delete",
    "ObjectRemoved:DeleteMarkerCreated",
    "ObjectRestore:Post",
    "ObjectRestore:Completed",
    "ObjectRestore:Delete",
    "ReducedRedundancyLostObject",
    "LifecycleTransition",
    "LifecycleExpiration:Delete",
    "LifecycleExpiration:DeleteMarkerCreated",
    "IntelligentTiering",
    "ObjectTagging:Put",
    "ObjectTagging:Delete",
    "ObjectAcl:Put",
)


def scheduled_event(
    t_s: float,
    *,
    rule_name: str = "my-schedule",
    number: int = 0,
    ctx: PayloadContext = DEFAULT_CONTEXT,
) -> dict[str, Any]:
    """The event an EventBridge scheduled rule sends (``detail-type: Scheduled Event``).

    ``t_s`` is the simulated firing time (shown to the second, as AWS does), ``number`` the
    firing's counter within the rule (it makes the event ``id``).
    """
    check_name("rule_name", rule_name)
    check_int("number", number)
    when = ctx.when(t_s).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return {
        "version": "0",
        "id": ctx.uuid(f"schedule:{rule_name}", number),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ctx.account,
        "time": when,
        "region": ctx.region,
        "resources": [f"arn:aws:events:{ctx.region}:{ctx.account}:rule/{rule_name}"],
        "detail": {},
    }


def s3_record(
    bucket: str,
    key: str,
    t_s: float,
    *,
    size: int = 0,
    event_name: str = "ObjectCreated:Put",
    number: int = 0,
    version_id: str | None = None,
    configuration_id: str = "simlab-notification",
    ctx: PayloadContext = DEFAULT_CONTEXT,
) -> dict[str, Any]:
    """One record of an S3 event notification (wrap with :func:`records_event`).

    Parameters
    ----------
    bucket, key
        Bucket name and the object's key as uploaded; the record carries the key URL-encoded
        (space -> ``+``), as S3 does. Undo it with :func:`decode_s3_key`.
    t_s
        Simulated time of the operation (s).
    size
        Object size in bytes (left out of ``ObjectRemoved`` records, as S3 does, with ``eTag``).
    event_name
        One of :data:`S3_EVENT_NAMES`, without the ``s3:`` prefix of the configuration names.
    number
        The notification's counter within the bucket (request ids, ``eTag``, ``sequencer``).
    version_id, configuration_id, ctx
        Version of the object in a versioned bucket, the notification configuration's name, and
        the run's context.
    """
    check_name("bucket", bucket)
    check_name("key", key)
    check_int("size", size)
    check_int("number", number)
    if event_name not in S3_EVENT_NAMES:
        hint = " (drop the 's3:' prefix)" if str(event_name).startswith("s3:") else ""
        raise ValueError(f"event_name must be one of {S3_EVENT_NAMES}{hint}, got {event_name!r}")
    kind = f"s3:{bucket}"
    obj: dict[str, Any] = {"key": quote_plus(key, safe="/")}
    if not event_name.startswith("ObjectRemoved"):
        obj["size"] = size
        obj["eTag"] = ctx.hex(f"{kind}:etag:{key}", number)
    if version_id is not None:
        obj["versionId"] = version_id
    # The sequencer orders the events of one key: hex of the time in microseconds and the counter.
    micros = round(ctx.when(t_s).timestamp() * 1e6)
    obj["sequencer"] = f"{micros:014X}{number % 0x10000:04X}"
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": ctx.region,
        "eventTime": ctx.iso_ms(t_s),
        "eventName": event_name,
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLEPRINCIPAL"},
        "requestParameters": {"sourceIPAddress": "198.51.100.10"},
        "responseElements": {
            "x-amz-request-id": ctx.hex(f"{kind}:request", number, 16).upper(),
            "x-amz-id-2": ctx.b64(f"{kind}:host", number, 48),
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "A3EXAMPLEOWNER"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": obj,
        },
    }


def decode_s3_key(key: str) -> str:
    """Undo the URL encoding of ``object.key`` in an S3 notification (``+`` -> space)."""
    return unquote_plus(key)


def sns_record(
    message: str,
    t_s: float,
    *,
    topic: str = "my-topic",
    subject: str | None = None,
    attributes: Mapping[str, str] | None = None,
    number: int = 0,
    ctx: PayloadContext = DEFAULT_CONTEXT,
) -> dict[str, Any]:
    """The one record of an SNS notification as Lambda receives it (wrap with records_event).

    ``message`` is a string (JSON goes in as its text), ``t_s`` the simulated publish time,
    ``attributes`` string message attributes, ``number`` the publish counter on the topic.
    """
    if not isinstance(message, str):
        raise TypeError(f"message must be a string, got {type(message).__name__}")
    check_name("topic", topic)
    check_int("number", number)
    topic_arn = f"arn:aws:sns:{ctx.region}:{ctx.account}:{topic}"
    subscription = f"{topic_arn}:{ctx.uuid(f'sns:{topic}:subscription', 0)}"
    host = f"https://sns.{ctx.region}.amazonaws.com"
    return {
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription,
        "EventSource": "aws:sns",
        "Sns": {
            "SignatureVersion": "1",
            "Timestamp": ctx.iso_ms(t_s),
            "Signature": "EXAMPLE",
            "SigningCertUrl": f"{host}/SimpleNotificationService.pem",
            "MessageId": ctx.uuid(f"sns:{topic}", number),
            "Message": message,
            "MessageAttributes": {
                k: {"Type": "String", "Value": str(v)} for k, v in (attributes or {}).items()
            },
            "Type": "Notification",
            "UnsubscribeUrl": f"{host}/?Action=Unsubscribe&SubscriptionArn={subscription}",
            "TopicArn": topic_arn,
            "Subject": subject,
        },
    }


def sqs_record(
    body: str,
    t_s: float,
    *,
    queue: str = "my-queue",
    number: int = 0,
    receive_count: int = 1,
    first_receive_s: float | None = None,
    attributes: Mapping[str, str] | None = None,
    message_group_id: str | None = None,
    ctx: PayloadContext = DEFAULT_CONTEXT,
) -> dict[str, Any]:
    """One SQS message as the poller delivers it (wrap a batch with :func:`records_event`).

    Parameters
    ----------
    body
        The message body (a string).
    t_s
        Simulated time the message was sent (``SentTimestamp``, Unix ms as a string).
    queue
        The queue's name; a name ending in ``.fifo`` is a FIFO queue and needs ``message_group_id``.
    number
        The message's counter in the queue (message id; sequence number of FIFO queues).
    receive_count
        Receipts so far, this one included (``ApproximateReceiveCount``; > 1 after a retry).
    first_receive_s
        Simulated time of its first receipt (default ``t_s``).
    attributes, message_group_id, ctx
        String message attributes, the FIFO group, and the run's context.
    """
    if not isinstance(body, str):
        raise TypeError(f"body must be a string, got {type(body).__name__}")
    check_name("queue", queue)
    check_int("number", number)
    check_int("receive_count", receive_count, low=1)
    fifo = queue.endswith(".fifo")
    if fifo != (message_group_id is not None):
        raise ValueError(
            f"message_group_id is required for FIFO queues (.fifo) and only for them; queue is "
            f"{queue!r}, message_group_id is {message_group_id!r}"
        )
    first = t_s if first_receive_s is None else first_receive_s
    attrs = {
        "ApproximateReceiveCount": str(receive_count),
        "SentTimestamp": str(ctx.unix_ms(t_s)),
        "SenderId": "AIDAEXAMPLESENDER",
        "ApproximateFirstReceiveTimestamp": str(ctx.unix_ms(first)),
    }
    if fifo:
        attrs["SequenceNumber"] = f"{number + 1:020d}"
        attrs["MessageGroupId"] = str(message_group_id)
        attrs["MessageDeduplicationId"] = hashlib.sha256(body.encode()).hexdigest()
    return {
        "messageId": ctx.uuid(f"sqs:{queue}", number),
        "receiptHandle": ctx.b64(f"sqs:{queue}:receipt:{receive_count}", number, 48),
        "body": body,
        "attributes": attrs,
        "messageAttributes": {
            k: {"stringValue": str(v), "stringListValues": [], "binaryListValues": []}
            | {"dataType": "String"}
            for k, v in (attributes or {}).items()
        },
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{ctx.region}:{ctx.account}:{queue}",
        "awsRegion": ctx.region,
    }
