"""A write that fails in the call ends at once in the Writable, as Node's ``onwrite`` with an
error: its length is taken off and ``writing`` cleared in the call, its callback and
``'error'`` come on the error's loop step.

Node v20 (v20.20; session 34, scratch script sync_fail.js: TCP, the peer destroyed and a first
write drew its reset; scratch script pipe_fail.js: a pipe whose reader has gone): the write
fails in the call (``afterWriteDispatched`` -> ``onwrite(er)``, synchronous), so right after
``write()`` returns ``False`` the socket is errored, ``writableLength`` is 0 (a 20000-byte
write included: ``writableNeedDrain`` stays false) and a write made next is buffered (its
length alone counts); then the failed write's callback (the buffered write still counted),
the buffered write's, ``'error'``, ``'close'(true)``.

Before, nodetls kept the failed write's length and ``writing`` until the error's step
(``writableLength`` 20000, ``writableNeedDrain`` true). Under TLS the same made a write in
flight before the failed one complete without ``'drain'`` (``tests/tls/diff``'s
``write_failing_in_call_behind_write_in_flight``).
"""

from __future__ import annotations

import asyncio
import os
import select
import sys
from typing import Any

import pytest

import nodetls as tls
from nodetls import net

from .netutil import TIMEOUT

LOOPS = ["asyncio", "uvloop"]

#: Node's logs (sync_fail.js and pipe_fail.js, 20000 and 3 bytes alike), ``code`` for the
#: error's: TCP EPIPE (the peer closed, our first write drew its reset), a pipe EPIPE.
NODE = ["w1 False len 0 needDrain False writing False errored {code}",
        "w2 False len 3 needDrain False",
        "wcb@1 {code} len 3 needDrain False",
        "wcb@2 {code}",
        "error {code} len 0",
        "close True len 0"]


def _run(loop: str, main: Any) -> Any:
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    return tls.run(main, loop=loop)


def _writes(sock: net.Socket, size: int, log: list[str]) -> None:
    """The failing write of ``size`` bytes, a write behind it, and what the state says."""
    r = sock.write(b"b" * size, callback=lambda e=None: log.append(
        f"wcb@1 {e and e.code} len {sock.writable_length} "
        f"needDrain {sock.writable_need_drain}"))
    errored: Any = sock.errored
    log.append(f"w1 {r} len {sock.writable_length} needDrain {sock.writable_need_drain} "
               f"writing {sock._w_writing} errored {errored and errored.code}")
    r = sock.write(b"ccc", callback=lambda e=None: log.append(f"wcb@2 {e and e.code}"))
    log.append(f"w2 {r} len {sock.writable_length} needDrain {sock.writable_need_drain}")


def _watch(sock: net.Socket, log: list[str]) -> asyncio.Future[None]:
    closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    sock.on("drain", lambda: log.append("drain"))
    sock.on("error", lambda e: log.append(f"error {e.code} len {sock.writable_length}"))
    sock.on("close", lambda h: (log.append(f"close {h} len {sock.writable_length}"),
                                closed.set_result(None)))
    return closed


def _reset_arrived(sock: net.Socket) -> None:
    """Until the kernel has the peer's reset for ``sock`` (``POLLERR``/``POLLHUP`` on its
    descriptor), bounded: on loopback it came within our first write's send already; this
    only makes sure, blocking, so that the transport has not seen it yet."""
    fd = sock._handle.get_extra_info("socket").fileno()  # type: ignore[union-attr]
    p = select.poll()
    p.register(fd, 0)
    assert any(ev & (select.POLLERR | select.POLLHUP)
               for _fd, ev in p.poll(int(TIMEOUT * 1000)))


async def _tcp(size: int) -> list[str]:
    loop = asyncio.get_running_loop()
    log: list[str] = []
    accepted: asyncio.Future[net.Socket] = loop.create_future()
    server = net.create_server(accepted.set_result)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    client = net.connect(server.address()["port"], "127.0.0.1")  # type: ignore[index]
    peer = await asyncio.wait_for(accepted, TIMEOUT)
    await asyncio.wait_for(client, TIMEOUT)
    closed = _watch(client, log)
    peer.destroy()
    assert client.write(b"a")  # (sent: the peer's kernel answers it with a reset)
    _reset_arrived(client)
    _writes(client, size, log)
    await asyncio.wait_for(closed, TIMEOUT)
    server.close()
    return log


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("size", [20000, 3])
def test_a_tcp_write_failing_in_the_call_is_off_the_length_at_once(loop: str,
                                                                   size: int) -> None:
    """Before: ``w1 False len 20000 needDrain True writing True``, ``w2 ... len 20003``, and
    ``wcb@1`` saw ``needDrain True`` (3 bytes: ``len 3``, ``len 6``)."""
    assert _run(loop, lambda: _tcp(size)) == [line.format(code="EPIPE") for line in NODE]


async def _pipe(size: int, fd: int) -> list[str]:
    log: list[str] = []
    sock = net.Socket({"fd": fd, "readable": False})
    closed = _watch(sock, log)
    _writes(sock, size, log)
    await asyncio.wait_for(closed, TIMEOUT)
    return log


@pytest.mark.skipif(sys.platform == "win32", reason="a pipe descriptor: Unix")
@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("size", [20000, 3])
def test_a_pipe_write_failing_in_the_call_is_off_the_length_at_once(loop: str,
                                                                    size: int) -> None:
    """Before: as TCP's (the failed write's length and ``writing`` kept until its error)."""
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    r, w = os.pipe()
    os.close(r)  # (no reader: the write fails with EPIPE in the call)
    # (the socket owns w: its close closes it)
    assert _run(loop, lambda: _pipe(size, w)) == [line.format(code="EPIPE") for line in NODE]
