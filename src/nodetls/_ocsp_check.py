"""Checking an OCSP response as a client (or a careful server) should: pure ``cryptography``.

Used by :mod:`nodetls.ocsp` (the stapler validates what it fetches, ``verify_response``) and by
``tls.connect(..., ocsp=...)`` (the client validates the staple before ``'secureConnect'``). No
asyncio, no OpenSSL binding: it sits beside ``_tls_identity`` under every layer that needs it.

A response is accepted when (RFC 6960 §3.2, and what Caddy/certmagic add):

* it parses, its ``responseStatus`` is ``successful`` and it is a basic response;
* one of its single responses carries the certificate's ``CertID`` (serial, issuer name hash and
  issuer key hash under the hash algorithm the response uses);
* it is signed by the issuer, or by a delegated responder whose certificate is in the response,
  was issued by the issuer, carries the OCSP-signing extended key usage and is valid now;
* ``this_update`` is not in the future (``CLOCK_SKEW`` of leeway), ``next_update`` has not passed,
  and ``next_update`` is not after the certificate's ``not_valid_after``.

Failures raise :class:`OCSPError`: ``reason`` says precisely what was wrong, ``code`` is one of the
``ERR_TLS_OCSP_*`` codes of ``REASON_CODES``.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, SignatureAlgorithmOID

from .errors import NodeError

__all__ = ["OCSPError", "Checked", "REASON_CODES", "CLOCK_SKEW", "check_response",
           "verify_response", "load_certificate", "find_issuer", "check_staple"]

#: Leeway for a responder whose clock runs ahead of ours (``this_update`` slightly in the future).
CLOCK_SKEW = _dt.timedelta(minutes=5)

#: ``OCSPError.reason`` -> ``OCSPError.code``.
REASON_CODES: dict[str, str] = {
    "missing": "ERR_TLS_OCSP_MISSING",
    "malformed": "ERR_TLS_OCSP_MALFORMED",
    "unsuccessful": "ERR_TLS_OCSP_MALFORMED",
    "wrong-certificate": "ERR_TLS_OCSP_WRONG_CERTIFICATE",
    "bad-signature": "ERR_TLS_OCSP_BAD_SIGNATURE",
    "unknown-issuer": "ERR_TLS_OCSP_BAD_SIGNATURE",
    "stale": "ERR_TLS_OCSP_STALE",
    "not-yet-valid": "ERR_TLS_OCSP_STALE",
    "outlives-certificate": "ERR_TLS_OCSP_STALE",
    "revoked": "ERR_TLS_OCSP_REVOKED",
    "unknown": "ERR_TLS_OCSP_UNKNOWN",
    # The stapler's fetch failures (never a client's).
    "no-url": "ERR_OCSP_NO_URL",
    "unreachable": "ERR_OCSP_FETCH_FAILED",
    "timeout": "ERR_OCSP_FETCH_FAILED",
}


class OCSPError(NodeError):
    """An OCSP response was missing, invalid, stale, revoked, or could not be fetched.

    ``reason`` is one of the keys of ``REASON_CODES`` (``'stale'``, ``'bad-signature'``...),
    ``code`` the matching ``ERR_TLS_OCSP_*``/``ERR_OCSP_*`` code.
    """

    code = "ERR_TLS_OCSP_MALFORMED"
    reason: str = "malformed"

    def __init__(self, reason: str, message: str, **fields: Any) -> None:
        super().__init__(message, REASON_CODES.get(reason, "ERR_TLS_OCSP_MALFORMED"),
                         reason=reason, **fields)


@dataclass(frozen=True)
class Checked:
    """A response that passed every check (its status may still be revoked/unknown)."""

    der: bytes
    status: str                      # 'good' | 'revoked' | 'unknown'
    this_update: _dt.datetime
    next_update: _dt.datetime | None
    produced_at: _dt.datetime
    revocation_time: _dt.datetime | None


_STATUS = {ocsp.OCSPCertStatus.GOOD: "good", ocsp.OCSPCertStatus.REVOKED: "revoked",
           ocsp.OCSPCertStatus.UNKNOWN: "unknown"}


def load_certificate(value: Any, name: str = "cert") -> x509.Certificate:
    """A certificate from an ``x509.Certificate``, DER bytes or PEM bytes/str."""
    if isinstance(value, x509.Certificate):
        return value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        try:
            if data.lstrip().startswith(b"-----BEGIN"):
                return x509.load_pem_x509_certificate(data)
            return x509.load_der_x509_certificate(data)
        except (ValueError, x509.InvalidVersion) as exc:  # (InvalidVersion: a v2 certificate)
            raise ValueError(f"{name} is not a valid certificate: {exc}") from None
    raise TypeError(f"{name} must be an x509.Certificate, DER or PEM, got {type(value).__name__}")


def _utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def _fmt(when: _dt.datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%SZ")


def _aware(when: _dt.datetime) -> _dt.datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=_dt.UTC)


def _key_hash(cert: x509.Certificate) -> bytes:
    # SHA-1 of the subjectPublicKey BIT STRING: RFC 5280's key identifier method 1, which is
    # also what a byKey ResponderID carries.
    return x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    # cryptography decodes a name when it is first asked for: one it cannot decode (a
    # UTF8String that is not UTF-8: ValueError; a BIT STRING value: TypeError) raises here.
    try:
        if cert.issuer != issuer.subject:
            return False
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def find_issuer(cert: x509.Certificate, candidates: list[x509.Certificate]) -> x509.Certificate | None:
    """The certificate among ``candidates`` (or ``cert`` itself, when self-signed) that issued
    ``cert``."""
    for cand in [*candidates, cert]:
        if _issued_by(cert, cand):
            return cand
    return None


def _verify_signature(resp: ocsp.OCSPResponse, signer: x509.Certificate) -> None:
    key = signer.public_key()
    sig, data = resp.signature, resp.tbs_response_bytes
    try:
        algo = resp.signature_hash_algorithm
    except UnsupportedAlgorithm:  # a signature algorithm OID cryptography does not know
        raise OCSPError("bad-signature", "unsupported OCSP signature algorithm "
                        f"{resp.signature_algorithm_oid.dotted_string}") from None
    try:
        if isinstance(key, rsa.RSAPublicKey) and algo is not None:
            if resp.signature_algorithm_oid == SignatureAlgorithmOID.RSASSA_PSS:
                pad: padding.AsymmetricPadding = padding.PSS(padding.MGF1(algo),
                                                             padding.PSS.AUTO)
            else:
                pad = padding.PKCS1v15()
            key.verify(sig, data, pad, algo)
        elif isinstance(key, ec.EllipticCurvePublicKey) and algo is not None:
            key.verify(sig, data, ec.ECDSA(algo))
        elif isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            key.verify(sig, data)
        elif isinstance(key, dsa.DSAPublicKey) and algo is not None:
            key.verify(sig, data, algo)
        else:
            raise OCSPError("bad-signature", "unsupported OCSP signature algorithm")
    except InvalidSignature:
        raise OCSPError("bad-signature", "the OCSP response signature does not verify with "
                        f"the key of {_subject_text(signer)}") from None


# What cryptography raises for a name it cannot decode: ValueError, or TypeError for an
# attribute of a type it does not allow there (a BIT STRING value under an OID other than
# x500UniqueIdentifier).
_NAME_ERRORS = (ValueError, TypeError)


def _subject_text(cert: x509.Certificate) -> str:
    """``cert``'s subject for a message (a responder's certificate: the response's bytes)."""
    try:
        return repr(cert.subject.rfc4514_string())
    except _NAME_ERRORS:
        return "(a subject that does not parse)"


def _signer(resp: ocsp.OCSPResponse, issuer: x509.Certificate,
            now: _dt.datetime) -> x509.Certificate:
    """The certificate whose key must have signed ``resp``: the issuer, or a delegated responder
    (RFC 6960 §4.2.2.2) that the issuer authorised."""
    try:
        name, key_hash = resp.responder_name, resp.responder_key_hash
    except _NAME_ERRORS:
        raise OCSPError("malformed", "the OCSP response's responder name does not parse") \
            from None

    def named(c: x509.Certificate) -> bool:
        # A certificate in the response whose name or key cannot be read names nobody.
        try:
            return (name is not None and c.subject == name) or \
                (key_hash is not None and _key_hash(c) == key_hash)
        except (*_NAME_ERRORS, UnsupportedAlgorithm):
            return False

    if named(issuer):
        return issuer
    for cand in resp.certificates:
        if not named(cand):
            continue
        if not _issued_by(cand, issuer):
            raise OCSPError("bad-signature", "the OCSP responder's certificate "
                            f"{_subject_text(cand)} was not issued by the certificate's issuer")
        try:
            eku = cand.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            eku = None
        if eku is None or ExtendedKeyUsageOID.OCSP_SIGNING not in eku:
            raise OCSPError("bad-signature", "the OCSP responder's certificate "
                            f"{_subject_text(cand)} lacks the OCSP-signing extended key usage")
        if not cand.not_valid_before_utc <= now <= cand.not_valid_after_utc:
            raise OCSPError("bad-signature", "the OCSP responder's certificate is not valid now")
        return cand
    raise OCSPError("bad-signature", "the OCSP response is signed by a responder the "
                    "certificate's issuer did not authorise")


def _single_for(resp: ocsp.OCSPResponse, cert: x509.Certificate,
                issuer: x509.Certificate) -> ocsp.OCSPSingleResponse:
    for single in resp.responses:
        if single.serial_number != cert.serial_number:
            continue
        try:
            req = ocsp.OCSPRequestBuilder().add_certificate(
                cert, issuer, single.hash_algorithm).build()
        except (ValueError, UnsupportedAlgorithm):
            continue
        if single.issuer_key_hash == req.issuer_key_hash and \
                single.issuer_name_hash == req.issuer_name_hash:
            return single
    raise OCSPError("wrong-certificate", "the OCSP response is not about certificate serial "
                    f"{cert.serial_number:X} of {_subject_text(issuer)}")


def check_response(response: bytes, cert: x509.Certificate, issuer: x509.Certificate, *,
                   now: _dt.datetime | None = None) -> Checked:
    """Every check of the module docstring; the accepted response, or :class:`OCSPError`."""
    now = _aware(now) if now is not None else _utcnow()
    try:
        resp = ocsp.load_der_ocsp_response(response)
    except ValueError as exc:
        raise OCSPError("malformed", f"the OCSP response does not parse: {exc}") from None
    if resp.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise OCSPError("unsuccessful", "the OCSP responder answered "
                        f"{resp.response_status.name.lower()!r}")
    try:
        single = _single_for(resp, cert, issuer)
        _verify_signature(resp, _signer(resp, issuer, now))
        this_update, next_update = single.this_update_utc, single.next_update_utc
        produced_at = resp.produced_at_utc
        status = _STATUS[single.certificate_status]
        revoked_at = single.revocation_time_utc if status == "revoked" else None
    except (ValueError, KeyError, UnsupportedAlgorithm) as exc:
        raise OCSPError("malformed", f"the OCSP response is malformed: {exc}") from None
    if this_update > now + CLOCK_SKEW:
        raise OCSPError("not-yet-valid", f"the OCSP response's this_update ({_fmt(this_update)}) "
                        "is in the future")
    if next_update is not None and next_update <= now:
        raise OCSPError("stale", f"the OCSP response's next_update ({_fmt(next_update)}) "
                        "has passed")
    if next_update is not None and next_update > cert.not_valid_after_utc:
        raise OCSPError("outlives-certificate", "the OCSP response's next_update is after "
                        "the certificate expires")
    return Checked(bytes(response), status, this_update, next_update, produced_at, revoked_at)


def verify_response(response: bytes, cert: Any, issuer: Any, *,
                    now: _dt.datetime | None = None) -> str:
    """Check a DER OCSP response for ``cert`` issued by ``issuer`` as a client should.

    Beyond Node (which hands the raw staple to ``'OCSPResponse'`` and checks nothing).
    ``cert``/``issuer`` are ``x509.Certificate`` objects, DER or PEM; ``now`` (aware or UTC)
    defaults to the current time.

    Returns:
        ``'good'``, ``'revoked'`` or ``'unknown'``: the status of a valid response.

    Raises:
        OCSPError: ``reason`` ``'malformed'``, ``'unsuccessful'``, ``'wrong-certificate'``,
            ``'bad-signature'``, ``'not-yet-valid'``, ``'stale'`` or ``'outlives-certificate'``.
    """
    if not isinstance(response, (bytes, bytearray, memoryview)):
        raise TypeError(f"response must be bytes (DER), got {type(response).__name__}")
    return check_response(bytes(response), load_certificate(cert, "cert"),
                          load_certificate(issuer, "issuer"), now=now).status


def check_staple(staple: bytes | None, chain_der: list[bytes], *,
                 now: _dt.datetime | None = None) -> tuple[Checked | None, OCSPError | None]:
    """What a client makes of the staple on a connection whose peer chain (leaf first, as sent
    or as verified) is ``chain_der``: ``(checked, error)``. A missing staple is
    ``(None, OCSPError('missing'))``; a revoked or unknown status is ``(checked, error)``."""
    if not staple:
        return None, OCSPError("missing", "the server stapled no OCSP response")
    if not chain_der:
        return None, OCSPError("unknown-issuer", "the server sent no certificate")
    try:
        chain = [x509.load_der_x509_certificate(d) for d in chain_der]
    except (ValueError, x509.InvalidVersion) as exc:  # OpenSSL accepts v2 certificates
        return None, OCSPError("malformed", f"the server certificate does not parse: {exc}")
    leaf = chain[0]
    issuer = find_issuer(leaf, chain[1:])
    if issuer is None:
        return None, OCSPError("unknown-issuer", "the issuer of the server certificate is "
                               "not in its chain: the staple cannot be checked")
    try:
        checked = check_response(staple, leaf, issuer, now=now)
    except OCSPError as err:
        return None, err
    if checked.status == "revoked":
        when = checked.revocation_time
        return checked, OCSPError("revoked", "the server certificate is revoked" + (
            f" (since {_fmt(when)})" if when else ""))
    if checked.status == "unknown":
        return checked, OCSPError("unknown", "the OCSP responder does not know the server "
                                  "certificate")
    return checked, None
