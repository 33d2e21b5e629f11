"""Paired A/B of two nodetls echo servers: both run at once on the server CPU, each under its own
``tlsbench`` on the client CPU, so both see the same machine (a busy neighbour slows both).

    python benchmarks/paired.py --mode resume --a="--store redis" --b=--ticket-keys
    python benchmarks/paired.py --mode bulk --a-src ../old/src   # MB echoed per CPU: µs per MB
    python benchmarks/paired.py --mode resume --a="--store redis" --a-src ../other/src \\
        --b="--store redis"          # the same server, two source trees (each built in place)

Each server is ``servers/nodetls_echo.py --loop uvloop`` (``--script aio_echo.py``: the
asyncio bridge's) with the extra arguments given
(``--store redis`` gets a throw-away ``redis-server``, started here); ``--a-src``/``--b-src`` put
another tree's ``src`` first on the server's ``PYTHONPATH``.  Each round runs both clients for
``--seconds`` and reads each server's CPU (schedstat) per operation; the median and range of the
per-round ratios A/B are printed.  Interleaved single-server runs (``bench.py``) drift with the
machine's load between measurements; paired rounds do not, so a few rounds decide differences of
1-2 %.  Both servers sharing one CPU changes what each costs (the other's time slices count as
waiting for anything timed), so confirm a decision with ``bench.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import procs  # noqa: E402
from harness.pki import write_pki  # noqa: E402


def _server(name: str, args: list[str], src: str | None, pki: dict[str, Path],
            pin: procs.Pinning, script: str = "nodetls_echo.py") -> procs.ServerProc:
    argv = [sys.executable, str(HERE / "servers" / script), "--cert",
            str(pki["ecdsa-cert"]), "--key", str(pki["ecdsa-key"]), "--port", "0", "--loop",
            "uvloop", *args]
    return procs.ServerProc(name, pin.argv(argv, pin.server),
                            env={"PYTHONPATH": str(Path(src).resolve())} if src else None)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", choices=("hs", "resume", "pingpong", "bulk"), default="resume",
                    help="bulk: one connection echoing 16 KiB writes; its figure is CPU µs per MB")
    ap.add_argument("--a", default="", help='server A\'s extra arguments: --a="--store redis"')
    ap.add_argument("--b", default="", help="server B's extra arguments: --b=--ticket-keys")
    ap.add_argument("--a-src", help="a source tree's src folder for server A")
    ap.add_argument("--b-src", help="a source tree's src folder for server B")
    ap.add_argument("--script", default="nodetls_echo.py",
                    help="the server script in servers/ (aio_echo.py: the asyncio bridge)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3.0)
    opts = ap.parse_args()

    procs.raise_fd_limit()
    pin = procs.pinning()
    tlsbench = procs.build_tlsbench(HERE.parent, HERE / "build")
    specs = [shlex.split(opts.a), shlex.split(opts.b)]
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nodetls-paired-")))
        pki = write_pki(tmp)
        if any("redis" in s for spec in specs for s in spec):
            url = stack.enter_context(procs.redis_server(tmp, pin.client))
            specs = [[*s, "--redis", url] if "redis" in s else s for s in specs]
        servers = []
        for name, spec, src in zip("AB", specs, (opts.a_src, opts.b_src), strict=True):
            servers.append(_server(name, spec, src, pki, pin, opts.script))
            stack.callback(servers[-1].stop)

        def client(port: int, seconds: float) -> list[str]:
            if opts.mode == "pingpong":
                args = ["-m", "pingpong", "-s", "64"]
            elif opts.mode == "bulk":
                args = ["-m", "bulk", "-c", "1"]
            else:
                args = ["-m", opts.mode, "-c", "16", "-S", "32"]
            return pin.argv([str(tlsbench), "-p", str(port), *args, "-t", str(seconds)],
                            pin.client)

        for srv in servers:  # warm-up
            procs.run(client(srv.port, 1), capture_output=True, timeout=60)
        ratios = []
        for r in range(opts.rounds):
            before = [srv.cpu_ns() for srv in servers]
            runs = [procs.popen(client(srv.port, opts.seconds), stdout=subprocess.PIPE, text=True)
                    for srv in servers]
            outs = [json.loads(run.communicate(timeout=opts.seconds + 60)[0].strip()
                               .splitlines()[-1]) for run in runs]
            after = [srv.cpu_ns() for srv in servers]
            per = [(a - b) / 1e3 / max(1, _ops(o, opts.mode))
                   for a, b, o in zip(after, before, outs, strict=True)]
            ratios.append(per[0] / per[1])
            unit = "µs/MB" if opts.mode == "bulk" else "µs/op"
            print(f"round {r + 1}: A {per[0]:.1f} {unit}  B {per[1]:.1f} {unit}  "
                  f"A/B {ratios[-1]:.3f}", flush=True)
    print(f"A/B median {statistics.median(ratios):.3f} "
          f"(range {min(ratios):.3f}-{max(ratios):.3f}, {len(ratios)} rounds)")
    return 0


def _ops(out: dict[str, object], mode: str) -> float:
    """A round's operations: handshakes or round trips, or for bulk the MB (10^6 B) echoed."""
    if mode == "bulk":
        return float(str(out["bytes_recvd"])) / 1e6
    return int(str(out["ops"]))


if __name__ == "__main__":
    sys.exit(main())
