"""Node v20's own stream tests, fourth batch (session 29, second stream pass), as scenarios for
``nodetls.stream``: bytes where Node's tests use object mode, Python names for Node's camelCase
ones, ``loop.call_soon`` for ``process.nextTick``/``setImmediate`` and short ``call_later``s
for Node's timers. Each expectation is what node v20 printed for the same scenario (checked by
running it); the Node test each one ports (``test/parallel/test-stream*-<name>.js``) is named
in its comment."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nodetls.errors import NodeError
from nodetls.events import EventEmitter
from nodetls.stream import (
    Duplex,
    PassThrough,
    Readable,
    Transform,
    Writable,
    pipeline,
    promises,
)

from .streamutil import TIMEOUT, done, ticks, when


def soon(cb: Any, *args: Any) -> None:
    asyncio.get_running_loop().call_soon(cb, *args)


def later(delay: float, cb: Any, *args: Any) -> None:
    asyncio.get_running_loop().call_later(delay, cb, *args)


def noread(*_: Any) -> None:
    pass


def okwrite(_chunk: Any, cb: Any) -> None:
    cb()


# -- pipe and backpressure --------------------------------------------------------------------


async def test_writes_from_the_data_listener_of_a_piped_hwm1_pass_through() -> None:
    # test-stream-await-drain-writers-in-synchronously-recursion-write.js: two PassThroughs of
    # high-water mark 1 piped; the second 'data' writes two more chunks into the first: all
    # four come out, in order
    encode = PassThrough(high_water_mark=1)
    decode = PassThrough(high_water_mark=1)
    got: list[int] = []
    all_four = asyncio.get_running_loop().create_future()

    def on_data(chunk: bytes) -> None:
        got.append(chunk[0])
        if len(got) == 2:
            encode.write(b"\x03")
            encode.write(b"\x04")
        if len(got) == 4:
            all_four.set_result(None)

    encode.pipe(decode).on("data", on_data)
    encode.write(b"\x01")
    encode.write(b"\x02")
    await done(all_four)
    await ticks()
    assert got == [1, 2, 3, 4]


async def test_pipe_backpressure_keeps_a_greedy_source_within_two_runs() -> None:
    # test-stream-backpressure.js: each _read pushes 65500 bytes + 40 x 1 KiB (far above the
    # high-water mark); piped to a slow writable, the buffer never holds more than one run's
    # worth when _read is called; 11 _read calls, 410 _write calls
    total = 65500 + 40 * 1024
    lengths: list[int] = []
    writes = 0
    rs: Readable

    def read(_n: int) -> None:
        if len(lengths) == 10:
            lengths.append(-1)
            rs.push(None)
            return
        lengths.append(rs.readable_length)
        rs.push(bytes(65500))
        for _ in range(40):
            rs.push(bytes(1024))

    def write(_c: Any, cb: Any) -> None:
        nonlocal writes
        writes += 1
        soon(cb)

    rs = Readable(read=read)
    ws = Writable(write=write)
    rs.pipe(ws)
    await done(when(ws, "finish"))
    assert len(lengths) == 11
    assert all(n <= total for n in lengths)
    assert writes == 41 * 10


async def test_a_big_write_buffered_in_a_paused_transform_still_reaches_the_destination() -> None:
    # test-stream-big-packet.js: s1 (a Transform answering on a later tick) and s2 piped into
    # s3 (end=False); s1 gets a chunk above its high-water mark (write() -> False), s2 a tiny
    # one (-> True), s1 later 'later': s3 sees 'tiny', the big chunk, then 'later'
    seen: list[str] = []
    s1 = Transform(transform=lambda c, cb: soon(cb, None, c))
    s2 = PassThrough()
    got_later = asyncio.get_running_loop().create_future()

    def t3(c: bytes, cb: Any) -> None:
        seen.append(f"{len(c)}:{b'a' in c}")
        if b"a" in c:
            got_later.set_result(None)
        cb()

    s3 = Transform(transform=t3)
    s1.pipe(s3)
    s2.pipe(s3, end=False)
    big = b"x" * (s1.writable_high_water_mark + 1)
    assert s1.write(big) is False
    assert s2.write("tiny") is True
    soon(s1.write, "later")
    await done(got_later)
    assert seen == ["4:False", "16385:False", "5:True"]


async def test_push_above_the_high_water_mark_then_readable_gets_both_pushes() -> None:
    # test-stream-big-push.js: hwm 5, utf8; a push before any read returns False; read() takes
    # it, the next read() is None and calls _read (which pushes on a timer); that push returns
    # False and the next _read pushes again synchronously: 'readable' reads both at once
    s = "asdfasdfasdfasdfasdf"
    r = Readable(high_water_mark=5, encoding="utf8")
    log: list[str] = []
    reads = 0

    def read(_n: int) -> None:
        nonlocal reads
        log.append(f"read{reads}")
        if reads == 0:
            later(0.001, lambda: log.append(f"push1:{r.push(s)}"))
            reads += 1
        elif reads == 1:
            log.append(f"push2:{r.push(s)}")
            reads += 1
        else:
            r.push(None)

    r._read = read  # type: ignore[method-assign]
    ended = when(r, "end")
    log.append(f"push0:{r.push(s)}")
    log.append(f"r1:{r.read()}")
    log.append(f"r2:{r.read()}")
    r.once("readable", lambda: (log.append(f"ra:{r.read()}"), log.append(f"rb:{r.read()}")))
    await done(ended)
    log.append("end")
    assert log == ["push0:False", "read0", f"r1:{s}", "r2:None", "push1:False", "read1",
                   "push2:False", f"ra:{s + s}", "read2", "rb:None", "end"]


async def test_pipe_does_not_need_the_destination_prepend_listener() -> None:
    # test-stream-events-prepend.js: a Writable whose prepend_listener is shadowed (None) is
    # still piped to: 'pipe' is emitted
    class W(Writable):
        def __init__(self) -> None:
            super().__init__()
            self.prepend_listener = None  # type: ignore[assignment]

        def _write(self, chunk: Any, callback: Any) -> None:
            callback()

    class R(Readable):
        def _read(self, size: int) -> None:
            self.push(None)

    w = W()
    piped: list[Any] = []
    w.on("pipe", piped.append)
    r = R()
    r.pipe(w)
    assert piped == [r]
    await done(when(w, "finish"))


async def test_stream_classes_inherit_as_node_s() -> None:
    # test-stream-inheritance.js: Duplex and Transform are Readable and Writable; Transform is
    # a Duplex; neither Readable nor Writable is the other; a subclass is not another's
    readable = Readable(read=noread)
    writable = Writable(write=okwrite)
    duplex = Duplex(read=noread, write=okwrite)
    transform = Transform(transform=okwrite)
    kinds = (Readable, Writable, Duplex, Transform)
    table = [[isinstance(s, k) for k in kinds] for s in (readable, writable, duplex, transform)]
    assert table == [[True, False, False, False], [False, True, False, False],
                     [True, True, True, False], [True, True, True, True]]
    assert not isinstance(None, Writable)

    class OtherWritable(Writable):
        pass

    class CustomWritable(Writable):
        pass

    assert not isinstance(OtherWritable(), CustomWritable)
    assert not isinstance(CustomWritable(), OtherWritable)


@pytest.mark.parametrize("listen_late", [False, True])
async def test_a_once_readable_listener_does_not_disrupt_a_pipe(listen_late: bool) -> None:
    # test-stream-once-readable-pipe.js: once('readable') before pipe() or after the pushes:
    # 'readable' fires once and the destination still gets everything
    received: list[bytes] = []
    log: list[str] = []
    w = Writable(write=lambda c, cb: (received.append(c), cb()))
    r = Readable(read=noread)
    if not listen_late:
        r.once("readable", lambda: log.append("readable"))
    r.pipe(w)
    for chunk in ("foo", "bar", "baz"):
        r.push(chunk)
    r.push(None)
    if listen_late:
        r.once("readable", lambda: log.append("readable"))
    await done(when(w, "finish"))
    assert log == ["readable"]
    assert b"".join(received) == b"foobarbaz"
    assert r.readable_flowing is False


async def test_an_error_emitted_by_write_with_a_once_listener_is_handled() -> None:
    # test-stream2-pipe-error-once-listener.js: the destination's _write emits 'error' itself
    # (once listener there) and 'alldone', never calls back: the error is the listener's, the
    # pipe is undone, nothing is uncaught, the destination is not destroyed
    loop = asyncio.get_running_loop()
    uncaught: list[Any] = []
    loop.set_exception_handler(lambda _l, ctx: uncaught.append(ctx.get("exception")))
    try:
        log: list[str] = []

        class Read(Readable):
            def _read(self, size: int) -> None:
                self.push("x")
                self.push(None)

        class Write(Writable):
            def _write(self, chunk: Any, callback: Any) -> None:
                self.emit("error", ValueError("boom"))
                self.emit("alldone")

        read, write = Read(), Write()
        write.once("error", lambda e: log.append(f"error:{e}"))
        alldone = when(write, "alldone")
        read.pipe(write)
        await done(alldone)
        log.append("alldone")
        await ticks()
        assert log == ["error:boom", "alldone"]
        assert (write.destroyed, read.listener_count("data"), write.listener_count("error")) \
            == (False, 0, 0)
        assert uncaught == []
    finally:
        loop.set_exception_handler(None)


async def test_an_exception_in_the_pipeline_callback_is_uncaught() -> None:
    # test-stream-pipeline-uncaught.js: a pipeline ending in an async function succeeds; its
    # callback raises: that exception is uncaught (here: the loop's exception handler)
    loop = asyncio.get_running_loop()
    uncaught: list[Any] = []
    loop.set_exception_handler(lambda _l, ctx: uncaught.append(ctx.get("exception")))
    try:
        s = PassThrough()
        s.end("data")
        called: list[Any] = []

        async def sink(source: Any) -> None:
            async for _ in source:
                pass

        def cb(err: Any = None, _value: Any = None) -> None:
            called.append(err)
            raise RuntimeError("error")

        pipeline(s, sink, cb)
        for _ in range(100):
            if uncaught:
                break
            await asyncio.sleep(0)
        assert called == [None]
        assert [str(e) for e in uncaught] == ["error"]
    finally:
        loop.set_exception_handler(None)


async def test_string_pushes_from_read_now_next_tick_and_later() -> None:
    # test-stream-push-strings.js: _read pushes on the next tick, then synchronously, then on a
    # timer, then ends: 'readable' reads the first two together, then the last
    class MyStream(Readable):
        def __init__(self) -> None:
            super().__init__()
            self.chunks = 3

        def _read(self, size: int) -> None:
            n = self.chunks
            self.chunks -= 1
            if n == 0:
                self.push(None)
            elif n == 1:
                later(0.01, self.push, "last chunk")
            elif n == 2:
                self.push("second to last chunk")
            elif n == 3:
                soon(self.push, "first chunk")

    ms = MyStream()
    results: list[bytes] = []

    def on_readable() -> None:
        while (chunk := ms.read()) is not None:
            results.append(chunk)  # type: ignore[arg-type]

    ms.on("readable", on_readable)
    await done(when(ms, "end"))
    assert ms.chunks == -1
    assert results == [b"first chunksecond to last chunk", b"last chunk"]


async def test_read_option_is_the_read_hook() -> None:
    # test-stream-readable-constructor-set-methods.js: the read option is called (once here:
    # it ends the stream) when the stream is resumed
    calls: list[int] = []
    r: Readable = Readable(read=lambda n: (calls.append(n), r.push(None)))
    r.resume()
    await done(when(r, "end"))
    assert calls == [16384]


# -- bytes-likes, encodings, properties ---------------------------------------------------------


async def test_bytearray_and_memoryview_chunks_are_written_and_pushed_as_bytes() -> None:
    # test-stream-uint8array.js (a Uint8Array is Python's bytearray/memoryview): written and
    # ended with, each reaches _write with its bytes; three writes with the first in flight:
    # the two others in one _writev; pushed and unshifted: read() gives bytes, str after
    # set_encoding
    seen: list[bytes] = []
    w = Writable(write=lambda c, cb: (seen.append(bytes(c)), cb()))
    w.write(bytearray(b"ABC"))
    w.end(memoryview(b"DEF"))
    await done(when(w, "finish"))
    assert seen == [b"ABC", b"DEF"]

    log: list[Any] = []
    pending: list[Any] = []
    w2 = Writable(write=lambda c, cb: (log.append(bytes(c)), pending.append(cb)),
                  writev=lambda cs, cb: log.append([type(c).__name__ + ":" + bytes(c).decode()
                                                    for c in cs]))
    w2.write(bytearray(b"ABC"))
    w2.write(bytearray(b"DEF"))
    w2.end(memoryview(b"GHI"))
    pending[0]()
    assert log == [b"ABC", ["bytes:DEF", "bytes:GHI"]]

    r = Readable(read=noread)
    r.push(bytearray(b"DEF"))
    r.unshift(bytearray(b"ABC"))  # type: ignore[arg-type]
    out = r.read()
    assert (type(out), out) == (bytes, b"ABCDEF")
    r2 = Readable(read=noread)
    r2.set_encoding("utf8")
    r2.push(memoryview(b"DEF"))
    r2.unshift(bytearray(b"ABC"))  # type: ignore[arg-type]
    assert r2.read() == "ABCDEF"


class _QuickEnd(Readable):
    def _read(self, size: int) -> None:
        self.push(None)


class _NeverEnd(Readable):
    def _read(self, size: int) -> None:
        pass


@pytest.mark.parametrize("end", [True, False])
@pytest.mark.parametrize("case", ["ends", "never-ends", "unpiped"])
async def test_unpipe_is_emitted_when_the_source_ends_or_unpipes(case: str, end: bool) -> None:
    # test-stream-unpipe-event.js: 'unpipe' comes when the source ends (with end=True or not)
    # or unpipe() is called, never for a source that only stays open; 'pipe' every time
    log: list[str] = []
    dest = Writable(write=okwrite)
    src: Readable = _QuickEnd() if case == "ends" else _NeverEnd()
    dest.on("pipe", lambda s: log.append("pipe"))
    dest.on("unpipe", lambda s: log.append("unpipe"))
    src.pipe(dest, end=end)
    if case == "unpiped":
        src.unpipe(dest)
    if case == "ends":
        await done(when(src, "end"))
    await ticks()
    assert log == (["pipe"] if case == "never-ends" else ["pipe", "unpipe"])
    if case == "never-ends":  # still piped: what is pushed reaches the destination
        got = when(dest, "unpipe")
        seen: list[bytes] = []
        dest._write = lambda c, cb: (seen.append(c), cb())  # type: ignore[method-assign]
        src.push(b"more")
        await ticks()
        assert seen == [b"more"] and not got.done()


async def test_writable_chunk_type_follows_decode_strings_and_default_encoding_is_checked() -> None:
    # test-stream-writable-decoded-encoding.js: decode_strings=True: _write gets bytes;
    # decode_strings=False: the str itself (in any default_encoding, None being utf8); an
    # unknown default_encoding ('', 'buffer' too) raises ERR_UNKNOWN_ENCODING at construction
    seen: list[Any] = []

    def write(c: Any, cb: Any) -> None:
        seen.append(c)
        cb()

    Writable(write=write, decode_strings=True).end("some-text", "utf8")
    Writable(write=write, decode_strings=False).end("some-text", "utf8")
    Writable(write=write, decode_strings=False, default_encoding="hex").end("asd")
    Writable(write=write, decode_strings=False, default_encoding=None).end("asd")
    w = Writable(write=write, default_encoding="HEX")  # any case, as Node
    w.end("6869")
    assert seen == [b"some-text", "some-text", "asd", "asd", b"hi"]
    for bad in ("my invalid encoding", "", "buffer"):
        for cls in (Writable, Duplex, Transform):
            with pytest.raises(NodeError) as info:
                cls(default_encoding=bad)
            assert info.value.code == "ERR_UNKNOWN_ENCODING"
            assert str(info.value) == f"Unknown encoding: {bad}"


async def test_writable_corked_counts_cork_and_uncork() -> None:
    # test-stream-writable-properties.js: writable_corked goes up with cork(), down with
    # uncork(), never below 0
    w = Writable()
    seen = [w.writable_corked]
    for op in ("uncork", "cork", "cork", "uncork", "uncork", "uncork"):
        getattr(w, op)()
        seen.append(w.writable_corked)
    assert seen == [0, 0, 1, 2, 1, 0, 0]


async def test_cork_twice_needs_two_uncorks_and_end_uncorks() -> None:
    # test-stream-writableState-uncorked-bufferedRequestCount.js: corked twice, the first
    # uncork() flushes nothing; a chunk written meanwhile joins the buffer; the second uncork
    # (a tick later) flushes both in one _writev; end() uncorks too
    log: list[str] = []

    class W(Writable):
        def _writev(self, chunks: list[Any], cb: Any) -> None:  # type: ignore[override]
            log.append("writev:" + "|".join(c.decode() for c in chunks))
            cb()

        def _write(self, c: Any, cb: Any) -> None:
            log.append(f"write:{c.decode()}")
            cb()

    w = W()
    w.cork()
    w.cork()
    w.write("first chunk")
    w.uncork()
    log.append(f"corked:{w.writable_corked} buf:{len(w.writable_buffer)}")

    def uncork() -> None:
        w.uncork()
        log.append(f"corked:{w.writable_corked} buf:{len(w.writable_buffer)}")
        w.cork()
        w.write("third chunk")
        w.end()
        log.append(f"corked:{w.writable_corked} buf:{len(w.writable_buffer)}")

    soon(uncork)
    w.write("second chunk")
    log.append(f"buf:{len(w.writable_buffer)}")
    await done(when(w, "finish"))
    assert log == ["corked:1 buf:1", "buf:2", "writev:first chunk|second chunk",
                   "corked:0 buf:0", "write:third chunk", "corked:0 buf:0"]


async def test_stream_made_in_constructors_data_listener_and_write_in_init() -> None:
    # test-stream2-compatibility.js: a Readable adding its own 'data' listener in __init__
    # flows (one 'data': an empty push does not end it); a Writable that writes and ends in
    # __init__ is not writable afterwards; at 'end' the reader is no longer readable
    class TestReader(Readable):
        def __init__(self) -> None:
            super().__init__()
            self.buffer = b"x" * 100
            self.ondata = 0
            self.on("data", self._count)

        def _count(self, _c: Any) -> None:
            self.ondata += 1

        def _read(self, size: int) -> None:
            self.push(self.buffer)
            self.buffer = b""

    class TestWriter(Writable):
        def __init__(self) -> None:
            super().__init__()
            self.write("foo")
            self.end()

        def _write(self, chunk: Any, callback: Any) -> None:
            callback()

    reader = TestReader()
    writer = TestWriter()
    assert writer.writable is False
    await ticks()
    assert (reader.ondata, reader.readable) == (1, True)
    ended = when(reader, "end")
    reader.push(None)
    await done(ended)
    assert (reader.readable, writer.writable) == (False, False)


async def test_read_of_exactly_the_rest_still_ends() -> None:
    # test-stream2-large-read-stall.js: hwm 50, 1000 pushes of 20 bytes (the next one on a
    # later turn while push() returns True), read(100) in a loop at each 'readable': 'end'
    # comes, after all 1001 pushes, with every byte read
    r = Readable(high_water_mark=50)
    pushes = 0
    reads: list[int] = []

    def push(*_: Any) -> None:
        nonlocal pushes
        if pushes > 1000:
            return
        pushes += 1
        if pushes == 1001:
            r.push(None)
        elif r.push(bytes(20)):
            soon(push)

    r._read = push  # type: ignore[method-assign]

    def on_readable() -> None:
        while (ret := r.read(100)) is not None:
            reads.append(len(ret))
            if len(ret) != 100:
                break

    r.on("readable", on_readable)
    await done(when(r, "end"))
    assert (pushes, len(reads), sum(reads)) == (1001, 200, 20000)


# -- stream2: reading ---------------------------------------------------------------------------


async def test_push_source_with_read_start_and_stop_like_a_socket_handle() -> None:
    # test-stream2-push.js: a source (an emitter standing for a socket's handle) pushes while
    # reading; push() returning False stops it; a tick later read() takes everything (which
    # calls _read: reading again) and writes it on; six rounds of four 5-char chunks, hwm 16
    stream = Readable(high_water_mark=16, encoding="utf8")
    source = EventEmitter()
    state = {"reading": False}
    written: list[str] = []
    ended: list[str] = []

    def read_start() -> None:
        state["reading"] = True

    def read_stop() -> None:
        state["reading"] = False

        def take() -> None:
            r = stream.read()
            if r is not None:
                writer.write(r)

        soon(take)

    stream._read = lambda _n: read_start()  # type: ignore[method-assign]
    stream.on("end", lambda: ended.append("end"))
    source.on("data", lambda chunk: stream.push(chunk) or read_stop())
    source.on("end", lambda: stream.push(None))

    def write(chunk: Any, cb: Any) -> None:
        written.append(chunk)
        soon(cb)

    writer = Writable(decode_strings=False, write=write)
    finished = when(writer, "finish")
    rounds = 0
    readings: list[bool] = []

    def data() -> None:
        nonlocal rounds
        for _ in range(4):
            readings.append(state["reading"])
            source.emit("data", "asdfg")
        readings.append(state["reading"])
        rounds += 1
        if rounds < 6:
            later(0.001, data)
        else:
            source.emit("end")
            readings.append(state["reading"])
            writer.end(stream.read())

    read_start()
    data()
    await done(finished)
    await ticks()
    assert written == ["asdfgasdfgasdfgasdfg"] * 6
    assert readings == ([True] * 4 + [False]) * 6 + [False]
    assert ended == ["end"]


async def test_deeply_nested_synchronous_reads_do_not_overflow() -> None:
    # test-stream2-read-sync-stack.js: a _read that pushes 1 byte synchronously, 256 Ki times,
    # read(2N) at every 'readable': no recursion error, 'end' comes
    n = 256 * 1024
    r = Readable()
    reads = 0

    def read(_size: int) -> None:
        nonlocal reads
        reads += 1
        r.push(None if reads == n + 1 else b"x")

    r._read = read  # type: ignore[method-assign]
    r.on("readable", lambda: r.read(n * 2))
    ended = when(r, "end")
    r.read(0)
    await done(ended)
    assert reads == n + 1


async def test_empty_pushes_are_not_the_end_of_the_stream() -> None:
    # test-stream2-readable-empty-buffer-no-eof.js: _read pushes b'' (later, on the next tick,
    # synchronously) between real chunks: only push(None) ends; a base64 stream gets its
    # 3-byte groups, the padded rest at the end
    r = Readable()
    buf = b"x" * 5
    reads = 5

    def read(_n: int) -> None:
        nonlocal reads
        case = reads
        reads -= 1
        if case == 5:
            soon(r.push, buf)
        elif case == 4:
            soon(r.push, b"")
            soon(r.read, 0)
        elif case == 3:
            soon(r.read, 0)
            soon(r.push, b"")
        elif case == 2:
            soon(r.read, 0)
            r.push(b"")
        elif case == 1:
            r.push(buf)
        elif case == 0:
            r.push(None)

    r._read = read  # type: ignore[method-assign]
    results: list[str] = []

    def flow(stream: Readable) -> None:
        while (chunk := stream.read()) is not None:
            results.append(chunk.decode() if isinstance(chunk, bytes) else chunk)

    r.on("readable", lambda: flow(r))
    ended = when(r, "end")
    flow(r)
    await done(ended)
    assert results == ["xxxxx", "xxxxx"]

    r2 = Readable(encoding="base64")
    left = 5

    def read2(_n: int) -> None:
        nonlocal left
        left -= 1
        r2.push(None if left < 0 else b"x")

    r2._read = read2  # type: ignore[method-assign]
    results.clear()
    r2.on("readable", lambda: flow(r2))
    ended = when(r2, "end")
    flow(r2)
    await done(ended)
    assert results == ["eHh4", "eHg="]


async def test_pipe_into_a_legacy_emitter_destination_waits_for_its_drain() -> None:
    # test-stream2-readable-legacy-drain.js: the destination is a plain emitter with write()
    # (always False, 'drain' on the next tick) and end(): the source waits for every 'drain'
    # (never more than one chunk written before it), then end() is called once
    r = Readable()
    reads = 0

    def read(_n: int) -> None:
        nonlocal reads
        reads += 1
        r.push(None if reads == 256 else b"x")

    r._read = read  # type: ignore[method-assign]
    buffered: list[int] = []
    peaks: list[int] = []
    ends: list[str] = []

    class Legacy(EventEmitter):
        writable = True

        def write(self, chunk: bytes) -> bool:
            buffered.append(len(chunk))
            soon(self.drain)
            return False

        def drain(self) -> None:
            peaks.append(sum(buffered))
            buffered.clear()
            self.emit("drain")

        def end(self) -> None:
            ends.append("end")

    ended = when(r, "end")
    r.pipe(Legacy())
    await done(ended)
    await ticks()
    assert ends == ["end"]
    assert max(peaks) <= 3 and sum(peaks) == 255


async def test_read_of_all_but_one_byte_then_the_last_byte_ends() -> None:
    # test-stream2-readable-non-empty-end.js: chunks of 1..10 bytes pushed a little later
    # each; 'readable' reads everything but one byte; no 'end' before that last byte is read;
    # then read() gives it, read() again None, and 'end' comes
    chunks = [bytes(i) for i in range(1, 11)]
    total = sum(map(len, chunks))
    test = Readable()
    n = 0

    def read(_size: int) -> None:
        nonlocal n
        chunk = chunks[n] if n < len(chunks) else None
        n += 1
        later(0.001, test.push, chunk)

    test._read = read  # type: ignore[method-assign]
    log: list[Any] = []
    test.on("end", lambda: log.append("end"))
    got_it = asyncio.get_running_loop().create_future()
    bytesread = 0

    def on_readable() -> None:
        nonlocal bytesread
        res = test.read(total - bytesread - 1)
        if res:
            bytesread += len(res)
            later(0.001, lambda: got_it.done() or got_it.set_result(None))
        test.read(0)

    test.on("readable", on_readable)
    test.read(0)
    await done(got_it)
    assert log == [] and bytesread == total - 1
    ended = when(test, "end")
    last = test.read()
    log.append(len(last))  # type: ignore[arg-type]
    log.append(test.read())
    await done(ended)
    assert log == [1, None, "end"]


class _TestReader(Readable):
    """test-stream2-set-encoding.js's reader: ``n`` bytes of 'a', each _read's worth pushed
    on a later turn, then push(None) twice."""

    def __init__(self, n: int, **opts: Any) -> None:
        super().__init__(**opts)
        self.pos = 0
        self.len = n

    def _read(self, size: int) -> None:
        def push() -> None:
            k = min(size, self.len - self.pos)
            if k <= 0:
                self.push(None)
                self.push(None)  # a second end: nothing happens
                return
            self.pos += k
            self.push(b"a" * k)

        soon(push)


@pytest.mark.parametrize("via_option", [False, True])
@pytest.mark.parametrize(("enc", "size", "expect"), [
    ("utf8", 10, ["a" * 10] * 10),
    ("hex", 10, ["6161616161"] * 20),
    ("hex", 13, ["6161616161616", "1616161616161"] * 7 + ["6161616161616", "16161"]),
    ("base64", 10, ["YWFhYWFhYW", "FhYWFhYWFh"] * 6 + ["YWFhYWFhYW", "FhYQ=="]),
])
async def test_read_n_counts_characters_of_the_encoding(via_option: bool, enc: str, size: int,
                                                        expect: list[str]) -> None:
    # test-stream2-set-encoding.js: 100 bytes, set_encoding(enc) or the encoding option,
    # read(size) at each 'readable': chunks of size characters of the encoded text
    tr = _TestReader(100, encoding=enc) if via_option else _TestReader(100)
    if not via_option:
        assert tr.set_encoding(enc) is tr
    out: list[Any] = []

    def flow() -> None:
        while (chunk := tr.read(size)) is not None:
            out.append(chunk)

    tr.on("readable", flow)
    await done(when(tr, "end"))
    assert out == expect


# -- stream2: Transform (test-stream2-transform.js; its object-mode and construct cases are
# not ported: no object mode, no construct option) -------------------------------------------


async def test_transform_writable_side_stops_consuming_at_the_readable_high_water_mark() -> None:
    # writable side consumption: hwm 10, chunks of 1..10 bytes: the first four are
    # transformed (10 bytes readable), the rest wait in the writable buffer
    tx = Transform(high_water_mark=10)
    transformed = 0

    def transform(chunk: bytes, cb: Any) -> None:
        nonlocal transformed
        transformed += len(chunk)
        tx.push(chunk)
        cb()

    tx._transform = transform  # type: ignore[method-assign]
    for i in range(1, 11):
        tx.write(bytes(i))
    tx.end()
    assert (tx.readable_length, transformed) == (10, 10)
    assert [len(c) for c in tx.writable_buffer] == [5, 6, 7, 8, 9, 10]


async def test_pass_through_and_simple_transform_read_across_chunks() -> None:
    # passthrough behaviour / a simple transform: read(5) joins and splits the chunks
    for make in (PassThrough, lambda: Transform(transform=lambda c, cb: cb(None, b"x" * len(c)))):
        pt = make()
        for word in (b"foog", b"bark", b"bazy", b"kuel"):
            pt.write(word)
        pt.end()
        out = [pt.read(5) for _ in range(4)]
        if isinstance(pt, PassThrough):
            assert out == [b"foogb", b"arkba", b"zykue", b"l"]
        else:
            assert out == [b"xxxxx", b"xxxxx", b"xxxxx", b"x"]


async def test_async_transforms_expand_and_compress() -> None:
    # async passthrough, asymmetric transform (expand: each chunk twice, later; compress: the
    # first character of every 3 chunks, the rest at _flush): read(5) at 'finish'
    async def run(pt: Transform, words: list[bytes]) -> list[bytes]:
        for word in words:
            pt.write(word)
        pt.end()
        await done(when(pt, "finish"))
        out = []
        while (chunk := pt.read(5)) is not None:
            out.append(chunk)
        return out  # type: ignore[return-value]

    words = [b"foog", b"bark", b"bazy", b"kuel"]
    pt = Transform()
    pt._transform = lambda c, cb: later(0.001, lambda: (pt.push(c), cb()))  # type: ignore[method-assign]
    assert await run(pt, words) == [b"foogb", b"arkba", b"zykue", b"l"]

    ex = Transform()

    def expand(c: bytes, cb: Any) -> None:
        def second() -> None:
            ex.push(c)
            cb()
        later(0.001, lambda: (ex.push(c), later(0.001, second)))

    ex._transform = expand  # type: ignore[method-assign]
    assert await run(ex, words) == [b"foogf", b"oogba", b"rkbar", b"kbazy", b"bazyk",
                                    b"uelku", b"el"]

    state = [b""]
    co = Transform()

    def compress(c: bytes, cb: Any) -> None:
        def step() -> None:
            state[0] += c[:1]
            if len(state[0]) == 3:
                co.push(state[0])
                state[0] = b""
            cb()
        later(0.001, step)

    def flush(cb: Any) -> None:
        co.push(state[0])
        state[0] = b""
        cb()

    co._transform = compress  # type: ignore[method-assign]
    co._flush = flush
    letters = [bytes([c]) * 4 for c in b"abcdeabcdeabcd"]
    assert await run(co, letters) == [b"abcde", b"abcde", b"abcd"]


async def test_transform_that_holds_a_chunk_back_does_not_stall_when_full() -> None:
    # complex transform: hwm 3; the second chunk is held back and pushed with the third; after
    # 'readable' (next tick) two more writes, read() gets everything
    count = 0
    saved: list[bytes] = []
    pt = Transform(high_water_mark=3)

    def transform(c: bytes, cb: Any) -> None:
        nonlocal count
        count += 1
        if count == 2:
            saved.append(c)
        else:
            if saved:
                pt.push(saved.pop())
            pt.push(c)
        cb()

    pt._transform = transform  # type: ignore[method-assign]
    log: list[Any] = []
    finished = when(pt, "finish")

    def on_readable() -> None:
        def step() -> None:
            pt.write(b"d")
            pt.write(b"ef", lambda err=None: pt.end())
            log.append(pt.read())
            log.append(pt.read())
        soon(step)

    pt.once("readable", on_readable)
    pt.write(b"abc")
    await done(finished)
    assert log == [b"abcdef", None]


async def test_pass_through_readable_events_come_only_when_read_leaves_it_waiting() -> None:
    # passthrough event emission: read(5) calls that leave data buffered or find none give
    # no 'readable'; end() (the flush pushes the end) emits one at once; reading the rest,
    # no other
    pt = PassThrough()
    emits = 0

    def on_readable() -> None:
        nonlocal emits
        emits += 1

    pt.on("readable", on_readable)
    pt.write(b"foog")
    pt.write(b"bark")
    assert emits == 0
    assert pt.read(5) == b"foogb"
    assert pt.read(5) is None
    assert emits == 0
    pt.write(b"bazy")
    pt.write(b"kuel")
    assert emits == 0
    assert [pt.read(5), pt.read(5), pt.read(5)] == [b"arkba", b"zykue", None]
    pt.end()
    assert emits == 1
    assert [pt.read(5), pt.read(5)] == [b"l", None]
    assert emits == 1


async def test_pass_through_readable_events_reordered() -> None:
    # passthrough event emission reordering: each once('readable') reads, then writes (or
    # ends) for the next one: three 'readable's in all
    pt = PassThrough()
    emits = 0
    log: list[Any] = []

    def count() -> None:
        nonlocal emits
        emits += 1

    pt.on("readable", count)
    pt.write(b"foog")
    pt.write(b"bark")
    assert emits == 0
    log += [pt.read(5), pt.read(5)]
    last = asyncio.get_running_loop().create_future()

    def third() -> None:
        log.extend([pt.read(5), pt.read(5), emits])
        last.set_result(None)

    def second() -> None:
        log.extend([pt.read(5), pt.read(5)])
        pt.once("readable", third)
        pt.end()

    def first() -> None:
        log.extend([pt.read(5), pt.read(5)])
        pt.once("readable", second)
        pt.write(b"kuel")

    pt.once("readable", first)
    pt.write(b"bazy")
    await done(last)
    assert log == [b"foogb", None, b"arkba", None, b"zykue", None, b"l", None, 3]


async def test_pass_through_facade_with_writes_on_timers() -> None:
    # passthrough facade: 'data' gets each write as it comes, then 'end'
    pt = PassThrough()
    datas: list[bytes] = []
    pt.on("data", datas.append)
    ended = when(pt, "end")
    words = [b"foog", b"bark", b"bazy", b"kuel"]

    def step(i: int) -> None:
        if i < len(words):
            pt.write(words[i])
            later(0.001, step, i + 1)
        else:
            pt.end()

    step(0)
    await done(ended)
    assert datas == words


# -- stream2: unpipe ------------------------------------------------------------------------------


async def test_unpipe_of_one_source_while_the_destination_never_drains() -> None:
    # test-stream2-unpipe-drain.js: two sources piped into a destination whose _write never
    # calls back; the first unpiped a tick after the second's 'readable': each source's _read
    # was called twice (no more reading after the unpipe)
    dest = Writable(write=lambda c, cb: None)

    class TestReader(Readable):
        def __init__(self) -> None:
            super().__init__()
            self.reads = 0

        def _read(self, size: int) -> None:
            self.reads += 1
            self.push(bytes(size))

    src1, src2 = TestReader(), TestReader()
    src1.pipe(dest)
    unpiped = asyncio.get_running_loop().create_future()

    def on_src2_readable() -> None:
        soon(lambda: (src1.unpipe(dest), unpiped.set_result(None)))

    def on_src1_readable() -> None:
        def pipe2() -> None:
            src2.pipe(dest)
            src2.once("readable", on_src2_readable)
        soon(pipe2)

    src1.once("readable", on_src1_readable)
    await done(unpiped)
    await ticks()
    assert (src1.reads, src2.reads) == (2, 2)


async def test_pipe_then_unpipe_ten_times_leaves_no_listeners() -> None:
    # test-stream2-unpipe-leak.js: pipe()+unpipe() ten times: no listener left on either side,
    # and the source (hwm 64 KiB, _read always pushing) fills up to its high-water mark
    dest = Writable(write=okwrite)

    class TestReader(Readable):
        def __init__(self) -> None:
            super().__init__(high_water_mark=0x10000)

        def _read(self, size: int) -> None:
            self.push(b"hallo")

    src = TestReader()
    for _ in range(10):
        src.pipe(dest)
        src.unpipe(dest)
    assert [src.listener_count(e) for e in ("end", "readable", "data")] == [0, 0, 0]
    assert [dest.listener_count(e) for e in ("unpipe", "drain", "error", "close", "finish")] \
        == [0, 0, 0, 0, 0]
    for _ in range(100):
        if src.readable_length >= src.readable_high_water_mark:
            break
        await asyncio.sleep(0)
    assert src.readable_length >= src.readable_high_water_mark


# -- stream3 --------------------------------------------------------------------------------------


async def test_pause_then_read_mixes_read_data_pipe_and_unshift_without_loss() -> None:
    # test-stream3-pause-then-read.js: 100 chunks of 99 bytes (pushed at once, on the next
    # tick or a turn later); read(100); 'data' until 100 bytes, the extra unshifted back;
    # pipe 200 bytes, unshift the extra and unpipe; read(1234); resume()/pause() five times;
    # pipe the rest: every byte arrives exactly once
    total_chunks, chunk_size = 100, 99
    expect_total = total_chunks * chunk_size
    expect_ending = expect_total
    r = Readable(high_water_mark=1000)
    chunks = total_chunks
    total_pushed = 0
    loop = asyncio.get_running_loop()
    result = loop.create_future()
    flowing_after_read: list[Any] = []

    def push() -> None:
        nonlocal chunks, total_pushed
        chunk = b"x" * chunk_size if chunks > 0 else None
        chunks -= 1
        if chunk:
            total_pushed += len(chunk)
        r.push(chunk)

    def read(_n: int) -> None:
        if not chunks % 2:
            later(0, push)  # (Node: setImmediate)
        elif not chunks % 3:
            soon(push)
        else:
            push()

    r._read = read  # type: ignore[method-assign]

    def readn(n: int, then: Any) -> None:
        nonlocal expect_ending
        expect_ending -= n

        def attempt() -> None:
            c = r.read(n)
            if c is None:
                r.once("readable", attempt)
            else:
                assert len(c) == n
                flowing_after_read.append(r.readable_flowing)
                then()

        attempt()

    def on_data() -> None:
        nonlocal expect_ending
        expect_ending -= 100
        seen = 0

        def od(c: bytes) -> None:
            nonlocal seen
            seen += len(c)
            if seen >= 100:
                r.remove_listener("data", od)
                r.pause()
                if seen > 100:
                    diff = seen - 100
                    r.unshift(c[len(c) - diff:])
                later(0, pipe_little)

        r.on("data", od)

    def pipe_little() -> None:
        nonlocal expect_ending
        expect_ending -= 200
        written = 0

        def write(chunk: bytes, cb: Any) -> None:
            nonlocal written
            written += len(chunk)
            if written >= 200:
                r.unpipe(w)
                w.end()
                cb()
                if written > 200:
                    diff = written - 200
                    written -= diff
                    r.unshift(chunk[len(chunk) - diff:])
            else:
                later(0, cb)

        w = Writable(write=write)

        def on_finish() -> None:
            if written != 200:
                result.set_exception(AssertionError(f"piped {written}, not 200"))
            later(0, readn, 1234, resume_pause)

        w.on("finish", on_finish)
        r.pipe(w)

    def resume_pause() -> None:
        for _ in range(5):
            r.resume()
            r.pause()
        later(0, pipe_rest)

    def pipe_rest() -> None:
        written = 0

        def write(chunk: bytes, cb: Any) -> None:
            nonlocal written
            written += len(chunk)
            cb()

        w = Writable(write=write)
        w.on("finish", lambda: result.done() or result.set_result((written, total_pushed)))
        r.pipe(w)

    readn(100, on_data)
    assert await done(result) == (expect_ending, expect_total)
    assert flowing_after_read == [False, False]


async def test_promises_pipeline_of_two_async_generator_functions() -> None:
    # test-stream3-pipeline-async-iterator.js: an async generator function as the source, one
    # consuming it as the destination: the second sees every item
    async def my_readable() -> Any:
        yield "Hello"
        yield "World"

    messages: list[Any] = []

    async def my_writable(source: Any) -> Any:
        async for chunk in source:
            messages.append(chunk)
        if False:  # an async generator function (Node's test: async function*)
            yield None

    await asyncio.wait_for(promises.pipeline(my_readable, my_writable), TIMEOUT)
    assert messages == ["Hello", "World"]


# -- events and construction ----------------------------------------------------------------------


async def test_stream_event_names_list_node_s_preset_events_first() -> None:
    # test-stream-event-names.js: a new stream has no event names; with listeners, the events
    # Node's constructor presets (kShapeMode) come first, in its order, then the others as
    # added (node v20's lists for every event, a Transform's own 'prefinish' listener too)
    events = ["foo", "readable", "end", "data", "drain", "finish", "prefinish", "error", "close",
              "pause", "resume", "pipe"]
    r = Readable()
    assert r.event_names() == []
    r.on("foo", noread)
    r.on("data", noread)
    r.on("error", noread)
    assert r.event_names() == ["error", "data", "foo"]
    w = Writable()
    assert w.event_names() == []
    for e in ("foo", "drain", "prefinish"):
        w.on(e, noread)
    assert w.event_names() == ["prefinish", "drain", "foo"]
    d = Duplex()
    assert d.event_names() == []
    d.on("foo", noread)
    d.on("finish", noread)
    assert d.event_names() == ["finish", "foo"]
    assert Transform().event_names() == ["prefinish"]
    expect = {
        Readable: "close,error,data,end,readable,foo,drain,finish,prefinish,pause,resume,pipe",
        Writable: "close,error,prefinish,finish,drain,foo,readable,end,data,pause,resume,pipe",
        Duplex: "close,error,prefinish,finish,drain,data,end,readable,foo,pause,resume,pipe",
        PassThrough: "close,error,prefinish,finish,drain,data,end,readable,foo,pause,resume,pipe",
    }
    for cls, names in expect.items():
        s = cls()
        for e in events:
            s.on(e, noread)
        assert ",".join(s.event_names()) == names, cls


async def test_final_calling_back_twice_finishes_then_errors() -> None:
    # test-stream-err-multiple-callback-construction.js: _final calls its callback twice (two
    # later ticks): 'finish', then 'error' ERR_MULTIPLE_CALLBACK, then 'close'
    log: list[Any] = []

    class TestWritable(Writable):
        def _write(self, chunk: Any, callback: Any) -> None:
            callback()

        def _final(self, callback: Any) -> None:  # type: ignore[override]
            soon(callback)
            soon(callback)

    w = TestWritable()
    w.on("finish", lambda: log.append("finish"))
    w.on("error", lambda e: log.append(f"error:{e.code}:{e}"))
    closed = when(w, "close")
    w.write("some data")
    w.end()
    await done(closed)
    assert log == ["finish", "error:ERR_MULTIPLE_CALLBACK:Callback called multiple times"]


async def test_duplex_defaults_and_both_sides() -> None:
    # test-stream-duplex.js (bytes; its object-mode flags and fromWeb/toWeb are not ported):
    # allow_half_open by default, no 'end' listener; a push reaches 'data', end(chunk) _write
    d = Duplex()
    assert d.allow_half_open is True and d.listener_count("end") == 0
    written: list[bytes] = []
    read: list[bytes] = []
    d._write = lambda c, cb: (written.append(c), cb())  # type: ignore[method-assign]
    d._read = noread  # type: ignore[method-assign]
    d.on("data", read.append)
    d.push(b"1")
    d.end(b"2")
    await done(when(d, "finish"))
    await ticks()
    assert (read, written) == ([b"1"], [b"2"])


async def test_resume_pipe_and_data_listener_flow_on_a_later_tick() -> None:
    # test-stream-readable-resumeScheduled.js (its resumeScheduled flag is internal; what it
    # schedules is seen): pipe(), on('data') and resume() start the flow on a later tick:
    # 'resume' comes then, and a buffered chunk's 'data' too, not synchronously
    log: list[str] = []
    r = Readable(read=noread)
    r.on("resume", lambda: log.append("resume"))
    r.push(b"\x01\x02\x03")
    r.on("data", lambda c: log.append(f"data:{len(c)}"))
    log.append("sync")
    await ticks()
    assert log == ["sync", "resume", "data:3"]
    for start in ("pipe", "resume"):
        log.clear()
        r2 = Readable(read=noread)
        r2.on("resume", lambda: log.append("resume"))
        if start == "pipe":
            r2.pipe(Writable(write=okwrite))
        else:
            r2.resume()
        log.append("sync")
        await ticks()
        assert log == ["sync", "resume"], start


def _views() -> list[Any]:
    """Python's ArrayBufferViews of b'ABCD' (Node's getArrayBufferViews: every typed array
    and a DataView over the same 4 bytes): memoryviews of wider items, a strided one, an
    ``array.array``, a ``bytes`` subclass."""
    import array

    class MyBytes(bytes):
        pass

    return [memoryview(b"ABCD").cast("H"), memoryview(b"ABCD").cast("f"),
            memoryview(b"AxBxCxDx")[::2], array.array("H", b"ABCD"), MyBytes(b"ABCD"),
            memoryview(bytearray(b"ABCD")).cast("I")]


async def test_any_buffer_protocol_chunk_is_written_and_counted_in_bytes() -> None:
    # test-stream-typedarray.js: a chunk of any typed-array kind (Python: any object of the
    # buffer protocol) reaches _write as its bytes, writable_length counts bytes; the ones
    # written while the first is in flight come in one _writev; pushed and unshifted: bytes
    views = _views()
    seen: list[bytes] = []
    pending: list[Any] = []
    lengths: list[int] = []
    writev: list[bytes] = []

    def write(c: Any, cb: Any) -> None:
        seen.append(bytes(c))
        pending.append(cb)

    def wv(chunks: list[Any], cb: Any) -> None:
        writev.extend(bytes(c) for c in chunks)
        cb()

    w = Writable(write=write, writev=wv)
    for v in views:
        w.write(v)
        lengths.append(w.writable_length)
    w.end(views[0])
    assert lengths == [4 * i for i in range(1, len(views) + 1)]
    pending[0]()
    await done(when(w, "finish"))
    assert seen == [b"ABCD"]
    assert writev == [b"ABCD"] * len(views)
    assert w.writable_length == 0

    r = Readable(read=noread)
    r.push(views[1])
    r.push(views[3])
    r.unshift(views[0])  # type: ignore[arg-type]
    assert r.readable_length == 12
    assert r.read() == b"ABCD" * 3
    r2 = Readable(read=noread)
    r2.set_encoding("utf8")
    r2.push(views[2])
    r2.push(views[4])
    r2.unshift(views[5])  # type: ignore[arg-type]
    assert r2.read() == "ABCD" * 3
    with pytest.raises(NodeError) as info:
        w.write(object())  # type: ignore[arg-type]
    assert info.value.code == "ERR_INVALID_ARG_TYPE"


async def test_transform_final_and_flush_order_with_sync_final() -> None:
    # test-stream-transform-final-sync.js (bytes for its object-mode numbers): three writes
    # (the transform calls back on the next tick), a final option that calls back at once, a
    # flush that calls back on the next tick: transform/data x3, final, the flush (both
    # parts), end()'s callback, 'finish', 'end' (what Node's test asserts; its comment's list
    # is out of date)
    log: list[str] = []

    def transform(chunk: bytes, cb: Any) -> None:
        log.append(f"transform:{chunk[0]}")
        t.push(chunk)
        soon(cb)

    def final(cb: Any) -> None:
        log.append("final")
        cb()

    def flush(cb: Any) -> None:
        log.append("flush1")
        soon(lambda: (log.append("flush2"), cb()))

    t = Transform(transform=transform, final=final, flush=flush)
    t.on("finish", lambda: log.append("finish"))
    t.on("data", lambda d: log.append(f"data:{d[0]}"))
    ended = when(t, "end")
    t.write(b"\x01")
    t.write(b"\x04")
    t.end(b"\x07", lambda err=None: log.append("end-cb"))
    await done(ended)
    log.append("end")
    assert log == ["transform:1", "data:1", "transform:4", "data:4", "transform:7", "data:7",
                   "final", "flush1", "flush2", "end-cb", "finish", "end"]


@pytest.mark.parametrize("case", [1, 2, 3])
async def test_reading_with_data_and_readable_listeners_unshift_and_end(case: int) -> None:
    # test-stream-readable-reading-readingMore.js (its reading/readingMore flags are
    # internal; the events they drive are seen): 1. 'data' and 'readable' listeners, a push,
    # read(6), unshift, end: three 'readable's; 2. 'data' only, pause()/resume() around the
    # unshift: the unshifted chunk first; 3. a 'readable' listener removed at once, resume,
    # pause, resume a tick later (node v20's event order for each)
    log: list[str] = []
    r = Readable(read=noread)

    def dec(x: Any) -> str:
        return x.decode() if isinstance(x, bytes) else str(x)

    def drain() -> None:
        log.append("readable")
        while r.read() is not None:
            pass

    ended = when(r, "end")
    r.on("data", lambda d: log.append("data:" + dec(d)))
    if case == 1:
        r.on("readable", drain)
        r.push("pushed")
        log.append("read6:" + dec(r.read(6)))
        r.unshift("unshifted")
        r.push(None)
    elif case == 2:
        r.push("pushed")
        r.pause()
        log.append(f"f:{r.readable_flowing}")
        r.resume()
        log.append(f"f:{r.readable_flowing}")
        r.unshift("unshifted")
        r.push(None)
    else:
        r.on("readable", drain)
        r.remove_listener("readable", drain)
        r.push("pushed")
        log.append(f"f:{r.readable_flowing}")

        def later_tick() -> None:
            r.resume()
            log.append(f"f:{r.readable_flowing}")
            r.pause()
            log.append(f"f:{r.readable_flowing}")
            r.resume()
            r.unshift("unshifted")
            r.push(None)

        soon(later_tick)
    await done(ended)
    expect = {
        1: "data:pushed read6:pushed readable data:unshifted readable readable",
        2: "f:False f:True data:unshifted data:pushed",
        3: "f:False data:pushed f:True f:False data:unshifted",
    }
    assert " ".join(log) == expect[case]
