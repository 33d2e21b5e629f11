"""Node's ``stream.Transform`` and ``stream.PassThrough`` (``lib/internal/streams/transform.js``,
``passthrough.js``). Part of :mod:`nodetls.stream`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .. import _option_table
from .._option_table import type_error
from .._options import normalize
from ..errors import node_error
from ..events import EventEmitter
from ._base import _soon
from ._construct import construct
from ._duplex import Duplex

_D_OPTIONS = _option_table.names("RWD")
#: The hooks only a Transform takes (Node's ``options.transform`` / ``options.flush``).
_T_HOOKS = ("transform", "flush")

TransformCallback = Callable[..., None]
"""``callback(err=None, data=None)``: what ``_transform`` and ``_flush`` are handed."""


class Transform(Duplex):
    """Node's ``stream.Transform``: a :class:`Duplex` whose readable side is computed from what
    is written to it.

    Hooks (subclass methods, or the options ``transform=`` / ``flush=``):

    * ``_transform(chunk, callback)``: Node's ``_transform(chunk, encoding, callback)``, shaped
      like this package's ``_write(chunk, callback)``: ``chunk`` is ``bytes`` (a ``str`` only
      with ``decode_strings=False``), no ``encoding`` argument. Call ``callback(err=None,
      data=None)`` once; ``data`` (if not ``None``) is pushed, as are any ``self.push(...)``
      calls made before.
    * ``_flush(callback)``: after the last chunk, before ``'end'`` (``end()`` -> ``_flush`` ->
      ``'prefinish'`` -> ``'end'`` -> ``'finish'``, Node's order); ``callback(err=None,
      data=None)``.

    Backpressure as Node's: a chunk's write completes (the next ``_transform`` may run) at
    once while the readable buffer is below its high-water mark (or the transform pushed
    nothing); otherwise only when the reader calls ``_read`` again. A readable high-water mark
    of 0 makes the writable side's 0 too, unless ``writable_high_water_mark`` is given.
    """

    __slots__ = ("_t_callback",)

    _t_callback: Callable[..., Any] | None
    _flush: Callable[[TransformCallback], None] | None = None

    def __init__(self, options: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        hooks: dict[str, Any] = {}
        if options or kwargs:
            if isinstance(options, Mapping) and any(k in options for k in _T_HOOKS):
                options = dict(options)
                for name in _T_HOOKS:
                    if name in options:
                        hooks[name] = options.pop(name)
            for name in _T_HOOKS:
                if name in kwargs:
                    hooks[name] = kwargs.pop(name)
            opts = normalize(options, kwargs, _D_OPTIONS, "options")
        else:
            opts = {}
        for name, fn in hooks.items():
            if fn is not None and not callable(fn):
                raise type_error(f"options.{name}", "function", fn)
        # Node: a readable high-water mark of 0 (highWaterMark first, as getHighWaterMark reads
        # a Duplex's) must not buffer on the writable side either
        rhwm = opts.get("high_water_mark")
        if rhwm is None:
            rhwm = opts.get("readable_high_water_mark")
        if rhwm == 0:
            opts["high_water_mark"] = None
            opts["readable_high_water_mark"] = 0
            opts["writable_high_water_mark"] = opts.get("writable_high_water_mark") or 0
        EventEmitter.__init__(self)
        self._init_duplex(opts)
        self._r_sync = False  # Node: _read is ready before the first read
        self._t_callback = None
        if hooks.get("transform") is not None:
            self._transform = hooks["transform"]  # type: ignore[method-assign]
        if hooks.get("flush") is not None:
            self._flush = hooks["flush"]
        # Node: the flush also runs from 'prefinish' when a subclass/option replaced _final
        self.on("prefinish", self._on_prefinish)
        if self._construct is not None or opts.get("construct") is not None:
            construct(self, opts.get("construct"))

    # -- hooks ----------------------------------------------------------------------------------

    def _transform(self, chunk: Any, callback: TransformCallback) -> None:
        """Hook: turn ``chunk`` into output: ``self.push(...)`` and/or ``callback(None, data)``;
        ``callback(err)`` fails the stream."""
        raise node_error("ERR_METHOD_NOT_IMPLEMENTED", "_transform()")

    def _write(self, chunk: Any, callback: Callable[..., Any]) -> None:
        length = self._r_len

        def done(err: BaseException | None = None, data: Any = None) -> None:
            if err is not None:
                callback(err)
                return
            if data is not None:
                self.push(data)
            if self._r_ended:  # the transform pushed None: let the end propagate first
                _soon(callback)
            elif self._w_ended or length == self._r_len or self._r_len < self._r_hwm:
                callback()
            else:  # the readable side is full: complete the write when it is read from
                self._t_callback = callback

        self._transform(chunk, done)

    def _read(self, size: int) -> None:
        cb = self._t_callback
        if cb is not None:
            self._t_callback = None
            cb()

    def _final(self, callback: Callable[..., Any] | None = None) -> None:
        # Node's Transform final(): _flush, push its data, push(None)
        flush = self._flush
        if flush is not None and not self._destroyed:
            def done(err: BaseException | None = None, data: Any = None) -> None:
                if err is not None:
                    if callback is not None:
                        callback(err)
                    else:
                        self.destroy(err)
                    return
                if data is not None:
                    self.push(data)
                self.push(None)
                if callback is not None:
                    callback()

            flush(done)
        else:
            self.push(None)
            if callback is not None:
                callback()

    def _on_prefinish(self) -> None:
        if getattr(self._final, "__func__", None) is not Transform._final:
            Transform._final(self)


class PassThrough(Transform):
    """Node's ``stream.PassThrough``: a :class:`Transform` that outputs its input unchanged."""

    def _transform(self, chunk: Any, callback: TransformCallback) -> None:
        callback(None, chunk)
