"""``socket.set_no_delay()`` ignores the error of its ``setsockopt``, as Node's ignores what
libuv's ``uv_tcp_nodelay`` returns.

Node v20.20: on a connected socket whose descriptor was closed
under it (``fs.closeSync(sock._handle.fd)``), ``setNoDelay(true)``, ``setNoDelay(false)`` and
``setNoDelay()`` return the socket: no throw, no ``'error'``; a later ``destroy()`` gives
``'close'(false)``. The same before connect, while connecting, after ``destroy()`` and on a
Unix socket (a Pipe handle has no ``setNoDelay``). nodetls raised ``OSError`` (``ENOTSOCK``
here, the descriptor's number being a pipe's) from ``set_no_delay()``."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

import nodetls as tls
from nodetls import net

from .netutil import TIMEOUT

LOOPS = ["asyncio", "uvloop"]


def _run(loop: str, main: Any) -> Any:
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    return tls.run(main, loop=loop)


def _replace_descriptor(sock: net.Socket) -> None:
    """Close the connection's descriptor under the socket, keeping its number taken (by a
    pipe's read end, so that nothing else gets that number meanwhile)."""
    fd = sock._handle.get_extra_info("socket").fileno()
    r, w = os.pipe()
    os.dup2(r, fd)
    os.close(r)
    os.close(w)


async def _closed_log(sock: net.Socket) -> list[Any]:
    log: list[Any] = []
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    sock.on("error", lambda e: log.append(("error", getattr(e, "code", e))))
    sock.on("close", lambda h: (log.append(("close", h)), done.done() or done.set_result(None)))
    sock.destroy()
    await asyncio.wait_for(done, TIMEOUT)
    return log


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("side", ["client", "accepted"])
def test_set_no_delay_on_a_closed_descriptor_is_ignored(loop: str, side: str) -> None:
    async def main() -> list[Any]:
        accepted: asyncio.Future[net.Socket] = asyncio.get_running_loop().create_future()

        def on_connection(s: net.Socket) -> None:
            s.on("error", lambda e: None)
            accepted.set_result(s)

        server = net.create_server(on_connection)
        await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
        client = net.connect(server.address()["port"], "127.0.0.1")
        client.on("error", lambda e: None)
        await asyncio.wait_for(client, TIMEOUT)
        peer = await asyncio.wait_for(accepted, TIMEOUT)
        sock, other = (client, peer) if side == "client" else (peer, client)
        try:
            _replace_descriptor(sock)
            returned = [sock.set_no_delay(v) is sock for v in (False, True, False)]
            returned.append(sock.set_no_delay() is sock)
            returned.append(sock.set_keep_alive(True, 5) is sock)
            assert returned == [True] * 5
            assert not sock.destroyed and sock.ready_state == "open"
            return await _closed_log(sock)
        finally:
            other.destroy()
            server.close()

    assert _run(loop, main) == [("close", False)]


@pytest.mark.parametrize("loop", LOOPS)
def test_set_no_delay_before_connect_while_connecting_and_after_destroy(loop: str) -> None:
    # (Node: each returns the socket; the value is kept for the connection)
    async def main() -> list[Any]:
        server = net.create_server(lambda s: s.on("error", lambda e: None))
        await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
        fresh = net.Socket()
        out = [fresh.set_no_delay(False) is fresh]
        client = net.connect(server.address()["port"], "127.0.0.1")
        out.append(client.set_no_delay(True) is client)
        await asyncio.wait_for(client, TIMEOUT)
        log = await _closed_log(client)
        out += [client.set_no_delay(False) is client, client.set_no_delay() is client]
        server.close()
        return [out, log]

    assert _run(loop, main) == [[True] * 4, [("close", False)]]
