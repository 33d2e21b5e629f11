"""What :class:`Readable` and :class:`Writable` share: the shared constants, ``_soon`` (Node's
``process.nextTick``), Node's encodings and string decoders, and :class:`Stream` (Node's
``lib/internal/streams/destroy.js``). Part of :mod:`nodetls.stream`."""

from __future__ import annotations

import asyncio
import base64
import binascii
import codecs
from collections import deque
from collections.abc import Callable
from typing import Any

from ..errors import node_error
from ..events import EventEmitter, _invoke, _report

Chunk = bytes | str
"""A ``'data'`` chunk / ``async for`` item: ``bytes``, ``str`` after ``set_encoding()``."""

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
        return _b64_decode(s)
    return s.encode(enc, "replace")


_B64_ALPHABETS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_"
_B64_URL_TO_STD = bytes.maketrans(b"-_", b"+/")
_B64_NOT_ALPHABET = bytes(b for b in range(256) if b not in _B64_ALPHABETS)


def _b64_decode(s: str) -> bytes:
    """Node's base64 decoder (src/base64-inl.h), for 'base64' and 'base64url' alike: never an
    error. Each UTF-16 code unit counts as its low byte; decoding stops at the first '=';
    characters of neither alphabet (whitespace included) are skipped; both alphabets' 62nd and
    63rd characters are taken; a last lone character (6 bits) gives nothing."""
    try:
        raw = s.encode("latin-1")
    except UnicodeEncodeError:
        raw = s.encode("utf-16-le", "surrogatepass")[::2]
    end = raw.find(b"=")
    if end >= 0:
        raw = raw[:end]
    raw = raw.translate(_B64_URL_TO_STD, _B64_NOT_ALPHABET)
    if len(raw) % 4 == 1:
        raw = raw[:-1]
    return binascii.a2b_base64(raw + b"=" * (-len(raw) % 4))


def _byte_chunk(data: Any) -> Any:
    """Node's ``_uint8ArrayToBuffer`` for a written chunk that is neither ``bytes``,
    ``bytearray`` nor ``str`` (Node takes any ArrayBufferView): a contiguous memoryview of
    single bytes as it is; any other object of the buffer protocol (a memoryview of wider items
    or with strides, ``array.array``, a ``bytes`` subclass, ...) as its ``bytes``; ``None`` when
    it is no buffer at all."""
    if type(data) is memoryview:
        if data.itemsize == 1 and data.ndim == 1 and data.c_contiguous:
            return data
        return data.tobytes()
    try:
        return memoryview(data).tobytes()
    except TypeError:
        return None


# -- string decoders (Node's StringDecoder, src/string_decoder.cc) -------------------------------

# Node's encoding names by lower-cased alias (``normalizeEncoding`` in lib/internal/util.js):
# what ``setEncoding`` and ``new StringDecoder`` accept, and the name ``readableEncoding`` gives.
_NODE_ENCODINGS = {
    "utf8": "utf8", "utf-8": "utf8", "latin1": "latin1", "binary": "latin1", "ascii": "ascii",
    "ucs2": "utf16le", "ucs-2": "utf16le", "utf16le": "utf16le", "utf-16le": "utf16le",
    "hex": "hex", "base64": "base64", "base64url": "base64url",
}


def _is_encoding(enc: Any) -> bool:
    """Node ``Buffer.isEncoding(enc)``: one of Node's encoding names, in any case."""
    return type(enc) is str and enc.lower() in _NODE_ENCODINGS


def _node_encoding(enc: Any) -> str:
    """Node's StringDecoder ``normalizeEncoding``: ``None``/``''`` is 'utf8'; a name Node does
    not know raises ERR_UNKNOWN_ENCODING (a TypeError), Python-only codec names included."""
    if enc is None or enc == "":
        return "utf8"
    name = _NODE_ENCODINGS.get(enc.lower()) if isinstance(enc, str) else None
    if name is None:
        raise node_error("ERR_UNKNOWN_ENCODING", enc)
    return name


class _Utf8Decoder:
    """Node's StringDecoder for 'utf8', chunk for chunk: a chunk ending inside a character keeps
    that character's bytes (as many as its lead byte announces, judged by the lead byte alone)
    for the next chunk; a byte there that is no continuation byte ends the kept character early.
    Invalid sequences become U+FFFD, one per maximal subpart (V8's decoder and Python's agree)."""

    __slots__ = ("_buf", "_missing")

    def __init__(self) -> None:
        self._buf = b""
        self._missing = 0

    def decode(self, data: bytes, final: bool = False) -> str:
        if self._buf or final or data[-1:] >= b"\x80":
            return self._decode(data, final)
        return data.decode("utf-8", "replace")  # the common case: nothing kept, none to keep

    def _decode(self, data: bytes, final: bool) -> str:
        prepend = ""
        buf = self._buf
        if buf:
            missing = self._missing
            n = min(len(data), missing)
            i = 0
            while i < n:
                if data[i] & 0xC0 != 0x80:  # a new character starts: the kept one ends here
                    missing = i
                    break
                i += 1
            buf += data[:i]
            data = data[i:]
            missing -= i
            if missing:
                self._buf, self._missing = buf, missing
            else:
                prepend = buf.decode("utf-8", "replace")
                self._buf = b""
                self._missing = 0
        if data and data[-1] & 0x80:
            # Where does the character of the last byte start, and how long should it be?
            kept = need = 0
            i = len(data) - 1
            while True:
                kept += 1
                b = data[i]
                if b & 0xC0 == 0x80:  # a continuation byte
                    if kept >= 4 or i == 0:
                        kept = 0
                        break
                    i -= 1
                    continue
                need = 2 if b & 0xE0 == 0xC0 else 3 if b & 0xF0 == 0xE0 else 4 if b & 0xF8 == 0xF0 else 0
                if kept >= need:  # complete (or invalid anyway, or no lead byte at all)
                    kept = 0
                break
            if kept:
                self._buf, self._missing = data[-kept:], need - kept
                data = data[:-kept]
        out = prepend + data.decode("utf-8", "replace") if data else prepend
        if final and self._buf:  # Node's end(): what is kept, as it is
            out += self._buf.decode("utf-8", "replace")
            self._buf = b""
            self._missing = 0
        return out


class _Utf16Decoder:
    """Node's StringDecoder for 'utf16le': an odd byte, or a high surrogate at the end, waits for
    the next chunk; lone surrogates decode as themselves (JavaScript strings hold them); at the
    end an odd byte is dropped and a waiting high surrogate comes out alone.

    One deviation, in the timing only: Node, when a chunk splits a code unit, emits a high
    surrogate completed by the next chunk's first byte at once, its low surrogate with the next
    chunk (two JavaScript strings that concatenate to the pair); a Python ``str`` cannot be split
    inside a character, so the high surrogate waits for the low one here too."""

    __slots__ = ("_rest",)

    def __init__(self) -> None:
        self._rest = b""

    def decode(self, data: bytes, final: bool = False) -> str:
        if self._rest:
            data = self._rest + data
        n = len(data)
        cut = n & ~1
        if final:
            self._rest = b""
        elif cut and data[cut - 1] & 0xFC == 0xD8:
            cut -= 2
            self._rest = data[cut:]
        else:
            self._rest = data[cut:]
        return data[:cut].decode("utf-16-le", "surrogatepass")


class _B64Decoder:
    """Node's StringDecoder for 'base64'/'base64url': whole 3-byte groups; the 1 or 2 bytes left
    wait for the next chunk, and at the end come out padded ('base64') or not ('base64url')."""

    __slots__ = ("_rest", "_url")

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
    __slots__ = ()

    def decode(self, data: bytes, final: bool = False) -> str:
        return data.hex()


class _Latin1Decoder:
    __slots__ = ()

    def decode(self, data: bytes, final: bool = False) -> str:
        return data.decode("latin-1")


# Node's 'ascii' keeps the low 7 bits of every byte (b'\xe2' -> 'b'), no replacement characters.
_LOW7 = bytes(b & 0x7F for b in range(256))


class _AsciiDecoder:
    __slots__ = ()

    def decode(self, data: bytes, final: bool = False) -> str:
        return data.translate(_LOW7).decode("ascii")


_DECODERS: dict[str, Callable[[], Any]] = {
    "utf8": _Utf8Decoder, "utf16le": _Utf16Decoder, "latin1": _Latin1Decoder,
    "ascii": _AsciiDecoder, "hex": _HexDecoder, "base64": _B64Decoder,
    "base64url": lambda: _B64Decoder(True),
}


def _make_decoder(enc: Any) -> Any:
    """Node ``new StringDecoder(enc)`` for a Node encoding name (see :func:`_node_encoding`):
    an object whose ``decode(data, final=False)`` is ``write(data)`` (``end()`` with ``final``)."""
    return _DECODERS[_node_encoding(enc)]()


# -- Stream: what both sides share (Node's destroy.js) ------------------------------------------


class Stream(EventEmitter):
    """Base of :class:`Readable` and :class:`Writable`: ``destroy()`` and close bookkeeping
    (Node's ``lib/internal/streams/destroy.js``)."""

    _HAS_R = False
    _HAS_W = False
    #: ``_emit_close_nt`` does something (a socket's 'close' comes from its handle instead, and
    #: its ``_emit_close_nt`` is empty: no tick is scheduled for it).
    _CLOSE_NT = True
    #: The running event loop, for the stream's own ticks (Node's ``process.nextTick``):
    #: ``asyncio.get_running_loop`` (on CPython 3.11 a ``getpid()`` system call each); a socket
    #: answers from what it knows (``net.Socket._running_loop``).
    _running_loop = staticmethod(_get_running_loop)

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

    def pipe(self, dest: Any, end: Any = True) -> Any:
        """Node's ``Stream.prototype.pipe(dest[, options])`` (an old-style stream's: a
        :class:`Stream` subclass that emits ``'data'``/``'end'``/``'close'`` itself): each
        ``'data'`` chunk is written to ``dest`` (while ``dest.writable``), ``pause()`` when
        ``write()`` returns ``False``, ``resume()`` on ``dest``'s ``'drain'`` (while
        ``self.readable``); ``dest.end()`` at ``'end'``, ``dest.destroy()`` at a ``'close'``
        before it (not with ``end=False``, or Node's ``{'end': False}``); an ``'error'`` on either side
        removes the pipe's listeners (re-emitted where nobody else listens: unhandled).
        Returns ``dest``. :class:`Readable` and :class:`Writable` have their own."""
        from ._legacy import legacy_pipe  # (not at the top: _legacy is imported later)

        return legacy_pipe(self, dest, end)

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
        # (Node's kBuffered: still set while the buffer is being written out, the chunk of
        # this write already taken from it)
        if self._HAS_W and (self._w_buf or self._w_on_finished  # type: ignore[attr-defined]
                            or self._w_buffer_processing):  # type: ignore[attr-defined]
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


