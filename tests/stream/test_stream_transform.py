"""``stream.Transform`` / ``stream.PassThrough``: the hooks (as methods and as options), Node's
event order, the backpressure between the two sides, hwm 0, destroy and errors. Every
expectation was taken from node v20 running the same scenario (scenarios after Node's
test/parallel/test-stream-transform-*.js and test-stream-passthrough-drain.js)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nodetls.errors import InvalidArgTypeError
from nodetls.stream import Duplex, PassThrough, Transform, Writable
from tests.stream.test_stream_readable_writable import ticks


def _watch(stream: Any, log: list[str], *events: str) -> None:
    for ev in events:
        stream.on(ev, lambda *a, _ev=ev: log.append(_ev + (f":{a[0]!r}" if a else "")))


async def test_transform_options_event_order_as_node() -> None:
    # node: transform/flush as options; 'data' comes from inside write() (the readable side is
    # flowing and not sync); end() -> flush -> 'prefinish' -> 'end' -> end callback -> 'finish'
    # -> 'close'; Transform keeps a 'prefinish' listener of its own.
    log: list[str] = []

    def transform(chunk: bytes, cb: Any) -> None:
        log.append(f"transform:{chunk!r}")
        cb(None, chunk.upper())

    def flush(cb: Any) -> None:
        log.append("flush")
        cb(None, b"Z")

    t = Transform(transform=transform, flush=flush)
    _watch(t, log, "data", "end", "finish", "prefinish", "close")
    log.append(f"w1={t.write('ab')}")
    log.append(f"w2={t.write(b'cd')}")
    t.end(lambda *_: log.append("endcb"))
    await ticks(10)
    assert log == ["transform:b'ab'", "data:b'AB'", "w1=True", "transform:b'cd'", "data:b'CD'",
                   "w2=True", "flush", "data:b'Z'", "prefinish", "end", "endcb", "finish",
                   "close"]
    assert t.listener_count("prefinish") == 2


async def test_transform_subclass_hooks_push_and_callback_data() -> None:
    # node: a subclass's _transform may push() several chunks and pass more to the callback;
    # _flush pushes the rest. Node's hook takes (chunk, encoding, callback); ours (chunk,
    # callback), as _write.
    class Split(Transform):
        def _transform(self, chunk: Any, callback: Any) -> None:
            for b in chunk[:-1]:
                self.push(bytes([b]))
            callback(None, chunk[-1:])

        def _flush(self, callback: Any) -> None:
            self.push(b"!")
            callback()

    s = Split()
    got: list[bytes] = []
    s.on("data", got.append)
    ended = asyncio.get_running_loop().create_future()
    s.on("end", lambda: ended.set_result(None))
    s.end(b"abc")
    await asyncio.wait_for(ended, 5)
    assert got == [b"a", b"b", b"c", b"!"]


async def test_transform_without_transform_raises_at_write_as_node() -> None:
    # node: ERR_METHOD_NOT_IMPLEMENTED thrown out of write(), message "The _transform() method
    # is not implemented"
    with pytest.raises(Exception) as info:
        Transform().write(b"x")
    assert info.value.code == "ERR_METHOD_NOT_IMPLEMENTED"  # type: ignore[attr-defined]
    assert str(info.value) == "The _transform() method is not implemented"


async def test_transform_option_that_is_not_callable_is_rejected() -> None:
    with pytest.raises(InvalidArgTypeError, match="options.transform"):
        Transform(transform=5)
    with pytest.raises(InvalidArgTypeError, match="options.flush"):
        Transform({"flush": "x"})


async def test_transform_callback_twice_is_err_multiple_callback_as_node() -> None:
    # test-stream-transform-callback-twice.js
    def transform(chunk: Any, cb: Any) -> None:
        cb()
        cb()

    t = Transform(transform=transform)
    errors: list[Any] = []
    t.on("error", errors.append)
    t.write(b"foo")
    await ticks()
    assert [e.code for e in errors] == ["ERR_MULTIPLE_CALLBACK"]
    assert str(errors[0]) == "Callback called multiple times"


async def test_transform_backpressure_between_the_sides_as_node() -> None:
    # node, high_water_mark 10: the first chunk fills the readable side, so its write stays
    # pending (the next _transform waits for a read); writes return False; each read() lets
    # one more chunk through; 'drain' once all writes are done.
    log: list[str] = []

    def transform(chunk: bytes, cb: Any) -> None:
        log.append(f"T{len(chunk)}")
        cb(None, chunk)

    t = Transform(high_water_mark=10, transform=transform)
    t.on("drain", lambda: log.append("drain"))

    def lengths() -> None:
        log.append(f"rl={t.readable_length} wl={t.writable_length}")

    for data in (b"a" * 10, b"b" * 5, b"c" * 5):
        log.append(f"w={t.write(data)}")
    lengths()
    await ticks()
    lengths()
    r = t.read()
    log.append(f"read {len(r or '')}")
    lengths()
    await ticks()
    lengths()
    r = t.read()
    log.append(f"read {len(r or '')}")
    await ticks()
    lengths()
    assert log == ["T10", "w=False", "w=False", "w=False", "rl=10 wl=20", "rl=10 wl=20", "T5",
                   "read 15", "rl=0 wl=10", "T5", "drain", "rl=5 wl=0", "read 5", "rl=0 wl=0"]


async def test_transform_hwm0_as_node() -> None:
    # test-stream-transform-hwm0.js (bytes instead of object mode): a readable high-water mark
    # of 0 makes the writable one 0 too; each write returns False; data one read at a time.
    loop = asyncio.get_running_loop()
    t = Transform(high_water_mark=0, transform=lambda c, cb: loop.call_soon(cb, None, c))
    assert (t.readable_high_water_mark, t.writable_high_water_mark) == (0, 0)
    t2 = Transform(high_water_mark=0, writable_high_water_mark=7)
    assert (t2.readable_high_water_mark, t2.writable_high_water_mark) == (0, 7)
    log: list[Any] = [t.write(b"1")]

    def on_drain() -> None:
        log.append("drain")
        log.append(t.write(b"2"))
        t.end()

    async def later() -> None:
        await ticks()
        log.append(t.read())
        t.once("readable", lambda: log.append(t.read()))

    t.on("drain", on_drain)
    t.once("readable", lambda: (log.append(t.read()), loop.create_task(later())))
    await ticks(20)
    assert log == [False, b"1", "drain", False, None, b"2"]


async def test_passthrough_hwm0_drain_as_node() -> None:
    # test-stream-passthrough-drain.js
    pt = PassThrough(high_water_mark=0)
    drains: list[int] = []
    pt.on("drain", lambda: drains.append(1))
    assert pt.write(b"hello1") is False
    pt.read()
    pt.read()
    await ticks()
    assert drains == [1]


async def test_passthrough_passes_chunks_unchanged_through_pipe() -> None:
    pt = PassThrough()
    got: list[bytes] = []
    sink = Writable(write=lambda c, cb: (got.append(c), cb()))
    done = asyncio.get_running_loop().create_future()
    sink.on("finish", lambda: done.set_result(None))
    pt.pipe(sink)
    pt.write(b"one")
    pt.end(b"two")
    await asyncio.wait_for(done, 5)
    assert got == [b"one", b"two"]
    assert isinstance(pt, Duplex) and isinstance(pt, Transform)


async def test_transform_destroy_as_node() -> None:
    # test-stream-transform-destroy.js: destroy() -> 'close' only; destroy(err) -> 'error',
    # 'close'; a _destroy that swallows the error -> 'close' only.
    log: list[str] = []
    t = Transform(transform=lambda c, cb: None)
    t.resume()
    _watch(t, log, "end", "finish", "error", "close")
    t.destroy()
    await ticks()
    assert log == ["close"]

    log.clear()
    err = ValueError("kaboom")
    t = Transform(transform=lambda c, cb: None)
    t.resume()
    _watch(t, log, "end", "finish", "error", "close")
    t.destroy(err)
    await ticks()
    assert log == [f"error:{err!r}", "close"]

    log.clear()
    t = Transform(transform=lambda c, cb: None, destroy=lambda e, cb: cb())
    _watch(t, log, "end", "finish", "error", "close")
    t.destroy(err)
    await ticks()
    assert log == ["close"]


async def test_flush_error_destroys_with_it_as_node() -> None:
    # node: _flush's callback(err) -> 'error' then 'close'; no 'prefinish'/'finish'/'end'.
    err = ValueError("flush failed")
    t = Transform(transform=lambda c, cb: cb(None, c), flush=lambda cb: cb(err))
    log: list[str] = []
    _watch(t, log, "prefinish", "finish", "end", "error", "close")
    t.resume()
    t.end(b"x")
    await ticks(10)
    assert log == [f"error:{err!r}", "close"]
    assert t.errored is err


async def test_final_option_still_flushes_at_prefinish_as_node() -> None:
    # node: a final= option replaces Transform's final; the flush then runs from 'prefinish'
    # (after final's callback), before 'end'.
    log: list[str] = []

    def final(cb: Any) -> None:
        log.append("final")
        cb()

    def flush(cb: Any) -> None:
        log.append("flush")
        cb(None, b"F")

    t = Transform(transform=lambda c, cb: cb(None, c), final=final, flush=flush)
    _watch(t, log, "data", "prefinish", "end", "finish")
    t.end(b"x")
    await ticks(10)
    assert log == ["data:b'x'", "final", "flush", "data:b'F'", "prefinish", "end", "finish"]
