"""``net.Socket``'s public calls and getters besides its stream methods (Node's
``socket.destroySoon()``, ``resetAndDestroy()``, ``setTimeout()``, ``setNoDelay()``,
``setKeepAlive()``, ``ref()``, ``unref()``, ``address()``, ``remoteAddress`` ... ``readyState``),
with the idle timer ``setTimeout`` runs.

:class:`_SocketAPI` is a mixin of ``Socket`` (``socket.py``), without state of its own
(``__slots__ = ()``; the socket's slots are declared in ``Socket``). For a shell (a raw socket
whose connection a ``TLSSocket`` took: ``_shell_of``), the options, the RST and the addresses
still reach the connection, through the handle kept in ``_closed_handle``.
"""

from __future__ import annotations

import asyncio
import math
import socket as _socket
import struct
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self

from .. import _option_table
from ..errors import node_error
from .args import js_number
from .handle import TCPHandle

if TYPE_CHECKING:
    from ..stream import Duplex
    from ..types import AddressInfo
    from ._socket_close import _ConnectWrite
    from .onread import OnRead

    class _SocketFields(Duplex):
        """``Socket`` as its mixins see it (for the type checker only: at run time the mixins
        derive from ``object``, and these are ``Socket``'s slots, class defaults and methods)."""

        connecting: bool
        _handle: Any
        _closed_handle: Any
        _bytes_read: int
        _bytes_dispatched: int
        _pending_write: _ConnectWrite | None
        _pending_write_cb: Callable[..., Any] | None
        _pending_final: Callable[..., Any] | None
        _connect_task: asyncio.Task[None] | None
        _connect_opts: dict[str, Any] | None
        _cancelled_connect: tuple[asyncio.Task[None], dict[str, Any] | None] | None
        _timeout: float
        _timeout_set: bool
        _timer: asyncio.TimerHandle | None
        _last_active: float
        _refed: bool
        _had_error: bool | None
        _pause_on_connect: bool
        _no_delay: bool | None
        _keep_alive: tuple[bool, float] | None
        _fin_received: bool
        _CONNECT_EVENT: str
        _shell_of: Any
        _onread: OnRead | None
        _server: Any
        _attempt: Any
        _dropped_pending: int

        def destroy(self, err: BaseException | None = None,
                    callback: Callable[..., Any] | None = None) -> Any: ...
        def _write_pending(self) -> None: ...
        def _final(self, callback: Callable[..., Any]) -> None: ...
        def set_timeout(self, timeout: float,
                        callback: Callable[..., Any] | None = None) -> Self: ...
        def _touch(self) -> None: ...

    _Base = _SocketFields
else:
    _Base = object

_monotonic = time.monotonic


def _whole_seconds(value: Any) -> int:
    """JavaScript's ``~~Number(value)``: truncated to a 32-bit integer; NaN, infinities and
    values that are neither numbers nor strings are 0."""
    if isinstance(value, str):
        number: float = js_number(value)
    elif isinstance(value, (int, float)):  # (bool included: 0/1, as Number(true))
        number = value
    else:
        return 0
    if not math.isfinite(number):
        return 0
    n = int(number) & 0xFFFFFFFF
    return n - (1 << 32) if n >= 1 << 31 else n


class _SocketAPI(_Base):
    """``Socket``'s public calls and getters (a mixin: no state)."""

    __slots__ = ()
    #: ``docs/gen_reference.py`` lists this class's members as ``Socket``'s own.
    _MEMBERS_OF_SUBCLASS = True

    # -- closing --------------------------------------------------------------------------------

    def destroy_soon(self) -> None:
        """Node ``socket.destroySoon()``: ``end()``, then destroy once ``'finish'`` has fired."""
        if self.writable:
            self.end()
        if self._w_finished:
            self.destroy()
        else:
            self.once("finish", self.destroy)

    def reset_and_destroy(self) -> Self:
        """Node ``socket.resetAndDestroy()``: close with a TCP RST (``SO_LINGER`` 0). Without a
        connection handle (never connected, or destroyed): ``destroy(ERR_SOCKET_CLOSED)``;
        while connecting: the reset happens on ``'connect'``. Returns the socket."""
        h = self._conn_handle()
        if h is None:
            return self.destroy(node_error("ERR_SOCKET_CLOSED"))  # type: ignore[no-any-return]
        if self.connecting:
            self.once("connect", self._reset)
            return self
        return self._reset()

    def _reset(self) -> Self:
        """Node's ``Socket.prototype._reset``: the RST (``SO_LINGER`` 0), then ``destroy()``."""
        h = self._conn_handle()
        sock = h.get_extra_info("socket") if h is not None else None
        if sock is not None and sock.fileno() >= 0:  # (-1: the transport is gone, lost after a
            # shutdown, the socket not told yet: no connection left to reset; uvloop's
            # pseudo-socket would raise ValueError at setsockopt())
            try:
                sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
            else:
                lower = h
                for _ in range(4):  # (a TLS wrap's transport handle, or one under two wraps)
                    if isinstance(lower, TCPHandle):
                        lower.resetting = True  # (its close then sends no FIN first)
                        break
                    lower = getattr(lower, "lower", None)
        shell_of = self._shell_of
        (shell_of if shell_of is not None else self)._before_reset()
        return self.destroy()  # type: ignore[no-any-return]

    def _before_reset(self) -> None:
        """Hook: :meth:`reset_and_destroy` is about to destroy this socket (or the shell of a
        TLSSocket, that TLSSocket) with an RST; a TLSSocket sends no close_notify first."""

    # -- timeouts -------------------------------------------------------------------------------

    def set_timeout(self, timeout: float, callback: Callable[..., Any] | None = None) -> Self:
        """Node ``socket.setTimeout(msecs)`` in seconds: emit ``'timeout'`` after ``timeout``
        seconds without reads or writes (the socket is not destroyed). ``0`` disables it;
        ``callback`` is a ``'timeout'`` listener (once)."""
        if self._destroyed:
            return self  # (Node: nothing, not even the checks)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise _option_table.type_error("timeout", "int or float", timeout)
        if not 0 <= timeout < float("inf"):  # (NaN too)
            raise node_error("ERR_OUT_OF_RANGE", "timeout", "a non-negative finite number",
                             timeout)
        if callback is not None and not callable(callback):
            raise _option_table.type_error("callback", "function", callback)
        self._timeout = float(timeout)
        self._timeout_set = True
        if callback is not None:
            if timeout == 0:
                self.remove_listener("timeout", callback)
            else:
                self.once("timeout", callback)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._timeout and not self._destroyed:
            self._touch()
        return self

    @property
    def timeout(self) -> float | None:
        """The idle timeout in seconds (Node ``socket.timeout``): ``None`` until
        :meth:`set_timeout` was called (``0`` after ``set_timeout(0)``)."""
        return self._timeout if self._timeout_set else None

    def _touch(self) -> None:
        self._last_active = _monotonic()
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._timeout, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if self._destroyed or not self._timeout:
            return
        tls = self._shell_of
        if tls is not None:
            self._shell_activity(tls)
        idle = _monotonic() - self._last_active
        if idle < self._timeout:
            delay = self._timeout - idle
            if tls is not None:  # (looks at its TLSSocket's traffic 8 times per timeout)
                delay = min(delay, self._timeout / 8)
            self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)
            return
        self.emit("timeout")

    _shell_seen = (0, 0)  # a shell's look at its TLSSocket's byte counts (_shell_activity)

    def _shell_activity(self, tls: Any) -> None:
        """A shell's timeout counts its TLSSocket's reads and writes as its own activity, as
        Node's ``_unrefTimer`` refreshes the timers of a socket's parents: the TLSSocket's
        byte counts moved since the last look (at most an eighth of the timeout ago) make
        that look the last activity, so ``'timeout'`` comes between one and one and an eighth
        timeouts after the TLS traffic stopped, and nothing is added to the TLSSocket's path."""
        seen = (tls._bytes_read, tls._bytes_dispatched)
        if seen != self._shell_seen:
            self._shell_seen = seen
            self._last_active = _monotonic()

    # -- options --------------------------------------------------------------------------------

    def set_no_delay(self, no_delay: bool = True) -> Self:
        """Node ``socket.setNoDelay([noDelay])``. By default a TLS socket has ``TCP_NODELAY``
        on; a net socket has what its event loop sets (uvloop: on for every TCP socket;
        asyncio: on for client sockets, off for accepted ones), where Node leaves it off."""
        self._no_delay = bool(no_delay)
        h = self._conn_handle()
        if h is not None and not self.connecting:
            h.set_no_delay(self._no_delay)
        return self

    def set_keep_alive(self, enable: bool = False, initial_delay: float = 0) -> Self:
        """Node ``socket.setKeepAlive([enable][, initialDelay])``, delay in seconds. As Node's
        ``~~(initialDelay / 1000)``, the delay is truncated to whole seconds and anything that is
        not a number (a numeric string is read as JavaScript's ``Number()`` does) counts as 0:
        never an error."""
        self._keep_alive = (bool(enable), _whole_seconds(initial_delay))
        h = self._conn_handle()
        if h is not None and not self.connecting:
            h.set_keep_alive(*self._keep_alive)
        return self

    def _conn_handle(self) -> Any:
        """The handle carrying this socket's connection: its own; for a shell (``_shell_of``),
        the handle its TLSSocket took, while neither has been destroyed."""
        tls = self._shell_of
        if tls is None:
            return self._handle
        if self._destroyed or tls._destroyed:
            return None
        return self._closed_handle

    def ref(self) -> Self:
        """Node ``socket.ref()``: keep :func:`nodetls.run` alive while open (the default)."""
        self._refed = True
        if self._handle is not None:
            self._handle.ref()
        elif self._shell_of is not None:  # (a shell: the connection is its TLSSocket's)
            self._shell_of.ref()
        return self

    def unref(self) -> Self:
        """Node ``socket.unref()``: let :func:`nodetls.run` return while this socket is open;
        as Node's requests, a connection being made and data still to send keep it alive
        until done."""
        self._refed = False
        if self._handle is not None:
            self._handle.unref()
        elif self._shell_of is not None:  # (Node: the shared handle; the TLSSocket's unref())
            self._shell_of.unref()
        return self

    # -- addresses and state --------------------------------------------------------------------

    def _addr_handle(self) -> Any:
        return self._handle if self._handle is not None else self._closed_handle

    def address(self) -> AddressInfo:
        """Node ``socket.address()``: ``{'address', 'family', 'port'}`` (``{}`` if unknown/Unix)."""
        h = self._conn_handle()
        if h is None or self.connecting or h.local_address is None:
            return {}
        return {"address": h.local_address, "family": h.local_family, "port": h.local_port}

    @property
    def remote_address(self) -> str | None:
        """Node ``socket.remoteAddress``."""
        h = self._addr_handle()
        return h.remote_address if h is not None else None

    @property
    def remote_port(self) -> int | None:
        """Node ``socket.remotePort``."""
        h = self._addr_handle()
        return h.remote_port if h is not None else None

    @property
    def remote_family(self) -> str | None:
        """Node ``socket.remoteFamily``: ``'IPv4'`` / ``'IPv6'``."""
        h = self._addr_handle()
        return h.remote_family if h is not None else None

    @property
    def local_address(self) -> str | None:
        """Node ``socket.localAddress``."""
        h = self._addr_handle()
        return h.local_address if h is not None else None

    @property
    def local_port(self) -> int | None:
        """Node ``socket.localPort``."""
        h = self._addr_handle()
        return h.local_port if h is not None else None

    @property
    def local_family(self) -> str | None:
        """Node ``socket.localFamily``."""
        h = self._addr_handle()
        return h.local_family if h is not None else None

    @property
    def bytes_read(self) -> int:
        """Node ``socket.bytesRead``: bytes received."""
        return self._bytes_read

    #: The length of the write made while connecting that a destroy dropped: Node's
    #: ``_pendingData``, which ``bytesWritten`` still counts after ``destroy()`` and
    #: ``'close'`` and a new ``connect()`` (it is cleared only by the next ``_writeGeneric``:
    #: :meth:`Socket._write`, the dropped write's own on the next ``'connect'`` included).
    _dropped_pending: int = 0

    @property
    def bytes_written(self) -> int:
        """Node ``socket.bytesWritten``: bytes handed to the handle plus those still queued,
        the write made while connecting included (also once a ``destroy()`` dropped it)."""
        n = self._bytes_dispatched + sum(len(c) for c, _ in self._w_buf)
        if self._pending_write is not None:
            n += len(self._pending_write.chunk)
        return n + self._dropped_pending

    @property
    def pending(self) -> bool:
        """Node ``socket.pending``: not connected yet (no handle, or connecting)."""
        return self._handle is None or self.connecting

    @property
    def ready_state(self) -> str:
        """Node ``socket.readyState``: ``'opening'``, ``'open'``, ``'readOnly'``,
        ``'writeOnly'`` or ``'closed'``."""
        if self.connecting:
            return "opening"
        r, w = self.readable, self.writable
        if r and w:
            return "open"
        if r:
            return "readOnly"
        if w:
            return "writeOnly"
        return "closed"
