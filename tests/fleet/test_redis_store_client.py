"""RedisSessionStore given a URL (redis-py's asyncio client) against a real redis-server:
pipelined commands, abandoned commands (store_timeout), AUTH and the db number, reconnection."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import warnings
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from helpers.open_sockets import open_sockets
from nodetls.sessions import RedisSessionStore, _redis_conns
from nodetls.sessions._redis_conns import StoreTimeout


def settle(fut: asyncio.Future[object], reply: object) -> None:
    """A callback form's ``then(arg, reply)``: the reply into the future ``arg``."""
    fut.set_result(reply)


def append(replies: list[object], reply: object) -> None:
    replies.append(reply)


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


async def test_commands_are_pipelined_on_one_connection(redis_server, redis_client):
    """Many commands at once share one connection; abandoned ones (Redis holding every reply)
    keep their place, so later commands still get their own replies."""
    store = RedisSessionStore(redis_server.url)
    try:
        await store.set(b"k", b"v", 60)
        await redis_client.execute_command("CLIENT", "PAUSE", 2000)
        gets = [asyncio.ensure_future(store.get(b"k")) for _ in range(300)]
        done, pending = await asyncio.wait(gets, timeout=0.05)
        assert not done  # Redis is paused
        for g in pending:
            g.cancel()
        await asyncio.gather(*gets, return_exceptions=True)
        got = await asyncio.wait_for(asyncio.gather(*(store.get(b"%d" % i) for i in range(100)),
                                                    store.get(b"k")), 5)
        assert got == [None] * 100 + [b"v"]
        assert store.redis.connections == 1 and store.redis.connects == 1
        clients = await redis_client.client_list()
        assert len(clients) == 2  # the store's connection and redis_client's
    finally:
        await store.aclose()


async def test_callback_commands_time_out_and_later_replies_do_not_shift(redis_server,
                                                                         redis_client):
    """``lookup_then``/``store_then`` (use_session_store's path): past its timeout a command is
    answered with StoreTimeout, at its deadline; its late reply is dropped."""
    store = RedisSessionStore(redis_server.url)
    loop = asyncio.get_running_loop()
    try:
        await store.set(b"a", b"A", 60)
        await store.set(b"b", b"B", 60)
        await redis_client.execute_command("CLIENT", "PAUSE", 2000)
        answers: list[tuple[object, float]] = []
        start = loop.time()
        store.lookup_then(b"a", None, 0.05, lambda _, r: answers.append((r, loop.time() - start)),
                          None)
        store.lookup_then(b"a", 2.0, 0.15, lambda _, r: answers.append((r, loop.time() - start)),
                          None)
        late = loop.create_future()
        store.lookup_then(b"b", None, 5.0, settle, late)
        assert await asyncio.wait_for(late, 5) == b"B"  # not a's late reply
        assert [type(r) for r, _ in answers] == [StoreTimeout, StoreTimeout]
        # at their deadlines, not when Redis answers (2 s)
        assert 0.04 < answers[0][1] < 1.5 and 0.14 < answers[1][1] < 1.5
        # a command answered by the timeout still ran when Redis came back
        assert 0 < await redis_client.pttl(b"nodetls:session:a") <= 2000
    finally:
        await store.aclose()


async def test_a_connection_with_too_many_unanswered_commands_is_dropped(
        redis_server, redis_client, monkeypatch):
    monkeypatch.setattr(_redis_conns, "MAX_WAITING", 20)
    store = RedisSessionStore(redis_server.url)
    try:
        await store.set(b"k", b"v", 60)
        await redis_client.execute_command("CLIENT", "PAUSE", 300)
        replies: list[object] = []
        for _ in range(21):
            store.lookup_then(b"k", None, 10.0, append, replies)
        assert len(replies) == 21 and all(isinstance(r, RedisConnectionError) for r in replies)
        assert await asyncio.wait_for(store.get(b"k"), 5) == b"v"  # a new connection
        assert store.redis.connects == 2
    finally:
        await store.aclose()


@pytest.mark.parametrize("chunk", [1, 3, 1000])
def test_the_fallback_reply_parser_reads_what_hiredis_reads(chunk):
    """Without hiredis, ``_Reader`` parses the replies the store gets, split anywhere."""
    from redis.exceptions import ResponseError

    stream = (b"$4\r\ndata\r\n$-1\r\n+OK\r\n:42\r\n-WRONGTYPE Operation\r\n"
              b"*2\r\n$1\r\na\r\n$0\r\n\r\n*-1\r\n$2\r\n\r\n\r\n")
    reader = _redis_conns._Reader(ResponseError)
    got = []
    for i in range(0, len(stream), chunk):
        reader.feed(stream[i:i + chunk])
        while (reply := reader.gets()) is not False:
            got.append(reply)
    assert got[:4] == [b"data", None, b"OK", 42]
    assert isinstance(got[4], ResponseError) and "WRONGTYPE" in str(got[4])
    assert got[5:] == [[b"a", b""], None, b"\r\n"]
    reader.feed(b"_\r\n")  # RESP3's null
    assert reader.gets() is None and reader.gets() is False
    reader.feed(b"%1\r\n")  # a RESP3 map: not a reply the store asks for
    with pytest.raises(ValueError):
        reader.gets()


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


async def test_callback_commands_store_and_read_binary_sessions(redis_server, redis_client):
    """``store_then``/``lookup_then`` (commands packed in one formatting each) against Redis:
    binary keys and data, the ttl and the GETEX grace as ``set``/``get_and_expire`` give them."""
    store = RedisSessionStore(redis_server.url, prefix="b:")
    loop = asyncio.get_running_loop()
    sid, data = b"\r\n$*\x00" * 8, bytes(range(256)) * 3

    async def ask(fn, *args):
        fut = loop.create_future()
        fn(*args, 5.0, settle, fut)
        return await asyncio.wait_for(fut, 5)

    try:
        assert await ask(store.store_then, sid, data, 30.0) == b"OK"
        assert 25_000 < await redis_client.pttl(b"b:" + sid) <= 30_000
        assert await ask(store.lookup_then, sid, None) == data
        assert await ask(store.lookup_then, sid, 2.5) == data
        assert 0 < await redis_client.pttl(b"b:" + sid) <= 2500
        assert await ask(store.store_then, sid, data, 0) == 1  # a ttl <= 0 deletes
        assert await ask(store.lookup_then, sid, None) is None
        assert await store.get(sid) is None
    finally:
        await store.aclose()


async def test_a_store_used_from_another_event_loop_connects_there(redis_server):
    """A connection belongs to the loop that made it: a store used from another loop (here: a
    thread's) connects again there instead of waiting on a connection no loop serves."""
    store = RedisSessionStore(redis_server.url)
    try:
        await store.set(b"k", b"v", 60)

        async def elsewhere() -> object:
            loop = asyncio.get_running_loop()
            fut = loop.create_future()
            store.lookup_then(b"k", None, 2.0, settle, fut)
            got = await asyncio.wait_for(fut, 5)
            await store.aclose()
            return got

        assert await asyncio.to_thread(asyncio.run, elsewhere()) == b"v"
        assert await asyncio.wait_for(store.get(b"k"), 5) == b"v"  # and back here
        assert store.redis.connects == 3
    finally:
        await store.aclose()


async def test_a_store_used_by_a_later_loop_of_the_same_thread_connects_again(redis_server):
    """A connection whose loop has finished (another ``asyncio.run`` in the same thread) is not
    reused: the next command connects from the loop running now."""
    store = RedisSessionStore(redis_server.url)

    async def once() -> object:
        fut = asyncio.get_running_loop().create_future()
        store.lookup_then(b"k", None, 2.0, settle, fut)
        return await asyncio.wait_for(fut, 5)

    def twice() -> list[object]:
        return [asyncio.run(once()), asyncio.run(once())]

    try:
        await store.set(b"k", b"v", 60)
        assert await asyncio.to_thread(twice) == [b"v", b"v"]
        assert store.redis.connects == 3
    finally:
        await store.aclose()


def loop_runner(name: str) -> Callable[[Coroutine[Any, Any, object]], object]:
    """``asyncio.run`` or ``uvloop.run`` (skipped without uvloop)."""
    if name == "asyncio":
        return asyncio.run
    uvloop = pytest.importorskip("uvloop")
    return uvloop.run


def lookup_once(store: RedisSessionStore) -> Coroutine[Any, Any, object]:
    """One lookup of ``k`` through the callback form, from the running loop."""
    async def once() -> object:
        fut = asyncio.get_running_loop().create_future()
        store.lookup_then(b"k", None, 2.0, settle, fut)
        return await asyncio.wait_for(fut, 5)

    return once()


@pytest.mark.parametrize("runner", ["asyncio", "uvloop"])
async def test_a_store_closes_the_connections_of_finished_loops(redis_server, runner):
    """Commands from two loops run one after the other in a thread (two ``asyncio.run`` or
    ``uvloop.run``), then ``aclose()`` from a third: each connection is closed when its loop's
    run returns (by the loop's shutdown, before ``close()``: uvloop's ``close()`` would close it
    with an "unclosed resource" ResourceWarning), no connection of the store is left open in
    this process, and nothing warns, then or when the old connections are collected."""
    run = loop_runner(runner)
    store = RedisSessionStore(redis_server.url)
    before = open_sockets()

    def in_turn() -> tuple[list[object], list[list[tuple[str, str]]], list[str]]:
        got: list[object] = []
        left: list[list[tuple[str, str]]] = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            for _ in range(2):
                got.append(run(lookup_once(store)))
                left.append(sorted(open_sockets() - before))
            run(store.aclose())
            gc.collect()
        return got, left, [str(w.message) for w in caught if w.category is ResourceWarning]

    got, left, warned = await asyncio.wait_for(asyncio.to_thread(in_turn), 15)
    assert got == [None, None]
    assert left == [[], []]
    assert warned == []
    assert store.redis.connects == 2
    assert sorted(open_sockets() - before) == []


async def test_a_store_closes_the_connection_of_a_loop_closed_without_its_shutdown(redis_server):
    """An asyncio loop closed without ``shutdown_asyncgens()`` (``loop.close()`` alone) leaves the
    connection open: the next command, from another loop, closes it (its transport's close,
    finished there, since the closed loop runs nothing), without a ResourceWarning."""
    store = RedisSessionStore(redis_server.url)
    before = open_sockets()

    def in_turn() -> tuple[list[object], list[tuple[str, str]], list[str]]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            loop = asyncio.new_event_loop()
            try:
                got = [loop.run_until_complete(lookup_once(store))]
            finally:
                loop.close()
            left = sorted(open_sockets() - before)  # (its connection: nothing closed it)
            got.append(asyncio.run(lookup_once(store)))
            asyncio.run(store.aclose())
            gc.collect()
        return got, left, [str(w.message) for w in caught if w.category is ResourceWarning]

    got, left, warned = await asyncio.wait_for(asyncio.to_thread(in_turn), 15)
    assert got == [None, None]
    assert len(left) == 1
    assert warned == []
    assert store.redis.connects == 2
    assert sorted(open_sockets() - before) == []


@contextlib.asynccontextmanager
async def connected_pipe(redis_server) -> AsyncIterator[_redis_conns.RedisPipe]:
    """A URL store's pipe, connected, with ``nodetls:session:k`` = ``v`` stored."""
    store = RedisSessionStore(redis_server.url)
    try:
        await asyncio.wait_for(store.set(b"k", b"v", 60), 5)
        yield store.pipe
    finally:
        await store.aclose()


GET_K = _redis_conns.pack(b"GET", b"nodetls:session:k")


async def replies_of(pipe: _redis_conns.RedisPipe, sends: list[int]) -> tuple[list[object],
                                                                              list[int]]:
    """Send ``GET_K`` in consecutive loop iterations (``sends[i]`` commands in the i-th, from a
    call soon); the replies, and the pipe's writes counted after each iteration's commands."""
    loop = asyncio.get_running_loop()
    writes = pipe.writes
    replies: list[object] = []
    seen: list[int] = []

    def busy(i: int) -> None:
        for _ in range(sends[i]):
            pipe.send(GET_K, append, replies, 5.0)
        seen.append(pipe.writes - writes)
        if i + 1 < len(sends):
            loop.call_soon(busy, i + 1)

    loop.call_soon(busy, 0)
    for _ in range(400):
        if len(replies) == sum(sends):
            break
        await asyncio.sleep(0.005)
    return replies, seen


async def test_commands_of_consecutive_busy_iterations_go_out_in_one_write(redis_server,
                                                                          monkeypatch):
    """Auto-pipelining across loop iterations: while each iteration adds commands (a busy
    server), they wait for one another, and one write carries them all."""
    monkeypatch.setattr(_redis_conns, "COLLECT_SECONDS", 60.0)  # (a stalled test machine)
    async with connected_pipe(redis_server) as pipe:
        writes = pipe.writes
        n = _redis_conns.COLLECT_ITERATIONS - 1
        replies, seen = await replies_of(pipe, [1] * n)
        assert replies == [b"v"] * n
        assert seen == [0] * n and pipe.writes == writes + 1


async def test_a_lone_command_is_written_one_iteration_later(redis_server, monkeypatch):
    """An idle server's command waits one loop iteration (none adds another), no more."""
    monkeypatch.setattr(_redis_conns, "COLLECT_SECONDS", 60.0)  # (a stalled test machine)
    async with connected_pipe(redis_server) as pipe:
        replies, seen = await replies_of(pipe, [1, 0, 0, 0])
        assert replies == [b"v"]
        assert seen == [0, 0, 1, 1]  # (the pipe's look runs before each iteration's send)


async def test_commands_wait_at_most_collect_iterations(redis_server, monkeypatch):
    """A command every loop iteration, without end: a write still goes out every
    COLLECT_ITERATIONS + 1 iterations (a busy server's lookups are not held back for good)."""
    monkeypatch.setattr(_redis_conns, "COLLECT_SECONDS", 60.0)  # (a stalled test machine)
    async with connected_pipe(redis_server) as pipe:
        rounds = 4 * (_redis_conns.COLLECT_ITERATIONS + 1)
        replies, seen = await replies_of(pipe, [1] * rounds)
        assert replies == [b"v"] * rounds
        assert seen[-1] >= 3


@pytest.mark.parametrize("bound", ["seconds", "commands"])
async def test_collecting_stops_at_its_time_and_size_bounds(redis_server, monkeypatch, bound):
    """A command every loop iteration: with no time left (a server whose iterations are long),
    or once COLLECT_COMMANDS are unsent, the commands go out at the next look."""
    if bound == "seconds":
        monkeypatch.setattr(_redis_conns, "COLLECT_SECONDS", 0.0)
    else:
        monkeypatch.setattr(_redis_conns, "COLLECT_SECONDS", 60.0)
        monkeypatch.setattr(_redis_conns, "COLLECT_COMMANDS", 2)
    async with connected_pipe(redis_server) as pipe:
        replies, seen = await replies_of(pipe, [1, 1, 1, 1])
        assert replies == [b"v"] * 4
        # seconds: each command is written at the first look, one iteration later;
        # commands: the second command makes two unsent, written at the next look.
        assert seen == ([0, 1, 2, 3] if bound == "seconds" else [0, 0, 1, 1])


async def test_collecting_behaves_the_same_on_uvloop(redis_server, monkeypatch):
    """nodetls.run() picks uvloop where installed: the same looks, one per loop iteration (a
    lone command written after one quiet iteration, busy iterations batched into one write)."""
    uvloop = pytest.importorskip("uvloop")
    monkeypatch.setattr(_redis_conns, "COLLECT_SECONDS", 60.0)  # (a stalled test machine)

    async def on_uvloop() -> tuple[object, ...]:
        async with connected_pipe(redis_server) as pipe:
            lone = await replies_of(pipe, [1, 0, 0, 0])
            writes = pipe.writes
            busy = await replies_of(pipe, [1, 1, 1])
            return lone, busy, pipe.writes - writes

    lone, busy, writes = await asyncio.wait_for(asyncio.to_thread(uvloop.run, on_uvloop()), 30)
    assert lone == ([b"v"], [0, 0, 1, 1])
    assert busy == ([b"v"] * 3, [0, 0, 0]) and writes == 1


@pytest.mark.parametrize("reply", [b":1_0\r\n", b": 1\r\n", b":+1\r\n", b":-0\r\n", b":01\r\n",
                                   b":1 \r\n", b":\r\n", b":9223372036854775808\r\n",
                                   b"$ 1\r\na\r\n", b"$01\r\na\r\n", b"$-2\r\n",
                                   b"*+1\r\n:1\r\n", b"*-2\r\n", b"*-0\r\n",
                                   b"+a\nb\r\n", b"-ERR a\rb\r\n", b"_x\r\n"])
def test_the_fallback_reply_parser_refuses_what_hiredis_refuses(reply):
    """``_Reader`` reads a RESP integer (a reply, a bulk length, an array length) as Redis writes
    one and hiredis accepts it: what Python's ``int()`` would also take (blanks, a plus,
    underscores, leading zeros, 64-bit overflow, lengths below -1) is a protocol error, after
    which the connection drops itself, as with hiredis's ``ProtocolError``; so is a simple string
    or error line holding a lone CR or LF, and a RESP3 null with anything on its line."""
    from redis.exceptions import ResponseError

    hiredis = pytest.importorskip("hiredis")
    theirs = hiredis.Reader()
    theirs.feed(reply)
    with pytest.raises(hiredis.ProtocolError):
        theirs.gets()
    reader = _redis_conns._Reader(ResponseError)
    reader.feed(reply)
    with pytest.raises(ValueError, match="bad RESP"):
        reader.gets()
    ok = _redis_conns._Reader(ResponseError)
    ok.feed(b":0\r\n:-9223372036854775808\r\n$0\r\n\r\n*0\r\n")
    assert [ok.gets() for _ in range(4)] == [0, -2**63, b"", []]
