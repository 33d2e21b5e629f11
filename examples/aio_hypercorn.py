"""An ASGI app served by hypercorn over nodetls (``nodetls.aio.start_server``), HTTP/2 by ALPN.

Why hypercorn: its connection handler, ``hypercorn.asyncio.tcp_server.TCPServer``, takes an
``asyncio.StreamReader``/``StreamWriter`` pair, which is exactly what ``aio.start_server`` hands
out, and it reads the negotiated protocol from ``writer.get_extra_info('ssl_object')
.selected_alpn_protocol()``, so ALPN ``h2`` gives HTTP/2. (uvicorn, HTTP/1.1 only:
``examples/aio_uvicorn.py``.)

Usage::

    python examples/aio_hypercorn.py --dir certs [--port 8443]
    curl --http2 --cacert certs/ca-cert.pem https://localhost:8443/

It writes a development CA and a ``localhost`` certificate into ``--dir``, prints ``serving
https://localhost:PORT/`` and runs until interrupted. The app answers with the request's
``scheme``, ``http_version`` and the number of body bytes it received.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

from hypercorn.asyncio.tcp_server import TCPServer
from hypercorn.asyncio.worker_context import WorkerContext
from hypercorn.config import Config
from hypercorn.utils import wrap_app

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
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


async def serve_hypercorn(asgi_app: Any, host: str, port: int, **tls_options: Any) -> aio.Server:
    """Serve ``asgi_app`` with hypercorn's HTTP/1.1 and HTTP/2 on an ``aio.start_server``."""
    config = Config()
    wrapped = wrap_app(asgi_app, config.wsgi_max_body_size, "asgi")
    context = WorkerContext(None)
    state: dict[str, Any] = {}
    loop = asyncio.get_running_loop()

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await TCPServer(wrapped, loop, config, context, state, reader, writer)

    tls_options.setdefault("alpn_protocols", ["h2", "http/1.1"])
    return await aio.start_server(on_connection, host, port, **tls_options)


async def main_async(directory: Path, host: str, port: int) -> None:
    files = make_dev_pki().write(directory)
    server = await serve_hypercorn(app, host, port, key=files["key"].read_bytes(),
                                   cert=files["cert"].read_bytes())
    print(f"serving https://localhost:{server.sockets[0].getsockname()[1]}/", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="hypercorn (ASGI) over nodetls.aio")
    p.add_argument("--dir", type=Path, default=Path("certs"))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8443)
    args = p.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main_async(args.dir, args.host, args.port))


if __name__ == "__main__":
    main()
