"""Node v20's own stream tests, third batch (session 29), as scenarios for ``nodetls.stream``:
bytes where Node's tests use object mode, Python names for Node's camelCase ones. Each
expectation is what node v20 printed for the same scenario (checked by running it); the Node
test each one ports (``test/parallel/test-stream*-<name>.js``) is named in its comment."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nodetls import net
from nodetls.errors import NodeError
from nodetls.stream import (
    Duplex,
    PassThrough,
    Readable,
    Transform,
    Writable,
    finished,
)

from .streamutil import code, done, ticks, when


def rec(em: Any, log: list[str], *events: str, tag: str = "") -> None:
    """Append ``'<tag><event>[:<code>]'`` to ``log`` at each of ``events``."""
    for ev in events:
        em.on(ev, lambda *a, _ev=ev: log.append(
            tag + _ev + (":" + str(code(a[0])) if a and isinstance(a[0], BaseException) else "")))


def noread(*_: Any) -> None:
    pass


def okwrite(_chunk: Any, cb: Any) -> None:
    cb()


def nowrite(_chunk: Any, _cb: Any) -> None:
    pass


# -- Writable -------------------------------------------------------------------------------------


async def test_writable_end_twice_then_end_after_finish() -> None:
    # test-stream-writable-end-multiple.js: end(chunk, cb) and end(cb) both called back at
    # 'finish'; an end(cb) inside 'finish' gets ERR_STREAM_ALREADY_FINISHED on a later tick
    log: list[str] = []

    def write(_c: Any, cb: Any) -> None:
        asyncio.get_running_loop().call_later(0.01, cb)

    w = Writable(write=write)
    w.end(b"testing ended state", lambda err=None: log.append(f"end1:{code(err)}"))
    w.end(lambda err=None: log.append(f"end2:{code(err)}"))
    finished_fut = asyncio.get_running_loop().create_future()

    def on_finish() -> None:
        ticked = False

        def late(err: Any = None) -> None:
            log.append(f"end3:{code(err)}:ticked={ticked}")
            finished_fut.set_result(None)

        w.end(late)
        ticked = True

    w.on("finish", on_finish)
    await done(finished_fut)
    assert log == ["end1:None", "end2:None", "end3:ERR_STREAM_ALREADY_FINISHED:ticked=True"]


async def test_writable_destroy_while_final_pending_never_finishes() -> None:
    # test-stream-writable-final-destroy.js: end() then destroy() while _final's callback is
    # still to come: no 'prefinish', no 'finish', one 'close'
    log: list[str] = []
    w = Writable(write=okwrite, final=lambda cb: asyncio.get_running_loop().call_soon(cb))
    w.end()
    w.destroy()
    rec(w, log, "prefinish", "finish", "close")
    await done(when(w, "close"))
    await ticks()
    assert log == ["close"]


async def test_writable_final_that_raises_errors_the_end_callback_and_the_stream() -> None:
    # test-stream-writable-final-throw.js: a _final that raises: 'error', 'close', then end()'s
    # callback with that error (node v20's order)
    log: list[str] = []
    end_cb = asyncio.get_running_loop().create_future()

    class Foo(Duplex):
        def _final(self, callback: Any) -> None:
            raise ValueError("fhqwhgads")

        def _read(self, size: int) -> None:
            pass

    foo = Foo()
    foo._write = lambda _c, cb: (log.append("write"), cb())  # type: ignore[method-assign]
    foo.end(b"test", lambda err=None: (log.append(f"end-cb:{err}"), end_cb.set_result(None)))
    foo.on("error", lambda err: log.append(f"error:{err}"))
    foo.on("close", lambda: log.append("close"))
    await done(end_cb)
    assert log == ["write", "error:fhqwhgads", "close", "end-cb:fhqwhgads"]


async def _destroy_during_write(then_end: bool) -> list[str]:
    log: list[str] = []
    holder: list[Any] = []

    def write(_c: Any, cb: Any) -> None:
        log.append("write")

        def on_close() -> None:
            log.append("close")
            cb()
            if then_end:
                holder[0].end()

        holder[0].on("close", on_close)

    w = Writable(write=write)
    holder.append(w)
    w.on("finish", lambda: log.append("finish"))
    if then_end:
        w.write(b"asd")
    else:
        w.end(b"asd")
    w.destroy()
    await ticks()
    return log


async def test_writable_destroyed_before_its_write_completes_never_finishes() -> None:
    # test-stream-writable-finish-destroyed.js: the write's callback comes in 'close' (after
    # destroy()); an end() there too: never 'finish'
    for then_end in (False, True):
        log = await _destroy_during_write(then_end)
        assert log == ["write", "close"]
    # and a write that never calls back: end() + destroy() -> no 'finish'
    log = []
    w = Writable(write=nowrite)
    w.on("finish", lambda: log.append("finish3"))
    w.end()
    w.destroy()
    await ticks()
    assert "finish3" not in log


async def test_writable_write_callback_called_twice_is_an_error() -> None:
    # test-stream-writable-write-cb-twice.js: sync+sync, sync+later, later+later: one
    # ERR_MULTIPLE_CALLBACK 'error' each
    loop = asyncio.get_running_loop()

    def sync_sync(_c: Any, cb: Any) -> None:
        cb()
        cb()

    def sync_later(_c: Any, cb: Any) -> None:
        cb()
        loop.call_soon(cb)

    def later_later(_c: Any, cb: Any) -> None:
        loop.call_soon(cb)
        loop.call_soon(cb)

    for write in (sync_sync, sync_later, later_later):
        errors: list[Any] = []
        w = Writable(write=write)
        w.write(b"hi")
        w.on("error", lambda e, _l=errors: _l.append(code(e)))
        await done(when(w, "close"))
        assert errors == ["ERR_MULTIPLE_CALLBACK"], write.__name__


@pytest.mark.parametrize("auto_destroy", [False, True])
async def test_writable_write_errors_sync_and_async(auto_destroy: bool) -> None:
    # test-stream-writable-write-error.js: write after end: the callback on a later tick, before
    # 'error', both ERR_STREAM_WRITE_AFTER_END; None, a non-chunk and an unknown encoding raise
    # at the call
    log: list[str] = []
    w = Writable(auto_destroy=auto_destroy, write=nowrite)
    w.end()
    ticked = False
    w.write(b"asd", lambda err=None: log.append(f"cb:{code(err)}:ticked={ticked}"))
    ticked = True
    w.on("error", lambda e: log.append(f"error:{code(e)}"))
    await ticks()
    assert log == ["cb:ERR_STREAM_WRITE_AFTER_END:ticked=True", "error:ERR_STREAM_WRITE_AFTER_END"]
    for chunk, enc, want in ((None, None, "ERR_STREAM_NULL_VALUES"),
                             ({}, None, "ERR_INVALID_ARG_TYPE"),
                             ("asd", "noencoding", "ERR_UNKNOWN_ENCODING")):
        w = Writable(auto_destroy=auto_destroy, write=nowrite, decode_strings=False)
        with pytest.raises(NodeError) as info:
            w.write(chunk, enc)
        assert info.value.code == want


async def test_writable_invalid_chunks_raise_at_the_call_without_error_event() -> None:
    # test-stream-writable-invalid-chunk.js / test-stream-writable-null.js (not object mode):
    # [], {}, 0, True, 0.0, False -> ERR_INVALID_ARG_TYPE; None -> ERR_STREAM_NULL_VALUES; no 'error'
    log: list[str] = []
    for chunk, want in (([], "ERR_INVALID_ARG_TYPE"), ({}, "ERR_INVALID_ARG_TYPE"),
                        (0, "ERR_INVALID_ARG_TYPE"), (True, "ERR_INVALID_ARG_TYPE"),
                        (0.0, "ERR_INVALID_ARG_TYPE"), (False, "ERR_INVALID_ARG_TYPE"),
                        (None, "ERR_STREAM_NULL_VALUES")):
        w = Writable(write=okwrite, auto_destroy=False)
        w.on("error", lambda e: log.append(code(e)))
        with pytest.raises(NodeError) as info:
            w.write(chunk)
        assert info.value.code == want
        assert not w.destroyed
    await ticks()
    assert log == []


async def test_writable_aborted() -> None:
    # test-stream-writable-aborted.js: writable_aborted: destroyed (or errored) before 'finish'
    w = Writable(write=nowrite)
    assert w.writable_aborted is False
    w.destroy()
    assert w.writable_aborted is True
    w = Writable(write=nowrite)
    w.end()
    w.destroy()
    assert w.writable_aborted is True
    w = Writable(write=okwrite)
    w.end()
    await done(when(w, "finish"))
    w.destroy()
    assert w.writable_aborted is False


async def test_writable_set_default_encoding_checks_its_argument() -> None:
    # test-stream-writable-change-default-encoding.js: any case is accepted; a non-encoding
    # raises ERR_UNKNOWN_ENCODING (a TypeError) at the call
    w = Writable(write=okwrite, decode_strings=False)
    assert w.set_default_encoding("AsCii") is w
    for bad in ({}, "noencoding", "", None):
        with pytest.raises(TypeError) as info:
            w.set_default_encoding(bad)  # type: ignore[arg-type]
        assert info.value.code == "ERR_UNKNOWN_ENCODING"  # type: ignore[attr-defined]
    assert str(info.value).startswith("Unknown encoding: ")


async def test_writable_without_write_raises_and_options_set_the_hooks() -> None:
    # test-stream-writable-constructor-set-methods.js: end(chunk) with no _write raises
    # ERR_METHOD_NOT_IMPLEMENTED; write=/writev= options become _write/_writev (a corked pair
    # reaches _writev as one call of two chunks)
    w = Writable()
    with pytest.raises(NodeError) as info:
        w.end(b"blerg")
    assert info.value.code == "ERR_METHOD_NOT_IMPLEMENTED"
    assert str(info.value) == "The _write() method is not implemented"
    log: list[Any] = []

    def write(chunk: Any, cb: Any) -> None:
        log.append(("write", chunk))
        cb()

    def writev(chunks: Any, cb: Any) -> None:
        log.append(("writev", len(chunks)))
        cb()

    w2 = Writable(write=write, writev=writev)
    assert w2._write is write and w2._writev is writev
    w2.write(b"blerg")
    w2.cork()
    w2.write(b"blerg")
    w2.write(b"blerg")
    w2.end()
    await done(when(w2, "finish"))
    assert log == [("write", b"blerg"), ("writev", 2)]


async def test_writable_corked_writes_each_called_back_once() -> None:
    # test-stream-writable-clear-buffer.js (bytes): five corked writes, each completing on a
    # later turn, then end(): every callback once, in order, the buffer shrinking one by one
    # (node v20: writableBuffer.length 3, 2, 1, 0, 0 in the callbacks)
    seen: list[tuple[int, int]] = []

    def write(_c: Any, cb: Any) -> None:
        asyncio.get_running_loop().call_soon(cb)

    w = Writable(write=write)
    w.cork()
    for i in range(1, 6):
        w.write(bytes([i]), lambda err=None, _i=i: seen.append((_i, len(w.writable_buffer))))
    w.end()
    await done(when(w, "finish"))
    assert seen == [(1, 3), (2, 2), (3, 1), (4, 0), (5, 0)]


async def test_writable_ending_and_finished_states() -> None:
    # test-stream-writableState-ending.js / test-stream-writable-finished-state.js: in _write
    # neither ended nor finished; after end() ended, not finished (end returns the stream); in
    # end()'s callback both (then 'finish')
    log: list[str] = []

    def st(w: Writable) -> str:
        return f"{w.writable_ended},{w.writable_finished},{w.writable}"

    w = Writable(write=lambda _c, cb: (log.append("write:" + st(w)), cb()))
    w.on("finish", lambda: log.append("finish:" + st(w)))
    cb_done = asyncio.get_running_loop().create_future()
    r = w.end(b"x", lambda err=None: (log.append("cb:" + st(w)), cb_done.set_result(None)))
    log.append(f"after-end:{st(w)}:{r is w}")
    await done(cb_done)
    await ticks()
    assert log == ["write:False,False,True", "after-end:True,False,False:True",
                   "cb:True,True,False", "finish:True,True,False"]


async def test_writable_writable_turns_false() -> None:
    # test-stream-writable-writable.js: False after destroy(), after a write whose callback
    # failed (at once, or on a later turn) and after end()
    w = Writable(write=nowrite)
    assert w.writable is True
    w.destroy()
    assert w.writable is False
    errors: list[str] = []
    w = Writable(write=lambda _c, cb: cb(ValueError("x")))
    w.write(b"asd")
    assert w.writable is False
    w.on("error", lambda e: errors.append(str(e)))
    seen: list[bool] = []

    def later_fail(_c: Any, cb: Any) -> None:
        def fail() -> None:
            cb(ValueError("y"))
            seen.append(w2.writable)
        asyncio.get_running_loop().call_soon(fail)

    w2 = Writable(write=later_fail)
    w2.write(b"asd")
    w2.on("error", lambda e: errors.append(str(e)))
    w3 = Writable(write=nowrite)
    w3.end()
    assert w3.writable is False
    await done(when(w2, "close"))
    assert seen == [False] and sorted(errors) == ["x", "y"]


@pytest.mark.parametrize("case", ["sync", "later", "writev-sync", "writev-later", "pipe-sync",
                                  "pipe-later", "write-in-prefinish", "write-in-finish"])
async def test_write_errors_never_finish(case: str) -> None:
    # test-stream-writable-write-writev-finish.js: a failing _write/_writev (at once or later,
    # corked, under pipe()) gives 'error' then 'close', never 'prefinish'/'finish'; a write in a
    # 'prefinish' or 'finish' listener is ERR_STREAM_WRITE_AFTER_END
    loop = asyncio.get_running_loop()
    log: list[str] = []
    w = Writable()
    rec(w, log, "prefinish", "finish", "error", "close")
    err = ValueError

    if case in ("sync", "pipe-sync"):
        w._write = lambda _c, cb: cb(err("write test error"))  # type: ignore[method-assign]
    elif case in ("later", "pipe-later"):
        w._write = lambda _c, cb: loop.call_soon(cb, err("write test error"))  # type: ignore[method-assign]
    elif case == "writev-sync":
        w._write = lambda _c, cb: cb(err("write test error"))  # type: ignore[method-assign]
        w._writev = lambda _c, cb: cb(err("writev test error"))
    elif case == "writev-later":
        w._write = lambda _c, cb: loop.call_soon(cb, err("write test error"))  # type: ignore[method-assign]
        w._writev = lambda _c, cb: loop.call_soon(cb, err("writev test error"))
    else:
        w._write = lambda _c, cb: loop.call_soon(cb)  # type: ignore[method-assign]
    closed = when(w, "close")
    if case in ("sync", "later"):
        w.end(b"test")
    elif case.startswith("writev"):
        w.cork()
        w.write(b"test")
        await ticks(2)
        w.end(b"test")
    elif case.startswith("pipe"):
        rs = Readable(read=noread)
        rs.push(b"ok")
        rs.push(None)
        rs.pipe(w)
    else:
        ev = case.split("-")[-1]
        w.on(ev, lambda: w.write(b"shouldn't write"))
        w.end()
    await done(closed)
    await ticks()
    want = {"sync": "error:write test error", "later": "error:write test error",
            "writev-sync": "error:writev test error", "writev-later": "error:writev test error",
            "pipe-sync": "error:write test error", "pipe-later": "error:write test error"}
    if case in want:
        assert log == [want[case], "close"]
    elif case == "write-in-prefinish":
        assert log == ["prefinish", "error:ERR_STREAM_WRITE_AFTER_END", "close"]
    else:
        assert log == ["prefinish", "finish", "error:ERR_STREAM_WRITE_AFTER_END", "close"]


async def test_no_drain_once_ended() -> None:
    # test-stream-write-drain.js: write() over the high-water mark then end(): no 'drain'
    log: list[str] = []
    w = Writable(high_water_mark=1, write=lambda _c, cb: asyncio.get_running_loop().call_soon(cb))
    rec(w, log, "drain", "prefinish", "finish", "close")
    assert w.write(b"asd") is False
    w.end()
    await done(when(w, "close"))
    assert log == ["prefinish", "finish", "close"]


async def test_final_delays_finish() -> None:
    # test-stream-write-final.js: 'prefinish' and 'finish' wait for _final's callback
    loop = asyncio.get_running_loop()
    log: list[str] = []

    def final(cb: Any) -> None:
        def later() -> None:
            log.append("final-done")
            cb()
        loop.call_later(0.02, later)

    w = Writable(final=final, write=lambda _c, cb: loop.call_soon(cb))
    rec(w, log, "prefinish", "finish")
    w.write(b"\0")
    w.end(b"")
    await done(when(w, "finish"))
    assert log == ["final-done", "prefinish", "finish"]


async def test_final_error_without_error_listener_is_uncaught_and_reaches_end_callback() -> None:
    # test-stream-writable-end-cb-uncaught.js: _final fails, nobody listens to 'error': the
    # error is uncaught (here: the loop's exception handler) and end()'s callback gets it
    loop = asyncio.get_running_loop()
    uncaught: list[Any] = []
    loop.set_exception_handler(lambda _l, ctx: uncaught.append(ctx.get("exception")))
    try:
        err = ValueError("kaboom")
        got = loop.create_future()
        w = Writable(write=okwrite, final=lambda cb: cb(err))
        w.write(b"asd")
        w.end(lambda e=None: got.set_result(e))
        assert await done(got) is err
        await ticks()
        assert uncaught == [err]
    finally:
        loop.set_exception_handler(None)


# -- Readable -------------------------------------------------------------------------------------


async def test_readable_aborted() -> None:
    # test-stream-readable-aborted.js: destroyed before 'end' (pushed None or data or nothing):
    # aborted; destroyed after 'end': not; a Duplex with readable=False: never
    for pushes in ((), (None,), (b"asd",)):
        r = Readable(read=noread)
        assert r.readable_aborted is False
        for p in pushes:
            r.push(p)
        r.destroy()
        assert r.readable_aborted is True
    r = Readable(read=noread)
    r.push(b"asd")
    r.push(None)
    assert r.readable_aborted is False
    seen: list[bool] = []

    def on_end() -> None:
        seen.append(r.readable_aborted)
        r.destroy()
        seen.append(r.readable_aborted)

    r.on("end", on_end)
    r.resume()
    await done(when(r, "close"))
    assert seen == [False, False] and r.readable_aborted is False
    d = Duplex(readable=False, write=nowrite)
    d.destroy()
    assert d.readable_aborted is False


@pytest.mark.parametrize("method", ["push", "unshift"])
async def test_push_or_unshift_inside_data_listener(method: str) -> None:
    # test-stream-readable-add-chunk-during-data.js: inside the first 'data' the buffer is empty;
    # push()/unshift() of the chunk buffers it, and a new 'data' listener gets it again
    log: list[Any] = []
    r = Readable(read=noread)
    again = asyncio.get_running_loop().create_future()

    def first(chunk: bytes) -> None:
        log.append(r.readable_length)
        getattr(r, method)(chunk)
        log.append(r.readable_length)
        r.on("data", lambda c: again.done() or again.set_result(c))

    r.once("data", first)
    r.push(b"Hello, world")
    assert await done(again) == b"Hello, world"
    assert log == [0, 12]


async def test_data_after_a_removed_readable_listener_with_encoding() -> None:
    # test-stream-readable-data.js: set_encoding, a 'readable' listener added and removed, then
    # (a tick later) a 'data' listener and a push: the data is delivered
    r = Readable(read=noread)
    r.set_encoding("utf8")

    def on_readable() -> None:
        pass

    r.on("readable", on_readable)
    r.remove_listener("readable", on_readable)
    await ticks(1)
    got = when(r, "data")
    r.push("hello")
    assert await done(got) == ("hello",)


def _passthrough_transform(log: list[str]) -> Transform:
    t = Transform()

    def transform(chunk: Any, cb: Any) -> None:
        log.append("transform")
        t.push(chunk)
        cb()

    def flush(cb: Any) -> None:
        log.append("flush")
        cb()

    t._transform = transform  # type: ignore[method-assign]
    t._flush = flush  # type: ignore[method-assign]
    return t


@pytest.mark.parametrize("case", ["pipe", "end-chunk", "write-end", "push-sync", "push-later",
                                  "listen-first"])
async def test_readable_events_of_a_short_stream(case: str) -> None:
    # test-stream-readable-emit-readable-short-stream.js: how many 'readable' events a one-chunk
    # stream gives a reader that reads until None (node v20: 2, 1, 1, 1, 2, 2)
    log: list[str] = []
    chunks: list[Any] = []
    readables = 0
    if case == "pipe":
        r = Readable()
        r._read = lambda _n: (log.append("read"), r.push(b"content"), r.push(None))  # type: ignore[method-assign]
        s: Any = _passthrough_transform(log)
        r.pipe(s)
    elif case.startswith("push"):
        s = Readable(read=noread)
    else:
        s = _passthrough_transform(log)
    if case == "end-chunk":
        s.end(b"content")
    elif case == "write-end":
        s.write(b"content")
        s.end()

    def on_readable() -> None:
        nonlocal readables
        readables += 1
        while (c := s.read()) is not None:
            chunks.append(c)

    s.on("readable", on_readable)
    if case == "push-sync":
        s.push(b"content")
        s.push(None)
    elif case == "push-later":
        await ticks(1)
        s.push(b"content")
        s.push(None)
    elif case == "listen-first":
        s.write(b"content")
        s.end()
    s.resume()  # (consumes nothing more: lets 'end' come)
    await done(when(s, "end"))
    await ticks()
    assert chunks == [b"content"]
    want = {"pipe": 2, "end-chunk": 1, "write-end": 1, "push-sync": 1, "push-later": 2,
            "listen-first": 2}
    assert readables == want[case]
    if case not in ("push-sync", "push-later"):
        assert log.count("transform") == 1 and log.count("flush") == 1


async def test_readable_events_batch_pushes_of_one_turn() -> None:
    # test-stream-readable-emittedReadable.js (what it shows): two pushes on the same turn give
    # one 'readable' (read() returns both), a later push and the end two more; read(0) in the
    # only 'readable' of a pushed-and-ended stream; in flowing mode 'data' per chunk
    loop = asyncio.get_running_loop()
    got: list[Any] = []
    r = Readable(read=noread)
    r.on("readable", lambda: got.append(r.read()))
    loop.call_soon(r.push, b"foo")
    loop.call_soon(r.push, b"bar")
    await ticks()
    r.push(b"quo")
    loop.call_soon(r.push, None)
    await done(when(r, "end"))
    assert got == [b"foobar", b"quo", None]
    n = 0

    def on_readable() -> None:
        nonlocal n
        n += 1
        no_read.read(0)

    no_read = Readable(read=noread)
    no_read.on("readable", on_readable)
    no_read.push(b"foo")
    no_read.push(None)
    await ticks()
    assert n == 1
    data: list[Any] = []
    flowing = Readable(read=noread)
    flowing.on("data", lambda c: (data.append(c), flowing.read()))
    for c in (b"foooo", b"bar", b"quo"):
        flowing.push(c)
    loop.call_soon(flowing.push, None)
    await done(when(flowing, "end"))
    assert data == [b"foooo", b"bar", b"quo"]


async def test_read_of_a_huge_size_raises_the_high_water_mark() -> None:
    # test-stream-readable-flow-recursion.js: read(5000) on a high_water_mark=2 stream raises
    # the mark to 8192 (the next power of 2); two _read calls deliver the 5000 bytes; no recursion
    reads = 0
    total = 5000
    got: list[int] = []
    s = Readable(high_water_mark=2)

    def read(size: int) -> None:
        nonlocal reads, total
        reads += 1
        size = min(size, total)
        total -= size
        s.push(None if size == 0 else bytes(size))

    s._read = read  # type: ignore[method-assign]

    def flow() -> None:
        chunk = s.read(5000)
        if chunk is None:
            s.once("readable", flow)
        else:
            got.append(len(chunk))

    flow()
    await ticks()
    assert got == [5000]
    assert reads == 2 and s.readable_high_water_mark == 8192 and s.readable_length == 0


async def test_hwm_0_data_listener_does_not_flow_with_a_readable_listener() -> None:
    # test-stream-readable-hwm-0-no-flow-data.js (bytes): high_water_mark=0, _read pushes on the
    # next tick; with 'readable' listened to, 'data' comes only from read(); the end comes a
    # tick after the read() that finds it
    loop = asyncio.get_running_loop()
    data = [b"a", None]
    calls: list[str] = []
    r = Readable(high_water_mark=0)

    def read(_n: int) -> None:
        calls.append(f"_read:{data[0]!r}")

        def later() -> None:
            calls.append(f"push:{data[0]!r}")
            r.push(data.pop(0))
        loop.call_soon(later)

    r._read = read  # type: ignore[method-assign]
    assert r.readable_flowing is None
    r.on("readable", lambda: calls.append("readable"))
    assert r.readable_flowing is False
    r.on("data", lambda c: calls.append(f"data:{c!r}"))
    r.on("end", lambda: calls.append("end"))
    assert r.readable_flowing is False
    await ticks()
    assert calls == ["_read:b'a'", "push:b'a'", "readable"]
    assert r.read() == b"a"
    assert calls[-1] == "data:b'a'"
    assert r.read() is None
    await ticks()
    assert calls[4:] == ["_read:None", "push:None", "readable"]
    assert r.read() is None
    assert calls[-1] == "readable"
    await ticks(1)
    assert calls[-1] == "end"


async def test_hwm_0_readable_listener_reads_once_and_readable_after_the_end() -> None:
    # test-stream-readable-hwm-0.js: high_water_mark=0: the 'readable' listener's read(0)
    # calls _read once; 'readable' comes after push(None) only; then 'end'
    reads = 0
    log: list[Any] = []

    def read(_n: int) -> None:
        nonlocal reads
        reads += 1

    r = Readable(read=read, high_water_mark=0)
    pushed_null = False
    r.on("readable", lambda: log.append((r.read(), pushed_null)))
    r.on("end", lambda: log.append("end"))

    def later() -> None:
        nonlocal pushed_null
        log.append(("read", r.read()))
        pushed_null = True
        r.push(None)

    asyncio.get_running_loop().call_soon(later)
    await done(when(r, "end"))
    assert reads == 1
    assert log == [("read", None), (None, True), "end"]


async def test_readable_that_always_pushes_reads_to_the_high_water_mark() -> None:
    # test-stream-readable-infinite-read.js: _read pushes 8 KiB each call (hwm 16 KiB): the first
    # 'readable' read() gets 16 KiB, the next ones 24 KiB; after 11 'readable's (the last does not
    # read) _read has been called 31 times
    reads = 0
    sizes: list[int] = []
    r = Readable(high_water_mark=16 * 1024)

    def read(_n: int) -> None:
        nonlocal reads
        reads += 1
        r.push(bytes(8192))

    r._read = read  # type: ignore[method-assign]
    i = 0
    eleven = asyncio.get_running_loop().create_future()

    def on_readable() -> None:
        nonlocal i
        i += 1
        if i == 11:
            eleven.set_result(None)
            return
        sizes.append(len(r.read()))

    r.on("readable", on_readable)
    await done(eleven)
    await ticks()
    assert sizes == [16384] + [24576] * 9
    assert i == 11 and reads == 31


@pytest.mark.parametrize("method", ["push", "unshift"])
async def test_invalid_chunk_pushed_is_an_error_event(method: str) -> None:
    # test-stream-readable-invalid-chunk.js: push()/unshift() of a list, a dict, 0: an 'error'
    # ERR_INVALID_ARG_TYPE (a TypeError), not an exception at the call
    for val in ([], {}, 0):
        errors: list[Any] = []
        r = Readable(read=noread)
        r.on("error", errors.append)
        getattr(r, method)(val)
        await done(when(r, "close"))
        assert [code(e) for e in errors] == ["ERR_INVALID_ARG_TYPE"]
        assert isinstance(errors[0], TypeError)


@pytest.mark.parametrize("source", ["piped", "sync-then-async"])
async def test_wrapper_reading_on_readable_reaches_the_end(source: str) -> None:
    # test-stream-readable-no-unneeded-readable.js: a wrapper whose _read reads its source (or
    # waits for the source's 'readable') ends when the source does: no 'readable' is missed
    loop = asyncio.get_running_loop()
    if source == "piped":
        src = Readable(read=noread)
        for c in (b"foo", b"bar", None):
            src.push(c)
        r: Any = src.pipe(PassThrough())
    else:
        chunks = [b"foo", b"bar"]
        r = Readable()

        def read(_n: int) -> None:
            if chunks:
                r.push(chunks.pop(0))
            else:
                loop.call_soon(r.push, None)
        r._read = read
    got: list[bytes] = []
    wrapper = Readable()

    def wread(_n: int) -> None:
        data = r.read()
        if data:
            got.append(data)
            wrapper.push(data)
            return

        def on_readable() -> None:
            d = r.read()
            if d:
                got.append(d)
                wrapper.push(d)
        r.once("readable", on_readable)

    wrapper._read = wread  # type: ignore[method-assign]
    r.once("end", lambda: wrapper.push(None))
    wrapper.resume()
    await done(when(wrapper, "end"))
    assert b"".join(got) == b"foobar"


async def test_resume_over_the_high_water_mark_does_not_read() -> None:
    # test-stream-readable-resume-hwm.js: a buffer above the high-water mark, resume() then
    # pause() at the first 'data': _read is never called
    reads: list[int] = []
    r = Readable(read=reads.append, high_water_mark=100)
    for _ in range(10):
        r.push(b"a" * 200)
    r.resume()
    r.once("data", lambda _c: r.pause())
    await ticks()
    assert reads == [] and r.readable_length == 1800


@pytest.mark.parametrize("case", ["whole", "split-char", "char-completed-later"])
async def test_set_encoding_with_bytes_already_buffered(case: str) -> None:
    # test-stream-readable-setEncoding-existing-buffers.js: set_encoding() decodes what is
    # buffered: b'a' b'b' -> 'ab'; a 4-byte character pushed byte by byte (before or across the
    # call) -> one '🎉'
    r = Readable(read=noread)
    if case == "whole":
        pushes, after, want = [b"a", b"b"], [], ["ab"]
    elif case == "split-char":
        pushes, after, want = [b"\xf0", b"\x9f", b"\x8e", b"\x89"], [], ["\U0001f389"]
    else:
        pushes, after, want = [b"\xf0", b"\x9f"], [b"\x8e", b"\x89"], ["\U0001f389"]
    for p in pushes:
        r.push(p)
    r.set_encoding("utf8")
    for p in after:
        r.push(p)
    chunks: list[Any] = []
    r.on("data", chunks.append)
    await ticks(2)
    assert chunks == want


async def test_unpipe_and_resume_inside_the_destination_lets_the_source_end() -> None:
    # test-stream-readable-unpipe-resume.js (a big in-memory source for the file): the first
    # _transform unpipes and resumes the source, which then flows to its 'end'
    left = 64
    src = Readable()

    def read(_n: int) -> None:
        nonlocal left
        left -= 1
        src.push(bytes(16384) if left > 0 else None)

    src._read = read  # type: ignore[method-assign]
    calls = 0

    def transform(_c: Any, _cb: Any) -> None:
        nonlocal calls
        calls += 1
        src.unpipe()
        src.resume()

    t = Transform(transform=transform)
    ended = when(src, "end")
    src.pipe(t).resume()
    await done(ended)
    assert calls == 1 and left == 0


async def test_readable_property() -> None:
    # test-stream-readable-readable.js: False after destroy(); still True after push(None) until
    # 'end' (False inside it); False once destroyed with an error (and in 'error')
    r = Readable(read=noread)
    assert r.readable is True
    r.destroy()
    assert r.readable is False
    r = Readable(read=noread)
    r.resume()
    r.push(None)
    assert r.readable is True
    seen: list[bool] = []
    r.on("end", lambda: seen.append(r.readable))
    await done(when(r, "end"))
    loop = asyncio.get_running_loop()

    def read(_n: int) -> None:
        def later() -> None:
            r2.destroy(ValueError())
            seen.append(r2.readable)
        loop.call_soon(later)

    r2 = Readable(read=read)
    r2.resume()
    r2.on("error", lambda _e: seen.append(r2.readable))
    await done(when(r2, "close"))
    assert seen == [False, False, False]


async def test_hwm_0_keeps_reading_while_data_comes_later() -> None:
    # test-stream-readable-hwm-0-async.js: high_water_mark=0, each _read pushes on the next
    # tick: 6 _read calls (5 chunks, then the end), 5 'data', one 'end'
    loop = asyncio.get_running_loop()
    count = 5
    reads = 0
    data: list[Any] = []

    def read(_n: int) -> None:
        nonlocal reads
        reads += 1

        def later() -> None:
            nonlocal count
            if count:
                count -= 1
                r.push(b"a")
            else:
                r.push(None)
        loop.call_soon(later)

    r = Readable(read=read, high_water_mark=0)
    r.on("data", data.append)
    await done(when(r, "end"))
    assert reads == 6 and data == [b"a"] * 5


# -- pipe -----------------------------------------------------------------------------------------


async def test_pipe_to_three_waits_for_every_slow_destination() -> None:
    # test-stream-pipe-await-drain.js: one source piped to three; a chunk above the high-water
    # mark; writer2 and writer3 never call back: a second push reaches nobody (writer1 is
    # written once), and the source stays paused
    loop = asyncio.get_running_loop()
    log: list[str] = []
    reader = Readable(read=noread)
    big = bytes(560000)

    def w1_write(_c: Any, cb: Any) -> None:
        log.append("w1")
        if log.count("w1") == 1:
            loop.call_soon(lambda: loop.call_soon(reader.push, big))
        loop.call_soon(cb)

    writers = [Writable(write=w1_write),
               Writable(write=lambda _c, _cb: log.append("w2")),
               Writable(write=lambda _c, _cb: log.append("w3"))]
    for w in writers:
        reader.pipe(w)
    reader.push(big)
    await ticks(20)
    assert log == ["w1", "w2", "w3"]
    assert reader.is_paused() and reader.readable_length == 560000


async def test_pipe_manual_resume_while_the_destination_still_buffers() -> None:
    # test-stream-pipe-await-drain-manual-resume.js: dest hwm 5 holding its write callbacks: the
    # source pauses; a manual resume() writes... nothing more until drain: a second 'pause';
    # then the held callbacks run and the rest flows to 'finish'
    loop = asyncio.get_running_loop()
    log: list[str] = []
    buffering = True
    queue: list[Any] = []

    def write(c: bytes, cb: Any) -> None:
        log.append(f"w{len(c)}")
        if buffering:
            queue.append(cb)
        else:
            cb()

    w = Writable(high_water_mark=5, write=write)
    r = Readable(read=noread)
    r.pipe(w)

    def second_pause() -> None:
        nonlocal buffering
        log.append("pause2")
        buffering = False
        for cb in queue:
            cb()

    def first_pause() -> None:
        log.append("pause1")
        loop.call_soon(r.resume)
        r.once("pause", second_pause)

    r.once("pause", first_pause)
    for c in (bytes(100), bytes(100), bytes(100), None):
        r.push(c)
    await done(when(w, "finish"))
    assert log == ["w100", "pause1", "pause2", "w100", "w100"]


async def test_pipe_push_inside_the_destination_write() -> None:
    # test-stream-pipe-await-drain-push-while-write.js: the source pushes a third chunk (above
    # the high-water mark) from inside the first _write: all three are written, in order
    log: list[int] = []
    bufs = [bytes(32 * 1024), bytes(33 * 1024)]
    r = Readable(high_water_mark=16 * 1024)

    def read(_n: int) -> None:
        while bufs:
            r.push(bufs.pop(0))

    r._read = read  # type: ignore[method-assign]

    def write(c: bytes, cb: Any) -> None:
        log.append(len(c))
        if len(c) == 32 * 1024:
            r.push(bytes(34 * 1024))
        asyncio.get_running_loop().call_soon(cb)

    w = Writable(high_water_mark=16 * 1024, write=write)
    r.pipe(w)
    await ticks(20)
    assert log == [32768, 33792, 34816]


async def test_pipe_of_an_ended_paused_source_into_a_full_destination() -> None:
    # test-stream-pipe-deadlock.js (nodejs/node#48666): a source that has all its data and its
    # end buffered, paused, piped into a destination whose buffer is full: it still finishes
    src = Readable(read=noread)
    src.push(bytes(100))
    src.push(None)
    src.pause()
    await ticks()
    dst = Writable(high_water_mark=1000,
                   write=lambda _c, cb: asyncio.get_running_loop().call_soon(cb))
    dst.write(bytes(1000))
    fin = when(dst, "finish")
    src.pipe(dst)
    await done(fin)


async def test_pipe_flow_with_later_pushes_and_hwm_0_destination() -> None:
    # test-stream-pipe-flow.js (bytes for objects): a source pushing on the next tick 17 times,
    # into a high_water_mark=0 destination completing each write later: 'end' and 'finish'
    loop = asyncio.get_running_loop()
    left = 17
    rs = Readable()

    def read(_n: int) -> None:
        nonlocal left
        if left > 0:
            left -= 1
            loop.call_soon(rs.push, b"x")
            return
        rs.push(b"x")
        rs.push(None)

    rs._read = read  # type: ignore[method-assign]
    written: list[bytes] = []
    ws = Writable(high_water_mark=0,
                  write=lambda c, cb: (written.append(c), loop.call_soon(cb)))
    ended, fin = when(rs, "end"), when(ws, "finish")
    rs.pipe(ws)
    await done(ended)
    await done(fin)
    assert b"".join(written) == b"x" * 18


async def test_pipe_adds_a_drain_listener_only_under_backpressure() -> None:
    # test-stream-pipe-flow.js: piping into a PassThrough that keeps up: never a 'drain'
    # listener on it
    rs = Readable(read=noread)
    pt = rs.pipe(PassThrough(high_water_mark=2))
    counts = [pt.listener_count("drain")]
    pt.on("finish", lambda: counts.append(pt.listener_count("drain")))
    rs.push(b"a")
    counts.append(pt.listener_count("drain"))
    await ticks(1)
    rs.push(b"b")
    counts.append(pt.listener_count("drain"))
    rs.push(None)
    counts.append(pt.listener_count("drain"))
    pt.resume()
    await done(when(pt, "finish"))
    assert counts == [0, 0, 0, 0, 0]


async def test_unpipe_unblocks_a_source_waiting_for_drain() -> None:
    # test-stream-pipe-flow-after-unpipe.js: the destination's one write never completes; the
    # source, paused for it, flows again after unpipe() (20 chunks and more)
    loop = asyncio.get_running_loop()
    reads = 0
    rs = Readable(high_water_mark=1)

    def read(_n: int) -> None:
        nonlocal reads
        reads += 1
        rs.push(b"foo")

    rs._read = read  # type: ignore[method-assign]
    writes = 0

    def write(_c: Any, _cb: Any) -> None:
        nonlocal writes
        writes += 1
        loop.call_soon(lambda: rs.unpipe(ws))

    ws = Writable(high_water_mark=1, write=write)
    chunks = 0
    twenty = loop.create_future()

    def on_data(_c: Any) -> None:
        nonlocal chunks
        chunks += 1
        if chunks >= 20:
            rs.pause()
            twenty.done() or twenty.set_result(None)

    rs.on("data", on_data)
    rs.pipe(ws)
    await done(twenty)
    assert writes == 1 and reads >= 20


@pytest.mark.parametrize("meddle", ["read", "resume", "nothing"])
async def test_pipe_does_not_stall_when_read_or_resume_is_called_meanwhile(meddle: str) -> None:
    # test-stream-pipe-manual-resume.js (1-byte chunks for objects, 200 for 1000): a read() or
    # resume() called on the source while it is piped: every chunk still written once
    loop = asyncio.get_running_loop()
    n = 200
    counter = n
    rs = Readable(high_water_mark=1)

    def read(_n: int) -> None:
        nonlocal counter
        counter -= 1
        rs.push(b"x" if counter >= 0 else None)

    rs._read = read  # type: ignore[method-assign]
    written: list[bytes] = []
    ws = Writable(high_water_mark=1, write=lambda c, cb: (written.append(c), loop.call_soon(cb)))
    if meddle != "nothing":
        loop.call_soon(getattr(rs, meddle))
    fin = when(ws, "finish")
    rs.pipe(ws)
    await done(fin)
    assert b"".join(written) == b"x" * n


async def test_one_source_piped_to_five_then_unpiped() -> None:
    # test-stream-pipe-multiple-pipes.js: each of five destinations gets 'pipe' and the first
    # chunk once; unpipe() of each gives it 'unpipe'; what follows reaches none of them
    readable = Readable(read=noread)
    targets: list[tuple[Writable, list[Any]]] = []
    events: list[str] = []
    for _ in range(5):
        out: list[Any] = []
        t = Writable(write=lambda c, cb, _o=out: (_o.append(c), cb()))
        t.on("pipe", lambda _src: events.append("pipe"))
        readable.pipe(t)
        targets.append((t, out))
    readable.push(b"\x01\x02\x03\x04\x05")
    await ticks(1)
    for t, out in targets:
        assert out == [b"\x01\x02\x03\x04\x05"]
        t.on("unpipe", lambda _src: events.append("unpipe"))
        readable.unpipe(t)
    readable.push(b"something else")
    readable.push(None)
    readable.resume()
    await done(when(readable, "end"))
    assert all(out == [b"\x01\x02\x03\x04\x05"] for _, out in targets)
    assert events == ["pipe"] * 5 + ["unpipe"] * 5


# -- Duplex, finished -----------------------------------------------------------------------------


def test_duplex_side_properties() -> None:
    # test-stream-duplex-props.js (no object mode): high_water_mark sets both sides; the
    # per-side options set each side; object mode is False on both
    d = Duplex(high_water_mark=100)
    assert (d.writable_high_water_mark, d.readable_high_water_mark) == (100, 100)
    d = Duplex(readable_high_water_mark=10, writable_high_water_mark=100)
    assert (d.writable_high_water_mark, d.readable_high_water_mark) == (100, 10)
    assert d.readable_object_mode is False and d.writable_object_mode is False


async def test_transform_ending_its_readable_side_early_pauses_the_source() -> None:
    # test-stream-duplex-readable-end.js (nodejs/node#35926): a Transform that push(None)s in its
    # first _transform: its 'end' comes with the source paused after two of its five reads
    loops = 5
    src = Readable(high_water_mark=16 * 1024)

    def read(_n: int) -> None:
        nonlocal loops
        if loops:
            loops -= 1
            src.push(bytes(20000))

    src._read = read  # type: ignore[method-assign]
    dst = Transform(high_water_mark=16 * 1024)

    def transform(_c: Any, cb: Any) -> None:
        dst.push(None)
        cb()

    dst._transform = transform  # type: ignore[method-assign]
    src.pipe(dst)
    dst.on("data", noread)
    at_end: list[Any] = []
    dst.on("end", lambda: at_end.append((loops, src.is_paused())))
    await done(when(dst, "end"))
    assert at_end == [(3, True)]


async def test_duplex_writable_finished() -> None:
    # test-stream-duplex-writable-finished.js: False in _write, True in 'finish' and in end()'s
    # callback
    seen: list[Any] = []
    d = Duplex(read=noread)
    d._write = lambda _c, cb: (seen.append(("write", d.writable_finished)), cb())  # type: ignore[method-assign]
    d.on("finish", lambda: seen.append(("finish", d.writable_finished)))
    cb_done = asyncio.get_running_loop().create_future()
    d.end(b"testing finished state",
          lambda err=None: (seen.append(("cb", d.writable_finished)), cb_done.set_result(None)))
    await done(cb_done)
    await ticks()
    assert seen == [("write", False), ("cb", True), ("finish", True)]


async def test_finished_needs_a_stream() -> None:
    # test-stream-end-of-streams.js: finished({}) raises ERR_INVALID_ARG_TYPE; an ended Duplex
    # is accepted
    with pytest.raises(TypeError) as info:
        finished({}, lambda *_: None)
    assert info.value.code == "ERR_INVALID_ARG_TYPE"  # type: ignore[attr-defined]
    d = Duplex(read=noread, write=okwrite)
    d.end()
    got = asyncio.get_running_loop().create_future()
    finished(d, lambda err=None: got.set_result(err))
    d.push(None)
    d.resume()
    assert await done(got) is None


# -- stream2 / stream3 ----------------------------------------------------------------------------


async def test_base64_source_of_one_byte_piped() -> None:
    # test-stream2-base64-single-char-read-end.js: encoding='base64', one byte b'1' then the
    # end (on the next tick): the destination gets 'MQ==' by the source's 'end'
    loop = asyncio.get_running_loop()
    src = Readable(encoding="base64")
    has_read = False

    def read(_n: int) -> None:
        nonlocal has_read
        if not has_read:
            has_read = True
            loop.call_soon(lambda: (src.push(b"1"), src.push(None)))

    src._read = read  # type: ignore[method-assign]
    accum: list[Any] = []
    dst = Writable(write=lambda c, cb: (accum.append(c), cb()))
    at_end: list[bytes] = []
    src.on("end", lambda: at_end.append(b"".join(accum)))
    src.pipe(dst)
    await done(when(src, "end"))
    assert at_end == [b"MQ=="]


async def test_unshift_of_an_empty_chunk_keeps_reading() -> None:
    # test-stream-unshift-empty-chunk.js: a parser reading every chunk and putting back 5 bytes
    # or nothing (b''): the unshift of nothing does not stall the stream; the exact sequence
    loop = asyncio.get_running_loop()
    n_chunks = 10
    r = Readable()

    def read(_n: int) -> None:
        def later() -> None:
            nonlocal n_chunks
            n_chunks -= 1
            r.push(None if n_chunks == 0 else b"x" * 10)
        loop.call_soon(later)

    r._read = read  # type: ignore[method-assign]
    read_all = False
    seen: list[str] = []

    def on_readable() -> None:
        nonlocal read_all
        while (c := r.read()) is not None:
            seen.append(c.decode())
            put_back = b"y" * (0 if read_all else 5)
            read_all = not read_all
            r.unshift(put_back)

    r.on("readable", on_readable)
    await done(when(r, "end"))
    assert seen == ["xxxxxxxxxx", "yyyyy"] * 9


async def test_utf8_decoding_of_characters_split_across_pushes() -> None:
    # test-stream2-decode-partial.js: '€¢' pushed 2+2+1 bytes with encoding='utf8' -> '€¢'
    source = bytes([0xE2, 0x82, 0xAC, 0xC2, 0xA2])
    r = Readable(encoding="utf8")
    for part in (source[0:2], source[2:4], source[4:6], None):
        r.push(part)
    buf: list[str] = []
    r.on("data", buf.append)
    await done(when(r, "end"))
    assert "".join(buf) == "\u20ac\u00a2"


async def test_end_of_a_piped_destination_is_an_uncaught_write_after_end() -> None:
    # test-stream2-finish-pipe-error.js: end() on the destination of a live pipe: the next piped
    # write fails with ERR_STREAM_WRITE_AFTER_END, uncaught (no 'error' listener: here the
    # loop's exception handler)
    loop = asyncio.get_running_loop()
    uncaught: list[Any] = []
    loop.set_exception_handler(lambda _l, ctx: uncaught.append(ctx.get("exception")))
    try:
        r = Readable()
        r._read = lambda size: r.push(bytes(size))  # type: ignore[method-assign]
        w = Writable(write=okwrite)
        r.pipe(w)
        w.end()
        await done(when(w, "close"))
        await ticks()
        assert [code(e) for e in uncaught] == ["ERR_STREAM_WRITE_AFTER_END"]
    finally:
        loop.set_exception_handler(None)
        r.destroy()


async def test_high_water_mark_limits_and_zero() -> None:
    # test-streams-highwatermark.js: a huge mark (2**53 - 1) is kept; -5, NaN (and 1.5) raise
    # ERR_INVALID_ARG_VALUE (the package's InvalidArgValueError, a ValueError); with a mark of 0 push() of nothing returns True and
    # read(0) calls _read once
    ovfl = 2**53 - 1
    assert Readable(high_water_mark=ovfl).readable_high_water_mark == ovfl
    assert Writable(high_water_mark=ovfl).writable_high_water_mark == ovfl
    for bad in (-5, float("nan"), 1.5):
        for cls in (Readable, Writable):
            with pytest.raises(NodeError) as info:
                cls(high_water_mark=bad)
            assert info.value.code == "ERR_INVALID_ARG_VALUE"
    r = Readable(high_water_mark=0)
    assert [r.push(b"") for _ in range(3)] == [True, True, True]
    reads: list[int] = []
    r2 = Readable(high_water_mark=0, read=reads.append)
    r2.read(0)
    assert reads == [0]


def test_high_water_mark_of_another_type_is_an_invalid_value() -> None:
    # test-streams-highwatermark.js: true, false, '5', {} -> ERR_INVALID_ARG_VALUE, "The property
    # 'options.highWaterMark' is invalid. Received ..." (node v20; a net.Socket's too, a
    # server's is ERR_INVALID_ARG_TYPE: tests/net/test_net_server_attributes.py)
    for bad in (True, False, "5", {}):
        for cls in (Readable, Writable, net.Socket):
            with pytest.raises(NodeError) as info:
                cls(high_water_mark=bad)
            assert info.value.code == "ERR_INVALID_ARG_VALUE"
            assert "The property 'options.high_water_mark' is invalid. Received" in str(info.value)


def test_a_servers_high_water_mark_of_another_type_is_an_invalid_type() -> None:
    # Node v20: net.createServer / tls.createServer({highWaterMark: true or '5'}) ->
    # ERR_INVALID_ARG_TYPE ('The "options.highWaterMark" property must be of type number')
    import nodetls as tls

    for bad in (True, "5"):
        for make in (net.create_server, tls.create_server):
            with pytest.raises(NodeError) as info:
                make({"high_water_mark": bad})
            assert info.value.code == "ERR_INVALID_ARG_TYPE"


async def test_push_order_of_pairs_pushed_in_read() -> None:
    # test-stream-push-order.js: _read pushes two chunks per call (encoding 'ascii', hwm 20);
    # after read(0) the buffer holds 1..6 in order
    items = ["1", "2", "3", "4", "5", "6"]
    s = Readable(high_water_mark=20, encoding="ascii")

    def read(_n: int) -> None:
        if not items:
            s.push(None)
        else:
            one, two = items.pop(0), items.pop(0)
            s.push(one)
            s.push(two)

    s._read = read  # type: ignore[method-assign]
    s.read(0)
    await ticks()
    assert ",".join(s.readable_buffer) == "1,2,3,4,5,6"
