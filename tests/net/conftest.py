"""Fixtures for the net tests (loopback and Unix sockets only)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator

import pytest

from nodetls import net

from .netutil import TIMEOUT, close_server

_FD_DIR = "/proc/self/fd"


def _open_sockets() -> set[tuple[str, str]]:
    """The process's open socket descriptors, as (fd, ``socket:[inode]``) pairs."""
    found: set[tuple[str, str]] = set()
    for name in os.listdir(_FD_DIR):
        try:
            target = os.readlink(os.path.join(_FD_DIR, name))
        except OSError:  # (closed meanwhile, or this listing's own descriptor)
            continue
        if target.startswith("socket:"):
            found.add((name, target))
    return found


@pytest.fixture(autouse=True)
def _no_socket_left_open() -> Iterator[None]:
    """Each test closes every socket it opens, its server's accepted connections included: a
    socket still open once the test's loop has closed (this fixture is set up before the loop
    and torn down after it) is an error of that test. Left open, such a socket is closed by the
    garbage collector at some later point, with a ResourceWarning that a later test sees
    (where its ResourceWarnings are errors, it fails there, far from the cause). Linux only
    (the process's descriptor directory)."""
    if not os.path.isdir(_FD_DIR):
        yield
        return
    before = _open_sockets()
    yield
    left = sorted(_open_sockets() - before)
    if left:
        pytest.fail(f"sockets left open by this test: {left}", pytrace=False)


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
