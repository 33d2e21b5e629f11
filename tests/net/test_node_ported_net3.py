"""A third batch of Node's own net tests (test/parallel/test-net-*.js), rewritten for nodetls.net.

Ports, by Node test name: autoselectfamily, autoselectfamily-default, autoselectfamily-ipv4first
(Node's fake DNS server replaced by a ``lookup`` option answering the same addresses; the
addresses that must fail are loopback ones nothing listens on, the IPv4-mapped ``::ffff:127.0.0.x``
standing in for Node's public IPv6 ones), options-lookup, client-bind-twice, connect-immediate-finish, listen-ipv6only,
server-options, server-close-before-calling-lookup-callback, connect-reset, connect-reset-after-
destroy, connect-reset-before-connected, socket-reset-send, socket-reset-twice, server-reset,
socket-ready-without-cb, connect-call-socket-connect, connect-paused-connection; and Node's
``lookupAndConnect`` calling a ``lookup`` option inside ``connect()`` (one that raises makes
``net.connect()`` / ``tls.connect()`` raise).

Every expectation was checked against node v20.20 running the same scenario. Tests marked
``xfail(strict=True)`` assert Node v20's behaviour where nodetls differs.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

import nodetls as tls
from nodetls import net

from .netutil import TIMEOUT, close_server, event, has_ipv6, mocked_lookup

needs_ipv6 = pytest.mark.skipif(not has_ipv6(), reason="no IPv6 loopback")

ATTEMPT_EVENTS = ("connectionAttempt", "connectionAttemptFailed", "connectionAttemptTimeout")


async def request_server(tag: str, host: str = "127.0.0.1", port: int = 0) -> net.Server:
    """Node's test server: answers the first data with ``'response-<tag>'`` and ends."""
    def on_connection(conn: net.Socket) -> None:
        conn.on("data", lambda _d: conn.end(f"response-{tag}".encode()))
    server = net.create_server(on_connection)
    await asyncio.wait_for(server.listen(port, host), TIMEOUT)
    return server


class Outcome:
    """A client's connection-attempt events, its ``'ready'`` state, the text it received and its
    error, collected until ``'close'``."""

    def __init__(self, sock: net.Socket) -> None:
        self.sock = sock
        self.log: list[tuple[Any, ...]] = []
        self.response = ""
        self.error: BaseException | None = None
        self.ready: tuple[Any, ...] | None = None
        for name in ATTEMPT_EVENTS:
            sock.on(name, lambda *a, name=name: self.log.append(
                (name, *(x.code if isinstance(x, BaseException) else x for x in a))))
        sock.on("ready", self._on_ready)
        sock.on("data", self._on_data)
        sock.on("error", self._on_error)

    def _on_ready(self) -> None:
        s = self.sock
        self.ready = (s.auto_select_family_attempted_addresses, s.remote_address,
                      s.remote_family)

    def _on_data(self, chunk: bytes) -> None:
        self.response += chunk.decode()

    def _on_error(self, err: BaseException) -> None:
        self.error = err

    async def run(self, options: dict[str, Any]) -> Outcome:
        self.sock.connect(options)
        self.sock.write(b"request")
        await asyncio.wait_for(self.sock.wait_closed(), TIMEOUT)
        return self


async def exchange(options: dict[str, Any]) -> Outcome:
    """Node's scenario: connect (listeners on before ``connect()``), write ``'request'``, collect
    everything until ``'close'``."""
    return await Outcome(net.Socket()).run(options)


@pytest.fixture
def default_family() -> Iterator[None]:
    """Puts the process-wide ``auto_select_family`` default back."""
    saved = net.get_default_auto_select_family()
    yield
    net.set_default_auto_select_family(saved)


# -- test-net-autoselectfamily*.js ------------------------------------------------------------

@needs_ipv6
async def test_ipv4_is_reached_when_ipv6_refuses() -> None:
    # test-net-autoselectfamily.js, first case: ::1 refused, then 127.0.0.1 answers
    server = await request_server("ipv4")
    port = server.address()["port"]
    try:
        out = await exchange({"host": "example.org", "port": port, "auto_select_family": True,
                              "lookup": mocked_lookup("::1", "127.0.0.1")})
        assert out.log == [("connectionAttempt", "::1", port, 6),
                           ("connectionAttemptFailed", "::1", port, 6, "ECONNREFUSED"),
                           ("connectionAttempt", "127.0.0.1", port, 4)]
        assert out.ready == ([f"::1:{port}", f"127.0.0.1:{port}"], "127.0.0.1", "IPv4")
        assert out.response == "response-ipv4" and out.error is None
    finally:
        await close_server(server)


@needs_ipv6
async def test_addresses_are_tried_families_alternating() -> None:
    # test-net-autoselectfamily.js, "only the last successful connection": six addresses, three
    # of each family, IPv6 answered first; tried v6, v4, v6, v4, v6, v4 and only the last one
    # (127.0.0.1) connects. (Node's public addresses replaced by loopback ones nobody listens on.)
    server = await request_server("ipv4")
    port = server.address()["port"]
    order = ["::ffff:127.0.0.2", "127.0.0.2", "::ffff:127.0.0.3", "127.0.0.3", "::1",
             "127.0.0.1"]
    try:
        out = await exchange({"host": "example.org", "port": port, "auto_select_family": True,
                              "lookup": mocked_lookup("::ffff:127.0.0.2", "::ffff:127.0.0.3",
                                                      "::1", "127.0.0.2", "127.0.0.3",
                                                      "127.0.0.1")})
        assert out.ready == ([f"{ip}:{port}" for ip in order], "127.0.0.1", "IPv4")
        expected: list[tuple[Any, ...]] = []
        for ip in order:
            family = 6 if ":" in ip else 4
            expected.append(("connectionAttempt", ip, port, family))
            if ip != "127.0.0.1":
                expected.append(("connectionAttemptFailed", ip, port, family, "ECONNREFUSED"))
        assert out.log == expected
        assert out.response == "response-ipv4"
    finally:
        await close_server(server)


@needs_ipv6
@pytest.mark.parametrize(("answer", "tag", "remote"), [
    (("::1", "127.0.0.1"), "ipv6", ("::1", "IPv6")),
    (("127.0.0.1", "::1"), "ipv4", ("127.0.0.1", "IPv4")),
], ids=["ipv6 first", "ipv4 first"])
async def test_the_first_address_that_answers_is_the_only_attempt(
        answer: tuple[str, str], tag: str, remote: tuple[str, str]) -> None:
    # test-net-autoselectfamily.js "IPV4 is NOT reached if IPV6 is reachable" and
    # test-net-autoselectfamily-ipv4first.js: both families listen on the same port; the
    # lookup's first address is the one connected, nothing else is tried
    v4 = await request_server("ipv4")
    port = v4.address()["port"]
    v6 = await request_server("ipv6", "::1", port)
    try:
        out = await exchange({"host": "example.org", "port": port, "auto_select_family": True,
                              "lookup": mocked_lookup(*answer)})
        first = answer[0]
        assert out.log == [("connectionAttempt", first, port, 6 if ":" in first else 4)]
        assert out.ready == ([f"{first}:{port}"], *remote)
        assert out.response == f"response-{tag}"
    finally:
        await close_server(v6)
        await close_server(v4)


@needs_ipv6
@pytest.mark.parametrize("how", ["option", "default"])
async def test_without_auto_select_family_only_the_first_address_is_tried(
        default_family: None, how: str) -> None:
    # test-net-autoselectfamily.js "the option can be disabled" and
    # test-net-autoselectfamily-default.js (setDefaultAutoSelectFamily(false)): ::1 refused is
    # the error as it is, 127.0.0.1 (listening) is never tried, no attempted addresses
    server = await request_server("ipv4")
    port = server.address()["port"]
    options: dict[str, Any] = {"host": "example.org", "port": port,
                               "lookup": mocked_lookup("::1", "127.0.0.1")}
    if how == "option":
        options["auto_select_family"] = False
    else:
        net.set_default_auto_select_family(False)
    try:
        out = await exchange(options)
        assert out.log == [("connectionAttempt", "::1", port, 6),
                           ("connectionAttemptFailed", "::1", port, 6, "ECONNREFUSED")]
        assert out.ready is None
        err = out.error
        assert isinstance(err, ConnectionRefusedError)
        assert err.code == "ECONNREFUSED"  # type: ignore[attr-defined]
        assert str(err) == f"connect ECONNREFUSED ::1:{port}"
        assert out.sock.auto_select_family_attempted_addresses is None
    finally:
        await close_server(server)


@needs_ipv6
async def test_the_default_turned_back_on_tries_the_next_address(default_family: None) -> None:
    # test-net-autoselectfamily-default.js: setDefaultAutoSelectFamily(true) and no option
    server = await request_server("ipv4")
    port = server.address()["port"]
    net.set_default_auto_select_family(False)
    net.set_default_auto_select_family(True)
    try:
        out = await exchange({"host": "example.org", "port": port,
                              "lookup": mocked_lookup("::1", "127.0.0.1")})
        assert out.response == "response-ipv4"
        assert out.ready == ([f"::1:{port}", f"127.0.0.1:{port}"], "127.0.0.1", "IPv4")
    finally:
        await close_server(server)


# -- a lookup option that throws (Node: lookupAndConnect calls it inside connect()) ----------

def throwing_lookup(exc: BaseException, calls: list[Any]) -> Any:
    def lookup(host: str, opts: dict[str, Any], cb: Any) -> None:
        calls.append((host, dict(opts)))
        raise exc
    return lookup


@pytest.mark.parametrize(("options", "dnsopts"), [
    ({}, {"family": None, "hints": socket.AI_ADDRCONFIG, "all": True}),
    ({"auto_select_family": False}, {"family": None, "hints": socket.AI_ADDRCONFIG}),
    ({"family": 4}, {"family": 4, "hints": 0}),
], ids=["all", "one", "family 4"])
@pytest.mark.parametrize("connect", [net.connect, tls.connect], ids=["net", "tls"])
async def test_a_lookup_that_raises_makes_connect_raise(connect: Any, options: dict[str, Any],
                                                        dnsopts: dict[str, Any]) -> None:
    # Node: net.connect() / tls.connect() throw what lookup threw; lookup was called before
    # connect() returned, with the host and Node's dns options
    calls: list[Any] = []
    boom = ValueError("boom")
    with pytest.raises(ValueError) as info:
        connect({"host": "x.test", "port": 1, "lookup": throwing_lookup(boom, calls), **options})
    assert info.value is boom
    assert calls == [("x.test", dnsopts)]


async def test_a_lookup_that_raises_leaves_no_event_and_the_socket_can_connect() -> None:
    # Node: no 'lookup'/'error'/'close' from the throwing connect(); a second connect() on the
    # same socket works ('connectionAttempt', 'connect', the data, 'close')
    server = net.create_server(lambda c: c.end(b"ok"))
    await server.listen(0, "127.0.0.1")
    port = server.address()["port"]
    try:
        sock = net.Socket()
        log: list[Any] = []
        for name in ("lookup", "connectionAttempt", "connect", "error", "close"):
            sock.on(name, lambda *a, name=name: log.append(name))
        sock.on("data", lambda d: log.append(("data", d)))
        boom = KeyError("boom")
        with pytest.raises(KeyError):
            sock.connect({"host": "x.test", "port": port, "lookup": throwing_lookup(boom, [])})
        assert log == []
        sock.connect(port, "127.0.0.1")
        await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
        assert log == ["connectionAttempt", "connect", ("data", b"ok"), "close"]
    finally:
        await close_server(server)


async def test_the_lookup_is_called_before_connect_returns() -> None:
    # Node: lookup runs inside connect(), for the default host 'localhost' too; not for an IP
    calls: list[Any] = []

    def lookup(host: str, opts: dict[str, Any], cb: Any) -> None:
        calls.append(host)
        cb(OSError("nope"))

    for host in ("x.test", None, "127.0.0.1", "::1"):
        sock = net.connect({"port": 1, "host": host, "lookup": lookup})
        sock.on("error", lambda _e: None)
        assert calls == (["x.test"] if host == "x.test" else ["x.test", "localhost"])
        await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    assert calls == ["x.test", "localhost"]


async def test_an_async_lookup_that_raises_is_the_error() -> None:
    # Beyond Node (no async lookup there): an async def lookup's exception comes later, so it
    # destroys the socket with it ('error', 'close'(true)) rather than being raised by connect()
    boom = ValueError("boom")

    async def lookup(host: str, opts: dict[str, Any], cb: Any) -> None:
        await asyncio.sleep(0)
        raise boom

    sock = net.connect({"host": "x.test", "port": 1, "lookup": lookup})
    log: list[Any] = []
    sock.on("error", lambda e: log.append(("error", e)))
    sock.on("close", lambda had_error: log.append(("close", had_error)))
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    assert log == [("error", boom), ("close", True)]


# -- test-net-options-lookup.js, test-net-client-bind-twice.js, test-net-connect-immediate-finish.js

@pytest.mark.parametrize("auto", [True, False])
async def test_a_lookup_family_of_100_is_err_invalid_address_family(auto: bool) -> None:
    # test-net-options-lookup.js: port 0, host 'localhost', the lookup answers family 100
    def lookup(host: str, opts: dict[str, Any], cb: Any) -> None:
        if opts.get("all"):
            cb(None, [{"address": "127.0.0.1", "family": 100}])
        else:
            cb(None, "127.0.0.1", 100)

    sock = net.connect({"host": "localhost", "port": 0, "lookup": lookup,
                        "auto_select_family": auto})
    (err,) = await event(sock, "error")
    assert isinstance(err, ValueError)  # (Node: RangeError)
    assert err.code == "ERR_INVALID_ADDRESS_FAMILY"
    assert str(err) == "Invalid address family: 100 localhost:0"
    assert (err.host, err.port) == ("localhost", 0)


async def test_connecting_from_a_local_port_in_use_is_a_bind_eaddrinuse() -> None:
    # test-net-client-bind-twice.js: local_port is another server's port -> the bind fails
    # before any attempt: 'bind EADDRINUSE <local address>:<local port>', then 'close'(true)
    target = net.create_server()
    other = net.create_server()
    await target.listen(0, "127.0.0.1")
    await other.listen(0, "127.0.0.1")
    used = other.address()["port"]
    try:
        sock = net.connect({"host": "127.0.0.1", "port": target.address()["port"],
                            "local_address": "127.0.0.1", "local_port": used})
        log: list[Any] = []
        for name in ("connectionAttempt", "connectionAttemptFailed", "connect"):
            sock.on(name, lambda *a, name=name: log.append(name))
        sock.on("error", lambda e: log.append(("error", e.code, str(e), e.syscall, e.address,
                                               e.port)))
        sock.on("close", lambda had_error: log.append(("close", had_error)))
        await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
        assert log == [("error", "EADDRINUSE", f"bind EADDRINUSE 127.0.0.1:{used}", "bind",
                        "127.0.0.1", used), ("close", True)]
    finally:
        await close_server(target)
        await close_server(other)


async def test_end_while_the_lookup_fails_gives_the_error_to_the_end_callback_first() -> None:
    # test-net-connect-immediate-finish.js: end() right after connect(); the lookup's error
    # (given as it is: no port or host added) reaches the end() callback, then 'error', then
    # 'close'(true); no 'connect', no 'finish'
    failure = OSError("getaddrinfo ENOTFOUND something.invalid")

    def lookup(host: str, opts: dict[str, Any], cb: Any) -> None:
        asyncio.get_running_loop().call_soon(cb, failure)

    sock = net.connect({"host": "something.invalid", "port": 80, "lookup": lookup})
    log: list[Any] = []
    for name in ("lookup", "connect", "error", "finish", "end", "close"):
        sock.on(name, lambda *a, name=name: log.append((name, a[0] if a else None)))
    assert sock.end(lambda err=None: log.append(("end cb", err))) is sock
    assert sock.writable_ended and not sock.writable_finished
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    assert log == [("lookup", failure), ("end cb", failure), ("error", failure), ("close", True)]
    assert not hasattr(failure, "port") and not hasattr(failure, "host")


# -- test-net-listen-ipv6only.js, test-net-server-options.js ----------------------------------

@needs_ipv6
@pytest.mark.parametrize(("ipv6_only", "over_ipv4"), [(True, "ECONNREFUSED"), (False, "connect")])
async def test_ipv6_only_turns_dual_stack_off(ipv6_only: bool, over_ipv4: str) -> None:
    # test-net-listen-ipv6only.js: listen({host: '::', ipv6Only: true}) takes no IPv4
    # connection (ECONNREFUSED on 127.0.0.1); without it, both families connect
    server = net.create_server(lambda c: c.destroy())
    await server.listen({"host": "::", "port": 0, "ipv6_only": ipv6_only})
    port = server.address()["port"]

    async def attempt(host: str) -> str:
        sock = net.connect(port, host)
        try:
            await asyncio.wait_for(sock, TIMEOUT)
        except OSError as err:
            return str(err.code)  # type: ignore[attr-defined]
        sock.destroy()
        return "connect"

    try:
        assert server.address()["address"] == "::"
        assert await attempt("127.0.0.1") == over_ipv4
        assert await attempt("::1") == "connect"
    finally:
        await close_server(server)


@pytest.mark.parametrize("options", ["path", 0])
def test_create_server_options_must_be_a_dict(options: Any) -> None:
    # test-net-server-options.js: createServer('path') / createServer(0) -> TypeError
    with pytest.raises(TypeError) as info:
        net.create_server(options)
    assert info.value.code == "ERR_INVALID_ARG_TYPE"  # type: ignore[attr-defined]
    assert str(info.value).startswith('The "options" argument must be of type')


# -- test-net-server-close-before-calling-lookup-callback.js ----------------------------------

async def test_close_while_listen_looks_the_host_up_never_listens() -> None:
    # Node: listen(0, 'localhost') then close() at once: no handle yet, so close's callback
    # gets ERR_SERVER_NOT_RUNNING after 'close'; the lookup is abandoned, no 'listening'
    log: list[Any] = []
    server = net.create_server()
    server.on("listening", lambda: log.append("listening"))
    server.on("close", lambda: log.append("close"))
    server.listen(0, "localhost", lambda: log.append("listen cb"))
    assert not server.listening
    server.close(lambda err=None: log.append(("close cb", getattr(err, "code", err))))
    closing = event(server, "close")
    await closing
    await asyncio.sleep(0.05)  # (room for a late 'listening' that must not come)
    assert log == ["close", ("close cb", "ERR_SERVER_NOT_RUNNING")]
    assert not server.listening and server.address() is None


async def test_close_right_after_listen_on_an_ip_is_not_running_either() -> None:
    # Node: listen(0, '127.0.0.1') is not listening before a later tick either; close() at
    # once -> 'close', then the callback with ERR_SERVER_NOT_RUNNING
    log: list[Any] = []
    server = net.create_server()
    server.on("close", lambda: log.append("close"))
    server.listen(0, "127.0.0.1")
    log.append(("listening", server.listening))
    server.close(lambda err=None: log.append(("close cb", getattr(err, "code", err))))
    await event(server, "close")
    await asyncio.sleep(0)
    assert log == [("listening", False), "close", ("close cb", "ERR_SERVER_NOT_RUNNING")]


# -- test-net-connect-reset*.js, test-net-socket-reset-*.js, test-net-server-reset.js --------

def recorder(sock: Any, log: list[Any], tag: str) -> None:
    """Logs ``(tag, event, *args)``, an error as its code and message."""
    def on(name: str, *args: Any) -> None:
        shown: list[Any] = [tag, name]
        for a in args:
            shown.extend((a.code, str(a)) if isinstance(a, BaseException) else (a,))
        log.append(tuple(shown))

    for name in ("connect", "error", "end", "close"):
        sock.on(name, lambda *a, name=name: on(name, *a))


async def test_reset_and_destroy_then_destroy_then_write() -> None:
    # test-net-connect-reset-after-destroy.js / test-net-socket-reset-send.js: both return the
    # socket; a write after is ERR_STREAM_DESTROYED to its callback (returns False), no
    # 'error'; the peer reads ECONNRESET
    server = net.create_server()
    peer_log: list[Any] = []
    peer_closed = asyncio.Event()

    def on_connection(conn: net.Socket) -> None:
        recorder(conn, peer_log, "peer")
        conn.on("close", lambda _h: peer_closed.set())

    server.on("connection", on_connection)
    await server.listen(0, "127.0.0.1")
    try:
        sock = net.connect(server.address()["port"], "127.0.0.1")
        log: list[Any] = []
        recorder(sock, log, "client")
        await asyncio.wait_for(sock, TIMEOUT)
        assert sock.reset_and_destroy().destroy() is sock
        assert sock.write(b"fzfzfzfzfz", lambda err=None: log.append(
            ("write cb", err.code, str(err)))) is False
        await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
        assert log == [("client", "connect"),
                       ("write cb", "ERR_STREAM_DESTROYED",
                        "Cannot call write after a stream was destroyed"),
                       ("client", "close", False)]
        await asyncio.wait_for(peer_closed.wait(), TIMEOUT)
        assert peer_log == [("peer", "error", "ECONNRESET", "read ECONNRESET"),
                            ("peer", "close", True)]
    finally:
        await close_server(server)


async def test_reset_and_destroy_inside_the_error_listener() -> None:
    # test-net-socket-reset-twice.js: a refused connect; resetAndDestroy() in its 'error'
    # listener returns the socket and changes nothing: one 'error', one 'close'(true)
    server = net.create_server()
    await server.listen(0, "127.0.0.1")
    port = server.address()["port"]
    await close_server(server)
    sock = net.connect(port, "127.0.0.1")
    log: list[Any] = []

    def on_error(err: Any) -> None:
        log.append(("error", err.code))
        log.append(("reset returns the socket", sock.reset_and_destroy() is sock))

    sock.on("error", on_error)
    sock.on("close", lambda had_error: log.append(("close", had_error)))
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    await asyncio.sleep(0)
    assert log == [("error", "ECONNREFUSED"), ("reset returns the socket", True),
                   ("close", True)]


async def test_server_close_then_resetting_its_connections() -> None:
    # test-net-server-reset.js: two connections; server.close() then resetAndDestroy() on each
    # accepted socket: each client reads ECONNRESET; the server's 'close' (its last connection
    # gone) comes before the accepted sockets' own
    accepted: list[net.Socket] = []
    log: list[Any] = []
    both_closed = asyncio.Event()
    server = net.create_server()

    def on_accepted_close(_had_error: bool) -> None:
        log.append("accepted close")
        if log.count("accepted close") == 2:
            both_closed.set()

    def on_connection(conn: net.Socket) -> None:
        accepted.append(conn)
        conn.on("close", on_accepted_close)
        if len(accepted) == 2:
            server.close()
            for c in accepted:
                c.reset_and_destroy()

    server.on("connection", on_connection)
    server.on("close", lambda: log.append("server close"))
    await server.listen(0, "127.0.0.1")
    port = server.address()["port"]
    clients = [net.connect(port, "127.0.0.1") for _ in range(2)]
    errors = [event(c, "error") for c in clients]
    results = await asyncio.gather(*errors)
    assert [err.code for (err,) in results] == ["ECONNRESET", "ECONNRESET"]
    await asyncio.wait_for(asyncio.gather(*(c.wait_closed() for c in clients)), TIMEOUT)
    await asyncio.wait_for(both_closed.wait(), TIMEOUT)
    assert log == ["server close", "accepted close", "accepted close"]


async def test_reset_and_destroy_of_a_never_connected_socket_is_err_socket_closed() -> None:
    # test-net-connect-reset.js
    sock = net.Socket()
    assert sock.reset_and_destroy() is sock
    log: list[Any] = []
    sock.on("error", lambda e: log.append(("error", e.code, str(e))))
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    assert log == [("error", "ERR_SOCKET_CLOSED", "Socket is closed")]


async def test_reset_and_destroy_while_connecting_waits_for_the_connection() -> None:
    # test-net-connect-reset-before-connected.js: right after reset the socket is not destroyed
    # yet; it connects ('connect'), then closes with an RST the peer reads as ECONNRESET
    server = net.create_server()
    peer_log: list[Any] = []
    peer_closed = asyncio.Event()

    def on_connection(conn: net.Socket) -> None:
        recorder(conn, peer_log, "peer")
        conn.on("close", lambda _h: peer_closed.set())

    server.on("connection", on_connection)
    await server.listen(0, "127.0.0.1")
    try:
        sock = net.connect(server.address()["port"], "127.0.0.1")
        log: list[Any] = []
        recorder(sock, log, "client")
        sock.reset_and_destroy()
        assert not sock.destroyed
        await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
        assert log == [("client", "connect"), ("client", "close", False)]
        await asyncio.wait_for(peer_closed.wait(), TIMEOUT)
        assert peer_log == [("peer", "error", "ECONNRESET", "read ECONNRESET"),
                            ("peer", "close", True)]
    finally:
        await close_server(server)


# -- test-net-socket-ready-without-cb.js, test-net-connect-call-socket-connect.js -------------

async def test_connect_to_what_server_address_returns() -> None:
    # test-net-socket-ready-without-cb.js: socket.connect(server.address()). Node ignores the
    # 'address' key (and connects to 'localhost'), as here (the one unknown key taken: other
    # option names that are not one raise at the call, the package's rule); the address's
    # port and family work as options.
    server = net.create_server(lambda c: c.end())
    await server.listen(0, "localhost")
    try:
        sock = net.Socket()
        ready = event(sock, "ready")
        sock.connect(server.address())
        await ready
        sock.end()
        await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    finally:
        await close_server(server)


async def test_net_connect_goes_through_socket_connect(monkeypatch: Any) -> None:
    # test-net-connect-call-socket-connect.js (APM tools patch Socket.prototype.connect)
    calls: list[Any] = []
    original = net.Socket.connect

    def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(net.Socket, "connect", patched)
    server = net.create_server(lambda c: c.end())
    await server.listen(0, "127.0.0.1")
    try:
        sock = net.connect({"port": server.address()["port"], "host": "127.0.0.1"})
        await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
        assert len(calls) == 1
    finally:
        await close_server(server)


async def test_tls_connect_goes_through_net_socket_connect(monkeypatch: Any, certs: Any) -> None:
    # Node's tls.connect calls tlssock.connect(connectOpt, ...) (net's Socket.prototype.connect;
    # checked in node v20: a patched one is called once); the options are not normalised again
    calls: list[Any] = []
    original = net.Socket.connect

    def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append((type(self).__name__, args[0].get("port"), args[0].get("host")))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(net.Socket, "connect", patched)
    server = tls.create_server({"key": certs.server.key_pem, "cert": certs.server.chain_pem},
                               lambda c: c.end())
    await server.listen(0, "127.0.0.1")
    port = server.address()["port"]
    try:
        sock = tls.connect(port, "127.0.0.1", {"ca": certs.server.ca_pem,
                                               "servername": "localhost"})
        await asyncio.wait_for(sock, TIMEOUT)
        assert sock.authorized
        sock.destroy()
        await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
        assert calls == [("TLSSocket", port, "127.0.0.1")]
    finally:
        await close_server(server)


# -- test-net-connect-paused-connection.js ----------------------------------------------------

PAUSED_CLIENT = """
from nodetls import net
from nodetls import run

def main():
    server = net.create_server(lambda conn: conn.unref())
    def on_listening():
        net.connect(server.address()["port"], "localhost").pause()
    server.listen(0, "127.0.0.1", on_listening).unref()

run(main)
print("returned")
"""


def test_a_paused_client_does_not_keep_run_alive() -> None:
    # Node: an unref'd server, its connection unref'd, a client that connects and pauses:
    # the process exits at once
    try:
        out = subprocess.run([sys.executable, "-c", PAUSED_CLIENT], capture_output=True,
                             text=True, timeout=3)
    except subprocess.TimeoutExpired:
        out = None
    assert out is not None and out.stdout.strip() == "returned"
