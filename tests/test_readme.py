"""The README works as written: its Python snippets and shell commands run, and print what it shows.

Conventions of README.md that this file relies on:

* a fenced ``text`` block right after a ``python`` or ``bash`` block is what that block prints,
  compared exactly (trailing spaces aside);
* shell commands are written as a fresh shell after the quick start runs them, from the
  repository root, through ``.venv/bin/``; they run here in a scratch folder holding links to the
  repository's folders (so what they write stays out of the repository), with ``.venv/bin`` off
  the PATH and no virtual environment active;
* the commands not run here are listed in :data:`NOT_RUN` with the reason; inline commands
  (``.venv/bin/...`` in tables and text) that would run for minutes are checked with ``--help``
  or ``--collect-only`` instead, which catches a wrong path, module or option.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
TEXT = README.read_text(encoding="utf-8")
LINKED = ["examples", "benchmarks", "notebooks", "tests", "scripts", ".venv", "simlab",
          "pyproject.toml"]

#: Commands of the README's shell blocks that are not run here, and why.
NOT_RUN = {
    "bash scripts/course.sh": "starts JupyterLab, which runs until stopped",
    "bash scripts/test.sh": "the test command itself, which runs this file",
    "bash scripts/test.sh --quick": "the test command itself, which runs this file",
    "sudo bash scripts/check_apt_lock.sh": "holds the machine's dpkg lock for a minute",
    "conda env create -f environment.yml": "needs conda and the network (checked offline by "
                                           "tests/test_packaging.py)",
    "conda activate simlab": "needs conda",
}


@dataclass
class Block:
    lang: str
    body: str
    output: str | None  # the text block right after it, if any


def _blocks() -> list[Block]:
    found = re.findall(r"^[ \t]*```(\w*)\n(.*?)^[ \t]*```", TEXT, flags=re.M | re.S)
    blocks: list[Block] = []
    for i, (lang, body) in enumerate(found):
        if lang == "text":
            continue
        follows = found[i + 1] if i + 1 < len(found) else None
        output = follows[1] if follows and follows[0] == "text" else None
        if output is not None:
            # Only when nothing but a line of prose separates the two blocks.
            between = TEXT.split(f"```{lang}\n{body}", 1)[1].split(f"```text\n{output}", 1)[0]
            if len(between.strip().splitlines()) > 3:
                output = None
        blocks.append(Block(lang, body, output))
    return blocks


BLOCKS = _blocks()
PYTHON = [b for b in BLOCKS if b.lang == "python"]
SHELL = [b for b in BLOCKS if b.lang == "bash"]


def _same(printed: str, shown: str) -> None:
    def lines(text: str) -> list[str]:
        return [line.rstrip() for line in text.rstrip("\n").splitlines()]

    assert lines(printed) == lines(shown), (
        f"the README shows\n{shown}\nbut the code prints\n{printed}")


def _commands(block: Block) -> list[str]:
    out = []
    for line in block.body.splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder that looks like the repository root to the commands, but is not it."""
    folder = tmp_path_factory.mktemp("readme")
    for name in LINKED:
        if (ROOT / name).exists():
            (folder / name).symlink_to(ROOT / name)
    return folder


def _fresh_shell_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    venv_bin = str(ROOT / ".venv" / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and Path(p).resolve() != Path(venv_bin).resolve())
    env["MPLBACKEND"] = "Agg"
    return env


def _sh(command: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=_fresh_shell_env(),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)


def test_the_readme_has_snippets_commands_and_outputs() -> None:
    assert len(PYTHON) >= 3 and len(SHELL) >= 3
    assert sum(b.output is not None for b in PYTHON) >= 2
    assert sum(b.output is not None for b in SHELL) >= 1


@pytest.mark.parametrize("block", PYTHON, ids=[f"python-{i}" for i in range(len(PYTHON))])
def test_python_snippet_runs_and_prints_what_the_readme_shows(block: Block, scratch: Path,
                                                              monkeypatch) -> None:
    monkeypatch.chdir(scratch)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(block.body, str(README), "exec"), {})  # noqa: S102 - our own documentation
    if block.output is not None:
        _same(printed.getvalue(), block.output)


def test_every_shell_command_is_run_or_excused() -> None:
    commands = [c for b in SHELL for c in _commands(b)]
    for command in commands:
        if command in NOT_RUN:
            continue
        assert command.startswith(".venv/bin/"), (
            f"{command!r}: write it as it runs in a fresh shell after the quick start "
            f"(.venv/bin/...), or list it in NOT_RUN with the reason")
    for command in NOT_RUN:
        assert command in commands, f"NOT_RUN lists {command!r}, which the README lacks"
        script = next((w for w in shlex.split(command) if w.endswith((".sh", ".yml"))), None)
        if script:
            assert (ROOT / script).is_file(), f"{command!r}: {script} does not exist"


@pytest.mark.slow  # each command is a fresh process that imports simlab and runs
@pytest.mark.parametrize("block", SHELL, ids=[f"bash-{i}" for i in range(len(SHELL))])
def test_shell_block_runs_and_prints_what_the_readme_shows(block: Block, scratch: Path) -> None:
    printed = []
    for command in _commands(block):
        if command in NOT_RUN:
            continue
        done = _sh(command, scratch)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        printed.append(done.stdout)
    if block.output is not None:
        _same("".join(printed), block.output)


# Inline commands: `.venv/bin/...` in tables and prose.
INLINE = sorted(set(re.findall(r"`(\.venv/bin/[^`]+)`", TEXT)))


def _cheap(command: str) -> str:
    """The command, or a cheap check of it when it would run for minutes."""
    words = shlex.split(command)
    if words[0] == ".venv/bin/python" and words[1].startswith("benchmarks/"):
        return f"{shlex.join(words[:2])} --help"  # each simulates millions of invocations
    if words[:3] == [".venv/bin/python", "-m", "pytest"]:
        return f"{command} --collect-only -q"  # the tests themselves run in the test command
    if words[0] == ".venv/bin/voila":  # a web server; its --help alone imports Jupyter's stack
        return f"test -x {words[0]} && ls {shlex.join(words[2:])}"
    return command


def test_inline_commands_exist() -> None:
    assert any("benchmarks/" in c for c in INLINE) and any("pytest" in c for c in INLINE)


@pytest.mark.slow  # a fresh process each; the pytest ones collect the whole suite
@pytest.mark.parametrize("command", INLINE)
def test_inline_command_works_as_written(command: str, scratch: Path) -> None:
    words = shlex.split(command)
    if len(words) == 1:  # a program named in prose: `.venv/bin/`, `.venv/bin/simlab`
        assert (scratch / words[0]).exists(), f"{command} does not exist"
        return
    done = _sh(_cheap(command), scratch)
    assert done.returncode == 0, f"{_cheap(command)}\n{done.stdout[-2000:]}\n{done.stderr}"
