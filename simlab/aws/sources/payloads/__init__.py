"""Event payloads with the JSON shapes AWS services send to a Lambda handler.

A Lambda function never sees "a request": it sees an *event*, a JSON document whose shape depends on
who invoked it. S3 sends ``{"Records": [{"s3": {"bucket": ..., "object": ...}}]}``, a Kinesis poller
sends a batch of base64-encoded records, API Gateway sends the whole HTTP request and expects a
``{"statusCode": ..., "body": ...}`` back. The same code behind two triggers must parse two
different documents, and many real bugs live exactly there: an S3 key arrives URL-encoded (a
space becomes ``+``), Kinesis data arrives base64-encoded, DynamoDB values arrive typed
(``{"N": "101"}``).

The builders here return plain dicts shaped like AWS's (key names, nesting, strings versus numbers,
time formats), so a real ``handler(event, context)`` can run on them. They are deterministic: ids
are hashes of the run's seed, the source's name and a counter, and times come from simulated seconds
and the epoch datetime that simulated time 0 stands for. Both, with the region and account, travel
in a :class:`PayloadContext`. Fields that need real credentials (signatures, principals) hold fixed
placeholders. Events that carry a batch are ``{"Records": [...]}``: build the records one by one
and wrap them with :func:`records_event`.

Examples
--------
>>> rec = s3_record("photos", "holiday/red flower.jpg", 12.5, size=1024)
>>> rec["s3"]["object"]["key"], rec["eventName"], rec["eventTime"]
('holiday/red+flower.jpg', 'ObjectCreated:Put', '2026-11-27T00:00:12.500Z')
>>> decode_s3_key(rec["s3"]["object"]["key"])
'holiday/red flower.jpg'
"""

from __future__ import annotations

from simlab.aws.sources.payloads.apigateway import (
    api_gateway_http_event,
    api_gateway_rest_event,
    check_proxy_response,
    proxy_response,
)
from simlab.aws.sources.payloads.context import DEFAULT_CONTEXT, PayloadContext, records_event
from simlab.aws.sources.payloads.notifications import (
    S3_EVENT_NAMES,
    decode_s3_key,
    s3_record,
    scheduled_event,
    sns_record,
    sqs_record,
)
from simlab.aws.sources.payloads.stream_records import (
    dynamodb_record,
    from_dynamodb_json,
    kinesis_record,
    kinesis_sequence_number,
    to_dynamodb_json,
)

__all__ = [
    "PayloadContext",
    "DEFAULT_CONTEXT",
    "S3_EVENT_NAMES",
    "records_event",
    "scheduled_event",
    "s3_record",
    "decode_s3_key",
    "sns_record",
    "sqs_record",
    "kinesis_record",
    "kinesis_sequence_number",
    "to_dynamodb_json",
    "from_dynamodb_json",
    "dynamodb_record",
    "api_gateway_rest_event",
    "api_gateway_http_event",
    "proxy_response",
    "check_proxy_response",
]
