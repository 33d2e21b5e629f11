"""``run(main)`` and Node's process lifetime: the loop runs while a *referenced* handle is open.

Servers (while listening) and socket handles (from ``connect()``/accept until the transport is
gone) call :func:`ref_handle` / :func:`unref_handle`; their ``ref()``/``unref()`` methods toggle
membership. Only loops started by :func:`run` keep a registry, so outside ``run()`` both calls are
a dict lookup and nothing else.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Callable
from typing import Any

__all__ = ["run", "ref_handle", "unref_handle"]

_get_running_loop = asyncio._get_running_loop


class _Registry:
    __slots__ = ("refs", "waiter")

    def __init__(self) -> None:
        self.refs: set[Any] = set()
        self.waiter: asyncio.Future[None] | None = None


_REGISTRIES: dict[asyncio.AbstractEventLoop, _Registry] = {}


def ref_handle(obj: Any) -> None:
    """``obj`` keeps :func:`run` alive (Node: a referenced, active handle)."""
    if _REGISTRIES:
        reg = _REGISTRIES.get(_get_running_loop())  # type: ignore[arg-type]
        if reg is not None:
            reg.refs.add(obj)


def unref_handle(obj: Any) -> None:
    """``obj`` no longer keeps :func:`run` alive (closed, or ``unref()``)."""
    if _REGISTRIES:
        reg = _REGISTRIES.get(_get_running_loop())  # type: ignore[arg-type]
        if reg is not None:
            reg.refs.discard(obj)
            if not reg.refs:
                w = reg.waiter
                if w is not None and not w.done():
                    w.set_result(None)


def _loop_factory(loop: Any) -> Callable[[], asyncio.AbstractEventLoop] | None:
    if callable(loop):
        return loop  # type: ignore[no-any-return]
    explicit = loop is not None
    name = loop if explicit else os.environ.get("NODETLS_LOOP", "")
    if name in ("", "asyncio"):
        return None
    if name == "uvloop":
        try:
            import uvloop  # type: ignore[import-not-found]
        except ImportError:
            if explicit:
                raise
            return None
        return uvloop.new_event_loop  # type: ignore[no-any-return]
    raise ValueError(f"unknown loop {name!r}: expected 'asyncio' or 'uvloop'")


async def _lifetime(main: Callable[[], Any]) -> Any:
    from .events import _TASKS

    loop = asyncio.get_running_loop()
    reg = _REGISTRIES[loop] = _Registry()
    try:
        result = main()
        if inspect.isawaitable(result):
            result = await result
        while True:
            if reg.refs:
                reg.waiter = loop.create_future()
                await reg.waiter
                reg.waiter = None
                continue
            # Let callbacks already scheduled ('close' events...) run; they may open new handles.
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            if reg.refs:
                continue
            pending = [t for t in _TASKS if not t.done() and t.get_loop() is loop]
            if pending:  # async listeners still running
                await asyncio.wait(pending)
                continue
            return result
    finally:
        del _REGISTRIES[loop]


def run(main: Callable[[], Any], *, loop: Any = None, debug: bool | None = None) -> Any:
    """Run ``main`` (a function or coroutine function) on a new event loop, as a Node program.

    Returns ``main``'s result once ``main`` has returned and no referenced server or socket is
    left open (and no ``async`` listener is still running): Node's process lifetime. ``unref()``
    a server or socket to let ``run`` return while it is open.

    Args:
        main: called with no arguments on the new loop; may be ``async``.
        loop: ``'asyncio'`` (default), ``'uvloop'`` (``ImportError`` if not installed), or a loop
            factory. Without it, ``NODETLS_LOOP=uvloop`` selects uvloop when installed.
        debug: asyncio debug mode.
    """
    with asyncio.Runner(loop_factory=_loop_factory(loop), debug=debug) as runner:
        return runner.run(_lifetime(main))
