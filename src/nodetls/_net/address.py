"""IP address helpers: Node's ``net.isIP`` / ``isIPv4`` / ``isIPv6`` and address dicts."""

from __future__ import annotations

import re
import socket
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..types import AddressInfo

__all__ = ["is_ip", "is_ipv4", "is_ipv6", "family_name", "address_info"]


def is_ipv4(value: Any) -> bool:
    """Node ``net.isIPv4(input)``: dotted-quad without leading zeros."""
    if not isinstance(value, str):
        return False
    try:  # (inet_pton, like ipaddress, takes no leading zeros; one C call per connect)
        socket.inet_pton(socket.AF_INET, value)
    except (OSError, ValueError):
        return False
    return True


_ZONE = re.compile(r"[0-9a-zA-Z.:-]+")


def is_ipv6(value: Any) -> bool:
    """Node ``net.isIPv6(input)`` (a ``%zone`` suffix of ``[0-9a-zA-Z.:-]`` is allowed, as
    Node's pattern)."""
    if not isinstance(value, str) or ":" not in value:
        return False
    addr, _, zone = value.partition("%")
    if "%" in value and not _ZONE.fullmatch(zone):
        return False
    try:
        socket.inet_pton(socket.AF_INET6, addr)
    except (OSError, ValueError):
        return False
    return True


def is_ip(value: Any) -> int:
    """Node ``net.isIP(input)``: ``4``, ``6`` or ``0``."""
    if is_ipv4(value):
        return 4
    if is_ipv6(value):
        return 6
    return 0


def family_name(family: int) -> str | None:
    """``AF_INET`` -> ``'IPv4'``, ``AF_INET6`` -> ``'IPv6'`` (Node's ``family`` strings)."""
    if family == socket.AF_INET:
        return "IPv4"
    if family == socket.AF_INET6:
        return "IPv6"
    return None


def address_info(sockaddr: Any) -> AddressInfo:
    """A ``getsockname()``/``getpeername()`` tuple -> Node's ``{'address', 'family', 'port'}``
    (``{}`` for Unix sockets and unknown values)."""
    if isinstance(sockaddr, tuple) and len(sockaddr) >= 2:
        return {
            "address": sockaddr[0],
            "family": "IPv6" if len(sockaddr) == 4 else "IPv4",
            "port": sockaddr[1],
        }
    return {}
