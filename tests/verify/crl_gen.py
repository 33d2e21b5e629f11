"""Seeded small PKIs with certificate revocation lists, for comparing the ``crl`` option with Node's.

``scenario(seed)`` draws (purely from ``seed``) a root, 0-2 intermediates and a leaf, one CRL per
CA (each CA's CRL lists what it issued; the root's also covers the root itself) and 1-3 flaws;
``build(scenario)`` issues it all. Levels count from the root (0) to the leaf (``n_inter + 1``);
a CRL's level is its issuer's. The flaws:

``revoked:L`` (certificate L is listed by its issuer's CRL: the root's own CRL for L = 0);
``crl_expired:L`` (nextUpdate past); ``crl_not_yet_valid:L`` (lastUpdate ahead);
``crl_wrong_key:L`` (signed by another key under the CA's name); ``crl_issuer_mismatch:L``
(issued under another name, so no CRL names that CA); ``crl_missing:L`` (that CA has no CRL
while the others have one: Node sets ``X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL``);
``crl_two_old:L`` / ``crl_two_new:L`` (a second CRL of the same CA, a day older / newer than the
first, listing the certificate the first does not); ``crl_others`` (every CRL also lists
unrelated serials); ``concat`` (all CRLs in one PEM string, rather than an array of one CRL
each); ``junk`` (text around each PEM block); ``expired_leaf``; ``untrusted_root`` (``ca`` is an
unrelated CA). Listed entries carry a reason (``Scenario.reason``: none, or one of RFC 5280's,
``removeFromCRL`` included).

Every leaf has both serverAuth and clientAuth in its extendedKeyUsage, so a chain serves as a
server's (named ``s<seed>.crl.test``) and as a client's.
"""

from __future__ import annotations

import datetime as _dt
import random
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from .pki_gen import _ku, _name, _pem

__all__ = ["CrlMaterial", "CrlScenario", "build", "describe", "scenario"]

_CRL_FLAWS = ("crl_expired", "crl_not_yet_valid", "crl_wrong_key", "crl_issuer_mismatch",
              "crl_missing", "crl_two_old", "crl_two_new")
_REASONS: tuple[x509.ReasonFlags | None, ...] = (None, *x509.ReasonFlags)


@dataclass(frozen=True)
class CrlScenario:
    seed: int
    n_inter: int
    flaws: tuple[str, ...]
    reason: str | None  # a ReasonFlags value, or None: no reasonCode entry extension

    @property
    def servername(self) -> str:
        return f"s{self.seed}.crl.test"

    def has(self, flaw: str, level: int | None = None) -> bool:
        return (flaw if level is None else f"{flaw}:{level}") in self.flaws


@dataclass(frozen=True)
class CrlMaterial:
    """``chain`` (PEM, leaf first) and ``key`` of the leaf; ``ca`` and ``crl`` for the verifying
    side (``crl``: a list of PEM strings, or one string holding them all)."""

    servername: str
    chain: str
    key: str
    ca: list[str] | None
    crl: list[str] | str


def _candidates(n_inter: int) -> list[str]:
    leaf = n_inter + 1
    out = [f"revoked:{lv}" for lv in range(leaf + 1)]
    out += [f"{f}:{lv}" for f in _CRL_FLAWS for lv in range(leaf)]
    return out + ["crl_others", "concat", "junk", "expired_leaf", "untrusted_root"]


def scenario(seed: int) -> CrlScenario:
    r = random.Random(seed)
    n_inter = r.choice([0, 1, 1, 2])
    k = r.choice([1, 1, 2, 2, 3])
    flaws = tuple(sorted(r.sample(_candidates(n_inter), k)))
    reason = r.choice(_REASONS)
    return CrlScenario(seed, n_inter, flaws, None if reason is None else reason.value)


def _crl(issuer: x509.Name, key: ec.EllipticCurvePrivateKey, serials: list[int],
         reason: str | None, last: _dt.datetime, nxt: _dt.datetime) -> str:
    b = (x509.CertificateRevocationListBuilder().issuer_name(issuer)
         .last_update(last).next_update(nxt))
    for serial in serials:
        rb = (x509.RevokedCertificateBuilder().serial_number(serial)
              .revocation_date(last - _dt.timedelta(hours=1)))
        if reason is not None:
            rb = rb.add_extension(x509.CRLReason(x509.ReasonFlags(reason)), critical=False)
        b = b.add_revoked_certificate(rb.build())
    pem: bytes = b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
    return pem.decode()


def build(sc: CrlScenario) -> CrlMaterial:
    """Issue ``sc``'s certificates and CRLs (fresh EC keys; validity around now)."""
    now = _dt.datetime.now(_dt.UTC).replace(microsecond=0)
    day = _dt.timedelta(days=1)
    leaf_level = sc.n_inter + 1
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(leaf_level + 1)]
    names = [f"crl root {sc.seed}"] + [f"crl inter {sc.seed}.{i}" for i in range(1, leaf_level)]
    names.append(sc.servername)
    serials = [x509.random_serial_number() for _ in range(leaf_level + 1)]
    certs: list[x509.Certificate] = []
    for lv in range(leaf_level + 1):
        leaf = lv == leaf_level
        issuer = 0 if lv == 0 else lv - 1
        nb, na = now - 2 * day, now + 30 * day
        if leaf and sc.has("expired_leaf"):
            nb, na = now - 30 * day, now - day
        b = (x509.CertificateBuilder().subject_name(_name(names[lv]))
             .issuer_name(_name(names[issuer])).public_key(keys[lv].public_key())
             .serial_number(serials[lv]).not_valid_before(nb).not_valid_after(na)
             .add_extension(x509.BasicConstraints(ca=not leaf, path_length=None), critical=True)
             .add_extension(_ku(not leaf, leaf), critical=True))
        if leaf:
            b = (b.add_extension(x509.SubjectAlternativeName([x509.DNSName(sc.servername)]),
                                 critical=False)
                 .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                       ExtendedKeyUsageOID.CLIENT_AUTH]),
                                critical=False))
        certs.append(b.sign(keys[issuer], hashes.SHA256()))

    r = random.Random(sc.seed ^ 0x5EED)
    crls: list[str] = []
    for lv in range(leaf_level):  # lv: the CA issuing this CRL
        if sc.has("crl_missing", lv):
            continue
        covered = [lv + 1] + ([0] if lv == 0 else [])
        listed = [serials[c] for c in covered if sc.has("revoked", c)]
        if sc.has("crl_others"):
            listed += [x509.random_serial_number() for _ in range(r.randint(1, 3))]
        last, nxt = now - day, now + 7 * day
        if sc.has("crl_expired", lv):
            last, nxt = now - 10 * day, now - day
        elif sc.has("crl_not_yet_valid", lv):
            last = now + day
        issuer_name = _name(names[lv])
        if sc.has("crl_issuer_mismatch", lv):
            issuer_name = _name(f"another issuer {sc.seed}.{lv}")
        signer = keys[lv]
        if sc.has("crl_wrong_key", lv):
            signer = ec.generate_private_key(ec.SECP256R1())
        crls.append(_crl(issuer_name, signer, listed, sc.reason, last, nxt))
        for variant, shift in (("crl_two_old", -day), ("crl_two_new", day)):
            if sc.has(variant, lv):  # a second CRL listing what the first does not
                other = [serials[c] for c in covered if not sc.has("revoked", c)]
                crls.append(_crl(_name(names[lv]), keys[lv], other, sc.reason, last + shift,
                                 nxt + shift))
    if sc.has("junk"):
        crls = [f"junk before {i}\n{c}junk after {i}\n" for i, c in enumerate(crls)]
    crl: list[str] | str = "".join(crls) if sc.has("concat") else crls

    ca = [_pem(certs[0])]
    if sc.has("untrusted_root"):
        okey = ec.generate_private_key(ec.SECP256R1())
        oname = _name(f"crl other root {sc.seed}")
        ca = [_pem(x509.CertificateBuilder().subject_name(oname).issuer_name(oname)
                   .public_key(okey.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - day).not_valid_after(now + 30 * day)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .add_extension(_ku(True, False), critical=True)
                   .sign(okey, hashes.SHA256()))]
    key_pem = keys[leaf_level].private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    chain = "".join(_pem(certs[lv]) for lv in range(leaf_level, 0, -1))
    return CrlMaterial(sc.servername, chain, key_pem, ca, crl)


def describe(sc: CrlScenario) -> dict[str, Any]:
    return {"seed": sc.seed, "n_inter": sc.n_inter, "flaws": list(sc.flaws), "reason": sc.reason}
