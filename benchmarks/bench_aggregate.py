"""Aggregate-only runs: a day at 100 requests/s in flat memory, against a row per invocation.

Run:  .venv/bin/python benchmarks/bench_aggregate.py           (31 million invocations: minutes)
      .venv/bin/python benchmarks/bench_aggregate.py --quick   (2.6 million invocations)

How long it takes depends on the machine far more than the old "about 2 minutes" said: each
invocation costs about 5 to 8 bare SimPy timeouts (the script prints the figure per case, against
the calibration it measures first), so the full run is about 200 million SimPy timeouts of work:
divide by the calibration figure for the wall time (about 3 minutes at 1.1 million timeouts/s).
The last line prints the whole run's wall time and its size in SimPy timeouts.

One function (256 MB, 0.1 s per request) behind Poisson traffic at 100 requests/s. Each case runs in
a fresh Python process, so that its peak resident set size (RSS) is its own:

* ``record="summary"`` for 6 h, 12 h and 24 h of simulated time (2.2, 4.3 and 8.6 million
  invocations): counts, time integrals and latency histograms only. The peak RSS above the
  process's baseline (interpreter and libraries, measured before the run) must not grow with the
  simulated time: the table prints it and the growth per simulated hour.
* ``record="metrics"`` for 24 h: the same plus per-minute CloudWatch metrics (1,440 periods).
* ``record="all"`` for 1 h, 2 h and 4 h: a row per invocation; memory grows in proportion.

The machine's speed (bare SimPy timeouts per second, see ``_calibrate.py``) is printed before and
after the cases, and each case's rate relative to it (SimPy timeouts per invocation).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

from _calibrate import Calibration

CASES = [("summary", 6), ("summary", 12), ("summary", 24), ("metrics", 24),
         ("all", 1), ("all", 2), ("all", 4)]


def _rss_mb() -> float:
    """Peak resident set size of this process so far (MB; Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_case(record: str, hours: float, rate_per_s: float) -> dict[str, float]:
    """Run one case in this process and return its figures."""
    import simlab

    sim = simlab.Simulation(era="today", seed=1)
    sim.add_function("f", memory_mb=256, timeout_s=3, duration_s=0.1)
    sim.add_source(simlab.sources.Poisson(rate_per_s=rate_per_s), target="f")
    baseline = _rss_mb()
    t0 = time.perf_counter()
    result = sim.run(until_s=hours * 3600.0, record=record)
    summary = result.summary()
    if record == "metrics":
        result.aggregates.metrics_frame(["f"])
    elapsed = time.perf_counter() - t0
    return {"record": record, "hours": hours, "invocations": float(summary["requests"]),
            "seconds": elapsed, "baseline_mb": baseline, "peak_mb": _rss_mb(),
            "cold_start_fraction": float(summary["cold_start_fraction"]),
            "latency_p99_ms": float(summary["latency_p99_ms"])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="requests/s (default 100)")
    parser.add_argument("--quick", action="store_true", help="10 requests/s")
    parser.add_argument("--child", nargs=2, metavar=("RECORD", "HOURS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    rate = 10.0 if args.quick else args.rate
    if args.child:
        print(json.dumps(run_case(args.child[0], float(args.child[1]), rate)))
        return 0
    calibration = Calibration()
    start = time.perf_counter()
    print(f"one function, Poisson {rate:g} requests/s; each case in a fresh process")
    print(f"{'record':>8} {'hours':>6} {'invocations':>12} {'run s':>7} {'inv/s':>9} "
          f"{'baseline MB':>12} {'peak MB':>8} {'run MB':>7}")
    rows = []
    for record, hours in CASES:
        cmd = [sys.executable, __file__, "--child", record, str(hours), "--rate", str(rate)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        r["run_mb"] = r["peak_mb"] - r["baseline_mb"]
        rows.append(r)
        print(f"{r['record']:>8} {r['hours']:>6g} {r['invocations']:>12,.0f} {r['seconds']:>7.1f} "
              f"{r['invocations'] / r['seconds']:>9,.0f} {r['baseline_mb']:>12.0f} "
              f"{r['peak_mb']:>8.0f} {r['run_mb']:>7.1f}", flush=True)
    for record in ("summary", "all"):
        part = [r for r in rows if r["record"] == record]
        first, last = part[0], part[-1]
        slope = (last["run_mb"] - first["run_mb"]) / (last["hours"] - first["hours"])
        per_inv = last["run_mb"] * 1024 * 1024 / last["invocations"]
        print(f"record={record!r}: memory of the run grows {slope:+.2f} MB per simulated hour "
              f"({per_inv:,.0f} bytes per invocation at {last['hours']:g} h)")
    wall = time.perf_counter() - start
    calibration.finish()
    for r in rows:
        print(f"{r['record']:>8} {r['hours']:>3g} h relative to the calibration: "
              f"{calibration.rate(r['invocations'] / r['seconds'])}")
    total = sum(r["invocations"] for r in rows)
    per_million = wall * calibration.timeouts_per_s / total
    print(f"all cases: {total:,.0f} invocations in {wall:.0f} s of wall time = "
          f"{calibration.duration(wall)} ({per_million:.1f} M SimPy timeouts per million "
          f"invocations)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
