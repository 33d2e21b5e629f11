"""Node's ``stream.pipeline`` (``lib/internal/streams/pipeline.js``). Part of
:mod:`nodetls.stream`.

Differences from Node's, each for want of the JavaScript counterpart: functions get no
``{signal}`` argument (a source function is called with no argument, a transform or destination
function with the previous stage as an async iterable alone, a sync one wrapped); instead of
aborting that signal when the pipeline fails, the tasks still running a function or feeding a
stream are cancelled. Web streams, ``Duplex.from`` (any other object as a stage) and object mode
are not supported: a destination function's ``PassThrough`` carries the function's result only
if it is ``bytes``-like or ``str``."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from .._option_table import _received, type_error
from ..errors import AggregateNodeError, NodeTypeError, node_error
from ..events import _invoke
from ._base import Stream, _get_running_loop, _soon
from ._eager import start_eagerly
from ._finished import _eos
from ._transform import PassThrough
from ._utils import (
    _is_iterable,
    _is_node_stream,
    _is_readable_finished,
    _is_readable_node_stream,
    is_destroyed,
    is_readable,
    is_writable,
)

_PREMATURE = "ERR_STREAM_PREMATURE_CLOSE"
_BYTES_LIKE = (bytes, bytearray, memoryview, str)


def pipeline(*streams: Any) -> Any:
    """Node ``stream.pipeline(source, ...transforms, destination, callback)``: pipe ``source``
    through each transform into ``destination`` with backpressure; when any of them fails or
    closes early, destroy every one (with that error; ``ERR_STREAM_DESTROYED`` for those that
    had not finished when the pipeline ended without one); ``callback(err, value)`` once, on a
    later loop iteration, with the first error (``ERR_STREAM_PREMATURE_CLOSE`` gives way to a
    later real error) or ``None``. Returns the last stream.

    Stages: nodetls streams (sockets included) and Node "legacy streams"; the source may also be
    an iterable or async iterable of chunks, or a function returning one (an async generator
    function); a middle stage may be a function taking an async iterable and returning one (an
    async generator function); the destination may be a function taking an async iterable and
    returning an awaitable (an ``async def``; its result is ``value``) or an async iterable --
    then the pipeline returns a :class:`PassThrough` that ends when it completes.
    ``pipeline([s1, s2, ...], callback)`` is accepted too. Errors: ERR_INVALID_ARG_TYPE (no
    callback, a stage of no supported kind), ERR_MISSING_ARGS (fewer than two stages),
    ERR_INVALID_RETURN_VALUE (a function returned what its place needs not).
    """
    if not streams or not callable(streams[-1]) or _is_node_stream(streams[-1]):
        raise type_error("streams[stream.length - 1]", "function",
                         streams[-1] if streams else None)
    return _pipeline(list(streams[:-1]), streams[-1], True)


def _destroy_method(stream: Any) -> Any:
    """``stream.destroy`` if it has one that works: a bare :class:`Stream` is Node's old-style
    ``Stream``, which has none (ours inherits the Readable/Writable one, which needs their
    state)."""
    if isinstance(stream, Stream) and not (stream._HAS_R or stream._HAS_W):
        return None
    destroy = getattr(stream, "destroy", None)
    return destroy if callable(destroy) else None


def _destroy_stream(stream: Any, err: BaseException) -> None:
    """Node's ``destroyImpl.destroyer`` (for a stream that is not destroyed yet)."""
    if stream is None or is_destroyed(stream):
        return
    destroy = _destroy_method(stream)
    if destroy is not None:
        destroy(err)
    elif callable(getattr(stream, "close", None)):
        stream.close()
    else:  # a legacy stream
        _soon(stream.emit, "error", err)
        _soon(stream.emit, "close")


def _abort_error() -> BaseException:
    return node_error("ABORT_ERR", message="The operation was aborted")


def destroy(stream: Any, err: BaseException | None = None) -> None:
    """Node ``stream.destroy(stream, err)`` (``destroyImpl.destroyer``): destroy ``stream``
    (with ``err``; without one, an ``AbortError`` (``ABORT_ERR``) unless it had finished:
    neither readable nor writable any more). Nothing for ``None`` or a destroyed stream. An
    object without ``destroy()`` is closed (``close()``), or gets ``'error'`` (if any) and
    ``'close'`` on later loop iterations (a legacy stream)."""
    if stream is None or is_destroyed(stream):
        return
    if err is None and (not _is_node_stream(stream) or is_readable(stream)
                        or is_writable(stream)):
        err = _abort_error()
    if err is not None:
        _destroy_stream(stream, err)
    elif (destroy := _destroy_method(stream)) is not None:
        destroy()
    elif callable(getattr(stream, "close", None)):
        stream.close()
    else:  # a finished legacy stream
        _soon(stream.emit, "close")


def _return_error(expected: str, name: str, value: Any) -> NodeTypeError:
    return NodeTypeError(f'Expected {expected} to be returned from the "{name}" function but '
                         f"got {_received(value)}.", "ERR_INVALID_RETURN_VALUE")


def _stage_error(value: Any) -> BaseException:
    return type_error("body", "function or an instance of Stream, Iterable or AsyncIterable",
                      value)


class _Pipeline:
    """One ``pipeline()`` call: Node's ``pipelineImpl`` closure state."""

    def __init__(self, callback: Callable[..., Any]) -> None:
        self.callback: Callable[..., Any] | None = callback
        self.error: BaseException | None = None
        self.value: Any = None
        self.count = 0  # the finish() calls still due
        self.destroys: list[Callable[[BaseException | None], None]] = []
        self.last_cleanup: list[Callable[[], None]] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.aborting = False

    def finish(self, err: BaseException | None = None) -> None:
        self.count -= 1
        self._finish(err, self.count == 0)

    def _finish(self, err: BaseException | None, final: bool) -> None:
        if err is not None and (self.error is None
                                or getattr(self.error, "code", None) == _PREMATURE):
            self.error = err
        if self.error is None and not final:
            return
        while self.destroys:
            self.destroys.pop(0)(self.error)
        if self.error is not None:  # Node aborts its signal: cancel what still runs
            self.aborting = True
            current = asyncio.current_task()
            for task in self.tasks:
                if task is not current and not task.done():
                    task.cancel()
        if final:
            if self.error is None:
                for fn in self.last_cleanup:
                    fn()
            _soon(self._call_back, self.error, self.value)

    def _call_back(self, err: BaseException | None, value: Any) -> None:
        cb, self.callback = self.callback, None
        if cb is not None:
            _invoke(cb, (err, value))

    def start(self, coro: Any) -> None:
        """Run one of Node's async helpers: at once, as Node calls them (:mod:`._eager`)."""
        self.count += 1
        task = start_eagerly(_get_running_loop(), coro)
        if task is not None:
            self.tasks.append(task)

    # -- a stream's end and errors --------------------------------------------------------------

    def destroyer(self, stream: Any, reading: bool, writing: bool) -> Callable[[], None]:
        done = False

        def on_close(*_: Any) -> None:
            nonlocal done
            done = True

        def on_eos(err: BaseException | None = None) -> None:
            nonlocal done
            done = err is None

        def destroy(err: BaseException | None) -> None:
            nonlocal done
            if not done:
                done = True
                _destroy_stream(stream, err or node_error("ERR_STREAM_DESTROYED", "pipe"))

        stream.on("close", on_close)
        self.destroys.append(destroy)
        return _eos(stream, reading, writing, True, on_eos)

    def on_stage_error(self, err: BaseException) -> None:
        # errors after the pipe/pump has completed
        if err is not None and getattr(err, "code", None) not in ("ABORT_ERR", _PREMATURE):
            self.finish(err)

    # -- connecting two stages ------------------------------------------------------------------

    def pipe(self, src: Any, dst: Any, end: bool) -> Callable[[], None]:
        """Node's ``pipe(src, dst, finish, {end})``: two finish() calls due."""
        ended = False

        def on_dst_close(*_: Any) -> None:
            if not ended:  # the destination closed before the source was done
                self.finish(node_error(_PREMATURE))

        dst.on("close", on_dst_close)
        if isinstance(src, Stream):
            src.pipe(dst, end=False)
        else:
            src.pipe(dst, {"end": False})
        if end:
            def end_fn(*_: Any) -> None:
                nonlocal ended
                ended = True
                dst.end()

            if _is_readable_finished(src):
                _soon(end_fn)
            else:
                src.once("end", end_fn)
        else:
            self.finish()

        def on_src_done(err: BaseException | None = None) -> None:
            if (err is not None and getattr(err, "code", None) == _PREMATURE
                    and isinstance(src, Stream) and src._r_ended  # type: ignore[attr-defined]
                    and src._errored is None and not src._error_emitted):
                # ended, closed before 'end': 'end' may still come
                src.once("end", self.finish)
                src.once("error", self.finish)
            else:
                self.finish(err)

        _eos(src, True, False, True, on_src_done)
        return _eos(dst, False, True, True, self.finish)

    async def pump(self, iterable: Any, writable: Any, end: bool) -> None:
        """Node's ``pumpToNode``: write what ``iterable`` yields into ``writable``, waiting for
        ``'drain'`` whenever ``write()`` says so; then ``end()`` it and wait for its finish."""
        loop = _get_running_loop()
        error: BaseException | None = None
        waiter: asyncio.Future[None] | None = None

        def resume(err: BaseException | None = None) -> None:
            nonlocal error
            if err is not None:
                error = err
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

        async def wait() -> None:
            nonlocal waiter
            if error is None:
                waiter = loop.create_future()
                try:
                    await waiter
                finally:
                    waiter = None
            if error is not None:
                raise error

        writable.on("drain", resume)
        cleanup = _eos(writable, False, None, True, resume)
        it: Any = None
        exhausted = False
        try:
            if getattr(writable, "writable_need_drain", False) is True:
                await wait()
            if _is_iterable(iterable, True):
                it = iterable.__aiter__()
                while True:
                    try:
                        chunk = await it.__anext__()
                    except StopAsyncIteration:
                        break
                    if not writable.write(chunk):
                        await wait()
            else:
                it = iter(iterable)
                for chunk in it:
                    if not writable.write(chunk):
                        await wait()
            exhausted = True
            if end:
                writable.end()
                await wait()
            self.finish()
        except asyncio.CancelledError:
            self.finish(None if self.aborting else _abort_error())
            raise
        except Exception as err:  # noqa: BLE001 - the pipeline's error
            if isinstance(error, Exception) and err is not error:
                err = AggregateNodeError([err, error], str(err))  # Node's aggregateTwoErrors
            self.finish(err)
        finally:
            cleanup()
            writable.remove_listener("drain", resume)
            if not exhausted and it is not None:  # Node's for-await: return() on the iterator
                try:
                    aclose = getattr(it, "aclose", None)
                    if aclose is not None:
                        await aclose()
                    elif callable(getattr(it, "close", None)):
                        it.close()
                except Exception:  # noqa: BLE001, S110 - the loop's own error wins
                    pass

    async def await_destination(self, aw: Any, pt: PassThrough, end: bool) -> None:
        """A destination function's awaitable: its result is the pipeline's ``value``."""
        try:
            val = await aw
        except asyncio.CancelledError:
            self.finish(None if self.aborting else _abort_error())
            raise
        except Exception as err:  # noqa: BLE001 - the pipeline's error
            pt.destroy(err)
            _soon(self.finish, err)
            return
        self.value = val
        if isinstance(val, _BYTES_LIKE):
            pt.write(val)
        if end:
            pt.end()
        _soon(self.finish)


def _pipeline(streams: list[Any], callback: Callable[..., Any], end_last: bool) -> Any:
    """Node's ``pipelineImpl`` (``end_last``: Node's ``opts.end``)."""
    if len(streams) == 1 and isinstance(streams[0], (list, tuple)):
        streams = list(streams[0])
    if len(streams) < 2:
        raise node_error("ERR_MISSING_ARGS", "streams")
    pl = _Pipeline(callback)
    ret: Any = None
    n = len(streams)
    for i, stream in enumerate(streams):
        reading = i < n - 1
        writing = i > 0
        end = reading or end_last
        last = i == n - 1
        if _is_node_stream(stream):
            if end:
                cleanup = pl.destroyer(stream, reading, writing)
                if last and is_readable(stream):
                    pl.last_cleanup.append(cleanup)
            stream.on("error", pl.on_stage_error)
            if last and is_readable(stream):
                pl.last_cleanup.append(_remover(stream, "error", pl.on_stage_error))
        if i == 0:
            if callable(stream) and not _is_node_stream(stream):
                ret = stream()
                if not _is_iterable(ret):
                    raise _return_error("Iterable, AsyncIterable or Stream", "source", ret)
            elif _is_iterable(stream) or _is_readable_node_stream(stream):
                ret = stream
            else:
                raise _stage_error(stream)
        elif callable(stream) and not _is_node_stream(stream):
            if not _is_iterable(ret):
                raise type_error("val", "Readable, Iterable or AsyncIterable", ret)
            ret = stream(_as_async_iterable(ret))
            if reading:
                if not _is_iterable(ret, True):
                    _close_unawaited(ret)
                    raise _return_error("AsyncIterable", f"transform[{i - 1}]", ret)
            else:
                pt = PassThrough()
                if inspect.isawaitable(ret):
                    pl.start(pl.await_destination(ret, pt, end))
                elif _is_iterable(ret, True):
                    pl.start(pl.pump(ret, pt, end))
                else:
                    raise _return_error("AsyncIterable or Promise", "destination", ret)
                ret = pt
                cleanup = pl.destroyer(ret, False, True)
                pl.last_cleanup.append(cleanup)
        elif _is_node_stream(stream):
            if _is_readable_node_stream(ret):
                pl.count += 2
                cleanup = pl.pipe(ret, stream, end)
                if last and is_readable(stream):
                    pl.last_cleanup.append(cleanup)
            elif _is_iterable(ret):
                pl.start(pl.pump(ret, stream, end))
            else:
                raise type_error("val", "Readable, Iterable or AsyncIterable", ret)
            ret = stream
        else:
            raise _stage_error(stream)
    return ret


def _as_async_iterable(value: Any) -> Any:
    """What a function stage gets: an async iterable (JavaScript's ``for await`` takes a sync
    iterable as it is; Python's ``async for`` needs this wrapper)."""
    if _is_iterable(value, True):
        return value

    async def each() -> Any:
        for item in value:
            yield item

    return each()


def _remover(emitter: Any, event: str, fn: Callable[..., Any]) -> Callable[[], None]:
    def remove() -> None:
        emitter.remove_listener(event, fn)

    return remove


def _close_unawaited(value: Any) -> None:
    if inspect.iscoroutine(value):
        value.close()  # (no "never awaited" warning for a value we reject)
