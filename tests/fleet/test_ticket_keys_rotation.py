"""TicketKeys / RedisTicketKeys: the rotation schedule, resumption across rotations, leader election
through a Redis lock with expiry, retired keys wiped (issue 9, item 2)."""

from __future__ import annotations

import asyncio
import time

import pytest

from nodetls.sessions import RedisTicketKeys, TicketKeys
from nodetls.sessions._keys import material, pack_entries, unpack_entries

from .fleetutil import handshake, listen, versions


def split(keys: bytes) -> list[bytes]:
    return [keys[i : i + 48] for i in range(0, len(keys), 48)]


def test_schedule_publishes_one_interval_ahead_keeps_and_wipes():
    keys = TicketKeys(interval=10, keep=1)
    t0 = keys.entries()[0][0]
    first, pending = (bytes(k) for _, k in keys.entries())
    assert [nb for nb, _ in keys.entries()] == [t0, t0 + 10]
    assert split(keys.ticket_keys(t0 + 1)) == [first, pending]  # current first, pending decrypts
    assert keys.rotate(t0 + 5) is False
    assert keys.rotate(t0 + 10) is True  # the pending key encrypts; a new one is published
    retiring = keys.entries()[0][1]
    third = bytes(keys.entries()[-1][1])
    assert split(keys.ticket_keys(t0 + 10)) == [pending, third, first]
    assert keys.entries()[-1][0] == t0 + 20
    keys.rotate(t0 + 20)  # keep=1: the first key is retired and zeroed in place
    assert retiring == bytearray(48)
    assert first not in split(keys.ticket_keys(t0 + 20))
    assert len(split(keys.ticket_keys(t0 + 20))) == 3
    # keys are random, never derived from each other
    assert len({first, pending, third}) == 3


def test_bad_arguments():
    with pytest.raises(ValueError, match="interval"):
        TicketKeys(interval=0)
    with pytest.raises(TypeError, match="keep"):
        TicketKeys(keep=1.5)
    with pytest.raises(TypeError, match="redis"):
        RedisTicketKeys(object())
    with pytest.raises(TypeError, match="source"):
        import nodetls as tls

        tls.create_server().use_ticket_keys(b"x" * 48)


def test_pack_roundtrip_and_garbage():
    keys = TicketKeys(interval=5, keep=2)
    entries = keys.entries()
    back = unpack_entries(pack_entries(entries))
    assert [bytes(k) for _, k in back] == [bytes(k) for _, k in entries]
    assert all(abs(a[0] - b[0]) < 0.001 for a, b in zip(back, entries, strict=True))
    assert unpack_entries(b"garbage") == [] and unpack_entries(None) == []
    now = time.time()
    assert material(back, now) == keys.ticket_keys(now)


async def test_tickets_resume_across_rotations_until_their_key_is_retired(certs):
    # interval 0.4 s, keep 1: a ticket's key encrypts for 0.4 s then decrypts for 0.4 s more.
    keys = TicketKeys(interval=0.4, keep=1)
    server, port = await listen({**certs.server.options, **versions("TLSv1.2")})
    server.use_ticket_keys(keys)
    try:
        assert server.get_ticket_keys() == keys.ticket_keys()
        _, ticket = await handshake(port, certs.root.cert_pem)
        changed = asyncio.get_running_loop().create_future()
        before = server.get_ticket_keys()
        keys.subscribe(lambda k: changed.done() or changed.set_result(k))
        await asyncio.wait_for(changed, 5)  # one rotation: the ticket's key is now old
        assert server.get_ticket_keys() != before
        reused, _ = await handshake(port, certs.root.cert_pem, ticket)
        assert reused is True  # an old key still decrypts
        for _ in range(2):  # two more rotations: its key is retired
            changed = asyncio.get_running_loop().create_future()
            await asyncio.wait_for(changed, 5)
        reused, _ = await handshake(port, certs.root.cert_pem, ticket)
        assert reused is False
    finally:
        server.close()
        keys.close()


async def test_redis_keys_are_shared_generated_once_and_expire(redis_server):
    a = RedisTicketKeys(redis_server.url, name="k", interval=60, keep=2)
    b = RedisTicketKeys(redis_server.url, name="k", interval=60, keep=2)
    ka, kb = await asyncio.gather(a.refresh(), b.refresh())  # racing: one generates
    assert ka == kb and len(split(ka)) == 2
    client = redis_server.client()
    try:
        assert await client.exists("k:lock") == 0  # released after generating
        assert 0 < await client.pttl("k") <= (2 + 2) * 60 * 1000
        assert len(unpack_entries(await client.get("k"))) == 2
    finally:
        await client.aclose()
        for k in (a, b):
            await k.redis.aclose()


async def test_redis_rotation_waits_for_a_dead_leaders_lock_then_wipes_retired_keys(redis_server):
    client = redis_server.client()
    a = RedisTicketKeys(redis_server.url, name="k", interval=0.4, keep=0)
    try:
        first = split(await a.refresh())
        # A server took the lock and died mid-rotation: the lock expires (interval/4 here).
        await client.set("k:lock", "dead-server", px=300)
        await asyncio.sleep(0.45)  # the pending key is due, but the lock is still held
        stalled = split(await a.refresh())
        assert stalled[0] == first[1]  # the published key took over on time anyway
        assert len(stalled) == 2  # (nothing new published while the lock is held)
        await asyncio.sleep(0.3)
        now = split(await a.refresh())  # lock expired: this server publishes
        assert len(now) == 2 and now[0] == first[1] and now[1] not in first
        stored = [bytes(k) for _, k in unpack_entries(await client.get("k"))]
        assert first[0] not in stored  # keep=0: the retired key is gone from Redis
    finally:
        await client.aclose()
        await a.redis.aclose()


async def test_two_servers_share_stateless_tickets_through_redis(certs, redis_server, tls_version):
    sources = [RedisTicketKeys(redis_server.url, interval=60) for _ in range(2)]
    servers = []
    try:
        for src in sources:
            await src.refresh()
            servers.append(await listen({**certs.server.options, **versions(tls_version)}))
            servers[-1][0].use_ticket_keys(src)
        (_, pa), (_, pb) = servers
        _, ticket = await handshake(pa, certs.root.cert_pem)
        reused, _ = await handshake(pb, certs.root.cert_pem, ticket)
        assert reused is True
    finally:
        for srv, _ in servers:
            srv.close()
        for src in sources:
            src.close()
            await src.redis.aclose()


def test_a_server_made_before_the_loop_rotates_once_listening(certs):
    import nodetls as tls

    keys = TicketKeys(interval=0.2, keep=1)
    server = tls.create_server(certs.server.options)
    server.use_ticket_keys(keys)  # no running loop yet
    first = server.get_ticket_keys()
    seen = []

    async def main():
        server.listen(0, "127.0.0.1")
        await asyncio.wait_for(server, 5)
        changed = asyncio.get_running_loop().create_future()
        keys.subscribe(lambda k: changed.done() or changed.set_result(k))
        await asyncio.wait_for(changed, 5)
        seen.append(server.get_ticket_keys())
        server.close()

    tls.run(main)
    assert seen and seen[0] != first  # the rotation reached the server
