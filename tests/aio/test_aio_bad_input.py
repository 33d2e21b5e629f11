"""nodetls.aio under bad input: the same outcome as asyncio's own SSL transport (exceptions,
exception-handler reports, connection_lost), the server keeps serving, nothing leaks."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import socket
import ssl

import pytest

from nodetls import aio, create_secure_context
from nodetls._engine import live_engines

T = 10.0


def server_opts(certs):
    return dict(certs.server.options)


def client_opts(certs):
    return {"ca": certs.server.ca_pem, "servername": "localhost"}


def ssl_server_ctx(certs) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(certs.server.chain_path), str(certs.server.key_path))
    return ctx


@pytest.fixture
async def reports():
    """What reaches the loop's exception handler."""
    loop = asyncio.get_running_loop()
    seen: list[dict] = []
    loop.set_exception_handler(lambda _loop, ctx: seen.append(ctx))
    yield seen
    loop.set_exception_handler(None)


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport

    def data_received(self, data):
        self.t.write(data)


async def roundtrip(port, certs, payload=b"still serving"):
    reader, writer = await asyncio.wait_for(
        aio.open_connection("127.0.0.1", port, **client_opts(certs)), T)
    writer.write(payload)
    got = await asyncio.wait_for(reader.readexactly(len(payload)), T)
    writer.close()
    await asyncio.wait_for(writer.wait_closed(), T)
    return got


async def test_protocol_factory_raising(certs, reports):
    calls = []

    def factory():
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("factory failed")
        return Echo()

    async with await aio.create_server(factory, "127.0.0.1", 0, **server_opts(certs)) as server:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await aio.open_connection("127.0.0.1", port, **client_opts(certs))
        assert await asyncio.wait_for(reader.read(), T) == b""  # the server dropped it
        writer.close()
        assert reports and reports[0]["message"] == \
            "Error on transport creation for incoming connection"
        assert isinstance(reports[0]["exception"], ValueError)
        assert await roundtrip(port, certs) == b"still serving"


async def test_data_received_raising(certs, reports):
    lost = asyncio.get_running_loop().create_future()

    class Bad(Echo):
        def data_received(self, data):
            if data == b"boom":
                raise RuntimeError("bad protocol")
            super().data_received(data)

        def connection_lost(self, exc):
            if not lost.done():
                lost.set_result(exc)

    async with await aio.create_server(Bad, "127.0.0.1", 0, **server_opts(certs)) as server:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await aio.open_connection("127.0.0.1", port, **client_opts(certs))
        writer.write(b"boom")
        exc = await asyncio.wait_for(lost, T)
        assert isinstance(exc, RuntimeError) and str(exc) == "bad protocol"
        assert reports[0]["message"] == "Fatal error: protocol.data_received() call failed."
        assert reports[0]["exception"] is exc
        assert await asyncio.wait_for(reader.read(), T) == b""
        writer.close()
        assert await roundtrip(port, certs) == b"still serving"


async def _write_after_close(transport):
    transport.close()
    for _ in range(6):
        transport.write(b"late")  # no exception


async def test_write_after_close_is_ignored_as_asyncio_ssl(certs, caplog):
    # asyncio's own SSL transport first: the reference behaviour
    srv = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0, ssl=ssl_server_ctx(certs))
    async with srv:
        ctx = ssl.create_default_context(cafile=str(certs.server.ca_path))
        _, w = await asyncio.open_connection("127.0.0.1", srv.sockets[0].getsockname()[1],
                                             ssl=ctx, server_hostname="localhost")
        await _write_after_close(w.transport)
        srv.close()
    async with await aio.create_server(Echo, "127.0.0.1", 0, **server_opts(certs)) as server:
        port = server.sockets[0].getsockname()[1]
        _, writer = await aio.open_connection("127.0.0.1", port, **client_opts(certs))
        with caplog.at_level(logging.WARNING, logger="nodetls.aio"):
            await _write_after_close(writer.transport)
        assert "TLS connection is closed" in caplog.text
        await asyncio.wait_for(writer.wait_closed(), T)
        assert await roundtrip(port, certs) == b"still serving"


async def test_write_eof_twice_and_write_after_write_eof(certs):
    async with await aio.create_server(Echo, "127.0.0.1", 0, **server_opts(certs)) as server:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await aio.open_connection("127.0.0.1", port, **client_opts(certs))
        writer.write(b"x")
        writer.write_eof()
        writer.write_eof()
        with pytest.raises(RuntimeError, match="write_eof"):
            writer.write(b"y")
        assert await asyncio.wait_for(reader.read(), T) == b"x"
        writer.close()


async def test_client_closing_mid_handshake(certs, reports):
    """A peer that sends half a ClientHello and goes away: no protocol, no report, next client
    served."""
    made = []

    class P(Echo):
        def connection_made(self, transport):
            made.append(1)
            super().connection_made(transport)

    async with await aio.create_server(P, "127.0.0.1", 0, **server_opts(certs)) as server:
        port = server.sockets[0].getsockname()[1]
        hello = ssl.MemoryBIO()
        obj = ssl.create_default_context().wrap_bio(ssl.MemoryBIO(), hello,
                                                    server_hostname="localhost")
        with pytest.raises(ssl.SSLWantReadError):
            obj.do_handshake()
        data = hello.read()
        for cut in (0, 5, len(data) // 2):
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(data[:cut])
            w.close()
            await w.wait_closed()
        assert await roundtrip(port, certs) == b"still serving"
        assert made == [1]
        assert reports == []


async def test_cancelled_while_handshaking_closes_the_connection(certs):
    """A framework giving up mid-handshake (wait_for timeout): TimeoutError, socket closed."""
    accepted: asyncio.Future = asyncio.get_running_loop().create_future()

    async def silent(reader, writer):  # accepts TCP, never answers the ClientHello
        accepted.set_result(writer)
        await reader.read()
        accepted_closed.set_result(None)

    accepted_closed: asyncio.Future = asyncio.get_running_loop().create_future()
    plain = await asyncio.start_server(silent, "127.0.0.1", 0)
    async with plain:
        port = plain.sockets[0].getsockname()[1]
        base = live_engines()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(aio.open_connection("127.0.0.1", port, **client_opts(certs)),
                                   0.3)
        await asyncio.wait_for(accepted_closed, T)  # the server saw our side close
        (await accepted).close()
        for _ in range(100):
            if live_engines() <= base:
                break
            await asyncio.sleep(0.01)
        assert live_engines() <= base


async def test_connection_made_closing_at_once(certs):
    """A framework that closes the transport in connection_made (e.g. too many clients)."""
    class Refuse(asyncio.Protocol):
        def connection_made(self, transport):
            transport.write(b"busy\n")
            transport.close()

    async with await aio.create_server(Refuse, "127.0.0.1", 0, **server_opts(certs)) as server:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await aio.open_connection("127.0.0.1", port, **client_opts(certs))
        assert await asyncio.wait_for(reader.read(), T) == b"busy\n"
        writer.close()


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_hundreds_of_connections_leave_nothing_alive(certs):
    """600 connections through the bridge (streams and protocols, clean closes, aborts and
    peers vanishing): afterwards no TLS engine, transport, connection or fd is left.  The counts
    are exact, so a per-connection leak shows at once; 2,000 connections only cost CPU (54 s of
    the 60 s budget with two suites on 2 cores)."""
    n = 600
    gc.collect()
    base_engines, base_fds = live_engines(), open_fds()
    lost = []
    all_lost = asyncio.get_running_loop().create_future()

    class P(Echo):
        def connection_lost(self, exc):
            lost.append(exc)
            if len(lost) == n:
                all_lost.set_result(None)

    server = await aio.create_server(P, "127.0.0.1", 0, **server_opts(certs))
    port = server.sockets[0].getsockname()[1]
    copts = {"secure_context": create_secure_context({"ca": certs.server.ca_pem}),
             "servername": "localhost"}

    async def one(i):
        reader, writer = await aio.open_connection("127.0.0.1", port, **copts)
        writer.write(b"%d" % i)
        await reader.readexactly(len(b"%d" % i))
        if i % 3 == 0:
            writer.close()
            await writer.wait_closed()
        elif i % 3 == 1:
            writer.transport.abort()
        else:
            raw = writer.get_extra_info("socket")
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            writer.transport.abort()  # RST: the server sees ECONNRESET or EOF

    for start in range(0, n, 100):
        await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(start, start + 100))), 60)
    await asyncio.wait_for(all_lost, T)
    deadline = asyncio.get_running_loop().time() + T
    while server._transports and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)  # bounded wait: transports leave the set as they close
    assert len(lost) == n and not server._transports
    assert server.tls_server.connections == 0
    server.close()
    await asyncio.wait_for(server.wait_closed(), T)
    gc.collect()
    assert live_engines() == base_engines
    assert open_fds() <= base_fds


async def test_stream_reader_that_never_reads(certs):
    """asyncio streams: the client never reads; StreamReader pauses the transport at twice its
    limit, the TLS socket stops reading, the server's drain() blocks, memory stays bounded."""
    progress = {"sent": 0}
    blocked = asyncio.get_running_loop().create_future()

    async def flood(reader, writer):
        chunk = b"f" * 65536
        try:
            while progress["sent"] < 256 * 1024 * 1024:
                writer.write(chunk)
                progress["sent"] += len(chunk)
                try:
                    await asyncio.wait_for(writer.drain(), 0.5)
                except TimeoutError:
                    if not blocked.done():
                        blocked.set_result(progress["sent"])
                    await writer.drain()
        except (ConnectionError, OSError):
            pass
        writer.close()

    async with await aio.start_server(flood, "127.0.0.1", 0, **server_opts(certs)) as server:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await aio.open_connection("127.0.0.1", port, limit=65536,
                                                   **client_opts(certs))
        sent = await asyncio.wait_for(blocked, T)
        assert sent < 32 * 1024 * 1024  # kernel buffers + one window, not the 256 MiB
        assert len(reader._buffer) <= 2 * 65536 + 256 * 1024  # limit*2 + one engine batch
        assert not writer.transport.is_reading()
        writer.transport.abort()
        server.abort_clients()
