"""Session stores: where ``'newSession'`` puts a TLS 1.2 session (or TLS 1.3 stateful ticket) and
``'resumeSession'`` finds it again.  :class:`MemorySessionStore` serves one process,
:class:`RedisSessionStore` a fleet (redis-py's asyncio client; keys expire with the ttl)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable
from typing import Any, Protocol, runtime_checkable

from ._resp import RespConnection, resp_url

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
    ``unix://``) with short timeouts and no retries: a slow Redis must cost a full handshake,
    not a stalled one."""
    if isinstance(redis, str):
        try:
            import redis.asyncio as aioredis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
        except ImportError as exc:  # pragma: no cover - redis is an optional dependency
            raise ImportError("a Redis URL needs redis-py: pip install 'nodetls[redis]'") from exc
        return aioredis.from_url(redis, socket_timeout=1.0, socket_connect_timeout=1.0,
                                 retry=Retry(NoBackoff(), 0))
    for method in ("get", "set", "delete"):
        if not callable(getattr(redis, method, None)):
            raise TypeError(f'The "{name}" argument must be a redis.asyncio.Redis or a URL. '
                            f"Received {type(redis).__name__}")
    return redis


class RedisSessionStore:
    """Sessions in Redis under ``prefix + session_id`` (binary keys), expiring with the ttl.

    ``redis`` is a URL or a ``redis.asyncio.Redis`` (shared with the rest of the application).
    Given a ``redis://`` or ``unix://`` URL (and hiredis, which the ``redis`` extra installs), the
    store keeps one pipelined connection of its own (``_resp.py``): a lookup is one write and one
    future, about a third of redis-py's CPU per command.  Other URLs and client objects go
    through redis-py.
    """

    def __init__(self, redis: Any, *, prefix: str = "nodetls:session:") -> None:
        if not isinstance(prefix, str):
            raise TypeError(f'The "prefix" argument must be a string. Received {prefix!r}')
        settings = resp_url(redis) if isinstance(redis, str) else None
        self._conn = RespConnection(settings) if settings is not None else None
        self.redis = redis_client(redis, "redis") if self._conn is None else None
        self.prefix = prefix.encode()

    def get(self, session_id: bytes) -> Awaitable[bytes | None]:
        key = self.prefix + _check_id(session_id)
        if self._conn is not None:
            return self._conn.execute(b"GET", key)
        return self._redis_get(key)

    def set(self, session_id: bytes, data: bytes, ttl: float) -> Awaitable[Any]:
        key = self.prefix + _check_id(session_id)
        if ttl <= 0:
            return self.delete(session_id)
        px = max(1, int(ttl * 1000))
        if self._conn is not None:
            return self._conn.execute(b"SET", key, bytes(data), b"PX", b"%d" % px)
        return self.redis.set(key, bytes(data), px=px)  # type: ignore[union-attr, no-any-return]

    def delete(self, session_id: bytes) -> Awaitable[Any]:
        key = self.prefix + _check_id(session_id)
        if self._conn is not None:
            return self._conn.execute(b"DEL", key)
        return self.redis.delete(key)  # type: ignore[union-attr, no-any-return]

    async def _redis_get(self, key: bytes) -> bytes | None:
        value = await self.redis.get(key)  # type: ignore[union-attr]
        return bytes(value) if value is not None else None

    async def aclose(self) -> None:
        """Close the store's connection(s) (``redis.asyncio.Redis.aclose`` for a client)."""
        if self._conn is not None:
            self._conn.close()
        else:
            await self.redis.aclose()  # type: ignore[union-attr]
