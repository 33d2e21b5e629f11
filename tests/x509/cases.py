"""Named certificates, one per difference the seeded runs found (each fixed in nodetls), and the
certificates cryptography refuses or reads only in part (nodetls reads them through OpenSSL)."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .gen import build, ext, name, oid, seq, tlv

UTF8, PRINTABLE, T61, IA5, BMP = 0x0C, 0x13, 0x14, 0x16, 0x1E
SAN, AIA, CDP = "2.5.29.17", "1.3.6.1.5.5.7.1.1", "2.5.29.31"


def _compressed_p256() -> bytes:
    key = ec.derive_private_key(7, ec.SECP256R1()).public_key()
    point = key.public_bytes(serialization.Encoding.X962,
                             serialization.PublicFormat.CompressedPoint)
    alg = seq(oid("1.2.840.10045.2.1"), oid("1.2.840.10045.3.1.7"))
    return seq(alg, tlv(0x03, b"\x00" + point))


def _dirname(*rdns: list[tuple[str, int, bytes]]) -> bytes:
    return tlv(0xA4, name(*rdns))


#: name -> DER
CASES: dict[str, bytes] = {
    # UTF-8 bytes in one-byte string types: OpenSSL reads each byte as a Latin-1 character
    "one_byte_strings": build(subject=name(
        [("2.5.4.3", T61, "café".encode())], [("2.5.4.10", IA5, "Zürich 😀".encode())],
        [("2.5.4.11", BMP, "中".encode("utf-16-be"))], [("2.5.4.6", PRINTABLE, b"DE")])),
    # a compressed EC point: Node gives the uncompressed one
    "compressed_point": build(spki=_compressed_p256()),
    # a DirName value that is a lone '#' is not escaped; ssl's long names; RID; othernames
    "san_kinds": build(
        subject=name([("2.5.4.42", UTF8, b"Gina")], [("2.5.4.4", UTF8, b"Sur")],
                     [("2.5.4.15", UTF8, b"bc"), ("1.2.3.4.5", UTF8, b"x")]),
        extensions=[ext(SAN, seq(
            _dirname([("2.5.4.17", UTF8, b"#")], [("2.5.4.3", UTF8, b"#x")]),
            tlv(0x88, oid("2.5.4.3")[2:]), tlv(0x88, oid("1.2.3.4")[2:]),
            tlv(0xA0, oid("1.3.6.1.4.1.311.20.2.3") + tlv(0xA0, tlv(UTF8, b"u@x\nrest"))),
            tlv(0xA0, oid("1.2.3.9") + tlv(0xA0, tlv(UTF8, b"v"))),
            tlv(0x87, bytes(15) + b"\x01"),
            tlv(0x82, "é.example".encode()),
        ))]),
    # an iPAddress with a mask (8 bytes): cryptography reads an IPv4Network
    "ip_with_mask": build(extensions=[ext(SAN, seq(tlv(0x87, bytes([10, 0, 0, 0, 255, 0, 0, 0]))))]),
    "empty_san": build(extensions=[ext(SAN, seq())]),
    # ssl's OCSP / caIssuers / crlDistributionPoints (URIs only)
    "aia_cdp": build(extensions=[
        ext(AIA, seq(seq(oid("1.3.6.1.5.5.7.48.1"), tlv(0x86, b"http://o/1")),
                     seq(oid("1.3.6.1.5.5.7.48.2"), tlv(0x82, b"dns.example")),
                     seq(oid("1.3.6.1.5.5.7.48.2"), tlv(0x86, b"http://c/1")),
                     seq(oid("1.3.6.1.5.5.7.48.1"), tlv(0x86, b"http://o/2")))),
        ext(CDP, seq(seq(tlv(0xA0, tlv(0xA0, tlv(0x86, b"http://crl/1") + tlv(0x82, b"d")))),
                     seq(tlv(0xA0, tlv(0xA1, seq(oid("2.5.4.3"), tlv(UTF8, b"rel"))))),
                     seq(tlv(0xA0, tlv(0xA0, tlv(0x86, b"http://crl/2"))))))]),
    # ssl's serials: '-' and the magnitude; only the first line of a serial over 35 bytes
    "negative_serial": build(serial=-0x80),
    "long_serial": build(serial=int.from_bytes(bytes(range(1, 41)), "big")),
    # names cryptography 51 refuses (a PrintableString with '@' and '&', UTF-8 in an
    # IA5String, in a multi-valued RDN; the issuer too): nodetls reads them through OpenSSL
    "refused_by_cryptography_51": build(
        subject=name([("2.5.4.3", PRINTABLE, b"localhost")],
                     [("2.5.4.10", PRINTABLE, b"A&B @ C"), ("2.5.4.11", IA5, "Zürich".encode())],
                     [("1.2.840.113549.1.9.1", IA5, "ü@x".encode())]),
        issuer=name([("2.5.4.3", PRINTABLE, b"CA & Co")], [("2.5.4.10", T61, b"x")]),
        extensions=[ext("2.5.29.19", seq(tlv(0x01, b"\xff")))]),
    # cryptography 51 drops every extension of a certificate whose DirName holds a value outside
    # its string type (here a PrintableString with '@'): subjectaltname, infoAccess,
    # ext_key_usage and ca would go; OpenSSL reads them all
    "dirname_refused_by_cryptography_51": build(
        subject=name([("2.5.4.3", UTF8, b"localhost")]),
        extensions=[ext("2.5.29.19", seq(tlv(0x01, b"\xff"))),
                    ext(SAN, seq(tlv(0x82, b"localhost"),
                                 _dirname([("2.5.4.3", PRINTABLE, b"a@b")]))),
                    ext(AIA, seq(seq(oid("1.3.6.1.5.5.7.48.1"), tlv(0x86, b"http://o/1")))),
                    ext("2.5.29.37", seq(oid("1.3.6.1.5.5.7.3.1")))]),
    # cryptography cannot decode these extensions (any version); Node and ssl print them
    "x400_in_san": build(extensions=[ext(SAN, seq(tlv(0x82, b"a"), tlv(0xA3, seq())))]),
    "edi_party_in_san": build(extensions=[ext(SAN, seq(
        tlv(0xA5, tlv(0xA1, tlv(UTF8, b"x"))), tlv(0x82, b"b")))]),
    # Node prints the first subjectAltName; ssl finds none (X509_get_ext_d2i: two of them)
    "duplicate_san": build(extensions=[ext(SAN, seq(tlv(0x82, b"a"))),
                                       ext(SAN, seq(tlv(0x82, b"b")))]),
    # a BIT STRING name value (x500UniqueIdentifier): ASN1_STRING_to_UTF8 refuses it, so Node's
    # whole subject is undefined; ssl gives the value's bytes
    "x500_unique_identifier": build(subject=name([("2.5.4.3", UTF8, b"x")],
                                                 [("2.5.4.45", 0x03, b"\x00\x01\x02")])),
    # cryptography warns about these names: the library must stay silent
    "odd_country": build(subject=name([("2.5.4.6", PRINTABLE, b"DEU")],
                                      [("2.5.4.3", UTF8, b"")])),
}

__all__ = ["CASES", "EXTENSIONS_REFUSED", "REFUSED_BY_51"]

#: named certificates cryptography 51 refuses to load (names outside their string type)...
REFUSED_BY_51 = ("refused_by_cryptography_51", "one_byte_strings")
#: ... or loads but cannot decode the extensions of (its ``.extensions`` raises; the last three
#: in every version)
EXTENSIONS_REFUSED = ("dirname_refused_by_cryptography_51", "empty_san", "x400_in_san",
                      "edi_party_in_san", "duplicate_san")
