"""Existing descriptors in ``net``: ``Socket({'fd': n})``, ``server.listen({'fd': n})`` and
``server.listen(handle)`` (Node's ``createHandle``, ``guessHandleType`` and the descriptor
branch of ``createServerHandle``, ``lib/net.js``).

What a descriptor is, as libuv's ``uv_guess_handle`` says (:func:`guess_handle_type`):
``'TCP'`` (an IPv4/IPv6 stream socket), ``'PIPE'`` (a Unix stream socket, or a FIFO/pipe),
``'UDP'``, ``'TTY'``, ``'FILE'`` (a regular file or a character device) or ``'UNKNOWN'`` (a
closed descriptor, another kind of socket). ``Socket({'fd': n})`` takes a ``'TCP'`` or
``'PIPE'`` one: a socket through the loop's transport (:class:`FdHandle`), a pipe or FIFO
through ``pipe_handle.py``'s ``PipeHandle``.

Ownership, as Node's: a descriptor given as a number (``{'fd': n}``, an object whose ``fd`` is
``n``) is the socket's or server's from then on, closed when it closes (and when ``listen()``
fails after taking it: a connected socket, a pipe). A Python object with ``fileno()`` (a
``socket.socket``) keeps its own descriptor: the server listens on a duplicate, so either side
may close its copy whenever it likes; likewise for a connected ``net.Socket`` given as the
handle. A listening ``net.Server`` given as the handle is listened on through a duplicate too,
but as Node shares the very handle, the first server's connections go to the second from then
on and closing either closes both (``_net/shared.py``).
"""

from __future__ import annotations

import asyncio
import errno as _errno
import math
import os
import socket
import stat
from collections.abc import Callable, Mapping
from typing import Any

from .._option_table import number, type_error
from ..errors import NodeTypeError, system_error
from .handle import _NEW, _OPEN, TCPHandle
from .handle_parts import _wrap_error
from .pipe_handle import PipeHandle

__all__ = ["guess_handle_type", "validate_fd", "open_fd_handle", "listen_descriptor",
           "listen_on_fd", "listen_fd_error"]

_INT32_FD = number(0, integer=True, maximum=2**31 - 1)


def guess_handle_type(fd: int) -> str:
    """libuv's ``uv_guess_handle`` under Node's names (Node's ``guessHandleType``)."""
    try:
        mode = os.fstat(fd).st_mode
    except (OSError, OverflowError, ValueError):
        return "UNKNOWN"
    if os.isatty(fd):
        return "TTY"
    if stat.S_ISREG(mode) or stat.S_ISCHR(mode):
        return "FILE"
    if stat.S_ISFIFO(mode):
        return "PIPE"
    if not stat.S_ISSOCK(mode):
        return "UNKNOWN"
    try:
        probe = socket.socket(fileno=fd)  # (reads the family and type; detached below)
    except OSError:
        return "UNKNOWN"
    try:
        family, kind = probe.family, probe.type
    finally:
        probe.detach()
    inet = family in (socket.AF_INET, socket.AF_INET6)
    if kind == socket.SOCK_DGRAM and inet:
        return "UDP"
    if kind == socket.SOCK_STREAM:
        if inet:
            return "TCP"
        if family == socket.AF_UNIX:
            return "PIPE"
    return "UNKNOWN"


def validate_fd(value: Any) -> int:
    """Node's ``validateInt32(fd, 'fd', 0)``: not a number is ``ERR_INVALID_ARG_TYPE`` ('The
    "fd" argument must be of type number'), a negative, too large or fractional one
    ``ERR_OUT_OF_RANGE``. Returns the descriptor as an ``int``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise type_error("fd", "number", value)
    return int(_INT32_FD(value, "fd"))


def _fd_type_error(kind: str) -> NodeTypeError:
    return NodeTypeError(f"Unsupported fd type: {kind}", "ERR_INVALID_FD_TYPE")


class FdHandle(TCPHandle):
    """A :class:`TCPHandle` over a connected socket given by its descriptor: usable from the
    start, as Node's handle is once ``open(fd)`` returns. The loop's transport comes a step
    later (``loop.connect_accepted_socket``); meanwhile writes and a shutdown are kept and
    handed to it in order, and the addresses are the socket's own."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(None, False)
        self._fd_sock: socket.socket | None = sock
        self._early: list[bytes] | None = []
        self._early_shutdown: tuple[Callable[[], None] | None] | None = None
        self._adopt_task: asyncio.Task[None] | None = None  # (set until the task starts)
        try:
            self._sockname = sock.getsockname()
            self._peer = sock.getpeername()
        except OSError:
            pass

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._fd_sock = None
        early, self._early = self._early, None
        super().connection_made(transport)
        if self._state == _OPEN:  # (not closed meanwhile)
            for data in early or ():
                TCPHandle.write(self, data)
            shut, self._early_shutdown = self._early_shutdown, None
            if shut is not None:
                TCPHandle.shutdown(self, shut[0])

    def write(self, data: bytes | bytearray | memoryview) -> bool:
        early = self._early
        if early is not None and self._state == _NEW:
            early.append(bytes(data))
            return True
        return TCPHandle.write(self, data)

    def shutdown(self, callback: Callable[[], None] | None = None) -> None:
        if self._early is not None and self._state == _NEW:
            if self._early_shutdown is None:
                self._early_shutdown = (callback,)
            elif callback is not None:
                callback()
            return
        TCPHandle.shutdown(self, callback)

    def get_write_buffer_size(self) -> int:
        early = self._early
        if early is not None and self._state == _NEW:
            return sum(map(len, early))
        return TCPHandle.get_write_buffer_size(self)

    def close(self) -> None:
        task, sock = self._adopt_task, self._fd_sock
        if task is not None and sock is not None and self._state == _NEW:
            # Closed before the loop took the socket: closed now, as Node's uv_close closes
            # the descriptor, before 'close' is emitted.
            self._adopt_task = self._fd_sock = None
            task.cancel()
            sock.close()
        TCPHandle.close(self)

    def _tcp_socket(self) -> Any:
        sock = self._fd_sock
        if sock is not None and self.transport is None:
            return sock if sock.family in (socket.AF_INET, socket.AF_INET6) else None
        return TCPHandle._tcp_socket(self)


async def _adopt(handle: FdHandle, sock: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    handle._adopt_task = None  # (started: the loop's transport owns the socket from here)
    try:
        await loop.connect_accepted_socket(lambda: handle, sock)
    except BaseException as exc:
        sock.close()
        if isinstance(exc, OSError):
            handle.owner._on_handle_error(_wrap_error(exc))
        raise


def open_fd_handle(value: Any) -> FdHandle | PipeHandle:
    """``Socket({'fd': n})``'s handle (Node's ``createHandle(fd, false)`` and ``open(fd)``), the
    socket's from now on: a TCP or Unix stream socket (:class:`FdHandle`), or a pipe or FIFO
    (:class:`~nodetls._net.pipe_handle.PipeHandle`, Node's Pipe handle). Anything else is
    Node's ``ERR_INVALID_FD_TYPE`` ("Unsupported fd type: FILE")."""
    fd = validate_fd(value)
    kind = guess_handle_type(fd)
    if kind == "PIPE" and not stat.S_ISSOCK(os.fstat(fd).st_mode):
        if os.name != "posix":
            raise _fd_type_error(kind)  # (Unix only: a Windows pipe is not one for a selector)
        return PipeHandle(fd)
    if kind != "TCP" and kind != "PIPE":
        raise _fd_type_error(kind)
    loop = asyncio.get_running_loop()  # (first: a socket object made would own the fd)
    sock = socket.socket(fileno=fd)
    sock.setblocking(False)
    handle = FdHandle(sock)
    task = handle._adopt_task = loop.create_task(_adopt(handle, sock))
    task.add_done_callback(_retrieve)
    return handle


def _retrieve(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()  # (reported to the socket already)


# -- listening ------------------------------------------------------------------------------------

#: ``listen_descriptor``'s answer: the descriptor, and whether the server owns it (else it
#: listens on a duplicate).
Descriptor = tuple[int, bool]


def _as_fd(value: Any) -> int | float | None:
    """A descriptor number as Node's ``typeof fd === 'number' && fd >= 0`` takes it (a
    fractional one too: it fails later, EINVAL), else ``None``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not (math.isfinite(value) and value >= 0):
        return None
    return value if value >= 0 else None


def _handle_socket(obj: Any) -> socket.socket | None:
    """The listening socket of a ``net.Server``, or the socket under a ``net.Socket``'s handle."""
    sock = getattr(obj, "_sock", None)
    if isinstance(sock, socket.socket):
        return sock
    handle = getattr(obj, "_handle", None)
    if handle is not None:
        fd_sock = getattr(handle, "_fd_sock", None)
        if isinstance(fd_sock, socket.socket):
            return fd_sock
        get = getattr(handle, "get_extra_info", None)
        tsock = get("socket") if callable(get) else None
        if tsock is not None:
            return tsock  # type: ignore[no-any-return]
    return None


def listen_descriptor(options: Mapping[str, Any]) -> Descriptor | float | None:
    """Node's ``listen()`` rule ``options = options._handle || options.handle || options`` and
    then ``options.fd``: the descriptor to listen on and whether it is the server's, ``None``
    for the port and path rules. (A fractional number: returned as it is, for Node's EINVAL.)

    A handle is a ``net.Server`` (listening), a ``net.Socket`` (with its handle), an object
    with ``fileno()`` (a ``socket.socket``): listened on through a duplicate of its descriptor;
    or a dict or object whose ``fd`` is the descriptor, the server's from then on."""
    handle = options.get("handle")
    target: Any = options if handle is None else handle
    if not isinstance(target, Mapping):
        sock = _handle_socket(target)
        if sock is not None:
            return (sock.fileno(), False)
        fileno = getattr(target, "fileno", None)
        if callable(fileno):
            return (int(fileno()), False)
        fd = _as_fd(getattr(target, "fd", None))
    else:
        fd = _as_fd(target.get("fd"))
    if fd is None:
        return None
    if isinstance(fd, float) and not fd.is_integer():
        return fd
    return (int(fd), True)


def listen_fd_error(exc: OSError) -> Exception:
    """Node's ``listen`` error for a descriptor: ``listen EINVAL: invalid argument`` (``code``,
    ``errno``, ``syscall``, ``address`` ``None``), no address or port in the message."""
    num = exc.errno or _errno.EINVAL
    code = _errno.errorcode.get(num, "EINVAL")
    err = system_error(code, f"listen {code}: {os.strerror(num).lower()}", errno=num,
                       syscall="listen", address=None)
    err.__cause__ = exc
    return err


def _einval() -> OSError:
    return OSError(_errno.EINVAL, os.strerror(_errno.EINVAL))


def listen_on_fd(target: Descriptor | float, backlog: int, no_delay: bool) -> socket.socket:
    """Listen on a descriptor (Node's ``createServerHandle(..., fd)`` and ``handle.listen``):
    the listening socket, or ``OSError`` as Node reports it: ``EINVAL`` for what is not a TCP
    or Unix stream socket (a file, a TTY, a UDP socket, a closed descriptor: left as it is), the
    ``listen()`` error itself for a socket that cannot listen (connected: ``EINVAL``; a pipe:
    ``ENOTSOCK``), the descriptor then closed (if the server's), as Node closes its handle.

    ``no_delay``: the socket is made with ``proto=IPPROTO_TCP`` (see ``server._bind_tcp``)."""
    if isinstance(target, float):
        raise _einval()
    fd, owned = target
    kind = guess_handle_type(fd)
    if kind not in ("TCP", "PIPE"):
        raise _einval()
    if not owned:
        fd = os.dup(fd)
    if not stat.S_ISSOCK(os.fstat(fd).st_mode):  # a pipe: Node's Pipe handle, listen() fails
        os.close(fd)
        raise OSError(_errno.ENOTSOCK, os.strerror(_errno.ENOTSOCK))
    tcp = kind == "TCP"
    sock = socket.socket(fileno=fd)
    if tcp and sock.proto != (socket.IPPROTO_TCP if no_delay else 0):
        family, kind_ = sock.family, sock.type
        sock.detach()
        sock = socket.socket(family, kind_, socket.IPPROTO_TCP if no_delay else 0, fileno=fd)
    try:
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock
