"""Throw-away certificates for the benchmark: one CA, a ``localhost`` leaf per key type.

ECDSA P-256 for every workload but one, RSA-2048 for the RSA full-handshake workload. The CA is
ECDSA; the clients that verify (the Node and nodetls client-side workloads) trust it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["write_pki"]

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "nodetls benchmark")])


def _cert(subject: str, key: PrivateKey, issuer: str, issuer_key: PrivateKey,
          ca: bool) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    b = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=7))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         # (Python 3.13's ssl.create_default_context() verifies with VERIFY_X509_STRICT, which
         # requires these key identifiers)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                        critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
             issuer_key.public_key()), critical=False))
    if ca:
        b = b.add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                          content_commitment=False, key_encipherment=False,
                                          data_encipherment=False, key_agreement=False,
                                          encipher_only=False, decipher_only=False), critical=True)
    else:
        b = (b.add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
             .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                            critical=False))
    return b.sign(issuer_key, hashes.SHA256())


def _pem_key(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def write_pki(directory: Path) -> dict[str, Path]:
    """Write ``ca.pem`` and ``{ecdsa,rsa}-{cert,key}.pem`` into ``directory``; their paths, keyed
    ``ca``, ``ecdsa-cert``, ``ecdsa-key``, ``rsa-cert``, ``rsa-key``."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("nodetls benchmark CA", ca_key, "nodetls benchmark CA", ca_key, ca=True)
    pem = serialization.Encoding.PEM
    files = {"ca": ca.public_bytes(pem)}
    keys: dict[str, PrivateKey] = {"ecdsa": ec.generate_private_key(ec.SECP256R1()),
                                   "rsa": rsa.generate_private_key(65537, 2048)}
    for kind, key in keys.items():
        files[f"{kind}-cert"] = _cert("localhost", key, "nodetls benchmark CA", ca_key,
                                      ca=False).public_bytes(pem)
        files[f"{kind}-key"] = _pem_key(key)
    out = {}
    for name, data in files.items():
        path = directory / f"{name}.pem"
        path.write_bytes(data)
        if name.endswith("-key"):
            path.chmod(0o600)
        out[name] = path
    return out
