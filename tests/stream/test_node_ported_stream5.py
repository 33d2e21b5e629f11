"""Node v20's own stream tests, fifth batch (session 30, stream pass 5), as scenarios for
``nodetls.stream``: Python names for Node's camelCase ones, ``loop.call_soon`` for
``process.nextTick``. Each expectation is what node v20 printed for the same scenario (checked by
running it); the Node test each one ports (``test/parallel/test-stream*-<name>.js``) is named
in its comment."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nodetls.errors import NodeError
from nodetls.stream import Duplex, PassThrough, Readable, Writable

from .streamutil import done, ticks, when


def noread(*_: Any) -> None:
    pass


# -- test-stream-readable-default-encoding ------------------------------------------------------


@pytest.mark.parametrize("enc", ["my invalid encoding", "", "buffer"])
def test_readable_default_encoding_unknown_throws(enc: str) -> None:
    # Node: new Readable({ defaultEncoding }) throws ERR_UNKNOWN_ENCODING at once ('' and
    # 'buffer' too: Buffer.isEncoding is false for both).
    with pytest.raises(NodeError) as info:
        Readable(read=noread, default_encoding=enc)
    assert info.value.code == "ERR_UNKNOWN_ENCODING"


def test_readable_default_encoding_any_case_accepted() -> None:
    # Node keeps the name as given ('UTF-8', 'HEX', 'binary', 'ucs2' are all accepted).
    for enc in ("UTF-8", "HEX", "binary", "ucs2"):
        Readable(read=noread, default_encoding=enc)
    Readable(read=noread, defaultEncoding="hex")  # (Node's name too)


async def test_readable_default_encoding_encodes_pushed_str() -> None:
    # test-stream-readable-default-encoding: defaultEncoding 'hex', push('ab') -> <Buffer ab>.
    r = Readable(read=noread, default_encoding="hex")
    r.push("ab")
    got = when(r, "data")
    assert await done(got) == (b"\xab",)


async def test_readable_default_encoding_explicit_encoding_wins() -> None:
    # test-stream-readable-default-encoding: push('xy', 'utf-8') on a 'hex' default -> 'xy'.
    r = Readable(read=noread, default_encoding="hex")
    r.push("xy", "utf-8")
    got = when(r, "data")
    assert await done(got) == (b"xy",)


async def test_readable_default_encoding_unshift_and_decoder() -> None:
    # Node: unshift(str) uses the default encoding too (<Buffer ab cd>); with
    # setEncoding('utf8') a 'hex' default turns push('6869') into 'hi'; a str in the stream's own
    # encoding (base64 default and decoder) is kept as it is ('aGk=').
    out: list[Any] = []
    r1 = Readable(read=noread, default_encoding="hex")
    r1.unshift("abcd")
    r1.on("data", out.append)
    r2 = Readable(read=noread, default_encoding="hex", encoding="utf8")
    r2.push("6869")
    r2.on("data", out.append)
    r3 = Readable(read=noread, default_encoding="base64")
    r3.set_encoding("base64")
    r3.push("aGk=")
    r3.on("data", out.append)
    await ticks()
    assert out == [b"\xab\xcd", "hi", "aGk="]


async def test_duplex_and_passthrough_default_encoding_both_sides() -> None:
    # Node: a Duplex's defaultEncoding is its readable side's too (push('ff') -> <Buffer ff>);
    # a PassThrough's write('ff00') and push('aa') both decode hex.
    out: list[Any] = []
    d = Duplex(read=noread, write=lambda chunk, cb: cb(), default_encoding="hex")
    d.push("ff")
    d.on("data", out.append)
    p = PassThrough(default_encoding="hex")
    p.write("ff00")
    p.push("aa")
    p.on("data", out.append)
    await ticks()
    assert out == [b"\xff", b"\xff\x00", b"\xaa"]


# -- test-stream-catch-rejections ---------------------------------------------------------------


def quiet_reports() -> list[dict[str, Any]]:
    """Collect what reaches the running loop's exception handler (nodetls reports a listener
    raising on an already destroyed stream there; Node's captureRejections drops it)."""
    reports: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: reports.append(ctx))
    return reports


async def test_readable_async_data_listener_rejection_destroys() -> None:
    # test-stream-catch-rejections (captureRejections: true): both 'data' listener calls reject;
    # the first destroys the stream with that error: one 'error' (the same object), emitted
    # once the stream is destroyed, then 'close'.
    quiet_reports()
    err = RuntimeError("kaboom")
    r = Readable(read=noread)
    r.push(b"hello")
    r.push(b"world")
    seen: list[Any] = []
    calls: list[Any] = []
    r.on("error", lambda e: seen.append((e, r.destroyed)))

    async def on_data(chunk: Any) -> None:
        calls.append(chunk)
        raise err

    r.on("data", on_data)
    await done(when(r, "close"))
    assert seen == [(err, True)]
    assert calls == [b"hello", b"world"]


async def test_writable_async_drain_listener_rejection_destroys() -> None:
    # test-stream-catch-rejections: highWaterMark 1, write('hello', cb -> write('world')),
    # 'drain' listener rejecting: called twice, one 'error' (the same object) on a destroyed
    # stream.
    quiet_reports()
    loop = asyncio.get_running_loop()
    err = RuntimeError("kaboom")
    w = Writable(high_water_mark=1, write=lambda chunk, cb: loop.call_soon(cb))
    seen: list[Any] = []
    drains: list[int] = []
    w.write(b"hello", lambda *_: w.write(b"world"))
    w.on("error", lambda e: seen.append((e, w.destroyed)))

    async def on_drain() -> None:
        drains.append(1)
        raise err

    w.on("drain", on_drain)
    await done(when(w, "close"))
    await ticks()
    assert seen == [(err, True)]
    assert drains == [1, 1]


async def test_unshift_takes_an_encoding() -> None:
    # Node v20: unshift('6869', 'hex'), unshift('aGk=', 'base64'), unshift('x') -> read() is
    # <Buffer 78 68 69 68 69> ('xhihi'); with encoding 'utf8' unshift('6869', 'hex') reads 'hi';
    # an unknown encoding throws ERR_UNKNOWN_ENCODING
    r = Readable(read=lambda n: None)
    r.unshift("6869", "hex")
    r.unshift("aGk=", "base64")
    r.unshift("x")
    assert r.read() == b"xhihi"
    r2 = Readable(read=lambda n: None, encoding="utf8")
    r2.unshift("6869", "hex")
    assert r2.read() == "hi"
    with pytest.raises(NodeError) as info:
        Readable(read=lambda n: None).unshift("a", "nope")
    assert info.value.code == "ERR_UNKNOWN_ENCODING"
