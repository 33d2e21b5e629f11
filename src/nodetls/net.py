"""Node's ``net`` module: TCP and Unix stream servers and sockets on asyncio.

``Server``, ``Socket`` (and its legacy alias ``Stream``), ``create_server``, ``connect`` /
``create_connection``, ``is_ip``, ``is_ipv4``, ``is_ipv6``, ``get_default_auto_select_family`` /
``set_...`` and the ``..._attempt_timeout`` pair, ``BlockList`` and ``SocketAddress``, as Node
v20's ``net`` (snake_case names, durations in seconds).
"""

from __future__ import annotations

from . import _net
from ._net import (
    BlockList,
    Server,
    Socket,
    SocketAddress,
    create_connection,
    create_server,
    get_default_auto_select_family,
    get_default_auto_select_family_attempt_timeout,
    is_ip,
    is_ipv4,
    is_ipv6,
    set_default_auto_select_family,
    set_default_auto_select_family_attempt_timeout,
)

# Bound by attribute, not ``from ._net import connect``: for a type checker that name is the
# submodule ``_net/connect.py``, which would shadow the function.
connect = _net.connect

#: Node's ``net.Stream``: the legacy name of ``net.Socket`` (the same class, ``lib/net.js``).
Stream = Socket

__all__ = [
    "Server",
    "Socket",
    "Stream",
    "create_server",
    "connect",
    "create_connection",
    "is_ip",
    "is_ipv4",
    "is_ipv6",
    "get_default_auto_select_family",
    "set_default_auto_select_family",
    "get_default_auto_select_family_attempt_timeout",
    "set_default_auto_select_family_attempt_timeout",
    "BlockList",
    "SocketAddress",
]
