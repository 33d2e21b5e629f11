"""Old-style ("streams1") emitter streams: Node's ``Stream.prototype.pipe``
(``lib/internal/streams/legacy.js``) and ``Readable.wrap`` / ``readable.wrap(stream)``
(``lib/internal/streams/readable.js``). Part of :mod:`nodetls.stream`.

An old-style stream is an emitter of ``'data'`` (its chunks), ``'end'``, ``'error'`` and
``'close'``, with ``pause()`` / ``resume()`` for backpressure (optional)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MethodType
from typing import TYPE_CHECKING, Any

from .._events_util import listener_count
from .._option_table import type_error
from .._options import to_snake
from ..errors import InvalidArgValueError

if TYPE_CHECKING:
    from ._readable import Readable


# -- Stream.prototype.pipe ----------------------------------------------------------------------


def _prepend(emitter: Any, event: str, fn: Callable[..., Any]) -> None:
    prepend = getattr(emitter, "prepend_listener", None)
    if callable(prepend):
        prepend(event, fn)
    else:
        emitter.on(event, fn)


def legacy_pipe(source: Any, dest: Any, end: Any = True) -> Any:
    """Node's ``Stream.prototype.pipe(dest[, options])``: see :meth:`Stream.pipe` (``end``: a
    bool, or Node's options mapping)."""
    if isinstance(end, Mapping):
        end = end.get("end", True) is not False
    elif end is None:
        end = True

    def ondata(chunk: Any) -> None:
        if getattr(dest, "writable", False) and dest.write(chunk) is False \
                and callable(getattr(source, "pause", None)):
            source.pause()

    source.on("data", ondata)

    def ondrain(*_: Any) -> None:
        if getattr(source, "readable", False) and callable(getattr(source, "resume", None)):
            source.resume()

    dest.on("drain", ondrain)
    did_on_end = False

    def onend(*_: Any) -> None:
        nonlocal did_on_end
        if not did_on_end:
            did_on_end = True
            dest.end()

    def onclose(*_: Any) -> None:
        nonlocal did_on_end
        if not did_on_end:
            did_on_end = True
            if callable(getattr(dest, "destroy", None)):
                dest.destroy()

    # (Node: dest.end() when the source ends or closes, unless end: false or dest is stdio)
    if end and not getattr(dest, "_is_stdio", False):
        source.on("end", onend)
        source.on("close", onclose)

    def make_onerror(emitter: Any) -> Callable[..., None]:
        def onerror(err: BaseException) -> None:  # no dangling pipe after an error
            cleanup()
            # (Node's static EE.listenerCount: an emitter without its own listenerCount is
            # counted by the prototype's)
            if not listener_count(emitter, "error"):
                emitter.emit("error", err)  # (Node: nobody else listens: thrown)
        return onerror

    src_onerror = make_onerror(source)
    dst_onerror = make_onerror(dest)
    _prepend(source, "error", src_onerror)
    _prepend(dest, "error", dst_onerror)

    def cleanup(*_: Any) -> None:
        source.remove_listener("data", ondata)
        dest.remove_listener("drain", ondrain)
        source.remove_listener("end", onend)
        source.remove_listener("close", onclose)
        source.remove_listener("error", src_onerror)
        dest.remove_listener("error", dst_onerror)
        source.remove_listener("end", cleanup)
        source.remove_listener("close", cleanup)
        dest.remove_listener("close", cleanup)

    source.on("end", cleanup)
    source.on("close", cleanup)
    dest.on("close", cleanup)
    dest.emit("pipe", source)
    return dest


# -- Readable.wrap ------------------------------------------------------------------------------


def wrap(readable: Readable, stream: Any) -> Readable:
    """Node's ``readable.wrap(stream)``: see :meth:`Readable.wrap`."""
    if not callable(getattr(stream, "on", None)):
        raise type_error("stream", "an emitter (with on())", stream)
    paused = False

    def ondata(chunk: Any) -> None:
        nonlocal paused
        if not readable.push(chunk) and callable(getattr(stream, "pause", None)):
            paused = True
            stream.pause()

    def onend(*_: Any) -> None:
        readable.push(None)

    def onerror(err: BaseException) -> None:
        readable._error_or_destroy(err)

    def onclose(*_: Any) -> None:
        readable.destroy()

    stream.on("data", ondata)
    stream.on("end", onend)
    stream.on("error", onerror)
    stream.on("close", onclose)
    stream.on("destroy", onclose)

    def read(size: int = 0) -> None:
        nonlocal paused
        if paused and callable(getattr(stream, "resume", None)):
            paused = False
            stream.resume()

    readable._read = read  # type: ignore[method-assign]
    # Node: proxy the stream's own functions the Readable lacks (a filter's, a duplex's)
    for name, value in list(getattr(stream, "__dict__", {}).items()):
        if callable(value) and not name.startswith("__") and getattr(readable, name, None) is None:
            setattr(readable, name, value)
    return readable


def wrap_static(stream: Any, options: Mapping[str, Any] | None = None,
                **kwargs: Any) -> Readable:
    """Node's ``Readable.wrap(src[, options])``: see :meth:`Readable.wrap`."""
    from ._readable import Readable

    if options is not None and not isinstance(options, Mapping):
        raise type_error("options", "object", options)
    opts: dict[str, Any] = {}
    for source in (options or {}, kwargs):
        for key, value in source.items():
            name = to_snake(key) if isinstance(key, str) else key
            if name in ("object_mode", "readable_object_mode"):
                if value:
                    raise InvalidArgValueError(
                        f"The property 'options.{key}' must be false: nodetls streams carry "
                        "bytes (no object mode). Received True")
                continue
            opts[name] = value

    def destroy(err: BaseException | None, callback: Callable[..., Any]) -> None:
        from ._pipeline import destroy as _destroyer  # (not at the top: import cycle)

        _destroyer(stream, err)
        callback(err)

    opts["destroy"] = destroy
    return wrap(Readable(opts), stream)


class WrapMethod:
    """``Readable.wrap(stream[, options])`` on the class (Node's static ``Readable.wrap``: a new
    :class:`Readable` of an old-style stream; destroying it destroys ``stream`` -- ``destroy()``,
    else ``close()``, else ``'error'``/``'close'`` emitted on it -- with the error, else an
    ``AbortError``), ``readable.wrap(stream)`` on a Readable (Node's: that Readable becomes the
    reader of ``stream``; returns it).

    The Readable pushes each ``'data'`` chunk of ``stream`` (``bytes``-like or ``str``: any
    other chunk fails it with ERR_INVALID_ARG_TYPE, as Node's non-object-mode Readable); a
    ``push()`` that returns ``False`` calls ``stream.pause()``, the next ``_read``
    ``stream.resume()`` (Node's backpressure); ``'end'`` ends it, ``'error'`` destroys it with
    the error (Node's ``errorOrDestroy``), ``'close'`` (and ``'destroy'``) destroys it.
    ``stream``'s own callable attributes the Readable lacks are proxied onto it, as Node's.
    Node's object mode (the static form's default) is not ported: ``object_mode`` must be
    false."""

    def __get__(self, obj: Readable | None, owner: type[Any] | None = None
                ) -> Callable[..., Readable]:
        if obj is None:
            return wrap_static
        return MethodType(wrap, obj)
