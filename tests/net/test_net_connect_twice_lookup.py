"""Two ``connect()`` calls while the first looks up a host name: the first to reach the
handle's connect makes it, the other gets ``EALREADY`` naming the local address of the
connection under way, as Node's.

Node v20 (v20.20; scratch script ealready_lookup.js, session 34), one socket,
``connect({port: A, host: 'h1.test', lookup})`` then ``connect({port: B, host: 'h2.test',
lookup})`` in the same tick, servers A and B on 127.0.0.1, the ``options.lookup`` answering
the second call first: the second connects, the first is refused: ``'lookup'`` h2,
``'connectionAttempt'`` B, ``'lookup'`` h1, ``'connectionAttempt'`` A, ``'error'`` ``connect
EALREADY 127.0.0.1:A - Local (127.0.0.1:<port>)``, ``'close'(true)``.

Before, the second call was always the refused one, and when it got there while the first was
still looking up, its error had no ``- Local (...)`` (``_net/connect_again.py``). (Two
``connect(port, 'localhost')`` calls, scratch script ealready2.js, give Node's log too, the
second's lookup answered after the first's connect began; not tested here: whether the first
connection completes before the second lookup answers is timing, in Node as here.)
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

import nodetls as tls
from nodetls import net

from .netutil import TIMEOUT, close_server

LOOPS = ["asyncio", "uvloop"]

#: Node's log (ealready_lookup.js ``second``).
NODE = ["lookup None 127.0.0.1 4 h2.test", "attempt 127.0.0.1 B 4",
        "lookup None 127.0.0.1 4 h1.test", "attempt 127.0.0.1 A 4",
        "error EALREADY connect EALREADY 127.0.0.1:A - Local (127.0.0.1:LP)", "close True"]


def _run(loop: str, main: Any) -> Any:
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    return tls.run(main, loop=loop)


async def _twice() -> list[str]:
    loop = asyncio.get_running_loop()
    servers = [net.create_server(lambda s: s.on("error", lambda e: None)) for _ in range(2)]
    for server in servers:
        await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    a, b = (server.address()["port"] for server in servers)  # type: ignore[index]
    names = {a: "A", b: "B"}
    log: list[str] = []
    closed: asyncio.Future[None] = loop.create_future()
    c = net.Socket()
    c.on("lookup", lambda e, ip, fam, host: log.append(f"lookup {e} {ip} {fam} {host}"))
    c.on("connectionAttempt", lambda ip, p, fam: log.append(f"attempt {ip} {names[p]} {fam}"))
    c.on("connect", lambda: log.append("connect"))
    c.on("error", lambda e: log.append(
        f"error {e.code} " + re.sub(r":\d+\)$", ":LP)", str(e).replace(f":{a}", ":A")
                                    .replace(f":{b}", ":B"))))
    c.on("close", lambda h: (log.append(f"close {h}"), closed.set_result(None)))
    callbacks: list[Any] = []

    def lookup(host: str, opts: Any, cb: Any) -> None:
        callbacks.append(cb)
        if len(callbacks) == 2:  # (Node: a setImmediate answering the second first)
            loop.call_soon(lambda: (callbacks[1](None, "127.0.0.1", 4),
                                    callbacks[0](None, "127.0.0.1", 4)))

    c.connect({"port": a, "host": "h1.test", "lookup": lookup, "auto_select_family": False})
    c.connect({"port": b, "host": "h2.test", "lookup": lookup, "auto_select_family": False})
    await asyncio.wait_for(closed, TIMEOUT)
    for server in servers:
        await close_server(server)
    return log


@pytest.mark.parametrize("loop", LOOPS)
def test_the_first_to_connect_wins_the_other_names_its_local_address(loop: str) -> None:
    """Before: the second call was refused (``connect EALREADY 127.0.0.1:B``, no local
    address), and the first connected."""
    assert _run(loop, _twice) == NODE
