"""Scenarios of Node v20's own tls tests, in our words (portB).

Ports (``test/parallel/test-tls-<name>.js``): connect-address-family,
connect-allow-half-open-option, connect-hints-option, connect-hwm-option, connect-no-host,
connect-secure-context, connect-simple, connect-stream-writes, connect-timeout-option,
delayed-attach, delayed-attach-error, destroy-stream, destroy-stream-12, destroy-whilst-write,
disable-renegotiation, ecdh, ecdh-auto, ecdh-multiple, econnreset, empty-sni-context,
error-servername, exportkeyingmaterial, fast-writing, finished.

Each expectation is what Node v20 does (checked by running the same scenario in ``node``).
Tests marked ``xfail(strict=True)`` are where nodetls differs from Node v20.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from tlsutil import (
    TIMEOUT,
    connect,
    event,
    listen,
    pull_duplex,
    read_until,
    shut,
    wait,
)

import nodetls as tls
from nodetls import net, stream

#: Bound of the waits in the xfail tests (what they wait for never comes in nodetls).
SHORT = 2.0
#: Seconds an absence check gives an event that must not come (a late extra) to show up, once
#: every event that should come has come.
ABSENCE_WINDOW = 0.1


def client_opts(certs: Any, **kw: Any) -> dict[str, Any]:
    return {"host": "127.0.0.1", "ca": certs.root.cert_pem, "servername": "localhost", **kw}


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def localhost_resolves_to_ipv6() -> bool:
    try:
        return any(info[4][0] == "::1"
                   for info in socket.getaddrinfo("localhost", 80, socket.AF_INET6))
    except OSError:
        return False


# ------------------------------------------------------------------ connect-address-family

@pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 loopback")
async def test_connect_family_6_reaches_an_ipv6_server(certs):
    # Node: test-tls-connect-address-family (family: 6 is honoured by the lookup and connect)
    seen = []
    server = tls.create_server(certs.server.options)
    server.on("connection", lambda s: seen.append("connection"))
    await wait(server.listen(0, "::1"))
    port = server.address()["port"]
    try:
        host = "localhost" if localhost_resolves_to_ipv6() else "::1"
        sock = await connect(port, **client_opts(certs, host=host, family=6))
        assert sock.remote_address == "::1"
        assert sock.remote_family == "IPv6"
        assert sock.authorized is True
        assert seen == ["connection"]
        sock.destroy()
    finally:
        await shut(server)


async def test_connect_family_selects_the_lookup_family(certs):
    # Node: test-tls-connect-address-family. With family 4 'localhost' gives 127.0.0.1; with
    # family 6, where 'localhost' has no IPv6 address, the lookup fails (ENOTFOUND, getaddrinfo).
    server, port = await listen(certs.server.options, lambda s: s.end())
    try:
        sock = await connect(port, **client_opts(certs, host="localhost", family=4))
        assert (sock.remote_address, sock.remote_family) == ("127.0.0.1", "IPv4")
        sock.destroy()
        if localhost_resolves_to_ipv6():
            return
        failed = tls.connect(port, {**client_opts(certs), "host": "localhost", "family": 6})
        err = await wait(event(failed, "error"))
        assert err.code == "ENOTFOUND"
        assert err.syscall == "getaddrinfo"
        assert str(err) == "getaddrinfo ENOTFOUND localhost"
    finally:
        await shut(server)


# ------------------------------------------------------------------ connect-allow-half-open-option

async def test_connect_allow_half_open_defaults_and_half_close(certs):
    # Node: test-tls-connect-allow-half-open-option
    for extra, expected in (({}, False), ({"allow_half_open": False}, False),
                            ({"allowHalfOpen": True}, True)):
        s = tls.connect({"port": 9, "host": "127.0.0.1", **extra})
        s.on("error", lambda e: None)
        assert s.allow_half_open is expected
        s.destroy()

    loop = asyncio.get_running_loop()
    server_got = loop.create_future()

    def on_secure(s: tls.TLSSocket) -> None:
        server.close()
        buf = bytearray()

        def on_data(chunk: bytes) -> None:
            buf.extend(chunk)
            if bytes(buf) == b"Hello":
                s.end(bytes(buf))
                buf.clear()

        s.on("data", on_data)
        s.on("end", lambda: server_got.set_result(bytes(buf)))

    server, port = await listen(certs.server.options, on_secure)
    client = tls.connect(port, client_opts(certs, allow_half_open=True))
    got = bytearray()
    client.on("data", got.extend)
    client_ended = event(client, "end")
    closed = event(client, "close")
    await wait(client)
    client.write(b"Hello")
    await wait(client_ended)
    assert bytes(got) == b"Hello"
    # the server ended its side; this half-open client can still write
    assert client.writable is True
    assert client.write(b"Bye") is True
    client.end()
    assert await wait(server_got) == b"Bye"
    await wait(closed)


# ------------------------------------------------------------------ connect-hints-option

async def test_connect_uses_the_lookup_option(certs):
    # Node: test-tls-connect-hints-option. Node calls lookup(host, {family, hints, all: true},
    # callback) and connects to what the callback gives.
    calls = []

    def lookup(host: str, options: dict[str, Any], callback: Any) -> None:
        calls.append((host, options))
        callback(None, [{"address": "127.0.0.1", "family": 4}])

    server, port = await listen(certs.server.options, lambda s: s.end())
    try:
        sock = tls.connect(port, {"host": "my.test", "servername": "localhost",
                                  "ca": certs.root.cert_pem, "hints": 512, "lookup": lookup})
        sock.on("error", lambda e: None)
        await wait(sock, SHORT)
        assert sock.remote_address == "127.0.0.1"
        assert len(calls) == 1
        host, options = calls[0]
        assert host == "my.test"
        assert options["hints"] == 512
        assert options["all"] is True
        sock.destroy()
    finally:
        await shut(server)


# ------------------------------------------------------------------ connect-hwm-option

async def test_connect_default_high_water_mark(certs):
    # Node: test-tls-connect-hwm-option (Node v20's default: 16 KiB)
    server, port = await listen(certs.server.options)
    try:
        sock = await connect(port, **client_opts(certs))
        assert sock.readable_high_water_mark == 16384
        sock.destroy()
    finally:
        await shut(server)


@pytest.mark.parametrize("hwm", [128000, 0])
async def test_connect_high_water_mark_option(certs, hwm):
    # Node: test-tls-connect-hwm-option
    server, port = await listen(certs.server.options)
    try:
        sock = await connect(port, **client_opts(certs, highWaterMark=hwm))
        try:
            assert sock.readable_high_water_mark == hwm
            assert sock.writable_high_water_mark == hwm
        finally:
            sock.destroy()
    finally:
        await shut(server)


# ------------------------------------------------------------------ connect-no-host

async def test_connect_without_host_verifies_against_localhost(certs):
    # Node: test-tls-connect-no-host (nodejs/node#1489): no host means 'localhost', and the
    # certificate's name is checked against it; no SNI is sent for it (servername False).
    server, port = await listen(certs.server.options, lambda s: s.end())
    try:
        sock = tls.connect({"port": port, "ca": certs.root.cert_pem})
        await wait(sock)
        assert sock.authorized is True
        assert sock.authorization_error is None
        assert sock.servername is False
        assert sock.remote_address == "127.0.0.1"
        sock.destroy()
    finally:
        await shut(server)


# ------------------------------------------------------------------ connect-secure-context

@pytest.mark.parametrize("with_nones", [False, True])
async def test_connect_with_an_explicit_client_secure_context(certs, with_nones):
    # Node: test-tls-connect-secure-context (options given as None are as absent)
    nones = dict.fromkeys(("ciphers", "crl", "dhparam", "passphrase", "pfx",
                           "session_id_context", "session_timeout", "sigalgs", "ticket_keys"))
    ctx = tls.create_secure_context({"ca": certs.root.cert_pem, **(nones if with_nones else {})})
    server, port = await listen(certs.server.options, lambda s: s.end(b"ok"))
    try:
        sock = tls.connect(port, {"host": "127.0.0.1", "servername": "localhost",
                                  "secure_context": ctx})
        data = event(sock, "data")
        await wait(sock)
        assert sock.authorized is True
        assert await wait(data) == b"ok"
        sock.destroy()
    finally:
        await shut(server)


# ------------------------------------------------------------------ connect-simple

async def test_two_clients_then_server_close_callback_and_event(certs):
    # Node: test-tls-connect-simple. The close callback and 'close' come once both clients ended.
    loop = asyncio.get_running_loop()
    log: list[str] = []
    closed = loop.create_future()
    count = {"n": 0}

    def on_secure(s: tls.TLSSocket) -> None:
        count["n"] += 1
        log.append("secureConnection")
        if count["n"] == 2:
            server.close(lambda err=None: log.append(f"close callback {err}"))
            server.on("close", lambda: (log.append("close"), closed.set_result(None)))

    server, port = await listen(certs.server.options, on_secure)
    c1 = tls.connect(port, client_opts(certs), lambda: c1.end())
    c2 = tls.connect(port, client_opts(certs))
    c2.on("secureConnect", lambda: c2.end())
    await wait(closed)
    assert log == ["secureConnection", "secureConnection", "close callback None", "close"]


# ------------------------------------------------------------------ connect-stream-writes

async def test_connect_over_a_pull_duplex_around_a_net_socket(certs):
    # Node: test-tls-connect-stream-writes. A hand-made Duplex that reads from a net socket on
    # demand ('readable' + read()) and writes to it; 50 writes then end reach the server whole.
    loop = asyncio.get_running_loop()
    received = bytearray()
    server_end = loop.create_future()

    def on_secure(s: tls.TLSSocket) -> None:
        s.on("data", received.extend)
        s.on("end", lambda: server_end.set_result(None))

    server, port = await listen({**certs.server_rsa.options, "ciphers": "AES256-GCM-SHA384"},
                                on_secure)
    raw = net.connect(port, "127.0.0.1")
    p = pull_duplex(raw)
    sent = bytearray()

    def on_connect() -> None:
        for _ in range(50):
            sock.write(b"hello world")
            sent.extend(b"hello world")
        sock.end()
        server.close()

    sock = tls.connect({"socket": p, "reject_unauthorized": False}, on_connect)
    await wait(server_end)
    assert bytes(received) == bytes(sent) == b"hello world" * 50
    sock.destroy()
    raw.destroy()


# ------------------------------------------------------------------ connect-timeout-option

async def test_connect_timeout_option_sets_the_idle_timeout(certs):
    # Node: test-tls-connect-timeout-option (socket.timeout is the option; here seconds), and
    # the idle socket then emits 'timeout' (not destroyed by it).
    server, port = await listen(certs.server.options)
    try:
        t0 = time.monotonic()
        sock = tls.connect(port, client_opts(certs, timeout=0.2))
        assert sock.timeout == 0.2
        timed_out = event(sock, "timeout")
        await wait(sock)
        assert sock.timeout == 0.2
        await wait(timed_out)
        assert time.monotonic() - t0 >= 0.15
        assert not sock.destroyed
        sock.destroy()
    finally:
        await shut(server)


# ------------------------------------------------------------------ delayed-attach(-error)

async def wrap_later(certs: Any, client_bytes: bytes | None, delay: float | None
                     ) -> tuple[list[str], bytes, list[str]]:
    """A net server whose connection is wrapped in a server TLSSocket ``delay`` seconds after it
    arrived (``None``: at once). The client is a TLS client sending b'hello world' then ending,
    or a raw one sending ``client_bytes``. Returns the server TLSSocket's events, what it read,
    and the raw client's events."""
    loop = asyncio.get_running_loop()
    srv_log: list[str] = []
    cli_log: list[str] = []
    received = bytearray()
    done = loop.create_future()
    ctx = tls.create_secure_context(certs.server.options)

    def attach(c: net.Socket) -> None:
        s = tls.TLSSocket(c, {"is_server": True, "secure_context": ctx})
        s.on("secure", lambda *a: srv_log.append("secure"))
        s.on("data", received.extend)
        s.on("error", lambda e: srv_log.append(f"error {e.code}"))
        s.on("end", lambda: (srv_log.append("end"), s.destroy()))
        s.on("close", lambda *a: (srv_log.append("close"), done.done() or done.set_result(None)))

    def on_conn(c: net.Socket) -> None:
        if delay is None:
            attach(c)
        else:
            loop.call_later(delay, attach, c)

    server = net.create_server(on_conn)
    await wait(server.listen(0, "127.0.0.1"))
    port = server.address()["port"]
    if client_bytes is None:
        client: Any = tls.connect(port, {"host": "127.0.0.1", "reject_unauthorized": False},
                                  lambda: client.end(b"hello world"))
    else:
        client = net.connect(port, "127.0.0.1", lambda: client.write(client_bytes))
        client.on("end", lambda: cli_log.append("end"))
    client.on("error", lambda e: cli_log.append(f"error {e.code}"))
    try:
        await wait(done, SHORT if delay else TIMEOUT)
    finally:
        client.destroy()
        server.close()
    return srv_log, bytes(received), cli_log


async def test_delayed_attach_reads_what_the_socket_already_buffered(certs):
    # Node: test-tls-delayed-attach (nodejs/node-v0.x-archive#6940): the ClientHello arrived
    # before the TLSSocket was made; Node feeds the buffered bytes to it.
    srv_log, received, _ = await wrap_later(certs, None, 0.2)
    assert received == b"hello world"
    assert srv_log == ["secure", "end", "close"]


async def test_delayed_attach_garbage_is_an_error(certs):
    # Node: test-tls-delayed-attach-error: 1 KiB of 0x2a before the wrap -> the TLSSocket's
    # 'error' ERR_SSL_WRONG_VERSION_NUMBER, then 'close'; the raw client sees the connection end.
    srv_log, _, cli_log = await wrap_later(certs, b"\x2a" * 1024, 0.2)
    assert srv_log == ["error ERR_SSL_WRONG_VERSION_NUMBER", "close"]
    assert cli_log == ["end"]


async def test_attach_at_once_garbage_is_an_error(certs):
    # Node: test-tls-delayed-attach-error, wrapped at once (no buffered data): same outcome.
    srv_log, _, cli_log = await wrap_later(certs, b"\x2a" * 1024, None)
    assert srv_log == ["error ERR_SSL_WRONG_VERSION_NUMBER", "close"]
    assert cli_log == ["end"]


# ------------------------------------------------------------------ destroy-stream(-12)

@pytest.mark.parametrize("version", ["TLSv1.3", "TLSv1.2"])
async def test_server_destroy_over_an_injected_duplex(certs, version):
    # Node: test-tls-destroy-stream / -12 (nodejs/node#14605). A net server looks at the first
    # chunk, then hands a duplex_pair end piped to the connection to a tls.Server. That server
    # writes then destroy()s: the client gets 'end' and 'close'(False), never an error; what
    # data arrives (if any: destroy() may win over the write) is exactly the write.
    loop = asyncio.get_running_loop()
    tls_server = tls.create_server({**certs.server.options, "max_version": version})
    server_log: list[str] = []

    def on_secure(s: tls.TLSSocket) -> None:
        s.on("close", lambda *a: server_log.append("close"))
        s.on("error", lambda e: server_log.append(f"error {e.code}"))
        s.write(b"Hello World")
        s.destroy()

    tls_server.on("secureConnection", on_secure)
    conn_errors: list[Any] = []

    def on_conn(conn: net.Socket) -> None:
        conn.on("error", conn_errors.append)

        def first(chunk: bytes) -> None:
            client_side, server_side = stream.duplex_pair()
            server_side.on("close", lambda *a: conn.destroy())
            client_side.pipe(conn)
            conn.pipe(client_side)
            conn.on("close", lambda *a: client_side.destroy())
            loop.call_soon(conn.unshift, chunk)
            tls_server.emit("connection", server_side)

        conn.once("data", first)

    server = net.create_server(on_conn)
    await wait(server.listen(0, "127.0.0.1"))
    client = tls.connect(server.address()["port"], {"host": "127.0.0.1",
                                                    "reject_unauthorized": False,
                                                    "max_version": version})
    log: list[Any] = []
    data = bytearray()
    client.on("data", data.extend)
    client.on("error", lambda e: log.append(f"error {e.code}"))
    client.on("end", lambda: log.append("end"))
    closed = event(client, "close")
    try:
        await wait(client)
        log.append(f"close {await wait(closed)}")
        assert log == ["end", "close False"]
        assert bytes(data) in (b"", b"Hello World")
        assert server_log == ["close"]
        assert conn_errors == []
    finally:
        server.close()


# ------------------------------------------------------------------ destroy-whilst-write

def slow_duplex(log: list[str]) -> stream.Duplex:
    """A Duplex that never reads and completes each write on the next loop iteration."""
    loop = asyncio.get_running_loop()

    def write(chunk: bytes, callback: Any) -> None:
        log.append("pending")
        loop.call_soon(lambda: (log.append("done"), callback()))

    return stream.Duplex({"read": lambda n: None, "write": write})


async def test_destroy_whilst_a_write_is_pending():
    # Node: test-tls-destroy-whilst-write. The ClientHello's write is pending in the underlying
    # Duplex when the TLS socket is destroyed: no error anywhere, both close, the write completes.
    log: list[str] = []
    delay = slow_duplex(log)
    secure = tls.connect({"socket": delay})
    for name, em in (("tls", secure), ("duplex", delay)):
        em.on("error", lambda e, name=name: log.append(f"{name} error {e}"))
    tls_closed = event(secure, "close")
    duplex_closed = event(delay, "close")
    asyncio.get_running_loop().call_soon(secure.destroy)
    assert await wait(tls_closed) is False
    await wait(duplex_closed)
    assert secure.destroyed and delay.destroyed
    assert log == ["pending", "done"]


async def test_destroy_over_a_duplex_closes_the_duplex_first():
    # Node: test-tls-destroy-whilst-write, the order of the two 'close' events.
    log: list[str] = []
    delay = slow_duplex(log)
    secure = tls.connect({"socket": delay})
    secure.on("close", lambda *a: log.append("tls close"))
    delay.on("close", lambda *a: log.append("duplex close"))
    tls_closed = event(secure, "close")
    duplex_closed = event(delay, "close")
    asyncio.get_running_loop().call_soon(secure.destroy)
    await wait(asyncio.gather(tls_closed, duplex_closed))
    assert [e for e in log if "close" in e] == ["duplex close", "tls close"]


# ------------------------------------------------------------------ disable-renegotiation

TLS12 = {"min_version": "TLSv1.2", "max_version": "TLSv1.2"}


async def check_renegotiate_raises(certs: Any, args: tuple[Any, ...]) -> None:
    """renegotiate(*args) on a secure TLS 1.2 client raises TypeError ERR_INVALID_ARG_TYPE
    ('cb' stands for a function)."""
    server, port = await listen({**certs.server.options, **TLS12,
                                 "allow_client_renegotiation": True})
    try:
        sock = await connect(port, **client_opts(certs))
        args = tuple((lambda *a: None) if a == "cb" else a for a in args)
        try:
            with pytest.raises(TypeError) as info:
                sock.renegotiate(*args)
            assert info.value.code == "ERR_INVALID_ARG_TYPE"
        finally:
            sock.destroy()
    finally:
        await shut(server)


@pytest.mark.parametrize("args", [("cb",), ("x", "cb")], ids=["callback-only", "options-str"])
async def test_renegotiate_argument_validation(certs, args):
    # Node: test-tls-disable-renegotiation (the assert.throws part)
    await check_renegotiate_raises(certs, args)


@pytest.mark.parametrize("args", [(), ({}, False), (None, "cb")],
                         ids=["none", "cb-false", "options-none"])
async def test_renegotiate_argument_validation_divergent(certs, args):
    # Node: test-tls-disable-renegotiation (the assert.throws part; TypeError
    # ERR_INVALID_ARG_TYPE: 'The "options" argument must be of type object' / '"callback"
    # argument must be of type function')
    await check_renegotiate_raises(certs, args)


def record_types(buf: bytes | bytearray) -> list[int]:
    """The content types of the complete TLS records at the start of ``buf``."""
    types, i = [], 0
    while i + 5 <= len(buf):
        size = int.from_bytes(buf[i + 3:i + 5], "big")
        if i + 5 + size > len(buf):
            break
        types.append(buf[i])
        i += 5 + size
    return types


async def coalescing_relay(port: int) -> tuple[net.Server, dict[str, bool]]:
    """A TCP relay to ``port``. While ``state['hold']`` is set it holds the client's bytes until
    an application-data record (23) has been followed by a handshake record (22), then sends
    them to the server in one write (so the server reads them together) and stops holding."""
    state = {"hold": False}

    def on_conn(c: net.Socket) -> None:
        up = net.connect(port, "127.0.0.1")
        held = bytearray()

        def from_client(chunk: bytes) -> None:
            if not state["hold"]:
                up.write(chunk)
                return
            held.extend(chunk)
            types = record_types(held)
            if 23 in types and 22 in types[types.index(23):]:
                state["hold"] = False
                up.write(bytes(held))
                held.clear()

        c.on("data", from_client)
        up.on("data", c.write)
        for a, b in ((c, up), (up, c)):
            a.on("error", lambda e: None)
            a.on("end", b.end)
            a.on("close", lambda *x, b=b: b.destroy())

    relay = net.create_server(on_conn)
    await wait(relay.listen(0, "127.0.0.1"))
    return relay, state


async def renegotiation_then_disabled(certs: Any, same_read: bool) -> dict[str, Any]:
    """Node's scenario: the client renegotiates once (allowed), writes b'data'; the server echoes
    it and calls disable_renegotiation(); the client renegotiates again. ``same_read``: at once
    (as Node's test), through a relay that hands b'data' and the new ClientHello to the server
    in one piece; else once the echo came back (the server has disabled it by then)."""
    loop = asyncio.get_running_loop()
    out: dict[str, Any] = {"server_errors": [], "second_cb": [], "first_cb": []}
    server_done = loop.create_future()

    def on_secure(s: tls.TLSSocket) -> None:
        def on_error(e: Exception) -> None:
            out["server_errors"].append(e)
            s.destroy()
            server_done.done() or server_done.set_result(None)

        s.on("error", on_error)
        s.on("data", lambda chunk: (s.write(chunk), s.disable_renegotiation()))

    server, port = await listen({**certs.server.options, **TLS12,
                                 "allow_client_renegotiation": True}, on_secure)
    relay, state = await coalescing_relay(port)
    client = await connect(relay.address()["port"] if same_read else port,
                           **client_opts(certs))
    client.on("error", lambda e: None)

    def second() -> None:
        out["second_ok"] = client.renegotiate({}, out["second_cb"].append)

    def after_first(err: Any) -> None:
        out["first_cb"].append(err)
        if same_read:
            state["hold"] = True
            client.write(b"data")
            second()
        else:
            client.once("data", lambda d: second())
            client.write(b"data")

    assert client.renegotiate({}, after_first) is True
    try:
        await wait(server_done, SHORT)
    finally:
        client.destroy()
        relay.close()
        await shut(server)
    return out


async def test_disable_renegotiation_after_one_renegotiation(certs):
    # Node: test-tls-disable-renegotiation, with the second attempt made once the server
    # answered (the server has disabled renegotiation by then).
    out = await renegotiation_then_disabled(certs, same_read=False)
    assert out["first_cb"] == [None]
    assert out["second_ok"] is True
    [err] = out["server_errors"]
    assert err.code == "ERR_TLS_RENEGOTIATION_DISABLED"
    assert str(err) == "TLS session renegotiation disabled for this socket"
    assert out["second_cb"] == []


async def test_disable_renegotiation_in_data_listener_stops_the_next_record(certs):
    # Node: test-tls-disable-renegotiation as written: the second renegotiation starts as soon
    # as the client's write completed, so it may reach the server in the same read as b'data'
    # (made certain here by a relay).
    # Node handles records one by one: the 'data' listener disables renegotiation before the
    # ClientHello is looked at -> 'error' ERR_TLS_RENEGOTIATION_DISABLED, no second callback.
    out = await renegotiation_then_disabled(certs, same_read=True)
    assert out["first_cb"] == [None]
    [err] = out["server_errors"]
    assert err.code == "ERR_TLS_RENEGOTIATION_DISABLED"
    assert out["second_cb"] == []


async def test_renegotiation_emits_secure_events_again(certs):
    # Node: test-tls-disable-renegotiation (client.on('secureConnect'/'secure') after the first
    # handshake are each called once more). Node, per renegotiation: server socket 'secure';
    # client 'secureConnect', 'secure', then the renegotiate() callback.
    log: list[str] = []

    def on_secure(s: tls.TLSSocket) -> None:
        s.on("secure", lambda *a: log.append("server secure"))
        s.pipe(s)  # (echo: the round trip below)

    server, port = await listen({**certs.server.options, **TLS12,
                                 "allow_client_renegotiation": True}, on_secure)
    try:
        client = await connect(port, **client_opts(certs))
        client.on("secureConnect", lambda: log.append("secureConnect"))
        client.on("secure", lambda *a: log.append("secure"))
        done = asyncio.get_running_loop().create_future()
        client.renegotiate({}, lambda err: (log.append(f"callback {err}"), done.set_result(None)))
        await wait(done)
        # A round trip after the renegotiation: whatever either side emits for it comes first.
        client.write(b"ping")
        assert await read_until(client, 4) == b"ping"
        # Absence window: no event may come twice or late.
        await asyncio.sleep(ABSENCE_WINDOW)
        assert log == ["server secure", "secureConnect", "secure", "callback None"]
        client.destroy()
    finally:
        await shut(server)


# ------------------------------------------------------------------ ecdh, ecdh-auto, ecdh-multiple

@pytest.mark.parametrize(("server_curve", "client_curve", "negotiated"), [
    ("prime256v1", None, ("prime256v1", 256)),
    ("auto", None, ("X25519", 253)),
    ("secp256k1:prime256v1:secp521r1", None, ("prime256v1", 256)),
    ("secp256k1:prime256v1:secp521r1", "secp521r1", ("secp521r1", 521)),
])
async def test_ecdh_curve_option_on_a_tls12_ecdhe_server(certs, server_curve, client_curve,
                                                         negotiated):
    # Node: test-tls-ecdh, test-tls-ecdh-auto, test-tls-ecdh-multiple (an ECDHE-RSA TLS 1.2
    # server with one curve, 'auto', a colon list; the reply arrives, over the expected curve)
    server, port = await listen({**certs.server_rsa.options, "ecdh_curve": server_curve,
                                 "ciphers": "-ALL:ECDHE-RSA-AES128-SHA256",
                                 "max_version": "TLSv1.2"},
                                lambda s: s.end(b"I AM THE WALRUS"))
    try:
        extra = {"ecdh_curve": client_curve} if client_curve else {}
        sock = tls.connect(port, client_opts(certs, ciphers="ECDHE-RSA-AES128-SHA256", **extra))
        chunks: list[bytes] = []
        sock.on("data", chunks.append)
        ended = event(sock, "end")
        await wait(sock)
        assert sock.get_cipher()["name"] == "ECDHE-RSA-AES128-SHA256"
        assert sock.get_protocol() == "TLSv1.2"
        info = sock.get_ephemeral_key_info()
        assert (info["type"], info["name"], info["size"]) == ("ECDH", *negotiated)
        await wait(ended)
        assert b"".join(chunks) == b"I AM THE WALRUS"
        sock.destroy()
    finally:
        await shut(server)


@pytest.mark.parametrize("curve", ["wap-wsg-idm-ecid-wtls1", "c2pnb163v1", "prime192v3"])
def test_unsupported_ecdh_curves_are_refused(curve):
    # Node: test-tls-ecdh-multiple ('Failed to set ECDH curve', ERR_CRYPTO_OPERATION_FAILED)
    with pytest.raises(Exception, match="Failed to set ECDH curve") as info:
        tls.create_server({"ecdh_curve": curve})
    assert info.value.code == "ERR_CRYPTO_OPERATION_FAILED"


# ------------------------------------------------------------------ econnreset

async def test_tcp_close_before_client_hello_is_a_socket_hang_up(certs):
    # Node: test-tls-econnreset. A TCP client that connects and closes at once: the server's
    # 'tlsClientError' ECONNRESET "socket hang up" with the socket, no 'secureConnection'.
    secured: list[Any] = []
    server, port = await listen(certs.server.options, secured.append)
    errors = event(server, "tlsClientError")
    try:
        raw_errors: list[Any] = []
        raw = net.connect(port, "127.0.0.1", lambda: raw.destroy())
        raw.on("error", raw_errors.append)
        err, sock = await wait(errors)
        assert err.code == "ECONNRESET"
        assert str(err) == "socket hang up"
        assert isinstance(sock, tls.TLSSocket)
        assert secured == [] and raw_errors == []
    finally:
        await shut(server)


# ------------------------------------------------------------------ empty-sni-context

async def empty_sni_scenario(certs: Any) -> tuple[Any, Any, list[str]]:
    """A server whose SNI callback answers with a context holding no certificate."""
    log: list[str] = []
    server, port = await listen({"SNICallback": lambda name, cb: cb(None,
                                                                   tls.create_secure_context())},
                                lambda s: log.append("secureConnection"))
    server_err = event(server, "tlsClientError")
    try:
        c = tls.connect(port, {"host": "127.0.0.1", "reject_unauthorized": False,
                               "servername": "any.name"}, lambda: log.append("secureConnect"))
        client_err = event(c, "error")
        closed = event(c, "close")
        cerr = await wait(client_err)
        serr, _ = await wait(server_err)
        await wait(closed)
        return cerr, serr, log
    finally:
        await shut(server)


async def test_sni_context_without_certificate_fails_the_handshake(certs):
    # Node: test-tls-empty-sni-context: the client gets the handshake_failure alert
    # (ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE); the server a 'tlsClientError'; no secure events.
    cerr, serr, log = await empty_sni_scenario(certs)
    assert cerr.code == "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE"
    assert serr.code.startswith("ERR_SSL_")
    assert log == []


async def test_sni_context_without_certificate_server_error_code(certs):
    # Node: test-tls-empty-sni-context (the server error's message matches /passed a null
    # parameter/i)
    _, serr, _ = await empty_sni_scenario(certs)
    assert serr.code == "ERR_SSL_PASSED_A_NULL_PARAMETER"
    assert "passed a null parameter" in str(serr).lower()


# ------------------------------------------------------------------ error-servername

async def test_set_servername_errors(certs):
    # Node: test-tls-error-servername
    a, b = stream.duplex_pair()
    client = tls.connect({"socket": a, "ca": certs.root.cert_pem, "host": "agent1"})
    client.on("error", lambda e: None)
    try:
        for value in (None, 1, True, {}, b"localhost"):
            with pytest.raises(TypeError) as info:
                client.set_servername(value)
            assert info.value.code == "ERR_INVALID_ARG_TYPE"
        server = tls.TLSSocket(b, {"is_server": True, **certs.server.options})
        server.on("error", lambda e: None)
        with pytest.raises(Exception) as err:
            server.set_servername("localhost")
        assert err.value.code == "ERR_TLS_SNI_FROM_SERVER"
        assert str(err.value) == "Cannot issue SNI from a TLS server-side socket"
        server.destroy()
    finally:
        client.destroy()


# ------------------------------------------------------------------ exportkeyingmaterial

@contextlib.asynccontextmanager
async def ekm_sockets(certs: Any, version: str = "TLSv1.3"
                      ) -> AsyncIterator[tuple[tls.TLSSocket, tls.TLSSocket]]:
    """A net server wrapping its connection in a server TLSSocket; (server side, client) once
    both are secure, all destroyed and closed on exit."""
    loop = asyncio.get_running_loop()
    got = loop.create_future()
    before: list[Any] = []
    ctx = tls.create_secure_context(certs.server.options)

    def on_conn(s: net.Socket) -> None:
        t = tls.TLSSocket(s, {"is_server": True, "secure_context": ctx})
        try:
            t.export_keying_material(128, "label")
        except Exception as e:  # noqa: BLE001 - checked below
            before.append(e)
        t.on("secure", lambda *a: got.set_result(t))

    server = net.create_server(on_conn)
    await wait(server.listen(0, "127.0.0.1"))
    client = tls.connect(server.address()["port"], {"host": "127.0.0.1",
                                                    "reject_unauthorized": False,
                                                    "max_version": version})
    srv = None
    try:
        await wait(client)
        srv = await wait(got)
        [err] = before
        assert err.code == "ERR_TLS_INVALID_STATE"
        assert str(err) == "TLS socket connection must be securely established"
        yield srv, client
    finally:
        client.destroy()
        if srv is not None:
            srv.destroy()
        server.close()


async def test_export_keying_material_values_and_type_errors(certs):
    # Node: test-tls-exportkeyingmaterial
    async with ekm_sockets(certs) as (srv, client):
        label = "client finished"
        plain = srv.export_keying_material(128, label)
        with_ctx = srv.export_keying_material(128, label, bytes([0, 1, 2, 3]))
        empty_ctx = srv.export_keying_material(128, label, b"")
        assert len(plain) == len(with_ctx) == len(empty_ctx) == 128
        assert plain != with_ctx
        assert client.export_keying_material(128, label) == plain
        for args in ((128, label, "stringAsContextNotSupported"), (128, label, 1234),
                     (10, None), ("length", 1234)):
            with pytest.raises(TypeError) as info:
                srv.export_keying_material(*args)
            assert info.value.code == "ERR_INVALID_ARG_TYPE", args


async def test_server_tlssocket_given_a_net_server(certs):
    # Node: test-tls-exportkeyingmaterial wraps each connection of a net.Server in
    # TLSSocket(s, {isServer: true, server: <that net.Server>, secureContext}); the handshake
    # completes.
    loop = asyncio.get_running_loop()
    got = loop.create_future()
    ctx = tls.create_secure_context(certs.server.options)

    def on_conn(s: net.Socket) -> None:
        try:
            t = tls.TLSSocket(s, {"is_server": True, "server": server, "secure_context": ctx})
        except Exception as e:  # noqa: BLE001 - reported through the future
            got.set_result(e)
            s.destroy()
            return
        t.on("secure", lambda *a: got.set_result(t))

    server = net.create_server(on_conn)
    await wait(server.listen(0, "127.0.0.1"))
    client = tls.connect(server.address()["port"], {"host": "127.0.0.1",
                                                    "reject_unauthorized": False})
    client.on("error", lambda e: None)
    try:
        srv = await wait(got, SHORT)
        assert isinstance(srv, tls.TLSSocket)
        await wait(client, SHORT)
        srv.destroy()
    finally:
        client.destroy()
        server.close()


@pytest.mark.parametrize("length", [-3, 0, 1.5, 2**32])
async def test_export_keying_material_length_out_of_range(certs, length):
    # Node: test-tls-exportkeyingmaterial (length must be an integer >= 1 && <= 4294967295;
    # RangeError ERR_OUT_OF_RANGE)
    async with ekm_sockets(certs) as (srv, _):
        with pytest.raises(ValueError) as info:
            srv.export_keying_material(length, "a")
        assert getattr(info.value, "code", None) == "ERR_OUT_OF_RANGE"


# ------------------------------------------------------------------ fast-writing

async def test_fast_writing_until_backpressure_then_drain(certs):
    # Node: test-tls-fast-writing: write 1 KiB chunks until write() returns False; 'drain'
    # follows, and the server receives bytes chunks.
    loop = asyncio.get_running_loop()
    got_chunk = loop.create_future()

    def on_secure(s: tls.TLSSocket) -> None:
        def on_data(c: bytes) -> None:
            assert isinstance(c, bytes) and len(c) > 0
            if not got_chunk.done():
                got_chunk.set_result(None)

        s.on("data", on_data)

    server, port = await listen(certs.server_rsa.options, on_secure)
    try:
        conn = await connect(port, **client_opts(certs))
        drained = event(conn, "drain")
        writes = 0
        while conn.write(b"x" * 1024) is not False:
            writes += 1
            assert writes < 100_000
        await wait(drained)
        await wait(got_chunk)
        conn.destroy()
    finally:
        await shut(server)


# ------------------------------------------------------------------ finished

async def test_finished_messages_match_across_the_connection(certs):
    # Node: test-tls-finished: None before the handshake; afterwards each side's Finished is the
    # other side's peer Finished.
    got = asyncio.get_running_loop().create_future()
    server, port = await listen(certs.server.options, lambda s: got.set_result(
        (s.get_finished(), s.get_peer_finished())))
    try:
        bob = tls.connect(port, client_opts(certs))
        assert bob.get_finished() is None
        assert bob.get_peer_finished() is None
        await wait(bob)
        alice_own, alice_peer = await wait(got)
        assert isinstance(alice_own, bytes) and len(alice_own) > 0
        assert isinstance(alice_peer, bytes) and len(alice_peer) > 0
        assert bob.get_peer_finished() == alice_own
        assert bob.get_finished() == alice_peer
        assert await read_until_end(bob) == b""
    finally:
        await shut(server)


async def read_until_end(sock: tls.TLSSocket) -> bytes:
    """End our side; what the peer sent until its end."""
    buf = bytearray()
    sock.on("data", buf.extend)
    ended = event(sock, "end")
    sock.end()
    await wait(ended)
    return bytes(buf)
