"""Node v20's own net tests not ported before (session 41), rewritten for ``nodetls.net``.
Each expectation is what node v20 printed for the same scenario (checked by running it); the
Node test each one ports (``test/parallel/<name>.js``) is named in its comment.

Ported before under another name: test-net-socket-connect-invalid-autoselectfamily
(test_node_ported_net7.py)."""

from __future__ import annotations

import asyncio

import pytest

from nodetls import net

from .netutil import TIMEOUT, close_server, event


async def test_remote_address_set_at_connect() -> None:
    # test-net-remote-address: right after connect() the socket is connecting and has no
    # remote address; at 'connect' it has one (node: 127.0.0.1, the server's port, IPv4); the
    # client's end() is answered by the server's, so the client sees 'end'
    server = net.create_server()
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, TIMEOUT)
    try:
        port = server.address()["port"]
        sock = net.connect({"port": port, "host": "127.0.0.1"})
        assert sock.connecting is True
        assert sock.remote_address is None
        await event(sock, "connect")
        assert (sock.remote_address, sock.remote_port, sock.remote_family) == (
            "127.0.0.1", port, "IPv4")
        ended = event(sock, "end")
        sock.end()
        await ended
    finally:
        await close_server(server)


async def test_write_string_with_buffer_encoding() -> None:
    # test-stream-base-typechecking: a connected socket's write('broken', 'buffer') throws
    # TypeError ERR_INVALID_ARG_TYPE 'Second argument must be a buffer' (node: the string
    # reaches the handle's writeBuffer, as net.Socket does not decode strings; a plain
    # Writable throws ERR_UNKNOWN_ENCODING instead)
    server = net.create_server()
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, TIMEOUT)
    sock = net.connect(server.address()["port"], "127.0.0.1")
    try:
        await event(sock, "connect")
        with pytest.raises(TypeError) as info:
            sock.write("broken", "buffer")
        assert info.value.code == "ERR_INVALID_ARG_TYPE"  # type: ignore[attr-defined]
        assert str(info.value) == "Second argument must be a buffer"
    finally:
        sock.destroy()
        await close_server(server)


async def test_write_string_with_buffer_encoding_after_end() -> None:
    # (the same, after end(): node v20 printed this) the write is refused as any write after
    # end(): False, its callback then 'error' with ERR_STREAM_WRITE_AFTER_END, then 'close';
    # nothing thrown
    server = net.create_server(lambda conn: conn.on("end", conn.end).resume())
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, TIMEOUT)
    sock = net.connect(server.address()["port"], "127.0.0.1")
    try:
        await event(sock, "connect")
        log: list[object] = []
        sock.on("error", lambda e: log.append(("error", e.code)))
        closed = asyncio.get_running_loop().create_future()
        sock.on("close", lambda _had_error: closed.set_result(None))
        sock.end()
        assert sock.write("x", "buffer", lambda e: log.append(("cb", e.code))) is False
        await asyncio.wait_for(closed, TIMEOUT)
        assert log == [("cb", "ERR_STREAM_WRITE_AFTER_END"), ("error", "ERR_STREAM_WRITE_AFTER_END")]
    finally:
        sock.destroy()
        await close_server(server)
