""":class:`~nodetls._net.handle.TCPHandle`'s reads, as a mixin: the receive buffers it reads
into (``get_buffer`` / ``buffer_updated``, asyncio's buffered protocol; ``data_received`` for a
transport without one), the peer's EOF, the data and EOF held while reading is stopped, and
``read_start()`` / ``read_stop()`` (``handle.py`` keeps the rest: connecting, writing, closing,
the ``run()`` lifetime). Stateless: the state is the handle's (``TCPHandle.__init__``).

``get_buffer`` and ``buffer_updated`` are looked up on the handle by its transport, so an
instance attribute of the same name replaces them (the TLS wrap's ``route_reads``,
``_tls/wrap.py``); ``_hold`` is what its routed read calls while the handle holds reads.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Any

__all__ = ["_ReadMixin", "RECV_BUFFER_SIZE"]

#: Size of a receive buffer: one read takes up to this much (libuv reads 64 KiB at a time;
#: more per read means fewer Python calls per byte, which matters most under TLS).
RECV_BUFFER_SIZE = 256 * 1024

# Preallocated receive buffers. A handle takes one in get_buffer() and gives it back once its
# owner's _on_handle_read() has returned (asyncio/uvloop call the two back to back), so reads
# never allocate, an idle connection holds no buffer, and a read nested inside an owner's
# callback (which never happens with asyncio's transports) would simply get another buffer.
_BUFFERS: list[memoryview] = []

#: The handle's states these methods test (``handle.py``'s ``_OPEN``, ``_LOST``).
_OPEN, _LOST = 1, 3


class _ReadMixin:
    """``TCPHandle``'s reads (the module docstring)."""

    # (TCPHandle's state these use)
    transport: asyncio.Transport | None
    owner: Any
    _view: memoryview | None
    _bufsize: int
    _reading: bool
    _state: int
    _eof: bool
    _shut: bool
    _shut_hold: bool
    _idle: bool
    _held: deque[bytes] | None
    _held_eof: bool
    _reg: Any
    _read_error: BaseException | None

    if TYPE_CHECKING:  # (TCPHandle's and its other mixins'; not defined here: this class is
        # first in TCPHandle's MRO)
        def _check_ended(self) -> None: ...
        def _hangup_at_start(self) -> bool: ...
        def _drop_hup_eof(self) -> None: ...
        _hup_eof: bool
        def _go_idle(self) -> None: ...
        def _wake(self) -> None: ...

    def _stop_loop_reading(self) -> None:
        """The transport stops reading if the handle is not reading, or holds (or dropped) a
        hang-up's EOF (``hangup.py``: what the next read gets stays in the kernel)."""
        t = self.transport
        if (not self._reading or self._eof) and self._state == _OPEN and t is not None \
                and t.is_reading():
            t.pause_reading()

    def get_buffer(self, sizehint: int) -> memoryview:
        view = self._view
        if view is None:
            if _BUFFERS and self._bufsize == RECV_BUFFER_SIZE:
                view = _BUFFERS.pop()
            else:
                view = memoryview(bytearray(self._bufsize))
            self._view = view
        return view

    def buffer_updated(self, nbytes: int) -> None:
        view = self._view
        self._view = None
        try:
            if self._reading and self._held is None:
                self.owner._on_handle_read(view[:nbytes])  # type: ignore[index]
            else:
                self._hold(bytes(view[:nbytes]))  # type: ignore[index]
        finally:
            if self._bufsize == RECV_BUFFER_SIZE and len(_BUFFERS) < 16:
                _BUFFERS.append(view)  # type: ignore[arg-type]

    def data_received(self, data: bytes) -> None:
        """``asyncio.Protocol``'s entry, for a transport that takes no buffered protocol: the
        bytes go through ``get_buffer`` / ``buffer_updated`` (the instance's, when a routed read
        replaced them), in pieces the buffer can take.  uvloop's and asyncio's transports never
        call it here; uvloop looks it up at every ``set_protocol()`` (an accept, a routed read):
        defined, that look-up no longer raises and discards an ``AttributeError``."""
        view = memoryview(data)
        while view:
            buf = self.get_buffer(len(view))
            n = min(len(buf), len(view))
            buf[:n] = view[:n]
            self.buffer_updated(n)
            view = view[n:]

    def _give_back_buffer(self) -> None:
        # get_buffer() was called but no data came (EOF, error): the buffer is free again.
        view = self._view
        if view is not None:
            self._view = None
            if len(view) == RECV_BUFFER_SIZE and len(_BUFFERS) < 16:
                _BUFFERS.append(view)

    def eof_received(self) -> bool:
        if self._view is not None:
            self._give_back_buffer()
        self._eof = True
        if self._held is not None or not self._reading:
            # (after the held data; or held, reading stopped: uvloop reads on, see _hold)
            if self._held is None:
                self._held = deque()
            self._held_eof = True
        else:
            self._deliver_eof()
        if self._shut and self._reg is not None:  # (outside run() there is nothing to end)
            self._check_ended()
        return True  # keep the transport: half-open is the owner's decision

    def _deliver_eof(self) -> None:
        """The peer's EOF to the owner. A libuv stream stops reading at EOF (``uv__stream_eof``),
        so under :func:`nodetls.run` the handle then keeps the program alive only while it has
        something to send (:meth:`_go_idle`): a half-open socket the program never ends, or a
        TLS socket whose ``end()`` waits behind a handshake that can no longer finish, lets
        ``run()`` return, as such a Node process exits. Once our side has shut down too,
        :meth:`_check_ended` decides instead."""
        self.owner._on_handle_eof()
        if self._reg is not None and not self._shut and self._state == _OPEN:
            self._go_idle()

    # uvloop starts reading right after connection_made() even if the protocol paused reading
    # in it, so a read can arrive while we are stopped: keep it (and a following EOF) for the
    # owner until read_start(), in order.
    def _hold(self, data: bytes) -> None:
        if self._held is None:
            self._held = deque()
        self._held.append(data)
        t = self.transport
        if not self._reading and t is not None and t.is_reading():
            t.pause_reading()

    def _deliver_held(self) -> None:
        held = self._held
        if held is None or self._shut_hold:  # (a shutdown's completion delivers it)
            return
        # (lost: the transport is gone, what it left is delivered, hangup.py)
        delivered = False
        while held and self._reading and (self._state == _OPEN or self._state == _LOST):
            self.owner._on_handle_read(memoryview(held.popleft()))
            delivered = True
        if held or self._state != _OPEN and self._state != _LOST:
            return
        if self._held_eof and not self._reading:
            if delivered and self._hup_eof:
                self._drop_hup_eof()  # (stopped in the short read's callback: hangup.py)
            return  # (the EOF waits for read_start(), as the data: Node reads it then)
        self._held = None
        if self._held_eof:
            self._held_eof = False
            self._deliver_eof()
        if self._reading and self._state == _OPEN and self.transport is not None \
                and not self._eof:
            self.transport.resume_reading()

    def read_start(self) -> None:
        """Resume delivering reads (``transport.resume_reading()``)."""
        if not self._reading:
            self._reading = True
            if self._idle:
                self._wake()
            if self._state == _OPEN and not self._eof:
                self._hangup_at_start()  # (the peer's reset behind queued data: hangup.py)
            if self._held is not None:
                if not self._shut_hold:  # (else the shutdown's completion delivers it)
                    asyncio.get_running_loop().call_soon(self._deliver_held)
            elif self._state == _OPEN and self.transport is not None:
                self.transport.resume_reading()
            elif self._read_error is not None:  # (lost while not reading: its read's error)
                asyncio.get_running_loop().call_soon(self._report_read_error)

    def _report_read_error(self) -> None:
        err = self._read_error
        if err is not None and self._reading and self._state == _LOST:
            self._read_error = None
            self.owner._on_handle_error(err)

    def read_stop(self) -> None:
        """Stop delivering reads (``transport.pause_reading()``): the kernel buffer fills and TCP
        flow control slows the peer down."""
        if self._reading:
            self._reading = False
            if self._state == _OPEN and self.transport is not None:
                self.transport.pause_reading()
                if self._reg is not None:
                    self._go_idle()

    @property
    def reading(self) -> bool:
        """Reads are being delivered (Node's ``handle.reading``)."""
        return self._reading
