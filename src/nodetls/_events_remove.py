"""``EventEmitter``'s removals (Node's ``removeListener`` / ``removeAllListeners`` in
``lib/events.js``), a mixin of :class:`nodetls.events.EventEmitter` kept in its own module so that
``events.py`` reads in one sitting; with the few definitions both modules use.

Everything here is documented on ``EventEmitter`` (``docs/events.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self

from .errors import node_error

#: :data:`nodetls.events.error_monitor`.
_ERROR_MONITOR = "errorMonitor"
_EMPTY: tuple[Any, ...] = ()

#: The ``once`` wrapper types (``events._Once`` and the specialised ones of ``stream.pipe()``,
#: which override ``__call__``): what ``listeners()`` unwraps and removal by the original matches.
_ONCE_TYPES: set[type] = set()

#: Every event name any class's :attr:`EventEmitter._HOOK_EVENTS` names (each class's, as its body
#: declares it: ``__init_subclass__``). A module global is read in a few instructions, where
#: CPython 3.11 does not specialise an instance's read of a class attribute (~200 instructions):
#: an event named by no class (``'close'``, ``'error'``, ``'end'``...) needs no look at the
#: instance's own set.
_ALL_HOOK_EVENTS: set[str] = set()


class _ShapeKeys(dict[Any, None]):
    """:attr:`EventEmitter._shape` in Node's ``kShapeMode`` (keys only, in order; a dict for
    the look-up of each removal): its type tells the mode."""

    __slots__ = ()



if TYPE_CHECKING:
    class _EmitterFields:
        """What the mixin reads of ``EventEmitter`` (for the type checker only)."""

        _events: dict[str, tuple[Any, ...]]
        _shape: dict[Any, None] | None
        _monitor_table: list[Any] | None
        _rmall_watch: list[Any] | None
        _warned_events: frozenset[Any]
        _has_error_monitor: bool
        _HOOK_EVENTS: frozenset[str]

        def emit(self, event: str, *args: Any) -> bool: ...
        def event_names(self) -> list[str]: ...
        def _listener_removed(self, event: str) -> None: ...

    _Base = _EmitterFields
else:
    _Base = object


class _EventRemoval(_Base):
    """The removal half of :class:`nodetls.events.EventEmitter` (a mixin: no state of its own;
    the attributes it uses are ``EventEmitter``'s)."""

    __slots__ = ()
    #: ``docs/gen_reference.py`` lists this class's members as ``EventEmitter``'s own.
    _MEMBERS_OF_SUBCLASS = True

    def remove_listener(self, event: str, listener: Callable[..., Any]) -> Self:
        """Node ``emitter.removeListener``: remove the most recently added instance of ``listener``
        (a ``once`` listener by the function passed to ``once``); emits ``'removeListener'``.
        A ``listener`` that is not callable raises ERR_INVALID_ARG_TYPE (Node's checkListener)."""
        if not callable(listener):
            raise node_error(
                "ERR_INVALID_ARG_TYPE", '"listener"', "function", type(listener).__name__
            )
        self._remove_many((event, listener))
        return self

    def _remove_many(self, *items: tuple[str, Any]) -> None:
        """:meth:`remove_listener` of each ``(event, listener)``, in order, in one call (the
        library's own removals: ``pipe()``'s cleanup, a ``once`` wrapper that fires)."""
        events = self._events
        for event, listener in items:
            current = events.get(event)
            if current is None:
                continue
            # The last one added matches (search from the end, as Node) -- the usual case, the
            # only one for a single listener -- without the search loop.  == as well as `is`: a
            # bound method is a new object at each attribute access.
            item = current[-1]
            if item is listener or item == listener or (
                    type(item) in _ONCE_TYPES and (item.listener is listener
                                                   or item.listener == listener)):
                if len(current) == 1:
                    if self._monitor_table is not None and len(events) == 1 \
                            and type(self._shape) is not _ShapeKeys:
                        self._table_replaced()
                    keys = self._shape  # (no call for a plain emitter, nor a stream's preset)
                    if keys is not None and (type(keys) is not _ShapeKeys or event not in keys):
                        self._key_gone(event)
                    del events[event]
                    if event == _ERROR_MONITOR:
                        self._has_error_monitor = False
                    # Node: an event's only listener goes without a 'removeListener' on a
                    # stream (kShapeMode); otherwise it reports the once wrapper's listener.
                    if "removeListener" in events and type(self._shape) is not _ShapeKeys:
                        self.emit("removeListener", event,
                                  item.listener if type(item) in _ONCE_TYPES else listener)
                    # The hook after it (Node's Readable.removeListener does its part after
                    # EventEmitter's, 'removeListener' emitted).
                    if event in _ALL_HOOK_EVENTS and event in self._HOOK_EVENTS:
                        self._listener_removed(event)
                    continue
                events[event] = rest = current[:-1]
                if len(current) == 2 and (self._warned_events or self._rmall_watch is not None):
                    self._collapsed(event, rest)
            else:
                for i in range(len(current) - 2, -1, -1):
                    item = current[i]
                    if item is listener or item == listener or (
                            type(item) in _ONCE_TYPES and (item.listener is listener
                                                           or item.listener == listener)):
                        break
                else:
                    continue
                events[event] = rest = current[:i] + current[i + 1 :]  # (never empty)
                if len(current) == 2 and (self._warned_events or self._rmall_watch is not None):
                    self._collapsed(event, rest)
            if "removeListener" in events:  # (Node: the listener as passed, a wrapper included)
                self.emit("removeListener", event, listener)
            if event in _ALL_HOOK_EVENTS and event in self._HOOK_EVENTS:
                self._listener_removed(event)

    off = remove_listener

    def _remove_listener(self, event: str, f: Callable[..., Any]) -> None:  # pyee internal
        self.remove_listener(event, f)

    def remove_all_listeners(self, event: str | None = None) -> Self:
        """Node ``emitter.removeAllListeners([event])``; emits ``'removeListener'`` for each one
        removed when something listens to it (last added first, as Node; all events: in
        :meth:`event_names`'s order, ``'removeListener'`` last).

        A stream leaves Node's ``kShapeMode`` here: from then on an event's last listener goes
        with its key (a new one is listed last) and with a ``'removeListener'``, as on a plain
        emitter. Without ``event``, or without a ``'removeListener'`` listener, the keys go at
        once (with one, ``remove_all_listeners(event)`` removes as :meth:`remove_listener`)."""
        events = self._events
        if "removeListener" not in events:
            if event is None:
                if self._monitor_table is not None:
                    self._table_replaced()
                events.clear()
                self._shape = None
                self._has_error_monitor = False
                self._warned_events = frozenset()
                if "readable" in self._HOOK_EVENTS:
                    self._listener_removed("readable")
            else:
                keys = self._shape
                if event in events:
                    if len(events) == 1:  # Node: its last listener gone, a new, empty table
                        keys = None
                        if self._monitor_table is not None:
                            self._table_replaced()
                    elif keys is not None and event in keys:
                        keys = {k: None for k in keys if k != event}
                    del events[event]
                    if event in self._warned_events:
                        self._warned_events = self._warned_events - {event}
                    if event == _ERROR_MONITOR:
                        self._has_error_monitor = False
                    if event in self._HOOK_EVENTS:
                        self._listener_removed(event)
                # Node: kShapeMode ends (the keys without a listener stay in its table)
                self._shape = dict(keys) if type(keys) is _ShapeKeys else keys or None
            return self
        if event is None:
            # Node walks Reflect.ownKeys(this._events), taken once: a key left without a
            # listener (kShapeMode's) is walked too, so a listener a 'removeListener' listener
            # adds there meanwhile is removed with its 'removeListener'.
            for name in self._table_keys():
                if name != "removeListener":
                    self.remove_all_listeners(name)
            self.remove_all_listeners("removeListener")
            if self._monitor_table is not None and events:
                self._table_replaced()
            events.clear()  # (a listener added meanwhile: Node's new, empty table)
            self._shape = None
            self._has_error_monitor = False
            self._warned_events = frozenset()
            return self
        current = events.get(event)
        if current is None:
            return self
        if len(current) == 1:
            self.remove_listener(event, current[0])
            return self
        # Node walks its listener array by index, last first, while each removeListener (and
        # what 'removeListener' listeners add or remove) changes that same array in place, as
        # long as the event keeps two listeners or more; when it has one left, Node's table
        # holds that function alone and the array, detached, is read as it was then
        # (_collapsed). An index past its end: removeListener(type, undefined) throws.
        outer = self._rmall_watch
        watch: list[Any] = [event, None, outer]
        self._rmall_watch = watch
        try:
            arr = list(current)
            i = len(arr) - 1
            while i >= 0:
                self.remove_listener(event, arr[i] if i < len(arr) else None)  # type: ignore[arg-type]
                if watch[1] is not None:
                    arr = watch[1]
                else:
                    now = events.get(event, _EMPTY)
                    if len(now) >= 2:
                        arr = list(now)
                i -= 1
        finally:
            self._rmall_watch = outer
        return self

    def _table_keys(self) -> list[Any]:
        """The keys of Node's listener table (``Reflect.ownKeys(this._events)``): those of
        :attr:`_shape` (kept without a listener) and those with listeners, in Node's order."""
        keys = self._shape
        if not keys:
            return self.event_names()
        from .events import _js_key_order  # (events imports this module)

        return _js_key_order([*keys, *(e for e in self._events if e not in keys)])

    def _table_replaced(self) -> None:
        """Node replaces its listener table now, while ``emit('error')`` calls the
        :data:`~nodetls.events.error_monitor` listeners: keep the old one for that ``emit`` (the first time)."""
        box = self._monitor_table
        if box is not None and box[0] is None:
            box[0] = dict(self._events)

    def _emit_error_monitor(self, args: tuple[Any, ...]) -> dict[str, Any] | None:
        """``emit('error', *args)``'s call of the :data:`~nodetls.events.error_monitor` listeners. Node's
        ``emit`` reads the table it held before that call: if a monitor listener made Node
        replace it (``remove_all_listeners()``, an emitter's last listener removed), the old
        table, whose ``'error'`` listeners are still called; else None."""
        box: list[Any] = [None]
        outer, self._monitor_table = self._monitor_table, box
        try:
            self.emit(_ERROR_MONITOR, *args)
        finally:
            self._monitor_table = outer
        if outer is not None and outer[0] is None:
            outer[0] = box[0]
        return box[0]  # type: ignore[no-any-return]

    def _collapsed(self, event: Any, rest: tuple[Any, ...]) -> None:
        """``event`` went from two listeners to one (``rest``): Node's listener array is
        replaced by the function alone. Its ``warned`` flag goes with it (a new array warns
        again), and a :meth:`remove_all_listeners` walking it reads it as it is now."""
        if event in self._warned_events:
            self._warned_events = self._warned_events - {event}
        # Every walk under way (a 'removeListener' listener's nested walks included, of this
        # event or another) that still reads ``event``'s live array now reads it detached.
        watch = self._rmall_watch
        while watch is not None:
            if watch[0] == event and watch[1] is None:
                watch[1] = list(rest)
            watch = watch[2]

    def _key_gone(self, event: Any) -> None:
        """``event``'s last listener goes by a removal (called before its key leaves
        ``self._events``; only when :attr:`_shape` has a part in it): Node's table kept in
        :attr:`_shape`. A stream (``kShapeMode``) keeps the key in place: recorded, with every
        key added before it; otherwise Node deletes it (and its last key gone, starts a new,
        empty table)."""
        keys = self._shape
        events = self._events
        if type(keys) is _ShapeKeys:
            keys = _ShapeKeys(keys)  # (a new one: the class's is shared)
            keys.update(dict.fromkeys(events))
            self._shape = keys
        elif isinstance(keys, dict):
            if len(events) == 1:
                self._shape = None
            else:
                keys.pop(event, None)

