"""A redis-py asyncio client made from a URL, one per event loop.

redis-py's asyncio client and its pool are bound to the loop they first connect from (their
connections are that loop's transports; the blocking pool's condition is that loop's).  A
program may run several loops one after the other in one process (``asyncio.run`` twice,
``nodetls.run`` then ``asyncio.run``, a test suite): :class:`LoopRedis` gives each running loop
a client of its own, made from the same settings, and closes each one with its loop --
``loop.shutdown_asyncgens()``, which ``asyncio.run``, ``uvloop.run``, ``asyncio.Runner`` and
``nodetls.run`` await before closing the loop, closes the client while the loop still runs its
transports (the same hook as the session store's connections, ``_redis_conns``).  A client of a
loop closed without that shutdown is retired when another loop first uses this object: its
sockets are closed there.  (A client the user gives is the user's: used as given.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import Any

from ._redis_conns import _close_socket_of, _step

__all__ = ["LoopRedis"]


class LoopRedis:
    """The commands the ticket-key sources send (``get``, ``set``, ``delete``, ``eval``,
    ``execute_command``), each on the running loop's own client, and ``aclose()``."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Any = None
        self._guard: Any = None

    def client(self) -> Any:
        """The running loop's client (made on first use there)."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._retire()
            self._client = self._make()
            self._loop = loop
            self._guard = _until_shutdown(self, self._client)
            _step(self._guard.asend(None))  # (its first step: the loop's hook registers it)
        return self._client

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self.client().get(*args, **kwargs)

    def set(self, *args: Any, **kwargs: Any) -> Any:
        return self.client().set(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        return self.client().delete(*args, **kwargs)

    def eval(self, *args: Any, **kwargs: Any) -> Any:
        return self.client().eval(*args, **kwargs)

    def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        return self.client().execute_command(*args, **kwargs)

    async def aclose(self) -> None:
        """Close the client of the running loop (and retire one of another loop)."""
        loop = asyncio.get_running_loop()
        client = self._client if self._loop is loop else None
        self._retire()
        if client is not None:
            await client.aclose()

    def _retire(self) -> None:
        """Forget the current client.  Its loop still open (not running now, or stopped): its
        close is left to that loop, as a task; closed: its sockets are closed here."""
        client, loop, guard = self._client, self._loop, self._guard
        self._client = self._loop = self._guard = None
        if guard is not None:
            _step(guard.aclose())  # (its finally sees it is no longer current: closes nothing)
        if client is None or loop is None or loop is asyncio._get_running_loop():
            return  # (the running loop's own: the caller closes it)
        if not loop.is_closed():
            loop.call_soon_threadsafe(loop.create_task, client.aclose())
            return
        pool = getattr(client, "connection_pool", None)
        conns = [*getattr(pool, "_available_connections", ()),
                 *getattr(pool, "_in_use_connections", ())]
        for conn in conns:
            writer = getattr(conn, "_writer", None)
            transport = getattr(writer, "transport", None)
            if transport is not None:
                try:
                    transport.close()  # (marks it closing; its loop refuses the rest)
                except RuntimeError:
                    _close_socket_of(transport)  # the rest of its close, so its socket now
            for name in ("_reader", "_writer"):  # (their loop is gone: nothing to await)
                if hasattr(conn, name):
                    setattr(conn, name, None)


async def _until_shutdown(owner: LoopRedis, client: Any) -> AsyncGenerator[None, None]:
    """Close ``client`` when its loop shuts down (``shutdown_asyncgens()``), if it is still
    ``owner``'s current client then."""
    try:
        yield
    finally:
        if owner._client is client:
            owner._client = owner._loop = owner._guard = None
            await client.aclose()
