"""Helpers for the net tests (loopback and Unix sockets only)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from nodetls import net
from nodetls.events import once

TIMEOUT = 5.0


def has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


async def event(emitter: Any, name: str, timeout: float = TIMEOUT) -> tuple[Any, ...]:
    """Wait (bounded) for ``name``; raises if 'error' comes first."""
    return await asyncio.wait_for(once(emitter, name), timeout)


async def read_all(sock: Any, timeout: float = TIMEOUT) -> bytes:
    """Everything ``sock`` delivers until 'end'."""

    async def run() -> bytes:
        return b"".join([chunk async for chunk in sock])

    return await asyncio.wait_for(run(), timeout)


async def close_server(server: net.Server) -> None:
    if server.listening:
        await asyncio.wait_for(server.close(), TIMEOUT)
