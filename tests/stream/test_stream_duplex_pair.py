"""duplex_pair(): two connected in-memory Duplex ends."""

from __future__ import annotations

import asyncio
from typing import Any

from nodetls.stream import Duplex, duplex_pair


async def ticks(n: int = 10) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def collect(stream: Duplex) -> bytes:
    return b"".join([c async for c in stream])


async def test_what_one_end_writes_the_other_reads_both_ways() -> None:
    a, b = duplex_pair()
    assert isinstance(a, Duplex) and isinstance(b, Duplex)
    got_a: list[bytes] = []
    got_b: list[bytes] = []
    a.on("data", got_a.append)
    b.on("data", got_b.append)
    a.write(b"ping")
    b.write(bytearray(b"pong"))
    b.write(memoryview(b"!"))
    await ticks()
    assert b"".join(got_b) == b"ping"
    assert b"".join(got_a) == b"pong!"


async def test_end_on_one_end_is_end_on_the_other() -> None:
    a, b = duplex_pair()
    log: list[str] = []
    b.on("end", lambda: log.append("b end"))
    a.on("finish", lambda: log.append("a finish"))
    b.resume()
    a.end(b"last")
    await ticks()
    assert log == ["b end", "a finish"]  # a's 'finish' waits for b's 'end' (Node's duplexPair)
    assert b.writable and not a.writable  # half-open: b may still answer
    a_data = asyncio.ensure_future(collect(a))
    b.end(b"answer")
    assert await asyncio.wait_for(a_data, 5) == b"answer"
    await asyncio.wait_for(asyncio.gather(a.wait_closed(), b.wait_closed()), 5)


async def test_destroy_propagates_as_close() -> None:
    a, b = duplex_pair()
    log: list[Any] = []
    b.on("close", lambda: log.append("b close"))
    b.on("error", lambda e: log.append(("b error", e)))
    a.on("error", lambda e: log.append(("a error", e)))
    a.destroy(RuntimeError("local failure"))
    await asyncio.wait_for(b.wait_closed(), 5)
    assert b.destroyed and "b close" in log
    assert not any(entry[0] == "b error" for entry in log if isinstance(entry, tuple))


async def test_backpressure_until_the_other_end_reads() -> None:
    a, b = duplex_pair(high_water_mark=1024)
    writes = 0
    while a.write(b"x" * 256):
        writes += 1
        assert writes < 100, "write() never returned False without a consumer"
    assert a.writable_need_drain
    drained = asyncio.ensure_future(a.drain())
    await ticks()
    assert not drained.done()  # nobody reads b yet
    total = bytearray()
    b.on("data", total.extend)
    await asyncio.wait_for(drained, 5)
    await ticks()
    assert len(total) == (writes + 1) * 256


async def test_bulk_transfer_with_async_iteration() -> None:
    a, b = duplex_pair()
    payload = bytes(range(256)) * 2048  # 512 KiB

    async def send() -> None:
        view = memoryview(payload)
        for i in range(0, len(payload), 10000):
            if not a.write(view[i : i + 10000]):
                await a.drain()
        a.end()

    sender = asyncio.ensure_future(send())
    received = await asyncio.wait_for(collect(b), 10)
    await asyncio.wait_for(sender, 5)
    assert received == payload
