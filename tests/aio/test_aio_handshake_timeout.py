"""``ssl_handshake_timeout``, as asyncio's ``create_connection``/``open_connection``/
``create_server``/``start_server`` take it, against real peers in another process that never
speak TLS: a TCP server that accepts and never answers the ClientHello, a TCP client that
connects and never sends one. Every scenario runs on nodetls.aio and on asyncio's own SSL
transport (``asyncio-ssl``), on the asyncio loop and on uvloop, with the same expectations.

asyncio (``sslproto.SSLProtocol``) and uvloop, checked with scratch script ref_client.py and
ref_server.py: the client's ``create_connection``/``open_connection`` raise
``ConnectionAbortedError('SSL handshake is taking longer than 0.3 seconds: aborting the
connection')`` after the timeout, ``connection_made`` never runs, and the peer, which got the
ClientHello, sees a FIN; the server drops the connection (the peer sees a FIN), never calls
``connection_made``, reports nothing to the loop's exception handler (outside debug mode) and
keeps serving. (Their protocol factory runs at the accept, nodetls's once the handshake is done:
docs/aio.md.)
"""

from __future__ import annotations

import asyncio
import math
import socket
import ssl
import sys
from typing import Any

import pytest

from nodetls import aio
from nodetls.aio import _timeouts

from .test_aio_close_wait import IMPLS, LOOPS, _run

T = 10.0  # bound of every wait
SHORT = 0.3  # the handshake timeout under test

# A TCP server that accepts one connection and never speaks: prints its port, then what it
# got before the other side closed ("EOF <bytes>", "RST <bytes>"), or "SILENT" after 10 s.
SILENT_SERVER = r"""
import socket
ls = socket.create_server(("127.0.0.1", 0))
print(ls.getsockname()[1], flush=True)
ls.settimeout(10)
c, _ = ls.accept()
c.settimeout(10)
got = 0
try:
    while d := c.recv(65536):
        got += len(d)
    print("EOF", got, flush=True)
except ConnectionResetError:
    print("RST", got, flush=True)
except TimeoutError:
    print("SILENT", got, flush=True)
"""

# A TCP client that connects to argv[1] and never sends: prints "CONNECTED", then what it got
# before the server closed, as SILENT_SERVER.
SILENT_CLIENT = SILENT_SERVER.replace(
    """ls = socket.create_server(("127.0.0.1", 0))
print(ls.getsockname()[1], flush=True)
ls.settimeout(10)
c, _ = ls.accept()
""", """import sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("CONNECTED", flush=True)
""")


class Recorder(asyncio.Protocol):
    def __init__(self, events: list[str]) -> None:
        self.events = events

    def connection_made(self, transport: Any) -> None:
        self.events.append("made")

    def connection_lost(self, exc: BaseException | None) -> None:
        self.events.append("lost")


async def _peer(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", *args, stdout=asyncio.subprocess.PIPE)


async def _line(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None
    return (await asyncio.wait_for(proc.stdout.readline(), T)).decode().strip()


async def _reap(proc: asyncio.subprocess.Process) -> None:
    try:
        await asyncio.wait_for(proc.wait(), T)
    except TimeoutError:  # pragma: no cover - the peer hangs
        proc.kill()
        await proc.wait()


async def _client(impl: str, form: str, port: int, events: list[str], **kw: Any) -> Any:
    loop = asyncio.get_running_loop()
    if impl == "asyncio-ssl":
        tls: dict[str, Any] = {"ssl": ssl.create_default_context(),
                               "server_hostname": "localhost"}
    else:
        tls = {"servername": "localhost"}
    if form == "sock":  # a connected socket: the timeout starts at once
        sock = socket.create_connection(("127.0.0.1", port))
        if impl == "asyncio-ssl":
            return await loop.create_connection(lambda: Recorder(events), sock=sock, **tls, **kw)
        return await aio.create_connection(lambda: Recorder(events), sock=sock, **tls, **kw)
    if form == "protocol":
        if impl == "asyncio-ssl":
            return await loop.create_connection(lambda: Recorder(events), "127.0.0.1", port,
                                                **tls, **kw)
        return await aio.create_connection(lambda: Recorder(events), "127.0.0.1", port,
                                           **tls, **kw)
    opener = asyncio.open_connection if impl == "asyncio-ssl" else aio.open_connection
    return await opener("127.0.0.1", port, **tls, **kw)


async def _client_scenario(impl: str, form: str, **kw: Any) -> tuple[BaseException, float,
                                                                         list[str], str]:
    """Connect to a server that never answers; returns what the connect raised, after how
    long, the protocol's calls, and what the server saw."""
    loop = asyncio.get_running_loop()
    proc = await _peer(SILENT_SERVER)
    try:
        port = int(await _line(proc))
        events: list[str] = []
        start = loop.time()
        with pytest.raises(BaseException) as info:
            await asyncio.wait_for(_client(impl, form, port, events, **kw), T)
        elapsed = loop.time() - start
        return info.value, elapsed, events, await _line(proc)
    finally:
        await _reap(proc)


@pytest.mark.parametrize("form", ["protocol", "stream", "sock"])
@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("impl", IMPLS)
def test_client_gives_up_on_a_server_that_never_answers(impl: str, loop: str,
                                                        form: str) -> None:
    exc, elapsed, events, seen = _run(loop, _client_scenario(
        impl, form, ssl_handshake_timeout=SHORT))
    assert type(exc) is ConnectionAbortedError, repr(exc)
    assert str(exc) == ("SSL handshake is taking longer than 0.3 seconds: "
                        "aborting the connection")
    assert elapsed >= SHORT - 0.05
    assert events == []  # no connection_made (and so no connection_lost)
    kind, got = seen.split()
    assert kind == "EOF" and int(got) > 0  # the ClientHello, then a FIN


@pytest.mark.parametrize("loop", LOOPS)
def test_client_default_is_asyncios(loop: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``ssl_handshake_timeout``: asyncio's default (60 s) applies to the client too (here
    made short, to be seen)."""
    assert _timeouts.HANDSHAKE_TIMEOUT == asyncio.constants.SSL_HANDSHAKE_TIMEOUT
    monkeypatch.setattr(_timeouts, "HANDSHAKE_TIMEOUT", SHORT)
    exc, _, events, seen = _run(loop, _client_scenario("nodetls", "protocol"))
    assert type(exc) is ConnectionAbortedError and "0.3 seconds" in str(exc)
    assert events == [] and seen.startswith("EOF ")


async def _server(impl: str, form: str, certs: Any, events: list[str], **kw: Any) -> Any:
    loop = asyncio.get_running_loop()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        events.append("made")
        writer.close()

    if impl == "asyncio-ssl":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(certs.server.chain_path), str(certs.server.key_path))
        if form == "protocol":
            return await loop.create_server(lambda: Recorder(events), "127.0.0.1", 0, ssl=ctx,
                                            **kw)
        return await asyncio.start_server(handler, "127.0.0.1", 0, ssl=ctx, **kw)
    opts = dict(certs.server.options)
    if form == "protocol":
        return await aio.create_server(lambda: Recorder(events), "127.0.0.1", 0, **opts, **kw)
    return await aio.start_server(handler, "127.0.0.1", 0, **opts, **kw)


async def _server_scenario(impl: str, form: str, certs: Any, **kw: Any
                           ) -> tuple[str, list[str], list[str]]:
    """A client that connects and never sends its ClientHello; returns what it saw, the
    protocol's calls (until then) and what the loop's exception handler got; then checks that
    the server still serves (a handshake)."""
    loop = asyncio.get_running_loop()
    handled: list[str] = []
    loop.set_exception_handler(lambda _l, ctx: handled.append(ctx["message"]))
    events: list[str] = []
    server = await _server(impl, form, certs, events, **kw)
    try:
        port = server.sockets[0].getsockname()[1]
        proc = await _peer(SILENT_CLIENT, str(port))
        try:
            assert await _line(proc) == "CONNECTED"
            seen = await _line(proc)
        finally:
            await _reap(proc)
        await asyncio.sleep(0)
        dropped = list(events)
        # still serving: a real handshake
        ctx = ssl.create_default_context(cadata=certs.server.ca_pem.decode())
        _, writer = await asyncio.wait_for(asyncio.open_connection(
            "127.0.0.1", port, ssl=ctx, server_hostname="localhost"), T)
        writer.close()
        return seen, dropped, handled
    finally:
        server.close()
        await asyncio.wait_for(server.wait_closed(), T)


@pytest.mark.parametrize("form", ["protocol", "stream"])
@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("impl", IMPLS)
def test_server_drops_a_client_that_never_sends_its_hello(impl: str, loop: str, form: str,
                                                          certs: Any) -> None:
    seen, events, handled = _run(loop, _server_scenario(
        impl, form, certs, ssl_handshake_timeout=SHORT))
    assert seen == "EOF 0"  # a FIN, nothing sent
    assert events == []  # no connection_made, no connection_lost
    assert handled == []  # nothing reported (asyncio's report is its debug mode's)


@pytest.mark.parametrize("loop", LOOPS)
def test_server_timeout_is_the_tls_servers(loop: str, certs: Any) -> None:
    """nodetls: the drop is the ``tls.Server``'s handshake timeout ('tlsClientError',
    ``ERR_TLS_HANDSHAKE_TIMEOUT``); Node's own ``handshake_timeout`` option does the same."""
    async def main(**kw: Any) -> list[str]:
        server = await aio.create_server(asyncio.Protocol, "127.0.0.1", 0,
                                         **certs.server.options, **kw)
        errors: list[str] = []
        server.tls_server.on("tlsClientError", lambda err, _s: errors.append(err.code))
        try:
            proc = await _peer(SILENT_CLIENT, str(server.sockets[0].getsockname()[1]))
            try:
                assert await _line(proc) == "CONNECTED"
                assert await _line(proc) == "EOF 0"
            finally:
                await _reap(proc)
        finally:
            server.close()
            await asyncio.wait_for(server.wait_closed(), T)
        return errors
    assert _run(loop, main(ssl_handshake_timeout=SHORT)) == ["ERR_TLS_HANDSHAKE_TIMEOUT"]
    assert _run(loop, main(handshake_timeout=SHORT)) == ["ERR_TLS_HANDSHAKE_TIMEOUT"]


def test_server_default_is_asyncios(certs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``ssl_handshake_timeout`` (nor Node's ``handshake_timeout``): asyncio's 60 s, not
    Node's 120 s (here made short, to be seen)."""
    monkeypatch.setattr(_timeouts, "HANDSHAKE_TIMEOUT", SHORT)
    seen, events, handled = _run("asyncio", _server_scenario("nodetls", "protocol", certs))
    assert seen == "EOF 0" and events == [] and handled == []


BAD = [(0, ValueError), (-1, ValueError), (0.0, ValueError), (-0.5, ValueError),
       (math.nan, ValueError), ("5", TypeError), (True, TypeError), (False, TypeError)]


def _asyncio_message(value: Any) -> str:
    """asyncio's own message for a value it refuses (its SSLProtocol's check)."""
    loop = asyncio.new_event_loop()
    try:
        asyncio.sslproto.SSLProtocol(loop, asyncio.Protocol(), ssl.create_default_context(),
                                     None, ssl_handshake_timeout=value)
    except ValueError as exc:
        return str(exc)
    finally:
        loop.close()
    raise AssertionError(f"asyncio took {value!r}")


@pytest.mark.parametrize(("value", "error"), BAD, ids=[repr(v) for v, _ in BAD])
def test_bad_values_are_refused_at_the_call(value: Any, error: type[Exception]) -> None:
    """Checked when called, before connecting (as uvloop's clients; asyncio's check runs once
    connected, its server's at each connection): a positive number of seconds, else asyncio's
    ``ValueError``; a string (asyncio: ``TypeError`` from its comparison), a bool or NaN
    (which asyncio takes for one second, a timeout already passed) are refused."""
    async def main() -> None:
        kw = {"ssl_handshake_timeout": value}
        calls = [  # (port 1: nothing listens; asyncio would raise ConnectionRefusedError)
            lambda: aio.create_connection(asyncio.Protocol, "127.0.0.1", 1, **kw),
            lambda: aio.open_connection("127.0.0.1", 1, **kw),
            lambda: aio.create_server(asyncio.Protocol, "127.0.0.1", 0, **kw),
            lambda: aio.start_server(lambda r, w: None, "127.0.0.1", 0, **kw),
        ]
        for call in calls:
            with pytest.raises(error) as info:
                await call()
            if error is TypeError:
                assert str(info.value) == \
                    f"ssl_handshake_timeout must be a number, got {type(value).__name__}"
            elif value == value:  # (asyncio takes NaN)
                assert str(info.value) == _asyncio_message(value)
            else:
                assert str(info.value) == "ssl_handshake_timeout should be a positive number, " \
                    "got nan"
    asyncio.run(main())


def test_both_timeouts_are_refused() -> None:
    async def main() -> None:
        with pytest.raises(ValueError, match="ssl_handshake_timeout and handshake_timeout"):
            await aio.create_server(asyncio.Protocol, "127.0.0.1", 0, handshake_timeout=5,
                                    ssl_handshake_timeout=5)
    asyncio.run(main())


@pytest.mark.parametrize("loop", LOOPS)
def test_infinity_is_no_timeout(loop: str, certs: Any) -> None:
    """``inf`` (asyncio takes it: a timer that never fires): no handshake timeout, client or
    server; the connections work."""
    async def main() -> bytes:
        async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(await reader.readexactly(2))
            await writer.drain()
            writer.close()

        server = await aio.start_server(echo, "127.0.0.1", 0, **certs.server.options,
                                        ssl_handshake_timeout=math.inf)
        try:
            reader, writer = await asyncio.wait_for(aio.open_connection(
                "127.0.0.1", server.sockets[0].getsockname()[1], ca=certs.server.ca_pem,
                servername="localhost", ssl_handshake_timeout=math.inf), T)
            writer.write(b"hi")
            got = await asyncio.wait_for(reader.readexactly(2), T)
            writer.close()
            await asyncio.wait_for(writer.wait_closed(), T)
            return got
        finally:
            server.close()
            server.close_clients()
            await asyncio.wait_for(server.wait_closed(), T)
    assert _run(loop, main()) == b"hi"
