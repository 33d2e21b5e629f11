"""Node-like streams: :class:`Readable`, :class:`Writable`, :class:`Duplex`, :func:`duplex_pair`.

A port of Node v20's ``lib/internal/streams/{readable,writable,duplex,destroy}.js`` state machines
for bytes (and ``str`` after :meth:`Readable.set_encoding`); object mode is not supported.
Node's ``process.nextTick`` is ``loop.call_soon`` on the running loop, so every event Node defers
to the next tick is emitted on a later loop iteration here too, in Node's order:

* Readable: ``push(chunk)`` buffers or (flowing, empty buffer, not inside ``_read``) emits
  ``'data'`` at once; ``push(None)`` ends; ``'end'`` comes once the buffer has been consumed.
* Writable: ``write()`` returns ``False`` when the buffered length reaches the high-water mark,
  ``'drain'`` follows when it is back to 0; ``end()`` -> ``_final`` -> ``'prefinish'`` ->
  ``'finish'``.
* ``destroy(err)``: ``_destroy(err, cb)``, then ``'error'`` (if ``err``) and ``'close'``.
* ``auto_destroy`` (default ``True``): destroyed once ``'end'`` and ``'finish'`` have both happened.

Subclass hooks, as Node's: ``_read(size)``, ``_write(chunk, callback)`` (``callback(err=None)``;
one write in flight at a time), ``_writev(chunks, callback)`` (optional), ``_final(callback)``,
``_destroy(err, callback)``. The same hooks may be passed as options (``read=``, ``write=``,
``writev=``, ``final=``, ``destroy=``); unlike Node's, these receive no ``this``.

Differences from Node: a :class:`Readable` without ``_read`` is a push source (the default
``_read`` does nothing, Node throws); ``async for`` over a stream that ended normally does not
destroy it (Node destroys a half-open duplex there), only ``break``/an exception does.
"""

from __future__ import annotations

import asyncio
import base64
import codecs
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from . import _option_table
from ._options import normalize
from .errors import node_error
from .events import _ONCE_TYPES, EventEmitter, _invoke, _Once, _report

Chunk = bytes | str
"""A ``'data'`` chunk / ``async for`` item: ``bytes``, ``str`` after ``set_encoding()``."""

__all__ = ["Stream", "Readable", "Writable", "Duplex", "duplex_pair"]

DEFAULT_HIGH_WATER_MARK = 16 * 1024
_MAX_HWM = 0x40000000

_get_running_loop = asyncio.get_running_loop

# The empty buffer every stream starts with: a stream gets its own deque on its first buffered
# chunk (an idle connection holds none; a deque costs 624 bytes).  maxlen=0: never written to;
# every append site replaces it first.
_NO_BUF: deque[Any] = deque(maxlen=0)
_NO_DRAIN: frozenset[Any] = frozenset()


def _soon(cb: Callable[..., Any], *args: Any) -> None:
    """Node's ``process.nextTick``."""
    _get_running_loop().call_soon(cb, *args)


# -- encodings ----------------------------------------------------------------------------------

_ENCODINGS = {
    "utf8": "utf-8", "utf-8": "utf-8", "latin1": "latin-1", "binary": "latin-1",
    "ascii": "ascii", "ucs2": "utf-16-le", "ucs-2": "utf-16-le", "utf16le": "utf-16-le",
    "utf-16le": "utf-16-le", "hex": "hex", "base64": "base64", "base64url": "base64url",
}


def _norm_encoding(enc: str) -> str:
    name = _ENCODINGS.get(enc.lower())
    if name is not None:
        return name
    try:
        return codecs.lookup(enc).name
    except (LookupError, TypeError):
        raise node_error("ERR_UNKNOWN_ENCODING", enc) from None


def _encode(s: str, encoding: str | None) -> bytes:
    """Node ``Buffer.from(string, encoding)``."""
    if encoding is None:
        return s.encode()
    enc = _norm_encoding(encoding)
    if enc == "hex":  # Node decodes pairs up to the first invalid one
        try:
            return bytes.fromhex(s[: len(s) // 2 * 2])
        except ValueError:
            out = bytearray()
            for i in range(0, len(s) - 1, 2):
                try:
                    out.append(int(s[i : i + 2], 16))
                except ValueError:
                    break
            return bytes(out)
    if enc in ("base64", "base64url"):
        s = s.replace("-", "+").replace("_", "/")
        return base64.b64decode(s + "=" * (-len(s) % 4))
    return s.encode(enc, "replace")


class _B64Decoder:
    """Incremental Buffer -> base64 string (Node's StringDecoder for 'base64')."""

    def __init__(self, url: bool = False) -> None:
        self._rest = b""
        self._url = url

    def _enc(self, b: bytes) -> str:
        if self._url:
            return base64.urlsafe_b64encode(b).decode().rstrip("=")
        return base64.b64encode(b).decode()

    def decode(self, data: bytes, final: bool = False) -> str:
        data = self._rest + data
        if final:
            self._rest = b""
            return self._enc(data) if data else ""
        cut = len(data) - len(data) % 3
        self._rest = data[cut:]
        return self._enc(data[:cut])


class _HexDecoder:
    def decode(self, data: bytes, final: bool = False) -> str:
        return data.hex()


def _make_decoder(enc: str) -> Any:
    name = _norm_encoding(enc)
    if name == "hex":
        return _HexDecoder()
    if name in ("base64", "base64url"):
        return _B64Decoder(name == "base64url")
    return codecs.getincrementaldecoder(name)("replace")


# -- Stream: what both sides share (Node's destroy.js) ------------------------------------------


class Stream(EventEmitter):
    """Base of :class:`Readable` and :class:`Writable`: ``destroy()`` and close bookkeeping
    (Node's ``lib/internal/streams/destroy.js``)."""

    _HAS_R = False
    _HAS_W = False
    #: ``_emit_close_nt`` does something (a socket's 'close' comes from its handle instead, and
    #: its ``_emit_close_nt`` is empty: no tick is scheduled for it).
    _CLOSE_NT = True

    def _init_common(self, opts: dict[str, Any]) -> None:
        self._destroyed = False
        self._errored: BaseException | None = None
        self._error_emitted = False
        self._error_pending = False
        self._close_emitted = False
        self._closed = False
        self._close_waiters: list[asyncio.Future[None]] | None = None
        self._auto_destroy = bool(opts.get("auto_destroy", True))
        self._emit_close = bool(opts.get("emit_close", True))
        destroy = opts.get("destroy")
        if destroy is not None:
            self._destroy = destroy  # type: ignore[method-assign]

    # Exceptions escaping a listener destroy the stream (Node's captureRejections behaviour).
    # Once it is destroyed (a 'close' listener, a write callback called with the destroy error)
    # there is nothing left to destroy: the loop's exception handler gets it (Node: uncaught).
    def _on_listener_error(self, exc: Exception) -> None:
        if self._destroyed:
            _report(self, exc, f"listener of destroyed {type(self).__name__} raised")
        else:
            self.destroy(exc)

    def _user_callback(self, cb: Callable[..., Any], err: BaseException | None) -> None:
        """Call a ``write()``/``end()`` callback; one that raises is handled as a raising
        listener (the stream's state stays consistent: the other callbacks still run)."""
        try:
            _invoke(cb, (err,))
        except Exception as exc:  # noqa: BLE001
            self._on_listener_error(exc)

    @property
    def destroyed(self) -> bool:
        """Node ``stream.destroyed``."""
        return self._destroyed

    @property
    def errored(self) -> BaseException | None:
        """Node ``stream.errored``: the error the stream was destroyed with, or ``None``."""
        return self._errored

    @property
    def closed(self) -> bool:
        """Node ``stream.closed``: ``_destroy`` has completed."""
        return self._closed

    def destroy(self, err: BaseException | None = None, callback: Callable[..., Any] | None = None) -> Any:
        """Node ``stream.destroy([error])``: idempotent; calls ``_destroy(err, cb)``, then emits
        ``'error'`` (if ``err``) and ``'close'`` on a later loop iteration. Returns the stream."""
        if self._destroyed:
            if callback is not None:
                _invoke(callback, (None,))
            return self
        if err is not None and self._errored is None:
            self._errored = err
        self._destroyed = True
        if self._HAS_W and (self._w_buf or self._w_on_finished):  # type: ignore[attr-defined]
            _soon(self._error_buffer)  # type: ignore[attr-defined]
        called = False

        def on_destroy(e: BaseException | None = None) -> None:
            nonlocal called
            if called:
                return
            called = True
            if e is not None and self._errored is None:
                self._errored = e
            self._closed = True
            if callback is not None:
                _invoke(callback, (e,))
            if e is not None:
                self._error_pending = True
                _soon(self._emit_error_close_nt, e)
            elif self._CLOSE_NT:
                _soon(self._emit_close_nt)

        try:
            self._destroy(err, on_destroy)
        except Exception as e:  # noqa: BLE001 - Node: a throwing _destroy is a destroy error
            on_destroy(e)
        return self

    def _destroy(self, err: BaseException | None, callback: Callable[..., Any]) -> None:
        """Hook: release resources, then ``callback(err)``."""
        callback(err)

    def _emit_error_close_nt(self, err: BaseException) -> None:
        self._emit_error_nt(err)
        self._emit_close_nt()

    def _emit_error_nt(self, err: BaseException) -> None:
        self._error_pending = False
        if self._error_emitted:
            return
        self._error_emitted = True
        self._emit_error(err)

    def _emit_error(self, err: BaseException) -> None:
        """Emit ``'error'``; with no listener, report to the loop instead of raising in a callback."""
        if "error" in self._events or self._has_error_monitor:
            try:
                self.emit("error", err)
            except BaseException as exc:  # noqa: BLE001 - unhandled even with error_monitor
                _report(self, exc, f"unhandled 'error' event on {type(self).__name__}")
        else:
            _report(self, err, f"unhandled 'error' event on {type(self).__name__}")

    def _emit_close_nt(self) -> None:
        self._mark_close_emitted()
        if self._emit_close:
            if "close" in self._events:  # (no emit nobody listens to)
                self.emit("close")

    def _mark_close_emitted(self) -> None:
        self._close_emitted = True
        waiters = self._close_waiters
        if waiters:
            self._close_waiters = None
            for fut in waiters:
                if not fut.done():
                    fut.set_result(None)

    def _error_or_destroy(self, err: BaseException, sync: bool = False) -> None:
        """Node's ``errorOrDestroy``."""
        if self._destroyed:
            return
        if self._auto_destroy:
            self.destroy(err)
        else:
            if self._errored is None:
                self._errored = err
            if sync:
                _soon(self._emit_error_nt, err)
            else:
                self._emit_error_nt(err)

    async def wait_closed(self) -> None:
        """Wait until the stream has emitted ``'close'`` (returns at once if it has)."""
        if self._close_emitted:
            return
        fut = _get_running_loop().create_future()
        if self._close_waiters is None:
            self._close_waiters = []
        self._close_waiters.append(fut)
        await fut


async def _wait_for(stream: Stream, event: str, ready: Callable[[], bool]) -> None:
    """Wait for ``event`` unless ``ready()``; raise the stream's error, or ``ERR_STREAM_DESTROYED``
    if it closes first."""
    if stream._errored is not None:
        raise stream._errored
    if ready():
        return
    if stream._destroyed:
        raise node_error("ERR_STREAM_DESTROYED", event)
    fut: asyncio.Future[None] = _get_running_loop().create_future()

    def on_event(*_: Any) -> None:
        if not fut.done():
            fut.set_result(None)

    def on_fail(*_: Any) -> None:
        if not fut.done():
            fut.set_exception(stream._errored or node_error("ERR_STREAM_DESTROYED", event))

    stream.on(event, on_event)
    stream.on("error", on_fail)
    stream.on("close", on_fail)
    try:
        await fut
    finally:
        stream.remove_listener(event, on_event)
        stream.remove_listener("error", on_fail)
        stream.remove_listener("close", on_fail)


# -- Readable ----------------------------------------------------------------------------------

_R_OPTIONS = _option_table.names("R")
_W_OPTIONS = _option_table.names("W")
_UNSET: Any = object()


class Readable(Stream):
    """Node's ``stream.Readable`` (bytes, or ``str`` after :meth:`set_encoding`).

    Options (Node names accepted too): ``high_water_mark`` (16 KiB), ``encoding``,
    ``read(size)``, ``destroy(err, callback)``, ``auto_destroy`` (True), ``emit_close`` (True).
    """

    _HAS_R = True
    _SHAPE_MODE = True  # Node: Readable presets its _events (kShapeMode)
    #: Node's ``maybeReadMore``: after a push, call ``_read`` again until the buffer reaches the
    #: high-water mark. Pull sources need it; push sources (sockets, whose handle keeps reading
    #: until ``read_stop``) set it to False and save a loop callback per chunk.
    _read_more = True

    def __init__(self, options: dict[str, Any] | None = None, **kwargs: Any) -> None:
        opts = normalize(options, kwargs, _R_OPTIONS, "options") if options or kwargs else {}
        EventEmitter.__init__(self)
        self._init_common(opts)
        self._init_readable(opts)

    def _init_readable(self, opts: dict[str, Any]) -> None:
        self._r_buf: deque[Any] = _NO_BUF
        self._r_len = 0
        hwm = opts.get("readable_high_water_mark", opts.get("high_water_mark"))
        self._r_hwm = DEFAULT_HIGH_WATER_MARK if hwm is None else int(hwm)
        self._r_flowing: bool | None = None
        self._r_paused: bool | None = None
        self._r_ended = False
        self._r_end_emitted = False
        self._r_reading = False
        self._r_sync = True
        self._r_need_readable = False
        self._r_emitted_readable = False
        self._r_readable_listening = False
        self._r_resume_scheduled = False
        self._r_reading_more = False
        self._r_data_listening = False
        self._r_data_emitted = False
        self._r_decoder: Any = None
        self._r_encoding: str | None = None
        self._r_pipes: list[Any] = []
        self._r_await_drain: set[Any] | frozenset[Any] = _NO_DRAIN  # a set once a pipe waits
        self._r_readable = opts.get("readable", True) is not False
        read = opts.get("read")
        if read is not None:
            self._read = read  # type: ignore[method-assign]
        if not self._r_readable:
            self._r_ended = self._r_end_emitted = True
        enc = opts.get("encoding")
        if enc:
            self.set_encoding(enc)

    # -- hooks ----------------------------------------------------------------------------------

    def _read(self, size: int) -> None:
        """Hook: the consumer wants up to ``size`` more units; ``push()`` them (now or later).

        The default does nothing (a push source)."""

    _HOOK_EVENTS = frozenset({"data", "readable"})

    def _listener_added(self, event: str) -> None:
        # Node's Readable.prototype.on
        if event == "data":
            self._r_data_listening = True
            if "readable" in self._events:
                self._r_readable_listening = True
            if self._r_flowing is not False:
                self.resume()
        elif event == "readable":
            if not self._r_end_emitted and not self._r_readable_listening:
                self._r_readable_listening = self._r_need_readable = True
                self._r_flowing = False
                self._r_emitted_readable = False
                if self._r_len:
                    self._emit_readable()
                elif not self._r_reading:
                    _soon(self.read, 0)

    def _listener_removed(self, event: str) -> None:
        if event == "readable":
            _soon(self._update_readable_listening)
        elif event == "data" and "data" not in self._events:
            self._r_data_listening = False

    def _update_readable_listening(self) -> None:
        self._r_readable_listening = "readable" in self._events
        if self._r_resume_scheduled and self._r_paused is False:
            self._r_flowing = True
        elif "data" in self._events:
            self.resume()
        elif not self._r_readable_listening:
            self._r_flowing = None

    # -- producing ------------------------------------------------------------------------------

    def push(self, chunk: bytes | bytearray | memoryview | str | None, encoding: str | None = None) -> bool:
        """Node ``readable.push(chunk)``: add data (``None`` = end of stream).

        Returns ``False`` once the buffer has reached the high-water mark: stop pushing until
        ``_read`` is called again."""
        if chunk is None:
            self._r_reading = False
            self._on_eof_chunk()
            return False
        if type(chunk) is not bytes:
            chunk = self._coerce_chunk(chunk, encoding)
            if chunk is None:
                return False
        if not chunk:
            self._r_reading = False
            if self._read_more:
                self._maybe_read_more()
            return not self._r_ended and (self._r_len < self._r_hwm or self._r_len == 0)
        if self._r_ended:
            self._error_or_destroy(node_error("ERR_STREAM_PUSH_AFTER_EOF"))
            return False
        if self._destroyed or self._errored is not None:
            return False
        self._r_reading = False
        dec = self._r_decoder
        if dec is not None and type(chunk) is bytes:
            chunk = dec.decode(chunk)
            if not chunk:
                if self._read_more:
                    self._maybe_read_more()
                return self._r_len < self._r_hwm or self._r_len == 0
        # Node's addChunk
        if self._r_flowing and not self._r_len and not self._r_sync and self._r_data_listening:
            self._r_data_emitted = True
            self.emit("data", chunk)
        else:
            self._r_len += len(chunk)
            buf = self._r_buf
            if buf is _NO_BUF:
                buf = self._r_buf = deque()
            buf.append(chunk)
            if self._r_need_readable:
                self._emit_readable()
        if self._read_more:
            self._maybe_read_more()
        return not self._r_ended and (self._r_len < self._r_hwm or self._r_len == 0)

    def _coerce_chunk(self, chunk: Any, encoding: str | None) -> Any:
        if isinstance(chunk, str):
            if self._r_decoder is not None and (encoding is None or _norm_encoding(encoding) == self._r_encoding):
                return chunk  # already in the stream's encoding
            return _encode(chunk, encoding)
        if isinstance(chunk, (bytearray, memoryview)):
            return bytes(chunk)
        self._error_or_destroy(node_error(
            "ERR_INVALID_ARG_TYPE", '"chunk"', "bytes, bytearray, memoryview or str",
            type(chunk).__name__))
        return None

    def unshift(self, chunk: bytes | str) -> None:
        """Node ``readable.unshift(chunk)``: put data back at the front of the buffer."""
        if chunk is None:
            self.push(None)
            return
        if type(chunk) is not bytes:
            chunk = self._coerce_chunk(chunk, None)
            if chunk is None:
                return
        if self._r_end_emitted:
            self._error_or_destroy(node_error("ERR_STREAM_UNSHIFT_AFTER_END_EVENT"))
            return
        if self._destroyed or self._errored is not None or not chunk:
            return
        if self._r_decoder is not None and type(chunk) is bytes:
            chunk = self._r_decoder.decode(chunk)
        self._r_len += len(chunk)
        if self._r_buf is _NO_BUF:
            self._r_buf = deque()
        self._r_buf.appendleft(chunk)
        if self._r_need_readable:
            self._emit_readable()
        self._maybe_read_more()

    def _on_eof_chunk(self) -> None:
        if self._r_ended:
            return
        dec = self._r_decoder
        if dec is not None:
            rest = dec.decode(b"", True)
            if rest:
                if self._r_buf is _NO_BUF:
                    self._r_buf = deque()
                self._r_buf.append(rest)
                self._r_len += len(rest)
        self._r_ended = True
        if self._r_sync:
            self._emit_readable()
        else:
            self._r_need_readable = False
            self._r_emitted_readable = True
            self._emit_readable_()

    def _emit_readable(self) -> None:
        self._r_need_readable = False
        if not self._r_emitted_readable:
            self._r_emitted_readable = True
            _soon(self._emit_readable_)

    def _emit_readable_(self) -> None:
        if not self._destroyed and self._errored is None and (self._r_len or self._r_ended):
            if "readable" in self._events:  # (no emit nobody listens to)
                self.emit("readable")
            self._r_emitted_readable = False
        self._r_need_readable = (
            not self._r_flowing and not self._r_ended and self._r_len <= self._r_hwm
        )
        self._flow()

    def _maybe_read_more(self) -> None:
        if not self._r_reading_more:
            self._r_reading_more = True
            _soon(self._maybe_read_more_)

    def _maybe_read_more_(self) -> None:
        while not self._r_reading and not self._r_ended and (
            self._r_len < self._r_hwm or (self._r_flowing and self._r_len == 0)
        ):
            n = self._r_len
            self.read(0)
            if n == self._r_len:
                break
        self._r_reading_more = False

    # -- consuming ------------------------------------------------------------------------------

    def _how_much_to_read(self, n: int | None) -> int:
        if (n is not None and n <= 0) or (self._r_len == 0 and self._r_ended):
            return 0
        if n is None:
            if self._r_flowing and self._r_len:
                return len(self._r_buf[0])
            return self._r_len
        if n <= self._r_len:
            return n
        return self._r_len if self._r_ended else 0

    def read(self, size: int | None = None) -> Chunk | None:
        """Node ``readable.read([size])``: take data from the buffer (all of it without ``size``;
        in flowing mode one chunk), or ``None``. Also emits it as ``'data'``."""
        if size == 0 and not self._r_len and not (
                self._r_reading or self._r_ended or self._destroyed or self._errored is not None):
            # read(0) with nothing buffered (resume()'s kick: start the source reading): the
            # path below without its checks -- _read(), then wait for data ('readable' due).
            self._r_reading = self._r_sync = self._r_need_readable = True
            try:
                self._read(self._r_hwm)
            except Exception as exc:  # noqa: BLE001 - Node: errorOrDestroy
                self._error_or_destroy(exc)
            self._r_sync = False
            if self._r_len <= self._r_hwm:
                self._r_need_readable = True
            return None
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

    def _from_list(self, n: int) -> Any:
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

    _r_end_scheduled = False  # an _end_readable_nt is pending: a second one would do nothing

    def _end_readable(self) -> None:
        if not self._r_end_emitted:
            self._r_ended = True
            if not self._r_end_scheduled:
                self._r_end_scheduled = True
                _get_running_loop().call_soon(self._end_readable_nt)  # (_soon, inlined)

    def _end_readable_nt(self) -> None:
        self._r_end_scheduled = False
        if (self._errored is None and not self._close_emitted and not self._r_end_emitted
                and self._r_len == 0):
            self._r_end_emitted = True
            self.emit("end")
            # (Writable.writable, inlined)
            if (self._HAS_W and self._w_writable and self._errored is None  # type: ignore[attr-defined]
                    and not self._w_ending and not self._w_ended  # type: ignore[attr-defined]
                    and not self._destroyed and getattr(self, "allow_half_open", True) is False):
                _soon(self._end_writable_nt)
            elif self._auto_destroy:
                if not self._HAS_W or self._w_finished or not self._w_writable:  # type: ignore[attr-defined]
                    self.destroy()

    def _end_writable_nt(self) -> None:
        if self.writable and not self._w_ending and not self._destroyed:  # type: ignore[attr-defined]
            self.end()  # type: ignore[attr-defined]

    def _flow(self) -> None:
        while self._r_flowing and self.read() is not None:
            pass

    def resume(self) -> Readable:
        """Node ``readable.resume()``: switch to flowing mode (``'data'`` events)."""
        if not self._r_flowing:
            self._r_flowing = not self._r_readable_listening
            if not self._r_resume_scheduled:
                self._r_resume_scheduled = True
                _get_running_loop().call_soon(self._resume_)  # (_soon, inlined)
        self._r_paused = False
        return self

    def _resume_(self) -> None:
        if not self._r_reading:
            self.read(0)
        self._r_resume_scheduled = False
        if "resume" in self._events:  # (no emit nobody listens to)
            self.emit("resume")
        if (self._r_flowing and self._r_reading and not self._r_len and not self._r_ended
                and not self._destroyed and self._errored is None
                and type(self).read is Readable.read):
            # flow(): its read() finds nothing buffered and a _read already in progress; what
            # it leaves, without the calls (resume() on a socket waiting for data; a subclass
            # overriding read() gets its call, as Node's flow() makes it).
            self._r_emitted_readable = False
            self._r_need_readable = True
        else:
            self._flow()
        if self._r_flowing and not self._r_reading:
            self.read(0)

    def pause(self) -> Readable:
        """Node ``readable.pause()``: stop ``'data'`` events; data accumulates in the buffer."""
        if self._r_flowing is not False:
            self._r_flowing = False
            if "pause" in self._events:  # (no emit nobody listens to)
                self.emit("pause")
        self._r_paused = True
        return self

    def is_paused(self) -> bool:
        """Node ``readable.isPaused()``."""
        return self._r_paused is True or self._r_flowing is False

    def set_encoding(self, encoding: str | None) -> Readable:
        """Node ``readable.setEncoding(enc)``: ``'data'`` carries ``str`` decoded incrementally
        (a multi-byte character split across chunks is decoded whole)."""
        enc = encoding or "utf8"
        self._r_decoder = _make_decoder(enc)
        self._r_encoding = _norm_encoding(enc)
        content = "".join(self._r_decoder.decode(c) if type(c) is bytes else c for c in self._r_buf)
        self._r_buf = deque()
        if content:
            self._r_buf.append(content)
        self._r_len = len(content)
        return self

    # -- piping ---------------------------------------------------------------------------------

    def pipe(self, dest: Any, end: bool = True) -> Any:
        """Node ``readable.pipe(dest, {end})``: write everything to ``dest`` with backpressure
        (pause while ``dest.write()`` returns ``False``, resume on ``'drain'``); ``dest.end()`` at
        ``'end'`` unless ``end=False``. Returns ``dest``.

        The listeners are Node's, added in Node's order (``'newListener'`` sees it): the source's
        ``'end'`` (once), the destination's ``'unpipe'``, the source's ``'data'``, then the
        destination's ``'error'`` (prepended), ``'close'`` and ``'finish'`` (once)."""
        self._r_pipes.append(dest)
        p = _new(_Pipe)  # (no __init__ call)
        p.src, p.dest, p.end, p.fired = self, dest, end, 0
        end_fn, on_data = p.end_fn, p.on_data
        if self._r_end_emitted:
            _soon(end_fn)
            head: tuple[Any, ...] = ()
        else:
            w = _new(_PipeOnce)  # (the once wrappers, without an __init__ call each)
            w.event, w.listener = "end", end_fn
            head = (("end", w, end_fn, False),)
        data = ("data", on_data, on_data, False)
        if isinstance(dest, EventEmitter):
            on_unpipe, on_error, on_close, on_finish = p.on_unpipe, p.on_error, p.on_close, p.on_finish
            wc = _new(_PipeOnce)
            wc.event, wc.listener = "close", on_close
            wf = _new(_PipeOnce)
            wf.event, wf.listener = "finish", on_finish
            unpipe = ("unpipe", on_unpipe, on_unpipe, False)
            error = ("error", on_error, on_error, True)
            close = ("close", wc, on_close, False)
            finish = ("finish", wf, on_finish, False)
            if dest is self:  # (socket.pipe(socket): one call)
                self._add_many(*head, unpipe, data, error, close, finish)
            elif "newListener" in self._events or "newListener" in dest._events:
                if head:
                    self._add_many(*head)
                dest._add_many(unpipe)
                self._add_many(data)
                dest._add_many(error, close, finish)
            else:  # (no one sees the order across the two emitters)
                self._add_many(*head, data)
                dest._add_many(unpipe, error, close, finish)
        else:
            if head:
                self._add_many(*head)
            dest.on("unpipe", p.on_unpipe)
            self._add_many(data)
            dest.prepend_listener("error", p.on_error)
            dest.once("close", p.on_close)
            dest.once("finish", p.on_finish)
        if "pipe" in getattr(dest, "_events", "pipe"):  # (no emit nobody listens to)
            dest.emit("pipe", self)
        if (dest._w_need_drain and not dest._destroyed and not dest._w_ending  # (the property)
                if isinstance(dest, Writable) else getattr(dest, "writable_need_drain", False) is True):
            p.pause()
        elif not self._r_flowing:
            self.resume()
        return dest

    def unpipe(self, dest: Any = None) -> Readable:
        """Node ``readable.unpipe([dest])``."""
        if not self._r_pipes:
            return self
        if dest is None:
            dests = self._r_pipes
            self._r_pipes = []
            self.pause()
            for d in dests:
                d.emit("unpipe", self, {"has_unpiped": False})
            return self
        if dest not in self._r_pipes:
            return self
        self._r_pipes.remove(dest)
        if not self._r_pipes:
            self.pause()
        ls = dest._events.get("unpipe") if isinstance(dest, EventEmitter) else None
        fn: Any = ls[0] if ls is not None and len(ls) == 1 else None
        if getattr(fn, "__func__", None) is _ON_UNPIPE and fn.__self__.src is self:
            # The only 'unpipe' listener is this pipe's own: what its emit would do (the event's
            # info object is seen by nobody else), without the emit.
            try:
                fn.__self__.cleanup()
            except Exception as exc:  # noqa: BLE001 - as emit: the listener failed
                dest._listener_failed("unpipe", exc, (self,))
        else:
            dest.emit("unpipe", self, {"has_unpiped": False})
        return self

    # -- async iteration ------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[Chunk]:
        """``async for chunk in stream``: chunks until ``'end'``; raises the stream's error (or
        ``ERR_STREAM_PREMATURE_CLOSE`` if it closes before ``'end'``). Leaving the loop early
        (``break``, exception) destroys the stream, as Node's async iterator does."""
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Chunk]:
        loop = _get_running_loop()
        waiter: asyncio.Future[None] | None = None
        error: Any = _UNSET  # _UNSET: running; None: ended cleanly; else the error

        def wake(*_: Any) -> None:
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

        def on_end(*_: Any) -> None:
            nonlocal error
            if error is _UNSET:
                error = None
            wake()

        def on_error(err: BaseException) -> None:
            nonlocal error
            if error is _UNSET or error is None:
                error = err
            wake()

        def on_close(*_: Any) -> None:
            nonlocal error
            if error is _UNSET:
                error = None if self._r_end_emitted else (
                    self._errored or node_error("ERR_STREAM_PREMATURE_CLOSE"))
            wake()

        self.on("readable", wake)
        self.on("end", on_end)
        self.on("error", on_error)
        self.on("close", on_close)
        if self._r_end_emitted:
            error = None
        elif self._close_emitted or (self._destroyed and self._errored is not None):
            error = self._errored or node_error("ERR_STREAM_PREMATURE_CLOSE")
        done = False
        try:
            while True:
                chunk = None if self._destroyed else self.read()
                if chunk is not None:
                    yield chunk
                elif error is not _UNSET and error is not None:
                    done = True
                    raise error
                elif error is None:
                    done = True
                    return
                else:
                    waiter = loop.create_future()
                    await waiter
                    waiter = None
        finally:
            self._remove_many(("readable", wake), ("end", on_end), ("error", on_error),
                              ("close", on_close))
            if not done:
                self.destroy()

    # -- properties -----------------------------------------------------------------------------

    @property
    def readable(self) -> bool:
        """Node ``readable.readable``: safe to read (not destroyed, errored or ended)."""
        return (self._r_readable and not self._destroyed and not self._error_emitted
                and not self._r_end_emitted)

    @readable.setter
    def readable(self, value: bool) -> None:
        self._r_readable = bool(value)

    @property
    def readable_ended(self) -> bool:
        """Node ``readable.readableEnded``: ``'end'`` was emitted."""
        return self._r_end_emitted

    @property
    def readable_flowing(self) -> bool | None:
        """Node ``readable.readableFlowing``: ``None``, ``True`` or ``False``."""
        return self._r_flowing

    @readable_flowing.setter
    def readable_flowing(self, value: bool | None) -> None:
        self._r_flowing = value

    @property
    def readable_length(self) -> int:
        """Node ``readable.readableLength``: bytes (characters with an encoding) buffered."""
        return self._r_len

    @property
    def readable_high_water_mark(self) -> int:
        """Node ``readable.readableHighWaterMark``."""
        return self._r_hwm

    @property
    def readable_encoding(self) -> str | None:
        """Node ``readable.readableEncoding``."""
        return self._r_encoding

    @property
    def readable_did_read(self) -> bool:
        """Node ``readable.readableDidRead``."""
        return self._r_data_emitted

    @property
    def readable_aborted(self) -> bool:
        """Node ``readable.readableAborted``: destroyed or errored before ``'end'``."""
        return self._r_readable and (self._destroyed or self._errored is not None) and not self._r_end_emitted


class _Pipe:
    """One ``readable.pipe(dest)``: Node's ``pipe`` closures as one small object, its listeners
    bound methods (removed by equality: no bound method is stored on the object, which would make
    it a reference cycle left to the cyclic garbage collector); a listener that already ran once
    is not removed a second time.

    Made by ``pipe()`` with ``object.__new__`` and its four slots set: ``fired`` holds bits,
    ``_END | _CLOSE | _FINISH`` (those listeners are already removed), ``_DRAIN`` (a ``'drain'``
    listener was added) and ``_CLEANED`` (Node's ``cleanedUp``)."""

    __slots__ = ("src", "dest", "end", "fired")

    src: Readable
    dest: Any
    end: bool
    fired: int

    def end_fn(self, *_: Any) -> None:
        """The source's ``'end'``: ``dest.end()`` (Node's ``onend``), or only unpipe
        (``end=False``)."""
        self.fired |= _END
        if self.end:
            self.dest.end()
        else:
            self.src.unpipe(self.dest)

    def unpipe(self, *_: Any) -> None:
        self.src.unpipe(self.dest)

    def on_unpipe(self, readable: Any, info: dict[str, Any] | None = None) -> None:
        if readable is self.src and info is not None and info.get("has_unpiped") is False:
            info["has_unpiped"] = True
            self.cleanup()

    def cleanup(self, first: tuple[str, Any] | None = None) -> None:
        """Node's ``cleanup``; ``first``: a once wrapper of the destination's that fired and
        is removed with the rest, first (``_PipeOnce``)."""
        src, dest, fired = self.src, self.dest, self.fired
        # dest's listeners, then src's: Node's order
        gone: list[tuple[str, Any]] = [] if first is None else [first]
        if not fired & _CLOSE:
            gone.append(("close", self.on_close))
        if not fired & _FINISH:
            gone.append(("finish", self.on_finish))
        if fired & _DRAIN:
            gone.append(("drain", self.on_drain))
        gone.append(("error", self.on_error))
        gone.append(("unpipe", self.on_unpipe))
        if isinstance(dest, EventEmitter):
            if src is not dest:
                dest._remove_many(*gone)
                gone.clear()
        else:
            for event, fn in gone:
                dest.remove_listener(event, fn)
            gone.clear()
        if not fired & _END:
            gone.append(("end", self.end_fn))
        gone.append(("data", self.on_data))
        src._remove_many(*gone)  # (one call for both when piped to itself)
        self.fired |= _CLEANED
        if self.fired & _DRAIN and src._r_await_drain and getattr(dest, "_w_need_drain", True):
            self.on_drain()

    def pause(self) -> None:
        src, dest = self.src, self.dest
        if not self.fired & _CLEANED and dest in src._r_pipes:
            if src._r_await_drain is _NO_DRAIN:
                src._r_await_drain = set()
            src._r_await_drain.add(dest)  # type: ignore[union-attr]
            src.pause()
        if not self.fired & _DRAIN:
            self.fired |= _DRAIN
            dest.on("drain", self.on_drain)

    def on_drain(self, *_: Any) -> None:
        src = self.src
        if src._r_await_drain:
            src._r_await_drain.discard(self.dest)  # type: ignore[union-attr]
        if not src._r_await_drain and src._r_data_listening:
            src.resume()

    def on_data(self, chunk: Any) -> None:
        if self.dest.write(chunk) is False:
            self.pause()

    def on_error(self, err: BaseException) -> None:
        dest = self.dest
        self.unpipe()
        _remove(dest, "error", self.on_error)
        if dest.listener_count("error") == 0:
            if isinstance(dest, Stream) and not dest._error_emitted:
                dest._error_or_destroy(err)
            else:
                dest.emit("error", err)

    # on_close / on_finish: the listeners of a destination that is not one of our emitters
    # (ours get _PipeOnce wrappers, which do the same themselves).
    def on_close(self, *_: Any) -> None:
        if not self.fired & _FINISH:
            self.dest.remove_listener("finish", self.on_finish)
        self.fired |= _CLOSE | _FINISH  # both gone now
        self.src.unpipe(self.dest)  # (unpipe, inlined)

    def on_finish(self, *_: Any) -> None:
        if not self.fired & _CLOSE:
            self.dest.remove_listener("close", self.on_close)
        self.fired |= _CLOSE | _FINISH
        self.src.unpipe(self.dest)  # (unpipe, inlined)


_END, _CLOSE, _FINISH, _DRAIN, _CLEANED = 1, 2, 4, 8, 16
_ON_UNPIPE = _Pipe.on_unpipe
_READABLE_PAUSE = Readable.pause
_new = object.__new__


class _PipeOnce(_Once):
    """``pipe()``'s once listeners (the source's ``'end'``, the destination's ``'close'`` and
    ``'finish'``): a ``once`` wrapper (``raw_listeners`` shows it, its ``listener`` is the
    ``_Pipe``'s bound method, removable by it) whose call is the listener's body, Node's
    ``onend`` / ``onclose`` / ``onfinish``: one call per event instead of two.

    Made by ``object.__new__`` with ``event`` and ``listener`` set (``emitter`` and ``fired`` of
    :class:`~nodetls.events._Once` are unused: the ``_Pipe``'s ``fired`` bits say which ran)."""

    __slots__ = ()

    def __call__(self, *_: Any) -> None:
        p: _Pipe = self.listener.__self__  # type: ignore[attr-defined]
        event, fired, src, dest = self.event, p.fired, p.src, p.dest
        if event == "end":  # onend: dest.end(), or only unpipe (end=False)
            if not fired & _END:
                p.fired = fired | _END
                src._remove_many(("end", self))  # (Node's onceWrapper: the wrapper goes first)
                if p.end:
                    dest.end()
                else:
                    src.unpipe(dest)
            return
        # onclose / onfinish (each removes the other's listener, then unpipes: one of the two
        # ever runs)
        mine, other = (_CLOSE, _FINISH) if event == "close" else (_FINISH, _CLOSE)
        if fired & mine:
            return
        p.fired = fired | mine
        events = dest._events
        pipes = src._r_pipes
        ls = events.get("unpipe")
        if ("removeListener" not in events and ls is not None and len(ls) == 1
                and ls[0] == p.on_unpipe and dest in pipes
                and (len(pipes) > 1 or "pause" not in src._events)):
            # The wrapper's removal, the other's, and what src.unpipe(dest) then does, in one
            # go: nobody sees the listeners in between (no 'removeListener' or 'pause'
            # listener; the pipe's own 'unpipe' listener is the only one), so the cleanup
            # removes all of them.
            pipes.remove(dest)
            if not pipes:
                if type(src).pause is _READABLE_PAUSE:  # (pause(), inlined: no 'pause' emit)
                    src._r_flowing = False
                    src._r_paused = True
                else:
                    src.pause()
            p.cleanup((event, self))
            p.fired |= other
            return
        if fired & other:
            dest._remove_many((event, self))
        else:
            dest._remove_many((event, self), ("finish", p.on_finish) if other == _FINISH
                              else ("close", p.on_close))
        p.fired |= other
        src.unpipe(dest)


_ONCE_TYPES.add(_PipeOnce)


def _remove(emitter: Any, event: str, fn: Any) -> None:
    """``emitter.remove_listener(event, fn)`` (ours: its one-call core)."""
    if isinstance(emitter, EventEmitter):
        emitter._remove_many((event, fn))
    else:
        emitter.remove_listener(event, fn)


# -- Writable ----------------------------------------------------------------------------------


class Writable(Stream):
    """Node's ``stream.Writable``.

    Options (Node names accepted too): ``high_water_mark`` (16 KiB), ``decode_strings`` (True),
    ``default_encoding`` ('utf8'), ``write(chunk, callback)``, ``writev(chunks, callback)``,
    ``final(callback)``, ``destroy(err, callback)``, ``auto_destroy``, ``emit_close``.
    """

    _HAS_W = True
    _SHAPE_MODE = True  # Node: Writable presets its _events (kShapeMode)
    _writev: Callable[[list[Any], Callable[..., Any]], None] | None = None
    _final: Callable[[Callable[..., Any]], None] | None = None

    def __init__(self, options: dict[str, Any] | None = None, **kwargs: Any) -> None:
        opts = normalize(options, kwargs, _W_OPTIONS, "options") if options or kwargs else {}
        EventEmitter.__init__(self)
        self._init_common(opts)
        self._init_writable(opts)

    def _init_writable(self, opts: dict[str, Any]) -> None:
        hwm = opts.get("writable_high_water_mark", opts.get("high_water_mark"))
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
        self._w_default_encoding = opts.get("default_encoding") or "utf8"
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

    # -- writing --------------------------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview | str, encoding: Any = None,
              callback: Callable[..., Any] | None = None) -> bool:
        """Node ``writable.write(chunk[, encoding][, callback])``.

        Returns ``False`` when the buffered length has reached the high-water mark; wait for
        ``'drain'`` (or ``await stream.drain()``). ``callback(err)`` runs once the chunk is
        handled. After ``end()``: ``ERR_STREAM_WRITE_AFTER_END`` via ``callback`` and ``'error'``.
        """
        if encoding is not None and callable(encoding):
            callback, encoding = encoding, None
        if type(data) is not bytes:
            if isinstance(data, str):
                if self._w_decode_strings:
                    data = _encode(data, encoding or self._w_default_encoding)
            elif data is None:
                raise node_error("ERR_STREAM_NULL_VALUES")
            elif not isinstance(data, (bytearray, memoryview)):
                raise node_error("ERR_INVALID_ARG_TYPE", '"chunk"',
                                 "bytes, bytearray, memoryview or str", type(data).__name__)
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
        if self._w_len < self._w_hwm:
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
            need_tick = (self._w_need_drain and self._w_len == 0) or self._destroyed
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
        while buf:
            chunk, cb = buf.popleft()
            self._w_len -= len(chunk)
            if cb is not None:
                self._user_callback(cb, self._errored or node_error("ERR_STREAM_DESTROYED", "write"))
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
        """Node ``writable.setDefaultEncoding(enc)``."""
        _norm_encoding(encoding)
        self._w_default_encoding = encoding
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
                and self._errored is None and not self._w_buf and self._w_len == 0)

    def _finish_maybe(self, sync: bool) -> None:
        if (self._w_ending and not self._destroyed and not self._w_finished  # (_need_finish)
                and not self._w_writing and not self._error_emitted and not self._close_emitted
                and self._errored is None and not self._w_buf and self._w_len == 0):
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
                and self._errored is None and not self._w_buf and self._w_len == 0):
            self._w_prefinished = True
            if "prefinish" in self._events:  # (no emit nobody listens to)
                self.emit("prefinish")
            self._w_pending_cb += 1
            _get_running_loop().call_soon(self._finish)  # (_soon, inlined)

    def _finish(self) -> None:
        self._w_pending_cb -= 1
        self._w_finished = True
        if self._w_on_finished:
            self._call_finished_callbacks(None)
        self.emit("finish")
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
    def writable_need_drain(self) -> bool:
        """Node ``writable.writableNeedDrain``: ``write()`` returned ``False``, no ``'drain'`` yet."""
        return self._w_need_drain and not self._destroyed and not self._w_ending

    @property
    def writable_corked(self) -> int:
        """Node ``writable.writableCorked``."""
        return self._w_corked

    def pipe(self, *args: Any, **kwargs: Any) -> Any:  # Node: Writable.prototype.pipe
        self._error_or_destroy(node_error("ERR_STREAM_CANNOT_PIPE"))


# -- Duplex ------------------------------------------------------------------------------------

_D_OPTIONS = _option_table.names("RWD")


class Duplex(Readable, Writable):
    """Node's ``stream.Duplex``: a Readable and a Writable in one object.

    Options: those of both sides (``readable_high_water_mark``/``writable_high_water_mark``
    override ``high_water_mark`` per side; ``readable=False``/``writable=False`` disable one),
    plus ``allow_half_open`` (default ``True``): when ``False``, the end of the readable side
    ends the writable side (Node's ``allowHalfOpen``).
    """

    allow_half_open: bool

    def __init__(self, options: dict[str, Any] | None = None, **kwargs: Any) -> None:
        opts = normalize(options, kwargs, _D_OPTIONS, "options") if options or kwargs else {}
        EventEmitter.__init__(self)
        self._init_duplex(opts)

    def _init_duplex(self, opts: dict[str, Any]) -> None:
        self._init_common(opts)
        self._init_readable(opts)
        self._init_writable(opts)
        self.allow_half_open = opts.get("allow_half_open", True) is not False

    pipe = Readable.pipe


# -- duplex_pair -------------------------------------------------------------------------------


class _DuplexSide(Duplex):
    """One end of :func:`duplex_pair` (Node v22's ``stream.duplexPair`` side)."""

    def __init__(self, options: dict[str, Any] | None) -> None:
        super().__init__(options)
        self._other: _DuplexSide | None = None
        self._write_cb: Callable[..., Any] | None = None

    def _read(self, size: int) -> None:
        # The consumer wants more: complete the other end's pending write (backpressure).
        cb = self._write_cb
        if cb is not None:
            self._write_cb = None
            cb()

    def _write(self, chunk: Any, callback: Callable[..., Any]) -> None:
        other = self._other
        assert other is not None
        if not chunk:
            _soon(callback)
            return
        other._write_cb = callback
        other.push(chunk if type(chunk) is bytes else bytes(chunk))

    def _final(self, callback: Callable[..., Any]) -> None:
        other = self._other
        assert other is not None
        if other._r_end_emitted or other._destroyed:
            callback()
            return
        other.once("end", callback)
        other.push(None)

    def _destroy(self, err: BaseException | None, callback: Callable[..., Any]) -> None:
        other = self._other
        if other is not None and not other._destroyed:
            _soon(other.destroy)
        callback(err)


def duplex_pair(options: dict[str, Any] | None = None, **kwargs: Any) -> tuple[Duplex, Duplex]:
    """Two connected in-memory :class:`Duplex` ends (Node v22's ``stream.duplexPair()``).

    What one end writes the other reads; a write completes when the other end's consumer wants
    more (backpressure); ``end()`` on one end is ``'end'`` on the other; destroying one end
    destroys the other (it emits ``'close'``). ``options`` apply to both ends.
    """
    opts = normalize(options, kwargs, _D_OPTIONS, "options") if options or kwargs else None
    a = _DuplexSide(opts)
    b = _DuplexSide(opts)
    a._other = b
    b._other = a
    return a, b
