"""``TLSSocket.get_tls_ticket()``, ``set_key_cert()`` and the events of a renegotiation.

Each expectation was first checked with ``node`` v20.20 on the same scenario:

* ``getTLSTicket()``: a client's ticket bytes once the server sent one (TLS 1.2: in the
  handshake; TLS 1.3: with the post-handshake tickets, so not yet at ``'secureConnect'``, and
  there from ``'session'`` on); ``undefined`` before the handshake, without tickets
  (``SSL_OP_NO_TICKET``) and on a server; ``null`` once destroyed (both ``None`` here).
* ``setKeyCert(ctx)`` (``lib/_tls_wrap.js`` and ``TLSWrap::SetKeyCert``): the argument goes
  through ``createSecureContext`` unless it is a SecureContext (its errors, on either side); a
  server's socket then serves the context's certificate, key and chain and verifies a client's
  certificate against the context's CA store; a client's socket ignores it; a destroyed socket
  ignores even a bad argument.  Node's test-tls-server-setkeycert calls it from
  ``ALPNCallback``.
* A TLS 1.2 renegotiation emits, per renegotiation, the server socket's ``'secure'`` and the
  client's ``'secureConnect'`` and ``'secure'`` again (whichever side asked); ``renegotiate()``'s
  callback is a ``'secure'`` listener added by the call.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tlsutil import TIMEOUT, connect, event, listen, read_until, shut, wait

import nodetls as tls
from nodetls import net

TLS12 = {"min_version": "TLSv1.2", "max_version": "TLSv1.2"}
TLS13 = {"min_version": "TLSv1.3"}
ABSENCE_WINDOW = 0.1


def client_opts(certs: Any, **kw: Any) -> dict[str, Any]:
    return {"host": "127.0.0.1", "ca": certs.root.cert_pem, "servername": "localhost", **kw}


# ------------------------------------------------------------------ get_tls_ticket

async def test_tls12_ticket_from_the_handshake_on(certs):
    # Node: undefined before the handshake, the ticket at 'secureConnect', undefined on the
    # server, null once destroyed.
    seen: list[Any] = []
    server, port = await listen({**certs.server.options, **TLS12},
                                lambda s: seen.append(s.get_tls_ticket()))
    try:
        sock = tls.connect(port, client_opts(certs))
        assert sock.get_tls_ticket() is None
        at_connect = await wait(_ticket_at(sock, "secureConnect"))
        assert isinstance(at_connect, bytes) and len(at_connect) > 32
        assert at_connect in sock.get_session()  # the session carries its ticket
        assert sock.get_tls_ticket() == at_connect
        assert seen == [None]
        sock.destroy()
        assert sock.get_tls_ticket() is None
    finally:
        await shut(server)


def _ticket_at(sock: tls.TLSSocket, name: str) -> asyncio.Future[Any]:
    """The client's ``get_tls_ticket()`` when ``name`` is next emitted."""
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def on_event(*_: Any) -> None:
        if not fut.done():
            fut.set_result(sock.get_tls_ticket())

    sock.once(name, on_event)
    return fut


async def test_tls13_ticket_comes_with_the_session(certs):
    # Node: undefined at 'secureConnect' (the tickets follow the handshake), 240 bytes from the
    # first 'session' on; the server never has one.
    server_socks: list[tls.TLSSocket] = []
    server, port = await listen({**certs.server.options, **TLS13}, server_socks.append)
    try:
        sock = tls.connect(port, client_opts(certs))
        at_connect = _ticket_at(sock, "secureConnect")
        at_session = _ticket_at(sock, "session")
        first_session = event(sock, "session")
        assert await wait(at_connect) is None
        ticket = await wait(at_session)
        assert isinstance(ticket, bytes) and len(ticket) > 32
        assert ticket in await wait(first_session)  # (that event's session's ticket, as Node)
        assert server_socks[0].get_tls_ticket() is None
        sock.destroy()
    finally:
        await shut(server)


async def test_no_ticket_without_session_tickets(certs):
    # Node: a TLS 1.2 server with SSL_OP_NO_TICKET: 'session' comes, getTLSTicket() stays
    # undefined.
    server, port = await listen({**certs.server.options, **TLS12,
                                 "secure_options": tls.constants.SSL_OP_NO_TICKET})
    try:
        sock = tls.connect(port, client_opts(certs))
        assert await wait(_ticket_at(sock, "session")) is None
        assert sock.get_session() is not None
        assert sock.get_tls_ticket() is None
        sock.destroy()
    finally:
        await shut(server)


# ------------------------------------------------------------------ set_key_cert

async def by_hand_server(make_socket: Any) -> tuple[net.Server, int, list[tls.TLSSocket]]:
    """A ``net`` server whose connections become TLS server sockets made by ``make_socket(raw)``
    (Node: ``new tls.TLSSocket(raw, {isServer: true, ...})`` in a net server's listener)."""
    socks: list[tls.TLSSocket] = []

    def on_connection(raw: net.Socket) -> None:
        s = make_socket(raw)
        s.on("error", lambda err: None)
        socks.append(s)

    server = net.create_server(on_connection)
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, TIMEOUT)
    return server, server.address()["port"], socks


@pytest.mark.parametrize("as_context", [False, True], ids=["options", "SecureContext"])
@pytest.mark.parametrize("version", ["TLSv1.2", "TLSv1.3"])
async def test_set_key_cert_before_the_handshake(certs, as_context, version):
    # Node (a TLSSocket made by hand, setKeyCert at once): the client sees the new certificate,
    # given as options or as a SecureContext.
    alt = certs.wildcard.options
    alt_arg = tls.create_secure_context(alt) if as_context else alt

    def make(raw: net.Socket) -> tls.TLSSocket:
        s = tls.TLSSocket(raw, {"is_server": True, **certs.server.options})
        s.set_key_cert(alt_arg)
        return s

    server, port, socks = await by_hand_server(make)
    try:
        sock = await connect(port, **client_opts(certs, servername="www.example.com",
                                                 max_version=version))
        assert sock.authorized is True
        assert sock.get_peer_x509_certificate() == certs.wildcard.x509
        assert sock.get_protocol() == version
        assert socks[0].get_x509_certificate() == certs.wildcard.x509
        sock.destroy()
    finally:
        await shut(server, *socks)


@pytest.mark.parametrize("as_context", [False, True], ids=["options", "SecureContext"])
async def test_set_key_cert_from_the_alpn_callback(certs, as_context):
    # Node: test-tls-server-setkeycert (TLS 1.3: the ALPN callback runs before the certificate
    # is chosen; it calls this.setKeyCert(alt) and picks the client's protocol).
    alt = certs.server_direct.options  # (same key type: see _engine/_keycert.py)
    alt_arg = tls.create_secure_context(alt) if as_context else alt
    calls: list[list[str]] = []

    def make(raw: net.Socket) -> tls.TLSSocket:
        def choose(info: dict[str, Any]) -> str:
            calls.append(info["protocols"])
            s.set_key_cert(alt_arg)
            return str(info["protocols"][0])

        s = tls.TLSSocket(raw, {"is_server": True, **certs.server.options, **TLS13,
                                "alpn_callback": choose})
        return s

    server, port, socks = await by_hand_server(make)
    try:
        sock = await connect(port, **client_opts(certs, ALPNProtocols=["acme-tls/1"]))
        assert calls == [["acme-tls/1"]]
        assert sock.alpn_protocol == "acme-tls/1"
        assert sock.get_protocol() == "TLSv1.3"
        assert sock.get_peer_x509_certificate() == certs.server_direct.x509
        sock.destroy()
    finally:
        await shut(server, *socks)


async def test_alpn_callback_gets_the_socket_as_second_argument(certs):
    # Node calls ALPNCallback on the socket (`this`), so a tls.Server's callback can serve
    # another certificate by ALPN (acme-tls/1, RFC 8737): here the socket is a second argument
    alt = certs.server_direct.options
    seen: list[Any] = []

    def choose(info: dict[str, Any], sock: tls.TLSSocket) -> str:
        seen.append(sock)
        if "acme-tls/1" in info["protocols"]:
            sock.set_key_cert(alt)
            return "acme-tls/1"
        return str(info["protocols"][0])

    server, port = await listen({**certs.server.options, **TLS13, "alpn_callback": choose},
                                lambda s: s.end())
    try:
        acme = await connect(port, **client_opts(certs, ALPNProtocols=["acme-tls/1"]))
        assert acme.get_peer_x509_certificate() == certs.server_direct.x509
        plain = await connect(port, **client_opts(certs, ALPNProtocols=["h2"]))
        assert plain.get_peer_x509_certificate() == certs.server.x509
        assert len(seen) == 2 and all(isinstance(s, tls.TLSSocket) for s in seen)
        acme.destroy()
        plain.destroy()
    finally:
        await shut(server)


async def test_set_key_cert_sends_the_new_chain(certs):
    # Node: the context's chain goes with its certificate (the original context has none
    # here; the client trusts only the root, so it needs the intermediate).
    def make(raw: net.Socket) -> tls.TLSSocket:
        s = tls.TLSSocket(raw, {"is_server": True, **certs.server_direct.options})
        s.set_key_cert(certs.server.options)  # (a leaf under the intermediate, with it)
        return s

    server, port, socks = await by_hand_server(make)
    try:
        sock = await connect(port, **client_opts(certs))
        assert sock.authorized is True
        assert sock.get_peer_x509_certificate() == certs.server.x509
        sock.destroy()
    finally:
        await shut(server, *socks)


@pytest.mark.parametrize("swap", [False, True])
async def test_set_key_cert_verifies_clients_with_the_new_ca(certs, swap):
    # Node (ALPNCallback calling this.setKeyCert({key, cert, ca}) on a server with requestCert
    # and rejectUnauthorized): a client certificate from the new context's CA is authorized;
    # without the switch the old CA store rejects it.
    outcome = asyncio.get_running_loop().create_future()

    def make(raw: net.Socket) -> tls.TLSSocket:
        s = tls.TLSSocket(raw, {"is_server": True, "request_cert": True,
                                "reject_unauthorized": True, **certs.server.options,
                                "ca": certs.root.cert_pem})
        if swap:
            s.set_key_cert({**certs.server.options, "ca": certs.client_ca.cert_pem})
        s.on("secure", lambda *_: outcome.done() or outcome.set_result(f"secure {s.authorized}"))
        s.on("error", lambda err: outcome.done() or outcome.set_result(f"error {err.code}"))
        return s

    server, port, socks = await by_hand_server(make)
    try:
        sock = tls.connect(port, client_opts(certs, **certs.client.options))
        sock.on("error", lambda err: None)
        if swap:
            assert await wait(outcome) == "secure True"
        else:  # (Node's server destroys the socket; nodetls reports the verify error)
            assert (await wait(outcome)).startswith("error ")
        sock.destroy()
    finally:
        await shut(server, *socks)


@pytest.mark.parametrize(("arg", "code"), [
    (5, "ERR_INVALID_ARG_TYPE"),
    ("abc", "ERR_INVALID_ARG_TYPE"),
    ({"ciphers": 5}, "ERR_INVALID_ARG_TYPE"),
    ({"min_version": "TLSv9"}, "ERR_TLS_INVALID_PROTOCOL_VERSION"),
    ({"key": "nope"}, "ERR_OSSL_UNSUPPORTED"),
])
@pytest.mark.parametrize("is_server", [True, False])
async def test_set_key_cert_bad_arguments(certs, arg, code, is_server):
    # Node: createSecureContext's errors, on a server's socket and on a client's.
    sock = tls.TLSSocket(net.Socket(), {"is_server": is_server, **certs.server.options})
    try:
        with pytest.raises(Exception) as info:
            sock.set_key_cert(arg)
        assert getattr(info.value, "code", None) == code
    finally:
        sock.destroy()


@pytest.mark.parametrize("arg", [None, {}])
async def test_set_key_cert_without_a_certificate(certs, arg):
    # Node: a context without a certificate: the server's socket throws OpenSSL's error
    # (ERR_SSL_PASSED_A_NULL_PARAMETER); a client's socket ignores it.
    server_sock = tls.TLSSocket(net.Socket(), {"is_server": True, **certs.server.options})
    client_sock = tls.TLSSocket(net.Socket(), {"is_server": False})
    try:
        with pytest.raises(tls.errors.TLSError) as info:
            server_sock.set_key_cert(arg)
        assert info.value.code == "ERR_SSL_PASSED_A_NULL_PARAMETER"
        assert str(info.value) == "error:0A0C0102:SSL routines::passed a null parameter"
        assert client_sock.set_key_cert(arg) is None
    finally:
        server_sock.destroy()
        client_sock.destroy()


async def test_set_key_cert_after_destroy_is_ignored(certs):
    # Node: no handle once destroyed: not even the argument is looked at.
    sock = tls.TLSSocket(net.Socket(), {"is_server": True, **certs.server.options})
    sock.destroy()
    assert sock.set_key_cert(5) is None


# ------------------------------------------------------------------ renegotiation events

async def test_server_initiated_renegotiation_events(certs):
    # Node: the server socket's renegotiate() (TLS 1.2): the client emits 'secureConnect' and
    # 'secure', then the server socket 'secure' and the callback.
    log: list[str] = []
    renegotiated = asyncio.get_running_loop().create_future()

    def on_secure(s: tls.TLSSocket) -> None:
        s.pipe(s)
        s.on("secure", lambda *_: log.append("server secure"))
        s.renegotiate({}, lambda err: (log.append(f"server callback {err}"),
                                       renegotiated.set_result(None)))

    server, port = await listen({**certs.server.options, **TLS12,
                                 "allow_client_renegotiation": True}, on_secure)
    try:
        client = tls.connect(port, client_opts(certs))
        client.on("secureConnect", lambda: log.append("secureConnect"))
        client.on("secure", lambda *_: log.append("secure"))
        await wait(renegotiated)
        client.write(b"ping")
        assert await read_until(client, 4) == b"ping"
        await asyncio.sleep(ABSENCE_WINDOW)
        # (the first handshake's two, then the renegotiation's)
        assert log == ["secureConnect", "secure", "secureConnect", "secure", "server secure",
                       "server callback None"]
        client.destroy()
    finally:
        await shut(server)


async def test_renegotiate_from_the_connect_callback(certs):
    # Node: test-tls-disable-renegotiation calls renegotiate() from the connect callback: its
    # callback runs once, after the renegotiation (server 'secure', client 'secureConnect').
    log: list[str] = []
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def on_secure(s: tls.TLSSocket) -> None:
        s.on("secure", lambda *_: log.append("server secure"))
        s.pipe(s)

    server, port = await listen({**certs.server.options, **TLS12,
                                 "allow_client_renegotiation": True}, on_secure)
    try:
        def on_connect() -> None:
            client.on("secureConnect", lambda: log.append("secureConnect"))
            assert client.renegotiate({}, lambda err: (log.append(f"callback {err}"),
                                                       done.set_result(None))) is True

        client = tls.connect(port, client_opts(certs), on_connect)
        await wait(done)
        client.write(b"ping")
        assert await read_until(client, 4) == b"ping"
        await asyncio.sleep(ABSENCE_WINDOW)
        assert log == ["server secure", "secureConnect", "callback None"]
        client.destroy()
    finally:
        await shut(server)


async def test_two_renegotiations_each_emit_the_events(certs):
    # Node: each renegotiation emits the events again, and each callback runs once.
    log: list[str] = []

    def on_secure(s: tls.TLSSocket) -> None:
        s.on("secure", lambda *_: log.append("server secure"))
        s.pipe(s)

    server, port = await listen({**certs.server.options, **TLS12,
                                 "allow_client_renegotiation": True}, on_secure)
    try:
        client = await connect(port, **client_opts(certs))
        client.on("secureConnect", lambda: log.append("secureConnect"))
        for n in (1, 2):
            done = asyncio.get_running_loop().create_future()
            client.renegotiate({}, lambda err, n=n, done=done: (log.append(f"callback{n}"),
                                                                 done.set_result(None)))
            await wait(done)
        client.write(b"ping")
        assert await read_until(client, 4) == b"ping"
        await asyncio.sleep(ABSENCE_WINDOW)
        assert log == ["server secure", "secureConnect", "callback1",
                       "server secure", "secureConnect", "callback2"]
        client.destroy()
    finally:
        await shut(server)


async def test_set_key_cert_without_a_chain_sends_no_earlier_chain(certs):
    # Deliberate difference (README): the socket first has a context whose certificate comes
    # with its intermediate; set_key_cert gives one signed by the root, without a chain.
    # `openssl s_client -showcerts` sees exactly the new certificate (Node would also send the
    # earlier intermediate).
    from helpers.peers import run_openssl_client

    def make(raw: net.Socket) -> tls.TLSSocket:
        s = tls.TLSSocket(raw, {"is_server": True, **certs.server.options})
        s.set_key_cert(certs.server_direct.options)
        s.on("secure", lambda: s.end())
        return s

    server, port, socks = await by_hand_server(make)
    try:
        rc, out, _err = await run_openssl_client(
            ["-showcerts", "-servername", "localhost"], stdin=b"", port=port)
        text = out
        assert text.count("-----BEGIN CERTIFICATE-----") == 1, text
        assert " 0 s:" in text and " 1 s:" not in text
    finally:
        await shut(server, *socks)
