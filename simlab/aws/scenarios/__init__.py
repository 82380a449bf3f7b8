"""Ready-to-run scenarios: the classic serverless use cases, each a configured simulation.

Each function here builds a :class:`~simlab.Simulation` with its functions, real handlers and
triggers wired the way the use case works on AWS, so that a lesson can start from a working system
in one line and then change one thing::

    result = simlab.scenarios.etl_s3(seed=0).run(until_s=3600)
    result.output("etl-failures").records      # what the dead-letter queue caught

=======================  ======================================================================
``etl_s3``               files land in S3, a function transforms each one and writes the result
                         to a second bucket, which triggers a cataloguing function
``api_backend``          a REST API: API Gateway invokes a function synchronously per request
``mobile_backend``       a mobile app's backend: an API for the feed, photo uploads to S3 that
                         make thumbnails, and SNS push notifications fanned out to two functions
``infra_automation``     the run's configuration changes, delivered by CloudTrail to S3 as log
                         files, trigger a function that flags a chosen API call, alerting
                         through SNS
``data_validation``      a DynamoDB table's stream feeds batches of changes to a function that
                         checks every new item
``nightly_job``          an EventBridge cron rule runs a long report every night at 02:00 UTC
``clickstream_kinesis``  click events on a Kinesis stream (partition key: the user) aggregated
                         in batches per shard; optional poison records that block their shard
``order_queue_sqs``      an SQS queue of orders consumed in batches by a worker; the orders it
                         cannot process go to a dead-letter queue after a few receipts
``sdk_pipeline``         a program invokes a function through the SDK, whose handler calls a
                         chain of others (RequestResponse and Event) with context.lambda_client
``azure_trace``          the real Azure Functions 2021 trace sample replayed on simulated
                         functions, with the recorded times and durations
=======================  ======================================================================

:func:`list_scenarios` lists them with one-line descriptions; :func:`get` builds one by name.
Every scenario takes ``seed`` (all randomness, including generated data, derives from it) and
``era``, plus its own knobs, checked before anything runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simlab.aws.scenarios.cloudtrail_automation import control_plane_calls, infra_automation
from simlab.aws.scenarios.function_chains import checkout_orders, sdk_pipeline
from simlab.aws.scenarios.queue_workers import order_problem, order_queue_sqs, queue_orders
from simlab.aws.scenarios.s3_pipeline import etl_s3
from simlab.aws.scenarios.scheduled_jobs import nightly_job
from simlab.aws.scenarios.stream_processing import (
    click_events,
    clickstream_kinesis,
    data_validation,
    invalid_order,
    order_changes,
)
from simlab.aws.scenarios.trace_workloads import azure_sample, azure_trace
from simlab.aws.scenarios.web_backends import api_backend, mobile_backend
from simlab.aws.simulation import Simulation

__all__ = [
    "etl_s3",
    "api_backend",
    "mobile_backend",
    "infra_automation",
    "data_validation",
    "nightly_job",
    "clickstream_kinesis",
    "order_queue_sqs",
    "sdk_pipeline",
    "azure_trace",
    "list_scenarios",
    "get",
    "control_plane_calls",
    "order_changes",
    "invalid_order",
    "click_events",
    "queue_orders",
    "order_problem",
    "checkout_orders",
    "azure_sample",
]

_CATALOGUE: dict[str, Callable[..., Simulation]] = {
    "etl_s3": etl_s3,
    "api_backend": api_backend,
    "mobile_backend": mobile_backend,
    "infra_automation": infra_automation,
    "data_validation": data_validation,
    "nightly_job": nightly_job,
    "clickstream_kinesis": clickstream_kinesis,
    "order_queue_sqs": order_queue_sqs,
    "sdk_pipeline": sdk_pipeline,
    "azure_trace": azure_trace,
}


def list_scenarios() -> dict[str, str]:
    """Name -> one-line description of every scenario."""
    return {name: (fn.__doc__ or "").strip().splitlines()[0] for name, fn in _CATALOGUE.items()}


def get(name: str, **options: Any) -> Simulation:
    """Build scenario ``name`` with ``options`` (``seed``, ``era`` and its own knobs)."""
    if name not in _CATALOGUE:
        raise ValueError(f"no scenario named {name!r}; scenarios: {sorted(_CATALOGUE)}")
    return _CATALOGUE[name](**options)
