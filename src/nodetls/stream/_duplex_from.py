"""Node's ``Duplex.from(body)`` (``lib/internal/streams/duplexify.js``) as
:meth:`Duplex.from_ <nodetls.stream.Duplex.from_>`. Part of :mod:`nodetls.stream`.

What ``body`` may be, checked in Node's order:

* a Duplex (any object with ``pipe``, ``on`` and ``write``, a socket included): returned as is;
* a Readable / a Writable: wrapped in a Duplex whose other side is disabled (Node's
  ``_duplexify``: reads come from it, writes go to it with its backpressure; errors and
  destruction go both ways);
* another stream (neither side): a Duplex with neither;
* a function ``fn(source)``: called at once with ``source``, an async generator of the chunks
  written to the Duplex (each write completes once ``source`` has taken it; ``end()`` ends it).
  What ``fn`` returns decides: a Duplex is returned as is; an (async) iterable (an async
  generator function's generator) makes the readable side (a Transform-like Duplex: writes go
  in as ``source``, its items come out); an awaitable (an ``async def``) makes a writable-only
  Duplex that finishes once it has completed (it must return ``None``: else
  ``ERR_INVALID_RETURN_VALUE``; raising destroys the Duplex with the error); anything else is
  ``ERR_INVALID_RETURN_VALUE``;
* ``str`` / ``bytes``-like: a readable-only Duplex of that one chunk;
* a mapping with ``'readable'`` and/or ``'writable'`` (Node's ``{readable, writable}`` pair):
  each side from that stream (or, not a stream, from what ``Duplex.from_`` makes of it);
* an iterable or async iterable: a readable-only Duplex of its items (as ``Readable.from_``);
* an awaitable: a readable-only Duplex of its result (one chunk; ``None``: none); its error
  destroys the Duplex.

Anything else raises ``ERR_INVALID_ARG_TYPE`` naming ``"body"``.

Differences from Node: no object mode (items are ``bytes``/``str`` chunks, as
``Readable.from_``'s; ``source`` yields ``bytes``); ``fn`` gets ``source`` alone (Node passes
``{signal}`` too); Blob and web streams are not ported; a destroyed generator Duplex whose
function waits on ``source`` gets an ``AbortError`` there (Node's waits forever and never
emits ``'close'``).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from .._option_table import type_error
from ..events import _invoke
from ._base import Stream, _get_running_loop, _soon
from ._duplex import Duplex
from ._finished import _eos
from ._from import _IterableReadable
from ._pipeline import _abort_error, _return_error
from ._pipeline import destroy as _destroyer
from ._readable import Readable
from ._utils import (
    _is_iterable,
    _is_node_stream,
    _is_readable_node_stream,
    _is_writable_node_stream,
    is_readable,
    is_writable,
)

_WHOLE = (str, bytes, bytearray, memoryview)
_UNSET: Any = object()
_EXPECTED = ("function or an instance of Stream, Iterable, AsyncIterable, or awaitable or "
             "{ readable, writable } pair")


def _is_duplex_node_stream(obj: Any) -> bool:
    """Node's ``isDuplexNodeStream``: both sides' state (any object with ``pipe``, ``on`` and
    ``write``)."""
    if isinstance(obj, Stream):
        return obj._HAS_R and obj._HAS_W
    return (callable(getattr(obj, "pipe", None)) and callable(getattr(obj, "on", None))
            and callable(getattr(obj, "write", None)))


def _is_object(value: Any) -> bool:
    """JavaScript's ``typeof value === 'object'`` for a pair's side (``None`` is one: null)."""
    return not isinstance(value, (str, int, float)) and not callable(value)


def duplex_from(body: Any, name: str = "body") -> Duplex:
    """Node's ``duplexify(body, name)``: see the module docstring."""
    if _is_duplex_node_stream(body):
        return body  # type: ignore[no-any-return]
    if _is_readable_node_stream(body):
        return _Pair(body, None)
    if _is_writable_node_stream(body):
        return _Pair(None, body)
    if _is_node_stream(body):
        return _Pair(None, None)
    if callable(body):
        return _from_function(body, name)
    if isinstance(body, _WHOLE):
        return _IterableDuplex(body, _IterableReadable.WHOLE, None, {"writable": False})
    if isinstance(body, Mapping):  # (a plain object: not iterable in Node)
        r, w = body.get("readable"), body.get("writable")
        if ("readable" in body and _is_object(r)) or ("writable" in body and _is_object(w)):
            if r is not None and not _is_readable_node_stream(r):
                r = duplex_from(r)
            if w is not None and not _is_writable_node_stream(w):
                w = duplex_from(w)
            return _Pair(r, w)
    elif _is_iterable(body):
        return _iterable_duplex(body, {"writable": False})
    if inspect.isawaitable(body):
        return _from_awaitable(body)
    raise type_error(name, _EXPECTED, body)


# -- iterables ----------------------------------------------------------------------------------


class _IterableDuplex(_IterableReadable, Duplex):
    """Node's ``from(Duplexify, iterable, opts)``: ``Readable.from_``'s readable side on a
    Duplex (its writable side disabled, or fed to the ``source`` of a generator function)."""

    _f_source: _Source | None = None

    def _destroy(self, err: BaseException | None, callback: Callable[..., Any]) -> None:
        source = self._f_source
        if source is not None:
            source.abort()
        _IterableReadable._destroy(self, err, callback)


def _iterable_duplex(iterable: Any, opts: dict[str, Any]) -> _IterableDuplex:
    if isinstance(iterable, _WHOLE):
        return _IterableDuplex(iterable, _IterableReadable.WHOLE, None, opts)
    if _is_iterable(iterable, True):
        it, kind = iterable.__aiter__(), _IterableReadable.ASYNC
    else:
        it, kind = iter(iterable), _IterableReadable.SYNC
    opts["high_water_mark"] = 1  # Node's from(): one item read ahead
    return _IterableDuplex(it, kind, None, opts)


# -- awaitables ---------------------------------------------------------------------------------


def _from_awaitable(body: Any) -> Duplex:
    """Node's ``Promise`` body: a readable-only Duplex of its value."""
    d = Duplex(writable=False, read=lambda size: None)
    fut = asyncio.ensure_future(body)

    def settled(f: asyncio.Future[Any]) -> None:
        if f.cancelled():
            _destroyer(d, _abort_error())
            return
        exc = f.exception()
        if exc is not None:
            _destroyer(d, exc)
            return
        value = f.result()
        if value is not None:
            d.push(value)
        d.push(None)

    fut.add_done_callback(settled)
    return d


# -- functions ----------------------------------------------------------------------------------


class _Source:
    """Node's ``fromAsyncGen``: the ``source`` async generator a body function is given, fed
    by the Duplex's ``_write``/``_final``; one item at a time (a write completes, on the next
    loop iteration, once ``source`` has taken it)."""

    __slots__ = ("item", "waiter", "aborted")

    def __init__(self) -> None:
        self.item: tuple[Any, bool, Callable[..., Any]] | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.aborted = False

    def _wake(self) -> None:
        w = self.waiter
        if w is not None:
            self.waiter = None
            if not w.done():
                w.set_result(None)

    def write(self, chunk: Any, callback: Callable[..., Any]) -> None:
        self.item = (chunk, False, callback)
        self._wake()

    def final(self, callback: Callable[..., Any]) -> None:
        self.item = (None, True, callback)
        self._wake()

    def abort(self) -> None:
        self.aborted = True
        self._wake()

    async def iterate(self) -> Any:
        while True:
            item = self.item
            if item is None:
                if self.aborted:
                    raise _abort_error()
                fut = self.waiter = _get_running_loop().create_future()
                await fut
                continue
            self.item = None
            chunk, done, cb = item
            _soon(cb)
            if done:
                return
            if self.aborted:
                raise _abort_error()
            yield chunk


def _from_function(fn: Callable[..., Any], name: str) -> Duplex:
    source = _Source()
    value = _invoke(fn, (source.iterate(),))  # (as JavaScript: fn may take no argument)
    if _is_duplex_node_stream(value):  # (a constructor function, say)
        return value  # type: ignore[no-any-return]
    if isinstance(value, _WHOLE) or _is_iterable(value):
        d = _iterable_duplex(value, {"write": source.write, "final": source.final})
        d._f_source = source
        return d
    if inspect.isawaitable(value):
        return _writable_function(source, value, name)
    raise _return_error("Iterable, AsyncIterable or AsyncFunction", name, value)


def _writable_function(source: _Source, value: Any, name: str) -> Duplex:
    """An ``async def fn(source)``: a writable-only Duplex that finishes when ``fn`` has."""
    outcome: list[Any] = []  # [error or None], once fn has completed
    waiting: list[Callable[..., Any]] = []
    d: Duplex

    def settled(f: asyncio.Future[Any]) -> None:
        err: BaseException | None = None
        if f.cancelled():
            _destroyer(d, _abort_error())
        elif (exc := f.exception()) is not None:
            _destroyer(d, exc)  # Node: the rejection destroys it; final then completes
        elif f.result() is not None:
            err = _return_error("nully", name, f.result())
        outcome.append(err)
        for cb in waiting:
            _soon(cb, err)
        waiting.clear()

    def final(callback: Callable[..., Any]) -> None:
        def source_ended() -> None:
            if outcome:
                _soon(callback, outcome[0])
            else:
                waiting.append(callback)

        source.final(source_ended)

    def destroy(err: BaseException | None, callback: Callable[..., Any]) -> None:
        source.abort()
        callback(err)

    d = Duplex(readable=False, write=source.write, final=final, destroy=destroy)
    asyncio.ensure_future(value).add_done_callback(settled)
    return d


# -- wrapping a Readable and/or a Writable (Node's _duplexify) -----------------------------------


class _Bridge(Duplex):
    """A Duplex that writes into one stream (``_b_w``, with its backpressure: a write completes
    on its ``'drain'``; ``end()`` ends it and finishes on ``_b_finish``) and reads what another
    has (``_b_r``, on its ``'readable'``; its ``'end'`` ends this one): the shape Node's
    duplexify (``fromPair``) and ``compose`` share. ``_b_onclose`` is Node's ``onclose``
    (undefined, then null or the ``_destroy`` callback)."""

    def _bridge(self, r: Any, w: Any) -> None:
        self._b_r = r
        self._b_w = w
        self._b_ondrain: Callable[..., Any] | None = None
        self._b_onfinish: Callable[..., Any] | None = None
        self._b_onreadable: Callable[..., Any] | None = None
        self._b_onclose: Any = _UNSET

    def _b_drain(self, *_: Any) -> None:
        cb, self._b_ondrain = self._b_ondrain, None
        if cb is not None:
            cb()

    def _b_finish(self, *_: Any) -> None:
        cb, self._b_onfinish = self._b_onfinish, None
        if cb is not None:
            cb()

    def _b_readable(self, *_: Any) -> None:
        cb, self._b_onreadable = self._b_onreadable, None
        if cb is not None:
            cb()

    def _b_end(self, *_: Any) -> None:
        self.push(None)

    def _b_closed(self, err: BaseException | None) -> bool:
        """Node's ``onfinished``'s first part: the waiting ``_destroy`` callback gets ``err``
        (True), or an error destroys this Duplex (True); False: nothing was done."""
        cb = self._b_onclose
        self._b_onclose = None
        if cb is not None and cb is not _UNSET:
            cb(err)
            return True
        if err is not None:
            self.destroy(err)
            return True
        return False

    # -- the Duplex's hooks ---------------------------------------------------------------------

    def _write(self, chunk: Any, callback: Callable[..., Any]) -> None:
        if self._b_w.write(chunk):
            callback()
        else:
            self._b_ondrain = callback

    def _final(self, callback: Callable[..., Any]) -> None:
        self._b_w.end()
        self._b_onfinish = callback

    def _read(self, size: int = 0) -> None:
        r = self._b_r
        while True:
            buf = r.read()
            if buf is None:
                self._b_onreadable = self._read
                return
            if not self.push(buf):
                return


class _Pair(_Bridge):
    """Node's ``_duplexify({readable, writable})``: a Duplex reading from ``r`` and writing to
    ``w`` (either may be ``None``: that side disabled)."""

    def __init__(self, r: Any, w: Any) -> None:
        if r is not None and not callable(getattr(r, "read", None)):
            r = Readable.wrap(r)  # Node's: an old-style stream (no read()) is wrapped
        readable = r is not None and bool(is_readable(r))
        writable = w is not None and bool(is_writable(w))
        super().__init__(readable=readable, writable=writable)
        self._bridge(r, w)
        if writable:
            _eos(w, None, None, True, self._p_side_done)
            w.on("drain", self._b_drain)
            w.on("finish", self._b_finish)
        if readable:
            _eos(r, None, None, True, self._p_side_done)
            r.on("readable", self._b_readable)
            r.on("end", self._b_end)

    def _p_side_done(self, err: BaseException | None = None) -> None:
        # either side finished (Node's fromPair: an error destroys the readable side either way)
        if err is not None:
            _destroyer(self._b_r, err)
        self._b_closed(err)

    def _destroy(self, err: BaseException | None, callback: Callable[..., Any]) -> None:
        if err is None and self._b_onclose is not None:
            err = _abort_error()
        self._b_onreadable = self._b_ondrain = self._b_onfinish = None
        if self._b_onclose is None:
            callback(err)
        else:
            self._b_onclose = callback
            _destroyer(self._b_w, err)
            _destroyer(self._b_r, err)
