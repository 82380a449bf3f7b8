"""The keep-alive experiment: its model is the one-function model, its sweep trades cold starts
for idle memory, and idle memory is measured and priced as documented."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import simlab
from simlab.aws.keep_alive_experiment import (
    idle_gb_s_by_architecture,
    idle_memory_cost_usd,
    idle_memory_gb_s,
    keep_alive_model,
    keep_alive_sweep,
)
from simlab.aws.sweep import SerialExecutor, pareto_front, summarise


def test_keep_alive_sweep_trades_cold_starts_for_idle_memory() -> None:
    df = keep_alive_sweep([0, 120, 1200], [0.01], seeds=[1, 2], until_s=7200.0,
                          executor=SerialExecutor(), progress=False)
    s = summarise(df)
    assert s["cold_start_fraction_mean"].is_monotonic_decreasing
    assert s["idle_memory_cost_usd_mean"].is_monotonic_increasing
    assert s.loc[0, "cold_start_fraction_mean"] == 1.0
    assert abs(s.loc[0, "idle_memory_gb_s_mean"]) < 1e-9
    front = pareto_front(s, "idle_memory_cost_usd_mean", "cold_start_fraction_mean")
    assert front["keep_alive_s"].tolist() == [0, 120, 1200]


def test_idle_memory_is_priced_at_the_duration_price() -> None:
    result = keep_alive_model(600, 0.05, seed=1, memory_mb=1024).run(3600.0, record="summary")
    from simlab.core.prices import price_sheet_for

    idle = float(result.summary()["mean_idle_environments"])
    assert idle_memory_gb_s(result) == pytest.approx(idle * 1.0 * 3600.0)
    price = price_sheet_for(result.rules.date).arch("x86_64").first_tier_price
    assert idle_memory_cost_usd(result) == pytest.approx(idle * 3600.0 * price)


def test_keep_alive_model_is_the_one_function_model_built_by_hand() -> None:
    built = keep_alive_model(120.0, 0.05, 3, function="f", memory_mb=1024, duration_s=0.3,
                             init_s=None, max_lifetime_s=math.inf, era="2020")
    by_hand = simlab.Simulation(era="2020", seed=3, keep_alive_s=120.0, max_lifetime_s=math.inf)
    by_hand.add_function("f", memory_mb=1024, duration_s=0.3)
    by_hand.add_source(simlab.sources.Poisson(rate_per_s=0.05), target="f")
    assert built.rules == by_hand.rules and built.functions == by_hand.functions
    a, b = built.run(until_s=7200).invocations, by_hand.run(until_s=7200).invocations
    assert len(a) > 200 and a["cold"].any() and (~a["cold"]).any()
    pd.testing.assert_frame_equal(a, b)
    era_default = keep_alive_model(None, 1.0, 0, init_s=0.0, timeout_s=900)
    assert era_default.rules == simlab.era_rules("today")
    assert era_default.functions["fn"].timeout_s == 900


def test_idle_gb_s_pooled_equals_the_sum_over_functions() -> None:
    sim = simlab.Simulation(seed=2, keep_alive_s=300)
    for name in ("a", "b", "c"):
        sim.add_function(name, memory_mb=512, duration_s=0.2)
        sim.add_source(simlab.sources.Poisson(rate_per_s=0.02), target=name, name=f"p-{name}")
    result = sim.run(until_s=3600)
    by_function = sum(float(result.summary(n)["mean_idle_environments"]) * 0.5 * 3600
                      for n in ("a", "b", "c"))
    assert by_function > 100
    assert idle_memory_gb_s(result) == pytest.approx(by_function, rel=1e-12)
    assert idle_gb_s_by_architecture(result).keys() == {"x86_64"}


def test_doctests() -> None:
    import doctest

    from simlab.aws import keep_alive_experiment

    assert doctest.testmod(keep_alive_experiment).failed == 0
