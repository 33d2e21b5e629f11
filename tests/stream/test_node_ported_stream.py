"""Scenarios from Node's own stream tests, ported to ``nodetls.stream`` (Readable, Writable, Duplex,
``pipe``). Each expectation is what node v20 printed for the same scenario (checked by running it).

Node tests ported (``test/parallel/test-stream*-<name>.js``): stream-destroy-event-order,
stream-writable-destroy, stream-duplex-destroy, stream-auto-destroy, stream-error-once,
stream-readable-error-end, stream-readable-end-destroyed, stream-readable-destroy, stream-end-paused,
stream-readable-unshift, stream-unshift-read-race, stream-readable-event,
stream-readable-readable-then-resume, stream-readable-needReadable, stream-readable-ended,
stream-readable-pause-and-resume, stream-ispaused, stream-readable-didRead,
stream-readable-setEncoding-null, stream-duplex-end, stream-pipe-unpipe-streams,
stream-pipe-same-destination-twice, stream-pipe-needDrain, stream-pipe-after-end, stream-pipe-event,
stream-pipe-cleanup-pause, stream-pipe-error-handling, stream-pipe-error-unhandled,
stream-write-destroy, stream-writev, stream-writable-write-cb-error, stream-writable-end-cb-error,
stream-writable-final-async, stream-writable-finished, stream-writable-ended-state,
stream-writable-needdrain-state, stream2-basic, stream2-writable, stream2-finish-pipe,
stream2-pipe-error-handling, stream3-cork-uncork, stream3-cork-end.
"""

from __future__ import annotations

import asyncio
from typing import Any

from nodetls import net
from nodetls.stream import Duplex, Readable, Writable

TIMEOUT = 5

#: Loop turns an absence check gives an event that must not come (a late extra) to show up, once
#: every event that should come has come. Turns, not seconds (as ABSENCE_WINDOW is in the net
#: tests): these streams are in memory, no I/O and no timers, so all they can still do is what
#: they have queued with loop.call_soon, which runs in these turns whatever the machine's load.
ABSENCE_TICKS = 10


async def ticks(n: int = 10) -> None:
    """Let ``n`` turns of the event loop run: Node's process.nextTick queue (nodetls.stream
    defers with loop.call_soon). For the scenario's own nextTick/setTimeout steps only; nothing
    here waits for an event by counting turns."""
    for _ in range(n):
        await asyncio.sleep(0)


async def absence_window() -> None:
    """Give a late extra its chance to show (see ABSENCE_TICKS)."""
    await ticks(ABSENCE_TICKS)


class Log(list[Any]):
    """A list of what happened; ``await log.reach(entry, n)`` waits (bounded) until ``entry`` has
    been appended ``n`` times."""

    def __init__(self) -> None:
        super().__init__()
        self._waiting: list[tuple[Any, int, asyncio.Future[None]]] = []

    def append(self, entry: Any) -> None:
        super().append(entry)
        for want, n, fut in self._waiting:
            if want == entry and self.count(want) >= n and not fut.done():
                fut.set_result(None)

    async def reach(self, entry: Any, n: int = 1) -> None:
        if self.count(entry) < n:
            fut = asyncio.get_running_loop().create_future()
            self._waiting.append((entry, n, fut))
            await asyncio.wait_for(fut, TIMEOUT)


def when(em: Any, event: str) -> asyncio.Future[Any]:
    """A bounded future for ``em``'s next ``event`` (listener added now)."""
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    em.once(event, lambda *a: fut.done() or fut.set_result(a))
    return asyncio.ensure_future(asyncio.wait_for(fut, TIMEOUT))


def _desc(args: tuple[Any, ...]) -> str:
    if args and isinstance(args[0], BaseException):
        code = getattr(args[0], "code", None)
        return ":" + (code if isinstance(code, str) and code.startswith("ERR_") else str(args[0]))
    return ""


def rec(em: Any, log: list[str], *events: str, tag: str = "") -> None:
    """Append ``'<tag><event>[:<code or message>]'`` to ``log`` at each of ``events``."""
    for ev in events:
        em.on(ev, lambda *a, _ev=ev: log.append(tag + _ev + _desc(a)))


async def closed(stream: Any) -> None:
    """Wait (bounded) for the stream's ``'close'``, then an absence window: nothing may follow
    it but what a test waits for by itself (a callback Node calls after 'close')."""
    if not stream.closed or not stream.destroyed:
        fut = asyncio.get_running_loop().create_future()
        stream.on("close", lambda *_: fut.done() or fut.set_result(None))
        await asyncio.wait_for(fut, TIMEOUT)
    await absence_window()


def noread(*_: Any) -> None:
    pass


def okwrite(_chunk: Any, cb: Any) -> None:
    cb()


def later_write(_chunk: Any, cb: Any) -> None:
    asyncio.get_running_loop().call_soon(cb)


# -- destroy: 'error' then 'close', never 'end'/'finish' ----------------------------------------


async def test_readable_destroy_with_error_emits_error_then_close_never_end() -> None:
    # test-stream-destroy-event-order: 'error' comes before 'close'; destroyed (and aborted) at once
    log: list[str] = []
    r = Readable(read=noread)
    rec(r, log, "error", "close", "end")
    r.destroy(Exception("kaboom"))
    assert r.destroyed and r.readable_aborted and log == []
    await closed(r)
    assert log == ["error:kaboom", "close"]


async def test_writable_destroy_without_error_closes_without_finish() -> None:
    # test-stream-writable-destroy: destroy() -> 'close' only
    log: list[str] = []
    w = Writable(write=okwrite)
    rec(w, log, "error", "close", "finish")
    w.destroy()
    assert w.destroyed
    await closed(w)
    assert log == ["close"]


async def test_destroy_with_error_inside_write_fails_end_callback() -> None:
    # test-stream-writable-destroy: this.destroy(err) inside _write, then cb(): 'error', 'close',
    # then end()'s callback gets ERR_STREAM_DESTROYED ("Cannot call end after ..."), no 'finish'
    log = Log()

    def write(_chunk: Any, cb: Any) -> None:
        w.destroy(Exception("asd"))
        cb()

    w = Writable(write=write)
    rec(w, log, "error", "close", "finish")
    w.end("asd", lambda err: log.append(f"endcb:{err.code}:{err}"))
    assert w.destroyed
    await closed(w)
    await log.reach("endcb:ERR_STREAM_DESTROYED:Cannot call end after a stream was destroyed")
    assert log == ["error:asd", "close",
                   "endcb:ERR_STREAM_DESTROYED:Cannot call end after a stream was destroyed"]


async def test_custom_destroy_hook_decides_the_error() -> None:
    # test-stream-writable-destroy / test-stream-duplex-destroy: a destroy hook that calls back
    # without the error swallows it; one that calls back with an error (destroy() had none)
    # makes it the 'error'
    log: list[str] = []

    def swallow(err: Any, cb: Any) -> None:
        log.append(f"_destroy:{err}")
        cb()

    w = Writable(write=okwrite, destroy=swallow)
    rec(w, log, "error", "close", "finish")
    w.destroy(Exception("kaboom"))
    await closed(w)
    assert log == ["_destroy:kaboom", "close"]

    log.clear()

    def replace(err: Any, cb: Any) -> None:
        log.append(f"_destroy:{err}")
        cb(Exception("from _destroy"))

    d = Duplex(read=noread, write=okwrite, destroy=replace)
    rec(d, log, "error", "close", "finish", "end")
    d.destroy()
    await closed(d)
    assert log == ["_destroy:None", "error:from _destroy", "close"]
    assert str(d.errored) == "from _destroy"


async def test_duplex_destroy_with_error_no_end_no_finish_and_not_readable_or_writable() -> None:
    # test-stream-duplex-destroy
    log: list[str] = []
    d = Duplex(read=noread, write=okwrite)
    rec(d, log, "error", "close", "end", "finish")
    d.resume()
    d.destroy(Exception("kaboom"))
    assert (d.destroyed, d.readable, d.writable) == (True, False, False)
    await closed(d)
    assert log == ["error:kaboom", "close"]


async def test_duplex_destroy_hook_that_ends_both_sides_later_emits_neither() -> None:
    # test-stream-duplex-destroy: push(None) and end() from inside an async _destroy: no
    # 'end', no 'finish', just 'close'
    log: list[str] = []
    loop = asyncio.get_running_loop()

    def destroy(_err: Any, cb: Any) -> None:
        loop.call_soon(lambda: (d.push(None), d.end(), cb()))

    d = Duplex(read=noread, write=okwrite, destroy=destroy)
    d.resume()
    rec(d, log, "error", "close", "finish", "end")
    d.destroy()
    await closed(d)
    assert log == ["close"]


async def test_write_after_destroy_fails_its_callback_without_error_event() -> None:
    # test-stream-writable-destroy / test-stream-duplex-destroy: a write after destroy() (or a
    # corked one pending at destroy()) gets ERR_STREAM_DESTROYED in its callback; no 'error'
    log = Log()
    w = Writable(write=okwrite)
    w.destroy()
    rec(w, log, "error", "close")
    ret = w.write("asd", lambda err: log.append(f"cb:{err.code}:{err}"))
    assert ret is False
    await closed(w)
    await log.reach("cb:ERR_STREAM_DESTROYED:Cannot call write after a stream was destroyed")
    assert log == ["close", "cb:ERR_STREAM_DESTROYED:Cannot call write after a stream was destroyed"]

    log.clear()
    d = Duplex(read=noread, write=okwrite)
    rec(d, log, "error", "close", "finish", "end")
    d.cork()
    d.write("foo", lambda err: log.append("cb" + _desc((err,))))
    d.destroy()
    await closed(d)
    assert log == ["cb:ERR_STREAM_DESTROYED", "close"]


async def test_end_callback_after_finish_or_error_then_destroy() -> None:
    # test-stream-writable-destroy: end(cb) after 'finish' + destroy() -> ERR_STREAM_ALREADY_FINISHED;
    # after 'error' + destroy() -> ERR_STREAM_DESTROYED; both called back asynchronously
    log = Log()
    w = Writable(write=okwrite)

    def on_finish() -> None:
        w.destroy()
        ticked = [False]
        w.end(lambda err: log.append(f"endcb:{err.code}:{ticked[0]}"))
        ticked[0] = True

    w.on("finish", on_finish)
    w.end()
    w2 = Writable(write=lambda c, cb: cb(Exception("asd")))

    def on_error(e: BaseException) -> None:
        log.append(f"error:{e}")
        w2.destroy()
        ticked = [False]
        w2.end(lambda err: log.append(f"endcb2:{err.code}:{ticked[0]}"))
        ticked[0] = True

    w2.on("error", on_error)
    w2.write("asd")
    await closed(w)
    await closed(w2)
    await log.reach("endcb:ERR_STREAM_ALREADY_FINISHED:True")
    await log.reach("endcb2:ERR_STREAM_DESTROYED:True")
    assert log == ["endcb:ERR_STREAM_ALREADY_FINISHED:True", "error:asd",
                   "endcb2:ERR_STREAM_DESTROYED:True"]


async def test_destroy_with_error_while_final_is_pending_fails_end_callback() -> None:
    # test-stream-writable-destroy (nodejs/node#39356): _final never calls back; destroy(err)
    # -> end()'s callback gets err, then 'error', then 'close'
    log: list[str] = []
    w = Writable(final=lambda cb: None)
    err = Exception("oh no")
    w.end(lambda e: log.append(f"endcb:{e is err}"))
    w.on("error", lambda e: log.append(f"error:{e is err}"))
    w.on("close", lambda: log.append("close"))
    w.destroy(err)
    await closed(w)
    assert log == ["endcb:True", "error:True", "close"]


async def test_destroy_again_calls_its_callback_at_once_and_emits_nothing() -> None:
    # test-stream-writable-destroy ("Destroy and destroy callback")
    log: list[str] = []
    w = Writable(write=okwrite)
    w.destroy()
    await closed(w)
    w.destroy(Exception("ignored"), lambda err: log.append(f"cb:{err}"))
    log.append("after")
    w.on("error", lambda e: log.append("error"))
    # Absence window: the callback was called at once; no 'error' (nor a second call) follows.
    await absence_window()
    assert log == ["cb:None", "after"]


# -- Writable: callbacks, errors, end, cork ------------------------------------------------------


async def test_write_callback_called_twice_is_err_multiple_callback() -> None:
    # test-stream-writable-destroy (autoDestroy: false, cb(); cb())
    log: list[str] = []
    w = Writable(auto_destroy=False, write=lambda c, cb: (cb(), cb()))
    w.on("error", lambda e: log.append(f"error:{e.code}:{e}:{w.errored is e}"))
    errored = when(w, "error")
    w.write("asd")
    await errored
    # Absence window: one 'error', and no destroy (autoDestroy: false).
    await absence_window()
    assert log == ["error:ERR_MULTIPLE_CALLBACK:Callback called multiple times:True"]
    assert not w.destroyed


async def test_write_callback_error_sync_and_async() -> None:
    # test-stream-writable-write-cb-error: the failing write's callback, the buffered writes'
    # and end()'s callbacks get the error before the one 'error' event, then 'close'; no 'finish'
    log: list[str] = []
    w = Writable(write=lambda c, cb: cb(Exception("write failed")))
    rec(w, log, "error", "close", "finish")
    ret = w.write("a", lambda err: log.append(f"wcb:{err}"))
    log.append(f"ret:{ret}:{w.destroyed}")
    w.write("b", lambda err: log.append(f"wcb2:{err}"))
    await closed(w)
    assert log == ["ret:False:False", "wcb:write failed", "wcb2:write failed", "error:write failed",
                   "close"]

    log.clear()
    loop = asyncio.get_running_loop()
    w = Writable(write=lambda c, cb: loop.call_soon(cb, Exception("write failed")))
    rec(w, log, "error", "close", "finish")
    w.write("a", lambda err: log.append(f"wcb:{err}"))
    w.write("b", lambda err: log.append(f"wcb2:{err}"))
    w.end(lambda err: log.append(f"endcb:{err}"))
    await closed(w)
    assert log == ["wcb:write failed", "wcb2:write failed", "endcb:write failed",
                   "error:write failed", "close"]


async def test_errored_writable_without_auto_destroy_buffers_and_fails_end() -> None:
    # test-stream-writable-write-cb-error / -end-cb-error (autoDestroy: false): after the error
    # a write returns False and stays buffered (no callback), end()'s callback gets the error
    log = Log()
    w = Writable(auto_destroy=False, write=lambda c, cb: cb(Exception("bad")))
    rec(w, log, "error", "close")
    w.write("a", lambda e: log.append("cb a" + _desc((e,))))
    await log.reach("error:bad")
    log.append(f"ret:{w.write('b', lambda e: log.append('cb b' + _desc((e,))))}")
    log.append(f"len:{w.writable_length}:{w.writable}")
    w.end(lambda e: log.append("end cb" + _desc((e,))))
    await log.reach("end cb:bad")
    # Absence window: no callback for the buffered write, no 'close' (autoDestroy: false).
    await absence_window()
    assert log == ["cb a:bad", "error:bad", "ret:False", "len:1:False", "end cb:bad"]
    assert not w.destroyed


async def test_final_error_fails_end_and_skips_finish() -> None:
    # test-stream-writable-final-async / -end-cb-error: _final calls back with an error
    log = Log()
    w = Writable(write=okwrite, final=lambda cb: cb(Exception("final failed")))
    rec(w, log, "error", "close", "finish", "prefinish")
    w.end("x", lambda e: log.append(f"endcb:{e}"))
    await closed(w)
    await log.reach("endcb:final failed")
    assert log == ["error:final failed", "close", "endcb:final failed"]
    assert w.writable_finished is False and str(w.errored) == "final failed"


async def test_end_twice_both_callbacks_at_finish_and_end_with_data_after_end() -> None:
    # test-stream-writable-end-cb-error / test-stream2-writable: a second end() before 'finish'
    # waits for it; end(chunk) after end() is a write after end
    log = Log()
    w = Writable(write=later_write)
    rec(w, log, "finish", "close", "error")
    w.write("a")
    w.end(lambda e: log.append(f"end1:{e}"))
    w.end(lambda e: log.append(f"end2:{e}"))
    log.append("sync")
    await closed(w)
    assert log == ["sync", "end1:None", "end2:None", "finish", "close"]

    log.clear()
    w = Writable(write=okwrite)
    rec(w, log, "finish", "close", "error")
    w.end()
    w.end("more", lambda e: log.append(f"end2:{e.code}"))
    log.append("sync")
    await closed(w)
    await log.reach("end2:ERR_STREAM_WRITE_AFTER_END")
    assert log == ["sync", "error:ERR_STREAM_WRITE_AFTER_END", "close",
                   "end2:ERR_STREAM_WRITE_AFTER_END"]


async def test_write_after_end_errors_once_but_fails_every_callback() -> None:
    # test-stream-error-once: two writes after end(), two pushes after push(None): one 'error' each
    log = Log()
    w = Writable()
    rec(w, log, "error", "close", tag="w:")
    w.end()
    w.write("h", lambda e: log.append("cb1" + _desc((e,))))
    w.write("h", lambda e: log.append("cb2" + _desc((e,))))
    r = Readable()
    rec(r, log, "error", "close", tag="r:")
    r.push(None)
    log.append(f"p1:{r.push('h')}")
    log.append(f"p2:{r.push('h')}")
    await closed(w)
    await closed(r)
    await log.reach("cb2:ERR_STREAM_WRITE_AFTER_END")
    assert log == ["p1:False", "p2:False", "cb1:ERR_STREAM_WRITE_AFTER_END",
                   "w:error:ERR_STREAM_WRITE_AFTER_END", "w:close", "cb2:ERR_STREAM_WRITE_AFTER_END",
                   "r:error:ERR_STREAM_PUSH_AFTER_EOF", "r:close"]


async def test_nested_cork_needs_as_many_uncorks_and_end_uncorks_all() -> None:
    # test-stream3-cork-uncork / test-stream3-cork-end
    log: list[str] = []
    w = Writable(write=lambda c, cb: (log.append(f"w:{c.decode()}"), cb()),
                 writev=lambda chunks, cb: (log.append("v:" + ",".join(c.decode() for c in chunks)),
                                            cb()))
    w.on("finish", lambda: log.append("finish"))
    w.cork()
    w.cork()
    w.write("a")
    w.write("b")
    w.uncork()
    log.append(f"corked:{w.writable_corked}")
    w.uncork()
    log.append(f"corked:{w.writable_corked}")
    w.uncork()  # one too many: harmless
    log.append(f"corked:{w.writable_corked}")
    w.cork()
    w.write("c")
    w.write("d")
    w.cork()
    log.append(f"corked:{w.writable_corked}")
    w.end("e")
    log.append(f"corked:{w.writable_corked}:sync")
    await closed(w)
    assert log == ["corked:1", "v:a,b", "corked:0", "corked:0", "corked:2", "v:c,d,e",
                   "corked:0:sync", "finish"]


async def test_writev_callbacks_run_before_end_callback_and_finish() -> None:
    # test-stream3-cork-end / test-stream-writev: one _writev for the corked writes
    log: list[str] = []
    loop = asyncio.get_running_loop()
    w = Writable(writev=lambda chunks, cb: (log.append(f"writev:{len(chunks)}"), loop.call_soon(cb)))
    w.on("finish", lambda: log.append("finish"))
    w.cork()
    w.write("a", lambda *_: log.append("cb a"))
    w.write("b", lambda *_: log.append("cb b"))
    w.end(lambda *_: log.append("end cb"))
    await closed(w)
    assert log == ["writev:2", "cb a", "cb b", "end cb", "finish"]


async def test_drain_only_after_write_returned_false() -> None:
    # test-stream2-writable / test-stream-writable-needdrain-state
    log: list[str] = []
    w = Writable(high_water_mark=10, write=later_write)
    w.on("drain", lambda: log.append("drain"))
    written: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    log.append(f"r:{w.write('12345', lambda *_: written.set_result(None))}")
    await asyncio.wait_for(written, TIMEOUT)
    # Absence window: below the mark: no 'drain', ever.
    await absence_window()
    assert log == ["r:True"]
    log.append(f"r:{w.write('1234567890')}")
    assert w.writable_need_drain
    await asyncio.wait_for(w.drain(), TIMEOUT)
    assert log == ["r:True", "r:False", "drain"]


async def test_writable_finished_and_ended_state() -> None:
    # test-stream-writable-finished / test-stream-writable-ended-state
    log: list[str] = []
    w = Writable(write=okwrite)
    w.on("finish", lambda: log.append(f"finish:{w.writable_finished}:{w.writable_ended}:{w.writable}"))
    w.end()
    log.append(f"sync:{w.writable_finished}:{w.writable_ended}:{w.writable}")
    await closed(w)
    assert log == ["sync:False:True:False", "finish:True:True:False"]


async def test_auto_destroy_false_and_emit_close_false() -> None:
    # test-stream-auto-destroy: autoDestroy closes after 'finish' / 'end' only when on;
    # emitClose: false destroys without 'close'
    log = Log()
    w = Writable(auto_destroy=False, write=okwrite)
    rec(w, log, "finish", "close", tag="w:")
    w.end("x")
    r = Readable(auto_destroy=False, read=noread)
    rec(r, log, "end", "close", tag="r:")
    r.resume()
    r.push("x")
    r.push(None)
    await log.reach("w:finish")
    await log.reach("r:end")
    # Absence window: no destroy, no 'close', after 'finish' / 'end' (autoDestroy: false).
    await absence_window()
    assert log == ["w:finish", "r:end"] and not w.destroyed and not r.destroyed

    log.clear()
    w = Writable(emit_close=False, write=okwrite)
    rec(w, log, "finish", "close", "error", tag="w:")
    w.destroy(Exception("e"))
    r = Readable(emit_close=False, read=noread)
    rec(r, log, "end", "close", tag="r:")
    r.resume()
    r.push(None)
    await log.reach("w:error:e")
    await log.reach("r:end")
    # Absence window: destroyed, but no 'close' (emitClose: false).
    await absence_window()
    assert log == ["w:error:e", "r:end"] and w.destroyed and r.destroyed


async def test_auto_destroy_closes_after_end_and_after_finish() -> None:
    # test-stream-auto-destroy: the destroy hook runs once, 'close' after 'end' / 'finish'
    log: list[str] = []

    def read(_n: Any) -> None:
        r.push("hello")
        r.push("world")
        r.push(None)

    r = Readable(read=read, destroy=lambda err, cb: (log.append("r:_destroy"), cb()))
    r.resume()
    rec(r, log, "end", "close", tag="r:")
    w = Writable(write=okwrite, destroy=lambda err, cb: (log.append("w:_destroy"), cb()))
    w.write("hello")
    w.write("world")
    w.end()
    rec(w, log, "finish", "close", tag="w:")
    await closed(r)
    await closed(w)
    assert [e for e in log if e.startswith("r:")] == ["r:end", "r:_destroy", "r:close"]
    assert [e for e in log if e.startswith("w:")] == ["w:finish", "w:_destroy", "w:close"]


# -- Readable -----------------------------------------------------------------------------------


async def test_destroy_after_push_null_before_consumption_means_no_end() -> None:
    # test-stream-readable-error-end: 'data' comes, 'end' never, 'error' then 'close'
    log: list[str] = []
    r = Readable(read=noread)
    rec(r, log, "end", "error", "close")
    r.on("data", lambda c: log.append(f"data:{c.decode()}"))
    r.push("asd")
    r.push(None)
    log.append("sync")
    r.destroy(Exception("kaboom"))
    await closed(r)
    assert log == ["sync", "data:asd", "error:kaboom", "close"]


async def test_no_end_after_destroy_even_if_null_is_pushed_at_close() -> None:
    # test-stream-readable-end-destroyed
    log: list[str] = []
    r = Readable()
    r.on("end", lambda: log.append("end"))
    r.resume()
    r.destroy()
    r.on("close", lambda: (log.append("close"), r.push(None)))
    r.on("error", lambda e: log.append(f"error:{e.code}"))
    await closed(r)
    assert log == ["close"]


async def test_push_after_destroy_is_ignored() -> None:
    # test-stream-readable-destroy: push() after destroy() returns False, buffers nothing, no error
    r = Readable(read=noread)
    r.destroy()
    errors: list[Any] = []
    r.on("error", errors.append)
    assert r.push("x") is False
    assert r.readable_length == 0 and r.read() is None
    await closed(r)
    assert errors == []


async def test_paused_empty_stream_ends_when_resumed() -> None:
    # test-stream-end-paused: _read pushes None while paused; 'end' after resume(), no 'data'
    log: list[str] = []

    def read(_n: Any) -> None:
        log.append("_read")
        r.push(None)

    r = Readable(read=read)
    r.on("data", lambda *_: log.append("data"))
    r.pause()
    await ticks()  # Node: setTimeout(..., 1), the scenario's "later"; it waits for nothing
    log.append("later")
    r.on("end", lambda: log.append("end"))
    r.resume()
    await closed(r)
    assert log == ["_read", "later", "end"]


async def test_unshift_puts_data_in_front_as_bytes_or_in_the_stream_encoding() -> None:
    # test-stream-readable-unshift
    got = Log()
    r = Readable(read=noread)
    r.on("data", lambda c: got.append((type(c).__name__, c)))
    r.push("back")
    r.unshift("front")
    r.unshift("abc")
    r2 = Readable(read=noread, encoding="base64")
    r2.on("data", lambda c: got.append(("b64", c)))
    r2.push("abc")
    r2.unshift("abc")
    await got.reach(("bytes", b"back"))
    await got.reach(("b64", "YWJj"), 2)
    assert got == [("bytes", b"abc"), ("bytes", b"front"), ("bytes", b"back"),
                   ("b64", "YWJj"), ("b64", "YWJj")]


async def test_unshift_after_end_event_is_an_error() -> None:
    # test-stream-readable-unshift / test-stream-unshift-read-race: ERR_STREAM_UNSHIFT_AFTER_END_EVENT
    log: list[str] = []
    loop = asyncio.get_running_loop()
    r = Readable(auto_destroy=False, read=noread)
    r.on("error", lambda e: log.append(f"error:{e.code}:{e}"))
    errored = when(r, "error")
    r.on("end", lambda: (log.append("end"), loop.call_soon(r.unshift, "late")))
    r.resume()
    r.push(None)
    await errored
    assert log == ["end", "error:ERR_STREAM_UNSHIFT_AFTER_END_EVENT:stream.unshift() after end event"]


async def test_readable_listener_added_late_still_gets_readable() -> None:
    # test-stream-readable-event: the first 'readable' was missed; a listener added later gets
    # one without a _read (buffer above the mark), and one with the data and 'end' at EOF
    log = Log()
    r = Readable(high_water_mark=3, read=lambda *_: log.append("_read"))
    r.push(b"blerg")
    await ticks()  # Node: setTimeout(..., 1), so the first 'readable' is missed; waits for nothing
    r.on("readable", lambda: log.append(f"readable:{r.readable_length}"))
    await log.reach("readable:5")
    # Absence window: no _read (the buffer is above the mark), no second 'readable'.
    await absence_window()
    assert log == ["readable:5"]

    log.clear()
    r = Readable(high_water_mark=30, read=lambda *_: log.append("_read"))
    r.push(b"blerg")
    r.push(None)
    await ticks()  # Node: setTimeout(..., 1), as above
    r.on("readable", lambda: log.append(f"readable:{r.read()!r}"))
    r.on("end", lambda: log.append("end"))
    await closed(r)
    assert log == ["readable:b'blerg'", "end"]


async def test_empty_string_pushes_keep_reading_until_end() -> None:
    # test-stream-readable-event: pushing '' triggers the next _read
    data = ["", "x", "y", "", "z"]
    result: list[str] = []
    loop = asyncio.get_running_loop()

    def read(_n: Any) -> None:
        loop.call_soon(lambda: r.push(data.pop(0)) if data else r.push(None))

    r = Readable(encoding="utf8", read=read)

    def on_readable() -> None:
        chunk = r.read()
        if chunk is not None:
            result.append(chunk)

    r.on("readable", on_readable)
    r.on("end", lambda: result.append("END"))
    await closed(r)
    assert result == ["x", "y", "z", "END"]


async def test_remove_all_listeners_on_a_flowing_readable() -> None:
    # test-stream-readable-event (#20923): no event names left; still flowing
    r = Readable(read=noread)
    r.on("data", lambda c: None)
    assert r.readable_flowing is True
    r.remove_all_listeners()
    assert r.event_names() == [] and r.readable_flowing is True


async def test_read_n_waits_for_n_bytes_until_the_end() -> None:
    # test-stream2-basic / test-stream-readable-needReadable: read(n) with fewer than n bytes
    # buffered returns None (and asks _read for more); at EOF it returns what is left
    log: list[str] = []
    r = Readable(read=lambda *_: log.append("_read"))
    r.push("abc")
    log.append(repr(r.read(5)))
    log.append(repr(r.readable_length))
    r.push("de")
    log.append(repr(r.read(5)))
    r.push("fg")
    r.push(None)
    log.append(repr(r.read(5)))
    log.append(repr(r.read()))
    log.append(repr(r.read(0)))
    r.on("end", lambda: log.append("end"))
    await closed(r)
    assert log == ["_read", "None", "3", "_read", "b'abcde'", "b'fg'", "None", "None",
                   "end"]
    assert r.readable_ended


async def test_read_above_the_high_water_mark_raises_it() -> None:
    # no single Node test (lib's computeNewHighWaterMark; run in node v20): read(20000) -> 32768
    r = Readable(read=noread)
    r.push(bytes(100))
    assert r.readable_high_water_mark == 16384
    assert r.read(20000) is None
    assert r.readable_high_water_mark == 32768


def test_duplex_high_water_mark_wins_over_each_sides_own() -> None:
    # test-stream-duplex-readable-writable / lib's highWaterMarkFrom (run in node v20):
    # new Duplex({highWaterMark: 100, readableHighWaterMark: 5, writableHighWaterMark: 7})
    # -> 100 / 100; without highWaterMark each side's own -> 5 / 7; net.Socket alike
    both = Duplex(high_water_mark=100, readable_high_water_mark=5, writable_high_water_mark=7)
    assert (both.readable_high_water_mark, both.writable_high_water_mark) == (100, 100)
    sides = Duplex(readable_high_water_mark=5, writable_high_water_mark=7)
    assert (sides.readable_high_water_mark, sides.writable_high_water_mark) == (5, 7)
    sock = net.Socket({"high_water_mark": 100, "readable_high_water_mark": 5})
    assert (sock.readable_high_water_mark, sock.writable_high_water_mark) == (100, 100)


async def test_readable_ended_and_readable_flags() -> None:
    # test-stream-readable-ended
    log: list[str] = []
    r = Readable(read=noread)
    r.push("x")
    r.push(None)
    log.append(f"pre:{r.readable_ended}:{r.readable}")
    r.on("end", lambda: log.append(f"end:{r.readable_ended}:{r.readable}"))
    r.resume()
    await closed(r)
    log.append(f"after:{r.readable_ended}:{r.read()}")
    assert log == ["pre:False:True", "end:True:False", "after:True:None"]


async def test_readable_listener_takes_precedence_over_data() -> None:
    # test-stream-readable-readable-then-resume (readable-event family): with a 'readable' listener the
    # stream does not flow; 'data' fires from read() inside it
    log = Log()
    r = Readable(read=noread)

    def on_readable() -> None:
        log.append("readable")
        while (c := r.read()) is not None:
            log.append(f"read:{c.decode()}")

    r.on("readable", on_readable)
    r.on("data", lambda c: log.append(f"data:{c.decode()}"))
    log.append(f"flowing:{r.readable_flowing}")
    r.push("x")
    r.push("y")
    await log.reach("read:xy")
    # Absence window: the stream does not start flowing by itself (no 'data' but from read()).
    await absence_window()
    log.append(f"flowing:{r.readable_flowing}")
    assert log == ["flowing:False", "readable", "data:xy", "read:xy", "flowing:False"]


async def test_removing_the_readable_listener_lets_data_flow() -> None:
    # test-stream-readable-readable-then-resume family: removing the last 'readable' listener
    # resumes a stream that has 'data' listeners (on a later tick)
    log = Log()
    r = Readable(read=noread)

    def on_readable() -> None:
        log.append("readable")

    r.on("readable", on_readable)
    r.on("data", lambda c: log.append(f"data:{c.decode()}"))
    r.push("x")
    await log.reach("readable")
    r.remove_listener("readable", on_readable)
    log.append(f"flowing-after-remove:{r.readable_flowing}")
    await log.reach("data:x")
    log.append(f"flowing:{r.readable_flowing}")
    r.push("y")
    await log.reach("data:y")
    assert log == ["readable", "flowing-after-remove:False", "data:x", "flowing:True", "data:y"]


async def test_pause_resume_events_is_paused_and_did_read() -> None:
    # test-stream-readable-pause-and-resume / test-stream-ispaused / test-stream-readable-didRead
    log = Log()
    r = Readable(read=noread)
    rec(r, log, "pause", "resume")
    log.append(f"paused:{r.is_paused()}:{r.readable_flowing}:{r.readable_did_read}")
    r.pause()
    log.append(f"paused:{r.is_paused()}:{r.readable_flowing}")
    r.resume()
    log.append(f"paused:{r.is_paused()}:{r.readable_flowing}")
    r.on("data", lambda c: log.append(f"data:{c.decode()}"))
    r.push("z")
    await log.reach("data:z")
    log.append(f"didRead:{r.readable_did_read}")
    r.pause()
    r.pause()  # already paused: no second 'pause'
    r.resume()
    assert log[-1] == "pause"  # 'resume' comes on a later tick, as Node's resume_()
    await log.reach("resume", 2)
    assert log == ["paused:False:None:False", "pause", "paused:True:False", "paused:False:True",
                   "resume", "data:z", "didRead:True", "pause", "resume"]


async def test_set_encoding_none_means_utf8() -> None:
    # test-stream-readable-setEncoding-null
    r = Readable(read=noread)
    r.set_encoding(None)
    r.push("é")
    assert r.readable_encoding == "utf8" and r.read() == "é"


# -- Duplex ---------------------------------------------------------------------------------------


async def test_duplex_allow_half_open_false_writable_end_first_waits_for_readable_end() -> None:
    # test-stream-duplex-end: ending the writable side does not end the readable side
    log = Log()
    d = Duplex(allow_half_open=False, read=noread, write=okwrite)
    rec(d, log, "end", "finish", "close")
    d.end()
    await log.reach("finish")
    # Absence window: the readable side does not end, the duplex is not destroyed.
    await absence_window()
    assert log == ["finish"] and (d.readable, d.writable, d.destroyed) == (True, False, False)
    d.resume()
    d.push(None)
    await closed(d)
    assert log == ["finish", "end", "close"]


# -- pipe -----------------------------------------------------------------------------------------


async def test_unpipe_one_destination_at_a_time_or_all() -> None:
    # test-stream-pipe-unpipe-streams: 'unpipe' on each destination once; flowing stops with the
    # last one; unpipe() with no argument unpipes all and removes every pipe listener
    log: list[str] = []
    src = Readable(read=noread)
    d1, d2 = Writable(write=lambda c, cb: None), Writable(write=lambda c, cb: None)
    src.pipe(d1)
    src.pipe(d2)
    d1.on("unpipe", lambda s: log.append(f"d1 unpipe:{s is src}"))
    d2.on("unpipe", lambda s: log.append(f"d2 unpipe:{s is src}"))
    src.unpipe(d2)
    src.unpipe(d2)  # not piped any more: nothing
    log.append(f"flowing:{src.readable_flowing}")
    src.unpipe(d1)
    log.append(f"flowing:{src.readable_flowing}:{src.listener_count('data')}:"
               f"{src.listener_count('end')}")
    s2 = Readable(read=noread)
    a, b = Writable(write=lambda c, cb: None), Writable(write=lambda c, cb: None)
    s2.pipe(a)
    s2.pipe(b)
    a.on("unpipe", lambda *_: log.append("a unpipe"))
    b.on("unpipe", lambda *_: log.append("b unpipe"))
    s2.unpipe()
    log.append(f"all:{s2.listener_count('data')}:{a.listener_count('finish')}:"
               f"{b.listener_count('error')}")
    assert log == ["d2 unpipe:True", "flowing:True", "d1 unpipe:True", "flowing:False:0:0",
                   "a unpipe", "b unpipe", "all:0:0:0"]


async def test_pipe_to_the_same_destination_twice() -> None:
    # test-stream-pipe-same-destination-twice: two pipes write twice; one unpipe removes one
    got = Log()
    src = Readable(read=noread)
    dest = Writable(write=lambda c, cb: (got.append(c), cb()))
    src.pipe(dest)
    src.pipe(dest)
    assert src.listener_count("data") == 2
    src.unpipe(dest)
    assert src.listener_count("data") == 1
    src.push("foobar")
    await got.reach(b"foobar")
    # Absence window: the pipe left writes once only.
    await absence_window()
    assert got == [b"foobar"]

    got.clear()
    src = Readable(read=noread)
    dest = Writable(write=lambda c, cb: (got.append(c), cb()))
    src.pipe(dest)
    src.pipe(dest)
    src.push("foobar")
    await got.reach(b"foobar", 2)
    assert got == [b"foobar", b"foobar"]


async def test_writable_pipe_is_err_stream_cannot_pipe() -> None:
    # test-stream2-writable ("writables cannot be piped"): 'error' ERR_STREAM_CANNOT_PIPE, then
    # 'close' (auto_destroy); with auto_destroy=False the 'error' is emitted synchronously
    log: list[str] = []
    w = Writable(write=okwrite)
    w.on("error", lambda e: log.append(f"error:{e.code}:{e}"))
    w.on("close", lambda: log.append("close"))
    w.pipe(Writable(write=okwrite))
    log.append("returned")
    await closed(w)
    assert log == ["returned", "error:ERR_STREAM_CANNOT_PIPE:Cannot pipe, not readable", "close"]

    got: list[str] = []
    w = Writable(auto_destroy=False, write=okwrite)
    w.on("error", lambda e: got.append(e.code))
    w.pipe(Writable(write=okwrite))
    assert got == ["ERR_STREAM_CANNOT_PIPE"] and not w.destroyed


async def test_error_is_emitted_once_even_if_destroyed_with_another() -> None:
    # test-stream2-writable ("error is only emitted once when failing in _finish / in write
    # after end"): a later destroy(err) emits no second 'error'
    errs: list[str] = []
    w = Writable(final=lambda cb: cb(Exception("test")))
    w.on("error", lambda e: (errs.append(str(e)), w.destroy(Exception("again"))))
    w.end()
    await closed(w)
    assert errs == ["test"]

    errs.clear()
    w = Writable(write=okwrite)
    w.on("error", lambda e: errs.append(getattr(e, "code", None) or str(e)))
    w.end()
    w.write("hello")
    w.destroy(Exception("later"))
    await closed(w)
    assert errs == ["ERR_STREAM_WRITE_AFTER_END"]


async def test_dest_error_unpipes_the_source() -> None:
    # test-stream-pipe-error-handling / test-stream2-pipe-error-handling: the pipe's own 'error'
    # listener runs first (prepended): pause, 'unpipe', then the user's listener
    log: list[str] = []
    src = Readable(read=noread)
    dest = Writable(write=okwrite)
    dest.on("error", lambda e: log.append(f"user error:{e}:{src.listener_count('data')}"))
    dest.on("unpipe", lambda *_: log.append("unpipe"))
    src.on("pause", lambda: log.append("pause"))
    src.pipe(dest)
    dest.emit("error", Exception("dest broke"))
    log.append(f"after:{src.listener_count('data')}:{dest.listener_count('error')}:"
               f"{src.readable_flowing}")
    assert log == ["pause", "unpipe", "user error:dest broke:0", "after:0:1:False"]


async def test_dest_error_without_a_user_listener_destroys_dest() -> None:
    # test-stream-pipe-error-unhandled: emit() does not raise; the pipe destroys dest with the
    # error, which nobody handles (Node: an uncaught exception; here: the loop's handler)
    loop = asyncio.get_running_loop()
    handled: list[Any] = []
    loop.set_exception_handler(lambda _l, ctx: handled.append(ctx.get("exception")))
    try:
        src = Readable(read=noread)
        dest = Writable(write=okwrite)
        src.pipe(dest)
        err = Exception("no listener")
        dest.emit("error", err)
        assert dest.destroyed and src.listener_count("data") == 0
        await closed(dest)
    finally:
        loop.set_exception_handler(None)
    assert handled == [err]


async def test_pipe_into_a_dest_that_needs_drain_pauses_at_once() -> None:
    # test-stream-pipe-needDrain
    log = Log()
    loop = asyncio.get_running_loop()
    w = Writable(high_water_mark=2,
                 write=lambda c, cb: (log.append(f"w:{c.decode()}"), loop.call_soon(cb)))
    log.append(f"ret:{w.write('xxx')}")
    log.append(f"needDrain:{w.writable_need_drain}")
    r = Readable(read=noread)
    r.on("pause", lambda: log.append("pause"))
    r.pipe(w)
    log.append(f"flowing:{r.readable_flowing}")
    r.push("y")
    await log.reach("w:y")  # after 'drain' the pipe resumes the source, which writes "y"
    log.append(f"flowing:{r.readable_flowing}")
    assert log == ["w:xxx", "ret:False", "needDrain:True", "pause", "flowing:False", "w:y",
                   "flowing:True"]


async def test_pipe_after_the_source_ended_ends_the_destination() -> None:
    # test-stream-pipe-after-end
    log: list[str] = []
    r = Readable(read=noread)
    r.on("end", lambda: log.append("end"))
    source_closed = when(r, "close")
    r.resume()
    r.push(None)
    await source_closed  # (Node pipes from a setTimeout: the source has ended and closed)
    w = Writable(write=okwrite)
    w.on("finish", lambda: log.append("finish"))
    w.on("pipe", lambda *_: log.append("pipe"))
    r.pipe(w)
    log.append(f"piped:{w.writable_ended}")
    await closed(w)
    assert log == ["end", "pipe", "piped:False", "finish"] and w.writable_ended


async def test_pipe_end_to_finish_unpipe_and_close_order() -> None:
    # test-stream-pipe-event / test-stream2-finish-pipe: the whole lifecycle of a simple pipe
    log: list[str] = []
    dest = Writable(write=lambda c, cb: (log.append(f"write:{c.decode()}"), cb()))
    rec(dest, log, "pipe", "unpipe", "finish", "close", tag="dest:")
    src = Readable(read=noread)
    rec(src, log, "end", "close", tag="src:")
    src.pipe(dest)
    src.push("a")
    src.push(None)
    await closed(dest)
    await closed(src)
    assert log == ["dest:pipe", "write:a", "src:end", "dest:finish", "dest:unpipe", "src:close",
                   "dest:close"]


async def pipe_x_into(dest: Writable, log: Log, until: str) -> None:
    """Pipes a new source (its 'pause' and 'error' logged, tagged ``src:``) into ``dest`` and
    pushes "x"; once ``log`` has ``until`` and an absence window has passed, logs the source's
    ``flowing:<readable_flowing>:<'data' listener count>``."""
    src = Readable(read=noread)
    rec(src, log, "pause", "error", tag="src:")
    src.pipe(dest)
    src.push("x")
    await log.reach(until)
    await absence_window()
    log.append(f"flowing:{src.readable_flowing}:{src.listener_count('data')}")


async def test_pipe_into_destroyed_or_finished_destination() -> None:
    # test-stream-pipe-cleanup-pause / test-stream-write-destroy: a destroyed dest: its write
    # fails silently, the source pauses (and, 'close' having passed, keeps its data listener
    # only until the pipe sees 'close')
    log = Log()
    dest = Writable(write=lambda c, cb: (log.append("write"), cb()))
    dest.destroy()
    rec(dest, log, "error", "close", "unpipe", tag="dest:")
    # Absence window, after the 'unpipe': no write, no 'error', no flowing again.
    await pipe_x_into(dest, log, until="dest:unpipe")
    assert log == ["dest:close", "src:pause", "dest:unpipe", "flowing:False:0"]

    log.clear()
    dest = Writable(write=okwrite)
    dest.end()
    rec(dest, log, "error", "close", "unpipe", "finish", tag="dest:")
    await closed(dest)
    # Absence window, after the 'pause': no write, no 'error', no 'unpipe', no flowing again.
    await pipe_x_into(dest, log, until="src:pause")
    assert log == ["dest:finish", "dest:close", "src:pause", "flowing:False:1"]


async def test_source_destroyed_while_piping_leaves_dest_open() -> None:
    # test-stream-pipe-error-handling / test-stream-readable-destroy: pipe() does not end or
    # destroy the destination when the source fails
    log: list[str] = []
    written: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    dest = Writable(write=lambda c, cb: (written.done() or written.set_result(c), cb()))
    rec(dest, log, "error", "close", "unpipe", "finish", tag="dest:")
    src = Readable(read=noread)
    rec(src, log, "error", "close", "end", tag="src:")
    src.pipe(dest)
    src.push("x")
    assert await asyncio.wait_for(written, TIMEOUT) == b"x"  # piping, then the source fails
    src.destroy(Exception("src broke"))
    await closed(src)
    assert log == ["src:error:src broke", "src:close"]
    assert not dest.writable_ended and not dest.destroyed
