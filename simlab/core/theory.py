"""Closed-form results from queueing theory, to check the simulator and to teach with.

A simulator earns trust when it reproduces the few cases that can be solved on paper. This module
collects those cases for a serverless platform. Every function takes numbers or numpy arrays (which
broadcast against each other) and returns a ``float`` for scalar input or an array otherwise.

Offered load
    A function invoked at ``rate_per_s`` (lambda) whose executions last ``mean_duration_s``
    (E[S]) on average keeps ``a = lambda * E[S]`` executions running at the same time on average.
    ``a`` is dimensionless (it is sometimes said in *Erlangs*) and is the one number that most of
    the results below depend on.

Little's law
    In any system that is stable over a long run, the mean number of requests inside it equals the
    rate at which they arrive times the mean time each spends inside: ``L = lambda * W``. It holds
    for any arrival process and any service time, which makes it the first sanity check of every
    simulation: mean concurrency = invocation rate x mean duration.

M/G/inf: unlimited concurrency
    When every request gets an environment at once (no concurrency limit), requests arrive as a
    Poisson process and durations have any distribution with mean E[S], the number of executions in
    progress at a random moment is Poisson distributed with mean ``a`` (the *M/G/inf* queue). Only
    the mean duration matters, not the shape of its distribution.

Erlang B: a concurrency limit
    With a limit of ``n`` concurrent executions and no waiting room (a synchronous request over the
    limit is throttled with a 429 error at once), the fraction of requests throttled is the
    *Erlang B* formula ``B(n, a)``. Again it depends on the durations only through their mean.

Keep-alive with a time-to-live (TTL)
    A platform keeps an idle execution environment for ``T`` seconds after its last execution ends
    and reclaims it then. For a function invoked rarely enough that its requests never overlap, one
    environment serves every request. By the memoryless property of Poisson arrivals, the time from
    the end of an execution to the next request is exponential with rate lambda, so a request finds
    no warm environment (a *cold start*) with probability ``exp(-lambda * T)``. The mean number of
    environments kept alive follows from a renewal-reward argument (see
    :func:`mean_alive_environments_ttl`); the gap between the two is the idle memory paid for to
    avoid cold starts.

Examples
--------
>>> round(erlang_b(10, 5.0), 5)
0.01838
>>> mgi_mean_busy(rate_per_s=0.9, mean_duration_s=1.991)
1.7919
>>> round(p_cold_ttl(rate_per_s=1 / 600, ttl_s=600), 4)
0.3679
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from simlab.core import validate

__all__ = [
    "offered_load",
    "erlang_b",
    "erlang_b_servers",
    "mgi_mean_busy",
    "mgi_busy_pmf",
    "p_cold_ttl",
    "p_overlap",
    "mean_alive_environments_ttl",
    "mean_idle_environments_ttl",
    "littles_law_concurrency",
    "littles_law_rate",
    "littles_law_latency",
]

ArrayLike = npt.ArrayLike
FloatOrArray = float | np.ndarray


def _out(result: np.ndarray, *inputs: ArrayLike) -> FloatOrArray:
    """A Python float when every input was a scalar, else the array."""
    if all(np.ndim(x) == 0 for x in inputs):
        return float(result)
    return result


def offered_load(rate_per_s: ArrayLike, mean_duration_s: ArrayLike) -> FloatOrArray:
    """Offered load ``a = lambda * E[S]``: mean executions in progress with no limit.

    Parameters
    ----------
    rate_per_s : float or array_like
        Arrival rate lambda of requests, per second, ``>= 0``.
    mean_duration_s : float or array_like
        Mean time E[S] one request holds an environment, in seconds, ``>= 0``. Include the
        initialisation time if cold starts are frequent enough to matter.

    Returns
    -------
    float or numpy.ndarray
        The dimensionless offered load (in Erlangs).

    Examples
    --------
    >>> offered_load(450, 1.991)
    895.95
    """
    lam = validate.array_in("rate_per_s", rate_per_s)
    s = validate.array_in("mean_duration_s", mean_duration_s)
    return _out(lam * s, rate_per_s, mean_duration_s)


# -- Erlang B --------------------------------------------------------------------------------------


def erlang_b(servers: ArrayLike, offered_load: ArrayLike) -> FloatOrArray:
    """Blocking probability of the Erlang B (M/G/n/n) loss system.

    Requests arrive as a Poisson process with rate lambda and each holds one of ``servers``
    concurrent slots for a time of mean E[S]; a request that finds every slot taken is lost (for a
    serverless function: throttled). The fraction of requests lost is

    .. math:: B(n, a) = \\frac{a^n / n!}{\\sum_{k=0}^{n} a^k / k!}, \\qquad a = \\lambda E[S].

    Computing the factorials directly overflows beyond about 170 servers. The recursion

    .. math:: B(0, a) = 1, \\qquad B(k, a) = \\frac{a\\,B(k-1, a)}{k + a\\,B(k-1, a)}

    only ever combines numbers between 0 and 1, so it is exact to rounding for thousands of servers.
    The result does not depend on the shape of the duration distribution, only its mean
    (the *insensitivity* property), which the simulator's throttling should reproduce.

    Parameters
    ----------
    servers : int or array_like of int
        Concurrency limit n, a whole number ``>= 0``.
    offered_load : float or array_like
        Offered load ``a = lambda * E[S]`` (see :func:`offered_load`), ``>= 0``.

    Returns
    -------
    float or numpy.ndarray
        B(n, a) in [0, 1], broadcast over both inputs.

    Raises
    ------
    TypeError
        If an input is not numeric.
    ValueError
        If ``servers`` is negative or not whole, or ``offered_load`` is negative or not finite.

    Examples
    --------
    >>> round(erlang_b(10, 5.0), 5)
    0.01838
    >>> erlang_b([1, 2, 3], 1.0).round(4)
    array([0.5   , 0.2   , 0.0625])
    """
    n = validate.count_array("servers", servers)
    a = validate.array_in("offered_load", offered_load)
    n, a = np.broadcast_arrays(n, a)
    result = np.ones(n.shape)
    b = np.ones(n.shape)
    n_max = int(n.max(initial=0))
    for k in range(1, n_max + 1):
        b = a * b / (k + a * b)
        np.copyto(result, b, where=(n == k))
    return _out(result, servers, offered_load)


def erlang_b_servers(offered_load: ArrayLike, target_blocking: ArrayLike) -> FloatOrArray:
    """Smallest concurrency limit whose Erlang B blocking is at most ``target_blocking``.

    The sizing question behind reserved concurrency: how many concurrent executions must a function
    be allowed so that no more than, say, 1 % of its requests are throttled? Walks the recursion of
    :func:`erlang_b` upwards until the blocking falls to the target. B(n, a) decreases in n, so the
    first n that meets the target is the answer; it is close to ``a + c * sqrt(a)`` for a small c.

    Parameters
    ----------
    offered_load : float or array_like
        Offered load ``a = lambda * E[S]``, finite and ``>= 0``.
    target_blocking : float or array_like
        Acceptable fraction of throttled requests, in (0, 1].

    Returns
    -------
    float or numpy.ndarray
        The limit n (whole numbers, as floats so arrays broadcast cleanly).

    Examples
    --------
    >>> erlang_b_servers(5.0, 0.02)
    10.0
    >>> erlang_b_servers(5.0, 0.018)
    11.0
    """
    a = validate.array_in("offered_load", offered_load)
    target = validate.array_in("target_blocking", target_blocking, low_open=True, high=1.0,
                               high_open=False)
    a, target = np.broadcast_arrays(a, target)
    b = np.ones(a.shape)
    n = np.zeros(a.shape)
    todo = b > target
    k = 0
    while todo.any():
        k += 1
        b = a * b / (k + a * b)
        done_now = todo & (b <= target)
        n[done_now] = k
        todo &= ~done_now
    return _out(n, offered_load, target_blocking)


# -- M/G/inf ---------------------------------------------------------------------------------------


def mgi_mean_busy(rate_per_s: ArrayLike, mean_duration_s: ArrayLike) -> FloatOrArray:
    """Mean number of busy environments with unlimited concurrency (the M/G/inf queue).

    Each request gets its own environment at once, so nothing waits and the mean number in progress
    is, by Little's law, the arrival rate times the mean time in progress: ``a = lambda * E[S]``.
    This holds for any duration distribution and is a time average (the mean over simulated time,
    not over requests).

    Parameters
    ----------
    rate_per_s : float or array_like
        Poisson arrival rate lambda, per second, ``>= 0``.
    mean_duration_s : float or array_like
        Mean busy time E[S] per request, in seconds, ``>= 0``.

    Returns
    -------
    float or numpy.ndarray
        The mean number of busy environments, ``a``.

    Examples
    --------
    >>> mgi_mean_busy(2.0, 0.5)
    1.0
    """
    lam = validate.array_in("rate_per_s", rate_per_s)
    s = validate.array_in("mean_duration_s", mean_duration_s)
    return _out(lam * s, rate_per_s, mean_duration_s)


def mgi_busy_pmf(
    k: ArrayLike, rate_per_s: ArrayLike, mean_duration_s: ArrayLike
) -> FloatOrArray:
    """Probability that exactly ``k`` environments are busy at a random moment (M/G/inf).

    With Poisson arrivals and unlimited concurrency the number of executions in progress is Poisson
    distributed with mean ``a = lambda * E[S]``:

    .. math:: P(N = k) = e^{-a} \\frac{a^k}{k!}.

    Its variance is also ``a``, so the spread of concurrency around its mean grows like sqrt(a):
    a function averaging 900 concurrent executions spends most of its time within about +-60
    (two standard deviations) of that.

    Parameters
    ----------
    k : int or array_like of int
        Number of busy environments, whole and ``>= 0``.
    rate_per_s : float or array_like
        Poisson arrival rate lambda, per second, ``>= 0``.
    mean_duration_s : float or array_like
        Mean busy time E[S] per request, in seconds, ``>= 0``.

    Returns
    -------
    float or numpy.ndarray
        P(N = k), broadcast over the inputs.

    Examples
    --------
    >>> round(mgi_busy_pmf(0, 1.0, 1.0), 4)
    0.3679
    >>> mgi_busy_pmf([0, 1, 2], 2.0, 0.5).round(4)
    array([0.3679, 0.3679, 0.1839])
    """
    kk = validate.count_array("k", k)
    a = mgi_mean_busy(rate_per_s, mean_duration_s)
    from scipy import stats  # imported here: scipy.stats takes a second to load

    return _out(np.asarray(stats.poisson.pmf(kk, a), dtype=float), k, rate_per_s, mean_duration_s)


# -- keep-alive with a TTL, one environment --------------------------------------------------------


def p_cold_ttl(
    rate_per_s: ArrayLike, ttl_s: ArrayLike, duration_s: ArrayLike = 0.0
) -> FloatOrArray:
    """Probability that a request is a cold start under a keep-alive TTL, one environment.

    Setting: one function, Poisson requests with rate lambda, rare enough that they do not overlap,
    so a single execution environment serves all of them (concurrency 1). After each execution the
    platform keeps the environment idle for ``ttl_s`` = T seconds, then reclaims it.

    The assumption, stated exactly: the keep-alive clock starts when the previous execution *ends*,
    and the next request arrives after that end. A request is warm iff the time from the end of
    the previous execution to its arrival is at most T. Poisson arrivals are memoryless: however
    long the previous execution lasted (``duration_s`` = d, plus any initialisation), the wait from
    its end to the next arrival is exponential with rate lambda. Hence

    .. math:: P(\\text{cold}) = P(\\text{gap} > T) = e^{-\\lambda T},

    whatever d is: the duration drops out. That is why ``duration_s`` does not change the result; it
    is accepted (and checked) so that calls read like the setting they describe. The formula stops
    being exact when requests overlap: a request that arrives while the environment is still busy
    needs a second environment and is cold too. :func:`p_overlap` gives how often that happens;
    keep it small (lambda * d well below 0.1) when comparing against a simulation.

    Parameters
    ----------
    rate_per_s : float or array_like
        Poisson arrival rate lambda, per second, ``>= 0``.
    ttl_s : float or array_like
        Keep-alive T after the end of an execution, in seconds, ``>= 0`` (``inf`` allowed: never
        reclaimed; 0: no keep-alive).
    duration_s : float or array_like, optional
        Execution duration d in seconds, ``>= 0``; see above for why it does not appear.

    Returns
    -------
    float or numpy.ndarray
        P(cold) in [0, 1].

    Examples
    --------
    >>> round(p_cold_ttl(0.01, 600, duration_s=2.0), 5)
    0.00248
    >>> p_cold_ttl(0.01, [0, 60, 600]).round(4)
    array([1.    , 0.5488, 0.0025])
    """
    lam = validate.array_in("rate_per_s", rate_per_s)
    ttl = validate.array_in("ttl_s", ttl_s, high_open=False)
    validate.array_in("duration_s", duration_s)
    with np.errstate(invalid="ignore"):  # 0 * inf when there are no arrivals and no expiry
        p = np.exp(-lam * ttl)
    # With no arrivals there is no previous execution to find warm: a request would be cold.
    p = np.where(lam == 0.0, 1.0, p)
    return _out(p, rate_per_s, ttl_s, duration_s)


def p_overlap(rate_per_s: ArrayLike, busy_s: ArrayLike) -> FloatOrArray:
    """Probability that the next Poisson request arrives while the environment is still busy.

    The single-environment formulas (:func:`p_cold_ttl`, :func:`mean_alive_environments_ttl`)
    assume requests never overlap. With arrivals at rate lambda and an execution that keeps the
    environment busy for ``busy_s`` = d seconds, the next request arrives during it with probability
    ``1 - exp(-lambda * d)`` (about lambda * d when small). Use it to check that a lesson's
    parameters are in the regime the formulas describe.

    Parameters
    ----------
    rate_per_s : float or array_like
        Poisson arrival rate lambda, per second, ``>= 0``.
    busy_s : float or array_like
        Time the environment stays busy per request (duration, plus init on a cold start), ``>= 0``.

    Returns
    -------
    float or numpy.ndarray
        The overlap probability in [0, 1).

    Examples
    --------
    >>> round(p_overlap(0.01, 2.0), 5)
    0.0198
    """
    lam = validate.array_in("rate_per_s", rate_per_s)
    d = validate.array_in("busy_s", busy_s)
    return _out(-np.expm1(-lam * d), rate_per_s, busy_s)


def _ttl_terms(
    rate_per_s: ArrayLike, ttl_s: ArrayLike, duration_s: ArrayLike, init_s: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Checked inputs of the TTL formulas: (lambda, q = P(cold), d, init)."""
    lam = validate.array_in("rate_per_s", rate_per_s, low_open=True)
    ttl = validate.array_in("ttl_s", ttl_s, high_open=False)
    d = validate.array_in("duration_s", duration_s)
    init = validate.array_in("init_s", init_s)
    q = np.exp(-lam * ttl)
    return lam, q, d, init


def mean_alive_environments_ttl(
    rate_per_s: ArrayLike, ttl_s: ArrayLike, duration_s: ArrayLike, init_s: ArrayLike = 0.0
) -> FloatOrArray:
    """Time-average number of alive environments under a keep-alive TTL, one environment.

    Setting as in :func:`p_cold_ttl`: Poisson requests at rate lambda that do not overlap, one
    environment, keep-alive T after each execution ends, executions of duration d, and a cold start
    that adds an initialisation of ``init_s`` before the execution. An environment is *alive* from
    the start of its initialisation until it is reclaimed (initialising, busy or idle). As the
    environment exists at most once, the mean number alive is the fraction of time one exists.

    Derivation (renewal-reward). Cut time into cycles that each begin with a cold start. Write
    ``q = exp(-lambda T)`` for the probability that the gap after an execution exceeds T.

    1. The cold request initialises and runs: alive for ``init + d``.
    2. Each following gap Y (exponential, rate lambda, memoryless) is either at most T, and then a
       warm request runs for d more, or longer than T, and the environment dies T after the end of
       the last execution. The number of warm requests N is geometric:
       ``E[N] = (1 - q) / q``.
    3. A warm gap has mean ``E[Y | Y <= T] = 1/lambda - T q / (1 - q)``, so the alive time of a
       cycle has mean

       .. math:: E[A] = init + d + E[N] (d + E[Y | Y \\le T]) + T
                      = init + \\frac{d}{q} + \\frac{1 - q}{\\lambda q}.

    4. After the environment dies, the next request (the next cycle's cold start) comes after a
       further exponential wait of mean 1/lambda, so a cycle lasts on average
       ``E[C] = E[A] + 1/lambda``.

    The renewal-reward theorem gives the long-run fraction of time alive as ``E[A] / E[C]``;
    multiplying through by ``lambda q``:

    .. math:: \\bar{E}_{alive} = \\frac{\\lambda q\\, init + \\lambda d + 1 - q}
                                     {\\lambda q\\, init + \\lambda d + 1}.

    Checks: with d = init = 0 it is ``1 - exp(-lambda T)``, the chance that a request came in the
    last T seconds; as T grows it tends to 1 (never reclaimed); with T = 0 it is the busy fraction
    ``lambda (init + d) / (lambda (init + d) + 1)``. Each cycle also has one cold start among
    ``1/q`` requests on average, which gives back P(cold) = q.

    Parameters
    ----------
    rate_per_s : float or array_like
        Poisson arrival rate lambda, per second, ``> 0``.
    ttl_s : float or array_like
        Keep-alive T in seconds, ``>= 0`` (``inf`` allowed).
    duration_s : float or array_like
        Execution duration d in seconds, ``>= 0``.
    init_s : float or array_like, optional
        Initialisation time of a cold start in seconds, ``>= 0``.

    Returns
    -------
    float or numpy.ndarray
        Mean alive environments, in [0, 1].

    Notes
    -----
    Arrivals during an execution are assumed not to happen (the gap is measured from the end of
    the execution), so the formula is exact for that model and accurate to about
    :func:`p_overlap` for a real Poisson stream.

    Examples
    --------
    >>> round(mean_alive_environments_ttl(1 / 600, 600, duration_s=0.0), 4)
    0.6321
    >>> round(mean_alive_environments_ttl(0.01, 0, duration_s=1.0, init_s=1.0), 4)
    0.0196
    """
    lam, q, d, init = _ttl_terms(rate_per_s, ttl_s, duration_s, init_s)
    num = lam * q * init + lam * d + 1.0 - q
    den = lam * q * init + lam * d + 1.0
    return _out(num / den, rate_per_s, ttl_s, duration_s, init_s)


def mean_idle_environments_ttl(
    rate_per_s: ArrayLike, ttl_s: ArrayLike, duration_s: ArrayLike, init_s: ArrayLike = 0.0
) -> FloatOrArray:
    """Time-average number of idle (kept-alive but unused) environments, one environment.

    Same setting and cycles as :func:`mean_alive_environments_ttl`. Of the alive time ``E[A]`` of a
    cycle, ``init + d / q`` is spent initialising or running (one initialisation and ``1/q``
    executions on average), the rest idle, so

    .. math:: \\bar{E}_{idle} = \\frac{1 - q}{\\lambda q\\, init + \\lambda d + 1}.

    Multiplied by the function's memory this is the memory a provider holds on to, unused, to
    avoid cold starts: the cost side of the keep-alive trade-off. The busy side (initialising or
    running), ``(lambda q init + lambda d) / (lambda q init + lambda d + 1)``, is the
    alive minus the idle figure.

    Parameters
    ----------
    rate_per_s : float or array_like
        Poisson arrival rate lambda, per second, ``> 0``.
    ttl_s : float or array_like
        Keep-alive T in seconds, ``>= 0`` (``inf`` allowed).
    duration_s : float or array_like
        Execution duration d in seconds, ``>= 0``.
    init_s : float or array_like, optional
        Initialisation time of a cold start in seconds, ``>= 0``.

    Returns
    -------
    float or numpy.ndarray
        Mean idle environments, in [0, 1].

    Examples
    --------
    >>> round(mean_idle_environments_ttl(0.01, 600, duration_s=2.0, init_s=0.25), 3)
    0.978
    """
    lam, q, d, init = _ttl_terms(rate_per_s, ttl_s, duration_s, init_s)
    den = lam * q * init + lam * d + 1.0
    return _out((1.0 - q) / den, rate_per_s, ttl_s, duration_s, init_s)


# -- Little's law ----------------------------------------------------------------------------------


def littles_law_concurrency(rate_per_s: ArrayLike, mean_latency_s: ArrayLike) -> FloatOrArray:
    """Mean concurrency from Little's law, ``L = lambda * W``.

    Holds for any stable system over a long run, whatever the arrival process or the duration
    distribution: the mean number of requests in progress equals the throughput times the mean time
    each spends in progress. AWS's own sizing rule, "concurrency = requests per second x average
    duration", is this law.

    Parameters
    ----------
    rate_per_s : float or array_like
        Throughput lambda (requests completed per second), ``>= 0``.
    mean_latency_s : float or array_like
        Mean time W a request spends in the system, in seconds, ``>= 0``.

    Returns
    -------
    float or numpy.ndarray
        Mean concurrency L.

    Examples
    --------
    >>> littles_law_concurrency(100, 0.25)
    25.0
    """
    lam = validate.array_in("rate_per_s", rate_per_s)
    w = validate.array_in("mean_latency_s", mean_latency_s)
    return _out(lam * w, rate_per_s, mean_latency_s)


def littles_law_rate(concurrency: ArrayLike, mean_latency_s: ArrayLike) -> FloatOrArray:
    """Throughput from Little's law, ``lambda = L / W``.

    For example, the most requests per second a function can sustain under a concurrency limit L
    when each takes W seconds.

    Parameters
    ----------
    concurrency : float or array_like
        Mean number L of requests in progress, ``>= 0``.
    mean_latency_s : float or array_like
        Mean time W per request, in seconds, ``> 0``.

    Returns
    -------
    float or numpy.ndarray
        Throughput lambda per second.

    Examples
    --------
    >>> littles_law_rate(1000, 2.0)
    500.0
    """
    c = validate.array_in("concurrency", concurrency)
    w = validate.array_in("mean_latency_s", mean_latency_s, low_open=True)
    return _out(c / w, concurrency, mean_latency_s)


def littles_law_latency(concurrency: ArrayLike, rate_per_s: ArrayLike) -> FloatOrArray:
    """Mean time in the system from Little's law, ``W = L / lambda``.

    Parameters
    ----------
    concurrency : float or array_like
        Mean number L of requests in progress, ``>= 0``.
    rate_per_s : float or array_like
        Throughput lambda per second, ``> 0``.

    Returns
    -------
    float or numpy.ndarray
        Mean latency W in seconds.

    Examples
    --------
    >>> littles_law_latency(25, 100)
    0.25
    """
    c = validate.array_in("concurrency", concurrency)
    lam = validate.array_in("rate_per_s", rate_per_s, low_open=True)
    return _out(c / lam, concurrency, rate_per_s)
