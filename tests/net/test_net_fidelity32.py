"""Node v20 fidelity of the net layer, session 32 (lib/net.js, lib/internal/streams/writable.js).

* A write that fails in the call (Node's ``uv_try_write`` / ``afterWriteDispatched``: the peer
  has gone, a pipe has no reader): the socket is errored at once, so ``write()`` returns
  ``False``, and not destroyed yet; the write's callback, the later writes' and ``end()``'s get
  the error on the next tick, then ``'error'`` and ``'close'(True)``. A peer that closes makes
  the next write draw a reset (``EPIPE`` on the one after); a peer that resets makes the next
  write fail with ``ECONNRESET``.
* ``destroy()`` closes the connection in the call (Node's ``uv_close``), so the peer's write in
  the same tick already finds it closed (the cases above run in one tick).
* ``net.Socket({'timeout': ...})`` and ``socket.connect({'timeout': ...})`` ignore the option
  without checking it; ``net.connect()``'s sets the timeout (Node's ``createConnection``).

Every expectation was checked against node v20.20 running the same scenario
(scratch script write_fail.js, pipe_epipe.js, timeout_opt*.js).
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import pytest

from nodetls import net

from .netutil import TIMEOUT, close_server

#: Node's log of write_fail.js: the peer destroyed (``fin``) or reset (``reset``), then, in
#: the same tick, two writes and an end() on the client.
NODE_LOG = {
    "fin": ["w1 true errored=null destroyed=false",
            "w2 false errored=EPIPE destroyed=false writable=false",
            "wcb1 null", "wcb2 EPIPE", "endcb EPIPE", "tick destroyed=true",
            "error EPIPE write EPIPE", "close true"],
    "reset": ["w1 false errored=ECONNRESET destroyed=false",
              "w2 false errored=ECONNRESET destroyed=false writable=false",
              "wcb1 ECONNRESET", "wcb2 ECONNRESET", "endcb ECONNRESET", "tick destroyed=true",
              "error ECONNRESET write ECONNRESET", "close true"],
}


def js(v: Any) -> str:
    return "null" if v is None else str(v).lower() if isinstance(v, bool) else str(v)


def code(e: Any) -> str:
    return "null" if e is None else str(e.code)


async def _connected_pair(options: dict[str, Any] | None = None) -> tuple[Any, Any, Any]:
    """A server (``options``) on 127.0.0.1, a client connected to it, and the accepted socket."""
    loop = asyncio.get_running_loop()
    server = net.create_server(options or {})
    accepted: asyncio.Future[Any] = loop.create_future()
    server.on("connection", accepted.set_result)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    client = net.connect(server.address()["port"], "127.0.0.1")  # type: ignore[index]
    await asyncio.wait_for(asyncio.gather(accepted, client), TIMEOUT)
    return server, client, accepted.result()


async def write_after_peer_left(mode: str) -> list[str]:
    loop = asyncio.get_running_loop()
    server, client, peer = await _connected_pair()
    log: list[str] = []
    closed: asyncio.Future[None] = loop.create_future()
    client.on("error", lambda e: log.append(f"error {e.code} {e}"))
    client.on("close", lambda h: (log.append(f"close {js(h)}"), closed.set_result(None)))
    client.on("end", lambda: log.append("end"))
    if mode == "reset":
        peer.reset_and_destroy()
    else:
        peer.destroy()
    r1 = client.write(b"a", callback=lambda e=None: log.append(f"wcb1 {code(e)}"))
    log.append(f"w1 {js(r1)} errored={code(client.errored)} destroyed={js(client.destroyed)}")
    r2 = client.write(b"b", callback=lambda e=None: log.append(f"wcb2 {code(e)}"))
    log.append(f"w2 {js(r2)} errored={code(client.errored)} destroyed={js(client.destroyed)} "
               f"writable={js(client.writable)}")
    client.end(callback=lambda e=None: log.append(f"endcb {code(e)}"))
    loop.call_soon(lambda: log.append(f"tick destroyed={js(client.destroyed)}"))
    await asyncio.wait_for(closed, TIMEOUT)
    await close_server(server)
    return log


@pytest.mark.parametrize("mode", ["fin", "reset"])
async def test_a_write_to_a_peer_that_left_fails_in_the_call(mode: str) -> None:
    """Before: ``write()`` returned ``True`` both times and the peer's close came a loop step
    later (``fin``: the client read ``'end'`` and closed without error)."""
    assert await write_after_peer_left(mode) == NODE_LOG[mode]


def _on_uvloop(mode: str) -> list[str]:
    uvloop = pytest.importorskip("uvloop")
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(write_after_peer_left(mode))


def test_a_write_to_a_closed_peer_fails_in_the_call_on_uvloop() -> None:
    assert _on_uvloop("fin") == NODE_LOG["fin"]


def test_a_write_to_a_reset_peer_fails_in_the_call_on_uvloop() -> None:
    """uvloop's transport keeps the failed send's error for the ``connection_lost`` it
    schedules (``send_error.py`` reads it there). Before (session 34): the socket was errored
    with ``EPIPE`` in the call, which ``end()``'s callback, queued then, got."""
    assert _on_uvloop("reset") == NODE_LOG["reset"]


@pytest.mark.skipif(sys.platform == "win32", reason="a pipe descriptor (Unix)")
async def test_a_pipe_write_without_reader_fails_in_the_call() -> None:
    """Node (pipe_epipe.js): ``write()`` is ``false`` with ``errored`` EPIPE and the socket not
    destroyed; both callbacks get EPIPE on the next tick, then ``'error'``, ``'close'(true)``.
    Before: ``write()`` returned ``True``."""
    r, w = os.pipe()
    os.close(r)
    sock = net.Socket({"fd": w, "readable": False})
    log: list[str] = []
    closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    sock.on("error", lambda e: log.append(f"error {e.code} {e}"))
    sock.on("close", lambda h: (log.append(f"close {js(h)}"), closed.set_result(None)))
    log.append(f"w1 {js(sock.write(b'abc', callback=lambda e=None: log.append(f'wcb1 {code(e)}')))}")
    log.append(f"errored={code(sock.errored)} destroyed={js(sock.destroyed)} "
               f"writable={js(sock.writable)}")
    log.append(f"w2 {js(sock.write(b'def', callback=lambda e=None: log.append(f'wcb2 {code(e)}')))}")
    asyncio.get_running_loop().call_soon(lambda: log.append(f"tick destroyed={js(sock.destroyed)}"))
    await asyncio.wait_for(closed, TIMEOUT)
    assert log == ["w1 false", "errored=EPIPE destroyed=false writable=false", "w2 false",
                   "wcb1 EPIPE", "wcb2 EPIPE", "tick destroyed=true", "error EPIPE write EPIPE",
                   "close true"]


async def test_the_socket_constructor_and_connect_ignore_timeout() -> None:
    """Node (timeout_opt*.js): ``new Socket({timeout})`` and ``socket.connect({timeout})``
    neither check nor use it (``socket.timeout`` stays undefined, no ``'timeout'``);
    ``net.connect({timeout})`` sets it (and checks it). Before: all three set it, and a bad
    value raised in each."""
    assert net.Socket({"timeout": 0.05}).timeout is None
    assert net.Socket({"timeout": "x"}).timeout is None  # (not checked)
    assert net.Socket(timeout=-1).timeout is None
    server = net.create_server()
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    port = server.address()["port"]  # type: ignore[index]
    a = net.Socket({"timeout": 0.01}).connect({"port": port, "host": "127.0.0.1", "timeout": "x"})
    b = net.connect({"port": port, "host": "127.0.0.1", "timeout": 0.05})
    assert b.timeout == 0.05  # (set before connecting, as Node's createConnection)
    await asyncio.wait_for(asyncio.gather(a, b), TIMEOUT)
    assert a.timeout is None and a._timer is None
    a.destroy()
    b.destroy()
    await close_server(server)


async def paused_socket_hears_the_end_only_once_resumed() -> list[str]:
    loop = asyncio.get_running_loop()
    server, client, peer = await _connected_pair({"pause_on_connect": True})
    log: list[str] = []
    ended: asyncio.Future[None] = loop.create_future()
    peer.on("end", lambda: (log.append("end"), ended.set_result(None)))
    finished: asyncio.Future[None] = loop.create_future()
    client.end(callback=lambda e=None: finished.set_result(None))
    await asyncio.wait_for(finished, TIMEOUT)  # (our FIN is at the peer's socket)
    for _ in range(5):
        await asyncio.sleep(0)
    log.append("resume")
    peer.resume()
    await asyncio.wait_for(ended, TIMEOUT)
    client.destroy()
    peer.destroy()
    await close_server(server)
    return log


async def test_a_paused_socket_hears_the_end_only_once_resumed() -> None:
    """Node: a socket not reading (``pause_on_connect``) emits no ``'end'`` until resumed."""
    assert await paused_socket_hears_the_end_only_once_resumed() == ["resume", "end"]


def test_a_paused_socket_hears_the_end_only_once_resumed_on_uvloop() -> None:
    """uvloop reads from connection_made() on, even with reading paused in it (``TCPHandle._hold``):
    the EOF is held too. Before: ``'end'`` came while paused, before ``resume()``."""
    uvloop = pytest.importorskip("uvloop")
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(paused_socket_hears_the_end_only_once_resumed()) == ["resume", "end"]
