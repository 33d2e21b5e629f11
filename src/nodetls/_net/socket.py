"""``net.Socket``: a :class:`nodetls.stream.Duplex` over a handle (Node's ``lib/net.js``).

All I/O goes through ``self._handle`` and the ``_on_handle_*`` methods, so a subclass that takes
the handle over (``TLSSocket``, Node's ``_wrapHandle``) only overrides those (see "Handle seam"
below). Nothing else caches the transport.

Methods a TLS layer overrides or calls (Node's stream_base_commons seam):

* ``_on_handle_read(view)`` - bytes from the handle: counted, pushed (``read_stop()`` when
  ``push`` returns ``False``, as Node's ``onStreamRead``).
* ``_on_handle_eof()`` - the peer half-closed: ``push(None)``.
* ``_on_handle_drain()`` - the handle's buffer drained: completes the write waiting on it.
* ``_on_handle_error(exc)`` - ``destroy(exc)``.
* ``_on_handle_close()`` - the handle is gone: ``'close'(had_error)`` (after ``'error'``).
* ``_attach_handle(handle)`` - hook: ``connect()`` created a transport handle (TLS wraps it).
* ``_on_handle_connect()`` - the handle made by ``connect()`` is connected (called on the
  connecting socket, whoever owns the handle): ``_on_connected()``, ``'connect'``, ``'ready'``,
  start reading.
* ``_on_connected()`` - hook, no-op here: TLS starts its handshake.
* ``_write(chunk, cb)`` / ``_writev(chunks, cb)`` - to ``handle.write``; ``cb`` waits for
  ``_on_handle_drain`` when the handle reports backpressure.
* ``_final(cb)`` - ``handle.shutdown(cb)`` (``cb`` once flushed; for a handle whose type lacks
  ``SHUTDOWN_CALLBACK``: ``shutdown()`` then ``cb()``); ``_destroy(err, cb)`` - ``handle.close()``.
* ``_read(size)`` - ``handle.read_start()``.
* ``_release_handle()`` - detach and return the handle, for a new owner (``TLSSocket(socket)``
  keeps it on the socket instead: ``TLSSocket._adopt_shell``).
* ``_CONNECT_EVENT`` / ``_connected_for_await()`` - what ``await sock`` waits for.

``Socket``'s methods live in four modules: here its state, construction and the handle seam's
data path (reads, writes); ``_socket_close.py`` (mixin ``_SocketClose``): ending and closing
(``end()``, ``_final``, the handle's errors, ``destroy()``, ``'close'``);
``_socket_connect.py`` (mixin ``_SocketConnect``): ``connect()``'s work and ``await sock``;
``_socket_api.py`` (mixin ``_SocketAPI``): timeouts, socket options, ``ref``/``unref``,
``destroy_soon``/``reset_and_destroy`` and the address and state getters.
``accepted.py``: the state accepted sockets start with; ``args.py``: the option names.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from .._options import normalize
from ..errors import node_error, system_error
from ..events import EventEmitter
from ..stream import _D_OPTIONS, _NO_BUF, _NO_DRAIN, Duplex, _get_running_loop, _soon
from ._socket_api import _SocketAPI
from ._socket_close import _ConnectWrite, _SocketClose
from ._socket_connect import _SocketConnect
from .accepted import _PROTO_HANDLE, _SHAREABLE_TYPES, _OnReadableStreamEnd
from .accepted import AcceptedState as AcceptedState  # (re-exported: imported from here)
from .accepted import instance_state as instance_state  # (re-exported)
from .args import _EITHER, CONNECT_OPTIONS, SOCKET_OPTIONS, _own, normalize_connect_args
from .args import _Normalized as _Normalized  # (re-exported)
from .duplex_handle import DuplexHandle
from .fastpath import install as _fastpath_install
from .fd import open_fd_handle
from .onread import OnRead
from .onread import install as _onread_install
from .onread import parse as _onread_parse

__all__ = ["Socket", "SOCKET_OPTIONS", "CONNECT_OPTIONS"]

_PUSH = Duplex.push
_READ = Duplex.read
_EMIT1 = EventEmitter._emit1
_iscoroutine = asyncio.iscoroutine
#: Classes whose ``_emit1`` is EventEmitter's (neither emit() nor _emit1() overridden): their
#: data path emits 'data' inline (:meth:`Socket._on_handle_read`).
_EMIT1_INLINE: set[type] = set()


def _emit1_inline(cls: type) -> bool:
    """``cls`` emits with EventEmitter's ``_emit1`` (remembered in :data:`_EMIT1_INLINE`)."""
    if getattr(cls, "_emit1", None) is _EMIT1:
        _EMIT1_INLINE.add(cls)
        return True
    return False


_STREAM_KEYS = _D_OPTIONS & SOCKET_OPTIONS


def _no_timeout(options: Any) -> Any:
    """``options`` (a mapping, or ``None``) without its ``timeout``: Node's ``Socket()`` and
    ``socket.connect()`` neither check nor use one (only ``net.connect()`` does, its
    ``createConnection``)."""
    if options and "timeout" in options:
        options = dict(options)
        del options["timeout"]
    return options


class Socket(_SocketClose, _SocketAPI, _SocketConnect, Duplex):
    """Node's ``net.Socket``: a TCP or Unix stream connection, or any handle.

    ``Socket(options=None, **options)``; options: ``allow_half_open`` (default ``False``: the
    peer's end ends our side), ``pause_on_connect`` (do not read until :meth:`resume`),
    ``handle`` (internal: an existing handle, e.g. from a server), ``fd`` (a connected TCP or
    Unix stream socket's descriptor, or a pipe's or FIFO's, the socket's from then on: Node's
    ``{fd}``; also ``Socket(fd)``), ``readable``/``writable`` (for ``fd``: ``False`` ends that side),
    ``no_delay``, ``keep_alive``, ``keep_alive_initial_delay``, ``high_water_mark``,
    ``onread`` (``{'buffer': bytearray_or_function, 'callback': fn}``: reads are copied into the
    buffer and ``fn(nread, buffer)`` is called instead of ``'data'``; see ``_net/onread.py``).

    Events: ``'lookup'``, ``'connectionAttempt'``, ``'connectionAttemptFailed'``,
    ``'connectionAttemptTimeout'``, ``'connect'``, ``'ready'``, ``'data'``, ``'end'``,
    ``'drain'``, ``'timeout'``, ``'error'``, ``'close'(had_error)`` (``had_error`` ``None`` for a
    socket that never had a handle: Node emits no argument then). Awaitable: ``await sock``
    waits for ``'connect'`` and returns the socket (or raises the error).
    """

    # The socket's own state, in slots as the stream's (Duplex), all set by _init_socket.
    # ('_fin_received': 'end' came without allow_half_open; write() after our end() is then
    # Node's writeAfterFIN (Node replaces socket.write; a flag here, as a bound method stored on
    # the socket is a cycle).)
    __slots__ = ("connecting", "_handle", "_closed_handle", "_bytes_read", "_bytes_dispatched",
                 "_pending_write", "_pending_write_cb", "_pending_final", "_connect_task",
                 "_timeout", "_timer", "_last_active", "_refed", "_had_error",
                 "_pause_on_connect", "_no_delay", "_keep_alive", "_fin_received")

    # A push source: the handle reads until read_stop(). (Fixed for sockets: _on_handle_read's
    # flowing case does not read it, a class attribute lookup per read.)
    _read_more = False
    _CONNECT_EVENT = "connect"
    # Not slots: a subclass may set them before calling Socket.__init__ (TLSSocket's _server),
    # a net.Server sets them on its connections.
    server: Any = None
    _server: Any = None
    # The TLSSocket that took this socket's handle (tls.connect({'socket': ...}), a server's
    # 'connection' socket): this one is a shell, whose addresses, options and RST still reach
    # the connection through _closed_handle, as Node's raw socket keeps the shared handle.
    _shell_of: Any = None
    #: The ``onread`` option (``_net/onread.py``), when given in Node's shape.
    _onread: OnRead | None = None
    #: Node's ``autoSelectFamilyAttemptedAddresses``: ``'<ip>:<port>'`` of each address tried
    #: when a host name's several addresses were tried in turn (``None`` otherwise).
    auto_select_family_attempted_addresses: list[str] | None = None
    #: The ``auto_select_family`` attempt under way (``autoselect.MultipleConnect``): a
    #: ``destroy()`` meanwhile holds ``'close'`` (``_close_held``) until that attempt's
    #: ``ECANCELED`` ``'connectionAttemptFailed'`` was emitted, and one loop step more when it
    #: was emitted after ``'close'`` was queued (Node's order: what its listeners queue with
    #: ``call_soon`` runs before ``'close'``).
    _attempt: Any = None
    _close_held = False
    #: ``set_timeout()`` was called (Node's ``socket.timeout`` is ``undefined`` until then, ``0``
    #: after ``setTimeout(0)``).
    _timeout_set = False

    def __init__(self, options: dict[str, Any] | int | None = None, **kwargs: Any) -> None:
        if isinstance(options, int):
            options = {"fd": options}  # (Node's legacy Socket(fd))
        if type(options) is _Normalized and not kwargs:
            opts: dict[str, Any] = options
        else:
            # (``timeout`` is ignored unchecked, as by Node's constructor: net.connect's)
            opts = _own(normalize(_no_timeout(options), _no_timeout(kwargs), _EITHER, "options"),
                        SOCKET_OPTIONS) if options or kwargs else {}
        EventEmitter.__init__(self)
        keys = _STREAM_KEYS.intersection(opts)
        stream_opts = {k: opts[k] for k in keys} if keys else {}
        stream_opts["allow_half_open"] = bool(opts.get("allow_half_open", False))
        stream_opts["emit_close"] = False  # 'close'(had_error) comes from the handle
        self._init_duplex(stream_opts)
        self._init_socket(opts)

    def _init_socket(self, opts: dict[str, Any]) -> None:
        self.connecting = False
        self._fin_received = False
        self._handle: Any = None
        self._closed_handle: Any = None
        self._bytes_read = 0
        self._bytes_dispatched = 0
        self._pending_write: _ConnectWrite | None = None
        self._pending_write_cb: Callable[..., Any] | None = None
        self._pending_final: Callable[..., Any] | None = None
        self._connect_task: asyncio.Task[None] | None = None
        self._timeout = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._last_active = 0.0
        self._refed = True
        self._had_error: bool | None = False  # 'close''s argument (None: no handle ever)
        self._pause_on_connect = bool(opts.get("pause_on_connect") or opts.get("pause_on_create"))
        self._no_delay: bool | None = opts.get("no_delay")
        ka = opts.get("keep_alive")
        self._keep_alive: tuple[bool, float] | None = (
            (bool(ka), float(opts.get("keep_alive_initial_delay") or 0)) if ka is not None else None)
        # Node's onReadableStreamEnd, the socket's first 'end' listener (added straight into the
        # new emitter's table: nothing can listen to 'newListener' yet, 'end' has no hook)
        events = self._events
        events["end"] = (*events.get("end", ()), _OnReadableStreamEnd(self))
        onread = opts.get("onread")
        if onread is not None:
            self._onread = _onread_parse(onread)
        handle = opts.get("handle")
        if handle is None and opts.get("fd") is not None:
            handle = open_fd_handle(opts["fd"])  # (Node's createHandle(fd): _net/fd.py)
        if handle is not None:
            self._handle = handle
            handle.owner = self
            if self._onread is not None:
                _onread_install(self)
            if opts.get("readable", True) is not False:
                if self._pause_on_connect:
                    handle.read_stop()
                    self._r_flowing = False
                elif not opts.get("manual_start"):
                    self.read(0)
            if self._no_delay is not None or self._keep_alive is not None:
                self._apply_socket_options()

    # -- accepted sockets, built from a prototype -------------------------------------------------

    @classmethod
    def _accepted_state(cls, opts: dict[str, Any]) -> AcceptedState | None:
        """The instance state ``cls(_Normalized(opts, handle=h))`` has for a handle ``h`` that is
        already reading, to give each new socket (:meth:`_init_accepted`): one call of
        straight-line slot stores instead of the option lookups and calls of ``__init__``, per
        accepted connection. ``None`` (use ``__init__``): see :meth:`_accepted_values`."""
        state = cls._accepted_values(opts)
        return AcceptedState(state) if state is not None else None

    @classmethod
    def _accepted_values(cls, opts: dict[str, Any]) -> dict[str, Any] | None:
        """:meth:`_accepted_state`'s values, name -> value. Built by running that very
        ``__init__`` once on a prototype, so they cannot drift from it; ``None`` if the
        prototype holds anything that could not be shared: a value of a mutable type, or
        listeners other than the socket's own ``'end'`` listener."""
        proto = cls.__new__(cls)
        Socket.__init__(proto, _Normalized(opts, handle=_PROTO_HANDLE))
        _PROTO_HANDLE.owner = None
        state = instance_state(proto)
        events = state.pop("_events", None)
        if (state.pop("_handle", None) is not _PROTO_HANDLE or state.pop("_r_pipes", None) != []
                or type(events) is not dict or list(events) != ["end"] or len(events["end"]) != 1
                or type(events["end"][0]) is not _OnReadableStreamEnd):
            return None
        # (Each socket's own: _events and _r_pipes, made by fill; _handle.)
        for value in state.values():
            if type(value) not in _SHAREABLE_TYPES and value is not _NO_BUF \
                    and value is not _NO_DRAIN:
                return None
        return state

    def _init_accepted(self, handle: Any, state: AcceptedState) -> None:
        """``Socket.__init__`` for ``handle`` (already reading) from :meth:`_accepted_state`."""
        fill = state.fill  # (a slot: LOAD_ATTR_SLOT, where a LOAD_METHOD would not specialise)
        fill(self)
        self._handle = handle
        handle.owner = self

    def __repr__(self) -> str:
        if self._handle is None:
            state = "connecting" if self.connecting else "closed" if self._destroyed else "new"
            return f"<{type(self).__name__} {state}>"
        return (f"<{type(self).__name__} {self.local_address}:{self.local_port} -> "
                f"{self.remote_address}:{self.remote_port} {self.ready_state}>")

    # -- connecting (the rest: _socket_connect.py) ----------------------------------------------

    def connect(self, *args: Any, **kwargs: Any) -> Socket:
        """Node ``socket.connect()``: ``connect(port, host='localhost', callback)``,
        ``connect(path, callback)`` (Unix), ``connect(options, callback)``; options ``port``,
        ``host``, ``path``, ``family`` (4/6), ``local_address``, ``local_port``, ``no_delay``,
        ``keep_alive``, ``keep_alive_initial_delay``. ``callback`` is a ``'connect'`` listener.
        Returns the socket (awaitable). A ``timeout`` option is ignored, unchecked, as Node's
        ``socket.connect()`` ignores it (``net.connect()``'s sets the idle timeout).

        ``connect(_Normalized(opts)[, callback])`` (``net.connect``, ``tls.connect``): options
        already normalised and checked, not normalised again (Node's ``normalizedArgsSymbol``)."""
        if args and type(args[0]) is _Normalized and not kwargs:
            return self._connect(*args)
        options, cb = normalize_connect_args(args, kwargs)
        opts = _own(normalize(_no_timeout(options), None, _EITHER, "options"), CONNECT_OPTIONS)
        return self._connect(opts, cb)

    # -- handle seam: reading -------------------------------------------------------------------

    def _on_handle_read(self, view: memoryview | bytes) -> None:
        """Bytes from the handle (Node's ``onStreamRead``): push, ``read_stop`` on backpressure.
        ``view``: the handle's buffer, or ``bytes`` kept as they are (a TLS client's data path,
        ``TLSWrap._on_transport_read``)."""
        self._bytes_read += len(view)
        if self._timeout:
            self._touch()
        # The one copy of the data (the view is the handle's buffer); ``bytes`` are kept as they
        # are without calling bytes() (a type call, ~700 instructions, that returns its argument).
        # From here on ``view`` is the chunk (bytes).
        if type(view) is not bytes:
            view = bytes(view)
        # (The general case first: its tests jump a few bytes, not over the whole data path,
        # so that none needs an EXTENDED_ARG prefix.)
        if not (self._r_flowing and self._r_data_listening and not self._r_len
                and not self._r_sync and self._r_decoder is None and not self._r_ended
                and not self._destroyed and self._errored is None and view):
            if not self.push(view):
                self._read_stop_handle()
            return
        # push()'s flowing case (Node's addChunk: straight to 'data'), without the call (a
        # socket is a push source: no maybeReadMore, see _read_more); emit() without *args.
        self._r_reading = False
        self._r_data_emitted = True
        if type(self) in _EMIT1_INLINE or _emit1_inline(type(self)):
            # EventEmitter._emit1("data", view), without the call (a Python call per chunk):
            # each listener in order; one that raises goes to _listener_raised.
            for fn in self._events.get("data", ()):
                try:
                    r = fn(view)
                except Exception as exc:  # noqa: BLE001 - as emit: the listener's error
                    r = self._listener_raised("data", fn, (view,), exc)
                if r is not None and _iscoroutine(r):
                    self._schedule("data", r, (view,))
        else:  # (a class overriding emit() or _emit1(): its own)
            self._emit1("data", view)
        if self._r_ended or (self._r_len and self._r_len >= self._r_hwm):
            self._read_stop_handle()

    def _read_stop_handle(self) -> None:
        h = self._handle
        if h is not None:
            h.read_stop()

    def _on_handle_eof(self) -> None:
        """The peer half-closed: end the readable side (``'end'`` once the buffer is read).
        The end of the stream is activity, as any read in Node's ``onStreamRead``
        (``kUpdateTimer``): it restarts the idle timeout, also one that has fired already."""
        if self._timeout:
            self._touch()
        cls = type(self)
        if (self._r_flowing and not self._r_len and not self._r_sync and not self._r_ended
                and self._r_decoder is None and not self._destroyed and self._errored is None
                and "readable" not in self._events and cls.push is _PUSH and cls.read is _READ):
            # Flowing with nothing buffered (the usual end): the state push(None) then read(0)
            # leave -- onEofChunk, emitReadable_, flow, read, endReadable -- without the calls
            # (a subclass overriding push() or read() gets its calls, as Node makes them).
            # (Not ended: so not 'end' emitted nor an _end_readable_nt pending either.)
            self._r_reading = False
            self._r_ended = True
            self._r_need_readable = False
            self._r_emitted_readable = False
            srv = self._server  # (_running_loop, inlined)
            (srv is not None and srv._accept_loop or _get_running_loop()).call_soon(
                self._end_readable_nt)
            return
        if self._r_end_emitted:
            return
        self.push(None)
        self.read(0)

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        """Stream hook: the loop this socket runs on, for its ticks.  An accepted socket's is the
        loop its server accepts on (``net.Server._accept_loop``, while listening), without
        ``asyncio.get_running_loop()`` (a ``getpid()`` system call each on CPython 3.11);
        otherwise the running loop."""
        srv = self._server  # (a net.Server: _destroy counts its connections)
        return srv is not None and srv._accept_loop or _get_running_loop()

    def _read(self, size: int) -> None:
        """Readable hook: the consumer wants data; resume the handle (Node's ``tryReadStart``)."""
        h = self._handle
        if h is not None and not self.connecting:
            h.read_start()

    def _write_after_fin(self, data: Any, encoding: Any = None, callback: Any = None) -> bool:
        """Node's ``writeAfterFIN`` (``write`` once the peer ended and we ended too, without
        ``allow_half_open``): ``EPIPE``."""
        if callable(encoding):
            callback = encoding
        err = system_error("EPIPE", "This socket has been ended by the other party")
        if callback is not None:
            _soon(self._user_callback, callback, err)
        self.destroy(err)
        return False

    def _str_with_buffer_encoding(self, data: str) -> Any:
        """``write(str, 'buffer')`` (Writable.write's check, off the data path): Node's
        net.Socket does not decode strings, so the ``str`` reaches the handle's
        ``writeBuffer``, which throws ``TypeError`` ERR_INVALID_ARG_TYPE "Second argument must
        be a buffer". A write refused anyway (after ``end()``, destroyed) is refused as Node's
        (ERR_STREAM_WRITE_AFTER_END / ERR_STREAM_DESTROYED, through the callback and
        ``'error'``); any other throws at the call (Node: when the write reaches the handle,
        later for one queued, its socket then left mid-write)."""
        if self._w_ending or self._destroyed:
            return b""  # (never written: Writable.write refuses it next)
        raise node_error("ERR_INVALID_ARG_TYPE", message="Second argument must be a buffer")

    # -- handle seam: writing -------------------------------------------------------------------

    def write(self, data: Any, encoding: Any = None,
              callback: Callable[..., Any] | None = None) -> bool:
        """Node ``socket.write(data[, encoding][, callback])`` (``Writable.write``).

        The data path: ``bytes`` with nothing queued, no callback and no timer go straight to
        the handle; when it takes them at once, the stream's state afterwards is what
        ``Writable.write`` -> :meth:`_write` -> its callback leaves, without those calls."""
        h = self._handle
        if (type(data) is not bytes or callback is not None or encoding is not None or h is None
                or self._w_writing or self._w_corked or self._w_ending or self._w_need_drain
                or self._w_len or self._destroyed or self._errored is not None
                or self.connecting or self._timeout or not data):
            if self._fin_received and self._w_ending:
                return self._write_after_fin(data, encoding, callback)
            return Duplex.write(self, data, encoding, callback)
        n = len(data)
        self._bytes_dispatched += n
        # As Writable.write: the chunk is being written while the handle has it (what a
        # listener the handle reaches meanwhile can see: the length, writing; the pending count
        # and the write's own length and callback are read only once writing is over, by
        # _on_write_done and _finish_maybe: set below, when the write does not end here; and
        # sync only by the callbacks of a write or a final, none of them in flight now (not
        # writing nor ending), nor given out meanwhile: set below too).
        self._w_len = n  # (it was 0: nothing queued or in flight)
        self._w_writing = True
        taken = h.write(data)
        # (Still writing: only this write's callback, not given out yet, ends it.)
        if taken and not self._w_buf and not self._destroyed and self._errored is None \
                and not self._w_ending:
            # Writable's onwrite, synchronous, no callback, nothing buffered, no 'drain' due.
            self._w_writing = False
            self._w_len = 0  # (this write's alone: nothing was buffered meanwhile)
            return True
        return self._write_tail(n, taken)

    def _write_tail(self, n: int, taken: bool) -> bool:
        """The rest of :meth:`write`'s data path, once the handle has the chunk of ``n`` bytes
        (``taken``: at once) and the write did not end there (``_fastpath.c``'s too)."""
        # (_w_cb is None: no write is in progress when this one starts)
        self._w_pending_cb += 1
        self._w_write_len = n
        if taken:
            if self._w_writing:
                self._w_sync = True
                self._on_write_done()
                self._w_sync = False
        else:
            self._w_sync = False  # (its callback comes from the handle's drain, later)
            self._pending_write_cb = self._on_write_done
        if self._w_len < self._w_hwm:
            return not self._destroyed and self._errored is None
        self._w_need_drain = True
        return False

    def _write_pending(self) -> None:
        """The write made while connecting, now that the socket is connected (when its
        ``'connect'`` listener was removed)."""
        pending = self._pending_write
        if pending is not None and not self._destroyed:
            pending()

    def _write(self, chunk: Any, callback: Callable[..., Any]) -> None:
        """Writable hook: hand ``chunk`` to the handle; ``callback`` now, or at
        ``_on_handle_drain`` when the handle reports backpressure."""
        h = self._handle
        if self._dropped_pending:
            self._dropped_pending = 0  # (Node's _writeGeneric: a new _pendingData, or none)
        if h is None or self.connecting:
            if self.connecting:
                # Node's _writeGeneric: written from a 'connect' listener added now, so its
                # callback runs before the 'connect' listeners added after this write (and,
                # as Node's, on the next connection when a destroy() dropped it: _ConnectWrite)
                self._pending_write = pending = _ConnectWrite(self, chunk, callback)
                pending.add()
                return
            shared = self._closed_handle if self._shell_of is not None else None
            if shared is not None and not shared.closed:
                # A shell (TLSSocket._adopt_shell): as Node's raw socket, which still writes to
                # the handle it shares with the TLS socket, the bytes go on the connection
                # below TLS. Done once the transport took them (the handle's drain is the TLS
                # socket's: a raw write never waits for it).
                self._bytes_dispatched += len(chunk)
                shared.write(chunk)
                callback()
            else:
                callback(node_error("ERR_SOCKET_CLOSED"))
            return
        if self._timeout:
            self._touch()
        self._bytes_dispatched += len(chunk)
        taken = h.write(chunk)
        if self._errored is not None and self._failed_write is not None:
            # (failed within handle.write(): onwrite's part in the call; the rest waits for
            # the error, _on_handle_write_error)
            self._write_failed_in_call(callback)
        elif taken:
            callback()
        else:
            self._pending_write_cb = callback

    def _writev(self, chunks: list[Any], callback: Callable[..., Any]) -> None:
        self._write(b"".join(chunks), callback)

    def _on_handle_drain(self) -> None:
        """The handle's buffer drained: complete the write waiting on it."""
        cb = self._pending_write_cb
        if cb is not None:
            self._pending_write_cb = None
            cb()


def wrap_duplex(duplex: Any, **options: Any) -> Socket:
    """A :class:`Socket` over any Duplex (through :class:`DuplexHandle`)."""
    return Socket(handle=DuplexHandle(duplex), **options)


# Last: the data path's two methods in C where the optional extension is built (fastpath.py).
_fastpath_install(Socket, _EMIT1)
