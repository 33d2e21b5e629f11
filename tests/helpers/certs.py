"""Test PKI: certificates generated with ``cryptography``, as PEM bytes *and* files.

Everything a TLS test needs, without the network and without ``openssl`` on the command line:

* :class:`PKI` is a small certificate authority kit. It owns a root CA, an intermediate CA and a
  client CA, and its :meth:`PKI.make_leaf` / :meth:`PKI.make_ca` factories issue more certificates.
  Every certificate is returned as a :class:`CertBundle` holding the parsed certificate, the key,
  the PEM bytes and the paths of files written under the PKI's directory (so ``node``,
  ``openssl s_server`` and ``gnutls-serv`` processes can load the very same material).
* :func:`build_cert_set` builds the standard set the ``certs`` fixture exposes (:class:`CertSet`).

ECDSA P-256 keys are the default (fast); RSA 2048 is available with ``key_type='rsa'``.
Nothing here depends on pytest, so scripts may import it too.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

__all__ = [
    "CertBundle",
    "CertSet",
    "CrlBundle",
    "PfxBundle",
    "PKI",
    "PrivateKey",
    "KeyType",
    "PASSPHRASE",
    "build_cert_set",
    "generate_key",
    "parse_san",
    "pem",
]

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
KeyType = Literal["ec", "rsa", "ed25519"]

#: Passphrase of every encrypted key and PKCS#12 bundle the fixtures make (Node takes a string).
PASSPHRASE = "nodetls-test-passphrase"

_EKU = {
    "serverAuth": ExtendedKeyUsageOID.SERVER_AUTH,
    "clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "codeSigning": ExtendedKeyUsageOID.CODE_SIGNING,
    "emailProtection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "timeStamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "OCSPSigning": ExtendedKeyUsageOID.OCSP_SIGNING,
}


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0)


def pem(cert: x509.Certificate) -> bytes:
    """The PEM encoding of ``cert``."""
    return cert.public_bytes(serialization.Encoding.PEM)


def generate_key(key_type: KeyType = "ec", *, curve: ec.EllipticCurve | None = None,
                 rsa_bits: int = 2048) -> PrivateKey:
    """A fresh private key: ECDSA (P-256 unless ``curve``), RSA (``rsa_bits``) or Ed25519."""
    if key_type == "ec":
        return ec.generate_private_key(curve or ec.SECP256R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
    if key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"unknown key_type {key_type!r} (expected 'ec', 'rsa' or 'ed25519')")


def _key_pem(key: PrivateKey, passphrase: str | None = None) -> bytes:
    if passphrase:
        return encrypted_key_pem(key, passphrase)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


#: The wrong passphrases tests try on encrypted keys (``b''``: none given).
WRONG_PASSPHRASES = (b"", b"no", b"nope", b"wrong", b"invalid")


def encrypted_key_pem(key: PrivateKey, passphrase: str,
                      fmt: serialization.PrivateFormat = serialization.PrivateFormat.PKCS8) -> bytes:
    """``key`` as PEM encrypted with ``passphrase``, drawn so that OpenSSL rejects each of
    :data:`WRONG_PASSPHRASES` with ``bad decrypt`` (Node's ``ERR_OSSL_BAD_DECRYPT``).

    A wrong passphrase decrypts (AES-CBC) to garbage whose padding is valid by chance about once
    in 256 draws of salt and IV; OpenSSL then reports an undecodable key (``unsupported``), not
    ``bad decrypt``, and a test expecting Node's code failed about one run in a hundred.  Such an
    encryption is simply drawn again.
    """
    from nodetls._context.pem import read_private_key
    from nodetls._openssl import lib

    def bad_decrypt(pem: bytes, wrong: bytes) -> bool:
        try:
            pkey = read_private_key(pem, wrong or None, "key")
        except Exception as err:  # noqa: BLE001 - the code tells
            return getattr(err, "code", None) == "ERR_OSSL_BAD_DECRYPT"
        lib.EVP_PKEY_free(pkey)
        return False

    enc = serialization.BestAvailableEncryption(passphrase.encode())
    for _ in range(20):
        pem = key.private_bytes(serialization.Encoding.PEM, fmt, enc)
        if all(bad_decrypt(pem, wrong) for wrong in WRONG_PASSPHRASES):
            return pem
    raise AssertionError("no encryption of the key fails cleanly with the wrong passphrases")


def parse_san(entry: str | x509.GeneralName) -> x509.GeneralName:
    """One subjectAltName entry from a string.

    ``'DNS:a.example'``, ``'IP:127.0.0.1'`` (or ``'IP Address:...'``), ``'URI:https://...'`` and
    ``'email:a@b'`` are explicit; a bare string is an ``IP`` when it parses as one, else a ``DNS``
    name. A ``cryptography`` GeneralName passes through unchanged.
    """
    if isinstance(entry, x509.GeneralName):
        return entry
    kind, sep, value = entry.partition(":")
    if sep and kind in ("DNS", "IP", "IP Address", "URI", "email"):
        if kind == "DNS":
            return x509.DNSName(value)
        if kind in ("IP", "IP Address"):
            return x509.IPAddress(ipaddress.ip_address(value))
        if kind == "URI":
            return x509.UniformResourceIdentifier(value)
        return x509.RFC822Name(value)
    try:
        return x509.IPAddress(ipaddress.ip_address(entry))
    except ValueError:
        return x509.DNSName(entry)


@dataclass(frozen=True)
class CertBundle:
    """A certificate with its key, as objects, PEM bytes and files.

    ``chain_pem`` is what a server sends (the leaf, then the intermediates, never the root);
    ``ca_pem`` is the trust anchor a peer needs to verify it (the root; the certificate itself when
    self-signed). ``key_pem`` is PKCS#8, encrypted with ``passphrase`` when that is set.
    """

    name: str
    x509: x509.Certificate
    key: PrivateKey
    cert_pem: bytes
    key_pem: bytes
    chain_pem: bytes
    ca_pem: bytes
    cert_path: Path
    key_path: Path
    chain_path: Path
    ca_path: Path
    chain: tuple[x509.Certificate, ...]  # leaf first, then intermediates (no root)
    root: x509.Certificate
    issuer: CertBundle | None = field(default=None, repr=False)
    passphrase: str | None = None
    key_type: str = "ec"

    @property
    def der(self) -> bytes:
        """The certificate as DER."""
        return self.x509.public_bytes(serialization.Encoding.DER)

    @property
    def options(self) -> dict[str, bytes | str]:
        """``{'key': ..., 'cert': ...}`` (plus ``'passphrase'``): SecureContext options serving it."""
        opts: dict[str, bytes | str] = {"key": self.key_pem, "cert": self.chain_pem}
        if self.passphrase is not None:
            opts["passphrase"] = self.passphrase
        return opts


@dataclass(frozen=True)
class PfxBundle:
    """A PKCS#12 bundle (key, leaf, intermediates) encrypted with ``passphrase``."""

    data: bytes
    path: Path
    passphrase: str
    bundle: CertBundle


@dataclass(frozen=True)
class CrlBundle:
    """CRLs in PEM: ``pem`` is the intermediate CA's CRL (it revokes ``revoked``); ``root_pem`` is
    the root's (empty) CRL. Node's ``crl`` option sets ``CRL_CHECK_ALL``, so a chain through the
    intermediate needs both: pass ``pems`` (a list, one CRL each, as Node's ``crl`` array)."""

    pem: bytes
    path: Path
    root_pem: bytes
    root_path: Path
    revoked_serial: int

    @property
    def pems(self) -> list[bytes]:
        return [self.pem, self.root_pem]


class PKI:
    """A test certificate authority writing everything it issues under ``directory``.

    Attributes ``root`` (self-signed root CA), ``intermediate`` (issued by ``root``) and
    ``client_ca`` (a separate self-signed root for client certificates) are built at once.
    """

    def __init__(self, directory: Path | str, *, key_type: KeyType = "ec") -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._counter = itertools.count(1)
        self._used: set[str] = set()
        self.key_type: KeyType = key_type
        self.root = self.make_ca("nodetls Test Root CA", issuer=None, name="root")
        self.intermediate = self.make_ca("nodetls Test Intermediate CA", issuer=self.root,
                                         name="intermediate", path_length=0)
        self.client_ca = self.make_ca("nodetls Test Client CA", issuer=None, name="client-ca")

    # -- naming and files ---------------------------------------------------------------------

    def _unique(self, wanted: str | None, cn: str | None) -> str:
        base = re.sub(r"[^A-Za-z0-9_.-]+", "_", wanted or cn or "cert").strip("_.") or "cert"
        name = base
        while name in self._used:
            name = f"{base}-{next(self._counter)}"
        self._used.add(name)
        return name

    def _write(self, filename: str, data: bytes) -> Path:
        path = self.directory / filename
        path.write_bytes(data)
        return path

    # -- issuing ------------------------------------------------------------------------------

    def _build(self, *, subject: x509.Name, key: PrivateKey, issuer: CertBundle | None,
               extensions: Sequence[tuple[x509.ExtensionType, bool]],
               not_before: _dt.datetime | None, not_after: _dt.datetime | None,
               serial: int | None) -> x509.Certificate:
        now = _now()
        signer_key = issuer.key if issuer else key
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer.x509.subject if issuer else subject)
            .public_key(key.public_key())
            .serial_number(serial if serial is not None else x509.random_serial_number())
            .not_valid_before(not_before or now - _dt.timedelta(days=1))
            .not_valid_after(not_after or now + _dt.timedelta(days=825))
        )
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        builder = builder.add_extension(ski, critical=False)
        if issuer is not None:
            aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key())
            builder = builder.add_extension(aki, critical=False)
        for ext, critical in extensions:
            builder = builder.add_extension(ext, critical=critical)
        algorithm = None if isinstance(signer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
        return builder.sign(signer_key, algorithm)

    def _bundle(self, name: str, cert: x509.Certificate, key: PrivateKey,
                issuer: CertBundle | None, key_type: str) -> CertBundle:
        if issuer is None:
            chain: tuple[x509.Certificate, ...] = (cert,)
            root = cert
        else:
            # The chain a server sends: the leaf and every non-root issuer above it.
            chain = (cert,) + tuple(c for c in issuer.chain if c is not issuer.root)
            root = issuer.root
        cert_pem = pem(cert)
        key_pem = _key_pem(key)
        chain_pem = b"".join(pem(c) for c in chain)
        ca_pem = pem(root)
        return CertBundle(
            name=name, x509=cert, key=key, cert_pem=cert_pem, key_pem=key_pem,
            chain_pem=chain_pem, ca_pem=ca_pem,
            cert_path=self._write(f"{name}.crt", cert_pem),
            key_path=self._write(f"{name}.key", key_pem),
            chain_path=self._write(f"{name}-chain.pem", chain_pem),
            ca_path=self._write(f"{name}-ca.pem", ca_pem),
            chain=chain, root=root, issuer=issuer, key_type=key_type,
        )

    def make_ca(self, cn: str, *, issuer: CertBundle | None = None, key_type: KeyType | None = None,
                path_length: int | None = None, not_before: _dt.datetime | None = None,
                not_after: _dt.datetime | None = None, name: str | None = None,
                organization: str = "nodetls tests") -> CertBundle:
        """A CA certificate: self-signed when ``issuer`` is ``None``, else issued by ``issuer``."""
        key_type = key_type or self.key_type
        key = generate_key(key_type)
        subject = x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ])
        exts: list[tuple[x509.ExtensionType, bool]] = [
            (x509.BasicConstraints(ca=True, path_length=path_length), True),
            (x509.KeyUsage(digital_signature=True, content_commitment=False,
                           key_encipherment=False, data_encipherment=False, key_agreement=False,
                           key_cert_sign=True, crl_sign=True, encipher_only=False,
                           decipher_only=False), True),
        ]
        cert = self._build(subject=subject, key=key, issuer=issuer, extensions=exts,
                           not_before=not_before, not_after=not_after, serial=None)
        return self._bundle(self._unique(name, cn), cert, key, issuer, key_type)

    def make_leaf(
        self,
        cn: str | None = "localhost",
        sans: Iterable[str | x509.GeneralName] | None = None,
        *,
        issuer: CertBundle | None = None,
        self_signed: bool = False,
        key_type: KeyType | None = None,
        curve: ec.EllipticCurve | None = None,
        rsa_bits: int = 2048,
        not_before: _dt.datetime | None = None,
        not_after: _dt.datetime | None = None,
        is_ca: bool = False,
        ocsp_url: str | Sequence[str] | None = None,
        ca_issuers_url: str | Sequence[str] | None = None,
        eku: Iterable[str | x509.ObjectIdentifier] | None = ("serverAuth",),
        serial: int | None = None,
        subject: x509.Name | None = None,
        extra_extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
        name: str | None = None,
        passphrase: str | None = None,
    ) -> CertBundle:
        """Issue an end-entity certificate.

        Args:
            cn: subject commonName (``None``: no CN).
            sans: subjectAltName entries (see :func:`parse_san`); default ``[cn]``; ``[]``: none.
            issuer: the issuing CA bundle; default the PKI's intermediate CA.
            self_signed: sign with the leaf's own key (``issuer`` is ignored).
            key_type: ``'ec'`` (P-256, or ``curve``), ``'rsa'`` (``rsa_bits``) or ``'ed25519'``.
            not_before / not_after: validity (default: yesterday .. +825 days).
            is_ca: set basicConstraints CA:TRUE (and keyCertSign).
            ocsp_url / ca_issuers_url: authorityInfoAccess entries.
            eku: extendedKeyUsage names (``'serverAuth'``, ``'clientAuth'``...) or OIDs; ``None``
                or empty: no extension.
            serial: serial number (default random).
            subject: a full subject Name (overrides ``cn``).
            extra_extensions: more ``(extension, critical)`` pairs.
            name: base file name (default from ``cn``).
            passphrase: encrypt ``key_pem`` (and the key file) with it.
        """
        key_type = key_type or self.key_type
        key = generate_key(key_type, curve=curve, rsa_bits=rsa_bits)
        if subject is None:
            subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else [])
        if sans is None:
            sans = [cn] if cn else []
        general_names = [parse_san(s) for s in sans]
        signer = None if self_signed else (issuer or self.intermediate)

        exts: list[tuple[x509.ExtensionType, bool]] = [
            (x509.BasicConstraints(ca=is_ca, path_length=None), True)]
        if is_ca or not self_signed:
            # A self-signed leaf gets no keyUsage (as `openssl req -x509` makes them), so
            # OpenSSL still regards it as self-signed (X509_check_issued wants keyCertSign).
            exts.append((x509.KeyUsage(
                digital_signature=True, content_commitment=False,
                key_encipherment=key_type == "rsa", data_encipherment=False,
                key_agreement=False, key_cert_sign=is_ca, crl_sign=is_ca,
                encipher_only=False, decipher_only=False), True))
        if eku:
            exts.append((x509.ExtendedKeyUsage(
                [_EKU[e] if isinstance(e, str) else e for e in eku]), False))
        if general_names:
            exts.append((x509.SubjectAlternativeName(general_names), False))
        aia: list[x509.AccessDescription] = []
        for url in [ocsp_url] if isinstance(ocsp_url, str) else (ocsp_url or []):
            aia.append(x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                              x509.UniformResourceIdentifier(url)))
        for url in [ca_issuers_url] if isinstance(ca_issuers_url, str) else (ca_issuers_url or []):
            aia.append(x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS,
                                              x509.UniformResourceIdentifier(url)))
        if aia:
            exts.append((x509.AuthorityInformationAccess(aia), False))
        exts.extend(extra_extensions)

        cert = self._build(subject=subject, key=key, issuer=signer, extensions=exts,
                           not_before=not_before, not_after=not_after, serial=serial)
        bundle = self._bundle(self._unique(name, cn), cert, key, signer, key_type)
        if passphrase is not None:
            bundle = self.encrypt_key(bundle, passphrase)
        return bundle

    def make_client(self, cn: str = "client", **kwargs: object) -> CertBundle:
        """A client certificate (clientAuth EKU, no SANs) issued by ``client_ca``."""
        kwargs.setdefault("issuer", self.client_ca)
        kwargs.setdefault("eku", ("clientAuth",))
        kwargs.setdefault("sans", [])
        return self.make_leaf(cn, **kwargs)  # type: ignore[arg-type]

    def encrypt_key(self, bundle: CertBundle, passphrase: str = PASSPHRASE) -> CertBundle:
        """The same bundle with ``key_pem`` (and a new key file) encrypted with ``passphrase``."""
        key_pem = _key_pem(bundle.key, passphrase)
        key_path = self._write(f"{bundle.name}-encrypted.key", key_pem)
        return replace(bundle, key_pem=key_pem, key_path=key_path, passphrase=passphrase)

    def make_pfx(self, bundle: CertBundle, passphrase: str = PASSPHRASE) -> PfxBundle:
        """A PKCS#12 file holding ``bundle``'s key, certificate and intermediates."""
        data = pkcs12.serialize_key_and_certificates(
            bundle.name.encode(), bundle.key, bundle.x509,  # type: ignore[arg-type]
            list(bundle.chain[1:]) or None,
            serialization.BestAvailableEncryption(passphrase.encode()))
        return PfxBundle(data=data, path=self._write(f"{bundle.name}.pfx", data),
                         passphrase=passphrase, bundle=bundle)

    def make_crl(self, issuer: CertBundle, revoked: Iterable[int] = (), *,
                 name: str | None = None) -> tuple[bytes, Path]:
        """A CRL signed by ``issuer`` revoking the given serial numbers: ``(pem, path)``."""
        now = _now()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(issuer.x509.subject)
            .last_update(now - _dt.timedelta(days=1))
            .next_update(now + _dt.timedelta(days=30))
            .add_extension(x509.CRLNumber(1), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                issuer.key.public_key()), critical=False)
        )
        for serial in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial)
                .revocation_date(now - _dt.timedelta(hours=1)).build())
        signer = issuer.key
        algorithm = None if isinstance(signer, ed25519.Ed25519PrivateKey) else hashes.SHA256()
        crl = builder.sign(signer, algorithm)  # type: ignore[arg-type]
        data = crl.public_bytes(serialization.Encoding.PEM)
        fname = self._unique(name or f"{issuer.name}-crl", None)
        return data, self._write(f"{fname}.pem", data)


@dataclass(frozen=True)
class CertSet:
    """The standard certificates (the ``certs`` fixture). All leaves name ``localhost`` with SANs
    ``DNS:localhost, IP:127.0.0.1, IP:::1`` unless said otherwise."""

    dir: Path
    pki: PKI
    root: CertBundle              # self-signed root CA (EC)
    intermediate: CertBundle      # CA issued by root, pathlen 0
    server: CertBundle            # EC leaf for localhost, issued by intermediate
    server_rsa: CertBundle        # RSA 2048 leaf for localhost, issued by intermediate
    server_direct: CertBundle     # EC leaf for localhost issued by the root itself (no intermediate)
    expired: CertBundle           # localhost, not_after yesterday
    not_yet_valid: CertBundle     # localhost, not_before tomorrow
    self_signed: CertBundle       # localhost, self-signed
    wildcard: CertBundle          # CN *.example.com, SANs DNS:*.example.com, DNS:example.com
    ocsp: CertBundle              # localhost with AIA OCSP + CA Issuers URIs (127.0.0.1)
    revoked: CertBundle           # localhost, revoked by crl.pem
    client_ca: CertBundle         # separate self-signed CA for clients
    client: CertBundle            # CN=client, clientAuth EKU, issued by client_ca
    client_rsa: CertBundle        # same with RSA
    client_self_signed: CertBundle  # CN=client, self-signed, clientAuth
    encrypted: CertBundle         # `server` with key_pem encrypted under PASSPHRASE
    pfx: PfxBundle                # `server` as PKCS#12 under PASSPHRASE
    crl: CrlBundle                # intermediate CRL revoking `revoked`, plus the root's empty CRL
    passphrase: str = PASSPHRASE


LOCALHOST_SANS = ("DNS:localhost", "IP:127.0.0.1", "IP:::1")


def build_cert_set(directory: Path | str) -> CertSet:
    """Generate the standard :class:`CertSet` under ``directory``."""
    pki = PKI(directory)
    now = _now()
    day = _dt.timedelta(days=1)
    server = pki.make_leaf("localhost", LOCALHOST_SANS, name="server")
    revoked = pki.make_leaf("localhost", LOCALHOST_SANS, name="revoked")
    crl_pem, crl_path = pki.make_crl(pki.intermediate, [revoked.x509.serial_number],
                                     name="intermediate-crl")
    root_crl_pem, root_crl_path = pki.make_crl(pki.root, [], name="root-crl")
    return CertSet(
        dir=pki.directory,
        pki=pki,
        root=pki.root,
        intermediate=pki.intermediate,
        server=server,
        server_rsa=pki.make_leaf("localhost", LOCALHOST_SANS, key_type="rsa", name="server-rsa"),
        server_direct=pki.make_leaf("localhost", LOCALHOST_SANS, issuer=pki.root,
                                    name="server-direct"),
        expired=pki.make_leaf("localhost", LOCALHOST_SANS, name="expired",
                              not_before=now - 30 * day, not_after=now - day),
        not_yet_valid=pki.make_leaf("localhost", LOCALHOST_SANS, name="not-yet-valid",
                                    not_before=now + day, not_after=now + 30 * day),
        self_signed=pki.make_leaf("localhost", LOCALHOST_SANS, self_signed=True,
                                  name="self-signed"),
        wildcard=pki.make_leaf("*.example.com", ["DNS:*.example.com", "DNS:example.com"],
                               name="wildcard"),
        ocsp=pki.make_leaf("localhost", LOCALHOST_SANS, name="ocsp",
                           ocsp_url="http://127.0.0.1:8888/ocsp",
                           ca_issuers_url="http://127.0.0.1:8888/intermediate.crt"),
        revoked=revoked,
        client_ca=pki.client_ca,
        client=pki.make_client("client", name="client"),
        client_rsa=pki.make_client("client", key_type="rsa", name="client-rsa"),
        client_self_signed=pki.make_client("client", self_signed=True,
                                           name="client-self-signed"),
        encrypted=pki.encrypt_key(server),
        pfx=pki.make_pfx(server),
        crl=CrlBundle(pem=crl_pem, path=crl_path, root_pem=root_crl_pem,
                      root_path=root_crl_path, revoked_serial=revoked.x509.serial_number),
    )


#: RFC 7919's ffdhe2048 group, as `openssl genpkey -genparam -algorithm DH -pkeyopt
#: group:ffdhe2048` prints it.
FFDHE2048 = b"""-----BEGIN DH PARAMETERS-----
MIIBCAKCAQEA//////////+t+FRYortKmq/cViAnPTzx2LnFg84tNpWp4TZBFGQz
+8yTnc4kmz75fS/jY2MMddj2gbICrsRhetPfHtXV/WVhJDP1H18GbtCFY2VVPe0a
87VXE15/V8k1mE8McODmi3fipona8+/och3xWKE2rec1MKzKT0g6eXq8CrGCsyT7
YdEIqUuyyOP7uWrat2DX9GgdT0Kj3jlN9K5W7edjcrsZCwenyO4KbXCeAvzhzffi
7MA0BM0oNC9hkXL+nOmFg/+OTxIy7vKBg8P+OxtMb61zO7X8vC7CIAXFjvGDfRaD
ssbzSibBsu/6iGtCOGEoXJf//////////wIBAg==
-----END DH PARAMETERS-----
"""
