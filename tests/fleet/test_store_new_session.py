"""How use_session_store receives new sessions (TLS 1.3 stateful tickets): a memory store is
written inside the handshake step, a Redis store is asked at once and the tickets wait for its
answer; a user's own 'newSession' listener keeps Node's path."""

from __future__ import annotations

import asyncio

import nodetls as tls
from nodetls._openssl import constants as C
from nodetls.sessions import MemorySessionStore, RedisSessionStore

from .fleetutil import T, handshake, listen, versions

STATEFUL13 = {"secure_options": C.SSL_OP_NO_TICKET, **versions("TLSv1.3")}


async def test_memory_store_holds_the_tickets_at_secure_connection(certs):
    store = MemorySessionStore()
    server, port = await listen({**certs.server.options, **STATEFUL13})
    server.use_session_store(store)
    stored_at_secure: list[int] = []
    server.on("secureConnection", lambda _s: stored_at_secure.append(len(store)))
    try:
        reused, session = await handshake(port, certs.root.cert_pem)
        assert reused is False and session is not None
        assert stored_at_secure == [2]  # OpenSSL's two TLS 1.3 tickets, already stored
        reused, _ = await handshake(port, certs.root.cert_pem, session)
        assert reused is True and server.session_store_stats["hits"] == 1
    finally:
        server.close()


async def test_a_user_new_session_listener_keeps_nodes_order(certs):
    """With a listener of the user's beside the store's, 'newSession' is emitted to both, one
    per ticket, after 'secureConnection' (Node), and the store still resumes."""
    store = MemorySessionStore()
    server, port = await listen({**certs.server.options, **STATEFUL13})
    server.use_session_store(store)
    seen: list[str] = []
    server.on("secureConnection", lambda _s: seen.append("secure"))

    def user_listener(session_id: bytes, data: bytes, callback) -> None:
        seen.append(f"new:{len(store)}")
        callback()

    server.on("newSession", user_listener)
    try:
        reused, session = await handshake(port, certs.root.cert_pem)
        assert reused is False and session is not None
        assert seen == ["secure", "new:1", "new:2"]  # the store's listener runs first
        reused, _ = await handshake(port, certs.root.cert_pem, session)
        assert reused is True
    finally:
        server.close()


class TimedStore(RedisSessionStore):
    """Notes when Redis answered each SET (its callback form stays in use)."""

    answered: list[float]

    def store_then(self, key, data, ttl, timeout, then, arg):
        loop = asyncio.get_running_loop()

        def noted(arg, reply):
            self.answered.append(loop.time())
            then(arg, reply)

        super().store_then(key, data, ttl, timeout, noted, arg)


async def test_redis_tickets_reach_the_client_only_once_stored(certs, redis_server,
                                                               redis_client):
    """Redis paused during the handshake: 'secureConnection' does not wait for the store, the
    tickets (and the server's data behind them) do, until both SETs are answered."""
    store = TimedStore(redis_server.url)
    store.answered = []
    server, port = await listen({**certs.server.options, **STATEFUL13})
    server.use_session_store(store, store_timeout=T)
    loop = asyncio.get_running_loop()
    secure_at: list[float] = []
    server.on("secureConnection", lambda _s: secure_at.append(loop.time()))
    try:
        await handshake(port, certs.root.cert_pem)  # the store's connection is made
        store.answered.clear()
        await redis_client.execute_command("CLIENT", "PAUSE", 3000)
        sessions_at: list[float] = []
        sessions: list[bytes] = []
        done = loop.create_future()
        sock = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                  "servername": "localhost"})
        sock.on("session", lambda d: (sessions.append(d), sessions_at.append(loop.time())))
        sock.on("data", lambda _d: sessions_at.append(-1.0))  # (the server's b"hi")
        sock.on("close", lambda *_: done.done() or done.set_result(None))
        await asyncio.wait_for(done, T)
        assert len(store.answered) == 2
        assert secure_at[-1] < min(store.answered)  # 'secureConnection' did not wait
        assert len(sessions_at) == 3 and sessions_at[2] == -1.0  # both tickets, then the data
        assert min(sessions_at[:2]) >= max(store.answered)  # no ticket before both were stored
        reused, _ = await handshake(port, certs.root.cert_pem, sessions[-1])
        assert reused is True
    finally:
        server.close()
        await store.aclose()
