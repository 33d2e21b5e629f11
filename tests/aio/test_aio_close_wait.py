"""``transport.close()`` waits for the peer's close_notify, as asyncio's and uvloop's SSL
transports do (``asyncio.sslproto``: ``_start_shutdown`` -> ``_do_shutdown``), against a real
peer in another process: a blocking ``ssl`` server that reports the close_notify it reads and
then does what the test tells it (answer with its own, send a TCP FIN or a RST, write data
first, or nothing).

Every scenario runs on nodetls.aio and on asyncio's own SSL transport (``asyncio-ssl``), on the
asyncio loop and on uvloop, with the same expectations: what the references do is what is
asserted. Where asyncio and uvloop disagree, the expectation names the one nodetls follows.
"""

from __future__ import annotations

import asyncio
import ssl
import sys
from typing import Any

import pytest

from .diff.runner import exc_name

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop is a dependency where it exists
    uvloop = None

T = 10.0  # bound of every wait

PEER = r"""
import socket, ssl, struct, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
ls = socket.create_server(("127.0.0.1", 0))
print("PORT", ls.getsockname()[1], flush=True)
raw, _ = ls.accept()
s = ctx.wrap_socket(raw, server_side=True)
if sys.argv[3:] == ["first"]:  # the peer closes first: its close_notify, then our answer
    s.unwrap()
    print("UNWRAPPED", flush=True)
    sys.exit()
data = s.recv(100)
print("CLOSE_NOTIFY" if data == b"" else "DATA", flush=True)
for line in sys.stdin:
    cmd = line.strip()
    if cmd == "answer":
        s.unwrap()
    elif cmd == "fin":
        s.shutdown(socket.SHUT_WR)
    elif cmd == "rst":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    elif cmd == "write":
        s.sendall(b"late")
    print("DONE", cmd, flush=True)
"""


class Recorder(asyncio.Protocol):
    def __init__(self, eof_raises: bool = False) -> None:
        self.events: list[str] = []
        self.lost: asyncio.Future[BaseException | None] = \
            asyncio.get_running_loop().create_future()
        self.eof_raises = eof_raises

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.events.append(f"data {data!r}")

    def eof_received(self) -> Any:
        self.events.append(f"eof closing={self.transport.is_closing()}")
        if self.eof_raises:
            raise ValueError("eof_received")
        return True  # (no effect while closing: asyncio warns, nodetls closes as well)

    def connection_lost(self, exc: BaseException | None) -> None:
        self.events.append(f"lost {exc_name(exc)}")  # (its builtin class; SSLError: TLSError)
        self.lost.set_result(exc)


class HopRecorder(Recorder):
    """A Recorder whose eof_received() schedules a callback two loop iterations ahead (a
    call_soon that makes a call_soon, as a coroutine that yields once after seeing the
    transport closing: ``StreamWriter.drain()``'s ``sleep(0)``) and returns None."""

    def eof_received(self) -> Any:
        self.events.append(f"eof closing={self.transport.is_closing()}")
        loop = asyncio.get_running_loop()
        loop.call_soon(loop.call_soon, self.events.append, "two iterations later")
        return None


async def _connect(impl: str, certs: Any, port: int, timeout: float | None,
                   proto: Recorder) -> Any:
    kw = {} if timeout is None else {"ssl_shutdown_timeout": timeout}
    if impl == "asyncio-ssl":
        ctx = ssl.create_default_context(cadata=certs.server.ca_pem.decode())
        transport, _ = await asyncio.get_running_loop().create_connection(
            lambda: proto, "127.0.0.1", port, ssl=ctx, server_hostname="localhost", **kw)
    else:
        from nodetls import aio
        transport, _ = await aio.create_connection(
            lambda: proto, "127.0.0.1", port, ca=certs.server.ca_pem, servername="localhost",
            **kw)
    return transport


async def _scenario(impl: str, certs: Any, cmds: list[str], *, timeout: float | None = None,
                    abort: bool = False, eof_raises: bool = False, hops: bool = False,
                    ) -> tuple[list[str], BaseException | None, float, list[str]]:
    """Connect to the peer, close(), wait until the peer read the close_notify, check that
    the connection is still waiting, then send the peer ``cmds`` (or ``abort()``). Returns
    the protocol's events, connection_lost's argument, the seconds from close() to it, and
    what the loop's exception handler got."""
    loop = asyncio.get_running_loop()
    handled: list[str] = []
    loop.set_exception_handler(lambda _l, ctx: handled.append(ctx["message"]))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", PEER, str(certs.server.chain_path), str(certs.server.key_path),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        port = int((await asyncio.wait_for(proc.stdout.readline(), T)).split()[1])
        proto = HopRecorder() if hops else Recorder(eof_raises)
        transport = await _connect(impl, certs, port, timeout, proto)
        transport.close()
        start = loop.time()
        # while waiting: closing, writes ignored, nothing buffered
        assert transport.is_closing()
        transport.write(b"ignored")
        assert transport.get_write_buffer_size() == 0
        assert await asyncio.wait_for(proc.stdout.readline(), T) == b"CLOSE_NOTIFY\n"
        assert not proto.lost.done(), proto.events  # the peer has not answered: still open
        assert proto.events == []
        if abort:
            transport.abort()
        for cmd in cmds:
            proc.stdin.write(cmd.encode() + b"\n")
            await proc.stdin.drain()
            if cmd != "rst":  # (the peer's socket gone: its next read may fail first)
                assert await asyncio.wait_for(proc.stdout.readline(), T) == \
                    f"DONE {cmd}\n".encode()
        exc = await asyncio.wait_for(proto.lost, T)
        elapsed = loop.time() - start
        await asyncio.sleep(0)
        return proto.events, exc, elapsed, handled
    finally:
        proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), T)
        except TimeoutError:  # pragma: no cover - the peer hangs
            proc.kill()
            await proc.wait()


IMPLS = ["nodetls", "asyncio-ssl"]
LOOPS = ["asyncio", "uvloop"]


def _run(loop: str, coro: Any) -> Any:
    if loop == "uvloop":
        if uvloop is None:  # pragma: no cover
            pytest.skip("uvloop is not installed")
        factory = uvloop.new_event_loop
    else:
        factory = asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coro)


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("impl", IMPLS)
def test_the_peers_close_notify_ends_the_wait(impl: str, loop: str, certs: Any) -> None:
    """The peer answers: eof_received() (the transport closing; its return value has no
    effect), then connection_lost(None)."""
    events, exc, _, handled = _run(loop, _scenario(impl, certs, ["answer"]))
    assert events == ["eof closing=True", "lost None"] and exc is None and handled == []


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("impl", IMPLS)
def test_a_fin_without_close_notify_ends_the_wait(impl: str, loop: str, certs: Any) -> None:
    """The peer closes TCP without answering: connection_lost(None) at once; asyncio calls
    eof_received() first (nodetls follows it), uvloop does not."""
    events, exc, _, _ = _run(loop, _scenario(impl, certs, ["fin"]))
    expected = ["lost None"] if (impl, loop) == ("asyncio-ssl", "uvloop") else \
        ["eof closing=True", "lost None"]
    assert events == expected and exc is None


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("impl", IMPLS)
def test_a_reset_ends_the_wait(impl: str, loop: str, certs: Any) -> None:
    events, exc, _, _ = _run(loop, _scenario(impl, certs, ["rst"]))
    assert events == ["lost ConnectionResetError"]
    assert isinstance(exc, ConnectionResetError)


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("impl", IMPLS)
def test_a_silent_peer_times_out(impl: str, loop: str, certs: Any) -> None:
    """No answer: ``ssl_shutdown_timeout`` later, connection_lost(TimeoutError)."""
    events, exc, elapsed, handled = _run(loop, _scenario(impl, certs, [], timeout=0.3))
    assert events == ["lost TimeoutError"] and handled == []
    assert isinstance(exc, TimeoutError) and str(exc) == "SSL shutdown timed out"
    assert 0.29 <= elapsed < 5


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("impl", IMPLS)
def test_abort_ends_the_wait(impl: str, loop: str, certs: Any) -> None:
    events, exc, elapsed, _ = _run(loop, _scenario(impl, certs, [], abort=True))
    assert events == ["lost None"] and exc is None and elapsed < 5


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("impl", IMPLS)
def test_data_after_the_close_notify(impl: str, loop: str, certs: Any) -> None:
    """The peer writes before answering: uvloop drops the data and waits on (nodetls follows
    it); asyncio fails the connection (APPLICATION_DATA_AFTER_CLOSE_NOTIFY)."""
    events, exc, _, _ = _run(loop, _scenario(impl, certs, ["write", "answer"]))
    if (impl, loop) == ("asyncio-ssl", "asyncio"):
        assert events == ["lost TLSError"] and isinstance(exc, ssl.SSLError)
    else:
        assert events == ["eof closing=True", "lost None"] and exc is None


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("impl", IMPLS)
def test_eof_received_raising_while_closing(impl: str, loop: str, certs: Any) -> None:
    """eof_received() raising at the end of the wait: reported, connection_lost(exc)."""
    events, exc, _, handled = _run(loop, _scenario(impl, certs, ["answer"], eof_raises=True))
    assert events == ["eof closing=True", "lost ValueError"]
    assert isinstance(exc, ValueError) and handled == ["Error calling eof_received()"]


async def _peer_closes_first(impl: str, certs: Any) -> list[str]:
    """The peer sends its close_notify first (and waits for ours): the protocol's events."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", PEER, str(certs.server.chain_path), str(certs.server.key_path),
        "first", stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    try:
        port = int((await asyncio.wait_for(proc.stdout.readline(), T)).split()[1])
        proto = HopRecorder()
        await _connect(impl, certs, port, None, proto)
        await asyncio.wait_for(proto.lost, T)
        assert await asyncio.wait_for(proc.stdout.readline(), T) == b"UNWRAPPED\n"
        await asyncio.sleep(0)
        return proto.events
    finally:
        try:
            await asyncio.wait_for(proc.wait(), T)
        except TimeoutError:  # pragma: no cover - the peer hangs
            proc.kill()
            await proc.wait()


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("impl", IMPLS)
def test_connection_lost_two_iterations_after_the_peers_close_notify(
        impl: str, loop: str, certs: Any) -> None:
    """After the peer's close_notify (the peer closing first, or answering our close()),
    connection_lost() comes two loop iterations after eof_received() or later: asyncio's SSL
    transport closes its TCP transport with call_soon, which calls connection_lost() through
    two more (uvloop's: the two). A coroutine that sees the transport closing and yields once
    (``StreamWriter.drain()``) runs before it: nodetls called it one iteration later."""
    first = _run(loop, _peer_closes_first(impl, certs))
    assert first == ["eof closing=False", "two iterations later", "lost None"]
    events, exc, _, _ = _run(loop, _scenario(impl, certs, ["answer"], hops=True))
    assert events == ["eof closing=True", "two iterations later", "lost None"] and exc is None


def test_shutdown_timeout_is_checked() -> None:
    """``ssl_shutdown_timeout`` as asyncio checks it: a positive number."""
    from nodetls import aio

    async def main() -> None:
        for bad, err in ((0, ValueError), (-1.0, ValueError), ("1", TypeError)):
            with pytest.raises(err):
                await aio.create_connection(asyncio.Protocol, "127.0.0.1", 1,
                                            ssl_shutdown_timeout=bad)
            with pytest.raises(err):
                await aio.create_server(asyncio.Protocol, "127.0.0.1", 0,
                                        ssl_shutdown_timeout=bad)
    asyncio.run(main())
