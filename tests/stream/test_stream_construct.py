"""The ``construct`` option / ``_construct(callback)`` hook (Node v20's ``construct``, stable):
Readable, Writable, Duplex, Transform, PassThrough. Every expected log was taken from node v20
running the same scenario (after Node's test/parallel/test-stream-construct.js): construct on a
later tick, ``_read``/``_write``/``_final``/``_destroy`` held back until its callback, writes
queued in order, errors, ``ERR_MULTIPLE_CALLBACK``."""

from __future__ import annotations

from typing import Any

import pytest

from nodetls.errors import AggregateNodeError, InvalidArgTypeError
from nodetls.stream import Duplex, PassThrough, Readable, Transform, Writable
from tests.stream.streamutil import ticks


def _watch(s: Any, log: list[str], *events: str) -> None:
    for ev in events:
        s.on(ev, lambda *a, _ev=ev: log.append(
            _ev + (":" + str(getattr(a[0], "code", None) or a[0]) if a else "")))


async def test_readable_construct_before_read_as_node() -> None:
    # node: the constructor returns; construct runs on a later tick; _read only after it
    log: list[str] = []

    def read(n: int) -> None:
        log.append("read")
        r.push(b"x")
        r.push(None)

    r = Readable(construct=lambda cb: (log.append("construct"), cb()), read=read)
    log.append("ctor")
    _watch(r, log, "data", "end", "close")
    log.append("sync-end")
    await ticks(20)
    assert log == ["ctor", "sync-end", "construct", "read", "data:b'x'", "end", "close"]


async def test_readable_construct_runs_before_ticks_queued_after_constructor() -> None:
    # node: construct's tick is queued by the constructor, ahead of later nextTicks; the
    # callback's completion takes one more tick (Node's onConstruct), so _read comes after both
    import asyncio

    log: list[str] = []
    r = Readable(construct=lambda cb: (log.append("construct"), cb()),
                 read=lambda n: (log.append("read"), r.push(None)))
    loop = asyncio.get_running_loop()
    loop.call_soon(log.append, "t1")
    r.on("end", lambda: log.append("end"))
    r.resume()
    loop.call_soon(log.append, "t2")
    await ticks(10)
    assert log == ["construct", "t1", "t2", "read", "end"]


async def test_readable_waits_for_deferred_callback_readable_event() -> None:
    # node: 'readable' listener added at once; no _read (so no 'readable') until the callback
    log: list[str] = []
    done: list[Any] = []

    def read(n: int) -> None:
        log.append("read")
        r.push(b"x")
        r.push(None)

    r = Readable(construct=lambda cb: (log.append("construct"), done.append(cb)), read=read)
    _watch(r, log, "readable", "end", "close")

    def on_readable() -> None:
        while (c := r.read()) is not None:
            log.append(f"got:{c!r}")

    r.on("readable", on_readable)
    await ticks()
    log.append("before-cb")
    done[0]()
    log.append("after-cb")
    await ticks(20)
    assert log == ["construct", "before-cb", "after-cb", "read", "readable", "got:b'x'", "end",
                   "close"]


async def test_push_while_constructing_is_sync_as_node() -> None:
    # node: kSync stays set during construction (only a real _read clears it), so a push to a
    # flowing stream is buffered and emitted on a later tick, not from inside push()
    log: list[str] = []
    done: list[Any] = []
    r = Readable(construct=lambda cb: (log.append("construct"), done.append(cb)),
                 read=lambda n: log.append("read"))
    r.on("data", lambda c: log.append(f"data:{c!r}"))
    await ticks()
    log.append("push")
    r.push(b"p")
    log.append("pushed")
    await ticks()
    log.append("cb")
    done[0]()
    await ticks(20)
    assert log == ["construct", "push", "pushed", "data:b'p'", "cb", "read"]


async def test_writable_writes_queued_until_constructed_in_order() -> None:
    # node: writes and end() before construction buffer (writableLength/writableBuffer count
    # them); after the callback: _write in order, _final, 'prefinish', callbacks, 'finish'
    log: list[str] = []
    done: list[Any] = []

    def final(cb: Any) -> None:
        log.append("final")
        cb()

    w = Writable(construct=lambda cb: (log.append("construct"), done.append(cb)),
                 write=lambda c, cb: (log.append(f"write:{c!r}"), cb()), final=final)
    _watch(w, log, "finish", "prefinish", "close", "drain")
    log.append(f"w1={w.write('a', lambda *_: log.append('cb1'))}")
    log.append(f"w2={w.write('b', lambda *_: log.append('cb2'))}")
    log.append(f"len={w.writable_length} buf={len(w.writable_buffer)}")
    w.end(lambda *_: log.append("endcb"))
    await ticks()
    log.append("before-cb")
    done[0]()
    log.append("after-cb")
    await ticks(20)
    assert log == ["w1=True", "w2=True", "len=2 buf=2", "construct", "before-cb", "after-cb",
                   "write:b'a'", "write:b'b'", "final", "prefinish", "cb1", "cb2", "endcb",
                   "finish", "close"]


async def test_writev_gets_the_writes_buffered_during_construction() -> None:
    log: list[str] = []
    done: list[Any] = []
    w = Writable(construct=done.append, write=lambda c, cb: (log.append(f"write:{c!r}"), cb()),
                 writev=lambda cs, cb: (log.append("writev:" + ",".join(c.decode() for c in cs)),
                                        cb()))
    for c in "abc":
        w.write(c)
    await ticks()
    assert log == []
    done[0]()
    await ticks()
    assert log == ["writev:a,b,c"]


async def test_end_without_writes_waits_for_construction() -> None:
    # node: no _final: 'prefinish'/'finish' only after the construct callback
    log: list[str] = []
    done: list[Any] = []
    w = Writable(construct=done.append, write=lambda c, cb: cb())
    _watch(w, log, "prefinish", "finish", "close")
    w.end()
    log.append("ended")
    await ticks()
    log.append("before-cb")
    done[0]()
    log.append("after-cb")
    await ticks(20)
    assert log == ["ended", "before-cb", "after-cb", "prefinish", "finish", "close"]


async def test_high_water_mark_and_cork_while_constructing() -> None:
    # node: write() says False at the high-water mark, uncork() does not write before
    # construction; then one _writev, then 'drain'
    import asyncio

    loop = asyncio.get_running_loop()
    log: list[str] = []
    done: list[Any] = []
    w = Writable(high_water_mark=2, construct=done.append,
                 write=lambda c, cb: (log.append(f"write:{c!r}"), loop.call_soon(cb)),
                 writev=lambda cs, cb: (log.append("writev:" + ",".join(c.decode() for c in cs)),
                                        loop.call_soon(cb)))
    _watch(w, log, "drain", "finish")
    w.cork()
    log.append(f"w1={w.write('a')}")
    log.append(f"w2={w.write('b')}")
    w.uncork()
    log.append(f"need_drain={w.writable_need_drain}")
    await ticks()
    done[0]()
    await ticks(20)
    assert log == ["w1=True", "w2=False", "need_drain=True", "writev:a,b", "drain"]


async def test_destroy_before_construction_waits_for_it() -> None:
    # node: destroyed at once, buffered write callbacks get ERR_STREAM_DESTROYED on the next
    # tick; _destroy (then 'close') only once the construct callback has been called
    log: list[str] = []
    done: list[Any] = []

    def destroy(err: Any, cb: Any) -> None:
        log.append(f"_destroy:{err}")
        cb(err)

    w = Writable(construct=lambda cb: (log.append("construct"), done.append(cb)),
                 write=lambda c, cb: (log.append("write"), cb()), destroy=destroy)
    _watch(w, log, "error", "close", "finish")
    w.write("a", lambda e=None: log.append(f"cb1:{getattr(e, 'code', None)}"))
    w.destroy()
    log.append(f"destroyed={w.destroyed}")
    await ticks()
    log.append("before-cb")
    done[0]()
    log.append("after-cb")
    await ticks(20)
    assert log == ["destroyed=True", "construct", "cb1:ERR_STREAM_DESTROYED", "before-cb",
                   "after-cb", "_destroy:None", "close"]


async def test_duplex_destroy_with_error_while_constructing() -> None:
    # node: the write and end callbacks get the destroy error; _destroy after construction
    log: list[str] = []
    done: list[Any] = []

    def destroy(err: Any, cb: Any) -> None:
        log.append(f"_destroy:{err}")
        cb(err)

    d = Duplex(construct=done.append, read=lambda n: log.append("read"),
               write=lambda c, cb: (log.append("write"), cb()), destroy=destroy)
    _watch(d, log, "error", "close", "data", "end", "finish")
    d.write("x", lambda e=None: log.append(f"wcb:{e}"))
    d.end(lambda e=None: log.append(f"endcb:{e}"))
    d.destroy(Exception("E"))
    log.append("destroyed")
    await ticks()
    log.append("cb")
    done[0]()
    await ticks(20)
    assert log == ["destroyed", "wcb:E", "endcb:E", "cb", "_destroy:E", "error:E", "close"]


async def test_destroy_error_and_construct_error_aggregate() -> None:
    # node: _destroy gets aggregateTwoErrors(constructErr, destroyErr): an AggregateError of
    # [destroyErr, constructErr] with destroyErr's message; stream.errored stays destroyErr
    log: list[Any] = []
    done: list[Any] = []
    d_err, c_err = Exception("D"), Exception("C")

    def destroy(err: Any, cb: Any) -> None:
        log.append(err)
        cb(err)

    r = Readable(construct=done.append, destroy=destroy)
    errors: list[Any] = []
    r.on("error", errors.append)
    r.destroy(d_err)
    await ticks()
    assert log == []
    done[0](c_err)
    await ticks(20)
    (agg,) = log
    assert isinstance(agg, AggregateNodeError)
    assert agg.errors == [d_err, c_err] and agg.message == "D"
    assert errors == [agg] and r.errored is d_err


async def test_construct_error_destroys_with_it() -> None:
    # node: callback(err): _destroy(err), buffered write callbacks get err, 'error', 'close';
    # no _write ever
    log: list[str] = []

    def destroy(err: Any, cb: Any) -> None:
        log.append(f"_destroy:{err}")
        cb(err)

    w = Writable(construct=lambda cb: (log.append("construct"), cb(Exception("boom"))),
                 write=lambda c, cb: (log.append("write"), cb()), destroy=destroy)
    _watch(w, log, "error", "close", "finish")
    w.write("a", lambda e=None: log.append(f"cb1:{e}"))
    await ticks(20)
    assert log == ["construct", "_destroy:boom", "cb1:boom", "error:boom", "close"]
    assert w.destroyed and str(w.errored) == "boom"


async def test_construct_error_without_auto_destroy() -> None:
    # node: autoDestroy false: 'error' only, not destroyed, no _read
    log: list[str] = []
    r = Readable(auto_destroy=False, construct=lambda cb: cb(Exception("x")),
                 read=lambda n: log.append("read"))
    _watch(r, log, "error", "close")
    r.resume()
    await ticks(20)
    assert log == ["error:x"]
    assert not r.destroyed and str(r.errored) == "x"


async def test_callback_twice_is_multiple_callback() -> None:
    log: list[str] = []
    r = Readable(construct=lambda cb: (cb(), cb()), read=lambda n: log.append("read"))
    _watch(r, log, "error", "close")
    await ticks(20)
    assert log == ["error:ERR_MULTIPLE_CALLBACK", "close"]


async def test_construct_that_raises_is_its_error() -> None:
    log: list[str] = []

    def construct(cb: Any) -> None:
        raise Exception("thrown")

    r = Readable(construct=construct, read=lambda n: log.append("read"))
    _watch(r, log, "error", "close")
    await ticks(20)
    assert log == ["error:thrown", "close"]


async def test_destroy_raising_after_deferred_destroy() -> None:
    # node: a throwing _destroy (called once construction is over) is the destroy's error
    log: list[str] = []

    def destroy(err: Any, cb: Any) -> None:
        raise Exception("dthrow")

    r = Readable(construct=lambda cb: cb(), read=lambda n: None, destroy=destroy)
    _watch(r, log, "error", "close")
    r.destroy()
    await ticks(20)
    assert log == ["error:dthrow", "close"]


async def test_duplex_subclass_construct_once_for_both_sides() -> None:
    import asyncio

    log: list[str] = []
    calls = []

    class D(Duplex):
        def _construct(self, cb: Any) -> None:
            calls.append(1)
            log.append("construct")
            asyncio.get_running_loop().call_soon(cb)

        def _read(self, size: int) -> None:
            log.append("read")
            self.push(b"r")
            self.push(None)

        def _write(self, chunk: Any, cb: Any) -> None:
            log.append(f"write:{chunk!r}")
            cb()

        def _final(self, cb: Any) -> None:
            log.append("final")
            cb()

    d = D()
    _watch(d, log, "data", "end", "finish", "close")
    d.write("w")
    d.end()
    await ticks(20)
    assert calls == [1]
    assert log == ["construct", "write:b'w'", "final", "read", "finish", "data:b'r'", "end",
                   "close"]
    # constructed: the class's own methods are back (no instance attribute shadows them)
    assert not {"_read", "write", "push", "_destroy", "_finish_maybe"} & set(d.__dict__)


async def test_transform_waits_for_construction() -> None:
    log: list[str] = []
    done: list[Any] = []

    def flush(cb: Any) -> None:
        log.append("flush")
        cb()

    t = Transform(construct=lambda cb: (log.append("construct"), done.append(cb)),
                  transform=lambda c, cb: (log.append(f"t:{c!r}"), cb(None, c)), flush=flush)
    _watch(t, log, "data", "end", "finish", "close")
    t.write("a")
    t.end("b")
    await ticks()
    assert log == ["construct"]
    done[0]()
    await ticks(20)
    assert log == ["construct", "t:b'a'", "data:b'a'", "t:b'b'", "data:b'b'", "flush", "end",
                   "finish", "close"]


async def test_passthrough_subclass_construct() -> None:
    log: list[str] = []

    class P(PassThrough):
        def _construct(self, cb: Any) -> None:
            log.append("construct")
            cb()

    p = P()
    p.on("data", lambda c: log.append(f"data:{c!r}"))
    p.end("z")
    p.on("end", lambda: log.append("end"))
    await ticks(20)
    assert log == ["construct", "data:b'z'", "end"]


async def test_pipe_into_constructing_writable() -> None:
    log: list[str] = []
    done: list[Any] = []
    w = Writable(construct=lambda cb: (log.append("construct"), done.append(cb)),
                 write=lambda c, cb: (log.append(f"write:{c!r}"), cb()))
    w.on("finish", lambda: log.append("finish"))
    Readable.from_([b"a", b"b"]).pipe(w)
    await ticks(20)
    assert log == ["construct"]
    done[0]()
    await ticks(20)
    assert log == ["construct", "write:b'a'", "write:b'b'", "finish"]


async def test_async_iteration_of_constructing_readable() -> None:
    done: list[Any] = []
    r = Readable(construct=done.append, read=lambda n: (r.push(b"a"), r.push(None)))

    async def consume() -> list[bytes]:
        return [c async for c in r.iterator()]  # type: ignore[misc]

    import asyncio

    task = asyncio.ensure_future(consume())
    await ticks()
    assert not task.done()
    done[0]()
    assert await asyncio.wait_for(task, 5) == [b"a"]
    assert r.destroyed


async def test_no_construct_no_gates() -> None:
    # a stream without the hook gets nothing: its methods are the class's (no per-chunk cost)
    for s in (Readable(), Writable(write=lambda c, cb: cb()), Duplex(), PassThrough()):
        assert not {"_read", "write", "push", "_destroy", "_construct"} & set(s.__dict__)
    r = Readable(construct=lambda cb: None)
    assert {"_read", "push", "_destroy", "_construct"} <= set(r.__dict__)


async def test_construct_option_must_be_a_function() -> None:
    # (Node ignores a construct option that is no function; ours raise, as for read/write/...)
    with pytest.raises(InvalidArgTypeError) as info:
        Readable(construct=5)
    assert info.value.code == "ERR_INVALID_ARG_TYPE" and "options.construct" in str(info.value)
