"""Lesson 7: use-case labs, the applications that users and uploads drive, run end to end.

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
  when the feed's requests find no warm environment; one photo upload sets off three functions.

Each lab has a run, a table and a figure, all pure functions of their parameters and a seed; the
``07-...`` exercises are registered with :mod:`simlab.course.exercises` when this module is
imported. The background labs of lesson 7b (automation, validation, a nightly job, batches) are
in :mod:`simlab.course.lessons.background_labs`.
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
from simlab.course.exercises import design, prediction

__all__ = [
    "etl_run", "etl_files", "etl_figure", "API_CASES", "api_runs", "api_table", "api_figure",
    "mobile_run", "feed_by_hour", "mobile_figure", "API_DESIGN",
]  # fmt: skip

_C = plots.COLORS
_O = plots.OKABE_ITO


def lab_figure(fig: Figure | None, size: tuple[float, float]) -> Figure:
    """``fig`` cleared for a new drawing, or a new constrained-layout figure of ``size`` (inches):
    the labs' figures of lessons 7 and 7b redraw into a dashboard's figure when given one."""
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
    fig = lab_figure(fig, (9.0, 0.3 * files + 1.6))
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
    fig = lab_figure(fig, (8.0, 3.8))
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
    fig = lab_figure(fig, (9.0, 5.4))
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


#: Exercise 07-api-two-environments: the API's goal (a share of requests answered 200) under two
#: constraints (environments the account can spare, HTTP requests per client request).
API_DESIGN: dict[str, float] = {"ok_fraction": 0.99, "most_reserved": 2,
                                "attempts_per_request": 1.2}


def _verify_api(answer: Any) -> tuple[bool, str]:
    if (not isinstance(answer, tuple) or len(answer) != 2
            or any(isinstance(v, bool) or not isinstance(v, int | np.integer) for v in answer)):
        raise ValueError(f"give two whole numbers in brackets, (reserved concurrency, client "
                         f"retries), such as (1, 0); got {answer!r}")
    reserved, retries = (int(v) for v in answer)
    if reserved < 1:
        raise ValueError(f"a reserved concurrency is at least 1 here, got {reserved}")
    if not 0 <= retries <= 10:
        raise ValueError(f"clients retry from 0 to 10 times here, got {retries}")
    run = api_runs({"design": {"reserved_concurrency": reserved, "client_retries": retries}})
    row = api_table(run).iloc[0]
    ok, per_request = float(row["ok_fraction"]), row["http_attempts"] / row["requests"]
    report = (f"with reserved concurrency {reserved} and {retries} client "
              f"{'retry' if retries == 1 else 'retries'}, {ok:.1%} of the requests got a 200 in "
              f"the end and API Gateway received {per_request:.2f} HTTP requests per client "
              f"request (goal: at least 99 %, at most 2 reserved, at most 1.2 per request)")
    if reserved > API_DESIGN["most_reserved"]:
        return False, (report + "; the account can spare this function 2 environments at most: "
                                "the others are its other functions' concurrency")
    if ok >= API_DESIGN["ok_fraction"] and per_request <= API_DESIGN["attempts_per_request"]:
        return True, report
    if reserved == 1 and retries > 0:
        report += ("; with one environment a third of the requests are throttled at their first "
                   "try, so every retry policy that wins them back sends far more requests")
    elif retries == 1:
        report += ("; one retry would do if a retry were a fresh draw (0.09 x 0.09 is under 1 %), "
                   "but throttles come in bunches, when several requests arrive close together, "
                   "and without jitter their retries come back together 0.5 s later, a bunch of "
                   "their own: a retry is throttled more often than a fresh request")
    elif retries == 0:
        report += ("; without a retry every throttle is a failed request: Erlang B with that "
                   "many environments and an offered load of 0.5 says how many")
    return False, report


design("07-api-two-environments", verify=_verify_api, reference=lambda: (2, 2), hints=(
    "Try a pair: use_cases.api_table(use_cases.api_runs({\"mine\": {\"reserved_concurrency\": n, "
    "\"client_retries\": r}})) gives its ok_fraction, its requests and its http_attempts.",
    "With 1 environment, Erlang B(1, 0.5) throttles a third of the first tries: what would winning "
    "them back cost in HTTP requests? With 2, about 9 % are throttled; they come in bunches, and "
    "without jitter the retries of a bunch come back together, 0.5 s later.",
), why="A reservation adds capacity and retries recover what it throttles; throttled requests "
       "come in bunches and, without jitter, their retries come back together, so a retry fails "
       "more often than a fresh request, and each one is more load. The two knobs work together: "
       "neither alone meets the goal.")
