"""RedisTicketKeys made from a URL, used from one event loop after another.

A program (or a test suite) may run several event loops one after the other in one process
(``asyncio.run`` twice, ``nodetls.run`` then ``asyncio.run``). redis-py's asyncio client is
bound to the loop it first connected from: a ``RedisTicketKeys`` built from a URL used to hand
the first loop's pooled connection to the second run, whose ``refresh()`` then failed
("Event loop is closed"; uvloop: "the handler is closed") -- the fleet's keys were no longer
read, silently (the refresh task logs and keeps its set), and the old connection's socket stayed
open. A client given by the user is the user's (it is used as given).
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from helpers.open_sockets import open_sockets
from nodetls.sessions import RedisTicketKeys


def loop_runner(name: str) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    if name == "asyncio":
        return asyncio.run
    uvloop = pytest.importorskip("uvloop")
    return uvloop.run


@pytest.mark.parametrize("runner", ["asyncio", "uvloop"])
async def test_url_keys_refresh_from_one_loop_after_another(redis_server, runner):
    """Three runs in turn each refresh the same key set from Redis (the second and third on
    loops of their own), no socket of the first runs is left open once they returned, nothing
    warns, and ``close()`` of the source leaves nothing open either."""
    run = loop_runner(runner)
    keys = RedisTicketKeys(redis_server.url, name="loops-test", interval=3600)
    before = open_sockets()

    def in_turn() -> tuple[list[bytes], list[list[tuple[str, str]]], list[str]]:
        got: list[bytes] = []
        left: list[list[tuple[str, str]]] = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            for _ in range(3):
                got.append(run(asyncio.wait_for(keys.refresh(), 5)))
                left.append(sorted(open_sockets() - before))
            keys.close()
            gc.collect()
        return got, left, [str(w.message) for w in caught if w.category is ResourceWarning]

    got, left, warned = await asyncio.wait_for(asyncio.to_thread(in_turn), 30)
    assert len(got[0]) == 80 * 3 or len(got[0]) > 0  # (the material: some keys)
    assert got[1] == got[0] and got[2] == got[0]
    assert left == [[], [], []]
    assert warned == []
    assert sorted(open_sockets() - before) == []


async def test_url_keys_retire_the_client_of_a_loop_closed_without_its_shutdown(redis_server):
    """A loop closed without ``shutdown_asyncgens()`` (``loop.close()`` alone) leaves its client's
    connection open; the next loop's first command retires that client: its socket is closed
    there, without a ResourceWarning, and the refresh works."""
    keys = RedisTicketKeys(redis_server.url, name="loops-test-bare", interval=3600)
    before = open_sockets()

    def in_turn() -> tuple[list[bytes], list[tuple[str, str]], list[tuple[str, str]], list[str]]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            loop = asyncio.new_event_loop()
            try:
                got = [loop.run_until_complete(asyncio.wait_for(keys.refresh(), 5))]
            finally:
                loop.close()
            left_open = sorted(open_sockets() - before)  # (nothing closed it)
            got.append(asyncio.run(asyncio.wait_for(keys.refresh(), 5)))
            after = sorted(open_sockets() - before)
            gc.collect()
        return got, left_open, after, [str(w.message) for w in caught
                                       if w.category is ResourceWarning]

    got, left_open, after, warned = await asyncio.wait_for(asyncio.to_thread(in_turn), 30)
    assert got[1] == got[0] and got[0]
    assert len(left_open) == 1
    assert after == []
    assert warned == []
