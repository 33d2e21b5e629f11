""":class:`~nodetls._net.handle.TCPHandle`'s reads of a connection the peer has reset (or both
sides have ended) with data still queued in the kernel: that data, then the end of the stream,
as Node's handle reads it.

libuv reads a socket in the poll that reports it readable; a read shorter than its buffer
with ``POLLHUP`` in the same poll (the connection reset, or shut down both ways) is followed
at once by EOF (``uv__stream_io``): a Node socket reads the peer's last data, then ``'end'``,
and never hears the reset. asyncio's and uvloop's transports read again and report the reset
(``ECONNRESET``) after the data. Telling the two apart on every read would take a system call
per read (docs/net.md: the accepted difference of a socket that reads the data and the reset
in one poll); two moments where the handle knows what Node's next read finds are rare, and
checked here:

* :meth:`_HangupMixin._hangup_at_start`: reading starts again (``read_start()``: a
  ``resume()``, a server's ``pause_on_connect`` socket) while the connection is hung up and
  data is queued (or held: uvloop reads ahead): Node's first poll reads the data in a short
  read with ``POLLHUP``, so data, then EOF. The queued bytes are read here, exactly as many as
  queued (a receive does not consume the pending error, which a later write still meets), and
  the transport does not read again.
* :meth:`_HangupMixin._hangup_at_shutdown`: the half-close itself fails with ``ENOTCONN``
  (asyncio's ``write_eof()``: the peer reset the connection before it): the same, the queued
  bytes then EOF, delivered after the shutdown's completion.
* :meth:`_HangupMixin._hangup_at_loss`: the transport is lost after a shutdown was asked
  (``end()``): uvloop's ``uv_shutdown`` failed with ``ENOTCONN``, or the send of the TLS
  wrap's close_notify (which the wrap writes to the transport itself and whose failure
  Node's TLSWrap ignores) failed with the reset. Node's shutdown completes regardless
  (``afterShutdown`` ignores the status) and its handle stays open: its next read gets the
  queued data, then EOF (``POLLHUP``; or a plain EOF: the failed send consumed the reset, or
  the peer's FIN came before its reset, which a receive reports first). The queued bytes are
  read before the transport closes the socket, and the handle delivers them, then EOF, when
  its owner reads (no error: its close is reported on ``close()``). With nothing queued, no
  FIN and no failed send, the reset is reported, as Node's read reports it.

The EOF needs a short read: a read that fills libuv's buffer (the data queued a multiple of
its 64 KiB, :data:`HUP_READ_SIZE`) is followed by another, which gets what comes next in the
kernel, the reset (``'error'`` ``ECONNRESET``) or the peer's FIN. There the first two checks take
the data without an EOF, and the transport, resumed once the data is delivered, reads what
follows (:meth:`_HangupMixin._fills_last_read`; the differential case
``shutdown_fails_after_peer_reset_full_read_resets``).
The third (the transport gone: nothing reads on) still takes an EOF after such data.

The EOF after the data is ``uv__stream_io``'s, which reports it only to a handle still reading
once the short read's callback has returned: a callback that stops reading (the socket's
``push()`` reached the high-water mark while paused) leaves the reset in the kernel for the
next read, at ``read_start()``. So the EOF taken here is a hang-up's
(:attr:`_HangupMixin._hup_eof`), and the transport stops reading as it is taken (it must not
read the reset meanwhile); delivered with the owner no longer reading after the data, it is
dropped (:meth:`_HangupMixin._drop_hup_eof`) and the next ``read_start()`` reads on: the
transport's read reports the reset (or an end of stream: the peer's FIN came first), or, the
transport lost meanwhile, the handle reports the reset (seen by ``hup_stop_paused_resets``).
"""

from __future__ import annotations

import array
import asyncio
import errno
import os
import select
import socket
from collections import deque
from typing import TYPE_CHECKING, Any

from .handle_parts import _OPEN, _wrap_error

try:  # (Unix)
    import termios
    from fcntl import ioctl
    _FIONREAD: int = termios.FIONREAD
except ImportError:  # pragma: no cover - Windows: the checks find nothing
    ioctl = None  # type: ignore[assignment]
    _FIONREAD = 0

__all__ = ["_HangupMixin", "hung_up", "peer_ended", "read_queued"]

_POLLHUP = getattr(select, "POLLHUP", 0)
_PEEK = socket.MSG_PEEK | getattr(socket, "MSG_DONTWAIT", 0)  # (the sockets are non-blocking)


def hung_up(fd: int) -> bool:
    """The socket ``fd`` reports ``POLLHUP`` now (reset, or shut down both ways)."""
    if not _POLLHUP:  # pragma: no cover - no poll() (Windows)
        return False
    p = select.poll()
    p.register(fd, 0)  # (POLLHUP is reported whatever is asked)
    try:
        return any(ev & _POLLHUP for _fd, ev in p.poll(0))
    except OSError:
        return False


def _queued(fd: int) -> int:
    buf = array.array("i", [0])
    try:
        ioctl(fd, _FIONREAD, buf, True)
    except (OSError, TypeError):  # (no ioctl: TypeError on None)
        return 0
    return buf[0]


def peer_ended(fd: int) -> bool:
    """The socket ``fd``'s next receive returns the end of the stream: the peer's FIN was
    received (before its reset, if one came: Linux's receive reports the FIN first). A receive
    that peeks at it, so nothing is consumed but a pending error."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0, fd)
    try:
        return sock.recv(1, _PEEK) == b""
    except OSError:  # (the reset, or nothing there yet: EAGAIN)
        return False
    finally:
        sock.detach()


#: libuv's read size: the queued bytes are taken in reads of this size, the last one short
#: (its callback, stopping the handle or not, decides the EOF: the module docstring).
HUP_READ_SIZE = 64 * 1024


def read_queued(fd: int) -> list[bytes]:
    """The bytes queued in the socket ``fd``'s receive buffer, read without reading past them
    (the connection's pending error, if any, is left for the next operation), in reads of
    :data:`HUP_READ_SIZE`."""
    chunks: list[bytes] = []
    n = _queued(fd)
    while n > 0:
        try:
            data = os.read(fd, min(n, HUP_READ_SIZE))
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
        n = _queued(fd)
    return chunks


class _HangupMixin:
    """The two checks of the module docstring (state: the handle's, ``TCPHandle.__init__``)."""

    owner: Any
    transport: asyncio.Transport | None
    _reading: bool
    _eof: bool
    _shut: bool
    _shut_queued: bool
    _shut_hold: bool
    _completing: bool
    _held: deque[bytes] | None
    _held_eof: bool
    _reg: Any
    #: The transport was lost with the data and EOF taken (:meth:`_hangup_at_loss`): the
    #: handle reports no error, its close on ``close()``.
    _hup_lost = False
    #: The held EOF is a hang-up's (:meth:`_take_queued`): reported only if the owner still
    #: reads once the data before it is delivered (module docstring).
    _hup_eof = False
    #: A hang-up's EOF was dropped while the transport was open (:meth:`_drop_hup_eof`):
    #: until ``read_start()``, a loss of the transport is the reset Node's next read meets.
    _hup_dropped = False
    _state: int
    _read_error: BaseException | None

    if TYPE_CHECKING:  # (TCPHandle's; not defined here: _AddressMixin follows in the MRO)
        def _extra(self, name: str) -> Any: ...
        def _check_ended(self) -> None: ...
        def _deliver_held(self) -> None: ...
        def _stop_loop_reading(self) -> None: ...

    def _fileno(self) -> int:
        sock = self._extra("socket")
        try:
            return int(sock.fileno()) if sock is not None else -1
        except (OSError, ValueError):
            return -1

    def _fills_last_read(self, fd: int) -> bool:
        """What Node's handle would read now (the queued bytes, and those held: Node's are
        still in the kernel) ends with a full read of :data:`HUP_READ_SIZE`: libuv reads
        again, and that read, not ``POLLHUP``, tells what follows (module docstring)."""
        total = _queued(fd) + sum(len(b) for b in self._held or ())
        return total > 0 and total % HUP_READ_SIZE == 0

    def _take_queued(self, fd: int, eof: bool = True) -> None:
        """Read what is queued into the held data, then the held EOF: the owner gets them in
        order when it reads (``_deliver_held``); the transport is not read again. Without
        ``eof`` (the last read full, :meth:`_fills_last_read`), the data only: once it is
        delivered, reading on, the transport's read gets what follows (the reset, or the
        peer's FIN), as libuv's next read."""
        held = self._held
        if held is None:
            held = self._held = deque()
        held.extend(read_queued(fd))
        if not eof:
            self._pause_transport()  # (resumed by _deliver_held once the data is delivered)
            return
        self._held_eof = True
        self._eof = True
        self._hup_eof = bool(held)
        self._pause_transport()  # (Node's handle reads nothing more in that poll: the reset
        # stays in the kernel for the read that follows, if the EOF is dropped)

    def _drop_hup_eof(self) -> None:
        """The owner stopped reading while the data taken before a hang-up's EOF was delivered
        (Node: its read callback stopped the handle, so ``uv__stream_io`` reports no EOF):
        the EOF is dropped and the next ``read_start()`` reads again -- the transport's read
        gets the reset (or the end of the stream), or, the transport gone
        (:meth:`_hangup_at_loss`: a reset), the handle reports ``ECONNRESET`` then
        (``_report_read_error``)."""
        self._held = None
        self._held_eof = self._hup_eof = self._hup_lost = False
        self._eof = False
        if self._state != _OPEN:
            self._read_error = _reset_error()
        else:
            self._hup_dropped = True
            self._pause_transport()

    def _pause_transport(self) -> None:
        """The transport reads nothing until ``read_start()`` reads again: paused now, and
        again on the next loop step (uvloop starts reading once ``connection_made()`` has
        returned, which a ``read_start()`` within it comes before)."""
        t = self.transport
        if t is None:
            return
        if t.is_reading():
            t.pause_reading()
        reg = self._reg
        (reg.loop if reg is not None else _running_loop()).call_soon(self._stop_loop_reading)

    def _hangup_at_start(self) -> bool:
        """``read_start()`` on a hung-up connection with data queued or held: take it, then
        EOF (module docstring). ``True`` when done (the transport stays paused)."""
        self._hup_dropped = False  # (the transport's read reports what comes next)
        fd = self._fileno()
        if fd < 0 or not hung_up(fd):
            return False
        if not self._held and _queued(fd) <= 0:
            return False  # (nothing queued: the transport's read reports the reset or EOF)
        self._take_queued(fd, not self._fills_last_read(fd))
        if self._shut_queued:
            self._shut_hold = True  # (delivered once the queued shutdown has completed)
        if self._shut and self._reg is not None:
            self._check_ended()
        return True

    def _hangup_at_shutdown(self, completes: bool) -> None:
        """The half-close failed with ``ENOTCONN`` (the peer reset the connection) before the
        peer's EOF: Node's shutdown completes regardless and its next read gets what is queued,
        then EOF. Held for the owner here (``completes``: the shutdown's completion delivers
        it, :meth:`_shutdown_done`; else the next loop step, when reading)."""
        if self._eof:
            return
        fd = self._fileno()
        if fd < 0 or _queued(fd) <= 0:
            return  # (nothing queued: the transport's read reports the reset)
        if self._fills_last_read(fd):
            self._take_queued(fd, False)  # (then the transport's read: the reset)
        else:
            self._take_queued(fd)
            self._hup_lost = True
        if not completes and self._reading:
            reg = self._reg
            (reg.loop if reg is not None else _running_loop()).call_soon(self._deliver_held)

    def _hangup_at_loss(self, exc: BaseException, send_lost: bool) -> None:
        """``connection_lost(exc)`` after a shutdown was asked, before the peer's EOF was read,
        with no write of the owner's failing: when data is queued, the peer's FIN is (the
        shutdown failed with ``ENOTCONN``, the FIN came before the reset: Node's next read
        gets EOF, :func:`peer_ended`), or the transport was lost by a send the owner does not
        hear of (``send_lost``), the data and EOF are held for the owner, who hears no error
        (module docstring). Called while the socket is still open."""
        fd = self._fileno()
        if fd < 0 or not (send_lost or _queued(fd) > 0
                          or getattr(exc, "errno", None) == errno.ENOTCONN and peer_ended(fd)):
            return  # (ENOTCONN: the shutdown failed; a read that got the reset consumed it,
            # and a receive then reports an end of stream whether or not a FIN came)
        ended = send_lost or peer_ended(fd)  # (after the data: the FIN, or a reset -- the
        # socket is closing, so the peek may consume the reset)
        self._take_queued(fd)
        if ended:
            self._hup_eof = False  # (Node's next read gets the EOF in any case)
        self._hup_lost = True
        if self._shut_queued:
            self._shut_hold = True  # (delivered once the queued shutdown has completed)
        elif not self._completing and not self._shut_hold and self._reading:
            reg = self._reg
            (reg.loop if reg is not None else _running_loop()).call_soon(self._deliver_held)


def _reset_error() -> BaseException:
    return _wrap_error(ConnectionResetError(errno.ECONNRESET, os.strerror(errno.ECONNRESET)))


def _running_loop() -> Any:
    return asyncio.get_running_loop()
