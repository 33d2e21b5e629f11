"""tls.Server: a ``net.Server`` that wraps each connection in a TLSSocket (Node's ``tls.Server``).

Node's ``tlsConnectionListener`` is this server's own ``'connection'`` listener, so emitting
``'connection'`` by hand with any Duplex injects a TLS connection, exactly as in Node.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import sys
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any, Unpack, cast

from .. import _option_table, _options, _worker_state
from ..errors import node_error
from ..events import EventEmitter
from ..net import Server as NetServer
from ..net import Socket as NetSocket
from ..types import ServerOptions
from ._socket_setup import CONTEXT_OPTIONS
from .pause_points import OnceCallback
from .socket import TLSSOCKET_OPTIONS, TLSSocket
from .template import _PER_CONNECTION, ServerState, SocketTemplate

SERVER_OPTIONS = _option_table.names("S")
# What the server hands on: to net.Server, and to the TLSSocket of each connection.
_NET_OPTIONS = SERVER_OPTIONS & _option_table.names("V")
_SOCKET_OPTIONS = (SERVER_OPTIONS & TLSSOCKET_OPTIONS) - CONTEXT_OPTIONS - _NET_OPTIONS | {"allow_half_open"}


_TLS_INIT = TLSSocket.__init__
_EMIT1 = EventEmitter._emit1
#: ``Server._accept_plan`` when there is none: a ``'connection'`` listener table no server has.
_NO_PLAN: tuple[Any, ...] = (object(), None, None, None, None, None)


def _default_session_id_context() -> bytes:
    # Node: the first 32 hex digits of sha1(process.argv.join(' ')), so identical server
    # processes share resumption by default.
    return hashlib.sha1(" ".join(sys.argv).encode()).hexdigest()[:32].encode()


class Server(NetServer):
    """Node's ``tls.Server``.  Options: every SecureContext option plus Node's server options
    (``request_cert``, ``reject_unauthorized``, ``handshake_timeout``, ``session_timeout``,
    ``ticket_keys``, ``sni_callback``, ``alpn_protocols``/``alpn_callback``, ``psk_callback``...).
    ``handshake_timeout`` (seconds) is read as Node's ``handshakeTimeout``: ``None`` and ``0``
    are the default, 120 s; a negative number means no handshake timeout."""

    #: The class :meth:`_make_socket` builds an accepted connection with (a ``TLSSocket``
    #: subclass taking the same arguments: ``nodetls.aio`` sets its own, which builds no Node
    #: stream state until something uses it).
    _socket_class: type[TLSSocket] = TLSSocket
    _handshake_sweep_loop: Any = None  # the loop _handshake_sweep was armed on

    def __init__(self, options: Mapping[str, Any] | Callable[..., Any] | None = None,
                 secure_connection_listener: Callable[..., Any] | None = None,
                 **kwargs: Unpack[ServerOptions]) -> None:
        if callable(options) and secure_connection_listener is None:
            options, secure_connection_listener = None, options
        opts = _options.normalize(cast("Mapping[str, Any] | None", options), kwargs,
                                  SERVER_OPTIONS, "options", _option_table.SERVER_KINDS)
        del options, kwargs  # (a traceback's locals show ``opts``, whose repr hides secrets)
        if opts.get("alpn_callback") is not None and opts.get("alpn_protocols") is not None:
            raise node_error("ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS")
        net_opts = {k: opts[k] for k in _NET_OPTIONS if k in opts}
        # TCP_NODELAY by default (asyncio, Go, nginx): the session tickets sent after a TLS 1.3
        # handshake would otherwise hold the first response behind the peer's delayed ACK.
        if net_opts.get("no_delay") is None:
            net_opts["no_delay"] = True
        super().__init__(net_opts)
        self._tls_opts = opts
        self._sni_contexts: list[tuple[re.Pattern[str], Any]] = []
        self._context = self._build_context(opts)
        self._template = self._socket_template()
        self._ocsp_stapler: Any = None
        self._tls_listener = self._tls_connection_listener
        self._direct: TLSSocket | None = None  # the socket _make_socket just built itself
        # What _accept builds each connection from, once _make_socket found it can (see there).
        self._accept_plan = _NO_PLAN
        # The server's emit() is EventEmitter's: its 'secureConnection' needs no _emit1 call
        # (TLSSocket._emit_server_secure).
        self._plain_emit = type(self)._emit1 is _EMIT1
        # Handshake deadlines (handshake_timeout): socket -> deadline, in order of deadline (one
        # timeout per template), swept by one timer instead of one per connection.
        self._handshake_deadlines: dict[TLSSocket, float] = {}
        self._handshake_sweep: asyncio.TimerHandle | None = None
        self._handshake_sweep_timeout = self._template["handshake_timeout"]  # (<= 0: none)
        self.on("connection", self._tls_listener)
        self._store_binding: Any = None
        self._session_callbacks_on: Any = None  # see _tls/template._session_engine
        self._keys_binding: Any = None
        if secure_connection_listener is not None:
            self.on("secureConnection", secure_connection_listener)
        if _worker_state.ticket_keys is not None and "ticket_keys" not in opts:
            self.use_ticket_keys(_worker_state.ticket_keys)  # run(main, workers=N): shared keys

    @staticmethod
    def _build_context(opts: dict[str, Any]) -> Any:
        from .._context import SecureContext

        ctx_opts = _option_table.Options((k, v) for k, v in opts.items() if k in CONTEXT_OPTIONS)
        ctx_opts.setdefault("honor_cipher_order", True)  # Node's createServer default
        ctx_opts.setdefault("session_id_context", _default_session_id_context())
        return SecureContext(ctx_opts)

    # ------------------------------------------------------------------ connections
    def _socket_template(self) -> SocketTemplate:
        """The options every accepted TLSSocket gets, built once (and again on
        ``set_secure_context``)."""
        template = SocketTemplate(
            (k, self._tls_opts[k]) for k in _SOCKET_OPTIONS if k in self._tls_opts)
        template.update(is_server=True, server=self, secure_context=self._context)
        template.checked = True  # the values were checked when the server was created
        template.plain = plain = not any(template.get(k) for k in _PER_CONNECTION)
        # Node's `options.handshakeTimeout || 120000`, armed when > 0: None and 0 are the
        # default, a negative number no timeout; the template holds the seconds it comes to,
        # which is what every connection's socket reads.
        template["handshake_timeout"] = timeout = _option_table.handshake_timeout(
            template.get("handshake_timeout"))
        if plain and timeout > 0:  # (what _handshake_sweep_timeout is)
            template.sweep_timeout = timeout
        return template

    def _accept(self, handle: Any) -> None:
        """A connection was accepted: ``net.Server._accept`` in one call for the usual server
        (nothing but itself listening to ``'connection'``, listening, below its
        ``max_connections``) once :meth:`_make_socket` has left its plan (``_accept_plan``, with
        the limit it was made under; dropped when the limit is set, the listener closes or the
        template changes): the TLSSocket built on the handle from the template's state, with
        the server's own attributes (``server``, ``_server``, ``_no_delay``) in it, counted, and
        not announced (see :meth:`_make_socket`).  At the limit, ``net.Server._accept`` drops
        the connection (``'drop'``), as Node's ``onconnection``."""
        listeners, new, cls, template, state, limit = self._accept_plan
        if self._events.get("connection") is not listeners or (
                limit is not None and self._connections >= limit):  # (no plan, or the limit)
            NetServer._accept(self, handle)
            return
        try:
            sock = new(cls)
            sock._init_server_connection(handle, template, state)
        except BaseException:  # noqa: BLE001 - as _make_socket's: 'connection' reports it
            self._accept_plan = _NO_PLAN
            sock = NetServer._make_socket(self, handle)
            self._connections += 1
            sock.server = sock._server = self
            self._on_accepted(sock)
            return
        self._connections += 1

    def _make_socket(self, handle: Any) -> Any:
        """An accepted connection.  When nothing but this server listens to ``'connection'``,
        the TLSSocket is built on the transport handle directly: no throw-away ``net.Socket``
        (Node's ``tlsConnectionListener`` would only take its handle over).  Once its class's
        state exists (the template's, after the first connection) and the handle needs nothing
        of the server, the next ones are built by :meth:`_accept` from a plan, while that
        listener table stays as it is now (a listener added or removed replaces it)."""
        listeners = self._events.get("connection")
        if listeners != (self._tls_listener,) or self._pause_on_connect \
                or self._high_water_mark is not None:
            return super()._make_socket(handle)
        setup = False
        if self._no_delay and not self._loop_sets_no_delay:
            handle.set_no_delay(True)
            setup = True
        if self._keep_alive:
            handle.set_keep_alive(True, self._keep_alive_initial_delay)
            setup = True
        cls = self._socket_class
        template = self._template
        state = template.accepted_state
        try:
            if state and cls.__init__ is _TLS_INIT:
                # What TLSSocket.__init__ does for this handle and template (a server's
                # accepted TCPHandle, reading) once the template's state exists: no checks.
                sock = cls.__new__(cls)
                sock._init_server_connection(handle, template, state)
            else:
                sock = cls(handle, template)
        except BaseException:  # noqa: BLE001 - the 'connection' listener reports it
            return super()._make_socket(handle)
        if self._no_delay:
            sock._no_delay = True
        self._direct = sock
        state = template.accepted_state
        if state and not setup and cls.__init__ is _TLS_INIT:
            own: dict[str, Any] = {"_no_delay": True} if self._no_delay else {}
            own["server"] = own["_server"] = self  # (what _accept sets, as dict attributes)
            self._accept_plan = (listeners, cls.__new__, cls, template,
                                 ServerState({**state, **own}),
                                 self._max_connections)
        return sock

    def _max_connections_set(self) -> None:
        self._accept_plan = _NO_PLAN  # (made again, with the new limit: _make_socket)

    def _connection_options_set(self) -> None:
        # (allow_half_open is the template's; the others are read by _make_socket, which
        # makes the plan again)
        self._tls_opts["allow_half_open"] = self._allow_half_open
        self._template = self._socket_template()
        self._accept_plan = _NO_PLAN

    def _close_listener(self) -> None:
        self._accept_plan = _NO_PLAN  # (what is still accepted goes net.Server._accept's way)
        super()._close_listener()

    def _tls_connection_listener(self, raw: Any) -> None:
        if getattr(raw, "destroyed", False):
            return  # a 'connection' listener before this one raised: the connection is gone
        try:
            sock = raw._tls_socket = TLSSocket(raw, self._template)  # see _listener_failed
            sock.server = self  # (Node: the TLSSocket's server is this one, whoever counts it)
            if self._pause_on_connect:
                # Node's TLSSocket gets pauseOnCreate: paused for its user (no 'data' until
                # resume()), while the handshake reads on underneath.
                sock.pause()
            if isinstance(raw, NetSocket) and raw._shell_of is sock:  # a shell (handle taken)
                # The TLSSocket counts the connection in the server that accepted the raw
                # socket, this one or another (none for a Duplex): as in Node, where the raw
                # socket counts itself out of its server when the TLSSocket's destroy()
                # destroys it; the TLSSocket's close destroys the shell (_on_handle_close).
                sock._server = raw._server
                raw._server = None
        except BaseException as exc:  # noqa: BLE001 - one bad connection never stops the server
            self._tls_client_error(exc, None)
            destroy = getattr(raw, "destroy", None)
            if destroy is not None:
                destroy()

    def _arm_handshake_sweep(self, delay: float) -> None:
        # (the timer holds the server weakly: a closed server is not kept until it fires)
        loop = asyncio.get_running_loop()
        self._handshake_sweep = loop.call_later(delay, _sweep_handshakes, weakref.ref(self))
        self._handshake_sweep_loop = loop

    def _start(self, sock: Any, backlog: int) -> None:
        # A sweep armed on an earlier event loop (an earlier asyncio.run()) never fires: the
        # next connection arms one on this loop.
        if self._handshake_sweep is not None and \
                self._handshake_sweep_loop is not asyncio.get_running_loop():
            self._handshake_sweep = None
        self._accept_plan = _NO_PLAN  # (made again for this socket and loop: _make_socket)
        super()._start(sock, backlog)

    def _sweep_handshakes(self) -> None:
        """Node's per-connection handshake timer, for all of this server's connections: those
        whose deadline passed get ``_on_handshake_timeout`` ('tlsClientError'
        ``ERR_TLS_HANDSHAKE_TIMEOUT``); the timer is armed again for the next deadline, if any
        (a connection that finished its handshake or closed took its deadline out).  A deadline
        taken out leaves the timer armed: under load it fires once per timeout, not armed and
        cancelled for every handshake (a uvloop timer each time); with nothing pending when it
        fires, it is not armed again."""
        self._handshake_sweep = None
        deadlines = self._handshake_deadlines
        now = time.monotonic()
        while deadlines:
            sock = next(iter(deadlines))
            deadline = deadlines[sock]
            if deadline > now:
                self._arm_handshake_sweep(deadline - now)
                return
            del deadlines[sock]
            sock._handshake_timer = None
            sock._on_handshake_timeout()

    def _listener_failed(self, event: str, exc: Exception, args: tuple[Any, ...] = ()) -> None:
        """A listener raised: the connection the event was about is destroyed (the TLSSocket in
        the arguments, over the raw socket of ``'connection'``, or behind the callback of
        ``'newSession'``/``'resumeSession'``/``'OCSPRequest'``: a handshake waiting for a callback
        that will never come would otherwise hold the connection until the handshake timeout);
        the exception goes to the server's ``'error'`` (net.Server).  Node: an uncaught
        exception."""
        if event != "error":
            for arg in args:
                sock = arg if isinstance(arg, TLSSocket) else getattr(arg, "_tls_socket", None)
                if sock is None and type(arg) is OnceCallback:
                    sock = arg.socket
                if sock is not None:
                    sock.destroy()
        super()._listener_failed(event, exc, args)

    def _tls_client_error(self, err: BaseException, sock: TLSSocket | None) -> None:
        """Node's ``onSocketTLSError``: errors before the handshake completed."""
        if self.listener_count("tlsClientError"):
            self.emit("tlsClientError", err, sock)
        if self.listener_count("clientError"):
            self.emit("clientError", err, sock)

    # ------------------------------------------------------------------ SNI
    def add_context(self, hostname: str, context: Any) -> None:
        """Node's ``addContext``: ``*`` matches one label; the last added match wins."""
        if not isinstance(hostname, str) or not hostname:
            raise node_error("ERR_TLS_REQUIRED_SERVER_NAME")
        from .._context import SecureContext

        if not isinstance(context, SecureContext):
            if not isinstance(context, dict):
                raise _options.InvalidArgTypeError(
                    "context must be a SecureContext or its options dict"
                )
            context = SecureContext(context)
        pattern = "^" + re.escape(hostname).replace(r"\*", "[^.]*") + "$"
        self._sni_contexts.append((re.compile(pattern, re.IGNORECASE), context))
        if self._ocsp_stapler is not None:
            self._ocsp_stapler._track_context(context)

    def _find_sni_context(self, servername: str) -> Any:
        found = None
        for pattern, ctx in self._sni_contexts:
            if pattern.match(servername):
                found = ctx
        return found

    def set_secure_context(self, options: dict[str, Any]) -> None:
        """Replace the default context for new connections (Node's ``setSecureContext``)."""
        opts = _option_table.Options(self._tls_opts)
        opts.update(_options.normalize(options, None, SERVER_OPTIONS, "options",
                                       _option_table.SERVER_KINDS))
        self._tls_opts = opts
        self._context = self._build_context(opts)
        self._template = self._socket_template()
        self._accept_plan = _NO_PLAN
        if self._keys_binding is not None:
            self._keys_binding.reapply()
        if self._ocsp_stapler is not None:
            self._ocsp_stapler._track_context(self._context)

    # ------------------------------------------------------------------ OCSP stapling
    def use_ocsp_stapler(self, stapler: Any) -> Any:
        """Beyond Node: answer ``'OCSPRequest'`` from a ``nodetls.ocsp.Stapler`` (from memory,
        never waiting on the network), prefetching for every certificate of this server and its
        ``add_context`` contexts. Returns an awaitable done once each certificate's first fetch
        has been tried: ``await`` it before listening so that the first connection is stapled.
        An ``'OCSPRequest'`` listener of your own on this server (added before or after) answers
        instead, as long as it is there: the stapler then staples nothing here (a warning is
        logged) but keeps its responses current."""
        if not callable(getattr(stapler, "_attach", None)):  # (no import upwards into ocsp)
            raise _options.InvalidArgTypeError(
                f"stapler must be a nodetls.ocsp.Stapler, got {type(stapler).__name__}")
        self._ocsp_stapler = stapler
        return stapler._attach(self)

    # ------------------------------------------------------------------ ticket keys
    def get_ticket_keys(self) -> bytes:
        return bytes(self._context.get_ticket_keys())

    def set_ticket_keys(self, keys: bytes) -> None:
        self._context.set_ticket_keys(keys)

    # ------------------------------------------------------------------ async with
    async def __aenter__(self) -> Server:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        """``async with tls.create_server(...) as server``: on exit, ``close()`` and wait for
        ``'close'`` (every connection gone), as ``asyncio.Server``'s ``async with``."""
        if self.listening or self._listen_pending:
            await self.close()
        elif self._connections:
            fut = asyncio.get_running_loop().create_future()
            def closed(*_: Any) -> None:
                if not fut.done():
                    fut.set_result(None)

            self.once("close", closed)
            await fut

    # ------------------------------------------------------------------ fleets (nodetls.sessions)
    def use_session_store(self, store: Any, *, store_timeout: float = 0.2) -> None:
        """Serve ``'newSession'``/``'resumeSession'`` from ``store`` (a ``SessionStore``): TLS 1.2
        session ids and, with ``SSL_OP_NO_TICKET``, TLS 1.3 stateful tickets.  Entries live for
        the server's ``session_timeout``.  A store call that fails or takes longer than
        ``store_timeout`` seconds means a full handshake, never a failed connection; the counts
        are in :attr:`session_store_stats`.  Replaces a previous store.  Beyond Node, which
        leaves the cache to the user."""
        from ..sessions._wiring import StoreBinding

        binding = StoreBinding(self, store, store_timeout)
        if self._store_binding is not None:
            self._store_binding.detach()
        self._store_binding = binding
        binding.attach()

    @property
    def session_store_stats(self) -> dict[str, int]:
        """``{'hits', 'misses', 'errors', 'timeouts'}`` of the store in use (zeros without one)."""
        if self._store_binding is None:
            return {"hits": 0, "misses": 0, "errors": 0, "timeouts": 0}
        return self._store_binding.stats  # type: ignore[no-any-return]

    def use_ticket_keys(self, source: Any) -> None:
        """Keep :meth:`set_ticket_keys` current from a ``TicketKeys``/``RedisTicketKeys`` (until
        the server closes).  Replaces a previous source.  Beyond Node."""
        from ..sessions._wiring import KeysBinding

        binding = KeysBinding(self, source)
        if self._keys_binding is not None:
            self._keys_binding.detach()
        self._keys_binding = binding
        binding.attach()


def _sweep_handshakes(ref: weakref.ReferenceType[Server]) -> None:
    server = ref()
    if server is not None:
        server._sweep_handshakes()


def create_server(options: Mapping[str, Any] | Callable[..., Any] | None = None,
                  secure_connection_listener: Callable[..., Any] | None = None,
                  **kwargs: Unpack[ServerOptions]) -> Server:
    """Node's ``tls.createServer``."""
    if callable(options) and secure_connection_listener is None:
        options, secure_connection_listener = None, options
    # (checked here already, so that a traceback's locals of this frame hold no key)
    opts = _options.normalize(cast("Mapping[str, Any] | None", options), kwargs, SERVER_OPTIONS,
                              "options", _option_table.SERVER_KINDS)
    del options, kwargs
    return Server(opts, secure_connection_listener)
