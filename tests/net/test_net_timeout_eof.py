"""The peer's FIN restarts a socket's idle timeout, as every read in Node's ``onStreamRead``
(``kUpdateTimer``; ``refresh()`` re-arms a timer that has fired): a half-open socket whose
``'timeout'`` fired gets another one after ``'end'``, on asyncio and on uvloop. (Node v20,
the same script: ``timeout``, ``end``, ``timeout``; the named differential case
``timeout_restarted_by_peer_eof`` is the same, recorded from Node.)"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import nodetls
from nodetls import net

T = 10.0


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_peer_eof_restarts_a_fired_timeout(loop: str) -> None:
    if loop == "uvloop":
        pytest.importorskip("uvloop")

    async def main() -> list[str]:
        events: list[str] = []
        second: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        socks: dict[str, Any] = {}
        server = net.create_server({"allow_half_open": True})

        def on_connection(s: Any) -> None:
            socks["s"] = s
            s.set_timeout(0.05)

            def on_timeout() -> None:
                events.append("timeout")
                if events == ["timeout"]:
                    socks["c"].end()  # (the peer's FIN, once the first 'timeout' fired)
                elif not second.done():
                    second.set_result(None)

            s.on("timeout", on_timeout)
            s.on("end", lambda: events.append("end"))
            s.resume()

        server.on("connection", on_connection)
        await asyncio.wait_for(server.listen(0, "127.0.0.1"), T)
        socks["c"] = net.connect(server.address()["port"], "127.0.0.1")
        try:
            await asyncio.wait_for(second, T)
        except TimeoutError:
            pass
        finally:
            socks["c"].destroy()
            if "s" in socks:
                socks["s"].destroy()
            await asyncio.wait_for(server.close(), T)
        return events

    assert nodetls.run(main, loop=loop) == ["timeout", "end", "timeout"]
