"""Tests of lesson 0 (simlab.course.lessons.start_here): the word-count story, its logs and bill,
the
scaling dashboard and the exercises."""

from __future__ import annotations

import math

import ipywidgets as w
import numpy as np
import pytest
from matplotlib.figure import Figure

from simlab.core import billing
from simlab.core.billing import billed_duration_ms
from simlab.core.config import ERAS
from simlab.course.exercises import REGISTRY, check
from simlab.course.lessons import start_here as sh
from simlab.course.teacher import expected_answer

IDS = ["00-cold-requests", "00-upload-delivered-twice", "00-first-billed-ms"]


@pytest.fixture(scope="module")
def run() -> sh.LessonRun:
    return sh.lesson_run()


def test_the_handler_gets_one_event_per_upload_and_decodes_the_key(run) -> None:
    inv = run.result.invocations
    uploads = sh.uploads_table()
    assert len(inv) == len(run.events) == len(uploads) == len(sh.DOCUMENTS)
    assert (inv["status"] == "ok").all()
    keys = [e["Records"][0]["s3"]["object"]["key"] for e in run.events]
    assert keys[0] == "notes/shopping+list.txt"  # S3 sends the key URL-encoded
    assert "notes/ideas+%26+plans.txt" in keys
    outputs = list(inv["output"])
    assert [o["key"] for o in outputs] == list(uploads["key"])  # decoded by the handler
    assert [o["words"] for o in outputs] == list(uploads["words"])
    assert {o["bucket"] for o in outputs} == {sh.LESSON0["bucket"]}


def test_trimmed_event_keeps_the_fields_worth_reading(run) -> None:
    event = sh.trimmed_event(run.events[0])
    record = event["Records"][0]
    assert record["eventName"] == "ObjectCreated:Put" and record["eventSource"] == "aws:s3"
    assert record["s3"]["bucket"]["name"] == "course-notes"
    assert record["s3"]["object"] == {"key": "notes/shopping+list.txt", "size": 34,
                                      "...": "2 more keys"}
    assert record["..."].endswith("more keys")
    with pytest.raises(ValueError, match="S3 event"):
        sh.trimmed_event({"detail": {}})


def test_cold_starts_follow_the_keep_alive_and_the_overlap(run) -> None:
    inv = run.result.invocations
    cold = list(inv["cold"])
    # first request; the report 50 ms after another (that one still busy); after a 10-minute
    # and a 23-minute pause (keep-alive 6 min). The others found an idle environment.
    assert cold == [True, False, False, True, True, False, True, False]
    assert inv["env_id"].nunique() == sum(cold)
    assert ERAS["today"].keep_alive.ttl_s == 360


def test_logs_show_start_handler_lines_end_and_report(run) -> None:
    logs = run.result.logs(sh.FUNCTION)
    text = logs.df["message"]
    assert text.str.startswith("START").sum() == len(sh.DOCUMENTS)
    assert text.str.startswith("END").sum() == len(sh.DOCUMENTS)
    assert len(logs.filter(pattern="Init Duration")) == int(run.result.invocations["cold"].sum())
    assert "counted 31 words in s3://course-notes/notes/meeting minutes.txt" in set(text)
    first = [m.split(" ")[0] for m in logs.head(4).df["message"]]
    assert first == ["START", "counted", "END", "REPORT"]


def test_billed_duration_is_duration_plus_init_rounded_to_1_ms_today(run) -> None:
    inv = run.result.invocations
    expected = billed_duration_ms(inv["duration_ms"] + inv["init_ms"], 1.0)
    np.testing.assert_allclose(inv["billed_ms"], expected)
    report = run.result.logs(sh.FUNCTION).reports()
    np.testing.assert_allclose(report["billed_duration_ms"], inv["billed_ms"])
    total = billing.total_cost(run.result.bill(free_tier=False))
    price = (inv["billed_ms"].sum() / 1000 * 128 / 1024 * 0.0000166667 + len(inv) * 0.2e-6)
    assert total == pytest.approx(price, rel=1e-6)
    assert billing.total_cost(run.result.bill()) == pytest.approx(0.0, abs=1e-12)  # free tier


def test_same_seed_same_run_and_another_seed_differs(run) -> None:
    again = sh.lesson_run().result.invocations
    np.testing.assert_array_equal(again["duration_ms"], run.result.invocations["duration_ms"])
    other = sh.lesson_run(seed=1).result.invocations
    assert not np.array_equal(other["duration_ms"], again["duration_ms"])


def test_output_for_and_bad_inputs(run) -> None:
    assert sh.output_for(run, "poems/haiku.txt")["words"] == 15
    with pytest.raises(ValueError, match="no output for key"):
        sh.output_for(run, "poems/haiku+.txt")
    with pytest.raises(ValueError, match="seed"):
        sh.lesson_simulation(seed=-1)
    with pytest.raises(TypeError, match="events"):
        sh.lesson_simulation(events=())


def test_limits_table_comes_from_the_era_rules() -> None:
    table = sh.limits_table()
    values = dict(zip(table["limit"], table["value"], strict=True))
    assert values["memory"] == "128 to 10,240 MB"
    assert values["run time per request"] == "at most 15 min"
    assert values["idle environments kept"] == "about 6 min"
    assert "1,000" in values["concurrency"]
    assert "per 100 ms" in sh.limits_table("2018").set_index("limit").loc["billing", "value"]
    with pytest.raises(ValueError, match="era"):
        sh.limits_table("1999")


def test_scaling_view_follows_the_load() -> None:
    small, fig = sh.scaling_view(peak_per_min=30, duration_s=1.0)
    big, _ = sh.scaling_view(peak_per_min=600, duration_s=1.0)
    assert isinstance(fig, Figure)
    top, bottom = fig.axes
    assert "per minute" in top.get_ylabel() and bottom.get_xlabel() == "time (min)"
    assert bottom.get_ylabel() == "environments"
    assert small.requests == len(small.result.invocations)
    # Twenty times the traffic: about twenty times the uploads, many more environments.
    assert 15 < big.requests / small.requests < 25
    assert big.environments_created > 3 * small.environments_created
    assert big.peak_environments >= big.result.summary()["max_concurrency"]
    # Busy environments average arrival rate x duration (Little's law), well below the alive.
    busy = big.result.summary()["mean_busy_environments"]
    assert busy < big.result.summary()["mean_environments"]
    # Cost per upload does not depend on the load: pay per use.
    assert big.cost_per_million_usd == pytest.approx(small.cost_per_million_usd, rel=0.05)
    text = sh.scaling_readout(big)
    assert f"{big.requests:,} uploads" in text and "per million" in text


@pytest.mark.parametrize("kwargs", [{"peak_per_min": 0}, {"peak_per_min": 5000},
                                    {"peak_per_min": math.nan}, {"peak_per_min": True},
                                    {"duration_s": 0.0}, {"duration_s": 100.0}])
def test_scaling_run_refuses_bad_parameters(kwargs) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        sh.scaling_run(**kwargs)


def test_scaling_dashboard_has_sliders_and_a_run_button() -> None:
    box = sh.scaling_dashboard(show=False)
    peak, duration, button = box.children[0].children
    assert isinstance(button, w.Button)
    assert peak.value == pytest.approx(300.0) and duration.value == pytest.approx(1.0)
    assert "uploads" in box.children[1].value
    peak.value = 50.0
    button.click()
    assert "environments created" in box.children[1].value
    with pytest.raises(TypeError, match="unknown default"):
        sh.scaling_dashboard(show=False, seed=3)


def test_exercises_are_registered_and_judged(run, assert_judged) -> None:
    inv = run.result.invocations
    assert [REGISTRY[i].kind for i in IDS] == ["predict", "explain", "predict"]
    assert expected_answer("00-cold-requests") == inv["cold"].sum()
    assert expected_answer("00-first-billed-ms") == inv["billed_ms"].iloc[0]
    assert_judged(IDS)


def test_a_prediction_is_compared_with_the_run(run, capsys) -> None:
    inv = run.result.invocations
    right = check("00-cold-requests", int(inv["cold"].sum()))
    assert right.correct and "uploads 1, 4, 5, 7" in right.message
    wrong = check("00-cold-requests", len(sh.DOCUMENTS))
    assert not wrong and "Not every request" in wrong.message
    assert f"{int(inv['cold'].sum())} of the 8 uploads" in wrong.message  # the run, shown after
    capsys.readouterr()


def test_feedback_names_the_common_mistakes(run, capsys) -> None:
    first = run.result.invocations.iloc[0]
    msg = check("00-first-billed-ms", math.ceil(first["duration_ms"])).message
    assert "INIT" in msg
    capsys.readouterr()
