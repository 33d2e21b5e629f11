"""Helpers for the net tests (loopback and Unix sockets only)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from nodetls import net

TIMEOUT = 5.0


def has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def event(emitter: Any, name: str, timeout: float = TIMEOUT) -> asyncio.Future[Any]:
    """A future for the arguments of the next ``name`` event (listener added *now*), bounded by
    ``timeout``; fails if 'error' comes first."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Any] = loop.create_future()

    def ok(*args: Any) -> None:
        if not fut.done():
            fut.set_result(args)

    def fail(err: BaseException) -> None:
        if not fut.done():
            fut.set_exception(err)

    emitter.on(name, ok)
    if name != "error":
        emitter.on("error", fail)

    def cleanup(_: Any) -> None:
        emitter.remove_listener(name, ok)
        emitter.remove_listener("error", fail)

    fut.add_done_callback(cleanup)
    return asyncio.ensure_future(asyncio.wait_for(fut, timeout))


async def read_all(sock: Any, timeout: float = TIMEOUT) -> bytes:
    """Everything ``sock`` delivers until 'end'."""

    async def run() -> bytes:
        return b"".join([chunk async for chunk in sock])

    return await asyncio.wait_for(run(), timeout)


async def close_server(server: net.Server) -> None:
    if server.listening:
        await asyncio.wait_for(server.close(), TIMEOUT)


def mocked_lookup(*ips: str) -> Any:
    """A ``lookup`` option answering ``ips`` in that order (Node's ``common/dns``
    ``createMockedLookup``): the ``all: true`` form when asked for it, family by the address's
    form; on the next loop turn, as Node's answers on ``process.nextTick`` (an answer given
    before ``lookup`` returns is handled inside ``connect()``, before any listener added
    after it)."""
    def lookup(host: str, opts: dict[str, Any], cb: Any) -> None:
        entries = [{"address": ip, "family": 6 if ":" in ip else 4} for ip in ips]
        loop = asyncio.get_running_loop()
        if opts.get("all"):
            loop.call_soon(cb, None, entries)
        else:
            loop.call_soon(cb, None, entries[0]["address"], entries[0]["family"])
    return lookup
