"""Tests of the simlab command: run, sweep, scenarios, check; help everywhere; exit status 2 with a
message naming the key and line on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from simlab.aws.scenario_files import load
from simlab.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

TINY = """\
[simulation]
seed = 2
until = "20m"

[functions.api]
memory_mb = 256
duration_s = 0.1

[[sources]]
type = "poisson"
target = "api"
rate_per_s = 0.2
"""

TINY_SWEEP = TINY + """
[sweep]
seeds = 2
metrics = ["requests", "cold_start_fraction"]

[sweep.grid]
"keep_alive_s" = [0, 600]
"""


@pytest.fixture()
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_SWEEP)
    return path


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["sweep", "--help"],
                                  ["scenarios", "--help"], ["check", "--help"]])
def test_help_everywhere(argv, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    assert "usage: simlab" in capsys.readouterr().out


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "simlab"
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("simlab ")


def test_run_a_file_writes_tables_summary_and_figures(tiny, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    code, text, _ = _run(["run", str(tiny), "--out", str(out)], capsys)
    assert code == 0
    for name in ("invocations", "environments", "functions", "metrics", "bill"):
        assert (out / f"{name}.csv").is_file()
    figures = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert {"timeline.png", "concurrency.png", "latency_cdf.png"} <= set(figures)
    doc = json.loads((out / "summary.json").read_text())
    expected = load(tiny).build().run(1200.0).summary()
    assert doc["seed"] == 2 and doc["until_s"] == 1200.0 and doc["record"] == "all"
    assert doc["summary"]["requests"] == int(expected["requests"])
    assert doc["summary"]["cold_start_fraction"] == pytest.approx(expected["cold_start_fraction"])
    assert set(doc["functions"]) == {"api"}
    inv = pd.read_csv(out / "invocations.csv")
    assert len(inv) == doc["summary"]["requests"]
    bill = pd.read_csv(out / "bill.csv")
    assert doc["total_cost_usd"] == pytest.approx(bill["cost_usd"].sum())
    assert f"{doc['summary']['requests']:,} requests" in text


def test_run_options_seed_until_set_and_parquet(tiny, tmp_path, capsys) -> None:
    out = tmp_path / "pq"
    code, _, _ = _run(["run", str(tiny), "--out", str(out), "--seed", "5", "--until", "10m",
                       "--set", "api.memory_mb=512", "--set", "keep_alive_s=1m",
                       "--format", "parquet", "--no-figures", "--period", "5m"], capsys)
    assert code == 0
    doc = json.loads((out / "summary.json").read_text())
    assert doc["seed"] == 5 and doc["until_s"] == 600.0
    functions = pd.read_parquet(out / "functions.parquet")
    assert functions["memory_mb"].tolist() == [512]
    sim = load(tiny).build(seed=5, values={"api.memory_mb": 512, "keep_alive_s": "1m"})
    inv = pd.read_parquet(out / "invocations.parquet")
    expected = sim.run(600.0).invocations
    assert inv["start_s"].tolist() == expected["start_s"].tolist()
    assert not (out / "figures").exists()
    periods = sorted(pd.read_parquet(out / "metrics.parquet")["period_start_s"].unique())
    assert periods == [0.0, 300.0]


@pytest.mark.parametrize(("record", "files"), [
    ("summary", {"environments.csv", "functions.csv", "summary.json"}),
    ("metrics", {"environments.csv", "functions.csv", "metrics.csv", "summary.json"}),
])
def test_aggregate_only_runs_write_no_rows(record, files, tiny, tmp_path, capsys) -> None:
    out = tmp_path / record
    code, _, _ = _run(["run", str(tiny), "--out", str(out), "--record", record], capsys)
    assert code == 0
    assert {p.name for p in out.iterdir()} == files
    doc = json.loads((out / "summary.json").read_text())
    assert doc["record"] == record and doc["summary"]["requests"] > 0
    if record == "metrics":
        metrics = pd.read_csv(out / "metrics.csv")
        assert metrics["Invocations"].sum() == doc["summary"]["invocations"]


@pytest.mark.parametrize(("argv", "message"), [
    (["run", "no-such-scenario"], "neither a scenario file"),
    (["run", "absent.toml"], "no such file"),
    (["run", "{tiny}", "--set", "memory_mb"], "KEY=VALUE"),
    (["run", "{tiny}", "--set", "api.memory_mb=64"], "line 6, key 'functions.api.memory_mb'"),
    (["run", "{tiny}", "--set", "nope.x=1"], "unknown key path"),
    (["run", "api_backend", "--set", "rate_per_s=-1"], "rate_per_s"),
    (["run", "api_backend", "--set", "function.memory_mb=1"], "memory_mb"),
    (["check", "{bad}"], "line 6, key 'functions.api.memroy_mb': unknown key"),
    (["sweep", "{bad_grid}"], "line 20, key 'functions.api.memory_mb'"),
    (["sweep", "{bad_metric}"], "line 16, key 'sweep.metrics': unknown metrics"),
])
def test_bad_input_exits_2_naming_the_key_and_line(argv, message, tiny, tmp_path,
                                                    capsys) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.replace("memory_mb", "memroy_mb"))
    bad_grid = tmp_path / "bad_grid.toml"
    bad_grid.write_text(TINY_SWEEP + '"api.memory_mb" = [256, 12]\n')
    bad_metric = tmp_path / "bad_metric.toml"
    bad_metric.write_text(TINY_SWEEP.replace('"requests"', '"reqs"'))
    paths = {"tiny": tiny, "bad": bad, "bad_grid": bad_grid, "bad_metric": bad_metric}
    argv = [a.format(**paths) for a in argv]
    code, _, err = _run(argv + (["--out", str(tmp_path / "o")] if argv[0] != "check" else []),
                        capsys)
    assert code == 2
    assert message in err
    assert not (tmp_path / "o").exists()  # nothing ran, nothing written


@pytest.mark.parametrize("argv", [["run", "x.toml", "--until", "3x"],
                                  ["run", "x.toml", "--seed", "-1"],
                                  ["sweep", "x.toml", "--seeds", "1,1"]])
def test_bad_options_exit_2(argv, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "error: argument" in capsys.readouterr().err


def test_sweep_writes_runs_and_summary(tiny, tmp_path, capsys) -> None:
    out = tmp_path / "sw"
    code, text, _ = _run(["sweep", str(tiny), "--out", str(out), "--workers", "2",
                          "--no-progress"], capsys)
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["runs.csv", "summary.csv"]
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs.columns) == ["keep_alive_s", "seed", "run_seed", "requests",
                                  "cold_start_fraction", "error"]
    assert runs[["keep_alive_s", "seed"]].values.tolist() == [[0, 0], [0, 1], [600, 0], [600, 1]]
    assert runs["error"].isna().all()
    assert (runs.loc[runs["keep_alive_s"] == 0, "cold_start_fraction"] == 1.0).all()
    summary = pd.read_csv(out / "summary.csv")
    assert summary["n"].tolist() == [2, 2]
    assert summary["requests_mean"].tolist() == runs.groupby("keep_alive_s")["requests"].mean(
    ).tolist()
    assert "4 runs (0 failed)" in text


def test_sweep_seeds_until_and_set(tiny, tmp_path, capsys) -> None:
    out = tmp_path / "pq"
    code, _, _ = _run(["sweep", str(tiny), "--out", str(out), "--format", "parquet", "--seeds",
                       "4,9", "--until", "5m", "--set", "api.memory_mb=1024", "--workers", "1",
                       "--no-progress"], capsys)
    assert code == 0
    runs = pd.read_parquet(out / "runs.parquet")
    assert runs["seed"].tolist() == [4, 9, 4, 9]
    sim = load(tiny).build(seed=9, values={"api.memory_mb": 1024, "keep_alive_s": 600})
    assert runs["requests"].iloc[3] == sim.run(300.0).summary()["requests"]


def test_sweep_out_is_a_folder_as_for_run(tiny, tmp_path, capsys, monkeypatch) -> None:
    code, _, err = _run(["sweep", str(tiny), "--out", str(tmp_path / "runs.csv"),
                         "--no-progress"], capsys)
    assert code == 2 and "--out is a folder" in err and "runs.csv" in err
    assert not (tmp_path / "runs.csv").exists()
    monkeypatch.chdir(tmp_path)  # the defaults: simlab-runs/<name> for both commands
    assert _run(["sweep", str(tiny), "--seeds", "1", "--until", "1m", "--workers", "1",
                 "--no-progress"], capsys)[0] == 0
    assert (tmp_path / "simlab-runs" / "tiny-sweep" / "runs.csv").is_file()
    assert _run(["run", str(tiny), "--until", "1m", "--no-figures"], capsys)[0] == 0
    assert (tmp_path / "simlab-runs" / "tiny" / "summary.json").is_file()


def test_object_columns_are_written_as_json(tmp_path, capsys) -> None:
    from simlab.cli import _json_objects

    df = pd.DataFrame({"n": [1, 2, 3], "output": [{"statusCode": 200, "ok": False}, None,
                                                   [1, "a"]]})
    written = _json_objects(df)
    assert written["output"].tolist() == ['{"statusCode": 200, "ok": false}', None, '[1, "a"]']
    assert written["n"].tolist() == [1, 2, 3] and df["output"][0] == {"statusCode": 200,
                                                                       "ok": False}
    path = tmp_path / "t.csv"
    written.to_csv(path, index=False)
    back = pd.read_csv(path)["output"]
    assert json.loads(back[0]) == {"statusCode": 200, "ok": False} and back.isna()[1]


def test_run_writes_handler_outputs_as_json(tmp_path, capsys) -> None:
    out = tmp_path / "api"
    assert _run(["run", "api_backend", "--until", "2m", "--seed", "1", "--out", str(out),
                 "--no-figures"], capsys)[0] == 0
    outputs = pd.read_csv(out / "invocations.csv")["output"].dropna()
    assert len(outputs) > 0
    parsed = [json.loads(text) for text in outputs]
    assert any(isinstance(o, dict) and "statusCode" in o for o in parsed)


def test_help_imports_neither_numpy_nor_pandas() -> None:
    code = ("import sys\nfrom simlab.cli import main\ntry:\n    main(['run', '--help'])\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in ('numpy', 'pandas', 'simpy') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_check(tiny, capsys) -> None:
    code, text, _ = _run(["check", str(tiny)], capsys)
    assert code == 0 and "ok (1 functions, 1 sources, sweep of 2 grid points)" in text


def test_scenarios_lists_the_built_in_ones(capsys) -> None:
    from simlab.aws import scenarios

    code, text, _ = _run(["scenarios"], capsys)
    assert code == 0
    for name in scenarios.list_scenarios():
        assert name in text


def _built_in() -> list[str]:
    try:
        from simlab.aws import scenarios
    except ImportError:  # pragma: no cover
        return []
    return list(scenarios.list_scenarios())


@pytest.mark.slow  # every built-in scenario in full, about a minute together
@pytest.mark.parametrize("name", _built_in())
def test_every_built_in_scenario_runs(name, tmp_path, capsys) -> None:
    out = tmp_path / name
    code, text, _ = _run(["run", name, "--until", "10m", "--seed", "1", "--out", str(out),
                          "--no-figures"], capsys)
    assert code == 0
    doc = json.loads((out / "summary.json").read_text())
    assert doc["scenario"] == name and doc["seed"] == 1 and doc["until_s"] == 600.0
    assert (out / "invocations.csv").is_file() and (out / "bill.csv").is_file()


def test_example_files_run(tmp_path, capsys) -> None:
    for name in ("api.toml", "sweep_keepalive.toml"):
        code, _, _ = _run(["run", str(EXAMPLES / name), "--until", "10m", "--record",
                           "summary", "--out", str(tmp_path / name)], capsys)
        assert code == 0
        code, _, _ = _run(["check", str(EXAMPLES / name)], capsys)
        assert code == 0
