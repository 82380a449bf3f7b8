"""Property tests: invariants of every run, over hundreds of random small configurations.

Each example is a tiny platform (one to three functions, a handful of requests on a coarse time
grid so that ties happen, small limits so that throttling, scaling limits, timeouts, out-of-memory
kills, host packing and keep-alive expiry all occur) run for ten simulated seconds. The records of
the run are then checked against what must always hold:

* every request gets exactly one row with exactly one status;
* concurrency (reconstructed from the invocation intervals) never exceeds the account limit, a
  function's reserved concurrency, or what reservations leave to the other functions; cold starts
  never outpace the scaling rule's token bucket;
* no environment serves two requests at once;
* host memory (reconstructed from the environments) is never exceeded;
* a request is cold exactly when it waited for an INIT: it is the first request of a
  non-provisioned environment, unless that environment replaced one recycled at its maximum
  lifetime under the ``recycle_prewarm`` rule and was ready when the request came (one that was
  still initialising makes the request wait for the rest of its INIT);
* the same seed gives identical tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simlab
from simlab.aws.sources.arrivals import Replay
from simlab.core.dists import Constant, Exponential, Uniform
from simlab.core.keepalive import DemandKeepAlive
from simlab.core.scaling import AccountBurstScaling, PerFunctionScaling
from simlab.core.schema import STATUSES

UNTIL = 10.0
MEMORIES = [128, 192, 256, 512, 1024]  # valid in every era


@dataclass
class Case:
    era: str
    rules: dict[str, Any]
    functions: dict[str, dict[str, Any]]
    times: dict[str, list[float]] = field(default_factory=dict)

    def simulation(self, seed: int = 5) -> simlab.Simulation:
        sim = simlab.Simulation(era=self.era, seed=seed, **self.rules)
        for name, cfg in self.functions.items():
            sim.add_function(name, **cfg)
        for name, ts in self.times.items():
            sim.add_source(Replay(ts), target=name, name=f"to-{name}")
        return sim


@st.composite
def cases(draw: st.DrawFn) -> Case:
    era = draw(st.sampled_from(["today", "2020", "2018"]))
    # provisioned concurrency launched in Dec 2019: the 2018 era rejects it
    max_provisioned = 0 if era == "2018" else 2
    # With zero INIT, a replacement initialised at a recycled environment's end and an environment
    # created on demand at that instant look the same in the tables (the first request is warm in
    # one, cold in the other): the rule is drawn only with INITs that take time.
    prewarm = draw(st.booleans())
    inits = [Constant(0.25), Exponential(0.3)] + ([] if prewarm else [Constant(0.0)])
    n = draw(st.integers(1, 3))
    functions: dict[str, dict[str, Any]] = {}
    times: dict[str, list[float]] = {}
    reserved_total = 0
    for i in range(n):
        name = f"f{i}"
        memory = draw(st.sampled_from(MEMORIES))
        reserved = draw(st.one_of(st.none(), st.integers(0, 3)))
        provisioned = draw(st.integers(0, max_provisioned if reserved is None
                                       else min(reserved, max_provisioned)))
        reserved_total += reserved if reserved is not None else provisioned
        functions[name] = {
            "memory_mb": memory,
            "timeout_s": draw(st.integers(1, 3)),
            "init_s": draw(st.sampled_from(inits)),
            "duration_s": draw(st.sampled_from([Constant(0.25), Constant(1.0), Constant(2.0),
                                                Constant(4.0), Exponential(1.0)])),
            "memory_used_mb": draw(st.sampled_from([Constant(50.0),
                                                    Uniform(0.0, 1.5 * memory)])),
            "error_rate": draw(st.sampled_from([0.0, 0.3])),
            "reserved_concurrency": reserved,
            "provisioned_concurrency": provisioned,
        }
        grid = st.integers(0, int(UNTIL * 4) + 4).map(lambda k: k / 4)  # some beyond the end
        times[name] = draw(st.lists(grid, max_size=15))
    scaling = draw(st.one_of(
        st.builds(PerFunctionScaling, step=st.integers(1, 5),
                  period_s=st.sampled_from([1.0, 2.5, 5.0])),
        st.builds(AccountBurstScaling, burst=st.integers(1, 6),
                  per_minute=st.sampled_from([30, 120, 600])),
    ))
    rules = {
        "account_concurrency": reserved_total + draw(st.integers(1, 4)),
        "unreserved_minimum": 0,
        "keep_alive_s": draw(st.sampled_from([
            None, 0.5, 2.0, 10.0, math.inf,
            DemandKeepAlive(base_s=0.5, per_request_s=0.5, window_s=3.0, max_s=4.0)])),
        "max_lifetime_s": draw(st.sampled_from([math.inf, 3.0, 8.0])),
        "recycle_prewarm": prewarm,
        "host_memory_mb": draw(st.sampled_from([1024, 2048])),
        "host_provision_delay_s": draw(st.sampled_from([0.0, 0.5])),
        "scaling": scaling,
    }
    return Case(era, rules, functions, times)


def max_overlap(start: np.ndarray, end: np.ndarray) -> int:
    """Most intervals [start, end) open at once (ends before starts at equal times)."""
    if len(start) == 0:
        return 0
    t = np.concatenate([start, end])
    step = np.concatenate([np.ones(len(start), int), -np.ones(len(end), int)])
    order = np.lexsort((step, t))
    return int(np.cumsum(step[order]).max())


def check_statuses(case: Case, inv: pd.DataFrame) -> None:
    expected = sum(sum(1 for t in ts if t < UNTIL) for ts in case.times.values())
    assert len(inv) == expected
    assert inv["invocation_id"].tolist() == list(range(expected))
    assert inv["status"].notna().all()
    assert set(inv["status"].astype(str)) <= set(STATUSES) - {"dropped"}
    for name, ts in case.times.items():
        got = inv.loc[inv["function"] == name, "arrival_s"].to_numpy()
        np.testing.assert_array_equal(got, sorted(t for t in ts if t < UNTIL))
    ran = inv["status"] != "throttled"
    assert (inv.loc[ran, "env_id"] >= 0).all() and (inv.loc[~ran, "env_id"] == -1).all()
    assert (inv.loc[~ran, "latency_ms"] == 0).all()
    timeout_ms = np.array([case.functions[f]["timeout_s"] * 1000.0
                           for f in inv["function"].astype(str)])
    duration = inv["duration_ms"].to_numpy()
    timed_out = (inv["status"] == "timeout").to_numpy()
    assert np.all(duration <= timeout_ms)
    assert np.array_equal(duration[timed_out], timeout_ms[timed_out])
    used, memory = inv["max_memory_used_mb"].to_numpy(), inv["memory_mb"].to_numpy()
    assert np.all(used <= memory)
    oom = (inv["status"] == "oom").to_numpy()
    assert np.array_equal(used[oom], memory[oom])


def check_concurrency(case: Case, inv: pd.DataFrame, result: simlab.Result) -> None:
    ran = inv[inv["status"] != "throttled"]
    busy_from = (ran["start_s"] - ran["init_ms"] / 1000.0).to_numpy()
    # synchronous requests start (INIT or handler) the moment they arrive
    np.testing.assert_allclose(busy_from, ran["arrival_s"], atol=1e-9)
    start, end = ran["arrival_s"].to_numpy(), ran["end_s"].to_numpy()
    account = case.rules["account_concurrency"]
    assert max_overlap(start, end) <= account
    assert result.max_concurrency <= account
    fn = ran["function"].astype(str).to_numpy()
    reserved = {k: v["reserved_concurrency"] for k, v in case.functions.items()}
    unreserved = np.array([reserved[f] is None for f in fn], dtype=bool)
    pool = account - sum(r for r in reserved.values() if r is not None)
    assert max_overlap(start[unreserved], end[unreserved]) <= pool
    for name, limit in reserved.items():
        if limit is not None:
            mine = fn == name
            assert max_overlap(start[mine], end[mine]) <= limit


def check_scaling(case: Case, inv: pd.DataFrame) -> None:
    rule = case.rules["scaling"]
    cold = inv[(inv["status"] != "throttled") & inv["cold"]]
    if isinstance(rule, PerFunctionScaling):
        groups = [g["arrival_s"].to_numpy() for _, g in cold.groupby("function", observed=True)]
        capacity, rate = rule.step, rule.step / rule.period_s
    else:
        groups = [cold["arrival_s"].to_numpy()]
        capacity, rate = rule.burst, rule.per_minute / 60.0
    for t in groups:
        t = np.sort(t)
        i, j = np.triu_indices(len(t))
        # at most capacity + rate * (t_j - t_i) new environments in any window [t_i, t_j]
        assert np.all(j - i + 1 <= capacity + rate * (t[j] - t[i]) + 1e-9)


def check_environments(case: Case, inv: pd.DataFrame, envs: pd.DataFrame) -> None:
    ran = inv[inv["status"] != "throttled"]
    # no environment serves two requests at once
    for _, g in ran.groupby("env_id"):
        g = g.sort_values("arrival_s", kind="stable")
        assert np.all(g["arrival_s"].to_numpy()[1:] >= g["end_s"].to_numpy()[:-1])
    # every request ran inside the life of its environment, on its host
    e = envs.set_index("env_id").loc[ran["env_id"]]
    assert np.all(ran["arrival_s"].to_numpy() >= e["created_s"].to_numpy())
    assert np.all(ran["end_s"].to_numpy() <= e["ended_s"].to_numpy())
    assert np.array_equal(ran["host_id"].to_numpy(), e["host_id"].to_numpy())
    assert np.array_equal(ran["provisioned"].to_numpy(), e["provisioned"].to_numpy())
    counts = ran.groupby("env_id").size().reindex(envs["env_id"], fill_value=0)
    assert np.array_equal(counts.to_numpy(), envs["invocations"].to_numpy())
    # host memory is never exceeded
    host_memory = case.rules["host_memory_mb"]
    for _, g in envs.groupby("host_id"):
        t = np.concatenate([g["created_s"], g["ended_s"]])
        delta = np.concatenate([g["memory_mb"], -g["memory_mb"]])
        order = np.lexsort((delta, t))
        assert np.cumsum(delta[order]).max() <= host_memory
    # killed environments ended with the request that killed them
    killed = envs[envs["end_reason"].isin(["timeout", "oom"])]
    for _, env in killed.iterrows():
        last = ran[ran["env_id"] == env["env_id"]].iloc[-1]
        assert last["status"] == env["end_reason"] and last["end_s"] == env["ended_s"]


def prewarmed(case: Case, envs: pd.DataFrame) -> pd.Index:
    """The environments that replaced one recycled at its maximum lifetime (``recycle_prewarm``):
    each starts, on its own, the moment a recycled one of its function ends."""
    e = envs[~envs["provisioned"]]
    recycled = e[e["end_reason"] == "max_lifetime"]
    if not case.rules["recycle_prewarm"] or not len(recycled):
        return pd.Index([], name="env_id")
    ends = set(zip(recycled["function"].astype(str), recycled["ended_s"], strict=True))
    mine = [(f, t) in ends for f, t in zip(e["function"].astype(str), e["created_s"],
                                            strict=True)]
    return pd.Index(e.loc[mine, "env_id"], name="env_id")


def check_cold(case: Case, inv: pd.DataFrame, envs: pd.DataFrame) -> None:
    ran = inv[inv["status"] != "throttled"].sort_values("invocation_id")
    first = (~ran.duplicated("env_id")).to_numpy()
    provisioned = ran["provisioned"].to_numpy()
    env = envs.set_index("env_id").loc[ran["env_id"]]
    ahead = ran["env_id"].isin(prewarmed(case, envs)).to_numpy()
    arrival, ready = ran["arrival_s"].to_numpy(), env["ready_s"].to_numpy()
    expected_cold = first & ~provisioned & (~ahead | (arrival < ready))
    assert np.array_equal(ran["cold"].to_numpy(), expected_cold)
    assert (ran.loc[~ran["cold"], "init_ms"] == 0).all()
    positive_init = {k for k, v in case.functions.items() if v["init_s"] != Constant(0.0)}
    sel = ran["function"].astype(str).isin(positive_init).to_numpy() & ~ahead
    assert np.array_equal(ran["cold"].to_numpy()[sel], (ran["init_ms"] > 0).to_numpy()[sel])
    # a cold request waits for its environment's INIT: all of it (the environment was created
    # for it), or what is left of it (a replacement initialised ahead)
    cold = ran["cold"].to_numpy()
    waited_ms = np.where(ahead, (ready - arrival) * 1000, env["init_s"].to_numpy() * 1000)
    np.testing.assert_allclose(ran["init_ms"].to_numpy()[cold], waited_ms[cold], atol=1e-6)
    own = cold & ~ahead
    np.testing.assert_allclose(arrival[own], env["created_s"].to_numpy()[own])


@pytest.mark.slow  # 200 runs, about 30 s; --quick relies on the scenario property test
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_invariants_of_every_run(case: Case) -> None:
    result = case.simulation().run(until_s=UNTIL)
    inv, envs = result.invocations, result.environments
    check_statuses(case, inv)
    check_concurrency(case, inv, result)
    check_scaling(case, inv)
    check_environments(case, inv, envs)
    check_cold(case, inv, envs)
    # the same seed gives identical tables
    again = case.simulation().run(until_s=UNTIL)
    pd.testing.assert_frame_equal(inv, again.invocations)
    pd.testing.assert_frame_equal(envs, again.environments)
    pd.testing.assert_frame_equal(result.hosts, again.hosts)
    pd.testing.assert_series_equal(result.summary(), again.summary())
