"""Stream processing: a function reads a DynamoDB or Kinesis stream in ordered batches.

A stream is split into shards; an event source mapping reads each shard in order and invokes the
function *synchronously* with a batch of records. Order is kept per shard (per partition key), and
it has a price: a batch that fails is retried, and the records behind it in its shard wait.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np

from simlab.aws.scenarios._common import LOG, scenario_rng
from simlab.aws.simulation import Simulation
from simlab.aws.sources import DynamoDBStream, KinesisStream, Queue
from simlab.aws.sources.payloads import from_dynamodb_json
from simlab.core.dists import LogNormal
from simlab.core.validate import number, whole

__all__ = ["data_validation", "order_changes", "invalid_order", "clickstream_kinesis",
           "click_events", "PAGES"]

#: The pages of the made-up web shop, most visited first (popularity falls as 1 / rank).
PAGES: tuple[str, ...] = (
    "/", "/search", "/products/1", "/products/2", "/cart", "/products/3", "/products/4",
    "/account", "/checkout", "/products/5", "/help", "/products/6", "/orders", "/products/7",
    "/about", "/products/8")


def order_changes(seed: int, hours: float, changes_per_s: float, invalid_fraction: float,
                  items: int = 500) -> list:
    """Made-up changes of an ``orders`` table: ``(time_s, event, keys, new_image, old_image)``.

    A fraction ``invalid_fraction`` of the new images break a rule of :func:`invalid_order`
    (negative amount, unknown currency or missing e-mail).
    """
    rng = scenario_rng(seed, "orders")
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
    ``result.output("dynamodb:orders")``.
    """
    number("changes_per_s", changes_per_s, 0, 1_000, low_open=True)
    number("invalid_fraction", invalid_fraction, 0, 1)
    number("hours", hours, 0, 24 * 7, low_open=True)
    whole("shards", shards, 1, 500)
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
                LOG.warning("order %s rejected: %s", item["id"], ", ".join(problems))
        return {"checked": len(event["Records"]), "invalid": invalid}

    sim.add_function("validate-orders", memory_mb=256, timeout_s=30,
                     cpu_s=LogNormal(0.03, 0.3), io_s=LogNormal(0.02, 0.3), handler=validate)
    sim.add_source(DynamoDBStream("orders", changes, shards=shards, batch_size=batch_size,
                                  batching_window_s=batching_window_s,
                                  starting_position="TRIM_HORIZON"),
                   target="validate-orders")
    return sim


def click_events(seed: int, hours: float, clicks_per_s: float, users: int,
                 poison_fraction: float = 0.0) -> list[tuple[float, str, bytes]]:
    """Made-up click events of a web shop: ``(time_s, partition_key, data)``, in time order.

    Clicks are Poisson at ``clicks_per_s`` for ``hours``; the user of each click is drawn with
    log-normal activity weights (a few users click a lot), the page with popularity falling as
    1 / rank over :data:`PAGES`. ``data`` is JSON (``{"user", "page", "ts"}``), the partition key
    is the user (``u-00042``). A fraction ``poison_fraction`` of the records come from a broken
    producer and hold truncated JSON that no consumer can parse.
    """
    rng = scenario_rng(seed, "clicks")
    n = int(rng.poisson(clicks_per_s * hours * 3600.0))
    times = np.sort(rng.uniform(0.0, hours * 3600.0, n))
    activity = rng.lognormal(0.0, 1.0, users)
    user = rng.choice(users, n, p=activity / activity.sum())
    popularity = 1.0 / np.arange(1, len(PAGES) + 1)
    page = rng.choice(len(PAGES), n, p=popularity / popularity.sum())
    broken = rng.random(n) < poison_fraction
    keys = [f"u-{u:05d}" for u in range(users)]
    out = []
    for t, u, p, bad in zip(times.tolist(), user.tolist(), page.tolist(), broken.tolist(),
                            strict=True):
        data = json.dumps({"user": keys[u], "page": PAGES[p], "ts": round(t, 3)}).encode()
        out.append((t, keys[u], data[: len(data) // 2] if bad else data))
    return out


def clickstream_kinesis(seed: int = 0, *, era: str = "today", clicks_per_s: float = 20.0,
                        users: int = 2_000, shards: int = 4, batch_size: int = 100,
                        batching_window_s: float = 0.0, parallelization_factor: int = 1,
                        poison_fraction: float = 0.0, max_retries: int = -1,
                        bisect_on_error: bool = False, hours: float = 1.0) -> Simulation:
    """Click events on a Kinesis stream, aggregated per page by a function reading batches.

    A web shop puts every click (``clicks_per_s``, by ``users`` users) on the ``clickstream``
    stream (``shards`` shards, partition key = user, so each user's clicks stay in order). The
    event source mapping polls each shard once a second and invokes ``aggregate-clicks``
    synchronously with up to ``batch_size`` records (``batching_window_s``,
    ``parallelization_factor``: AWS's settings, AWS's defaults). The handler decodes each record
    (base64, then JSON) and counts the clicks per page.

    With ``poison_fraction`` > 0 some records are truncated JSON: the handler raises, the whole
    batch fails and is retried, and its shard waits behind it. With AWS's defaults
    (``max_retries=-1``, ``bisect_on_error=False``) that is until the record expires (24 h):
    watch the shard's iterator age grow while the other shards flow. ``max_retries`` and
    ``bisect_on_error`` let the mapping give up on the poison record; the discarded batches are
    described in the ``clickstream-failures`` queue.

    Look at: ``result.output("kinesis:clickstream")`` (``.records``, ``.iterator_age()``,
    ``.batches``), ``result.output("clickstream-failures")``, the ``output`` column.
    """
    number("clicks_per_s", clicks_per_s, 0, 1_000, low_open=True)
    whole("users", users, 1, 1_000_000)
    number("poison_fraction", poison_fraction, 0, 1)
    number("hours", hours, 0, 24, low_open=True)
    if not isinstance(bisect_on_error, bool):
        raise TypeError(f"bisect_on_error must be True or False, got {bisect_on_error!r}")
    stream = KinesisStream("clickstream", click_events(seed, hours, clicks_per_s, users,
                                                       poison_fraction),
                           shards=shards, batch_size=batch_size,
                           batching_window_s=batching_window_s,
                           parallelization_factor=parallelization_factor,
                           max_retries=max_retries, bisect_on_error=bisect_on_error,
                           on_failure=Queue("clickstream-failures"))
    sim = Simulation(era=era, seed=seed)

    def aggregate(event: dict, context: Any) -> dict:
        clicks = [json.loads(base64.b64decode(r["kinesis"]["data"])) for r in event["Records"]]
        pages: dict[str, int] = {}
        for click in clicks:
            pages[click["page"]] = pages.get(click["page"], 0) + 1
        return {"clicks": len(clicks), "users": len({c["user"] for c in clicks}),
                "pages": pages}

    sim.add_function("aggregate-clicks", memory_mb=256, timeout_s=60,
                     cpu_s=LogNormal(0.01, 0.3), io_s=LogNormal(0.02, 0.4), handler=aggregate)
    sim.add_source(stream, target="aggregate-clicks")
    return sim
