"""Old eras are dated in their era (logs, trails, payloads), and provisioned INIT is billed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import simlab
from simlab.aws.cloudtrail import trail_frame
from simlab.aws.simulation import DEFAULT_EPOCH
from simlab.aws.sources import Replay
from simlab.core.billing import total_cost


@pytest.mark.parametrize(("era", "day"), [("2018", "2018-06-01"), ("2020", "2020-06-01"),
                                          ("today", "2026-11-27")])
def test_logs_trails_and_payloads_carry_the_eras_date(era: str, day: str) -> None:
    seen: list[Any] = []
    sim = simlab.Simulation(era=era, seed=1)
    assert sim.epoch.date().isoformat() == day
    sim.add_function("f", duration_s=0.1, handler=lambda e, c: seen.append(e))
    sim.add_source(simlab.sources.S3Bucket("uploads", uploads=Replay([5.0])), target="f")
    sim.update_function_configuration(10.0, "f", memory_mb=256)
    r = sim.run(until_s=60)
    assert seen[0]["Records"][0]["eventTime"].startswith(day)
    logs = r.logs("f").df
    assert logs["time"].iloc[0].date().isoformat() == day
    assert logs["log_stream"].iloc[0].startswith(day.replace("-", "/"))
    trail = trail_frame(r)
    assert trail["event_time"].astype(str).str.startswith(day).all() and len(trail) == 2


def test_an_explicit_epoch_wins() -> None:
    epoch = dt.datetime(2019, 3, 1, tzinfo=dt.UTC)
    assert simlab.Simulation(era="2018", epoch=epoch).epoch == epoch
    assert simlab.Simulation(era="today").epoch == DEFAULT_EPOCH


def _pc_bill(init_s: float) -> tuple[simlab.Result, float]:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f", memory_mb=1024, init_s=init_s, duration_s=0.1,
                     provisioned_concurrency=2)
    sim.add_source(Replay([1.0]), target="f")
    r = sim.run(until_s=600)
    return r, total_cost(r.bill())


def test_provisioned_environments_init_is_billed_at_the_provisioned_duration_rate() -> None:
    r, cost = _pc_bill(2.0)
    assert r.provisioned_init_gb_s() == {"f": pytest.approx(2 * 2.0 * 1.0)}
    line = r.bill().set_index("item").loc["provisioned_duration"]
    # 4 GB-s of INIT (2 environments x 2 s x 1 GB) plus the 0.1 s invocation
    assert line["quantity"] == pytest.approx(4.0 + 0.1)
    _, cheaper = _pc_bill(1.0)
    assert cost - cheaper == pytest.approx(2 * 1.0 * line["unit_price_usd"])
