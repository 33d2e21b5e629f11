"""The ``x509_der`` harness: a peer's certificate bytes through every certificate reader.

A server (or a client presenting a certificate) controls these bytes. Byte 0 picks the host
name the identity check is asked about; the rest is the certificate's DER, given to

* ``certificate_to_dict`` (``getPeerCertificate()``), plain and ``detailed`` (with a fixed CA as
  the sent chain and as the trust store);
* ``identity_fields`` (the default identity check's input) and the DER walk under it,
  ``subject_and_san_der``;
* ``ssl_dict`` (``nodetls.aio``'s ``getpeercert()``);
* ``check_server_identity(host, identity_fields(der))`` (the default identity check).

The oracle, beyond :class:`fuzz.oracle.Baseline` (an empty OpenSSL error queue): only each
entry point's documented exceptions escape (``ValueError`` when OpenSSL cannot parse the
certificate; ``ValueError``/``IndexError`` from the DER walk; ``AltNameFormatError`` from the
identity check, which otherwise *returns* ``None`` or a ``CertificateError``); no OpenSSL
object the readers allocate is left (:mod:`fuzz.ossl_count`); and the readers agree:

* the three OpenSSL parses accept the same certificates (``certificate_to_dict`` plain and
  detailed, ``ssl_dict``), and the detailed dict is the plain one plus ``issuerCertificate``;
* **differential**: whenever OpenSSL's whole parse gives a dict, ``identity_fields`` gives exactly
  its ``subject`` and ``subjectaltname`` (present or absent alike), whatever path it took (the
  DER walk, or OpenSSL's whole parse when the walk gave up).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from cryptography import x509 as cx509
from cryptography.hazmat.primitives.serialization import Encoding

from nodetls._tls_identity import AltNameFormatError, check_server_identity
from nodetls._x509 import certificate_to_dict, identity_fields
from nodetls._x509_ossl import subject_and_san_der
from nodetls._x509_ssl import ssl_dict
from nodetls.errors import CertificateError

from . import peers
from .oracle import Baseline, OracleViolation
from .ossl_count import Counts, counting

HOSTS = ("localhost", "example.com", "www.example.com", "127.0.0.1", "::1", "0:0:0:0:0:0:0:1",
         "a.b.example.org", "xn--bcher-kva.example", "host.example.", "*.example.com")
_IDENTITY_KEYS = ("subject", "subjectaltname")


@functools.cache
def _ders() -> tuple[bytes, bytes]:
    """(CA, leaf) of :func:`fuzz.peers.pems` as DER."""
    ca, leaf, _ = peers.pems()
    return tuple(cx509.load_pem_x509_certificate(p).public_bytes(Encoding.DER)
                 for p in (ca, leaf))  # type: ignore[return-value]


def _parsed(fn: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    """``fn()``'s dict, ``None`` for the documented refusal (``ValueError``)."""
    try:
        out = fn()
    except ValueError:
        return None
    if not isinstance(out, dict):
        raise OracleViolation(f"a reader returned {type(out).__name__}, not a dict")
    return out


def _identity(host: str, fields: dict[str, Any]) -> None:
    try:
        result = check_server_identity(host, fields)
    except AltNameFormatError:
        return
    if result is not None and not isinstance(result, CertificateError):
        raise OracleViolation(f"check_server_identity returned {result!r}")


def _check_name(name: Any) -> None:
    if name is None:
        return
    for key, value in name.items():
        values = value if isinstance(value, list) else [value]
        if not isinstance(key, str) or not all(isinstance(v, str) for v in values):
            raise OracleViolation(f"name entry {key!r}: {value!r}")


def _without_issuer(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k != "issuerCertificate"}


def x509_der(data: bytes) -> None:
    if not data:
        return
    host = HOSTS[data[0] % len(HOSTS)]
    der = data[1:]
    ca, _ = _ders()
    base = Baseline()
    counts = Counts()
    with counting(counts):
        full = _parsed(lambda: certificate_to_dict(der))
        detailed = _parsed(lambda: certificate_to_dict(der, detailed=True,
                                                       issuer_chain=(der, ca), trusted=(ca,)))
        aio = _parsed(lambda: ssl_dict(der))
        ident = _parsed(lambda: identity_fields(der))
        try:
            subject_and_san_der(der)
        except (ValueError, IndexError):
            pass
        if ident is not None:
            _identity(host, ident)
    leaked = counts.leaked()
    if leaked:
        raise OracleViolation(f"OpenSSL objects left by the certificate readers: {leaked}")
    base.check()
    if (full is None) != (detailed is None) or (full is None) != (aio is None):
        raise OracleViolation(f"the OpenSSL parses disagree: plain {full is not None}, "
                              f"detailed {detailed is not None}, ssl {aio is not None}")
    if full is None:
        return
    if detailed is not None and _without_issuer(detailed) != full:
        raise OracleViolation("the detailed dict is not the plain one plus issuerCertificate")
    _check_name(full.get("subject"))
    _check_name(full.get("issuer"))
    want = {k: full[k] for k in _IDENTITY_KEYS if k in full}
    if ident != want:
        raise OracleViolation(f"identity_fields {ident!r} != OpenSSL's whole parse {want!r}")


HARNESSES: dict[str, Callable[[bytes], None]] = {"x509_der": x509_der}


def seeds() -> dict[str, list[bytes]]:
    """Genuine certificates of varied shapes (``tests/x509/gen.py``'s seeded generator: every
    name string type, v1 certificates, every subjectAltName kind, AIA, CRL distribution
    points, RSA/EC/EdDSA keys; ``hostile`` ones with what cryptography refuses), and the fuzz
    PKI's CA and leaf, each behind a host byte."""
    from tests.x509 import gen

    ca, leaf = _ders()
    certs = [ca, leaf] + [gen.generate(s) for s in range(14)] + \
        [gen.generate(s, hostile=True) for s in range(1_000_000, 1_000_004)]
    out = [bytes([i % len(HOSTS)]) + c for i, c in enumerate(certs)]
    # finding 17: a subjectAltName whose OID has a long-form length (BER, read by OpenSSL)
    subject = gen.name([("2.5.4.3", 12, b"evil.example")])
    san = gen.seq(b"\x06\x81\x03\x55\x1d\x11", gen.tlv(0x04, gen.seq(gen.tlv(0x82, b"good.example"))))
    out.append(b"\x00" + gen.build(issuer=subject, subject=subject, extensions=[san]))
    # finding 18: a CRL distribution point's relative name holding a UTF8String that is not
    # UTF-8 (OpenSSL 3.0's extension cache left a mark, and the error, on the queue)
    dp = gen.seq(gen.tlv(0xA0, gen.tlv(0xA1, gen.seq(gen.oid("2.5.4.3"),
                                                     gen.tlv(0x0C, b"c\x95l")))))
    name = gen.name([("2.5.4.3", 12, b"localhost")])
    out.append(b"\x00" + gen.build(issuer=name, subject=name,
                                   extensions=[gen.ext("2.5.29.31", gen.seq(dp))]))
    return {"x509_der": out}
