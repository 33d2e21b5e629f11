"""``connect()`` on a ``net.Socket`` whose first connect is still in progress.

Node v20 (checked with node v20.20.2: scratch script twice.js, twice2.js, twice_badarg.js in
session 32): the second call does not throw and returns the socket; its callback is added for
'connect' (before its arguments are checked: a bad port raises, and the first connect goes on and
calls both callbacks). It reuses the TCP handle that is already connecting: its
'connectionAttempt' comes, then libuv's ``uv_tcp_connect`` answers ``EALREADY`` and the socket is
destroyed with ``connect EALREADY 127.0.0.1:<port> - Local (127.0.0.1:<local port>)`` (``code``
'EALREADY', ``errno`` -114, ``syscall`` 'connect', ``address``/``port`` of the second call, no
``localAddress``/``localPort`` fields). Events: 'error' then 'close'(true); 'connect' never fires
and neither callback runs, though the kernel completes the first connection (the server sees it,
then its 'end'). A pipe: ``connect EISCONN <path>``, after 'connectionAttemptFailed'.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nodetls import net

from .netutil import TIMEOUT, close_server


async def test_second_connect_while_connecting_fails_with_ealready() -> None:
    """Node (twice.js): 'error' EALREADY naming the first connection's local address (the one
    the server sees), then 'close'(true); the server sees the connection, then its end."""
    server_saw: list[str] = []
    peer_ports: list[int] = []
    server_closed = asyncio.get_running_loop().create_future()

    def on_connection(conn: net.Socket) -> None:
        server_saw.append("connection")
        peer_ports.append(conn.remote_port)
        conn.on("end", lambda: (server_saw.append("end"), conn.end()))
        conn.on("close", lambda *_: server_closed.done() or server_closed.set_result(None))
        conn.resume()

    server = net.create_server(on_connection)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    port = server.address()["port"]
    sock = net.Socket()
    log: list[object] = []
    closed = asyncio.get_running_loop().create_future()
    sock.on("connect", lambda: log.append("connect"))
    sock.on("error", lambda e: log.append(("error", e)))
    sock.on("close", lambda had_error: (log.append(("close", had_error)),
                                        closed.done() or closed.set_result(None)))
    try:
        sock.connect(port, "127.0.0.1", lambda: log.append("cb1"))
        assert sock.connect(port, "127.0.0.1", lambda: log.append("cb2")) is sock
        assert sock.connecting and not sock.destroyed
        await asyncio.wait_for(closed, TIMEOUT)
        await asyncio.wait_for(server_closed, TIMEOUT)
    finally:
        sock.destroy()
        server.close()
    assert [e if isinstance(e, str) else e[0] for e in log] == ["error", "close"]
    err = log[0][1]  # type: ignore[index]
    assert log[1] == ("close", True)
    assert (err.code, err.syscall, err.address, err.port) == ("EALREADY", "connect",
                                                              "127.0.0.1", port)
    assert str(err) == f"connect EALREADY 127.0.0.1:{port} - Local (127.0.0.1:{peer_ports[0]})"
    assert getattr(err, "local_port", None) is None  # (Node's error has no localPort)
    assert sock.destroyed
    assert server_saw == ["connection", "end"]


async def test_second_connect_to_another_port_names_that_port() -> None:
    """Node (twice2.js 'otherport'): the error names the second call's address and port; both
    calls' 'connectionAttempt' come first, in order."""
    server = net.create_server(lambda c: c.resume())
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    port = server.address()["port"]
    other = port + 1 if port < 65535 else port - 1
    sock = net.Socket()
    log: list[object] = []
    closed = asyncio.get_running_loop().create_future()
    sock.on("connectionAttempt", lambda *a: log.append(("attempt", a[1])))
    sock.on("error", lambda e: log.append(("error", e.code, e.port, str(e))))
    sock.on("close", lambda h: (log.append(("close", h)), closed.set_result(None)))
    try:
        sock.connect(port, "127.0.0.1")
        sock.connect(other, "127.0.0.1")
        await asyncio.wait_for(closed, TIMEOUT)
    finally:
        sock.destroy()
        await close_server(server)  # (and the connection it accepted: its 'close' comes first)
    assert log[:2] == [("attempt", port), ("attempt", other)]
    assert log[2][:3] == ("error", "EALREADY", other)
    assert str(log[2][3]).startswith(f"connect EALREADY 127.0.0.1:{other} - Local (127.0.0.1:")
    assert log[3:] == [("close", True)]


async def test_second_connect_with_a_bad_port_raises_and_the_first_goes_on() -> None:
    """Node (twice_badarg.js): the callback is added before the port is checked, so the first
    connect's 'connect' runs both callbacks."""
    accepted: list[net.Socket] = []
    server = net.create_server(accepted.append)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    port = server.address()["port"]
    sock = net.Socket()
    log: list[str] = []
    connected = asyncio.get_running_loop().create_future()
    try:
        sock.connect(port, "127.0.0.1", lambda: log.append("cb1"))
        with pytest.raises(Exception) as info:
            sock.connect({"port": 70000}, lambda: log.append("cb2"))
        assert getattr(info.value, "code", None) == "ERR_SOCKET_BAD_PORT"
        assert sock.connecting
        sock.on("connect", lambda: connected.set_result(None))
        await asyncio.wait_for(connected, TIMEOUT)
        assert log == ["cb1", "cb2"] and sock.remote_port == port
    finally:
        sock.destroy()
        for s in accepted:
            s.destroy()
        server.close()


async def test_second_connect_to_a_pipe_fails_with_eisconn(tmp_path: Any) -> None:
    """Node (twice2.js 'pipe'): each call's 'connectionAttempt'(path, None, None), then the
    second's 'connectionAttemptFailed' with ``connect EISCONN <path>`` (no port), 'error',
    'close'(true); no 'connect'."""
    path = str(tmp_path / "s.sock")
    server = net.create_server(lambda c: c.resume())
    await asyncio.wait_for(server.listen(path), TIMEOUT)
    sock = net.Socket()
    log: list[object] = []
    closed = asyncio.get_running_loop().create_future()
    sock.on("connect", lambda: log.append("connect"))
    sock.on("connectionAttempt", lambda *a: log.append(("attempt", *a)))
    sock.on("connectionAttemptFailed", lambda *a: log.append(("failed", *a[:3], a[3].code)))
    sock.on("error", lambda e: log.append(("error", e.code, e.syscall, e.address,
                                           getattr(e, "port", None), str(e))))
    sock.on("close", lambda h: (log.append(("close", h)), closed.set_result(None)))
    try:
        sock.connect(path, lambda: log.append("cb1"))
        sock.connect(path, lambda: log.append("cb2"))
        await asyncio.wait_for(closed, TIMEOUT)
    finally:
        sock.destroy()
        # (Node's 'close' of the server comes after its accepted connection's: awaited, so that
        # connection sees the EOF and closes before the test's loop does, not left to the GC)
        await close_server(server)
    assert log == [("attempt", path, None, None), ("attempt", path, None, None),
                   ("failed", path, None, None, "EISCONN"),
                   ("error", "EISCONN", "connect", path, None, f"connect EISCONN {path}"),
                   ("close", True)]
