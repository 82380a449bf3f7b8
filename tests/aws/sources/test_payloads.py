"""Event payloads have AWS's shapes, encodings and deterministic ids."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simlab.aws.sources.payloads import (
    PayloadContext,
    api_gateway_http_event,
    api_gateway_rest_event,
    check_proxy_response,
    decode_s3_key,
    dynamodb_record,
    from_dynamodb_json,
    kinesis_record,
    kinesis_sequence_number,
    proxy_response,
    records_event,
    s3_record,
    scheduled_event,
    sns_record,
    sqs_record,
    to_dynamodb_json,
)
from simlab.core.config import DEFAULT_EPOCH

CTX = PayloadContext(seed=7, region="eu-west-1", account="111122223333")


def test_scheduled_event_shape_and_time() -> None:
    ev = scheduled_event(3661.7, rule_name="nightly", number=3, ctx=CTX)
    assert set(ev) == {
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    }
    assert ev["detail-type"] == "Scheduled Event" and ev["source"] == "aws.events"
    assert ev["time"] == "2026-11-27T01:01:01Z"
    assert ev["resources"] == ["arn:aws:events:eu-west-1:111122223333:rule/nightly"]
    assert ev["detail"] == {} and ev["version"] == "0"
    assert len(ev["id"]) == 36 and ev["id"].count("-") == 4


def test_ids_are_deterministic_and_depend_on_seed_and_number() -> None:
    a = scheduled_event(0, number=1, ctx=CTX)["id"]
    assert a == scheduled_event(0, number=1, ctx=CTX)["id"]
    assert a != scheduled_event(0, number=2, ctx=CTX)["id"]
    assert a != scheduled_event(0, number=1, ctx=PayloadContext(seed=8))["id"]


def test_s3_record_shape_and_key_encoding() -> None:
    rec = s3_record("my-bucket", "raw/red flower+1=2.jpg", 1.25, size=4096, number=5, ctx=CTX)
    assert rec["eventSource"] == "aws:s3" and rec["eventVersion"] == "2.1"
    assert rec["eventName"] == "ObjectCreated:Put"
    assert rec["eventTime"] == "2026-11-27T00:00:01.250Z"
    assert rec["awsRegion"] == "eu-west-1"
    assert set(rec["responseElements"]) == {"x-amz-request-id", "x-amz-id-2"}
    assert rec["userIdentity"]["principalId"] and rec["requestParameters"]["sourceIPAddress"]
    s3 = rec["s3"]
    assert s3["s3SchemaVersion"] == "1.0"
    assert s3["bucket"]["name"] == "my-bucket"
    assert s3["bucket"]["arn"] == "arn:aws:s3:::my-bucket"
    obj = s3["object"]
    assert obj["key"] == "raw/red+flower%2B1%3D2.jpg"  # space -> '+', '+' itself escaped
    assert decode_s3_key(obj["key"]) == "raw/red flower+1=2.jpg"
    assert obj["size"] == 4096 and len(obj["eTag"]) == 32
    assert "versionId" not in obj
    event = records_event([rec])
    assert event["Records"][0]["s3"]["bucket"]["name"] == "my-bucket"
    json.dumps(event)  # serialisable as the handler would get it


def test_s3_sequencer_orders_events_of_a_key() -> None:
    seqs = [
        s3_record("b", "k", t, number=i)["s3"]["object"]["sequencer"]
        for i, t in enumerate([1.0, 1.0, 2.5, 10.0])
    ]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4


def test_s3_removed_event_has_no_size_and_versioned_key_has_version() -> None:
    obj = s3_record("b", "k", 0, event_name="ObjectRemoved:Delete")["s3"]["object"]
    assert "size" not in obj and "eTag" not in obj and "sequencer" in obj
    assert s3_record("b", "k", 0, version_id="v1")["s3"]["object"]["versionId"] == "v1"


def test_s3_rejects_prefixed_event_name_and_bad_size() -> None:
    with pytest.raises(ValueError, match="s3:' prefix"):
        s3_record("b", "k", 0, event_name="s3:ObjectCreated:Put")
    with pytest.raises(ValueError, match="size"):
        s3_record("b", "k", 0, size=-1)
    with pytest.raises(ValueError, match="bucket"):
        s3_record("", "k", 0)


def test_sns_record_shape() -> None:
    rec = sns_record(
        '{"order": 1}', 2.0, topic="orders", subject="new", attributes={"a": "b"}, ctx=CTX
    )
    assert rec["EventSource"] == "aws:sns" and rec["EventVersion"] == "1.0"
    assert rec["EventSubscriptionArn"].startswith("arn:aws:sns:eu-west-1:111122223333:orders:")
    sns = rec["Sns"]
    assert sns["Type"] == "Notification"
    assert sns["TopicArn"] == "arn:aws:sns:eu-west-1:111122223333:orders"
    assert json.loads(sns["Message"]) == {"order": 1}
    assert sns["MessageAttributes"] == {"a": {"Type": "String", "Value": "b"}}
    assert sns["Timestamp"] == "2026-11-27T00:00:02.000Z" and sns["Subject"] == "new"
    assert {"MessageId", "Signature", "SigningCertUrl", "UnsubscribeUrl"} <= set(sns)


@given(st.binary(max_size=300), st.integers(0, 10**6))
def test_kinesis_data_round_trips_through_base64(data: bytes, seq: int) -> None:
    rec = kinesis_record(data, "pk-1", seq, 5.5, stream="clicks", shard=6)
    assert base64.b64decode(rec["kinesis"]["data"]) == data
    assert rec["eventID"] == f"shardId-000000000006:{rec['kinesis']['sequenceNumber']}"


def test_kinesis_record_shape() -> None:
    rec = kinesis_record("hello", "user-1", 12, 1.5, stream="clicks", ctx=CTX)
    k = rec["kinesis"]
    assert k["kinesisSchemaVersion"] == "1.0" and k["partitionKey"] == "user-1"
    assert k["approximateArrivalTimestamp"] == DEFAULT_EPOCH.timestamp() + 1.5
    assert rec["eventSource"] == "aws:kinesis" and rec["eventName"] == "aws:kinesis:record"
    assert rec["eventSourceARN"] == "arn:aws:kinesis:eu-west-1:111122223333:stream/clicks"
    assert rec["invokeIdentityArn"].startswith("arn:aws:iam::111122223333:role/")
    assert base64.b64decode(k["data"]) == b"hello"


def test_kinesis_sequence_numbers_sort_like_positions() -> None:
    numbers = [kinesis_sequence_number(n) for n in (0, 9, 10, 99, 100, 12345)]
    assert numbers == sorted(numbers)
    assert {len(x) for x in numbers} == {56}
    assert [int(x) for x in numbers] == sorted(int(x) for x in numbers)


def test_dynamodb_records_match_aws_examples() -> None:
    # The three records of AWS's DynamoDB Streams example event and their SizeBytes.
    ins = dynamodb_record("INSERT", {"Id": 101}, 0, new_image={"Message": "New item!", "Id": 101})
    assert ins["dynamodb"]["Keys"] == {"Id": {"N": "101"}}
    assert ins["dynamodb"]["NewImage"] == {"Message": {"S": "New item!"}, "Id": {"N": "101"}}
    assert ins["dynamodb"]["SizeBytes"] == 26 and "OldImage" not in ins["dynamodb"]
    mod = dynamodb_record(
        "MODIFY",
        {"Id": 101},
        1,
        new_image={"Message": "This item has changed", "Id": 101},
        old_image={"Message": "New item!", "Id": 101},
        sequence_number=1,
    )
    assert mod["dynamodb"]["SizeBytes"] == 59
    rem = dynamodb_record(
        "REMOVE",
        {"Id": 101},
        2,
        old_image={"Message": "This item has changed", "Id": 101},
        sequence_number=2,
    )
    assert rem["dynamodb"]["SizeBytes"] == 38 and "NewImage" not in rem["dynamodb"]
    seqs = [r["dynamodb"]["SequenceNumber"] for r in (ins, mod, rem)]
    assert seqs == sorted(seqs)
    for r in (ins, mod, rem):
        assert r["eventSource"] == "aws:dynamodb"
        assert r["eventSourceARN"].startswith("arn:aws:dynamodb:us-east-1:123456789012:table/")
        assert set(r["dynamodb"]) >= {"Keys", "SequenceNumber", "SizeBytes", "StreamViewType"}
    assert [r["eventName"] for r in (ins, mod, rem)] == ["INSERT", "MODIFY", "REMOVE"]


def test_dynamodb_stream_view_type_filters_images() -> None:
    keys_only = dynamodb_record(
        "MODIFY",
        {"k": "a"},
        0,
        new_image={"k": "a", "v": 2},
        old_image={"k": "a", "v": 1},
        stream_view_type="KEYS_ONLY",
    )
    assert "NewImage" not in keys_only["dynamodb"] and "OldImage" not in keys_only["dynamodb"]
    new_only = dynamodb_record(
        "MODIFY",
        {"k": "a"},
        0,
        new_image={"k": "a", "v": 2},
        old_image={"k": "a", "v": 1},
        stream_view_type="NEW_IMAGE",
    )
    assert "NewImage" in new_only["dynamodb"] and "OldImage" not in new_only["dynamodb"]


def test_dynamodb_rejects_inconsistent_records() -> None:
    with pytest.raises(ValueError, match="needs NewImage"):
        dynamodb_record("INSERT", {"k": 1}, 0)
    with pytest.raises(ValueError, match="has no NewImage"):
        dynamodb_record("REMOVE", {"k": 1}, 0, new_image={"k": 1}, old_image={"k": 1})
    with pytest.raises(ValueError, match="INSERT"):
        dynamodb_record("UPDATE", {"k": 1}, 0)
    with pytest.raises(ValueError, match="stream_view_type"):
        dynamodb_record("INSERT", {"k": 1}, 0, new_image={"k": 1}, stream_view_type="ALL")


item_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.text(max_size=10)
    | st.binary(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(st.dictionaries(st.text(min_size=1, max_size=8), item_values, max_size=5))
def test_dynamodb_json_round_trip(item: dict) -> None:
    typed = to_dynamodb_json(item)
    assert all(len(v) == 1 for v in typed.values())
    assert from_dynamodb_json(json.loads(json.dumps(typed))) == item


def test_dynamodb_json_types() -> None:
    typed = to_dynamodb_json(
        {
            "n": 1.5,
            "s": "x",
            "b": True,
            "z": None,
            "ss": {"a", "b"},
            "ns": {3, 1},
            "l": [1, "a"],
            "m": {"k": 2},
        }
    )
    assert typed == {
        "n": {"N": "1.5"},
        "s": {"S": "x"},
        "b": {"BOOL": True},
        "z": {"NULL": True},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "3"]},
        "l": {"L": [{"N": "1"}, {"S": "a"}]},
        "m": {"M": {"k": {"N": "2"}}},
    }
    with pytest.raises(TypeError):
        to_dynamodb_json({"bad": object()})


def test_sqs_record_shape() -> None:
    rec = sqs_record(
        "hello",
        2.5,
        queue="jobs",
        number=4,
        receive_count=2,
        first_receive_s=3.0,
        attributes={"kind": "resize"},
        ctx=CTX,
    )
    assert rec["body"] == "hello"
    assert rec["md5OfBody"] == hashlib.md5(b"hello").hexdigest()
    assert rec["eventSource"] == "aws:sqs"
    assert rec["eventSourceARN"] == "arn:aws:sqs:eu-west-1:111122223333:jobs"
    a = rec["attributes"]
    epoch_ms = int(DEFAULT_EPOCH.timestamp() * 1000)
    assert a["ApproximateReceiveCount"] == "2"
    assert a["SentTimestamp"] == str(epoch_ms + 2500)
    assert a["ApproximateFirstReceiveTimestamp"] == str(epoch_ms + 3000)
    assert rec["messageAttributes"]["kind"]["stringValue"] == "resize"
    assert rec["messageAttributes"]["kind"]["dataType"] == "String"
    assert len(rec["messageId"]) == 36 and rec["receiptHandle"]


def test_sqs_fifo_needs_a_group() -> None:
    rec = sqs_record("x", 0, queue="q.fifo", message_group_id="g1", number=2)
    assert rec["attributes"]["MessageGroupId"] == "g1"
    assert int(rec["attributes"]["SequenceNumber"]) == 3
    with pytest.raises(ValueError, match="FIFO"):
        sqs_record("x", 0, queue="q.fifo")
    with pytest.raises(ValueError, match="FIFO"):
        sqs_record("x", 0, queue="q", message_group_id="g")
    with pytest.raises(ValueError, match="receive_count"):
        sqs_record("x", 0, receive_count=0)


def test_api_gateway_rest_event_v1() -> None:
    ev = api_gateway_rest_event(
        "GET",
        "/users/42",
        10.0,
        resource="/users/{id}",
        headers={"Accept": "application/json", "X-Trace": ["a", "b"]},
        query={"fields": ["name", "email"], "v": "2"},
        path_parameters={"id": "42"},
        number=1,
        ctx=CTX,
    )
    for key in (
        "resource",
        "path",
        "httpMethod",
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
        "requestContext",
        "body",
        "isBase64Encoded",
    ):
        assert key in ev
    assert ev["httpMethod"] == "GET" and ev["resource"] == "/users/{id}"
    assert ev["headers"]["X-Trace"] == "b" and ev["multiValueHeaders"]["X-Trace"] == ["a", "b"]
    assert ev["queryStringParameters"] == {"fields": "email", "v": "2"}
    assert ev["multiValueQueryStringParameters"]["fields"] == ["name", "email"]
    assert ev["pathParameters"] == {"id": "42"} and ev["stageVariables"] is None
    assert ev["body"] is None and ev["isBase64Encoded"] is False
    rc = ev["requestContext"]
    assert rc["path"] == "/prod/users/42" and rc["stage"] == "prod"
    assert rc["accountId"] == "111122223333" and rc["resourcePath"] == "/users/{id}"
    assert rc["requestTime"] == "27/Nov/2026:00:00:10 +0000"
    assert (
        rc["requestTimeEpoch"] == int(DEFAULT_EPOCH.timestamp()) * 1000 + 10000
    )
    empty = api_gateway_rest_event("POST", "/", 0, body={"a": 1})
    assert empty["queryStringParameters"] is None and empty["multiValueHeaders"] is None
    assert json.loads(empty["body"]) == {"a": 1}


def test_api_gateway_http_event_v2() -> None:
    ev = api_gateway_http_event(
        "POST",
        "/orders",
        1.0,
        headers={"Content-Type": "text/plain", "X-Trace": ["a", "b"]},
        query={"tag": ["x", "y"]},
        cookies=["s=1"],
        body=b"\x00\xffraw",
        number=3,
    )
    assert ev["version"] == "2.0" and ev["routeKey"] == "POST /orders"
    assert ev["rawPath"] == "/orders" and ev["rawQueryString"] == "tag=x&tag=y"
    assert ev["headers"] == {"content-type": "text/plain", "x-trace": "a,b"}
    assert ev["queryStringParameters"] == {"tag": "x,y"}
    assert ev["cookies"] == ["s=1"]
    assert ev["isBase64Encoded"] is True and base64.b64decode(ev["body"]) == b"\x00\xffraw"
    http = ev["requestContext"]["http"]
    assert http["method"] == "POST" and http["path"] == "/orders"
    assert {"protocol", "sourceIp", "userAgent"} <= set(http)
    assert {
        "accountId",
        "apiId",
        "domainName",
        "requestId",
        "routeKey",
        "stage",
        "time",
        "timeEpoch",
    } <= set(ev["requestContext"])
    bare = api_gateway_http_event("GET", "/", 0)
    assert "body" not in bare and "cookies" not in bare and "queryStringParameters" not in bare


def test_api_gateway_rejects_bad_requests() -> None:
    with pytest.raises(ValueError, match="method"):
        api_gateway_rest_event("get", "/", 0)
    with pytest.raises(ValueError, match="path"):
        api_gateway_http_event("GET", "users", 0)
    with pytest.raises(TypeError, match="body"):
        api_gateway_rest_event("GET", "/", 0, body=3.5)  # type: ignore[arg-type]


def test_proxy_response_and_its_check() -> None:
    r = proxy_response(201, {"id": 7}, headers={"X-A": "1"})
    assert r == {
        "statusCode": 201,
        "headers": {"X-A": "1", "Content-Type": "application/json"},
        "multiValueHeaders": {},
        "body": '{"id":7}',
        "isBase64Encoded": False,
    }
    assert check_proxy_response(r) == 201
    binary = proxy_response(200, b"\x89PNG")
    assert binary["isBase64Encoded"] and base64.b64decode(binary["body"]) == b"\x89PNG"
    assert check_proxy_response({"statusCode": 204}) == 204
    for bad in (
        {"body": "x"},
        {"statusCode": "200"},
        {"statusCode": 700},
        {"statusCode": 200, "body": {"a": 1}},
        {"statusCode": 200, "extra": 1},
        "ok",
    ):
        with pytest.raises(ValueError):
            check_proxy_response(bad)
    with pytest.raises(ValueError, match="status_code"):
        proxy_response(600)


def test_context_and_records_validation() -> None:
    with pytest.raises(ValueError, match="account"):
        PayloadContext(account="123")
    with pytest.raises(TypeError, match="t_s"):
        scheduled_event("now")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="records"):
        records_event([])
    epoch = datetime(2020, 6, 1, tzinfo=UTC)
    assert scheduled_event(0, ctx=PayloadContext(epoch=epoch))["time"] == "2020-06-01T00:00:00Z"
