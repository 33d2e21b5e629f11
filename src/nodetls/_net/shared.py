"""``server.listen(other_server)``: two ``net.Server`` objects on one listening socket, as
Node's ``listen(handle)`` takes the other server's very handle (``lib/net.js``: ``listen``
uses ``handle._handle``, and ``setupListenHandle`` makes the new server its owner).

What Node shows, and this module reproduces (the new server listens on a duplicate of the
descriptor, so the socket has two descriptors here where Node has one handle):

* every connection from then on is the new server's (``'connection'``); the first one stays
  ``listening`` and its ``address()`` is the same, but it accepts nothing any more (here its
  acceptor still runs and hands what it accepts to the new server);
* closing either closes the socket for both: the port refuses connections; the other server
  still says ``listening``, its ``address()`` raises ``address EBADF`` (Node's ``ErrnoException``
  from ``getsockname`` on the closed handle), it keeps nothing alive (:func:`nodetls.run` may
  return), and its ``close()`` works as usual (``'close'``, no error).
"""

from __future__ import annotations

import errno as _errno
from typing import TYPE_CHECKING, Any

from ..errors import SystemNodeError, system_error

if TYPE_CHECKING:
    from .server import Server

__all__ = ["ListenGroup", "join", "leave", "address_error"]


class ListenGroup:
    """The servers sharing one listening socket; :attr:`owner` gets every connection (the
    last to listen on it, Node's handle owner)."""

    __slots__ = ("servers", "owner")

    def __init__(self, first: Server) -> None:
        self.servers: list[Server] = [first]
        self.owner: Server = first


def join(server: Server, other: Server) -> None:
    """``server`` now listens on ``other``'s socket: it owns the connections from now on."""
    group: ListenGroup | None = other._group
    if group is None:
        group = other._group = ListenGroup(other)
    group.servers.append(server)
    group.owner = server
    server._group = group


def leave(server: Server) -> None:
    """``server`` closes its listening socket (``close()``): the others' close too, as the one
    handle Node shares is closed; they stay ``listening`` with a closed socket (see
    :func:`address_error`) and stop keeping :func:`nodetls.run` alive."""
    group: ListenGroup | None = server._group
    if group is None:
        return
    server._group = None
    for other in group.servers:
        if other is server or other._group is not group:
            continue
        other._group = None
        sock, pipe_name = other._sock, other._pipe_name
        other._close_listener()
        other._sock = sock  # (closed: listening stays True)
        other._pipe_name = pipe_name
        other._address_cache = None
    group.servers.clear()


def address_error() -> SystemNodeError:
    """Node's ``server.address()`` on a server whose shared handle another server closed:
    ``address EBADF`` (``code``, ``errno``, ``syscall``)."""
    return system_error("EBADF", "address EBADF", errno=_errno.EBADF, syscall="address")


def is_closed(sock: Any) -> bool:
    """A listening socket some other server of its group closed (``fileno()`` is -1)."""
    return bool(sock.fileno() == -1)
