"""Tests of Simulation.run's refusal, before the run, of a run whose sources are expected to send
more requests than ``max_events`` (runs that would never finish), and of its limit parameters."""

from __future__ import annotations

import math
import time

import pytest

import simlab
from simlab.aws.simulation import MAX_EVENTS
from simlab.aws.sources import FixedInterval, Poisson, SQSQueue


def _sim(source: simlab.sources.Source) -> simlab.Simulation:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f", duration_s=0.01)
    sim.add_source(source, target="f")
    return sim


@pytest.mark.parametrize(("source", "expected"), [
    (Poisson(rate_per_s=1e7), "3.6e+10"),
    (FixedInterval(interval_s=1e-9), "3.6e+12"),
])
def test_a_run_that_would_not_finish_is_refused_before_it_starts(source: object,
                                                                 expected: str) -> None:
    t0 = time.perf_counter()
    with pytest.raises(ValueError) as err:
        _sim(source).run(until_s=3600)
    assert time.perf_counter() - t0 < 5  # refused at once, not after simulating
    msg = str(err.value)
    assert f"expected to send about {expected} requests in until_s=3600 s" in msg
    assert f"more than max_events={MAX_EVENTS:.3g}" in msg
    assert "sim.run(until_s, max_events=...)" in msg


def test_a_queue_fed_by_a_huge_process_is_refused() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f", duration_s=0.01)
    sim.add_source(SQSQueue("orders", messages=Poisson(rate_per_s=1e7)), target="f")
    with pytest.raises(ValueError, match=r"about 3.6e\+10 requests .* from source 'sqs'"):
        sim.run(until_s=3600)


def test_the_maximum_is_documented_and_can_be_raised_explicitly() -> None:
    assert MAX_EVENTS == 100_000_000
    assert "100 million" in simlab.Simulation.run.__doc__
    sim = _sim(Poisson(rate_per_s=100.0))
    with pytest.raises(ValueError, match=r"about 1e\+03 requests .* more than max_events=500"):
        sim.run(until_s=10, max_events=500)
    result = sim.run(until_s=10, max_events=2000)
    assert 800 < result.summary()["requests"] < 1200


@pytest.mark.parametrize("bad", [0, -5, math.nan, "many", True, None])
def test_bad_max_events_is_named(bad: object) -> None:
    with pytest.raises(ValueError, match=rf"^max_events must be a number of requests > 0 \(default "
                                         rf"100,000,000\), got {bad!r}$"):
        _sim(Poisson(1.0)).run(until_s=10, max_events=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, -1.0, math.nan, "10", True])
def test_bad_handler_budget_is_named(bad: object) -> None:
    with pytest.raises(ValueError, match=rf"^handler_budget_s must be seconds of real time > 0 "
                                         rf"\(math.inf for no limit; default 10\), got {bad!r}$"):
        _sim(Poisson(1.0)).run(until_s=10, handler_budget_s=bad)  # type: ignore[arg-type]
