"""Tests of the engine's checks of drawn values: a distribution drawing NaN or a negative number
for a time or for the memory used stops the run with an error naming the function, the quantity
and the value (never a row recorded as ``ok``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import simlab
from simlab.aws.sources import Replay


class Draws:
    """A distribution that always draws ``value``."""

    def __init__(self, value: float) -> None:
        self.value = value

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self.value)


def _run(**function: Any) -> simlab.Result:
    sim = simlab.Simulation(seed=1)
    sim.add_function("resize", **{"init_s": 0.5, "duration_s": 1.0, **function})
    sim.add_source(Replay([0.0, 5.0]), target="resize")
    return sim.run(until_s=20)


@pytest.mark.parametrize("value", [math.nan, -1.0])
def test_memory_used_drawing_nan_or_negative_is_an_error(value: float) -> None:
    # the function, the quantity and the value: from the draw check of custom distributions
    # (simlab.dists.Checked) or, for what gets past it, from the engine
    with pytest.raises(ValueError, match=rf"^resize\.memory_used_mb .*drew {value!r}"):
        _run(memory_used_mb=Draws(value))


@pytest.mark.parametrize(("quantity", "value"), [("init_s", math.nan), ("init_s", -0.5),
                                                 ("duration_s", math.nan), ("duration_s", -2.0)])
def test_times_drawing_nan_or_negative_are_errors(quantity: str, value: float) -> None:
    with pytest.raises(ValueError, match=rf"^resize\.{quantity} .*drew {value!r}"):
        _run(**{quantity: Draws(value)})


def test_memory_used_of_zero_is_accepted() -> None:
    inv = _run(memory_used_mb=Draws(0.0)).invocations
    assert inv["status"].astype(str).tolist() == ["ok", "ok"]
    assert inv["max_memory_used_mb"].tolist() == [0.0, 0.0]
