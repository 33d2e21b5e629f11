"""A socket's end, in Node v20's order: ``end()`` -> ``'prefinish'`` -> ``'finish'`` -> ``'close'``.

Node's ``_final`` starts ``handle.shutdown(req)``, whose completion (libuv's shutdown callback; a
TLSSocket's wrap shutting down the TCP socket under it) comes after the ticks queued by the code
that called ``end()``: only then ``'prefinish'``, and ``'finish'`` a tick later. So a tick queued
after ``end()`` runs before ``'prefinish'``, and a ``write()`` after ``end()`` (an error) leaves
neither ``'prefinish'`` nor ``'finish'``. The orders below were recorded with node v20 (the same
scenarios, a net and a TLS server and client on 127.0.0.1, each side in turn)::

    plain:    end() | end() returned | tick | prefinish | finish | close
    nolisten: end() | end() returned | tick | finish | close            (no 'prefinish' listener)
    tick:     end | tick | prefinish | finish | close                   (end() then a tick in 'end')
    epipe:    end | write=False | wcb:ERR_STREAM_WRITE_AFTER_END | error:ERR_STREAM_WRITE_AFTER_END
              | close                                                   (end() then write() in 'end')
    auto:     end | tick | prefinish | finish | close                   (allowHalfOpen false: the
                                                                         socket's own end() on 'end')
    ptick:    end() | end() returned | tick | prefinish | ptick | finish | close
                                                                        (a tick queued in 'prefinish')
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import nodetls as tls
from nodetls import net

TIMEOUT = 10.0

NODE_ORDERS = {
    "plain": "end() | end() returned | tick | prefinish | finish | close",
    "nolisten": "end() | end() returned | tick | finish | close",
    "tick": "end | tick | prefinish | finish | close",
    "epipe": ("end | write=False | wcb:ERR_STREAM_WRITE_AFTER_END"
              " | error:ERR_STREAM_WRITE_AFTER_END | close"),
    "auto": "end | tick | prefinish | finish | close",
    "ptick": "end() | end() returned | tick | prefinish | ptick | finish | close",
}


async def _listen_connect(kind: str, certs: Any, on_conn: Any, half: bool = False
                          ) -> tuple[Any, Any, str]:
    """A ``kind`` (net or tls) server on 127.0.0.1 calling ``on_conn``, a client connecting to
    it, and the client's ready event."""
    server: Any = (tls.create_server({**certs.server.options, "allowHalfOpen": half}, on_conn)
                   if kind == "tls" else net.create_server({"allowHalfOpen": half}, on_conn))
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, TIMEOUT)
    opts: dict[str, Any] = {"port": server.address()["port"], "host": "127.0.0.1",
                            "allowHalfOpen": half}
    if kind == "tls":
        return server, tls.connect({**opts, "ca": certs.root.cert_pem,
                                    "servername": "localhost"}), "secureConnect"
    return server, net.connect(opts), "connect"


async def _scenario(kind: str, side: str, scen: str, certs: Any) -> str:
    loop = asyncio.get_running_loop()
    log: list[str] = []
    done: asyncio.Future[None] = loop.create_future()
    half = scen != "auto"

    def tick(name: str) -> None:
        loop.call_soon(log.append, name)  # (Node's process.nextTick)

    def watch(s: Any) -> None:
        if scen != "nolisten":
            s.on("prefinish", lambda: log.append("prefinish"))
        if scen == "ptick":
            s.on("prefinish", lambda: tick("ptick"))
        s.on("finish", lambda: log.append("finish"))

        def on_close(*_: Any) -> None:
            log.append("close")
            if not done.done():
                done.set_result(None)

        s.on("close", on_close)
        s.on("error", lambda e: log.append(f"error:{getattr(e, 'code', e)}"))
        s.on("data", lambda _d: None)
        if scen in ("plain", "nolisten", "ptick"):
            log.append("end()")
            s.end()
            log.append("end() returned")
            tick("tick")
        else:
            def on_end() -> None:
                log.append("end")
                if scen != "auto":
                    s.end()
                if scen in ("tick", "auto"):
                    tick("tick")
                if scen == "epipe":
                    r = s.write(b"x", lambda e=None: log.append(
                        f"wcb:{getattr(e, 'code', e)}"))
                    log.append(f"write={r}")

            s.on("end", on_end)

    def peer(s: Any) -> None:
        s.on("data", lambda _d: None)
        s.on("error", lambda _e: None)
        s.on("end", s.end)

    def on_conn(s: Any) -> None:
        if side == "server":
            watch(s)
        else:
            peer(s)
            if scen in ("tick", "epipe", "auto"):
                s.end()

    server, client, ready = await _listen_connect(kind, certs, on_conn, half)

    def on_ready() -> None:
        if side == "client":
            watch(client)
        elif scen in ("tick", "epipe", "auto"):
            client.end()

    client.on(ready, on_ready)
    if side == "server":
        peer(client)
    try:
        await asyncio.wait_for(done, TIMEOUT)
    finally:
        client.destroy()
        server.close()
    return " | ".join(log)


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
@pytest.mark.parametrize("kind", ["net", "tls"])
@pytest.mark.parametrize("side", ["server", "client"])
@pytest.mark.parametrize("scen", sorted(NODE_ORDERS))
def test_end_order_as_node(certs: Any, loop: str, kind: str, side: str, scen: str) -> None:
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    got = tls.run(lambda: _scenario(kind, side, scen, certs), loop=loop)
    assert got == NODE_ORDERS[scen]


async def _reset_scenario(kind: str, certs: Any) -> str:
    """The client writes, ends and destroys at once: the server's reply meets a closed socket
    (the peer's RST), then its end() shuts down (uvloop's uv_shutdown then fails, ENOTCONN)."""
    loop = asyncio.get_running_loop()
    log: list[str] = []
    done: asyncio.Future[None] = loop.create_future()

    def on_conn(s: Any) -> None:
        def on_data(_d: Any) -> None:
            log.append("data")
            s.write(b"bye")

        def on_close(*_: Any) -> None:
            log.append("close")
            if not done.done():
                done.set_result(None)

        s.on("data", on_data)
        s.on("end", lambda: log.append("end"))
        s.on("prefinish", lambda: log.append("prefinish"))
        s.on("finish", lambda: log.append("finish"))
        s.on("error", lambda e: log.append(f"error:{getattr(e, 'code', e)}"))
        s.on("close", on_close)

    server, client, ready = await _listen_connect(kind, certs, on_conn)

    def on_ready() -> None:
        client.write(b"hi")
        client.end()
        client.destroy()

    client.on(ready, on_ready)
    client.on("error", lambda _e: None)
    try:
        await asyncio.wait_for(done, TIMEOUT)
    finally:
        server.close()
    return " | ".join(log)


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
@pytest.mark.parametrize("kind", ["net", "tls"])
def test_end_after_the_peer_reset_is_no_error_as_node(certs: Any, loop: str, kind: str) -> None:
    """Recorded with node v20: ``data | end | prefinish | finish | close`` (a shutdown that
    fails with ENOTCONN counts as done: Node's ``_final`` and ``afterShutdown``)."""
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    for _ in range(5):  # (the reset races the shutdown: a few rounds)
        got = tls.run(lambda: _reset_scenario(kind, certs), loop=loop)
        assert got == "data | end | prefinish | finish | close"
