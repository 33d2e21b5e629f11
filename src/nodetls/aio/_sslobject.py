"""``SSLObjectView``: the read-only part of ``ssl.SSLObject`` that frameworks call, answered by a
``TLSSocket`` (``transport.get_extra_info('ssl_object')``).

aiohttp, uvicorn and hypercorn decide "this connection is TLS" from ``get_extra_info`` (``'sslcontext'``
or ``'ssl_object'``), then ask the object for ``selected_alpn_protocol()`` (HTTP/2), ``version()``,
``cipher()`` and ``getpeercert()`` (client certificates). The answers mirror ``ssl``'s formats.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .._openssl import ffi, lib
from .._x509_ssl import ssl_dict

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


def ssl_style_cert(cert: Any) -> dict[str, Any]:
    """A certificate (DER, an ``X509*`` or a ``cryptography`` certificate) in the shape of
    ``ssl.SSLObject.getpeercert()``, read through OpenSSL as CPython's ``_decode_certificate``
    reads it (checked against ``ssl._ssl._test_decode_cert`` in ``tests/x509``)."""
    return ssl_dict(cert)


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
        eng = sock._engine  # (None once destroyed: no certificate, as before)
        der = eng.peer_certificate_der() if eng is not None else None
        if der is None:
            return None
        if binary_form:
            return der
        if not sock._is_server and sock._tls_opts.get("reject_unauthorized", True) is False:
            return {}
        return ssl_style_cert(der)

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
