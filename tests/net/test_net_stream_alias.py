"""``net.Stream``: Node keeps it as the legacy name of ``net.Socket`` (``lib/net.js`` exports
``Stream: Socket``).  Checked with node v20: ``net.Stream === net.Socket`` is true, and a
``new net.Stream()`` connects and reads like any socket (connect, data, end, close(false))."""

from __future__ import annotations

import asyncio

import nodetls
from nodetls import net

from .netutil import TIMEOUT, event


def test_stream_is_socket() -> None:
    assert net.Stream is net.Socket
    assert "Stream" in net.__all__
    assert nodetls.net.Stream is net.Socket


async def test_stream_connects_and_reads() -> None:
    """Node: ``new net.Stream().connect(port, host, cb)`` against a server that ends with
    'hi' gives connect, data 'hi', end, close(false)."""
    events: list[object] = []

    def on_connection(conn: net.Socket) -> None:
        conn.end(b"hi")
        server.close()

    server = net.create_server(on_connection)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    sock = net.Stream()
    assert isinstance(sock, net.Socket)
    closed = event(sock, "close")
    sock.set_encoding("utf8")
    sock.on("data", lambda d: events.append(("data", d)))
    sock.on("end", lambda: events.append("end"))
    sock.connect(server.address()["port"], "127.0.0.1", lambda: events.append("connect"))
    (had_error,) = await closed
    events.append(("close", had_error))
    assert events == ["connect", ("data", "hi"), "end", ("close", False)]
