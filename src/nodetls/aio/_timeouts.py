"""asyncio's ``ssl_handshake_timeout`` and ``ssl_shutdown_timeout`` for ``nodetls.aio``: the
values checked as asyncio checks them, and the handshake timeout mapped onto nodetls.

asyncio (``sslproto.SSLProtocol``) and uvloop take either as ``None`` (the default: 60 s for the
handshake, 30 s for the shutdown) or a positive number of seconds, else ``ValueError``
(``'ssl_handshake_timeout should be a positive number, got 0'``). Here the values are checked
when the function is called (uvloop's clients check there too; asyncio's only once connected,
and its servers at each accepted connection, where a bad value silently drops every
connection); a ``bool``, a string or NaN are refused (``TypeError``, ``ValueError``) where
asyncio would take ``True`` for one second and NaN for a timeout already passed.

The handshake timeout, client side: asyncio's SSL transport starts it once TCP is connected and,
when it passes, aborts the connection (a TCP FIN to the peer) and ``create_connection`` raises
``ConnectionAbortedError('SSL handshake is taking longer than 0.3 seconds: aborting the
connection')``; the protocol's ``connection_made`` never runs. nodetls's Node-style
``tls.connect`` has no handshake timeout, so :func:`client_handshake_timer` arms that one.
Server side it is the ``tls.Server``'s own ``handshake_timeout`` (:func:`server_option`).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

__all__ = ["HANDSHAKE_TIMEOUT", "checked", "client_handshake_timer", "server_option"]

#: asyncio's default handshake timeout (``asyncio.constants.SSL_HANDSHAKE_TIMEOUT``; uvloop's
#: too), for the client and the server forms.
HANDSHAKE_TIMEOUT = 60.0


def checked(name: str, value: Any, default: float) -> float:
    """``ssl_handshake_timeout`` / ``ssl_shutdown_timeout`` as asyncio checks them: ``None`` is
    ``default``, else a positive number of seconds (``inf``: no timeout)."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not value > 0:  # (NaN too)
        raise ValueError(f"{name} should be a positive number, got {value}")
    return value


def server_option(value: Any, tls_options: dict[str, Any]) -> None:
    """``ssl_handshake_timeout`` of ``create_server``/``start_server`` as the ``tls.Server``'s
    ``handshake_timeout`` option (seconds; a negative number: none), set in ``tls_options``.
    Neither given: asyncio's 60 s, not Node's 120 s (the asyncio face takes asyncio's
    defaults). ``handshake_timeout`` alone is Node's option as ``tls.create_server`` reads it."""
    given = "handshake_timeout" in tls_options
    if value is not None and given:
        raise ValueError("ssl_handshake_timeout and handshake_timeout can not be specified "
                         "at the same time")
    if given:
        return
    timeout = checked("ssl_handshake_timeout", value, HANDSHAKE_TIMEOUT)
    tls_options["handshake_timeout"] = -1.0 if math.isinf(timeout) else float(timeout)


def client_handshake_timer(loop: asyncio.AbstractEventLoop, tls_sock: Any,
                           timeout: float) -> Callable[[], None]:
    """asyncio's client handshake timeout on a ``tls.connect`` socket: armed once TCP is
    connected (at once over a connected socket), it destroys the socket with asyncio's
    ``ConnectionAbortedError`` if the handshake is not done by then (what awaiting the socket
    raises). Returns what disarms it (call it once the wait for the handshake is over)."""
    if math.isinf(timeout):
        return _nothing
    timer: asyncio.TimerHandle | None = None

    def expire() -> None:
        if not tls_sock.destroyed and not tls_sock._secure_established:
            tls_sock.destroy(ConnectionAbortedError(
                f"SSL handshake is taking longer than {timeout} seconds: "
                f"aborting the connection"))

    def arm(*_: Any) -> None:
        nonlocal timer
        timer = loop.call_later(timeout, expire)

    def disarm() -> None:
        tls_sock.remove_listener("connect", arm)
        if timer is not None:
            timer.cancel()

    if tls_sock.connecting:
        tls_sock.once("connect", arm)
    else:
        arm()
    return disarm


def _nothing() -> None:
    """The disarm of no timer."""
