"""nodetls's TLS echo server vs Node's, side by side on this machine, with one load generator.

    python benchmarks/bench_tls.py            # full run (a few minutes)
    python benchmarks/bench_tls.py --quick    # about 30 s
    python benchmarks/bench_tls.py --smoke    # a few seconds: checks that everything still runs

Both servers are Node's ``tls.createServer`` docs echo server (``socket.pipe(socket)``), each in
its own process on 127.0.0.1, serving the same ECDSA P-256 certificate over TLS 1.3:
``benchmarks/node/echo_server.js`` for Node, ``bench_tls.py serve`` for nodetls. The load
generator, the same for both, is ``benchmarks/node/load.js`` (Node's tls client; see README.md
for why). It measures, per server: full and resumed handshakes/s, 64-byte round trips/s over one
connection, bulk echo MB/s over one connection, and the server's RSS per idle TLS connection.
Runs are interleaved (A B, then B A, ...) and each ratio is the median of the per-round
nodetls/Node ratios, so slow drifts of a noisy machine cancel out. The server's CPU time per
operation (from ``/proc``) is printed too: where the generator, not the server, is the limit (Node's
server on two cores), it is the figure to compare.

The client-side comparison runs ``bench_tls.py load`` (the same generator written with nodetls)
and ``load.js`` against Node's server.

Internal sub-commands (run by the benchmark itself):

    bench_tls.py serve --cert C --key K [--port 0] [--host 127.0.0.1]   # the nodetls echo server
    bench_tls.py load '{"mode": "hs", "port": ..., "ca": ...}'          # the nodetls generator
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LOAD_JS = HERE / "node" / "load.js"
SERVER_JS = HERE / "node" / "echo_server.js"
HOST = "127.0.0.1"
MiB = 1024 * 1024
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# ====================================================================================== profiles
@dataclass(frozen=True)
class Profile:
    """How long and how big each measurement is."""

    name: str
    rounds: int  # interleaved rounds of each server-side throughput figure
    duration: float  # measured seconds per run (handshakes, round trips)
    warmup: float  # unmeasured seconds before that
    concurrency: int  # parallel connection loops for the handshake figures
    bulk_bytes: int  # echoed over one connection
    idle_conns: int  # idle connections for the memory figure
    memory_rounds: int
    client_rounds: int  # rounds of the client-side comparison (0: skip it)


PROFILES = {
    "smoke": Profile("smoke", 1, 0.25, 0.05, 4, 1 * MiB, 20, 1, 1),
    "quick": Profile("quick", 2, 0.8, 0.2, 8, 16 * MiB, 200, 1, 1),
    "full": Profile("full", 5, 3.0, 0.5, 8, 64 * MiB, 500, 3, 3),
}

# (mode, label, unit of the per-operation CPU figure, scale from seconds per op to that unit)
METRICS = [
    ("hs", "full handshakes/s", "µs/hs", 1e6),
    ("resume", "resumed handshakes/s", "µs/hs", 1e6),
    ("rr", "64 B round trips/s", "µs/rt", 1e6),
    ("bulk", "bulk MB/s", "ms/MB", 1e9),  # bulk ops are bytes: s/byte * 1e9 = ms/MB
]


# ====================================================================================== processes
def _env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("SSLKEYLOGFILE", "NODE_OPTIONS", "NODE_TLS_REJECT_UNAUTHORIZED",
                 "NODE_EXTRA_CA_CERTS"):
        env.pop(name, None)
    return env


def _proc_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of ``pid`` (Linux ``/proc``; ``None`` elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14 and 15)


def _proc_rss_kib(pid: int) -> int | None:
    """Resident set size of ``pid`` in KiB (Linux ``/proc``; ``None`` elsewhere)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _read_line(proc: subprocess.Popen[bytes], timeout: float, what: str) -> str:
    """The next line ``proc`` prints on stdout, waiting at most ``timeout`` seconds."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buf = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError(f"{what}: no output within {timeout} s")
        chunk = os.read(fd, 1)  # one byte at a time: nothing after the line is consumed
        if not chunk:
            raise RuntimeError(f"{what}: exited (rc={proc.wait(5)}) before printing a line")
        buf += chunk
    return buf.decode().strip()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class EchoServer:
    """An echo server process (``'nodetls'`` or ``'Node'``) that printed ``LISTENING <port>``."""

    def __init__(self, name: str, argv: Sequence[str]) -> None:
        self.name = name
        self.argv = list(argv)
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._stderr, env=_env())
        try:
            line = _read_line(self.proc, 20.0, f"{name} server")
            if not line.startswith("LISTENING "):
                raise RuntimeError(f"{name} server said {line!r}")
            self.port = int(line.split()[1])
        except BaseException:
            self.stop()
            raise

    def cpu_seconds(self) -> float | None:
        return _proc_cpu_seconds(self.proc.pid)

    def rss_kib(self) -> int | None:
        return _proc_rss_kib(self.proc.pid)

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            self._stderr.seek(0)
            err = self._stderr.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"{self.name} server exited (rc={self.proc.returncode}):\n{err}")

    def stop(self) -> None:
        _stop(self.proc)
        self._stderr.close()


@dataclass
class Run:
    """One load-generator run against one server."""

    phase: str  # 'server' (comparing servers) or 'client' (comparing clients)
    server: str
    client: str
    mode: str
    rate: float  # ops/s (bytes/s for bulk)
    ops: int
    seconds: float
    client_cpu_per_op: float | None  # seconds of generator CPU per op, measured window
    server_cpu_per_op: float | None  # seconds of server CPU per op, whole run
    generator_busy: float  # generator CPU / wall time in the measured window
    errors: int
    extra: dict[str, Any] = field(default_factory=dict)


class Bench:
    """Runs the load generators against the servers and collects :class:`Run` records."""

    def __init__(self, profile: Profile, node: str, ca: Path, cert: Path, key: Path) -> None:
        self.profile = profile
        self.node = node
        self.ca, self.cert, self.key = ca, cert, key
        self.runs: list[Run] = []
        self.memory: dict[str, list[float]] = {"nodetls": [], "Node": []}

    # -- servers ------------------------------------------------------------------------------
    def start_server(self, name: str) -> EchoServer:
        if name == "Node":
            return EchoServer(name, [self.node, str(SERVER_JS), str(self.cert), str(self.key),
                                     "0", HOST])
        return EchoServer(name, [sys.executable, str(Path(__file__).resolve()), "serve",
                                 "--cert", str(self.cert), "--key", str(self.key), "--host", HOST])

    # -- generators -----------------------------------------------------------------------------
    def _spec(self, mode: str, port: int, **extra: Any) -> dict[str, Any]:
        p = self.profile
        return {"mode": mode, "port": port, "host": HOST, "ca": str(self.ca),
                "duration": p.duration, "warmup": p.warmup, "concurrency": p.concurrency,
                "size": 64, "bytes": p.bulk_bytes, **extra}

    def _generator_argv(self, client: str, spec: dict[str, Any]) -> list[str]:
        if client == "node":
            return [self.node, str(LOAD_JS), json.dumps(spec)]
        return [sys.executable, str(Path(__file__).resolve()), "load", json.dumps(spec)]

    def load(self, server: EchoServer, mode: str, client: str = "node",
             phase: str = "server") -> Run:
        """One generator run of ``mode`` against ``server``."""
        spec = self._spec(mode, server.port)
        timeout = 60.0 + self.profile.warmup + self.profile.duration + self.profile.bulk_bytes / 2e6
        cpu0 = server.cpu_seconds()
        res = subprocess.run(self._generator_argv(client, spec), capture_output=True,
                             timeout=timeout, env=_env())
        cpu1 = server.cpu_seconds()
        server.check_alive()
        if res.returncode != 0:
            raise RuntimeError(f"{client} generator ({mode} against {server.name}) failed:\n"
                               f"{res.stderr.decode(errors='replace')[-3000:]}")
        out = json.loads(res.stdout.decode().strip().splitlines()[-1])
        server_cpu = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
        run = Run(phase=phase, server=server.name, client=client, mode=mode, rate=float(out["rate"]),
                  ops=int(out["ops"]), seconds=float(out["seconds"]),
                  client_cpu_per_op=out["cpu"] / out["ops"] if out["ops"] else None,
                  server_cpu_per_op=(server_cpu / out["total_ops"]
                                     if server_cpu is not None and out["total_ops"] else None),
                  generator_busy=out["cpu"] / out["seconds"] if out["seconds"] else 0.0,
                  errors=int(out["errors"]),
                  extra={k: v for k, v in out.items() if k == "not_resumed"})
        self.runs.append(run)
        return run

    def idle_memory(self, name: str) -> float:
        """KiB of server RSS per idle TLS connection, on a fresh server process."""
        n = self.profile.idle_conns
        server = self.start_server(name)
        try:
            # Warm up first (code paths, buffers, lazy imports): a few connections, then closed.
            self._hold_idle(server, min(16, n))
            time.sleep(0.2)
            before = server.rss_kib()
            after = self._hold_idle(server, n, measure=server.rss_kib)
            server.check_alive()
        finally:
            server.stop()
        if before is None or after is None:
            return float("nan")
        per_conn = (after - before) / n
        self.memory[name].append(per_conn)
        return per_conn

    def _hold_idle(self, server: EchoServer, n: int,
                   measure: Callable[[], int | None] | None = None) -> int | None:
        """Open ``n`` idle connections to ``server``; call ``measure`` while they are open."""
        spec = self._spec("idle", server.port, connections=n, concurrency=16)
        proc = subprocess.Popen(self._generator_argv("node", spec), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
        try:
            line = _read_line(proc, 30.0 + n / 20, "idle generator")
            if line != f"READY {n}":
                raise RuntimeError(f"idle generator said {line!r}")
            time.sleep(0.5)  # let the server settle (pending frees, GC)
            value = measure() if measure else None
            assert proc.stdin is not None
            proc.stdin.close()  # the generator closes its connections and exits
            proc.wait(30)
            return value
        finally:
            _stop(proc)


# ====================================================================================== reporting
def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _fmt(value: float | None, digits: int = 0) -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    return f"{value:,.{digits}f}"


def _paired_ratio(runs: list[Run], key: Callable[[Run], float | None], a: str, b: str,
                  by: str) -> float:
    """Median over rounds of ``key(a) / key(b)``, runs paired in order of their round."""
    xs = [r for r in runs if getattr(r, by) == a]
    ys = [r for r in runs if getattr(r, by) == b]
    ratios = []
    for x, y in zip(xs, ys, strict=False):
        kx, ky = key(x), key(y)
        if kx is not None and ky:
            ratios.append(kx / ky)
    return _median(ratios)


def _rate(run: Run, mode: str) -> float:
    return run.rate / 1e6 if mode == "bulk" else run.rate


def report(bench: Bench, node_version: str) -> str:
    """The result tables, as text."""
    p = bench.profile
    lines = [
        f"nodetls vs Node {node_version}: TLS 1.3, ECDSA P-256, loopback; "
        f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}",
        f"profile {p.name}: {p.rounds} round(s) of {p.duration} s runs (+{p.warmup} s warm-up), "
        f"{p.concurrency} parallel handshake loops, bulk {p.bulk_bytes // MiB} MiB, "
        f"{p.idle_conns} idle connections",
        "",
        "SERVER SIDE: the same load generator (Node, benchmarks/node/load.js) against each server",
    ]
    head = (f"{'':22} {'nodetls':>10} {'Node':>10} {'ratio':>7}   "
            f"{'server CPU/op: nodetls':>22} {'Node':>8} {'ratio':>7}  {'gen. busy':>9}")
    lines.append(head)
    for mode, label, unit, scale in METRICS:
        runs = [r for r in bench.runs if r.mode == mode and r.phase == "server"]
        if not runs:
            continue
        rows = {name: [r for r in runs if r.server == name] for name in ("nodetls", "Node")}
        rate = {n: _median([_rate(r, mode) for r in rs]) for n, rs in rows.items()}
        cpu = {n: _median([r.server_cpu_per_op * scale for r in rs
                           if r.server_cpu_per_op is not None]) for n, rs in rows.items()}
        busy = {n: _median([r.generator_busy for r in rs]) for n, rs in rows.items()}
        ratio = _paired_ratio(runs, lambda r: r.rate, "nodetls", "Node", "server")
        cpu_ratio = _paired_ratio(runs, lambda r: r.server_cpu_per_op, "nodetls", "Node",
                                  "server")
        flag = {n: "*" if busy[n] > 0.9 else " " for n in rows}
        lines.append(
            f"{label:22} {_fmt(rate['nodetls'], 1):>9}{flag['nodetls']} "
            f"{_fmt(rate['Node'], 1):>9}{flag['Node']} {_fmt(ratio, 2):>7}   "
            f"{_fmt(cpu['nodetls'], 1) + ' ' + unit:>22} {_fmt(cpu['Node'], 1):>8} "
            f"{_fmt(cpu_ratio, 2):>7}  {_fmt(busy['nodetls'] * 100)}%/{_fmt(busy['Node'] * 100)}%")
    mem = {n: _median(v) for n, v in bench.memory.items()}
    if bench.memory["nodetls"]:
        mem_ratio = _median([a / b for a, b in zip(bench.memory["nodetls"], bench.memory["Node"],
                                                     strict=False) if b])
        lines.append(f"{'KiB per idle conn':22} {_fmt(mem['nodetls'], 1):>9}  "
                     f"{_fmt(mem['Node'], 1):>9}  {_fmt(mem_ratio, 2):>7}   "
                     f"(server RSS delta / {p.idle_conns} connections)")
    client_runs = [r for r in bench.runs if r.phase == "client"]
    if client_runs:
        lines += ["", "CLIENT SIDE: each client (its own process) against Node's server",
                  f"{'':22} {'nodetls':>10} {'Node':>10} {'ratio':>7}   "
                  f"{'client CPU/op: nodetls':>22} {'Node':>8} {'ratio':>7}"]
        for mode, label, unit, scale in METRICS:
            runs = [r for r in client_runs if r.mode == mode]
            py = [r for r in runs if r.client == "nodetls"]
            js = [r for r in runs if r.client == "node"]
            if not py:
                continue
            pair = py + js
            rate_ratio = _paired_ratio(pair, lambda r: r.rate, "nodetls", "node", "client")
            cpu_ratio = _paired_ratio(pair, lambda r: r.client_cpu_per_op, "nodetls", "node",
                                      "client")
            cpu_py = _median([r.client_cpu_per_op * scale for r in py if r.client_cpu_per_op])
            cpu_js = _median([r.client_cpu_per_op * scale for r in js if r.client_cpu_per_op])
            lines.append(
                f"{label:22} {_fmt(_median([_rate(r, mode) for r in py]), 1):>10} "
                f"{_fmt(_median([_rate(r, mode) for r in js]), 1):>10} {_fmt(rate_ratio, 2):>7}   "
                f"{_fmt(cpu_py, 1) + ' ' + unit:>22} {_fmt(cpu_js, 1):>8} {_fmt(cpu_ratio, 2):>7}")
    errors = sum(r.errors for r in bench.runs)
    not_resumed = sum(r.extra.get("not_resumed", 0) for r in bench.runs)
    lines += [
        "",
        "ratio: median of per-round nodetls/Node ratios (runs interleaved). Rates: higher is "
        "better; CPU/op and KiB: lower is better.",
        "*: the load generator was busy >90% of the measured time, so this rate is the "
        "generator's limit, not the server's:",
        "   compare the server CPU per operation instead. 'gen. busy': generator CPU / wall "
        "time (nodetls/Node server).",
    ]
    if errors or not_resumed:
        lines.append(f"WARNING: {errors} connection errors, {not_resumed} resumption attempts "
                     "not resumed")
    return "\n".join(lines)


# ====================================================================================== main
def _interleaved(names: Sequence[str], rounds: int) -> Iterator[tuple[int, list[str]]]:
    for i in range(rounds):
        yield i, list(names) if i % 2 == 0 else list(reversed(names))


def bench_main(argv: Sequence[str] | None = None) -> int:
    """The benchmark (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a ~30 s run")
    size.add_argument("--smoke", action="store_true", help="a few seconds: does it still run?")
    ap.add_argument("--rounds", type=int, help="interleaved rounds (overrides the profile)")
    ap.add_argument("--duration", type=float, help="seconds per run (overrides the profile)")
    ap.add_argument("--no-client-side", action="store_true",
                    help="skip the nodetls-client vs Node-client comparison")
    ap.add_argument("--json", type=Path, help="also write every run to this JSON file")
    args = ap.parse_args(argv)

    profile = PROFILES["smoke" if args.smoke else "quick" if args.quick else "full"]
    overrides: dict[str, Any] = {}
    if args.rounds:
        overrides["rounds"] = args.rounds
    if args.duration:
        overrides["duration"] = args.duration
    if args.no_client_side:
        overrides["client_rounds"] = 0
    if overrides:
        profile = Profile(**{**asdict(profile), **overrides})

    node = shutil.which("node")
    if node is None:
        print("bench_tls.py needs `node` (v20) on PATH", file=sys.stderr)
        return 2
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True,
                                  timeout=30).stdout.strip()
    sys.path.insert(0, str(HERE.parent / "examples"))
    from _devcert import make_dev_pki

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="nodetls-bench-") as tmp:
        files = make_dev_pki("localhost").write(tmp)
        bench = Bench(profile, node, files["ca"], files["cert"], files["key"])
        servers = {name: bench.start_server(name) for name in ("nodetls", "Node")}
        try:
            for mode, label, _, _ in METRICS:
                print(f"... {label}", file=sys.stderr, flush=True)
                for _, order in _interleaved(["nodetls", "Node"], profile.rounds):
                    for name in order:
                        bench.load(servers[name], mode)
            print("... idle connections", file=sys.stderr, flush=True)
            for _, order in _interleaved(["nodetls", "Node"], profile.memory_rounds):
                for name in order:
                    bench.idle_memory(name)
            if profile.client_rounds:
                print("... client side", file=sys.stderr, flush=True)
                for mode, _, _, _ in METRICS:
                    for _, order in _interleaved(["nodetls", "node"], profile.client_rounds):
                        for client in order:
                            bench.load(servers["Node"], mode, client, phase="client")
        finally:
            for server in servers.values():
                server.stop()
    print(report(bench, node_version))
    print(f"(took {time.monotonic() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps({"profile": asdict(profile), "node": node_version,
                                         "runs": [asdict(r) for r in bench.runs],
                                         "memory_kib_per_conn": bench.memory}, indent=1))
    return 0


# ====================================================================================== nodetls server
def serve_main(argv: Sequence[str]) -> int:
    """``bench_tls.py serve``: the nodetls echo server (Node's docs server: ``pipe(socket)``)."""
    import nodetls as tls

    ap = argparse.ArgumentParser(prog="bench_tls.py serve")
    ap.add_argument("--cert", type=Path, required=True)
    ap.add_argument("--key", type=Path, required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default=HOST)
    args = ap.parse_args(argv)

    def main() -> None:
        def on_secure_connection(socket: tls.TLSSocket) -> None:
            socket.on("error", lambda err: None)  # a generator going away is not our problem
            socket.pipe(socket)

        server = tls.create_server({"key": args.key.read_bytes(), "cert": args.cert.read_bytes(),
                                    "min_version": "TLSv1.3"}, on_secure_connection)
        server.on("tlsClientError", lambda err, socket: None)
        server.listen(args.port, args.host,
                      callback=lambda: print("LISTENING", server.address()["port"], flush=True))

    with contextlib.suppress(KeyboardInterrupt):
        tls.run(main)
    return 0


# ====================================================================================== nodetls generator
class _Reader:
    """Counts the bytes a socket receives; :meth:`until` waits for ``n`` more."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.got = 0
        self._want = 0
        self._waiter: asyncio.Future[None] | None = None
        sock.on("data", self._on_data)

    def _on_data(self, chunk: bytes) -> None:
        self.got += len(chunk)
        if self._waiter is not None and self.got >= self._want:
            waiter, self._waiter = self._waiter, None
            if not waiter.done():
                waiter.set_result(None)

    def until(self, n: int) -> asyncio.Future[None]:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._want = self.got + n
        if self.got >= self._want:
            fut.set_result(None)
        else:
            self._waiter = fut
        return fut


async def _load(spec: dict[str, Any]) -> dict[str, Any]:
    """The nodetls load generator: ``load.js``'s modes ``hs``, ``resume``, ``rr``, ``bulk``."""
    import nodetls as tls

    loop = asyncio.get_running_loop()
    ctx = tls.create_secure_context(ca=[Path(spec["ca"]).read_bytes()], min_version="TLSv1.3")

    def connect(**extra: Any) -> Any:
        return tls.connect(spec["port"], spec["host"], servername="localhost",
                           secure_context=ctx, **extra)

    async def closed(sock: Any) -> None:
        await asyncio.wait_for(sock.wait_closed(), 30)

    async def one_connection(session: bytes | None) -> bool:
        sock = connect(session=session) if session else connect()
        sock.resume()
        try:
            await asyncio.wait_for(sock, 30)
        except BaseException:
            sock.destroy()
            raise
        reused = bool(sock.is_session_reused())
        sock.end()
        await closed(sock)
        return reused

    async def first_session() -> bytes:
        sock = connect()
        got: asyncio.Future[bytes] = loop.create_future()
        sock.on("session", lambda s: got.done() or got.set_result(s))
        await asyncio.wait_for(sock, 30)
        reader = _Reader(sock)
        sock.write(b"x")
        await asyncio.wait_for(reader.until(1), 30)
        session = await asyncio.wait_for(got, 30)
        sock.end()
        await closed(sock)
        return session

    async def timed(loops: int, step: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
        t0 = time.monotonic()
        t_measure, t_end = t0 + spec["warmup"], t0 + spec["warmup"] + spec["duration"]
        state: dict[str, Any] = {"ops": 0, "total": 0, "errors": 0, "cpu0": None, "cpu1": None,
                                 "t1": None}

        async def worker() -> None:
            while True:
                t = time.monotonic()
                if state["cpu0"] is None and t >= t_measure:
                    state["cpu0"] = time.process_time()
                if t >= t_end:
                    if state["cpu1"] is None:
                        state["cpu1"], state["t1"] = time.process_time(), t
                    return
                try:
                    await step()
                except Exception:
                    state["errors"] += 1
                    if state["errors"] > 100:
                        raise
                    continue
                state["total"] += 1
                if t_measure <= time.monotonic() < t_end:
                    state["ops"] += 1

        await asyncio.gather(*(worker() for _ in range(loops)))
        seconds = min(state["t1"], t_end) - t_measure
        return {"ops": state["ops"], "seconds": seconds, "rate": state["ops"] / seconds,
                "total_ops": state["total"], "cpu": state["cpu1"] - state["cpu0"],
                "errors": state["errors"]}

    async def open_reader() -> _Reader:
        sock = connect()
        await asyncio.wait_for(sock, 30)
        return _Reader(sock)

    async def write_all(sock: Any, total: int) -> None:
        chunk = b"b" * 65536
        view = memoryview(chunk)
        while total > 0:
            n = min(total, len(chunk))
            total -= n
            if not sock.write(chunk if n == len(chunk) else bytes(view[:n])):
                await asyncio.wait_for(sock.drain(), 30)

    mode = spec["mode"]
    if mode in ("hs", "resume"):
        session = await first_session() if mode == "resume" else None
        not_resumed = 0

        async def step() -> None:
            nonlocal not_resumed
            if not await one_connection(session) and session is not None:
                not_resumed += 1

        res = await timed(spec["concurrency"], step)
        if session is not None:
            res["not_resumed"] = not_resumed
            res["total_ops"] += 1
        return res
    if mode == "rr":
        reader = await open_reader()
        msg = b"r" * spec["size"]

        async def round_trip() -> None:
            fut = reader.until(len(msg))
            reader.sock.write(msg)
            await fut

        res = await timed(1, round_trip)
        reader.sock.end()
        await closed(reader.sock)
        return res
    if mode == "bulk":
        reader = await open_reader()
        total = spec["bytes"]
        warm = min(total, 4 * MiB) >> 2
        fut = reader.until(warm)
        await write_all(reader.sock, warm)
        await asyncio.wait_for(fut, 60)
        t0, cpu0 = time.monotonic(), time.process_time()
        fut = reader.until(total)
        await write_all(reader.sock, total)
        await asyncio.wait_for(fut, 60 + total / 1e6)
        seconds, cpu = time.monotonic() - t0, time.process_time() - cpu0
        reader.sock.end()
        await closed(reader.sock)
        return {"ops": total, "seconds": seconds, "rate": total / seconds,
                "total_ops": total + warm, "cpu": cpu, "errors": 0}
    raise ValueError(f"unknown mode {mode!r} (the nodetls generator has hs, resume, rr, bulk)")


def load_main(argv: Sequence[str]) -> int:
    """``bench_tls.py load SPEC``: run :func:`_load`, print its result as one JSON line."""
    import nodetls as tls

    spec = json.loads(argv[0])
    result: dict[str, Any] = {}

    async def main() -> None:
        result.update(mode=spec["mode"], client="nodetls", **await _load(spec))

    tls.run(main)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        sys.exit(serve_main(sys.argv[2:]))
    if sys.argv[1:2] == ["load"]:
        sys.exit(load_main(sys.argv[2:]))
    sys.exit(bench_main())
