"""Node's Readable iterator helpers (``lib/internal/streams/operators.js``, experimental in Node
v20 but shipped): ``readable.map()``, ``filter()``, ``forEach()``, ``toArray()``, ``some()``,
``find()``, ``every()``, ``flatMap()``, ``drop()``, ``take()``, ``reduce()``, ``compose()``.
Part of :mod:`nodetls.stream`; the :class:`Readable` methods of those names delegate here.

As Node's: ``fn`` may be a plain function or an ``async def`` (its awaitable is awaited);
``map``'s (and ``filter``'s, ``for_each``'s, ``some``'s, ``find``'s, ``every``'s) calls run up to
``concurrency`` at a time, at most ``high_water_mark`` results waiting beyond those, and come out
in the source's order; the stream-returning helpers give ``Readable.from_(generator)`` (one item
read ahead), the others an awaitable. Each reads the source with its async iterator
(``readable.iterator()``): stopping early (``take``, ``some``/``find``/``every`` deciding, a
failing ``fn``) destroys the source with an ``AbortError``; an error of the source is raised.

Differences from Node: no object mode -- a stream-returning helper's items must be chunks
(``bytes``-like or ``str``): any other item (a number, a list, ...) destroys the returned stream
with ``ERR_INVALID_ARG_TYPE``, ``None`` with ``ERR_STREAM_NULL_VALUES``, as Node's
``Readable.from(..., {objectMode: false})`` would; ``fn`` gets the chunk alone (no ``{signal}``
argument) and ``signal`` is refused (no AbortSignal in nodetls); a predicate's result is judged
by Python's truth (an empty ``bytes``/list is false); ``limit`` must be a number (or ``None``:
0) where Node converts anything with ``Number()``; the awaitable helpers check their arguments
at the call (Node's promise rejects)."""

from __future__ import annotations

import asyncio
import inspect
import math
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from .._option_table import _received, type_error
from .._options import to_snake
from ..errors import InvalidArgTypeError, InvalidArgValueError, node_error
from ._utils import _is_node_stream, is_writable

if TYPE_CHECKING:
    from ._duplex import Duplex
    from ._readable import Readable

_EMPTY: Any = object()  # Node's kEmpty: "no item" (filter's rejected, for_each's)
_EOF: Any = object()  # Node's kEof


class _NoInitial:
    """``reduce()``'s ``initial`` when none is given."""

    def __repr__(self) -> str:
        return "<no initial value>"


_UNSET: Any = _NoInitial()
_MAX_SAFE_INTEGER = 2 ** 53 - 1
#: The pump tasks running (asyncio keeps weak references to tasks only).
_TASKS: set[asyncio.Task[None]] = set()

# -- argument checks ----------------------------------------------------------------------------


def _check_fn(fn: Any, name: str = "fn") -> None:
    if not callable(fn):
        raise InvalidArgTypeError(f'The "{name}" argument must be of type function or an '
                                  f"instance of AsyncFunction. Received {_received(fn)}")


def _options(options: Any, kwargs: Mapping[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    """Node's ``validateObject(options)``; ``signal`` (other than ``None``) is refused, as any
    option Node's helper does not read."""
    if options is not None and not isinstance(options, Mapping):
        raise type_error("options", "object", options)
    out: dict[str, Any] = {}
    for source in (options or {}, kwargs):
        for key, value in source.items():
            name = to_snake(key) if isinstance(key, str) else key
            if name == "signal" and value is None:
                continue  # (Node: options?.signal != null)
            if name not in allowed:
                hint = " (AbortSignal is not supported)" if name == "signal" else ""
                raise InvalidArgTypeError(f"options: unknown option {key!r}{hint}")
            out[name] = value
    return out


def _js_number(value: float) -> str:
    """A number as Node's ERR_OUT_OF_RANGE shows it."""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer():
            value = int(value)
    if isinstance(value, int) and abs(value) > 2 ** 32:
        return f"{value:_}"  # Node's addNumericalSeparator
    return str(value)


def _integer(value: Any, label: str, minimum: int) -> int:
    """``Math.floor(value)``, then Node's ``validateInteger(value, label, minimum)``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise type_error(label, "number", value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise node_error("ERR_OUT_OF_RANGE", label, "an integer", _js_number(value))
        value = math.floor(value)
    if value < minimum or value > _MAX_SAFE_INTEGER:
        raise node_error("ERR_OUT_OF_RANGE", label, f">= {minimum} && <= {_MAX_SAFE_INTEGER}",
                         _js_number(value))
    return int(value)


def _concurrency(opts: dict[str, Any]) -> tuple[int, int]:
    """Node's ``map`` options: ``concurrency`` (1) and ``highWaterMark`` (``concurrency - 1``);
    the queue holds ``concurrency + highWaterMark`` results."""
    concurrency = 1
    if opts.get("concurrency") is not None:
        concurrency = _integer(opts["concurrency"], "options.concurrency", 1)
    hwm = concurrency - 1
    if opts.get("high_water_mark") is not None:
        hwm = _integer(opts["high_water_mark"], "options.highWaterMark", 0)
    return concurrency, hwm + concurrency


def _limit(value: Any) -> float:
    """Node's ``toIntegerOrInfinity(number)`` (``Number()`` for numbers and ``None`` only)."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise type_error("number", "number", value)
    if isinstance(value, float) and math.isnan(value):
        return 0
    if value < 0:
        raise node_error("ERR_OUT_OF_RANGE", "number", ">= 0", _js_number(value))
    return value


_MAP_OPTIONS = ("concurrency", "high_water_mark")

# -- map: the engine of most helpers ------------------------------------------------------------


def _resolved(loop: asyncio.AbstractEventLoop, value: Any,
              err: BaseException | None = None) -> asyncio.Future[Any]:
    fut: asyncio.Future[Any] = loop.create_future()
    if err is not None:
        fut.set_exception(err)
    else:
        fut.set_result(value)
    return fut


async def _map_items(stream: Readable, fn: Callable[[Any], Any], concurrency: int,
                     hwm: int) -> AsyncIterator[Any]:
    """Node's ``map`` generator: a pump task reads the source and starts ``fn`` on each item
    (up to ``concurrency`` running, ``hwm`` queued); the results are yielded in order. ``fn``
    returning ``_EMPTY`` (at once or awaited) yields nothing for that item."""
    loop = asyncio.get_running_loop()
    queue: deque[Any] = deque()
    next_w: asyncio.Future[None] | None = None
    resume_w: asyncio.Future[None] | None = None
    done = False
    cnt = 0

    def wake_next() -> None:
        nonlocal next_w
        w, next_w = next_w, None
        if w is not None and not w.done():
            w.set_result(None)

    def maybe_resume() -> None:
        nonlocal resume_w
        if resume_w is not None and not done and cnt < concurrency and len(queue) < hwm:
            w, resume_w = resume_w, None
            if not w.done():
                w.set_result(None)

    def settled(fut: asyncio.Future[Any]) -> None:
        nonlocal cnt, done
        if fut.cancelled() or fut.exception() is not None:  # (retrieved: no warning)
            done = True  # Node's onCatch
        cnt -= 1
        maybe_resume()

    async def pump() -> None:
        nonlocal cnt, done, resume_w
        it = stream.iterator()
        try:
            try:
                async for val in it:
                    if done:
                        return
                    try:
                        res = fn(val)
                        if res is _EMPTY:
                            continue
                        fut = asyncio.ensure_future(res) if inspect.isawaitable(res) \
                            else _resolved(loop, res)
                    except Exception as err:  # noqa: BLE001 - Node: PromiseReject(err)
                        fut = _resolved(loop, None, err)
                    cnt += 1
                    fut.add_done_callback(settled)
                    queue.append(fut)
                    wake_next()
                    if not done and (len(queue) >= hwm or cnt >= concurrency):
                        resume_w = loop.create_future()
                        await resume_w
            finally:
                await it.aclose()  # Node's for-await: return() when left early
            queue.append(_EOF)
        except Exception as err:  # noqa: BLE001 - the source's error, raised to the consumer
            fut = _resolved(loop, None, err)
            fut.add_done_callback(settled)
            queue.append(fut)
        finally:
            done = True
            wake_next()

    task = loop.create_task(pump())
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)
    try:
        while True:
            while queue:
                val = queue[0]
                if val is not _EOF:
                    val = await val
                if val is _EOF:
                    return
                if val is not _EMPTY:
                    yield val
                queue.popleft()
                maybe_resume()
            next_w = loop.create_future()
            await next_w
    finally:
        done = True
        if resume_w is not None and not resume_w.done():
            resume_w.set_result(None)
        resume_w = None


def _filter_fn(fn: Callable[[Any], Any], negate: bool = False) -> Callable[[Any], Any]:
    """Node's ``filterFn`` (``every``'s negated predicate with ``negate``): the item, or
    ``_EMPTY``; a coroutine when ``fn`` gives an awaitable."""

    async def later(value: Any, res: Any) -> Any:
        return value if bool(await res) is not negate else _EMPTY

    def filter_fn(value: Any) -> Any:
        res = fn(value)
        if inspect.isawaitable(res):
            return later(value, res)
        return value if bool(res) is not negate else _EMPTY

    return filter_fn


def _for_each_fn(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Node's ``forEachFn``: call ``fn`` (awaited), yield nothing."""

    async def later(res: Any) -> Any:
        await res
        return _EMPTY

    def for_each_fn(value: Any) -> Any:
        res = fn(value)
        return later(res) if inspect.isawaitable(res) else _EMPTY

    return for_each_fn


async def _first(gen: AsyncIterator[Any], default: Any) -> Any:
    """The first item of ``gen`` (closing it), or ``default``."""
    try:
        async for val in gen:
            return val
        return default
    finally:
        await gen.aclose()  # type: ignore[attr-defined]


def _from(gen: Any) -> Readable:
    from ._from import readable_from  # (not at the top: _from needs _readable, which needs us)

    return readable_from(gen)


# -- the stream-returning helpers ---------------------------------------------------------------


def map_(stream: Readable, fn: Any, options: Any, kwargs: Mapping[str, Any]) -> Readable:
    """Node ``readable.map(fn[, options])``: see :meth:`Readable.map`."""
    _check_fn(fn)
    concurrency, hwm = _concurrency(_options(options, kwargs, _MAP_OPTIONS))
    return _from(_map_items(stream, fn, concurrency, hwm))


def filter_(stream: Readable, fn: Any, options: Any, kwargs: Mapping[str, Any]) -> Readable:
    """Node ``readable.filter(fn[, options])``."""
    _check_fn(fn)
    concurrency, hwm = _concurrency(_options(options, kwargs, _MAP_OPTIONS))
    return _from(_map_items(stream, _filter_fn(fn), concurrency, hwm))


async def _flatten(values: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """Node's ``flatMap`` generator: ``yield*`` each value (an async iterable, a stream, or a
    sync iterable: a ``str`` gives its characters, ``bytes`` its numbers)."""
    from ._readable import Readable

    try:
        async for val in values:
            if isinstance(val, Readable):
                inner: Any = val.iterator()  # Node: the stream's [Symbol.asyncIterator]()
            elif callable(getattr(val, "__aiter__", None)):
                inner = val.__aiter__()
            else:
                sync = iter(val)  # (a TypeError for what is not iterable, as JavaScript's)
                try:
                    for item in sync:
                        yield item
                finally:
                    close = getattr(sync, "close", None)
                    if callable(close):
                        close()
                continue
            try:
                async for item in inner:
                    yield item
            finally:
                aclose = getattr(inner, "aclose", None)
                if callable(aclose):
                    await aclose()
    finally:
        await values.aclose()  # type: ignore[attr-defined]


def flat_map(stream: Readable, fn: Any, options: Any, kwargs: Mapping[str, Any]) -> Readable:
    """Node ``readable.flatMap(fn[, options])``."""
    _check_fn(fn)
    concurrency, hwm = _concurrency(_options(options, kwargs, _MAP_OPTIONS))
    return _from(_flatten(_map_items(stream, fn, concurrency, hwm)))


async def _drop_items(stream: Readable, n: float) -> AsyncIterator[Any]:
    it = stream.iterator()
    try:
        async for val in it:
            if n <= 0:  # (Node: number-- <= 0)
                yield val
            n -= 1
    finally:
        await it.aclose()


async def _take_items(stream: Readable, n: float) -> AsyncIterator[Any]:
    it = stream.iterator()
    try:
        async for val in it:
            if n > 0:  # (Node: number-- > 0)
                yield val
            n -= 1
            if n <= 0:  # (Node: no further item taken from the source)
                return
    finally:
        await it.aclose()


def drop(stream: Readable, limit: Any, options: Any, kwargs: Mapping[str, Any]) -> Readable:
    """Node ``readable.drop(limit[, options])``."""
    _options(options, kwargs, ())
    return _from(_drop_items(stream, _limit(limit)))


def take(stream: Readable, limit: Any, options: Any, kwargs: Mapping[str, Any]) -> Readable:
    """Node ``readable.take(limit[, options])``."""
    _options(options, kwargs, ())
    return _from(_take_items(stream, _limit(limit)))


def compose(stream: Readable, other: Any, options: Any, kwargs: Mapping[str, Any]) -> Readable:
    """Node ``readable.compose(stream[, options])``: ``Readable.from_`` of
    ``stream.compose(readable, stream)``."""
    from ._compose import compose as _compose

    _options(options, kwargs, ())
    if _is_node_stream(other) and not is_writable(other):
        raise InvalidArgValueError(f"The argument 'stream' must be writable. Received "
                                   f"{_received(other)}")
    composed: Duplex = _compose(stream, other)
    return _from(composed.iterator())


# -- the awaitable helpers ----------------------------------------------------------------------


async def _to_array(stream: Readable) -> list[Any]:
    it = stream.iterator()
    try:
        return [val async for val in it]
    finally:
        await it.aclose()


def to_array(stream: Readable, options: Any, kwargs: Mapping[str, Any]
             ) -> Coroutine[Any, Any, list[Any]]:
    """Node ``readable.toArray([options])``."""
    _options(options, kwargs, ())
    return _to_array(stream)


async def _for_each(gen: AsyncIterator[Any]) -> None:
    try:
        async for _ in gen:
            pass
    finally:
        await gen.aclose()  # type: ignore[attr-defined]


def for_each(stream: Readable, fn: Any, options: Any, kwargs: Mapping[str, Any]
             ) -> Coroutine[Any, Any, None]:
    """Node ``readable.forEach(fn[, options])``."""
    _check_fn(fn)
    concurrency, hwm = _concurrency(_options(options, kwargs, _MAP_OPTIONS))
    return _for_each(_map_items(stream, _for_each_fn(fn), concurrency, hwm))


async def _some(gen: AsyncIterator[Any], some: bool) -> bool:
    """``some``: an item came; ``every`` (``some=False``): none came (of the negated filter)."""
    found = await _first(gen, _UNSET) is not _UNSET
    return found if some else not found


def some(stream: Readable, fn: Any, options: Any, kwargs: Mapping[str, Any]
         ) -> Coroutine[Any, Any, bool]:
    """Node ``readable.some(fn[, options])``."""
    _check_fn(fn)
    concurrency, hwm = _concurrency(_options(options, kwargs, _MAP_OPTIONS))
    return _some(_map_items(stream, _filter_fn(fn), concurrency, hwm), True)


def every(stream: Readable, fn: Any, options: Any, kwargs: Mapping[str, Any]
          ) -> Coroutine[Any, Any, bool]:
    """Node ``readable.every(fn[, options])``: ``not some(not fn)``."""
    _check_fn(fn)
    concurrency, hwm = _concurrency(_options(options, kwargs, _MAP_OPTIONS))
    return _some(_map_items(stream, _filter_fn(fn, True), concurrency, hwm), False)


def find(stream: Readable, fn: Any, options: Any, kwargs: Mapping[str, Any]
         ) -> Coroutine[Any, Any, Any]:
    """Node ``readable.find(fn[, options])``."""
    _check_fn(fn)
    concurrency, hwm = _concurrency(_options(options, kwargs, _MAP_OPTIONS))
    return _first(_map_items(stream, _filter_fn(fn), concurrency, hwm), None)


async def _reduce(stream: Readable, reducer: Callable[[Any, Any], Any], acc: Any) -> Any:
    has_initial = acc is not _UNSET
    got_any = False
    it = stream.iterator()
    try:
        async for value in it:
            got_any = True
            if not has_initial:
                acc = value
                has_initial = True
            else:
                acc = reducer(acc, value)
                if inspect.isawaitable(acc):
                    acc = await acc
        if not got_any and not has_initial:
            raise node_error("ERR_MISSING_ARGS",
                             message="Reduce of an empty stream requires an initial value")
    finally:
        await it.aclose()
    return acc


def reduce(stream: Readable, reducer: Any, initial: Any, options: Any,
           kwargs: Mapping[str, Any]) -> Coroutine[Any, Any, Any]:
    """Node ``readable.reduce(fn[, initial[, options]])``."""
    _check_fn(reducer, "reducer")
    _options(options, kwargs, ())
    return _reduce(stream, reducer, initial)
