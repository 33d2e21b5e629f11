"""verify_response: each check, each reason (responses signed with real keys by cryptography)."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import ocsp

from nodetls.ocsp import OCSPError, verify_response

from .responder import OcspPKI, build_response, now


@pytest.fixture(scope="module")
def opki(tmp_path_factory):
    return OcspPKI(tmp_path_factory.mktemp("ocsp-verify"))


@pytest.fixture(scope="module")
def leaf(opki):
    return opki.leaf("leaf")


def reason(response, cert, issuer, **kw):
    with pytest.raises(OCSPError) as info:
        verify_response(response, cert, issuer, **kw)
    return info.value.reason, info.value.code


@pytest.mark.parametrize("status", ["good", "revoked", "unknown"])
def test_valid_response_returns_its_status(opki, leaf, status):
    der = build_response(leaf, opki.ca, status=status)
    assert verify_response(der, leaf.x509, opki.ca.x509) == status


def test_certificates_as_pem_der_or_objects(opki, leaf):
    der = build_response(leaf, opki.ca)
    assert verify_response(der, leaf.cert_pem, opki.ca.der) == "good"
    assert verify_response(bytearray(der), leaf.cert_pem.decode(), opki.ca.x509) == "good"
    with pytest.raises(TypeError, match="response"):
        verify_response("not bytes", leaf.x509, opki.ca.x509)
    with pytest.raises(TypeError, match="issuer"):
        verify_response(der, leaf.x509, 42)
    with pytest.raises(ValueError, match="cert"):
        verify_response(der, b"junk", opki.ca.x509)


def test_time_checks(opki, leaf):
    t = now()
    der = build_response(leaf, opki.ca, this_update=t, next_update=t + dt.timedelta(hours=1))
    assert verify_response(der, leaf.x509, opki.ca.x509, now=t + dt.timedelta(minutes=59)) == "good"
    assert reason(der, leaf.x509, opki.ca.x509, now=t + dt.timedelta(hours=1)) == (
        "stale", "ERR_TLS_OCSP_STALE")
    # this_update up to 5 minutes ahead of our clock is tolerated; more is not.
    assert verify_response(der, leaf.x509, opki.ca.x509, now=t - dt.timedelta(minutes=4)) == "good"
    assert reason(der, leaf.x509, opki.ca.x509, now=t - dt.timedelta(minutes=6)) == (
        "not-yet-valid", "ERR_TLS_OCSP_STALE")
    # naive datetimes are UTC
    naive = (t + dt.timedelta(hours=2)).replace(tzinfo=None)
    assert reason(der, leaf.x509, opki.ca.x509, now=naive)[0] == "stale"


def test_response_outliving_the_certificate(opki, leaf):
    der = build_response(leaf, opki.ca,
                         next_update=leaf.x509.not_valid_after_utc + dt.timedelta(seconds=1))
    assert reason(der, leaf.x509, opki.ca.x509) == ("outlives-certificate", "ERR_TLS_OCSP_STALE")


def test_response_without_next_update_is_accepted(opki, leaf):
    der = build_response(leaf, opki.ca, next_update=None)
    assert verify_response(der, leaf.x509, opki.ca.x509) == "good"


def test_wrong_certificate(opki, leaf):
    other = opki.leaf("other")
    der = build_response(other, opki.ca)
    assert reason(der, leaf.x509, opki.ca.x509) == (
        "wrong-certificate", "ERR_TLS_OCSP_WRONG_CERTIFICATE")
    # Same serial, another issuer: the issuer hashes differ.
    assert reason(der, other.x509, opki.pki.root.x509)[0] == "wrong-certificate"


def test_malformed_and_unsuccessful(opki, leaf):
    assert reason(b"\x30\x03garbage", leaf.x509, opki.ca.x509) == (
        "malformed", "ERR_TLS_OCSP_MALFORMED")
    try_later = ocsp.OCSPResponseBuilder.build_unsuccessful(
        ocsp.OCSPResponseStatus.TRY_LATER).public_bytes(serialization.Encoding.DER)
    r, code = reason(try_later, leaf.x509, opki.ca.x509)
    assert (r, code) == ("unsuccessful", "ERR_TLS_OCSP_MALFORMED")


def test_tampered_signature(opki, leaf):
    der = bytearray(build_response(leaf, opki.ca))
    der[-3] ^= 0x01  # inside the signature value
    assert reason(bytes(der), leaf.x509, opki.ca.x509) == (
        "bad-signature", "ERR_TLS_OCSP_BAD_SIGNATURE")


def test_delegated_responders(opki, leaf, tmp_path):
    delegate = opki.responder_cert("delegate")
    ok = build_response(leaf, opki.ca, signer=delegate, include_signer=True)
    assert verify_response(ok, leaf.x509, opki.ca.x509) == "good"
    # The delegate's certificate is not in the response: nothing authorises its key.
    hidden = build_response(leaf, opki.ca, signer=delegate)
    assert reason(hidden, leaf.x509, opki.ca.x509)[0] == "bad-signature"
    no_eku = opki.responder_cert("no-eku", ocsp_signing=False)
    bad = build_response(leaf, opki.ca, signer=no_eku, include_signer=True)
    with pytest.raises(OCSPError, match="lacks the OCSP-signing"):
        verify_response(bad, leaf.x509, opki.ca.x509)
    foreign = OcspPKI(tmp_path).responder_cert("foreign")
    bad = build_response(leaf, opki.ca, signer=foreign, include_signer=True)
    with pytest.raises(OCSPError, match="not issued by"):
        verify_response(bad, leaf.x509, opki.ca.x509)


def test_rsa_issuer(tmp_path):
    from helpers.certs import PKI

    pki = PKI(tmp_path, key_type="rsa")
    leaf = pki.make_leaf("localhost")
    der = build_response(leaf, pki.intermediate)
    assert verify_response(der, leaf.x509, pki.intermediate.x509) == "good"


def test_public_names():
    import nodetls.ocsp as mod

    for name in ("Stapler", "OCSPError", "verify_response", "inspect_staple"):
        assert name in mod.__all__ and hasattr(mod, name)
    assert issubclass(mod.OCSPError, __import__("nodetls").errors.NodeError)
