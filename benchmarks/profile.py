"""Where nodetls's time goes: the top functions per full handshake and per 64 B round trip.

    python benchmarks/profile.py                    # server side, asyncio loop
    python benchmarks/profile.py --loop uvloop --top 30
    python benchmarks/profile.py --side client      # nodetls's client against Node's server
    python benchmarks/profile.py --only hs --sort own
    python benchmarks/profile.py --server aio --loop uvloop   # the asyncio bridge (nodetls.aio)
    python benchmarks/profile.py --loop uvloop --bytecodes --only hs   # bytecodes, not time

Server side: nodetls's echo server (servers/nodetls_echo.py; with ``--server aio``,
``nodetls.aio.create_server`` serving servers/_common.py's EchoProtocol as servers/aio_echo.py
does; ``--server asyncio-ssl``, asyncio's own TLS serving it, for comparison) runs in this process under cProfile
while the C load client tlsbench (its own process, pinned to another CPU) does N full handshakes
(connect, handshake, 16 B echo, close), then N round trips of 64 B on one connection, then a bulk
echo for a few seconds (per 16 KiB echoed). Client
side: clients/nodetls_load.py runs here against Node's echo server. Each workload is warmed up
unprofiled first. For each it prints the Python function calls and C calls (builtins, cffi) per
operation, own time by module, and two top lists: by cumulative and by own CPU time (the profiled
thread's CPU clock, so time blocked in epoll does not count), with calls and µs per operation.
cProfile inflates the times (a CPU-clock read per call: 3-5x); the call counts are exact, and the
ranking is what to read. Calls into OpenSSL through cffi (ABI mode) are invisible to cProfile:
their time is the own time of the Python function making them (so ``nodetls/_engine``'s own time
holds the crypto). On uvloop the event loop itself is compiled code, invisible to cProfile too.

``--bytecodes`` counts instead of timing: the Python bytecodes each Python function executes per
operation (``sys.settrace`` opcode events; exact, unlike the profiler's times), their total, and
the Python calls. Compiled code (the mypyc core, cffi, OpenSSL, uvloop) executes none, so this is
the interpreter's share of the work and where it goes: on CPython 3.11 each bytecode costs some
tens of machine instructions, against the ~3M per full handshake OpenSSL and the kernel's loopback
take.
"""

# ruff: noqa: E402  (imports follow the sys.path fix below)
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# This file is named like the standard library's `profile` (which cProfile imports): keep its
# folder off the front of sys.path, and reach the harness from the back.
if sys.path and Path(sys.path[0] or ".").resolve() == HERE:
    del sys.path[0]
sys.path += [str(HERE), str(HERE / "servers")]

import argparse
import asyncio
import cProfile
import os
import pstats
import tempfile
import time
from typing import Any

from harness import procs
from harness.pki import write_pki

Key = tuple[str, int, str]


def _where(key: Key) -> str:
    """``module.py:line name`` with the path shortened to what identifies it."""
    filename, line, name = key
    if filename == "~":
        return name  # a builtin or C function: '<built-in method ...>'
    parts = Path(filename).parts
    for anchor in ("nodetls", "asyncio", "uvloop", "benchmarks", "site-packages"):
        if anchor in parts:
            i = len(parts) - 1 - parts[::-1].index(anchor)
            filename = "/".join(parts[i:])
            break
    else:
        filename = Path(filename).name
    return f"{filename}:{line} {name}"


def report(prof: cProfile.Profile, ops: int, what: str, top: int, sort: str) -> str:
    """The per-operation summary and top lists of one profiled workload."""
    stats: dict[Key, tuple[int, int, float, float, Any]] = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    py_calls = sum(nc for k, (_, nc, _, _, _) in stats.items() if k[0] != "~")
    c_calls = sum(nc for k, (_, nc, _, _, _) in stats.items() if k[0] == "~")
    total_own = sum(tt for (_, _, tt, _, _) in stats.values())
    lines = [f"== {what}: {ops:,} operations profiled",
             f"   {(py_calls + c_calls) / ops:,.0f} function calls per operation: "
             f"{py_calls / ops:,.0f} Python functions + {c_calls / ops:,.0f} C functions "
             "(builtins, cffi)",
             f"   {total_own / ops * 1e6:,.0f} µs of this thread's CPU per operation under the "
             "profiler (its overhead included)"]
    by_module: dict[str, list[float]] = {}  # module -> [calls, own seconds]
    for key, (_, nc, tt, _, _) in stats.items():
        where = _where(key).split(":")[0] if key[0] != "~" else "C functions (builtins, cffi)"
        if where.startswith("nodetls/_"):
            where = "/".join(where.split("/")[:2])  # nodetls/_engine, nodetls/_tls, ...
        acc = by_module.setdefault(where, [0.0, 0.0])
        acc[0] += nc
        acc[1] += tt
    lines += ["", "   own time by module:", f"   {'calls/op':>9} {'own µs/op':>10} {'share':>6}  module"]
    ranked_modules = sorted(by_module.items(), key=lambda kv: -kv[1][1])
    for where, (calls, own) in [kv for kv in ranked_modules if kv[1][1] >= 0.005 * total_own][:12]:
        lines.append(f"   {calls / ops:9.1f} {own / ops * 1e6:10.1f} {own / total_own:6.0%}  "
                     f"{where}")
    orders = {"cum": ("cumulative", 3), "own": ("own", 2)}
    for name in ([sort] if sort != "both" else ["cum", "own"]):
        label, idx = orders[name]
        ranked = sorted(stats.items(), key=lambda kv: kv[1][idx], reverse=True)[:top]
        lines += ["", f"   top {top} by {label} time:",
                  f"   {'calls/op':>9} {'own µs/op':>10} {'cum µs/op':>10}  function"]
        for key, (_, nc, tt, ct, _) in ranked:
            lines.append(f"   {nc / ops:9.2f} {tt / ops * 1e6:10.1f} {ct / ops * 1e6:10.1f}  "
                         f"{_where(key)}")
    return "\n".join(lines)


class BytecodeCounter:
    """``enable()``/``disable()`` as a profiler's: counts the bytecodes and calls of each Python
    function run by this thread in between (``sys.settrace`` with opcode events)."""

    def __init__(self) -> None:
        self.ops: dict[Key, int] = {}
        self.calls: dict[Key, int] = {}
        self._keys: dict[Any, Key] = {}  # code object -> key

    def _key(self, code: Any) -> Key:
        key = self._keys.get(code)
        if key is None:
            key = self._keys[code] = (code.co_filename, code.co_firstlineno, code.co_qualname)
        return key

    def _trace(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "opcode":
            key = self._key(frame.f_code)
            self.ops[key] = self.ops.get(key, 0) + 1
        elif event == "call":
            frame.f_trace_opcodes = True
            key = self._key(frame.f_code)
            self.calls[key] = self.calls.get(key, 0) + 1
        return self._trace

    def enable(self) -> None:
        if sys.version_info[:2] == (3, 12):
            # 3.12's sys.settrace (over PEP 669) sends opcode events only if some frame's
            # f_trace_opcodes was set before it is called; setting it in the trace function, as
            # _trace does, is not enough there (CPython gh-114480, gh-103615: fixed in 3.13).
            # This frame has no f_trace, so it reports nothing itself.
            sys._getframe().f_trace_opcodes = True
        sys.settrace(self._trace)

    def disable(self) -> None:
        sys.settrace(None)


def report_bytecodes(counter: BytecodeCounter, ops: int, what: str, top: int) -> str:
    """Bytecodes and Python calls per operation, in total, by module and by function."""
    total = sum(counter.ops.values())
    lines = [f"== {what}: {ops:,} operations traced",
             f"   {total / ops:,.0f} Python bytecodes and {sum(counter.calls.values()) / ops:,.1f} "
             "Python function calls per operation (compiled code executes none)"]
    by_module: dict[str, int] = {}
    for key, n in counter.ops.items():
        where = _where(key).split(":")[0]
        if where.startswith("nodetls/_"):
            where = "/".join(where.split("/")[:2])
        by_module[where] = by_module.get(where, 0) + n
    lines += ["", "   by module:", f"   {'bytecodes/op':>12} {'share':>6}  module"]
    for where, n in sorted(by_module.items(), key=lambda kv: -kv[1])[:12]:
        lines.append(f"   {n / ops:12.1f} {n / max(total, 1):6.0%}  {where}")
    lines += ["", f"   top {top} functions by bytecodes:",
              f"   {'bytecodes/op':>12} {'calls/op':>9}  function"]
    for key, n in sorted(counter.ops.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"   {n / ops:12.1f} {counter.calls.get(key, 0) / ops:9.2f}  {_where(key)}")
    return "\n".join(lines)


def _profiler() -> cProfile.Profile:
    """A profiler timing with this thread's CPU clock: time blocked in epoll is not counted."""
    return cProfile.Profile(time.thread_time_ns, 1e-9)


# ------------------------------------------------------------------------------------ server side
def _tlsbench(binary: Path, pin: procs.Pinning, port: int, *args: str) -> dict[str, Any]:
    argv = pin.argv([str(binary), "-h", "127.0.0.1", "-p", str(port), *args], pin.client)
    return procs.run_json(argv, 300, "tlsbench")


async def _profile_server(args: argparse.Namespace, files: dict[str, Path], binary: Path,
                          pin: procs.Pinning) -> list[str]:
    loop = asyncio.get_running_loop()
    server: Any
    if args.server == "node-style":
        from nodetls_echo import make_server

        opts = argparse.Namespace(cert=files["ecdsa-cert"], key=files["ecdsa-key"],
                                  host="127.0.0.1", port=0, store=args.store, redis=args.redis,
                                  ticket_keys=args.ticket_keys)
        listening: asyncio.Future[None] = loop.create_future()
        server = make_server(opts, on_listening=lambda: listening.set_result(None))
        await asyncio.wait_for(listening, 30)
        port = server.address()["port"]
    else:
        server = await _start_protocol_server(args.server, files)
        port = server.sockets[0].getsockname()[1]
    jobs = {"hs": ("full handshake", ["-m", "hs", "-c", "4", "-n", str(args.handshakes),
                                      "-t", "120"], ["-m", "hs", "-c", "4", "-t", "0.5"]),
            "rr64": ("64 B round trip", ["-m", "pingpong", "-s", "64", "-n", str(args.round_trips),
                                         "-t", "120"], ["-m", "pingpong", "-s", "64", "-t", "0.5"]),
            "bulk": ("16 KiB echoed (bulk)", ["-m", "bulk", "-c", "1", "-b", str(2**31),
                                               "-t", str(args.bulk_seconds)],
                     ["-m", "bulk", "-c", "1", "-b", str(2**28), "-t", "0.5"]),
            "resume": ("resumed handshake", ["-m", "resume", "-c", "4", "-n", str(args.handshakes),
                                             "-t", "120"], ["-m", "resume", "-c", "4", "-t", "0.5"])}
    out = []
    try:
        for name, (label, measured, warm) in jobs.items():
            if name != args.only if args.only else name == "resume":
                continue
            await loop.run_in_executor(None, _tlsbench, binary, pin, port, *warm)
            await _settled(server)
            prof: Any = BytecodeCounter() if args.bytecodes else _profiler()
            prof.enable()  # this thread only: the executor thread running tlsbench is not profiled
            res = await loop.run_in_executor(None, _tlsbench, binary, pin, port, *measured)
            prof.disable()
            if args.save and not args.bytecodes:
                prof.dump_stats(f"{args.save}-{args.server}-{args.loop}-{name}.pstats")
            ops = int(res["bytes_recvd"]) // 16384 if name == "bulk" else int(res["ops"])
            what = f"{args.server} server, per {label} ({args.loop})"
            out.append(report_bytecodes(prof, ops, what, args.top) if args.bytecodes
                       else report(prof, ops, what, args.top, args.sort))
    finally:  # a failed or timed-out run must not leave the server listening (run() would wait)
        server.close()
    return out


async def _settled(server: Any, limit: float = 10.0) -> None:
    """Wait (at most ``limit`` seconds) until the Node-style ``server`` holds no connection: the
    warm-up's last connections, still being served when its tlsbench returns on a loaded machine,
    are not counted in the profiled operations."""
    connections = getattr(server, "connections", None)
    if not isinstance(connections, int):
        return
    deadline = asyncio.get_running_loop().time() + limit
    while server.connections and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)


async def _start_protocol_server(kind: str, files: dict[str, Path]) -> Any:
    """``EchoProtocol`` (servers/_common.py) behind ``nodetls.aio`` (as servers/aio_echo.py) or
    behind asyncio's own TLS (as servers/asyncio_echo.py), listening on 127.0.0.1."""
    from _common import EchoProtocol

    if kind == "aio":
        from nodetls import aio

        return await aio.create_server(EchoProtocol, "127.0.0.1", 0,
                                       key=files["ecdsa-key"].read_bytes(),
                                       cert=files["ecdsa-cert"].read_bytes(),
                                       min_version="TLSv1.3", backlog=511)
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(files["ecdsa-cert"], files["ecdsa-key"])
    return await asyncio.get_running_loop().create_server(EchoProtocol, "127.0.0.1", 0,
                                                          ssl=ctx, backlog=511)


# ------------------------------------------------------------------------------------ client side
async def _profile_client(args: argparse.Namespace, files: dict[str, Path],
                          pin: procs.Pinning) -> list[str]:
    from clients.nodetls_load import load

    node = procs.ServerProc("node", pin.argv(["node", str(HERE / "node" / "echo_server.js"),
                                              str(files["ecdsa-cert"]), str(files["ecdsa-key"]),
                                              "0", "127.0.0.1"], pin.client))
    out = []
    try:
        for name, label in (("hs", "full handshake"), ("rr", "64 B round trip")):
            if args.only and name != args.only.replace("rr64", "rr"):
                continue
            spec = {"mode": name, "port": node.port, "ca": str(files["ca"]), "concurrency": 8,
                    "size": 64, "warmup": 0.0}
            await load({**spec, "duration": 0.5})
            prof: Any = BytecodeCounter() if args.bytecodes else _profiler()
            prof.enable()
            res = await load({**spec, "duration": args.seconds})
            prof.disable()
            what = f"client, per {label} ({args.loop})"
            out.append(report_bytecodes(prof, int(res["total_ops"]), what, args.top)
                       if args.bytecodes else report(prof, int(res["total_ops"]), what, args.top,
                                                     args.sort))
    finally:
        node.stop()
    return out


def main(argv: list[str] | None = None) -> int:
    import nodetls as tls

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 2)[2],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--side", choices=("server", "client"), default="server")
    ap.add_argument("--server", choices=("node-style", "aio", "asyncio-ssl"), default="node-style",
                    help="server side: nodetls's Node-style echo server (default), nodetls.aio "
                    "serving an asyncio.Protocol, or asyncio's own TLS serving the same protocol")
    ap.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    ap.add_argument("--only", choices=("hs", "rr64", "bulk", "resume"),
                    help="one workload only (resume: only when asked, with --store or --ticket-keys)")
    ap.add_argument("--store", choices=("memory", "redis", "redis-py"),
                    help="server side: resumption from a nodetls.sessions store (as bench.py's store-*)")
    ap.add_argument("--redis", help="redis://host:port URL for --store redis/redis-py")
    ap.add_argument("--ticket-keys", action="store_true", help="server side: rotating TicketKeys")
    ap.add_argument("--handshakes", type=int, default=2000, help="server side (default 2000)")
    ap.add_argument("--round-trips", type=int, default=20000, help="server side (default 20000)")
    ap.add_argument("--bulk-seconds", type=float, default=3.0, help="server side (default 3)")
    ap.add_argument("--seconds", type=float, default=3.0, help="client side, per workload")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--save", metavar="PREFIX",
                    help="server side: also write each workload's pstats file (PREFIX-...)")
    ap.add_argument("--sort", choices=("cum", "own", "both"), default="both")
    ap.add_argument("--bytecodes", action="store_true",
                    help="count each Python function's bytecodes per operation instead of timing")
    args = ap.parse_args(argv)

    procs.raise_fd_limit()
    pin = procs.pinning()
    if pin.server is not None:
        os.sched_setaffinity(0, {pin.server})  # this process is the one under test
    binary = procs.build_tlsbench(HERE.parent, HERE / "build")
    started = time.monotonic()
    result: list[str] = []
    with tempfile.TemporaryDirectory(prefix="nodetls-profile-") as tmp:
        files = write_pki(Path(tmp))

        async def run() -> None:
            asyncio.get_running_loop().set_exception_handler(lambda _l, _c: None)
            if args.side == "server":
                result.extend(await _profile_server(args, files, binary, pin))
            else:
                result.extend(await _profile_client(args, files, pin))

        tls.run(run, loop=args.loop)
    commit = procs.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                       text=True, cwd=HERE.parent).stdout.strip()
    what = f"{args.server} server" if args.side == "server" else "client side"
    print(f"nodetls {what}, {args.loop} loop, commit {commit}, "
          f"{pin.describe()}\n")
    print("\n\n".join(result))
    print(f"\n(took {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
