"""A TLS socket's write path and write completion in C (``_net/_fastpath.c``) against the Python
functions they mirror (``Socket._write_tail``'s branch for a handle that completes the write
later, ``_tls/write_completion.py``'s ``write_done`` and ``write_settle``): the same scripts run
with each over real loopback TLS connections and must come out the same; classes whose lookups
differ from Socket's, and states the C methods do not expect, get the Python functions. (What
those functions do, against Node's own behaviour, is test_tls_write_completion.py's, which runs
each scenario with both too.)"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import random
from typing import Any

import pytest
from tlsutil import listen, shut, wait

import nodetls as tls
from nodetls._net import fastpath
from nodetls._net.socket import Socket
from nodetls._tls import write_completion

C_METHODS = fastpath.reason is None

#: The Python functions the C file repeats step by step (a tripwire: changing one means changing
#: ``_net/_fastpath.c``'s ``settle_usual``, ``sock_write_done``, ``sock_write_settle`` to match,
#: then the digest here; ``Socket._write_tail`` has its own in tests/net/test_net_fastpath.py).
EXPECTED_DIGESTS = {"done": "c6043b5d1f5e0c3c", "settle": "36bd611416ba4181"}


def _python(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Socket, "write", fastpath.py_write)
    monkeypatch.setattr(tls.TLSSocket, "_tls_write_done", write_completion.write_done)
    monkeypatch.setattr(tls.TLSSocket, "_tls_write_settle", write_completion.write_settle)


def test_the_c_methods_are_in_place_with_the_python_docs() -> None:
    if not C_METHODS:
        pytest.skip(f"C methods not in use: {fastpath.reason}")
    for name, fn in (("_tls_write_done", write_completion.write_done),
                     ("_tls_write_settle", write_completion.write_settle)):
        method = tls.TLSSocket.__dict__[name]
        assert type(method).__name__ == "method_descriptor"
        assert str(inspect.signature(method)) == "(self, /)"
        assert method.__doc__ == fn.__doc__


def test_the_python_functions_are_the_ones_the_c_file_mirrors() -> None:
    digests = {name: hashlib.sha256(inspect.getsource(fn).encode()).hexdigest()[:16]
               for name, fn in (("done", write_completion.write_done),
                                ("settle", write_completion.write_settle))}
    assert digests == EXPECTED_DIGESTS, digests


_OPS = {"write": 6, "write_cb": 3, "write_str": 1, "tick": 4, "cork": 1, "uncork": 1}


async def _run_script(certs: Any, ops: list[tuple[str, int]], hwm: int | None,
                      echo_cb: bool) -> list[Any]:
    """``ops`` on a fresh TLS connection's client side (the server echoes from its ``'data'``
    listener: its writes complete when the pump's pass returns), then ``end()``; a trace of
    what is seen on both sides."""
    trace: list[Any] = []
    server_seen: set[Any] = set()
    echoed = 0
    all_back: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    total = 0

    def on_secure(s: tls.TLSSocket) -> None:
        def on_data(d: bytes) -> None:
            cb = (lambda err=None: server_seen.add(("cb", err))) if echo_cb else None
            server_seen.add(("w", s.write(d, None, cb), s.writable_length - len(d)))
        s.on("data", on_data)
        s.on("end", s.end)

    def on_back(d: bytes) -> None:
        nonlocal echoed
        echoed += len(d)
        if echoed == total and ended:
            all_back.done() or all_back.set_result(None)

    server, port = await listen(certs.server.options, on_secure)
    opts: dict[str, Any] = {"host": "127.0.0.1", "reject_unauthorized": False}
    if hwm is not None:
        opts["high_water_mark"] = hwm
    cli = tls.connect(port, opts)
    ended = False
    try:
        await wait(cli)
        cli.on("data", on_back)
        cli.on("drain", lambda: trace.append(("drain", cli.writable_length)))
        cli.on("finish", lambda: trace.append(("finish", cli.writable_length)))
        closed = asyncio.get_running_loop().create_future()
        cli.on("close", lambda e: closed.done() or closed.set_result(e))
        for op, n in ops:
            if op == "write":
                trace.append(("w", cli.write(b"w" * n)))
                total += n
            elif op == "write_cb":
                trace.append(("wcb", cli.write(b"c" * n, None, lambda err=None, n=n: trace.append(
                    ("cb", n, err, cli.writable_length)))))
                total += n
            elif op == "write_str":
                trace.append(("ws", cli.write("s" * n, "utf-8")))
                total += n
            elif op == "tick":
                await asyncio.sleep(0)
            elif op == "cork":
                cli.cork()
            elif op == "uncork":
                cli.uncork()
            trace.append((op, cli.writable_length, cli.writable_need_drain, cli.bytes_written))
        while cli.writable_corked:
            cli.uncork()
        ended = True
        if total == 0 or echoed == total:
            all_back.done() or all_back.set_result(None)
        cli.end(lambda *a: trace.append(("end cb", a)))
        trace.append(("ended", cli.writable_length))
        await wait(all_back)
        assert await wait(closed) is False
        trace.append(("closed", echoed, total, sorted(server_seen, key=repr)))
    finally:
        cli.destroy()
        await shut(server)
    return trace


@pytest.mark.parametrize("seed", range(24))
async def test_random_sequences_come_out_the_same(certs: Any, seed: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    if not C_METHODS:
        pytest.skip(f"C methods not in use: {fastpath.reason}")
    rnd = random.Random(seed)
    names, weights = list(_OPS), list(_OPS.values())
    ops = [(rnd.choices(names, weights)[0], rnd.choice((1, 7, 64, 1000, 20000)))
           for _ in range(25)]
    hwm = rnd.choice((None, 1, 100, 30000))
    echo_cb = rnd.random() < 0.3
    with_c = await _run_script(certs, ops, hwm, echo_cb)
    _python(monkeypatch)
    with_python = await _run_script(certs, ops, hwm, echo_cb)
    assert with_c == with_python


async def test_a_subclass_shadowing_a_slot_gets_the_python_functions(certs: Any) -> None:
    """A TLSSocket subclass whose ``_w_len`` is a property: the C methods are not eligible for
    it, so its writes and their completion go through the Python functions (which read the
    property), with the same outcome as a plain TLSSocket's."""
    seen: list[int] = []

    class Shadowing(tls.TLSSocket):
        @property  # type: ignore[misc]
        def _w_len(self) -> int:
            v: int = self.__dict__.get("_wl", 0)
            seen.append(v)
            return v

        @_w_len.setter
        def _w_len(self, value: int) -> None:
            self.__dict__["_wl"] = value

    async def script(cls: type[tls.TLSSocket]) -> list[Any]:
        got: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        data = bytearray()

        def on_secure(s: tls.TLSSocket) -> None:
            s.on("data", lambda d: (data.extend(d), len(data) == 9 and got.set_result(bytes(data))))

        server, port = await listen(certs.server.options, on_secure)
        try:
            cli = cls(None, {"reject_unauthorized": False})
            cli.connect(port, "127.0.0.1")
            log: list[Any] = []
            for chunk in (b"abc", b"def", b"ghi"):  # (a hand-made client: its first write
                log.append(cli.write(chunk, None, lambda err=None: log.append(  # starts it)
                    ("cb", err, cli.writable_length))))
                log.append(cli.writable_length)
            assert await wait(got) == b"abcdefghi"
            cli.write(b"!")
            log.append(cli.writable_length)
            for _ in range(3):
                await asyncio.sleep(0)
            log.append(cli.writable_length)
            cli.destroy()
        finally:
            await shut(server)
        return log

    plain = await script(tls.TLSSocket)
    assert not seen
    assert await script(Shadowing) == plain
    assert seen  # the property was read: the Python functions ran
    assert plain[-2:] == [1, 0]


async def test_an_unexpected_kind_of_state_goes_to_the_python_function(
        certs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``_w_need_drain`` holding 0 rather than False (a kind the C test does not take): the C
    ``_tls_write_done`` hands the completion to the Python function, which completes it."""
    if not C_METHODS:
        pytest.skip(f"C methods not in use: {fastpath.reason}")
    calls: list[str] = []
    real = write_completion.write_done
    fastpath_done = tls.TLSSocket.__dict__["_tls_write_done"]

    def spy(sock: Any) -> None:
        calls.append("python")
        real(sock)

    # the C method calls the reference it was given at setup; give it the spy for this test
    from nodetls._net import _fastpath  # type: ignore[attr-defined]

    _fastpath.setup_completion(spy, write_completion.write_settle, Socket._on_write_done)
    try:
        server, port = await listen(certs.server.options, lambda s: s.resume())
        try:
            cli = tls.connect(port, {"host": "127.0.0.1", "reject_unauthorized": False})
            await wait(cli)
            cli.write(b"x")
            assert cli.writable_length == 1
            cli._w_need_drain = 0
            fastpath_done(cli)
            assert calls == ["python"] and cli.writable_length == 0
            calls.clear()
            cli.write(b"y")
            cli._w_need_drain = False
            fastpath_done(cli)
            assert calls == [] and cli.writable_length == 0  # the usual case, in C
            cli.destroy()
        finally:
            await shut(server)
    finally:
        _fastpath.setup_completion(real, write_completion.write_settle, Socket._on_write_done)
