"""RedisSessionStore given a URL (redis-py's asyncio client) against a real redis-server:
concurrent commands, abandoned commands (store_timeout), AUTH and the db number, reconnection."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from nodetls.sessions import RedisSessionStore


def _url(redis_server, auth: str = "", db: int = 0) -> str:
    parts = urlsplit(redis_server.url)
    return f"redis://{auth}{parts.hostname}:{parts.port}/{db}"


async def test_concurrent_commands_get_their_own_replies(redis_server):
    store = RedisSessionStore(redis_server.url)
    try:
        await asyncio.wait_for(asyncio.gather(*(store.set(b"%d" % i, b"v%d" % i, 60)
                                                for i in range(200))), 5)
        got = await asyncio.wait_for(asyncio.gather(*(store.get(b"%d" % i)
                                                      for i in range(200))), 5)
        assert got == [b"v%d" % i for i in range(200)]
        assert await store.get(b"absent") is None
    finally:
        await store.aclose()


async def test_an_abandoned_command_does_not_shift_later_replies(redis_server, redis_client):
    store = RedisSessionStore(redis_server.url)
    try:
        await store.set(b"a", b"A", 60)
        await store.set(b"b", b"B", 60)
        await redis_client.execute_command("CLIENT", "PAUSE", 300)  # Redis holds every reply
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(store.get(b"a"), 0.05)  # what store_timeout does
        assert await asyncio.wait_for(store.get(b"b"), 5) == b"B"  # not a's late reply
    finally:
        await store.aclose()


async def test_password_and_db_from_the_url(redis_server, redis_client):
    await redis_client.config_set("requirepass", "s3cret")
    await redis_client.execute_command("AUTH", "s3cret")
    store = RedisSessionStore(_url(redis_server, "default:s3cret@", db=3), prefix="p:")
    wrong = RedisSessionStore(_url(redis_server, ":nope@"))
    try:
        await store.set(b"id", b"data", 60)
        await redis_client.select(3)
        assert await redis_client.get(b"p:id") == b"data"
        assert await store.get(b"id") == b"data"
        with pytest.raises(Exception, match="(?i)pass|auth"):
            await asyncio.wait_for(wrong.get(b"id"), 5)
    finally:
        await store.aclose()
        await wrong.aclose()


async def test_reconnects_after_the_connection_drops(redis_server, redis_client):
    store = RedisSessionStore(redis_server.url)
    try:
        await store.set(b"k", b"v", 60)
        await redis_client.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
        for _ in range(50):  # the first command may still meet the closing connection
            try:
                assert await asyncio.wait_for(store.get(b"k"), 5) == b"v"
                break
            except (ConnectionError, RedisConnectionError):  # the killed pooled connection
                continue
        else:
            pytest.fail("the store never reconnected")
    finally:
        await store.aclose()


async def test_commands_beyond_the_connection_limit_wait_their_turn(redis_server, redis_client):
    store = RedisSessionStore(redis_server.url)
    limit = 64  # RedisConnections' default
    try:
        await store.set(b"k", b"v", 60)
        await redis_client.execute_command("CLIENT", "PAUSE", 300)
        # more commands than connections, all abandoned while Redis holds the replies: the ones
        # waiting for a connection give up their place
        gets = [asyncio.ensure_future(store.get(b"k")) for _ in range(limit + 20)]
        done, pending = await asyncio.wait(gets, timeout=0.05)
        for g in pending:
            g.cancel()
        await asyncio.gather(*gets, return_exceptions=True)
        assert store.redis.connections == limit
        got = await asyncio.wait_for(asyncio.gather(*(store.get(b"k") for _ in range(limit + 20))),
                                     5)
        assert got == [b"v"] * (limit + 20)
        assert store.redis.connections == limit
    finally:
        await store.aclose()


@pytest.mark.parametrize("given", ["url", "client"])
async def test_get_and_expire_is_one_getex(redis_server, redis_client, given):
    store = RedisSessionStore(redis_server.url if given == "url" else redis_client, prefix="x:")
    try:
        await store.set(b"id", b"data", 60)
        assert await store.get_and_expire(b"id", 2) == b"data"
        assert 0 < await redis_client.pttl(b"x:id") <= 2000
        assert await store.get_and_expire(b"absent", 2) is None
        await store.set(b"gone", b"data", 60)
        assert await redis_client.exists(b"x:gone") == 1
        await store.set(b"gone", b"data", 0)  # a ttl <= 0 deletes
        assert await redis_client.exists(b"x:gone") == 0
    finally:
        if given == "url":
            await store.aclose()
