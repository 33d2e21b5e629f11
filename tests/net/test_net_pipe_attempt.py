"""A pipe's (Unix socket path's) ``'connectionAttempt'`` comes inside ``connect()``, as Node's.

Node v20 (v20.20.2; scratch script item2.js, item2b.js, item2c.js in session 33):
``Socket.prototype.connect`` calls ``internalConnect`` for a path synchronously, which emits
``'connectionAttempt'(path, undefined, undefined)`` before the handle's connect: a listener
added before ``connect()`` hears it before ``connect()`` returns, one added after never does
(for TCP it comes a tick later, after the lookup). A failed pipe connect (``ENOENT``) reports
``'connectionAttemptFailed'`` and ``'error'`` later; a listener that throws makes ``connect()``
throw. A second ``connect()`` while connecting emits its own attempt inside that call too.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from nodetls import net

from .netutil import TIMEOUT, close_server


def _listen_log(sock: net.Socket, log: list[Any], tag: str = "") -> asyncio.Future[None]:
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    sock.on("connectionAttempt", lambda *a: log.append((tag + "attempt", *a)))
    sock.on("connectionAttemptFailed", lambda *a: log.append((tag + "failed", a[3].code)))
    sock.on("connect", lambda: log.append(tag + "connect"))
    sock.on("error", lambda e: log.append((tag + "error", e.code)))
    sock.on("close", lambda *_: done.done() or done.set_result(None))
    return done


async def test_pipe_attempt_is_emitted_inside_connect(tmp_path: Path) -> None:
    """Node: 'before', the attempt (path, undefined, undefined), 'after', then 'connect'; the
    listener added after connect() hears nothing."""
    path = str(tmp_path / "p.sock")
    server = net.create_server(lambda c: c.end())
    await asyncio.wait_for(server.listen(path), TIMEOUT)
    try:
        sock = net.Socket()
        log: list[Any] = []
        connected = asyncio.get_running_loop().create_future()
        sock.on("connectionAttempt", lambda *a: log.append(("attempt", *a)))
        log.append("before")
        sock.connect(path, lambda: connected.set_result(None))
        log.append("after")
        sock.on("connectionAttempt", lambda *a: log.append(("late attempt", *a)))
        await asyncio.wait_for(connected, TIMEOUT)
        sock.destroy()
        assert log == ["before", ("attempt", path, None, None), "after"]
    finally:
        server.close()


async def test_failed_pipe_attempt(tmp_path: Path) -> None:
    """Node: ``net.connect({path})`` to no socket: the attempt inside the call (a listener
    added after it: nothing), then 'connectionAttemptFailed' ENOENT and 'error' ENOENT."""
    path = str(tmp_path / "none.sock")
    log: list[Any] = []
    sock = net.Socket()
    sock.once("connectionAttempt", lambda *a: log.append(("attempt in connect", a[0])))
    sock.connect({"path": path})
    log.append("returned")
    done = _listen_log(sock, log)
    await asyncio.wait_for(done, TIMEOUT)
    assert log == [("attempt in connect", path), "returned", ("failed", "ENOENT"),
                   ("error", "ENOENT")]


async def test_second_connect_to_a_pipe_emits_its_attempt_inside_the_call(
        tmp_path: Path) -> None:
    """Node: the second connect()'s attempt before it returns, its EISCONN failure later."""
    path = str(tmp_path / "s.sock")
    server = net.create_server(lambda c: c.resume())
    await asyncio.wait_for(server.listen(path), TIMEOUT)
    try:
        sock = net.connect(path)
        log: list[Any] = []
        done = _listen_log(sock, log)
        log.append("second")
        sock.connect(path)
        log.append("returned")
        await asyncio.wait_for(done, TIMEOUT)
        assert log == ["second", ("attempt", path, None, None), "returned",
                       ("failed", "EISCONN"), ("error", "EISCONN")]
    finally:
        # (the first connect reached the server: its 'close' comes after that connection's,
        # awaited so the accepted socket is closed before the test's loop is, not by the GC)
        await close_server(server)


async def test_pipe_attempt_listener_raising_raises_from_connect(tmp_path: Path) -> None:
    """Node: connect() throws the listener's error. (Node then leaves the socket connecting,
    'opening', for good; nodetls leaves it unconnected, as after a lookup listener that
    raises: docs/net.md, 'Resolving'.) A destroy then closes it: 'close'(false)."""
    path = str(tmp_path / "p.sock")
    server = net.create_server(lambda c: c.end())
    await asyncio.wait_for(server.listen(path), TIMEOUT)
    try:
        sock = net.Socket()

        def boom(*_: Any) -> None:
            raise RuntimeError("boom")

        sock.once("connectionAttempt", boom)
        closed = asyncio.get_running_loop().create_future()
        sock.on("close", lambda had_error: closed.set_result(had_error))
        raised = None
        try:
            sock.connect(path)
        except RuntimeError as exc:
            raised = str(exc)
        assert raised == "boom"
        sock.destroy()
        assert await asyncio.wait_for(closed, TIMEOUT) is False
    finally:
        server.close()
