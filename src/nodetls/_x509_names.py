"""Names in certificates as Node prints them: subject/issuer objects, RFC 2253 strings, the
``subjectaltname`` string and ``infoAccess`` (part of :mod:`nodetls._x509`).

Mirrors OpenSSL 3.0's object names (``OBJ_nid2sn``/``OBJ_obj2txt``) and Node v20's
``GetSubjectAltNameString``/``SafeX509SubjectAltNamePrint``/``SafeX509InfoAccessPrint``
(``src/crypto/crypto_common.cc``) with ``translatePeerCertificate`` (``lib/_tls_common.js``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re
import warnings
from collections.abc import Iterator
from typing import Any

from cryptography import x509
from cryptography.x509.oid import ExtensionOID

__all__ = ["format_subjectaltname", "name_to_dict", "quiet", "short_name"]


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """A context in which cryptography's warnings about what a certificate holds (a country
    name that is not 2 letters, an empty attribute, a negative serial) are dropped: the library
    never writes to stderr, and Node and ``ssl`` show such certificates without a word."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # (CryptographyDeprecationWarning too)
        yield


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


# String types whose bytes OpenSSL's ASN1_STRING_to_UTF8 takes as one character each (Latin-1);
# cryptography decodes them as UTF-8 instead.
_ONE_BYTE_TYPES = frozenset({18, 19, 20, 22, 26})  # Numeric, Printable, T61, IA5, Visible


def _asn1_tag(attr: x509.NameAttribute[Any]) -> int:
    asn1_type = getattr(attr, "_type", None)
    return int(getattr(asn1_type, "value", 0x0C)) if asn1_type is not None else 0x0C


def _attr_bytes(attr: x509.NameAttribute[Any]) -> bytes:
    """The attribute's string contents as encoded in the certificate."""
    value = attr.value
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    tag = _asn1_tag(attr)
    if tag == 0x1E:
        return str(value).encode("utf-16-be")
    if tag == 0x1C:
        return str(value).encode("utf-32-be")
    return str(value).encode()


def _attr_value(attr: x509.NameAttribute[Any]) -> str:
    """The value as OpenSSL's ``ASN1_STRING_to_UTF8`` gives it to Node and ``ssl``: the bytes of
    a one-byte string type (IA5String, T61String, PrintableString...) are Latin-1 characters, so
    a T61String holding UTF-8 ``'é'`` reads ``'Ã©'``."""
    value = attr.value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    if _asn1_tag(attr) in _ONE_BYTE_TYPES:
        return str(value).encode().decode("latin-1")
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
    # OpenSSL's do_buf: a leading '#' or space and a trailing space are escaped; the last
    # character's flags replace the first's, so a lone '#' is not.
    out = []
    last = len(value) - 1
    for i, ch in enumerate(value):
        if ch in _RFC2253_SPECIAL or (ch == "#" and i == 0 != last) or (
                ch == " " and (i == 0 or i == last)):
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
    body = _attr_bytes(attr)
    return bytes([_asn1_tag(attr)]) + _der_len(len(body)) + body


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
    # An IA5String's bytes, which cryptography decoded as UTF-8 (Node prints bytes > 0x7E as
    # \u00XX, each byte on its own).
    if isinstance(gn, x509.DNSName):
        return "DNS:" + _print_alt_name(gn.value.encode(), False)
    if isinstance(gn, x509.RFC822Name):
        return "email:" + _print_alt_name(gn.value.encode(), False)
    if isinstance(gn, x509.UniformResourceIdentifier):
        return "URI:" + _print_alt_name(gn.value.encode(), False)
    if isinstance(gn, x509.DirectoryName):
        return "DirName:" + _print_alt_name(_rfc2253(gn.value).encode(), True)
    if isinstance(gn, x509.IPAddress):
        return "IP Address:" + _format_ip(ip_bytes(gn))
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


def ip_bytes(gn: x509.IPAddress) -> bytes:
    """The iPAddress's octets: 4 or 16 for an address; 8 or 32 (address and mask, which
    cryptography reads as a network) when a certificate puts a name-constraint form in a
    subjectAltName."""
    value = gn.value
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return value.network_address.packed + value.netmask.packed
    return value.packed


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
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType):
        return None  # cryptography cannot decode the extensions


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
    except (x509.DuplicateExtension, x509.UnsupportedGeneralNameType):
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
