"""Node's ``stream.Duplex`` (``lib/internal/streams/duplex.js``) and :func:`duplex_pair`
(Node v22's ``stream.duplexPair``). Part of :mod:`nodetls.stream`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import _option_table
from .._options import normalize
from ..events import EventEmitter
from ._base import _soon
from ._construct import construct
from ._readable import Readable
from ._writable import Writable

_D_OPTIONS = _option_table.names("RWD")


class Duplex(Readable, Writable):
    """Node's ``stream.Duplex``: a Readable and a Writable in one object.

    Options: those of both sides (``readable_high_water_mark``/``writable_high_water_mark``
    override ``high_water_mark`` per side; ``readable=False``/``writable=False`` disable one),
    plus ``allow_half_open`` (default ``True``): when ``False``, the end of the readable side
    ends the writable side (Node's ``allowHalfOpen``).
    """

    # Per-stream state in slots (read and written by Stream/Readable/Writable's methods, which
    # find these descriptors for every Duplex): see DESIGN.md, "An idle connection keeps
    # little". The instance keeps a __dict__ (EventEmitter's) for its users' own attributes.
    # Every slot is set by _init_duplex (a slot has no class-level default).
    __slots__ = ("_events", "allow_half_open",
                 # Stream._init_common
                 "_destroyed", "_errored", "_error_emitted", "_error_pending", "_close_emitted",
                 "_closed", "_close_waiters", "_auto_destroy", "_emit_close",
                 # Readable._init_readable
                 "_r_buf", "_r_len", "_r_hwm", "_r_flowing", "_r_paused", "_r_ended",
                 "_r_end_emitted", "_r_reading", "_r_sync", "_r_need_readable",
                 "_r_emitted_readable", "_r_readable_listening", "_r_resume_scheduled",
                 "_r_reading_more", "_r_data_listening", "_r_data_emitted", "_r_decoder",
                 "_r_encoding", "_r_pipes", "_r_await_drain", "_r_readable",
                 "_r_default_encoding",
                 # Writable._init_writable
                 "_w_hwm", "_w_buf", "_w_len", "_w_writing", "_w_sync", "_w_write_len", "_w_cb",
                 "_w_need_drain", "_w_ending", "_w_ended", "_w_finished", "_w_final_called",
                 "_w_prefinished", "_w_pending_cb", "_w_corked", "_w_buffer_processing",
                 "_w_after_write_pending", "_w_aw_info", "_w_on_finished", "_w_writable",
                 "_w_decode_strings", "_w_default_encoding")

    allow_half_open: bool
    #: Node's Duplex presets its _events: the Writable's, then the Readable's own.
    _SHAPE_EVENTS: tuple[str, ...] = ("close", "error", "prefinish", "finish", "drain", "data",
                                      "end", "readable")

    def __init__(self, options: dict[str, Any] | None = None, **kwargs: Any) -> None:
        opts = normalize(options, kwargs, _D_OPTIONS, "options") if options or kwargs else {}
        EventEmitter.__init__(self)
        self._init_duplex(opts)
        if self._construct is not None or opts.get("construct") is not None:
            construct(self, opts.get("construct"))

    def _init_duplex(self, opts: dict[str, Any]) -> None:
        self._init_common(opts)
        self._init_readable(opts)
        self._init_writable(opts)
        self.allow_half_open = opts.get("allow_half_open", True) is not False

    pipe = Readable.pipe

    @classmethod
    def from_(cls, body: Any) -> Duplex:  # type: ignore[override]
        """Node ``Duplex.from(body)`` (``from`` is a Python keyword): a Duplex made of ``body``:
        a Duplex (returned as is), a Readable or Writable (wrapped), a ``{'readable': r,
        'writable': w}`` mapping, ``str``/``bytes``, an (async) iterable (readable only), an
        async generator function ``fn(source)`` (writes go in as ``source``, its items come
        out), an ``async def fn(source)`` (writable only), an awaitable (its result, readable
        only). Raises ``ERR_INVALID_ARG_TYPE`` naming ``"body"`` for anything else."""
        from ._duplex_from import duplex_from  # (not at the top: it needs this module)

        return duplex_from(body)


# -- duplex_pair -------------------------------------------------------------------------------


class _DuplexSide(Duplex):
    """One end of :func:`duplex_pair` (Node v22's ``stream.duplexPair`` side)."""

    def __init__(self, options: dict[str, Any] | None) -> None:
        super().__init__(options)
        self._other: _DuplexSide | None = None
        self._write_cb: Callable[..., Any] | None = None

    def _read(self, size: int) -> None:
        # The consumer wants more: complete the other end's pending write (backpressure).
        cb = self._write_cb
        if cb is not None:
            self._write_cb = None
            cb()

    def _write(self, chunk: Any, callback: Callable[..., Any]) -> None:
        other = self._other
        assert other is not None
        if not chunk:
            _soon(callback)
            return
        other._write_cb = callback
        other.push(chunk if type(chunk) is bytes else bytes(chunk))

    def _final(self, callback: Callable[..., Any]) -> None:
        other = self._other
        assert other is not None
        if other._r_end_emitted or other._destroyed:
            callback()
            return
        other.once("end", callback)
        other.push(None)

    def _destroy(self, err: BaseException | None, callback: Callable[..., Any]) -> None:
        other = self._other
        if other is not None and not other._destroyed:
            _soon(other.destroy)
        callback(err)


def duplex_pair(options: dict[str, Any] | None = None, **kwargs: Any) -> tuple[Duplex, Duplex]:
    """Two connected in-memory :class:`Duplex` ends (Node v22's ``stream.duplexPair()``).

    What one end writes the other reads; a write completes when the other end's consumer wants
    more (backpressure); ``end()`` on one end is ``'end'`` on the other; destroying one end
    destroys the other (it emits ``'close'``). ``options`` apply to both ends.
    """
    opts = normalize(options, kwargs, _D_OPTIONS, "options") if options or kwargs else None
    a = _DuplexSide(opts)
    b = _DuplexSide(opts)
    a._other = b
    b._other = a
    return a, b
