"""Lazy events: built once when a handler or a destination record reads them, never otherwise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import simlab
import simlab.aws.sources.apigateway as apigateway_module
import simlab.aws.sources.s3 as s3_module
import simlab.aws.sources.schedules as schedules_module
import simlab.aws.sources.sns as sns_module
from simlab.aws.sources import (
    APIGateway,
    DeadLetterQueue,
    Poisson,
    S3Bucket,
    Schedule,
    SNSTopic,
    configure_async,
)
from simlab.aws.sources.lazy import LazyPayload, resolve
from simlab.aws.sources.payloads.context import PayloadContext, records_event
from simlab.aws.sources.payloads.notifications import s3_record


def test_a_lazy_payload_is_built_once_on_first_read() -> None:
    calls: list[tuple] = []

    def build(*args: Any) -> dict:
        calls.append(args)
        return {"args": list(args)}

    event = LazyPayload(build, 1, "a")
    assert not event.built and calls == [] and "unbuilt" in repr(event)
    first = resolve(event)
    assert first == {"args": [1, "a"]} and event.built
    assert resolve(event) is first and event.value is first
    assert calls == [(1, "a")]
    assert resolve(None) is None and resolve({"x": 1}) == {"x": 1}


def _counting(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    """Count the calls of the event builder ``module.name``."""
    builder = getattr(module, name)
    count = [0]

    def counted(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return builder(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return count


def _s3() -> tuple[simlab.sources.Source, Any, str]:
    return S3Bucket("uploads", uploads=Poisson(5)), s3_module, "s3_record"


def _rest() -> tuple[simlab.sources.Source, Any, str]:
    return APIGateway(Poisson(5)), apigateway_module, "api_gateway_rest_event"


def _http() -> tuple[simlab.sources.Source, Any, str]:
    return APIGateway(Poisson(5), api="http"), apigateway_module, "api_gateway_http_event"


def _sns() -> tuple[simlab.sources.Source, Any, str]:
    return SNSTopic("alerts", Poisson(5)), sns_module, "records_event"


def _schedule() -> tuple[simlab.sources.Source, Any, str]:
    return Schedule("rate(1 minute)"), schedules_module, "scheduled_event"


SOURCES = [_s3, _rest, _http, _sns, _schedule]


@pytest.mark.parametrize("make", SOURCES)
def test_events_nobody_reads_are_never_built(monkeypatch: pytest.MonkeyPatch,
                                             make: Callable) -> None:
    source, module, builder = make()
    count = _counting(monkeypatch, module, builder)
    sim = simlab.Simulation(seed=1)
    sim.add_function("plain", duration_s=0.2, error_rate=0.3)  # no handler, no destination
    sim.add_source(source, target="plain")
    inv = sim.run(until_s=600).invocations
    assert len(inv) >= 10 and (inv["status"] == "error").any()
    assert count[0] == 0


@pytest.mark.parametrize("make", SOURCES)
def test_a_handler_gets_its_event_built_once_per_request(monkeypatch: pytest.MonkeyPatch,
                                                         make: Callable) -> None:
    source, module, builder = make()
    count = _counting(monkeypatch, module, builder)
    seen: list = []
    sim = simlab.Simulation(seed=1)
    sim.add_function("coded", duration_s=0.2, handler=lambda e, c: seen.append(e))
    sim.add_source(source, target="coded")
    inv = sim.run(until_s=600).invocations
    assert len(seen) == len(inv) >= 10
    assert count[0] == len(inv)
    assert all(isinstance(e, dict) and e for e in seen)


def test_events_are_built_for_handlers_and_dead_letter_records_as_before(
        monkeypatch: pytest.MonkeyPatch) -> None:
    count = _counting(monkeypatch, s3_module, "s3_record")
    seen: list = []
    sim = simlab.Simulation(seed=4)
    sim.add_function("coded", duration_s=0.2, handler=lambda e, c: seen.append(e))
    sim.add_function("failing", duration_s=0.2, error_rate=1.0)
    sim.add_function("plain", duration_s=0.2)
    configure_async(sim, "failing", dead_letter_queue=DeadLetterQueue("dlq"))
    uploads = [(1.0 + k, f"{kind}/{k}.dat", 100 + k) for k in range(6)
               for kind in ("coded", "failing", "plain")]
    bucket = S3Bucket("photos", uploads=sorted(uploads),
                      filters={f: {"prefix": f"{f}/"} for f in ("coded", "failing", "plain")})
    sim.add_source(bucket, target=["coded", "failing", "plain"])
    r = sim.run(until_s=3600)
    ctx = PayloadContext(seed=4, epoch=sim.epoch)

    def eager(number: int) -> dict:
        t, key, size = sorted(uploads)[number]
        return records_event([s3_record("photos", key, t, size=size, number=number, ctx=ctx)])

    numbers = {u[1]: n for n, u in enumerate(sorted(uploads))}
    assert seen == [eager(numbers[f"coded/{k}.dat"]) for k in range(6)]
    records = r.output("dlq").records
    assert [rec["requestPayload"] for rec in records] == [
        eager(numbers[f"failing/{k}.dat"]) for k in range(6)]
    # once per event that was read: 6 handler runs, 6 failed events (3 attempts each); none
    # for the 6 uploads to the function without code
    assert count[0] == 12
    assert (r.invocations["function"] == "failing").sum() == 18
