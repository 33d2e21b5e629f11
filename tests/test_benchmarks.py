"""``benchmarks/bench.py --smoke`` still runs end to end (seconds; figures are not checked).

The benchmark is not a timed test: this only keeps the harness from rotting. It starts three of
its servers (Node, asyncio+ssl, nodetls), builds and runs the C load client (tlsbench) against
them and runs two clients against Node's server, then checks that every workload produced a
measurement for every target and that the JSON, Markdown and chart files were written.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

from helpers.peers import run_process

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
sys.path.append(str(BENCH))  # appended: benchmarks/profile.py must not shadow stdlib

from harness.procs import find_tlsbench_source  # noqa: E402

SERVERS = ("node", "asyncio-ssl", "nodetls-asyncio")
CLIENTS = ("node", "nodetls-asyncio")


@pytest.mark.interop
@pytest.mark.slow
async def test_bench_smoke_measures_every_workload(node_bin: str, tmp_path: Path) -> None:
    if find_tlsbench_source(ROOT) is None and not (BENCH / "build").exists():
        pytest.skip("tlsbench source not found (set TLSBENCH_SRC)")
    if shutil.which("make") is None or shutil.which("cc") is None:
        pytest.skip("no C toolchain to build tlsbench")
    stem = tmp_path / "smoke"
    res = await run_process([sys.executable, BENCH / "bench.py", "--smoke", "--out", stem,
                             "--servers", ",".join(SERVERS), "--clients", ",".join(CLIENTS)],
                            timeout=150.0, cwd=ROOT)
    assert res.rc == 0, f"{res.stdout}\n{res.stderr}"
    data = json.loads(stem.with_suffix(".json").read_text())
    got = {(m["workload"], m["target"]) for m in data["measurements"]}
    for w in data["workloads"]:
        targets = SERVERS if w["side"] == "server" else CLIENTS
        for t in targets:
            assert (w["name"], t) in got, (w["name"], t, res.stderr)
    for m in data["measurements"]:
        assert m["value"] > 0, m
    # ratios to Node are computed for the others
    assert data["summary"]["hs"]["nodetls-asyncio"]["ratio"] > 0
    assert "full TLS 1.3 handshake" in res.stdout
    assert "| workload |" in stem.with_suffix(".md").read_text()
    if importlib.util.find_spec("matplotlib") is not None:
        assert stem.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"
