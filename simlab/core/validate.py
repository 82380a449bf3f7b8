"""Input checks used everywhere in simlab: clear errors naming the parameter, the value and the
allowed range, raised before anything runs.

Every real number is accepted where a number is expected: Python ``int`` and ``float``, numpy
scalars (``np.int64(512)``, ``np.float32(0.5)``) and anything registered as
:class:`numbers.Real`; where a whole number is expected, anything registered as
:class:`numbers.Integral`. ``True`` and ``False`` are never numbers here.

Every bad value raises :class:`BadInput`, whether its type or its value is wrong. ``BadInput`` is
a :class:`ValueError` and also a :class:`TypeError`, so code that catches either keeps working.

>>> number("rate_per_s", 0.5, 0, 100, low_open=True)
0.5
>>> whole("seeds", 3, 1, 50)
3
>>> try:
...     real("memory_used_mb", float("nan"), 0)
... except BadInput as err:
...     print(err)
memory_used_mb must be a finite number >= 0, got nan
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

__all__ = ["BadInput", "is_real", "is_whole", "real", "integer", "number", "whole", "one_of",
           "text", "span", "fail", "seconds", "float_array", "array_in", "count_array", "frame"]


class BadInput(ValueError, TypeError):
    """A parameter got a value it does not accept (wrong type or out of range).

    A subclass of both :class:`ValueError` and :class:`TypeError`.
    """


def fail(name: str, value: Any, allowed: str) -> BadInput:
    """The error ``"<name> must be <allowed>, got <value!r>"`` (to raise)."""
    return BadInput(f"{name} must be {allowed}, got {value!r}")


def is_real(value: Any) -> bool:
    """Whether ``value`` is a real number (int, float, numpy scalar...), not a bool."""
    return isinstance(value, numbers.Real) and not _is_bool(value)


def is_whole(value: Any) -> bool:
    """Whether ``value`` is a whole number (int, numpy integer...), not a bool."""
    return isinstance(value, numbers.Integral) and not _is_bool(value)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool) or type(value).__name__ == "bool_"


def _fmt(x: float, whole_number: bool) -> str:
    if whole_number and math.isfinite(x):
        return f"{int(x):,}"
    return f"{x:g}"


def span(low: float = -math.inf, high: float = math.inf, *, low_open: bool = False,
         high_open: bool = False, whole_number: bool = False) -> str:
    """Words for a range: ``"from 1 to 10"``, ``">= 0"``, ``"> 0 and <= 1"``...

    >>> span(0, math.inf, low_open=True), span(1, 64, whole_number=True)
    ('> 0', 'from 1 to 64')
    """
    lo = "" if low == -math.inf else f"{'>' if low_open else '>='} {_fmt(low, whole_number)}"
    hi = "" if high == math.inf else f"{'<' if high_open else '<='} {_fmt(high, whole_number)}"
    if lo and hi and not (low_open or high_open):
        return f"from {_fmt(low, whole_number)} to {_fmt(high, whole_number)}"
    return " and ".join(p for p in (lo, hi) if p)


def real(name: str, value: Any, low: float = -math.inf, high: float = math.inf, *,
         low_open: bool = False, high_open: bool = False, allow_inf: bool = False,
         unit: str = "", why: str = "") -> float:
    """Return ``value`` as a float if it is a real number in range, else raise :class:`BadInput`.

    NaN is always refused; infinities only with ``allow_inf`` (and only if in range). ``unit``
    ("seconds", "MB") and ``why`` are added to the message.
    """
    ok = is_real(value)
    if ok:
        v = float(value)
        ok = (not math.isnan(v) and (allow_inf or math.isfinite(v))
              and (v > low if low_open else v >= low) and (v < high if high_open else v <= high))
    if not ok:
        bounded = math.isfinite(low) and math.isfinite(high)
        kind = "a number" if allow_inf or bounded else "a finite number"
        if unit:
            kind += f" of {unit}"
        rng = span(low, high, low_open=low_open, high_open=high_open)
        extra = f" {why}" if why else ""
        raise fail(name, value, f"{kind} {rng}{extra}".replace("  ", " ").rstrip())
    return v


def integer(name: str, value: Any, low: float = -math.inf, high: float = math.inf, *,
            unit: str = "", why: str = "") -> int:
    """Return ``value`` as an int if it is a whole number in ``[low, high]``, else raise
    :class:`BadInput`."""
    if not (is_whole(value) and low <= value <= high):
        kind = "a whole number" + (f" of {unit}" if unit else "")
        extra = f" {why}" if why else ""
        raise fail(name, value, f"{kind} {span(low, high, whole_number=True)}{extra}".rstrip())
    return int(value)


def number(name: str, value: Any, low: float, high: float, *, low_open: bool = False) -> float:
    """Return ``value`` as a float if it is a finite number in range, else raise
    :class:`BadInput` ("<name> must be a number >= low and <= high", the dashboards' wording)."""
    ok = is_real(value)
    if ok:
        v = float(value)
        ok = math.isfinite(v) and (v > low if low_open else v >= low) and v <= high
    if not ok:
        lo = f"> {low:g}" if low_open else f">= {low:g}"
        raise fail(name, value, f"a number {lo} and <= {high:g}")
    return v


def whole(name: str, value: Any, low: int, high: int) -> int:
    """Return ``value`` as an int if it is a whole number from ``low`` to ``high``, else raise
    :class:`BadInput`."""
    return integer(name, value, low, high)


def one_of(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it equals one of ``choices`` (unhashable values are refused with the
    same clear message), else raise :class:`BadInput`."""
    options = choices if isinstance(choices, list | tuple) else list(choices)
    try:
        ok = any(type(value) is type(c) and value == c for c in options)
    except Exception:  # noqa: BLE001 - a value whose == fails is not one of the choices
        ok = False
    if not ok:
        raise fail(name, value, f"one of {options!r}")
    return value


def text(name: str, value: Any, *, empty: bool = False, what: str = "text") -> str:
    """Return ``value`` if it is a string (non-empty unless ``empty``), else raise
    :class:`BadInput` (``what`` names the kind of text in the message)."""
    if not isinstance(value, str) or not (empty or value.strip()):
        raise fail(name, value, what if empty else f"a non-empty {what}")
    return value


def seconds(name: str, value: Any, low: float = 0.0, high: float = math.inf,
            allow_low: bool = True) -> float:
    """Return ``value`` as a float if it is a finite number of seconds in range, else raise."""
    ok = is_real(value) and math.isfinite(value)
    if ok:
        v = float(value)
        ok = (v >= low if allow_low else v > low) and v <= high
    if not ok:
        lo = ">=" if allow_low else ">"
        hi = "" if high == math.inf else f" and <= {high:g}"
        raise BadInput(f"{name} must be a finite number of seconds {lo} {low:g}{hi}, "
                       f"got {value!r}")
    return float(value)


def frame(name: str, value: Any, columns: Iterable[str] = ()) -> pd.DataFrame:
    """Return ``value`` if it is a pandas DataFrame holding ``columns``.

    Raises
    ------
    TypeError
        ``value`` is not a DataFrame.
    ValueError
        It lacks some of ``columns``; the message names them and the ones it has.
    """
    import pandas as pd

    if not isinstance(value, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(value).__name__}")
    missing = [c for c in columns if c not in value.columns]
    if missing:
        raise ValueError(f"{name} lacks the columns {missing}; it has {list(value.columns)} "
                         f"(see simlab.core.schema)")
    return value


# -- arrays (the theory's formulas take numbers or arrays; numpy is imported on first use, so that
# a light command does not pay for it) -----------------------------------------------------------

def float_array(name: str, value: Any) -> np.ndarray:
    """Return ``value`` as a float array, or raise a TypeError naming ``name``."""
    import numpy as np

    if isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged sequences and the like
        raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}") from exc
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}")
    return arr.astype(float)


def _first_bad(arr: np.ndarray, bad: np.ndarray) -> float:
    return float(arr[bad].flat[0])


def array_in(
    name: str,
    value: Any,
    *,
    low: float = 0.0,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = True,
) -> np.ndarray:
    """Check every element lies in the interval and is finite (or +inf where ``high`` allows it)."""
    import numpy as np

    arr = float_array(name, value)
    too_low = (arr <= low) if low_open else (arr < low)
    too_high = (arr >= high) if high_open else (arr > high)
    bad = np.isnan(arr) | too_low | too_high
    if bad.any():
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        raise ValueError(
            f"{name} must be in {left}{low:g}, {high:g}{right}, got {_first_bad(arr, bad)!r}"
        )
    return arr


def count_array(name: str, value: Any) -> np.ndarray:
    """Check every element is a whole number >= 0 and return an int64 array."""
    import numpy as np

    arr = float_array(name, value)
    bad = ~np.isfinite(arr) | (arr < 0) | (arr != np.floor(arr))
    if bad.any():
        raise ValueError(
            f"{name} must be a whole number >= 0, got {_first_bad(arr, bad)!r}"
        )
    return arr.astype(np.int64)
