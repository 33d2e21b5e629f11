"""Readable / Writable / Duplex: Node's state machines (flowing, backpressure, end/finish/close)."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from nodetls.errors import NodeError
from nodetls.events import MaxListenersExceededWarning
from nodetls.stream import Duplex, PassThrough, Readable, Writable


def noread(*_: Any) -> None:
    """A ``read`` hook that does nothing: the test pushes (Node's ``read() {}``; a
    Readable given no ``read`` errors with ERR_METHOD_NOT_IMPLEMENTED at its first read)."""


async def ticks(n: int = 5) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


def recorder(em: Any, *events: str) -> list[tuple[Any, ...]]:
    log: list[tuple[Any, ...]] = []
    for ev in events:
        em.on(ev, lambda *a, _ev=ev: log.append((_ev, *a)))
    return log


# -- Readable ----------------------------------------------------------------------------------


async def test_data_listener_starts_flowing_and_gets_buffered_data_then_end_once() -> None:
    r = Readable()
    r.push(b"a")
    r.push(b"b")
    r.push(None)
    log = recorder(r, "data", "end", "close")
    assert r.readable_flowing is True and r.is_paused() is False
    assert log == []  # nothing is emitted synchronously when the listener is added
    await ticks()
    # paused-mode buffer flows one chunk at a time, then 'end', then auto-destroy's 'close'
    assert log == [("data", b"a"), ("data", b"b"), ("end",), ("close",)]
    assert r.readable_ended and r.destroyed


async def test_end_waits_until_buffered_data_is_consumed() -> None:
    r = Readable()
    r.push(b"xyz")
    r.push(None)
    ended: list[bool] = []
    r.on("end", lambda: ended.append(True))
    await ticks()
    assert ended == [] and r.readable_length == 3  # no consumer yet: no 'end'
    assert r.read() == b"xyz"
    await ticks()
    assert ended == [True]


async def test_pause_buffers_and_resume_delivers_in_order() -> None:
    r = Readable(read=noread)
    got: list[bytes] = []
    r.on("data", got.append)
    await ticks()
    r.push(b"1")
    assert got == [b"1"]  # flowing, empty buffer: emitted at once
    r.pause()
    assert r.is_paused()
    r.push(b"2")
    r.push(b"3")
    assert got == [b"1"] and r.readable_length == 2
    r.resume()
    await ticks()
    assert got == [b"1", b"2", b"3"] and r.readable_length == 0


async def test_read_in_paused_mode_returns_whole_buffer_or_size() -> None:
    r = Readable(read=noread)
    for c in (b"ab", b"cd", b"ef"):
        r.push(c)
    assert r.read(3) == b"abc"
    assert r.read(1) == b"d"
    assert r.read() == b"ef"
    assert r.read() is None


async def test_push_returns_false_at_high_water_mark_and_read_calls_read_hook() -> None:
    calls: list[int] = []
    r = Readable(read=calls.append, high_water_mark=10)
    assert r.readable_high_water_mark == 10
    assert r.push(b"12345") is True
    assert r.push(b"67890") is False  # buffer reached the mark: stop pushing
    await ticks()
    calls.clear()
    r.read(8)  # buffer drops below the mark: the consumer wants more
    assert calls == [10]


async def test_set_encoding_decodes_multibyte_characters_split_across_chunks() -> None:
    r = Readable(read=noread)
    r.set_encoding("utf8")
    got: list[str] = []
    r.on("data", got.append)
    await ticks()
    data = "h€llo ✓".encode()
    euro = data.index("€".encode())
    for piece in (data[: euro + 1], data[euro + 1 : euro + 2], data[euro + 2 :]):
        r.push(piece)
    r.push(None)
    await ticks()
    assert "".join(got) == "h€llo ✓"
    assert all(isinstance(g, str) for g in got)
    assert "\ufffd" not in "".join(got)


async def test_set_encoding_converts_what_is_already_buffered() -> None:
    r = Readable(read=noread)
    data = "é".encode()
    r.push(data[:1])
    r.set_encoding("utf-8")
    r.push(data[1:])
    assert r.read() == "é"
    r2 = Readable(encoding="hex", read=noread)
    r2.push(b"\x01\xff")
    assert r2.read() == "01ff"


async def test_push_after_eof_is_an_error() -> None:
    r = Readable()
    r.push(None)
    errors = recorder(r, "error")
    r.push(b"late")
    await ticks()
    assert errors and errors[0][1].code == "ERR_STREAM_PUSH_AFTER_EOF"


async def test_end_after_unshift_onto_ended_stream_once_read() -> None:
    """Each endReadable() queues its own endReadableNT (Node): the first, queued by a read() of
    the ended, empty stream, finds the byte an unshift() put back and does nothing; the second,
    queued when read(100) took an earlier unshifted chunk, comes after the 'readable' whose
    read(1) takes that byte, and emits 'end' (stream seed 12105308; nodetls queued one)."""
    r = PassThrough()
    r.end()  # (the transform's final pushes the EOF at once)
    log: list[Any] = []
    r.on("readable", lambda: log.append(("readable", r.read(1))))
    r.on("end", lambda: log.append("end"))
    log.append(("read", r.read()))
    r.unshift(b"hi")
    log.append(("read100", r.read(100)))
    r.unshift(b"b")
    await ticks()
    assert log == [("read", None), ("read100", b"hi"), ("readable", b"b"), "end"]
    assert r.readable_ended


async def test_readable_listener_paused_mode() -> None:
    r = Readable(read=noread)
    got: list[Any] = []

    def on_readable() -> None:
        while (chunk := r.read()) is not None:
            got.append(chunk)

    r.on("readable", on_readable)
    r.push(b"x")
    r.push(b"y")
    await ticks()
    assert got == [b"xy"]


async def test_async_iteration_reads_until_end() -> None:
    r = Readable(read=noread)

    async def producer() -> None:
        for i in range(5):
            r.push(bytes([i]) * 10)
            await asyncio.sleep(0)
        r.push(None)

    asyncio.get_running_loop().create_task(producer())
    chunks = []
    async for chunk in r:
        chunks.append(chunk)
    assert b"".join(chunks) == b"".join(bytes([i]) * 10 for i in range(5))


async def test_async_iteration_break_destroys_and_error_raises() -> None:
    r = Readable(read=noread)
    r.push(b"a")
    async for _ in r:
        break
    await ticks()
    assert r.destroyed

    r2 = Readable(read=noread)
    asyncio.get_running_loop().call_later(0.01, r2.destroy, ConnectionResetError("peer reset"))
    with pytest.raises(ConnectionResetError):
        async for _ in r2:
            pass

    r3 = Readable(read=noread)
    asyncio.get_running_loop().call_later(0.01, r3.destroy)
    with pytest.raises(NodeError) as info:
        async for _ in r3:
            pass
    assert info.value.code == "ERR_STREAM_PREMATURE_CLOSE"


# -- Writable ----------------------------------------------------------------------------------


class SlowSink(Writable):
    """Completes each write on a later loop iteration."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.data = bytearray()

    def _write(self, chunk: Any, callback: Any) -> None:
        self.data += chunk
        asyncio.get_running_loop().call_soon(callback)


async def test_write_returns_false_at_high_water_mark_then_drain() -> None:
    w = SlowSink(high_water_mark=100)
    drains = recorder(w, "drain")
    assert w.write(b"x" * 60) is True
    assert w.write(b"x" * 60) is False  # 120 buffered >= 100
    assert w.writable_need_drain and w.writable_length == 120
    await asyncio.wait_for(w.drain(), 5)
    assert drains == [("drain",)] and w.writable_length == 0 and not w.writable_need_drain
    assert bytes(w.data) == b"x" * 120


async def test_synchronous_write_completes_before_returning() -> None:
    w = Writable(write=lambda chunk, cb: cb())
    assert w.write(b"x" * 20000) is True  # Node: length is back to 0 when write() returns
    assert w.writable_length == 0


async def test_end_final_prefinish_finish_close_order_and_callbacks() -> None:
    log: list[Any] = []
    w = Writable(write=lambda c, cb: (log.append(("_write", c)), cb()),
                 final=lambda cb: (log.append("_final"), cb()))
    for ev in ("prefinish", "finish", "close"):
        w.on(ev, lambda _ev=ev: log.append(_ev))
    w.write(b"a", lambda err: log.append(("write cb", err)))
    w.end(b"b", lambda err: log.append(("end cb", err)))
    assert w.writable_ended and not w.writable_finished
    log.append("sync")
    await ticks()
    assert log == [("_write", b"a"), ("_write", b"b"), "_final", "prefinish", "sync",
                   ("write cb", None), ("end cb", None), "finish", "close"]
    assert w.writable_finished and w.destroyed


async def test_write_after_end_errors_via_callback_and_error_event() -> None:
    w = Writable(write=lambda c, cb: cb())
    log = recorder(w, "error", "close")
    w.end()
    cb_errors: list[Any] = []
    assert w.write(b"late", cb_errors.append) is False
    await ticks()
    assert cb_errors[0].code == "ERR_STREAM_WRITE_AFTER_END"
    assert [e[0] for e in log] == ["error", "close"]
    assert log[0][1].code == "ERR_STREAM_WRITE_AFTER_END"


async def test_write_rejects_non_bytes_and_none() -> None:
    w = Writable(write=lambda c, cb: cb())
    with pytest.raises(TypeError):
        w.write(123)  # type: ignore[arg-type]
    with pytest.raises(TypeError) as info:
        w.write(None)  # type: ignore[arg-type]
    assert info.value.code == "ERR_STREAM_NULL_VALUES"  # type: ignore[attr-defined]


async def test_str_writes_are_encoded() -> None:
    got: list[bytes] = []
    w = Writable(write=lambda c, cb: (got.append(c), cb()))
    w.write("é")
    w.write("00ff", "hex")
    w.write("aGk=", encoding="base64")
    assert got == ["é".encode(), b"\x00\xff", b"hi"]


async def test_cork_batches_into_writev() -> None:
    batches: list[list[bytes]] = []
    w = Writable(write=lambda c, cb: cb(), writev=lambda chunks, cb: (batches.append(chunks), cb()))
    w.cork()
    w.write(b"a")
    w.write(b"b")
    w.write(b"c")
    assert batches == []
    w.uncork()
    assert batches == [[b"a", b"b", b"c"]]


async def test_destroy_emits_error_then_close_later_and_is_idempotent() -> None:
    seen: list[Any] = []

    def _destroy(err: Any, cb: Any) -> None:
        seen.append(("_destroy", err))
        cb(err)

    w = Writable(write=lambda c, cb: cb(), destroy=_destroy)
    log = recorder(w, "error", "close")
    err = OSError("broken")
    w.destroy(err)
    w.destroy(ValueError("second"))
    assert w.destroyed and w.errored is err
    assert log == []  # next loop iteration, as Node's nextTick
    await ticks()
    assert seen == [("_destroy", err)]
    assert log == [("error", err), ("close",)]
    w.destroy()
    await ticks()
    assert len(log) == 2


async def test_destroy_fails_buffered_writes_once_the_write_in_flight_completes() -> None:
    def slow_write(chunk: bytes, cb: Any) -> None:
        asyncio.get_running_loop().call_later(0.01, cb)

    w = Writable(write=slow_write)
    results: list[Any] = []
    w.write(b"1", lambda err: results.append(("1", err)))
    w.write(b"2", lambda err: results.append(("2", err and err.code)))
    w.destroy()
    for _ in range(50):
        if len(results) == 2:
            break
        await asyncio.sleep(0.005)
    assert results == [("1", None), ("2", "ERR_STREAM_DESTROYED")]  # as Node


async def test_listener_exception_destroys_the_stream() -> None:
    r = Readable(read=noread)
    boom = RuntimeError("listener")

    def bad(_: bytes) -> None:
        raise boom

    r.on("data", bad)
    log = recorder(r, "error", "close")
    await ticks()
    r.push(b"x")
    await ticks()
    assert r.destroyed and log == [("error", boom), ("close",)]


# -- pipe --------------------------------------------------------------------------------------


async def test_pipe_applies_backpressure_and_delivers_everything() -> None:
    src = Readable(high_water_mark=1024)
    dst = SlowSink(high_water_mark=1024)
    pauses = recorder(src, "pause")
    events = recorder(dst, "pipe", "finish")
    src.pipe(dst)
    payload = [bytes([i % 256]) * 512 for i in range(64)]
    for p in payload:
        src.push(p)
    src.push(None)
    await asyncio.wait_for(dst.wait_closed(), 5)
    assert bytes(dst.data) == b"".join(payload)
    assert pauses, "the source was never paused: no backpressure"
    assert [e[0] for e in events] == ["pipe", "finish"]


async def test_pipe_end_false_and_unpipe() -> None:
    src = Readable(read=noread)
    dst = SlowSink()
    src.pipe(dst, end=False)
    src.push(b"one")
    await ticks()
    src.unpipe(dst)
    src.push(b"two")
    src.push(None)
    await ticks()
    assert bytes(dst.data) == b"one" and not dst.writable_ended
    assert src.is_paused()


_PIPE_EVENTS = ("data", "end", "error", "close", "finish", "unpipe", "drain")


def _counts(em: Any) -> dict[str, int]:
    return {ev: em.listener_count(ev) for ev in _PIPE_EVENTS}


def _echo_duplex() -> tuple[Duplex, list[bytes]]:
    chunks: list[bytes] = []
    d = Duplex(read=lambda *_: None, write=lambda c, *a: (chunks.append(c), a[-1]()),
               final=lambda *a: a[-1]())
    return d, chunks


async def _echo_one_chunk_until_finish(d: Duplex, chunk: bytes) -> None:
    """Push ``chunk`` and the end into ``d`` (piped to itself); wait for its 'finish', then a
    few ticks (the pipe's cleanup)."""
    finished = asyncio.get_running_loop().create_future()
    d.on("finish", lambda: finished.set_result(None))
    d.push(chunk)
    d.push(None)
    await asyncio.wait_for(finished, 5)
    await ticks()


async def test_pipe_to_itself_listener_bookkeeping_as_node() -> None:
    # Node v20 (Duplex piped to itself, as the tls docs' echo server): the listeners pipe()
    # adds, and what is left once the pipe is cleaned up at 'finish' (the fast path: the pipe's
    # own 'unpipe' listener is the only one, so no 'unpipe' emit is made).
    d, chunks = _echo_duplex()
    d.on("error", lambda _err: None)
    assert _counts(d) == {"data": 0, "end": 0, "error": 1, "close": 0, "finish": 0, "unpipe": 0,
                          "drain": 0}
    d.pipe(d)
    assert _counts(d) == {"data": 1, "end": 1, "error": 2, "close": 1, "finish": 1, "unpipe": 1,
                          "drain": 0}
    await _echo_one_chunk_until_finish(d, b"x")
    assert chunks == [b"x"]
    assert _counts(d) == {"data": 0, "end": 0, "error": 1, "close": 0, "finish": 1, "unpipe": 0,
                          "drain": 0}


async def test_pipe_to_itself_closed_after_end_before_finish_as_node() -> None:
    # Node v20: a Duplex piped to itself, destroyed after its 'end' while its _final has not
    # called back: the pipe's 'close' listener cleans up (the fast path: nobody sees the
    # removals); what is left is the user's.
    d = Duplex(read=lambda *_: None, write=lambda c, *a: a[-1](), final=lambda *a: None)
    d.on("error", lambda _err: None)
    d.pipe(d)
    loop = asyncio.get_running_loop()
    before = loop.create_future()
    closed = loop.create_future()
    d.on("end", lambda: loop.call_soon(lambda: (before.set_result(_counts(d)), d.destroy())))
    d.on("close", lambda *_: loop.call_soon(lambda: closed.set_result(_counts(d))))
    d.push(b"x")
    d.push(None)
    assert await asyncio.wait_for(before, 5) == {
        "data": 1, "end": 1, "error": 2, "close": 2, "finish": 1, "unpipe": 1, "drain": 0}
    assert await asyncio.wait_for(closed, 5) == {
        "data": 0, "end": 1, "error": 1, "close": 1, "finish": 0, "unpipe": 0, "drain": 0}


class _HookedDuplex(Duplex):
    """Records the listener-removal hook's calls (what Readable's 'data' hook does stays)."""

    hooked: list[str]

    def _listener_removed(self, event: str) -> None:
        self.hooked.append(f"{event}:{self.listener_count(event)}")
        super()._listener_removed(event)


async def test_pipe_to_itself_cleanup_of_an_echo_connection_as_node() -> None:
    # Node v20, the tls docs' echo server's connection: only 'error' listeners of the user's
    # (none, one, two) before pipe(itself); at 'finish' (and, destroyed after 'end' before
    # 'finish', at 'close') the pipe removes all of its listeners, the user's 'error' listeners
    # stay, no 'data' listener is left (the stream no longer counts one: the hook saw the
    # removal last).
    loop = asyncio.get_running_loop()
    for close_first, n_user in itertools.product((False, True), (0, 1, 2)):
        done = loop.create_future()

        def final(cb: Any, _done: Any = done, _close_first: bool = close_first) -> None:
            if not _close_first:
                cb()
            loop.call_soon(_done.set_result, None)

        d = _HookedDuplex(read=lambda *_: None, write=lambda c, *a: a[-1](), final=final)
        d.hooked = []

        user = [lambda _err: None for _ in range(n_user)]
        for fn in user:
            d.on("error", fn)
        d.pipe(d)
        d.push(b"x")
        d.push(None)
        await asyncio.wait_for(done, 5)
        if close_first:
            d.destroy()
        for _ in range(50):
            if not d.listener_count("data"):
                break
            await ticks(1)
        assert _counts(d) == {"data": 0, "end": 0, "error": n_user, "close": 0, "finish": 0,
                              "unpipe": 0, "drain": 0}
        assert d.listeners("error") == user
        assert d.hooked == ["data:0"] and not d._r_data_listening


async def test_unpipe_event_reaches_a_user_listener_and_cleans_up_as_node() -> None:
    # Node v20: a user's 'unpipe' listener sees the event (src === the stream) and the pipe's
    # listeners are removed all the same; a -> b unpiped by hand leaves no listener on either.
    d, _ = _echo_duplex()
    seen: list[bool] = []
    d.on("unpipe", lambda src, *_: seen.append(src is d))
    d.pipe(d)
    await _echo_one_chunk_until_finish(d, b"y")
    assert seen == [True]
    assert _counts(d) == {"data": 0, "end": 0, "error": 0, "close": 0, "finish": 1, "unpipe": 1,
                          "drain": 0}
    a, _ = _echo_duplex()
    b, _ = _echo_duplex()
    a.pipe(b)
    assert _counts(a) == {"data": 1, "end": 1, "error": 0, "close": 0, "finish": 0, "unpipe": 0,
                          "drain": 0}
    assert _counts(b) == {"data": 0, "end": 0, "error": 1, "close": 1, "finish": 1, "unpipe": 1,
                          "drain": 0}
    a.unpipe(b)
    assert _counts(a) == dict.fromkeys(_PIPE_EVENTS, 0)
    assert _counts(b) == dict.fromkeys(_PIPE_EVENTS, 0)
    assert a.readable_flowing is False


# -- Duplex ------------------------------------------------------------------------------------


async def test_duplex_allow_half_open_false_ends_writable_side_on_end() -> None:
    d = Duplex(write=lambda c, cb: cb(), allow_half_open=False)
    log = recorder(d, "end", "finish", "close")
    d.resume()
    d.push(None)
    await ticks(10)
    assert [e[0] for e in log] == ["end", "finish", "close"]


async def test_duplex_allow_half_open_true_keeps_writable_side() -> None:
    d = Duplex(write=lambda c, cb: cb())
    assert d.allow_half_open is True
    log = recorder(d, "end", "finish", "close")
    d.resume()
    d.push(None)
    await ticks(10)
    assert [e[0] for e in log] == ["end"] and d.writable
    d.end()
    await ticks(10)
    assert [e[0] for e in log] == ["end", "finish", "close"]


async def test_options_accept_node_names_and_reject_unknown() -> None:
    d = Duplex({"readableHighWaterMark": 5, "writableHighWaterMark": 7, "allowHalfOpen": False})
    assert (d.readable_high_water_mark, d.writable_high_water_mark) == (5, 7)
    assert d.allow_half_open is False
    with pytest.raises(TypeError) as info:
        Duplex(high_watermark=3)
    assert "high_water_mark" in str(info.value)


async def test_decode_strings_false_keeps_buffered_strings_as_str() -> None:
    # Node: new Writable({decodeStrings: false, write}) gets 'ab' then 'cd' (the second buffered
    # while the first is pending) as strings; bytes(str) used to raise on the buffered one.
    got: list[Any] = []
    done = asyncio.get_running_loop().create_future()

    def write(chunk: Any, callback: Any) -> None:
        got.append(chunk)
        if len(got) == 2:
            done.set_result(None)
        asyncio.get_running_loop().call_soon(callback)

    w = Writable(decode_strings=False, write=write)
    w.write("ab")
    w.write("cd")
    await asyncio.wait_for(done, 5)
    assert got == ["ab", "cd"]


# -- 'removeListener' on streams, pipe()'s listeners in Node's order --------------------------


async def test_a_stream_removes_an_events_only_listener_without_remove_listener() -> None:
    # node v20 (streams preset their _events: kShapeMode): removing an event's only listener
    # emits no 'removeListener'; removing one of several does (a once wrapper reports itself).
    from tests.events.test_event_emitter import _remove_listener_probe

    expected = [("y", "g"), ("w", "wrap(f)"), ("v", "wrap(f)"), ("a", "g")]
    for stream in (Readable(), Writable(write=lambda c, cb: cb()), Duplex(write=lambda c, cb: cb())):
        assert _remove_listener_probe(stream) == expected, type(stream).__name__


def _listener_name(fn: Any) -> str:
    inner = getattr(fn, "listener", None)
    name = getattr(inner or fn, "__name__", "?")
    name = {"end_fn": "onend"}.get(name, name.replace("on_", "on"))
    return ("once:" if inner is not None else "") + name


def _raw(em: Any) -> dict[str, list[str]]:
    got = {ev: [_listener_name(fn) for fn in em.raw_listeners(ev)]
           for ev in ("end", "data", "unpipe", "error", "close", "finish")}
    return {ev: names for ev, names in got.items() if names}


def _record(event: str, **emitters: Any) -> list[str]:
    """``'tag:event:listener'`` for each ``event`` ('newListener' / 'removeListener') of each
    ``tag=emitter``."""
    log: list[str] = []
    for tag, em in emitters.items():
        em.on(event, lambda ev, fn, _tag=tag: log.append(f"{_tag}:{ev}:{_listener_name(fn)}"))
    return log


async def test_pipe_adds_and_removes_its_listeners_in_nodes_order() -> None:
    # node v20, a Readable piped into a Writable that both had a listener for each event:
    # 'newListener' order, rawListeners, and unpipe's 'removeListener' order.
    def user_a(*_: Any) -> None:
        pass

    src, dest = Readable(read=noread), Writable(write=lambda c, cb: cb())
    for ev in ("end", "data", "unpipe", "error", "close", "finish"):
        src.on(ev, user_a)
        dest.on(ev, user_a)
    added = _record("newListener", src=src, dest=dest)
    src.pipe(dest)
    assert added == ["src:end:onend", "dest:unpipe:onunpipe", "src:data:ondata",
                     "dest:error:onerror", "dest:close:onclose", "dest:finish:onfinish"]
    assert _raw(src) == {"end": ["user_a", "once:onend"], "data": ["user_a", "ondata"],
                         "unpipe": ["user_a"], "error": ["user_a"], "close": ["user_a"],
                         "finish": ["user_a"]}
    assert _raw(dest) == {"end": ["user_a"], "data": ["user_a"],
                          "unpipe": ["user_a", "onunpipe"], "error": ["onerror", "user_a"],
                          "close": ["user_a", "once:onclose"],
                          "finish": ["user_a", "once:onfinish"]}
    removed = _record("removeListener", src=src, dest=dest)
    src.unpipe(dest)
    assert removed == ["dest:close:onclose", "dest:finish:onfinish", "dest:error:onerror",
                       "dest:unpipe:onunpipe", "src:end:onend", "src:data:ondata"]
    # Piped to itself: the same order; each listener is its event's only one, so its removal
    # emits no 'removeListener'.
    d, _ = _echo_duplex()
    added = _record("newListener", d=d)
    d.pipe(d)
    assert added == ["d:end:onend", "d:unpipe:onunpipe", "d:data:ondata", "d:error:onerror",
                     "d:close:onclose", "d:finish:onfinish"]
    removed = _record("removeListener", d=d)
    d.unpipe(d)
    assert removed == [] and _raw(d) == {}


async def test_pipe_to_itself_among_other_listeners_as_node() -> None:
    # node v20: a Duplex with a listener for each event piped to itself (nobody listening to
    # 'newListener'): the pipe's are added after them, its 'error' listener before; an eleventh
    # 'error' listener is warned about (MaxListenersExceededWarning, "11 error listeners").
    def user_a(*_: Any) -> None:
        pass

    d, _ = _echo_duplex()
    for ev in ("end", "data", "unpipe", "error", "close", "finish"):
        d.on(ev, user_a)
    d.pipe(d)
    assert _raw(d) == {"end": ["user_a", "once:onend"], "data": ["user_a", "ondata"],
                       "unpipe": ["user_a", "onunpipe"], "error": ["onerror", "user_a"],
                       "close": ["user_a", "once:onclose"], "finish": ["user_a", "once:onfinish"]}
    assert not d.is_paused()
    e, _ = _echo_duplex()
    for _i in range(10):
        e.on("error", user_a)
    with pytest.warns(MaxListenersExceededWarning, match="11 error listeners"):
        e.pipe(e)
    assert _raw(e)["error"] == ["onerror"] + ["user_a"] * 10
    f, _ = _echo_duplex()
    for _i in range(10):
        f.on("data", user_a)
    with pytest.warns(MaxListenersExceededWarning, match="11 data listeners"):
        f.pipe(f)
    assert _raw(f)["data"] == ["user_a"] * 10 + ["ondata"] and _raw(f)["error"] == ["onerror"]


def _observed_duplex(tag: str, log: list[str]) -> Duplex:
    def write(chunk: bytes, callback: Any) -> None:
        log.append(f"{tag}:write:{chunk.decode()}")
        callback()

    d = Duplex(read=lambda *_: None, write=write, final=lambda cb: cb())
    d.on("removeListener", lambda ev, fn: log.append(f"{tag}:rm:{ev}:{_listener_name(fn)}"))
    return d


async def test_pipe_end_finish_and_close_chains_as_node() -> None:
    # node v20, the same scenarios: what 'finish' / 'close' on the destination remove and in
    # which order, around the user's listeners, 'pause' and 'unpipe' events.
    def noop(*_: Any) -> None:
        pass

    async def destroy(stream: Duplex) -> None:
        """``stream.destroy()``, then wait for its 'close' (without a listener: counts matter)."""
        done = asyncio.get_running_loop().create_future()
        stream.destroy(None, lambda *_: done.set_result(None))
        await asyncio.wait_for(done, 5)
        await ticks(10)

    async def settle(em: Any, event: str) -> None:
        """Wait for ``em``'s ``event`` (listened to last), then a few ticks."""
        done = asyncio.get_running_loop().create_future()
        em.on(event, lambda *_: done.done() or done.set_result(None))
        await asyncio.wait_for(done, 5)
        await ticks(10)

    log: list[str] = []
    d = _observed_duplex("d", log)
    d.on("close", noop).on("error", noop).on("finish", lambda: log.append("finish"))
    d.on("pause", lambda: log.append("pause")).on("unpipe", lambda *_: log.append("unpipe-event"))
    d.pipe(d)
    d.push(b"x")
    d.push(None)
    await settle(d, "close")
    assert log == ["d:write:x", "finish", "d:rm:finish:once:onfinish", "d:rm:close:onclose",
                   "pause", "unpipe-event", "d:rm:error:onerror", "d:rm:unpipe:onunpipe"]

    log.clear()
    d = _observed_duplex("d", log)
    finished = asyncio.get_running_loop().create_future()

    def on_finish() -> None:
        log.append(f"finish:{d.listener_count('close')}{d.listener_count('data')}")
        finished.set_result(None)

    d.on("close", noop).on("error", noop).on("finish", on_finish)
    d.pipe(d)
    d.push(b"x")
    d.push(None)
    await asyncio.wait_for(finished, 5)
    await ticks(10)
    assert log == ["d:write:x", "finish:21", "d:rm:finish:once:onfinish", "d:rm:close:onclose",
                   "d:rm:error:onerror"]

    log.clear()
    a, b = _observed_duplex("a", log), _observed_duplex("b", log)
    b.on("close", lambda: log.append(f"close:{b.listener_count('finish')}"
                                     f"{a.listener_count('data')} {a.readable_flowing}"))
    b.on("finish", noop)
    a.pipe(b)
    a.push(b"x")
    await ticks(10)
    await destroy(b)
    assert log == ["b:write:x", "close:21 True", "b:rm:close:once:onclose", "b:rm:finish:onfinish"]
    assert a.readable_flowing is False and _raw(a) == {}
    assert _raw(b) == {"close": ["<lambda>"], "finish": ["noop"]}

    log.clear()
    a, b = _observed_duplex("a", log), _observed_duplex("b", log)
    a.on("pause", lambda: log.append(f"pause:{b.listener_count('close')}"
                                     f"{b.listener_count('finish')}"))
    a.pipe(b)
    a.push(b"x")
    await ticks(10)
    await destroy(b)
    assert log == ["b:write:x", "pause:00"]

    log.clear()
    d = _observed_duplex("d", log)
    d.pipe(d, end=False)
    d.push(b"x")
    d.push(None)
    await ticks(10)
    assert d.readable_ended
    assert log == ["d:write:x"] and not d.writable_ended and _raw(d) == {}


async def test_destroy_calls_back_the_buffered_writes_with_the_buffer_as_it_was() -> None:
    """Node's errorBuffer (node v20.20.2): each buffered write's length is taken off and its
    callback called while ``writableBuffer`` still holds every chunk; the buffer is emptied
    afterwards."""
    first: list[Any] = []
    w = Writable({"write": lambda *a: first.append(a[-1])})
    w.on("error", lambda _e: None)
    log: list[tuple[str, Any, int, int]] = []
    w.write(b"aaaaa")  # (in flight: its callback is held below)
    w.write(b"bbb", lambda e=None: log.append(("cb2", getattr(e, "code", None),
                                               w.writable_length, len(w.writable_buffer))))
    w.write(b"cc", lambda e=None: log.append(("cb3", getattr(e, "code", None),
                                              w.writable_length, len(w.writable_buffer))))
    w.destroy()
    first[0]()  # the write in flight completes after the destroy
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert log == [("cb2", "ERR_STREAM_DESTROYED", 2, 2), ("cb3", "ERR_STREAM_DESTROYED", 0, 2)]
    assert w.writable_buffer == [] and w.writable_length == 0
