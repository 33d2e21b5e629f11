"""A lean pipelined Redis connection for :class:`RedisSessionStore` given a URL.

One connection per store; each command is written at once and its reply matched in order
(RESP replies come back in the order the commands were sent), so concurrent handshakes share the
connection without a pool checkout, a lock or a task per command: a command is one
``transport.write`` and one future.  Replies are parsed by hiredis (C).  Only ``redis://`` and
``unix://`` URLs; everything else (``rediss://``, a client object) goes through redis-py.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["RespConnection", "resp_url"]


def resp_url(url: str) -> dict[str, Any] | None:
    """Connection settings for ``url`` when this module can serve it (and hiredis is
    installed), else None."""
    try:
        import hiredis  # noqa: F401
    except ImportError:  # pragma: no cover - hiredis comes with the redis extra
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "unix"):
        return None
    query = parse_qs(parts.query)
    db = query.get("db", [None])[0]
    if parts.scheme == "redis" and parts.path.strip("/"):
        db = parts.path.strip("/")
    return {
        "host": (parts.hostname or "localhost") if parts.scheme == "redis" else None,
        "port": parts.port or 6379,
        "path": unquote(parts.path) if parts.scheme == "unix" else None,
        "db": int(db) if db else 0,
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
    }


class _Protocol(asyncio.Protocol):
    def __init__(self, owner: RespConnection) -> None:
        import hiredis

        self.owner = owner
        self.reader = hiredis.Reader()
        self.pending: deque[asyncio.Future[Any]] = deque()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        reader = self.reader
        reader.feed(data)
        pending = self.pending
        while True:
            reply = reader.gets()
            if reply is False:
                return
            fut = pending.popleft()
            if fut.done():  # abandoned (store_timeout): its reply is dropped
                continue
            if isinstance(reply, Exception):
                fut.set_exception(reply)
            else:
                fut.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner._lost(self)
        error = ConnectionError(f"Redis connection lost: {exc!r}" if exc else "Redis connection closed")
        while self.pending:
            fut = self.pending.popleft()
            if not fut.done():
                fut.set_exception(error)


def _pack(args: tuple[bytes, ...]) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RespConnection:
    """``execute(*args)``: a future for one command's reply; connects (and reconnects) lazily."""

    def __init__(self, settings: dict[str, Any], connect_timeout: float = 1.0) -> None:
        self.settings = settings
        self.connect_timeout = connect_timeout
        self._proto: _Protocol | None = None
        self._connecting: asyncio.Future[_Protocol] | None = None

    def execute(self, *args: bytes) -> asyncio.Future[Any]:
        proto = self._proto
        if proto is not None and proto.transport is not None and not proto.transport.is_closing():
            fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            proto.pending.append(fut)
            proto.transport.write(_pack(args))
            return fut
        return asyncio.ensure_future(self._execute_after_connect(args))

    async def _execute_after_connect(self, args: tuple[bytes, ...]) -> Any:
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(self._connect())
        connecting = self._connecting
        try:
            await asyncio.shield(connecting)
        finally:
            if connecting.done() and self._connecting is connecting:
                self._connecting = None
        return await self.execute(*args)

    async def _connect(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        s = self.settings
        if s["path"] is not None:
            coro = loop.create_unix_connection(lambda: _Protocol(self), s["path"])
        else:
            coro = loop.create_connection(lambda: _Protocol(self), s["host"], s["port"])
        _, proto = await asyncio.wait_for(coro, self.connect_timeout)
        self._proto = proto
        try:
            if s["password"] is not None:
                auth = (s["username"], s["password"]) if s["username"] else (s["password"],)
                await asyncio.wait_for(self.execute(b"AUTH", *(a.encode() for a in auth)),
                                       self.connect_timeout)
            if s["db"]:
                await asyncio.wait_for(self.execute(b"SELECT", str(s["db"]).encode()),
                                       self.connect_timeout)
        except BaseException:
            self.close()
            raise
        return proto

    def _lost(self, proto: _Protocol) -> None:
        if self._proto is proto:
            self._proto = None

    def close(self) -> None:
        """Close the connection; a later command reconnects."""
        proto, self._proto = self._proto, None
        if proto is not None and proto.transport is not None:
            proto.transport.close()
