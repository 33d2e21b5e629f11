"""``BridgeSocket``: the ``TLSSocket`` an ``aio`` server builds for each accepted connection.

It is a :class:`nodetls.TLSSocket` in every respect (the same engine, ``TLSWrap`` and handshake
code, every Node-style event and method), except that it does not set up its Node stream state
(Node's ``ReadableState``/``WritableState``: about fifty attributes per connection) when it is
built: a :class:`~nodetls.aio.TLSTransport` takes the socket's data path at the handshake, so a
bridge connection usually never uses that state. Its initial values are class attributes here,
the same values ``Readable``/``Writable`` give a new ``net.Socket`` that has called ``read(0)``
(computed from the stream classes at import, so they follow the core); a connection that does
use its Node stream (``get_extra_info('tls_socket').write(...)``, a ``'data'`` listener, the
peer leaving during the handshake) writes its own values over them as any socket does. The one
mutable value, the list of pipe destinations, is made per connection.

A server copies the state ``net.Socket.__init__`` gives an accepted socket from a prototype
(``net.Socket._accepted_state``, built by running that ``__init__`` once): built with this
class's ``_init_duplex``, the prototype holds 27 values instead of 70, so each connection
copies that many.

``tls.Server._make_socket`` builds this class for the server ``aio.create_server`` makes (its
``_socket_class``); a server with other ``'connection'`` listeners builds plain ``TLSSocket``s,
which the transport serves the same way.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from .._net.socket import instance_state
from .._tls import TLSSocket
from ..stream import _NO_BUF, _NO_DRAIN, Duplex

__all__ = ["BridgeSocket"]

_FATAL_READ = "Fatal error: protocol.data_received() call failed."


def _no_read(_size: int) -> None:
    """The probe's ``_read``: a socket's starts the handle reading and returns."""


def _stream_defaults() -> tuple[dict[str, Any], dict[str, Any]]:
    """The Node stream state of a new socket that has called ``read(0)`` (as ``net.Socket``
    does over a connected handle): ``(shared, per_connection)``, the immutable values and the
    mutable ones (copied for each connection)."""
    probe = Duplex(read=_no_read, allow_half_open=False, emit_close=False)
    probe.read(0)
    shared: dict[str, Any] = {}
    mutable: dict[str, Any] = {}
    for name, value in instance_state(probe).items():
        if not name.startswith(("_r_", "_w_")):
            continue
        if value is None or value is _NO_BUF or value is _NO_DRAIN or isinstance(
                value, (bool, int, float, str, bytes, frozenset, tuple)):
            shared[name] = value
        else:
            mutable[name] = value
    return shared, mutable


_SHARED, _MUTABLE = _stream_defaults()


class _BufferedReader:
    """What the TLS wrap decrypts into for an ``asyncio.BufferedProtocol``
    (``TLSWrap.buffered_reader``): the protocol's ``get_buffer()``/``buffer_updated()`` with
    asyncio's error handling (a failing call is a fatal error of the transport)."""

    __slots__ = ("transport", "protocol", "size", "full", "due")

    def __init__(self, transport: Any, protocol: asyncio.BufferedProtocol) -> None:
        self.transport = transport
        self.protocol = protocol
        self.size = 0  # the length of the last buffer get_buffer() returned
        #: The last buffer came back full while the write flow control is checked after
        #: reads (the extra check of _after_full is due, ``due``: scheduled).
        self.full = self.due = False

    def get_buffer(self, sizehint: int) -> Any:
        t = self.transport
        if t._closing or t._lost:
            return None
        try:
            buf: Any = self.protocol.get_buffer(sizehint)
            size = self.size = len(buf)
            if not size:
                raise RuntimeError("get_buffer() returned an empty buffer")
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:  # noqa: BLE001 - asyncio: fatal error, connection lost
            t._fatal_error(exc, "Fatal error: protocol.get_buffer() call failed.")
            return None
        return buf

    def buffer_updated(self, nbytes: int) -> None:
        t = self.transport
        try:
            self.protocol.buffer_updated(nbytes)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:  # noqa: BLE001
            t._fatal_error(exc, "Fatal error: protocol.buffer_updated() call failed.")
            return
        # (asyncio's and uvloop's SSL transports check the write flow control after each
        # buffer they fill, as after each read: it can change only while paused or with a
        # high-water mark of 0; see _seam_read. A buffer filled whole makes them read once
        # more, on the next loop iteration: one check more when nothing else came; a buffer
        # not filled whole that the peer's EOF ends: the check comes after it, _seam_read)
        if (t._protocol_paused or not t._high) and not t._closing:
            full = self.full = nbytes == self.size
            if not _eof_follows(t, full):
                t._control_writing()
            if full and not self.due:
                self.due = True
                t._loop.call_soon(self._after_full)
        else:
            self.full = False

    def _after_full(self) -> None:
        t = self.transport
        self.due = False
        if self.full:
            self.full = False
            if (t._protocol_paused or not t._high) and not t._closing and not t._lost:
                t._control_writing()


# The transport's side of the handle seam (docs/DESIGN.md, "The handle seam"): what the TLS wrap
# calls on its owner goes to the TLSTransport serving the socket (``sock._aio``, set by
# ``_transport._open``, None again once the connection is gone). A BridgeSocket has them as its
# class's methods (one attribute store per connection); any other socket a transport serves gets
# them as instance attributes (bound to the socket) from ``_open`` to the close.

def _seam_read(sock: Any, view: memoryview | bytes) -> None:
    """Plaintext from the TLS wrap: to ``protocol.data_received()`` (one ``bytes``, none copied
    when the wrap hands over a whole ``bytes``), or into a ``BufferedProtocol``'s buffers;
    dropped once the transport is closing."""
    t = sock._aio
    if t is None:
        TLSSocket._on_handle_read(sock, view)
        return
    if t._closing:
        return
    try:
        if type(view) is bytes:  # the wrap's routed read (TLSWrap._on_transport_read): never
            data_received = t._data_received  # a BufferedProtocol's (its reads take the pump)
            data_received(view)  # (read, then called: a slot's bound method, LOAD_METHOD)
        elif t._buffered:
            t._feed_buffered(view)
        else:
            obj = view.obj  # type: ignore[union-attr]
            t._data_received(obj if type(obj) is bytes and len(obj) == view.nbytes  # type: ignore[union-attr]
                             else bytes(view))
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001 - asyncio: fatal error, connection lost
        t._fatal_error(exc, _FATAL_READ)
        return
    # (asyncio's SSL transport checks its write flow control after each read: it can change
    # only while paused or with a high-water mark of 0; when the peer's EOF ends this read,
    # after it: _seam_eof)
    if (t._protocol_paused or not t._high) and not t._closing and not _eof_follows(t):
        t._control_writing()


def _seam_quiet(t: Any) -> None:
    """A read from the transport handed on no plaintext (``TLSWrap.quiet_read``): its records
    carried none (a TLS 1.3 session ticket, a KeyUpdate) or it held part of a record.
    asyncio's and uvloop's SSL transports check the write flow control at the end of every
    read step all the same (it changes anything only while paused, or with a high-water mark
    of 0); when the peer's EOF ends the read, with the EOF's own checks (``_seam_eof``)."""
    if (t._protocol_paused or not t._high) and not t._closing and not _eof_follows(t):
        t._control_writing()


def _eof_follows(t: Any, full: bool = False) -> bool:
    """The peer's EOF ends the read step under way: its close_notify came with the data (the
    wrap delivers it next; not after a ``BufferedProtocol``'s buffer filled whole, which ends
    their read step), or its FIN, held while reading was paused, follows the held data
    (``TLSWrap.read_held``: their flush, whose shutdown step follows its read step at once).
    asyncio's and uvloop's SSL transports check the write flow control once at the end of a
    read step, so then not after the data but with the EOF's own checks (``_seam_eof``)."""
    h = t._handle
    if h is None:
        return False
    if h._eof_held:
        return True
    eng = h.engine
    return not full and eng is not None and bool(eng.received_close_notify)


def _seam_eof(sock: Any) -> None:
    """The peer sent close_notify or closed its side: ``protocol.eof_received()``, then the
    transport's ``close()`` unless it returned true (asyncio); while ``close()`` waits for it,
    the end of that wait (``TLSTransport._peer_closed``)."""
    t = sock._aio
    if t is None:
        TLSSocket._on_handle_eof(sock)
        return
    if t._lost:
        return
    if t._closing:  # close() waits for this (its end), or abort() is under way (nothing)
        if t._shutdown_timer is not None:
            t._peer_closed()
        return
    # The write flow control runs where asyncio's and uvloop's SSL transports check it on the
    # way to their shutdown (it changes anything only while paused, or with a high-water mark
    # of 0): the peer's FIN without close_notify, asyncio's (whose eof_received() nodetls
    # follows; uvloop calls none): its flush's and its shutdown's steps, before
    # eof_received(); the peer's close_notify, uvloop's: its read's step, after eof_received()
    # and the start of the shutdown (asyncio's checks it twice more: that of uvloop followed).
    check = t._protocol_paused or not t._high
    if check and t._peer_fin_alone():
        t._control_writing()
        t._control_writing()
        check = False
    t._eof_seen = True
    try:
        keep_open = t._protocol.eof_received()
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001
        t._fatal_error(exc, "Error calling eof_received()")  # (asyncio's SSL transport's)
        return
    if not keep_open:
        t.close()
    if check and not t._lost:
        t._control_writing()


def _seam_drain(sock: Any) -> None:
    """The wrap's queue and the TCP buffer drained: the transport's flow control."""
    t = sock._aio
    if t is None:
        TLSSocket._on_handle_drain(sock)
        return
    t._on_drain()


def _seam_close(sock: Any) -> None:
    """The connection is gone: the socket closes as ever (its ``'close'``, the server's count),
    the data path is given back (the seam and the wrap's ``buffered_reader``:
    this breaks the reference cycles through the transport), then ``connection_lost(exc)`` with
    the error the socket was destroyed with, if any. With no transport (a BridgeSocket whose
    handshake failed, whose protocol factory raised): the socket's own close."""
    t = sock._aio
    if t is None:
        TLSSocket._on_handle_close(sock)
        return
    own = type(sock) is BridgeSocket  # (the seam is its class's: no instance attributes)
    try:
        # After a BridgeSocket's usual close (destroyed, no error to emit, nobody listening
        # to the socket's 'close' or waiting for it, the server not closing),
        # TLSSocket's and net.Socket's steps are marking 'close' as emitted. (A transport
        # serves a socket whose handshake is done: no handshake timer, no 'secure'
        # pending; a BridgeSocket is never a raw socket's shell.) Anything else: the
        # socket's own.
        server = sock._server
        if (not own or not sock._destroyed or sock._error_pending or sock._close_emitted
                or sock._close_waiters or "close" in sock._events
                or (server is not None and server._close_scheduled)):
            close = type(sock)._on_handle_close
            (TLSSocket._on_handle_close if close is _seam_close else close)(sock)
            if sock._destroyed and not sock._error_pending and (
                    server is None or not server._close_scheduled):
                # A bridge's 'close' comes in this call, before connection_lost (the socket's
                # own would come on the next loop turn, as Node's: a no-op then), unless it
                # waits for its server's 'close'
                sock._emit_socket_close()
        else:
            sock._close_emitted = True
    finally:
        t._keep_peer_certificate()  # (the engine is freed after this call)
        t._lost = t._closing = True
        sock._aio = None
        timer = t._shutdown_timer  # (close() waited for the peer's close_notify: over)
        if timer is not None:
            t._shutdown_timer = None
            timer.cancel()
        if not own:  # (the seam's names: set by _open, removed only here)
            del sock._on_handle_read, sock._on_handle_eof, sock._on_handle_drain, \
                sock._on_handle_close
        t._write = None  # (write() finds the transport closed)
        wrap = t._handle
        if wrap is not None:
            t._handle = None
            # (_set_reader's: set only for a BufferedProtocol, cleared when it is replaced)
            if t._buffered and wrap.buffered_reader is not None:
                wrap.buffered_reader = None
            wrap.quiet_read = None  # (_open's: a bound method of this transport)
        err = t._error
        if err is None:
            err = sock._errored
        if err is not None and not isinstance(err, Exception):
            err = ConnectionAbortedError(str(err))
        try:
            t._protocol.connection_lost(err)
        finally:
            # As asyncio's transports: drop the protocol (it usually holds the transport),
            # so that reference counting frees the connection without the cycle collector.
            t._protocol = t._data_received = None
            on_lost = t._on_lost  # (read, then called: as buffer_updated's data_received)
            if on_lost is not None:
                on_lost(t)


class BridgeSocket(TLSSocket):
    """A server-side ``TLSSocket`` whose Node stream state is built on first use (see the
    module's docstring)."""

    #: The TLSTransport serving this socket (``_transport._open``), None before and after.
    _aio: Any = None
    #: Its reads go through the wrap's route (TLSWrap.route_reads): plaintext comes as
    #: ``bytes``, which the seam's read (and the Node stream's, before the transport) takes.
    _READS_BYTES = True

    def _init_duplex(self, opts: dict[str, Any]) -> None:
        # Duplex._init_duplex without _init_readable/_init_writable (class attributes below),
        # but for the mutable values (the pipe list): so net.Socket._accepted_state, the state
        # a server copies into each accepted socket, is this class's, and usable.
        self._init_common(opts)
        self.allow_half_open = opts.get("allow_half_open", True) is not False
        for name, default in _MUTABLE.items():
            setattr(self, name, copy.copy(default))
        # Instance attributes from the start (so in the state a server copies into each
        # accepted socket): Python 3.11 does not specialise an instance's read of a class
        # attribute.
        self._aio = None

    # The handle seam, the transport's (see _seam_close): the wrap calls these on its owner.
    _on_handle_read = _seam_read
    _on_handle_eof = _seam_eof
    _on_handle_drain = _seam_drain
    _on_handle_close = _seam_close

    def _init_socket(self, opts: dict[str, Any]) -> None:
        # net.Socket's, with its read(0) reduced to what it does on a new socket over a handle:
        # the handle starts reading (the stream flags read(0) sets are the class attributes).
        opts["manual_start"] = True  # (TLSSocket.__init__'s own dict, made for this socket)
        super()._init_socket(opts)
        h = self._handle
        if h is not None:
            h.read_start()

    def _emit_server_secure(self) -> None:
        # TLSSocket's, with the server's 'secureConnection' emit reduced to the call it makes
        # when the aio.Server's own listener is the only one and nothing listens on the socket
        # (the usual bridge connection): the listener is called directly, and an exception it
        # raises goes where emit() sends it (the server's _listener_failed).
        # (The aio.Server keeps the listener table its own listener made, ``_bridge_alone``:
        # the same tuple is still there only while no listener was added or removed since.)
        # (A BridgeSocket's server is the aio.Server's tls.Server; its _bridge_alone is a tuple
        # of the aio.Server's own when the table had more than one listener: never a table.)
        srv: Any = self._tls_server
        alone = srv._bridge_alone
        events = self._events
        if srv._events.get("secureConnection") is not alone or \
                self._handshake_timer is not None or \
                "secure" in events or "secureConnection" in events:
            TLSSocket._emit_server_secure(self)
            return
        self._secure_established = True
        if self._destroyed:
            return
        try:  # (the listener, partial(_open, ...), called as the function: no C hop)
            open_, loop, factory, transports, on_lost, timeout = srv._bridge_open
            open_(loop, factory, transports, on_lost, timeout, self)
        except Exception as exc:  # noqa: BLE001 - as EventEmitter.emit
            srv._listener_failed("secureConnection", exc, (self,))


for _name, _value in _SHARED.items():
    setattr(BridgeSocket, _name, _value)
del _name, _value
