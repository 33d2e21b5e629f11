"""The connections a :class:`~nodetls.sessions.RedisSessionStore` made from a URL talks through.

They are redis-py's own asyncio ``Connection`` objects (made by redis-py from the URL: TCP, TLS,
Unix sockets, AUTH, the db number, hiredis as the parser when installed), each carrying one
command at a time, taken from a free list.  What is left out is the machinery around them that a
session lookup does not need and that costs more CPU than the lookup itself (measured: about
265 Python calls per command through ``Redis.execute_command`` and a ``BlockingConnectionPool``,
about 85 here): the pool's lock, condition and per-checkout health probe, the command-name
dispatch, retries and the per-call observability hooks, and the per-read socket timeout (each
wraps the read in an ``asyncio.timeout``).

Instead:

* **Timeouts** are the caller's: ``server.use_session_store`` cancels a call after
  ``store_timeout``.  redis-py drops a connection whose command was interrupted (a reply may still
  be on its way), so a cancelled command never shifts the replies of later ones.
* **Errors** are redis-py's: a connection that failed is disconnected by redis-py and connects
  again on its next command.  After Redis restarts, an idle connection that has not noticed yet
  fails its next command once (a full handshake), then reconnects.
* **At most** ``limit`` connections; a command that finds none free waits for one, first come
  first served.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

__all__ = ["RedisConnections"]


class RedisConnections:
    """redis-py connections to the Redis at ``url``, one command at a time each."""

    def __init__(self, url: str, limit: int = 64) -> None:
        try:
            import redis.asyncio as aioredis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
        except ImportError as exc:  # pragma: no cover - redis is an optional dependency
            raise ImportError("a Redis URL needs redis-py: pip install 'nodetls[redis]'") from exc
        # redis-py parses the URL (its query options win over these) and makes the connections.
        factory = aioredis.ConnectionPool.from_url(
            url, socket_timeout=None, socket_connect_timeout=1.0, retry=Retry(NoBackoff(), 0))
        self._make: Any = factory.make_connection
        self._limit = limit
        self._all: list[Any] = []
        self._free: list[Any] = []
        self._waiters: deque[asyncio.Future[Any]] = deque()

    async def call(self, *args: Any) -> Any:
        """Send one command and return its reply (redis-py's parsing: bytes, int, None...)."""
        conn = self._free.pop() if self._free else await self._acquire()
        try:
            await conn.send_packed_command(conn.pack_command(*args), False)
            return await conn.read_response()
        finally:
            self._release(conn)

    async def _acquire(self) -> Any:
        if len(self._all) < self._limit:
            conn = self._make()
            self._all.append(conn)
            return conn
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():  # handed over, then cancelled
                self._release(waiter.result())
            raise

    def _release(self, conn: Any) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        self._free.append(conn)

    @property
    def connections(self) -> int:
        """How many connections exist (connected or not)."""
        return len(self._all)

    async def aclose(self) -> None:
        """Disconnect every connection (a later command connects again)."""
        for conn in self._all:
            await conn.disconnect()
