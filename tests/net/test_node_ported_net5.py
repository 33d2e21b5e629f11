"""A fifth batch of Node's own net tests (test/parallel/test-net-*.js), rewritten for nodetls.net.

Ports, by Node test name: better-error-messages-listen, connect-options-ipv6,
pipe-with-long-path, write-fully-async-buffer, write-fully-async-hex-string, response-size.

Every expectation was checked against node v20.20 running the same scenario (repro scripts in
/tmp/port29b/: p1.js, p3.js/p3.py, p4.js, p6.js/p6.py, wf.js). Tests marked
``xfail(strict=True)`` assert Node v20's behaviour where nodetls differs.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from nodetls import net

from .netutil import TIMEOUT, close_server, event, has_ipv6


def future() -> asyncio.Future[Any]:
    return asyncio.get_running_loop().create_future()


def settle(fut: asyncio.Future[Any], value: Any = None) -> None:
    if not fut.done():
        fut.set_result(value)


# Node: test-net-better-error-messages-listen
async def test_listen_error_names_the_address_port_and_syscall() -> None:
    # listen(1, '1.1.1.1') on a machine without that address: no 'listening' callback, one
    # 'error' EADDRNOTAVAIL whose address, port and syscall name the attempt, and the message
    # ends with address:port (node: "listen EADDRNOTAVAIL: address not available 1.1.1.1:1").
    server = net.create_server()
    log: list[str] = []
    failed = event(server, "error")
    server.listen(1, "1.1.1.1", lambda: log.append("listening"))
    (err,) = await failed
    assert (err.code, err.address, err.port, err.syscall) == ("EADDRNOTAVAIL", "1.1.1.1", 1, "listen")
    assert str(err) == "listen EADDRNOTAVAIL: address not available 1.1.1.1:1"
    assert log == [] and server.listening is False


# Node: test-net-connect-options-ipv6
@pytest.mark.skipif(not has_ipv6(), reason="no IPv6 loopback")
async def test_family_6_lookup_and_half_open_over_ipv6() -> None:
    # A half-open server on ::1 ends at once; the client connects to a made-up name with
    # family 6 and a lookup answering ::1: the lookup is asked with {family: 6, hints: 0}, the
    # client is connected over IPv6, gets 'end' and can still write (allow_half_open) after a
    # loop turn; its own end() then reaches the server, and the client closes without error.
    log: list[str] = []
    closed = future()

    def on_connection(sock: net.Socket) -> None:
        sock.resume()
        sock.on("end", lambda: log.append("server end"))
        sock.end()

    server = net.create_server({"allow_half_open": True}, on_connection)
    await asyncio.wait_for(server.listen(0, "::1"), TIMEOUT)
    loop = asyncio.get_running_loop()

    def lookup(host: str, opts: dict[str, Any], cb: Any) -> None:
        log.append(f"lookup {host} {sorted(opts.items())}")
        cb(None, "::1", opts["family"])

    def later() -> None:
        log.append(f"later writable={client.writable}")
        client.end()

    def on_end() -> None:
        log.append(f"client end writable={client.writable}")
        loop.call_soon(later)

    def on_connect() -> None:
        log.append(f"connect {client.remote_address} {client.remote_family}")
        client.resume()
        client.on("end", on_end)
        client.on("close", lambda had_error: (log.append(f"close {had_error}"), settle(closed)))

    client = net.connect({"host": "dummy", "port": server.address()["port"], "family": 6,
                          "allow_half_open": True, "lookup": lookup}, on_connect)
    try:
        await asyncio.wait_for(closed, TIMEOUT)
    finally:
        client.destroy()
        await close_server(server)
    assert log == ["lookup dummy [('family', 6), ('hints', 0)]", "connect ::1 IPv6",
                   "client end writable=True", "later writable=True", "server end",
                   "close False"]


# Node: test-net-pipe-with-long-path
async def test_long_unix_socket_path_is_an_error_not_truncated(tmp_path: Path) -> None:
    # Deliberate difference (README, "Where nodetls deliberately differs from Node v20"): a
    # Unix socket path longer than sun_path (108 bytes) is an 'error' on listen() and on
    # connect(). Node v20 (/tmp/port29b/p3.js, p4.js) silently truncates it to its first 107
    # bytes (libuv's uv_pipe_bind/uv_pipe_connect), listening on a file of another name.
    path = str(tmp_path / ("x" * 200 + ".sock"))
    got = future()
    server = net.create_server(lambda c: c.end(b"hi"))
    server.on("error", lambda e: settle(got, e))
    try:
        server.listen(path, lambda: settle(got, "listening"))
        err = await asyncio.wait_for(got, TIMEOUT)
        assert (err.code, err.syscall, err.address) == ("ENAMETOOLONG", "listen", path)
        assert str(err) == f"listen ENAMETOOLONG: file name too long {path}"
        assert not server.listening
        client = net.connect(path)
        failed = event(client, "error")
        (cerr,) = await failed
        assert (cerr.code, cerr.syscall, str(cerr)) == ("ENAMETOOLONG", "connect",
                                                       f"connect ENAMETOOLONG {path}")
        assert os.listdir(tmp_path) == []  # (no file of a truncated name left behind)
    finally:
        await close_server(server)


# Node: test-net-write-fully-async-buffer, test-net-write-fully-async-hex-string
@pytest.mark.parametrize("encoding", ["buffer", "hex"])
async def test_write_until_refused_then_again_on_each_drain(encoding: str) -> None:
    # Node's tests write 1 MB (a Buffer, or a hex string: 2 MB of text, 1 MB on the wire)
    # until write() returns false, then again at each 'drain', and check that nothing written
    # is lost (the buffer made inside write() for a hex string must live until it is sent).
    # Here 5 rounds, then end(): the server receives exactly what write() took, each round
    # ended with a refused write, and 'drain' came once per round (node: /tmp/port29b/wf.js).
    size = 1_000_000
    data: Any = bytes(range(256)) * (size // 256) + bytes(size % 256)
    args: tuple[Any, ...] = (data.hex(), "hex") if encoding == "hex" else (data,)
    received = [0]
    ended = future()

    def on_connection(conn: net.Socket) -> None:
        conn.on("data", lambda d: received.__setitem__(0, received[0] + len(d)))
        conn.on("end", lambda: settle(ended))

    server = net.create_server(on_connection)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    conn = net.create_connection(server.address()["port"], "127.0.0.1")
    counts = {"writes": 0, "refused": 0, "drains": 0}

    def write_loop() -> None:
        if counts["refused"] == 5:
            conn.end()
            return
        while True:
            counts["writes"] += 1
            if not conn.write(*args):
                counts["refused"] += 1
                return

    def on_drain() -> None:
        counts["drains"] += 1
        write_loop()

    conn.on("drain", on_drain)
    conn.on("connect", write_loop)
    try:
        await asyncio.wait_for(ended, TIMEOUT * 2)
    finally:
        conn.destroy()
        await close_server(server)
    assert counts["refused"] == 5 and counts["drains"] == 5
    assert received[0] == counts["writes"] * size


# Node: test-net-response-size (test/sequential)
async def test_a_large_response_written_at_once_arrives_whole() -> None:
    # A server answers each connection with one write of N bytes and ends; the client's 'data'
    # chunks add up to N before its 'end' (N over the socket buffers: many chunks).
    n = 4 * 1024 * 1024
    body = b"y" * n
    server = net.create_server(lambda c: c.end(body))
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    client = net.connect(server.address()["port"], "127.0.0.1")
    chunks: list[int] = []
    client.on("data", lambda d: chunks.append(len(d)))
    ended = event(client, "end")
    try:
        await ended
    finally:
        client.destroy()
        await close_server(server)
    assert sum(chunks) == n and len(chunks) > 1
