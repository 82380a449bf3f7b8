"""Calibrate the measured 2020 platform on the two shipped AWS Lambda experiments.

Usage: ``python benchmarks/calibrate_2020.py [--quick]``

The two experiments of ``simlab.aws.data_sets`` (a 128 MB Python function called for about 28 hours
at
0.0035 and 0.050 requests/s in 2020) are replayed under the 2020 era's rules with each candidate
of a small grid of the measured mechanisms' parameters:

* ``DemandKeepAlive(base_s, per_request_s)``: an idle environment is kept ``base_s`` plus
  ``per_request_s`` per request of the last 10 minutes, at most 21 minutes;
* ``recycle_prewarm``: an environment recycled at its 2 h lifetime is replaced at once by one
  initialised ahead of the next request.

For each experiment it prints the real number of environments that served requests (the data's
``is_cold`` flag is set by the function's own code, so it counts new environments, pre-initialised
or not) against the simulated one, and the mean number of live instances (from each instance's
first request to its last, in 30-minute bins, the same estimate for both), as mean and standard
deviation over the seeds. The fit minimises the squared relative errors of both figures;
leave-one-out fits on one experiment and reports the other, which says how far the fit carries
beyond the data it saw. Nothing here is timed.
"""

from __future__ import annotations

import itertools
import sys

import numpy as np
import pandas as pd

from simlab import Simulation
from simlab.aws.data_sets import AWS_LAMBDA_2020, load_aws_lambda_2020
from simlab.aws.sources import Replay
from simlab.core.dists import Empirical
from simlab.core.keepalive import DemandKeepAlive
from simlab.core.measured import MEASURED_2020
from simlab.course.lessons.validation import init_estimate_s, instance_spans, live_per_bin

BIN_S = 1800.0


def replay(name: str, seed: int, **rules: object) -> tuple[int, int, float]:
    """(environments that served requests, requests that waited for INIT, mean live)."""
    df = load_aws_lambda_2020(name)
    sim = Simulation(era="2020", seed=seed, max_lifetime_s=7200.0, **rules)
    sim.add_function("f", memory_mb=128, timeout_s=60,
                     duration_s=Empirical(df["aws_duration"].to_numpy(float) / 1000),
                     init_s=Empirical(init_estimate_s(df)))
    sim.add_source(Replay(df["offset_s"].to_numpy()), target="f")
    r = sim.run(until_s=float(df["offset_s"].iloc[-1]) + 60.0)
    inv = r.invocations
    return int(inv["env_id"].nunique()), int(inv["cold"].sum()), mean_live(instance_spans(r),
                                                                          r.until_s)


def mean_live(spans: pd.DataFrame, until_s: float) -> float:
    edges = np.append(np.arange(0.0, until_s, BIN_S), until_s)
    return float(live_per_bin(spans["first_s"].to_numpy(), spans["last_s"].to_numpy(),
                              edges).mean())


def real(name: str) -> tuple[int, float]:
    df = load_aws_lambda_2020(name)
    until = float(df["offset_s"].iloc[-1]) + 60.0
    return int(df["inst_id"].nunique()), mean_live(instance_spans(df), until)


def evaluate(rules: dict[str, object], seeds: list[int]) -> pd.DataFrame:
    rows = []
    for name in AWS_LAMBDA_2020:
        runs = np.array([replay(name, s, **rules) for s in seeds], float)
        envs, live = real(name)
        rows.append({"experiment": name, "real_envs": envs,
                     "sim_envs": runs[:, 0].mean(), "sim_envs_sd": runs[:, 0].std(ddof=1),
                     "sim_waited_init": runs[:, 1].mean(), "real_live": live,
                     "sim_live": runs[:, 2].mean(), "sim_live_sd": runs[:, 2].std(ddof=1)})
    return pd.DataFrame(rows).set_index("experiment")


def loss(table: pd.DataFrame, names: list[str]) -> float:
    t = table.loc[names]
    return float((((t["sim_envs"] - t["real_envs"]) / t["real_envs"]) ** 2
                  + ((t["sim_live"] - t["real_live"]) / t["real_live"]) ** 2).sum())


def main(quick: bool = False) -> None:
    seeds = [0, 1, 2] if quick else [0, 1, 2, 3, 4, 5]
    pd.set_option("display.width", 160)
    pd.set_option("display.max_columns", 20)
    print("Fixed 10-minute keep-alive, recycling at 2 h with a cold replacement (the '2020' era):")
    print(evaluate({"keep_alive_s": 600.0}, seeds).round(2), "\n")
    grid = list(itertools.product((540.0, 600.0, 660.0),
                                  (0.0, 10.0, 20.0, 40.0) if not quick else (0.0, 20.0)))
    tables = {}
    for base, per in grid:
        rules = {"keep_alive": DemandKeepAlive(base, per, 600.0, 1260.0),
                 "recycle_prewarm": True}
        tables[(base, per)] = evaluate(rules, seeds)
    names = list(AWS_LAMBDA_2020)
    both = min(tables, key=lambda k: loss(tables[k], names))
    print(f"Fit on both experiments: base_s={both[0]:g}, per_request_s={both[1]:g}")
    print(tables[both].round(2), "\n")
    for held_out in names:
        seen = [n for n in names if n != held_out]
        k = min(tables, key=lambda key: loss(tables[key], seen))
        t = tables[k].loc[held_out]
        print(f"Leave-one-out: fit on {seen[0]} -> base_s={k[0]:g}, per_request_s={k[1]:g}; "
              f"on {held_out}: environments real {t['real_envs']:.0f}, sim "
              f"{t['sim_envs']:.1f} +- {t['sim_envs_sd']:.1f}; mean live real "
              f"{t['real_live']:.2f}, sim {t['sim_live']:.2f} +- {t['sim_live_sd']:.2f}")
    print("\nShipped MEASURED_2020:", MEASURED_2020)
    print(evaluate(dict(MEASURED_2020), seeds).round(2))


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
