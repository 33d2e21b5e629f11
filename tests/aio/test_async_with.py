"""``async with`` on the Node-style objects: tls.Server closes and waits for 'close'; a TLSSocket
ends (or is destroyed when the block raised)."""

from __future__ import annotations

import asyncio

import pytest

import nodetls as tls

T = 10.0


def echo(sock):
    sock.on("data", sock.write)
    sock.on("end", sock.end)


async def test_server_and_socket_async_with(certs):
    closed = []
    async with tls.create_server(certs.server.options, echo) as server:
        server.on("close", lambda: closed.append(True))
        server.listen(0, "127.0.0.1")
        await asyncio.wait_for(server, T)
        port = server.address()["port"]
        ended = asyncio.get_running_loop().create_future()
        async with await tls.connect(port, host="127.0.0.1", servername="localhost",
                                     ca=certs.server.ca_pem) as sock:
            assert sock.encrypted and sock.authorized
            sock.on("end", lambda: ended.set_result(True))
            sock.resume()
            sock.write(b"hi")
        # on exit: end() -> close_notify; the echo server ends back
        assert await asyncio.wait_for(ended, T)
        assert sock.writable is False
        # without the extra await, the handshake is awaited by __aenter__
        async with tls.connect(port, host="127.0.0.1", servername="localhost",
                               ca=certs.server.ca_pem) as sock2:
            assert sock2.get_protocol() in ("TLSv1.2", "TLSv1.3")
        await asyncio.wait_for(asyncio.shield(asyncio.sleep(0)), T)
    assert closed == [True]  # __aexit__ waited for 'close' (every connection gone)
    assert not server.listening


async def test_socket_destroyed_when_block_raises(certs):
    async with tls.create_server(certs.server.options, echo) as server:
        server.listen(0, "127.0.0.1")
        await asyncio.wait_for(server, T)
        port = server.address()["port"]
        with pytest.raises(KeyError):
            async with await tls.connect(port, host="127.0.0.1", servername="localhost",
                                         ca=certs.server.ca_pem) as sock:
                raise KeyError("x")
        assert sock.destroyed


async def test_server_never_listened_exits_at_once(certs):
    async with tls.create_server(certs.server.options) as server:
        pass
    assert not server.listening
