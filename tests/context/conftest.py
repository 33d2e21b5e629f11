"""Certificates for the secure-context tests, generated with ``cryptography`` once per session.

A three-level PKI: root CA -> intermediate CA -> leaves (RSA 2048, ECDSA P-256, and an ECDSA leaf
the intermediate has revoked), CRLs from both CAs, an encrypted copy of the RSA key, a PKCS#12
bundle, and DH parameters.  Fixture names start with ``ctx_`` to stay clear of tests/conftest.py.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from helpers.certs import FFDHE2048, encrypted_key_pem

DH2048 = FFDHE2048  # (RFC 7919's ffdhe2048)

# 1024-bit X9.42 parameters (`openssl dhparam -dsaparam 1024`): accepted with a SecurityWarning.
DH1024 = b"""-----BEGIN X9.42 DH PARAMETERS-----
MIIBJwKBgQD5D8NqHfYvefyqe1g3zuT5LbJ7H8OVKAhFYW9hyntlc7m9jvwILXH+
sC7ZYE6fky0D0qG6kgVmgPY4pyDP5GIaQygBxm/kYSja+cJ/n7Xm+DsEmUcxJbOK
5ZLlHfWivTfqymSP0xM0wlcjCESQrcHpFlUkHh3RtDcJz7QSCtNtNQKBgQCNu50v
ZHWh6HfWolZkQq9AK/8Wruz8yhawYQjnNh2o1GfbTWVGsK2kmtMZI5usMOhWsDrm
om59LLzT9n7MgVGaojxNFadpHqTKAHmn1zX7kW6EsYoZN0RetAWSLCVqJnsSy+Ip
GAHBNUMghdumoXj9KF1mEZzHaKv34KYUot9fVwIdAPhxoIjlSFYDR68ApxSqk5Ko
qi16RwOVOY+OJKU=
-----END X9.42 DH PARAMETERS-----
"""

# 512-bit parameters: refused, as Node refuses anything under 1024 bits.
DH512 = b"""-----BEGIN DH PARAMETERS-----
MEYCQQCOU52/YOBYEgB+0mCONQM05s/043izzoXskDbdNJ87P9e7bTuqQoCew/E/
Y56ofJS/abMHaDWIaS0HcA0Givj/AgEC
-----END DH PARAMETERS-----
"""

PASSPHRASE = "secret"
PFX_PASSPHRASE = "pfxpass"


@dataclass(frozen=True)
class ContextPKI:
    root: bytes  # PEM
    intermediate: bytes
    rsa_cert: bytes  # leaf only
    rsa_chain: bytes  # leaf + intermediate
    rsa_key: bytes
    rsa_key_encrypted: bytes  # PKCS#8, PASSPHRASE
    rsa_key_encrypted_legacy: bytes  # traditional PEM with DEK-Info, PASSPHRASE
    other_rsa_key: bytes  # matches no certificate
    ec_cert: bytes
    ec_chain: bytes
    ec_key: bytes
    revoked_chain: bytes  # ECDSA leaf revoked by the intermediate
    revoked_key: bytes
    crl_intermediate: bytes  # revokes revoked_chain's leaf
    crl_root: bytes  # revokes nothing
    pfx: bytes  # RSA leaf + key + [intermediate, root], PFX_PASSPHRASE
    rsa_der: bytes
    root_der: bytes
    intermediate_der: bytes


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject: str, key, issuer: str, issuer_key, *, ca: bool) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True,
                          crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _crl(issuer: str, issuer_key, revoked: list[x509.Certificate]) -> bytes:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(_name(issuer))
        .last_update(now - datetime.timedelta(hours=1))
        .next_update(now + datetime.timedelta(days=7))
    )
    for cert in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(cert.serial_number)
            .revocation_date(now - datetime.timedelta(minutes=5)).build()
        )
    return builder.sign(issuer_key, hashes.SHA256()).public_bytes(ser.Encoding.PEM)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(ser.Encoding.PEM)


def _key(key, encryption=None, fmt=ser.PrivateFormat.PKCS8) -> bytes:
    return key.private_bytes(ser.Encoding.PEM, fmt, encryption or ser.NoEncryption())


@pytest.fixture(scope="session")
def ctx_pki() -> ContextPKI:
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _cert("nodetls context root", root_key, "nodetls context root", root_key, ca=True)
    inter_key = ec.generate_private_key(ec.SECP256R1())
    inter = _cert("nodetls context intermediate", inter_key, "nodetls context root", root_key,
                  ca=True)
    rsa_key = rsa.generate_private_key(65537, 2048)
    rsa_cert = _cert("rsa.localhost", rsa_key, "nodetls context intermediate", inter_key, ca=False)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_cert = _cert("ec.localhost", ec_key, "nodetls context intermediate", inter_key, ca=False)
    rev_key = ec.generate_private_key(ec.SECP256R1())
    rev_cert = _cert("revoked.localhost", rev_key, "nodetls context intermediate", inter_key,
                     ca=False)
    other = rsa.generate_private_key(65537, 2048)
    return ContextPKI(
        root=_pem(root),
        intermediate=_pem(inter),
        rsa_cert=_pem(rsa_cert),
        rsa_chain=_pem(rsa_cert) + _pem(inter),
        rsa_key=_key(rsa_key),
        rsa_key_encrypted=encrypted_key_pem(rsa_key, PASSPHRASE),
        rsa_key_encrypted_legacy=encrypted_key_pem(rsa_key, PASSPHRASE,
                                                   ser.PrivateFormat.TraditionalOpenSSL),
        other_rsa_key=_key(other),
        ec_cert=_pem(ec_cert),
        ec_chain=_pem(ec_cert) + _pem(inter),
        ec_key=_key(ec_key),
        revoked_chain=_pem(rev_cert) + _pem(inter),
        revoked_key=_key(rev_key),
        crl_intermediate=_crl("nodetls context intermediate", inter_key, [rev_cert]),
        crl_root=_crl("nodetls context root", root_key, []),
        pfx=pkcs12.serialize_key_and_certificates(
            b"pfx", rsa_key, rsa_cert, [inter, root],
            ser.BestAvailableEncryption(PFX_PASSPHRASE.encode()),
        ),
        rsa_der=rsa_cert.public_bytes(ser.Encoding.DER),
        root_der=root.public_bytes(ser.Encoding.DER),
        intermediate_der=inter.public_bytes(ser.Encoding.DER),
    )
