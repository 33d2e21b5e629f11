"""Node's ``net`` module: TCP and Unix stream servers and sockets on asyncio.

``Server``, ``Socket``, ``create_server``, ``connect`` / ``create_connection``, ``is_ip``,
``is_ipv4``, ``is_ipv6``, as Node v20's ``net`` (snake_case names, durations in seconds).
"""

from __future__ import annotations

from ._net import (
    Server,
    Socket,
    connect,
    create_connection,
    create_server,
    is_ip,
    is_ipv4,
    is_ipv6,
)

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
