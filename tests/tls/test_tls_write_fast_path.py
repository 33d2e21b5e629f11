"""``net.Socket.write``'s data path (``bytes``, no callback: straight to the handle) when the
handle does not take the chunk at once, on a TLS client and a plain TCP socket, asyncio and
uvloop: as Node's ``Writable`` (checked against node v20), ``write()`` turns false with the
length still counted, ``end()`` then emits no ``'drain'``, and ``'finish'`` comes once, only
after the peer has read everything, with nothing left to write; ``write()`` callbacks given
meanwhile run in order."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tlsutil import TIMEOUT

import nodetls as tls
from nodetls import net

LOOPS = ["asyncio", "uvloop"]
KINDS = ["tls", "tcp"]
CHUNK = b"x" * 65536


def _run(loop: str, main: Any) -> Any:
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    return tls.run(main, loop=loop)


async def _pair(certs: Any, kind: str) -> tuple[Any, Any, asyncio.Future[Any]]:
    """A server whose connection starts paused, the connected client, and a future for the
    server-side socket."""
    aloop = asyncio.get_running_loop()
    accepted: asyncio.Future[Any] = aloop.create_future()

    def on_conn(s: Any) -> None:
        s.pause()
        accepted.set_result(s)

    if kind == "tls":
        server: Any = tls.create_server(certs.server.options, on_conn)
    else:
        server = net.create_server(on_conn)
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, TIMEOUT)
    port = server.address()["port"]
    if kind == "tls":
        # (A TLS write is in flight until the loop step after its ciphertext went to the
        # transport, as Node's: with the default 16 KiB high-water mark each 64 KiB write would
        # return false at once; a larger one lets the tests fill the transport first.)
        client: Any = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                         "servername": "localhost",
                                         "high_water_mark": 1 << 20})
    else:
        client = net.connect(port, "127.0.0.1")
    await asyncio.wait_for(client, TIMEOUT)
    return server, client, accepted


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("loop", LOOPS)
def test_write_until_false_then_end_finishes_once_flushed(certs: Any, loop: str,
                                                          kind: str) -> None:
    async def main() -> None:
        server, client, accepted = await _pair(certs, kind)
        peer = await asyncio.wait_for(accepted, TIMEOUT)
        log: list[str] = []
        writes = 1
        while client.write(CHUNK):
            writes += 1
            assert writes < 10_000
            await asyncio.sleep(0)  # (let the transport fill the kernel's buffers)
        assert client.writable_length > 0 and client.writable_need_drain
        done: list[Any] = []
        client.write(b"tail", lambda err=None: done.append(err))
        client.on("drain", lambda: log.append("drain"))
        client.on("finish", lambda: log.append(f"finish {client.writable_length}"))
        closed = asyncio.get_running_loop().create_future()
        client.on("close", lambda *_: closed.done() or closed.set_result(None))
        client.end()
        assert not client.writable_finished
        await asyncio.sleep(0.05)
        assert log == []  # nothing flushed yet: the peer reads nothing
        got = 0
        peer_ended = asyncio.get_running_loop().create_future()

        def on_data(chunk: bytes) -> None:
            nonlocal got
            got += len(chunk)

        peer.on("data", on_data)
        peer.on("end", lambda: (peer.end(), peer_ended.set_result(None)))
        peer.resume()
        try:
            await asyncio.wait_for(peer_ended, TIMEOUT)
            await asyncio.wait_for(closed, TIMEOUT)
        finally:
            server.close()
        assert got == writes * len(CHUNK) + 4
        assert log == ["finish 0"] and done == [None]

    _run(loop, main)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("loop", LOOPS)
def test_writes_taken_at_once_leave_nothing_pending(certs: Any, loop: str, kind: str) -> None:
    async def main() -> None:
        server, client, accepted = await _pair(certs, kind)
        peer = await asyncio.wait_for(accepted, TIMEOUT)
        got = bytearray()
        peer.on("data", got.extend)
        peer.resume()
        for i in range(50):
            assert client.write(b"%03d" % i) is True
            # Node: a TCP write is done at once; TLS writes made in one tick stay counted
            # (the first in flight, the others buffered) until the loop step after.
            assert client.writable_length == (3 * (i + 1) if kind == "tls" else 0)
            assert not client.writable_need_drain
        finished = asyncio.get_running_loop().create_future()
        client.on("finish", lambda: finished.set_result(client.writable_length))
        client.end()
        try:
            assert await asyncio.wait_for(finished, TIMEOUT) == 0
            while len(got) < 150:
                await asyncio.sleep(0.005)
        finally:
            client.destroy()
            server.close()
        assert bytes(got) == b"".join(b"%03d" % i for i in range(50))
        assert client.bytes_written == 150

    _run(loop, main)
