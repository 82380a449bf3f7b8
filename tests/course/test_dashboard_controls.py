"""Every control of every lesson's dashboard matters at the default settings: moved one step from
its default (the next value of a slider, the next option of a menu), it changes the result the
dashboard's readout reports: its bold parts, not the echo of the settings around them (a control
that only moves a marker, or only renames a title, fails).

Each dashboard is built as a lesson builds it (``show=False``), so the test follows the real
controls, their defaults and steps; its ``parts`` give the pure function and the readout.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import matplotlib

matplotlib.use("Agg")

import ipywidgets as w  # noqa: E402
import pytest  # noqa: E402

from simlab.course import dashboards, widgets  # noqa: E402
from simlab.course.lessons import event_sources  # noqa: E402

#: Lesson -> how the lesson's notebook builds its dashboard (lesson 4 has two).
DASHBOARDS: dict[str, Callable[[], Any]] = dashboards.lesson_dashboards()
one_step = dashboards.one_step


def result_of(readout: str) -> list[str]:
    """The results a readout reports: its bold parts."""
    return re.findall(r"<b>(.*?)</b>", readout, flags=re.DOTALL)


def _shown(parts: widgets.DashboardParts, **changes: Any) -> list[str]:
    data, _ = parts.compute(**parts.values(**changes))
    assert parts.readout is not None
    return result_of(parts.readout(data))


@pytest.mark.parametrize("name", list(DASHBOARDS))
def test_every_control_changes_the_dashboard_at_its_defaults(name: str) -> None:
    box = DASHBOARDS[name]()
    parts = box.parts
    assert parts.controls, f"{name}: no controls"
    shown = _shown(parts)
    assert shown, f"{name}: the readout reports no result in bold"
    unchanged = []
    for param, control in parts.controls.items():
        moved = one_step(control)
        assert moved != control.value
        if _shown(parts, **{param: moved}) == shown:
            unchanged.append(f"{param}: {control.value!r} -> {moved!r}")
    assert not unchanged, f"{name}: controls that change nothing at the defaults: {unchanged}"


def test_the_check_fails_where_a_control_changes_nothing() -> None:
    # Without the dashboard's batching window the poller sends whatever came (one or two
    # records), so a batch size of 10 or 11 gives the same run: the check above would fail.
    def result(batch: int) -> list[str]:
        view, _ = event_sources.triggers_view(batch_size=batch, batching_window_s=0.0)
        return result_of(event_sources.triggers_readout(view))

    assert result(10) == result(11)
    assert result_of("a <b>1 %</b> and <b>2\nms</b>") == ["1 %", "2\nms"]


def test_one_step_moves_sliders_and_menus() -> None:
    assert one_step(w.IntSlider(value=3, min=0, max=5, step=1)) == 4
    assert one_step(w.IntSlider(value=5, min=0, max=5, step=1)) == 4
    assert one_step(w.Dropdown(options=[("a", 1), ("b", 2)], value=1)) == 2
    assert one_step(w.SelectionSlider(options=[1, 2, 3], value=3)) == 2
