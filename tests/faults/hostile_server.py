"""The server of the live hostile-client check (``test_hostile_clients.py``), run as its own
process: ``python hostile_server.py LOOP CERT KEY``.

A nodetls TLS echo server (the installed core: compiled when it is current) on ``LOOP``
(``asyncio`` or ``uvloop``).  It prints ``LISTENING <port>`` and then answers one command per line
on stdin with one JSON line on stdout:

* ``stats``: ``{"fds", "engines", "contexts", "connections", "accepted", "secure", "errors",
  "socket_errors", "bad"}`` after a full garbage collection (``errors``: the ``'tlsClientError'``
  codes, ``bad``: what broke the listener contract there, such as a second ``'tlsClientError'`` for
  one socket or one that is not a Node error);
* ``idle``: the same, once the server holds no connection: ``server.connections == 0`` (which
  drops at a socket's ``destroy()``, as Node's) and every accepted connection's raw socket
  emitted ``'close'`` (its handle closed: descriptor and engine gone). Counting at
  ``connections == 0`` alone raced the last connection's close (seen twice in about 50 runs
  under load: one descriptor and one engine still open).

The process must never write to stderr (the test fails on any byte there) and never exit but at
stdin's end.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import json
import os
import sys
import weakref
from typing import Any

import nodetls as tls
from nodetls._context.secure_context import live_contexts
from nodetls._engine import live_engines


async def main(cert: bytes, key: bytes) -> None:
    loop = asyncio.get_running_loop()
    errors: collections.Counter[str] = collections.Counter()
    socket_errors: collections.Counter[str] = collections.Counter()
    bad: list[str] = []
    counts = {"accepted": 0, "secure": 0}
    reported: weakref.WeakSet[Any] = weakref.WeakSet()  # sockets that had their error
    idle_waiters: list[asyncio.Future[None]] = []
    closed = [0]  # accepted connections whose raw socket emitted 'close'

    def busy() -> bool:
        # (server.connections drops at a socket's destroy(), as Node's; its descriptor and
        # engine go when its handle has closed: its raw socket's 'close')
        return bool(server.connections) or closed[0] < counts["accepted"]

    def on_raw_close(*_: Any) -> None:
        closed[0] += 1
        loop.call_soon(check_idle)

    def check_idle(*_: Any) -> None:
        if not busy():
            for fut in idle_waiters:
                fut.done() or fut.set_result(None)
            idle_waiters.clear()

    def on_connection(raw: Any) -> None:
        counts["accepted"] += 1
        raw.once("close", on_raw_close)

    def on_secure(sock: Any) -> None:
        counts["secure"] += 1
        sock.on("error", lambda e: socket_errors.update([str(getattr(e, "code", type(e)))]))
        sock.once("close", lambda *_: loop.call_soon(check_idle))
        sock.pipe(sock)

    def on_client_error(err: BaseException, sock: Any) -> None:
        code = getattr(err, "code", None)
        if not isinstance(code, str) or not code:
            bad.append(f"no Node code: {err!r}")
        if sock in reported:
            bad.append(f"second tlsClientError for one socket: {err!r}")
        reported.add(sock)
        errors.update([str(code)])
        sock.once("close", lambda *_: loop.call_soon(check_idle))

    server = tls.create_server({"cert": cert, "key": key}, on_secure)
    server.on("connection", on_connection)
    server.on("tlsClientError", on_client_error)
    server.on("error", lambda e: bad.append(f"server error: {e!r}"))
    await server.listen(0, "127.0.0.1")
    address = server.address()
    assert isinstance(address, dict)
    print("LISTENING", address["port"], flush=True)

    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).decode().strip():
        if line == "idle" and busy():
            fut: asyncio.Future[None] = loop.create_future()
            idle_waiters.append(fut)
            await fut
        gc.collect()
        print(json.dumps({"fds": len(os.listdir("/proc/self/fd")), "engines": live_engines(),
                          "contexts": live_contexts(), "connections": server.connections,
                          **counts, "errors": dict(errors), "socket_errors": dict(socket_errors),
                          "bad": bad}), flush=True)
    server.close()


if __name__ == "__main__":
    loop_name, cert_path, key_path = sys.argv[1:4]
    with open(cert_path, "rb") as c, open(key_path, "rb") as k:
        cert_pem, key_pem = c.read(), k.read()
    tls.run(lambda: main(cert_pem, key_pem), loop=loop_name)
