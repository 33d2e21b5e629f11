"""A client's connect to an address (an IP literal: no lookup), on asyncio and on uvloop: Node's
error for a refused connection, the addresses once connected, and a destroy while connecting."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

import nodetls as tls
from nodetls import net

from .netutil import has_ipv6

LOOPS = ["asyncio", "uvloop"]
T = 10.0


def _run(loop: str, main: Any) -> Any:
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    return tls.run(main, loop=loop)


def _free_port(family: int, host: str) -> int:
    """A port nothing listens on (bound, not listening, then closed)."""
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
    return port


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_refused_connect_is_node_s_error(loop: str, host: str) -> None:
    if host == "::1" and not has_ipv6():
        pytest.skip("no IPv6 loopback")
    family = socket.AF_INET6 if host == "::1" else socket.AF_INET

    async def refused(sock: Any, port: int) -> None:
        got: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        closed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        lookups: list[Any] = []
        sock.on("lookup", lambda *a: lookups.append(a))
        sock.on("error", lambda e: got.done() or got.set_result(e))
        sock.on("close", lambda had_error: closed.set_result(had_error))
        err = await asyncio.wait_for(got, T)
        assert str(err) == f"connect ECONNREFUSED {host}:{port}"
        assert (err.code, err.syscall, err.address, err.port) == (
            "ECONNREFUSED", "connect", host, port)
        assert await asyncio.wait_for(closed, T) is True
        assert lookups == []  # an address is not looked up (Node: no 'lookup' event)

    async def main() -> None:
        port = _free_port(family, host)
        await refused(net.connect(port, host), port)
        await refused(tls.connect(port, host), port)

    _run(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_connect_to_an_address_then_addresses_and_echo(loop: str, host: str) -> None:
    if host == "::1" and not has_ipv6():
        pytest.skip("no IPv6 loopback")

    async def main() -> None:
        server = net.create_server(lambda s: s.pipe(s))
        server.listen(0, host)
        await asyncio.wait_for(server, T)
        port = server.address()["port"]
        try:
            sock = net.connect(port, host)
            await asyncio.wait_for(sock, T)
            assert sock.remote_address == host and sock.remote_port == port
            assert sock.remote_family == ("IPv6" if host == "::1" else "IPv4")
            assert sock.local_address == host and sock.local_port
            got: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
            sock.on("data", lambda d: got.done() or got.set_result(d))
            sock.write(b"hi")
            assert await asyncio.wait_for(got, T) == b"hi"
            sock.destroy()
        finally:
            server.close()

    _run(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
def test_destroy_while_connecting_closes_without_error(loop: str) -> None:
    async def main() -> None:
        server = net.create_server(lambda s: s.on("error", lambda _e: None))
        server.listen(0, "127.0.0.1")
        await asyncio.wait_for(server, T)
        port = server.address()["port"]
        try:
            sock = tls.connect(port, "127.0.0.1")
            errors: list[Any] = []
            closed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            sock.on("error", errors.append)
            sock.on("close", lambda had_error: closed.set_result(had_error))
            assert sock.connecting
            sock.destroy()
            assert await asyncio.wait_for(closed, T) is False and errors == []
        finally:
            server.close()

    _run(loop, main)
