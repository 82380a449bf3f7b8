"""Tests of the closed forms in simlab.theory (known values, limits, vectorisation, bad input)."""

from __future__ import annotations

import doctest
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from simlab.core import theory
from simlab.core.theory import (
    erlang_b,
    erlang_b_servers,
    littles_law_concurrency,
    littles_law_latency,
    littles_law_rate,
    mean_alive_environments_ttl,
    mean_idle_environments_ttl,
    mgi_busy_pmf,
    mgi_mean_busy,
    offered_load,
    p_cold_ttl,
    p_overlap,
)


def erlang_b_exact(n: int, a: Fraction) -> Fraction:
    """The textbook formula in exact rational arithmetic (fine for small n)."""
    terms = [a**k / math.factorial(k) for k in range(n + 1)]
    return terms[-1] / sum(terms)


def test_docstring_examples_hold() -> None:
    failures, tried = doctest.testmod(theory, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried >= 10
    assert failures == 0


# --------------------------------------------------------------------------------------------------
# Erlang B
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "a", "expected"),
    [
        (1, 1.0, 0.5),
        (2, 1.0, 0.2),
        (5, 2.0, 0.036697),  # standard Erlang B table values
        (10, 5.0, 0.018385),
        (20, 15.0, 0.045593),
        (0, 3.0, 1.0),
        (4, 0.0, 0.0),
    ],
)
def test_erlang_b_table_values(n: int, a: float, expected: float) -> None:
    assert erlang_b(n, a) == pytest.approx(expected, abs=5e-6)


@pytest.mark.parametrize("n", [1, 3, 8, 25, 60])
@pytest.mark.parametrize("a", ["1/3", "2", "7.5", "40"])
def test_erlang_b_matches_exact_formula(n: int, a: str) -> None:
    exact = float(erlang_b_exact(n, Fraction(a)))
    assert erlang_b(n, float(Fraction(a))) == pytest.approx(exact, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize(("n", "a"), [(1000, 1000.0), (3000, 2900.0), (5000, 4000.0)])
def test_erlang_b_thousands_of_servers(n: int, a: float) -> None:
    # B(n, a) = P(N = n) / P(N <= n) for N ~ Poisson(a), evaluated in logs by scipy.
    reference = math.exp(stats.poisson.logpmf(n, a) - stats.poisson.logcdf(n, a))
    value = erlang_b(n, a)
    assert math.isfinite(value)
    assert value == pytest.approx(reference, rel=1e-9)


def test_erlang_b_is_monotone() -> None:
    n = np.arange(0, 60)
    b_in_n = erlang_b(n, 20.0)
    assert np.all(np.diff(b_in_n) < 0)
    a = np.linspace(0.1, 80.0, 200)
    b_in_a = erlang_b(30, a)
    assert np.all(np.diff(b_in_a) > 0)
    assert np.all((b_in_a > 0) & (b_in_a < 1))


def test_erlang_b_vectorises_like_scalar_calls() -> None:
    n = np.array([[0], [1], [10], [100]])
    a = np.array([0.5, 5.0, 50.0])
    grid = erlang_b(n, a)
    assert isinstance(grid, np.ndarray)
    assert grid.shape == (4, 3)
    for i in range(4):
        for j in range(3):
            assert grid[i, j] == erlang_b(int(n[i, 0]), float(a[j]))
    assert isinstance(erlang_b(10, 5.0), float)
    assert erlang_b(10.0, 5) == erlang_b(10, 5.0)  # whole floats are whole numbers


@settings(max_examples=200, deadline=None, derandomize=True)
@given(n=st.integers(1, 300), a=st.floats(1e-3, 500.0))
def test_erlang_b_recursion_identity(n: int, a: float) -> None:
    # 1 / B(n) = 1 + n / (a B(n-1)), the recursion read backwards.
    b_n, b_prev = erlang_b(n, a), erlang_b(n - 1, a)
    assert 0.0 <= b_n <= b_prev <= 1.0
    if b_n > 1e-250:
        assert 1.0 / b_n == pytest.approx(1.0 + n / (a * b_prev), rel=1e-9)


@pytest.mark.parametrize(
    ("a", "target", "expected"),
    [(5.0, 0.02, 10), (5.0, 0.018, 11), (0.0, 0.5, 1), (3.0, 1.0, 0), (100.0, 0.01, 117)],
)
def test_erlang_b_servers_known(a: float, target: float, expected: int) -> None:
    n = erlang_b_servers(a, target)
    assert n == expected
    assert erlang_b(int(n), a) <= target
    if n > 0:
        assert erlang_b(int(n) - 1, a) > target


def test_erlang_b_servers_vectorises() -> None:
    a = np.array([1.0, 10.0, 100.0, 1000.0])
    n = erlang_b_servers(a, 0.01)
    assert n.shape == (4,)
    assert np.all(erlang_b(n.astype(int), a) <= 0.01)
    assert np.all(erlang_b(n.astype(int) - 1, a) > 0.01)


# --------------------------------------------------------------------------------------------------
# M/G/inf and Little's law
# --------------------------------------------------------------------------------------------------


def test_mgi_mean_busy_is_offered_load() -> None:
    assert mgi_mean_busy(0.9, 1.991) == pytest.approx(1.7919)
    assert offered_load(450, 1.991) == pytest.approx(895.95)
    rates = np.array([0.0, 1.0, 10.0])
    np.testing.assert_allclose(mgi_mean_busy(rates, 2.0), [0.0, 2.0, 20.0])


def test_mgi_busy_pmf_is_poisson() -> None:
    k = np.arange(0, 60)
    pmf = mgi_busy_pmf(k, 4.0, 2.5)
    np.testing.assert_allclose(pmf, stats.poisson.pmf(k, 10.0), rtol=1e-12)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
    assert float((k * pmf).sum()) == pytest.approx(mgi_mean_busy(4.0, 2.5), rel=1e-9)
    assert mgi_busy_pmf(0, 0.0, 3.0) == 1.0
    assert mgi_busy_pmf(2, 0.0, 3.0) == 0.0


def test_erlang_b_is_truncated_mgi() -> None:
    # With a limit n, the time-average occupancy is Poisson(a) cut at n; the blocking probability is
    # the mass at n (PASTA). Ties the two formulas together.
    a, n = 7.0, 9
    pmf = mgi_busy_pmf(np.arange(n + 1), 7.0, 1.0)
    assert erlang_b(n, a) == pytest.approx(pmf[-1] / pmf.sum(), rel=1e-12)


def test_littles_law_round_trip() -> None:
    assert littles_law_concurrency(100, 0.25) == 25.0
    assert littles_law_rate(25, 0.25) == 100.0
    assert littles_law_latency(25, 100) == 0.25
    lam = np.array([1.0, 2.0, 50.0])
    w = np.array([0.1, 3.0, 0.02])
    np.testing.assert_allclose(littles_law_rate(littles_law_concurrency(lam, w), w), lam)
    np.testing.assert_allclose(littles_law_latency(littles_law_concurrency(lam, w), lam), w)


# --------------------------------------------------------------------------------------------------
# keep-alive with a TTL
# --------------------------------------------------------------------------------------------------


def test_p_cold_ttl_values_and_limits() -> None:
    assert p_cold_ttl(1 / 600, 600) == pytest.approx(math.exp(-1))
    assert p_cold_ttl(0.5, 0.0) == 1.0
    assert p_cold_ttl(0.5, math.inf) == 0.0
    assert p_cold_ttl(0.0, 600) == 1.0
    assert p_cold_ttl(0.0, math.inf) == 1.0
    # the duration drops out (memorylessness)
    assert p_cold_ttl(0.01, 300, duration_s=5.0) == p_cold_ttl(0.01, 300)


def test_p_cold_ttl_monotone_and_vectorised() -> None:
    ttl = np.linspace(0, 1800, 50)
    p = p_cold_ttl(0.002, ttl)
    assert p.shape == (50,)
    assert np.all(np.diff(p) < 0)
    rates = np.array([[0.001], [0.01]])
    grid = p_cold_ttl(rates, ttl)
    assert grid.shape == (2, 50)
    assert np.all(grid[1] <= grid[0])


def test_p_overlap() -> None:
    assert p_overlap(0.01, 2.0) == pytest.approx(1 - math.exp(-0.02))
    assert p_overlap(3.0, 0.0) == 0.0


def test_mean_alive_limits() -> None:
    lam = 0.01
    # zero duration and init: the chance that a request arrived in the last T seconds
    assert mean_alive_environments_ttl(lam, 120, 0.0) == pytest.approx(1 - math.exp(-1.2))
    # never reclaimed: always alive
    assert mean_alive_environments_ttl(lam, math.inf, 2.0, 0.25) == pytest.approx(1.0)
    # no keep-alive: the busy fraction of an on/off process
    busy = lam * 2.25 / (lam * 2.25 + 1)
    assert mean_alive_environments_ttl(lam, 0.0, 2.0, 0.25) == pytest.approx(busy)
    assert mean_idle_environments_ttl(lam, 0.0, 2.0, 0.25) == 0.0


def test_mean_alive_monotone_in_ttl_and_bounded() -> None:
    ttl = np.linspace(0, 3600, 100)
    alive = mean_alive_environments_ttl(0.003, ttl, 1.0, 0.5)
    idle = mean_idle_environments_ttl(0.003, ttl, 1.0, 0.5)
    assert np.all(np.diff(alive) > 0)
    assert np.all((0 <= idle) & (idle <= alive) & (alive <= 1))


def _ratio_and_se(num: np.ndarray, den: np.ndarray) -> tuple[float, float]:
    """Ratio estimator sum(num) / sum(den) and its delta-method standard error."""
    r = num.sum() / den.sum()
    se = np.std(num - r * den, ddof=1) / (math.sqrt(num.size) * den.mean())
    return float(r), float(se)


def _single_environment_model(
    lam: float, ttl: float, d: float, init: float, n: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Monte Carlo of the exact model behind the TTL formulas, vectorised.

    Request i comes Y_i ~ Exp(lam) after the end of execution i-1; it is cold iff Y_i > ttl and then
    runs init + d, else d. The environment is alive while busy and for min(Y_i, ttl) of each gap.
    Returns per request: cold flag, alive time, idle time, and elapsed time (gap + busy).
    """
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1 / lam, n)
    cold = gaps > ttl
    busy = d + init * cold
    idle = np.minimum(gaps, ttl)
    return cold, busy + idle, idle, busy + gaps


@pytest.mark.parametrize(
    ("lam", "ttl", "d", "init"),
    [(0.01, 60.0, 2.0, 0.25), (0.002, 600.0, 1.991, 0.253), (0.5, 1.0, 0.3, 1.5)],
)
def test_ttl_formulas_match_their_model(lam: float, ttl: float, d: float, init: float) -> None:
    n = 200_000
    cold, alive, idle, elapsed = _single_environment_model(lam, ttl, d, init, n, seed=7)
    p = p_cold_ttl(lam, ttl, d)
    # binomial standard error; 5 sigma keeps the fixed-seed test far from flaky
    assert abs(cold.mean() - p) < 5 * math.sqrt(p * (1 - p) / n)
    # time averages are ratio estimators; 5 delta-method standard errors
    alive_sim, alive_se = _ratio_and_se(alive, elapsed)
    idle_sim, idle_se = _ratio_and_se(idle, elapsed)
    assert alive_se < 0.002 and idle_se < 0.002  # the check is sharp enough to mean something
    assert abs(alive_sim - mean_alive_environments_ttl(lam, ttl, d, init)) < 5 * alive_se
    assert abs(idle_sim - mean_idle_environments_ttl(lam, ttl, d, init)) < 5 * idle_se


# --------------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "name", "value"),
    [
        (lambda: erlang_b(-1, 2.0), "servers", "-1"),
        (lambda: erlang_b(2.5, 2.0), "servers", "2.5"),
        (lambda: erlang_b(3, -0.5), "offered_load", "-0.5"),
        (lambda: erlang_b(3, math.nan), "offered_load", "nan"),
        (lambda: erlang_b(3, math.inf), "offered_load", "inf"),
        (lambda: erlang_b([1, 2, -3], 1.0), "servers", "-3"),
        (lambda: erlang_b_servers(5.0, 0.0), "target_blocking", "0.0"),
        (lambda: erlang_b_servers(5.0, 1.5), "target_blocking", "1.5"),
        (lambda: mgi_mean_busy(-1.0, 2.0), "rate_per_s", "-1.0"),
        (lambda: mgi_mean_busy(1.0, -2.0), "mean_duration_s", "-2.0"),
        (lambda: mgi_busy_pmf(-1, 1.0, 1.0), "k", "-1"),
        (lambda: p_cold_ttl(-0.1, 60), "rate_per_s", "-0.1"),
        (lambda: p_cold_ttl(0.1, -60), "ttl_s", "-60"),
        (lambda: p_cold_ttl(0.1, 60, duration_s=-1), "duration_s", "-1"),
        (lambda: p_overlap(0.1, -1.0), "busy_s", "-1.0"),
        (lambda: mean_alive_environments_ttl(0.0, 60, 1.0), "rate_per_s", "0.0"),
        (lambda: mean_alive_environments_ttl(0.1, 60, 1.0, -0.2), "init_s", "-0.2"),
        (lambda: mean_idle_environments_ttl(0.1, math.nan, 1.0), "ttl_s", "nan"),
        (lambda: littles_law_rate(5, 0.0), "mean_latency_s", "0.0"),
        (lambda: littles_law_latency(5, 0.0), "rate_per_s", "0.0"),
        (lambda: littles_law_concurrency(1.0, -3), "mean_latency_s", "-3"),
    ],
)
def test_bad_values_name_parameter_value_and_range(call, name: str, value: str) -> None:
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert message.startswith(name + " must be")
    assert value in message
    assert ">=" in message or "[" in message or "(" in message  # the allowed range is stated


@pytest.mark.parametrize(
    "call",
    [
        lambda: erlang_b("10", 5.0),
        lambda: erlang_b(10, None),
        lambda: erlang_b(True, 5.0),
        lambda: p_cold_ttl(0.1, "600"),
        lambda: mgi_busy_pmf([[1, 2], [3]], 1.0, 1.0),
        lambda: littles_law_concurrency(1.0 + 2.0j, 1.0),
    ],
)
def test_non_numbers_raise_type_error(call) -> None:
    with pytest.raises(TypeError, match="must be a number"):
        call()
