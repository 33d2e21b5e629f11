"""``stream.compose(*streams)`` (Node v20's ``lib/internal/streams/compose.js``). Every expected
log below was taken from node v20.20 running the same scenario (after Node's
test/parallel/test-stream-compose.js)."""

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
    compose,
    pipeline,
)
from tests.stream.streamutil import done, ticks


def _upper() -> Transform:
    return Transform(transform=lambda c, cb: cb(None, c.upper()))


def _watch(s: Any, log: list[str], name: str, *events: str) -> None:
    for ev in events:
        def on(*a: Any, _ev: str = ev) -> None:
            arg = a[0] if a else None
            detail = "" if arg is None else f" {getattr(arg, 'code', None) or arg}"
            log.append(f"{name} {_ev}{detail}")

        s.on(ev, on)


async def test_stream_generator_stream() -> None:
    """node: compose(Transform, async function*, PassThrough): readable and writable; 'ab'+'c'
    come out as 'ABC!', then 'end', 'finish', 'close'."""

    async def bang(source: Any) -> Any:
        async for c in source:
            yield c + b"!"

    d = compose(_upper(), bang, PassThrough())
    assert isinstance(d, Duplex) and d.readable and d.writable
    log: list[str] = []
    out: list[bytes] = []
    d.on("data", out.append)
    _watch(d, log, "d", "end", "finish", "close")
    d.write(b"ab")
    d.end(b"c")
    await done(d.wait_closed())
    assert b"".join(out) == b"ABC!"
    assert log == ["d end", "d finish", "d close"]


async def test_errors() -> None:
    """node: ERR_MISSING_ARGS; ERR_INVALID_ARG_VALUE for a non-readable stage before the last
    and a non-writable one after the first."""
    with pytest.raises(NodeError) as info:
        compose()
    assert info.value.code == "ERR_MISSING_ARGS"
    assert str(info.value) == 'The "streams" argument must be specified'
    with pytest.raises(NodeError) as info:
        compose(Writable(), PassThrough())
    assert info.value.code == "ERR_INVALID_ARG_VALUE"
    assert str(info.value).startswith("The argument 'streams[0]' must be readable. Received ")
    with pytest.raises(NodeError) as info:
        compose(PassThrough(), Readable())
    assert info.value.code == "ERR_INVALID_ARG_VALUE"
    assert str(info.value).startswith("The argument 'streams[1]' must be writable. Received ")


async def test_one_stage_is_duplex_from() -> None:
    up = _upper()
    assert compose(up) is up  # node: Duplex.from(stream)
    d = compose([b"x"])
    assert isinstance(d, Duplex) and not d.writable


async def test_source_function_first() -> None:
    """node: compose(async function* () {...}, PassThrough): readable and (the generator's
    Duplex) writable; 'ab' then 'end'; no 'close' (its writable side stays open)."""

    async def gen() -> Any:
        yield "a"
        yield "b"

    d = compose(gen, PassThrough())
    assert d.readable and d.writable
    log: list[str] = []
    out: list[bytes] = []
    d.on("data", out.append)
    _watch(d, log, "d", "end", "close")
    await ticks(30)
    assert b"".join(out) == b"ab"
    assert log == ["d end"]


async def test_sink_function_last() -> None:
    """node: compose(PassThrough, async function (source) {...}): writable only; 'finish'
    once the function has taken everything, then 'close'."""
    got: list[bytes] = []

    async def sink(source: Any) -> None:
        async for c in source:
            got.append(c)

    d = compose(PassThrough(), sink)
    assert not d.readable and d.writable
    log: list[str] = []
    _watch(d, log, "d", "finish", "close")
    d.on("finish", lambda: log.append("got " + b"".join(got).decode()))
    d.end(b"xyz")
    await done(d.wait_closed())
    assert log == ["d finish", "got xyz", "d close"]


async def test_error_in_a_stage_destroys_the_composition() -> None:
    """node: 'd4 error bad', 'close4'."""
    d = compose(PassThrough(), Transform(transform=lambda c, cb: cb(RuntimeError("bad"))))
    log: list[str] = []
    _watch(d, log, "d", "error", "close")
    d.write(b"x")
    await done(d.wait_closed())
    assert log == ["d error bad", "d close"]


@pytest.mark.parametrize(("err", "expected"), [
    (None, ["b close ABORT_ERR", "a close ABORT_ERR", "d error ABORT_ERR", "d close"]),
    (RuntimeError("kill"), ["b close kill", "a close kill", "d error kill", "d close"]),
])
async def test_destroying_the_composition(err: Any, expected: list[str]) -> None:
    """node: the last stage is destroyed (AbortError without an error), the pipeline destroys
    the others, then the composed Duplex errors and closes."""
    a, b = PassThrough(), PassThrough()
    log: list[str] = []
    for s, name in ((a, "a"), (b, "b")):
        s.on("close", lambda s=s, name=name: log.append(
            f"{name} close {getattr(s.errored, 'code', None) or s.errored}"))
    d = compose(a, b)
    _watch(d, log, "d", "error", "close")
    d.destroy(err)
    await done(d.wait_closed())
    assert log == expected


async def test_backpressure() -> None:
    """node: writes complete only as the first stage takes them: write() turns false after
    8192 writes of 2 bytes (the Duplex's own 16 KiB), with 2 bytes in each stage."""
    a, b = PassThrough(high_water_mark=2), PassThrough(high_water_mark=2)
    d = compose(a, b)
    n = 0
    while d.write(b"xx"):
        n += 1
    assert (n, d.writable_length, a.writable_length, b.readable_length) == (8192, 16384, 2, 2)


async def test_in_a_pipeline() -> None:
    """A composed Duplex is an ordinary stage."""
    out: list[bytes] = []
    sink = Writable(write=lambda c, cb: (out.append(c), cb()))
    result: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    pipeline(Readable.from_([b"ab", b"c"]), compose(_upper(), PassThrough()), sink,
             lambda err=None, *_: result.set_result(err))
    assert await done(result) is None
    assert b"".join(out) == b"ABC"
