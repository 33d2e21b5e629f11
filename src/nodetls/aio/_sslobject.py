"""``SSLObjectView``: the read-only part of ``ssl.SSLObject`` that frameworks call, answered by a
``TLSSocket`` (``transport.get_extra_info('ssl_object')``).

aiohttp, uvicorn and hypercorn decide "this connection is TLS" from ``get_extra_info`` (``'sslcontext'``
or ``'ssl_object'``), then ask the object for ``selected_alpn_protocol()`` (HTTP/2), ``version()``,
``cipher()`` and ``getpeercert()`` (client certificates). The answers mirror ``ssl``'s formats.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID

from .._openssl import ffi, lib
from .._x509 import format_time
from .._x509_names import (
    _OTHERNAME_PREFIX,
    _attr_value,
    _der_tlv,
    _extension,
    _format_ip,
    _long_name,
    ip_bytes,
    quiet,
)

if TYPE_CHECKING:
    from .._tls import TLSSocket

__all__ = ["SSLObjectView", "cipher_tuple", "cipher_of"]

_BITS = re.compile(r"(?:AES|CAMELLIA|ARIA|SM4)_?(128|256)")

def secret_bits(standard_name: str) -> int:
    """The symmetric key size of a cipher suite, from its RFC name (what ``ssl`` reports as the
    third item of ``cipher()``)."""
    if "CHACHA20" in standard_name:
        return 256
    if "3DES" in standard_name:
        return 112
    m = _BITS.search(standard_name)
    return int(m.group(1)) if m else 0


def cipher_tuple(sock: TLSSocket) -> tuple[str, str, int] | None:
    """``(name, version, secret_bits)`` as ``ssl.SSLObject.cipher()``."""
    c = sock.get_cipher()
    if not c:
        return None
    return (c["name"], c["version"], secret_bits(c.get("standardName", c["name"])))


_CIPHERS: dict[Any, tuple[str, str, int]] = {}  # SSL_CIPHER pointer -> cipher() tuple


def cipher_of(c: Any) -> tuple[str, str, int] | None:
    """``(name, version, secret_bits)`` of a connection's ``const SSL_CIPHER *`` (``None``:
    none), made once per cipher suite. OpenSSL's cipher descriptions are static tables of the
    library, valid for the life of the process: a transport keeps the pointer it read at the
    handshake and builds nothing per connection, and this answers also after the ``SSL*`` is
    freed."""
    if c is None:
        return None
    out = _CIPHERS.get(c)
    if out is None:
        std = lib.SSL_CIPHER_standard_name(c)
        name = ffi.string(lib.SSL_CIPHER_get_name(c)).decode()
        out = _CIPHERS[c] = (
            name, ffi.string(lib.SSL_CIPHER_get_version(c)).decode(),
            secret_bits(ffi.string(std).decode() if std != ffi.NULL else name))
    return out


def _name(name: x509.Name) -> tuple[tuple[tuple[str, str], ...], ...]:
    # _create_tuple_for_X509_NAME: one tuple per RDN, attribute types by OpenSSL long name
    # (OBJ_obj2txt: 'commonName', 'givenName', dotted when unknown), values ASN1_STRING_to_UTF8
    return tuple(tuple((_long_name(a.oid), _attr_value(a)) for a in rdn) for rdn in name.rdns)


def _serial(n: int) -> str:
    # i2a_ASN1_INTEGER: '-' for a negative number, then the magnitude in whole bytes ('00' for
    # zero), a '\\' + newline after every 35 bytes -- of which ssl keeps the first line (BIO_gets)
    magnitude = abs(n).to_bytes(max(1, (abs(n).bit_length() + 7) // 8), "big")
    line = magnitude[:35].hex().upper() + ("\\\n" if len(magnitude) > 35 else "")
    return ("-" if n < 0 else "") + line


def _printed_name(gn: x509.GeneralName) -> tuple[str, str]:
    # ssl's fallback: GENERAL_NAME_print, the first line (BIO_gets), split at its first ':'
    text = "othername:<unsupported>"
    if isinstance(gn, x509.OtherName):
        known = _OTHERNAME_PREFIX.get(gn.type_id.dotted_string)
        parsed = _der_tlv(gn.value)
        if known is not None and parsed is not None and parsed[0] == (
                0x0C if known[1] else 0x16):
            body = parsed[1].split(b"\0", 1)[0]  # printed with %.*s
            text = f"othername:{known[0]}:" + body.decode("utf-8", "surrogateescape")
    first_line = text.split("\n", 1)[0] + ("\n" if "\n" in text else "")
    kind, _, value = first_line.partition(":")
    return kind, value


def _alt_name(gn: x509.GeneralName) -> tuple[str, Any]:
    # _get_peer_alt_names
    if isinstance(gn, x509.DNSName):
        return "DNS", gn.value
    if isinstance(gn, x509.RFC822Name):
        return "email", gn.value
    if isinstance(gn, x509.UniformResourceIdentifier):
        return "URI", gn.value
    if isinstance(gn, x509.DirectoryName):
        return "DirName", _name(gn.value)
    if isinstance(gn, x509.IPAddress):
        # IPv6 as eight upper-case groups, uncompressed ('0:0:0:0:0:0:0:1')
        packed = ip_bytes(gn)
        return "IP Address", _format_ip(packed) if len(packed) in (4, 16) else "<invalid>"
    if isinstance(gn, x509.RegisteredID):
        return "Registered ID", _long_name(gn.value)  # i2t_ASN1_OBJECT
    return _printed_name(gn)


def _uris(names: Iterable[x509.GeneralName]) -> list[str]:
    return [gn.value for gn in names if isinstance(gn, x509.UniformResourceIdentifier)]


def ssl_style_cert(cert: x509.Certificate) -> dict[str, Any]:
    """A certificate in the shape of ``ssl.SSLObject.getpeercert()`` (CPython's
    ``_decode_certificate``; checked against ``ssl._ssl._test_decode_cert`` in
    ``tests/x509``)."""
    with quiet():
        return _ssl_fields(cert)


def _ssl_fields(cert: x509.Certificate) -> dict[str, Any]:
    out: dict[str, Any] = {
        "subject": _name(cert.subject),
        "issuer": _name(cert.issuer),
        "version": cert.version.value + 1,
        "serialNumber": _serial(cert.serial_number),
        "notBefore": format_time(cert.not_valid_before_utc),
        "notAfter": format_time(cert.not_valid_after_utc),
    }
    san = _extension(cert, ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    if san is not None:
        out["subjectAltName"] = tuple(_alt_name(gn) for gn in san)  # () when empty
    aia = _extension(cert, ExtensionOID.AUTHORITY_INFORMATION_ACCESS)
    for key, method in (("OCSP", AuthorityInformationAccessOID.OCSP),
                        ("caIssuers", AuthorityInformationAccessOID.CA_ISSUERS)):
        uris = _uris(d.access_location for d in aia or () if d.access_method == method)
        if uris:
            out[key] = tuple(uris)
    cdp = _extension(cert, ExtensionOID.CRL_DISTRIBUTION_POINTS)
    uris = _uris(gn for dp in cdp or () for gn in dp.full_name or ())
    if uris:
        out["crlDistributionPoints"] = tuple(uris)
    return out


class SSLObjectView:
    """Read-only ``ssl.SSLObject`` look-alike over a ``TLSSocket``."""

    def __init__(self, sock: TLSSocket) -> None:
        self._sock = sock

    @property
    def tls_socket(self) -> TLSSocket:
        """The Node-style socket behind this view."""
        return self._sock

    @property
    def server_side(self) -> bool:
        return bool(self._sock._is_server)

    @property
    def server_hostname(self) -> str | None:
        """The SNI name sent (client) or received (server)."""
        name = self._sock.servername
        return name if isinstance(name, str) and name else None

    @property
    def session_reused(self) -> bool:
        return bool(self._sock.is_session_reused())  # (None once destroyed: False here)

    def version(self) -> str | None:
        """``'TLSv1.3'``, ``'TLSv1.2'``... (``None`` before the handshake or after close)."""
        return self._sock.get_protocol()

    def cipher(self) -> tuple[str, str, int] | None:
        return cipher_tuple(self._sock)

    def selected_alpn_protocol(self) -> str | None:
        proto = self._sock.alpn_protocol
        return proto if isinstance(proto, str) and proto else None

    def selected_npn_protocol(self) -> None:
        return None

    def compression(self) -> None:
        return None

    def pending(self) -> int:
        return 0

    def getpeercert(self, binary_form: bool = False) -> Any:
        """The peer's certificate: DER with ``binary_form``, else ``ssl``'s dict (``None``
        without one). As ``ssl``'s, the dict is ``{}`` when the certificate is not verified
        (``CERT_NONE``: here a client with ``reject_unauthorized=False``; a server that asked
        for a certificate, ``request_cert``, is ``CERT_OPTIONAL`` or ``CERT_REQUIRED``)."""
        sock = self._sock
        cert = sock.get_peer_x509_certificate()
        if cert is None:
            return None
        if binary_form:
            return cert.public_bytes(Encoding.DER)
        if not sock._is_server and sock._tls_opts.get("reject_unauthorized", True) is False:
            return {}
        return ssl_style_cert(cert)

    def get_channel_binding(self, cb_type: str = "tls-unique") -> bytes | None:
        """``'tls-exporter'`` (RFC 9266) or ``'tls-unique'`` (RFC 5929) channel binding data."""
        sock = self._sock
        if cb_type == "tls-exporter":
            if sock.get_protocol() is None:
                return None
            return sock.export_keying_material(32, "EXPORTER-Channel-Binding", b"")
        if cb_type == "tls-unique":
            # The first Finished of the latest handshake: the client's in a full handshake,
            # the server's in a resumed one.
            ours = self.server_side == self.session_reused
            return sock.get_finished() if ours else sock.get_peer_finished()
        raise ValueError(f"{cb_type} channel binding type not implemented")

    def __repr__(self) -> str:
        return f"<SSLObjectView {self.version()} {self._sock!r}>"
