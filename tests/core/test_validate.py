"""Tests of simlab.core.validate: every real number accepted (numpy scalars too), never a bool, one
exception type with the parameter, the value and the allowed range in its message."""

from __future__ import annotations

import fractions
import math

import numpy as np
import pytest

import simlab
from simlab.core import validate
from simlab.core.validate import BadInput

NUMPY_REALS = [np.int8(5), np.int64(5), np.uint16(5), np.float32(5.0), np.float64(5.0)]


@pytest.mark.parametrize("value", [5, 5.0, fractions.Fraction(5), *NUMPY_REALS])
def test_every_real_number_is_a_number(value) -> None:
    assert validate.real("x", value, 0, 10) == 5.0
    assert type(validate.real("x", value, 0, 10)) is float


@pytest.mark.parametrize("value", [5, np.int8(5), np.int64(5), np.uint16(5)])
def test_every_integral_number_is_whole(value) -> None:
    assert validate.integer("n", value, 0, 10) == 5
    assert type(validate.integer("n", value, 0, 10)) is int


@pytest.mark.parametrize(("call", "match"), [
    (lambda: validate.real("rate_per_s", True, 0), r"rate_per_s must be a finite number >= 0, "
                                                   r"got True"),
    (lambda: validate.real("rate_per_s", np.bool_(True), 0), r"rate_per_s .* got np.True_"),
    (lambda: validate.real("x", "5", 0, 10), r"x must be a number from 0 to 10, got '5'"),
    (lambda: validate.real("x", math.nan, 0), r"x must be a finite number >= 0, got nan"),
    (lambda: validate.real("x", math.inf, 0), r"x must be a finite number >= 0, got inf"),
    (lambda: validate.real("x", 0, 0, low_open=True, unit="seconds"),
     r"x must be a finite number of seconds > 0, got 0"),
    (lambda: validate.integer("n", 5.0, 0, 10), r"n must be a whole number from 0 to 10, got 5.0"),
    (lambda: validate.integer("n", np.int64(11), 0, 10),
     r"n must be a whole number from 0 to 10, got np.int64\(11\)"),
    (lambda: validate.integer("n", False, 0, 10), r"n must be a whole number from 0 to 10, "
                                                  r"got False"),
    (lambda: validate.one_of("era", ["today"], ["2018", "today"]),
     r"era must be one of \['2018', 'today'\], got \['today'\]"),
    (lambda: validate.text("name", "  "), r"name must be a non-empty text, got '  '"),
])
def test_bad_values_raise_one_type_naming_parameter_value_and_range(call, match) -> None:
    with pytest.raises(BadInput, match=match) as info:
        call()
    # One type for wrong types and wrong values; code catching either built-in keeps working.
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)


def test_infinity_is_accepted_only_where_allowed() -> None:
    assert validate.real("keep_alive_s", math.inf, 0, allow_inf=True) == math.inf
    with pytest.raises(BadInput, match=r"keep_alive_s must be a number >= 0, got -inf"):
        validate.real("keep_alive_s", -math.inf, 0, allow_inf=True)


def test_numpy_numbers_configure_a_whole_simulation() -> None:
    sim = simlab.Simulation(seed=np.int64(3), account_concurrency=np.int64(500),
                            keep_alive_s=np.int64(300), max_lifetime_s=np.float32(3600))
    sim.add_function("f", memory_mb=np.int64(512), timeout_s=np.int64(3),
                     duration_s=np.float64(0.2), error_rate=np.float32(0.0),
                     parallelism=np.int8(2), reserved_concurrency=np.int64(10),
                     ephemeral_storage_mb=np.int32(1024))
    cfg = sim.functions["f"]
    # Stored as plain Python numbers: nothing downstream sees numpy types.
    assert type(cfg.memory_mb) is int and type(cfg.parallelism) is int
    assert type(sim.rules.account_concurrency) is int
    sim.add_source(simlab.sources.Poisson(rate_per_s=np.float32(2.0)), target="f")
    sim.add_source(simlab.sources.FixedInterval(interval_s=np.int64(10)), target="f")
    sim.add_source(simlab.sources.Replay(np.arange(0, 60, 7)), target="f")
    sim.update_function_configuration(np.int64(30), "f", memory_mb=np.int64(1024))
    result = sim.run(until_s=np.int64(60))
    inv = result.invocations
    assert len(inv) > 0 and (inv["status"] == "ok").all()
    # Same numbers given as Python ints: the same run.
    plain = simlab.Simulation(seed=3, account_concurrency=500, keep_alive_s=300,
                              max_lifetime_s=3600.0)
    plain.add_function("f", memory_mb=512, timeout_s=3, duration_s=0.2, parallelism=2,
                       reserved_concurrency=10, ephemeral_storage_mb=1024)
    plain.add_source(simlab.sources.Poisson(rate_per_s=2.0), target="f")
    plain.add_source(simlab.sources.FixedInterval(interval_s=10), target="f")
    plain.add_source(simlab.sources.Replay(list(range(0, 60, 7))), target="f")
    plain.update_function_configuration(30, "f", memory_mb=1024)
    assert plain.run(until_s=60).invocations.equals(inv)


def test_era_that_cannot_be_hashed_is_a_clear_error() -> None:
    with pytest.raises(BadInput, match=r"era must be one of \['2018', '2020', 'today'\], "
                                       r"got \['today'\]"):
        simlab.Simulation(era=["today"])
