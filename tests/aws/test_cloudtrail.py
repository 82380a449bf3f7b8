"""Tests of simlab.aws.cloudtrail: a run's control-plane log as CloudTrail records, and their
delivery to S3 during the run, which triggers a function (CloudTrail -> S3 -> Lambda)."""

from __future__ import annotations

import gzip
import json
import math
from datetime import UTC, datetime

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simlab
from simlab.aws.cloudtrail import (
    TRAIL_COLUMNS,
    CloudTrailDelivery,
    api_calls,
    result_trail,
    trail_frame,
    trail_reader,
)
from simlab.aws.sources import Poisson, S3Bucket
from simlab.aws.trail import TRAIL_KEY, read_trail_file


def _pipeline(seed: int = 1, every_s: float = 300, delay_s: float = 0, prefix: str = "",
              changes: tuple = ((1800.0, {"memory_mb": 1024}),), until_s: float = 3600,
              traffic: bool = True) -> simlab.Simulation:
    sim = simlab.Simulation(seed=seed)
    sim.add_function("f", memory_mb=128, duration_s=0.1)
    if traffic:
        sim.add_source(Poisson(rate_per_s=0.2), target="f")
    for at, change in changes:
        sim.update_function_configuration(at, "f", **change)
    bucket = S3Bucket("trail-bucket")
    sim.add_function("audit", duration_s=0.05, handler=trail_reader(bucket))
    sim.add_source(bucket, target="audit")
    sim.add_source(CloudTrailDelivery(bucket, every_s=every_s, delay_s=delay_s, prefix=prefix),
                   target="audit")
    return sim


@pytest.fixture(scope="module")
def run() -> simlab.Result:
    return _pipeline().run(until_s=3600)


# -- translating the log ------------------------------------------------------------------------
def test_update_of_memory_is_update_function_configuration() -> None:
    cfg = {"memory_mb": 128, "timeout_s": 3, "runtime": "python3.12"}
    calls = api_calls((1800.0, "UpdateFunctionConfiguration", "f", {"memory_mb": 1024}), cfg)
    assert [(t, a) for t, a, _, _ in calls] == [(1800.0, "UpdateFunctionConfiguration")]
    _, _, params, response = calls[0]
    assert params == {"functionName": "f", "memorySize": 1024}
    assert response["memorySize"] == 1024 and response["timeout"] == 3
    assert response["functionArn"] == "arn:aws:lambda:us-east-1:123456789012:function:f"
    assert response["lastModified"] == "2026-11-27T00:30:00.000+0000"
    assert response["lastUpdateStatus"] == "InProgress"
    assert cfg["memory_mb"] == 1024  # the configuration so far follows the change


def test_each_setting_maps_to_its_api_call() -> None:
    cfg: dict = {}
    create = api_calls((0.0, "CreateFunction", "f",
                        {"memory_mb": 512, "timeout_s": 30, "architecture": "arm64",
                         "runtime": "python3.12", "package_type": "zip",
                         "ephemeral_storage_mb": 1024}), cfg)
    (_, action, params, response), = create
    assert action == "CreateFunction" and response["state"] == "Pending"
    assert params == {"functionName": "f", "memorySize": 512, "timeout": 30,
                      "architectures": ["arm64"], "runtime": "python3.12", "packageType": "Zip",
                      "ephemeralStorage": {"size": 1024}, "code": {}, "publish": False}
    mixed = api_calls((60.0, "UpdateFunctionConfiguration", "f",
                       {"timeout_s": 10, "cpu_s": 0.2, "reserved_concurrency": 5,
                        "provisioned_concurrency": 2}), cfg)
    assert [a for _, a, _, _ in mixed] == ["UpdateFunctionConfiguration", "UpdateFunctionCode",
                                           "PutFunctionConcurrency",
                                           "PutProvisionedConcurrencyConfig"]
    assert mixed[0][2] == {"functionName": "f", "timeout": 10}
    assert mixed[1][2] == {"functionName": "f", "publish": False}  # code behaviour: a deployment
    assert mixed[2][2] == {"functionName": "f", "reservedConcurrentExecutions": 5}
    assert mixed[3][2] == {"functionName": "f", "provisionedConcurrentExecutions": 2}
    removed = api_calls((90.0, "DeleteFunctionConcurrency", "f",
                         {"reserved_concurrency": None}), cfg)
    assert [(a, p, r) for _, a, p, r in removed] == [
        ("DeleteFunctionConcurrency", {"functionName": "f"}, None)]
    arch = api_calls((95.0, "UpdateFunctionConfiguration", "f", {"architecture": "x86_64"}), cfg)
    assert [(a, p["architectures"]) for _, a, p, _ in arch] == [("UpdateFunctionCode",
                                                                  ["x86_64"])]
    assert arch[0][3]["architectures"] == ["x86_64"] and arch[0][3]["memorySize"] == 512
    off = api_calls((99.0, "UpdateFunctionConfiguration", "f", {"provisioned_concurrency": 0}),
                    cfg)
    assert [a for _, a, _, _ in off] == ["DeleteProvisionedConcurrencyConfig"]


@pytest.mark.parametrize("entry", [
    (0.0, "CreateFunction", "f"),
    "CreateFunction",
    (0.0, "DeleteFunction", "f", {}),
    (0.0, "CreateFunction", "f", [("memory_mb", 128)]),
])
def test_bad_entries_are_refused(entry) -> None:
    with pytest.raises(ValueError, match="control-plane"):
        api_calls(entry, {})


def test_records_reflect_the_update_at_30_minutes(run) -> None:
    trail = result_trail(run)
    assert [r["eventName"] for r in trail] == [
        "CreateFunction20150331", "CreateFunction20150331",
        "UpdateFunctionConfiguration20150331v2"]
    update = trail[-1]
    assert update["eventTime"] == "2026-11-27T00:30:00Z"
    assert update["eventSource"] == "lambda.amazonaws.com"
    assert update["requestParameters"] == {"functionName": "f", "memorySize": 1024}
    assert update["responseElements"]["memorySize"] == 1024
    assert update["userIdentity"]["userName"] == "student"
    assert {r["requestParameters"]["functionName"] for r in trail[:2]} == {"f", "audit"}
    # The same run gives the same trail; another seed other ids.
    assert result_trail(run) == trail
    other = _pipeline(seed=2).run(until_s=3600)
    assert result_trail(other)[-1]["eventID"] != update["eventID"]
    assert result_trail(run, user="root")[-1]["userIdentity"]["type"] == "Root"


def test_concurrency_calls_appear_in_the_trail() -> None:
    sim = simlab.Simulation(seed=3)
    sim.add_function("f", duration_s=0.1)
    sim.put_function_concurrency(600, "f", 5)
    sim.put_function_concurrency(1200, "f", None)
    sim.put_function_concurrency(7200, "f", 3)  # after the run: never made
    frame = trail_frame(sim.run(until_s=1800))
    assert frame["action"].tolist() == ["CreateFunction", "PutFunctionConcurrency",
                                        "DeleteFunctionConcurrency"]
    assert frame["event_name"].tolist()[1:] == ["PutFunctionConcurrency20171031",
                                                "DeleteFunctionConcurrency20171031"]
    assert frame["time_s"].tolist() == [0.0, 600.0, 1200.0]
    assert json.loads(frame["request_parameters"][1]) == {"functionName": "f",
                                                          "reservedConcurrentExecutions": 5}


def test_trail_frame_of_a_result_and_of_records(run) -> None:
    frame = trail_frame(run)
    assert tuple(frame.columns) == TRAIL_COLUMNS
    assert frame["time_s"].tolist() == [0.0, 0.0, 1800.0]
    assert frame.loc[2, "event_time"] == pd.Timestamp("2026-11-27T00:30:00Z")
    assert frame.loc[2, "function"] == "f" and frame.loc[2, "user"] == "student"
    assert not frame["read_only"].any()
    back = trail_frame(run.output("cloudtrail").records)
    pd.testing.assert_frame_equal(back, frame)
    empty = trail_frame([])
    assert tuple(empty.columns) == TRAIL_COLUMNS and empty.empty
    with pytest.raises(TypeError, match="Result only"):
        trail_frame([], user="x")
    with pytest.raises(ValueError, match="not a CloudTrail record"):
        trail_frame([{"eventName": "x"}])
    with pytest.raises(TypeError, match="Result or a list"):
        trail_frame({"Records": []})


def test_a_result_without_control_plane_log_is_refused(run) -> None:
    class Bare:
        outputs: dict = {}
        seed = 0
        epoch = datetime(2026, 1, 1, tzinfo=UTC)

    with pytest.raises(ValueError, match="control-plane log"):
        result_trail(Bare())  # type: ignore[arg-type]


# -- delivery during the run ----------------------------------------------------------------------
def test_delivery_triggers_the_function_once_per_log_file(run) -> None:
    files = run.output("cloudtrail").files
    # Window 0 holds both CreateFunction calls, window 6 the update; the others are empty.
    assert [f.delivery_time_s for f in files] == [300.0, 2100.0]
    audit = run.invocations[run.invocations["function"] == "audit"]
    assert len(audit) == len(files)
    assert (audit["status"] == "ok").all()
    assert [o["files"] for o in audit["output"]] == [[f.key] for f in files]
    objects = run.output("s3").objects
    assert sorted(objects) == sorted(f.key for f in files)
    for f in files:
        assert objects[f.key][0] == f.delivery_time_s  # put into the bucket during the run
        assert objects[f.key][2] == f.body
        m = TRAIL_KEY.match(f.key)
        assert m and m["account"] == "123456789012" and m["region"] == "us-east-1"
        assert json.loads(gzip.decompress(f.body))["Records"]
    assert audit["arrival_s"].tolist() == [300.0, 2100.0]


def test_delivered_records_are_the_trail_of_the_run(run) -> None:
    delivered = run.output("cloudtrail").records
    assert delivered == result_trail(run)
    update_file = run.output("cloudtrail").files[1]
    assert "_20261127T0035Z_" in update_file.key
    assert [r["eventName"] for r in read_trail_file(update_file.body)] == [
        "UpdateFunctionConfiguration20150331v2"]
    seen = run.invocations.set_index("function").loc["audit", "output"].iloc[1]
    assert seen["changes"] == [{"eventTime": "2026-11-27T00:30:00Z",
                                "action": "UpdateFunctionConfiguration", "functionName": "f",
                                "requestParameters": {"functionName": "f", "memorySize": 1024}}]
    lines = run.logs("audit").filter(pattern="UpdateFunctionConfiguration20150331v2").df
    assert len(lines) == 1 and 'f by student: {"memorySize":1024}' in lines["message"].iloc[0]
    table = run.output("cloudtrail").frame()
    assert table["records"].tolist() == [2, 1]
    assert (table["size_bytes"] > 0).all()


def test_changes_in_one_window_share_one_file_and_the_last_window_waits() -> None:
    changes = ((610.0, {"memory_mb": 256}), (890.0, {"timeout_s": 10}),
               (3500.0, {"memory_mb": 512}))
    result = _pipeline(changes=changes, until_s=3600).run(until_s=3600)
    files = result.output("cloudtrail").files
    assert [f.delivery_time_s for f in files] == [300.0, 900.0]
    assert [len(read_trail_file(f.body)) for f in files] == [2, 2]
    # The change at 3,500 s belongs to the window delivered at 3,600 s: after the run.
    assert len(result_trail(result)) == 5
    assert (result.invocations["function"] == "audit").sum() == 2


def test_delay_and_prefix_shape_the_delivery() -> None:
    result = _pipeline(delay_s=90, prefix="org/trails").run(until_s=3600)
    files = result.output("cloudtrail").files
    assert [f.delivery_time_s for f in files] == [390.0, 2190.0]
    assert all(f.key.startswith("org/trails/AWSLogs/123456789012/CloudTrail/") for f in files)
    assert "_20261127T0036Z_" in files[1].key
    audit = result.invocations[result.invocations["function"] == "audit"]
    assert audit["arrival_s"].tolist() == [390.0, 2190.0]


@settings(max_examples=20, deadline=None)
@given(times=st.lists(st.integers(min_value=1, max_value=3599), max_size=6),
       every_s=st.sampled_from([60, 300, 600, 900]))
def test_one_file_and_one_invocation_per_window_with_calls(times, every_s) -> None:
    changes = tuple((float(t), {"memory_mb": 128 + 64 * (i + 1)}) for i, t in enumerate(times))
    result = _pipeline(changes=changes, every_s=every_s, traffic=False).run(until_s=3600)
    windows = {0} | {t // every_s for t in times}
    finished = {w for w in windows if (w + 1) * every_s < 3600}
    files = result.output("cloudtrail").files
    assert [f.delivery_time_s for f in files] == [(w + 1) * every_s for w in sorted(finished)]
    assert (result.invocations["function"] == "audit").sum() == len(files)
    delivered = sum(len(read_trail_file(f.body)) for f in files)
    assert delivered == 2 + sum(1 for t in times if (t // every_s + 1) * every_s < 3600)


# -- refusals -------------------------------------------------------------------------------------
def test_bad_settings_are_refused_at_construction() -> None:
    bucket = S3Bucket("trail-bucket")
    with pytest.raises(TypeError, match="S3Bucket"):
        CloudTrailDelivery("trail-bucket")  # type: ignore[arg-type]
    for bad in (0, 0.5, 300.5, -300, True, math.inf):
        with pytest.raises(ValueError, match="every_s"):
            CloudTrailDelivery(bucket, every_s=bad)
    with pytest.raises(ValueError, match="delay_s"):
        CloudTrailDelivery(bucket, delay_s=-1)
    with pytest.raises(ValueError, match="prefix"):
        CloudTrailDelivery(bucket, prefix="/logs")
    with pytest.raises(ValueError, match="account_id"):
        CloudTrailDelivery(bucket, account_id="12")
    with pytest.raises(ValueError, match="user"):
        CloudTrailDelivery(bucket, user="not a user!")


def test_a_broken_pipeline_is_refused_before_the_run() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("audit", duration_s=0.05)
    bucket = S3Bucket("trail-bucket")
    sim.add_source(CloudTrailDelivery(bucket), target="audit")
    with pytest.raises(ValueError, match="not attached"):
        sim.run(until_s=600)
    other = simlab.Simulation(seed=1)
    other.add_function("audit", duration_s=0.05)
    filtered = S3Bucket("trail-bucket", prefix="uploads/")
    other.add_source(filtered, target="audit")
    other.add_source(CloudTrailDelivery(filtered), target="audit")
    with pytest.raises(ValueError, match="does not notify 'audit'"):
        other.run(until_s=600)
    late = simlab.Simulation(seed=1, epoch=datetime(2026, 1, 1, 0, 0, 0, 500_000, tzinfo=UTC))
    late.add_function("audit", duration_s=0.05)
    b = S3Bucket("trail-bucket")
    late.add_source(b, target="audit")
    late.add_source(CloudTrailDelivery(b), target="audit")
    with pytest.raises(ValueError, match="whole seconds"):
        late.run(until_s=600)


def test_trail_reader_filters_actions() -> None:
    bucket = S3Bucket("trail-bucket")
    with pytest.raises(TypeError, match="S3Bucket"):
        trail_reader("trail-bucket")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not Lambda API actions"):
        trail_reader(bucket, actions=["UpdateFunction"])
    sim = simlab.Simulation(seed=1)
    sim.add_function("f", duration_s=0.1)
    sim.update_function_configuration(100, "f", memory_mb=256)
    sim.add_function("audit", duration_s=0.05,
                     handler=trail_reader(bucket, actions=["UpdateFunctionConfiguration"]))
    sim.add_source(bucket, target="audit")
    sim.add_source(CloudTrailDelivery(bucket), target="audit")
    out = sim.run(until_s=600).invocations.set_index("function").loc["audit", "output"]
    assert out["records"] == 3  # both CreateFunction calls were read, and skipped
    assert [c["action"] for c in out["changes"]] == ["UpdateFunctionConfiguration"]
