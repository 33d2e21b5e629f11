"""Scenarios of Node v20's own tls tests, in our words (port pass 4, session 29).

Ports (``test/parallel/test-tls-<name>.js``): over-http-tunnel (TLS over a proxied socket that
already carried a plaintext CONNECT exchange), retain-handle-no-abort (a ``TLSSocket`` made
without a socket, then ``connect()``: Node's "Assume tls.connect()" state, fixed here),
onread-static-buffer (divergence: ``tls.connect`` refuses ``onread``).

Each expectation is what Node v20 does (checked by running the same scenario in ``node``;
repro pairs in /tmp/port29b/: tun.js, t6.js/t6.py, t8.js/t8.py, t1.js). Tests marked
``xfail(strict=True)`` are where nodetls differs from Node v20.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tlsutil import event, listen, shut, wait

import nodetls as tls
from nodetls import net


def future() -> asyncio.Future[Any]:
    return asyncio.get_running_loop().create_future()


CRLF = b"\r\n"


def first_line(data: bytes) -> bytes:
    return bytes(data).split(CRLF)[0]


def settle(fut: asyncio.Future[Any], value: Any = None) -> None:
    if not fut.done():
        fut.set_result(value)


# ------------------------------------------------------------------------- over-http-tunnel

async def test_tls_over_a_socket_after_a_plaintext_connect_exchange(certs):
    # Node: test-tls-over-http-tunnel (there with http's CONNECT; here the same bytes by hand).
    # A plain proxy reads the client's CONNECT line, connects to the TLS server, answers
    # "200", then relays both ways. The client, having read that answer on its net socket,
    # drops its 'data' listener and runs tls.connect({socket}) over it: the handshake goes
    # through the tunnel, the request reaches the server, the response comes back whole
    # (node: /tmp/port29b/tun.js).
    log: list[str] = []
    done = future()

    def on_secure(s: tls.TLSSocket) -> None:
        s.once("data", lambda d: (log.append(f"server request {first_line(d)!r}"),
                                  s.end(b"hello world\n")))

    server, port = await listen(certs.server.options, on_secure)
    upstreams: list[net.Socket] = []

    def on_proxy_connection(client_side: net.Socket) -> None:
        up: list[net.Socket] = []

        def on_data(chunk: bytes) -> None:
            if up:
                up[0].write(chunk)
                return
            log.append(f"proxy got {first_line(chunk)!r}")
            s = net.connect(port, "127.0.0.1",
                            lambda: client_side.write(b"HTTP/1.1 200 OK\r\nVia: proxy\r\n\r\n"))
            up.append(s)
            upstreams.append(s)
            s.on("data", client_side.write)
            s.on("end", client_side.destroy)

        client_side.on("data", on_data)
        client_side.on("end", lambda: up and up[0].destroy())

    proxy = net.create_server(on_proxy_connection)
    await wait(proxy.listen(0, "127.0.0.1"))
    raw = net.connect(proxy.address()["port"], "127.0.0.1",
                      lambda: raw.write(f"CONNECT localhost:{port} HTTP/1.1\r\n"
                                        "Host: localhost\r\n\r\n".encode()))
    secure: list[tls.TLSSocket] = []

    def on_raw_data(d: bytes) -> None:
        log.append(f"client got {first_line(d)!r}")
        raw.remove_listener("data", on_raw_data)
        t = tls.connect({"socket": raw, "reject_unauthorized": False},
                        lambda: (log.append(f"secureConnect {t.get_protocol()}"),
                                 t.write(b"GET /foo HTTP/1.1\r\n\r\n")))
        secure.append(t)
        body: list[bytes] = []
        t.on("data", body.append)
        t.on("end", lambda: log.append(f"body {b''.join(body)!r}"))
        t.on("error", lambda e: log.append(f"tls error {e.code}"))
        t.on("close", lambda *a: (log.append("tls close"), settle(done)))

    raw.on("data", on_raw_data)
    try:
        await wait(done)
    finally:
        for s in [raw, *secure, *upstreams]:
            s.destroy()
        proxy.close()
        await shut(server)
    assert log == [f"proxy got {f'CONNECT localhost:{port} HTTP/1.1'.encode()!r}",
                   "client got b'HTTP/1.1 200 OK'", "secureConnect TLSv1.3",
                   "server request b'GET /foo HTTP/1.1'", "body b'hello world\\n'", "tls close"]


# ------------------------------------------------------------------ retain-handle-no-abort

async def test_socketless_tls_socket_is_connecting_and_queues_writes():
    # Node's TLSSocket constructor ("Assume tls.connect()"): made without a socket, it is
    # connecting, pending and 'opening' at once, and a write is queued (returns true,
    # writable_length counts it) instead of failing with ERR_SOCKET_CLOSED
    # (node: /tmp/port29b/t6.js).
    sock = tls.TLSSocket()
    errors: list[Any] = []
    sock.on("error", errors.append)
    try:
        assert (sock.connecting, sock.pending, sock.ready_state) == (True, True, "opening")
        assert sock.write(b"x") is True and sock.writable_length == 1
        await asyncio.sleep(0)  # (an error would be emitted on a later tick)
        await asyncio.sleep(0)
        assert errors == []
    finally:
        sock.destroy()
    assert sock.connecting is False


async def test_socketless_tls_socket_sends_what_was_written_before_connect(certs):
    # Node: test-tls-retain-handle-no-abort makes `new tls.TLSSocket()` and then connect()s it
    # to a TLS server, ending with data at 'connect'. Here what is written and ended before
    # connect() is kept: after connect() the handshake runs ('secure'), the write callback is
    # called, the server receives everything then 'end', and the client closes without
    # error (node: /tmp/port29b/t8.js; reject_unauthorized=False: a hand-made client verifies
    # in nodetls, see README "deliberately differs").
    log: list[str] = []
    done = future()

    def on_secure(s: tls.TLSSocket) -> None:
        got: list[bytes] = []
        s.on("data", got.append)
        s.on("end", lambda: (log.append(f"server got {b''.join(got)!r}"), s.end()))

    server, port = await listen(certs.server.options, on_secure)
    c = tls.TLSSocket(None, {"reject_unauthorized": False})
    try:
        log.append(f"write={c.write(b'early ', lambda *a: log.append('write cb'))} "
                   f"len={c.writable_length}")
        c.end(b"end")
        log.append(f"state {c.ready_state} {c.connecting}")
        c.on("secure", lambda *a: log.append("secure"))
        c.on("close", lambda had_error: (log.append(f"close {had_error}"), settle(done)))
        assert c.connect(port, "127.0.0.1") is c
        await wait(done)
    finally:
        c.destroy()
        await shut(server)
    assert log == ["write=True len=6", "state opening True", "secure", "write cb",
                   "server got b'early end'", "close False"]


async def test_socketless_tls_socket_connect_callback_then_end(certs):
    # Node: test-tls-retain-handle-no-abort itself: connect(port, cb) on a TLSSocket made
    # without a socket; cb is the TCP 'connect'; end(data) there starts the handshake and the
    # server receives the data and its end.
    got: list[bytes] = []
    ended = future()

    def on_secure(s: tls.TLSSocket) -> None:
        s.on("data", got.append)
        s.on("end", lambda: (settle(ended), s.destroy()))

    server, port = await listen(certs.server.options, on_secure)
    c = tls.TLSSocket(None, {"reject_unauthorized": False})
    try:
        c.connect(port, "127.0.0.1", lambda: c.end(b"hello world"))
        await wait(ended)
    finally:
        c.destroy()
        await shut(server)
    assert b"".join(got) == b"hello world"


# -------------------------------------------------------------------- onread-static-buffer

async def test_tls_connect_onread_static_buffer(certs):
    # Node: test-tls-onread-static-buffer (first case): an 8-byte buffer gets 'hello world' as
    # callback(8, buf) then callback(3, buf), the same buffer each time; no 'data'; then 'end'
    # (node: /tmp/port29b/t1.js).
    server, port = await listen(certs.server.options, lambda s: s.end(b"hello world"))
    buf = bytearray(8)
    calls: list[tuple[int, bool, bytes]] = []
    data: list[bytes] = []
    client = None
    try:
        client = tls.connect({"port": port, "host": "127.0.0.1", "reject_unauthorized": False,
                              "onread": {"buffer": buf, "callback": lambda n, b: calls.append(
                                  (n, b is buf, bytes(b[:n])))}})
        client.on("data", data.append)
        await wait(event(client, "end"), 2.0)
    finally:
        if client is not None:
            client.destroy()
        await shut(server)
    assert calls == [(8, True, b"hello wo"), (3, True, b"rld")] and data == []


async def test_tls_connect_onread_is_ignored_over_a_given_socket(certs):
    # Node v20 (/tmp/port29b/t1b.js): tls.connect({socket, onread}) delivers 'data' as usual;
    # the buffer function is never called
    server, port = await listen(certs.server.options, lambda s: s.end(b"hello world, again"))
    gen_calls: list[int] = []
    data: list[bytes] = []
    raw = net.connect(port, "127.0.0.1")
    client = None
    try:
        await wait(event(raw, "connect"), 2.0)
        client = tls.connect({"socket": raw, "reject_unauthorized": False, "onread": {
            "buffer": lambda: gen_calls.append(1) or bytearray(5),
            "callback": lambda n, b: None}})
        client.on("data", data.append)
        await wait(event(client, "end"), 2.0)
    finally:
        if client is not None:
            client.destroy()
        raw.destroy()
        await shut(server)
    assert b"".join(data) == b"hello world, again" and gen_calls == []
