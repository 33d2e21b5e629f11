"""The ``TLSSocket`` an ``aio`` server builds (``BridgeSocket``) sets up no Node stream state
per connection, yet behaves as the Node-style server's socket: the same stream state when
looked at, Node-style writes and events when used, the same ``'tlsClientError'`` when the peer
leaves during the handshake."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import nodetls as tls
from nodetls import aio
from nodetls._net.socket import instance_state
from nodetls.aio._lean import BridgeSocket

T = 10.0


def client_opts(certs: Any) -> dict[str, Any]:
    return {"ca": certs.server.ca_pem, "servername": "localhost"}


class Keep(asyncio.Protocol):
    def __init__(self, made: asyncio.Future[Any]) -> None:
        self.made = made

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        if not self.made.done():
            self.made.set_result(transport)


def _stream_state(sock: Any, names: list[str]) -> dict[str, Any]:
    return {name: getattr(sock, name) for name in names}


async def _secure_socket(server: Any, certs: Any) -> tuple[Any, asyncio.StreamWriter]:
    """Connect to ``server`` (a ``tls.Server``); its socket at ``'secureConnection'``."""
    loop = asyncio.get_running_loop()
    got: asyncio.Future[Any] = loop.create_future()
    server.once("secureConnection", lambda s: got.done() or got.set_result(s))
    port = server.address()["port"]
    _, writer = await asyncio.wait_for(
        aio.open_connection("127.0.0.1", port, **client_opts(certs)), T)
    return await asyncio.wait_for(got, T), writer


async def test_bridge_socket_has_the_node_style_sockets_stream_state(certs: Any) -> None:
    node_style = tls.create_server(certs.server.options)
    node_style.listen(0, "127.0.0.1")
    await node_style
    server = await aio.create_server(lambda: asyncio.Protocol(), "127.0.0.1", 0,
                                     **certs.server.options)
    try:
        plain, w1 = await _secure_socket(node_style, certs)
        lean, w2 = await _secure_socket(server.tls_server, certs)
        assert type(plain) is tls.TLSSocket
        assert type(lean) is BridgeSocket
        names = sorted(n for n in instance_state(plain) if n.startswith(("_r_", "_w_")))
        assert len(names) > 30
        # built on demand: nothing of it in the bridge socket's own dict but the pipe list
        assert [n for n in instance_state(lean) if n.startswith(("_r_", "_w_"))] == ["_r_pipes"]
        assert _stream_state(lean, names) == _stream_state(plain, names)
        # the state the server copies into each accepted socket has none of it either (each
        # socket makes its own pipe list)
        state = server.tls_server._template.accepted_state
        assert state and [n for n in state if n.startswith(("_r_", "_w_"))] == []
        assert lean._r_pipes == [] and lean._r_pipes is not BridgeSocket.__dict__.get("_r_pipes")
        assert lean.readable_length == 0 and lean.writable_length == 0
        assert lean.readable and lean.writable and not lean.writable_ended
        for w in (w1, w2):
            w.close()
    finally:
        node_style.close()
        server.close()
        server.close_clients()
        await asyncio.wait_for(server.wait_closed(), T)


async def test_node_style_write_on_the_bridge_socket(certs: Any) -> None:
    """``get_extra_info('tls_socket').write()``: a Node-style write on the connection (its
    stream state is made then), its callback called, the data reaching the peer."""
    loop = asyncio.get_running_loop()
    made: asyncio.Future[Any] = loop.create_future()
    server = await aio.create_server(lambda: Keep(made), "127.0.0.1", 0, **certs.server.options)
    try:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.wait_for(
            aio.open_connection("127.0.0.1", port, **client_opts(certs)), T)
        transport = await asyncio.wait_for(made, T)
        sock = transport.get_extra_info("tls_socket")
        assert type(sock) is BridgeSocket
        written: asyncio.Future[Any] = loop.create_future()
        assert sock.write(b"node-style ", lambda err=None: written.set_result(err)) is True
        assert await asyncio.wait_for(written, T) is None
        transport.write(b"asyncio")
        assert await asyncio.wait_for(reader.readexactly(18), T) == b"node-style asyncio"
        writer.close()
    finally:
        server.close()
        server.close_clients()
        await asyncio.wait_for(server.wait_closed(), T)


async def test_peer_leaving_during_the_handshake_is_a_tls_client_error(certs: Any) -> None:
    """A TCP connection that closes before its handshake is done (here: after half a
    ClientHello, and after nothing at all) is ``'tlsClientError'`` ``ECONNRESET`` on the
    ``tls.Server``, as with the Node-style server; the protocol factory is never called and
    the server goes on serving."""
    loop = asyncio.get_running_loop()
    made: asyncio.Future[Any] = loop.create_future()
    calls: list[int] = []

    def factory() -> Keep:
        calls.append(1)
        return Keep(made)

    server = await aio.create_server(factory, "127.0.0.1", 0, **certs.server.options)
    errors: asyncio.Queue[tuple[Any, Any]] = asyncio.Queue()
    server.tls_server.on("tlsClientError", lambda err, s: errors.put_nowait((err, s)))
    try:
        port = server.sockets[0].getsockname()[1]
        for payload in (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", b""):
            raw = socket.create_connection(("127.0.0.1", port), timeout=T)
            if payload:
                raw.sendall(payload)
            raw.close()
            err, sock = await asyncio.wait_for(errors.get(), T)
            assert err.code == "ECONNRESET"
            assert type(sock) is BridgeSocket
        assert calls == []
        reader, writer = await asyncio.wait_for(
            aio.open_connection("127.0.0.1", port, **client_opts(certs)), T)
        await asyncio.wait_for(made, T)
        assert calls == [1]
        writer.close()
    finally:
        server.close()
        server.close_clients()
        await asyncio.wait_for(server.wait_closed(), T)


class Watch(asyncio.Protocol):
    """Records the order of the socket's ``'close'`` and ``connection_lost``."""

    def __init__(self, log: list[Any], made: asyncio.Queue[Any], listen: bool) -> None:
        self.log, self.made, self.listen = log, made, listen
        self.lost: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: Any) -> None:
        self.sock = transport.get_extra_info("tls_socket")
        if self.listen:
            self.sock.on("close", lambda had_error: self.log.append(("close", had_error)))
        self.made.put_nowait(self)

    def connection_lost(self, exc: Any) -> None:
        self.log.append(("lost", exc, self.sock.destroyed, self.sock.closed))
        self.lost.set_result(None)


async def test_bridge_sockets_close_is_the_node_style_sockets(certs: Any) -> None:
    """A bridge connection's end, seen from its Node-style socket: ``'close'(False)`` (when
    listened to) before ``connection_lost(None)``, the socket destroyed and closed, the server's
    count of connections down; a ``tls.Server`` that stopped listening emits ``'close'`` once
    its last connection is gone (the peer closing, the transport closing, the transport
    aborting, with and without a listener on the socket's ``'close'``)."""
    log: list[Any] = []
    made: asyncio.Queue[Any] = asyncio.Queue()
    listen = [True]
    server = await aio.create_server(lambda: Watch(log, made, listen[0]), "127.0.0.1", 0,
                                     **certs.server.options)
    srv = server.tls_server
    closed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    srv.on("close", lambda: log.append(("server close",)) or closed.set_result(None))
    port = server.sockets[0].getsockname()[1]
    try:
        for how in ("peer", "close", "abort", "peer", "close", "abort"):
            reader, writer = await asyncio.wait_for(
                aio.open_connection("127.0.0.1", port, **client_opts(certs)), T)
            proto = await asyncio.wait_for(made.get(), T)
            assert srv.connections == 1
            if how == "peer":
                writer.close()
            elif how == "close":
                server.close_clients()
            else:
                server.abort_clients()
            await asyncio.wait_for(proto.lost, T)
            expect = [("close", False)] if listen[0] else []
            assert log == [*expect, ("lost", None, True, True)], how
            assert srv.connections == 0
            assert await asyncio.wait_for(reader.read(), T) == b""
            writer.close()
            log.clear()
            if how == "abort":
                listen[0] = False
        # The server stops listening with a connection open: its 'close' once that one is gone
        for listen[0] in (True, False):
            closed = asyncio.get_running_loop().create_future()
            srv.listen(0, "127.0.0.1") if not srv.listening else None
            await srv
            port = srv.address()["port"]
            reader, writer = await asyncio.wait_for(
                aio.open_connection("127.0.0.1", port, **client_opts(certs)), T)
            proto = await asyncio.wait_for(made.get(), T)
            srv.close()
            writer.close()
            await asyncio.wait_for(closed, T)
            await asyncio.wait_for(proto.lost, T)
            expect = [("close", False)] if listen[0] else []
            # (the socket's 'close' waits for the server's, as Node's: connection_lost first)
            assert log == [("lost", None, True, True), ("server close",), *expect]
            assert srv.connections == 0
            log.clear()
    finally:
        server.close()
        server.close_clients()
        await asyncio.wait_for(server.wait_closed(), T)
