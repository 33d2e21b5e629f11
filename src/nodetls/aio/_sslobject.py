"""``SSLObjectView``: the read-only part of ``ssl.SSLObject`` that frameworks call, answered by a
``TLSSocket`` (``transport.get_extra_info('ssl_object')``).

aiohttp, uvicorn and hypercorn decide "this connection is TLS" from ``get_extra_info`` (``'sslcontext'``
or ``'ssl_object'``), then ask the object for ``selected_alpn_protocol()`` (HTTP/2), ``version()``,
``cipher()`` and ``getpeercert()`` (client certificates). The answers mirror ``ssl``'s formats.
"""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from .._openssl import ffi, lib
from .._x509 import format_time

if TYPE_CHECKING:
    from .._tls import TLSSocket

__all__ = ["SSLObjectView", "cipher_tuple", "cipher_of"]

_BITS = re.compile(r"(?:AES|CAMELLIA|ARIA|SM4)_?(128|256)")

# ssl's short attribute names for the subject/issuer tuples (``_ssl._decode_certificate``)
_OID_NAMES = {
    NameOID.COMMON_NAME: "commonName", NameOID.COUNTRY_NAME: "countryName",
    NameOID.LOCALITY_NAME: "localityName", NameOID.STATE_OR_PROVINCE_NAME: "stateOrProvinceName",
    NameOID.ORGANIZATION_NAME: "organizationName",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "organizationalUnitName",
    NameOID.EMAIL_ADDRESS: "emailAddress", NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.DOMAIN_COMPONENT: "domainComponent", NameOID.USER_ID: "userId",
}


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
    return tuple(
        tuple((_OID_NAMES.get(a.oid, a.oid.dotted_string), str(a.value)) for a in rdn)
        for rdn in name.rdns
    )


def _when(t: datetime.datetime) -> str:
    # ssl's format is OpenSSL's ASN1_TIME_print: 'Jun  1 02:00:00 2026 GMT' (the day padded
    # with a space, the hour with a zero, English month names whatever the locale)
    return format_time(t)


def _serial(n: int) -> str:
    # ssl's format is OpenSSL's i2a_ASN1_INTEGER: whole bytes, so an even number of digits
    digits = f"{n:X}"
    return "0" + digits if len(digits) % 2 else digits


def ssl_style_cert(cert: x509.Certificate) -> dict[str, Any]:
    """A certificate in the shape of ``ssl.SSLObject.getpeercert()``."""
    out: dict[str, Any] = {
        "subject": _name(cert.subject),
        "issuer": _name(cert.issuer),
        "version": cert.version.value + 1,
        "serialNumber": _serial(cert.serial_number),
        "notBefore": _when(cert.not_valid_before_utc),
        "notAfter": _when(cert.not_valid_after_utc),
    }
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return out
    names: list[tuple[str, str]] = []
    for g in san:
        if isinstance(g, x509.DNSName):
            names.append(("DNS", g.value))
        elif isinstance(g, x509.IPAddress):
            names.append(("IP Address", str(g.value)))
        elif isinstance(g, x509.RFC822Name):
            names.append(("email", g.value))
        elif isinstance(g, x509.UniformResourceIdentifier):
            names.append(("URI", g.value))
    if names:
        out["subjectAltName"] = tuple(names)
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
        without one)."""
        cert = self._sock.get_peer_x509_certificate()
        if cert is None:
            return None
        if binary_form:
            return cert.public_bytes(Encoding.DER)
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
