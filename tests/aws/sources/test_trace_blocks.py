"""Per-minute counts expanded block by block: the same times, order and durations as the table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simlab.aws.sources.trace_blocks import MinuteBlocks, check_durations, duration_groups
from simlab.aws.sources.traces import (
    MinuteCounts,
    arrivals_from_counts,
    attach_durations,
)
from simlab.core.dists import QuantileDistribution


class _Exponential:
    """A distribution that draws another way than QuantileDistribution (several calls)."""

    def __init__(self, mean: float) -> None:
        self.mean = mean

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        rng.integers(0, 10, 3)
        return rng.exponential(self.mean, size)


def _counts(matrix: np.ndarray, apps: list[str], funcs: list[str]) -> MinuteCounts:
    n = len(apps)
    functions = pd.DataFrame({"owner": ["o"] * n, "app": apps, "func": funcs,
                              "trigger": [f"t{i}" for i in range(n)]})  # tells rows apart
    return MinuteCounts(functions, np.asarray(matrix, dtype=np.int64))


def _distributions(counts: MinuteCounts) -> dict:
    keys, _ = duration_groups(counts)
    return {k: (QuantileDistribution([0, 0.5, 1], [0.1 * g, 0.2 * g + 0.1, 0.3 * g + 1.0]) if g % 2
                else _Exponential(0.5 + g)) for g, k in enumerate(keys)}


def _expected(counts: MinuteCounts, rows: np.ndarray, seed: int, spread: str, offset: float,
              until: float, distributions: dict | None) -> pd.DataFrame:
    """The whole table, as TraceReplay used to build it, cut like a replay."""
    table = arrivals_from_counts(counts, np.random.default_rng(seed), spread=spread)
    if distributions is not None:
        table = attach_durations(table, distributions, np.random.default_rng(seed + 1))
    row_of = {t: i for i, t in enumerate(counts.functions["trigger"])}
    table["row"] = table["trigger"].astype(str).map(row_of).to_numpy()
    table = table[table["row"].isin(rows)]
    times = table["arrival_s"].to_numpy() - offset
    table = table.assign(t=times)[times >= 0]
    return table[table["t"] < until]


def _check(counts: MinuteCounts, rows: np.ndarray, seed: int, spread: str, offset: float,
           until: float, with_durations: bool, block: int) -> list:
    dists = _distributions(counts) if with_durations else None
    want = _expected(counts, rows, seed, spread, offset, until, dists)
    blocks = list(MinuteBlocks(counts, rows, np.random.default_rng(seed), spread, offset, until,
                               dists, None if dists is None else np.random.default_rng(seed + 1),
                               block=block))
    times = np.concatenate([b[0] for b in blocks]) if blocks else np.empty(0)
    at = np.concatenate([b[1] for b in blocks]) if blocks else np.empty(0, dtype=int)
    np.testing.assert_array_equal(times, want["t"].to_numpy())  # exactly, order included
    np.testing.assert_array_equal(rows[at], want["row"].to_numpy())
    if with_durations:
        got = np.concatenate([b[2] for b in blocks]) if blocks else np.empty(0)
        np.testing.assert_array_equal(got, want["duration_s"].to_numpy())
    else:
        assert all(b[2] is None for b in blocks)
    return blocks


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    n_rows=st.integers(1, 6),
    n_minutes=st.integers(1, 7),
    spread=st.sampled_from(["uniform", "even"]),
    block=st.sampled_from([1, 3, 10, 10_000]),
    with_durations=st.booleans(),
)
def test_blocks_equal_the_whole_table(data: st.DataObject, n_rows: int, n_minutes: int,
                                      spread: str, block: int, with_durations: bool) -> None:
    matrix = np.array(data.draw(st.lists(st.lists(st.integers(0, 4), min_size=n_minutes,
                                                  max_size=n_minutes),
                                         min_size=n_rows, max_size=n_rows)))
    # Some rows share an (app, func) key: attach_durations draws for them together.
    apps = [f"a{data.draw(st.integers(0, 1))}" for _ in range(n_rows)]
    funcs = [f"f{data.draw(st.integers(0, 2))}" for _ in range(n_rows)]
    counts = _counts(matrix, apps, funcs)
    chosen = data.draw(st.sets(st.integers(0, n_rows - 1), min_size=0))
    if with_durations:  # rows of one (app, func) key are replayed together
        keys = {(apps[i], funcs[i]) for i in chosen}
        chosen = {i for i in range(n_rows) if (apps[i], funcs[i]) in keys}
    rows = np.array(sorted(chosen), dtype=np.int64)
    offset = data.draw(st.sampled_from([0.0, 60.0, 59.999, 90.5, 240.0]))
    until = data.draw(st.sampled_from([1e9, 75.0, 120.0, 0.5]))
    _check(counts, rows, data.draw(st.integers(0, 3)), spread, offset, until, with_durations,
           block)


def test_blocks_of_a_busy_trace_are_small_and_stop_at_the_end() -> None:
    rng = np.random.default_rng(7)
    matrix = rng.poisson(rng.uniform(0, 40, (30, 1))[:, [0] * 120])
    counts = _counts(matrix, [f"a{i % 7}" for i in range(30)], [f"f{i}" for i in range(30)])
    busiest_minute = int(matrix.sum(axis=0).max())
    rows = np.arange(0, 30, 2)
    blocks = _check(counts, rows, 3, "uniform", 630.25, 4000.0, True, 500)
    assert len(blocks) > 10
    assert max(len(b[0]) for b in blocks) <= 500 + busiest_minute
    # the run stops at 4000 s: minutes after that are never drawn
    assert blocks[-1][0][-1] < 4000.0 <= blocks[-1][0][-1] + 60.0


def test_iterating_again_gives_the_same_blocks() -> None:
    counts = _counts(np.array([[3, 1, 4], [1, 5, 9], [2, 6, 5]]), ["a", "b", "c"],
                     ["f", "g", "h"])
    blocks = MinuteBlocks(counts, np.arange(3), np.random.default_rng(2), "uniform", 30.0, 1e9,
                          _distributions(counts), np.random.default_rng(3), block=4)
    first, second = list(blocks), list(blocks)
    assert len(first) == 3
    for a, b in zip(first, second, strict=True):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)
    assert blocks.reaches(np.array([0]))


def test_reaches_tells_whether_rows_have_arrivals_after_the_offset() -> None:
    matrix = np.array([[3, 0, 0], [0, 2, 0], [0, 0, 1]])
    counts = _counts(matrix, ["a", "a", "a"], ["f", "g", "h"])
    blocks = MinuteBlocks(counts, np.arange(3), np.random.default_rng(0), "even", 70.0, 1e9)
    # row 0: minute 0 only (before 70 s); row 1: 75 and 105 s; row 2: 150 s
    assert not blocks.reaches(np.array([0]))
    assert blocks.reaches(np.array([1]))
    assert blocks.reaches(np.array([2]))
    late = MinuteBlocks(counts, np.arange(3), np.random.default_rng(0), "even", 106.0, 1e9)
    assert not late.reaches(np.array([0, 1]))
    assert not late.reaches(np.array([], dtype=np.int64))


def test_missing_duration_distributions_are_named() -> None:
    counts = _counts(np.array([[1, 0], [0, 0], [2, 2]]), ["a", "b", "c"], ["f", "g", "h"])
    keys, group = duration_groups(counts)
    assert keys == [("a", "f"), ("c", "h")]  # no invocations: no group
    assert group.tolist() == [0, -1, 1]
    with pytest.raises(ValueError, match=r"no duration distribution for 1 of 2 functions"):
        check_durations(counts, {("a", "f"): QuantileDistribution([0, 1], [1, 2])})


def test_rows_of_one_key_are_replayed_together_with_durations() -> None:
    counts = _counts(np.array([[1], [1], [1]]), ["a", "a", "b"], ["f", "f", "g"])
    with pytest.raises(ValueError, match="row 1 is missing"):
        MinuteBlocks(counts, np.array([0, 2]), np.random.default_rng(0), "even", 0.0, 60.0,
                     _distributions(counts), np.random.default_rng(1))
    blocks = list(MinuteBlocks(counts, np.array([0, 2]), np.random.default_rng(0), "even",
                               0.0, 60.0))  # without durations, any rows
    assert blocks[0][1].tolist() == [0, 1]


def test_uniform_spread_needs_a_pcg64_generator() -> None:
    counts = _counts(np.array([[1]]), ["a"], ["f"])
    with pytest.raises(TypeError, match="PCG64"):
        MinuteBlocks(counts, np.arange(1), np.random.Generator(np.random.MT19937(1)), "uniform",
                     0.0, 10.0)
