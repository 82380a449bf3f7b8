"""Tests of simlab.course.lessons.memory (lessons 3 and 3b): the CPU share model over memory,
out-of-memory and timeout kills, power tuning against AWS's Example E, the era limits, the dashboard
and the exercises of both lessons."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from simlab.core.config import MB_PER_VCPU, vcpu_share  # noqa: E402
from simlab.course.exercises import REGISTRY, check, exercises, hint  # noqa: E402
from simlab.course.lessons import memory as lesson  # noqa: E402
from simlab.course.teacher import expected_answer  # noqa: E402


@pytest.fixture(scope="module")
def sweep():
    return lesson.memory_sweep()


def _col(sweep, workload: str, column: str):
    part = sweep[sweep["workload"] == workload]
    return part.set_index("memory_mb")[column]


# -- the CPU share ---------------------------------------------------------------------------------
def test_model_duration_matches_the_share_rule() -> None:
    assert lesson.model_duration_s(MB_PER_VCPU, cpu_s=2.0, io_s=0.3) == pytest.approx(2.3)
    assert lesson.model_duration_s(128, cpu_s=1.0) == pytest.approx(MB_PER_VCPU / 128)
    m = np.array([1769.0, 4096.0, 7076.0, 10240.0])
    assert lesson.model_duration_s(m, cpu_s=4.0, parallelism=4) == pytest.approx(
        4.0 / np.minimum(m / MB_PER_VCPU, 4.0))


def test_sweep_follows_the_model_for_every_workload(sweep) -> None:
    assert len(sweep) == len(lesson.WORKLOADS) * len(lesson.MEMORY_GRID)
    model = [lesson.model_duration_s(r.memory_mb, **lesson.WORKLOADS[r.workload])
             for r in sweep.itertuples()]
    assert np.allclose(sweep["duration_ms"] / 1000, model, rtol=1e-9)
    assert (sweep["failure_fraction"] == 0).all()
    assert sweep["vcpu_share"].to_numpy() == pytest.approx(
        [vcpu_share(m) for m in sweep["memory_mb"]])


def test_single_threaded_code_stops_gaining_at_one_vcpu(sweep) -> None:
    d = _col(sweep, "cpu-bound", "duration_ms") / 1000
    assert d[128] == pytest.approx(11.722, abs=1e-3)  # calibrated to Example E at 128 MB
    assert d[1769] == d[10240]
    assert d[128] / d[1769] == pytest.approx(MB_PER_VCPU / 128)
    threads = _col(sweep, "multi-threaded", "duration_ms")
    assert threads[7076] == threads[10240] < threads[5120]


def test_cost_shapes(sweep) -> None:
    cpu = _col(sweep, "cpu-bound", "cost_per_million_usd")
    flat = cpu[cpu.index <= MB_PER_VCPU]
    assert flat.max() / flat.min() - 1 < 0.01
    assert cpu[10240] / cpu[1769] == pytest.approx(10240 / MB_PER_VCPU, rel=0.02)
    assert _col(sweep, "io-bound", "cost_per_million_usd").is_monotonic_increasing
    assert lesson.cheapest(sweep, "io-bound") == 128


# -- out of memory and timeouts --------------------------------------------------------------------
def test_oom_kills_discard_the_environment_and_the_next_request_is_cold() -> None:
    r = lesson.oom_run(requests=60)
    kills = lesson.after_kills(r)
    assert len(kills) > 0 and (kills["status"] == "oom").all()
    assert (kills["environment_end"] == "oom").all()
    assert kills["next_cold"].dropna().all()
    followed = kills[kills["next_cold"].notna()]  # the last kill may have no next request
    assert (followed["next_env_id"] != followed["env_id"]).all()
    inv = r.invocations
    assert (inv.loc[inv["status"] == "oom", "max_memory_used_mb"] == 512).all()
    assert r.summary()["environments_created"] == 1 + kills["next_cold"].notna().sum()


def test_oom_fraction_matches_the_lognormal_tail() -> None:
    p = lesson.oom_probability(512, 400, 0.2)
    assert p == pytest.approx(0.5 * math.erfc(math.log(512 / 400) / (0.2 * math.sqrt(2))))
    n = 10_000
    frac = lesson.oom_run(interval_s=1, requests=n, seed=11).summary()["oom_fraction"]
    assert abs(frac - p) < 4 * math.sqrt(p * (1 - p) / n)
    with pytest.raises(ValueError, match="sigma"):
        lesson.oom_probability(512, 400, 0)


def test_timeouts_are_killed_at_exactly_the_timeout() -> None:
    r = lesson.timeout_run(timeout_s=3, requests=200)
    inv = r.invocations
    out = inv[inv["status"] == "timeout"]
    assert len(out) > 0
    assert (out["duration_ms"] == 3000).all() and inv["duration_ms"].max() == 3000
    assert (out["billed_ms"] >= 3000).all()
    assert len(r.logs("report").filter(pattern="Task timed out after 3.00 seconds")) == len(out)
    kills = lesson.after_kills(r)
    assert (kills["environment_end"] == "timeout").all() and kills["next_cold"].dropna().all()
    assert lesson.timeout_probability(3, 2, 0.3) == pytest.approx(
        0.5 * math.erfc(math.log(1.5) / (0.3 * math.sqrt(2))))


def test_after_kills_of_a_run_without_kills_is_empty() -> None:
    r = lesson.oom_run(memory_mb=2048, requests=5)
    kills = lesson.after_kills(r)
    assert len(kills) == 0 and "next_cold" in kills


# -- power tuning and Example E --------------------------------------------------------------------
def test_example_e_table_reads_costs_as_durations() -> None:
    e = lesson.example_e_table()
    assert list(e.index) == [128, 512, 1024, 1536]
    # The model agrees with the durations AWS's costs pay for, within 15 %...
    assert (abs(e["model_duration_s"] / e["implied_duration_s"] - 1) < 0.15).all()
    # ...and at 512 and 1,024 MB the published durations are twice those.
    assert (e["duration_s"] / e["implied_duration_s"]).loc[[512, 1024]].to_numpy() == (
        pytest.approx([2.0, 2.0], abs=0.01))


def test_era_limits_table() -> None:
    t = lesson.era_limits_table()
    assert t.loc["2018", "memory_max_mb"] == 3008 and t.loc["2018", "memory_step_mb"] == 64
    assert t.loc["2018", "timeout_max_s"] == 300 and t.loc["today", "memory_max_mb"] == 10240
    assert t.loc["today", "vcpus_at_max"] == pytest.approx(5.79)


def test_figures_have_labelled_axes(sweep) -> None:
    for fig in (lesson.duration_figure(sweep), lesson.power_tuning_figure(sweep, "cpu-bound"),
                lesson.power_tuning_figure(sweep, "multi-threaded", granularity_ms=1.0),
                lesson.oom_figure(lesson.oom_run(requests=20), 400, 0.2),
                lesson.timeout_figure(lesson.timeout_run(requests=30))):
        assert isinstance(fig, Figure)
        for ax in fig.axes:
            assert ax.get_xlabel() and ax.get_ylabel()


def test_power_tuning_is_lesson_4s(sweep) -> None:
    from simlab.course.lessons import billing, power_tuning

    assert lesson.power_tuning_dashboard is billing.power_tuning_dashboard
    assert lesson.power_tuning_view is power_tuning.power_tuning_view
    view, _ = lesson.power_tuning_view(3008, "multi-threaded",
                                       sweep=lesson.power_tuning_run(invocations=3))
    assert view.duration_ms == pytest.approx(4000.0 / vcpu_share(3008))
    assert "1.70 vCPU" in lesson.power_tuning_readout(view)


# -- exercises -------------------------------------------------------------------------------------
IDS = ["03-duration-at-4096", "03-memory-where-gains-stop", "03-oom-fraction",
       "03-cost-ratio-10240", "03-latency-budget", "03-multithreaded-2018"]


def test_exercises_are_registered_and_judged(assert_judged) -> None:
    assert set(exercises(3)) == set(IDS)
    assert [REGISTRY[i].kind for i in IDS] == ["compute", "predict", "design", "predict",
                                               "design", "explain"]
    for i in IDS:
        assert len(REGISTRY[i].hints) >= 2
        assert hint(i, 1).startswith("💡")
    assert_judged(IDS)


def test_reference_answers_come_from_simlab() -> None:
    assert expected_answer("03-duration-at-4096") == pytest.approx(2.3)
    assert expected_answer("03-memory-where-gains-stop") == "b"  # 3 x 1,769 MB
    assert expected_answer("03-cost-ratio-10240") == "c"  # 10,240 / 1,769 = 5.8
    smallest = expected_answer("03-oom-fraction")
    assert lesson.oom_probability(smallest, 400, 0.25) <= 0.01
    assert lesson.oom_probability(smallest - 1, 400, 0.25) > 0.01


def test_oom_design_is_checked_by_simulation_and_accepts_a_range(capsys) -> None:
    smallest = int(expected_answer("03-oom-fraction"))
    for m in (smallest, smallest + 32, smallest + 64):
        assert check("03-oom-fraction", m).correct, m
    median = check("03-oom-fraction", 400)
    assert not median and "killed" in median.message
    wasteful = check("03-oom-fraction", smallest + 200)
    assert not wasteful and "beyond what it needs" in wasteful.message
    assert check("03-oom-fraction", 700.5).status == "invalid"
    capsys.readouterr()


@pytest.mark.parametrize("exercise_id, wrong, says", [
    ("03-duration-at-4096", 2 * 1769 / 4096 + 0.3, "one thread"),
    ("03-duration-at-4096", 0.86, "I/O"),
    ("03-duration-at-4096", 2300, "milliseconds"),
    ("03-memory-where-gains-stop", "a", "three"),
    ("03-memory-where-gains-stop", "c", "5.8 vCPUs"),
    ("03-cost-ratio-10240", "a", "one thread"),
])
def test_common_mistakes_get_targeted_feedback(exercise_id, wrong, says) -> None:
    result = check(exercise_id, wrong)
    assert result.status == "incorrect" and says in result.message


def test_latency_design_accepts_the_sizes_that_meet_the_budget_cheaply(capsys) -> None:
    smallest = int(expected_answer("03-latency-budget"))
    assert smallest == 1249  # 0.12 s x 1,769 / (0.25 - 0.08) s, rounded up
    table = lesson.power_tuning([smallest - 1, smallest], cpu_s=0.12, io_s=0.08)
    assert list(table["duration_ms"] <= 250.0) == [False, True]
    for m in (smallest, smallest + 64, smallest + 150):
        assert check("03-latency-budget", m).correct, m
    slow = check("03-latency-budget", smallest - 1)
    assert not slow and "too slow" in slow.message
    fastest = check("03-latency-budget", 1769)  # one full vCPU: fast, but paid for
    assert not fastest and "13 % more" in fastest.message
    assert not check("03-latency-budget", 10240)
    assert check("03-latency-budget", 1300.5).status == "invalid"
    assert check("03-latency-budget", 64).status == "invalid"
    capsys.readouterr()


def test_the_2018_tuning_explained_holds_in_the_model() -> None:
    # The numbers exercise 3 of lesson 3b asks about: in 2018 every size costs about the same for
    # four threads (at most 1.7 vCPUs); today the run stops falling at 7,076 MB, same cost.
    encoder = {"multi-threaded": lesson.WORKLOADS["multi-threaded"]}
    old = lesson.memory_sweep([128, 1024, 3008], workloads=encoder, era="2018")
    cost = old.set_index("memory_mb")["cost_per_million_usd"]
    assert 115 < cost.min() and cost.max() < 118
    now = lesson.memory_sweep([3008, 7076, 10240], workloads=encoder).set_index("memory_mb")
    speedup = now.loc[3008, "duration_ms"] / now.loc[7076, "duration_ms"]
    assert speedup == pytest.approx(2.35, abs=0.01)
    assert now.loc[7076, "duration_ms"] == now.loc[10240, "duration_ms"] == 1000.0
    assert now.loc[7076, "cost_per_million_usd"] == pytest.approx(
        now.loc[3008, "cost_per_million_usd"], rel=0.001)
    assert now.loc[10240, "cost_per_million_usd"] / now.loc[7076, "cost_per_million_usd"] == (
        pytest.approx(1.45, abs=0.01))


def test_the_written_answer_is_recorded_not_judged(capsys) -> None:
    assert check("03-multithreaded-2018", "more CPU").status == "invalid"
    text = ("In 2018 3,008 MB gave 1.7 vCPUs for four threads, so every size cost the same; today "
            "it keeps gaining until 7,076 MB at the same cost, and above that it only costs more.")
    assert check("03-multithreaded-2018", text).status == "recorded"
    capsys.readouterr()


def test_a_prediction_shows_the_run_only_once_committed(capsys) -> None:
    assert "commit your prediction first" in check("03-cost-ratio-10240", ...).message
    shown = check("03-cost-ratio-10240", "c").message
    assert "times more at 10,240 MB" in shown


def test_init_limit_table_shows_the_init_that_never_succeeds() -> None:
    table, runs = lesson.init_limit_table(15.0, (3, 30), requests=3)
    assert table.loc[3].to_dict() == {"ok": 0, "timeouts": 3, "environments": 3,
                                      "first_latency_s": 13.0, "billed_s": 9.0}
    assert table.loc[30, "ok"] == 3 and table.loc[30, "environments"] == 1
    assert table.loc[30, "first_latency_s"] == pytest.approx(10.0 + 15.0 + 0.2)
    reports = runs[3].logs("slow-init").filter(pattern="INIT_REPORT")
    assert len(reports) == 3
    with pytest.raises(ValueError, match="init_s"):
        lesson.init_limit_table(-1.0)
