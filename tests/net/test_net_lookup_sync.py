"""A custom ``lookup`` that calls back before it returns, as Node v20's ``lookupAndConnect`` and
``lookupAndConnectMultiple`` (lib/net.js) handle it: inside ``connect()``.

Node calls ``options.lookup`` inside ``connect()``; its callback, ``emitLookup``, emits
``'lookup'`` right then, and goes on at once: ``internalConnect`` (a bind error destroys the
socket there; ``'connectionAttempt'``) or ``internalConnectMultiple`` (``'connectionAttempt'``
for the first address), or, for an error answer, ``process.nextTick(connectErrorNT)``. So when
the lookup answers at once, all that happens before ``connect()`` returns: a listener added
after it never sees those events, and the socket is already destroyed when a listener or a
bind failed. A lookup that answers later is unchanged (events after ``connect()`` returned).

Every expectation was checked against node v20.20 running the same scenario:
/tmp/lookup30/sc.js (compared line by line with sc.py's run of nodetls), sc2.js, tls.js.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from typing import Any

import pytest

import nodetls as tls
from nodetls import net

from .netutil import TIMEOUT, close_server

EVENTS = ("lookup", "connectionAttempt", "connectionAttemptFailed", "connect", "error", "close")


def answer(options: dict[str, Any], callback: Any, *ips: str) -> None:
    """Answer ``ips`` (127.0.0.1 by default) at once, in the form Node asked for."""
    entries = [{"address": ip, "family": 6 if ":" in ip else 4} for ip in ips or ("127.0.0.1",)]
    if options.get("all"):
        callback(None, entries)
    else:
        callback(None, entries[0]["address"], entries[0]["family"])


def at_once(*ips: str) -> Any:
    return lambda host, options, callback: answer(options, callback, *ips)


def shown(value: Any) -> Any:
    return (getattr(value, "code", None) or str(value)) if isinstance(value, BaseException) \
        else value


def record(sock: Any, log: list[Any], destroy_on: str | None = None) -> None:
    """Log ``sock``'s events (an error as its ``code``, else its message); destroy it from the
    ``destroy_on`` listener."""
    for name in EVENTS:
        def listener(*args: Any, name: str = name) -> None:
            log.append((name, *map(shown, args)))
            if name == destroy_on:
                sock.destroy()
        sock.on(name, listener)


async def outcome(sock: Any, log: list[Any]) -> list[Any]:
    """``log`` once ``sock`` closed (destroyed at 'connect'), with what came meanwhile."""
    sock.on("connect", lambda: sock.destroy())
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    await asyncio.sleep(0.02)  # absence window: nothing may follow 'close'
    return log


def returned(sock: Any, log: list[Any]) -> None:
    log.append(("returned", sock.connecting, sock.destroyed))


@pytest.mark.parametrize("options", [{"family": 4}, {}, {"auto_select_family": False}],
                         ids=["family 4", "all", "auto_select_family False"])
async def test_the_lookup_event_and_the_attempt_are_inside_connect(port: int,
                                                                   options: Any) -> None:
    # node sc.js single-fam4 / all-one / noauto: 'lookup', 'connectionAttempt', then connect()
    # returns (still connecting), then 'connect'
    asked: list[Any] = []

    def lookup(host: str, opts: dict[str, Any], cb: Any) -> None:
        asked.append(dict(opts))
        answer(opts, cb)

    sock, log = net.Socket(), []
    record(sock, log)
    sock.connect({"port": port, "host": "x.test", "lookup": lookup, **options})
    returned(sock, log)
    assert ("all" in asked[0]) is (options == {})
    assert await outcome(sock, log) == [
        ("lookup", None, "127.0.0.1", 4, "x.test"), ("connectionAttempt", "127.0.0.1", port, 4),
        ("returned", True, False), ("connect",), ("close", False)]


async def test_several_addresses_the_first_attempt_is_inside_connect(port: int) -> None:
    # node sc2.js 'several' (auto_select_family): every 'lookup', then the first address's
    # 'connectionAttempt', recorded in auto_select_family_attempted_addresses, before connect()
    # returns; the refused one then fails and the next connects
    sock, log = net.Socket(), []
    record(sock, log)
    sock.connect({"port": port, "host": "x.test", "lookup": at_once("127.0.0.2", "127.0.0.1")})
    returned(sock, log)
    assert sock.auto_select_family_attempted_addresses == [f"127.0.0.2:{port}"]
    assert await outcome(sock, log) == [
        ("lookup", None, "127.0.0.2", 4, "x.test"), ("lookup", None, "127.0.0.1", 4, "x.test"),
        ("connectionAttempt", "127.0.0.2", port, 4), ("returned", True, False),
        ("connectionAttemptFailed", "127.0.0.2", port, 4, "ECONNREFUSED"),
        ("connectionAttempt", "127.0.0.1", port, 4), ("connect",), ("close", False)]


@pytest.mark.parametrize("family", [4, None], ids=["one", "all"])
async def test_an_error_answer_is_the_lookup_event_inside_and_the_error_after(
        family: Any) -> None:
    # node sc.js err-single / err-all: 'lookup'(err) inside connect(); the socket still
    # connecting when it returns; then 'error' (the error as it is) and 'close'(true)
    boom = OSError("boom")
    sock, log = net.Socket(), []
    record(sock, log)
    sock.connect({"port": 1, "host": "x.test", "family": family,
                  "lookup": lambda h, o, cb: cb(boom)})
    returned(sock, log)
    errors: list[Any] = []
    sock.on("error", errors.append)
    assert await outcome(sock, log) == [("lookup", "boom", None, None, "x.test"),
                                        ("returned", True, False), ("error", "boom"),
                                        ("close", True)]
    assert errors == [boom]


@pytest.mark.parametrize(("family", "reply", "events", "code", "message"), [
    (4, ("nope", 4), [("nope", 4)], "ERR_INVALID_IP_ADDRESS", "Invalid IP address: nope"),
    (4, ("127.0.0.1", 5), [("127.0.0.1", 5)], "ERR_INVALID_ADDRESS_FAMILY",
     "Invalid address family: 5 x.test:1"),
    (None, ([{"address": "nope", "family": 4}],), [("nope", 4)], "ERR_INVALID_IP_ADDRESS",
     "Invalid IP address: nope"),
    (None, ([{"address": "127.0.0.1", "family": 5}],), [("127.0.0.1", 5)],
     "ERR_INVALID_ADDRESS_FAMILY", "Invalid address family: 5 x.test:1"),
    # one address where Node asked for all: Node reads the string's 9 characters
    (None, ("127.0.0.1", 4), [(None, None)] * 9, "ERR_INVALID_IP_ADDRESS",
     "Invalid IP address: None"),
], ids=["not an IP", "family 5", "all: not an IP", "all: family 5", "all: a string"])
async def test_an_answer_that_is_not_an_address(family: Any, reply: Any, events: Any, code: str,
                                                message: str) -> None:
    # node sc.js notip-*, fam5-*, string-for-all: the 'lookup' events inside connect(), then
    # the error on a later turn
    sock, log = net.Socket(), []
    record(sock, log)
    errors: list[Any] = []
    sock.on("error", errors.append)
    sock.connect({"port": 1, "host": "x.test", "family": family,
                  "lookup": lambda h, o, cb: cb(None, *reply)})
    returned(sock, log)
    assert await outcome(sock, log) == [
        *[("lookup", None, ip, fam, "x.test") for ip, fam in events], ("returned", True, False),
        ("error", code), ("close", True)]
    assert str(errors[0]) == message


@pytest.mark.parametrize(("options", "reply"), [
    ({"family": 4}, None), ({}, None), ({}, ["127.0.0.2", "127.0.0.1"]),
    ({"family": 4}, OSError("boom")), ({}, OSError("boom")),
], ids=["one", "all", "several", "error", "all: error"])
async def test_a_lookup_listener_that_destroys_stops_inside_connect(
        port: int, options: Any, reply: Any) -> None:
    # node sc.js destroy-*: the first 'lookup' listener destroys the socket; connect() returns
    # a destroyed socket, no attempt, no 'error' (even for an error answer), 'close'(false)
    def lookup(host: str, opts: dict[str, Any], cb: Any) -> None:
        if isinstance(reply, BaseException):
            cb(reply)
        else:
            answer(opts, cb, *(reply or ()))

    sock, log = net.Socket(), []
    record(sock, log, destroy_on="lookup")
    sock.connect({"port": port, "host": "x.test", "lookup": lookup, **options})
    returned(sock, log)
    log = await outcome(sock, log)
    assert [entry[0] for entry in log] == ["lookup", "returned", "close"]
    assert log[1:] == [("returned", False, True), ("close", False)]


@pytest.mark.parametrize("options", [{"family": 4}, {}], ids=["one", "all"])
async def test_listeners_added_after_connect_never_see_those_events(port: int,
                                                                    options: Any) -> None:
    # node sc.js late-*: added after connect() returned, the 'lookup' and 'connectionAttempt'
    # listeners are never called; 'connect' and an error answer's 'error' still come
    sock = net.connect({"port": port, "host": "x.test", "lookup": at_once(), **options})
    log: list[Any] = []
    record(sock, log)
    assert await outcome(sock, log) == [("connect",), ("close", False)]
    boom = OSError("boom")
    sock = net.connect({"port": port, "host": "x.test", "lookup": lambda h, o, cb: cb(boom),
                        **options})
    log = []
    record(sock, log)
    assert await outcome(sock, log) == [("error", "boom"), ("close", True)]


async def test_tls_connect_with_a_lookup_that_answers_at_once(certs: Any) -> None:
    # node tls.js: tls.connect() connects inside itself: a 'lookup' listener added after it
    # returned is never called; the handshake and the data follow
    server = tls.create_server(certs.server.options, lambda c: c.end(b"ok"))
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    try:
        sock = tls.connect({"port": server.address()["port"], "host": "x.test",
                            "servername": "localhost", "ca": certs.root.cert_pem,
                            "lookup": at_once()})
        assert sock.connecting
        log: list[Any] = []
        for name in ("lookup", "connectionAttempt", "connect", "secureConnect"):
            sock.on(name, lambda *a, name=name: log.append(name))
        sock.on("data", lambda data: log.append(data))
        await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
        assert log == ["connect", "secureConnect", b"ok"]
    finally:
        await close_server(server)


@pytest.mark.parametrize("local", [{"local_address": "127.0.0.1", "local_port": "port"},
                                   {"local_address": "1.2.3.4"}], ids=["in use", "not here"])
async def test_a_bind_error_destroys_the_socket_inside_connect(port: int, local: Any) -> None:
    # node sc.js bind-inuse / bind-bad: internalConnect's bind fails inside connect(): it
    # returns a destroyed socket (no 'connectionAttempt'); then 'error' (bind ...) and
    # 'close'(true)
    options = {key: port if value == "port" else value for key, value in local.items()}
    sock, log = net.Socket(), []
    record(sock, log)
    errors: list[Any] = []
    sock.on("error", errors.append)
    sock.connect({"port": port, "host": "x.test", "family": 4, "lookup": at_once(), **options})
    returned(sock, log)
    log = await outcome(sock, log)
    code = "EADDRINUSE" if "local_port" in local else "EADDRNOTAVAIL"
    assert log == [("lookup", None, "127.0.0.1", 4, "x.test"), ("returned", False, True),
                   ("error", code), ("close", True)]
    where = f"127.0.0.1:{port}" if "local_port" in local else "1.2.3.4"
    assert (errors[0].syscall, str(errors[0])) == ("bind", f"bind {code} {where}")


@pytest.mark.parametrize("options", [{"family": 4}, {}], ids=["one", "all"])
async def test_a_lookup_that_answers_later_is_unchanged(port: int, options: Any) -> None:
    # node sc.js async-*: answered on a later turn, 'lookup' and 'connectionAttempt' come after
    # connect() returned, where a listener added then sees them
    def lookup(host: str, opts: dict[str, Any], cb: Any) -> None:
        asyncio.get_running_loop().call_soon(answer, opts, cb)

    sock = net.connect({"port": port, "host": "x.test", "lookup": lookup, **options})
    log: list[Any] = [("returned", sock.connecting, sock.destroyed)]
    record(sock, log)
    assert await outcome(sock, log) == [
        ("returned", True, False), ("lookup", None, "127.0.0.1", 4, "x.test"),
        ("connectionAttempt", "127.0.0.1", port, 4), ("connect",), ("close", False)]


async def test_a_lookup_listener_that_raises_is_raised_by_connect(port: int) -> None:
    # node sc2.js / net31 i1.js: the listener's exception comes out of connect() (Node's emit
    # throws through emitLookup and lookupAndConnect); no attempt, no event follows
    sock, log = net.Socket(), []
    boom = RuntimeError("listener")

    def raising(*args: Any) -> None:
        raise boom

    sock.on("lookup", raising)
    record(sock, log)
    with pytest.raises(RuntimeError) as info:
        sock.connect({"port": port, "host": "x.test", "family": 4, "lookup": at_once()})
    assert info.value is boom
    for _ in range(5):
        await asyncio.sleep(0)
    assert log == [] and not sock.destroyed
    sock.destroy()


@pytest.mark.parametrize("options", [{}, {"family": 4, "local_address": "127.0.0.1"}],
                         ids=["several", "bound"])
async def test_destroyed_before_its_connect_task_ran_leaves_no_socket_open(
        port: int, options: Any) -> None:
    # node sc2.js 'destroy after': destroy() right after connect() returned, the first attempt
    # begun inside it: no 'connect', 'close'(false); the socket that attempt opened is closed
    # (no ResourceWarning once collected)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        sock, log = net.Socket(), []
        record(sock, log)
        sock.connect({"port": port, "host": "x.test",
                      "lookup": at_once("127.0.0.2", "127.0.0.1"), **options})
        assert log[-1][:2] == ("connectionAttempt", "127.0.0.2")
        sock.destroy()
        await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
        for _ in range(3):
            await asyncio.sleep(0)
        del sock
        gc.collect()
    assert log[-1] == ("close", False) and ("connect",) not in log
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
