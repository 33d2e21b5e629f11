""":class:`~nodetls._net.handle.TCPHandle`'s half-close (libuv's ``uv_shutdown`` timing) and
its addresses and socket options, as two mixins (``handle_read.py`` holds its reads,
``handle.py`` the rest: writing, closing, the ``run()`` lifetime). Stateless: the state is the
handle's (``TCPHandle.__init__``)."""

from __future__ import annotations

import asyncio
import errno
import socket
import sys
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import NodeError, from_oserror, system_error
from .address import family_name

__all__ = ["_ShutdownMixin", "_AddressMixin", "_wrap_error"]

_OPEN = 1  # (handle.py's state of an open handle)


def _wrap_error(exc: BaseException, syscall: str | None = None) -> BaseException:
    """A transport error as Node reports it: ``read ECONNRESET`` (``code``, ``errno``,
    ``syscall``); ``EPIPE`` comes from a write."""
    if isinstance(exc, NodeError):
        return exc
    if isinstance(exc, OSError):
        err = from_oserror(exc)
        syscall = syscall or ("write" if err.code == "EPIPE" else "read")
        node = system_error(err.code, f"{syscall} {err.code}", errno=err.errno, syscall=syscall)
        node.__cause__ = exc
        return node
    return exc


class _ShutdownMixin:
    """``shutdown(callback)`` and its steps (the module docstring)."""

    # (TCPHandle's state and methods these use)
    transport: asyncio.Transport | None
    owner: Any
    _reg: Any
    _state: int
    _eof: bool
    _shut: bool
    _shut_queued: bool
    _shutdown_cb: Callable[[], None] | None
    _held: deque[bytes] | None
    _held_eof: bool
    _write_error: BaseException | None
    #: A send failed before :meth:`shutdown` was asked, the owner not told (``hangup.py``).
    _send_lost = False

    def _check_ended(self) -> None: ...
    def _deliver_held(self) -> None: ...

    if TYPE_CHECKING:  # (hangup.py's _HangupMixin, after this class in TCPHandle's bases)
        def _hangup_at_shutdown(self, completes: bool) -> None: ...

    def shutdown(self, callback: Callable[[], None] | None = None) -> None:
        """Half-close our side (``write_eof``) once pending writes are sent; ``callback()`` then
        (Node's ShutdownWrap ``oncomplete``).

        With a callback (``net.Socket``'s ``_final``), as libuv's ``uv_shutdown``: the FIN is
        sent on the next loop step (:meth:`_shutdown_step`), not within the call, so a
        ``close()`` in the meantime cancels it (Node: a ``destroy()`` right after ``end()``
        closes the connection without FIN -- a RST when unread data is there); ``callback()``
        a step after that (:meth:`_shutdown_done`), or once what is queued is sent. Without
        one (a TLS wrap's close_notify, then FIN), at once.

        Node's shutdown completes in libuv's pending phase, before the next poll reads
        anything: what the handle reads from that poll on waits for the completion (held,
        ``_held``: the read paths' one test). On asyncio's loop the step queued here runs
        before the I/O callbacks of the next poll, and :meth:`_shutdown_done` holds the
        reads. uvloop runs its ``call_soon`` callbacks before its poll (libuv's idle
        phase): a step queued from one of them runs after the next poll, so the reads are
        held from this call on (:attr:`_shut_hold`). An approximation there: an ``end()``
        called from another socket's read callback also holds what the same poll brings
        after it, which Node's reads (which of two sockets' data one poll brings is
        timing)."""
        if self._state != _OPEN or self._shut or self._shut_queued:  # (open: a transport)
            if callback is not None:
                callback()
            return
        if self.transport.is_closing() and self._write_error is None:  # type: ignore[union-attr]
            # The transport is failing on its own: a send the owner made to it directly (the
            # TLS wrap's close_notify) drew the peer's reset (hangup.py, _hangup_at_loss).
            self._send_lost = True
        if callback is not None:
            self._shut_queued = True
            reg = self._reg
            loop = reg.loop if reg is not None else asyncio.get_running_loop()
            if type(loop).__module__.startswith("uvloop"):
                self._shut_hold = True
                if self._held is None:
                    self._held = deque()
            loop.call_soon(self._shutdown_step, callback)
            return
        self._shutdown_now(None)

    def _shutdown_step(self, callback: Callable[[], None]) -> None:
        """:meth:`shutdown`'s queued half-close (libuv's shutdown request, run from the loop
        after the ticks of the step that asked for it): done now, unless the handle was closed
        meanwhile (Node's ``uv_close`` cancels it: no FIN; ``afterShutdown`` ignores the status,
        so ``callback()`` all the same, which finds its socket destroyed)."""
        self._shut_queued = False
        if self._state != _OPEN or self._shut:
            callback()
            self._release_hold()
            return
        self._shutdown_now(callback)

    #: The half-close failed with ``ENOTCONN``: the peer had reset the connection, which
    #: no longer exists in the kernel (:meth:`TCPHandle._close_now` has nothing to end).
    _shut_refused = False

    #: What the handle reads is held for a shutdown's completion, from :meth:`shutdown` on
    #: (uvloop; else from :meth:`_shutdown_done`) to :meth:`_shutdown_complete` (or
    #: :meth:`_release_hold`, which deliver it): ``_deliver_held`` waits for it.
    _shut_hold = False

    def _release_hold(self) -> None:
        """The shutdown no longer holds reads (it waits for queued writes, as Node's waits
        for its write requests, meanwhile reading; or it is cancelled or done): what was held
        for it is delivered on the next loop step."""
        if self._shut_hold:
            self._shut_hold = False
            if self._held is not None:
                reg = self._reg
                (reg.loop if reg is not None else asyncio.get_running_loop()).call_soon(
                    self._deliver_held)

    def _shutdown_now(self, callback: Callable[[], None] | None) -> None:
        t: Any = self.transport
        self._shut = True
        if t.can_write_eof():
            try:
                t.write_eof()
            except OSError as exc:
                # Node's _final: ENOTCONN (the peer is already gone) counts as done.
                if exc.errno != errno.ENOTCONN:
                    self.owner._on_handle_error(_wrap_error(exc, "shutdown"))
                else:  # (the peer's reset: what it sent before is still read, hangup.py)
                    self._shut_refused = True
                    self._hangup_at_shutdown(callback is not None)
                if callback is not None:
                    self._shutdown_done(callback)  # (libuv's failed shutdown: the same turn)
                return
        if self._eof and self._reg is not None:
            self._check_ended()
        if callback is None:
            return
        if not t.get_write_buffer_size():
            self._shutdown_done(callback)
        else:
            # resume_writing() fires when the buffer is empty: that is our completion signal.
            self._shutdown_cb = callback
            t.set_write_buffer_limits(high=0, low=0)
            self._release_hold()

    #: A shutdown's completion is queued (:meth:`_shutdown_done` to :meth:`_shutdown_complete`).
    _completing = False
    #: The transport was lost while :attr:`_completing`: its error, kept for after the
    #: completion (:meth:`_lost_while_completing`).
    _lost_exc: BaseException | None = None

    def connection_lost(self, exc: BaseException | None) -> None: ...

    def _lost_while_completing(self, exc: BaseException | None) -> bool:
        """``connection_lost(exc)`` while a shutdown's completion is queued (uvloop reads the
        peer's reset, or its ``uv_shutdown`` fails, in the poll after the step that queued it,
        before the completion runs): Node's completion runs first (libuv's pending phase,
        before the poll that reads the reset; ``afterShutdown`` ignores the status), so
        ``'finish'`` and ``end()``'s callback come before the error. ``exc`` is kept and
        :meth:`_shutdown_complete` reports the loss after them. ``True`` when kept."""
        if not self._completing or exc is None or self._lost_exc is not None:
            return False
        self._lost_exc = exc
        return True

    def _shutdown_done(self, callback: Callable[[], None]) -> None:
        """The queued shutdown is done in its loop step, before that step's reads: Node's
        completes in libuv's pending phase, after the ticks queued by the code that called
        ``end()`` and before the poll that reads what the peer sent meanwhile; ``'finish'``
        comes before that data. Here the completion (``callback()``) follows a step later,
        after those ticks; what this step reads is held until then (``_hold``; delivered by
        :meth:`_shutdown_complete`, after the callback's own tick)."""
        if self._held is None:
            self._held = deque()
        self._shut_hold = True  # (a read_start() meanwhile delivers nothing before it)
        self._completing = True
        reg = self._reg
        (reg.loop if reg is not None else asyncio.get_running_loop()).call_soon(
            self._shutdown_complete, callback)

    def _shutdown_complete(self, callback: Callable[[], None]) -> None:
        self._shut_hold = False
        callback()
        # Delivered after the tick of the callback's 'finish', even if nothing came yet: what
        # this loop step reads after this call comes after 'finish' too (Node's completion
        # runs in libuv's pending phase, before the poll of that iteration: a destroy() on
        # 'finish' -- destroySoon() -- closes the handle before it reads anything). So does
        # a loss of the transport (:meth:`_shutdown_settled`).
        reg = self._reg
        loop = reg.loop if reg is not None else asyncio.get_running_loop()
        if self._held is not None:
            loop.call_soon(self._deliver_held)
        loop.call_soon(self._shutdown_settled)

    def _shutdown_settled(self) -> None:
        """The ticks of the shutdown's completion ran (``'finish'``): a loss of the transport
        meanwhile (:meth:`_lost_while_completing`) is reported now, a tick later (Node reads
        the reset in the poll after every tick)."""
        self._completing = False
        lost = self._lost_exc
        if lost is not None:
            self._lost_exc = None
            reg = self._reg
            (reg.loop if reg is not None else asyncio.get_running_loop()).call_soon(
                self.connection_lost, lost)


class _AddressMixin:
    """The addresses (from the transport's extra information, looked up once) and the socket
    options (module docstring)."""

    transport: asyncio.Transport | None
    _peer: Any
    _sockname: Any
    _no_delay_off: bool

    # -- addresses ------------------------------------------------------------------------------

    def _extra(self, name: str) -> Any:
        t = self.transport
        if t is None:
            return None
        try:
            return t.get_extra_info(name)
        except (AttributeError, OSError):  # uvloop, once the socket is closed
            return None

    def _peer_tuple(self) -> Any:
        if self._peer is None:
            self._peer = self._extra("peername")
        return self._peer

    def _sockname_tuple(self) -> Any:
        if self._sockname is None:
            self._sockname = self._extra("sockname")
        return self._sockname

    @property
    def remote_address(self) -> str | None:
        p = self._peer_tuple()
        return p[0] if isinstance(p, tuple) else None

    @property
    def remote_port(self) -> int | None:
        p = self._peer_tuple()
        return p[1] if isinstance(p, tuple) else None

    @property
    def remote_family(self) -> str | None:
        p = self._peer_tuple()
        return ("IPv6" if len(p) == 4 else "IPv4") if isinstance(p, tuple) else None

    @property
    def local_address(self) -> str | None:
        p = self._sockname_tuple()
        return p[0] if isinstance(p, tuple) else None

    @property
    def local_port(self) -> int | None:
        p = self._sockname_tuple()
        return p[1] if isinstance(p, tuple) else None

    @property
    def local_family(self) -> str | None:
        p = self._sockname_tuple()
        return ("IPv6" if len(p) == 4 else "IPv4") if isinstance(p, tuple) else None

    # -- options --------------------------------------------------------------------------------

    def _tcp_socket(self) -> Any:
        sock = self._extra("socket")
        if sock is None or family_name(sock.family) is None or sock.fileno() < 0:
            return None  # (-1: the transport has closed it; uvloop's pseudo-socket would then
        return sock  # raise ValueError, not an OSError, at setsockopt())

    def set_no_delay(self, enable: bool = True) -> None:
        """libuv's ``uv_tcp_nodelay(handle, enable)`` as Node calls it, ignoring its result:
        ``TCP_NODELAY``, and an error (the descriptor closed or replaced under the socket)
        leaves the option as it was.  asyncio enables it only on sockets whose ``proto`` is
        ``IPPROTO_TCP``; ours are made with ``proto`` 0, so it stays off unless asked."""
        t = self.transport
        if enable and not self._no_delay_off and t is not None \
                and type(t).__name__ == "TCPTransport" and type(t).__module__ == "uvloop.loop":
            return  # uvloop sets TCP_NODELAY on every TCP transport it makes (and we never
            # turned it off): no get_extra_info('socket'), no setsockopt per connection
        sock = self._tcp_socket()
        if sock is None:
            return
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1 if enable else 0)
        except OSError:
            return  # (Node ignores the error uv_tcp_nodelay returns; libuv keeps its flag)
        self._no_delay_off = not enable

    def set_keep_alive(self, enable: bool = False, delay: float = 0) -> None:
        """libuv's ``uv_tcp_keepalive(handle, enable, delay)`` as Node calls it, ignoring its
        result: ``SO_KEEPALIVE``; when enabling, ``TCP_KEEPIDLE`` = ``delay`` seconds (an
        ``unsigned int``), then ``TCP_KEEPINTVL`` = 1 and ``TCP_KEEPCNT`` = 10, stopping at the
        first option the kernel refuses (Linux refuses an idle time of 0, a negative one or one
        above 32767 s: keep-alive is then on with the previous idle time)."""
        sock = self._tcp_socket()
        if sock is None:
            return
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1 if enable else 0)
            if enable and hasattr(socket, "TCP_KEEPIDLE"):
                try:
                    idle = int(delay) & 0xFFFFFFFF
                except (ValueError, OverflowError):  # (NaN, infinities)
                    idle = 0
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle.to_bytes(4, sys.byteorder))
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 10)
        except OSError:
            pass  # (Node ignores the error uv_tcp_keepalive returns)
