"""Node's ``net`` module: TCP and Unix stream servers and sockets on asyncio.

``Server``, ``Socket``, ``create_server``, ``connect`` / ``create_connection``, ``is_ip``,
``is_ipv4``, ``is_ipv6``, as Node v20's ``net`` (snake_case names, durations in seconds).
"""

from __future__ import annotations

from . import _net
from ._net import (
    Server,
    Socket,
    create_connection,
    create_server,
    is_ip,
    is_ipv4,
    is_ipv6,
)

# Bound by attribute, not ``from ._net import connect``: for a type checker that name is the
# submodule ``_net/connect.py``, which would shadow the function.
connect = _net.connect

__all__ = [
    "Server",
    "Socket",
    "create_server",
    "connect",
    "create_connection",
    "is_ip",
    "is_ipv4",
    "is_ipv6",
]
