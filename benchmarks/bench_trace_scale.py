"""Trace scale: replay a whole day of a 2019-format Azure Functions trace, hundreds of functions.

Run:  .venv/bin/python benchmarks/bench_trace_scale.py          (400 functions, 1 day)
      .venv/bin/python benchmarks/bench_trace_scale.py --functions 50 --minutes 120   (quick)

The real 2019 files are not shipped (about 50,000 functions a day), so this script writes files
in their exact format into a temporary folder, then goes the way a user with the real files goes:

1. ``invocations_per_function_md.anon.d01.csv``: per-minute counts (``HashOwner, HashApp,
   HashFunction, Trigger, 1..1440``), read with :func:`simlab.aws.sources.traces.
   read_azure_2019_invocations`;
2. ``function_durations_percentiles.anon.d01.csv``: per-function duration percentiles (ms), turned
   into distributions with :func:`~simlab.aws.sources.traces.duration_distributions`;
3. ``app_memory_percentiles.anon.d01.csv``: per-application memory percentiles (MB);
4. one simulated function per traced one, a :class:`simlab.aws.sources.TraceReplay` of the counts
   (times spread uniformly within each minute, durations drawn from each function's
   percentiles), run with ``record="summary"`` so that memory does not grow with the day.

The synthetic day has the kind of skew Shahrad et al. (USENIX ATC 2020) report for the real one:
daily invocations per function log-normal over several orders of magnitude (with the defaults,
about a third of the functions are called at most once an hour while a tenth of them carry about
95 % of the invocations; the script prints these figures); triggers in the paper's proportions
(HTTP about half, then queue, timer, orchestration...); timer functions firing on a fixed period;
the others following a daily cycle, some in bursts of a few hours.

Measured on 2 cores (400 functions, 2,023,288 invocations, ``record="summary"``): with one
TraceReplay, 8.8 s of replay and 286 MB peak RSS; with ``--via replay``, 9.5 s and 409 MB (about
141 MB of either is synthesising and reading the files). The machine's speed (bare SimPy timeouts
per second, see ``_calibrate.py``) is printed before and after, and the replay's time relative to
it (millions of SimPy timeouts, and SimPy timeouts per request).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _calibrate import Calibration

import simlab
from simlab.aws.sources import Replay, TraceReplay
from simlab.aws.sources.traces import (
    AZURE_2019_DURATION_COLUMNS,
    AZURE_2019_MEMORY_COLUMNS,
    arrivals_from_counts,
    duration_distributions,
    memory_distributions,
    read_azure_2019_durations,
    read_azure_2019_invocations,
    read_azure_2019_memory,
)

INVOCATIONS_FILE = "invocations_per_function_md.anon.d01.csv"
DURATIONS_FILE = "function_durations_percentiles.anon.d01.csv"
MEMORY_FILE = "app_memory_percentiles.anon.d01.csv"

#: Share of functions by trigger (Shahrad et al. 2020, Fig. 3).
TRIGGERS = {"http": 0.55, "queue": 0.15, "timer": 0.156, "orchestration": 0.07,
            "event": 0.02, "storage": 0.028, "others": 0.026}
#: Periods of timer functions (minutes).
TIMER_PERIODS = (1, 5, 10, 15, 30, 60)


def _hash(kind: str, i: int, seed: int) -> str:
    return hashlib.blake2b(f"{seed}:{kind}:{i}".encode(), digest_size=32).hexdigest()


def synthesise_day(folder: Path, n_functions: int = 400, minutes: int = 1440,
                   seed: int = 0, per_day: float = 2_000_000) -> dict[str, Path]:
    """Write the three 2019-format files of a synthetic trace into ``folder``.

    ``per_day`` sets the expected number of invocations in a day of all non-timer functions
    together (the skew is kept: only the scale changes). Returns the paths by role:
    ``invocations``, ``durations``, ``memory``.
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    # Owners own apps, apps hold 1 to 5 functions.
    app_of = np.repeat(np.arange(n_functions), rng.integers(1, 6, n_functions))[:n_functions]
    n_apps = int(app_of.max()) + 1
    owner_of_app = np.repeat(np.arange(n_apps), rng.integers(1, 4, n_apps))[:n_apps]
    owners = [_hash("owner", int(o), seed) for o in owner_of_app[app_of]]
    apps = [_hash("app", int(a), seed) for a in app_of]
    funcs = [_hash("func", i, seed) for i in range(n_functions)]
    trig_names = list(TRIGGERS)
    p = np.array(list(TRIGGERS.values()))
    triggers = rng.choice(trig_names, n_functions, p=p / p.sum())

    # Daily volume: log10 normal (median about 40 a day), scaled to per_day in total.
    daily = 10 ** rng.normal(1.6, 1.4, n_functions)
    daily *= per_day / daily[triggers != "timer"].sum()
    m = np.arange(minutes)
    cycle = 1 + 0.6 * np.cos(2 * np.pi * (m - 14 * 60) / 1440)  # peak at 14:00
    counts = np.zeros((n_functions, minutes), dtype=np.int64)
    for i in range(n_functions):
        if triggers[i] == "timer":
            period = int(rng.choice(TIMER_PERIODS))
            phase = int(rng.integers(period))
            counts[i, (m % period) == phase] = 1
        elif rng.random() < 0.15:  # bursty: the day's volume in a few random hours
            hours = rng.choice(max(minutes // 60, 1), size=min(3, max(minutes // 60, 1)),
                               replace=False)
            on = np.isin(m // 60, hours)
            counts[i, on] = rng.poisson(daily[i] * minutes / 1440 / on.sum(), on.sum())
        else:
            counts[i] = rng.poisson(daily[i] / 1440 * cycle)
    inv = pd.DataFrame({"HashOwner": owners, "HashApp": apps, "HashFunction": funcs,
                        "Trigger": triggers})
    inv = pd.concat([inv, pd.DataFrame(counts, columns=[str(k + 1) for k in m])], axis=1)

    # Durations: per-function average log-normal (median about 0.6 s), at most 100 s; the
    # percentiles as multiples of the average.
    avg_ms = np.minimum(10 ** rng.normal(2.8, 0.9, n_functions), 100_000.0)
    shape = np.array([0.2, 0.3, 0.7, 0.9, 1.2, 3.0, 5.0])
    pct = avg_ms[:, None] * shape[None, :]
    dur = pd.DataFrame({"HashOwner": owners, "HashApp": apps, "HashFunction": funcs,
                        "Average": avg_ms, "Count": np.maximum(counts.sum(axis=1), 1),
                        "Minimum": pct[:, 0], "Maximum": pct[:, -1]})
    for k, col in enumerate(AZURE_2019_DURATION_COLUMNS[7:]):
        dur[col] = pct[:, k]

    # Memory per application: allocated MB log-normal around 150 MB.
    first = pd.Series(np.arange(n_functions)).groupby(app_of).first().to_numpy()
    mem_avg = 10 ** rng.normal(2.15, 0.25, n_apps)
    mem_shape = np.array([0.6, 0.7, 0.85, 1.0, 1.1, 1.3, 1.5, 1.8])
    mem = pd.DataFrame({"HashOwner": [owners[i] for i in first],
                        "HashApp": [apps[i] for i in first],
                        "SampleCount": rng.integers(10, 10_000, n_apps),
                        "AverageAllocatedMb": mem_avg})
    for k, col in enumerate(AZURE_2019_MEMORY_COLUMNS[4:]):
        mem[col] = mem_avg * mem_shape[k]

    paths = {"invocations": folder / INVOCATIONS_FILE, "durations": folder / DURATIONS_FILE,
             "memory": folder / MEMORY_FILE}
    inv.to_csv(paths["invocations"], index=False)
    dur.to_csv(paths["durations"], index=False)
    mem.to_csv(paths["memory"], index=False)
    return paths


def replay_simulation(paths: dict[str, Path], seed: int = 1, era: str = "today",
                      via: str = "trace", **rules: Any) -> tuple[simlab.Simulation, dict[str, Any]]:
    """Read the three files and build the replay: one function per traced function.

    ``via="trace"`` replays with one :class:`simlab.aws.sources.TraceReplay` of the counts;
    ``via="replay"`` draws each function's times with
    :func:`~simlab.aws.sources.traces.arrivals_from_counts` and gives it its own
    :class:`simlab.aws.sources.Replay` (durations then come from the functions' distributions).

    Returns the simulation and facts about the trace (``functions``, ``invocations``,
    ``minutes``, ``counts``: the :class:`~simlab.aws.sources.traces.MinuteCounts`, ``names``: the
    function name of each row of ``counts``).
    """
    counts = read_azure_2019_invocations(paths["invocations"])
    durations = duration_distributions(read_azure_2019_durations(paths["durations"]))
    memory = memory_distributions(read_azure_2019_memory(paths["memory"]))
    sim = simlab.Simulation(era=era, seed=seed, **rules)
    mapping: dict[tuple[str, str], str] = {}
    names = []
    f = counts.functions
    for i, (app, func) in enumerate(zip(f["app"], f["func"], strict=True)):
        dist = durations[(app, func)]
        mem = memory[app]
        name = f"fn{i:04d}-{func[:8]}"
        memory_mb = int(min(max(128, math.ceil(mem.quantile(1.0))), 10240))
        timeout_s = int(min(900, max(3, math.ceil(2 * dist.quantile(1.0)))))
        sim.add_function(name, memory_mb=memory_mb, timeout_s=timeout_s, duration_s=dist,
                         memory_used_mb=mem)
        mapping[(app, func)] = name
        names.append(name)
    if via == "trace":
        replay = TraceReplay(counts, mapping=mapping, by="app_func", durations=durations)
        sim.add_source(replay, target=names)
    elif via == "replay":
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(7,))))
        for i, name in enumerate(names):
            times = arrivals_from_counts(counts.subset([i]), rng)["arrival_s"].to_numpy()
            sim.add_source(Replay(times), target=name, name=f"trace-{name}")
    else:
        raise ValueError(f"via must be 'trace' or 'replay', got {via!r}")
    return sim, {"functions": len(names), "invocations": counts.total(),
                 "minutes": counts.n_minutes, "counts": counts, "names": names}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=400)
    parser.add_argument("--minutes", type=int, default=1440)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-day", type=float, default=2_000_000,
                        help="expected invocations in the day (default 2,000,000)")
    parser.add_argument("--via", choices=("trace", "replay"), default="trace",
                        help="one TraceReplay source, or a Replay source per function")
    parser.add_argument("--record", choices=("summary", "metrics", "all"), default="summary")
    args = parser.parse_args(argv)
    calibration = Calibration()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        paths = synthesise_day(Path(tmp), args.functions, args.minutes, args.seed, args.per_day)
        t1 = time.perf_counter()
        sim, info = replay_simulation(paths, seed=1, via=args.via)
        t2 = time.perf_counter()
        result = sim.run(info["minutes"] * 60.0, record=args.record)
        t3 = time.perf_counter()
    s = result.summary()
    per_fn = info["counts"].counts.sum(axis=1)
    top = np.sort(per_fn)[::-1]
    print(f"trace: {info['functions']} functions, {info['minutes']} minutes, "
          f"{info['invocations']:,} invocations (busiest function {top[0]:,}; top 10 % of "
          f"functions carry {top[: max(1, len(top) // 10)].sum() / max(top.sum(), 1):.1%}; "
          f"{(per_fn <= info['minutes'] / 60).mean():.0%} called at most once an hour)")
    print(f"synthesise files {t1 - t0:.1f} s; read and build {t2 - t1:.1f} s; "
          f"replay (via {args.via}, record={args.record!r}) {t3 - t2:.1f} s = "
          f"{s['requests'] / (t3 - t2):,.0f} requests/s")
    print(f"requests {int(s['requests']):,}; cold-start fraction {s['cold_start_fraction']:.4f}; "
          f"throttle fraction {s['throttle_fraction']:.4f}; mean environments "
          f"{s['mean_environments']:.1f}; peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    calibration.finish()
    print(f"replay relative to the calibration: {calibration.duration(t3 - t2)}; "
          f"{calibration.rate(s['requests'] / (t3 - t2), 'request')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
