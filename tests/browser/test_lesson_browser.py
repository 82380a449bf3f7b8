"""Every lesson in a real browser: JupyterLab runs each notebook, a student's view is checked.

Debian's chromium, driven by the Python playwright package (never ``playwright install``):

1. one JupyterLab on a free loopback port with a token, over copies of the lessons
   (``notebooks/NN_*.ipynb``) in a temporary folder (so the repository's notebooks are never
   saved over), with its own settings (news toast, autosave and windowed rendering off) and
   workspaces; one browser and one page at a 1,280 px window with the file browser open, in
   which each lesson is opened in turn (the application is loaded once);
2. for each lesson: open it, wait for its kernel, clear the stored outputs, Run All, wait until
   the run is over; then check what a student sees (see :func:`test_every_lesson_in_jupyterlab`),
   move each control of the first dashboard, save a screenshot to ``artifacts/`` (git-ignored);
   every lesson is driven even when one fails, and all problems are reported together;
3. Voila renders lesson 1 as an app; the dashboard must appear with its readout.

Every server started here is stopped in a ``finally``; every wait has a limit. Without
/usr/bin/chromium the test is skipped, unless ``CI=true``, where it fails.
"""

from __future__ import annotations

import contextlib
import json
import math
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
from markdown_money import dollar_amounts, holds_math

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "notebooks/01_cold_and_warm_starts.ipynb"  # the one Voila renders
#: Every lesson (a lesson split in parts is several notebooks), in order.
#: ``SIMLAB_BROWSER_LESSONS=01,04`` drives only the lessons whose names start so (while working on
#: them); the full run needs them all.
ONLY = [p for p in os.environ.get("SIMLAB_BROWSER_LESSONS", "").split(",") if p]
LESSONS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb")
                 if not ONLY or p.name.startswith(tuple(ONLY)))
WINDOW_PX = 1280
MIN_TRACK_PX = 200
RUN_ALL_LIMIT_S = 420
#: Code cells whose output must fit the notebook without a horizontal scroll (other wide outputs,
#: such as a table of many columns, are listed in the report as notes).
MUST_FIT = ("price_sheet_table(",)
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]
STEP_TIMEOUT_MS = 90_000
DASHBOARD = ".simlab-dashboard"
CONCEPT = ".simlab-concept"  # a concept check (simlab.course.concept_checks)


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
    """A temporary root holding copies of the lessons, Jupyter folders and an environment."""
    _require_browser()
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "root"
    (root / "notebooks").mkdir(parents=True)
    for notebook in {*LESSONS, NOTEBOOK}:  # Voila's lesson, even if SIMLAB_BROWSER_LESSONS skips it
        shutil.copy(ROOT / notebook, root / notebook)
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


# -- driving a lesson --------------------------------------------------------------------------
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
_COMMAND_JS = "c => { window.jupyterapp.commands.execute(c); }"
# Run All has finished: the kernel is idle and every code cell ran, or one failed (the cells after
# a failure are not run).
_RUN_STATE_JS = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const kernel = panel.sessionContext.session?.kernel;
    const code = panel.content.widgets.filter(c => c.model.type === 'code');
    const ran = code.filter(c => c.model.executionCount !== null).length;
    const queued = code.filter(c => c.model.executionState === 'running').length;
    const failed = code.some(c => c.model.outputs.toJSON().some(o => o.output_type === 'error'));
    return {idle: kernel?.status === 'idle', ran, queued, total: code.length, failed};
}"""
# Per cell: its source, its rendered text, typeset math, errors and what runs wider than the page.
_CELLS_JS = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const page = panel.content.node.getBoundingClientRect();
    const wide = (el) => el.getBoundingClientRect().right > page.right + 1
        || el.scrollWidth > el.clientWidth + 1;
    return panel.content.widgets.map((c, i) => {
        const cell = {index: i, type: c.model.type, source: c.model.sharedModel.getSource(),
                      text: '', math: c.node.querySelectorAll('mjx-container').length,
                      errors: [], wide: []};
        if (c.model.type === 'markdown') {
            const r = c.node.querySelector('.jp-RenderedMarkdown');
            cell.text = r ? r.innerText : '';
            const parts = c.node.querySelectorAll(
                '.jp-RenderedMarkdown :is(p, li, h1, h2, h3, h4, table, blockquote)');
            for (const el of parts) if (wide(el)) cell.wide.push(el.innerText.slice(0, 80));
        } else if (c.model.type === 'code') {
            for (const o of c.model.outputs.toJSON())
                if (o.output_type === 'error') cell.errors.push(o.ename + ': ' + o.evalue);
            cell.text = c.node.querySelector('.jp-OutputArea')?.innerText ?? '';
            for (const el of c.node.querySelectorAll('.jp-OutputArea-output'))
                if (wide(el)) cell.wide.push(el.innerText.slice(0, 80));
        }
        return cell;
    });
}"""
# What the first dashboard shows: its readout and its figure (a digest of the image's source).
_SHOWN_JS = """d => {
    const src = d.querySelector('img')?.src ?? '';
    let h = 0;
    for (let i = 0; i < src.length; i += 7) h = (h * 31 + src.charCodeAt(i)) | 0;
    return (d.querySelector('.simlab-readout')?.innerHTML ?? '') + '|' + src.length + ':' + h;
}"""


def _open_lesson(page: Any, base: str, notebook: str, token: str) -> None:
    """Open ``notebook`` with the file browser showing and its kernel ready."""
    page.goto(f"{base}/lab/tree/{notebook}?reset&token={token}", timeout=STEP_TIMEOUT_MS)
    _wait_lesson_ready(page)


def _wait_lesson_ready(page: Any) -> None:
    """Wait until the current notebook's kernel is ready, with the file browser showing."""
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    page.wait_for_function("() => window.jupyterapp?.commands.isEnabled('notebook:run-all-cells')")
    page.evaluate("() => { window.jupyterapp.shell.activateById('filebrowser'); }")
    page.wait_for_function("() => !window.jupyterapp.shell.leftCollapsed")
    page.evaluate(_KERNEL_READY_JS)
    page.wait_for_function("() => window.__simlabReady === true")


# Close every open document without saving (the lessons are copies, and the run made them dirty:
# a dirty document would ask whether to save).
_CLOSE_ALL_JS = """() => {
    for (const w of Array.from(window.jupyterapp.shell.widgets('main'))) {
        if (w.context) w.context.model.dirty = false;
        w.close();
    }
}"""


def _switch_lesson(page: Any, notebook: str) -> None:
    """Open ``notebook`` in the JupyterLab already loaded in ``page`` (loading the application
    again for every lesson costs seconds of the browser's time), with its kernel ready."""
    page.evaluate(_CLOSE_ALL_JS)
    page.wait_for_function("() => !document.querySelector('.jp-NotebookPanel')")
    page.evaluate("p => { window.jupyterapp.commands.execute('docmanager:open', "
                  "{path: p, factory: 'Notebook'}); }", notebook)
    page.wait_for_function("p => window.jupyterapp.shell.currentWidget?.context?.path === p",
                           arg=notebook)
    _wait_lesson_ready(page)


def _run_all(page: Any, limit_s: float) -> dict[str, Any]:
    """Clear the stored outputs and Run All; wait until the run is over. Run All again if no cell
    was queued within 30 s (a request sent while the kernel connection settles can be lost)."""
    page.evaluate(_COMMAND_JS, "notebook:clear-all-cell-outputs")
    page.wait_for_function(f"() => ({_RUN_STATE_JS})().ran === 0")
    deadline = time.monotonic() + limit_s
    for attempt in range(3):
        page.evaluate(_COMMAND_JS, "notebook:run-all-cells")
        try:
            page.wait_for_function(f"() => (s => s.ran + s.queued > 0)(({_RUN_STATE_JS})())",
                                   timeout=30_000)
            break
        except Exception:
            if attempt == 2:
                raise
    while True:
        state = page.evaluate(_RUN_STATE_JS)
        if state["idle"] and (state["ran"] == state["total"] or state["failed"]):
            page.wait_for_timeout(1500)  # widgets render and MathJax typesets after the reply
            return state
        if time.monotonic() > deadline:
            return state
        page.wait_for_timeout(500)


def _wait_redraw(page: Any, dashboard: Any, before: str, limit_s: float = 120) -> str | None:
    """Wait until the dashboard shows something else than ``before`` and then stays the same for
    a second with the kernel idle; None if it never changed."""
    deadline = time.monotonic() + limit_s
    last, since = before, time.monotonic()
    while time.monotonic() < deadline:
        page.wait_for_timeout(250)
        now = dashboard.evaluate(_SHOWN_JS)
        idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count() > 0
        if now != last:
            last, since = now, time.monotonic()
        elif now != before and idle and time.monotonic() - since >= 1.0:
            return now
    return None


def _move(page: Any, control: Any) -> str:
    """Move a slider one step with the keyboard (down at its top) or pick a menu's next option;
    returns what was done."""
    select = control.locator("select")
    if select.count():
        options = select.locator("option")
        n = options.count()
        i = select.evaluate("s => s.selectedIndex")
        select.select_option(index=(i + 1) % n)
        return f"menu -> {options.nth((i + 1) % n).inner_text()}"
    readout = control.locator(".widget-readout")
    was = readout.inner_text() if readout.count() else ""
    handle = control.locator(".noUi-handle").first
    handle.scroll_into_view_if_needed()
    handle.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    if readout.count() and readout.inner_text() == was:
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("ArrowLeft")
        page.wait_for_timeout(300)
    return f"slider {was} -> {readout.inner_text() if readout.count() else '?'}"


def _check_first_dashboard(page: Any) -> list[str]:
    """Move each control of the lesson's first dashboard once (pressing Run where there is a Run
    button); each must change the readout or the figure."""
    problems = []
    dashboard = page.locator(DASHBOARD).first
    controls = dashboard.locator(".widget-slider, .widget-dropdown")
    run = dashboard.locator("button", has_text="Run")
    for k in range(controls.count()):
        control = controls.nth(k)
        label = control.locator(".widget-label").first.inner_text() or f"control {k + 1}"
        before = dashboard.evaluate(_SHOWN_JS)
        done = _move(page, control)
        if run.count():
            run.first.click()
        if _wait_redraw(page, dashboard, before) is None:
            problems.append(f"dashboard control {label!r} ({done}) changed neither the readout "
                            f"nor the figure")
    return problems


def _check_cells(cells: list[dict[str, Any]]) -> list[str]:
    """Errors, widget errors, markdown wider than the notebook, outputs that need a horizontal
    scroll where they must not (:data:`MUST_FIT`), dollar amounts not shown as text, typeset math
    outside the cells that hold math."""
    problems = []
    for c in cells:
        where = f"cell {c['index']} ({c['type']})"
        problems += [f"{where}: error output {e}" for e in c["errors"]]
        if c["type"] == "markdown" or any(name in c["source"] for name in MUST_FIT):
            problems += [f"{where}: wider than the notebook: {w!r}" for w in c["wide"]]
        if "Error displaying widget" in c["text"]:
            problems.append(f"{where}: Error displaying widget")
        if c["type"] == "markdown":
            missing = [a for a in dollar_amounts(c["source"]) if a not in c["text"]]
            if missing:
                problems.append(f"{where}: dollar amounts not shown as text: {missing}")
            if c["math"] and not holds_math(c["source"]):
                problems.append(f"{where}: typeset math in a cell without math: "
                                f"{c['text'][:80]!r}")
        elif c["math"]:
            problems.append(f"{where}: typeset math in an output: {c['text'][:80]!r}")
    return problems


def _check_page(page: Any, cells: list[dict[str, Any]], min_track_px: float) -> list[str]:
    """Everything a student would see wrong on the page, after Run All (see :func:`_check_cells`),
    every slider's track, and every concept check's option buttons and width."""
    problems = _check_cells(cells)
    for k, box in enumerate(page.locator(CONCEPT).all()):
        sizes = [r.bounding_box() for r in box.locator("input[type=radio]").all()]
        if len(sizes) < 3 or any(bb is None or bb["width"] < 8 for bb in sizes):
            problems.append(f"concept check {k + 1}: option buttons missing or too small")
        if box.evaluate("el => el.scrollWidth > el.clientWidth + 1"):
            problems.append(f"concept check {k + 1}: wider than its box (text does not wrap)")
    for k, box in enumerate(page.locator(".widget-slider .noUi-target").all()):
        bb = box.bounding_box()
        if bb is None or bb["width"] < min_track_px:
            problems.append(f"slider {k + 1}: track {0 if bb is None else bb['width']:.0f} px "
                            f"wide, under {min_track_px:g} px")
    return problems


def test_cell_checks_name_what_a_student_would_see_wrong() -> None:
    """The page checks, on cells as the browser reports them (no browser needed)."""
    def cell(kind: str, source: str, text: str = "", **kw: Any) -> dict[str, Any]:
        return {"index": 0, "type": kind, "source": source, "text": text, "math": 0,
                "errors": [], "wide": []} | kw

    good = [cell("markdown", r"costs \\$1.50 with $e^{-\lambda T}$", "costs $1.50 with e", math=1),
            cell("code", "table.round(3)", wide=["a wide table"]),
            cell("code", "lesson.price_sheet_table()")]
    assert _check_cells(good) == []
    bad = [cell("markdown", r"costs \$1.50 and \$0.55", "costs 1.50 and 0.55", math=1),
           cell("markdown", "a long line", "a long line", wide=["a long line"]),
           cell("code", "lesson.price_sheet_table()", wide=["sheet 2018"]),
           cell("code", "1 / 0", errors=["ZeroDivisionError: division by zero"]),
           cell("code", "show()", "Error displaying widget: model not found"),
           cell("code", "HTML('$1 and $2')", "1 and 2", math=1)]
    problems = _check_cells(bad)
    for expected in ("dollar amounts not shown as text: ['$1.50', '$0.55']",
                     "typeset math in a cell without math", "wider than the notebook: 'a long",
                     "wider than the notebook: 'sheet 2018'", "error output ZeroDivisionError",
                     "Error displaying widget", "typeset math in an output"):
        assert any(expected in p for p in problems), (expected, problems)


def test_every_lesson_in_jupyterlab(workspace: dict[str, Any], browser: Any) -> None:
    """Each lesson, in one JupyterLab and one browser: Run All, then what a student sees.

    Per lesson: no error output, no "Error displaying widget", every slider's track at least
    200 px wide at a 1,280 px window with the file browser open, every concept check's option
    buttons shown and its text wrapped within its box, each control of the first
    dashboard changes it, no markdown wider than the notebook, the price table without a
    horizontal scroll (other outputs that need one are listed as notes), every dollar amount of
    the source shown as text, no typeset math outside the cells that hold math. A screenshot per
    lesson goes to ``artifacts/``; all lessons' problems and timings are reported together (and
    written to ``artifacts/browser_report.json``).
    """
    port, token = _free_port(), workspace["token"]
    log = workspace["tmp"] / "jupyterlab.log"
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", "--ServerApp.port_retries=0", "--allow-root",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={workspace['root']}",
           f"--LabApp.app_settings_dir={workspace['settings']}", "--expose-app-in-browser"]
    report: dict[str, dict[str, Any]] = {}
    started = time.monotonic()
    with _server(cmd, workspace["env"], workspace["root"], log) as proc:
        base = f"http://127.0.0.1:{port}"
        _wait_http(f"{base}/api/status?token={token}", proc, log)
        page = None  # one page for every lesson; a new one after a lesson's drive failed
        try:
            for notebook in LESSONS:
                name = Path(notebook).stem
                t0 = time.monotonic()
                problems: list[str] = []
                notes: list[str] = []
                try:
                    if page is None:
                        page = browser.new_page(viewport={"width": WINDOW_PX, "height": 1000})
                        page.set_default_timeout(STEP_TIMEOUT_MS)
                        _open_lesson(page, base, notebook, token)
                    else:
                        _switch_lesson(page, notebook)
                    state = _run_all(page, RUN_ALL_LIMIT_S)
                    if not state["failed"] and state["ran"] < state["total"]:
                        problems.append(f"Run All ran {state['ran']} of {state['total']} code "
                                        f"cells in {RUN_ALL_LIMIT_S:g} s")
                    run_s = time.monotonic() - t0
                    cells = page.evaluate(_CELLS_JS)
                    problems += _check_page(page, cells, MIN_TRACK_PX)
                    notes += [f"cell {c['index']}: output needs a horizontal scroll: {w!r}"
                              for c in cells if c["type"] == "code"
                              and not any(name in c["source"] for name in MUST_FIT)
                              for w in c["wide"]]
                    if page.locator(DASHBOARD).count():
                        problems += _check_first_dashboard(page)
                        page.locator(DASHBOARD).first.scroll_into_view_if_needed()
                    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
                except Exception as exc:  # one lesson's failure must not hide the others'
                    problems.append(f"the drive failed: {type(exc).__name__}: {exc}")
                    run_s = math.nan
                    if page is not None:
                        with contextlib.suppress(Exception):
                            page.screenshot(path=str(ARTIFACTS / f"{name}_failure.png"),
                                            full_page=True)
                finally:
                    with contextlib.suppress(Exception):  # free the kernel's memory
                        page.evaluate("() => window.jupyterapp.shell.currentWidget"
                                      ".sessionContext.shutdown()")
                        page.wait_for_timeout(300)
                if math.isnan(run_s) and page is not None:
                    with contextlib.suppress(Exception):
                        page.close()
                    page = None
                report[name] = {"problems": problems, "notes": notes,
                                "run_all_s": round(run_s, 1),
                                "total_s": round(time.monotonic() - t0, 1)}
        finally:
            if page is not None:
                with contextlib.suppress(Exception):
                    page.close()
    total = time.monotonic() - started
    (ARTIFACTS / "browser_report.json").write_text(json.dumps(
        {"lessons": report, "total_s": round(total, 1)}, indent=1))
    lines = [f"{n}: {r['total_s']:.0f} s (Run All {r['run_all_s']} s), "
             f"{len(r['problems'])} problem(s)" + "".join(f"\n    - {p}" for p in r["problems"])
             + "".join(f"\n    (note) {p}" for p in r["notes"]) for n, r in report.items()]
    print(f"\n{len(report)} lessons in {total:.0f} s\n" + "\n".join(lines))
    assert ONLY or len(report) >= 10
    assert not any(r["problems"] for r in report.values()), "\n".join(lines)


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
