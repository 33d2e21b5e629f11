"""net: echo over TCP/Unix, every listen() and connect() form, errors with Node's codes."""

from __future__ import annotations

import asyncio
import errno
import socket
from pathlib import Path
from typing import Any

import pytest

from nodetls import net
from nodetls.errors import NodeError

from .netutil import TIMEOUT, close_server, event, has_ipv6, read_all


async def echo_roundtrip(client: net.Socket, payload: bytes = b"hello over the wire") -> bytes:
    await asyncio.wait_for(client, TIMEOUT)
    client.end(payload)
    return await read_all(client)


async def test_echo_over_tcp_ipv4(echo_server: net.Server) -> None:
    port = echo_server.address()["port"]
    client = net.connect(port, "127.0.0.1")
    assert client.connecting and client.pending and client.ready_state == "opening"
    assert await echo_roundtrip(client) == b"hello over the wire"
    await asyncio.wait_for(client.wait_closed(), TIMEOUT)
    assert client.destroyed and client.ready_state == "closed"


@pytest.mark.skipif(not has_ipv6(), reason="no IPv6 loopback")
async def test_echo_over_tcp_ipv6() -> None:
    server = net.create_server(lambda s: s.pipe(s))
    await asyncio.wait_for(server.listen(0, "::1"), TIMEOUT)
    assert server.address()["family"] == "IPv6"
    client = net.connect({"port": server.address()["port"], "host": "::1"})
    assert await echo_roundtrip(client, b"six") == b"six"
    assert client.remote_family == "IPv6" and client.remote_address == "::1"
    await close_server(server)


async def test_echo_over_unix_socket_and_path_cleanup(tmp_path: Path) -> None:
    path = str(tmp_path / "echo.sock")
    server = net.create_server(lambda s: s.pipe(s))
    await asyncio.wait_for(server.listen(path), TIMEOUT)
    assert server.address() == path
    client = net.connect(path)
    assert await echo_roundtrip(client, b"unix") == b"unix"
    assert client.address() == {} and client.remote_address is None
    client2 = net.connect({"path": path})
    assert await echo_roundtrip(client2, b"options form") == b"options form"
    await close_server(server)
    assert not Path(path).exists()  # libuv unlinks the socket file on close


async def test_large_payload_echo_integrity(echo_server: net.Server) -> None:
    payload = bytes(range(256)) * 8192  # 2 MiB
    client = net.connect(echo_server.address()["port"], "127.0.0.1")
    await asyncio.wait_for(client, TIMEOUT)

    async def send() -> None:
        view = memoryview(payload)
        for i in range(0, len(payload), 65536):
            if not client.write(view[i : i + 65536]):
                await asyncio.wait_for(client.drain(), TIMEOUT)
        client.end()

    sender = asyncio.ensure_future(send())
    received = await read_all(client, 20)
    await sender
    assert received == payload
    assert client.bytes_written == len(payload) and client.bytes_read == len(payload)


# -- listen() forms ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((), {}),
        ((0,), {}),
        (("0",), {}),  # a numeric string is a port, as in Node
        ((0, "127.0.0.1"), {}),
        ((0, "127.0.0.1", 16), {}),
        (({"port": 0, "host": "127.0.0.1"},), {}),
        (({"port": 0, "host": "localhost", "backlog": 8},), {}),
        ((), {"port": 0, "host": "127.0.0.1", "backlog": 4}),
        ((), {"host": "127.0.0.1", "reuse_port": True}),
    ],
)
async def test_listen_forms(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    server = net.create_server(lambda s: s.end(b"hi"))
    listened: list[bool] = []
    result = server.listen(*args, lambda: listened.append(True), **kwargs)
    assert result is server
    assert await asyncio.wait_for(server, TIMEOUT) is server
    assert listened == [True] and server.listening
    addr = server.address()
    assert isinstance(addr, dict) and addr["port"] > 0 and addr["family"] in ("IPv4", "IPv6")
    host = "127.0.0.1" if addr["address"] in ("0.0.0.0", "::", "127.0.0.1") else addr["address"]
    client = net.connect(addr["port"], host)
    assert await read_all(client) == b"hi"
    await close_server(server)
    assert not server.listening and server.address() is None


async def test_listen_without_host_is_dual_stack_when_ipv6_works() -> None:
    server = net.create_server()
    await asyncio.wait_for(server.listen(0), TIMEOUT)
    addr = server.address()
    if has_ipv6():
        assert addr["address"] == "::" and addr["family"] == "IPv6"
        # dual-stack: an IPv4 client reaches it too
        client = net.connect(addr["port"], "127.0.0.1")
        conn = asyncio.ensure_future(event(server, "connection"))
        await asyncio.wait_for(client, TIMEOUT)
        (sock,) = await conn
        assert sock.remote_address in ("::ffff:127.0.0.1", "127.0.0.1")
        client.destroy()
        sock.destroy()
    else:
        assert addr["address"] == "0.0.0.0"
    await close_server(server)


async def test_listen_twice_raises_and_address_is_known_synchronously() -> None:
    server = net.create_server()
    server.listen(0)  # no host: bound in the call, before 'listening' (a host is looked up)
    assert server.listening and server.address()["port"] > 0
    with pytest.raises(NodeError) as info:
        server.listen(0)
    assert info.value.code == "ERR_SERVER_ALREADY_LISTEN"
    await asyncio.wait_for(server, TIMEOUT)
    await close_server(server)


async def test_listen_bad_port() -> None:
    server = net.create_server()
    with pytest.raises(ValueError) as info:
        server.listen(70000)
    assert info.value.code == "ERR_SOCKET_BAD_PORT"  # type: ignore[attr-defined]


async def test_eaddrinuse_is_raised_by_await_and_emitted_as_error() -> None:
    first = net.create_server()
    await asyncio.wait_for(first.listen(0, "127.0.0.1"), TIMEOUT)
    port = first.address()["port"]
    second = net.create_server()
    errors: list[BaseException] = []
    second.on("error", errors.append)
    with pytest.raises(OSError) as info:
        await asyncio.wait_for(second.listen(port, "127.0.0.1"), TIMEOUT)
    err: Any = info.value
    assert err.code == "EADDRINUSE" and err.syscall == "listen"
    assert err.address == "127.0.0.1" and err.port == port
    assert str(err) == f"listen EADDRINUSE: address already in use 127.0.0.1:{port}"
    await asyncio.sleep(0.01)
    assert errors == [err]
    assert not second.listening
    await close_server(first)


async def test_eaddrinuse_for_existing_unix_path(tmp_path: Path) -> None:
    path = str(tmp_path / "busy.sock")
    first = net.create_server()
    await asyncio.wait_for(first.listen(path), TIMEOUT)
    second = net.create_server()
    with pytest.raises(OSError) as info:
        await asyncio.wait_for(second.listen({"path": path}), TIMEOUT)
    assert info.value.code == "EADDRINUSE"  # type: ignore[attr-defined]
    await close_server(first)


# -- connect() forms ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "form",
    ["port", "port_host", "port_host_cb", "options", "options_cb", "node_names", "keywords",
     "socket_connect", "create_connection", "local_address"],
)
async def test_connect_forms(echo_server: net.Server, form: str) -> None:
    port = echo_server.address()["port"]
    connected: list[bool] = []

    def cb() -> None:
        connected.append(True)

    if form == "port":
        client = net.connect(port)  # host defaults to 'localhost'
    elif form == "port_host":
        client = net.connect(port, "127.0.0.1")
    elif form == "port_host_cb":
        client = net.connect(port, "127.0.0.1", cb)
    elif form == "options":
        client = net.connect({"port": port, "host": "127.0.0.1"})
    elif form == "options_cb":
        client = net.connect({"port": port, "host": "127.0.0.1"}, cb)
    elif form == "node_names":
        client = net.connect({"port": port, "host": "127.0.0.1", "allowHalfOpen": True,
                              "noDelay": True, "keepAlive": True, "keepAliveInitialDelay": 1})
        assert client.allow_half_open is True
    elif form == "keywords":
        client = net.connect(port=port, host="127.0.0.1", callback=cb, family=4)
    elif form == "socket_connect":
        client = net.Socket().connect(port, "127.0.0.1", cb)
    elif form == "create_connection":
        client = net.create_connection(port, "127.0.0.1", cb)
    else:
        client = net.connect({"port": port, "host": "127.0.0.1", "localAddress": "127.0.0.1"})
    assert await echo_roundtrip(client, form.encode()) == form.encode()
    if form.endswith("cb") or form in ("keywords", "socket_connect", "create_connection"):
        assert connected == [True]
    assert client.local_address == "127.0.0.1"


async def test_connect_rejects_unknown_options_with_closest_name() -> None:
    with pytest.raises(TypeError) as info:
        net.connect({"port": 1, "hostt": "127.0.0.1"})
    assert "host" in str(info.value)
    with pytest.raises(ValueError):
        net.connect(-1, "127.0.0.1")


async def test_lookup_event_for_host_names(echo_server: net.Server) -> None:
    client = net.connect(echo_server.address()["port"], "localhost")
    lookups: list[tuple[Any, ...]] = []
    client.on("lookup", lambda *a: lookups.append(a))
    await asyncio.wait_for(client, TIMEOUT)
    err, address, family, host = lookups[0]
    assert err is None and host == "localhost"
    assert (address, family) in (("127.0.0.1", 4), ("::1", 6))
    ip_client = net.connect(echo_server.address()["port"], "127.0.0.1")
    ip_client.on("lookup", lambda *a: lookups.append(a))
    await asyncio.wait_for(ip_client, TIMEOUT)
    assert len(lookups) == 1  # no lookup for an IP literal, as Node
    client.destroy()
    ip_client.destroy()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_econnrefused_has_node_code_and_fields_then_close_had_error() -> None:
    port = _closed_port()
    client = net.connect(port, "127.0.0.1")
    log: list[Any] = []
    client.on("error", lambda e: log.append(("error", e)))
    client.on("close", lambda had_error: log.append(("close", had_error)))
    with pytest.raises(ConnectionRefusedError) as info:
        await asyncio.wait_for(client, TIMEOUT)
    err: Any = info.value
    assert err.code == "ECONNREFUSED" and err.errno == errno.ECONNREFUSED
    assert err.address == "127.0.0.1" and err.port == port and err.syscall == "connect"
    assert str(err) == f"connect ECONNREFUSED 127.0.0.1:{port}"
    await asyncio.wait_for(client.wait_closed(), TIMEOUT)
    assert [e[0] for e in log] == ["error", "close"] and log[1][1] is True
    assert log[0][1] is err


async def test_connect_missing_unix_path_is_enoent(tmp_path: Path) -> None:
    client = net.connect(str(tmp_path / "nothing.sock"))
    with pytest.raises(OSError) as info:
        await asyncio.wait_for(client, TIMEOUT)
    assert info.value.code == "ENOENT"  # type: ignore[attr-defined]


async def test_unresolvable_host_is_enotfound() -> None:
    client = net.connect(80, "does-not-exist.invalid")
    with pytest.raises(OSError) as info:
        await asyncio.wait_for(client, TIMEOUT)
    assert info.value.code in ("ENOTFOUND", "EAI_AGAIN")  # type: ignore[attr-defined]


async def test_destroy_while_connecting_emits_close_without_connect() -> None:
    server = net.create_server()
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    client = net.connect(server.address()["port"], "localhost")
    log: list[Any] = []
    client.on("connect", lambda: log.append("connect"))
    client.on("close", lambda h: log.append(("close", h)))
    client.destroy()
    await asyncio.wait_for(client.wait_closed(), TIMEOUT)
    await asyncio.sleep(0.05)
    assert log == [("close", False)]
    await close_server(server)


async def test_write_and_end_before_connected(echo_server: net.Server) -> None:
    client = net.connect(echo_server.address()["port"], "127.0.0.1")
    assert client.write(b"early ") is True  # queued until 'connect', as Node
    client.end(b"bird")
    assert client.bytes_written == len(b"early bird")
    assert await read_all(client) == b"early bird"
