"""A certificate as ``ssl.SSLObject.getpeercert()``'s dict, from OpenSSL's parse of it.

Mirrors CPython's ``_decode_certificate`` (``Modules/_ssl.c``): ``_create_tuple_for_X509_NAME``,
``_get_peer_alt_names``, ``_get_aia_uri``, ``_get_crl_dp``; checked against
``ssl._ssl._test_decode_cert`` in ``tests/x509``. Where ``ssl`` raises (a value that is not
UTF-8; an otherName whose printed form has no ``':'``) this gives the value with replacement
characters instead.
"""

from __future__ import annotations

from typing import Any

from ._openssl import lib
from ._x509_names import format_ip
from ._x509_ossl import (
    GEN_DIRNAME,
    GEN_DNS,
    GEN_EMAIL,
    GEN_IPADD,
    GEN_RID,
    GEN_URI,
    NID_CRL_DISTRIBUTION_POINTS,
    NID_INFO_ACCESS,
    NID_SUBJECT_ALT_NAME,
    CertLike,
    Reader,
    asn1_bytes,
    opened,
)

__all__ = ["ssl_dict"]

_NID_AD_OCSP, _NID_AD_CA_ISSUERS = 178, 179
_BUF = 2048  # _ssl.c's char buf[2048]


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _first_line(data: bytes) -> bytes:
    """``BIO_gets(bio, buf, sizeof(buf) - 1)``: through the first newline, at most 2046 bytes."""
    end = data.find(b"\n")
    line = data if end < 0 else data[:end + 1]
    return line[:_BUF - 2]


_V_ASN1_BIT_STRING = 3


def _name(r: Reader, name: Any) -> tuple[tuple[tuple[str, str | bytes], ...], ...]:
    """``_create_tuple_for_X509_NAME``: one tuple per RDN (``X509_NAME_ENTRY_set``), attribute
    types by long name (``OBJ_obj2txt``), values by ``ASN1_STRING_to_UTF8`` -- a BIT STRING's
    (``x500UniqueIdentifier``) as its bytes."""
    rdns: list[list[tuple[str, str | bytes]]] = []
    level = None
    for obj, data, rdn_set in r.entries(name):
        if rdn_set != level or not rdns:
            rdns.append([])
            level = rdn_set
        value: str | bytes
        if lib.ASN1_STRING_type(data) == _V_ASN1_BIT_STRING:
            value = asn1_bytes(data)
        else:
            value = _text(r.utf8(data) or b"")
        rdns[-1].append((r.long_name(obj), value))
    return tuple(tuple(rdn) for rdn in rdns)


def _alt_name(r: Reader, gn: Any) -> tuple[str, Any]:
    kind, value = r.general_name(gn)
    if kind == GEN_DIRNAME:
        return "DirName", _name(r, value)
    if kind == GEN_EMAIL:
        return "email", _text(value)
    if kind == GEN_DNS:
        return "DNS", _text(value)
    if kind == GEN_URI:
        return "URI", _text(value)
    if kind == GEN_RID:
        n, text = r.i2t(value, _BUF - 1)
        return "Registered ID", "<INVALID>" if n >= _BUF else text
    if kind == GEN_IPADD:
        return "IP Address", format_ip(value) or "<invalid>"
    # otherName, x400Address, ediPartyName: GENERAL_NAME_print's first line, split at ':'
    line = _first_line(r.general_name_printed(gn))
    head, sep, tail = line.partition(b":")
    return _text(head), _text(tail) if sep else ""


def _uris(r: Reader, names: list[Any]) -> list[str]:
    out = []
    for gn in names:
        kind, value = r.general_name(gn)
        if kind == GEN_URI:
            out.append(_text(value))
    return out


def ssl_dict(cert: CertLike) -> dict[str, Any]:
    """``cert`` (DER, an ``X509*`` or a ``cryptography`` certificate) as ``ssl``'s
    ``getpeercert()`` dict, key order included (``ValueError`` when OpenSSL cannot parse
    DER)."""
    with opened(cert) as r:
        x = r.x
        out: dict[str, Any] = {
            "subject": _name(r, lib.X509_get_subject_name(x)),
            "issuer": _name(r, lib.X509_get_issuer_name(x)),
            "version": lib.X509_get_version(x) + 1,
            "serialNumber": _text(_first_line(r.serial_printed())),
            "notBefore": _text(_first_line(r.time(True))),
            "notAfter": _text(_first_line(r.time(False))),
        }
        with r.extension(NID_SUBJECT_ALT_NAME, False) as (_, names):
            if names is not None:
                out["subjectAltName"] = tuple(_alt_name(r, gn) for gn in names)  # () if empty
        with r.extension(NID_INFO_ACCESS, False) as (_, descs):
            pairs = [r.access(d) for d in descs or ()]
            for key, nid in (("OCSP", _NID_AD_OCSP), ("caIssuers", _NID_AD_CA_ISSUERS)):
                uris = _uris(r, [loc for method, loc in pairs if lib.OBJ_obj2nid(method) == nid])
                if uris:
                    out[key] = tuple(uris)
        with r.extension(NID_CRL_DISTRIBUTION_POINTS, False) as (_, dps):
            uris = [u for dp in dps or () for u in _uris(r, r.crl_uri_names(dp))]
            if uris:
                out["crlDistributionPoints"] = tuple(uris)
        return out
