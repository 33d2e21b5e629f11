"""Seeded random X.509 certificates that stress the certificate-dict formatting.

``generate(seed)`` is the DER of one certificate, the same for the same seed on every machine
(``random.Random(seed)``; keys are derived from seeded numbers, never generated). The TBS is
built by hand in DER, so everything ``cryptography``'s builder refuses is reachable: serials of
every length and sign, UTCTime and GeneralizedTime of any year, every string type in names
(UTF8, Printable, IA5, T61, BMP, Universal, Numeric), empty values, repeated and multi-valued
RDNs in any order, subjectAltName of every GeneralName kind cryptography reads, AIA with several
methods and location kinds, extended key usage with unknown OIDs, CRL distribution points.
RSA keys have a random odd "modulus" of the chosen size (neither oracle checks that it is a
product of primes). The signature is a real ECDSA signature by a fixed issuer key.

Some features make a certificate that ``cryptography`` (and so nodetls) cannot load at all --
fractional seconds in a GeneralizedTime, a T61String that is not UTF-8 -- or whose extensions
it cannot decode -- a duplicate subjectAltName, an x400Address or ediPartyName -- and are
produced with ``hostile=True`` only (the harness counts those apart; see ``compare.py``).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519

__all__ = ["build", "ext", "generate", "name", "oid", "seq", "tlv"]

# -- DER ---------------------------------------------------------------------------------------


def tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def seq(*parts: bytes) -> bytes:
    return tlv(0x30, b"".join(parts))


def oid(dotted: str) -> bytes:
    arcs = [int(x) for x in dotted.split(".")]
    out = bytearray()
    for v in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [v & 0x7F]
        v >>= 7
        while v:
            chunk.append(0x80 | (v & 0x7F))
            v >>= 7
        out += bytes(reversed(chunk))
    return tlv(0x06, bytes(out))


def integer(n: int) -> bytes:
    """Minimal two's complement INTEGER."""
    size = 1
    while not -(1 << (8 * size - 1)) <= n < (1 << (8 * size - 1)):
        size += 1
    return tlv(0x02, n.to_bytes(size, "big", signed=True))


# -- names -------------------------------------------------------------------------------------

UTF8, NUMERIC, PRINTABLE, T61, IA5, UNIVERSAL, BMP = 0x0C, 0x12, 0x13, 0x14, 0x16, 0x1C, 0x1E
_PRINTABLE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?")

_ATTRS = [
    "2.5.4.3", "2.5.4.3", "2.5.4.10", "2.5.4.11", "2.5.4.11", "2.5.4.6", "2.5.4.7", "2.5.4.8",
    "1.2.840.113549.1.9.1", "0.9.2342.19200300.100.1.25", "0.9.2342.19200300.100.1.1",
    "2.5.4.5", "2.5.4.42", "2.5.4.4", "2.5.4.12", "2.5.4.9", "2.5.4.17", "2.5.4.15",
    "1.3.6.1.4.1.311.60.2.1.3", "2.5.4.97", "2.5.4.13", "2.5.4.65", "2.5.4.41", "2.5.4.46",
    "1.2.840.113549.1.9.2", "2.5.4.44", "2.5.4.43", "2.5.4.72", "2.5.4.18", "2.5.4.20",
    "1.2.643.100.1", "1.2.3.4.5", "2.999.7", "1.3.6.1.4.1.99999.1.2",
]
_PIECES = ["a", "b", "Z", "9", "example", " ", ",", "+", '"', "\\", "<", ">", ";", "=", "#",
           "\n", "\t", ".", "-", ":", "/", "'", "@", "_", "é", "ü", "中", "😀", "\x7f", "&",
           "*", "(", ")", "?", "ß"]


def _text(rng: random.Random, lo: int = 0, hi: int = 6) -> str:
    n = rng.randint(lo, hi)
    s = "".join(rng.choice(_PIECES) for _ in range(n))
    if rng.random() < 0.15:
        s = " " + s
    if rng.random() < 0.15:
        s += " "
    if rng.random() < 0.05:
        s = "#" + s
    return s


def _string(rng: random.Random, value: str, hostile: bool) -> bytes:
    """``value`` as a random string type it fits (a T61/IA5 string holds UTF-8 bytes)."""
    types = [UTF8, UTF8, UTF8, IA5, T61]
    if all(ord(c) < 0x10000 for c in value):
        types.append(BMP)
    types.append(UNIVERSAL)
    if value and set(value) <= _PRINTABLE_CHARS:
        types += [PRINTABLE, PRINTABLE]
    if value and set(value) <= set("0123456789 "):
        types.append(NUMERIC)
    tag = rng.choice(types)
    if tag == BMP:
        return tlv(tag, value.encode("utf-16-be"))
    if tag == UNIVERSAL:
        return tlv(tag, value.encode("utf-32-be"))
    if tag == T61 and hostile and rng.random() < 0.3:
        return tlv(tag, value.encode("latin-1", "replace"))
    return tlv(tag, value.encode())


def _name(rng: random.Random, hostile: bool, max_rdns: int = 6) -> bytes:
    rdns = []
    pool = rng.sample(_ATTRS, 4)  # a few types, so repeats are common
    for _ in range(rng.randint(0, max_rdns)):
        types = rng.sample(_ATTRS, rng.randint(2, 3)) if rng.random() < 0.2 else [
            rng.choice(pool)]
        atvs = []
        for t in types:
            value = _text(rng, 0 if rng.random() < 0.1 else 1)
            if t == "2.5.4.6" and rng.random() < 0.7:
                value = rng.choice(["DE", "US", "FR"])
            atvs.append(seq(oid(t), _string(rng, value, hostile)))
        rdns.append(tlv(0x31, b"".join(sorted(atvs))))  # DER orders a SET (cryptography checks)
    return seq(*rdns)


# -- keys --------------------------------------------------------------------------------------

_CURVES: list[Callable[[], ec.EllipticCurve]] = [
    ec.SECP256R1, ec.SECP384R1, ec.SECP521R1, ec.SECP256K1, ec.SECP224R1, ec.SECP192R1,
    ec.BrainpoolP256R1, ec.BrainpoolP384R1, ec.BrainpoolP512R1,
]
_RSA_BITS = [1024, 1028, 1536, 2047, 2048, 2049, 3072, 4096]


def _spki(rng: random.Random) -> bytes:
    kind = rng.choice(["rsa", "rsa", "ec", "ec", "ec", "ed25519", "ed448"])
    if kind == "rsa":
        bits = rng.choice(_RSA_BITS) if rng.random() < 0.7 else rng.randint(1024, 4096)
        n = rng.getrandbits(bits) | (1 << (bits - 1)) | 1
        e = rng.choice([3, 17, 65537, 65537, rng.randrange(3, 1 << 32) | 1,
                        rng.randrange(1 << 63, 1 << 64) | 1])
        alg = seq(oid("1.2.840.113549.1.1.1"), tlv(0x05, b""))
        return seq(alg, tlv(0x03, b"\x00" + seq(integer(n), integer(e))))
    if kind == "ec":
        curve = rng.choice(_CURVES)()
        order_bits = curve.key_size
        key = ec.derive_private_key(rng.randrange(1, 1 << (order_bits - 2)), curve).public_key()
        fmt = (serialization.PublicFormat.CompressedPoint if rng.random() < 0.3
               else serialization.PublicFormat.UncompressedPoint)
        point = key.public_bytes(serialization.Encoding.X962, fmt)
        spki = key.public_bytes(serialization.Encoding.DER,
                                serialization.PublicFormat.SubjectPublicKeyInfo)
        body = spki[2 + (spki[1] & 0x7F if spki[1] & 0x80 else 0):]  # inside the outer SEQ
        alg = body[:2 + body[1]]  # the AlgorithmIdentifier (short)
        return seq(alg, tlv(0x03, b"\x00" + point))
    if kind == "ed25519":
        pub25519 = ed25519.Ed25519PrivateKey.from_private_bytes(rng.randbytes(32)).public_key()
        return pub25519.public_bytes(serialization.Encoding.DER,
                                     serialization.PublicFormat.SubjectPublicKeyInfo)
    pub448 = ed448.Ed448PrivateKey.from_private_bytes(rng.randbytes(57)).public_key()
    return pub448.public_bytes(serialization.Encoding.DER,
                               serialization.PublicFormat.SubjectPublicKeyInfo)


# -- serial and times --------------------------------------------------------------------------


def _serial(rng: random.Random) -> int:
    kind = rng.randrange(9)
    if kind == 0:
        return rng.choice([0, 1, 0x7F, 0x80, 0xFF, 0x100])
    if kind == 1:
        return rng.randrange(1, 0x80)
    if kind == 2:
        return rng.randrange(0x80, 0x100) << (8 * rng.randrange(0, 19))  # leading 0x00 byte
    if kind == 3:
        return rng.getrandbits(159) | (1 << 158)  # 20 bytes
    if kind == 4:
        return -rng.randrange(1, 1 << (8 * rng.randint(1, 20)))
    if kind == 5:
        return rng.getrandbits(8 * rng.randint(21, 45))  # longer than RFC 5280 allows
    return rng.getrandbits(8 * rng.randint(1, 20))


def _time(rng: random.Random, hostile: bool) -> bytes:
    era = rng.random()
    year = (rng.randint(1950, 2049) if era < 0.6 else rng.randint(1, 1949) if era < 0.8
            else rng.randint(2050, 9999))
    month = rng.randint(1, 12)
    day = 1 if rng.random() < 0.3 else rng.randint(1, 28)
    hour = 0 if rng.random() < 0.3 else rng.randint(0, 23)
    minute = rng.choice([0, rng.randint(0, 59)])
    second = rng.choice([0, rng.randint(0, 59)])
    tail = f"{month:02d}{day:02d}{hour:02d}{minute:02d}{second:02d}"
    if 1950 <= year <= 2049 and rng.random() < 0.85:
        return tlv(0x17, f"{year % 100:02d}{tail}Z".encode())
    frac = ""
    if hostile and rng.random() < 0.3:
        frac = "." + str(rng.randint(1, 999)).rstrip("0")
    return tlv(0x18, f"{year:04d}{tail}{frac}Z".encode())


# -- extensions --------------------------------------------------------------------------------

_OTHERNAMES = [("1.3.6.1.4.1.311.20.2.3", UTF8), ("1.3.6.1.5.5.7.8.7", IA5),
               ("1.3.6.1.5.5.7.8.5", UTF8), ("1.3.6.1.5.5.7.8.9", UTF8),
               ("1.3.6.1.5.5.7.8.8", UTF8), ("1.3.6.1.4.1.311.20.2.3", IA5),
               ("1.2.3.9", UTF8)]
_RIDS = ["1.2.3.4", "1.3.6.1.5.5.7.3.1", "2.999.1", "1.3.6.1.5.5.7.48.1", "2.5.4.3"]


def _ascii(rng: random.Random) -> str:
    """Mostly ASCII text for an IA5String; now and then UTF-8 (cryptography reads it)."""
    text = _text(rng, 1, 8)
    return text if rng.random() < 0.1 else "".join(c for c in text if ord(c) < 0x80) or "x"


def _general_name(rng: random.Random, hostile: bool, kinds: str = "DIEURNO") -> bytes:
    kind = rng.choice(kinds)
    if kind == "D":
        return tlv(0x82, rng.choice([_ascii(rng), "a.example", "*.example.com"]).encode())
    if kind == "E":
        return tlv(0x81, (_ascii(rng) + "@" + _ascii(rng)).encode())
    if kind == "U":
        return tlv(0x86, ("http://" + _ascii(rng) + "/" + _ascii(rng)).encode())
    if kind == "I":
        if rng.random() < 0.1:  # address + mask (a name-constraint form; cryptography: network)
            size = rng.choice([4, 16])
            prefix = rng.randint(0, 8 * size)
            mask = ((1 << (8 * size)) - 1) ^ ((1 << (8 * size - prefix)) - 1)
            net = int.from_bytes(rng.randbytes(size), "big") & mask
            return tlv(0x87, net.to_bytes(size, "big") + mask.to_bytes(size, "big"))
        if rng.random() < 0.4:
            return tlv(0x87, rng.randbytes(4))
        packed = rng.choice([bytes(15) + b"\x01", bytes(10) + b"\xff\xff" + rng.randbytes(4),
                             b"\xfe\x80" + bytes(13) + b"\x01", rng.randbytes(16),
                             b"\x20\x01\x0d\xb8" + bytes(12)])
        return tlv(0x87, packed)
    if kind == "R":
        return tlv(0x88, oid(rng.choice(_RIDS))[2:])
    if kind == "N":
        return tlv(0xA4, _name(rng, hostile, 3))
    if kind == "X":  # cryptography refuses these (hostile only)
        return tlv(rng.choice([0xA3, 0xA5]), seq(tlv(0xA1, tlv(UTF8, b"x"))))
    type_id, tag = rng.choice(_OTHERNAMES)
    value = _text(rng, 1, 6) if tag == UTF8 else _ascii(rng)
    inner = tlv(tag, value.encode())
    if rng.random() < 0.1:
        inner = rng.choice([integer(5), seq(integer(5)), tlv(tag, b"a\x00b")])
    return tlv(0xA0, oid(type_id) + tlv(0xA0, inner))


def ext(ext_oid: str, value: bytes, critical: bool = False) -> bytes:
    return seq(oid(ext_oid), tlv(0x01, b"\xff") if critical else b"", tlv(0x04, value))


def _extensions(rng: random.Random, hostile: bool) -> list[bytes]:
    exts: list[bytes] = []
    if rng.random() < 0.4:
        ca = rng.random() < 0.5
        body = (tlv(0x01, b"\xff") if ca else b"") + (
            integer(rng.randint(0, 3)) if ca and rng.random() < 0.3 else b"")
        exts.append(ext("2.5.29.19", seq(body), rng.random() < 0.5))
    if rng.random() < 0.3:
        bits = rng.randrange(2, 256, 2) | (rng.random() < 0.1 and 0x09)  # encipherOnly: with
        exts.append(ext("2.5.29.15", tlv(0x03, b"\x00" + bytes([bits])), True))  # keyAgreement
    kinds = "DIEURNOX" if hostile else "DIEURNO"
    for _ in range(2 if hostile and rng.random() < 0.1 else 1):  # twice: a duplicate
        if rng.random() < 0.75:
            names = [_general_name(rng, hostile, kinds) for _ in range(rng.randint(0, 8))]
            exts.append(ext("2.5.29.17", seq(*names)))
    if rng.random() < 0.4:
        methods = ["1.3.6.1.5.5.7.48.1", "1.3.6.1.5.5.7.48.2", "1.3.6.1.5.5.7.48.1",
                   "1.3.6.1.5.5.7.48.2", "1.3.6.1.5.5.7.48.5", "1.3.6.1.5.5.7.48.3", "1.2.3.7"]
        ads = [seq(oid(rng.choice(methods)), _general_name(rng, hostile, "UUUUDEN"))
               for _ in range(rng.randint(1, 5))]
        exts.append(ext("1.3.6.1.5.5.7.1.1", seq(*ads)))
    if rng.random() < 0.4:
        usages = ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.3",
                  "1.3.6.1.5.5.7.3.9", "2.5.29.37.0", "1.2.3.4.5.6", "1.3.6.1.4.1.99999.7"]
        exts.append(ext("2.5.29.37", seq(*[oid(rng.choice(usages))
                                            for _ in range(rng.randint(1, 4))])))
    if rng.random() < 0.3:
        dps = []
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.8:
                full = b"".join(_general_name(rng, hostile, "UUUN")
                                for _ in range(rng.randint(1, 3)))
                dpn = tlv(0xA0, tlv(0xA0, full))
            else:
                dpn = tlv(0xA0, tlv(0xA1, seq(oid("2.5.4.3"), tlv(UTF8, b"crl"))))
            dps.append(seq(dpn))
        exts.append(ext("2.5.29.31", seq(*dps)))
    if rng.random() < 0.1:
        exts.append(ext("1.2.3.4.99", rng.randbytes(rng.randint(0, 8))))
    rng.shuffle(exts)
    return exts


# -- certificate -------------------------------------------------------------------------------

_ISSUER_KEY = ec.derive_private_key(0x5EED, ec.SECP256R1())
_ECDSA_SHA256 = seq(oid("1.2.840.10045.4.3.2"))


def build(*, serial: int = 1, issuer: bytes | None = None, subject: bytes | None = None,
          not_before: bytes = b"\x17\x0d250101000000Z", not_after: bytes = b"\x17\x0d300101000000Z",
          spki: bytes | None = None, extensions: list[bytes] | None = None,
          version: int = 2) -> bytes:
    """A signed certificate from DER parts (``extensions``: :func:`ext` values)."""
    if spki is None:
        spki = _ISSUER_KEY.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    parts = [tlv(0xA0, integer(version))] if version else []
    parts += [integer(serial), _ECDSA_SHA256, seq() if issuer is None else issuer,
              seq(not_before, not_after), seq() if subject is None else subject, spki]
    if extensions:
        parts.append(tlv(0xA3, seq(*extensions)))
    tbs = seq(*parts)
    sig = _ISSUER_KEY.sign(tbs, ec.ECDSA(hashes.SHA256()))
    return seq(tbs, _ECDSA_SHA256, tlv(0x03, b"\x00" + sig))


def name(*rdns: list[tuple[str, int, bytes]]) -> bytes:
    """A Name from RDNs of ``(oid, string tag, contents)``."""
    return seq(*[tlv(0x31, b"".join(sorted(seq(oid(o), tlv(t, v)) for o, t, v in rdn)))
                 for rdn in rdns])


def generate(seed: int, hostile: bool = False) -> bytes:
    """The DER certificate of ``seed`` (``hostile``: also features cryptography rejects)."""
    rng = random.Random(seed)
    version = rng.choice([2, 2, 2, 2, 2, 0])  # (cryptography refuses v2)
    subject = _name(rng, hostile)
    issuer = subject if rng.random() < 0.2 else _name(rng, hostile)
    serial = _serial(rng)
    not_before, not_after = _time(rng, hostile), _time(rng, hostile)
    spki = _spki(rng)
    return build(serial=serial, issuer=issuer, subject=subject, not_before=not_before,
                 not_after=not_after, spki=spki,
                 extensions=_extensions(rng, hostile) if version == 2 else None,
                 version=version)
