"""Tests of simlab.aws.trail: CloudTrail records and their delivery to S3."""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simlab.aws.trail import (
    EVENT_NAMES,
    TRAIL_KEY,
    cloudtrail_event_name,
    delivery_files,
    read_trail_file,
    trail_record,
    trail_records,
)

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_record_fields() -> None:
    r = trail_record(
        "UpdateFunctionConfiguration",
        {"functionName": "resize", "memorySize": 1024},
        1800.0,
        seed=3,
        number=0,
        response_elements={"functionName": "resize", "memorySize": 1024},
    )
    assert r["eventVersion"] == "1.09"
    assert r["eventTime"] == "2026-11-27T00:30:00Z"
    assert r["eventSource"] == "lambda.amazonaws.com"
    assert r["eventName"] == "UpdateFunctionConfiguration20150331v2"
    assert r["eventType"] == "AwsApiCall" and r["eventCategory"] == "Management"
    assert r["awsRegion"] == "us-east-1" and r["recipientAccountId"] == "123456789012"
    assert r["requestParameters"] == {"functionName": "resize", "memorySize": 1024}
    assert r["responseElements"]["memorySize"] == 1024
    assert r["readOnly"] is False and r["managementEvent"] is True
    assert UUID.match(r["requestID"]) and UUID.match(r["eventID"])
    assert r["requestID"] != r["eventID"]
    who = r["userIdentity"]
    assert who["type"] == "IAMUser" and who["userName"] == "student"
    assert who["arn"] == "arn:aws:iam::123456789012:user/student"
    assert who["accountId"] == "123456789012"
    assert re.fullmatch(r"AIDA[A-Z0-9]{17}", who["principalId"])
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", who["accessKeyId"])
    json.dumps(r)  # serialisable as is


@pytest.mark.parametrize(
    ("action", "logged"),
    [
        ("CreateFunction", "CreateFunction20150331"),
        ("UpdateFunctionConfiguration", "UpdateFunctionConfiguration20150331v2"),
        ("PutFunctionConcurrency", "PutFunctionConcurrency20171031"),
        ("UpdateFunctionCode", "UpdateFunctionCode20150331v2"),
        ("PutProvisionedConcurrencyConfig", "PutProvisionedConcurrencyConfig"),
        ("PutFunctionConcurrency20171031", "PutFunctionConcurrency20171031"),
    ],
)
def test_event_names_carry_the_api_version(action: str, logged: str) -> None:
    assert cloudtrail_event_name(action) == logged
    assert trail_record(action, {}, 0.0, 1, 0)["eventName"] == logged


def test_unknown_action_and_bad_input() -> None:
    with pytest.raises(ValueError, match="event_name 'Resize'"):
        trail_record("Resize", {}, 0.0, 1, 0)
    with pytest.raises(ValueError, match="time_s"):
        trail_record("CreateFunction", {}, -1.0, 1, 0)
    with pytest.raises(ValueError, match="number"):
        trail_record("CreateFunction", {}, 0.0, 1, -1)
    with pytest.raises(ValueError, match="account_id"):
        trail_record("CreateFunction", {}, 0.0, 1, 0, account_id="123")
    with pytest.raises(ValueError, match="region"):
        trail_record("CreateFunction", {}, 0.0, 1, 0, region="Virginia")
    with pytest.raises(ValueError, match="user"):
        trail_record("CreateFunction", {}, 0.0, 1, 0, user="a b")
    with pytest.raises(TypeError, match="JSON"):
        trail_record("CreateFunction", {"when": datetime(2026, 1, 1)}, 0.0, 1, 0)
    with pytest.raises(TypeError, match="request_parameters"):
        trail_record("CreateFunction", [("a", 1)], 0.0, 1, 0)


def test_event_time_is_utc_truncated_to_the_second() -> None:
    epoch = datetime(2024, 12, 31, 23, 59, 0, tzinfo=UTC)
    r = trail_record("GetFunction", {"functionName": "f"}, 60.9, 1, 0, epoch)
    assert r["eventTime"] == "2025-01-01T00:00:00Z"
    assert r["readOnly"] is True


def test_ids_are_deterministic() -> None:
    a, b = (
        trail_record("CreateFunction", {}, 0.0, 5, 7),
        trail_record("CreateFunction", {}, 0, 5, 7),
    )
    assert a == b
    c = trail_record("CreateFunction", {}, 0.0, 5, 8)
    d = trail_record("CreateFunction", {}, 0.0, 6, 7)
    assert len({a["eventID"], c["eventID"], d["eventID"]}) == 3
    assert len({a["requestID"], c["requestID"], d["requestID"]}) == 3


def test_secret_parameters_are_omitted() -> None:
    params = {
        "functionName": "f",
        "environment": {"variables": {"PASSWORD": "x"}},
        "code": {"zipFile": "UEsDB...", "s3Bucket": "b"},
        "memorySize": 256,
    }
    r = trail_record("CreateFunction", params, 0.0, 1, 0)
    assert r["requestParameters"] == {"functionName": "f", "code": {"s3Bucket": "b"},
                                      "memorySize": 256}  # fmt: skip
    assert params["environment"] and params["code"]["zipFile"]  # the caller's dict is untouched
    r = trail_record(
        "UpdateFunctionConfiguration", {"FunctionName": "f", "Environment": {}}, 0, 1, 0
    )
    assert r["requestParameters"] == {"FunctionName": "f"}
    r = trail_record("UpdateFunctionCode", {"functionName": "f", "zipFile": "UEsDB"}, 0, 1, 0)
    assert r["requestParameters"] == {"functionName": "f"}
    r = trail_record("PutFunctionConcurrency", {"environment": "kept"}, 0, 1, 0)
    assert r["requestParameters"] == {"environment": "kept"}


def test_root_user_and_invoke_data_event() -> None:
    r = trail_record("Invoke", {"functionName": "f"}, 0, 1, 0, user="root")
    assert r["userIdentity"]["type"] == "Root"
    assert r["userIdentity"]["arn"] == "arn:aws:iam::123456789012:root"
    assert r["eventCategory"] == "Data" and r["managementEvent"] is False


def test_trail_records_are_numbered_in_time_order() -> None:
    calls = [
        (1800, "UpdateFunctionConfiguration", {"functionName": "f", "memorySize": 1024}),
        (0, "CreateFunction", {"functionName": "f"}, {"functionArn": "arn"}),
        (5, "PutFunctionConcurrency", {"functionName": "f", "reservedConcurrentExecutions": 5}),
    ]
    records = trail_records(calls, seed=2, region="eu-west-1")
    assert [r["eventName"][:6] for r in records] == ["Create", "PutFun", "Update"]
    assert records[0]["responseElements"] == {"functionArn": "arn"}
    assert (
        records[1]["eventID"] == trail_record(*calls[2][1:], 5, 2, 1, region="eu-west-1")["eventID"]
    )
    assert {r["awsRegion"] for r in records} == {"eu-west-1"}
    with pytest.raises(ValueError, match="each call"):
        trail_records([(0, "CreateFunction")], seed=1)


def _records(times: list[float], seed: int = 1) -> list[dict]:
    return [trail_record("GetFunction", {"functionName": f"f{i}"}, t, seed, i)
            for i, t in enumerate(times)]  # fmt: skip


def test_delivery_windows_keys_and_round_trip() -> None:
    records = _records([10, 299.9, 300, 901])
    files = delivery_files(records, every_s=300, account_id="111122223333", region="us-east-2",
                           prefix="org/trail", seed=4)  # fmt: skip
    assert [f.delivery_time_s for f in files] == [300.0, 600.0, 1200.0]
    assert [len(read_trail_file(f.body)) for f in files] == [2, 1, 1]
    assert read_trail_file(files[0].body) == records[:2]
    assert read_trail_file(files[2].body) == records[3:]
    for f in files:
        m = TRAIL_KEY.match(f.key)
        assert m, f.key
        assert m["prefix"] == "org/trail" and m["account"] == "111122223333"
        assert m["region"] == "us-east-2"
    assert files[0].key.startswith(
        "org/trail/AWSLogs/111122223333/CloudTrail/us-east-2/2026/11/27/"
    )
    assert files[0].key.split("_")[3] == "20261127T0005Z"  # the delivery time, 300 s
    assert files[2].key.split("_")[3] == "20261127T0020Z"
    assert len({f.key.split("_")[-1] for f in files}) == 3  # unique strings differ
    assert json.loads(gzip.decompress(files[1].body)) == {"Records": [records[2]]}


def test_delivery_without_prefix_over_midnight_and_deterministic() -> None:
    records = _records([86_390.0])
    (f,) = delivery_files(records, every_s=300, delay_s=30)
    assert f.delivery_time_s == 86_430.0  # window [86,100, 86,400) then 30 s
    assert TRAIL_KEY.match(f.key)["prefix"] is None
    assert f.key.startswith("AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28/")
    assert "_20261128T0000Z_" in f.key
    assert delivery_files(records, delay_s=30) == [f]  # same bytes: gzip without a timestamp
    assert delivery_files(records, seed=9)[0].key != delivery_files(records, seed=8)[0].key
    assert delivery_files([]) == []


def test_delivery_bad_input() -> None:
    with pytest.raises(ValueError, match="every_s"):
        delivery_files(_records([1]), every_s=0)
    with pytest.raises(ValueError, match="prefix"):
        delivery_files(_records([1]), prefix="logs/")
    with pytest.raises(ValueError, match="eventTime"):
        delivery_files([{"eventName": "x"}])
    early = trail_record("GetFunction", {}, 0, 1, 0, datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="before the epoch"):
        delivery_files([early])
    with pytest.raises(ValueError, match="gzip"):
        read_trail_file(b"not gzip")
    with pytest.raises(ValueError, match="Records"):
        read_trail_file(gzip.compress(b"[1, 2]"))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(0, 20_000), max_size=40),
    st.sampled_from([60.0, 300.0, 900.0]),
    st.integers(0, 1000),
)
def test_every_record_delivered_once_in_its_window(times, every_s, delay_s) -> None:
    records = _records([float(t) for t in times])
    files = delivery_files(records, every_s=every_s, delay_s=float(delay_s))
    seen = []
    for f in files:
        window_end = f.delivery_time_s - delay_s
        assert window_end % every_s == 0
        for r in read_trail_file(f.body):
            t = int(r["requestParameters"]["functionName"][1:])
            assert window_end - every_s <= times[t] < window_end
            seen.append(t)
    assert sorted(seen) == list(range(len(times)))
    assert [f.delivery_time_s for f in files] == sorted({f.delivery_time_s for f in files})
    assert len(EVENT_NAMES) > 30
