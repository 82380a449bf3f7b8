"""Replaying a production trace (Azure Functions 2019 and 2021) against simulated functions.

A trace says which function was called when, and for how long it ran (see
:mod:`simlab.sources.traces` for the two formats and their readers). Replaying one means choosing
which simulated function stands for each traced one (the *mapping*) and sending each recorded
invocation to it at its recorded time.

* The **2021** trace (:func:`~simlab.sources.traces.read_azure_2021`) gives each invocation's start
  and duration: the table ``arrival_s, duration_s, app, func``.
* The **2019** trace gives counts per minute (:class:`~simlab.sources.traces.MinuteCounts`):
  :class:`TraceReplay` draws the times within each minute when the run starts (``spread``), and
  durations, if ``durations`` maps ``(app, func)`` to distributions
  (:func:`~simlab.sources.traces.duration_distributions`).

**Durations.** When the table has ``duration_s``, each replayed invocation runs for exactly its
recorded duration (cut at the function's timeout), whatever the function's own distribution;
``use_durations=False`` lets the function's distribution decide instead.
:func:`add_trace_functions` adds one simulated function per traced one (or per application), whose
duration distribution is that function's recorded durations (:class:`~simlab.dists.Empirical`),
so that other sources feeding it behave alike.

>>> import simlab
>>> from simlab.sources.traces import load_azure_2021_sample
>>> trace = load_azure_2021_sample()
>>> sim = simlab.Simulation(seed=1)
>>> mapping = add_trace_functions(sim, trace, by="app", memory_mb=256, timeout_s=900)
>>> replay = TraceReplay(trace, mapping=mapping, by="app")
>>> _ = sim.add_source(replay, target=sorted(mapping.values()))
>>> int(sim.run(until_s=1300).summary()["requests"])
199
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simlab.dists import Empirical
from simlab.engine.core import SYNC
from simlab.sources.base import Source
from simlab.sources.handlers import install_handler_runner
from simlab.sources.timeline import at_times
from simlab.sources.traces import MinuteCounts, arrivals_from_counts, attach_durations

if TYPE_CHECKING:  # pragma: no cover
    from simlab.simulation import Run, Simulation

__all__ = ["TraceReplay", "add_trace_functions", "trace_keys"]

_BY = ("func", "app", "app_func")
_TYPES = ("sync", "async", "auto")


def _check_by(by: Any) -> str:
    if by not in _BY:
        raise ValueError(f"by must be one of {_BY} (map each function hash, each application "
                         f"hash, or each (app, func) pair), got {by!r}")
    return by


def trace_keys(trace: pd.DataFrame, by: str = "func") -> pd.Series:
    """The mapping key of every row: the ``func`` hash, the ``app`` hash or ``(app, func)``."""
    _check_by(by)
    if by == "app_func":
        return pd.Series(list(zip(trace["app"].astype(str), trace["func"].astype(str),
                                  strict=True)), index=trace.index)
    return trace[by].astype(str)


def _check_table(trace: Any) -> pd.DataFrame:
    if not isinstance(trace, pd.DataFrame):
        raise TypeError(f"trace must be a replay table (read_azure_2021, arrivals_from_counts) or "
                        f"a MinuteCounts (read_azure_2019_invocations), got {type(trace).__name__}")
    missing = [c for c in ("arrival_s", "app", "func") if c not in trace.columns]
    if missing:
        raise ValueError(f"trace is missing columns {missing}; expected arrival_s, app, func "
                         f"(and duration_s), as simlab.sources.traces.read_azure_2021 returns")
    t = trace["arrival_s"].to_numpy(dtype=float)
    if t.size and (not np.all(np.isfinite(t)) or (np.diff(t) < 0).any()):
        raise ValueError("trace arrival_s must be finite and sorted (the readers sort it)")
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
        :func:`~simlab.sources.traces.attach_durations`).
    by
        ``"func"``, ``"app"`` or ``"app_func"``: what one simulated function stands for.
    prefix
        Start of the new functions' names (default ``by``); the rest is the hash's first 8
        characters (``func-3d2aee54``).
    **config
        Passed to ``sim.add_function`` (``memory_mb``, ``timeout_s``...); ``duration_s`` is set
        to an :class:`~simlab.dists.Empirical` of the recorded durations.

    Returns
    -------
    dict
        The mapping from trace key to function name, for :class:`TraceReplay`.
    """
    trace = _check_table(trace)
    if "duration_s" not in trace.columns:
        raise ValueError("trace has no duration_s column; add durations first (for the 2019 "
                         "trace: simlab.sources.traces.attach_durations)")
    if "duration_s" in config or "cpu_s" in config or "io_s" in config:
        raise ValueError("add_trace_functions sets duration_s from the trace; do not pass "
                         "duration_s, cpu_s or io_s")
    keys = trace_keys(trace, by)
    head = prefix if prefix is not None else by.replace("_", "-")
    mapping: dict[Any, str] = {}
    durations = trace["duration_s"].to_numpy(dtype=float)
    for key, idx in keys.groupby(keys, sort=True).indices.items():
        text = key[1] if isinstance(key, tuple) else key
        name = f"{head}-{text[:8]}"
        k = 8
        while name in sim.functions:
            k += 4
            name = f"{head}-{text[:k]}"
        sim.add_function(name, duration_s=Empirical(durations[idx]), **config)
        mapping[key] = name
    return mapping


class TraceReplay(Source):
    """Replay a trace's invocations against simulated functions.

    Parameters
    ----------
    trace
        A replay table (``arrival_s, duration_s, app, func``: :func:`read_azure_2021`,
        :func:`attach_durations`) or a :class:`~simlab.sources.traces.MinuteCounts` (2019).
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
            raise TypeError(f"mapping must be a dict, a function of the key, or None, "
                            f"got {mapping!r}")
        self.mapping = mapping
        if unmapped not in ("error", "skip"):
            raise ValueError(f"unmapped must be 'error' or 'skip', got {unmapped!r}")
        self.unmapped = unmapped
        if invocation_type not in _TYPES:
            raise ValueError(f"invocation_type must be one of {_TYPES}, got {invocation_type!r}")
        self.invocation_type = invocation_type
        if spread not in ("uniform", "even"):
            raise ValueError(f"spread must be 'uniform' or 'even', got {spread!r}")
        self.spread = spread
        if durations is not None and not isinstance(durations, Mapping):
            raise TypeError(f"durations must map (app, func) to distributions, got {durations!r}")
        self.durations = durations
        if (isinstance(time_offset_s, bool) or not isinstance(time_offset_s, int | float)
                or not np.isfinite(time_offset_s)):
            raise ValueError(f"time_offset_s must be a finite number, got {time_offset_s!r}")
        self.time_offset_s = float(time_offset_s)
        if not isinstance(use_durations, bool):
            raise TypeError(f"use_durations must be True or False, got {use_durations!r}")
        self.use_durations = use_durations
        if self.table is not None and self.mapping is not None:
            self._targets_of(self.table)  # unmapped keys fail now, before any run

    def _targets_of(self, table: pd.DataFrame) -> np.ndarray:
        """The function name of each row (``None`` for skipped rows)."""
        codes, uniq = pd.factorize(trace_keys(table, self.by))
        if isinstance(self.mapping, Mapping):
            names = [self.mapping.get(k) for k in uniq]
        else:
            names = [self.mapping(k) for k in uniq]  # type: ignore[misc]
        missing = [k for k, v in zip(uniq, names, strict=True) if v is None]
        if missing and self.unmapped == "error":
            raise ValueError(f"the mapping has no function for {len(missing)} of {len(uniq)} "
                             f"trace keys (by={self.by!r}), for example {missing[0]!r}; map them "
                             f"or pass unmapped='skip'")
        return np.array(names, dtype=object)[codes]

    def validate(self, targets: list[str]) -> None:
        if self.mapping is None:
            if len(targets) != 1:
                raise ValueError(f"a TraceReplay without a mapping needs exactly one target, got "
                                 f"{targets}")
            return
        names = set(self.mapping.values()) if isinstance(self.mapping, Mapping) else set()
        if self.table is not None and not isinstance(self.mapping, Mapping):
            names = {n for n in self._targets_of(self.table) if n is not None}
        stray = sorted(n for n in names if n not in targets)
        if stray:
            raise ValueError(f"the mapping sends invocations to {stray}, which are not targets "
                             f"of this source (targets: {targets})")

    def _replay_table(self, run: Run) -> pd.DataFrame:
        if self.table is not None:
            return self.table
        assert self.counts is not None
        table = arrivals_from_counts(self.counts, run.rng("source", self.name or self.kind,
                                                          "minutes"), spread=self.spread)
        if self.durations is not None:
            table = attach_durations(table, dict(self.durations),
                                     run.rng("source", self.name or self.kind, "durations"))
        return table

    def start(self, run: Run, targets: list[str]) -> None:
        name = self.name or self.kind
        table = self._replay_table(run)
        if self.mapping is None:
            fnames = np.full(len(table), targets[0], dtype=object)
        else:
            fnames = self._targets_of(table)
        keep = pd.Series(fnames).isin(targets).to_numpy()
        times = table["arrival_s"].to_numpy(dtype=float)[keep] - self.time_offset_s
        ok = times >= 0
        idx = np.flatnonzero(keep)[ok]
        times = times[ok]
        engine = run.engine
        codes, uniq = pd.factorize(fnames[idx])
        objects = np.array([engine.function(f) for f in uniq], dtype=object)
        fns = objects[codes].tolist()
        if "trigger" in table.columns and self.invocation_type == "auto":
            sync = (table["trigger"].astype(str).to_numpy()[idx] == "http")
        else:
            sync = np.full(idx.size, self.invocation_type != "async")
        durations = (table["duration_s"].to_numpy(dtype=float)[idx]
                     if "duration_s" in table.columns and self.use_durations else None)
        src = engine.source_index(name)
        install_handler_runner(run)
        queue = run._async_queue() if not sync.all() else None
        sync_list = sync.tolist()
        runs = durations.tolist() if durations is not None else [None] * idx.size

        def fire(k: int, t: float) -> None:
            if sync_list[k]:
                engine.invoke(fns[k], src, SYNC, 1, None, None, run_s=runs[k])
            else:
                queue.submit(fns[k], src, None, None, run_s=runs[k])

        at_times(run, times.tolist(), fire)

    def __repr__(self) -> str:
        n = len(self.table) if self.table is not None else self.counts.total()
        return f"TraceReplay({n} invocations, by={self.by!r})"


