"""A lean connection (issue: the hot path): nothing built or subscribed that nobody uses."""

from __future__ import annotations

import asyncio

from tlsutil import close_server, connect, event, listen, read_until, wait

import nodetls as tls
from nodetls import net


def _count_net_sockets(created: list) -> None:
    original = net.Socket.__init__

    def counting(self, *args, **kwargs):
        created.append(type(self))
        original(self, *args, **kwargs)

    return original, counting


async def _one_round_trip(certs, server, port) -> tls.TLSSocket:
    sock = await connect(port, ca=certs.root.cert_pem, servername="localhost")
    sock.write(b"ping")
    assert await read_until(sock, 4) == b"ping"
    return sock


async def test_accepted_connection_builds_no_raw_socket_unless_connection_is_listened(
        certs, monkeypatch):
    created: list = []
    original, counting = _count_net_sockets(created)
    monkeypatch.setattr(net.Socket, "__init__", counting)
    server_side: asyncio.Future = asyncio.get_running_loop().create_future()

    def on_secure(s):
        s.pipe(s)
        if not server_side.done():
            server_side.set_result(s)

    server, port = await listen(certs.server.options, on_secure)
    try:
        sock = await _one_round_trip(certs, server, port)
        accepted = await wait(server_side)
        # Only the two TLSSockets (client and accepted): no throw-away net.Socket.
        assert created.count(net.Socket) == 0 and created.count(tls.TLSSocket) == 2
        assert accepted.server is server and server.connections == 1
        assert accepted.remote_address == "127.0.0.1" and accepted.get_protocol() == "TLSv1.3"
        sock.destroy()
        await wait(event(accepted, "close"))
        assert server.connections == 0

        # Someone listens to 'connection': they get the raw net.Socket first, as in Node.
        raw: asyncio.Future = asyncio.get_running_loop().create_future()
        server.on("connection", lambda s: raw.done() or raw.set_result(s))
        created.clear()
        sock2 = await _one_round_trip(certs, server, port)
        got = await wait(raw)
        assert type(got) is net.Socket and not isinstance(got, tls.TLSSocket)
        assert created.count(net.Socket) == 1
        sock2.destroy()
    finally:
        close_server(server)


async def test_no_internal_new_listener_subscriptions_and_keylog_still_switches_on(certs):
    server_side: asyncio.Future = asyncio.get_running_loop().create_future()

    def on_secure(s):
        s.on("data", s.write)
        server_side.set_result(s)

    server, port = await listen(certs.server.options, on_secure)
    try:
        sock = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                  "servername": "localhost"})
        assert sock.listener_count("newListener") == 0
        lines: list[bytes] = []
        sock.on("keylog", lines.append)  # after creation: the first listener switches it on
        sessions: list[bytes] = []
        sock.on("session", sessions.append)
        await wait(sock)
        accepted = await wait(server_side)
        assert accepted.listener_count("newListener") == 0
        assert accepted.event_names().count("newListener") == 0
        sock.write(b"x")
        await read_until(sock, 1)
        assert any(line.startswith(b"CLIENT_TRAFFIC_SECRET_0") for line in lines)
        assert sessions  # TLS 1.3 tickets arrived after the first round trip
        sock.destroy()
    finally:
        close_server(server)


async def test_identity_check_remembers_a_passing_pair_and_still_rejects_others(certs):
    import pytest

    from nodetls._tls.socket import _default_identity_ok

    server, port = await listen(certs.server.options)
    try:
        _default_identity_ok.cache_clear()
        for _ in range(3):  # the same server again: the leaf is parsed once
            sock = await connect(port, ca=certs.root.cert_pem, servername="localhost")
            assert sock.authorized is True
            sock.destroy()
        info = _default_identity_ok.cache_info()
        assert info.misses == 1 and info.hits == 2
        # Another name for the same certificate is its own question: still rejected, with
        # Node's full error.
        with pytest.raises(tls.errors.CertificateError) as err:
            await connect(port, ca=certs.root.cert_pem, servername="bad.example")
        assert err.value.code == "ERR_TLS_CERT_ALTNAME_INVALID"
        assert "bad.example" in str(err.value) and "DNS:localhost" in str(err.value)
    finally:
        close_server(server)
