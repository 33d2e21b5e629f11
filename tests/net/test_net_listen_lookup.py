"""``server.listen()`` with a host looks it up first, an IP too; without one it binds at once.

Node v20's ``Server.prototype.listen`` calls ``lookupAndListen`` (``dns.lookup``) whenever a host
is given; ``dns.lookup`` answers an IP address on the next tick, so right after
``listen(0, '127.0.0.1')`` the server is not listening and ``address()`` is ``null``; the bind
happens in that tick and ``'listening'`` follows. With no host (or ``''``) and for a pipe path,
``listenInCluster`` binds in the call. Checked with node v20.20 (``/tmp/netfix/l1.js``,
``l2.js``): the logs below are node's.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from typing import Any

import pytest

from nodetls import net
from nodetls._run import run

from .netutil import TIMEOUT, close_server, has_ipv6

pytestmark = pytest.mark.timeout(20)


async def _states(args: tuple[Any, ...]) -> list[Any]:
    """What node's l1.js logs: listening/address in the call, after one tick, at 'listening'."""
    log: list[Any] = []
    server = net.create_server()
    server.on("listening", lambda: log.append(("listening", server.listening)))
    server.listen(*args)
    log.append(("sync", server.listening, server.address() is not None))
    asyncio.get_running_loop().call_soon(lambda: log.append(("tick", server.listening)))
    await asyncio.wait_for(server, TIMEOUT)
    await close_server(server)
    return log


@pytest.mark.parametrize("args", [
    (0, "127.0.0.1"), ({"port": 0, "host": "127.0.0.1"},), (0, "::1"), (0, "localhost"),
], ids=["ip", "options", "ipv6", "name"])
async def test_a_host_is_looked_up_first_so_nothing_listens_in_the_call(args: Any) -> None:
    # node: ip/opts/v6 -> 'sync listening=false addr=null', 'tick1 listening=true', 'listening'
    if args == (0, "::1") and not has_ipv6():
        pytest.skip("no IPv6")
    log = await _states(args)
    assert log[0] == ("sync", False, False)
    assert ("listening", True) in log
    if args[1:] != ("localhost",):  # an IP: bound on the next step, before 'listening'
        assert log[1:] == [("tick", True), ("listening", True)]


@pytest.mark.parametrize("how", ["no host", "empty host", "path"])
async def test_no_host_or_a_path_binds_in_the_call(how: str) -> None:
    # node: nohost/emptyhost/pipe -> 'sync listening=true addr={...}', then 'listening'
    with tempfile.TemporaryDirectory() as tmp:
        args: tuple[Any, ...] = {"no host": (0,), "empty host": (0, ""),
                                 "path": (os.path.join(tmp, "s.sock"),)}[how]
        log = await _states(args)
    assert log[0] == ("sync", True, True)
    assert ("tick", True) in log and ("listening", True) in log


async def test_address_in_use_on_an_ip_is_emitted_later() -> None:
    # node (l1.js 'inuse'): listening false in the call, then 'error' EADDRINUSE with the message
    busy = net.create_server()
    await asyncio.wait_for(busy.listen(0, "127.0.0.1"), TIMEOUT)
    port = busy.address()["port"]  # type: ignore[index]
    server = net.create_server()
    errors: list[Any] = []
    server.on("error", errors.append)
    server.listen(port, "127.0.0.1")
    assert not server.listening and errors == []
    with pytest.raises(OSError):
        await asyncio.wait_for(server, TIMEOUT)
    assert [(e.code, str(e)) for e in errors] == [
        ("EADDRINUSE", f"listen EADDRINUSE: address already in use 127.0.0.1:{port}")]
    assert not server.listening
    await close_server(busy)


def test_run_waits_for_the_lookup_and_listening_even_unrefd() -> None:
    # node l2.js: an unref'd server still reports 'listening' (the lookup request is referenced,
    # 'listening' is a nextTick), and one on 'localhost' closing in its callback listens first
    log: list[str] = []

    def main() -> None:
        # (each closes in its 'listening' listener: nothing is left open when run() returns)
        a = net.create_server()
        a.listen(0, "localhost", lambda: (log.append(f"a listening {a.listening}"), a.close()))
        a.unref()
        b = net.create_server()
        b.listen(0, "127.0.0.1", lambda: (log.append("b listening"), b.close()))
        b.unref()
        c = net.create_server()
        c.listen(0, "localhost", lambda: (log.append("c listening"), c.close()))

    run(main)
    assert sorted(log) == ["a listening True", "b listening", "c listening"]
