"""EventBridge schedule source: firing times, payloads, async retries, bad expressions."""

from __future__ import annotations

import datetime as dt

import pytest

import simlab
from simlab.aws.cron import ScheduleError
from simlab.aws.sources import Schedule, configure_async


def _run(expr: str, until_s: float, epoch: dt.datetime | None = None, **fn: object) -> tuple:
    kw = {} if epoch is None else {"epoch": epoch}
    sim = simlab.Simulation(seed=1, **kw)
    seen: list = []
    sim.add_function("job", duration_s=1.0, handler=lambda e, c: seen.append(e), **fn)
    sim.add_source(Schedule(expr, rule_name="nightly"), target="job")
    return sim.run(until_s=until_s), seen


def test_cron_fires_at_hand_computed_times() -> None:
    # every 10 minutes on working days; 2026-01-02 is a Friday, 01-03/04 the weekend
    epoch = dt.datetime(2026, 1, 2, 23, 30, tzinfo=dt.UTC)
    r, seen = _run("cron(0/10 * ? * MON-FRI *)", until_s=3 * 86_400, epoch=epoch)
    t = r.invocations["arrival_s"].tolist()
    assert t[:3] == [0.0, 600.0, 1200.0]  # 23:30, 23:40, 23:50 on Friday
    monday = (dt.datetime(2026, 1, 5, tzinfo=dt.UTC) - epoch).total_seconds()
    assert t[3] == monday  # nothing on Saturday and Sunday
    assert len(t) == 3 + (3 * 86_400 - monday) // 600
    assert seen[0]["time"] == "2026-01-02T23:30:00Z"


def test_nightly_cron_and_the_scheduled_event_payload() -> None:
    r, seen = _run("cron(0 2 * * ? *)", until_s=3 * 86_400)
    assert r.invocations["arrival_s"].tolist() == [7200.0, 93_600.0, 180_000.0]
    ev = seen[1]
    assert ev["detail-type"] == "Scheduled Event"
    assert ev["source"] == "aws.events"
    assert ev["time"] == "2026-11-28T02:00:00Z"
    assert ev["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/nightly"]
    assert ev["detail"] == {}
    assert len({e["id"] for e in seen}) == 3


def test_rate_fires_from_the_start_every_period() -> None:
    r, _ = _run("rate(5 minutes)", until_s=1800)
    assert r.invocations["arrival_s"].tolist() == [0.0, 300.0, 600.0, 900.0, 1200.0, 1500.0]
    assert (r.invocations["invocation_type"] == "async").all()


def test_a_failing_scheduled_run_is_retried_like_any_async_event() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("job", duration_s=1.0, error_rate=1.0)
    configure_async(sim, "job", max_retries=2)
    sim.add_source(Schedule("rate(1 hour)"), target="job")
    inv = sim.run(until_s=3600).invocations
    assert inv["attempt"].tolist() == [1, 2, 3]


def test_several_targets_each_get_the_event() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("a")
    sim.add_function("b")
    sim.add_source(Schedule("rate(1 minute)"), target=["a", "b"])
    inv = sim.run(until_s=180).invocations
    assert inv.groupby("function", observed=True).size().tolist() == [3, 3]


@pytest.mark.parametrize("expr", ["rate(1 minutes)", "rate(5 hour)", "cron(0 2 * * * *)",
                                  "cron(0 2 * *)", "every 5 minutes", "cron(61 * ? * * *)"])
def test_bad_expressions_are_rejected(expr: str) -> None:
    with pytest.raises(ScheduleError, match="invalid schedule expression"):
        Schedule(expr)


def test_bad_rule_name_is_rejected() -> None:
    with pytest.raises(ValueError, match="rule_name"):
        Schedule("rate(1 day)", rule_name="no spaces allowed")
