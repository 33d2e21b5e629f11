"""Scenarios of Node's own net tests (test/parallel/test-net-*.js), rewritten for nodetls.net.

Ports, by Node test name: after-close, allow-half-open, bytes-stats, can-reset-timeout,
connect-buffer, connect-destroy, connect-immediate-destroy, connect-no-arg,
connect-options-invalid, connect-options-port, dns-error, during-close, end-destroyed,
end-without-connect, error-twice, listen-close-server, listen-error, listen-invalid-port,
listening, localerror, pause-resume-connecting, persistent-keepalive, persistent-nodelay,
persistent-ref-unref, reconnect, remote-address-port, server-call-listen-multiple-times,
server-drop-connections, server-listen-options, server-max-connections, settimeout,
socket-close-after-end, socket-connecting, socket-destroy-twice, socket-end-before-connect,
socket-end-callback, socket-local-address, socket-timeout, socket-timeout-unref,
write-after-close, write-after-end-nt, write-arguments, write-cb-on-destroy-before-connect,
writable, connect-keepalive.

Tests marked ``xfail(strict=True)`` assert Node v20's behaviour where nodetls differs.
"""

from __future__ import annotations

import asyncio
import math
import socket
import time
from typing import Any

import pytest

from nodetls import net
from nodetls._run import run

from .netutil import TIMEOUT, close_server, event, read_all

#: Seconds an absence check gives an event that must not come (a late extra) to show up, once
#: every event that should come has come.
ABSENCE_WINDOW = 0.1


async def listening_server(handler: Any = None, options: dict[str, Any] | None = None,
                           host: str = "127.0.0.1") -> tuple[net.Server, int]:
    server = net.create_server(options, handler)
    await asyncio.wait_for(server.listen(0, host), TIMEOUT)
    return server, server.address()["port"]


async def closed(sock: net.Socket) -> None:
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)


def errors_of(exc_type: type[BaseException], *calls: Any) -> list[BaseException]:
    """Calls each of ``calls``, each of which must raise ``exc_type`` at once: their errors."""
    errors = []
    for call in calls:
        with pytest.raises(exc_type) as info:
            call()
        errors.append(info.value)
    return errors


async def listen_error(exc_type: type[BaseException], *args: Any) -> tuple[BaseException, bool]:
    """``listen(*args, callback)`` on a new server, which must raise ``exc_type`` at once: the
    error, and whether the server listens all the same (if so, it is closed again)."""
    server = net.create_server()
    try:
        with pytest.raises(exc_type) as info:
            server.listen(*args, lambda: None)
        return info.value, server.listening
    finally:
        if server.listening:
            await close_server(server)


def sockopts(sock: net.Socket) -> tuple[int, int, int]:
    """(TCP_NODELAY, SO_KEEPALIVE, TCP_KEEPIDLE) of a connected socket."""
    raw = sock._handle.get_extra_info("socket")
    return (raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY),
            raw.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
            raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE))


# -- connect(): argument validation ------------------------------------------------------------


# Node: test-net-connect-no-arg
async def test_connect_without_port_or_path_is_err_missing_args() -> None:
    for err in errors_of(TypeError, lambda: net.connect(), lambda: net.connect({}),
                         lambda: net.Socket().connect(), lambda: net.Socket().connect({}),
                         lambda: net.connect({"port": None}),
                         lambda: net.connect(None, "localhost"),
                         lambda: net.connect(host="localhost")):
        assert err.code == "ERR_MISSING_ARGS"  # type: ignore[attr-defined]
        assert str(err) == 'The "options" or "port" or "path" argument must be specified'


# Node: test-net-connect-options-invalid (Node: ERR_INVALID_ARG_VALUE; API.md: a TypeError naming
# the unknown option)
@pytest.mark.parametrize("name", ["objectMode", "readableObjectMode", "writableObjectMode"])
async def test_connect_rejects_object_mode_options(name: str) -> None:
    with pytest.raises(TypeError) as info:
        net.connect({"port": 8080, name: True})
    assert name in str(info.value)


# Node: test-net-connect-options-port (wrong types)
@pytest.mark.parametrize("port", [True, False, [], {}])
async def test_connect_port_of_wrong_type_is_err_invalid_arg_type(port: Any) -> None:
    for err in errors_of(TypeError, lambda: net.connect({"port": port, "family": 4}),
                         lambda: net.create_connection({"port": port, "host": "localhost"}),
                         lambda: net.Socket().connect({"port": port, "host": "localhost"})):
        assert err.code == "ERR_INVALID_ARG_TYPE"  # type: ignore[attr-defined]


# Node: test-net-connect-options-port (out of range)
@pytest.mark.parametrize("port", ["", " ", "0x", "-0x1", math.nan, math.inf, -1, 65536, 1.5])
async def test_connect_port_out_of_range_is_err_socket_bad_port(port: Any) -> None:
    for err in errors_of(ValueError, lambda: net.connect({"port": port, "family": 4}),
                         lambda: net.connect({"port": port, "host": "localhost"}),
                         lambda: net.Socket().connect({"port": port, "host": "localhost"})):
        assert err.code == "ERR_SOCKET_BAD_PORT"  # type: ignore[attr-defined]
    if not isinstance(port, str):
        with pytest.raises(ValueError) as info:
            net.connect(port, "localhost")
        assert info.value.code == "ERR_SOCKET_BAD_PORT"  # type: ignore[attr-defined]


# Node: test-net-connect-options-port (connect(port, host) with '' or ' ': a port, not a path)
@pytest.mark.parametrize("port", ["", " "])
async def test_connect_blank_string_port_positional_is_bad_port(port: str) -> None:
    with pytest.raises(ValueError) as info:
        net.connect(port, "localhost")
    assert info.value.code == "ERR_SOCKET_BAD_PORT"  # type: ignore[attr-defined]
    assert str(info.value) == f"Port should be >= 0 and < 65536. Received {port!r}."


# Node: test-net-connect-options-port (valid: the number, its decimal string)
async def test_connect_port_as_number_or_decimal_string() -> None:
    server, port = await listening_server(lambda s: s.end(b"ok"))
    for make in (lambda: net.connect(port, "127.0.0.1"), lambda: net.connect(str(port), "127.0.0.1"),
                 lambda: net.connect({"port": str(port), "host": "127.0.0.1"}),
                 lambda: net.Socket().connect({"port": port, "host": "127.0.0.1", "family": 4})):
        client = make()
        assert await read_all(client) == b"ok"
        await closed(client)
    await close_server(server)


# Node: test-net-connect-options-port (canConnect with `0x${port.toString(16)}`)
async def test_connect_port_as_hex_string() -> None:
    server, port = await listening_server(lambda s: s.end(b"ok"))
    try:
        for make in (lambda: net.connect({"port": hex(port), "host": "127.0.0.1"}),
                     lambda: net.connect(hex(port), "127.0.0.1")):
            client = make()
            assert await read_all(client) == b"ok"
            await closed(client)
    finally:
        await close_server(server)


# Node: test-net-localerror (localAddress)
async def test_local_address_not_an_ip_is_err_invalid_ip_address() -> None:
    try:
        sock = net.connect({"host": "localhost", "port": 0, "localAddress": "foobar"})
    except TypeError as err:
        assert err.code == "ERR_INVALID_IP_ADDRESS"  # type: ignore[attr-defined]
        assert str(err) == "Invalid IP address: foobar"
    else:
        sock.on("error", lambda err: None)
        await closed(sock)
        pytest.fail("connect() returned")


# Node: test-net-localerror (localPort)
async def test_local_port_not_a_number_is_err_invalid_arg_type() -> None:
    with pytest.raises(TypeError) as info:
        net.connect({"host": "localhost", "port": 0, "localPort": "foobar"})
    assert info.value.code == "ERR_INVALID_ARG_TYPE"  # type: ignore[attr-defined]
    assert str(info.value) == ('The "options.localPort" property must be of type int. '
                               "Received str ('foobar')")


# -- connect(): events, state, DNS -------------------------------------------------------------


# Node: test-net-socket-connecting
async def test_connecting_is_true_until_connect() -> None:
    server, port = await listening_server(lambda s: s.end())
    seen: list[bool] = []
    client = net.connect(port, "127.0.0.1", lambda: seen.append(client.connecting))
    assert client.connecting is True
    client.resume()
    await closed(client)
    assert seen == [False]
    await close_server(server)


# Node: test-net-connect-buffer
async def test_state_and_writes_queued_before_connect() -> None:
    received = asyncio.get_running_loop().create_future()

    def on_connection(sock: net.Socket) -> None:
        sock.set_encoding("utf8")
        text: list[str] = []
        sock.on("data", text.append)
        sock.on("end", lambda: (received.set_result("".join(text)), sock.end()))

    server, port = await listening_server(on_connection)
    client = net.Socket({"highWaterMark": 0})
    assert client.pending is True
    connected: list[bool] = []
    assert client.connect(port, "127.0.0.1", lambda: connected.append(True)) is client
    assert (client.pending, client.connecting, client.ready_state) == (True, True, "opening")
    first, second = "L'État, c'est ", "moi"
    seen_in_cb: list[Any] = []
    ret = client.write(first, lambda err=None: seen_in_cb.append(
        (err, connected[:], client.bytes_written, client.pending)))
    assert ret is False  # highWaterMark 0: every write is over it
    assert client.bytes_written == len(first.encode())  # bytes, not characters, counted once
    client.end(second)
    assert client.ready_state == "opening"
    pending_at_close = asyncio.get_running_loop().create_future()
    client.on("close", lambda had_error: pending_at_close.set_result(client.pending))
    assert await asyncio.wait_for(received, TIMEOUT) == first + second
    assert seen_in_cb == [(None, [True], len((first + second).encode()), False)]
    assert await asyncio.wait_for(pending_at_close, TIMEOUT) is True
    await close_server(server)


# Node: test-net-during-close, test-net-remote-address-port
async def test_remote_address_unknown_while_connecting_and_kept_after_close() -> None:
    accepted: list[net.Socket] = []
    server, port = await listening_server(accepted.append)
    client = net.connect(port, "127.0.0.1")
    assert (client.remote_address, client.remote_port, client.remote_family) == (None, None, None)
    await asyncio.wait_for(client, TIMEOUT)
    assert (client.remote_address, client.remote_port, client.remote_family) == (
        "127.0.0.1", port, "IPv4")
    (sock,) = accepted
    assert sock.remote_port == client.local_port and sock.remote_port != port
    assert (sock.local_address, sock.local_port, sock.local_family) == (
        "127.0.0.1", port, server.address()["family"])
    client.end()
    sock.resume()
    await closed(client)
    await closed(sock)
    assert (client.remote_address, client.remote_port, client.remote_family) == (
        "127.0.0.1", port, "IPv4")
    assert sock.remote_address == "127.0.0.1" and sock.remote_family == "IPv4"
    await close_server(server)


# Node: test-net-socket-local-address
async def test_one_socket_connects_again_after_close() -> None:
    server_ports: list[int] = []

    def on_connection(sock: net.Socket) -> None:
        server_ports.append(sock.remote_port)
        sock.end(b"hello")

    server, port = await listening_server(on_connection)
    client = net.Socket()
    local_ports: list[int] = []
    for _ in range(3):
        closing = event(client, "close")
        assert client.connect(port, "127.0.0.1", lambda: local_ports.append(client.local_port)) \
            is client
        client.resume()
        assert await closing == (False,)
    assert local_ports == server_ports and len(set(local_ports)) == 3
    await close_server(server)


# Node: test-net-reconnect
async def test_a_reconnected_socket_keeps_flowing() -> None:
    server, port = await listening_server(lambda sock: sock.end(b"hello\r\n"))
    client = net.Socket()
    client.set_encoding("utf8")
    log: list[Any] = []
    client.on("data", log.append)
    client.on("end", lambda: log.append("end"))
    try:
        for _ in range(3):
            closing = event(client, "close")
            client.connect(port, "127.0.0.1")
            assert await closing == (False,)
        assert log == ["hello\r\n", "end"] * 3
    finally:
        client.destroy()
        await close_server(server)


# Node: test-net-bytes-stats
async def test_byte_counters_are_per_connection_when_reconnecting() -> None:
    server, port = await listening_server(lambda s: (s.resume(), s.end(b"hello")))
    client = net.Socket()
    counts = []
    try:
        for _ in range(2):
            client.connect(port, "127.0.0.1")
            client.write("foo", lambda err=None: client.end("bar"))
            client.resume()
            await closed(client)
            counts.append((client.bytes_read, client.bytes_written))
        assert counts == [(5, 6), (5, 6)]
    finally:
        await close_server(server)


# Node: test-net-pause-resume-connecting
async def test_pause_and_resume_before_connect() -> None:
    server, port = await listening_server(lambda s: s.end(b"This was the year he fell to pieces."))
    calls = [["resume"], ["pause", "resume"], ["pause"], ["resume", "pause", "resume"],
             ["resume", "resume", "pause"]]
    clients = []
    data: list[int] = []
    for i, ops in enumerate(calls):
        client = net.connect(port, "localhost")
        for op in ops:
            getattr(client, op)()
        client.on("data", lambda chunk, i=i: data.append(i))
        clients.append(client)
    for i in (0, 1, 3):
        await closed(clients[i])
    # Absence window: the paused ones have had the data (sent as the others' was, and those
    # have closed) in time to deliver it, and must not. No event says it arrived: a delay.
    await asyncio.sleep(ABSENCE_WINDOW)
    assert sorted(data) == [0, 1, 3]
    for i in (2, 4):
        assert clients[i].is_paused() and not clients[i].destroyed
        clients[i].remove_all_listeners("data")
        clients[i].resume()
        await closed(clients[i])
    await close_server(server)


# Node: test-net-dns-error
async def test_unresolvable_long_label_host_is_enotfound_with_lookup_event() -> None:
    host = "*" * 64
    client = net.connect(42, host)
    log: list[Any] = []
    client.on("lookup", lambda err, address, family, name: log.append(
        ("lookup", getattr(err, "code", None), address, family, name)))
    client.on("error", lambda err: log.append(("error", getattr(err, "code", None), str(err))))
    client.on("connect", lambda: log.append("connect"))
    await closed(client)
    assert log[0][:5] in (("lookup", code, None, None, host) for code in ("ENOTFOUND", "EAI_FAIL"))
    assert log[1][:2] in (("error", "ENOTFOUND"), ("error", "EAI_FAIL"))
    assert log[1][2] == f"getaddrinfo {log[1][1]} {host}"
    assert len(log) == 2


# Node: test-net-connect-destroy
async def test_destroying_an_unconnected_socket_emits_close() -> None:
    client = net.Socket()
    closes: list[Any] = []
    client.on("close", lambda *args: closes.append(args))
    client.destroy()
    assert client.destroyed
    await asyncio.wait_for(client.wait_closed(), TIMEOUT)
    assert closes == [(None,)]  # (Node: 'close' with no argument, the socket had no handle)


# Node: test-net-connect-immediate-destroy
async def test_destroy_right_after_connect_gives_no_connect_and_no_error() -> None:
    server, port = await listening_server()
    log: list[Any] = []
    client = net.connect(port, "127.0.0.1", lambda: log.append("connect"))
    client.on("error", lambda err: log.append(("error", err)))
    client.on("close", lambda had_error: log.append(("close", had_error)))
    await close_server(server)
    client.destroy()
    await closed(client)
    # Absence window: nothing may follow 'close' (no late 'connect' or 'error' from the
    # connect that destroy() cut short).
    await asyncio.sleep(ABSENCE_WINDOW)
    assert log == [("close", False)]


# Node: test-net-socket-destroy-twice
async def test_destroy_inside_the_error_listener_closes_once() -> None:
    server, port = await listening_server()
    await close_server(server)
    client = net.connect(port, "127.0.0.1")
    log: list[Any] = []
    client.on("error", lambda err: (log.append(("error", err.code)), client.destroy()))
    client.on("close", lambda had_error: log.append(("close", had_error)))
    await closed(client)
    # Absence window: no second 'error' or 'close' after the first 'close'.
    await asyncio.sleep(ABSENCE_WINDOW)
    assert log == [("error", "ECONNREFUSED"), ("close", True)]


# -- writing -----------------------------------------------------------------------------------


# Node: test-net-write-arguments
async def test_write_rejects_none_and_non_bytes() -> None:
    sock = net.Socket({"highWaterMark": 0})
    errors: list[Any] = []
    sock.on("error", errors.append)
    with pytest.raises(TypeError) as info:
        sock.write(None)
    assert info.value.code == "ERR_STREAM_NULL_VALUES"  # type: ignore[attr-defined]
    assert str(info.value) == "May not write null values to stream"
    for value in (True, False, 1, 1.0, math.inf, -math.inf, [], {}):
        with pytest.raises(TypeError) as info:
            net.Socket({"highWaterMark": 0}).write(value)
        assert info.value.code == "ERR_INVALID_ARG_TYPE"  # type: ignore[attr-defined]
        assert str(info.value).startswith('The "chunk" argument must be of type')
    # Absence window: the rejected writes raised; no 'error' may follow (Node emits none),
    # and there is no later event to wait for.
    await asyncio.sleep(ABSENCE_WINDOW)
    assert errors == []


# Node: test-net-write-cb-on-destroy-before-connect
async def test_write_callback_fails_when_destroyed_before_connect() -> None:
    server, port = await listening_server()
    client = net.Socket()
    log: list[Any] = []
    client.on("connect", lambda: log.append("connect"))
    client.connect({"port": port, "host": "127.0.0.1"})
    assert client.connecting
    client.write("foo", lambda err=None: log.append(("cb", getattr(err, "code", err))))
    client.destroy()
    await closed(client)  # (Node calls the write callback at 'close')
    # Absence window: no late 'connect' (nor a second callback) after 'close'.
    await asyncio.sleep(ABSENCE_WINDOW)
    assert log == [("cb", "ERR_SOCKET_CLOSED_BEFORE_CONNECTION")]
    await close_server(server)


# Node: test-net-write-after-end-nt
async def test_write_after_own_end_and_peer_end_is_epipe_on_a_later_tick() -> None:
    server, port = await listening_server(lambda s: s.end())
    seen: dict[str, Any] = {}
    callback_errors: list[Any] = []
    errors: list[Any] = []

    def on_connect() -> None:
        client.on("error", errors.append)

        def on_end() -> None:
            seen["ret"] = client.write("hello", lambda err=None: callback_errors.append(err))
            seen["errors_now"] = list(errors)
            seen["callback_now"] = list(callback_errors)

        client.on("end", on_end)
        client.end()

    client = net.connect(port, "127.0.0.1", on_connect)
    await closed(client)
    assert seen == {"ret": False, "errors_now": [], "callback_now": []}
    assert [e.code for e in errors] == ["EPIPE"]
    assert str(errors[0]) == "This socket has been ended by the other party"
    assert [getattr(e, "code", None) for e in callback_errors] == ["EPIPE"]
    await close_server(server)


# Node: test-net-write-after-close
async def test_server_write_after_client_end_fails_its_callback() -> None:
    accepted: list[net.Socket] = []
    server, port = await listening_server(lambda s: (s.resume(), accepted.append(s)))
    client = net.connect(port, "127.0.0.1")
    await asyncio.wait_for(client, TIMEOUT)
    result = asyncio.get_running_loop().create_future()

    def on_end() -> None:
        accepted[0].on("error", lambda err: None)
        accepted[0].write("test", lambda err=None: result.set_result(err))

    client.on("end", on_end)
    client.end()
    err = await asyncio.wait_for(result, TIMEOUT)
    assert err is not None and err.code == "EPIPE"
    await closed(client)
    await close_server(server)


# Node: test-net-writable
async def test_socket_is_still_writable_inside_the_end_listener() -> None:
    got = asyncio.get_running_loop().create_future()

    def on_connection(sock: net.Socket) -> None:
        sock.end()
        buf = bytearray()
        sock.on("data", buf.extend)
        sock.on("end", lambda: got.set_result(bytes(buf)))

    server, port = await listening_server(on_connection)
    client = net.connect(port, "127.0.0.1")
    seen: list[Any] = []
    errors: list[Any] = []
    client.on("error", errors.append)
    client.on("end", lambda: seen.append((client.writable, client.write("hello world"))))
    client.resume()
    assert await asyncio.wait_for(got, TIMEOUT) == b"hello world"
    await closed(client)
    assert seen == [(True, True)] and errors == []
    await close_server(server)


# Node: test-net-socket-end-callback
async def test_end_callback_in_each_form() -> None:
    server, port = await listening_server(lambda s: s.resume())
    calls: list[Any] = []
    for args in [(), ("foo",), ("foo", "utf8")]:
        client = net.connect(port, "127.0.0.1")
        await asyncio.wait_for(client, TIMEOUT)
        client.end(*args, lambda *a, args=args: calls.append(args))
        client.resume()
        await closed(client)
    assert calls == [(), ("foo",), ("foo", "utf8")]
    await close_server(server)


# -- ending and closing ------------------------------------------------------------------------


# Node: test-net-allow-half-open, test-net-end-destroyed
@pytest.mark.parametrize("client_ends_too", [False, True])
async def test_default_socket_is_not_destroyed_at_end_or_finish(client_ends_too: bool) -> None:
    server, port = await listening_server(lambda s: (s.resume(), s.end(bytes(1024))))
    client = net.connect(port, "127.0.0.1")
    assert client.allow_half_open is False
    loop = asyncio.get_running_loop()
    log: list[Any] = []
    client.on("end", lambda: (log.append(("end", client.destroyed)),
                              loop.call_soon(lambda: log.append(("end+1", client.destroyed)))))
    client.on("finish", lambda: log.append(("finish", client.destroyed)))
    client.on("close", lambda had_error: log.append(("close", had_error)))
    client.resume()
    if client_ends_too:
        client.end("asd")
    await closed(client)
    assert ("end", False) in log and ("finish", False) in log and log[-1] == ("close", False)
    if not client_ends_too:
        assert log.index(("end", False)) < log.index(("finish", False))
        assert ("end+1", False) in log
    await close_server(server)


# Node: test-net-end-without-connect
async def test_end_without_connect() -> None:
    sock = net.Socket()
    sock.end()
    assert sock.writable is False and sock.writable_ended is True
    assert sock.ready_state == "readOnly"


# Node: test-net-socket-end-before-connect
async def test_end_before_connect_still_connects_then_closes() -> None:
    server, port = await listening_server(lambda s: s.resume())
    client = net.connect(port, "127.0.0.1")
    log: list[Any] = []
    for name in ("connect", "finish", "end"):
        client.on(name, lambda name=name: log.append(name))
    client.on("close", lambda had_error: log.append(("close", had_error)))
    client.end()
    await closed(client)
    assert log == ["connect", "finish", "end", ("close", False)]
    await close_server(server)


# Node: test-net-socket-close-after-end
async def test_end_comes_before_close_when_the_data_is_read_late() -> None:
    done = asyncio.get_running_loop().create_future()

    def on_connection(sock: net.Socket) -> None:
        log: list[Any] = []
        loop = asyncio.get_running_loop()
        sock.once("readable", lambda: loop.call_later(0.1, lambda: log.append(sock.read())))
        sock.on("end", lambda: log.append("end"))
        sock.on("close", lambda had_error: (log.append("close"), done.set_result(log)))
        sock.end("foo")

    server, port = await listening_server(on_connection)
    client = net.connect(port, "127.0.0.1", lambda: client.end("foo"))
    client.resume()
    assert await asyncio.wait_for(done, TIMEOUT) == [b"foo", "end", "close"]
    await close_server(server)


# Node: test-net-after-close
async def test_a_closed_socket_tolerates_calls_and_keeps_its_peer() -> None:
    server, port = await listening_server(lambda s: s.end())
    client = net.connect(port, "127.0.0.1")
    client.resume()
    await closed(client)
    assert client.set_no_delay() is client
    assert client.set_keep_alive() is client
    assert client.pause() is client and client.resume() is client
    assert client.address() == {}
    assert client.remote_address == "127.0.0.1" and client.remote_port == port
    assert client.writable_length == 0
    await close_server(server)


# Node: test-net-error-twice
async def test_writing_to_a_destroyed_peer_errors_once() -> None:
    server = net.create_server()
    accepted = event(server, "connection")
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    port = server.address()["port"]
    client = net.connect(port, "127.0.0.1")
    await asyncio.wait_for(client, TIMEOUT)
    (sock,) = await accepted
    errors: list[Any] = []
    sock.on("error", errors.append)
    closing = asyncio.get_running_loop().create_future()
    sock.on("close", closing.set_result)
    client.destroy()
    sock.write(b"b" * (10 * 1024 * 1024))
    had_error = await asyncio.wait_for(closing, TIMEOUT)
    assert len(errors) == 1 and had_error is True
    assert errors[0].code in ("ECONNRESET", "EPIPE")
    await close_server(server)


# -- timeouts ----------------------------------------------------------------------------------


# Node: test-net-settimeout
async def test_set_timeout_zero_right_after_disables_it() -> None:
    server, port = await listening_server(lambda s: s.write(b"hello"))
    client = net.connect(port, "localhost")
    fired: list[bool] = []
    assert client.set_timeout(0.1, lambda: fired.append(True)) is client
    client.set_timeout(0)
    await asyncio.wait_for(event(client, "data"), TIMEOUT)
    # A control socket's 0.1 s timeout, set later (and pushed back by its data): once it has
    # fired, the disabled one would have fired too.
    control = net.connect(port, "localhost")
    control_fired = event(control, "timeout")
    control.set_timeout(0.1)
    await control_fired
    # Absence window: a late extra still shows.
    await asyncio.sleep(ABSENCE_WINDOW)
    assert fired == [] and client.timeout == 0
    client.destroy()
    control.destroy()
    await close_server(server)


# Node: test-net-socket-timeout (validation that nodetls shares)
async def test_set_timeout_validation() -> None:
    sock = net.Socket()
    for bad in (-0.001, -1, -math.inf):
        with pytest.raises(ValueError) as info:
            sock.set_timeout(bad, lambda: None)
        assert info.value.code == "ERR_OUT_OF_RANGE"  # type: ignore[attr-defined]
    for good in (0, 0.001, 1, 1e6):
        assert sock.set_timeout(good, lambda: None) is sock
    for callback in (1, "100", True, False, {}, []):
        with pytest.raises(TypeError) as info:
            sock.set_timeout(1, callback)
        assert info.value.code == "ERR_INVALID_ARG_TYPE"  # type: ignore[attr-defined]
    sock.destroy()


# Node: test-net-socket-timeout (a callback that is not a function, with 0)
@pytest.mark.parametrize("callback", [1, "100", True, {}])
async def test_set_timeout_zero_still_validates_the_callback(callback: Any) -> None:
    with pytest.raises(TypeError) as info:
        net.Socket().set_timeout(0, callback)
    assert info.value.code == "ERR_INVALID_ARG_TYPE"  # type: ignore[attr-defined]
    assert str(info.value).startswith('The "callback" argument must be of type function. '
                                      f"Received {type(callback).__name__} (")


# Node: test-net-socket-timeout (non-numbers)
@pytest.mark.parametrize("value", ["100", "", {}, [], True, False, None])
async def test_set_timeout_rejects_non_numbers_with_a_type_error(value: Any) -> None:
    sock = net.Socket()
    with pytest.raises(TypeError) as info:
        sock.set_timeout(value, lambda: None)
    assert info.value.code == "ERR_INVALID_ARG_TYPE"  # type: ignore[attr-defined]
    assert str(info.value) == ('The "timeout" argument must be of type int or float. '
                               f"Received {type(value).__name__} ({value!r})")
    assert sock.timeout is None and sock.listener_count("timeout") == 0


# Node: test-net-socket-timeout (Infinity, NaN)
@pytest.mark.parametrize("value", [math.inf, math.nan])
async def test_set_timeout_rejects_infinity_and_nan(value: float) -> None:
    sock = net.Socket()
    try:
        with pytest.raises(ValueError) as info:
            sock.set_timeout(value, lambda: None)
        assert info.value.code == "ERR_OUT_OF_RANGE"  # type: ignore[attr-defined]
        assert str(info.value) == ('The value of "timeout" is out of range. It must be a '
                                   f"non-negative finite number. Received {value}")
    finally:
        sock.destroy()


# Node: test-net-socket-timeout (a destroyed socket)
async def test_set_timeout_on_a_destroyed_socket_never_fires() -> None:
    server, port = await listening_server()
    client = net.connect(port, "127.0.0.1")
    result = asyncio.get_running_loop().create_future()
    late: list[bool] = []

    def on_timeout() -> None:
        client.destroy()
        result.set_result(client.set_timeout(0.001, lambda: late.append(True)))

    assert client.set_timeout(0.001, on_timeout) is client
    assert await asyncio.wait_for(result, TIMEOUT) is client
    # A control: the same 1 ms timeout, set later on a live socket, fires; the destroyed
    # socket's would have fired before it.
    control = net.connect(port, "127.0.0.1")
    control_fired = event(control, "timeout")
    control.set_timeout(0.001)
    await control_fired
    # Absence window: a late extra still shows.
    await asyncio.sleep(ABSENCE_WINDOW)
    assert late == []
    control.destroy()
    await close_server(server)


# Node: test-net-can-reset-timeout
async def test_writing_from_the_timeout_listener() -> None:
    log: list[Any] = []
    done = asyncio.get_running_loop().create_future()

    def on_connection(sock: net.Socket) -> None:
        sock.set_timeout(0.1)
        sock.resume()
        sock.once("timeout", lambda: (log.append("timeout"), sock.write("WHAT.")))
        sock.on("end", lambda: (log.append("server end"), sock.end()))
        sock.on("close", lambda had_error: done.set_result(had_error))

    server, port = await listening_server(on_connection)
    client = net.connect(port, "127.0.0.1")
    client.on("data", lambda chunk: (log.append(chunk), client.end()))
    client.on("end", lambda: log.append("client end"))
    assert await asyncio.wait_for(done, TIMEOUT) is False
    assert log[:3] == ["timeout", b"WHAT.", "server end"]
    await closed(client)
    assert log[-1] == "client end"
    await close_server(server)


# Node: test-net-socket-timeout-unref
def test_unrefd_sockets_with_pending_timeouts_let_run_return() -> None:
    fired: list[bool] = []

    async def main() -> None:
        server = net.create_server(lambda sock: (sock.write(b"hello"), sock.unref()))
        await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
        server.unref()
        for seconds in (8, 5, 3, 6, 2, 4):
            client = net.connect(server.address()["port"], "127.0.0.1")
            await asyncio.wait_for(client, TIMEOUT)
            client.set_timeout(seconds, lambda: fired.append(True))
            client.unref()

    start = time.monotonic()
    run(main)
    assert time.monotonic() - start < 1.5 and fired == []


# Node: test-net-persistent-ref-unref
def test_unref_then_ref_before_connect_keeps_run_alive() -> None:
    log: list[str] = []

    def main() -> None:
        server = net.create_server(lambda sock: sock.end())

        def on_end() -> None:
            log.append("end")
            server.close()

        def on_listening() -> None:
            sock = net.Socket()
            assert sock.unref() is sock and sock.ref() is sock
            sock.connect(server.address()["port"], "127.0.0.1")
            sock.on("end", on_end)
            sock.resume()

        server.listen(0, "127.0.0.1", on_listening)

    run(main)
    assert log == ["end"]


# -- socket options ----------------------------------------------------------------------------


# Node: test-net-persistent-nodelay, test-net-persistent-keepalive
async def test_no_delay_and_keep_alive_set_before_connect_are_applied() -> None:
    server, port = await listening_server(lambda s: s.resume())
    client = net.Socket()
    assert client.set_no_delay() is client
    assert client.set_keep_alive(True, 2) is client
    client.connect(port, "127.0.0.1")
    await asyncio.wait_for(client, TIMEOUT)
    assert sockopts(client) == (1, 1, 2)
    assert client.ready_state == "open"
    client.destroy()
    await close_server(server)


# Node: test-net-connect-keepalive (and the noDelay option)
async def test_keep_alive_and_no_delay_connect_options() -> None:
    server, port = await listening_server(lambda s: s.resume())
    client = net.connect({"port": port, "host": "127.0.0.1", "keepAlive": True,
                          "keepAliveInitialDelay": 3, "noDelay": True})
    await asyncio.wait_for(client, TIMEOUT)
    assert sockopts(client) == (1, 1, 3)
    client.set_keep_alive(False)
    client.set_no_delay(False)
    assert sockopts(client)[:2] == (0, 0)
    client.destroy()
    client = net.connect({"port": port, "host": "127.0.0.1", "keep_alive": False})
    await asyncio.wait_for(client, TIMEOUT)
    assert sockopts(client)[1] == 0
    client.destroy()
    await close_server(server)


# Node: test-net-persistent-nodelay / net docs (noDelay defaults to false). A deliberate
# difference (README, "Where nodetls deliberately differs"): a net client socket keeps the
# TCP_NODELAY its event loop sets (asyncio's and uvloop's create_connection: on); no_delay=False
# (or set_no_delay(False)) gives Node's default.
async def test_client_socket_keeps_the_loops_no_delay_and_no_delay_false_turns_it_off() -> None:
    server, port = await listening_server(lambda s: None)
    client = net.connect(port, "127.0.0.1")
    nagle = net.connect({"port": port, "host": "127.0.0.1", "no_delay": False})
    try:
        await asyncio.wait_for(client, TIMEOUT)
        await asyncio.wait_for(nagle, TIMEOUT)
        assert sockopts(client)[0] == 1
        assert sockopts(nagle)[0] == 0
        client.set_no_delay(False)
        assert sockopts(client)[0] == 0
    finally:
        client.destroy()
        nagle.destroy()
        await close_server(server)


# -- servers -----------------------------------------------------------------------------------


# Node: test-net-listening
async def test_listening_flag_follows_listen_and_close() -> None:
    server = net.create_server()
    assert server.listening is False
    seen: list[bool] = []
    server.listen(0, "127.0.0.1", lambda: seen.append(server.listening))
    await asyncio.wait_for(server, TIMEOUT)
    closed_seen: list[bool] = []
    await asyncio.wait_for(server.close(lambda err=None: closed_seen.append(server.listening)),
                           TIMEOUT)
    assert seen == [True] and closed_seen == [False]


# Node: test-net-listen-close-server
async def test_close_right_after_listen_never_listens() -> None:
    server = net.create_server()
    log: list[Any] = []
    server.on("error", lambda err: log.append(("error", err)))
    server.on("listening", lambda: log.append("listening"))
    server.listen(0, lambda: log.append("callback"))  # (no host, as Node's: bound in the call)
    await asyncio.wait_for(server.close(), TIMEOUT)
    # Absence window: no late 'listening' (or listen callback, or 'error') after the close.
    await asyncio.sleep(ABSENCE_WINDOW)
    assert log == [] and server.listening is False


# Node: test-net-listen-error
async def test_listen_on_an_address_not_ours_is_an_error_event() -> None:
    server = net.create_server()
    log: list[Any] = []
    failed = event(server, "error")
    server.listen(1, "1.1.1.1", lambda: log.append("callback"))
    (err,) = await failed
    assert err.code in ("EADDRNOTAVAIL", "EACCES") and err.syscall == "listen"
    assert log == [] and server.listening is False


# Node: test-net-listen-invalid-port, test-net-server-listen-options (bad ports)
@pytest.mark.parametrize("port", [2**32 - 1, -1, math.nan, 123.456, 65536, math.inf, -math.inf])
async def test_listen_rejects_bad_ports_in_every_form(port: Any) -> None:
    for args in [({"port": port},), (port,), (port, "0.0.0.0")]:
        err, listening = await listen_error(ValueError, *args)
        assert err.code == "ERR_SOCKET_BAD_PORT"  # type: ignore[attr-defined]
        assert not listening


# Node: test-net-server-listen-options (ports that mean "any free port")
@pytest.mark.parametrize("args", [(), ("0",), (0,), (None,), ({"port": 0},), ({"port": "0"},),
                                  ({"port": None},)], ids=repr)
async def test_listen_on_any_free_port(args: tuple[Any, ...]) -> None:
    server = net.create_server()
    listened: list[bool] = []
    server.on("listening", lambda: listened.append(True))
    assert server.listen(*args) is server
    await asyncio.wait_for(server, TIMEOUT)
    assert listened == [True] and server.address()["port"] > 0
    await close_server(server)


# Node: test-net-server-listen-options (invalid option values: Node's ERR_INVALID_ARG_VALUE, a
# TypeError in Node, and a ValueError as every ERR_INVALID_ARG_VALUE here)
@pytest.mark.parametrize("options", [True, {"port": True}, {"port": False}, {"path": -1}],
                         ids=repr)
async def test_listen_rejects_option_values_of_the_wrong_type(options: Any) -> None:
    err, listening = await listen_error(TypeError, options)
    assert isinstance(err, ValueError)
    assert err.code == "ERR_INVALID_ARG_VALUE"  # type: ignore[attr-defined]
    given = options if isinstance(options, dict) else {"port": options}
    assert str(err).startswith("The argument 'options' is invalid")
    assert str(err).endswith(f". Received {given!r}")
    assert not listening


# Node: test-net-server-listen-options (neither port nor path)
@pytest.mark.parametrize("options", [{}, {"host": "localhost"}, {"exclusive": True}], ids=repr)
async def test_listen_options_without_port_or_path_are_invalid(options: dict[str, Any]) -> None:
    err, _ = await listen_error(TypeError, options)
    assert err.code == "ERR_INVALID_ARG_VALUE"  # type: ignore[attr-defined]
    assert str(err) == ("The argument 'options' must have the property \"port\" or "
                        f"\"path\". Received {options!r}")


# Node: test-net-server-listen-options (the port is checked before the path)
async def test_listen_checks_the_port_before_the_path(tmp_path: Any) -> None:
    err, _ = await listen_error(ValueError, {"port": -1, "path": str(tmp_path / "s.sock")})
    assert err.code == "ERR_SOCKET_BAD_PORT"  # type: ignore[attr-defined]
    assert str(err) == "options.port should be >= 0 and < 65536. Received -1."


# Node: test-net-server-call-listen-multiple-times
async def test_listen_again_after_an_error_and_after_close() -> None:
    busy, port = await listening_server()
    server = net.create_server()
    errors: list[Any] = []
    server.on("error", errors.append)
    with pytest.raises(OSError):
        await asyncio.wait_for(server.listen(port, "127.0.0.1"), TIMEOUT)
    assert [e.code for e in errors] == ["EADDRINUSE"]
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)  # right after the error
    assert server.listening
    again = asyncio.get_running_loop().create_future()

    def close_and_listen() -> None:  # close, then listen again at once
        server.close()
        server.listen(0, "127.0.0.1", lambda: again.set_result(server.listening))

    close_and_listen()
    assert await asyncio.wait_for(again, TIMEOUT) is True
    await close_server(server)
    await close_server(busy)


# Node: test-net-server-drop-connections
async def test_max_connections_zero_drops_every_connection() -> None:
    accepted: list[net.Socket] = []
    server, port = await listening_server(accepted.append)
    server.max_connections = 0
    dropped = event(server, "drop")
    client = net.connect(port, "127.0.0.1")
    assert await read_all(client) == b""
    (info,) = await dropped
    for key in ("localAddress", "localPort", "remoteAddress", "remotePort", "remoteFamily"):
        assert info[key]
    assert accepted == []
    await closed(client)
    await close_server(server)


# Node: test-net-server-max-connections
async def test_only_the_first_max_connections_are_served() -> None:
    served: list[net.Socket] = []
    server, port = await listening_server(lambda sock: (served.append(sock), sock.write(b"hello")))
    server.max_connections = 3
    clients: list[net.Socket] = []
    got: dict[int, bytes] = {}
    for i in range(6):  # one after the other, as Node's test
        client = net.connect(port, "127.0.0.1")
        got[i] = b""
        client.on("data", lambda chunk, i=i: got.__setitem__(i, got[i] + chunk))
        await asyncio.wait_for(client, TIMEOUT)
        clients.append(client)
    for client in clients[3:]:
        await closed(client)  # closed by the server, never given data
    assert [got[i] for i in range(6)] == [b"hello"] * 3 + [b""] * 3
    assert len(served) == 3 and not any(c.destroyed for c in clients[:3])
    for sock in served:
        sock.end()
    for client in clients[:3]:
        client.resume()
        await closed(client)
    await close_server(server)
