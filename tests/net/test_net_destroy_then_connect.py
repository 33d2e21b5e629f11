"""``destroy()`` then ``connect()`` again before the destroyed connection's ``'close'``.

Node v20 (v20.20.2; scratch script item2.js, item2b.js in session 33), a client to 127.0.0.1:
``connect(); destroy(); connect()`` in one tick: the first ``lookupAndConnect``'s
``internalConnect`` (a tick later) finds the socket connecting again and connects the new
handle; the second's gets ``EALREADY`` (``connect EALREADY <ip>:<port> - Local (<ip>:<port>)``,
``errno``, ``syscall`` ``connect``, ``address``, ``port``), ``'error'``, ``'close'(true)``, no
``'connect'``. A write made while connecting the first time is failed by that ``'close'``
(``ERR_SOCKET_CLOSED_BEFORE_CONNECTION``), one made after the second ``connect()`` then with
the socket's error::

    c error EALREADY connect EALREADY 127.0.0.1:PORT - Local (127.0.0.1:LPORT)
    c close true
    cb aa ERR_SOCKET_CLOSED_BEFORE_CONNECTION
    cb bb EALREADY
    c close false        <- the first handle's close: not emitted here (docs/net.md)

When the first connect has begun (``destroy(); connect()`` on a later tick) Node fails an
internal assertion (``afterConnect`` of the closed handle); here the new connection goes on.
"""

from __future__ import annotations

import asyncio
import errno
import re
from collections.abc import Callable
from typing import Any

import pytest

from nodetls import net
from nodetls import run as tls_run

from .netutil import TIMEOUT, close_server


def _code(e: Any) -> Any:
    return None if e is None else getattr(e, "code", repr(e))


async def _scenario(same_step: bool, writes: bool) -> tuple[list[Any], list[Any]]:
    """A client to a server on 127.0.0.1: ``connect()``, (a write), ``destroy()``,
    ``connect()``, (a write), in the step of the first ``connect()`` or the next; its log
    until ``'close'`` (or ``'end'`` once connected: it then ends); the errors."""
    received: list[bytes] = []

    def on_connection(conn: net.Socket) -> None:
        conn.on("error", lambda _e: None)
        conn.on("data", lambda d: received.append(bytes(d)))
        conn.on("end", conn.end)

    server = net.create_server(on_connection)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    port = server.address()["port"]
    loop = asyncio.get_running_loop()
    log: list[Any] = []
    errors: list[Any] = []
    closed: asyncio.Future[None] = loop.create_future()
    c = net.Socket()
    for ev in ("connect", "ready", "end"):
        c.on(ev, lambda ev=ev: log.append(ev))
    c.on("error", lambda e: (log.append(f"error {_code(e)}"), errors.append(e)))

    def on_close(had_error: bool) -> None:
        log.append(f"close {had_error}")
        loop.call_soon(lambda: closed.done() or closed.set_result(None))

    c.on("close", on_close)

    def cb(name: str) -> Callable[..., None]:
        return lambda e=None: log.append(f"cb {name} {_code(e)}")

    c.connect(port, "127.0.0.1")
    if writes:
        c.write(b"aa", callback=cb("aa"))

    def again() -> None:
        c.destroy()
        c.connect(port, "127.0.0.1")
        if writes:
            c.write(b"bb", callback=cb("bb"))
        c.once("connect", c.end)

    if same_step:
        again()
    else:
        loop.call_soon(again)
    try:
        await asyncio.wait_for(closed, TIMEOUT)
    finally:
        await close_server(server)
    if not same_step:
        log.append(b"".join(received))
    return log, errors


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_connect_again_in_the_same_step_fails_with_ealready(loop: str) -> None:
    """Node: the second connect's ``EALREADY``, with its fields; one ``'close'(true)``."""
    pytest.importorskip(loop)
    log, errors = tls_run(lambda: _scenario(True, False), loop=loop)
    assert log == ["error EALREADY", "close True"]
    (err,) = errors
    assert err.errno == errno.EALREADY and err.syscall == "connect"
    assert err.address == "127.0.0.1" and isinstance(err.port, int)
    assert re.fullmatch(rf"connect EALREADY 127\.0\.0\.1:{err.port} - Local "
                        r"\(127\.0\.0\.1:\d+\)", str(err.args[0] if err.args else err)), err


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_connect_again_in_the_same_step_fails_the_writes(loop: str) -> None:
    """Node: the write made while connecting fails at ``'close'``
    (``ERR_SOCKET_CLOSED_BEFORE_CONNECTION``), the one after the second ``connect()`` then,
    with ``EALREADY`` (the old code lost the first write's callback)."""
    pytest.importorskip(loop)
    log, _ = tls_run(lambda: _scenario(True, True), loop=loop)
    assert log == ["error EALREADY", "close True", "cb aa ERR_SOCKET_CLOSED_BEFORE_CONNECTION",
                   "cb bb EALREADY"]


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_connect_again_a_step_later_connects(loop: str) -> None:
    """Once the first connect has begun, Node fails an internal assertion; here the new
    connection goes on (the old handle's close no longer destroys it), with both writes."""
    pytest.importorskip(loop)
    log, _ = tls_run(lambda: _scenario(False, True), loop=loop)
    assert log[:2] == ["connect", "cb aa None"]
    assert "cb bb None" in log and "end" in log and "close False" in log
    assert log[-1] == b"aabb"
