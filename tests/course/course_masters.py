"""Where the course's master notebooks are (imported by the tests of tests/course; a module of
its own, as two conftest modules share the name ``conftest`` in one test run)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MASTERS = sorted((ROOT / "course").glob("*.ipynb"))
