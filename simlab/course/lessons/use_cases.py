"""Lesson 7: use-case labs, the classic serverless applications run end to end.

Each lab starts from a ready-made scenario of :mod:`simlab.aws.scenarios` (real handlers wired to
their triggers the way the application works on AWS), changes one knob, and reads one lesson off
the run:

* **ETL on S3 uploads** (:func:`etl_run`): asynchronous delivery is *at least once*. A transform
  that fails after writing its output is retried and writes it again, so the next stage sees the
  file twice: handlers must be idempotent;
* **API backend** (:func:`api_runs`): behind API Gateway, Lambda's throttles become ``500``s
  (API Gateway's own throttle is what answers ``429``); clients that
  retry get more answers at the price of more load and latency;
* **mobile backend** (:func:`mobile_run`): traffic follows the users' day, and the quiet night is
  when the feed's requests find no warm environment; one photo upload sets off three functions;
* **infrastructure automation** (:func:`infra_run`): the run's own control-plane calls
  (configuration changes made while it runs), delivered by CloudTrail as files landing in S3,
  trigger a function that flags a chosen API call, minutes after it was made;
* **data validation** (:func:`validation_run`): a DynamoDB stream feeds every order to a checker
  whose log lines list what it rejected, and why;
* **nightly job** (:func:`nightly_run`): an EventBridge cron rule at 02:00 UTC; a failing night is
  retried 1 and 2 minutes later, and a night whose three attempts fail lands in a queue.

Each lab has a run, a table and a figure, all pure functions of their parameters and a seed; the
``07-...`` exercises are registered with
:mod:`simlab.course.exercises` when this module is imported.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simlab.aws import scenarios
from simlab.core import plots
from simlab.core.result import Result
from simlab.core.validate import number
from simlab.course.exercises import exercise, explanation, prediction

__all__ = [
    "etl_run", "etl_files", "etl_figure", "API_CASES", "api_runs", "api_table", "api_figure",
    "mobile_run", "feed_by_hour", "mobile_figure", "infra_run", "alert_delays", "infra_figure",
    "validation_run", "rejections", "validation_figure", "nightly_run", "nights",
    "nightly_figure",
]  # fmt: skip

_C = plots.COLORS
_O = plots.OKABE_ITO


def _fig(fig: Figure | None, size: tuple[float, float]) -> Figure:
    if fig is None:
        return Figure(figsize=size, layout="constrained")
    fig.clear()
    return fig


# -- ETL on S3 uploads -----------------------------------------------------------------------------
def etl_run(error_rate: float = 0.2, *, hours: float = 2.0, seed: int = 0) -> Result:
    """:func:`simlab.aws.scenarios.etl_s3` (120 CSV files an hour) with ``transform`` failing with
    probability ``error_rate``, run for ``hours`` (0.1 to 48)."""
    until = number("hours", hours, 0.1, 48.0) * 3600.0
    return scenarios.etl_s3(seed=seed, error_rate=number("error_rate", error_rate, 0.0, 1.0)).run(
        until_s=until)


_RAW_KEY = re.compile(r"s3://raw-uploads/(\S+):")


def etl_files(result: Result) -> pd.DataFrame:
    """One row per raw file of an :func:`etl_run`: ``key``, ``uploaded_s``, ``attempts`` and
    ``failed_attempts`` of ``transform`` (read from its log lines), ``registrations`` of its
    clean file by ``catalog``, and ``dead_lettered`` (its event is in ``etl-failures``)."""
    raw = result.output("s3").frame().rename(columns={"time_s": "uploaded_s"})
    inv = result.invocations
    t = inv[(inv["function"] == "transform") & ~inv["status"].isin(["throttled", "dropped"])]
    keys = [m.group(1) if (m := _RAW_KEY.search(" ".join(lines))) else None
            for lines in t["log_lines"]]
    tries = pd.DataFrame({"key": keys, "failed": (t["status"] != "ok").to_numpy()})
    per = tries.groupby("key").agg(attempts=("failed", "size"), failed_attempts=("failed", "sum"))
    catalog = inv[(inv["function"] == "catalog") & (inv["status"] == "ok")]
    registered = catalog["output"].value_counts()
    clean = ("clean/" + raw["key"].str.rsplit("/", n=1).str[-1].str.removesuffix(".csv")
             + ".parquet")
    dlq = {unquote_plus(json.loads(m["body"])["Records"][0]["s3"]["object"]["key"])
           for m in result.output("etl-failures").messages()}
    out = raw[["key", "uploaded_s"]].join(per, on="key")
    out[["attempts", "failed_attempts"]] = out[["attempts", "failed_attempts"]].fillna(0).astype(
        np.int64)
    out["registrations"] = registered.reindex(clean).fillna(0).astype(np.int64).to_numpy()
    out["dead_lettered"] = raw["key"].isin(dlq).to_numpy()
    return out.sort_values("uploaded_s", ignore_index=True)


def etl_figure(result: Result, files: int = 12, *, fig: Figure | None = None) -> Figure:
    """The life of the first ``files`` raw files: upload, each ``transform`` attempt (ok or
    failed) and each ``catalog`` registration of the clean file, against time (min)."""
    fig = _fig(fig, (9.0, 0.3 * files + 1.6))
    ax = fig.subplots()
    table = etl_files(result).head(files)
    inv = result.invocations
    rows = {k: i for i, k in enumerate(table["key"])}
    t = inv[inv["function"] == "transform"]
    keys = [m.group(1) if (m := _RAW_KEY.search(" ".join(lines))) else None
            for lines in t["log_lines"]]
    y = np.array([rows.get(k, -1) for k in keys])
    mine = y >= 0
    ok = (t["status"] == "ok").to_numpy()
    start = t["start_s"].to_numpy() / 60
    ax.plot(table["uploaded_s"] / 60, np.arange(len(table)) - 0.25, "o", color="black", ms=5,
            label="uploaded to raw-uploads")
    ax.plot(start[mine & ok], y[mine & ok], "s", color=_C["ok"], ms=7, label="transform ok")
    ax.plot(start[mine & ~ok], y[mine & ~ok], "X", color=_C["error"], ms=8,
            label="transform failed (file already written)")
    cat = inv[(inv["function"] == "catalog") & (inv["status"] == "ok")]
    clean = {("clean/" + k.rsplit("/", 1)[-1].removesuffix(".csv") + ".parquet"): i
             for k, i in rows.items()}
    cy = np.array([clean.get(k, -1) for k in cat["output"]])
    ax.plot(cat["end_s"].to_numpy()[cy >= 0] / 60, cy[cy >= 0] + 0.25, "v", color=_O["blue"],
            ms=6, label="registered by catalog")
    ax.set_yticks(np.arange(len(table)), table["key"].str.rsplit("/", n=1).str[-1])
    ax.invert_yaxis()
    ax.set_xlabel("time since the start of the run (min)")
    ax.set_ylabel("raw file")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return fig


# -- API backend -----------------------------------------------------------------------------------
#: The API lab's three configurations: :func:`simlab.aws.scenarios.api_backend` options.
API_CASES: dict[str, dict[str, Any]] = {
    "no limit": {"client_retries": 0},
    "reserved concurrency 1": {"reserved_concurrency": 1, "client_retries": 0},
    "reserved 1, clients retry twice": {"reserved_concurrency": 1, "client_retries": 2},
}


def api_runs(cases: Mapping[str, Mapping[str, Any]] = API_CASES, *, seconds: float = 300.0,
             seed: int = 0) -> dict[str, Result]:
    """:func:`simlab.aws.scenarios.api_backend` (5 requests/s) under each configuration of
    ``cases`` for ``seconds`` (10 to 3,600), same seed, so the same clients in each."""
    until = number("seconds", seconds, 10.0, 3600.0)
    return {name: scenarios.api_backend(seed=seed, **opts).run(until_s=until)
            for name, opts in cases.items()}


def api_table(runs: Mapping[str, Result]) -> pd.DataFrame:
    """One row per configuration: client ``requests``, ``http_attempts`` (retries included),
    ``ok_fraction`` (requests whose final answer was 200), ``throttled_fraction`` (final 500,
    Lambda's throttle passed on by API Gateway, or 429, API Gateway's own throttle),
    client latency ``p50_ms`` and ``p99_ms`` of the successful requests."""
    rows = {}
    for name, result in runs.items():
        log = result.output("apigateway")
        req = log.requests
        ok = req[req["http_status"] == 200]["latency_ms"].to_numpy(dtype=float)
        p50, p99 = np.percentile(ok, (50, 99)) if len(ok) else (math.nan, math.nan)
        rows[name] = {"requests": len(req), "http_attempts": len(log.responses),
                      "ok_fraction": float((req["http_status"] == 200).mean()),
                      "throttled_fraction": float(req["http_status"].isin((429, 500)).mean()),
                      "p50_ms": float(p50), "p99_ms": float(p99)}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("configuration")


def api_figure(runs: Mapping[str, Result], *, fig: Figure | None = None) -> Figure:
    """What the clients waited: the distribution of client latency (log scale) of the requests
    that finally got a 200, one curve per configuration."""
    fig = _fig(fig, (8.0, 3.8))
    ax = fig.subplots()
    table = api_table(runs)
    for (name, result), color in zip(runs.items(), (_O["blue"], _O["orange"], _O["vermillion"],
                                                    _O["bluish_green"]), strict=False):
        req = result.output("apigateway").requests
        lat = np.sort(req[req["http_status"] == 200]["latency_ms"].to_numpy(dtype=float))
        share = np.arange(1, len(lat) + 1) / len(req)
        ax.step(lat, share, where="post", color=color, lw=1.5,
                label=f"{name}: {table.loc[name, 'ok_fraction']:.0%} got a 200")
    ax.set_xscale("log")
    ax.set_xlabel("client latency, first request to last answer (ms)")
    ax.set_ylabel("share of client requests\nanswered 200 within")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper left", fontsize="small", frameon=False)
    return fig


# -- mobile backend --------------------------------------------------------------------------------
def mobile_run(*, feed_requests_per_s: float = 0.02, photos_per_hour: float = 30.0,
               seed: int = 0) -> Result:
    """:func:`simlab.aws.scenarios.mobile_backend` for 24 hours (a young app: by default about 1,700
    feed requests and 700 photos a day)."""
    return scenarios.mobile_backend(seed=seed, feed_requests_per_s=feed_requests_per_s,
                                    photos_per_hour=photos_per_hour).run(until_s=86_400.0)


def feed_by_hour(result: Result) -> pd.DataFrame:
    """The feed's requests per hour of the day (UTC): ``requests``, ``cold_fraction``,
    ``p50_latency_ms``, ``max_latency_ms``."""
    inv = result.invocations
    feed = inv[inv["function"] == "feed"]
    hour = (feed["arrival_s"] // 3600 % 24).astype(int).rename("hour")
    g = feed.groupby(hour)
    return pd.DataFrame({"requests": g.size(), "cold_fraction": g["cold"].mean(),
                         "p50_latency_ms": g["latency_ms"].median(),
                         "max_latency_ms": g["latency_ms"].max()}).reindex(range(24))


def mobile_figure(result: Result, *, fig: Figure | None = None) -> Figure:
    """Top: invocations per hour of each function. Bottom: the share of the feed's requests that
    were cold starts, per hour."""
    fig = _fig(fig, (9.0, 5.4))
    top, low = fig.subplots(2, 1, sharex=True)
    inv = result.invocations
    hours = np.arange(25)
    for name, color in zip(("feed", "thumbnail", "push-notify", "update-feed"),
                           (_O["blue"], _O["orange"], _O["bluish_green"], _O["reddish_purple"]),
                           strict=True):
        h = (inv.loc[inv["function"] == name, "arrival_s"] // 3600 % 24).astype(int)
        counts = np.bincount(h, minlength=24)[:24]
        top.stairs(counts, hours, color=color, lw=1.6, ls="--" if name == "update-feed" else "-",
                   label=name)
    top.set_ylabel("invocations per hour")
    top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    by_hour = feed_by_hour(result)
    low.stairs(by_hour["cold_fraction"].fillna(0).to_numpy() * 100, hours, fill=True,
               color=_C["cold"], alpha=0.8, label="feed requests that were cold")
    low.set_ylabel("cold starts (%)")
    low.set_xlabel("hour of the day (UTC)")
    low.set_xlim(0, 24)
    low.set_xticks(range(0, 25, 3))
    low.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    for ax in (top, low):
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    return fig


# -- infrastructure automation ---------------------------------------------------------------------
def infra_run(watched_call: str = "PutFunctionConcurrency", *, seed: int = 0) -> Result:
    """:func:`simlab.aws.scenarios.infra_automation` for 24 hours (a deployment pipeline changes the
    functions' configuration about 4 times an hour; trail files every 5 minutes), flagging
    ``watched_call``."""
    return scenarios.infra_automation(seed=seed, watched_call=watched_call).run(until_s=86_400.0)


def alert_delays(result: Result) -> pd.DataFrame:
    """One row per alert published on ``security-alerts``: who made the call (``user``), when
    (``called_s``), when the alert was published (``alerted_s``) and ``delay_s`` between them.
    CloudTrail's ``eventTime`` is to the second, so delays are too."""
    msgs = result.output("sns").messages
    body = [json.loads(m) for m in msgs["message"]]
    called = pd.to_datetime([b["eventTime"] for b in body], utc=True)
    called_s = (called - pd.Timestamp(result.epoch)).total_seconds().to_numpy()
    return pd.DataFrame({"user": [b["user"] for b in body], "called_s": called_s,
                         "alerted_s": msgs["time_s"].to_numpy(dtype=float),
                         "delay_s": msgs["time_s"].to_numpy(dtype=float) - called_s})


def infra_figure(result: Result, *, fig: Figure | None = None) -> Figure:
    """How long after the watched call its alert was published: a histogram (min)."""
    fig = _fig(fig, (8.0, 3.4))
    ax = fig.subplots()
    delays = alert_delays(result)["delay_s"].to_numpy() / 60
    ax.hist(delays, bins=np.arange(0, 6.5, 0.5), color=_O["blue"], edgecolor="white")
    ax.axvline(5, color="0.3", ls="--", lw=1, label="trail delivery period (5 min)")
    ax.set_xlabel("delay from the API call to its alert (min)")
    ax.set_ylabel("alerts")
    ax.legend(loc="upper right", fontsize="small", frameon=False)
    ax.grid(alpha=0.3)
    return fig


# -- data validation -------------------------------------------------------------------------------
def validation_run(invalid_fraction: float = 0.05, *, minutes: float = 15.0,
                   seed: int = 0) -> tuple[Result, list]:
    """:func:`simlab.aws.scenarios.data_validation` (2 order changes a second, 2 shards, batches of
    up
    to 100 gathered for up to 1 s) for ``minutes`` (1 to 240), then one more minute without writes
    so that the stream drains and every change written is read.

    Returns
    -------
    tuple
        The run's result, and the order changes written to the table (what :func:`rejections`
        compares the checker's log with).
    """
    hours = number("minutes", minutes, 1.0, 240.0) / 60.0
    fraction = number("invalid_fraction", invalid_fraction, 0.0, 1.0)
    result = scenarios.data_validation(seed=seed, invalid_fraction=fraction,
                                       hours=hours).run(until_s=hours * 3600.0 + 60.0)
    return result, scenarios.order_changes(seed, hours, 2.0, fraction)


def rejections(result: Result, changes: list) -> pd.DataFrame:
    """Invalid orders by reason in a :func:`validation_run`: ``injected`` (in the ``changes``
    written to the table) against ``found`` (``rejected`` warnings in ``validate-orders``'s
    log)."""
    reasons = ("negative amount", "unknown currency", "no e-mail")
    injected = pd.Series([p for c in changes for p in scenarios.invalid_order(c[3])],
                         dtype=object).value_counts()
    lines = result.logs("validate-orders").filter(pattern="rejected: ").df["message"]
    found = lines.str.extract(r"rejected: (.*)$")[0].str.split(", ").explode().value_counts()
    return pd.DataFrame({"injected": injected.reindex(reasons, fill_value=0),
                         "found": found.reindex(reasons, fill_value=0)}).rename_axis("reason")


def validation_figure(table: pd.DataFrame, *, fig: Figure | None = None) -> Figure:
    """Invalid orders by reason: injected into the table against found in the validator's log."""
    fig = _fig(fig, (7.0, 3.2))
    ax = fig.subplots()
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["injected"], 0.4, color=_O["sky_blue"], label="written to the table")
    ax.bar(x + 0.2, table["found"], 0.4, color=_O["vermillion"],
           label="rejected (validate-orders' log)")
    ax.set_xticks(x, table.index)
    ax.set_ylabel("invalid orders")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    ax.grid(alpha=0.3, axis="y")
    return fig


# -- nightly job -----------------------------------------------------------------------------------
def nightly_run(error_rate: float = 0.3, *, nights: int = 30, seed: int = 0) -> Result:
    """:func:`simlab.aws.scenarios.nightly_job` (``cron(0 2 * * ? *)``, a report of about 4 min)
    failing with probability ``error_rate``, for ``nights`` days (1 to 366)."""
    if isinstance(nights, bool) or not isinstance(nights, int) or not 1 <= nights <= 366:
        raise ValueError(f"nights must be a whole number from 1 to 366, got {nights!r}")
    return scenarios.nightly_job(seed=seed, error_rate=number("error_rate", error_rate, 0.0, 1.0)
                                 ).run(until_s=nights * 86_400.0)


def nights(result: Result) -> pd.DataFrame:
    """One row per night: ``date``, ``attempts``, ``succeeded``, ``ready_min`` (minutes after
    02:00 UTC when the report was ready; NaN if never), ``in_failure_queue``."""
    inv = result.invocations.sort_values("arrival_s")
    night = (inv["arrival_s"] // 86_400).astype(int)
    g = inv.groupby(night)
    ok_end = inv["end_s"].where(inv["status"] == "ok").groupby(night).min()
    failed = result.output("report-failures").frame()["time_s"] // 86_400
    out = pd.DataFrame({
        "date": (pd.Timestamp(result.epoch) + pd.to_timedelta(g["arrival_s"].min(), "s")
                 ).dt.strftime("%Y-%m-%d"),
        "attempts": g.size(), "succeeded": ok_end.notna(),
        "ready_min": (ok_end - (ok_end // 86_400 * 86_400 + 7200)) / 60,
        "in_failure_queue": g.size().index.isin(failed.astype(int))})
    return out.rename_axis("night").reset_index()


def nightly_figure(result: Result, *, fig: Figure | None = None) -> Figure:
    """Every attempt of every night: when it started (minutes after 02:00 UTC), ok or failed;
    nights whose event ended in the failure queue are marked."""
    fig = _fig(fig, (9.0, 3.4))
    ax = fig.subplots()
    inv = result.invocations
    day = (inv["arrival_s"] // 86_400).to_numpy() + 1
    minute = (inv["start_s"] % 86_400 - 7200).to_numpy() / 60
    ok = (inv["status"] == "ok").to_numpy()
    ax.plot(day[ok], minute[ok], "o", color=_C["ok"], label="attempt succeeded")
    ax.plot(day[~ok], minute[~ok], "X", color=_C["error"], ms=8, label="attempt failed")
    table = nights(result)
    lost = table[table["in_failure_queue"]]["night"].to_numpy() + 1
    for d in lost:
        ax.axvspan(d - 0.45, d + 0.45, color=_C["error"], alpha=0.15, lw=0)
    ax.plot([], [], "s", color=_C["error"], alpha=0.3, label="night sent to report-failures")
    ax.set_xlabel("night (day of the month)")
    ax.set_ylabel("attempt started\n(min after 02:00 UTC)")
    ax.set_xlim(0.4, table["night"].max() + 1.6)
    ax.set_ylim(-1, max(float(minute.max()), 10.0) * 1.15)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return fig


# -- exercises -------------------------------------------------------------------------------------
def _duplicates_outcome() -> tuple[str, str]:
    files = etl_files(etl_run(0.2))
    dup = int((files["registrations"] > 1).sum())
    share = dup / len(files)
    key = "a" if dup == 0 else "b" if share < 0.1 else "c" if share < 0.35 else "d"
    return key, f"catalog registered {dup} of the {len(files)} clean files more than once."


prediction("07-etl-duplicates", outcome=_duplicates_outcome, options={
    "a": "A retry does not undo the failed attempt: the transform had already written its clean "
         "file, and each write notifies catalog.",
    "b": "Every failed transform is retried, and each failure leaves a clean file behind: count "
         "how often a transform fails.",
    "c": "",
    "d": "Most transforms succeed at their first attempt: only the files whose transform failed "
         "are registered again.",
}, hints=(
    "A transform that fails has already written its clean file: each attempt is a registration.",
    "With error_rate=0.2, about how many transforms fail at least once?",
), why="Asynchronous delivery is at least once: a retried event repeats the side effects of the "
       "failed attempt, so every stage after it must be idempotent.")


def _night_outcome() -> tuple[str, str]:
    inv = mobile_run().invocations
    feed = inv[inv["function"] == "feed"]
    night = float(feed.loc[feed["arrival_s"] < 4 * 3600, "cold"].mean())
    day = float(feed["cold"].mean())
    key = ("a" if night < 1.5 * day else "b" if night < 4 * day else "c" if night < 0.6
           else "d")
    return key, (f"{night:.1%} of the feed's requests between 00:00 and 04:00 UTC started cold, "
                 f"against {day:.1%} over the whole day.")


prediction("07-night-cold-fraction", outcome=_night_outcome, options={
    "a": "The same function, the same keep-alive, but not the same gaps between requests: at "
         "night they come minutes apart.",
    "b": "At night the gaps between requests come close to the keep-alive, and P(cold) grows "
         "fast as the gap nears it: far more than twice.",
    "c": "",
    "d": "Even at night many requests come within the keep-alive of the one before: only the "
         "long gaps start cold.",
}, hints=(
    "A request starts cold when its environment was reclaimed: the gap to the previous request "
    "is longer than the keep-alive.",
    "How far apart are the feed's requests at night, compared with the keep-alive of about 6 "
    "minutes?",
), why="At night the feed gets a request every few minutes, close to the keep-alive: many find "
       "their environment reclaimed. The same function is almost always warm at noon.")


def _pages_feedback(answer: float, expected: float) -> str | None:
    if answer == len(alert_delays(infra_run())) and answer != expected:
        return ("That is PutFunctionConcurrency, the default: give "
                "watched_call='UpdateFunctionCode'.")
    return None


@exercise("07-infra-pages", tolerance=0.5, unit="alerts", hints=(
    "use_cases.infra_run(watched_call='UpdateFunctionCode') runs the day again.",
    "Count the alerts: each one is an invocation of notify-security, and a row of the run's "
    "alert delays.",
), why="Every UpdateFunctionCode call in the trail's files is flagged and paged, within the five "
        "minutes of a delivery period.", feedback=_pages_feedback)
def _infra_pages() -> float:
    return float(len(alert_delays(infra_run("UpdateFunctionCode"))))


#: Exercise 07-validation-rejected: a prediction within this many standard errors counts.
REJECTED_SE = 3.0


def _rejected_outcome() -> tuple[float, str]:
    result, written = validation_run(0.2)
    n = len(result.logs("validate-orders").filter(pattern="rejected: "))
    changes = len(written)
    return float(n), (f"validate-orders flagged {n} of the {changes} order changes "
                      f"({n / changes:.1%}).")


def _rejected_tolerance() -> float:
    changes = 2.0 * 15 * 60
    return REJECTED_SE * float(np.sqrt(changes * 0.2 * 0.8))


prediction("07-validation-rejected", outcome=_rejected_outcome, tolerance=_rejected_tolerance(),
           unit="orders", hints=(
    "The table receives 2 order changes a second for 15 minutes; each is invalid with "
    "probability 0.2, independently.",
    "The expected count is the number of changes times 0.2; the run's count varies around it "
    "by a few times sqrt(n p (1 - p)).",
), why="The validator sees every change of the table, in order per item, through the stream; "
       "its log lines say which order broke which rule. The count is a binomial draw: it lands "
       "near n p, within a few standard errors sqrt(n p (1 - p)), not on it.")


explanation("07-nightly-failed-nights", review=(
    "does it say where 0.5 cubed comes from (how many attempts a night gets), compare it with "
    "the count you read, and explain why a single run of 30 nights need not give 3.75?"), hints=(
    "result = use_cases.nightly_run(error_rate=0.5); the records of "
    "result.output('report-failures') are the lost nights.",
    "A night is lost when every attempt fails: how many attempts does an asynchronous event get? "
    "And can a count of nights be 3.75?",
))


# -- partial batch responses -----------------------------------------------------------------------
def partial_batch_runs(*, messages: int = 100, poison_every: int = 25, batch_size: int = 10,
                       max_receive_count: int = 3,
                       seed: int = 0) -> tuple[pd.DataFrame, dict[str, Result]]:
    """An SQS queue of ``messages`` orders, every ``poison_every``-th one poison (it always fails),
    read in batches of ``batch_size`` with a redrive policy of ``max_receive_count`` receipts,
    once without and once with ``ReportBatchItemFailures``.

    Without it a poison message fails its whole batch, so the good messages that share its
    batches are received again and again and end in the dead-letter queue with it. With it the
    handler reports the poison message alone: its batch-mates are deleted after one receipt.
    Returns one row per configuration (``processed``, ``dead_lettered``,
    ``good_dead_lettered``, ``invocations``, ``receipts``) and the runs.
    """
    from simlab.aws.simulation import Simulation
    from simlab.aws.sources import SQSQueue

    n = int(number("messages", messages, 1, 10_000))
    every = int(number("poison_every", poison_every, 1, 10_000))
    size = int(number("batch_size", batch_size, 1, 10))
    receives = int(number("max_receive_count", max_receive_count, 1, 100))
    orders = [(1.0 + 0.01 * i, json.dumps({"order": i})) for i in range(n)]
    rows, runs = {}, {}
    for label, report in (("whole batch fails", False), ("ReportBatchItemFailures", True)):
        sim = Simulation(seed=seed)
        sim.add_function("orders", duration_s=0.2, timeout_s=5)
        queue = SQSQueue("orders", orders, batch_size=size, visibility_timeout_s=30,
                         max_receive_count=receives, dead_letter_queue=SQSQueue("orders-dlq"),
                         poison=lambda m: (m.message_number + 1) % every == 0,
                         report_batch_item_failures=report)
        sim.add_source(queue, target="orders")
        result = runs[label] = sim.run(until_s=30.0 * (receives + 2))
        frame = result.output("sqs:orders").frame
        dead = frame["outcome"] == "dead_letter"
        poison = (frame["message_number"] + 1) % every == 0
        rows[label] = {"processed": int((frame["outcome"] == "ok").sum()),
                       "dead_lettered": int(dead.sum()),
                       "good_dead_lettered": int((dead & ~poison).sum()),
                       "invocations": len(result.invocations),
                       "receipts": int(frame["receive_count"].sum())}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("configuration"), runs
