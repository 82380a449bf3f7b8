"""Engine throughput and memory: invocations simulated per second, recording every invocation.

Run:  .venv/bin/python benchmarks/bench_engine.py            (both cases, about 20 s)
      .venv/bin/python benchmarks/bench_engine.py --case a   (one case)

(a) Poisson 0.9 req/s, duration 1.991 s, init 0.253 s, keep-alive 600 s, about 1,000,000
    invocations (a couple of live environments).
(b) the same at 450 req/s (about 1,000 live environments): the cost per invocation must not grow
    with the number of live environments.

Peak memory is the process's maximum resident set size after the run and its summary (it includes
the interpreter and the libraries, about 120 MB). Reading ``result.invocations`` afterwards adds
the priced columns (billed_ms, cost_usd).

The machine's speed (bare SimPy timeouts per second, see ``_calibrate.py``) is measured before and
after; each case's rate is also printed relative to it, as SimPy timeouts per invocation.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

from _calibrate import Calibration

import simlab

CASES = {"a": 0.9, "b": 450.0}


def run_case(rate_per_s: float, invocations: int = 1_000_000) -> dict[str, float]:
    sim = simlab.Simulation(era="today", seed=1, keep_alive_s=600, max_lifetime_s=1e12)
    sim.add_function("f", memory_mb=128, timeout_s=10, init_s=0.253, duration_s=1.991)
    sim.add_source(simlab.sources.Poisson(rate_per_s=rate_per_s), target="f")
    t0 = time.perf_counter()
    result = sim.run(until_s=invocations / rate_per_s)
    elapsed = time.perf_counter() - t0
    s = result.summary()
    n = int(s["requests"])
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"invocations": n, "seconds": elapsed, "per_second": n / elapsed,
            "peak_rss_mb": peak_mb, "mean_environments": float(s["mean_environments"]),
            "cold_start_fraction": float(s["cold_start_fraction"])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES), action="append")
    parser.add_argument("--invocations", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    calibration = Calibration()
    rates = {}
    for case in args.case or sorted(CASES):
        r = run_case(CASES[case], args.invocations)
        rates[case] = r["per_second"]
        print(f"case {case}: {r['invocations']:,} invocations in {r['seconds']:.2f} s = "
              f"{r['per_second']:,.0f} invocations/s; peak RSS {r['peak_rss_mb']:.0f} MB; "
              f"mean environments {r['mean_environments']:.1f}; "
              f"cold-start fraction {r['cold_start_fraction']:.5f}")
        sys.stdout.flush()
    calibration.finish()
    for case, rate in rates.items():
        print(f"case {case} relative to the calibration: {calibration.rate(rate)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
