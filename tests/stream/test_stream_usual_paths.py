"""The streams' one-call usual paths (``'end'`` / ``'finish'`` emitted without ``emit()``'s call,
``resume()``'s ``read(0)`` kick, ``on()``'s first listener) keep what an observer sees: a class
overriding ``emit()`` or ``read()`` gets its calls (Node's streams call ``this.emit`` and
``stream.read(0)``), async and raising listeners behave as through ``emit()``. Each scenario's
Node part was run in node v20."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nodetls.errors import NodeError
from nodetls.events import EventEmitter
from nodetls.stream import Duplex, Readable

TIMEOUT = 5


async def ticks(n: int = 8) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


def _duplex(cls: type[Duplex] = Duplex) -> Duplex:
    return cls(read=lambda *_: None, write=lambda c, cb: cb())


async def _closed(d: Duplex) -> None:
    fut = asyncio.get_running_loop().create_future()
    d.on("close", lambda *_: fut.done() or fut.set_result(None))
    await asyncio.wait_for(fut, TIMEOUT)


async def test_end_and_finish_reach_an_emit_override_of_a_self_piped_duplex() -> None:
    # node v20: class Spy extends Duplex { emit(ev, ...a) {...} }; d.pipe(d); push('x');
    # push(null): the override sees 'end', then 'finish'; at 'close' the pipe's listeners are
    # gone, the user's two 'end' listeners stay.
    seen: list[str] = []

    class Spy(Duplex):
        def emit(self, event: str, *args: Any) -> bool:
            if event in ("end", "finish"):
                seen.append(event)
            return super().emit(event, *args)

    order: list[str] = []
    for cls in (Spy, Duplex):
        seen.clear()
        order.clear()
        d = _duplex(cls)
        d.on("end", lambda: order.append("end1"))
        d.on("finish", lambda: order.append("finish"))
        d.on("end", lambda: order.append("end2"))
        d.pipe(d)
        d.push(b"x")
        d.push(None)
        await _closed(d)
        assert seen == (["end", "finish"] if cls is Spy else [])
        assert order == ["end1", "end2", "finish"]
        assert d.listener_count("data") == 0 and d.listener_count("end") == 2


async def test_async_end_and_finish_listeners_run_as_tasks() -> None:
    ran: list[str] = []

    async def on_end() -> None:
        await asyncio.sleep(0)
        ran.append("end")

    async def on_finish() -> None:
        ran.append("finish")

    d = _duplex()
    d.on("end", on_end)
    d.on("finish", on_finish)
    d.pipe(d)
    d.push(None)
    await _closed(d)
    await ticks()
    assert sorted(ran) == ["end", "finish"]


@pytest.mark.parametrize("event", ["end", "finish"])
async def test_a_raising_end_or_finish_listener_destroys_the_stream_with_its_error(
        event: str) -> None:
    # As through emit(): a listener's exception goes to the stream's _on_listener_error
    # (destroy(err): 'error', then 'close'); the listeners after it still run.
    boom = ValueError("boom")
    after: list[str] = []
    errors: list[BaseException] = []

    def raise_(*_: Any) -> None:
        raise boom

    d = _duplex()
    d.on(event, raise_)
    d.on(event, lambda: after.append(event))
    d.on("error", errors.append)
    d.pipe(d)
    d.push(None)
    await _closed(d)
    assert after == [event]
    assert errors == [boom]


async def test_end_listener_taking_an_argument_is_told_it_was_not_given_one() -> None:
    # A listener that needs an argument 'end' does not carry fails as through emit(): its
    # TypeError (raised by the call, not inside it) is the stream's error.
    errors: list[BaseException] = []
    d = _duplex()
    d.on("end", lambda needed: None)
    d.on("error", errors.append)
    d.resume()
    d.push(None)
    await _closed(d)
    assert len(errors) == 1 and isinstance(errors[0], TypeError)


async def test_resume_kicks_a_read_override_with_read0_then_flows() -> None:
    # node v20: class R extends Readable { read(n) { calls.push(n); ... } }; r.on('data'):
    # resume_'s read(0), then flow()'s read() -- [0, undefined].
    calls: list[Any] = []

    class R(Readable):
        def read(self, size: int | None = None) -> Any:
            calls.append(size)
            return super().read(size)

    r = R(read=lambda *_: None)
    r.on("data", lambda *_: None)
    await ticks()
    assert calls == [0, None]
    # Readable's own: the same state, started reading once
    reads: list[int] = []
    r2 = Readable(read=reads.append)
    r2.on("data", lambda *_: None)
    await ticks()
    assert reads == [r2.readable_high_water_mark]
    assert r2.readable_flowing is True and r2.is_paused() is False


async def test_resume_kick_whose_read_raises_destroys_the_stream() -> None:
    def bad_read(*_: Any) -> None:
        raise ValueError("read failed")

    errors: list[BaseException] = []
    r = Readable(read=bad_read)
    r.on("error", errors.append)
    r.on("data", lambda *_: None)
    await ticks()
    assert [str(e) for e in errors] == ["read failed"]
    assert r.destroyed


def test_on_first_listener_is_seen_by_new_listener_hooks_and_checked() -> None:
    em = EventEmitter()
    seen: list[tuple[str, Any]] = []
    em.on("newListener", lambda ev, fn: seen.append((ev, fn)))

    def fn() -> None:
        pass

    em.on("x", fn)
    assert seen == [("x", fn)] and em.listeners("x") == [fn]
    with pytest.raises(NodeError) as info:
        EventEmitter().on("x", 42)  # type: ignore[arg-type]
    assert info.value.code == "ERR_INVALID_ARG_TYPE"
    em2 = EventEmitter()
    assert em2.on("y", fn) is em2 and em2.listeners("y") == [fn] and em2.event_names() == ["y"]


def _names(d: Duplex) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for ev in ("end", "data", "unpipe", "error", "close", "finish"):
        names = [getattr(fn, "__name__", "?") for fn in d.listeners(ev)]
        if names:
            out[ev] = names
    return out


@pytest.mark.parametrize("mode", ["notfinish", "readd", "alone", "prepended", "after"])
async def test_self_pipe_cleanup_at_finish_keeps_the_users_listeners_as_node(mode: str) -> None:
    # node v20 (a Duplex piped to itself; the tables read in a 'close' listener added first):
    # notfinish -- the user's listeners on 'end'/'data'/'unpipe'/'error' before pipe() (the
    # pipe's 'close'/'unpipe'/'data' ones not alone): they stay; readd -- the user's 'error'
    # listener removed and added again after pipe() (an equal 'error' table): it stays; alone:
    # only the 'close' observer is left. prepended / after (ours, same rule): a user's 'error'
    # listener prepended, or 'data' listener added, after pipe().
    def user_a(*_: Any) -> None:
        pass

    seen: asyncio.Future[tuple[dict[str, list[str]], Any, int]] = \
        asyncio.get_running_loop().create_future()
    d = _duplex()

    def onclose(*_: Any) -> None:
        seen.set_result((_names(d), d.readable_flowing, d.listener_count("data")))

    d.on("close", onclose)
    if mode == "notfinish":
        for ev in ("end", "data", "unpipe", "error"):
            d.on(ev, user_a)
    if mode == "readd":
        d.on("error", user_a)
    d.pipe(d)
    if mode == "readd":
        d.remove_listener("error", user_a)
        d.on("error", user_a)
    elif mode == "prepended":
        d.prepend_listener("error", user_a)
    elif mode == "after":
        d.on("data", user_a)
    d.push(b"x")
    d.push(None)
    names, flowing, n_data = await asyncio.wait_for(seen, TIMEOUT)
    expected = {
        "notfinish": ({"end": ["user_a"], "data": ["user_a"], "unpipe": ["user_a"],
                       "error": ["user_a"], "close": ["onclose"]}, 1),
        "readd": ({"error": ["user_a"], "close": ["onclose"]}, 0),
        "alone": ({"close": ["onclose"]}, 0),
        "prepended": ({"error": ["user_a"], "close": ["onclose"]}, 0),
        "after": ({"data": ["user_a"], "close": ["onclose"]}, 1),
    }[mode]
    assert (names, n_data) == expected
    assert flowing is False


async def test_self_pipe_cleanup_at_finish_keeps_the_users_data_and_unpipe_listeners() -> None:
    # node v20: the user's 'data' and 'unpipe' listeners added before pipe() (the pipe's 'close'
    # and 'finish' ones alone): once closed, the user's stay (eventNames ['data', 'unpipe']),
    # readableFlowing false (the pipe's cleanup paused it).
    def user_a(*_: Any) -> None:
        pass

    d = _duplex()
    d.on("data", user_a)
    d.on("unpipe", user_a)
    d.pipe(d)
    d.push(b"x")
    d.push(None)
    await asyncio.wait_for(d.wait_closed(), TIMEOUT)
    assert _names(d) == {"data": ["user_a"], "unpipe": ["user_a"]}
    assert d.readable_flowing is False


async def test_self_pipe_warns_at_the_error_listeners_limit_as_node() -> None:
    # node v20: setMaxListeners(1); on('error', userErr); d.pipe(d): one warning, '2 error
    # listeners'; the pipe's 'error' listener first.
    import warnings

    from nodetls.events import MaxListenersExceededWarning

    def user_err(*_: Any) -> None:
        pass

    d = _duplex()
    d.set_max_listeners(1)
    d.on("error", user_err)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        d.pipe(d)
    msgs = [str(w.message) for w in caught if w.category is MaxListenersExceededWarning]
    assert len(msgs) == 1 and "2 error listeners" in msgs[0]
    assert [getattr(fn, "__name__", "?") for fn in d.listeners("error")] == ["on_error", "user_err"]
    d.destroy()


async def test_self_pipe_keeps_the_listeners_a_data_hook_adds_as_node() -> None:
    # node v20: a Duplex subclass whose on('data') also adds an 'error' listener: pipe()'s
    # 'error' listener is prepended to it (['onerror', 'hookErr']), one 'close' listener.
    def hook_err(*_: Any) -> None:
        pass

    class Hooked(Duplex):
        def _listener_added(self, event: str) -> None:
            super()._listener_added(event)
            if event == "data":
                self.on("error", hook_err)

    d = _duplex(Hooked)
    d.pipe(d)
    assert [getattr(fn, "__name__", "?") for fn in d.listeners("error")] == ["on_error", "hook_err"]
    assert d.listener_count("close") == 1 and d.listener_count("data") == 1
    d.destroy()
