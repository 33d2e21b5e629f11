"""The Readable iterator helpers (Node v20's ``lib/internal/streams/operators.js``: ``map``,
``filter``, ``forEach``, ``toArray``, ``some``, ``find``, ``every``, ``flatMap``, ``drop``,
``take``, ``reduce``, ``compose``). Every expected value and event log below was taken from
node v20.20 running the same scenario (after Node's test/parallel/test-stream-{map,filter,
forEach,toArray,some-find-every,flatMap,drop-take,reduce}.js); the sources are
``Readable.from(items, {objectMode: false})`` or a pull source pushing one item per ``_read`` on
a later tick (``setImmediate`` in node), so both sides see the same chunks."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest

from nodetls.errors import InvalidArgTypeError, NodeError
from nodetls.stream import Readable, Transform
from tests.stream.streamutil import TIMEOUT, done, ticks, when


def noread(*_: Any) -> None:
    """A ``read`` hook that does nothing: the test pushes (Node's ``read() {}``; a
    Readable given no ``read`` errors with ERR_METHOD_NOT_IMPLEMENTED at its first read)."""


def _src(items: list[Any]) -> Readable:
    return Readable.from_(items)


def _pull(items: list[str]) -> Readable:
    """A source giving one chunk per ``_read``, pushed on a later loop iteration (no two items
    ever buffered together)."""
    loop = asyncio.get_running_loop()
    left = list(items)
    s: Readable

    def read(size: int) -> None:
        loop.call_soon(lambda: s.push(left.pop(0) if left else None))

    s = Readable(high_water_mark=1, read=read)
    return s


def _watch(s: Readable, log: list[str], name: str) -> None:
    def on_close() -> None:
        err = s.errored
        log.append(f"{name} close" + (f" {getattr(err, 'code', None) or err}" if err else ""))

    s.on("close", on_close)
    s.on("end", lambda: log.append(f"{name} end"))


async def _run(aw: Any) -> Any:
    return await asyncio.wait_for(aw, TIMEOUT)


# -- what each helper gives ---------------------------------------------------------------------


async def test_map_sync_and_async_fn() -> None:
    """node: map(x => upper) / map(async x => x + '!') -> ['A', 'BC'] / ['a!', 'bc!'] (the
    source's 'b' and 'c' are read together, as node's)."""
    assert await _run(_src(["a", "b", "c"]).map(lambda x: x.upper()).to_array()) == [b"A", b"BC"]

    async def bang(x: bytes) -> bytes:
        await asyncio.sleep(0)
        return x + b"!"

    assert await _run(_src(["a", "b", "c"]).map(bang).to_array()) == [b"a!", b"bc!"]


@pytest.mark.parametrize(("opts", "expected"), [
    ({"concurrency": 2}, ["a,b", "a,b,c", "a,b,c,d", "a!,b!", "a,b,c,d,e", "a!,b!,c!,d!,e!,END"]),
    ({"concurrency": 2, "highWaterMark": 0},
     ["a,b", "a,b", "a,b,c,d", "a!,b!", "a,b,c,d,e", "a!,b!,c!,d!,e!,END"]),
    ({}, ["a", "a", "a,b", "a!", "a,b", "a!"]),
])
async def test_map_concurrency_and_order(opts: dict[str, Any], expected: list[str]) -> None:
    """node: up to ``concurrency`` calls at once, ``concurrency + highWaterMark`` results held;
    results in the source's order (b finishing first waits for a)."""
    loop = asyncio.get_running_loop()
    started: list[str] = []
    gates: dict[str, asyncio.Future[None]] = {}

    async def fn(x: bytes) -> str:
        key = x.decode()
        started.append(key)
        gates[key] = loop.create_future()
        await gates[key]
        return key + "!"

    r = _pull(["a", "b", "c", "d", "e"]).map(fn, opts)
    out: list[str] = []
    r.on("data", lambda c: out.append(c.decode()))
    r.on("end", lambda: out.append("END"))
    seen: list[str] = []

    def open_gate(key: str) -> None:
        if key in gates and not gates[key].done():
            gates[key].set_result(None)

    await ticks(20)
    seen.append(",".join(started))
    open_gate("b")
    await ticks(20)
    seen.append(",".join(started))
    open_gate("a")
    await ticks(20)
    seen += [",".join(started), ",".join(out)]
    for _ in range(3):
        for key in "cde":
            open_gate(key)
            await ticks(20)
    seen += [",".join(started), ",".join(out)]
    assert seen == expected


async def test_filter_find_some_every() -> None:
    """node: filter/find/some/every over ['a', 'bb', 'c'] (sync and async predicates), one chunk
    per item."""
    def long(x: bytes) -> bool:
        return len(x) > 1

    async def along(x: bytes) -> bool:
        return len(x) > 1

    assert await _run(_pull(["a", "bb", "c"]).filter(long).to_array()) == [b"bb"]
    assert await _run(_pull(["a", "bb", "c"]).filter(along).to_array()) == [b"bb"]
    assert await _run(_pull(["a", "bb", "c"]).find(long)) == b"bb"
    assert await _run(_pull(["a", "bb", "c"]).find(lambda x: len(x) > 5)) is None
    assert await _run(_pull(["a", "bb", "c"]).some(long)) is True
    assert await _run(_pull(["a", "b", "c"]).some(along, concurrency=2)) is False
    assert await _run(_pull(["a", "bb", "c"]).every(long)) is False
    assert await _run(_pull(["aa", "bb", "cc"]).every(along)) is True


async def test_empty_stream() -> None:
    """node: every -> true, some -> false, find -> undefined, toArray -> [], reduce with an
    initial value -> it; without one: ERR_MISSING_ARGS, node's own message."""
    assert await _run(_src([]).every(lambda x: False)) is True
    assert await _run(_src([]).some(lambda x: True)) is False
    assert await _run(_src([]).find(lambda x: True)) is None
    assert await _run(_src([]).to_array()) == []
    assert await _run(_src([]).reduce(lambda a, x: a, 7)) == 7
    with pytest.raises(NodeError) as info:
        await _run(_src([]).reduce(lambda a, x: a))
    assert info.value.code == "ERR_MISSING_ARGS"
    assert isinstance(info.value, TypeError)
    assert str(info.value) == "Reduce of an empty stream requires an initial value"


async def test_to_array_for_each_reduce() -> None:
    s = _src(["a", "b", "c"])
    assert await _run(s.to_array()) == [b"a", b"b", b"c"]
    assert s.destroyed  # node: true (the iterator destroys the ended stream)
    log: list[bytes] = []

    async def note(x: bytes) -> None:
        log.append(x)

    assert await _run(_src(["a", "b"]).for_each(log.append)) is None
    assert await _run(_src(["c"]).for_each(note)) is None
    assert log == [b"a", b"b", b"c"]
    assert await _run(_src(["a", "b", "c"]).reduce(lambda a, x: a + x.decode(), "")) == "abc"
    assert await _run(_src(["a", "b", "c"]).reduce(lambda a, x: a + x)) == b"abc"

    async def add(a: int, x: bytes) -> int:
        return a + len(x)

    assert await _run(_src(["a", "bb"]).reduce(add, 0)) == 3


async def test_flat_map() -> None:
    """node: flatMap to an array, a string (its characters), a stream (its chunks); a Buffer
    gives its numbers, which our byte stream cannot carry (node's object mode does)."""
    r = _src(["ab", "c"]).flat_map(lambda x: [x.decode(), "z"])
    assert await _run(r.to_array()) == [b"ab", b"z", b"c", b"z"]
    assert await _run(_src(["ab", "c"]).flat_map(lambda x: x.decode()).to_array()) == \
        [b"a", b"b", b"c"]
    got = await _run(_src(["a", "b"]).flat_map(lambda x: _src([x, x])).to_array())
    assert b"".join(got) == b"aabb"  # node: ['a', 'a', 'b', 'b']

    async def gen(x: bytes) -> Any:
        return (c for c in [x + b"1", x + b"2"])

    assert await _run(_src(["a"]).flat_map(gen).to_array()) == [b"a1", b"a2"]
    r = _src(["ab"]).flat_map(lambda x: x)
    with pytest.raises(InvalidArgTypeError) as info:
        await _run(r.to_array())
    assert 'The "chunk" argument must be of type' in str(info.value)


@pytest.mark.parametrize(("limit", "taken", "dropped"), [
    (2, [b"a", b"bc"], [b"c"]),  # (the source's 'b' and 'c' come together, as in node)
    (1.5, [b"a", b"bc"], [b"c"]),
    (math.inf, [b"a", b"bc"], []),
    (math.nan, [], [b"a", b"bc"]),
    (None, [], [b"a", b"bc"]),
    (0, [], [b"a", b"bc"]),
])
async def test_take_and_drop(limit: Any, taken: list[bytes], dropped: list[bytes]) -> None:
    """node: take(n)/drop(n) over Readable.from(['a', 'b', 'c'], {objectMode: false})."""
    assert await _run(_src(["a", "b", "c"]).take(limit).to_array()) == taken
    assert await _run(_src(["a", "b", "c"]).drop(limit).to_array()) == dropped


async def test_take_and_drop_one_by_one() -> None:
    assert await _run(_pull(["a", "b", "c"]).take(2).to_array()) == [b"a", b"b"]
    assert await _run(_pull(["a", "b", "c"]).drop(2).to_array()) == [b"c"]


async def test_readable_compose() -> None:
    """node: readable.compose(transform) / compose(async generator function) -> a Readable."""
    up = Transform(transform=lambda c, cb: cb(None, c.upper()))
    src = Readable()
    src.push(b"ab")
    src.push(None)
    r = src.compose(up)
    assert isinstance(r, Readable)
    assert await _run(r.to_array()) == [b"AB"]

    async def ask(source: Any) -> Any:
        async for c in source:
            yield c + b"?"

    src = Readable()
    src.push(b"xy")
    src.push(None)
    assert await _run(src.compose(ask).to_array()) == [b"xy?"]
    with pytest.raises(NodeError) as info:
        src.compose(Readable())
    assert info.value.code == "ERR_INVALID_ARG_VALUE"
    assert str(info.value).startswith("The argument 'stream' must be writable. Received ")


# -- results that are no chunks (node's result streams are in object mode) ---------------------


@pytest.mark.parametrize(("value", "code"), [(5, "ERR_INVALID_ARG_TYPE"), ([b"x"], "ERR_INVALID_ARG_TYPE"),
                                             (None, "ERR_STREAM_NULL_VALUES")])
async def test_map_results_must_be_chunks(value: Any, code: str) -> None:
    """What node's ``Readable.from(gen, {objectMode: false})`` does with such an item (node's
    map() gives an object-mode stream): the returned stream is destroyed with the error."""
    r = _src(["a"]).map(lambda x: value)
    err = when(r, "error")
    r.resume()
    (e,) = await done(err)
    assert e.code == code
    await done(r.wait_closed())


async def test_str_results_are_encoded() -> None:
    assert await _run(_src(["a"]).map(lambda x: "é").to_array()) == ["é".encode()]


# -- argument errors ----------------------------------------------------------------------------

_FN_MSG = 'The "fn" argument must be of type function or an instance of AsyncFunction. Received '


@pytest.mark.parametrize("name", ["map", "filter", "flat_map", "for_each", "some", "every",
                                  "find"])
@pytest.mark.parametrize("bad", [5, None, "x"])
async def test_fn_must_be_callable(name: str, bad: Any) -> None:
    """node: ERR_INVALID_ARG_TYPE naming "fn" (raised at the call here, a rejection in node's
    promise-returning ones)."""
    with pytest.raises(InvalidArgTypeError) as info:
        getattr(_src(["a"]), name)(bad)
    assert info.value.code == "ERR_INVALID_ARG_TYPE"
    assert str(info.value).startswith(_FN_MSG)
    with pytest.raises(InvalidArgTypeError) as info:
        _src(["a"]).reduce(bad)
    assert str(info.value).startswith('The "reducer" argument must be of type function or an '
                                      "instance of AsyncFunction. Received ")


_RANGE = ">= {} && <= 9007199254740991"


@pytest.mark.parametrize(("opts", "message"), [
    ({"concurrency": 0}, 'The value of "options.concurrency" is out of range. It must be '
     + _RANGE.format(1) + ". Received 0"),
    ({"concurrency": -1}, 'The value of "options.concurrency" is out of range. It must be '
     + _RANGE.format(1) + ". Received -1"),
    ({"concurrency": math.inf}, 'The value of "options.concurrency" is out of range. It must '
     "be an integer. Received Infinity"),
    ({"concurrency": math.nan}, 'The value of "options.concurrency" is out of range. It must '
     "be an integer. Received NaN"),
    ({"concurrency": 2 ** 53}, 'The value of "options.concurrency" is out of range. It must be '
     + _RANGE.format(1) + ". Received 9_007_199_254_740_992"),
    ({"highWaterMark": -1}, 'The value of "options.highWaterMark" is out of range. It must be '
     + _RANGE.format(0) + ". Received -1"),
    ({"high_water_mark": math.inf}, 'The value of "options.highWaterMark" is out of range. It '
     "must be an integer. Received Infinity"),
])
async def test_bad_concurrency_is_err_out_of_range(opts: dict[str, Any], message: str) -> None:
    """node: validateInteger's messages, word for word."""
    for name in ("map", "filter", "for_each"):
        with pytest.raises(ValueError) as info:
            getattr(_src(["a"]), name)(lambda x: x, opts)
        assert getattr(info.value, "code", None) == "ERR_OUT_OF_RANGE"
        assert str(info.value) == message


async def test_fractional_options_are_floored() -> None:
    """node: concurrency 1.5 and highWaterMark 0.5 are accepted (Math.floor)."""
    r = _src(["a"]).map(lambda x: x, concurrency=1.5, high_water_mark=0.5)
    assert await _run(r.to_array()) == [b"a"]


async def test_bad_limit_and_options() -> None:
    for name in ("take", "drop"):
        with pytest.raises(ValueError) as info:
            getattr(_src(["a"]), name)(-1)
        assert getattr(info.value, "code", None) == "ERR_OUT_OF_RANGE"
        assert str(info.value) == ('The value of "number" is out of range. It must be >= 0. '
                                   "Received -1")
        with pytest.raises(InvalidArgTypeError):
            getattr(_src(["a"]), name)("2")  # (node's Number('2'): no such conversion here)
    with pytest.raises(InvalidArgTypeError) as info:
        _src(["a"]).map(lambda x: x, 5)  # type: ignore[arg-type]
    assert str(info.value).startswith('The "options" argument must be of type object.')
    with pytest.raises(InvalidArgTypeError):
        _src(["a"]).to_array(5)  # type: ignore[arg-type]


async def test_signal_is_refused() -> None:
    """No AbortSignal in nodetls: ``signal`` is refused (``None``, as node's undefined, is
    not)."""
    with pytest.raises(InvalidArgTypeError, match="AbortSignal is not supported"):
        _src(["a"]).map(lambda x: x, signal=object())
    with pytest.raises(InvalidArgTypeError, match="AbortSignal is not supported"):
        _src(["a"]).to_array({"signal": object()})
    assert await _run(_src(["a"]).to_array(signal=None)) == [b"a"]


# -- the source's and the result's lifecycle ----------------------------------------------------


async def test_fn_error_destroys_the_result_and_aborts_the_source() -> None:
    """node: 'data a', 'r error boom', 'r close'; 'src close AbortError'."""
    log: list[str] = []
    s = _pull(["a", "b", "c"])
    _watch(s, log, "src")

    def fn(x: bytes) -> bytes:
        if x == b"b":
            raise RuntimeError("boom")
        return x

    r = s.map(fn)
    r.on("data", lambda c: log.append("data " + c.decode()))
    r.on("error", lambda e: log.append(f"r error {e}"))
    closed = when(r, "close")
    r.on("close", lambda: log.append("r close"))
    await done(closed)
    await done(s.wait_closed())
    assert [x for x in log if not x.startswith("src")] == ["data a", "r error boom", "r close"]
    assert [x for x in log if x.startswith("src")] == ["src close ABORT_ERR"]


async def test_source_error_reaches_the_result() -> None:
    """node: 'data a', 'src close src broke', 'r error src broke', 'r close'."""
    log: list[str] = []
    s = Readable(read=noread)
    s.push(b"a")
    s.on("close", lambda: log.append(f"src close {s.errored}"))
    r = s.map(lambda x: x)
    r.on("data", lambda c: log.append("data " + c.decode()))
    r.on("error", lambda e: log.append(f"r error {e}"))
    r.on("close", lambda: log.append("r close"))
    await ticks(20)
    closed = when(r, "close")
    s.destroy(RuntimeError("src broke"))
    await done(closed)
    assert log == ["data a", "src close src broke", "r error src broke", "r close"]


async def test_to_array_raises_the_source_error() -> None:
    """node: toArray() rejects with the error the source is destroyed with."""
    s = Readable(read=noread)
    s.push(b"a")
    asyncio.get_running_loop().call_soon(s.destroy, RuntimeError("E3"))
    with pytest.raises(RuntimeError, match="E3"):
        await _run(s.to_array())


async def test_take_aborts_the_source_and_ends() -> None:
    """node: 'data a', 'src close AbortError', 'r end', 'r close'."""
    log: list[str] = []
    s = _pull(["a", "b", "c"])
    _watch(s, log, "src")
    r = s.take(1)
    r.on("data", lambda c: log.append("data " + c.decode()))
    _watch(r, log, "r")
    await done(r.wait_closed())
    assert log == ["data a", "src close ABORT_ERR", "r end", "r close"]


async def test_drop_reads_the_source_to_its_end() -> None:
    log: list[str] = []
    s = _pull(["a", "b", "c"])
    _watch(s, log, "src")
    log.append("drop " + b",".join(await _run(s.drop(2).to_array())).decode())
    await done(s.wait_closed())
    assert log == ["src end", "src close", "drop c"]


@pytest.mark.parametrize(("call", "result"), [
    (lambda s: s.some(lambda x: x == b"b"), True),
    (lambda s: s.every(lambda x: x == b"a"), False),
    (lambda s: s.find(lambda x: x == b"a"), b"a"),
])
async def test_deciding_early_aborts_the_source(call: Any, result: Any) -> None:
    """node: some/every/find stop at the deciding chunk: the source closes with AbortError."""
    log: list[str] = []
    s = _pull(["a", "b", "c"])
    _watch(s, log, "src")
    assert await _run(call(s)) == result
    await done(s.wait_closed())
    assert log == ["src close ABORT_ERR"]


async def test_failing_reducer_and_for_each_abort_the_source() -> None:
    """node: 'reduce threw red' / 'forEach threw fe', then 'src close AbortError'."""
    for name in ("reduce", "for_each"):
        log: list[str] = []
        s = _pull(["a", "b", "c"])
        _watch(s, log, "src")

        async def fail(*_: Any) -> None:
            raise RuntimeError("fails")

        with pytest.raises(RuntimeError, match="fails"):
            await _run(s.reduce(fail, 0) if name == "reduce" else s.for_each(fail))
        await done(s.wait_closed())
        assert log == ["src close ABORT_ERR"]


async def test_destroying_the_result_aborts_the_source() -> None:
    """node: 'data a', 'r close', 'src close AbortError'."""
    log: list[str] = []
    s = _pull(["a", "b", "c"])
    _watch(s, log, "src")
    r = s.map(lambda x: x)
    r.on("close", lambda: log.append("r close"))

    def first(c: bytes) -> None:
        log.append("data " + c.decode())
        r.destroy()

    r.once("data", first)
    await done(r.wait_closed())
    await done(s.wait_closed())
    assert sorted(log) == sorted(["data a", "r close", "src close ABORT_ERR"])
    assert log[0] == "data a"
