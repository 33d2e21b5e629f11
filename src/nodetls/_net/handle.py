"""Handles: the small imperative I/O objects under a ``net.Socket`` (Node's TCPWrap/PipeWrap).

The handle seam (``docs/DESIGN.md``)::

    handle.owner                          # reassignable: a TLSSocket takes a net.Socket's handle
    handle.write(data) -> bool            # False: transport buffer above its high-water mark
    handle.read_start() / read_stop()     # resume / pause delivering reads
    handle.shutdown(callback=None)        # half-close after pending writes; callback() once flushed
                                          # (the callback is an extension: SHUTDOWN_CALLBACK = True)
    handle.close()                        # close now; owner._on_handle_close() follows, once
    handle.get_write_buffer_size() -> int
    handle.local_address / local_port / local_family / remote_address / remote_port / remote_family
    handle.set_no_delay(enable) / set_keep_alive(enable, delay) / ref() / unref()

    owner._on_handle_read(view)   # bytes arrived; ``view`` is valid only during the call
    owner._on_handle_eof()        # the peer half-closed
    owner._on_handle_drain()      # the transport buffer fell below its low-water mark
    owner._on_handle_error(exc)   # transport error, already Node-coded (errors.from_oserror)
    owner._on_handle_write_failed(err)  # optional: a write failed within handle.write()
    owner._on_handle_write_error(err)   # optional: that write's error, a loop step later
    owner._on_handle_close()      # the transport is gone (exactly once; the handle then drops
                                  # its owner: no reference cycle outlives a connection)

:class:`TCPHandle` (TCP and Unix sockets) is an ``asyncio.BufferedProtocol`` reading into
preallocated receive buffers (:data:`RECV_BUFFER_SIZE`), delivered as ``memoryview`` slices (no
copy, no allocation per read).
A client handle reports its connection through ``on_open`` (``net.Socket.connect`` passes the
connecting socket's ``_on_handle_connect``), before any read is delivered.
``duplex_handle.py``'s :class:`~nodetls._net.duplex_handle.DuplexHandle` gives any
:class:`nodetls.stream.Duplex` the same interface (Node's JSStreamSocket), ``pipe_handle.py``'s
:class:`~nodetls._net.pipe_handle.PipeHandle` a pipe or FIFO descriptor (Node's Pipe handle).
``handle_read.py`` holds :class:`TCPHandle`'s reads (its receive buffers, ``get_buffer`` /
``buffer_updated``, the peer's EOF, held reads, ``read_start()`` / ``read_stop()``), as a mixin;
``handle_parts.py`` two more: its ``shutdown()`` and its addresses and socket options.
"""

from __future__ import annotations

import asyncio
import errno
import os
from collections import deque
from collections.abc import Callable
from typing import Any

from .. import _run
from ..errors import system_error
from .close_fin import close_now
from .handle_parts import _AddressMixin, _ShutdownMixin, _wrap_error
from .handle_read import _BUFFERS as _BUFFERS  # (re-exported: direct.py's reads share them)
from .handle_read import RECV_BUFFER_SIZE, _ReadMixin
from .hangup import _HangupMixin
from .send_error import send_error

__all__ = ["TCPHandle", "RECV_BUFFER_SIZE", "WRITE_HIGH_WATER", "WRITE_LOW_WATER"]

#: Transport write-buffer watermarks (asyncio's defaults): ``write()`` returns False above the
#: high mark, ``_on_handle_drain`` fires below the low one.
WRITE_HIGH_WATER = 64 * 1024
WRITE_LOW_WATER = 16 * 1024

#: A handle's states. ``_LOST``: the transport is gone after a shutdown (connection_lost's
#: first case), the owner not told yet (``close()`` does).
_NEW, _OPEN, _CLOSING, _LOST, _CLOSED = 0, 1, 2, 3, 4
_ENOTCONN, _EPIPE, _ECONNRESET = errno.ENOTCONN, errno.EPIPE, errno.ECONNRESET
#: How a transport is lost when the peer reset the connection after our shutdown was asked.
_LOST_CODES = (_ENOTCONN, _EPIPE, _ECONNRESET)
_LOOKUP: Any = object()  # TCPHandle(registry=...) not given: the running loop's


class _NoOwner:
    """Owner of a handle nobody has claimed yet (or a dropped connection): ignores everything."""

    def _on_handle_read(self, view: memoryview) -> None: ...
    def _on_handle_eof(self) -> None: ...
    def _on_handle_drain(self) -> None: ...
    def _on_handle_error(self, exc: BaseException) -> None: ...
    def _on_handle_close(self) -> None: ...
    def _on_handle_connect(self) -> None: ...


NO_OWNER: Any = _NoOwner()


class AddresslessHandle:
    """What a handle with no socket addresses shares (``DuplexHandle``, ``PipeHandle``): the
    address properties are ``None``, and ``shutdown(callback)`` reports its completion."""

    local_address: Any = None
    local_port: Any = None
    local_family: Any = None
    remote_address: Any = None
    remote_port: Any = None
    remote_family: Any = None
    SHUTDOWN_CALLBACK = True


#: A new TCPHandle's state (``__init__``): ``transport``, ``_view``, ``_state``,
#: ``_write_paused``, ``_eof``, ``_shut``, ``_shutdown_cb``, ``_peer``, ``_sockname``, ``_refed``,
#: ``_held`` (data read while stopped: uvloop, see ``_hold``), ``_held_eof``, ``_ended`` (both
#: directions ended: no longer keeps ``run()`` alive).
_FRESH: tuple[Any, ...] = (None, None, _NEW, False, False, False, None, None, None, True, None,
                           False, False)


class TCPHandle(_ReadMixin, _ShutdownMixin, _HangupMixin, _AddressMixin,
                asyncio.BufferedProtocol):
    """A TCP or Unix stream connection behind the handle seam (module docstring).

    Args:
        owner: the object receiving ``_on_handle_*`` calls (reassignable as ``handle.owner``).
        reading: deliver reads as soon as connected (``False``: only after :meth:`read_start`).
        on_open: called with the handle from ``connection_made`` (the server's accept hook).
        registry: the running loop's :func:`nodetls._run.current_registry` when the caller
            knows it already (a server, once per listen): no lookup per connection.
    """

    #: ``shutdown(callback)`` reports completion (an extension of DESIGN.md's ``shutdown()``).
    SHUTDOWN_CALLBACK = True
    _no_delay_off = False  # set_no_delay(False) was applied (uvloop's default is on)
    #: Under :func:`nodetls.run`: open, not reading, not shut down -- inactive in libuv terms
    #: (:meth:`_go_idle`). The transport's write limits are then 0/0, so a write it cannot
    #: send at once pauses writing (the handle counts again) until all is sent.
    _idle = False
    #: The write limits to restore when reading starts again (:meth:`set_write_buffer_limits`).
    _limits: tuple[int | None, int | None] = (WRITE_HIGH_WATER, WRITE_LOW_WATER)
    #: ``SO_LINGER`` 0 was set (``net.Socket.reset_and_destroy``): the close resets, no FIN
    #: goes out first (the kernel resets at :meth:`_close_now`).
    resetting = False
    #: ``shutdown(callback)`` was called; its half-close waits for the next loop step.
    _shut_queued = False
    #: Set by the asyncio bridge (``nodetls.aio``) once the peer's close_notify or FIN has
    #: ended the connection: :meth:`close` then leaves the socket to the transport, which
    #: closes it a loop step later, as asyncio's and uvloop's own SSL transports do.
    close_lazily = False
    transport: asyncio.Transport | None
    _view: memoryview | None
    _state: int
    _write_paused: bool
    _eof: bool
    _shut: bool
    _shutdown_cb: Callable[[], None] | None
    _peer: Any
    _sockname: Any
    _refed: bool
    _held: deque[bytes] | None
    _held_eof: bool
    _ended: bool

    def __init__(self, owner: Any = None, reading: bool = True,
                 on_open: Callable[[TCPHandle], None] | None = None,
                 bufsize: int = RECV_BUFFER_SIZE, registry: Any = _LOOKUP) -> None:
        self.owner: Any = owner if owner is not None else NO_OWNER
        self._bufsize = bufsize
        self._reading = reading
        self._on_open = on_open
        # The rest from one tuple (_FRESH): two bytecodes per attribute, not three.
        (self.transport, self._view, self._state, self._write_paused, self._eof, self._shut,
         self._shutdown_cb, self._peer, self._sockname, self._refed, self._held, self._held_eof,
         self._ended) = _FRESH
        # The run() registry this handle keeps alive while referenced (None outside run()):
        # a handle never changes loops, so it is looked up once, not at every ref/unref.
        reg = self._reg = _run.current_registry() if registry is _LOOKUP else registry
        if reg is not None:
            reg.refs.add(self)

    def __repr__(self) -> str:
        state = ("new", "open", "closing", "lost", "closed")[self._state]
        return f"<TCPHandle {state} {self._sockname_tuple()!r}->{self._peer_tuple()!r}>"

    # -- asyncio protocol callbacks -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._state >= _CLOSING:  # closed while connecting: _closed_unconnected reports
            transport.abort()  # type: ignore[attr-defined]  # it (uvloop calls no
            return  # connection_lost once a cancelled create_connection() closed its transport)
        self.transport = transport  # type: ignore[assignment]
        self._state = _OPEN
        cb = self._on_open
        if cb is not None:
            self._on_open = None
            cb(self)
        if not self._reading and self._state == _OPEN:
            transport.pause_reading()  # type: ignore[attr-defined]
            # (uvloop starts reading once this returns, paused or not: stopped on the next loop
            # step, or a peer's reset would be heard without a read, which Node's is not)
            asyncio.get_running_loop().call_soon(self._stop_loop_reading)
            if self._reg is not None:
                self._go_idle()  # (Node: a connected handle not reading keeps nothing alive)
        if not self._refed and self._reg is not None and self._state == _OPEN:
            self._quiet_unref()  # (connected: its connect request no longer keeps run() alive)

    def pause_writing(self) -> None:
        self._write_paused = True
        if (self._idle or not self._refed) and not self._ended and self._reg is not None:
            self._reg.refs.add(self)  # writes pending: active again (Node's write request)

    def resume_writing(self) -> None:
        self._write_paused = False
        cb = self._shutdown_cb
        if cb is not None and self.transport is not None and not self.transport.get_write_buffer_size():
            self._shutdown_cb = None
            cb()
        self.owner._on_handle_drain()
        self._check_ended()
        if (self._idle or not self._refed) and not self._write_paused and self._reg is not None \
                and self._state < _LOST:
            self._reg.release(self)  # all sent (limits 0/0): idle, or unreferenced

    def _check_ended(self) -> None:
        """The peer's EOF was read and our shutdown is flushed: like a libuv stream that neither
        reads nor writes, the handle stays open but no longer keeps :func:`nodetls.run` alive
        (a client that ends without reading lets the program finish, as in Node)."""
        if self._reg is None or not (self._eof and self._shut) or self._ended \
                or self._state != _OPEN:
            return  # (no registry: outside run(), nothing to end)
        t = self.transport
        if t is not None and t.get_write_buffer_size():
            t.set_write_buffer_limits(high=0, low=0)  # resume_writing() once flushed: again
            return
        self._ended = True
        self._reg.release(self)  # (an unreferenced one may count: a write was pending)

    def connection_lost(self, exc: BaseException | None) -> None:
        state = self._state
        if state == _CLOSED:
            return
        if exc is not None and state == _OPEN and (self._shut or self._shut_queued) \
                and not self._eof and self._write_error is None and self._shutdown_cb is None \
                and getattr(exc, "errno", None) in _LOST_CODES:
            self._hangup_at_loss(exc, self._send_lost)  # (queued data, then EOF: hangup.py)
        if exc is not None and state == _OPEN \
                and (self._hup_eof or self._hup_dropped and not self._reading) \
                and getattr(exc, "errno", None) in _LOST_CODES:
            # The transport read past the data a hang-up's EOF was taken after (uvloop starts
            # reading once connection_made() has returned, paused or not): the reset Node's
            # handle meets only at its next read, if the EOF is dropped (hangup.py). After
            # end(), as a failed shutdown's, below: no error now, the reset at read_start() if
            # dropped. (Not before end(): a write to the lost transport would be dropped
            # where Node's fails in the call; the reset is reported at once, docs/net.md.)
            self._hup_lost = True
        elif state == _OPEN and self._lost_while_completing(exc):
            return
        if exc is not None and state == _OPEN and (self._shut or self._shut_queued) \
                and (self._eof or not self._reading) and self._write_error is None \
                and ((code := getattr(exc, "errno", None)) == _ENOTCONN
                or self._hup_lost and not self._eof and not self._reading
                or self._eof and (code == _EPIPE and self._shutdown_cb is None
                                  or self._hup_lost)):
            # The shutdown failed: the peer reset the connection before our FIN (uvloop's
            # uv_shutdown: ENOTCONN) or before what was written with it, all flushed (a TLS
            # close_notify: EPIPE), and the transport is closed. Node's _final/afterShutdown
            # ignore that status and its handle stays open until closed: so this one neither
            # reads nor writes any more, and reports its close (no error) once the owner
            # closes it (close()). Only once the peer's EOF was read: the owner's readable side
            # has ended, so its end() completes and closes it; before that (we ended first), it
            # would wait for an 'end' that cannot come, and the error is reported instead (as
            # Node's read reports the reset): at once when reading, else once reading starts
            # again (read_start(); Node's handle, not reading, hears nothing before).
            self._state = _LOST
            if not self._eof:
                self._read_error = _wrap_error(
                    ConnectionResetError(errno.ECONNRESET, os.strerror(errno.ECONNRESET)))
            if self._view is not None:  # (no read can come any more)
                self._give_back_buffer()
            if self._reg is not None:  # (the transport is gone: nothing for run() to close)
                self._reg.open_unrefd.discard(self)
            if not self._ended:  # (both directions ended, as _check_ended: a later ref()
                self._ended = True  # registers nothing either)
                if self._reg is not None:
                    self._reg.unref(self)
            cb = self._shutdown_cb
            if cb is not None:
                self._shutdown_cb = None
                cb()
            return
        self._state = _CLOSED
        self._shutdown_cb = None
        self._idle = False
        if self._view is not None:
            self._give_back_buffer()
        reg = self._reg
        if reg is not None:
            reg.open_unrefd.discard(self)  # (really closed: nothing for run() to close)
            reg.unref(self)  # (an ended or unreferenced one too: close() counts it again)
        self._on_open = None
        owner = self.owner
        if self._write_error is not None:  # (a write failed at once: _write_failed)
            err = _wrap_error(exc, "write") if exc is not None else self._write_error
            report = getattr(owner, "_on_handle_write_error", None)
            if report is not None:
                report(err)  # (closed meanwhile or not: the write's callback has its error)
            elif state < _CLOSING:
                owner._on_handle_error(err)
        elif exc is not None and state < _CLOSING:
            # (After close() the owner is destroyed and would drop the error: e.g. the peer's RST
            # once we closed. Node's handle reports nothing after uv_close either.)
            if (self._shut or self._shut_queued) and getattr(exc, "errno", None) == _ENOTCONN:
                # Our shutdown failed because the peer reset the connection, before its EOF
                # (the case above needs that EOF): Node's afterShutdown ignores the status and
                # its read reports the reset, so the owner gets that error (read ECONNRESET).
                exc = ConnectionResetError(errno.ECONNRESET, os.strerror(errno.ECONNRESET))
            owner._on_handle_error(_wrap_error(exc))
        # The owner's last call: forget it, so a closed connection (owner <-> handle) is freed by
        # reference counting alone, not left to the cyclic garbage collector.
        self.owner = NO_OWNER
        owner._on_handle_close()

    # -- the handle seam ------------------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> bool:
        """Queue ``data`` (not to be mutated afterwards); ``False`` when the transport buffer is
        above :data:`WRITE_HIGH_WATER` (``_on_handle_drain`` follows)."""
        if self._state != _OPEN:  # (open: the transport is there)
            return False
        t: Any = self.transport
        t.write(data)
        if t.is_closing():  # (the transport's send failed at once: it closes)
            self._write_failed()
        return not self._write_paused

    #: The error of a write that failed within :meth:`write` (the peer has gone), as reported
    #: to the owner at once; the transport's own follows with ``connection_lost``.
    _write_error: BaseException | None = None
    #: The reset a lost handle reports once it reads again (``connection_lost``: a shutdown
    #: failed while not reading), as Node's next read (``_ReadMixin._report_read_error``).
    _read_error: BaseException | None = None

    def _write_failed(self) -> None:
        """The transport's send failed within :meth:`write` (the peer reset the connection, or
        closed it and our earlier write drew a reset): as Node's write failing in the call
        (``afterWriteDispatched``), the owner is told at once, with the send's error
        (``_on_handle_write_failed``; ``write EPIPE`` where the transport keeps it to itself,
        ``send_error.py``), then with the transport's error once ``connection_lost`` has it
        (``_on_handle_write_error``: the loop step Node's ``onwriteError`` tick runs in). An
        owner without the first hears of the failure from the second alone; one without either
        (a ``TLSWrap``) from the transport's ``connection_lost``, as any transport error."""
        if self._write_error is not None:
            return
        failed = getattr(self.owner, "_on_handle_write_failed", None)
        if failed is None and not hasattr(self.owner, "_on_handle_write_error"):
            return  # (a TLSWrap: the transport's connection_lost reports it, as before)
        reg = self._reg
        exc = send_error(self.transport, reg.loop if reg is not None
                         else asyncio.get_running_loop())
        err = self._write_error = _wrap_error(exc, "write") if isinstance(exc, OSError) \
            else system_error("EPIPE", "write EPIPE", errno=errno.EPIPE, syscall="write")
        if failed is not None:
            failed(err)

    def _go_idle(self) -> None:
        """Open and not reading, under :func:`nodetls.run`: like a libuv stream that neither
        reads, connects nor writes (Node's loop does not wait for it), the handle no longer
        keeps ``run()`` alive -- once what is queued is sent. The write limits become 0/0: a
        write the transport cannot send at once pauses writing, which counts the handle again
        until ``resume_writing()`` (all sent); as a libuv write request, pending until written.
        Not after a shutdown (its own flushing, see :meth:`_check_ended`)."""
        t = self.transport
        if self._shut or self._idle or t is None:
            return
        self._idle = True
        t.set_write_buffer_limits(high=0, low=0)  # (pause_writing() now if anything is queued)
        if not self._write_paused and self._refed:
            self._reg.release(self)  # (_reg: checked by the caller)

    def _wake(self) -> None:
        """Reading again (:meth:`read_start`) after :meth:`_go_idle`: counts again, with the
        write limits it had."""
        self._idle = False
        t = self.transport
        if t is None or self._state != _OPEN:
            return
        if not self._shut and self._refed:  # (unreferenced: 0/0 stay, see _quiet_unref)
            t.set_write_buffer_limits(high=self._limits[0], low=self._limits[1])
        if self._refed and not self._ended and self._reg is not None:
            self._reg.refs.add(self)

    def close(self) -> None:
        """Close now; ``owner._on_handle_close()`` follows once. Data still in the transport
        buffer is dropped (Node: ``uv_close`` cancels pending writes and shutdowns), except after
        a ``shutdown()`` without callback: then it is flushed before the transport closes."""
        state = self._state
        if self._idle:  # closing is active again (Node's loop waits for a closing handle)
            self._idle = False
            if self._refed and not self._ended and self._reg is not None:
                self._reg.refs.add(self)
        if state >= _CLOSING:
            if state == _LOST:  # (lost after a shutdown, connection_lost: reported now)
                self._state = _CLOSED
                # What connection_lost has left to do (the rest was done when the transport
                # was lost), a loop step later, as libuv's uv_close callback: the owner's last
                # call, and the handle forgets it (as connection_lost); on run()'s loop without
                # asyncio.get_running_loop() (a getpid() system call on CPython 3.11).
                owner, self.owner = self.owner, NO_OWNER
                reg = self._reg
                (reg.loop if reg is not None else asyncio.get_running_loop()).call_soon(
                    owner._on_handle_close)
            return
        self._state = _CLOSING
        if self._lost_exc is not None:  # (the transport is gone: its loss comes after the
            return  # shutdown's completion, _lost_while_completing; no descriptor to touch)
        t = self.transport
        if t is None:
            if self._reg is not None:
                self._reg.unref(self)  # at once: a failed connect() leaves nothing registered
            asyncio.get_running_loop().call_soon(self._closed_unconnected)
            return
        if (self._ended or not self._refed) and self._reg is not None:
            # Closing counts, referenced or not, until the transport is gone (connection_lost):
            # libuv's loop waits for a closing handle's close callback, so Node's 'close' comes
            # before the process exits (else run() would close it silently: _release_at_exit).
            self._reg.refs.add(self)
        if t.get_write_buffer_size():
            if self._shut and self._shutdown_cb is None:
                t.close()  # after a plain shutdown() the queued data is committed: flush, then
                return  # close
            t.abort()  # never shut down, or closed before the shutdown completed (Node cancels)
            if type(t).__module__ == "uvloop.loop":
                # uvloop: the abort left libuv an epoll change queued for this descriptor (its
                # write watcher); a new socket put on its number now makes that change fail
                # at the next poll, and libuv abort()s the process: the connection closes
                # when uvloop closes the socket, a loop step later
                return
        else:
            t.close()
        self._close_now()

    def _close_now(self) -> None:
        """:meth:`close`'s effect on the connection now, as Node's ``uv_close`` (the transport
        closes its socket a loop step later): the kernel sends our FIN, or a RST when data is
        unread (or after ``reset_and_destroy()``; data held, read but not delivered, counts
        as unread: Node's would be in the kernel), and resets what the peer sends from now on
        (:func:`~nodetls._net.close_fin.close_now`). The addresses are read first: a socket's
        ``remote_address`` and the rest still answer once it is closed.

        An approximation: closed with data unread while an ``end()``'s shutdown waited for its
        loop step, by a socket that has written data, the FIN goes out before the reset. Node
        sends the reset alone; but a Node peer with data of ours unread when the reset comes
        reads that data, then EOF (libuv: a short read and POLLHUP in one poll), and data
        written in the same tick is unread. The FIN makes a peer read the same (data, then
        EOF); its next write then fails with EPIPE, where Node's says ECONNRESET."""
        self._peer_tuple()
        self._sockname_tuple()
        if (self._shut_refused or self._eof and self._shut or self.close_lazily) \
                and not self._held and not self.resetting:
            # The connection is over in the kernel (the peer reset it: our half-close was
            # refused), or both ways ended (our FIN sent, the peer's EOF read, nothing
            # unread), or its owner asked for the transport's own close (close_lazily):
            # no placeholder socket (three system calls) is made.
            return
        sock = self._extra("socket")
        if sock is not None:
            close_now(sock, self._shut_queued and not self._shut and not self.resetting
                      and getattr(self.owner, "_bytes_dispatched", 0) > 0, bool(self._held))

    def _release_at_exit(self) -> None:
        """:func:`nodetls.run` returns with this handle open (unreferenced, idle, or an error
        ended the program): close it as the OS closes a Node process's sockets when it exits
        -- the transport aborted (data not yet handed to the kernel is dropped; the peer sees
        the connection end) and the owner told nothing: no ``'end'``, ``'error'`` or
        ``'close'`` reaches the program after its end."""
        self.owner = NO_OWNER
        self._on_open = None
        self._shutdown_cb = None
        self._held = None
        state = self._state
        if state >= _LOST:  # (the transport is gone already)
            self._state = _CLOSED
            return
        self._state = _CLOSING  # (connecting: connection_made aborts the transport)
        t = self.transport
        if t is not None:
            t.abort()

    def _closed_unconnected(self) -> None:
        if self._state == _CLOSED or self.transport is not None:
            return  # connection_made came after all: connection_lost reports the close
        self._state = _CLOSED
        self._on_open = None
        if self._reg is not None:
            self._reg.open_unrefd.discard(self)
            self._reg.unref(self)
        owner, self.owner = self.owner, NO_OWNER  # (as connection_lost)
        owner._on_handle_close()

    @property
    def closed(self) -> bool:
        """``close()`` was called or the transport is gone."""
        return self._state >= _CLOSING

    def get_write_buffer_size(self) -> int:
        """Bytes queued in the transport."""
        t = self.transport
        return t.get_write_buffer_size() if t is not None else 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """The transport's ``get_extra_info`` (``'socket'``, ``'peername'``...)."""
        value = self._extra(name)
        return default if value is None else value

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        """Tune the transport's watermarks (``write()`` returns ``False`` above ``high``,
        ``_on_handle_drain`` once below ``low``); defaults :data:`WRITE_HIGH_WATER` /
        :data:`WRITE_LOW_WATER`."""
        t = self.transport
        if t is not None and not self._shut:
            self._limits = (high, low)
            # (idle or unreferenced under run(): applied when reading starts again, see
            # _wake, or at ref())
            if not self._idle and (self._refed or self._reg is None):
                t.set_write_buffer_limits(high=high, low=low)

    def ref(self) -> None:
        """Keep :func:`nodetls.run` alive while open (the default)."""
        if not self._refed:
            self._refed = True
            if self._state != _CLOSED and not self._ended and self._reg is not None and (
                    not self._idle or self._write_paused):
                self._reg.refs.add(self)
            t = self.transport
            if self._reg is not None and self._state == _OPEN and t is not None \
                    and not self._idle and not self._shut:
                t.set_write_buffer_limits(high=self._limits[0], low=self._limits[1])

    def unref(self) -> None:
        """Let :func:`nodetls.run` return while this handle is open. As a libuv handle's
        requests do, a connection being made (``connect()``, its host looked up) and data
        still to send keep ``run()`` alive until done, unreferenced or not (Node: an active
        connect or write request keeps the loop alive whatever ``unref()`` said)."""
        if self._refed:
            self._refed = False
            if self._reg is not None and self._state != _NEW:
                self._quiet_unref()

    def _quiet_unref(self) -> None:
        """Unreferenced under :func:`nodetls.run` and connected: the write limits become 0/0,
        so that anything the transport cannot send at once pauses writing, which counts the
        handle again until all is sent (:meth:`pause_writing`, :meth:`resume_writing`), as an
        idle handle's (:meth:`_go_idle`); the handle counts now only while that is so."""
        t = self.transport
        if self._state == _OPEN and t is not None and not self._idle and not self._shut:
            t.set_write_buffer_limits(high=0, low=0)  # (pause_writing() now if data is queued)
        if not self._write_paused:
            reg: Any = self._reg  # (the caller checked it)
            if self._state < _LOST:
                reg.release(self)  # open: closed by run() when it returns
            else:
                reg.unref(self)
