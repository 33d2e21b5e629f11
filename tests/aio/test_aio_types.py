"""``mypy --strict`` is clean on ``src/nodetls/aio`` and the ``examples/aio_*.py`` programs (the
asyncio face is typed for its users)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_strict_on_aio():
    pytest.importorskip("mypy")
    res = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-incremental",
         "--cache-dir=/dev/null", str(ROOT / "src" / "nodetls" / "aio"),
         *map(str, sorted((ROOT / "examples").glob("aio_*.py")))],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert res.returncode == 0, res.stdout + res.stderr
