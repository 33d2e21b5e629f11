"""``readable.pipe(dest)`` between two streams: the listeners it adds and what its cleanup leaves,
among the user's listeners, as Node v20 (each scenario was run in node; expectations are its
output)."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

from nodetls.events import MaxListenersExceededWarning
from nodetls.stream import Duplex, Readable, Writable
from tests.stream.test_stream_readable_writable import _raw, _record, ticks

_EVENTS = ("end", "data", "unpipe", "error", "close", "finish")


def user_a(*_: Any) -> None:
    pass


def user_b(*_: Any) -> None:
    pass


def _pair() -> tuple[Readable, Writable]:
    return Readable(read=lambda *_: None), Writable(write=lambda c, cb: cb())


async def test_pipe_cleanup_at_finish_among_the_users_listeners_as_node() -> None:
    # node v20: a Readable piped into a Writable, each with a listener of the user's for each
    # event added before pipe() and one after; at 'finish' the pipe's are gone, the user's stay
    # in order, the source is paused. With no 'removeListener' listener, then with one on the
    # source only (its removals in Node's order: the 'end' wrapper's own, then 'data').
    for observe_src in (False, True):
        a, b = _pair()
        for ev in _EVENTS:
            a.on(ev, user_a)
            b.on(ev, user_a)
        a.pipe(b)
        for ev in _EVENTS:
            a.on(ev, user_b)
            b.on(ev, user_b)
        removed = _record("removeListener", a=a) if observe_src else []
        finished = asyncio.get_running_loop().create_future()
        b.on("finish", lambda _f=finished: _f.set_result(None))
        a.push(b"x")
        a.push(None)
        await asyncio.wait_for(finished, 5)
        await ticks()
        users = {ev: ["user_a", "user_b"] for ev in _EVENTS}
        assert _raw(a) == users
        assert _raw(b) == {**users, "finish": ["user_a", "user_b", "<lambda>"]}
        assert a.readable_flowing is False
        assert removed == (["a:end:once:onend", "a:data:ondata"] if observe_src else [])


async def test_pipe_cleanup_removes_the_last_match_as_node() -> None:
    # node v20: the user adds the pipe's own listeners again ('error' through once, 'data'
    # plainly); unpipe's removeListener(ev, fn) takes the last match, the user's copy, and the
    # pipe's own stays.
    a, b = _pair()
    a.pipe(b)
    b.once("error", b.listeners("error")[0])
    a.on("data", a.listeners("data")[0])
    a.unpipe(b)
    assert _raw(a) == {"data": ["ondata"]}
    assert _raw(b) == {"error": ["onerror"]}


async def test_pipe_listener_limits_on_both_sides_as_node() -> None:
    # node v20: each emitter's own limit (set_max_listeners(1)): a warning for the source's
    # second 'data' listener, then the destination's second 'error' and 'close' ones (Node's
    # order of additions); the listeners are added all the same. A limit of 0: none.
    a, b = _pair()
    b.set_max_listeners(1)
    b.on("error", user_a).on("close", user_a)
    a.set_max_listeners(1)
    a.on("data", user_a)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a.pipe(b)
        c, d = _pair()
        d.set_max_listeners(0)
        for _ in range(12):
            d.on("finish", user_a)
        c.pipe(d)
    assert [(w.category, str(w.message).split(". ")[1].split(" added")[0]) for w in caught] == [
        (MaxListenersExceededWarning, "2 data listeners"),
        (MaxListenersExceededWarning, "2 error listeners"),
        (MaxListenersExceededWarning, "2 close listeners")]
    assert _raw(a) == {"end": ["once:onend"], "data": ["user_a", "ondata"]}
    assert _raw(b) == {"unpipe": ["onunpipe"], "error": ["onerror", "user_a"],
                       "close": ["user_a", "once:onclose"], "finish": ["once:onfinish"]}
    assert _raw(d)["finish"] == ["user_a"] * 12 + ["once:onfinish"]


async def test_pipe_cleanup_when_the_destination_closes_first_as_node() -> None:
    # node v20: a -> b, b with the user's 'close' and 'error' listeners, destroyed before its
    # 'finish': the pipe's listeners go (b's 'close' wrapper fired), the user's stay, a paused.
    a, b = _pair()
    b.on("close", user_a).on("error", user_a)
    a.pipe(b)
    a.push(b"x")
    await ticks()
    closed = asyncio.get_running_loop().create_future()
    b.destroy(None, lambda *_: closed.set_result(None))
    await asyncio.wait_for(closed, 5)
    await ticks()
    assert _raw(a) == {}
    assert _raw(b) == {"error": ["user_a"], "close": ["user_a"]}
    assert a.readable_flowing is False and a.is_paused()


async def test_unpipe_while_waiting_for_drain_as_node() -> None:
    # node v20: the destination asked for 'drain' (write() returned False, the source paused);
    # unpipe removes the pipe's 'drain' listener with the others, and its ondrain (run by the
    # cleanup) does not resume the source: it has no 'data' listener left.
    loop = asyncio.get_running_loop()
    a = Readable(read=lambda *_: None)
    b = Writable(high_water_mark=4, write=lambda c, cb: loop.call_later(0.05, cb))
    a.pipe(b)
    a.push(b"xxxxxxxx")
    a.push(b"yyyyyyyy")
    await ticks()
    assert (b.listener_count("drain"), a.readable_flowing, b.writable_need_drain) == (
        1, False, True)
    a.unpipe(b)
    assert _raw(a) == {} and _raw(b) == {} and b.listener_count("drain") == 0
    assert a.readable_flowing is False and a.readable_length == 8


async def test_pipe_to_itself_finish_seen_by_a_pause_listener_and_a_later_match_as_node() -> None:
    # node v20: a Duplex piped to itself, the user's 'error' listener, the pipe's own 'error'
    # listener added again through once (a later match) and a 'pause' listener: at 'finish' the
    # 'pause' listener sees the pipe's 'finish' and 'close' listeners gone, its 'unpipe' and
    # 'data' ones still there; the cleanup removes the later match of 'error' (the once one).
    evs = ("data", "end", "error", "close", "finish", "unpipe", "drain", "pause")

    def counts(d: Duplex) -> dict[str, int]:
        return {e: d.listener_count(e) for e in evs}

    loop = asyncio.get_running_loop()
    d = Duplex(read=lambda *_: None, write=lambda c, *a: a[-1](), final=lambda cb: cb())
    d.on("error", user_a)
    d.pipe(d)
    pipe_error = d.listeners("error")[0]
    d.once("error", pipe_error)
    seen: list[Any] = []
    done = loop.create_future()
    d.on("pause", lambda: seen.append(("pause", counts(d))))
    d.on("finish", lambda: loop.call_soon(done.set_result, None))
    d.push(b"x")
    d.push(None)
    await asyncio.wait_for(done, 5)
    assert seen == [("pause", {"data": 1, "end": 0, "error": 3, "close": 0, "finish": 1,
                               "unpipe": 1, "drain": 0, "pause": 1})]
    assert counts(d) == {"data": 0, "end": 0, "error": 2, "close": 0, "finish": 1, "unpipe": 0,
                         "drain": 0, "pause": 1}
    assert d.listeners("error") == [pipe_error, user_a]
    assert d.readable_flowing is False


class _ResumeSeen(Duplex):
    """Records its resume() and 'data' hook calls (pipe() makes them as Node's on('data'))."""

    seen: list[str]

    def resume(self) -> Any:
        self.seen.append(f"resume:{self.readable_flowing}")
        return super().resume()

    def _listener_added(self, event: str) -> None:
        self.seen.append(f"added:{event}")
        super()._listener_added(event)


async def test_pipe_to_itself_calls_an_overridden_resume_and_hook_as_node() -> None:
    # node v20: a Duplex subclass overriding resume(), piped to itself: on('data') calls it
    # once (flowing null), pipe() then finds the stream flowing; the 'data' hook of a subclass
    # (this project's own) is called too.
    d = _ResumeSeen(read=lambda *_: None, write=lambda c, *a: a[-1]())
    d.seen = []
    d.pipe(d)
    d.seen.append(f"after:{d.readable_flowing}")
    assert d.seen == ["added:data", "resume:None", "after:True"]
