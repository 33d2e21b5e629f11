"""What a server's accepted socket reads (``tls.createServer``'s data path, on asyncio and on
uvloop): its reads go through the TLS wrap's routed read (``TLSWrap.route_reads``: one receive
buffer per thread, plaintext as ``bytes``), and every byte arrives in order whatever the write
sizes, for many connections at once sharing that buffer, and through a pause."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tlsutil import LOOPS, SIZES, TIMEOUT, run_on
from tlsutil import pattern as _pattern

import nodetls as tls


def _connect(certs: Any, port: int) -> tls.TLSSocket:
    return tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                              "servername": "localhost"})


def _routed(sock: tls.TLSSocket) -> bool:
    wrap: Any = sock._wrap
    return bool(wrap.lower.buffer_updated == wrap._on_transport_read)


@pytest.mark.parametrize("loop", LOOPS)
def test_server_reads_every_byte_in_order_then_end(certs: Any, loop: str) -> None:
    chunks = [_pattern(n, i) for i, n in enumerate(SIZES)]

    async def main() -> None:
        aloop = asyncio.get_running_loop()
        ended: asyncio.Future[tuple[bytes, int, bool]] = aloop.create_future()

        def on_secure(s: tls.TLSSocket) -> None:
            got = bytearray()
            routed = _routed(s)
            s.on("data", got.extend)
            s.on("end", lambda: ended.done() or ended.set_result((bytes(got), s.bytes_read,
                                                                   routed)))
            s.on("end", s.end)

        server = tls.create_server(certs.server.options, on_secure)
        server.listen(0, "127.0.0.1")
        await asyncio.wait_for(server, TIMEOUT)
        sock = _connect(certs, server.address()["port"])
        closed = aloop.create_future()
        sock.on("close", lambda err: closed.done() or closed.set_result(err))
        try:
            await asyncio.wait_for(sock, TIMEOUT)
            for c in chunks:
                sock.write(c)
            sock.end()
            data, nread, routed = await asyncio.wait_for(ended, TIMEOUT)
            assert await asyncio.wait_for(closed, TIMEOUT) is False
        finally:
            server.close()
        assert routed
        assert data == b"".join(chunks)
        assert nread == len(data)

    run_on(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
def test_connections_read_at_once_keep_their_own_bytes(certs: Any, loop: str) -> None:
    """Twelve clients write at the same time to an echo server (``socket.pipe(socket)``): the
    reads of all of them go through one receive buffer, and each gets back exactly its own."""
    n = 12
    payloads = [_pattern(40_000 + 9_001 * i, 11 * i + 1) for i in range(n)]

    async def main() -> None:
        aloop = asyncio.get_running_loop()
        server = tls.create_server(certs.server.options, lambda s: s.pipe(s))
        server.listen(0, "127.0.0.1")
        await asyncio.wait_for(server, TIMEOUT)
        port = server.address()["port"]

        async def client(payload: bytes) -> bytes:
            got = bytearray()
            done = aloop.create_future()
            sock = _connect(certs, port)
            sock.on("data", got.extend)
            sock.on("close", lambda err: done.done() or done.set_result(err))
            await asyncio.wait_for(sock, TIMEOUT)
            third = len(payload) // 3
            for part in (payload[:third], payload[third:2 * third], payload[2 * third:]):
                sock.write(part)
            sock.end()
            assert await asyncio.wait_for(done, TIMEOUT) is False
            return bytes(got)

        try:
            echoed = await asyncio.gather(*(client(p) for p in payloads))
        finally:
            server.close()
        for i, (sent, back) in enumerate(zip(payloads, echoed, strict=True)):
            assert back == sent, f"connection {i}"

    run_on(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
def test_paused_server_socket_gets_everything_once_resumed(certs: Any, loop: str) -> None:
    data = _pattern(200_000, 5)

    async def main() -> None:
        aloop = asyncio.get_running_loop()
        accepted: asyncio.Future[tls.TLSSocket] = aloop.create_future()
        ended: asyncio.Future[bytes] = aloop.create_future()

        def on_secure(s: tls.TLSSocket) -> None:
            s.pause()
            got = bytearray()
            s.on("data", got.extend)
            s.on("end", lambda: ended.done() or ended.set_result(bytes(got)))
            s.on("end", s.end)
            accepted.set_result(s)

        server = tls.create_server(certs.server.options, on_secure)
        server.listen(0, "127.0.0.1")
        await asyncio.wait_for(server, TIMEOUT)
        sock = _connect(certs, server.address()["port"])
        try:
            await asyncio.wait_for(sock, TIMEOUT)
            s = await asyncio.wait_for(accepted, TIMEOUT)
            flushed = aloop.create_future()
            sock.write(data, callback=lambda *_: flushed.done() or flushed.set_result(None))
            sock.end()
            await asyncio.wait_for(flushed, TIMEOUT)  # handed to the kernel: the server is paused
            assert not ended.done() and s.is_paused()
            s.resume()
            assert await asyncio.wait_for(ended, TIMEOUT) == data
        finally:
            server.close()

    run_on(loop, main)
