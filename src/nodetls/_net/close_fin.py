"""Node's ``uv_close`` under a transport that closes its socket a loop step later
(:meth:`nodetls._net.handle.TCPHandle.close`).

libuv closes the descriptor within ``uv_close``: the kernel sends the FIN then (a RST when data
is unread, or with ``SO_LINGER`` 0), and resets what the peer sends afterwards, so a peer
writing in the same tick has its next write fail (``EPIPE``, ``ECONNRESET``). asyncio's and
uvloop's transports close the socket on the next loop step. :func:`close_now` closes the
connection within the call instead: ``dup2()`` puts a new, unconnected socket on the
descriptor's number, which releases the connection's socket at once (as a ``close()`` would),
while the number stays taken until the transport closes it, so no other file can get that
number in between (the transport's selector has already dropped it: ``close()``/``abort()``
come first; a registration of the old socket goes with it).
"""

from __future__ import annotations

import os
import socket
import struct
from asyncio.trsock import TransportSocket
from typing import Any

__all__ = ["close_now"]

_LINGER_0 = struct.pack("ii", 1, 0)


def close_now(sock: Any, fin_first: bool = False, reset: bool = False) -> None:
    """Close the connection of the transport socket ``sock`` now (module docstring), after a
    ``shutdown(SHUT_WR)`` with ``fin_first`` (our FIN goes out even with data unread, before
    the reset); with ``reset``, a RST as if data were unread (``SO_LINGER`` 0: data read into
    the handle but not delivered, which Node would have left in the kernel). Errors (the
    descriptor is gone already) are ignored: nothing to close."""
    try:
        fd = sock.fileno()
    except OSError:
        return
    if fd < 0:
        return
    if fin_first:
        try:
            if type(sock) is TransportSocket:
                sock.shutdown(socket.SHUT_WR)
            else:  # (uvloop's pseudo-socket has no shutdown(): a socket object on its fd)
                raw = socket.socket(sock.family, sock.type, sock.proto, fd)
                try:
                    raw.shutdown(socket.SHUT_WR)
                finally:
                    raw.detach()
        except OSError:
            pass  # (not connected any more: no FIN to send)
    try:
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_0)
        placeholder = socket.socket(sock.family, socket.SOCK_STREAM)
        try:
            os.dup2(placeholder.fileno(), fd, inheritable=False)
        finally:
            placeholder.close()
    except OSError:
        pass
