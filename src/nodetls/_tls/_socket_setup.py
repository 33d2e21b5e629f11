"""``TLSSocket``'s engine configuration from its options (Node's ``_init`` in
``lib/internal/tls/wrap.js``): the engine and the TLS handle made over a handle, then only what the
options and the server's listeners ask for switched on (the context's defaults need no call).

:class:`_TLSSocketSetup` is a mixin of ``TLSSocket`` (``socket.py``), without state of its own
(``__slots__ = ()``); the helpers here are what the configuration reads: the ALPN/NPN lists,
``SSLKEYLOGFILE`` and the default server identity check.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import _option_table, _options
from .._engine import TLSEngine
from .._tls_identity import check_server_identity
from .._x509 import certificate_to_dict, identity_fields
from ..errors import CertificateError, InvalidArgValueError, node_error
from ..events import _max_positional
from .template import IN_SWEEP
from .wrap import TLSWrap

if TYPE_CHECKING:
    from ..net import Socket

_monotonic = time.monotonic

#: Options of ``SecureContext`` (from the one option table).
CONTEXT_OPTIONS = _option_table.names("C")

# os.environ's own dict (bytes keys on POSIX): one dict lookup per connection instead of
# os.environ.get's four Python calls; it is what os.environ reads and writes.
_ENV_DATA: Any = getattr(os.environ, "_data", None) if os.name == "posix" else None


def _keylog_env_path() -> str | None:
    if _ENV_DATA is not None:
        raw = _ENV_DATA.get(b"SSLKEYLOGFILE")
        return os.fsdecode(raw) if raw else None
    return os.environ.get("SSLKEYLOGFILE") or None


#: Whether ``SSLKEYLOGFILE`` is set (truthy), asked per connection: on POSIX one C call
#: (``os.environ._data.get``, bound to the key).
_keylog_env_set: Callable[[], Any] = (
    functools.partial(_ENV_DATA.get, b"SSLKEYLOGFILE") if _ENV_DATA is not None
    else _keylog_env_path)


def _append_keylog_file(path: str, line: bytes) -> None:
    """Append a line to ``SSLKEYLOGFILE`` (as curl and Python's ssl do; 0600 when created)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def alpn_list(value: Any, name: str = "alpn_protocols") -> list[bytes]:
    """Node accepts an array of strings/Buffers or a wire-format Buffer."""
    if value is None:
        return []
    if isinstance(value, (bytes, bytearray, memoryview)):
        from .._engine.engine import decode_alpn

        wire = bytes(value)
        names = decode_alpn(wire)
        if not all(names) or len(wire) != sum(1 + wire[i] for i in _prefix_offsets(wire)):
            # Node v20 aborts the process here (an assertion on SSL_set_alpn_protos).
            raise InvalidArgValueError(
                f"{name} is not in the ALPN wire format (length-prefixed names of 1..255 "
                f"bytes): {wire[:32]!r}")
        return names
    if isinstance(value, (list, tuple)):
        out = []
        for item in value:
            if isinstance(item, str):
                out.append(item.encode())
            elif isinstance(item, (bytes, bytearray, memoryview)):
                out.append(bytes(item))
            else:
                raise _options.InvalidArgTypeError(
                    f"{name} items must be str or bytes, got {type(item).__name__}"
                )
        return out
    raise _options.InvalidArgTypeError(f"{name} must be a list or bytes, got {type(value).__name__}")


def _prefix_offsets(wire: bytes) -> list[int]:
    """The offsets of the length bytes of a length-prefixed list."""
    out, i = [], 0
    while i < len(wire):
        out.append(i)
        i += 1 + wire[i]
    return out


@functools.lru_cache(maxsize=64)
def _default_identity_ok(host: str, leaf_der: bytes) -> bool:
    """Node's default ``checkServerIdentity`` passes for ``host`` and this leaf.  It reads only
    the subject and subjectaltname, so only those are decoded (by OpenSSL, from the DER: not the
    whole certificate), and the answer for a pair is remembered (it depends on nothing else): a
    client reconnecting to the same server parses nothing.  (On failure the caller builds the
    full object for the error.)"""
    return check_server_identity(host, identity_fields(leaf_der)) is None


if TYPE_CHECKING:
    class _TLSSocketFields(Socket):
        """``TLSSocket`` as its mixins see it (for the type checker only: at run time the mixins
        derive from ``object``, and these are ``TLSSocket``'s slots and class defaults)."""

        _tls_opts: dict[str, Any]
        _wrap: TLSWrap | None
        _is_server: bool
        _secure_context: Any
        _tls_server: Any
        _servername: str | bool | None
        _secure_established: bool
        _handshake_timer: Any
        _tls_error_reported: bool
        _listener_exc: BaseException | None
        _key_cert: Any
        _session_in_event: bytes | None
        _renegotiation_disabled: bool
        _renegotiations: int
        _reneg_holds: TLSWrap | None
        _shell_listener: tuple[Any, Any, Any] | None
        _host_socket: Any
        _new_session_pending: int
        _deferred_new_sessions: tuple[tuple[bytes, bytes], ...]
        _secure_pending: bool
        _ocsp_response_seen: bool
        _ocsp_staple: bytes | None
        _is_client_connect: bool
        _pending_sessions: tuple[bytes, ...]
        _connect_fields: dict[str, Any] | None
        secure_connecting: bool
        authorized: bool
        authorization_error: str | None
        alpn_protocol: str | bool | None
        npn_protocol: str | bool

        @property
        def _engine(self) -> TLSEngine | None: ...
        def _on_handshake_timeout(self) -> None: ...
        def _check_identity_der(self, leaf_der: bytes) -> BaseException | None: ...
        def _setup_wrap(self, lower: Any) -> None: ...
        def _tls_closed_before_secure(self, closed: bool = False) -> None: ...
        def _tls_error(self, exc: BaseException, closed: bool = False) -> None: ...
        def _tls_renegotiated(self) -> None: ...
        def _tls_session(self, session_id: bytes, der: bytes) -> None: ...
        def _emit_session(self, der: bytes) -> None: ...

    _Base = _TLSSocketFields
else:
    _Base = object


class _TLSSocketSetup(_Base):
    """``TLSSocket``'s methods that make and configure its engine (a mixin: no state)."""

    __slots__ = ()

    def _make_context(self) -> Any:
        ctx = self._tls_opts.get("secure_context")
        if ctx is not None:
            return ctx
        from .._context import SecureContext

        ctx_opts = _option_table.Options(
            (k, v) for k, v in self._tls_opts.items() if k in CONTEXT_OPTIONS)
        return SecureContext(ctx_opts)

    def _setup_wrap(self, lower: Any) -> None:
        """Create the engine and the TLS handle over ``lower`` and configure it from the
        options (Node's ``_init``)."""
        opts = self._tls_opts
        context = self._secure_context
        server = self._is_server
        plain = server and getattr(opts, "plain", False)
        engine = TLSEngine(context, server, None, plain)  # (positional, as in _init_server_connection)
        self._wrap = wrap = TLSWrap(lower, engine, self)
        self._handle = wrap
        srv = self._tls_server
        try:
            if server:
                self._configure_server_engine(engine, srv, opts, plain)
                if self._key_cert is not None:
                    engine.use_key_cert(self._key_cert)
                    self._key_cert = None
            else:
                self._configure_client_engine(engine, opts)
        except BaseException:
            # (e.g. psk_identity_hint refused: the caller reports it, once; this half-made
            # socket closes the connection without reporting it again)
            self._tls_error_reported = True
            self.destroy()
            raise
        self._configure_trace_keylog(engine, opts, srv)

    def _configure_trace_keylog(self, engine: TLSEngine, opts: dict[str, Any], srv: Any) -> None:
        if not getattr(opts, "plain", False) and opts.get("enable_trace"):
            engine.enable_trace()
        if "keylog" in self._events or (srv is not None and "keylog" in srv._events) or (
                _keylog_env_set()):
            engine.enable_keylog()

    def _configure_client_engine(self, engine: TLSEngine, opts: dict[str, Any]) -> None:
        servername = opts.get("servername")
        if servername:
            engine.set_servername(servername)  # (servername: the handshake's, once done)
        alpn = alpn_list(opts.get("alpn_protocols"))
        if alpn:
            engine.set_alpn_protocols(alpn)
        npn = alpn_list(opts.get("npn_protocols"), "npn_protocols")
        if npn:
            engine.set_npn_protocols(npn)
        reject = opts.get("reject_unauthorized", True) is not False
        engine.set_verify(request=True, reject=reject, check_identity=self._check_identity_der)
        if opts.get("request_ocsp"):
            engine.request_ocsp()
        # 'session' events: OpenSSL's new-session callback only once someone listens (Node's
        # newListener trick, see _listener_added); get_session() works without it.
        if "session" in self._events:
            engine.enable_session_callbacks()
        session = opts.get("session")
        if session is not None:
            engine.set_session(_options.as_bytes(session, "session"))
        if opts.get("psk_callback") is not None:
            engine.enable_psk()

    def _configure_server_engine(self, engine: TLSEngine, srv: Any,
                                 opts: dict[str, Any], plain: bool) -> None:
        # Only what this connection needs is set up: each callback is switched on only when an
        # option or a listener asks for it (the context's defaults need no call at all).
        if not plain:  # (a server template's plain: renegotiation refused at creation)
            self._configure_server_options(engine, opts)
        events = srv._events if srv is not None else {}
        resume = "resumeSession" in events
        ocsp = "OCSPRequest" in events
        if resume or "newSession" in events:
            engine.enable_session_callbacks()
        if resume:
            engine.enable_client_hello()
        if ocsp or opts.get("sni_callback") is not None or (srv is not None and srv._sni_contexts):
            engine.enable_cert_cb()
        if ocsp:
            engine.enable_ocsp_status()
        # Node's: None and 0 are the 120 s default, a negative number no timeout (a server's
        # template holds the value already resolved)
        timeout = _option_table.handshake_timeout(opts.get("handshake_timeout"))
        if timeout > 0:
            deadlines = getattr(srv, "_handshake_deadlines", None)
            if deadlines is not None and timeout == srv._handshake_sweep_timeout:
                # One timer per server, not one per connection (see tls.Server._sweep_handshakes):
                # its deadlines come in order, a dict keeps them so, removal is a C call.
                deadlines[self] = _monotonic() + timeout
                self._handshake_timer = IN_SWEEP
                if srv._handshake_sweep is None:
                    srv._arm_handshake_sweep(timeout)
            else:
                loop = asyncio.get_running_loop()
                self._handshake_timer = loop.call_later(timeout, self._on_handshake_timeout)

    def _configure_server_options(self, engine: TLSEngine, opts: dict[str, Any]) -> None:
        if opts.get("request_cert"):
            reject = opts.get("reject_unauthorized", True) is not False
            engine.set_verify(request=True, reject=reject)
        alpn_cb = opts.get("alpn_callback")
        if alpn_cb is not None:
            engine.set_alpn_callback(self._alpn_callback_adapter(alpn_cb))
        elif opts.get("alpn_protocols"):
            engine.set_alpn_protocols(alpn_list(opts["alpn_protocols"]))
        if opts.get("npn_protocols"):
            engine.set_npn_protocols(alpn_list(opts["npn_protocols"], "npn_protocols"))
        engine.set_renegotiation(allow_client=bool(opts.get("allow_client_renegotiation")))
        if opts.get("psk_callback") is not None:
            engine.enable_psk()
            hint = opts.get("psk_identity_hint")
            if hint is not None and not engine.set_psk_identity_hint(str(hint)):
                raise node_error("ERR_TLS_PSK_SET_IDENTIY_HINT_FAILED")

    def _alpn_callback_adapter(self, fn: Callable[..., Any]) -> Callable[[list[bytes]], Any]:
        # Node calls it on the socket (its `this`): here the socket is a second argument, for
        # a function that names two parameters (one taking *args gets the dict alone, as ever)
        takes = _max_positional(fn)
        with_socket = takes is not None and takes >= 2

        def select(offered: list[bytes]) -> bytes | None:
            protocols = [p.decode("latin-1") for p in offered]
            eng = self._wrap.engine if self._wrap is not None else None
            sn = eng.servername() if eng is not None else None
            info = {"servername": sn or False, "protocols": protocols}
            choice = fn(info, self) if with_socket else fn(info)
            if choice is None:
                return None
            if choice not in protocols:
                raise node_error("ERR_TLS_ALPN_CALLBACK_INVALID_RESULT", choice,
                                 ", ".join(protocols))
            picked: bytes = choice.encode("latin-1")
            return picked

        return select

    def _check_identity_der(self, leaf_der: bytes) -> BaseException | None:
        """The identity check (client): runs in the context's cert verify callback
        (``_engine``'s ``_cb_cert_verify``) once the peer's chain has verified."""
        eng = self._engine
        if eng is not None and eng.session_reused():
            return None
        opts = self._tls_opts
        check = opts.get("check_server_identity")
        host = opts.get("servername") or opts.get("host") \
            or getattr(self._host_socket, "_host", None) or "localhost"

        def detailed() -> dict[str, Any]:
            # Node passes getPeerCertificate(true): the issuerCertificate chain, to the root.
            chain = eng.verifying_chain_der() if eng is not None else []
            return certificate_to_dict(leaf_der, detailed=True, issuer_chain=chain)

        if check is None or check is check_server_identity:
            result = None if _default_identity_ok(host, leaf_der) else check_server_identity(
                host, detailed())
        else:
            result = check(host, detailed())
        if result is not None and not isinstance(result, BaseException):
            result = CertificateError(str(result), "ERR_TLS_CERT_ALTNAME_INVALID")
        return result
