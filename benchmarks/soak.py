"""A long run against one nodetls server (not in CI): ``python benchmarks/soak.py [--minutes 30]``.

The server runs in a child process (``--serve``) and prints a sample every ``--every`` seconds:
its RSS, open descriptors, live engines (``SSL*``), live ``SSL_CTX`` and open connections, and
every error it saw by event and code.  This process drives a mixed load with nodetls clients,
``--clients`` at a time: full handshakes, resumed handshakes (``session=`` from ``'session'``),
ping-pong, bulk echo, and abrupt disconnects (a raw socket that sends part of a ClientHello, or
a secure client, then resets the connection with ``SO_LINGER`` 0).  The report (markdown,
``--report``) says whether RSS stayed within +-5 % of its post-warm-up mean, descriptors and live
objects stayed flat, and that every error was an induced one.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import os
import random
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # fuzz.peers: the deterministic test certificate
sys.path.append(str(ROOT / "benchmarks"))  # appended: benchmarks/profile.py must not shadow stdlib

from fuzz.peers import pems  # noqa: E402
from harness.procs import dies_with_parent  # noqa: E402

import nodetls as tls  # noqa: E402

# Errors the induced disconnects cause on the server: the peer reset the connection (during or
# after the handshake) or closed it in the middle of a ClientHello.
INDUCED = {"ECONNRESET", "EPIPE"}


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def serve(every: float) -> None:
    """The server child: echo service, a JSON sample line every ``every`` seconds."""
    from nodetls._context.secure_context import live_contexts
    from nodetls._engine import live_engines

    ca, cert, key = pems()
    errors: collections.Counter[str] = collections.Counter()
    conns = 0

    def on_secure(sock: Any) -> None:
        nonlocal conns
        conns += 1

        def gone(*_: Any) -> None:
            nonlocal conns
            conns -= 1

        sock.on("error", lambda e: errors.update([f"socket:{getattr(e, 'code', type(e).__name__)}"]))
        sock.on("close", gone)
        sock.pipe(sock)

    server = tls.create_server({"key": key, "cert": cert}, on_secure)
    server.on("tlsClientError",
              lambda e, s: errors.update([f"tlsClientError:{getattr(e, 'code', type(e).__name__)}"]))
    await server.listen(0, "127.0.0.1")
    address = server.address()
    assert isinstance(address, dict)
    print("LISTENING", address["port"], flush=True)
    start = time.monotonic()
    while True:
        await asyncio.sleep(every)
        gc.collect()
        sample = {"t": round(time.monotonic() - start, 1), "rss_kb": _rss_kb(),
                  "fds": len(os.listdir("/proc/self/fd")), "engines": live_engines(),
                  "contexts": live_contexts(), "conns": conns, "errors": dict(errors)}
        print("SAMPLE", json.dumps(sample), flush=True)


class Load:
    """The client side: counts of what ran and of unexpected errors."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.ca = pems()[0]
        self.session: bytes | None = None
        self.ran: collections.Counter[str] = collections.Counter()
        self.unexpected: collections.Counter[str] = collections.Counter()
        self.induced: collections.Counter[str] = collections.Counter()
        self.resumed = 0

    async def _connect(self, session: bytes | None = None, induced: str = "") -> Any:
        opts: dict[str, Any] = {"ca": [self.ca], "servername": "localhost"}
        if session is not None:
            opts["session"] = session
        sock = tls.connect(self.port, "127.0.0.1", opts)
        sock.on("session", self._keep)
        sock.on("error", lambda e: self._error(e, induced))
        await asyncio.wait_for(tls.events.once(sock, "secureConnect"), 10)
        return sock

    def _error(self, exc: BaseException, induced: str) -> None:
        key = f"{induced or 'error'}:{getattr(exc, 'code', type(exc).__name__)}"
        (self.induced if induced else self.unexpected)[key] += 1

    def _keep(self, session: bytes) -> None:
        self.session = session

    async def _echo(self, sock: Any, payload: bytes, rounds: int) -> None:
        q: asyncio.Queue[bytes] = asyncio.Queue()
        sock.on("data", q.put_nowait)
        for _ in range(rounds):
            sock.write(payload)
            got = 0
            while got < len(payload):
                got += len(await asyncio.wait_for(q.get(), 10))

    async def _close(self, sock: Any) -> None:
        done = asyncio.ensure_future(tls.events.once(sock, "close"))
        sock.end()
        await asyncio.wait_for(done, 10)

    async def full(self) -> None:
        sock = await self._connect()
        await self._echo(sock, b"x" * 64, 1)
        await self._close(sock)

    async def resumed_handshake(self) -> None:
        sock = await self._connect(self.session)
        self.resumed += bool(sock.is_session_reused())
        await self._echo(sock, b"y" * 64, 1)
        await self._close(sock)

    async def ping_pong(self) -> None:
        sock = await self._connect(self.session)
        await self._echo(sock, b"p" * 32, 100)
        await self._close(sock)

    async def bulk(self) -> None:
        sock = await self._connect(self.session)
        await self._echo(sock, os.urandom(256 * 1024), 4)
        await self._close(sock)

    async def abrupt(self) -> None:
        """Induced: a reset in the middle of a ClientHello, or of a secure connection."""
        if random.random() < 0.5:
            s = socket.socket()
            s.setblocking(False)
            loop = asyncio.get_running_loop()
            await asyncio.wait_for(loop.sock_connect(s, ("127.0.0.1", self.port)), 10)
            await loop.sock_sendall(s, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(40))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            return
        sock = await self._connect(induced="abrupt")
        sock.write(b"z" * 4096)
        sock.destroy()  # close_notify, then closed at once: the echo meets a closed socket (RST)

    async def worker(self, deadline: float) -> None:
        kinds = [("full", self.full, 3), ("resumed", self.resumed_handshake, 3),
                 ("ping_pong", self.ping_pong, 2), ("bulk", self.bulk, 1),
                 ("abrupt", self.abrupt, 1)]
        names = [k[0] for k in kinds]
        fns = {k[0]: k[1] for k in kinds}
        weights = [k[2] for k in kinds]
        while time.monotonic() < deadline:
            name = random.choices(names, weights)[0]
            try:
                await fns[name]()
                self.ran[name] += 1
            except Exception as exc:  # noqa: BLE001 - counted and reported
                self.unexpected[f"{name}:{getattr(exc, 'code', type(exc).__name__)}"] += 1


def report(samples: list[dict[str, Any]], load: Load, minutes: float, warmup: float) -> str:
    steady = [s for s in samples if s["t"] >= warmup] or samples
    rss = [s["rss_kb"] for s in steady]
    mean = sum(rss) / len(rss)
    dev = max(abs(r - mean) / mean for r in rss) * 100
    errors: dict[str, int] = samples[-1]["errors"] if samples else {}
    other = {k: v for k, v in errors.items() if k.split(":", 1)[1] not in INDUCED}
    flat = dev <= 5
    lines = [
        f"Run: {minutes:g} min, {len(samples)} samples, warm-up {warmup:g} s; "
        f"{sum(load.ran.values())} client operations ({dict(load.ran)}), "
        f"{load.resumed} resumed handshakes.",
        "",
        f"* RSS after warm-up: mean {mean / 1024:.1f} MiB, min {min(rss) / 1024:.1f}, "
        f"max {max(rss) / 1024:.1f}, largest deviation {dev:.2f} % "
        f"({'within' if flat else 'OUTSIDE'} +-5 %).",
        f"* Descriptors after warm-up: {min(s['fds'] for s in steady)}..{max(s['fds'] for s in steady)};"
        f" live engines {min(s['engines'] for s in steady)}..{max(s['engines'] for s in steady)};"
        f" live SSL_CTX {min(s['contexts'] for s in steady)}..{max(s['contexts'] for s in steady)};"
        f" open connections {min(s['conns'] for s in steady)}..{max(s['conns'] for s in steady)}.",
        f"* Server errors (all induced unless listed below): {errors}.",
        f"* Server errors not induced: {other or 'none'}; client errors outside the induced "
        f"disconnects: {dict(load.unexpected) or 'none'} (errors on the abruptly closed client "
        f"sockets: {dict(load.induced) or 'none'}).",
        "",
        "| t (s) | RSS (MiB) | fds | engines | SSL_CTX | conns |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for s in samples:
        lines.append(f"| {s['t']:.0f} | {s['rss_kb'] / 1024:.1f} | {s['fds']} | {s['engines']} | "
                     f"{s['contexts']} | {s['conns']} |")
    return "\n".join(lines) + "\n"


async def drive(args: argparse.Namespace) -> int:
    child = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve", "--every", str(args.every),
        stdout=subprocess.PIPE, preexec_fn=dies_with_parent())
    assert child.stdout is not None
    line = (await asyncio.wait_for(child.stdout.readline(), 60)).decode().split()
    load = Load(int(line[1]))
    samples: list[dict[str, Any]] = []

    async def collect() -> None:
        assert child.stdout is not None
        async for raw in child.stdout:
            if raw.startswith(b"SAMPLE "):
                samples.append(json.loads(raw[7:]))
                s = samples[-1]
                print(f"t={s['t']:.0f}s rss={s['rss_kb']}kB fds={s['fds']} engines={s['engines']}"
                      f" conns={s['conns']} ran={sum(load.ran.values())}", flush=True)

    collector = asyncio.ensure_future(collect())
    deadline = time.monotonic() + args.minutes * 60
    await asyncio.gather(*(load.worker(deadline) for _ in range(args.clients)))
    await asyncio.sleep(args.every * 1.5)  # one more sample after the load stopped
    child.terminate()
    await child.wait()
    collector.cancel()
    text = report(samples, load, args.minutes, args.warmup)
    print(text)
    if args.report:
        Path(args.report).write_text(args.header + "\n" + text if args.header else text)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--every", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=120, help="seconds ignored for flatness")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--report", help="write the markdown report here")
    ap.add_argument("--header", default="", help="text put before the report")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        tls.run(lambda: serve(args.every))
        return 0
    return tls.run(lambda: drive(args)) or 0


if __name__ == "__main__":
    sys.exit(main())
