"""Tests of simlab.core.logs (CloudWatch log events rebuilt from records) and of
simlab.core.log_view, which reads them back."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simlab.core.ids import environment_hex_id, request_id
from simlab.core.log_view import LogView, parse_report, parse_reports
from simlab.core.logs import LOG_COLUMNS, log_events, log_stream_names

STREAM = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")


def build(envs: list[dict], throttled: list[tuple[str, float]] = ()) -> tuple[pd.DataFrame, ...]:
    """Tables from a hand-written description.

    ``envs``: one dict per environment: function, created_s, memory_mb, and ``calls``, a list of
    (gap_s, init_ms, duration_ms, used_mb, status); the first call of an environment is cold when
    its init_ms > 0. Calls run back to back in the environment, ``gap_s`` after the previous end.
    """
    rows, env_rows = [], []
    for env_id, e in enumerate(envs):
        env_rows.append({"env_id": env_id, "function": e["function"], "created_s": e["created_s"]})
        t = e["created_s"]
        for gap, init_ms, dur, used, status in e["calls"]:
            arrival = t + gap
            start = arrival + init_ms / 1000
            end = start + dur / 1000
            rows.append(
                dict(function=e["function"], arrival_s=arrival, start_s=start, end_s=end,
                     init_ms=init_ms, duration_ms=dur, cold=init_ms > 0, status=status,
                     env_id=env_id, memory_mb=e["memory_mb"], max_memory_used_mb=used)
            )  # fmt: skip
            t = end
    for fn, arrival in throttled:
        rows.append(
            dict(function=fn, arrival_s=arrival, start_s=math.nan, end_s=math.nan, init_ms=0.0,
                 duration_ms=0.0, cold=False, status="throttled", env_id=-1, memory_mb=128,
                 max_memory_used_mb=0.0)
        )  # fmt: skip
    inv = pd.DataFrame(rows).sort_values("arrival_s", kind="stable").reset_index(drop=True)
    inv.insert(0, "invocation_id", np.arange(len(inv)))
    return inv, pd.DataFrame(env_rows)


@pytest.fixture
def small() -> tuple[pd.DataFrame, pd.DataFrame]:
    return build(
        [
            {
                "function": "f",
                "created_s": 1.0,
                "memory_mb": 128,
                "calls": [
                    (0.0, 150.3, 102.25, 70.0, "ok"),
                    (5.0, 0.0, 20.0, 40.2, "ok"),
                    (1.0, 0.0, 3004.0, 60.0, "timeout"),
                ],
            },
            {
                "function": "f",
                "created_s": 2.0,
                "memory_mb": 128,
                "calls": [(0.0, 200.0, 55.0, 128.0, "oom")],
            },
            {
                "function": "g",
                "created_s": 86_400 * 1.5,
                "memory_mb": 512,
                "calls": [(0.0, 300.0, 10.0, 90.0, "error"), (0.5, 0.0, 11.0, 91.0, "ok")],
            },
        ],  # fmt: skip
        throttled=[("f", 3.0), ("g", 86_401.0)],
    )


def test_columns_groups_and_streams(small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    inv, env = small
    df = log_events(inv, env, seed=7)
    assert tuple(df.columns) == LOG_COLUMNS
    assert set(df["log_group"]) == {"/aws/lambda/f", "/aws/lambda/g"}
    assert (df["log_group"].astype(str) == "/aws/lambda/" + df["function"].astype(str)).all()
    assert all(STREAM.match(s) for s in df["log_stream"].astype(str))
    # One stream per environment, named by its hex id and its creation date.
    by_inv = df.drop_duplicates("invocation_id").set_index("invocation_id")["log_stream"]
    for _, row in inv[inv["env_id"] >= 0].iterrows():
        stream = by_inv[row["invocation_id"]]
        assert stream.endswith(environment_hex_id(7, row["env_id"]))
    assert df["log_stream"].nunique() == 3
    g_streams = set(df.loc[df["function"] == "g", "log_stream"])
    assert {s[:10] for s in g_streams} == {"2026/11/28"}
    assert log_stream_names(7, [0], [1.0])[0] == f"2026/11/27/[$LATEST]{environment_hex_id(7, 0)}"


def test_epoch_moves_dates_and_times(small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    inv, env = small
    epoch = datetime(2019, 12, 31, 23, 59, 59, tzinfo=UTC)
    df = log_events(inv, env, seed=7, epoch=epoch)
    first = df.iloc[0]
    assert first["log_stream"].startswith("2020/01/01/")  # created at t = 1 s
    assert first["timestamp_ms"] == int(epoch.timestamp() * 1000) + 1150  # START after 150.3 ms
    assert first["time"] == pd.Timestamp("2020-01-01T00:00:00.150Z")
    naive = log_events(inv, env, seed=7, epoch=datetime(2019, 12, 31, 23, 59, 59))
    assert naive["timestamp_ms"].equals(df["timestamp_ms"])  # a naive epoch is UTC


def test_lines_of_one_request_in_order(small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    inv, env = small
    df = log_events(inv, env, seed=7)
    rid = request_id(7, 0)
    msgs = df.loc[df["request_id"] == rid, "message"].tolist()
    assert msgs == [
        f"START RequestId: {rid} Version: $LATEST",
        f"END RequestId: {rid}",
        f"REPORT RequestId: {rid}\tDuration: 102.25 ms\tBilled Duration: 103 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 70 MB\tInit Duration: 150.30 ms\t",
    ]
    assert df["timestamp_s"].is_monotonic_increasing


def test_throttled_write_nothing(small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    inv, env = small
    df = log_events(inv, env, seed=7)
    throttled = inv.loc[inv["status"] == "throttled", "invocation_id"]
    assert len(throttled) == 2
    assert not df["invocation_id"].isin(throttled).any()
    ran = inv.loc[inv["status"] != "throttled", "invocation_id"]
    assert set(df["invocation_id"]) == set(ran)
    assert (df["message"].str.startswith("START ")).sum() == len(ran)


def test_init_duration_only_on_cold_starts(small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    inv, env = small
    reports = LogView(log_events(inv, env, seed=7)).reports()
    cold = inv.set_index(inv["invocation_id"].map(lambda i: request_id(7, i)))["cold"]
    has_init = reports.set_index("request_id")["init_duration_ms"].notna()
    assert has_init.sum() == 3
    assert has_init.equals(cold.loc[has_init.index].rename("init_duration_ms"))


def test_max_memory_used_is_the_environments_peak_so_far(small) -> None:
    inv, env = small
    reports = LogView(log_events(inv, env, seed=7)).reports()
    # Environment 0 used 70, then 40.2 (peak stays 70), then 60; environment 2: 90 then 91.
    f_env0 = [request_id(7, i) for i in inv.loc[inv["env_id"] == 0, "invocation_id"]]
    assert reports.set_index("request_id").loc[f_env0, "max_memory_used_mb"].tolist() == [70] * 3
    g_env = [request_id(7, i) for i in inv.loc[inv["env_id"] == 2, "invocation_id"]]
    assert reports.set_index("request_id").loc[g_env, "max_memory_used_mb"].tolist() == [90, 91]


def test_timeout_and_oom_classic(small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    inv, env = small
    df = log_events(inv, env, seed=7)
    t_id = int(inv.loc[inv["status"] == "timeout", "invocation_id"].iloc[0])
    rid = request_id(7, t_id)
    msgs = df.loc[df["invocation_id"] == t_id]
    assert msgs["message"].iloc[1].endswith(f" {rid} Task timed out after 3.00 seconds")
    stamp = msgs["message"].iloc[1].split(" ")[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
    assert pd.Timestamp(stamp) == msgs["time"].iloc[1]
    assert msgs["message"].iloc[2] == f"END RequestId: {rid}"
    assert "Status:" not in msgs["message"].iloc[3]

    o_id = int(inv.loc[inv["status"] == "oom", "invocation_id"].iloc[0])
    rid = request_id(7, o_id)
    msgs = df.loc[df["invocation_id"] == o_id, "message"].tolist()
    assert msgs[1:4] == [
        f"RequestId: {rid} Error: Runtime exited with error: signal: killed",
        "Runtime.ExitError",
        f"END RequestId: {rid}",
    ]
    assert parse_report(msgs[4])["max_memory_used_mb"] == 128


def test_timeout_and_oom_status_style(small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    inv, env = small
    df = log_events(inv, env, seed=7, style="status")
    assert not df["message"].str.contains("Task timed out|signal: killed|Runtime.ExitError").any()
    reports = LogView(df).reports().set_index("request_id")
    t_rid = request_id(7, int(inv.loc[inv["status"] == "timeout", "invocation_id"].iloc[0]))
    o_rid = request_id(7, int(inv.loc[inv["status"] == "oom", "invocation_id"].iloc[0]))
    assert reports.loc[t_rid, "status"] == "timeout" and pd.isna(reports.loc[t_rid, "error_type"])
    assert reports.loc[o_rid, "status"] == "error"
    assert reports.loc[o_rid, "error_type"] == "Runtime.OutOfMemory"
    assert reports["status"].notna().sum() == 2
    oom_line = df.loc[df["request_id"] == o_rid, "message"].iloc[-1]
    assert oom_line.endswith("Status: error\tError Type: Runtime.OutOfMemory\t")


def test_handler_error_and_handler_lines(small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    inv, env = small
    e_id = int(inv.loc[inv["status"] == "error", "invocation_id"].iloc[0])
    df = log_events(inv, env, seed=7)
    assert df.loc[df["invocation_id"] == e_id, "message"].iloc[1].startswith("[ERROR] Exception")

    lines = {e_id: [(0.005, "resizing"), (0.0, None, "print\nsecond"), (0.01, "ERROR", "boom")]}
    df = log_events(inv, env, seed=7, handler_lines=lines)
    rid = request_id(7, e_id)
    rows = df.loc[df["invocation_id"] == e_id]
    msgs = rows["message"].tolist()
    assert msgs[0].startswith("START")
    assert msgs[1] == "print\nsecond"
    assert re.fullmatch(rf"\[INFO\]\t\S+Z\t{rid}\tresizing", msgs[2])
    assert msgs[3].startswith("[ERROR]\t") and msgs[3].endswith("\tboom")
    assert msgs[4].startswith("END")  # the handler's own lines replace the default error line
    start = inv.loc[inv["invocation_id"] == e_id, "start_s"].iloc[0]
    assert rows["timestamp_s"].iloc[2] == pytest.approx(start + 0.005)
    with pytest.raises(ValueError, match="offset_s"):
        log_events(inv, env, seed=7, handler_lines={e_id: [(5.0, "late")]})


def test_function_filter_and_billed_ms(small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    inv, env = small
    billed = np.ceil(inv["duration_ms"] / 100) * 100
    df = log_events(inv, env, seed=7, function="g", billed_ms=billed)
    assert set(df["function"]) == {"g"}
    reports = LogView(df).reports()
    assert reports["billed_duration_ms"].tolist() == [100, 100]
    with pytest.raises(ValueError, match="billed_ms"):
        log_events(inv, env, seed=7, billed_ms=billed[:-1])


def test_bad_input(small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    inv, env = small
    with pytest.raises(ValueError, match="style"):
        log_events(inv, env, seed=7, style="json")
    with pytest.raises(ValueError, match="lacks the columns"):
        log_events(inv.drop(columns="cold"), env, seed=7)
    with pytest.raises(ValueError, match="env_id"):
        log_events(inv, env[env["env_id"] != 1], seed=7)
    with pytest.raises(TypeError, match="epoch"):
        log_events(inv, env, seed=7, epoch="2026-11-27")
    with pytest.raises(TypeError, match="invocations"):
        log_events(inv.to_dict(), env, seed=7)


def test_empty_and_all_throttled() -> None:
    inv, env = build([], throttled=[("f", 1.0)])
    df = log_events(inv, pd.DataFrame({"env_id": [], "created_s": []}), seed=1)
    assert tuple(df.columns) == LOG_COLUMNS and df.empty
    assert str(LogView(df)) == "(no log events)"


def test_deterministic_by_seed(small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    inv, env = small
    a, b, c = (log_events(inv, env, seed=s) for s in (7, 7, 8))
    pd.testing.assert_frame_equal(a, b)
    assert not set(a["request_id"]) & set(c["request_id"])


def test_view_prints_and_filters(small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    inv, env = small
    view = LogView(log_events(inv, env, seed=7))
    text = str(view.tail(3)).splitlines()
    assert len(text) == 3
    last = view.df.iloc[-1]
    assert text[-1] == f"{last['time']:%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "Z  " + last["message"]
    assert repr(view.head(2)) == str(view.head(2))
    big = LogView(pd.concat([view.df] * 3, ignore_index=True))
    assert len(str(big).splitlines()) == len(big) > 40
    assert repr(big).splitlines()[1:] == str(big.tail(20)).splitlines()
    assert len(view.head(4)) == 4

    rid = request_id(7, 0)
    assert len(view.filter(request_id=rid)) == 3
    assert len(view.filter(pattern="Init Duration")) == 3  # substring
    timeouts = view.filter(pattern="/Task timed out after \\d+\\.\\d\\d seconds/")  # regex
    assert len(timeouts) == 1
    assert len(view.filter(pattern=re.compile(r"^END "))) == 6
    window = view.filter(start_s=2.0, end_s=10.0)
    assert window.df["timestamp_s"].between(2.0, 10.0, inclusive="left").all()
    assert 0 < len(window) < len(view)
    stream = view.streams[0]
    assert set(view.filter(stream=stream).df["log_stream"]) == {stream}
    with pytest.raises(ValueError, match="start_s"):
        view.filter(start_s=5.0, end_s=1.0)
    with pytest.raises(ValueError, match="regular expression"):
        view.filter(pattern="/(/")
    with pytest.raises(ValueError, match="n must"):
        view.tail(-1)


def test_parse_report_forms() -> None:
    line = (
        "REPORT RequestId: 3604209a-e9a3-11e6-939a-754dd98c7be3\tDuration: 12.34 ms\t"
        "Billed Duration: 100 ms\tMemory Size: 128 MB\tMax Memory Used: 18 MB\t"
    )
    r = parse_report(line)
    assert r == {
        "request_id": "3604209a-e9a3-11e6-939a-754dd98c7be3", "duration_ms": 12.34,
        "billed_duration_ms": 100, "memory_size_mb": 128, "max_memory_used_mb": 18,
        "init_duration_ms": None, "status": None, "error_type": None,
    }  # fmt: skip
    spaced = line.replace("\t", "  ") + "Init Duration: 130.49 ms  Status: timeout"
    assert parse_report(spaced)["init_duration_ms"] == 130.49
    assert parse_report(spaced)["status"] == "timeout"
    with pytest.raises(ValueError, match="not a REPORT line"):
        parse_report("END RequestId: x")
    with pytest.raises(ValueError, match="malformed"):
        parse_reports(["REPORT RequestId: x\tDuration: fast"])


# --- property test: every REPORT line parses back to its record's numbers -------------------

call = st.tuples(
    st.floats(0.0, 30.0),  # gap before the request (s)
    st.floats(0.0, 10_000.0),  # duration (ms)
    st.floats(1.0, 10_240.0),  # memory used (MB)
    st.sampled_from(["ok", "ok", "error", "timeout", "oom"]),
)
environment = st.tuples(
    st.sampled_from(["f", "g", "h"]),
    st.floats(0.0, 200_000.0),  # created (s)
    st.floats(0.0, 10_000.0),  # init (ms); 0 means provisioned (no cold start)
    st.integers(128, 10_240),  # memory size (MB)
    st.lists(call, min_size=1, max_size=5),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(environment, min_size=1, max_size=6), st.integers(0, 2**31), st.booleans())
def test_reports_parse_back_to_records(envs, seed, status_style) -> None:
    spec = []
    for fn, created, init, mem, calls in envs:
        rows = [
            (gap, init if k == 0 else 0.0, dur, min(used, mem), status)
            for k, (gap, dur, used, status) in enumerate(calls)
        ]
        spec.append({"function": fn, "created_s": created, "memory_mb": mem, "calls": rows})
    inv, env = build(spec)
    billed = np.ceil(inv["duration_ms"].to_numpy())
    style = "status" if status_style else "classic"
    df = log_events(inv, env, seed=seed, billed_ms=billed, style=style)
    reports = parse_reports(df["message"])
    assert len(reports) == len(inv)
    by_rid = {r["request_id"]: r for r in map(parse_report, df["message"][reports.index])}
    inv = inv.assign(billed=billed).sort_values(["env_id", "start_s", "invocation_id"])
    inv["peak"] = inv.groupby("env_id")["max_memory_used_mb"].cummax()
    for row in inv.itertuples():
        r = by_rid[request_id(seed, row.invocation_id)]
        assert abs(r["duration_ms"] - row.duration_ms) <= 0.005 + 1e-9
        assert r["billed_duration_ms"] == row.billed
        assert r["memory_size_mb"] == row.memory_mb
        assert r["max_memory_used_mb"] == math.ceil(row.peak - 1e-9)
        assert r["max_memory_used_mb"] <= row.memory_mb
        if row.cold:
            assert abs(r["init_duration_ms"] - row.init_ms) <= 0.005 + 1e-9
        else:
            assert r["init_duration_ms"] is None
        expected_status = {"timeout": "timeout", "oom": "error"}.get(row.status)
        assert r["status"] == (expected_status if status_style else None)


def test_categorical_columns_give_the_same_events(small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    inv, env = small
    cat_inv = inv.astype({"function": "category", "status": "category"})
    cat_env = env.astype({"function": "category"})
    pd.testing.assert_frame_equal(
        log_events(inv, env, seed=3), log_events(cat_inv, cat_env, seed=3)
    )


def test_async_retries_keep_the_request_id_of_the_first_attempt() -> None:
    # Lambda retries an asynchronous event under its first request id (duplicate log entries
    # with one request id are how AWS's knowledge center tells retries apart).
    import simlab

    sim = simlab.Simulation(seed=1)
    sim.add_function("f", error_rate=1.0)
    sim.add_source(simlab.sources.FixedInterval(1000.0, invocation_type="async"), target="f")
    result = sim.run(until_s=400)
    assert result.invocations["attempt"].tolist() == [1, 2, 3]
    starts = result.logs("f").filter(pattern="START").df
    assert starts["request_id"].nunique() == 1 and len(starts) == 3
