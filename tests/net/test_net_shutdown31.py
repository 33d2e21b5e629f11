"""When ``end()``'s FIN goes out, when its callback comes, and what a close shows the peer.

Node's ``_final`` starts ``handle.shutdown(req)``: libuv sends the FIN on the next loop
iteration (after the writes queued before it), so a ``destroy()`` in the same tick closes the
connection without one, and the shutdown completes before that iteration reads what the peer
sent meanwhile. Its ``destroy()`` closes the descriptor at once: a FIN when nothing is unread,
a RST when something is. Each expected log below was recorded with node v20 from the same
scenario (two sockets of one process over 127.0.0.1, the socket ops in one tick)::

    end+destroy, data unread:    c: close false              s: error ECONNRESET, close true
    end+destroy, nothing unread: c: close false              s: end, finish, close false
    end, peer writes:            c: endcb, finish, data a, end, close false
    end, then a tick:            c: tick, endcb, finish, end, close false
    peer destroyed, then write:  s: wcb null, end, finish, close false
    end(data)+destroy, peer writes 64 KiB: c: data hi, end, finish, close false
    reset_and_destroy():         c: close false              s: error ECONNRESET, close true

(the differential cases ``end_then_destroy_same_tick_no_fin``, ``finish_before_peer_data`` and
``peer_closed_then_write_reads_eof`` of ``test_net_differential.py``, in small).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from nodetls import net
from nodetls import run as tls_run

from .netutil import TIMEOUT, close_server, event

Scenario = Callable[[net.Socket, net.Socket, list[str]], None]


def _watch(sock: net.Socket, name: str, log: list[str]) -> None:
    sock.on("data", lambda d: log.append(f"{name} data {bytes(d).decode('latin-1')}"))
    for ev in ("end", "finish"):
        sock.on(ev, lambda ev=ev: log.append(f"{name} {ev}"))
    sock.on("error", lambda e: log.append(f"{name} error {getattr(e, 'code', e)}"))
    sock.on("close", lambda had_error: log.append(f"{name} close {str(had_error).lower()}"))


async def _run(scenario: Scenario) -> tuple[list[str], list[str]]:
    """Connect a client ``c`` to a server's socket ``s``, run ``scenario(s, c, log)`` in one
    tick, wait until both sockets closed; each one's events."""
    server = net.create_server()
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    try:
        accepted = asyncio.ensure_future(event(server, "connection"))
        c = net.connect({"port": server.address()["port"], "host": "127.0.0.1"})
        await asyncio.wait_for(c, TIMEOUT)
        (s,) = await accepted
        log: list[str] = []
        _watch(c, "c", log)
        _watch(s, "s", log)
        loop = asyncio.get_running_loop()
        closes = [loop.create_future(), loop.create_future()]
        for sock, fut in zip((c, s), closes, strict=True):
            sock.on("close", lambda *_, fut=fut: fut.done() or fut.set_result(None))
        closed = asyncio.gather(*closes)
        scenario(s, c, log)
        await asyncio.wait_for(closed, TIMEOUT)
        return ([x for x in log if x.startswith("c ")], [x for x in log if x.startswith("s ")])
    finally:
        await close_server(server)


def _end_destroy_unread(s: net.Socket, c: net.Socket, log: list[str]) -> None:
    s.write(b"ded")
    c.end()
    c.destroy()


def _end_destroy_nothing_unread(s: net.Socket, c: net.Socket, log: list[str]) -> None:
    c.end()
    c.destroy()


def _peer_destroyed_then_write(s: net.Socket, c: net.Socket, log: list[str]) -> None:
    c.destroy()
    s.write(b"dec", callback=lambda e=None: log.append(f"s wcb {getattr(e, 'code', e)}"))


def _end_data_destroy_peer_writes(s: net.Socket, c: net.Socket, log: list[str]) -> None:
    s.end(b"hi")
    s.destroy()
    c.write(b"\x01" * 65536)


_CLOSES = {
    # (scenario, the client's log, the server socket's log): node v20's
    "end_destroy_unread": (_end_destroy_unread, ["c close false"],
                           ["s error ECONNRESET", "s close true"]),
    "end_destroy_nothing_unread": (_end_destroy_nothing_unread, ["c close false"],
                                   ["s end", "s finish", "s close false"]),
    "peer_destroyed_then_write": (_peer_destroyed_then_write, ["c close false"],
                                  ["s wcb None", "s end", "s finish", "s close false"]),
    "end_data_destroy_peer_writes": (_end_data_destroy_peer_writes,
                                     ["c data hi", "c end", "c finish", "c close false"],
                                     ["s close false"]),
}


@pytest.mark.parametrize("name", list(_CLOSES))
async def test_what_the_peer_sees_of_end_and_destroy(name: str) -> None:
    """``end()`` then ``destroy()`` in one tick sends no FIN (a RST alone when data is unread:
    the peer's ECONNRESET, no 'end'); a ``destroy()`` with nothing unread sends the FIN at
    once, so the peer's write drawing a RST after it still reads as an EOF ('end', 'finish',
    'close' false); a peer that ended with data, then destroyed, is read to its end."""
    scenario, c_log, s_log = _CLOSES[name]
    assert await _run(scenario) == (c_log, s_log)


@pytest.mark.parametrize("name", ["end_destroy_unread", "peer_destroyed_then_write"])
@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_what_the_peer_sees_under_run(name: str, loop: str) -> None:
    """The same under :func:`nodetls.run`, on either loop."""
    pytest.importorskip(loop)
    scenario, c_log, s_log = _CLOSES[name]
    assert tls_run(lambda: _run(scenario), loop=loop) == (c_log, s_log)


def _end_peer_writes(s: net.Socket, c: net.Socket, log: list[str]) -> None:
    c.end(callback=lambda *_: log.append("c endcb"))
    s.write(b"a")


def _end_then_tick(s: net.Socket, c: net.Socket, log: list[str]) -> None:
    c.end(callback=lambda *_: log.append("c endcb"))
    asyncio.get_running_loop().call_soon(log.append, "c tick")


_COMPLETIONS = {
    # (scenario, the client's log, the server socket's log): node v20's
    "end_peer_writes": (_end_peer_writes,
                        ["c endcb", "c finish", "c data a", "c end", "c close false"],
                        ["s end", "s finish", "s close false"]),
    "end_then_tick": (_end_then_tick,
                      ["c tick", "c endcb", "c finish", "c end", "c close false"],
                      ["s end", "s finish", "s close false"]),
}


async def test_end_completes_before_what_the_peer_sent_in_the_same_tick() -> None:
    """Node: the shutdown completes in libuv's pending phase, before the poll that reads the
    peer's data: end()'s callback and 'finish' come before 'data'."""
    scenario, c_log, s_log = _COMPLETIONS["end_peer_writes"]
    assert await _run(scenario) == (c_log, s_log)


async def test_end_completes_after_the_ticks_queued_after_it() -> None:
    """Node: a tick queued after end() (process.nextTick) runs before end()'s callback and
    'finish' (the shutdown completes from the loop, after the ticks)."""
    scenario, c_log, s_log = _COMPLETIONS["end_then_tick"]
    assert await _run(scenario) == (c_log, s_log)


@pytest.mark.parametrize("name", list(_COMPLETIONS))
@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_end_completes_under_run(name: str, loop: str) -> None:
    """The same under :func:`nodetls.run`, on either loop: uvloop runs its ``call_soon``
    callbacks before its poll (asyncio's after it), so the handle holds what it reads from
    ``end()`` on, not from the shutdown's loop step (which comes after that poll there)."""
    pytest.importorskip(loop)
    scenario, c_log, s_log = _COMPLETIONS[name]
    assert tls_run(lambda: _run(scenario), loop=loop) == (c_log, s_log)


async def test_reset_and_destroy_sends_no_fin_first() -> None:
    """Node's resetAndDestroy(): the peer reads the RST alone (ECONNRESET, no 'end'), even with
    nothing unread (our close otherwise sends the FIN at once)."""

    def scenario(s: net.Socket, c: net.Socket, log: list[str]) -> None:
        c.reset_and_destroy()

    c_log, s_log = await _run(scenario)
    assert c_log == ["c close false"]
    assert s_log == ["s error ECONNRESET", "s close true"]
