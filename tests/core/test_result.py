"""Tests of simlab.core.result: the tables' columns, summary() as a function of the records, and the
concurrency step function."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import simlab
from simlab.aws.simulation import DEFAULT_EPOCH
from simlab.aws.sources.arrivals import Poisson, Replay
from simlab.core.config import ERAS
from simlab.core.dists import Exponential
from simlab.core.result import Result
from simlab.core.schema import ENVIRONMENTS, FUNCTIONS, HOSTS, INVOCATIONS, STATUSES

SUMMARY_FIELDS = [
    "requests", "invocations", "cold_start_fraction", "throttle_fraction", "dropped_fraction",
    "error_fraction", "timeout_fraction", "oom_fraction", "mean_environments",
    "mean_busy_environments", "mean_idle_environments", "environments_created",
    "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "warm_latency_p50_ms",
    "warm_latency_p95_ms", "warm_latency_p99_ms", "cold_latency_p50_ms", "cold_latency_p95_ms",
    "cold_latency_p99_ms", "max_concurrency", "hosts",
]


# --------------------------------------------------------------------------------------------------
# summary() on hand-made records
# --------------------------------------------------------------------------------------------------


def hand_made() -> Result:
    """Eight requests to f and g over 100 s (see the table), three environments on two hosts."""
    rows = [
        # function, status, cold, arrival, start, end, init_ms
        ("f", "ok", True, 0.0, 1.0, 3.0, 1000.0),
        ("f", "ok", False, 10.0, 10.0, 12.0, 0.0),
        ("f", "error", False, 20.0, 20.0, 21.0, 0.0),
        ("f", "throttled", False, 20.5, 20.5, 20.5, 0.0),
        ("g", "timeout", True, 50.0, 50.5, 53.5, 500.0),
        ("g", "oom", True, 60.0, 60.5, 61.0, 500.0),
        ("g", "dropped", False, 70.0, 70.0, 70.0, 0.0),
        ("f", "ok", False, 98.0, 98.0, 104.0, 0.0),  # still running at the end: drained
    ]
    fn, status, cold, arrival, start, end, init = (list(c) for c in zip(*rows, strict=True))
    inv = pd.DataFrame({
        "invocation_id": np.arange(len(rows)),
        "function": pd.Categorical(fn, categories=["f", "g"]),
        "arrival_s": arrival, "start_s": start, "end_s": end, "init_ms": init,
        "duration_ms": (np.array(end) - np.array(start)) * 1000,
        "latency_ms": (np.array(end) - np.array(arrival)) * 1000,
        "cold": cold,
        "status": pd.Categorical(status, categories=list(STATUSES)),
    })
    envs = pd.DataFrame({
        "env_id": [0, 1, 2],
        "function": pd.Categorical(["f", "g", "g"], categories=["f", "g"]),
        "host_id": [0, 0, 1],
        "created_s": [0.0, 50.0, 60.0],
        "ended_s": [104.0, 53.5, 61.0],
    })
    hosts = pd.DataFrame({"host_id": [0, 1]})
    functions = pd.DataFrame({"function": ["f", "g"]})
    return Result(invocations=inv, environments=envs, hosts=hosts, functions=functions,
                  rules=ERAS["today"], seed=0, until_s=100.0, epoch=DEFAULT_EPOCH,
                  max_concurrency=1)


def test_summary_of_the_whole_run() -> None:
    s = hand_made().summary()
    assert list(s.index) == SUMMARY_FIELDS and s.name == "all"
    assert (s["requests"], s["invocations"]) == (8, 6)
    assert s["cold_start_fraction"] == pytest.approx(3 / 6)
    assert s["throttle_fraction"] == pytest.approx(1 / 8)
    assert s["dropped_fraction"] == pytest.approx(1 / 8)
    assert s["error_fraction"] == s["timeout_fraction"] == s["oom_fraction"] == pytest.approx(1 / 6)
    # environments alive: 100 s (clipped at the end) + 3.5 s + 1 s, over 100 s
    assert s["mean_environments"] == pytest.approx(1.045)
    # busy (INIT included): 3 + 2 + 1 + 3.5 + 1 + 2 (clipped at the end) = 12.5 s
    assert s["mean_busy_environments"] == pytest.approx(0.125)
    assert s["mean_idle_environments"] == pytest.approx(0.92)
    assert s["environments_created"] == 3
    lat = [3000, 2000, 1000, 3500, 1000, 6000]
    assert s["latency_p50_ms"] == pytest.approx(np.percentile(lat, 50))
    assert s["latency_p99_ms"] == pytest.approx(np.percentile(lat, 99))
    assert s["warm_latency_p50_ms"] == pytest.approx(2000)
    assert s["warm_latency_p95_ms"] == pytest.approx(np.percentile([2000, 1000, 6000], 95))
    assert s["cold_latency_p50_ms"] == pytest.approx(3000)
    assert s["max_concurrency"] == 1 and s["hosts"] == 2


def test_summary_of_one_function() -> None:
    s = hand_made().summary("g")
    assert s.name == "g"
    assert (s["requests"], s["invocations"]) == (3, 2)
    assert s["cold_start_fraction"] == 1.0 and s["throttle_fraction"] == 0.0
    assert s["dropped_fraction"] == pytest.approx(1 / 3)
    assert (s["timeout_fraction"], s["oom_fraction"], s["error_fraction"]) == (0.5, 0.5, 0.0)
    assert s["mean_environments"] == pytest.approx(4.5 / 100)
    assert s["mean_busy_environments"] == pytest.approx(4.5 / 100)
    assert s["environments_created"] == 2
    assert s["latency_p50_ms"] == pytest.approx(2250)
    assert math.isnan(s["warm_latency_p50_ms"])
    assert s["max_concurrency"] == 1 and s["hosts"] == 2
    f = hand_made().summary("f")
    assert (f["requests"], f["invocations"], f["hosts"]) == (5, 4, 1)
    assert f["cold_start_fraction"] == pytest.approx(1 / 4)


def test_summary_of_an_unknown_function() -> None:
    with pytest.raises(ValueError, match=r"no function named 'h'; functions: \['f', 'g'\]"):
        hand_made().summary("h")


def test_concurrency_step_function() -> None:
    c = hand_made().concurrency()
    assert list(c.columns) == ["time_s", "concurrency"]
    assert c["time_s"].is_monotonic_increasing
    assert c["concurrency"].max() == 1 and c["concurrency"].iloc[-1] == 0
    assert c["time_s"].iloc[0] == 0.0 and c["time_s"].iloc[-1] == 104.0
    assert len(c) == 2 * 6  # a start and an end per request that ran


def test_concurrency_counts_ends_before_starts_at_equal_times() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f", init_s=0.0, duration_s=1.0)
    sim.add_source(Replay([0.0, 1.0, 2.0]), target="f")
    r = sim.run(until_s=10)
    assert r.concurrency()["concurrency"].max() == 1
    assert r.summary()["max_concurrency"] == 1


# --------------------------------------------------------------------------------------------------
# tables of a real run
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def busy_run() -> Result:
    sim = simlab.Simulation(seed=3, keep_alive_s=30, account_concurrency=20, unreserved_minimum=0)
    sim.add_function("a", memory_mb=512, init_s=0.3, duration_s=Exponential(2.0), timeout_s=6,
                     error_rate=0.1, memory_used_mb=Exponential(200.0))
    sim.add_function("b", memory_mb=1024, init_s=0.5, cpu_s=0.5, io_s=0.2,
                     reserved_concurrency=3, provisioned_concurrency=1)
    sim.add_source(Poisson(rate_per_s=5.0), target="a")
    sim.add_source(Poisson(rate_per_s=2.0), target="b", name="b-users")
    return sim.run(until_s=300)


def test_tables_have_the_schema_columns(busy_run: Result) -> None:
    columns = list(busy_run.invocations.columns)
    assert columns == list(INVOCATIONS)  # billed_ms and cost_usd, priced by the era's rules, last
    assert columns[-2:] == ["billed_ms", "cost_usd"]
    assert list(busy_run.environments.columns) == list(ENVIRONMENTS)
    assert list(busy_run.hosts.columns) == list(HOSTS)
    assert list(busy_run.functions.columns) == list(FUNCTIONS)


def test_invocation_columns(busy_run: Result) -> None:
    inv = busy_run.invocations
    assert inv["invocation_id"].tolist() == list(range(len(inv)))
    assert inv["arrival_s"].is_monotonic_increasing
    assert list(inv["status"].cat.categories) == list(STATUSES)
    assert set(inv["status"]) >= {"ok", "error", "timeout", "oom", "throttled"}
    np.testing.assert_allclose(inv["latency_ms"], (inv["end_s"] - inv["arrival_s"]) * 1000)
    assert inv["cold"].dtype == bool and inv["provisioned"].dtype == bool
    assert (inv.loc[inv["function"] == "a", "memory_mb"] == 512).all()
    assert set(inv["architecture"].astype(str)) == {"x86_64"}
    assert set(inv["source"].astype(str)) == {"poisson", "b-users"}
    assert set(inv["invocation_type"].astype(str)) == {"sync"}
    assert (inv["attempt"] == 1).all()
    assert (inv["max_memory_used_mb"] <= inv["memory_mb"]).all()


def test_function_table(busy_run: Result) -> None:
    f = busy_run.functions.set_index("function")
    assert f.loc["a", "memory_mb"] == 512 and f.loc["a", "timeout_s"] == 6.0
    assert math.isnan(f.loc["a", "reserved_concurrency"])
    assert f.loc["b", "reserved_concurrency"] == 3 and f.loc["b", "provisioned_concurrency"] == 1


def test_summary_agrees_with_the_tables(busy_run: Result) -> None:
    inv = busy_run.invocations
    s = busy_run.summary()
    ran = ~inv["status"].isin(["throttled", "dropped"])
    assert s["requests"] == len(inv) and s["invocations"] == ran.sum()
    assert s["cold_start_fraction"] == pytest.approx(inv.loc[ran, "cold"].mean())
    assert s["throttle_fraction"] == pytest.approx((inv["status"] == "throttled").mean())
    assert s["environments_created"] == len(busy_run.environments)
    assert s["hosts"] == len(busy_run.hosts)
    assert s["max_concurrency"] <= 20
    assert s["max_concurrency"] >= busy_run.concurrency()["concurrency"].max()
    for name in ("a", "b"):
        assert busy_run.summary(name)["max_concurrency"] == busy_run.concurrency(name)[
            "concurrency"].max()
    assert busy_run.summary("b")["max_concurrency"] <= 3
    total = busy_run.summary("a")["requests"] + busy_run.summary("b")["requests"]
    assert total == s["requests"]


def test_time_averages_are_over_time_not_over_events() -> None:
    # one 10 s request in a 100 s run, kept 20 s afterwards
    sim = simlab.Simulation(seed=1, keep_alive_s=20)
    sim.add_function("f", init_s=0.0, duration_s=10.0, timeout_s=30)
    sim.add_source(Replay([5.0]), target="f")
    s = sim.run(until_s=100).summary()
    assert s["mean_busy_environments"] == pytest.approx(0.1)
    assert s["mean_environments"] == pytest.approx(0.3)
    assert s["mean_idle_environments"] == pytest.approx(0.2)


def test_summary_of_a_run_without_requests() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f")
    s = sim.run(until_s=10).summary()
    assert s["requests"] == 0 and math.isnan(s["cold_start_fraction"])
    assert s["mean_environments"] == 0 and s["max_concurrency"] == 0


def test_repr(busy_run: Result) -> None:
    text = repr(busy_run)
    assert text.startswith("<Result era='today' until_s=300 requests=")
    assert "cold_start_fraction=" in text and "throttle_fraction=" in text


# --------------------------------------------------------------------------------------------------
# aggregate-only runs
# --------------------------------------------------------------------------------------------------


def aggregate_pair(record: str) -> tuple[Result, Result]:
    def make() -> simlab.Simulation:
        sim = simlab.Simulation(seed=8, keep_alive_s=20, account_concurrency=15,
                                unreserved_minimum=0)
        sim.add_function("a", init_s=0.4, duration_s=Exponential(1.5), timeout_s=5,
                         error_rate=0.1, memory_used_mb=Exponential(60.0))
        sim.add_function("b", init_s=0.2, duration_s=0.3, reserved_concurrency=2)
        sim.add_source(Poisson(rate_per_s=6.0), target="a")
        sim.add_source(Poisson(rate_per_s=4.0), target="b", name="b-users")
        return sim

    return make().run(until_s=400), make().run(until_s=400, record=record)


@pytest.mark.parametrize("record", ["summary", "metrics"])
def test_aggregate_runs_give_the_same_summary(record: str) -> None:
    full, agg = aggregate_pair(record)
    assert agg.record == record and full.record == "all"
    for function in (None, "a", "b"):
        s, t = full.summary(function), agg.summary(function)
        assert list(s.index) == list(t.index)
        for key in s.index:
            if "latency" in key:
                # histograms of 100 bins a decade, same definition: within half a bin (1.2 %)
                assert t[key] == pytest.approx(s[key], rel=0.012, abs=0.005), key
            elif key == "max_concurrency" and function is not None:
                continue  # not kept per function without rows
            else:
                assert t[key] == pytest.approx(s[key], rel=1e-9, abs=1e-12), key
    pd.testing.assert_frame_equal(full.environments, agg.environments)


def test_aggregate_runs_keep_no_rows() -> None:
    _, agg = aggregate_pair("summary")
    with pytest.raises(ValueError, match=r"this run kept aggregates only \(record='summary'\); "
                                         r"run with record='all'"):
        agg.invocations  # noqa: B018
    with pytest.raises(ValueError, match="record='all'"):
        agg.concurrency()


def test_metrics_run_keeps_per_period_counts() -> None:
    full, agg = aggregate_pair("metrics")
    m = agg.metrics()
    inv = full.invocations
    ran = ~inv["status"].isin(["throttled", "dropped"])
    assert m["Invocations"].sum() == ran.sum()
    assert m["Throttles"].sum() == (inv["status"] == "throttled").sum()
    assert m["ColdStarts"].sum() == inv["cold"].sum()
    assert set(m["period_start_s"]) == {60.0 * k for k in range(7)}


def test_metrics_run_stamps_periods_like_metrics_of_rows() -> None:
    # Cold starts whose INIT straddles a period edge: both ways must stamp the handler's start.
    def make() -> simlab.Simulation:
        sim = simlab.Simulation(seed=3, keep_alive_s=5)
        sim.add_function("f", init_s=2.0, duration_s=Exponential(0.5))
        sim.add_source(Poisson(rate_per_s=1.0), target="f")
        return sim

    full = make().run(until_s=600)
    agg = make().run(until_s=600, record="metrics", period_s=60.0)
    rows = full.metrics(60.0)
    rows = rows[(rows["function"] == "f") & (rows["statistic"] == "Sum")]
    kept = agg.metrics().set_index("period_start_s")
    for metric in ("Invocations", "ColdStarts", "Throttles"):
        expected = rows[rows["metric"] == metric].set_index("period_start_s")["value"]
        got = kept[metric].reindex(expected.index, fill_value=0)
        assert got.to_numpy().tolist() == expected.to_numpy().tolist(), metric


def test_concurrency_of_an_unknown_function() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f")
    sim.add_source(Replay([0.0]), target="f")
    with pytest.raises(ValueError, match=r"no function named 'g'"):
        sim.run(until_s=10).concurrency("g")


def test_provisioned_concurrency_is_billed_for_the_time_it_was_configured() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f", duration_s=0.5, memory_mb=1024)
    sim.add_source(Poisson(rate_per_s=1.0), target="f")
    sim.update_function_configuration(3500, "f", provisioned_concurrency=10)
    result = sim.run(until_s=3600)
    # 100 s configured, rounded up to one 5-minute block: 10 x 1 GB x 300 s.
    assert result.provisioned_gb_s() == {"f": 3000.0}
    bill = result.bill()
    row = bill[bill["item"] == "provisioned"]
    assert row["quantity"].tolist() == [3000.0]
    assert not (bill["item"] == "free_tier_credit_duration").any()


def small_run() -> Result:
    sim = simlab.Simulation(seed=3, keep_alive_s=60)
    sim.add_function("f", init_s=0.5, duration_s=0.2)
    sim.add_source(Poisson(rate_per_s=2.0), target="f")
    return sim.run(until_s=300)


def test_changing_a_table_read_from_a_result_does_not_change_the_result() -> None:
    result = small_run()
    before = result.summary()
    cold = int(result.invocations["cold"].sum())
    assert cold > 0  # the change below must be one that matters
    inv = result.invocations
    inv["cold"] = False
    inv.loc[inv.index[0], "duration_ms"] = 1e9
    inv["cost_usd"] *= 100
    envs = result.environments
    envs["busy_s"] = 0.0
    envs.loc[envs.index[0], "created_s"] = -1e6
    hosts = result.hosts
    hosts.loc[hosts.index[0], "memory_mb"] = 0
    pd.testing.assert_series_equal(result.summary(), before)
    again = result.invocations
    assert int(again["cold"].sum()) == cold
    assert again["duration_ms"].max() < 1e9
    assert result.environments["busy_s"].sum() > 0.0
    assert (result.environments["created_s"] > -1e6).all()


def test_invocations_are_priced_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from simlab.core import billing

    calls = []
    price = billing.price_invocations

    def counting(*args: object, **kwargs: object) -> pd.DataFrame:
        calls.append(1)
        return price(*args, **kwargs)

    monkeypatch.setattr(billing, "price_invocations", counting)
    result = small_run()
    first = result.invocations["cost_usd"].to_numpy().copy()
    second = result.invocations["cost_usd"].to_numpy()
    assert len(calls) == 1 and first.sum() > 0
    np.testing.assert_array_equal(first, second)


# -- outputs -----------------------------------------------------------------------------------
def _api_run() -> tuple[Result, object, object]:
    from simlab.aws.sources import SDK, APIGateway, DeadLetterQueue, configure_async

    api = APIGateway(Replay([1.0, 2.0]))
    dlq = DeadLetterQueue("failed")
    sim = (simlab.Simulation(seed=1)
           .add_function("f", duration_s=0.1)
           .add_source(api, target="f")
           .add_source(SDK(calls=[(3.0, "f", {}, "Event")]), target="f"))
    configure_async(sim, "f", dead_letter_queue=dlq)
    return sim.run(until_s=10), api, dlq


def test_output_of_a_source_is_its_typed_object_by_the_source_or_its_name() -> None:
    from simlab.aws.sources.apigateway import APIGatewayLog

    result, api, dlq = _api_run()
    log = result.output(api)
    assert isinstance(log, APIGatewayLog) and log is result.output(api.output_key)
    assert len(log.responses) == 2
    assert result.output(dlq).records == []  # the run's copy of the destination, empty
    assert set(result.outputs) >= {api.output_key, "failed", "control_plane"}


def test_outputs_are_read_only_and_unknown_ones_are_named() -> None:
    result, api, _ = _api_run()
    with pytest.raises(TypeError):
        result.outputs["mine"] = 1  # type: ignore[index]
    with pytest.raises(KeyError, match=r"no output 'nope'; its outputs: .*apigateway"):
        result.output("nope")
    with pytest.raises(TypeError, match="source must be a source or destination"):
        result.output(3)  # type: ignore[call-overload]


def test_an_output_of_another_class_under_the_name_is_an_error() -> None:
    from simlab.aws.sources.sns import SNSTopic

    result, api, _ = _api_run()
    other = SNSTopic("t", messages=[])
    other.name = api.output_key  # a source that claims the API's name
    with pytest.raises(TypeError, match="is a APIGatewayLog, not the TopicLog"):
        result.output(other)


def test_two_outputs_that_want_one_name_are_an_error() -> None:
    from simlab.aws.sources import SDK, APIGateway, DeadLetterQueue, configure_async

    sim = (simlab.Simulation(seed=1)
           .add_function("f", duration_s=0.1)
           .add_source(APIGateway(Replay([1.0])), target="f")
           .add_source(SDK(calls=[(3.0, "f", {}, "Event")]), target="f"))
    configure_async(sim, "f", dead_letter_queue=DeadLetterQueue("apigateway"))
    with pytest.raises(ValueError, match="two things of this run want the name 'apigateway'"):
        sim.run(until_s=10)
