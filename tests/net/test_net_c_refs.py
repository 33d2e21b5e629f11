"""No per-message leak in the C code a message goes through: net.Socket's C methods
(``_net/_fastpath.c``: the read and write data paths, a TLS socket's write completion, and their
error paths) and the compiled code under them (the TLS wrap and engine, ``_openssl/_bytesio.c``,
the OpenSSL binding).

Each scenario runs the same round (messages, an error, a whole TLS connection) ``N`` times, then
``2 N`` times more, over real loopback connections. After a ``gc.collect()``, what the second run
added must stay well below one per round: the Python memory blocks in use
(``sys.getallocatedblocks()``), the references to ``None``, ``True``, ``False`` and to the
scenario's own objects (the chunk, the listeners, the sockets), and the C heap's bytes in use
(glibc's ``mallinfo2``: OpenSSL's objects and buffers). A reference or object kept per round (a
missing ``Py_DECREF`` of a count, of a listener's result, of the chunk copy, of the write
completion's callback) grows one of them by at least one per round; what is allocated once (a
cache, a free list) does not grow again. Each of those, taken out of a copy of ``_fastpath.c``
one at a time, failed a test here. The scenarios run with whatever net.Socket uses: the C
methods when built, else the Python ones (then they check the compiled core alone); under
``PYTHONMALLOC=malloc`` the block count is 0 and only the references and the C heap are
checked."""

from __future__ import annotations

import asyncio
import ctypes
import gc
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

import nodetls as tls
from nodetls import net

from .netutil import TIMEOUT, close_server, event

#: Rounds of the first run (the second runs twice as many).
N = 200

Round = Callable[[], Awaitable[None]]


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def _mallinfo2() -> Callable[[], _MallInfo2] | None:
    """glibc's mallinfo2 (2.33 and later), or None."""
    try:
        fn = ctypes.CDLL(None).mallinfo2
    except (OSError, AttributeError):
        return None
    fn.restype = _MallInfo2
    fn.argtypes = []
    return fn


_MALLINFO2 = _mallinfo2()


def _c_heap() -> int:
    """The bytes the C heap has in use (OpenSSL's objects and buffers, large Python objects):
    0 where glibc's mallinfo2 is not there."""
    if _MALLINFO2 is None:
        return 0
    info = _MALLINFO2()
    return int(info.uordblks + info.hblkhd)


def _snapshot(watch: dict[str, Any]) -> dict[str, int]:
    gc.collect()
    counts = {"blocks": sys.getallocatedblocks(), "c_heap": _c_heap()}
    for name, obj in {"None": None, "True": True, "False": False, **watch}.items():
        counts[name] = sys.getrefcount(obj)
    return counts


async def _growth(one_round: Round, n: int = N,
                  **watch: Any) -> dict[str, tuple[int, int]]:
    """(growth over n rounds, growth over the next 2 n) of each count, after warming up: the
    blocks in use, the references to None, True, False and to each object of ``watch``."""
    for _ in range(20):
        await one_round()
    s0 = _snapshot(watch)
    for _ in range(n):
        await one_round()
    s1 = _snapshot(watch)
    for _ in range(2 * n):
        await one_round()
    s2 = _snapshot(watch)
    return {k: (s1[k] - s0[k], s2[k] - s1[k]) for k in s0}


def _assert_flat(growth: dict[str, tuple[int, int]], n: int = N,
                 heap_per_round: int = 256) -> None:
    """Over the second run (2 n rounds): fewer than n / 4 more blocks or references (an eighth
    per round), and fewer than heap_per_round bytes more C heap per round (what an SSL, a
    certificate or a record's buffer kept each round would exceed many times over; what the
    heap grows by once, a cache or a free list, stays below it)."""
    limits = {k: 2 * n * heap_per_round if k == "c_heap" else n // 4 for k in growth}
    assert all(second < limits[k] for k, (_, second) in growth.items()), growth


def _port(server: Any) -> int:
    address = server.address()
    assert isinstance(address, dict)
    return int(address["port"])


def _first(fut: asyncio.Future[Any]) -> Callable[[Any], None]:
    """A listener that resolves ``fut`` with its first argument (later calls: nothing)."""
    def listener(arg: Any) -> None:
        if not fut.done():
            fut.set_result(arg)
    return listener


async def _pair() -> tuple[net.Server, net.Socket, net.Socket]:
    accepted: asyncio.Future[net.Socket] = asyncio.get_running_loop().create_future()
    server = net.create_server(_first(accepted))
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    client = net.connect(_port(server), "127.0.0.1")
    await event(client, "connect")
    peer = await asyncio.wait_for(accepted, TIMEOUT)
    return server, client, peer


@pytest.fixture
async def pair() -> AsyncIterator[tuple[net.Socket, net.Socket]]:
    server, client, peer = await _pair()
    try:
        yield client, peer
    finally:
        client.destroy()
        peer.destroy()
        await close_server(server)


class Stop(BaseException):
    """A listener's BaseException: it propagates from the read, the socket stays."""


async def test_reads_with_every_kind_of_listener(pair: tuple[net.Socket, net.Socket]) -> None:
    """The read data path: a chunk as bytes and as a memoryview (the copy), to a listener, to
    one taking no argument (its TypeError goes through the C listener_raised, then the retry),
    to an async one (the coroutine scheduled). 400 bytes: each count is an int of its own, the
    copy a block of its own."""
    client, _ = pair
    chunk = bytes(range(200)) * 2
    loop = asyncio.get_running_loop()
    seen = [0, 0, 0]
    waiter: list[asyncio.Future[None]] = []

    def listener(data: bytes) -> None:
        seen[0] += len(data)

    def no_arg() -> None:
        seen[1] += 1

    async def later(data: bytes) -> None:
        seen[2] += 1
        if seen[2] % 2 == 0:
            waiter[0].set_result(None)

    client.on("data", listener)
    client.on("data", no_arg)
    client.on("data", later)

    async def one_round() -> None:
        waiter[:] = [loop.create_future()]
        client._on_handle_read(chunk)
        client._on_handle_read(memoryview(chunk))
        await asyncio.wait_for(waiter[0], TIMEOUT)

    _assert_flat(await _growth(one_round, chunk=chunk, listener=listener, no_arg=no_arg,
                               later=later, client=client))
    assert seen == [2 * len(chunk) * (20 + 3 * N), 2 * (20 + 3 * N), 2 * (20 + 3 * N)]


async def test_reads_whose_listener_raises_a_base_exception(
        pair: tuple[net.Socket, net.Socket]) -> None:
    """The read data path's error exit: the listener's BaseException propagates from the read
    (the socket stays open)."""
    client, _ = pair
    chunk = b"e" * 400

    def stop(data: bytes) -> None:
        raise Stop

    client.on("data", stop)

    async def one_round() -> None:
        with pytest.raises(Stop):
            client._on_handle_read(chunk)

    _assert_flat(await _growth(one_round, chunk=chunk, stop=stop, client=client))
    assert not client.destroyed


async def test_writes_and_a_handle_that_raises(pair: tuple[net.Socket, net.Socket]) -> None:
    """The write data path (the handle takes the chunk at once), then the same write to a
    handle whose write raises (the state the failed write left is put back each round)."""
    client, peer = pair
    chunk = b"w" * 400
    got = [0]
    want = [0]
    arrived: list[asyncio.Future[None]] = []

    def on_data(data: bytes) -> None:
        got[0] += len(data)
        if got[0] >= want[0] and not arrived[0].done():
            arrived[0].set_result(None)

    peer.on("data", on_data)

    async def one_write() -> None:
        want[0] += 10 * len(chunk)
        arrived[:] = [asyncio.get_running_loop().create_future()]
        for _ in range(10):
            assert client.write(chunk) is True
        await asyncio.wait_for(arrived[0], TIMEOUT)

    _assert_flat(await _growth(one_write, chunk=chunk, client=client, handle=client._handle))

    class Broken:
        def write(self, data: bytes) -> bool:
            raise RuntimeError("handle broke")

    real = client._handle
    broken = Broken()

    async def one_failure() -> None:
        client._handle = broken
        try:
            with pytest.raises(RuntimeError, match="handle broke"):
                client.write(chunk)
        finally:
            client._handle = real
            client._w_writing = False
            client._w_len = 0

    _assert_flat(await _growth(one_failure, chunk=chunk, client=client, broken=broken))


@pytest.fixture
async def tls_pair(certs: Any) -> AsyncIterator[tuple[tls.TLSSocket, tls.TLSSocket]]:
    accepted: asyncio.Future[tls.TLSSocket] = asyncio.get_running_loop().create_future()
    server = tls.create_server({"key": certs.self_signed.key_pem,
                                "cert": certs.self_signed.cert_pem},
                               _first(accepted))
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, TIMEOUT)
    client = tls.connect(_port(server), {"host": "127.0.0.1", "reject_unauthorized": False})
    await asyncio.wait_for(client, TIMEOUT)
    peer = await asyncio.wait_for(accepted, TIMEOUT)
    try:
        yield client, peer
    finally:
        client.destroy()
        peer.destroy()
        await asyncio.wait_for(server.close(), TIMEOUT)


async def test_tls_round_trips(tls_pair: tuple[tls.TLSSocket, tls.TLSSocket]) -> None:
    """A TLS socket's write (the handle completes it later: write_later, then the C write
    completion) and read, both ways through the engine: the peer echoes each message."""
    client, peer = tls_pair
    peer.on("data", peer.write)
    chunk = b"t" * 400
    got = [0]
    want = [0]
    arrived: list[asyncio.Future[None]] = []

    def on_data(data: bytes) -> None:
        got[0] += len(data)
        if got[0] >= want[0] and not arrived[0].done():
            arrived[0].set_result(None)

    client.on("data", on_data)

    async def one_round() -> None:
        want[0] += len(chunk)
        arrived[:] = [asyncio.get_running_loop().create_future()]
        client.write(chunk)
        await asyncio.wait_for(arrived[0], TIMEOUT)

    _assert_flat(await _growth(one_round, chunk=chunk, client=client, peer=peer,
                               handle=client._handle))


async def test_tls_handshakes_and_destroys(certs: Any, tls_version: str) -> None:
    """Whole TLS connections (the engine's SSL objects, their BIOs, the peer's certificate):
    handshake, one message each way, then the client destroys. A connection brings more noise
    to the C heap than a message (some kilobytes, once), so 1 KiB a round is allowed: an SSL or
    a certificate kept per round is several."""
    server = tls.create_server({"key": certs.self_signed.key_pem,
                                "cert": certs.self_signed.cert_pem,
                                "min_version": tls_version, "max_version": tls_version},
                               lambda s: (s.on("data", s.write), s.on("error", lambda e: None)))
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, TIMEOUT)
    port = _port(server)

    async def one_round() -> None:
        client = tls.connect(port, {"host": "127.0.0.1", "reject_unauthorized": False})
        await asyncio.wait_for(client, TIMEOUT)
        back = event(client, "data")
        client.write(b"h" * 300)
        await back
        done = event(client, "close")
        client.destroy()
        await done

    try:
        _assert_flat(await _growth(one_round, 50), 50, heap_per_round=1024)
    finally:
        await asyncio.wait_for(server.close(), TIMEOUT)
