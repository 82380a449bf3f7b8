"""Every dashboard of the course in one registry, and one step of any control.

The widget benchmark (``benchmarks/bench_widgets.py``) and the test that moves every control of
every dashboard (``tests/course/test_dashboard_controls.py``) both start from
:func:`lesson_dashboards`, so a new dashboard is measured and tested once it is listed here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simlab.course import widgets

__all__ = ["lesson_dashboards", "one_step"]


def lesson_dashboards() -> dict[str, Callable[[], Any]]:
    """Lesson -> how the lesson's notebook builds its dashboard (``show=False``; lesson 4 has
    two, one of them lesson 3b's power tuning with a granularity menu), for the benchmark and the
    tests that drive every dashboard."""
    from simlab.course.lessons import (
        billing,
        calibration,
        capstone,
        event_sources,
        memory,
        monitoring,
        scaling,
        start_here,
    )

    return {
        "00 scaling": lambda: start_here.scaling_dashboard(show=False),
        "01 cold starts": lambda: widgets.cold_start_dashboard(show=False),
        "02b throttling": lambda: scaling.throttling_dashboard(show=False),
        "03b power tuning": lambda: memory.power_tuning_dashboard(show=False,
                                                                granularity_menu=False),
        "04 power tuning": lambda: billing.power_tuning_dashboard(show=False,
                                                                 granularity_ms=100.0),
        "04 rounding": lambda: billing.rounding_dashboard(show=False),
        "05 triggers": lambda: event_sources.triggers_dashboard(show=False),
        "06b monitoring": lambda: monitoring.monitoring_dashboard(show=False),
        "08b replay": lambda: calibration.replay_dashboard(show=False),
        "09b trade-off": lambda: capstone.tradeoff_dashboard(show=False),
    }


def one_step(control: Any) -> Any:
    """The value one step from ``control``'s: up (down at the top of its range), or the next
    option of a menu or a selection slider (the previous one after the last)."""
    options = getattr(control, "options", None)
    if options is not None:
        values = [o[1] if isinstance(o, tuple) else o for o in options]
        i = values.index(control.value)
        return values[i + 1] if i + 1 < len(values) else values[i - 1]
    up = control.value + control.step
    return up if up <= control.max else control.value - control.step
