"""Helpers for the fleet tests: a TLS server, a resuming client, all waits bounded."""

from __future__ import annotations

import asyncio
from typing import Any

import nodetls as tls

T = 10.0


def versions(v: str) -> dict[str, str]:
    return {"min_version": v, "max_version": v}


async def listen(options: dict[str, Any], **listen_opts: Any) -> tuple[tls.Server, int]:
    server = tls.create_server(options, lambda s: s.end(b"hi"))
    server.listen(listen_opts.get("port", 0), "127.0.0.1")
    await asyncio.wait_for(server, T)
    return server, server.address()["port"]


async def handshake(port: int, ca: bytes, session: bytes | None = None,
                    **opts: Any) -> tuple[bool, bytes | None]:
    """Connect, wait for the server's data and close; returns (reused, last session seen)."""
    reused, session, _ = await exchange(port, ca, session, **opts)
    return reused, session


async def exchange(port: int, ca: bytes, session: bytes | None = None,
                   **opts: Any) -> tuple[bool, bytes | None, bytes]:
    """:func:`handshake`, also returning what the server sent."""
    got: list[bytes] = []
    data = bytearray()
    done = asyncio.get_running_loop().create_future()
    sock = tls.connect(port, {"host": "127.0.0.1", "ca": ca, "servername": "localhost",
                              **({"session": session} if session else {}), **opts})
    sock.on("session", got.append)
    sock.on("data", data.extend)
    sock.on("close", lambda *_: done.done() or done.set_result(None))
    sock.on("error", lambda e: done.done() or done.set_exception(e))
    await asyncio.wait_for(sock, T)
    reused = sock.is_session_reused()
    await asyncio.wait_for(done, T)
    return reused, (got[-1] if got else None), bytes(data)
