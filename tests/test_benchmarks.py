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


@pytest.mark.interop
@pytest.mark.slow
@pytest.mark.parametrize("client", ["node", "nodetls-uvloop", "nodetls-asyncio"])
async def test_clients_round_trips_in_callbacks(node_bin: str, tmp_path: Path, client: str) -> None:
    """The clients' ``rrcb`` mode (round trips written from the 'data' listener) measures."""
    from harness.pki import write_pki
    from harness.procs import ServerProc

    if client == "nodetls-uvloop" and importlib.util.find_spec("uvloop") is None:
        pytest.skip("uvloop not installed")
    pki = write_pki(tmp_path)
    srv = ServerProc("node", [node_bin, str(BENCH / "node" / "echo_server.js"),
                              str(pki["ecdsa-cert"]), str(pki["ecdsa-key"]), "0", "127.0.0.1"])
    try:
        spec = json.dumps({"mode": "rrcb", "port": srv.port, "ca": str(pki["ca"]),
                           "duration": 0.3, "warmup": 0.05, "size": 64})
        argv: list[str | Path] = ([node_bin, BENCH / "node" / "load.js", spec]
                                  if client == "node" else
                                  [sys.executable, BENCH / "clients" / "nodetls_load.py", "--loop",
                                   client.split("-")[1], spec])
        res = await run_process(argv, timeout=60.0, cwd=ROOT)
    finally:
        srv.stop()
    assert res.rc == 0, f"{res.stdout}\n{res.stderr}"
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["mode"] == "rrcb" and out["errors"] == 0
    assert out["ops"] > 0 and out["cpu"] > 0 and out["total_ops"] >= out["ops"]
    assert 0.25 < out["seconds"] <= 0.3 + 1e-9


def test_interleaving_rotates_and_reverses() -> None:
    from harness.runner import interleaved

    names = ["a", "b", "c"]
    orders = [interleaved(names, rep) for rep in range(4)]
    assert orders == [["a", "b", "c"], ["a", "c", "b"], ["c", "a", "b"], ["c", "b", "a"]]
    assert {o[0] for o in orders} == {"a", "c"} and all(sorted(o) == names for o in orders)


def _m(workload: str, target: str, rep: int, value: float, **raw: object) -> object:
    from harness.runner import Measurement

    return Measurement(workload, target, rep, value, raw=dict(raw))


def test_ratios_are_medians_of_same_repetition_pairs() -> None:
    from harness.report import summarize

    ms = [_m("hs", "node", 0, 100), _m("hs", "x", 0, 150),   # 1.5
          _m("hs", "node", 1, 200), _m("hs", "x", 1, 220),   # 1.1
          _m("hs", "node", 2, 50), _m("hs", "x", 2, 100)]    # 2.0
    s = summarize(ms, {"x": ("node",)})  # type: ignore[arg-type]
    assert s["hs"]["x"]["median"] == 150
    assert s["hs"]["x"]["ratio"] == pytest.approx(1.5)  # not 150 / 100 of the medians
    assert (s["hs"]["x"]["ratio_min"], s["hs"]["x"]["ratio_max"]) == pytest.approx((1.1, 2.0))
    assert s["hs"]["x"]["ratio:node"] == pytest.approx(1.5)


def test_goals_are_checked_from_paired_ratios_and_worker_shares() -> None:
    from harness.goals import GOALS, check

    def goal(text: str) -> object:
        return next(g for g in GOALS if g.text.startswith(text))

    ms = [_m("hs", "node", 0, 100), _m("hs", "nodetls-uvloop", 0, 90),
          _m("rr64", "node", 0, 20), _m("rr64", "nodetls-uvloop", 0, 30),
          _m("idle", "nodetls-uvloop", 0, 18.0),
          _m("hs", "workers-2", 0, 95, worker_cpu_shares=[0.3, 0.7])]
    assert check(goal("full handshake ECDSA, nodetls (uvloop) vs Node"), ms) == ("0.90×", True)
    assert check(goal("64 B round trip vs Node"), ms) == ("1.50×", False)
    assert check(goal("idle memory"), ms) == ("18.0", True)
    assert check(goal("workers=2: each worker"), ms) == ("30%–70%", False)
    assert check(goal("full handshake: workers=2 not pinned vs one process pinned"), ms) == (
        "1.06×", False)
    # like for like: the reference is one process placed as the workers are (not pinned)
    assert check(goal("full handshake: workers=2 vs one process, neither"), ms) == ("-", None)
    ms.append(_m("hs", "nodetls-uvloop-free", 0, 93))
    assert check(goal("full handshake: workers=2 vs one process, neither"), ms) == (
        "1.02×", True)
    assert check(goal("resumed handshake vs Node"), ms) == ("-", None)  # not measured


def _strace_works() -> bool:
    import subprocess

    if shutil.which("strace") is None:
        return False
    return subprocess.run(["strace", "-f", "-c", "-o", "/dev/null", "true"],
                          capture_output=True, timeout=30).returncode == 0


@pytest.mark.slow
async def test_workers_cost_counts_the_same_accepts_per_handshake(tmp_path: Path) -> None:
    if not _strace_works():
        pytest.skip("strace missing or not allowed to trace here")
    if find_tlsbench_source(ROOT) is None and not (BENCH / "build").exists():
        pytest.skip("tlsbench source not found (set TLSBENCH_SRC)")
    if importlib.util.find_spec("uvloop") is None:
        pytest.skip("uvloop not installed")
    res = await run_process([sys.executable, BENCH / "workers_cost.py", "--handshakes", "300"],
                            timeout=150.0, cwd=ROOT)
    assert res.rc == 0, f"{res.stdout}\n{res.stderr}"
    rows = {line.split()[0]: [float(v) for v in line.split()[1:]]
            for line in res.stdout.splitlines()[2:] if line.startswith("  ")}
    # one accept and one close per connection, in one process and summed over two workers
    for call in ("accept4", "close"):
        assert all(0.9 <= v <= 1.2 for v in rows[call]), (call, res.stdout)
    assert len(rows["all"]) == 2 and all(v > 5 for v in rows["all"]), res.stdout
