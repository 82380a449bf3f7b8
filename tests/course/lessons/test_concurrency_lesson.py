"""Tests of simlab.course.lessons.concurrency: lesson 2's tables and figures, reserved and
provisioned concurrency, and its exercises (Little's law, capping a noisy neighbour, the most a
function can reserve)."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from simlab.course.exercises import REGISTRY, check, exercises, hint  # noqa: E402
from simlab.course.lessons import concurrency as lesson  # noqa: E402
from simlab.course.teacher import expected_answer  # noqa: E402


@pytest.fixture(scope="module")
def neighbours():
    return {"none": lesson.noisy_neighbour_run(),
            "checkout 50": lesson.noisy_neighbour_run(checkout_reserved=50),
            "batch 200": lesson.noisy_neighbour_run(batch_reserved=200)}


# -- tables and limits -----------------------------------------------------------------------------
def test_outcome_table_counts_match_the_records(neighbours) -> None:
    t = lesson.outcome_table(neighbours, "checkout")
    inv = neighbours["none"].invocations
    mine = inv[inv["function"] == "checkout"]
    throttled = (mine["status"] == "throttled").to_numpy()
    assert t.loc["none", "requests"] == len(mine)
    assert t.loc["none", "throttled_pct"] == pytest.approx(100 * throttled.mean())
    assert t.loc["none", "cold_starts"] == mine["cold"].sum()
    assert t.loc["none", "first_throttle_s"] == mine["arrival_s"][throttled].min()
    assert math.isnan(t.loc["checkout 50", "first_throttle_s"])
    with pytest.raises(TypeError, match="results must map"):
        lesson.outcome_table({})


def test_reserved_concurrency_is_a_guarantee_and_a_maximum(neighbours) -> None:
    checkout = lesson.outcome_table(neighbours, "checkout")
    batch = lesson.outcome_table(neighbours, "batch")
    assert checkout.loc["none", "throttled_pct"] > 10
    assert checkout.loc["checkout 50", "throttled_pct"] == 0
    assert checkout.loc["batch 200", "throttled_pct"] == 0
    assert batch.loc["none", "peak_concurrency"] == 1000  # the account limit
    assert batch.loc["checkout 50", "peak_concurrency"] == 950  # the account minus the reservation
    assert batch.loc["batch 200", "peak_concurrency"] == 200


def test_reservations_must_leave_100_unreserved() -> None:
    with pytest.raises(ValueError, match="minimum value of 100"):
        lesson.noisy_neighbour_run(checkout_reserved=150, batch_reserved=800)
    lesson.noisy_neighbour_run(checkout_reserved=100, batch_reserved=800, until_s=1.0)


def test_provisioned_environments_are_never_cold_and_traffic_spills_over() -> None:
    runs = {n: lesson.provisioned_run(n, bursts=1) for n in (0, 10)}
    none, ten = (r.invocations for r in runs.values())
    assert not none["provisioned"].any()
    assert not (ten["provisioned"] & ten["cold"]).any()
    assert 0.5 < ten["provisioned"].mean() < 1.0  # most served by the 10, the rest spill over
    assert ten["cold"].sum() < none["cold"].sum()
    assert (runs[10].environments["provisioned"]).sum() == 10
    with pytest.raises(ValueError, match="provisioned"):
        lesson.provisioned_run(-1)


def test_compare_figure_draws_one_panel_per_run(neighbours) -> None:
    fig = lesson.compare_figure(neighbours, "outcomes", function="checkout", period_s=10)
    assert len(fig.axes) == 3 and fig.axes[0].get_title() == "none: checkout"
    with pytest.raises(ValueError, match="plot must be"):
        lesson.compare_figure(neighbours, "histogram")


# -- exercises -------------------------------------------------------------------------------------
IDS = ["02-cap-the-neighbour", "02-littles-law", "02-most-reserved"]


def test_exercises_are_registered_and_judged(assert_judged) -> None:
    assert set(IDS) <= set(exercises(2))
    assert [REGISTRY[i].kind for i in IDS] == ["predict", "compute", "explain"]
    for i in IDS:
        assert len(REGISTRY[i].hints) >= 2
        assert hint(i, 1).startswith("💡")
    assert_judged(IDS)


def test_reference_answers_come_from_simlab(neighbours) -> None:
    assert expected_answer("02-littles-law") == pytest.approx(40 * 0.35)
    # Capping batch at 200 leaves the account's pool unfilled: checkout is never throttled.
    assert expected_answer("02-cap-the-neighbour") == "b"
    capped = lesson.outcome_table(neighbours, "checkout").loc["batch 200", "throttled_pct"]
    assert capped == 0


@pytest.mark.parametrize("exercise_id, wrong, says", [
    ("02-littles-law", 840.0, "per second"),
    ("02-littles-law", 14000.0, "milliseconds"),
    ("02-cap-the-neighbour", "a", "never reach 1,000"),
    ("02-cap-the-neighbour", "c", "800 stay unreserved"),
])
def test_common_mistakes_get_targeted_feedback(exercise_id, wrong, says, capsys) -> None:
    result = check(exercise_id, wrong)
    assert result.status == "incorrect" and says in result.message
    assert "too high" not in result.message and "too low" not in result.message
