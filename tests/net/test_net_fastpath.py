"""net.Socket's per-message methods in C (``_net/_fastpath.c``) against the Python methods they
replace: every scenario runs with each, over real loopback connections, and must come out the
same. The C methods take the data path only in the Python methods' data-path states; what they
hand on to the Python methods (other states, subclasses, listeners that raise) is here too."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import inspect
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from nodetls import net
from nodetls._net import fastpath
from nodetls._net.socket import Socket

from .netutil import TIMEOUT, close_server, event

C_METHODS = fastpath.reason is None


@pytest.fixture(params=["c", "python"])
def impl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Which methods ``net.Socket`` runs: the C ones (skipped where not built) or Python's."""
    if request.param == "c":
        if not C_METHODS:
            pytest.skip(f"C methods not in use: {fastpath.reason}")
    else:
        monkeypatch.setattr(Socket, "_on_handle_read", fastpath.py_read)
        monkeypatch.setattr(Socket, "write", fastpath.py_write)
    yield request.param


@pytest.fixture
async def pair(impl: str) -> AsyncIterator[tuple[net.Socket, net.Socket]]:
    """(client, server side) of one loopback TCP connection, both flowing-ready."""
    accepted: asyncio.Future[net.Socket] = asyncio.get_running_loop().create_future()
    server = net.create_server(lambda s: accepted.done() or accepted.set_result(s))
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    client = net.connect(server.address()["port"], "127.0.0.1")
    await event(client, "connect")
    peer = await asyncio.wait_for(accepted, TIMEOUT)
    try:
        yield client, peer
    finally:
        client.destroy()
        peer.destroy()
        await close_server(server)


def closed(sock: net.Socket) -> asyncio.Future[Any]:
    """A future for ``sock``'s 'close' (whatever 'error' came before), bounded."""
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    sock.on("close", lambda *a: fut.done() or fut.set_result(a))
    return asyncio.ensure_future(asyncio.wait_for(fut, TIMEOUT))


def test_the_c_methods_are_in_place_with_the_python_signatures_and_docs() -> None:
    if not C_METHODS:
        pytest.skip(f"C methods not in use: {fastpath.reason}")
    assert type(Socket.__dict__["write"]).__name__ == "method_descriptor"
    assert str(inspect.signature(Socket.write)) == "(self, /, data, encoding=None, callback=None)"
    assert Socket.write.__doc__ is not None and "socket.write" in Socket.write.__doc__
    assert str(inspect.signature(Socket._on_handle_read)) == "(self, /, view)"


def test_the_python_methods_are_the_ones_the_c_file_mirrors() -> None:
    """A tripwire: the C file repeats these two methods' data paths step by step. Changing
    either means changing ``_net/_fastpath.c`` to match, then the digest here."""
    digests = {name: hashlib.sha256(inspect.getsource(fn).encode()).hexdigest()[:16]
               for name, fn in (("read", fastpath.py_read), ("write", fastpath.py_write),
                                ("tail", Socket._write_tail))}
    assert digests == EXPECTED_DIGESTS, digests


EXPECTED_DIGESTS = {"read": "2aad522b03dd8794", "write": "6e1a9a589f7bcc5d", "tail": "2d71715cbbefc20b"}


async def test_data_counts_and_order_both_ways(pair: tuple[net.Socket, net.Socket]) -> None:
    client, peer = pair
    got: list[bytes] = []
    done = asyncio.get_running_loop().create_future()

    def on_data(chunk: bytes) -> None:
        got.append(chunk)
        if sum(map(len, got)) >= 3000 and not done.done():
            done.set_result(None)

    peer.on("data", lambda chunk: peer.write(chunk))  # echo, from the listener
    client.on("data", on_data)
    for i in range(30):
        assert client.write(bytes([65 + i % 26]) * 100) is True
    await asyncio.wait_for(done, TIMEOUT)
    assert b"".join(got) == b"".join(bytes([65 + i % 26]) * 100 for i in range(30))
    assert client.bytes_written == 3000 and client.bytes_read == 3000
    assert peer.bytes_read == 3000 and peer.bytes_written == 3000


def _count_eligible_calls() -> tuple[list[int], Any]:
    """A profile hook counting calls of fastpath's ``eligible()`` (the C methods' per-class
    decision), and the hook to restore."""
    count = [0]

    def hook(frame: Any, what: str, arg: Any) -> None:
        code = frame.f_code
        if what == "call" and code.co_name == "eligible" and code.co_filename == fastpath.__file__:
            count[0] += 1

    return count, hook


async def test_a_class_is_decided_once_not_per_message(impl: str) -> None:
    """The C methods decide a class once and remember it by the class's version tag; that
    held on CPython 3.11 and 3.12 only (3.13 no longer sets ``Py_TPFLAGS_VALID_VERSION_TAG``,
    and every message went through ``eligible()`` again: 2.5x the CPU of a round trip). Also
    for a class the data path does not serve (its decision short-circuits before any lookup
    that would give the class a tag)."""
    if impl != "c":
        pytest.skip("the C methods' cache")

    class Shadowing(net.Socket):
        @property  # type: ignore[misc]
        def _r_len(self) -> int:
            return 0

        @_r_len.setter
        def _r_len(self, value: int) -> None:
            pass

    accepted: list[net.Socket] = []
    server = net.create_server(accepted.append)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    count, hook = _count_eligible_calls()
    try:
        for cls in (net.Socket, Shadowing):
            sock = cls()
            sock.connect(server.address()["port"], "127.0.0.1")
            await event(sock, "connect")
            got: list[bytes] = []
            sock.on("data", got.append)
            count[0] = 0
            sys.setprofile(hook)
            try:
                for i in range(20):
                    sock._on_handle_read(bytes([97 + i]))
                    sock.write(b"w")
            finally:
                sys.setprofile(None)
            assert len(got) == 20
            assert count[0] <= 1, (cls.__name__, count[0])
            sock.destroy()
    finally:
        for s in accepted:
            s.destroy()
        await close_server(server)


async def test_a_direct_read_with_listeners_that_change_the_list(
        pair: tuple[net.Socket, net.Socket]) -> None:
    """Listeners added or removed while 'data' is emitted: the list as Python iterates it."""
    client, _ = pair
    calls: list[str] = []

    def late(chunk: bytes) -> None:
        calls.append("late:" + chunk.decode())

    def first(chunk: bytes) -> None:
        calls.append("first:" + chunk.decode())
        client.remove_listener("data", first)
        client.on("data", late)

    def second(chunk: bytes) -> None:
        calls.append("second:" + chunk.decode())

    client.on("data", first)
    client.on("data", second)
    client._on_handle_read(b"a")
    client._on_handle_read(memoryview(b"xbx")[1:2])
    assert calls == ["first:a", "second:a", "second:b", "late:b"]
    assert client.bytes_read == 2


async def test_a_listener_without_argument_async_and_raising(
        pair: tuple[net.Socket, net.Socket]) -> None:
    client, _ = pair
    calls: list[Any] = []
    loop = asyncio.get_running_loop()
    later_done = loop.create_future()

    async def later(chunk: bytes) -> None:
        calls.append(("async", chunk))
        later_done.set_result(None)

    def no_arg() -> None:
        calls.append("no-arg")

    client.on("data", no_arg)
    client.on("data", later)
    client._on_handle_read(b"z")
    await asyncio.wait_for(later_done, TIMEOUT)
    assert calls == ["no-arg", ("async", b"z")]
    client.remove_listener("data", no_arg)
    client.remove_listener("data", later)

    errors: list[BaseException] = []
    client.on("error", errors.append)

    def bad(chunk: bytes) -> None:
        raise ValueError("listener broke")

    client.on("data", bad)
    done = closed(client)
    client._on_handle_read(b"y")
    await done
    assert [type(e) for e in errors] == [ValueError]
    # the traceback reaches into the listener
    tb = errors[0].__traceback__
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    assert frames[-1] == "bad"


class Interrupt(BaseException):
    pass


async def test_a_base_exception_from_a_listener_propagates(
        pair: tuple[net.Socket, net.Socket]) -> None:
    client, _ = pair

    def stop(chunk: bytes) -> None:
        raise Interrupt

    client.on("data", stop)
    with pytest.raises(Interrupt):
        client._on_handle_read(b"q")
    assert client.bytes_read == 1 and not client.destroyed


async def test_a_typeerror_inside_a_listener_is_not_retried(
        pair: tuple[net.Socket, net.Socket]) -> None:
    """Only a call the listener rejects is retried without the argument (EventEmitter)."""
    client, _ = pair
    calls: list[int] = []
    errors: list[BaseException] = []
    client.on("error", errors.append)

    def inner(chunk: bytes) -> None:
        calls.append(1)
        len(5)  # type: ignore[arg-type]

    client.on("data", inner)
    done = closed(client)
    client._on_handle_read(b"t")
    await done
    assert calls == [1] and [type(e) for e in errors] == [TypeError]


async def test_paused_and_high_water_reads(pair: tuple[net.Socket, net.Socket]) -> None:
    client, _ = pair
    got: list[bytes] = []
    client.on("data", got.append)
    client.pause()
    client._on_handle_read(b"held")
    assert got == [] and client.readable_length == 4
    client.resume()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert got == [b"held"]
    client._on_handle_read(b"flow")
    assert got == [b"held", b"flow"] and client.bytes_read == 8


async def test_a_subclass_overriding_emit1_or_shadowing_a_slot(impl: str) -> None:
    """Classes whose lookups differ from Socket's get the Python method's behaviour; a class
    changed after its first read too (the C method keys what it decided on the class's version
    tag; the Python method remembers classes that emit inline, so that is checked with C only)."""
    seen: list[Any] = []

    class Emitting(net.Socket):
        def _emit1(self, event: str, arg: Any) -> bool:
            seen.append(("emit1", event, arg))
            return super()._emit1(event, arg)

    class Shadowing(net.Socket):
        @property  # type: ignore[misc]
        def _r_len(self) -> int:
            seen.append("r_len")
            return 0

        @_r_len.setter
        def _r_len(self, value: int) -> None:
            pass

    class Plain(net.Socket):
        pass

    accepted: list[net.Socket] = []
    server = net.create_server(accepted.append)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    try:
        for cls in (Emitting, Shadowing, Plain):
            sock = cls()
            sock.connect(server.address()["port"], "127.0.0.1")
            await event(sock, "connect")
            got: list[bytes] = []
            sock.on("data", got.append)
            seen.clear()
            sock._on_handle_read(b"k")
            assert got == [b"k"]
            assert seen == {Emitting: [("emit1", "data", b"k")], Shadowing: ["r_len"] * 2,
                            Plain: []}[cls]
            if cls is Plain and impl == "c":
                cls._emit1 = lambda self, event, arg: seen.append("patched")  # type: ignore
                sock._on_handle_read(b"m")
                assert seen == ["patched"] and got == [b"k"]
                del cls._emit1  # type: ignore[attr-defined]
                sock._on_handle_read(b"n")
                assert seen == ["patched"] and got == [b"k", b"n"]
            sock.destroy()
    finally:
        for s in accepted:
            s.destroy()
        await close_server(server)


async def test_write_results_callbacks_and_state(pair: tuple[net.Socket, net.Socket]) -> None:
    client, peer = pair
    got = bytearray()
    peer.on("data", got.extend)
    assert client.write(b"one") is True
    called: list[Any] = []
    assert client.write(b"two", callback=lambda err=None: called.append(err)) is True
    assert client.write("three", "utf-8") is True
    assert client.write(b"") is True
    for _ in range(100):
        if len(got) >= 11:
            break
        await asyncio.sleep(0.01)
    assert bytes(got) == b"onetwothree"
    # a write taken at once returns True even past the high-water mark (as Node's);
    # with the peer not reading, the kernel's buffers fill: False, writable_need_drain, 'drain'
    assert client.write(b"x" * (client.writable_high_water_mark + 1)) is True
    peer.pause()
    sent = client.writable_high_water_mark + 1
    for _ in range(10000):
        sent += 65536
        if not client.write(b"y" * 65536):
            break
    else:
        raise AssertionError("write() never returned False")
    assert client.writable_need_drain is True
    drained = event(client, "drain")
    peer.resume()
    await drained
    for _ in range(500):
        if len(got) >= 11 + sent:
            break
        await asyncio.sleep(0.01)
    assert len(got) == 11 + sent
    assert called == [None]
    assert client.bytes_written == 11 + sent
    client.end()
    errors: list[BaseException] = []
    client.on("error", errors.append)
    done = closed(client)
    assert client.write(b"late") is False
    await done
    assert [getattr(e, "code", None) for e in errors] == ["ERR_STREAM_WRITE_AFTER_END"]


async def test_write_to_a_handle_that_raises(pair: tuple[net.Socket, net.Socket]) -> None:
    client, _ = pair

    class Broken:
        def write(self, data: bytes) -> bool:
            raise RuntimeError("handle broke")

    real = client._handle
    client._handle = Broken()
    try:
        with pytest.raises(RuntimeError, match="handle broke"):
            client.write(b"x")
    finally:
        client._handle = real


async def test_no_reference_is_kept_or_lost(pair: tuple[net.Socket, net.Socket]) -> None:
    """Reads and writes give back every reference they take (the chunk, the listener)."""
    client, _ = pair
    chunk = b"refcount" * 8
    got: list[int] = []

    def listener(data: bytes) -> None:
        got.append(len(data))

    client.on("data", listener)
    for _ in range(10):
        client._on_handle_read(chunk)
        client.write(chunk)
    gc.collect()
    before = (sys.getrefcount(chunk), sys.getrefcount(listener))
    for _ in range(1000):
        client._on_handle_read(chunk)
        client.write(chunk)
    gc.collect()
    assert (sys.getrefcount(chunk), sys.getrefcount(listener)) == before
    assert len(got) == 1010


async def test_a_listener_that_fills_the_buffer_stops_the_handle_reading(
        pair: tuple[net.Socket, net.Socket]) -> None:
    """After the listeners: the buffer at the high-water mark (or the stream ended) stops
    the handle reading, as Node's addChunk -> maybeReadMore does not read more."""
    client, _ = pair
    hwm = client.readable_high_water_mark

    def refill(chunk: bytes) -> None:
        client.pause()
        client.unshift(b"u" * hwm)

    client.on("data", refill)
    assert client._handle._reading is True
    client._on_handle_read(b"first")
    assert client._handle._reading is False
    assert client.readable_length == hwm


async def test_a_write_the_handle_reenters_is_queued_then_written(
        pair: tuple[net.Socket, net.Socket]) -> None:
    """A write made while the handle has the chunk (from inside its write) waits in the
    stream's buffer and reaches the handle next, in order."""
    client, _ = pair
    seen: list[bytes] = []
    real = client._handle

    class Reentering:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def write(self, data: bytes) -> bool:
            seen.append(bytes(data))
            if data == b"first":
                assert client.write(b"second") is True
            return True

    client._handle = Reentering()
    try:
        assert client.write(b"first") is True
        for _ in range(10):
            if len(seen) == 2:
                break
            await asyncio.sleep(0)
        assert seen == [b"first", b"second"]
        assert client.writable_length == 0
    finally:
        client._handle = real


async def test_a_listener_that_ends_the_stream_stops_the_handle_reading(
        pair: tuple[net.Socket, net.Socket]) -> None:
    client, _ = pair
    client.on("data", lambda chunk: client.push(None))
    assert client._handle._reading is True
    client._on_handle_read(b"last")
    assert client._handle._reading is False


# -- differential: random sequences of operations, C methods against Python's ---------------

# (operation, weight): mostly data both ways; what destroys or ends the socket, rarely
_OPS = {"read": 12, "read_view": 3, "write": 10, "write_cb": 2, "write_str": 2, "pause": 3,
        "resume": 4, "timeout_on": 1, "timeout_off": 2, "listener": 3, "listener_no_arg": 1,
        "listener_async": 1, "listener_raises": 0.3, "remove_listener": 2, "cork": 1,
        "uncork": 2, "encoding": 0.3, "end": 0.3, "tick": 4}


async def _run_script(ops: list[tuple[str, int]]) -> list[Any]:
    """Run ``ops`` on a fresh loopback connection's client side; a trace of what is seen."""
    trace: list[Any] = []
    accepted: list[net.Socket] = []
    server = net.create_server(accepted.append)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    client = net.connect(server.address()["port"], "127.0.0.1")
    await event(client, "connect")
    listeners: list[Any] = []
    client.on("error", lambda err: trace.append(("error", type(err).__name__,
                                                  getattr(err, "code", None))))
    client.on("drain", lambda: trace.append("drain"))
    try:
        for op, n in ops:
            try:
                if op == "read":
                    client._on_handle_read(bytes([97 + n % 26]) * n)
                elif op == "read_view":
                    client._on_handle_read(memoryview(b"<" + b"v" * n + b">")[1:-1])
                elif op == "write":
                    trace.append(("w", client.write(b"w" * n)))
                elif op == "write_cb":
                    trace.append(("wcb", client.write(b"c" * n, callback=lambda err=None: trace.append(
                        ("cb", type(err).__name__ if err else None)))))
                elif op == "write_str":
                    trace.append(("ws", client.write("s" * n, "utf-8")))
                elif op == "pause":
                    client.pause()
                elif op == "resume":
                    client.resume()
                elif op == "timeout_on":
                    client.set_timeout(3600)
                elif op == "timeout_off":
                    client.set_timeout(0)
                elif op.startswith("listener"):
                    k = len(listeners)
                    if op == "listener":
                        def fn(chunk: Any, k: int = k) -> None:
                            trace.append(("data", k, chunk))
                    elif op == "listener_no_arg":
                        def fn(k: int = k) -> None:  # type: ignore[misc]
                            trace.append(("data-no-arg", k))
                    elif op == "listener_async":
                        async def fn(chunk: Any, k: int = k) -> None:  # type: ignore[misc]
                            trace.append(("data-async", k, chunk))
                    else:
                        def fn(chunk: Any, k: int = k) -> None:
                            trace.append(("data-raises", k, chunk))
                            raise ValueError(k)
                    listeners.append(fn)
                    client.on("data", fn)
                elif op == "remove_listener" and listeners:
                    client.remove_listener("data", listeners.pop(n % len(listeners)))
                elif op == "cork":
                    client.cork()
                elif op == "uncork":
                    client.uncork()
                elif op == "encoding":
                    client.set_encoding("utf-8")
                elif op == "end":
                    client.end()
                elif op == "tick":
                    await asyncio.sleep(0)
            except Exception as exc:  # noqa: BLE001 - part of the trace
                trace.append(("raised", op, type(exc).__name__))
            trace.append((op, client.bytes_read, client.bytes_written, client.readable_length,
                          client.writable_length, client.readable_flowing, client.destroyed,
                          client.writable_need_drain))
        for _ in range(5):
            await asyncio.sleep(0)
        trace.append(("end", client.bytes_read, client.readable_length, client.destroyed))
    finally:
        client.destroy()
        for s in accepted:
            s.destroy()
        await close_server(server)
    return trace


@pytest.mark.parametrize("seed", range(60))
async def test_random_sequences_come_out_the_same(seed: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    if not C_METHODS:
        pytest.skip(f"C methods not in use: {fastpath.reason}")
    import random

    rnd = random.Random(seed)
    names, weights = list(_OPS), list(_OPS.values())
    ops = [(rnd.choices(names, weights)[0], rnd.choice((1, 5, 64, 1000, 20000)))
           for _ in range(40)]
    with_c = await _run_script(ops)
    monkeypatch.setattr(Socket, "_on_handle_read", fastpath.py_read)
    monkeypatch.setattr(Socket, "write", fastpath.py_write)
    with_python = await _run_script(ops)
    assert with_c == with_python


async def test_an_end_the_handle_reenters_finishes_after_the_write(
        pair: tuple[net.Socket, net.Socket]) -> None:
    """end() called while the handle has the chunk: the write completes through Writable's
    onwrite, then 'finish' (not the data path's quick return, which would leave end() waiting)."""
    client, _ = pair
    real = client._handle
    seen: list[bytes] = []

    class Ending:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def write(self, data: bytes) -> bool:
            seen.append(bytes(data))
            client.end()
            return real.write(data)

    finished = event(client, "finish")
    client._handle = Ending()
    try:
        assert client.write(b"last") is True
    finally:
        client._handle = real
    await finished
    assert seen == [b"last"] and client.writable_finished and client.writable_length == 0
