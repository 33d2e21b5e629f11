"""Names in certificates as Node v20 prints them (part of :mod:`nodetls._x509`): the subject and
issuer objects, the ``subjectaltname`` string and ``infoAccess``, from OpenSSL's parse
(:mod:`nodetls._x509_ossl`).

Mirrors ``GetX509NameObject``, ``GetSubjectAltNameString`` / ``SafeX509SubjectAltNamePrint``,
``GetInfoAccessString`` / ``SafeX509InfoAccessPrint`` and ``PrintGeneralName`` /
``PrintAltName`` (``src/crypto/crypto_common.cc``), then ``translatePeerCertificate``
(``lib/_tls_common.js``) for ``infoAccess``.
"""

from __future__ import annotations

import contextlib
import json
import re
import warnings
from collections.abc import Iterator
from typing import Any

from ._x509_ossl import (
    GEN_DIRNAME,
    GEN_DNS,
    GEN_EMAIL,
    GEN_IPADD,
    GEN_OTHERNAME,
    GEN_RID,
    GEN_URI,
    GEN_X400,
    NID_INFO_ACCESS,
    NID_SUBJECT_ALT_NAME,
    Reader,
)

__all__ = ["format_ip", "info_access", "name_object", "names_string", "quiet",
           "subjectaltname"]

#: Node's ``kX509NameFlagsRFC2253WithinUtf8JSON``: ``XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB &
#: ~ASN1_STRFLGS_ESC_CTRL``.
RFC2253_IN_UTF8_JSON = 0x1110311


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """A context in which cryptography's warnings about what a certificate holds (a country
    name that is not 2 letters, an empty attribute, a negative serial) are dropped: the library
    never writes to stderr (``get_peer_x509_certificate()`` loads with cryptography)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # (CryptographyDeprecationWarning too)
        yield


def name_object(r: Reader, name: Any) -> dict[str, str | list[str]] | None:
    """``subject`` / ``issuer`` as Node builds them (``GetX509NameObject``): OpenSSL short
    names (the dotted OID when it has none), values by ``ASN1_STRING_to_UTF8``, in certificate
    order; a repeated attribute becomes a list. ``None`` (Node: undefined, the key left out)
    when a value cannot be converted."""
    out: dict[str, str | list[str]] = {}
    for obj, data, _set in r.entries(name):
        key = r.short_name(obj)
        raw = r.utf8(data)
        if raw is None:
            return None
        value = raw.decode("utf-8", "replace")
        existing = out.get(key)
        if existing is None:
            out[key] = value
        elif isinstance(existing, list):
            existing.append(value)
        else:
            out[key] = [existing, value]
    return out


# -- general names -----------------------------------------------------------------------------


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


# The otherName types Node prints (its NIDs, as OIDs): prefix, and UTF8String (else IA5String).
_OTHERNAME_PREFIX = {
    "1.3.6.1.5.5.7.8.9": ("SmtpUTF8Mailbox", True),
    "1.3.6.1.5.5.7.8.5": ("XmppAddr", True),
    "1.3.6.1.5.5.7.8.7": ("SRVName", False),
    "1.3.6.1.4.1.311.20.2.3": ("UPN", True),
    "1.3.6.1.5.5.7.8.8": ("NAIRealm", True),
}
_V_ASN1_UTF8STRING, _V_ASN1_IA5STRING = 12, 22


def format_ip(packed: bytes) -> str | None:
    """An iPAddress as Node and ``ssl`` print it: dotted IPv4, IPv6 as eight upper-case groups
    (uncompressed); ``None`` for another length."""
    if len(packed) == 4:
        return ".".join(str(b) for b in packed)
    if len(packed) == 16:
        return ":".join(f"{(packed[i] << 8) | packed[i + 1]:X}" for i in range(0, 16, 2))
    return None


def _general_name(r: Reader, gn: Any) -> str | None:
    """Node's ``PrintGeneralName`` (a safer ``i2v_GENERAL_NAME``); ``None`` when it fails."""
    kind, value = r.general_name(gn)
    if kind == GEN_DNS:
        return "DNS:" + _print_alt_name(value, False)
    if kind == GEN_EMAIL:
        return "email:" + _print_alt_name(value, False)
    if kind == GEN_URI:
        return "URI:" + _print_alt_name(value, False)
    if kind == GEN_DIRNAME:
        printed = r.name_printed(value, RFC2253_IN_UTF8_JSON)
        return None if printed is None else "DirName:" + _print_alt_name(printed, True)
    if kind == GEN_IPADD:
        text = format_ip(value)
        return "IP Address:" + (text if text is not None else f"<invalid length={len(value)}>")
    if kind == GEN_RID:
        return "Registered ID:" + r.obj_txt(value, 1)
    if kind == GEN_OTHERNAME:
        type_id, asn1_type, contents = value
        prefix = _OTHERNAME_PREFIX.get(r.obj_txt(type_id, 1))
        if prefix is not None:
            label, unicode = prefix
            if asn1_type == (_V_ASN1_UTF8STRING if unicode else _V_ASN1_IA5STRING):
                return "othername:" + _print_alt_name(contents, unicode, label)
        return "othername:<unsupported>"
    if kind == GEN_X400:
        return "X400Name:<unsupported>"
    return "EdiPartyName:<unsupported>"


def names_string(r: Reader, names: list[Any]) -> str | None:
    """Node's ``SafeX509SubjectAltNamePrint`` of decoded ``GENERAL_NAMES``: each name's
    ``PrintGeneralName``, joined by ``', '``; ``None`` when one cannot be printed."""
    parts = []
    for gn in names:
        text = _general_name(r, gn)
        if text is None:
            return None
        parts.append(text)
    return ", ".join(parts)


def subjectaltname(r: Reader) -> tuple[bool, str | None]:
    """Node's ``GetSubjectAltNameString``: ``(present, value)``; not present without the
    extension (Node: undefined), ``None`` (Node: null) when OpenSSL cannot decode it or a
    directoryName cannot be printed, else the string."""
    with r.extension(NID_SUBJECT_ALT_NAME, True) as (present, names):
        if names is None:
            return present, None
        return True, names_string(r, names)


def info_access(r: Reader) -> tuple[bool, dict[str, list[str]] | None]:
    """``infoAccess``: ``(present, value)`` as :func:`subjectaltname`; the value is
    ``SafeX509InfoAccessPrint``'s ``'<method> - <name>'`` lines as ``translatePeerCertificate``
    splits them: each at its first ``':'``, a quoted value JSON-decoded."""
    with r.extension(NID_INFO_ACCESS, True) as (present, descs):
        if descs is None:
            return present, None
        lines = []
        for method, location in map(r.access, descs):
            text = _general_name(r, location)
            if text is None:
                return True, None
            lines.append(f"{r.i2t(method, 80)[1]} - {text}")
    out: dict[str, list[str]] = {}
    for m in re.finditer(r"([^\n:]*):([^\n]*)(?:\n|$)", "\n".join(lines)):
        key, val = m.group(1), m.group(2)
        if val.startswith('"'):
            val = json.loads(val)
        out.setdefault(key, []).append(val)
    return True, out
