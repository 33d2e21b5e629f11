"""The write made while connecting (Node's ``_writeGeneric``), when the socket is destroyed
before it connects and ``connect()`` is called again.

Node v20 (v20.20.2; scratch script item1.js, item1c.js, item1d.js in session 33): the write adds
a ``'connect'`` listener that writes it and a ``'close'`` listener (``onClose``) that fails it
with ``ERR_SOCKET_CLOSED_BEFORE_CONNECTION``; the ``'connect'`` listener removes the other one.
A destroy while connecting fires ``onClose`` at ``'close'``, but Node's ``'connect'`` listener
stays: the next connection writes the stale chunk at its ``'connect'`` (the peer receives data
whose callback failed), and its completion calls the stream's ``onwrite`` once more, which
completes the write then in progress or, with none, destroys the socket with
``ERR_MULTIPLE_CALLBACK``. nodetls deliberately drops that listener with the write (README,
"Where nodetls deliberately differs"): a new connection sends only what was written for it.
``bytesWritten`` counts the dropped chunk (``_pendingData``) until another write waits, as Node's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from nodetls import net

from .netutil import TIMEOUT


class _Peer:
    """A server on 127.0.0.1 that keeps what each connection sent, until its end."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[bytes] = asyncio.Queue()
        self.server = net.create_server(self._on_connection)
        self.port = 0

    def _on_connection(self, conn: net.Socket) -> None:
        data = bytearray()
        conn.on("error", lambda _e: None)
        conn.on("data", data.extend)
        conn.on("end", lambda: (self.received.put_nowait(bytes(data)), conn.end()))

    async def next_received(self) -> bytes:
        return await asyncio.wait_for(self.received.get(), TIMEOUT)


@pytest.fixture
async def peer() -> AsyncIterator[_Peer]:
    p = _Peer()
    await asyncio.wait_for(p.server.listen(0, "127.0.0.1"), TIMEOUT)
    p.port = p.server.address()["port"]
    yield p
    p.server.close()


def _code(e: Any) -> Any:
    return None if e is None else getattr(e, "code", repr(e))


def _logging(sock: net.Socket, log: list[tuple[Any, ...]]) -> asyncio.Future[None]:
    """Log ``sock``'s events with ``bytes_written``; a future done at its second ``'close'``."""
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    closes = []
    for event in ("connect", "ready"):
        sock.on(event, (lambda ev: lambda *_: log.append((ev, sock.bytes_written)))(event))
    sock.on("error", lambda e: log.append(("error", _code(e), sock.bytes_written)))

    def on_close(had_error: Any) -> None:
        log.append(("close", had_error, sock.bytes_written))
        closes.append(had_error)
        if len(closes) == 2 and not done.done():
            done.set_result(None)

    sock.on("close", on_close)
    return done


def _cb(log: list[tuple[Any, ...]], name: str, sock: net.Socket) -> Any:
    return lambda e=None: log.append((name, _code(e), sock.bytes_written))


@pytest.mark.parametrize("write_again", [False, True])
async def test_connect_again_does_not_send_the_dropped_write(peer: _Peer,
                                                           write_again: bool) -> None:
    """'aa' and 'bbb' written while connecting, destroy: 'close' false (5), both callbacks
    ERR_SOCKET_CLOSED_BEFORE_CONNECTION (as Node's); connect() again from a 'close' listener
    (bytes_written 2: the dropped 'aa', as Node's): 'connect', 'ready', and the peer receives
    only what was written after the new connect() ('cc', its callback without error). Node
    (the difference): the peer receives 'aa' (or 'aacc'), then 'error' ERR_MULTIPLE_CALLBACK,
    'close' true."""
    sock = net.Socket()
    log: list[tuple[Any, ...]] = []
    _logging(sock, log)
    sock.connect(peer.port, "127.0.0.1")
    sock.write(b"aa", callback=_cb(log, "cb aa", sock))
    sock.write(b"bbb", callback=_cb(log, "cb bbb", sock))
    sock.destroy()
    assert sock.bytes_written == 5

    def again(*_: Any) -> None:
        log.append(("reconnect", sock.bytes_written))
        sock.connect(peer.port, "127.0.0.1")
        if write_again:
            sock.write(b"cc", callback=_cb(log, "cb cc", sock))
        sock.once("ready", lambda: sock.end())

    sock.once("close", again)
    assert await peer.next_received() == (b"cc" if write_again else b"")
    closed = "ERR_SOCKET_CLOSED_BEFORE_CONNECTION"
    expected: list[tuple[Any, ...]] = [
        ("close", False, 5), ("cb aa", closed, 5), ("cb bbb", closed, 5), ("reconnect", 2),
        ("connect", 2)]
    if write_again:
        expected += [("cb cc", None, 2)]
    expected += [("ready", 2)]
    assert log[:len(expected)] == expected
    assert not any(entry[0] == "error" for entry in log)


async def test_retry_after_refused_connect_sends_only_the_new_write(peer: _Peer) -> None:
    """A write to a refused port, connect() again on 'close' (a retry loop): the write's
    callback fails (ERR_SOCKET_CLOSED_BEFORE_CONNECTION, before that 'close' listener, as
    Node adds its onClose with the write); the new connection does not send the old chunk and
    a write from its 'connect' listener goes out. Node (the difference): the old chunk is
    sent, the socket errors with ERR_MULTIPLE_CALLBACK, the new write fails
    ERR_STREAM_DESTROYED."""
    probe = net.create_server()
    await asyncio.wait_for(probe.listen(0, "127.0.0.1"), TIMEOUT)
    dead = probe.address()["port"]
    await asyncio.wait_for(probe.close(), TIMEOUT)
    sock = net.connect(dead, "127.0.0.1")
    log: list[tuple[Any, ...]] = []
    _logging(sock, log)
    sock.write(b"hello", callback=_cb(log, "cb hello", sock))

    def again(*_: Any) -> None:
        sock.connect(peer.port, "127.0.0.1")
        sock.on("connect", lambda: (
            log.append(("write", sock.write(b"again", callback=_cb(log, "cb again", sock)))),
            sock.end()))

    sock.once("close", again)
    assert await peer.next_received() == b"again"
    assert log[:6] == [
        ("error", "ECONNREFUSED", 5), ("close", True, 5),
        ("cb hello", "ERR_SOCKET_CLOSED_BEFORE_CONNECTION", 5), ("connect", 5), ("write", True),
        ("ready", 5)]
    assert ("cb again", None, 5) in log
    assert not any(entry[:2] == ("error", "ERR_MULTIPLE_CALLBACK") for entry in log)


async def test_destroy_from_an_earlier_connect_listener(peer: _Peer) -> None:
    """Node: a 'connect' listener added before the writes destroys the socket: the pending
    write's own 'connect' listener still runs, without a handle: both callbacks get
    ERR_SOCKET_CLOSED (bytesWritten 2), no ERR_SOCKET_CLOSED_BEFORE_CONNECTION at 'close'."""
    sock = net.connect(peer.port, "127.0.0.1")
    log: list[tuple[Any, ...]] = []
    sock.on("connect", lambda: sock.destroy())
    sock.write(b"hi", callback=_cb(log, "cb hi", sock))
    sock.write(b"yo", callback=_cb(log, "cb yo", sock))
    closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    sock.on("close", lambda had_error: (log.append(("close", had_error, sock.bytes_written)),
                                        closed.set_result(None)))
    await asyncio.wait_for(closed, TIMEOUT)
    assert log == [("cb hi", "ERR_SOCKET_CLOSED", 2), ("cb yo", "ERR_SOCKET_CLOSED", 2),
                   ("close", False, 0)]
