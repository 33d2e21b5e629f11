"""Development certificates (ECDSA P-256, made with ``cryptography``), like mkcert.

Never use these outside development: the keys are written unencrypted.

* :func:`dev_ca` -- a local development CA kept in a directory and reused across runs
  (``ca-cert.pem``, ``ca-key.pem``), and :func:`issue` -- a leaf certificate it signs for some
  names. ``nodetls devcert NAME... [--dir DIR]`` is these two from the command line.
* :func:`make_dev_pki` -- a fresh throw-away CA and a ``localhost`` certificate it issued, in
  memory (what the demo, the examples and the benchmarks use).
* :func:`write_echo_files` -- the files Node's ``tls`` docs examples read from the current
  directory: ``server-key.pem``, ``server-cert.pem``, ``client-key.pem``, ``client-cert.pem``, each
  certificate self-signed (as ``openssl req -x509`` makes them), so each side trusts the other's
  certificate directly with ``ca`` (``nodetls devcert --node-examples --dir DIR``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["KeyPair", "DevPKI", "LOCAL_NAMES", "make_self_signed", "make_dev_pki", "dev_ca", "issue",
           "write_echo_files"]

#: Names every development certificate is valid for.
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class KeyPair:
    """A certificate and its private key, as objects and as PEM bytes."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_pem(self) -> bytes:
        """The certificate, PEM."""
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        """The private key, unencrypted PKCS#8 PEM."""
        return self.key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())


@dataclass(frozen=True)
class DevPKI:
    """A development CA and the ``localhost`` certificate it issued."""

    ca: KeyPair
    server: KeyPair

    def write(self, directory: Path | str) -> dict[str, Path]:
        """Write ``ca-cert.pem``, ``localhost-cert.pem``, ``localhost-key.pem`` into ``directory``."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        return {
            "ca": _write(d / "ca-cert.pem", self.ca.cert_pem),
            "cert": _write(d / "localhost-cert.pem", self.server.cert_pem),
            "key": _write(d / "localhost-key.pem", self.server.key_pem, private=True),
        }


def _write(path: Path, data: bytes, *, private: bool = False) -> Path:
    path.write_bytes(data)
    if private:
        path.chmod(0o600)
    return path


def _san(names: Sequence[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _builder(subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey,
             days: int, *, until: dt.datetime | None = None) -> x509.CertificateBuilder:
    # ``until``: the issuer's own end, which the certificate never outlives.
    now = _now()
    end = now + dt.timedelta(days=days)
    return (x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(min(end, until) if until is not None else end)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))


def _name(cn: str, org: str = "nodetls development") -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_self_signed(cn: str, names: Sequence[str] = LOCAL_NAMES, *, days: int = 30) -> KeyPair:
    """A self-signed certificate as ``openssl req -x509`` makes one (``CA:TRUE``, so a peer can use
    it directly as its trust anchor), valid for ``names`` and for server and client auth."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(cn)
    cert = (_builder(subject, subject, key.public_key(), days)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_san(names), critical=False)
            .sign(key, hashes.SHA256()))
    return KeyPair(cert, key)


_SIGN_ONLY = dict(content_commitment=False, key_encipherment=False, data_encipherment=False,
                  key_agreement=False, encipher_only=False, decipher_only=False)


def _make_ca(cn: str, days: int) -> KeyPair:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(cn)
    cert = (_builder(name, name, key.public_key(), days)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, **_SIGN_ONLY), critical=True)
            .sign(key, hashes.SHA256()))
    return KeyPair(cert, key)


def issue(ca: KeyPair, names: Sequence[str], *, days: int = 30) -> KeyPair:
    """A leaf certificate signed by ``ca`` for ``names`` (DNS names or IP addresses; the first is
    the subject's CN), for TLS server and client authentication, valid for ``days`` but never
    beyond the CA's own ``not_valid_after`` (a chain is only valid while its CA is)."""
    names = list(names)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError("names must be a non-empty list of DNS names or IP addresses")
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (_builder(_name(names[0]), ca.cert.subject, key.public_key(), days,
                     until=ca.cert.not_valid_after_utc)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca.key.public_key()), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False,
                                         crl_sign=False, **_SIGN_ONLY), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                  ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .add_extension(_san(names), critical=False)
            .sign(ca.key, hashes.SHA256()))
    return KeyPair(cert, key)


def make_dev_pki(cn: str = "localhost", names: Sequence[str] = LOCAL_NAMES, *,
                 ca_cn: str = "nodetls development CA", days: int = 30) -> DevPKI:
    """A fresh development CA and a server certificate for ``cn`` (and ``names``) it issued."""
    ca = _make_ca(ca_cn, days)
    return DevPKI(ca, issue(ca, [cn, *[n for n in names if n != cn]], days=days))


def dev_ca(directory: Path | str, *, days: int = 825) -> tuple[KeyPair, bool]:
    """The development CA kept in ``directory`` (``ca-cert.pem``, ``ca-key.pem``): loaded when
    both files are there and the certificate is valid now, else made and written over them (the
    key readable by its owner only): a CA past its ``not_valid_after`` (825 days by default) only
    issues certificates no peer accepts, so it is replaced, and ``created`` says it must be
    trusted again. Returns ``(ca, created)``."""
    d = Path(directory)
    cert_path, key_path = d / "ca-cert.pem", d / "ca-key.pem"
    if cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{key_path}: expected the ECDSA key nodetls devcert writes")
        if cert.not_valid_before_utc <= _now() < cert.not_valid_after_utc:
            return KeyPair(cert, key), False
    d.mkdir(parents=True, exist_ok=True)
    ca = _make_ca("nodetls development CA", days)
    _write(key_path, ca.key_pem, private=True)
    _write(cert_path, ca.cert_pem)
    return ca, True


def write_echo_files(directory: Path | str) -> dict[str, Path]:
    """Write the files of Node's ``tls`` docs examples into ``directory`` (created if needed):
    ``server-key.pem``, ``server-cert.pem``, ``client-key.pem``, ``client-cert.pem``."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    server = make_self_signed("localhost")
    client = make_self_signed("nodetls example client")
    return {
        "server-key": _write(d / "server-key.pem", server.key_pem, private=True),
        "server-cert": _write(d / "server-cert.pem", server.cert_pem),
        "client-key": _write(d / "client-key.pem", client.key_pem, private=True),
        "client-cert": _write(d / "client-cert.pem", client.cert_pem),
    }


