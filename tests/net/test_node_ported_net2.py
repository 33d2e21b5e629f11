"""More scenarios of Node's own net tests (test/parallel/test-net-*.js), rewritten for nodetls.net.

Ports, by Node test name: better-error-messages-listen-path, better-error-messages-path,
binary, buffersize, bytes-written-large, connect-after-destroy, connect-options-allowhalfopen,
connect-options-path, isip, isipv4, isipv6, keepalive, large-string, listen-close-server-callback-
is-not-function, local-address-port, pingpong, pipe-connect-errors, server-close,
server-keepalive, server-listen-path, server-listen-remove-callback, server-nodelay,
socket-byteswritten, socket-destroy-send, socket-no-halfopen-enforcer, stream, sync-cork,
throttle, timeout-no-handle, write-slow; and the behaviours around them that a user of
nodetls.net meets (server.close() ordering and its ERR_SERVER_NOT_RUNNING callback,
getConnections, server.address() forms, pipe/unpipe between sockets, write/end callbacks after
destroy, setEncoding, pending/readyState, address() after close).

Every expectation was checked against node v20 running the same scenario. Tests marked
``xfail(strict=True)`` assert Node v20's behaviour where nodetls differs.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nodetls import net

from .netutil import TIMEOUT, close_server, event, has_ipv6, read_all


async def listening_server(handler: Any = None, options: dict[str, Any] | None = None,
                           host: str = "127.0.0.1") -> tuple[net.Server, int]:
    server = net.create_server(options or {}, handler)
    await asyncio.wait_for(server.listen(0, host), TIMEOUT)
    return server, server.address()["port"]


async def closed(sock: net.Socket) -> None:
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)


#: Seconds an absence check gives an event that must not come (a late extra) to show up, once
#: every event that should come has come.
ABSENCE_WINDOW = 0.1

#: Seconds between two looks of ``poll_until()``.
POLL_INTERVAL = 0.01


async def poll_until(predicate: Any, timeout: float = TIMEOUT) -> None:
    """A bounded wait for a state that no event marks (bytes entering a paused socket's buffer:
    a 'readable' listener would switch the stream's mode); every other wait is on its event."""

    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(POLL_INTERVAL)

    await asyncio.wait_for(poll(), timeout)


def future() -> asyncio.Future[Any]:
    return asyncio.get_running_loop().create_future()


def resolve(fut: asyncio.Future[Any], value: Any = None) -> None:
    if not fut.done():
        fut.set_result(value)


async def accepted_pair(options: dict[str, Any] | None = None
                        ) -> tuple[net.Server, net.Socket, net.Socket]:
    """A listening server (with ``options``) and a client connected to it: (server, client, the
    server's accepted socket), once both ends are connected."""
    got = future()
    server, port = await listening_server(lambda s: resolve(got, s), options)
    client = net.connect(port, "127.0.0.1")
    await asyncio.wait_for(client, TIMEOUT)
    return server, client, await asyncio.wait_for(got, TIMEOUT)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A directory with a short path (Unix socket paths are limited to ~107 bytes)."""
    path = tempfile.mkdtemp(prefix="n2")  # (the suite's temporary directory: a short path)
    yield Path(path)
    shutil.rmtree(path, ignore_errors=True)


# -- server.close(): ordering, its callback, a callback that is not callable --------------------


# Node: test-net-server-close
async def test_close_inside_connection_then_destroying_both_sockets() -> None:
    log: list[Any] = []
    accepted: list[net.Socket] = []
    server = net.create_server()

    called_back = future()

    def on_connection(sock: net.Socket) -> None:
        sock.on("close", lambda had_error: log.append(("socket close", had_error)))
        accepted.append(sock)
        if len(accepted) == 2:
            server.close(lambda err=None: (log.append(("close callback", err)),
                                           resolve(called_back)))
            log.append(("listening", server.listening))
            for s in accepted:
                s.destroy()

    server.on("connection", on_connection)
    server_closed = event(server, "close")
    server.on("close", lambda: log.append("server close"))
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    port = server.address()["port"]
    clients = [net.connect(port, "127.0.0.1"), net.connect(port, "127.0.0.1")]
    for c in clients:
        c.resume()
    await server_closed
    await asyncio.wait_for(called_back, TIMEOUT)
    for sock in accepted:
        await closed(sock)
    for c in clients:
        await closed(c)
    # Node: the server's 'close' (and its callback) come before the last sockets' 'close'.
    assert log == [("listening", False), "server close", ("close callback", None),
                   ("socket close", False), ("socket close", False)]


# Node: lib/net.js Server.prototype.close (a server that never listened)
async def test_close_of_a_server_not_running_emits_close_then_calls_back_the_error() -> None:
    server = net.create_server()
    log: list[Any] = []
    server.on("close", lambda: log.append("close event"))
    done = server.close(lambda err=None: log.append(err))
    with pytest.raises(Exception) as info:
        await asyncio.wait_for(done, TIMEOUT)
    assert info.value.code == "ERR_SERVER_NOT_RUNNING"  # type: ignore[attr-defined]
    assert str(info.value) == "Server is not running."
    assert log[0] == "close event" and log[1] is info.value


# Node: test-net-listen-close-server-callback-is-not-function
async def test_close_with_a_callback_that_is_not_callable_is_ignored() -> None:
    loop = asyncio.get_running_loop()
    reported: list[Any] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, ctx: reported.append(ctx))
    try:
        server = net.create_server()
        listening: list[bool] = []
        errors: list[BaseException] = []
        server.on("error", errors.append)
        server_closed = event(server, "close")
        server.listen(0, "127.0.0.1", lambda: listening.append(True))
        server.close("bad argument")  # type: ignore[arg-type]
        await server_closed
        # Absence window: no late 'listening' (or listen callback, or 'error'), and nothing
        # reported to the loop for the ignored callback, after 'close'.
        await asyncio.sleep(ABSENCE_WINDOW)
        assert listening == [] and not server.listening
        assert errors == [] and reported == []
    finally:
        loop.set_exception_handler(previous)


# Node: test-net-server-listen-remove-callback
async def test_listen_callback_runs_once_and_the_server_listens_again_from_close() -> None:
    server = net.create_server()
    log: list[Any] = []
    second_close = future()

    def first_listening() -> None:
        log.append("listening 1")
        server.close()

    def second_listening() -> None:
        log.append("listening 2")
        server.close(lambda err=None: resolve(second_close, err))

    def first_close() -> None:
        log.append(("close 1", len(server.listeners("listening"))))
        server.listen(0, "127.0.0.1", second_listening)

    server.once("close", first_close)
    server.listen(0, "127.0.0.1", first_listening)
    assert await asyncio.wait_for(second_close, TIMEOUT) is None
    assert log == ["listening 1", ("close 1", 0), "listening 2"]
    assert server.listeners("listening") == []


# -- server.address() and getConnections -------------------------------------------------------


# Node: net docs for server.address(), test-net-server-listen-path (address of a pipe)
async def test_server_address_in_each_state_and_family(short_dir: Path) -> None:
    server = net.create_server()
    assert server.address() is None  # never listened
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    info = server.address()
    assert set(info) == {"address", "family", "port"}
    assert info["address"] == "127.0.0.1" and info["family"] == "IPv4" and info["port"] > 0
    await close_server(server)
    assert server.address() is None  # closed

    if has_ipv6():
        v6 = net.create_server()
        await asyncio.wait_for(v6.listen(0, "::1"), TIMEOUT)
        assert v6.address()["address"] == "::1" and v6.address()["family"] == "IPv6"
        await close_server(v6)

    path = str(short_dir / "a.sock")
    unix = net.create_server()
    await asyncio.wait_for(unix.listen(path), TIMEOUT)
    assert unix.address() == path  # a pipe's address is its path
    assert stat.S_ISSOCK(os.stat(path).st_mode)
    await close_server(unix)
    assert unix.address() is None and not os.path.exists(path)  # removed on close (libuv)


# Node: test-net-pingpong (getConnections inside 'connection'), net docs for getConnections
async def test_get_connections_counts_open_connections_and_calls_back_later() -> None:
    accepted: list[net.Socket] = []
    both = future()

    def on_connection(sock: net.Socket) -> None:
        accepted.append(sock)
        if len(accepted) == 2:
            resolve(both)

    server, port = await listening_server(on_connection)
    clients = [net.connect(port, "127.0.0.1"), net.connect(port, "127.0.0.1")]
    await asyncio.wait_for(both, TIMEOUT)
    called = future()
    called_inline = [True]
    server.get_connections(lambda err, n: resolve(called, (err, n, called_inline[0])))
    called_inline[0] = False
    assert await asyncio.wait_for(called, TIMEOUT) == (None, 2, False)  # asynchronous, as Node's

    clients[0].destroy()
    await closed(accepted[0])
    assert await asyncio.wait_for(server.get_connections(), TIMEOUT) == 1
    clients[1].destroy()
    await closed(accepted[1])
    await close_server(server)
    counted = future()
    server.get_connections(lambda err, n: resolve(counted, (err, n)))
    assert await asyncio.wait_for(counted, TIMEOUT) == (None, 0)


# -- listening on a Unix socket path ----------------------------------------------------------


# Node: test-net-server-listen-path (readableAll / writableAll)
async def test_listen_path_readable_all_and_writable_all_open_the_mode(short_dir: Path) -> None:
    plain_path, open_path = str(short_dir / "p.sock"), str(short_dir / "o.sock")
    plain = net.create_server()
    await asyncio.wait_for(plain.listen(plain_path), TIMEOUT)
    opened = net.create_server()
    await asyncio.wait_for(opened.listen({"path": open_path, "readable_all": True,
                                          "writableAll": True}), TIMEOUT)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(plain_path).st_mode & 0o777 == 0o777 & ~umask
    mode = os.stat(open_path).st_mode
    assert mode & stat.S_IROTH and mode & stat.S_IWOTH and mode & stat.S_IRGRP
    await close_server(plain)
    await close_server(opened)


# Node: test-net-server-listen-path (a path in use is EADDRINUSE, 'listening' never comes)
async def test_listen_on_a_path_in_use_is_eaddrinuse_with_the_path(short_dir: Path) -> None:
    path = str(short_dir / "busy.sock")
    first = net.create_server()
    await asyncio.wait_for(first.listen({"path": path}), TIMEOUT)
    second = net.create_server()
    listening: list[bool] = []
    failed = event(second, "error")
    second.listen({"path": path, "writable_all": True}, lambda: listening.append(True))
    (err,) = await failed
    assert err.code == "EADDRINUSE" and err.syscall == "listen" and err.address == path
    assert str(err) == f"listen EADDRINUSE: address already in use {path}"
    assert listening == [] and not second.listening
    assert first.listening and os.path.exists(path)  # the first server is untouched
    await close_server(first)


# Node: test-net-better-error-messages-listen-path (libuv's uv_pipe_bind turns ENOENT into
# EACCES: "listen EACCES: permission denied /blah/fadfa", err.address = the path)
async def test_listen_on_a_path_in_a_missing_directory_is_eacces() -> None:
    path = "/nonexistent-n2-dir/sub/s.sock"
    server = net.create_server()
    listening: list[bool] = []
    failed = event(server, "error")
    server.listen(path, lambda: listening.append(True))
    (err,) = await failed
    assert err.address == path and err.syscall == "listen" and listening == []
    assert err.code == "EACCES"
    assert str(err) == f"listen EACCES: permission denied {path}"


# -- connecting to a Unix socket path ----------------------------------------------------------


# Node: test-net-better-error-messages-path
async def test_connect_to_a_missing_path_is_enoent_naming_the_path(short_dir: Path) -> None:
    path = str(short_dir / "absent")
    client = net.connect(path)
    connected: list[bool] = []
    client.on("connect", lambda: connected.append(True))
    (err,) = await event(client, "error")
    assert err.code == "ENOENT" and err.syscall == "connect" and err.address == path
    assert str(err) == f"connect ENOENT {path}"
    assert connected == []
    with pytest.raises(TypeError) as info:
        net.create_connection({"path": {}})
    assert info.value.code == "ERR_INVALID_ARG_TYPE"  # type: ignore[attr-defined]


# Node: test-net-pipe-connect-errors (the EACCES part needs a non-root user: not ported)
async def test_connect_to_a_regular_file_or_a_missing_relative_path(short_dir: Path) -> None:
    regular = short_dir / "0.txt"
    regular.write_text("")
    client = net.create_connection(str(regular))
    (err,) = await event(client, "error")
    assert err.code in ("ENOTSOCK", "ECONNREFUSED")  # Linux: ECONNREFUSED, as Node there
    assert str(err) == f"connect {err.code} {regular}"

    cwd = os.getcwd()
    os.chdir(short_dir)
    try:
        relative = net.create_connection("no-ent-file")
        (err,) = await event(relative, "error")
    finally:
        os.chdir(cwd)
    assert err.code == "ENOENT" and err.address == "no-ent-file"
    assert str(err) == "connect ENOENT no-ent-file"


# Node: test-net-connect-options-path (every form reaches the Unix socket)
@pytest.mark.parametrize("form", ["connect", "connect_event", "create_connection",
                                  "socket_connect", "options", "options_event",
                                  "create_connection_options", "socket_connect_options"])
async def test_connect_forms_to_a_unix_path(short_dir: Path, form: str) -> None:
    path = str(short_dir / "s.sock")
    server = net.create_server(lambda s: s.end(b"ok"))
    await asyncio.wait_for(server.listen(path), TIMEOUT)
    connected = future()

    def on_connect() -> None:
        resolve(connected, True)

    make = {
        "connect": lambda: net.connect(path, on_connect),
        "connect_event": lambda: net.connect(path).on("connect", on_connect),
        "create_connection": lambda: net.create_connection(path, on_connect),
        "socket_connect": lambda: net.Socket().connect(path, on_connect),
        "options": lambda: net.connect({"path": path}, on_connect),
        "options_event": lambda: net.connect({"path": path}).on("connect", on_connect),
        "create_connection_options": lambda: net.create_connection({"path": path}, on_connect),
        "socket_connect_options": lambda: net.Socket().connect({"path": path}, on_connect),
    }[form]
    client = make()  # (.on() returns the socket too)
    assert isinstance(client, net.Socket)
    assert await asyncio.wait_for(connected, TIMEOUT) is True
    assert await read_all(client) == b"ok"
    assert client.remote_address is None and client.address() == {}
    await closed(client)
    await close_server(server)


# -- ping-pong with half-open sockets over TCP and Unix sockets ---------------------------------


# Node: test-net-pingpong
@pytest.mark.parametrize("where", ["unix", "ipv4", "ipv6"])
async def test_ping_pong_then_half_close_from_the_client(where: str, short_dir: Path) -> None:
    if where == "ipv6" and not has_ipv6():
        pytest.skip("no IPv6 loopback")
    rounds = 50
    server_log: list[Any] = []
    pongs_sent = [0]
    server = net.create_server({"allowHalfOpen": True})
    server_closed = event(server, "close")

    def on_connection(sock: net.Socket) -> None:
        server_log.append(("server", sock.server is server))
        server.get_connections(lambda err, n: server_log.append(("connections", err, n)))
        sock.set_encoding("utf8")

        def on_data(text: str) -> None:
            assert text == "PING"
            assert sock.readable and sock.writable
            sock.write("PONG", None, lambda err=None: pongs_sent.__setitem__(0, pongs_sent[0] + 1))

        def on_end() -> None:
            # allowHalfOpen: still writable after the peer's FIN, no longer readable
            server_log.append(("end", sock.allow_half_open, sock.writable, sock.readable,
                               sock.ready_state))
            sock.end()

        def on_close(had_error: bool) -> None:
            server_log.append(("close", had_error, sock.writable, sock.readable,
                               sock.ready_state))
            server.close()

        sock.on("data", on_data)
        sock.on("end", on_end)
        sock.on("close", on_close)

    server.on("connection", on_connection)
    if where == "unix":
        target: Any = str(short_dir / "pp.sock")
        await asyncio.wait_for(server.listen(target), TIMEOUT)
        client = net.create_connection(target)
    else:
        host = "127.0.0.1" if where == "ipv4" else "::1"
        await asyncio.wait_for(server.listen(0, host), TIMEOUT)
        client = net.create_connection(server.address()["port"], host)

    client.set_encoding("ascii")
    client_log: list[Any] = []
    count = [0]
    final_sent = [False]

    def on_connect() -> None:
        client_log.append(("connect", client.readable, client.writable))
        client.write("PING")

    def on_client_data(text: str) -> None:
        assert text == "PONG"
        count[0] += 1
        if final_sent[0]:
            client_log.append(("after final", client.writable, client.readable))
            return
        assert client.writable and client.readable
        client.write("PING")
        if count[0] == rounds:
            final_sent[0] = True
            client.end()

    client.on("connect", on_connect)
    client.on("data", on_client_data)
    client_errors: list[BaseException] = []
    client.on("error", client_errors.append)
    await closed(client)
    await server_closed
    assert count[0] == rounds + 1 and pongs_sent[0] == rounds + 1 and client_errors == []
    assert client_log == [("connect", True, True), ("after final", False, True)]
    assert server_log == [("server", True), ("connections", None, 1),
                          ("end", True, True, False, "writeOnly"),
                          ("close", False, False, False, "closed")]


# Node: test-net-connect-options-allowhalfopen (each way of making the client)
@pytest.mark.parametrize("form", ["connect", "connect_event", "create_connection",
                                  "create_connection_event", "socket", "socket_event"])
async def test_half_open_clients_stay_writable_after_the_servers_end(form: str) -> None:
    got = future()

    def on_connection(sock: net.Socket) -> None:
        sock.on("data", lambda data: resolve(got, data))
        sock.end()  # the server's FIN first

    server, port = await listening_server(on_connection, {"allowHalfOpen": True})
    opts = {"allowHalfOpen": True, "host": "127.0.0.1", "port": port}
    connected = future()
    make = {
        "connect": lambda: net.connect(opts, lambda: resolve(connected)),
        "connect_event": lambda: net.connect(opts).on("connect", lambda: resolve(connected)),
        "create_connection": lambda: net.create_connection(opts, lambda: resolve(connected)),
        "create_connection_event": lambda: net.create_connection(opts).on(
            "connect", lambda: resolve(connected)),
        "socket": lambda: net.Socket({"allowHalfOpen": True}).connect(
            port, "127.0.0.1", lambda: resolve(connected)),
        "socket_event": lambda: net.Socket({"allowHalfOpen": True}).connect(
            {"port": port, "host": "127.0.0.1"}).on("connect", lambda: resolve(connected)),
    }[form]
    client = make()
    await asyncio.wait_for(connected, TIMEOUT)
    assert await read_all(client) == b""
    assert not client.readable and client.writable and client.allow_half_open
    assert client.write(form.encode()) is True
    client.end()
    assert await asyncio.wait_for(got, TIMEOUT) == form.encode()
    await closed(client)
    await close_server(server)


# Node: test-net-connect-options-allowhalfopen (`new net.Socket(opts).connect(opts)`: one
# options object for both; each ignores the options it does not use)
async def test_socket_constructor_takes_the_connect_options_too() -> None:
    server, port = await listening_server(lambda s: s.end())
    try:
        opts = {"allowHalfOpen": True, "host": "127.0.0.1", "port": port}
        client = net.Socket(opts).connect(opts)
        assert client.allow_half_open
        assert await read_all(client) == b""
        client.end()
        await closed(client)
    finally:
        await close_server(server)


# -- socket state --------------------------------------------------------------------------------


# Node: net docs for socket.pending / socket.readyState; socket.address() after close
async def test_pending_and_ready_state_through_a_half_open_life() -> None:
    got = future()
    server, port = await listening_server(lambda s: resolve(got, s), {"allowHalfOpen": True})
    client = net.Socket({"allowHalfOpen": True})
    # Node: a fresh socket is 'open' (readable and writable, not connecting), yet pending
    assert (client.pending, client.ready_state, client.connecting) == (True, "open", False)
    assert client.address() == {}
    client.connect(port, "127.0.0.1")
    assert (client.pending, client.ready_state, client.connecting) == (True, "opening", True)
    await asyncio.wait_for(client, TIMEOUT)
    assert (client.pending, client.ready_state, client.connecting) == (False, "open", False)
    before = client.address()
    assert before["port"] == client.local_port
    client.end()
    assert client.ready_state == "readOnly"
    peer = await asyncio.wait_for(got, TIMEOUT)
    peer_ended = event(peer, "end")  # (paused until resume(): the 'end' cannot have come yet)
    peer.resume()
    await peer_ended
    assert peer.ready_state == "writeOnly" and peer.pending is False
    client.resume()
    peer.end()
    await closed(client)
    assert (client.pending, client.ready_state, client.destroyed) == (True, "closed", True)
    assert client.address() == {}  # Node: no handle, no address
    await closed(peer)
    await close_server(server)


# Node: test-net-local-address-port
async def test_accepted_socket_local_address_is_the_servers() -> None:
    server, client, sock = await accepted_pair()
    info = server.address()
    assert (sock.local_address, sock.local_port, sock.local_family) == (
        info["address"], info["port"], info["family"])
    assert (sock.remote_address, sock.remote_port) == ("127.0.0.1", client.local_port)
    client.destroy()
    await closed(sock)
    await close_server(server)


# Node: test-net-socket-no-halfopen-enforcer
async def test_socket_has_a_single_end_listener_of_its_own() -> None:
    for allow in (False, True):
        assert net.Socket({"allowHalfOpen": allow}).listener_count("end") == 1


# Node: test-net-timeout-no-handle
async def test_timeout_fires_on_a_socket_that_never_connected() -> None:
    sock = net.Socket()
    log: list[Any] = []
    sock.on("connect", lambda: log.append("connect"))
    timed_out = event(sock, "timeout")
    sock.set_timeout(0.03)
    await timed_out
    assert (sock.destroyed, sock.pending, sock.ready_state) == (False, True, "open")
    assert log == []
    sock.destroy()


# Node: test-net-keepalive, test-net-persistent-nodelay (on an accepted socket)
async def test_keep_alive_and_no_delay_on_an_accepted_socket() -> None:
    server, client, sock = await accepted_pair()
    raw = sock._handle.get_extra_info("socket")
    assert sock.set_keep_alive(True, 2) is sock
    assert raw.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    assert raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 2
    assert sock.set_no_delay() is sock  # no argument: on
    assert raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    sock.set_no_delay(False)
    assert raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
    sock.set_keep_alive(False)
    assert raw.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0
    # Absence window: setting the options must close neither end (no event would say so).
    await asyncio.sleep(ABSENCE_WINDOW)
    assert sock.ready_state == "open" and client.ready_state == "open"  # nothing closed them
    client.end()
    sock.end()
    await closed(client)
    await closed(sock)
    await close_server(server)


# Node: test-net-server-keepalive, test-net-server-nodelay (the server's options reach every
# accepted socket; keepAliveInitialDelay in seconds here)
async def test_server_keep_alive_and_no_delay_options_reach_accepted_sockets() -> None:
    server, client, sock = await accepted_pair(
        {"keepAlive": True, "keep_alive_initial_delay": 3, "noDelay": True})
    raw = sock._handle.get_extra_info("socket")
    assert raw.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    assert raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 3
    assert raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    client.destroy()
    await closed(sock)
    await close_server(server)


# -- writes: callbacks, byte counts, backpressure ----------------------------------------------


# Node: test-net-socket-destroy-send
async def test_write_after_destroy_fails_its_callback_without_an_error_event() -> None:
    server, port = await listening_server()
    client = net.connect(port, "127.0.0.1")
    await asyncio.wait_for(client, TIMEOUT)
    assert client.destroy().destroy() is client
    errors: list[BaseException] = []
    client.on("error", errors.append)
    failed = future()
    assert client.write(b"kaboom", None, lambda err=None: resolve(failed, err)) is False
    err = await asyncio.wait_for(failed, TIMEOUT)
    assert err.code == "ERR_STREAM_DESTROYED"
    assert str(err) == "Cannot call write after a stream was destroyed"
    await closed(client)
    # Absence window: no 'error' after 'close' either.
    await asyncio.sleep(ABSENCE_WINDOW)
    assert errors == []
    await close_server(server)


# Node: lib/internal/streams/writable.js (end() on a destroyed stream)
async def test_end_after_destroy_fails_its_callback_and_returns_the_socket() -> None:
    server, port = await listening_server(lambda s: s.resume())
    client = net.connect(port, "127.0.0.1")
    await asyncio.wait_for(client, TIMEOUT)
    errors: list[BaseException] = []
    client.on("error", errors.append)
    client.destroy()
    failed = future()
    assert client.end(b"x", None, lambda err=None: resolve(failed, err)) is client
    err = await asyncio.wait_for(failed, TIMEOUT)
    assert err.code == "ERR_STREAM_DESTROYED"
    assert str(err) == "Cannot call write after a stream was destroyed"
    await closed(client)
    assert errors == []
    await close_server(server)


# Node: the write callback is a nextTick, 'close' waits for the handle to close
async def test_write_after_destroy_calls_back_before_close() -> None:
    server, port = await listening_server()
    client = net.connect(port, "127.0.0.1")
    await asyncio.wait_for(client, TIMEOUT)
    log: list[Any] = []
    called_back = future()
    client.on("close", lambda had_error: log.append("close"))
    client.destroy()
    client.write(b"kaboom", None, lambda err=None: (log.append(err.code), resolve(called_back)))
    await closed(client)
    await asyncio.wait_for(called_back, TIMEOUT)
    assert log == ["ERR_STREAM_DESTROYED", "close"]
    await close_server(server)


# Node: lib/internal/streams/writable.js (callbacks in order; end()'s before 'finish')
async def test_write_and_end_callbacks_in_order_when_written_while_connecting() -> None:
    server, port = await listening_server(lambda s: s.resume())
    client = net.connect(port, "127.0.0.1")
    log: list[str] = []
    client.on("connect", lambda: log.append("connect"))
    client.write("a", None, lambda err=None: log.append("write 1"))
    client.write("b", None, lambda err=None: log.append("write 2"))
    client.end("c", None, lambda err=None: log.append("end callback"))
    client.on("finish", lambda: log.append("finish"))
    client.on("close", lambda had_error: log.append("close"))
    client.resume()
    await closed(client)
    assert log == ["connect", "write 1", "write 2", "end callback", "finish", "close"]
    await close_server(server)


# Node: lib/net.js _writeGeneric (a write while connecting is sent from a 'connect' listener
# added then, so its callback runs before 'connect' listeners added later)
async def test_first_write_callback_precedes_a_later_connect_listener() -> None:
    server, port = await listening_server(lambda s: s.resume())
    client = net.connect(port, "127.0.0.1")
    log: list[str] = []
    client.write("a", None, lambda err=None: log.append("write 1"))
    client.write("b", None, lambda err=None: log.append("write 2"))
    client.on("connect", lambda: log.append("connect"))
    client.end()
    client.resume()
    await closed(client)
    assert log == ["write 1", "connect", "write 2"]
    await close_server(server)


# Node: test-net-socket-byteswritten
async def test_corked_writes_before_connect_count_as_written_at_once() -> None:
    server, port = await listening_server(lambda s: (s.resume(), s.end()))
    client = net.connect(port, "127.0.0.1")
    client.cork()
    client.write("one")
    client.write("twø".encode())
    client.uncork()
    assert client.bytes_written == 3 + 4
    at_connect: list[int] = []
    client.on("connect", lambda: at_connect.append(client.bytes_written))
    assert await read_all(client) == b""
    assert at_connect == [7] and client.bytes_written == 7
    await closed(client)
    await close_server(server)


# Node: test-net-buffersize (bufferSize is not in nodetls' API: writable_length)
async def test_writable_length_grows_while_connecting_and_is_zero_at_finish() -> None:
    server, port = await listening_server(lambda s: s.resume())
    client = net.connect(port, "127.0.0.1")
    lengths = []
    for _ in range(9):
        client.write("a")
        lengths.append(client.writable_length)
    assert lengths == list(range(1, 10))
    at_finish = future()
    client.on("finish", lambda: resolve(at_finish, client.writable_length))
    client.end()
    assert await asyncio.wait_for(at_finish, TIMEOUT) == 0
    client.destroy()
    await close_server(server)


# Node: test-net-bytes-written-large
@pytest.mark.parametrize("how", ["bytes", "str", "corked"])
async def test_bytes_written_counts_a_large_write_at_once(how: str) -> None:
    size = 10_000_000
    seen: list[Any] = []
    end_cb = future()

    def on_connection(sock: net.Socket) -> None:
        def done(err: Any = None) -> None:
            resolve(end_cb, (err, sock.bytes_written))

        if how == "bytes":
            sock.end(bytes(size), None, done)
            seen.append(sock.bytes_written)
        elif how == "str":
            sock.end("a" * size, None, done)
            seen.append(sock.bytes_written)
        else:
            sock.cork()
            sock.write("a" * size)
            seen.append(sock.bytes_written)
            sock.write(bytes(size))
            seen.append(sock.bytes_written)
            sock.end("", None, done)
            sock.uncork()

    server, port = await listening_server(on_connection)
    client = net.connect(port, "127.0.0.1")
    client.resume()
    await asyncio.wait_for(client.wait_closed(), 20)
    total = size * (2 if how == "corked" else 1)
    assert seen == ([size, 2 * size] if how == "corked" else [size])
    assert await asyncio.wait_for(end_cb, TIMEOUT) == (None, total)
    assert client.bytes_read == total
    await close_server(server)


# Node: test-net-sync-cork
async def test_small_corked_writes_never_report_backpressure() -> None:
    server, port = await listening_server(lambda s: s.resume())
    client = net.connect(port, "127.0.0.1")
    await asyncio.wait_for(client, TIMEOUT)
    results = []
    for _ in range(100):
        client.cork()
        client.write(b"aa")
        results.append(client.write(b"aa"))
        client.uncork()
    assert results == [True] * 100
    client.end()
    await closed(client)
    await close_server(server)


# Node: test-net-throttle
async def test_writes_past_the_high_water_mark_all_arrive_at_a_pausing_reader() -> None:
    body = b"C" * 1024
    written = future()

    def on_connection(sock: net.Socket) -> None:
        n = 1
        while sock.write(body):
            n += 1
            assert n < 100_000
        sock.write(body)  # throttled: still buffered, nothing lost
        sock.write(body)
        total = (n + 2) * len(body)
        assert 0 < sock.writable_length <= total and sock.writable_need_drain
        sock.end()
        resolve(written, total)

    server, port = await listening_server(on_connection)
    client = net.create_connection(port, "127.0.0.1")
    client.set_encoding("ascii")
    received = [0]
    pauses = [0]
    while_paused: list[int] = []
    loop = asyncio.get_running_loop()

    def on_data(text: str) -> None:
        received[0] += len(text)
        if not client.is_paused():
            client.pause()
            pauses[0] += 1
            seen = received[0]

            def resume() -> None:
                while_paused.append(received[0] - seen)  # nothing arrives while paused
                client.resume()

            # Node: setTimeout(resume, 100), a slow reader; no outcome depends on the delay.
            loop.call_later(0.01, resume)

    client.on("data", on_data)
    ended = event(client, "end", 20)
    await ended
    assert received[0] == await asyncio.wait_for(written, TIMEOUT)
    assert pauses[0] > 1 and set(while_paused) <= {0}
    await closed(client)
    await close_server(server)


# Node: test-net-write-slow
async def test_write_callbacks_all_run_for_a_slow_reader() -> None:
    size, count = 200_000, 10
    flushed: list[int] = []
    timeouts: list[bool] = []

    def on_connection(sock: net.Socket) -> None:
        sock.set_no_delay()
        sock.set_timeout(9.999)
        sock.on("timeout", lambda: timeouts.append(True))
        for i in range(count):
            def done(err: Any = None, i: int = i) -> None:
                assert err is None
                flushed.append(i)
                if len(flushed) == count:
                    sock.set_timeout(0)
            sock.write(b"a" * size, None, done)
        sock.end()

    server, port = await listening_server(on_connection)
    client = net.connect(port, "127.0.0.1")
    received = [0]
    loop = asyncio.get_running_loop()

    def on_data(data: bytes) -> None:
        received[0] += len(data)
        client.pause()
        # Node: setTimeout(resume, 20), a slow reader; no outcome depends on the delay.
        loop.call_later(0.002, client.resume)

    client.on("data", on_data)
    await event(client, "end", 20)
    assert received[0] == size * count
    assert flushed == list(range(count)) and timeouts == []
    await closed(client)
    await close_server(server)


async def peer_resets_while_we_write() -> list[Any]:
    """Node's test-net-stream scenario: the server writes ten 2 MB chunks and ends; the client
    reads its first chunk, pauses, and destroys the connection 20 ms later, while the server
    still writes. Returns what the server's socket saw, in order: ``("write", i, err)`` for
    each write callback, ``("error", code)``, ``("close", had_error)``."""
    log: list[Any] = []
    all_called = future()
    server_sock = future()

    def called_back(i: int, err: Any) -> None:
        log.append(("write", i, err))
        if sum(e[0] == "write" for e in log) == 10:
            resolve(all_called)

    def on_connection(sock: net.Socket) -> None:
        chunk = b"a" * 2_000_000
        for i in range(10):
            sock.write(chunk, None, lambda err=None, i=i: called_back(i, err))
        sock.end()
        sock.on("error", lambda err: log.append(("error", err.code)))
        sock.on("close", lambda had_error: log.append(("close", had_error)))
        resolve(server_sock, sock)

    server, port = await listening_server(on_connection)
    client = net.connect(port, "127.0.0.1")
    loop = asyncio.get_running_loop()

    def on_first_data(_: bytes) -> None:
        client.pause()
        # Node: setTimeout(() => conn.destroy(), 20). The server cannot have written its 20 MB
        # by then whatever the delay (the paused client reads nothing, the kernel buffers far
        # less), so the destroy always resets a connection it still writes to.
        loop.call_later(0.02, client.destroy)

    client.once("data", on_first_data)
    sock = await asyncio.wait_for(server_sock, TIMEOUT)
    await closed(sock)
    await asyncio.wait_for(all_called, TIMEOUT)
    await close_server(server)
    return log


# Node: test-net-stream (the peer goes away while we still have megabytes to write)
async def test_peer_destroying_while_we_write_is_one_error_then_close() -> None:
    events = await peer_resets_while_we_write()
    log = [e for e in events if e[0] != "write"]
    callbacks = [(e[1], e[2]) for e in events if e[0] == "write"]
    assert len(log) == 2 and log[0][0] == "error" and log[1] == ("close", True)
    assert log[0][1] in ("ECONNRESET", "EPIPE")
    assert sorted(i for i, _ in callbacks) == list(range(10))  # each exactly once
    assert any(err is not None for _, err in callbacks)


# Node: test-net-stream, seen through the write callbacks (Node: the write in flight when the
# handle closes calls back with no error, as a destroyed stream's do; the queued ones get the
# socket's error, after 'error' was emitted)
# (node v20.20, /tmp/netfix/s2.js: [write 0 null], error ECONNRESET, write 1 null, writes 2-9
# ECONNRESET, close true)
async def test_peer_reset_while_writing_write_callbacks_follow_the_error() -> None:
    log = [("write", e[1], e[2] and e[2].code) if e[0] == "write" else e
           for e in await peer_resets_while_we_write()]
    error_at = next(i for i, e in enumerate(log) if e[0] == "error")
    code = log[error_at][1]
    done = [e for e in log[:error_at] if e[0] == "write"]  # written before the reset
    assert all(e[2] is None for e in done)
    # after 'error': the write in flight with no error, then every buffered one with the error
    after = log[error_at + 1:]
    assert after[-1] == ("close", True)
    assert after[:-1] == [("write", len(done), None)] + [
        ("write", i, code) for i in range(len(done) + 1, 10)]


# -- encodings -----------------------------------------------------------------------------------


# Node: test-net-binary
async def test_latin1_round_trip_of_every_byte_value() -> None:
    text = "".join(chr(i) for i in range(255, -1, -1))

    def on_connection(sock: net.Socket) -> None:
        sock.set_encoding("latin1")
        sock.on("data", lambda chunk: sock.write(chunk, "latin1"))
        sock.on("end", lambda: sock.end())

    server, port = await listening_server(on_connection)
    client = net.create_connection({"port": port, "host": "127.0.0.1"})
    assert client.set_encoding("latin1") is client
    chunks: list[str] = []

    def on_data(chunk: str) -> None:
        chunks.append(chunk)
        if len("".join(chunks)) == len(text):
            client.end()

    client.on("data", on_data)
    client.write(text, "binary")  # Node's alias of latin1
    await closed(client)
    assert all(isinstance(c, str) for c in chunks)
    assert "".join(chunks) == text and client.readable_encoding == "latin1"
    await close_server(server)


# Node: test-net-large-string (multi-byte characters split across reads decode whole)
async def test_utf8_text_split_across_chunks_decodes_whole() -> None:
    text = "あ" * (40 * 1024)
    result = future()

    def on_connection(sock: net.Socket) -> None:
        pieces: list[str] = []
        sock.set_encoding("UTF-8")
        sock.on("data", pieces.append)
        sock.on("end", lambda: (resolve(result, pieces), sock.end()))

    server, port = await listening_server(on_connection)
    client = net.create_connection(port, "127.0.0.1")
    data = text.encode()
    await asyncio.wait_for(client, TIMEOUT)
    for start in range(0, len(data), 1001):  # 1001: never on a character boundary
        client.write(data[start:start + 1001])
        # A loop turn between writes (Node: setImmediate), so each is read on its own and
        # characters are split across reads; it waits for nothing.
        await asyncio.sleep(0)
    client.end()
    client.resume()
    pieces = await asyncio.wait_for(result, TIMEOUT)
    assert "".join(pieces) == text and "\ufffd" not in "".join(pieces)
    assert len(pieces) > 1
    await closed(client)
    await close_server(server)


# Node: net docs for socket.setEncoding (hex)
async def test_set_encoding_hex_delivers_hex_text() -> None:
    server, port = await listening_server(lambda s: s.end(bytes([0xE2, 0x82, 0xAC, 0x41])))
    client = net.connect(port, "127.0.0.1")
    assert client.set_encoding("hex") is client
    chunks: list[Any] = []
    client.on("data", chunks.append)
    await closed(client)
    assert chunks == ["e282ac41"]
    await closed(client)
    await close_server(server)


# -- pipe / unpipe between two sockets -----------------------------------------------------------


# Node: stream docs for pipe()/unpipe() applied to sockets (a proxy)
async def test_pipe_unpipe_and_pipe_again_between_sockets() -> None:
    upstream_data: list[bytes] = []
    upstream_end = future()
    waiting: list[tuple[bytes, asyncio.Future[Any]]] = []

    def upstream_has(total: bytes) -> asyncio.Future[Any]:
        """A future for the moment the upstream side has received ``total``."""
        fut = future()
        waiting.append((total, fut))
        return fut

    def on_upstream_data(chunk: bytes) -> None:
        upstream_data.append(chunk)
        for total, fut in waiting:
            if b"".join(upstream_data) == total:
                resolve(fut)

    def on_upstream(sock: net.Socket) -> None:
        sock.on("data", on_upstream_data)
        sock.on("end", lambda: resolve(upstream_end, True))

    upstream, up_port = await listening_server(on_upstream)
    incoming = future()
    proxy, proxy_port = await listening_server(lambda s: resolve(incoming, s))
    client = net.connect(proxy_port, "127.0.0.1")
    src = await asyncio.wait_for(incoming, TIMEOUT)
    dest = net.connect(up_port, "127.0.0.1")
    await asyncio.wait_for(dest, TIMEOUT)
    log: list[Any] = []
    dest.on("pipe", lambda s: log.append(("pipe", s is src)))
    dest.on("unpipe", lambda s: log.append(("unpipe", s is src)))

    assert src.pipe(dest) is dest
    got_one = upstream_has(b"one")
    client.write(b"one")
    await asyncio.wait_for(got_one, TIMEOUT)
    assert src.unpipe(dest) is src
    assert src.readable_flowing is False and src.is_paused()
    client.write(b"two")
    await poll_until(lambda: src.readable_length == 3)  # read, held back
    assert b"".join(upstream_data) == b"one"
    got_two = upstream_has(b"onetwo")
    src.pipe(dest)
    await asyncio.wait_for(got_two, TIMEOUT)
    client.end()  # the source's end ends the destination (end=True)
    assert await asyncio.wait_for(upstream_end, TIMEOUT) is True
    assert dest.writable_ended
    assert log == [("pipe", True), ("unpipe", True), ("pipe", True), ("unpipe", True)]
    for s in (client, src, dest):
        s.destroy()
    await close_server(proxy)
    await close_server(upstream)


# -- connect and destroy ---------------------------------------------------------------------------


# Node: test-net-connect-after-destroy (destroyed while the host name is being looked up)
async def test_destroy_while_looking_up_a_host_name_gives_only_close() -> None:
    client = net.create_connection(80, "localhost")
    log: list[str] = []
    for name in ("lookup", "connect", "error"):
        client.on(name, lambda *args, name=name: log.append(name))
    client.on("close", lambda had_error: log.append(f"close {had_error}"))
    client.destroy()
    await closed(client)
    # Absence window: no late 'lookup', 'connect' or 'error' after 'close'.
    await asyncio.sleep(ABSENCE_WINDOW)
    assert log == ["close False"]


# -- net.isIP / isIPv4 / isIPv6 ------------------------------------------------------------------


# (value, isIP) pairs checked with node v20's net.isIP; isIPv4/isIPv6 follow from isIP.
IP_CASES: list[tuple[Any, int]] = [
    ("10.0.0.1", 4), ("0.0.0.0", 4), ("255.255.255.255", 4), ("256.1.1.1", 0),
    ("10.0.0", 0), ("10.0.0.1.", 0), (".10.0.0.1", 0), ("10..0.1", 0), ("010.0.0.1", 0),
    ("10.0.0.01", 0), ("10.0.0.1 ", 0), (" 10.0.0.1", 0), ("0x0a.0.0.1", 0), ("10.1", 0),
    ("1000.0.0.1", 0), ("http://10.0.0.1", 0),
    ("::", 6), ("::2", 6), ("2::", 6), ("a:b:c:d:e:f:0:1", 6), ("A:B:C:D:E:F:0:1", 6),
    ("a:b:c:d:e:f:0::", 6), ("::b:c:d:e:f:0:1", 6), ("a:b:c:d:e:f:0:1:2", 0), ("a::b::c", 0),
    (":::", 0), ("a:", 0), (":a", 0), ("::a:", 0), ("abcde::", 0), ("0abcd::", 0),
    ("a:b:c:d:e:f:00000:1", 0), ("a:b:c:d:e:f:g:1", 0),
    ("::ffff:10.0.0.1", 6), ("a:b:c:d:e:f:10.0.0.1", 6), ("a:b:c:d:e:f:0:10.0.0.1", 0),
    ("::ffff:10.0.0.256", 0), ("::ffff:10.0.0", 0), ("10.0.0.1::", 0), ("::010.0.0.1", 0),
    ("fe80::a%eth0", 6), ("fe80::a%7", 6), ("fe80::a%eth0.5", 6), ("fe80::a%x-y:z", 6),
    ("fe80::a%", 0), ("10.0.0.1%eth0", 0), ("[::1]", 0), ("::1/128", 0),
    ("", 0), ("localhost", 0), ("0", 0), (None, 0), (123, 0), (True, 0), ({}, 0),
]


# Node: test-net-isip, test-net-isipv4, test-net-isipv6
@pytest.mark.parametrize(("value", "family"), IP_CASES,
                         ids=[repr(v) for v, _ in IP_CASES])
def test_is_ip_is_ipv4_is_ipv6(value: Any, family: int) -> None:
    assert net.is_ip(value) == family
    assert net.is_ipv4(value) is (family == 4)
    assert net.is_ipv6(value) is (family == 6)


# Node: test-net-isip ('fe80::2008%eth0@1' is not an IP): Node's zone id is [0-9a-zA-Z-.:]+
@pytest.mark.parametrize("value", ["fe80::a%eth0@1", "fe80::a%eth 0", "fe80::a%eth0/64",
                                   "fe80::a%a_b", "fe80::a%eth0%1"])
def test_is_ip_rejects_zone_ids_with_other_characters(value: str) -> None:
    assert net.is_ip(value) == 0 and net.is_ipv6(value) is False
