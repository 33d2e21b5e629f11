"""nodetls' ``net`` layer: asyncio transports behind Node-like handles.

``handle`` (the handle seam: :class:`TCPHandle`), ``duplex_handle`` (:class:`DuplexHandle`),
``pipe_handle`` (``PipeHandle``: a pipe or FIFO descriptor), ``socket`` (:class:`Socket`),
``server`` (:class:`Server`), ``connect`` (argument forms and the connect procedure),
``address`` (``is_ip``...), ``blocklist`` (:class:`BlockList`, :class:`SocketAddress`). The
public facade is :mod:`nodetls.net`.
"""

from __future__ import annotations

from typing import Any

from .._options import normalize
from .address import is_ip, is_ipv4, is_ipv6
from .args import normalize_connect_args
from .autoselect import (
    get_default_auto_select_family,
    get_default_auto_select_family_attempt_timeout,
    set_default_auto_select_family,
    set_default_auto_select_family_attempt_timeout,
)
from .blocklist import BlockList, SocketAddress
from .duplex_handle import DuplexHandle
from .handle import TCPHandle
from .server import Server
from .socket import CONNECT_OPTIONS, SOCKET_OPTIONS, Socket, _Normalized

__all__ = [
    "Server", "Socket", "TCPHandle", "DuplexHandle", "create_server", "connect",
    "create_connection", "is_ip", "is_ipv4", "is_ipv6", "get_default_auto_select_family",
    "set_default_auto_select_family", "get_default_auto_select_family_attempt_timeout",
    "set_default_auto_select_family_attempt_timeout", "BlockList", "SocketAddress",
]


def create_server(options: Any = None, connection_listener: Any = None, **kwargs: Any) -> Server:
    """Node ``net.createServer([options][, connectionListener])``."""
    return Server(options, connection_listener, **kwargs)


def connect(*args: Any, **kwargs: Any) -> Socket:
    """Node ``net.connect()`` / ``net.createConnection()``: a new :class:`Socket`, connecting.

    Forms: ``connect(options, callback=None)``, ``connect(port, host='localhost', callback=None)``,
    ``connect(path, callback=None)`` (Unix); options as :meth:`Socket.connect` plus the
    :class:`Socket` options (``allow_half_open``...) and ``timeout`` (seconds: ``set_timeout``
    before connecting, as Node's; ``Socket()`` and ``socket.connect()`` ignore it, as Node's).
    ``callback`` is a ``'connect'`` listener.
    ``await net.connect(...)`` waits for ``'connect'``.
    """
    options, cb = normalize_connect_args(args, kwargs)
    opts = normalize(options, None, CONNECT_OPTIONS | SOCKET_OPTIONS, "options")
    sock_opts = {k: v for k, v in opts.items() if k in SOCKET_OPTIONS and k not in ("timeout",)}
    sock = Socket(_Normalized(sock_opts)) if sock_opts else Socket()
    if opts.get("timeout"):  # (Node's createConnection: the socket's constructor ignores it)
        sock.set_timeout(opts["timeout"])
    # (through Socket.connect, as Node's net.connect: a patched one is called; the options
    # marked as normalised are not normalised again)
    return sock.connect(_Normalized(opts), cb)


create_connection = connect
