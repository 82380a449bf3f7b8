"""Tests of lesson 7 (simlab.course.lessons.use_cases): each lab's run, table and figure, and the
exercises. Lesson 7b's labs are tested in test_background_labs_lesson.py."""

from __future__ import annotations

import math

import pytest

from simlab.core.theory import erlang_b
from simlab.course.exercises import REGISTRY, check
from simlab.course.lessons import use_cases as uc
from simlab.course.teacher import expected_answer

IDS = ["07-etl-duplicates", "07-night-cold-fraction", "07-api-two-environments"]


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


@pytest.mark.parametrize(("call", "name"), [
    (lambda: uc.etl_run(1.5), "error_rate"), (lambda: uc.etl_run(0.1, hours=0), "hours"),
    (lambda: uc.api_runs(seconds=1), "seconds"),
])
def test_bad_parameters_are_refused_before_the_run(call, name) -> None:
    with pytest.raises(ValueError, match=name):
        call()


def test_runs_are_deterministic(etl) -> None:
    assert uc.etl_files(uc.etl_run(0.2)).equals(uc.etl_files(etl))


def test_exercises_are_registered_and_judged(assert_judged) -> None:
    assert [REGISTRY[i].kind for i in IDS] == ["predict", "predict", "design"]
    assert_judged(IDS)


def test_reference_answers_are_what_the_labs_show(etl, mobile, capsys) -> None:
    files = uc.etl_files(etl)
    share = (files["registrations"] > 1).mean()
    assert 0.1 <= share < 0.35 and expected_answer("07-etl-duplicates") == "c"
    hours = uc.feed_by_hour(mobile).loc[0:3]
    night = (hours["cold_fraction"] * hours["requests"]).sum() / hours["requests"].sum()
    day = mobile.invocations.query("function == 'feed'")["cold"].mean()
    assert 4 * day <= night < 0.6 and expected_answer("07-night-cold-fraction") == "c"
    capsys.readouterr()


def test_api_design_accepts_every_pair_that_meets_the_goal(capsys) -> None:
    # The goal: 99 % answered 200 with at most 2 reserved and 1.2 HTTP requests per request.
    right = [(2, 2), (2, 3), (2, 10)]
    wrong = [(1, 0), (1, 2), (1, 5), (2, 0), (2, 1), (3, 0), (4, 2)]
    assert all(check("07-api-two-environments", pair).correct for pair in right)
    assert not any(check("07-api-two-environments", pair).correct for pair in wrong)
    assert "fresh draw" in check("07-api-two-environments", (2, 1)).message
    assert "far more requests" in check("07-api-two-environments", (1, 2)).message
    assert "2 environments at most" in check("07-api-two-environments", (4, 2)).message
    for bad in ((2,), (2.5, 1), (True, 1), (0, 1), (2, 11), "2, 2"):
        assert check("07-api-two-environments", bad).status == "invalid", bad
    capsys.readouterr()


def test_feedback_names_the_common_mistakes(capsys) -> None:
    assert "undo the failed attempt" in check("07-etl-duplicates", "a").message
    assert "far more than twice" in check("07-night-cold-fraction", "b").message
    capsys.readouterr()
