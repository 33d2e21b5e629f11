"""A socket's ``'data'`` event on the data path (``net.Socket._on_handle_read``'s flowing case,
which emits without ``emit``'s ``*args``): a TLS client's routed reads and a plain TCP socket, on
asyncio and on uvloop. A class that overrides ``emit`` sees ``'data'`` as it sees every other
event (Node's streams call ``this.emit``); a listener that takes no argument, an ``async``
listener and a listener that raises behave as with ``emit``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tlsutil import TIMEOUT, echo_server

import nodetls as tls
from nodetls import net

LOOPS = ["asyncio", "uvloop"]
KINDS = ["tls", "tcp"]


def _run(loop: str, main: Any) -> Any:
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    return tls.run(main, loop=loop)


class _Seen:
    """What an emit() override saw: (event, first argument) for every event."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []


class _SpyTLS(tls.TLSSocket):
    seen: _Seen

    def emit(self, event: str, *args: Any) -> bool:
        self.seen.events.append((event, args[0] if args else None))
        return super().emit(event, *args)


class _SpyNet(net.Socket):
    seen: _Seen

    def emit(self, event: str, *args: Any) -> bool:
        self.seen.events.append((event, args[0] if args else None))
        return super().emit(event, *args)


async def _tcp_echo() -> tuple[net.Server, int]:
    def on_conn(s: net.Socket) -> None:
        s.on("data", s.write)
        s.on("end", s.end)

    server = net.create_server(on_conn)
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, TIMEOUT)
    return server, server.address()["port"]


async def _open(certs: Any, kind: str, spy: bool = False) -> tuple[Any, Any]:
    """An echo server and a connected client socket (a spy class when ``spy``)."""
    if kind == "tls":
        server, port = await echo_server(certs.server.options)
        sock: Any = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                       "servername": "localhost"})
        if spy:  # before any data arrives: the client's own data path, with the class swapped
            sock.__class__ = _SpyTLS
        await asyncio.wait_for(sock, TIMEOUT)
        return server, sock
    server, port = await _tcp_echo()
    sock = _SpyNet() if spy else net.Socket()
    connected = asyncio.get_running_loop().create_future()
    sock.connect(port, "127.0.0.1", lambda: connected.set_result(None))
    await asyncio.wait_for(connected, TIMEOUT)
    return server, sock


async def _until(fut: asyncio.Future[Any]) -> Any:
    return await asyncio.wait_for(fut, TIMEOUT)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("loop", LOOPS)
def test_an_emit_override_sees_data_in_order(certs: Any, loop: str, kind: str) -> None:
    async def main() -> None:
        seen = _Seen()
        _SpyTLS.seen = _SpyNet.seen = seen
        server, sock = await _open(certs, kind, spy=True)
        got = asyncio.get_running_loop().create_future()
        chunks: list[bytes] = []

        def on_data(chunk: bytes) -> None:
            chunks.append(chunk)
            if b"".join(chunks) == b"ping" and not got.done():
                got.set_result(None)

        sock.on("data", on_data)
        sock.write(b"ping")
        try:
            await _until(got)
        finally:
            sock.destroy()
            server.close()
        data = [arg for ev, arg in seen.events if ev == "data"]
        assert b"".join(data) == b"ping" and data == chunks
        # 'data' went through the override as every other event did, in the order they came
        names = [ev for ev, _ in seen.events]
        if kind == "tls":
            assert names.index("secureConnect") < names.index("data")
        else:
            assert names.index("connect") < names.index("data")

    _run(loop, main)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("loop", LOOPS)
def test_data_listeners_without_argument_async_and_in_order(certs: Any, loop: str,
                                                           kind: str) -> None:
    async def main() -> None:
        server, sock = await _open(certs, kind)
        aloop = asyncio.get_running_loop()
        calls: list[str] = []
        async_done = aloop.create_future()

        def no_arg() -> None:  # JavaScript-style: fewer parameters than the event's arguments
            calls.append("no_arg")

        async def later(chunk: bytes) -> None:
            await asyncio.sleep(0)
            calls.append("async")
            if not async_done.done():
                async_done.set_result(chunk)

        sock.on("data", no_arg)
        sock.on("data", later)
        sock.on("data", lambda chunk: calls.append("last"))
        sock.write(b"x")
        try:
            assert await _until(async_done) == b"x"
        finally:
            sock.destroy()
            server.close()
        assert calls[:3] == ["no_arg", "last", "async"]

    _run(loop, main)


@pytest.mark.parametrize("error", [ValueError, TypeError])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("loop", LOOPS)
def test_a_data_listener_that_raises_destroys_the_socket_with_its_error(
        certs: Any, loop: str, kind: str, error: type[Exception]) -> None:
    async def main() -> None:
        server, sock = await _open(certs, kind)
        aloop = asyncio.get_running_loop()
        errors: list[BaseException] = []
        closed = aloop.create_future()
        after: list[bytes] = []
        boom = error("raised inside the listener")  # (a TypeError too: not an arity problem)

        def bad(chunk: bytes) -> None:
            raise boom

        sock.on("data", bad)
        sock.on("data", after.append)
        sock.on("error", errors.append)
        sock.on("close", lambda had_error: closed.done() or closed.set_result(had_error))
        sock.write(b"y")
        try:
            assert await _until(closed) is True
        finally:
            server.close()
        # the failure destroys the socket with it; the next listener still ran, once
        assert errors == [boom] and after == [b"y"] and sock.destroyed

    _run(loop, main)


class _SpyServer(tls.Server):
    seen: _Seen

    def emit(self, event: str, *args: Any) -> bool:
        self.seen.events.append((event, args[0] if args else None))
        return super().emit(event, *args)


@pytest.mark.parametrize("loop", LOOPS)
def test_a_server_emit_override_sees_secure_connection(certs: Any, loop: str) -> None:
    """The server's ``'secureConnection'`` (emitted without ``*args`` on the accept path) goes
    through a subclass's ``emit``, with the socket, before its listener runs."""

    async def main() -> None:
        seen = _Seen()
        _SpyServer.seen = seen
        order: list[str] = []
        got = asyncio.get_running_loop().create_future()

        def on_secure(sock: tls.TLSSocket) -> None:
            order.append("listener")
            sock.end()
            if not got.done():
                got.set_result(sock)

        server = _SpyServer(certs.server.options, on_secure)
        server.listen(0, "127.0.0.1")
        await asyncio.wait_for(server, TIMEOUT)
        client = tls.connect(server.address()["port"], {"host": "127.0.0.1",
                                                        "ca": certs.root.cert_pem,
                                                        "servername": "localhost"})
        client.on("error", lambda err: None)
        try:
            accepted = await _until(got)
        finally:
            client.destroy()
            server.close()
        secure = [arg for ev, arg in seen.events if ev == "secureConnection"]
        assert secure == [accepted] and order == ["listener"]

    _run(loop, main)


@pytest.mark.parametrize("shape", ["no_arg", "async", "raises"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("loop", LOOPS)
def test_a_sole_data_listener_behaves_as_with_emit(certs: Any, loop: str, kind: str,
                                                   shape: str) -> None:
    """The usual case, one ``'data'`` listener: called with the chunk, or without an argument
    when it takes none; an ``async`` one is scheduled; one that raises destroys the socket with
    its error."""
    async def main() -> None:
        server, sock = await _open(certs, kind)
        aloop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = aloop.create_future()
        calls: list[Any] = []
        errors: list[BaseException] = []
        boom = ValueError("raised by the sole listener")

        def no_arg() -> None:
            calls.append("called")
            if not done.done():
                done.set_result(None)

        async def later(chunk: bytes) -> None:
            await asyncio.sleep(0)
            calls.append(chunk)
            if not done.done():
                done.set_result(None)

        def raises(chunk: bytes) -> None:
            calls.append(chunk)
            raise boom

        sock.on("data", {"no_arg": no_arg, "async": later, "raises": raises}[shape])
        sock.on("error", errors.append)
        if shape == "raises":
            sock.on("close", lambda had_error: done.done() or done.set_result(had_error))
        sock.write(b"z")
        try:
            result = await _until(done)
        finally:
            sock.destroy()
            server.close()
        if shape == "no_arg":
            assert calls == ["called"] and errors == []
        elif shape == "async":
            assert calls == [b"z"] and errors == []
        else:
            assert result is True and calls == [b"z"] and errors == [boom]

    _run(loop, main)
