"""A server's ``authorized`` without a client certificate (Node's ``VerifyPeerCertificate``), and
peer certificates ``cryptography`` warns about: never a word on stderr.

Node's answers: the same servers run in node v20, session 37 (with a TLS 1.2 PSK cipher, the
server that asked for a certificate and got none is authorized), and the negotiation
differential's case
``test_a_resumed_tls13_session_without_client_certificate_is_authorized_as_in_node``.
"""

from __future__ import annotations

import asyncio
import base64
import warnings
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from tests.x509 import gen
from tlsutil import TIMEOUT, connect, event, listen, shut, wait

import nodetls as tls

PSK = bytes.fromhex("d731ef57be09e5204f0b205b60627028")


def _seen(s: tls.TLSSocket) -> tuple[Any, ...]:
    return (s.get_cipher()["name"], s.is_session_reused(), s.authorized, s.authorization_error)


async def _server_side(options: dict[str, Any], connects: list[dict[str, Any]]
                       ) -> list[tuple[Any, ...]]:
    """What the server's socket says at 'secureConnection' (cipher, reused, authorized,
    authorization_error), one per client connection made with each of ``connects``."""
    got: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
    server, port = await listen(options, lambda s: got.put_nowait(_seen(s)))
    out = []
    try:
        for opts in connects:
            keep = opts.pop("keep_session", False)
            sock = tls.connect(port, {"host": "127.0.0.1", **opts})
            # (TLS 1.3: the ticket comes after 'secureConnect'; get_session() is TLS 1.2's)
            ticket = event(sock, "session")
            await wait(event(sock, "secureConnect"))
            out.append(await asyncio.wait_for(got.get(), TIMEOUT))
            if keep:
                session = await wait(ticket)
                for later in connects:
                    later.setdefault("session", session)
            sock.destroy()
    finally:
        await shut(server)
    return out


async def test_a_psk_cipher_without_client_certificate_is_authorized() -> None:
    # Node: VerifyPeerCertificate answers X509_V_OK for a PSK-authenticated cipher
    # (PSK-AES128-GCM-SHA256): authorized true, authorizationError null. (Was false,
    # UNABLE_TO_GET_ISSUER_CERT.)
    cipher = {"ciphers": "PSK-AES128-GCM-SHA256", "max_version": "TLSv1.2"}
    [seen] = await _server_side(
        {**cipher, "psk_callback": lambda sock, ident: PSK, "request_cert": True,
         "reject_unauthorized": False},
        [{**cipher, "host": "127.0.0.1", "check_server_identity": lambda *a: None,
          "psk_callback": lambda hint: {"psk": PSK, "identity": "id"}}])
    assert seen == ("PSK-AES128-GCM-SHA256", False, True, None)


async def test_a_resumed_tls13_session_without_client_certificate_is_authorized(certs) -> None:
    # Node: a resumed TLS 1.3 session (TLS 1.3's PSK looks like a resumption) is X509_V_OK;
    # the full handshake without a certificate is UNABLE_TO_GET_ISSUER_CERT.
    client = {"ca": certs.root.cert_pem, "servername": "localhost", "min_version": "TLSv1.3"}
    first, second = await _server_side(
        {**certs.server.options, "request_cert": True, "reject_unauthorized": False},
        [{**client, "keep_session": True}, dict(client)])
    assert first[1:] == (False, False, "UNABLE_TO_GET_ISSUER_CERT")
    assert second[1:] == (True, True, None)


@pytest.mark.parametrize("serial", [0, -5])
async def test_a_peer_certificate_cryptography_warns_about_is_read_quietly(serial, capfd) -> None:
    # cryptography warns (CryptographyDeprecationWarning, a UserWarning, printed on stderr) when
    # it loads a certificate whose serial is not positive; Node and ssl show it without a word.
    cn = gen.name([("2.5.4.3", 12, b"localhost")])
    der = gen.build(serial=serial, subject=cn, issuer=cn)
    cert = (b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der)
            + b"-----END CERTIFICATE-----\n")
    key = gen._ISSUER_KEY.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        server, port = await listen({"cert": cert, "key": key})
        try:
            sock = await connect(port, ca=cert, servername="localhost")  # (identity check)
            assert sock.authorized is True
            assert sock.get_peer_certificate()["serialNumber"]
            sock.get_peer_certificate(True)
            assert sock.get_peer_x509_certificate() is not None  # (its .serial_number warns)
            sock.destroy()
            custom = await connect(port, ca=cert, servername="localhost",
                                   check_server_identity=lambda host, c: None)
            custom.destroy()
        finally:
            await shut(server)
    assert [(str(w.message), w.filename, w.lineno) for w in seen
            if issubclass(w.category, UserWarning)] == []
    assert capfd.readouterr().err == ""
