"""Node's ``server.allowHalfOpen``, ``.pauseOnConnect``, ``.noDelay``, ``.keepAlive``,
``.keepAliveInitialDelay``, ``.highWaterMark`` on ``net.Server`` and ``tls.Server``.

Node v20 stores the constructor's options on the server and reads them again for every
connection it accepts, so setting one later changes the connections accepted from then on
(checked in node: ``server.allowHalfOpen = true`` after ``createServer`` keeps an accepted net
or TLS socket writable after the peer's end, and the client receives what it writes then).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import nodetls as tls
from nodetls import net

from ..tls.tlsutil import TIMEOUT, close_server, listen, wait


def client_opts(certs: Any) -> dict[str, Any]:
    return {"ca": certs.root.cert_pem, "servername": "localhost"}


def test_defaults_are_nodes() -> None:
    # Node v20: false, false, false, false, 0, 16384 for net.createServer({}) and
    # tls.createServer({}) alike (nodetls's TLS server has TCP_NODELAY on: README)
    server = net.Server()
    assert (server.allow_half_open, server.pause_on_connect, server.no_delay,
            server.keep_alive, server.keep_alive_initial_delay, server.high_water_mark) == (
        False, False, False, False, 0, 16384)
    secure = tls.create_server({})
    assert (secure.allow_half_open, secure.pause_on_connect, secure.no_delay,
            secure.keep_alive, secure.high_water_mark) == (False, False, True, False, 16384)


def test_options_given_are_read_back() -> None:
    server = net.create_server({"allow_half_open": True, "pause_on_connect": True,
                                "no_delay": True, "keep_alive": True,
                                "keep_alive_initial_delay": 2.5, "high_water_mark": 1024})
    assert (server.allow_half_open, server.pause_on_connect, server.no_delay,
            server.keep_alive, server.keep_alive_initial_delay, server.high_water_mark) == (
        True, True, True, True, 2.5, 1024)


@pytest.mark.parametrize(("name", "value", "code"), [
    ("high_water_mark", -1, "ERR_INVALID_ARG_VALUE"),
    ("high_water_mark", "x", "ERR_INVALID_ARG_TYPE"),
    ("keep_alive_initial_delay", "x", "ERR_INVALID_ARG_TYPE"),
])
def test_bad_values_are_refused(name: str, value: Any, code: str) -> None:
    server = net.Server()
    with pytest.raises((TypeError, ValueError)) as info:
        setattr(server, name, value)
    assert info.value.code == code  # type: ignore[union-attr]


async def _half_open_round(server: Any, connect: Any) -> bytes:
    """``server`` (not listening yet) gets ``allow_half_open`` set after creation; a client
    ends; the server answers after that end; what the client received."""
    ended = asyncio.get_running_loop().create_future()

    loop = asyncio.get_running_loop()

    def on_conn(sock: Any) -> None:
        def answer() -> None:
            # Two loop turns after 'end' (Node: a later tick): a socket that is not half-open
            # has ended its side by now; a half-open one is still writable
            ended.set_result(sock.writable)
            if sock.writable:
                sock.end(b"bye")
        sock.on("end", lambda: loop.call_soon(loop.call_soon, answer))
        sock.resume()

    server.on("secureConnection" if isinstance(server, tls.Server) else "connection", on_conn)
    server.allow_half_open = True
    server.listen(0, "127.0.0.1")
    try:
        await asyncio.wait_for(server, TIMEOUT)
        sock = await asyncio.wait_for(connect(server.address()["port"]), TIMEOUT)
        chunks: list[bytes] = []
        sock.on("data", chunks.append)
        sock.end()
        assert await wait(ended) is True
        await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
        return b"".join(chunks)
    finally:
        close_server(server)


async def test_net_allow_half_open_set_later_applies_to_new_connections() -> None:
    got = await _half_open_round(net.create_server(),
                                 lambda port: net.connect(port, "127.0.0.1"))
    assert got == b"bye"


async def test_tls_allow_half_open_set_later_applies_to_new_connections(certs: Any) -> None:
    got = await _half_open_round(tls.create_server(certs.server.options),
                                 lambda port: tls.connect(port, "127.0.0.1", client_opts(certs)))
    assert got == b"bye"


async def test_tls_pause_on_connect_set_later(certs: Any) -> None:
    # server.pause_on_connect = True: the secure socket starts paused (no 'data' until resume)
    got: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    server, port = await listen(certs.server.options,
                                lambda s: got.set_result((s.is_paused(), s)))
    server.pause_on_connect = True
    sockets: list[Any] = []
    try:
        client = tls.connect(port, "127.0.0.1", client_opts(certs))
        sockets.append(client)
        await wait(client)
        paused, sock = await wait(got)
        sockets.append(sock)
        assert paused is True
    finally:
        # (the server's socket too: paused, it never reads the client's close -- as Node's,
        # whose paused handle does not read -- and would stay open past the test)
        for s in sockets:
            s.destroy()
        await wait(asyncio.gather(*(s.wait_closed() for s in sockets)))
        close_server(server)

