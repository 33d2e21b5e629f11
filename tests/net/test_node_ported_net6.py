"""A sixth batch of Node's own net tests (test/parallel/test-net-*.js), rewritten for nodetls.net.

Ports, by Node test name: server-capture-rejection (an ``async`` 'connection' listener that
raises), better-error-messages-port-hostname (a lookup error reaches 'error' as it is),
dns-custom-lookup's timing (a lookup that answers at once: 'lookup' inside ``connect()``; more
in test_net_lookup_sync.py), and, as divergences: listen-fd0 and server-listen-handle
(``listen({'fd': n})``).

Examined and not ported here, one line each:
test-net-connect-buffer2 is test-net-connect-buffer again: test_node_ported_net.py::
test_state_and_writes_queued_before_connect. test-net-dns-lookup and test-net-dns-lookup-skip:
test_net_echo_and_forms.py::test_lookup_event_for_host_names. test-net-dns-custom-lookup (the
answer's family, a bad address): test_net_args_node.py. test-net-eaddrinuse:
test_node_ported_net4.py and test_net_echo_and_forms.py (listen EADDRINUSE). test-net-remote-
address: test_node_ported_net.py::test_remote_address_unknown_while_connecting_and_kept_after_close.
test-net-socket-connect-invalid-autoselectfamilyattempttimeout and
test-net-autoselectfamily-attempt-timeout-default-value: test_net_auto_select_family.py.
test-net-server-unref: test_net_run_lifetime.py. test-net-connect-nodelay: ``no_delay`` True and
False in test_node_ported_net.py; Node's other truthy and falsy values (1, 'true', {}, 0, '') are
refused here, a documented choice (docs/node-mapping.md, "Option values").
Skipped: test-net-access-byteswritten (a getter on a JS prototype), test-net-end-close,
test-net-socket-write-after-close (a fake or closed ``_handle``: internals), test-net-listen-twice
(cluster), test-net-listen-after-destroying-stdin (process.stdin), test-net-connect-options-fd
(``new net.Socket({fd})``: the missing ``fd`` option is already an xfail in
test_node_ported_net4.py), test-net-server-listen-options-signal (AbortSignal: ``signal`` is
refused), test-net-blocklist, test-net-server-blocklist, test-net-reuseport (the ``blockList``
and ``reusePort`` options came after v20: node v20.20 ignores them), test-net-localport,
test-net-reconnect-error, test-net-server-address (not in the stored v20 tree; their scenarios,
``local_port``, reconnecting after ECONNREFUSED and ``address()``, are in test_net_args_node.py,
test_node_ported_net.py and test_net_server_attributes.py).

Every expectation was checked against node v20.20 running the same scenario (repro scripts in
/tmp/port30/: cr.js, bemph.js/bemph.py, lfd.js with lfd_run.py, lk2.js). Tests marked
``xfail(strict=True)`` assert Node v20's behaviour where nodetls differs.
"""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Any

import pytest

from nodetls import net

from .netutil import TIMEOUT, close_server, event


def future() -> asyncio.Future[Any]:
    return asyncio.get_running_loop().create_future()


def settle(fut: asyncio.Future[Any], value: Any = None) -> None:
    if not fut.done():
        fut.set_result(value)


def answer_localhost(host: str, options: Any, callback: Any) -> None:
    """A custom ``lookup`` that answers 127.0.0.1 at once (both of Node's answer shapes)."""
    if options.get("all"):
        callback(None, [{"address": "127.0.0.1", "family": 4}])
    else:
        callback(None, "127.0.0.1", 4)


# Node: test-net-server-capture-rejection
async def test_async_connection_listener_that_raises() -> None:
    # An async 'connection' listener closes the server and raises: the client sees
    # 'close'(false) and no error (node, with events.captureRejections: /tmp/port30/cr.js).
    # Node (captureRejections) destroys the accepted socket with the exception; nodetls, which
    # has no captureRejections, destroys it and reports the exception on the server's 'error'
    # (its handling of any raising server listener).
    boom = RuntimeError("kaboom")
    accepted: list[net.Socket] = []
    server_error = future()

    async def on_connection(sock: net.Socket) -> None:
        accepted.append(sock)
        server.close()
        raise boom

    server = net.create_server(on_connection)
    server.on("error", lambda e: settle(server_error, e))
    await server.listen(0, "127.0.0.1")
    client = net.connect(server.address()["port"], "127.0.0.1")
    log: list[str] = []
    client.on("error", lambda e: log.append(f"client error {getattr(e, 'code', e)}"))
    (had_error,) = await event(client, "close")
    assert had_error is False and log == []
    assert await asyncio.wait_for(server_error, TIMEOUT) is boom
    (sock,) = accepted
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    assert sock.destroyed
    await close_server(server)


# Node: test-net-better-error-messages-port-hostname
async def test_a_lookup_error_is_the_error_as_it_is() -> None:
    # create_connection({port: 0, host, lookup}) whose lookup fails with a getaddrinfo-like
    # error: port 0 is accepted, no 'connect', and 'error' carries that very error, its
    # message, code, errno, syscall and hostname unchanged and no port or host added; then
    # 'close'(true) (node: /tmp/port30/bemph.js).
    lookup_error = OSError("getaddrinfo ENOTFOUND something.invalid")
    lookup_error.code = "ENOTFOUND"  # type: ignore[attr-defined]
    lookup_error.errno = "ENOTFOUND"  # type: ignore[assignment]
    lookup_error.syscall = "getaddrinfo"  # type: ignore[attr-defined]
    lookup_error.hostname = "something.invalid"  # type: ignore[attr-defined]
    client = net.create_connection({"port": 0, "host": "something.invalid",
                                    "lookup": lambda h, o, cb: cb(lookup_error)})
    log: list[Any] = []
    client.on("connect", lambda: log.append("connect"))
    client.on("error", lambda e: log.append(e))
    closed = future()
    client.on("close", lambda had_error: settle(closed, had_error))
    assert await asyncio.wait_for(closed, TIMEOUT) is True
    (err,) = log
    assert err is lookup_error
    assert not hasattr(err, "port") and not hasattr(err, "host")
    assert str(err) == "getaddrinfo ENOTFOUND something.invalid"
    assert (err.code, err.errno, err.syscall, err.hostname) == (
        "ENOTFOUND", "ENOTFOUND", "getaddrinfo", "something.invalid")


# Node: test-net-dns-custom-lookup (its lookup answers in the same call: process.nextTick there
# is before connect() returns to the event loop, not before it returns to the caller; here at
# once, where node's timing shows)
async def test_a_lookup_that_answers_at_once_is_the_lookup_event_inside_connect() -> None:
    # new net.Socket(), a 'lookup' listener, then connect({host: 'x.test', lookup}) whose
    # lookup calls back before returning: Node emits 'lookup' inside connect(), before it
    # returns; 'connect' follows. Likewise a failing one: 'lookup'(err) inside connect(), then
    # 'error' (node: /tmp/port30/lk2.js: ["lookup ...", "returned", "connect"]).
    server = net.create_server(lambda s: s.destroy())
    await server.listen(0, "127.0.0.1")
    log: list[str] = []
    sock = net.Socket()
    sock.on("lookup", lambda err, address, family, host: log.append(
        f"lookup {err} {address} {family} {host}"))
    sock.on("connect", lambda: (log.append("connect"), sock.destroy()))
    sock.connect({"port": server.address()["port"], "host": "x.test",
                  "lookup": answer_localhost})
    log.append("returned")
    await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    await close_server(server)
    assert log == ["lookup None 127.0.0.1 4 x.test", "returned", "connect"]


# Node: test-net-listen-fd0
async def test_listen_on_fd_0_is_an_error_event() -> None:
    # listen({fd: 0}) where fd 0 is not a socket: no throw, no 'listening', an 'error'
    # EINVAL (a file; ENOTSOCK for a pipe) "listen EINVAL: invalid argument" (node:
    # /tmp/port30/lfd.js). Here a file's descriptor rather than the test runner's stdin.
    fd = os.open(os.devnull, os.O_RDONLY)
    try:
        server = net.create_server()
        errors = event(server, "error")
        server.listen({"fd": fd}, lambda: pytest.fail("listening on a file"))
        (err,) = await errors
        assert err.code == "EINVAL" and str(err) == "listen EINVAL: invalid argument"
        assert server.listening is False
    finally:
        os.close(fd)


# Node: test-net-server-listen-handle
async def test_listen_on_the_fd_of_a_bound_socket() -> None:
    # listen({fd}) with a TCP socket bound by someone else (here Python's socket module): the
    # server listens on it, address() is that socket's, and a client connects (node, the fd
    # passed to a child: /tmp/port30/lfd_run.py). The descriptor is the server's from then on
    # (node closes it with the server), so the Python object lets go of it (detach()).
    bound = socket.socket()
    bound.bind(("127.0.0.1", 0))
    port = bound.getsockname()[1]
    fd = bound.detach()
    server = net.create_server(lambda s: s.destroy())
    listening = event(server, "listening")
    server.listen({"fd": fd})
    await listening
    assert server.address() == {"address": "127.0.0.1", "family": "IPv4", "port": port}
    client = net.connect(port, "127.0.0.1")
    await asyncio.wait_for(client, TIMEOUT)
    client.destroy()
    await close_server(server)
    with pytest.raises(OSError):
        os.fstat(fd)  # closed with the server
