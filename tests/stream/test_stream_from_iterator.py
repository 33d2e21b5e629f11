"""``Readable.from_`` (Node's ``Readable.from``), ``readable.iterator()`` / ``async for`` and the
buffer / object-mode getters; each expectation checked against node v20 running the same
scenario (after Node's test/parallel/test-readable-from.js, test-readable-from-iterator-closing.js,
test-stream-readable-next-no-null.js, test-stream-readable-async-iterators.js; bytes where Node's
tests use object mode, i.e. Node with ``{objectMode: false}``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from nodetls.errors import NodeError
from nodetls.stream import Duplex, PassThrough, Readable, Writable

TIMEOUT = 5.0


def noread(*_: Any) -> None:
    """A ``read`` hook that does nothing: the test pushes (Node's ``read() {}``; a
    Readable given no ``read`` errors with ERR_METHOD_NOT_IMPLEMENTED at its first read)."""


async def ticks(n: int = 5) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


def recorder(em: Any, *events: str) -> list[Any]:
    log: list[Any] = []
    for ev in events:
        if ev == "error":
            em.on(ev, lambda e: log.append(("error", getattr(e, "code", None) or str(e))))
        else:
            em.on(ev, lambda *a, _ev=ev: log.append((_ev, *a) if a else _ev))
    return log


async def collect(r: Any) -> list[Any]:
    async def run() -> list[Any]:
        return [c async for c in r]

    return await asyncio.wait_for(run(), TIMEOUT)


async def closed(stream: Any) -> None:
    await asyncio.wait_for(stream.wait_closed(), TIMEOUT)


# -- Readable.from_ ------------------------------------------------------------------------------


async def test_from_async_and_sync_generators_lists_and_awaitables() -> None:
    # test-readable-from.js toReadableBasicSupport / SyncIterator / Promises / OnDataNonObject:
    # with {objectMode: false} every item is a Buffer chunk, in order; then 'end', 'close'.
    async def agen() -> AsyncIterator[Any]:
        yield "a"
        yield b"b"
        yield bytearray(b"c")

    def sgen() -> Iterator[str]:
        yield from "abc"

    assert await collect(Readable.from_(agen())) == [b"a", b"b", b"c"]
    assert await collect(Readable.from_(sgen())) == [b"a", b"b", b"c"]
    loop = asyncio.get_running_loop()
    futs = [loop.create_future() for _ in range(3)]
    for fut, v in zip(futs, "abc", strict=True):
        loop.call_soon(fut.set_result, v)
    assert await collect(Readable.from_(futs)) == [b"a", b"b", b"c"]

    r = Readable.from_(["a", "b", "c"])
    log = recorder(r, "data", "end", "close")
    await closed(r)
    assert log == [("data", b"a"), ("data", b"b"), ("data", b"c"), "end", "close"]
    assert r.readable_high_water_mark == 1  # node: Readable.from(..., {objectMode: false})


async def test_from_str_and_bytes_are_one_chunk() -> None:
    # test-readable-from.js toReadableString / toReadableBuffer: the whole value, once (node:
    # the default high-water mark there, 16384)
    r = Readable.from_("héllo")
    assert r.readable_high_water_mark == 16384
    assert await collect(r) == ["héllo".encode()]
    assert await collect(Readable.from_(b"abc")) == [b"abc"]
    assert await collect(Readable.from_("héllo", encoding="utf8")) == ["héllo"]
    # node: Readable.from(['a', 'b'], {objectMode: false, encoding: 'hex'}) -> '61', '62'
    assert await collect(Readable.from_(["a", "b"], encoding="hex")) == ["61", "62"]
    # node: {defaultEncoding: 'latin1'}: 'é' -> <Buffer e9>
    assert await collect(Readable.from_(["é", "x"], default_encoding="latin1")) == [b"\xe9", b"x"]


async def test_from_sync_iterator_is_read_synchronously_up_to_the_high_water_mark() -> None:
    # node: highWaterMark 3, read(0): 'aa' and 'bb' pushed within that call (length 4)
    r = Readable.from_(iter(["aa", "bb", "cc"]), high_water_mark=3)
    r.read(0)
    assert r.readable_length == 4
    await ticks()
    assert r.readable_length == 4


async def test_from_argument_errors() -> None:
    # test-readable-from.js: Readable.from(null) throws ERR_INVALID_ARG_TYPE (node: also 5, {})
    for bad in (None, 5, object()):
        with pytest.raises(NodeError) as info:
            Readable.from_(bad)
        assert info.value.code == "ERR_INVALID_ARG_TYPE"
        assert '"iterable" argument must be an instance of Iterable' in str(info.value)
    with pytest.raises(NodeError) as info:
        Readable.from_([], object_mode=True)  # nodetls: no object mode
    assert info.value.code == "ERR_INVALID_ARG_VALUE"
    assert await collect(Readable.from_([b"x"], {"objectMode": False})) == [b"x"]
    with pytest.raises(NodeError) as info:
        Readable.from_([], default_encoding="nope")
    assert info.value.code == "ERR_UNKNOWN_ENCODING"


async def test_from_non_bytes_item_and_none_fail_the_stream() -> None:
    # node {objectMode: false}: Readable.from([1, 2]) -> 'error' ERR_INVALID_ARG_TYPE, 'close', no
    # 'data'; test-stream-readable-next-no-null.js: a null item -> ERR_STREAM_NULL_VALUES
    # (TypeError 'May not write null values to stream'), no 'data', no 'end'
    r = Readable.from_([1, 2])
    log = recorder(r, "data", "error", "close")
    r.resume()
    await closed(r)
    assert log == [("error", "ERR_INVALID_ARG_TYPE"), "close"]

    async def nulls() -> AsyncIterator[Any]:
        yield None

    r2 = Readable.from_(nulls())
    errors: list[BaseException] = []
    r2.on("error", errors.append)
    log2 = recorder(r2, "data", "end", "close")
    await closed(r2)
    assert log2 == ["close"]
    assert isinstance(errors[0], TypeError) and errors[0].code == "ERR_STREAM_NULL_VALUES"  # type: ignore[attr-defined]
    assert str(errors[0]) == "May not write null values to stream"


async def test_from_iterator_error_destroys_the_stream() -> None:
    # test-readable-from.js destroysTheStreamWhenThrowing / endWithError: the items before,
    # then the iterator's error ('error', destroyed; async for raises it)
    async def boom() -> AsyncIterator[bytes]:
        raise ValueError("kaboom")
        yield b""  # pragma: no cover

    r = Readable.from_(boom())
    r.read()
    errors: list[BaseException] = []
    r.on("error", errors.append)
    await closed(r)
    assert [str(e) for e in errors] == ["kaboom"] and r.destroyed

    async def two_then_fail() -> AsyncIterator[bytes]:
        yield b"1"
        yield b"2"
        raise ValueError("Boum")

    got: list[bytes] = []
    with pytest.raises(ValueError, match="Boum"):
        async for chunk in Readable.from_(two_then_fail()):
            got.append(chunk)
    assert got == [b"1", b"2"]


async def test_from_as_a_transform_of_another_stream() -> None:
    # test-readable-from.js asTransformStream
    source = Readable()
    for c in (b"a", b"b", b"c", None):
        source.push(c)

    async def upper(src: Readable) -> AsyncIterator[bytes]:
        async for chunk in src:
            yield chunk.upper()

    assert b"".join(await collect(Readable.from_(upper(source)))) == b"ABC"


async def test_destroy_with_error_throws_it_into_the_generator() -> None:
    # test-readable-from.js destroyingStreamWithErrorThrowsInGenerator; node: the generator
    # catches 'boum', its finally runs, then 'error' boum and 'close'
    seen: list[str] = []

    async def gen() -> AsyncIterator[bytes]:
        try:
            yield b"a"
            yield b"b"
        except ValueError as e:
            seen.append(f"caught {e}")
        finally:
            seen.append("finally")

    r = Readable.from_(gen())
    log = recorder(r, "error", "close")
    r.read()
    await ticks()
    r.destroy(ValueError("boum"))
    await closed(r)
    assert seen == ["caught boum", "finally"]
    assert log == [("error", "boum"), "close"]


# -- closing the iterator (test-readable-from-iterator-closing.js) --------------------------------


async def test_break_closes_async_and_sync_generators() -> None:
    # asyncSupport / syncSupport; node: the generator gets the AbortError at its yield; a sync
    # generator runs its finally before the loop's next statement, and what it re-raises is the
    # stream's 'error'
    seen: list[str] = []

    async def agen() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"a"
        except NodeError as e:
            seen.append(f"caught {e.code}")
        finally:
            seen.append("finally")

    r = Readable.from_(agen())
    async for chunk in r:
        assert chunk == b"a"
        break
    assert r.destroyed
    await closed(r)
    assert seen == ["caught ABORT_ERR", "finally"]

    log: list[Any] = []

    def sgen() -> Iterator[bytes]:
        try:
            while True:
                yield b"a"
        except NodeError as e:
            log.append(f"caught {e.code}")
            raise
        finally:
            log.append("finally")

    r2 = Readable.from_(sgen())
    r2.on("error", lambda e: log.append(("error", e.code)))
    r2.on("close", lambda: log.append("close"))
    async for chunk in r2:
        log.append(chunk)
        break
    log.append("after break")
    await closed(r2)
    assert log == [b"a", "caught ABORT_ERR", "finally", "after break", ("error", "ABORT_ERR"),
                   "close"]


async def test_awaitable_returned_by_finally_is_awaited() -> None:
    # syncPromiseSupport / syncRejectedSupport: the value a sync generator returns when closed
    # is awaited; a rejected awaitable item fails the stream and the body never runs
    awaited: list[str] = []

    async def mark(what: str) -> None:
        awaited.append(what)

    def gen() -> Iterator[Any]:
        try:
            while True:
                yield asyncio.sleep(0, b"a")
        except BaseException:  # noqa: BLE001 - Node's test: its finally returns a thenable
            # (as `finally: return` would, which is a SyntaxWarning from CPython 3.14 on)
            return mark("return")

    async for chunk in Readable.from_(gen()):
        assert chunk == b"a"
        break
    await ticks()
    assert awaited == ["return"]

    async def fail() -> Any:
        raise ValueError("a")

    after: list[str] = []

    def rejected() -> Iterator[Any]:
        try:
            yield fail()
            after.append("second next")
        except BaseException:  # noqa: BLE001 - as above
            return mark("return2")

    with pytest.raises(ValueError, match="a"):
        async for _ in Readable.from_(rejected()):
            pytest.fail("body must not run")
    await ticks()
    assert awaited == ["return", "return2"] and after == []


async def test_async_iterator_that_throws_is_still_closed_as_node_v20() -> None:
    # noReturnAfterThrow (node v20.20 calls return() once after next() threw; later versions
    # do not): here aclose() is called once
    calls: list[str] = []

    class It:
        def __aiter__(self) -> It:
            return self

        async def __anext__(self) -> bytes:
            calls.append("next")
            raise ValueError("a")

        async def aclose(self) -> None:
            calls.append("aclose")

    with pytest.raises(ValueError, match="a"):
        async for _ in Readable.from_(It()):
            pytest.fail("body must not run")
    await ticks()
    assert calls == ["next", "aclose"]


async def test_destroy_while_next_is_pending_closes_after_it_settles() -> None:
    # closeStreamWhileNextIsPending; node: 'data' a, destroy(), the generator's pending step
    # finishes ('after await'), then its finally, then 'close'
    log: list[Any] = []
    yielded = asyncio.get_running_loop().create_future()
    destroyed = asyncio.get_running_loop().create_future()

    async def gen() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"a"
                if not yielded.done():
                    yielded.set_result(None)
                await destroyed
                log.append("after await")
        finally:
            log.append("finally")

    r = Readable.from_(gen())
    r.on("data", lambda d: log.append(("data", d)))
    r.on("close", lambda: log.append("close"))
    await asyncio.wait_for(yielded, TIMEOUT)
    r.destroy()
    log.append("destroy called")
    destroyed.set_result(None)
    await closed(r)
    assert log == [("data", b"a"), "destroy called", "after await", "finally", "close"]


async def test_generator_closed_after_its_last_item() -> None:
    # closeAfterNullYielded: three 'data', the finally runs (node: before the third 'data':
    # the third item is buffered when the next step exhausts the generator)
    log: list[Any] = []

    def gen() -> Iterator[bytes]:
        try:
            yield b"a"
            yield b"a"
            yield b"a"
        finally:
            log.append("finally")

    r = Readable.from_(gen())
    r.on("data", log.append)
    await closed(r)
    assert log == [b"a", b"a", "finally", b"a"]


# -- readable.iterator() / async for (test-stream-readable-async-iterators.js) -------------------


def _five_seven() -> Readable:
    async def gen() -> AsyncIterator[bytes]:
        await asyncio.sleep(0)
        yield b"5"
        await asyncio.sleep(0)
        yield b"7"
        await asyncio.sleep(0)

    return Readable.from_(gen())


async def test_iterator_destroy_on_return() -> None:
    # "AsyncIterator non-destroying iterator": destroy_on_return=True destroys at break;
    # False leaves the stream and a second iterator goes on (7), which then destroys it at the
    # end; no listener left behind by breaking iterators
    r = _five_seven()
    async for chunk in r.iterator(destroy_on_return=True):
        assert chunk == b"5"
        break
    assert r.destroyed

    r = _five_seven()
    async for chunk in r.iterator({"destroyOnReturn": False}):
        assert chunk == b"5"
        break
    assert not r.destroyed
    assert [c async for c in r.iterator(destroy_on_return=False)] == [b"7"]
    assert r.destroyed

    r = _five_seven()
    while r.readable:
        async for _ in r.iterator(destroy_on_return=False):
            break
    assert r.event_names() == []

    with pytest.raises(NodeError) as info:
        r.iterator(42)  # type: ignore[arg-type]
    assert info.value.code == "ERR_INVALID_ARG_TYPE"
    assert str(info.value) == 'The "options" argument must be of type object. Received int (42)'
    assert r.iterator().stream is r


async def test_break_destroys_with_abort_error() -> None:
    # node: for await ... break -> destroyed at once with an AbortError ('error' ABORT_ERR,
    # 'close'); autoDestroy: false makes no difference for a break
    r = Readable(read=lambda n: r.push(b"x"))
    log = recorder(r, "error", "close")
    async for _ in r:
        break
    assert r.destroyed and r.errored is not None and r.errored.code == "ABORT_ERR"  # type: ignore[attr-defined]
    await closed(r)
    assert log == [("error", "ABORT_ERR"), "close"]

    r2 = Readable(read=lambda n: r2.push(b"asd"), auto_destroy=False)
    async for _ in r2:
        break
    assert r2.destroyed


async def test_normal_end_and_auto_destroy() -> None:
    # node: autoDestroy false -> not destroyed after the loop; else destroyed after 'end' (not
    # before); iterating an ended stream again completes at once
    r = Readable(auto_destroy=False)
    r.push(b"asd")
    r.push(None)
    assert await collect(r) == [b"asd"]
    assert not r.destroyed

    r2 = Readable()
    r2.push(b"asd")
    r2.push(None)
    at_end: list[bool] = []
    r2.on("end", lambda: at_end.append(r2.destroyed))
    assert await collect(r2) == [b"asd"]
    assert at_end == [False] and r2.destroyed
    assert await collect(r2) == []


async def test_iterator_on_a_half_open_duplex_destroys_async_for_does_not() -> None:
    # node: for await over a Duplex whose readable side ended, writable side open: destroyed
    # with an AbortError ('error' ABORT_ERR, 'close'). nodetls: readable.iterator() does so;
    # plain async for leaves the writable side usable (documented difference)
    d = Duplex(write=lambda c, cb: cb())
    d.push(b"a")
    d.push(None)
    log = recorder(d, "error", "close")
    assert await collect(d.iterator()) == [b"a"]
    assert d.destroyed
    await closed(d)
    assert log == [("error", "ABORT_ERR"), "close"]

    d2 = Duplex(write=lambda c, cb: cb())
    d2.push(b"a")
    d2.push(None)
    assert await collect(d2) == [b"a"]
    assert not d2.destroyed and d2.writable


async def test_errors_and_premature_close() -> None:
    # node: destroy(err) in _read -> the loop raises it; destroyed before iterating ->
    # ERR_STREAM_PREMATURE_CLOSE; destroy(None) inside the body -> ERR_STREAM_PREMATURE_CLOSE
    r = Readable(read=lambda n: r.destroy(ValueError("kaboom from read")))
    with pytest.raises(ValueError, match="kaboom from read"):
        await collect(r)

    r2 = Readable()
    r2.destroy()
    await ticks()
    with pytest.raises(NodeError) as info:
        await collect(r2)
    assert info.value.code == "ERR_STREAM_PREMATURE_CLOSE"

    def read(_n: int) -> None:
        r3.push(b"asdf")
        r3.push(b"hehe")

    r3 = Readable(read=read)
    with pytest.raises(NodeError) as info:
        async for _ in r3:
            r3.destroy(None)
    assert info.value.code == "ERR_STREAM_PREMATURE_CLOSE"


async def test_pending_nexts_settle_on_end_and_destroy() -> None:
    # "all next promises must be resolved on end / rejected on destroy / ... with error":
    # the first pending next gets the data or the error, the others end
    r = Readable(read=noread)
    it = r.iterator()
    a, b = it.__anext__(), it.__anext__()
    ta, tb = asyncio.ensure_future(a), asyncio.ensure_future(b)
    await ticks()
    r.push(b"x")
    r.push(None)
    assert await asyncio.wait_for(ta, TIMEOUT) == b"x"
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(tb, TIMEOUT)

    for err in (None, ValueError("kaboom")):
        r = Readable(read=noread)
        it = r.iterator()
        ta = asyncio.ensure_future(it.__anext__())
        tb = asyncio.ensure_future(it.__anext__())
        await ticks()
        r.destroy(err)
        with pytest.raises(BaseException) as e_info:
            await asyncio.wait_for(ta, TIMEOUT)
        if err is None:
            assert getattr(e_info.value, "code", None) == "ERR_STREAM_PREMATURE_CLOSE"
        else:
            assert e_info.value is err
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(tb, TIMEOUT)


async def test_aclose_and_athrow() -> None:
    # node: return() before the first next() destroys nothing; return() after a next() on a
    # stream not ended -> destroyed with AbortError; throw(err) rejects with err and destroys
    # (AbortError), even with destroyOnReturn false
    r = Readable(read=noread)
    it = r.iterator()
    await it.aclose()
    assert not r.destroyed

    r2 = Readable(read=noread)
    r2.push(b"a")
    r2.push(None)
    it = r2.iterator()
    assert await it.__anext__() == b"a"
    await it.aclose()
    assert r2.destroyed and r2.errored is not None and r2.errored.code == "ABORT_ERR"  # type: ignore[attr-defined]

    r3 = Readable(read=noread)
    r3.push(b"a")
    log = recorder(r3, "error")
    it = r3.iterator(destroy_on_return=False)
    await it.__anext__()
    boom = ValueError("boom")
    with pytest.raises(ValueError) as info:
        await it.athrow(boom)
    assert info.value is boom and r3.destroyed
    await closed(r3)
    assert log == [("error", "ABORT_ERR")]

    r4 = Readable(read=noread)
    r4.push(b"a")
    async with contextlib.aclosing(r4.iterator()) as it2:
        async for _ in it2:
            break
    assert r4.destroyed


async def test_destroy_error_from_destroy_callback_reaches_the_iterator() -> None:
    # node: destroy() whose _destroy calls back later with an error: next() rejects with it
    err = ValueError("asd")

    def destroy(_e: Any, cb: Any) -> None:
        asyncio.get_running_loop().call_later(0.001, cb, err)

    r = Readable(destroy=destroy)
    r.destroy()
    with pytest.raises(ValueError) as info:
        await collect(r)
    assert info.value is err


async def test_pipeline_result_iterated_with_an_encoding() -> None:
    # test-stream-pipeline-async-iterator.js: a source destroyed with an error after two pushes;
    # the PassThrough pipeline returns yields 'helloworld', then the loop raises that error.
    # Node destroys it in a setImmediate, after the turn's ticks have moved the data; here the
    # loop's body destroys it once the data is out (node: ['helloworld'], then the error), as a
    # 1 ms timer could fire first on a busy machine (then nothing is yielded: node's nextTick case)
    from nodetls.stream import pipeline

    source = Readable(read=noread)
    source.push(b"hello")
    source.push(b"world")
    err = ValueError("kaboom")
    out = pipeline(source, PassThrough(), lambda *a: None)
    out.set_encoding("utf8")
    got: list[str] = []
    with pytest.raises(ValueError) as info:
        async for k in out:
            got.append(k)
            source.destroy(err)
    assert info.value is err and got == ["helloworld"]


# -- getters -------------------------------------------------------------------------------------


async def test_buffer_and_object_mode_getters() -> None:
    # node: readableBuffer -> [<Buffer 61 62>, <Buffer 63 64>] (after setEncoding: ['abcd']);
    # writableBuffer -> the writes behind the one in flight; *ObjectMode false
    r = Readable(read=noread)
    r.push(b"ab")
    r.push(b"cd")
    buf = r.readable_buffer
    assert buf == [b"ab", b"cd"] and r.readable_object_mode is False
    buf.clear()
    assert r.readable_length == 4 and r.readable_buffer == [b"ab", b"cd"]  # a copy
    r.set_encoding("utf8")
    assert r.readable_buffer == ["abcd"]
    r2 = Readable(read=noread)
    r2.push(b"ab")
    r2.read(1)
    assert r2.readable_buffer == [b"b"]

    w = Writable(write=lambda c, cb: None, high_water_mark=3)
    w.write(b"ab")
    w.write("cd", "latin1")
    w.write(b"ef", lambda *a: None)
    assert w.writable_buffer == [b"cd", b"ef"] and w.writable_object_mode is False
    w2 = Writable(write=lambda c, cb: None, decode_strings=False)
    w2.write("ab")
    w2.write("cd", "latin1")
    assert w2.writable_buffer == ["cd"]
    d = Duplex(read=noread)
    assert (d.readable_object_mode, d.writable_object_mode, d.readable_buffer,
            d.writable_buffer) == (False, False, [], [])


async def test_cancelled_iteration_ends_at_the_cancellation() -> None:
    """A task cancelled while ``async for`` waits for a chunk leaves the loop as a ``break``
    does (Node's for-await leaving by its ``finally``: the stream is
    destroyed with an ``AbortError``, its ``'readable'`` listener stays) at once, even while the
    cancelled task (its traceback holds the iterator) is still referenced."""
    r = Readable(read=lambda n: None)
    r.push(b"a")
    got = asyncio.Event()

    async def consume() -> None:
        async for _ in r.iterator():
            got.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(got.wait(), TIMEOUT)
    assert r.listener_count("readable") == 1
    task.cancel()
    await asyncio.wait({task}, timeout=TIMEOUT)
    assert task.cancelled()
    assert r.destroyed
    assert isinstance(r.errored, NodeError) and r.errored.code == "ABORT_ERR"
    del task


async def test_cancelled_iteration_of_an_errored_stream_keeps_it() -> None:
    """The same with the stream's error already delivered to the waiting iterator and
    ``auto_destroy=False``: Node's ``finally`` then removes its listener and leaves the stream
    alone (``readable_flowing`` back to ``None``), as a pipeline whose source fails does to an
    async generator stage reading it (nodetls cancels the stage: named case
    ``pipeline_stage_iterator_of_errored_source``)."""
    r = Readable(read=lambda n: None, auto_destroy=False)
    waiting = asyncio.Event()
    r.once("newListener", lambda *a: waiting.set())

    async def consume() -> None:
        async for _ in r.iterator():
            pass

    task = asyncio.create_task(consume())
    await asyncio.wait_for(waiting.wait(), TIMEOUT)
    await ticks()
    r.destroy(NodeError("boom", "EBOOM"))
    task.cancel()
    await asyncio.wait({task}, timeout=TIMEOUT)
    assert task.cancelled()
    assert r.listener_count("readable") == 0
    await ticks()
    assert r.readable_flowing is None
    del task
