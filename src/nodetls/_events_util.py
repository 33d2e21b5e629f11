"""Node's ``events`` module functions (``lib/events.js``): :func:`on`, :func:`once`,
:func:`get_event_listeners`, :func:`get_max_listeners`, :func:`set_max_listeners`,
:func:`listener_count`. Re-exported by :mod:`nodetls.events`.

They take any emitter of Node's shape (``on``, ``remove_listener``...), not only
:class:`nodetls.events.EventEmitter`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from . import events as _events
from ._option_table import _received, number
from ._options import to_snake
from .errors import InvalidArgTypeError

__all__ = ["EventIterator", "on", "once", "get_event_listeners", "get_max_listeners",
           "set_max_listeners", "listener_count"]

_MAX_SAFE_INTEGER = 2**53 - 1
_check_water_mark = number(1, integer=True, maximum=_MAX_SAFE_INTEGER)
_check_max = number(0)
_ON_OPTIONS = frozenset({"close", "high_water_mark", "high_watermark", "low_water_mark",
                         "low_watermark"})
_DONE: Any = object()  # what a waiting __anext__ is given when the iteration ends


def _not_an(what: str, name: str, value: Any) -> InvalidArgTypeError:
    return InvalidArgTypeError(
        f'The "{name}" argument must be an instance of {what}. Received {_received(value)}')


def _check_emitter(emitter: Any) -> None:
    if not (callable(getattr(emitter, "on", None))
            and callable(getattr(emitter, "remove_listener", None))):
        raise _not_an("EventEmitter", "emitter", emitter)


def _merge_options(options: Mapping[str, Any] | None, kwargs: Mapping[str, Any]
                   ) -> dict[str, Any]:
    """``options`` and keywords (keywords win), under Node's names or snake_case ones."""
    if options is not None and not isinstance(options, Mapping):
        raise InvalidArgTypeError(
            f'The "options" argument must be of type dict. Received {_received(options)}')
    out: dict[str, Any] = {}
    for source in (options or {}, kwargs):
        for key, value in source.items():
            name = to_snake(key) if isinstance(key, str) else key
            if name not in _ON_OPTIONS:
                raise InvalidArgTypeError(f"options: unknown option {key!r}")
            if value is not None:
                out[name] = value
    return out


class _State:
    """The listeners' side of an :class:`EventIterator` (they hold this, not the iterator, so
    dropping the iterator removes them: :meth:`EventIterator.__del__`)."""

    __slots__ = ("emitter", "added", "events", "waiters", "error", "finished", "paused",
                 "high", "low")

    def __init__(self, emitter: Any, high: int, low: int) -> None:
        self.emitter = emitter
        self.added: list[tuple[str, Callable[..., Any]]] = []
        self.events: deque[tuple[Any, ...]] = deque()
        self.waiters: deque[asyncio.Future[Any]] = deque()
        self.error: BaseException | None = None
        self.finished = False
        self.paused = False
        self.high = high
        self.low = low

    def listen(self, event: str, handler: Callable[..., Any]) -> None:
        self.emitter.on(event, handler)
        self.added.append((event, handler))

    def _waiter(self) -> asyncio.Future[Any] | None:
        waiters = self.waiters
        while waiters:
            fut = waiters.popleft()
            if not fut.done():  # (a cancelled __anext__ leaves its future behind)
                return fut
        return None

    def on_event(self, *args: Any) -> None:
        """Node's ``eventHandler``: to a waiting ``__anext__``, else queued (pausing the
        emitter above the high water mark)."""
        fut = self._waiter()
        if fut is not None:
            fut.set_result(args)
            return
        self.events.append(args)
        if not self.paused and len(self.events) > self.high:
            self.paused = True
            pause = getattr(self.emitter, "pause", None)
            if callable(pause):
                pause()

    def on_error(self, err: BaseException) -> None:
        """Node's ``errorHandler``: to a waiting ``__anext__``, else kept for the next one;
        then the iteration ends."""
        fut = self._waiter()
        if fut is not None:
            fut.set_exception(err)
        else:
            self.error = err
        self.close()

    def on_close(self, *_args: Any) -> None:
        self.close()

    def close(self) -> None:
        """Node's ``closeHandler``: remove the listeners (last added first); waiting
        ``__anext__`` calls end the iteration."""
        added = self.added
        while added:
            event, handler = added.pop()
            self.emitter.remove_listener(event, handler)
        self.finished = True
        while (fut := self._waiter()) is not None:
            fut.set_result(_DONE)


class EventIterator:
    """The async iterator :func:`on` returns: each item is the tuple of an event's arguments.

    Stopping it (:meth:`aclose`, leaving ``async with``, or dropping it, e.g. on ``break`` out
    of ``async for events.on(...)``) removes its listeners, as Node's ``return()``.
    """

    __slots__ = ("_state", "__weakref__")

    def __init__(self, state: _State) -> None:
        self._state = state

    def __aiter__(self) -> EventIterator:
        return self

    async def __anext__(self) -> tuple[Any, ...]:
        state = self._state
        if state.events:
            value = state.events.popleft()
            if state.paused and len(state.events) < state.low:
                state.paused = False
                resume = getattr(state.emitter, "resume", None)
                if callable(resume):
                    resume()
            return value
        if state.error is not None:  # (once: the iteration ended with it)
            err, state.error = state.error, None
            raise err
        if state.finished:
            state.close()
            raise StopAsyncIteration
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        state.waiters.append(fut)
        result = await fut
        if result is _DONE:
            raise StopAsyncIteration
        return result  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        """Node's ``iterator.return()``: end the iteration and remove the listeners."""
        self._state.close()

    def throw(self, err: BaseException) -> None:
        """Node's ``iterator.throw(err)``: end the iteration with ``err`` (raised by the next
        or a waiting ``__anext__``)."""
        if not isinstance(err, BaseException):
            raise InvalidArgTypeError(
                'The "EventEmitter.AsyncIterator" property must be an instance of Error. '
                f"Received {_received(err)}")
        self._state.on_error(err)

    async def __aenter__(self) -> EventIterator:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._state.close()

    def __del__(self) -> None:
        state = getattr(self, "_state", None)
        if state is not None and state.added:
            state.close()


def on(emitter: Any, event: str, options: Mapping[str, Any] | None = None,
       **kwargs: Any) -> EventIterator:
    """Node ``events.on(emitter, eventName[, options])``: an async iterator of ``event``'s
    argument tuples, listening from this call on (events emitted before the first ``__anext__``
    are queued).

    ``'error'`` emitted (unless ``event`` is ``'error'``) ends the iteration by raising it once
    the queued events are read. Options: ``close`` (event names that end the iteration; a
    ``str`` is one name), ``high_water_mark`` (queued events above which the emitter's
    ``pause()`` is called) and ``low_water_mark`` (below which ``resume()`` is called again;
    default 1). ``signal`` has no Python counterpart: :meth:`EventIterator.aclose` it.
    """
    _check_emitter(emitter)
    opts = _merge_options(options, kwargs)
    high = opts.get("high_water_mark", opts.get("high_watermark"))
    high = _MAX_SAFE_INTEGER if high is None else _check_water_mark(high, "options.highWaterMark")
    low = opts.get("low_water_mark", opts.get("low_watermark"))
    low = 1 if low is None else _check_water_mark(low, "options.lowWaterMark")
    close: Any = opts.get("close") or ()
    if isinstance(close, str):
        close = (close,)
    state = _State(emitter, high, low)
    state.listen(event, state.on_event)
    if event != "error":
        state.listen("error", state.on_error)
    for name in close:
        state.listen(name, state.on_close)
    return EventIterator(state)


async def once(emitter: Any, event: str) -> tuple[Any, ...]:
    """Node ``events.once(emitter, name)``: wait for ``event`` and return its arguments as a
    tuple.

    ``'error'`` emitted first (unless waiting for ``'error'`` itself) is raised. The listeners
    go as the event (or the error) comes, as Node's, or when the waiting task is cancelled.
    """
    _check_emitter(emitter)
    fut: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()
    listening = event != "error"

    def on_event(*args: Any) -> None:
        emitter.remove_listener(event, on_event)
        if listening:
            emitter.remove_listener("error", on_error)
        if not fut.done():
            fut.set_result(args)

    def on_error(err: BaseException) -> None:
        emitter.remove_listener("error", on_error)
        emitter.remove_listener(event, on_event)
        if not fut.done():
            fut.set_exception(err)

    emitter.on(event, on_event)
    if listening:
        emitter.on("error", on_error)
    try:
        return await fut
    finally:
        if not fut.done() or fut.cancelled():  # (the waiting task was cancelled)
            emitter.remove_listener(event, on_event)
            if listening:
                emitter.remove_listener("error", on_error)


def get_event_listeners(emitter: Any, event: str) -> list[Callable[..., Any]]:
    """Node ``events.getEventListeners(emitter, name)``: a copy of ``event``'s listeners
    (``once`` listeners as the function given)."""
    listeners = getattr(emitter, "listeners", None)
    if not callable(listeners):
        raise _not_an("EventEmitter or EventTarget", "emitter", emitter)
    return list(listeners(event))


def get_max_listeners(emitter: Any) -> float:
    """Node ``events.getMaxListeners(emitter)``: the emitter's listener limit (its own, else
    :data:`nodetls.events.default_max_listeners`)."""
    get = getattr(emitter, "get_max_listeners", None)
    if not callable(get):
        raise _not_an("EventEmitter or EventTarget", "emitter", emitter)
    return get()  # type: ignore[no-any-return]


def set_max_listeners(n: float | None = None, *emitters: Any) -> None:
    """Node ``events.setMaxListeners(n[, ...eventTargets])``: ``emitter.set_max_listeners(n)``
    on each emitter, or with none, ``n`` becomes :data:`nodetls.events.default_max_listeners`
    (the limit of every emitter without its own). ``n`` defaults to the current default; it is
    a number >= 0 (0 and ``math.inf``: no limit)."""
    if n is None:
        n = _events.default_max_listeners
    n = _check_max(n, "setMaxListeners")
    if not emitters:
        _events.default_max_listeners = n  # type: ignore[assignment]
        return
    for emitter in emitters:
        setter = getattr(emitter, "set_max_listeners", None)
        if not callable(setter):
            raise _not_an("EventEmitter or EventTarget", "eventTargets", emitter)
        setter(n)


def listener_count(emitter: Any, event: str) -> int:
    """Node's deprecated ``EventEmitter.listenerCount(emitter, eventName)``: use
    ``emitter.listener_count(event)``. Without that method (an emitter whose
    ``listener_count`` was set to ``None``, say) it counts the emitter's listeners as
    :meth:`EventEmitter.listener_count` does (Node: the prototype's ``listenerCount``); any
    other object counts 0 (Node's)."""
    if emitter is None:
        raise _not_an("EventEmitter", "emitter", emitter)
    count = getattr(emitter, "listener_count", None)
    if callable(count):
        return count(event)  # type: ignore[no-any-return]
    if isinstance(emitter, _events.EventEmitter):
        return _events.EventEmitter.listener_count(emitter, event)
    return 0

