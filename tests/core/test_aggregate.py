"""Tests of simlab.core.aggregate: percentiles of ``record="summary"`` have the definition of
``record="all"`` (numpy's linear interpolation) and the documented error bound, over many random
samples and random runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

import simlab
from simlab.aws.sources import Bursty, Poisson
from simlab.core.aggregate import LOW_MS, _bin, histogram_quantiles
from simlab.core.dists import Exponential, LogNormal, Uniform

#: The documented bound: 1.2 % of the exact percentile, plus 0.005 ms under 0.01 ms.
REL, ABS = 0.012, LOW_MS / 2
QS = (0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0)


def _hist(values: np.ndarray, per_decade: int = 100) -> np.ndarray:
    hist = np.zeros(per_decade * 12 + 1)
    for v in values:
        hist[_bin(float(v), per_decade)] += 1
    return hist


def _sample(rng: np.random.Generator) -> np.ndarray:
    """A random sample: sizes from 1 to 3,000, ties, several decades, values under 0.01 ms."""
    n = int(rng.choice([1, 2, 3, 5, 10, 50, 200, 3000]))
    kind = rng.integers(0, 6)
    if kind == 0:
        x = rng.lognormal(rng.uniform(-3, 8), rng.uniform(0.01, 3.5), n)
    elif kind == 1:
        x = rng.exponential(10 ** rng.uniform(-3, 6), n)
    elif kind == 2:  # few distinct values: many ties
        x = rng.choice(10 ** rng.uniform(-2, 6, 3), n)
    elif kind == 3:  # a mixture far apart: interpolation across a gap
        x = np.where(rng.random(n) < rng.random(), rng.uniform(1, 2, n), rng.uniform(1e4, 1e5, n))
    elif kind == 4:  # at and under the bottom bin
        x = rng.uniform(0, 0.03, n)
    else:
        x = np.full(n, 10 ** rng.uniform(-2, 9))
    return x


def test_two_values_are_interpolated_as_in_record_all() -> None:
    # nearest rank in a histogram said 10 ms for the median of [10, 1000]; numpy says 505
    [p50] = histogram_quantiles(_hist(np.array([10.0, 1000.0])), (0.5,))
    assert p50 == pytest.approx(np.percentile([10.0, 1000.0], 50), rel=REL)


def test_histogram_percentiles_are_within_the_documented_bound_of_numpys() -> None:
    rng = np.random.default_rng(20260101)
    worst = 0.0
    for _ in range(2000):
        x = _sample(rng)
        exact = np.percentile(x, [100 * q for q in QS])
        got = histogram_quantiles(_hist(x), QS)
        for q, e, g in zip(QS, exact, got, strict=True):
            assert abs(g - e) <= REL * e + ABS, (q, e, g, x[:10])
            if x.min() > LOW_MS:
                worst = max(worst, abs(g - e) / e)
    # the bound is not loose: half a bin, 10**(1/200) - 1 = 1.16 %, is nearly reached
    assert 0.010 < worst <= 10 ** (1 / 200) - 1 + 1e-9


def test_coarse_histograms_follow_their_own_half_bin_bound() -> None:
    rng = np.random.default_rng(5)
    bound = 10 ** (1 / 20) - 1  # 10 bins a decade: 12.2 %
    for _ in range(300):
        x = _sample(rng)
        exact = np.percentile(x, [50, 99])
        got = histogram_quantiles(_hist(x, 10), (0.5, 0.99), 10)
        for e, g in zip(exact, got, strict=True):
            assert abs(g - e) <= bound * e * (1 + 1e-9) + ABS


def test_empty_histogram_gives_nan() -> None:
    assert all(math.isnan(v) for v in histogram_quantiles(np.zeros(1201), QS))


def _random_simulation(rng: np.random.Generator) -> simlab.Simulation:
    sim = simlab.Simulation(era=str(rng.choice(["2018", "2020", "today"])),
                            seed=int(rng.integers(0, 2**31)),
                            keep_alive_s=float(rng.choice([0.0, 5.0, 60.0, 600.0])))
    for k in range(int(rng.integers(1, 4))):
        sim.add_function(f"f{k}", memory_mb=int(rng.choice([128, 512, 1024])),
                         timeout_s=float(rng.choice([1, 3, 30])),
                         init_s=LogNormal(float(rng.uniform(0.05, 1.0)), 0.6),
                         duration_s=(Exponential(float(10 ** rng.uniform(-3, 0.5))) if rng.random()
                                     < 0.5 else Uniform(0.0, float(rng.uniform(0.001, 2.0)))),
                         error_rate=float(rng.choice([0.0, 0.1])),
                         reserved_concurrency=(None if rng.random() < 0.7
                                               else int(rng.integers(1, 5))))
        rate = float(10 ** rng.uniform(-1, 1.3))
        source = (Poisson(rate) if rng.random() < 0.6
                  else Bursty(on_rate_per_s=rate * 5, on_s=10.0, off_s=30.0))
        sim.add_source(source, target=f"f{k}")
    return sim


@pytest.mark.slow  # many random runs, recorded twice
def test_summary_percentiles_agree_with_record_all_in_random_runs() -> None:
    rng = np.random.default_rng(13)
    compared = 0
    for case in range(40):
        state = rng.bit_generator.state
        full = _random_simulation(rng).run(until_s=120)
        rng.bit_generator.state = state
        agg = _random_simulation(rng).run(until_s=120, record="summary")
        for function in [None, *full.functions["function"]]:
            s, t = full.summary(function), agg.summary(function)
            for key in (k for k in s.index if "latency" in k):
                if math.isnan(s[key]):
                    assert math.isnan(t[key]), (case, function, key)
                    continue
                assert abs(t[key] - s[key]) <= REL * s[key] + ABS, (case, function, key)
                compared += 1
    assert compared > 500
