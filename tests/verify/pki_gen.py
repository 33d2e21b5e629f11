"""Seeded small PKIs with flaws, for comparing certificate verification with Node's.

``scenario(seed)`` draws (purely from ``seed``) a chain -- root, 0-2 intermediates, leaf -- and
0-3 flaws; ``build(scenario)`` issues it and says what the server sends and what the client
trusts. Levels count from the root (0) to the leaf (``n_inter + 1``). The flaws:

``expired:L`` / ``not_yet_valid:L``; ``wrong_key:L`` (signed by another key under the issuer's
name); ``sha1:L`` (signature of level L with SHA-1); ``rsa1024:L`` (level L's key is RSA-1024);
``ca_false:L`` (an intermediate with CA:FALSE); ``pathlen:L`` (a CA with pathlen 0 above an
intermediate); ``ku_no_certsign:L`` (a CA's keyUsage without keyCertSign); ``nc_permitted:L`` /
``nc_excluded:L`` (a CA's name constraints the leaf's name violates); ``eku_client`` /
``eku_code`` / ``eku_none`` (the leaf's EKU: clientAuth only, codeSigning only, no extension);
``self_signed`` (the leaf signs itself; the root is still the ``ca``); ``self_signed_trusted``
(same, and the leaf is the ``ca``); ``missing_inter`` (the server leaves an intermediate out);
``root_sent`` (the server sends the root too); ``untrusted_root`` (``ca`` is an unrelated CA);
``extra_ca`` (``ca`` is the root plus an unrelated CA); ``no_ca`` (no ``ca``: the default
roots); ``wrong_name`` (the leaf names another host than the client's ``servername``).

The leaf names ``s<seed>.verify.test`` (the ``servername`` the server routes on by SNI).
"""

from __future__ import annotations

import datetime as _dt
import random
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["Material", "Scenario", "build", "scenario"]

Key = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

_CA_LEVEL_FLAWS = ("pathlen", "ku_no_certsign", "nc_permitted", "nc_excluded")
_LEAF_FLAWS = ("eku_client", "eku_code", "eku_none", "self_signed", "self_signed_trusted",
               "wrong_name")
_TRUST_FLAWS = ("untrusted_root", "extra_ca", "no_ca")


@dataclass(frozen=True)
class Scenario:
    seed: int
    n_inter: int
    flaws: tuple[str, ...]

    @property
    def servername(self) -> str:
        return f"s{self.seed}.verify.test"

    def has(self, flaw: str, level: int | None = None) -> bool:
        return (flaw if level is None else f"{flaw}:{level}") in self.flaws


@dataclass(frozen=True)
class Material:
    """What the server sends (``chain``: PEM, leaf first; ``key``) and what both clients are
    given (``ca``: PEM strings, or None for the default roots; ``servername``)."""

    servername: str
    chain: str
    key: str
    ca: list[str] | None


def _candidates(n_inter: int) -> list[str]:
    leaf = n_inter + 1
    out = [f"{f}:{lv}" for f in ("expired", "not_yet_valid", "rsa1024") for lv in range(leaf + 1)]
    out += [f"{f}:{lv}" for f in ("wrong_key", "sha1") for lv in range(1, leaf + 1)]
    out += ["sha1:0"]
    out += [f"ca_false:{lv}" for lv in range(1, leaf)]
    out += [f"pathlen:{lv}" for lv in range(n_inter)]  # a CA with an intermediate below it
    out += [f"{f}:{lv}" for f in _CA_LEVEL_FLAWS[1:] for lv in range(leaf)]
    out += list(_LEAF_FLAWS) + list(_TRUST_FLAWS) + ["root_sent"]
    if n_inter:
        out.append("missing_inter")
    return out


def scenario(seed: int) -> Scenario:
    r = random.Random(seed)
    n_inter = r.choice([0, 1, 1, 2])
    k = r.choice([0, 1, 1, 1, 2, 2, 3])
    flaws = tuple(sorted(r.sample(_candidates(n_inter), k)))
    return Scenario(seed, n_inter, flaws)


# -- issuing -----------------------------------------------------------------------------------

def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(content)) + content


def _children(der: bytes) -> list[bytes]:
    """The encoded elements inside one DER SEQUENCE."""
    def header(off: int) -> tuple[int, int]:  # (content start, content length)
        first = der[off + 1]
        if first < 0x80:
            return off + 2, first
        n = first & 0x7F
        return off + 2 + n, int.from_bytes(der[off + 2: off + 2 + n], "big")

    start, length = header(0)
    out, off = [], start
    while off < start + length:
        c, n = header(off)
        out.append(der[off: c + n])
        off = c + n
    return out


_SHA1_ALG = {  # the signer's key type -> AlgorithmIdentifier of its SHA-1 signature
    "ec": _tlv(0x30, _tlv(0x06, bytes.fromhex("2a8648ce3d0401"))),
    "rsa": _tlv(0x30, _tlv(0x06, bytes.fromhex("2a864886f70d010105")) + b"\x05\x00"),
}


def _resign_sha1(cert: x509.Certificate, signer: Key) -> x509.Certificate:
    """``cert`` signed again with SHA-1 (``cryptography`` no longer signs certificates so)."""
    kind = "ec" if isinstance(signer, ec.EllipticCurvePrivateKey) else "rsa"
    parts = _children(cert.tbs_certificate_bytes)
    parts[2] = _SHA1_ALG[kind]  # version, serial, *signature*, issuer, ...
    tbs = _tlv(0x30, b"".join(parts))
    if isinstance(signer, ec.EllipticCurvePrivateKey):
        sig = signer.sign(tbs, ec.ECDSA(hashes.SHA1()))
    else:
        sig = signer.sign(tbs, padding.PKCS1v15(), hashes.SHA1())
    der = _tlv(0x30, tbs + _SHA1_ALG[kind] + _tlv(0x03, b"\x00" + sig))
    return x509.load_der_x509_certificate(der)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "nodetls verify"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ku(cert_sign: bool, leaf: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=cert_sign, crl_sign=not leaf, encipher_only=False,
                         decipher_only=False)


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def build(sc: Scenario, *, client: bool = False) -> Material:
    """Issue ``sc``'s certificates (fresh keys; validity around now). ``client``: the chain is
    a client's, so the leaf's usual EKU is clientAuth, and ``eku_client`` gives serverAuth."""
    now = _dt.datetime.now(_dt.UTC).replace(microsecond=0)
    day = _dt.timedelta(days=1)
    leaf_level = sc.n_inter + 1
    keys: list[Key] = [
        rsa.generate_private_key(65537, 1024) if sc.has("rsa1024", lv)
        else ec.generate_private_key(ec.SECP256R1()) for lv in range(leaf_level + 1)]
    names = [f"root {sc.seed}"] + [f"inter {sc.seed}.{i}" for i in range(1, leaf_level)]
    names.append(sc.servername)
    self_signed_leaf = sc.has("self_signed") or sc.has("self_signed_trusted")
    certs: list[x509.Certificate] = []
    for lv in range(leaf_level + 1):
        leaf = lv == leaf_level
        own_issuer = lv == 0 or (leaf and self_signed_leaf)
        issuer_name = _name(names[lv]) if own_issuer else certs[lv - 1].subject
        issuer_key = keys[lv] if own_issuer else keys[lv - 1]
        nb, na = now - day, now + 30 * day
        if sc.has("expired", lv):
            nb, na = now - 30 * day, now - day
        elif sc.has("not_yet_valid", lv):
            nb = now + day
        b = (x509.CertificateBuilder().subject_name(_name(names[lv])).issuer_name(issuer_name)
             .public_key(keys[lv].public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(nb).not_valid_after(na)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(keys[lv].public_key()),
                            critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                 issuer_key.public_key()), critical=False))
        if leaf:
            b = b.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            b = b.add_extension(_ku(False, True), critical=True)
            host = "other.verify.test" if sc.has("wrong_name") else sc.servername
            b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            eku = {"eku_client": [ExtendedKeyUsageOID.CLIENT_AUTH],
                   "eku_code": [ExtendedKeyUsageOID.CODE_SIGNING], "eku_none": []}
            own, other = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH
            if client:
                own, other = other, own
            eku["eku_client"] = [other]
            usage = next((v for f, v in eku.items() if sc.has(f)), [own])
            if usage:
                b = b.add_extension(x509.ExtendedKeyUsage(usage), critical=False)
        else:
            # (a pathLenConstraint exists only on a CA: with ca_false too, the CA:FALSE flaw wins)
            pathlen = 0 if sc.has("pathlen", lv) and not sc.has("ca_false", lv) else None
            b = b.add_extension(x509.BasicConstraints(ca=not sc.has("ca_false", lv),
                                                      path_length=pathlen), critical=True)
            b = b.add_extension(_ku(not sc.has("ku_no_certsign", lv), False), critical=True)
            if sc.has("nc_permitted", lv):
                b = b.add_extension(x509.NameConstraints(
                    [x509.DNSName("permitted.verify.test")], None), critical=True)
            elif sc.has("nc_excluded", lv):
                b = b.add_extension(x509.NameConstraints(
                    None, [x509.DNSName(sc.servername)]), critical=True)
        signer = issuer_key
        if sc.has("wrong_key", lv):
            signer = ec.generate_private_key(ec.SECP256R1())
        cert = b.sign(signer, hashes.SHA256())
        if sc.has("sha1", lv):
            cert = _resign_sha1(cert, signer)
        certs.append(cert)

    sent = [certs[leaf_level]]
    if not self_signed_leaf:
        inters = list(range(sc.n_inter, 0, -1))  # nearest the leaf first
        if sc.has("missing_inter"):
            inters.remove(random.Random(sc.seed).choice(inters))
        sent += [certs[lv] for lv in inters]
        if sc.has("root_sent"):
            sent.append(certs[0])
    ca: list[str] | None = [_pem(certs[0])]
    if sc.has("self_signed_trusted"):
        ca = [_pem(certs[leaf_level])]
    other = None
    if sc.has("untrusted_root") or sc.has("extra_ca"):
        okey = ec.generate_private_key(ec.SECP256R1())
        oname = _name(f"other root {sc.seed}")
        other = (x509.CertificateBuilder().subject_name(oname).issuer_name(oname)
                 .public_key(okey.public_key()).serial_number(x509.random_serial_number())
                 .not_valid_before(now - day).not_valid_after(now + 30 * day)
                 .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                 .add_extension(_ku(True, False), critical=True)
                 .sign(okey, hashes.SHA256()))
    if sc.has("untrusted_root") and other is not None:
        ca = [_pem(other)]
    elif sc.has("extra_ca") and other is not None and ca is not None:
        ca = ca + [_pem(other)]
    if sc.has("no_ca"):
        ca = None
    key_pem = keys[leaf_level].private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    return Material(sc.servername, "".join(_pem(c) for c in sent), key_pem, ca)


def describe(sc: Scenario) -> dict[str, Any]:
    return {"seed": sc.seed, "n_inter": sc.n_inter, "flaws": list(sc.flaws)}
