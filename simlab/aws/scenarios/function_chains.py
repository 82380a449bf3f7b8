"""Chains of functions: a program calls a function through the SDK, and its handler calls others.

The Invoke API (``boto3.client("lambda").invoke``) is how a program, or a function's own code,
runs a function directly. ``InvocationType="RequestResponse"`` waits for the answer; ``"Event"``
hands the event to the asynchronous queue and returns ``202`` at once; ``"DryRun"`` only checks
the call. A handler that calls other functions makes a *chain*: each callee is a separate request
with its own row, its own cold starts and its own bill, and records the caller in
``parent_invocation_id``.

A synchronous callee's failure does not raise in the caller: the answer says ``StatusCode`` 200
with ``FunctionError`` set, and the caller's code must look. (In simlab the caller's simulated run
time does not include its synchronous callees': each duration comes from its own distribution.)
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from simlab.aws.scenarios._common import scenario_rng
from simlab.aws.simulation import Simulation
from simlab.aws.sources import SDK
from simlab.core.dists import LogNormal
from simlab.core.validate import number

__all__ = ["sdk_pipeline", "checkout_orders", "DECLINED_CARD", "FRAUD_LIMIT_CENTS"]

#: The card number the payment processor always declines (as in card processors' test suites).
DECLINED_CARD = "4000000000000002"
#: Orders above this amount are refused by the fraud check.
FRAUD_LIMIT_CENTS = 100_000


def checkout_orders(seed: int, hours: float, orders_per_s: float,
                    decline_fraction: float) -> list[tuple[float, dict[str, Any]]]:
    """Made-up orders placed by a shop's checkout program: ``(time_s, order)``, Poisson times.

    An order is ``{"order_id", "email", "amount_cents", "card"}``; amounts are log-normal (median
    40 EUR, a few above :data:`FRAUD_LIMIT_CENTS`); a fraction ``decline_fraction`` of them pay
    with :data:`DECLINED_CARD`.
    """
    rng = scenario_rng(seed, "checkout")
    n = int(rng.poisson(orders_per_s * hours * 3600.0))
    times = np.sort(rng.uniform(0.0, hours * 3600.0, n)).tolist()
    amount = np.rint(rng.lognormal(np.log(4_000.0), 1.0, n)).astype(np.int64).tolist()
    declined = (rng.random(n) < decline_fraction).tolist()
    return [(t, {"order_id": f"o-{i:06d}", "email": f"customer{i}@example.com",
                 "amount_cents": a, "card": DECLINED_CARD if bad else "4242424242424242"})
            for i, (t, a, bad) in enumerate(zip(times, amount, declined, strict=True))]


def sdk_pipeline(seed: int = 0, *, era: str = "today", orders_per_s: float = 1.0,
                 decline_fraction: float = 0.05, hours: float = 1.0) -> Simulation:
    """A checkout program invokes a function that calls a chain of others through the SDK.

    The shop's checkout program calls ``place-order`` through the Invoke API (``orders_per_s``
    orders, ``RequestResponse``; a ``DryRun`` first, to check its permissions). ``place-order``'s
    handler calls, with ``context.lambda_client.invoke``:

    * ``check-fraud`` (``RequestResponse``): orders above 1,000 EUR are refused;
    * ``charge-card`` (``RequestResponse``), which itself calls ``ledger`` (``RequestResponse``) to
      record the payment; a declined card (a fraction ``decline_fraction`` of orders) makes
      ``charge-card`` raise, which ``place-order`` sees as ``FunctionError`` in the answer;
    * ``send-receipt`` (``Event``), only for paid orders: queued, it runs asynchronously.

    Look at: the ``parent_invocation_id`` column (who called whom),
    ``result.output("sdk").responses`` (what the program got back), the ``output`` of
    ``place-order``, the cold starts each link of the chain adds.
    """
    number("orders_per_s", orders_per_s, 0, 1_000, low_open=True)
    number("decline_fraction", decline_fraction, 0, 1)
    number("hours", hours, 0, 24, low_open=True)
    orders = checkout_orders(seed, hours, orders_per_s, decline_fraction)
    calls: list[tuple[Any, ...]] = [(0.0, "place-order", None, "DryRun")]
    calls += [(t, "place-order", order, "RequestResponse") for t, order in orders]
    sim = Simulation(era=era, seed=seed)

    def place_order(order: dict, context: Any) -> dict:
        client = context.lambda_client
        verdict = client.invoke(FunctionName="check-fraud", Payload=json.dumps(order))
        if json.loads(verdict["Payload"].read())["fraud"]:
            return {"order_id": order["order_id"], "status": "refused"}
        charge = client.invoke(FunctionName="charge-card", Payload=json.dumps(order))
        answer = json.loads(charge["Payload"].read())
        if "FunctionError" in charge:
            print(f"payment of {order['order_id']} failed: {answer.get('errorMessage')}")
            return {"order_id": order["order_id"], "status": "payment-failed"}
        client.invoke(FunctionName="send-receipt", InvocationType="Event",
                      Payload=json.dumps({**order, "charge_id": answer["charge_id"]}))
        return {"order_id": order["order_id"], "status": "confirmed",
                "charge_id": answer["charge_id"]}

    def check_fraud(order: dict, context: Any) -> dict:
        return {"fraud": order["amount_cents"] > FRAUD_LIMIT_CENTS}

    def charge_card(order: dict, context: Any) -> dict:
        if order["card"] == DECLINED_CARD:
            raise RuntimeError(f"card declined for {order['order_id']}")
        charge_id = "ch-" + order["order_id"][2:]
        context.lambda_client.invoke(FunctionName="ledger", Payload=json.dumps(
            {"charge_id": charge_id, "amount_cents": order["amount_cents"]}))
        return {"charge_id": charge_id}

    def ledger(entry: dict, context: Any) -> dict:
        return {"recorded": entry["charge_id"]}

    def send_receipt(order: dict, context: Any) -> str:
        print(f"receipt for {order['order_id']} sent to {order['email']}")
        return order["charge_id"]

    sim.add_function("place-order", memory_mb=512, timeout_s=10, cpu_s=LogNormal(0.01, 0.3),
                     io_s=LogNormal(0.03, 0.4), handler=place_order)
    sim.add_function("check-fraud", memory_mb=1024, timeout_s=5, cpu_s=LogNormal(0.04, 0.3),
                     handler=check_fraud)
    sim.add_function("charge-card", memory_mb=512, timeout_s=10, cpu_s=LogNormal(0.01, 0.3),
                     io_s=LogNormal(0.3, 0.5), handler=charge_card)
    sim.add_function("ledger", memory_mb=256, timeout_s=5, io_s=LogNormal(0.02, 0.3),
                     handler=ledger)
    sim.add_function("send-receipt", memory_mb=128, timeout_s=10, io_s=LogNormal(0.1, 0.4),
                     handler=send_receipt)
    sim.add_source(SDK(calls), target="place-order")
    return sim
