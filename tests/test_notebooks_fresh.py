"""No committed notebook carries stale outputs.

The course's notebooks are committed with their outputs, so that they read well without running.
Those outputs must be what the code gives today. Two checks:

* static, for every notebook: every code cell was executed in one top-to-bottom run (execution
  counts 1, 2, 3... in cell order), no cell stored an error, and every cell whose output is a live
  widget is marked ``# NBVAL_IGNORE_OUTPUT``;
* re-execution: each notebook is run again in a fresh kernel and every text output (plain text,
  HTML, printed streams, errors) must equal the stored one after the sanitizing rules of
  ``tests/nbval_sanitize.cfg``, except in cells marked ``NBVAL_IGNORE_OUTPUT`` or ``NBVAL_SKIP``.
  Images are not compared (PNG bytes differ between matplotlib builds).

The kernel is driven with jupyter_client's blocking client and a timeout on every message, and is
always shut down. One kernel serves every notebook, its namespace reset between them (nbval runs
each notebook in a kernel of its own, so state leaking from one notebook to the next is caught
there).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from queue import Empty
from typing import Any

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
CELL_TIMEOUT_S = 120.0
TEXT_MIMES = ("text/plain", "text/html", "text/markdown", "text/latex", "application/json")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

pytestmark = pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks committed yet")


def _ids() -> list[str]:
    return [str(p.relative_to(ROOT / "notebooks")) for p in NOTEBOOKS]


def _rules() -> list[tuple[re.Pattern[str], str]]:
    """The regex/replace pairs of the nbval sanitizer file."""
    rules: list[tuple[re.Pattern[str], str]] = []
    regex = None
    for line in SANITIZE.read_text().splitlines():
        if line.startswith("regex:"):
            regex = line[len("regex:"):].strip()
        elif line.startswith("replace:") and regex is not None:
            rules.append((re.compile(regex), line[len("replace:"):].strip()))
            regex = None
    return rules


def _ignored(cell: Any) -> bool:
    return "NBVAL_IGNORE_OUTPUT" in cell.source or "NBVAL_SKIP" in cell.source


def _text(outputs: list[Any], rules: list[tuple[re.Pattern[str], str]]) -> list[tuple[str, str]]:
    """Comparable (kind, sanitized text) pairs; consecutive stream chunks are joined."""
    out: list[tuple[str, str]] = []
    for o in outputs:
        kind = o["output_type"]
        if kind == "stream":
            if out and out[-1][0] == f"stream:{o['name']}":
                out[-1] = (out[-1][0], out[-1][1] + o["text"])
            else:
                out.append((f"stream:{o['name']}", o["text"]))
        elif kind == "error":
            out.append(("error", f"{o['ename']}: {o['evalue']}"))
        else:
            data = o.get("data", {})
            for mime in TEXT_MIMES:
                if mime in data:
                    value = data[mime]
                    text = value if isinstance(value, str) else "".join(value) if isinstance(
                        value, list) else repr(value)
                    out.append((f"{kind}:{mime}", text))
    sanitized = []
    for kind, text in out:
        for pattern, replace in rules:
            text = pattern.sub(replace, text)
        sanitized.append((kind, text))
    return sanitized


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids())
def test_outputs_come_from_one_top_to_bottom_run(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{path.name}: execution counts {counts}; re-run the notebook from the top "
        f"(jupyter nbconvert --to notebook --execute --inplace) before committing")
    for i, cell in enumerate(code):
        errors = [o for o in cell.outputs if o["output_type"] == "error"]
        assert not errors, f"{path.name}, code cell {i + 1} stored an error: {errors[0]['ename']}"
        widget = any(WIDGET_MIME in o.get("data", {}) for o in cell.outputs)
        if widget:
            assert "NBVAL_IGNORE_OUTPUT" in cell.source, (
                f"{path.name}, code cell {i + 1} shows a widget but lacks # NBVAL_IGNORE_OUTPUT")


class _Kernel:
    """A fresh kernel in the notebook's folder, run cell by cell."""

    def __init__(self, cwd: Path) -> None:
        from jupyter_client.manager import start_new_kernel

        self.km, self.kc = start_new_kernel(kernel_name="python3", cwd=str(cwd),
                                            startup_timeout=60)

    def run(self, source: str) -> list[dict[str, Any]]:
        msg_id = self.kc.execute(source, store_history=True, allow_stdin=False)
        deadline = time.monotonic() + CELL_TIMEOUT_S
        outputs: list[dict[str, Any]] = []
        clear_pending = False
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"cell took over {CELL_TIMEOUT_S:g} s:\n{source}")
            try:
                msg = self.kc.get_iopub_msg(timeout=min(left, 5.0))
            except Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content["execution_state"] == "idle":
                break
            if kind == "clear_output":
                if content.get("wait"):
                    clear_pending = True
                else:
                    outputs = []
                continue
            if kind in ("stream", "display_data", "execute_result", "error"):
                if clear_pending:
                    outputs, clear_pending = [], False
                outputs.append({"output_type": kind, **content})
        self.kc.get_shell_msg(timeout=CELL_TIMEOUT_S)
        return outputs

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def kernel() -> Any:
    """One kernel for all notebooks (imports are paid once); each notebook starts with its
    namespace reset and the working directory set to its folder, as a fresh kernel would."""
    k = _Kernel(ROOT / "notebooks")
    try:
        yield k
    finally:
        k.close()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids())
def test_re_execution_changes_no_stored_output(path: Path, kernel: _Kernel) -> None:
    rules = _rules()
    nb = nbformat.read(path, as_version=4)
    kernel.run(f"%reset -f\nimport os as _os\n_os.chdir({str(path.parent)!r})\ndel _os")
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        if not cell.source.strip():
            continue
        fresh = kernel.run(cell.source)
        if _ignored(cell):
            continue
        stored, now = _text(cell.outputs, rules), _text(fresh, rules)
        assert now == stored, (
            f"{path.name}, code cell {i + 1} gives different output than committed; re-run "
            f"the notebook and commit it.\n--- cell ---\n{cell.source}\n--- committed ---\n"
            f"{stored}\n--- now ---\n{now}")
