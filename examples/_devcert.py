"""Development certificates for the examples and benchmarks (ECDSA P-256, made with ``cryptography``).

Never use these outside development: the keys are written unencrypted.

* :func:`make_dev_pki` -- a development CA and a ``localhost`` server certificate it issued
  (what ``demo.py`` and the benchmarks use).
* :func:`write_echo_files` -- the files Node's ``tls`` docs examples read from the current
  directory: ``server-key.pem``, ``server-cert.pem``, ``client-key.pem``, ``client-cert.pem``, each
  certificate self-signed (as ``openssl req -x509`` makes them), so each side trusts the other's
  certificate directly with ``ca``.

From the command line::

    python examples/_devcert.py DIR          # writes the four echo files into DIR
    python examples/_devcert.py --dir DIR    # the same
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["KeyPair", "DevPKI", "make_self_signed", "make_dev_pki", "write_echo_files", "main"]

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


def _builder(subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey,
             days: int) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return (x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
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


def make_dev_pki(cn: str = "localhost", names: Sequence[str] = LOCAL_NAMES, *,
                 ca_cn: str = "nodetls development CA", days: int = 30) -> DevPKI:
    """A fresh development CA and a server certificate for ``cn`` (and ``names``) it issued."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(ca_cn)
    ca_cert = (_builder(ca_name, ca_name, ca_key.public_key(), days)
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                            crl_sign=True, content_commitment=False,
                                            key_encipherment=False, data_encipherment=False,
                                            key_agreement=False, encipher_only=False,
                                            decipher_only=False), critical=True)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (_builder(_name(cn), ca_name, key.public_key(), days)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False,
                                         crl_sign=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(_san(names), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return DevPKI(KeyPair(ca_cert, ca_key), KeyPair(cert, key))


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


def main(argv: Sequence[str] | None = None) -> int:
    """``python examples/_devcert.py DIR`` (or ``--dir DIR``): write the echo examples' files into
    ``DIR``."""
    parser = argparse.ArgumentParser(
        prog="python examples/_devcert.py",
        description="Write server-key.pem, server-cert.pem, client-key.pem and client-cert.pem "
                    "(self-signed development certificates) into DIR.")
    parser.add_argument("dir", nargs="?", metavar="DIR", help="the directory to write into")
    parser.add_argument("--dir", dest="dir_option", metavar="DIR",
                        help="the same, as an option")
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    if (args.dir is None) == (args.dir_option is None):
        parser.error("give the directory once: DIR or --dir DIR")
    for path in write_echo_files(args.dir if args.dir is not None else args.dir_option).values():
        print("wrote", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
