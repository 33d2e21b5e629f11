"""Scenarios of Node v20's own tls tests, in our words (portD).

Ports (``test/parallel/test-tls-<name>.js``): psk-circuit, psk-errors, request-timeout,
root-certificates, secure-context-usage-order, server-connection-server,
server-failed-handshake-emits-clienterror, server-parent-constructor-options, session-cache,
set-ciphers, set-encoding, set-secure-context, set-sigalgs, sni-option, sni-server-client,
sni-servername, snicallback-error, socket-close, socket-constructor-alpn-options-parsing,
socket-default-options, socket-destroy, socket-failed-handshake-emits-error,
socket-snicallback-without-server, starttls-server, timeout-server-2,
wrap-econnreset-localaddress, wrap-event-emmiter, zero-clear-in.

Each expectation is what Node v20 does (checked by running the same scenario in ``node``).
Tests marked ``xfail(strict=True)`` are where nodetls differs from Node v20. Where the difference
is deliberate (README, "Where nodetls deliberately differs from Node v20"), the test asserts
nodetls's behaviour and says what Node does instead.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from tlsutil import OPENSSL_3_2, event, listen, shut, wait

import nodetls as tls
from nodetls import EventEmitter, net, stream
from nodetls._openssl import constants as C

#: Bound of the waits that an xfail test may wait on in vain.
SHORT = 2.0
#: Seconds an absence check gives an event that must not come (a late extra) to show up, once
#: every event that should come has come.
ABSENCE_WINDOW = 0.1

DISCONNECTED = "Client network socket disconnected before secure TLS connection was established"


def versions(v: str) -> dict[str, str]:
    return {"min_version": v, "max_version": v}


async def outcome(server_options: dict[str, Any], client_options: dict[str, Any],
                  on_secure: Any = None, setup: Any = None) -> dict[str, Any]:
    """One connection: what each side saw once the client closed.

    ``server``: ``'secureConnection'`` sockets' details or ``'tlsClientError'`` entries;
    ``client``: ``'secureConnect'`` details or the error. Without a ``'secureConnection'``, also
    waits for the server's first ``'tlsClientError'`` and that socket's ``'close'``."""
    loop = asyncio.get_running_loop()
    seen: dict[str, Any] = {"server": [], "client": [], "server_errors": []}
    first_error: asyncio.Future[tls.TLSSocket | None] = loop.create_future()

    def secure(s: tls.TLSSocket) -> None:
        seen["server"].append({"servername": s.servername, "authorized": s.authorized,
                               "cipher": s.get_cipher()["name"],
                               "cn": s.get_certificate().get("subject", {}).get("CN"),
                               "sigalgs": s.get_shared_sigalgs()})
        s.on("error", lambda e: None)
        if on_secure is not None:
            on_secure(s)
        else:
            s.end(b"x")

    server = tls.create_server(server_options, secure)
    if setup is not None:
        setup(server)

    def client_error(err: BaseException, s: tls.TLSSocket | None) -> None:
        seen["server_errors"].append(err)
        if not first_error.done():
            first_error.set_result(s)

    server.on("tlsClientError", client_error)
    server.listen(0, "127.0.0.1")
    await wait(server)
    closed: asyncio.Future[None] = loop.create_future()
    try:
        cli = tls.connect({"port": server.address()["port"], "host": "127.0.0.1", **client_options})

        def on_connect() -> None:
            seen["client"].append({"cipher": cli.get_cipher()["name"],
                                   "version": cli.get_protocol(),
                                   "authorization_error": cli.authorization_error,
                                   "cn": cli.get_peer_certificate().get("subject", {}).get("CN")})
            cli.end()

        cli.on("secureConnect", on_connect)
        cli.on("error", lambda e: seen["client"].append(e))
        cli.on("data", lambda d: None)
        cli.on("close", lambda *a: closed.done() or closed.set_result(None))
        await wait(closed)
        if not seen["server"]:
            failed = await wait(first_error)
            if failed is not None:  # (None: the connection failed before it had a TLS socket)
                # Node's order: 'tlsClientError' on a destroyed socket, then its 'close';
                # nothing more comes from that connection.
                await wait(failed.wait_closed())
    finally:
        await shut(server)
    return seen


def code_of(x: Any) -> Any:
    return getattr(x, "code", x)


# ------------------------------------------------------ server-failed-handshake-emits-clienterror

async def test_junk_bytes_are_a_wrong_version_tls_client_error():
    # Node: test-tls-server-failed-handshake-emits-clienterror. 1024 bytes of '*' to a server
    # (even one without a certificate) are 'tlsClientError' "wrong version number".
    loop = asyncio.get_running_loop()
    got: asyncio.Future[Any] = loop.create_future()
    server = tls.create_server({})
    server.on("tlsClientError", lambda e, s: got.done() or got.set_result((e, s)))
    server.on("secureConnection", lambda s: pytest.fail("no handshake expected"))
    await wait(server.listen(0, "127.0.0.1"))
    raw = net.connect(server.address()["port"], "127.0.0.1", lambda: raw.write(b"*" * 1024))
    raw.on("error", lambda e: None)
    try:
        err, sock = await wait(got)
        assert isinstance(err, tls.errors.TLSError)
        assert err.code == "ERR_SSL_WRONG_VERSION_NUMBER"
        assert re.search(r"SSL routines:[^:]*:wrong version number", str(err))
        assert err.library == "SSL routines" and err.reason == "wrong version number"
        assert isinstance(sock, tls.TLSSocket)
        closed = event(raw, "close")
        await wait(closed)  # the server closes the connection
    finally:
        raw.destroy()
        await shut(server)


async def test_tls_client_error_socket_is_already_destroyed():
    # Node: test-tls-server-failed-handshake-emits-clienterror (Node's onSocketTLSError is the
    # socket's 'error' listener: destroy(err) came first).
    loop = asyncio.get_running_loop()
    got: asyncio.Future[bool] = loop.create_future()
    server = tls.create_server({})
    server.on("tlsClientError", lambda e, s: got.done() or got.set_result(s.destroyed))
    await wait(server.listen(0, "127.0.0.1"))
    raw = net.connect(server.address()["port"], "127.0.0.1", lambda: raw.write(b"*" * 1024))
    raw.on("error", lambda e: None)
    try:
        assert await wait(got) is True
    finally:
        raw.destroy()
        await shut(server)


# ------------------------------------------------------- socket-failed-handshake-emits-error

async def test_server_tlssocket_over_net_socket_junk_is_error_then_close():
    # Node: test-tls-socket-failed-handshake-emits-error. A TLSSocket made 0.2 s after the
    # connection arrived (the junk is already buffered) emits 'error' "wrong version number",
    # then 'close'(true).
    loop = asyncio.get_running_loop()
    log: list[Any] = []
    done: asyncio.Future[None] = loop.create_future()

    def on_connection(conn: net.Socket) -> None:
        def later() -> None:
            s = tls.TLSSocket(conn, {"is_server": True})
            s.on("error", lambda e: log.append(("error", e.code, str(e))))
            s.on("close", lambda had_error: (log.append(("close", had_error)),
                                             done.done() or done.set_result(None)))

        loop.call_later(0.2, later)

    server = net.create_server(on_connection)
    await wait(server.listen(0, "127.0.0.1"))
    raw = net.connect(server.address()["port"], "127.0.0.1", lambda: raw.write(b"*" * 1024))
    raw.on("error", lambda e: None)
    try:
        await wait(done)
        assert [entry[0] for entry in log] == ["error", "close"]
        assert log[0][1] == "ERR_SSL_WRONG_VERSION_NUMBER"
        assert re.search(r"SSL routines:[^:]*:wrong version number", log[0][2])
        assert log[1] == ("close", True)
    finally:
        raw.destroy()
        server.close()


# ------------------------------------------------------------ request-timeout, timeout-server-2

async def test_server_socket_set_timeout_returns_itself_and_fires(certs):
    # Node: test-tls-request-timeout and test-tls-timeout-server-2. set_timeout on the
    # 'secureConnection' socket returns that socket; the callback and 'timeout' both run on an
    # idle connection; the socket stays open until the listener ends it.
    loop = asyncio.get_running_loop()
    log: list[str] = []
    closed: asyncio.Future[None] = loop.create_future()

    def on_secure(s: tls.TLSSocket) -> None:
        assert s.set_timeout(0.1, lambda: log.append("callback")) is s
        s.on("timeout", lambda: (log.append(f"timeout destroyed={s.destroyed}"), s.end()))
        s.on("close", lambda *a: closed.set_result(None))

    server, port = await listen(certs.server.options, on_secure)
    try:
        cli = tls.connect(port, {"host": "127.0.0.1", "reject_unauthorized": False})
        ended = event(cli, "end")
        await wait(ended)
        await wait(closed)
        assert log == ["callback", "timeout destroyed=False"]
        cli.destroy()
    finally:
        await shut(server)


# -------------------------------------------------------------------------------- sni-option

def sni_later(table: dict[str, Any]) -> Any:
    """An SNICallback that answers 50 ms later from ``table`` (``None`` when absent)."""
    def cb(servername: str, done: Any) -> None:
        asyncio.get_running_loop().call_later(0.05, done, None, table.get(servername))
    return cb


async def test_async_sni_callback_null_means_default_context(certs):
    # Node: test-tls-sni-option ('c.wrong.com': callback(null, null) -> the default context,
    # so the client's identity check fails; with rejectUnauthorized false it still connects).
    opts = {**certs.server.options, "request_cert": True, "reject_unauthorized": False,
            "SNICallback": sni_later({})}
    seen = await outcome(opts, {"ca": certs.root.cert_pem, "servername": "c.wrong.com",
                                "reject_unauthorized": False})
    assert seen["server_errors"] == []
    assert seen["client"][0]["authorization_error"] == "ERR_TLS_CERT_ALTNAME_INVALID"
    assert seen["client"][0]["cn"] == "localhost"
    assert seen["server"][0]["servername"] == "c.wrong.com"
    assert seen["server"][0]["authorized"] is False  # no client certificate


async def test_async_sni_callback_context_and_client_certificate(certs):
    # Node: test-tls-sni-option ('a.example.com': an async SecureContext whose ca trusts the
    # client's certificate -> the client is authorized; the server name matches).
    ctx = tls.create_secure_context({**certs.wildcard.options, "ca": certs.client_ca.cert_pem})
    opts = {**certs.server.options, "request_cert": True, "reject_unauthorized": False,
            "SNICallback": sni_later({"a.example.com": ctx})}
    seen = await outcome(opts, {**certs.client.options, "ca": certs.root.cert_pem,
                                "servername": "a.example.com"})
    assert seen["client"][0]["authorization_error"] is None
    assert seen["client"][0]["cn"] == "*.example.com"
    assert seen["server"][0]["servername"] == "a.example.com"
    assert seen["server"][0]["authorized"] is True


async def test_sni_callback_empty_object_is_invalid_sni_context(certs):
    # Node: test-tls-sni-option ('c.another.com', emptyRegression) and test-tls-sni-servername:
    # callback(null, {}) -> 'tlsClientError' "Invalid SNI context", the client ECONNRESET.
    opts = {**certs.server.options, "SNICallback": sni_later({"c.another.com": {}})}
    seen = await outcome(opts, {"servername": "c.another.com", "reject_unauthorized": False})
    assert [str(e) for e in seen["server_errors"]] == ["Invalid SNI context"]
    # Node's is a TypeError (node's TLSWrap raises it, without a code; ours keeps the code
    # Node's JS side uses for a non-context, ERR_TLS_INVALID_CONTEXT)
    assert [isinstance(e, TypeError) for e in seen["server_errors"]] == [True]
    assert [code_of(e) for e in seen["client"]] == ["ECONNRESET"]


# ----------------------------------------------------------------------------- sni-servername

async def test_sni_callback_error_reaches_both_sides(certs):
    # Node: test-tls-sni-servername. callback(err) -> 'tlsClientError' with that very error, no
    # 'secureConnection'; the client: ECONNRESET "Client network socket disconnected ...".
    def sni(servername: str, cb: Any) -> None:
        cb(Exception("Invalid SNI context"))

    seen = await outcome({**certs.server.options, "request_cert": True,
                          "reject_unauthorized": False, "SNICallback": sni},
                         {"servername": "c.wrong.com", "reject_unauthorized": False})
    assert seen["server"] == []
    assert [str(e) for e in seen["server_errors"]] == ["Invalid SNI context"]
    assert len(seen["client"]) == 1
    assert code_of(seen["client"][0]) == "ECONNRESET"
    assert str(seen["client"][0]) == DISCONNECTED


async def test_servername_known_in_tls_client_error(certs):
    # Node: test-tls-sni-servername ("We could get the tlsSocket.servername even if the event
    # of 'tlsClientError' is emitted").
    loop = asyncio.get_running_loop()
    got: asyncio.Future[Any] = loop.create_future()

    def sni(servername: str, cb: Any) -> None:
        cb(Exception("Invalid SNI context"))

    server, port = await listen({**certs.server.options, "SNICallback": sni})
    server.on("tlsClientError", lambda e, s: got.done() or got.set_result(s.servername))
    try:
        cli = tls.connect(port, {"host": "127.0.0.1", "servername": "c.wrong.com",
                                 "reject_unauthorized": False})
        cli.on("error", lambda e: None)
        assert await wait(got) == "c.wrong.com"
        cli.destroy()
    finally:
        await shut(server)


# -------------------------------------------------------------------------- sni-server-client

@pytest.mark.parametrize(("servername", "cn", "mismatch"), [
    ("b.example.com", "*.example.com", False),    # the wildcard context
    ("a.b.example.com", "localhost", True),       # '*' is one label: the default context
    ("c.wrong.com", "localhost", True),           # nothing added: the default context
])
async def test_add_context_wildcard_matches_one_label(certs, servername, cn, mismatch):
    # Node: test-tls-sni-server-client.
    def setup(server: tls.Server) -> None:
        server.add_context("*.example.com", certs.wildcard.options)

    seen = await outcome(certs.server.options,
                         {"ca": certs.root.cert_pem, "servername": servername,
                          "reject_unauthorized": False}, setup=setup)
    assert seen["server_errors"] == []
    assert seen["client"][0]["cn"] == cn
    assert (seen["client"][0]["authorization_error"] == "ERR_TLS_CERT_ALTNAME_INVALID") is mismatch
    assert seen["server"][0]["servername"] == servername
    assert seen["server"][0]["authorized"] is False


# ------------------------------------------------------------------ secure-context-usage-order

async def test_add_context_most_recent_match_wins(certs):
    # Node: test-tls-secure-context-usage-order. With two contexts for '*.example.com', the one
    # added last is used (here: the one whose ca trusts the client's certificate), and it stays
    # so on the next connection (the list is not reversed in place).
    results: list[tuple[str, bool]] = []
    server, port = await listen({**certs.server.options, "request_cert": True,
                                 "reject_unauthorized": False},
                                lambda s: results.append((s.servername, s.authorized)))
    server.add_context("*.example.com", {**certs.wildcard.options, "ca": certs.root.cert_pem})

    async def one(servername: str) -> None:
        cli = tls.connect(port, {**certs.client.options, "host": "127.0.0.1",
                                 "ca": certs.root.cert_pem, "servername": servername})
        closed = event(cli, "close")
        await wait(cli)
        cli.end()
        await wait(closed)

    try:
        await one("a.example.com")
        server.add_context("*.example.com", {**certs.wildcard.options,
                                             "ca": certs.client_ca.cert_pem})
        await one("b.example.com")
        await one("b.example.com")
        assert results == [("a.example.com", False), ("b.example.com", True),
                           ("b.example.com", True)]
    finally:
        await shut(server)


# ----------------------------------------------------------- socket-snicallback-without-server

async def test_server_tlssocket_sni_callback_without_server():
    # Node: test-tls-socket-snicallback-without-server. A server TLSSocket over a Duplex with
    # an SNICallback and no server: the callback gets the ClientHello's server name.
    a, b = stream.duplex_pair()
    got: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    srv = tls.TLSSocket(b, {"is_server": True,
                            "SNICallback": lambda name, cb: got.done() or got.set_result(name)})
    cli = tls.connect({"socket": a, "servername": "www.google.com", "reject_unauthorized": False})
    cli.on("error", lambda e: None)
    srv.on("error", lambda e: None)
    try:
        assert await wait(got) == "www.google.com"
    finally:
        cli.destroy()
        srv.destroy()


# --------------------------------------------------------------------------- snicallback-error

@pytest.mark.parametrize("value", ["fhqwhgads", 42, {}, []])
def test_sni_callback_must_be_a_function(value):
    # Node: test-tls-snicallback-error (both tls.createServer and new TLSSocket).
    with pytest.raises(TypeError) as info:
        tls.create_server({"SNICallback": value})
    assert info.value.code == "ERR_INVALID_ARG_TYPE"
    with pytest.raises(TypeError) as info:
        tls.TLSSocket(net.Socket(), {"is_server": True, "SNICallback": value})
    assert info.value.code == "ERR_INVALID_ARG_TYPE"


# ---------------------------------------------------------------------------- starttls-server

async def net_server_upgrading(options: dict[str, Any], junk: bool = False) -> Any:
    """A net.Server whose sockets become server TLSSockets with ``server`` = that net.Server.
    The first of: 'secure', the TLSSocket's 'error' (its code), or what the constructor
    raised. ``junk``: the client sends 1024 bytes of '*' instead of a ClientHello."""
    loop = asyncio.get_running_loop()
    result: asyncio.Future[Any] = loop.create_future()

    def on_connection(raw: net.Socket) -> None:
        try:
            s = tls.TLSSocket(raw, {"is_server": True, "server": server, **options})
        except Exception as exc:  # noqa: BLE001 - what a divergence looks like
            raw.destroy()
            result.done() or result.set_result(exc)
            return
        s.on("secure", lambda: (result.done() or result.set_result("secure"), s.end()))
        s.on("error", lambda e: result.done() or result.set_result(code_of(e)))

    server = net.create_server(on_connection)
    await wait(server.listen(0, "127.0.0.1"))
    port = server.address()["port"]
    if junk:
        cli: Any = net.connect(port, "127.0.0.1", lambda: cli.write(b"*" * 1024))
    else:
        cli = tls.connect(port, "127.0.0.1", {"servername": "test.test",
                                              "reject_unauthorized": False,
                                              "request_ocsp": True})
    cli.on("error", lambda e: None)
    try:
        return await wait(result, SHORT)
    finally:
        cli.destroy()
        server.close()


async def test_starttls_server_option_may_be_a_net_server(certs):
    # Node: test-tls-starttls-server. 'server' is a net.Server; the SNICallback answers
    # (null, null) asynchronously; the client asks for OCSP; the TLSSocket emits 'secure'.
    names: list[str] = []

    def sni(hostname: str, cb: Any) -> None:
        names.append(hostname)
        asyncio.get_running_loop().call_soon(cb, None, None)

    ctx = tls.create_secure_context(certs.server.options)
    assert await net_server_upgrading({"secure_context": ctx, "SNICallback": sni}) == "secure"
    assert names == ["test.test"]


async def test_net_server_as_server_option_without_sni_callback(certs):
    # Node: test-tls-socket-destroy and test-tls-socket-constructor-alpn-options-parsing both
    # pass their net.Server as 'server' (no SNICallback): the handshake completes.
    ctx = tls.create_secure_context(certs.server.options)
    assert await net_server_upgrading({"secure_context": ctx}) == "secure"


async def test_net_server_as_server_option_handshake_error(certs):
    # Node: test-tls-socket-failed-handshake-emits-error (with its 'server': net.Server):
    # junk instead of a ClientHello is the TLSSocket's 'error' "wrong version number".
    def sni(hostname: str, cb: Any) -> None:
        cb(None, None)

    ctx = tls.create_secure_context(certs.server.options)
    got = await net_server_upgrading({"secure_context": ctx, "SNICallback": sni}, junk=True)
    assert got == "ERR_SSL_WRONG_VERSION_NUMBER"


# ---------------------------------------------------------- socket-constructor-alpn-options-parsing

async def test_tlssocket_alpn_protocols_list(certs):
    # Node: test-tls-socket-constructor-alpn-options-parsing. A list of strings is accepted by
    # TLSSocket (client and server side); the server TLSSocket selects 'http/1.1' from the
    # client's ['h2', 'http/1.1'].
    tls.TLSSocket(None, {"alpn_protocols": ["http/1.1"]}).destroy()
    loop = asyncio.get_running_loop()
    got: asyncio.Future[Any] = loop.create_future()

    def on_connection(raw: net.Socket) -> None:
        s = tls.TLSSocket(raw, {"is_server": True, **certs.server.options,
                                "alpn_protocols": ["http/1.1"]})
        s.on("secure", lambda: (got.set_result(s.alpn_protocol), s.end()))

    server = net.create_server(on_connection)
    await wait(server.listen(0, "127.0.0.1"))
    cli = tls.connect(server.address()["port"], "127.0.0.1",
                      {"reject_unauthorized": False, "alpn_protocols": ["h2", "http/1.1"]})
    try:
        await wait(cli)
        assert cli.alpn_protocol == "http/1.1"
        assert await wait(got) == "http/1.1"
    finally:
        cli.destroy()
        server.close()


# ------------------------------------------------------------------------- socket-destroy

async def test_server_tlssocket_destroyed_while_client_writes_a_megabyte(certs):
    # Node: test-tls-socket-destroy (without its 'server' option, see the starttls xfail).
    # The server TLSSocket destroys itself on its first 'data' while the client writes 1 MiB:
    # no crash, the client is told (ECONNRESET) and closes.
    ctx = tls.create_secure_context(certs.server.options)
    log: list[str] = []

    def on_connection(raw: net.Socket) -> None:
        s = tls.TLSSocket(raw, {"is_server": True, "secure_context": ctx})

        def first(data: bytes) -> None:
            log.append("server data")
            s.destroy()
            server.close()

        s.once("data", first)
        s.on("close", lambda *a: log.append("server close"))

    server = net.create_server(on_connection)
    await wait(server.listen(0, "127.0.0.1"))
    cli = tls.connect(server.address()["port"], "127.0.0.1", {"reject_unauthorized": False})
    cli.on("secureConnect", lambda: cli.write(b"*" * (1 << 20)))
    errors: list[Any] = []
    cli.on("error", lambda e: (errors.append(code_of(e)), cli.destroy()))
    closed = event(cli, "close")
    await wait(closed)
    assert log[:2] == ["server data", "server close"]
    assert errors in ([], ["ECONNRESET"], ["EPIPE"])


# --------------------------------------------------------------------------- socket-close

async def test_raw_socket_destroyed_under_tls_server_connection(certs):
    # Node: test-tls-socket-close. A net server hands its sockets to a tls.Server ('connection'
    # emitted by hand). Destroying the raw socket after the client's first write closes the
    # server's TLSSocket (already destroyed when the raw 'close' runs) and the client.
    loop = asyncio.get_running_loop()
    state: dict[str, Any] = {}
    log: list[str] = []
    secure: asyncio.Future[None] = loop.create_future()

    def on_secure(s: tls.TLSSocket) -> None:
        state["tls"] = s
        s.on("close", lambda *a: log.append("server tls close"))
        secure.set_result(None)

    tls_server = tls.create_server(certs.server.options, on_secure)

    def on_connection(raw: net.Socket) -> None:
        state["raw"] = raw
        tls_server.emit("connection", raw)
        raw.on("close", lambda *a: log.append(f"raw close tls_destroyed={state['tls'].destroyed}"))

    server = net.create_server(on_connection)
    await wait(server.listen(0, "127.0.0.1"))
    cli = tls.connect(server.address()["port"], "127.0.0.1", {"reject_unauthorized": False})
    written: asyncio.Future[None] = loop.create_future()
    cli.write("foo", "utf8", lambda *a: written.done() or written.set_result(None))
    client_closed = event(cli, "close")
    try:
        await wait(written)
        await wait(secure)
        tls_closed = event(state["tls"], "close")
        state["raw"].destroy()
        assert state["raw"].destroyed is True
        await wait(tls_closed)
        await wait(client_closed)
        assert log[:2] == ["raw close tls_destroyed=True", "server tls close"]
    finally:
        cli.destroy()
        server.close()


# --------------------------------------------------------------------------- zero-clear-in

async def test_end_with_empty_string_is_not_an_error(certs):
    # Node: test-tls-zero-clear-in. end('') right after connect (a zero-length write into
    # OpenSSL) is no error; the server ends 20 ms after the handshake.
    loop = asyncio.get_running_loop()

    def on_secure(s: tls.TLSSocket) -> None:
        loop.call_later(0.02, s.end)

    server, port = await listen(certs.server_rsa.options, on_secure)
    errors: list[Any] = []
    try:
        cli = tls.connect(port, {"host": "127.0.0.1", "reject_unauthorized": False,
                                 **certs.server_rsa.options},
                          lambda: loop.call_later(0.02, cli.destroy))
        cli.end("")
        cli.on("error", errors.append)
        closed = event(cli, "close")
        assert await wait(closed) is False
        assert errors == []
    finally:
        await shut(server)


# ----------------------------------------------------------------------------- set-encoding

MESSAGE = "x\u221aab c"  # a UTF-8-only character in the middle


async def encoded(certs: Any, encoding: str) -> tuple[list[Any], str]:
    server, port = await listen(certs.server.options, lambda s: s.end(MESSAGE))
    try:
        cli = tls.connect(port, {"host": "127.0.0.1", "reject_unauthorized": False})
        cli.set_encoding(encoding)
        chunks: list[Any] = []
        cli.on("data", chunks.append)
        closed = event(cli, "close")
        await wait(closed)
        return chunks, cli.ready_state
    finally:
        await shut(server)


@pytest.mark.parametrize(("encoding", "expected"), [
    ("utf8", MESSAGE), ("hex", "78e2889a61622063"), ("latin1", "x\u00e2\x88\x9aab c"),
])
async def test_set_encoding_decodes_strings(certs, encoding, expected):
    # Node: test-tls-set-encoding (its other encodings; 'closed' readyState at 'close').
    chunks, state = await encoded(certs, encoding)
    assert all(isinstance(c, str) for c in chunks)
    assert "".join(chunks) == expected
    assert state == "closed"


async def test_set_encoding_ascii_strips_the_high_bit(certs):
    # Node: test-tls-set-encoding ('x\u221aab c' read as 'ascii' is 'xb\b\x1aab c').
    chunks, state = await encoded(certs, "ascii")
    assert "".join(chunks) == "xb\b\x1aab c"
    assert state == "closed"


# ---------------------------------------------------------------- server-parent-constructor-options

async def test_server_allow_half_open_reaches_its_sockets(certs):
    # Node: test-tls-server-parent-constructor-options (allowHalfOpen part).
    for extra, expected in (({}, False), ({"allow_half_open": True}, True)):
        got: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def on_secure(s: tls.TLSSocket, got: asyncio.Future[bool] = got) -> None:
            got.set_result(s.allow_half_open)
            s.on("end", s.end)

        server, port = await listen({**certs.server.options, **extra}, on_secure)
        try:
            cli = tls.connect(port, {"host": "127.0.0.1", "reject_unauthorized": False})
            await wait(cli)
            assert await wait(got) is expected
            closed = event(cli, "close")
            cli.end()
            await wait(closed)
        finally:
            await shut(server)


async def test_server_pause_on_connect_hands_over_paused_sockets(certs):
    # Node: test-tls-server-parent-constructor-options (pauseOnConnect part): isPaused() is
    # true in 'secureConnection' and no 'data' comes before resume().
    loop = asyncio.get_running_loop()
    log: list[str] = []
    done: asyncio.Future[None] = loop.create_future()

    def on_secure(s: tls.TLSSocket) -> None:
        log.append(f"paused={s.is_paused()}")
        s.on("data", lambda d: log.append(f"data {d!r}"))
        loop.call_later(0.2, lambda: (log.append("resume"), s.resume()))
        s.on("end", lambda: (log.append("end"), s.end(), done.done() or done.set_result(None)))

    server, port = await listen({**certs.server.options, "allow_half_open": True,
                                 "pause_on_connect": True}, on_secure)
    try:
        cli = tls.connect(port, {"host": "127.0.0.1", "reject_unauthorized": False})
        cli.on("secureConnect", lambda: cli.end("hi"))
        await wait(done)
        assert log == ["paused=True", "resume", "data b'hi'", "end"]
        cli.destroy()
    finally:
        await shut(server)


# ----------------------------------------------------------------------- server-connection-server

async def test_connection_event_socket_knows_its_server(certs):
    # Node: test-tls-server-connection-server ('connection' socket's .server is the tls.Server).
    got: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    server, port = await listen(certs.server.options, lambda s: s.end("hello"))
    server.on("connection", lambda raw: got.done() or got.set_result(raw))
    try:
        cli = tls.connect(port, {"host": "127.0.0.1", "reject_unauthorized": False},
                          lambda: cli.end())
        cli.resume()
        closed = event(cli, "close")
        raw = await wait(got)
        assert isinstance(raw, net.Socket)
        assert raw.server is server
        await wait(closed)
    finally:
        await shut(server)


# ------------------------------------------------------------------------ socket-default-options

async def bare_client(certs: Any, options: Any) -> tuple[list[str], list[str]]:
    """A client made with ``TLSSocket(None, options).connect(port)`` (no tls.connect), which
    writes 'hello' and ends at 'connect'. Its events and the server's, once both sides are done
    (the client's 'close'; the server's 'end' of what it read, or its 'tlsClientError')."""
    loop = asyncio.get_running_loop()
    log: list[str] = []
    server_log: list[str] = []
    server_done: asyncio.Future[None] = loop.create_future()

    def on_secure(conn: tls.TLSSocket) -> None:
        got: list[bytes] = []
        conn.on("data", got.append)
        conn.on("end", lambda: (server_log.append(f"server got {b''.join(got)!r}"),
                                server_done.done() or server_done.set_result(None)))

    def on_client_error(err: Any, conn: Any) -> None:
        server_log.append(f"tlsClientError {code_of(err)}")
        if not server_done.done():
            server_done.set_result(None)

    server, port = await listen(certs.server.options, on_secure)
    server.on("tlsClientError", on_client_error)
    sock = tls.TLSSocket(None, options)
    try:
        sock.connect(port, "127.0.0.1")
        sock.on("connect", lambda: sock.end("hello"))
        sock.on("secure", lambda: log.append(f"secure {sock.authorized} {sock.authorization_error}"))
        sock.on("secureConnect", lambda: log.append("secureConnect"))
        sock.on("error", lambda e: log.append(f"error {code_of(e)}"))
        sock.on("close", lambda had_error: log.append(f"close {had_error}"))
        sock.resume()
        await wait(sock.wait_closed())
        await wait(server_done)
        return log, server_log
    finally:
        sock.destroy()
        await shut(server)


@pytest.mark.parametrize("which", ["ca", "secure_context"])
async def test_bare_tlssocket_client_emits_secure_not_secure_connect(certs, which):
    # Node: test-tls-socket-default-options ({ca} and {secureContext: ctx with that ca}): the
    # chain verifies, authorized is true.
    options = ({"ca": certs.root.cert_pem} if which == "ca" else
               {"secure_context": tls.create_secure_context({"ca": certs.root.cert_pem})})
    log, server_log = await bare_client(certs, options)
    assert log == ["secure True None", "close False"]
    assert server_log == ["server got b'hello'"]


@pytest.mark.parametrize("which", ["no-options", "empty", "context-wins-over-ca"])
async def test_bare_tlssocket_client_rejects_an_untrusted_server(certs, which):
    # Deliberate difference (README, "Where nodetls deliberately differs from Node v20"): a
    # TLSSocket client made directly verifies the server as tls.connect() does (the same
    # reject_unauthorized default): an untrusted chain is 'error' with the verify code, then
    # 'close'(True), no 'secure', no data sent; its unknown_ca alert tells the server why.
    # Node v20: test-tls-socket-default-options (undefined, {}, and {secureContext, ca}: the
    # ca is ignored when a context is given): a bare TLSSocket never rejects; it emits
    # 'secure', leaves authorized false and ssl.verifyError() set, and the data flows -- a
    # caller that forgets to check talks to an unverified peer.
    options = {"no-options": None, "empty": {},
               "context-wins-over-ca": {"secure_context": tls.create_secure_context(),
                                        "ca": certs.root.cert_pem}}[which]
    log, server_log = await bare_client(certs, options)
    assert log == ["error UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "close True"]
    assert server_log == ["tlsClientError ERR_SSL_TLSV1_ALERT_UNKNOWN_CA"]


async def test_bare_tlssocket_client_with_reject_unauthorized_false_acts_as_nodes(certs):
    # reject_unauthorized=False gives what Node's bare TLSSocket does by default: 'secure'
    # with authorized false and the reason, and the data flows.
    log, server_log = await bare_client(certs, {"reject_unauthorized": False})
    assert log == ["secure False UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "close False"]
    assert server_log == ["server got b'hello'"]


# ------------------------------------------------------------------------ wrap-event-emmiter

async def test_tlssocket_over_a_plain_event_emitter_is_a_type_error():
    # Node: test-tls-wrap-event-emmiter (nodejs/node#3655): "stream.pause is not a function".
    try:
        sock = tls.TLSSocket(EventEmitter())
    except TypeError:
        return
    sock.on("error", lambda e: None)
    pytest.fail("TLSSocket accepted an EventEmitter that is no stream")


# ----------------------------------------------------------------- wrap-econnreset-localaddress

async def test_econnreset_carries_local_address():
    # Node: test-tls-wrap-econnreset-localaddress (a server that ends at once: ECONNRESET with
    # the connect options' port and localAddress, no path).
    # (the accepted connections, ended at once, are never read: they never close on their own,
    # in Node neither; the test destroys them)
    conns: list[net.Socket] = []
    server = net.create_server(lambda c: (conns.append(c), c.end()))
    await wait(server.listen(0, "127.0.0.1"))
    port = server.address()["port"]
    try:
        cli = tls.connect({"port": port, "host": "127.0.0.1", "family": 4,
                           "local_address": "127.0.0.1"})
        failed = event(cli, "error")
        closed = event(cli, "close")
        err = await wait(failed)
        assert err.code == "ECONNRESET" and str(err) == DISCONNECTED
        assert (err.path, err.host, err.port, err.local_address) == (None, "127.0.0.1", port,
                                                                      "127.0.0.1")
        assert await wait(closed) is True
    finally:
        await shut(server, *conns)


# --------------------------------------------------------------------------- root-certificates

def test_root_certificates_shape():
    # Node: test-tls-root-certificates (immutable, the same object each time, no duplicates,
    # each a PEM block without a trailing newline).
    roots = tls.root_certificates
    assert isinstance(roots, tuple) and roots
    assert roots is tls.root_certificates
    assert len(set(roots)) == len(roots)
    assert all(r.startswith("-----BEGIN CERTIFICATE-----\n") for r in roots)
    assert all(r.endswith("\n-----END CERTIFICATE-----") for r in roots)
    with pytest.raises(TypeError):
        roots[0] = "x"  # type: ignore[index]


# -------------------------------------------------------------------------------- set-ciphers

U = None
CIPHER_CASES = [
    # (client ciphers, server ciphers, negotiated)
    ("AES256-SHA", "AES256-SHA", "AES256-SHA"),
    (U, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"),
    ("TLS_AES_256_GCM_SHA384", U, "TLS_AES_256_GCM_SHA384"),
    # cipher order ignored: TLS 1.3 chosen before TLS 1.2
    ("AES256-SHA:TLS_AES_256_GCM_SHA384", U, "TLS_AES_256_GCM_SHA384"),
    (U, "AES256-SHA:TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"),
    # '' is the default list
    ("TLS_AES_256_GCM_SHA384", "", "TLS_AES_256_GCM_SHA384"),
    ("", "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"),
]


def cipher_opts(ciphers: str | None) -> dict[str, Any]:
    """Node's test: a list without any TLS 1.3 suite also caps the version at TLS 1.2."""
    out: dict[str, Any] = {"ciphers": ciphers}
    if ciphers and "TLS_" not in ciphers:
        out["max_version"] = "TLSv1.2"
    return out


@pytest.mark.parametrize(("cciphers", "sciphers", "cipher"), CIPHER_CASES)
async def test_ciphers_option_shared(certs, cciphers, sciphers, cipher):
    # Node: test-tls-set-ciphers (shared ciphers; both sides report the same suite). nodetls's
    # default list refuses static RSA (deliberately, API.md), so the AES256-SHA case names it
    # on both sides.
    seen = await outcome({**certs.server_rsa.options, **cipher_opts(sciphers)},
                         {"ca": certs.root.cert_pem, "servername": "localhost",
                          **cipher_opts(cciphers)})
    assert seen["client"][0]["cipher"] == cipher
    assert seen["server"][0]["cipher"] == cipher


@pytest.mark.parametrize(("cciphers", "sciphers"), [
    ("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"),
    ("AES128-SHA", "AES256-SHA"),
    ("AES128-SHA:TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256:AES256-SHA"),
])
async def test_ciphers_option_nothing_shared(certs, cciphers, sciphers):
    # Node: test-tls-set-ciphers (no shared cipher: the server's OpenSSL error, the client the
    # handshake_failure alert).
    seen = await outcome({**certs.server_rsa.options, **cipher_opts(sciphers)},
                         {"ca": certs.root.cert_pem, "servername": "localhost",
                          **cipher_opts(cciphers)})
    assert [code_of(e) for e in seen["server_errors"]] == ["ERR_SSL_NO_SHARED_CIPHER"]
    assert [code_of(e) for e in seen["client"]] == ["ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE"]


@pytest.mark.parametrize(("value", "error", "code"), [
    (9, TypeError, "ERR_INVALID_ARG_TYPE"), (":", ValueError, "ERR_INVALID_ARG_VALUE"),
])
async def test_ciphers_option_invalid_values(value, error, code):
    # Node: test-tls-set-ciphers (invalid values throw on both sides, before any connection).
    with pytest.raises(error) as info:
        tls.create_server({"ciphers": value})
    assert info.value.code == code
    with pytest.raises(error) as info:
        tls.connect({"port": 1, "host": "127.0.0.1", "ciphers": value})
    assert info.value.code == code


async def test_ciphers_option_negated_tls13_suite(certs):
    # Node: test-tls-set-ciphers ('TLS_AES_256_GCM_SHA384:!TLS_CHACHA20_POLY1305_SHA256').
    ciphers = "TLS_AES_256_GCM_SHA384:!TLS_CHACHA20_POLY1305_SHA256"
    tls.create_secure_context({"ciphers": ciphers})
    seen = await outcome(certs.server_rsa.options, {"ca": certs.root.cert_pem,
                                                     "servername": "localhost",
                                                     "ciphers": ciphers})
    assert seen["client"][0]["cipher"] == "TLS_AES_256_GCM_SHA384"


async def test_ciphers_option_ccm8_needs_both_sides(certs):
    # Node: test-tls-set-ciphers (TLS_AES_128_CCM_8_SHA256 is not in the default list: a
    # client asking only for it finds nothing shared). The 1.2 part '@SECLEVEL=0' is needed
    # here: the bundled OpenSSL 3.5 refuses CCM_8 above security level 0 (see next test).
    seen = await outcome(certs.server_rsa.options,
                         {"ca": certs.root.cert_pem, "servername": "localhost",
                          "ciphers": "TLS_AES_128_CCM_8_SHA256"})
    assert seen["server"] == []
    assert len(seen["client"]) == 1 and isinstance(seen["client"][0], tls.errors.TLSError)
    both = "TLS_AES_128_CCM_8_SHA256:ECDHE-RSA-AES128-GCM-SHA256@SECLEVEL=0"
    seen = await outcome({**certs.server_rsa.options, "ciphers": both},
                         {"ca": certs.root.cert_pem, "servername": "localhost", "ciphers": both})
    assert seen["client"][0]["cipher"] == "TLS_AES_128_CCM_8_SHA256"
    assert seen["server"][0]["cipher"] == "TLS_AES_128_CCM_8_SHA256"


async def test_ciphers_option_ccm8_on_both_sides_needs_a_lower_security_level(certs):
    # Node: test-tls-set-ciphers (CCM_8 "not enabled by default, but works"): Node v20 negotiates
    # it at its security level 1. A deliberate difference (README): at our default level 2 a
    # 64-bit-tag suite is refused, whatever both sides ask; @SECLEVEL=0 gives it (test above).
    seen = await outcome({**certs.server_rsa.options, "ciphers": "TLS_AES_128_CCM_8_SHA256"},
                         {"ca": certs.root.cert_pem, "servername": "localhost",
                          "ciphers": "TLS_AES_128_CCM_8_SHA256"})
    if not OPENSSL_3_2:  # (OpenSSL 3.0 counts no 64-bit tag: Node's outcome, at level 2 too)
        assert seen["client"][0]["cipher"] == "TLS_AES_128_CCM_8_SHA256"
        return
    assert code_of(seen["client"][0]) == "ERR_SSL_NO_CIPHERS_AVAILABLE"
    assert seen["server"] == []


# ------------------------------------------------------------------------------- set-sigalgs

def sigalg_pair(certs: Any, client: str, server: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return ({**certs.server_rsa.options, "ca": certs.client_ca.cert_pem, "request_cert": True,
             "reject_unauthorized": True, "sigalgs": server},
            {**certs.client_rsa.options, "ca": certs.root.cert_pem, "servername": "localhost",
             "sigalgs": client})


@pytest.mark.parametrize(("csig", "ssig", "shared"), [
    ("RSA-PSS+SHA384", "RSA-PSS+SHA384", ["RSA-PSS+SHA384"]),
    ("RSA-PSS+SHA256:RSA-PSS+SHA512:ECDSA+SHA256", "RSA-PSS+SHA256:ECDSA+SHA256",
     ["RSA-PSS+SHA256", "ECDSA+SHA256"]),
])
async def test_sigalgs_shared(certs, csig, ssig, shared):
    # Node: test-tls-set-sigalgs (the server's getSharedSigalgs(), with client certificates).
    seen = await outcome(*sigalg_pair(certs, csig, ssig))
    assert seen["server"][0]["authorized"] is True
    assert seen["server"][0]["sigalgs"] == shared


@pytest.mark.parametrize(("csig", "ssig"), [
    ("RSA-PSS+SHA384", "ECDSA+SHA256"),
    ("RSA-PSS+SHA384:ECDSA+SHA256", "ECDSA+SHA384:RSA-PSS+SHA256"),
])
async def test_sigalgs_nothing_shared(certs, csig, ssig):
    # Node: test-tls-set-sigalgs (codes as Node v20 reports them; its test file spells the
    # server's code ..._ALGORITMS but only asserts truthiness).
    seen = await outcome(*sigalg_pair(certs, csig, ssig))
    assert [code_of(e) for e in seen["server_errors"]] == [
        "ERR_SSL_NO_SHARED_SIGNATURE_ALGORITHMS"]
    assert [code_of(e) for e in seen["client"]] == ["ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE"]


# -------------------------------------------------------------------------------- psk-circuit

USERS = {"UserA": bytes(range(128)), "UserB": bytes.fromhex("82072606b502b0f4025e90eb75fe137d")}
PSK_CIPHERS = "PSK+HIGH:TLS_AES_128_GCM_SHA256"


def psk_pair(secret: dict[str, Any], **client: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    identities: list[Any] = []

    def lookup(sock: tls.TLSSocket, identity: str) -> bytes | None:
        assert isinstance(sock, tls.TLSSocket)
        identities.append(identity)
        return USERS.get(identity)

    return ({"ciphers": PSK_CIPHERS, "psk_callback": lookup},
            {"ciphers": PSK_CIPHERS, "check_server_identity": lambda *a: None,
             "psk_callback": lambda hint: secret, **client})


@pytest.mark.parametrize(("user", "extra", "version"), [
    ("UserA", {}, "TLSv1.3"), ("UserA", {"max_version": "TLSv1.2"}, "TLSv1.2"),
    ("UserA", {"min_version": "TLSv1.3"}, "TLSv1.3"), ("UserB", {}, "TLSv1.3"),
])
async def test_psk_circuit(user, extra, version):
    # Node: test-tls-psk-circuit (a known identity with its key: an echo works).
    server_opts, client_opts = psk_pair({"psk": USERS[user], "identity": user}, **extra)
    seen = await outcome(server_opts, client_opts, on_secure=lambda s: s.pipe(s))
    assert seen["client"][0]["version"] == version
    assert seen["server_errors"] == []


@pytest.mark.parametrize(("secret", "client_code", "server_code"), [
    ({"psk": USERS["UserB"], "identity": "UserC"}, "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE",
     "ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM"),
    ({"psk": USERS["UserA"], "identity": "UserB"}, None, "ERR_SSL_BINDER_DOES_NOT_VERIFY"),
])
async def test_psk_circuit_failures(secret, client_code, server_code):
    # Node: test-tls-psk-circuit (an unknown identity; a known one with the wrong key). For the
    # wrong key the alert differs by OpenSSL version (see the xfail below).
    seen = await outcome(*psk_pair(secret))
    assert seen["server"] == []
    assert [code_of(e) for e in seen["server_errors"]] == [server_code]
    assert len(seen["client"]) == 1 and isinstance(seen["client"][0], tls.errors.TLSError)
    if client_code is not None:
        assert seen["client"][0].code == client_code


@pytest.mark.xfail(OPENSSL_3_2, strict=True, reason="divergence (OpenSSL 3.2+ vs Node's 3.0): a "
                   "wrong TLS 1.3 PSK gets a decrypt_error alert; Node's client sees "
                   "illegal_parameter")
async def test_psk_wrong_key_alert_as_node():
    # Node: test-tls-psk-circuit (ERR_SSL_SSLV3_ALERT_ILLEGAL_PARAMETER).
    seen = await outcome(*psk_pair({"psk": USERS["UserA"], "identity": "UserB"}))
    assert [code_of(e) for e in seen["client"]] == ["ERR_SSL_SSLV3_ALERT_ILLEGAL_PARAMETER"]


# --------------------------------------------------------------------------------- psk-errors

async def test_psk_identity_hint_too_long():
    # Node: test-tls-psk-errors (512-byte hint: 'tlsClientError' with Node's misspelt code,
    # the client ECONNRESET).
    seen = await outcome({"ciphers": "PSK+HIGH", "psk_callback": lambda s, i: None,
                          "psk_identity_hint": "a" * 512},
                         {"ciphers": "PSK+HIGH", "check_server_identity": lambda *a: None,
                          "psk_callback": lambda hint: None})
    # outcome() waited for the client's 'close' and the failed server socket's: nothing more
    # is due. Absence window: a second report, a late extra, would show within it.
    await asyncio.sleep(ABSENCE_WINDOW)
    assert [code_of(e) for e in seen["client"]] == ["ECONNRESET"]
    assert [code_of(e) for e in seen["server_errors"]] == ["ERR_TLS_PSK_SET_IDENTIY_HINT_FAILED"]


async def test_psk_identity_hint_too_long_is_reported():
    # Node: test-tls-psk-errors (the part nodetls shares with Node).
    seen = await outcome({"ciphers": "PSK+HIGH", "psk_callback": lambda s, i: None,
                          "psk_identity_hint": "a" * 512},
                         {"ciphers": "PSK+HIGH", "check_server_identity": lambda *a: None,
                          "psk_callback": lambda hint: None})
    assert seen["server"] == []
    assert code_of(seen["server_errors"][0]) == "ERR_TLS_PSK_SET_IDENTIY_HINT_FAILED"
    assert [code_of(e) for e in seen["client"]] == ["ECONNRESET"]


# ------------------------------------------------------------------------------- session-cache

async def session_cache_run(certs: Any, tickets: bool, invalid: bool) -> dict[str, int]:
    """Node's test-tls-session-cache shape: TLS 1.2 (both sides: a TLS 1.3-capable client's
    random legacy session id would be looked up too, in Node as here), an async external
    store, one connection and five reconnections offering the first session. Counts."""
    loop = asyncio.get_running_loop()
    counts = {"secure": 0, "new": 0, "resume": 0, "reused": 0}
    stored: dict[bytes, bytes] = {}

    def on_new(session_id: bytes, data: bytes, cb: Any) -> None:
        counts["new"] += 1
        loop.call_soon(lambda: (stored.setdefault(session_id, data), cb()))

    def on_resume(session_id: bytes, cb: Any) -> None:
        counts["resume"] += 1
        data = b"INVALID SESSION" if invalid else stored.get(session_id)
        loop.call_soon(cb, None, data)

    def on_secure(s: tls.TLSSocket) -> None:
        counts["secure"] += 1
        s.end(b"")

    opts = {**certs.server.options, **versions("TLSv1.2"), "request_cert": True,
            "reject_unauthorized": False}
    if not tickets:
        opts["secure_options"] = C.SSL_OP_NO_TICKET
    server, port = await listen(opts, on_secure)
    server.on("newSession", on_new)
    server.on("resumeSession", on_resume)
    session = None
    try:
        for _ in range(6):
            cli = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                     "servername": "localhost", "session": session,
                                     **versions("TLSv1.2"), **certs.client.options})
            got = event(cli, "session")
            closed = event(cli, "close")
            # (read at 'secureConnect': once the socket is destroyed it is None, Node's null)
            reused: list[bool] = []
            cli.once("secureConnect",
                     lambda cli=cli, reused=reused: reused.append(cli.is_session_reused()))
            await wait(cli)
            if session is None:
                session = await wait(got)
            counts["reused"] += reused[0]
            await wait(closed)
    finally:
        await shut(server)
    return counts


@pytest.mark.parametrize(("tickets", "invalid", "expected"), [
    (False, False, {"secure": 6, "new": 1, "resume": 5, "reused": 5}),
    (True, False, {"secure": 6, "new": 0, "resume": 0, "reused": 5}),
    (False, True, {"secure": 6, "new": 6, "resume": 5, "reused": 0}),
])
async def test_session_cache_counts(certs, tickets, invalid, expected):
    # Node: test-tls-session-cache (TLS 1.2: the store serves every reconnection; with tickets
    # neither event fires; a store answering garbage costs a full handshake, no crash).
    assert await session_cache_run(certs, tickets, invalid) == expected


# --------------------------------------------------------------------------- set-secure-context

async def test_set_secure_context_spares_open_connections(certs):
    # Node: test-tls-set-secure-context. A connection opened before set_secure_context keeps
    # working across two switches; new connections get the context current at their handshake.
    loop = asyncio.get_running_loop()
    first: dict[str, tls.TLSSocket] = {}
    first_seen: asyncio.Future[None] = loop.create_future()

    def on_secure(s: tls.TLSSocket) -> None:
        def on_data(data: bytes) -> None:
            if data == b"1":
                first["s"] = s
                s.write("multi-")
                first_seen.set_result(None)
            else:
                if data == b"4":
                    first["s"].write("success-")
                s.end("success")

        s.on("data", on_data)

    server, port = await listen(certs.server.options, on_secure)

    def request(n: int) -> asyncio.Future[Any]:
        done: asyncio.Future[Any] = loop.create_future()
        cli = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                 "servername": "localhost"}, lambda: cli.write(str(n)))
        chunks: list[bytes] = []
        cli.on("data", chunks.append)
        cli.on("error", lambda e: done.done() or done.set_result(code_of(e)))
        cli.on("close", lambda *a: done.done() or done.set_result(b"".join(chunks)))
        return done

    other = certs.self_signed.options
    try:
        one = request(1)
        await wait(first_seen)
        assert await wait(request(2)) == b"success"
        server.set_secure_context(other)
        first["s"].write("request-")
        assert await wait(request(3)) == "DEPTH_ZERO_SELF_SIGNED_CERT"
        server.set_secure_context(certs.server.options)
        assert await wait(request(4)) == b"success"
        server.set_secure_context(other)
        first["s"].end("fun!")
        assert await wait(request(5)) == "DEPTH_ZERO_SELF_SIGNED_CERT"
        assert await wait(one) == b"multi-request-success-fun!"
    finally:
        await shut(server)

