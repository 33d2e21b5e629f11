"""The write a socket has in flight when it is destroyed, and the writes buffered behind it.

Node v20: ``destroy()`` closes the handle; ``uv_close`` cancels the pending write request, whose
``onWriteComplete`` finds the stream destroyed and calls back with ``null``; Writable's
``afterWrite`` then calls every buffered write's callback with the socket's error (or
``ERR_STREAM_DESTROYED``). All of it after the ``'error'`` the destroy queued and before
``'close'``. Checked with node v20.20 (``/tmp/netfix/s3.js``)::

    noerr   ["after destroy","tick",["w1",null],["w2","ERR_STREAM_DESTROYED"],
             ["w3","ERR_STREAM_DESTROYED"],["close",false]]
    witherr ["after destroy","tick",["error","EBOOM"],["w1",null],["w2","EBOOM"],
             ["w3","EBOOM"],["close",true]]

(In node ``tick`` is a ``process.nextTick`` queued after ``destroy()``; here a ``call_soon``.)
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nodetls import net
from nodetls.errors import NodeError

from .netutil import TIMEOUT, close_server

pytestmark = pytest.mark.timeout(20)


async def _destroy_while_writing(err: BaseException | None) -> list[Any]:
    log: list[Any] = []
    accepted: list[net.Socket] = []
    server = net.create_server(lambda s: (s.pause(), accepted.append(s)))
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    client = net.connect(server.address()["port"], "127.0.0.1")  # type: ignore[index]
    await asyncio.wait_for(client, TIMEOUT)
    loop = asyncio.get_running_loop()
    closed = loop.create_future()
    # 20 MB to a peer that does not read: the first write stays in flight
    for name, data in (("w1", b"a" * 20_000_000), ("w2", b"x"), ("w3", b"y")):
        client.write(data, lambda e=None, name=name: log.append((name, getattr(e, "code", e))))
    client.on("error", lambda e: log.append(("error", e.code)))
    client.on("close", lambda had_error: (log.append(("close", had_error)),
                                          closed.set_result(None)))
    loop.call_soon(log.append, "tick")
    client.destroy(err)
    log.append("after destroy")
    await asyncio.wait_for(closed, TIMEOUT)
    for sock in accepted:
        sock.destroy()
    await close_server(server)
    return log


async def test_destroy_completes_the_write_in_flight_and_fails_the_buffered_ones() -> None:
    assert await _destroy_while_writing(None) == [
        "after destroy", "tick", ("w1", None), ("w2", "ERR_STREAM_DESTROYED"),
        ("w3", "ERR_STREAM_DESTROYED"), ("close", False)]


async def test_destroy_with_an_error_emits_it_before_the_write_callbacks() -> None:
    assert await _destroy_while_writing(NodeError("boom", "EBOOM")) == [
        "after destroy", "tick", ("error", "EBOOM"), ("w1", None), ("w2", "EBOOM"),
        ("w3", "EBOOM"), ("close", True)]
