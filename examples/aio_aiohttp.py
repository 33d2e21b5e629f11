"""An aiohttp ``web.Application`` served over nodetls (``nodetls.aio.create_server``).

aiohttp serves any ``asyncio.Server`` through a *site*; :class:`NodeTLSSite` is the small
``web.BaseSite`` that makes one with ``aio.create_server`` instead of ``loop.create_server``. The
app then sees ordinary TLS: ``request.secure`` is true, ``request.scheme`` is ``'https'``, and
``request.transport.get_extra_info('tls_socket')`` is the Node-style ``TLSSocket``; the
``tls.Server`` behind it (``site.tls_server``) takes every Node-style event and feature.

Usage::

    python examples/aio_aiohttp.py --dir certs [--port 8443]
    curl --cacert certs/ca-cert.pem https://localhost:8443/

It writes a development CA and a ``localhost`` certificate into ``--dir`` (``ca-cert.pem``,
``localhost-cert.pem``, ``localhost-key.pem``), prints ``serving https://localhost:PORT/`` and runs
until interrupted. Routes: ``GET /`` (JSON about the connection), ``POST /echo`` (the body back),
``GET /bytes/N`` (N bytes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path
from typing import Any

from aiohttp import web

from nodetls import aio
from nodetls.devcert import make_dev_pki


class NodeTLSSite(web.BaseSite):
    """An aiohttp site listening through ``nodetls.aio.create_server``; ``tls_options`` are
    ``tls.create_server``'s options."""

    __slots__ = ("_host", "_port", "_tls_options")

    def __init__(self, runner: web.BaseRunner, host: str = "127.0.0.1", port: int = 8443,
                 **tls_options: Any) -> None:
        super().__init__(runner)
        self._host = host
        self._port = port
        self._tls_options = tls_options

    @property
    def name(self) -> str:
        return f"https://{self._host}:{self.port}/"

    @property
    def port(self) -> int:
        server = self._server
        if isinstance(server, aio.Server) and server.sockets:
            return int(server.sockets[0].getsockname()[1])
        return self._port

    @property
    def tls_server(self) -> Any:
        """The ``tls.Server`` (Node-style events, session stores, ticket keys...)."""
        assert isinstance(self._server, aio.Server)
        return self._server.tls_server

    async def start(self) -> None:
        await super().start()
        assert self._runner.server is not None
        self._server = await aio.create_server(self._runner.server, self._host, self._port,
                                               backlog=self._backlog, **self._tls_options)


async def about(request: web.Request) -> web.Response:
    assert request.transport is not None
    sock = request.transport.get_extra_info("tls_socket")
    return web.json_response({
        "secure": request.secure, "scheme": request.scheme, "protocol": sock.get_protocol(),
        "cipher": sock.get_cipher()["name"], "remote_port": sock.remote_port,
    })


async def echo(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    await response.prepare(request)
    async for chunk in request.content.iter_any():
        await response.write(chunk)
    await response.write_eof()
    return response


async def some_bytes(request: web.Request) -> web.Response:
    n = int(request.match_info["n"])
    return web.Response(body=b"x" * n, content_type="application/octet-stream")


def make_app() -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.add_routes([web.get("/", about), web.post("/echo", echo),
                    web.get("/bytes/{n:\\d+}", some_bytes)])
    return app


async def serve(directory: Path, host: str, port: int) -> None:
    files = make_dev_pki().write(directory)
    runner = web.AppRunner(make_app())
    await runner.setup()
    site = NodeTLSSite(runner, host, port, key=files["key"].read_bytes(),
                       cert=files["cert"].read_bytes())
    await site.start()
    print(f"serving https://localhost:{site.port}/", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="aiohttp over nodetls.aio")
    p.add_argument("--dir", type=Path, default=Path("certs"))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8443)
    args = p.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.dir, args.host, args.port))


if __name__ == "__main__":
    main()
