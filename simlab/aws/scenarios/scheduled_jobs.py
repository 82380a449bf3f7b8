"""Scheduled jobs: an EventBridge rule invokes a function on a timetable, asynchronously.

A schedule (``cron(0 2 * * ? *)``: every day at 02:00 UTC) delivers its event through the
asynchronous queue, so a failed run is retried (after about 1 and 2 minutes) like any asynchronous
event, and a run whose attempts all fail goes to the on-failure destination instead of vanishing.
"""

from __future__ import annotations

from typing import Any

from simlab.aws.simulation import Simulation
from simlab.aws.sources import Queue, Schedule, configure_async
from simlab.core.dists import LogNormal
from simlab.core.validate import number

__all__ = ["nightly_job"]


def nightly_job(seed: int = 0, *, era: str = "today", expression: str = "cron(0 2 * * ? *)",
                median_minutes: float = 4.0, error_rate: float = 0.1) -> Simulation:
    """A report built every night at 02:00 UTC by an EventBridge rule.

    ``nightly-report`` (2,048 MB, the era's longest timeout: 15 minutes, 5 before October 2018)
    runs for about ``median_minutes``; it fails with probability ``error_rate``, and being invoked
    asynchronously it is retried after 1 and 2 minutes; a night whose three attempts all fail lands
    in the ``report-failures`` queue.

    Look at: ``result.invocations`` (attempts per night), ``result.output("report-failures")``,
    the cost of a month of nights with ``result.bill()``.
    """
    number("median_minutes", median_minutes, 0, 60, low_open=True)
    error_rate = number("error_rate", error_rate, 0, 1)
    sim = Simulation(era=era, seed=seed)

    def report(event: dict, context: Any) -> dict:
        day = event["time"][:10]
        print(f"building the sales report of {day}")
        return {"report": f"s3://reports/daily/{day}.pdf"}

    sim.add_function("nightly-report", memory_mb=2048, timeout_s=sim.rules.timeout_max_s,
                     io_s=LogNormal(median_minutes * 60.0, 0.25), error_rate=error_rate,
                     handler=report)
    configure_async(sim, "nightly-report", on_failure=Queue("report-failures"))
    sim.add_source(Schedule(expression, rule_name="nightly-report"), target="nightly-report")
    return sim
