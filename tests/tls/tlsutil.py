"""Small helpers for the tls tests: start a server, connect, wait for events (all bounded)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import nodetls as tls
from nodetls import _openssl

TIMEOUT = 10.0
#: The linked OpenSSL is 3.2 or later (the bundled build): its alert wording and security levels
#: differ from OpenSSL 3.0's, which Node v20 links and the system library may be (NODETLS_PURE).
OPENSSL_3_2 = _openssl.OPENSSL_VERSION_NUMBER >= 0x30200000
#: The event loops a data-path test runs on.
LOOPS = ["asyncio", "uvloop"]
#: Write sizes of the data-path tests, one write each: a byte, less and more than a record,
#: more than one read's buffer (256 KiB).
SIZES = [1, 63, 64, 1000, 16384, 16385, 100_000, 300_000, 7]


def pattern(n: int, seed: int) -> bytes:
    """``n`` bytes that differ from one ``seed`` to the next (a misplaced chunk shows)."""
    return bytes((seed + i * 7) & 0xFF for i in range(n))


def run_on(loop: str, main: Any) -> Any:
    """``tls.run(main)`` on ``loop`` (``"asyncio"`` or ``"uvloop"``; skipped without uvloop)."""
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    return tls.run(main, loop=loop)


async def listen(options: dict[str, Any], listener: Any = None, **kw: Any) -> tuple[tls.Server, int]:
    server = tls.create_server(options, listener, **kw)
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, TIMEOUT)
    return server, server.address()["port"]


async def echo_server(options: dict[str, Any], **kw: Any) -> tuple[tls.Server, int]:
    def on_secure(sock: tls.TLSSocket) -> None:
        sock.on("data", sock.write)
        sock.on("end", sock.end)

    return await listen(options, on_secure, **kw)


async def connect(port: int, **opts: Any) -> tls.TLSSocket:
    opts.setdefault("host", "127.0.0.1")
    sock = tls.connect(port, opts)
    return await asyncio.wait_for(sock, TIMEOUT)


def event(emitter: Any, name: str) -> asyncio.Future[Any]:
    """A future resolved with the args of the next ``name`` event."""
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def handler(*args: Any) -> None:
        if not fut.done():
            fut.set_result(args[0] if len(args) == 1 else args)

    emitter.once(name, handler)
    return fut


async def wait(fut: Any, timeout: float = TIMEOUT) -> Any:
    return await asyncio.wait_for(fut, timeout)


async def read_until(sock: Any, n: int) -> bytes:
    buf = bytearray()
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_data(chunk: bytes) -> None:
        buf.extend(chunk)
        if len(buf) >= n and not done.done():
            done.set_result(None)

    sock.on("data", on_data)
    try:
        await wait(done)
    finally:
        sock.off("data", on_data)
    return bytes(buf)


def close_server(server: tls.Server) -> None:
    """Stop listening (connections still open are the test's to destroy; and the test must
    still wait for them to close: see ``shut``)."""
    server.close()


async def shut(server: Any, *socks: Any, timeout: float = TIMEOUT) -> None:
    """Destroy ``socks`` (those not destroyed yet), close ``server`` and wait, bounded, for all
    their ``'close'`` events: the server's comes once every connection it accepted has closed
    (as Node's), so no socket of the test is left open when its loop closes (the autouse check
    in conftest.py)."""
    waits = []
    for sock in socks:
        if sock is None:
            continue
        sock.destroy()
        waits.append(sock.wait_closed())
    if server is not None and server.listening:
        waits.append(server.close())
    elif server is not None and (server._connections or server._close_scheduled):
        # (closed before, with connections still open: its 'close' is still to come)
        waits.append(event(server, "close"))
    await asyncio.wait_for(asyncio.gather(*waits), timeout)


def pull_duplex(raw: Any) -> Any:
    """A ``stream.Duplex`` that pulls from the net socket ``raw`` (``read()`` on demand, more
    when ``'readable'`` says so) and writes to it: Node's tests' hand-made JS stream
    (test-tls-js-stream, test-tls-cipher-list's custom Duplex)."""
    from nodetls import stream

    pending = {"want": False}

    def read(_size: Any) -> None:
        pending["want"] = False
        chunk = raw.read()
        if chunk:
            p.push(chunk)
        else:
            pending["want"] = True

    def write(chunk: bytes, callback: Any) -> None:
        raw.write(chunk, None, callback)

    p = stream.Duplex({"read": read, "write": write})
    raw.on("readable", lambda: p._read(None) if pending["want"] else None)
    return p
