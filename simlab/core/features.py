"""Lambda features and the dates they launched: an era refuses what did not exist yet.

An era (:data:`simlab.core.config.ERAS`) stands for a date. A simulation of the 2018 platform that
configures, say, a stream's ``bisect_on_error`` (launched 25 Nov 2019) would teach something that
never happened, so the run refuses it before any simulated time passes, with an error that names
the feature, where it was used and the day it launched.

:data:`FEATURES` is the one table of launch dates (sources in ``docs/lambda_facts.md``, section
9b); :func:`refuse` is the one place that compares them with an era's date.
:func:`check_function` is called when a function is added or reconfigured, and
:meth:`simlab.Simulation.run` checks everything else before the run (each source says which
dated features it uses, with ``Source.feature_uses``; asynchronous settings too).

>>> import simlab
>>> sim = simlab.Simulation(era="2018")
>>> sim.add_function("f", ephemeral_storage_mb=1024)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: f.ephemeral_storage_mb=1024: ephemeral storage above 512 MB did not exist ... 2022-03-24
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from simlab.core.config import FunctionConfig, PlatformRules

__all__ = ["Feature", "FEATURES", "refuse", "check_function"]


@dataclass(frozen=True)
class Feature:
    """A feature of Lambda and the day it launched (in us-east-1)."""

    title: str
    launched: dt.date
    source: str


_NOV_2019_ASYNC = ("https://aws.amazon.com/about-aws/whats-new/2019/11/"
                   "aws-lambda-supports-max-retry-attempts-event-age-asynchronous-invocations")
_NOV_2019_STREAMS = ("https://aws.amazon.com/about-aws/whats-new/2019/11/"
                     "aws-lambda-supports-failure-handling-features-for-kinesis-and-dynamodb-"
                     "event-sources")

#: Feature key -> :class:`Feature`. Sources: docs/lambda_facts.md section 9b.
FEATURES: dict[str, Feature] = {
    "sqs_event_source": Feature("SQS as an event source", dt.date(2018, 6, 28),
                                "InfoQ 2018-07 'AWS Lambda Now Supports SQS as an Event Source'"),
    "custom_runtime": Feature("custom runtimes ('provided')", dt.date(2018, 11, 29),
                              "AWS News blog 2018-11-29 (Runtime API and Layers)"),
    "async_max_retries": Feature("MaximumRetryAttempts of asynchronous invocation",
                                 dt.date(2019, 11, 25), _NOV_2019_ASYNC),
    "async_max_event_age": Feature("MaximumEventAgeInSeconds of asynchronous invocation",
                                   dt.date(2019, 11, 25), _NOV_2019_ASYNC),
    "async_destinations": Feature("destinations of asynchronous invocation",
                                  dt.date(2019, 11, 25), "AWS Compute blog 'Introducing AWS "
                                  "Lambda Destinations', 2019-11-25"),
    "stream_bisect": Feature("BisectBatchOnFunctionError of stream event sources",
                             dt.date(2019, 11, 25), _NOV_2019_STREAMS),
    "stream_max_retries": Feature("MaximumRetryAttempts of stream event sources",
                                  dt.date(2019, 11, 25), _NOV_2019_STREAMS),
    "stream_max_record_age": Feature("MaximumRecordAgeInSeconds of stream event sources",
                                     dt.date(2019, 11, 25), _NOV_2019_STREAMS),
    "stream_on_failure": Feature("on-failure destinations of stream event sources",
                                 dt.date(2019, 11, 25), _NOV_2019_STREAMS),
    "stream_parallelization": Feature("ParallelizationFactor of stream event sources",
                                      dt.date(2019, 11, 25), "What's New 2019-11-25 "
                                      "'Parallelization Factor for Kinesis and DynamoDB'"),
    "provisioned_concurrency": Feature("provisioned concurrency", dt.date(2019, 12, 3),
                                       "LAMBDA_FACTS 1.3 (re:Invent 2019)"),
    "sqs_batch_window": Feature("batching windows and batches above 10 for SQS",
                                dt.date(2020, 11, 24), "What's New 2020-11 'batch windows of up "
                                "to 5 minutes for functions with Amazon SQS'"),
    "container_image": Feature("container image packaging", dt.date(2020, 12, 1),
                               "AWS News blog 2020-12-01 'Container Image Support'"),
    "stream_batch_item_failures": Feature("ReportBatchItemFailures of stream event sources",
                                          dt.date(2020, 12, 15), "AWS Compute blog 2020-12 "
                                          "'custom checkpoints' (day unconfirmed)"),
    "arm64": Feature("arm64 (Graviton2) functions", dt.date(2021, 9, 29),
                     "LAMBDA_FACTS 9 (DG-git 2021-09-30)"),
    "sqs_batch_item_failures": Feature("ReportBatchItemFailures of SQS event sources",
                                       dt.date(2021, 11, 29), "What's New 2021-11 'partial "
                                       "batch response for SQS' (day unconfirmed)"),
    "sqs_max_concurrency": Feature("ScalingConfig.MaximumConcurrency of SQS event sources",
                                   dt.date(2023, 1, 12), "LAMBDA_FACTS 7.4 and 9 (Jan 2023)"),
    "ephemeral_storage": Feature("ephemeral storage above 512 MB", dt.date(2022, 3, 24),
                                 "AWS Compute blog 'Using larger ephemeral storage for AWS "
                                 "Lambda', 2022-03-24"),
}


def refuse(rules: PlatformRules, key: str, where: str) -> None:
    """Raise ValueError if feature ``key``, used at ``where``, did not exist on ``rules.date``."""
    feature = FEATURES[key]
    if rules.date < feature.launched:
        raise ValueError(
            f"{where}: {feature.title} did not exist in the {rules.era!r} era "
            f"({rules.date.isoformat()}); it launched on {feature.launched.isoformat()}"
        )


def _function_uses(cfg: FunctionConfig) -> Iterator[tuple[str, str]]:
    name = cfg.name
    if cfg.ephemeral_storage_mb > 512:
        yield "ephemeral_storage", f"{name}.ephemeral_storage_mb={cfg.ephemeral_storage_mb}"
    if cfg.package_type == "image":
        yield "container_image", f"{name}.package_type='image'"
    if cfg.runtime.startswith("provided"):
        yield "custom_runtime", f"{name}.runtime={cfg.runtime!r}"
    if cfg.provisioned_concurrency:
        yield ("provisioned_concurrency",
               f"{name}.provisioned_concurrency={cfg.provisioned_concurrency}")
    if cfg.architecture == "arm64":
        yield "arm64", f"{name}.architecture='arm64'"


def check_function(cfg: FunctionConfig, rules: PlatformRules) -> None:
    """Refuse a function configuration that uses a feature ``rules``' era did not have."""
    for key, where in _function_uses(cfg):
        refuse(rules, key, where)
