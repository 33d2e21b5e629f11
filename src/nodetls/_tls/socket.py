"""TLSSocket: a ``net.Socket`` whose handle encrypts (Node's ``lib/internal/tls/wrap.js``).

The socket's byte-stream behaviour (backpressure, pause/resume, half-close, timeouts, events) is
``net.Socket``'s, unchanged; this module adds what is TLS: the construction (a server's accepted
connection from its template, ``template.py``), the wiring, the engine's notifications (keylog,
sessions, renegotiation limits), the user callbacks that pause the handshake (SNI,
``'resumeSession'``, ``'OCSPRequest'``: ``pause_points.py``) with Node's three guards, and PSK.
Four stateless mixins hold the rest: the handshake's outcome (verification,
``'secureConnect'``/``'secure'``, TLS errors, the handshake timeout: ``_socket_outcome.py``),
the engine's configuration from the options (``_socket_setup.py``), the public
``get_*``/``set_*``/``renegotiate`` calls (``_socket_api.py``) and the raw socket whose
connection this one took (``_shell.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any, Unpack

from .. import _option_table, _options
from .._engine import TLSEngine
from .._net.fastpath import install_completion
from .._net.handle import _OPEN, TCPHandle
from .._net.socket import _Normalized
from ..errors import node_error
from ..net import Socket
from ..stream._base import _soon
from ..stream._readable import DATA_HOOKS_AS_READABLE
from ..stream._writable import Writable
from . import pause_points, psk_key, write_completion
from . import renegotiation as _renegotiation
from . import template as _template
from ._shell import _TLSSocketShell
from ._socket_api import _TLSSocketAPI
from ._socket_outcome import _TLSSocketOutcome
from ._socket_setup import _append_keylog_file, _keylog_env_path, _keylog_env_set, _TLSSocketSetup
from ._socket_setup import _default_identity_ok as _default_identity_ok  # (re-exported: tests
from ._socket_setup import alpn_list as alpn_list  # import them from here)
from .pause_points import once_callback
from .template import IN_SWEEP, ServerState, SocketTemplate, _session_engine
from .wrap import TLSWrap

if TYPE_CHECKING:
    from ..types import TLSSocketOptions

_monotonic = time.monotonic

#: Options of ``TLSSocket(...)`` (from the one option table).
TLSSOCKET_OPTIONS = _option_table.names("K")

CLIENT_RENEG_LIMIT = 3
CLIENT_RENEG_WINDOW = 600.0

#: Server listeners that make a connection's engine need more than the context's defaults
#: (``template``'s; assigned, not imported: CPython 3.11 compiles ``name.method()`` on an
#: imported name as an attribute read and a call, which does not specialise, not as LOAD_METHOD).
_ENGINE_EVENTS = _template._ENGINE_EVENTS
#: ``net.Socket``'s ``_on_handle_eof``, called by :meth:`TLSSocket._on_handle_eof` (a global read
#: is specialised; an attribute of a class is not on CPython 3.11).
_SOCKET_ON_EOF = Socket._on_handle_eof


class TLSSocket(_TLSSocketAPI, _TLSSocketOutcome, _TLSSocketSetup, _TLSSocketShell, Socket):
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
    # Node's TLSSocket: null until the handshake is done, then the protocol or false
    alpn_protocol: str | bool | None = None
    npn_protocol: str | bool = False
    _tls_error_reported = False
    _listener_exc: BaseException | None = None  # the last exception a listener raised
    _is_client_connect = False  # set by tls.connect: emits 'secureConnect'
    # tls.connect's path, host, port and local_address as given (Node's onConnectEnd error)
    _connect_fields: dict[str, Any] | None = None
    # tls.connect({socket}) with no host: that socket (its _host names the server to check)
    _host_socket: Any = None
    _pending_sessions: tuple[bytes, ...] = ()  # client: 'session's before 'secureConnect'
    _session_in_event: bytes | None = None  # client: the session a 'session' event is about
    _secure_pending = False
    _store_saves = 0  # TLS 1.3 tickets a session store is writing (pause_points.save_session)
    _pending_resume_id = b""  # the id 'resumeSession' looks up (pause_points.client_hello)
    _pending_resume_ticket = False  # ... and whether it is a TLS 1.3 ticket
    _last_handshake_time = 0.0  # server: the last handshake's start (Node's lastHandshakeTime)
    _reneg_count = 0  # server: renegotiations counted in the window (Node's handshakes)
    _reneg_holds: TLSWrap | None = None  # server: the wrap whose output a renegotiation check holds
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
        self._servername: str | bool | None = None  # (Node's null: see servername)
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
        if socket is None and opts.get("onread") is not None:
            # Node: net.Socket's, reading the cleartext; ignored over a given socket (Node's too)
            net_opts["onread"] = opts["onread"]
        handle = None
        if socket is not None:
            handle = socket if type(socket) is TCPHandle else self._take_handle(socket)
        if handle is not None:
            net_opts["handle"] = handle
        super().__init__(net_opts)
        if handle is not None:
            self._setup_wrap(handle)
            if not getattr(handle, "closed", False):
                if self._is_server:  # (a client: tls.connect starts it, else its first write)
                    self._wrap.start()  # type: ignore[attr-defined]  # (_start_tls, inlined)
                if type(socket) is not TCPHandle and getattr(socket, "_shell_of", None) is self \
                        and socket.readable_length:
                    self._receive_buffered(socket)
        elif socket is not None:
            self._wait_for_connect(socket)
        if handle is None:
            if socket is None:
                # Node: "Assume tls.connect()": a TLSSocket made without a socket is connecting
                # (pending, 'opening'; what is written waits for connect())
                self.connecting = True
            # Node's initRead (a tick later): read(0), paused or not, so the handshake is read
            # once connected (net.Socket's _read waits for the connection); a socket built on a
            # handle read(0) in net.Socket.__init__ already.
            loop = asyncio._get_running_loop()
            if loop is not None:
                loop.call_soon(self._init_read)

    def _connect(self, opts: dict[str, Any], callback: Any = None) -> Any:
        """``net.Socket``'s connect; a TLSSocket made without a socket is ``connecting`` from
        the start (Node's "Assume tls.connect()") and connects from that state."""
        if self._handle is None and self.connecting:
            self.connecting = False
        return super()._connect(opts, callback)

    def _init_read(self) -> None:
        """Node's ``initRead``: start the reading (a ``read(0)``) even if the user paused."""
        if not self._destroyed:
            self.read(0)

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
        state.update(_tls_opts=template, _servername=None, _secure_established=False,
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
        from .._net.duplex_handle import DuplexHandle
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

    def _start_tls(self) -> None:
        wrap = self._wrap
        if wrap is not None:
            wrap.start()

    def _on_connected(self) -> None:
        """net.Socket hook: the TCP connection is up.  The handshake starts here for a server
        side and for ``tls.connect``'s socket (Node's ``_start``); a client ``TLSSocket`` made by
        hand sends its ClientHello with its first write, as Node's (its ``SSL_write``)."""
        super()._on_connected()
        if self._is_server or self._is_client_connect:
            self._start_tls()

    def _attach_handle(self, handle: Any) -> None:
        """Called by net.Socket.connect() with the new transport handle: wrap it in TLS."""
        if self._wrap is None:
            self._setup_wrap(handle)
            wrap: Any = self._wrap
            wrap.route_reads()  # a client's reads: TLSWrap._on_transport_read
        else:  # pragma: no cover
            self._handle = self._wrap

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
        (ours come when the read that processed the ticket's record returns: a peer may have
        put a later ticket in the same record)."""
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
        if self._servername is None and self._is_server:
            # (the engine is freed after this call: the name the client sent, if OpenSSL read
            # it, stays the socket's servername, as Node's property set by its SNI callback)
            wrap = self._wrap
            eng = wrap.engine if wrap is not None else None
            if eng is not None:
                self._servername = eng.servername()
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

    # ------------------------------------------------------------------ write completion
    #: The TLS handle completed the write in flight (Node's TLSWrap write request: once its
    #: ciphertext went to the transport, see ``write_completion``), or the transport drained.
    _tls_write_done = write_completion.write_done
    _on_handle_drain = write_completion.write_done
    #: A pass of the TLS handle's pump returned after this socket's write went out.
    _tls_write_settle = write_completion.write_settle

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
    def _tls_psk_server(self, identity: str) -> bytes | bytearray | memoryview | None:
        """The server's key for ``identity`` (``psk_key``: a buffer is read in place)."""
        fn: Any = self._tls_opts.get("psk_callback")
        key = fn(self, identity)
        if key is None:
            return None
        if isinstance(key, dict):
            key = key.get("psk")
        return psk_key.for_openssl(key)

    def _tls_psk_client(
        self, hint: str | None
    ) -> tuple[str, bytes | bytearray | memoryview] | None:
        """The client's identity and key (``psk_key``: a buffer is read in place)."""
        fn: Any = self._tls_opts.get("psk_callback")
        ans = fn(hint)
        if ans is None:
            return None
        if not isinstance(ans, dict) or "psk" not in ans or "identity" not in ans:
            raise _options.InvalidArgTypeError(
                "psk_callback must return None or {'psk': bytes, 'identity': str}"
            )
        return ans["identity"], psk_key.for_openssl(ans["psk"])

    def _tls_handshake_start(self, count: int) -> None:
        """A handshake started (inside OpenSSL): a server's renegotiation checks
        (``renegotiation.py``, Node's ``onhandshakestart``)."""
        if self._is_server:
            _renegotiation.handshake_start(self, count, CLIENT_RENEG_LIMIT, CLIENT_RENEG_WINDOW)

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
            if _option_table.handshake_timeout(self._tls_opts.get("handshake_timeout")) > 0:
                # Node's _finishInit, on every handshake: setTimeout(0) on a socket with a
                # handshake timeout (its idle timeout, a server's), so a timeout set since the
                # first handshake is cleared by a renegotiation too.
                self._handshake_timeout_off()
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

    # ------------------------------------------------------------------ the engine
    @property
    def _engine(self) -> TLSEngine | None:
        # None from destroy() on: Node's getters answer null once ``_handle`` is gone, which
        # destroy() does at once (before 'close').
        wrap = self._wrap
        return wrap.engine if wrap is not None and not self._destroyed else None

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


# Its 'data' case is Readable's alone: pipe() runs that case inline (stream._readable).
DATA_HOOKS_AS_READABLE.add(TLSSocket._listener_added)
# Last: the write completion's two methods in C where the optional extension is built.
install_completion(TLSSocket, write_completion.write_done, write_completion.write_settle,
                   Writable._on_write_done)
