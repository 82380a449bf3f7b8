"""Tests of simlab.core.random_streams: named random streams, and that models do not disturb each
other's draws.

Adding a function or a source to a model must not change the random draws of the others: the
invocations of function ``a`` (arrival, INIT, duration, memory, error) are compared with and
without an extra function ``b`` and an extra source.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simlab
from simlab.aws.sources import Poisson
from simlab.core.dists import Exponential, LogNormal, Uniform
from simlab.core.random_streams import RandomStreams


def test_same_seed_and_name_give_the_same_draws() -> None:
    a = RandomStreams(3).generator("function", "f", "init").random(10)
    b = RandomStreams(3).generator("function", "f", "init").random(10)
    assert np.array_equal(a, b)


def test_names_and_seeds_give_different_streams() -> None:
    base = RandomStreams(3).generator("function", "f", "init").random(10)
    for other in (RandomStreams(3).generator("function", "f", "cpu"),
                  RandomStreams(3).generator("function", "g", "init"),
                  RandomStreams(4).generator("function", "f", "init"),
                  RandomStreams(3).generator("source", "f", "init"),
                  RandomStreams(3).generator("function", "f")):
        assert not np.array_equal(base, other.random(10))


def test_a_stream_does_not_depend_on_other_streams_being_used() -> None:
    s = RandomStreams(9)
    s.generator("x").random(1000)
    s.generator("y").random(1000)
    assert np.array_equal(s.generator("z").random(5), RandomStreams(9).generator("z").random(5))


def test_streams_are_uncorrelated() -> None:
    s = RandomStreams(0)
    x = s.generator("function", "a", "duration").random(100_000)
    y = s.generator("function", "b", "duration").random(100_000)
    # correlation of independent uniforms: sd 1/sqrt(n)
    assert abs(np.corrcoef(x, y)[0, 1]) < 4 / np.sqrt(100_000)


def test_numpy_integer_seeds_are_accepted() -> None:
    assert RandomStreams(np.int64(5)).seed == 5


@pytest.mark.parametrize("seed", [-1, 1.5, "1", True, None])
def test_bad_seeds_are_rejected(seed: object) -> None:
    with pytest.raises(ValueError, match=rf"seed must be a whole number >= 0, got {seed!r}"):
        RandomStreams(seed)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# independence inside a simulation
# --------------------------------------------------------------------------------------------------

# Columns that depend only on the random draws of function a and its source.
DRAWN = ["arrival_s", "start_s", "end_s", "init_ms", "duration_ms", "cold", "status",
         "max_memory_used_mb"]


def _add_a(sim: simlab.Simulation) -> None:
    sim.add_function("a", memory_mb=256, timeout_s=10, init_s=LogNormal(0.3, 0.5),
                     cpu_s=Exponential(0.2), io_s=Uniform(0.0, 0.4),
                     memory_used_mb=Uniform(100, 270), error_rate=0.1)


def _add_b(sim: simlab.Simulation) -> None:
    sim.add_function("b", memory_mb=512, init_s=LogNormal(0.5, 0.5),
                     duration_s=Exponential(0.5), memory_used_mb=Uniform(10, 600),
                     error_rate=0.3)


def _rows_of_a(result: simlab.Result) -> pd.DataFrame:
    inv = result.invocations
    rows = inv[inv["function"] == "a"][DRAWN].reset_index(drop=True)
    rows["status"] = rows["status"].astype(str)
    return rows


def _run(era: str, extra_function: bool, extra_source: bool, b_first: bool = False
         ) -> pd.DataFrame:
    sim = simlab.Simulation(era=era, seed=42, keep_alive_s=30)
    if extra_function and b_first:
        _add_b(sim)
    _add_a(sim)
    if extra_function and not b_first:
        _add_b(sim)
    sim.add_source(Poisson(rate_per_s=0.5), target="a")
    if extra_source:
        sim.add_source(Poisson(rate_per_s=2.0), target="b" if extra_function else "a",
                       name="background")
    result = sim.run(until_s=2000)
    return _rows_of_a(result)


@pytest.mark.parametrize("era", ["2018", "today"])
def test_adding_a_function_and_its_source_does_not_change_another_functions_draws(era: str
                                                                                 ) -> None:
    alone = _run(era, extra_function=False, extra_source=False)
    assert len(alone) > 800
    # every random quantity of a actually varies, so the comparison is meaningful
    assert alone["init_ms"][alone["cold"]].nunique() > 10
    assert alone["duration_ms"].nunique() > 100
    assert set(alone["status"]) >= {"ok", "error", "oom"}
    for b_first in (False, True):
        pd.testing.assert_frame_equal(alone, _run(era, True, False, b_first))
        pd.testing.assert_frame_equal(alone, _run(era, True, True, b_first))


def test_a_second_source_for_the_same_function_adds_its_own_arrivals() -> None:
    # The first source's arrivals are unchanged by a second one attached after it.
    def arrivals(extra: bool) -> np.ndarray:
        sim = simlab.Simulation(seed=5)
        sim.add_function("a", duration_s=0.01)
        sim.add_source(Poisson(rate_per_s=1.0), target="a")
        if extra:
            sim.add_source(Poisson(rate_per_s=3.0), target="a")
        inv = sim.run(until_s=500).invocations
        return inv.loc[inv["source"] == "poisson", "arrival_s"].to_numpy()

    one, two = arrivals(False), arrivals(True)
    assert len(one) > 400
    np.testing.assert_array_equal(one, two)


# --------------------------------------------------------------------------------------------------
# streams are keyed by the full name
# --------------------------------------------------------------------------------------------------

def test_names_with_the_same_crc32_get_different_streams() -> None:
    import zlib

    assert zlib.crc32(b"plumless") == zlib.crc32(b"buckeroo")  # the pair the test is about
    s = RandomStreams(0)
    for quantity in ("init", "duration", "error", "memory_used"):
        a = s.generator("function", "plumless", quantity).random(8)
        b = s.generator("function", "buckeroo", quantity).random(8)
        assert not np.array_equal(a, b), quantity


def test_stream_keys_are_one_to_one_with_the_names() -> None:
    from simlab.core.random_streams import stream_key

    names = [("a",), ("a", ""), ("", "a"), ("ab", "c"), ("a", "bc"), ("abc",), ("a", "b", "c"),
             ("a\x00",), ("a", "\x00"), ("é",), ("e\u0301",), ()]
    keys = [stream_key(*n) for n in names]
    assert len(set(keys)) == len(names)
    rng = np.random.default_rng(7)
    random_names = {tuple("".join(rng.choice(list("ab\x00é"), rng.integers(0, 4)))
                          for _ in range(rng.integers(0, 4))) for _ in range(3000)}
    assert len({stream_key(*n) for n in random_names}) == len(random_names)


def test_functions_with_the_same_crc32_get_different_draws_in_a_run() -> None:
    sim = simlab.Simulation(seed=11, keep_alive_s=0)
    for name in ("plumless", "buckeroo"):
        sim.add_function(name, init_s=LogNormal(0.3, 0.5), duration_s=Exponential(0.2),
                         memory_used_mb=Uniform(50, 128), error_rate=0.5)
    sim.add_source(simlab.sources.FixedInterval(1.0), target=["plumless", "buckeroo"])
    inv = sim.run(until_s=50).invocations
    a = inv[inv["function"] == "plumless"].reset_index(drop=True)
    b = inv[inv["function"] == "buckeroo"].reset_index(drop=True)
    assert len(a) == len(b) == 50
    for col in ("init_ms", "duration_ms", "max_memory_used_mb"):
        assert (a[col] != b[col]).all(), col
    assert (a["status"].astype(str) != b["status"].astype(str)).any()


def test_same_seed_same_tables_across_runs() -> None:
    def run() -> pd.DataFrame:
        sim = simlab.Simulation(seed=3, keep_alive_s=30)
        _add_a(sim)
        _add_b(sim)
        sim.add_source(Poisson(rate_per_s=0.5), target=["a", "b"])
        return sim.run(until_s=300).invocations

    pd.testing.assert_frame_equal(run(), run())
