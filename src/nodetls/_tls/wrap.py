"""TLSWrap: a handle that wraps a handle (Node's ``TLSWrap`` over ``TCPWrap``).

Theory of operation
-------------------
A ``net.Socket`` does all its I/O through ``self._handle`` (``docs/DESIGN.md``, "the handle seam").
:class:`TLSWrap` *is* such a handle for the socket above it — it takes plaintext from
``write()`` and delivers plaintext to ``owner._on_handle_read`` — and it is the *owner* of the
handle below it (a TCP handle, or a ``DuplexHandle`` around any Duplex), from which it takes
ciphertext.  So ``TLSSocket`` is an ordinary ``net.Socket`` whose handle happens to encrypt, exactly
as in Node, and backpressure, pause/resume, half-close and timeouts are the socket's code, unchanged.

The pump is :meth:`TLSWrap._cycle` (Node's ``TLSWrap::Cycle``): drive the handshake until it is
done, paused or starved; then read every byte of plaintext; then send whatever ciphertext OpenSSL
produced.  It is guarded against re-entrance: a ``'data'`` listener that writes, or a user callback
that destroys the socket, only marks work for the outer loop.

Notifications the engine collected (keylog lines, sessions) and the handshake's completion go to
the owner's ``_tls_*`` methods, never from inside an OpenSSL call.

This module is the data path (``write()``, the reads, the pump); the wrap's state and its calls
off that path (reading on and off, the half-close and the close, errors, forwarded attributes)
are :class:`~nodetls._tls.wrap_handle.WrapHandle`'s, its base class (``wrap_handle.py``).

What ``nodetls.aio`` (``aio/_transport.py``) uses beyond the handle interface: its close
writes the close_notify from :meth:`close_notify_now` to the TCP transport itself (or calls
:meth:`shutdown`); its reads are :meth:`route_reads`' (an owner class with a true
``_READS_BYTES`` takes plaintext as ``bytes`` in its ``_on_handle_read``, as
``net.Socket._on_handle_read`` does); its ``pause_reading()`` is :meth:`read_hold` (the
transport is still read, its ciphertext kept in the engine, undecrypted, up to a bound),
its resume :meth:`read_start` then :meth:`read_held`; no shutdown state and no engine flag.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import itertools
import threading
from typing import Any, Final

from .._engine import DONE, PAUSED, HandshakeDone, KeylogLine, NewSession, TLSEngine
from .._engine.engine import receive_buffer
from .._net.handle import _OPEN as _TCP_OPEN
from .._net.handle import RECV_BUFFER_SIZE, TCPHandle
from .._net.socket import Socket
from ..errors import system_error
from .wrap_handle import _UNREAD, WrapHandle

# Module-level names the methods read are Final: compiled with mypyc, a Final is a static C
# variable, any other global a dictionary lookup per read (~130 instructions each).
_HIGH_WATER: Final = 64 * 1024
_HANDSHAKE_BUFFER: Final = 4096  # OpenSSL's handshake write buffer (BIO_f_buffer's default)
_DONE: Final = DONE  # the engine's handshake steps and events
_PAUSED: Final = PAUSED
_KeylogLine: Final = KeylogLine
_NewSession: Final = NewSession
_HandshakeDone: Final = HandshakeDone
# The TCP handle the write and read paths reach into (its class, open state, default buffer size).
_TCPHandle: Final = TCPHandle
_OPEN: Final = _TCP_OPEN
_RECV_BUFFER_SIZE: Final = RECV_BUFFER_SIZE
# This thread's (get_buffer, (view, char[])) for routed reads (TLSWrap.route_reads).
_route: Final = threading.local()
_SOCKET_READ: Final = Socket._on_handle_read  # takes plaintext as bytes too (route_reads)


class TLSWrap(WrapHandle):
    """The TLS handle: :class:`WrapHandle`'s state and calls, and the data path (``write()``,
    the reads from the transport, the pump)."""

    # ------------------------------------------------------------------ handle interface (up)
    def write(self, data: bytes | memoryview) -> bool:
        eng = self.engine
        if eng is None or self._closed:
            return False
        # A write of the owner's Node stream (net.Socket.write sets ``_w_writing`` before it
        # calls the handle; a nodetls.aio transport's writes do not) completes as Node's
        # TLSWrap's does (DoWrite, EncOut, then OnStreamAfterWrite on an immediate): False is
        # returned, and ``owner._tls_write_done()`` completes it on the next loop step once its
        # ciphertext went to the transport (:meth:`_done_soon`), when the transport drains if
        # it is above its high-water mark (``owner._on_handle_drain()``), or after the
        # handshake (or release()) for plaintext that has to wait (_owed: the pump's flush).
        # A write made inside a pass of the pump (a 'data' or 'secure' listener: an echo) is
        # settled when the pass returns (_done_due): ``owner._tls_write_settle()`` completes
        # the usual one there (no callback, nothing buffered behind it, not ending: only its
        # state, which the listener itself saw in flight), any other on the next loop step.
        if not self.secure or self._pending:
            if not self.started:  # a client TLSSocket made by hand: its first write starts
                self.start()  # the handshake (Node: SSL_write sends the ClientHello)
            self._pending.append(bytes(data))
            self._pending_size += len(data)
            if self.owner._w_writing:
                self._owed = True
                if self.secure:
                    self._cycle()
                return False
            if self.secure:
                self._cycle()
            return self._pending_size < _HIGH_WATER
        try:
            if self.held or self._flight_held:  # the output stays in the engine (held: until
                # release(); a TLS 1.3 server's 'secure' listeners: until the pass flushes)
                if not data and self.renegotiating:
                    eng.read_more = True  # (renegotiate()'s empty write: see below)
                n = eng.write(data)
                if n < len(data):
                    self._queue(data[n:])
                if self._flight_held and \
                        eng.output_pending() - self._flight_base > _HANDSHAKE_BUFFER:
                    return self._flight_spill(eng)
                if self.owner._w_writing:
                    self._owed = True  # (completed by release()'s or the pass's flush)
                    return False
                return True
            # One engine call encrypts and takes the output (this write's and anything before
            # it), one transport write sends it.
            out = eng.seal(data)
        except BaseException as exc:  # noqa: BLE001
            self._fail(exc)
            return False
        self._flushed = True
        if type(out) is int:  # not all taken (a (re)handshake first): the pump writes the rest
            self._queue(data[out:])
            if self.owner._w_writing:
                if self._flush_failed_in_call():  # (the write ended with the send's error)
                    return True
                self._owed = True  # (completed once the pump has written the rest)
                return False
            return self._flush()
        if not out:  # an empty write (renegotiate()'s write(''): Node's TLSWrap completes it
            if self.renegotiating:  # on an immediate too, as any write; its ClearOut, an
                eng.read_more = True  # SSL_read even with nothing received, makes the
                self._cycle()  # ClientHello of a renegotiation marked)
            if self.owner._w_writing:
                self._complete_soon()
                return False
            return True
        lower = self.lower
        t = self._t
        if t is not None:  # (TCPHandle.write, without the call, nor the look-ups below)
            t.write(out)
        elif type(lower) is _TCPHandle:  # TCPHandle.write, without the call
            t = lower.transport
            if t is None or lower._state != _OPEN:
                return False
            if not self._shutdown_sent:
                self._t = t  # (open: until the wrap shuts it down or closes, see _t)
            t.write(out)  # type: ignore[arg-type]  # (bytes: an int returned above)
        else:
            sent = bool(lower.write(out))
            if self.owner._w_writing:
                if sent:
                    self._complete_soon()
                return False
            return sent
        if t.is_closing() and not self._shutdown_sent:  # the send failed at once (the peer
            self._send_failed(t)  # has gone): TCPHandle.write's check, as Node's EncOut
            if self.owner._w_writing:  # taken, as TCPHandle.write says: the socket ends the
                return True  # write in the call (Node's onwrite with the error: the data
                # path's onwrite, or _write_failed_in_call), its error comes with the
                # transport's (_on_handle_write_error: the buffered writes' callbacks first)
        if self.owner._w_writing:
            if not lower._write_paused:  # (paused: the transport's drain completes it)
                if self._in_cycle:
                    self._done_due = True
                else:
                    ready = self._ready
                    if ready is not None:  # (_done_soon, without the call)
                        ready.append(self._done)
                    elif self._soon is not None:
                        self._soon(self._done)
                    else:
                        self._done_soon()
            return False
        return not lower._write_paused

    def _complete_soon(self) -> None:
        """The owner's write in flight went out: settled when the pump's pass returns (inside
        one), else completed on the next loop step."""
        if self._in_cycle:
            self._done_due = True
        else:
            self._done_soon()

    def _settle(self) -> None:
        """A pass of the pump returned after the owner's write went out (``_done_due``)."""
        self._done_due = False
        if not self.owner._tls_write_settle():
            self._done_soon()

    def _done_soon(self) -> None:
        """Complete the owner's write in flight on the next loop step: its ciphertext went to
        the transport (Node's TLSWrap: ``OnStreamAfterWrite`` on an immediate after a
        synchronous transport write, then ``InvokeQueued``).  On asyncio's own loop a handle
        made once is appended to the loop's ready queue (what ``call_soon`` does, without its
        calls); on another loop, ``call_soon``."""
        if self._closed:
            return
        ready = self._ready
        if ready is not None:
            ready.append(self._done)
            return
        if self._soon is not None:
            self._soon(self._done)
            return
        loop = asyncio.get_running_loop()
        ready = getattr(loop, "_ready", None)
        if type(ready) is collections.deque and isinstance(loop, asyncio.BaseEventLoop):
            done = asyncio.Handle(self.owner._tls_write_done, (), loop, None)
            self._done = done
            self._ready = ready
            ready.append(done)
        else:
            self._done = self.owner._tls_write_done
            self._soon = loop.call_soon
            self._soon(self._done)

    def _queue(self, data: bytes | memoryview) -> None:
        rest = bytes(data)
        self._pending.append(rest)
        self._pending_size += len(rest)

    def read_held(self) -> None:
        """After :meth:`read_start`: deliver what came while :meth:`read_hold` held the reads,
        as a read of nothing would (the plaintext of the ciphertext the engine holds, the
        peer's close_notify among it), then the transport's EOF that came meanwhile (as
        asyncio's SSL transport resumes: its read step, then its shutdown step)."""
        self._on_handle_read(memoryview(b""))
        if self._eof_held and self._reading and not self._closed:
            self._eof_held = False
            self._on_handle_eof()

    # ------------------------------------------------------------------ owner interface (down)
    def _on_handle_read(self, view: memoryview, plain: Any = _UNREAD) -> None:
        """Ciphertext from the transport handle.  ``plain``: what the engine's ``read_view(view)``
        returned already, on the data path (:meth:`_on_transport_read` hands over a read that
        needs more than delivering its plaintext: the rest of this data path runs as ever)."""
        eng = self.engine
        if eng is None:
            return
        if (not self.secure or self._in_cycle or not self._reading or self.renegotiating
                or self.buffered_reader is not None):
            self._received = True
            if not self.secure and not self._in_cycle and self.started and eng.paused is None:
                self._cycle(view)  # a handshake step: the engine receives it in that call
                return
            eng.receive(view)
            if self._holding and eng.input_pending() >= self._hold_limit:
                self._lower_ok = False  # (read_hold()'s bound: the transport's reads stop)
                self.lower.read_stop()
            if self.buffered_reader is None or self.quiet_read is None or not self.secure \
                    or self._in_cycle or not self._reading:
                self._cycle()
                return
            # A BufferedProtocol's read (nodetls.aio): quiet_read when no buffer was filled
            self._quiet_due = True  # (_clear_out_into clears it as it fills one)
            self._cycle()
            if self._quiet_due:
                self._quiet_due = False
                if self.quiet_read is not None and self.engine is not None:
                    self.quiet_read()
            return
        # The data path (Node's OnStreamRead -> ClearOut), the pump's read loop without its
        # handshake and write steps: one engine call takes the ciphertext and returns the
        # plaintext, handed on as a view (the owner copies it, once).  Whatever else is due
        # afterwards (pending plaintext, close_notify, a nested cycle) is the full pump's.
        self._in_cycle = 1
        try:
            self._flushed = False
            if plain is _UNREAD:
                plain = eng.read_view(view)
            quiet = True  # no plaintext handed on by this read
            while True:
                if eng.events:
                    if plain is not None and self._events_follow(eng):
                        # The record that made them came after this plaintext (a session
                        # ticket behind data): the plaintext first, as Node's ClearOut hands on
                        # each SSL_read's data as it returns.
                        self.owner._on_handle_read(plain)
                        if self._closed:
                            return
                        plain = None
                        quiet = False
                    self._drain_events()
                    if self.engine is None:
                        return
                if eng.paused is not None:  # a renegotiation paused (cert/client hello)
                    self._flush()
                    self.owner._tls_pause(eng.paused)
                if plain is not None:
                    self.owner._on_handle_read(plain)
                    if self._closed:  # (destroyed by a 'data' listener: no more, as Node's)
                        return
                    quiet = False
                # read_more false: the read BIO is empty, nothing more to read now (true after
                # None: a record with no application data ended the read, more behind it)
                if not eng.read_more:
                    break
                self._flushed = False
                plain = eng.read_view()
            if eng.output_after_read and not self.renegotiating and not eng.server:
                self._watch_renegotiation(eng)
            if not self._flushed and not self.held and eng.output_after_read:
                # Nothing was written since the last SSL_read, which produced output (a
                # renegotiation's handshake messages, a KeyUpdate answer): send it.
                # (none once the transport's write side is shut: as the pump's, Node's
                # TLSWrap drops what comes after its shutdown)
                out = eng.take_output()
                if out and not self._lower_shut:
                    self.lower.write(out)
            if quiet and self.quiet_read is not None:  # (nodetls.aio: see quiet_read)
                self.quiet_read()
                if self.engine is None:
                    return
            if eng.received_close_notify and not self._eof_delivered and not (
                    self._again or self._pending or self.renegotiating):
                # The peer's close_notify, nothing else due: the end of stream, as the pump
                # would deliver it after finding no plaintext and no output (_deliver_eof's
                # steps: the usual end of a connection on the data path, one call less).
                self._eof_delivered = True
                self.owner._on_handle_eof()
        except BaseException as exc:  # noqa: BLE001
            self._fail(exc)
            if self._done_due:
                self._settle()
            return
        finally:
            self._in_cycle = 0
        if self._again or self._pending or self.renegotiating or (
                eng.received_close_notify and not self._eof_delivered):
            self._cycle()
        if self._done_due:
            self._settle()

    def route_reads(self) -> bool:
        """Have the TCP handle below (default buffers: a client's, not connected yet, or a
        server's just accepted) read into this thread's receive buffer and hand each read to
        :meth:`_on_transport_read`, in place of its own ``get_buffer`` (a pool of buffers, a
        Python call per read) and ``buffer_updated`` (which calls :meth:`_on_handle_read`).
        Both become instance attributes of the handle, taken by the transport when it is made
        (or by ``set_protocol()``, for a transport already there); :meth:`_on_handle_close`
        removes them (a bound method of the wrap on its handle is a reference cycle).
        Only for an owner reading with ``net.Socket._on_handle_read`` or whose class says it
        takes ``bytes`` there too (``_READS_BYTES``: ``nodetls.aio``'s ``BridgeSocket``): the
        plaintext comes as ``bytes``. False: left as it is."""
        lower = self.lower
        if type(lower) is not _TCPHandle or lower._bufsize != _RECV_BUFFER_SIZE or \
                lower._view is not None or (type(self.owner)._on_handle_read is not _SOCKET_READ
                                            and not getattr(self.owner, "_READS_BYTES", False)):
            return False
        transport = lower.transport
        if transport is not None and (transport.is_closing()
                                      or transport.get_protocol() is not lower):
            return False
        try:
            get_buffer, recv = _route.pair
        except AttributeError:
            recv = receive_buffer()
            # get_buffer(sizehint) is next(repeat(view), sizehint): the view, without Python
            get_buffer = functools.partial(next, itertools.repeat(recv[0]))
            _route.pair = get_buffer, recv
        self._recv = recv
        self.buffered_reader = None  # (read per read below: an instance attribute is quicker)
        lower.get_buffer = get_buffer  # type: ignore[method-assign]
        lower.buffer_updated = self._on_transport_read  # type: ignore[method-assign]
        if transport is not None:
            # A server's accepted handle: its transport took the class's methods when it
            # was made; set_protocol() makes it take the instance's (uvloop's and asyncio's
            # transports, _net/direct.py's, look the two up there).
            transport.set_protocol(lower)
        return True

    def _on_transport_read(self, nbytes: int) -> None:
        """The TCP handle's ``buffer_updated`` while :meth:`route_reads` holds: ``nbytes`` of
        ciphertext in this thread's receive buffer.  The data path of :meth:`_on_handle_read`
        (Node's OnStreamRead -> ClearOut) in one Python call: the engine takes the ciphertext
        and returns the plaintext as ``bytes`` (``read_plain``: no view, no ``from_buffer``,
        the one copy), handed to the owner as they are (``net.Socket._on_handle_read`` keeps
        ``bytes`` without a copy, ``bytes(b) is b``; ``nodetls.aio``'s takes them too).  Every
        other read, and every outcome but plaintext alone, goes on as
        ``TCPHandle.buffer_updated`` -> :meth:`_on_handle_read` would."""
        lower = self.lower
        recv = self._recv
        assert recv is not None  # (routed: set; typed, the compiled unpacking is no iteration)
        view, cbuf = recv
        if not self._lower_ok:  # (checked again: see _lower_ok)
            if not lower._reading or lower._held is not None:
                lower._hold(bytes(view[:nbytes]))  # (TCPHandle.buffer_updated's)
                return
            self._lower_ok = True
        eng = self.engine
        if (eng is None or not self.secure or self._in_cycle or not self._reading
                or self.renegotiating or self.buffered_reader is not None
                or eng.paused is not None):
            self._on_handle_read(view[:nbytes])
            return
        self._in_cycle = 1
        try:
            self._flushed = False
            plain = eng.read_plain(cbuf, nbytes)
            if type(plain) is not bytes:  # nothing, or not plaintext alone: the data path's
                self._in_cycle = 0
                self._on_handle_read(view, plain)
                return
            # (plaintext alone: no output, close_notify, event, pause or more to read)
            self.owner._on_handle_read(plain)  # (bytes: the owner keeps them, no copy)
        except BaseException as exc:  # noqa: BLE001
            self._fail(exc)
            if self._done_due:
                self._settle()
            return
        finally:
            self._in_cycle = 0
        if self.engine is not None and (self._again or self._pending or self.renegotiating):
            self._cycle()
        if self._done_due:  # (the echo's write: _settle, inlined)
            self._done_due = False
            if not self.owner._tls_write_settle():
                self._done_soon()

    def _on_handle_eof(self) -> None:
        if self._holding:  # (read_hold(): delivered after the held reads, by read_held())
            self._eof_held = True
            return
        self._lower_eof = True
        eng = self.engine
        if eng is None:
            return
        eng.receive_eof()
        if eng.paused is not None and not self.secure:
            # The peer ended its stream while the handshake waits for a user callback: its
            # Finished can never come (Node: onSocketClose -> 'tlsClientError' ECONNRESET).
            self.owner._tls_closed_before_secure()
            return
        if self._eof_delivered:
            # The TCP FIN after the close_notify: ignored, as Node's TLSWrap ignores everything
            # read after it (its eof_) -- also with writes waiting for a renegotiation, which
            # stay waiting (no 'error': the handshake can never finish, and is not failed).
            return
        self._cycle()
        if not self._eof_delivered and self.secure:
            self._deliver_eof()

    def _on_handle_drain(self) -> None:
        if self._pending and self.secure:
            self._cycle()
        if not self._pending:
            self._owed = False
            self.owner._on_handle_drain()

    # ------------------------------------------------------------------ the pump
    def start(self) -> None:
        """Begin the handshake (client: sends the ClientHello).  A server with nothing received
        yet has nothing to do until the ClientHello arrives (no handshake step, no flush)."""
        if self.started:
            return
        self.started = True
        eng = self.engine
        if eng is not None and (not eng.server or self._lower_eof or self._received):
            self._cycle()

    def _cycle(self, data: memoryview | None = None) -> None:
        """The pump.  ``data``: ciphertext just read, given only when the first pass takes the
        handshake step (not in a cycle, started, not secure, not paused): that step receives it."""
        if self._in_cycle:
            self._again = True
            return
        self._in_cycle += 1
        try:
            while True:
                self._again = False
                self._cycle_once(data)
                data = None
                if not self._again or self.engine is None:
                    break
        except BaseException as exc:  # noqa: BLE001
            self._fail(exc)
        finally:
            self._in_cycle -= 1
        if self._done_due and not self._in_cycle:  # (_settle, inlined)
            self._done_due = False
            if not self.owner._tls_write_settle():
                self._done_soon()

    def _cycle_once(self, data: memoryview | None = None) -> None:
        eng = self.engine
        if eng is None or not self.started:
            return
        just_secured = False
        if not self.secure:
            # (tested through a local: mypy would narrow eng.paused to None for the rest of the
            # method, and compiled with mypyc that type is checked when it is read after the step)
            paused = eng.paused
            if paused is not None:
                self._flush()
                return
            if self.held:  # the output stays in the engine until release()
                r, out = eng.do_handshake(data), b""
            else:  # one engine call: the step, and the flight to send when it waits for the peer
                r, out = eng.handshake_step(data)
            if eng.events:
                self._drain_events()
            if r is _PAUSED:
                self._flush()
                self.owner._tls_pause(eng.paused)
                return
            if r is not _DONE:
                if out and self.engine is not None and not self._lower_shut:
                    self.lower.write(out)
                if self._lower_eof:
                    raise system_error("ECONNRESET", "socket hang up")
                return
            # The handshake's last flight (TLS 1.3 server: the session tickets) is flushed at
            # the end of this cycle, with whatever 'secure' listeners write (a TLS 1.3
            # server's writes there wait for it: _emit_secure): one transport write.  (A destroy
            # meanwhile sends none of it, as Node's: close() sends no close_notify.)
            self.secure = just_secured = True
            wrote_early = bool(self._pending)
            if wrote_early:
                # Node's cycle runs ClearIn first: a write made before the handshake finished
                # goes into the SSL_write that finishes it, before the 'secure' listeners run
                # (a renegotiate() there waits behind that data).
                self._write_pending()
            self._emit_secure(eng)
            if self._closed:  # destroyed by a 'secure' listener: nothing more is read (Node's
                return  # bytesRead stays what it was at the destroy)
            if wrote_early and self.renegotiating and self.engine is not None:
                # ... and that cycle's ClearOut SSL_read then makes the renegotiation's
                # ClientHello, sent with the data in one write (below): not a loop step later
                eng.read_more = True
        if self._pending and self.renegotiating:
            # ClearIn before ClearOut while a renegotiation runs, as Node's cycle: the waiting
            # write's SSL_write drives the handshake (and fails on the peer's application data
            # in the middle of it, which only SSL_read may take: EPROTO).
            try:
                self._write_pending()
            except BaseException as exc:  # noqa: BLE001
                # (Node's ClearIn fails the write, which destroys the socket before its
                # EncOut: OpenSSL's alert is not sent)
                self.owner._tls_error(exc)
                return
        # ClearOut: plaintext to the owner
        if self.buffered_reader is not None:
            if not self._clear_out_into(eng):
                return
        elif self._reading or eng.received_close_notify:
            # Every record available now, one view of the engine's read buffer per batch: the
            # owner copies it once (the handle contract), nothing is copied here.
            while True:
                view = eng.read_view()
                if eng.events:
                    if view is not None and self._events_follow(eng):
                        # (their record came after this plaintext: see _on_handle_read)
                        self.owner._on_handle_read(view)
                        if self._closed:
                            return
                        view = None
                    self._drain_events()
                    if self.engine is None:
                        return
                if eng.paused is not None:  # a renegotiation paused (cert/client hello)
                    self._flush()
                    self.owner._tls_pause(eng.paused)
                if view is not None:
                    self.owner._on_handle_read(view)
                    if self._closed:  # (destroyed by a 'data' listener: no more, as Node's)
                        return
                if not eng.read_more:  # the read BIO is empty: another call returns None
                    break
            if self.renegotiating and not eng.renegotiate_pending():
                self.renegotiating = False  # (its end was a HANDSHAKE_DONE event)
            elif eng.output_after_read and not self.renegotiating and not eng.server:
                self._watch_renegotiation(eng)
        # ClearIn: pending plaintext
        if self._pending and self.engine is not None:
            self._write_pending()
        if not self.held and self.engine is not None:  # (_flush, inlined: once per pass)
            out = eng.take_output()
            sent = True
            if out and not self._lower_shut:
                sent = self.lower.write(out)
            if self._owed and not self._pending:
                # The owner's write that waited (before the handshake, behind a held output or
                # a renegotiation) is sent: completed once this pass returns, or by the drain.
                self._owed = False
                if sent:
                    self._done_due = True
        if eng.received_close_notify and not self._eof_delivered:
            self._deliver_eof()
        if just_secured and self.engine is not None and not self.held:
            eng.release_bios()  # the handshake's buffers, not kept for the connection's life

    def _clear_out_into(self, eng: TLSEngine) -> bool:
        """ClearOut for a :attr:`buffered_reader`: each batch of records is decrypted straight
        into a buffer the reader hands out (Node's listener ``OnStreamAlloc`` then
        ``OnStreamRead``), and reading stops between buffers once the owner stops reading.
        False when the engine is gone."""
        reader = self.buffered_reader
        while self._reading or eng.received_close_notify:
            hint = eng.read_hint()
            if not hint:
                break
            buf = reader.get_buffer(hint)
            if buf is None:  # the reader is closing (or failed): leave the data
                break
            n = eng.read_into(buf)
            while not n and eng.read_more:  # a record with no application data ended the
                if eng.events:  # read, more behind it: on into the same buffer
                    self._drain_events()
                    if self.engine is None:
                        return False
                n = eng.read_into(buf)
            if eng.events:
                if n and self._events_follow(eng):
                    # (their record came after this plaintext: see _on_handle_read)
                    self._quiet_due = False
                    reader.buffer_updated(n)
                    if self.engine is None:
                        return False
                    n = -1
                self._drain_events()
                if self.engine is None:
                    return False
            if eng.paused is not None:  # a renegotiation paused (cert/client hello)
                self._flush()
                self.owner._tls_pause(eng.paused)
            if not n:
                break
            if n > 0:
                self._quiet_due = False
                reader.buffer_updated(n)
                if self.engine is None:
                    return False
            elif not eng.read_more:
                break
        if self.renegotiating and not eng.renegotiate_pending():
            self.renegotiating = False  # (its end was a HANDSHAKE_DONE event)
        elif eng.output_after_read and not self.renegotiating and not eng.server:
            self._watch_renegotiation(eng)
        return self.engine is not None

    def _write_pending(self) -> None:
        eng = self.engine
        assert eng is not None
        pending = self._pending
        done = 0  # chunks written; removed at once below (no pop(0) per chunk)
        for chunk in pending:
            n = eng.write(chunk)
            self._pending_size -= n
            if n < len(chunk):
                pending[done] = chunk[n:]
                break
            done += 1
        del pending[:done]
        if not self._pending and self._shutdown_wanted:
            self._do_shutdown()

    def _events_follow(self, eng: TLSEngine) -> bool:
        """The events of the read just made follow its plaintext in record order: they are
        the record's that ended the read, one with no application data (the engine's SSL has
        no ``SSL_MODE_AUTO_RETRY``): a TLS 1.3 client's session tickets. Not when a TLS 1.2
        renegotiation ended in it (``HANDSHAKE_DONE``): ``SSL_read_ex`` completes that
        handshake, then goes on to the data behind it in the same call, so they come first."""
        for event in eng.events:
            if type(event) is _HandshakeDone:
                return False
        return True

    def _drain_events(self) -> None:
        eng = self.engine
        if eng is None or not eng.events:
            return
        events, eng.events = eng.events, []
        owner = self.owner
        for event in events:
            if type(event) is _KeylogLine:
                owner._tls_keylog(event.line)
            elif type(event) is _NewSession:
                owner._tls_session(event.session_id, event.der)
            elif type(event) is _HandshakeDone:
                # A renegotiation finished (Node's onhandshakedone: 'secure' again)
                owner._tls_renegotiated()
                if self.engine is None:
                    return

    # ------------------------------------------------------------------ held output, paused steps
    def release(self) -> None:
        """The end of :meth:`hold`: what the engine kept goes out (a shutdown waiting behind
        it too)."""
        if not self.held:
            return
        self.held = False
        if self.engine is None:
            return
        self._cycle()
        if self._shutdown_wanted and not self._pending:
            self._do_shutdown()

    def resume(self) -> None:
        """The owner answered a paused callback: continue the handshake."""
        eng = self.engine
        if eng is None:
            return
        eng.resume()
        self._cycle()
