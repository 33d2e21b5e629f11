"""Readable's consuming side (``lib/internal/streams/readable.js``): Node's ``read()``
algorithm (``howMuchToRead``, ``fromList``), the end of the stream (``endReadable``,
``endReadableNT``, ``endWritableNT``) and flowing mode (``flow``, ``resume``, ``pause``,
``isPaused``). :class:`~nodetls.stream.Readable` takes these functions as its methods (under
the same names), as it takes :mod:`nodetls.stream._readable_listening`'s: the module keeps
``_readable.py`` (the stream's state, its listener hooks, ``push()``/``unshift()``, ``pipe()``,
the properties) readable in one sitting. The functions are the methods as they were, so a
subclass overrides and calls them (``super().read(n)``) as any method."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import node_error
from ._base import _MAX_HWM, Chunk, _soon

if TYPE_CHECKING:
    from ._readable import Readable


def _how_much_to_read(self: Readable, n: int | None) -> int:
    if (n is not None and n <= 0) or (self._r_len == 0 and self._r_ended):
        return 0
    if n is None:
        if self._r_flowing and self._r_len:
            return len(self._r_buf[0])
        return self._r_len
    if n <= self._r_len:
        return n
    return self._r_len if self._r_ended else 0


def read(self: Readable, size: int | None = None) -> Chunk | None:
    """Node ``readable.read([size])``: take data from the buffer (all of it without ``size``;
    in flowing mode one chunk), or ``None``. Also emits it as ``'data'``."""
    n_orig = size
    if size is not None:
        size = int(size)
        if size > self._r_hwm:
            if size > _MAX_HWM:
                raise node_error("ERR_OUT_OF_RANGE", "size", "<= 1GiB", size)
            self._r_hwm = 1 << (size - 1).bit_length()
        if size != 0:
            self._r_emitted_readable = False
    else:
        self._r_emitted_readable = False
    if size == 0 and self._r_need_readable and (
        (self._r_len >= self._r_hwm if self._r_hwm else self._r_len > 0) or self._r_ended
    ):
        if self._r_len == 0 and self._r_ended:
            self._end_readable()
        else:
            self._emit_readable()
        return None
    n = 0 if size == 0 else self._how_much_to_read(size)  # (read(0): no call)
    if n == 0 and self._r_ended:
        if self._r_len == 0:
            self._end_readable()
        return None
    do_read = self._r_need_readable
    if self._r_len == 0 or self._r_len - n < self._r_hwm:
        do_read = True
    if self._r_reading or self._r_ended or self._destroyed or self._errored is not None:
        do_read = False
    elif do_read:
        self._r_reading = True
        self._r_sync = True
        if self._r_len == 0:
            self._r_need_readable = True
        try:
            self._read(self._r_hwm)
        except Exception as exc:  # noqa: BLE001 - Node: errorOrDestroy
            self._error_or_destroy(exc)
        self._r_sync = False
        if not self._r_reading and size != 0:
            n = self._how_much_to_read(n_orig if n_orig is None else int(n_orig))
    ret = self._from_list(n) if n > 0 else None
    if ret is None:
        if self._r_len <= self._r_hwm:
            self._r_need_readable = True
        n = 0
    else:
        self._r_len -= n
        if self._r_await_drain:
            self._r_await_drain.clear()  # type: ignore[union-attr]
    if self._r_len == 0:
        if not self._r_ended:
            self._r_need_readable = True
        if n_orig != n and self._r_ended:
            self._end_readable()
    if ret is not None and not self._error_emitted and not self._close_emitted:
        self._r_data_emitted = True
        self.emit("data", ret)
    return ret


def _from_list(self: Readable, n: int) -> Any:
    buf = self._r_buf
    if not buf:
        return None
    first = buf[0]
    if n >= self._r_len:
        if len(buf) == 1:
            return buf.popleft()
        joiner: Any = "" if self._r_decoder is not None else b""
        ret = joiner.join(buf)
        buf.clear()
        return ret
    if n < len(first):
        buf[0] = first[n:]
        return first[:n]
    if n == len(first):
        return buf.popleft()
    parts = []
    while n > 0:
        c = buf[0]
        if len(c) <= n:
            parts.append(buf.popleft())
            n -= len(c)
        else:
            parts.append(c[:n])
            buf[0] = c[n:]
            n = 0
    return ("" if self._r_decoder is not None else b"").join(parts)



def _end_readable(self: Readable) -> None:
    if not self._r_end_emitted:
        self._r_ended = True
        # Each call queues its own endReadableNT, as Node's: one already pending does not make
        # a second redundant, since the first finds nothing to do while an unshift() has put
        # data back, and the second, later in the queue, emits 'end' once that data is read.
        self._running_loop().call_soon(self._end_readable_nt)  # (_soon, inlined)


def _end_readable_nt(self: Readable) -> None:
    if (self._errored is None and not self._close_emitted and not self._r_end_emitted
            and self._r_len == 0):
        self._r_end_emitted = True
        self._emit0("end")
        # (Writable.writable, inlined; _HAS_W, a class attribute, read once: CPython 3.11
        # does not specialise an instance's read of one)
        # (_w_ending first: a listener of 'end' usually ended the writable side)
        has_w = self._HAS_W
        if (has_w and not self._w_ending and self._w_writable  # type: ignore[attr-defined]
                and self._errored is None and not self._w_ended  # type: ignore[attr-defined]
                and not self._destroyed and getattr(self, "allow_half_open", True) is False):
            _soon(self._end_writable_nt)
        elif self._auto_destroy:
            if not has_w or self._w_finished or not self._w_writable:  # type: ignore[attr-defined]
                self.destroy()


def _end_writable_nt(self: Readable) -> None:
    if self.writable and not self._w_ending and not self._destroyed:  # type: ignore[attr-defined]
        self.end()  # type: ignore[attr-defined]


def _flow(self: Readable) -> None:
    while self._r_flowing and self.read() is not None:
        pass


def resume(self: Readable) -> Readable:
    """Node ``readable.resume()``: switch to flowing mode (``'data'`` events)."""
    if not self._r_flowing:
        self._r_flowing = not self._r_readable_listening
        if not self._r_resume_scheduled:
            self._r_resume_scheduled = True
            self._running_loop().call_soon(self._resume_)  # (_soon, inlined)
    self._r_paused = False
    return self


def _resume_(self: Readable) -> None:
    plain_read = type(self).read is read  # (Readable.read: this function)
    if not self._r_reading:
        if (plain_read and not self._r_len and not self._r_ended
                and not self._destroyed and self._errored is None):
            # read(0) with nothing buffered (start the source reading): what read()'s
            # path leaves, without the call and its checks -- _read(), then wait for data
            # ('readable' due). A class overriding read() gets its call, as Node makes it.
            self._r_reading = self._r_sync = self._r_need_readable = True
            try:
                self._read(self._r_hwm)
            except Exception as exc:  # noqa: BLE001 - Node: errorOrDestroy
                self._error_or_destroy(exc)
            self._r_sync = False
            # (usually still set: a push() during _read() may have cleared it)
            if not self._r_need_readable and self._r_len <= self._r_hwm:
                self._r_need_readable = True
        else:
            self.read(0)
    self._r_resume_scheduled = False
    if "resume" in self._events:  # (no emit nobody listens to)
        self.emit("resume")
    if not self._r_flowing:  # (flow() and its last read(0): nothing while not flowing)
        return
    if (self._r_reading and not self._r_len and not self._r_ended and not self._destroyed
            and self._errored is None and plain_read):
        # flow(): its read() finds nothing buffered and a _read already in progress; what
        # it leaves, without the calls (resume() on a socket waiting for data; a subclass
        # overriding read() gets its call, as Node's flow() makes it). Still reading: no
        # read(0) due.
        self._r_emitted_readable = False
        self._r_need_readable = True
        return
    self._flow()
    if self._r_flowing and not self._r_reading:
        self.read(0)


def pause(self: Readable) -> Readable:
    """Node ``readable.pause()``: stop ``'data'`` events; data accumulates in the buffer."""
    if self._r_flowing is not False:
        self._r_flowing = False
        if "pause" in self._events:  # (no emit nobody listens to)
            self.emit("pause")
    self._r_paused = True
    return self


def is_paused(self: Readable) -> bool:
    """Node ``readable.isPaused()``."""
    return self._r_paused is True or self._r_flowing is False
