"""Data queued before the peer's reset that fills libuv's last read: the reset, not an EOF.

Node v20 (session 45; a scratch script as ``test_net_queued_reset.py``'s, with the peer
writing N bytes before its ``resetAndDestroy()``): libuv reads the queued data in reads of
64 KiB, and takes ``POLLHUP`` for the end of the stream only after a read shorter than its
buffer (``uv__stream_io``). With exactly 65,536 bytes queued the one read fills the buffer, so
``uv__read`` reads again, and that read gets the reset: ``'data'`` (65,536 bytes), ``'error'``
``ECONNRESET``, ``'close'(true)``. With 65,535 or 65,537 bytes the last read is short: the data,
then ``'end'`` (``test_net_queued_reset.py``). So too when the socket ``end()``s first (its
shutdown fails with ``ENOTCONN``, ignored: ``end()``'s callback and ``'finish'``, then the
data and the reset): seed 24413 of the net differential harness, the named case
``shutdown_fails_after_peer_reset_full_read_resets``.

Before, nodetls's hang-up read (``_net/hangup.py``) took the queued bytes and an EOF whatever
their size: ``'end'``, ``'close'(false)``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import nodetls as tls
from nodetls import net

from .netutil import TIMEOUT
from .test_net_queued_reset import _hung_up

#: one read of libuv's (Node's read callback is offered 64 KiB)
FULL = 64 * 1024

#: Node's logs (the scratch script, N = 65536, modes ``resume`` and ``end``)
NODE = {
    "resume": [f"data {FULL}", "error ECONNRESET", "close True"],
    "end": ["endcb None", "finish", f"data {FULL}", "error ECONNRESET", "close True"],
}


async def _scenario(mode: str) -> list[str]:
    loop = asyncio.get_running_loop()
    log: list[str] = []
    got = 0
    accepted: asyncio.Future[net.Socket] = loop.create_future()
    closed: asyncio.Future[None] = loop.create_future()
    server = net.create_server({"pause_on_connect": True}, accepted.set_result)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    client = net.connect(server.address()["port"], "127.0.0.1")  # type: ignore[index]
    s = await asyncio.wait_for(accepted, TIMEOUT)
    await asyncio.wait_for(client, TIMEOUT)

    def on_data(d: Any) -> None:
        nonlocal got
        got += len(d)

    def flush_data() -> None:
        if got:
            log.append(f"data {got}")

    s.on("data", on_data)
    s.on("end", lambda: (flush_data(), log.append("end")))
    s.on("finish", lambda: log.append("finish"))
    s.on("error", lambda e: (flush_data(), log.append(f"error {e.code}")))
    s.on("close", lambda h: (log.append(f"close {h}"), closed.set_result(None)))
    client_closed: asyncio.Future[None] = loop.create_future()
    client.on("close", lambda _h: client_closed.set_result(None))
    client.set_no_delay(True)
    client.write(b"a" * FULL)
    client.reset_and_destroy()
    await asyncio.wait_for(client_closed, TIMEOUT)
    _hung_up(s)
    if mode == "end":
        s.end(callback=lambda e=None: log.append(f"endcb {e and e.code}"))
    s.resume()
    await asyncio.wait_for(closed, TIMEOUT)
    server.close()
    return log


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
@pytest.mark.parametrize("mode", ["resume", "end"])
def test_queued_data_filling_the_last_read_then_reset(loop: str, mode: str) -> None:
    """Before: the 65,536 bytes, then ``'end'`` and ``'close'(False)`` (``end``: after
    ``'finish'``), no error."""
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    assert tls.run(lambda: _scenario(mode), loop=loop) == NODE[mode]
