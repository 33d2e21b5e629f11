"""Node's ``stream.compose(...streams)`` (``lib/internal/streams/compose.js``, experimental in
Node v20). Part of :mod:`nodetls.stream`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._option_table import _received
from ..errors import InvalidArgValueError, node_error
from ..events import _invoke
from ._duplex import Duplex
from ._duplex_from import duplex_from
from ._finished import _eos
from ._pipeline import _abort_error, _pipeline
from ._pipeline import destroy as _destroyer
from ._utils import _is_node_stream, is_readable, is_writable

_UNSET: Any = object()


def compose(*streams: Any) -> Duplex:
    """Node ``stream.compose(...streams)``: one :class:`Duplex` of ``streams`` piped together
    (Node's ``pipeline(streams)``): what is written to it goes into the first, what the last
    gives is read from it; a failing or destroyed stage destroys the others and the Duplex
    (destroying the Duplex destroys them all: with its error, else an ``AbortError``), and it
    closes once the pipeline is done.

    Stages as :func:`pipeline` takes them: streams, and (async generator) functions -- the
    first and the last one go through :meth:`Duplex.from_` (a function's ``source`` argument
    is then what is written to the Duplex); a middle one takes the previous stage as an async
    iterable and returns one. One stage alone is ``Duplex.from_(stage)``. The Duplex is
    writable if the first stage is, readable if the last one is.

    Errors: ERR_MISSING_ARGS (no stage), ERR_INVALID_ARG_VALUE (a stream that is not readable
    where the next stage reads it -- "must be readable" --, or not writable after the first --
    "must be writable"), and :func:`pipeline`'s (a stage of no supported kind)."""
    if not streams:
        raise node_error("ERR_MISSING_ARGS", "streams")
    if len(streams) == 1:
        return duplex_from(streams[0])
    org = streams
    stages = list(streams)
    for i in (0, len(stages) - 1):
        if callable(stages[i]) and not _is_node_stream(stages[i]):
            stages[i] = duplex_from(_lenient(stages[i]))
    last = len(stages) - 1
    for n, stage in enumerate(stages):
        if not _is_node_stream(stage):
            continue  # (Node: no checks for what is not a stream)
        if n < last and not is_readable(stage):
            raise InvalidArgValueError(f"The argument 'streams[{n}]' must be readable. "
                                       f"Received {_received(org[n])}")
        if n > 0 and not is_writable(stage):
            raise InvalidArgValueError(f"The argument 'streams[{n}]' must be writable. "
                                       f"Received {_received(org[n])}")
    return _Composed(stages)


def _lenient(fn: Callable[..., Any]) -> Callable[[Any], Any]:
    """``fn`` called as JavaScript calls it: a source function that takes no ``source``
    argument (``async def gen(): yield ...``) is called without it."""

    def call(source: Any) -> Any:
        return _invoke(fn, (source,))

    return call


class _Composed(Duplex):
    """The Duplex :func:`compose` returns: writes go to ``head`` (with its backpressure: a
    write completes on ``head``'s ``'drain'``), ``end()`` ends ``head`` and finishes once
    ``tail`` is done; reads take what ``tail`` has."""

    def __init__(self, stages: list[Any]) -> None:
        head = stages[0]
        self._c_head = head
        self._c_ondrain: Callable[..., Any] | None = None
        self._c_onfinish: Callable[..., Any] | None = None
        self._c_onreadable: Callable[..., Any] | None = None
        self._c_onclose: Any = _UNSET  # Node's `onclose`: undefined, then null or a callback
        tail = _pipeline(stages, self._c_finished, True)
        self._c_tail = tail
        writable = bool(is_writable(head))
        readable = bool(is_readable(tail))
        self._c_writable = writable
        self._c_readable = readable
        super().__init__(writable=writable, readable=readable)
        if writable:
            head.on("drain", self._c_drain)
            _eos(tail, None, None, True, self._c_tail_done)
        if readable:
            tail.on("readable", self._c_tail_readable)
            tail.on("end", self._c_tail_end)

    # -- the pipeline's and the stages' events --------------------------------------------------

    def _c_finished(self, err: BaseException | None = None, _value: Any = None) -> None:
        cb = self._c_onclose
        self._c_onclose = None
        if cb is not None and cb is not _UNSET:
            cb(err)
        elif err is not None:
            self.destroy(err)
        elif not self._c_readable and not self._c_writable:
            self.destroy()

    def _c_drain(self, *_: Any) -> None:
        cb, self._c_ondrain = self._c_ondrain, None
        if cb is not None:
            cb()

    def _c_tail_done(self, *_: Any) -> None:
        cb, self._c_onfinish = self._c_onfinish, None
        if cb is not None:
            cb()

    def _c_tail_readable(self, *_: Any) -> None:
        cb, self._c_onreadable = self._c_onreadable, None
        if cb is not None:
            cb()

    def _c_tail_end(self, *_: Any) -> None:
        self.push(None)

    # -- the Duplex's hooks ---------------------------------------------------------------------

    def _write(self, chunk: Any, callback: Callable[..., Any]) -> None:
        if self._c_head.write(chunk):
            callback()
        else:
            self._c_ondrain = callback

    def _final(self, callback: Callable[..., Any]) -> None:
        self._c_head.end()
        self._c_onfinish = callback

    def _read(self, size: int = 0) -> None:
        tail = self._c_tail
        while True:
            buf = tail.read()
            if buf is None:
                self._c_onreadable = self._read
                return
            if not self.push(buf):
                return

    def _destroy(self, err: BaseException | None, callback: Callable[..., Any]) -> None:
        if err is None and self._c_onclose is not None:
            err = _abort_error()
        self._c_onreadable = self._c_ondrain = self._c_onfinish = None
        if _is_node_stream(self._c_tail):
            _destroyer(self._c_tail, err)
        if self._c_onclose is None:
            callback(err)
        else:
            self._c_onclose = callback
