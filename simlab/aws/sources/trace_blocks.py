"""Per-minute trace counts turned into arrival times lazily, a few thousand at a time.

The 2019 Azure Functions trace gives invocations *per minute* (:class:`~simlab.aws.sources.traces.
MinuteCounts`); :func:`~simlab.aws.sources.traces.arrivals_from_counts` turns them into one table
row
per invocation, and :func:`~simlab.aws.sources.traces.attach_durations` adds a drawn duration to
each.
For a day of a few hundred functions that is millions of rows, built before the first request and
held until the last. A replay only ever needs the next few thousand, so :class:`MinuteBlocks` makes
them a block of minutes at a time, with exactly the times, the order and the durations the
whole table would have had:

* **The draws.** ``arrivals_from_counts`` draws one uniform number per invocation, function after
  function (file order), minute after minute. So function ``i``'s draws for minutes ``a`` to ``b``
  are one stretch of the generator's stream, which starts after the invocations of the functions
  above ``i`` and those of ``i`` before minute ``a``. A PCG64 generator jumps to any position of
  its stream at once (:meth:`numpy.random.PCG64.advance`), so each block draws exactly the
  numbers the whole table would have put there, and none for functions that are not replayed.
* **The order.** The table is sorted by time, ties in file order (a stable sort). Sorting a block
  by time, then function row, then position, reproduces that order. An invocation of a block's last
  minute whose time rounds up to the next minute's first instant could tie with the next block:
  it waits for the next block.
* **The durations.** ``attach_durations`` draws each function's durations at once (functions in
  sorted ``(app, func)`` order) and gives them out in the function's time order. Those draws are
  made at the start, one number per invocation of a replayed function (8 bytes, rather than a
  table row), and handed out in time order as the blocks go.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from simlab.aws.sources.traces import MinuteCounts
from simlab.core import validate

__all__ = ["MinuteBlocks", "duration_groups", "check_durations"]

#: Invocations per block, about (a block holds whole minutes).
BLOCK = 32_768


def duration_groups(counts: MinuteCounts) -> tuple[list[tuple[str, str]], np.ndarray]:
    """The ``(app, func)`` keys of the functions with invocations, sorted, and each row's key.

    Returns the sorted keys and, for each row of ``counts``, the position of its key in them
    (``-1`` for rows without invocations): the groups :func:`~simlab.aws.sources.traces.
    attach_durations` draws for, in its order.
    """
    f = counts.functions
    has = counts.counts.sum(axis=1) > 0
    pairs = list(zip(f["app"].astype(str), f["func"].astype(str), strict=True))
    keys = sorted({p for p, h in zip(pairs, has.tolist(), strict=True) if h})
    where = {k: g for g, k in enumerate(keys)}
    group = np.array([where[p] if h else -1 for p, h in zip(pairs, has.tolist(), strict=True)],
                     dtype=np.int64)
    return keys, group


def check_durations(counts: MinuteCounts, distributions: Mapping[Any, Any]) -> None:
    """Raise the error of :func:`~simlab.aws.sources.traces.attach_durations` for missing keys."""
    keys, _ = duration_groups(counts)
    missing = [k for k in keys if k not in distributions]
    if missing:
        raise ValueError(
            f"no duration distribution for {len(missing)} of {len(keys)} functions, for "
            f"example {missing[0]}; drop them with counts.subset(...) first"
        )


class MinuteBlocks:
    """The arrivals of some rows of a :class:`~simlab.aws.sources.traces.MinuteCounts`, in blocks.

    Iterating gives ``(times_s, rows, durations_s)`` blocks in time order: the times (minus
    ``offset_s``; those below 0 are left out, and the blocks stop before ``until_s``), the
    position in ``rows`` of each invocation's function, and its duration (``None`` without
    ``distributions``). The concatenated blocks equal the rows of ``rows`` in
    ``attach_durations(arrivals_from_counts(counts, minutes_rng, spread=spread), distributions,
    durations_rng)``, shifted by ``offset_s`` and cut at 0 and ``until_s``.

    Parameters
    ----------
    counts
        The per-minute counts.
    rows
        Increasing row positions of the functions to replay. With ``distributions``, rows that
        share an ``(app, func)`` key are replayed all or none.
    minutes_rng
        The generator ``arrivals_from_counts`` would get (a PCG64 one); unused for ``"even"``.
    spread
        ``"uniform"`` or ``"even"`` times within each minute.
    offset_s, until_s
        Subtracted from every time; blocks stop at the first time at or after ``until_s``.
    distributions, durations_rng
        ``{(app, func): distribution}`` and the generator ``attach_durations`` would get, or
        ``None``.
    block
        About how many invocations a block holds (it holds whole minutes: at least one).
    """

    def __init__(self, counts: MinuteCounts, rows: np.ndarray, minutes_rng: np.random.Generator,
                 spread: str, offset_s: float, until_s: float,
                 distributions: Mapping[Any, Any] | None = None,
                 durations_rng: np.random.Generator | None = None, *, block: int = BLOCK) -> None:
        self.block = validate.whole("block", block, 1, 2**31)
        self.counts = counts.counts
        self.rows = np.asarray(rows, dtype=np.int64)
        self.spread = spread
        self.offset_s = float(offset_s)
        self.until_s = float(until_s)
        n_minutes = self.counts.shape[1]
        self.n_minutes = n_minutes
        totals = self.counts.sum(axis=1)
        # Minutes that end before the offset hold only dropped invocations: skipped.
        ends = 60.0 * np.arange(1, n_minutes + 1)
        self.first_minute = int(np.count_nonzero(ends < self.offset_s))
        before = self.counts[:, :self.first_minute].sum(axis=1)
        #: Stream position of each replayed row's first draw (at the first minute replayed).
        self.position = (np.cumsum(totals) - totals + before)[self.rows]
        self._bits = np.random.PCG64()
        self._gen = np.random.Generator(self._bits)
        self._state = minutes_rng.bit_generator.state if spread == "uniform" else None
        if spread == "uniform" and self._state["bit_generator"] != "PCG64":
            raise TypeError("minutes_rng must be a PCG64 generator (as simulation runs give)")
        self.durations: np.ndarray | None = None
        if distributions is not None:
            self._draw_durations(counts, totals, before, distributions, durations_rng)

    def _draw_durations(self, counts: MinuteCounts, totals: np.ndarray, before: np.ndarray,
                        distributions: Mapping[Any, Any],
                        rng: np.random.Generator | None) -> None:
        keys, group = duration_groups(counts)
        n_groups = len(keys)
        size = np.bincount(group[group >= 0], weights=totals[group >= 0], minlength=n_groups)
        replayed = np.zeros(n_groups, dtype=bool)
        replayed[group[self.rows][group[self.rows] >= 0]] = True
        partial = np.flatnonzero(replayed[group[group >= 0]]
                                 & ~np.isin(np.flatnonzero(group >= 0), self.rows))
        if partial.size:
            row = int(np.flatnonzero(group >= 0)[partial[0]])
            raise ValueError(f"rows must hold all the rows of an (app, func) key or none (their "
                             f"durations are drawn together); row {row} is missing")
        draws = []
        start = np.zeros(n_groups, dtype=np.int64)
        kept = 0
        for g, key in enumerate(keys):
            values = distributions[key].sample(rng, int(size[g]))
            if replayed[g]:  # the others' draws are made (same stream), not kept
                start[g] = kept
                kept += int(size[g])
                draws.append(np.asarray(values, dtype=float))
        self.durations = np.concatenate(draws) if draws else np.empty(0)
        self.group = group[self.rows]
        self.group_start = start
        # Durations already handed out (to invocations before the first minute replayed).
        self.given = np.bincount(group[group >= 0], weights=before[group >= 0],
                                 minlength=n_groups).astype(np.int64)

    # -- the times ------------------------------------------------------------------------------
    def _times(self, sel: np.ndarray, a: int, b: int,
               position: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Times (before the offset) of rows ``rows[sel]`` in minutes ``[a, b)``, file order.

        Returns the times, the position in ``rows`` of each one's row and each row's count.
        """
        window = self.counts[self.rows[sel], a:b]
        per_row = window.sum(axis=1)
        active = np.flatnonzero(per_row)
        flat = window[active].ravel()
        n = int(flat.sum())
        cell = np.repeat(np.arange(flat.size), flat)
        local, minute = np.divmod(cell, b - a)
        minute += a
        if self.spread == "uniform":
            u = np.empty(n)
            bits, gen, state = self._bits, self._gen, self._state
            k = 0
            for pos, c in zip(position[active].tolist(), per_row[active].tolist(), strict=True):
                bits.state = state
                bits.advance(pos)
                gen.random(c, out=u[k:k + c])
                k += c
            within = u * 60.0
        else:
            first = np.cumsum(flat) - flat
            j = np.arange(n) - first[cell]
            within = (j + 0.5) * 60.0 / flat[cell]
        return minute * 60.0 + within, sel[active][local], per_row

    def reaches(self, sel: np.ndarray) -> bool:
        """Whether some row of ``rows[sel]`` has an invocation at or after the offset."""
        sel = np.asarray(sel, dtype=np.int64)
        sure = int(np.count_nonzero(60.0 * np.arange(self.n_minutes) < self.offset_s))
        if sel.size == 0:
            return False
        if self.counts[self.rows[sel], sure:].any():
            return True
        if sure <= self.first_minute:
            return False
        times, _, _ = self._times(sel, self.first_minute, sure, self.position[sel])
        return bool((times >= self.offset_s).any())

    # -- the blocks ----------------------------------------------------------------------------
    def _edges(self) -> Iterator[tuple[int, int]]:
        """Minute windows of about ``block`` invocations of the replayed rows."""
        mask = np.zeros(self.counts.shape[0], dtype=np.int64)
        mask[self.rows] = 1
        cum = np.concatenate([[0], np.cumsum(mask @ self.counts)])
        a = self.first_minute
        while a < self.n_minutes:
            b = int(np.searchsorted(cum, cum[a] + self.block, side="right")) - 1
            b = min(max(b, a + 1), self.n_minutes)
            yield a, b
            a = b

    def _given(self, rows: np.ndarray, given: np.ndarray) -> np.ndarray:
        """The durations of invocations of ``rows`` (positions in ``rows``), in time order,
        ``given[g]`` of group ``g``'s having been handed out already (updated)."""
        g = self.group[rows]
        order = np.argsort(g, kind="stable")
        per_group = np.bincount(g, minlength=self.group_start.size)
        first = np.cumsum(per_group) - per_group
        rank = np.empty(g.size, dtype=np.int64)
        rank[order] = np.arange(g.size) - first[g[order]]
        out = self.durations[self.group_start[g] + given[g] + rank]
        given += per_group
        return out

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
        if self.rows.size == 0:
            return
        everyone = np.arange(self.rows.size)
        position = self.position.copy()  # each iteration starts afresh
        given = None if self.durations is None else self.given.copy()
        held_t = np.empty(0)
        held_r = np.empty(0, dtype=np.int64)
        for a, b in self._edges():
            if 60.0 * a - self.offset_s >= self.until_s:
                return
            times, rows, per_row = self._times(everyone, a, b, position)
            position += per_row
            times = np.concatenate([held_t, times])
            rows = np.concatenate([held_r, rows])
            order = np.lexsort((rows, times))  # stable: ties keep file order
            times, rows = times[order], rows[order]
            if b < self.n_minutes:  # rounded up to the next minute: may tie with it
                cut = int(np.searchsorted(times, 60.0 * b, side="left"))
                held_t, held_r = times[cut:], rows[cut:]
                times, rows = times[:cut], rows[:cut]
            durations = None if given is None else self._given(rows, given)
            times = times - self.offset_s
            lo = int(np.searchsorted(times, 0.0, side="left"))
            hi = int(np.searchsorted(times, self.until_s, side="left"))
            yield (times[lo:hi], rows[lo:hi],
                   None if durations is None else durations[lo:hi])
            if hi < times.size:
                return
