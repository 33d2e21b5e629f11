"""``nodetls.stream.consumers`` (Node's ``stream/consumers``: ``text``, ``json``, ``buffer``,
``arrayBuffer``). Every expectation was taken from node v20 running the same calls (after
Node's test/parallel/test-stream-consumers.js): TextDecoder's UTF-8 (split characters, BOM,
U+FFFD), str chunks, Blob's String() of other chunks, errors of the stream and of the input."""

from __future__ import annotations

import asyncio
import json as _json
from typing import Any

import pytest

from nodetls.errors import InvalidArgTypeError
from nodetls.stream import PassThrough, Readable, consumers
from tests.stream.streamutil import TIMEOUT


async def _run(coro: Any) -> Any:
    return await asyncio.wait_for(coro, TIMEOUT)


async def test_text_decodes_split_characters_and_takes_str_chunks() -> None:
    # node: a character split over chunks decodes whole; a string chunk is taken as it is
    r = Readable.from_([b"\xe2\x82", b"\xac", "x"])
    assert await _run(consumers.text(r)) == "€x"
    emoji = "\U0001f600".encode()
    assert await _run(consumers.text(Readable.from_([emoji[:1], emoji[1:3], emoji[3:]]))) \
        == "\U0001f600"


@pytest.mark.parametrize(("chunks", "expected"), [
    ([b"\xef\xbb\xbfh"], "h"),  # node: TextDecoder drops a leading BOM
    ([b"\xef", b"\xbb\xbfh\xef\xbb\xbf"], "h\ufeff"),  # (only the leading one)
    ([b"h\xe2\x82"], "h\ufffd"),  # a truncated character at the end
    ([b"h\xffi"], "h\ufffdi"),  # an invalid byte
])
async def test_text_as_text_decoder(chunks: list[bytes], expected: str) -> None:
    assert await _run(consumers.text(Readable.from_(chunks))) == expected


async def test_text_of_a_stream_with_an_encoding_and_it_is_destroyed_after() -> None:
    # node: read through the stream's async iterator: destroyed once read to the end
    p = PassThrough()
    p.set_encoding("utf8")
    p.end("héllo")
    assert await _run(consumers.text(p)) == "héllo"
    assert p.destroyed


async def test_any_iterable_or_async_iterable() -> None:
    # node: any (async) iterable; for await takes a sync one, awaiting promise items
    async def gen() -> Any:
        yield "a"
        yield b"b"

    async def later() -> bytes:
        return b"c"

    assert await _run(consumers.text(gen())) == "ab"
    assert await _run(consumers.text(["a", b"b", later()])) == "abc"
    assert await _run(consumers.text("abc")) == "abc"  # node: a string iterates its characters


async def test_text_of_other_chunks_is_err_invalid_arg_type() -> None:
    # node: TextDecoder.decode(1) -> ERR_INVALID_ARG_TYPE "input" (a Buffer iterates numbers)
    for bad in ([1], b"ab"):
        with pytest.raises(InvalidArgTypeError) as info:
            await _run(consumers.text(bad))
        assert info.value.code == "ERR_INVALID_ARG_TYPE" and '"input"' in str(info.value)


async def test_not_iterable_is_a_type_error() -> None:
    # node: TypeError (stream is not async iterable)
    for bad in (5, None):
        with pytest.raises(TypeError) as info:
            await _run(consumers.text(bad))
        assert getattr(info.value, "code", None) == "ERR_INVALID_ARG_TYPE"
        assert '"stream"' in str(info.value)


async def test_json() -> None:
    assert await _run(consumers.json(Readable.from_(['{"a":', b"[1,2]}"]))) == {"a": [1, 2]}


@pytest.mark.parametrize("chunks", [['{"a":'], []])
async def test_json_of_bad_text_raises_what_json_raises(chunks: list[str]) -> None:
    # node: SyntaxError (also for the empty text); ours: json.JSONDecodeError
    with pytest.raises(_json.JSONDecodeError):
        await _run(consumers.json(Readable.from_(chunks)))


async def test_buffer_and_array_buffer() -> None:
    # node: Buffer/ArrayBuffer of the chunks (strings UTF-8); Blob's String(chunk) for others
    assert await _run(consumers.buffer(Readable.from_(["ab", b"cd"]))) == b"abcd"
    assert await _run(consumers.array_buffer(Readable.from_(["ab", b"cd"]))) == b"abcd"
    assert await _run(consumers.buffer([1, "é", bytearray(b"x")])) == b"1\xc3\xa9x"
    assert await _run(consumers.buffer(b"ab")) == b"9798"  # node: a Buffer iterates numbers


async def test_a_failing_stream_raises_its_error() -> None:
    boom = Exception("boom")
    r = Readable(read=lambda n: r.destroy(boom))
    with pytest.raises(Exception) as info:
        await _run(consumers.text(r))
    assert info.value is boom


async def test_a_stream_closed_before_its_end_is_premature_close() -> None:
    r = Readable(read=lambda n: None)
    r.push(b"partial")
    asyncio.get_running_loop().call_soon(r.destroy)
    with pytest.raises(Exception) as info:
        await _run(consumers.buffer(r))
    assert getattr(info.value, "code", None) == "ERR_STREAM_PREMATURE_CLOSE"


async def test_a_bad_chunk_closes_the_async_iterator() -> None:
    # node: the for-await body throws -> the iterator's return(): the generator is closed
    async def gen() -> Any:
        yield b"a"
        yield 1
        yield b"never"

    g = gen()
    with pytest.raises(InvalidArgTypeError):
        await _run(consumers.text(g))
    with pytest.raises(StopAsyncIteration):  # closed by the consumer
        await g.__anext__()


async def test_json_of_a_stream_read_to_its_end_destroys_it() -> None:
    r = Readable(read=lambda n: None)
    r.push(b"\xff")
    r.push(None)
    with pytest.raises(_json.JSONDecodeError):  # node: SyntaxError of "\ufffd"
        await _run(consumers.json(r))
    assert r.destroyed and r.errored is None
