"""Node's ``stream.compose(...streams)`` (``lib/internal/streams/compose.js``, experimental in
Node v20). Part of :mod:`nodetls.stream`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._option_table import _received
from ..errors import InvalidArgValueError, node_error
from ..events import _invoke
from ._duplex import Duplex
from ._duplex_from import _Bridge, duplex_from
from ._finished import _eos
from ._pipeline import _abort_error, _pipeline
from ._pipeline import destroy as _destroyer
from ._utils import _is_node_stream, is_readable, is_writable


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


class _Composed(_Bridge):
    """The Duplex :func:`compose` returns: writes go to ``head`` (with its backpressure: a
    write completes on ``head``'s ``'drain'``), ``end()`` ends ``head`` and finishes once
    ``tail`` is done; reads take what ``tail`` has."""

    def __init__(self, stages: list[Any]) -> None:
        head = stages[0]
        self._bridge(None, head)  # (before the pipeline: it may call _c_finished)
        tail = _pipeline(stages, self._c_finished, True)
        self._b_r = tail
        writable = bool(is_writable(head))
        readable = bool(is_readable(tail))
        self._c_writable = writable
        self._c_readable = readable
        super().__init__(writable=writable, readable=readable)
        if writable:
            head.on("drain", self._b_drain)
            _eos(tail, None, None, True, self._b_finish)
        if readable:
            tail.on("readable", self._b_readable)
            tail.on("end", self._b_end)

    def _c_finished(self, err: BaseException | None = None, _value: Any = None) -> None:
        """The pipeline of the stages ended (Node's compose ``onfinished``)."""
        if not self._b_closed(err) and not self._c_readable and not self._c_writable:
            self.destroy()

    def _destroy(self, err: BaseException | None, callback: Callable[..., Any]) -> None:
        if err is None and self._b_onclose is not None:
            err = _abort_error()
        self._b_onreadable = self._b_ondrain = self._b_onfinish = None
        if _is_node_stream(self._b_r):
            _destroyer(self._b_r, err)
        if self._b_onclose is None:
            callback(err)
        else:
            self._b_onclose = callback
