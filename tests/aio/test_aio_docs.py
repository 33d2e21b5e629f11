"""The complete programs of ``docs/aio.md`` (the ```python blocks that call ``asyncio.run``) run
as written, in a directory holding a development CA and ``localhost`` certificate, with port 8443
replaced by a free port."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from helpers.peers import free_port, run_process

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "aio.md"
BLOCKS = [b for b in re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
          if "asyncio.run(" in b]

from nodetls.devcert import make_dev_pki  # noqa: E402


def test_the_page_has_complete_programs():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
async def test_doc_program_runs(index, tmp_path):
    make_dev_pki().write(tmp_path)
    code = BLOCKS[index].replace("8443", str(free_port()))
    script = tmp_path / f"block{index}.py"
    script.write_text(code)
    res = await run_process([sys.executable, str(script)], timeout=30, cwd=tmp_path)
    assert res.rc == 0, res.stderr
    assert res.stdout
