"""Replaying a production trace (Azure Functions 2019 and 2021) against simulated functions.

A trace says which function was called when, and for how long it ran (see
:mod:`simlab.aws.sources.traces` for the two formats and their readers). Replaying one means
choosing
which simulated function stands for each traced one (the *mapping*) and sending each recorded
invocation to it at its recorded time.

* The **2021** trace (:func:`~simlab.aws.sources.traces.read_azure_2021`) gives each invocation's
start
  and duration: the table ``arrival_s, duration_s, app, func``.
* The **2019** trace gives counts per minute (:class:`~simlab.aws.sources.traces.MinuteCounts`):
  :class:`TraceReplay` draws the times within each minute as the run goes (``spread``), and
  durations, if ``durations`` maps ``(app, func)`` to distributions
  (:func:`~simlab.aws.sources.traces.duration_distributions`).

**Durations.** When the table has ``duration_s``, each replayed invocation runs for exactly its
recorded duration (cut at the function's timeout), whatever the function's own distribution;
``use_durations=False`` lets the function's distribution decide instead.
:func:`add_trace_functions` adds one simulated function per traced one (or per application), whose
duration distribution is that function's recorded durations (:class:`~simlab.core.dists.Empirical`),
so that other sources feeding it behave alike.

**Memory and speed.** A day of the 2019 trace is millions of invocations. Nothing is held per
invocation: a table's rows are read a block at a time, and per-minute counts become times a block of
minutes at a time (:class:`~simlab.aws.sources.trace_blocks.MinuteBlocks`), with exactly the times,
order and durations that :func:`~simlab.aws.sources.traces.arrivals_from_counts` and
:func:`~simlab.aws.sources.traces.attach_durations` would give the whole table. Keys are matched to
functions once per distinct key (integer codes per row), not once per invocation.

>>> import simlab
>>> from simlab.aws.sources.traces import load_azure_2021_sample
>>> trace = load_azure_2021_sample()
>>> sim = simlab.Simulation(seed=1)
>>> mapping = add_trace_functions(sim, trace, by="app", memory_mb=256, timeout_s=900)
>>> replay = TraceReplay(trace, mapping=mapping, by="app")
>>> result = sim.add_source(replay, target=sorted(mapping.values())).run(until_s=1300)
>>> int(result.summary()["requests"])
199
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import simpy

from simlab.aws.sources.base import Source
from simlab.aws.sources.handlers import install_handler_runner
from simlab.aws.sources.trace_blocks import BLOCK, MinuteBlocks, check_durations
from simlab.aws.sources.traces import MinuteCounts
from simlab.core import validate
from simlab.core.dists import Empirical
from simlab.core.validate import BadInput

if TYPE_CHECKING:  # pragma: no cover
    from simlab.aws.simulation import Run, Simulation

__all__ = ["TraceReplay", "add_trace_functions", "trace_keys", "key_codes"]

_BY = ("func", "app", "app_func")
_TYPES = ("sync", "async", "auto")

#: What a replay fires, a block at a time: times (s), function objects, synchronous flags
#: (``None``: all synchronous) and recorded run times (``None``: drawn by the function).
_Block = tuple[list[float], list[Any], list[bool] | None, list[float | None]]


def _check_by(by: Any) -> str:
    if by not in _BY:
        raise BadInput(f"by must be one of {_BY} (map each function hash, each application "
                         f"hash, or each (app, func) pair), got {by!r}")
    return by


def trace_keys(trace: pd.DataFrame, by: str = "func") -> pd.Series:
    """The mapping key of every row: the ``func`` hash, the ``app`` hash or ``(app, func)``."""
    _check_by(by)
    if by == "app_func":
        return pd.Series(list(zip(trace["app"].astype(str), trace["func"].astype(str),
                                  strict=True)), index=trace.index)
    return trace[by].astype(str)


def _text(value: Any) -> Any:
    """A key part as :func:`trace_keys` gives it: text (a missing value stays missing)."""
    return value if pd.isna(value) else str(value)


def _factorize(column: pd.Series) -> tuple[np.ndarray, list[Any]]:
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    return codes.astype(np.int64, copy=False), [_text(u) for u in uniques]


def key_codes(trace: pd.DataFrame, by: str = "func") -> tuple[np.ndarray, list[Any]]:
    """Each row's mapping key as an integer code, and the keys (in order of first appearance).

    ``keys[codes[i]]`` is ``trace_keys(trace, by).iloc[i]``, without building one key per row:
    ``(app, func)`` pairs are paired codes of the two columns.
    """
    _check_by(by)
    if by == "app_func":
        app, apps = _factorize(trace["app"])
        func, funcs = _factorize(trace["func"])
        codes, pairs = pd.factorize(app * max(len(funcs), 1) + func)
        codes = codes.astype(np.int64, copy=False)
        keys: list[Any] = [(apps[p // len(funcs)], funcs[p % len(funcs)])
                           for p in pairs.tolist()]
    else:
        codes, keys = _factorize(trace[by])
    first: dict[Any, int] = {}  # values with the same text are one key, as in trace_keys
    merged = [first.setdefault(k, len(first)) for k in keys]
    if len(first) < len(keys):
        codes = np.asarray(merged, dtype=np.int64)[codes]
        keys = list(first)
    return codes, keys


def _check_table(trace: Any) -> pd.DataFrame:
    if not isinstance(trace, pd.DataFrame):
        raise BadInput(f"trace must be a replay table (read_azure_2021, arrivals_from_counts) or "
                        f"a MinuteCounts (read_azure_2019_invocations), got {type(trace).__name__}")
    missing = [c for c in ("arrival_s", "app", "func") if c not in trace.columns]
    if missing:
        raise BadInput(f"trace is missing columns {missing}; expected arrival_s, app, func "
                         f"(and duration_s), as simlab.sources.traces.read_azure_2021 returns")
    for column in ("arrival_s", "duration_s"):
        if column in trace.columns and not pd.api.types.is_numeric_dtype(trace[column]):
            bad = next(v for v in trace[column] if not validate.is_real(v))
            raise BadInput(f"trace {column} must be numbers of seconds, got {bad!r} "
                                    f"(column of dtype {trace[column].dtype})")
    t = trace["arrival_s"].to_numpy(dtype=float)
    if t.size and (not np.all(np.isfinite(t)) or (np.diff(t) < 0).any()):
        raise BadInput("trace arrival_s must be finite and sorted (the readers sort it)")
    if "duration_s" in trace.columns:
        d = trace["duration_s"].to_numpy(dtype=float)
        bad = ~np.isfinite(d) | (d < 0)
        if bad.any():
            row = int(np.argmax(bad))
            raise BadInput(f"trace duration_s must be finite numbers of seconds >= 0, "
                                    f"got {float(d[row])!r} in row {row}")
    return trace


def add_trace_functions(sim: Simulation, trace: pd.DataFrame, by: str = "func",
                        prefix: str | None = None, **config: Any) -> dict[Any, str]:
    """Add one function per traced function (or app) with its recorded durations.

    Parameters
    ----------
    sim
        The simulation to add them to.
    trace
        A replay table with ``duration_s`` (2021 reader, or 2019 after
        :func:`~simlab.aws.sources.traces.attach_durations`).
    by
        ``"func"``, ``"app"`` or ``"app_func"``: what one simulated function stands for.
    prefix
        Start of the new functions' names (default ``by``); the rest is the hash's first 8
        characters (``func-3d2aee54``).
    **config
        Passed to ``sim.add_function`` (``memory_mb``, ``timeout_s``...); ``duration_s`` is set
        to an :class:`~simlab.core.dists.Empirical` of the recorded durations.

    Returns
    -------
    dict
        The mapping from trace key to function name, for :class:`TraceReplay`; functions are
        added in the keys' sorted order.
    """
    trace = _check_table(trace)
    if "duration_s" not in trace.columns:
        raise BadInput("trace has no duration_s column; add durations first (for the 2019 "
                         "trace: simlab.sources.traces.attach_durations)")
    if "duration_s" in config or "cpu_s" in config or "io_s" in config:
        raise BadInput("add_trace_functions sets duration_s from the trace; do not pass "
                         "duration_s, cpu_s or io_s")
    _check_by(by)
    codes, keys = key_codes(trace, by)
    head = prefix if prefix is not None else by.replace("_", "-")
    mapping: dict[Any, str] = {}
    durations = trace["duration_s"].to_numpy(dtype=float)
    size = np.bincount(codes, minlength=len(keys))
    rows = np.argsort(codes, kind="stable")  # each key's rows together, in table order
    end = np.cumsum(size)
    parts = [key if isinstance(key, tuple) else (key,) for key in keys]
    usable = [k for k in range(len(keys)) if not any(pd.isna(p) for p in parts[k])]
    for k in sorted(usable, key=keys.__getitem__):
        key = keys[k]
        text = key[1] if isinstance(key, tuple) else key
        name = f"{head}-{text[:8]}"
        n = 8
        while name in sim.functions:
            n += 4
            name = f"{head}-{text[:n]}"
        sim.add_function(name, duration_s=Empirical(durations[rows[end[k] - size[k]:end[k]]]),
                         **config)
        mapping[key] = name
    return mapping


class TraceReplay(Source):
    """Replay a trace's invocations against simulated functions.

    Parameters
    ----------
    trace
        A replay table (``arrival_s, duration_s, app, func``: :func:`read_azure_2021`,
        :func:`attach_durations`) or a :class:`~simlab.aws.sources.traces.MinuteCounts` (2019).
    mapping
        Trace key -> function name (a dict, or a function of the key returning a name or
        ``None`` to skip). ``None``: every invocation goes to the single target.
    by
        What the mapping's keys are: ``"func"`` hashes, ``"app"`` hashes, or ``(app, func)``
        pairs (``"app_func"``).
    unmapped
        ``"error"`` (default) or ``"skip"`` for invocations whose key the mapping lacks.
    invocation_type
        ``"sync"``, ``"async"``, or ``"auto"``: by the 2019 ``trigger`` column, ``http`` is
        synchronous and the others (timer, queue, event, storage...) asynchronous.
    spread
        For 2019 counts: ``"uniform"`` or ``"even"`` times within each minute.
    durations
        For 2019 counts: ``{(app, func): distribution}`` to draw each invocation's duration.
    time_offset_s
        Subtracted from the trace's times (e.g. to start a replay in the middle of a day).
    use_durations
        Run each invocation for its recorded ``duration_s`` (default), or let the function's
        distribution draw it (``False``).
    """

    kind = "trace"

    def __init__(self, trace: pd.DataFrame | MinuteCounts,
                 mapping: Mapping[Any, str] | Callable[[Any], str | None] | None = None, *,
                 by: str = "func", unmapped: str = "error", invocation_type: str = "sync",
                 spread: str = "uniform",
                 durations: Mapping[tuple[str, str], Any] | None = None,
                 time_offset_s: float = 0.0, use_durations: bool = True) -> None:
        self.by = _check_by(by)
        if isinstance(trace, MinuteCounts):
            self.counts: MinuteCounts | None = trace
            self.table: pd.DataFrame | None = None
        else:
            self.counts = None
            self.table = _check_table(trace)
        if mapping is not None and not (isinstance(mapping, Mapping) or callable(mapping)):
            raise BadInput(f"mapping must be a dict, a function of the key, or None, "
                            f"got {mapping!r}")
        self.mapping = mapping
        if unmapped not in ("error", "skip"):
            raise BadInput(f"unmapped must be 'error' or 'skip', got {unmapped!r}")
        self.unmapped = unmapped
        if invocation_type not in _TYPES:
            raise BadInput(f"invocation_type must be one of {_TYPES}, got {invocation_type!r}")
        self.invocation_type = invocation_type
        if spread not in ("uniform", "even"):
            raise BadInput(f"spread must be 'uniform' or 'even', got {spread!r}")
        self.spread = spread
        if durations is not None and not isinstance(durations, Mapping):
            raise BadInput(f"durations must map (app, func) to distributions, got {durations!r}")
        self.durations = durations
        self.time_offset_s = validate.real("time_offset_s", time_offset_s)
        if not isinstance(use_durations, bool):
            raise BadInput(f"use_durations must be True or False, got {use_durations!r}")
        self.use_durations = use_durations
        if self.counts is not None and durations is not None:
            check_durations(self.counts, durations)  # missing ones fail now, before any run
        if self.mapping is not None:
            self._names(self._units()[1])  # unmapped keys fail now, before any run

    # -- keys and targets ------------------------------------------------------------------------
    def _units(self) -> tuple[np.ndarray, list[Any]]:
        """The key code of each unit (a table's rows, or the rows of the counts; ``-1`` for
        rows without invocations) and the keys."""
        if self.table is not None:
            return key_codes(self.table, self.by)
        assert self.counts is not None
        has = self.counts.counts.sum(axis=1) > 0
        codes = np.full(has.size, -1, dtype=np.int64)
        codes[has], keys = key_codes(self.counts.functions[has], self.by)
        return codes, keys

    def _names(self, keys: list[Any]) -> list[str | None]:
        """The function name of each key (``None``: skipped)."""
        if isinstance(self.mapping, Mapping):
            names = [self.mapping.get(k) for k in keys]
        else:
            names = [self.mapping(k) for k in keys]  # type: ignore[misc]
        missing = [k for k, v in zip(keys, names, strict=True) if v is None]
        if missing and self.unmapped == "error":
            raise BadInput(f"the mapping has no function for {len(missing)} of {len(keys)} "
                             f"trace keys (by={self.by!r}), for example {missing[0]!r}; map them "
                             f"or pass unmapped='skip'")
        return names

    def validate(self, targets: list[str]) -> None:
        if self.mapping is None:
            if len(targets) != 1:
                raise BadInput(f"a TraceReplay without a mapping needs exactly one target, got "
                                 f"{targets}")
            return
        names = set(self.mapping.values()) if isinstance(self.mapping, Mapping) else set()
        if self.table is not None and not isinstance(self.mapping, Mapping):
            names = {n for n in self._names(self._units()[1]) if n is not None}
        stray = sorted(n for n in names if n not in targets)
        if stray:
            raise BadInput(f"the mapping sends invocations to {stray}, which are not targets "
                             f"of this source (targets: {targets})")

    def _targets(self, targets: list[str]) -> tuple[np.ndarray, list[str]]:
        """Each unit's function, as a position in the returned names (``-1``: not replayed)."""
        if self.mapping is None:
            n = len(self.table) if self.table is not None else self.counts.counts.shape[0]
            return np.zeros(n, dtype=np.int64), [targets[0]]
        codes, keys = self._units()
        names = self._names(keys)
        chosen = [n for n in dict.fromkeys(names) if n is not None and n in targets]
        where = {n: i for i, n in enumerate(chosen)}
        per_key = np.array([where.get(n, -1) for n in names] + [-1], dtype=np.int64)
        return per_key[codes], chosen  # code -1 (no invocations) reads the last entry, -1

    def _sync(self) -> np.ndarray | None:
        """Each unit's synchronous flag, or ``None`` when they all have the same type."""
        if self.invocation_type != "auto":
            return None
        if self.table is not None:
            if "trigger" not in self.table.columns:
                return None
            codes, texts = _factorize(self.table["trigger"])
            return np.array([t == "http" for t in texts], dtype=bool)[codes]
        assert self.counts is not None
        return self.counts.functions["trigger"].astype(str).to_numpy() == "http"

    # -- the run -----------------------------------------------------------------------------------
    def start(self, run: Run, targets: list[str]) -> None:
        name = self.name or self.kind
        engine = run.engine
        unit, chosen = self._targets(targets)
        fns = np.array([engine.function(f) for f in chosen], dtype=object)
        sync = self._sync()
        every_sync = self.invocation_type != "async"
        if self.table is not None:
            blocks, reaches_async = self._table_blocks(run, unit, sync, every_sync)
        else:
            blocks, reaches_async = self._count_blocks(run, unit, sync, every_sync)
        src = engine.source_index(name)
        install_handler_runner(run)
        queue = run._async_queue() if reaches_async else None
        _feed(run, _as_lists(blocks, fns, every_sync), src, queue)

    def _table_blocks(self, run: Run, unit: np.ndarray, sync: np.ndarray | None,
                      every_sync: bool) -> tuple[Iterator[tuple[Any, ...]], bool]:
        """Blocks of rows of the table, and whether an asynchronous row will be replayed."""
        table = self.table
        assert table is not None
        arrival = table["arrival_s"].to_numpy(dtype=float)
        offset, until = self.time_offset_s, run.until_s
        replayed = (unit >= 0) & (arrival - offset >= 0)
        if sync is None:
            reaches_async = not every_sync and bool(replayed.any())
        else:
            reaches_async = bool((replayed & ~sync).any())
        durations = (table["duration_s"].to_numpy(dtype=float)
                     if "duration_s" in table.columns and self.use_durations else None)

        def blocks() -> Iterator[tuple[Any, ...]]:
            for r0 in range(0, arrival.size, BLOCK):
                r1 = min(r0 + BLOCK, arrival.size)
                times = arrival[r0:r1] - offset
                keep = np.flatnonzero((unit[r0:r1] >= 0) & (times >= 0)) + r0
                times = times[keep - r0]
                hi = int(np.searchsorted(times, until, side="left"))
                keep = keep[:hi]
                yield (times[:hi], unit[keep], None if sync is None else sync[keep],
                       None if durations is None else durations[keep])
                if hi < times.size:
                    return

        return blocks(), reaches_async

    def _count_blocks(self, run: Run, unit: np.ndarray, sync: np.ndarray | None,
                      every_sync: bool) -> tuple[Iterator[tuple[Any, ...]], bool]:
        """Blocks of arrivals drawn from the counts, and whether an asynchronous one comes."""
        assert self.counts is not None
        stream = ("source", self.name or self.kind)
        rows = np.flatnonzero(unit >= 0)
        draw = self.durations is not None and self.use_durations
        minutes = MinuteBlocks(self.counts, rows, run.rng(*stream, "minutes"), self.spread,
                               self.time_offset_s, run.until_s,
                               self.durations if draw else None,
                               run.rng(*stream, "durations") if draw else None, block=BLOCK)
        if sync is None:
            everyone = np.arange(rows.size)
            reaches_async = not every_sync and minutes.reaches(everyone)
        else:
            reaches_async = minutes.reaches(np.flatnonzero(~sync[rows]))
        row_sync = None if sync is None else sync[rows]

        def blocks() -> Iterator[tuple[Any, ...]]:
            for times, at, durations in minutes:
                yield (times, unit[rows[at]], None if row_sync is None else row_sync[at],
                       durations)

        return blocks(), reaches_async

    def __repr__(self) -> str:
        n = len(self.table) if self.table is not None else self.counts.total()
        return f"TraceReplay({n} invocations, by={self.by!r})"


def _as_lists(blocks: Iterator[tuple[Any, ...]], fns: np.ndarray,
              every_sync: bool) -> Iterator[_Block]:
    """The numpy blocks as the lists the firing loop indexes (empty blocks left out)."""
    for times, unit, sync, durations in blocks:
        n = len(times)
        if n == 0:
            continue
        if sync is not None:
            flags: list[bool] | None = sync.tolist()
        else:
            flags = None if every_sync else [False] * n
        runs = [None] * n if durations is None else durations.tolist()
        yield times.tolist(), fns[unit].tolist(), flags, runs


def _feed(run: Run, blocks: Iterator[_Block], src: int, queue: Any) -> None:
    """Invoke each block's functions at their times, one pending SimPy event at a time.

    The same events as :func:`~simlab.aws.sources.timeline.at_times` (one timeout per arrival, made
    when the previous one fires, after its request), with the lists indexed directly.
    """
    block = next(blocks, None)
    if block is None:
        return
    kernel = run.kernel
    engine = run.engine
    invoke = engine.invoke
    submit = queue.submit if queue is not None else None
    timeout = simpy.Timeout
    times, fns, flags, runs = block
    k = 0

    def step(ev: simpy.Event) -> None:
        nonlocal times, fns, flags, runs, k
        if engine.closing:
            return
        if flags is None or flags[k]:
            invoke(fns[k], source=src, run_s=runs[k])
        else:
            submit(fns[k], src, None, None, run_s=runs[k])
        k += 1
        if k == len(times):
            nxt = next(blocks, None)
            if nxt is None:
                return
            times, fns, flags, runs = nxt
            k = 0
        t = times[k]
        timeout(kernel, max(t - kernel.now, 0.0)).callbacks.append(step)

    timeout(kernel, max(times[0] - kernel.now, 0.0)).callbacks.append(step)
