"""Node v20's own stream tests for pipeline / finished / Transform, as scenarios (second batch);
each expectation checked against node v20 running the same scenario (bytes where Node's tests
use object mode). The Node test each one ports is named in its comment."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nodetls.errors import NodeError
from nodetls.stream import (
    Duplex,
    PassThrough,
    Readable,
    Transform,
    Writable,
    finished,
    pipeline,
    promises,
)

TIMEOUT = 5.0


async def ticks(n: int = 5) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


def code(err: Any) -> Any:
    return None if err is None else getattr(err, "code", None) or str(err)


def run_pipeline(*stages: Any) -> tuple[Any, asyncio.Future[Any]]:
    """pipeline(*stages, cb): (its return value, a future of the callback's error)."""
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def cb(err: Any = None, *_: Any) -> None:
        if not fut.done():
            fut.set_result(err)

    return pipeline(*stages, cb), fut


async def done(fut: Any) -> Any:
    return await asyncio.wait_for(fut, TIMEOUT)


def when(emitter: Any, event: str) -> asyncio.Future[None]:
    """A future set by ``event`` (listening from now on, unlike a task not yet started)."""
    fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    emitter.once(event, lambda *_: fut.done() or fut.set_result(None))
    return fut


def sink(log: list[Any] | None = None) -> Writable:
    def write(chunk: Any, cb: Any) -> None:
        if log is not None:
            log.append(chunk)
        cb()

    return Writable(write=write)


# -- pipeline ------------------------------------------------------------------------------------


async def test_pipeline_with_empty_string_source() -> None:
    # test-stream-pipeline-with-empty-string.js: '' -> PassThrough -> async function resolves
    seen: list[Any] = []

    async def dest(src: Any) -> None:
        async for chunk in src:
            seen.append(chunk)

    assert await asyncio.wait_for(promises.pipeline("", PassThrough(), dest), TIMEOUT) is None
    assert seen == []


async def test_pipeline_queued_end_in_destroy() -> None:
    # test-stream-pipeline-queued-end-in-destroy.js: a Duplex whose _destroy calls end():
    # the callback still comes (ERR_STREAM_PREMATURE_CLOSE); _read called once; no 'finish'
    reads: list[int] = []
    readable = Readable(read=reads.append)

    def destroy(err: Any, cb: Any) -> None:
        duplex.end()
        cb(err)

    duplex = Duplex(write=lambda c, cb: None, read=lambda n: None, destroy=destroy)
    finishes: list[str] = []
    duplex.on("finish", lambda: finishes.append("finish"))
    _, fut = run_pipeline(readable, duplex)
    readable.push(b"foo")
    asyncio.get_running_loop().call_soon(readable.destroy)
    assert code(await done(fut)) == "ERR_STREAM_PREMATURE_CLOSE"
    await ticks()
    assert len(reads) == 1 and finishes == []


async def test_pipeline_listeners_removed_from_a_readable_last_stage() -> None:
    # test-stream-pipeline-listeners.js: the last stage readable (a Duplex): its 'error'
    # listeners are removed once done, the others' kept; a Writable last stage keeps them
    a = PassThrough()
    a.end(b"foobar")
    b = Duplex(write=lambda c, cb: cb())
    _, fut = run_pipeline(a, b)
    assert await done(fut) is None
    assert a.listener_count("error") > 0 and b.listener_count("error") == 0

    e = PassThrough()
    e.end(b"foobar")
    f = sink()
    _, fut = run_pipeline(e, f)
    assert await done(fut) is None
    assert e.listener_count("error") > 0 and f.listener_count("error") > 0


async def test_pipeline_duplex_back_into_its_source() -> None:
    # test-stream-pipeline-duplex.js: pipeline(remote, local, remote), remote.end() ->
    # ERR_STREAM_PREMATURE_CLOSE
    remote = PassThrough()
    local = Duplex(read=lambda n: None, write=lambda c, cb: cb())
    _, fut = run_pipeline(remote, local, remote)
    asyncio.get_running_loop().call_soon(remote.end)
    assert code(await done(fut)) == "ERR_STREAM_PREMATURE_CLOSE"


async def test_pipeline_close_after_eof_is_no_error() -> None:
    # test-stream-pipeline.js (nodejs/node#29699): 'close' emitted after push(None) but
    # before 'end' -> callback(undefined)
    r = Readable()
    _, fut = run_pipeline(r, sink())
    r.push(b"asd")
    r.push(None)
    r.emit("close")
    assert await done(fut) is None


async def test_pipeline_leaves_streams_as_node() -> None:
    # test-stream-pipeline.js: auto_destroy False -> neither destroyed; a PassThrough
    # destination stays (readable), unless readable=False; a source that only pushed None keeps
    # its writable side
    s1, d1 = PassThrough(auto_destroy=False), PassThrough(auto_destroy=False)
    _, fut = run_pipeline(s1, d1)
    s1.end()
    assert await done(fut) is None and (s1.destroyed, d1.destroyed) == (False, False)

    s2, d2 = PassThrough(), PassThrough()
    _, fut = run_pipeline(s2, d2)
    s2.end()
    assert await done(fut) is None and d2.destroyed is False

    s3, d3 = PassThrough(), PassThrough()
    d3.readable = False
    _, fut = run_pipeline(s3, d3)
    s3.end()
    assert await done(fut) is None and d3.destroyed is True

    s4, d4 = PassThrough(), PassThrough()
    _, fut = run_pipeline(s4, d4)
    s4.push(None)
    assert await done(fut) is None and s4.writable is True and s4.destroyed is False


async def test_pipeline_generator_stage_destination_destroyed() -> None:
    # test-stream-pipeline.js: src -> async generator; the returned stream destroyed ->
    # ERR_STREAM_PREMATURE_CLOSE
    src = PassThrough()

    async def same(source: Any) -> Any:
        async for chunk in source:
            yield chunk

    dst, fut = run_pipeline(src, same)
    src.push(b"asd")
    dst.destroy()
    assert code(await done(fut)) == "ERR_STREAM_PREMATURE_CLOSE"


async def test_pipeline_waits_for_the_source_close() -> None:
    # test-stream-pipeline.js: a source whose _destroy calls back on a later tick: the
    # callback comes after its 'close'
    closed: list[bool] = []
    src = Readable(destroy=lambda err, cb: asyncio.get_running_loop().call_soon(cb))
    src.on("close", lambda: closed.append(True))
    src.push(None)
    _, fut = run_pipeline(src, sink())
    assert await done(fut) is None and closed == [True]


async def test_pipeline_does_not_destroy_a_duplex_still_finishing() -> None:
    # test-stream-pipeline.js: auto_destroy False Duplex, slow _final: write, read, the sink
    # gets the data, the callback (no error), then final completes; _destroy never called
    log: list[Any] = []

    def write(data: Any, cb: Any) -> None:
        log.append("write")
        d.push(data)
        cb()

    def read(_n: int) -> None:
        log.append("read")
        d.push(None)

    def final(cb: Any) -> None:
        def later() -> None:
            log.append(f"final destroyed={d.destroyed}")
            cb()

        asyncio.get_running_loop().call_later(0.01, later)

    d = Duplex(auto_destroy=False, write=write, read=read, final=final,
               destroy=lambda e, cb: (log.append("destroy"), cb(e)))
    s = Writable(write=lambda data, cb: (log.append(f"sink {data.decode()}"), cb()))
    _, fut = run_pipeline(d, s)
    finish = when(d, "finish")
    d.write(b"test")
    d.end()
    log.append(f"cb {await done(fut)}")
    await asyncio.wait_for(finish, TIMEOUT)
    assert log == ["write", "read", "sink test", "cb None", "final destroyed=False"]


async def test_pipeline_waits_for_an_async_flush() -> None:
    # test-stream-pipeline.js: the last stage a Transform whose flush calls back later
    flushed: list[bool] = []

    def flush(cb: Any) -> None:
        asyncio.get_running_loop().call_later(0.001, lambda: (flushed.append(True), cb(None)))

    inp = Readable()
    inp.push(None)
    _, fut = run_pipeline(inp, Transform(transform=lambda c, cb: cb(None, c), flush=flush))
    assert await done(fut) is None and flushed == [True]


async def test_pipeline_invalid_return_value_leaves_the_stream() -> None:
    # test-stream-pipeline.js: ERR_INVALID_RETURN_VALUE thrown; the PassThrough not destroyed
    for stages in (lambda s: (lambda: None, s), lambda s: (s, lambda src: None, s),
                   lambda s: (s, lambda src: None)):
        s = PassThrough()
        with pytest.raises(TypeError) as info:
            pipeline(*stages(s), lambda *a: None)
        assert info.value.code == "ERR_INVALID_RETURN_VALUE"  # type: ignore[attr-defined]
        assert s.destroyed is False


async def test_promises_pipeline_leaves_the_destination_as_node() -> None:
    # test-stream-pipeline.js: await pipeline(read, duplex) -> duplex not destroyed; with
    # {end: False} not ended either; an array of a Readable.from_ and a Writable
    read = Readable()
    dup = PassThrough()
    read.push(None)
    await asyncio.wait_for(promises.pipeline(read, dup), TIMEOUT)
    assert dup.destroyed is False
    read2 = Readable()
    dup2 = PassThrough()
    read2.push(None)
    await asyncio.wait_for(promises.pipeline(read2, dup2, {"end": False}), TIMEOUT)
    assert (dup2.destroyed, dup2.writable_ended) == (False, False)

    text: list[bytes] = []
    w = sink(text)
    fin: list[bool] = []
    w.on("finish", lambda: fin.append(True))
    await asyncio.wait_for(promises.pipeline([Readable.from_("Hello World!"), w]), TIMEOUT)
    assert fin == [True] and b"".join(text) == b"Hello World!"


# -- finished ------------------------------------------------------------------------------------


def _readable(**o: Any) -> Readable:
    return Readable(**o)


def _writable(**o: Any) -> Writable:
    return Writable(write=lambda c, cb: None, **o)


@pytest.mark.parametrize("factory", [_readable, _writable], ids=["readable", "writable"])
async def test_finished_on_destroyed_streams(factory: Any) -> None:
    # test-stream-finished.js testClosed(): disposed at once -> no call; destroyed -> premature
    # close; a slow _destroy -> only once it completed; emit_close False, finished() from
    # inside _destroy -> still called; deep async -> called
    out: list[str] = []
    s = factory()
    s.destroy()
    finished(s, lambda e: out.append("disposed-called"))()
    s = factory()
    s.destroy()
    finished(s, lambda e: out.append(f"destroyed {code(e)}"))

    state = {"destroyed": False}

    def slow(err: Any, cb: Any) -> None:
        def later() -> None:
            state["destroyed"] = True
            cb()

        asyncio.get_running_loop().call_later(0.001, later)

    s = factory(destroy=slow)
    s.destroy()
    finished(s, lambda e: out.append(f"async {state['destroyed']} {code(e)}"))

    def in_destroy(err: Any, cb: Any) -> None:
        cb()
        finished(s2, lambda e: out.append(f"noclose {code(e)}"))

    s2 = factory(emit_close=False, destroy=in_destroy)
    s2.destroy()

    def deep(err: Any, cb: Any) -> None:
        loop = asyncio.get_running_loop()

        def first() -> None:
            cb()
            loop.call_later(0.001, finished, s3, lambda e: out.append(f"deep {code(e)}"))

        loop.call_later(0.001, first)

    s3 = factory(destroy=deep)
    s3.destroy()
    for _ in range(100):
        if len(out) >= 4:
            break
        await asyncio.sleep(0.002)
    await ticks()
    premature = "ERR_STREAM_PREMATURE_CLOSE"
    assert sorted(out) == sorted([f"destroyed {premature}", f"noclose {premature}",
                                  f"async True {premature}", f"deep {premature}"])


async def test_finished_after_the_end_without_auto_destroy() -> None:
    # test-stream-finished.js: auto_destroy False: a Writable ended (finished() on the next
    # tick) -> no error; one whose write failed (finished() from 'error') -> that error; a
    # Readable from its 'end' -> no error
    loop = asyncio.get_running_loop()
    results: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    w = Writable(write=lambda c, cb: cb(), auto_destroy=False)
    w.end(b"asd")
    loop.call_soon(finished, w, lambda e: results.put_nowait(("F2", code(e))))
    w2 = Writable(write=lambda c, cb: cb(ValueError("x")), auto_destroy=False)
    w2.write(b"asd")
    w2.on("error", lambda _e: finished(w2, lambda e: results.put_nowait(("F3", code(e)))))
    r = Readable(auto_destroy=False)
    r.push(None)
    r.resume()
    r.on("end", lambda: finished(r, lambda e: results.put_nowait(("F4", code(e)))))
    got = {await asyncio.wait_for(results.get(), TIMEOUT) for _ in range(3)}
    assert got == {("F2", None), ("F3", "x"), ("F4", None)}


async def test_finished_close_emitted_by_hand() -> None:
    # test-stream-finished.js: 'close' emitted after push(None) -> no error; before it ->
    # an error (ERR_STREAM_PREMATURE_CLOSE); destroyed after push(None) without reading -> too
    out: list[Any] = []
    rs = Readable()
    finished(rs, lambda e: out.append(("after", code(e))))
    rs.push(None)
    rs.emit("close")
    rs.resume()
    rs2 = Readable()
    finished(rs2, lambda e: out.append(("before", code(e))))
    rs2.emit("close")
    rs2.push(None)
    rs2.resume()
    r3 = Readable()
    finished(r3, lambda e: out.append(("destroyed", code(e))))
    r3.push(b"asd")
    r3.push(None)
    r3.destroy()
    await ticks(10)
    assert sorted(out) == [("after", None), ("before", "ERR_STREAM_PREMATURE_CLOSE"),
                           ("destroyed", "ERR_STREAM_PREMATURE_CLOSE")]


async def test_finished_not_called_for_an_unread_passthrough() -> None:
    # test-stream-finished.js: PassThrough ended but never read: no callback
    p = PassThrough()
    p.end()
    called: list[Any] = []
    finished(p, called.append)
    await asyncio.sleep(0.02)
    assert called == []


async def test_finished_writable_side_of_a_duplex_and_disabled_sides() -> None:
    # test-stream-finished.js: Duplex end(b'foo') with a slow write, readable False -> no
    # error; writable=False / readable=False then destroy() -> ERR_STREAM_PREMATURE_CLOSE
    out: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    s = Duplex(write=lambda c, cb: asyncio.get_running_loop().call_soon(cb))
    s.end(b"foo")
    finished(s, {"readable": False}, lambda e: out.put_nowait(("duplex", code(e))))
    w = Writable(write=lambda c, cb: None)
    w.writable = False
    w.destroy()
    finished(w, lambda e: out.put_nowait(("w", code(e))))
    r = Readable()
    r.readable = False
    r.destroy()
    finished(r, lambda e: out.put_nowait(("r", code(e))))
    got = {await asyncio.wait_for(out.get(), TIMEOUT) for _ in range(3)}
    assert got == {("duplex", None), ("w", "ERR_STREAM_PREMATURE_CLOSE"),
                   ("r", "ERR_STREAM_PREMATURE_CLOSE")}


async def test_async_for_over_a_duplex_reading_from_another_after_finish() -> None:
    # test-stream-finished.js (nodejs/node#33130): an auto_destroy False Duplex relaying a
    # PassThrough; ended (its 'finish' first), then iterated: all three chunks, not destroyed
    response = PassThrough()

    class HelloWorld(Duplex):
        def __init__(self) -> None:
            super().__init__(auto_destroy=False)
            self.read_more = False
            response.once("end", lambda: self.push(None))
            response.on("readable", lambda: self._read(0) if self.read_more else None)

        def _read(self, size: int) -> None:
            self.read_more = True
            if response.readable_length:
                self.read_more = False
            while (data := response.read()) is not None:
                self.push(data)

    inst = HelloWorld()
    inst.set_encoding("utf8")
    fin: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    inst.once("finish", lambda: fin.set_result(None))
    inst.end()
    await asyncio.wait_for(fin, TIMEOUT)

    def feed() -> None:
        for i in (1, 2, 3):
            response.write(f"chunk {i}".encode())
        response.end()

    asyncio.get_running_loop().call_soon(feed)

    async def read_all() -> str:
        return "".join([d async for d in inst])

    assert await asyncio.wait_for(read_all(), TIMEOUT) == "chunk 1chunk 2chunk 3"
    assert inst.destroyed is False


# -- Transform -----------------------------------------------------------------------------------


@pytest.mark.parametrize("slow_final", [True, False], ids=["final-async", "final-sync"])
async def test_transform_final_and_flush_order(slow_final: bool) -> None:
    # test-stream-transform-final.js / -final-sync.js (bytes): node v20 order: each transform's
    # push emits 'data' at once; final (its callback later or at once), flush (callback on the
    # next tick), the end() callback, 'finish', 'end'
    log: list[str] = []
    loop = asyncio.get_running_loop()

    def transform(chunk: Any, nxt: Any) -> None:
        log.append(f"transform {chunk.decode()}")
        t.push(chunk)
        log.append("transform2")
        loop.call_soon(nxt)

    def final(cb: Any) -> None:
        log.append("final")

        def part2() -> None:
            log.append("final2")
            cb()

        if slow_final:
            loop.call_later(0.005, part2)
        else:
            part2()

    def flush(cb: Any) -> None:
        log.append("flush")
        loop.call_soon(lambda: (log.append("flush2"), cb()))

    t = Transform(transform=transform, final=final, flush=flush)
    t.on("finish", lambda: log.append("finish"))
    t.on("end", lambda: log.append("end"))
    t.on("data", lambda d: log.append(f"data {d.decode()}"))
    close = when(t, "close")
    t.write(b"1")
    t.write(b"4")
    t.end(b"7", lambda *a: log.append("endcb"))
    await asyncio.wait_for(close, TIMEOUT)
    assert log == ["transform 1", "data 1", "transform2", "transform 4", "data 4", "transform2",
                   "transform 7", "data 7", "transform2", "final", "final2", "flush", "flush2",
                   "endcb", "finish", "end"]


async def test_transform_flush_data_and_constructor_methods() -> None:
    # test-stream-transform-flush-data.js: flush's callback data is pushed ('asdf');
    # test-stream-transform-constructor-set-methods.js: end(chunk) without _transform raises
    # ERR_METHOD_NOT_IMPLEMENTED; transform/flush/final options are the hooks, each called
    t = Transform(transform=lambda d, n: n(), flush=lambda n: n(None, "asdf"))
    end = when(t, "end")
    t.end(b"blerg")
    data: list[bytes] = []
    t.on("data", data.append)
    await asyncio.wait_for(end, TIMEOUT)
    assert data == [b"asdf"]

    with pytest.raises(NodeError) as info:
        Transform().end(b"blerg")
    assert (info.value.code, str(info.value)) == (
        "ERR_METHOD_NOT_IMPLEMENTED", "The _transform() method is not implemented")

    calls: list[str] = []

    def _transform(chunk: Any, nxt: Any) -> None:
        calls.append("transform")
        nxt()

    def _final(nxt: Any) -> None:
        calls.append("final")
        nxt()

    def _flush(nxt: Any) -> None:
        calls.append("flush")
        nxt()

    t2 = Transform(transform=_transform, flush=_flush, final=_final)
    assert (t2._transform, t2._flush, t2._final) == (_transform, _flush, _final)
    close2 = when(t2, "close")
    t2.end(b"blerg")
    t2.resume()
    await asyncio.wait_for(close2, TIMEOUT)
    assert calls == ["transform", "final", "flush"]


async def test_transform_split_high_water_marks() -> None:
    # test-stream-transform-split-highwatermark.js: per-side options, high_water_mark wins,
    # None means the default; NaN is ERR_INVALID_ARG_VALUE
    default = 16384
    for opts, want in (
        ({"readable_high_water_mark": 666}, (666, default)),
        ({"writable_high_water_mark": 777}, (default, 777)),
        ({"readable_high_water_mark": 666, "writable_high_water_mark": 777}, (666, 777)),
        ({"high_water_mark": 555, "readable_high_water_mark": 666}, (555, 555)),
        ({"high_water_mark": 555, "writable_high_water_mark": 777}, (555, 555)),
        ({"readable_high_water_mark": None}, (default, default)),
        ({"high_water_mark": None, "writable_high_water_mark": 777}, (default, 777)),
    ):
        t = Transform(opts)
        assert (t.readable_high_water_mark, t.writable_high_water_mark) == want, opts
    for name in ("readableHighWaterMark", "writableHighWaterMark"):
        with pytest.raises(NodeError) as info:
            Transform({name: float("nan")})
        assert info.value.code == "ERR_INVALID_ARG_VALUE"


async def test_non_duplex_streams_ignore_the_side_options() -> None:
    # test-stream-transform-split-highwatermark.js: new Readable({readableHighWaterMark: 666})
    # -> 16384; new Writable({writableHighWaterMark: 777}) -> 16384
    assert Readable(readable_high_water_mark=666).readable_high_water_mark == 16384
    assert Writable(writable_high_water_mark=777).writable_high_water_mark == 16384
