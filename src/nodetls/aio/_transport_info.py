"""``TLSTransport.get_extra_info()`` (part of :mod:`nodetls.aio._transport`): asyncio's keys and the
TLS ones, the TLS ones kept once computed as asyncio's SSL transport keeps them after the close."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._openssl import ffi, lib
from .._x509 import certificate_to_dict
from ._sslobject import SSLObjectView, cipher_of

__all__ = ["ExtraInfo"]

#: The ``get_extra_info`` keys kept once computed (asyncio's SSL transport keeps them after
#: the close); the others are the TCP connection's, asked each time (None once it is gone).
_TLS_KEYS = frozenset({"sslcontext", "tls_socket", "ssl_object", "peercert", "cipher",
                       "alpn_protocol", "server_hostname"})
_get1_peer_certificate = lib.SSL_get1_peer_certificate


if TYPE_CHECKING:
    class _Fields:  # the transport's attributes this mixin uses
        _extra: dict[str, Any] | None
        _sock: Any
        _eng: Any
        _handle: Any
        _cipher: Any
        _peer_x509: Any

    _Base = _Fields
else:
    _Base = object


class ExtraInfo(_Base):
    """The transport's ``get_extra_info()`` (a mixin of ``TLSTransport``, its attributes)."""

    __slots__ = ()
    #: ``docs/gen_reference.py`` lists this class's members as ``TLSTransport``'s own.
    _MEMBERS_OF_SUBCLASS = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """asyncio's keys plus the TLS ones: ``'peername'``, ``'sockname'``, ``'socket'``,
        ``'tls_socket'``, ``'peercert'`` (Node's certificate dict, ``None`` when the peer sent
        none), ``'cipher'`` (``(name, version, secret_bits)``), ``'alpn_protocol'``,
        ``'server_hostname'``,
        ``'sslcontext'`` (the ``SecureContext``), ``'ssl_object'`` (an ``ssl.SSLObject``-like
        view). ``'cipher'`` is taken at the handshake, ``'sslcontext'`` is the context it ended
        with, the others are taken on first use and then kept (``'peercert'`` is answered once
        the connection is gone too, as asyncio's). The TCP connection's keys (``'peername'``, ``'sockname'``,
        ``'socket'``...) are ``None`` once the connection is lost, as asyncio's."""
        extra = self._extra
        if extra is not None and name in extra:
            value = extra[name]
        else:
            value = self._compute_extra(name)
            if value is not None and name in _TLS_KEYS:
                if extra is None:
                    self._extra = extra = {}
                extra[name] = value
        return default if value is None else value

    def _compute_extra(self, name: str) -> Any:
        sock = self._sock
        if name == "sslcontext":  # (the context the handshake ended with)
            eng = self._eng
            return eng.context if eng is not None else None
        if name == "tls_socket":
            return sock
        if name == "ssl_object":
            return SSLObjectView(sock)
        if name == "peercert":  # (None when the peer sent none, as asyncio's; Node's {})
            x = self._peer_x509  # (the connection is gone: kept by _keep_peer_certificate)
            if x is not None:
                return certificate_to_dict(x)  # (the kept X509*, read in place)
            eng = self._eng  # (also once closing: the socket's getter answers None then)
            der = eng.peer_certificate_der() if eng is not None else None
            return certificate_to_dict(der) if der else None
        if name == "cipher":
            return cipher_of(self._cipher)
        if name == "alpn_protocol":
            return sock.alpn_protocol or None
        if name == "server_hostname":
            return sock.servername or None
        getter = getattr(self._handle, "get_extra_info", None)
        return getter(name) if getter is not None else None

    def _keep_peer_certificate(self) -> None:
        """The connection ends (the seam's close, the engine still there): keep a reference to
        the peer's certificate unless ``'peercert'`` was asked already, so that it is answered
        afterwards too (asyncio's transport keeps it). One call, no copy."""
        extra = self._extra
        eng = self._eng
        if (extra is None or "peercert" not in extra) and eng is not None:
            ssl = eng.ssl
            if ssl is not None:
                x = _get1_peer_certificate(ssl)
                if x:  # (a NULL pointer is false: the peer sent none)
                    self._peer_x509 = ffi.gc(x, lib.X509_free)
