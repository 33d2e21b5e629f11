"""STARTTLS with asyncio streams: talk in plaintext first, then upgrade the same connection with
``aio.open_connection(sock=...)`` (what ``StreamWriter.start_tls`` does with ``ssl``).

The server here is plain asyncio with Python's ``ssl`` (``StreamWriter.start_tls``), so the
example also shows nodetls and ``ssl`` talking to each other. The client:

1. ``sock = await net.create_connection(port, host)`` (``net.connect``): a plaintext ``net.Socket``;
2. reads the greeting, sends ``STARTTLS``, reads the go-ahead;
3. ``reader, writer = await aio.open_connection(sock=sock, servername=..., ca=...)``: the TLS
   handshake runs over that socket and asyncio streams come back.

Usage::

    python examples/aio_starttls.py --dir certs
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ssl
from pathlib import Path

from nodetls import aio, net
from nodetls.devcert import make_dev_pki


async def plain_then_tls_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                                ctx: ssl.SSLContext) -> None:
    """asyncio + ssl: greet, wait for STARTTLS, upgrade, then echo lines in upper case."""
    writer.write(b"220 ready\r\n")
    if await reader.readline() != b"STARTTLS\r\n":
        writer.close()
        return
    writer.write(b"220 go ahead\r\n")
    await writer.drain()
    await writer.start_tls(ctx)
    while line := await reader.readline():
        writer.write(line.upper())
        await writer.drain()
    writer.close()


async def read_line(sock: net.Socket) -> bytes:
    """One CRLF-terminated line from a plaintext ``net.Socket`` (extra bytes are unshifted)."""
    buf = bytearray()
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_data(chunk: bytes) -> None:
        buf.extend(chunk)
        if b"\r\n" in buf and not done.done():
            sock.pause()
            done.set_result(None)

    sock.on("data", on_data)
    sock.resume()
    try:
        await asyncio.wait_for(done, 10)
    finally:
        sock.remove_listener("data", on_data)
    line, _, rest = bytes(buf).partition(b"\r\n")
    if rest:
        sock.unshift(rest)
    return line + b"\r\n"


async def starttls_client(port: int, ca: bytes) -> bytes:
    sock = await net.create_connection(port, "127.0.0.1")
    assert await read_line(sock) == b"220 ready\r\n"
    sock.write(b"STARTTLS\r\n")
    assert await read_line(sock) == b"220 go ahead\r\n"
    reader, writer = await aio.open_connection(sock=sock, servername="localhost", ca=ca)
    writer.write(b"hello after starttls\r\n")
    answer = await reader.readline()
    print(f"over {writer.get_extra_info('ssl_object').version()}: {answer.decode().strip()}")
    writer.close()
    await writer.wait_closed()
    return answer


async def demo(directory: Path) -> None:
    files = make_dev_pki().write(directory)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(files["cert"], files["key"])
    server = await asyncio.start_server(lambda r, w: plain_then_tls_server(r, w, ctx),
                                        "127.0.0.1", 0)
    async with server:
        await starttls_client(server.sockets[0].getsockname()[1], files["ca"].read_bytes())


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="STARTTLS with nodetls.aio")
    p.add_argument("--dir", type=Path, default=Path("certs"))
    args = p.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(demo(args.dir))


if __name__ == "__main__":
    main()
