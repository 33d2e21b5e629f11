"""The error of a send that a transport's ``write()`` has just failed with, for
:meth:`nodetls._net.handle.TCPHandle.write` (Node's write fails with it in the call: EPIPE,
ECONNRESET).

A transport reports such an error only with ``connection_lost``, on the next loop step, and the
send has consumed the socket's pending error by then (a second send says ``EPIPE`` whatever the
first said). Where the transport keeps it, it is read at once: ``direct.py``'s
``SocketTransport`` keeps it (``send_error``); asyncio's own socket transport has scheduled
``connection_lost(exc)`` last on its loop's ready queue. So has uvloop's (``_force_close``:
a ``Handle`` of ``_call_connection_lost`` with the transport and the error), whose queue and
handles are compiled attributes Python cannot name: they are found through
``gc.get_referents`` (the loop's ready ``deque``, then the last handle's arguments). If
neither works (another loop, another uvloop), ``None``: the handle's owner is given ``EPIPE``
until ``connection_lost`` brings the error.
"""

from __future__ import annotations

import gc
from collections import deque
from typing import Any

__all__ = ["send_error"]


def send_error(transport: Any, loop: Any) -> BaseException | None:
    """The exception ``transport.write()`` just failed with, if it can be known (module
    docstring); ``None`` otherwise."""
    err = getattr(transport, "send_error", None)
    if err is not None:
        return err  # type: ignore[no-any-return]
    ready = getattr(loop, "_ready", None)  # (asyncio's BaseEventLoop: a deque of Handles)
    if ready is None and type(loop).__module__.startswith("uvloop"):
        return _uvloop_lost_error(transport, loop)
    if not ready:
        return None
    handle = ready[-1]
    lost = getattr(transport, "_call_connection_lost", None)
    if lost is None or getattr(handle, "_callback", None) != lost:
        return None
    args = getattr(handle, "_args", None)
    exc = args[0] if isinstance(args, tuple) and len(args) == 1 else None
    return exc if isinstance(exc, BaseException) else None


def _uvloop_lost_error(transport: Any, loop: Any) -> BaseException | None:
    """The error of the ``connection_lost`` uvloop has just scheduled for ``transport`` (the
    last handle of its ready queue; module docstring), or ``None``."""
    for ref in gc.get_referents(loop):
        if type(ref) is deque and ref:
            args = gc.get_referents(ref[-1])
            if any(a is transport for a in args):
                for a in args:
                    if isinstance(a, BaseException):
                        return a
    return None
