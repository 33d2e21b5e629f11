"""Node's ``events`` module functions: ``events.on`` (async iterator), ``events.once``,
``get_event_listeners``, ``get_max_listeners``, ``set_max_listeners``, ``listener_count``.

Ported in our own words from Node's test/parallel/test-events-on-async-iterator.js,
test-events-once.js, test-event-emitter-get-max-listeners.js, test-events-static-geteventlisteners.js
and test-event-emitter-set-max-listeners-side-effects.js; each expectation was checked against
node v20.20 (listener counts after each step, the order of values, errors, the water marks'
pause()/resume() calls, the messages)."""

from __future__ import annotations

import asyncio
import gc
import math
from typing import Any

import pytest

from nodetls import events
from nodetls.events import EventEmitter


def _code(exc: pytest.ExceptionInfo[BaseException]) -> str | None:
    return getattr(exc.value, "code", None)


def _counts(ee: EventEmitter, *names: str) -> list[int]:
    return [ee.listener_count(n) for n in names]


async def _tick() -> None:
    """One turn of the loop (Node's process.nextTick in the ported tests)."""
    await asyncio.sleep(0)


# ------------------------------------------------------------------ events.on
async def test_on_yields_argument_tuples_and_break_removes_its_listeners() -> None:
    """Node 'basic': another event is not seen; leaving the loop removes both listeners."""
    ee = EventEmitter()

    def emit_later() -> None:
        ee.emit("foo", "bar")
        ee.emit("bar", 24)
        ee.emit("foo", 42, 43)

    asyncio.get_running_loop().call_soon(emit_later)
    seen = []
    async for args in events.on(ee, "foo"):
        seen.append(args)
        if len(seen) == 2:
            break
    assert seen == [("bar",), (42, 43)]
    gc.collect()  # (CPython drops the iterator at once; this is for other interpreters)
    assert _counts(ee, "foo", "error") == [0, 0]


async def test_on_listens_from_the_call_and_queues() -> None:
    ee = EventEmitter()
    it = events.on(ee, "foo")
    assert _counts(ee, "foo", "error") == [1, 1]
    ee.emit("foo", 1, 2)
    ee.emit("foo", 3)
    assert await anext(it) == (1, 2)
    assert await anext(it) == (3,)
    await it.aclose()
    assert _counts(ee, "foo", "error") == [0, 0]
    assert await anext(it, "done") == "done"


async def test_on_error_is_raised_after_the_queued_events() -> None:
    """Node 'errorDelayed': queued events first, then the error once, then the end; events
    after the error are not listened to."""
    ee = EventEmitter()
    it = events.on(ee, "foo")
    boom = RuntimeError("boom")
    ee.emit("foo", 1)
    ee.emit("error", boom)
    assert _counts(ee, "foo", "error") == [0, 0]
    ee.emit("foo", 2)
    seen = []
    with pytest.raises(RuntimeError) as exc:
        async for args in it:
            seen.append(args)
    assert exc.value is boom and seen == [(1,)]
    assert await anext(it, "done") == "done"


async def test_on_error_rejects_the_first_waiting_next_and_ends_the_others() -> None:
    """Node 'nextError': three pending next() calls -> rejected, done, done."""
    ee = EventEmitter()
    it = events.on(ee, "foo")
    boom = RuntimeError("kaboom")
    waits = [asyncio.ensure_future(anext(it, "done")) for _ in range(3)]
    await _tick()
    ee.emit("error", boom)
    results = await asyncio.wait_for(asyncio.gather(*waits, return_exceptions=True), 5)
    assert results == [boom, "done", "done"]
    assert ee.listeners("error") == []


async def test_on_pending_nexts_and_aclose() -> None:
    """Node 'next': two events then return() -> the three pending next() get both, then done."""
    ee = EventEmitter()
    it = events.on(ee, "foo")
    waits = [asyncio.ensure_future(anext(it, "done")) for _ in range(3)]
    await _tick()
    ee.emit("foo", "bar")
    ee.emit("foo", 42)
    await it.aclose()
    assert await asyncio.wait_for(asyncio.gather(*waits), 5) == [("bar",), (42,), "done"]
    assert await anext(it, "done") == "done"


async def test_on_exception_in_the_loop_body_removes_the_listeners() -> None:
    """Node 'throwInLoop'."""
    ee = EventEmitter()
    asyncio.get_running_loop().call_soon(ee.emit, "foo", 42)
    with pytest.raises(KeyError):
        async for args in events.on(ee, "foo"):
            assert args == (42,)
            raise KeyError("out")
    gc.collect()
    assert _counts(ee, "foo", "error") == [0, 0]


async def test_on_throw() -> None:
    """Node 'iterableThrow': throw() needs an exception; the queued events still come first."""
    ee = EventEmitter()
    it = events.on(ee, "foo")
    with pytest.raises(TypeError) as exc:
        it.throw("x")  # type: ignore[arg-type]
    assert _code(exc) == "ERR_INVALID_ARG_TYPE"
    assert str(exc.value).startswith(
        'The "EventEmitter.AsyncIterator" property must be an instance of Error.')
    boom = RuntimeError("kaboom")
    ee.emit("foo", "bar")
    ee.emit("foo", 42)
    it.throw(boom)
    assert _counts(ee, "foo", "error") == [0, 0]
    seen = []
    with pytest.raises(RuntimeError) as err:
        async for args in it:
            seen.append(args)
    assert err.value is boom and seen == [("bar",), (42,)]


async def test_on_error_event_itself_is_iterated() -> None:
    ee = EventEmitter()
    it = events.on(ee, "error")
    assert ee.listener_count("error") == 1
    boom = RuntimeError("e1")
    ee.emit("error", boom)
    assert await anext(it) == (boom,)
    await it.aclose()
    assert ee.listener_count("error") == 0


async def test_on_close_option_ends_the_iteration() -> None:
    ee = EventEmitter()
    it = events.on(ee, "foo", close=["end", "close"])
    assert _counts(ee, "foo", "error", "end", "close") == [1, 1, 1, 1]
    ee.emit("foo", 1)
    ee.emit("end")
    ee.emit("foo", 2)
    assert [args async for args in it] == [(1,)]
    assert _counts(ee, "foo", "error", "end", "close") == [0, 0, 0, 0]
    # a close event while waiting ends the wait; Node's camelCase name works too
    ee2 = EventEmitter()
    it2 = events.on(ee2, "foo", {"close": ("end",)})
    wait = asyncio.ensure_future(anext(it2, "done"))
    await _tick()
    ee2.emit("end", 5)
    assert await asyncio.wait_for(wait, 5) == "done"


async def test_on_a_cancelled_wait_loses_no_event() -> None:
    """(Python's own case: a task waiting in ``__anext__`` is cancelled; the next event goes
    to the next reader.)"""
    ee = EventEmitter()
    it = events.on(ee, "foo")
    wait = asyncio.ensure_future(anext(it))
    await _tick()
    wait.cancel()
    with pytest.raises(asyncio.CancelledError):
        await wait
    ee.emit("foo", 2)
    assert await asyncio.wait_for(anext(it), 5) == (2,)
    await it.aclose()


async def test_on_async_with_removes_the_listeners() -> None:
    ee = EventEmitter()
    async with events.on(ee, "foo") as it:
        ee.emit("foo", 1)
        assert await anext(it) == (1,)
    assert _counts(ee, "foo", "error") == [0, 0]


class _Pausable(EventEmitter):
    def __init__(self) -> None:
        super().__init__()
        self.log: list[str] = []
        self.n = -1

    def pause(self) -> None:
        self.log.append(f"pause {self.n}")

    def resume(self) -> None:
        self.log.append("resume")


async def test_on_water_marks_pause_and_resume_the_emitter() -> None:
    """Node: pause() once more than high_water_mark events wait; resume() once fewer than
    low_water_mark (default 1) do."""
    ee = _Pausable()
    it = events.on(ee, "x", high_water_mark=2)
    for i in range(4):
        ee.n = i
        ee.emit("x", i)
    assert ee.log == ["pause 2"]
    got = [await anext(it) for _ in range(3)]
    assert got == [(0,), (1,), (2,)] and ee.log == ["pause 2"]
    assert await anext(it) == (3,)
    assert ee.log == ["pause 2", "resume"]
    await it.aclose()

    ee2 = _Pausable()
    it2 = events.on(ee2, "x", {"highWaterMark": 3, "lowWaterMark": 2})
    for i in range(5):
        ee2.n = i
        ee2.emit("x", i)
    assert ee2.log == ["pause 3"]
    for i in range(3):
        assert await anext(it2) == (i,)
    assert ee2.log == ["pause 3"]
    assert await anext(it2) == (3,)
    assert ee2.log == ["pause 3", "resume"]
    await it2.aclose()


def test_on_argument_errors() -> None:
    with pytest.raises(TypeError) as exc:
        events.on(object(), "foo")
    assert _code(exc) == "ERR_INVALID_ARG_TYPE"
    assert str(exc.value).startswith('The "emitter" argument must be an instance of EventEmitter.')
    ee = EventEmitter()
    with pytest.raises(ValueError) as exc:
        events.on(ee, "foo", high_water_mark=0)
    assert _code(exc) == "ERR_OUT_OF_RANGE"
    assert str(exc.value) == ('The value of "options.highWaterMark" is out of range. It must be '
                              '>= 1 && <= 9007199254740991. Received 0')
    with pytest.raises(ValueError) as exc:
        events.on(ee, "foo", low_water_mark=1.5)
    assert str(exc.value) == ('The value of "options.lowWaterMark" is out of range. It must be '
                              'an integer. Received 1.5')
    with pytest.raises(TypeError) as exc:
        events.on(ee, "foo", low_water_mark="x")
    assert _code(exc) == "ERR_INVALID_ARG_TYPE"
    with pytest.raises(TypeError) as exc:
        events.on(ee, "foo", signal=object())
    assert _code(exc) == "ERR_INVALID_ARG_TYPE"
    assert ee.event_names() == []  # nothing was added by the failed calls


# ------------------------------------------------------------------ events.once
async def test_once_resolves_with_the_arguments_and_removes_both_listeners() -> None:
    ee = EventEmitter()
    wait = asyncio.ensure_future(events.once(ee, "foo"))
    await _tick()
    assert _counts(ee, "foo", "error") == [1, 1]
    ee.emit("foo", 1, 2)
    assert _counts(ee, "foo", "error") == [0, 0]  # at the emit, as Node's
    assert await asyncio.wait_for(wait, 5) == (1, 2)
    wait = asyncio.ensure_future(events.once(ee, "foo"))
    await _tick()
    ee.emit("foo")
    assert await asyncio.wait_for(wait, 5) == ()


async def test_once_raises_an_error_emitted_first() -> None:
    ee = EventEmitter()
    boom = RuntimeError("onceerr")
    wait = asyncio.ensure_future(events.once(ee, "foo"))
    await _tick()
    ee.emit("error", boom)
    assert _counts(ee, "foo", "error") == [0, 0]
    with pytest.raises(RuntimeError) as exc:
        await asyncio.wait_for(wait, 5)
    assert exc.value is boom


async def test_once_for_error_resolves_with_it() -> None:
    ee = EventEmitter()
    wait = asyncio.ensure_future(events.once(ee, "error"))
    await _tick()
    assert ee.listener_count("error") == 1
    boom = RuntimeError("e3")
    ee.emit("error", boom)
    assert await asyncio.wait_for(wait, 5) == (boom,)
    assert ee.listener_count("error") == 0


async def test_once_cancelled_removes_its_listeners() -> None:
    ee = EventEmitter()
    wait = asyncio.ensure_future(events.once(ee, "foo"))
    await _tick()
    wait.cancel()
    with pytest.raises(asyncio.CancelledError):
        await wait
    assert _counts(ee, "foo", "error") == [0, 0]


async def test_once_rejects_a_non_emitter() -> None:
    with pytest.raises(TypeError) as exc:
        await events.once({}, "foo")
    assert _code(exc) == "ERR_INVALID_ARG_TYPE"


# ------------------------------------------------------------------ the other functions
def test_get_event_listeners_unwraps_once_listeners() -> None:
    ee = EventEmitter()

    def f() -> None: ...
    def g() -> None: ...

    ee.on("x", f)
    ee.once("x", g)
    assert events.get_event_listeners(ee, "x") == [f, g]
    assert events.get_event_listeners(ee, "nope") == []
    with pytest.raises(TypeError) as exc:
        events.get_event_listeners({}, "x")
    assert _code(exc) == "ERR_INVALID_ARG_TYPE"
    assert str(exc.value).startswith(
        'The "emitter" argument must be an instance of EventEmitter or EventTarget.')


def test_get_max_listeners(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "default_max_listeners", 10)
    ee = EventEmitter()
    assert events.get_max_listeners(ee) == 10
    ee.set_max_listeners(3)
    assert events.get_max_listeners(ee) == 3
    with pytest.raises(TypeError) as exc:
        events.get_max_listeners({})
    assert _code(exc) == "ERR_INVALID_ARG_TYPE"


def test_set_max_listeners_on_emitters_or_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "default_max_listeners", 10)
    a, b = EventEmitter(), EventEmitter()
    events.set_max_listeners(5, a, b)
    assert (a.get_max_listeners(), b.get_max_listeners(), events.default_max_listeners) == (5, 5, 10)
    events.set_max_listeners(7)  # no emitter: the default, for every emitter without its own
    assert events.default_max_listeners == 7
    assert EventEmitter().get_max_listeners() == 7 and a.get_max_listeners() == 5
    events.set_max_listeners()  # n defaults to the current default
    assert events.default_max_listeners == 7
    events.set_max_listeners(math.inf)
    assert events.default_max_listeners == math.inf


def test_set_max_listeners_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "default_max_listeners", 10)
    for bad in (-1, math.nan):
        with pytest.raises(ValueError) as exc:
            events.set_max_listeners(bad)
        assert _code(exc) == "ERR_OUT_OF_RANGE"
        assert str(exc.value) == ('The value of "setMaxListeners" is out of range. '
                                  f"It must be >= 0. Received {bad!r}")
    with pytest.raises(TypeError) as exc:
        events.set_max_listeners("3")  # type: ignore[arg-type]
    assert _code(exc) == "ERR_INVALID_ARG_TYPE"
    a = EventEmitter()
    with pytest.raises(TypeError) as exc:
        events.set_max_listeners(3, a, {})
    assert _code(exc) == "ERR_INVALID_ARG_TYPE"
    assert str(exc.value).startswith('The "eventTargets" argument must be an instance of')
    assert a.get_max_listeners() == 3  # (those before the bad one were set, as Node)
    assert events.default_max_listeners == 10


def test_listener_count_static_form() -> None:
    ee = EventEmitter()
    ee.on("x", lambda: None).once("x", lambda: None)
    assert events.listener_count(ee, "x") == 2 and events.listener_count(ee, "nope") == 0

    class Counts:
        def listener_count(self, name: str) -> int:
            return 42

    assert events.listener_count(Counts(), "x") == 42
    assert events.listener_count(object(), "x") == 0


def test_listener_count_static_form_without_the_method() -> None:
    # node v20: EE.listenerCount(e, 'x') with e.listenerCount = undefined counts e's listeners
    # with the prototype's listenerCount (2 here); a plain object: 0
    ee = EventEmitter()
    ee.on("x", lambda: None).once("x", lambda: None)
    ee.listener_count = None  # type: ignore[assignment,method-assign]
    assert events.listener_count(ee, "x") == 2 and events.listener_count(ee, "nope") == 0


def test_names_are_exported() -> None:
    for name in ("on", "once", "get_event_listeners", "get_max_listeners", "set_max_listeners",
                 "listener_count"):
        assert name in events.__all__ and callable(getattr(events, name))


async def test_on_works_with_a_socket_like_stream() -> None:
    """On a real stream the iterator sees 'data' chunks and ends with 'end' as a close event."""
    from nodetls import stream

    a, b = stream.duplex_pair()
    it = events.on(b, "data", close=["end"])
    a.write(b"one")
    a.end(b"two")
    chunks: list[Any] = []

    async def collect() -> None:
        async for (chunk,) in it:
            chunks.append(bytes(chunk))

    await asyncio.wait_for(collect(), 5)
    assert b"".join(chunks) == b"onetwo"
    a.destroy()
    b.destroy()
