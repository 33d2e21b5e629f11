"""An ASGI app served by uvicorn over nodetls (``nodetls.aio.create_server``).

uvicorn makes its listening socket in ``uvicorn.Server.startup`` with ``loop.create_server(...,
ssl=config.ssl)``, which only takes an ``ssl.SSLContext``. :class:`NodeTLSServer` is a
``uvicorn.Server`` whose ``startup`` is the same steps (the app's lifespan startup, then one
listening server whose protocols are uvicorn's own, ``config.http_protocol_class``) with the
listening server made by ``aio.create_server`` instead; everything else is uvicorn's:
``serve()``, the signal handlers, graceful shutdown (``should_exit``), keep-alive, flow control.
uvicorn sees each connection as TLS (``scope['scheme'] == 'https'``) because the transport's
``get_extra_info('sslcontext')`` is set. uvicorn speaks HTTP/1.1 only, so ALPN offers
``http/1.1``.

``http_protocol_class``, ``lifespan``, ``server_state`` and ``servers`` are attributes of
uvicorn's ``Config``/``Server`` that ``startup`` uses; this is tested with uvicorn 0.30 and
later.

Usage::

    python examples/aio_uvicorn.py --dir certs [--port 8443]
    curl --cacert certs/ca-cert.pem https://localhost:8443/

It writes a development CA and a ``localhost`` certificate into ``--dir``, prints ``serving
https://localhost:PORT/`` once listening and runs until interrupted (Ctrl-C: uvicorn's graceful
shutdown). The app answers with the request's ``scheme``, ``http_version`` and the number of body
bytes it received.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import sys
from pathlib import Path
from typing import Any

import uvicorn

from nodetls import aio
from nodetls.devcert import make_dev_pki


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A plain ASGI app: JSON about the request."""
    if scope["type"] != "http":
        return
    received = 0
    while True:
        message = await receive()
        received += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = json.dumps({"scheme": scope["scheme"], "http_version": scope["http_version"],
                       "received": received}).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": body})


class NodeTLSServer(uvicorn.Server):
    """``uvicorn.Server`` listening through ``nodetls.aio.create_server``.

    ``tls_options`` are ``tls.create_server``'s (``key``, ``cert``, ``SNICallback``, ...).
    ``self.servers[0]`` is the ``aio.Server`` once started: its ``tls_server`` is the
    Node-style ``tls.Server`` (events, session stores, ticket keys, OCSP stapling)."""

    def __init__(self, config: uvicorn.Config, **tls_options: Any) -> None:
        super().__init__(config)
        tls_options.setdefault("alpn_protocols", ["http/1.1"])
        self.tls_options = tls_options
        self.listening = asyncio.Event()  # set once the port is open

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's ``Server.startup`` with the listening server from nodetls."""
        await self.lifespan.startup()
        if self.lifespan.should_exit:
            sys.exit(3)  # uvicorn's STARTUP_FAILURE
        config = self.config

        def create_protocol() -> Any:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state)

        server = await aio.create_server(create_protocol, config.host, config.port,
                                         backlog=config.backlog, **self.tls_options)
        self.servers = [server]  # type: ignore[list-item]  # (uvicorn calls close() only)
        self.started = True
        self.listening.set()


def port_of(server: NodeTLSServer) -> int:
    """The port ``server`` listens on (``config.port`` may be 0)."""
    port: int = server.servers[0].sockets[0].getsockname()[1]
    return port


def make_server(asgi_app: Any, host: str, port: int, **tls_options: Any) -> NodeTLSServer:
    """A :class:`NodeTLSServer` for ``asgi_app``; ``await server.serve()`` runs it (until
    ``server.should_exit = True`` or a signal), ``await server.listening.wait()`` waits for the
    port."""
    config = uvicorn.Config(asgi_app, host=host, port=port, lifespan="off", log_level="warning")
    return NodeTLSServer(config, **tls_options)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="uvicorn (ASGI) over nodetls.aio")
    p.add_argument("--dir", type=Path, default=Path("certs"))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8443)
    args = p.parse_args(argv)
    files = make_dev_pki().write(args.dir)
    server = make_server(app, args.host, args.port, key=files["key"].read_bytes(),
                         cert=files["cert"].read_bytes())

    async def run() -> None:
        serving = asyncio.ensure_future(server.serve())
        listening = asyncio.ensure_future(server.listening.wait())
        await asyncio.wait([serving, listening], return_when=asyncio.FIRST_COMPLETED)
        listening.cancel()
        if server.started:
            print(f"serving https://localhost:{port_of(server)}/", flush=True)
        await serving

    # uvicorn's serve() shuts down gracefully on SIGINT/SIGTERM, then raises the signal again
    # for its caller: here that is asyncio.run's KeyboardInterrupt, the end of the program.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


if __name__ == "__main__":
    main()
