"""The ``simlab`` command: run scenarios and sweeps from a terminal, without writing Python.

::

    simlab scenarios                                  # the built-in scenarios
    simlab run cold-starts --until 2h --seed 3        # a built-in scenario
    simlab run examples/api.toml --set api.memory_mb=1024 --out out/api --format parquet
    simlab sweep examples/sweep_keepalive.toml --out out/keepalive
    simlab check examples/api.toml                    # only check a file
    simlab course build build/course                  # graded lessons (simlab.course.cli)

``--out`` is a folder for both commands; by default ``simlab-runs/<scenario name>`` for a run and
``simlab-runs/<file stem>-sweep`` for a sweep, under the current directory.

``simlab run`` writes into ``--out``: ``summary.json`` (the run's headline figures, overall and
per function), the tables (``invocations``, ``environments``, ``functions``, ``metrics``, ``bill``)
as CSV or Parquet, and the standard figures as PNG. What it can write depends on ``--record``: the
aggregate-only modes (``summary``, ``metrics``) keep no row per invocation, so they have no
invocation table, bill or figures, but keep memory flat for runs of days. Columns holding Python
objects (a handler's ``output``, its ``log_lines``) are written as JSON text.

``simlab sweep`` writes ``runs`` (one row per run) and ``summary`` (mean and confidence interval
per grid point) into ``--out``.

Only what a command needs is imported, so ``simlab --help`` answers at once.

Durations are written ``90s``, ``250ms``, ``10m``, ``1h``, ``1d`` or ``1h30m``. A mistake in the
command or in a file stops everything before the run, with a message naming the key and its line,
and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from simlab.aws.simulation import Simulation
    from simlab.core.result import Result

__all__ = ["main", "build_parser", "UsageError", "FIGURES"]

#: The figures ``simlab run`` draws (names of :mod:`simlab.core.plots` functions of a Result).
FIGURES: tuple[str, ...] = ("timeline", "concurrency", "latency_cdf", "outcomes", "host_packing")


class UsageError(ValueError):
    """A mistake in the command line (exit status 2)."""


# --------------------------------------------------------------------------------------------------
# the parser
# --------------------------------------------------------------------------------------------------


def _duration(text: str) -> float:
    from simlab.aws.scenario_files import parse_duration

    try:
        value = parse_duration(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be longer than 0 s, got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text!r}")
    return value


def _seeds(text: str) -> list[int]:
    """``5`` for seeds 0..4, or ``1,2,7`` for those seeds."""
    parts = [p for p in text.split(",") if p.strip()]
    values = [_seed(p.strip()) for p in parts]
    if len(values) == 1 and "," not in text:
        if values[0] < 1:
            raise argparse.ArgumentTypeError(f"a count of seeds must be >= 1 (or a list '1,2,7'), "
                                             f"got {text!r}")
        return list(range(values[0]))
    if not values or len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"give a count or distinct seeds like 1,2,7; "
                                         f"got {text!r}")
    return values


def _workers(text: str) -> int:
    value = _seed(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``simlab`` command."""
    from simlab import __version__

    parser = argparse.ArgumentParser(
        prog="simlab", description="Simulate serverless platforms (AWS Lambda): run scenarios "
        "and parameter sweeps, write tables, summaries and figures.",
        epilog="Run 'simlab COMMAND --help' for the options of a command.")
    parser.add_argument("--version", action="version", version=f"simlab {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser(
        "run", help="run a built-in scenario or a scenario file",
        description="Run a built-in scenario (see 'simlab scenarios') or a TOML scenario file, "
        "and write its tables, summary.json and figures into --out.",
        epilog="--set takes key paths: for files, platform.keep_alive_s=600, "
        "functions.api.memory_mb=512, api.memory_mb=512, function.memory_mb=512 (every "
        "function), sources.0.rate_per_s=2, or a bare rule (keep_alive_s=10m); for built-in "
        "scenarios, the same dotted keys, and bare names are the scenario's own parameters.")
    run.add_argument("scenario", metavar="SCENARIO_OR_FILE",
                     help="a built-in scenario name or a .toml scenario file")
    run.add_argument("--until", type=_duration, metavar="DURATION",
                     help="simulated time to run, e.g. 90s, 10m, 1h, 1d (default: the file's "
                     "simulation.until, else 1h)")
    run.add_argument("--seed", type=_seed, metavar="N", help="seed of the run (default: the "
                     "file's simulation.seed, else the scenario's)")
    run.add_argument("--set", dest="values", action="append", default=[], metavar="KEY=VALUE",
                     help="change one value (repeatable), e.g. function.memory_mb=512")
    run.add_argument("--record", choices=("all", "summary", "metrics"), default="all",
                     help="what to keep: a row per invocation (all), or aggregates only "
                     "(default: all)")
    run.add_argument("--period", type=_duration, default=60.0, metavar="DURATION",
                     help="metrics period (default: 60s)")
    run.add_argument("--out", type=Path, metavar="DIR",
                     help="output folder (default: simlab-runs/<scenario name>)")
    run.add_argument("--format", choices=("csv", "parquet"), default="csv",
                     help="table format (default: csv)")
    run.add_argument("--no-figures", action="store_true", help="do not draw the PNG figures")
    run.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="progress bar over simulated time (default: when on a terminal)")

    sweep = commands.add_parser(
        "sweep", help="run the parameter grid of a scenario file",
        description="Run every combination of the [sweep.grid] of a TOML scenario file with "
        "every seed, and write one row per run and a mean with confidence interval per grid "
        "point.")
    sweep.add_argument("file", metavar="FILE.toml", type=Path, help="a scenario file with a "
                       "[sweep] section")
    sweep.add_argument("--seeds", type=_seeds, metavar="N|S1,S2,...",
                       help="replications: a count (seeds 0..N-1) or a list (default: the "
                       "file's sweep.seeds, else 5)")
    sweep.add_argument("--until", type=_duration, metavar="DURATION",
                       help="length of every run (default: sweep.until, else simulation.until, "
                       "else 1h)")
    sweep.add_argument("--set", dest="values", action="append", default=[],
                       metavar="KEY=VALUE", help="change one value of the file (repeatable)")
    sweep.add_argument("--workers", type=_workers, metavar="N",
                       help="local worker processes (default: one per CPU)")
    sweep.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on a Dask cluster, e.g. tcp://10.0.0.5:8786 (needs "
                       "dask.distributed)")
    sweep.add_argument("--out", type=Path, metavar="DIR",
                       help="output folder for runs.<format> (one row per run) and "
                       "summary.<format> (one row per grid point) (default: "
                       "simlab-runs/<file stem>-sweep)")
    sweep.add_argument("--format", choices=("csv", "parquet"), default="csv",
                       help="table format (default: csv)")
    sweep.add_argument("--confidence", type=float, default=0.95,
                       help="coverage of the confidence intervals (default: 0.95)")
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar")

    commands.add_parser("scenarios", help="list the built-in scenarios",
                        description="List the built-in scenarios with a line about each.")

    check = commands.add_parser("check", help="check a scenario file without running it",
                                description="Build the simulation of a scenario file (and every "
                                "point of its sweep grid) and report the first mistake.")
    check.add_argument("file", metavar="FILE.toml", type=Path)

    from simlab.course.cli import add_course_parser

    add_course_parser(commands, positive_int=_workers)
    return parser


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


def _is_file(target: str) -> bool:
    return target.endswith(".toml") or Path(target).is_file()


def _scenarios_module() -> Any:
    try:
        from simlab.aws import scenarios
    except ImportError:
        return None
    return scenarios


def _scenario_list() -> list[tuple[str, str]]:
    """(name, one-line description) of every built-in scenario."""
    module = _scenarios_module()
    if module is None:
        return []
    import pandas as pd

    listed = module.list_scenarios()
    if isinstance(listed, pd.DataFrame):
        cols = list(listed.columns)
        name_col = "name" if "name" in cols else cols[0]
        text_col = next((c for c in ("description", "summary", "title") if c in cols), None)
        return [(str(r[name_col]), str(r[text_col]) if text_col else "")
                for _, r in listed.iterrows()]
    if isinstance(listed, dict):
        return [(str(k), _first_line(v)) for k, v in listed.items()]
    return [(str(getattr(x, "name", x)), _first_line(getattr(x, "description", "")))
            for x in listed]


def _first_line(value: Any) -> str:
    if isinstance(value, str):
        # Plain text for a terminal: drop reStructuredText's literal quotes.
        return value.strip().splitlines()[0].replace("``", "") if value.strip() else ""
    return _first_line(getattr(value, "description", "") or getattr(value, "__doc__", "") or "")


def _values(items: Sequence[str]) -> dict[str, Any]:
    from simlab.aws.scenario_files import parse_assignment

    out: dict[str, Any] = {}
    for item in items:
        try:
            key, value = parse_assignment(item)
        except ValueError as err:
            raise UsageError(f"--set: {err}") from None
        out[key] = value
    return out


def _load_target(target: str, seed: int | None, values: dict[str, Any]
                 ) -> tuple[str, Simulation, float | None]:
    """The scenario's name, its simulation and its default length."""
    from simlab.aws.scenario_files import apply_to_simulation, load

    if _is_file(target):
        scenario = load(target)
        return scenario.name, scenario.build(seed=seed, values=values), scenario.until_s
    module = _scenarios_module()
    names = [n for n, _ in _scenario_list()]
    if module is None or target not in names:
        raise UsageError(f"{target!r} is neither a scenario file (.toml) nor a built-in scenario; "
                         f"built-in: {names or 'none available'}")
    kwargs = {k: v for k, v in values.items() if "." not in k}
    dotted = {k: v for k, v in values.items() if "." in k}
    if seed is not None:
        kwargs["seed"] = seed
    try:
        sim = module.get(target, **kwargs)
        for key, value in dotted.items():
            apply_to_simulation(sim, key, value)
    except (TypeError, ValueError) as err:
        raise UsageError(f"scenario {target!r}: {err}") from None
    return target, sim, None


def _write_table(df: pd.DataFrame, path: Path, fmt: str) -> Path:
    path = path.with_suffix(f".{fmt}")
    df = _json_objects(df)
    if fmt == "parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)
    return path


def _json_objects(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every column of Python objects (a handler's output, its log lines) as JSON
    text, so that CSV and Parquet readers get data, not Python reprs; missing values stay
    missing."""
    import pandas as pd

    columns = [c for c in df.columns if df[c].dtype == object]
    if not columns:
        return df

    def to_json(value: Any) -> Any:
        if value is None or isinstance(value, float) and math.isnan(value):
            return None
        return json.dumps(value, default=str, ensure_ascii=False)

    return df.assign(**{c: pd.Series([to_json(v) for v in df[c]], index=df.index,
                                     dtype=object) for c in columns})


def _jsonable(series: pd.Series) -> dict[str, Any]:
    return {str(k): (None if isinstance(v, float) and not math.isfinite(v) else
                     (int(v) if float(v).is_integer() and k in _COUNTS else float(v)))
            for k, v in series.items()}


_COUNTS = {"requests", "invocations", "environments_created", "max_concurrency", "hosts"}


def _metrics_table(result: Result, period_s: float) -> pd.DataFrame | None:
    names = list(result.functions["function"])
    if result.record == "metrics":
        return result.aggregates.metrics_frame(names)
    if result.record != "all":
        return None
    if hasattr(result, "metrics"):
        return result.metrics(period_s)
    from simlab.core.metrics import metrics

    return metrics(result.invocations, period_s=period_s, until_s=result.until_s,
                   functions=result.functions)


def _bill(result: Result) -> pd.DataFrame | None:
    if result.record != "all":
        return None
    if hasattr(result, "bill"):
        return result.bill()
    from simlab.core import billing

    return billing.bill(result.invocations, result.functions, date=result.rules.date,
                        granularity_ms=result.rules.billing_granularity_ms,
                        run_seconds=result.until_s)


def _figures(result: Result, bill: pd.DataFrame | None, folder: Path) -> list[Path]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from simlab.core import plots
    except ImportError:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    drawn: list[Path] = []
    jobs: list[tuple[str, Any]] = [(n, result) for n in FIGURES if hasattr(plots, n)]
    if bill is not None and hasattr(plots, "cost_breakdown"):
        jobs.append(("cost_breakdown", bill))
    for name, data in jobs:
        try:
            ax = getattr(plots, name)(data)
            path = folder / f"{name}.png"
            ax.figure.savefig(path, dpi=110, bbox_inches="tight")
            drawn.append(path)
        except Exception as err:  # noqa: BLE001 - one failed figure must not lose the run
            print(f"simlab: warning: figure {name} failed: {type(err).__name__}: {err}",
                  file=sys.stderr)
        finally:
            plt.close("all")
    return drawn


# --------------------------------------------------------------------------------------------------
# commands
# --------------------------------------------------------------------------------------------------


def _run(args: argparse.Namespace) -> int:
    from simlab.core.config import check_concurrency

    name, sim, file_until = _load_target(args.scenario, args.seed, _values(args.values))
    try:  # the one check Simulation.run makes on everything together
        check_concurrency(list(sim.functions.values()), sim.rules)
    except ValueError as err:
        raise UsageError(f"{args.scenario}: {err}") from None
    until_s = args.until or file_until or 3600.0
    out = args.out or Path("simlab-runs") / _safe(name)
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    _check_out(out, directory=True)

    result = sim.run(until_s, progress=progress, record=args.record, period_s=args.period)

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if args.record == "all":
        written.append(_write_table(result.invocations, out / "invocations", args.format))
    written.append(_write_table(result.environments, out / "environments", args.format))
    written.append(_write_table(result.functions, out / "functions", args.format))
    metrics = _metrics_table(result, args.period)
    if metrics is not None:
        written.append(_write_table(metrics, out / "metrics", args.format))
    bill = _bill(result)
    if bill is not None:
        written.append(_write_table(bill, out / "bill", args.format))
    if args.record == "all" and not args.no_figures:
        written += _figures(result, bill, out / "figures")
    summary = result.summary()
    doc = {
        "scenario": name, "source": args.scenario, "era": result.rules.era, "seed": result.seed,
        "until_s": result.until_s, "record": result.record, "summary": _jsonable(summary),
        "functions": {f: _jsonable(result.summary(f)) for f in result.functions["function"]},
    }
    if bill is not None:
        credits = bill["item"].astype(str).str.startswith("free_tier")
        # Rounded to a billionth of a cent: sums of credits leave float dust such as -1e-18.
        doc["cost_before_free_tier_usd"] = round(float(bill.loc[~credits, "cost_usd"].sum()),
                                                 11) + 0.0
        doc["total_cost_usd"] = round(float(bill["cost_usd"].sum()), 11) + 0.0
    path = out / "summary.json"
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    written.append(path)

    print(f"{name}: {int(summary['requests']):,} requests in {until_s:g} s simulated "
          f"(seed {result.seed}); cold starts {summary['cold_start_fraction']:.4f}, throttled "
          f"{summary['throttle_fraction']:.4f}, p99 latency {summary['latency_p99_ms']:.1f} ms"
          + (f", cost ${doc['cost_before_free_tier_usd']:.6f} (after the free tier "
             f"${doc['total_cost_usd']:.6f})" if bill is not None else ""))
    for p in written:
        print(f"  wrote {p}")
    return 0


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name).strip("-") or "run"


def _sweep(args: argparse.Namespace) -> int:
    from simlab.aws.scenario_files import load
    from simlab.aws.scenario_sweeps import FileBuild, check_grid
    from simlab.aws.sweep import summarise, summary_names, sweep

    scenario = load(args.file)
    values = _values(args.values)
    if values:
        scenario = scenario.with_values(values)
    spec = check_grid(scenario)
    if not 0 < args.confidence < 1:
        raise UsageError(f"--confidence must be between 0 and 1, got {args.confidence}")
    known = summary_names()
    unknown = [m for m in spec.metrics or [] if m not in known]
    if unknown:
        raise scenario.error("sweep.metrics", f"unknown metrics {unknown}; allowed: {known}")
    until_s = args.until or spec.until_s or scenario.until_s or 3600.0
    seeds = args.seeds or spec.seeds
    build = FileBuild(scenario.text, scenario.file, tuple(values.items()))
    out = args.out or Path("simlab-runs") / _safe(f"{args.file.stem}-sweep")
    if out.suffix.lower() in (".csv", ".parquet"):
        raise UsageError(f"--out is a folder, as for 'simlab run'; got {str(out)!r} (the runs "
                         f"go to <folder>/runs.{args.format}, the summary beside them)")

    _check_out(out, directory=False)

    executor, client = None, None
    if args.scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise UsageError("--scheduler needs dask.distributed (pip install "
                             "'dask[distributed]')") from None
        client = Client(args.scheduler)
        executor = client.get_executor()
    try:
        df = sweep(build, spec.grid, seeds, executor=executor,
                   metrics=spec.metrics, until_s=until_s, record=spec.record,
                   seed_mode=spec.seed_mode, progress=not args.no_progress,
                   max_workers=args.workers)
    finally:
        if client is not None:
            client.close()
    table = summarise(df, by=list(spec.grid), metric=df.attrs["metrics"],
                      confidence=args.confidence)
    out.mkdir(parents=True, exist_ok=True)
    runs_path = _write_table(df, out / "runs", args.format)
    summary_path = _write_table(table, out / "summary", args.format)
    shown = [c for c in table.columns
             if c in spec.grid or c == "n" or c.endswith("_mean")][: len(spec.grid) + 5]
    import pandas as pd

    with pd.option_context("display.width", 120, "display.max_columns", 12):
        print(table[shown].to_string(index=False))
    failed = int(df["error"].notna().sum())
    print(f"{len(df)} runs ({failed} failed); wrote {runs_path} and {summary_path}")
    return 0


def _check_out(out: Path, *, directory: bool) -> None:
    """Refuse, before anything runs, an ``--out`` that cannot be written."""
    want = "a directory (new or existing)" if directory else "a file name (new or existing)"
    if directory and out.exists() and not out.is_dir():
        raise UsageError(f"--out must be {want}, got {str(out)!r}: it is an existing file")
    if not directory and out.is_dir():
        raise UsageError(f"--out must be {want}, got {str(out)!r}: it is an existing directory")
    for parent in out.parents:
        if parent.exists() and not parent.is_dir():
            raise UsageError(f"--out must be {want}, got {str(out)!r}: {str(parent)!r} is a file")


def _list(args: argparse.Namespace) -> int:
    listed = _scenario_list()
    if not listed:
        print("no built-in scenarios are available")
        return 0
    width = max(len(n) for n, _ in listed)
    for name, text in listed:
        print(f"{name:<{width}}  {text}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from simlab.aws.scenario_files import load
    from simlab.aws.scenario_sweeps import check_grid

    scenario = load(args.file)
    sim = scenario.build()
    points = 0
    if "sweep" in scenario.data:
        spec = check_grid(scenario)
        points = math.prod(len(v) for v in spec.grid.values())
    print(f"{args.file}: ok ({len(sim.functions)} functions, {len(sim.sources)} sources"
          + (f", sweep of {points} grid points" if points else "") + ")")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``simlab`` command; returns the exit status (2 for bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from simlab.course.cli import run_course

    handler = {"run": _run, "sweep": _sweep, "scenarios": _list, "check": _check,
               "course": run_course}[args.command]
    from simlab.aws.scenario_files import ScenarioFileError

    try:
        return handler(args)
    except (ScenarioFileError, UsageError) as err:
        print(f"simlab {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("simlab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
