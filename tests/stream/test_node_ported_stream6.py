"""Node v20's own stream and events tests, sixth batch (session 31, stream pass 6), as scenarios
for ``nodetls.stream`` and ``nodetls.events``: Python names for Node's camelCase ones,
``loop.call_soon`` for ``process.nextTick``. Each expectation is what node v20 printed for the
same scenario (checked by running it); the Node test each one ports
(``test/parallel/test-stream-<name>.js``, ``test-event-<name>.js``) is named in its comment."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from nodetls import net, stream
from nodetls.events import EventEmitter
from nodetls.stream import Duplex, PassThrough, Readable, Transform, Writable

from .streamutil import code, done, ticks, when


def noread(*_: Any) -> None:
    pass


def watch(em: Any, name: str, log: list[str]) -> None:
    """Log ``em``'s 'error' (its code, else its message) and 'close' as ``name``."""
    em.on("error", lambda e: log.append(f"{name} error {code(e)}"))
    em.on("close", lambda: log.append(f"{name} close"))


@pytest.fixture
async def reports() -> AsyncIterator[list[BaseException]]:
    """What reaches the running loop's exception handler (Node: an uncaught exception or an
    unhandled rejection)."""
    got: list[BaseException] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, ctx: got.append(ctx["exception"]))
    try:
        yield got
    finally:
        loop.set_exception_handler(None)


# -- test-stream-destroy: stream.destroy(stream, err) ------------------------------------------


@pytest.mark.parametrize("kind", ["readable", "writable"])
async def test_destroy_function_without_error_aborts(kind: str) -> None:
    # test-stream-destroy: destroy(r) / destroy(w) on a stream not finished: destroyed at once,
    # then 'error' AbortError (ABORT_ERR, 'The operation was aborted') and 'close'.
    s: Any = Readable(read=noread) if kind == "readable" else Writable(write=noread)
    stream.destroy(s)
    assert s.destroyed is True
    errors: list[Any] = []
    s.on("error", errors.append)
    await done(when(s, "close"))
    assert [(e.code, str(e)) for e in errors] == [("ABORT_ERR", "The operation was aborted")]


@pytest.mark.parametrize("kind", ["readable", "writable"])
async def test_destroy_function_with_error(kind: str) -> None:
    # test-stream-destroy: destroy(s, new Error('asd')): that error, then 'close'.
    s: Any = Readable(read=noread) if kind == "readable" else Writable(write=noread)
    err = ValueError("asd")
    stream.destroy(s, err)
    assert s.destroyed is True
    log: list[str] = []
    watch(s, "s", log)
    await done(when(s, "close"))
    assert log == ["s error asd", "s close"]


async def test_destroy_function_on_finished_streams_no_error() -> None:
    # node: no AbortError for a stream that is neither readable nor writable any more: a
    # Readable whose 'end' came (autoDestroy false), a Writable after end(), a Duplex whose
    # readable side ended and writable side end()ed; a Duplex with end() only (still readable)
    # does get one.
    log: list[str] = []
    r = Readable(read=noread, auto_destroy=False)
    r.push(None)
    r.resume()
    watch(r, "r", log)

    def on_end() -> None:
        log.append("r end")
        stream.destroy(r)
        log.append(f"r destroyed {r.destroyed}")

    r.on("end", on_end)
    w = Writable(write=lambda chunk, cb: cb())
    w.end()
    watch(w, "w", log)
    stream.destroy(w)
    d = Duplex(read=noread, write=lambda chunk, cb: cb())
    d.end()
    watch(d, "d", log)
    stream.destroy(d)
    await done(asyncio.gather(when(r, "close"), when(w, "close"), when(d, "close")))
    assert log == ["w close", "d error ABORT_ERR", "d close", "r end", "r destroyed True",
                   "r close"]


async def test_destroy_function_no_op_cases() -> None:
    # node: destroy(null) does nothing; on a destroyed stream the new error is dropped.
    stream.destroy(None)
    r = Readable(read=noread)
    r.destroy()
    log: list[str] = []
    watch(r, "r", log)
    stream.destroy(r, ValueError("x"))
    await done(when(r, "close"))
    await ticks()
    assert log == ["r close"]


async def test_destroy_function_on_other_emitters() -> None:
    # node (destroyImpl.destroyer): an emitter with close() gets close() (the error dropped);
    # a plain emitter (not a stream) gets 'error' AbortError then 'close', later; a legacy
    # stream (on + pipe) with no readable/writable flag counts as finished: 'close' only; one
    # with readable = true gets the AbortError.
    log: list[str] = []
    closer = EventEmitter()
    closer.close = lambda: log.append("closer close()")  # type: ignore[attr-defined]
    stream.destroy(closer, ValueError("y"))
    plain = EventEmitter()
    watch(plain, "plain", log)
    stream.destroy(plain)
    legacy = EventEmitter()
    legacy.pipe = noread  # type: ignore[attr-defined]
    watch(legacy, "legacy", log)
    stream.destroy(legacy)
    legacy_r = EventEmitter()
    legacy_r.pipe = noread  # type: ignore[attr-defined]
    legacy_r.readable = True  # type: ignore[attr-defined]
    watch(legacy_r, "legacyR", log)
    stream.destroy(legacy_r)
    assert log == ["closer close()"]
    await done(when(legacy_r, "close"))
    await ticks()
    assert sorted(log) == sorted(["closer close()", "plain error ABORT_ERR", "plain close",
                                  "legacy close", "legacyR error ABORT_ERR", "legacyR close"])
    assert log.index("plain error ABORT_ERR") < log.index("plain close")
    assert log.index("legacyR error ABORT_ERR") < log.index("legacyR close")


def test_destroy_is_exported() -> None:
    assert "destroy" in stream.__all__ and callable(stream.destroy)


# -- test-stream-set-default-hwm ---------------------------------------------------------------


@pytest.fixture
def default_hwm() -> Iterator[None]:
    try:
        yield
    finally:
        stream.set_default_high_water_mark(False, 16384)
        stream.set_default_high_water_mark(True, 16)


def test_set_default_hwm_reaches_every_kind(default_hwm: None) -> None:
    # test-stream-set-default-hwm: after setDefaultHighWaterMark(false, 32000) and (true, 32),
    # the getters answer those; Writable, Readable, both sides of a Transform (and a
    # PassThrough) get 32000.
    assert stream.get_default_high_water_mark(False) != 32000
    stream.set_default_high_water_mark(False, 32000)
    assert stream.get_default_high_water_mark(False) == 32000
    assert stream.get_default_high_water_mark(True) != 32
    stream.set_default_high_water_mark(True, 32)
    assert stream.get_default_high_water_mark(True) == 32
    w = Writable(write=noread)
    r = Readable(read=noread)
    t = Transform(transform=lambda chunk, cb: cb(None, chunk))
    p = PassThrough()
    assert [w.writable_high_water_mark, r.readable_high_water_mark, t.writable_high_water_mark,
            t.readable_high_water_mark, p.readable_high_water_mark] == [32000] * 5


async def test_set_default_hwm_drives_backpressure(default_hwm: None) -> None:
    # node: with the default at 32000, write(31999 bytes) -> true, one more byte -> false
    # (writableLength 32000); push() likewise.
    stream.set_default_high_water_mark(False, 32000)
    w = Writable(write=noread)  # never calls back: everything after the first write waits
    assert [w.write(b"x" * 31999), w.write(b"x"), w.writable_length] == [True, False, 32000]
    r = Readable(read=noread)
    assert [r.push(b"x" * 31999), r.push(b"x")] == [True, False]


# -- test-event-capture-rejections (nodetls: always on, Node's captureRejections: true) ----------


async def test_two_rejecting_async_listeners_two_errors() -> None:
    # test-event-capture-rejections (captureRejectionsTwoHandlers): two async listeners that
    # throw the same error: emit() returns true, 'error' gets that object twice.
    ee = EventEmitter()
    err = RuntimeError("kaboom")
    seen: list[bool] = []
    got_two = asyncio.get_running_loop().create_future()

    async def fail(*_: Any) -> None:
        raise err

    def on_error(e: BaseException) -> None:
        seen.append(e is err)
        if len(seen) == 2:
            got_two.set_result(None)

    ee.on("something", fail).on("something", fail).on("error", on_error)
    assert ee.emit("something", 42) is True
    assert seen == []  # not inside emit()
    await done(got_two)
    await ticks()
    assert seen == [True, True]


async def test_rejection_args_stay_with_the_listener() -> None:
    # test-event-capture-rejections (configurable): the async listener sees (42, 'foobar');
    # the 'error' listener gets the error alone.
    ee = EventEmitter()
    calls: list[Any] = []

    async def fail(*args: Any) -> None:
        calls.append(args)
        raise RuntimeError("k")

    ee.on("something", fail)
    ee.on("error", lambda *a: calls.append((len(a), str(a[0]))))
    ee.emit("something", 42, "foobar")
    await done(when(ee, "error"))
    await ticks()
    assert calls == [(42, "foobar"), (1, "k")]


async def test_rejecting_error_listener_does_not_loop(reports: list[BaseException]) -> None:
    # test-event-capture-rejections (avoidLoopOnError): the async 'error' listener rejects with
    # kaboom2: called once, kaboom2 is unhandled (nodetls: the loop's exception handler).
    ee = EventEmitter()
    e1, e2 = RuntimeError("kaboom"), RuntimeError("kaboom2")
    calls: list[BaseException] = []

    async def fail() -> None:
        raise e1

    async def on_error(e: BaseException) -> None:
        calls.append(e)
        raise e2

    ee.on("something", fail).on("error", on_error)
    ee.emit("something")
    for _ in range(50):
        if reports:
            break
        await asyncio.sleep(0)
    await ticks()
    assert calls == [e1] and reports == [e2]


async def test_throwing_once_error_listener_then_recovers(reports: list[BaseException]) -> None:
    # test-event-capture-rejections (resetCaptureOnThrowInError): once('error') rethrows ->
    # uncaught (the loop's handler); a later rejection reaches a new 'error' listener, the only
    # one left.
    ee = EventEmitter()
    first = RuntimeError("kaboom")

    async def fail() -> None:
        raise first

    def once_error(e: BaseException) -> None:
        raise e

    ee.on("something", fail).once("error", once_error)
    ee.emit("something")
    for _ in range(50):
        if reports:
            break
        await asyncio.sleep(0)
    assert reports == [first]
    second = RuntimeError("kaboom2")

    async def fail2() -> None:
        raise second

    seen: list[Any] = []
    got = asyncio.get_running_loop().create_future()

    def on_error(e: BaseException) -> None:
        seen.append((e, ee.listener_count("error")))
        if not got.done():
            got.set_result(None)

    ee.on("something2", fail2).on("error", on_error)
    ee.emit("something2")
    await done(got)
    await ticks()
    assert seen == [(second, 1)] and reports == [first]


# -- test-stream-destroy, its http part with a net socket ---------------------------------------


async def _server(on_connection: Any) -> tuple[Any, int]:
    server = net.create_server(on_connection)
    await server.listen(0, "127.0.0.1")
    address: Any = server.address()
    return server, address["port"]


async def test_destroy_function_on_an_open_socket() -> None:
    # node (/tmp/port31/dn.js): destroy(socket) once connected: destroyed at once, 'error'
    # ABORT_ERR 'The operation was aborted', 'close'(true); the peer sees 'end', 'close'(false).
    log: list[str] = []
    peer_closed = asyncio.get_running_loop().create_future()

    def on_connection(c: Any) -> None:
        c.on("end", lambda: log.append("server end"))
        c.on("error", lambda e: log.append(f"server error {code(e)}"))

        def on_close(had: bool) -> None:
            log.append(f"server close {had}")
            if not peer_closed.done():
                peer_closed.set_result(None)

        c.on("close", on_close)
        c.resume()

    server, port = await _server(on_connection)
    try:
        s = net.connect(port, "127.0.0.1")
        s.on("error", lambda e: log.append(f"client error {code(e)} {e}"))
        s.on("close", lambda had: log.append(f"client close {had}"))
        await done(when(s, "connect"))
        stream.destroy(s)
        log.append(f"client destroyed {s.destroyed}")
        await done(peer_closed)
        await ticks()
    finally:
        server.close()
    assert log == ["client destroyed True", "client error ABORT_ERR The operation was aborted",
                   "client close True", "server end", "server close False"]


async def test_destroy_function_on_a_finished_socket() -> None:
    # node (/tmp/port31/dn2.js): the server end()s; on 'end' the client end()s and calls
    # destroy(socket): both sides done, so no AbortError: 'close'(false) only.
    def on_connection(c: Any) -> None:
        c.end(b"bye")
        c.resume()

    server, port = await _server(on_connection)
    log: list[str] = []
    try:
        s = net.connect(port, "127.0.0.1")
        s.resume()

        def on_end() -> None:
            log.append("client end")
            s.end()
            stream.destroy(s)
            log.append(f"destroyed {s.destroyed}")

        s.on("end", on_end)
        s.on("error", lambda e: log.append(f"client error {code(e)}"))
        (had,) = await done(when(s, "close"))
        log.append(f"client close {had}")
    finally:
        server.close()
    assert log == ["client end", "destroyed True", "client close False"]
