"""What :class:`Readable` and :class:`Writable` share: the shared constants, ``_soon`` (Node's
``process.nextTick``), Node's encodings and string decoders, and :class:`Stream` (Node's
``lib/internal/streams/destroy.js``). Part of :mod:`nodetls.stream`."""

from __future__ import annotations

import asyncio
import base64
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


