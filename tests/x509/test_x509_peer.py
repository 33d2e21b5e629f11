"""A TLS peer whose certificate ``cryptography`` refuses, end to end over loopback.

The server's certificate holds a PrintableString with ``@`` and ``&`` in its names (refused by
cryptography 50 and 51) and a DirName with one in its subjectAltName (51 drops every
extension). Node and ``ssl`` connect to it, verify it and show it; so must nodetls: the default
identity check, ``get_peer_certificate()`` (short and detailed), ``getpeercert()`` and a
failing identity check's error all read it through OpenSSL.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

import nodetls as tls
from nodetls._x509 import certificate_to_dict
from nodetls.aio._sslobject import SSLObjectView, ssl_style_cert

from .cases import IA5, PRINTABLE, SAN, _dirname
from .gen import _ISSUER_KEY, build, ext, name, seq, tlv

TIMEOUT = 10.0
_NAME = name([("2.5.4.3", PRINTABLE, b"localhost")], [("2.5.4.10", PRINTABLE, b"A&B @ C")],
             [("1.2.840.113549.1.9.1", IA5, "ü@x".encode())])
#: self-signed by gen's fixed key (its public key is the certificate's)
DER = build(subject=_NAME, issuer=_NAME, extensions=[
    ext("2.5.29.19", seq(tlv(0x01, b"\xff"))),
    ext(SAN, seq(tlv(0x82, b"localhost"), _dirname([("2.5.4.3", PRINTABLE, b"a@b")])))])
CERT_PEM = ("-----BEGIN CERTIFICATE-----\n" + __import__("base64").encodebytes(DER).decode()
            + "-----END CERTIFICATE-----\n").encode()
KEY_PEM = _ISSUER_KEY.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())

async def _server() -> tuple[tls.Server, int]:
    def on_secure(sock: tls.TLSSocket) -> None:
        sock.on("data", lambda _chunk: None)
        sock.end()

    server = tls.create_server({"key": KEY_PEM, "cert": CERT_PEM}, on_secure)
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, TIMEOUT)
    return server, server.address()["port"]


async def _connect(port: int, **opts: Any) -> tls.TLSSocket:
    return await asyncio.wait_for(
        tls.connect(port, {"host": "127.0.0.1", "ca": CERT_PEM, **opts}), TIMEOUT)


async def test_a_peer_certificate_cryptography_refuses() -> None:
    server, port = await _server()
    try:
        sock = await _connect(port, servername="localhost")
        try:
            assert sock.authorized is True  # (the default identity check passed)
            peer = sock.get_peer_certificate()
            assert peer == certificate_to_dict(DER)
            assert peer["subject"]["O"] == "A&B @ C"
            assert peer["subjectaltname"] == "DNS:localhost, DirName:CN=a@b"
            detailed = sock.get_peer_certificate(True)
            assert detailed["issuerCertificate"] is detailed  # self-signed
            assert SSLObjectView(sock).getpeercert() == ssl_style_cert(DER)
            assert SSLObjectView(sock).getpeercert(True) == DER
        finally:
            sock.destroy()
    finally:
        server.close()


async def test_the_identity_check_fails_with_nodes_error() -> None:
    server, port = await _server()
    try:
        with pytest.raises(Exception) as info:
            sock = await _connect(port, servername="example.com")
            sock.destroy()
        assert getattr(info.value, "code", None) == "ERR_TLS_CERT_ALTNAME_INVALID"
        assert getattr(info.value, "cert", {}).get("raw") == DER
    finally:
        server.close()
