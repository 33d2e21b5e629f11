"""``end()`` in the tick the peer resets the connection: the shutdown completes first.

Node v20 (checked with node v20.20.2, scratch script seed71b.js in session 32; the net
differential harness's seeds 71 and 161 on uvloop): the client writes, calls ``end(data)``, and
the server destroys its side with the client's data unread (a reset), all in one tick. libuv's
shutdown completes in the pending phase of the next loop iteration, before the poll that reads
the reset (``afterShutdown`` ignores a failed status), so ``end()``'s callback gets ``null`` and
``'finish'`` comes, then the read's ``'error'`` ``ECONNRESET`` and ``'close'(true)``; a
``destroy()`` on ``'finish'`` closes the socket before that read: ``'close'(false)``, no error.
Before: uvloop reported the reset before the shutdown's completion (``end()``'s callback and
``'error'`` got ``ECONNRESET``, no ``'finish'``); asyncio's loop did so for the ``destroy()`` on
``'finish'`` (the reset was read in the step that ran ``'finish'``'s tick).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nodetls import net

from .netutil import TIMEOUT, close_server

NODE_LOG = {
    "plain": ["wcb null", "endcb null", "finish", "error ECONNRESET", "close true"],
    "destroy_on_finish": ["wcb null", "endcb null", "finish", "close false"],
}


def _code(e: Any) -> str:
    return "null" if e is None else str(e.code)


async def end_as_the_peer_resets(mode: str) -> list[str]:
    loop = asyncio.get_running_loop()
    server = net.create_server({"allow_half_open": True})
    accepted: asyncio.Future[Any] = loop.create_future()
    server.on("connection", accepted.set_result)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    client = net.connect({"port": server.address()["port"], "host": "127.0.0.1",
                          "allow_half_open": True})
    await asyncio.wait_for(asyncio.gather(accepted, client), TIMEOUT)
    peer = accepted.result()
    peer.on("error", lambda _e: None)
    log: list[str] = []
    closed: asyncio.Future[None] = loop.create_future()

    def on_finish() -> None:
        log.append("finish")
        if mode == "destroy_on_finish":
            client.destroy()

    client.on("finish", on_finish)
    client.on("error", lambda e: log.append(f"error {e.code}"))
    client.on("close", lambda h: (log.append(f"close {str(h).lower()}"),
                                  closed.set_result(None)))
    client.write(b"\xc3", callback=lambda e=None: log.append(f"wcb {_code(e)}"))
    client.end(b"bcfba", callback=lambda e=None: log.append(f"endcb {_code(e)}"))
    peer.destroy(Exception("EBOOM"))
    await asyncio.wait_for(closed, TIMEOUT)
    await close_server(server)
    return log


@pytest.mark.parametrize("mode", sorted(NODE_LOG))
async def test_end_completes_before_the_reset_is_read(mode: str) -> None:
    assert await end_as_the_peer_resets(mode) == NODE_LOG[mode]


@pytest.mark.parametrize("mode", sorted(NODE_LOG))
def test_end_completes_before_the_reset_is_read_on_uvloop(mode: str) -> None:
    uvloop = pytest.importorskip("uvloop")
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(end_as_the_peer_resets(mode)) == NODE_LOG[mode]
