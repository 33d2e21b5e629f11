"""The write flow control of ``TLSTransport`` (part of :mod:`nodetls.aio._transport`):
asyncio's SSL transport's, with its count of the write buffer (see that module's docstring)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["WriteFlow", "HIGH", "LOW", "READ_HIGH", "READ_LOW", "limits"]

#: asyncio's SSL transport's defaults (``constants.FLOW_CONTROL_HIGH_WATER_SSL_WRITE``, uvloop's
#: too): pause at 512 KiB, resume at 128 KiB.
HIGH = 512 * 1024
LOW = HIGH // 4
#: Their read limits (``FLOW_CONTROL_HIGH_WATER_SSL_READ``): while the protocol is paused,
#: the TCP reads stop once 256 KiB of ciphertext are held.
READ_HIGH = 256 * 1024
READ_LOW = READ_HIGH // 4
#: The TCP transport's own write limits (asyncio's and uvloop's TCP defaults, TCPHandle's too):
#: above ``_TCP_HIGH`` asyncio's SSL layer stops handing it ciphertext, until it is at or below
#: ``_TCP_LOW``.
_TCP_HIGH = 64 * 1024
_TCP_LOW = 16 * 1024


def limits(high: int | None, low: int | None, default: int) -> tuple[int, int]:
    """``(high, low)`` as asyncio's ``set_write_buffer_limits``/``set_read_buffer_limits``
    make them (``add_flowcontrol_defaults``): ``high`` ``default`` (or ``4 * low``), ``low``
    ``high // 4``; ``ValueError`` unless ``high >= low >= 0``."""
    if high is None:
        high = default if low is None else 4 * low
    if low is None:
        low = high // 4
    if not high >= low >= 0:
        raise ValueError(f"high ({high!r}) must be >= low ({low!r}) must be >= 0")
    return high, low


if TYPE_CHECKING:
    class _Fields:  # the transport's attributes this mixin uses
        _sock: Any
        _handle: Any
        _protocol: Any
        _protocol_paused: bool
        _checked: bool
        _high: int
        _low: int
        _lost: bool
        _closing: bool
        _eof_written: bool
        _write: Any
        _tcp_full: bool
        _held: int
        _paused_reading: bool

        def _report(self, exc: BaseException, message: str) -> None: ...

    _Base = _Fields
else:
    _Base = object


class WriteFlow(_Base):
    """Write flow control (a mixin of ``TLSTransport``, its attributes)."""

    __slots__ = ()
    #: ``docs/gen_reference.py`` lists this class's members as ``TLSTransport``'s own.
    _MEMBERS_OF_SUBCLASS = True

    def _write_filled(self) -> None:
        """A write left the TCP transport above its high-water mark (or queued plaintext in
        the wrap): from now on, until the TCP transport drains (``_on_drain``), what is written
        counts as held (``_write_held``: ``write()`` takes it while ``_write`` is None)."""
        h = self._handle
        if (h is not None and not self._tcp_full
                and h.lower.get_write_buffer_size() > _TCP_HIGH):
            self._tcp_full = True
            self._write = None
        self._control_writing()

    def _write_held(self, write: Any, data: bytes | bytearray | memoryview) -> None:
        """``write()`` while the TCP transport is above its high-water mark: asyncio's SSL layer
        keeps the ciphertext (counted by ``get_write_buffer_size()``); here it is queued in the
        TCP transport, and what it added there is counted."""
        lower = self._handle.lower
        before = lower.get_write_buffer_size()
        write(data)
        self._held += max(0, lower.get_write_buffer_size() - before)
        self._control_writing()

    def get_write_buffer_size(self) -> int:
        """What asyncio's SSL transport counts (and uvloop's): the plaintext not yet encrypted
        and the ciphertext written while the TCP transport was above its high-water mark
        (64 KiB), not the TCP transport's buffer (see the module's docstring)."""
        h = self._sock._handle
        if h is None:
            return 0
        return int(h.get_write_buffer_size() - h.lower.get_write_buffer_size()) + self._held

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return (self._low, self._high)

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._high, self._low = limits(high, low, HIGH)  # (the TCP transport keeps its own)
        self._control_writing()

    def _control_writing(self) -> None:
        """asyncio's SSL transport's write flow control (``_control_app_writing``, uvloop's
        too): ``pause_writing()`` when the buffer is at or above the high-water mark (so at
        once with a mark of 0), ``resume_writing()`` when paused and at or below the low one.
        Checked at each write, at ``set_write_buffer_limits()``, at a drain and, while paused
        or with a high-water mark of 0, at each read (as asyncio's)."""
        if self._lost:
            return
        self._checked = True
        size = self.get_write_buffer_size()
        if size >= self._high and not self._protocol_paused:
            self._protocol_paused = True
            self._tell_protocol("pause_writing")
        elif size <= self._low and self._protocol_paused:
            self._protocol_paused = False
            self._tell_protocol("resume_writing")

    def _tell_protocol(self, name: str) -> None:
        """``protocol.pause_writing()`` / ``resume_writing()``: an exception is reported to the
        loop's exception handler, the connection goes on (asyncio's)."""
        try:
            getattr(self._protocol, name)()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:  # noqa: BLE001
            self._report(exc, f"protocol.{name}() failed")

    def _on_drain(self) -> None:
        """The wrap's queue and the TCP buffer drained (the socket's ``_on_handle_drain``): at
        or below its low-water mark, asyncio's SSL layer hands it all it held (none held)."""
        if self._tcp_full:
            h = self._handle
            if h is None or h.lower.get_write_buffer_size() <= _TCP_LOW:
                self._tcp_full = False
                self._held = 0
                self._write_path()
        self._control_writing()

    def _write_path(self) -> None:
        """``write()``'s fast path (``_write``: the wrap's write) back, unless its slow path is
        due: closing or closed, after ``write_eof()``, the TCP transport full, reading paused or
        the peer's FIN held (writes are dropped then: see ``write()``)."""
        h = self._handle
        if h is not None and not (self._closing or self._eof_written or self._tcp_full
                                  or self._paused_reading or h._eof_held):
            self._write = h.write
