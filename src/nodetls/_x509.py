"""A certificate as Node's legacy certificate object (``tlsSocket.getPeerCertificate()``).

Mirrors Node v20's C++ ``X509ToObject`` (``src/crypto/crypto_common.cc``) followed by
``translatePeerCertificate`` (``lib/_tls_common.js``), and ``GetPeerCert`` with
``AddIssuerChainToObject`` / ``GetLastIssuedCert`` for ``detailed=True``. Key order, key presence
and every string format match Node (checked against ``node`` in ``tests/test_x509_dict.py``):

* ``subject`` / ``issuer``: OpenSSL short names (``CN``, ``O``, ``emailAddress``, ``DC``...; the
  dotted OID when OpenSSL has no name), in certificate order; a repeated attribute becomes a list.
* ``subjectaltname``: ``'DNS:a, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1'`` -- IPv6 as
  eight upper-case groups, uncompressed; names with ``, " \\ '`` or control characters are quoted
  and JSON-escaped (Node's CVE-2021-44532 fix). Absent without the extension.
* ``infoAccess``: ``{'OCSP - URI': [...], 'CA Issuers - URI': [...]}``; absent without AIA.
* ``ca``: ``X509_check_ca(cert) == 1``.
* RSA: ``modulus`` (upper hex), ``bits``, ``exponent`` (``'0x10001'``), ``pubkey`` (DER
  SubjectPublicKeyInfo). EC: ``bits`` (order bits), ``pubkey`` (the uncompressed EC point, even
  when the certificate has it compressed; *not* SPKI), ``asn1Curve``, ``nistCurve`` (only for NIST curves). Other key types
  (Ed25519...): none of these keys.
* ``valid_from`` / ``valid_to``: ``ASN1_TIME_print``: ``'Mar  4 05:06:07 2025 GMT'`` (day padded
  with a space).
* ``fingerprint`` / ``fingerprint256`` / ``fingerprint512``: colon-separated upper hex.
* ``ext_key_usage``: dotted OIDs, absent without the extension. ``serialNumber``: ``BN_bn2hex``
  (upper hex, whole bytes: ``'05'``, ``'0102'``). ``raw``: DER.

Node's ``Buffer`` values are ``bytes`` here; Node's null-prototype objects are plain ``dict``s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeAlias

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtensionOID

from ._x509_names import (
    _attr_value,
    _extension,
    _info_access,
    _subjectaltname_field,
    format_subjectaltname,
    name_to_dict,
    quiet,
    short_name,
)

__all__ = [
    "certificate_to_dict",
    "check_issued",
    "name_to_dict",
    "format_subjectaltname",
    "format_time",
    "short_name",
]

CertLike: TypeAlias = "x509.Certificate | bytes | bytearray | memoryview"

# -- keys, times, digests ----------------------------------------------------------------------

# asn1Curve is OBJ_nid2sn of the curve; cryptography's names differ only for the X9.62 primes.
_CURVE_SN = {"secp192r1": "prime192v1", "secp256r1": "prime256v1"}
# EC_curve_nid2nist.
_NIST = {
    "secp192r1": "P-192", "secp224r1": "P-224", "secp256r1": "P-256", "secp384r1": "P-384",
    "secp521r1": "P-521", "sect163k1": "K-163", "sect233k1": "K-233", "sect283k1": "K-283",
    "sect409k1": "K-409", "sect571k1": "K-571", "sect163r2": "B-163", "sect233r1": "B-233",
    "sect283r1": "B-283", "sect409r1": "B-409", "sect571r1": "B-571",
}
# EC_GROUP_order_bits where it differs from the field size cryptography reports.
_ORDER_BITS = {"secp224k1": 225, "sect163k1": 163, "sect163r2": 163, "sect233k1": 232,
               "sect283k1": 281, "sect409k1": 407, "sect571k1": 570}

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_time(when: datetime) -> str:
    """``ASN1_TIME_print``: ``'Mar  4 05:06:07 2025 GMT'`` (day padded with a space)."""
    when = when.astimezone(UTC) if when.tzinfo else when
    return (f"{_MONTHS[when.month - 1]} {when.day:2d} "
            f"{when.hour:02d}:{when.minute:02d}:{when.second:02d} {when.year} GMT")


def _colon_hex(data: bytes) -> str:
    return ":".join(f"{b:02X}" for b in data)


def _bn2hex(n: int) -> str:
    """``BN_bn2hex``: upper hex in whole bytes, leading zero bytes dropped, ``'0'`` for zero."""
    if n == 0:
        return "0"
    sign = "-" if n < 0 else ""
    n = abs(n)
    return sign + n.to_bytes((n.bit_length() + 7) // 8, "big").hex().upper()


def _key_fields(cert: x509.Certificate) -> dict[str, Any]:
    try:
        key = cert.public_key()
    except Exception:
        return {}
    spki = key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        return {
            "modulus": f"{numbers.n:X}",  # BN_print: upper hex, no leading zeros
            "bits": numbers.n.bit_length(),
            "exponent": f"0x{numbers.e:x}",
            "pubkey": spki,  # i2d_RSA_PUBKEY
        }
    if isinstance(key, ec.EllipticCurvePublicKey):
        curve = key.curve.name
        fields: dict[str, Any] = {
            "bits": _ORDER_BITS.get(curve, key.curve.key_size),
            # The uncompressed point, also when the certificate has it compressed (Node v20's
            # ECPointToBuffer asks for the key's conversion form, which its OpenSSL 3 key
            # decoding always leaves at POINT_CONVERSION_UNCOMPRESSED).
            "pubkey": key.public_bytes(serialization.Encoding.X962,
                                       serialization.PublicFormat.UncompressedPoint),
            "asn1Curve": _CURVE_SN.get(curve, curve),
        }
        if curve in _NIST:
            fields["nistCurve"] = _NIST[curve]
        return fields
    return {}


def _is_ca(cert: x509.Certificate) -> bool:
    """``X509_check_ca(cert) == 1``: basicConstraints CA:TRUE, and keyUsage (when present)
    allowing keyCertSign."""
    bc = _extension(cert, ExtensionOID.BASIC_CONSTRAINTS)
    if bc is None or not bc.ca:
        return False
    ku = _extension(cert, ExtensionOID.KEY_USAGE)
    return ku is None or bool(ku.key_cert_sign)


def _ext_key_usage(cert: x509.Certificate) -> list[str] | None:
    eku = _extension(cert, ExtensionOID.EXTENDED_KEY_USAGE)
    if eku is None:
        return None
    return [oid.dotted_string for oid in eku]


def _x509_to_object(cert: x509.Certificate) -> dict[str, Any]:
    """Node's ``X509ToObject`` + ``translatePeerCertificate`` for one certificate."""
    with quiet():
        return _x509_fields(cert)


def _x509_fields(cert: x509.Certificate) -> dict[str, Any]:
    info: dict[str, Any] = {
        "subject": name_to_dict(cert.subject),
        "issuer": name_to_dict(cert.issuer),
    }
    has_san, san = _subjectaltname_field(cert)
    if has_san:
        info["subjectaltname"] = san
    aia = _info_access(cert)
    if aia is not None:
        info["infoAccess"] = aia
    info["ca"] = _is_ca(cert)
    info.update(_key_fields(cert))
    info["valid_from"] = format_time(cert.not_valid_before_utc)
    info["valid_to"] = format_time(cert.not_valid_after_utc)
    info["fingerprint"] = _colon_hex(cert.fingerprint(hashes.SHA1()))
    info["fingerprint256"] = _colon_hex(cert.fingerprint(hashes.SHA256()))
    info["fingerprint512"] = _colon_hex(cert.fingerprint(hashes.SHA512()))
    eku = _ext_key_usage(cert)
    if eku is not None:
        info["ext_key_usage"] = eku
    info["serialNumber"] = _bn2hex(cert.serial_number)
    info["raw"] = cert.public_bytes(serialization.Encoding.DER)
    return info


# -- issuer chains -----------------------------------------------------------------------------


def _canon_name(name: x509.Name) -> tuple[tuple[tuple[str, str], ...], ...]:
    # X509_NAME_cmp compares canonical encodings: values trimmed, inner whitespace collapsed,
    # ASCII lower-cased; RDN structure kept.
    return tuple(
        tuple(sorted((a.oid.dotted_string, " ".join(_attr_value(a).split()).lower())
                     for a in rdn))
        for rdn in name.rdns)


_SIG_FAMILY = {
    "1.2.840.113549.1.1": "rsa",   # sha*WithRSAEncryption, rsassaPss (pkey rsaEncryption)
    "1.2.840.10045.4": "ec",       # ecdsa-with-*
    "1.3.101.112": "ed25519",
    "1.3.101.113": "ed448",
    "1.2.840.10040.4": "dsa",
}


def _sig_family(cert: x509.Certificate) -> str | None:
    oid = cert.signature_algorithm_oid.dotted_string
    if oid.startswith("2.16.840.1.101.3.4.3."):  # NIST arc: dsa (1-8), ecdsa (9-12), rsa (13-16)
        arc = int(oid.rsplit(".", 1)[1])
        return "dsa" if arc <= 8 else "ec" if arc <= 12 else "rsa"
    for prefix, family in _SIG_FAMILY.items():
        if oid == prefix or oid.startswith(prefix + "."):
            return family
    return None


def _key_family(cert: x509.Certificate) -> str | None:
    oid = cert.public_key_algorithm_oid.dotted_string
    return {
        "1.2.840.113549.1.1.1": "rsa", "1.2.840.113549.1.1.10": "rsa",
        "1.2.840.10045.2.1": "ec", "1.3.101.112": "ed25519", "1.3.101.113": "ed448",
        "1.2.840.10040.4.1": "dsa",
    }.get(oid)


def check_issued(issuer: x509.Certificate, subject: x509.Certificate, *,
                 check_signing: bool = True) -> bool:
    """OpenSSL's ``X509_check_issued(issuer, subject) == X509_V_OK`` (no signature check).

    Names match, the subject's authorityKeyIdentifier (when present) matches the issuer, the
    subject's signature algorithm fits the issuer's key type, and -- with ``check_signing`` --
    the issuer's keyUsage (when present) allows keyCertSign. ``check_signing=False`` is
    ``ossl_x509_likely_issued``, the test a trust-store lookup uses.
    """
    if _canon_name(issuer.subject) != _canon_name(subject.issuer):
        return False
    akid = _extension(subject, ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    if akid is not None:
        skid = _extension(issuer, ExtensionOID.SUBJECT_KEY_IDENTIFIER)
        if akid.key_identifier is not None and skid is not None and (
                akid.key_identifier != skid.digest):
            return False
        serial = akid.authority_cert_serial_number
        if serial is not None and serial != issuer.serial_number:
            return False
        if akid.authority_cert_issuer:
            dirnames = [gn.value for gn in akid.authority_cert_issuer
                        if isinstance(gn, x509.DirectoryName)]
            if dirnames and not any(_canon_name(d) == _canon_name(issuer.issuer)
                                    for d in dirnames):
                return False
    sig, key = _sig_family(subject), _key_family(issuer)
    if sig is not None and key is not None and sig != key:
        return False
    if check_signing:
        ku = _extension(issuer, ExtensionOID.KEY_USAGE)
        if ku is not None and not ku.key_cert_sign:
            return False
    return True


def _load(cert: CertLike) -> x509.Certificate:
    if isinstance(cert, x509.Certificate):
        return cert
    return x509.load_der_x509_certificate(bytes(cert))


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _time_valid(cert: x509.Certificate, now: datetime) -> bool:
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


def _store_issuer(cert: x509.Certificate,
                  trusted: Sequence[x509.Certificate]) -> x509.Certificate | None:
    # X509_STORE_CTX_get1_issuer: the first likely issuer whose validity covers now, else the
    # matching one that expires last.
    now = datetime.now(UTC)
    best: x509.Certificate | None = None
    for ca in trusted:
        if not check_issued(ca, cert, check_signing=False):
            continue
        if _time_valid(ca, now):
            return ca
        if best is None or ca.not_valid_after_utc > best.not_valid_after_utc:
            best = ca
    return best


def certificate_to_dict(
    cert: CertLike,
    detailed: bool = False,
    issuer_chain: Iterable[CertLike] = (),
    trusted: Iterable[CertLike] = (),
) -> dict[str, Any]:
    """``cert`` as Node's ``tlsSocket.getPeerCertificate(detailed)`` object.

    Args:
        cert: the certificate (``cryptography`` object or DER).
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
    """
    leaf = _load(cert)
    result = _x509_to_object(leaf)
    if not detailed:
        return result

    leaf_der = _der(leaf)
    pool = [c for c in (_load(c) for c in issuer_chain) if _der(c) != leaf_der]
    current, current_obj = leaf, result
    # AddIssuerChainToObject: repeatedly take an issuer of the current cert out of the chain.
    while True:
        for i, cand in enumerate(pool):
            if check_issued(cand, current):
                obj = _x509_to_object(cand)
                current_obj["issuerCertificate"] = obj
                current_obj, current = obj, pool.pop(i)
                break
        else:
            break
    # GetLastIssuedCert: continue from the trust store until a self-issued certificate.
    store = [_load(c) for c in trusted]
    from_store = False
    for _ in range(len(store) + 2):
        if check_issued(current, current):
            break
        ca = _store_issuer(current, store)
        if ca is None:
            break
        obj = _x509_to_object(ca)
        current_obj["issuerCertificate"] = obj
        current_obj = obj
        # Node stops when the store returns the very object it is looking at (a self-signed
        # certificate without keyCertSign). A peer certificate is never the store's object, so
        # a trusted copy of the peer's own certificate appears twice, as in Node.
        if from_store and ca is current:
            break
        current, from_store = ca, True
    # "Last certificate should be self-signed": then it is its own issuerCertificate.
    if check_issued(current, current):
        current_obj["issuerCertificate"] = current_obj
    return result
