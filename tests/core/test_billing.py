"""Tests of simlab.billing and simlab.prices (AWS's worked examples, rounding, INIT, free tier),
and of the provider's side of a run (simlab.core.provider)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simlab.core.billing import (
    GRANULARITY_RANGE_MS,
    ITEMS,
    bill,
    billed_duration_ms,
    granularity_ms_for,
    init_billed,
    price_invocations,
    total_cost,
)
from simlab.core.prices import SHEETS, ArchPrices, PriceSheet, Tier, as_date, price_sheet_for
from simlab.core.provider import PROVIDER_METRICS, provider_view
from simlab.core.schema import STATUSES


def functions_table(*rows: dict) -> pd.DataFrame:
    """A FUNCTIONS table; each row overrides the defaults of a 512 MB x86 python ZIP function."""
    base = {
        "function": "f",
        "memory_mb": 512,
        "timeout_s": 3.0,
        "architecture": "x86_64",
        "runtime": "python3.12",
        "package_type": "zip",
        "ephemeral_storage_mb": 512,
        "reserved_concurrency": math.nan,
        "provisioned_concurrency": 0,
    }
    return pd.DataFrame([{**base, **r} for r in (rows or ({},))])


def invocations_table(
    duration_ms, *, function="f", status="ok", init_ms=0.0, provisioned=False, count=None
) -> pd.DataFrame:
    """An INVOCATIONS table with the columns billing reads (scalars are broadcast)."""
    d = np.atleast_1d(np.asarray(duration_ms, dtype=float))
    n = len(d)
    table = pd.DataFrame(
        {
            "function": np.broadcast_to(np.asarray(function, dtype=object), n),
            "status": np.broadcast_to(np.asarray(status, dtype=object), n),
            "duration_ms": d,
            "init_ms": np.broadcast_to(np.asarray(init_ms, dtype=float), n),
            "provisioned": np.broadcast_to(np.asarray(provisioned, dtype=bool), n),
        }
    )
    if count is not None:
        table["count"] = np.broadcast_to(np.asarray(count), n)
    return table


def item(b: pd.DataFrame, name: str, function: str = "f") -> float:
    """Cost of one line item of one function (0 if absent)."""
    rows = b[(b["item"] == name) & (b["function"] == function)]
    return float(rows["cost_usd"].sum())


# --- AWS's worked examples (LAMBDA_FACTS.md section 1.6) -----------------------------------------


def test_example_a_three_million_rows_reproduces_aws_to_the_cent():
    n = 3_000_000
    invocations = pd.DataFrame(
        {
            "function": np.full(n, "f", dtype=object),
            "status": np.full(n, "ok", dtype=object),
            "duration_ms": np.full(n, 1000.0),
            "init_ms": np.zeros(n),
            "provisioned": np.zeros(n, dtype=bool),
            "memory_mb": np.full(n, 512),
            "architecture": np.full(n, "x86_64", dtype=object),
        }
    )
    b = bill(invocations, functions_table(), date="2018", granularity_ms=100)
    compute = item(b, "duration") + item(b, "free_tier_credit_duration")
    requests = item(b, "requests") + item(b, "free_tier_credit_requests")
    assert round(compute, 2) == 18.34
    assert round(requests, 2) == 0.40
    assert round(total_cost(b), 2) == 18.74
    assert b.attrs["price_sheet"] == "2018"
    gb_s = b.loc[b["item"] == "duration", "quantity"].item()
    assert gb_s == 1_500_000.0


def test_example_a_with_a_count_column_and_with_todays_price():
    invocations = invocations_table(1000.0, count=3_000_000)
    old = bill(invocations, functions_table(), date="2018", granularity_ms=100)
    assert round(total_cost(old), 2) == 18.74
    today = bill(invocations, functions_table(), date="today", granularity_ms=1)
    compute = item(today, "duration") + item(today, "free_tier_credit_duration")
    assert round(compute, 2) == 18.33


def test_example_b_128mb_30m_invocations():
    invocations = invocations_table(200.0, count=30_000_000)
    b = bill(invocations, functions_table({"memory_mb": 128}), date="2018", granularity_ms=100)
    assert round(item(b, "duration") + item(b, "free_tier_credit_duration"), 2) == 5.83
    assert round(item(b, "requests") + item(b, "free_tier_credit_requests"), 2) == 5.80
    assert round(total_cost(b), 2) == 11.63


def test_example_c_100ms_versus_1ms_billing():
    invocations = invocations_table(28.0, count=60_000_000)
    fn = functions_table({"memory_mb": 1024})
    kw = {"date": "2020-12-01", "free_tier": False}
    coarse = bill(invocations, fn, granularity_ms=100, **kw)
    fine = bill(invocations, fn, granularity_ms=1, **kw)
    assert round(item(coarse, "duration"), 2) == 100.00
    assert round(item(fine, "duration"), 2) == 28.00
    assert round(item(coarse, "requests"), 2) == round(item(fine, "requests"), 2) == 12.00
    assert "free_tier_credit_requests" not in set(coarse["item"])


def test_example_d_provisioned_concurrency():
    invocations = invocations_table(1000.0, provisioned=True, count=1_200_000)
    fn = functions_table({"memory_mb": 1024, "provisioned_concurrency": 1000})
    b = bill(invocations, fn, date="today", granularity_ms=1, run_seconds=7200)
    assert round(item(b, "provisioned"), 2) == 30.00
    assert round(item(b, "provisioned_duration"), 2) == 11.67
    assert round(item(b, "requests"), 2) == 0.24
    assert item(b, "duration") == 0.0
    assert round(total_cost(b), 2) == 41.91
    # The free tier does not apply to functions with provisioned concurrency.
    assert not b["item"].str.startswith("free_tier").any()


def test_provisioned_concurrency_is_billed_in_five_minute_blocks():
    fn = functions_table({"memory_mb": 1024, "provisioned_concurrency": 2})
    empty = invocations_table([])
    for run_s, billed_s in ((1.0, 300.0), (300.0, 300.0), (7201.0, 7500.0)):
        b = bill(empty, fn, date="today", granularity_ms=1, run_seconds=run_s)
        assert b.loc[b["item"] == "provisioned", "quantity"].item() == 2 * 1.0 * billed_s


def test_spillover_from_a_provisioned_function_pays_on_demand_rates():
    inv = pd.concat(
        [invocations_table(1000.0, provisioned=True), invocations_table(1000.0, provisioned=False)]
    )
    fn = functions_table({"memory_mb": 1024, "provisioned_concurrency": 1})
    b = bill(inv, fn, date="today", granularity_ms=1, run_seconds=300)
    assert item(b, "duration") == pytest.approx(1.0 * 0.0000166667)
    assert item(b, "provisioned_duration") == pytest.approx(1.0 * 0.0000097222)


# --- rounding -------------------------------------------------------------------------------------


def test_101ms_bills_200ms_at_100ms_and_101ms_at_1ms():
    assert billed_duration_ms(101.0, 100) == 200.0
    assert billed_duration_ms(101.0, 1) == 101.0
    inv = invocations_table(101.0)
    assert price_invocations(inv, functions_table(), date="2018", granularity_ms=100)[
        "billed_ms"
    ].tolist() == [200.0]
    assert price_invocations(inv, functions_table(), date="today", granularity_ms=1)[
        "billed_ms"
    ].tolist() == [101.0]


@pytest.mark.parametrize(
    ("duration", "granularity", "billed"),
    [
        (200.0, 100, 200.0),
        (200.0000001, 100, 300.0),
        (27.40, 100, 100.0),
        (27.55, 1, 28.0),
        (0.3, 1, 1.0),
        (0.0, 100, 100.0),
        (0.0, 1, 1.0),
        (1e-9, 100, 100.0),
        (3.0, 1, 3.0),
    ],
)
def test_billed_duration_rounds_up_to_the_granularity(duration, granularity, billed):
    assert billed_duration_ms(duration, granularity) == billed


def test_billed_duration_is_vectorised_and_exact_for_decimal_granularities():
    durations = np.array([0.3, 0.7, 1.0, 0.31, 0.30000000000000004])
    out = billed_duration_ms(durations, 0.1)
    assert isinstance(out, np.ndarray)
    # 0.3 / 0.1 is 2.9999999999999996 in floating point: still exactly 3 granules.
    np.testing.assert_allclose(out, [0.3, 0.7, 1.0, 0.4, 0.3])
    assert (out >= durations).all()


@given(
    st.lists(st.floats(0, 1e7, allow_nan=False), min_size=1, max_size=50),
    st.floats(1e-3, 1e5, allow_nan=False),
)
def test_property_billed_is_at_least_actual_and_less_than_one_granule_more(durations, g):
    d = np.array(durations)
    billed = billed_duration_ms(d, g)
    assert (billed >= d).all()
    assert (billed >= g).all()
    assert (billed < d + g * (1 + 1e-9) + 1e-9).all()
    granules = billed / g
    np.testing.assert_allclose(granules, np.round(granules), rtol=1e-9)


# --- property tests over whole records ------------------------------------------------------------

FUNCTIONS_MIXED = functions_table(
    {"function": "zip", "memory_mb": 256},
    {"function": "img", "memory_mb": 1536, "package_type": "image", "architecture": "arm64"},
)

records = st.lists(
    st.tuples(
        st.sampled_from(["zip", "img"]),
        st.sampled_from(STATUSES),
        st.floats(0, 5000, allow_nan=False),
        st.floats(0, 2000, allow_nan=False),
    ),
    min_size=1,
    max_size=40,
)


def as_table(rows: list[tuple]) -> pd.DataFrame:
    fn, status, duration, init = (list(c) for c in zip(*rows, strict=True))
    return pd.DataFrame(
        {
            "function": fn,
            "status": status,
            "duration_ms": duration,
            "init_ms": init,
            "memory_mb": [256 if f == "zip" else 1536 for f in fn],
            "architecture": ["x86_64" if f == "zip" else "arm64" for f in fn],
        }
    )


@settings(max_examples=60, deadline=None)
@given(records, st.sampled_from(["2024-01-01", "today"]))
def test_property_every_billed_row_bills_at_least_its_duration(rows, date):
    inv = as_table(rows)
    priced = price_invocations(inv, FUNCTIONS_MIXED, date=date, granularity_ms=100)
    ran = ~inv["status"].isin(["throttled", "dropped"])
    assert (priced["billed_ms"][ran] >= inv["duration_ms"][ran]).all()
    assert (priced["billed_ms"][~ran] == 0).all()
    assert (priced["cost_usd"][~ran] == 0).all()
    assert (priced["cost_usd"][ran] > 0).all()


@settings(max_examples=60, deadline=None)
@given(records, st.booleans(), st.sampled_from(["2022-01-01", "today"]))
def test_property_1ms_billing_never_costs_more_than_100ms(rows, free_tier, date):
    inv = as_table(rows)
    kw = {"date": date, "free_tier": free_tier}
    fine = total_cost(bill(inv, FUNCTIONS_MIXED, granularity_ms=1, **kw))
    coarse = total_cost(bill(inv, FUNCTIONS_MIXED, granularity_ms=100, **kw))
    assert fine <= coarse + 1e-12 * max(1.0, abs(coarse))
    per_row_fine = price_invocations(inv, FUNCTIONS_MIXED, date=date, granularity_ms=1)
    per_row_coarse = price_invocations(inv, FUNCTIONS_MIXED, date=date, granularity_ms=100)
    assert (per_row_fine["cost_usd"] <= per_row_coarse["cost_usd"]).all()


# --- INIT billing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "package", "runtime", "provisioned", "billed"),
    [
        ("2018", "zip", "python3.12", False, False),
        ("2025-07-31", "zip", "nodejs20.x", False, False),
        ("2025-08-01", "zip", "nodejs20.x", False, True),
        ("today", "zip", "python3.12", False, True),
        ("2018", "image", "python3.12", False, True),
        ("2018", "zip", "provided.al2", False, True),
        ("2018", "zip", "provided", False, True),
        ("2020", "zip", "python3.8", True, True),
        ("2018", "zip", "providedish", False, False),
    ],
)
def test_init_billed_by_date_package_runtime_and_provisioning(
    date, package, runtime, provisioned, billed
):
    assert init_billed(date, package, runtime, provisioned) is billed


def test_a_cold_zip_start_is_billed_its_init_from_august_2025_only():
    inv = invocations_table(10.0, init_ms=250.0)
    before = price_invocations(inv, functions_table(), date="2025-07-31", granularity_ms=1)
    after = price_invocations(inv, functions_table(), date="2025-08-01", granularity_ms=1)
    assert before["billed_ms"].item() == 10.0
    assert after["billed_ms"].item() == 260.0
    image = functions_table({"package_type": "image"})
    # AWS's measured example: 1293.83 ms INIT + 1049.63 ms run bills 2344 ms.
    inv = invocations_table(1049.63, init_ms=1293.83)
    assert (
        price_invocations(inv, image, date="2024-01-01", granularity_ms=1)["billed_ms"].item()
        == 2344.0
    )


# --- what is not billed ---------------------------------------------------------------------------


def test_throttled_and_dropped_rows_cost_nothing():
    ran = invocations_table([120.0, 80.0])
    refused = invocations_table([math.nan, math.nan], status=["throttled", "dropped"])
    fn = functions_table()
    with_refused = bill(pd.concat([ran, refused]), fn, date="today", granularity_ms=1)
    without = bill(ran, fn, date="today", granularity_ms=1, free_tier=True)
    pd.testing.assert_frame_equal(with_refused, without)
    priced = price_invocations(refused, fn, date="today", granularity_ms=1)
    assert priced["billed_ms"].tolist() == [0.0, 0.0]
    assert priced["cost_usd"].tolist() == [0.0, 0.0]
    only_refused = bill(refused, fn, date="today", granularity_ms=1)
    assert total_cost(only_refused) == 0.0


# --- free tier, tiers, architectures, storage -----------------------------------------------------


def test_free_tier_is_shared_in_proportion_and_never_covers_pc_functions():
    fn = functions_table(
        {"function": "a", "memory_mb": 1024},
        {"function": "b", "memory_mb": 1024},
        {"function": "p", "memory_mb": 1024, "provisioned_concurrency": 1},
    )
    inv = pd.concat(
        [
            invocations_table(1000.0, function="a", count=300_000),  # 300,000 GB-s
            invocations_table(1000.0, function="b", count=700_000),  # 700,000 GB-s
            invocations_table(1000.0, function="p", count=500_000),
        ]
    )
    b = bill(inv, fn, date="today", granularity_ms=1, run_seconds=3600)
    gb_s = b[b["item"] == "free_tier_credit_duration"].set_index("function")["quantity"]
    assert gb_s.to_dict() == pytest.approx({"a": -120_000.0, "b": -280_000.0})
    reqs = b[b["item"] == "free_tier_credit_requests"].set_index("function")["quantity"]
    assert reqs.to_dict() == pytest.approx({"a": -300_000.0, "b": -700_000.0})
    assert item(b, "free_tier_credit_duration", "p") == 0.0


def test_free_tier_never_exceeds_usage_and_months_scale_it():
    inv = invocations_table(100.0, count=10)
    b = bill(inv, functions_table(), date="today", granularity_ms=1)
    assert total_cost(b) == pytest.approx(0.0, abs=1e-15)
    big = invocations_table(1000.0, count=3_000_000)
    two_months = bill(big, functions_table(), date="2018", granularity_ms=100, months=2)
    credit = two_months.loc[two_months["item"] == "free_tier_credit_duration", "quantity"].item()
    assert credit == -800_000.0


def test_volume_tiers_apply_to_the_monthly_total_per_architecture():
    fn = functions_table({"memory_mb": 10240})
    inv = invocations_table(1000.0, count=700_000_000)  # 7 billion GB-s
    b = bill(inv, fn, date="today", granularity_ms=1, free_tier=False)
    assert item(b, "duration") == pytest.approx(6e9 * 0.0000166667 + 1e9 * 0.0000150000)
    flat = bill(inv, fn, date="2022-07-31", granularity_ms=1, free_tier=False)
    assert item(flat, "duration") == pytest.approx(7e9 * 0.0000166667)
    two_months = bill(inv, fn, date="today", granularity_ms=1, free_tier=False, months=2)
    assert item(two_months, "duration") == pytest.approx(7e9 * 0.0000166667)


def test_arm_is_cheaper_and_did_not_exist_before_september_2021():
    fn = functions_table({"architecture": "arm64", "memory_mb": 1024})
    inv = invocations_table(1000.0)
    b = bill(inv, fn, date="today", granularity_ms=1, free_tier=False)
    assert item(b, "duration") == pytest.approx(0.0000133334)
    with pytest.raises(ValueError, match=r"no arm64 prices.*2021-09-29"):
        bill(inv, fn, date="2020", granularity_ms=100)
    with pytest.raises(ValueError, match="arm64"):
        price_sheet_for("2018").arch("arm64")


def test_ephemeral_storage_beyond_512mb_is_billed_per_gb_s():
    fn = functions_table({"memory_mb": 1024, "ephemeral_storage_mb": 10240})
    inv = invocations_table(1000.0, count=1000)
    b = bill(inv, fn, date="today", granularity_ms=1, free_tier=False)
    assert item(b, "ephemeral_storage") == pytest.approx(9.5 * 1000 * 0.0000000309)
    with pytest.raises(ValueError, match=r"ephemeral storage.*2022-03-24"):
        bill(inv, fn, date="2020", granularity_ms=100)


def test_bill_rows_are_consistent_and_ordered():
    fn = functions_table(
        {"function": "z", "provisioned_concurrency": 1, "ephemeral_storage_mb": 1024},
        {"function": "a"},
    )
    inv = pd.concat([invocations_table(5.0, function="a"), invocations_table(5.0, function="z")])
    b = bill(inv, fn, date="today", granularity_ms=1, run_seconds=60)
    assert list(b.columns) == [
        "function",
        "architecture",
        "item",
        "quantity",
        "unit",
        "unit_price_usd",
        "cost_usd",
    ]
    np.testing.assert_allclose(b["quantity"] * b["unit_price_usd"], b["cost_usd"])
    assert b["function"].tolist()[0] == "z"  # the order of the FUNCTIONS table
    for _, rows in b.groupby("function"):
        positions = [ITEMS.index(i) for i in rows["item"]]
        assert positions == sorted(positions)
    assert (b.loc[b["item"].str.startswith("free_tier"), "cost_usd"] <= 0).all()
    assert b.attrs["granularity_ms"] == 1.0


def test_price_invocations_keeps_the_index_and_prices_each_row():
    inv = invocations_table([1000.0, 1000.0]).set_axis([10, 20])
    p = price_invocations(inv, functions_table(), date="2018", granularity_ms=100)
    assert p.index.tolist() == [10, 20]
    assert p["cost_usd"].tolist() == pytest.approx([0.2e-6 + 0.5 * 0.00001667] * 2)


def test_a_custom_price_sheet_reprices_the_same_records():
    sheet = dataclasses.replace(price_sheet_for("today"), request_usd_per_million=1.0)
    inv = invocations_table(1.0, count=1_000_000)
    b = bill(inv, functions_table(), date="today", granularity_ms=1, prices=sheet, free_tier=False)
    assert item(b, "requests") == pytest.approx(1.0)


# --- price sheets ---------------------------------------------------------------------------------


def test_price_sheets_by_date():
    assert [price_sheet_for(e).name for e in ("2018", "2020", "today")] == [
        "2018",
        "2019-12",
        "2022-08",
    ]
    assert price_sheet_for("2022-07-31").name == "2022-03"
    assert price_sheet_for(dt.date(2022, 8, 1)).name == "2022-08"
    assert price_sheet_for(dt.datetime(2019, 12, 3, 12)).name == "2019-12"
    dates = [s.effective_from for s in SHEETS]
    assert dates == sorted(dates)
    for sheet in SHEETS:
        assert sheet.source.startswith("https://")
        assert sheet.request_usd_per_million == 0.20
        assert sheet.free_gb_s_per_month == 400_000 and sheet.free_requests_per_month == 1e6
    assert price_sheet_for("2018").x86.first_tier_price == 0.00001667
    assert price_sheet_for("2020").x86.first_tier_price == 0.0000166667
    assert as_date("today") == dt.date(2026, 11, 27)


def test_granularity_by_date():
    assert granularity_ms_for("2018") == granularity_ms_for("2020-11-30") == 100.0
    assert granularity_ms_for("2020-12-01") == granularity_ms_for("today") == 1.0


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, -1, -100.0, math.nan, math.inf, -math.inf, 1e-12, 4e6])
def test_bad_granularity_is_refused_with_name_value_and_range(bad):
    with pytest.raises(ValueError, match="granularity_ms") as err:
        billed_duration_ms(10.0, bad)
    assert repr(bad) in str(err.value) and f"{GRANULARITY_RANGE_MS[0]:g}" in str(err.value)
    with pytest.raises(ValueError, match="granularity_ms"):
        bill(invocations_table(10.0), functions_table(), date="today", granularity_ms=bad)


@pytest.mark.parametrize("bad", [True, "100", None])
def test_granularity_of_the_wrong_type_is_refused(bad):
    with pytest.raises(TypeError, match="granularity_ms"):
        billed_duration_ms(10.0, bad)


@pytest.mark.parametrize("bad", [0, 0.0, -0.2, math.nan, math.inf])
def test_bad_prices_are_refused_with_name_and_value(bad):
    today = price_sheet_for("today")
    with pytest.raises(ValueError, match=r"request_usd_per_million.*> 0") as err:
        dataclasses.replace(today, request_usd_per_million=bad)
    assert repr(float(bad)) in str(err.value)
    with pytest.raises(ValueError, match="price_per_gb_s"):
        Tier(math.inf, bad)
    with pytest.raises(ValueError, match="provisioned_per_gb_s"):
        ArchPrices((Tier(math.inf, 1e-5),), provisioned_per_gb_s=bad)
    with pytest.raises(ValueError, match="ephemeral_per_gb_s"):
        dataclasses.replace(today, ephemeral_per_gb_s=bad)


def test_bad_sheets_and_dates_are_refused():
    with pytest.raises(ValueError, match="increasing"):
        ArchPrices((Tier(1e9, 1e-5), Tier(1e8, 1e-5), Tier(math.inf, 1e-5)))
    with pytest.raises(ValueError, match="2014-11-13"):
        price_sheet_for("2010-01-01")
    with pytest.raises(ValueError, match="era name"):
        price_sheet_for("yesterday")
    with pytest.raises(TypeError, match="prices"):
        bill(invocations_table(1.0), functions_table(), date="today", granularity_ms=1, prices={})
    assert isinstance(price_sheet_for("today"), PriceSheet)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"duration_ms": [-1.0]}, r"duration_ms.*-1\.0"),
        ({"duration_ms": [math.nan]}, "duration_ms"),
        ({"init_ms": [math.inf]}, "init_ms"),
        ({"status": ["finished"]}, r"status.*'finished'"),
        ({"function": ["nobody"]}, r"function.*'nobody'"),
        ({"count": [1.5]}, r"count.*1\.5"),
        ({"provisioned": [None]}, "provisioned"),
    ],
)
def test_bad_records_are_refused(change, message):
    inv = invocations_table(10.0)
    for column, values in change.items():
        inv[column] = pd.Series(values, dtype=object if column == "provisioned" else None)
    with pytest.raises(ValueError, match=message):
        bill(inv, functions_table(), date="today", granularity_ms=1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"memory_mb": 0}, "memory_mb"),
        ({"architecture": "sparc"}, "architecture"),
        ({"package_type": "jar"}, "package_type"),
        ({"ephemeral_storage_mb": 256}, "ephemeral_storage_mb"),
        ({"provisioned_concurrency": -1}, "provisioned_concurrency"),
    ],
)
def test_bad_function_tables_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        bill(invocations_table(10.0), functions_table(change), date="today", granularity_ms=1)


def test_bad_bill_options_are_refused():
    inv, fn = invocations_table(10.0), functions_table()
    for months in (0, -1, math.nan, math.inf):
        with pytest.raises(ValueError, match="months"):
            bill(inv, fn, date="today", granularity_ms=1, months=months)
    pc = functions_table({"provisioned_concurrency": 2})
    with pytest.raises(ValueError, match="run_seconds is required"):
        bill(inv, pc, date="today", granularity_ms=1)
    with pytest.raises(ValueError, match="run_seconds"):
        bill(inv, pc, date="today", granularity_ms=1, run_seconds=-5)
    with pytest.raises(ValueError, match=r"provisioned concurrency.*2019-12-03"):
        bill(inv, pc, date="2018", granularity_ms=100, run_seconds=60)
    with pytest.raises(ValueError, match="unique"):
        bill(inv, pd.concat([fn, fn]), date="today", granularity_ms=1)
    with pytest.raises(ValueError, match="package_type"):
        init_billed("today", "tarball", "python3.12", False)


# --- the provider's side --------------------------------------------------------------------------


def test_provider_view_accounts_for_idle_provisioned_and_billed_memory():
    fn = functions_table({"memory_mb": 1024, "provisioned_concurrency": 1})
    inv = pd.concat(
        [
            invocations_table(150.0, init_ms=500.0),  # on-demand cold start, zip, 2018: init free
            invocations_table(150.0, provisioned=True),
            invocations_table(math.nan, status="throttled"),
        ]
    )
    environments = pd.DataFrame(
        {
            "memory_mb": [1024, 1024],
            "provisioned": [False, True],
            "created_s": [0.0, 0.0],
            "ended_s": [100.0, 120.0],  # the provisioned one is alive past the end
            "busy_s": [0.15, 0.15],
            "init_s": [0.5, 0.5],
        }
    )
    hosts = pd.DataFrame({"memory_mb": [3072], "created_s": [0.0], "used_mb_s": [1024 * 200.0]})
    view = provider_view(
        inv, environments, hosts, fn, 100.0, date="2020", granularity_ms=100
    ).set_index("metric")
    assert list(view.index) == list(PROVIDER_METRICS)
    v = view["value"]
    assert v["billed_gb_s"] == pytest.approx(0.4)  # two invocations billed 200 ms at 1 GB
    assert v["rounding_gb_s"] == pytest.approx(0.1)
    assert v["unbilled_init_gb_s"] == pytest.approx(0.5)
    assert v["idle_warm_gb_s"] == pytest.approx(100.0 - 0.5 - 0.15)
    assert v["provisioned_held_gb_s"] == pytest.approx(100.0)
    assert v["environment_held_gb_s"] == pytest.approx(200.0)
    assert v["host_used_gb_s"] == pytest.approx(200.0)
    assert v["host_capacity_gb_s"] == pytest.approx(300.0)
    assert v["billed_per_host_used"] == pytest.approx(0.4 / 200.0)
    with pytest.raises(ValueError, match="until_s"):
        provider_view(inv, environments, hosts, fn, 0.0, date="2020", granularity_ms=100)
    with pytest.raises(ValueError, match=r"hosts lacks.*used_mb_s"):
        provider_view(
            inv,
            environments,
            hosts.drop(columns="used_mb_s"),
            fn,
            1.0,
            date="2020",
            granularity_ms=100,
        )


# -- provisioned concurrency spans from a run's control-plane log ---------------------------------
def _pc_run(updates: list[tuple[float, dict]], until_s: float = 300.0):
    import simlab

    sim = simlab.Simulation(seed=1)
    sim.add_function("f", memory_mb=1024, duration_s=0.1, provisioned_concurrency=2)
    for at_s, changes in updates:
        sim.update_function_configuration(at_s, "f", **changes)
    return sim.run(until_s=until_s)


def test_no_op_control_plane_calls_start_no_provisioned_span():
    # 2 environments x 1 GB x 300 s, whatever nine calls that leave the PC as it was say.
    noops = [(30.0 * k, {"error_rate": 0.0}) for k in range(1, 10)]
    assert _pc_run([]).provisioned_gb_s() == {"f": 600.0}
    assert _pc_run(noops).provisioned_gb_s() == {"f": 600.0}
    same = [(60.0, {"provisioned_concurrency": 2}), (120.0, {"timeout_s": 10})]
    assert _pc_run(same).provisioned_gb_s() == {"f": 600.0}
    row = _pc_run(noops).bill()
    assert row.loc[row["item"] == "provisioned", "quantity"].tolist() == [600.0]


def test_a_provisioned_span_ends_when_it_is_disabled_or_changed():
    # 2 x 1 GB from 0 to 100 s (one 300 s block), then 4 x 1 GB from 100 s to 700 s (two blocks),
    # then off; a no-op at 400 s splits nothing.
    res = _pc_run([(100.0, {"provisioned_concurrency": 4}), (400.0, {"error_rate": 0.0}),
                   (700.0, {"provisioned_concurrency": 0})], until_s=1_000.0)
    assert res.provisioned_gb_s() == {"f": 2 * 300.0 + 4 * 600.0}
    # A memory change is a new provisioned configuration: 2 x 1 GB x 300 s + 2 x 2 GB x 300 s.
    res = _pc_run([(250.0, {"memory_mb": 2048})], until_s=500.0)
    assert res.provisioned_gb_s() == {"f": 2 * 300.0 + 2 * 2 * 300.0}
