"""How far a socket that is not flowing reads ahead (Node's pummel/test-https-no-reader, and a
reader that pauses), on asyncio and on uvloop, TLS and plain ``net``.

Node v20 gets at most 64 KiB per read (libuv's) and stops its TCP handle after the read in
which the readable buffer reaches the high-water mark (``onStreamRead``: ``push()`` false,
``readStop()``); a TLS socket pushes every record that read completes (``TLSWrap::ClearOut``).
nodetls receives up to 256 KiB at once (``RECV_BUFFER_SIZE``) and hands the whole receive on
(a TLS socket: decrypts it), so a socket that is not flowing holds up to one receive past the
mark: more than Node's, a strict xfail below. Handing a larger receive on in 64 KiB pieces and
holding the rest matched Node's figures, but cost 15 % more CPU per MB in a piped echo
(``benchmarks/paired.py --mode bulk``: every backpressure pause then came after 64 KiB, not
256 KiB) and held the same memory (the rest, undecrypted, in the handle rather than the
kernel); reading 64 KiB from the kernel when not flowing is the way left to match them.

Figures from node v20.20 running the same scenarios (a server writing megabytes at once):
a TLS client that never reads holds 49152 bytes (three 16 KiB records) every run, a net
client 65536; a flowing TLS client that pauses in its ``'data'`` listener after 1 MiB holds
16384 in most runs, 65536 in some (what the rest of its current read completes, or one more
read), a net client 65536; then, resumed, each gets every byte.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from typing import Any

import pytest
from tlsutil import LOOPS, TIMEOUT, run_on

import nodetls as tls
from nodetls import net

pytestmark = pytest.mark.timeout(60)

BODY = 16 * 1024 * 1024  # more than loopback's socket buffers take: the writer stays backed up
RECORD = 16384


async def _settled(sock: Any, peer: list[Any]) -> int:
    """Wait, bounded, until ``sock``'s readable buffer has stayed the same for 0.15 s with data
    still queued at the writer; return its length."""
    last, since = -1, time.monotonic()
    deadline = since + TIMEOUT
    while True:
        await asyncio.sleep(0.005)
        now = time.monotonic()
        assert now < deadline, "the reader's buffer never settled"
        if sock.readable_length != last:
            last, since = sock.readable_length, now
        elif now - since > 0.15 and peer and peer[0].writable_length > 0:
            return int(last)


async def _serve(kind: str, certs: Any, body: bytes) -> tuple[Any, int, list[Any]]:
    """A server writing ``body`` (in 1 MiB writes) then ending, to each connection."""
    peer: list[Any] = []

    def on_connection(s: Any) -> None:
        peer.append(s)
        s.on("error", lambda e: None)
        for i in range(0, len(body), 1 << 20):
            s.write(body[i:i + (1 << 20)])
        s.end()

    if kind == "tls":
        server = tls.create_server(certs.server.options, on_connection)
    else:
        server = net.create_server(on_connection)
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, TIMEOUT)
    return server, server.address()["port"], peer


def _connect(kind: str, port: int) -> Any:
    if kind == "tls":
        return tls.connect(port, {"host": "127.0.0.1", "rejectUnauthorized": False})
    return net.connect(port, "127.0.0.1")


async def _close(server: Any, *socks: Any) -> None:
    for s in socks:
        s.destroy()
    for s in socks:
        await asyncio.wait_for(s.wait_closed(), TIMEOUT)
    await asyncio.wait_for(server.close(), TIMEOUT)


@pytest.mark.xfail(strict=True, reason=(
    "Node v20 holds 49152 (TLS: the three records of its first 64 KiB read) or 65536 (net: one "
    "read) in a socket nobody reads; nodetls hands on a whole receive of up to 256 KiB (TLS "
    "65536-114688, net about 128000): see the module docstring"))
@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("kind", ["tls", "net"])
def test_a_client_that_never_reads_holds_what_node_holds(certs: Any, kind: str,
                                                          loop: str) -> None:
    # It calls read(0) once connected and never reads: Node's 49152 (TLS: the three records
    # of its first 64 KiB read) and 65536 (net: one read), each run.
    async def main() -> int:
        server, port, peer = await _serve(kind, certs, bytes(BODY))
        client = _connect(kind, port)
        try:
            await asyncio.wait_for(client, TIMEOUT)
            client.read(0)
            held = await _settled(client, peer)
            assert client.readable_flowing is None
            return held
        finally:
            await _close(server, client, *peer)

    assert run_on(loop, main) == (3 * RECORD if kind == "tls" else 65536)


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("kind", ["tls", "net"])
def test_a_reader_that_pauses_holds_one_receive_at_most_then_gets_every_byte(
        certs: Any, kind: str, loop: str) -> None:
    # A flowing reader pauses in its 'data' listener once it has 1 MiB: it holds at most one
    # receive past that (Node: one 64 KiB read, TLS 16384 or 65536, net 65536; nodetls: up to
    # 256 KiB), then, resumed, gets all 16 MiB in order (a checksum), and 'end'.
    body = os.urandom(BODY)

    async def main() -> tuple[int, int, bytes]:
        server, port, peer = await _serve(kind, certs, body)
        client = _connect(kind, port)
        loop_ = asyncio.get_running_loop()
        paused: asyncio.Future[None] = loop_.create_future()
        ended: asyncio.Future[None] = loop_.create_future()
        digest = hashlib.sha256()
        got = [0]

        def on_data(chunk: bytes) -> None:
            digest.update(chunk)
            got[0] += len(chunk)
            if not paused.done() and got[0] >= 1 << 20:
                client.pause()
                paused.set_result(None)

        client.on("data", on_data)
        client.on("end", lambda: ended.done() or ended.set_result(None))
        try:
            await asyncio.wait_for(paused, TIMEOUT)
            held = await _settled(client, peer)
            client.resume()
            await asyncio.wait_for(ended, TIMEOUT)
            return held, got[0], digest.digest()
        finally:
            await _close(server, client, *peer)

    held, total, digest = run_on(loop, main)
    assert (total, digest) == (len(body), hashlib.sha256(body).digest())
    assert 0 < held <= 256 * 1024, held
    if kind == "tls":
        assert held % RECORD == 0, held  # (whole records)
