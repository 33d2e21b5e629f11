"""``TLSTransport``: an ``asyncio.Transport`` over a connected :class:`~nodetls.TLSSocket`.

Theory of operation
-------------------
The TLS work (handshake, verification, SNI, sessions, tickets, OCSP, renegotiation, keylog) stays
in the Node-style ``TLSSocket`` and its ``TLSWrap`` handle (``docs/DESIGN.md``, "The handle
seam"). Once the handshake is done, ``_open`` (the transport's making) points four methods of that seam
to this transport (the one place that couples to it; ``_lean.py``'s ``_seam_*``, which a
``BridgeSocket`` has as its class's methods and any other socket gets as instance attributes,
with ``sock._aio`` the transport): ``_on_handle_read`` (plaintext from the wrap), ``_on_handle_eof`` (the peer's
close_notify or FIN), ``_on_handle_drain`` (the wrap's and the TCP buffer drained) and
``_on_handle_close`` (the connection is gone: the socket's own close runs first, then
``connection_lost`` with the error the socket was destroyed with). Nothing else of the socket
changes: every Node-style event keeps firing on it (``get_extra_info('tls_socket')``), and the
transport adds no listener but a plain function on ``'error'`` (so that an error is not
reported as unhandled: it goes to ``connection_lost``).

The data path therefore has no layer of its own: ``write()`` is ``TLSWrap.write()`` (encrypt,
hand the ciphertext to the TCP transport), and a read is one call from the wrap's pump to
``protocol.data_received()`` with one ``bytes`` per batch of records (the one copy out of the
engine's read buffer that the Node-style socket's ``'data'`` also makes; none when the wrap hands
over a whole ``bytes``). Over TCP the reads are the wrap's route (``TLSWrap.route_reads``, a
client's and every accepted connection's): the TCP handle's read goes to the compiled wrap, whose
engine decrypts it and hands the plaintext as ``bytes`` to ``data_received`` (through the seam's
read), anything that is not plaintext alone going the layered way. ``write()`` is one call of
the compiled ``TLSWrap.write``. A ``BufferedProtocol`` gets no copy at all: the transport sets itself
as the wrap's ``buffered_reader`` (``_lean._BufferedReader``), and the wrap's pump has OpenSSL
decrypt straight into the buffer ``get_buffer()`` returned (``TLSEngine.read_into``), then calls
``buffer_updated(n)``; a buffer smaller than a record is filled again from what OpenSSL kept,
and ``pause_reading()`` stops the pump between two buffers. No task and no future is created
per record.

Flow control is asyncio's, both ways: ``pause_reading()`` stops delivering plaintext but the
TCP socket is still read, as asyncio's and uvloop's SSL transports do (``TLSWrap.read_hold``:
the ciphertext stays in the engine, not decrypted, up to the read high-water mark, 256 KiB, then
the TCP reads stop: the kernel buffer fills and the peer slows down), so the peer's reset ends
the connection at once and its close_notify is there for ``close()``; ``protocol.pause_writing()`` is called
when ``get_write_buffer_size()`` reaches the high-water mark and ``resume_writing()`` once it is
at or below the low-water mark. That size is what asyncio's SSL transport counts: the plaintext
the wrap holds (before the handshake, behind a renegotiation) and the ciphertext written while
the TCP transport is above its own high-water mark (64 KiB; asyncio's SSL layer then keeps it
in its outgoing BIO until the TCP transport drains to 16 KiB), never the TCP transport's buffer
itself: a write into a TCP transport under 64 KiB counts for nothing, however large. Here every
byte goes to the TCP transport at once; ``_tcp_full`` and ``_held`` keep that count (writes
made while ``_tcp_full`` take ``_write_held``, off the data path).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from types import MethodType
from typing import TYPE_CHECKING, Any

from .._net.handle import TCPHandle
from .._openssl import lib
from ._lean import (
    BridgeSocket,
    _BufferedReader,
    _seam_close,
    _seam_drain,
    _seam_eof,
    _seam_quiet,
    _seam_read,
)
from ._transport_flow import HIGH, LOW, READ_HIGH, READ_LOW, WriteFlow
from ._transport_flow import limits as _limits
from ._transport_info import ExtraInfo

if TYPE_CHECKING:
    from .._tls import TLSSocket

__all__ = ["TLSTransport"]

logger = logging.getLogger("nodetls.aio")

#: asyncio logs after this many writes to a closed transport (``LOG_THRESHOLD_FOR_CONNLOST_WRITES``).
_CONNLOST_WARN = 5
#: How long ``close()`` waits for the peer's close_notify (asyncio's ``ssl_shutdown_timeout``
#: default, ``constants.SSL_SHUTDOWN_TIMEOUT``; uvloop's too).
SHUTDOWN_TIMEOUT = 30.0


_current_cipher = lib.SSL_get_current_cipher
_new = object.__new__
_BufferedProtocol = asyncio.BufferedProtocol


def _error_seen(err: BaseException) -> None:
    """The transport's ``'error'`` listener: the error reaches ``connection_lost()`` (from the
    socket's ``errored``), as asyncio reports it; listening keeps the socket from reporting it
    as unhandled. A plain function: no reference from the socket back to the transport."""


#: A socket's table of ``'error'`` listeners when the transport's is the only one (a table is
#: replaced, never changed in place: one for every connection).
_ERROR_SEEN = (_error_seen,)


class TLSTransport(ExtraInfo, WriteFlow, asyncio.Transport):
    """asyncio's Transport over a secure ``TLSSocket``; serves ``asyncio.Protocol`` and
    ``asyncio.BufferedProtocol``. ``write_eof()`` is TLS half-close (close_notify, then FIN),
    ``close()`` flushes pending data, sends close_notify and closes, ``abort()`` closes now."""

    __slots__ = ("_loop", "_sock", "_protocol", "_buffered", "_data_received", "_on_lost",
                 "_closing", "_eof_written", "_lost", "_conn_lost_writes", "_paused_reading",
                 "_protocol_paused", "_high", "_low", "_error", "_handle",
                 "_cipher", "_eng", "_write", "_eof_seen", "_shutdown_timeout",
                 "_shutdown_timer", "_tcp_full", "_held", "_peer_x509", "_read_high",
                 "_read_low", "_checked", "__weakref__")
    # All set by _open (a transport is made there only), but _conn_lost_writes (on the first
    # write after the close). The protocol (None once connection_lost() has returned, as
    # asyncio) and its data_received; the TLS wrap, from connection_made to connection_lost;
    # the SSL_CIPHER (see _sslobject.cipher_of); the engine, from the handshake on
    # ('sslcontext': its context); the wrap's write while writes go out (None: closing,
    # lost, after write_eof()).
    _extra: dict[str, Any] | None
    _loop: asyncio.AbstractEventLoop
    _sock: TLSSocket
    _protocol: Any
    _buffered: bool
    _data_received: Any
    _on_lost: Callable[[TLSTransport], None] | None
    _closing: bool  # also set once lost
    _eof_written: bool
    _lost: bool
    _conn_lost_writes: int
    _paused_reading: bool
    _protocol_paused: bool
    _checked: bool  # _control_writing() ran (set False by _pump, before its read step)
    _high: int
    _low: int
    _error: BaseException | None  # a protocol failure (_fatal_error)
    _handle: Any
    _cipher: Any
    _eng: Any
    _write: Any
    _eof_seen: bool  # the peer's EOF (close_notify or FIN) reached the protocol
    _shutdown_timeout: float  # ssl_shutdown_timeout
    #: While ``close()`` waits for the peer's close_notify: the timer that ends the wait.
    _shutdown_timer: asyncio.TimerHandle | None
    #: The TCP transport went above ``_TCP_HIGH`` on a write and has not drained since
    #: (``_write`` is None meanwhile); ``_held``: the ciphertext written since (asyncio's SSL
    #: layer would hold it: counted by ``get_write_buffer_size()``).
    _tcp_full: bool
    _held: int
    #: The peer's certificate (an ``X509 *`` reference), taken at the connection's end when
    #: ``'peercert'`` was not asked before: asyncio's transport keeps it after the close.
    _peer_x509: Any
    #: The read flow control's limits (``set_read_buffer_limits``): while paused, the TCP
    #: reads stop once ``_read_high`` bytes of ciphertext are held.
    _read_high: int
    _read_low: int

    def __repr__(self) -> str:
        state = "closed" if self._lost else "closing" if self._closing else "open"
        return f"<TLSTransport {state} {self._sock!r}>"

    # ------------------------------------------------------------------ protocol
    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._protocol = protocol
        self._buffered = isinstance(protocol, asyncio.BufferedProtocol)
        self._data_received = getattr(protocol, "data_received", None)
        if not self._lost:  # (a transport is given out open)
            self._set_reader()

    def _set_reader(self) -> None:
        """A ``BufferedProtocol`` gets the plaintext decrypted straight into its buffers (the
        wrap's ``buffered_reader``); a ``Protocol`` gets ``bytes`` through ``_seam_read``."""
        h = self._sock._handle
        if h is not None and hasattr(h, "buffered_reader"):
            h.buffered_reader = _BufferedReader(self, self._protocol) if self._buffered else None

    def get_protocol(self) -> asyncio.BaseProtocol:
        protocol: asyncio.BaseProtocol = self._protocol
        return protocol

    # ------------------------------------------------------------------ reading
    def is_reading(self) -> bool:
        """Not paused by ``pause_reading()``: asyncio's and uvloop's SSL transports answer this
        flag alone, also once closing or closed."""
        return not self._paused_reading

    def pause_reading(self) -> None:
        """Stop delivering data. The TCP socket is still read, as by asyncio's and uvloop's
        SSL transports: its ciphertext is kept (not decrypted) up to the read high-water mark
        (``get_read_buffer_limits()``, 256 KiB), then the TCP reads stop until
        ``resume_reading()``; meanwhile the peer's reset ends the connection at once
        (``connection_lost(ConnectionResetError)``), its FIN waits for ``resume_reading()``
        (as asyncio's), and ``write()`` drops what is written after it (see ``write()``).
        Once closing, only the flag ``is_reading()`` answers changes (as asyncio's SSL
        transport)."""
        if self._paused_reading:
            return
        self._paused_reading = True
        self._write = None  # (write() checks for a held FIN while paused)
        h = self._sock._handle
        if h is not None and not self._closing and not self._lost:
            h.read_hold(self._read_high)

    def resume_reading(self) -> None:
        """Deliver data again; what came while paused follows on the next loop iteration (as
        asyncio's SSL transport), the peer's EOF after it."""
        if not self._paused_reading:
            return
        self._paused_reading = False
        h = self._sock._handle
        if h is not None and not self._closing and not self._lost:
            h.read_start()
            self._loop.call_soon(self._pump)
            self._write_path()

    def _pump(self, closing: bool = False) -> None:
        # The wrap delivers what it held while reading was paused (TLSWrap.read_held: the
        # plaintext, then the peer's FIN; ``closing``: close() waits for the peer's
        # close_notify, which may be among it).
        h = self._sock._handle
        if h is None or self._lost:
            return
        self._checked = False
        if closing or not self._paused_reading:
            h.read_held()
        # resume_reading()'s step is asyncio's and uvloop's read step, which checks the write
        # flow control once at its end, also when it finds nothing to read (or reading was
        # paused again): here when what it delivered checked none (it changes anything only
        # while paused, or with a high-water mark of 0)
        if (not closing and not self._checked and not self._closing and not self._lost
                and (self._protocol_paused or not self._high)):
            self._control_writing()

    def get_read_buffer_size(self) -> int:
        """The ciphertext received and not decrypted yet (asyncio's and uvloop's SSL
        transports: their incoming BIO): what is held while reading is paused."""
        h = self._handle
        return h.held_size() if h is not None else 0

    def get_read_buffer_limits(self) -> tuple[int, int]:
        """``(low, high)``: the read flow control's limits, ``(65536, 262144)`` by default (as
        asyncio's and uvloop's SSL transports)."""
        return self._read_low, self._read_high

    def set_read_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        """The read flow control's limits (asyncio's SSL transport's defaults and checks:
        ``high`` 256 KiB, ``low`` ``high // 4``; ``ValueError`` unless
        ``high >= low >= 0``): while reading is paused, the TCP reads stop once ``high`` bytes
        of ciphertext are held. They start again with ``resume_reading()`` (asyncio's
        restart at or below ``low``: what was held is delivered then)."""
        hi, lo = _limits(high, low, READ_HIGH)
        self._read_high, self._read_low = hi, lo
        h = self._handle
        if h is not None and self._paused_reading and not self._closing:
            h.read_hold(hi)

    def _feed_buffered(self, view: memoryview) -> None:
        proto: asyncio.BufferedProtocol = self._protocol
        total = view.nbytes
        offset = 0
        while offset < total:
            buf = memoryview(proto.get_buffer(total - offset)).cast("B")
            n = min(len(buf), total - offset)
            if not n:
                raise RuntimeError("get_buffer() returned an empty buffer")
            buf[:n] = view[offset:offset + n]
            offset += n
            proto.buffer_updated(n)
            if self._closing or self._lost:
                return
            if offset < total and (self._protocol_paused or not self._high):
                self._control_writing()  # (as _BufferedReader.buffer_updated; the seam's
                # read checks after the last buffer)

    # ------------------------------------------------------------------ writing
    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Encrypt and send ``data`` (asyncio semantics: ignored once closing, ``RuntimeError``
        after ``write_eof()``). Also ignored after the peer's FIN held while reading is
        paused, until it is delivered (asyncio's SSL transport is flushing then; uvloop's
        closed at the FIN)."""
        write = self._write  # the wrap's write(), while writes go out (None: closing, lost,
        if write is None or type(data) is not bytes or not data:  # after write_eof())
            if type(data) is not bytes and not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError(
                    f"data: expecting a bytes-like instance, got {type(data).__name__}")
            if self._eof_written:
                raise RuntimeError("Cannot call write() after write_eof()")
            if not data:
                return
            h = self._handle  # the TLS wrap, from connection_made to connection_lost
            if self._closing or h is None or h._eof_held:
                n = self._conn_lost_writes = getattr(self, "_conn_lost_writes", 0) + 1
                if n >= _CONNLOST_WARN:
                    logger.warning("TLS connection is closed")
                return
            write = h.write
            if self._tcp_full:
                self._write_held(write, data)
                return
        # TLSWrap.write: sealed by the engine and handed to the TCP transport in one call (the
        # compiled wrap; queued behind a (re)handshake or a held output).
        # (asyncio checks its flow control after every write: needed here when the wrap or the
        # TCP buffer is above its high-water mark, while paused, or with a high-water mark of
        # 0, at which asyncio pauses even an empty buffer)
        if not write(data):
            self._write_filled()
        elif self._protocol_paused or not self._high:
            self._control_writing()

    def writelines(self, list_of_data: Any) -> None:
        """``write()`` of the joined data; an empty list still checks the write flow control
        (asyncio's SSL transport: its flow-control step runs after every write call)."""
        data = b"".join(list_of_data)
        if data or self._eof_written:
            self.write(data)
        elif ((self._protocol_paused or not self._high) and not self._closing
              and not ((h := self._handle) is not None and h._eof_held)):
            self._control_writing()

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        """TLS half-close: close_notify, then the TCP FIN, after the data written so far;
        reading goes on. A second call does nothing."""
        if self._closing or self._eof_written or self._lost:
            return
        self._eof_written = True
        self._write = None  # (write() raises from now on)
        h = self._sock._handle
        if h is not None:
            h.shutdown()

    def _peer_fin_alone(self) -> bool:
        """The peer's EOF is its TCP FIN without close_notify: the wrap saw the transport's
        EOF first (OpenSSL itself marks such an end as a received close_notify)."""
        h = self._handle
        return h is not None and bool(h._lower_eof)

    # ------------------------------------------------------------------ closing
    def is_closing(self) -> bool:
        return self._closing or self._lost

    def close(self) -> None:
        """Stop delivering data; send the data written so far and close_notify, then wait for
        the peer's close_notify (or its FIN) before closing the connection, as asyncio's and
        uvloop's SSL transports: the peer's EOF calls ``eof_received()`` (its return value has
        no effect then), then ``connection_lost(None)``. The wait lasts at most
        ``ssl_shutdown_timeout`` (30 s): then ``connection_lost(TimeoutError)``. The peer's
        reset ends it with ``connection_lost(ConnectionResetError)``, ``abort()`` at once.
        What the peer sends meanwhile is dropped (as uvloop's). When the peer's EOF came
        already, the connection closes on the next loop iteration. After the peer's EOF,
        ``connection_lost()`` comes two loop iterations after ``eof_received()``, as uvloop's
        (asyncio's: three)."""
        if self._closing or self._lost:
            return
        self._closing = True
        self._write = None  # (write() is ignored from now on)
        sock = self._sock
        h = sock._handle
        wait = h is not None and not self._eof_seen and not sock._destroyed
        # No read_stop(): data arriving from now on is dropped (_seam_read); when closing at
        # once, the destroy below closes the TCP transport, which stops reading at once.
        if h is not None and not self._eof_written:
            # Over TCP: TLSWrap.shutdown's usual case (close_notify now, nothing pending)
            # without the TCP half-close (asyncio's SSL transport sends none: the TCP
            # connection closes at the end of the wait, or just below).
            tcp: Any = h.lower if h is self._handle else None  # (the wrap's)
            t: Any = tcp.transport if type(tcp) is TCPHandle else None
            out = h.close_notify_now() if t is not None else None
            if out is None:
                h.shutdown()  # close_notify after pending plaintext; the TCP flush follows
            else:
                if out:
                    t.write(out)
                if t.get_write_buffer_size() and not wait:
                    tcp.shutdown()  # data still queued: flushed, then the transport closes
        if not wait:
            # (net.Socket.destroy: its usual close, for a BridgeSocket too, in one call)
            if self._eof_seen:  # (the peer's EOF: see _peer_closed)
                self._close_lazily()
                self._loop.call_soon(sock.destroy)
            else:  # (the socket is gone already)
                sock.destroy()
            return
        # Reading goes on until the peer's close_notify (dropping the plaintext: a
        # BufferedProtocol's too, through _seam_read), also when paused by pause_reading():
        # what came meanwhile is read now (its close_notify: eof_received() before close()
        # returns, as uvloop's; the end of the wait, _peer_closed, cancels the timer).
        if self._buffered and h.buffered_reader is not None:
            h.buffered_reader = None
        self._shutdown_timer = self._loop.call_later(self._shutdown_timeout,
                                                     self._shutdown_timed_out)
        if self._paused_reading:
            h.read_start()
            self._pump(True)

    def _peer_closed(self) -> None:
        """The peer's close_notify (or FIN) while ``close()`` waits for it (the seam's EOF):
        ``eof_received()`` once (asyncio's ``_call_eof_received``: an exception is a fatal
        error, ``'Error calling eof_received()'``), then the connection closes."""
        timer = self._shutdown_timer
        if timer is not None:
            self._shutdown_timer = None
            timer.cancel()
        if not self._eof_seen:
            self._eof_seen = True
            try:
                self._protocol.eof_received()
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:  # noqa: BLE001
                self._fatal_error(exc, "Error calling eof_received()")
                return
        # The close on the next loop iteration, as after the peer's EOF in close() above:
        # asyncio's and uvloop's SSL transports call connection_lost() two loop iterations
        # or more after the peer's close_notify (asyncio's shutdown closes its TCP transport
        # with call_soon, whose close calls the SSL protocol's connection_lost with
        # call_soon, which calls the app protocol's with call_soon; uvloop's: the two
        # last), nodetls's socket one after its destroy: so a coroutine that saw the
        # transport closing and yields once (StreamWriter.drain()'s sleep(0)) runs before
        # connection_lost(), as with theirs.
        self._close_lazily()
        self._loop.call_soon(self._sock.destroy)

    def _close_lazily(self) -> None:
        """The peer's close_notify or FIN has ended the connection: its TCP handle's close
        leaves the socket to the transport (closed a loop step later, as asyncio's and
        uvloop's own SSL transports close theirs), with no release of the connection within
        the call (Node's ``uv_close``, which a ``net.Socket`` keeps)."""
        tcp: Any = getattr(self._handle, "lower", None)  # (the TLS wrap's transport handle)
        if type(tcp) is TCPHandle:
            tcp.close_lazily = True

    def _shutdown_timed_out(self) -> None:
        """``ssl_shutdown_timeout`` passed without the peer's close_notify: the connection is
        closed, ``connection_lost(TimeoutError('SSL shutdown timed out'))`` (asyncio's)."""
        self._shutdown_timer = None
        if self._lost:
            return
        self._error = TimeoutError("SSL shutdown timed out")
        h = self._handle
        if h is not None:
            h.abortive = True
        self._sock.destroy()

    def abort(self) -> None:
        """Close at once; buffered data is lost (``connection_lost(None)`` follows)."""
        if self._lost:
            return
        self._closing = True
        self._write = None
        timer = self._shutdown_timer
        if timer is not None:  # (close() was waiting for the peer's close_notify)
            self._shutdown_timer = None
            timer.cancel()
        # The socket's destroy with no close_notify (the wrap's abortive close), as asyncio's
        # and uvloop's SSL transports abort: the TCP connection alone is closed, buffered
        # data dropped (a RST when data is queued or unread). Reading stops now, the socket
        # is closed on the next loop iteration (as asyncio's _force_close: what the peer sent
        # meanwhile is unread, so the close is a RST, not a FIN).
        h = self._handle
        if h is None or self._sock._destroyed:
            self._sock.destroy()
            return
        h.abortive = True
        h.read_stop()
        self._loop.call_soon(self._sock.destroy)

    def _fatal_error(self, exc: BaseException, message: str) -> None:
        if not isinstance(exc, OSError):
            self._report(exc, message)
        self._error = exc
        self.abort()

    def _report(self, exc: BaseException, message: str) -> None:
        self._loop.call_exception_handler({
            "message": message, "exception": exc, "transport": self, "protocol": self._protocol,
        })


def _open(loop: asyncio.AbstractEventLoop, factory: Callable[[], asyncio.BaseProtocol],
          transports: set[TLSTransport], on_lost: Callable[[TLSTransport], None] | None,
          shutdown_timeout: float, sock: TLSSocket) -> None:
    """A transport for a secure socket, in one call (no ``__init__``, no start of its own):
    the protocol from ``factory()``, the transport (into ``transports``) taking the socket's
    data path, then ``connection_made``; synchronously, from the socket's
    ``'secureConnection'`` (the ``aio.Server``'s listener, ``partial(_open, loop, factory,
    transports, on_lost, shutdown_timeout)``) or ``'secureConnect'``
    (``aio.create_connection``), before any plaintext is read. A factory that raises is reported as asyncio does (the connection is
    dropped); a socket already destroyed gets no ``connection_made`` and no
    ``connection_lost``."""
    try:
        protocol: Any = factory()
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001 - as asyncio: log, drop this connection
        loop.call_exception_handler({
            "message": "Error on transport creation for incoming connection",
            "exception": exc,
        })
        sock.destroy()
        return
    t: Any = _new(TLSTransport)
    t._extra = None  # (asyncio.BaseTransport's dict: made on first use, get_extra_info)
    t._loop = loop
    t._sock = sock
    t._protocol = protocol  # None once connection_lost() has returned (as asyncio)
    t._on_lost = on_lost
    t._error = None  # a protocol failure (_fatal_error)
    t._eof_written = t._paused_reading = t._protocol_paused = t._eof_seen = False
    t._shutdown_timeout = shutdown_timeout  # (close()'s wait for the peer's close_notify)
    t._shutdown_timer = None
    t._tcp_full = t._checked = False
    t._held = 0
    t._peer_x509 = None
    t._high = HIGH
    t._low = LOW
    t._read_high = READ_HIGH
    t._read_low = READ_LOW
    # Errors come from the socket's ``errored`` at close; the end of the connection through
    # the handle seam (below). (The first 'error' listener, nobody watching additions:
    # straight into the table; a client's was added before its handshake.)
    events = sock._events
    listeners = events.get("error")
    if listeners is None and "newListener" not in events:
        events["error"] = _ERROR_SEEN
    elif listeners is None or _error_seen not in listeners:
        sock.on("error", _error_seen)
    if sock._destroyed:  # no connection_made, no connection_lost (not in ``transports``)
        t._handle = t._cipher = t._eng = t._write = t._data_received = None
        t._buffered = False
        t._lost = t._closing = True
        return
    transports.add(t)
    t._lost = t._closing = False  # (_closing: also set once lost)
    t._handle = h = sock._handle  # the TLS wrap, from connection_made to connection_lost
    eng: Any = h.engine if h is not None else None
    t._eng = eng  # ('sslcontext', on demand: the engine's context is kept after its free)
    c = None
    if eng is not None:
        ssl = eng.ssl
        if ssl is not None:
            # The cipher is described on demand, also after the close, as asyncio's
            # transport (see _sslobject.cipher_of: the pointer stays valid).
            c = _current_cipher(ssl) or None  # (a NULL pointer is false)
    t._cipher = c
    buffered = t._buffered = isinstance(protocol, _BufferedProtocol)
    t._data_received = getattr(protocol, "data_received", None)
    if buffered:
        t._set_reader()
    t._write = h.write if h is not None else None
    if h is not None:  # (a read with no plaintext checks the write flow control: _seam_quiet)
        h.quiet_read = MethodType(_seam_quiet, t)
    # Take the socket's data path: the one place that couples to its handle seam.
    # Plaintext, EOF, drain and the handle's close go to this transport (_lean.py's _seam_*)
    # instead of the socket's Node stream: a BridgeSocket's class has them, any other
    # socket gets them as instance attributes shadowing its class's methods (so TLSWrap
    # calling owner._on_handle_read(view) reaches _seam_read).
    # (Attribute stores, not through sock.__dict__: asking for it would give the socket a
    # real dict, after which CPython 3.11 no longer specialises its method calls.)
    seam: Any = sock
    if type(sock) is not BridgeSocket:  # (a BridgeSocket's class has the seam)
        seam._on_handle_read = MethodType(_seam_read, sock)
        seam._on_handle_eof = MethodType(_seam_eof, sock)
        seam._on_handle_drain = MethodType(_seam_drain, sock)
        seam._on_handle_close = MethodType(_seam_close, sock)
    seam._aio = t
    try:
        protocol.connection_made(t)
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001
        t._fatal_error(exc, "Fatal error: protocol.connection_made() call failed.")
        return
    t._checked = False
    # Plaintext the Node stream buffered before we took over (none in practice: the secure
    # events fire before the pump reads application data) goes first.
    if sock._r_len:  # (readable_length)
        data = sock.read()
        if data:
            _seam_read(sock, memoryview(data if isinstance(data, bytes) else data.encode()))
    # asyncio's and uvloop's SSL transports end the handshake's step with a read step, which
    # checks the write flow control unless reading is paused: visible only when
    # connection_made() paused writing or set a high-water mark of 0
    if (not t._checked and (t._protocol_paused or not t._high) and not t._paused_reading
            and not t._closing and not t._lost):
        t._control_writing()
