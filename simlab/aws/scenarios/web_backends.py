"""Web and mobile backends: HTTP requests through API Gateway, each one a synchronous invocation.

API Gateway waits for the function's answer (for at most 29 s) and turns what goes wrong into HTTP
status codes: an invocation Lambda throttles is a ``500``, a function error a ``502``, a timeout a
``504``; a ``429`` comes only from API Gateway's own throttle.
A mobile backend adds what happens off the request path: uploads to S3 processed asynchronously,
and SNS topics fanning one event out to several functions.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from simlab.aws.simulation import Simulation
from simlab.aws.sources import APIGateway, Diurnal, Poisson, S3Bucket, SNSTopic
from simlab.aws.sources.apigateway import Throttle
from simlab.aws.sources.payloads import proxy_response
from simlab.core.dists import LogNormal
from simlab.core.validate import number

__all__ = ["api_backend", "mobile_backend"]


def api_backend(seed: int = 0, *, era: str = "today", rate_per_s: float = 5.0,
                reserved_concurrency: int | None = None, client_retries: int = 1,
                error_rate: float = 0.002, stage_rate_per_s: float | None = None,
                stage_burst: int = 10) -> Simulation:
    """A REST API (``GET /products``) backed by one function behind API Gateway.

    ``products`` (512 MB) spends a little CPU and waits on a database (log-normal I/O), and returns
    a proxy response. Requests are Poisson at ``rate_per_s``; clients retry 429/500/502/504
    answers ``client_retries`` times. Set ``reserved_concurrency`` to see Lambda's throttling
    turn into 500s (``{"message": "Internal server error"}``), and ``stage_rate_per_s`` to put
    API Gateway's own stage throttle (burst ``stage_burst``) in front of it: its refusals are the
    429s, and they never reach Lambda.

    Look at: ``result.output("apigateway").responses`` and ``.requests``, the ``http_status``
    column.
    """
    number("rate_per_s", rate_per_s, 0, 10_000, low_open=True)
    error_rate = number("error_rate", error_rate, 0, 1)
    sim = Simulation(era=era, seed=seed)

    def products(event: dict, context: Any) -> dict:
        page = (event.get("queryStringParameters") or {}).get("page", "1")
        return proxy_response(200, {"page": int(page), "items": 20})

    sim.add_function("products", memory_mb=512, timeout_s=10, cpu_s=LogNormal(0.015, 0.4),
                     io_s=LogNormal(0.045, 0.6), error_rate=error_rate,
                     reserved_concurrency=reserved_concurrency, handler=products)
    stage = None if stage_rate_per_s is None else Throttle(float(stage_rate_per_s), stage_burst)
    sim.add_source(APIGateway(Poisson(rate_per_s), path="/products", query={"page": "1"},
                              client_retries=client_retries, stage_throttle=stage),
                   target="products")
    return sim


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
    number("feed_requests_per_s", feed_requests_per_s, 0, 10_000, low_open=True)
    number("photos_per_hour", photos_per_hour, 0, 1e6, low_open=True)
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
