"""``TLSEngine.read_hint``/``read_into``: plaintext decrypted straight into a caller's buffer
(what ``nodetls.aio`` uses for an ``asyncio.BufferedProtocol``), two engines in memory."""

from __future__ import annotations

import array

import pytest

from nodetls._engine import TLSEngine

from .pair import pump

DATA = bytes(range(251)) * 400  # 100,400 bytes: 7 records


def drain(eng: TLSEngine, size: int) -> list[bytes]:
    """read_into fresh buffers of ``size`` bytes until read_hint says nothing is left."""
    chunks = []
    while eng.read_hint():
        buf = bytearray(size)
        n = eng.read_into(buf)
        if not n:
            break
        assert 0 < n <= size
        chunks.append(bytes(buf[:n]))
    return chunks


@pytest.mark.parametrize("size", [1, 1000, 16384, 1 << 20])
def test_read_into_buffers_of_any_size(pair, size):
    client, server = pair
    assert not client.read_hint()  # nothing received: no buffer needed
    payload = DATA if size > 1 else DATA[:40_000]
    server.write(payload)
    pump(client, server)
    assert client.read_hint() > 0
    chunks = drain(client, size)
    assert b"".join(chunks) == payload
    if size >= len(payload):
        assert len(chunks) == 1  # every record waiting, back to back in one buffer
    else:
        assert max(map(len, chunks)) == size  # filled to the brim, the rest kept for later
    assert not client.read_hint()


def test_read_into_other_buffer_types_and_close_notify(pair):
    client, server = pair
    server.write(b"x" * 10)
    server.shutdown()
    pump(client, server)
    with pytest.raises(BufferError):  # a read-only buffer: refused, nothing lost
        client.read_into(b"read-only")
    ints = array.array("i", [0] * 2)  # 8 bytes: sizes are in bytes, not items
    assert client.read_into(ints) == 8
    assert ints.tobytes() == b"x" * 8
    view = memoryview(bytearray(100))[50:]
    assert client.read_into(view) == 2
    assert bytes(view[:2]) == b"xx"
    assert client.received_close_notify
    assert not client.read_hint()
