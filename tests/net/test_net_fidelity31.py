"""Node v20 fidelity of the net layer, session 31 (lib/net.js).

* A listener that raises while ``options.lookup`` answers inside ``connect()``: Node's ``emit``
  throws through ``emitLookup`` and ``lookupAndConnect``, out of ``connect()``; answered later,
  the exception is the package's listener rule (Node: uncaught).
* The ``ECANCELED`` ``'connectionAttemptFailed'`` of a destroyed ``auto_select_family``
  connect: what its listener queues (``call_soon``, Node's ``process.nextTick``) runs before
  ``'close'``.
* ``AggregateError``'s message is ``''``: so is ``str()`` of ``AggregateNodeError``.
* ``server.listen(other_server)``: Node moves the handle; the first server's connections go to
  the second, and closing either closes the socket for both.

Every expectation was checked against node v20.20 running the same scenario
(/tmp/net31/i1.js, i2.js, i3.js, i5.js, i5b.js).
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from typing import Any

import pytest

from nodetls import net
from nodetls._run import run
from nodetls.errors import AggregateNodeError

from .netutil import TIMEOUT, close_server

TWO = [{"address": "127.0.0.2", "family": 4}, {"address": "127.0.0.1", "family": 4}]


def at_once(reply: Any) -> Any:
    """A lookup answering ``reply`` (the callback's arguments) before it returns."""
    return lambda host, options, callback: callback(*reply)


def raising(message: str) -> Any:
    def listener(*args: Any) -> None:
        raise RuntimeError(message)
    return listener


async def steps(n: int = 5) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


# -- 1. a listener that raises inside connect() ---------------------------------------------------

@pytest.mark.parametrize(("event", "options"), [
    ("lookup", {"family": 4, "lookup": at_once((None, "127.0.0.1", 4))}),
    ("lookup", {"lookup": at_once((None, TWO[1:]))}),
    ("lookup", {"family": 4, "lookup": at_once((OSError("boom"),))}),
    ("connectionAttempt", {"family": 4, "lookup": at_once((None, "127.0.0.1", 4))}),
    ("connectionAttempt", {"family": 4, "local_address": "127.0.0.1",
                           "lookup": at_once((None, "127.0.0.1", 4))}),
    ("connectionAttempt", {"lookup": at_once((None, TWO))}),
], ids=["lookup one", "lookup all", "lookup error answer", "attempt", "attempt bound",
        "attempt several"])
async def test_a_listener_that_raises_inside_connect_is_raised_by_connect(
        port: int, event: str, options: dict[str, Any]) -> None:
    # node i1.js listenerThrows, listenerThrowsAll, errAnswerListenerThrows, attemptThrows,
    # attemptThrowsMulti: connect() throws the listener's exception; no event follows (no
    # 'error', no 'close'); the socket is not destroyed. The socket an attempt had bound or
    # opened is closed (no ResourceWarning once collected).
    log: list[Any] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        sock = net.Socket()
        sock.on(event, raising("listener"))
        for name in ("connectionAttemptFailed", "connect", "error", "close"):
            sock.on(name, lambda *a, name=name: log.append(name))
        with pytest.raises(RuntimeError, match="^listener$"):
            sock.connect({"port": port, "host": "x.test", **options})
        await steps()
        assert not sock.destroyed
        sock.destroy()
        await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
        del sock
        gc.collect()
    assert "error" not in log and "connect" not in log
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


async def test_a_listener_that_raises_for_a_later_answer_is_the_sockets_error(
        port: int) -> None:
    # node i1.js asyncListenerThrows: answered on a later turn, Node's exception is uncaught;
    # here it is where a listener's exception goes: the socket's 'error', then 'close'(true)
    def lookup(host: str, options: dict[str, Any], callback: Any) -> None:
        asyncio.get_running_loop().call_soon(callback, None, "127.0.0.1", 4)

    sock = net.Socket()
    sock.on("lookup", raising("late"))
    log: list[Any] = []
    sock.on("error", lambda err: log.append(("error", str(err))))
    sock.on("close", lambda had_error: log.append(("close", had_error)))
    sock.connect({"port": port, "host": "x.test", "family": 4, "lookup": lookup})
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    assert log == [("error", "late"), ("close", True)]


async def test_a_lookup_that_raises_leaves_a_socket_that_connects_again(port: int) -> None:
    # node i1b.js: connect() throws what lookup threw; a second connect() on that socket
    # connects
    sock = net.Socket()
    sock.on("lookup", raising("listener"))
    with pytest.raises(RuntimeError):
        sock.connect({"port": port, "host": "x.test", "family": 4,
                      "lookup": at_once((None, "127.0.0.1", 4))})
    data: list[bytes] = []
    sock.on("data", data.append)
    sock.connect(port, "127.0.0.1")
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    assert data == [b"ok"]


# -- 2. 'connectionAttemptFailed' (ECANCELED) before 'close' --------------------------------------

@pytest.mark.parametrize("when", ["now", "soon"])
@pytest.mark.parametrize("with_error", [False, True], ids=["destroy()", "destroy(err)"])
async def test_what_the_cancelled_attempts_listener_queues_runs_before_close(
        port: int, when: str, with_error: bool) -> None:
    # node i2.js sync, syncErr, tick, tickErr: a destroy while the first of two addresses is
    # being tried: ['error',] 'connectionAttemptFailed' (ECANCELED), what its listener queued
    # (process.nextTick), then 'close'
    loop = asyncio.get_running_loop()
    log: list[Any] = []
    sock = net.Socket()

    def failed(ip: str, port_: int, family: int, err: Any) -> None:
        log.append(("failed", ip, err.code))
        loop.call_soon(log.append, "queued")

    sock.on("connectionAttemptFailed", failed)
    sock.on("error", lambda err: log.append(("error", str(err))))
    sock.on("close", lambda had_error: log.append(("close", had_error)))
    sock.connect({"port": port, "host": "x.test", "lookup": at_once((None, TWO))})

    def destroy() -> None:
        sock.destroy(RuntimeError("E") if with_error else None)

    if when == "now":
        destroy()
    else:
        loop.call_soon(destroy)
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    await steps()
    assert log == [*([("error", "E")] if with_error else []),
                   ("failed", "127.0.0.2", "ECANCELED"), "queued", ("close", with_error)]


# -- 3. AggregateError's message ---------------------------------------------------------------

async def test_the_aggregate_errors_message_is_empty() -> None:
    # node i3.js: every address refused: err.message '' (String(err) 'AggregateError'), code
    # the first error's, err.errors each attempt's; here also an ExceptionGroup
    sock = net.connect({"port": 1, "host": "x.test", "lookup": at_once((None, TWO))})
    errors: list[Any] = []
    sock.on("error", errors.append)
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    err = errors[0]
    assert isinstance(err, AggregateNodeError) and isinstance(err, ExceptionGroup)
    assert (str(err), err.message, err.code) == ("", "", "ECONNREFUSED")
    assert [e.code for e in err.errors] == ["ECONNREFUSED", "ECONNREFUSED"]
    try:
        raise err
    except* ConnectionRefusedError as group:
        assert len(group.exceptions) == 2 and str(group) == ""


# -- 5. listen(other_server) -------------------------------------------------------------------

async def fetch(port: int) -> bytes | str:
    """One connection's data, or the error code."""
    client = net.connect(port, "127.0.0.1")
    out: list[Any] = []
    client.on("data", out.append)
    client.on("error", lambda err: out.append(err.code))
    await asyncio.wait_for(client.wait_closed(), TIMEOUT)
    return out[0] if len(out) == 1 and isinstance(out[0], str) else b"".join(out)


@pytest.mark.parametrize("closed_first", ["second", "first"])
async def test_listen_on_another_server_moves_its_handle(closed_first: str) -> None:
    # node i5.js / i5b.js: same address() on both; every connection is the second's; closing
    # either closes the socket: the port refuses, the other still says listening but its
    # address() throws 'address EBADF'; its close() emits 'close' without error
    first = net.create_server(lambda c: c.end(b"A"))
    second = net.create_server(lambda c: c.end(b"B"))
    await asyncio.wait_for(first.listen(0, "127.0.0.1"), TIMEOUT)
    try:
        await asyncio.wait_for(second.listen(first), TIMEOUT)
        assert first.address() == second.address()
        port = first.address()["port"]  # type: ignore[index]
        assert [await fetch(port) for _ in range(6)] == [b"B"] * 6
        closed, other = (second, first) if closed_first == "second" else (first, second)
        await asyncio.wait_for(closed.close(), TIMEOUT)
        assert other.listening and not closed.listening
        with pytest.raises(OSError) as info:
            other.address()
        assert (info.value.code, str(info.value), info.value.syscall) == (  # type: ignore[attr-defined]
            "EBADF", "address EBADF", "address")
        assert await fetch(port) == "ECONNREFUSED"
        events: list[Any] = []
        other.on("close", lambda: events.append("close"))
        await asyncio.wait_for(other.close(), TIMEOUT)
        assert events == ["close"] and not other.listening
    finally:
        await close_server(first)
        await close_server(second)


@pytest.mark.timeout(20)
def test_a_server_whose_shared_socket_closed_keeps_run_alive_no_more() -> None:
    # node: once the second server closed the handle, the first (still 'listening') keeps the
    # process alive no more; run() returns
    state: dict[str, Any] = {}

    async def main() -> None:
        first = state["first"] = net.create_server()
        await first.listen(0, "127.0.0.1")
        second = net.create_server()
        await second.listen(first)
        second.close()

    run(main)
    assert state["first"].listening
