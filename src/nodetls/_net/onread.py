"""Node's ``onread`` option of ``net.Socket`` / ``net.connect``: reads land in the user's buffer.

``onread={'buffer': buf, 'callback': cb}``: each read is copied into ``buf`` (a writable
bytes-like object: ``bytearray``, a writable ``memoryview``, ``array.array``...) and
``cb(nread, buf)`` is called instead of emitting ``'data'``; ``buffer`` may be a function
returning the buffer to use, called when the socket's handle is set up and after every read
(Node's ``kBufferGen``). ``cb`` returning ``False`` stops reading (Node's ``readStop``) until
``resume()`` or ``read()``; ``pause()`` stops it as well. The end of the stream is still
``'end'``. As Node's ``Socket`` constructor, an ``onread`` of another shape is ignored.

Node v20 (``lib/net.js``: the constructor, ``initSocketHandle``, the ``kBuffer`` overrides of
``pause``/``resume``/``read``; ``onStreamRead`` in ``lib/internal/stream_base_commons.js``)
has libuv read straight into the buffer, at most its length per read. Here a transport read of
up to 256 KiB is handed over in pieces of the buffer's length, one callback each, in order;
what is left when reading stops is kept and handed over first when it starts again.

The socket gets the behaviour through instance attributes (``_on_handle_read``, ``_read``,
``read``, ``pause``, ``resume``), set with each handle (:func:`install`) and removed when the
socket is destroyed (:func:`uninstall`): the class's data path is not touched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from types import MethodType
from typing import Any

__all__ = ["parse", "install", "uninstall"]



class OnRead:
    """A socket's ``onread``: the static buffer or the buffer function, and the callback; the
    buffer in use (and its byte view), and the bytes left over when reading stopped."""

    __slots__ = ("static", "gen", "callback", "buf", "view", "left")

    def __init__(self, static: Any, gen: Callable[[], Any] | None,
                 callback: Callable[..., Any]) -> None:
        self.static = static
        self.gen = gen
        self.callback = callback
        self.buf: Any = None
        self.view: memoryview | None = None
        self.left: bytes | None = None


def _byte_view(obj: Any) -> memoryview | None:
    """``obj``'s bytes as a writable ``memoryview`` (Node's ``isUint8Array``), else ``None``."""
    if isinstance(obj, (bytes, str)):
        return None
    try:
        view = memoryview(obj)
    except TypeError:
        return None
    if view.readonly or not view.c_contiguous or not view.nbytes:
        return None
    return view.cast("B")


def parse(value: Any) -> OnRead | None:
    """The ``onread`` option as Node's constructor takes it: a mapping whose ``buffer`` is a
    writable buffer or a function and whose ``callback`` is a function; anything else is
    ignored (``None``), as Node ignores it."""
    if not isinstance(value, Mapping):
        return None
    buffer, callback = value.get("buffer"), value.get("callback")
    if not callable(callback):
        return None
    if _byte_view(buffer) is not None:
        return OnRead(buffer, None, callback)
    if callable(buffer):
        return OnRead(None, buffer, callback)
    return None


def install(sock: Any) -> None:
    """The socket got a handle (``connect()``, or the ``handle`` option): the buffer for its
    reads (Node's ``initSocketHandle``: the buffer function's first call), and the overrides.
    A buffer function that returns no buffer leaves the socket reading as usual (Node)."""
    spec: OnRead = sock._onread
    if spec.gen is not None:
        buf = spec.gen()
        view = _byte_view(buf)
        if view is None:
            return
        spec.buf, spec.view = buf, view
    elif spec.view is None:
        spec.buf, spec.view = spec.static, _byte_view(spec.static)
    spec.left = None
    for name, fn in _OVERRIDES.items():
        setattr(sock, name, MethodType(fn, sock))


def uninstall(sock: Any) -> None:
    """The socket is destroyed: the overrides go (each is a bound method: a reference cycle)."""
    d = sock.__dict__
    for name in _OVERRIDES:
        d.pop(name, None)


def _on_handle_read(sock: Any, view: memoryview | bytes) -> None:
    """``Socket._on_handle_read`` for an ``onread`` socket (Node's ``onStreamRead`` with a user
    buffer): counted, the timer touched, then handed to the callback."""
    sock._bytes_read += len(view)
    if sock._timeout:
        sock._touch()
    if not sock._destroyed and view:
        _deliver(sock, view)


def _deliver(sock: Any, data: memoryview | bytes) -> None:
    spec: OnRead = sock._onread
    n, pos = len(data), 0
    while pos < n:
        dest = spec.view
        assert dest is not None  # (set by install)
        take = min(len(dest), n - pos)
        dest[:take] = data[pos:pos + take]
        pos += take
        buf = spec.buf
        try:
            result = spec.callback(take, buf)
            if spec.gen is not None:  # the next read's buffer (a non-buffer: the same again)
                nxt = spec.gen()
                view = _byte_view(nxt)
                if view is not None:
                    spec.buf, spec.view = nxt, view
        except Exception as exc:  # noqa: BLE001 - as a 'data' listener's: destroys the socket
            sock.destroy(exc)
            return
        if asyncio.iscoroutine(result):
            sock._schedule("data", result, (take, buf))
        if sock._destroyed:
            return
        h = sock._handle
        if result is False and h is not None and h.reading:
            h.read_stop()  # (Node: handle.reading = false; readStop())
        if h is None or not h.reading:  # stopped (False, or pause()): the rest waits
            if pos < n:
                spec.left = bytes(data[pos:])
            return


def _start(sock: Any) -> None:
    """Node's ``tryReadStart`` for a socket with a user buffer: reading again, what was left
    over first."""
    h = sock._handle
    if h is None or sock.connecting or h.reading:
        return
    h.read_start()
    spec: OnRead = sock._onread
    left = spec.left
    if left is not None:
        spec.left = None
        _deliver(sock, left)


def _read(sock: Any, size: int) -> None:
    """``Socket._read``: the consumer wants data."""
    _start(sock)


def read(sock: Any, n: int | None = None) -> Any:
    """Node's ``Socket.prototype.read`` with ``kBuffer``: reading starts again."""
    _start(sock)
    return type(sock).read(sock, n)


def pause(sock: Any) -> Any:
    """Node's ``Socket.prototype.pause`` with ``kBuffer``: the handle stops reading."""
    h = sock._handle
    if h is not None and not sock.connecting and h.reading and not sock._destroyed:
        h.read_stop()
    return type(sock).pause(sock)


def resume(sock: Any) -> Any:
    """Node's ``Socket.prototype.resume`` with ``kBuffer``: reading starts again."""
    _start(sock)
    return type(sock).resume(sock)


#: The instance attributes an ``onread`` socket overrides, and their functions.
_OVERRIDES: dict[str, Callable[..., Any]] = {
    "_on_handle_read": _on_handle_read, "_read": _read, "read": read, "pause": pause,
    "resume": resume,
}
