"""``destroy()`` while a connection attempt is under way (Node v20's lib/net.js).

With several addresses (``autoSelectFamily``, ``internalConnectMultiple``), Node's destroy
closes the handle and libuv cancels its connect request: ``afterConnectMultiple`` gets
``UV_ECANCELED`` and emits ``'connectionAttemptFailed'(address, port, family, err)``, ``err`` a
``connect ECANCELED <address>:<port>`` error, after the destroy's ``'error'`` and before
``'close'``; nothing else follows (no ``'connectionAttemptTimeout'``, no further attempt).
With one address (``internalConnect``), ``afterConnect`` returns for a destroyed socket: no
event. Neither is emitted when the destroy came from a ``'connectionAttemptTimeout'`` or
``'connectionAttemptFailed'`` listener (no request under way), nor before the lookup answered.

Every expectation was checked against node v20.20 running the same scenarios:
/tmp/attempt30/a.js (compared line by line with a.py's run of nodetls), t.js (TLS), v6.js.
A "silent" address is a listener on 127.0.0.2/127.0.0.3 whose accept queue is full: its
connect never completes.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Iterator
from typing import Any

import pytest

import nodetls as tls
from nodetls import net
from nodetls.errors import AggregateNodeError

from .netutil import TIMEOUT, close_server, has_ipv6

EVENTS = ("lookup", "connectionAttempt", "connectionAttemptFailed", "connectionAttemptTimeout",
          "connect", "error", "close")

#: How long nothing more may come once 'close' was emitted.
ABSENCE = 0.1


def later(*ips: str) -> Any:
    """A ``lookup`` answering ``ips`` on the next loop step (Node's createMockedLookup)."""
    def lookup(host: str, options: dict[str, Any], callback: Any) -> None:
        entries = [{"address": ip, "family": 6 if ":" in ip else 4} for ip in ips]
        loop = asyncio.get_running_loop()
        if options.get("all"):
            loop.call_soon(callback, None, entries)
        else:
            loop.call_soon(callback, None, ips[0], entries[0]["family"])
    return lookup


def at_once(*ips: str) -> Any:
    """A ``lookup`` answering ``ips`` before it returns (inside ``connect()``)."""
    def lookup(host: str, options: dict[str, Any], callback: Any) -> None:
        entries = [{"address": ip, "family": 6 if ":" in ip else 4} for ip in ips]
        if options.get("all"):
            callback(None, entries)
        else:
            callback(None, ips[0], entries[0]["family"])
    return lookup


def record(sock: Any) -> list[Any]:
    """``sock``'s events, an error as its ``code`` (or its message when it has none); each
    ``'connectionAttemptFailed'`` also notes ``(destroyed, connecting)`` at that moment."""
    log: list[Any] = []
    for name in EVENTS:
        def listener(*args: Any, name: str = name) -> None:
            log.append((name, *((getattr(a, "code", None) or str(a))
                                if isinstance(a, BaseException) else a for a in args)))
            if name == "connectionAttemptFailed":
                log.append(("state", sock.destroyed, sock.connecting))
        sock.on(name, listener)
    return log


async def closed(sock: Any) -> None:
    """Wait for ``'close'``, then an absence window: nothing may follow it."""
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    await asyncio.sleep(ABSENCE)


def destroy_soon(sock: Any, log: list[Any], err: BaseException | None = None,
                 nth: int = 1) -> None:
    """Destroy ``sock`` a loop step after its ``nth`` ``'connectionAttempt'`` (the attempt is
    then under way)."""
    seen = [0]

    def on_attempt(*_: Any) -> None:
        seen[0] += 1
        if seen[0] == nth:
            def destroy() -> None:
                sock.destroy(err)
                log.append("destroyed")
            asyncio.get_running_loop().call_soon(destroy)
    sock.on("connectionAttempt", on_attempt)


@pytest.fixture
async def port() -> Any:
    """A server on 127.0.0.1 (it never answers a client that is destroyed first)."""
    server = net.create_server(lambda c: c.on("error", lambda e: None))
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    yield server.address()["port"]
    await close_server(server)


@pytest.fixture
def silent(port: int) -> Iterator[int]:
    """``port`` on 127.0.0.2 and 127.0.0.3 too, where a connect never completes (a full accept
    queue drops the SYN)."""
    held: list[socket.socket] = []
    try:
        for ip in ("127.0.0.2", "127.0.0.3"):
            listener = socket.socket()
            held.append(listener)
            listener.bind((ip, port))
            listener.listen(0)
            filler = socket.socket()
            held.append(filler)
            filler.connect((ip, port))  # (the one connection the queue holds)
        yield port
    finally:
        for s in held:
            s.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return int(s.getsockname()[1])


async def test_destroy_cancels_the_attempt_under_way(silent: int) -> None:
    # Node: afterConnectMultiple(UV_ECANCELED): 'connectionAttemptFailed' with the cancelled
    # attempt's error, the socket already destroyed and not connecting, then 'close'(false);
    # its attempt timer is cleared: no 'connectionAttemptTimeout', no next attempt
    failures: list[BaseException] = []
    sock = net.connect({"port": silent, "host": "x.test", "lookup": later("127.0.0.2", "127.0.0.1"),
                        "auto_select_family_attempt_timeout": 0.05})
    sock.on("connectionAttemptFailed", lambda *a: failures.append(a[3]))
    log = record(sock)
    destroy_soon(sock, log)
    await closed(sock)
    assert log == [("lookup", None, "127.0.0.2", 4, "x.test"),
                   ("lookup", None, "127.0.0.1", 4, "x.test"),
                   ("connectionAttempt", "127.0.0.2", silent, 4),
                   "destroyed",
                   ("connectionAttemptFailed", "127.0.0.2", silent, 4, "ECANCELED"),
                   ("state", True, False),
                   ("close", False)]
    [err] = failures
    assert not isinstance(err, AggregateNodeError)
    assert str(err) == f"connect ECANCELED 127.0.0.2:{silent}"
    assert (err.code, err.errno, err.syscall, err.address, err.port) == (  # type: ignore[attr-defined]
        "ECANCELED", errno.ECANCELED, "connect", "127.0.0.2", silent)
    assert not hasattr(err, "local_address")
    assert sock.auto_select_family_attempted_addresses == [f"127.0.0.2:{silent}"]


async def test_destroy_with_an_error_emits_it_before_the_cancelled_attempt(silent: int) -> None:
    # Node: destroy(err)'s 'error' is a nextTick of the destroy, the cancelled request's
    # callback comes with the handle's close: 'error', 'connectionAttemptFailed', 'close'(true)
    sock = net.connect({"port": silent, "host": "x.test", "lookup": later("127.0.0.2", "127.0.0.1"),
                        "auto_select_family_attempt_timeout": 10})
    log = record(sock)
    destroy_soon(sock, log, RuntimeError("boom"))
    await closed(sock)
    assert log[3:] == ["destroyed",
                       ("error", "boom"),
                       ("connectionAttemptFailed", "127.0.0.2", silent, 4, "ECANCELED"),
                       ("state", True, False),
                       ("close", True)]


async def test_destroy_during_a_later_attempt_names_that_attempt(silent: int) -> None:
    # Node: the first attempt timed out ('connectionAttemptTimeout'), the second is under way
    # when destroyed: its address is the cancelled one, the third is never tried
    sock = net.connect({"port": silent, "host": "x.test",
                        "lookup": later("127.0.0.2", "127.0.0.3", "127.0.0.1"),
                        "auto_select_family_attempt_timeout": 0.05})
    log = record(sock)
    destroy_soon(sock, log, nth=2)
    await closed(sock)
    assert log[3:] == [("connectionAttempt", "127.0.0.2", silent, 4),
                       ("connectionAttemptTimeout", "127.0.0.2", silent, 4),
                       ("connectionAttempt", "127.0.0.3", silent, 4),
                       "destroyed",
                       ("connectionAttemptFailed", "127.0.0.3", silent, 4, "ECANCELED"),
                       ("state", True, False),
                       ("close", False)]
    assert sock.auto_select_family_attempted_addresses == [f"127.0.0.2:{silent}",
                                                           f"127.0.0.3:{silent}"]


@pytest.mark.parametrize("err", [None, RuntimeError("boom")])
async def test_destroy_right_after_connect_cancels_the_attempt_begun_there(
        port: int, err: BaseException | None) -> None:
    # Node (lookup30's "destroy after"): the lookup answered inside connect(), so the first
    # attempt is under way when connect() returns; destroying then cancels it, even for an
    # address that refuses (its refusal is not delivered yet)
    sock = net.Socket()
    log = record(sock)
    sock.connect({"port": port, "host": "x.test", "lookup": at_once("127.0.0.4", "127.0.0.1")})
    sock.destroy(err)
    log.append("destroyed")
    await closed(sock)
    assert log == [("lookup", None, "127.0.0.4", 4, "x.test"),
                   ("lookup", None, "127.0.0.1", 4, "x.test"),
                   ("connectionAttempt", "127.0.0.4", port, 4),
                   "destroyed",
                   *([("error", "boom")] if err else []),
                   ("connectionAttemptFailed", "127.0.0.4", port, 4, "ECANCELED"),
                   ("state", True, False),
                   ("close", err is not None)]


@pytest.mark.skipif(not has_ipv6(), reason="no IPv6 loopback")
async def test_a_cancelled_ipv6_attempt_has_family_6(port: int) -> None:
    # Node: 'connectionAttemptFailed'('::1', port, 6, err), err.message without brackets
    failures: list[Any] = []
    sock = net.connect({"port": port, "host": "x.test", "lookup": at_once("::1", "127.0.0.1")})
    sock.on("connectionAttemptFailed", lambda *a: failures.append(a))
    sock.destroy()
    await closed(sock)
    [(ip, at, family, err)] = failures
    assert (ip, at, family, err.code, err.address) == ("::1", port, 6, "ECANCELED", "::1")
    assert str(err) == f"connect ECANCELED ::1:{port}"


async def test_a_cancelled_attempt_after_a_bind_names_the_local_address(silent: int) -> None:
    # Node: createConnectionError with the request's localAddress/localPort (the family's
    # any-address and the localPort option): ' - Local (0.0.0.0:<port>)' and both fields
    local_port = free_port()
    failures: list[Any] = []
    sock = net.connect({"port": silent, "host": "x.test", "local_port": local_port,
                        "lookup": later("127.0.0.2", "127.0.0.1"),
                        "auto_select_family_attempt_timeout": 10})
    sock.on("connectionAttemptFailed", lambda *a: failures.append(a[3]))
    log = record(sock)
    destroy_soon(sock, log)
    await closed(sock)
    [err] = failures
    assert err.code == "ECANCELED"
    assert str(err) == f"connect ECANCELED 127.0.0.2:{silent} - Local (0.0.0.0:{local_port})"
    assert (err.local_address, err.local_port) == ("0.0.0.0", local_port)


@pytest.mark.parametrize("options", [
    {"host": "127.0.0.2"},  # an IP literal
    {"lookup": later("127.0.0.2"), "family": 4},  # a lookup asked for one address
    {"lookup": later("127.0.0.2")},  # asked for all, answering one
], ids=["ip", "family", "all-one"])
async def test_one_address_emits_nothing_for_the_cancelled_attempt(
        silent: int, options: dict[str, Any]) -> None:
    # Node: internalConnect's request completes into afterConnect, which returns at once for a
    # destroyed socket: 'close'(false) only
    sock = net.connect({"port": silent, "host": "x.test", **options})
    log = record(sock)
    destroy_soon(sock, log)
    await closed(sock)
    assert [e for e in log if e[0] != "lookup"] == [("connectionAttempt", "127.0.0.2", silent, 4),
                                                    "destroyed",
                                                    ("close", False)]


async def test_one_address_answered_at_once_emits_nothing(port: int) -> None:
    # Node: the same when the only attempt began inside connect()
    sock = net.Socket()
    log = record(sock)
    sock.connect({"port": port, "host": "x.test", "family": 4, "lookup": at_once("127.0.0.4")})
    sock.destroy()
    log.append("destroyed")
    await closed(sock)
    assert log == [("lookup", None, "127.0.0.4", 4, "x.test"),
                   ("connectionAttempt", "127.0.0.4", port, 4),
                   "destroyed",
                   ("close", False)]


async def test_destroy_before_the_lookup_answered_emits_nothing(port: int) -> None:
    # Node: no attempt began: 'close'(false) only, and the late answer is dropped
    sock = net.connect({"port": port, "host": "x.test", "lookup": later("127.0.0.2", "127.0.0.1")})
    log = record(sock)
    sock.destroy()
    await closed(sock)
    assert log == [("close", False)]


async def test_destroy_in_a_timeout_listener_emits_no_cancelled_attempt(silent: int) -> None:
    # Node: internalConnectMultipleTimeout drops the request's callback before closing its
    # handle: after 'connectionAttemptTimeout' only 'close'
    sock = net.connect({"port": silent, "host": "x.test", "lookup": later("127.0.0.2", "127.0.0.3"),
                        "auto_select_family_attempt_timeout": 0.05})
    log = record(sock)
    sock.once("connectionAttemptTimeout", lambda *a: sock.destroy())
    await closed(sock)
    assert log[2:] == [("connectionAttempt", "127.0.0.2", silent, 4),
                       ("connectionAttemptTimeout", "127.0.0.2", silent, 4),
                       ("close", False)]


async def test_destroy_in_a_failed_listener_ends_the_attempts_quietly(silent: int) -> None:
    # Node: the refused attempt's 'connectionAttemptFailed' listener destroys the socket: no
    # next attempt (context.socket.connecting is false), nothing cancelled
    sock = net.connect({"port": silent, "host": "x.test", "lookup": later("127.0.0.4", "127.0.0.2")})
    log = record(sock)
    sock.once("connectionAttemptFailed", lambda *a: sock.destroy())
    await closed(sock)
    assert log[2:] == [("connectionAttempt", "127.0.0.4", silent, 4),
                       ("connectionAttemptFailed", "127.0.0.4", silent, 4, "ECONNREFUSED"),
                       ("state", False, True),
                       ("close", False)]


async def test_tls_connect_destroyed_right_away_cancels_the_attempt(port: int) -> None:
    # Node: the same for a TLSSocket connecting over several addresses
    sock = tls.connect({"port": port, "host": "x.test", "reject_unauthorized": False,
                        "lookup": at_once("127.0.0.4", "127.0.0.1")})
    log = record(sock)
    sock.destroy()
    await closed(sock)
    assert log == [("connectionAttemptFailed", "127.0.0.4", port, 4, "ECANCELED"),
                   ("state", True, False),
                   ("close", False)]


async def test_a_destroy_before_connect_always_cancels_the_attempt(port: int) -> None:
    # Node: until 'connect' (emitted by the very callback that completes the attempt), a
    # destroy finds the attempt's request under way: ECANCELED. nodetls has steps between the
    # connect and 'connect' (the transport is set up): a destroy there is the same. Destroying
    # 0, 1, 2... loop steps after connect() gives either 'connect' first (then no attempt
    # event) or the cancelled attempt, never neither.
    seen = set()
    for steps in range(12):
        sock = net.Socket()
        log = record(sock)
        sock.connect({"port": port, "host": "x.test",
                      "lookup": at_once("127.0.0.1", "127.0.0.2")})

        def step(n: int, sock: Any = sock) -> None:
            if n:
                asyncio.get_running_loop().call_soon(step, n - 1)
            else:
                sock.destroy()
        step(steps)
        await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
        await asyncio.sleep(0)
        cancelled = [("connectionAttemptFailed", "127.0.0.1", port, 4, "ECANCELED"),
                     ("state", True, False), ("close", False)]
        assert log[2:] in ([("connectionAttempt", "127.0.0.1", port, 4), *cancelled],
                           [("connectionAttempt", "127.0.0.1", port, 4), ("connect",),
                            ("close", False)]), (steps, log)
        seen.add(len(log))
    assert len(seen) == 2  # (both happened)
