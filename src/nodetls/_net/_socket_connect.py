"""``net.Socket``'s connecting: the work of ``connect()`` once its arguments are normalised
(Node's ``Socket.prototype.connect`` after ``normalizeArgs``, and ``afterConnect``), and
``await sock``.

:class:`_SocketConnect` is a mixin of ``Socket`` (``socket.py``, where ``connect()`` itself
normalises the arguments), without state of its own (``__slots__ = ()``). The lookup and the
connection attempts are ``connect.py``'s (``do_connect``, run as the socket's connect task).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Self

from ..errors import node_error
from .args import check_connect_options
from .connect import ANSWERING, do_connect
from .connect_again import revived_connect
from .handle import NO_OWNER, TCPHandle
from .onread import install as _onread_install

if TYPE_CHECKING:
    from ._socket_api import _SocketFields

    _Base = _SocketFields
else:
    _Base = object


class _SocketConnect(_Base):
    """``Socket``'s connecting and awaiting (a mixin: no state)."""

    __slots__ = ()
    #: ``docs/gen_reference.py`` lists this class's members as ``Socket``'s own.
    _MEMBERS_OF_SUBCLASS = True
    #: The host name ``connect()`` was given, ``'localhost'`` by default (Node's ``_host``: what
    #: ``tls.connect({socket})`` checks the certificate against when given no host).
    _host: str | None = None

    # -- connecting -----------------------------------------------------------------------------

    def _connect(self, opts: dict[str, Any], callback: Callable[..., Any] | None = None) -> Self:
        """Connect with already-normalised options (unknown keys ignored; for subclasses)."""
        if self._fin_received:
            self._fin_received = False  # undo write-after-FIN from a previous connection
        if self.connecting:
            self._connect_again(opts, callback)
            return self
        check_connect_options(opts)  # (Node's argument errors, raised here)
        if not opts.get("path"):
            self._host = opts.get("host") or "localhost"  # (Node's lookupAndConnect)
        first = None
        if self._destroyed:
            first = revived_connect(self)  # type: ignore[arg-type]
            self._undestroy()
        if callback is not None:
            self.once("connect", callback)
        if opts.get("no_delay") is not None:
            self._no_delay = bool(opts["no_delay"])
        if opts.get("keep_alive") is not None:
            self._keep_alive = (bool(opts["keep_alive"]), float(opts.get("keep_alive_initial_delay") or 0))
        self.connecting = True
        handle = TCPHandle(self, reading=False, on_open=lambda _h: self._on_handle_connect())
        if not self._refed:
            handle.unref()
        try:
            self._attach_handle(handle)
        except BaseException:
            # A failed setup (TLS options) leaves nothing behind that keeps run() alive.
            self.connecting = False
            handle.owner = NO_OWNER
            handle.close()
            raise
        if self._onread is not None:
            _onread_install(self)  # (Node's initSocketHandle, in connect())
        loop = asyncio.get_running_loop()
        self._connect_opts = opts
        self._connect_handle = handle  # (connect_again.claim: a second connect() may take it)
        # (self is a Socket: _SocketConnect is its mixin)
        self._connect_task = loop.create_task(
            do_connect(self, handle, opts if first is None else first, loop))  # type: ignore[arg-type]
        if first is not None:  # (the destroyed connect goes on on this handle: this one is
            self._connect_again(opts, None)  # a second connect, connect_again.py)
        return self

    #: The options of the connect under way (its task: :attr:`_connect_task`), for
    #: ``connect_again.revived_connect``.
    _connect_opts: dict[str, Any] | None = None
    #: The connect task ``destroy()`` cancelled before it began, and its options
    #: (``connect_again.revived_connect``).
    _cancelled_connect: tuple[asyncio.Task[None], dict[str, Any] | None] | None = None

    #: A second ``connect()`` came while connecting: the first attempt connects a socket of
    #: its own (:attr:`_connecting_socket`, not the loop's), whose local address the second
    #: one's ``EALREADY`` error names (``connect_again.py``).
    _show_connecting_socket = False
    #: The socket of the attempt under way, while :attr:`_show_connecting_socket` or a local
    #: address made it ours.
    _connecting_socket: socket.socket | None = None
    #: The handle of the last ``connect()``, and the handle an attempt has begun connecting
    #: (the first to get there: ``connect_again.claim``).
    _connect_handle: Any = None
    _connect_claimed: Any = None
    #: A second ``connect()`` waits for the first's connect to begin (``first_begun``).
    _claim_waiter: asyncio.Future[None] | None = None

    def _connect_again(self, opts: dict[str, Any], callback: Callable[..., Any] | None) -> None:
        """``connect()`` while connecting, as Node's: ``callback`` becomes a ``'connect'``
        listener (before the argument checks, which raise), then a second lookup and connect
        on the connection in progress, which fails and destroys the socket
        (``connect_again.py``). The first attempt goes on meanwhile."""
        if callback is not None:
            self.once("connect", callback)
        check_connect_options(opts)
        if not opts.get("path"):
            self._host = opts.get("host") or "localhost"
        self._show_connecting_socket = True
        if opts.get("auto_select_family") is not False:
            opts = {**opts, "auto_select_family": False}  # (one address: connect_again.py)
        loop = asyncio.get_running_loop()
        loop.create_task(do_connect(self, None, opts, loop))  # type: ignore[arg-type]

    def _attach_handle(self, handle: Any) -> None:
        """Hook: ``connect()`` made a new transport handle (not connected yet). The default
        adopts it as ``self._handle``; TLS wraps it. Connection completion is reported to this
        socket's :meth:`_on_handle_connect` whoever owns the handle by then."""
        self._handle = handle

    def _undestroy(self) -> None:
        """Node: ``connect()`` on a destroyed socket starts over (``destroyImpl.undestroy``):
        the end/close/error state is cleared, the consumer's is kept (flowing or paused, its
        ``'data'``/``'readable'`` listening, pipes, encoding), and the byte counts are the new
        connection's (Node's come from the new handle), but for the write made while
        connecting that a destroy dropped: ``bytes_written`` still counts it, as Node's
        ``_pendingData``, until another write waits (or, connected again before the ``'close'``
        that fails it, until it is written on the new connection: ``_ConnectWrite``).
        The writable side keeps the write in progress and those buffered behind it (Node's
        undestroy clears its end and finish flags alone): a write made while connecting,
        destroyed before ``'close'``, is failed by that ``'close'``, then those behind it
        with the socket's error."""
        self._init_common({"auto_destroy": True, "emit_close": False})
        kept = (self._r_flowing, self._r_paused, self._r_readable_listening,
                self._r_data_listening, self._r_pipes, self._r_await_drain)
        hwm_r, enc = self._r_hwm, self._r_encoding
        self._init_readable({"readable_high_water_mark": hwm_r})
        self._w_ending = self._w_ended = self._w_finished = not self._w_writable
        self._w_final_called = self._w_prefinished = False
        (self._r_flowing, self._r_paused, self._r_readable_listening,
         self._r_data_listening, self._r_pipes, self._r_await_drain) = kept
        if enc:
            self.set_encoding(enc)
        old = self._closed_handle
        if isinstance(old, TCPHandle) and old.owner is self:
            # (its close is still to come: it closes a connection this socket no longer has,
            # see connect_again.revived_connect)
            old.owner = NO_OWNER
        self._closed_handle = None
        self._had_error = False
        # (_dropped_pending stays: Node's _pendingData; see _ConnectWrite for when the
        # dropped write's 'connect' listener writes it on the new connection)
        self._bytes_read = self._bytes_dispatched = 0

    def _on_listener_error(self, exc: Exception) -> None:
        """A listener raised: while ``options.lookup`` answers inside ``connect()`` the
        exception is raised out of ``connect()`` (Node's ``emit`` throws through
        ``emitLookup``: :data:`~.connect.ANSWERING`), else the stream's rule (``destroy(exc)``)."""
        if id(self) in ANSWERING:
            raise exc
        super()._on_listener_error(exc)

    def _on_connect_error(self, err: BaseException) -> None:
        if self._connect_task is asyncio.current_task():  # (not a second connect()'s task)
            self._connect_task = None
        if not self._destroyed:
            self.destroy(err)

    def _on_handle_connect(self) -> None:
        """The client handle is connected (Node's ``afterConnect``)."""
        self._connect_task = None
        if self._destroyed or not self.connecting:
            return
        self.connecting = False
        self._apply_socket_options()
        if self._timeout:
            self._touch()
        self._on_connected()
        if self._destroyed:
            return
        self.emit("connect")
        if self._pending_write is not None:  # (its 'connect' listener was removed)
            self._write_pending()
        self.emit("ready")
        if self._pending_final is not None:
            cb, self._pending_final = self._pending_final, None
            self._final(cb)
        if self.readable and not self._pause_on_connect:
            if self._r_reading:  # _read() was called while connecting (Node: once('connect'))
                self._read(self._r_hwm)
            if not self.is_paused():
                self.read(0)

    def _on_connected(self) -> None:
        """Hook: the transport is connected, before ``'connect'`` is emitted (TLS starts its
        handshake here). Not called for sockets created from an accepted handle."""

    def _apply_socket_options(self) -> None:
        h = self._handle
        if h is None:
            return
        if self._no_delay is not None:
            h.set_no_delay(self._no_delay)
        if self._keep_alive is not None:
            h.set_keep_alive(*self._keep_alive)

    # -- awaiting -------------------------------------------------------------------------------

    def _connected_for_await(self) -> bool:
        """``await sock`` returns at once when this is true (TLS: the handshake is done)."""
        return self._handle is not None and not self.connecting and not self._destroyed

    def __await__(self) -> Generator[Any, None, Self]:
        """``await sock``: wait for ``'connect'`` (``_CONNECT_EVENT``) and return the socket, or
        raise the error ``'error'`` carries."""
        return self._wait_connected().__await__()

    async def _wait_connected(self) -> Self:
        if self._errored is not None:
            raise self._errored
        if self._connected_for_await():
            return self
        if self._destroyed:
            raise node_error("ERR_SOCKET_CLOSED_BEFORE_CONNECTION")
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def ok(*_: Any) -> None:
            if not fut.done():
                fut.set_result(None)

        def fail(*_: Any) -> None:
            if not fut.done():
                fut.set_exception(self._errored or node_error("ERR_SOCKET_CLOSED_BEFORE_CONNECTION"))

        event = self._CONNECT_EVENT
        self._add_many((event, ok, ok, False), ("error", fail, fail, False),
                       ("close", fail, fail, False))
        try:
            await fut
        finally:
            self._remove_many((event, ok), ("error", fail), ("close", fail))
        return self
