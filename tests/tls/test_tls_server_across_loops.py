"""One ``tls.Server``, made outside any event loop, serving in two event loops one after the other
(two ``run()`` calls, as a program or a test suite may make): an accepted connection's ticks
(``resume()`` of its pipe, its ``'end'``, its ``'finish'``) run on the running loop, also once the
server stopped listening and for a connection handed to it by ``emit('connection')`` before it
listens again (not on the first loop, which has ended), and the handshake deadlines are swept on
the running loop (a sweep timer left armed in the first loop is not waited for)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tlsutil import LOOPS, connect, event, run_on, wait

import nodetls as tls
from nodetls import net


async def _echo_once(server: Any, port: int, certs: Any, *, close_first: bool) -> None:
    """A client writes, ends and reads the echo back (the server pipes the socket to itself)."""
    client = await connect(port, ca=certs.root.cert_pem, servername="localhost")
    if close_first:
        server.close()  # stops listening: the connection carries on
    got = bytearray()
    client.on("data", got.extend)
    closed = event(client, "close")
    client.end(b"ping")
    await wait(closed)
    assert bytes(got) == b"ping"


@pytest.mark.parametrize("loop", LOOPS)
def test_one_server_serves_in_two_event_loops_one_after_the_other(certs: Any, loop: str) -> None:
    server = tls.create_server({**certs.server.options, "handshake_timeout": 0.3},
                               lambda sock: sock.pipe(sock))

    async def first() -> None:
        server.listen(0, "127.0.0.1")
        await wait(server)
        # a handshake finished: the deadline sweep stays armed when this loop ends
        await _echo_once(server, server.address()["port"], certs, close_first=False)
        server.close()

    async def second() -> None:
        # not listening: a connection another server accepted, handed over (Node's pattern)
        raw_server = net.create_server(lambda raw: server.emit("connection", raw))
        raw_server.listen(0, "127.0.0.1")
        await wait(raw_server)
        await _echo_once(raw_server, raw_server.address()["port"], certs, close_first=True)
        timed_out: asyncio.Queue[str] = asyncio.Queue()
        server.on("tlsClientError", lambda err, sock: timed_out.put_nowait(err.code))
        server.listen(0, "127.0.0.1")
        await wait(server)
        port = server.address()["port"]
        _, stalled = await asyncio.open_connection("127.0.0.1", port)  # never says hello
        try:
            assert await wait(timed_out.get()) == "ERR_TLS_HANDSHAKE_TIMEOUT"
        finally:
            stalled.close()
        await _echo_once(server, port, certs, close_first=True)

    run_on(loop, first)
    run_on(loop, second)
