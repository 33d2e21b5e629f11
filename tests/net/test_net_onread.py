"""The ``onread`` option of ``net.connect`` / ``net.Socket``: reads go into the user's buffer.

Mirrors Node's test-net-onread-static-buffer.js (static buffer, buffer function, implicit pause
by returning ``False``, explicit ``pause()``), plus the shapes Node ignores. Each expected log
is node v20.20's for the same scenario (``/tmp/netfix/onread.js``): the server sends
``b'hello world'`` and ends; the client logs each callback, ``'data'``, ``'end'``, and
``bytes_read`` at ``'close'``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from nodetls import net

from .netutil import TIMEOUT

MESSAGE = b"hello world"


async def _scenario(make_onread: Callable[[list[Any], dict[str, Any]], Any]) -> list[Any]:
    log: list[Any] = []
    server = net.create_server(lambda s: (server.close(), s.end(MESSAGE)))
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    ctx: dict[str, Any] = {}
    client = net.connect({"port": server.address()["port"],  # type: ignore[index]
                          "host": "127.0.0.1", "onread": make_onread(log, ctx)})
    ctx["c"] = client
    closed = asyncio.get_running_loop().create_future()
    client.on("data", lambda d: log.append(f"data {d.decode()}"))
    client.on("end", lambda: log.append("end"))
    client.on("close", lambda _h: (log.append(f"close bytes_read {client.bytes_read}"),
                                   closed.set_result(None)))
    await asyncio.wait_for(closed, TIMEOUT)
    return log


async def test_a_static_buffer_gets_every_read_and_no_data_event() -> None:
    # node: [[8,"hello wo",true],[3,"rld",true],"end","close bytesRead 11"]
    def make(log: list[Any], _ctx: dict[str, Any]) -> Any:
        buf = bytearray(8)
        return {"buffer": buf, "callback": lambda n, b: log.append(
            (n, bytes(b[:n]).decode(), b is buf))}

    assert await _scenario(make) == [(8, "hello wo", True), (3, "rld", True), "end",
                                     "close bytes_read 11"]


async def test_a_buffer_function_is_called_at_connect_and_after_each_read() -> None:
    # node: "gen 1", [2,"he",0], "gen 2", ... [1,"d",2], "gen 7", "end" (7 calls, as Node's
    # test's bufPoolUsage)
    def make(log: list[Any], _ctx: dict[str, Any]) -> Any:
        pool = [bytearray(2), memoryview(bytearray(2)), bytearray(2)]
        uses = [0]

        def gen() -> Any:
            uses[0] += 1
            log.append(f"gen {uses[0]}")
            return pool[(uses[0] - 1) % 3]

        return {"buffer": gen, "callback": lambda n, b: log.append(
            (n, bytes(b[:n]).decode(), next(i for i, p in enumerate(pool) if p is b)))}

    assert await _scenario(make) == [
        "gen 1", (2, "he", 0), "gen 2", (2, "ll", 1), "gen 3", (2, "o ", 2), "gen 4",
        (2, "wo", 0), "gen 5", (2, "rl", 1), "gen 6", (1, "d", 2), "gen 7", "end",
        "close bytes_read 11"]


@pytest.mark.parametrize("how", ["return false", "pause"])
async def test_returning_false_or_pausing_stops_reading_until_resume(how: str) -> None:
    # node: [[4,"hell"],"resume",[4,"o wo"],"resume",[3,"rld"],"resume","end",...]: nothing is
    # handed over while stopped, even though the 11 bytes came in one read here
    def make(log: list[Any], ctx: dict[str, Any]) -> Any:
        loop = asyncio.get_running_loop()

        def resume() -> None:
            log.append("resume")
            ctx["c"].resume()

        def callback(n: int, b: bytearray) -> Any:
            log.append((n, bytes(b[:n]).decode()))
            if how == "pause":
                ctx["c"].pause()
            loop.call_later(0.02, resume)
            return False if how == "return false" else None

        return {"buffer": bytearray(4), "callback": callback}

    assert await _scenario(make) == [(4, "hell"), "resume", (4, "o wo"), "resume", (3, "rld"),
                                     "resume", "end", "close bytes_read 11"]


@pytest.mark.parametrize("onread", [
    {"buffer": "str", "callback": print}, {"buffer": bytearray(4)},
    {"buffer": b"immutable", "callback": print}, "not a dict",
], ids=["str buffer", "no callback", "bytes buffer", "not a dict"])
async def test_an_onread_of_another_shape_is_ignored(onread: Any) -> None:
    # node ('bad shape', 'no callback'): ["data hello world","end","close bytesRead 11"]; an
    # immutable bytes object is no buffer to read into (Node's Buffers are all writable)
    assert await _scenario(lambda _log, _ctx: onread) == [
        "data hello world", "end", "close bytes_read 11"]


async def test_a_callback_that_raises_destroys_the_socket() -> None:
    # as a 'data' listener that raises: the socket is destroyed with the exception
    errors: list[BaseException] = []

    def make(_log: list[Any], ctx: dict[str, Any]) -> Any:
        def callback(_n: int, _b: Any) -> None:
            ctx["c"].on("error", errors.append)
            raise ValueError("boom")
        return {"buffer": bytearray(4), "callback": callback}

    log = await _scenario(make)
    assert [str(e) for e in errors] == ["boom"]
    assert "end" not in log and log[-1].startswith("close")
