"""``Duplex.from_`` (Node's ``Duplex.from(body)``, ``lib/internal/streams/duplexify.js``). Every
expected log was taken from node v20 running the same scenario (after Node's
test/parallel/test-stream-duplex-from.js); Node's object mode is not ported, so where Node's
readable side gives one item per ``'data'`` ours gives the bytes read at once."""

from __future__ import annotations

from typing import Any

import pytest

from nodetls.errors import InvalidArgTypeError, NodeError
from nodetls.stream import Duplex, PassThrough, Readable, Transform, Writable
from tests.stream.streamutil import ticks


def _watch(s: Any, log: list[str], *events: str) -> None:
    for ev in events:
        s.on(ev, lambda *a, _ev=ev: log.append(
            _ev + (":" + str(getattr(a[0], "code", None) or a[0]) if a else "")))


@pytest.mark.parametrize("body", [5, None, {}, {"readable": 5}, 1.5])
def test_other_types_are_err_invalid_arg_type(body: Any) -> None:
    with pytest.raises(InvalidArgTypeError) as info:
        Duplex.from_(body)
    assert info.value.code == "ERR_INVALID_ARG_TYPE"
    assert str(info.value).startswith('The "body" argument must be of type function or an '
                                      "instance of Stream, Iterable, AsyncIterable")


@pytest.mark.parametrize("ret", [5, None])
def test_function_returning_other_types_is_err_invalid_return_value(ret: Any) -> None:
    with pytest.raises(NodeError) as info:
        Duplex.from_(lambda source: ret)
    assert info.value.code == "ERR_INVALID_RETURN_VALUE"
    assert str(info.value).startswith("Expected Iterable, AsyncIterable or AsyncFunction to be "
                                      'returned from the "body" function but got ')


async def test_a_duplex_is_returned_as_is() -> None:
    p = PassThrough()
    assert Duplex.from_(p) is p
    d = Duplex()
    assert Duplex.from_(lambda source: d) is d  # node: "a constructor function"
    assert Transform.from_(p) is p  # (inherited, as Node's)
    assert isinstance(Transform.from_("x"), Duplex)


async def test_str_bytes_and_iterables_make_a_readable_only_duplex() -> None:
    d = Duplex.from_("abc")
    assert isinstance(d, Duplex) and d.readable and not d.writable
    got: list[Any] = []
    d.on("data", got.append)
    await ticks()
    assert got == [b"abc"]

    log: list[Any] = []
    d = Duplex.from_([b"a", "b"])
    assert not d.writable
    d.on("data", log.append)
    d.on("end", lambda: log.append("end"))
    d.on("close", lambda: log.append("close"))
    await ticks(20)
    assert log == [b"a", b"b", "end", "close"]


async def test_async_generator_function_is_a_transform() -> None:
    # node: w1=false w2=false (highWaterMark 1), each write completes once source has taken
    # it, the generator's items come out; end() ends source; then 'end', 'finish', 'close'
    log: list[str] = []

    async def gen(source: Any) -> Any:
        async for chunk in source:
            log.append(f"src:{chunk!r}")
            yield chunk.upper()
        log.append("src-end")

    d = Duplex.from_(gen)
    _watch(d, log, "data", "end", "finish", "close")
    log.append(f"w1={d.write('a', lambda *_: log.append('cb1'))}")
    log.append(f"w2={d.write('b', lambda *_: log.append('cb2'))}")
    d.end()
    await ticks(60)
    assert log == ["w1=False", "w2=False", "src:b'a'", "data:b'A'", "cb1", "src:b'b'",
                   "data:b'B'", "cb2", "src-end", "end", "finish", "close"]
    assert not d.readable and not d.writable


async def test_async_function_is_writable_only() -> None:
    # node: readable false, writable true; 'finish' once the function has completed
    got: list[Any] = []
    log: list[str] = []

    async def consume(source: Any) -> None:
        async for chunk in source:
            got.append(chunk)
        log.append("fn-done")

    d = Duplex.from_(consume)
    assert not d.readable and d.writable
    _watch(d, log, "finish", "close", "end", "error")
    d.write("x")
    d.end("y")
    await ticks(60)
    assert got == [b"x", b"y"]
    assert log == ["fn-done", "finish", "close"]


async def test_async_function_returning_a_value_is_err_invalid_return_value() -> None:
    log: list[str] = []

    async def consume(source: Any) -> int:
        async for _ in source:
            pass
        return 5

    d = Duplex.from_(consume)
    _watch(d, log, "finish", "close", "error")
    d.end("y")
    await ticks(60)
    assert log == ["error:ERR_INVALID_RETURN_VALUE", "close"]
    assert str(d.errored) == ('Expected nully to be returned from the "body" function but got '
                              "int (5).")


async def test_async_function_raising_destroys_with_its_error() -> None:
    log: list[str] = []

    async def consume(source: Any) -> None:
        async for _ in source:
            raise Exception("bad")

    d = Duplex.from_(consume)
    _watch(d, log, "finish", "close", "error")
    d.write("y")
    await ticks(60)
    assert log == ["error:bad", "close"]


async def test_awaitables() -> None:
    # node: a Promise: readable only, its value then 'end'; null: just 'end'; rejected: error
    async def value(v: Any) -> Any:
        return v

    async def rejected() -> None:
        raise Exception("rej")

    log: list[str] = []
    d = Duplex.from_(value(b"val"))
    assert d.readable and not d.writable
    _watch(d, log, "data", "end", "close")
    await ticks(20)
    assert log == ["data:b'val'", "end", "close"]

    log = []
    d = Duplex.from_(value(None))
    _watch(d, log, "data", "end", "close")
    d.resume()
    await ticks(20)
    assert log == ["end", "close"]

    log = []
    d = Duplex.from_(rejected())
    _watch(d, log, "error", "close")
    await ticks(20)
    assert log == ["error:rej", "close"]


async def test_readable_is_wrapped() -> None:
    log: list[str] = []
    r = Readable.from_([b"a", b"b"])
    d = Duplex.from_(r)
    assert d is not r and d.readable and not d.writable
    _watch(d, log, "data", "end", "close", "finish")
    await ticks(40)
    # node (object mode): data:a data:b; here read() takes the bytes buffered at once
    assert log == ["data:b'ab'", "end", "close"]
    assert r.destroyed


async def test_writable_is_wrapped() -> None:
    log: list[str] = []
    w = Writable(write=lambda c, cb: (log.append(f"w:{c!r}"), cb()))
    d = Duplex.from_(w)
    assert d is not w and not d.readable and d.writable
    _watch(d, log, "end", "close", "finish")
    d.write("a")
    d.end("b")
    await ticks(40)
    assert log == ["w:b'a'", "w:b'b'", "finish", "close"]
    assert w.destroyed and w.writable_finished


async def test_readable_writable_pair() -> None:
    log: list[str] = []
    r = PassThrough()
    w = Writable(write=lambda c, cb: (log.append(f"w:{c!r}"), cb()))
    d = Duplex.from_({"readable": r, "writable": w})
    assert d.readable and d.writable
    _watch(d, log, "data", "end", "close", "finish")
    d.write("a")
    d.end()
    r.end("R")
    await ticks(40)
    assert log == ["w:b'a'", "data:b'R'", "finish", "end", "close"]
    assert r.destroyed and w.destroyed


async def test_pair_destroyed_destroys_both_with_abort_error() -> None:
    log: list[str] = []
    r, w = PassThrough(), PassThrough()
    d = Duplex.from_({"readable": r, "writable": w})
    _watch(d, log, "error", "close")
    r.on("error", lambda e: log.append(f"r-err:{e.code}"))
    w.on("error", lambda e: log.append(f"w-err:{e.code}"))
    d.destroy()
    await ticks(40)
    assert log == ["w-err:ABORT_ERR", "r-err:ABORT_ERR", "error:ABORT_ERR", "close"]
    assert r.destroyed and w.destroyed


async def test_pair_inner_error_destroys_the_duplex() -> None:
    log: list[str] = []
    r, w = PassThrough(), PassThrough()
    d = Duplex.from_({"readable": r, "writable": w})
    _watch(d, log, "error", "close")
    r.on("error", lambda e: log.append(f"r-err:{e}"))
    r.destroy(Exception("inner"))
    await ticks(40)
    assert log == ["r-err:inner", "error:inner", "close"]
    assert not w.destroyed  # node: the writable is left as it is


async def test_pair_side_that_is_no_stream_goes_through_from() -> None:
    log: list[str] = []
    d = Duplex.from_({"readable": [b"x", b"y"]})
    assert d.readable and not d.writable
    _watch(d, log, "data", "end", "close")
    await ticks(40)
    assert log == ["data:b'xy'", "end", "close"]  # node (object mode): data:x data:y


async def test_destroying_a_generator_duplex_waiting_on_source() -> None:
    # node never settles this one (its source waits forever, no 'close'); ours gives source
    # an AbortError: the generator's finally runs, then 'close'
    log: list[str] = []

    async def gen(source: Any) -> Any:
        try:
            async for chunk in source:
                yield chunk
        finally:
            log.append("gen-finally")

    d = Duplex.from_(gen)
    _watch(d, log, "close", "error")
    d.resume()
    d.write("a")
    await ticks(20)
    d.destroy()
    await ticks(40)
    assert log == ["gen-finally", "close"]


async def test_generator_function_without_a_source_argument() -> None:
    # node: Duplex.from(async function* () { yield 'a'; yield 'b' }) reads "a", "b" (JavaScript
    # drops the source argument the function does not take; nodetls does the same)
    async def gen() -> Any:
        yield b"a"
        yield b"b"

    got = [chunk async for chunk in Duplex.from_(gen)]
    assert b"".join(got) == b"ab"


async def test_pair_with_an_old_style_readable_is_wrapped() -> None:
    # node: Duplex.from({readable: legacy}) for a Stream with no read() wraps it
    # (Readable.wrap): data x, end, then the legacy stream's 'close' (its destroyer: a bare
    # Stream has no destroy(), so 'close' is emitted on it), then the Duplex's 'close'
    from nodetls.stream import Stream

    legacy = Stream()
    legacy.pause = lambda: None  # type: ignore[attr-defined]
    legacy.resume = lambda: None  # type: ignore[attr-defined]
    log: list[str] = []
    d = Duplex.from_({"readable": legacy})
    _watch(d, log, "data", "end", "close", "error")
    legacy.on("close", lambda: log.append("legacy close"))
    await ticks(5)
    legacy.emit("data", b"x")
    legacy.emit("end")
    await ticks(40)
    assert log == ["data:b'x'", "end", "legacy close", "close"]
