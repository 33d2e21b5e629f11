"""Readable's public listener removals (Node's ``Readable.prototype.removeListener`` / ``off`` /
``removeAllListeners``, ``lib/internal/streams/readable.js``): :class:`~nodetls.stream.Readable`
takes these functions as its methods.

Node re-checks a stream's ``'readable'`` bookkeeping (``updateReadableListening``, next tick)
on *every* public removal call naming ``'readable'`` (and ``removeAllListeners()`` without an
event), whether or not a listener went; each call schedules one check, and the checks are not
idempotent (a first one may ``resume()``, a second then finds the resume scheduled and sets
``flowing``). :meth:`EventEmitter._remove_many`'s hook (``Readable._listener_removed``)
schedules one per listener that does go -- all the library's own removals need (``pipe()``'s
cleanup, a ``once`` wrapper, which always remove one); the public methods here add the calls it
did not make. Any other event costs them nothing beyond :class:`EventEmitter`'s methods.

Node's ``'data'`` flag (``kDataListening``) is likewise cleared by ``removeListener('data',
fn)`` whenever no ``'data'`` listener is left, but not by ``removeAllListeners('data')`` /
``removeAllListeners()`` unless a ``'removeListener'`` listener makes them go one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import node_error
from ..events import EventEmitter
from ._base import _soon

if TYPE_CHECKING:
    from ._readable import Readable


def remove_listener(self: Readable, event: str, listener: Callable[..., Any]) -> Readable:
    """Node ``readable.removeListener(event, listener)`` / ``readable.off``: as
    :meth:`EventEmitter.remove_listener`; then, for ``'readable'``, Node's
    ``updateReadableListening`` is due next tick even if ``listener`` was not there (no listener
    left: a paused stream's ``readable_flowing`` returns to ``None``; a ``'data'`` listener
    resumes it), and for ``'data'``, no ``'data'`` listener left, the stream stops counting on
    one (Node's ``kDataListening``)."""
    if not callable(listener):
        raise node_error("ERR_INVALID_ARG_TYPE", '"listener"', "function", type(listener).__name__)
    if event == "readable":
        events = self._events
        before = events.get(event)
        self._remove_many((event, listener))
        # A removal replaces the tuple (and its hook scheduled the check): the same one, none went
        if events.get(event) is before:
            _soon(self._update_readable_listening)
    else:
        self._remove_many((event, listener))
        if event == "data" and "data" not in self._events:
            self._r_data_listening = False
    return self


def remove_all_listeners(self: Readable, event: str | None = None) -> Readable:
    """Node ``readable.removeAllListeners([event])``: as :meth:`EventEmitter.remove_all_listeners`;
    then for ``'readable'`` or no event, Node's ``updateReadableListening`` next tick (once, and
    once per ``'readable'`` listener removed when a ``'removeListener'`` listener is there: Node
    then removes them one by one through ``removeListener``). ``'data'``'s listeners removed at
    once (no ``'removeListener'`` listener) leave the stream counting on one, as Node's
    ``kDataListening``: a later check of ``'readable'`` resumes the stream."""
    events = self._events
    told = "removeListener" in events
    if event == "data" and not told:
        listening = self._r_data_listening
        EventEmitter.remove_all_listeners(self, event)
        self._r_data_listening = listening
        return self
    if event is None:
        # Node: its own check; told, also one per 'readable' key of its table, each removed
        # through removeAllListeners('readable') (ours: only an event with listeners, so the
        # key left by the last listener to go (kShapeMode) needs it here)
        keys = self._shape
        due = 0 if not told else 2 if (
            keys is not None and "readable" in keys and "readable" not in events) else 1
    elif event == "readable":
        # EventEmitter's: not told, its hook's one call when a listener went; told, one per
        # listener (each through remove_listener): then Node's own check
        due = 1 if told or "readable" not in events else 0
    else:
        due = 0
    EventEmitter.remove_all_listeners(self, event)
    for _ in range(due):
        _soon(self._update_readable_listening)
    return self
