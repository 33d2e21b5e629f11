"""Node's sequential, pummel and known_issues net/stream tests, rewritten for nodetls.net.

Ports (scaled down: the scenario kept, the counts shrunk, every wait bounded), by Node test name:
pummel/test-net-many-clients, test-net-pause, test-net-pingpong-delay, test-net-timeout,
test-net-timeout2, test-net-write-callbacks, test-net-connect-econnrefused (also in
test/sequential), test-net-bytes-per-incoming-chunk-overhead (a bound on what each kept chunk
holds, measured with tracemalloc rather than the RSS); sequential/test-net-GH-5504 (in one
process: the server end of a client that destroys itself on 'connect' while 8 MB are queued),
test-net-connect-handle-econnrefused, test-net-better-error-messages-port,
test-net-connect-local-error (its IPv6 half; the IPv4 half is
test_net_auto_select_family.py::test_one_address_after_a_bind_names_the_local_address),
test-net-server-bind (the forms of ``listen()``; ``_connectionKey`` is internal);
pummel/test-stream-pipe-multi (old-style ``stream.Stream`` pipes, many at once);
known_issues/test-stream-writable-sync-error (what Node v20 does, not what that test hopes for).

Already covered under another name: pummel/test-net-pingpong
(test_node_ported_net2.py::test_ping_pong_then_half_close_from_the_client), test-net-throttle
(test_node_ported_net2.py::test_writes_past_the_high_water_mark_all_arrive_at_a_pausing_reader),
sequential/test-net-response-size (test_node_ported_net5.py), test-net-localport,
test-net-reconnect-error and test-net-server-address (named in test_node_ported_net6.py).

Not ported: pummel/test-net-connect-memleak (``gc``: named in test_node_ported_net7.py),
pummel/test-net-tls (Node 0.1's ``setSecure``/``verifyPeer``, long gone),
sequential/test-net-listen-shared-ports (cluster), test-net-server-listen-ipv6-link-local
(``node:test`` mocks of ``dns.lookup`` and a fake link-local scope),
sequential/test-stream2-fs and test-stream2-stderr-sync (``fs``,
``process.stderr``), known_issues/test-stdin-is-always-net.socket (``process.stdin``),
known_issues/test-immutable-arraybuffer-net (after v20: no immutable buffers in Python's sense).

Each expectation was checked against node v20.20 running the same scenario (scaled as here).
Tests marked ``xfail(strict=True)`` assert Node v20's behaviour where nodetls differs.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import textwrap
import time
import tracemalloc
from typing import Any

import pytest

from nodetls import net, stream

from .netutil import TIMEOUT, close_server, event, has_ipv6

pytestmark = pytest.mark.timeout(30)


def future() -> asyncio.Future[Any]:
    return asyncio.get_running_loop().create_future()


def settle(fut: asyncio.Future[Any], value: Any = None) -> None:
    if not fut.done():
        fut.set_result(value)


def closed_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on at ``host`` (bound and released at once)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


async def until(check: Any, timeout: float = TIMEOUT) -> None:
    """Wait, bounded, until ``check()`` is true (polled each loop turn)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.005)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# Node: pummel/test-net-many-clients
async def test_many_clients_each_reconnecting_its_own_socket() -> None:
    # 10 clients at once, each one net.Socket connected 3 times in turn (connect() again from
    # its own 'close'); the server writes 40 KB and ends; every round the client gets all of
    # it, answers 'end' with end() and closes with had_error False.
    size, clients, rounds = 40 * 1024, 10, 3
    body = b"C" * size
    accepted = [0]

    def on_connection(sock: net.Socket) -> None:
        accepted[0] += 1
        sock.write(body)
        sock.end()

    server = net.create_server(on_connection)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    port = server.address()["port"]
    results: list[list[tuple[bool, int]]] = []
    done: list[asyncio.Future[Any]] = []

    def run_client() -> None:
        sock = net.create_connection(port, "127.0.0.1")
        log: list[tuple[bool, int]] = []
        results.append(log)
        finished = future()
        done.append(finished)
        got = [0]
        sock.on("connect", lambda: got.__setitem__(0, 0))
        sock.on("data", lambda chunk: got.__setitem__(0, got[0] + len(chunk)))
        sock.on("end", lambda: sock.end())

        def on_close(had_error: bool) -> None:
            log.append((had_error, got[0]))
            if len(log) < rounds:
                sock.connect(port, "127.0.0.1")
            else:
                settle(finished)

        sock.on("close", on_close)

    try:
        for _ in range(clients):
            run_client()
        await asyncio.wait_for(asyncio.gather(*done), TIMEOUT * 2)
    finally:
        await close_server(server)
    assert results == [[(False, size)] * rounds] * clients
    assert accepted[0] == clients * rounds


# Node: pummel/test-net-pause
async def test_a_paused_client_gets_nothing_until_resumed() -> None:
    # The server trickles N single bytes (one each few ms). The client pauses once some have
    # come: while the server writes several more, nothing reaches 'data'; after resume() they
    # do; a second pause/resume likewise; in the end all N arrive, then 'end'.
    n = 80
    sent = [0]

    def on_connection(sock: net.Socket) -> None:
        loop = asyncio.get_running_loop()

        def tick() -> None:
            if sock.destroyed:
                return
            if sent[0] >= n:
                sock.end()
                return
            sock.write(b"C")
            sent[0] += 1
            loop.call_later(0.004, tick)

        tick()

    server = net.create_server(on_connection)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    client = net.create_connection(server.address()["port"], "127.0.0.1")
    received = bytearray()
    client.on("data", received.extend)
    ended = event(client, "end")
    try:
        for _ in range(2):
            await until(lambda: len(received) > 1 and sent[0] < n - 15)
            client.pause()
            at_pause, written = len(received), sent[0]
            await until(lambda w=written: sent[0] >= w + 8)
            assert len(received) == at_pause
            client.resume()
            await until(lambda a=at_pause: len(received) > a)
        await ended
        assert bytes(received) == b"C" * n
    finally:
        client.destroy()
        await close_server(server)


# Node: pummel/test-net-pingpong-delay
async def test_ping_pong_with_a_delay_before_each_answer() -> None:
    # A half-open server answers each PING with a PONG a millisecond later, the client each PONG
    # with the next PING a millisecond later; both stay 'open' throughout and neither times out.
    # After N+1 rounds the client ends: the server sees 'end' in 'writeOnly', ends too and
    # closes without error in 'closed'; the client closes after all N+1 PONGs.
    n = 20
    loop = asyncio.get_running_loop()
    server_log: list[Any] = []
    server_closed = future()

    def on_connection(sock: net.Socket) -> None:
        sock.set_encoding("utf8")

        def on_data(data: str) -> None:
            server_log.append((data, sock.ready_state))

            def answer() -> None:
                server_log.append(("answer", sock.ready_state))
                sock.write("PONG")

            loop.call_later(0.001, answer)

        sock.on("data", on_data)
        sock.on("timeout", lambda: server_log.append("timeout"))
        sock.on("end", lambda: (server_log.append(("end", sock.ready_state)), sock.end()))
        sock.on("close", lambda had_error: settle(server_closed, (had_error, sock.ready_state)))

    server = net.create_server({"allowHalfOpen": True}, on_connection)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    client = net.create_connection(server.address()["port"], "127.0.0.1")
    client.set_encoding("utf8")
    client_log: list[Any] = []
    count = [0]
    client_closed = event(client, "close")

    def on_connect() -> None:
        client_log.append(("connect", client.ready_state))
        client.write("PING")

    def on_pong(data: str) -> None:
        client_log.append((data, client.ready_state))

        def next_ping() -> None:
            if count[0] < n:
                count[0] += 1
                client.write("PING")
            else:
                count[0] += 1
                client.end()

        loop.call_later(0.001, next_ping)

    client.on("connect", on_connect)
    client.on("data", on_pong)
    client.on("timeout", lambda: client_log.append("timeout"))
    try:
        assert await asyncio.wait_for(server_closed, TIMEOUT) == (False, "closed")
        assert await client_closed == (False,)
    finally:
        client.destroy()
        await close_server(server)
    assert count[0] == n + 1
    assert client_log == [("connect", "open")] + [("PONG", "open")] * (n + 1)
    assert server_log == [("PING", "open"), ("answer", "open")] * (n + 1) + [("end", "writeOnly")]


# Node: pummel/test-net-timeout
async def test_the_idle_timeout_waits_for_traffic_to_stop() -> None:
    # An echo server with a 0.4 s idle timeout; the client (timeout 0) echoes a line every
    # 0.15 s five times, then stops: the server's 'timeout' comes only then, more than 0.4 s
    # after the last exchange, and it destroys its end; the client never times out and closes.
    idle = 0.4
    timed_out = future()

    def on_connection(sock: net.Socket) -> None:
        sock.set_timeout(idle)
        sock.on("timeout", lambda: (settle(timed_out, time.monotonic()), sock.destroy()))
        sock.on("data", lambda d: sock.write(d))
        sock.on("end", lambda: sock.end())

    server = net.create_server(on_connection)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    client = net.create_connection(server.address()["port"], "127.0.0.1")
    client.set_timeout(0)
    client.set_encoding("utf8")
    loop = asyncio.get_running_loop()
    exchanges = [0]
    last = [0.0]
    client_events: list[str] = []
    client.on("timeout", lambda: client_events.append("timeout"))
    client.on("end", lambda: client.end())
    closed = event(client, "close")
    client.on("connect", lambda: client.write("hello\r\n"))

    def on_data(chunk: str) -> None:
        assert chunk == "hello\r\n"
        exchanges[0] += 1
        last[0] = time.monotonic()
        if exchanges[0] < 5:
            loop.call_later(0.15, lambda: client.write("hello\r\n"))

    client.on("data", on_data)
    try:
        fired_at = await asyncio.wait_for(timed_out, TIMEOUT)
        await closed
    finally:
        client.destroy()
        await close_server(server)
    assert exchanges[0] == 5
    assert fired_at - last[0] >= idle - 0.02
    assert client_events == []


# Node: pummel/test-net-timeout2
async def test_writing_keeps_the_idle_timer_from_firing() -> None:
    # The server's socket has a 0.3 s idle timeout and writes a line every 0.1 s for 0.6 s
    # while the peer sends nothing: each write restarts the timer, so 'timeout' never fires.
    idle = 0.3
    fired: list[str] = []
    finished = future()

    def on_connection(sock: net.Socket) -> None:
        sock.set_timeout(idle, lambda: fired.append("timeout"))
        loop = asyncio.get_running_loop()
        writes = [0]

        def tick() -> None:
            writes[0] += 1
            if writes[0] > 6:
                sock.destroy()
                settle(finished)
                return
            sock.write(f"{time.time()}\n")
            loop.call_later(0.1, tick)

        loop.call_later(0.1, tick)

    server = net.create_server(on_connection)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    client = net.create_connection(server.address()["port"], "127.0.0.1")
    client.on("error", lambda e: None)
    client.resume()
    closed = event(client, "close")
    try:
        await asyncio.wait_for(finished, TIMEOUT)
        await closed
    finally:
        client.destroy()
        await close_server(server)
    assert fired == []


# Node: pummel/test-net-write-callbacks
async def test_each_write_callback_runs_once_and_in_order() -> None:
    # Many small writes, each with its own callback, then end(): every callback runs exactly
    # once, in the order of the writes, and the server gets every byte before 'end'.
    n = 20_000
    piece = b"hello world"
    calls: list[int] = []
    server_got = future()

    def on_connection(sock: net.Socket) -> None:
        got = [0]
        sock.on("data", lambda d: got.__setitem__(0, got[0] + len(d)))
        sock.on("end", lambda: (settle(server_got, got[0]), sock.destroy()))

    server = net.create_server(on_connection)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    client = net.create_connection(server.address()["port"], "127.0.0.1")

    def write_all() -> None:
        for i in range(n):
            client.write(piece, None, lambda err=None, i=i: calls.append(i))
        client.end()

    client.on("connect", write_all)
    closed = event(client, "close")
    try:
        assert await asyncio.wait_for(server_got, TIMEOUT * 2) == n * len(piece)
        await closed
    finally:
        client.destroy()
        await close_server(server)
    assert calls == list(range(n))


# Node: pummel/test-net-connect-econnrefused, sequential/test-net-connect-econnrefused
async def test_rounds_of_refused_connections_leave_nothing_open() -> None:
    # Rounds of connections to a port nothing listens on (auto_select_family off), all at once:
    # each fails with ECONNREFUSED, and afterwards no socket is left open (the process holds
    # as many descriptors as before).
    port = closed_port()
    rounds, per_round = 3, 20
    before = open_fds()
    codes: list[str] = []
    for _ in range(rounds):
        failures = []
        for _ in range(per_round):
            sock = net.create_connection({"port": port, "host": "127.0.0.1",
                                          "autoSelectFamily": False})
            failures.append(event(sock, "error"))
        for (err,) in await asyncio.gather(*failures):
            codes.append(err.code)
    await until(lambda: open_fds() <= before)
    assert codes == ["ECONNREFUSED"] * (rounds * per_round)


# Node: pummel/test-net-bytes-per-incoming-chunk-overhead
async def test_a_kept_tiny_chunk_does_not_keep_its_read_buffer() -> None:
    # Thousands of one-byte round trips (no_delay both ways); the server keeps every chunk it
    # receives. Each kept chunk must cost far less than a page (Node: under 650 bytes of RSS
    # each), i.e. a one-byte chunk does not pin the buffer the read went into.
    n = 3000
    kept: list[Any] = []
    client_box: list[net.Socket] = []
    finished = future()
    base: list[int] = []

    def on_connection(sock: net.Socket) -> None:
        sock.set_no_delay(True)

        def on_data(chunk: Any) -> None:
            if not base:
                base.append(tracemalloc.get_traced_memory()[0])
            kept.append(chunk)
            if len(kept) < n:
                client_box[0].write(b"a")
            else:
                settle(finished, tracemalloc.get_traced_memory()[0])
                client_box[0].end()

        sock.on("data", on_data)
        sock.on("end", lambda: sock.end())

    server = net.create_server(on_connection)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    tracemalloc.start()
    try:
        client = net.create_connection(server.address()["port"], "127.0.0.1")
        client_box.append(client)
        client.set_no_delay(True)
        client.resume()
        closed = event(client, "close", TIMEOUT * 3)
        client.write(b"hello!")
        after = await asyncio.wait_for(finished, TIMEOUT * 3)
        await closed
    finally:
        tracemalloc.stop()
        for s in client_box:
            s.destroy()
        await close_server(server)
    per_chunk = (after - base[0]) / n
    assert per_chunk < 650, f"{per_chunk:.0f} bytes per kept chunk"
    assert all(len(c) <= 6 for c in kept)


# Node: sequential/test-net-GH-5504
async def test_server_writing_a_lot_to_a_client_that_destroys_at_once() -> None:
    # The server closes its listener on the first connection and queues 8 MB; the client
    # destroys itself in its 'connect' listener. Node v20 (same scenario): write() -> false,
    # then 'error' ECONNRESET, the write's callback with null (the socket destroyed), and
    # 'close'(true); the server's 'close' follows and nothing is left running.
    log: list[Any] = []
    sock_closed = future()

    def on_connection(sock: net.Socket) -> None:
        server.close()
        sock.on("error", lambda e: log.append(("error", e.code)))
        sock.on("end", lambda: log.append("end"))
        sock.on("close", lambda had_error: (log.append(("close", had_error)), settle(sock_closed)))
        log.append(("write", sock.write(b"#" * (8 * 1024 * 1024),
                                        None, lambda err=None: log.append(("cb", err)))))

    server = net.create_server(on_connection)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    server_closed = event(server, "close")
    client = net.connect(server.address()["port"], "127.0.0.1")
    client.on("connect", lambda: client.destroy())
    try:
        await asyncio.wait_for(sock_closed, TIMEOUT)
        await server_closed
    finally:
        client.destroy()
        await close_server(server)
    assert log[0] == ("write", False)
    assert log[-1] == ("close", True)
    assert ("error", "ECONNRESET") in log or ("error", "EPIPE") in log
    assert ("cb", None) in log


# Node: sequential/test-net-connect-handle-econnrefused
async def test_refused_connect_is_no_longer_connecting_at_error() -> None:
    # No 'connect'; in the 'error' listener the socket is not connecting any more.
    sock = net.create_connection(closed_port(), "127.0.0.1")
    seen: list[Any] = []
    sock.on("connect", lambda: seen.append("connect"))
    failed = future()
    sock.on("error", lambda e: settle(failed, (e.code, sock.connecting)))
    assert await asyncio.wait_for(failed, TIMEOUT) == ("ECONNREFUSED", False)
    assert seen == []


# Node: sequential/test-net-better-error-messages-port
async def test_refused_connect_to_localhost_names_the_port_and_address() -> None:
    # connect(port) with the default host ('localhost'): the failed attempt (the error itself,
    # or the first of an aggregate's errors) is ECONNREFUSED with that port, at 127.0.0.1 or ::1.
    port = closed_port()
    sock = net.create_connection(port)
    (err,) = await event(sock, "error")
    first = err.errors[0] if hasattr(err, "errors") else err
    assert first.code == "ECONNREFUSED"
    assert first.port == port
    assert first.address in ("127.0.0.1", "::1")


# Node: sequential/test-net-connect-local-error (its IPv6 half)
@pytest.mark.skipif(not has_ipv6(), reason="no IPv6 loopback")
async def test_refused_ipv6_connect_after_a_local_bind_names_both_ends() -> None:
    # family 6, host and local_address ::1, a local_port: ECONNREFUSED (or EADDRINUSE) with
    # syscall 'connect', local_address/local_port as given, and the message
    # 'connect <code> ::1:<port> - Local (::1:<local port>)'.
    port, local_port = closed_port("::1"), closed_port("::1")
    sock = net.connect({"host": "::1", "family": 6, "port": port, "localPort": local_port,
                        "localAddress": "::1"})
    (err,) = await event(sock, "error")
    assert err.code in ("ECONNREFUSED", "EADDRINUSE")
    assert err.syscall == "connect"
    assert (err.local_address, err.local_port) == ("::1", local_port)
    assert str(err) == f"connect {err.code} {err.address}:{err.port} - Local (::1:{local_port})"
    assert (err.address, err.port) == ("::1", port)


# Node: sequential/test-net-server-bind
async def test_listen_forms_bind_the_port_asked_for() -> None:
    # listen() with no arguments: a random port (> 100) and 'listening'; listen(port, cb);
    # listen(port, host, backlog, cb); listen(port, backlog, cb) (a number after the port is
    # the backlog, not a host). Every callback runs; the port is the one asked for.
    log: list[Any] = []
    first = net.create_server()
    done = future()
    first.listen(lambda: (log.append(("any", first.address()["port"] > 100)), settle(done)))
    await asyncio.wait_for(done, TIMEOUT)
    await close_server(first)
    forms: list[Any] = [
        lambda p, cb: (p, cb),
        lambda p, cb: (p, "127.0.0.1", 127, cb),
        lambda p, cb: (p, 127, cb),
    ]
    for i, form in enumerate(forms):
        port = closed_port()
        server = net.create_server()
        done = future()
        args = form(port, lambda s=server, i=i, p=port, d=done: (
            log.append((i, s.address()["port"] == p)), settle(d)))
        server.listen(*args)
        try:
            await asyncio.wait_for(done, TIMEOUT)
        finally:
            await close_server(server)
    assert log == [("any", True), (0, True), (1, True), (2, True)]


# Node: known_issues/test-stream-writable-sync-error
async def test_writable_error_from_a_later_callback_reaches_the_listeners_present() -> None:
    # A Writable (auto_destroy False) whose _write keeps its callback; the callback is called
    # later with an error while one 'error' listener is attached, then a second listener is
    # added. Node's known issue hopes both listeners see it; Node v20 does this: the write's
    # callback gets the error, then the first listener, synchronously inside the call; the
    # second listener, added after, is never called; the stream is not destroyed.
    held: list[Any] = []
    w = stream.Writable({"auto_destroy": False, "write": lambda chunk, cb: held.append(cb)})
    log: list[str] = []
    w.write(b"test", None, lambda err=None: log.append(f"cb {err}"))
    w.on("error", lambda e: log.append(f"first {e}"))
    held[0](Exception("foo"))
    w.on("error", lambda e: log.append(f"second {e}"))
    await asyncio.sleep(0)
    await asyncio.sleep(0.01)
    assert log == ["cb foo", "first foo"]
    assert w.destroyed is False



# Node: pummel/test-stream-pipe-multi
async def test_many_old_style_pipes_with_alternating_backpressure() -> None:
    # 20 old-style streams (stream.Stream subclasses emitting 'data' themselves) each piped
    # into its own old-style destination whose write() returns False every other call and
    # emits 'drain' a loop turn later. Each source emits a chunk per loop turn, then end();
    # every chunk reaches its destination, and every source and destination emits 'close'
    # once (Node's test: 100 pairs, every source and destination closed).
    loop = asyncio.get_running_loop()
    pairs, chunks = 20, 100
    data = bytes(range(250))

    class Legacy(stream.Stream):
        def __init__(self) -> None:
            super().__init__()
            self.writable = True
            self.readable = True
            self.wait = False
            self.got = 0

        def write(self, chunk: Any, *args: Any) -> bool:
            self.got += len(chunk)
            if self.wait:
                loop.call_soon(self.emit, "drain")
            self.wait = not self.wait
            return self.wait

        def end(self, *args: Any) -> None:
            self.emit("end")
            loop.call_soon(self.emit, "close")

    closed = {"r": 0, "w": 0}
    all_closed = future()

    def count(side: str) -> None:
        closed[side] += 1
        if closed["r"] == closed["w"] == pairs:
            settle(all_closed)

    def source_steps(r: Legacy) -> Any:
        # a chunk per loop turn while not paused (Node's test listens for 'pause'/'resume';
        # an old-style source without pause() is never paused by pipe(), in Node as here)
        left = [chunks]
        paused = [False]

        def step() -> None:
            r.emit("data", data)
            left[0] -= 1
            if left[0] == 0:
                r.end()
            elif not paused[0]:
                loop.call_soon(step)

        r.on("pause", lambda: paused.__setitem__(0, True))
        r.on("resume", lambda: (paused.__setitem__(0, False), step()))
        return step

    sinks = []
    for _ in range(pairs):
        r, w = Legacy(), Legacy()
        r.on("close", lambda: count("r"))
        w.on("close", lambda: count("w"))
        r.pipe(w)
        sinks.append(w)
        loop.call_soon(source_steps(r))
    await asyncio.wait_for(all_closed, TIMEOUT)
    assert closed == {"r": pairs, "w": pairs}
    assert [w.got for w in sinks] == [chunks * len(data)] * pairs


UVLOOP_DESTROY_WITH_WRITES_QUEUED = textwrap.dedent("""
    import asyncio
    from nodetls import net, run

    async def main():
        accepted = asyncio.get_running_loop().create_future()

        def on_connection(sock):
            sock.on("error", lambda e: None)
            for _ in range(8):
                sock.write(bytes(1 << 20))
            accepted.set_result(sock)

        server = net.create_server(on_connection)
        await server.listen(0, "127.0.0.1")
        client = net.connect(server.address()["port"], "127.0.0.1")
        client.pause()
        peer = await asyncio.wait_for(accepted, 5)
        while peer.writable_length == 0:
            await asyncio.sleep(0.01)
        peer.destroy()
        await asyncio.sleep(0.05)
        client.destroy()
        await server.close()
        print("closed", peer.writable_length, flush=True)

    run(main, loop="uvloop")
""")


# Node: sequential/test-net-GH-5504 (the server's socket destroyed with megabytes queued),
# on uvloop
def test_destroy_with_writes_queued_on_uvloop_does_not_abort_the_process() -> None:
    # A server socket with megabytes queued (the peer reads nothing) is destroyed on uvloop:
    # the program goes on (Node: the socket closes, the queued writes are dropped). nodetls
    # aborted the whole process here: libuv's queued epoll change for the descriptor failed
    # (ENOENT, abort()) once close_now() had put a new socket on its number.
    pytest.importorskip("uvloop")
    proc = subprocess.run([sys.executable, "-c", UVLOOP_DESTROY_WITH_WRITES_QUEUED],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "closed 0"
