"""``'close'`` of a socket that never had a handle: Node emits it with no argument.

Node v20's ``Socket.prototype._destroy``: with a handle, ``'close'`` comes from the handle's close
callback with ``had_error``; without one, ``cb(exception)`` then ``process.nextTick(emitCloseNT)``,
which emits ``'close'`` with no argument (a listener's parameter is ``undefined``). Here the
argument is ``None`` (``undefined``'s counterpart; a listener with no parameter cannot tell,
one with a parameter keeps working). ``connect()`` makes the handle at once, so a socket
destroyed while it looks its host up, or refused, has one. Node v20.20 (``/tmp/netfix/c4.js``)::

    never connected destroy() close args 0 []
    b error x
    never connected destroy(err) close args 0 []
    rw false close args 0 []
    d error ECONNREFUSED
    refused close args 1 [true]
    connecting (lookup) destroy() close args 1 [false]
"""

from __future__ import annotations

import asyncio
from typing import Any

from nodetls import net

from .netutil import TIMEOUT, close_server


def _closed(sock: net.Socket, name: str, log: list[Any]) -> asyncio.Future[None]:
    fut = asyncio.get_running_loop().create_future()

    def on_close(*args: Any) -> None:
        log.append((name, "close", *args))
        fut.set_result(None)

    sock.on("close", on_close)
    return fut


async def test_never_connected_sockets_close_without_had_error_in_node_order() -> None:
    log: list[Any] = []
    a = net.Socket()
    done = [_closed(a, "a", log)]
    a.destroy()
    b = net.Socket()
    done.append(_closed(b, "b", log))
    b.on("error", lambda e: log.append(("b", "error", str(e))))
    b.destroy(Exception("x"))
    f = net.Socket({"readable": False, "writable": False})
    done.append(_closed(f, "f", log))
    f.destroy()
    await asyncio.wait_for(asyncio.gather(*done), TIMEOUT)
    assert log == [("a", "close", None), ("b", "error", "x"), ("b", "close", None),
                   ("f", "close", None)]


async def test_a_socket_that_had_a_handle_closes_with_had_error() -> None:
    log: list[Any] = []
    server = net.create_server()
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    port = server.address()["port"]  # type: ignore[index]
    await close_server(server)  # (now nothing listens there)
    looking_up = net.connect(port, "localhost")
    done = [_closed(looking_up, "lookup", log)]
    looking_up.destroy()
    refused = net.connect(port, "127.0.0.1")
    refused.on("error", lambda e: log.append(("refused", "error", e.code)))
    done.append(_closed(refused, "refused", log))
    await asyncio.wait_for(asyncio.gather(*done), TIMEOUT)
    assert sorted(log, key=str) == sorted([
        ("lookup", "close", False), ("refused", "error", "ECONNREFUSED"),
        ("refused", "close", True)], key=str)
    # connected, then destroyed: had_error False (its handle's close)
    server = net.create_server(lambda s: s.destroy())
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    sock = net.connect(server.address()["port"], "127.0.0.1")  # type: ignore[index]
    await asyncio.wait_for(sock, TIMEOUT)
    closed = _closed(sock, "connected", log)
    sock.destroy()
    await asyncio.wait_for(closed, TIMEOUT)
    assert log[-1] == ("connected", "close", False)
    await close_server(server)
