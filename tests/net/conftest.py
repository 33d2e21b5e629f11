"""Fixtures for the net tests (loopback and Unix sockets only; each test closes the sockets it
opens: tests/conftest.py's autouse check)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from nodetls import net

from .netutil import TIMEOUT, close_server


@pytest.fixture
async def echo_server() -> AsyncIterator[net.Server]:
    """A TCP echo server on 127.0.0.1 (each connection pipes into itself)."""
    sockets: list[net.Socket] = []

    def on_connection(sock: net.Socket) -> None:
        sockets.append(sock)
        sock.pipe(sock)

    server = net.create_server(on_connection)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    yield server
    for s in sockets:
        s.destroy()
    await close_server(server)


@pytest.fixture
async def port() -> AsyncIterator[int]:
    """The port of a TCP server on 127.0.0.1 that answers each connection with ``ok`` and
    ends it (a module may define its own ``port``, which wins)."""
    server = net.create_server(lambda c: (c.on("error", lambda e: None), c.end(b"ok")))
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    yield server.address()["port"]
    await close_server(server)
