"""Node's ``stream/promises`` (``stream.promises``): awaitable :func:`pipeline` and
:func:`finished`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._option_table import type_error
from ._base import _get_running_loop
from ._finished import _EOS_OPTIONS, _check_options
from ._finished import finished as _finished_cb
from ._pipeline import _pipeline
from ._utils import _is_iterable, _is_node_stream

__all__ = ["pipeline", "finished"]

_PIPELINE_OPTIONS = frozenset({"end"})


async def pipeline(*streams: Any, end: bool = True) -> Any:
    """Node ``stream.promises.pipeline(source, ...transforms, destination[, options])``: as
    :func:`nodetls.stream.pipeline` without the callback; returns the destination function's
    result (``None`` for a stream destination), raises the pipeline's error.

    ``end=False`` (or a last argument ``{"end": False}``, Node's options object) leaves the
    destination open when the source ends. Node's ``signal`` is not supported: cancel the
    awaiting task instead (the pipeline goes on; destroy its streams to stop it)."""
    args = list(streams)
    if args and isinstance(args[-1], Mapping) and not _is_node_stream(args[-1]) \
            and not _is_iterable(args[-1], True):
        opts = _check_options(args.pop(), _PIPELINE_OPTIONS)
        if "end" in opts:
            end = opts["end"]
    fut = _get_running_loop().create_future()

    def done(err: BaseException | None = None, value: Any = None) -> None:
        if fut.done():
            return
        if err is not None:
            fut.set_exception(err)
        else:
            fut.set_result(value)

    _pipeline(args, done, end is not False)
    return await fut


async def finished(stream: Any, options: Mapping[str, Any] | None = None) -> None:
    """Node ``stream.promises.finished(stream[, options])``: wait until ``stream`` is done as
    :func:`nodetls.stream.finished` reports it; raises its error (or
    ``ERR_STREAM_PREMATURE_CLOSE``). ``options``: ``readable``, ``writable``, ``error`` and
    ``cleanup`` (``True``: remove the listeners once done; Node's default ``False`` leaves them,
    so a later ``'error'`` is still handled)."""
    opts = _check_options(options, _EOS_OPTIONS | {"cleanup"})
    auto_cleanup = opts.pop("cleanup", None)
    if auto_cleanup is not None and not isinstance(auto_cleanup, bool):
        raise type_error("cleanup", "boolean", auto_cleanup)
    fut = _get_running_loop().create_future()
    cleanup: Any = None

    def done(err: BaseException | None = None) -> None:
        if auto_cleanup and cleanup is not None:
            cleanup()
        if not fut.done():
            if err is not None:
                fut.set_exception(err)
            else:
                fut.set_result(None)

    cleanup = _finished_cb(stream, opts, done)
    await fut
