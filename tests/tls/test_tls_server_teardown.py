"""The end of a server connection's life, as Node v20 has it: the peer's close_notify and FIN
-> ``'end'`` -> ``end()`` (the pipe's, or Node's own for ``allow_half_open=False``) ->
``'prefinish'`` -> ``'finish'`` -> destroy -> ``'close'(false)``, with the stream's flags at
each event (``net.Socket.end``/``destroy``'s and ``TLSSocket._on_handle_close``'s one-call
paths; expectations taken from ``node`` with the same scenario)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tlsutil import LOOPS, TIMEOUT, run_on

import nodetls as tls

# (event, argument, writable_ended, writable_finished, destroyed, closed, readable_ended)
NODE_ORDER = [
    ("end", None, False, False, False, False, True),
    ("prefinish", None, True, False, False, False, True),
    ("finish", None, True, True, False, False, True),
    ("close", False, True, True, True, True, True),
]


def _record(s: tls.TLSSocket, log: list[tuple[Any, ...]], events: list[str]) -> None:
    def listener(ev: str) -> Any:
        def on(*args: Any) -> None:
            log.append((ev, args[0] if args else None, s.writable_ended, s.writable_finished,
                        s.destroyed, s.closed, s.readable_ended))
        return on

    for ev in events:
        s.on(ev, listener(ev))


async def _serve_and_connect(certs: Any, on_secure: Any) -> tuple[tls.Server, tls.TLSSocket]:
    server = tls.create_server(certs.server.options, on_secure)
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, TIMEOUT)
    sock = tls.connect(server.address()["port"], {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                                  "servername": "localhost"})
    return server, sock


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("how", ["pipe", "no-half-open", "end-listener"])
@pytest.mark.parametrize("prefinish", [True, False])
def test_server_connection_ends_finishes_and_closes_as_node(certs: Any, loop: str, how: str,
                                                             prefinish: bool) -> None:
    async def main() -> None:
        aloop = asyncio.get_running_loop()
        log: list[tuple[Any, ...]] = []
        waited: asyncio.Future[Any] = aloop.create_future()
        events = ["end", "prefinish", "finish", "close"] if prefinish else \
            ["end", "finish", "close"]

        async def wait_closed(s: tls.TLSSocket) -> None:
            await s.wait_closed()
            waited.set_result((s.destroyed, s.closed, s.writable_finished))

        def on_secure(s: tls.TLSSocket) -> None:
            _record(s, log, events)
            if how == "pipe":
                s.pipe(s)
            else:
                s.resume()
                if how == "end-listener":
                    s.on("end", s.end)
            aloop.create_task(wait_closed(s))

        server, sock = await _serve_and_connect(certs, on_secure)
        closed = aloop.create_future()
        sock.on("close", lambda err: closed.done() or closed.set_result(err))
        try:
            await asyncio.wait_for(sock, TIMEOUT)
            if how == "pipe":
                sock.write(b"hi")
                sock.once("data", lambda _d: sock.end())
            else:
                sock.resume()
                sock.end()
            assert await asyncio.wait_for(closed, TIMEOUT) is False
            assert await asyncio.wait_for(waited, TIMEOUT) == (True, True, True)
        finally:
            server.close()
        assert log == [e for e in NODE_ORDER if e[0] in events]

    run_on(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
def test_end_returns_ended_not_finished_and_a_later_end_callback_runs_at_finish(
        certs: Any, loop: str) -> None:
    """``end()`` in ``'end'`` returns the socket, ended but not finished ('finish' is a later
    tick, Node); a second ``end(callback)`` gets its callback just before ``'finish'``."""
    async def main() -> None:
        aloop = asyncio.get_running_loop()
        got: asyncio.Future[Any] = aloop.create_future()

        def on_secure(s: tls.TLSSocket) -> None:
            def on_end() -> None:
                order: list[Any] = []
                r = s.end()
                state = (r is s, s.writable_ended, s.writable_finished, s.destroyed, s.writable)
                s.on("finish", lambda: order.append("finish"))
                s.end(lambda err: order.append(("end-cb", err)))
                s.on("close", lambda had_error: got.set_result((state, order, had_error)))

            s.on("end", on_end)
            s.resume()

        server, sock = await _serve_and_connect(certs, on_secure)
        try:
            await asyncio.wait_for(sock, TIMEOUT)
            sock.resume()
            sock.end()
            result = await asyncio.wait_for(got, TIMEOUT)
        finally:
            server.close()
            sock.destroy()
        assert result == ((True, True, False, False, False), [("end-cb", None), "finish"], False)

    run_on(loop, main)
