"""Server connections on asyncio's own loop are accepted and carried by ``_net/direct.py``
(uvloop's by uvloop): the server side's reads, buffered writes, half-close, abort, addresses and
accept bursts behave the same on both loops, with Node's order of events."""

from __future__ import annotations

import asyncio
import os
import resource
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import nodetls as tls
from nodetls import net
from nodetls._net import direct

from .netutil import TIMEOUT, close_server, event

LOOPS = ["asyncio", "uvloop"]


def _run(loop: str, main: Callable[[], Awaitable[Any]]) -> Any:
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    return tls.run(main, loop=loop)


async def _listen(server: net.Server) -> int:
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    return int(server.address()["port"])  # type: ignore[index]


@pytest.mark.parametrize("loop", LOOPS)
def test_large_write_with_backpressure_then_end_arrives_whole(loop: str) -> None:
    """The server writes 8 MiB honouring write() -> False / 'drain', then end(): the client
    reads every byte, in order, then EOF; the server's 'finish' comes before its 'close'."""
    chunk = bytes(range(256)) * 256  # 64 KiB
    count = 128

    async def main() -> None:
        order: list[str] = []
        done = asyncio.get_running_loop().create_future()
        saw_false = []

        def on_connection(sock: net.Socket) -> None:
            sock.on("finish", lambda: order.append("finish"))
            sock.on("close", lambda *_: (order.append("close"), done.set_result(None)))
            sent = 0

            def pump() -> None:
                nonlocal sent
                while sent < count:
                    sent += 1
                    if not sock.write(chunk):
                        saw_false.append(sent)
                        sock.once("drain", pump)
                        return
                sock.end()

            pump()

        server = net.create_server(on_connection)
        port = await _listen(server)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        got = await asyncio.wait_for(reader.read(-1), TIMEOUT)  # until EOF
        writer.close()
        await asyncio.wait_for(done, TIMEOUT)
        await close_server(server)
        assert got == chunk * count
        assert saw_false  # the transport's buffer did fill
        assert order == ["finish", "close"]

    _run(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
def test_pause_and_resume_while_writes_are_queued(loop: str) -> None:
    """Reading paused and resumed while the transport still holds unsent data (the socket is
    registered for writing too): every byte goes out, and what the client sends afterwards is
    read."""
    chunk = b"z" * 65536

    async def main() -> None:
        got = asyncio.get_running_loop().create_future()

        def on_connection(sock: net.Socket) -> None:
            while sock.write(chunk):
                pass
            sock.write(chunk)
            sock.pause()  # (stops reading with the writer registered)
            assert sock._handle.get_write_buffer_size()  # still queued in the transport
            sock.resume()  # (starts reading again, the writer still registered)
            sock.on("data", lambda d: got.done() or got.set_result((d, sock.bytes_written)))

        server = net.create_server(on_connection)
        port = await _listen(server)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        total = 0
        while total < 16 * 65536:  # the server wrote at least its high-water mark's worth
            total += len(await asyncio.wait_for(reader.read(1 << 20), TIMEOUT))
        writer.write(b"after")
        data, written = await asyncio.wait_for(got, TIMEOUT)
        assert data == b"after"
        while total < written:
            total += len(await asyncio.wait_for(reader.read(1 << 20), TIMEOUT))
        assert total == written
        writer.close()
        await close_server(server)

    _run(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
def test_destroy_with_unsent_data_closes_at_once(loop: str) -> None:
    """destroy() with megabytes queued drops them (Node's uv_close cancels pending writes):
    'close' follows without waiting for a client that never reads."""

    async def main() -> None:
        closed = asyncio.get_running_loop().create_future()

        def on_connection(sock: net.Socket) -> None:
            sock.on("close", lambda *_: closed.set_result(sock.destroyed))
            while sock.write(b"x" * 65536):
                pass
            sock.write(b"y" * (4 << 20))
            sock.destroy()

        server = net.create_server(on_connection)
        port = await _listen(server)
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(closed, TIMEOUT) is True
        writer.close()
        await close_server(server)

    _run(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
def test_a_burst_of_connections_is_served_with_their_addresses(loop: str) -> None:
    """Twenty clients connecting at once: every one gets its 'connection' (remote port = the
    client's own port, local address = the listening address) and its echo."""

    async def main() -> None:
        seen: dict[int, tuple[Any, Any, Any]] = {}

        def on_connection(sock: net.Socket) -> None:
            seen[sock.remote_port] = (sock.remote_address, sock.local_address, sock.local_port)
            sock.pipe(sock)

        server = net.create_server(on_connection)
        port = await _listen(server)

        async def client(i: int) -> int:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"ping %d" % i)
            assert await asyncio.wait_for(reader.readexactly(len(b"ping %d" % i)), TIMEOUT) \
                == b"ping %d" % i
            own_port = writer.get_extra_info("sockname")[1]
            writer.close()
            return int(own_port)

        ports = await asyncio.wait_for(asyncio.gather(*(client(i) for i in range(20))), TIMEOUT)
        await close_server(server)
        assert sorted(seen) == sorted(ports)
        assert set(seen.values()) == {("127.0.0.1", "127.0.0.1", port)}

    _run(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
def test_unix_socket_server(loop: str, tmp_path: Path) -> None:
    """A Unix socket server: data both ways, the client's end() reaches the server's 'end'."""
    path = str(tmp_path / "s.sock")

    async def main() -> None:
        got: list[bytes] = []

        def on_connection(sock: net.Socket) -> None:
            sock.on("data", got.append)
            sock.write(b"hello")

        server = net.create_server({"allow_half_open": True}, on_connection)
        await asyncio.wait_for(server.listen(path), TIMEOUT)
        accepted = event(server, "connection")
        reader, writer = await asyncio.open_unix_connection(path)
        (sock,) = await accepted
        assert await asyncio.wait_for(reader.readexactly(5), TIMEOUT) == b"hello"
        end = event(sock, "end")
        writer.write(b"world")
        writer.write_eof()
        await end
        assert b"".join(got) == b"world"
        sock.end(b"bye")
        assert await asyncio.wait_for(reader.read(-1), TIMEOUT) == b"bye"
        writer.close()
        await close_server(server)

    _run(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("how", ["end", "destroy_with_error"])
def test_closed_servers_last_connection_order_of_events(loop: str, how: str) -> None:
    """Node (checked with node v20): a client that connects and writes at once gives the server
    'connection' first, then 'data'; server.close() inside the 'connection' listener stops
    accepting but the connection is served. When it ends, the server's 'close' comes before
    the connection's (both are nextTicks of its _destroy, the socket's waits for its handle's
    close); destroyed with an error: the socket's 'error', the server's 'close', then the
    socket's 'close'(True)."""

    async def main() -> None:
        order: list[str] = []
        done = asyncio.get_running_loop().create_future()
        server: net.Server

        def on_data(sock: net.Socket, data: bytes) -> None:
            order.append("data")
            if how == "end":
                sock.end(data)
            else:
                sock.destroy(RuntimeError("boom"))
                order.append("destroyed")

        def on_connection(sock: net.Socket) -> None:
            order.append("connection")
            server.close(lambda *_: order.append("server close"))
            sock.on("data", lambda data: on_data(sock, data))
            sock.on("error", lambda err: order.append(f"error {err}"))
            sock.on("close", lambda had_error: (order.append(f"socket close {had_error}"),
                                                done.set_result(None)))

        server = net.create_server(on_connection)
        port = await _listen(server)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"early")
        if how == "end":
            writer.write_eof()
            assert await asyncio.wait_for(reader.read(-1), TIMEOUT) == b"early"
        await asyncio.wait_for(done, TIMEOUT)
        writer.close()
        if how == "end":
            assert order == ["connection", "data", "server close", "socket close False"]
        else:
            assert order == ["connection", "data", "destroyed", "error boom", "server close",
                             "socket close True"]

    _run(loop, main)


async def test_asyncio_loop_connections_use_the_direct_transport() -> None:
    """(The fast path is taken: on asyncio's loop an accepted connection's transport is
    ``direct.SocketTransport``, and the server accepts through ``direct.Acceptor``.)"""
    assert direct.is_selector_loop(asyncio.get_running_loop())
    server = net.create_server(lambda sock: sock.end())
    port = await _listen(server)
    accepted = event(server, "connection")
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    (sock,) = await accepted
    assert type(server._aserver) is direct.Acceptor
    assert type(sock._handle.transport) is direct.SocketTransport
    assert await asyncio.wait_for(reader.read(-1), TIMEOUT) == b""
    writer.close()
    await close_server(server)


async def test_out_of_descriptors_pauses_accepting_then_resumes() -> None:
    """EMFILE on accept (asyncio's rule): reported to the loop's exception handler, accepting
    pauses for a second, then the waiting connection is accepted and served."""
    loop = asyncio.get_running_loop()
    reports: list[dict[str, Any]] = []
    reported = loop.create_future()

    def handler(_loop: Any, context: dict[str, Any]) -> None:
        reports.append(context)
        if not reported.done():
            reported.set_result(None)

    server = net.create_server(lambda sock: sock.end(b"served"))
    port = await _listen(server)
    client = socket.socket()
    client.setblocking(False)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    fillers: list[int] = []
    old_handler = loop.get_exception_handler()
    loop.set_exception_handler(handler)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + 8, hard))
        try:
            while True:
                fillers.append(os.open(os.devnull, os.O_RDONLY))
        except OSError:
            pass
        accepted = event(server, "connection")
        try:
            client.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        await asyncio.wait_for(reported, TIMEOUT)
        for fd in fillers:
            os.close(fd)
        fillers.clear()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        await accepted
        data = await asyncio.wait_for(loop.sock_recv(client, 100), TIMEOUT)
        assert data == b"served"
    finally:
        for fd in fillers:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        loop.set_exception_handler(old_handler)
        client.close()
        await close_server(server)
    assert reports[0]["message"] == "socket.accept() out of system resource"
    assert isinstance(reports[0]["exception"], OSError)
