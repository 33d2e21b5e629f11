"""Reading while the protocol is paused, as asyncio's and uvloop's SSL transports read: the TCP
socket is still read and its ciphertext kept (not decrypted) up to the read high-water mark
(``get_read_buffer_limits()``: 256 KiB), then the TCP reads stop, so memory stays bounded and
TCP flow control slows the peer down; ``resume_reading()`` delivers it all, in order. (The
peer's reset, close_notify and FIN while paused: the named cases of the differential test,
``paused_*`` in ``tests/aio/diff/cases.py``.) Node-style sockets keep Node's pause: the TCP
handle stops at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

import nodetls as tls
from nodetls import aio

from .diff.runner import new_loop

T = 10.0  # bound of every wait
HIGH = 256 * 1024  # asyncio's FLOW_CONTROL_HIGH_WATER_SSL_READ
READ = 256 * 1024  # one TCP read at most (the receive buffer's size, asyncio's SSL one's too)
PAYLOAD = bytes(range(256)) * (4 * 1024 * 1024 // 256)  # 4 MiB, more than any socket buffer


class Paused(asyncio.BufferedProtocol):
    """Pauses reading in connection_made; collects what comes (``BufferedProtocol`` or, with
    ``plain``, through ``data_received``)."""

    def __init__(self, plain: bool) -> None:
        loop = asyncio.get_running_loop()
        self.made: asyncio.Future[Any] = loop.create_future()
        self.lost: asyncio.Future[BaseException | None] = loop.create_future()
        self.got = bytearray()
        self.buf = bytearray(65536)
        self.full: asyncio.Future[None] = loop.create_future()
        if plain:
            self.data_received = self._data  # type: ignore[attr-defined]

    def connection_made(self, transport: Any) -> None:
        transport.pause_reading()
        self.made.set_result(transport)

    def _data(self, data: bytes) -> None:
        self._add(data)

    def get_buffer(self, sizehint: int) -> bytearray:
        return self.buf

    def buffer_updated(self, nbytes: int) -> None:
        self._add(self.buf[:nbytes])

    def _add(self, data: Any) -> None:
        self.got += data
        if len(self.got) >= len(PAYLOAD) and not self.full.done():
            self.full.set_result(None)

    def connection_lost(self, exc: BaseException | None) -> None:
        if not self.lost.done():
            self.lost.set_result(exc)


async def _until(cond: Any, what: str) -> None:
    """Wait (bounded) for ``cond()``: a state of the event loop's transports, not an event."""
    deadline = time.monotonic() + T
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.005)


def _client_ctx(certs: Any) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cadata=certs.server.ca_pem.decode())
    return ctx


@contextlib.asynccontextmanager
async def _paused_connection(certs: Any, plain: bool) -> AsyncIterator[tuple[Any, Any, Paused]]:
    """A ``nodetls.aio`` server whose protocol pauses reading at once, and an ``ssl`` client
    connected to it: ``(client transport, server transport, server protocol)``."""
    loop = asyncio.get_running_loop()
    protos: list[Paused] = []

    def factory() -> Paused:
        protos.append(Paused(plain))
        return protos[-1]

    server = await aio.create_server(factory, "127.0.0.1", 0, key=certs.server.key_pem,
                                     cert=certs.server.chain_pem)
    port = server.sockets[0].getsockname()[1]
    ct, _ = await asyncio.wait_for(loop.create_connection(
        asyncio.Protocol, "127.0.0.1", port, ssl=_client_ctx(certs),
        server_hostname="localhost"), T)
    try:
        await _until(lambda: protos, "the server's protocol")
        st = await asyncio.wait_for(protos[0].made, T)
        yield ct, st, protos[0]
    finally:
        ct.abort()
        server.close()
        server.abort_clients()
        await asyncio.wait_for(server.wait_closed(), T)


@pytest.mark.parametrize("plain", [True, False], ids=["Protocol", "BufferedProtocol"])
@pytest.mark.parametrize("loop_name", ["asyncio", "uvloop"])
def test_paused_reads_are_held_up_to_the_high_water_mark(
        certs: Any, loop_name: str, plain: bool) -> None:
    async def main() -> None:
        async with _paused_connection(certs, plain) as (ct, st, p):
            assert st.get_read_buffer_limits() == (HIGH // 4, HIGH)
            ct.write(PAYLOAD)
            tcp = st.get_extra_info("tls_socket")._handle.lower.transport
            # The TCP socket is read while paused, until the bound: then its reads stop.
            await _until(lambda: not tcp.is_reading(), "the TCP reads to stop")
            held = st.get_read_buffer_size()
            assert HIGH <= held < HIGH + READ, held
            assert not p.got  # nothing delivered (nor decrypted) while paused
            assert not st.is_reading()
            st.resume_reading()
            await asyncio.wait_for(p.full, T)
            assert hashlib.sha256(p.got).digest() == hashlib.sha256(PAYLOAD).digest()
            assert st.get_read_buffer_size() == 0
            assert tcp.is_reading()

    with asyncio.Runner(loop_factory=lambda: new_loop(loop_name)) as runner:
        runner.run(main())


def test_set_read_buffer_limits(certs: Any) -> None:
    """asyncio's checks and defaults; a high-water mark of 0 stops the TCP reads as soon as
    reading is paused (nothing may be held)."""
    async def main() -> None:
        async with _paused_connection(certs, True) as (_, st, _p):
            with pytest.raises(ValueError):
                st.set_read_buffer_limits(high=1, low=2)
            st.set_read_buffer_limits(low=1000)
            assert st.get_read_buffer_limits() == (1000, 4000)
            st.set_read_buffer_limits(high=8000)
            assert st.get_read_buffer_limits() == (2000, 8000)
            st.set_read_buffer_limits()
            assert st.get_read_buffer_limits() == (HIGH // 4, HIGH)
            tcp = st.get_extra_info("tls_socket")._handle.lower.transport
            assert tcp.is_reading()  # (paused, nothing held yet)
            st.set_read_buffer_limits(high=0)
            assert not tcp.is_reading()

    asyncio.run(main())


def test_node_style_pause_still_stops_the_tcp_handle(certs: Any) -> None:
    """A paused Node-style ``TLSSocket`` stops its TCP handle as Node's does (once its readable
    buffer is full: the wrap's ``read_stop()``), and holds no ciphertext read ahead: the hold
    is ``nodetls.aio``'s alone."""
    async def main() -> None:
        loop = asyncio.get_running_loop()
        accepted: asyncio.Future[Any] = loop.create_future()

        def on_secure(sock: Any) -> None:
            sock.pause()
            accepted.set_result(sock)

        server = tls.create_server({"key": certs.server.key_pem,
                                    "cert": certs.server.chain_pem}, on_secure)
        server.listen(0, "127.0.0.1")
        await _until(lambda: server.address() is not None, "listening")
        port = server.address()["port"]
        ct, _ = await asyncio.wait_for(loop.create_connection(
            asyncio.Protocol, "127.0.0.1", port, ssl=_client_ctx(certs),
            server_hostname="localhost"), T)
        try:
            sock = await asyncio.wait_for(accepted, T)
            ct.write(PAYLOAD)
            tcp = sock._handle.lower.transport
            await _until(lambda: not tcp.is_reading(), "the TCP reads to stop")
            assert not sock._handle._holding
            assert sock._handle.held_size() < READ
            assert sock.readable_length < READ
        finally:
            ct.abort()
            sock.destroy()
            server.close()

    asyncio.run(main())
