"""The ``ocsp_response`` harness: OCSP response bytes that nodetls's own Python checks.

Who controls these bytes: a TLS server (its staple, checked by ``tls.connect(..., ocsp=...)``
and ``inspect_staple`` through ``check_staple``, with the server's certificate chain), an OCSP
responder (its HTTP body, checked by the :class:`~nodetls.ocsp.Stapler` through
``check_response``), and a shared store (``Stapler(store=...)``: a record of 4 magic bytes, the
fetch time as a double, then the response, decoded by ``ocsp._stored_record``). The parse is
``cryptography``'s (its Rust ASN.1 reader); what is under test is nodetls's use of it: which
objects it asks for, which exceptions it expects, the checks it makes.

Byte 0 picks the entry point (bits 0-1) and the clock (bits 2-3, :data:`NOWS`); the rest is

* 0: the staple, ``check_staple(staple, [leaf, CA])`` (the leaf and CA of :mod:`fuzz.peers`);
* 1: a 2-byte length, the server's leaf certificate (DER), the staple:
  ``check_staple(staple, [leaf', CA])`` (the hostile server sends both);
* 2: a responder's body: ``verify_response(body, leaf, CA)`` (``check_response`` under it);
* 3: a store record: ``ocsp._stored_record(record, leaf, CA)``.

The oracle, beyond :class:`fuzz.oracle.Baseline`:

* ``check_staple`` never raises: it returns ``(checked, error)``, ``error`` an ``OCSPError``
  whose ``code`` is its reason's; no error means a ``'good'`` response, a revoked or unknown one
  comes with its error; the checked response's DER is the staple;
* ``verify_response`` returns ``'good'``/``'revoked'``/``'unknown'`` or raises ``OCSPError``
  (the stapler passes over a responder on that exception only);
* ``_stored_record`` returns ``None`` or ``(Checked, aware datetime)``, never raises;
* **differential**: the three agree -- entry 0's staple is accepted (with the same status) by
  ``verify_response`` exactly when ``check_staple`` accepts it, and refused for the same reason;
  a store record is accepted exactly when its response is.
"""

from __future__ import annotations

import datetime as dt
import functools
import struct
from collections.abc import Callable
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509 import ocsp as cocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from nodetls import ocsp as nocsp
from nodetls._ocsp_check import REASON_CODES, Checked, OCSPError, check_staple, verify_response

from . import peers
from .oracle import Baseline, OracleViolation, quiet

T0 = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
#: The clocks byte 0 picks: inside the seeds' validity window, before it (not yet valid),
#: after it (stale), after the certificate expired.
NOWS = (T0 + dt.timedelta(hours=1), T0 - dt.timedelta(days=1), T0 + dt.timedelta(days=30),
        dt.datetime(2099, 6, 1, tzinfo=dt.UTC))
STATUSES = ("good", "revoked", "unknown")


@functools.cache
def pki() -> dict[str, Any]:
    """The fuzz PKI's CA and leaf (:func:`fuzz.peers.pems`), their keys, and delegated
    responders issued by the CA: with the OCSP-signing EKU (EC and Ed25519) and without it."""
    ca_pem, leaf_pem, _ = peers.pems()
    ca = x509.load_pem_x509_certificate(ca_pem)
    leaf = x509.load_pem_x509_certificate(leaf_pem)
    ca_key = ec.derive_private_key(0xC0FFEE, ec.SECP256R1())
    out: dict[str, Any] = {"ca": ca, "leaf": leaf, "ca_key": ca_key}
    for name, key, eku in (("resp", ec.derive_private_key(0xD00D, ec.SECP256R1()), True),
                           ("resp_ed", ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32))), True),
                           ("resp_noeku", ec.derive_private_key(0xD00E, ec.SECP256R1()), False)):
        b = (x509.CertificateBuilder()
             .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"fuzz {name}")]))
             .issuer_name(ca.subject).public_key(key.public_key()).serial_number(10 + len(out))
             .not_valid_before(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
             .not_valid_after(dt.datetime(2098, 1, 1, tzinfo=dt.UTC)))
        if eku:
            b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]),
                                critical=False)
        out[name] = b.sign(ca_key, hashes.SHA256())
        out[name + "_key"] = key
    return out


@functools.cache
def chain_der() -> tuple[bytes, bytes]:
    p = pki()
    return tuple(c.public_bytes(serialization.Encoding.DER)  # type: ignore[return-value]
                 for c in (p["leaf"], p["ca"]))


def _aware(when: Any) -> bool:
    return isinstance(when, dt.datetime) and when.tzinfo is not None


def _check_checked(checked: Any, der: bytes) -> None:
    if not isinstance(checked, Checked):
        raise OracleViolation(f"not a Checked: {checked!r}")
    if checked.der != der:
        raise OracleViolation("the checked response is not the bytes given")
    if checked.status not in STATUSES:
        raise OracleViolation(f"status {checked.status!r}")
    if not (_aware(checked.this_update) and _aware(checked.produced_at)
            and (checked.next_update is None or _aware(checked.next_update))):
        raise OracleViolation(f"naive or missing times in {checked!r}")
    if (checked.status == "revoked") != (checked.revocation_time is not None) or \
            (checked.revocation_time is not None and not _aware(checked.revocation_time)):
        raise OracleViolation(f"revocation time {checked.revocation_time!r} for "
                              f"{checked.status!r}")


def _check_error(err: Any) -> None:
    if not isinstance(err, OCSPError) or err.reason not in REASON_CODES or \
            err.code != REASON_CODES[err.reason]:
        raise OracleViolation(f"not a documented OCSPError: {err!r}")


def _staple(staple: bytes, chain: list[bytes], now: dt.datetime) -> tuple[str | None, str | None]:
    """``check_staple``'s outcome as (status of the checked response, error reason)."""
    try:
        out = check_staple(staple, chain, now=now)
    except Exception as exc:
        raise OracleViolation(f"check_staple raised {exc!r}") from exc
    if not (isinstance(out, tuple) and len(out) == 2):
        raise OracleViolation(f"check_staple returned {out!r}")
    checked, err = out
    if err is not None:
        _check_error(err)
    if checked is not None:
        _check_checked(checked, staple)
        want = {"good": None, "revoked": "revoked", "unknown": "unknown"}[checked.status]
        if (err.reason if err is not None else None) != want:
            raise OracleViolation(f"a {checked.status!r} response with error {err!r}")
    elif err is None:
        raise OracleViolation("check_staple returned neither a response nor an error")
    return (checked.status if checked else None), (err.reason if err is not None else None)


def _verify(der: bytes, now: dt.datetime) -> tuple[str | None, str | None]:
    p = pki()
    try:
        status = verify_response(der, p["leaf"], p["ca"], now=now)
    except OCSPError as err:
        _check_error(err)
        return None, err.reason
    except Exception as exc:
        raise OracleViolation(f"verify_response raised {exc!r}") from exc
    if status not in STATUSES:
        raise OracleViolation(f"verify_response returned {status!r}")
    return status, None


def ocsp_response(data: bytes) -> None:
    if not data:
        return
    entry, now, body = data[0] & 3, NOWS[(data[0] >> 2) & 3], data[1:]
    leaf, ca = chain_der()
    base = Baseline()
    if entry == 0:
        got = _staple(body, [leaf, ca], now)
        if body:
            status, reason = _verify(body, now)
            # check_staple reports a revoked/unknown response as an error with its status.
            staple_status, staple_reason = got
            if staple_status != status or (status is None and staple_reason != reason):
                raise OracleViolation(f"check_staple {got!r} != verify_response "
                                      f"{(status, reason)!r}")
    elif entry == 1:
        if len(body) >= 2:
            n = int.from_bytes(body[:2], "big")
            _staple(body[2 + n:], [body[2:2 + n], ca], now)
    elif entry == 2:
        _verify(body, now)
    else:
        p = pki()
        try:
            with quiet("nodetls.ocsp"):
                got = nocsp._stored_record(body, p["leaf"], p["ca"], now=now)
        except Exception as exc:
            raise OracleViolation(f"_stored_record raised {exc!r}") from exc
        if got is not None:
            if not (isinstance(got, tuple) and len(got) == 2 and _aware(got[1])):
                raise OracleViolation(f"_stored_record returned {got!r}")
            _check_checked(got[0], body[12:])
        if body.startswith(nocsp._STORE_MAGIC) and len(body) > 12:
            status, _ = _verify(body[12:], now)
            stamp = struct.unpack("!d", body[4:12])[0]
            if status is not None and stamp == stamp and abs(stamp) < 1e10 and got is None:
                raise OracleViolation("a store record with a valid response was refused")
            if got is not None and (status is None or got[0].status != status):
                raise OracleViolation(f"a store record was accepted as {got[0].status!r}, its "
                                      f"response is {status!r}")
    base.check()


HARNESSES: dict[str, Callable[[bytes], None]] = {"ocsp_response": ocsp_response}


def _build(status: str = "good", signer: str = "ca", by_hash: bool = True,
           algorithm: Any = None, next_update: bool = True, with_cert: bool = True,
           cert: x509.Certificate | None = None) -> bytes:
    p = pki()
    revoked = status == "revoked"
    b = cocsp.OCSPResponseBuilder().add_response(
        cert=cert or p["leaf"], issuer=p["ca"], algorithm=algorithm or hashes.SHA256(),
        cert_status={"good": cocsp.OCSPCertStatus.GOOD, "revoked": cocsp.OCSPCertStatus.REVOKED,
                     "unknown": cocsp.OCSPCertStatus.UNKNOWN}[status],
        this_update=T0, next_update=T0 + dt.timedelta(days=7) if next_update else None,
        revocation_time=T0 - dt.timedelta(days=2) if revoked else None,
        revocation_reason=x509.ReasonFlags.key_compromise if revoked else None)
    enc = cocsp.OCSPResponderEncoding.HASH if by_hash else cocsp.OCSPResponderEncoding.NAME
    b = b.responder_id(enc, p[signer])
    if signer != "ca" and with_cert:
        b = b.certificates([p[signer]])
    key = p[signer + "_key"]
    resp = b.sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256())
    return resp.public_bytes(serialization.Encoding.DER)


def seeds() -> dict[str, list[bytes]]:
    """Genuine responses for the fuzz PKI's leaf (every status; signed by the CA or a delegated
    responder, EC or Ed25519, by key hash or by name; SHA-1 and SHA-256 CertIDs; without
    ``next_update``; a responder without the EKU; another certificate's; unsuccessful), each
    behind every entry point and clock byte, the hostile-leaf form, and store records."""
    leaf, _ = chain_der()
    p = pki()
    other = (x509.CertificateBuilder().subject_name(p["leaf"].subject).issuer_name(p["ca"].subject)
             .public_key(p["leaf"].public_key()).serial_number(99)
             .not_valid_before(T0).not_valid_after(dt.datetime(2098, 1, 1, tzinfo=dt.UTC))
             .sign(p["ca_key"], hashes.SHA256()))
    responses = [_build(s) for s in STATUSES] + [
        _build(by_hash=False), _build(algorithm=hashes.SHA1()), _build(next_update=False),
        _build(signer="resp"), _build("revoked", signer="resp", by_hash=False),
        _build(signer="resp_ed"), _build(signer="resp_noeku"), _build(signer="resp", with_cert=False),
        _build(cert=other),
        cocsp.OCSPResponseBuilder.build_unsuccessful(cocsp.OCSPResponseStatus.TRY_LATER)
        .public_bytes(serialization.Encoding.DER),
    ]
    out: list[bytes] = []
    for i, der in enumerate(responses):
        clock = (i % 4) << 2
        out.append(b"\x00" + der)  # entry 0, inside the validity window
        out.append(bytes([0 | clock]) + der)
        out.append(bytes([1]) + len(leaf).to_bytes(2, "big") + leaf + der)
        out.append(bytes([2 | clock]) + der)
        out.append(bytes([3]) + nocsp._STORE_MAGIC + struct.pack("!d", T0.timestamp()) + der)
    # finding 19: the signature algorithm rewritten to an OID cryptography does not know
    unknown_alg = responses[0].replace(bytes.fromhex("06082a8648ce3d040302"),
                                       bytes.fromhex("06082a8648ce3d040309"))
    out += [b"\x00" + unknown_alg, b"\x02" + unknown_alg]
    # finding 20: a version 2 server certificate (OpenSSL accepts it, cryptography does not)
    v2 = leaf.replace(bytes.fromhex("a003020102"), bytes.fromhex("a003020101"), 1)
    out.append(b"\x01" + len(v2).to_bytes(2, "big") + v2 + responses[0])
    # finding 21: store records cut short, or with a fetch time that is no date
    out += [b"\x03" + nocsp._STORE_MAGIC, b"\x03" + nocsp._STORE_MAGIC + b"\x41\xda",
            b"\x03" + nocsp._STORE_MAGIC + struct.pack("!d", float("nan")) + responses[0]]
    return {"ocsp_response": sorted(set(out))}
