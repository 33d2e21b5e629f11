"""nodetls' ``net`` layer: asyncio transports behind Node-like handles.

``handle`` (the handle seam: :class:`TCPHandle`, :class:`DuplexHandle`), ``socket``
(:class:`Socket`), ``server`` (:class:`Server`), ``connect`` (argument forms and the connect
procedure), ``address`` (``is_ip``...). The public facade is :mod:`nodetls.net`.
"""

from __future__ import annotations

from typing import Any

from .._options import normalize
from .address import is_ip, is_ipv4, is_ipv6
from .args import normalize_connect_args
from .handle import DuplexHandle, TCPHandle
from .server import Server
from .socket import CONNECT_OPTIONS, SOCKET_OPTIONS, Socket

__all__ = [
    "Server", "Socket", "TCPHandle", "DuplexHandle", "create_server", "connect",
    "create_connection", "is_ip", "is_ipv4", "is_ipv6",
]


def create_server(options: Any = None, connection_listener: Any = None, **kwargs: Any) -> Server:
    """Node ``net.createServer([options][, connectionListener])``."""
    return Server(options, connection_listener, **kwargs)


def connect(*args: Any, **kwargs: Any) -> Socket:
    """Node ``net.connect()`` / ``net.createConnection()``: a new :class:`Socket`, connecting.

    Forms: ``connect(options, callback=None)``, ``connect(port, host='localhost', callback=None)``,
    ``connect(path, callback=None)`` (Unix); options as :meth:`Socket.connect` plus the
    :class:`Socket` options (``allow_half_open``...). ``callback`` is a ``'connect'`` listener.
    ``await net.connect(...)`` waits for ``'connect'``.
    """
    options, cb = normalize_connect_args(args, kwargs)
    opts = normalize(options, None, CONNECT_OPTIONS | SOCKET_OPTIONS, "options")
    sock_opts = {k: v for k, v in opts.items() if k in SOCKET_OPTIONS and k not in ("timeout",)}
    sock = Socket(sock_opts)
    return sock._connect(opts, cb)


create_connection = connect
