"""``socket.set_keep_alive(True, delay)`` makes libuv's ``uv_tcp_keepalive`` calls (v1.46,
src/unix/tcp.c) and, as Node, ignores their error.

Node v20.20 under ``strace -e setsockopt`` (a script calling ``setKeepAlive(true, ms)`` on a
connected socket: never a throw): ``SO_KEEPALIVE`` 1, then ``TCP_KEEPIDLE`` = ``~~(ms / 1000)``
and, when the kernel took it, ``TCP_KEEPINTVL`` 1 and ``TCP_KEEPCNT`` 10; an idle time Linux
refuses (0, negative, above 32767 s) is EINVAL, and the rest is not set: keep-alive is on with
the idle time the socket had. nodetls raised OSError EINVAL for 40000 s and set 1 s for -5."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from nodetls import net

from .netutil import TIMEOUT, close_server, event

pytestmark = pytest.mark.skipif(not hasattr(socket, "TCP_KEEPIDLE"), reason="Linux options")


def _options(raw: socket.socket) -> tuple[int, int, int, int]:
    return (raw.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
            raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
            raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
            raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT))


async def _connected(options: dict[str, Any]) -> tuple[net.Server, net.Socket]:
    server = net.create_server(lambda s: s.resume())
    listening = event(server, "listening")
    server.listen(0, "127.0.0.1")
    await listening
    client = net.connect({"port": server.address()["port"], "host": "127.0.0.1", **options})
    await asyncio.wait_for(event(client, "connect"), TIMEOUT)
    return server, client


def _defaults() -> tuple[int, int, int, int]:
    with socket.socket() as fresh:
        return _options(fresh)


async def test_set_keep_alive_sets_idle_interval_and_count_as_libuv() -> None:
    server, client = await _connected({})
    raw = client._handle.get_extra_info("socket")
    try:
        client.set_keep_alive(True, 5)
        assert _options(raw) == (1, 5, 1, 10)
        client.set_keep_alive(True, 32767)  # (Linux's MAX_TCP_KEEPIDLE)
        assert _options(raw) == (1, 32767, 1, 10)
        client.set_keep_alive(False, 9)
        assert _options(raw) == (0, 32767, 1, 10)  # (off: only SO_KEEPALIVE)
    finally:
        client.destroy()
        await close_server(server)


@pytest.mark.parametrize("delay", [40000, 32768, -5, 0, 2**31 - 1, -(2**31)])
async def test_an_idle_time_linux_refuses_is_ignored(delay: int) -> None:
    server, client = await _connected({})
    raw = client._handle.get_extra_info("socket")
    try:
        client.set_keep_alive(True, 7)
        client.set_keep_alive(False)
        assert client.set_keep_alive(True, delay) is client  # Node: no throw
        assert _options(raw) == (1, 7, 1, 10)  # on, with the idle time it had
        assert not client.destroyed
    finally:
        client.destroy()
        await close_server(server)


async def test_a_refused_idle_time_on_a_fresh_socket_keeps_the_kernel_defaults() -> None:
    # (connect()'s keepAlive options: setKeepAlive(true, delay) once connected, as Node's
    # afterConnect)
    server, client = await _connected({"keep_alive": True, "keep_alive_initial_delay": 40000})
    raw = client._handle.get_extra_info("socket")
    try:
        assert not client.destroyed and client.ready_state == "open"
        assert _options(raw) == (1, *_defaults()[1:])
    finally:
        client.destroy()
        await close_server(server)
