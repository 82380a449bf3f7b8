"""Statistical validation of the simulator against the closed forms of :mod:`simlab.core.theory`.

Every comparison uses a fixed seed and a tolerance derived from the sample size:

* a proportion ``p`` estimated from ``n`` independent requests has standard error
  ``sqrt(p (1 - p) / n)``; where requests are correlated (throttling happens in runs while the
  platform is full) the standard error comes from *batch means*: the run is cut into ``K``
  consecutive batches, each long compared with the correlation time (a few mean durations), and
  the standard error is ``sd(batch estimates) / sqrt(K)``. The effective sample size is then
  ``n_eff = p (1 - p) / se^2``;
* a time average over ``[0, T]`` of the M/G/inf busy count ``N(t)`` has variance
  ``(2 / T) * integral of Cov(N(0), N(tau)) d tau = lambda E[S^2] / T`` (the covariance of M/G/inf
  at lag tau is ``lambda * integral_tau^inf P(S > u) du``);
* a ratio of renewal-reward sums (time alive over time elapsed, cycle by cycle) gets the
  regenerative standard error ``sd(A_i - r C_i) / (sqrt(m) * mean(C))`` over ``m`` cycles.

The tolerance is ``K_SIGMA = 4`` standard errors (plus any known bias of the formula, such as the
small chance that requests overlap in the single-environment formulas), and the tests also check
that the tolerance is tight enough to catch a real discrepancy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import simlab
from simlab.aws.sources.arrivals import Poisson
from simlab.core import theory
from simlab.core.dists import Exponential, LogNormal

K_SIGMA = 4.0


def batch_se(values: np.ndarray, batches: int = 30) -> float:
    """Standard error of the mean of ``values`` (in time order) by batch means."""
    usable = len(values) - len(values) % batches
    means = values[:usable].reshape(batches, -1).mean(axis=1)
    return float(means.std(ddof=1) / math.sqrt(batches))


# --------------------------------------------------------------------------------------------------
# Erlang B: a concurrency limit of n, Poisson arrivals, no waiting room
# --------------------------------------------------------------------------------------------------


def erlang_run(servers: int, load: float, *, how: str, duration: Any, requests: int = 60_000,
               seed: int = 1) -> np.ndarray:
    """Throttled indicator of each request (in arrival order) with ``servers`` as the limit."""
    until = requests / load  # mean duration is 1 s, so the rate equals the offered load
    if how == "reserved":
        # reserved concurrency as the limit; as many provisioned environments, so every request
        # is warm and no INIT lengthens the service time
        sim = simlab.Simulation(seed=seed, max_lifetime_s=math.inf)
        sim.add_function("f", duration_s=duration, timeout_s=900, init_s=0.5,
                         reserved_concurrency=servers, provisioned_concurrency=servers)
    else:
        # the account limit, all of it unreserved; INIT of 0 so cold starts last no longer
        sim = simlab.Simulation(seed=seed, account_concurrency=servers, unreserved_minimum=0,
                                keep_alive_s=math.inf, max_lifetime_s=math.inf)
        sim.add_function("f", duration_s=duration, timeout_s=900, init_s=0.0)
    sim.add_source(Poisson(rate_per_s=load), target="f")
    inv = sim.run(until_s=until).invocations
    assert (inv["status"].isin(["ok", "throttled"])).all()
    if how == "reserved":
        ran = inv["status"] == "ok"
        assert inv.loc[ran, "provisioned"].all() and not inv["cold"].any()
    return (inv["status"] == "throttled").to_numpy(dtype=float)


ERLANG_GRID = [
    (1, 0.5, "reserved", Exponential(1.0)),
    (2, 1.5, "reserved", Exponential(1.0)),
    (5, 3.0, "reserved", Exponential(1.0)),
    (10, 7.0, "reserved", Exponential(1.0)),
    (20, 15.0, "reserved", Exponential(1.0)),
    (5, 3.0, "reserved", 1.0),                   # insensitivity: deterministic durations
    (10, 7.0, "account", Exponential(1.0)),      # the account limit as the server count
    (3, 2.0, "account", LogNormal(math.exp(-0.5), 1.0)),  # mean 1 s, heavy tail
]


@pytest.mark.parametrize(("servers", "load", "how", "duration"), ERLANG_GRID)
def test_throttle_fraction_matches_erlang_b(servers: int, load: float, how: str,
                                            duration: Any) -> None:
    seed = 1 if how == "reserved" else 2  # the two ways give the same run for the same seed
    throttled = erlang_run(servers, load, how=how, duration=duration, seed=seed)
    n = len(throttled)
    p_hat = throttled.mean()
    b = theory.erlang_b(servers, load)
    se = batch_se(throttled)
    se_iid = math.sqrt(b * (1 - b) / n)
    # batch means give n_eff = b (1 - b) / se^2: correlated, but not absurdly so
    assert se_iid * 0.5 < se < se_iid * 4
    assert abs(p_hat - b) < K_SIGMA * se, (p_hat, b, se)
    # the test can tell neighbouring limits apart
    assert K_SIGMA * se < abs(theory.erlang_b(servers + 1, load) - b)


# --------------------------------------------------------------------------------------------------
# M/G/inf: unlimited concurrency, mean busy environments = lambda E[S] whatever the distribution
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("duration", "mean_s", "second_moment"), [
    (2.0, 2.0, 4.0),
    (LogNormal(median=1.0, sigma=0.8), math.exp(0.32), math.exp(1.28)),
    (Exponential(1.5), 1.5, 2 * 1.5**2),
])
def test_mean_busy_environments_matches_mgi(duration: Any, mean_s: float,
                                            second_moment: float) -> None:
    rate, T = 10.0, 5000.0
    sim = simlab.Simulation(seed=4, keep_alive_s=30, max_lifetime_s=math.inf)
    sim.add_function("f", duration_s=duration, init_s=0.0, timeout_s=900)
    sim.add_source(Poisson(rate_per_s=rate), target="f")
    result = sim.run(until_s=T)
    s = result.summary()
    assert s["throttle_fraction"] == 0 and s["timeout_fraction"] == 0
    a = theory.mgi_mean_busy(rate, mean_s)
    # the system starts empty: the time average misses lambda E[S^2] / (2 T) on average
    expected = a - rate * second_moment / (2 * T)
    sd = math.sqrt(rate * second_moment / T)
    assert abs(s["mean_busy_environments"] - expected) < K_SIGMA * sd
    assert K_SIGMA * sd < 0.05 * a
    # Little's law on the same run: busy = throughput x mean time busy (edge effects only)
    inv = result.invocations
    little = theory.littles_law_concurrency(len(inv) / T, inv["duration_ms"].mean() / 1000)
    assert s["mean_busy_environments"] == pytest.approx(little, rel=0.01)


@pytest.mark.slow  # a long run, for a tight goodness-of-fit test
def test_busy_count_distribution_is_poisson() -> None:
    rate, mean_s, T = 4.0, 1.0, 20_000.0
    sim = simlab.Simulation(seed=9, keep_alive_s=30, max_lifetime_s=math.inf)
    sim.add_function("f", duration_s=LogNormal(math.exp(-0.18), 0.6), init_s=0.0, timeout_s=60)
    sim.add_source(Poisson(rate_per_s=rate), target="f")
    c = sim.run(until_s=T).concurrency()
    t = np.append(c["time_s"].to_numpy(), T)
    held = np.clip(np.minimum(t[1:], T) - np.minimum(t[:-1], T), 0, None)
    k = c["concurrency"].to_numpy()
    share = np.bincount(k, weights=held, minlength=12)[:12] / T
    pmf = theory.mgi_busy_pmf(np.arange(12), rate, mean_s)
    # A time fraction of T seconds has variance 2 tau p (1 - p) / T, tau the integrated
    # autocorrelation time. For the busy count tau = E[S^2] / (2 E[S]) (0.72 s here) and the
    # indicators of {N = k} decorrelate on the same scale: n_eff = T / (2 E[S]) is conservative.
    n_eff = T / (2 * mean_s)
    tol = K_SIGMA * np.sqrt(pmf * (1 - pmf) / n_eff) + 1e-3
    assert np.all(np.abs(share - pmf) < tol), (share, pmf)
    assert np.all(tol[2:6] < 0.15 * pmf[2:6])  # around the mode, tight enough to matter


# --------------------------------------------------------------------------------------------------
# keep-alive with a TTL, one environment: P(cold) = exp(-lambda T), mean alive environments
# --------------------------------------------------------------------------------------------------

TTL_RATE = 1 / 60.0
TTL_DURATION = 0.05
TTL_INIT = 0.1


def ttl_run(ttl: float, requests: int = 20_000) -> simlab.Result:
    sim = simlab.Simulation(seed=int(ttl), keep_alive_s=ttl, max_lifetime_s=math.inf)
    sim.add_function("f", duration_s=TTL_DURATION, init_s=TTL_INIT)
    sim.add_source(Poisson(rate_per_s=TTL_RATE), target="f")
    return sim.run(until_s=requests / TTL_RATE)


@pytest.fixture(scope="module", params=[20.0, 60.0, 120.0])
def ttl_result(request: pytest.FixtureRequest) -> tuple[float, simlab.Result]:
    return request.param, ttl_run(request.param)


def test_cold_start_probability_is_exp_minus_lambda_t(ttl_result) -> None:
    ttl, result = ttl_result
    inv = result.invocations
    cold = inv["cold"].to_numpy()[1:]  # the first request is cold whatever T
    n = len(cold)
    p = theory.p_cold_ttl(TTL_RATE, ttl)
    # concurrency-1 regime: a request is cold iff the gap after the previous execution ends
    # exceeds T; Poisson gaps are independent (memoryless), so the indicators are independent
    # and n_eff = n. A request arriving during the previous execution is cold too: that adds at
    # most p_overlap to the fraction.
    overlap = theory.p_overlap(TTL_RATE, TTL_DURATION + TTL_INIT)
    assert overlap < 0.01
    se = math.sqrt(p * (1 - p) / n)
    assert abs(cold.mean() - p) < K_SIGMA * se + overlap, (cold.mean(), p)
    assert K_SIGMA * se + overlap < 0.1 * p
    assert result.summary()["cold_start_fraction"] == pytest.approx(inv["cold"].mean())


def regenerative_se(result: simlab.Result) -> tuple[float, float]:
    """Mean alive environments over complete cycles (one cold start to the next) and its
    regenerative standard error."""
    envs = result.environments
    created = envs["created_s"].to_numpy()
    alive = (envs["ended_s"] - envs["created_s"]).to_numpy()[:-1]
    cycle = np.diff(created)
    r = alive.sum() / cycle.sum()
    m = len(cycle)
    se = (alive - r * cycle).std(ddof=1) / (math.sqrt(m) * cycle.mean())
    return r, se


def test_mean_alive_environments_matches_the_renewal_formula(ttl_result) -> None:
    ttl, result = ttl_result
    expected = theory.mean_alive_environments_ttl(TTL_RATE, ttl, TTL_DURATION, TTL_INIT)
    overlap = theory.p_overlap(TTL_RATE, TTL_DURATION + TTL_INIT)
    r, se = regenerative_se(result)
    assert abs(r - expected) < K_SIGMA * se + overlap, (r, expected, se)
    # the summary's time average agrees (it also counts the partial cycles at both ends)
    s = result.summary()
    edge = 2 * (1 / TTL_RATE + ttl) / result.until_s
    assert abs(s["mean_environments"] - expected) < K_SIGMA * se + overlap + edge
    idle = theory.mean_idle_environments_ttl(TTL_RATE, ttl, TTL_DURATION, TTL_INIT)
    assert abs(s["mean_idle_environments"] - idle) < K_SIGMA * se + overlap + edge
    assert K_SIGMA * se < 0.1 * expected
