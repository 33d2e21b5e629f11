"""Old-style emitter streams: ``Readable.wrap`` / ``readable.wrap(stream)`` (Node v20's
``lib/internal/streams/readable.js``) and the base ``Stream.pipe`` (Node's
``Stream.prototype.pipe``, ``lib/internal/streams/legacy.js``). Every expected log below was
taken from node v20.20 running the same scenario (after Node's
test/parallel/test-stream2-readable-wrap*.js, test-stream-readable-wrap*.js and
test-stream-pipe-cleanup.js), with an ``EventEmitter`` that has ``pause()``/``resume()`` as the
old-style stream."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nodetls.events import EventEmitter
from nodetls.stream import PassThrough, Readable, Stream, Writable, pipeline
from tests.stream.streamutil import done, ticks


def _old(log: list[str], name: str) -> Any:
    s: Any = EventEmitter()
    s.paused = False

    def pause() -> None:
        log.append(f"{name} pause()")
        s.paused = True

    def resume() -> None:
        log.append(f"{name} resume()")
        s.paused = False

    s.pause = pause
    s.resume = resume
    s.on("error", lambda e: log.append(f"{name} error {getattr(e, 'code', None) or e}"))
    return s


def _watch(s: Any, log: list[str], name: str, *events: str) -> None:
    for ev in events:
        def on(*a: Any, _ev: str = ev) -> None:
            arg = a[0] if a else None
            detail = "" if arg is None else f" {getattr(arg, 'code', None) or arg!s}"
            log.append(f"{name} {_ev}{detail}")

        s.on(ev, on)


# -- Readable.wrap ------------------------------------------------------------------------------


async def test_static_wrap_reads_the_old_stream() -> None:
    """node: 'data abc', 'data def', 'end'; then the wrapper is destroyed (auto_destroy), which
    destroys the old stream: with no destroy()/close(), an AbortError emitted on it; 'close'."""
    log: list[str] = []
    s = _old(log, "src")
    r = Readable.wrap(s)
    assert isinstance(r, Readable)
    r.on("data", lambda c: log.append(f"data {c.decode()}"))
    _watch(r, log, "r", "end", "close", "error")
    s.emit("data", "abc")
    s.emit("data", b"def")
    s.emit("end")
    await done(r.wait_closed())
    assert log == ["data abc", "data def", "r end", "src error ABORT_ERR", "r close"]


async def test_instance_wrap_backpressure_through_pause_and_resume() -> None:
    """node (highWaterMark 4): wrap() returns the Readable; a push past the mark pauses the old
    stream (again at each such push); the next _read (read()) resumes it; its 'error' destroys
    the Readable with it."""
    log: list[str] = []
    s = _old(log, "src")
    r = Readable(high_water_mark=4)
    assert r.wrap(s) is r
    for chunk in ("ab", "cd", "ef"):
        s.emit("data", chunk)
    assert (r.readable_length, s.paused) == (6, True)
    assert log == ["src pause()", "src pause()"]
    assert r.read() == b"abcdef"
    assert log[-1] == "src resume()" and not s.paused
    _watch(r, log, "r", "error", "close")
    s.emit("error", RuntimeError("oops"))
    await done(r.wait_closed())
    assert log[3:] == ["src error oops", "r error oops", "r close"]


async def test_close_of_the_old_stream_destroys_the_wrapper() -> None:
    """node: 'src error AbortError' (destroyer of the static wrap), 'r close' with no error."""
    log: list[str] = []
    s = _old(log, "src")
    r = Readable.wrap(s)
    _watch(r, log, "r", "error", "close")
    s.emit("close")
    await done(r.wait_closed())
    assert log == ["src error ABORT_ERR", "r close"]
    assert r.errored is None


async def test_destroying_the_static_wrapper_destroys_the_old_stream() -> None:
    """node: the old stream's destroy(AbortError) is called; then 'close'."""
    log: list[str] = []
    s = _old(log, "src")
    s.destroy = lambda err=None: log.append(f"src.destroy {getattr(err, 'code', None)}")
    r = Readable.wrap(s)
    _watch(r, log, "r", "close")
    r.destroy()
    await done(r.wait_closed())
    assert log == ["src.destroy ABORT_ERR", "r close"]


async def test_destroying_an_instance_wrapper_leaves_the_old_stream() -> None:
    """node: readable.wrap() does not destroy the old stream; its 'destroy' event destroys the
    Readable (nothing more once destroyed)."""
    log: list[str] = []
    s = _old(log, "src")
    s.destroy = lambda err=None: log.append("src.destroy")
    r = Readable().wrap(s)
    _watch(r, log, "r", "close")
    r.destroy()
    s.emit("destroy")
    await done(r.wait_closed())
    await ticks()
    assert log == ["r close"]


async def test_own_functions_of_the_old_stream_are_proxied() -> None:
    """node: the old stream's own functions the Readable lacks are copied onto it (bound)."""
    log: list[str] = []
    s = _old(log, "src")
    s.foo = lambda: "foo!"
    r = Readable().wrap(s)
    assert r.foo() == "foo!"  # type: ignore[attr-defined]
    assert r.pause != s.pause  # (the Readable's own pause stays)


async def test_wrap_options_and_object_mode() -> None:
    r = Readable.wrap(_old([], "src"), {"highWaterMark": 2})
    assert r.readable_high_water_mark == 2
    with pytest.raises(ValueError, match="object mode"):
        Readable.wrap(_old([], "src"), object_mode=True)


async def test_a_chunk_that_is_not_bytes_fails_the_wrapper() -> None:
    """A non-object-mode Readable's push(5): ERR_INVALID_ARG_TYPE (node's static wrap is in
    object mode and takes it)."""
    s: Any = EventEmitter()
    r = Readable().wrap(s)
    errors: list[Any] = []
    r.on("error", errors.append)
    s.emit("data", 5)
    await done(r.wait_closed())
    assert [e.code for e in errors] == ["ERR_INVALID_ARG_TYPE"]


async def test_wrapped_old_stream_in_a_pipeline() -> None:
    loop = asyncio.get_running_loop()
    s: Any = EventEmitter()
    out: list[bytes] = []
    sink = Writable(write=lambda c, cb: (out.append(c), cb()))
    result: asyncio.Future[Any] = loop.create_future()
    pipeline(Readable.wrap(s), sink, lambda err=None, *_: result.set_result(err))
    s.emit("data", b"ab")
    s.emit("data", b"c")
    s.emit("end")
    assert await done(result) is None
    assert b"".join(out) == b"abc"


# -- Stream.pipe (an old-style Stream's) --------------------------------------------------------


def _legacy_source() -> tuple[Stream, list[str]]:
    log: list[str] = []
    src: Any = Stream()
    src.readable = True
    src.pause = lambda: log.append("pause()")
    src.resume = lambda: log.append("resume()")
    return src, log


def _counts(s: Any, *events: str) -> list[int]:
    return [s.listener_count(ev) for ev in events]


async def test_stream_pipe_writes_pauses_and_ends() -> None:
    """node: 'pipe' event; the listeners added (1 'data', 2 'end', 2 'close', 1 'error' on the
    source, 1 'drain', 1 'close' on the destination); pause() once write() says false; all
    removed at 'end'; the destination ends with both chunks."""
    loop = asyncio.get_running_loop()
    src, log = _legacy_source()
    got: list[bytes] = []

    def write(c: bytes, cb: Any) -> None:
        got.append(c)
        loop.call_soon(cb)

    dst = Writable(high_water_mark=3, write=write)
    dst.on("pipe", lambda s: log.append(f"pipe {s is src}"))
    assert src.pipe(dst) is dst
    assert _counts(src, "data", "end", "close", "error") == [1, 2, 2, 1]
    assert _counts(dst, "drain", "close") == [1, 1]
    src.emit("data", b"ab")
    src.emit("data", b"cd")
    src.emit("end")
    assert _counts(src, "data", "end", "close", "error") == [0, 0, 0, 0]
    assert _counts(dst, "drain", "error") == [0, 0]
    await done(dst.wait_closed())
    assert log == ["pipe True", "pause()"]
    assert got == [b"ab", b"cd"]


async def test_stream_pipe_resumes_on_drain() -> None:
    """node (highWaterMark 1): pause() at each write() that says false, resume() on
    'drain'."""
    loop = asyncio.get_running_loop()
    src, log = _legacy_source()
    dst = Writable(high_water_mark=1, write=lambda c, cb: loop.call_soon(cb))
    src.pipe(dst)
    src.emit("data", b"ab")
    src.emit("data", b"cd")
    drained: asyncio.Future[Any] = loop.create_future()
    dst.once("drain", lambda: drained.set_result(None))
    await done(drained)
    assert log == ["pause()", "pause()", "resume()"]


async def test_stream_pipe_close_before_end_destroys_the_destination() -> None:
    """node: 'close' without 'end' -> dest.destroy() (no error)."""
    src, _ = _legacy_source()
    d = PassThrough()
    src.pipe(d)
    src.emit("close")
    await done(d.wait_closed())
    assert d.destroyed and d.errored is None


async def test_stream_pipe_end_false() -> None:
    """node: {end: false}: the destination is left open; the listeners are removed."""
    for end in ({"end": False}, False):
        src: Any = Stream()
        d = PassThrough()
        src.pipe(d, end)
        src.emit("end")
        await ticks()
        assert not d.writable_ended
        assert _counts(src, "data") == [0]


async def test_stream_pipe_error_with_and_without_listener() -> None:
    """node: an 'error' removes the pipe; with no other listener it is re-emitted (thrown in
    node: the loop's exception handler here)."""
    loop = asyncio.get_running_loop()
    caught: list[Any] = []
    old = loop.get_exception_handler()
    loop.set_exception_handler(lambda lp, ctx: caught.append(ctx.get("exception")))
    try:
        src: Any = Stream()
        src.pipe(PassThrough())
        err = RuntimeError("E4")
        src.emit("error", err)
        assert caught == [err]
        assert _counts(src, "data", "error") == [0, 0]
    finally:
        loop.set_exception_handler(old)
    src = Stream()
    src.pipe(PassThrough())
    seen: list[Any] = []
    src.on("error", seen.append)
    src.emit("error", RuntimeError("E5"))
    assert [str(e) for e in seen] == ["E5"] and _counts(src, "data") == [0]


async def test_stream_pipe_skips_a_destination_no_longer_writable() -> None:
    src: Any = Stream()
    d = PassThrough()
    d.end()
    src.pipe(d)
    errors: list[Any] = []
    d.on("error", errors.append)
    src.emit("data", b"x")  # node: no write (no 'write after end' error)
    await ticks()
    assert errors == [] and d.errored is None and d.readable_length == 0
