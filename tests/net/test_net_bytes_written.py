"""``socket.bytes_written`` (Node's ``bytesWritten``) around writes made while connecting.

Node v20 (checked with node v20.20.2, scratch script bw.js in session 32): ``bytesWritten`` is
the handle's count plus the Writable's buffer plus ``_pendingData``, the write made while
connecting. A ``destroy()`` (or a failed connect) never clears ``_pendingData``, so that write
stays counted after ``'close'``; the writes buffered behind it are counted until the pending
write's callback fails at ``'close'`` (``ERR_SOCKET_CLOSED_BEFORE_CONNECTION``, which errors the
buffer). Strings count their encoded length.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from nodetls import net

from .netutil import TIMEOUT


@pytest.fixture
async def port() -> AsyncIterator[int]:
    def on_connection(conn: net.Socket) -> None:
        conn.on("error", lambda _e: None)
        conn.on("end", lambda: conn.end())
        conn.resume()

    server = net.create_server(on_connection)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    yield server.address()["port"]
    server.close()


def _closing(sock: net.Socket) -> asyncio.Future[None]:
    """A future done at ``sock``'s next ``'close'`` (listener added now)."""
    fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    sock.once("close", lambda *_: fut.done() or fut.set_result(None))
    return fut


async def _closed(sock: net.Socket) -> None:
    await asyncio.wait_for(_closing(sock), TIMEOUT)


async def test_write_then_destroy_while_connecting_keeps_the_pending_write(port: int) -> None:
    """Node: written 11, destroyed 11, a tick later 11, both callbacks (at 'close') see 11,
    'close' 5: the pending write's 5 bytes stay counted."""
    sock = net.connect(port, "127.0.0.1")
    seen: list[tuple[str, Any, int]] = []
    sock.on("error", lambda _e: None)
    sock.write("hello", callback=lambda e=None: seen.append(("cb1", e and e.code,
                                                             sock.bytes_written)))
    sock.write("world!", callback=lambda e=None: seen.append(("cb2", e and e.code,
                                                              sock.bytes_written)))
    assert sock.bytes_written == 11
    closed = _closing(sock)
    sock.destroy()
    assert sock.bytes_written == 11
    tick = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(lambda: tick.set_result(sock.bytes_written))
    assert await asyncio.wait_for(tick, TIMEOUT) == 11
    await asyncio.wait_for(closed, TIMEOUT)
    assert seen[0] == ("cb1", "ERR_SOCKET_CLOSED_BEFORE_CONNECTION", 11)
    # (Node's cb2 sees 11 too: its errorBuffer empties the buffer after the callbacks)
    assert seen[1][:2] == ("cb2", "ERR_SOCKET_CLOSED_BEFORE_CONNECTION")
    assert sock.bytes_written == 5


@pytest.mark.parametrize("how", ["end", "destroy_error", "cork"])
async def test_destroy_while_connecting_counts_as_node(port: int, how: str) -> None:
    """Node: write + end(data) 7 -> destroy 7 -> 'close' 5; two writes, destroy(err) 9 ->
    'error' 9 -> 'close' 5; cork, two writes, uncork, a write: 6 -> 6 -> 'close' 5 (the
    writev made while connecting is the pending data)."""
    sock = net.connect(port, "127.0.0.1")
    at_error: list[int] = []
    sock.on("error", lambda _e: at_error.append(sock.bytes_written))
    if how == "end":
        sock.write("hello")
        sock.end("xy")
        before = 7
        sock.destroy()
    elif how == "destroy_error":
        sock.write("hello")
        sock.write("more")
        before = 9
        sock.destroy(Exception("boom"))
    else:
        sock.cork()
        sock.write("ab")
        sock.write("cde")
        sock.uncork()
        sock.write("x")
        before = 6
        sock.destroy()
    assert sock.bytes_written == before
    await _closed(sock)
    if how == "destroy_error":
        assert at_error == [9]
    assert sock.bytes_written == 5


async def test_refused_connect_keeps_the_pending_write() -> None:
    """Node: two writes to a refused port: 'error' ECONNREFUSED sees 9, 'close' 5."""
    probe = net.create_server()
    await asyncio.wait_for(probe.listen(0, "127.0.0.1"), TIMEOUT)
    dead = probe.address()["port"]
    await asyncio.wait_for(probe.close(), TIMEOUT)
    sock = net.connect(dead, "127.0.0.1")
    at_error: list[tuple[str, int]] = []
    sock.on("error", lambda e: at_error.append((e.code, sock.bytes_written)))
    sock.write("hello")
    sock.write("more")
    await _closed(sock)
    assert at_error == [("ECONNREFUSED", 9)]
    assert sock.bytes_written == 5


async def test_writes_while_connecting_count_their_encoded_length(port: int) -> None:
    """Node: 'hello' 5, 10 bytes 15, 'é' (utf8) 17, 'abcd' (hex) 19; still 19 once connected,
    sent, destroyed and closed."""
    sock = net.connect(port, "127.0.0.1")
    counts = []
    for data, enc in (("hello", None), (bytes(10), None), ("é", "utf8"), ("abcd", "hex")):
        sock.write(data, enc)
        counts.append(sock.bytes_written)
    assert counts == [5, 15, 17, 19]
    connected = asyncio.get_running_loop().create_future()
    sock.on("connect", lambda: connected.set_result(sock.bytes_written))
    assert await asyncio.wait_for(connected, TIMEOUT) == 19
    sock.destroy()
    assert sock.bytes_written == 19
    await _closed(sock)
    assert sock.bytes_written == 19


async def test_a_write_after_connect_again_replaces_the_dropped_one(port: int) -> None:
    """Node (bw_reconnect.js): 5 after 'close'; ``connect()`` again and a write while
    connecting: 2, the new pending write's (Node's ``_pendingData`` replaced)."""
    sock = net.connect(port, "127.0.0.1")
    sock.on("error", lambda _e: None)
    sock.write("hello")
    sock.destroy()
    await _closed(sock)
    assert sock.bytes_written == 5
    sock.connect(port, "127.0.0.1")
    sock.write("ab")
    assert sock.bytes_written == 2
    sock.destroy()
    await _closed(sock)


async def test_the_buffered_writes_callbacks_still_see_the_whole_buffer() -> None:
    """Node's ``errorBuffer`` calls each buffered write's callback with the buffer left as it is
    (only ``writableLength`` goes down, chunk by chunk), and empties it afterwards: in those
    callbacks ``bytesWritten`` still counts every chunk (node v20.20.2: 11, 11; writableLength
    3, 0)."""
    sock = net.Socket()
    log: list[tuple[str, Any, int, int]] = []
    sock.on("error", lambda _e: None)
    sock.connect(1, "127.0.0.1")  # (refused later: the writes wait for the connection)
    closed = _closing(sock)
    sock.write("hello")
    sock.write("abc", lambda e=None: log.append(("cb2", getattr(e, "code", None),
                                                 sock.bytes_written, sock.writable_length)))
    sock.write("xyz", lambda e=None: log.append(("cb3", getattr(e, "code", None),
                                                 sock.bytes_written, sock.writable_length)))
    sock.destroy()
    await asyncio.wait_for(closed, TIMEOUT)
    code = "ERR_SOCKET_CLOSED_BEFORE_CONNECTION"
    assert log == [("cb2", code, 11, 3), ("cb3", code, 11, 0)]
