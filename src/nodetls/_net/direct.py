"""Accepting and carrying server connections on asyncio's own selector loop (Node's uv accept).

On uvloop, accepted connections are uvloop's compiled transports. On asyncio's
``SelectorEventLoop``, ``loop.create_server`` makes each accepted connection go through a
coroutine task (``_accept_connection2``), a future, a general-purpose transport that reads
through two levels of indirection, three ``call_soon`` steps before its first read, and a second
selector removal at close. A server whose loop is a ``SelectorEventLoop`` listens here instead:

* :class:`Acceptor` watches the listening socket (``loop.add_reader``) and accepts every pending
  connection in one callback, as libuv's ``uv__server_io`` does; each one's protocol (a
  :class:`~nodetls._net.handle.TCPHandle`) gets ``connection_made`` at once, in that callback,
  as Node's ``onconnection`` runs in the poll phase, and the socket is registered for reading
  right after (so the ClientHello already queued is read on the next pass of the loop).
* :class:`SocketTransport` is the ``asyncio.Transport`` subset the handle uses, with asyncio's
  semantics (``BufferedProtocol`` reads, buffered writes with ``pause_writing``/
  ``resume_writing`` watermarks, ``write_eof``, ``close`` flushing, ``abort``,
  ``connection_lost`` one loop step after the close), reading with one call per read and
  tracking its own selector registration (no removal of a reader that is not there). Addresses
  are looked up when first asked (``peername`` comes from ``accept``); once the socket is closed
  an address never asked for is ``None``, as Node's ``localAddress`` after the handle is gone.

Accept errors are asyncio's: a connection aborted before accept is skipped; running out of
descriptors or memory (``EMFILE``, ``ENFILE``, ``ENOBUFS``, ``ENOMEM``) is logged through the
loop's exception handler and accepting pauses for a second.
"""

from __future__ import annotations

import asyncio
import errno
import selectors
import socket
from asyncio.trsock import TransportSocket
from collections.abc import Callable
from typing import Any

from .handle import _BUFFERS, RECV_BUFFER_SIZE, TCPHandle

__all__ = ["Acceptor", "SocketTransport", "is_selector_loop"]

#: How long accepting pauses after running out of descriptors (asyncio's ACCEPT_RETRY_DELAY).
ACCEPT_RETRY_DELAY = 1.0
_OUT_OF_RESOURCES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
_TCP_FAMILIES = (socket.AF_INET, socket.AF_INET6)


def is_selector_loop(loop: asyncio.AbstractEventLoop) -> bool:
    """The loop is asyncio's own selector loop (which this module drives through its reader
    and writer registrations), not uvloop or a proactor."""
    return isinstance(loop, asyncio.SelectorEventLoop) and hasattr(loop, "_add_reader")


def _plain_handle(protocol: Any) -> bool:
    """``protocol`` is a :class:`TCPHandle` reading with its class's ``get_buffer()`` and
    ``buffer_updated()`` into the shared pool's buffers (the TLS wrap's routed reads
    replace both on the instance, then calls ``set_protocol()`` again)."""
    if type(protocol) is not TCPHandle or protocol._bufsize != RECV_BUFFER_SIZE:
        return False
    # (Not by looking in the instance's __dict__: asking CPython for it gives the object a real
    # dict, and every attribute access of the handle is slower from then on.)
    return getattr(protocol.get_buffer, "__func__", None) is _GET_BUFFER and \
        getattr(protocol.buffer_updated, "__func__", None) is _BUFFER_UPDATED


_GET_BUFFER = TCPHandle.get_buffer
_BUFFER_UPDATED = TCPHandle.buffer_updated


class SocketTransport(asyncio.Transport):
    """An accepted stream socket on asyncio's selector loop (module docstring); a
    ``BufferedProtocol`` only."""

    __slots__ = ("_loop", "_sock", "_fd", "_protocol", "_buffer", "_closing", "_conn_lost",
                 "_eof", "_paused", "_reader_on", "_read_eof", "_writer_on", "_high", "_low",
                 "_protocol_paused", "_peername", "_sockname", "_tsock", "_plain", "send_error")

    def __init__(self, loop: Any, sock: socket.socket, protocol: Any, peername: Any) -> None:
        self._extra: dict[str, Any] = {}  # (asyncio.BaseTransport.__init__, without the call)
        self._loop = loop
        self._sock: socket.socket | None = sock
        self._fd = sock.fileno()
        self._protocol = protocol
        self._plain = _plain_handle(protocol)
        self._buffer = bytearray()
        self._closing = False
        self._conn_lost = 0
        self._eof = False  # write_eof() called
        self._paused = False  # pause_reading() called
        self._reader_on = False  # registered with the selector for reading
        self._read_eof = False  # the peer's EOF was read
        self._writer_on = False
        self._high = 64 * 1024
        self._low = 16 * 1024
        self._protocol_paused = False
        self._peername = peername
        self._sockname: Any = None
        self._tsock: TransportSocket | None = None
        #: The error of a send that failed within :meth:`write` (``handle.py``'s
        #: ``TCPHandle._write_failed`` reads it: Node's write fails with it in the call).
        self.send_error: BaseException | None = None

    def __repr__(self) -> str:
        state = "closed" if self._sock is None else "closing" if self._closing else "open"
        return f"<SocketTransport {state} fd={self._fd}>"

    # The socket's selector registration. With no writer registered either, the fd is not in
    # the selector at all: register it (and unregister it) the way loop._add_reader (and
    # _remove_reader) would, without their lookup of a key that is not there (two KeyErrors
    # raised and formatted); with a writer, theirs.

    def _start_reading(self) -> None:
        if not self._reader_on and not self._paused and not self._closing and not self._read_eof:
            self._reader_on = True
            loop = self._loop
            if self._writer_on:
                loop._add_reader(self._fd, self._read_ready)
            else:
                loop._check_closed()
                loop._selector.register(self._fd, selectors.EVENT_READ,
                                        (asyncio.Handle(self._read_ready, (), loop, None), None))

    def _stop_reading(self) -> None:
        if self._reader_on:
            self._reader_on = False
            loop = self._loop
            if self._writer_on:
                loop._remove_reader(self._fd)
            elif loop._selector is not None:  # (None: the loop is closed)
                reader = loop._selector.unregister(self._fd).data[0]
                if reader is not None:
                    reader.cancel()

    # -- reading --------------------------------------------------------------------------------

    def _read_ready(self) -> None:
        if self._conn_lost:
            return
        proto = self._protocol
        plain = self._plain
        if plain:
            # A TCPHandle using its class's get_buffer() and buffer_updated(): their steps
            # without the two calls (a pooled receive buffer; the owner's _on_handle_read on a
            # slice of it, or the handle's hold while reading is stopped; the buffer back).
            # (a local: Python 3.11 makes no method call of an imported name's method, so
            # _BUFFERS.pop() would be an unspecialised attribute read and bound method per read)
            buffers = _BUFFERS
            buf = buffers.pop() if buffers else memoryview(bytearray(RECV_BUFFER_SIZE))
        else:
            try:
                buf = proto.get_buffer(-1)
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:  # noqa: BLE001 - asyncio: a fatal error of the transport
                self._fatal_error(exc, "Fatal error: protocol.get_buffer() call failed.")
                return
        try:
            nbytes = self._sock.recv_into(buf)  # type: ignore[union-attr]
        except (BlockingIOError, InterruptedError):
            nbytes = -1
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:  # noqa: BLE001
            self._fatal_error(exc, "Fatal read error on socket transport")
            nbytes = -1
        if nbytes > 0:
            try:
                if not plain:
                    proto.buffer_updated(nbytes)
                elif proto._reading and proto._held is None:
                    proto.owner._on_handle_read(buf[:nbytes])
                else:
                    proto._hold(bytes(buf[:nbytes]))
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:  # noqa: BLE001
                self._fatal_error(exc, "Fatal error: protocol.buffer_updated() call failed.")
        if plain and len(buffers := _BUFFERS) < 16:
            buffers.append(buf)
        if not nbytes:
            self._on_eof(proto)

    def _on_eof(self, proto: Any) -> None:
        """The peer's EOF: stop reading; ``eof_received()`` (an exception is a fatal error of
        the transport, asyncio's rule); close unless it returns true."""
        self._read_eof = True
        self._stop_reading()
        try:
            keep_open = proto.eof_received()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:  # noqa: BLE001
            self._fatal_error(exc, "Fatal error: protocol.eof_received() call failed.")
            return
        if not keep_open:
            self.close()

    def is_reading(self) -> bool:
        return not self._closing and not self._paused

    def pause_reading(self) -> None:
        if self._closing or self._paused:
            return
        self._paused = True
        self._stop_reading()

    def resume_reading(self) -> None:
        if self._closing or not self._paused:
            return
        self._paused = False
        self._start_reading()

    # -- writing --------------------------------------------------------------------------------

    def write(self, data: Any) -> None:
        if self._eof:
            raise RuntimeError("Cannot call write() after write_eof()")
        if not data:
            return
        if self._conn_lost:
            self._conn_lost += 1
            return
        buffer = self._buffer
        if not buffer:
            try:
                n = self._sock.send(data)  # type: ignore[union-attr]
            except (BlockingIOError, InterruptedError):
                n = 0
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:  # noqa: BLE001
                self.send_error = exc
                self._fatal_error(exc, "Fatal write error on socket transport")
                return
            if n == len(data):
                return
            data = memoryview(data)[n:]
            self._writer_on = True
            self._loop._add_writer(self._fd, self._write_ready)
        buffer.extend(data)
        self._maybe_pause_protocol()

    def _write_ready(self) -> None:
        if self._conn_lost:
            return
        buffer = self._buffer
        try:
            n = self._sock.send(buffer)  # type: ignore[union-attr]
        except (BlockingIOError, InterruptedError):
            return
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:  # noqa: BLE001
            self._fatal_error(exc, "Fatal write error on socket transport")  # (drops the buffer)
            return
        if n:
            del buffer[:n]
        self._maybe_resume_protocol()  # (may write more, close or abort)
        if not buffer:
            if self._writer_on:  # (not after an abort() from resume_writing(): removed)
                self._writer_on = False
                self._loop._remove_writer(self._fd)
            if self._conn_lost:
                return  # (closed from resume_writing(): its connection_lost() is queued)
            if self._closing:
                self._conn_lost += 1
                self._call_connection_lost(None)
            elif self._eof:
                self._sock.shutdown(socket.SHUT_WR)  # type: ignore[union-attr]

    def _maybe_pause_protocol(self) -> None:
        if len(self._buffer) > self._high and not self._protocol_paused:
            self._protocol_paused = True
            self._tell_protocol("pause_writing")

    def _maybe_resume_protocol(self) -> None:
        if self._protocol_paused and len(self._buffer) <= self._low:
            self._protocol_paused = False
            self._tell_protocol("resume_writing")

    def _tell_protocol(self, name: str) -> None:
        # (asyncio's rule for the flow-control calls: a failure is reported, not fatal)
        try:
            getattr(self._protocol, name)()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:  # noqa: BLE001
            self._loop.call_exception_handler({
                "message": f"protocol.{name}() failed", "exception": exc,
                "transport": self, "protocol": self._protocol})

    def get_write_buffer_size(self) -> int:
        return len(self._buffer)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return (self._low, self._high)

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        if high is None:
            high = 64 * 1024 if low is None else 4 * low
        if low is None:
            low = high // 4
        if not high >= low >= 0:
            raise ValueError(f"high ({high!r}) must be >= low ({low!r}) must be >= 0")
        self._high = high
        self._low = low
        self._maybe_pause_protocol()

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        if self._closing or self._eof:
            return
        self._eof = True
        if not self._buffer:
            self._sock.shutdown(socket.SHUT_WR)  # type: ignore[union-attr]

    # -- closing --------------------------------------------------------------------------------

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._stop_reading()
        if not self._buffer:
            self._conn_lost += 1
            self._loop.call_soon(self._call_connection_lost, None)

    def abort(self) -> None:
        self._force_close(None)

    def _fatal_error(self, exc: BaseException, message: str) -> None:
        if not isinstance(exc, OSError):
            self._loop.call_exception_handler({
                "message": message, "exception": exc, "transport": self,
                "protocol": self._protocol})
        self._force_close(exc)

    def _force_close(self, exc: BaseException | None) -> None:
        if self._conn_lost:
            return
        if self._buffer:
            self._buffer.clear()
        if self._writer_on:
            self._writer_on = False
            self._loop._remove_writer(self._fd)
        if not self._closing:
            self._closing = True
            self._stop_reading()
        self._conn_lost += 1
        self._loop.call_soon(self._call_connection_lost, exc)

    def _call_connection_lost(self, exc: BaseException | None) -> None:
        protocol = self._protocol
        self._protocol = None  # (no transport <-> protocol cycle outlives the connection)
        try:
            protocol.connection_lost(exc)
        finally:
            sock, self._sock = self._sock, None
            if sock is not None:
                sock.close()
            self._loop = None

    # -- the rest of asyncio.Transport ----------------------------------------------------------

    def get_protocol(self) -> Any:
        return self._protocol

    def set_protocol(self, protocol: Any) -> None:
        self._protocol = protocol
        self._plain = _plain_handle(protocol)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peername":
            value = self._peername
        elif name == "sockname":
            value = self._sockname
            if value is None and self._sock is not None:
                try:
                    value = self._sockname = self._sock.getsockname()
                except OSError:
                    value = None
        elif name == "socket":
            value = self._tsock
            if value is None and self._sock is not None:
                value = self._tsock = TransportSocket(self._sock)
        else:
            value = self._extra.get(name)
        return default if value is None else value


class Acceptor:
    """Accepts connections on a listening socket for ``protocol_factory`` (module docstring);
    ``close()`` stops and closes the listening socket (``asyncio.Server.close``)."""

    def __init__(self, loop: Any, sock: socket.socket,
                 protocol_factory: Callable[[], Any], backlog: int) -> None:
        self._loop = loop
        self._sock: socket.socket | None = sock
        self._fd = sock.fileno()
        self._factory = protocol_factory
        self._backlog = max(1, backlog)
        # asyncio's transports set TCP_NODELAY on a TCP socket made with IPPROTO_TCP (the
        # accepted one inherits the listening socket's proto): this one does the same.
        self._nodelay = sock.family in _TCP_FAMILIES and sock.proto == socket.IPPROTO_TCP
        # What socket.accept() builds the accepted socket from, read once (its ``family`` and
        # ``type`` properties convert to enums on every call).
        self._kind = (int(sock.family), int(sock.type), sock.proto)
        self._retry: asyncio.TimerHandle | None = None
        loop._add_reader(self._fd, self._accept_ready)

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is None:
            return
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        else:
            self._loop._remove_reader(self._fd)
        sock.close()

    def _resume(self) -> None:
        self._retry = None
        if self._sock is not None:
            self._loop._add_reader(self._fd, self._accept_ready)

    def _accept_ready(self) -> None:
        lsock = self._sock
        loop = self._loop
        for _ in range(self._backlog):
            if lsock is None or lsock is not self._sock:
                return  # closed (by a callback of the previous connection)
            try:
                fd, addr = lsock._accept()  # type: ignore[attr-defined]
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            except OSError as exc:
                if exc.errno not in _OUT_OF_RESOURCES:
                    raise
                loop.call_exception_handler({
                    "message": "socket.accept() out of system resource", "exception": exc,
                    "socket": TransportSocket(lsock)})
                loop._remove_reader(self._fd)
                self._retry = loop.call_later(ACCEPT_RETRY_DELAY, self._resume)
                return
            conn = socket.socket(*self._kind, fileno=fd)
            conn.setblocking(False)
            if self._nodelay:
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            protocol = self._factory()
            transport = SocketTransport(loop, conn, protocol, addr)
            try:
                protocol.connection_made(transport)
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:  # noqa: BLE001 - as asyncio's callback would report it
                loop.call_exception_handler({
                    "message": "protocol.connection_made() failed", "exception": exc,
                    "transport": transport, "protocol": protocol})
                transport.abort()
                continue
            transport._start_reading()
