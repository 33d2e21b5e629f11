"""``TLSSocket``'s public accessors and per-connection calls (Node's ``tls.TLSSocket`` methods:
``getPeerCertificate()`` ... ``exportKeyingMaterial()``, ``setMaxSendFragment()``,
``setServername()``, ``disableRenegotiation()``, ``renegotiate()``, ``enableTrace()``).

:class:`_TLSSocketAPI` is a mixin of ``TLSSocket`` (``socket.py``), without state of its own
(``__slots__ = ()``). Every getter answers ``None`` (or its empty value) once the socket is
destroyed, as Node's do once ``destroy()`` dropped the handle (``TLSSocket._engine``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, cast, overload

from cryptography import x509

from .. import _option_table, _options
from .._engine import TLSEngine, session_ticket
from .._x509 import certificate_to_dict
from .._x509_names import quiet
from ..errors import node_error

if TYPE_CHECKING:
    from ..types import DetailedPeerCertificate, PeerCertificate
    from ._socket_setup import _TLSSocketFields

    _Base = _TLSSocketFields
else:
    _Base = object

#: Node's ``validateInt32``.
_INT32 = _option_table.number(-2**31, integer=True, maximum=2**31 - 1)
_UINT32_NOT_ZERO = _option_table.number(0, integer=True, exclusive=True, maximum=2**32 - 1)


#: ``get_certificate()``'s parsed certificates, by DER (our own certificate is one of a few: the
#: context's, an SNI context's, a ``set_key_cert()`` one), oldest first; bounded.
_OWN_CERTS: dict[bytes, dict[str, Any]] = {}
_OWN_CERTS_MAX = 128


def _own_certificate_dict(der: bytes) -> dict[str, Any]:
    """``certificate_to_dict(der)``, parsed once per certificate (~0.2 ms a parse), as a new
    object per call (Node's ``getCertificate()``): what a caller changes in it, nested dicts
    and lists too, is not in the next call's."""
    parsed = _OWN_CERTS.get(der)
    if parsed is None:
        parsed = certificate_to_dict(der)
        if len(_OWN_CERTS) >= _OWN_CERTS_MAX:
            try:
                del _OWN_CERTS[next(iter(_OWN_CERTS))]
            except (KeyError, RuntimeError, StopIteration):  # (another thread's loop got there)
                pass
        _OWN_CERTS[der] = parsed
    fresh: dict[str, Any] = _fresh(parsed)
    return fresh


def _fresh(obj: Any) -> Any:
    """A copy of ``obj``'s dicts and lists (the rest -- str, int, bool, bytes -- is immutable:
    shared)."""
    if type(obj) is dict:
        return {k: _fresh(v) for k, v in obj.items()}
    if type(obj) is list:
        return [_fresh(v) for v in obj]
    return obj


class _TLSSocketAPI(_Base):
    """``TLSSocket``'s public getters and calls (a mixin: no state)."""

    __slots__ = ()
    #: ``docs/gen_reference.py`` lists this class's members as ``TLSSocket``'s own.
    _MEMBERS_OF_SUBCLASS = True

    @property
    def servername(self) -> str | bool | None:
        """Node's ``servername``: the SNI name sent (client) or received (server), ``False``
        when none was.  ``None`` (Node's ``null``) until it is known: on a client until its
        handshake is done (Node's ``_finishInit``); on a server until OpenSSL has read the
        name the client sent (Node's SNI callback sets it), else until the handshake is done
        -- so a server's failed handshake says ``None`` when it failed before the ClientHello's
        server_name was read (bytes that are no TLS, a timeout, a protocol version refused) or
        none was sent, and the name when it failed after.  A certificate rejected during the
        handshake (nodetls's alert, where Node completes the handshake, then rejects it) gives
        what Node's completed handshake gives: the name, else ``False``."""
        sn = self._servername
        if sn is None and self._is_server:
            wrap = self._wrap
            eng = wrap.engine if wrap is not None else None
            if eng is not None:
                return eng.servername()
        return sn

    @property
    def _unwrapped(self) -> bool:
        """No TLS handle yet (a ``TLSSocket(None)`` not connected) and not destroyed: Node's
        has one from its constructor, a new SSL, and its getters answer as that SSL's
        (``'TLSv1.3'``, ``{}`` for the peer's certificate, the context's own certificate)."""
        return self._wrap is None and not self._destroyed

    def _der(self, peer: bool) -> bytes | None:
        eng = self._engine
        if eng is not None:
            return eng.peer_certificate_der() if peer else eng.own_certificate_der()
        if not peer and self._unwrapped:
            chains = self._secure_context.cert_chain_der  # (SSL_new takes the context's)
            return chains[-1][0] if chains else None
        return None

    def _x509(self, peer: bool) -> x509.Certificate | None:
        der = self._der(peer)
        if der is None:
            return None
        with quiet():  # (a zero or negative serial: cryptography's warning, never on stderr)
            # (ValueError for a certificate cryptography refuses: docs/tls.md, a known limit)
            return x509.load_der_x509_certificate(der)

    @overload
    def get_peer_certificate(self, detailed: Literal[False] = ...) -> PeerCertificate | None: ...
    @overload
    def get_peer_certificate(self, detailed: Literal[True]) -> DetailedPeerCertificate | None: ...
    @overload
    def get_peer_certificate(self, detailed: bool) -> PeerCertificate | None: ...

    def get_peer_certificate(self, detailed: bool = False) -> PeerCertificate | None:
        """Node's ``getPeerCertificate([detailed])``: ``{}`` when none, ``None`` once destroyed (as
        every getter of the connection: Node's answer null once destroy() dropped the handle)."""
        eng = self._engine
        if eng is None:
            return {} if self._unwrapped else None
        x = eng.peer_certificate_x509()  # (read in place: no DER round trip)
        if x is None:
            return {}
        if not detailed:
            return cast("PeerCertificate", certificate_to_dict(x))
        chain = eng.chain_x509(True) or eng.chain_x509(False)
        return cast("PeerCertificate", certificate_to_dict(x, detailed=True, issuer_chain=chain))

    def get_certificate(self) -> PeerCertificate | None:
        """Node's ``getCertificate()``: our own certificate, ``{}`` when none (also before the
        socket has a connection: the context's); ``None`` once destroyed."""
        if self._engine is None and not self._unwrapped:
            return None
        der = self._der(peer=False)
        return {} if der is None else cast("PeerCertificate", _own_certificate_dict(der))

    def get_peer_x509_certificate(self) -> x509.Certificate | None:
        return self._x509(peer=True)

    def get_x509_certificate(self) -> x509.Certificate | None:
        return self._x509(peer=False)

    def get_cipher(self) -> dict[str, str] | None:
        eng = self._engine
        return eng.cipher() if eng is not None else None

    def get_protocol(self) -> str | None:
        """Node's ``getProtocol()``: OpenSSL's ``SSL_get_version()`` of the connection, also
        before its handshake is done (``'TLSv1.3'`` on a new socket, whatever its versions,
        also one not connected yet); ``None`` once destroyed."""
        eng = self._engine
        if eng is None:
            return "TLSv1.3" if self._unwrapped else None
        return eng.version

    def get_session(self) -> bytes | None:
        eng = self._engine
        return eng.session_der() if eng is not None else None

    def set_session(self, session: bytes) -> None:
        eng = self._engine
        if eng is not None:
            eng.set_session(_options.as_bytes(session, "session"))

    def get_tls_ticket(self) -> bytes | None:
        """Node's ``getTLSTicket()``: a client's session ticket (``None`` on a server, before
        a ticket, once destroyed)."""
        eng = self._engine
        if eng is None or self._is_server:
            return None
        if self._session_in_event is not None:  # (inside a 'session' listener)
            return session_ticket(self._session_in_event)
        return eng.tls_ticket()

    def set_key_cert(self, context: Any) -> None:
        """Node's ``setKeyCert(context)`` (v20.17): serve this connection with another key and
        certificate.  ``context`` is a :class:`~nodetls.SecureContext` or the options of
        :func:`~nodetls.create_secure_context` (a bad one raises as that does, on either side).
        A server's socket takes the context's key, certificate and chain, and verifies a
        client's certificate against its CA store (OpenSSL's error, e.g.
        ``ERR_SSL_PASSED_A_NULL_PARAMETER`` for a context without a certificate); called before
        the certificate is sent (before the handshake, or from a TLS 1.3 handshake's
        ``alpn_callback``, whose second argument is the socket), it is the one the client sees.  A client's socket ignores it, and a
        destroyed socket ignores everything."""
        if self._destroyed:
            return
        from .._context import SecureContext, create_secure_context

        ctx = context if isinstance(context, SecureContext) else create_secure_context(context)
        if not self._is_server:
            return
        eng = self._engine
        if eng is not None:
            eng.use_key_cert(ctx)
        else:  # (over a socket still connecting: applied when the engine is made)
            TLSEngine.check_key_cert(ctx)
            self._key_cert = ctx

    def is_session_reused(self) -> bool | None:
        """Node's ``isSessionReused()``: whether the handshake resumed a session; ``None`` once
        destroyed (Node's ``null``: the handle is gone)."""
        eng = self._engine
        if eng is None:
            return None if self._destroyed else False
        return eng.session_reused()

    def get_finished(self) -> bytes | None:
        eng = self._engine
        return eng.finished() if eng is not None else None

    def get_peer_finished(self) -> bytes | None:
        eng = self._engine
        return eng.finished(peer=True) if eng is not None else None

    def get_ephemeral_key_info(self) -> dict[str, Any] | None:
        eng = self._engine
        if eng is None or self._is_server:
            return {} if self._unwrapped and not self._is_server else None
        return eng.ephemeral_key_info()

    def get_shared_sigalgs(self) -> list[str]:
        eng = self._engine
        return eng.shared_sigalgs() if eng is not None else []

    def export_keying_material(self, length: int, label: str | bytes,
                               context: bytes | None = None) -> bytes:
        """RFC 5705 (Node's ``exportKeyingMaterial``); before the handshake:
        ``ERR_TLS_INVALID_STATE``."""
        length = _UINT32_NOT_ZERO(length, "length")  # Node's validateUint32(length, .., true)
        eng = self._engine
        if eng is None or not self._secure_established:
            raise node_error("ERR_TLS_INVALID_STATE")
        lab = label.encode() if isinstance(label, str) else _options.as_bytes(label, "label")
        ctx = None if context is None else _options.as_bytes(context, "context")
        return eng.export_keying_material(length, lab, ctx)

    def set_max_send_fragment(self, size: int) -> bool:
        """Node's ``setMaxSendFragment(size)``: ``size`` must be a 32-bit integer
        (``ERR_INVALID_ARG_TYPE`` / ``ERR_OUT_OF_RANGE``, as Node's ``validateInt32``); then
        ``True`` for 512..16384, ``False`` otherwise."""
        size = _INT32(size, "size")
        eng = self._engine
        if eng is None or not 512 <= size <= 16384:
            return False
        return eng.set_max_send_fragment(size)

    def set_servername(self, name: str) -> None:
        if not isinstance(name, str):
            raise _options.InvalidArgTypeError("name must be a str")
        if self._is_server:
            raise node_error("ERR_TLS_SNI_FROM_SERVER")
        eng = self._engine
        if eng is not None:
            eng.set_servername(name)  # (servername stays the handshake's, as Node's)
        elif not self._destroyed:  # (not connected yet: sent when it is)
            self._tls_opts = _option_table.Options({**self._tls_opts, "servername": name})

    def disable_renegotiation(self) -> None:
        """Node's ``disableRenegotiation()``: a server's socket fails later renegotiations with
        ``ERR_TLS_RENEGOTIATION_DISABLED`` (on a server that allows client renegotiation, the
        attempt is seen and the socket errors; otherwise OpenSSL refuses it outright). A
        client's is only marked, as Node's (whose check is a server's ``onhandshakestart``):
        its own ``renegotiate()`` and the server's still renegotiate."""
        self._renegotiation_disabled = True
        if not self._is_server:
            return
        eng = self._engine
        if eng is not None and not self._tls_opts.get("allow_client_renegotiation"):
            eng.disable_renegotiation()

    def renegotiate(self, options: dict[str, Any] | None = None,
                    callback: Callable[..., Any] | None = None) -> bool | None:
        """Node's ``renegotiate(options, callback)``: TLS 1.2 only (TLS 1.3: ``False`` and
        ``ERR_SSL_WRONG_SSL_VERSION``). ``options`` must be a dict and ``callback`` a function
        (``None``: none), else ``ERR_INVALID_ARG_TYPE`` at the call, as Node's. On a destroyed
        socket: ``None``, and the callback is never called (Node's ``undefined``). As Node's,
        it only marks the renegotiation, between two empty writes (``write('')``: writes like
        any other, whose failure -- after ``end()`` -- destroys the socket, which then fails
        the renegotiation: ``False``, the callback gets a ``TypeError`` as Node's from its null
        handle): the handshake starts when the second one reaches the TLS layer (once the
        first has completed, on the next loop step) or when data comes first, so the keying
        material stays the old one until then."""
        if not isinstance(options, Mapping):
            raise _option_table.type_error("options", "dict", options)
        if callback is not None and not callable(callback):
            raise _option_table.type_error("callback", "function", callback)
        if self.destroyed:
            return None  # (Node: returns undefined, the callback is never called)
        loop = asyncio.get_running_loop()
        if self._renegotiation_disabled and self._is_server:
            if callback is not None:
                loop.call_soon(callback, node_error("ERR_TLS_RENEGOTIATION_DISABLED"))
            return False
        eng = self._engine
        if options and eng is not None and eng.version != "TLSv1.3":
            opts = _options.normalize(options, None, {"reject_unauthorized", "request_cert"},
                                      "options")
            # (a client's: Node's setVerifyMode() leaves a client's SSL_VERIFY_NONE, and its
            # check after each handshake, onConnectSecure, uses tls.connect()'s options)
            if opts and self._is_server:
                request = bool(opts.get("request_cert", self._tls_opts.get("request_cert")))
                reject = opts.get("reject_unauthorized",
                                  self._tls_opts.get("reject_unauthorized", True)) is not False
                self._tls_opts = _option_table.Options({**self._tls_opts, **opts})  # (a shared template?)
                eng.set_verify(request=request, reject=reject and request)
        self.write(b"")  # (Node: "cycle through internal openssl's state")
        eng = self._engine
        try:
            if eng is None:  # destroyed by that write: Node's this._handle.renegotiate() throws
                raise TypeError("Cannot read properties of null (reading 'renegotiate')")
            if eng.version == "TLSv1.3":
                from ..errors import TLSError

                err: BaseException = TLSError("wrong ssl version", "ERR_SSL_WRONG_SSL_VERSION")
                try:  # OpenSSL refuses it: its error, as Node reports it (library, reason)
                    eng.renegotiate()
                except BaseException as exc:  # noqa: BLE001
                    err = exc
                raise err
            eng.renegotiate()
        except BaseException as exc:  # noqa: BLE001
            if callback is not None:
                loop.call_soon(callback, exc)
            return False
        if callback is not None:
            # Node: this.once('secure', () => callback(null)): after the 'secure' listeners
            # already there (a client's 'secureConnect' is emitted before any of them).
            _RenegotiatedCallback(self, callback)
        wrap = self._wrap
        assert wrap is not None
        # (only marked, as Node's SSL_renegotiate(): the handshake starts when this write
        # reaches the wrap -- once the one above has completed, on the next loop step -- or
        # when a read or another write meets it first; until then the keys are the old ones)
        wrap.renegotiating = True
        self.write(b"")
        return True

    def enable_trace(self) -> None:
        eng = self._engine
        if eng is not None:
            eng.enable_trace()


class _RenegotiatedCallback:
    """``renegotiate()``'s callback as the once-``'secure'`` listener Node makes of it:
    ``callback(None)`` at the end of a renegotiation.  A ``'secure'`` that is not one (the first
    handshake's: ``renegotiate()`` called from a ``'secureConnect'`` listener, which runs before
    ``'secure'`` is emitted here, unlike in Node) leaves it in place."""

    __slots__ = ("sock", "callback", "seen")

    def __init__(self, sock: _TLSSocketAPI, callback: Callable[..., Any]) -> None:
        self.sock = sock
        self.callback = callback
        self.seen = sock._renegotiations
        sock.on("secure", self)

    def __call__(self, *_: Any) -> Any:
        sock = self.sock
        if sock._renegotiations == self.seen:
            return None
        sock.remove_listener("secure", self)
        return self.callback(None)
