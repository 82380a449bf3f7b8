"""Tests of simlab.dists: distributions, their validation and the block sampler."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

from simlab.core.dists import (
    Constant,
    Distribution,
    Empirical,
    Exponential,
    LogNormal,
    Sampler,
    ScipyDistribution,
    Uniform,
    as_distribution,
)

N = 200_000


def _rng(seed: int = 7) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_constant() -> None:
    d = Constant(2.5)
    x = d.sample(_rng(), 4)
    assert x.dtype == float and x.tolist() == [2.5] * 4
    assert d.mean() == 2.5


def test_exponential_mean_within_sampling_error() -> None:
    d = Exponential(2.0)
    x = d.sample(_rng(), N)
    # sd of an exponential equals its mean: tolerance 4 sd / sqrt(n)
    assert abs(x.mean() - 2.0) < 4 * 2.0 / math.sqrt(N)
    assert x.min() >= 0 and d.mean() == 2.0


def test_lognormal_median_and_mean() -> None:
    d = LogNormal(median=0.22, sigma=0.3)
    x = d.sample(_rng(), N)
    # median of the log is exactly normal: log x ~ N(log 0.22, 0.3^2)
    assert abs(np.log(x).mean() - math.log(0.22)) < 4 * 0.3 / math.sqrt(N)
    assert abs(np.log(x).std() - 0.3) < 4 * 0.3 / math.sqrt(2 * N)
    assert d.mean() == pytest.approx(0.22 * math.exp(0.045))
    sd = d.mean() * math.sqrt(math.exp(0.09) - 1)
    assert abs(x.mean() - d.mean()) < 4 * sd / math.sqrt(N)


def test_lognormal_sigma_zero_is_a_constant() -> None:
    x = LogNormal(median=1.5, sigma=0).sample(_rng(), 5)
    assert np.allclose(x, 1.5)


def test_uniform_bounds_and_mean() -> None:
    d = Uniform(1.0, 3.0)
    x = d.sample(_rng(), N)
    assert x.min() >= 1.0 and x.max() < 3.0
    assert abs(x.mean() - 2.0) < 4 * (2 / math.sqrt(12)) / math.sqrt(N)
    assert d.mean() == 2.0


def test_empirical_resamples_only_the_given_values() -> None:
    d = Empirical([1.0, 2.0, 4.0])
    x = d.sample(_rng(), 30_000)
    assert set(np.unique(x)) == {1.0, 2.0, 4.0}
    for v in (1.0, 2.0, 4.0):
        p = np.mean(x == v)
        assert abs(p - 1 / 3) < 4 * math.sqrt(2 / 9 / 30_000)
    assert d.mean() == pytest.approx(7 / 3)
    assert "Empirical(n=3" in repr(d)


def test_scipy_frozen_distribution_is_wrapped_and_uses_the_generator() -> None:
    d = as_distribution(scipy.stats.gamma(2.0, scale=0.5), "work")
    assert isinstance(d, ScipyDistribution)
    a = d.sample(_rng(3), 100)
    b = d.sample(_rng(3), 100)
    c = d.sample(_rng(4), 100)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert d.mean() == pytest.approx(1.0)
    x = d.sample(_rng(), N)
    assert abs(x.mean() - 1.0) < 4 * math.sqrt(2 * 0.25) / math.sqrt(N)
    assert "gamma" in repr(d)


def test_all_distributions_satisfy_the_protocol() -> None:
    for d in (Constant(1), Exponential(1), LogNormal(1, 1), Uniform(0, 1), Empirical([1]),
              ScipyDistribution(scipy.stats.norm())):
        assert isinstance(d, Distribution)


@pytest.mark.parametrize(("make", "match"), [
    (lambda: Exponential(0), r"mean_value must be a finite number > 0, got 0"),
    (lambda: Exponential(-1.0), r"mean_value must be a finite number > 0, got -1.0"),
    (lambda: Exponential(math.inf), r"mean_value must be a finite number > 0, got inf"),
    (lambda: LogNormal(median=0, sigma=1), r"median must be a finite number > 0, got 0"),
    (lambda: LogNormal(median=1, sigma=-0.1), r"sigma must be a finite number >= 0, got -0.1"),
    (lambda: LogNormal(median=1, sigma=math.nan), r"sigma must be a finite number >= 0, got nan"),
    (lambda: Uniform(2, 1), r"Uniform needs finite low <= high, got low=2, high=1"),
    (lambda: Uniform(0, math.inf), r"Uniform needs finite low <= high"),
    (lambda: Empirical([]), r"Empirical needs a non-empty 1-D sequence of finite numbers"),
    (lambda: Empirical([1.0, math.nan]), r"Empirical needs a non-empty 1-D sequence"),
    (lambda: Empirical([[1.0], [2.0]]), r"Empirical needs a non-empty 1-D sequence"),
])
def test_bad_distribution_parameters(make, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()


def test_as_distribution_numbers() -> None:
    assert as_distribution(3, "x") == Constant(3.0)
    assert as_distribution(np.float64(0.5), "x") == Constant(0.5)
    assert as_distribution(np.int64(2), "x") == Constant(2.0)
    assert as_distribution(0, "x") == Constant(0.0)


def test_as_distribution_keeps_objects_with_sample() -> None:
    class Two:
        def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
            return np.full(size, 2.0)

    two = Two()
    kept = as_distribution(two, "x")
    assert kept.dist is two and repr(kept) == repr(two)
    assert kept.sample(np.random.default_rng(1), 3).tolist() == [2.0, 2.0, 2.0]
    assert as_distribution(kept, "x").dist is two  # not wrapped twice
    e = Exponential(1.0)
    assert as_distribution(e, "x") is e


@pytest.mark.parametrize(("value", "kw", "exc", "match"), [
    (-1, {}, ValueError, r"work must be between 0 and inf, got -1"),
    (math.nan, {}, ValueError, r"work must be between 0 and inf, got nan"),
    (math.inf, {}, ValueError, r"work must be between 0 and inf, got inf"),
    (5, {"high": 1}, ValueError, r"work must be between 0 and 1, got 5"),
    (-3, {"low": -2}, ValueError, r"work must be between -2 and inf, got -3"),
    (True, {}, TypeError, r"work must be a number or a distribution, got True"),
    ("fast", {}, TypeError, r"work must be a number, a frozen scipy.stats distribution or an "
                            r"object with sample\(rng, size\), got 'fast'"),
    ([1, 2], {}, TypeError, r"work must be a number"),
])
def test_as_distribution_rejects_bad_values(value, kw, exc, match) -> None:
    with pytest.raises(exc, match=match):
        as_distribution(value, "work", **kw)


def test_sampler_constant_does_not_touch_the_generator() -> None:
    rng = _rng(1)
    s = Sampler(Constant(4.0), rng)
    assert [s() for _ in range(5)] == [4.0] * 5
    assert rng.random() == _rng(1).random()


def test_sampler_hands_out_blocks_in_order() -> None:
    s = Sampler(Exponential(1.0), _rng(5), block=4)
    got = [s() for _ in range(10)]
    ref = _rng(5)
    expected = np.concatenate([Exponential(1.0).sample(ref, 4) for _ in range(3)])[:10]
    assert got == expected.tolist()
    assert all(isinstance(v, float) for v in got)


def test_sampler_accepts_scipy_and_custom_distributions() -> None:
    s = Sampler(ScipyDistribution(scipy.stats.uniform(2, 1)), _rng(), block=3)
    xs = [s() for _ in range(7)]
    assert all(2 <= x <= 3 for x in xs) and len(set(xs)) == 7


def test_samplers_with_the_same_seed_agree_and_different_seeds_differ() -> None:
    a = Sampler(LogNormal(1, 0.5), _rng(11))
    b = Sampler(LogNormal(1, 0.5), _rng(11))
    c = Sampler(LogNormal(1, 0.5), _rng(12))
    xa, xb, xc = ([s() for _ in range(5000)] for s in (a, b, c))
    assert xa == xb and xa != xc


@pytest.mark.parametrize(("make", "match"), [
    (lambda: LogNormal(median=1.0, sigma="wide"), r"sigma must be a finite number >= 0, "
                                                  r"got 'wide'"),
    (lambda: Uniform("a", 1.0), r"Uniform needs finite low <= high, got low='a'"),
    (lambda: Exponential(True), r"mean_value must be a finite number > 0, got True"),
    (lambda: LogNormal(median=True, sigma=0.1), r"median must be a finite number > 0, got True"),
])
def test_non_numbers_are_rejected_with_the_parameter_name(make, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()
