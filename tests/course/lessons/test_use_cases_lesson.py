"""Tests of lesson 7 (simlab.course.lessons.use_cases): each lab's run, table and figure, and the
exercises."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simlab.aws import scenarios
from simlab.core.theory import erlang_b
from simlab.course.exercises import REGISTRY, check
from simlab.course.lessons import use_cases as uc
from simlab.course.teacher import expected_answer

IDS = ["07-etl-duplicates", "07-night-cold-fraction",
       "07-infra-pages", "07-validation-rejected", "07-nightly-failed-nights"]


@pytest.fixture(scope="module")
def etl():
    return uc.etl_run(0.2)


@pytest.fixture(scope="module")
def api():
    return uc.api_runs()


@pytest.fixture(scope="module")
def mobile():
    return uc.mobile_run()


def _within(count: float, n: int, p: float, k: float = 4.0) -> bool:
    """``count`` of ``n`` is within ``k`` binomial standard errors of ``n p``."""
    return abs(count - n * p) <= k * math.sqrt(n * p * (1 - p))


def test_etl_every_attempt_writes_so_retries_register_twice(etl) -> None:
    files = uc.etl_files(etl)
    assert len(files) == len(etl.output("s3").objects) > 200
    assert (files["registrations"] == files["attempts"]).all()
    assert (files["attempts"] >= 1).all() and (files["attempts"] <= 3).all()
    assert _within(files["failed_attempts"].sum(), int(files["attempts"].sum()), 0.2)
    lost = files[files["dead_lettered"]]
    assert len(lost) == len(etl.output("etl-failures"))
    assert (lost["failed_attempts"] == 3).all()
    # A file is registered more than once exactly when its first attempt failed (once its
    # retry had time to run before the end).
    early = files[files["uploaded_s"] < etl.until_s - 600]
    assert ((early["registrations"] > 1) == (early["failed_attempts"] > 0)).all()
    clean = uc.etl_files(uc.etl_run(0.0, hours=0.5))
    assert (clean["registrations"] == 1).all() and not clean["dead_lettered"].any()


def test_etl_figure_shows_each_file(etl) -> None:
    fig = uc.etl_figure(etl, files=8)
    ax = fig.axes[0]
    assert len(ax.get_yticks()) == 8 and "(min)" in ax.get_xlabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("failed" in t for t in labels) and any("catalog" in t for t in labels)


def test_api_throttling_follows_erlang_b_and_retries_add_load(api) -> None:
    table = uc.api_table(api)
    assert list(table.index) == list(uc.API_CASES)
    assert (table["requests"] == table["requests"].iloc[0]).all()  # the same clients
    free = table.loc["no limit"]
    assert free["ok_fraction"] > 0.99 and free["http_attempts"] == free["requests"]
    # One environment: Erlang B(1, a) = a / (1 + a), a = arrival rate x mean busy time.
    inv = api["no limit"].invocations
    busy_s = float(((inv["end_s"] - inv["start_s"]) + inv["init_ms"] / 1000).mean())
    p = float(erlang_b(1, 5.0 * busy_s))
    limited = table.loc["reserved concurrency 1"]
    assert _within(limited["throttled_fraction"] * limited["requests"], limited["requests"], p)
    retried = table.loc["reserved 1, clients retry twice"]
    assert retried["ok_fraction"] > limited["ok_fraction"] + 0.1
    assert retried["http_attempts"] > 1.5 * retried["requests"]
    assert retried["p99_ms"] > 1500 > limited["p99_ms"]  # backoffs of 0.5 s and 1 s


def test_api_figure_has_one_curve_per_configuration(api) -> None:
    ax = uc.api_figure(api).axes[0]
    assert ax.get_xscale() == "log" and "(ms)" in ax.get_xlabel()
    assert len(ax.get_lines()) == len(api)
    assert all(line.get_ydata().max() <= 1.0 for line in ax.get_lines())


def test_mobile_one_upload_three_functions_and_cold_nights(mobile) -> None:
    counts = mobile.invocations.groupby("function", observed=True).size()
    assert counts["thumbnail"] == counts["push-notify"] == counts["update-feed"] > 500
    hours = uc.feed_by_hour(mobile)
    assert list(hours.index) == list(range(24)) and hours["requests"].sum() == counts["feed"]
    assert hours.loc[12:15, "requests"].mean() > 4 * hours.loc[0:3, "requests"].mean()
    assert hours.loc[0:3, "cold_fraction"].mean() > 5 * hours.loc[10:17, "cold_fraction"].mean()
    top, low = uc.mobile_figure(mobile).axes
    assert top.get_ylabel() == "invocations per hour" and low.get_ylabel() == "cold starts (%)"


def test_infra_flags_every_watched_call_within_a_delivery_period() -> None:
    result = uc.infra_run()
    delays = uc.alert_delays(result)
    calls = scenarios.control_plane_calls(0, 24, 4)
    assert len(delays) == sum(c[1] == "PutFunctionConcurrency" for c in calls)
    assert delays["delay_s"].between(0, 302).all()
    np.testing.assert_allclose(np.sort(delays["called_s"]),
                               np.sort([round(c[0]) for c in calls
                                        if c[1] == "PutFunctionConcurrency"]), atol=1.0)
    assert set(delays["user"]) == {"deploy-bot"}
    ax = uc.infra_figure(result).axes[0]
    assert "(min)" in ax.get_xlabel() and sum(p.get_height() for p in ax.patches) == len(delays)


def test_validation_finds_exactly_the_invalid_orders() -> None:
    result, changes = uc.validation_run()
    table = uc.rejections(result, changes)
    assert (table["found"] == table["injected"]).all() and table["found"].sum() > 50
    assert list(table.index) == ["negative amount", "unknown currency", "no e-mail"]
    clean = uc.validation_run(0.0, minutes=3)
    assert uc.rejections(*clean)["found"].sum() == 0
    ax = uc.validation_figure(table).axes[0]
    assert ax.get_ylabel() == "invalid orders" and len(ax.patches) == 6


def test_nightly_runs_at_two_and_records_lost_nights() -> None:
    result = uc.nightly_run(0.3)
    month = uc.nights(result)
    assert len(month) == 30 and month["date"].iloc[0] == "2026-11-27"
    first = result.invocations[result.invocations["attempt"] == 1]
    assert (first["arrival_s"] % 86_400 == 7200).all()
    lost = month[month["in_failure_queue"]]
    assert len(lost) == len(result.output("report-failures")) >= 1
    assert (lost["attempts"] == 3).all() and lost["ready_min"].isna().all()
    kept = month[~month["in_failure_queue"]]
    assert kept["succeeded"].all() and (kept["ready_min"] > 0).all()
    assert (kept.loc[kept["attempts"] > 1, "ready_min"] > 5).all()  # a retry waits a minute
    ax = uc.nightly_figure(result).axes[0]
    assert "02:00" in ax.get_ylabel() and "night" in ax.get_xlabel()
    assert uc.nights(uc.nightly_run(0.0, nights=3))["attempts"].tolist() == [1, 1, 1]


@pytest.mark.parametrize(("call", "name"), [
    (lambda: uc.etl_run(1.5), "error_rate"), (lambda: uc.etl_run(0.1, hours=0), "hours"),
    (lambda: uc.api_runs(seconds=1), "seconds"),
    (lambda: uc.validation_run(minutes=0.5), "minutes"),
    (lambda: uc.validation_run(invalid_fraction=2), "invalid_fraction"),
    (lambda: uc.nightly_run(nights=0), "nights"), (lambda: uc.nightly_run(nights=2.5), "nights"),
    (lambda: uc.nightly_run(error_rate=-1), "error_rate"),
    (lambda: uc.infra_run("DropEverything"), "watched_call"),
])
def test_bad_parameters_are_refused_before_the_run(call, name) -> None:
    with pytest.raises(ValueError, match=name):
        call()


def test_runs_are_deterministic(etl) -> None:
    assert uc.etl_files(uc.etl_run(0.2)).equals(uc.etl_files(etl))


def test_exercises_are_registered_and_judged(assert_judged) -> None:
    assert [REGISTRY[i].kind for i in IDS] == ["predict", "predict", "compute", "predict",
                                               "explain"]
    assert_judged(IDS)


def test_reference_answers_are_what_the_labs_show(etl, mobile, capsys) -> None:
    files = uc.etl_files(etl)
    share = (files["registrations"] > 1).mean()
    assert 0.1 <= share < 0.35 and expected_answer("07-etl-duplicates") == "c"
    hours = uc.feed_by_hour(mobile).loc[0:3]
    night = (hours["cold_fraction"] * hours["requests"]).sum() / hours["requests"].sum()
    day = mobile.invocations.query("function == 'feed'")["cold"].mean()
    assert 4 * day <= night < 0.6 and expected_answer("07-night-cold-fraction") == "c"
    calls = scenarios.control_plane_calls(0, 24, 4)
    assert check("07-infra-pages", sum(c[1] == "UpdateFunctionCode" for c in calls)).correct
    found = uc.rejections(*uc.validation_run(0.2))["found"].sum()
    assert expected_answer("07-validation-rejected") == found
    assert check("07-validation-rejected", 0.2 * 2 * 15 * 60).correct  # n p is a good guess
    flaky = uc.nightly_run(0.5)
    assert len(flaky.output("report-failures")) == uc.nights(flaky)["in_failure_queue"].sum()
    capsys.readouterr()


def test_feedback_names_the_common_mistakes(capsys) -> None:
    assert "undo the failed attempt" in check("07-etl-duplicates", "a").message
    assert "far more than twice" in check("07-night-cold-fraction", "b").message
    assert "default" in check("07-infra-pages", len(uc.alert_delays(uc.infra_run()))).message
    assert "binomial" in check("07-validation-rejected", 200).message
    capsys.readouterr()


def test_partial_batch_runs_keep_good_messages_out_of_the_dlq() -> None:
    table, runs = uc.partial_batch_runs(messages=100, poison_every=25, batch_size=10)
    whole, part = table.loc["whole batch fails"], table.loc["ReportBatchItemFailures"]
    assert part["dead_lettered"] == 4 and part["good_dead_lettered"] == 0
    assert part["processed"] == 96
    # each poison message drags its (up to) 9 batch-mates to the dead-letter queue
    assert whole["good_dead_lettered"] > 0 and whole["dead_lettered"] > part["dead_lettered"]
    assert whole["processed"] + whole["dead_lettered"] == 100
    assert whole["receipts"] > part["receipts"]
