"""``handshake_timeout`` on a server with many connections: one sweep timer per server keeps every
connection's deadline (not a timer per connection). Connections that never finish their handshake
each get ``'tlsClientError'`` ``ERR_TLS_HANDSHAKE_TIMEOUT`` and are closed; one that finished in
between is left alone."""

from __future__ import annotations

import asyncio
from typing import Any

from tlsutil import TIMEOUT, connect, listen, shut


async def test_every_stalled_handshake_times_out_and_a_finished_one_is_left_alone(certs: Any) -> None:
    errors: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    server, port = await listen({**certs.server.options, "handshake_timeout": 0.3})
    server.on("tlsClientError", lambda err, sock: errors.put_nowait((err.code, sock)))
    writers = []
    try:
        # two TCP connections that never send a ClientHello, a real client between them
        _, w1 = await asyncio.open_connection("127.0.0.1", port)
        good = await connect(port, ca=certs.root.cert_pem, servername="localhost")
        _, w2 = await asyncio.open_connection("127.0.0.1", port)
        writers = [w1, w2]
        got = [await asyncio.wait_for(errors.get(), TIMEOUT) for _ in range(2)]
        assert [code for code, _ in got] == ["ERR_TLS_HANDSHAKE_TIMEOUT"] * 2
        assert got[0][1] is not got[1][1]
        assert all(sock.destroyed for _, sock in got)  # the server closes each stalled one
        # the deadlines passed: the connection whose handshake finished is still up and serving
        assert not good.destroyed and good.authorized
        assert errors.empty() and server.connections == 1
        good.destroy()
    finally:
        for w in writers:
            w.close()
        await shut(server)


async def test_a_server_stops_sweeping_once_nothing_is_pending(certs: Any) -> None:
    server, port = await listen({**certs.server.options, "handshake_timeout": 0.2})
    timed_out: asyncio.Queue[str] = asyncio.Queue()
    server.on("tlsClientError", lambda err, sock: timed_out.put_nowait(err.code))
    try:
        _, w = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(timed_out.get(), TIMEOUT) == "ERR_TLS_HANDSHAKE_TIMEOUT"
        w.close()
        # a later stalled connection gets its own full timeout (the sweep is armed again)
        _, w = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(timed_out.get(), TIMEOUT) == "ERR_TLS_HANDSHAKE_TIMEOUT"
        w.close()
        assert server.connections == 0
    finally:
        await shut(server)
