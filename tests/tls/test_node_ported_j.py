"""Scenarios of Node's own tls tests, ported (in our words) to nodetls: a tenth batch.

Ports, from Node's test/parallel/test-tls-*.js:

* test-tls-cli-max-version-1.2, -1.3, test-tls-cli-min-version-1.0, -1.1, -1.2, -1.3 and
  test-tls-cli-min-max-conflict. Node's ``--tls-min-v1.x`` / ``--tls-max-v1.x`` process flags
  only set ``tls.DEFAULT_MIN_VERSION`` / ``tls.DEFAULT_MAX_VERSION`` before the program runs;
  nodetls has no process flags, so the port assigns those module attributes (as a Node program
  may too) and runs the min/max matrix those tests reuse. The conflicting pair is refused at
  start-up by Node's flag parser; assigned at run time (the equivalent here), Node accepts it and
  every handshake that relies on both defaults fails with ``ERR_SSL_NO_PROTOCOLS_AVAILABLE``.
* test-tls-psk-alpn-callback-exception-handling (in Node v20.20): a server's ``psk_callback``
  or ``ALPNCallback`` that raises or answers wrongly is a ``'tlsClientError'``, and a client's
  ``psk_callback`` that does is the client's ``'error'``; never an uncaught exception.
* test-tls-session-timeout-errors (in Node v20.20): a negative ``sessionTimeout`` is
  ``ERR_OUT_OF_RANGE`` at ``createServer``.
* test-tls-client-allow-partial-trust-chain (``allowPartialTrustChain``, Node v20.18 on).
* test-tls-legacy-pfx (a PKCS#12 file under legacy algorithms).

Each test states what Node v20 does (checked by running the same scenario in ``node`` v20.20).

Examined and not ported, newer than Node v20 or outside nodetls's API: test-tls-get-ca-certificates-*
and test-tls-set-default-ca-certificates-* (``tls.getCACertificates`` / ``setDefaultCACertificates``
are not in Node v20), test-tls-ip-servername-forbidden (Node v20 warns instead: the port of
test-tls-ip-servername-deprecation), test-tls-connect-keepalive-nodelay (``--expose-internals``),
test-tls-off-thread-cert-loading* (process flags), test-tls-error-stack (``clientCertEngine``, not
offered), test-tls-env-extra-ca-with-options (the later fix of the ``crl`` case that
test_env_extra_ca.py pins as Node v20 has it).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from tlsutil import listen, shut, wait

import nodetls as tls
from helpers.peers import require_peer, run_process

# ---------------------------------------------------------------- test-tls-cli-*-version-*

NPA = "ERR_SSL_NO_PROTOCOLS_AVAILABLE"
PV = "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION"
UP = "ERR_SSL_UNSUPPORTED_PROTOCOL"
UM = "ERR_SSL_UNEXPECTED_MESSAGE"
OLD = "DEFAULT@SECLEVEL=0"  # TLS 1.0/1.1 need security level 0 on OpenSSL 3

# (client options, server options): defaults on both sides, one side capped at TLS 1.2, one side
# asking for TLS 1.3 at least, and a TLS 1.0-1.1 client against an otherwise default server.
ROWS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({}, {}),
    ({"max_version": "TLSv1.2"}, {}),
    ({}, {"max_version": "TLSv1.2"}),
    ({"min_version": "TLSv1.3"}, {}),
    ({}, {"min_version": "TLSv1.3"}),
    ({"min_version": "TLSv1", "max_version": "TLSv1.1", "ciphers": OLD}, {"ciphers": OLD}),
]
T13 = ("TLSv1.3", "TLSv1.3")
T12 = ("TLSv1.2", "TLSv1.2")
ANY = [T13, T12, T12, T13, T13, (PV, UP)]  # the defaults' outcome (TLS 1.2 to 1.3)

# Node flag -> (DEFAULT_MIN_VERSION, DEFAULT_MAX_VERSION it leaves, and for each row of ROWS
# (client's outcome, server's outcome): the protocol both agreed on, or each side's error code).
# Every outcome was taken from node v20.20 with the same assignments.
CLI: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    "max-version-1.2": ("TLSv1.2", "TLSv1.2", [T12, T12, T12, (NPA, UM), (PV, NPA), (PV, UP)]),
    "max-version-1.3": ("TLSv1.2", "TLSv1.3", ANY),
    "min-version-1.0": ("TLSv1", "TLSv1.3", [*ANY[:5], ("TLSv1.1", "TLSv1.1")]),
    "min-version-1.1": ("TLSv1.1", "TLSv1.3", [*ANY[:5], ("TLSv1.1", "TLSv1.1")]),
    "min-version-1.2": ("TLSv1.2", "TLSv1.3", ANY),
    "min-version-1.3": ("TLSv1.3", "TLSv1.3", [T13, (NPA, UM), (PV, NPA), T13, T13, (PV, UP)]),
    "min-max-conflict": ("TLSv1.3", "TLSv1.2", [(NPA, NPA)] * 5 + [(PV, NPA)]),
}


async def _outcome(certs: Any, client_opts: dict[str, Any],
                   server_opts: dict[str, Any]) -> tuple[str, str]:
    """(client, server): the protocol each side reports once the handshake is done, or the code
    of the error each side saw (the client's ``'error'``, the server's ``'tlsClientError'``)."""
    loop = asyncio.get_running_loop()
    server_side: asyncio.Future[str] = loop.create_future()

    def on_secure(s: tls.TLSSocket) -> None:
        if not server_side.done():
            server_side.set_result(str(s.get_protocol()))
        s.end(b"bye")

    server, port = await listen({**certs.server.options, **server_opts}, on_secure)
    server.on("tlsClientError",
              lambda e, s: server_side.done() or server_side.set_result(str(e.code)))
    try:
        client = tls.connect(port, {"host": "127.0.0.1", "reject_unauthorized": False,
                                    **client_opts})
        client_side: asyncio.Future[str] = loop.create_future()
        closed: asyncio.Future[None] = loop.create_future()
        client.on("secureConnect", lambda: client_side.done() or client_side.set_result(
            str(client.get_protocol())))
        client.on("error", lambda e: client_side.done() or client_side.set_result(
            str(getattr(e, "code", e))))
        client.on("close", lambda *a: closed.done() or closed.set_result(None))
        client.resume()  # (reads the server's b"bye" and its end, then closes)
        got = (await wait(client_side), await wait(server_side))
        await wait(closed)
        return got
    finally:
        await shut(server)


@pytest.mark.parametrize("flag", list(CLI))
async def test_default_version_bounds_as_node_cli_flags_set_them(certs, monkeypatch, flag):
    # Node: test-tls-cli-<flag> (each flag only sets tls.DEFAULT_MIN_VERSION/DEFAULT_MAX_VERSION,
    # then test-tls-min-max-version's matrix runs). Assigned here; a context made afterwards
    # without min_version/max_version takes the new bounds, one made with them keeps its own.
    low, high, expected = CLI[flag]
    monkeypatch.setattr(tls, "DEFAULT_MIN_VERSION", low)
    monkeypatch.setattr(tls, "DEFAULT_MAX_VERSION", high)
    tls.create_secure_context({})  # Node accepts even the conflicting pair at creation
    got = [await _outcome(certs, c, s) for c, s in ROWS]
    assert got == expected


# ------------------------------------------------ test-tls-psk-alpn-callback-exception-handling

PSK_CIPHERS = "PSK+HIGH"
PSK = bytes(32)


def _raise(message: str) -> Any:
    def callback(*_: Any) -> Any:
        raise RuntimeError(message)

    return callback


def _client_psk(_hint: Any) -> dict[str, Any]:
    return {"psk": PSK, "identity": "test-identity"}


async def _server_callback_fails(server_opts: dict[str, Any], client_opts: dict[str, Any],
                                 client_errors: list[Any] | None = None) -> tuple[Any, list[str]]:
    """A server whose callback fails: (the ``'tlsClientError'`` error, the client's events);
    the client's errors appended to ``client_errors``."""
    loop = asyncio.get_running_loop()
    client_error: asyncio.Future[Any] = loop.create_future()
    secure: list[Any] = []
    server, port = await listen(server_opts, secure.append)

    def on_client_error(err: Any, sock: tls.TLSSocket) -> None:
        if not client_error.done():
            client_error.set_result(err)
        sock.destroy()

    server.on("tlsClientError", on_client_error)
    try:
        client = tls.connect(port, {"host": "127.0.0.1", "check_server_identity": lambda *a: None,
                                    **client_opts})
        events: list[str] = []
        closed: asyncio.Future[None] = loop.create_future()
        client.on("secureConnect", lambda: events.append("secureConnect"))
        client.on("error", lambda e: events.append("error") or (
            client_errors is not None and client_errors.append(e)))
        client.on("close", lambda *a: closed.done() or closed.set_result(None))
        err = await wait(client_error)
        await wait(closed)
        assert secure == []  # never 'secureConnection'
        return err, events
    finally:
        await shut(server)


async def test_server_psk_callback_answering_a_str_is_a_client_error():
    # Node: a server pskCallback returning a string: 'tlsClientError' with a TypeError
    # ERR_INVALID_ARG_TYPE (no uncaught exception, no 'secureConnection'); the client fails.
    err, events = await _server_callback_fails(
        {"ciphers": PSK_CIPHERS, "psk_identity_hint": "test-hint",
         "psk_callback": lambda sock, identity: "invalid-should-be-bytes"},
        {"ciphers": PSK_CIPHERS, "psk_callback": _client_psk})
    assert isinstance(err, TypeError)
    assert err.code == "ERR_INVALID_ARG_TYPE"
    assert events == ["error"]


async def test_server_psk_callback_raising_is_a_client_error():
    # Node: a server pskCallback that throws: 'tlsClientError' with that very error.
    err, events = await _server_callback_fails(
        {"ciphers": PSK_CIPHERS, "psk_identity_hint": "test-hint",
         "psk_callback": _raise("Intentional callback error")},
        {"ciphers": PSK_CIPHERS, "psk_callback": _client_psk})
    assert isinstance(err, RuntimeError) and str(err) == "Intentional callback error"
    assert events == ["error"]


async def test_server_psk_callback_raising_sends_unknown_psk_identity():
    # Deliberate difference (README, "Where nodetls deliberately differs from Node v20"): the
    # server answers with an alert (TLS 1.3: handshake_failure; TLS 1.2: unknown_psk_identity),
    # so the client learns the handshake failed there (Node v20's JavaScript throws after
    # OpenSSL took the answer and destroys the socket: ECONNRESET).
    errors: list[Any] = []
    await _server_callback_fails(
        {"ciphers": PSK_CIPHERS, "psk_identity_hint": "test-hint",
         "psk_callback": _raise("Intentional callback error")},
        {"ciphers": PSK_CIPHERS, "psk_callback": _client_psk}, errors)
    assert [e.code for e in errors] == ["ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE"]
    errors.clear()
    await _server_callback_fails(
        {"ciphers": PSK_CIPHERS, "psk_identity_hint": "test-hint", "max_version": "TLSv1.2",
         "psk_callback": _raise("Intentional callback error")},
        {"ciphers": PSK_CIPHERS, "psk_callback": _client_psk}, errors)
    assert [e.code for e in errors] == ["ERR_SSL_TLSV1_ALERT_UNKNOWN_PSK_IDENTITY"]


async def test_alpn_callback_answering_an_unoffered_protocol_is_a_client_error(certs):
    # Node: ALPNCallback returning a protocol the client did not offer: 'tlsClientError'
    # ERR_TLS_ALPN_CALLBACK_INVALID_RESULT (a TypeError in Node v20.20).
    err, events = await _server_callback_fails(
        {**certs.server.options, "ALPNCallback": lambda info: "invalid-protocol-not-in-list"},
        {"ALPNProtocols": ["http/1.1", "h2"], "reject_unauthorized": False})
    assert err.code == "ERR_TLS_ALPN_CALLBACK_INVALID_RESULT"
    assert events == ["error"]


async def test_alpn_callback_invalid_result_message_lists_offered_protocols(certs):
    # Node: "ALPN callback returned a value (invalid-protocol-not-in-list) that did not match any
    # of the client's offered protocols (http/1.1, h2)".
    err, _ = await _server_callback_fails(
        {**certs.server.options, "ALPNCallback": lambda info: "invalid-protocol-not-in-list"},
        {"ALPNProtocols": ["http/1.1", "h2"], "reject_unauthorized": False})
    assert str(err) == ("ALPN callback returned a value (invalid-protocol-not-in-list) that did "
                        "not match any of the client's offered protocols (http/1.1, h2)")


async def test_alpn_callback_raising_is_a_client_error(certs):
    # Node: an ALPNCallback that throws: 'tlsClientError' with that very error.
    err, events = await _server_callback_fails(
        {**certs.server.options, "ALPNCallback": _raise("Intentional ALPN callback error")},
        {"ALPNProtocols": ["http/1.1"], "reject_unauthorized": False})
    assert isinstance(err, RuntimeError) and str(err) == "Intentional ALPN callback error"
    assert events == ["error"]


async def _client_psk_fails(client_psk: Any) -> tuple[Any, Any]:
    """A client whose psk_callback fails: (its ``'error'``, the server's first
    ``'tlsClientError'`` code or ``None``)."""
    loop = asyncio.get_running_loop()
    server_err: asyncio.Future[Any] = loop.create_future()
    secure: list[Any] = []
    server, port = await listen({"ciphers": PSK_CIPHERS, "psk_callback": lambda s, i: PSK},
                                secure.append)
    server.on("tlsClientError", lambda e, s: (server_err.done() or server_err.set_result(e.code),
                                              s.destroy()))
    try:
        client = tls.connect(port, {"host": "127.0.0.1", "ciphers": PSK_CIPHERS,
                                    "check_server_identity": lambda *a: None,
                                    "psk_callback": client_psk})
        error: asyncio.Future[Any] = loop.create_future()
        connected: list[Any] = []
        client.on("secureConnect", lambda: connected.append(True))
        client.on("error", lambda e: error.done() or error.set_result(e))
        err = await wait(error)
        got = await wait(server_err)
        assert connected == [] and secure == []
        return err, got
    finally:
        await shut(server)


async def test_client_psk_callback_answering_a_str_is_the_clients_error():
    # Node: a client pskCallback returning a string: the client's 'error' is a TypeError
    # ERR_INVALID_ARG_TYPE; no 'secureConnect'.
    err, _ = await _client_psk_fails(lambda hint: "invalid-should-be-object")
    assert isinstance(err, TypeError)
    assert err.code == "ERR_INVALID_ARG_TYPE"


async def test_client_psk_callback_raising_is_the_clients_error():
    # Node: a client pskCallback that throws: the client's 'error' is that very error.
    err, _ = await _client_psk_fails(_raise("Intentional client PSK callback error"))
    assert isinstance(err, RuntimeError) and str(err) == "Intentional client PSK callback error"


async def test_client_psk_callback_raising_sends_no_client_hello():
    # Node: the same scenario seen from the server: the connection ends before any ClientHello.
    _, server_code = await _client_psk_fails(_raise("Intentional client PSK callback error"))
    assert server_code == "ECONNRESET"


# ---------------------------------------------------------------- test-tls-session-timeout-errors

@pytest.mark.parametrize("timeout", [-1, -100, -(2 ** 31)])
def test_negative_session_timeout_is_out_of_range(certs, timeout):
    # Node v20.20: createServer({sessionTimeout: <negative>}) throws RangeError ERR_OUT_OF_RANGE
    # 'The value of "options.sessionTimeout" is out of range. It must be >= 0 && <= 2147483647.
    # Received <value>'.
    with pytest.raises(ValueError) as info:
        tls.create_server({**certs.server.options, "ca": [certs.server.cert_pem],
                           "sessionTimeout": timeout, "maxVersion": "TLSv1.2"})
    assert info.value.code == "ERR_OUT_OF_RANGE"  # type: ignore[attr-defined]
    assert str(info.value) == ('The value of "options.sessionTimeout" is out of range. It must '
                               f"be >= 0 && <= {2 ** 31 - 1}. Received {timeout}")


# ------------------------------------------------------- test-tls-client-allow-partial-trust-chain

async def _partial_chain_client(certs: Any, **opts: Any) -> Any:
    """A client trusting only the intermediate CA that issued the server's certificate: the
    connected socket, or the error."""
    server, port = await listen(certs.server.options, lambda s: s.resume())
    try:
        client = tls.connect(port, {"host": "127.0.0.1", "servername": "localhost",
                                    "ca": certs.intermediate.cert_pem, **opts})
        result: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        client.on("secureConnect", lambda: result.done() or result.set_result(client))
        client.on("error", lambda e: result.done() or result.set_result(e))
        got = await wait(result)
        client.destroy()
        return got
    finally:
        await shut(server)


async def test_intermediate_ca_alone_is_not_a_trust_anchor(certs):
    # Node: test-tls-client-allow-partial-trust-chain's consistency check: without the option, a
    # chain that ends at a CA which is not self-signed fails with UNABLE_TO_GET_ISSUER_CERT.
    got = await _partial_chain_client(certs)
    assert getattr(got, "code", None) == "UNABLE_TO_GET_ISSUER_CERT"


async def test_allow_partial_trust_chain_makes_the_intermediate_an_anchor(certs):
    # Node: with allowPartialTrustChain: true the same client connects and is authorized.
    got = await _partial_chain_client(certs, allowPartialTrustChain=True)
    assert isinstance(got, tls.TLSSocket) and got.authorized


# ---------------------------------------------------------------- test-tls-legacy-pfx

async def _legacy_pfx(certs: Any, tmp_path: Path) -> bytes:
    """The server's key and certificate as PKCS#12 under OpenSSL's ``-legacy`` algorithms
    (RC2-40 for the certificates), which OpenSSL 3's default provider cannot decrypt."""
    openssl = require_peer("openssl")
    out = tmp_path / "legacy.pfx"
    result = await run_process([openssl, "pkcs12", "-export", "-legacy",
                                "-in", certs.server.cert_path, "-inkey", certs.server.key_path,
                                "-out", out, "-passout", "pass:legacy"])
    assert result.rc == 0, result
    return out.read_bytes()


async def test_legacy_pfx_is_an_unsupported_operation(certs, tmp_path):
    # Node: test-tls-legacy-pfx: a client given the legacy PKCS#12 (right passphrase) fails
    # with code ERR_CRYPTO_UNSUPPORTED_OPERATION, before any connection.
    data = await _legacy_pfx(certs, tmp_path)
    with pytest.raises(Exception) as info:
        tls.create_secure_context({"pfx": data, "passphrase": "legacy"})
    assert getattr(info.value, "code", None) == "ERR_CRYPTO_UNSUPPORTED_OPERATION"


async def test_legacy_pfx_fails_at_creation(certs, tmp_path):
    # Node: the legacy PKCS#12 is refused when the context is made (tls.connect throws, no
    # connection is tried), the passphrase being right.
    data = await _legacy_pfx(certs, tmp_path)
    with pytest.raises(Exception) as info:
        tls.connect({"port": 1, "host": "127.0.0.1", "pfx": data, "passphrase": "legacy",
                     "reject_unauthorized": False})
    assert "unsupported" in str(info.value).lower()
