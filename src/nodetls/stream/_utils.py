"""Node's stream predicates (``lib/internal/streams/utils.js``: ``stream.isReadable`` ...) and the
default high-water mark (``lib/internal/streams/state.js``). Part of :mod:`nodetls.stream`.

The predicates read a nodetls :class:`Stream`'s state directly; any other object counts as a
stream the way Node's duck typing has it (an emitter with ``on`` and ``write`` or ``pipe``, a
"legacy stream"), and is judged from its public attributes."""

from __future__ import annotations

import sys
from typing import Any

from .._option_table import type_error
from ..errors import NodeRangeError
from . import _base, _readable, _writable
from ._base import Stream

# -- what kind of stream (Node's isNodeStream, isReadableNodeStream, ...) -----------------------


def _is_node_stream(obj: Any) -> bool:
    if isinstance(obj, Stream):
        return True
    on = callable(getattr(obj, "on", None))
    return on and (callable(getattr(obj, "write", None)) or callable(getattr(obj, "pipe", None)))


def _is_readable_node_stream(obj: Any, strict: bool = False) -> bool:
    if isinstance(obj, Stream):
        if not obj._HAS_R:
            # a Writable has pipe() (it fails), no readable state; a bare Stream is Node's
            # old-style stream (Stream.pipe, no states): readable, as Node's check says
            return not obj._HAS_W
        return not obj._HAS_W or obj._r_readable is not False  # type: ignore[attr-defined]
    if not (callable(getattr(obj, "pipe", None)) and callable(getattr(obj, "on", None))):
        return False
    return not strict or (callable(getattr(obj, "pause", None))
                          and callable(getattr(obj, "resume", None)))


def _is_writable_node_stream(obj: Any) -> bool:
    if isinstance(obj, Stream):
        if not obj._HAS_W:
            return False
        return not obj._HAS_R or obj._w_writable is not False  # type: ignore[attr-defined]
    return callable(getattr(obj, "write", None)) and callable(getattr(obj, "on", None))


def _is_iterable(obj: Any, is_async: bool | None = None) -> bool:
    """Node's ``isIterable``: async (``__aiter__``), sync (``__iter__``), or either."""
    if obj is None:
        return False
    if is_async is True:
        return callable(getattr(obj, "__aiter__", None))
    if is_async is False:
        return callable(getattr(obj, "__iter__", None))
    return callable(getattr(obj, "__aiter__", None)) or callable(getattr(obj, "__iter__", None))


# -- state (Node's isWritableFinished, isReadableFinished, ...) ---------------------------------


def _is_writable_ended(s: Any) -> bool | None:
    if not _is_writable_node_stream(s):
        return None
    if isinstance(s, Stream):
        return bool(s._w_ending)  # type: ignore[attr-defined]
    return True if getattr(s, "writable_ended", None) is True else None


def _is_writable_finished(s: Any, strict: bool | None = None) -> bool | None:
    """'finish' was emitted (``strict=False``: or ended with nothing left to write)."""
    if not _is_writable_node_stream(s):
        return None
    if not isinstance(s, Stream):
        return True if getattr(s, "writable_finished", None) is True else None
    if s._w_finished:  # type: ignore[attr-defined]
        return True
    if s._errored is not None:
        return False
    return strict is False and s._w_ended and s._w_len == 0  # type: ignore[attr-defined]


def _is_readable_finished(s: Any, strict: bool | None = None) -> bool | None:
    """'end' was emitted (``strict=False``: or ended with nothing left to read)."""
    if not _is_readable_node_stream(s):
        return None
    if not isinstance(s, Stream):
        return None
    if s._errored is not None:
        return False
    return bool(s._r_end_emitted  # type: ignore[attr-defined]
                or (strict is False and s._r_ended and s._r_len == 0))  # type: ignore[attr-defined]


def _errored(s: Any) -> Any:
    """Node's ``isWritableErrored(s) || isReadableErrored(s)``."""
    if isinstance(s, Stream):
        return s._errored
    return getattr(s, "writable_errored", None) or getattr(s, "readable_errored", None)


def _is_closed(s: Any) -> bool | None:
    closed = getattr(s, "closed", None)
    return closed if isinstance(closed, bool) else None


def _will_emit_close(s: Any) -> bool:
    """The stream emits 'close' by itself once destroyed (auto_destroy, emit_close, not yet)."""
    return isinstance(s, Stream) and s._auto_destroy and s._emit_close and not s._closed


# -- the public predicates ----------------------------------------------------------------------


def is_destroyed(stream: Any) -> bool | None:
    """Node ``stream.isDestroyed(stream)``: ``None`` for what is not a stream."""
    if not _is_node_stream(stream):
        return None
    return bool(getattr(stream, "destroyed", False))


def is_readable(stream: Any) -> bool | None:
    """Node ``stream.isReadable(stream)``: readable, not destroyed, ``'end'`` not emitted;
    ``None`` when ``stream`` has no ``readable`` flag (a Writable, not a stream)."""
    if not isinstance(getattr(stream, "readable", None), bool):
        return None
    if is_destroyed(stream):
        return False
    return (_is_readable_node_stream(stream) and stream.readable
            and not _is_readable_finished(stream))


def is_writable(stream: Any) -> bool | None:
    """Node ``stream.isWritable(stream)``: writable, not destroyed, ``end()`` not called;
    ``None`` when ``stream`` has no ``writable`` flag (a Readable, not a stream)."""
    if not isinstance(getattr(stream, "writable", None), bool):
        return None
    if is_destroyed(stream):
        return False
    return (_is_writable_node_stream(stream) and stream.writable
            and not _is_writable_ended(stream))


def is_errored(stream: Any) -> bool:
    """Node ``stream.isErrored(stream)``: destroyed with an error, or ``'error'`` emitted."""
    if isinstance(stream, Stream):
        return stream._errored is not None or stream._error_emitted
    return bool(_errored(stream))


def is_disturbed(stream: Any) -> bool:
    """Node ``stream.isDisturbed(stream)``: read from (``readable_did_read``), or aborted."""
    return bool(getattr(stream, "readable_did_read", False)
                or getattr(stream, "readable_aborted", False))


# -- the default high-water mark (Node's state.js) ----------------------------------------------

_MAX_SAFE_INTEGER = 2**53 - 1
_object_mode_hwm = 16


def get_default_high_water_mark(object_mode: bool) -> int:
    """Node ``stream.getDefaultHighWaterMark(objectMode)``: the high-water mark new streams get
    when their options give none (16384 bytes; object mode: 16, kept for Node's API only --
    no nodetls stream is in object mode)."""
    return _object_mode_hwm if object_mode else _base.DEFAULT_HIGH_WATER_MARK


def set_default_high_water_mark(object_mode: bool, value: float) -> None:
    """Node ``stream.setDefaultHighWaterMark(objectMode, value)``: change the default for the
    streams created from now on (``Readable``, ``Writable``, ``Duplex``, ``Transform``, and
    ``net``/``tls`` sockets). ``value``: an integer >= 0 (ERR_INVALID_ARG_TYPE,
    ERR_OUT_OF_RANGE). With ``object_mode`` true only the value
    :func:`get_default_high_water_mark` returns for object mode changes (nodetls has no object
    mode)."""
    global _object_mode_hwm
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise type_error("value", "number", value)
    if isinstance(value, float) and not value.is_integer():
        raise NodeRangeError(f'The value of "value" is out of range. It must be an integer. '
                             f"Received {value!r}", "ERR_OUT_OF_RANGE")
    if not 0 <= value <= _MAX_SAFE_INTEGER:
        raise NodeRangeError(f'The value of "value" is out of range. It must be >= 0 && <= '
                             f"{_MAX_SAFE_INTEGER}. Received {value!r}", "ERR_OUT_OF_RANGE")
    hwm = int(value)
    if object_mode:
        _object_mode_hwm = hwm
        return
    # The modules that read the default when a stream is made hold it as a global (no lookup
    # through another module per stream): rebind it in each, and in the package.
    for mod in (_base, _readable, _writable):
        setattr(mod, "DEFAULT_HIGH_WATER_MARK", hwm)  # noqa: B010
    pkg = sys.modules.get(__package__ or "")
    if pkg is not None:
        setattr(pkg, "DEFAULT_HIGH_WATER_MARK", hwm)  # noqa: B010
