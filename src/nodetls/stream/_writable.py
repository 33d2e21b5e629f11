"""Node's ``stream.Writable`` (``lib/internal/streams/writable.js``). Part of
:mod:`nodetls.stream`."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from .. import _option_table
from .._options import normalize
from ..errors import node_error
from ..events import EventEmitter
from ._base import (
    _NO_BUF,
    DEFAULT_HIGH_WATER_MARK,
    Stream,
    _byte_chunk,
    _encode,
    _is_encoding,
    _soon,
    _wait_for,
)
from ._construct import construct

_W_OPTIONS = _option_table.names("W")


class Writable(Stream):
    """Node's ``stream.Writable``.

    Options (Node names accepted too): ``high_water_mark`` (16 KiB), ``decode_strings`` (True),
    ``default_encoding`` ('utf8'), ``write(chunk, callback)``, ``writev(chunks, callback)``,
    ``final(callback)``, ``destroy(err, callback)``, ``construct(callback)`` (Node's: see
    :mod:`nodetls.stream._construct`), ``auto_destroy``, ``emit_close``.
    """

    _HAS_W = True
    #: Node: Writable presets its _events (kShapeMode)
    _SHAPE_EVENTS: tuple[str, ...] = ("close", "error", "prefinish", "finish", "drain")
    _writev: Callable[[list[Any], Callable[..., Any]], None] | None = None
    _final: Callable[[Callable[..., Any]], None] | None = None
    #: Node's ``_construct(callback)`` hook (or the ``construct`` option): see ``_construct``.
    _construct: Callable[[Callable[..., None]], None] | None = None

    def __init__(self, options: dict[str, Any] | None = None, **kwargs: Any) -> None:
        opts = normalize(options, kwargs, _W_OPTIONS, "options") if options or kwargs else {}
        opts.pop("writable_high_water_mark", None)  # Node: only a Duplex reads the side's own
        EventEmitter.__init__(self)
        self._init_common(opts)
        self._init_writable(opts)
        if self._construct is not None or opts.get("construct") is not None:
            construct(self, opts.get("construct"))

    def _init_writable(self, opts: dict[str, Any]) -> None:
        # (Node's highWaterMarkFrom: high_water_mark wins over the side's own option)
        hwm = opts.get("high_water_mark")
        if hwm is None:
            hwm = opts.get("writable_high_water_mark")
        self._w_hwm = DEFAULT_HIGH_WATER_MARK if hwm is None else int(hwm)
        self._w_buf: deque[tuple[Any, Any]] = _NO_BUF
        self._w_len = 0
        self._w_writing = False
        self._w_sync = True
        self._w_write_len = 0
        self._w_cb: Any = None
        self._w_need_drain = False
        self._w_ending = False
        self._w_ended = False
        self._w_finished = False
        self._w_final_called = False
        self._w_prefinished = False
        self._w_pending_cb = 0
        self._w_corked = 0
        self._w_buffer_processing = False
        self._w_after_write_pending = False
        self._w_aw_info: list[Any] | None = None
        self._w_on_finished: list[Any] | None = None
        self._w_writable = opts.get("writable", True) is not False
        self._w_decode_strings = opts.get("decode_strings", True) is not False
        enc = opts.get("default_encoding")
        if enc is None:
            enc = "utf8"
        elif not _is_encoding(enc):  # Node: the constructor throws ('' and 'buffer' too)
            raise node_error("ERR_UNKNOWN_ENCODING", enc)
        self._w_default_encoding = enc.lower()
        for name in ("write", "writev", "final"):
            fn = opts.get(name)
            if fn is not None:
                setattr(self, "_" + name, fn)
        if not self._w_writable:
            self._w_ending = self._w_ended = self._w_finished = True

    # -- hooks ----------------------------------------------------------------------------------

    def _write(self, chunk: Any, callback: Callable[..., Any]) -> None:
        """Hook: consume ``chunk``, then ``callback()`` (or ``callback(err)``)."""
        if self._writev is not None:
            self._writev([chunk], callback)
        else:
            raise node_error("ERR_METHOD_NOT_IMPLEMENTED", "_write()")

    def _str_with_buffer_encoding(self, data: str) -> Any:
        """``write(str, 'buffer')``: what goes on in place of the ``str``. Node's
        ``Buffer.from(str, 'buffer')`` throws ERR_UNKNOWN_ENCODING; under
        ``decode_strings=False`` the ``str`` goes on as it is (a net socket's override: Node's
        ``TypeError``)."""
        if self._w_decode_strings:
            raise node_error("ERR_UNKNOWN_ENCODING", "buffer")
        return data

    # -- writing --------------------------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview | str, encoding: Any = None,
              callback: Callable[..., Any] | None = None) -> bool:
        """Node ``writable.write(chunk[, encoding][, callback])``.

        ``data``: ``bytes``, ``str``, or any other object of the buffer protocol (Node takes any
        TypedArray or DataView): a ``bytearray`` or a memoryview of single bytes is handed on as
        it is, any other (``array.array``, a memoryview of wider items) as its bytes; lengths
        count bytes. ``encoding``: a ``str`` chunk's, any case of a Node encoding name (base64
        decoded as Node's ``Buffer.from``: never an error); a falsy value, as Node's ``if
        (!encoding)`` (``''``, ``False``, ``0``, NaN, ``None``), is the default encoding; any
        other value raises ERR_UNKNOWN_ENCODING (a TypeError). Returns ``False`` when the
        buffered length has reached the high-water mark; wait for ``'drain'`` (or ``await
        stream.drain()``). ``callback(err)`` runs once the chunk is handled. After ``end()``:
        ``ERR_STREAM_WRITE_AFTER_END`` via ``callback`` and ``'error'``.
        """
        if encoding is not None:
            if callable(encoding):
                callback, encoding = encoding, None
            elif _option_table._falsy(encoding):  # Node: `if (!encoding)`: the default
                encoding = None  # ('', False, 0, NaN; an empty list or bytes is truthy)
            elif encoding != "buffer" and not _is_encoding(encoding):
                # Node: an encoding Buffer does not know throws, whatever the chunk
                raise node_error("ERR_UNKNOWN_ENCODING", encoding)
            elif encoding == "buffer" and isinstance(data, str):
                data = self._str_with_buffer_encoding(data)
        if type(data) is not bytes:
            if isinstance(data, str):
                if self._w_decode_strings:
                    data = _encode(data, encoding or self._w_default_encoding)
            elif data is None:
                raise node_error("ERR_STREAM_NULL_VALUES")
            elif type(data) is not bytearray:
                chunk = _byte_chunk(data)  # (a memoryview of bytes as it is)
                if chunk is None:
                    raise node_error("ERR_INVALID_ARG_TYPE", '"chunk"',
                                     "bytes, bytearray, memoryview or str", type(data).__name__)
                data = chunk
        if self._w_ending or self._destroyed:
            err = node_error("ERR_STREAM_WRITE_AFTER_END") if self._w_ending else node_error(
                "ERR_STREAM_DESTROYED", "write")
            if callback is not None:
                _soon(self._user_callback, callback, err)
            self._error_or_destroy(err, True)
            return False
        self._w_pending_cb += 1
        # Node's writeOrBuffer
        n = len(data)
        self._w_len += n
        if self._w_writing or self._w_corked or self._errored is not None:
            if self._w_buf is _NO_BUF:
                self._w_buf = deque()
            self._w_buf.append((data if type(data) is bytes or isinstance(data, str) else bytes(data),
                               callback))  # str stays str under decode_strings=False, as Node
        else:
            self._w_write_len = n
            self._w_cb = callback
            self._w_writing = True
            self._w_sync = True
            self._write(data, self._on_write_done)
            self._w_sync = False
        # (Node v20's writeOrBuffer: an empty buffer is below any mark, 0 included)
        if self._w_len < self._w_hwm or not self._w_len:
            return not self._destroyed and self._errored is None
        self._w_need_drain = True
        return False

    def _on_write_done(self, err: BaseException | None = None) -> None:
        # Node's onwrite: the callback handed to _write/_writev.
        if not self._w_writing:
            self._error_or_destroy(node_error("ERR_MULTIPLE_CALLBACK"))
            return
        sync = self._w_sync
        cb = self._w_cb
        self._w_cb = None
        self._w_writing = False
        self._w_len -= self._w_write_len
        self._w_write_len = 0
        if err is not None:
            if self._errored is None:
                self._errored = err
            if sync:
                _soon(self._onwrite_error, err, cb)
            else:
                self._onwrite_error(err, cb)
            return
        if self._w_buf:
            self._clear_buffer()
        if sync:
            # Node v20's needTick: `needDrain || (state[kState] & kDestroyed !== 0) || cb !==
            # nop`, whose middle term tests the object-mode bit (precedence), not destroyed: a
            # callback-less write completing at once on a destroyed stream schedules nothing
            need_tick = self._w_need_drain and self._w_len == 0
            if cb is None:
                if not self._w_after_write_pending and need_tick:
                    self._w_after_write_pending = True
                    _soon(self._after_write, 1, None)
                else:
                    self._w_pending_cb -= 1
                    if self._w_ending:
                        self._finish_maybe(True)
            else:
                info = self._w_aw_info
                if info is not None and info[1] is cb:
                    info[0] += 1
                else:
                    info = self._w_aw_info = [1, cb]
                    self._w_after_write_pending = True
                    _soon(self._after_write_tick, info)
        else:
            self._after_write(1, cb)

    def _onwrite_error(self, err: BaseException, cb: Any) -> None:
        self._w_pending_cb -= 1
        if cb is not None:
            self._user_callback(cb, err)
        self._error_buffer()
        self._error_or_destroy(err)

    def _after_write_tick(self, info: list[Any]) -> None:
        if self._w_aw_info is info:
            self._w_aw_info = None
        self._after_write(info[0], info[1])

    def _after_write(self, count: int, cb: Any) -> None:
        self._w_after_write_pending = False
        if (self._w_need_drain and not self._w_ending and not self._destroyed
                and self._w_len == 0):
            self._w_need_drain = False
            self.emit("drain")
        while count > 0:
            count -= 1
            self._w_pending_cb -= 1
            if cb is not None:
                self._user_callback(cb, None)
        if self._destroyed:
            self._error_buffer()
        if self._w_ending:
            self._finish_maybe(True)

    def _error_buffer(self) -> None:
        if self._w_writing:
            return
        buf = self._w_buf
        if buf:
            # Node's errorBuffer: each chunk's length is taken off and its callback called while
            # the buffer stays as it is (writable_buffer, a socket's bytes_written still count
            # every chunk in those callbacks), then the buffer is emptied.
            for chunk, cb in list(buf):
                self._w_len -= len(chunk)
                if cb is not None:
                    self._user_callback(cb, self._errored
                                        or node_error("ERR_STREAM_DESTROYED", "write"))
            buf.clear()
        self._call_finished_callbacks(self._errored or node_error("ERR_STREAM_DESTROYED", "end"))

    def _clear_buffer(self) -> None:
        buf = self._w_buf
        if self._destroyed or self._w_buffer_processing or self._w_corked or not buf:
            return
        self._w_buffer_processing = True
        if len(buf) > 1 and self._writev is not None:
            items = list(buf)
            buf.clear()
            self._w_pending_cb -= len(items) - 1
            cbs = [cb for _, cb in items if cb is not None]
            callback: Any = None
            if cbs:
                def callback(err: BaseException | None = None) -> None:
                    for c in cbs:
                        self._user_callback(c, err)
            self._do_write(True, self._w_len, [c for c, _ in items], callback)
        else:
            while buf and not self._w_writing:
                chunk, cb = buf.popleft()
                self._do_write(False, len(chunk), chunk, cb)
        self._w_buffer_processing = False

    def _do_write(self, writev: bool, n: int, chunk: Any, cb: Any) -> None:
        self._w_write_len = n
        self._w_cb = cb
        self._w_writing = True
        self._w_sync = True
        if self._destroyed:
            self._on_write_done(node_error("ERR_STREAM_DESTROYED", "write"))
        elif writev:
            self._writev(chunk, self._on_write_done)  # type: ignore[misc]
        else:
            self._write(chunk, self._on_write_done)
        self._w_sync = False

    def cork(self) -> None:
        """Node ``writable.cork()``: buffer writes until :meth:`uncork` (then one ``_writev``)."""
        self._w_corked += 1

    def uncork(self) -> None:
        """Node ``writable.uncork()``."""
        if self._w_corked:
            self._w_corked -= 1
            if not self._w_writing:
                self._clear_buffer()

    def set_default_encoding(self, encoding: str) -> Writable:
        """Node ``writable.setDefaultEncoding(enc)``: any case of a Node encoding name; any other
        value raises ERR_UNKNOWN_ENCODING (a TypeError)."""
        if not _is_encoding(encoding):
            raise node_error("ERR_UNKNOWN_ENCODING", encoding)
        self._w_default_encoding = encoding.lower()
        return self

    # -- ending ---------------------------------------------------------------------------------

    def end(self, data: Any = None, encoding: Any = None, callback: Callable[..., Any] | None = None) -> Any:
        """Node ``writable.end([chunk][, encoding][, callback])``: write ``chunk``, then finish:
        ``_final``, ``'prefinish'``, ``'finish'``; ``callback(err)`` at ``'finish'`` or error.
        Returns the stream."""
        if data is not None and callable(data):
            callback, data, encoding = data, None, None
        elif encoding is not None and callable(encoding):
            callback, encoding = encoding, None
        err: BaseException | None = None
        if data is not None:
            if self._w_ending or self._destroyed:
                err = node_error("ERR_STREAM_WRITE_AFTER_END") if self._w_ending else node_error(
                    "ERR_STREAM_DESTROYED", "write")
            self.write(data, encoding)
        if self._w_corked:
            self._w_corked = 1
            self.uncork()
        if err is not None:
            pass
        elif not self._w_ending and self._errored is None:
            self._w_ending = True
            self._finish_maybe(True)
            self._w_ended = True
        elif self._w_finished:
            err = node_error("ERR_STREAM_ALREADY_FINISHED", "end")
        elif self._destroyed:
            err = node_error("ERR_STREAM_DESTROYED", "end")
        if callback is not None:
            if err is not None or self._errored is not None or self._w_finished:
                _soon(self._user_callback, callback, err or self._errored)
            else:
                if self._w_on_finished is None:
                    self._w_on_finished = []
                self._w_on_finished.append(callback)
        return self

    def _need_finish(self) -> bool:
        return (self._w_ending and not self._destroyed and not self._w_finished
                and not self._w_writing and not self._error_emitted and not self._close_emitted
                and self._errored is None and not self._w_buf and self._w_len == 0
                and not self._w_buffer_processing)  # (Node's kBuffered, see _base.destroy)

    def _finish_maybe(self, sync: bool) -> None:
        if (self._w_ending and not self._destroyed and not self._w_finished  # (_need_finish)
                and not self._w_writing and not self._error_emitted and not self._close_emitted
                and self._errored is None and not self._w_buf and self._w_len == 0
                and not self._w_buffer_processing):
            self._prefinish()
            if self._w_pending_cb == 0:
                if sync:
                    self._w_pending_cb += 1
                    _soon(self._finish_maybe_nt)
                elif self._need_finish():
                    self._w_pending_cb += 1
                    self._finish()

    def _finish_maybe_nt(self) -> None:
        if self._need_finish():
            self._finish()
        else:
            self._w_pending_cb -= 1

    def _prefinish(self) -> None:
        if self._w_prefinished or self._w_final_called:
            return
        final = self._final
        if final is not None and not self._destroyed:
            self._w_final_called = True
            self._w_sync = True
            self._w_pending_cb += 1
            try:
                final(self._on_final_done)
            except Exception as exc:  # noqa: BLE001 - Node: a throwing _final is a final error
                self._on_final_done(exc)
            self._w_sync = False
        else:
            self._w_final_called = True
            self._w_prefinished = True
            if "prefinish" in self._events:  # (no emit nobody listens to)
                self.emit("prefinish")

    def _on_final_done(self, err: BaseException | None = None) -> None:
        if self._w_prefinished:
            self._error_or_destroy(err or node_error("ERR_MULTIPLE_CALLBACK"))
            return
        self._w_pending_cb -= 1
        if err is not None:
            self._call_finished_callbacks(err)
            self._error_or_destroy(err, self._w_sync)
        elif (self._w_ending and not self._destroyed and not self._w_finished  # (_need_finish)
                and not self._w_writing and not self._error_emitted and not self._close_emitted
                and self._errored is None and not self._w_buf and self._w_len == 0
                and not self._w_buffer_processing):
            self._w_prefinished = True
            if "prefinish" in self._events:  # (no emit nobody listens to)
                self.emit("prefinish")
            self._w_pending_cb += 1
            self._running_loop().call_soon(self._finish)  # (_soon, inlined)

    def _finish(self) -> None:
        self._w_pending_cb -= 1
        self._w_finished = True
        if self._w_on_finished:
            self._call_finished_callbacks(None)
        self._emit0("finish")
        if self._auto_destroy:
            if (not self._HAS_R or self._r_end_emitted  # type: ignore[attr-defined]
                    or not self._r_readable):  # type: ignore[attr-defined]
                self.destroy()

    def _call_finished_callbacks(self, err: BaseException | None) -> None:
        cbs = self._w_on_finished
        if cbs:
            self._w_on_finished = None
            for cb in cbs:
                self._user_callback(cb, err)

    async def drain(self) -> None:
        """Wait while ``write()`` has returned ``False`` (until ``'drain'``); returns at once
        otherwise. Raises the stream's error, or ``ERR_STREAM_DESTROYED`` if it closes first."""
        await _wait_for(self, "drain", lambda: not self.writable_need_drain)

    # -- properties -----------------------------------------------------------------------------

    @property
    def writable(self) -> bool:
        """Node ``writable.writable``: safe to write (not ended, destroyed or errored)."""
        return (self._w_writable and self._errored is None and not self._w_ending
                and not self._w_ended and not self._destroyed)

    @writable.setter
    def writable(self, value: bool) -> None:
        self._w_writable = bool(value)

    @property
    def writable_ended(self) -> bool:
        """Node ``writable.writableEnded``: ``end()`` was called."""
        return self._w_ending

    @property
    def writable_finished(self) -> bool:
        """Node ``writable.writableFinished``: ``'finish'`` was emitted."""
        return self._w_finished

    @property
    def writable_length(self) -> int:
        """Node ``writable.writableLength``: bytes queued, including the write in flight."""
        return self._w_len

    @property
    def writable_high_water_mark(self) -> int:
        """Node ``writable.writableHighWaterMark``."""
        return self._w_hwm

    @property
    def writable_aborted(self) -> bool:
        """Node ``writable.writableAborted``: destroyed or errored before ``'finish'``."""
        return self._w_writable and (self._destroyed or self._errored is not None) \
            and not self._w_finished

    @property
    def writable_need_drain(self) -> bool:
        """Node ``writable.writableNeedDrain``: ``write()`` returned ``False``, no ``'drain'`` yet."""
        return self._w_need_drain and not self._destroyed and not self._w_ending

    @property
    def writable_corked(self) -> int:
        """Node ``writable.writableCorked``."""
        return self._w_corked

    @property
    def writable_object_mode(self) -> bool:
        """Node ``writable.writableObjectMode``: always ``False`` (no object mode)."""
        return False

    @property
    def writable_buffer(self) -> list[Any]:
        """Node ``writable.writableBuffer``: the chunks waiting behind the write in flight (a
        copy: ``bytes``; a ``str`` under ``decode_strings=False``). Node's items are
        ``{chunk, encoding, callback}``: here the chunks alone."""
        return [chunk for chunk, _ in self._w_buf]

    def pipe(self, *args: Any, **kwargs: Any) -> Any:  # Node: Writable.prototype.pipe
        self._error_or_destroy(node_error("ERR_STREAM_CANNOT_PIPE"))
