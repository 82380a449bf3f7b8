"""Tests of simlab.core.metrics: CloudWatch metrics computed from records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simlab.core.metrics import ACCOUNT, METRIC_COLUMNS, max_concurrency, metrics, to_wide
from simlab.core.schema import STATUSES


def table(n: int, seed: int, functions=("a", "b"), horizon_s: float = 3600.0) -> pd.DataFrame:
    """A synthetic INVOCATIONS table: rows need not come from a consistent simulation here."""
    rng = np.random.default_rng(seed)
    arrival = np.sort(rng.uniform(0, horizon_s, n))
    status = rng.choice(STATUSES, n, p=[0.7, 0.08, 0.05, 0.02, 0.1, 0.05])
    ran = ~np.isin(status, ["throttled", "dropped"])
    cold = ran & (rng.random(n) < 0.1)
    init = np.where(cold, rng.uniform(100, 1000, n), 0.0)
    start = arrival + init / 1000
    duration = np.where(ran, rng.gamma(2.0, 100.0, n), 0.0)
    end = start + duration / 1000
    return pd.DataFrame(
        {
            "invocation_id": np.arange(n),
            "function": rng.choice(list(functions), n),
            "invocation_type": "sync",
            "arrival_s": arrival,
            "start_s": start,
            "end_s": end,
            "init_ms": init,
            "duration_ms": duration,
            "cold": cold,
            "status": status,
            "env_id": np.where(ran, 0, -1),
            "provisioned": False,
        }
    )


def values(m: pd.DataFrame, function: str, metric: str, statistic: str) -> np.ndarray:
    sel = (m["function"] == function) & (m["metric"] == metric) & (m["statistic"] == statistic)
    return m.loc[sel].sort_values("period_start_s")["value"].to_numpy()


def test_tidy_shape_and_dense_periods() -> None:
    inv = table(500, 1, horizon_s=600)
    m = metrics(inv, period_s=60, account=True)
    assert tuple(m.columns) == METRIC_COLUMNS
    assert set(m["function"]) == {"a", "b", ACCOUNT}
    # Every (function, metric, statistic) has all 10 periods, 0, 60 ... 540 s.
    sizes = m.groupby(["function", "metric", "statistic"], observed=True).size()
    assert (sizes == 10).all()
    assert sorted(m["period_start_s"].unique()) == [60.0 * k for k in range(10)]
    pairs = set(zip(m["metric"].astype(str), m["statistic"].astype(str), strict=True))
    assert {("Invocations", "Sum"), ("Errors", "Sum"), ("Throttles", "Sum"), ("ColdStarts", "Sum"),
            ("Duration", "Average"), ("Duration", "p50"), ("Duration", "p99"),
            ("Duration", "Maximum"), ("ConcurrentExecutions", "Maximum")} <= pairs  # fmt: skip
    assert "IteratorAge" not in set(m["metric"]) and "AsyncEventAge" not in set(m["metric"])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 300), st.integers(0, 2**31), st.sampled_from([0.5, 1.0, 7.0, 60.0, 3600.0]))
def test_sums_equal_record_counts(n: int, seed: int, period_s: float) -> None:
    inv = table(n, seed, functions=("a", "b", "c"), horizon_s=120.0)
    m = metrics(inv, period_s=period_s, account=True)
    status = inv["status"]
    ran = ~status.isin(["throttled", "dropped"])
    for fn in ("a", "b", "c", ACCOUNT):
        rows = inv["function"] == fn if fn != ACCOUNT else pd.Series(True, index=inv.index)
        sums = {
            metric: values(m, fn, metric, "Sum").sum() if n else 0
            for metric in ("Invocations", "Errors", "Throttles", "ColdStarts")
        }
        assert sums["Invocations"] == (rows & ran).sum()
        assert sums["Errors"] == (rows & status.isin(["error", "timeout", "oom"])).sum()
        assert sums["Throttles"] == (rows & (status == "throttled")).sum()
        assert sums["ColdStarts"] == (rows & inv["cold"]).sum()


def test_duration_statistics_match_numpy() -> None:
    inv = table(3000, 2, horizon_s=600)
    inv = inv[inv["end_s"] < 600]  # so that the window is the 10 periods of [0, 600)
    m = metrics(inv, period_s=60, account=True)
    ran = inv[~inv["status"].isin(["throttled", "dropped"])]
    assert m["period_start_s"].max() == 540
    for fn in ("a", "b"):
        grouped = ran[ran["function"] == fn].groupby(ran["start_s"] // 60)["duration_ms"]
        np.testing.assert_allclose(values(m, fn, "Duration", "Average"), grouped.mean())
        np.testing.assert_allclose(values(m, fn, "Duration", "p50"), grouped.median())
        np.testing.assert_allclose(values(m, fn, "Duration", "p99"), grouped.quantile(0.99))
        np.testing.assert_allclose(values(m, fn, "Duration", "Maximum"), grouped.max())
    all_p99 = ran.groupby(ran["start_s"] // 60)["duration_ms"].quantile(0.99)
    np.testing.assert_allclose(values(m, ACCOUNT, "Duration", "p99"), all_p99)


def test_metric_time_is_the_start_and_concurrency_counts_init() -> None:
    # One 150 s invocation starting at 10 s after a 2 s INIT, and a short one at 70 s.
    inv = pd.DataFrame(
        {
            "function": ["f", "f"], "arrival_s": [8.0, 70.0], "start_s": [10.0, 70.0],
            "end_s": [160.0, 70.5], "init_ms": [2000.0, 0.0], "duration_ms": [150_000.0, 500.0],
            "cold": [True, False], "status": ["ok", "timeout"],
        }
    )  # fmt: skip
    m = metrics(inv, period_s=60)
    assert values(m, "f", "Invocations", "Sum").tolist() == [1, 1, 0]
    assert values(m, "f", "Duration", "Maximum")[0] == 150_000.0  # stamped at its start
    assert values(m, "f", "Errors", "Sum").tolist() == [0, 1, 0]
    assert values(m, "f", "ConcurrentExecutions", "Maximum").tolist() == [1, 2, 1]
    # The INIT counts: busy from 8 s, so a window [0, 9) already sees it.
    assert (
        values(metrics(inv, period_s=9, until_s=9), "f", "ConcurrentExecutions", "Maximum")[0] == 1
    )
    assert np.isnan(values(m, "f", "Duration", "p50")[2])  # no data: NaN, counts 0


def test_concurrency_handoff_does_not_double_count() -> None:
    # Back to back in one environment: end at 5 s, next start at 5 s -> never 2 at once.
    got = max_concurrency(np.array([0.0, 5.0, 7.0]), np.array([5.0, 9.0, 7.0]), 10.0, 1)
    assert got.tolist() == [1]
    # A period entirely inside a long interval sees it.
    assert max_concurrency(np.array([0.0]), np.array([100.0]), 10.0, 5).tolist() == [1] * 5


def _brute_max(a: np.ndarray, b: np.ndarray, lo: float, hi: float) -> int:
    # The level is constant between change points: check the window start and each change point.
    points = [lo] + [t for t in np.concatenate([a, b]) if lo <= t < hi]
    return max(int(((a <= p) & (p < b)).sum()) for p in points)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 15)), max_size=30),
    st.sampled_from([1.0, 2.5, 4.0, 10.0]),
)
def test_max_concurrency_matches_brute_force(intervals, period_s) -> None:
    a = np.array([s / 2 for s, _ in intervals], dtype=float)
    b = np.array([(s + d) / 2 for s, d in intervals], dtype=float)
    n = 12
    got = max_concurrency(a, b, period_s, n)
    want = [_brute_max(a, b, k * period_s, (k + 1) * period_s) for k in range(n)]
    assert got.tolist() == want


def test_account_concurrency_is_across_functions() -> None:
    inv = pd.DataFrame(
        {
            "function": ["f", "g", "g"], "start_s": [1.0, 2.0, 2.5], "end_s": [3.0, 4.0, 5.0],
            "init_ms": 0.0, "duration_ms": [2000.0, 2000.0, 2500.0], "cold": False,
            "status": "ok",
        }
    )  # fmt: skip
    m = metrics(inv, period_s=60, account=True)
    assert values(m, "f", "ConcurrentExecutions", "Maximum").tolist() == [1]
    assert values(m, "g", "ConcurrentExecutions", "Maximum").tolist() == [2]
    assert values(m, ACCOUNT, "ConcurrentExecutions", "Maximum").tolist() == [3]


def test_until_functions_and_optional_metrics() -> None:
    inv = table(400, 3, horizon_s=300)
    inv["iterator_age_ms"] = np.linspace(0, 1000, len(inv))
    inv["event_age_ms"] = 5.0
    inv.loc[inv.index[:50], "invocation_type"] = "async"
    inv.loc[inv.index[:10], "provisioned"] = True
    functions = pd.DataFrame({"function": ["a", "b", "idle"], "provisioned_concurrency": [2, 0, 0]})
    m = metrics(inv, period_s=60, until_s=120, functions=functions, account=True)
    assert sorted(m["period_start_s"].unique()) == [0.0, 60.0]
    assert set(m["function"]) == {"a", "b", "idle", ACCOUNT}
    assert values(m, "idle", "Invocations", "Sum").tolist() == [0, 0]
    early = inv[(inv["start_s"] < 120) & ~inv["status"].isin(["throttled", "dropped"])]
    assert values(m, ACCOUNT, "Invocations", "Sum").sum() == len(early)
    assert values(m, ACCOUNT, "IteratorAge", "Maximum")[0] == pytest.approx(
        inv.loc[early.index[early["start_s"] < 60], "iterator_age_ms"].max()
    )
    assert values(m, "a", "AsyncEventAge", "Average")[0] == 5.0
    dropped = inv[(inv["status"] == "dropped") & (inv["start_s"] < 120)]
    assert values(m, ACCOUNT, "AsyncEventsDropped", "Sum").sum() == len(dropped)
    assert values(m, ACCOUNT, "ProvisionedConcurrencyInvocations", "Sum").sum() == (
        early["provisioned"].sum()
    )
    spill = early[(early["function"] == "a") & ~early["provisioned"]]
    assert values(m, "a", "ProvisionedConcurrencySpilloverInvocations", "Sum").sum() == len(spill)
    assert values(m, "b", "ProvisionedConcurrencySpilloverInvocations", "Sum").sum() == 0


def test_to_wide() -> None:
    m = metrics(table(200, 4, horizon_s=180), period_s=60, account=True)
    w = to_wide(m)
    assert len(w) == 3 * 3  # (a, b, account) x 3 periods
    for col in ("Invocations_Sum", "Duration_p99", "ConcurrentExecutions_Maximum"):
        assert col in w.columns
    a = w[w["function"] == "a"].sort_values("period_start_s")
    assert a["Invocations_Sum"].tolist() == values(m, "a", "Invocations", "Sum").tolist()


def test_empty_table_and_bad_input() -> None:
    empty = table(0, 0)
    assert metrics(empty).empty
    assert len(metrics(empty, until_s=120, functions=["a"])) > 0
    inv = table(10, 0)
    with pytest.raises(ValueError, match="period_s"):
        metrics(inv, period_s=0)
    with pytest.raises(ValueError, match="until_s"):
        metrics(inv, until_s=float("nan"))
    with pytest.raises(TypeError, match="period_s"):
        metrics(inv, period_s="60")
    with pytest.raises(ValueError, match="lacks the columns"):
        metrics(inv.drop(columns="init_ms"))
    with pytest.raises(ValueError, match="reserved"):
        metrics(inv, functions=[ACCOUNT])
    with pytest.raises(TypeError, match="account"):
        metrics(inv, account="yes")


def test_account_rows_only_when_asked_so_sums_count_each_request_once() -> None:
    inv = table(600, 9, functions=("a", "b", "c"), horizon_s=300)
    plain, both = metrics(inv, period_s=60), metrics(inv, period_s=60, account=True)
    assert set(plain["function"]) == {"a", "b", "c"}
    kept = both[both["function"] != ACCOUNT].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        plain.astype({"function": str}), kept.astype({"function": str}))
    errors = plain.query("metric == 'Errors'")["value"].sum()
    assert errors == inv["status"].isin(["error", "timeout", "oom"]).sum() > 0
    account = both.query("metric == 'Errors' and function == @ACCOUNT")["value"].sum()
    assert account == errors


def test_categorical_columns_give_the_same_result() -> None:
    inv = table(300, 5)
    cat = inv.astype({"function": "category", "status": "category"})
    pd.testing.assert_frame_equal(metrics(inv), metrics(cat))
