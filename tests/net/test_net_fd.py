"""Existing descriptors and handles in net: ``Socket({'fd': n})``, ``server.listen({'fd': n})``,
``listen(handle)`` / ``listen({'handle': h})`` (``src/nodetls/_net/fd.py``).

Every expectation was checked against node v20.20 with the same descriptors (made by Python's
``socket`` module and passed to a node child; repro scripts /tmp/fd30/lsn.js with run.py for
listen, sock.js with srun.py for Socket, val.js and v2.js for the argument checks, share.js for
a server given as the handle). Node's tests: test-net-socket-constructor (the ``fd`` checks),
test-net-listen-fd0, test-net-server-listen-handle, test-net-connect-options-fd (its socket
part).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from nodetls import net

from .netutil import TIMEOUT, close_server, event


def _connected_pair() -> tuple[int, socket.socket]:
    """A connected TCP pair over 127.0.0.1: our end's descriptor (detached: whoever is given
    it owns it) and the peer's socket (non-blocking)."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen()
    ours = socket.create_connection(lsock.getsockname())
    peer, _ = lsock.accept()
    lsock.close()
    peer.setblocking(False)
    return ours.detach(), peer


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _record(sock: Any, log: list[tuple[str, Any]]) -> None:
    for name in ("connect", "ready", "data", "end", "finish", "error", "close"):
        sock.on(name, lambda *a, _n=name: log.append((_n, a[0] if a else None)))


async def _recv_all(peer: socket.socket) -> bytes:
    loop = asyncio.get_running_loop()
    out = b""
    while chunk := await asyncio.wait_for(loop.sock_recv(peer, 65536), TIMEOUT):
        out += chunk
    return out


@pytest.fixture
def pair() -> Iterator[tuple[int, socket.socket]]:
    fd, peer = _connected_pair()
    yield fd, peer
    peer.close()


# -- net.Socket({'fd': n}) --------------------------------------------------------------------------


async def test_socket_on_a_connected_descriptor(pair: tuple[int, socket.socket]) -> None:
    # Node: open at once (readable, writable, 'open', not connecting), the addresses are the
    # socket's, no 'connect' nor 'ready'; data both ways; the peer's end: 'end', 'finish',
    # 'close'(false); the descriptor is closed with the socket.
    fd, peer = pair
    loop = asyncio.get_running_loop()
    sock = net.Socket({"fd": fd})
    assert (sock.readable, sock.writable, sock.ready_state, sock.connecting, sock.pending) == (
        True, True, "open", False, False)
    assert (sock.remote_address, sock.remote_port, sock.remote_family) == (
        "127.0.0.1", peer.getsockname()[1], "IPv4")
    assert sock.address() == {"address": "127.0.0.1", "family": "IPv4",
                              "port": peer.getpeername()[1]}
    log: list[tuple[str, Any]] = []
    _record(sock, log)
    sock.write(b"from nodetls\n")
    assert await asyncio.wait_for(loop.sock_recv(peer, 100), TIMEOUT) == b"from nodetls\n"
    await loop.sock_sendall(peer, b"from peer\n")
    peer.shutdown(socket.SHUT_WR)
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    assert log == [("data", b"from peer\n"), ("end", None), ("finish", None), ("close", False)]
    assert not _is_open(fd)
    assert await _recv_all(peer) == b""


async def test_writes_and_end_right_after_construction_reach_the_peer(
        pair: tuple[int, socket.socket]) -> None:
    # Written and ended in the constructor's step: all of it, in order, then EOF (node: the
    # same bytes and EOF).
    fd, peer = pair
    sock = net.Socket(fd)  # (Node's legacy Socket(fd) form)
    sock.write(b"one ")
    sock.write(b"two ")
    sock.end(b"three")
    assert await _recv_all(peer) == b"one two three"
    sock.destroy()


async def test_readable_false_is_write_only(pair: tuple[int, socket.socket]) -> None:
    # Node: {fd, readable: false}: 'writeOnly', nothing read; end(): 'finish', 'close'(false),
    # the peer gets the data then EOF.
    fd, peer = pair
    sock = net.Socket({"fd": fd, "readable": False})
    assert (sock.readable, sock.writable, sock.ready_state) == (False, True, "writeOnly")
    log: list[tuple[str, Any]] = []
    _record(sock, log)
    await asyncio.get_running_loop().sock_sendall(peer, b"ignored")
    sock.end(b"x")
    assert await _recv_all(peer) == b"x"
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    assert log == [("finish", None), ("close", False)]
    assert not _is_open(fd)


async def test_writable_false_is_read_only(pair: tuple[int, socket.socket]) -> None:
    # Node: {fd, writable: false}: 'readOnly'; the peer's data and end: 'data', 'end',
    # 'close'(false) (no 'finish').
    fd, peer = pair
    sock = net.Socket({"fd": fd, "writable": False})
    assert (sock.readable, sock.writable, sock.ready_state) == (True, False, "readOnly")
    log: list[tuple[str, Any]] = []
    _record(sock, log)
    await asyncio.get_running_loop().sock_sendall(peer, b"from peer\n")
    peer.shutdown(socket.SHUT_WR)
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    assert log == [("data", b"from peer\n"), ("end", None), ("close", False)]


async def test_writing_to_a_read_only_descriptor_socket(pair: tuple[int, socket.socket]) -> None:
    # Node: write() on {fd, writable: false}: its callback and 'error' get
    # ERR_STREAM_WRITE_AFTER_END, then 'close'(true).
    fd, _peer = pair
    sock = net.Socket({"fd": fd, "writable": False})
    log: list[tuple[str, Any]] = []
    _record(sock, log)
    results: list[Any] = []
    sock.write(b"x", lambda err=None: results.append(getattr(err, "code", err)))
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    assert results == ["ERR_STREAM_WRITE_AFTER_END"]
    assert [(n, getattr(a, "code", a)) for n, a in log] == [
        ("error", "ERR_STREAM_WRITE_AFTER_END"), ("close", True)]


async def test_destroy_closes_the_descriptor(pair: tuple[int, socket.socket]) -> None:
    # Node: destroy(): 'close'(false), the descriptor closed, the peer sees the end.
    fd, peer = pair
    sock = net.Socket({"fd": fd})
    closed = event(sock, "close")
    sock.destroy()
    assert await closed == (False,)
    assert not _is_open(fd)
    assert await _recv_all(peer) == b""


async def test_a_unix_stream_socket_descriptor() -> None:
    # Node (a Pipe handle): data both ways; no addresses (remoteAddress undefined).
    ours, peer = socket.socketpair()
    peer.setblocking(False)
    loop = asyncio.get_running_loop()
    try:
        sock = net.Socket({"fd": ours.detach()})
        assert sock.remote_address is None and sock.remote_port is None
        sock.write(b"ping")
        assert await asyncio.wait_for(loop.sock_recv(peer, 10), TIMEOUT) == b"ping"
        await loop.sock_sendall(peer, b"pong")
        data = event(sock, "data")
        assert await data == (b"pong",)
        sock.end()
        assert await _recv_all(peer) == b""
        peer.shutdown(socket.SHUT_WR)
        await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    finally:
        peer.close()


@pytest.mark.parametrize(("value", "exc", "code", "message"), [
    (-1, ValueError, "ERR_OUT_OF_RANGE",
     'The value of "fd" is out of range. It must be >= 0 && <= 2147483647. Received -1'),
    (2**31, ValueError, "ERR_OUT_OF_RANGE",
     'The value of "fd" is out of range. It must be >= 0 && <= 2147483647. Received 2147483648'),
    (1.5, ValueError, "ERR_OUT_OF_RANGE",
     'The value of "fd" is out of range. It must be an integer. Received 1.5'),
    ("3", TypeError, "ERR_INVALID_ARG_TYPE", 'The "fd" argument must be of type number.'),
    (True, TypeError, "ERR_INVALID_ARG_TYPE", 'The "fd" argument must be of type number.'),
])
def test_the_fd_option_is_checked(value: Any, exc: type[Exception], code: str,
                                  message: str) -> None:
    # Node's validateInt32(fd, 'fd', 0) (node: val.js).
    with pytest.raises(exc) as info:
        net.Socket({"fd": value})
    assert info.value.code == code  # type: ignore[attr-defined]
    assert str(info.value).startswith(message)


async def test_a_descriptor_that_is_not_a_stream_socket_is_refused() -> None:
    # Node: ERR_INVALID_FD_TYPE, a TypeError "Unsupported fd type: FILE" (UDP, UNKNOWN for a
    # closed one). The descriptor is left open. (A pipe is a Pipe handle, as in Node:
    # test_net_pipe_fd.py.)
    file_fd = os.open(os.devnull, os.O_RDONLY)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    closed = os.dup(file_fd)
    os.close(closed)
    try:
        for fd, kind in ((file_fd, "FILE"), (udp.fileno(), "UDP"), (closed, "UNKNOWN")):
            with pytest.raises(TypeError) as info:
                net.Socket({"fd": fd})
            assert info.value.code == "ERR_INVALID_FD_TYPE"  # type: ignore[attr-defined]
            assert str(info.value) == f"Unsupported fd type: {kind}"
            if fd != closed:
                assert _is_open(fd)
    finally:
        os.close(file_fd)
        udp.close()


# -- server.listen({'fd': n}) and listen(handle) ----------------------------------------------------


def _bound(listening: bool = False) -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    if listening:
        sock.listen()
    return sock


async def _serve_one(server: net.Server, port: int) -> bytes:
    client = net.connect(port, "127.0.0.1")
    chunks: list[bytes] = []
    client.on("data", chunks.append)
    await asyncio.wait_for(client.wait_closed(), TIMEOUT)
    return b"".join(chunks)


@pytest.mark.parametrize("state", ["bound", "listening", "unbound"])
async def test_listen_on_a_tcp_descriptor(state: str) -> None:
    # Node: listening in the call, 'listening' a step later, address() the socket's (an
    # unbound one gets a free port on 0.0.0.0), connections served, close() closes the
    # descriptor.
    sock = socket.socket() if state == "unbound" else _bound(state == "listening")
    port = sock.getsockname()[1]
    fd = sock.detach()
    server = net.create_server(lambda conn: conn.end(b"hi"))
    listening = event(server, "listening")
    assert server.listen({"fd": fd}) is server
    assert server.listening is True and not listening.done()
    await listening
    address = server.address()
    assert isinstance(address, dict)
    assert address["address"] == ("0.0.0.0" if state == "unbound" else "127.0.0.1")
    assert address["port"] != 0 and (state == "unbound" or address["port"] == port)
    assert await _serve_one(server, address["port"]) == b"hi"
    await close_server(server)
    assert not _is_open(fd)


@pytest.mark.parametrize("form", ["handle dict", "object with fd", "fd and backlog"])
async def test_listen_forms_with_a_handle(form: str) -> None:
    # Node: listen({handle: {fd}}), listen(handleWithFd, backlog, cb), listen({fd, backlog}).
    fd = _bound().detach()
    server = net.create_server(lambda conn: conn.end(form.encode()))
    listened: list[str] = []
    if form == "handle dict":
        server.listen({"handle": {"fd": fd}}, lambda: listened.append(form))
    elif form == "object with fd":
        handle = type("Handle", (), {"fd": fd})()
        server.listen(handle, 5, lambda: listened.append(form))
    else:
        server.listen({"fd": fd, "backlog": 5}, lambda: listened.append(form))
    await server
    address = server.address()
    assert isinstance(address, dict)
    assert await _serve_one(server, address["port"]) == form.encode()
    await close_server(server)
    assert listened == [form] and not _is_open(fd)


async def test_listen_on_a_python_socket_keeps_its_descriptor() -> None:
    # Beyond Node (no Python sockets there): a socket.socket is listened on through a duplicate
    # of its descriptor, so the object stays the caller's (and closing the server leaves it).
    sock = _bound()
    port = sock.getsockname()[1]
    server = net.create_server(lambda conn: conn.end(b"dup"))
    try:
        await server.listen(sock)
        assert server.address() == {"address": "127.0.0.1", "family": "IPv4", "port": port}
        assert await _serve_one(server, port) == b"dup"
        await close_server(server)
        assert sock.fileno() != -1 and _is_open(sock.fileno())
    finally:
        sock.close()


async def test_listen_on_a_listening_servers_handle() -> None:
    # Node's listen(server): the second server takes the first one's handle (Node's share.js:
    # the connection goes to it); closing it closes the socket for the first one too, which
    # still says listening (more in test_net_fidelity31.py)
    first = net.create_server(lambda conn: conn.end(b"first"))
    second = net.create_server(lambda conn: conn.end(b"second"))
    await first.listen(0, "127.0.0.1")
    await second.listen(first)
    address = first.address()
    assert isinstance(address, dict) and second.address() == address
    assert await _serve_one(second, address["port"]) == b"second"
    await close_server(second)
    assert first.listening
    with pytest.raises(OSError):
        first.address()
    await close_server(first)


async def test_listen_on_a_server_that_is_not_listening_throws() -> None:
    # Node: a server without a handle is an object without port, path or fd:
    # ERR_INVALID_ARG_VALUE 'must have the property "port" or "path"', thrown.
    server = net.create_server()
    with pytest.raises(ValueError) as info:
        server.listen(net.create_server())
    assert info.value.code == "ERR_INVALID_ARG_VALUE"  # type: ignore[attr-defined]
    assert 'must have the property "port" or "path"' in str(info.value)
    assert server.listening is False


@pytest.mark.parametrize("options", [{"fd": -1}, {"fd": "3"}])
def test_listen_with_a_descriptor_that_is_not_a_number(options: dict[str, Any]) -> None:
    # Node (v2.js): {fd: -1} and {fd: 'x'} are no descriptor; no port or path either: thrown.
    with pytest.raises(ValueError) as info:
        net.create_server().listen(options)
    assert info.value.code == "ERR_INVALID_ARG_VALUE"  # type: ignore[attr-defined]
    assert 'must have the property "port" or "path"' in str(info.value)


async def test_listen_with_a_negative_fd_and_a_port_uses_the_port() -> None:
    # Node (v2.js): {fd: -1, port: 0} listens on a free port.
    server = net.create_server()
    await server.listen({"fd": -1, "port": 0, "host": "127.0.0.1"})
    address = server.address()
    assert isinstance(address, dict) and address["port"] != 0
    await close_server(server)


def _udp() -> int:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    return sock.detach()


def _connected() -> int:
    fd, peer = _connected_pair()
    peer.close()
    return fd


def _closed() -> int:
    fd = os.open(os.devnull, os.O_RDONLY)
    os.close(fd)
    return fd


def _pipe_read_end() -> int:
    read_end, write_end = os.pipe()
    os.close(write_end)
    return read_end


# (descriptor maker, Node's code, whether Node leaves the descriptor open; node: run.py)
_NOT_LISTENABLE: dict[str, tuple[Callable[[], Any], str, bool]] = {
    "file": (lambda: os.open(os.devnull, os.O_RDONLY), "EINVAL", True),
    "udp": (_udp, "EINVAL", True),
    "connected": (_connected, "EINVAL", False),
    "closed": (_closed, "EINVAL", False),
    "pipe": (_pipe_read_end, "ENOTSOCK", False),
    "fraction": (lambda: 1.5, "EINVAL", False),
}


@pytest.mark.parametrize("kind", list(_NOT_LISTENABLE))
async def test_listen_on_what_cannot_listen_is_an_error_event(kind: str) -> None:
    # Node: no throw, not listening; on the next step 'error' "listen EINVAL: invalid
    # argument" (a pipe: ENOTSOCK, "socket operation on non-socket"), syscall 'listen',
    # address null, no port; the descriptor is closed where Node had opened a handle on it
    # (a connected socket, a pipe); and a later listen() works.
    make, code, left_open = _NOT_LISTENABLE[kind]
    fd = make()
    try:
        server = net.create_server()
        seen: list[Any] = []
        server.on("error", seen.append)
        failed = event(server, "error")
        server.listen({"fd": fd}, lambda: seen.append("listening"))
        assert seen == [] and server.listening is False
        (err,) = await failed
        assert seen == [err]
        text = "invalid argument" if code == "EINVAL" else "socket operation on non-socket"
        assert (err.code, str(err), err.syscall, err.address) == (
            code, f"listen {code}: {text}", "listen", None)
        assert not hasattr(err, "port")
        assert server.listening is False
        if isinstance(fd, int) and kind != "closed":
            assert _is_open(fd) is left_open
        server.remove_all_listeners("listening")
        await server.listen(0, "127.0.0.1")
        await close_server(server)
    finally:
        if isinstance(fd, int) and _is_open(fd) and kind != "closed":
            os.close(fd)


async def test_listen_on_a_unix_socket_descriptor(tmp_path: Any) -> None:
    # Node (a Pipe handle): listening; address() is null (no name from a descriptor); a client
    # connects by the path; close() closes the descriptor (the file stays: not the server's).
    path = str(tmp_path / "fd.sock")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(path)
    fd = sock.detach()
    server = net.create_server(lambda conn: conn.end(b"unix"))
    await server.listen({"fd": fd})
    assert server.address() is None
    client = net.connect(path)
    chunks: list[bytes] = []
    client.on("data", chunks.append)
    await asyncio.wait_for(client.wait_closed(), TIMEOUT)
    assert chunks == [b"unix"]
    await close_server(server)
    assert not _is_open(fd) and os.path.exists(path)


async def test_a_node_client_reaches_a_server_on_a_descriptor(node_bin: str) -> None:
    # A real Node peer: node's net.connect to the port of a server listening on a descriptor
    # gets its greeting and end.
    fd = _bound().detach()
    server = net.create_server(lambda conn: conn.end(b"hello node"))
    await server.listen({"fd": fd})
    port = server.address()["port"]  # type: ignore[index]
    script = (f"const c=require('net').connect({port},'127.0.0.1');let d='';"
              "c.on('data',x=>d+=x);c.on('end',()=>{process.stdout.write(d)});")
    proc = await asyncio.create_subprocess_exec(node_bin, "-e", script,
                                                stdout=subprocess.PIPE)
    out, _ = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    assert out == b"hello node"
    await close_server(server)


# -- connect(server.address()) ----------------------------------------------------------------------


async def test_connect_takes_the_dict_of_server_address_but_no_other_unknown_key() -> None:
    # Node ignores unknown options: connect(server.address()) connects to its port. Here only
    # 'address' is ignored; other unknown keys stay refused (the API's policy).
    server = net.create_server(lambda conn: conn.end(b"ok"))
    await server.listen(0, "127.0.0.1")
    try:
        client = net.connect(server.address())
        assert await asyncio.wait_for(client, TIMEOUT) is client
        client.destroy()
        with pytest.raises(TypeError) as info:
            net.connect({**server.address(), "adress": 1})  # type: ignore[dict-item]
        assert info.value.code == "ERR_INVALID_ARG_TYPE"  # type: ignore[attr-defined]
    finally:
        await close_server(server)
