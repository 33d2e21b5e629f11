"""run(main): Node's process lifetime with ref()/unref()."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest

from nodetls import _run, net
from nodetls._run import run

pytestmark = pytest.mark.timeout(20)


def test_run_returns_mains_value_sync_and_async() -> None:
    assert run(lambda: 42) == 42

    async def main() -> str:
        await asyncio.sleep(0)
        return "async"

    assert run(main) == "async"


def test_run_propagates_mains_exception() -> None:
    def main() -> None:
        raise KeyError("main failed")

    with pytest.raises(KeyError):
        run(main)


def test_run_returns_while_an_unrefd_server_listens() -> None:
    state: dict[str, Any] = {}
    log: list[str] = []

    def main() -> None:
        server = net.create_server()
        server.on("close", lambda: log.append("close"))
        server.listen(0, "127.0.0.1", lambda: state.update(port=server.address()["port"]))
        server.unref()
        state["server"] = server

    start = time.monotonic()
    run(main)
    assert time.monotonic() - start < 2
    assert not _run._REGISTRIES
    # Node: the process exits and the OS closes the listening socket, with no 'close' event.
    # run() closes it when it returns: not listening any more, the port refuses connections.
    assert not state["server"].listening and log == []
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", state["port"]), timeout=5).close()


def test_run_waits_for_a_referenced_server_until_it_closes() -> None:
    log: list[str] = []

    def main() -> None:
        server = net.create_server()

        def on_listening() -> None:
            log.append("listening")
            asyncio.get_running_loop().call_later(0.2, lambda: server.close(lambda: log.append("closed")))

        server.listen(0, "127.0.0.1", on_listening)

    start = time.monotonic()
    run(main)
    assert log == ["listening", "closed"]
    assert time.monotonic() - start >= 0.19


def test_run_waits_for_sockets_and_their_close_events() -> None:
    log: list[Any] = []

    def main() -> None:
        def on_connection(sock: net.Socket) -> None:
            sock.on("data", lambda d: log.append(("server got", d)))
            sock.on("close", lambda had_error: log.append("server sock close"))
            server.close(lambda: log.append("server close"))  # stop accepting

        server = net.create_server(on_connection)

        def on_listening() -> None:
            client = net.connect(server.address()["port"], "127.0.0.1")
            client.on("connect", lambda: asyncio.get_running_loop().call_later(0.1, client.end, b"bye"))
            client.on("close", lambda had_error: log.append("client close"))

        server.listen(0, "127.0.0.1", on_listening)

    run(main)
    assert ("server got", b"bye") in log
    assert {"server sock close", "client close", "server close"} <= set(log)


def test_run_returns_while_an_unrefd_socket_is_open() -> None:
    def main() -> None:
        # As in Node, the accepted socket is referenced too: unref() it as well.
        server = net.create_server(lambda sock: sock.unref())

        def on_listening() -> None:
            client = net.connect(server.address()["port"], "127.0.0.1")
            client.unref()

        server.listen(0, "127.0.0.1", on_listening).unref()

    start = time.monotonic()
    run(main)
    assert time.monotonic() - start < 2


def test_ref_again_keeps_run_alive() -> None:
    log: list[str] = []

    def main() -> None:
        server = net.create_server()
        server.listen(0, "127.0.0.1")
        server.unref()
        server.ref()
        asyncio.get_running_loop().call_later(0.1, lambda: (log.append("closing"), server.close()))

    run(main)
    assert log == ["closing"]


def test_unknown_loop_name() -> None:
    with pytest.raises(ValueError):
        run(lambda: None, loop="nope")


def test_loop_factory_is_used() -> None:
    made: list[asyncio.AbstractEventLoop] = []

    def factory() -> asyncio.AbstractEventLoop:
        loop = asyncio.new_event_loop()
        made.append(loop)
        return loop

    assert run(lambda: asyncio.get_running_loop(), loop=factory) is made[0]


def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_run_picks_uvloop_by_default_and_asyncio_on_request(monkeypatch) -> None:
    pytest.importorskip("uvloop")  # a dependency on every platform uvloop supports
    monkeypatch.delenv("NODETLS_LOOP", raising=False)
    assert run(_loop_module).startswith("uvloop")
    assert run(_loop_module, loop="asyncio").startswith("asyncio")
    monkeypatch.setenv("NODETLS_LOOP", "asyncio")
    assert run(_loop_module).startswith("asyncio")
    assert run(_loop_module, loop="uvloop").startswith("uvloop")


def test_without_uvloop_the_default_is_asyncio(monkeypatch) -> None:
    import sys

    monkeypatch.delenv("NODETLS_LOOP", raising=False)
    monkeypatch.setitem(sys.modules, "uvloop", None)  # as if not installed
    assert run(_loop_module).startswith("asyncio")
    with pytest.raises(ImportError):
        run(_loop_module, loop="uvloop")
