"""Session stores: where ``'newSession'`` puts a TLS 1.2 session (or TLS 1.3 stateful ticket) and
``'resumeSession'`` finds it again.  :class:`MemorySessionStore` serves one process,
:class:`RedisSessionStore` a fleet (redis-py; keys expire with the ttl).

Beyond the :class:`SessionStore` protocol, both stores have ``get_and_expire(session_id,
within)``: get, and let the entry expire within ``within`` seconds (never later than it would
have).  ``server.use_session_store`` uses it for TLS 1.3 stateful tickets: the client gets a new
ticket on each resumption, so a used ticket only has to outlive the client's burst of parallel
connections offering it (OpenSSL's own stateful cache keeps used tickets until they expire unless
0-RTT is on; deleting them at once turned 68 % of a 16-connection client's resumptions into full
handshakes).  A store without it is read with ``get``.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

from ._loop_redis import LoopRedis
from ._redis_conns import RedisPipe, pack

__all__ = ["SessionStore", "MemorySessionStore", "RedisSessionStore", "redis_client"]


@runtime_checkable
class SessionStore(Protocol):
    """What ``server.use_session_store`` needs.  Any object with these coroutines will do
    (Go's ``ClientSessionCache``/``WrapSession`` play the same role)."""

    async def get(self, session_id: bytes) -> bytes | None: ...

    async def set(self, session_id: bytes, data: bytes, ttl: float) -> None: ...

    async def delete(self, session_id: bytes) -> None: ...

    # Optional: ``async get_and_expire(session_id, within) -> bytes | None``.


def _check_id(session_id: Any) -> bytes:
    if not isinstance(session_id, (bytes, bytearray, memoryview)):
        # (the type only: a value in the wrong place may be a session)
        raise TypeError('The "session_id" argument must be bytes. '
                        f"Received {type(session_id).__name__}")
    return bytes(session_id)


def _seconds(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f'The "{name}" argument must be a number. Received {type(value).__name__}')
    return value


class _Entry:
    """One stored session: its deadline (``time.monotonic()``) and its bytes, which hold the
    resumption secret: ``repr()`` shows the size only."""

    __slots__ = ("expires", "data")

    def __init__(self, expires: float, data: bytes) -> None:
        self.expires = expires
        self.data = data

    def __repr__(self) -> str:
        return f"<session: {len(self.data)} bytes>"

    __str__ = __repr__


class _Entries(OrderedDict[bytes, _Entry]):
    """The LRU of sessions: its ``repr()`` (and so ``vars(store)``, ``pprint``, a traceback's
    locals) counts them, as :class:`~nodetls._option_table.SecretBytes` shows a key's size."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{len(self)} sessions>"

    __str__ = __repr__

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError(_NOT_PICKLED)


_NOT_PICKLED = ("a MemorySessionStore is not pickled: its sessions hold their resumption "
                "secrets (share sessions between processes with RedisSessionStore)")


class MemorySessionStore:
    """An in-process LRU of at most ``max_sessions`` sessions, each dropped after its ttl.

    Node keeps no server-side cache at all (``SSL_SESS_CACHE_NO_INTERNAL``); this is the cache its
    documentation asks users to write for ``'newSession'``/``'resumeSession'``.  Its answers are
    immediate, so ``server.use_session_store`` reads and writes it synchronously, with no task
    (unless a subclass replaces ``get``, ``get_and_expire`` or ``set``): the handshake pauses
    only to ask it (not even that without the compiled binding, where it is read inside the
    client-hello callback).

    A session's bytes hold its resumption secret: ``repr()`` (and ``vars(store)``, a traceback's
    locals, the store's errors) shows how many sessions it keeps, never their bytes, and the
    store refuses to pickle or copy (``TypeError``: a pickle would carry every secret, with
    deadlines on this process's monotonic clock; processes share sessions through
    :class:`RedisSessionStore`).
    """

    def __init__(self, max_sessions: int = 20_000) -> None:
        if isinstance(max_sessions, bool) or not isinstance(max_sessions, int):
            raise TypeError(f'The "max_sessions" argument must be an int. Received {max_sessions!r}')
        if max_sessions < 1:
            raise ValueError(f'The "max_sessions" argument must be >= 1. Received {max_sessions}')
        self.max_sessions = max_sessions
        self._items = _Entries()

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {len(self._items)} sessions (at most {self.max_sessions})>"

    __str__ = __repr__

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError(_NOT_PICKLED)

    async def get(self, session_id: bytes) -> bytes | None:
        return self.lookup_now(_check_id(session_id))

    async def get_and_expire(self, session_id: bytes, within: float) -> bytes | None:
        """Get (through ``get``: a subclass that replaces it is obeyed), and let the entry expire
        within ``within`` seconds (a used TLS 1.3 ticket)."""
        within = _seconds(within, "within")
        data = await self.get(session_id)
        if data is not None:
            self.lookup_now(_check_id(session_id), within)
        return data

    async def set(self, session_id: bytes, data: bytes, ttl: float) -> None:
        self.store_now(_check_id(session_id), data, ttl)

    async def delete(self, session_id: bytes) -> None:
        self._items.pop(_check_id(session_id), None)

    # -- synchronous forms (what the coroutines do; use_session_store calls them directly)
    def lookup_now(self, key: bytes, within: float | None = None) -> bytes | None:
        """The session stored under ``key`` (bytes), or None; with ``within``, it expires at
        the latest ``within`` seconds from now."""
        if within is not None:
            within = _seconds(within, "within")
        items = self._items
        item = items.get(key)
        if item is None:
            return None
        now = time.monotonic()
        if item.expires <= now:
            del items[key]
            return None
        if within is not None and item.expires > now + within:
            item.expires = now + within
        items.move_to_end(key)
        return item.data

    def store_now(self, key: bytes, data: bytes, ttl: float) -> None:
        """Store ``data`` under ``key`` (bytes) for ``ttl`` seconds (``ttl <= 0`` deletes)."""
        ttl = _seconds(ttl, "ttl")
        if not isinstance(data, (bytes, bytearray, memoryview)):  # (bytes(5) would store zeros)
            raise TypeError(f'The "data" argument must be bytes. Received {type(data).__name__}')
        items = self._items
        if ttl <= 0:
            items.pop(key, None)
            return
        items[key] = _Entry(time.monotonic() + ttl, bytes(data))
        items.move_to_end(key)
        while len(items) > self.max_sessions:
            items.popitem(last=False)

    def answers_now(self) -> bool:
        """True when ``get``/``get_and_expire``/``set`` are this class's own, i.e. the
        synchronous forms do what they do (a subclass that replaces one of them is used through
        the coroutines)."""
        cls = type(self)
        return (cls.get is MemorySessionStore.get
                and cls.get_and_expire is MemorySessionStore.get_and_expire
                and cls.set is MemorySessionStore.set)


def redis_client(redis: Any, name: str) -> Any:
    """A ``redis.asyncio.Redis`` as given, or one made from a URL (``redis://``, ``rediss://``,
    ``unix://``) with short timeouts, no retries and at most 64 connections: a slow Redis must cost
    a full handshake, not a stalled one.  One made from a URL serves any event loop, a client of
    its own for each (:class:`~nodetls.sessions._loop_redis.LoopRedis`).  (The ticket-key sources use it; the session store drives
    one pipelined connection itself, see ``_redis_conns``.)"""
    if isinstance(redis, str):
        try:
            import redis.asyncio as aioredis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
        except ImportError as exc:  # pragma: no cover - redis is an optional dependency
            raise ImportError("a Redis URL needs redis-py: pip install 'nodetls[redis]'") from exc
        # A bounded pool that waits for a free connection (redis-py's default pool raises
        # MaxConnectionsError past 100 at once: a burst of handshakes would lose resumption).
        url = redis

        def make() -> Any:
            pool = aioredis.BlockingConnectionPool.from_url(
                url, max_connections=64, timeout=1.0, socket_timeout=1.0,
                socket_connect_timeout=1.0, retry=Retry(NoBackoff(), 0))
            return aioredis.Redis.from_pool(pool)

        make()  # (a bad URL fails here, at creation)
        return LoopRedis(make)  # (one client per event loop: redis-py's is bound to one)
    for method in ("get", "set", "delete", "execute_command"):
        if not callable(getattr(redis, method, None)):
            raise TypeError(f'The "{name}" argument must be a redis.asyncio.Redis or a URL. '
                            f"Received {type(redis).__name__}")
    return redis


class RedisSessionStore:
    """Sessions in Redis under ``prefix + session_id`` (binary keys), expiring with the ttl.

    ``redis`` is a URL or a ``redis.asyncio.Redis`` (shared with the rest of the application).
    Given a URL, the store pipelines its commands on one connection redis-py made from the URL
    (see ``_redis_conns``: replies parsed by hiredis when installed, as the ``redis`` extra
    does), without redis-py's pool and client layers, whose bookkeeping costs more CPU than a
    lookup; a command then has no timeout of its own: ``use_session_store`` bounds each call by
    ``store_timeout``, other callers bound theirs (``asyncio.timeout``; a cancelled call gives up
    its place).  Given a client, every command goes through its ``execute_command``, with its
    settings.  One command per call: ``GET``, ``GETEX ... PX`` (``get_and_expire``, Redis >=
    6.2), ``SET ... PX`` or ``DEL``.
    """

    def __init__(self, redis: Any, *, prefix: str = "nodetls:session:") -> None:
        if not isinstance(prefix, str):
            raise TypeError(f'The "prefix" argument must be a string. Received {prefix!r}')
        self.pipe: Any = None
        if isinstance(redis, str):
            self.pipe = RedisPipe(redis)
            self.redis: Any = self.pipe
            self._call: Callable[..., Awaitable[Any]] = self.redis.call
            # Bytes throughout: they are packed as they are.
            self._names: tuple[Any, ...] = (b"GET", b"GETEX", b"SET", b"DEL", b"PX")
            self._number: Callable[[int], Any] = b"%d".__mod__
        else:
            self.redis = redis_client(redis, "redis")
            self._call = self.redis.execute_command
            self._names = ("GET", "GETEX", "SET", "DEL", "PX")  # the client's response callbacks
            self._number = int
        self.prefix = prefix.encode()
        #: ``len(prefix)``: a packed command's key length is this plus the session id's.
        self.key_offset = len(self.prefix)
        self._formats: dict[tuple[bytes, float | None], bytes] = {}  # see command_format

    def get(self, session_id: bytes) -> Awaitable[bytes | None]:
        return self._call(self._names[0], self.prefix + _check_id(session_id))

    def get_and_expire(self, session_id: bytes, within: float) -> Awaitable[bytes | None]:
        """``GETEX ... PX``: the session, expiring ``within`` seconds from now (Redis >= 6.2)."""
        names = self._names
        return self._call(names[1], self.prefix + _check_id(session_id), names[4],
                          self._number(max(1, int(within * 1000))))

    def set(self, session_id: bytes, data: bytes, ttl: float) -> Awaitable[Any]:
        key = self.prefix + _check_id(session_id)
        names = self._names
        if ttl <= 0:
            return self._call(names[3], key)
        return self._call(names[2], key, bytes(data), names[4],
                          self._number(max(1, int(ttl * 1000))))

    def delete(self, session_id: bytes) -> Awaitable[Any]:
        return self._call(self._names[3], self.prefix + _check_id(session_id))

    # -- callback forms (``use_session_store``'s lean path; see :meth:`answers_by_callback`)
    def answers_by_callback(self) -> bool:
        """True when made from a URL and ``get``/``get_and_expire``/``set`` are this class's
        own: :meth:`lookup_then` and :meth:`store_then` then do what they do, without a task
        per call (a subclass that replaces one of them is used through the coroutines)."""
        cls = type(self)
        return (self.pipe is not None and cls.get is RedisSessionStore.get
                and cls.get_and_expire is RedisSessionStore.get_and_expire
                and cls.set is RedisSessionStore.set)

    def lookup_then(self, key: bytes, within: float | None, timeout: float,
                    then: Callable[[Any, Any], None], arg: Any) -> None:
        """``get`` (``within`` None) or ``get_and_expire`` of ``key`` (bytes; packed here as
        :func:`~nodetls.sessions._redis_conns.pack` would, in one formatting), then
        ``then(arg, reply)``: the session or None, a ``redis.exceptions`` error, or a
        ``StoreTimeout`` after ``timeout`` seconds."""
        fmt = self._formats.get((b"GETEX", within)) or self.command_format(b"GETEX", within)
        self.pipe.send(fmt % (self.key_offset + len(key), key), then, arg, timeout)

    def store_then(self, key: bytes, data: bytes, ttl: float, timeout: float,
                   then: Callable[[Any, Any], None], arg: Any) -> None:
        """``set`` of ``key`` (bytes), then ``then(arg, reply)`` as :meth:`lookup_then`."""
        if ttl <= 0:
            packed = pack(b"DEL", self.prefix + key)
        else:
            fmt = self._formats.get((b"SET", ttl)) or self.command_format(b"SET", ttl)
            packed = fmt % (self.key_offset + len(key), key, len(data), data)
        self.pipe.send(packed, then, arg, timeout)

    def command_format(self, name: bytes, seconds: float | None) -> bytes:
        """A command packed (RESP) as a ``%`` format: ``GETEX`` (``seconds`` None: ``GET``) of
        ``(key_offset + len(key), key)``, or ``SET ... PX`` of ``(key_offset + len(key), key,
        len(data), data)``; ``PX <ms>`` is ``seconds`` (at least 1 ms).  The last few are kept
        (the ttl and the grace seldom change)."""
        head = b"$%d\r\n" + self.prefix.replace(b"%", b"%%") + b"%b\r\n"
        if seconds is None:
            fmt = b"*2\r\n$3\r\nGET\r\n" + head
        else:
            ms = b"%d" % max(1, int(seconds * 1000))
            tail = b"$2\r\nPX\r\n$%d\r\n%b\r\n" % (len(ms), ms)
            if name == b"SET":
                fmt = b"*5\r\n$3\r\nSET\r\n" + head + b"$%d\r\n%b\r\n" + tail
            else:
                fmt = b"*4\r\n$5\r\nGETEX\r\n" + head + tail
        if len(self._formats) >= 8:
            self._formats.clear()
        self._formats[(name, seconds)] = fmt
        return fmt

    async def aclose(self) -> None:
        """Close the connection (the given client's ``aclose``)."""
        await self.redis.aclose()
