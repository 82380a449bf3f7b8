"""Lesson 8: is the simulator right? Checked against theory, then against the real AWS Lambda.

A simulator earns trust in two ways.

1. **Against theory**, where a closed form exists (:mod:`simlab.core.theory`): the fraction of
   requests throttled under a concurrency limit (Erlang B), the mean number of busy environments
   with no limit (M/G/inf: ``lambda E[S]``), and the cold-start probability under a keep-alive
   of T seconds (``exp(-lambda T)``). Each point is the mean of several seeds with a 95 % confidence
   interval, drawn over the theory curve: :func:`erlang_b_points`, :func:`busy_points`,
   :func:`cold_points`, :func:`theory_figure`. Theory checks the *engine* (queueing logic).
2. **Against measurements** of the real platform (:mod:`simlab.aws.data_sets`: a 128 MB Python
   function called for 28 hours at 0.0035 and 0.050 req/s in 2020). The simulation replays the
   real arrival times under the 2020 era's rules (keep-alive 10 min, 2 h lifetime, 100 ms
   billing), with the measured durations and INIT times (:func:`replay_simulation`), and the
   cold-start fractions and live instances are compared (:func:`comparison_table`,
   :func:`instances_figure`). Measurements check the *model* (the rules we assumed).

Lesson 8b (:mod:`simlab.course.lessons.calibration`) reads the keep-alive off the data
(:func:`idle_gaps`, :func:`keep_alive_figure`) and has the dashboard that replays another one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.special import stdtrit

from simlab.aws.data_sets import AWS_LAMBDA_2020, load_aws_lambda_2020
from simlab.aws.keep_alive_experiment import keep_alive_model
from simlab.aws.simulation import Simulation
from simlab.aws.sources import Poisson, Replay
from simlab.aws.sweep import SerialExecutor, sweep
from simlab.core import plots
from simlab.core.billing import billed_duration_ms
from simlab.core.dists import Empirical, LogNormal
from simlab.core.result import Result
from simlab.core.theory import erlang_b, mgi_mean_busy, p_cold_ttl, p_overlap
from simlab.core.validate import number
from simlab.course.exercises import design, exercise, prediction

__all__ = [
    "LESSON8", "LABELS", "erlang_model", "busy_model", "ttl_model", "erlang_b_points",
    "busy_points", "cold_points", "theory_figure", "init_estimate_s", "replay_simulation",
    "replay_result", "instance_spans", "live_per_bin", "comparison_table", "instances_panel",
    "instances_figure",
    "idle_gaps", "keep_alive_figure", "billing_check", "INTERVAL_GOAL",
]  # fmt: skip

#: The lesson's settings (the notebook prints them).
LESSON8: dict[str, Any] = {
    "seeds": (0, 1, 2, 3, 4, 5, 6, 7),
    "erlang_servers": 5, "erlang_loads": (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0),
    "erlang_duration_s": 1.0, "erlang_until_s": 600.0,
    "busy_rates_per_s": (0.25, 0.5, 1.0, 2.0, 4.0, 8.0), "busy_duration": LogNormal(1.2, 1.0),
    "busy_until_s": 600.0,
    "cold_rate_per_s": 1 / 300, "cold_keep_alive_min": (0, 2, 5, 10, 15, 20),
    "cold_until_s": 540_000.0,
    "era": "2020", "keep_alive_s": 600.0, "max_lifetime_s": 7200.0, "bin_s": 1800.0,
}  # fmt: skip
#: Plot labels of the two measured experiments.
LABELS: dict[str, str] = {"low_rate": "0.0035 req/s", "high_rate": "0.050 req/s"}


def _name(name: Any) -> str:
    if not isinstance(name, str) or name not in AWS_LAMBDA_2020:
        raise ValueError(f"name must be one of {sorted(AWS_LAMBDA_2020)}, got {name!r}")
    return name


# -- 1. theory -------------------------------------------------------------------------------------
def erlang_model(offered_load: float, servers: int, duration_s: float, seed: int) -> Simulation:
    """Erlang's loss system M/G/n/n: a limit of ``servers`` environments, all provisioned (no cold
    start lengthens a service), Poisson requests at ``offered_load / duration_s`` per second,
    exponential run times of mean ``duration_s``."""
    from simlab.core.dists import Exponential

    sim = Simulation(era="today", seed=seed)
    sim.add_function("f", memory_mb=512, reserved_concurrency=servers,
                     provisioned_concurrency=servers, duration_s=Exponential(duration_s),
                     timeout_s=900)
    sim.add_source(Poisson(rate_per_s=offered_load / duration_s), target="f")
    return sim


def busy_model(rate_per_s: float, seed: int) -> Simulation:
    """M/G/inf: Poisson requests, no concurrency limit, skewed (log-normal) run times, no INIT, so
    that busy environments are exactly the requests in progress."""
    return keep_alive_model(None, rate_per_s, seed, function="f", memory_mb=512,
                            duration_s=LESSON8["busy_duration"], init_s=0.0, timeout_s=900)


def ttl_model(keep_alive_s: float, rate_per_s: float, seed: int) -> Simulation:
    """One rarely called function (0.2 s runs) under a fixed keep-alive, with no maximum lifetime,
    the setting of ``exp(-lambda T)``."""
    return keep_alive_model(keep_alive_s, rate_per_s, seed, function="f", memory_mb=512,
                            duration_s=0.2, init_s=None, max_lifetime_s=math.inf)


def _points(build: Any, grid: dict[str, list[Any]], x: str, metric: str, until_s: float,
            seeds: Sequence[int]) -> pd.DataFrame:
    """Run ``build`` over ``grid`` and ``seeds``; mean, 95 % Student-t interval and standard
    error of ``metric`` per value of ``x``."""
    runs = sweep(build, grid, list(seeds), executor=SerialExecutor(), metrics=[metric],
                 until_s=until_s, record="summary", progress=False)
    g = runs.groupby(x, sort=False)[metric]
    mean, n = g.mean().to_numpy(), g.count().to_numpy()
    se = g.std(ddof=1).to_numpy() / np.sqrt(n)
    half = stdtrit(np.maximum(n - 1, 1), 0.975) * se
    return pd.DataFrame({x: np.asarray(g.mean().index, float), "simulated": mean,
                         "ci_low": mean - half, "ci_high": mean + half, "standard_error": se,
                         "runs": n})


def _finish(points: pd.DataFrame, theory: np.ndarray) -> pd.DataFrame:
    """Add ``theory``, ``within_ci`` (theory inside the 95 % interval) and ``agrees``: theory
    inside the 99.9 % interval, or simulated and theory equal (a point with no spread)."""
    points["theory"] = theory
    points["within_ci"] = (points["ci_low"] <= theory) & (theory <= points["ci_high"])
    t = stdtrit(np.maximum(points["runs"].to_numpy() - 1, 1), 0.9995)
    gap = np.abs(points["simulated"].to_numpy() - theory)
    points["agrees"] = (gap <= t * points["standard_error"].to_numpy()) | (gap < 1e-12)
    return points


def erlang_b_points(seeds: Sequence[int] = LESSON8["seeds"]) -> pd.DataFrame:
    """Throttled fraction against offered load: simulated (mean and 95 % interval over
    ``seeds``) and Erlang B, for :data:`LESSON8`'s limit and loads.

    Returns
    -------
    pandas.DataFrame
        ``offered_load``, ``simulated``, ``ci_low``, ``ci_high``, ``standard_error``, ``runs``,
        ``theory``, ``within_ci``, ``agrees`` (see :func:`_finish`).
    """
    n, d = LESSON8["erlang_servers"], LESSON8["erlang_duration_s"]
    pts = _points(erlang_model, {"offered_load": list(LESSON8["erlang_loads"]), "servers": [n],
                                 "duration_s": [d]},
                  "offered_load", "throttle_fraction", LESSON8["erlang_until_s"], seeds)
    return _finish(pts, erlang_b(n, pts["offered_load"].to_numpy()))


def busy_points(seeds: Sequence[int] = LESSON8["seeds"]) -> pd.DataFrame:
    """Mean busy environments against arrival rate: simulated and M/G/inf's ``lambda E[S]``.

    Returns
    -------
    pandas.DataFrame
        ``rate_per_s`` and the columns of :func:`erlang_b_points`.
    """
    pts = _points(busy_model, {"rate_per_s": list(LESSON8["busy_rates_per_s"])}, "rate_per_s",
                  "mean_busy_environments", LESSON8["busy_until_s"], seeds)
    mean_s = LESSON8["busy_duration"].mean()
    return _finish(pts, mgi_mean_busy(pts["rate_per_s"].to_numpy(), mean_s))


def cold_points(seeds: Sequence[int] = LESSON8["seeds"]) -> pd.DataFrame:
    """Cold-start fraction against keep-alive: simulated and ``exp(-lambda T)``.

    Returns
    -------
    pandas.DataFrame
        ``keep_alive_s`` and the columns of :func:`erlang_b_points`.
    """
    rate = LESSON8["cold_rate_per_s"]
    pts = _points(ttl_model, {"keep_alive_s": [m * 60.0 for m in LESSON8["cold_keep_alive_min"]],
                              "rate_per_s": [rate]},
                  "keep_alive_s", "cold_start_fraction", LESSON8["cold_until_s"], seeds)
    return _finish(pts, p_cold_ttl(rate, pts["keep_alive_s"].to_numpy()))


def theory_figure(erlang: pd.DataFrame, busy: pd.DataFrame, cold: pd.DataFrame) -> Figure:
    """Three panels, each simulated points (95 % intervals over seeds) on the theory curve."""
    fig = Figure(figsize=(12.0, 3.9))
    axes = fig.subplots(1, 3)
    fig.subplots_adjust(left=0.06, right=0.985, top=0.84, bottom=0.16, wspace=0.3)
    n = LESSON8["erlang_servers"]
    mean_s = LESSON8["busy_duration"].mean()
    rate = LESSON8["cold_rate_per_s"]
    panels = (
        (erlang, "offered_load", 1.0, lambda x: erlang_b(n, x),
         "offered load a = λ·E[S] (Erlangs)", "fraction of requests throttled",
         f"Erlang B, limit n = {n}"),
        (busy, "rate_per_s", 1.0, lambda x: mgi_mean_busy(x, mean_s),
         "arrival rate λ (req/s)", "mean busy environments",
         f"M/G/∞: λ·E[S], E[S] = {mean_s:.2f} s (log-normal)"),
        (cold, "keep_alive_s", 60.0, lambda x: p_cold_ttl(rate, x * 60.0),
         "keep-alive T (min)", "fraction of requests cold",
         f"exp(−λT), one request per {1 / rate / 60:g} min"),
    )  # fmt: skip
    for ax, (pts, x, scale, curve, xlabel, ylabel, title) in zip(axes, panels, strict=True):
        xs = pts[x].to_numpy(float) / scale
        grid = np.linspace(0.0, xs.max() * 1.05, 200)
        ax.plot(grid, curve(grid), color=plots.COLORS["theory"], lw=1.4, label="theory")
        y = pts["simulated"].to_numpy()
        err = np.vstack([y - pts["ci_low"].to_numpy(), pts["ci_high"].to_numpy() - y])
        ax.errorbar(xs, y, yerr=err, ls="", marker="o", ms=5, capsize=3,
                    color=plots.COLORS["cold"],
                    label=f"simulated ({int(pts['runs'].min())} seeds, 95 % CI)")
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title, xlim=(0, grid[-1]))
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", loc="best")
    fig.suptitle("The simulator against queueing theory", fontsize="medium")
    return fig


# -- 2. the real platform --------------------------------------------------------------------------
def init_estimate_s(df: pd.DataFrame) -> np.ndarray:
    """INIT times (s) read from the cold requests' extra latency.

    A warm request's client waits its ``aws_duration`` plus a network and platform overhead; a
    cold one waits its INIT on top. So INIT ~ (cold request's wait - its duration) - (the median
    of the same difference over warm requests), at least 0.
    """
    extra_ms = df["client_elapsed_time"].to_numpy(float) * 1000 - df["aws_duration"].to_numpy(
        float)
    cold = df["is_cold"].to_numpy(bool)
    if not cold.any() or cold.all():
        raise ValueError("df must have cold and warm requests to estimate INIT")
    return np.maximum(extra_ms[cold] - np.median(extra_ms[~cold]), 0.0) / 1000


def replay_simulation(name: str, *, keep_alive_s: float = 600.0, max_lifetime_s: float = 7200.0,
                      seed: int = 0) -> Simulation:
    """The measured experiment ``name`` (``"low_rate"`` or ``"high_rate"``) replayed in simlab:
    the real arrival times (``offset_s``) under the 2020 era's rules with ``keep_alive_s`` (0 to
    7,200 s) and ``max_lifetime_s`` (> 0, ``math.inf`` for none), one 128 MB function whose run
    times are drawn from the measured ``aws_duration`` and whose INIT from
    :func:`init_estimate_s`."""
    df = load_aws_lambda_2020(_name(name))
    ka = number("keep_alive_s", keep_alive_s, 0.0, 7200.0)
    # max_lifetime_s is checked by the platform's rules (a number > 0, math.inf for none).
    sim = Simulation(era=LESSON8["era"], seed=seed, keep_alive_s=ka, max_lifetime_s=max_lifetime_s)
    sim.add_function("f", memory_mb=128, timeout_s=60,
                     duration_s=Empirical(df["aws_duration"].to_numpy(float) / 1000),
                     init_s=Empirical(init_estimate_s(df)))
    sim.add_source(Replay(df["offset_s"].to_numpy()), target="f")
    return sim


def replay_result(name: str, *, keep_alive_s: float = 600.0, max_lifetime_s: float = 7200.0,
                  seed: int = 0) -> Result:
    """Run :func:`replay_simulation` until a minute after the last real request."""
    sim = replay_simulation(name, keep_alive_s=keep_alive_s, max_lifetime_s=max_lifetime_s,
                            seed=seed)
    last = float(load_aws_lambda_2020(name)["offset_s"].iloc[-1])
    return sim.run(until_s=last + 60.0)


def _as_requests(result: Result) -> pd.DataFrame:
    """A simulated run in the measured data's layout (the columns :func:`idle_gaps` reads)."""
    inv = result.invocations
    return pd.DataFrame({"offset_s": inv["arrival_s"], "client_start_time": inv["arrival_s"],
                         "is_cold": inv["cold"],
                         "start_time": inv["start_s"] * 1000, "end_time": inv["end_s"] * 1000,
                         "inst_id": inv["env_id"]})


def instance_spans(data: pd.DataFrame | Result) -> pd.DataFrame:
    """From the first request's start to the last request's end of each instance (s from the
    first request): what the requests alone reveal of an instance's life. ``data`` is a
    measured experiment or a simulated :class:`Result` (the same estimate for both, so that they
    compare fairly). Columns ``first_s``, ``last_s``, ``requests``."""
    d = _as_requests(data) if isinstance(data, Result) else data
    if not isinstance(d, pd.DataFrame) or "inst_id" not in d:
        raise TypeError(f"data must be a measured experiment or a Result, got {type(data)}")
    t0 = float(d["client_start_time"].min())
    g = pd.DataFrame({"id": d["inst_id"], "a": d["start_time"] / 1000 - t0,
                      "b": d["end_time"] / 1000 - t0})
    out = g.groupby("id", sort=False).agg(first_s=("a", "min"), last_s=("b", "max"),
                                           requests=("a", "size"))
    return out.sort_values("first_s").reset_index(drop=True)


def live_per_bin(first_s: np.ndarray, last_s: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Mean number of intervals [first, last] covering each bin of ``edges`` (time average)."""
    a = np.asarray(first_s, float)[:, None]
    b = np.asarray(last_s, float)[:, None]
    lo, hi = edges[None, :-1], edges[None, 1:]
    overlap = np.clip(np.minimum(b, hi) - np.maximum(a, lo), 0.0, None)
    return overlap.sum(axis=0) / np.diff(edges)


def comparison_table(keep_alive_s: float = 600.0,
                     seeds: Sequence[int] = LESSON8["seeds"]) -> pd.DataFrame:
    """Real against simulated, one row per experiment.

    Columns: ``requests``, ``rate_per_s`` (measured), ``real_cold``, ``sim_cold_mean``,
    ``sim_cold_sd`` (over ``seeds``), ``real_cold_fraction``, ``sim_cold_fraction``,
    ``theory_exp_lambda_T`` (``exp(-lambda T)``), ``p_overlap`` (chance a request arrives while
    the previous one runs), ``real_instances``, ``sim_environments`` (mean), ``sim_recycled``
    (mean environments ended by the 2 h lifetime).
    """
    rows = {}
    for name in AWS_LAMBDA_2020:
        df = load_aws_lambda_2020(name)
        runs = [replay_result(name, keep_alive_s=keep_alive_s, seed=s) for s in seeds]
        cold = np.array([r.invocations["cold"].sum() for r in runs], float)
        rate = (len(df) - 1) / float(df["offset_s"].iloc[-1])
        rows[name] = {
            "requests": len(df), "rate_per_s": rate, "real_cold": int(df["is_cold"].sum()),
            "sim_cold_mean": cold.mean(), "sim_cold_sd": cold.std(ddof=1) if len(cold) > 1
            else math.nan, "real_cold_fraction": float(df["is_cold"].mean()),
            "sim_cold_fraction": cold.mean() / len(df),
            "theory_exp_lambda_T": p_cold_ttl(rate, keep_alive_s),
            "p_overlap": p_overlap(rate, float(df["aws_duration"].mean()) / 1000),
            "real_instances": int(df["inst_id"].nunique()),
            "sim_environments": float(np.mean([len(r.environments) for r in runs])),
            "sim_recycled": float(np.mean([(r.environments["end_reason"] == "max_lifetime").sum()
                                           for r in runs])),
        }  # fmt: skip
    return pd.DataFrame.from_dict(rows, orient="index")


def instances_panel(ax: Any, name: str, result: Result, bin_s: float) -> None:
    """Draw on ``ax`` the live instances of experiment ``name``, real against ``result``."""
    df = load_aws_lambda_2020(name)
    edges = np.append(np.arange(0.0, result.until_s, bin_s), result.until_s)
    hours = edges / 3600
    real, sim = instance_spans(df), instance_spans(result)
    env = result.environments
    ax.stairs(live_per_bin(real["first_s"], real["last_s"], edges), hours,
              color=plots.OKABE_ITO["black"], lw=1.8, label="real (requests seen)")
    ax.stairs(live_per_bin(sim["first_s"], sim["last_s"], edges), hours,
              color=plots.COLORS["cold"], lw=1.4, label="simulated (requests seen)")
    ax.stairs(live_per_bin(env["created_s"], env["ended_s"], edges), hours,
              color=plots.OKABE_ITO["sky_blue"], lw=1.2, ls="--",
              label="simulated (alive, idle included)")
    ax.set(ylabel="instances", xlim=(0, hours[-1]),
           title=f"{LABELS[name]}: {len(real)} real instances, {len(env)} simulated")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)


def instances_figure(keep_alive_s: float = 600.0, *, seed: int = 0,
                     bin_s: float = LESSON8["bin_s"]) -> Figure:
    """Live instances over the 28 hours, real against simulated, one panel per experiment.

    An instance counts as live from its first request's start to its last request's end, for
    the real data and the simulation alike (mean per ``bin_s``); the dashed line is what the
    simulation knows and the data cannot show: environments alive, idle time included.
    """
    bin_s = number("bin_s", bin_s, 60.0, 86400.0)
    fig = Figure(figsize=(9.0, 5.6))
    axes = fig.subplots(2, 1, sharex=True)
    fig.subplots_adjust(left=0.08, right=0.74, top=0.88, bottom=0.09, hspace=0.3)
    for ax, name in zip(axes, AWS_LAMBDA_2020, strict=True):
        instances_panel(ax, name, replay_result(name, keep_alive_s=keep_alive_s, seed=seed),
                         bin_s)
    axes[0].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    axes[1].set_xlabel("time since the first request (h)")
    fig.suptitle(f"Live instances, mean per {bin_s / 60:g} min (simulation: keep-alive "
                 f"{keep_alive_s / 60:g} min)", fontsize="medium")
    return fig


def idle_gaps(df: pd.DataFrame) -> pd.DataFrame:
    """For each request, how long the function had been idle before it.

    Columns: ``offset_s``, ``is_cold``, ``idle_s`` (start of this request minus the latest end
    of any earlier request, measured inside the function; negative when it arrived while another
    was running; NaN for the first), ``instance_idle_s`` (since the previous request of the same
    instance ended; NaN for an instance's first request).
    """
    start = df["start_time"].to_numpy(float) / 1000
    end = df["end_time"].to_numpy(float) / 1000
    latest = np.concatenate([[np.nan], np.maximum.accumulate(end)[:-1]])
    prev_same = df.assign(e=end).groupby("inst_id", sort=False)["e"].shift(1).to_numpy(float)
    return pd.DataFrame({"offset_s": df["offset_s"].to_numpy(), "is_cold": df["is_cold"],
                         "idle_s": start - latest, "instance_idle_s": start - prev_same})


def keep_alive_figure(keep_alive_s: float = 600.0, *, bin_s: float = 60.0) -> Figure:
    """The keep-alive as the data reveal it, real against simulated.

    Left (0.0035 req/s): the fraction of cold requests against how long the function had been
    idle before them (Shilkov's method of measuring keep-alive). Right (0.050 req/s): warm
    requests counted by how long *their instance* had been idle before them: an instance
    reused after more than the keep-alive was kept longer than the keep-alive.
    """
    bin_s = number("bin_s", bin_s, 10.0, 600.0)
    fig = Figure(figsize=(11.0, 3.8))
    left, right = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.07, right=0.98, top=0.86, bottom=0.15, wspace=0.22)
    # Bins of bin_s up to 15 min, then one bin for everything longer (drawn up to 20 min).
    edges = np.concatenate([np.arange(0.0, 900.0, bin_s), [900.0, 1200.0]])
    fine = np.arange(0.0, 1500.0 + bin_s, bin_s)
    styles = (("real", plots.OKABE_ITO["black"], 1.8), ("simulated", plots.COLORS["cold"], 1.2))
    for name, ax in (("low_rate", left), ("high_rate", right)):
        data = (load_aws_lambda_2020(name),
                _as_requests(replay_result(name, keep_alive_s=keep_alive_s)))
        for (label, color, lw), d in zip(styles, data, strict=True):
            gaps = idle_gaps(d)
            if name == "low_rate":
                idle = gaps["idle_s"].to_numpy()
                k = np.minimum(np.digitize(idle, edges) - 1, len(edges) - 2)
                ok = (k >= 0) & np.isfinite(idle)
                n = np.bincount(k[ok], minlength=len(edges) - 1)
                c = np.bincount(k[ok], weights=gaps["is_cold"].to_numpy(float)[ok],
                                minlength=len(edges) - 1)
                with np.errstate(invalid="ignore"):
                    ax.stairs(c / n, edges / 60, color=color, lw=lw, label=label)
            else:
                warm = gaps.loc[~gaps["is_cold"].to_numpy(bool), "instance_idle_s"].dropna()
                counts, _ = np.histogram(warm.to_numpy(), fine)
                ax.stairs(counts, fine / 60, color=color, lw=lw,
                          label=f"{label}: {int((warm > keep_alive_s).sum())} after more than "
                                f"{keep_alive_s / 60:g} min")
    for ax in (left, right):
        ax.axvline(keep_alive_s / 60, color="0.4", ls=":",
                   label=f"simulated keep-alive {keep_alive_s / 60:g} min")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right" if ax is right else "center right", fontsize="small")
    left.set(xlabel="time the function had been idle before the request (min)",
             ylabel="fraction of requests cold", xlim=(0, 20), ylim=(-0.02, 1.05),
             title=f"{LABELS['low_rate']}: when is a request cold? (last bin: 15 min or more)")
    right.set_yscale("log")
    right.set(xlabel="time the instance had been idle before a warm request (min)",
              ylabel="warm requests", xlim=(0, fine[-1] / 60),
              title=f"{LABELS['high_rate']}: how long did an idle instance survive?")
    return fig


def billing_check(df: pd.DataFrame) -> dict[str, float]:
    """Whether Billed Duration is ``aws_duration`` rounded up to 100 ms, request by request.

    Returns ``requests``, ``matches_100ms`` (requests where it is), ``billed_s``, ``used_s``
    (sum of ``aws_duration``) and ``billed_s_at_1ms`` (the same durations billed per 1 ms).
    """
    d = df["aws_duration"].to_numpy(float)
    billed = df["aws_billed_duration"].to_numpy(float)
    return {"requests": len(df),
            "matches_100ms": int((billed_duration_ms(d, 100.0) == billed).sum()),
            "billed_s": float(billed.sum()) / 1000, "used_s": float(d.sum()) / 1000,
            "billed_s_at_1ms": float(billed_duration_ms(d, 1.0).sum()) / 1000}


# -- exercises -------------------------------------------------------------------------------------
def _theory_feedback(answer: float, expected: float) -> str | None:
    real = float(load_aws_lambda_2020("low_rate")["is_cold"].mean())
    if abs(answer - real) < 0.002:
        return "That is the measured fraction; the question asks what exp(-λT) predicts."
    if answer > 1:
        return "A fraction is between 0 and 1."
    return None


@exercise("08-theory-cold-fraction", tolerance=0.002, hints=(
    "Measure λ first: requests per second over the whole experiment (offset_s of the last "
    "request is its length).",
    "P(cold) = exp(-λT) with T = 600 s, the keep-alive of 2020.",
    "Divide the number of gaps between requests by the experiment's length to get λ, then "
    "evaluate exp(-λT) with T = 600 s.",
), why="exp(-λT) predicts about 13 % while 10 % were measured: the real keep-alive was a little "
        "longer than 10 minutes.", feedback=_theory_feedback)
def _theory_cold_fraction() -> float:
    df = load_aws_lambda_2020("low_rate")
    return float(p_cold_ttl((len(df) - 1) / float(df["offset_s"].iloc[-1]), 600.0))


def _saving_outcome() -> tuple[str, str]:
    b = billing_check(load_aws_lambda_2020("high_rate"))
    saving = 100.0 * (1.0 - b["billed_s_at_1ms"] / b["billed_s"])
    key = "a" if saving < 5 else "b" if saving < 20 else "c" if saving < 50 else "d"
    return key, (f"billed per 1 ms, the experiment's total billed duration falls by "
                 f"{saving:.1f} %.")


prediction("08-saving-at-1ms", outcome=_saving_outcome, options={
    "a": "",
    "b": "Rounding up to 100 ms adds 50 ms per request on average; against runs of about "
         "1.9 s that is a few percent.",
    "c": "The loss to rounding is at most 100 ms per request: large only for runs of a few "
         "hundred ms or less, not for runs of about 1.9 s.",
    "d": "Only very short runs (tens of ms) lost most of their bill to 100 ms rounding.",
}, hints=(
    "Rounding up to the next 100 ms adds between 0 and 100 ms to a run: about 50 ms on average.",
    "Compare 50 ms with the experiment's typical duration (printed in section 2).",
), why="Runs of about 1.87 s lose only a few percent to 100 ms rounding; for 30 ms functions the "
       "rounding was most of the bill.")


#: Exercise 08-seeds-for-half-the-interval: the point it is about, the goal and the budget.
INTERVAL_GOAL: dict[str, float] = {"offered_load": 4.0, "half_width": 0.005, "max_seeds": 40}


def _half_width(seeds: int) -> float:
    """Half-width of the 95 % interval of the throttled fraction at the goal's offered load, over
    seeds 0 to ``seeds - 1`` (the same runs as :func:`erlang_b_points`)."""
    n, d = LESSON8["erlang_servers"], LESSON8["erlang_duration_s"]
    pts = _points(erlang_model, {"offered_load": [INTERVAL_GOAL["offered_load"]], "servers": [n],
                                 "duration_s": [d]},
                  "offered_load", "throttle_fraction", LESSON8["erlang_until_s"], range(seeds))
    return float(pts["simulated"].iloc[0] - pts["ci_low"].iloc[0])


def _verify_seeds(answer: Any) -> tuple[bool, str]:
    if (isinstance(answer, bool) or not isinstance(answer, int | float | np.integer)
            or answer != int(answer)):
        raise ValueError(f"a number of seeds is a whole number, got {answer!r}")
    n, goal = int(answer), INTERVAL_GOAL["half_width"]
    if not 2 <= n <= 200:
        raise ValueError(f"the number of seeds must be from 2 to 200 here, got {n}")
    half = _half_width(n)
    met = round(half, 4) <= goal
    report = (f"with {n} seeds the 95 % interval at offered load "
              f"{INTERVAL_GOAL['offered_load']:g} is ±{half:.4f} (goal: ±{goal:.4f} at most)")
    if met and n > INTERVAL_GOAL["max_seeds"]:
        return False, (report + f"; that meets the goal, but spends more than the "
                       f"{INTERVAL_GOAL['max_seeds']:g} runs of the budget")
    if not met and 14 <= n <= 18:
        report += ("; twice the seeds narrow the interval by √2 only: its half-width falls as "
                   "1/√n")
    return met, report


def _fewest_seeds() -> int:
    goal = INTERVAL_GOAL["half_width"]
    return next(n for n in range(8, 201) if round(_half_width(n), 4) <= goal)


design("08-seeds-for-half-the-interval", verify=_verify_seeds, reference=_fewest_seeds,
       unit="seeds", hints=(
           "With 8 seeds the interval at offered load 4 is in the table of section 1 (ci_low to "
           "ci_high): about ±0.010. validation.erlang_b_points(seeds=range(n)) gives it for n "
           "seeds.",
           "The half-width is t·s/√n (s the spread of one run, t about 2): to halve it, n must "
           "grow about fourfold, a little less as t falls with more seeds.",
       ), why="An interval's half-width falls as 1/√n: halving it takes about four times the "
              "runs (a little less here, as Student's t also falls from 2.36 with 8 seeds "
              "towards 2).")
