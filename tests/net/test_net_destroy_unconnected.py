"""Destroying a socket that never connected, with a write queued (node v20.20, checked).

Node's ``net.Socket._writeGeneric``: a write made while ``connecting`` waits for ``'connect'``
and adds a ``'close'`` listener (``onClose``) that fails it with
ERR_SOCKET_CLOSED_BEFORE_CONNECTION -- so its callback runs in the ``'close'`` emit, after the
``'close'`` listeners added before the write; the writes buffered behind it fail with the same
error (Writable's ``errorBuffer``: the stream's ``errored``), or with the error ``destroy(err)``
was given. A ``TLSSocket()`` made without a socket is ``connecting`` (Node: "assume
tls.connect()"). A ``net.Socket()`` never told to connect is not: its write fails at once with
ERR_SOCKET_CLOSED (``write()`` returns false), the callback before ``'close'``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

import nodetls as tls
from nodetls import net

from .netutil import TIMEOUT


def boom() -> Exception:
    err = Exception("boom")
    err.code = "EBOOM"  # type: ignore[attr-defined]
    return err


async def write_then_destroy(sock: Any, err: BaseException | None = None,
                             writes: int = 1) -> tuple[list[Any], list[Any]]:
    """Listen to ``sock``'s events, write ``writes`` chunks with callbacks, ``destroy(err)``;
    the log (once ``'close'`` was emitted) and what ``write()`` returned."""
    log: list[Any] = []
    returned: list[Any] = []
    sock.on("error", lambda e: log.append(("error", getattr(e, "code", None))))
    sock.on("close", lambda had_error: log.append(("close", had_error)))
    for ev in ("finish", "end", "drain", "connect", "secureConnect", "timeout"):
        sock.on(ev, lambda *a, ev=ev: log.append((ev,)))

    def cb(i: int) -> Callable[..., None]:
        return lambda e=None: log.append((f"cb{i}", getattr(e, "code", None), str(e)))

    for i in range(1, writes + 1):
        returned.append((sock.write(b"hello", cb(i)), sock.writable_length))
    sock.destroy(err)
    log.append("destroyed")
    closed = asyncio.get_running_loop().create_future()
    sock.on("close", lambda *_: closed.done() or closed.set_result(None))  # (the last one)
    await asyncio.wait_for(closed, TIMEOUT)
    return log, returned


BEFORE_CONNECTION = ("ERR_SOCKET_CLOSED_BEFORE_CONNECTION",
                     "Socket closed before the connection was established")


@pytest.mark.parametrize("make", [lambda: tls.TLSSocket(), lambda: tls.TLSSocket(net.Socket())],
                         ids=["TLSSocket()", "TLSSocket(net.Socket())"])
async def test_tls_socket_without_connection_fails_the_write_in_close(make: Any) -> None:
    # node: write() true, writableLength 5; destroy(): 'close'(false), then the callback with
    # ERR_SOCKET_CLOSED_BEFORE_CONNECTION (the 'close' listener _writeGeneric added); no 'error'
    log, returned = await write_then_destroy(make())
    assert returned == [(True, 5)]
    assert log == ["destroyed", ("close", False), ("cb1", *BEFORE_CONNECTION)]


async def test_tls_socket_without_connection_destroyed_with_an_error() -> None:
    # node: 'error' EBOOM, 'close'(true), then the callback (ERR_SOCKET_CLOSED_BEFORE_CONNECTION)
    log, _ = await write_then_destroy(tls.TLSSocket(), boom())
    assert log == ["destroyed", ("error", "EBOOM"), ("close", True), ("cb1", *BEFORE_CONNECTION)]


async def test_tls_socket_without_connection_end_queued() -> None:
    # node: end() after the write changes nothing: no 'finish', the same order
    sock = tls.TLSSocket()
    log: list[Any] = []
    sock.on("close", lambda had_error: log.append(("close", had_error)))
    sock.on("finish", lambda: log.append(("finish",)))
    sock.write(b"hello", lambda e=None: log.append(("cb", getattr(e, "code", None))))
    sock.end()
    sock.destroy()
    closed = asyncio.get_running_loop().create_future()
    sock.on("close", lambda *_: closed.set_result(None))
    await asyncio.wait_for(closed, TIMEOUT)
    assert log == [("close", False), ("cb", "ERR_SOCKET_CLOSED_BEFORE_CONNECTION")]


async def test_net_socket_never_connected_fails_the_write_at_once() -> None:
    # node: write() false, writableLength 0; the callback (ERR_SOCKET_CLOSED, 'Socket is closed')
    # on a tick, before 'close', which a socket that never had a handle emits with no argument
    # (None here); no 'error' (the stream is destroyed by then)
    log, returned = await write_then_destroy(net.Socket())
    assert returned == [(False, 0)]
    assert log == ["destroyed", ("cb1", "ERR_SOCKET_CLOSED", "Socket is closed"), ("close", None)]
    log, _ = await write_then_destroy(net.Socket(), boom())
    assert log == ["destroyed", ("cb1", "ERR_SOCKET_CLOSED", "Socket is closed"),
                   ("error", "EBOOM"), ("close", None)]


@pytest.mark.parametrize("kind", ["net", "tls"])
async def test_connecting_socket_destroyed_with_writes_queued(echo_server: net.Server,
                                                              kind: str) -> None:
    # node (net.connect / tls.connect, destroyed in the same tick): 'close'(false), then the
    # first write's callback from 'close', then the buffered one's, both
    # ERR_SOCKET_CLOSED_BEFORE_CONNECTION; the 'close' listener added after destroy() last
    port = echo_server.address()["port"]
    sock: Any = (net.connect(port, "127.0.0.1") if kind == "net"
                 else tls.connect(port, "127.0.0.1", {"reject_unauthorized": False}))
    assert sock.connecting
    log, returned = await write_then_destroy(sock, writes=2)
    assert [r[1] for r in returned] == [5, 10]
    assert log == ["destroyed", ("close", False), ("cb1", *BEFORE_CONNECTION),
                   ("cb2", *BEFORE_CONNECTION)]


async def test_connecting_socket_destroyed_with_an_error_writes_queued(
        echo_server: net.Server) -> None:
    # node: the first write fails from 'close' (ERR_SOCKET_CLOSED_BEFORE_CONNECTION), the
    # buffered one with the stream's error (EBOOM)
    sock = net.connect(echo_server.address()["port"], "127.0.0.1")
    log, _ = await write_then_destroy(sock, boom(), writes=2)
    assert log == ["destroyed", ("error", "EBOOM"), ("close", True),
                   ("cb1", *BEFORE_CONNECTION), ("cb2", "EBOOM", "boom")]
