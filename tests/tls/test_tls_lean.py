"""A lean connection (issue: the hot path): nothing built or subscribed that nobody uses."""

from __future__ import annotations

import asyncio

from tlsutil import connect, event, listen, read_until, shut, wait

import nodetls as tls
from nodetls import net
from nodetls._net.handle import TCPHandle
from nodetls._net.socket import Socket as NetSocket
from nodetls._net.socket import instance_state


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
        # No throw-away net.Socket (the accepted TLSSocket is built from its server's prototype
        # state: net.Socket.__init__ ran once for that prototype, not per connection).
        assert created.count(net.Socket) == 0 and type(accepted) is tls.TLSSocket
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
        await shut(server)


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
        await shut(server)


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
        await shut(server)


def _accepted_socket(server: tls.Server, prototype: bool) -> tls.TLSSocket:
    template = server._socket_template()
    if not prototype:
        template.accepted_state = {}  # "cannot be used": the constructor's own path
    sock = tls.TLSSocket(TCPHandle(None, reading=True, registry=None), template)
    assert (template.accepted_state != {}) is prototype
    return sock


def _discard(sock: tls.TLSSocket) -> None:
    sock._stop_handshake_timer()
    sock._wrap.free()


async def test_accepted_socket_from_the_prototype_has_the_constructors_state(certs):
    server, _ = await listen({**certs.server.options, "allow_half_open": True})
    try:
        built = _accepted_socket(server, prototype=False)
        fast = _accepted_socket(server, prototype=True)
        fast2 = _accepted_socket(server, prototype=True)
        a, b = instance_state(built), instance_state(fast)  # (slots and __dict__)
        assert sorted(a) == sorted(b)
        per_socket = {"_events", "_r_pipes", "_handle", "_wrap"}
        assert {k: v for k, v in a.items() if k not in per_socket} == \
            {k: v for k, v in b.items() if k not in per_socket}
        assert fast.allow_half_open is True and fast._r_reading and fast._r_need_readable
        # Per-socket objects are the socket's own: its 'end' listener, pipes, handle and wrap.
        for sock in (built, fast, fast2):
            (on_end,) = sock._events["end"]
            assert on_end() is None and sock._fin_received is False  # (allow_half_open)
            assert type(sock._handle).__name__ == "TLSWrap" and sock._handle.owner is sock
            assert sock._r_pipes == []
        assert fast._r_pipes is not fast2._r_pipes and fast._events is not fast2._events
        assert fast._events["end"][0] is not fast2._events["end"][0]
        for sock in (built, fast, fast2):
            _discard(sock)
    finally:
        await shut(server)


async def test_a_prototype_holding_a_mutable_value_is_not_used(certs, monkeypatch):
    original = NetSocket._init_socket

    def with_list(self, opts):
        original(self, opts)
        self._shared_by_mistake = []

    monkeypatch.setattr(NetSocket, "_init_socket", with_list)
    assert NetSocket._accepted_state({}) is None
    server, _ = await listen(certs.server.options)
    try:
        template = server._socket_template()
        sock = tls.TLSSocket(TCPHandle(None, reading=True, registry=None), template)
        assert template.accepted_state == {}  # refused: every socket runs the constructor
        assert sock._shared_by_mistake == [] and sock.readable
        _discard(sock)
    finally:
        await shut(server)


async def test_close_notify_now_is_shutdowns_usual_case_for_an_owner_that_closes(certs):
    """``TLSWrap.close_notify_now()`` (``nodetls.aio``'s close on its direct route): only when
    ``shutdown()`` would send close_notify at once; then the peer reads the end of the stream
    from what it returns, and ``shutdown()``/``close()`` send nothing more."""
    accepted: asyncio.Future = asyncio.get_running_loop().create_future()
    server, port = await listen({**certs.server.options, "allow_half_open": True},
                                accepted.set_result)
    try:
        client = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                    "servername": "localhost"})
        assert client._handle.close_notify_now() is None  # not secure yet
        await wait(client)
        sock = await wait(accepted)
        wrap = sock._handle
        wrap.hold()
        assert wrap.close_notify_now() is None  # output held (a pending 'newSession')
        wrap.release()
        sock.write(b"queued")  # sent before the close_notify
        ended = event(client, "end")
        got = read_until(client, 6)
        out = wrap.close_notify_now()
        assert type(out) is bytes and 0 < len(out) < 64  # one alert record
        assert wrap.close_notify_now() is None  # once
        wrap.lower.write(out)
        assert await got == b"queued"
        await wait(ended)  # the client read close_notify: the end of the stream
        assert wrap.close_notify_now() is None
        closed = event(client, "close")
        sock.destroy()
        await wait(closed)
    finally:
        await shut(server)


async def test_connections_after_the_first_follow_every_change_a_node_server_sees(
        certs, monkeypatch):
    """After its first connection a server builds the next ones from a plan
    (``tls.Server._accept``): the state the constructor gives (the first connection's), and
    each change is seen at the next connection, as in Node: a ``'connection'`` listener added
    (it gets the raw ``net.Socket``) or removed, ``max_connections``, a socket that failed to
    build (served through ``'connection'``)."""
    created: list = []
    original, counting = _count_net_sockets(created)
    monkeypatch.setattr(net.Socket, "__init__", counting)
    states: list[dict] = []
    accepted: list[tls.TLSSocket] = []

    def on_secure(s):
        states.append(instance_state(s))
        accepted.append(s)
        s.pipe(s)

    server, port = await listen(certs.server.options, on_secure)
    clients: list[tls.TLSSocket] = []

    async def served() -> tls.TLSSocket:
        clients.append(await _one_round_trip(certs, server, port))
        return accepted[-1]

    try:
        first, second = await served(), await served()
        per_socket = {"_events", "_r_pipes", "_handle", "_wrap"}
        assert sorted(states[0]) == sorted(states[1])
        assert {k: v for k, v in states[0].items() if k not in per_socket} == \
            {k: v for k, v in states[1].items() if k not in per_socket}
        for s in (first, second):
            assert s.server is server and s._server is server and s._tls_server is server
            assert s._no_delay is True and s._handle.owner is s
        assert created.count(net.Socket) == 0 and server.connections == 2

        raws: list = []
        server.on("connection", raws.append)
        third = await served()
        assert [type(r) for r in raws] == [net.Socket] and created.count(net.Socket) == 1
        assert third.server is server and server.connections == 3
        server.off("connection", raws.append)
        await served()
        assert len(raws) == 1 and created.count(net.Socket) == 1 and server.connections == 4

        drops: list = []
        server.on("drop", drops.append)
        server.max_connections = 4
        late = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                  "servername": "localhost"})
        late.on("error", lambda err: None)
        await wait(event(late, "close"))
        assert len(drops) == 1 and server.connections == 4
        server.max_connections = None
        await served()
        assert server.connections == 5

        failures: list = []
        build = tls.TLSSocket._init_server_connection

        def fails_once(self, *args):
            if not failures:
                failures.append(self)
                raise MemoryError("no engine")
            build(self, *args)

        monkeypatch.setattr(tls.TLSSocket, "_init_server_connection", fails_once)
        sixth = await served()  # built through 'connection', over a raw net.Socket
        assert failures and sixth is not failures[0] and sixth.server is server
        assert created.count(net.Socket) == 2 and server.connections == 6
        await served()
        assert created.count(net.Socket) == 2 and server.connections == 7
    finally:
        for c in clients:
            c.destroy()
        await shut(server)


async def test_plan_keeps_max_connections(certs, monkeypatch):
    """A server with ``max_connections`` builds its connections from the plan too (only the
    first goes through ``_make_socket``), and the limit still holds as Node's: the connection
    beyond it is dropped (``'drop'``, closed, not counted); one closing makes room again."""
    made: list = []
    make = tls.Server._make_socket

    def counting(self, handle):
        made.append(handle)
        return make(self, handle)

    monkeypatch.setattr(tls.Server, "_make_socket", counting)
    accepted: list[tls.TLSSocket] = []

    def on_secure(s):
        accepted.append(s)
        s.pipe(s)

    server, port = await listen(certs.server.options, on_secure)
    server.max_connections = 3
    drops: list = []
    server.on("drop", drops.append)
    clients: list[tls.TLSSocket] = []
    try:
        for _ in range(3):
            clients.append(await _one_round_trip(certs, server, port))
        assert len(made) == 1 and server.connections == 3 and len(accepted) == 3
        assert all(s.server is server and s._server is server for s in accepted)
        late = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                  "servername": "localhost"})
        late.on("error", lambda err: None)
        await wait(event(late, "close"))
        assert len(drops) == 1 and drops[0]["remotePort"] == drops[0]["remote_port"]
        assert server.connections == 3 and len(accepted) == 3 and len(made) == 1
        closed = event(accepted[0], "close")
        clients.pop(0).destroy()
        await wait(closed)
        assert server.connections == 2
        clients.append(await _one_round_trip(certs, server, port))
        assert server.connections == 3 and len(accepted) == 4 and len(made) == 1
    finally:
        for c in clients:
            c.destroy()
        await shut(server)


async def test_secure_connection_reaches_an_emit_override_and_an_async_listener(certs):
    """The server's ``'secureConnection'`` (dispatched without ``emit`` for a server whose class
    does not override it): a subclass's ``emit`` sees it, an ``async`` listener runs."""
    seen: list[str] = []

    class Spy(tls.Server):
        def emit(self, event_name, *args):
            seen.append(event_name)
            return super().emit(event_name, *args)

    ran: asyncio.Future = asyncio.get_running_loop().create_future()

    async def on_secure(s):
        await asyncio.sleep(0)
        s.pipe(s)
        ran.set_result(s)

    for cls in (Spy, tls.Server):
        server = cls(certs.server.options)
        server.on("secureConnection", on_secure)
        server.listen(0, "127.0.0.1")
        await wait(server)
        port = server.address()["port"]
        try:
            for _ in range(2):  # the first connection, and one built from the plan
                sock = await _one_round_trip(certs, server, port)
                assert (await wait(ran)).server is server
                ran = asyncio.get_running_loop().create_future()
                sock.destroy()
            assert seen.count("secureConnection") == (2 if cls is Spy else 0)
            seen.clear()
        finally:
            await shut(server)
