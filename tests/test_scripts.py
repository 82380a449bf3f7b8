"""The shell helpers of scripts/: apt waits for another apt run's lock, install stamps are shared.

apt-get is replaced by a stub on PATH that logs its arguments, so nothing is installed. The real
lock wait is checked by hand with ``scripts/check_apt_lock.sh`` (see README, Development).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "scripts" / "lib.sh"


def _bash(script: str, path_dir: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, **env}
    if path_dir is not None:
        environ["PATH"] = f"{path_dir}{os.pathsep}{environ['PATH']}"
    return subprocess.run(["bash", "-c", f"set -euo pipefail; source {LIB}; {script}"],
                          capture_output=True, text=True, env=environ, timeout=60)


def _stub_apt(tmp_path: Path, fail_first_install: bool) -> tuple[Path, Path]:
    """An apt-get that logs its arguments; the first install fails if asked (no package lists)."""
    bin_dir, log = tmp_path / "bin", tmp_path / "apt.log"
    bin_dir.mkdir()
    stub = bin_dir / "apt-get"
    fail = "1" if fail_first_install else "0"
    stub.write_text(
        "#!/usr/bin/env bash\n"
        f'echo "$*" >> {log}\n'
        f'if [ {fail} = 1 ] && [ "$3" = install ] && [ "$(grep -c " install " {log})" = 1 ]; '
        'then\n'
        '  echo "E: Unable to locate package chromium" >&2; exit 100\nfi\n')
    stub.chmod(0o755)
    return bin_dir, log


@pytest.mark.parametrize("fail_first_install", [False, True])
def test_apt_install_waits_for_the_lock_and_updates_only_when_needed(
        tmp_path: Path, fail_first_install: bool) -> None:
    bin_dir, log = _stub_apt(tmp_path, fail_first_install)
    done = _bash("is_root() { return 0; }; apt_install chromium", bin_dir,
                 SIMLAB_APT_LOCK_TIMEOUT="77")
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines()
    expected = ["install", "update", "install"] if fail_first_install else ["install"]
    assert [c.split()[2] for c in calls] == expected
    for call in calls:
        assert call.startswith("-o DPkg::Lock::Timeout=77 "), call


def test_apt_install_reports_a_failure(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "apt-get").write_text("#!/usr/bin/env bash\necho 'E: Could not get lock' >&2\n"
                                     "exit 100\n")
    (bin_dir / "apt-get").chmod(0o755)
    done = _bash("is_root() { return 0; }; apt_install chromium", bin_dir)
    assert done.returncode != 0
    assert "Could not get lock" in done.stderr and "apt-get failed" in done.stderr


def test_apt_install_needs_root(tmp_path: Path) -> None:
    bin_dir, log = _stub_apt(tmp_path, False)
    assert _bash("is_root() { return 1; }; apt_install chromium", bin_dir).returncode != 0
    assert not log.exists()


def test_one_stamp_covers_both_scripts(tmp_path: Path) -> None:
    """After test.sh's install (test,dev), course.sh's (no extras) installs nothing; a request
    for more extras installs the union."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(Path(sys.executable))
    (venv / "bin" / "uv").write_text(f'#!/usr/bin/env bash\necho "$*" >> {tmp_path}/uv.log\n')
    (venv / "bin" / "uv").chmod(0o755)
    setup = (f'VENV={venv}; VPY="$VENV/bin/python"; quiet_jupyterlab() {{ :; }}; '
             'ensure_venv "$EXTRAS"')
    for extras in ["test,dev", "", "dev", "dev, test"]:
        done = _bash(setup, EXTRAS=extras)
        assert done.returncode == 0, done.stderr
    uv = (tmp_path / "uv.log").read_text().splitlines()
    assert len(uv) == 1 and uv[0].endswith("-e .[dev,test]"), uv
    assert _bash(setup, EXTRAS="docs").returncode == 0
    uv = (tmp_path / "uv.log").read_text().splitlines()
    assert len(uv) == 2 and uv[1].endswith("-e .[dev,docs,test]"), uv
    assert (venv / ".simlab-install-stamp").read_text().endswith(" dev,docs,test")


def test_test_script_rejects_unknown_options() -> None:
    done = subprocess.run(["bash", str(ROOT / "scripts" / "test.sh"), "--bogus"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "--bogus" in done.stderr
