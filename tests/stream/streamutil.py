"""Helpers shared by the stream scenario files (in-memory streams: bounded waits, loop turns)."""

from __future__ import annotations

import asyncio
from typing import Any

TIMEOUT = 5.0

#: Loop turns an absence check gives an event that must not come: these streams are in memory,
#: all they can still do is what they queued with ``loop.call_soon`` (Node's nextTick).
ABSENCE_TICKS = 10


async def ticks(n: int = ABSENCE_TICKS) -> None:
    """Let ``n`` turns of the loop run (Node's nextTick queue); for a scenario's own nextTick
    steps and absence checks only: nothing waits for an event by counting turns."""
    for _ in range(n):
        await asyncio.sleep(0)


def code(err: Any) -> Any:
    return None if err is None else getattr(err, "code", None) or str(err)


def when(em: Any, event: str) -> asyncio.Future[Any]:
    """A future of ``em``'s next ``event`` (its arguments), listening from now on."""
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    em.once(event, lambda *a: fut.done() or fut.set_result(a))
    return fut


async def done(fut: Any) -> Any:
    return await asyncio.wait_for(fut, TIMEOUT)
