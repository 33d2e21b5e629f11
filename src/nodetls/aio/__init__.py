"""``nodetls.aio``: asyncio's own shapes (streams, transports and protocols, servers) with every
nodetls feature.

``open_connection``/``start_server`` give real ``asyncio.StreamReader``/``StreamWriter``;
``create_connection``/``create_server`` serve ``asyncio.Protocol`` and
``asyncio.BufferedProtocol``, like the ``asyncio`` functions of the same names with ``ssl=``. The
TLS connection underneath is a Node-style :class:`nodetls.TLSSocket` (one engine, one data path):
``tls_options`` are the options of :func:`nodetls.connect` (client forms) or
:func:`nodetls.create_server` (server forms), and the server's :attr:`Server.tls_server` is the
:class:`nodetls.Server` to which Node-style events and features attach.
"""

from __future__ import annotations

import asyncio
import socket as _socket
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from .._net.handle import TCPHandle
from .._net.socket import Socket as _NetSocket
from .._tls import TLSSocket
from .._tls import connect as _tls_connect
from .._tls import create_server as _tls_create_server
from . import _timeouts
from ._lean import BridgeSocket
from ._server import Server
from ._sslobject import SSLObjectView
from ._timeouts import checked, client_handshake_timer, server_option
from ._transport import SHUTDOWN_TIMEOUT, TLSTransport, _error_seen, _open

__all__ = ["open_connection", "start_server", "create_connection", "create_server", "Server",
           "TLSTransport", "SSLObjectView"]

_STREAM_LIMIT = 2 ** 16  # asyncio.streams' default buffer limit

ProtocolFactory = Callable[[], asyncio.BaseProtocol]
ClientConnectedCallback = Callable[[asyncio.StreamReader, asyncio.StreamWriter],
                                   Awaitable[None] | None]


def _check_factory(factory: Any, name: str) -> None:
    if not callable(factory):
        raise TypeError(f"{name} must be callable, got {type(factory).__name__}")


def _address(host: Any, port: Any, path: Any) -> dict[str, Any]:
    if host is not None and not isinstance(host, str):
        raise TypeError(f"host must be a str or None, got {type(host).__name__}")
    if path is not None and (host is not None or port is not None):
        raise ValueError("path and host/port can not be specified at the same time")
    if path is not None:
        return {"path": path}
    out: dict[str, Any] = {"port": 0 if port is None else port}
    if host is not None:
        out["host"] = host
    return out


async def _adopt_socket(sock: _socket.socket) -> _NetSocket:
    """A connected ``socket.socket`` (as ``loop.create_connection(sock=...)`` takes) as a
    ``net.Socket``: the loop's transport over it, behind a TCP handle."""
    if sock.type != _socket.SOCK_STREAM:
        raise ValueError(f"A Stream Socket was expected, got {sock!r}")
    sock.setblocking(False)
    handle = TCPHandle(None, reading=False)
    await asyncio.get_running_loop().connect_accepted_socket(lambda: handle, sock)
    return _NetSocket(handle=handle, pause_on_create=True)


async def create_connection(protocol_factory: ProtocolFactory, host: str | None = None,
                            port: int | None = None, *, path: str | None = None,
                            sock: Any = None, ssl_handshake_timeout: float | None = None,
                            ssl_shutdown_timeout: float | None = None, **tls_options: Any,
                            ) -> tuple[TLSTransport, asyncio.BaseProtocol]:
    """``loop.create_connection(protocol_factory, host, port, ssl=...)`` over nodetls: connect
    (TCP ``host``/``port``, Unix ``path``, or over ``sock``: a connected ``socket.socket``,
    ``net.Socket`` or any ``stream.Duplex``), complete the TLS handshake with ``tls.connect(**tls_options)``, then
    ``connection_made``. Returns ``(transport, protocol)``; a failed handshake raises the
    ``tls.connect`` error (``CertificateError``, ``TLSError``...) and closes the connection.
    ``ssl_handshake_timeout`` (asyncio's, default 60 s, counted from the TCP connection): a
    handshake not done by then aborts the connection and raises asyncio's
    ``ConnectionAbortedError`` (``tls.connect`` itself, as Node's, has no handshake timeout).
    ``ssl_shutdown_timeout`` (asyncio's, default 30 s): how long ``transport.close()`` waits
    for the peer's close_notify."""
    _check_factory(protocol_factory, "protocol_factory")
    handshake_timeout = checked("ssl_handshake_timeout", ssl_handshake_timeout,
                                _timeouts.HANDSHAKE_TIMEOUT)
    shutdown_timeout = float(checked("ssl_shutdown_timeout", ssl_shutdown_timeout,
                                     SHUTDOWN_TIMEOUT))
    if sock is not None:
        if host is not None or port is not None or path is not None:
            raise ValueError("host/port/path and sock can not be specified at the same time")
        if isinstance(sock, _socket.socket):
            sock = await _adopt_socket(sock)
        target: dict[str, Any] = {"socket": sock}
    elif host is None and port is None and path is None:
        raise ValueError("host and port was not specified and no sock specified")
    else:
        target = _address(host, port, path)
        if "host" not in target and "path" not in target:
            target["host"] = "localhost"
    loop = asyncio.get_running_loop()
    options = dict(tls_options)
    options.update(target)
    tls_sock: TLSSocket = _tls_connect(options)
    protocol = protocol_factory()
    # (its 'error' goes to connection_lost once the transport is made: listened to from now)
    tls_sock.on("error", _error_seen)
    made: set[TLSTransport] = set()
    tls_sock.once("secureConnect", partial(_open, loop, lambda: protocol, made, None,
                                           shutdown_timeout, tls_sock))
    disarm = client_handshake_timer(loop, tls_sock, handshake_timeout)
    try:
        await tls_sock
    except BaseException:
        tls_sock.destroy()
        raise
    finally:
        disarm()
    transport = made.pop() if made else None
    if transport is None:  # the connection closed before (_open added no transport)
        raise ConnectionResetError("the connection closed before it was established")
    return transport, protocol


async def create_server(protocol_factory: ProtocolFactory, host: str | None = None,
                        port: int | None = None, *, path: str | None = None,
                        ssl_handshake_timeout: float | None = None,
                        ssl_shutdown_timeout: float | None = None,
                        **tls_options: Any) -> Server:
    """``loop.create_server(protocol_factory, host, port, ssl=...)`` over a ``tls.Server`` made
    from ``tls_options`` (plus asyncio's ``backlog``, ``reuse_port``, ``start_serving``,
    ``ssl_handshake_timeout``: the ``tls.Server``'s ``handshake_timeout``, asyncio's 60 s by
    default; ``ssl_shutdown_timeout``: how long a connection's ``close()`` waits for the
    peer's close_notify, default 30 s). ``host=None``: every interface (dual-stack).
    ``port=None``/``0``: a free port."""
    _check_factory(protocol_factory, "protocol_factory")
    shutdown_timeout = float(checked("ssl_shutdown_timeout", ssl_shutdown_timeout,
                                     SHUTDOWN_TIMEOUT))
    server_option(ssl_handshake_timeout, tls_options)
    listen: dict[str, Any] = _address(host, port, path)
    listen["backlog"] = tls_options.pop("backlog", 100)
    if tls_options.get("reuse_port") is not None:
        listen["reuse_port"] = bool(tls_options.pop("reuse_port"))
    tls_options.pop("reuse_port", None)
    start_serving = bool(tls_options.pop("start_serving", True))
    tls_server = _tls_create_server(tls_options)
    tls_server._socket_class = BridgeSocket
    server = Server(asyncio.get_running_loop(), tls_server, protocol_factory, listen,
                    shutdown_timeout)
    if start_serving:
        try:
            await server.start_serving()
        except BaseException:
            server.close()
            raise
    return server


async def open_connection(host: str | None = None, port: int | None = None, *,
                          path: str | None = None, sock: Any = None, limit: int = _STREAM_LIMIT,
                          ssl_handshake_timeout: float | None = None, **tls_options: Any,
                          ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """``asyncio.open_connection(host, port, ssl=...)`` over nodetls: real
    ``asyncio.StreamReader``/``StreamWriter`` once the handshake is done. ``sock`` (a
    connected ``socket.socket``, ``net.Socket`` or ``stream.Duplex``) upgrades an existing connection, like
    ``StreamWriter.start_tls``. ``ssl_handshake_timeout``, ``ssl_shutdown_timeout``: as
    :func:`create_connection`'s."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=limit, loop=loop)
    protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
    transport, _ = await create_connection(lambda: protocol, host, port, path=path, sock=sock,
                                           ssl_handshake_timeout=ssl_handshake_timeout,
                                           **tls_options)
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)
    return reader, writer


async def start_server(client_connected_cb: ClientConnectedCallback, host: str | None = None,
                       port: int | None = None, *, path: str | None = None,
                       limit: int = _STREAM_LIMIT, ssl_handshake_timeout: float | None = None,
                       **tls_options: Any) -> Server:
    """``asyncio.start_server(client_connected_cb, host, port, ssl=...)`` over nodetls: the
    callback gets a real ``StreamReader``/``StreamWriter`` per secure connection (a coroutine
    callback runs as a task, as in asyncio)."""
    _check_factory(client_connected_cb, "client_connected_cb")
    loop = asyncio.get_running_loop()

    def factory() -> asyncio.StreamReaderProtocol:
        reader = asyncio.StreamReader(limit=limit, loop=loop)
        return asyncio.StreamReaderProtocol(reader, client_connected_cb, loop=loop)

    return await create_server(factory, host, port, path=path,
                               ssl_handshake_timeout=ssl_handshake_timeout, **tls_options)
