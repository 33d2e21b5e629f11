"""A finished connection is freed by reference counting alone: no nodetls object of a closed
connection (server side or client side) is left in a reference cycle for the cyclic garbage
collector, after a normal end, a destroy, or a failed handshake, on asyncio and on uvloop.

(asyncio's own ``_SelectorSocketTransport`` keeps a bound method of itself, a cycle of its own
that asyncio+ssl has too: only nodetls's objects are counted.)
"""

from __future__ import annotations

import asyncio
import gc
from collections import Counter
from typing import Any

import pytest
from tlsutil import TIMEOUT

import nodetls as tls

CONNECTIONS = 4


async def _connections(certs: Any, mode: str, listen_connection: bool) -> Counter[str]:
    loop = asyncio.get_running_loop()
    server_closed: asyncio.Queue[None] = asyncio.Queue()

    def on_secure(sock: tls.TLSSocket) -> None:
        sock.on("error", lambda err: None)
        sock.pipe(sock)  # Node's docs echo server

    def on_client_error(err: BaseException, sock: tls.TLSSocket) -> None:
        sock.once("close", lambda *_: server_closed.put_nowait(None))

    server = tls.create_server(certs.server.options, on_secure)
    server.on("tlsClientError", on_client_error)
    # every accepted connection reports its close, whatever happens to it
    server.on("secureConnection", lambda s: s.once("close", lambda *_: server_closed.put_nowait(None)))
    if listen_connection:  # the raw net.Socket is made and handed out first (Node's 'connection')
        server.on("connection", lambda raw: None)
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, TIMEOUT)
    port = server.address()["port"]

    async def one() -> None:
        closed = loop.create_future()
        if mode == "fail":  # the client rejects the server's certificate (no CA given)
            sock = tls.connect(port, {"host": "127.0.0.1", "servername": "localhost"})
            sock.on("error", lambda err: None)
            sock.on("close", lambda *_: closed.done() or closed.set_result(None))
        else:
            sock = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                      "servername": "localhost"})
            await asyncio.wait_for(sock, TIMEOUT)
            echoed = loop.create_future()
            sock.on("data", lambda d: echoed.done() or echoed.set_result(d))
            sock.on("close", lambda *_: closed.done() or closed.set_result(None))
            sock.write(b"hello")
            assert await asyncio.wait_for(echoed, TIMEOUT) == b"hello"
            if mode == "end":
                sock.on("end", lambda: None)
                sock.end()
            else:
                sock.destroy()
        await asyncio.wait_for(closed, TIMEOUT)
        await asyncio.wait_for(server_closed.get(), TIMEOUT)

    try:
        await one()  # warm-up: caches, contexts, buffers
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        for _ in range(CONNECTIONS):
            await one()
        # a connection's last callbacks (the transports' connection_lost) run one loop turn later
        for _ in range(3):
            await asyncio.sleep(0)
        gc.collect()  # (the server is alive: only what the connections left is garbage)
        return Counter(type(o).__qualname__ for o in gc.garbage
                       if type(o).__module__.startswith("nodetls"))
    finally:
        gc.set_debug(0)
        server.close()


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
@pytest.mark.parametrize("mode", ["end", "destroy", "fail"])
def test_closed_connections_leave_no_reference_cycles(certs: Any, loop: str, mode: str) -> None:
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    _assert_no_nodetls_garbage(certs, loop, mode, listen_connection=False)


def test_no_reference_cycles_when_connection_is_listened_to(certs: Any) -> None:
    _assert_no_nodetls_garbage(certs, "asyncio", "end", listen_connection=True)


def _assert_no_nodetls_garbage(certs: Any, loop: str, mode: str, listen_connection: bool) -> None:
    was_enabled = gc.isenabled()
    gc.disable()
    gc.collect()
    try:
        ours = tls.run(lambda: _connections(certs, mode, listen_connection), loop=loop)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()
    assert not ours, f"left in reference cycles after {CONNECTIONS} connections: {dict(ours)}"
