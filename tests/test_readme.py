"""Every ```python block of README.md runs, so that no example can rot.

The convention (what a README author needs to know)
---------------------------------------------------
* **Units.** The blocks of one ``###`` subsection run together, in order, in one fresh Python
  process and one namespace, as a reader reads them (a later block may use an earlier block's
  names).  Blocks under a ``##`` heading before its first ``###`` are that section's *preamble*:
  they run first in every unit of the section (the Features section's ``KEY``/``CERT`` names).  A
  ``##`` section without ``###`` subsections is one unit.
* **How a block runs** (``tests/helpers/readme_runner.py``).  A block with a top-level ``.run(...)``
  call (``tls.run(main)``) is a *program* and runs as ``python file.py`` would.  Any other block is
  a *fragment* and runs inside a coroutine on an event loop ("code that awaits runs inside
  ``async def main()``"): a top-level ``await`` works.  A block passes when the process exits 0
  with no traceback on stderr, within :data:`UNIT_TIMEOUT` seconds.
* **Files.** The process runs in a fresh temporary directory holding the four files
  ``nodetls devcert --node-examples`` writes (``server-key.pem``, ``server-cert.pem``,
  ``client-key.pem``, ``client-cert.pem``); ``examples/`` is on ``PYTHONPATH``.
* **Ports.** Every port number from 8000 to 8999 written in a unit stands for a free loopback
  port: the test substitutes one real port per distinct number.  A unit that connects to a port it
  never ``listen(``\\s on gets a *peer* there: a nodetls server with the ``server-*.pem`` pair that
  sends ``hello from the README peer\\n`` and ends (it accepts any client certificate).
* **Markers.** An HTML comment right before a block (blank lines allowed in between) may say:

  - ``<!-- test-setup: CODE -->`` -- CODE (may span lines, may ``await``) runs right before the
    block, in its namespace: the names a fragment takes as given (``server``, a placeholder such
    as ``my_certificate_store``...), kept out of the reader's way;
  - ``<!-- not-run: REASON -->`` -- the block is not run (the test is reported as skipped with
    REASON).  This is the only way out; use it for blocks that cannot end (a server that serves
    until stopped) or that show a shell session.

New blocks are picked up automatically; a block that cannot run under these rules fails this test.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import nodetls as tls
from helpers.peers import free_port, run_process

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
EXAMPLES = ROOT / "examples"
RUNNER = Path(__file__).resolve().parent / "helpers" / "readme_runner.py"
UNIT_TIMEOUT = 40.0
PEER_GREETING = b"hello from the README peer\n"
PORT = re.compile(r"(?<![\w.])(8\d{3})(?![\w.])")
MARKER = re.compile(r"<!--\s*(not-run|test-setup)\s*:(.*?)-->", re.S)


@dataclass
class Block:
    line: int               # README line of the block's first code line
    source: str
    section: str
    subsection: str | None
    setup: tuple[int, str] | None = None     # (README line, code) of a test-setup marker
    not_run: str | None = None


@dataclass
class Unit:
    name: str
    blocks: list[Block] = field(default_factory=list)
    skipped: str | None = None

    def pieces(self) -> list[dict[str, Any]]:
        out = []
        for b in self.blocks:
            if b.setup is not None:
                out.append({"path": str(README), "line": b.setup[0], "source": b.setup[1]})
            out.append({"path": str(README), "line": b.line, "source": b.source})
        return out


def parse_readme(text: str) -> list[Block]:
    """The ```python blocks of ``text``, with their section and marker."""
    lines = text.splitlines()
    blocks: list[Block] = []
    section, subsection = "(top)", None
    comment: tuple[int, str] | None = None    # the last HTML comment, if nothing followed it
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            lang = line[3:].strip()
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            if lang == "python":
                block = Block(i + 2, "\n".join(lines[i + 1:j]) + "\n", section, subsection)
                if comment is not None:
                    m = MARKER.search(comment[1])
                    if m and m.group(1) == "not-run":
                        block.not_run = m.group(2).strip()
                        assert block.not_run, f"README.md:{i + 1}: not-run needs a reason"
                    elif m:
                        block.setup = _setup_code(comment[0], comment[1], m)
                blocks.append(block)
            comment = None
            i = j + 1
            continue
        if line.lstrip().startswith("<!--"):
            j = i
            while "-->" not in lines[j]:
                j += 1
            comment = (i + 1, "\n".join(lines[i:j + 1]))
            i = j + 1
            continue
        if line.startswith("## "):
            section, subsection = line[3:].strip(), None
        elif line.startswith("### "):
            subsection = line[4:].strip()
        if line.strip():
            comment = None
        i += 1
    return blocks


def _setup_code(line: int, comment: str, m: re.Match[str]) -> tuple[int, str]:
    """(README line, code) of a test-setup marker: ``<!-- test-setup: one line -->``, or the code
    on the lines after ``test-setup:`` up to ``-->``."""
    start = line + comment[:m.start(2)].count("\n")
    first, _, rest = m.group(2).partition("\n")
    if first.strip():
        assert not rest.strip(), f"README.md:{start}: put multi-line setup code on its own lines"
        return start, first.strip() + "\n"
    return start + 1, textwrap.dedent(rest).strip("\n") + "\n"


def make_units(blocks: list[Block]) -> list[Unit]:
    """Group blocks into units (see the module docstring)."""
    units: list[Unit] = []
    sections: dict[str, list[Block]] = {}
    for b in blocks:
        sections.setdefault(b.section, []).append(b)
    for section, members in sections.items():
        preamble = [b for b in members if b.subsection is None and b.not_run is None]
        subsections: dict[str, list[Block]] = {}
        for b in members:
            if b.not_run is not None:
                units.append(Unit(f"{section}/{b.subsection or ''}@{b.line}", skipped=b.not_run))
            elif b.subsection is not None:
                subsections.setdefault(b.subsection, []).append(b)
        for sub, sub_blocks in subsections.items():
            units.append(Unit(f"{section}/{sub}", preamble + sub_blocks))
        if not subsections and preamble:
            units.append(Unit(section, preamble))
    return units


UNITS = make_units(parse_readme(README.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def dev_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The four files ``nodetls devcert --node-examples`` writes, made once for the module."""
    from nodetls.devcert import write_echo_files

    d = tmp_path_factory.mktemp("devcert")
    write_echo_files(d)
    return d


async def _start_peer(files: Path) -> tuple[Any, list[Any]]:
    conns: list[Any] = []

    def on_secure(sock: Any) -> None:
        conns.append(sock)
        sock.on("error", lambda err: None)   # a README client may just go away
        sock.end(PEER_GREETING)

    server = tls.create_server({"key": (files / "server-key.pem").read_bytes(),
                                "cert": (files / "server-cert.pem").read_bytes(),
                                "request_cert": True, "reject_unauthorized": False}, on_secure)
    server.on("tlsClientError", lambda err, sock: None)   # e.g. the client refused our cert
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), 10)
    return server, conns


async def _run_unit(unit: Unit, files: Path, workdir: Path) -> tuple[Any, str]:
    """Run ``unit`` once; returns the process result and the code as run (ports substituted)."""
    code = "\n".join(p["source"] for p in unit.pieces())
    numbers = sorted(set(PORT.findall(code)))
    ports: dict[str, int] = {}
    peers: list[tuple[Any, list[Any]]] = []
    try:
        for n in numbers:
            if re.search(rf"\.listen\(\s*{n}\b", code):
                ports[n] = free_port()
            else:
                server, conns = await _start_peer(files)
                peers.append((server, conns))
                ports[n] = server.address()["port"]
        pieces = unit.pieces()
        for p in pieces:
            p["source"] = PORT.sub(lambda m: str(ports.get(m.group(1), m.group(1))), p["source"])
        unit_file = workdir / "unit.json"
        unit_file.write_text(json.dumps(pieces), encoding="utf-8")
        env = {"PYTHONPATH": str(EXAMPLES), "PYTHONDONTWRITEBYTECODE": "1"}
        res = await run_process([sys.executable, str(RUNNER), str(unit_file)],
                                timeout=UNIT_TIMEOUT, env=env, cwd=workdir)
        return res, "\n".join(p["source"] for p in pieces)
    finally:
        for server, conns in peers:
            for sock in conns:
                sock.destroy()
            await asyncio.wait_for(server.close(), 10)


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
async def test_readme_block_runs(unit: Unit, dev_files: Path, tmp_path: Path) -> None:
    if unit.skipped is not None:
        pytest.skip(f"README marks this block not-run: {unit.skipped}")
    for name in ("server-key.pem", "server-cert.pem", "client-key.pem", "client-cert.pem"):
        shutil.copy(dev_files / name, tmp_path / name)
    for _attempt in range(3):
        res, code = await _run_unit(unit, dev_files, tmp_path)
        # A free port taken by someone else between our check and the block's listen(): retry.
        if "EADDRINUSE" not in res.stderr:
            break
    report = f"--- code as run ---\n{code}\n--- stdout ---\n{res.stdout}\n--- stderr ---\n{res.stderr}"
    assert res.rc == 0, report
    assert "Traceback" not in res.stderr, report


def test_every_python_block_is_run_or_marked() -> None:
    blocks = parse_readme(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 20
    run = {b.line for u in UNITS for b in u.blocks}
    for b in blocks:
        assert b.line in run or b.not_run, f"README.md:{b.line} is neither run nor marked not-run"
    assert sum(1 for b in blocks if b.not_run) <= 2, "not-run is for the exception, not the rule"


def test_parser_markers_and_units() -> None:
    text = "\n".join([
        "## A", "```python", "x = 1", "```",
        "### A1", "<!-- test-setup:", "y = x + 1", "-->", "", "```python", "assert y == 2", "```",
        "```sh", "not python", "```",
        "### A2", "<!-- not-run: serves forever -->", "```python", "while True: pass", "```",
        "## B", "<!-- a plain comment -->", "text", "```python", "print(8000)", "```",
    ])
    blocks = parse_readme(text)
    assert [(b.section, b.subsection, b.line) for b in blocks] == [
        ("A", None, 3), ("A", "A1", 11), ("A", "A2", 19), ("B", None, 25)]
    assert blocks[1].setup == (7, "y = x + 1\n")
    assert blocks[2].not_run == "serves forever"
    assert blocks[3].setup is None and blocks[3].not_run is None
    units = make_units(blocks)
    assert [(u.name, len(u.blocks), u.skipped) for u in units] == [
        ("A/A2@19", 0, "serves forever"), ("A/A1", 2, None), ("B", 1, None)]


async def test_runner_reports_a_failing_block(tmp_path: Path) -> None:
    """The harness can fail: an exception in a fragment exits non-zero, pointing at README."""
    unit_file = tmp_path / "unit.json"
    unit_file.write_text(json.dumps([
        {"path": str(README), "line": 5, "source": "import asyncio\nawait asyncio.sleep(0)\n"},
        {"path": str(README), "line": 40, "source": "x = 1\nraise ValueError('rotten')\n"}]))
    res = await run_process([sys.executable, str(RUNNER), str(unit_file)], timeout=UNIT_TIMEOUT)
    assert res.rc == 1
    assert "ValueError: rotten" in res.stderr
    assert f'File "{README}", line 41' in res.stderr
