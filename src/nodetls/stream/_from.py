"""Between iterables and streams: Node's ``Readable.from()`` (``lib/internal/streams/from.js``)
and a Readable's async iterator (``createAsyncIterator`` in ``lib/internal/streams/readable.js``:
``readable.iterator()``, ``readable[Symbol.asyncIterator]()``). Part of :mod:`nodetls.stream`."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from .. import _option_table
from .._option_table import _received, type_error
from .._options import normalize, to_snake
from ..errors import AggregateNodeError, InvalidArgTypeError, InvalidArgValueError, node_error
from ._base import Chunk, _encode, _get_running_loop, _soon
from ._finished import _eos
from ._pipeline import _abort_error, _destroy_stream
from ._readable import Readable
from ._utils import _is_iterable, is_destroyed, is_readable, is_writable

_R_OPTIONS = _option_table.names("R")
_WHOLE = (str, bytes, bytearray, memoryview)
_UNSET: Any = object()

# -- Readable.from ------------------------------------------------------------------------------


def readable_from(iterable: Any, options: Mapping[str, Any] | None = None,
                  **kwargs: Any) -> Readable:
    """Node ``Readable.from(iterable[, options])`` for bytes: see :meth:`Readable.from_`."""
    if options is not None and not isinstance(options, Mapping):
        raise type_error("options", "object", options)
    opts: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for source in (options, kwargs):
        for key, value in (source or {}).items():
            name = to_snake(key) if isinstance(key, str) else key
            if name in ("object_mode", "default_encoding"):
                extra[name] = value
            elif name not in ("read", "destroy"):  # (Node: from's own _read/_destroy win)
                opts[key] = value
    if extra.get("object_mode"):
        raise InvalidArgValueError("The property 'options.objectMode' must be false: nodetls "
                                   "streams carry bytes (no object mode). Received True")
    enc = extra.get("default_encoding")
    if enc is not None:
        if not isinstance(enc, str):
            raise type_error("options.defaultEncoding", "string", enc)
        _encode("", enc)  # ERR_UNKNOWN_ENCODING now, not at the first str item
    if isinstance(iterable, _WHOLE):
        it: Any = iterable
        kind = _IterableReadable.WHOLE
    elif _is_iterable(iterable, True):
        it = iterable.__aiter__()
        kind = _IterableReadable.ASYNC
    elif _is_iterable(iterable, False):
        it = iter(iterable)
        kind = _IterableReadable.SYNC
    else:
        raise InvalidArgTypeError('The "iterable" argument must be an instance of Iterable or '
                                  f"AsyncIterable. Received {_received(iterable)}")
    opts = normalize(opts, None, _R_OPTIONS, "options") if opts else {}
    if kind != _IterableReadable.WHOLE and opts.get("high_water_mark") is None:
        opts["high_water_mark"] = 1  # Node's from(): highWaterMark 1 (one item read ahead)
    return _IterableReadable(it, kind, enc, opts)


class _IterableReadable(Readable):
    """The Readable :meth:`Readable.from_` returns: ``_read`` takes the iterator's next items
    (Node's ``next()``/``nextSync()``), ``_destroy`` closes it (Node's ``close()``)."""

    WHOLE, SYNC, ASYNC = 0, 1, 2

    def __init__(self, it: Any, kind: int, encoding: str | None, opts: dict[str, Any]) -> None:
        super().__init__(opts)
        self._f_it = it
        self._f_kind = kind
        self._f_encoding = encoding
        self._f_reading = False  # Node's `reading`: a _read is taking items
        self._f_task: asyncio.Task[None] | None = None  # taking items from an async iterator

    def _read(self, size: int) -> None:
        if self._f_reading:
            return
        self._f_reading = True
        if self._f_kind == self.WHOLE:
            self.push(self._f_it, self._f_encoding)
            self.push(None)
        elif self._f_kind == self.SYNC:
            self._next_sync()
        else:
            self._f_task = _get_running_loop().create_task(self._next_async(None))

    def _push_item(self, value: Any) -> bool:
        """Push one item; ``True``: go on taking items."""
        if value is None:
            self._f_reading = False
            raise node_error("ERR_STREAM_NULL_VALUES")
        if self.push(value, self._f_encoding):
            return True
        self._f_reading = False
        return False

    def _next_sync(self) -> None:
        it = self._f_it
        try:
            while True:
                try:
                    value = next(it)
                except StopIteration:
                    self.push(None)
                    return
                if inspect.isawaitable(value):  # Node: a promise among the values
                    self._f_task = _get_running_loop().create_task(self._next_async(value))
                    return
                if not self._push_item(value):
                    return
        except Exception as err:  # noqa: BLE001 - Node: readable.destroy(err)
            self.destroy(err)

    async def _next_async(self, pending: Any) -> None:
        """Take items (an async iterator's, or a sync one's awaitable values) while ``push``
        wants more."""
        it = self._f_it
        is_async = self._f_kind == self.ASYNC
        try:
            while True:
                if pending is not None:
                    value, pending = await pending, None
                elif is_async:
                    try:
                        value = await it.__anext__()
                    except StopAsyncIteration:
                        self.push(None)
                        return
                    if inspect.isawaitable(value):
                        value = await value
                else:
                    try:
                        value = next(it)
                    except StopIteration:
                        self.push(None)
                        return
                    if inspect.isawaitable(value):
                        value = await value
                if not self._push_item(value):
                    return
        except asyncio.CancelledError:
            self._f_reading = False
            raise
        except Exception as err:  # noqa: BLE001 - Node: readable.destroy(err)
            self.destroy(err)

    def _destroy(self, err: BaseException | None, callback: Callable[..., Any]) -> None:
        # Node: close the iterator (throw(err) first, if it has one), then callback on the
        # next tick with the error it raised, or err.
        if self._f_kind == self.ASYNC:
            _get_running_loop().create_task(self._close_async(err, callback))
            return
        try:
            value = self._close_sync(err)
        except Exception as exc:  # noqa: BLE001 - the callback gets it
            _soon(callback, exc)
            return
        if inspect.isawaitable(value):  # Node awaits what throw()/return() gave
            _get_running_loop().create_task(self._settle(value, err, callback))
        else:
            _soon(callback, err)

    def _close_sync(self, err: BaseException | None) -> Any:
        it = self._f_it
        if err is not None and callable(getattr(it, "throw", None)):
            try:
                value = it.throw(err)
            except StopIteration as stop:  # the generator returned: done
                return stop.value
            if inspect.isawaitable(value):
                _close_unawaited(value)
        close = getattr(it, "close", None)
        if callable(close):
            return close()
        return None

    async def _settle(self, value: Any, err: BaseException | None,
                      callback: Callable[..., Any]) -> None:
        try:
            await value
        except Exception as exc:  # noqa: BLE001 - the callback gets it
            err = exc
        _soon(callback, err)

    async def _close_async(self, err: BaseException | None, callback: Callable[..., Any]) -> None:
        it = self._f_it
        try:
            task = self._f_task
            if task is not None and not task.done():
                # an __anext__ is pending: as JavaScript queues return() behind a pending
                # next(), close once it has settled (the push then finds the stream destroyed)
                await asyncio.wait((task,))
            athrow = getattr(it, "athrow", None)
            if err is not None and callable(athrow):
                try:
                    value = await athrow(err)
                except StopAsyncIteration:
                    value = _UNSET
                if value is _UNSET:
                    _soon(callback, err)
                    return
                if inspect.isawaitable(value):
                    await value
            aclose = getattr(it, "aclose", None)
            if callable(aclose):
                value = await aclose()
                if inspect.isawaitable(value):
                    await value
        except Exception as exc:  # noqa: BLE001 - the callback gets it
            err = exc
        _soon(callback, err)


def _close_unawaited(value: Any) -> None:
    if inspect.iscoroutine(value):
        value.close()


# -- readable.iterator() ------------------------------------------------------------------------


def check_iterator_options(options: Any, destroy_on_return: Any) -> bool:
    """``readable.iterator(options)``'s checks (Node's ``validateObject``)."""
    if options is not None:
        if not isinstance(options, Mapping):
            raise type_error("options", "object", options)
        for key, value in options.items():
            if to_snake(key) != "destroy_on_return":
                raise InvalidArgTypeError(f"options: unknown option {key!r}")
            destroy_on_return = value
    return destroy_on_return is not False


class _IterState:
    """What the listeners of one iterator share (the iterator object itself is not referenced
    by the stream: dropping it, as ``break`` does, finalises it at once)."""

    __slots__ = ("stream", "error", "waiters", "started", "finished", "destroy_on_return",
                 "keep_on_end", "cleanup")

    def __init__(self, stream: Readable, destroy_on_return: bool, keep_on_end: bool) -> None:
        self.stream = stream
        self.error: Any = _UNSET  # _UNSET: running; None: ended; else the error
        self.waiters: list[asyncio.Future[None]] = []
        self.started = False
        self.finished = False
        self.destroy_on_return = destroy_on_return
        self.keep_on_end = keep_on_end
        self.cleanup: Callable[[], None] | None = None

    def start(self) -> None:
        self.started = True
        self.stream.on("readable", self.wake)
        self.cleanup = _eos(self.stream, None, False, True, self.on_eos)

    def wake(self, *_: Any) -> None:
        waiters = self.waiters
        if waiters:
            self.waiters = []
            for fut in waiters:
                if not fut.done():
                    fut.set_result(None)

    def on_eos(self, err: BaseException | None = None) -> None:
        if err is None:
            self.error = None
        else:
            self.error = _aggregate(self.error, err)
        self.wake()

    def finish(self) -> None:
        """Node's ``finally``: destroy the stream (unless told not to), else remove the
        listeners."""
        if self.finished or not self.started:
            self.finished = True
            return
        self.finished = True
        stream = self.stream
        error = self.error
        ended = error is None
        failed = not ended and error is not _UNSET
        if (failed or self.destroy_on_return) and (error is _UNSET or stream._auto_destroy) \
                and not (ended and self.keep_on_end and not stream._destroyed):
            _destroyer(stream)
        else:
            stream.remove_listener("readable", self.wake)
            if self.cleanup is not None:
                self.cleanup()
        self.wake()


def _aggregate(inner: Any, outer: BaseException) -> BaseException:
    """Node's ``aggregateTwoErrors(inner, outer)``."""
    if isinstance(inner, BaseException) and inner is not outer:
        if isinstance(outer, AggregateNodeError):
            return outer
        return AggregateNodeError([outer, inner], str(outer))  # type: ignore[list-item]
    return outer


def _destroyer(stream: Any) -> None:
    """Node's ``destroyImpl.destroyer(stream, null)``: an ``AbortError`` unless the stream is
    finished (neither readable nor writable any more)."""
    if is_destroyed(stream):
        return
    finished = not is_readable(stream) and not is_writable(stream)
    _destroy_stream(stream, None if finished else _abort_error())  # type: ignore[arg-type]


class ReadableIterator:
    """The async iterator of a :class:`Readable`: ``readable.iterator()`` and ``async for``.

    Its items are the chunks ``read()`` returns (``bytes``; ``str`` after ``set_encoding``).
    :meth:`aclose` (leaving ``async with contextlib.aclosing(...)``, or dropping the iterator,
    as ``break`` out of ``async for`` does, or cancelling the task waiting in ``__anext__``) is
    Node's ``return()``; :meth:`athrow` its ``throw()``."""

    __slots__ = ("_st", "__weakref__")

    def __init__(self, stream: Readable, destroy_on_return: bool = True,
                 keep_on_end: bool = False) -> None:
        self._st = _IterState(stream, destroy_on_return, keep_on_end)

    @property
    def stream(self) -> Readable:
        """Node's ``iterator.stream``: the stream iterated."""
        return self._st.stream

    def __aiter__(self) -> ReadableIterator:
        return self

    async def __anext__(self) -> Chunk:
        st = self._st
        if not st.started:
            if st.finished:
                raise StopAsyncIteration
            st.start()
        stream = st.stream
        while True:
            if st.finished:
                raise StopAsyncIteration
            chunk = None if stream._destroyed else stream.read()
            if chunk is not None:
                return chunk
            error = st.error
            if error is None:
                st.finish()
                raise StopAsyncIteration
            if error is not _UNSET:
                st.finish()
                raise error
            fut = _get_running_loop().create_future()
            st.waiters.append(fut)
            try:
                await fut
            except asyncio.CancelledError:
                # the consumer is cancelled (a pipeline's abort, task.cancel()): the iteration
                # ends here, as Node's for-await leaves by its finally, not whenever the
                # iterator is collected (a traceback may keep it long after)
                st.finish()
                raise

    async def aclose(self) -> None:
        """Node's ``iterator.return()``: end the iteration; the stream is destroyed (an
        ``AbortError`` unless it had finished) unless ``destroy_on_return=False``."""
        self._st.finish()

    async def athrow(self, err: BaseException) -> None:
        """Node's ``iterator.throw(err)``: end the iteration (destroying the stream, as a
        failed ``async for`` body does) and raise ``err``."""
        st = self._st
        if st.started and not st.finished:
            st.error = _aggregate(st.error, err)
            st.finish()
            raise st.error
        st.finished = True
        raise err

    def __del__(self) -> None:
        st = getattr(self, "_st", None)
        if st is not None and st.started and not st.finished:
            try:
                st.finish()
            except RuntimeError:  # no running loop any more (interpreter exit)
                pass
