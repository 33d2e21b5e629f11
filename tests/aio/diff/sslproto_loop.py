"""The third reference of the aio differential harness: asyncio's own SSL transport
(``asyncio.sslproto.SSLProtocol``) on uvloop's loop.

uvloop's loop has its own SSL transport; :class:`SslprotoUVLoop` is uvloop's loop whose
``create_connection``/``create_server`` with ``ssl=`` an ``ssl.SSLContext`` run asyncio's
``SSLProtocol`` over uvloop's plain TCP transport, as asyncio's loop does
(``base_events._create_connection_transport``, ``selector_events._accept_connection2``): the
application's protocol made first (at the accept, for a server), then the TLS protocol over a
plain TCP connection, the call (a client) waiting for the handshake, whose failure closes the
transport. The stream forms (``asyncio.open_connection``/``start_server``) go through these.
So nodetls on uvloop, where it follows asyncio's transport, is compared with asyncio's transport
in uvloop's scheduling (``compare.py``).
"""

from __future__ import annotations

import asyncio
from asyncio import sslproto
from typing import Any

import uvloop


class SslprotoUVLoop(uvloop.Loop):  # type: ignore[misc]
    """uvloop's loop with asyncio's ``sslproto`` as its SSL transport (see the module)."""

    def _ssl_protocol(self, app: Any, ctx: Any, waiter: asyncio.Future[Any], server_side: bool,
                      hostname: str | None, kw: dict[str, Any]) -> Any:
        return sslproto.SSLProtocol(  # type: ignore[no-untyped-call]
            self, app, ctx, waiter, server_side, hostname,
            ssl_handshake_timeout=kw.pop("ssl_handshake_timeout", None),
            ssl_shutdown_timeout=kw.pop("ssl_shutdown_timeout", None))

    async def create_connection(self, protocol_factory: Any, host: Any = None,
                                port: Any = None, *, ssl: Any = None,
                                server_hostname: str | None = None, **kw: Any) -> Any:
        if not ssl:
            return await super().create_connection(protocol_factory, host, port, **kw)
        app = protocol_factory()
        waiter = self.create_future()
        proto = self._ssl_protocol(app, ssl, waiter, False, server_hostname or host, kw)
        await super().create_connection(lambda: proto, host, port, **kw)
        try:
            await waiter
        except BaseException:
            proto._app_transport.close()
            raise
        return proto._app_transport, app

    async def create_server(self, protocol_factory: Any, host: Any = None, port: Any = None,
                            *, ssl: Any = None, **kw: Any) -> Any:
        if not ssl:
            return await super().create_server(protocol_factory, host, port, **kw)
        tls_kw = {k: kw.pop(k) for k in ("ssl_handshake_timeout", "ssl_shutdown_timeout")
                  if k in kw}

        def factory() -> Any:
            waiter = self.create_future()
            proto = self._ssl_protocol(protocol_factory(), ssl, waiter, True, None,
                                       dict(tls_kw))

            def handshake_done(f: asyncio.Future[Any]) -> None:
                if not f.cancelled() and f.exception() is not None:
                    proto._app_transport.close()
            waiter.add_done_callback(handshake_done)
            return proto

        return await super().create_server(factory, host, port, **kw)
