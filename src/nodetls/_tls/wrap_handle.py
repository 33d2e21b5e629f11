"""The TLS wrap's handle side: its state, and every call of the handle interface but the data path.

:class:`~nodetls._tls.wrap.TLSWrap` (``wrap.py``: the pump, the write path and the read paths)
is a :class:`WrapHandle`. What is here runs once per connection or per state change, never per
record: the wrap's state (set up in ``__init__``, shared with the pump), reading on, off and held
(``nodetls.aio``'s paused reading), the half-close and the close (close_notify or not, as Node's
``TLSWrap::DoShutdown`` and its freeing), the TCP handle's routed reads, the failed send's error,
the held output of Node's "awaiting new session", and the transport's attributes forwarded by
name. Compiled with the wrap (``_compiled.MODULES``): the pump reads this state as C fields.
"""

from __future__ import annotations

import asyncio
import errno
from typing import Any, Final

from .._engine import TLSEngine
from .._net.handle import TCPHandle
from .._net.handle_parts import _wrap_error
from .._net.send_error import send_error
from ..errors import system_error

# Module-level names the methods read are Final: compiled with mypyc, a Final is a static C
# variable, any other global a dictionary lookup per read.
_TCPHandle: Final = TCPHandle
_TLS1_3: Final = 0x0304  # TLSEngine.protocol_number() of TLS 1.3 (OpenSSL's TLS1_3_VERSION)


def _ignore(*_: Any) -> None:
    return None


class _Gone:
    """The owner of a closed wrap: every ``_on_handle_*`` / ``_tls_*`` call does nothing.

    The names the wrap calls are methods (a lookup that finds nothing builds and drops an
    ``AttributeError`` before ``__getattr__`` answers: ~1.9k instructions per connection)."""

    __slots__ = ()

    def _on_handle_read(self, *_: Any) -> None:
        return None

    def _on_handle_eof(self, *_: Any) -> None:
        return None

    def _on_handle_drain(self, *_: Any) -> None:
        return None

    def _on_handle_error(self, *_: Any) -> None:
        return None

    def _on_handle_close(self, *_: Any) -> None:
        return None

    def _tls_renegotiated(self, *_: Any) -> None:
        return None

    def _tls_cert(self, *_: Any) -> None:
        return None

    def _tls_write_done(self, *_: Any) -> None:
        return None

    def _tls_write_settle(self, *_: Any) -> bool:
        return True

    def _tls_client_hello(self, *_: Any) -> None:
        return None

    def _tls_closed_before_secure(self, *_: Any) -> None:
        return None

    def _tls_error(self, *_: Any) -> None:
        return None

    def _tls_handshake_start(self, *_: Any) -> None:
        return None

    def _tls_keylog(self, *_: Any) -> None:
        return None

    def _tls_pause(self, *_: Any) -> None:
        return None

    def _tls_psk_client(self, *_: Any) -> None:
        return None

    def _tls_psk_server(self, *_: Any) -> None:
        return None

    def _tls_secure(self, *_: Any) -> None:
        return None

    def _tls_session(self, *_: Any) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        return _ignore


_GONE: Final[Any] = _Gone()
_UNREAD: Final[Any] = object()  # _on_handle_read(view): the data path reads the view itself


class WrapHandle:
    """The TLS handle's state and its calls off the data path (``TLSWrap`` is one).  ``lower``
    is the transport handle; ``owner`` the TLSSocket (or ``nodetls.aio``'s transport)."""

    #: None, or what takes the plaintext instead of ``owner._on_handle_read``, decrypted straight
    #: into its own buffers: ``get_buffer(sizehint) -> writable buffer | None`` (None: take
    #: nothing now), then ``buffered_reader.buffer_updated(nbytes)`` (``nodetls.aio``'s transport
    #: for an ``asyncio.BufferedProtocol``; set and cleared by it).
    buffered_reader: Any = None
    #: None, or what a read from the transport calls when it hands on no plaintext (a record
    #: with none, as a session ticket or a KeyUpdate, or part of a record; the data path's reads,
    #: :meth:`TLSWrap._on_handle_read`): ``nodetls.aio``'s transport, whose read step checks
    #: the write flow control all the same, as asyncio's and uvloop's SSL transports do.
    quiet_read: Any = None
    #: A ``buffered_reader``'s read from the transport filled no buffer yet (``quiet_read``).
    _quiet_due = False
    #: Ciphertext came through the pump's receive path (before start(): a server has work).
    _received = False
    _close_notify_sent = False  # shutdown() called SSL_shutdown: close() need not again
    #: ``reset_and_destroy()``: :meth:`close` sends no close_notify (an abortive close: the
    #: peer sees the TCP RST alone, as from Node's ``resetAndDestroy()``).
    abortive = False
    #: While reads are routed (:meth:`route_reads`): this thread's receive buffer, as a view
    #: and as a ``char[]``.
    _recv: tuple[memoryview, Any] | None = None
    #: The owner's write in flight waits for this wrap: its plaintext is pending or held, its
    #: completion is due once the ciphertext went to the transport (see :meth:`write`).
    _owed = False
    #: The owner wrote inside a pass of the pump (``_in_cycle``) and its write went out: when
    #: the pass returns, ``owner._tls_write_settle()`` completes it or this wrap schedules
    #: the completion (see :meth:`write`).
    _done_due = False
    #: A TLS 1.3 server's ``'secure'`` listeners run: what they write stays in the engine and
    #: goes out with the handshake's last flight (the session tickets) when the pass returns
    #: from them, as Node's (OpenSSL's TLS 1.3 server calls SSL_CB_HANDSHAKE_DONE, inside which
    #: Node's TLSWrap runs those listeners and their microtasks, with the handshake's write
    #: buffer still in place: ``tls_finish_handshake(s, wst, 0, 0)`` before its tickets; the
    #: SSL_read flushes it after them). So a ``destroy()`` there sends none of it.
    _flight_held = False
    #: The engine's output when that buffer was last empty (see ``TLSWrap._flight_spill``).
    _flight_base = 0
    #: Completing the owner's write on the next loop step (:meth:`_done_soon`): asyncio's own
    #: loop's ready queue and the handle appended to it (made once, calling the owner's
    #: ``_tls_write_done``); None on another loop (``call_soon`` each time) and once closed.
    _ready: Any = None
    _done: Any = None
    #: On another loop (uvloop): its ``call_soon``, and ``_done`` the owner's bound
    #: ``_tls_write_done``, both looked up once.
    _soon: Any = None
    #: :meth:`read_hold` is in effect: ciphertext read from the transport stays in the engine
    #: (not decrypted) until :meth:`read_start`; the transport's reads stop once
    #: ``_hold_limit`` bytes are held; its EOF meanwhile waits too (``_eof_held``).
    _holding = False
    _hold_limit = 0
    _eof_held = False

    def __init__(self, lower: Any, engine: TLSEngine, owner: Any) -> None:
        self.lower = lower
        self.engine: TLSEngine | None = engine
        self.owner = owner
        engine.hooks = self
        lower.owner = self
        self.secure = False
        self.started = False
        self._pending: list[bytes] = []  # plaintext waiting (a list: 56 bytes while empty)
        self._pending_size = 0
        self._reading = True
        self._eof_delivered = False
        self._shutdown_wanted = False
        self._closed = False
        self._in_cycle = 0
        self._again = False
        self._lower_eof = False
        self._shutdown_sent = False
        # The transport's write side is shut (_do_shutdown): ciphertext made afterwards (the
        # rest of a handshake a client ended before it was done) is dropped, as Node's TLSWrap
        # ignores the write errors after its shutdown ("Ignoring error after shutdown").
        self._lower_shut = False
        self._flushed = False  # the data path: output taken since the last read (see write)
        # The data path's view of the TCP handle below, kept on the wrap (compiled, an attribute
        # of the handle costs a generic look-up, ~190 instructions, where one of the wrap's is a
        # field): ``_t`` its transport while it is open and not shut down (write), and
        # ``_lower_ok`` that it was seen reading with nothing held and the wrap has neither
        # stopped it nor held a read since (:meth:`_on_transport_read`).
        self._t: Any = None
        self._lower_ok = False
        self.renegotiating = False
        # Node's "awaiting new session": while set, ciphertext stays in the engine (see hold()).
        self.held = False
        # On the instance, not only the class default: read per record (_on_handle_read), and
        # Python 3.11 does not specialise an instance's read of a class attribute.
        self.buffered_reader = None
        self.quiet_read = None

    # ------------------------------------------------------------------ reading on and off
    def read_start(self) -> None:
        self._reading = True
        self._holding = False
        self.lower.read_start()

    def read_stop(self) -> None:
        self._reading = self._lower_ok = self._holding = False
        self.lower.read_stop()

    def read_hold(self, limit: int) -> None:
        """Stop delivering plaintext but go on reading the transport (``nodetls.aio``'s
        ``pause_reading()``, as asyncio's and uvloop's SSL transports): its ciphertext goes
        into the engine's read BIO, not decrypted, until the BIO holds ``limit`` bytes (their
        read high-water mark, 256 KiB by default), when the transport's reads stop (TCP flow
        control then slows the peer down). The transport's EOF meanwhile waits for
        :meth:`read_held`; its error comes at once (the owner's ``'error'``, as ever).
        :meth:`read_start` ends the hold (and restarts the transport's reads).
        (Node-style sockets use :meth:`read_stop`: Node's TLSSocket stops its TCP handle.)"""
        self._reading = self._lower_ok = False
        self._holding = True
        self._hold_limit = limit
        eng = self.engine
        if eng is not None and eng.input_pending() >= limit:
            self.lower.read_stop()

    def held_size(self) -> int:
        """Ciphertext received and not decrypted yet (what :meth:`read_hold` keeps; asyncio's
        SSL transport's ``get_read_buffer_size()``)."""
        eng = self.engine
        return eng.input_pending() if eng is not None else 0

    # ------------------------------------------------------------------ half-close and close
    #: ``shutdown(callback)`` reports its completion (the handle seam's extension, as a TCP
    #: handle's): ``net.Socket``'s ``_final`` passes one, so ``'finish'`` comes when the
    #: transport's half-close completes, as Node's (TLSWrap::DoShutdown hands its ShutdownWrap
    #: to the stream below).
    SHUTDOWN_CALLBACK = True
    #: :meth:`shutdown`'s callback while the shutdown waits (pending plaintext, held output).
    _shutdown_cb: Any = None

    def shutdown(self, callback: Any = None) -> None:
        """Half-close: close_notify, then the transport's write side; ``callback()`` once the
        TCP handle's shutdown completed (its own ``shutdown(callback)``; over another stream,
        e.g. a ``DuplexHandle``'s: two loop steps after the shutdown)."""
        self._shutdown_wanted = True
        if callback is not None:
            self._shutdown_cb = callback
        if self._pending:
            return  # sent once the pending plaintext is flushed
        self._do_shutdown()

    def _do_shutdown(self) -> None:
        if self.held or self._shutdown_sent:
            return  # after release(), behind the held output
        self._shutdown_sent = True
        self._t = None  # (write() goes through the handle's state again)
        eng = self.engine
        if eng is not None and self.secure:
            eng.shutdown()
            self._close_notify_sent = True
            self._flush()
        self._lower_shut = True
        cb, self._shutdown_cb = self._shutdown_cb, None
        lower = self.lower
        if cb is None:
            lower.shutdown()
        elif type(lower) is _TCPHandle:
            # (a TCP handle holds what it reads from its half-close to its completion, so
            # 'finish' comes before the peer's data, as Node's: reads check it again)
            self._lower_ok = False
            lower.shutdown(cb)
        else:
            # Another stream below (a DuplexHandle's): done at once, completed two loop steps
            # later (as net.Socket completes a shutdown without callback).
            lower.shutdown()
            loop = asyncio.get_running_loop()
            loop.call_soon(loop.call_soon, cb)

    def close_notify_now(self) -> bytes | None:
        """:meth:`shutdown`'s usual case, done at once for an owner that closes the transport
        itself right after (``nodetls.aio``'s ``TLSTransport.close()`` over a TCP handle):
        when the connection is secure, no plaintext is pending, the output is not held and no
        shutdown was made before, close_notify is made now and the wrap is shut down as after
        :meth:`shutdown` (:meth:`close` sends nothing more); its ciphertext is returned for the
        caller to write to the transport, whose half-close (Node's ``end()`` makes one after
        the close_notify) is the caller's to make or not. ``None``: not that case, nothing
        done (call :meth:`shutdown`)."""
        eng = self.engine
        if eng is None or not self.secure or self._pending or self.held or self._shutdown_sent \
                or self._closed:
            return None
        eng.shutdown()
        self._shutdown_wanted = self._shutdown_sent = self._close_notify_sent = True
        self._t = None
        return eng.take_output()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._t = None
        self._ready = self._done = self._soon = None
        eng = self.engine
        if eng is not None and self.secure and not self._close_notify_sent and eng.alive \
                and not self.held and not self.abortive:
            try:
                if self._shutdown_wanted:
                    # A shutdown asked for and still waiting (plaintext pending: nodetls.aio's
                    # close): its close_notify now.
                    eng.shutdown()
                    out = eng.take_output()
                    if out:
                        self.lower.write(out)
                else:
                    # A close without shutdown (destroy()) sends no close_notify, as Node's
                    # (its TLSWrap is freed, no SSL_shutdown); the session stays resumable.
                    eng.close_quietly()
            except Exception:  # noqa: BLE001 - best effort on close
                pass
        self.lower.close()

    def get_write_buffer_size(self) -> int:
        size: int = self.lower.get_write_buffer_size() + self._pending_size
        return size

    # The rest of the handle interface is the transport's, forwarded by name (explicitly: a
    # class with __getattr__ makes CPython take its slow path for every attribute read on the
    # wrap, including the pump's own).  An attribute the transport lacks (a DuplexHandle has no
    # addresses) raises AttributeError, as the transport's own would.
    @property
    def remote_address(self) -> Any:
        return self.lower.remote_address

    @property
    def remote_port(self) -> Any:
        return self.lower.remote_port

    @property
    def remote_family(self) -> Any:
        return self.lower.remote_family

    @property
    def local_address(self) -> Any:
        return self.lower.local_address

    @property
    def local_port(self) -> Any:
        return self.lower.local_port

    @property
    def local_family(self) -> Any:
        return self.lower.local_family

    @property
    def closed(self) -> Any:
        return self.lower.closed

    @property
    def reading(self) -> Any:
        return self.lower.reading

    @property
    def set_no_delay(self) -> Any:
        return self.lower.set_no_delay

    @property
    def set_keep_alive(self) -> Any:
        return self.lower.set_keep_alive

    @property
    def ref(self) -> Any:
        return self.lower.ref

    @property
    def unref(self) -> Any:
        return self.lower.unref

    @property
    def get_extra_info(self) -> Any:
        return self.lower.get_extra_info

    @property
    def set_write_buffer_limits(self) -> Any:
        return self.lower.set_write_buffer_limits

    # ------------------------------------------------------------------ the transport's end
    def _unroute_reads(self) -> None:
        lower: Any = self.lower
        self._recv = None
        if getattr(getattr(lower, "buffer_updated", None), "__self__", None) is self:
            del lower.buffer_updated, lower.get_buffer

    def _on_handle_error(self, exc: BaseException) -> None:
        self._t = None
        if not self._report_write_error(exc):
            self.owner._on_handle_error(exc)

    #: The error of an owner's write whose send failed within :meth:`write`
    #: (:meth:`_send_failed`), until the transport's own error (or its close) reports it.
    _write_err: BaseException | None = None

    def _send_failed(self, t: Any) -> None:
        """The transport's send failed within :meth:`write` (the peer reset the connection, or
        closed it and an earlier write drew a reset): as Node's TLSWrap, whose ``EncOut``
        fails the write in the call, the owner's socket is errored at once
        (``net.Socket._on_handle_write_failed``: the write returns False), and the write's
        callback and ``'error'`` come with the transport's error (:meth:`_on_handle_error`),
        as ``TCPHandle._write_failed`` does for a net socket. (Not after the wrap's shutdown:
        Node's TLSWrap ignores write errors then, see :meth:`_do_shutdown`.)"""
        if self._write_err is not None:
            return
        exc = send_error(t, asyncio.get_running_loop())
        err = self._write_err = _wrap_error(exc, "write") if isinstance(exc, OSError) \
            else system_error("EPIPE", "write EPIPE", errno=errno.EPIPE, syscall="write")
        failed = getattr(self.owner, "_on_handle_write_failed", None)
        if failed is not None:
            failed(err)

    def _report_write_error(self, err: BaseException) -> bool:
        """Report the failed write's error (:meth:`_send_failed`) to the owner with ``err``:
        True if there was one."""
        if self._write_err is None:
            return False
        self._write_err = None
        report = getattr(self.owner, "_on_handle_write_error", None)
        if report is None:
            self.owner._on_handle_error(err)
        else:
            report(err)
        return True

    def _on_handle_close(self) -> None:
        self._closed = True
        self._t = None
        self._ready = self._done = self._soon = None  # (they hold the owner: no cycle kept)
        if self._recv is not None:
            self._unroute_reads()
        if self._write_err is not None:  # (closed without an error of its own)
            self._report_write_error(self._write_err)
        owner = self.owner
        if not self.secure and self.started:
            owner._tls_closed_before_secure()
        owner._on_handle_close()
        self.free()
        # The last call up: forget the socket (it keeps this wrap for its addresses), so a closed
        # connection is freed by reference counting, without the cyclic garbage collector.
        self.owner = _GONE

    def free(self) -> None:
        eng, self.engine = self.engine, None
        if eng is not None:
            eng.free()

    # ------------------------------------------------------------------ output and outcomes
    def _flush(self) -> bool:
        """Send the ciphertext the engine holds (not while held); False: the transport is
        above its high-water mark (or the engine is gone)."""
        eng = self.engine
        if eng is None:
            return False
        if self.held:
            return True
        out = eng.take_output()
        if out and not self._lower_shut:
            return bool(self.lower.write(out))
        return True

    def _flush_failed_in_call(self) -> bool:
        """:meth:`_flush` for the owner's write in flight whose plaintext waits behind a
        handshake (a renegotiation's ClientHello, made by that write's SSL_write, goes out
        first): True when the transport's send failed at once (the peer reset the connection),
        which ends that write in the call with the error, as Node's TLSWrap, whose EncOut
        fails the write there (:meth:`_send_failed`, as the data path's check in ``write``);
        False when it waits (completed once the pump has written the rest)."""
        self._flush()
        lower = self.lower
        t = lower.transport if type(lower) is _TCPHandle else None
        if t is None or not t.is_closing() or self._shutdown_sent:
            return False
        self._send_failed(t)
        return True

    def hold(self) -> None:
        """Keep every byte of ciphertext in the engine until :meth:`release` (Node's TLSWrap
        while a ``'newSession'`` callback is pending: under TLS 1.2 the server's Finished waits,
        so the client cannot complete before ``'secureConnection'``).  ``close()`` meanwhile
        sends nothing."""
        self.held = True

    def _emit_secure(self, eng: TLSEngine) -> None:
        """The handshake is done: the owner's ``'secure'``.  A TLS 1.3 server's listeners run
        with the output held (``_flight_held``): what they write goes out with the pump's flush
        after them (``TLSWrap.write``, :meth:`_flight_spill`)."""
        if eng.server and eng.protocol_number() == _TLS1_3:
            self._flight_held = True
            self._flight_base = eng.output_pending()
            try:
                self.owner._tls_secure()
            finally:
                self._flight_held = False
        else:
            self.owner._tls_secure()

    def _flight_spill(self, eng: TLSEngine) -> bool:
        """A write in a TLS 1.3 server's 'secure' listeners (``_flight_held``) whose records
        do not fit what is left of OpenSSL's handshake write buffer (a 4 KiB ``BIO_f_buffer``)
        goes out at once with everything held before it, as OpenSSL flushes that buffer and
        writes past it (it keeps the part of the last record under 4 KiB: sent here too); it
        completes as any write sent inside a pass (write()'s result)."""
        sent = self._flush()
        self._flight_base = eng.output_pending()
        if self.owner._w_writing:
            if sent:  # (else the transport's drain completes it)
                self._done_due = True
            return False
        return sent

    def _watch_renegotiation(self, eng: TLSEngine) -> None:
        """A client's read produced output: when it is the answer to the server's HelloRequest
        (OpenSSL began a renegotiation inside SSL_read), the pump follows it as one this side
        asked for, and the engine notes its end (``'secure'`` again, as Node's client emits)."""
        if eng.renegotiate_pending():
            eng.enable_handshake_counting()
            self.renegotiating = True

    def _deliver_eof(self) -> None:
        self._eof_delivered = True
        self.owner._on_handle_eof()

    def _fail(self, exc: BaseException) -> None:
        # flush whatever alert OpenSSL produced before failing
        try:
            self._flush()
        except Exception:  # noqa: BLE001
            pass
        self.owner._tls_error(exc)

    # ------------------------------------------------------------------ engine hooks (sync)
    def on_client_hello(self, ch: Any) -> bool:
        return bool(self.owner._tls_client_hello(ch))

    def on_cert(self, servername: str | None) -> bool:
        return bool(self.owner._tls_cert(servername))

    # (a key may be the caller's bytearray or a byte view of it: the engine copies it into
    # OpenSSL's buffer, ``psk_key``)
    def psk_server(self, identity: str) -> bytes | bytearray | memoryview | None:
        key: bytes | bytearray | memoryview | None = self.owner._tls_psk_server(identity)
        return key

    def psk_client(self, hint: str | None) -> tuple[str, bytes | bytearray | memoryview] | None:
        ans: tuple[str, bytes | bytearray | memoryview] | None = self.owner._tls_psk_client(hint)
        return ans

    def on_handshake_start(self, count: int) -> None:
        self.owner._tls_handshake_start(count)
