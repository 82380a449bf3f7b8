"""S3 bucket notifications: payload shape, URL-encoded keys, prefix/suffix filters, put_object."""

from __future__ import annotations

from urllib.parse import unquote_plus

import pytest

import simlab
from simlab.aws.sources import Poisson, S3Bucket
from simlab.aws.sources.s3 import matches_event


def _collect(sim: simlab.Simulation, name: str) -> list:
    seen: list = []
    sim.add_function(name, duration_s=0.1, handler=lambda e, c: seen.append(e))
    return seen


def test_notification_has_the_real_shape_and_is_async() -> None:
    sim = simlab.Simulation(seed=1)
    seen = _collect(sim, "f")
    bucket = S3Bucket("photos", uploads=[(2.5, "holiday/red flower.jpg", 1234)])
    sim.add_source(bucket, target="f")
    r = sim.run(until_s=60)
    assert r.invocations["invocation_type"].tolist() == ["async"]
    assert r.invocations["source"].tolist() == ["s3"]
    rec = seen[0]["Records"][0]
    assert rec["eventSource"] == "aws:s3"
    assert rec["eventName"] == "ObjectCreated:Put"
    assert rec["eventTime"] == "2026-11-27T00:00:02.500Z"
    assert rec["s3"]["bucket"]["name"] == "photos"
    assert rec["s3"]["bucket"]["arn"] == "arn:aws:s3:::photos"
    assert rec["s3"]["object"]["key"] == "holiday/red+flower.jpg"
    assert unquote_plus(rec["s3"]["object"]["key"]) == "holiday/red flower.jpg"
    assert rec["s3"]["object"]["size"] == 1234
    assert r.output("s3").frame()["key"].tolist() == ["holiday/red flower.jpg"]


def test_prefix_and_suffix_filters() -> None:
    sim = simlab.Simulation(seed=1)
    seen = _collect(sim, "f")
    uploads = [(1.0, "in/a.csv", 10), (2.0, "in/b.txt", 10), (3.0, "out/c.csv", 10),
               (4.0, "in/sub/d.csv", 10), (5.0, "IN/e.csv", 10)]
    sim.add_source(S3Bucket("data", uploads=uploads, prefix="in/", suffix=".csv"), target="f")
    r = sim.run(until_s=60)
    keys = [e["Records"][0]["s3"]["object"]["key"] for e in seen]
    assert keys == ["in/a.csv", "in/sub/d.csv"]
    assert len(r.output("s3").objects) == 5  # every object is stored, only two notify


def test_disjoint_filters_send_each_object_to_its_function() -> None:
    sim = simlab.Simulation(seed=1)
    images = _collect(sim, "thumbs")
    tables = _collect(sim, "load")
    bucket = S3Bucket("mixed", uploads=[(1.0, "a.jpg", 5), (2.0, "b.csv", 5), (3.0, "c.pdf", 5)],
                      filters={"thumbs": {"suffix": ".jpg"}, "load": {"suffix": ".csv"}})
    sim.add_source(bucket, target=["thumbs", "load"])
    sim.run(until_s=60)
    assert [e["Records"][0]["s3"]["object"]["key"] for e in images] == ["a.jpg"]
    assert [e["Records"][0]["s3"]["object"]["key"] for e in tables] == ["b.csv"]


def test_overlapping_notifications_are_rejected_like_s3_does() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("a")
    sim.add_function("b")
    with pytest.raises(ValueError, match="overlap.*SNSTopic"):
        sim.add_source(S3Bucket("x-bucket", prefix="in/"), target=["a", "b"])
    with pytest.raises(ValueError, match="overlap"):
        sim.add_source(S3Bucket("x-bucket", filters={"a": {"prefix": "in/"},
                                                     "b": {"prefix": "in/2026/"}}),
                       target=["a", "b"])
    # disjoint event types do not overlap
    sim.add_source(S3Bucket("x-bucket", filters={"b": {"events": ["s3:ObjectRemoved:*"]}}),
                   target=["a", "b"])


def test_uploads_from_an_arrival_process_use_the_key_template_and_size() -> None:
    sim = simlab.Simulation(seed=7)
    seen = _collect(sim, "f")
    sim.add_source(S3Bucket("logs", uploads=Poisson(rate_per_s=0.5), key_template="l/{n}.gz",
                            size_bytes=2048), target="f")
    r = sim.run(until_s=100)
    keys = [e["Records"][0]["s3"]["object"]["key"] for e in seen]
    assert 25 <= len(keys) <= 80
    assert keys[:3] == ["l/0.gz", "l/1.gz", "l/2.gz"]
    assert {e["Records"][0]["s3"]["object"]["size"] for e in seen} == {2048}
    assert len(r.invocations) == len(keys)


def test_handlers_put_and_read_objects_and_deletes_notify_removal_listeners() -> None:
    sim = simlab.Simulation(seed=1)
    bodies: list = []
    names: list = []
    raw = S3Bucket("raw", uploads=[(1.0, "doc.txt", None, b"hello world")])
    out = S3Bucket("cooked", events=["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])

    def cook(event: dict, context: object) -> None:
        key = unquote_plus(event["Records"][0]["s3"]["object"]["key"])
        text = raw.get_object(key)
        bodies.append(text)
        out.put_object("upper/" + key, text.upper())
        out.delete_object("upper/" + key)

    sim.add_function("cook", duration_s=0.2, handler=cook)
    sim.add_function("watch", duration_s=0.1,
                     handler=lambda e, c: names.append(e["Records"][0]["eventName"]))
    sim.add_source(raw, target="cook")
    sim.add_source(out, target="watch")
    r = sim.run(until_s=60)
    assert bodies == [b"hello world"]
    # two notifications of the same instant are separate async events: S3 does not order them
    assert sorted(names) == ["ObjectCreated:Put", "ObjectRemoved:Delete"]
    assert r.output("s3-2").objects == {}
    with pytest.raises(KeyError, match="NoSuchKey"):
        raw.get_object("missing")


def test_put_object_outside_a_run_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="not in a running simulation"):
        S3Bucket("lonely").put_object("k", b"x")


def test_event_type_matching() -> None:
    assert matches_event("s3:ObjectCreated:*", "ObjectCreated:Copy")
    assert not matches_event("s3:ObjectCreated:Put", "ObjectCreated:Copy")
    assert not matches_event("s3:ObjectRemoved:*", "ObjectCreated:Put")


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"name": "Bad_Bucket"}, "bucket name"),
    ({"name": "ab"}, "bucket name"),
    ({"name": "ok-bucket", "events": "ObjectCreated:*"}, "add the 's3:' prefix"),
    ({"name": "ok-bucket", "events": []}, "events must be a non-empty list"),
    ({"name": "ok-bucket", "prefix": None}, "prefix must be a string"),
    ({"name": "ok-bucket", "uploads": "a.txt"}, "uploads must be an arrival process"),
    ({"name": "ok-bucket", "uploads": [(1.0, "a")]}, r"uploads\[0\] must be"),
    ({"name": "ok-bucket", "uploads": [(-1.0, "a", 1)]}, r"uploads\[0\] time_s"),
    ({"name": "ok-bucket", "uploads": [(1.0, "", 1)]}, r"uploads\[0\] key"),
    ({"name": "ok-bucket", "uploads": [(1.0, "a", -5)]}, r"uploads\[0\] size"),
    ({"name": "ok-bucket", "uploads": [(1.0, "a", 1, "text")]}, r"uploads\[0\] body"),
    ({"name": "ok-bucket", "key_template": "{m}"}, "key_template"),
    ({"name": "ok-bucket", "size_bytes": -1}, "size_bytes"),
    ({"name": "ok-bucket", "filters": {"f": {"color": "red"}}}, r"filters\['f'\]"),
])
def test_bad_bucket_configuration_is_rejected(kwargs: dict, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        S3Bucket(**kwargs)


def test_filters_must_name_targets() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f")
    with pytest.raises(ValueError, match="not targets"):
        sim.add_source(S3Bucket("ok-bucket", filters={"g": {"prefix": "a/"}}), target="f")


def test_generated_keys_that_no_filter_accepts_are_rejected_before_the_run() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f")
    with pytest.raises(ValueError, match=r"never match the prefix '' and suffix '\.jpg'"):
        sim.add_source(S3Bucket("photos", uploads=Poisson(1.0), suffix=".jpg"), target="f")
    sim.add_source(S3Bucket("photos", uploads=Poisson(1.0), suffix=".jpg",
                            key_template="img/{n:05d}.jpg"), target="f")
