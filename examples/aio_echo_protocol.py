"""An ``asyncio.Protocol`` echo server and client over nodetls (``aio.create_server`` /
``aio.create_connection``), with the Node-style server underneath in reach.

Usage::

    python examples/aio_echo_protocol.py            # server + one client, prints the echo
    python examples/aio_echo_protocol.py --serve --dir certs --port 8443   # server only
    openssl s_client -connect localhost:8443 -CAfile certs/ca-cert.pem     # talk to it

The protocol classes are plain asyncio; only the two ``aio`` calls differ from
``loop.create_server(..., ssl=ctx)``. ``server.tls_server`` is the ``tls.Server``: here its
``'keylog'`` and ``'secureConnection'`` events are counted, as any Node-style feature attaches.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path
from typing import Any

import nodetls as tls
from nodetls import aio
from nodetls.devcert import make_dev_pki


class EchoServer(asyncio.Protocol):
    """Echo every byte; close when the client ends (close_notify)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)

    def eof_received(self) -> bool | None:
        return None  # close our side too


class EchoClient(asyncio.Protocol):
    """Send a message, half-close (TLS write_eof), collect the echo until the server closes."""

    def __init__(self, message: bytes) -> None:
        self.message = message
        self.received = bytearray()
        self.done: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(self.message)
        transport.write_eof()  # close_notify + FIN; the server still answers

    def data_received(self, data: bytes) -> None:
        self.received += data

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(bytes(self.received))


async def serve(files: dict[str, Path], host: str, port: int) -> tuple[aio.Server, list[str]]:
    """The echo server, and the list of client addresses its ``tls.Server`` saw secured."""
    server = await aio.create_server(EchoServer, host, port, key=files["key"].read_bytes(),
                                     cert=files["cert"].read_bytes())
    seen: list[str] = []

    def on_secure(sock: tls.TLSSocket) -> None:
        seen.append(f"{sock.remote_address}:{sock.remote_port}")

    server.tls_server.on("secureConnection", on_secure)
    return server, seen


async def demo(directory: Path) -> None:
    files = make_dev_pki().write(directory)
    server, seen = await serve(files, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        transport, protocol = await aio.create_connection(
            lambda: EchoClient(b"hello over nodetls.aio"), "127.0.0.1", port,
            ca=files["ca"].read_bytes(), servername="localhost")
        assert isinstance(protocol, EchoClient)
        echoed = await asyncio.wait_for(protocol.done, 10)
        cipher: Any = transport.get_extra_info("cipher")
        print(f"echo: {echoed.decode()} ({cipher[1]}, {cipher[0]})")
        print(f"server saw {len(seen)} secure connection(s)")


async def serve_forever(directory: Path, host: str, port: int) -> None:
    files = make_dev_pki().write(directory)
    server, _ = await serve(files, host, port)
    async with server:
        print(f"serving on {host}:{server.sockets[0].getsockname()[1]}", flush=True)
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="asyncio.Protocol echo over nodetls.aio")
    p.add_argument("--serve", action="store_true", help="run the server only")
    p.add_argument("--dir", type=Path, default=Path("certs"))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8443)
    args = p.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        if args.serve:
            asyncio.run(serve_forever(args.dir, args.host, args.port))
        else:
            asyncio.run(demo(args.dir))


if __name__ == "__main__":
    main()
