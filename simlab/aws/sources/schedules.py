"""EventBridge scheduled rules as a source: a function invoked on a ``rate()`` or ``cron()``.

A scheduled rule is the serverless cron job: EventBridge (formerly CloudWatch Events) invokes the
target function **asynchronously** at the times of its schedule expression, with an event of
``detail-type`` ``"Scheduled Event"`` (LAMBDA_FACTS 7.1). Being asynchronous, a failing run is
retried after 1 and 2 minutes, like any async event (:mod:`simlab.aws.sources.invoke_async`).

The expressions and their firing times are :mod:`simlab.aws.cron`'s: ``rate(5 minutes)``
fires at the start of the run and every 5 minutes; ``cron(0 2 * * ? *)`` at 02:00 UTC every day,
counted from the run's epoch (``Simulation(epoch=...)``, by default 2026-11-27T00:00Z).

>>> import simlab
>>> sim = (simlab.Simulation(seed=1)
...        .add_function("report", duration_s=2.0)
...        .add_source(Schedule("cron(0/10 * ? * * *)"), target="report"))
>>> sim.run(until_s=3600).invocations["arrival_s"].tolist()
[0.0, 600.0, 1200.0, 1800.0, 2400.0, 3000.0]
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from simlab.aws.cron import DEFAULT_EPOCH, ScheduleExpression, parse_schedule
from simlab.aws.sources.base import Source
from simlab.aws.sources.handlers import install_handler_runner
from simlab.aws.sources.lazy import LazyPayload
from simlab.aws.sources.payloads.context import PayloadContext
from simlab.aws.sources.payloads.notifications import scheduled_event
from simlab.aws.sources.timeline import at_times
from simlab.core.validate import BadInput

if TYPE_CHECKING:  # pragma: no cover
    from simlab.aws.simulation import Run

__all__ = ["Schedule"]

_RULE_NAME = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")


class Schedule(Source):
    """An EventBridge rule that invokes its targets on a schedule, asynchronously.

    Parameters
    ----------
    expression
        ``"rate(value unit)"`` or ``"cron(Minutes Hours Day-of-month Month Day-of-week Year)"``
        in AWS's syntax (UTC); a malformed one raises
        :class:`~simlab.aws.cron.ScheduleError` (a ValueError) naming the problem.
    rule_name
        The rule's name (1 to 64 letters, digits, ``.``, ``-``, ``_``), used in the event's
        ``resources`` ARN; default: the source's name.
    """

    kind = "schedule"

    def __init__(self, expression: str, rule_name: str | None = None) -> None:
        self.schedule: ScheduleExpression = parse_schedule(expression)
        self.expression = self.schedule.expression
        if rule_name is not None and not (isinstance(rule_name, str)
                                           and _RULE_NAME.match(rule_name)):
            raise BadInput(f"rule_name must be 1 to 64 letters, digits, '.', '-' or '_', "
                             f"got {rule_name!r}")
        self.rule_name = rule_name

    def fire_times_s(self, until_s: float, epoch: datetime = DEFAULT_EPOCH) -> np.ndarray:
        """The firing times in ``[0, until_s)`` (simulated s) for a run whose time 0 is
        ``epoch``."""
        return self.schedule.fire_times_s(0.0, until_s, epoch=epoch)

    def start(self, run: Run, targets: list[str]) -> None:
        name = self.name or self.kind
        rule = self.rule_name or name
        if not _RULE_NAME.match(rule):
            rule = re.sub(r"[^.\-_A-Za-z0-9]", "-", rule)[:64]
        ctx = PayloadContext(seed=run.seed, epoch=run.epoch)
        install_handler_runner(run)
        deliver = run.deliverer(targets, name, "async")
        times = self.fire_times_s(run.until_s, run.epoch)

        def fire(k: int, t: float) -> None:
            deliver(LazyPayload(_event, t, rule, k, ctx))  # built if something reads it

        at_times(run, times.tolist(), fire)

    def __repr__(self) -> str:
        return f"Schedule({self.expression!r})"


def _event(t: float, rule: str, number: int, ctx: PayloadContext) -> dict[str, Any]:
    """The ``Scheduled Event`` of one firing."""
    return scheduled_event(t, rule_name=rule, number=number, ctx=ctx)
