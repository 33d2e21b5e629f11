"""A certificate as Node's legacy certificate object (``tlsSocket.getPeerCertificate()``).

Mirrors Node v20's C++ ``X509ToObject`` (``src/crypto/crypto_common.cc``) followed by
``translatePeerCertificate`` (``lib/_tls_common.js``), and ``GetPeerCert`` with
``AddIssuerChainToObject`` / ``GetLastIssuedCert`` for ``detailed=True``. Key order, key presence
and every string format match Node (checked against ``node`` in ``tests/test_x509_dict.py``):

* ``subject`` / ``issuer``: OpenSSL short names (``CN``, ``O``, ``emailAddress``, ``DC``...; the
  dotted OID when OpenSSL has no name), in certificate order; a repeated attribute becomes a list.
* ``subjectaltname``: ``'DNS:a, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1'`` -- IPv6 as
  eight upper-case groups, uncompressed; names with ``, " \\ '`` or control characters are quoted
  and JSON-escaped (Node's CVE-2021-44532 fix). Absent without the extension.
* ``infoAccess``: ``{'OCSP - URI': [...], 'CA Issuers - URI': [...]}``; absent without AIA.
* ``ca``: ``X509_check_ca(cert) == 1``.
* RSA: ``modulus`` (upper hex), ``bits``, ``exponent`` (``'0x10001'``), ``pubkey`` (DER
  SubjectPublicKeyInfo). EC: ``bits`` (order bits), ``pubkey`` (the EC point as encoded in the
  certificate, *not* SPKI), ``asn1Curve``, ``nistCurve`` (only for NIST curves). Other key types
  (Ed25519...): none of these keys.
* ``valid_from`` / ``valid_to``: ``ASN1_TIME_print``: ``'Mar  4 05:06:07 2025 GMT'`` (day padded
  with a space).
* ``fingerprint`` / ``fingerprint256`` / ``fingerprint512``: colon-separated upper hex.
* ``ext_key_usage``: dotted OIDs, absent without the extension. ``serialNumber``: ``BN_bn2hex``
  (upper hex, whole bytes: ``'05'``, ``'0102'``). ``raw``: DER.

Node's ``Buffer`` values are ``bytes`` here; Node's null-prototype objects are plain ``dict``s.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeAlias

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtensionOID

__all__ = [
    "certificate_to_dict",
    "check_issued",
    "name_to_dict",
    "format_subjectaltname",
    "format_time",
    "short_name",
]

CertLike: TypeAlias = "x509.Certificate | bytes | bytearray | memoryview"

# -- OpenSSL object names ----------------------------------------------------------------------

# OpenSSL 3.0 short names (OBJ_nid2sn) of the attribute types seen in certificate names.
_SN_ARCS: dict[str, dict[int, str]] = {
    "2.5.4.": {
        3: "CN", 4: "SN", 5: "serialNumber", 6: "C", 7: "L", 8: "ST", 9: "street", 10: "O",
        11: "OU", 12: "title", 13: "description", 14: "searchGuide", 15: "businessCategory",
        16: "postalAddress", 17: "postalCode", 18: "postOfficeBox",
        19: "physicalDeliveryOfficeName", 20: "telephoneNumber", 21: "telexNumber",
        22: "teletexTerminalIdentifier", 23: "facsimileTelephoneNumber", 24: "x121Address",
        25: "internationaliSDNNumber", 26: "registeredAddress", 27: "destinationIndicator",
        28: "preferredDeliveryMethod", 29: "presentationAddress",
        30: "supportedApplicationContext", 31: "member", 32: "owner", 33: "roleOccupant",
        34: "seeAlso", 35: "userPassword", 36: "userCertificate", 37: "cACertificate",
        38: "authorityRevocationList", 39: "certificateRevocationList",
        40: "crossCertificatePair", 41: "name", 42: "GN", 43: "initials",
        44: "generationQualifier", 45: "x500UniqueIdentifier", 46: "dnQualifier",
        47: "enhancedSearchGuide", 48: "protocolInformation", 49: "distinguishedName",
        50: "uniqueMember", 51: "houseIdentifier", 52: "supportedAlgorithms",
        53: "deltaRevocationList", 54: "dmdName", 65: "pseudonym", 72: "role",
        97: "organizationIdentifier", 98: "c3", 99: "n3", 100: "dnsName",
    },
    "1.2.840.113549.1.9.": {
        1: "emailAddress", 2: "unstructuredName", 3: "contentType", 4: "messageDigest",
        5: "signingTime", 6: "countersignature", 7: "challengePassword",
        8: "unstructuredAddress", 9: "extendedCertificateAttributes", 14: "extReq",
        15: "SMIME-CAPS", 16: "SMIME", 20: "friendlyName", 21: "localKeyID",
    },
    "0.9.2342.19200300.100.1.": {
        1: "UID", 2: "textEncodedORAddress", 3: "mail", 4: "info", 5: "favouriteDrink",
        6: "roomNumber", 7: "photo", 8: "userClass", 9: "host", 10: "manager",
        11: "documentIdentifier", 12: "documentTitle", 13: "documentVersion",
        14: "documentAuthor", 15: "documentLocation", 20: "homeTelephoneNumber",
        21: "secretary", 22: "otherMailbox", 23: "lastModifiedTime", 24: "lastModifiedBy",
        25: "DC", 26: "aRecord", 27: "pilotAttributeType27", 28: "mXRecord", 29: "nSRecord",
        30: "sOARecord", 31: "cNAMERecord", 37: "associatedDomain", 38: "associatedName",
        39: "homePostalAddress", 40: "personalTitle", 41: "mobileTelephoneNumber",
        42: "pagerTelephoneNumber", 43: "friendlyCountryName", 44: "uid",
        45: "organizationalStatus", 46: "janetMailbox", 47: "mailPreferenceOption",
        48: "buildingName", 49: "dSAQuality", 50: "singleLevelQuality",
        51: "subtreeMinimumQuality", 52: "subtreeMaximumQuality", 53: "personalSignature",
        54: "dITRedirect", 55: "audio", 56: "documentPublisher",
    },
    "1.3.6.1.4.1.311.60.2.1.": {1: "jurisdictionL", 2: "jurisdictionST", 3: "jurisdictionC"},
}
_SHORT_NAMES: dict[str, str] = {
    prefix + str(n): sn for prefix, arc in _SN_ARCS.items() for n, sn in arc.items()
}
_SHORT_NAMES.update({
    "1.2.643.3.131.1.1": "INN", "1.2.643.100.1": "OGRN", "1.2.643.100.3": "SNILS",
    "1.2.643.100.5": "OGRNIP", "1.2.643.100.111": "subjectSignTool",
    "1.2.643.100.112": "issuerSignTool",
})

# OBJ_obj2txt(no_name=0) -- the long names -- of the access methods in authorityInfoAccess.
_AIA_METHOD_NAMES = {
    "1.3.6.1.5.5.7.48.1": "OCSP",
    "1.3.6.1.5.5.7.48.2": "CA Issuers",
    "1.3.6.1.5.5.7.48.3": "AD Time Stamping",
    "1.3.6.1.5.5.7.48.4": "ad dvcs",
    "1.3.6.1.5.5.7.48.5": "CA Repository",
}


def _openssl_obj(oid: str) -> tuple[str, str] | None:
    """``(short name, long name)`` from the OpenSSL the stdlib ``ssl`` module links, if any."""
    try:
        from ssl import _ssl  # type: ignore[attr-defined]

        _nid, sn, ln, _oid = _ssl.txt2obj(oid, False)
        return str(sn), str(ln)
    except Exception:
        return None


def short_name(oid: x509.ObjectIdentifier | str) -> str:
    """OpenSSL's short name for an attribute type (``OBJ_nid2sn``), else the dotted OID."""
    dotted = oid if isinstance(oid, str) else oid.dotted_string
    sn = _SHORT_NAMES.get(dotted)
    if sn is None:
        found = _openssl_obj(dotted)
        sn = found[0] if found else dotted
    return sn


def _long_name(oid: x509.ObjectIdentifier) -> str:
    dotted = oid.dotted_string
    if dotted in _AIA_METHOD_NAMES:
        return _AIA_METHOD_NAMES[dotted]
    found = _openssl_obj(dotted)
    return found[1] if found else dotted


# -- names -------------------------------------------------------------------------------------


def _attr_value(attr: x509.NameAttribute[Any]) -> str:
    value = attr.value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def name_to_dict(name: x509.Name) -> dict[str, str | list[str]]:
    """``subject`` / ``issuer`` as Node builds them (``GetX509NameObject``): short names, in
    certificate order; a repeated attribute becomes a list of its values."""
    out: dict[str, str | list[str]] = {}
    for attr in name:
        key = short_name(attr.oid)
        value = _attr_value(attr)
        if key in out:
            existing = out[key]
            if isinstance(existing, list):
                existing.append(value)
            else:
                out[key] = [existing, value]
        else:
            out[key] = value
    return out


_RFC2253_SPECIAL = set(',+"\\<>;')


def _rfc2253_value(value: str) -> str:
    out = []
    for i, ch in enumerate(value):
        if ch in _RFC2253_SPECIAL or (ch == "#" and i == 0) or (
                ch == " " and (i == 0 or i == len(value) - 1)):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _rfc2253(name: x509.Name) -> str:
    """``X509_NAME_print_ex(XN_FLAG_RFC2253 & ~ESC_MSB & ~ESC_CTRL)``: reversed, short names,
    ``,`` between RDNs and ``+`` inside one."""
    parts: list[str] = []
    for rdn in reversed(list(name.rdns)):
        attrs = list(rdn)
        items = []
        for attr in reversed(attrs):
            key = short_name(attr.oid)
            if key == attr.oid.dotted_string:
                # XN_FLAG_DUMP_UNKNOWN_FIELDS: an attribute OpenSSL cannot name is dumped as DER.
                der = _der_string(attr)
                items.append(f"{key}=#{der.hex().upper()}")
            else:
                items.append(f"{key}={_rfc2253_value(_attr_value(attr))}")
        parts.append("+".join(items))
    return ",".join(parts)


def _der_string(attr: x509.NameAttribute[Any]) -> bytes:
    asn1_type = getattr(attr, "_type", None)
    tag = getattr(asn1_type, "value", 0x0C) if asn1_type is not None else 0x0C
    body = _attr_value(attr).encode()
    return bytes([tag]) + _der_len(len(body)) + body


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


# -- subjectAltName / infoAccess ---------------------------------------------------------------


def _is_safe_alt_name(data: bytes, utf8: bool) -> bool:
    # Node's IsSafeAltName: quotes, backslash, comma and apostrophe always need escaping; so do
    # control characters, and (outside UTF-8 strings) anything that is not printable ASCII.
    for b in data:
        if b in b'"\\,\'':
            return False
        if utf8:
            if b < 0x20 or b == 0x7F:
                return False
        elif b < 0x20 or b > 0x7E:
            return False
    return True


def _print_alt_name(data: bytes, utf8: bool, safe_prefix: str | None = None) -> str:
    """Node's ``PrintAltName``: safe names verbatim, others as a JSON string literal."""
    if _is_safe_alt_name(data, utf8):
        text = data.decode("utf-8" if utf8 else "latin-1", "replace")
        return f"{safe_prefix}:{text}" if safe_prefix is not None else text
    out = ['"']
    if safe_prefix is not None:
        out.append(f"{safe_prefix}:")
    raw: list[int] = []  # pending UTF-8 bytes, copied verbatim

    def flush() -> None:
        if raw:
            out.append(bytes(raw).decode("utf-8", "replace"))
            raw.clear()

    for b in data:
        if b == 0x5C:
            flush()
            out.append("\\\\")
        elif b == 0x22:
            flush()
            out.append('\\"')
        elif (0x20 <= b <= 0x7E and b != 0x2C) or (utf8 and b & 0x80):
            raw.append(b)
        else:
            # Control character, comma, or a non-ASCII byte of a Latin-1 string.
            flush()
            out.append(f"\\u00{b:02x}")
    flush()
    out.append('"')
    return "".join(out)


_OTHERNAME_PREFIX = {
    "1.3.6.1.5.5.7.8.9": ("SmtpUTF8Mailbox", True),
    "1.3.6.1.5.5.7.8.5": ("XmppAddr", True),
    "1.3.6.1.5.5.7.8.7": ("SRVName", False),
    "1.3.6.1.4.1.311.20.2.3": ("UPN", True),
    "1.3.6.1.5.5.7.8.8": ("NAIRealm", True),
}


def _format_ip(packed: bytes) -> str:
    if len(packed) == 4:
        return ".".join(str(b) for b in packed)
    if len(packed) == 16:
        return ":".join(f"{(packed[i] << 8) | packed[i + 1]:X}" for i in range(0, 16, 2))
    return f"<invalid length={len(packed)}>"


def _general_name(gn: x509.GeneralName) -> str:
    """Node's ``PrintGeneralName`` (a safer ``i2v_GENERAL_NAME``)."""
    if isinstance(gn, x509.DNSName):
        return "DNS:" + _print_alt_name(gn.value.encode("latin-1", "replace"), False)
    if isinstance(gn, x509.RFC822Name):
        return "email:" + _print_alt_name(gn.value.encode("latin-1", "replace"), False)
    if isinstance(gn, x509.UniformResourceIdentifier):
        return "URI:" + _print_alt_name(gn.value.encode("latin-1", "replace"), False)
    if isinstance(gn, x509.DirectoryName):
        return "DirName:" + _print_alt_name(_rfc2253(gn.value).encode(), True)
    if isinstance(gn, x509.IPAddress):
        # A SAN iPAddress is an address (IPv4Network/IPv6Network only occur in name constraints).
        return "IP Address:" + _format_ip(gn.value.packed)  # type: ignore[union-attr]
    if isinstance(gn, x509.RegisteredID):
        return "Registered ID:" + gn.value.dotted_string
    if isinstance(gn, x509.OtherName):
        prefix = _OTHERNAME_PREFIX.get(gn.type_id.dotted_string)
        parsed = _der_tlv(gn.value)
        if prefix is not None and parsed is not None:
            label, unicode = prefix
            tag, body = parsed
            if tag == (0x0C if unicode else 0x16):
                return "othername:" + _print_alt_name(body, unicode, label)
        return "othername:<unsupported>"
    return "othername:<unsupported>"


def _der_tlv(data: bytes) -> tuple[int, bytes] | None:
    """One DER TLV: ``(tag, contents)``, or ``None`` if malformed."""
    if len(data) < 2:
        return None
    tag, first = data[0], data[1]
    pos = 2
    if first & 0x80:
        n = first & 0x7F
        length = int.from_bytes(data[2:2 + n], "big")
        pos += n
    else:
        length = first
    if pos + length > len(data):
        return None
    return tag, data[pos:pos + length]


def _extension(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> Any:
    try:
        return cert.extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None
    except (ValueError, x509.DuplicateExtension):
        return None


def format_subjectaltname(cert: x509.Certificate) -> str | None:
    """The ``subjectaltname`` string, or ``None`` without the extension."""
    san = _extension(cert, ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    if san is None:
        return None
    return ", ".join(_general_name(gn) for gn in san)


def _subjectaltname_field(cert: x509.Certificate) -> tuple[bool, str | None]:
    """Node's ``GetSubjectAltNameString``: ``(present, value)``; not present without the
    extension (Node: undefined), ``None`` (Node: null) when it is there but cannot be decoded,
    else its string."""
    try:
        san: x509.SubjectAlternativeName = cert.extensions.get_extension_for_oid(
            ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value  # type: ignore[assignment]
    except x509.ExtensionNotFound:
        return False, None
    except ValueError as exc:
        # cryptography decodes all the extensions at once; its error's location names the one
        # that failed (when another one did, the subjectAltName cannot be read: left out).
        return "subject_alternative_name" in str(exc), None
    except x509.DuplicateExtension:
        return False, None
    return True, ", ".join(_general_name(gn) for gn in san)


def _info_access(cert: x509.Certificate) -> dict[str, list[str]] | None:
    aia = _extension(cert, ExtensionOID.AUTHORITY_INFORMATION_ACCESS)
    if aia is None:
        return None
    # Node prints "<method long name> - <general name>" lines (SafeX509InfoAccessPrint), then
    # translatePeerCertificate splits each at its first ':' and JSON-decodes quoted values.
    text = "\n".join(f"{_long_name(d.access_method)} - {_general_name(d.access_location)}"
                     for d in aia)
    out: dict[str, list[str]] = {}
    for m in re.finditer(r"([^\n:]*):([^\n]*)(?:\n|$)", text):
        key, val = m.group(1), m.group(2)
        if val.startswith('"'):
            val = json.loads(val)
        out.setdefault(key, []).append(val)
    return out


# -- keys, times, digests ----------------------------------------------------------------------

# asn1Curve is OBJ_nid2sn of the curve; cryptography's names differ only for the X9.62 primes.
_CURVE_SN = {"secp192r1": "prime192v1", "secp256r1": "prime256v1"}
# EC_curve_nid2nist.
_NIST = {
    "secp192r1": "P-192", "secp224r1": "P-224", "secp256r1": "P-256", "secp384r1": "P-384",
    "secp521r1": "P-521", "sect163k1": "K-163", "sect233k1": "K-233", "sect283k1": "K-283",
    "sect409k1": "K-409", "sect571k1": "K-571", "sect163r2": "B-163", "sect233r1": "B-233",
    "sect283r1": "B-283", "sect409r1": "B-409", "sect571r1": "B-571",
}
# EC_GROUP_order_bits where it differs from the field size cryptography reports.
_ORDER_BITS = {"secp224k1": 225, "sect163k1": 163, "sect163r2": 163, "sect233k1": 232,
               "sect283k1": 281, "sect409k1": 407, "sect571k1": 570}

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_time(when: datetime) -> str:
    """``ASN1_TIME_print``: ``'Mar  4 05:06:07 2025 GMT'`` (day padded with a space)."""
    when = when.astimezone(UTC) if when.tzinfo else when
    return (f"{_MONTHS[when.month - 1]} {when.day:2d} "
            f"{when.hour:02d}:{when.minute:02d}:{when.second:02d} {when.year} GMT")


def _colon_hex(data: bytes) -> str:
    return ":".join(f"{b:02X}" for b in data)


def _bn2hex(n: int) -> str:
    """``BN_bn2hex``: upper hex in whole bytes, leading zero bytes dropped, ``'0'`` for zero."""
    if n == 0:
        return "0"
    sign = "-" if n < 0 else ""
    n = abs(n)
    return sign + n.to_bytes((n.bit_length() + 7) // 8, "big").hex().upper()


def _spki_bit_string(spki: bytes) -> bytes:
    """The subjectPublicKey BIT STRING contents (without the unused-bits byte) of an SPKI."""
    outer = _der_tlv(spki)
    if outer is None:
        return b""
    body = outer[1]
    alg = _der_tlv(body)
    if alg is None:
        return b""
    alg_size = 1 + len(_der_len(len(alg[1]))) + len(alg[1])  # DER lengths are minimal
    bits = _der_tlv(body[alg_size:])
    return bits[1][1:] if bits else b""


def _key_fields(cert: x509.Certificate) -> dict[str, Any]:
    try:
        key = cert.public_key()
    except Exception:
        return {}
    spki = key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        return {
            "modulus": f"{numbers.n:X}",  # BN_print: upper hex, no leading zeros
            "bits": numbers.n.bit_length(),
            "exponent": f"0x{numbers.e:x}",
            "pubkey": spki,  # i2d_RSA_PUBKEY
        }
    if isinstance(key, ec.EllipticCurvePublicKey):
        curve = key.curve.name
        fields: dict[str, Any] = {
            "bits": _ORDER_BITS.get(curve, key.curve.key_size),
            # The point as the certificate encodes it (Node keeps EC_KEY_get_conv_form).
            "pubkey": _spki_bit_string(_cert_spki(cert) or spki),
            "asn1Curve": _CURVE_SN.get(curve, curve),
        }
        if curve in _NIST:
            fields["nistCurve"] = _NIST[curve]
        return fields
    return {}


def _cert_spki(cert: x509.Certificate) -> bytes:
    """The certificate's own SubjectPublicKeyInfo bytes (not re-encoded)."""
    tbs = _der_tlv(cert.tbs_certificate_bytes)
    if tbs is None:
        return b""
    body = tbs[1]
    pos = 0
    # TBSCertificate: [0] version (optional), serial, signature, issuer, validity, subject, SPKI.
    index = 0
    while pos < len(body):
        tlv = _der_tlv(body[pos:])
        if tlv is None:
            return b""
        tag, content = tlv
        size = 1 + len(_der_len(len(content))) + len(content)
        if tag == 0xA0 and index == 0:
            pos += size
            continue
        index += 1
        if index == 6:
            return body[pos:pos + size]
        pos += size
    return b""


def _is_ca(cert: x509.Certificate) -> bool:
    """``X509_check_ca(cert) == 1``: basicConstraints CA:TRUE, and keyUsage (when present)
    allowing keyCertSign."""
    bc = _extension(cert, ExtensionOID.BASIC_CONSTRAINTS)
    if bc is None or not bc.ca:
        return False
    ku = _extension(cert, ExtensionOID.KEY_USAGE)
    return ku is None or bool(ku.key_cert_sign)


def _ext_key_usage(cert: x509.Certificate) -> list[str] | None:
    eku = _extension(cert, ExtensionOID.EXTENDED_KEY_USAGE)
    if eku is None:
        return None
    return [oid.dotted_string for oid in eku]


def _x509_to_object(cert: x509.Certificate) -> dict[str, Any]:
    """Node's ``X509ToObject`` + ``translatePeerCertificate`` for one certificate."""
    info: dict[str, Any] = {
        "subject": name_to_dict(cert.subject),
        "issuer": name_to_dict(cert.issuer),
    }
    has_san, san = _subjectaltname_field(cert)
    if has_san:
        info["subjectaltname"] = san
    aia = _info_access(cert)
    if aia is not None:
        info["infoAccess"] = aia
    info["ca"] = _is_ca(cert)
    info.update(_key_fields(cert))
    info["valid_from"] = format_time(cert.not_valid_before_utc)
    info["valid_to"] = format_time(cert.not_valid_after_utc)
    info["fingerprint"] = _colon_hex(cert.fingerprint(hashes.SHA1()))
    info["fingerprint256"] = _colon_hex(cert.fingerprint(hashes.SHA256()))
    info["fingerprint512"] = _colon_hex(cert.fingerprint(hashes.SHA512()))
    eku = _ext_key_usage(cert)
    if eku is not None:
        info["ext_key_usage"] = eku
    info["serialNumber"] = _bn2hex(cert.serial_number)
    info["raw"] = cert.public_bytes(serialization.Encoding.DER)
    return info


# -- issuer chains -----------------------------------------------------------------------------


def _canon_name(name: x509.Name) -> tuple[tuple[tuple[str, str], ...], ...]:
    # X509_NAME_cmp compares canonical encodings: values trimmed, inner whitespace collapsed,
    # ASCII lower-cased; RDN structure kept.
    return tuple(
        tuple(sorted((a.oid.dotted_string, " ".join(_attr_value(a).split()).lower())
                     for a in rdn))
        for rdn in name.rdns)


_SIG_FAMILY = {
    "1.2.840.113549.1.1": "rsa",   # sha*WithRSAEncryption, rsassaPss (pkey rsaEncryption)
    "1.2.840.10045.4": "ec",       # ecdsa-with-*
    "1.3.101.112": "ed25519",
    "1.3.101.113": "ed448",
    "1.2.840.10040.4": "dsa",
}


def _sig_family(cert: x509.Certificate) -> str | None:
    oid = cert.signature_algorithm_oid.dotted_string
    if oid.startswith("2.16.840.1.101.3.4.3."):  # NIST arc: dsa (1-8), ecdsa (9-12), rsa (13-16)
        arc = int(oid.rsplit(".", 1)[1])
        return "dsa" if arc <= 8 else "ec" if arc <= 12 else "rsa"
    for prefix, family in _SIG_FAMILY.items():
        if oid == prefix or oid.startswith(prefix + "."):
            return family
    return None


def _key_family(cert: x509.Certificate) -> str | None:
    oid = cert.public_key_algorithm_oid.dotted_string
    return {
        "1.2.840.113549.1.1.1": "rsa", "1.2.840.113549.1.1.10": "rsa",
        "1.2.840.10045.2.1": "ec", "1.3.101.112": "ed25519", "1.3.101.113": "ed448",
        "1.2.840.10040.4.1": "dsa",
    }.get(oid)


def check_issued(issuer: x509.Certificate, subject: x509.Certificate, *,
                 check_signing: bool = True) -> bool:
    """OpenSSL's ``X509_check_issued(issuer, subject) == X509_V_OK`` (no signature check).

    Names match, the subject's authorityKeyIdentifier (when present) matches the issuer, the
    subject's signature algorithm fits the issuer's key type, and -- with ``check_signing`` --
    the issuer's keyUsage (when present) allows keyCertSign. ``check_signing=False`` is
    ``ossl_x509_likely_issued``, the test a trust-store lookup uses.
    """
    if _canon_name(issuer.subject) != _canon_name(subject.issuer):
        return False
    akid = _extension(subject, ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    if akid is not None:
        skid = _extension(issuer, ExtensionOID.SUBJECT_KEY_IDENTIFIER)
        if akid.key_identifier is not None and skid is not None and (
                akid.key_identifier != skid.digest):
            return False
        serial = akid.authority_cert_serial_number
        if serial is not None and serial != issuer.serial_number:
            return False
        if akid.authority_cert_issuer:
            dirnames = [gn.value for gn in akid.authority_cert_issuer
                        if isinstance(gn, x509.DirectoryName)]
            if dirnames and not any(_canon_name(d) == _canon_name(issuer.issuer)
                                    for d in dirnames):
                return False
    sig, key = _sig_family(subject), _key_family(issuer)
    if sig is not None and key is not None and sig != key:
        return False
    if check_signing:
        ku = _extension(issuer, ExtensionOID.KEY_USAGE)
        if ku is not None and not ku.key_cert_sign:
            return False
    return True


def _load(cert: CertLike) -> x509.Certificate:
    if isinstance(cert, x509.Certificate):
        return cert
    return x509.load_der_x509_certificate(bytes(cert))


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _time_valid(cert: x509.Certificate, now: datetime) -> bool:
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


def _store_issuer(cert: x509.Certificate,
                  trusted: Sequence[x509.Certificate]) -> x509.Certificate | None:
    # X509_STORE_CTX_get1_issuer: the first likely issuer whose validity covers now, else the
    # matching one that expires last.
    now = datetime.now(UTC)
    best: x509.Certificate | None = None
    for ca in trusted:
        if not check_issued(ca, cert, check_signing=False):
            continue
        if _time_valid(ca, now):
            return ca
        if best is None or ca.not_valid_after_utc > best.not_valid_after_utc:
            best = ca
    return best


def certificate_to_dict(
    cert: CertLike,
    detailed: bool = False,
    issuer_chain: Iterable[CertLike] = (),
    trusted: Iterable[CertLike] = (),
) -> dict[str, Any]:
    """``cert`` as Node's ``tlsSocket.getPeerCertificate(detailed)`` object.

    Args:
        cert: the certificate (``cryptography`` object or DER).
        detailed: add ``issuerCertificate`` links, as Node's ``getPeerCertificate(true)``.
        issuer_chain: the certificates the peer sent (``SSL_get_peer_cert_chain``; the leaf
            itself may be included and is skipped). Issuers are taken from here first
            (Node's ``AddIssuerChainToObject``).
        trusted: the verifying context's trust store; the chain is completed from it
            (Node's ``GetLastIssuedCert``, ``SSL_CTX_get_issuer``).

    Returns:
        A new ``dict``. When ``detailed``, each certificate's ``issuerCertificate`` is its
        issuer's dict; a self-issued last certificate points to itself (the same dict object),
        and a chain that stops short of a self-issued certificate has no ``issuerCertificate``
        on its last element -- exactly as Node.
    """
    leaf = _load(cert)
    result = _x509_to_object(leaf)
    if not detailed:
        return result

    leaf_der = _der(leaf)
    pool = [c for c in (_load(c) for c in issuer_chain) if _der(c) != leaf_der]
    current, current_obj = leaf, result
    # AddIssuerChainToObject: repeatedly take an issuer of the current cert out of the chain.
    while True:
        for i, cand in enumerate(pool):
            if check_issued(cand, current):
                obj = _x509_to_object(cand)
                current_obj["issuerCertificate"] = obj
                current_obj, current = obj, pool.pop(i)
                break
        else:
            break
    # GetLastIssuedCert: continue from the trust store until a self-issued certificate.
    store = [_load(c) for c in trusted]
    from_store = False
    for _ in range(len(store) + 2):
        if check_issued(current, current):
            break
        ca = _store_issuer(current, store)
        if ca is None:
            break
        obj = _x509_to_object(ca)
        current_obj["issuerCertificate"] = obj
        current_obj = obj
        # Node stops when the store returns the very object it is looking at (a self-signed
        # certificate without keyCertSign). A peer certificate is never the store's object, so
        # a trusted copy of the peer's own certificate appears twice, as in Node.
        if from_store and ca is current:
            break
        current, from_store = ca, True
    # "Last certificate should be self-signed": then it is its own issuerCertificate.
    if check_issued(current, current):
        current_obj["issuerCertificate"] = current_obj
    return result
