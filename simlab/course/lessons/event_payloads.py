"""What a function receives: event documents, schedules, and calls from other functions.

Lesson 5b (what the function receives; :mod:`simlab.course.lessons.event_sources` re-exports
everything
here):

* **payloads**: the same handler gets a different JSON document from each trigger. An S3
  notification is ``{"Records": [{"s3": {"bucket": ..., "object": {"key": ...}}}]}`` with the key
  URL-encoded (a space arrives as ``+``); API Gateway sends the whole HTTP request (``httpMethod``,
  ``path``, ``queryStringParameters``, ``body``...) and expects ``{"statusCode", "body"}`` back.
  an SNS record wraps the published text (a string) in ``Sns.Message``; a DynamoDB stream record
  carries the change (``INSERT``, ``MODIFY``, ``REMOVE``) with the item's key and images in
  DynamoDB's typed JSON. :func:`received_events` captures what a real handler received;
  :func:`trim` keeps the fields worth reading;
* **schedules**: EventBridge rules fire on ``rate(...)`` or 6-field ``cron(...)`` expressions in
  UTC; :func:`firings` lists the firing times of an expression, :func:`firings_figure` draws them
  per hour;
* **chains**: a handler may call other functions through the SDK (``context.lambda_client``),
  synchronously (it gets the answer, or the callee's error) or asynchronously (it gets 202):
  :func:`handler_chain`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from matplotlib.dates import DateFormatter
from matplotlib.figure import Figure

from simlab.aws.cron import parse_schedule
from simlab.aws.simulation import Simulation
from simlab.aws.sources import SDK, APIGateway, DynamoDBStream, Replay, S3Bucket, SNSTopic
from simlab.aws.sources.payloads import proxy_response
from simlab.core import plots
from simlab.core.result import Result

__all__ = ["received_events", "trim", "firings", "firings_figure", "handler_chain"]


# -- payloads -----------------------------------------------------------------------------------
def received_events(seed: int = 0) -> dict[str, dict[str, Any]]:
    """The events one handler received, by trigger name: from S3 (an upload of
    ``photos/red flower.jpg``), API Gateway (``GET /orders?id=42``), SNS (a message published to
    the topic ``orders``) and DynamoDB Streams (an order of the table ``orders`` updated from
    ``paid`` to ``shipped``)."""
    seen: dict[str, dict[str, Any]] = {}
    sources = {"aws:s3": "S3", "aws:sns": "SNS", "aws:dynamodb": "DynamoDB Streams"}

    def handler(event: dict, context: Any) -> Any:
        if "Records" in event:
            record = event["Records"][0]
            seen[sources[record.get("eventSource") or record.get("EventSource")]] = event
            return None
        seen["API Gateway"] = event
        return proxy_response(200, {"order": event["queryStringParameters"]["id"]})

    sim = Simulation(era="today", seed=seed)
    sim.add_function("echo", memory_mb=256, duration_s=0.1, handler=handler)
    sim.add_source(S3Bucket("photos", uploads=[(1.0, "photos/red flower.jpg", 52_000)]),
                   target="echo")
    sim.add_source(APIGateway(Replay([2.0]), path="/orders", query={"id": "42"},
                              headers={"Accept": "application/json"}), target="echo")
    sim.add_source(SNSTopic("orders", messages=[(3.0, '{"order": 7, "status": "shipped"}',
                                                 "order shipped")]), target="echo")
    sim.add_source(DynamoDBStream("orders", [(4.0, "MODIFY", {"id": 7},
                                              {"id": 7, "status": "shipped", "total": 25.5},
                                              {"id": 7, "status": "paid", "total": 25.5})]),
                   target="echo")
    sim.run(until_s=10.0)
    return seen


def trim(event: Any, keep: Sequence[str]) -> Any:
    """A copy of ``event`` with only the dotted paths in ``keep`` (``"Records.0.s3.bucket.name"``;
    a number indexes a list); each level that lost keys gets a ``"..."`` entry saying how many."""
    if not keep:
        return event
    if isinstance(event, list):
        heads = sorted({int(p.split(".", 1)[0]) for p in keep})
        return [trim(event[i], [p.split(".", 1)[1] for p in keep
                                if "." in p and int(p.split(".", 1)[0]) == i]) for i in heads]
    if not isinstance(event, dict):
        return event
    out: dict[str, Any] = {}
    for key in dict.fromkeys(p.split(".", 1)[0] for p in keep):
        if key not in event:
            raise KeyError(f"no key {key!r} in the event (keys: {list(event)})")
        out[key] = trim(event[key], [p.split(".", 1)[1] for p in keep
                                     if p.startswith(key + ".")])
    if len(event) > len(out):
        out["..."] = f"{len(event) - len(out)} more keys"
    return out


# -- schedules ----------------------------------------------------------------------------------
def firings(expression: str, start: datetime, end: datetime) -> pd.DataFrame:
    """The firing times of a schedule expression in ``[start, end)`` (UTC), one row each:
    ``time`` (UTC), ``weekday`` (Mon...), ``hour``."""
    times = pd.to_datetime(parse_schedule(expression).fire_times(start, end))
    return pd.DataFrame({"time": times, "weekday": times.strftime("%a"),
                         "hour": times.hour.to_numpy()})


def firings_figure(table: pd.DataFrame, start: datetime, end: datetime, *,
                   ax: Any = None) -> Figure:
    """Firings per hour of a :func:`firings` table over ``[start, end)``, on ``ax`` or on a new
    figure; returns the figure."""
    if ax is None:
        ax = Figure(figsize=(9.0, 3.0), layout="constrained").subplots()
    hours = pd.date_range(pd.Timestamp(start).floor("h"), pd.Timestamp(end), freq="h",
                          inclusive="left")
    counts = table["time"].dt.floor("h").value_counts().reindex(hours, fill_value=0)
    ax.bar(hours, counts.to_numpy(), width=1 / 24, align="edge", color=plots.OKABE_ITO["blue"])
    for day in pd.date_range(hours[0].ceil("D"), hours[-1], freq="D"):
        ax.axvline(day, color="0.5", lw=0.8, ls=":")
        ax.annotate(day.strftime("%a %d %b"), (day, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(3, -3), textcoords="offset points", va="top", fontsize="small")
    ax.set_ylim(0, max(int(counts.max()), 1) * 1.25)
    ax.set_ylabel("firings per hour")
    ax.set_xlabel("time (UTC)")
    ax.set_xlim(hours[0], hours[-1] + pd.Timedelta(hours=1))
    ax.xaxis.set_major_formatter(DateFormatter("%H:%M"))
    return ax.figure


# -- a chain of functions -----------------------------------------------------------------------
def _checkout(event: dict, context: Any) -> dict:
    answer = context.lambda_client.invoke(FunctionName="charge-card", Payload=json.dumps(event))
    charge = json.loads(answer["Payload"].read())
    if "FunctionError" in answer:
        raise RuntimeError(f"payment failed: {charge['errorMessage']}")
    context.lambda_client.invoke(FunctionName="send-receipt", InvocationType="Event",
                                 Payload=json.dumps({"order": event["order"]}))
    print(f"order {event['order']} paid with {charge['charge_id']}")
    return {"order": event["order"], "status": "paid"}


def _charge(event: dict, context: Any) -> dict:
    if event["cents"] > 100_000:
        raise ValueError(f"{event['cents']} cents is over the card's limit")
    return {"charge_id": f"ch_{event['order']:04d}", "cents": event["cents"]}


def _receipt(event: dict, context: Any) -> str:
    print(f"receipt for order {event['order']} sent")
    return "sent"


def handler_chain(orders: Sequence[tuple[float, int, int]] = ((1.0, 1, 2_500), (5.0, 2, 250_000)),
                  *, seed: int = 0) -> Result:
    """``checkout`` called by a program (SDK, RequestResponse) for each ``(time_s, order,
    cents)``: it invokes ``charge-card`` synchronously (which refuses more than 100,000 cents),
    then ``send-receipt`` asynchronously. Each function's code is a real handler."""
    sim = Simulation(era="today", seed=seed)
    sim.add_function("checkout", memory_mb=256, duration_s=0.15, handler=_checkout)
    sim.add_function("charge-card", memory_mb=256, duration_s=0.3, handler=_charge)
    sim.add_function("send-receipt", memory_mb=128, duration_s=0.1, handler=_receipt)
    calls = [(t, "checkout", {"order": n, "cents": c}) for t, n, c in orders]
    sim.add_source(SDK(calls), target="checkout")
    return sim.run(until_s=max(t for t, _, _ in orders) + 300.0)
