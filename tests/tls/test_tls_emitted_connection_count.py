"""A connection handed to a ``tls.Server`` with ``emit('connection', raw)`` is counted by the server
that accepted ``raw``, never by the TLS server (Node v20: ``net.Server``'s ``onconnection`` counts
the raw socket and sets its ``_server``; the ``TLSSocket`` over it gets none; destroying the
``TLSSocket`` destroys the raw socket, whose ``_destroy`` counts it out of its own server).

The figures are Node v20's, from the same scenario run with ``node``: a ``net.Server`` accepts,
its listener emits ``'connection'`` on a ``tls.Server`` (listening or not); the client closes
both servers once secure, then the connection ends from either side. After the server's
``'secureConnection'``: net 1, TLS 0; right after the server socket's ``destroy()``: net 0; after the server socket's ``'close'``: 0 and 0; the
net server's ``'close'`` fires before that socket's ``'close'``, the TLS server's at once (not
listening: its ``close()`` callback gets ``ERR_SERVER_NOT_RUNNING``). Over a Duplex: TLS 0 after
secure and after close, and the Duplex is destroyed.

The ``nodetls.aio`` bridge builds its own connections (no ``'connection'`` emit), but its
``tls_server`` takes emitted ones as any: they leave its count alone, so its ``wait_closed()``
still waits for a connection it accepted after one emitted to it came and went."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tlsutil import LOOPS, event, run_on, wait

import nodetls as tls
from nodetls import aio, net, stream


async def _counts(net_server: Any, tls_server: Any) -> tuple[int, int]:
    return (await wait(net_server.get_connections()), await wait(tls_server.get_connections()))


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("ender", ["client", "server"])
@pytest.mark.parametrize("tls_listening", [False, True])
def test_connection_emitted_from_a_net_server(certs: Any, loop: str, ender: str,
                                              tls_listening: bool) -> None:
    async def main() -> None:
        order: list[str] = []
        tls_server = tls.create_server(certs.server.options)
        raws: list[Any] = []

        def on_raw(raw: Any) -> None:
            raws.append(raw)
            tls_server.emit("connection", raw)

        net_server = net.create_server(on_raw)
        net_server.on("close", lambda *_: order.append("net close"))
        tls_server.on("close", lambda *_: order.append("tls close"))
        secure = event(tls_server, "secureConnection")
        if tls_listening:
            tls_server.listen(0, "127.0.0.1")
            await wait(tls_server)
        net_server.listen(0, "127.0.0.1")
        await wait(net_server)
        client = tls.connect(net_server.address()["port"],
                             {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                              "servername": "localhost"})
        client.on("data", lambda _: None)
        await wait(client)
        tls_closed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        net_server.close()
        tls_server.close(lambda err=None: tls_closed.set_result(err))
        sock = await wait(secure)
        assert await _counts(net_server, tls_server) == (1, 0)
        err = await wait(tls_closed)  # at once: this server counts nothing
        assert (err.code if err is not None else None) == \
            (None if tls_listening else "ERR_SERVER_NOT_RUNNING")
        assert order == ["tls close"]
        sock_closed = event(sock, "close")
        sock.on("close", lambda *_: order.append("socket close"))
        if ender == "client":
            client.end()
        else:
            sock.destroy()
            assert net_server.connections == 0  # at once, as in Node
        await wait(sock_closed)
        assert order == ["tls close", "net close", "socket close"]
        assert await _counts(net_server, tls_server) == (0, 0)
        assert raws[0].destroyed
        client.destroy()

    run_on(loop, main)


async def test_connection_emitted_as_a_duplex_is_not_counted(certs: Any) -> None:
    a, b = stream.duplex_pair()
    server = tls.create_server(certs.server.options)
    secure = event(server, "secureConnection")
    server.emit("connection", b)
    client = tls.connect({"socket": a, "ca": certs.root.cert_pem, "servername": "localhost"})
    client.on("error", lambda _: None)
    await wait(client)
    sock = await wait(secure)
    assert await wait(server.get_connections()) == 0
    closed = event(sock, "close")
    sock.destroy()
    await wait(closed)
    assert await wait(server.get_connections()) == 0
    assert b.destroyed
    client.destroy()


class _Echo(asyncio.Protocol):
    def __init__(self, made: list[asyncio.Future[Any]], lost: list[asyncio.Future[Any]]) -> None:
        loop = asyncio.get_running_loop()
        self.made, self.lost = loop.create_future(), loop.create_future()
        made.append(self.made)
        lost.append(self.lost)

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.made.set_result(transport)

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)

    def connection_lost(self, exc: BaseException | None) -> None:
        self.lost.set_result(exc)


async def test_aio_server_fed_a_connection_by_a_net_server(certs: Any) -> None:
    made: list[asyncio.Future[Any]] = []
    lost: list[asyncio.Future[Any]] = []
    server = await aio.create_server(lambda: _Echo(made, lost), "127.0.0.1", 0,
                                     **certs.server.options)
    tls_server = server.tls_server
    net_server = net.create_server(lambda raw: tls_server.emit("connection", raw))
    net_server.listen(0, "127.0.0.1")
    await wait(net_server)
    opts = {"ca": certs.root.cert_pem, "servername": "localhost"}
    try:
        # a connection emitted to the aio server's tls_server comes and goes
        _, w1 = await wait(aio.open_connection("127.0.0.1", net_server.address()["port"], **opts))
        if not made:  # (TLS 1.3: the server's handshake ends after the client's)
            await wait(event(tls_server, "secureConnection"))
        await wait(made[0])
        assert await _counts(net_server, tls_server) == (1, 0)
        w1.close()
        await wait(lost[0])
        assert await _counts(net_server, tls_server) == (0, 0)
        # then one the aio server accepts: closing the server waits for it
        r2, w2 = await wait(aio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1],
                                                **opts))
        if len(made) < 2:
            await wait(event(tls_server, "secureConnection"))
        await wait(made[1])
        assert await wait(tls_server.get_connections()) == 1
        closed = event(tls_server, "close")
        server.close()
        w2.write(b"ping")
        assert await wait(r2.readexactly(4)) == b"ping"
        assert not closed.done()
        w2.close()
        await wait(server.wait_closed())
        assert closed.done()
    finally:
        net_server.close()
        server.close()
