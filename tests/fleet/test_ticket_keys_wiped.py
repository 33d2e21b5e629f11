"""Issue 9, "old keys wiped from memory and Redis": every copy of a ticket key the key sources
keep is zeroed when the key is retired or replaced.  The tests hold the sources' own buffers
(the entries' bytearrays, the material handed to listeners, a worker's pipe buffer) and look at
them after the event; resumption across rotations is test_ticket_keys_rotation.py's."""

from __future__ import annotations

import asyncio
import os
import struct

import nodetls as tls
from nodetls.sessions import RedisTicketKeys, TicketKeys
from nodetls.sessions._keys import PipedTicketKeys, pack_entries

T = 5.0


async def until(predicate) -> None:
    """Poll ``predicate`` between loop iterations (callers bound it with a timeout)."""
    while not predicate():
        await asyncio.sleep(0.001)


def zero(buf: bytearray) -> bool:
    return buf == bytearray(len(buf))


async def changes(source, until) -> list[bytearray]:
    """The materials ``source`` hands its listeners (the objects themselves; the first is the
    current one, when the refresh task starts) up to the first one for which ``until`` is true."""
    got: list[bytearray] = []
    done = asyncio.get_running_loop().create_future()

    def listener(keys: bytearray) -> None:
        if done.done():
            return
        got.append(keys)
        if until(keys):
            done.set_result(None)

    source.subscribe(listener)
    try:
        await asyncio.wait_for(done, T)
    finally:
        source.unsubscribe(listener)
    return got


async def test_rotation_wipes_retired_keys_and_replaced_material():
    keys = TicketKeys(interval=0.2, keep=0)
    held = [k for _, k in keys.entries()]
    got = await changes(keys, lambda k: zero(held[0]))  # up to the material after the rotation
    # keep=0: the rotation retired the first key (zeroed in place); the second now encrypts.
    assert any(k is held[1] for _, k in keys.entries())
    # Every material handed over before was replaced: wiped.  The last one is the current one.
    assert len(got) >= 2 and all(zero(k) for k in got[:-1])
    assert not zero(got[-1]) and bytes(got[-1]) == keys.ticket_keys()
    keys.close()


async def test_a_server_keeps_its_own_copy(certs):
    """The server's context copied the material: wiping the source's copy does not touch it, and
    set_secure_context re-applies the source's keys (a copy it wipes after use)."""
    keys = TicketKeys(interval=3600)
    server = tls.create_server(certs.server.options)
    server.use_ticket_keys(keys)
    expected = keys.ticket_keys()
    keys._wipe_all()
    assert server.get_ticket_keys() == expected
    keys = TicketKeys(interval=3600)
    server.use_ticket_keys(keys)
    server.set_secure_context(certs.server_rsa.options)
    assert server.get_ticket_keys() == keys.ticket_keys()


async def test_set_secure_context_before_a_redis_source_has_keys(certs, redis_server):
    """A source with no keys yet gives the new context nothing (no ValueError for b"")."""
    src = RedisTicketKeys(redis_server.url, name="k", interval=60)
    server = tls.create_server(certs.server.options)
    try:
        server.use_ticket_keys(src)
        server.set_secure_context(certs.server_rsa.options)
        await src.refresh()
        server._keys_binding.reapply()
        assert server.get_ticket_keys() == src.ticket_keys()
    finally:
        server.close()
        src.close()
        await src.redis.aclose()


async def test_redis_refresh_wipes_the_copies_it_replaces(redis_server, redis_client):
    a = RedisTicketKeys(redis_server.url, name="k", interval=60, keep=1)
    try:
        before = await a.refresh()
        held = [k for _, k in a._entries]
        assert await a.refresh() == before  # the same keys, read again into new bytearrays
        assert all(zero(k) for k in held)
        # Make every key in Redis old (the pending one due 3 intervals ago): the next refresh
        # rotates under the lock and publishes a new pending key: a new set, the copies replaced.
        old = [(nb - 180, bytearray(k)) for nb, k in a._entries]
        await redis_client.set("k", bytes(pack_entries(old)))
        held = [k for _, k in a._entries]
        await a.refresh()
        assert all(zero(k) for k in held)
        names = [bytes(k[:16]) for _, k in a._entries]
        assert len(names) == 3 and names[:2] == [bytes(k[:16]) for _, k in old]
    finally:
        a.close()
        await a.redis.aclose()


async def test_a_workers_pipe_is_read_in_place_and_wiped():
    """The parent's sets arrive on the pipe (a 4-byte length, then pack_entries); split writes
    and a set larger than the buffer (it grows: the old one is wiped) are both read, and every
    byte consumed from the buffer is zeroed, as is every key the new set replaces."""
    parent = TicketKeys(interval=3600, keep=1)
    r, w = os.pipe()
    piped = PipedTicketKeys(r, parent.entries(), 3600, 1)
    try:
        held = [k for _, k in piped._entries]
        big = TicketKeys(interval=3600, keep=100)
        for _ in range(100):
            big.rotate(max(nb for nb, _ in big.entries()) + 1)
        assert len(big.entries()) > 4096 // 56  # larger than the pipe buffer to start with
        small_msg = pack_entries(parent.entries())
        big_msg = pack_entries(big.entries())
        got = asyncio.ensure_future(changes(piped, lambda k: len(k) > 4096))
        await asyncio.sleep(0)  # subscribed: the reader is on
        os.write(w, struct.pack(">I", len(big_msg)) + bytes(big_msg[:1000]))
        await asyncio.wait_for(until(lambda: piped._fill == 1004), T)  # half a message read
        assert not zero(piped._buf)
        os.write(w, bytes(big_msg[1000:]))
        seen = await got
        assert [i for i, k in enumerate(held) if not zero(k)] == []  # the big set replaced them
        assert all(zero(k) for k in seen[:-1])  # replaced materials
        assert piped._fill == 0 and zero(piped._buf) and len(piped._buf) > 4096  # it grew
        held = [k for _, k in piped._entries]
        want = parent.ticket_keys()
        got = asyncio.ensure_future(changes(piped, lambda k: k == want))
        await asyncio.sleep(0)
        os.write(w, struct.pack(">I", len(small_msg)) + bytes(small_msg))
        await got
        assert zero(seen[-1])
        assert [i for i, k in enumerate(held) if not zero(k)] == []
        assert piped._fill == 0 and zero(piped._buf)
        assert [bytes(k) for _, k in piped._entries] == [bytes(k) for _, k in parent.entries()]
    finally:
        piped.close()
        asyncio.get_running_loop().remove_reader(r)
        os.close(r)
        os.close(w)
