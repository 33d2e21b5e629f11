"""``benchmarks/bench.py --smoke`` still runs end to end (seconds; figures are not checked).

The benchmark is not a timed test: this only keeps the harness from rotting. It starts three of
its servers (Node, asyncio+ssl, nodetls), builds and runs the C load client (tlsbench) against
them and runs two clients against Node's server, then checks that every workload produced a
measurement for every target and that the JSON, Markdown and chart files were written. The
rest checks the harness's arithmetic on synthetic measurements (no timing): ratios, the median's
confidence interval, the goals' verdicts, and redrawing a stored run (``--from-json``).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
import time
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
    # the goals, with their interval: one repetition decides none
    assert data["goals"] and all(g["verdict"] == "undecided" and g["low"] is None
                                 and g["median"] > 0 for g in data["goals"]), data["goals"]
    assert "full TLS 1.3 handshake" in res.stdout
    # which build of nodetls (and of its OpenSSL) served: `nodetls --version`, in both outputs
    build = data["meta"]["versions"]["nodetls_build"]
    assert build.startswith("nodetls ") and "OpenSSL" in build, build
    assert f"build: {build}" in stem.with_suffix(".md").read_text()
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


@pytest.mark.parametrize("policy", ["rr", "none"])
def test_node_cluster_reference_serves_and_stops(node_bin: str, tmp_path: Path,
                                                 policy: str) -> None:
    """``node/echo_server.js`` with two workers (Node's cluster, the reference for
    ``workers-2``): a primary and two workers, every worker says it listens on the one port,
    echoes over TLS 1.3 there, and stopping the server leaves no process behind."""
    import socket
    import ssl

    from harness.pki import write_pki
    from harness.procs import ServerProc, free_port, tree_pids

    pki = write_pki(tmp_path)
    port = free_port()
    srv = ServerProc("node-cluster", [node_bin, str(BENCH / "node" / "echo_server.js"),
                                      str(pki["ecdsa-cert"]), str(pki["ecdsa-key"]), str(port),
                                      "127.0.0.1", "2", policy], ready_lines=2)
    try:
        pids = tree_pids(srv.pid)
        assert srv.port == port and len(pids) == 3
        ctx = ssl.create_default_context(cafile=str(pki["ca"]))
        for i in range(4):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
                    ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                assert tls.version() == "TLSv1.3"
                tls.sendall(b"ping %d" % i)
                assert tls.recv(64) == b"ping %d" % i
    finally:
        srv.stop()
    deadline = time.monotonic() + 10  # the workers exit with their primary (SIGTERM to all)
    while (running := [pid for pid in pids if _runs(pid)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running, f"still running after the stop: {running}"


def _runs(pid: int) -> bool:
    """``pid`` is a live process (a zombie awaiting its reaping is not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


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


def _goal(text: str) -> object:
    from harness.goals import GOALS

    return next(g for g in GOALS if g.text.startswith(text))


def _check(text: str, ms: list[object]) -> tuple[str, str | None, bool | None]:
    from harness.goals import check

    r = check(_goal(text), ms)  # type: ignore[arg-type]
    return r.text, r.verdict, r.median_meets


def test_goals_are_checked_from_paired_ratios_and_worker_shares() -> None:
    from harness.goals import check

    ms = [_m("hs", "node", 0, 100), _m("hs", "nodetls-uvloop", 0, 90),
          _m("rr64", "node", 0, 20), _m("rr64", "nodetls-uvloop", 0, 30),
          _m("idle", "nodetls-uvloop", 0, 18.0),
          _m("hs", "workers-2", 0, 95, worker_cpu_shares=[0.3, 0.7])]
    # one repetition: the median's verdict as before, no interval, so nothing is decided
    hs_node = "full handshake ECDSA, nodetls (uvloop) vs Node"
    assert _check(hs_node, ms) == ("0.90× (n=1)", "undecided", True)
    assert _check("64 B round trip vs Node", ms) == ("1.50× (n=1)", "undecided", False)
    assert _check("idle memory", ms) == ("18.0 (n=1)", "undecided", True)
    # the workers' shares keep their min-max logic: yes or NO over every repetition
    assert _check("workers=2: each worker", ms) == ("30%–70%", "NO", False)
    assert _check("full handshake: workers=2 not pinned vs one process pinned", ms) == (
        "1.06× (n=1)", "undecided", False)
    # like for like: the reference is one process placed as the workers are (not pinned)
    neither = "full handshake: workers=2 vs one process, neither"
    assert check(_goal(neither), ms).verdict is None  # type: ignore[arg-type]
    ms.append(_m("hs", "nodetls-uvloop-free", 0, 93))
    assert _check(neither, ms) == ("1.02× (n=1)", "undecided", True)
    assert check(_goal("resumed handshake vs Node"), ms).text == "-"  # type: ignore[arg-type]


def _pairs(workload: str, target: str, ref: str, ratios: list[float]) -> list[object]:
    ms = []
    for rep, r in enumerate(ratios):
        ms += [_m(workload, ref, rep, 100.0), _m(workload, target, rep, 100.0 * r)]
    return ms


def test_median_interval_is_the_binomial_order_statistics_pair() -> None:
    from harness.report import median_interval

    # coverage of [x(k), x(n+1-k)]: 1 - 2 * sum(C(n, i) for i < k) / 2**n, by hand
    assert median_interval([1.0, 2.0]) is None  # n < 3: no interval
    assert median_interval([5.0, 1.0, 3.0]) == (1.0, 5.0, 1 - 2 / 8, 1, 3)  # 75 %, below 90
    assert median_interval([4.0, 1.0, 3.0, 2.0]) == (1.0, 4.0, 1 - 2 / 16, 1, 4)  # 87.5 %
    ci = median_interval([0.9, 1.3, 1.0, 1.1, 1.2])
    assert ci is not None and (ci.low, ci.high, ci.coverage) == (0.9, 1.3, 0.9375)  # 93.75 %
    ci = median_interval([float(x) for x in range(7, 0, -1)])
    assert ci is not None and (ci.low, ci.high, ci.coverage) == (1.0, 7.0, 1 - 2 / 128)
    # n = 8: k = 2 covers 1 - 2 * (1 + 8) / 256 = 92.97 %, k = 3 only 71 %
    ci = median_interval([float(x) for x in range(1, 9)])
    assert ci is not None and (ci.low, ci.high, ci.k) == (2.0, 7.0, 2)
    assert ci.coverage == pytest.approx(238 / 256)
    # n = 10: k = 2 covers 97.85 %, k = 3 89.06 % (< 90 %)
    ci = median_interval([float(x) for x in range(1, 11)])
    assert ci is not None and (ci.low, ci.high, ci.coverage) == (2.0, 9.0, 1 - 22 / 1024)
    # n = 20: k = 6 covers 1 - 2 * 21700 / 2**20 = 95.86 %, k = 7 88.47 %
    ci = median_interval([float(x) for x in range(1, 21)])
    assert ci is not None and (ci.low, ci.high, ci.k) == (6.0, 15.0, 6)
    assert ci.coverage == pytest.approx(1 - 43400 / 2**20)
    ci = median_interval([float(x) for x in range(1, 21)], level=0.80)
    assert ci is not None and ci.k == 7 and ci.coverage == pytest.approx(1 - 120920 / 2**20)
    # NaN (a failed repetition) is left out
    ci = median_interval([1.0, float("nan"), 2.0, 3.0])
    assert ci is not None and (ci.low, ci.high, ci.n) == (1.0, 3.0, 3)


def test_goal_verdicts_are_on_the_interval_of_the_median() -> None:
    hs_node = "full handshake ECDSA, nodetls (uvloop) vs Node"  # <= 1.00
    # the whole interval [min, max] of 5 repetitions (93.75 %) below the bound
    ms = _pairs("hs", "nodetls-uvloop", "node", [0.90, 0.93, 0.95, 0.97, 0.99])
    assert _check(hs_node, ms) == ("0.95× [0.90–0.99]", "yes", True)
    # all of it above
    ms = _pairs("hs", "nodetls-uvloop", "node", [1.02, 1.05, 1.10, 1.20, 1.30])
    assert _check(hs_node, ms) == ("1.10× [1.02–1.30]", "NO", False)
    # straddling: the median meets the goal, the noise leaves it open
    ms = _pairs("hs", "nodetls-uvloop", "node", [0.83, 0.86, 0.97, 1.45, 1.53])
    assert _check(hs_node, ms) == ("0.97× [0.83–1.53]", "undecided", True)
    # a bound next to a figure shows the third digit
    ms = _pairs("hs", "nodetls-uvloop", "node", [0.95, 0.97, 0.998, 1.02, 1.03])
    assert _check(hs_node, ms) == ("0.998× [0.950–1.030]", "undecided", True)
    # higher is better (bulk >= 1.25)
    bulk = "bulk MB per CPU-second vs Node"
    ms = _pairs("bulk", "nodetls-uvloop", "node", [1.3, 1.4, 1.5, 1.6, 1.7])
    assert _check(bulk, ms)[1:] == ("yes", True)
    ms = _pairs("bulk", "nodetls-uvloop", "node", [1.1, 1.2, 1.3, 1.4, 1.5])
    assert _check(bulk, ms)[1:] == ("undecided", True)
    ms = _pairs("bulk", "nodetls-uvloop", "node", [1.0, 1.1, 1.15, 1.2, 1.24])
    assert _check(bulk, ms)[1:] == ("NO", False)
    # strict bounds: an interval ending on the bound does not meet '<' and misses nothing
    strict = "hs: nodetls.aio (uvloop) vs uvloop+ssl"  # < 1.00
    ms = _pairs("hs", "aio-uvloop", "uvloop-ssl", [0.9, 0.95, 0.97, 0.99, 1.0])
    assert _check(strict, ms)[1:] == ("undecided", True)
    ms = _pairs("hs", "aio-uvloop", "uvloop-ssl", [1.0, 1.02, 1.03, 1.04, 1.05])
    assert _check(strict, ms)[1:] == ("NO", False)
    # 'within' 0.95-1.05: inside, outside on either side, across one edge or both
    within = "full handshake: workers=2 on the server's CPU vs one process"
    cases = {(0.96, 0.98, 1.0, 1.02, 1.04): ("yes", True),
             (1.06, 1.1, 1.2, 1.3, 1.4): ("NO", False),
             (0.8, 0.85, 0.9, 0.92, 0.94): ("NO", False),
             (0.9, 0.97, 1.0, 1.03, 1.06): ("undecided", True),
             (1.0, 1.03, 1.04, 1.06, 1.2): ("undecided", True)}
    for ratios, want in cases.items():
        ms = _pairs("hs", "workers-2-pinned", "nodetls-uvloop", list(ratios))
        assert _check(within, ms)[1:] == want, ratios
    # a figure (idle KiB, no reference): the interval of the values themselves
    idle = [_m("idle", "nodetls-uvloop", rep, v) for rep, v in enumerate([19.0, 19.2, 19.5])]
    assert _check("idle memory", idle) == ("19.2 [19.0–19.5]", "yes", True)  # 75 % coverage
    idle.append(_m("idle", "nodetls-uvloop", 3, 20.5))
    assert _check("idle memory", idle) == ("19.4 [19.0–20.5]", "undecided", True)


def test_goals_table_and_json_show_median_interval_and_both_verdicts() -> None:
    from harness.goals import goals_json, goals_table

    ms = (_pairs("hs", "nodetls-uvloop", "node", [0.90, 0.93, 0.95, 0.97, 0.99])
          + _pairs("rr64", "nodetls-uvloop", "node", [0.83, 0.86, 0.97, 1.45, 1.53])
          + _pairs("resume", "nodetls-uvloop", "node", [1.02, 1.05, 1.10, 1.20, 1.30]))
    md = goals_table(ms, markdown=True)  # type: ignore[arg-type]
    lines = md.splitlines()
    assert lines[0] == ("| issue | goal | target | measured [interval] | coverage | met | "
                        "median meets |")
    row = {line.split(" | ")[1]: line.split(" | ")[3:] for line in lines[2:]}
    assert row["full handshake ECDSA, nodetls (uvloop) vs Node"] == [
        "0.95× [0.90–0.99]", "93.75% (n=5)", "yes", "yes |"]
    assert row["64 B round trip vs Node"] == [
        "0.97× [0.83–1.53]", "93.75% (n=5)", "undecided", "yes |"]
    assert row["resumed handshake vs Node"] == [
        "1.10× [1.02–1.30]", "93.75% (n=5)", "NO", "NO |"]
    assert len(lines) == 2 + 3  # goals not measured are left out
    text = goals_table(ms, markdown=False)  # type: ignore[arg-type]
    assert "undecided" in text and "median meets" in text.splitlines()[0]
    goals = {g["goal"]: g for g in goals_json(ms)}  # type: ignore[arg-type]
    hs = goals["full handshake ECDSA, nodetls (uvloop) vs Node"]
    assert hs == {"issue": 7, "goal": "full handshake ECDSA, nodetls (uvloop) vs Node",
                  "workload": "hs", "target": "nodetls-uvloop", "ref": "node", "op": "<=",
                  "bound": 1.0, "measured": "0.95× [0.90–0.99]",
                  "median": pytest.approx(0.95), "low": pytest.approx(0.90),
                  "high": pytest.approx(0.99), "coverage": 0.9375, "reps": 5,
                  "verdict": "yes", "median_meets": True}
    assert goals["64 B round trip vs Node"]["verdict"] == "undecided"
    assert goals["resumed handshake vs Node"]["verdict"] == "NO"


def _stored_run(ms: list[object]) -> dict[str, object]:
    """A results JSON as bench.py writes it, holding ``ms``."""
    from dataclasses import asdict

    def server(name: str, group: str = "main") -> dict[str, object]:
        return {"name": name, "label": name, "group": group, "compare_to": [], "workloads": []}

    return {"meta": {"date": "2026-12-03T08:53:30+00:00", "commit": "0000000",
                     "src_commit": "0000000", "pinning": "test",
                     "machine": {"loadavg_start": [0.5, 0.5, 0.5],
                                 "loadavg_end": [0.6, 0.6, 0.6]},
                     "profile": {"name": "full", "reps": 5, "idle_conns": 4000}},
            "notes": [], "warnings": [],
            "workloads": [{"name": "hs", "side": "server"}, {"name": "rr64", "side": "server"}],
            "servers": [server("node"), server("nodetls-uvloop")], "clients": [],
            "measurements": [asdict(m) for m in ms]}  # type: ignore[call-overload]


@pytest.mark.slow
async def test_from_json_redraws_tables_and_goals_without_measuring(tmp_path: Path) -> None:
    ms = (_pairs("hs", "nodetls-uvloop", "node", [0.90, 0.93, 0.95, 0.97, 0.99])
          + _pairs("rr64", "nodetls-uvloop", "node", [0.83, 0.86, 0.97, 1.45, 1.53]))
    stored = tmp_path / "stored.json"
    stored.write_text(json.dumps(_stored_run(ms)))
    before = stored.read_text()
    stem = tmp_path / "redrawn"
    res = await run_process([sys.executable, BENCH / "bench.py", "--from-json", stored,
                             "--out", stem], timeout=60.0, cwd=ROOT)
    assert res.rc == 0, f"{res.stdout}\n{res.stderr}"
    assert "0.97× [0.83–1.53]" in res.stdout and "undecided" in res.stdout
    md = stem.with_suffix(".md").read_text()
    assert "| 0.95× [0.90–0.99] | 93.75% (n=5) | yes | yes |" in md
    data = json.loads(stem.with_suffix(".json").read_text())
    assert data["measurements"] == json.loads(before)["measurements"]  # nothing measured
    assert stored.read_text() == before  # the stored run is left as it was
    verdicts = {g["goal"]: g["verdict"] for g in data["goals"]}
    assert verdicts == {"full handshake ECDSA, nodetls (uvloop) vs Node": "yes",
                        "64 B round trip vs Node": "undecided"}
    for g in data["goals"]:
        assert {"median", "low", "high", "coverage", "verdict", "median_meets"} <= set(g)
    hs = data["summary"]["hs"]["nodetls-uvloop"]
    assert (hs["ratio_lo"], hs["ratio_hi"], hs["ratio_coverage"]) == pytest.approx(
        (0.90, 0.99, 0.9375))
    assert hs["ratio"] == pytest.approx(0.95)  # existing keys kept


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


@pytest.mark.interop
@pytest.mark.slow
async def test_openssl_build_comparison_runs(node_bin: str) -> None:
    """``benchmarks/openssl_build/run.sh`` (the same handshakes under the system's OpenSSL and
    Node's) builds, resumes every resumed handshake under both, and prints both figures."""
    if shutil.which("gcc") is None or not Path("/usr/include/openssl/ssl.h").exists():
        pytest.skip("no gcc or OpenSSL headers")
    res = await run_process(["bash", BENCH / "openssl_build" / "run.sh", "1", "20"],
                            timeout=120.0, cwd=ROOT)
    assert res.rc == 0, f"{res.stdout}\n{res.stderr}"
    lines = res.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["full", "resumed"], res.stdout
    assert all(" system " in line and " node " in line and "ratio" in line for line in lines)


@pytest.mark.interop
@pytest.mark.slow
@pytest.mark.parametrize("server", ["node-style", "aio"])
async def test_profile_counts_bytecodes_per_function(server: str) -> None:
    """``benchmarks/profile.py --bytecodes`` traces the server's Python while tlsbench does full
    handshakes and reports the bytecodes and calls per handshake, by module and by function
    (asyncio's loop: its own Python is counted too); the Node-style echo server's ``pipe()``
    runs once per connection."""
    if find_tlsbench_source(ROOT) is None and not (BENCH / "build").exists():
        pytest.skip("tlsbench source not found (set TLSBENCH_SRC)")
    res = await run_process([sys.executable, BENCH / "profile.py", "--server", server,
                             "--bytecodes", "--only", "hs", "--handshakes", "60", "--top", "40"],
                            timeout=150.0, cwd=ROOT)
    assert res.rc == 0, f"{res.stdout}\n{res.stderr}"
    head = next(line for line in res.stdout.splitlines() if "Python bytecodes and" in line)
    per_hs = float(head.split()[0].replace(",", ""))
    assert "60 operations traced" in res.stdout
    assert 200 < per_hs < 20_000, head
    if server == "node-style":
        pipe = next(line for line in res.stdout.splitlines() if "Readable.pipe" in line)
        # Calls per handshake: once per connection, plus the few connections tlsbench (-c 4)
        # has started when its 60th handshake completes, whose pipe() may run before tracing
        # stops (more of them on a loaded machine): at most 3 of the traced run's, with margin.
        assert 0.95 <= float(pipe.split()[1]) <= 1 + 6 / 60, pipe
    assert "by module:" in res.stdout and "top 40 functions by bytecodes:" in res.stdout


@pytest.mark.interop
@pytest.mark.slow
async def test_syscalls_counts_per_handshake_and_round_trip(node_bin: str, tmp_path: Path) -> None:
    """``benchmarks/syscalls.py`` counts each server's system calls per full handshake and per
    round trip, and each client's per round trip: one accepted and one closed descriptor per
    connection; one ``read`` and one ``write`` per echoed 64 B message (nodetls's data path
    sends a flight in one write); and the Node client's columns beside nodetls's.

    On asyncio's loop, a connection closed once both sides have ended makes no placeholder
    socket (``TCPHandle._close_now``: before, a ``socket`` and a ``dup3`` for every one), and
    neither does the asyncio bridge's once the peer's close_notify has come, on either loop
    (``close_lazily``)."""
    from harness import syscount

    if not syscount.available():
        pytest.skip("perf missing or not allowed to count syscall tracepoints here")
    if find_tlsbench_source(ROOT) is None and not (BENCH / "build").exists():
        pytest.skip("tlsbench source not found (set TLSBENCH_SRC)")
    if importlib.util.find_spec("uvloop") is None:
        pytest.skip("uvloop not installed")
    out = tmp_path / "calls.json"
    res = await run_process([sys.executable, BENCH / "syscalls.py", "--servers",
                             "node,nodetls-uvloop,nodetls-asyncio,aio-uvloop", "--clients",
                             "node,nodetls-uvloop",
                             "--handshakes", "400", "--round-trips", "2000", "--seconds", "1",
                             "--json", out], timeout=240.0, cwd=ROOT)
    assert res.rc == 0, f"{res.stdout}\n{res.stderr}"
    assert "system calls per full handshake" in res.stdout
    got = json.loads(out.read_text())
    hs, rr = got["full handshake"], got["64 B round trip"]
    for server in ("node", "nodetls-uvloop", "nodetls-asyncio", "aio-uvloop"):
        calls, failed, total = hs[server]
        # (tlsbench may start up to its concurrency, 16, more connections than it completes)
        assert 0.95 <= calls["accept4"] - failed.get("accept4", 0.0) <= 1.1, (server, res.stdout)
        assert 0.95 <= calls["close"] <= 1.1, (server, res.stdout)
        # (the total is one more perf event, enabled a moment apart from the others)
        assert total * 1.05 >= sum(calls.values()) > 5, res.stdout
        # (tlsbench ends each connection after both close_notify and FIN are out: most are
        # closed with both ways ended, whatever the timing)
        assert calls.get("socket", 0.0) < 0.6, (server, res.stdout)
    calls, _failed, _total = rr["nodetls-uvloop"]
    for call in ("read", "write"):
        assert 0.95 <= calls.get(call, 0.0) <= 1.1, (call, res.stdout)
    clients = got["client 64 B round trip"]
    assert set(clients) == {"node rr", "node rrcb", "nodetls-uvloop rr", "nodetls-uvloop rrcb"}
    for name, (calls, _failed, _total) in clients.items():
        assert 0.95 <= calls.get("write", 0.0) <= 1.2, (name, res.stdout)
