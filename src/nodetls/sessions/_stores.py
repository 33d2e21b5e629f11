"""Session stores: where ``'newSession'`` puts a TLS 1.2 session (or TLS 1.3 stateful ticket) and
``'resumeSession'`` finds it again.  :class:`MemorySessionStore` serves one process,
:class:`RedisSessionStore` a fleet (redis-py's asyncio client; keys expire with the ttl)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable
from typing import Any, Protocol, runtime_checkable

__all__ = ["SessionStore", "MemorySessionStore", "RedisSessionStore", "redis_client"]


@runtime_checkable
class SessionStore(Protocol):
    """What ``server.use_session_store`` needs.  Any object with these coroutines will do
    (Go's ``ClientSessionCache``/``WrapSession`` play the same role)."""

    async def get(self, session_id: bytes) -> bytes | None: ...

    async def set(self, session_id: bytes, data: bytes, ttl: float) -> None: ...

    async def delete(self, session_id: bytes) -> None: ...


def _check_id(session_id: Any) -> bytes:
    if not isinstance(session_id, (bytes, bytearray, memoryview)):
        raise TypeError(f'The "session_id" argument must be bytes. Received {session_id!r}')
    return bytes(session_id)


class MemorySessionStore:
    """An in-process LRU of at most ``max_sessions`` sessions, each dropped after its ttl.

    Node keeps no server-side cache at all (``SSL_SESS_CACHE_NO_INTERNAL``); this is the cache its
    documentation asks users to write for ``'newSession'``/``'resumeSession'``.
    """

    def __init__(self, max_sessions: int = 20_000) -> None:
        if isinstance(max_sessions, bool) or not isinstance(max_sessions, int):
            raise TypeError(f'The "max_sessions" argument must be an int. Received {max_sessions!r}')
        if max_sessions < 1:
            raise ValueError(f'The "max_sessions" argument must be >= 1. Received {max_sessions}')
        self.max_sessions = max_sessions
        self._items: OrderedDict[bytes, tuple[float, bytes]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    async def get(self, session_id: bytes) -> bytes | None:
        key = _check_id(session_id)
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= time.monotonic():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return item[1]

    async def set(self, session_id: bytes, data: bytes, ttl: float) -> None:
        key = _check_id(session_id)
        if ttl <= 0:
            self._items.pop(key, None)
            return
        self._items[key] = (time.monotonic() + ttl, bytes(data))
        self._items.move_to_end(key)
        while len(self._items) > self.max_sessions:
            self._items.popitem(last=False)

    async def delete(self, session_id: bytes) -> None:
        self._items.pop(_check_id(session_id), None)


def redis_client(redis: Any, name: str) -> Any:
    """A ``redis.asyncio.Redis`` as given, or one made from a URL (``redis://``, ``rediss://``,
    ``unix://``) with short timeouts, no retries and at most 64 connections: a slow Redis must cost a full handshake,
    not a stalled one."""
    if isinstance(redis, str):
        try:
            import redis.asyncio as aioredis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
        except ImportError as exc:  # pragma: no cover - redis is an optional dependency
            raise ImportError("a Redis URL needs redis-py: pip install 'nodetls[redis]'") from exc
        # A bounded pool that waits for a free connection (redis-py's default pool raises
        # MaxConnectionsError past 100 at once: a burst of handshakes would lose resumption).
        pool = aioredis.BlockingConnectionPool.from_url(
            redis, max_connections=64, timeout=1.0, socket_timeout=1.0,
            socket_connect_timeout=1.0, retry=Retry(NoBackoff(), 0))
        return aioredis.Redis.from_pool(pool)
    for method in ("get", "set", "delete"):
        if not callable(getattr(redis, method, None)):
            raise TypeError(f'The "{name}" argument must be a redis.asyncio.Redis or a URL. '
                            f"Received {type(redis).__name__}")
    return redis


class RedisSessionStore:
    """Sessions in Redis under ``prefix + session_id`` (binary keys), expiring with the ttl.

    ``redis`` is a URL or a ``redis.asyncio.Redis`` (shared with the rest of the application):
    redis-py's asyncio client, with the hiredis parser when installed (the ``redis`` extra
    installs it).  ``get``/``set``/``delete`` hand redis-py's awaitable on without wrapping it in
    a coroutine of their own.
    """

    def __init__(self, redis: Any, *, prefix: str = "nodetls:session:") -> None:
        if not isinstance(prefix, str):
            raise TypeError(f'The "prefix" argument must be a string. Received {prefix!r}')
        self.redis = redis_client(redis, "redis")
        self.prefix = prefix.encode()

    def get(self, session_id: bytes) -> Awaitable[bytes | None]:
        return self._get(self.prefix + _check_id(session_id))

    def set(self, session_id: bytes, data: bytes, ttl: float) -> Awaitable[Any]:
        key = self.prefix + _check_id(session_id)
        if ttl <= 0:
            return self.delete(session_id)
        return self.redis.set(key, bytes(data), px=max(1, int(ttl * 1000)))  # type: ignore[no-any-return]

    def delete(self, session_id: bytes) -> Awaitable[Any]:
        return self.redis.delete(self.prefix + _check_id(session_id))  # type: ignore[no-any-return]

    async def _get(self, key: bytes) -> bytes | None:
        value = await self.redis.get(key)
        return bytes(value) if value is not None else None

    async def aclose(self) -> None:
        """Close the client's connections (``redis.asyncio.Redis.aclose``)."""
        await self.redis.aclose()
