"""server.use_session_store: memory and Redis stores behind 'newSession'/'resumeSession', bounded by
store_timeout, never failing a connection (issue 9, item 1)."""

from __future__ import annotations

import asyncio

import pytest

from nodetls._openssl import constants as C
from nodetls.sessions import MemorySessionStore, RedisSessionStore, SessionStore

from .fleetutil import handshake, listen, versions

STATEFUL = {"secure_options": C.SSL_OP_NO_TICKET}  # TLS 1.2 ids, TLS 1.3 stateful tickets


async def test_memory_store_is_an_lru_with_expiry():
    store = MemorySessionStore(max_sessions=2)
    assert isinstance(store, SessionStore)
    await store.set(b"a", b"A", 60)
    await store.set(b"b", b"B", 60)
    assert await store.get(b"a") == b"A"  # a is now the most recent
    await store.set(b"c", b"C", 60)  # evicts b, the least recently used
    assert await store.get(b"b") is None
    assert await store.get(b"a") == b"A" and await store.get(b"c") == b"C"
    await store.set(b"d", b"D", 0.05)
    await asyncio.sleep(0.1)
    assert await store.get(b"d") is None
    await store.delete(b"a")
    assert await store.get(b"a") is None and len(store) == 1


def test_bad_arguments_raise_at_creation(certs):
    with pytest.raises(ValueError, match="max_sessions"):
        MemorySessionStore(0)
    with pytest.raises(TypeError, match="max_sessions"):
        MemorySessionStore("10")
    with pytest.raises(TypeError, match="redis"):
        RedisSessionStore(42)
    import nodetls as tls

    server = tls.create_server(certs.server.options)
    with pytest.raises(TypeError, match="store"):
        server.use_session_store(object())
    with pytest.raises(ValueError, match="store_timeout"):
        server.use_session_store(MemorySessionStore(), store_timeout=0)


async def test_redis_store_keys_expire_with_the_ttl(redis_client):
    store = RedisSessionStore(redis_client, prefix="t:")
    await store.set(b"\x00id", b"data", 30)
    assert await store.get(b"\x00id") == b"data"
    ttl_ms = await redis_client.pttl(b"t:\x00id")
    assert 25_000 < ttl_ms <= 30_000
    await store.delete(b"\x00id")
    assert await store.get(b"\x00id") is None


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_store_resumes_tls12_ids_and_tls13_stateful_tickets(certs, tls_version, kind,
                                                                   redis_server):
    store = MemorySessionStore() if kind == "memory" else RedisSessionStore(redis_server.url)
    server, port = await listen({**certs.server.options, **versions(tls_version), **STATEFUL,
                                 "session_timeout": 60})
    server.use_session_store(store)
    try:
        reused, session = await handshake(port, certs.root.cert_pem)
        assert reused is False and session is not None
        reused, _ = await handshake(port, certs.root.cert_pem, session)
        assert reused is True
        stats = server.session_store_stats
        assert stats["hits"] >= 1 and stats["errors"] == 0 and stats["timeouts"] == 0
    finally:
        server.close()
        if kind == "redis":
            await store.aclose()


async def test_the_stores_lookup_and_a_users_listener_beside_it(certs, tls_version):
    """The store's listener alone: the compiled binding decides and answers the lookup in C
    (no ``'resumeSession'`` event, the session path on the connection's engine).  A listener of
    the user's beside it: the event is emitted with the id again (the Python decision), and the
    store still answers it."""
    from nodetls._engine import callbacks

    server, port = await listen({**certs.server.options, **versions(tls_version), **STATEFUL})
    server.use_session_store(MemorySessionStore())
    paths: list[bool] = []
    server.on("secureConnection", lambda s: paths.append(s._engine.session_path))
    try:
        _, session = await handshake(port, certs.root.cert_pem)
        reused, _ = await handshake(port, certs.root.cert_pem, session)
        assert reused is True
        assert paths == [callbacks.SESSION_PATH] * 2

        seen: list[bytes] = []
        server.on("resumeSession", lambda sid, callback: seen.append(sid))
        _, session = await handshake(port, certs.root.cert_pem)
        reused, _ = await handshake(port, certs.root.cert_pem, session)
        assert reused is True
        # (TLS 1.2 only: the fresh connection's random legacy id is looked up too, a miss)
        assert len(seen) == (1 if tls_version == "TLSv1.3" else 2)
        assert all(len(sid) == 32 for sid in seen)
        assert paths[2:] == [False, False]
        assert server.session_store_stats["hits"] == 2
    finally:
        server.close()


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_openssl_resumes_after_a_hello_retry_request(certs, kind, redis_server, tmp_path):
    """``openssl s_client``'s resuming ClientHello carries an X25519 key share; the server takes
    P-256 only: a HelloRetryRequest, and OpenSSL looks the second ClientHello's ticket up again.
    The store's one answer serves both lookups: the session resumes."""
    from helpers.peers import run_openssl_client

    store = MemorySessionStore() if kind == "memory" else RedisSessionStore(redis_server.url)
    server, port = await listen({**certs.server.options, **versions("TLSv1.3"), **STATEFUL,
                                 "ecdh_curve": "P-256"})
    server.use_session_store(store)
    sess = tmp_path / "sess.pem"
    args = ["-CAfile", str(certs.root.cert_path), "-servername", "localhost", "-tls1_3",
            "-ign_eof"]
    try:
        first = await run_openssl_client([*args, "-groups", "P-256", "-sess_out", sess],
                                         stdin=b"", port=port, timeout=20)
        assert "New, TLSv1.3" in first.stdout and sess.exists()
        second = await run_openssl_client([*args, "-groups", "X25519:P-256", "-sess_in", sess,
                                           "-msg"], stdin=b"", port=port, timeout=20)
        assert "Reused, TLSv1.3" in second.stdout, second.stdout
        assert second.stdout.count("ClientHello") == 2  # the retry happened
        assert server.session_store_stats["hits"] == 1
    finally:
        server.close()
        if kind == "redis":
            await store.aclose()


class BrokenStore:
    async def get(self, session_id):
        raise ConnectionError("store down")

    async def set(self, session_id, data, ttl):
        raise ConnectionError("store down")

    async def delete(self, session_id):
        raise ConnectionError("store down")


class SlowStore(MemorySessionStore):
    async def get(self, session_id):
        await asyncio.sleep(5)
        return await super().get(session_id)


async def test_a_failing_store_means_a_full_handshake(certs, tls_version):
    server, port = await listen({**certs.server.options, **versions(tls_version), **STATEFUL})
    server.use_session_store(BrokenStore())
    try:
        reused, session = await handshake(port, certs.root.cert_pem)
        reused, _ = await handshake(port, certs.root.cert_pem, session)
        assert reused is False
        assert server.session_store_stats["errors"] >= 2  # the set, then the get
    finally:
        server.close()


async def test_a_slow_store_is_abandoned_after_store_timeout(certs, tls_version):
    server, port = await listen({**certs.server.options, **versions(tls_version), **STATEFUL})
    server.use_session_store(SlowStore(), store_timeout=0.05)
    try:
        _, session = await handshake(port, certs.root.cert_pem)
        loop = asyncio.get_running_loop()
        start = loop.time()
        reused, _ = await handshake(port, certs.root.cert_pem, session)
        assert reused is False
        assert loop.time() - start < 2  # not the store's 5 s
        assert server.session_store_stats["timeouts"] >= 1
    finally:
        server.close()


async def test_a_redis_error_reply_means_a_full_handshake(certs, redis_server, redis_client):
    """An error reply (here: GETEX forbidden by an ACL) answers that lookup only: a full
    handshake, counted as an error; the connection goes on serving."""
    store = RedisSessionStore(redis_server.url)
    server, port = await listen({**certs.server.options, **STATEFUL, **versions("TLSv1.3")})
    server.use_session_store(store)
    try:
        _, session = await handshake(port, certs.root.cert_pem)
        await redis_client.execute_command("ACL", "SETUSER", "default", "-getex")
        reused, fresh = await handshake(port, certs.root.cert_pem, session)
        assert reused is False and server.session_store_stats["errors"] == 1
        await redis_client.execute_command("ACL", "SETUSER", "default", "+getex")
        reused, _ = await handshake(port, certs.root.cert_pem, fresh)  # its SET went through
        assert reused is True and server.session_store_stats["errors"] == 1
        assert store.redis.connects == 1
    finally:
        server.close()
        await store.aclose()


async def test_a_paused_redis_is_abandoned_after_store_timeout(certs, tls_version, redis_server,
                                                               redis_client):
    store = RedisSessionStore(redis_server.url)
    server, port = await listen({**certs.server.options, **versions(tls_version), **STATEFUL})
    server.use_session_store(store, store_timeout=0.05)
    try:
        _, session = await handshake(port, certs.root.cert_pem)
        await redis_client.execute_command("CLIENT", "PAUSE", 3000)
        loop = asyncio.get_running_loop()
        start = loop.time()
        reused, _ = await handshake(port, certs.root.cert_pem, session)
        assert reused is False
        assert loop.time() - start < 2.5  # not Redis's 3 s
        stats = server.session_store_stats
        # the lookup, then the new session(s): TLS 1.3 sends two tickets
        assert stats["timeouts"] == (2 if tls_version == "TLSv1.2" else 3) and stats["errors"] == 0
    finally:
        server.close()
        await store.aclose()


async def test_redis_down_then_back(certs, redis_server):
    store = RedisSessionStore(redis_server.url)
    server, port = await listen({**certs.server.options, **STATEFUL, **versions("TLSv1.2")})
    server.use_session_store(store)
    try:
        await redis_server.stop()
        reused, session = await handshake(port, certs.root.cert_pem)  # set fails: no connection lost
        assert reused is False
        reused, _ = await handshake(port, certs.root.cert_pem, session)
        assert reused is False
        stats = server.session_store_stats
        assert stats["errors"] + stats["timeouts"] >= 2
        await redis_server.start()
        _, session = await handshake(port, certs.root.cert_pem)
        reused, _ = await handshake(port, certs.root.cert_pem, session)
        assert reused is True
    finally:
        server.close()
        await store.aclose()


async def test_redis_store_over_a_unix_socket(certs, tmp_path):
    from helpers.redis_server import RedisServer

    async with RedisServer(tmp_path / "redis-unix", unix=True) as redis:
        assert redis.url.startswith("unix://")
        store = RedisSessionStore(redis.url)
        server, port = await listen({**certs.server.options, **STATEFUL, **versions("TLSv1.3")})
        server.use_session_store(store)
        try:
            _, session = await handshake(port, certs.root.cert_pem)
            reused, _ = await handshake(port, certs.root.cert_pem, session)
            assert reused is True and server.session_store_stats["hits"] == 1
        finally:
            server.close()
            await store.aclose()


# ---- a used TLS 1.3 stateful ticket is kept only StoreBinding.USED_TICKET_GRACE seconds more
async def _ttls_ms(redis_client, prefix: bytes = b"nodetls:session:") -> list[int]:
    return sorted([await redis_client.pttl(k) for k in await redis_client.keys(prefix + b"*")])


async def test_redis_a_used_tls13_ticket_expires_within_the_grace(certs, redis_server,
                                                                   redis_client):
    from nodetls.sessions._wiring import StoreBinding

    store = RedisSessionStore(redis_server.url)
    server, port = await listen({**certs.server.options, **versions("TLSv1.3"), **STATEFUL,
                                 "session_timeout": 120})
    server.use_session_store(store)
    try:
        _, session = await handshake(port, certs.root.cert_pem)
        ttls = await _ttls_ms(redis_client)
        assert len(ttls) == 2 and ttls[0] > 100_000  # OpenSSL issues two tickets
        reused, _ = await handshake(port, certs.root.cert_pem, session)
        assert reused is True
        ttls = await _ttls_ms(redis_client)
        # one GETEX ... PX: the offered ticket now expires within the grace; the other ticket
        # and the new one keep the session timeout
        assert len(ttls) == 3
        assert 0 < ttls[0] <= StoreBinding.USED_TICKET_GRACE * 1000
        assert ttls[1] > 100_000 and ttls[2] > 100_000
        # within the grace the ticket still resumes (a client's parallel connections)
        reused, _ = await handshake(port, certs.root.cert_pem, session)
        assert reused is True
        assert server.session_store_stats["hits"] == 2
    finally:
        server.close()
        await store.aclose()


async def test_redis_a_tls12_session_id_keeps_its_ttl_when_used(certs, redis_server,
                                                                 redis_client):
    store = RedisSessionStore(redis_server.url)
    server, port = await listen({**certs.server.options, **versions("TLSv1.2"), **STATEFUL,
                                 "session_timeout": 120})
    server.use_session_store(store)
    try:
        _, session = await handshake(port, certs.root.cert_pem)
        for _ in range(3):
            reused, _ = await handshake(port, certs.root.cert_pem, session)
            assert reused is True
        ttls = await _ttls_ms(redis_client)
        assert len(ttls) == 1 and ttls[0] > 100_000
    finally:
        server.close()
        await store.aclose()


@pytest.mark.parametrize("kind", ["memory", "memory-subclass", "redis"])
async def test_a_used_tls13_ticket_no_longer_resumes_after_the_grace(certs, kind, redis_server,
                                                                     monkeypatch):
    from nodetls.sessions._wiring import StoreBinding

    class Subclass(MemorySessionStore):  # replaces get: used through the coroutines
        async def get(self, session_id):
            return await super().get(session_id)

    monkeypatch.setattr(StoreBinding, "USED_TICKET_GRACE", 0.3)
    store = {"memory": MemorySessionStore, "memory-subclass": Subclass,
             "redis": lambda: RedisSessionStore(redis_server.url)}[kind]()
    server, port = await listen({**certs.server.options, **versions("TLSv1.3"), **STATEFUL,
                                 "session_timeout": 60})
    server.use_session_store(store)
    try:
        _, session = await handshake(port, certs.root.cert_pem)
        reused, fresh = await handshake(port, certs.root.cert_pem, session)
        assert reused is True and fresh is not None
        await asyncio.sleep(0.5)  # the grace runs out
        reused, _ = await handshake(port, certs.root.cert_pem, session)
        assert reused is False  # the used ticket is gone
        reused, _ = await handshake(port, certs.root.cert_pem, fresh)
        assert reused is True  # the ticket issued on resumption is not
    finally:
        server.close()
        if kind == "redis":
            await store.aclose()


async def test_memory_store_get_and_expire_shortens_never_lengthens():
    store = MemorySessionStore()
    await store.set(b"a", b"A", 60)
    await store.set(b"b", b"B", 0.1)
    assert await store.get_and_expire(b"a", 0.1) == b"A"
    assert await store.get_and_expire(b"b", 60) == b"B"
    await asyncio.sleep(0.2)
    assert await store.get(b"a") is None and await store.get(b"b") is None


async def test_a_store_without_get_and_expire_is_read_with_get(certs, monkeypatch):
    from nodetls.sessions._wiring import StoreBinding

    class Plain:  # the SessionStore protocol only
        def __init__(self):
            self.items = {}

        async def get(self, session_id):
            return self.items.get(session_id)

        async def set(self, session_id, data, ttl):
            self.items[session_id] = data

        async def delete(self, session_id):
            self.items.pop(session_id, None)

    monkeypatch.setattr(StoreBinding, "USED_TICKET_GRACE", 0.01)
    store = Plain()
    server, port = await listen({**certs.server.options, **versions("TLSv1.3"), **STATEFUL})
    server.use_session_store(store)
    try:
        _, session = await handshake(port, certs.root.cert_pem)
        for _ in range(2):
            await asyncio.sleep(0.05)
            reused, _ = await handshake(port, certs.root.cert_pem, session)
            assert reused is True  # its own ttl rules
    finally:
        server.close()
