"""Queue workers: a function consumes an SQS queue in batches, and a dead-letter queue catches the
messages it can never process.

Messages wait in the queue until a consumer deletes them. Lambda's event source mapping receives a
batch, invokes the function *synchronously*, and deletes the batch only if the function succeeds.
A message received but not deleted stays invisible for the queue's visibility timeout, then comes
back, one receive count higher. A *redrive policy* moves a message received ``maxReceiveCount``
times to a dead-letter queue, so that a message that always fails stops coming back: without one
it would be retried until the queue's retention period ends (4 days by default).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from simlab.aws.scenarios._common import scenario_rng
from simlab.aws.simulation import Simulation
from simlab.aws.sources import SQSQueue
from simlab.core.dists import LogNormal
from simlab.core.validate import number, whole

__all__ = ["order_queue_sqs", "queue_orders", "order_problem"]

_SKUS = ("book", "lamp", "mug", "chair", "desk", "pen", "bag", "cable")
_PRICES = (1_890, 4_500, 990, 12_900, 29_900, 250, 3_490, 1_290)


def queue_orders(seed: int, hours: float, orders_per_s: float,
                 bad_fraction: float) -> list[tuple[float, str]]:
    """Made-up orders sent to the queue: ``(time_s, body)``, Poisson times, JSON bodies.

    A body is ``{"order_id", "customer", "items": [{"sku", "qty", "price_cents"}], "total_cents"}``.
    A fraction ``bad_fraction`` of them are broken in a way no retry fixes (see
    :func:`order_problem`): an empty order, a negative quantity or a total that does not add up.
    """
    rng = scenario_rng(seed, "queue-orders")
    n = int(rng.poisson(orders_per_s * hours * 3600.0))
    times = np.sort(rng.uniform(0.0, hours * 3600.0, n)).tolist()
    customer = rng.integers(0, 5_000, n).tolist()
    lines = rng.integers(1, 4, n).tolist()
    sku = rng.integers(0, len(_SKUS), (n, 3)).tolist()
    qty = rng.integers(1, 4, (n, 3)).tolist()
    broken = (rng.random(n) < bad_fraction).tolist()
    why = rng.integers(0, 3, n).tolist()
    out = []
    for i in range(n):
        items = [{"sku": _SKUS[s], "qty": q, "price_cents": _PRICES[s]}
                 for s, q in zip(sku[i][:lines[i]], qty[i][:lines[i]], strict=True)]
        total = sum(it["qty"] * it["price_cents"] for it in items)
        if broken[i]:
            if why[i] == 0:
                items = []
            elif why[i] == 1:
                items[0]["qty"] = -items[0]["qty"]
            else:
                total += 100
        body = {"order_id": f"o-{i:06d}", "customer": f"c-{customer[i]:04d}", "items": items,
                "total_cents": total}
        out.append((times[i], json.dumps(body, separators=(",", ":"))))
    return out


def order_problem(order: dict) -> str | None:
    """Why an order cannot be processed (None when it can)."""
    items = order.get("items") or []
    if not items:
        return "no items"
    if any(it["qty"] <= 0 for it in items):
        return "quantity must be positive"
    if sum(it["qty"] * it["price_cents"] for it in items) != order.get("total_cents"):
        return "total does not match the items"
    return None


def order_queue_sqs(seed: int = 0, *, era: str = "today", orders_per_s: float = 5.0,
                    batch_size: int = 10, batching_window_s: float = 0.0,
                    function_timeout_s: float = 30.0, visibility_timeout_s: float | None = None,
                    max_receive_count: int = 5, bad_fraction: float = 0.01,
                    error_rate: float = 0.01, hours: float = 1.0) -> Simulation:
    """Orders on an SQS queue, processed in batches by a worker, with a dead-letter queue.

    A shop sends ``orders_per_s`` orders (JSON) to the ``orders`` queue. Its event source mapping
    invokes ``order-worker`` (512 MB, ``function_timeout_s``) synchronously with batches of up to
    ``batch_size`` messages (``batching_window_s`` to gather them; AWS's defaults: 10 and 0 s).
    The handler checks each order and stores it; an order it cannot process (a fraction
    ``bad_fraction``: empty, negative quantity, wrong total) makes it raise, and the whole batch
    fails. Independently, a fraction ``error_rate`` of invocations fail for a passing reason (a
    database timeout) and succeed when retried.

    Nothing of a failed batch is deleted: its messages come back after the visibility timeout
    (``visibility_timeout_s``, by default 6 times the function's timeout, as AWS recommends; it
    must be at least the timeout). After ``max_receive_count`` receipts (AWS recommends at least
    5) the queue's redrive policy moves a message to the ``orders-dlq`` dead-letter queue. With
    batches of several messages (give a ``batching_window_s``), a bad order drags the good ones
    of its batch there too, since they fail and come back together (AWS's partial batch
    responses, ``ReportBatchItemFailures``, which avoid that, are not modelled).

    Look at: ``result.output("sqs:orders")`` (``.frame``: receive counts and outcomes,
    ``.batches``, ``.dead_letters``), ``result.output("sqs:orders-dlq").frame`` (what an operator
    finds in the dead-letter queue), the worker's ``error`` column.
    """
    number("orders_per_s", orders_per_s, 0, 1_000, low_open=True)
    timeout = number("function_timeout_s", function_timeout_s, 1, 900)
    visibility = 6.0 * timeout if visibility_timeout_s is None else visibility_timeout_s
    number("visibility_timeout_s", visibility, timeout, 43_200)
    whole("max_receive_count", max_receive_count, 1, 1_000)
    number("bad_fraction", bad_fraction, 0, 1)
    error_rate = number("error_rate", error_rate, 0, 1)
    number("hours", hours, 0, 24, low_open=True)
    dlq = SQSQueue("orders-dlq", retention_s=1_209_600.0)
    queue = SQSQueue("orders", queue_orders(seed, hours, orders_per_s, bad_fraction),
                     batch_size=batch_size, batching_window_s=batching_window_s,
                     visibility_timeout_s=visibility, max_receive_count=max_receive_count,
                     dead_letter_queue=dlq)
    sim = Simulation(era=era, seed=seed)

    def worker(event: dict, context: Any) -> dict:
        total = 0
        for record in event["Records"]:
            order = json.loads(record["body"])
            problem = order_problem(order)
            if problem is not None:
                raise ValueError(f"order {order['order_id']}: {problem} (received "
                                 f"{record['attributes']['ApproximateReceiveCount']} times)")
            total += order["total_cents"]
        return {"orders": len(event["Records"]), "total_cents": total}

    sim.add_function("order-worker", memory_mb=512, timeout_s=timeout,
                     cpu_s=LogNormal(0.02, 0.3), io_s=LogNormal(0.15, 0.5),
                     error_rate=error_rate, handler=worker)
    sim.add_source(queue, target="order-worker")
    return sim
