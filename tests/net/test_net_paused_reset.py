"""A socket whose handle is not reading hears the peer's reset only once it reads, as Node's.

Node v20 (v20.20.2; scratch script item3.js in session 33): libuv polls a stream for reading
only between ``readStart`` and ``readStop``. An accepted socket of a ``pauseOnConnect`` server
never started reading: the peer's ``resetAndDestroy()`` leaves it ``'open'``, with no event,
until ``resume()``, then ``'error'`` ``ECONNRESET`` and ``'close'(true)``; its write meanwhile
fails with ``ECONNRESET``. (A socket merely ``pause()``d still reads until its buffer reaches the
high-water mark, so Node's hears the reset at once: so does nodetls's.)

uvloop starts reading a transport once the protocol's ``connection_made`` returns, even when
the protocol paused reading in it: the handle stops it on the next loop step (before: uvloop
read the reset, and the paused socket reported it at once).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import nodetls as tls
from nodetls import net

from .netutil import TIMEOUT

LOOPS = ["asyncio", "uvloop"]


def _run(loop: str, main: Any) -> Any:
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    return tls.run(main, loop=loop)


async def _loop_polled() -> None:
    """A round trip on another connection of this loop: the loop has polled since."""
    echo = net.create_server(lambda s: s.pipe(s))
    await asyncio.wait_for(echo.listen(0, "127.0.0.1"), TIMEOUT)
    probe = net.connect(echo.address()["port"], "127.0.0.1")
    got: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    probe.on("data", lambda d: got.done() or got.set_result(d))
    probe.write(b"x")
    assert await asyncio.wait_for(got, TIMEOUT) == b"x"
    probe.destroy()
    echo.close()


async def _reset_peer_of_paused(log: list[Any], write: bool) -> None:
    loop = asyncio.get_running_loop()
    accepted: asyncio.Future[net.Socket] = loop.create_future()
    closed: asyncio.Future[None] = loop.create_future()

    def on_connection(s: net.Socket) -> None:
        s.on("data", lambda d: log.append(("data", bytes(d))))
        s.on("end", lambda: log.append("end"))
        s.on("error", lambda e: log.append(("error", e.code)))
        s.on("close", lambda h: (log.append(("close", h)), closed.set_result(None)))
        accepted.set_result(s)

    server = net.create_server({"pause_on_connect": True}, on_connection)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    client = net.connect(server.address()["port"], "127.0.0.1")
    client.on("error", lambda _e: None)
    await asyncio.wait_for(client, TIMEOUT)
    s = await asyncio.wait_for(accepted, TIMEOUT)
    client_closed: asyncio.Future[None] = loop.create_future()
    client.on("close", lambda *_: client_closed.set_result(None))
    client.reset_and_destroy()
    await asyncio.wait_for(client_closed, TIMEOUT)
    await _loop_polled()
    log.append(("paused", s.ready_state, s.destroyed))
    if write:
        log.append(("write", s.write(b"y", callback=lambda e=None: log.append(
            ("wcb", getattr(e, "code", None))))))
    else:
        s.resume()
    await asyncio.wait_for(closed, TIMEOUT)
    server.close()


@pytest.mark.parametrize("loop", LOOPS)
def test_paused_on_connect_hears_the_reset_when_it_reads(loop: str) -> None:
    """Node: 'open', nothing; resume(): 'error' ECONNRESET, 'close' true."""
    log: list[Any] = []
    _run(loop, lambda: _reset_peer_of_paused(log, write=False))
    assert log == [("paused", "open", False), ("error", "ECONNRESET"), ("close", True)]


@pytest.mark.parametrize("loop", LOOPS)
def test_paused_on_connect_write_meets_the_reset(loop: str) -> None:
    """Node: 'open', nothing; write(): false, its callback and 'error' ECONNRESET, 'close'
    true."""
    log: list[Any] = []
    _run(loop, lambda: _reset_peer_of_paused(log, write=True))
    assert log == [("paused", "open", False), ("write", False), ("wcb", "ECONNRESET"),
                   ("error", "ECONNRESET"), ("close", True)]
