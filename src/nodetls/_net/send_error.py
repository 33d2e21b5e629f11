"""The error of a send that a transport's ``write()`` has just failed with, for
:meth:`nodetls._net.handle.TCPHandle.write` (Node's write fails with it in the call: EPIPE,
ECONNRESET).

A transport reports such an error only with ``connection_lost``, on the next loop step, and the
send has consumed the socket's pending error by then (a second send says ``EPIPE`` whatever the
first said). Where the transport keeps it, it is read at once: ``direct.py``'s
``SocketTransport`` keeps it (``send_error``); asyncio's own socket transport has scheduled
``connection_lost(exc)`` last on its loop's ready queue. uvloop's transports keep it where
Python cannot read it: ``None``, and the handle's owner is given ``EPIPE`` until
``connection_lost`` brings the error.
"""

from __future__ import annotations

from typing import Any

__all__ = ["send_error"]


def send_error(transport: Any, loop: Any) -> BaseException | None:
    """The exception ``transport.write()`` just failed with, if it can be known (module
    docstring); ``None`` otherwise."""
    err = getattr(transport, "send_error", None)
    if err is not None:
        return err  # type: ignore[no-any-return]
    ready = getattr(loop, "_ready", None)  # (asyncio's BaseEventLoop: a deque of Handles)
    if not ready:
        return None
    handle = ready[-1]
    lost = getattr(transport, "_call_connection_lost", None)
    if lost is None or getattr(handle, "_callback", None) != lost:
        return None
    args = getattr(handle, "_args", None)
    exc = args[0] if isinstance(args, tuple) and len(args) == 1 else None
    return exc if isinstance(exc, BaseException) else None
