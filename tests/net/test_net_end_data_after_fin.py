"""``end(data)`` on a socket that has ended after its peer's FIN (no ``allow_half_open``) while
a write of its is still in flight: ``ERR_STREAM_WRITE_AFTER_END``, not ``EPIPE``.

Node v20 (session 45, a scratch script: a ``pauseOnConnect`` server's socket ``end()``s at once,
the client writes 8 MB, more than the kernel takes from a peer that does not read, and 50 ms
after its ``'end'`` (the stream's own ``end()`` is called then: ``writableEnded`` true,
``writableFinished`` false) calls ``end('x', cb)`` or ``write('x', cb)``): net.Socket replaces
``write`` by ``writeAfterFIN`` once the peer's FIN came without ``allowHalfOpen``, which fails a
write after our ``end()`` with ``EPIPE`` ("This socket has been ended by the other party"); but
``end(chunk)`` hands the chunk to Writable's own ``_write``, not to ``socket.write``, so it is
refused as by any ended stream: ``'error'`` ``ERR_STREAM_WRITE_AFTER_END``, end()'s callback the
same, then the write in flight's callback (null: the destroy cancels it) and ``'close'(true)``.
``write('x', cb)`` there: its callback and ``'error'`` ``EPIPE``. Seed 8600 of the TLS
differential harness found it (a TLS 1.2 client's write held behind its renegotiation when the
server's close_notify came); the named case ``end_data_after_peer_fin_write_after_end`` is its
net form.

Before, nodetls's ``Writable.end`` wrote the chunk through ``socket.write``, whose
write-after-FIN check made the socket's error ``EPIPE`` (end()'s callback got
``ERR_STREAM_WRITE_AFTER_END``, ``'error'`` ``EPIPE``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import nodetls as tls
from nodetls import net

from .netutil import TIMEOUT

#: more than the kernel takes from a peer that does not read
BIG = 8_000_000

#: Node's logs (the scratch script; ``op`` is the client's last call)
NODE = {
    "end": ["end", "ended True finished False", "error ERR_STREAM_WRITE_AFTER_END",
            "endcb ERR_STREAM_WRITE_AFTER_END", "wcb None", "close True"],
    "write": ["end", "ended True finished False", "wcb2 EPIPE", "error EPIPE", "wcb None",
              "close True"],
}


async def _scenario(op: str) -> list[str]:
    loop = asyncio.get_running_loop()
    log: list[str] = []
    closed: asyncio.Future[None] = loop.create_future()
    server = net.create_server({"pause_on_connect": True}, lambda s: s.end())
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    client = net.connect(server.address()["port"], "127.0.0.1")  # type: ignore[index]

    def code(e: Any) -> Any:
        return e and e.code

    def last_call() -> None:
        log.append(f"ended {client.writable_ended} finished {client.writable_finished}")
        if op == "end":
            client.end(b"x", callback=lambda e=None: log.append(f"endcb {code(e)}"))
        else:
            client.write(b"x", callback=lambda e=None: log.append(f"wcb2 {code(e)}"))

    client.write(b"a" * BIG, callback=lambda e=None: log.append(f"wcb {code(e)}"))
    client.on("end", lambda: (log.append("end"), loop.call_later(0.05, last_call)))
    client.on("error", lambda e: log.append(f"error {e.code}"))
    client.on("close", lambda h: (log.append(f"close {h}"), closed.set_result(None)))
    await asyncio.wait_for(closed, TIMEOUT)
    server.close()
    return log


@pytest.mark.parametrize("op", ["end", "write"])
@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_end_data_after_peer_fin(op: str, loop: str) -> None:
    """As Node's: ``end(data)`` refused as after any ``end()``; ``write()`` gets ``EPIPE``."""
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    assert tls.run(lambda: _scenario(op), loop=loop) == NODE[op]
