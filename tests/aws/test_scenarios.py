"""Every scenario builds, runs briefly, and its result makes sense."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest

import simlab
from simlab.aws import scenarios
from simlab.aws.sources import add_trace_functions


def _outputs(result: simlab.Result, function: str) -> list:
    inv = result.invocations
    return inv.loc[(inv["function"] == function) & (inv["status"] == "ok"), "output"].tolist()


def test_catalogue() -> None:
    names = scenarios.list_scenarios()
    assert set(names) == {"etl_s3", "api_backend", "mobile_backend", "infra_automation",
                          "data_validation", "nightly_job", "clickstream_kinesis",
                          "order_queue_sqs", "sdk_pipeline", "azure_trace"}
    assert all(isinstance(d, str) and 10 < len(d) < 100 for d in names.values())
    assert isinstance(scenarios.get("nightly_job", seed=3), simlab.Simulation)
    with pytest.raises(ValueError, match="no scenario named 'etl'.*etl_s3"):
        scenarios.get("etl")
    assert simlab.scenarios is scenarios


def test_etl_each_clean_file_is_catalogued() -> None:
    r = scenarios.etl_s3(seed=1, uploads_per_hour=600, error_rate=0.2).run(until_s=1800)
    inv = r.invocations
    transforms = inv[inv["function"] == "transform"]
    assert (transforms["invocation_type"] == "async").all()
    produced = [o["output"] for o in _outputs(r, "transform")]
    catalogued = _outputs(r, "catalog")
    assert set(catalogued) >= set(produced)
    assert set(r.output("s3-2").objects) == set(catalogued)
    assert len(produced) > 200
    # a failed attempt had already written its file: the retry writes it again (at-least-once)
    ran = transforms["status"].isin(["ok", "error"]).sum()
    assert len(catalogued) == ran > len(set(catalogued))
    # events that failed three times are in the dead-letter queue, and only those
    per_event = transforms.groupby("event_id")["status"].agg(list)
    exhausted = sum(1 for s in per_event if s == ["error"] * 3)
    assert len(r.output("etl-failures")) == exhausted
    assert exhausted < 20  # 0.2 ** 3 of about 300 events
    assert transforms["attempt"].max() <= 3


def test_api_backend_answers_200_lambda_throttles_with_500_and_the_stage_with_429() -> None:
    r = scenarios.api_backend(seed=1, rate_per_s=10).run(until_s=120)
    resp = r.output("apigateway").responses
    assert len(resp) == len(r.invocations)
    assert (resp["http_status"] == 200).mean() > 0.98
    choked = scenarios.api_backend(seed=1, rate_per_s=20, reserved_concurrency=1,
                                   client_retries=0, error_rate=0.0).run(until_s=60)
    statuses = set(choked.output("apigateway").responses["http_status"])
    assert statuses == {200, 500}
    staged = scenarios.api_backend(seed=1, rate_per_s=20, stage_rate_per_s=5, stage_burst=5,
                                   client_retries=0, error_rate=0.0).run(until_s=60)
    resp = staged.output("apigateway").responses
    assert set(resp["http_status"]) == {200, 429}
    # the stage admits at most its burst plus 5 a second; the rest is refused before Lambda
    assert len(staged.invocations) <= 5 + 5 * 60
    assert (resp["http_status"] == 429).sum() == len(resp) - len(staged.invocations)


def test_mobile_backend_one_upload_sets_off_three_functions() -> None:
    r = scenarios.mobile_backend(seed=2, photos_per_hour=600).run(until_s=900)
    counts = r.invocations.groupby("function", observed=True).size()
    assert counts["thumbnail"] > 100
    assert counts["thumbnail"] - 1 <= counts["push-notify"] <= counts["thumbnail"]
    assert counts["push-notify"] == counts["update-feed"]
    assert len(r.output("sns").messages) == counts["push-notify"]
    assert counts["feed"] > 500
    lines = r.invocations.loc[r.invocations["function"] == "push-notify", "log_lines"]
    assert lines.iloc[0][0].startswith("push: your friend posted photos/IMG_")


def _seconds(result: simlab.Result, event_time: str) -> float:
    return (pd.Timestamp(event_time) - pd.Timestamp(result.epoch)).total_seconds()


@pytest.mark.parametrize("watched", ["PutFunctionConcurrency", "UpdateFunctionCode"])
def test_infra_automation_flags_exactly_the_scheduled_calls_of_the_watched_kind(
        watched: str) -> None:
    until, every = 14_400.0, 300.0
    r = scenarios.infra_automation(seed=4, calls_per_hour=12, watched_call=watched).run(
        until_s=until)
    plan = scenarios.control_plane_calls(4, 24.0, 12.0)
    # the platform made the scheduled changes, at their times
    made = [e for e in r.output("control_plane") if e[1] != "CreateFunction"]
    assert [(e[0], e[2]) for e in made] == [(c[0], c[2]) for c in plan if c[0] < until]
    # the trail delivered every call made before its last delivery (t = 14,100 s), no other
    delivered = [c for c in plan if c[0] < until - every]
    files = r.output("cloudtrail").frame()
    assert (files["delivery_time_s"] % every == 0).all()
    assert files["records"].sum() == len(delivered) + 5  # and the 5 CreateFunction calls
    outputs = _outputs(r, "flag-calls")
    assert len(outputs) == len(files)
    assert sum(o["records"] for o in outputs) == files["records"].sum()
    alerts = [json.loads(m) for m in r.output("sns").messages["message"]]
    got = sorted((_seconds(r, a["eventTime"]), a["requestParameters"]["functionName"])
                 for a in alerts)
    expected = sorted((float(int(t)), f) for t, action, f, _ in delivered if action == watched)
    assert got == expected and len(expected) >= 5
    assert sum(o["flagged"] for o in outputs) == len(expected)
    assert {a["user"] for a in alerts} == {"deploy-bot"}
    assert len(_outputs(r, "notify-security")) == len(expected)
    warn = [line for lines in r.invocations["log_lines"].dropna() for line in lines
            if line.startswith("[WARNING]")]
    assert len(warn) == len(expected) and f"{watched} by deploy-bot" in warn[0]


def test_infra_automation_changes_reach_the_functions() -> None:
    r = scenarios.infra_automation(seed=4, calls_per_hour=12, requests_per_s=1.0).run(
        until_s=7200)
    inv = r.invocations
    memory = [c for c in scenarios.control_plane_calls(4, 24.0, 12.0)
              if c[0] < 7200 and "memory_mb" in c[3]]
    assert memory
    for t, _, function, changes in memory:
        rows = inv[(inv["function"] == function) & (inv["arrival_s"] > t)]
        assert rows["memory_mb"].iloc[0] == changes["memory_mb"]


def test_infra_automation_rejects_an_unknown_call() -> None:
    with pytest.raises(ValueError, match="watched_call must be a Lambda API action"):
        scenarios.infra_automation(watched_call="RebootEverything")
    with pytest.raises(ValueError, match="watched_call .* 'UpdateFunctionCode'.*'GetFunction'"):
        scenarios.infra_automation(watched_call="GetFunction")  # not made by the run
    with pytest.raises(ValueError, match="delivery_every_s must be a whole number"):
        scenarios.infra_automation(delivery_every_s=300.5)
    with pytest.raises(ValueError, match="calls_per_hour must be a number > 0 and <= 12"):
        scenarios.infra_automation(calls_per_hour=40)


def test_data_validation_finds_the_broken_orders() -> None:
    until = 600.0
    r = scenarios.data_validation(seed=5, invalid_fraction=0.1).run(until_s=until)
    inv = r.invocations
    assert (inv["invocation_type"] == "poll").all()
    outputs = _outputs(r, "validate-orders")
    reported = Counter(i for o in outputs for i in o["invalid"])
    changes = scenarios.order_changes(5, 1.0, 2.0, 0.1)
    bad_all = Counter(c[2]["id"] for c in changes
                      if c[0] < until and scenarios.invalid_order(c[3]))
    bad_early = Counter(c[2]["id"] for c in changes
                        if c[0] < until - 10 and scenarios.invalid_order(c[3]))
    assert bad_early <= reported <= bad_all
    assert sum(bad_early.values()) > 50
    assert max(o["checked"] for o in outputs) > 1  # the batching window gathers batches


def test_nightly_job_runs_at_two_and_retries() -> None:
    r = scenarios.nightly_job(seed=6, error_rate=0.5).run(until_s=10 * 86_400)
    inv = r.invocations
    first = inv[inv["attempt"] == 1]
    np.testing.assert_allclose(first["arrival_s"], 7200.0 + 86_400.0 * np.arange(10))
    per_night = inv.groupby("event_id")["status"].agg(list)
    assert all(len(s) <= 3 for s in per_night)
    assert len(r.output("report-failures")) == sum(s == ["error"] * 3 for s in per_night)
    assert inv["duration_ms"].median() == pytest.approx(240_000, rel=0.3)


def _in_order(df: pd.DataFrame, by: str) -> bool:
    """Whether, within each ``by`` group, records were settled in sequence order."""
    ordered = df.sort_values("sequence_number")
    return bool(ordered.groupby(by)["processed_s"].apply(
        lambda s: s.is_monotonic_increasing).all())


def test_clickstream_processes_every_click_once_in_shard_order() -> None:
    until = 600.0
    r = scenarios.clickstream_kinesis(seed=1, hours=until / 3600).run(until_s=until)
    log = r.output("kinesis:clickstream")
    rec = log.records
    clicks = scenarios.click_events(1, until / 3600, 20.0, 2_000)
    assert len(rec) == len(clicks) > 10_000
    assert (rec["partition_key"] == [c[1] for c in clicks]).all()
    assert rec.groupby("partition_key")["shard"].nunique().max() == 1  # a user, one shard
    assert rec["shard"].nunique() == 4
    done = rec[rec["outcome"] == "ok"]
    assert (rec.loc[rec["outcome"] != "ok", "arrival_s"] > until - 2.0).all()
    assert _in_order(done, "shard")
    outputs = _outputs(r, "aggregate-clicks")
    assert sum(o["clicks"] for o in outputs) == len(done)
    pages = Counter(json.loads(clicks[i][2])["page"] for i in done["sequence_number"])
    assert sum((Counter(o["pages"]) for o in outputs), Counter()) == pages
    assert pages.most_common(1)[0][0] == "/"
    assert (r.invocations["invocation_type"] == "poll").all()


def test_clickstream_with_parallelization_keeps_each_users_order() -> None:
    r = scenarios.clickstream_kinesis(seed=2, shards=1, parallelization_factor=4,
                                      hours=0.05).run(until_s=180)
    rec = r.output("kinesis:clickstream").records
    done = rec[rec["outcome"] == "ok"]
    assert len(done) > 3_000 and rec["slot"].nunique() == 4
    assert _in_order(done, "partition_key")
    assert not _in_order(done, "shard")  # the shard's slots overtake one another
    assert r.summary()["max_concurrency"] > 1


def test_clickstream_poison_record_blocks_only_its_shard() -> None:
    until, hours, fraction = 300.0, 300.0 / 3600, 0.0005
    clicks = scenarios.click_events(3, hours, 20.0, 2_000, fraction)
    poison = [i for i, c in enumerate(clicks) if not c[2].endswith(b"}")]
    r = scenarios.clickstream_kinesis(seed=3, poison_fraction=fraction,
                                      hours=hours).run(until_s=until)
    log = r.output("kinesis:clickstream")
    rec = log.records
    first = rec.loc[poison].groupby("shard")["sequence_number"].min()
    assert 1 <= len(first) < 4  # some shards are poisoned, not all
    for shard, part in rec.groupby("shard"):
        if shard in first.index:  # nothing at or behind the first poison record gets through
            behind = part["sequence_number"] >= first[shard]
            assert (part.loc[behind, "outcome"] == "pending").all()
            assert (part.loc[~behind & (part["arrival_s"] < part.loc[behind, "arrival_s"].min()
                                        - 2.0), "outcome"] == "ok").all()
        else:
            assert (part.loc[part["arrival_s"] < until - 2.0, "outcome"] == "ok").all()
    age = log.iterator_age().groupby("shard")["iterator_age_ms"].last()
    assert age[first.index].min() > 60_000 > 5_000 > age.drop(first.index).max()
    errors = r.invocations.loc[r.invocations["status"] == "error", "error"]
    assert errors.str.startswith("JSONDecodeError").all() and len(errors) > 100


def test_clickstream_bisect_and_retries_discard_exactly_the_poison_records() -> None:
    until, hours, fraction = 300.0, 300.0 / 3600, 0.0005
    clicks = scenarios.click_events(3, hours, 20.0, 2_000, fraction)
    poison = {i for i, c in enumerate(clicks) if not c[2].endswith(b"}")}
    r = scenarios.clickstream_kinesis(seed=3, poison_fraction=fraction, hours=hours,
                                      max_retries=2, bisect_on_error=True).run(until_s=until)
    rec = r.output("kinesis:clickstream").records
    assert set(rec.index[rec["outcome"] == "discarded_retries"]) == poison
    assert (rec.loc[rec["arrival_s"] < until - 5.0, "outcome"] != "pending").all()
    failures = r.output("clickstream-failures").records
    assert len(failures) == len(poison) >= 3
    assert all(f["KinesisBatchInfo"]["batchSize"] == 1 for f in failures)


def _bad_orders(seed: int, hours: float, bad_fraction: float) -> set[int]:
    orders = scenarios.queue_orders(seed, hours, 5.0, bad_fraction)
    return {i for i, (_, body) in enumerate(orders)
            if scenarios.order_problem(json.loads(body)) is not None}


def test_order_queue_dead_letters_the_bad_orders_after_max_receive_count() -> None:
    until, visibility, receives = 1200.0, 60.0, 3
    sim = scenarios.order_queue_sqs(seed=1, function_timeout_s=10, max_receive_count=receives,
                                    bad_fraction=0.02, error_rate=0.0, hours=until / 3600)
    assert sim.sources[0][0].visibility_timeout_s == 6 * 10 == visibility
    r = sim.run(until_s=until)
    log = r.output("sqs:orders")
    msgs = log.frame
    bad = _bad_orders(1, until / 3600, 0.02)
    dead = set(msgs.index[msgs["outcome"] == "dead_letter"])
    # batches of one message (no batching window): exactly the bad orders that had time
    had_time = {i for i in bad if msgs.loc[i, "sent_s"] < until - receives * visibility - 5}
    assert had_time <= dead <= bad and len(had_time) > 50
    assert (msgs.loc[sorted(bad), "outcome"] != "ok").all()
    assert (msgs.loc[sorted(dead), "receive_count"] == receives).all()
    waited = msgs.loc[sorted(dead), "processed_s"] - msgs.loc[sorted(dead), "sent_s"]
    assert (waited >= receives * visibility - 1e-6).all()
    good = msgs.drop(index=sorted(bad))
    assert (good.loc[good["sent_s"] < until - 5, "outcome"] == "ok").all()
    dlq = r.output("sqs:orders-dlq").frame
    assert len(dlq) == len(dead) == len(log.dead_letters)
    assert [json.loads(m["body"])["order_id"] for m in log.dead_letters] == [
        f"o-{i:06d}" for i in sorted(dead, key=lambda i: msgs.loc[i, "processed_s"])]
    inv = r.invocations
    failed = set(inv.loc[inv["status"] == "error", "invocation_id"])
    pairs = log.deliveries()
    assert failed == set(pairs.loc[pairs["message_number"].isin(bad), "invocation_id"])
    assert inv.loc[inv["status"] == "error", "error"].str.startswith("ValueError: order o-").all()


def test_order_queue_batches_drag_good_orders_to_the_dead_letter_queue() -> None:
    until = 1200.0
    r = scenarios.order_queue_sqs(seed=1, function_timeout_s=10, max_receive_count=3,
                                  bad_fraction=0.02, error_rate=0.0, batching_window_s=2.0,
                                  hours=until / 3600).run(until_s=until)
    log = r.output("sqs:orders")
    assert log.batches["messages"].max() == 10 and log.batches["messages"].median() == 10
    msgs = log.frame
    dead = set(msgs.index[msgs["outcome"] == "dead_letter"])
    bad = _bad_orders(1, until / 3600, 0.02)
    dragged = dead - bad
    assert len(dragged) > len(dead & bad) > 50
    pairs = log.deliveries()
    with_bad = set(pairs.loc[pairs["message_number"].isin(bad), "invocation_id"])
    carried = pairs[pairs["message_number"].isin(dragged)].groupby("message_number")
    assert carried["invocation_id"].agg(lambda ids: set(ids) <= with_bad).all()


def test_order_queue_visibility_timeout_must_cover_the_function_timeout() -> None:
    with pytest.raises(ValueError, match="visibility_timeout_s must be a number >= 30"):
        scenarios.order_queue_sqs(visibility_timeout_s=20)
    sim = scenarios.order_queue_sqs(visibility_timeout_s=30)
    assert sim.sources[0][0].visibility_timeout_s == 30


def test_sdk_pipeline_chains_callees_to_their_callers() -> None:
    until = 900.0
    r = scenarios.sdk_pipeline(seed=1, decline_fraction=0.1, hours=until / 3600).run(until_s=until)
    inv = r.invocations.set_index("invocation_id")
    parent = inv["parent_invocation_id"]
    roots = inv[inv["function"] == "place-order"]
    assert parent[roots.index].isna().all() and len(roots) > 700
    children = inv[parent.notna()]
    callers = inv.loc[parent[children.index].astype(int), "function"].to_numpy()
    expected = {"check-fraud": "place-order", "charge-card": "place-order",
                "send-receipt": "place-order", "ledger": "charge-card"}
    assert list(callers) == [expected[f] for f in children["function"]]
    # a callee arrives when its caller's code runs (a synchronous callee's code runs inline, at
    # its arrival: the ledger arrives with the charge that calls it)
    direct = children[children["function"] != "ledger"]
    np.testing.assert_allclose(direct["arrival_s"],
                               inv.loc[parent[direct.index].astype(int), "start_s"])
    ledger = children[children["function"] == "ledger"]
    np.testing.assert_allclose(ledger["arrival_s"],
                               inv.loc[parent[ledger.index].astype(int), "arrival_s"])
    by_parent = children.groupby([parent[children.index].astype(int), "function"],
                                 observed=True).size().unstack(fill_value=0)
    status = roots["output"].map(lambda o: o["status"])
    kids = by_parent.reindex(roots.index, fill_value=0)
    assert (kids["check-fraud"] == 1).all()
    assert (kids["charge-card"] == (status != "refused").astype(int)).all()
    assert (kids["send-receipt"] == (status == "confirmed").astype(int)).all()
    assert set(inv.loc[inv["function"] == "send-receipt", "invocation_type"]) == {"async"}
    assert set(inv.loc[inv["function"] != "send-receipt", "invocation_type"]) == {"sync"}
    # the declined cards are exactly the failed charges and the failed payments
    orders = dict(scenarios.checkout_orders(1, until / 3600, 1.0, 0.1))
    placed = [o for t, o in orders.items() if t < until]
    declined = {o["order_id"] for o in placed if o["card"] == "4000000000000002"
                and o["amount_cents"] <= 100_000}
    assert set(roots.loc[status == "payment-failed", "output"].map(
        lambda o: o["order_id"])) == declined and len(declined) > 50
    charges = inv[inv["function"] == "charge-card"]
    assert (charges["status"] == "error").sum() == len(declined)
    assert charges["error"].dropna().str.startswith("RuntimeError: card declined").all()
    responses = r.output("sdk").responses
    assert responses["status_code"].tolist() == [204] + [200] * len(roots)
    assert responses["function_error"].isna().all()  # place-order itself never fails


def _trace_names(trace: pd.DataFrame, by: str) -> pd.Series:
    """The simulated function of each row of ``trace``, as the scenario maps it."""
    mapping = add_trace_functions(simlab.Simulation(), trace, by=by, memory_mb=256,
                                  timeout_s=900)
    return trace[by].astype(str).map(mapping)


@pytest.mark.parametrize("by", ["func", "app"])
def test_azure_trace_replays_the_sample_invocation_by_invocation(by: str) -> None:
    trace = scenarios.azure_sample()
    assert len(trace) == 199
    r = scenarios.azure_trace(seed=1, by=by).run(until_s=1300)
    inv = r.invocations
    names = _trace_names(trace, by)
    assert len(r.functions) == (31 if by == "func" else 13)
    got = inv["function"].astype(str).value_counts()
    assert got.to_dict() == names.value_counts().to_dict()
    for function, rows in inv.groupby("function", observed=True):
        recorded = trace[names == function]
        np.testing.assert_allclose(np.sort(rows["arrival_s"]), np.sort(recorded["arrival_s"]))
        np.testing.assert_allclose(np.sort(rows["duration_ms"]),
                                   np.sort(recorded["duration_s"]) * 1000.0, atol=1e-6)
    assert (inv["status"] == "ok").all()


def test_azure_trace_repeats_and_cuts_at_the_eras_timeout() -> None:
    r = scenarios.azure_trace(seed=1, repeat=3, era="2018").run(until_s=3 * 1260)
    inv = r.invocations
    trace = scenarios.azure_sample()
    assert len(inv) == 3 * 199
    long = int((trace["duration_s"] > 300).sum())
    assert (inv["status"] == "timeout").sum() == 3 * long > 0
    assert inv.loc[inv["status"] == "timeout", "duration_ms"].eq(300_000).all()
    np.testing.assert_allclose(np.sort(inv["arrival_s"])[199:398],
                               np.sort(trace["arrival_s"]) + 1260)


@pytest.mark.parametrize(("name", "kwargs", "match"), [
    ("etl_s3", {"uploads_per_hour": 0}, "uploads_per_hour"),
    ("etl_s3", {"error_rate": 2}, "error_rate"),
    ("api_backend", {"rate_per_s": -1}, "rate_per_s"),
    ("mobile_backend", {"photos_per_hour": float("nan")}, "photos_per_hour"),
    ("data_validation", {"invalid_fraction": 1.5}, "invalid_fraction"),
    ("nightly_job", {"expression": "cron(0 2 * * * *)"}, "invalid schedule expression"),
    ("nightly_job", {"era": "1999"}, "era must be one of"),
    ("clickstream_kinesis", {"shards": 0}, "shards"),
    ("clickstream_kinesis", {"poison_fraction": -0.1}, "poison_fraction"),
    ("clickstream_kinesis", {"parallelization_factor": 11}, "parallelization_factor"),
    ("order_queue_sqs", {"batch_size": 20}, "batching_window_s"),
    ("order_queue_sqs", {"max_receive_count": 0}, "max_receive_count"),
    ("order_queue_sqs", {"function_timeout_s": 1000}, "function_timeout_s"),
    ("sdk_pipeline", {"orders_per_s": 0}, "orders_per_s"),
    ("sdk_pipeline", {"decline_fraction": 1.1}, "decline_fraction"),
    ("azure_trace", {"by": "owner"}, "by must be one of"),
    ("azure_trace", {"repeat": 0}, "repeat"),
    ("azure_trace", {"invocation_type": "auto"}, "invocation_type"),
])
def test_bad_scenario_options_are_rejected(name: str, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        scenarios.get(name, **kwargs)
