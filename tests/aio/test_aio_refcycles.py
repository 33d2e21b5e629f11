"""The bridge leaves no reference cycle behind a closed connection: its transport and the
protocol are freed by reference counting alone (as asyncio's transports, which drop the protocol
after ``connection_lost``), so a busy server does not feed the cycle collector per connection."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import pytest

from nodetls import aio
from nodetls._tls.wrap import TLSWrap

T = 10.0


class Echo(asyncio.Protocol):
    def __init__(self, seen: list[weakref.ref[Any]], lost: asyncio.Future[None]) -> None:
        self.seen = seen
        self.lost = lost
        self.echoed: asyncio.Future[bytes] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport
        self.seen.append(weakref.ref(transport))
        self.seen.append(weakref.ref(self))

    def data_received(self, data: bytes) -> None:
        if self.echoed is None:
            self.transport.write(data)
        elif not self.echoed.done():
            self.echoed.set_result(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)


class BufferedEcho(Echo, asyncio.BufferedProtocol):
    """The same, reading into its own buffer (the wrap's ``buffered_reader`` path)."""

    buf = bytearray(100)

    def get_buffer(self, sizehint: int) -> bytearray:
        return self.buf

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(bytes(self.buf[:nbytes]))


@pytest.mark.parametrize("server_protocol", [Echo, BufferedEcho])
@pytest.mark.parametrize("client_protocol", [Echo, BufferedEcho])
async def test_closed_connection_is_freed_without_the_cycle_collector(
        certs: Any, client_protocol: type[Echo], server_protocol: type[Echo]) -> None:
    loop = asyncio.get_running_loop()
    server_seen: list[weakref.ref[Any]] = []
    client_seen: list[weakref.ref[Any]] = []
    server_lost: asyncio.Future[None] = loop.create_future()
    client_lost: asyncio.Future[None] = loop.create_future()
    server = await aio.create_server(lambda: server_protocol(server_seen, server_lost),
                                     "127.0.0.1", 0, **certs.server.options)
    port = server.sockets[0].getsockname()[1]
    gc.collect()
    gc.disable()
    try:
        t, p = await asyncio.wait_for(aio.create_connection(
            lambda: client_protocol(client_seen, client_lost), "127.0.0.1", port, ca=certs.server.ca_pem,
            servername="localhost"), T)
        assert isinstance(p, Echo)
        p.echoed = loop.create_future()
        t.write(b"ping")
        assert await asyncio.wait_for(p.echoed, T) == b"ping"
        t.close()
        del t, p
        await asyncio.wait_for(asyncio.gather(server_lost, client_lost), T)
        # connection_lost() has returned on both sides once the loop has run its callbacks.
        for _ in range(20):
            if not any(ref() is not None for ref in server_seen + client_seen):
                break
            await asyncio.sleep(0)
        alive = [type(ref()).__name__ for ref in server_seen + client_seen if ref() is not None]
        assert len(server_seen) == len(client_seen) == 2
        assert alive == []
    finally:
        gc.enable()
        server.close()
        await asyncio.wait_for(server.wait_closed(), T)


def live_wraps() -> int:
    """TLS wraps alive: counted, not weakly referenced (compiled with mypyc, a ``TLSWrap`` takes
    no weak reference; see docs/DESIGN.md)."""
    return sum(1 for obj in gc.get_objects() if type(obj) is TLSWrap)


async def test_failed_handshake_is_freed_without_the_cycle_collector(certs: Any) -> None:
    """A connection whose handshake fails never gets a transport: its socket (and the direct
    route its TCP handle carried from the accept) is freed by reference counting too."""
    loop = asyncio.get_running_loop()
    failed: asyncio.Future[Any] = loop.create_future()
    server = await aio.create_server(asyncio.Protocol, "127.0.0.1", 0, **certs.server.options)
    server.tls_server.on("tlsClientError", lambda err, sock: failed.done() or failed.set_result(
        (weakref.ref(sock), weakref.ref(sock._wrap.lower))))
    port = server.sockets[0].getsockname()[1]
    gc.collect()
    gc.disable()
    wraps = live_wraps()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\n\r\n")  # not a ClientHello
        refs = await asyncio.wait_for(failed, T)  # the socket and its TCP handle
        assert await asyncio.wait_for(reader.read(), T) is not None  # the server closed it
        writer.close()
        for _ in range(20):
            if all(ref() is None for ref in refs) and live_wraps() == wraps:
                break
            await asyncio.sleep(0)
        assert [type(ref()).__name__ for ref in refs if ref() is not None] == []
        assert live_wraps() == wraps  # its TLS wrap too
    finally:
        gc.enable()
        server.close()
        await asyncio.wait_for(server.wait_closed(), T)
