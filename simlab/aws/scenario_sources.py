"""The ``[[sources]]`` entries of a scenario file: how each becomes a simlab source.

Every source class of :mod:`simlab.aws.sources` can be written, by its ``kind`` or class name::

    [[sources]]
    type = "sqs"                  # SQSQueue
    name = "orders"               # the queue's name (and the source's)
    target = "worker"             # a function name or a list of names
    batch_size = 5
    messages = { type = "poisson", rate_per_s = 2 }           # an arrival process, as a table
    dead_letter_queue = { type = "sqs", name = "orders-dlq" } # a nested source, as a table

* ``name`` is the source's name in the results; for the sources that have a name of their own
  (an SQS queue, a Kinesis stream, an S3 bucket, an SNS topic) it is that name too, and required.
* A table with a ``type`` key is itself a source (an arrival process for ``messages``,
  ``records``, ``uploads``, ``changes`` or ``arrivals``; an SQS queue for ``dead_letter_queue``)
  or a destination (``type = "queue"``, ``"dead_letter_queue"`` or ``"lambda_destination"``, for
  ``on_failure``).
* A table with a ``dist`` key is a distribution; a ``*_s`` key accepts a duration (``"10m"``).
* ``trace`` (a :class:`~simlab.aws.sources.TraceReplay`) is the path of a 2021 Azure Functions CSV,
  relative to the file, or ``"azure_2021_sample"`` for the sample shipped with simlab.

Functions (``poison`` predicates, handler code) cannot be written in a file.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

__all__ = ["build_source", "destination_types"]

#: The trace a file names by this word: the sample of the 2021 Azure Functions trace.
SAMPLE_TRACE = "azure_2021_sample"


def destination_types() -> dict[str, type]:
    """The destinations a file can name in a nested ``type`` (e.g. for ``on_failure``)."""
    from simlab.aws.sources.destinations import DeadLetterQueue, LambdaDestination, Queue

    return {"queue": Queue, "dead_letter_queue": DeadLetterQueue,
            "deadletterqueue": DeadLetterQueue, "lambda_destination": LambdaDestination,
            "lambdadestination": LambdaDestination}


def check_target(ctx: Any, target: Any, path: tuple[str, ...]) -> str | list[str]:
    """A source's ``target``: a function name or a non-empty list of names."""
    ok = (isinstance(target, str) and target) or (
        isinstance(target, list) and target and all(isinstance(t, str) and t for t in target))
    if not ok:
        raise ctx.error((*path, "target"), f"target must be a function name or a non-empty list "
                                           f"of function names, got {target!r}")
    return target


def build_source(ctx: Any, table: Any, path: tuple[str, ...], types: dict[str, type],
                 top: bool = True) -> tuple[Any, str | list[str] | None, str | None]:
    """Make the source (or, nested, the destination) of one table of a file.

    Returns the object, its target (``None`` when nested) and its registration name.
    """
    spec = dict(ctx.table(table, path))
    kinds = types if top else {**types, **destination_types()}
    kind = spec.pop("type", None)
    if not isinstance(kind, str) or kind.lower() not in kinds:
        raise ctx.error((*path, "type"), f"type must be one of {sorted(kinds)}, got {kind!r}")
    cls = kinds[kind.lower()]
    params = inspect.signature(cls).parameters
    target = name = None
    if top:
        if "target" not in spec:
            raise ctx.error(path, "a source needs a target (a function name or a list)")
        target = check_target(ctx, spec.pop("target"), path)
        name = spec.pop("name", None)
        if name is not None and not (isinstance(name, str) and name.strip()):
            raise ctx.error((*path, "name"), f"name must be a non-empty text, got {name!r}")
        if "name" in params and name is not None:
            spec["name"] = name  # a queue's, stream's, bucket's or topic's own name
    _known(ctx, params, spec, path, kind)
    kwargs = {k: _value(ctx, k, v, (*path, k), types) for k, v in spec.items()}
    missing = [p.name for p in params.values()
               if p.default is inspect.Parameter.empty and p.name not in kwargs
               and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if missing:
        raise ctx.error(path, f"a {kind} {'source' if top else 'table'} needs "
                              f"{', '.join(repr(m) for m in missing)}")
    try:
        return cls(**kwargs), target, name
    except (TypeError, ValueError) as err:
        raise ctx.guess(err, path, list(kwargs)) from None


def _known(ctx: Any, params: Any, spec: dict[str, Any], path: tuple[str, ...],
           kind: str) -> None:
    allowed = [p.name for p in params.values()
               if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    for key in spec:
        if key not in allowed:
            raise ctx.error((*path, key), f"unknown key for a {kind} source; allowed: "
                                          f"{allowed + ['type', 'target', 'name']}")


def _value(ctx: Any, key: str, value: Any, path: tuple[str, ...], types: dict[str, type]) -> Any:
    if isinstance(value, dict) and "type" in value:
        made, _, _ = build_source(ctx, value, path, types, top=False)
        return made
    if key == "trace" and isinstance(value, str):
        return _trace(ctx, value, path)
    return ctx.value(value, path)


def _trace(ctx: Any, value: str, path: tuple[str, ...]) -> Any:
    from simlab.aws.sources.traces import load_azure_2021_sample, read_azure_2021

    if value == SAMPLE_TRACE:
        return load_azure_2021_sample()
    where = Path(value)
    if not where.is_absolute() and ctx.file != "<string>":
        where = Path(ctx.file).parent / where
    if not where.is_file():
        raise ctx.error(path, f"trace must be {SAMPLE_TRACE!r} or the path of a 2021 Azure "
                              f"Functions CSV (relative to the file), got {value!r}: no such file")
    try:
        return read_azure_2021(where)
    except (OSError, ValueError) as err:
        raise ctx.error(path, str(err)) from None

