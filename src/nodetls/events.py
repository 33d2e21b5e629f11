"""Node's ``EventEmitter`` for asyncio, built on :mod:`pyee`.

Mirrors Node v20's ``lib/events.js``:

* ``'newListener'`` is emitted *before* a listener is added (with the listener the user passed,
  never a ``once`` wrapper), ``'removeListener'`` *after* one is removed: with the listener passed
  to the removal (so a ``once`` wrapper that fires among other listeners reports itself), or, for
  an event's only listener, the original function -- and not at all on a stream (Node's
  ``kShapeMode``: an event's only listener goes silently, its event keeping its place in
  :meth:`EventEmitter.event_names`; until ``remove_all_listeners``).
* A listener added with :meth:`EventEmitter.once` is removed before it runs and can be removed
  with the function the user passed; :meth:`EventEmitter.raw_listeners` shows the wrappers.
* The same function may be added twice and is then called twice (pyee keys listeners by function,
  Node keeps an array).
* ``emit('error', err)`` with no ``'error'`` listener raises ``err``.
* ``emit`` calls the listeners registered when it started, in order, even if one of them removes
  another (Node copies the array; here the listener tuples are copy-on-write, so ``emit`` never
  copies anything).

Differences from Node, all deliberate:

* Listeners may be ``async def`` functions: the coroutine is scheduled as a task on the running
  loop (a strong reference is kept until it finishes).
* An exception escaping a listener (sync or async) never propagates out of :meth:`emit`. It is
  handed to :meth:`EventEmitter._on_listener_error`, which emits ``'error'`` (or, when nothing
  listens to ``'error'``, or the failing listener was an ``'error'`` listener, reports it to the
  running loop's exception handler; with no running loop it is re-raised). Streams and sockets
  override ``_on_listener_error`` to ``destroy(exc)``.
* As in JavaScript, a listener may accept fewer positional arguments than the event carries
  (``sock.on('close', lambda: ...)`` although ``'close'`` carries ``had_error``): the extra
  arguments are dropped. This costs nothing on the normal path.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

import pyee

from ._events_remove import _ALL_HOOK_EVENTS as _ALL_HOOK_EVENTS
from ._events_remove import _EMPTY as _EMPTY
from ._events_remove import _ONCE_TYPES as _ONCE_TYPES
from ._events_remove import _EventRemoval
from ._events_remove import _ShapeKeys as _ShapeKeys
from .errors import node_error

__all__ = [
    "EventEmitter",
    "MaxListenersExceededWarning",
    "error_monitor",
    "once",
    "on",
    "get_event_listeners",
    "get_max_listeners",
    "set_max_listeners",
    "listener_count",
    "EventIterator",
    "default_max_listeners",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Node's ``events.errorMonitor``: listeners for this event see every ``'error'`` before the
#: ``'error'`` listeners do, and do not count as handling it.
error_monitor = "errorMonitor"

#: Node's ``EventEmitter.defaultMaxListeners``.
default_max_listeners = 10

class _NoListener:
    """``on(event)``/``once(event)`` called without a listener: the decorator form."""

    __slots__ = ()

    def __repr__(self) -> str:  # shown in signatures and the generated docs
        return "..."


_NO_LISTENER: Any = _NoListener()
# Strong references to tasks running async listeners (the loop only keeps weak ones).
_TASKS: set[asyncio.Task[Any]] = set()
_iscoroutine = asyncio.iscoroutine
_get_running_loop = asyncio._get_running_loop
_log = logging.getLogger("nodetls")


class MaxListenersExceededWarning(RuntimeWarning):
    """Node's ``MaxListenersExceededWarning``: probably a listener leak. As Node's, it carries
    ``emitter``, ``type`` (the event) and ``count`` (its listeners)."""

    emitter: Any = None
    type: Any = None
    count: int = 0


class _Once:
    """Node's ``_onceWrap`` state: removes itself, then calls the user's listener once."""

    __slots__ = ("emitter", "event", "listener", "fired")

    def __init__(self, emitter: EventEmitter, event: str, listener: Callable[..., Any]) -> None:
        self.emitter = emitter
        self.event = event
        self.listener = listener
        self.fired = False

    def __call__(self, *args: Any) -> Any:
        if self.fired:
            return None
        self.fired = True
        self._unlink(self.emitter, self.event)
        fn = self.listener
        try:  # (_invoke, inlined: one call less per once listener)
            return fn(*args)
        except TypeError as exc:
            return _invoke_retry(fn, args, exc)

    def _unlink(self, emitter: EventEmitter, event: str) -> None:
        """Remove this wrapper from ``emitter``'s ``event`` listeners (Node's onceWrapper: the
        wrapper goes first): :meth:`EventEmitter._remove_many`, with its usual case inlined
        (this wrapper is the last one added, and no ``'removeListener'`` is due)."""
        events = emitter._events
        current = events.get(event)
        if current is not None and current[-1] is self and (
                event not in _ALL_HOOK_EVENTS or event not in emitter._HOOK_EVENTS) \
                and event != error_monitor and ("removeListener" not in events or len(current) == 1
                                                and type(emitter._shape) is _ShapeKeys):
            if len(current) == 1:
                keys = emitter._shape  # (the checks of _remove_many)
                if emitter._monitor_table is not None and len(events) == 1 \
                        and type(keys) is not _ShapeKeys:
                    # the table's last listener, inside emit('error')'s error_monitor call:
                    # Node's new table, that emit going on with the old one
                    emitter._table_replaced()
                if keys is not None and (type(keys) is not _ShapeKeys or event not in keys):
                    emitter._key_gone(event)
                del events[event]
            else:
                events[event] = current[:-1]
                if len(current) == 2 and (emitter._warned_events
                                          or emitter._rmall_watch is not None):
                    emitter._collapsed(event, current[:-1])
        else:
            emitter._remove_many((event, self))

    def __repr__(self) -> str:
        return f"<once {self.listener!r}>"


_ONCE_TYPES.add(_Once)


def _max_positional(fn: Any) -> int | None:
    """How many positional arguments a Python function accepts (``None``: any number or unknown)."""
    func = getattr(fn, "__func__", None)  # bound method (which also proxies __code__)
    if func is not None:
        code = getattr(func, "__code__", None)
        offset = 1
    else:
        code = getattr(fn, "__code__", None)
        offset = 0
    if code is None or code.co_flags & 0x04:  # CO_VARARGS
        return None
    return int(code.co_argcount) - offset


def _invoke(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """Call ``fn(*args)``, dropping extra arguments the way JavaScript does.

    Only when the call itself fails with ``TypeError`` (the traceback has no frame inside ``fn``)
    and ``fn`` accepts fewer positional arguments than given is it retried with fewer.
    """
    try:
        return fn(*args)
    except TypeError as exc:
        return _invoke_retry(fn, args, exc)


def _report(emitter: Any, exc: BaseException, message: str) -> None:
    """Send ``exc`` to the running loop's exception handler, or raise it with no running loop."""
    loop = _get_running_loop()
    if loop is None:
        raise exc
    if loop.get_exception_handler() is None and getattr(emitter, "_server", None) is not None \
            and hasattr(emitter, "destroy"):
        # A connection a server accepted, under plain asyncio (nodetls.run() installs its own
        # handler, which does the same): one WARNING line, no traceback; the server keeps serving.
        code = getattr(exc, "code", None)
        host, port = getattr(emitter, "remote_address", None), getattr(emitter, "remote_port", None)
        _log.warning("%s (%s%s): %s%s: %s", message, type(emitter).__name__,
                     f" {host}:{port}" if host is not None else "", type(exc).__name__,
                     f" [{code}]" if isinstance(code, str) else "", " ".join(str(exc).split()))
        return
    loop.call_exception_handler({"message": message, "exception": exc, "emitter": emitter})




class EventEmitter(_EventRemoval, pyee.EventEmitter):  # type: ignore[misc]
    """Node's ``EventEmitter`` (``lib/events.js``) with async listeners.

    Listeners are kept in ``self._events``: event name -> tuple of callables (``once`` listeners are
    wrapped). Tuples are replaced, never mutated, so :meth:`emit` iterates them without copying.
    """

    # pyee's lock is not needed on one event loop; its other state is replaced below.
    _max_listeners: int | None = None
    _has_error_monitor = False
    #: The events whose listener count was reported over the limit (each warns once).
    _warned_events: frozenset[Any] = frozenset()
    #: ``[event, array or None, outer]`` while :meth:`remove_all_listeners` walks ``event``'s
    #: listeners with a ``'removeListener'`` listener (Node's array, once detached; ``outer``:
    #: the walk this one is nested in, or None).
    _rmall_watch: list[Any] | None = None
    #: ``[table or None]`` while ``emit('error')`` calls the :data:`error_monitor` listeners:
    #: where a removal that makes Node replace its listener table (``this._events = {}``)
    #: leaves a copy of the old one, which Node's ``emit`` goes on reading.
    _monitor_table: list[Any] | None = None
    #: The events :meth:`_listener_added` / :meth:`_listener_removed` care about: a subclass that
    #: overrides them names its events here, and adding or removing any other listener makes no
    #: hook call at all (a plain ``pipe()`` adds and removes seven).
    _HOOK_EVENTS: frozenset[str] = frozenset()
    #: The events whose keys Node's constructor presets in ``_events`` (a stream's, in its
    #: order; Node's ``kShapeMode``): the start of :attr:`_shape`.
    _SHAPE_EVENTS: tuple[str, ...] = ()
    #: What Node's ``_events`` holds that ``self._events`` does not: the keys left there
    #: without a listener, which keep their place among the names (:meth:`event_names`) and
    #: which a new listener takes again (Node's ``_addListener`` reuses the key).
    #:
    #: * ``None``: nothing (a plain emitter: Node deletes an event's key with its last
    #:   listener, as here).
    #: * a :class:`_ShapeKeys`: Node's ``kShapeMode`` (a stream; the class's holds its
    #:   :attr:`_SHAPE_EVENTS`): an event's last listener leaves its key in place (Node sets it
    #:   to ``undefined``) and goes without a ``'removeListener'``; its keys are, in Node's
    #:   order, every key Node keeps that may have no listener (the presets, then each key
    #:   whose last listener went, with the keys added before it: :meth:`_key_gone`).
    #: * a plain dict (keys only, in order): ``kShapeMode`` ended (``remove_all_listeners``)
    #:   with keys left in Node's table: removals delete keys again.
    #:
    #: ``self._events``'s other keys come after these, in its order. Only removals read it
    #: (never ``emit`` nor adding a listener).
    _shape: dict[Any, None] | None = None

    def __init__(self) -> None:  # noqa: D107 - pyee's __init__ is skipped on purpose (its Lock)
        self._events: dict[str, tuple[Any, ...]] = {}  # type: ignore[assignment]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _ALL_HOOK_EVENTS.update(cls._HOOK_EVENTS)
        if "_SHAPE_EVENTS" in cls.__dict__:
            cls._shape = _ShapeKeys.fromkeys(cls._SHAPE_EVENTS)
        if "emit" in cls.__dict__:
            # A class that overrides emit() sees every event through it, as in Node (where the
            # streams call this.emit): its _emit0 / _emit1 are its emit.
            if "_emit0" not in cls.__dict__:
                cls._emit0 = _emit0_through_emit  # type: ignore[method-assign]
            if "_emit1" not in cls.__dict__:
                cls._emit1 = _emit1_through_emit  # type: ignore[method-assign]

    def __getstate__(self) -> dict[str, Any]:
        return self.__dict__.copy()

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        self.__dict__.update(state)

    # -- adding ---------------------------------------------------------------------------------

    def _add(self, event: str, listener: Any, original: Any, prepend: bool) -> None:
        if not callable(original):
            raise node_error(
                "ERR_INVALID_ARG_TYPE", '"listener"', "function", type(original).__name__
            )
        events = self._events
        if "newListener" in events:
            self.emit("newListener", event, original)
        old = events.get(event, _EMPTY)
        events[event] = (listener, *old) if prepend else (*old, listener)
        if event == error_monitor:
            self._has_error_monitor = True
        n = len(old)
        if n:  # (a first listener never exceeds a limit: no lookups in the usual case)
            limit = self._max_listeners if self._max_listeners is not None else default_max_listeners
            if 0 < limit <= n and event not in self._warned_events:
                # Node's _addListener: once per event, whenever the count is over the limit
                # (also after the limit was lowered below what was there)
                self._warned_events = self._warned_events | {event}
                warning = MaxListenersExceededWarning(
                    f"Possible EventEmitter memory leak detected. {n + 1} {event} listeners "
                    f"added to [{type(self).__name__}]. MaxListeners is {limit}. Use "
                    "emitter.set_max_listeners() to increase limit")
                warning.emitter, warning.type, warning.count = self, event, n + 1
                warnings.warn(warning, stacklevel=4)
        if event in _ALL_HOOK_EVENTS and event in self._HOOK_EVENTS:
            self._listener_added(event)

    def _add_many(self, *items: tuple[str, Any, Any, bool]) -> None:
        """Internal: :meth:`_add` of each ``(event, listener, original, prepend)`` in one call
        (``pipe()``'s listeners; every ``original`` callable). The same effects, in the same
        order: straight into the table when nothing observes an addition (no ``'newListener'``
        listener, no limit reached, not :data:`error_monitor`), the subclass hook after its
        listener."""
        events = self._events
        if "newListener" in events:
            for event, listener, original, prepend in items:
                self._add(event, listener, original, prepend)
            return
        limit = self._max_listeners if self._max_listeners is not None else default_max_listeners
        hooks = self._HOOK_EVENTS
        for event, listener, original, prepend in items:
            old = events.get(event)
            if old is None:
                if event == error_monitor:  # (its flag: _add)
                    self._add(event, listener, original, prepend)
                    continue
                events[event] = (listener,)
            elif 0 < limit <= len(old):  # (a warning due: _add)
                self._add(event, listener, original, prepend)
                continue
            else:
                events[event] = (listener, *old) if prepend else (*old, listener)
            if event in hooks:
                self._listener_added(event)

    def _listener_added(self, event: str) -> None:
        """Hook for subclasses (Readable: adding ``'data'`` starts flowing)."""

    def _listener_removed(self, event: str) -> None:
        """Hook for subclasses (Readable: ``'readable'`` listeners)."""

    @overload  # type: ignore[override]  # Node: on(event, fn) returns the emitter
    def on(self, event: str) -> Callable[[F], F]: ...
    @overload
    def on(self, event: str, listener: Callable[..., Any]) -> EventEmitter: ...

    def on(self, event: str, listener: Any = _NO_LISTENER) -> Any:
        """Node ``emitter.on(event, listener)``: add a listener; returns the emitter (chainable).

        Without ``listener`` it is a decorator (``@em.on('data')``) that returns the function;
        a listener that is not callable (``None`` too) raises ERR_INVALID_ARG_TYPE, as Node.
        """
        if listener is _NO_LISTENER:
            def decorator(fn: F) -> F:
                self._add(event, fn, fn, False)
                return fn

            return decorator
        events = self._events
        if (event not in events and "newListener" not in events and event not in _ALL_HOOK_EVENTS
                and event != error_monitor and callable(listener)):
            # _add's case of an event's first listener, nobody told of it (no 'newListener'
            # listener, no hook, no limit to reach), without the call
            events[event] = (listener,)
            return self
        self._add(event, listener, listener, False)
        return self

    def add_listener(self, event: str, listener: Callable[..., Any]) -> EventEmitter:  # type: ignore[override]
        """Node ``emitter.addListener``: same as :meth:`on`."""
        self._add(event, listener, listener, False)
        return self

    def listens_to(self, event: str) -> Callable[[F], F]:
        """pyee's decorator-only form of :meth:`on`."""
        return self.on(event)

    def _add_event_handler(self, event: str, k: Callable[..., Any], v: Callable[..., Any]) -> None:
        # pyee internal entry point, kept working for pyee-style callers.
        self._add(event, v, k, False)

    def prepend_listener(self, event: str, listener: Callable[..., Any]) -> EventEmitter:
        """Node ``emitter.prependListener``: add ``listener`` before the existing ones."""
        self._add(event, listener, listener, True)
        return self

    @overload  # type: ignore[override]  # Node: once(event, fn) returns the emitter
    def once(self, event: str) -> Callable[[F], F]: ...
    @overload
    def once(self, event: str, listener: Callable[..., Any]) -> EventEmitter: ...

    def once(self, event: str, listener: Any = _NO_LISTENER) -> Any:
        """Node ``emitter.once``: the listener is removed before its first call.

        Removable by the function passed. Without ``listener`` it is a decorator; a listener
        that is not callable (``None`` too) raises ERR_INVALID_ARG_TYPE, as Node.
        """
        if listener is _NO_LISTENER:
            def decorator(fn: F) -> F:
                self._add(event, _Once(self, event, fn), fn, False)
                return fn

            return decorator
        self._add(event, _Once(self, event, listener), listener, False)
        return self

    def prepend_once_listener(self, event: str, listener: Callable[..., Any]) -> EventEmitter:
        """Node ``emitter.prependOnceListener``."""
        self._add(event, _Once(self, event, listener), listener, True)
        return self

    # -- inspecting -----------------------------------------------------------------------------

    def listeners(self, event: str) -> list[Callable[..., Any]]:
        """Node ``emitter.listeners(event)``: copies, ``once`` wrappers unwrapped."""
        return [i.listener if type(i) in _ONCE_TYPES else i for i in self._events.get(event, _EMPTY)]

    def raw_listeners(self, event: str) -> list[Callable[..., Any]]:
        """Node ``emitter.rawListeners(event)``: ``once`` wrappers included (callable; their
        ``.listener`` is the original)."""
        return list(self._events.get(event, _EMPTY))

    def listener_count(self, event: str, listener: Callable[..., Any] | None = None) -> int:
        """Node ``emitter.listenerCount(event[, listener])``."""
        items = self._events.get(event, _EMPTY)
        if listener is None:
            return len(items)
        return sum(1 for i in items if i is listener or i == listener
                   or getattr(i, "listener", None) == listener)

    def event_names(self) -> list[str]:  # type: ignore[override]
        """Node ``emitter.eventNames()``: names with at least one listener, in the order of
        Node's table (``Reflect.ownKeys(this._events)``): insertion order, where a stream's
        table starts with the events its constructor presets and a stream keeps an event's
        place when its last listener goes (Node's ``kShapeMode``, until
        :meth:`remove_all_listeners`); as JavaScript orders an object's keys, names that are
        array indices (``'0'``, ``'1'``...) first, by value, and the names that are not
        strings (Node's symbols: :data:`error_monitor` too) last."""
        events = self._events
        names = list(events)
        if len(names) > 1:
            keys = self._shape
            if keys:
                names = [e for e in keys if e in events] + [e for e in names if e not in keys]
            for e in names:
                if type(e) is not str or e == error_monitor or e[:1].isdigit():
                    return _js_key_order(names)
        return names

    def set_max_listeners(self, n: int) -> EventEmitter:
        """Node ``emitter.setMaxListeners(n)`` (0 = unlimited, ``math.inf`` too); beyond it a
        warning is issued. ``n`` is checked as Node's ``validateNumber(n, .., 0)``."""
        if isinstance(n, bool) or not isinstance(n, (int, float)):
            raise node_error("ERR_INVALID_ARG_TYPE", '"n"', "number", type(n).__name__)
        if n != n or n < 0:  # (NaN too)
            raise node_error("ERR_OUT_OF_RANGE", "n", "a non-negative number", n)
        self._max_listeners = n
        return self

    def get_max_listeners(self) -> int:
        """Node ``emitter.getMaxListeners()``."""
        return self._max_listeners if self._max_listeners is not None else default_max_listeners

    # -- emitting -------------------------------------------------------------------------------

    def emit(self, event: str, *args: Any) -> bool:
        """Node ``emitter.emit(event, *args)``: call every listener in order; ``True`` if any.

        ``emit('error', err)`` with no ``'error'`` listener raises ``err``. An exception escaping
        a listener goes to :meth:`_on_listener_error` instead of out of ``emit``.
        """
        if event == "error" and self._has_error_monitor:  # the event first: no class-attribute read per emit
            old = self._emit_error_monitor(args)
            handlers = self._events.get(event) if old is None else old.get(event)
        else:
            handlers = self._events.get(event)
        if handlers is None:
            if event == "error":
                err = args[0] if args else None
                if isinstance(err, BaseException):
                    raise err
                raise node_error("ERR_UNHANDLED_ERROR", repr(err))
            return False
        for fn in handlers:
            try:
                r = fn(*args)
            except Exception as exc:
                r = self._listener_raised(event, fn, args, exc)
            if r is not None and _iscoroutine(r):
                self._schedule(event, r, args)
        return True

    def _emit0(self, event: str) -> bool:
        """``emit(event)`` for an event other than ``'error'`` with no argument (a stream's
        ``'end'``, ``'finish'``), without ``emit``'s ``*args`` (as :meth:`_emit1`). A class
        overriding :meth:`emit` gets its ``emit`` here (``__init_subclass__``)."""
        handlers = self._events.get(event)
        if handlers is None:
            return False
        for fn in handlers:
            try:
                r = fn()
            except Exception as exc:
                r = self._listener_raised(event, fn, (), exc)
            if r is not None and _iscoroutine(r):
                self._schedule(event, r)
        return True

    def _emit1(self, event: str, arg: Any) -> bool:
        """``emit(event, arg)`` for an event other than ``'error'`` with one argument (a
        socket's ``'data'``), without ``emit``'s ``*args``: the call to it and its call of each
        listener are calls CPython 3.11 specialises. A class overriding :meth:`emit` gets its
        ``emit`` here (``__init_subclass__``)."""
        handlers = self._events.get(event)
        if handlers is None:
            return False
        for fn in handlers:
            try:
                r = fn(arg)
            except Exception as exc:
                r = self._listener_raised(event, fn, (arg,), exc)
            if r is not None and _iscoroutine(r):
                self._schedule(event, r, (arg,))
        return True

    def _listener_raised(self, event: str, fn: Callable[..., Any], args: tuple[Any, ...],
                         exc: Exception) -> Any:
        """``fn(*args)`` raised ``exc`` (called in the ``except`` block): a ``TypeError`` may be
        a listener that takes fewer arguments (called again with those); what it returns, or
        ``None`` once the failure went to :meth:`_listener_failed`."""
        if isinstance(exc, TypeError):
            try:
                return _invoke_retry(fn, args, exc)
            except Exception as exc2:
                exc = exc2
        self._listener_failed(event, exc, args)
        return None

    def _schedule(self, event: str, coro: Any, args: tuple[Any, ...] = ()) -> None:
        loop = _get_running_loop()
        if loop is None:
            coro.close()
            raise RuntimeError(f"async listener for {event!r} needs a running event loop")
        task = loop.create_task(coro)
        _TASKS.add(task)
        task.add_done_callback(lambda t: self._task_done(event, t, args))

    def _task_done(self, event: str, task: asyncio.Task[Any], args: tuple[Any, ...] = ()) -> None:
        _TASKS.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            if isinstance(exc, Exception):
                self._listener_failed(event, exc, args)
            else:
                _report(self, exc, f"async {event!r} listener of {type(self).__name__} failed")

    def _listener_failed(self, event: str, exc: Exception, args: tuple[Any, ...] = ()) -> None:
        """A listener for ``event`` (called with ``args``) raised ``exc``."""
        if event == "error":
            _report(self, exc, f"'error' listener of {type(self).__name__} raised")
        else:
            self._on_listener_error(exc)

    def _on_listener_error(self, exc: Exception) -> None:
        """Where an exception escaping a listener goes (not one of an ``'error'`` listener).

        Default: emit ``'error'`` if something listens to it, else the loop's exception handler
        (re-raised with no running loop). Streams and sockets override this with ``destroy(exc)``.
        """
        if "error" in self._events:
            self.emit("error", exc)
        else:
            _report(self, exc, f"listener of {type(self).__name__} raised")

    # pyee's hooks, in case a pyee-style caller reaches for them.
    def _emit_run(self, f: Callable[..., Any], args: Any, kwargs: Any) -> None:
        f(*args, **kwargs)

    def _call_handlers(self, event: str, args: Any, kwargs: Any) -> bool:
        return self.emit(event, *args)


def key_gone(emitter: Any, event: Any) -> None:
    """For code that deletes ``emitter._events[event]`` (its last listener) itself, as
    ``stream.pipe()``'s teardown does: first what :meth:`EventEmitter.remove_listener` does
    then for Node's table (:attr:`EventEmitter._shape`)."""
    keys = getattr(emitter, "_shape", None)
    if keys is not None and (type(keys) is not _ShapeKeys or event not in keys):
        emitter._key_gone(event)


def _js_key_order(names: list[Any]) -> list[Any]:
    """``names`` in the order JavaScript lists an object's own keys (``Reflect.ownKeys``):
    array indices (canonical integers below 2**32 - 1) by value, the other strings, then
    symbols (here: names that are not strings, and :data:`error_monitor`), each as given."""
    def rank(name: Any) -> tuple[int, int]:
        if type(name) is not str or name == error_monitor:
            return (2, 0)
        if name.isdigit() and name.isascii() and (name == "0" or name[0] != "0") \
                and int(name) < 2**32 - 1:
            return (0, int(name))
        return (1, 0)

    return sorted(names, key=rank)


def _emit0_through_emit(self: EventEmitter, event: str) -> bool:
    return self.emit(event)


def _emit1_through_emit(self: EventEmitter, event: str, arg: Any) -> bool:
    return self.emit(event, arg)


def _invoke_retry(fn: Callable[..., Any], args: tuple[Any, ...], exc: TypeError) -> Any:
    tb = exc.__traceback__
    # The failing frame is emit's own (no frame inside fn): the call itself was rejected.
    if tb is not None and tb.tb_next is None:
        n = _max_positional(fn)
        if n is not None and n < len(args):
            return fn(*args[:n])
    raise exc


# Node's module functions (events.on, once, getEventListeners...), kept in their own module; at
# the end: they read this module's default_max_listeners.
from ._events_util import (  # noqa: E402
    EventIterator,
    get_event_listeners,
    get_max_listeners,
    listener_count,
    on,
    once,
    set_max_listeners,
)
