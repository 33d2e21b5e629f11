"""A certificate as Node's legacy certificate object (``tlsSocket.getPeerCertificate()``), built
from OpenSSL's own parse of it (:mod:`nodetls._x509_ossl`), as Node does.

Mirrors Node v20's C++ ``X509ToObject`` (``src/crypto/crypto_common.cc``) followed by
``translatePeerCertificate`` (``lib/_tls_common.js``), and ``GetPeerCert`` with
``AddIssuerChainToObject`` / ``GetLastIssuedCert`` for ``detailed=True``. Key order, key presence
and every string format match Node (checked against ``node`` in ``tests/x509`` and
``tests/test_x509_dict.py``):

* ``subject`` / ``issuer``: OpenSSL short names (``CN``, ``O``, ``emailAddress``, ``DC``...; the
  dotted OID when OpenSSL has no name), in certificate order, values by
  ``ASN1_STRING_to_UTF8`` (a T61String's or IA5String's bytes are Latin-1 characters); a
  repeated attribute becomes a list.
* ``subjectaltname``: ``'DNS:a, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1'`` -- IPv6 as
  eight upper-case groups, uncompressed; names with ``, " \\ '`` or control characters are quoted
  and JSON-escaped (Node's CVE-2021-44532 fix). Absent without the extension, ``None`` when
  OpenSSL cannot decode it.
* ``infoAccess``: ``{'OCSP - URI': [...], 'CA Issuers - URI': [...]}``; absent without AIA.
* ``ca``: ``X509_check_ca(cert) == 1``.
* RSA: ``modulus`` (upper hex), ``bits``, ``exponent`` (``'0x10001'``), ``pubkey`` (DER
  SubjectPublicKeyInfo). EC: ``bits`` (order bits), ``pubkey`` (the uncompressed EC point, even
  when the certificate has it compressed; *not* SPKI), ``asn1Curve``, ``nistCurve`` (only for
  NIST curves). Other key types (Ed25519...), or a key OpenSSL cannot decode: none of these.
* ``valid_from`` / ``valid_to``: ``ASN1_TIME_print``: ``'Mar  4 05:06:07 2025 GMT'``.
* ``fingerprint`` / ``fingerprint256`` / ``fingerprint512``: colon-separated upper hex of the
  digests of ``raw``.
* ``ext_key_usage``: dotted OIDs, absent without the extension. ``serialNumber``: ``BN_bn2hex``
  (upper hex, whole bytes: ``'05'``, ``'0102'``). ``raw``: DER (``i2d_X509``).

Node's ``Buffer`` values are ``bytes`` here; Node's null-prototype objects are plain ``dict``s.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from ._openssl import ffi, lib
from ._x509_names import info_access, name_object, names_string, subjectaltname
from ._x509_ossl import (
    EVP_PKEY_EC,
    EVP_PKEY_RSA,
    NID_EXT_KEY_USAGE,
    CertLike,
    Reader,
    curve_nist_name,
    errors_dropped,
    general_names_of_der,
    nid_name,
    opened,
    stack_items,
    subject_and_san_der,
    x509_name_of_der,
    x509_of,
)

__all__ = [
    "certificate_to_dict",
    "check_issued",
    "find_issuer",
    "identity_fields",
]

NULL = ffi.NULL
_WORD = (1 << 64) - 1


def _bn2hex(n: int) -> str:
    """``BN_bn2hex``: upper hex in whole bytes, leading zero bytes dropped, ``'0'`` for zero."""
    if n == 0:
        return "0"
    sign = "-" if n < 0 else ""
    n = abs(n)
    return sign + n.to_bytes((n.bit_length() + 7) // 8, "big").hex().upper()


def _der(tag: int, body: bytes) -> bytes:
    n = len(body)
    size = b"" if n < 0x80 else n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag]) + (bytes([0x80 | len(size)]) + size if size else bytes([n])) + body


def _der_uint(n: int) -> bytes:
    return _der(0x02, n.to_bytes(n.bit_length() // 8 + 1, "big"))  # (a leading 0 bit)


_RSA_ALGORITHM = bytes.fromhex("300d06092a864886f70d0101010500")  # rsaEncryption, NULL


def _rsa_spki(n: int, e: int) -> bytes:
    """``i2d_RSA_PUBKEY``: the SubjectPublicKeyInfo OpenSSL encodes for an RSA key
    (rsaEncryption with NULL parameters; the RSAPublicKey in DER), built here from ``n`` and
    ``e`` (OpenSSL 3's encoder takes ~0.1 ms)."""
    key = _der(0x30, _der_uint(n) + _der_uint(e))
    return _der(0x30, _RSA_ALGORITHM + _der(0x03, b"\x00" + key))


def _key_fields(r: Reader) -> dict[str, Any]:
    kind, pkey = r.key()
    if kind == EVP_PKEY_RSA:
        n, e = r.bn_param(pkey, b"n"), r.bn_param(pkey, b"e")
        if n is None or e is None:
            return {}
        return {
            "modulus": f"{n:X}",  # BN_print: upper hex, no leading zeros
            "bits": n.bit_length(),
            "exponent": f"0x{min(e, _WORD):x}",  # BN_get_word: all ones past one word
            "pubkey": _rsa_spki(n, e),  # i2d_RSA_PUBKEY
        }
    if kind != EVP_PKEY_EC:
        return {}
    fields: dict[str, Any] = {}
    bits = lib.EVP_PKEY_get_bits(pkey)  # (EC_GROUP_order_bits)
    if bits > 0:
        fields["bits"] = bits
    point = r.ec_point(pkey)
    if point is not None:
        fields["pubkey"] = point
    nid = r.ec_curve_nid(pkey)
    if nid:
        fields["asn1Curve"] = nid_name(nid, False)
        nist = curve_nist_name(nid)
        if nist is not None:
            fields["nistCurve"] = nist
    return fields


def _fingerprint(name: str, raw: bytes) -> str:
    return hashlib.new(name, raw).digest().hex(":").upper()


def _ext_key_usage(r: Reader) -> list[str] | None:
    with r.extension(NID_EXT_KEY_USAGE, False) as (_, oids):
        return None if oids is None else [r.obj_txt(o, 1) for o in oids]


def _x509_to_object(r: Reader) -> dict[str, Any]:
    """Node's ``X509ToObject`` + ``translatePeerCertificate`` for one certificate."""
    x = r.x
    info: dict[str, Any] = {}
    subject = name_object(r, lib.X509_get_subject_name(x))
    if subject is not None:
        info["subject"] = subject
    issuer = name_object(r, lib.X509_get_issuer_name(x))
    if issuer is not None:
        info["issuer"] = issuer
    present, san = subjectaltname(r)
    if present:
        info["subjectaltname"] = san
    present, aia = info_access(r)
    if present:
        info["infoAccess"] = aia
    info["ca"] = lib.X509_check_ca(x) == 1
    info.update(_key_fields(r))
    info["valid_from"] = r.time(True).decode("utf-8", "replace")
    info["valid_to"] = r.time(False).decode("utf-8", "replace")
    raw = r.der()
    info["fingerprint"] = _fingerprint("sha1", raw)
    info["fingerprint256"] = _fingerprint("sha256", raw)
    info["fingerprint512"] = _fingerprint("sha512", raw)
    eku = _ext_key_usage(r)
    if eku is not None:
        info["ext_key_usage"] = eku
    info["serialNumber"] = _bn2hex(r.serial())
    info["raw"] = raw
    return info


def _object_of(x: Any) -> dict[str, Any]:
    r = Reader(x)
    try:
        return _x509_to_object(r)
    finally:
        r.close()


def identity_fields(cert: CertLike) -> dict[str, Any]:
    """What Node's default ``checkServerIdentity`` reads of the peer's certificate: ``subject``
    and ``subjectaltname``, as :func:`certificate_to_dict` has them (nothing else is built).
    From DER, OpenSSL decodes only the subject and the subjectAltName extension, located by
    :func:`subject_and_san_der`; a certificate that is not in DER's own encoding (BER's other
    length forms, which OpenSSL also reads) goes through OpenSSL's whole parse instead.

    Raises:
        ValueError: OpenSSL cannot parse the certificate (given as DER).
    """
    if isinstance(cert, bytes | bytearray | memoryview):
        try:
            subject_der, san_der = subject_and_san_der(bytes(cert))
        except (ValueError, IndexError):
            pass  # (not a certificate's DER: d2i_X509 says so below)
        else:
            return _identity_of_parts(subject_der, san_der)
    with opened(cert) as r:
        out: dict[str, Any] = {}
        subject = name_object(r, lib.X509_get_subject_name(r.x))
        if subject is not None:
            out["subject"] = subject
        present, san = subjectaltname(r)
        if present:
            out["subjectaltname"] = san
        return out


def _identity_of_parts(subject_der: bytes, san_der: bytes | None) -> dict[str, Any]:
    with errors_dropped():
        return _identity_parts_read(subject_der, san_der)


def _identity_parts_read(subject_der: bytes, san_der: bytes | None) -> dict[str, Any]:
    r = Reader(NULL)
    xname = names = NULL
    try:
        out: dict[str, Any] = {}
        xname = x509_name_of_der(subject_der)
        subject = name_object(r, xname)
        if subject is not None:
            out["subject"] = subject
        if san_der is not None:
            names = general_names_of_der(san_der)
            out["subjectaltname"] = None if names == NULL else names_string(
                r, stack_items(names))
        return out
    finally:
        r.close()
        if names != NULL:
            lib.GENERAL_NAMES_free(names)
        if xname != NULL:
            lib.X509_NAME_free(xname)


def _issued(issuer: Any, subject: Any) -> bool:
    return bool(lib.X509_check_issued(issuer, subject) == 0)  # X509_V_OK


def check_issued(issuer: CertLike, subject: CertLike) -> bool:
    """OpenSSL's ``X509_check_issued(issuer, subject) == X509_V_OK``: names, key identifiers,
    the signature algorithm fits the issuer's key and the issuer's keyUsage (when present)
    allows keyCertSign; no signature check."""
    with opened(issuer) as ri, opened(subject) as rs:
        return _issued(ri.x, rs.x)


def find_issuer(cert: CertLike, candidates: Iterable[CertLike]) -> CertLike | None:
    """The first of ``candidates`` that issued ``cert`` (``X509_check_issued``, as Node's
    ``SSL_CTX_use_certificate_chain`` finds a context's issuer for ``'OCSPRequest'``), or
    ``None``; a candidate OpenSSL cannot parse is skipped."""
    with opened(cert) as r:
        for cand in candidates:
            try:
                with opened(cand) as rc:
                    if _issued(rc.x, r.x):
                        return cand
            except ValueError:  # (cannot be parsed)
                continue
        return None


def _store_issuer(store: Any, cert: Any) -> Any:
    """Node's ``SSL_CTX_get_issuer``: ``X509_STORE_CTX_get1_issuer`` over ``store`` (a new
    reference, or NULL)."""
    ctx = lib.X509_STORE_CTX_new()
    if ctx == NULL:
        return NULL
    out = ffi.new("X509 **")
    try:
        if lib.X509_STORE_CTX_init(ctx, store, NULL, NULL) == 1 and \
                lib.X509_STORE_CTX_get1_issuer(out, ctx, cert) == 1:
            return out[0]
        return NULL
    finally:
        lib.X509_STORE_CTX_free(ctx)


def certificate_to_dict(
    cert: CertLike,
    detailed: bool = False,
    issuer_chain: Iterable[CertLike] = (),
    trusted: Iterable[CertLike] = (),
) -> dict[str, Any]:
    """``cert`` as Node's ``tlsSocket.getPeerCertificate(detailed)`` object.

    Args:
        cert: the certificate: DER, an ``X509*`` (borrowed for the call: a connection's, no
            DER round trip) or a ``cryptography`` certificate.
        detailed: add ``issuerCertificate`` links, as Node's ``getPeerCertificate(true)``.
        issuer_chain: the certificates the peer sent (``SSL_get_peer_cert_chain``; the leaf
            itself may be included and is skipped). Issuers are taken from here first
            (Node's ``AddIssuerChainToObject``).
        trusted: the verifying context's trust store; the chain is completed from it
            (Node's ``GetLastIssuedCert``, ``SSL_CTX_get_issuer``).

    Returns:
        A new ``dict``. When ``detailed``, each certificate's ``issuerCertificate`` is its
        issuer's dict; a self-issued last certificate points to itself (the same dict object),
        and a chain that stops short of a self-issued certificate has no ``issuerCertificate``
        on its last element -- exactly as Node.

    Raises:
        ValueError: OpenSSL cannot parse a certificate given as DER.
    """
    with opened(cert) as r:
        result = _x509_to_object(r)
        if detailed:
            _add_issuers(r.x, result, issuer_chain, trusted)
        return result


def _add_issuers(leaf: Any, result: dict[str, Any], issuer_chain: Iterable[CertLike],
                 trusted: Iterable[CertLike]) -> None:
    owned: list[Any] = []  # every X509* parsed or referenced here: freed once, at the end
    store = NULL
    try:
        pool = []
        for c in issuer_chain:
            x, own = x509_of(c)
            if own:
                owned.append(x)
            if lib.X509_cmp(x, leaf) != 0:
                pool.append(x)
        current, current_obj = leaf, result
        # AddIssuerChainToObject: repeatedly take an issuer of the current cert out of the chain.
        while True:
            for i, cand in enumerate(pool):
                if _issued(cand, current):
                    obj = _object_of(cand)
                    current_obj["issuerCertificate"] = obj
                    current_obj, current = obj, pool.pop(i)
                    break
            else:
                break
        # GetLastIssuedCert: continue from the trust store until a self-issued certificate.
        trusted = list(trusted)
        if trusted:
            store = lib.X509_STORE_new()
            if store == NULL:
                raise MemoryError("OpenSSL: X509_STORE_new failed")
            for c in trusted:
                x, own = x509_of(c)
                lib.X509_STORE_add_cert(store, x)  # (takes its own reference)
                if own:
                    lib.X509_free(x)
            while not _issued(current, current):
                ca = _store_issuer(store, current)
                if ca == NULL:
                    break
                owned.append(ca)
                obj = _object_of(ca)
                current_obj["issuerCertificate"] = obj
                current_obj = obj
                # A self-signed certificate without keyCertSign: the store returns the very
                # object it was asked about (Node stops there).
                if ca == current:
                    break
                current = ca
        # "Last certificate should be self-signed": then it is its own issuerCertificate.
        if _issued(current, current):
            current_obj["issuerCertificate"] = current_obj
    finally:
        for x in owned:
            lib.X509_free(x)
        if store != NULL:
            lib.X509_STORE_free(store)
