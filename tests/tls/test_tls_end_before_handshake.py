"""A client that ends (or renegotiates after ending) before its handshake is done, as Node v20.

Node (checked with node v20.20.2): ``tls.connect(...)`` then ``end()`` at once sends the
ClientHello, then the FIN; the handshake goes on (the client's last flight meets the shut
write side: Node's TLSWrap ignores write errors after its shutdown), the client emits
``'secureConnect'``, the server, missing that flight, ``'tlsClientError'`` ``ECONNRESET``; the
client then sees the server's end: ``'end'``, ``'close'`` with ``had_error`` false, and never an
``'error'``. (When ``'finish'`` comes relative to ``'secureConnect'`` is the differential case
``end_before_handshake``.)
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tlsutil import LOOPS, listen, run_on, shut, wait

import nodetls as tls


async def _end_at_once(certs: Any) -> tuple[list[str], list[str]]:
    log: list[str] = []
    server_log: list[str] = []
    server, port = await listen(certs.server.options)
    server.on("tlsClientError", lambda e, _s: server_log.append(f"tlsClientError {e.code}"))
    opts = {"host": "127.0.0.1", "ca": certs.root.cert_pem, "servername": "localhost"}
    closed = asyncio.get_running_loop().create_future()
    try:
        sock = tls.connect(port, opts)
        for ev in ("secureConnect", "end", "finish"):
            sock.on(ev, lambda ev=ev: log.append(ev))
        sock.on("error", lambda e: log.append(f"error {getattr(e, 'code', type(e).__name__)}"))
        sock.on("close", lambda h: (log.append(f"close {h}"), closed.set_result(None)))
        sock.end()
        await wait(closed)
    finally:
        await shut(server)
    return log, server_log


@pytest.mark.parametrize("loop", LOOPS)
def test_end_right_after_connect_is_no_error(certs: Any, loop: str) -> None:
    log, server_log = run_on(loop, lambda: _end_at_once(certs))
    assert not [x for x in log if x.startswith("error")], log
    assert "secureConnect" in log and "finish" in log
    assert log[-2:] == ["end", "close False"]
    assert server_log == ["tlsClientError ECONNRESET"]
