"""Input checks shared by dashboards and lessons: clear errors naming the parameter, the value and
the allowed range, raised before anything runs.

>>> number("rate_per_s", 0.5, 0, 100, low_open=True)
0.5
>>> whole("seeds", 3, 1, 50)
3
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["number", "whole"]


def number(name: str, value: Any, low: float, high: float, *, low_open: bool = False) -> float:
    """Return ``value`` as a float if it is a finite number in range, else raise ValueError."""
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    if ok:
        v = float(value)
        ok = math.isfinite(v) and (v > low if low_open else v >= low) and v <= high
    if not ok:
        lo = f"> {low:g}" if low_open else f">= {low:g}"
        raise ValueError(f"{name} must be a number {lo} and <= {high:g}, got {value!r}")
    return float(value)


def whole(name: str, value: Any, low: int, high: int) -> int:
    """Return ``value`` as an int if it is a whole number in range, else raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not (
            low <= value <= high):
        raise ValueError(f"{name} must be a whole number from {low:,} to {high:,}, got {value!r}")
    return int(value)
