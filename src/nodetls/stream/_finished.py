"""Node's ``stream.finished`` (``lib/internal/streams/end-of-stream.js``, "eos"). Part of
:mod:`nodetls.stream`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._option_table import _received, type_error
from ..errors import InvalidArgTypeError, node_error
from ..events import _invoke
from ._base import Stream, _soon
from ._utils import (
    _errored,
    _is_closed,
    _is_node_stream,
    _is_readable_finished,
    _is_readable_node_stream,
    _is_writable_finished,
    _is_writable_node_stream,
    _will_emit_close,
    is_readable,
    is_writable,
)

_EOS_OPTIONS = frozenset({"readable", "writable", "error"})


def _check_options(options: Any, allowed: frozenset[str]) -> dict[str, Any]:
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise type_error("options", "object", options)
    for key in options:
        if key not in allowed:
            hint = " (AbortSignal is not supported)" if key == "signal" else ""
            raise InvalidArgTypeError(f"options: unknown option {key!r}{hint}")
    return dict(options)


def finished(stream: Any, options: Any = None, callback: Any = None) -> Callable[[], None]:
    """Node ``stream.finished(stream[, options], callback)``: ``callback(err)`` once ``stream``
    is done with: ``callback(None)`` when its readable side has emitted ``'end'`` and its
    writable side ``'finish'``; ``callback(err)`` on its ``'error'``; ``ERR_STREAM_PREMATURE_CLOSE``
    when it closes (is destroyed) before. A stream already done gets its callback on the next
    loop iteration. Returns a function that removes the listeners (the callback is not called
    after it).

    ``options``: ``readable`` / ``writable`` (``False``: do not wait for that side; default:
    whether the stream has it), ``error`` (``False``: an ``'error'`` event alone does not
    finish). Node's ``signal`` is not supported. Works with any nodetls stream (sockets
    included) and with Node's "legacy streams" (emitters with ``on`` and ``write``/``pipe``).
    """
    if callback is None:  # Node: finished(stream, callback)
        callback, options = options, None
    if not callable(callback):
        raise type_error("callback", "function", callback)
    opts = _check_options(options, _EOS_OPTIONS)
    if not _is_node_stream(stream):
        raise node_error(
            "ERR_INVALID_ARG_TYPE", message='The "stream" argument must be an instance of '
            f"ReadableStream, WritableStream, or Stream. Received {_received(stream)}")
    readable = opts.get("readable")
    writable = opts.get("writable")
    return _eos(stream, None if readable is None else bool(readable),
                None if writable is None else bool(writable),
                opts.get("error", True) is not False, callback)


def _eos(stream: Any, readable: bool | None, writable: bool | None, on_errors: bool,
         callback: Callable[..., Any]) -> Callable[[], None]:
    """Node's ``eos`` without the argument checks (``pipeline`` calls it)."""
    cb: Callable[..., Any] | None = callback

    def done(err: BaseException | None = None) -> None:
        nonlocal cb
        fn, cb = cb, None
        if fn is not None:
            _invoke(fn, (err,))

    is_r = _is_readable_node_stream(stream)
    is_w = _is_writable_node_stream(stream)
    if readable is None:
        readable = is_r
    if writable is None:
        writable = is_w
    ours = isinstance(stream, Stream)
    w_state = ours and stream._HAS_W
    will_emit_close = _will_emit_close(stream) and is_r == readable and is_w == writable
    writable_finished = bool(_is_writable_finished(stream, False))
    readable_finished = bool(_is_readable_finished(stream, False))

    def on_legacy_finish(*_: Any) -> None:
        if not getattr(stream, "writable", False):
            on_finish()

    def on_finish(*_: Any) -> None:
        nonlocal writable_finished, will_emit_close
        writable_finished = True
        if getattr(stream, "destroyed", False):  # destroyed by user code: 'close' may not come
            will_emit_close = False
        if will_emit_close and (not getattr(stream, "readable", False) or readable):
            return
        if not readable or readable_finished:
            done()

    def on_end(*_: Any) -> None:
        nonlocal readable_finished, will_emit_close
        readable_finished = True
        if getattr(stream, "destroyed", False):
            will_emit_close = False
        if will_emit_close and (not getattr(stream, "writable", False) or writable):
            return
        if not writable or writable_finished:
            done()

    def on_error(err: BaseException) -> None:
        done(err)

    def on_close(*_: Any) -> None:
        err = _errored(stream)
        if err is not None and not isinstance(err, bool):
            done(err)
        elif readable and not readable_finished and _is_readable_node_stream(stream, True) \
                and not _is_readable_finished(stream, False):
            done(node_error("ERR_STREAM_PREMATURE_CLOSE"))
        elif writable and not writable_finished and not _is_writable_finished(stream, False):
            done(node_error("ERR_STREAM_PREMATURE_CLOSE"))
        else:
            done()

    def on_closed() -> None:  # already closed/errored/finished when called
        err = _errored(stream)
        done(err if err is not None and not isinstance(err, bool) else None)

    listeners: list[tuple[str, Callable[..., Any]]] = []
    if writable and not w_state:  # a legacy stream
        listeners += [("end", on_legacy_finish), ("close", on_legacy_finish)]
    listeners += [("end", on_end), ("finish", on_finish)]
    if on_errors:
        listeners.append(("error", on_error))
    listeners.append(("close", on_close))
    for event, fn in listeners:
        stream.on(event, fn)

    if _is_closed(stream):
        _soon(on_close)
    elif ours and stream._error_emitted:
        if not will_emit_close:
            _soon(on_closed)
    elif (not readable and (not will_emit_close or is_readable(stream))
            and (writable_finished or is_writable(stream) is False)
            and (not w_state or stream._w_pending_cb == 0)):
        _soon(on_closed)
    elif (not writable and (not will_emit_close or is_writable(stream))
            and (readable_finished or is_readable(stream) is False)):
        _soon(on_closed)

    def cleanup() -> None:
        """Remove the listeners ``finished`` added; its callback will not be called."""
        nonlocal cb
        cb = None
        for event, fn in listeners:
            stream.remove_listener(event, fn)

    return cleanup
