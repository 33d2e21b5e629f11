"""TLSSocket: a ``net.Socket`` whose handle encrypts (Node's ``lib/internal/tls/wrap.js``).

The socket's byte-stream behaviour (backpressure, pause/resume, half-close, timeouts, events) is
``net.Socket``'s, unchanged; this module adds what is TLS: the engine's configuration from the
options, the handshake's outcome (verification, ``'secureConnect'``/``'secure'``), the user
callbacks that pause the handshake (SNI, ``'resumeSession'``, ``'OCSPRequest'``) with Node's three
guards, sessions, keylog, PSK, renegotiation limits and the ``get_*`` accessors.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sys
import time
from collections.abc import Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any, Literal, Unpack, cast, overload

from cryptography import x509

from .. import _option_table, _options
from .._engine import TLSEngine, session_ticket
from .._net.handle import _OPEN, TCPHandle
from .._net.socket import AcceptedState, _Normalized
from .._tls_identity import check_server_identity
from .._x509 import certificate_to_dict, format_subjectaltname, name_to_dict
from ..errors import CertificateError, InvalidArgValueError, NodeError, node_error, system_error
from ..events import _max_positional
from ..net import Socket
from ..stream._base import _soon
from ..stream._readable import DATA_HOOKS_AS_READABLE
from . import pause_points

if TYPE_CHECKING:
    from ..types import DetailedPeerCertificate, PeerCertificate, TLSSocketOptions
from .pause_points import once_callback
from .wrap import TLSWrap

_log = logging.getLogger("nodetls.tls")
_iscoroutine = asyncio.iscoroutine
_monotonic = time.monotonic
#: ``TLSSocket._handshake_timer`` of a server connection whose deadline its server's one sweep
#: timer keeps (``tls.Server._handshake_deadlines``), instead of a timer of its own.
IN_SWEEP: Any = object()

#: Options of ``TLSSocket(...)`` and of ``SecureContext`` (from the one option table).
TLSSOCKET_OPTIONS = _option_table.names("K")
CONTEXT_OPTIONS = _option_table.names("C")

CLIENT_RENEG_LIMIT = 3
#: Node's ``validateInt32``.
_INT32 = _option_table.number(-2**31, integer=True, maximum=2**31 - 1)
_UINT32_NOT_ZERO = _option_table.number(0, integer=True, exclusive=True, maximum=2**32 - 1)
_CONNECT_END = "Client network socket disconnected before secure TLS connection was established"
CLIENT_RENEG_WINDOW = 600.0

_keylog_file_lock: Any = None


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
    the subject and subjectaltname, so only those are built (the full Node object costs
    ~0.4 ms), and a pair that passed is remembered: a client reconnecting to the same server
    parses nothing.  (On failure the caller builds the full object for the error.)"""
    leaf = x509.load_der_x509_certificate(leaf_der)
    slim: dict[str, Any] = {"subject": name_to_dict(leaf.subject)}
    san = format_subjectaltname(leaf)
    if san is not None:
        slim["subjectaltname"] = san
    return check_server_identity(host, slim) is None


class SocketTemplate(dict):  # type: ignore[type-arg]
    """TLSSocket options already in snake_case and known (never mutated by a socket): the fast
    path of :class:`TLSSocket`'s constructor.  A server builds one per server, its values
    ``checked`` once at its creation; ``tls.connect`` builds one from options it normalised."""

    checked = False
    #: The state of a socket accepted with this template (``net.Socket._accepted_state``):
    #: ``None`` until the first connection, empty (false) when it cannot be used.
    accepted_state: ServerState | None = None
    #: A server template asking nothing per connection beyond the context's defaults (no
    #: client certificate, ALPN/NPN, PSK, SNI callback, renegotiation or trace): a connection's
    #: engine then needs only the renegotiation refusal (see ``_configure_server_engine``).
    plain = False
    #: A plain server template's ``handshake_timeout`` (> 0) when its server's one sweep timer
    #: keeps the deadlines (``tls.Server._handshake_deadlines``); 0 (any other template): see
    #: ``_configure_server_engine``.
    sweep_timeout = 0.0

#: ``net.Socket``'s ``_on_handle_eof``, called by :meth:`TLSSocket._on_handle_eof` (a global read
#: is specialised; an attribute of a class is not on CPython 3.11).
_SOCKET_ON_EOF = Socket._on_handle_eof
#: Server listeners that make a connection's engine need more than the context's defaults.
_ENGINE_EVENTS = frozenset({"resumeSession", "newSession", "OCSPRequest", "keylog"})
#: Those of them that need only the session callbacks (a session store's, usually).
_SESSION_EVENTS = frozenset({"resumeSession", "newSession"})
#: The others (``_init_server_connection`` leaves them to ``_configure_server_engine``).
_OTHER_ENGINE_EVENTS = _ENGINE_EVENTS - _SESSION_EVENTS

#: Server options that make a connection's engine need more than the context's defaults.
_PER_CONNECTION = ("request_cert", "alpn_callback", "alpn_protocols", "npn_protocols",
                   "allow_client_renegotiation", "psk_callback", "sni_callback", "enable_trace")


def _session_engine(engine: TLSEngine, srv: Any) -> bool:
    """A plain server's connection whose server listens for ``'resumeSession'`` and/or
    ``'newSession'`` (a session store) and for no other engine event: the session callbacks
    are switched on as ``_configure_server_engine`` does, for the listeners the server has
    now (added or removed between connections, they apply to the next one, as in Node).
    False: another event needs ``_configure_server_engine``.  (Once both callbacks are on the
    server's context, ``srv._session_callbacks_on`` is that context: a connection then only
    asks for the client hello, without the installation's calls.)  When ``use_session_store``'s
    listener is the only ``'resumeSession'`` one, the compiled binding decides and answers the
    lookup in C (``TLSEngine.enable_session_path``); ``pause_points.run`` reads the id there."""
    events = srv._events
    if not _OTHER_ENGINE_EVENTS.isdisjoint(events):
        return False
    if "resumeSession" in events:
        context = engine.context
        if context is not srv._session_callbacks_on:
            engine.enable_session_callbacks()
            engine.enable_client_hello()
            srv._session_callbacks_on = context
        binding = srv._store_binding
        if binding is None or events.get("resumeSession") != binding._resume_alone \
                or not engine.enable_session_path():
            # (a listener of the user's sees the pause_points.client_hello decision; an
            # ABI-mode binding has no session path)
            engine.want_client_hello = True  # (enable_client_hello, installed already)
        return True
    engine.enable_session_callbacks()
    return True


class ServerState(AcceptedState):
    """The ``AcceptedState`` of a server's connection (``TLSSocket._server_accepted_state``)."""

    __slots__ = ()


class TLSSocket(Socket):
    """Node's ``tls.TLSSocket``.  Wraps a ``net.Socket``, any ``stream.Duplex``, or (``None``) a
    new unconnected ``net.Socket``."""

    # The state every connection sets, in slots as net.Socket's (set by both constructors).
    # ('_new_session_pending', '_deferred_new_sessions': read at every handshake's end.)
    __slots__ = ("_tls_opts", "_wrap", "_is_server", "secure_connecting", "_secure_context",
                 "_handshake_timer", "_secure_established", "_servername", "_tls_server",
                 "_new_session_pending", "_deferred_new_sessions")
    _new_session_pending: int  # 'newSession' callbacks not answered yet (TLS 1.2, server)
    _deferred_new_sessions: tuple[tuple[bytes, bytes], ...]  # TLS 1.3, server: see _tls_secure
    #: The ``tls.Server`` this socket serves for (``None`` for a client).
    _tls_server: Any

    encrypted = True

    # Defaults at class level: a connection stores only what differs from them, which keeps an
    # idle connection's instance dict small (a dict of more than 85 entries doubles to 3 KiB).
    # Every one is replaced, never mutated in place.
    authorized = False
    authorization_error: str | None = None
    alpn_protocol: str | bool = False
    npn_protocol: str | bool = False
    _tls_error_reported = False
    _is_client_connect = False  # set by tls.connect: emits 'secureConnect'
    # tls.connect's path, host, port and local_address as given (Node's onConnectEnd error)
    _connect_fields: dict[str, Any] | None = None
    _pending_sessions: tuple[bytes, ...] = ()  # client: 'session's before 'secureConnect'
    _session_in_event: bytes | None = None  # client: the session a 'session' event is about
    _secure_pending = False
    _store_saves = 0  # TLS 1.3 tickets a session store is writing (pause_points.save_session)
    _pending_resume_id = b""  # the id 'resumeSession' looks up (pause_points.client_hello)
    _pending_resume_ticket = False  # ... and whether it is a TLS 1.3 ticket
    _reneg_times: tuple[float, ...] = ()
    _renegotiation_disabled = False
    _renegotiations = 0  # renegotiations finished ('secure' emitted again)
    _key_cert: Any = None  # set_key_cert()'s context, before the engine exists
    _ocsp_response_seen = False
    _ocsp_staple: bytes | None = None
    # (raw socket, its 'close' listener, its 'error' listener) while the net.Socket whose handle
    # we took is a shell around us (_adopt_shell): removed at our close (an unfired listener is
    # a cycle raw <-> listener).
    _shell_listener: tuple[Any, Any, Any] | None = None

    def __init__(self, socket: Any = None, options: Mapping[str, Any] | None = None,
                 **kwargs: Unpack[TLSSocketOptions]) -> None:
        if type(socket) is TCPHandle and type(options) is SocketTemplate and not kwargs \
                and socket._reading and options.get("is_server"):
            # A server's accepted connection: the stream state comes from a prototype.
            state = options.accepted_state
            if state is None:
                state = options.accepted_state = self._server_accepted_state(options)
            if state:  # (empty: cannot be used)
                self._init_server_connection(socket, options, state)
                return
        if socket is not None and type(socket) is not TCPHandle:
            _option_table.duplex(socket, "socket")
        if type(options) is SocketTemplate and not kwargs:
            opts: dict[str, Any] = options  # a server's per-connection template (read-only)
        else:
            opts = _options.normalize(options, kwargs, TLSSOCKET_OPTIONS, "options")
        self._tls_opts = opts
        self._wrap: TLSWrap | None = None
        self._servername: str | bool = False
        self._secure_established = False
        self._handshake_timer: Any = None
        self._new_session_pending = 0
        self._deferred_new_sessions = ()
        # The tls.Server this socket serves for (its hooks and events); net.Socket's ``_server``,
        # the server that counts the connection, is set by whoever counts it: net.Server._accept,
        # or tls.Server._tls_connection_listener, the server that accepted the raw socket (Node:
        # a TLSSocket over a socket emitted as 'connection' is not counted by the tls.Server).
        # Node accepts any net.Server here (a STARTTLS server passes its own): only a
        # tls.Server has the hooks used through it (SNI contexts, 'tlsClientError', sessions).
        srv = opts.get("server")
        self._tls_server = srv if hasattr(srv, "_tls_client_error") else None
        self._is_server = bool(opts.get("is_server"))
        self.secure_connecting = True
        # Everything that can fail is checked before a handle exists (nothing left registered);
        # a server's template was checked once, when the server was created.
        ctx = opts.get("secure_context")  # (a server's template has it: no call)
        self._secure_context = ctx if ctx is not None else self._make_context()
        net_opts = _Normalized()
        if socket is not None and type(socket) is not TCPHandle:
            # Node: allowHalfOpen = socket ? socket.allowHalfOpen : options.allowHalfOpen
            # (a server's accepted TCPHandle: the server's option, as its raw socket's in Node)
            net_opts["allow_half_open"] = getattr(socket, "allow_half_open", False) is True
        elif "allow_half_open" in opts:
            net_opts["allow_half_open"] = opts["allow_half_open"]
        if opts.get("high_water_mark") is not None:  # (Node: both sides' highWaterMark)
            net_opts["high_water_mark"] = opts["high_water_mark"]
        handle = None
        if socket is not None:
            handle = socket if type(socket) is TCPHandle else self._take_handle(socket)
        if handle is not None:
            net_opts["handle"] = handle
        super().__init__(net_opts)
        if handle is not None:
            self._setup_wrap(handle)
            if not getattr(handle, "closed", False):
                self._wrap.start()  # type: ignore[attr-defined]  # (_start_tls, inlined)
                if type(socket) is not TCPHandle and getattr(socket, "_shell_of", None) is self \
                        and socket.readable_length:
                    self._receive_buffered(socket)
        elif socket is not None:
            self._wait_for_connect(socket)
        if handle is None:
            # Node's initRead (a tick later): read(0), paused or not, so the handshake is read
            # once connected (net.Socket's _read waits for the connection); a socket built on a
            # handle read(0) in net.Socket.__init__ already.
            loop = asyncio._get_running_loop()
            if loop is not None:
                loop.call_soon(self._init_read)

    def _init_read(self) -> None:
        """Node's ``initRead``: start the reading (a ``read(0)``) even if the user paused."""
        if not self._destroyed:
            self.read(0)

    def _receive_buffered(self, raw: Any) -> None:
        """Node's ``_init``: what the wrapped socket read before TLS took its connection (a
        ClientHello behind a plaintext STARTTLS line, or a socket wrapped late) is received as
        if it had just arrived."""
        while (chunk := raw.read()) is not None:
            data = chunk.encode() if isinstance(chunk, str) else bytes(chunk)
            wrap = self._wrap
            if wrap is None or self._destroyed:
                return
            wrap._on_handle_read(memoryview(data))

    @classmethod
    def _server_accepted_state(cls, template: SocketTemplate) -> ServerState:
        """The state a server's accepted connection starts with, for ``template``: the
        ``net.Socket`` part (``net.Socket._accepted_values``) and this class's, which is the
        template's (its options, server and context: the values ``__init__`` stores).  Empty
        (not used: ``__init__`` runs) when the net part cannot be shared or the template has no
        context."""
        ctx = template.get("secure_context")
        state = None if ctx is None else cls._accepted_values(
            {"allow_half_open": template["allow_half_open"]}
            if "allow_half_open" in template else {})
        if state is None:
            return ServerState({})
        # (_handshake_timer: a template whose server's sweep keeps the deadlines has one in
        # it at once, whichever way _init_server_connection configures the engine)
        state.update(_tls_opts=template, _servername=False, _secure_established=False,
                     _handshake_timer=IN_SWEEP if template.sweep_timeout else None,
                     _new_session_pending=0, _deferred_new_sessions=(),
                     _tls_server=template.get("server"), _is_server=True, secure_connecting=True,
                     _secure_context=ctx)
        return ServerState(state)

    def _init_server_connection(self, handle: TCPHandle, opts: SocketTemplate,
                                state: ServerState) -> None:
        """``__init__`` for a server's accepted handle and template: the same state, copied from
        ``state`` (see :meth:`_server_accepted_state`), then the engine and its TLS handle."""
        fill = state.fill  # (a slot: LOAD_ATTR_SLOT, where a LOAD_METHOD would not specialise)
        fill(self)
        srv = self._tls_server  # (_server: net.Server._accept sets it)
        # (_setup_wrap, for a server's template: no lookups of what the template has)
        # (positional: compiled, keywords cost the engine's argument parsing ~2k instructions)
        engine = TLSEngine(self._secure_context, True, None, opts.plain)
        self._handle = self._wrap = wrap = TLSWrap(handle, engine, self)
        timeout = opts.sweep_timeout  # (a plain template's, whose server is srv)
        if timeout and not srv._sni_contexts and (
                _ENGINE_EVENTS.isdisjoint(srv._events) or _session_engine(engine, srv)):
            # The usual server: the engine needs nothing beyond the context's defaults (no
            # option, no server listener asks for more; this new socket has no listener yet),
            # or only the session callbacks (a session store's listeners); its deadline goes to
            # the server's sweep (_configure_server_engine, reduced).
            # (_handshake_timer: IN_SWEEP already, from the state)
            srv._handshake_deadlines[self] = _monotonic() + timeout
            if srv._handshake_sweep is None:
                srv._arm_handshake_sweep(timeout)
            if _keylog_env_set():
                engine.enable_keylog()
        else:
            self._configure_server_engine(engine, srv, opts, opts.plain)
            self._configure_trace_keylog(engine, opts, srv)
        if handle._state == _OPEN:  # (not handle.closed: a property call)
            # (wrap.start(), inlined: a server's new wrap has received nothing, no cycle to run)
            wrap.started = True
            wrap.route_reads()  # the reads: TLSWrap._on_transport_read, as a client's

    # ------------------------------------------------------------------ wiring
    def _take_handle(self, socket: Any) -> Any:
        from .._net.handle import DuplexHandle
        from ..net import Socket as NetSocket

        if isinstance(socket, NetSocket) and not isinstance(socket, TLSSocket):
            if socket._handle is None or socket.connecting:
                return None  # not connected yet: see _wait_for_connect
            handle = socket._handle
            self._adopt_shell(socket, handle)
            return handle
        # Anything else, a TLS socket too (TLS inside TLS, Node's test-tls-inception): a
        # stream read through its events, as Node's JSStreamSocket.  (A TLS socket's handle is
        # its TLS wrap, whose callbacks must still reach that socket: it cannot be shared.)
        return DuplexHandle(socket)

    def _before_reset(self) -> None:
        """``reset_and_destroy()`` (this socket's, or its shell's): the close sends no
        close_notify, so the peer sees the RST alone (Node's ``resetAndDestroy()``)."""
        wrap = self._wrap
        if wrap is not None:
            wrap.abortive = True

    def _adopt_shell(self, raw: Any, handle: Any) -> None:
        """Node's ``_wrapHandle`` over a connected ``net.Socket``: the TLS socket and the raw
        one share the connection.  Here the raw socket becomes a shell: its handle is this
        socket's, and what Node's raw socket still does through the shared handle, the shell
        does through ``_closed_handle`` (its addresses, ``set_no_delay``/``set_keep_alive``,
        ``reset_and_destroy``'s RST) and through this socket (``ref``/``unref``).  Their ends
        are tied both ways, as Node's: the shell's ``'close'`` destroys this socket (its
        ``destroy()`` closes the connection), this socket's close destroys the shell
        (:meth:`_on_handle_close`), and the shell's ``'error'`` is this socket's (Node's
        ``_emitTLSError``)."""
        raw._handle = None
        raw._closed_handle = handle
        raw._shell_of = self
        on_close = functools.partial(_shell_closed, self)
        on_error = functools.partial(_shell_error, self)
        raw.once("close", on_close)
        raw.on("error", on_error)
        self._shell_listener = (raw, on_close, on_error)

    def _wait_for_connect(self, socket: Any) -> None:
        """Node's ``_start`` on a socket not connected yet: this socket is ``connecting``
        (writes queue) until the wrapped one's ``'connect'``; then its handle is taken and the
        handshake starts.  Its error before that is this socket's error."""
        self.connecting = True

        def on_connect() -> None:
            socket.remove_listener("error", on_error)
            socket.remove_listener("close", on_close)
            self.remove_listener("close", on_own_close)
            handle = socket._handle
            if handle is None:
                return
            if self.destroyed:  # (destroyed while connecting: the connection goes too, as
                socket.destroy()  # Node's TLS close destroys the socket it wraps)
                return
            self._adopt_shell(socket, handle)
            self._setup_wrap(handle)
            self._on_handle_connect()  # net.Socket's: options, 'connect', start TLS, reading

        def on_error(err: BaseException) -> None:
            socket.remove_listener("connect", on_connect)
            self.remove_listener("close", on_own_close)
            self.connecting = False
            self.destroy(err)

        def on_close(*_: Any) -> None:
            socket.remove_listener("connect", on_connect)
            self.remove_listener("close", on_own_close)
            self.connecting = False
            self.destroy()

        def on_own_close(*_: Any) -> None:  # (destroyed first: the wrapped socket goes too,
            socket.remove_listener("connect", on_connect)  # its connection attempt with it, as
            socket.destroy()  # Node's TLS close destroys the socket it wraps)

        socket.once("connect", on_connect)
        socket.once("error", on_error)
        socket.once("close", on_close)
        self.once("close", on_own_close)

    def _make_context(self) -> Any:
        ctx = self._tls_opts.get("secure_context")
        if ctx is not None:
            return ctx
        from .._context import SecureContext

        ctx_opts = {k: v for k, v in self._tls_opts.items() if k in CONTEXT_OPTIONS}
        return SecureContext(ctx_opts)

    def _setup_wrap(self, lower: Any) -> None:
        """Create the engine and the TLS handle over ``lower`` and configure it from the
        options (Node's ``_init``)."""
        opts = self._tls_opts
        context = self._secure_context
        server = self._is_server
        plain = server and getattr(opts, "plain", False)
        engine = TLSEngine(context, server, None, plain)  # (positional: see above)
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

    _HOOK_EVENTS = Socket._HOOK_EVENTS | {"keylog", "session"}

    def _listener_added(self, event: str) -> None:
        # Node's newListener trick without a listener: OpenSSL's keylog and (client) new-session
        # callbacks are switched on by the first 'keylog' / 'session' listener.
        Socket._listener_added(self, event)  # (not super(): its object and MRO walk per call)
        if event == "keylog" or event == "session":
            wrap = self._wrap
            eng = wrap.engine if wrap is not None else None
            if eng is not None:
                if event == "keylog":
                    eng.enable_keylog()
                elif not self._is_server:
                    eng.enable_session_callbacks()

    def _configure_client_engine(self, engine: TLSEngine, opts: dict[str, Any]) -> None:
        servername = opts.get("servername")
        if servername:
            engine.set_servername(servername)
            self._servername = servername
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
        timeout = opts.get("handshake_timeout", 120.0)
        if timeout and timeout > 0:
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

    def _start_tls(self) -> None:
        wrap = self._wrap
        if wrap is not None:
            wrap.start()

    def _on_connected(self) -> None:
        """net.Socket hook: the TCP connection is up."""
        super()._on_connected()
        self._start_tls()

    def _attach_handle(self, handle: Any) -> None:
        """Called by net.Socket.connect() with the new transport handle: wrap it in TLS."""
        if self._wrap is None:
            self._setup_wrap(handle)
            wrap: Any = self._wrap
            wrap.route_reads()  # a client's reads: TLSWrap._on_transport_read
        else:  # pragma: no cover
            self._handle = self._wrap

    # ------------------------------------------------------------------ outcome
    def _tls_secure(self) -> None:
        """The handshake finished (Node's ``onhandshakedone`` + ``_finishInit``)."""
        wrap = self._wrap
        eng = wrap.engine if wrap is not None else None
        if eng is None:
            return
        if self._secure_established:
            self._tls_renegotiated()
            return
        timer = self._handshake_timer
        new_session_pending = self._new_session_pending
        if not new_session_pending and timer is not None:
            self._handshake_timer = None
            if timer is IN_SWEEP:  # (_stop_handshake_timer, inlined: every connection passes)
                self._tls_server._handshake_deadlines.pop(self, None)  # (the sweep stays armed)
            else:
                timer.cancel()
        self.secure_connecting = False
        alpn, npn, sn = eng.negotiated()
        if alpn:  # (the class defaults are False)
            self.alpn_protocol = alpn.decode("latin-1")
        if npn:
            self.npn_protocol = npn.decode("latin-1")
        if self._is_server:
            if sn:
                self._servername = sn
            if self._tls_opts.get("request_cert"):
                self._server_verify_result(eng)
            if new_session_pending:
                # Node's _securePending (TLS 1.2): 'secureConnection' waits for the
                # 'newSession' callback, and so does the client (our Finished is held).
                self._secure_pending = True
                return
            self._emit_server_secure()
            # TLS 1.3: one 'newSession' per ticket, after 'secureConnection' (Node).
            deferred = self._deferred_new_sessions
            if deferred:
                self._deferred_new_sessions = ()
                for session_id, der in deferred:
                    if self.destroyed:
                        break
                    self._tls_session(session_id, der)
        else:
            self._client_verify_result(eng)
            if self.destroyed:
                return
            self._secure_established = True
            if self._tls_opts.get("request_ocsp") and not self._ocsp_response_seen:
                self._ocsp_response_seen = True
                resp = eng.stapled_ocsp_response()
                self._ocsp_staple = resp
                self.emit("OCSPResponse", resp)
                if self.listener_count("OCSPRequest"):
                    self.emit("OCSPRequest", resp)
                if self._tls_opts.get("ocsp") and not self.destroyed:
                    # Beyond Node: tls.connect(..., ocsp=...) checks the staple (nodetls.ocsp).
                    from .._ocsp_check import check_staple

                    peer = eng.peer_chain_der()
                    _, err = check_staple(resp, peer + eng.verified_chain_der()[1:])
                    if err is not None and (err.reason != "missing"
                                            or self._tls_opts["ocsp"] == "require"):
                        self.destroy(err)
                if self.destroyed:
                    return
            if self._is_client_connect:
                self.emit("secureConnect")
            self.emit("secure")
            if self.listener_count("secureConnection"):
                self.emit("secureConnection", self)
            pending, self._pending_sessions = self._pending_sessions, ()
            for der in pending:
                self._emit_session(der)

    def _emit_server_secure(self) -> None:
        self._secure_established = True
        if self._handshake_timer is not None:
            self._stop_handshake_timer()
        events = self._events
        if "secure" in events:  # (no emit call for an event nobody listens to)
            self.emit("secure")
        if "secureConnection" in events:
            self.emit("secureConnection", self)
        srv = self._tls_server
        if srv is not None and not self._destroyed:
            # The server's (emit(), without *args): EventEmitter._emit1's steps here, for a
            # server whose class does not override emit() (no call, the listener called
            # directly); otherwise through _emit1.
            if not srv._plain_emit:
                srv._emit1("secureConnection", self)
                return
            handlers = srv._events.get("secureConnection")
            if handlers is not None:
                for fn in handlers:
                    try:
                        r = fn(self)
                    except Exception as exc:
                        r = srv._listener_raised("secureConnection", fn, (self,), exc)
                    if r is not None and _iscoroutine(r):
                        srv._schedule("secureConnection", r, (self,))

    def _server_verify_result(self, eng: TLSEngine) -> None:
        """``authorized``/``authorization_error`` of a server that asked for a certificate."""
        if eng.peer_certificate_der() is None:
            self.authorized = False
            self.authorization_error = "UNABLE_TO_GET_ISSUER_CERT"  # Node's value (sic)
            return
        code = eng.verify_result()
        if code == 0:
            self.authorized = True
        else:
            err = eng.certificate_error()
            self.authorization_error = err.code if err is not None else str(code)

    def _client_verify_result(self, eng: TLSEngine) -> None:
        opts = self._tls_opts
        code = eng.verify_result()
        err: NodeError | BaseException | None = None
        if code != 0:
            err = eng.certificate_error()
        elif eng.identity_error is not None:
            err = eng.identity_error
        if err is None:
            self.authorized = True
        else:
            self.authorized = False
            self.authorization_error = getattr(err, "code", None) or str(err)
            if opts.get("reject_unauthorized", True) is not False:
                self.destroy(err)
                return
        min_dh = opts.get("min_dh_size", 1024)
        info = eng.ephemeral_key_info()
        if info.get("type") == "DH" and info.get("size", 0) < min_dh:
            self.destroy(node_error("ERR_TLS_DH_PARAM_SIZE", info.get("size"), min_dh))

    def _check_identity_der(self, leaf_der: bytes) -> BaseException | None:
        """Runs inside OpenSSL's verify callback at the leaf (client)."""
        eng = self._engine
        if eng is not None and eng.session_reused():
            return None
        opts = self._tls_opts
        check = opts.get("check_server_identity")
        host = opts.get("servername") or opts.get("host") or "localhost"

        def detailed() -> dict[str, Any]:
            # Node passes getPeerCertificate(true): the issuerCertificate chain, to the root.
            chain = eng.verifying_chain_der() if eng is not None else []
            leaf = x509.load_der_x509_certificate(leaf_der)
            return certificate_to_dict(leaf, detailed=True, issuer_chain=chain)

        if check is None or check is check_server_identity:
            result = None if _default_identity_ok(host, leaf_der) else check_server_identity(
                host, detailed())
        else:
            result = check(host, detailed())
        if result is not None and not isinstance(result, BaseException):
            result = CertificateError(str(result), "ERR_TLS_CERT_ALTNAME_INVALID")
        return result

    def _tls_error(self, exc: BaseException) -> None:
        """A TLS failure (handshake or record layer)."""
        if self._tls_error_reported or self.destroyed:
            return
        wrap = self._wrap
        if self._is_client_connect and not self._secure_established and wrap is not None \
                and wrap._lower_eof and getattr(exc, "code", None) == "ECONNRESET" \
                and exc.args != (_CONNECT_END,):
            # The server ended the connection during the handshake (the engine's or the wrap's
            # EOF error): Node's onConnectEnd error, with its message and the connect options.
            exc = self._connect_end_error()
        self._tls_error_reported = True
        if not self._secure_established:
            _log.debug("TLS handshake failed (%s, %s): %s", "server" if self._is_server else "client",
                       _peer(self), _one_line(exc))
        if self._handshake_timer is not None:
            self._stop_handshake_timer()
        if self._is_server and not self._secure_established and self._tls_server is not None:
            # Node destroys the socket first: 'tlsClientError' listeners see it destroyed.
            self.destroy()
            self._tls_server._tls_client_error(exc, self)
            return
        self.destroy(exc)

    def _tls_closed_before_secure(self) -> None:
        if self._tls_error_reported:
            return
        if self._is_server:
            self._tls_error(system_error("ECONNRESET", "socket hang up"))
        else:
            self._tls_error(self._connect_end_error())

    def _connect_end_error(self) -> BaseException:
        """Node's ``onConnectEnd`` error: a client's connection ended before the handshake
        completed; ``path``, ``host``, ``port``, ``local_address`` as ``tls.connect`` got them."""
        fields = self._connect_fields
        if fields is None:
            opts = self._tls_opts
            fields = {"path": opts.get("path"), "host": opts.get("host"),
                      "port": opts.get("port"), "local_address": None}
        return system_error("ECONNRESET", _CONNECT_END, **fields)

    def _stop_handshake_timer(self) -> None:
        timer, self._handshake_timer = self._handshake_timer, None
        if timer is IN_SWEEP:
            self._tls_server._handshake_deadlines.pop(self, None)  # (the sweep stays armed)
        elif timer is not None:
            timer.cancel()

    def _on_handshake_timeout(self) -> None:
        self._handshake_timer = None
        if self._secure_established or self.destroyed:
            return
        # Deliberately differs from Node: the socket is destroyed, not left open.
        self._tls_error(node_error("ERR_TLS_HANDSHAKE_TIMEOUT"))

    # ------------------------------------------------------------------ engine notifications
    def _tls_keylog(self, line: bytes) -> None:
        path = _keylog_env_path()
        if path:
            try:
                _append_keylog_file(path, line)
            except OSError:
                pass
        if self.listener_count("keylog"):
            self.emit("keylog", line)
        srv = self._tls_server
        if srv is not None and srv.listener_count("keylog"):
            srv.emit("keylog", line, self)

    def _emit_session(self, der: bytes) -> None:
        """A client's ``'session'``: while its listeners run, :meth:`get_tls_ticket` gives that
        session's ticket, as in Node, whose event comes from OpenSSL's new-session callback
        (ours come once the record layer is done: a later ticket may already be in)."""
        before, self._session_in_event = self._session_in_event, der
        try:
            self.emit("session", der)
        finally:
            self._session_in_event = before

    def _tls_session(self, session_id: bytes, der: bytes) -> None:
        if not self._is_server:
            if self._secure_established:
                self._emit_session(der)
            else:
                self._pending_sessions = (*self._pending_sessions, der)
            return
        srv = self._tls_server
        if srv is None or "newSession" not in srv._events:  # (listener_count, without its call)
            return
        if pause_points.save_session(self, srv, session_id, der):  # use_session_store
            return
        eng = self._engine
        tls13 = eng is not None and eng.version == "TLSv1.3"
        if tls13 and not self._secure_established:
            # The tickets were made inside the handshake: 'secureConnection' goes first and
            # never waits.  The tickets themselves (and whatever the server writes after them)
            # stay held until every 'newSession' callback has been called, as in Node: a client
            # must not be able to offer a ticket that the session store does not hold yet (it
            # may resume on another server of a fleet at once).  Unlike Node, a write or end()
            # meanwhile is sent after the release, not lost.
            self._deferred_new_sessions = (*self._deferred_new_sessions, (session_id, der))
            if self._wrap is not None:
                self._wrap.hold()
            return
        self._new_session_pending += 1
        wrap = self._wrap
        if not tls13 and wrap is not None:
            wrap.hold()  # TLS 1.2: our Finished waits for the callback (Node)

        def done(*_args: Any) -> None:
            self._new_session_pending -= 1
            if self._new_session_pending:
                return
            if self._secure_pending:
                self._secure_pending = False
                if self._secure_established:  # a renegotiation's end waited for it
                    self._emit_secure_again()
                else:
                    self._emit_server_secure()
            if self._wrap is not None:
                self._wrap.release()

        cb = once_callback(self, "newSession", done, repeat_ignored=True)  # Node: once
        srv.emit("newSession", session_id, der, cb)

    def _on_handle_eof(self) -> None:
        # (_secure_pending, a class default, is read only before the handshake is done: it is
        # never set after, and CPython 3.11 does not specialise an instance's read of a class
        # attribute, ~200 instructions; _secure_established is a slot)
        if not self._secure_established and self._secure_pending:
            # the peer left while our Finished was held (Node)
            self._secure_pending = False
            self._tls_closed_before_secure()
            return
        _SOCKET_ON_EOF(self)  # (not super(): its object and MRO walk per call; a global, not
        # Socket._on_handle_eof: CPython 3.11 does not specialise an attribute read on a class)

    def _on_handle_error(self, exc: BaseException) -> None:
        if not self._secure_established and self._secure_pending:
            # e.g. ECONNRESET while our Finished was held: a client error
            self._secure_pending = False
            self._tls_error(exc)
            return
        if self._is_server and not self._secure_established and self._tls_server is not None:
            # Node's onSocketTLSError: a server socket's transport error before the handshake
            # finished (e.g. an RST before the ClientHello) is 'tlsClientError', not 'error'.
            self._tls_error(exc)
            return
        super()._on_handle_error(exc)

    def _on_handle_close(self) -> None:
        server = self._server
        if (self._destroyed and self._secure_established and self._handshake_timer is None
                and self._shell_listener is None and not self._error_pending
                and (server is None or not server._close_scheduled)):
            # The usual close (destroyed after the handshake, no 'error' to come first, the
            # server not closing): net.Socket._on_handle_close's steps for it, the 'close'
            # event on a later loop turn (after what this one deferred, as Node's), in this
            # call when nobody listens or waits for it.
            if not self._close_emitted:
                if self._close_waiters or "close" in self._events:
                    _soon(self._emit_socket_close)
                else:
                    self._close_emitted = True
            return
        if not self._secure_established and self._secure_pending:  # (see _on_handle_eof)
            self._secure_pending = False
            self._tls_closed_before_secure()
        if self._handshake_timer is not None:  # destroyed before the handshake completed
            self._stop_handshake_timer()  # (the timer would hold this socket until it fires)
        shell = self._shell_listener
        if shell is not None:
            self._shell_listener = None
            raw = shell[0]
            raw.remove_listener("close", shell[1])
            raw.remove_listener("error", shell[2])
            raw._shell_of = None  # (a raw socket kept by the user does not keep this one)
            if not raw._destroyed:
                # Node's TLSWrap.close destroys the socket it took the handle of: the server
                # that accepted that socket counts it out ('close' once drained, before ours).
                raw.destroy()
                if not self._destroyed:
                    self.destroy()
                asyncio.get_running_loop().call_soon(self._emit_socket_close)
                return
        Socket._on_handle_close(self)  # (not super(): its object and MRO walk per call)

    # ------------------------------------------------------------------ pause points
    #: Inside the client-hello callback: pause for ``'resumeSession'``?
    _tls_client_hello = pause_points.client_hello

    def _tls_cert(self, servername: str | None) -> bool:
        """Inside the cert callback: pause for ``SNICallback``/``'OCSPRequest'``?  The name is
        the socket's ``servername`` from here on (Node's ``oncertcb``), a failed handshake's too."""
        if servername:
            self._servername = servername
        eng = self._engine
        return eng is not None and pause_points.wants_cert_pause(self, eng, servername)

    #: The engine paused: run the user callbacks (outside any OpenSSL call).
    _tls_pause = pause_points.run

    # ------------------------------------------------------------------ sync hooks
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
                raise node_error("ERR_TLS_ALPN_CALLBACK_INVALID_RESULT", choice, protocols)
            picked: bytes = choice.encode("latin-1")
            return picked

        return select

    def _tls_psk_server(self, identity: str) -> bytes | None:
        fn: Any = self._tls_opts.get("psk_callback")
        key = fn(self, identity)
        if key is None:
            return None
        if isinstance(key, dict):
            key = key.get("psk")
        return _options.as_bytes(key, "psk")

    def _tls_psk_client(self, hint: str | None) -> tuple[str, bytes] | None:
        fn: Any = self._tls_opts.get("psk_callback")
        ans = fn(hint)
        if ans is None:
            return None
        if not isinstance(ans, dict) or "psk" not in ans or "identity" not in ans:
            raise _options.InvalidArgTypeError(
                "psk_callback must return None or {'psk': bytes, 'identity': str}"
            )
        return ans["identity"], _options.as_bytes(ans["psk"], "psk")

    def _tls_handshake_start(self, count: int) -> None:
        if not self._is_server or count <= 1:
            return
        if self._renegotiation_disabled:
            err = node_error("ERR_TLS_RENEGOTIATION_DISABLED")
            asyncio.get_running_loop().call_soon(self.destroy, err)
            return
        now = time.monotonic()
        # Node reads tls.CLIENT_RENEG_LIMIT/WINDOW at each check, so programs may change them.
        public = sys.modules.get("nodetls")
        limit = getattr(public, "CLIENT_RENEG_LIMIT", CLIENT_RENEG_LIMIT)
        window = getattr(public, "CLIENT_RENEG_WINDOW", CLIENT_RENEG_WINDOW)
        self._reneg_times = (*(t for t in self._reneg_times if now - t < window), now)
        if len(self._reneg_times) > limit:
            err = node_error("ERR_TLS_SESSION_ATTACK")
            asyncio.get_running_loop().call_soon(self.destroy, err)

    def _tls_renegotiated(self) -> None:
        """A later handshake (a TLS 1.2 renegotiation, whichever side asked) finished: Node's
        ``onhandshakedone`` -> ``_finishInit`` again, which emits ``'secure'`` again (a server
        socket's once its ``'newSession'`` callbacks are answered, as the first time)."""
        if self._engine is None:
            return
        if self._is_server and self._new_session_pending:
            self._secure_pending = True  # (done() in _tls_session emits it)
            return
        self._emit_secure_again()

    def _emit_secure_again(self) -> None:
        """``'secure'`` after a renegotiation, with what Node's ``'secure'`` listeners do first:
        a client of ``tls.connect`` verifies the server again (``onConnectSecure``: destroyed
        when now unauthorized and ``reject_unauthorized``) and emits ``'secureConnect'``; a
        server's socket that asks for a certificate verifies it again (``onServerSocketSecure``;
        ``'secureConnection'`` is not emitted twice).  ``renegotiate()``'s callback is a
        ``'secure'`` listener added when it was called, so it runs after those before it."""
        eng = self._engine
        if eng is None:
            return
        self._renegotiations += 1
        alpn = eng.alpn_selected()
        self.alpn_protocol = alpn.decode("latin-1") if alpn else False
        if self._is_server:
            if self._tls_opts.get("request_cert"):
                self._server_verify_result(eng)
        else:
            self._client_verify_result(eng)
            if self.destroyed:
                return
            if self._is_client_connect:
                self.emit("secureConnect")
        self.emit("secure")
        if self.listener_count("secureConnection"):  # (the socket's alias of 'secure')
            self.emit("secureConnection", self)

    # ------------------------------------------------------------------ public API
    @property
    def servername(self) -> str | bool:
        return self._servername

    @property
    def _engine(self) -> TLSEngine | None:
        # None from destroy() on: Node's getters answer null once ``_handle`` is gone, which
        # destroy() does at once (before 'close').
        wrap = self._wrap
        return wrap.engine if wrap is not None and not self._destroyed else None

    def _x509(self, peer: bool) -> x509.Certificate | None:
        eng = self._engine
        der = None if eng is None else (
            eng.peer_certificate_der() if peer else eng.own_certificate_der())
        return None if der is None else x509.load_der_x509_certificate(der)

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
            return None
        cert = self._x509(peer=True)
        if cert is None:
            return {}
        if not detailed:
            return cast("PeerCertificate", certificate_to_dict(cert))
        chain = [x509.load_der_x509_certificate(d) for d in
                 (eng.verified_chain_der() or eng.peer_chain_der())]
        return cast("PeerCertificate", certificate_to_dict(cert, detailed=True, issuer_chain=chain))

    def get_certificate(self) -> PeerCertificate | None:
        """Node's ``getCertificate()``: our own certificate, ``{}`` when none."""
        if self._engine is None:
            return None
        cert = self._x509(peer=False)
        return {} if cert is None else cast("PeerCertificate", certificate_to_dict(cert))

    def get_peer_x509_certificate(self) -> x509.Certificate | None:
        return self._x509(peer=True)

    def get_x509_certificate(self) -> x509.Certificate | None:
        return self._x509(peer=False)

    def get_cipher(self) -> dict[str, str] | None:
        eng = self._engine
        return eng.cipher() if eng is not None else None

    def get_protocol(self) -> str | None:
        eng = self._engine
        if eng is None or not self._secure_established:
            return None
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

    def is_session_reused(self) -> bool:
        eng = self._engine
        return bool(eng is not None and eng.session_reused())

    def get_finished(self) -> bytes | None:
        eng = self._engine
        return eng.finished() if eng is not None else None

    def get_peer_finished(self) -> bytes | None:
        eng = self._engine
        return eng.finished(peer=True) if eng is not None else None

    def get_ephemeral_key_info(self) -> dict[str, Any] | None:
        eng = self._engine
        if eng is None or self._is_server:
            return None
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
            eng.set_servername(name)
        self._servername = name

    def disable_renegotiation(self) -> None:
        """Node's ``disableRenegotiation()``: later attempts fail with
        ``ERR_TLS_RENEGOTIATION_DISABLED`` (on a server that allows client renegotiation, the
        attempt is seen and the socket errors; otherwise OpenSSL refuses it outright)."""
        self._renegotiation_disabled = True
        eng = self._engine
        if eng is not None and not (self._is_server
                                    and self._tls_opts.get("allow_client_renegotiation")):
            eng.disable_renegotiation()

    def renegotiate(self, options: dict[str, Any] | None = None,
                    callback: Callable[..., Any] | None = None) -> bool:
        """Node's ``renegotiate(options, callback)``: TLS 1.2 only (TLS 1.3: ``False`` and
        ``ERR_SSL_WRONG_SSL_VERSION``). ``options`` must be a dict and ``callback`` a function
        (``None``: none), else ``ERR_INVALID_ARG_TYPE`` at the call, as Node's."""
        if not isinstance(options, Mapping):
            raise _option_table.type_error("options", "dict", options)
        if callback is not None and not callable(callback):
            raise _option_table.type_error("callback", "function", callback)
        eng = self._engine
        loop = asyncio.get_running_loop()
        if self._renegotiation_disabled:
            if callback is not None:
                loop.call_soon(callback, node_error("ERR_TLS_RENEGOTIATION_DISABLED"))
            return False
        if eng is None or eng.version == "TLSv1.3":
            from ..errors import TLSError

            err: BaseException = TLSError("wrong ssl version", "ERR_SSL_WRONG_SSL_VERSION")
            if eng is not None:
                try:  # OpenSSL refuses it: its error, as Node reports it (library, reason)
                    eng.renegotiate()
                except BaseException as exc:  # noqa: BLE001
                    err = exc
            if callback is not None:
                loop.call_soon(callback, err)
            return False
        if options:
            opts = _options.normalize(options, None, {"reject_unauthorized", "request_cert"},
                                      "options")
            if opts:
                request = bool(opts.get("request_cert", self._tls_opts.get("request_cert")))
                reject = opts.get("reject_unauthorized",
                                  self._tls_opts.get("reject_unauthorized", True)) is not False
                self._tls_opts = {**self._tls_opts, **opts}  # may be a shared template
                eng.set_verify(request=request or not self._is_server,
                               reject=reject and (request or not self._is_server),
                               check_identity=None if self._is_server
                               else self._check_identity_der)
        try:
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
        wrap.renegotiating = True
        wrap._cycle()
        return True

    def enable_trace(self) -> None:
        eng = self._engine
        if eng is not None:
            eng.enable_trace()

    async def __aenter__(self) -> TLSSocket:
        """``async with await tls.connect(...) as sock``; ``async with tls.connect(...)`` also
        waits for the handshake first."""
        return await self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        """On exit: ``end()`` (close_notify and FIN after pending data); ``destroy()`` when the
        block raised."""
        if exc is not None:
            self.destroy()
        elif not self.destroyed:
            self.end()

    def __await__(self) -> Generator[Any, None, TLSSocket]:
        """``await sock``: the socket once ``'secureConnect'`` (client) / ``'secure'`` fired."""
        return self._wait_secure().__await__()

    async def _wait_secure(self) -> TLSSocket:
        if self._secure_established and not self.destroyed:
            return self
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[TLSSocket] = loop.create_future()
        event = "secureConnect" if self._is_client_connect else "secure"

        def ok(*_: Any) -> None:
            if not fut.done():
                fut.set_result(self)

        def bad(err: BaseException) -> None:
            if not fut.done():
                fut.set_exception(err)

        def closed(*_: Any) -> None:
            if not fut.done():
                fut.set_exception(node_error("ERR_SOCKET_CLOSED"))

        # (plain listeners, added and removed in one call each: they act once, on a future)
        self._add_many((event, ok, ok, False), ("error", bad, bad, False),
                       ("close", closed, closed, False))
        try:
            return await fut
        finally:
            self._remove_many((event, ok), ("error", bad), ("close", closed))


def _peer(sock: Any) -> str:
    """``'host:port'`` of the peer, for a log line (never raises)."""
    try:
        host, port = sock.remote_address, sock.remote_port
    except Exception:  # noqa: BLE001 - a log line must never fail
        return "?"
    return f"{host}:{port}" if host is not None else "?"


def _one_line(exc: BaseException) -> str:
    """``'TLSError [ERR_SSL_...]: message'``: an error as one log line, no traceback."""
    code = getattr(exc, "code", None)
    text = " ".join(str(exc).split())
    return type(exc).__name__ + (f" [{code}]" if isinstance(code, str) else "") + f": {text}"


# Its 'data' case is Readable's alone: pipe() runs that case inline (stream._readable).
DATA_HOOKS_AS_READABLE.add(TLSSocket._listener_added)


def _shell_closed(sock: TLSSocket, *_: Any) -> None:
    """The raw socket ``sock`` took over (:meth:`TLSSocket._adopt_shell`) was destroyed: the
    connection goes with it, as in Node, where both share one handle.  A server's socket before
    its handshake completed: ``'tlsClientError'`` ``ECONNRESET`` (Node's ``onSocketClose``);
    otherwise ``sock`` is destroyed without an error (Node: ``wrap.on('close', () =>
    this.destroy())``)."""
    shell = sock._shell_listener
    if shell is not None:
        sock._shell_listener = None  # (fired: only the 'error' listener is left to remove)
        shell[0].remove_listener("error", shell[2])
        shell[0]._shell_of = None
    if sock.destroyed:
        return
    if sock._is_server and not sock._secure_established:
        sock._tls_closed_before_secure()
    else:
        sock.destroy()


def _shell_error(sock: TLSSocket, err: BaseException) -> None:
    """The shell's ``'error'`` (``raw.destroy(err)``): Node's ``_emitTLSError`` -- a server's
    socket before its handshake completed reports it as ``'tlsClientError'``, any other emits it
    as its own ``'error'``; the shell's ``'close'`` that follows destroys it
    (:func:`_shell_closed`)."""
    if sock.destroyed:
        return
    if sock._is_server and not sock._secure_established:
        sock._tls_error(err)
    else:
        sock.emit("error", err)


class _RenegotiatedCallback:
    """``renegotiate()``'s callback as the once-``'secure'`` listener Node makes of it:
    ``callback(None)`` at the end of a renegotiation.  A ``'secure'`` that is not one (the first
    handshake's: ``renegotiate()`` called from a ``'secureConnect'`` listener, which runs before
    ``'secure'`` is emitted here, unlike in Node) leaves it in place."""

    __slots__ = ("sock", "callback", "seen")

    def __init__(self, sock: TLSSocket, callback: Callable[..., Any]) -> None:
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
