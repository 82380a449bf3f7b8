"""Packaging and CI consistency: pyproject.toml vs environment.yml, README quick start, .ci/run.

conda cannot be solved in CI, so environment.yml is checked offline: its package names (normalised
like PyPI names) and lower bounds must match pyproject.toml's runtime dependencies plus the
``test`` extra, and its Python lower bound must match ``requires-python``.
"""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]

# PyPI name -> conda-forge name, for packages whose names differ (none of the current ones do:
# simpy, numpy, pandas, scipy, matplotlib, ipywidgets, jupyterlab, tqdm, pytest, nbval, hypothesis
# and pyyaml are all published under the same name on conda-forge).
PYPI_TO_CONDA: dict[str, str] = {}
CONDA_TO_PYPI = {canonicalize_name(v): canonicalize_name(k) for k, v in PYPI_TO_CONDA.items()}
CONDA_ONLY = {"python", "pip"}  # not packages of pyproject's dependency lists

QUICK_START = ["bash scripts/course.sh", "bash scripts/test.sh"]
SANITIZER = ROOT / "tests" / "nbval_sanitize.cfg"


def _pyproject() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def _environment() -> dict:
    with open(ROOT / "environment.yml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def _conda_spec(spec: str) -> tuple[str, SpecifierSet]:
    """Split a conda match spec such as ``numpy>=1.26`` into a PyPI-normalised name and bounds."""
    match = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*?)\s*", spec)
    assert match, f"cannot parse conda spec {spec!r}"
    name, version = match.groups()
    name = canonicalize_name(name)
    return CONDA_TO_PYPI.get(name, name), SpecifierSet(version.replace(" ", ""))


def _pyproject_requirements() -> dict[str, SpecifierSet]:
    project = _pyproject()["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    reqs += [Requirement(r) for r in project["optional-dependencies"]["test"]]
    return {canonicalize_name(r.name): r.specifier for r in reqs}


def _environment_requirements() -> tuple[dict[str, SpecifierSet], list]:
    conda, pip = {}, []
    for entry in _environment()["dependencies"]:
        if isinstance(entry, dict):
            pip.extend(entry.get("pip", []))
            continue
        name, spec = _conda_spec(entry)
        assert name not in conda, f"{name} is listed twice in environment.yml"
        conda[name] = spec
    return conda, pip


def _lower_bound(spec: SpecifierSet) -> str | None:
    bounds = [s.version for s in spec if s.operator == ">="]
    return bounds[0] if len(bounds) == 1 else None


# --------------------------------------------------------------------------------------------------
# pyproject.toml vs environment.yml
# --------------------------------------------------------------------------------------------------


def test_environment_is_the_conda_forge_simlab_environment() -> None:
    env = _environment()
    assert env["name"] == "simlab"
    assert env["channels"] == ["conda-forge"]
    _, pip = _environment_requirements()
    assert pip == ["-e ."], "environment.yml should install simlab itself with `pip: [-e .]`"


def test_environment_lists_the_same_packages_as_pyproject() -> None:
    wanted = _pyproject_requirements()
    conda, _ = _environment_requirements()
    listed = {name: spec for name, spec in conda.items() if name not in CONDA_ONLY}
    missing = sorted(set(wanted) - set(listed))
    extra = sorted(set(listed) - set(wanted))
    assert not missing, f"in pyproject.toml but not in environment.yml: {missing}"
    assert not extra, f"in environment.yml but not in pyproject.toml: {extra}"


def test_environment_has_the_same_lower_bounds_as_pyproject() -> None:
    wanted = _pyproject_requirements()
    conda, _ = _environment_requirements()
    differ = {
        name: (str(wanted[name]), str(conda[name]))
        for name in wanted
        if name in conda and wanted[name] != conda[name]
    }
    assert not differ, f"version bounds differ (pyproject, environment.yml): {differ}"
    for name, spec in wanted.items():
        assert _lower_bound(spec), f"{name} needs exactly one lower bound (>=), got {spec}"
        assert not any(s.operator == "==" for s in spec), f"{name} is pinned exactly: {spec}"


def test_python_lower_bound_agrees() -> None:
    requires = SpecifierSet(_pyproject()["project"]["requires-python"])
    conda, _ = _environment_requirements()
    assert "python" in conda, "environment.yml must pin python"
    assert _lower_bound(requires) is not None
    assert _lower_bound(conda["python"]) == _lower_bound(requires)


def test_conda_spec_parser() -> None:
    assert _conda_spec("numpy>=1.26") == ("numpy", SpecifierSet(">=1.26"))
    assert _conda_spec("PyYAML >=6.0") == ("pyyaml", SpecifierSet(">=6.0"))
    assert _conda_spec("pip") == ("pip", SpecifierSet(""))


# --------------------------------------------------------------------------------------------------
# README quick start and CI entry point
# --------------------------------------------------------------------------------------------------


def _section(markdown: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\s*$(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    assert match, f"README.md has no '## {title}' section"
    return match.group(1)


def _commands_in(markdown: str) -> list[str]:
    """Non-empty, non-comment lines of the fenced code blocks in ``markdown``."""
    blocks = re.findall(r"^[ \t]*```[^\n]*\n(.*?)^[ \t]*```", markdown, re.M | re.S)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_readme_quick_start_has_exactly_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert _commands_in(_section(readme, "Quick start")) == QUICK_START
    for command in QUICK_START:
        script = ROOT / command.split()[-1]
        assert script.is_file(), f"{command}: {script} does not exist"


def test_ci_runs_the_readme_test_command() -> None:
    run = ROOT / ".ci" / "run"
    text = run.read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines()]
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in lines
    commands = [line.removeprefix("exec ") for line in lines if line and not line.startswith("#")]
    assert QUICK_START[1] in commands, f".ci/run must call `{QUICK_START[1]}`"
    assert os.access(run, os.X_OK), ".ci/run must be executable"


@pytest.mark.parametrize("script", ["scripts/lib.sh", "scripts/course.sh", "scripts/test.sh",
                                    ".ci/run"])
def test_shell_scripts_parse(script: str) -> None:
    done = subprocess.run(["bash", "-n", str(ROOT / script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_test_script_runs_every_check() -> None:
    text = (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")
    assert "ruff\" check" in text or "ruff check" in text
    assert "lint-imports" in text, "the import-linter contracts must be checked"
    assert '-m pytest tests' in text
    assert "-m pytest tests/browser" in text, "the browser test step is missing"
    nbval = re.search(r"-m pytest --nbval .*?notebooks/", text, re.S)
    assert nbval, "the notebooks step is missing"
    for option in ["--nbval-current-env", "--nbval-sanitize-with tests/nbval_sanitize.cfg",
                   "--nbval-cell-timeout=120"]:
        assert option in nbval.group(0)
    # xdist's default distribution would split one notebook's cells over workers (each with its
    # own kernel): the notebooks may run on several workers only one whole notebook at a time.
    assert " -n " not in nbval.group(0), "give nbval xdist's options through ${xdist[@]}"
    assert "xdist=(-n auto --dist loadfile)" in text
    assert re.search(r'"\$\w+" = 5 \] && \[ "\$\{ALLOW_EMPTY', text), \
        "pytest's exit code 5 (nothing collected) must be handled"


# --------------------------------------------------------------------------------------------------
# nbval sanitizer
# --------------------------------------------------------------------------------------------------


def _sanitize(text: str) -> str:
    patterns = re.findall(r"^regex: (.*)$\n^replace: (.*)$", SANITIZER.read_text(encoding="utf-8"),
                          flags=re.M)  # the same parsing as nbval's get_sanitize_patterns
    assert len(patterns) >= 6
    for regex, replace in patterns:
        text = re.sub(regex, replace, text)
    return text


@pytest.mark.parametrize(
    ("run1", "run2"),
    [
        ("<simlab.Simulation object at 0x7f3a2c1b9d90>", "<simlab.Simulation object at 0x7f00aa>"),
        ("<Figure size 640x480 with 1 Axes>", "<Figure size 1200x400 with 1 Axes>"),
        ("CPU times: user 1.2 s, sys: 10 ms, total: 1.21 s\nWall time: 1.3 s",
         "CPU times: user 980 ms, sys: 5 ms, total: 985 ms\nWall time: 990 ms"),
        ("12.3 ms ± 1.1 ms per loop (mean ± std. dev. of 7 runs, 100 loops each)",
         "9.8 ms ± 402 µs per loop (mean ± std. dev. of 7 runs, 100 loops each)"),
        ("simulated 10,000 invocations in 0.12 s", "simulated 10,000 invocations in 0.31 s"),
        ("run took 15.2 ms", "run took 9.7 ms"),
        ("simulating:  45%|████▌     | 45/100 [00:01<00:01, 40.1it/s]",
         "simulating:  45%|████▌     | 45/100 [00:02<00:03, 21.7it/s]"),
        ("123it [00:01, 95.3it/s]", "123it [00:03, 41.0it/s]"),
    ],
)
def test_sanitizer_masks_what_changes_between_runs(run1: str, run2: str) -> None:
    assert run1 != run2
    assert _sanitize(run1) == _sanitize(run2)


@pytest.mark.parametrize(
    "text",
    [
        "REPORT RequestId: 6f1c Duration: 1991.00 ms Billed Duration: 2000 ms Memory Size: 512 MB",
        "cold_start_fraction    0.0312",
        "billed in 100 ms steps",
        "IntSlider(value=600, description='keep-alive (s)', max=3600)",
    ],
)
def test_sanitizer_keeps_simulated_numbers(text: str) -> None:
    assert _sanitize(text) == text
