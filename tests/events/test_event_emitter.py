"""EventEmitter: Node's semantics (lib/events.js) plus async listeners and error routing."""

from __future__ import annotations

import asyncio
import gc

import pyee
import pytest

from nodetls.errors import NodeError
from nodetls.events import EventEmitter, MaxListenersExceededWarning, error_monitor, once


def test_is_a_pyee_emitter_and_emit_returns_whether_anyone_listened() -> None:
    em = EventEmitter()
    assert isinstance(em, pyee.EventEmitter)
    assert em.emit("x", 1) is False
    got = []
    assert em.on("x", got.append) is em  # chainable, as Node
    assert em.emit("x", 1) is True
    assert got == [1]


def test_on_as_decorator_returns_the_function() -> None:
    em = EventEmitter()
    got = []

    @em.on("data")
    def handler(chunk: bytes) -> None:
        got.append(chunk)

    em.emit("data", b"a")
    assert got == [b"a"]
    assert callable(handler) and em.listeners("data") == [handler]
    em.off("data", handler)
    assert em.emit("data", b"b") is False


def test_listeners_run_in_order_with_all_arguments() -> None:
    em = EventEmitter()
    order = []
    em.on("e", lambda a, b: order.append(("first", a, b)))
    em.add_listener("e", lambda a, b: order.append(("second", a, b)))
    em.emit("e", 1, 2)
    assert order == [("first", 1, 2), ("second", 1, 2)]


def test_new_listener_is_emitted_before_the_listener_is_added() -> None:
    em = EventEmitter()
    seen = []

    def on_new(event: str, listener: object) -> None:
        seen.append((event, listener, em.listener_count(event)))

    em.on("newListener", on_new)

    def f() -> None:
        pass

    em.on("x", f)
    em.once("x", f)  # the original function is reported, not the once wrapper
    assert seen == [("x", f, 0), ("x", f, 1)]


def test_remove_listener_event_after_removal_with_the_original_function() -> None:
    em = EventEmitter()
    seen = []
    em.on("removeListener", lambda ev, fn: seen.append((ev, fn, em.listener_count(ev))))

    def f() -> None:
        pass

    em.once("x", f)
    em.on("x", f)
    em.remove_listener("x", f)  # most recently added instance goes first
    assert seen == [("x", f, 1)]
    assert em.raw_listeners("x")[0].listener is f  # the once wrapper is what is left
    em.remove_listener("x", f)  # a once listener is removable by the original function
    assert seen[-1] == ("x", f, 0)
    assert em.listener_count("x") == 0 and em.event_names() == ["removeListener"]


def test_once_fires_once_and_is_removed_before_it_runs() -> None:
    em = EventEmitter()
    calls = []
    em.once("x", lambda v: calls.append((v, em.listener_count("x"))))
    assert em.emit("x", 1) is True
    assert em.emit("x", 2) is False
    assert calls == [(1, 0)]


def test_once_decorator_and_raw_listeners() -> None:
    em = EventEmitter()
    calls = []

    @em.once("x")
    def f(v: int) -> None:
        calls.append(v)

    raw = em.raw_listeners("x")
    assert len(raw) == 1 and raw[0] is not f and raw[0].listener is f
    assert em.listeners("x") == [f]
    raw[0](5)  # calling the wrapper removes it, as Node's rawListeners wrapper does
    assert calls == [5] and em.listener_count("x") == 0


def test_prepend_listener_and_prepend_once_listener() -> None:
    em = EventEmitter()
    order = []
    em.on("x", lambda: order.append("on"))
    em.prepend_listener("x", lambda: order.append("prepended"))
    em.prepend_once_listener("x", lambda: order.append("prepended-once"))
    em.emit("x")
    em.emit("x")
    assert order == ["prepended-once", "prepended", "on", "prepended", "on"]


def test_same_function_twice_is_called_twice_and_removed_one_at_a_time() -> None:
    em = EventEmitter()
    calls = []
    f = calls.append
    em.on("x", f).on("x", f)
    em.emit("x", 1)
    assert calls == [1, 1]
    em.off("x", f)
    em.emit("x", 2)
    assert calls == [1, 1, 2]
    assert em.listener_count("x", f) == 1


def test_emit_uses_the_listeners_present_when_it_started() -> None:
    em = EventEmitter()
    order = []

    def second() -> None:
        order.append("second")

    def first() -> None:
        order.append("first")
        em.off("x", second)
        em.on("x", lambda: order.append("added during emit"))

    em.on("x", first).on("x", second)
    em.emit("x")
    assert order == ["first", "second"]  # Node copies the listener array before calling
    em.emit("x")
    assert order == ["first", "second", "first", "added during emit"]


def test_error_without_listener_raises_the_error() -> None:
    em = EventEmitter()
    err = ValueError("boom")
    with pytest.raises(ValueError) as info:
        em.emit("error", err)
    assert info.value is err
    with pytest.raises(NodeError) as info2:
        em.emit("error", "not an exception")
    assert info2.value.code == "ERR_UNHANDLED_ERROR"


def test_error_monitor_sees_errors_first_but_does_not_handle_them() -> None:
    em = EventEmitter()
    seen = []
    em.on(error_monitor, lambda e: seen.append(("monitor", e)))
    err = RuntimeError("x")
    with pytest.raises(RuntimeError):
        em.emit("error", err)
    em.on("error", lambda e: seen.append(("error", e)))
    em.emit("error", err)
    assert seen == [("monitor", err), ("monitor", err), ("error", err)]


def test_listener_exception_goes_to_error_and_does_not_stop_other_listeners() -> None:
    em = EventEmitter()
    errors, after = [], []
    boom = KeyError("listener failed")

    def bad() -> None:
        raise boom

    em.on("x", bad).on("x", lambda: after.append(True))
    em.on("error", errors.append)
    assert em.emit("x") is True  # nothing propagates out of emit
    assert errors == [boom] and after == [True]


def test_listener_exception_with_no_error_listener_and_no_loop_is_reraised() -> None:
    em = EventEmitter()

    def bad() -> None:
        raise KeyError("nobody listens")

    em.on("x", bad)
    with pytest.raises(KeyError):
        em.emit("x")


async def test_listener_exception_with_no_error_listener_goes_to_loop_handler() -> None:
    loop = asyncio.get_running_loop()
    contexts: list[dict] = []
    loop.set_exception_handler(lambda _loop, ctx: contexts.append(ctx))
    try:
        em = EventEmitter()
        boom = KeyError("nobody listens")

        def bad() -> None:
            raise boom

        em.on("x", bad)
        assert em.emit("x") is True
        # an exception escaping an 'error' listener goes to the loop too (not back to 'error')
        err_boom = RuntimeError("error listener failed")

        def bad_error_listener(e: BaseException) -> None:
            raise err_boom

        em.on("error", bad_error_listener)
        em.emit("error", ValueError("original"))
    finally:
        loop.set_exception_handler(None)
    assert [c["exception"] for c in contexts] == [boom, err_boom]
    assert contexts[0]["emitter"] is em


async def test_async_listeners_are_scheduled_and_their_failures_reach_error() -> None:
    em = EventEmitter()
    done = asyncio.Event()
    got: list[object] = []

    async def on_x(value: int) -> None:
        await asyncio.sleep(0)
        got.append(value)
        done.set()

    async def failing() -> None:
        await asyncio.sleep(0)
        raise LookupError("async failure")

    errors: list[BaseException] = []
    em.on("x", on_x).on("y", failing).on("error", errors.append)
    assert em.emit("x", 7) is True
    assert got == []  # scheduled, not run inside emit
    gc.collect()  # the task is strongly referenced
    await asyncio.wait_for(done.wait(), 5)
    assert got == [7]
    em.emit("y")
    for _ in range(20):
        if errors:
            break
        await asyncio.sleep(0.01)
    assert len(errors) == 1 and isinstance(errors[0], LookupError)


def test_listener_may_take_fewer_arguments_like_javascript() -> None:
    em = EventEmitter()
    calls = []
    em.on("close", lambda: calls.append("no-arg"))
    em.once("close", lambda had_error: calls.append(had_error))

    class Owner:
        def method(self) -> None:
            calls.append("method")

    em.on("close", Owner().method)
    em.emit("close", False)
    assert calls == ["no-arg", False, "method"]


def test_type_error_inside_a_listener_is_not_mistaken_for_arity() -> None:
    em = EventEmitter()
    errors: list[BaseException] = []
    em.on("error", errors.append)

    def bad() -> None:
        len(5)  # type: ignore[arg-type]

    em.on("x", bad)
    em.emit("x", "extra")  # arity mismatch AND a TypeError inside: only the retry runs
    assert len(errors) == 1 and "has no len" in str(errors[0])


def test_remove_all_listeners_emits_remove_listener_for_each() -> None:
    em = EventEmitter()
    removed = []
    em.on("a", print).on("a", repr).on("b", str)
    em.on("removeListener", lambda ev, fn: removed.append((ev, fn)))
    em.remove_all_listeners("a")
    assert removed == [("a", repr), ("a", print)]  # last added first
    em.remove_all_listeners()
    assert ("b", str) in removed and em.event_names() == []


def test_listener_must_be_callable() -> None:
    em = EventEmitter()
    with pytest.raises(TypeError) as info:
        em.on("x", 42)  # type: ignore[call-overload]
    assert info.value.code == "ERR_INVALID_ARG_TYPE"  # type: ignore[attr-defined]


def test_max_listeners_warning() -> None:
    em = EventEmitter()
    em.set_max_listeners(2)
    assert em.get_max_listeners() == 2
    em.on("x", print).on("x", print)
    with pytest.warns(MaxListenersExceededWarning):
        em.on("x", print)


async def test_events_once_helper_resolves_with_arguments_or_raises_error() -> None:
    em = EventEmitter()
    asyncio.get_running_loop().call_later(0.01, em.emit, "ready", 1, "two")
    assert await asyncio.wait_for(once(em, "ready"), 5) == (1, "two")
    err = OSError("failed")
    asyncio.get_running_loop().call_later(0.01, em.emit, "error", err)
    with pytest.raises(OSError):
        await asyncio.wait_for(once(em, "ready"), 5)
    assert em.listener_count("ready") == 0 and em.listener_count("error") == 0


def test_a_bound_method_is_removed_by_the_same_method() -> None:
    """Node removes a listener by identity; in Python ``obj.method`` is a new object at each
    access, so ``off('x', obj.method)`` must find the ``obj.method`` added earlier (equality),
    for ``on`` and ``once`` alike, and ``listener_count`` must count it."""

    class Handler:
        def __init__(self) -> None:
            self.calls = 0

        def on_x(self) -> None:
            self.calls += 1

    h, other = Handler(), Handler()
    e = EventEmitter()
    e.on("x", h.on_x)
    e.once("y", h.on_x)
    e.on("x", other.on_x)
    assert e.listener_count("x", h.on_x) == 1 and e.listener_count("y", h.on_x) == 1
    e.off("x", h.on_x)
    e.off("y", h.on_x)
    e.emit("x")
    e.emit("y")
    assert h.calls == 0 and other.calls == 1  # another instance's method is another listener
    assert e.listener_count("x") == 1 and e.listener_count("y") == 0


def _remove_listener_probe(em: EventEmitter) -> list[tuple[str, str]]:
    """The 'removeListener' events of Node's lib/events.js scenario below (checked in node v20):
    which removals report, and with what (the original, or a once wrapper)."""
    seen: list[tuple[str, str]] = []

    def f(*_: object) -> None:
        pass

    def g(*_: object) -> None:
        pass

    def name(fn: object) -> str:
        if fn is f or fn is g:
            return fn.__name__  # type: ignore[attr-defined]
        return "wrap(f)" if getattr(fn, "listener", None) is f else repr(fn)

    em.on("removeListener", lambda ev, fn: seen.append((ev, name(fn))))
    em.on("x", f).remove_listener("x", f)  # an event's only listener
    em.on("y", f).on("y", g).remove_listener("y", g).remove_listener("y", f)  # two, then one
    em.once("z", f).emit("z")  # a once listener, the only one, fires
    em.on("w", g).once("w", f).emit("w")  # a once listener among two fires: reports its wrapper
    em.on("v", g).once("v", f)
    em.remove_listener("v", em.raw_listeners("v")[1])  # removed by its wrapper, among two
    em.once("u", f)
    em.remove_listener("u", em.raw_listeners("u")[0])  # by its wrapper, alone: the original
    em.on("a", f).on("a", g).remove_all_listeners("a")  # last added first
    return seen


def test_remove_listener_reports_what_node_reports() -> None:
    # node v20: new EventEmitter(), the same steps -> exactly these 'removeListener' events.
    assert _remove_listener_probe(EventEmitter()) == [
        ("x", "f"), ("y", "g"), ("y", "f"), ("z", "f"), ("w", "wrap(f)"), ("v", "wrap(f)"),
        ("u", "f"), ("a", "g"), ("a", "f")]


def test_a_subclass_hook_events_see_their_listeners_added_and_removed():
    """A subclass that names its own events in ``_HOOK_EVENTS`` (an event no library class
    names) has its ``_listener_added``/``_listener_removed`` called for them: by ``on``,
    ``once`` (added, then removed when it fires), ``off`` and ``remove_all_listeners``; other
    events make no hook call."""
    seen: list[tuple[str, str]] = []

    class Hooked(EventEmitter):
        _HOOK_EVENTS = frozenset({"hooked-only-here"})

        def _listener_added(self, event: str) -> None:
            seen.append(("added", event))

        def _listener_removed(self, event: str) -> None:
            seen.append(("removed", event))

    e = Hooked()
    f = lambda *a: None  # noqa: E731
    e.on("hooked-only-here", f)
    e.on("other", f)
    e.off("hooked-only-here", f)
    e.once("hooked-only-here", f)
    e.emit("hooked-only-here")
    e.on("hooked-only-here", f)
    e.on("hooked-only-here", f)
    e.off("hooked-only-here", f)
    e.remove_all_listeners("hooked-only-here")
    e.off("other", f)
    assert seen == [("added", "hooked-only-here"), ("removed", "hooked-only-here"),
                    ("added", "hooked-only-here"), ("removed", "hooked-only-here"),
                    ("added", "hooked-only-here"), ("added", "hooked-only-here"),
                    ("removed", "hooked-only-here"), ("removed", "hooked-only-here")]
