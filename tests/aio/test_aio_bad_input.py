"""nodetls.aio under bad input: the same outcome as asyncio's own SSL transport (exceptions,
exception-handler reports, connection_lost), the server keeps serving, nothing leaks."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import socket
import ssl
import weakref

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


def client_hello() -> bytes:
    """A ClientHello, as Python's ``ssl`` sends it."""
    out = ssl.MemoryBIO()
    obj = ssl.create_default_context().wrap_bio(ssl.MemoryBIO(), out, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return out.read()


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
        data = client_hello()
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


try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop is a dependency where it exists
    uvloop = None

LOOPS = {"asyncio": asyncio.new_event_loop,
         "uvloop": uvloop.new_event_loop if uvloop is not None else None}


@pytest.fixture(params=sorted(LOOPS))
def loop_factory(request):
    """Each event loop in turn: asyncio's own and uvloop (``nodetls.run``'s default)."""
    factory = LOOPS[request.param]
    if factory is None:
        pytest.skip("uvloop is not installed")
    return factory


#: What each connection of the leak test does, by ``i % len(KINDS)``.
KINDS = (
    "close",          # echo, then close(): close_notify both ways
    "abort",          # echo, then the client aborts
    "rst",            # echo, then the client aborts with SO_LINGER 0: the server reads ECONNRESET
    "untrusted",      # the client rejects the server's certificate: its alert fails the server
    "not-tls",        # a plain TCP peer sends an HTTP request: the server's handshake fails
    "half-hello",     # a plain TCP peer sends half a ClientHello and closes (FIN)
    "half-hello-rst",  # ... and resets
    "server-close",   # the server's protocol closes in connection_made (ALPN "close")
    "server-abort",   # the server's protocol aborts in connection_made (ALPN "abort")
    "cancelled",      # the client is cancelled while the server's SNICallback holds the handshake
)
#: The kinds whose connection reaches the server's protocol.
PROTOCOL_KINDS = ("close", "abort", "rst", "server-close", "server-abort")


def test_thousands_of_connections_leave_nothing_alive(certs, loop_factory):
    """2,000 connections through the bridge on each loop, every way a connection can end (clean
    closes, aborts, resets, failed handshakes, peers leaving mid-handshake, a protocol closing
    or aborting as it is made, a client cancelled mid-handshake): afterwards no TLS engine, no
    socket, transport or TLS socket of either side, and no file descriptor is left. The counts
    are exact, so a per-connection leak on one path shows at once.

    The descriptors are counted from when the server listens: libuv (under uvloop) opens its
    spare descriptor for running out of them (``loop->emfile_fd``, ``/dev/null``) with a
    loop's first stream, and keeps it until the loop is closed; counted from before, it looked
    like a leaked socket on uvloop."""
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(asyncio.wait_for(_many_connections(certs, 2000), 50))


async def _many_connections(certs, n: int) -> None:
    loop = asyncio.get_running_loop()
    reports: list[dict] = []
    loop.set_exception_handler(lambda _loop, ctx: reports.append(ctx))
    alive: list[weakref.ref] = []  # every transport and TLS socket, both sides
    expected_lost = sum(1 for i in range(n) if KINDS[i % len(KINDS)] in PROTOCOL_KINDS)
    lost: list = []
    all_lost = loop.create_future()
    held: dict[str, object] = {}  # servername -> the SNICallback's callback, not answered
    sni_called: dict[str, asyncio.Future] = {}

    class P(Echo):
        def connection_made(self, transport):
            super().connection_made(transport)
            alive.append(weakref.ref(transport))
            alive.append(weakref.ref(transport.get_extra_info("tls_socket")))
            how = transport.get_extra_info("alpn_protocol")
            if how == "close":
                transport.write(b"bye")
                transport.close()
            elif how == "abort":
                transport.abort()

        def connection_lost(self, exc):
            lost.append(exc)
            if len(lost) == expected_lost:
                all_lost.set_result(None)

    def sni(servername, callback):
        if servername.startswith("hold-"):
            held[servername] = callback
            sni_called[servername].set_result(None)
        else:
            callback(None, None)

    gc.collect()
    base_engines = live_engines()
    server = await aio.create_server(P, "127.0.0.1", 0, **server_opts(certs),
                                     alpn_protocols=["echo", "close", "abort"], sni_callback=sni)
    server.tls_server.on("tlsClientError", lambda err, sock: alive.append(weakref.ref(sock)))
    base_fds = open_fds() - len(server.sockets)  # (see the docstring: counted from here)
    port = server.sockets[0].getsockname()[1]
    ctx = create_secure_context({"ca": certs.server.ca_pem})
    untrusted = create_secure_context({})
    hello = client_hello()
    rst = b"\x01\x00\x00\x00\x00\x00\x00\x00"  # SO_LINGER on, 0 s: close() resets

    async def tls_client(alpn="echo", **opts):
        reader, writer = await aio.open_connection(
            "127.0.0.1", port, secure_context=ctx, servername="localhost",
            alpn_protocols=[alpn], **opts)
        alive.append(weakref.ref(writer.transport))
        alive.append(weakref.ref(writer.get_extra_info("tls_socket")))
        return reader, writer

    async def one(i: int) -> None:
        kind = KINDS[i % len(KINDS)]
        if kind in ("close", "abort", "rst"):
            reader, writer = await tls_client()
            writer.write(b"%d" % i)
            assert await reader.readexactly(len(b"%d" % i)) == b"%d" % i
            if kind == "close":
                writer.close()
                await writer.wait_closed()
                return
            if kind == "rst":
                writer.get_extra_info("socket").setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, rst)
            writer.transport.abort()
        elif kind == "untrusted":
            with pytest.raises(Exception, match="certificate"):
                await aio.open_connection("127.0.0.1", port, secure_context=untrusted,
                                          servername="localhost")
        elif kind in ("not-tls", "half-hello", "half-hello-rst"):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            if kind == "not-tls":
                writer.write(b"GET / HTTP/1.1\r\n\r\n")
                await reader.read()  # the server's alert, then its close
            else:
                writer.write(hello[:len(hello) // 2])
                await writer.drain()
                if kind == "half-hello-rst":
                    writer.get_extra_info("socket").setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, rst)
            writer.close()
            await writer.wait_closed()
        elif kind in ("server-close", "server-abort"):
            reader, writer = await tls_client(kind[len("server-"):])
            try:
                await reader.read()  # b"bye" or nothing, then the end
            except ConnectionError:
                pass  # the abort's RST may come first
            writer.close()
            await writer.wait_closed()
        else:  # cancelled mid-handshake
            name = f"hold-{i}.localhost"
            sni_called[name] = loop.create_future()
            task = asyncio.ensure_future(aio.open_connection(
                "127.0.0.1", port, secure_context=ctx, servername=name))
            await sni_called[name]  # the server holds the handshake in its SNICallback
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            if i % 2:  # the server answers after the client left, or never
                held.pop(name)(None, None)

    for start in range(0, n, 100):
        await asyncio.gather(*(one(i) for i in range(start, min(n, start + 100))))
    await all_lost
    server.close()
    await server.wait_closed()  # every server-side connection has closed
    assert len(lost) == expected_lost and not server._transports
    assert server.tls_server.connections == 0
    held.clear()  # the unanswered SNICallbacks' callbacks hold their sockets, as in Node
    gc.collect()
    assert [ref() for ref in alive if ref() is not None] == []
    assert live_engines() == base_engines
    assert open_fds() == base_fds
    assert [r["message"] for r in reports] == []


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
