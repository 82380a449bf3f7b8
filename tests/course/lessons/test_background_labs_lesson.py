"""Tests of lesson 7b (simlab.course.lessons.background_labs): each lab's run, table and figure,
and the exercises."""

from __future__ import annotations

import numpy as np
import pytest

from simlab.aws import scenarios
from simlab.course.exercises import REGISTRY, check
from simlab.course.lessons import background_labs as uc
from simlab.course.teacher import expected_answer

IDS = ["07-batch-good-orders-lost", "07-infra-pages", "07-validation-rejected",
       "07-nightly-failed-nights"]


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
    (lambda: uc.validation_run(minutes=0.5), "minutes"),
    (lambda: uc.validation_run(invalid_fraction=2), "invalid_fraction"),
    (lambda: uc.nightly_run(nights=0), "nights"), (lambda: uc.nightly_run(nights=2.5), "nights"),
    (lambda: uc.nightly_run(error_rate=-1), "error_rate"),
    (lambda: uc.infra_run("DropEverything"), "watched_call"),
    (lambda: uc.partial_batch_runs(batch_size=11), "batch_size"),
])
def test_bad_parameters_are_refused_before_the_run(call, name) -> None:
    with pytest.raises(ValueError, match=name):
        call()


def test_exercises_are_registered_and_judged(assert_judged) -> None:
    assert [REGISTRY[i].kind for i in IDS] == ["predict", "compute", "predict", "explain"]
    assert_judged(IDS)


def test_reference_answers_are_what_the_labs_show(capsys) -> None:
    calls = scenarios.control_plane_calls(0, 24, 4)
    assert check("07-infra-pages", sum(c[1] == "UpdateFunctionCode" for c in calls)).correct
    found = uc.rejections(*uc.validation_run(0.2))["found"].sum()
    assert expected_answer("07-validation-rejected") == found
    assert check("07-validation-rejected", 0.2 * 2 * 15 * 60).correct  # n p is a good guess
    flaky = uc.nightly_run(0.5)
    assert len(flaky.output("report-failures")) == uc.nights(flaky)["in_failure_queue"].sum()
    lost = uc.partial_batch_runs()[0].loc["whole batch fails", "good_dead_lettered"]
    assert 10 <= lost < 50 and expected_answer("07-batch-good-orders-lost") == "c"
    capsys.readouterr()


def test_feedback_names_the_common_mistakes(capsys) -> None:
    assert "default" in check("07-infra-pages", len(uc.alert_delays(uc.infra_run()))).message
    assert "binomial" in check("07-validation-rejected", 200).message
    assert "cannot tell which message" in check("07-batch-good-orders-lost", "a").message
    assert "do not escape" in check("07-batch-good-orders-lost", "b").message
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
