"""nodetls.aio over TCP's routed reads (``TLSWrap.route_reads``: once the handshake is done, the
TCP handle's read goes straight to the engine and, as ``bytes``, to ``data_received``; the
transport's write is the wrap's): the same observable behaviour as the layered path, on
asyncio's loop and on uvloop. The peer is Python's ``ssl`` over a memory BIO, so that the test
chooses where records and TCP writes begin and end."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

import nodetls as tls
from nodetls import aio

uvloop = pytest.importorskip("uvloop")

T = 10.0
LOOPS = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


@pytest.fixture(params=sorted(LOOPS))
def run(request: pytest.FixtureRequest) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    def runner(coro: Coroutine[Any, Any, Any]) -> Any:
        with asyncio.Runner(loop_factory=LOOPS[request.param]) as r:
            return r.run(asyncio.wait_for(coro, 30))
    return runner


class Recorder(asyncio.Protocol):
    """Echoes what it receives; records data, EOF and the loss in order."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.lost = asyncio.get_running_loop().create_future()
        self.echo = True

    def connection_made(self, transport: Any) -> None:
        self.t = transport

    def data_received(self, data: bytes) -> None:
        assert type(data) is bytes
        self.events.append(data)
        if self.echo:
            self.t.write(data)

    def eof_received(self) -> bool:
        self.events.append("eof")
        return False

    def connection_lost(self, exc: BaseException | None) -> None:
        self.events.append(("lost", exc))
        self.lost.set_result(exc)


class MemClient:
    """A TLS client as Python's ``ssl.SSLObject`` over memory BIOs, on a plain TCP stream."""

    def __init__(self, certs: Any, **ctx_opts: Any) -> None:
        ctx = ssl.create_default_context(cafile=str(certs.server.ca_path))
        for k, v in ctx_opts.items():
            setattr(ctx, k, v)
        self.inc = ssl.MemoryBIO()
        self.out = ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out, server_hostname="localhost")
        self.plain = bytearray()

    async def connect(self, port: int) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                await self._exchange()
        await self._flush()

    async def _flush(self) -> None:
        data = self.out.read()
        if data:
            self.writer.write(data)
            await self.writer.drain()

    async def _exchange(self) -> None:
        await self._flush()
        data = await asyncio.wait_for(self.reader.read(65536), T)
        if not data:
            self.inc.write_eof()
        else:
            self.inc.write(data)

    def seal(self, *chunks: bytes) -> bytes:
        """One record per chunk; the ciphertext, not sent."""
        for c in chunks:
            self.obj.write(c)
        return self.out.read()

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read_until(self, n: int) -> bytes:
        while len(self.plain) < n:
            try:
                self.plain += self.obj.read(65536)
                continue
            except ssl.SSLWantReadError:
                pass
            await self._exchange()
        got, self.plain = bytes(self.plain[:n]), self.plain[n:]
        return got

    def close(self) -> None:
        self.writer.close()


async def _serve(certs: Any, cls: type[Recorder] = Recorder, **kw: Any) -> tuple[Any, list[Any]]:
    """An aio server making ``cls`` protocols; the list of those made."""
    protos: list[Any] = []

    def factory() -> Recorder:
        protos.append(cls())
        return protos[-1]

    opts = dict(certs.server.options)
    opts.update(kw)
    return await aio.create_server(factory, "127.0.0.1", 0, **opts), protos


async def _client(certs: Any, server: Any) -> MemClient:
    c = MemClient(certs)
    await c.connect(server.sockets[0].getsockname()[1])
    return c


async def _warm_client(certs: Any, server: Any, protos: list[Any]) -> MemClient:
    """A client that has had ``b"warm"`` echoed by the server's first protocol, on the routed
    reads."""
    c = await _client(certs, server)
    await c.send_raw(c.seal(b"warm"))
    assert await c.read_until(4) == b"warm"
    assert _route_taken(protos[0])
    return c


def _route_taken(proto: Recorder) -> bool:
    """The TCP handle's reads go to the TLS wrap's routed read (``TLSWrap.route_reads``)."""
    wrap = proto.t.get_extra_info("tls_socket")._handle
    return bool(vars(wrap.lower).get("buffer_updated") == wrap._on_transport_read)


def test_many_records_in_one_read_and_records_split_across_reads(certs, run):
    async def main() -> None:
        server, protos = await _serve(certs)
        async with server:
            c = await _client(certs, server)
            # 200 records in one TCP write: every byte, in order
            chunks = [bytes([i]) * (i + 1) for i in range(200)]
            await c.send_raw(c.seal(*chunks))
            assert await c.read_until(sum(map(len, chunks))) == b"".join(chunks)
            assert _route_taken(protos[0])
            # one whole record and half of the next: the first is answered alone, the second
            # once its rest arrives; then one byte at a time
            a, b = c.seal(b"first"), c.seal(b"second")
            await c.send_raw(a + b[:len(b) // 2])
            assert await c.read_until(5) == b"first"
            await c.send_raw(b[len(b) // 2:])
            assert await c.read_until(6) == b"second"
            rec = c.seal(b"bytewise")
            for i in range(len(rec)):
                await c.send_raw(rec[i:i + 1])
            assert await c.read_until(8) == b"bytewise"
            assert b"".join(x for x in protos[0].events if isinstance(x, bytes)) == \
                b"".join(chunks) + b"firstsecondbytewise"
            c.close()
            await asyncio.wait_for(protos[0].lost, T)

    run(main())


def test_close_notify_in_the_same_read_as_data(certs, run):
    """Data, then the close_notify, in one TCP segment: data_received, eof_received, then
    connection_lost(None) (eof_received returned False: the transport closes)."""
    async def main() -> None:
        server, protos = await _serve(certs)
        async with server:
            c = await _warm_client(certs, server, protos)
            data = c.seal(b"last words")
            try:
                c.obj.unwrap()
            except ssl.SSLWantReadError:
                pass
            await c.send_raw(data + c.out.read())
            assert await asyncio.wait_for(protos[0].lost, T) is None
            assert protos[0].events == [b"warm", b"last words", "eof", ("lost", None)]
            c.close()

    run(main())


def test_data_arriving_while_paused_waits_for_resume(certs, run):
    async def main() -> None:
        loop = asyncio.get_running_loop()
        class Pausing(Recorder):
            paused = False

            def data_received(self, data: bytes) -> None:
                assert not self.paused, "data_received while reading is paused"
                super().data_received(data)
                if data == b"pause":
                    self.paused = True
                    self.t.pause_reading()
                    assert not self.t.is_reading()
                    loop.call_later(0.05, self.resume)

            def resume(self) -> None:
                self.paused = False
                self.t.resume_reading()

        server, protos = await _serve(certs, Pausing)
        async with server:
            c = await _client(certs, server)
            await c.send_raw(c.seal(b"pause"))
            assert await c.read_until(5) == b"pause"
            await c.send_raw(c.seal(b"after", b"-more"))
            assert await c.read_until(10) == b"after-more"
            assert not protos[0].paused
            c.close()
            await asyncio.wait_for(protos[0].lost, T)

    run(main())


def test_data_received_failing_is_a_fatal_error(certs, run):
    async def main() -> None:
        loop = asyncio.get_running_loop()
        reported: list[dict[str, Any]] = []
        loop.set_exception_handler(lambda _loop, ctx: reported.append(ctx))
        class Failing(Recorder):
            def data_received(self, data: bytes) -> None:
                super().data_received(data)
                if data == b"boom":
                    raise ValueError("boom")

        server, protos = await _serve(certs, Failing)
        async with server:
            c = await _client(certs, server)
            await c.send_raw(c.seal(b"ok"))
            assert await c.read_until(2) == b"ok"
            await c.send_raw(c.seal(b"boom"))
            exc = await asyncio.wait_for(protos[0].lost, T)
            assert isinstance(exc, ValueError)
            assert reported and reported[0]["message"] == \
                "Fatal error: protocol.data_received() call failed."
            c.close()

    run(main())


def test_renegotiation_mid_stream_tls12(certs, run):
    """A client renegotiation between two writes (TLS 1.2, allowed): the handshake messages
    arrive where the route expects application data; the wrap answers them, data goes on."""
    async def main() -> None:
        server, protos = await _serve(certs, max_version="TLSv1.2",
                               allow_client_renegotiation=True)
        async with server:
            loop = asyncio.get_running_loop()
            sock = tls.connect(server.sockets[0].getsockname()[1], "127.0.0.1",
                               ca=certs.server.ca_pem, servername="localhost")
            got = bytearray()
            more = asyncio.Event()
            sock.on("data", lambda d: (got.extend(d), more.set()))
            secure = loop.create_future()
            sock.once("secureConnect", lambda: secure.set_result(None))
            await asyncio.wait_for(secure, T)
            sock.write(b"one")
            while bytes(got) != b"one":
                more.clear()
                await asyncio.wait_for(more.wait(), T)
            done = loop.create_future()
            assert sock.renegotiate({}, lambda err: done.set_result(err))
            sock.write(b"two")
            assert await asyncio.wait_for(done, T) is None
            while bytes(got) != b"onetwo":
                more.clear()
                await asyncio.wait_for(more.wait(), T)
            sock.write(b"three")
            while bytes(got) != b"onetwothree":
                more.clear()
                await asyncio.wait_for(more.wait(), T)
            sock.destroy()
            await asyncio.wait_for(protos[0].lost, T)

    run(main())


@pytest.mark.parametrize("size", [5, 4 << 20])
def test_close_right_after_a_write_sends_it_all_then_close_notify(certs, run, size):
    """``close()`` right after ``write()`` on the routed reads: the peer gets every byte, then
    the close_notify, whether the TCP buffer took the write at once (5 B) or still held most of
    it (4 MiB: flushed first); the transport then waits for the peer's close_notify (as
    asyncio's), and only then closes TCP (the FIN)."""
    async def main() -> None:
        class Closing(Recorder):
            def data_received(self, data: bytes) -> None:
                if data != b"go":
                    super().data_received(data)
                    return
                self.t.write(b"x" * size)
                self.t.close()
                assert self.t.is_closing()

        server, protos = await _serve(certs, Closing)
        async with server:
            c = await _warm_client(certs, server, protos)
            await c.send_raw(c.seal(b"go"))
            assert await c.read_until(size) == b"x" * size
            while True:  # then the close_notify (ssl's read: b""), and nothing after it
                try:
                    extra = c.obj.read(65536)
                except ssl.SSLWantReadError:
                    await c._exchange()
                    continue
                assert extra == b"", "data after the response"
                break
            assert not protos[0].lost.done()  # waiting for the client's close_notify
            c.obj.unwrap()  # (the server's came: done at once)
            await c.send_raw(c.out.read())
            assert await asyncio.wait_for(c.reader.read(), T) == b""  # the FIN
            assert await asyncio.wait_for(protos[0].lost, T) is None
            assert protos[0].events[-2:] == ["eof", ("lost", None)]
            c.close()

    run(main())


def test_close_notify_alone_then_half_open(certs, run):
    """The peer's close_notify in a read of its own: ``eof_received()`` once; returning True
    keeps the transport open for writing (TLS half-close), and data written then reaches the
    peer before the transport's own close_notify."""
    async def main() -> None:
        class HalfOpen(Recorder):
            def eof_received(self) -> bool:
                self.events.append("eof")
                self.t.write(b"after eof")
                self.t.close()
                return True

        server, protos = await _serve(certs, HalfOpen)
        async with server:
            c = await _warm_client(certs, server, protos)
            try:
                c.obj.unwrap()
            except ssl.SSLWantReadError:
                pass
            await c.send_raw(c.out.read())
            assert await c.read_until(9) == b"after eof"
            assert await asyncio.wait_for(protos[0].lost, T) is None
            assert protos[0].events == [b"warm", "eof", ("lost", None)]
            c.close()

    run(main())


def test_a_client_keeps_the_wraps_routed_reads(certs, run):
    """``aio.create_connection``: the client's reads stay the TLS wrap's routed reads after the
    handshake (the transport installs nothing on the TCP handle), and an echo round trip then
    the client's close go as on the server side."""
    async def main() -> None:
        server, protos = await _serve(certs)
        async with server:
            port = server.sockets[0].getsockname()[1]
            mine = Recorder()
            mine.echo = False
            got = asyncio.get_running_loop().create_future()
            mine.data_received = lambda data: got.done() or got.set_result(data)  # type: ignore[method-assign]
            t, _ = await aio.create_connection(lambda: mine, "127.0.0.1", port,
                                               ca=certs.root.cert_pem, servername="localhost")
            assert _route_taken(mine)
            t.write(b"ping")
            assert await asyncio.wait_for(got, T) == b"ping"
            t.close()
            assert await asyncio.wait_for(mine.lost, T) is None
            assert await asyncio.wait_for(protos[0].lost, T) is None

    run(main())
