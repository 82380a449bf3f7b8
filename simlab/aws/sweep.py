"""Parameter sweeps: many runs over a grid of parameters and seeds, as one tidy table.

One run answers "what happens with a keep-alive of 10 minutes at 1 request per second?". An
*experiment* asks how the answer changes with the parameters, and how much of the change is noise:
it runs every combination of a parameter *grid* (the cartesian product), each with several *seeds*
(replications), and compares means with confidence intervals.

:func:`sweep` runs such an experiment on any :class:`concurrent.futures.Executor`: by default a
local process pool, or a Dask cluster through ``client.get_executor()``. The runs are independent,
so they spread over workers; the table comes back in the grid's order whatever the order in which
the runs finished, and each row depends only on its parameters and its seed:

* ``seed_mode="common"`` (the default) passes each replication's seed unchanged to every grid
  point. Grid points then see the same random streams (*common random numbers*): the arrivals of
  seed 3 are the same for every keep-alive value, so differences between grid points are due to
  the parameters, not to luck, and the comparison needs fewer replications.
* ``seed_mode="derived"`` gives every (grid point, seed) its own seed, a hash of the sorted
  parameters and the seed (:func:`derive_seed`): independent replications everywhere.

Either way the same parameters and seed always give the same row, on one machine or on a cluster.

A run that raises (an invalid memory size in one corner of the grid, say) is not lost: its row
keeps the parameters, the metrics are NaN and the ``error`` column says what went wrong.

:func:`summarise` turns the replications into a mean and a Student-t confidence interval per grid
point; :func:`pareto_front` keeps the grid points no other point beats on two objectives at once
(for instance cold-start fraction against the cost of memory kept idle).

The keep-alive experiment, the sweep the lessons run most, is in
:mod:`simlab.aws.keep_alive_experiment` (its model, its idle-memory metrics and its sweep).

Examples
--------
>>> from simlab.aws.keep_alive_experiment import keep_alive_model
>>> df = sweep(keep_alive_model, {"keep_alive_s": [0, 600], "rate_per_s": [0.05]},
...            seeds=[1, 2], until_s=1800, executor=SerialExecutor(), progress=False,
...            metrics=["cold_start_fraction"])
>>> list(df.columns)
['keep_alive_s', 'rate_per_s', 'seed', 'run_seed', 'cold_start_fraction', 'error']
>>> df["cold_start_fraction"].round(2).tolist()
[1.0, 1.0, 0.02, 0.02]
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import inspect
import itertools
import json
import math
import os
import pickle
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from simlab.core import validate

if TYPE_CHECKING:  # pragma: no cover
    from simlab.aws.simulation import Simulation
    from simlab.core.result import Result

__all__ = [
    "sweep",
    "derive_seed",
    "summarise",
    "pareto_front",
    "SerialExecutor",
    "RESERVED_COLUMNS",
    "summary_names",
]

#: Columns that :func:`sweep` adds to the parameters; no parameter or metric may use these names.
RESERVED_COLUMNS: tuple[str, ...] = ("seed", "run_seed", "error")
_RECORDS = ("summary", "metrics", "all")
_SEED_MODES = ("common", "derived")


class SerialExecutor(cf.Executor):
    """An executor that runs each task at once in the calling process.

    For debugging a build function (tracebacks stay in the notebook), for doctests, and for
    sweeps too small to be worth starting worker processes.
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
        """Run ``fn(*args, **kwargs)`` now and return a finished future."""
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as err:  # noqa: BLE001 - handed to the future, as executors do
            future.set_exception(err)
        return future


# --------------------------------------------------------------------------------------------------
# seeds
# --------------------------------------------------------------------------------------------------


def _canonical(name: str, value: Any) -> Any:
    """A JSON-able form of a parameter value that does not depend on its Python type's width."""
    if isinstance(value, bool | np.bool_) or value is None or isinstance(value, str):
        return value.item() if isinstance(value, np.bool_) else value
    if validate.is_real(value):
        return float(value)
    if isinstance(value, list | tuple):
        return [_canonical(name, v) for v in value]
    raise TypeError(
        f"seed_mode='derived' needs plain parameter values (numbers, strings, booleans, None or "
        f"lists of them) to hash; parameter {name!r} has {value!r}. Use seed_mode='common'."
    )


def derive_seed(params: Mapping[str, Any], seed: int) -> int:
    """The seed of grid point ``params`` in replication ``seed`` (``seed_mode="derived"``).

    A BLAKE2b hash of the parameters sorted by name (numbers as floats, so ``1`` and ``1.0`` and
    ``numpy.int64(1)`` agree) and of ``seed``, reduced to a whole number below 2**63. It depends on
    nothing else: not on the grid's other points, the executor or the order of completion.

    Examples
    --------
    >>> derive_seed({"a": 1, "b": "x"}, 0) == derive_seed({"b": "x", "a": 1.0}, 0)
    True
    >>> derive_seed({"a": 1}, 0) == derive_seed({"a": 1}, 1)
    False
    """
    items = [[name, _canonical(name, params[name])] for name in sorted(params)]
    text = json.dumps([items, int(seed)], separators=(",", ":"))
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


# --------------------------------------------------------------------------------------------------
# the worker side
# --------------------------------------------------------------------------------------------------


def _run_point(task: tuple) -> tuple[int, dict[str, float], str | None]:
    """Build and run one grid point; never raises (errors come back as text)."""
    index, build, params, run_seed, until_s, record, period_s, names, extra = task
    try:
        sim = build(**params, seed=run_seed)
        from simlab.aws.simulation import Simulation

        if not isinstance(sim, Simulation):
            raise TypeError(f"build must return a simlab.Simulation, got {type(sim).__name__}")
        if sim.seed != run_seed:
            raise ValueError(
                f"build ignored its seed: it returned a Simulation with seed={sim.seed}, expected "
                f"{run_seed} (pass seed=seed to simlab.Simulation)"
            )
        result = sim.run(until_s, record=record, period_s=period_s)
        summary = result.summary()
        values = {n: float(summary[n]) for n in (summary.index if names is None else names)}
        for name, fn in (extra or {}).items():
            values[name] = float(fn(result))
        return index, values, None
    except Exception as err:  # noqa: BLE001 - reported in the table, not lost
        return index, {}, f"{type(err).__name__}: {err}"


# --------------------------------------------------------------------------------------------------
# the sweep
# --------------------------------------------------------------------------------------------------


def _check_grid(grid: Any) -> dict[str, list[Any]]:
    if not isinstance(grid, Mapping):
        raise TypeError(f"grid must be a dict of parameter name -> list of values, got {grid!r}")
    out: dict[str, list[Any]] = {}
    for name, values in grid.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"grid keys must be parameter names (non-empty strings), got {name!r}")
        if name in RESERVED_COLUMNS:
            raise ValueError(f"grid parameter {name!r} is reserved (reserved: {RESERVED_COLUMNS})")
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            raise TypeError(
                f"grid[{name!r}] must be a list of values, got {values!r}; write [{values!r}] "
                f"for a single value"
            )
        values = list(values)
        if not values:
            raise ValueError(f"grid[{name!r}] is empty: give at least one value")
        out[name] = values
    return out


def _check_seeds(seeds: Any) -> list[int]:
    if validate.is_whole(seeds):
        validate.integer("seeds", seeds, 1, why="(replications) or a list of seeds")
        return list(range(int(seeds)))
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Iterable):
        raise TypeError(f"seeds must be a whole number or a list of whole numbers, got {seeds!r}")
    out = list(seeds)
    if not out:
        raise ValueError("seeds is empty: give at least one seed")
    for s in out:
        if not validate.is_whole(s) or s < 0:
            raise validate.BadInput(f"seeds must be whole numbers >= 0, got {s!r} in {out!r}")
    if len(set(out)) != len(out):
        raise ValueError(f"seeds must not repeat, got {out!r}")
    return [int(s) for s in out]


def summary_names() -> list[str]:
    """The names :meth:`Result.summary` reports (from a one-second run with no traffic)."""
    from simlab.aws.simulation import Simulation

    sim = Simulation(seed=0)
    sim.add_function("probe")
    return list(sim.run(1.0, record="summary").summary().index)


def _check_build(build: Any, params: dict[str, Any], executor: Any) -> None:
    if not callable(build):
        raise TypeError(f"build must be a function build(**params, seed) -> Simulation, "
                        f"got {build!r}")
    try:
        inspect.signature(build).bind(**params, seed=0)
    except TypeError as err:
        raise TypeError(
            f"build cannot take the grid's parameters {sorted(params)} and seed: {err}"
        ) from err
    except ValueError:  # no signature available (a builtin): let the runs tell
        pass
    if executor is None or isinstance(executor, cf.ProcessPoolExecutor):
        try:
            pickle.dumps(build)
        except Exception as err:  # noqa: BLE001 - pickling raises many types
            raise TypeError(
                f"build must be picklable to run in worker processes: define it at module "
                f"level (not a lambda or a nested function); pickling failed with {err}"
            ) from err


def sweep(
    build: Callable[..., Simulation],
    grid: Mapping[str, Sequence[Any]],
    seeds: int | Sequence[int] = 5,
    *,
    executor: cf.Executor | None = None,
    metrics: Sequence[str] | None = None,
    extra_metrics: Mapping[str, Callable[[Result], float]] | None = None,
    until_s: float = 3600.0,
    record: Literal["summary", "metrics", "all"] = "summary",
    period_s: float = 60.0,
    seed_mode: Literal["common", "derived"] = "common",
    progress: bool = True,
    max_workers: int | None = None,
) -> pd.DataFrame:
    """Run ``build`` over the cartesian product of ``grid`` and ``seeds``; return one tidy table.

    Parameters
    ----------
    build
        ``build(**params, seed=seed) -> Simulation``: makes the model of one grid point. It must
        pass ``seed`` to :class:`simlab.Simulation` (checked) and, for process pools, be picklable:
        a function defined at module level.
    grid
        Parameter name -> list of values; every combination is run (the first name varies
        slowest). ``{}`` runs ``build(seed=...)`` alone.
    seeds
        Replications: a list of seeds >= 0, or a count ``n`` for seeds ``0 .. n-1``.
    executor
        Any :class:`concurrent.futures.Executor`. ``None``: a local process pool of
        ``max_workers`` processes (default: the number of CPUs), shut down afterwards. A Dask
        cluster: ``distributed.Client(...).get_executor()``. :class:`SerialExecutor` runs in this
        process. A given executor is left running.
    metrics
        Names from :meth:`simlab.Result.summary` to keep (default: all of them).
    extra_metrics
        More columns: name -> ``fn(result) -> float``, computed in the worker (module-level
        functions, e.g. :func:`idle_memory_cost_usd`).
    until_s
        Length of every run (simulated seconds).
    record, period_s
        How much each run keeps (see :meth:`simlab.Simulation.run`); ``"summary"`` keeps memory
        flat however long the runs.
    seed_mode
        ``"common"``: every grid point runs with the replication's seed (common random numbers).
        ``"derived"``: with :func:`derive_seed` of its parameters and the seed.
    progress
        Show a ``tqdm`` progress bar (in notebooks and terminals).
    max_workers
        Processes of the default pool (ignored when ``executor`` is given).

    Returns
    -------
    pandas.DataFrame
        One row per (grid point, seed), in grid order then seed order: the parameters, ``seed``
        (the replication), ``run_seed`` (the seed the run used), the metrics, and ``error`` (None,
        or ``"ExceptionType: message"`` for a run that failed; its metrics are NaN).
        ``attrs["parameters"]`` and ``attrs["metrics"]`` name the columns.

    Raises
    ------
    TypeError, ValueError
        On a bad grid, seeds, metric name or build function, before anything runs.

    Warns
    -----
    RuntimeWarning
        When some runs failed (their rows say why).
    """
    grid = _check_grid(grid)
    seed_list = _check_seeds(seeds)
    if seed_mode not in _SEED_MODES:
        raise ValueError(f"seed_mode must be one of {_SEED_MODES}, got {seed_mode!r}")
    if record not in _RECORDS:
        raise ValueError(f"record must be one of {_RECORDS}, got {record!r}")
    until_s = validate.real("until_s", until_s, 0, low_open=True, unit="seconds")
    if executor is not None and not isinstance(executor, cf.Executor):
        raise TypeError(f"executor must be a concurrent.futures.Executor (or None for a local "
                        f"process pool), got {executor!r}")
    if max_workers is not None:
        max_workers = validate.integer("max_workers", max_workers, 1)
    known = summary_names()
    names = None if metrics is None else list(metrics)
    if names is not None:
        unknown = [m for m in names if m not in known]
        if unknown or not names:
            raise ValueError(f"metrics must be names from Result.summary(); unknown {unknown}; "
                             f"allowed: {known}")
    extra = dict(extra_metrics or {})
    for name, fn in extra.items():
        if not callable(fn):
            raise TypeError(f"extra_metrics[{name!r}] must be a function of the Result, got {fn!r}")
    metric_columns = (known if names is None else names) + list(extra)
    clash = (set(grid) | set(RESERVED_COLUMNS)) & set(metric_columns)
    if clash or len(set(metric_columns)) != len(metric_columns):
        raise ValueError(f"metric names must be unique and differ from the parameters and "
                         f"{RESERVED_COLUMNS}; clashing: {sorted(clash) or metric_columns}")
    points = [dict(zip(grid, combo, strict=True)) for combo in itertools.product(*grid.values())]
    _check_build(build, points[0], executor)

    tasks, meta = [], []
    for params in points:
        for seed in seed_list:
            run_seed = seed if seed_mode == "common" else derive_seed(params, seed)
            tasks.append((len(tasks), build, params, run_seed, float(until_s), record,
                          period_s, names, extra or None))
            meta.append((params, seed, run_seed))

    outcomes = _execute(tasks, executor, max_workers, progress)

    rows = []
    for index, (params, seed, run_seed) in enumerate(meta):
        values, error = outcomes[index]
        row = dict(params)
        row.update(seed=seed, run_seed=run_seed)
        row.update({m: values.get(m, math.nan) for m in metric_columns})
        row["error"] = error
        rows.append(row)
    df = pd.DataFrame(rows, columns=[*grid, "seed", "run_seed", *metric_columns, "error"])
    df[metric_columns] = df[metric_columns].astype(float)
    df["error"] = df["error"].astype(object)
    df.attrs["parameters"] = list(grid)
    df.attrs["metrics"] = metric_columns
    failed = [i for i in range(len(meta)) if outcomes[i][1] is not None]
    if failed:
        params, seed, _ = meta[failed[0]]
        warnings.warn(
            f"{len(failed)} of {len(df)} runs failed (see the 'error' column); the first: "
            f"{params} seed {seed}: {outcomes[failed[0]][1]}", RuntimeWarning, stacklevel=2)
    return df


def _execute(tasks: list[tuple], executor: cf.Executor | None, max_workers: int | None,
             progress: bool) -> dict[int, tuple[dict[str, float], str | None]]:
    """Submit every task, collect the outcomes by index (whatever the order of completion)."""
    from tqdm.auto import tqdm

    own = executor is None
    if own:
        executor = cf.ProcessPoolExecutor(max_workers=max_workers or os.cpu_count() or 1)
    outcomes: dict[int, tuple[dict[str, float], str | None]] = {}
    futures: dict[cf.Future, int] = {}
    failed = 0
    try:
        with tqdm(total=len(tasks), desc="sweep", unit="run", disable=not progress) as bar:
            for task in tasks:
                # One positional argument: executors such as Dask's take keywords for themselves.
                futures[executor.submit(_run_point, task)] = task[0]
            for future in cf.as_completed(futures):
                index = futures[future]
                try:
                    _, values, error = future.result()
                except Exception as err:  # noqa: BLE001 - a worker crashed or could not unpickle
                    values, error = {}, f"{type(err).__name__}: {err}"
                outcomes[index] = (values, error)
                if error is not None:
                    failed += 1
                    bar.set_postfix(failed=failed)
                bar.update(1)
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    finally:
        if own:
            executor.shutdown(wait=True, cancel_futures=True)
    return outcomes


# --------------------------------------------------------------------------------------------------
# analysis
# --------------------------------------------------------------------------------------------------


def summarise(df: pd.DataFrame, by: Sequence[str] | None = None,
              metric: str | Sequence[str] | None = None,
              confidence: float = 0.95) -> pd.DataFrame:
    """Mean and Student-t confidence interval of ``metric`` per grid point.

    Parameters
    ----------
    df
        A :func:`sweep` table (or any table with the ``by`` and ``metric`` columns).
    by
        Columns that identify a grid point (default: ``df.attrs["parameters"]``).
    metric
        One or more metric columns (default: ``df.attrs["metrics"]``).
    confidence
        Coverage of the interval, between 0 and 1.

    Returns
    -------
    pandas.DataFrame
        One row per grid point (in order of first appearance): the ``by`` columns, ``n`` (runs
        with a value, failed runs and NaN left out; with several metrics, the smallest such
        count), and per metric ``<metric>_mean``,
        ``<metric>_std``, ``<metric>_ci_low``, ``<metric>_ci_high``. The interval is
        ``mean +- t(n-1) * std / sqrt(n)``; NaN with fewer than two values.

    Examples
    --------
    >>> df = pd.DataFrame({"k": [1, 1, 1, 2], "m": [1.0, 2.0, 3.0, 5.0]})
    >>> s = summarise(df, by=["k"], metric="m")
    >>> s[["k", "n", "m_mean", "m_ci_low"]].round(3).values.tolist()
    [[1.0, 3.0, 2.0, -0.484], [2.0, 1.0, 5.0, nan]]
    """
    from scipy.special import stdtrit  # Student-t quantiles; lighter than scipy.stats

    validate.frame("df", df)
    by = list(df.attrs.get("parameters", []) if by is None else by)
    if metric is None:
        metric = list(df.attrs.get("metrics", []))
    metrics = [metric] if isinstance(metric, str) else list(metric)
    if not metrics:
        raise ValueError("give metric (a column name or a list of them)")
    missing = [c for c in by + metrics if c not in df.columns]
    if missing:
        raise ValueError(f"df has no columns {missing}; columns: {list(df.columns)}")
    if not (validate.is_real(confidence) and 0 < confidence < 1):
        raise validate.fail("confidence", confidence, "a number strictly between 0 and 1")
    if not by:
        keyed = df.assign(_all=0)
        by_cols = ["_all"]
    else:
        keyed, by_cols = df, by
    grouped = keyed.groupby(by_cols, sort=False, dropna=False)[metrics]
    count = grouped.count()
    mean = grouped.mean()
    std = grouped.std(ddof=1)
    out = pd.DataFrame(index=mean.index)
    out["n"] = count.min(axis=1)
    for m in metrics:
        n = count[m].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(n >= 2, stdtrit(np.maximum(n - 1, 1), (1 + confidence) / 2), np.nan)
            half = t * std[m].to_numpy() / np.sqrt(n)
        out[f"{m}_mean"] = mean[m].to_numpy()
        out[f"{m}_std"] = std[m].to_numpy()
        out[f"{m}_ci_low"] = mean[m].to_numpy() - half
        out[f"{m}_ci_high"] = mean[m].to_numpy() + half
    out = out.reset_index()
    if not by:
        out = out.drop(columns="_all")
    out.attrs["confidence"] = float(confidence)
    return out


def pareto_front(df: pd.DataFrame, x: str, y: str, *, minimize: tuple[bool, bool] = (True, True)
                 ) -> pd.DataFrame:
    """The rows of ``df`` that no other row beats on both ``x`` and ``y``, sorted by ``x``.

    A row is dominated when another is at least as good on both objectives and strictly better on
    one. By default both are minimised (cost and cold-start fraction, say); ``minimize=(True,
    False)`` maximises ``y``. Rows with NaN in ``x`` or ``y`` (failed runs) are left out; of
    identical points, the first is kept.

    Examples
    --------
    >>> df = pd.DataFrame({"cost": [1, 2, 3, 2], "cold": [0.5, 0.2, 0.1, 0.4]})
    >>> pareto_front(df, "cost", "cold").index.tolist()
    [0, 1, 2]
    """
    validate.frame("df", df, (x, y))
    if len(minimize) != 2:
        raise ValueError(f"minimize must be two booleans (for x and y), got {minimize!r}")
    xs = df[x].to_numpy(dtype=float) * (1 if minimize[0] else -1)
    ys = df[y].to_numpy(dtype=float) * (1 if minimize[1] else -1)
    ok = np.flatnonzero(np.isfinite(xs) & np.isfinite(ys))
    order = ok[np.lexsort((ys[ok], xs[ok]))]  # by x, then y
    best_before = np.minimum.accumulate(np.concatenate([[np.inf], ys[order]]))[:-1]
    keep = order[ys[order] < best_before]
    return df.iloc[keep]
