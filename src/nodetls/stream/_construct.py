"""Node's ``construct`` option / ``_construct(callback)`` hook of every stream (Node v20's
``construct``/``constructNT`` in ``lib/internal/streams/destroy.js`` and the ``kOnConstructed``
steps of ``readable.js``/``writable.js``). Part of :mod:`nodetls.stream`.

``construct(callback)`` runs on a later loop iteration (Node's ``process.nextTick``) after the
constructor. Until its ``callback(err=None)`` has been called (and one more loop iteration has
passed, as Node's ``onConstruct`` comes by ``nextTick`` too) the stream holds back its work, as
Node's ``kConstructed`` flag does: ``read()`` calls no ``_read`` and no read-ahead is scheduled;
``write()`` buffers (``_write``/``_writev`` not called); ``end()`` neither finishes nor calls
``_final``; ``destroy()`` marks the stream destroyed at once (buffered write callbacks get
``ERR_STREAM_DESTROYED`` on the next iteration) but calls ``_destroy`` only once construction
is over (then with the construct error and the destroy error, Node's ``aggregateTwoErrors``).
Once constructed: a waiting read-ahead starts, the buffered writes go to ``_write`` (or
``_writev``) in order, a pending ``end()`` finishes. ``callback(err)`` destroys the stream with
``err`` (``'error'``, ``'close'``); a construct that raises is the same; a second call is
``ERR_MULTIPLE_CALLBACK``.

How, at no cost for streams without the hook (every socket): Node tests its flag on every read
and write; here a stream with a construct hook gets, while it is being constructed, instance
attributes that shadow the methods doing that work (``_GATES_R``, ``_GATES_W``); constructed, they are
removed again and the class's methods (or the option hooks they shadowed) are back. A stream
without the hook has none of this: its methods and their per-chunk paths are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import AggregateNodeError, node_error
from ._base import Stream, _soon

_MISSING: Any = object()

#: The attributes shadowed while a stream is constructed, by side: what each stands for in
#: Node's ``kConstructed`` checks (``_destroy``: Node's deferred ``_destroy``; ``push``: Node's
#: ``kSync`` stays as it was, only a real ``_read`` clears it; ``unshift``: likewise).
_GATES_R = ("_read", "_maybe_read_more", "push", "unshift")
_GATES_W = ("write", "_clear_buffer", "_finish_maybe")


def _aggregate(inner: BaseException | None, outer: BaseException | None) -> BaseException | None:
    """Node's ``aggregateTwoErrors(inner, outer)``: both (and different): an ``AggregateError``
    of ``[outer, inner]`` with ``outer``'s message and code; else whichever there is."""
    if inner is not None and outer is not None and inner is not outer:
        if isinstance(outer, AggregateNodeError):
            return AggregateNodeError([*outer.errors, inner], outer.message)  # type: ignore[list-item]
        if isinstance(outer, Exception) and isinstance(inner, Exception):
            err = AggregateNodeError([outer, inner], str(outer))
            code = getattr(outer, "code", None)
            if code is not None:
                err.code = code
            return err
    return inner if inner is not None else outer


class _Construction:
    """One stream's construction: the shadowing attributes, what they shadow, and a
    ``destroy()`` waiting for the end of the construction."""

    __slots__ = ("stream", "saved", "real_write", "real_push", "real_unshift", "sync", "destroy_args",
                 "called")

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.saved: dict[str, Any] = {}
        self.destroy_args: tuple[BaseException | None, Callable[..., Any]] | None = None
        self.called = False
        d = stream.__dict__
        names: tuple[str, ...] = ("_destroy",)
        if stream._HAS_R:
            names += _GATES_R
        if stream._HAS_W:
            names += _GATES_W
        for name in names:
            self.saved[name] = d.get(name, _MISSING)
        self.real_write = getattr(stream, "write", None)
        self.real_push = getattr(stream, "push", None)
        self.real_unshift = getattr(stream, "unshift", None)
        self.sync = getattr(stream, "_r_sync", True)
        d["_destroy"] = self.destroy
        if stream._HAS_R:
            d["_read"] = self.read
            d["_maybe_read_more"] = self.nothing
            d["push"] = self.push
            d["unshift"] = self.unshift
        if stream._HAS_W:
            d["write"] = self.write
            d["_clear_buffer"] = self.nothing
            d["_finish_maybe"] = self.nothing

    # -- the gates ------------------------------------------------------------------------------

    def read(self, size: int) -> None:
        # Node's read(): no _read while constructing (its kReading is not set either)
        self.stream._r_reading = False  # type: ignore[attr-defined]

    def nothing(self, *args: Any) -> None:
        """Node's ``maybeReadMore``/``clearBuffer``/``finishMaybe`` before construction."""

    def push(self, chunk: Any, encoding: str | None = None) -> bool:
        # Node's kSync: set from the constructor until a real _read clears it (never here).
        self.stream._r_sync = self.sync  # type: ignore[attr-defined]
        return bool(self.real_push(chunk, encoding))  # type: ignore[misc]

    def unshift(self, chunk: Any, encoding: str | None = None) -> None:
        # (as push: a read() while constructing cleared the flag around the gated _read)
        self.stream._r_sync = self.sync  # type: ignore[attr-defined]
        self.real_unshift(chunk, encoding)  # type: ignore[misc]

    def write(self, data: Any, encoding: Any = None, callback: Any = None) -> bool:
        # Node's writeOrBuffer: buffered while not constructed (as while a write is in flight)
        s: Any = self.stream
        s._w_writing = True
        try:
            return bool(self.real_write(data, encoding, callback))  # type: ignore[misc]
        finally:
            s._w_writing = False

    def destroy(self, err: BaseException | None, callback: Callable[..., Any]) -> None:
        # Node's destroy(): `_destroy` waits for the construction (its kDestroy event)
        self.destroy_args = (err, callback)

    # -- the construction -----------------------------------------------------------------------

    def run(self) -> None:
        """Node's ``constructNT``."""
        s = self.stream
        try:
            s._construct(self.callback)  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - Node: a throwing construct is its error
            _soon(self.done, exc)

    def callback(self, err: BaseException | None = None) -> None:
        """The callback ``construct`` is given: ``callback(err=None)``."""
        _soon(self.done, err)

    def done(self, err: BaseException | None) -> None:
        """Node's ``onConstruct``."""
        s: Any = self.stream
        if self.called:
            s._error_or_destroy(err if err is not None else node_error("ERR_MULTIPLE_CALLBACK"))
            return
        self.called = True
        d = s.__dict__
        for name, value in self.saved.items():
            if value is _MISSING:
                d.pop(name, None)
            else:
                d[name] = value
        if s._HAS_R:
            # Node's kSync: no read() made a real _read call while constructing (a read() here
            # cleared the flag around the gate's): as it was, for a push(None) after a failure
            s._r_sync = self.sync
        if s._destroyed:
            pending = self.destroy_args
            if pending is not None:
                self.destroy_args = None
                derr, cb = pending
                try:
                    s._destroy(_aggregate(err, derr), cb)
                except Exception as exc:  # noqa: BLE001 - Node: a throwing _destroy is its error
                    cb(exc)
        elif err is not None:
            s._error_or_destroy(err, True)
        else:
            # Node's kOnConstructed, the readable side's then the writable side's
            if s._HAS_R and s._r_need_readable:
                s._maybe_read_more()
            if s._HAS_W:
                if not s._w_writing:
                    s._clear_buffer()
                if s._w_ending:
                    s._finish_maybe(False)


def construct(stream: Stream, hook: Callable[..., Any] | None) -> None:
    """Start ``stream``'s construction (from its constructor, when it has a construct hook:
    ``hook``, the ``construct`` option, or a ``_construct`` method): Node's
    ``destroyImpl.construct``."""
    if hook is not None:
        stream.__dict__["_construct"] = hook
    _soon(_Construction(stream).run)
