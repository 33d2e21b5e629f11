"""The default identity check's DER walk (``subject_and_san_der``) agrees with OpenSSL.

Found by the ``x509_der`` fuzz harness's differential (docs/fuzzing.md): ``identity_fields``
locates the subject and the subjectAltName in the certificate's DER by hand, and compared the
extension's OID as bytes, DER's encoding of it. OpenSSL also reads BER's other length forms
(a long-form length for a short one, leading zero octets), and keeps the TBS bytes it was sent
(``i2d_X509`` of a peer's certificate gives them back), so a certificate whose subjectAltName
OID is ``06 81 03 55 1d 11`` has a subjectAltName for OpenSSL -- and for Node, whose
``checkServerIdentity`` then rejects a host named only by the CN -- while the walk found none
and the identity check fell back to the CN: ``evil.example`` matched a certificate issued to
``good.example``. The walk now gives up on anything but DER's own encoding, and OpenSSL's
whole parse answers (node v20, given the same certificate, prints
``subjectaltname: 'DNS:good.example'`` and rejects ``evil.example`` with
``ERR_TLS_CERT_ALTNAME_INVALID``).
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

import nodetls as tls
from nodetls._tls_identity import check_server_identity
from nodetls._x509 import certificate_to_dict, identity_fields

from .gen import _ISSUER_KEY, build, ext, name, oid, seq, tlv

TIMEOUT = 10.0
UTF8 = 12
SAN_OID = "2.5.29.17"
_CA_NAME = name([("2.5.4.3", UTF8, b"walk CA")])
_SUBJECT = name([("2.5.4.3", UTF8, b"evil.example")])
_NAMES = seq(tlv(0x82, b"good.example"))


def _long(tag: int, content: bytes, size: int = 1) -> bytes:
    """A BER element whose (short) length is written in long form over ``size`` octets."""
    return bytes([tag, 0x80 | size]) + len(content).to_bytes(size, "big") + content


# subjectAltName extensions OpenSSL reads, in BER that is not DER
VARIANTS = {
    "oid length in long form": seq(_long(0x06, oid(SAN_OID)[2:]), tlv(0x04, _NAMES)),
    "oid length with a leading zero": seq(_long(0x06, oid(SAN_OID)[2:], 2), tlv(0x04, _NAMES)),
    "value length in long form": seq(oid(SAN_OID), _long(0x04, _NAMES)),
    "extension length in long form": _long(0x30, oid(SAN_OID) + tlv(0x04, _NAMES)),
    "DER (the control)": ext(SAN_OID, _NAMES),
}


def _leaf(extension: bytes, subject: bytes = _SUBJECT) -> bytes:
    return build(serial=7, issuer=_CA_NAME, subject=subject, extensions=[extension])


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_identity_fields_are_openssls_whatever_the_length_encoding(variant: str) -> None:
    der = _leaf(VARIANTS[variant])
    full = certificate_to_dict(der)
    assert full["subjectaltname"] == "DNS:good.example"  # (OpenSSL, as Node)
    assert identity_fields(der) == {"subject": {"CN": "evil.example"},
                                    "subjectaltname": "DNS:good.example"}
    err = check_server_identity("evil.example", identity_fields(der))
    assert err is not None and err.code == "ERR_TLS_CERT_ALTNAME_INVALID"
    assert check_server_identity("good.example", identity_fields(der)) is None


def test_a_subject_with_a_long_form_length_is_read_as_openssl_reads_it() -> None:
    subject = _long(0x30, _SUBJECT[2:])
    der = _leaf(ext(SAN_OID, seq(tlv(0x82, b"a.example"))), subject=subject)
    full = certificate_to_dict(der)
    assert identity_fields(der) == {k: full[k] for k in ("subject", "subjectaltname")}
    assert full["subject"] == {"CN": "evil.example"}


# -- over a connection: the client's default identity check ----------------------------------

def _pem(der: bytes) -> bytes:
    return (b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der)
            + b"-----END CERTIFICATE-----\n")


CA = _pem(build(serial=1, issuer=_CA_NAME, subject=_CA_NAME,
                extensions=[ext("2.5.29.19", seq(tlv(0x01, b"\xff")), critical=True)]))
KEY = _ISSUER_KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())


async def _handshake(cert: bytes, servername: str) -> Any:
    server = tls.create_server({"key": KEY, "cert": _pem(cert)}, lambda s: s.end())
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, TIMEOUT)
    try:
        sock = await asyncio.wait_for(tls.connect(server.address()["port"], {
            "host": "127.0.0.1", "servername": servername, "ca": CA}), TIMEOUT)
        sock.destroy()
        return sock.authorized
    except Exception as exc:  # (the client's 'error')
        return getattr(exc, "code", exc)
    finally:
        server.close()


async def test_a_peer_certificate_with_a_ber_encoded_san_oid_is_not_matched_by_its_cn() -> None:
    cert = _leaf(VARIANTS["oid length in long form"])
    assert await _handshake(cert, "good.example") is True
    assert await _handshake(cert, "evil.example") == "ERR_TLS_CERT_ALTNAME_INVALID"
