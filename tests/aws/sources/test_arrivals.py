"""Tests of the arrival processes: Poisson, fixed interval, bursty, diurnal and replay."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import scipy.stats

import simlab
from simlab.aws.sources.arrivals import Bursty, Diurnal, FixedInterval, Poisson, Replay


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def deliver(source: Any, until_s: float, targets: list[str] | None = None,
            seed: int = 4) -> simlab.Result:
    sim = simlab.Simulation(seed=seed, keep_alive_s=600)
    for name in targets or ["f"]:
        sim.add_function(name, init_s=0.0, duration_s=0.001)
    sim.add_source(source, target=targets or "f")
    return sim.run(until_s=until_s)


# --------------------------------------------------------------------------------------------------
# Poisson
# --------------------------------------------------------------------------------------------------


def test_poisson_count_and_gaps() -> None:
    rate, T = 5.0, 20_000.0
    t = Poisson(rate_per_s=rate).times(rng(), T)
    n = len(t)
    # the count over T is Poisson(rate T): sd sqrt(rate T)
    assert abs(n - rate * T) < 4 * math.sqrt(rate * T)
    assert np.all(np.diff(t) >= 0) and t[0] >= 0 and t[-1] < T
    gaps = np.diff(t)
    assert abs(gaps.mean() - 1 / rate) < 4 * (1 / rate) / math.sqrt(n)
    # exponential gaps: Kolmogorov-Smirnov against Exp(rate) (fixed seed)
    assert scipy.stats.kstest(gaps, "expon", args=(0, 1 / rate)).pvalue > 1e-3


def test_poisson_counts_in_disjoint_windows_are_poisson() -> None:
    rate, T = 2.0, 50_000.0
    t = Poisson(rate_per_s=rate).times(rng(1), T)
    counts = np.bincount((t // 1.0).astype(int), minlength=int(T))
    # dispersion index of a Poisson process is 1; its sampling sd is sqrt(2 / n) for n windows
    assert abs(counts.var() / counts.mean() - 1) < 4 * math.sqrt(2 / T)


def test_poisson_in_a_simulation_matches_its_times() -> None:
    src = Poisson(rate_per_s=3.0)
    r = deliver(src, 1000.0)
    sim_times = r.invocations["arrival_s"].to_numpy()
    expected = Poisson(rate_per_s=3.0).times(
        simlab.core.random_streams.RandomStreams(4).generator("source", "poisson"), 1000.0)
    np.testing.assert_array_equal(sim_times, expected)
    assert r.invocations["source"].astype(str).unique().tolist() == ["poisson"]


def test_repr() -> None:
    assert repr(Poisson(2)) == "Poisson(rate_per_s=2)"
    assert repr(FixedInterval(5)) == "FixedInterval(interval_s=5)"
    assert repr(Replay([1, 2])) == "Replay(n=2)"
    assert "on_rate_per_s=3" in repr(Bursty(3, 1, 2))


# --------------------------------------------------------------------------------------------------
# fixed interval
# --------------------------------------------------------------------------------------------------


def test_fixed_interval_times_are_exact() -> None:
    t = FixedInterval(interval_s=2.5, start_s=1.0).times(rng(), 20.0)
    assert t.tolist() == [1.0, 3.5, 6.0, 8.5, 11.0, 13.5, 16.0, 18.5]


def test_fixed_interval_beyond_one_block() -> None:
    t = FixedInterval(interval_s=0.1).times(rng(), 2000.0)
    assert len(t) == 20_000
    np.testing.assert_allclose(np.diff(t), 0.1, rtol=1e-9)


def test_fixed_interval_in_a_simulation() -> None:
    inv = deliver(FixedInterval(interval_s=10.0, start_s=5.0), 60.0).invocations
    assert inv["arrival_s"].tolist() == [5.0, 15.0, 25.0, 35.0, 45.0, 55.0]


# --------------------------------------------------------------------------------------------------
# bursty
# --------------------------------------------------------------------------------------------------


def test_bursty_is_silent_when_off_and_poisson_when_on() -> None:
    on_rate, on_s, off_s = 10.0, 5.0, 15.0
    T = 20_000.0
    t = Bursty(on_rate_per_s=on_rate, on_s=on_s, off_s=off_s).times(rng(2), T)
    phase = t % (on_s + off_s)
    assert np.all(phase < on_s)
    expected = on_rate * on_s * T / (on_s + off_s)
    assert abs(len(t) - expected) < 4 * math.sqrt(expected)
    assert np.all(np.diff(t) >= 0)


def test_bursty_off_rate() -> None:
    T = 40_000.0
    t = Bursty(on_rate_per_s=4.0, on_s=10.0, off_s=10.0, off_rate_per_s=1.0).times(rng(3), T)
    off = (t % 20.0) >= 10.0
    n_off, n_on = off.sum(), (~off).sum()
    assert abs(n_on - 4.0 * T / 2) < 4 * math.sqrt(4.0 * T / 2)
    assert abs(n_off - 1.0 * T / 2) < 4 * math.sqrt(1.0 * T / 2)


# --------------------------------------------------------------------------------------------------
# diurnal
# --------------------------------------------------------------------------------------------------


def test_diurnal_rate_function() -> None:
    d = Diurnal(mean_rate_per_s=2.0, amplitude=0.5, period_s=100.0, peak_s=30.0)
    assert d.rate(np.array([30.0]))[0] == pytest.approx(3.0)
    assert d.rate(np.array([80.0]))[0] == pytest.approx(1.0)


def test_diurnal_counts_follow_the_rate() -> None:
    period = 1000.0
    d = Diurnal(mean_rate_per_s=1.0, amplitude=0.8, period_s=period, peak_s=0.0)
    T = 200 * period
    t = d.times(rng(5), T)
    assert abs(len(t) - T) < 4 * math.sqrt(T)
    # the half period around the peak gets (1/2 + 0.8/pi) of the arrivals
    phase = (t % period) / period
    near_peak = ((phase < 0.25) | (phase >= 0.75)).sum()
    expected = T * (0.5 + 0.8 / math.pi)
    assert abs(near_peak - expected) < 4 * math.sqrt(expected)


# --------------------------------------------------------------------------------------------------
# replay
# --------------------------------------------------------------------------------------------------


def test_replay_delivers_exactly_the_given_times() -> None:
    times = [3.25, 0.0, 1.5, 1.5, 7.125, 12.0, 100.0]
    inv = deliver(Replay(times), 50.0).invocations
    assert inv["arrival_s"].tolist() == [0.0, 1.5, 1.5, 3.25, 7.125, 12.0]  # sorted, < until


def test_replay_of_nothing() -> None:
    assert len(deliver(Replay([]), 10.0).invocations) == 0
    assert Replay(np.array([])).times(rng(), 10.0).size == 0


def test_replay_keeps_its_own_copy() -> None:
    times = np.array([2.0, 1.0])
    src = Replay(times)
    times[0] = 99.0
    assert src.times_s.tolist() == [1.0, 2.0]


# --------------------------------------------------------------------------------------------------
# common behaviour
# --------------------------------------------------------------------------------------------------


def test_each_arrival_invokes_every_target() -> None:
    inv = deliver(FixedInterval(interval_s=1.0), 5.0, targets=["a", "b"]).invocations
    assert len(inv) == 10
    by_fn = inv.groupby("function", observed=True)["arrival_s"].apply(list)
    assert by_fn["a"] == by_fn["b"] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_arrivals_stop_at_the_end_of_the_run() -> None:
    inv = deliver(Poisson(rate_per_s=50.0), 10.0).invocations
    assert inv["arrival_s"].max() < 10.0
    assert len(inv) > 400


def test_sources_are_named_by_kind() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f", init_s=0.0)
    a, b, c = Poisson(1.0), Poisson(1.0), FixedInterval(1.0)
    sim.add_source(a, target="f").add_source(b, target="f").add_source(c, target="f")
    assert (a.name, b.name, c.name) == ("poisson", "poisson-2", "fixed")
    inv = sim.run(until_s=50).invocations
    assert set(inv["source"].astype(str)) == {"poisson", "poisson-2", "fixed"}
    # the two Poisson sources draw from different streams
    p1 = inv.loc[inv["source"] == "poisson", "arrival_s"].to_numpy()
    p2 = inv.loc[inv["source"] == "poisson-2", "arrival_s"].to_numpy()
    assert not np.array_equal(p1[:5], p2[:5])


def test_async_arrivals_go_through_the_async_queue() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f")
    sim.add_source(Poisson(1.0, invocation_type="async"), target="f")
    result = sim.run(until_s=100)
    inv = result.invocations
    assert len(inv) > 50
    assert set(inv["invocation_type"].astype(str)) == {"async"}
    assert "async" in result.outputs


# --------------------------------------------------------------------------------------------------
# bad parameters: each names the parameter, the value and the allowed range
# --------------------------------------------------------------------------------------------------

BAD = [
    (lambda: Poisson(rate_per_s=0), r"rate_per_s must be a finite number > 0, got 0"),
    (lambda: Poisson(rate_per_s=-2.0), r"rate_per_s must be a finite number > 0, got -2.0"),
    (lambda: Poisson(rate_per_s=math.inf), r"rate_per_s must be a finite number > 0, got inf"),
    (lambda: Poisson(rate_per_s=math.nan), r"rate_per_s must be a finite number > 0, got nan"),
    (lambda: Poisson(rate_per_s="1"), r"rate_per_s must be a finite number > 0, got '1'"),
    (lambda: Poisson(rate_per_s=True), r"rate_per_s must be a finite number > 0, got True"),
    (lambda: Poisson(1.0, invocation_type="stream"),
     r"invocation_type must be one of \('sync', 'async'\), got 'stream'"),
    (lambda: FixedInterval(interval_s=0), r"interval_s must be a finite number > 0, got 0"),
    (lambda: FixedInterval(interval_s=1, start_s=-1),
     r"start_s must be a finite number >= 0, got -1"),
    (lambda: Bursty(on_rate_per_s=0, on_s=1, off_s=1),
     r"on_rate_per_s must be a finite number > 0, got 0"),
    (lambda: Bursty(on_rate_per_s=1, on_s=-1, off_s=1), r"on_s must be a finite number > 0, "
                                                        r"got -1"),
    (lambda: Bursty(on_rate_per_s=1, on_s=1, off_s=0), r"off_s must be a finite number > 0, "
                                                       r"got 0"),
    (lambda: Bursty(on_rate_per_s=1, on_s=1, off_s=1, off_rate_per_s=-0.5),
     r"off_rate_per_s must be a finite number >= 0, got -0.5"),
    (lambda: Diurnal(mean_rate_per_s=0), r"mean_rate_per_s must be a finite number > 0, got 0"),
    (lambda: Diurnal(1.0, amplitude=1.5), r"amplitude must be a number from 0 to 1, got 1.5"),
    (lambda: Diurnal(1.0, amplitude=math.nan), r"amplitude must be a number from 0 to 1, got nan"),
    (lambda: Diurnal(1.0, period_s=0), r"period_s must be a finite number > 0, got 0"),
    (lambda: Diurnal(1.0, peak_s=-1), r"peak_s must be a finite number >= 0, got -1"),
    (lambda: Replay([1.0, -1.0]), r"times_s must be finite and >= 0; entry 1 is .*-1.0"),
    (lambda: Replay([0.0, math.nan]), r"times_s must be finite and >= 0; entry 1 is .*nan"),
    (lambda: Replay([[1.0, 2.0]]), r"times_s must be a 1-D sequence of seconds, got shape "
                                   r"\(1, 2\)"),
]


@pytest.mark.parametrize(("make", "match"), BAD)
def test_bad_arrival_parameters_are_rejected(make, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()


def test_diurnal_amplitude_rejects_booleans() -> None:
    with pytest.raises(ValueError, match="amplitude must be a number from 0 to 1, got True"):
        Diurnal(1.0, amplitude=True)


def test_replay_of_text_names_the_parameter() -> None:
    with pytest.raises(ValueError, match="times_s"):
        Replay(["soon"])


def test_replay_error_shows_the_bad_entry_as_a_plain_number() -> None:
    with pytest.raises(ValueError, match=r"entry 1 is -1.0$"):
        Replay([1.0, -1.0])


# --------------------------------------------------------------------------------------------------
# expected numbers of arrivals (what run() checks against max_events)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("process", [
    Poisson(2.0), FixedInterval(3.0, start_s=1.0), FixedInterval(0.5),
    Bursty(on_rate_per_s=5.0, on_s=10.0, off_s=20.0, off_rate_per_s=1.0),
    Bursty(on_rate_per_s=3.0, on_s=7.0, off_s=2.0),
    Diurnal(3.0, amplitude=0.8, period_s=1000.0, peak_s=300.0),
    Replay([1.0, 2.0, 3.0, 50.0, 2000.0]),
], ids=repr)
def test_expected_arrivals_is_the_mean_count(process: Any) -> None:
    until = 1234.5
    counts = np.array([len(process.times(np.random.default_rng(k), until)) for k in range(400)])
    expected = process.expected_arrivals(until)
    # the mean of 400 counts is within 5 standard errors (exact for deterministic processes)
    assert abs(counts.mean() - expected) <= 5 * counts.std() / np.sqrt(len(counts)) + 1e-9


def test_expected_arrivals_before_the_start() -> None:
    assert FixedInterval(10.0, start_s=100.0).expected_arrivals(50.0) == 0.0
    assert FixedInterval(10.0, start_s=100.0).expected_arrivals(100.5) == 1.0


def test_expected_requests_count_every_target_and_wrapped_processes() -> None:
    from simlab.aws.sources import SQSQueue
    from simlab.aws.sources.arrivals import expected_requests

    assert expected_requests(Poisson(1e7), ["f", "g"], 3600.0) == pytest.approx(7.2e10)
    queue = SQSQueue("orders", messages=FixedInterval(1e-9))
    assert expected_requests(queue, ["f"], 3600.0) == pytest.approx(3.6e12)
    assert expected_requests(Replay([1.0, 2.0]), ["f"], 10.0) == 2.0
