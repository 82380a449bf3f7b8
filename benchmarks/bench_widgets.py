"""Redraw time of lesson 1's dashboard: what a student waits for after releasing a slider.

Run:  python benchmarks/bench_widgets.py              (default settings, 15 redraws)
      python benchmarks/bench_widgets.py --repeat 30

A redraw is the dashboard's pure function, :func:`simlab.widgets.cold_start_view` (one run of
about 1,000 requests, a sweep of seven shorter runs, the figure), plus the PNG the widget shows.
The target is a median of at most 0.25 s for the default settings. Also timed: the plots of a
one-hour run at 10 requests/s (about 36,000 invocations), each drawn and rendered to PNG.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")

from _calibrate import Calibration  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import simlab  # noqa: E402
from simlab import plots, widgets  # noqa: E402

TARGET_S = 0.25


def _png(fig: Figure, dpi: int = 80) -> None:
    fig.savefig(io.BytesIO(), format="png", dpi=dpi)


def _median(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up: imports, font cache
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="redraws timed (default 15)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, got {args.repeat}")

    calibration = Calibration()
    compute = _median(lambda: widgets.cold_start_view(), args.repeat)
    redraw = _median(lambda: _png(widgets.cold_start_view()[1]), args.repeat)
    print(f"lesson 1 dashboard, default settings, median of {args.repeat}:")
    print(f"  pure function (runs + figure):  {compute:.3f} s")
    print(f"  redraw (pure function + PNG):   {redraw:.3f} s   target <= {TARGET_S} s: "
          f"{'met' if redraw <= TARGET_S else 'NOT MET'}")
    print(f"  redraw relative to the calibration: {calibration.duration(redraw)}")

    sim = simlab.Simulation(era="2018", seed=1)
    sim.add_function("f", memory_mb=1024, duration_s=0.1, error_rate=0.01)
    sim.add_source(simlab.sources.Poisson(rate_per_s=10.0), target="f")
    result = sim.run(until_s=3600)
    print(f"plots of a 1-hour run at 10 req/s ({len(result.invocations):,} invocations), "
          f"draw + PNG, median of {args.repeat}:")
    slowest = 0.0
    for name in ("timeline", "concurrency", "latency_cdf", "outcomes", "duration_vs_billed",
                 "host_packing"):
        def draw(name: str = name) -> None:
            fig = Figure(figsize=(8, 4))
            getattr(plots, name)(result, ax=fig.subplots())
            _png(fig)

        t = _median(draw, args.repeat)
        slowest = max(slowest, t)
        print(f"  {name:<20} {t:.3f} s")
    ok = redraw <= TARGET_S and slowest <= TARGET_S
    print("all within target" if ok else "SOME ABOVE TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
