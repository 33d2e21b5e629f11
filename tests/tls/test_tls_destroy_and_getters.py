"""A TLS socket's ``destroy()`` sends no close_notify (``end()`` does), and the getters of a
``TLSSocket`` made without a socket, as Node v20's.

Node's ``destroy()`` closes the TLSWrap's stream below without ``SSL_shutdown``; its ``end()``
writes the close_notify before the FIN. Seen with node v20 through a TCP relay logging the
client's TLS 1.2 records (an alert is record type 21 there): after the handshake, ``destroy()``
ends the client's bytes with its Finished (``22:40 | FIN``), ``end()`` with an alert
(``21:26 | FIN``). (The differential case ``destroy_sends_no_close_notify`` shows it as the
peer's events.)

``new tls.TLSSocket(null, opts)`` has its TLSWrap, a new SSL, from the constructor: node v20
gives ``getProtocol()`` ``'TLSv1.3'`` (whatever the versions), ``getPeerCertificate()`` ``{}``,
``getCertificate()`` the context's certificate (``{}`` without one), ``getEphemeralKeyInfo()``
``{}`` on a client and ``null`` on a server, ``getCipher()``, ``getSession()``,
``getFinished()``, ``getPeerFinished()``, ``getTLSTicket()``, ``getPeerX509Certificate()``
``undefined``, ``isSessionReused()`` false, ``getSharedSigalgs()`` ``[]``; once destroyed every
one of them null. nodetls's answered ``None`` until the socket was connected.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tlsutil import event, shut, wait

import nodetls as tls
from nodetls import net


async def _client_records(certs: Any, how: str) -> tuple[list[int], bool]:
    """Connect a TLS 1.2 client through a TCP relay, ``how`` (``destroy`` / ``end``) once it
    is secure; the record types it sent after the handshake, and whether the relay read its
    FIN (rather than a reset)."""
    loop = asyncio.get_running_loop()
    server = tls.create_server({**certs.server.options, "max_version": "TLSv1.2"},
                               lambda s: (s.on("data", lambda _d: None), s.on("end", s.end)))
    await wait(server.listen(0, "127.0.0.1"))
    sent = bytearray()
    marks: list[int] = []  # len(sent) when the client was secure
    outcome: asyncio.Future[bool] = loop.create_future()

    def relay(a: net.Socket) -> None:
        b = net.connect(server.address()["port"], "127.0.0.1")
        a.on("data", lambda d: (sent.extend(d), b.write(d)))
        a.on("end", lambda: (outcome.done() or outcome.set_result(True), b.end()))
        a.on("error", lambda _e: (outcome.done() or outcome.set_result(False), b.destroy()))
        b.on("data", a.write)
        b.on("end", a.end)
        b.on("error", lambda _e: a.destroy())

    serving = event(server, "secureConnection")
    proxy = net.create_server(relay)
    await wait(proxy.listen(0, "127.0.0.1"))
    try:
        client = tls.connect({"port": proxy.address()["port"], "host": "127.0.0.1",
                              "ca": certs.root.cert_pem, "servername": "localhost"})
        client.on("error", lambda _e: None)
        # both secure: what the client sent up to now reached the relay (the handshake's)
        await wait(asyncio.gather(event(client, "secureConnect"), serving))
        marks.append(len(sent))
        getattr(client, how)()
        fin = await wait(outcome)
        types: list[int] = []
        i = marks[0]
        while i + 5 <= len(sent):
            types.append(sent[i])
            i += 5 + int.from_bytes(sent[i + 3:i + 5], "big")
        return types, fin
    finally:
        await shut(proxy, client)
        await shut(server)


async def test_destroy_sends_no_close_notify(certs: Any) -> None:
    """``destroy()``: the FIN alone after the handshake (Node's: no SSL_shutdown)."""
    types, fin = await _client_records(certs, "destroy")
    assert fin
    assert 21 not in types, types


async def test_end_sends_close_notify_then_fin(certs: Any) -> None:
    """``end()``: an alert record (the close_notify), then the FIN."""
    types, fin = await _client_records(certs, "end")
    assert fin
    assert types and types[-1] == 21, types


@pytest.mark.parametrize("server", [False, True])
async def test_getters_of_a_socket_without_connection(certs: Any, server: bool) -> None:
    """``TLSSocket(None, ...)``: the answers of Node's new SSL (module docstring)."""
    opts: dict[str, Any] = {"is_server": True} if server else {}
    sock = tls.TLSSocket(None, opts)
    assert sock.get_protocol() == "TLSv1.3"
    assert sock.get_peer_certificate() == {}
    assert sock.get_peer_certificate(True) == {}
    assert sock.get_certificate() == {}
    assert sock.get_ephemeral_key_info() == (None if server else {})
    assert sock.get_cipher() is None
    assert sock.get_session() is None
    assert sock.get_finished() is None
    assert sock.get_peer_finished() is None
    assert sock.get_tls_ticket() is None
    assert sock.get_peer_x509_certificate() is None
    assert sock.get_x509_certificate() is None
    assert sock.is_session_reused() is False
    assert sock.get_shared_sigalgs() == []
    sock.destroy()
    assert [sock.get_protocol(), sock.get_peer_certificate(), sock.get_certificate(),
            sock.get_ephemeral_key_info(), sock.is_session_reused()] == [None] * 5


async def test_certificate_of_a_socket_without_connection(certs: Any) -> None:
    """With a certificate (options or a secure context): ``getCertificate()`` is it."""
    ctx = tls.create_secure_context(certs.server.options)
    for opts in (certs.server.options, {**certs.server.options, "is_server": True},
                 {"secure_context": ctx}):
        sock = tls.TLSSocket(None, opts)
        assert sock.get_certificate()["subject"]["CN"] == "localhost"
        assert sock.get_x509_certificate() is not None
        assert sock.get_protocol() == "TLSv1.3"
        sock.destroy()
        assert sock.get_certificate() is None
