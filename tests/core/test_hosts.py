"""Tests of hosts: first-fit placement, new hosts when none fits, memory accounting."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import simlab
from simlab.aws.sources import Poisson, Replay
from simlab.core.dists import Exponential, Uniform
from simlab.core.hosts import Host, HostPool
from simlab.core.schema import HOSTS

# --------------------------------------------------------------------------------------------------
# the pool on its own
# --------------------------------------------------------------------------------------------------


def test_first_fit_fills_the_oldest_host_with_room() -> None:
    pool = HostPool(1024)
    h0, new0 = pool.place(512, 0.0)
    h0b, new0b = pool.place(512, 1.0)
    h1, new1 = pool.place(512, 2.0)
    assert (h0.host_id, new0, h0b.host_id, new0b, h1.host_id, new1) == (0, True, 0, False, 1,
                                                                        True)
    h0.change(-512, 3.0)  # one environment on host 0 ends
    h, new = pool.place(256, 4.0)
    assert (h.host_id, new) == (0, False)  # first fit, not the emptiest or the newest
    h, new = pool.place(512, 5.0)
    assert (h.host_id, new) == (1, False)
    h, new = pool.place(1024, 6.0)
    assert (h.host_id, new) == (2, True)
    assert [x.used_mb for x in pool.hosts] == [768, 1024, 1024]
    assert [x.environments for x in pool.hosts] == [3, 2, 1]


def test_host_memory_integral_and_peak() -> None:
    h = Host(0, 1000, created_s=2.0)
    h.change(300, 2.0)
    h.change(200, 4.0)   # 300 MB for 2 s
    h.change(-300, 5.0)  # 500 MB for 1 s
    assert h.used_mb_s == pytest.approx(300 * 2 + 500 * 1)
    assert (h.used_mb, h.peak_used_mb) == (200, 500)


def test_pool_columns_close_the_integral_at_the_end() -> None:
    pool = HostPool(1000)
    h, _ = pool.place(400, 1.0)
    h.change(-400, 3.0)
    pool.place(100, 5.0)
    cols = pool.columns(until_s=10.0)
    assert set(cols) == set(HOSTS)
    assert cols["used_mb_s"] == [pytest.approx(400 * 2 + 100 * 5)]
    assert cols["created_s"] == [1.0] and cols["environments"] == [2]
    assert cols["peak_used_mb"] == [400] and cols["memory_mb"] == [1000]


# --------------------------------------------------------------------------------------------------
# in a simulation
# --------------------------------------------------------------------------------------------------


def simulate(functions: dict[str, dict[str, Any]], times: dict[str, list[float]],
             until_s: float = 100.0, **rules: Any) -> simlab.Result:
    sim = simlab.Simulation(seed=3, **rules)
    for name, cfg in functions.items():
        sim.add_function(name, **{"init_s": 0.5, "duration_s": 10.0, "timeout_s": 60, **cfg})
    for name, ts in times.items():
        sim.add_source(Replay(ts), target=name, name=f"to-{name}")
    return sim.run(until_s=until_s)


def test_new_hosts_are_added_when_none_fits() -> None:
    r = simulate({"f": {"memory_mb": 512}}, {"f": [0.0] * 5}, host_memory_mb=1024)
    assert r.environments["host_id"].tolist() == [0, 0, 1, 1, 2]
    hosts = r.hosts
    assert hosts["host_id"].tolist() == [0, 1, 2]
    assert hosts["peak_used_mb"].tolist() == [1024, 1024, 512]
    assert hosts["environments"].tolist() == [2, 2, 1]
    assert (hosts["memory_mb"] == 1024).all()
    assert r.summary()["hosts"] == 3
    inv = r.invocations.set_index("env_id")
    envs = r.environments.set_index("env_id")
    assert (inv["host_id"] == envs.loc[inv.index, "host_id"]).all()


def test_first_fit_with_mixed_sizes() -> None:
    # 768 MB on host 0, 768 MB on a new host 1, then 256 MB fits in host 0's gap
    r = simulate({"big": {"memory_mb": 768}, "small": {"memory_mb": 256}},
                 {"big": [0.0, 1.0], "small": [2.0, 3.0]}, host_memory_mb=1024)
    envs = r.environments.set_index("env_id")
    assert envs["host_id"].tolist() == [0, 1, 0, 1]
    assert envs["function"].astype(str).tolist() == ["big", "big", "small", "small"]


def test_freed_memory_is_reused_by_later_environments() -> None:
    r = simulate({"f": {"memory_mb": 1024}}, {"f": [0.0, 30.0]}, host_memory_mb=1024,
                 keep_alive_s=5)
    envs = r.environments
    assert envs["host_id"].tolist() == [0, 0]
    assert envs["end_reason"].tolist()[0] == "idle_timeout"
    assert len(r.hosts) == 1


def test_host_provision_delay_adds_to_cold_starts_on_new_hosts_only() -> None:
    r = simulate({"f": {"memory_mb": 512}}, {"f": [0.0, 0.0, 0.0]}, host_memory_mb=1024,
                 host_provision_delay_s=2.0)
    inv = r.invocations
    assert inv["host_id"].tolist() == [0, 0, 1]
    assert inv["init_ms"].tolist() == [2500.0, 500.0, 2500.0]
    assert inv["start_s"].tolist() == [2.5, 0.5, 2.5]
    envs = r.environments
    assert envs["init_s"].tolist() == [2.5, 0.5, 2.5]
    assert (envs["ready_s"] - envs["created_s"]).tolist() == [2.5, 0.5, 2.5]


def test_provisioned_environments_are_placed_on_hosts_too() -> None:
    r = simulate({"f": {"memory_mb": 512, "provisioned_concurrency": 3}}, {"f": []},
                 host_memory_mb=1024)
    envs = r.environments
    assert envs["provisioned"].all() and envs["host_id"].tolist() == [0, 0, 1]
    assert r.hosts["peak_used_mb"].tolist() == [1024, 512]


def memory_in_use(envs: pd.DataFrame, host_memory: int) -> None:
    """Assert that on every host the environments alive at once never exceed its memory."""
    for _, group in envs.groupby("host_id"):
        times = np.concatenate([group["created_s"], group["ended_s"]])
        delta = np.concatenate([group["memory_mb"], -group["memory_mb"]])
        order = np.lexsort((delta, times))  # releases before placements at equal times
        assert np.cumsum(delta[order]).max() <= host_memory


def test_host_memory_is_never_exceeded_under_load() -> None:
    sim = simlab.Simulation(seed=11, host_memory_mb=2048, keep_alive_s=20)
    for name, mem in (("a", 1024), ("b", 384), ("c", 128)):
        sim.add_function(name, memory_mb=mem, init_s=Uniform(0.1, 1.0),
                         duration_s=Exponential(2.0), timeout_s=30)
        sim.add_source(Poisson(rate_per_s=3.0), target=name, name=f"to-{name}")
    r = sim.run(until_s=300)
    assert len(r.hosts) > 5
    memory_in_use(r.environments, 2048)
    assert (r.hosts["peak_used_mb"] <= 2048).all()
    # every environment was placed on exactly one host
    assert r.hosts["environments"].sum() == len(r.environments)


def test_used_memory_integral_matches_the_environments() -> None:
    sim = simlab.Simulation(seed=2, host_memory_mb=1024, keep_alive_s=10)
    sim.add_function("f", memory_mb=256, init_s=0.2, duration_s=Exponential(1.0), timeout_s=30)
    sim.add_source(Poisson(rate_per_s=2.0), target="f")
    r = sim.run(until_s=200)
    envs = r.environments
    T = r.until_s
    alive = (np.minimum(envs["ended_s"], T) - np.maximum(envs["created_s"], 0)).clip(lower=0)
    expected = (alive * envs["memory_mb"]).groupby(envs["host_id"]).sum()
    np.testing.assert_allclose(r.hosts.set_index("host_id")["used_mb_s"],
                               expected.sort_index(), rtol=1e-9)


def test_used_memory_integral_stops_at_the_end_of_the_run() -> None:
    # one environment of 1024 MB from 0 to a timeout at 30 s; the run ends at 10 s
    r = simulate({"f": {"memory_mb": 1024, "init_s": 0.0, "duration_s": 40.0, "timeout_s": 30}},
                 {"f": [0.0]}, until_s=10.0, host_memory_mb=1024)
    assert r.environments["ended_s"].item() == 30.0
    assert r.hosts["used_mb_s"].item() == pytest.approx(1024 * 10.0)
