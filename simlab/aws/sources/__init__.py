"""Sources of requests: arrival processes, AWS triggers, the async queue and real handlers.

* Arrival processes (:mod:`~simlab.aws.sources.arrivals`): Poisson, FixedInterval, Bursty, Diurnal,
  Replay: *when* requests come.
* Triggers, each with AWS's invocation type and event shape: :class:`Schedule` (EventBridge
  ``rate()``/``cron()``, async), :class:`S3Bucket` (object notifications, async),
  :class:`SNSTopic` (fan-out, async), :class:`APIGateway` (HTTP, sync, 500/502/504, and 429
  from its own throttle), :class:`SDK` (the Invoke API: RequestResponse, Event, DryRun),
  :class:`TraceReplay` (Azure Functions traces).
* Event source mappings (pollers that invoke synchronously with batches): :class:`KinesisStream`,
  :class:`DynamoDBStream` (ordered shards, retries that block a shard, bisect, IteratorAge) and
  :class:`SQSQueue` (batches, visibility timeout, redrive).
* Asynchronous invocation (:mod:`~simlab.aws.sources.invoke_async`): the internal queue, its retries
  and maximum event age, destinations and dead-letter queues; :func:`configure_async`.
* Real handlers (:mod:`~simlab.aws.sources.handlers`): ``handler(event, context)`` code run on the
  simulated events.
"""

from simlab.aws.sources.apigateway import APIGateway
from simlab.aws.sources.arrivals import (
    ArrivalProcess,
    Bursty,
    Diurnal,
    FixedInterval,
    Poisson,
    Replay,
)
from simlab.aws.sources.base import Source
from simlab.aws.sources.destinations import DeadLetterQueue, Destination, LambdaDestination, Queue
from simlab.aws.sources.handlers import LambdaContext, install_handler_runner
from simlab.aws.sources.invoke_async import (
    AsyncConfig,
    AsyncEventQueue,
    async_config,
    configure_async,
)
from simlab.aws.sources.replay_trace import TraceReplay, add_trace_functions
from simlab.aws.sources.s3 import S3Bucket
from simlab.aws.sources.schedules import Schedule
from simlab.aws.sources.sdk import SDK, LambdaClient
from simlab.aws.sources.sns import SNSTopic
from simlab.aws.sources.sqs import SQSQueue
from simlab.aws.sources.streams import DynamoDBStream, KinesisStream

__all__ = [
    "Source", "ArrivalProcess", "Poisson", "FixedInterval", "Bursty", "Diurnal", "Replay",
    "Schedule", "S3Bucket", "SNSTopic", "APIGateway", "SDK", "TraceReplay",
    "add_trace_functions", "AsyncConfig", "AsyncEventQueue", "configure_async", "async_config",
    "Destination", "Queue", "DeadLetterQueue", "LambdaDestination", "LambdaClient",
    "LambdaContext", "install_handler_runner", "KinesisStream", "DynamoDBStream", "SQSQueue",
]
