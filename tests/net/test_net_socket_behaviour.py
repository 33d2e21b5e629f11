"""net.Socket / net.Server behaviour: half-open, flow control, limits, timeouts, errors, the
handle seam."""

from __future__ import annotations

import asyncio
import errno
from typing import Any

import pytest

from nodetls import net
from nodetls import run as tls_run
from nodetls._net.duplex_handle import DuplexHandle
from nodetls._net.handle import _OPEN, TCPHandle
from nodetls.stream import duplex_pair

from .netutil import TIMEOUT, close_server, event, read_all


async def server_and_client(
    server_opts: dict[str, Any] | None = None, client_opts: dict[str, Any] | None = None
) -> tuple[net.Server, net.Socket, net.Socket]:
    server = net.create_server(server_opts or {})
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    accepted = asyncio.ensure_future(event(server, "connection"))
    client = net.connect({"port": server.address()["port"], "host": "127.0.0.1",
                          **(client_opts or {})})
    await asyncio.wait_for(client, TIMEOUT)
    (sock,) = await accepted
    return server, client, sock


async def until(predicate: Any, timeout: float = TIMEOUT) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)


# -- events, addresses, counters ---------------------------------------------------------------


async def test_connect_ready_order_and_addresses() -> None:
    server = net.create_server()
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    port = server.address()["port"]
    accepted = asyncio.ensure_future(event(server, "connection"))
    client = net.connect(port, "127.0.0.1")
    log: list[str] = []
    client.on("connect", lambda: log.append(f"connect:{client.ready_state}"))
    client.on("ready", lambda: log.append("ready"))
    assert await asyncio.wait_for(client, TIMEOUT) is client
    (sock,) = await accepted
    assert log == ["connect:open", "ready"]
    assert client.remote_address == "127.0.0.1" and client.remote_port == port
    assert client.remote_family == "IPv4" and client.local_family == "IPv4"
    assert sock.local_port == port and sock.remote_port == client.local_port
    assert client.address() == {"address": "127.0.0.1", "family": "IPv4",
                                "port": client.local_port}
    assert sock.server is server and not client.pending and not client.connecting
    client.destroy()
    sock.destroy()
    await close_server(server)


async def test_bytes_read_and_written() -> None:
    server, client, sock = await server_and_client()
    client.write(b"12345")
    client.write("é")  # str is utf-8 encoded: 2 bytes
    got = bytearray()
    sock.on("data", got.extend)
    await until(lambda: len(got) == 7)
    assert client.bytes_written == 7 and sock.bytes_read == 7
    assert client.bytes_read == 0
    client.destroy()
    sock.destroy()
    await close_server(server)


async def test_destroy_with_error_emits_error_then_close_true() -> None:
    server, client, sock = await server_and_client()
    log: list[Any] = []
    client.on("error", lambda e: log.append(("error", e)))
    client.on("close", lambda had_error: log.append(("close", had_error)))
    peer_close = asyncio.ensure_future(event(sock, "close"))
    err = RuntimeError("application failure")
    client.destroy(err)
    assert client.destroyed and log == []
    await asyncio.wait_for(client.wait_closed(), TIMEOUT)
    assert log == [("error", err), ("close", True)]
    # the peer sees the connection end without error
    (had_error,) = await peer_close
    assert had_error is False
    await close_server(server)


async def test_peer_reset_is_econnreset() -> None:
    server, client, sock = await server_and_client()
    errors: list[Any] = []
    sock.on("error", errors.append)
    closes: list[bool] = []
    sock.on("close", closes.append)
    sock.resume()
    client.reset_and_destroy()
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    if errors:  # a RST may arrive as ECONNRESET or, on some stacks, as a plain EOF
        assert closes == [True] and errors[0].code == "ECONNRESET"
        assert isinstance(errors[0], ConnectionResetError)
        assert str(errors[0]) == "read ECONNRESET" and errors[0].syscall == "read"
    await close_server(server)


# -- half-open ---------------------------------------------------------------------------------


async def test_allow_half_open_server_can_reply_after_client_end() -> None:
    server = net.create_server({"allowHalfOpen": True})

    def on_connection(sock: net.Socket) -> None:
        received = bytearray()
        sock.on("data", received.extend)

        def on_end() -> None:
            assert sock.ready_state == "writeOnly"
            sock.end(b"you said: " + bytes(received))

        sock.on("end", on_end)

    server.on("connection", on_connection)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    client = net.connect(server.address()["port"], "127.0.0.1")
    await asyncio.wait_for(client, TIMEOUT)
    client.end(b"question")
    assert client.ready_state == "readOnly"  # our side is ended, reading continues
    assert await read_all(client) == b"you said: question"
    await asyncio.wait_for(client.wait_closed(), TIMEOUT)
    await close_server(server)


async def test_without_half_open_the_peer_end_ends_our_side() -> None:
    server, client, sock = await server_and_client()  # both default: allow_half_open False
    assert not sock.allow_half_open
    log: list[str] = []
    sock.on("end", lambda: log.append("end"))
    sock.on("finish", lambda: log.append("finish"))
    sock.on("close", lambda h: log.append(f"close:{h}"))
    sock.resume()
    client.end()
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    assert log == ["end", "finish", "close:False"]
    # the client gets 'end' because the server ended its side automatically
    assert await read_all(client) == b""
    await asyncio.wait_for(client.wait_closed(), TIMEOUT)
    await close_server(server)


async def test_client_allow_half_open_keeps_writing_after_server_end() -> None:
    got = bytearray()
    done = asyncio.get_running_loop().create_future()
    server = net.create_server({"allow_half_open": True})

    def on_connection(sock: net.Socket) -> None:
        sock.on("data", got.extend)
        sock.on("end", lambda: done.set_result(bytes(got)))
        sock.end(b"server done")

    server.on("connection", on_connection)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    client = net.connect({"port": server.address()["port"], "host": "127.0.0.1",
                          "allow_half_open": True})
    assert await read_all(client) == b"server done"
    assert client.writable and client.ready_state == "writeOnly"
    client.write(b"still ")
    client.end(b"talking")
    assert await asyncio.wait_for(done, TIMEOUT) == b"still talking"
    await asyncio.wait_for(client.wait_closed(), TIMEOUT)
    await close_server(server)


async def test_write_after_peer_end_without_half_open_is_epipe() -> None:
    server, client, sock = await server_and_client()
    errors: list[Any] = []
    results: list[Any] = []
    client.on("error", errors.append)
    # after the peer's FIN our side was ended for us; a later write is Node's writeAfterFIN
    client.on("finish", lambda: results.append(client.write(b"too late")))
    client.resume()
    sock.end()
    await asyncio.wait_for(client.wait_closed(), TIMEOUT)
    assert results == [False]
    assert errors and errors[0].code == "EPIPE"
    assert str(errors[0]) == "This socket has been ended by the other party"
    await close_server(server)


# -- flow control ------------------------------------------------------------------------------


async def test_pause_stops_reading_from_the_transport_and_resume_restarts() -> None:
    server, client, sock = await server_and_client()
    received = bytearray()
    client.on("data", received.extend)
    client.pause()
    chunk = b"z" * 65536
    total = 0
    for _ in range(200):  # up to 12.5 MiB: kernel buffers fill, then the server's buffer grows
        sock.write(chunk)
        total += len(chunk)
        await asyncio.sleep(0)
        if sock._handle.get_write_buffer_size() > 1 << 20:
            break
    await asyncio.sleep(0.05)
    handle = client._handle
    assert handle is not None and handle.reading is False  # read_stop() happened
    assert client.readable_length >= client.readable_high_water_mark
    assert len(received) == 0
    backlog = sock._handle.get_write_buffer_size()
    assert backlog > 0, "the peer's write buffer did not grow while we were paused"
    assert sock.writable_need_drain  # write() returned False on the server side
    await asyncio.sleep(0.05)
    assert sock._handle.get_write_buffer_size() >= backlog  # nothing is being read
    client.resume()
    await until(lambda: len(received) == total, 10)
    assert handle.reading is True
    await asyncio.wait_for(sock.drain(), TIMEOUT)
    client.destroy()
    sock.destroy()
    await close_server(server)


async def test_write_backpressure_and_drain_event() -> None:
    server, client, sock = await server_and_client()
    sock.pause()
    drains: list[bool] = []
    client.on("drain", lambda: drains.append(True))
    writes = 0
    while client.write(b"x" * 65536):
        writes += 1
        assert writes < 1000
        await asyncio.sleep(0)
    assert client.writable_need_drain and not drains
    sock.resume()
    await asyncio.wait_for(client.drain(), TIMEOUT)
    assert drains == [True]
    client.destroy()
    sock.destroy()
    await close_server(server)


async def test_pause_on_connect_server_option() -> None:
    server, client, sock = await server_and_client({"pauseOnConnect": True})
    assert sock.is_paused() and sock._handle.reading is False
    client.write(b"waiting")
    await asyncio.sleep(0.02)
    assert sock.readable_length == 0  # nothing read from the transport
    got = bytearray()
    sock.on("data", got.extend)
    sock.resume()
    await until(lambda: bytes(got) == b"waiting")
    client.destroy()
    sock.destroy()
    await close_server(server)


# -- server limits and lifetime ----------------------------------------------------------------


async def test_max_connections_drops_with_info() -> None:
    server = net.create_server()
    server.max_connections = 1
    kept: list[net.Socket] = []
    server.on("connection", kept.append)
    drops: list[dict[str, Any]] = []
    server.on("drop", drops.append)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    port = server.address()["port"]
    first = net.connect(port, "127.0.0.1")
    await asyncio.wait_for(first, TIMEOUT)
    await until(lambda: len(kept) == 1)
    second = net.connect(port, "127.0.0.1")
    await asyncio.wait_for(second, TIMEOUT)
    assert await read_all(second) == b""  # closed by the server
    await until(lambda: len(drops) == 1)
    info = drops[0]
    assert info["local_port"] == port and info["localPort"] == port
    assert info["remote_port"] == second.local_port == info["remotePort"]
    assert info["remote_address"] == "127.0.0.1" and info["remote_family"] == "IPv4"
    assert server.connections == 1 and len(kept) == 1
    assert await asyncio.wait_for(server.get_connections(), TIMEOUT) == 1
    counts: list[Any] = []
    server.get_connections(lambda err, n: counts.append((err, n)))
    await asyncio.sleep(0)
    assert counts == [(None, 1)]
    first.destroy()
    kept[0].destroy()
    await close_server(server)


async def test_server_close_waits_for_open_connections() -> None:
    server, client, sock = await server_and_client()
    log: list[Any] = []
    server.on("close", lambda: log.append("close"))
    closing = server.close(lambda err=None: log.append(("cb", err)))
    assert not server.listening
    await asyncio.sleep(0.05)
    assert not closing.done() and log == []  # a connection is still open
    with pytest.raises(ConnectionRefusedError):  # but no new ones are accepted
        await asyncio.wait_for(net.connect(client.remote_port, "127.0.0.1"), TIMEOUT)
    client.end()
    sock.resume()
    await asyncio.wait_for(closing, TIMEOUT)
    assert log == ["close", ("cb", None)]
    assert server.connections == 0


async def test_close_when_not_running_reports_err_server_not_running() -> None:
    server = net.create_server()
    got: list[Any] = []
    with pytest.raises(Exception) as info:
        await asyncio.wait_for(server.close(got.append), TIMEOUT)
    assert info.value.code == "ERR_SERVER_NOT_RUNNING"  # type: ignore[attr-defined]
    assert got[0].code == "ERR_SERVER_NOT_RUNNING"


async def test_listener_exceptions_never_kill_the_server() -> None:
    server = net.create_server()
    server_errors: list[BaseException] = []
    server.on("error", server_errors.append)
    sock_errors: list[BaseException] = []
    accepted: list[net.Socket] = []

    def connection_listener(sock: net.Socket) -> None:
        accepted.append(sock)
        if len(accepted) == 1:
            raise RuntimeError("connection listener failed")

        def bad_data(data: bytes) -> None:
            raise ValueError(f"cannot handle {data!r}")

        sock.on("error", sock_errors.append)
        if len(accepted) == 2:
            sock.on("data", bad_data)

    server.on("connection", connection_listener)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    port = server.address()["port"]
    # 1: the 'connection' listener raises: that connection is closed, the server reports it
    c1 = net.connect(port, "127.0.0.1")
    assert await read_all(c1) == b""
    assert len(server_errors) == 1 and isinstance(server_errors[0], RuntimeError)
    assert accepted[0].destroyed
    # 2: a socket's 'data' listener raises: that socket is destroyed with the exception
    c2 = net.connect(port, "127.0.0.1")
    await asyncio.wait_for(c2, TIMEOUT)
    c2.write(b"boom")
    assert await read_all(c2) == b""
    await until(lambda: len(sock_errors) == 1)
    assert isinstance(sock_errors[0], ValueError)
    # 3: the server keeps accepting
    c3 = net.connect(port, "127.0.0.1")
    await asyncio.wait_for(c3, TIMEOUT)
    await until(lambda: len(accepted) == 3)
    assert server.listening and not accepted[2].destroyed and len(server_errors) == 1
    c3.destroy()
    accepted[2].destroy()
    await close_server(server)


async def test_connection_event_emitted_by_hand_reaches_listeners() -> None:
    server = net.create_server()
    got: list[Any] = []
    server.on("connection", got.append)
    a, _b = duplex_pair()
    server.emit("connection", a)
    assert got == [a]


async def test_make_socket_override_is_used_for_accepted_connections() -> None:
    class TaggedSocket(net.Socket):
        tag = "made-by-factory"

    class MyServer(net.Server):
        def _make_socket(self, handle: Any) -> net.Socket:
            assert isinstance(handle, TCPHandle)
            return TaggedSocket(handle=handle)

    server = MyServer()
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    accepted = asyncio.ensure_future(event(server, "connection"))
    client = net.connect(server.address()["port"], "127.0.0.1")
    (sock,) = await accepted
    assert isinstance(sock, TaggedSocket) and sock.server is server
    sock.end(b"factory")
    assert await read_all(client) == b"factory"
    await close_server(server)


# -- timeouts ----------------------------------------------------------------------------------


async def test_set_timeout_emits_timeout_without_destroying_and_activity_resets_it() -> None:
    server, client, sock = await server_and_client()
    loop = asyncio.get_running_loop()
    fired: list[float] = []
    activity = [loop.time()]
    after_last: asyncio.Future[None] = loop.create_future()

    def on_timeout() -> None:
        fired.append(loop.time())
        if len(activity) == 6 and not after_last.done():  # after the last write
            after_last.set_result(None)

    # on(), not set_timeout's callback (a once listener): on a busy machine a gap between two
    # writes below may exceed 0.15 s and rightly fire a first 'timeout'.
    client.on("timeout", on_timeout)
    client.set_timeout(0.15)
    assert client.timeout == 0.15
    for _ in range(5):  # activity every 60 ms keeps it quiet...
        await asyncio.sleep(0.06)
        client.write(b".")
        activity.append(loop.time())
    await asyncio.wait_for(after_last, TIMEOUT)  # ...and then 0.15 s without activity fire it
    # Each 'timeout' came at least 0.15 s after the activity before it.  (A busy machine can
    # leave more than 0.15 s between two of the writes above: then a 'timeout' there is right.)
    for t in fired:
        assert t - max(a for a in activity if a <= t) >= 0.15 - 0.005, (fired, activity)
    n = len(fired)
    await asyncio.sleep(0.3)
    assert len(fired) == n  # once per idle period, not again without activity
    assert not client.destroyed  # Node: 'timeout' only
    client.set_timeout(0)
    assert client.timeout == 0  # (Node: 0 after setTimeout(0))
    client.destroy()
    sock.destroy()
    await close_server(server)


async def test_connect_timeout_option() -> None:
    server = net.create_server()
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    client = net.connect({"port": server.address()["port"], "host": "127.0.0.1",
                          "timeout": 0.05})
    await asyncio.wait_for(event(client, "timeout"), TIMEOUT)
    client.destroy()
    await close_server(server)


# -- the handle seam ---------------------------------------------------------------------------


class RecordingOwner:
    """What a TLS socket does when it takes a net.Socket's handle over."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        handle.owner = self
        self.data = bytearray()
        self.events: list[str] = []

    def _on_handle_read(self, view: memoryview) -> None:
        self.data += view  # the view is only valid during the call

    def _on_handle_eof(self) -> None:
        self.events.append("eof")

    def _on_handle_drain(self) -> None:
        self.events.append("drain")

    def _on_handle_error(self, exc: BaseException) -> None:
        self.events.append(f"error:{exc}")

    def _on_handle_close(self) -> None:
        self.events.append("close")


async def test_a_new_owner_takes_over_a_connected_sockets_handle() -> None:
    server, client, sock = await server_and_client()
    handle = sock._release_handle()
    assert sock._handle is None and isinstance(handle, TCPHandle)
    owner = RecordingOwner(handle)
    client.write(b"for the new owner")
    await until(lambda: bytes(owner.data) == b"for the new owner")
    assert handle.write(b"reply from new owner") is True
    got = bytearray()
    client.on("data", got.extend)
    await until(lambda: bytes(got) == b"reply from new owner")
    client.end()
    await until(lambda: "eof" in owner.events)
    handle.shutdown()
    await asyncio.wait_for(client.wait_closed(), TIMEOUT)
    sock.destroy()  # the released socket no longer owns the handle: it stays open
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    assert "close" not in owner.events and not handle.closed
    handle.close()
    await until(lambda: "close" in owner.events)
    await asyncio.sleep(0.01)
    assert owner.events.count("close") == 1
    await close_server(server)


async def test_socket_over_duplex_handle() -> None:
    a, b = duplex_pair()
    sock = net.Socket(handle=DuplexHandle(a), allow_half_open=True)
    assert sock.remote_address is None and sock.address() == {}
    got = bytearray()
    sock.on("data", got.extend)
    b.write(b"from the other end")
    await until(lambda: bytes(got) == b"from the other end")
    other = bytearray()
    b.on("data", other.extend)
    assert sock.write(b"to the other end") is True
    await until(lambda: bytes(other) == b"to the other end")
    ended: list[bool] = []
    sock.on("end", lambda: ended.append(True))
    b.end()
    await until(lambda: ended == [True])
    sock.end()
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    await asyncio.wait_for(b.wait_closed(), TIMEOUT)


async def test_async_iteration_over_a_socket() -> None:
    server = net.create_server(lambda s: (s.write(b"a" * 100), s.end(b"b" * 100)))
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    client = await asyncio.wait_for(net.connect(server.address()["port"], "127.0.0.1"), TIMEOUT)
    data = bytearray()
    async for chunk in client:
        data += chunk
    assert bytes(data) == b"a" * 100 + b"b" * 100
    client.set_encoding("latin1")
    await close_server(server)


# -- ending with data in flight ----------------------------------------------------------------


async def test_end_flushes_everything_and_finish_waits_for_the_flush() -> None:
    payload = bytes(range(256)) * 32768  # 8 MiB: far more than the socket buffers hold
    at_finish: list[int] = []
    server = net.create_server()

    def on_connection(sock: net.Socket) -> None:
        sock.on("finish", lambda: at_finish.append(sock._closed_handle.get_write_buffer_size()
                                                   if sock._handle is None
                                                   else sock._handle.get_write_buffer_size()))
        sock.end(payload)

    server.on("connection", on_connection)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    client = net.connect(server.address()["port"], "127.0.0.1")
    client.pause()
    await asyncio.sleep(0.1)  # the server's transport buffer is full now
    assert at_finish == []  # Node: 'finish' once the shutdown (after all writes) completed
    client.resume()
    assert await read_all(client, 20) == payload
    assert at_finish == [0]
    await close_server(server)


async def test_destroy_with_unsent_data_closes_at_once() -> None:
    server, client, sock = await server_and_client()
    client.pause()
    while sock.write(b"q" * 65536):
        await asyncio.sleep(0)
    for _ in range(20):
        sock.write(b"q" * 65536)
    await asyncio.sleep(0.02)
    assert sock._handle.get_write_buffer_size() > 0
    sock.destroy()  # Node: uv_close drops what was not sent
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)  # never, if it waited for the peer
    client.destroy()
    await close_server(server)


async def test_destroy_soon_after_pending_writes() -> None:
    server, client, sock = await server_and_client()
    payload = b"w" * (1 << 20)
    sock.write(payload)
    sock.destroy_soon()
    assert sock.writable_ended
    assert await read_all(client, 10) == payload
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    await close_server(server)


async def test_callbacks_of_unfinished_writes_fail_on_destroy() -> None:
    server, client, sock = await server_and_client()
    client.pause()
    results: list[Any] = []
    while sock.write(b"r" * 65536):
        await asyncio.sleep(0)
    sock.write(b"last", lambda err: results.append(("write", err and err.code)))
    sock.end(lambda err: results.append(("end", err and err.code)))
    await asyncio.sleep(0.02)
    assert results == []
    sock.destroy()
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    assert ("write", "ERR_STREAM_DESTROYED") in results
    assert ("end", "ERR_STREAM_DESTROYED") in results
    client.destroy()

    # data written while connecting: ERR_SOCKET_CLOSED_BEFORE_CONNECTION
    early = net.connect(server.address()["port"], "127.0.0.1")
    early.write(b"too early", lambda err: results.append(("early", err and err.code)))
    early.destroy()
    await asyncio.wait_for(early.wait_closed(), TIMEOUT)
    await asyncio.sleep(0)
    assert ("early", "ERR_SOCKET_CLOSED_BEFORE_CONNECTION") in results
    await close_server(server)


async def test_destroy_during_a_pending_shutdown_does_not_wait_for_the_peer() -> None:
    server, client, sock = await server_and_client()
    client.pause()  # the peer never reads
    while sock.write(b"s" * 65536):
        await asyncio.sleep(0)
    sock.end()  # the shutdown waits for the buffered data: 'finish' cannot come
    await asyncio.sleep(0.02)
    assert not sock.writable_finished
    sock.destroy()
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)  # never, if it waited for the peer
    client.destroy()
    await close_server(server)


async def test_a_socket_subclass_overriding_read_and_push_gets_their_calls():
    # The end-of-stream and resume() shortcuts are taken only without overrides: a subclass
    # sees push(None) and read(0) at the peer's end, and flow()'s read() after resume(), as
    # Node's onStreamRead and flow() call them.

    calls: list = []

    class Counting(net.Socket):
        def read(self, size=None):
            calls.append(("read", size))
            return super().read(size)

        def push(self, chunk, encoding=None):
            calls.append(("push", chunk))
            return super().push(chunk, encoding)

    a, b = duplex_pair()
    sock = Counting(handle=DuplexHandle(a), allow_half_open=True)
    got: list = []
    loop = asyncio.get_running_loop()
    resumed, ended = loop.create_future(), loop.create_future()
    sock.on("resume", lambda: resumed.done() or resumed.set_result(None))
    sock.on("end", lambda: ended.set_result(None))
    sock.on("data", got.append)  # resume(): on a later iteration 'resume', then flow()
    await asyncio.wait_for(resumed, TIMEOUT)
    assert ("read", None) in calls  # flow()'s read()
    calls.clear()
    b.write(b"hi")
    b.end()
    await asyncio.wait_for(ended, TIMEOUT)
    assert got == [b"hi"]
    assert ("push", None) in calls and ("read", 0) in calls
    sock.destroy()


def test_handle_data_received_goes_through_its_buffered_read_in_order() -> None:
    # TCPHandle is an asyncio.BufferedProtocol that also answers a Protocol's data_received
    # (uvloop looks it up at each set_protocol(): no AttributeError raised and discarded per
    # accept): the bytes take get_buffer/buffer_updated, in pieces the buffer can hold.
    handle = TCPHandle(reading=True, bufsize=4, registry=None)
    owner = RecordingOwner(handle)
    handle.data_received(b"0123456789")
    handle.data_received(b"ab")
    assert bytes(owner.data) == b"0123456789ab"
    handle._reading = False  # stopped: held for read_start(), as a buffered read would be
    handle.data_received(b"held")
    assert bytes(owner.data) == b"0123456789ab" and list(handle._held or ()) == [b"held"]


# -- a shutdown the peer's reset makes fail ------------------------------------------------------


@pytest.mark.parametrize("peer_ended_first", [True, False])
async def test_a_failed_shutdown_closes_the_socket_whoever_ended_first(
        peer_ended_first: bool) -> None:
    """uvloop reports a shutdown the peer's reset made fail (ENOTCONN) through the transport's
    connection_lost. After the peer's EOF, Node ignores that status (no 'error'; 'close' once
    the socket is done); when we ended first, the readable side would wait for an 'end' that
    cannot come, so the socket must still be told, never left open: 'error' with the reset as
    Node's read reports it (read ECONNRESET), then 'close'(true)."""
    server, client, sock = await server_and_client()
    try:
        errors: list[BaseException] = []
        sock.on("error", errors.append)
        closed: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        sock.on("close", lambda had_error: closed.done() or closed.set_result(had_error))
        if peer_ended_first:
            ended = event(sock, "end")
            client.end()
            await ended
        sock.end()  # (allow_half_open off: after the peer's end this is Node's own end())
        handle = sock._handle
        if handle is not None and handle._state == _OPEN:
            # What uvloop does when the shutdown fails: it closes the transport, then reports
            # the error to the protocol once (here the transport reports to nobody else).
            transport = handle.transport
            assert transport is not None
            transport.set_protocol(asyncio.BaseProtocol())
            transport.close()
            handle.connection_lost(OSError(errno.ENOTCONN, "Socket is not connected"))
        had_error = await asyncio.wait_for(closed, TIMEOUT)
        assert sock.destroyed
        if peer_ended_first:
            assert errors == [] and had_error is False
        else:
            # (the reset, as Node's read reports it: its afterShutdown ignores ENOTCONN)
            assert len(errors) == 1 and getattr(errors[0], "code", None) == "ECONNRESET"
            assert getattr(errors[0], "syscall", None) == "read"
            assert had_error is True
    finally:
        client.destroy()
        await close_server(server)


def test_a_transport_lost_after_the_shutdown_keeps_run_alive_no_longer() -> None:
    """A transport lost after our shutdown and the peer's EOF (uvloop: the shutdown failed,
    ENOTCONN) has ended both ways: ``ref()`` before the socket is closed registers nothing (a
    libuv handle that neither reads nor writes keeps no loop alive); under ``run()`` the socket
    closes ('close'(false), no 'error') a loop step after ``destroy()``, as libuv's uv_close
    callback, and ``run()`` returns."""

    async def main() -> list[Any]:
        from nodetls import _run

        reg = _run.current_registry()
        assert reg is not None
        server, client, sock = await server_and_client()
        try:
            got: list[Any] = []
            sock.on("close", got.append)
            sock.on("error", got.append)
            ended = event(sock, "end")
            client.end()
            await ended
            handle = sock._handle
            assert handle is not None and handle._state == _OPEN
            sock.unref()
            transport = handle.transport
            assert transport is not None
            transport.set_protocol(asyncio.BaseProtocol())
            transport.close()
            handle.connection_lost(OSError(errno.ENOTCONN, "Socket is not connected"))
            sock.ref()
            assert handle not in reg.refs
            sock.destroy()
            assert got == []  # ('close' comes a loop step later, as libuv's uv_close callback)
            await asyncio.wait_for(event(sock, "close"), TIMEOUT)
            assert got == [False] and handle not in reg.refs
            return got
        finally:
            client.destroy()
            await close_server(server)

    assert tls_run(main) == [False]
