"""nodetls.aio with an ``asyncio.BufferedProtocol``: the plaintext is decrypted straight into the
buffers the protocol hands out (no intermediate ``bytes``), whatever their size, with asyncio's
flow control. The peer is Node's ``tls`` server in its own process, sending on command."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from typing import Any

import pytest

from helpers.peers import spawn_node
from nodetls import aio

T = 15.0
RECORD = 16384

# SEND <n> <chunk>: n bytes of pattern(n) in writes of `chunk` bytes (one TLS record each at
# most), then 'SENT <n>' on stdout once Node handed the last one to the kernel (unless a 4th
# word follows).
# PING: 'PING' on stdout, then 'PONG\n' to the client. END: end().
NODE_SENDER = r"""
const tls = require('tls');
const fs = require('fs');
const [key, cert] = process.argv.slice(2);
const pattern = (n) => { const b = Buffer.alloc(n); for (let i = 0; i < n; i++) b[i] = i % 251; return b; };
const server = tls.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (s) => {
  let line = '';
  s.on('error', () => {});
  s.on('data', (d) => {
    line += d.toString('latin1');
    let i;
    while ((i = line.indexOf('\n')) >= 0) {
      const [cmd, a, b, quiet] = line.slice(0, i).split(' ');
      line = line.slice(i + 1);
      if (cmd === 'SEND') {
        const data = pattern(+a);
        for (let off = 0; off < data.length; off += +b) {
          const last = off + +b >= data.length && !quiet;
          s.write(data.subarray(off, off + +b), last ? () => console.log('SENT ' + a) : undefined);
        }
      } else if (cmd === 'PING') {
        console.log('PING');
        s.write('PONG\n');
      } else if (cmd === 'END') {
        s.end();
      }
    }
  });
});
server.listen(0, '127.0.0.1', () => console.log('LISTENING ' + server.address().port));
"""


def pattern(n: int) -> bytes:
    return (bytes(range(251)) * (n // 251 + 1))[:n]


class Recorder(asyncio.BufferedProtocol):
    """Hands out a new ``bytearray`` per ``get_buffer()`` (sizes from ``sizes``, cycled) and keeps
    every one, so the test can look at what landed in the very objects it handed out."""

    def __init__(self, sizes: list[int]) -> None:
        self.sizes = sizes
        self.handed: list[bytearray] = []
        self.updates: list[tuple[int, int]] = []  # (index into handed, nbytes)
        self.hints: list[int] = []
        self.received = 0
        self.want = 0
        self.got_enough: asyncio.Future[None] | None = None
        self.on_update: Any = None
        self.lost: asyncio.Future[BaseException | None] = (
            asyncio.get_running_loop().create_future())

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]

    def expect(self, n: int) -> asyncio.Future[None]:
        self.want = self.received + n
        self.got_enough = asyncio.get_running_loop().create_future()
        return self.got_enough

    def get_buffer(self, sizehint: int) -> bytearray:
        self.hints.append(sizehint)
        buf = bytearray(self.sizes[len(self.handed) % len(self.sizes)])
        self.handed.append(buf)
        return buf

    def buffer_updated(self, nbytes: int) -> None:
        self.updates.append((len(self.handed) - 1, nbytes))
        self.received += nbytes
        if self.on_update is not None:
            self.on_update(nbytes)
        fut = self.got_enough
        if fut is not None and not fut.done() and self.received >= self.want:
            fut.set_result(None)

    def data(self) -> bytes:
        """Everything received, read back out of the buffers that were handed out."""
        return b"".join(bytes(self.handed[i][:n]) for i, n in self.updates)

    def eof_received(self) -> bool | None:
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(exc)


async def _connect(certs: Any, port: int, sizes: list[int]) -> tuple[asyncio.Transport, Recorder]:
    t, p = await asyncio.wait_for(aio.create_connection(
        lambda: Recorder(sizes), "127.0.0.1", port, ca=certs.server.ca_pem,
        servername="localhost"), T)
    assert isinstance(p, Recorder)
    return t, p


def _sender(certs: Any) -> Any:
    return spawn_node(NODE_SENDER, certs.server.key_path, certs.server.chain_path)


@pytest.mark.parametrize("sizes", [[1 << 20], [RECORD], [1000], [1, 7, 100, 20000, 65536]],
                         ids=["1MiB", "record", "1000B", "mixed"])
async def test_data_lands_in_the_buffers_handed_out(certs: Any, sizes: list[int]) -> None:
    """Every byte is in a buffer object the protocol handed out, in order, whatever the buffer
    size: larger than many records, one record, smaller than a record, mixed with 1 byte."""
    async with _sender(certs) as node:
        t, p = await _connect(certs, node.port, sizes)
        total = 300_000 if min(sizes) >= 1000 else 60_000
        got = p.expect(total)
        t.write(f"SEND {total} {RECORD}\n".encode())
        await asyncio.wait_for(got, T)
        assert p.data() == pattern(total)
        assert all(n <= len(p.handed[i]) for i, n in p.updates)
        assert all(h > 0 for h in p.hints)  # a size hint, never -1
        if min(sizes) < RECORD:  # a record split over several buffers
            assert len(p.updates) > total // RECORD
        t.close()
        assert await asyncio.wait_for(p.lost, T) is None


async def test_many_records_decrypted_into_one_buffer(certs: Any) -> None:
    """With a buffer larger than what arrived, one ``buffer_updated`` takes many records: the
    records waiting are decrypted into the protocol's buffer back to back."""
    async with _sender(certs) as node:
        t, p = await _connect(certs, node.port, [1 << 20])
        total = 40 * 1024
        t.pause_reading()
        t.write(f"SEND {total} 1024\n".encode())  # 40 records of 1 KiB
        await node.wait_for_output(f"SENT {total}", timeout=T)
        got = p.expect(total)
        t.resume_reading()
        await asyncio.wait_for(got, T)
        assert p.data() == pattern(total)
        assert max(n for _, n in p.updates) > 2 * 1024  # several records in one buffer
        t.close()


async def test_pause_reading_inside_buffer_updated(certs: Any) -> None:
    """``pause_reading()`` from ``buffer_updated`` stops delivery at once, even with the rest of
    the record already decrypted in OpenSSL; ``resume_reading()`` goes on from the next byte."""
    async with _sender(certs) as node:
        t, p = await _connect(certs, node.port, [1000])
        total = 3 * RECORD
        paused_at: list[int] = []

        def pause_once(nbytes: int) -> None:
            if not paused_at:
                paused_at.append(len(p.updates))
                t.pause_reading()

        p.on_update = pause_once
        first = p.expect(1)
        t.write(f"SEND {total} {RECORD}\n".encode())
        await asyncio.wait_for(first, T)
        assert len(p.updates) == paused_at[0] == 1 and not t.is_reading()
        # The loop goes on (Node sees our PING), and still nothing is delivered while paused.
        t.write(b"PING\n")
        await node.wait_for_output("PING", timeout=T)
        await node.wait_for_output(f"SENT {total}", timeout=T)
        assert len(p.updates) == 1
        rest = p.expect(total - p.received + len(b"PONG\n"))
        t.resume_reading()
        await asyncio.wait_for(rest, T)
        assert p.data() == pattern(total) + b"PONG\n"
        t.close()


async def test_no_bytes_object_per_read(certs: Any) -> None:
    """Receiving 2 MiB into one reused buffer allocates no Python object of a record's size:
    the Python heap's peak stays far below 16 KiB above where it started (a ``Protocol`` on the
    same connection, shown first, gets a ``bytes`` per read: the peak grows by at least one)."""

    class Reuse(Recorder):
        def get_buffer(self, sizehint: int) -> bytearray:
            if not self.handed:
                self.handed.append(bytearray(1 << 18))
            return self.handed[0]

        def buffer_updated(self, nbytes: int) -> None:
            self.received += nbytes
            fut = self.got_enough
            if fut is not None and not fut.done() and self.received >= self.want:
                fut.set_result(None)

    class Plain(asyncio.Protocol):
        def __init__(self, owner: Reuse) -> None:
            self.owner = owner

        def data_received(self, data: bytes) -> None:
            self.owner.buffer_updated(len(data))

    async def peak_while_receiving(n: int) -> int:
        # Quiet: reading Node's stdout would allocate asyncio's 256 KiB pipe read buffer.
        t.write(f"SEND {n} {RECORD} quiet\n".encode())  # this allocates: before the baseline
        got = p.expect(n)
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        await asyncio.wait_for(got, T)
        return tracemalloc.get_traced_memory()[1] - base

    async with _sender(certs) as node:
        t, p0 = await asyncio.wait_for(aio.create_connection(
            lambda: Reuse([0]), "127.0.0.1", node.port, ca=certs.server.ca_pem,
            servername="localhost"), T)
        p: Reuse = p0  # type: ignore[assignment]
        tracemalloc.start()
        try:
            await peak_while_receiving(1 << 20)  # warm-up: buffers, caches
            t.set_protocol(Plain(p))
            plain_peak = await peak_while_receiving(1 << 20)
            t.set_protocol(p)
            buffered_peak = await peak_while_receiving(2 << 20)
        finally:
            tracemalloc.stop()
        assert plain_peak >= RECORD  # the measurement sees a bytes per read
        assert buffered_peak < RECORD // 2, buffered_peak
        t.close()


async def test_plaintext_never_passes_through_the_engine_read_buffer(certs: Any) -> None:
    """The one copy is OpenSSL's, into the protocol's buffer: the engine's own read buffer (which
    a ``Protocol``'s ``bytes`` are copied out of) never holds the plaintext."""
    from nodetls._engine.engine import _scratch

    scratch = _scratch()[2]  # this thread's read buffer, shared by every engine on the thread
    marker = pattern(4096)[1000:1500]
    async with _sender(certs) as node:
        t, p = await _connect(certs, node.port, [65536])
        scratch[:] = bytes(len(scratch))
        got = p.expect(300_000)
        t.write(f"SEND 300000 {RECORD}\n".encode())
        await asyncio.wait_for(got, T)
        assert p.data() == pattern(300_000)
        assert marker not in bytes(scratch)
        t.close()


async def test_switching_protocols_switches_the_read_path(certs: Any) -> None:
    """``set_protocol()`` between a ``Protocol`` and a ``BufferedProtocol`` (as a framework that
    upgrades a connection does) sends the next bytes to the new one, in order."""
    received: list[bytes] = []
    pong: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    class Plain(asyncio.Protocol):
        def data_received(self, data: bytes) -> None:
            received.append(data)
            if b"".join(received) == b"PONG\n":
                pong.set_result(None)

    async with _sender(certs) as node:
        t, p = await _connect(certs, node.port, [5000])
        t.set_protocol(Plain())
        t.write(b"PING\n")
        await asyncio.wait_for(pong, T)
        assert not p.updates
        t.set_protocol(p)
        got = p.expect(50_000)
        t.write(f"SEND 50000 {RECORD}\n".encode())
        await asyncio.wait_for(got, T)
        assert p.data() == pattern(50_000)
        assert b"".join(received) == b"PONG\n"
        t.close()


@pytest.mark.parametrize("fault", ["raises", "empty"])
async def test_get_buffer_failing_is_fatal(certs: Any, fault: str) -> None:
    """As asyncio's transports: ``get_buffer()`` raising or returning an empty buffer is a fatal
    error (the exception handler hears of it, ``connection_lost(exc)``)."""
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _l, ctx: reported.append(ctx))

    class Bad(Recorder):
        def get_buffer(self, sizehint: int) -> bytearray:
            if fault == "raises":
                raise ValueError("no buffer")
            return bytearray()

    try:
        async with _sender(certs) as node:
            t, p0 = await asyncio.wait_for(aio.create_connection(
                lambda: Bad([1]), "127.0.0.1", node.port, ca=certs.server.ca_pem,
                servername="localhost"), T)
            p: Bad = p0  # type: ignore[assignment]
            t.write(f"SEND 100 {RECORD}\n".encode())
            exc = await asyncio.wait_for(p.lost, T)
            expected = ValueError if fault == "raises" else RuntimeError
            assert isinstance(exc, expected)
            assert reported and reported[0]["exception"] is exc
            assert "get_buffer" in reported[0]["message"]
            assert not p.updates and t.is_closing()
    finally:
        loop.set_exception_handler(None)
