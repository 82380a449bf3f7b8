"""Stream processing: a function reads a DynamoDB or Kinesis stream in ordered batches.

A stream is split into shards; an event source mapping reads each shard in order and invokes the
function *synchronously* with a batch of records. Order is kept per shard (per partition key), and
it has a price: a batch that fails is retried, and the records behind it in its shard wait.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simlab.dists import LogNormal
from simlab.scenarios._common import LOG, scenario_rng
from simlab.simulation import Simulation
from simlab.sources import DynamoDBStream
from simlab.sources.payloads import from_dynamodb_json
from simlab.validate import number, whole

__all__ = ["data_validation", "order_changes", "invalid_order"]


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
    ``result.extras["dynamodb:orders"]``.
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
