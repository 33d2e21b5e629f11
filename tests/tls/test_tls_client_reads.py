"""What a client reads (``tls.connect``'s data path, on asyncio and on uvloop): every byte in
order whatever the read sizes, through a pause, a 'data' listener that writes or destroys, the
session tickets that arrive after ``'secureConnect'``, and the server's close_notify."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tlsutil import LOOPS, SIZES, TIMEOUT, run_on
from tlsutil import pattern as _pattern

import nodetls as tls


async def _server(certs: Any, on_secure: Any) -> tuple[tls.Server, int]:
    server = tls.create_server(certs.server.options, on_secure)
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, TIMEOUT)
    return server, server.address()["port"]


def _connect(certs: Any, port: int) -> tls.TLSSocket:
    return tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                              "servername": "localhost"})


@pytest.mark.parametrize("loop", LOOPS)
def test_client_reads_every_byte_in_order_then_end_and_close(certs: Any, loop: str) -> None:
    chunks = [_pattern(n, i) for i, n in enumerate(SIZES)]

    async def main() -> None:
        def on_secure(s: tls.TLSSocket) -> None:
            for c in chunks:
                s.write(c)
            s.end()  # close_notify after the data

        server, port = await _server(certs, on_secure)
        got = bytearray()
        order: list[str] = []
        done = asyncio.get_running_loop().create_future()
        sock = _connect(certs, port)
        sock.on("secureConnect", lambda: order.append("secureConnect"))
        sock.on("session", lambda _s: order.append("session"))
        sock.on("data", got.extend)
        sock.on("end", lambda: order.append("end"))
        sock.on("close", lambda err: done.done() or done.set_result(err))
        try:
            assert await asyncio.wait_for(done, TIMEOUT) is False
        finally:
            server.close()
        assert bytes(got) == b"".join(chunks)
        # TLS 1.3 tickets come after the handshake, on the data path, before the data's end
        assert order[0] == "secureConnect" and order[-1] == "end" and "session" in order
        assert sock.bytes_read == len(got)

    run_on(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
def test_paused_client_gets_everything_once_resumed(certs: Any, loop: str) -> None:
    data = _pattern(50_000, 3)

    async def main() -> None:
        aloop = asyncio.get_running_loop()
        flushed = aloop.create_future()

        def on_secure(s: tls.TLSSocket) -> None:
            s.write(data)
            s.end(lambda *_: flushed.done() or flushed.set_result(None))

        server, port = await _server(certs, on_secure)
        got = bytearray()
        ended = aloop.create_future()
        sock = _connect(certs, port)
        sock.on("data", got.extend)
        sock.on("secureConnect", sock.pause)  # before the server (which writes at its end)
        sock.on("end", lambda: ended.set_result(None))
        try:
            await asyncio.wait_for(flushed, TIMEOUT)  # all of it sent while we do not read
            got_while_paused = len(got)
            sock.resume()
            await asyncio.wait_for(ended, TIMEOUT)
        finally:
            sock.destroy()
            server.close()
        assert got_while_paused == 0 and bytes(got) == data

    run_on(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
def test_data_listener_that_writes_then_destroys(certs: Any, loop: str) -> None:
    async def main() -> None:
        aloop = asyncio.get_running_loop()
        server_got = bytearray()
        server_closed = aloop.create_future()

        def on_secure(s: tls.TLSSocket) -> None:
            s.on("data", server_got.extend)
            s.on("error", lambda _e: None)
            s.on("close", lambda *_: server_closed.done() or server_closed.set_result(None))
            s.write(b"a" * 10)
            s.write(b"b" * 20_000)  # the client destroys itself inside this one's 'data'

        server, port = await _server(certs, on_secure)
        sock = _connect(certs, port)
        seen: list[bytes] = []
        closed = aloop.create_future()

        def on_data(chunk: bytes) -> None:
            seen.append(chunk)
            sock.write(b"<" + chunk[:1] + b">")  # a write from inside the read
            if sum(map(len, seen)) >= 10 + 1:
                sock.destroy()

        sock.on("data", on_data)
        sock.on("close", lambda err: closed.done() or closed.set_result(err))
        try:
            assert await asyncio.wait_for(closed, TIMEOUT) is False
            await asyncio.wait_for(server_closed, TIMEOUT)
        finally:
            server.close()
        assert sock.destroyed and b"".join(seen).startswith(b"a" * 10 + b"b")
        assert len(b"".join(seen)) <= 10 + 20_000
        # what reached the server of the writes made before the destroy came in order
        assert b"".join(b"<" + c[:1] + b">" for c in seen).startswith(bytes(server_got))

    run_on(loop, main)
