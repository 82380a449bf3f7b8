"""Ready-to-run scenarios: the classic serverless use cases, each a configured simulation.

Each function here builds a :class:`~simlab.Simulation` with its functions, real handlers and
triggers wired the way the use case works on AWS, so that a lesson can start from a working system
in one line and then change one thing::

    result = simlab.scenarios.etl_s3(seed=0).run(until_s=3600)
    result.extras["etl-failures"].records      # what the dead-letter queue caught

=====================  ========================================================================
``etl_s3``             files land in S3, a function transforms each one and writes the result
                       to a second bucket, which triggers a cataloguing function
``api_backend``        a REST API: API Gateway invokes a function synchronously per request
``mobile_backend``     a mobile app's backend: an API for the feed, photo uploads to S3 that
                       make thumbnails, and SNS push notifications fanned out to two functions
``infra_automation``   CloudTrail log files delivered to S3 trigger a function that gunzips
                       them and flags a chosen API call, alerting through SNS
``data_validation``    a DynamoDB table's stream feeds batches of changes to a function that
                       checks every new item
``nightly_job``        an EventBridge cron rule runs a long report every night at 02:00 UTC
=====================  ========================================================================

:func:`list_scenarios` lists them with one-line descriptions; :func:`get` builds one by name.
Every scenario takes ``seed`` (all randomness, including generated data, derives from it) and
``era``, plus its own knobs, checked before anything runs.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

import numpy as np

from simlab.dists import LogNormal
from simlab.observe.trail import EVENT_NAMES, delivery_files, trail_record
from simlab.simulation import Simulation
from simlab.sources import (
    APIGateway,
    DeadLetterQueue,
    Diurnal,
    Poisson,
    Queue,
    S3Bucket,
    Schedule,
    SNSTopic,
    configure_async,
)
from simlab.sources.payloads import from_dynamodb_json, proxy_response
from simlab.streams import Streams

__all__ = [
    "etl_s3",
    "api_backend",
    "mobile_backend",
    "infra_automation",
    "data_validation",
    "nightly_job",
    "list_scenarios",
    "get",
    "control_plane_calls",
    "order_changes",
    "invalid_order",
]


def _rate(name: str, value: Any) -> float:
    if (isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
            or value <= 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def _fraction(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number from 0 to 1, got {value!r}")
    return float(value)


def _rng(seed: int, scenario: str) -> np.random.Generator:
    """The generator of a scenario's made-up data (independent of the simulation's streams)."""
    return Streams(seed).generator("scenario", scenario)


# --------------------------------------------------------------------------------------------------
# ETL on S3 uploads
# --------------------------------------------------------------------------------------------------


def etl_s3(seed: int = 0, *, era: str = "today", uploads_per_hour: float = 120.0,
           error_rate: float = 0.01) -> Simulation:
    """CSV files land in ``raw-uploads/incoming/``; ``transform`` converts each to Parquet.

    ``transform`` (1,024 MB) reads the S3 notification, decodes the URL-encoded key, and writes
    ``clean/<name>.parquet`` (a third of the size) to the ``clean-data`` bucket, whose notification
    invokes ``catalog``. Both are invoked asynchronously; ``transform``'s failures
    (``error_rate``) are retried twice, then go to the dead-letter queue ``etl-failures``.

    A failure here strikes after the file was written, so a retried event writes it again and
    ``catalog`` sees it twice: asynchronous delivery is *at least once*, and handlers must be
    idempotent.

    Look at: ``result.extras["etl-failures"]``, ``result.extras["s3-2"].frame()`` (the
    clean bucket), the ``output`` column.
    """
    _rate("uploads_per_hour", uploads_per_hour)
    _fraction("error_rate", error_rate)
    sim = Simulation(era=era, seed=seed)
    raw = S3Bucket("raw-uploads", uploads=Poisson(uploads_per_hour / 3600.0),
                   prefix="incoming/", suffix=".csv", key_template="incoming/day-{n:05d}.csv",
                   size_bytes=LogNormal(median=2e6, sigma=1.0))
    clean = S3Bucket("clean-data", suffix=".parquet")

    def transform(event: dict, context: Any) -> dict:
        obj = event["Records"][0]["s3"]["object"]
        key = unquote_plus(obj["key"])
        rows = obj["size"] // 120
        out = "clean/" + key.rsplit("/", 1)[-1].removesuffix(".csv") + ".parquet"
        print(f"transforming s3://raw-uploads/{key}: {rows} rows")
        clean.put_object(out, size=obj["size"] // 3)
        return {"rows": rows, "output": out}

    def catalog(event: dict, context: Any) -> str:
        key = unquote_plus(event["Records"][0]["s3"]["object"]["key"])
        print(f"registered {key} in the data catalog")
        return key

    sim.add_function("transform", memory_mb=1024, timeout_s=120, cpu_s=LogNormal(2.0, 0.5),
                     io_s=LogNormal(0.4, 0.4), memory_used_mb=LogNormal(300.0, 0.3),
                     error_rate=error_rate, handler=transform)
    sim.add_function("catalog", memory_mb=256, timeout_s=10, duration_s=LogNormal(0.08, 0.3),
                     handler=catalog)
    configure_async(sim, "transform", max_retries=2,
                    dead_letter_queue=DeadLetterQueue("etl-failures"))
    sim.add_source(raw, target="transform")
    sim.add_source(clean, target="catalog")
    return sim


# --------------------------------------------------------------------------------------------------
# API backend
# --------------------------------------------------------------------------------------------------


def api_backend(seed: int = 0, *, era: str = "today", rate_per_s: float = 5.0,
                reserved_concurrency: int | None = None, client_retries: int = 1,
                error_rate: float = 0.002) -> Simulation:
    """A REST API (``GET /products``) backed by one function behind API Gateway.

    ``products`` (512 MB) spends a little CPU and waits on a database (log-normal I/O), and returns
    a proxy response. Requests are Poisson at ``rate_per_s``; clients retry 429/502/504 answers
    ``client_retries`` times. Set ``reserved_concurrency`` to see throttling turn into 429s.

    Look at: ``result.extras["apigateway"].responses`` and ``.requests``, the ``http_status``
    column.
    """
    _rate("rate_per_s", rate_per_s)
    _fraction("error_rate", error_rate)
    sim = Simulation(era=era, seed=seed)

    def products(event: dict, context: Any) -> dict:
        page = (event.get("queryStringParameters") or {}).get("page", "1")
        return proxy_response(200, {"page": int(page), "items": 20})

    sim.add_function("products", memory_mb=512, timeout_s=10, cpu_s=LogNormal(0.015, 0.4),
                     io_s=LogNormal(0.045, 0.6), error_rate=error_rate,
                     reserved_concurrency=reserved_concurrency, handler=products)
    sim.add_source(APIGateway(Poisson(rate_per_s), path="/products", query={"page": "1"},
                              client_retries=client_retries), target="products")
    return sim


# --------------------------------------------------------------------------------------------------
# Mobile backend
# --------------------------------------------------------------------------------------------------


def mobile_backend(seed: int = 0, *, era: str = "today", feed_requests_per_s: float = 2.0,
                   photos_per_hour: float = 180.0) -> Simulation:
    """A photo-sharing app: feed API, photo uploads, thumbnails and push notifications.

    * ``GET /feed`` through API Gateway (diurnal traffic averaging ``feed_requests_per_s``,
      peaking at 14:00 UTC) invokes ``feed`` synchronously;
    * photos uploaded to ``photo-uploads`` (``photos/*.jpg``) invoke ``thumbnail`` (1,536 MB,
      CPU-bound) asynchronously, which publishes a ``new-photo`` SNS message;
    * the topic fans the message out to ``push-notify`` and ``update-feed``.

    Look at: how many functions one upload sets off (``result.invocations.groupby("source")``),
    the feed's latency when cold starts meet the morning rise.
    """
    _rate("feed_requests_per_s", feed_requests_per_s)
    _rate("photos_per_hour", photos_per_hour)
    sim = Simulation(era=era, seed=seed)
    photos = S3Bucket("photo-uploads", uploads=Poisson(photos_per_hour / 3600.0),
                      prefix="photos/", suffix=".jpg", key_template="photos/IMG_{n:05d}.jpg",
                      size_bytes=LogNormal(median=3e6, sigma=0.5))
    new_photo = SNSTopic("new-photo")

    def thumbnail(event: dict, context: Any) -> dict:
        key = unquote_plus(event["Records"][0]["s3"]["object"]["key"])
        thumb = key.replace("photos/", "thumbs/", 1)
        new_photo.publish(json.dumps({"photo": key, "thumbnail": thumb}), subject="new photo")
        return {"thumbnail": thumb}

    def push(event: dict, context: Any) -> str:
        photo = json.loads(event["Records"][0]["Sns"]["Message"])["photo"]
        print(f"push: your friend posted {photo}")
        return "sent"

    def feed(event: dict, context: Any) -> dict:
        return proxy_response(200, {"posts": 25})

    sim.add_function("feed", memory_mb=512, timeout_s=6, cpu_s=LogNormal(0.02, 0.4),
                     io_s=LogNormal(0.06, 0.5), handler=feed)
    sim.add_function("thumbnail", memory_mb=1536, timeout_s=30, cpu_s=LogNormal(1.2, 0.3),
                     io_s=LogNormal(0.2, 0.3), memory_used_mb=LogNormal(400.0, 0.2),
                     handler=thumbnail)
    sim.add_function("push-notify", memory_mb=128, timeout_s=5, duration_s=LogNormal(0.15, 0.4),
                     handler=push)
    sim.add_function("update-feed", memory_mb=256, timeout_s=5, duration_s=LogNormal(0.05, 0.3))
    sim.add_source(APIGateway(Diurnal(feed_requests_per_s, amplitude=0.8), path="/feed"),
                   target="feed")
    sim.add_source(photos, target="thumbnail")
    sim.add_source(new_photo, target=["push-notify", "update-feed"])
    return sim


# --------------------------------------------------------------------------------------------------
# Infrastructure automation: CloudTrail -> S3 -> Lambda
# --------------------------------------------------------------------------------------------------

_ACTIONS = ("GetFunction", "ListFunctions", "UpdateFunctionConfiguration",
            "PutFunctionConcurrency", "UpdateFunctionCode", "GetPolicy", "DeleteFunction")
_ACTION_WEIGHTS = np.array([30, 30, 10, 5, 15, 8, 2], dtype=float)
_USERS = ("alice", "bob", "deploy-bot")
_LOG = logging.getLogger("simlab.scenarios")


def control_plane_calls(seed: int, hours: float, calls_per_hour: float,
                        functions: tuple[str, ...] = ("checkout", "search", "resize")) -> list:
    """Made-up control-plane calls ``(time_s, action, request_parameters)`` for a trail."""
    rng = _rng(seed, "control-plane")
    n = int(rng.poisson(calls_per_hour * hours))
    times = np.sort(rng.uniform(0.0, hours * 3600.0, n))
    actions = rng.choice(len(_ACTIONS), n, p=_ACTION_WEIGHTS / _ACTION_WEIGHTS.sum())
    targets = rng.integers(0, len(functions), n)
    calls = []
    for t, a, f in zip(times.tolist(), actions.tolist(), targets.tolist(), strict=True):
        params: dict[str, Any] = {"functionName": functions[f]}
        if _ACTIONS[a] == "PutFunctionConcurrency":
            params["reservedConcurrentExecutions"] = int(rng.integers(1, 50))
        if _ACTIONS[a] == "ListFunctions":
            params = {}
        calls.append((t, _ACTIONS[a], params))
    return calls


def infra_automation(seed: int = 0, *, era: str = "today",
                     watched_call: str = "PutFunctionConcurrency", calls_per_hour: float = 40.0,
                     hours: float = 24.0, delivery_every_s: float = 300.0) -> Simulation:
    """Flag a chosen Lambda API call in CloudTrail log files as they land in S3.

    Control-plane calls by ``alice``, ``bob`` and ``deploy-bot`` (``calls_per_hour`` over
    ``hours``) are recorded by a trail that delivers a gzipped JSON log file to the ``audit-trail``
    bucket every ``delivery_every_s`` (with records of that window). Each file's
    ``s3:ObjectCreated`` notification invokes ``flag-calls``, whose handler downloads the object,
    **gunzips and parses it**, and for every record of ``watched_call`` logs a warning and
    publishes an alert to the ``security-alerts`` topic, which invokes ``notify-security``.

    Look at: the ``output`` of ``flag-calls`` (records scanned, flagged), the alerts in
    ``result.extras["sns"].messages``, the ``log_lines`` column.
    """
    if watched_call not in EVENT_NAMES:
        raise ValueError(f"watched_call must be a Lambda API action CloudTrail records, one of "
                         f"{sorted(EVENT_NAMES)}, got {watched_call!r}")
    _rate("calls_per_hour", calls_per_hour)
    _rate("hours", hours)
    _rate("delivery_every_s", delivery_every_s)
    sim = Simulation(era=era, seed=seed)
    calls = control_plane_calls(seed, hours, calls_per_hour)
    users = _rng(seed, "users").integers(0, len(_USERS), len(calls)).tolist()
    records = [trail_record(action, params, t, seed, n, sim.epoch, user=_USERS[u])
               for n, ((t, action, params), u) in enumerate(zip(calls, users, strict=True))]
    files = delivery_files(records, delivery_every_s, seed=seed, epoch=sim.epoch)
    trail_bucket = S3Bucket("audit-trail", uploads=[(f.delivery_time_s, f.key, len(f.body),
                                                     f.body) for f in files],
                            prefix="AWSLogs/", suffix=".json.gz")
    alerts = SNSTopic("security-alerts")
    logged_name = EVENT_NAMES[watched_call]

    def flag_calls(event: dict, context: Any) -> dict:
        key = unquote_plus(event["Records"][0]["s3"]["object"]["key"])
        body = trail_bucket.get_object(key)
        found = json.loads(gzip.decompress(body))["Records"]
        flagged = [r for r in found if r["eventName"] == logged_name]
        for r in flagged:
            who = r["userIdentity"].get("userName", r["userIdentity"].get("type"))
            _LOG.warning("%s by %s at %s on %s", watched_call, who, r["eventTime"],
                         (r.get("requestParameters") or {}).get("functionName"))
            alerts.publish(json.dumps({"eventName": r["eventName"], "user": who,
                                       "eventTime": r["eventTime"],
                                       "requestParameters": r["requestParameters"]}),
                           subject=f"{watched_call} detected")
        print(f"scanned {len(found)} records in {key.rsplit('/', 1)[-1]}")
        return {"records": len(found), "flagged": len(flagged)}

    def notify(event: dict, context: Any) -> str:
        alert = json.loads(event["Records"][0]["Sns"]["Message"])
        print(f"paging the on-call engineer: {alert['user']} called {alert['eventName']}")
        return "paged"

    sim.add_function("flag-calls", memory_mb=256, timeout_s=30, cpu_s=LogNormal(0.05, 0.3),
                     io_s=LogNormal(0.08, 0.3), handler=flag_calls)
    sim.add_function("notify-security", memory_mb=128, timeout_s=5,
                     duration_s=LogNormal(0.1, 0.3), handler=notify)
    sim.add_source(trail_bucket, target="flag-calls")
    sim.add_source(alerts, target="notify-security")
    return sim


# --------------------------------------------------------------------------------------------------
# Data validation on a DynamoDB stream
# --------------------------------------------------------------------------------------------------


def order_changes(seed: int, hours: float, changes_per_s: float, invalid_fraction: float,
                  items: int = 500) -> list:
    """Made-up changes of an ``orders`` table: ``(time_s, event, keys, new_image, old_image)``.

    A fraction ``invalid_fraction`` of the new images break a rule of :func:`invalid_order`
    (negative amount, unknown currency or missing e-mail).
    """
    rng = _rng(seed, "orders")
    n = int(rng.poisson(changes_per_s * hours * 3600.0))
    times = np.sort(rng.uniform(0.0, hours * 3600.0, n)).tolist()
    item = rng.integers(0, items, n).tolist()
    amount = rng.integers(100, 50_000, n).tolist()
    broken = (rng.random(n) < invalid_fraction).tolist()
    kind = rng.integers(0, 3, n).tolist()
    seen: dict[int, dict] = {}
    out = []
    for t, k, a, bad, why in zip(times, item, amount, broken, kind, strict=True):
        new: dict[str, Any] = {"id": k, "amount_cents": a, "currency": "EUR",
                               "email": f"customer{k}@example.com"}
        if bad:
            if why == 0:
                new["amount_cents"] = -a
            elif why == 1:
                new["currency"] = "XXX"
            else:
                del new["email"]
        old = seen.get(k)
        event = "INSERT" if old is None else "MODIFY"
        out.append((t, event, {"id": k}, new, old if old is not None else new))
        seen[k] = new
    return out


def invalid_order(item: dict) -> list[str]:
    """The rules an order breaks (empty when it is valid)."""
    problems = []
    if item.get("amount_cents", 0) < 0:
        problems.append("negative amount")
    if item.get("currency") not in ("EUR", "USD", "GBP"):
        problems.append("unknown currency")
    if not item.get("email"):
        problems.append("no e-mail")
    return problems


def data_validation(seed: int = 0, *, era: str = "today", changes_per_s: float = 2.0,
                    invalid_fraction: float = 0.05, hours: float = 1.0,
                    batch_size: int = 100, batching_window_s: float = 1.0,
                    shards: int = 2) -> Simulation:
    """Check every order written to a DynamoDB table, through the table's stream.

    Changes to ``orders`` (``changes_per_s`` for ``hours``; a fraction ``invalid_fraction`` of
    them break a rule) flow into its stream (``shards`` shards); an event source mapping invokes
    ``validate-orders`` synchronously with batches of up to ``batch_size`` records, gathered for
    up to ``batching_window_s``. The handler
    converts DynamoDB JSON to plain values, checks each new image, logs a warning per invalid
    order and returns the ids it rejected.

    Look at: the ``output`` column (checked, invalid), the iterator age in
    ``result.extras["dynamodb:orders"]``.
    """
    from simlab.sources.streams import DynamoDBStream

    _rate("changes_per_s", changes_per_s)
    _fraction("invalid_fraction", invalid_fraction)
    _rate("hours", hours)
    sim = Simulation(era=era, seed=seed)
    changes = order_changes(seed, hours, changes_per_s, invalid_fraction)

    def validate(event: dict, context: Any) -> dict:
        invalid = []
        for rec in event["Records"]:
            image = rec["dynamodb"].get("NewImage")
            if image is None:
                continue
            item = from_dynamodb_json(image)
            problems = invalid_order(item)
            if problems:
                invalid.append(item["id"])
                _LOG.warning("order %s rejected: %s", item["id"], ", ".join(problems))
        return {"checked": len(event["Records"]), "invalid": invalid}

    sim.add_function("validate-orders", memory_mb=256, timeout_s=30,
                     cpu_s=LogNormal(0.03, 0.3), io_s=LogNormal(0.02, 0.3), handler=validate)
    sim.add_source(DynamoDBStream("orders", changes, shards=shards, batch_size=batch_size,
                                  batching_window_s=batching_window_s,
                                  starting_position="TRIM_HORIZON"),
                   target="validate-orders")
    return sim


# --------------------------------------------------------------------------------------------------
# Nightly scheduled job
# --------------------------------------------------------------------------------------------------


def nightly_job(seed: int = 0, *, era: str = "today", expression: str = "cron(0 2 * * ? *)",
                median_minutes: float = 4.0, error_rate: float = 0.1) -> Simulation:
    """A report built every night at 02:00 UTC by an EventBridge rule.

    ``nightly-report`` (2,048 MB, 15-minute timeout) runs for about ``median_minutes``; it fails
    with probability ``error_rate``, and being invoked asynchronously it is retried after 1 and 2
    minutes; a night whose three attempts all fail lands in the ``report-failures`` queue.

    Look at: ``result.invocations`` (attempts per night), ``result.extras["report-failures"]``,
    the cost of a month of nights with ``result.bill()``.
    """
    _rate("median_minutes", median_minutes)
    _fraction("error_rate", error_rate)
    sim = Simulation(era=era, seed=seed)

    def report(event: dict, context: Any) -> dict:
        day = event["time"][:10]
        print(f"building the sales report of {day}")
        return {"report": f"s3://reports/daily/{day}.pdf"}

    timeout = 900 if era != "2018" else 300
    sim.add_function("nightly-report", memory_mb=2048, timeout_s=timeout,
                     io_s=LogNormal(median_minutes * 60.0, 0.25), error_rate=error_rate,
                     handler=report)
    configure_async(sim, "nightly-report", on_failure=Queue("report-failures"))
    sim.add_source(Schedule(expression, rule_name="nightly-report"), target="nightly-report")
    return sim


# --------------------------------------------------------------------------------------------------
# Catalogue
# --------------------------------------------------------------------------------------------------

_CATALOGUE: dict[str, Callable[..., Simulation]] = {
    "etl_s3": etl_s3,
    "api_backend": api_backend,
    "mobile_backend": mobile_backend,
    "infra_automation": infra_automation,
    "data_validation": data_validation,
    "nightly_job": nightly_job,
}


def list_scenarios() -> dict[str, str]:
    """Name -> one-line description of every scenario."""
    return {name: (fn.__doc__ or "").strip().splitlines()[0] for name, fn in _CATALOGUE.items()}


def get(name: str, **options: Any) -> Simulation:
    """Build scenario ``name`` with ``options`` (``seed``, ``era`` and its own knobs)."""
    if name not in _CATALOGUE:
        raise ValueError(f"no scenario named {name!r}; scenarios: {sorted(_CATALOGUE)}")
    return _CATALOGUE[name](**options)
