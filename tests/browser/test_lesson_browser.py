"""Lesson 1 in a real browser: JupyterLab runs the notebook, a slider moves, the figure redraws.

Debian's chromium, driven by the Python playwright package (never ``playwright install``):

1. JupyterLab on a free loopback port with a token, over a copy of the notebook in a temporary
   folder (so the repository's notebook is never saved over), with its own settings (news toast,
   autosave and windowed rendering off) and workspaces;
2. open lesson 1, clear its stored outputs, run all cells, wait for the live dashboard; click the
   keep-alive slider's handle and press ArrowRight; the slider's readout, the dashboard's
   readout and the figure (its ``img`` source) must all change; a screenshot goes to
   ``artifacts/`` (git-ignored);
3. Voilà renders the same notebook as an app; the dashboard must appear with its readout.

Every server started here is stopped in a ``finally``; every request has a timeout. Without
/usr/bin/chromium the test is skipped, unless ``CI=true``, where it fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "notebooks/01_cold_and_warm_starts.ipynb"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]
STEP_TIMEOUT_MS = 90_000
DASHBOARD = ".simlab-dashboard"


def _require_browser() -> None:
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright Python package")
    if missing:
        why = "the browser test needs " + " and ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(why + "; it must run in CI")
        pytest.skip(why)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, limit_s: float = 90) -> None:
    """Poll ``url`` (2 s per request) until it answers 200, or fail with the server's log."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        time.sleep(0.3)
    pytest.fail(f"server not ready after {limit_s:g} s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def _server(cmd: list[str], env: dict[str, str], cwd: Path, log: Path) -> Iterator[Any]:
    """Run ``cmd`` in a new process group; on exit stop it (and the kernels it started)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # Jupyter shuts its kernels down on SIGINT x2
            time.sleep(0.2)
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # anything left in the group (kernels)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A temporary root holding a copy of the notebook, Jupyter folders and an environment."""
    _require_browser()
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "root"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / NOTEBOOK, root / NOTEBOOK)
    settings = tmp / "app-settings"
    settings.mkdir()
    (settings / "overrides.json").write_text(json.dumps({
        "@jupyterlab/apputils-extension:notification": {"fetchNews": "false",
                                                        "checkForUpdates": False},
        "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
        # Every cell in the page: by default cells scrolled out of view leave the DOM.
        "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
    }))
    env = dict(os.environ)
    env.update({
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp / "user-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
        "PYTHONUNBUFFERED": "1",
    })
    ARTIFACTS.mkdir(exist_ok=True)
    return {"tmp": tmp, "root": root, "settings": settings, "env": env,
            "token": secrets.token_hex(16)}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def _image_src(page: Any) -> str:
    return page.locator(f"{DASHBOARD} img").first.get_attribute("src") or ""


def _wait_stable_image(page: Any, before: str, limit_s: float = 60) -> str:
    """Wait until the figure differs from ``before`` and then stays the same for 1.5 s."""
    deadline = time.monotonic() + limit_s
    last, since = _image_src(page), time.monotonic()
    while time.monotonic() < deadline:
        page.wait_for_timeout(250)
        now = _image_src(page)
        if now != last:
            last, since = now, time.monotonic()
        elif now != before and now and time.monotonic() - since >= 1.5:
            return now
    pytest.fail("the figure did not redraw (or kept changing) after the slider moved")


@contextlib.contextmanager
def _page(browser: Any, name: str, **kwargs: Any) -> Iterator[Any]:
    """A new page; on failure its screenshot is saved as ``artifacts/<name>_failure.png``."""
    page = browser.new_page(**kwargs)
    page.set_default_timeout(STEP_TIMEOUT_MS)
    try:
        yield page
    except BaseException:
        with contextlib.suppress(Exception):
            page.screenshot(path=str(ARTIFACTS / f"{name}_failure.png"), full_page=True)
        raise
    finally:
        page.close()


# Set a flag once the notebook's kernel has answered (promises are not awaited by evaluate(),
# which has no timeout; the flag is waited for with one).
_KERNEL_READY_JS = """() => {
    window.__simlabReady = false;
    const panel = window.jupyterapp.shell.currentWidget;
    panel.context.ready
        .then(() => panel.sessionContext.ready)
        .then(() => panel.sessionContext.session.kernel.info)
        .then(() => { window.__simlabReady = true; });
}"""


def _run_all_cells(page: Any, attempts: int = 3) -> None:
    """Clear the stored outputs, then Run > Run All Cells (the menu's command) once the kernel is
    ready, until the live dashboard appears; run again if it did not within 60 s (a request sent
    while the kernel connection settles can be lost)."""
    page.wait_for_function("() => window.jupyterapp?.commands.isEnabled('notebook:run-all-cells')")
    page.evaluate(_KERNEL_READY_JS)
    page.wait_for_function("() => window.__simlabReady === true")
    run = "() => {{ window.jupyterapp.commands.execute('notebook:{}'); }}"
    page.evaluate(run.format("clear-all-cell-outputs"))
    page.wait_for_function(f"() => !document.querySelector('{DASHBOARD}')")
    for attempt in range(attempts):
        page.evaluate(run.format("run-all-cells"))
        try:
            page.wait_for_selector(f"{DASHBOARD} .simlab-readout", timeout=60_000)
            return
        except Exception:
            if attempt == attempts - 1:
                raise


def test_lesson1_dashboard_in_jupyterlab(workspace: dict[str, Any], browser: Any) -> None:
    port, token = _free_port(), workspace["token"]
    log = workspace["tmp"] / "jupyterlab.log"
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", "--ServerApp.port_retries=0", "--allow-root",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={workspace['root']}",
           f"--LabApp.app_settings_dir={workspace['settings']}", "--expose-app-in-browser"]
    with _server(cmd, workspace["env"], workspace["root"], log) as proc:
        base = f"http://127.0.0.1:{port}"
        _wait_http(f"{base}/api/status?token={token}", proc, log)
        view = {"width": 1400, "height": 1100}
        with _page(browser, "lesson01_jupyterlab", viewport=view) as page:
            page.goto(f"{base}/lab/tree/{NOTEBOOK}?reset&token={token}", timeout=STEP_TIMEOUT_MS)
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
            _run_all_cells(page)
            slider = page.locator(f"{DASHBOARD} .widget-slider").first
            slider.wait_for()
            readout = page.locator(f"{DASHBOARD} .simlab-readout")
            page.wait_for_function(
                "s => document.querySelector(s)?.innerText.includes('keep-alive 6 min')",
                arg=f"{DASHBOARD} .simlab-readout")
            page.locator(f"{DASHBOARD} img").first.wait_for()
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
            before = _image_src(page)
            assert before.startswith("data:image/png") or before.startswith("blob:")
            assert slider.locator(".widget-readout").inner_text().strip() == "6"

            slider.locator(".noUi-handle").scroll_into_view_if_needed()
            slider.locator(".noUi-handle").click()
            page.keyboard.press("ArrowRight")

            page.wait_for_function(
                "s => document.querySelector(s)?.innerText.includes('keep-alive 7 min')",
                arg=f"{DASHBOARD} .simlab-readout")
            after = _wait_stable_image(page, before)
            assert after != before
            assert slider.locator(".widget-readout").inner_text().strip() == "7"
            text = readout.inner_text()
            assert "keep-alive 7 min" in text and "cold-start fraction" in text
            dashboard = page.locator(DASHBOARD).first
            dashboard.scroll_into_view_if_needed()
            dashboard.screenshot(path=str(ARTIFACTS / "lesson01_dashboard_jupyterlab.png"))
            page.screenshot(path=str(ARTIFACTS / "lesson01_jupyterlab.png"))


def test_lesson1_renders_in_voila(workspace: dict[str, Any], browser: Any) -> None:
    port, token = _free_port(), workspace["token"]
    log = workspace["tmp"] / "voila.log"
    voila = Path(sys.executable).with_name("voila")
    # A cell timeout bounds a known stall of nbclient (which Voila runs cells with): a missed
    # wake-up on the kernel's reply that otherwise lasts as long as the timeout, or forever.
    cmd = [str(voila) if voila.exists() else "voila", NOTEBOOK, "--no-browser",
           f"--port={port}", "--Voila.ip=127.0.0.1", f"--token={token}",
           "--VoilaExecutor.timeout=20"]
    with _server(cmd, workspace["env"], workspace["root"], log) as proc:
        base = f"http://127.0.0.1:{port}"
        # A static file: asking for the page itself would start a kernel.
        _wait_http(f"{base}/voila/static/index.css", proc, log)
        with _page(browser, "lesson01_voila", viewport={"width": 1300, "height": 1000}) as page:
            page.goto(f"{base}/?token={token}", timeout=STEP_TIMEOUT_MS, wait_until="commit")
            page.wait_for_function(
                "s => document.querySelector(s)?.innerText.includes('cold-start fraction')",
                arg=f"{DASHBOARD} .simlab-readout")
            page.locator(f"{DASHBOARD} img").first.wait_for()
            assert page.locator(f"{DASHBOARD} .widget-slider").count() == 2
            assert "Lesson 1" in page.content()
            page.locator(DASHBOARD).first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "lesson01_voila.png"))
