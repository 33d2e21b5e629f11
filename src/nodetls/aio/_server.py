"""``aio.Server``: ``asyncio.Server``'s members over a Node-style :class:`nodetls.Server`.

Every accepted connection completes its handshake in the ``tls.Server`` (so SNI callbacks,
session stores, ticket keys, OCSP stapling and every Node-style event attached to
``server.tls_server`` apply); its ``'secureConnection'`` hands the ``TLSSocket`` to a new
:class:`TLSTransport` with a protocol from the factory. A connection whose handshake fails
never reaches the factory (``'tlsClientError'`` on ``tls_server`` reports it).
"""

from __future__ import annotations

import asyncio
from asyncio.trsock import TransportSocket
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from ._transport import TLSTransport, _open

if TYPE_CHECKING:
    from .._tls import Server as TLSServer

__all__ = ["Server"]


class Server(asyncio.AbstractServer):
    """What ``aio.create_server``/``aio.start_server`` return: ``close()``, ``await
    wait_closed()``, ``sockets``, ``is_serving()``, ``await start_serving()``, ``await
    serve_forever()``, ``async with``, ``close_clients()``/``abort_clients()``, and
    :attr:`tls_server`, the ``tls.Server`` doing the work."""

    def __init__(self, loop: asyncio.AbstractEventLoop, tls_server: TLSServer,
                 protocol_factory: Callable[[], asyncio.BaseProtocol],
                 listen_options: dict[str, Any], shutdown_timeout: float) -> None:
        self._loop = loop
        #: The Node-style ``tls.Server``: attach events, session stores, staplers, ticket keys.
        self.tls_server = tls_server
        self._factory = protocol_factory
        self._listen_options = listen_options
        self._transports: set[TLSTransport] = set()
        self._closing = False
        self._closed: asyncio.Future[None] = loop.create_future()
        self._serving_forever: asyncio.Future[None] | None = None
        #: The ``'secureConnection'`` listener: a new protocol and transport for the socket,
        #: in one call (``_transport._open``; each transport's on_lost takes it out of the set).
        self._on_secure = partial(_open, loop, protocol_factory, self._transports,
                                  self._transports.discard, shutdown_timeout)
        tls_server.on("secureConnection", self._on_secure)
        # The table of 'secureConnection' listeners while this server's is the only one (an
        # addition or a removal replaces the tuple): a BridgeSocket then calls it directly.
        # (Otherwise a tuple of our own, which no table ever is.)
        listeners = tls_server._events.get("secureConnection", ())
        tls_server._bridge_alone = listeners if len(listeners) == 1 else (None,)  # type: ignore[attr-defined]
        # (what that listener calls: _open and its arguments, for the BridgeSocket to call)
        tls_server._bridge_open = (  # type: ignore[attr-defined]
            _open, loop, protocol_factory, self._transports, self._transports.discard,
            shutdown_timeout)
        tls_server.on("close", self._on_tls_close)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} sockets={self.sockets!r}>"

    # ------------------------------------------------------------------ connections
    def _on_tls_close(self, *_: Any) -> None:
        if not self._closed.done():
            self._closed.set_result(None)

    # ------------------------------------------------------------------ asyncio.Server
    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def is_serving(self) -> bool:
        return bool(self.tls_server.listening) and not self._closing

    @property
    def sockets(self) -> tuple[TransportSocket, ...]:
        """The listening socket (as asyncio wraps it), or ``()`` when not listening."""
        sock = self.tls_server._sock
        return (TransportSocket(sock),) if sock is not None and not self._closing else ()

    async def start_serving(self) -> None:
        """Listen (if not yet) and wait until the socket accepts connections."""
        if self._closing:
            raise RuntimeError(f"server {self!r} is closed")
        srv = self.tls_server
        if not srv.listening and not srv._listen_pending:
            srv.listen(dict(self._listen_options))
        await srv

    async def serve_forever(self) -> None:
        """Serve until cancelled; then close and wait for the connections, as asyncio."""
        if self._serving_forever is not None:
            raise RuntimeError(f"server {self!r} is already being awaited on serve_forever()")
        if self._closing:
            raise RuntimeError(f"server {self!r} is closed")
        await self.start_serving()
        self._serving_forever = self._loop.create_future()
        try:
            await self._serving_forever
        except asyncio.CancelledError:
            try:
                self.close()
                await self.wait_closed()
            finally:
                raise
        finally:
            self._serving_forever = None

    def close(self) -> None:
        """Stop listening; open connections go on (``close_clients()`` closes them)."""
        if self._closing:
            return
        self._closing = True
        srv = self.tls_server
        if srv.listening or srv._listen_pending:
            srv.close()
        elif not self._transports and not srv.connections:
            self._on_tls_close()
        fut = self._serving_forever
        if fut is not None and not fut.done():
            fut.cancel()

    def close_clients(self) -> None:
        """``transport.close()`` every open connection (each waits for its peer's
        close_notify, at most ``ssl_shutdown_timeout``)."""
        for t in list(self._transports):
            t.close()

    def abort_clients(self) -> None:
        """``transport.abort()`` every open connection."""
        for t in list(self._transports):
            t.abort()

    async def wait_closed(self) -> None:
        """Wait until ``close()`` was called and every connection has closed (the
        ``tls.Server``'s ``'close'``)."""
        await asyncio.shield(self._closed)
