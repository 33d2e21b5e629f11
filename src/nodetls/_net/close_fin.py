"""What the peer sees of Node's ``uv_close`` at once, under a transport that closes its socket
a loop step later (:meth:`nodetls._net.handle.TCPHandle.close`).

libuv closes the descriptor within ``uv_close``: the kernel sends the FIN then, or a RST when
data is unread, and resets what the peer sends afterwards. asyncio's and uvloop's transports
close the socket on the next loop step, so data the peer sends in between would be unread at
that close and turn its FIN into a RST. :func:`fin_now` sends the FIN within the call instead,
when nothing is unread (``shutdown(SHUT_WR)``; the socket's real close then resets what came
after it, as Node's closed socket).
"""

from __future__ import annotations

import fcntl
import socket
import termios
from asyncio.trsock import TransportSocket
from typing import Any

__all__ = ["fin_now"]

_FIONREAD = termios.FIONREAD
_NONE_UNREAD = bytes(4)  # FIONREAD's answer (an int) when nothing is unread


def fin_now(sock: Any, even_if_unread: bool = False) -> None:
    """Send our FIN on the transport socket ``sock`` now, unless data is unread in it (then
    the close resets the connection, as Node's) and not ``even_if_unread``. Errors (not
    connected any more) are ignored: there is nothing to send."""
    try:
        fd = sock.fileno()
        if fd < 0:
            return
        if not even_if_unread and fcntl.ioctl(fd, _FIONREAD, _NONE_UNREAD) != _NONE_UNREAD:
            return
        if type(sock) is TransportSocket:
            sock.shutdown(socket.SHUT_WR)
        else:  # (uvloop's pseudo-socket has no shutdown(): a socket object on its descriptor)
            raw = socket.socket(sock.family, sock.type, sock.proto, fd)
            try:
                raw.shutdown(socket.SHUT_WR)
            finally:
                raw.detach()
    except OSError:
        pass
