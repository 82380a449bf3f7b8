"""Tests of simlab.course.lessons.power_tuning, the power tuning of lessons 3 and 4: the CPU share
model's duration and cost against memory, the 100 ms sawtooth, the fit to AWS's Example E, the
figure and the dashboard."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from simlab.core.config import MB_PER_VCPU  # noqa: E402
from simlab.course.lessons import memory  # noqa: E402
from simlab.course.lessons import power_tuning as pt  # noqa: E402


@pytest.fixture(scope="module")
def sweep():
    return pt.power_tuning_run()


@pytest.fixture(scope="module")
def table(sweep) -> pd.DataFrame:
    return pt.power_tuning_table(sweep)


def test_example_e_is_aws_table() -> None:
    e = pt.example_e()
    assert list(e["memory_mb"]) == [128, 512, 1024, 1536]
    assert e.loc[0, "duration_s"] == 11.722 and e.loc[3, "cost_per_1000_usd"] == 0.024638
    assert pt.EXAMPLE_E_SOURCE.startswith("https://docs.aws.amazon.com/lambda/")


def test_example_e_fit_is_the_row_whose_columns_agree() -> None:
    e = pt.example_e().set_index("memory_mb")
    # The cost each published duration implies, against the published cost: only 128 MB agrees.
    implied = (e["cost_per_1000_usd"] / 1000 - 0.2e-6) / (e.index / 1024 * 0.0000166667)
    ratio = e["duration_s"] / implied
    assert ratio.loc[128] == pytest.approx(1.0, abs=0.001)
    assert list(ratio.loc[[512, 1024, 1536]].round(2)) == [2.0, 2.0, 1.5]
    best = pt.example_e_cpu_s()
    assert best == pytest.approx(11.722 * 128 / MB_PER_VCPU)
    assert pt.WORKLOADS["cpu-bound"]["cpu_s"] == round(best, 4)
    assert memory.WORKLOADS is pt.WORKLOADS  # one fit, one set of workloads, in both lessons


def test_cpu_bound_duration_follows_the_share(table) -> None:
    cpu = table[table["workload"] == "cpu-bound"]
    cpu_ms = pt.WORKLOADS["cpu-bound"]["cpu_s"] * 1000
    expected = cpu_ms / np.minimum(cpu["vcpu_share"], 1.0)  # single-threaded: no gain past 1 vCPU
    assert np.allclose(cpu["duration_ms"], expected, rtol=1e-9)


def test_cpu_bound_cost_is_flat_up_to_one_vcpu_then_grows(table) -> None:
    cpu = table[table["workload"] == "cpu-bound"]
    low = cpu[cpu["memory_mb"] <= MB_PER_VCPU]["cost_per_million_usd"]
    assert low.max() / low.min() - 1 < 0.01  # 1 ms rounding and amortised INIT only
    high = cpu[cpu["memory_mb"] >= MB_PER_VCPU]["cost_per_million_usd"].to_numpy()
    assert (np.diff(high) > 0).all()
    # At 10,240 MB the same work costs memory / 1,769 times as much.
    assert high[-1] / high[0] == pytest.approx(10240 / MB_PER_VCPU, rel=0.02)


def test_io_bound_barely_speeds_up_and_costs_more(table) -> None:
    io = table[table["workload"] == "io-bound"]
    assert (np.diff(io["cost_per_million_usd"]) > 0).all()
    assert (np.diff(io["duration_ms"]) <= 0).all()
    # At most the CPU part (50 ms at one vCPU, 691 ms at 128 MB) is gained.
    assert io["duration_ms"].iloc[0] - io["duration_ms"].iloc[-1] == pytest.approx(
        50 * MB_PER_VCPU / 128 - 50, rel=1e-9)


def test_billed_never_below_run(sweep) -> None:
    for g in (1.0, 100.0, 7.0):
        inv = pt.reprice(sweep, g)
        assert (inv["billed_ms"] >= inv["duration_ms"]).all()
        assert np.allclose(inv["billed_ms"] / g, np.round(inv["billed_ms"] / g))


def test_cheapest_size_under_100ms_lands_just_under_a_step() -> None:
    grid = np.arange(128, 3009, 64)
    t = pt.power_tuning(grid, cpu_s=0.06, era="2018")
    assert list(t["memory_mb"]) == list(grid)
    # Closed form: cost ~ memory x billed ms, the run being 60 ms x 1,769 / memory.
    run_ms = 60 * MB_PER_VCPU / np.minimum(grid, MB_PER_VCPU)
    closed = grid * np.ceil(run_ms / 100) * 100
    assert t.loc[t["cost_per_million_usd"].idxmin(), "memory_mb"] == grid[np.argmin(closed)]
    costs = np.sort(t["cost_per_million_usd"].to_numpy())
    assert costs[1] / costs[0] > 1.03  # a unique cheapest size
    # Re-priced at 1 ms, the same function costs the same at every size up to 1 vCPU (2020
    # rules: INIT not billed, so only the run counts).
    fine = pt.power_tuning([128, 512, 1088, 1728], cpu_s=0.06, era="2020", granularity_ms=1)
    assert fine["cost_per_million_usd"].max() / fine["cost_per_million_usd"].min() < 1.01


def test_view_draws_both_panels_and_the_chosen_size(sweep) -> None:
    view, fig = pt.power_tuning_view(2000, "io-bound", 100.0, sweep=sweep)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    dur, cost = fig.axes
    assert dur.get_ylabel() == "duration (s, log scale)"
    assert cost.get_ylabel() == "cost per million invocations (USD)"
    assert "100 ms" in cost.get_title()
    legend = [t.get_text() for t in fig.legends[0].get_texts()]  # one legend for both panels
    assert legend == ["io-bound (simulated)", "cheapest: 128 MB (never failed)",
                      "your size: 2,000 MB (simulated alone)", "billed at 100 ms (a warm run)"]
    billed = [line for line in dur.get_lines() if line.get_linestyle() == "--"][0]
    assert list(billed.get_ydata()) == list(view.table.query("workload == 'io-bound'")[
        "billed_ms"] / 1000)
    assert view.granularity_ms == 100.0 and view.memory_mb == 2000
    assert view.duration_ms == pytest.approx(450.0)  # 50 ms of CPU on one vCPU (one thread) + 400
    assert view.billed_ms == 500.0  # a warm run's (the cold one also pays for its INIT today)
    assert view.cheapest_mb == pt.cheapest(view.table, "io-bound") == 128
    text = pt.power_tuning_readout(view)
    assert "2,000 MB" in text and "billed 500 ms" in text and "100 ms billing" in text


def test_view_is_deterministic_and_reuses_its_tables(sweep) -> None:
    tables: dict = {}
    a, _ = pt.power_tuning_view(1024, sweep=sweep, tables=tables)
    b, _ = pt.power_tuning_view(1024)
    assert a.table.equals(b.table) and a.cost_per_million_usd == b.cost_per_million_usd
    assert list(tables) == [1.0]
    c, _ = pt.power_tuning_view(1024, granularity_ms=100.0, sweep=sweep, tables=tables)
    assert sorted(tables) == [1.0, 100.0] and c.table is tables[100.0]


def test_table_counts_failures_and_cheapest_skips_them() -> None:
    t = pt.memory_sweep([128, 1024], workloads={"w": {"cpu_s": 0.5}}, invocations=5)
    assert (t["failure_fraction"] == 0).all()
    part = t.copy()
    part.loc[part["memory_mb"] == 128, "failure_fraction"] = 1.0
    assert pt.cheapest(part) == 1024
    part["failure_fraction"] = 1.0
    with pytest.raises(ValueError, match="every memory size failed"):
        pt.cheapest(part)
    with pytest.raises(ValueError, match="name one"):
        pt.cheapest(pt.memory_sweep([128], invocations=2))
    with pytest.raises(ValueError, match="'gpu-bound' is not in the table"):
        pt.cheapest(t, "gpu-bound")


def test_cost_is_the_bill_per_million_invocations() -> None:
    t = pt.memory_sweep([1024], workloads={"w": {"cpu_s": 0.0, "io_s": 1.0}}, invocations=10,
                        era="2020")
    # 2020: 100 ms billing, INIT not billed for ZIP functions: 1 GB-s + 1 request each.
    from simlab.core.config import ERAS
    from simlab.core.prices import price_sheet_for

    sheet = price_sheet_for(ERAS["2020"].date)
    per_million = 1e6 * (1.0 * sheet.x86.first_tier_price + sheet.request_price)
    assert t["cost_per_million_usd"].iloc[0] == pytest.approx(per_million, rel=1e-9)


def test_figure_names_a_missing_workload(table) -> None:
    with pytest.raises(ValueError, match="not in the table"):
        pt.power_tuning_figure(table, "gpu-bound")


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"memory_mb": 64}, "memory_mb"),
    ({"memory_mb": 20_000}, "memory_mb"),
    ({"granularity_ms": 0}, "granularity_ms"),
    ({"granularity_ms": math.nan}, "granularity_ms"),
    ({"granularity_ms": -1}, "granularity_ms"),
    ({"workload": "gpu-bound"}, "workload"),
])
def test_view_rejects_bad_input(sweep, kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        pt.power_tuning_view(sweep=sweep, **kwargs)


def test_run_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="memories"):
        pt.power_tuning_run([])
    with pytest.raises(ValueError, match="unknown key"):
        pt.power_tuning_run([128], workloads={"w": {"cpu": 1.0}})
    with pytest.raises(ValueError, match="timeout"):
        pt.power_tuning_run([128], workloads={"w": {"cpu_s": 100.0}})
    with pytest.raises(ValueError, match="cpu_s"):
        pt.power_tuning_run([128], workloads={"w": {"cpu_s": -1.0}})
    with pytest.raises(ValueError, match="memory_mb"):
        pt.power_tuning([130], cpu_s=0.1, era="2018")  # 64 MB steps in 2018
    with pytest.raises(ValueError, match="memory_mb must be 128 to 3,008"):
        pt.power_tuning_run([3009], era="2018")
    with pytest.raises(ValueError, match="timeout"):
        pt.power_tuning_run([128], workloads={"w": {"cpu_s": 100.0}}, era="2018")
    with pytest.raises(ValueError, match="invocations"):
        pt.power_tuning_run([128], invocations=0)


def test_dashboard_redraws_on_a_new_memory(sweep) -> None:
    box = pt.power_tuning_dashboard(show=False, sweep=sweep)
    assert "simlab-dashboard" in box._dom_classes
    slider, workload, granularity = box.children[0].children[:3]
    readout = box.children[1]
    assert slider.min == 128 and slider.max == 10240 and "MB" in slider.description
    assert "1,024 MB" in readout.value and "cpu-bound" in readout.value
    slider.value = 2048
    assert "2,048 MB" in readout.value
    workload.value = "io-bound"
    assert "io-bound at 2,048 MB" in readout.value
    granularity.value = 100.0
    assert "100 ms billing" in readout.value


def test_dashboard_takes_defaults_and_refuses_unknown_ones(sweep) -> None:
    box = pt.power_tuning_dashboard(show=False, sweep=sweep, memory_mb=512, workload="io-bound",
                                    granularity_ms=100.0)
    memory, workload, granularity = box.children[0].children
    assert (memory.value, workload.value, granularity.value) == (512, "io-bound", 100.0)
    with pytest.raises(TypeError, match="unknown default"):
        pt.power_tuning_dashboard(show=False, sweep=sweep, era="2018")
    with pytest.raises(ValueError, match="workload"):
        pt.power_tuning_dashboard(show=False, sweep=sweep, workload="gpu-bound")
    lesson_3 = pt.power_tuning_dashboard(show=False, sweep=sweep, granularity_menu=False)
    assert list(lesson_3.parts.controls) == ["memory_mb", "workload"]  # costs at 1 ms
    assert "1 ms billing" in lesson_3.children[1].value
    with pytest.raises(TypeError, match="unknown default"):
        pt.power_tuning_dashboard(show=False, sweep=sweep, granularity_menu=False,
                                  granularity_ms=100.0)


def test_run_takes_numpy_sizes_but_not_fractions() -> None:
    t = pt.power_tuning(np.array([128, 1769]), cpu_s=0.1)
    assert list(t["memory_mb"]) == [128, 1769]
    with pytest.raises(ValueError, match="whole numbers"):
        pt.power_tuning([128.5], cpu_s=0.1)
