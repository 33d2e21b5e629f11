"""System calls and event-loop iterations per operation, counted, for the servers and clients
``bench.py`` times.

    python benchmarks/syscalls.py                              # the default servers and clients
    python benchmarks/syscalls.py --servers node,uvloop-ssl,nodetls-uvloop --only server
    python benchmarks/syscalls.py --clients node,nodetls-uvloop --only client --seconds 3

Server side: each server (a ``bench.py`` name) serves ``--handshakes`` full handshakes from
tlsbench (connect, handshake, 16 B echo, close_notify, close) and then ``--round-trips`` 64 B
round trips on one connection, counted after a warm-up; the table gives
each system call per operation. Client side: each client (``clients/nodetls_load.py``,
``node/load.js``) runs its ``hs`` mode (full handshakes, 8 at a time), its ``rr`` mode (the
next write after an ``await`` of the echo) and its ``rrcb`` mode (the next write from the
``'data'`` listener) against Node's echo server, counted from start to exit and divided by
the operations it made (start-up's calls are included: a few hundredths per round trip, more
per handshake, since a run makes fewer of them).

``epoll_pwait``/``epoll_wait`` is one event-loop iteration that polled: a loop that runs a
callback queued from another queued callback polls once more before it (asyncio's and uvloop's
ready queue), where Node runs its microtasks and ``process.nextTick`` callbacks without polling.
Counted by the kernel's syscall tracepoints (``perf stat``, harness/syscount.py): exact, and
without ptrace's stops, so each process runs at its own pace. Needs ``perf`` with tracepoints.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.append(str(BENCH))  # appended: benchmarks/profile.py must not shadow stdlib

from harness import syscount  # noqa: E402
from harness.pki import write_pki  # noqa: E402
from harness.procs import ServerProc, build_tlsbench, pinning, run, tree_pids  # noqa: E402
from harness.registry import BASELINE, client_named, missing, server_named  # noqa: E402
from harness.runner import HOST, fill_argv, start_server  # noqa: E402

PIN = pinning()  # as bench.py: the client on one CPU, the server on another
Table = dict[str, tuple[dict[str, float], dict[str, float], float]]  # column -> syscount per op


def _start(name: str, pki: dict[str, Path]) -> ServerProc:
    return start_server(server_named(name), pki, PIN)


def _tlsbench(tlsbench: Path, port: int, *args: str) -> None:
    run(PIN.argv([str(tlsbench), "-h", HOST, "-p", str(port), *args, "-t", "600"], PIN.client),
        check=True,
        stdout=subprocess.DEVNULL, timeout=900)


def server_side(names: list[str], pki: dict[str, Path], tlsbench: Path, handshakes: int,
                round_trips: int) -> dict[str, Table]:
    """Per server: system calls per full handshake and per 64 B round trip."""
    hs: Table = {}
    rr: Table = {}
    for name in names:
        srv = _start(name, pki)
        try:
            _tlsbench(tlsbench, srv.port, "-m", "hs", "-c", "16", "-S", "32", "-n", "300")
            _tlsbench(tlsbench, srv.port, "-m", "pingpong", "-s", "64", "-n", "2000")
            with syscount.attached(tree_pids(srv.pid)) as got:
                _tlsbench(tlsbench, srv.port, "-m", "hs", "-c", "16", "-S", "32", "-n",
                          str(handshakes))
            hs[name] = got[0].per(handshakes)
            with syscount.attached(tree_pids(srv.pid)) as got:
                _tlsbench(tlsbench, srv.port, "-m", "pingpong", "-s", "64", "-n",
                          str(round_trips))
            rr[name] = got[0].per(round_trips)
            srv.check_alive()
        finally:
            srv.stop()
    return {"full handshake": hs, "64 B round trip": rr}


def client_side(names: list[str], pki: dict[str, Path], seconds: float) -> dict[str, Table]:
    """Per client: system calls per full handshake (``hs``, 8 at a time) and per 64 B round
    trip (``rr``, ``rrcb``) against Node's echo server."""
    hs: Table = {}
    rr: Table = {}
    srv = _start(BASELINE, pki)
    try:
        for name in names:
            spec = client_named(name)
            for mode in ("hs", "rr", "rrcb"):
                job = {"mode": mode, "port": srv.port, "host": HOST, "ca": str(pki["ca"]),
                       "duration": seconds, "warmup": 0.5, "size": 64, "concurrency": 8}
                argv = PIN.argv(fill_argv(spec.argv, spec=json.dumps(job)), PIN.client)
                stdout, calls = syscount.around(argv, timeout=120 + seconds * 10)
                res = json.loads(stdout.strip().splitlines()[-1])
                per = calls.per(int(res["total_ops"]))
                if mode == "hs":
                    hs[name] = per
                else:
                    rr[f"{name} {mode}"] = per
        srv.check_alive()
    finally:
        srv.stop()
    return {"client full handshake": hs, "client 64 B round trip": rr}


def print_table(title: str, table: Table) -> None:
    cols = list(table)
    names = sorted({s for calls, _, _ in table.values() for s in calls},
                   key=lambda s: -max(table[c][0].get(s, 0.0) for c in cols))
    width = max(14, *(len(c) + 2 for c in cols))
    print(f"system calls per {title} (perf stat, syscall tracepoints; (n!): of which failed)")
    print(f"  {'call':16s}" + "".join(f"{c:>{width}s}" for c in cols))
    for s in names:
        row = [table[c][0].get(s, 0.0) for c in cols]
        if max(row) < 0.05:
            continue
        cells = []
        for c, v in zip(cols, row, strict=True):
            failed = table[c][1].get(s, 0.0)
            cells.append(f"{v:.2f}" + (f" ({failed:.2f}!)" if failed >= 0.05 else ""))
        print(f"  {s:16s}" + "".join(f"{cell:>{width}s}" for cell in cells))
    totals = [table[c][2] for c in cols]
    print(f"  {'all':16s}" + "".join(f"{v:>{width}.2f}" for v in totals))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--servers", default="node,uvloop-ssl,nodetls-uvloop")
    ap.add_argument("--clients", default="node,nodetls-uvloop")
    ap.add_argument("--only", choices=("server", "client"))
    ap.add_argument("--handshakes", type=int, default=2000)
    ap.add_argument("--round-trips", type=int, default=20000)
    ap.add_argument("--seconds", type=float, default=2.0, help="each client run, measured part")
    ap.add_argument("--json", type=Path, help="also write every count here")
    args = ap.parse_args()
    if not syscount.available():
        sys.exit("syscalls.py needs perf, allowed to count syscall tracepoints")
    servers = [s for s in args.servers.split(",") if s]
    clients = [c for c in args.clients.split(",") if c]
    for name in servers:
        if lacks := missing(server_named(name).requires):
            sys.exit(f"server {name}: {', '.join(lacks)}")
    for name in clients:
        if lacks := missing(client_named(name).requires):
            sys.exit(f"client {name}: {', '.join(lacks)}")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        pki = write_pki(Path(tmp))
        if args.only != "client" and servers:
            tlsbench = build_tlsbench(BENCH.parent, BENCH / "build")
            results.update(server_side(servers, pki, tlsbench, args.handshakes,
                                       args.round_trips))
        if args.only != "server" and clients:
            results.update(client_side(clients, pki, args.seconds))
    for title, table in results.items():
        print_table(title, table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
