"""Data queued before the peer's reset is read, then the end of the stream, as Node's.

Node v20 (v20.20; scratch script queued_reset.js and queued_reset_half.js, session 34): the
peer writes and resets the connection (``resetAndDestroy()``) while the accepted socket of a
``pauseOnConnect`` server is not reading, so the kernel holds the data, then the reset. Once
the socket reads (``resume()``), libuv reads the data in a read shorter than its buffer with
``POLLHUP`` in the same poll and reports EOF: ``'data'``, ``'end'``, ``'finish'``,
``'close'(false)``, no error. An ``end()`` made first fails its shutdown with ``ENOTCONN``
(ignored: ``end()``'s callback gets nothing, ``'finish'``), then the data, ``'end'``,
``'close'(false)``. A half-open socket's write after ``'end'`` still meets the reset
(``ECONNRESET``).

Before, asyncio's and uvloop's transports read the data, then the reset (``'error'``
``ECONNRESET``, ``'close'(true)``), and on uvloop the failed shutdown lost the data
altogether (``_net/hangup.py``).
"""

from __future__ import annotations

import asyncio
import select
from typing import Any

import pytest

import nodetls as tls
from nodetls import net

from .netutil import TIMEOUT

LOOPS = ["asyncio", "uvloop"]

#: Node's logs (queued_reset.js ``resume``, ``end``; queued_reset_half.js ``resume``).
NODE = {
    "resume": ["data b'hello'", "end", "finish", "close False"],
    "end": ["endcb None", "finish", "data b'hello'", "end", "close False"],
    "half_open": ["data b'hello'", "end", "w False", "wcb ECONNRESET",
                  "error ECONNRESET write ECONNRESET", "close True"],
}


def _run(loop: str, main: Any) -> Any:
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    return tls.run(main, loop=loop)


def _hung_up(sock: net.Socket) -> None:
    """Until the kernel has the peer's reset for ``sock`` (``POLLHUP`` on its descriptor),
    bounded by ``TIMEOUT``: the peer's data and reset were both delivered on loopback within
    its calls, this only makes sure (blocking: nothing else has to run meanwhile)."""
    fd = sock._handle.get_extra_info("socket").fileno()  # type: ignore[union-attr]
    p = select.poll()
    p.register(fd, 0)
    assert any(ev & select.POLLHUP for _fd, ev in p.poll(int(TIMEOUT * 1000)))


async def _scenario(mode: str) -> list[str]:
    loop = asyncio.get_running_loop()
    log: list[str] = []
    accepted: asyncio.Future[net.Socket] = loop.create_future()
    closed: asyncio.Future[None] = loop.create_future()
    server = net.create_server({"pause_on_connect": True, "allow_half_open": mode == "half_open"},
                               accepted.set_result)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    client = net.connect(server.address()["port"], "127.0.0.1")  # type: ignore[index]
    s = await asyncio.wait_for(accepted, TIMEOUT)
    await asyncio.wait_for(client, TIMEOUT)

    def on_end() -> None:
        log.append("end")
        if mode == "half_open":
            ok = s.write(b"x", callback=lambda e=None: log.append(f"wcb {e and e.code}"))
            log.append(f"w {ok}")

    s.on("data", lambda d: log.append(f"data {bytes(d)!r}"))
    s.on("end", on_end)
    s.on("finish", lambda: log.append("finish"))
    s.on("error", lambda e: log.append(f"error {e.code} {e}"))
    s.on("close", lambda h: (log.append(f"close {h}"), closed.set_result(None)))
    client_closed: asyncio.Future[None] = loop.create_future()
    client.on("close", lambda _h: client_closed.set_result(None))
    client.write(b"hello")
    client.reset_and_destroy()
    await asyncio.wait_for(client_closed, TIMEOUT)
    _hung_up(s)
    if mode == "end":
        s.end(callback=lambda e=None: log.append(f"endcb {e and e.code}"))
    s.resume()
    await asyncio.wait_for(closed, TIMEOUT)
    server.close()
    return log


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("mode", ["resume", "end", "half_open"])
def test_data_queued_before_a_reset_is_read_then_eof(loop: str, mode: str) -> None:
    """Before: ``resume`` and ``half_open`` gave the data, then ``'error'`` ``ECONNRESET`` and
    ``'close'(True)``; ``end`` the same after ``'finish'`` (on uvloop without the data)."""
    assert _run(loop, lambda: _scenario(mode)) == NODE[mode]
