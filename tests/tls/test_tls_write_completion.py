"""When a TLS socket's write completes, as Node v20's (each expectation run under node v20.20).

Node's TLS write request completes once its ciphertext was written to the stream below (TCP or a
Duplex): until then it counts in ``writableLength`` and later writes wait in the Writable's
buffer; its callback, ``'drain'``, ``end()``'s ``'finish'`` follow from that completion. A write
made before the handshake completes after ``'secureConnect'``; a write in flight when the socket
is destroyed calls back with no error (``onWriteComplete`` on a destroyed stream), the buffered
ones with ``ERR_STREAM_DESTROYED``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tlsutil import event, listen, run_on, shut, wait

import nodetls as tls
from nodetls import net, stream
from nodetls._net import fastpath
from nodetls._net.socket import Socket
from nodetls._tls import write_completion

VERSIONS = ["TLSv1.2", "TLSv1.3"]


@pytest.fixture(autouse=True, params=["c", "python"])
def impl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each scenario twice: with the C write path and write completion (``_net/_fastpath.c``,
    skipped where not built) and with the Python functions they mirror."""
    if request.param == "c":
        if fastpath.reason is not None:
            pytest.skip(f"C methods not in use: {fastpath.reason}")
    else:
        monkeypatch.setattr(Socket, "write", fastpath.py_write)
        monkeypatch.setattr(tls.TLSSocket, "_tls_write_done", write_completion.write_done)
        monkeypatch.setattr(tls.TLSSocket, "_tls_write_settle", write_completion.write_settle)
    return str(request.param)


async def _client(certs: Any, port: int, version: str, over_duplex: bool,
                  **extra: Any) -> tuple[tls.TLSSocket, Any]:
    """A client of ``port`` (TLS ``version``), over TCP or over a Duplex piped to a net socket
    (Node's makeDuplexPair); the raw socket to destroy at the end, or None."""
    opts: dict[str, Any] = {"reject_unauthorized": False, "max_version": version, **extra}
    raw = None
    if over_duplex:
        client_side, server_side = stream.duplex_pair()
        raw = net.connect(port, "127.0.0.1")
        await wait(event(raw, "connect"))
        client_side.pipe(raw)
        raw.pipe(client_side)
        opts["socket"] = server_side
    else:
        opts.update(port=port, host="127.0.0.1")
    return tls.connect(opts), raw


#: Node (test-tls-buffersize's shape, with callbacks): three 1-byte writes and end(cb) in
#: 'secureConnect': writableLength 1, 2, 3 and still 3 after end(); the first write's callback
#: sees 2 (the other two went out together), the others 0; then end()'s callback, then
#: 'finish' with 0; the server reads "aaa"; the client closes without error.
WRITES_THEN_END = ["secure 0", "write0 1", "write1 2", "write2 3", "after end 3",
                   "cb0 (None,) 2", "cb1 (None,) 0", "cb2 (None,) 0", "end cb", "finish 0"]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("over_duplex", [False, True], ids=["tcp", "duplex"])
async def test_writes_then_end_complete_in_order(certs, version, over_duplex):
    assert await _writes_then_end(certs, version, over_duplex) == WRITES_THEN_END


@pytest.mark.parametrize("over_duplex", [False, True], ids=["tcp", "duplex"])
def test_writes_then_end_complete_in_order_on_uvloop(certs, over_duplex):
    # (the same on uvloop, whose loop takes the completions through call_soon)
    async def main() -> list[str]:
        return await _writes_then_end(certs, "TLSv1.3", over_duplex)

    assert run_on("uvloop", main) == WRITES_THEN_END


async def _writes_then_end(certs: Any, version: str, over_duplex: bool) -> list[str]:
    got: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def on_secure(s: tls.TLSSocket) -> None:
        data = bytearray()
        s.on("data", data.extend)
        s.on("end", lambda: (got.set_result(bytes(data)), s.end()))

    server, port = await listen({**certs.server.options, "max_version": version}, on_secure)
    log: list[str] = []
    try:
        cli, raw = await _client(certs, port, version, over_duplex)
        await wait(cli)
        log.append(f"secure {cli.writable_length}")
        for i in range(3):
            assert cli.write(b"a", None, lambda *a, i=i: log.append(
                f"cb{i} {a} {cli.writable_length}")) is True
            log.append(f"write{i} {cli.writable_length}")
        cli.on("finish", lambda: log.append(f"finish {cli.writable_length}"))
        closed = event(cli, "close")
        cli.end(lambda *a: log.append("end cb"))
        log.append(f"after end {cli.writable_length}")
        assert await wait(got) == b"aaa"
        assert await wait(closed) is False
        if raw is not None:
            raw.destroy()
    finally:
        await shut(server)
    return log


@pytest.mark.parametrize("version", VERSIONS)
async def test_drain_comes_between_the_callbacks(certs, version):
    # Node: high_water_mark 4, write("abc") true, write("defg") false (7 counted, need_drain);
    # the first callback sees 4, then 'drain' with 0, then the second callback.
    server, port = await listen({**certs.server.options, "max_version": version},
                                lambda s: s.pipe(s))
    log: list[str] = []
    try:
        cli, _ = await _client(certs, port, version, False, high_water_mark=4)
        await wait(cli)
        echoed = bytearray()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        cli.on("data", lambda d: (echoed.extend(d), len(echoed) == 7 and done.set_result(None)))
        cli.on("drain", lambda: log.append(f"drain {cli.writable_length}"))
        r1 = cli.write(b"abc", None, lambda *a: log.append(f"cb1 {a} {cli.writable_length}"))
        r2 = cli.write(b"defg", None, lambda *a: log.append(f"cb2 {a} {cli.writable_length}"))
        assert (r1, r2, cli.writable_length, cli.writable_need_drain) == (True, False, 7, True)
        await wait(done)
        assert bytes(echoed) == b"abcdefg"
        cli.destroy()
    finally:
        await shut(server)
    assert log == ["cb1 (None,) 4", "drain 0", "cb2 (None,) 0"]


@pytest.mark.parametrize("version", VERSIONS)
async def test_an_echo_counts_in_flight_until_the_loop_moves_on(certs, version):
    # Node: a server echoing from its 'data' listener sees writableLength == the chunk's length
    # right after write(), 0 on the next turn of the loop (Node's setImmediate).
    seen: list[int] = []
    turned: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_secure(s: tls.TLSSocket) -> None:
        def on_data(d: bytes) -> None:
            s.write(d)
            seen.append(s.writable_length)
            asyncio.get_running_loop().call_soon(
                lambda: (seen.append(s.writable_length), turned.done() or turned.set_result(None)))
        s.on("data", on_data)

    server, port = await listen({**certs.server.options, "max_version": version}, on_secure)
    try:
        cli, _ = await _client(certs, port, version, False)
        await wait(cli)
        back = event(cli, "data")
        cli.write(b"abc")
        assert bytes(await wait(back)) == b"abc"
        await wait(turned)
        cli.destroy()
    finally:
        await shut(server)
    assert seen == [3, 0]


@pytest.mark.parametrize("version", VERSIONS)
async def test_write_before_the_handshake_over_a_duplex_waits_for_it(certs, version):
    # Node: written right after tls.connect({socket: duplex}): counted until sent, its callback
    # after 'secureConnect', with no error; the server reads it.
    got: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    server, port = await listen({**certs.server.options, "max_version": version},
                                lambda s: s.on("data", lambda d: got.set_result(bytes(d))))
    log: list[str] = []
    try:
        cli, raw = await _client(certs, port, version, True)
        cli.on("secureConnect", lambda: log.append(f"secureConnect {cli.writable_length}"))
        assert cli.write(b"hello", None, lambda *a: log.append(
            f"cb {a} {cli.writable_length}")) is True
        log.append(f"write {cli.writable_length}")
        assert await wait(got) == b"hello"
        await wait(cli)
        cli.destroy()
        raw.destroy()
    finally:
        await shut(server)
    assert log == ["write 5", "secureConnect 5", "cb (None,) 0"]


async def test_destroy_with_a_write_in_flight(certs):
    # Node: write("a", cb1), write("b", cb2), destroy() in 'secureConnect': a tick queued after
    # the destroy first, then cb1 with null (the write in flight), cb2 with
    # ERR_STREAM_DESTROYED (buffered), then 'close'(false).
    server, port = await listen(certs.server.options, lambda s: s.resume())
    log: list[str] = []
    try:
        cli = tls.connect(port, {"host": "127.0.0.1", "reject_unauthorized": False})
        await wait(cli)
        cli.write(b"a", None, lambda err=None: log.append(f"cb1 {err and err.code}"))
        cli.write(b"b", None, lambda err=None: log.append(f"cb2 {err and err.code}"))
        closed = event(cli, "close")
        cli.destroy()
        asyncio.get_running_loop().call_soon(log.append, "tick")
        assert await wait(closed) is False
    finally:
        await shut(server)
    assert log == ["tick", "cb1 None", "cb2 ERR_STREAM_DESTROYED"]
