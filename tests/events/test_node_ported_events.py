"""Scenarios from Node's own EventEmitter tests, ported to ``nodetls.events.EventEmitter``. Each
expectation is what node v20 printed for the same scenario (checked by running it).

Node tests ported (``test/parallel/test-event-emitter-<name>.js``): remove-listeners,
remove-all-listeners, modify-in-emit, once, add-listeners, listeners, listeners-side-effects,
listener-count, errors, no-error-provided-to-error-event, max-listeners,
max-listeners-warning, get-max-listeners, check-listener-leaks, special-event-names.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import pytest

from nodetls.errors import NodeError
from nodetls.events import EventEmitter, MaxListenersExceededWarning


def _noop(*_: Any) -> None:
    pass


# -- removing listeners -------------------------------------------------------------------------


def test_remove_listener_handler_may_remove_and_emit_the_rest() -> None:
    # test-event-emitter-remove-listeners: inside 'removeListener' for the first listener, the
    # handler removes the second and emits the event: nobody is called, two 'removeListener's
    log: list[str] = []
    ee = EventEmitter()

    def r1() -> None:
        log.append("r1 called")

    def r2() -> None:
        log.append("r2 called")

    def on_remove(_name: str, fn: Any) -> None:
        log.append("rm:" + ("r1" if fn is r1 else "r2" if fn is r2 else "?"))
        if fn is not r1:
            return
        ee.remove_listener("quux", r2)
        ee.emit("quux")
        log.append(f"count={ee.listener_count('quux')}")

    ee.on("removeListener", on_remove)
    ee.on("quux", r1)
    ee.on("quux", r2)
    ee.remove_listener("quux", r1)
    assert log == ["rm:r1", "rm:r2", "count=0"]


def test_remove_listener_sees_the_remaining_listeners_and_nests() -> None:
    # test-event-emitter-remove-listeners: the listener is gone when 'removeListener' fires;
    # a once('removeListener') handler may remove the next one itself
    ee = EventEmitter()

    def l1() -> None:
        pass

    def l2() -> None:
        pass

    seen: list[tuple[Any, ...]] = []
    ee.on("hello", l1).on("hello", l2)

    def first(name: str, fn: Any) -> None:
        seen.append((name, fn is l1, ee.listeners("hello") == [l2]))
        ee.once("removeListener",
                lambda n, f: seen.append((n, f is l2, ee.listeners("hello") == [])))
        ee.remove_listener("hello", l2)

    ee.once("removeListener", first)
    ee.remove_listener("hello", l1)
    assert seen == [("hello", True, True), ("hello", True, True)]
    assert ee.listeners("hello") == []


def test_removing_an_unknown_listener_emits_nothing_and_chains() -> None:
    # test-event-emitter-remove-listeners
    log: list[str] = []
    ee = EventEmitter()
    ee.on("hello", _noop)
    ee.on("removeListener", lambda *_: log.append("rm"))
    assert ee.remove_listener("hello", lambda: None) is ee
    assert ee.remove_listener("never-added", _noop) is ee
    assert log == [] and ee.listeners("hello") == [_noop]


def test_listeners_that_add_and_remove_during_emit() -> None:
    # test-event-emitter-modify-in-emit: c1 adds c2, c3 and removes itself (only c1 runs this
    # time); next emit runs c2, c3, which remove themselves
    called: list[str] = []
    e = EventEmitter()

    def c1() -> None:
        called.append("c1")
        e.on("foo", c2)
        e.on("foo", c3)
        e.remove_listener("foo", c1)

    def c2() -> None:
        called.append("c2")
        e.remove_listener("foo", c2)

    def c3() -> None:
        called.append("c3")
        e.remove_listener("foo", c3)

    e.on("foo", c1)
    e.emit("foo")
    assert called == ["c1"] and e.listener_count("foo") == 2
    e.emit("foo")
    assert called == ["c1", "c2", "c3"] and e.listener_count("foo") == 0
    assert e.emit("foo") is False and called == ["c1", "c2", "c3"]


def test_a_listener_removing_a_later_once_listener_during_emit() -> None:
    # test-event-emitter-remove-listeners (removal inside emit): the once listener still runs
    # in this emit (the listeners were copied), and is gone afterwards
    log: list[Any] = []
    e = EventEmitter()

    def b() -> None:
        log.append("b")

    e.on("x", lambda: (log.append("a"), e.remove_listener("x", b)))
    e.once("x", b)
    e.emit("x")
    e.emit("x")
    log.append(e.listener_count("x"))
    assert log == ["a", "b", "a", 1]


def test_remove_all_listeners_without_event_removes_remove_listener_last() -> None:
    # test-event-emitter-remove-all-listeners: 'removeListener' listeners are removed last
    # (LIFO), so the first one also hears about itself; returns the emitter
    s1: list[str] = []
    s2: list[str] = []
    ee = EventEmitter()
    ee.on("foo", _noop).on("bar", _noop)
    ee.on("removeListener", lambda n, _f: s1.append(n))
    ee.on("removeListener", lambda n, _f: s2.append(n))
    assert ee.remove_all_listeners() is ee
    assert s1 == ["foo", "bar", "removeListener"] and s2 == ["foo", "bar"]
    assert ee.event_names() == []


def test_remove_all_listeners_for_one_event_counts_down() -> None:
    # test-event-emitter-remove-all-listeners: each 'removeListener' sees one fewer; an event
    # with no listener emits nothing
    counts: list[int] = []
    ee = EventEmitter()
    ee.on("removeListener", lambda *_: counts.append(len(ee.listeners("baz"))))
    for _ in range(3):
        ee.on("baz", lambda: None)
    ee.remove_all_listeners("baz")
    assert counts == [2, 1, 0]
    ee.remove_all_listeners("nothing")
    assert counts == [2, 1, 0]


# -- once / newListener ---------------------------------------------------------------------------


def test_once_listener_that_re_emits_and_once_argument_counts() -> None:
    # test-event-emitter-once: a once listener emitting its own event runs the second once
    # listener exactly once; every argument count reaches a once listener
    log: list[Any] = []
    e = EventEmitter()
    e.once("e", lambda: (log.append("first"), e.emit("e")))
    e.once("e", lambda: log.append("second"))
    log.append(e.emit("e"))
    log.append(e.emit("e"))
    assert log == ["first", "second", True, False]

    got: list[list[int]] = []
    for n in range(5):
        x = EventEmitter()
        x.once("foo", lambda *p: got.append(list(p)))
        x.emit("foo", *range(n))
    assert got == [[], [0], [0, 1], [0, 1, 2], [0, 1, 2, 3]]


def test_listener_added_inside_new_listener_goes_first() -> None:
    # test-event-emitter-add-listeners: 'newListener' fires before the listener is added, so one
    # added from inside it ends up before; a second 'newListener' listener is itself reported
    log: list[Any] = []
    ee = EventEmitter()

    def l1() -> None:
        pass

    def l2() -> None:
        pass

    def outer(ev: str, fn: Any) -> None:
        log.append(("outer", ev, fn is l1, ee.listener_count("hello")))
        ee.once("newListener",
                lambda ev2, fn2: log.append(("inner", ev2, fn2 is l2, ee.listener_count("hello"))))
        ee.on("hello", l2)

    ee.once("newListener", outer)
    ee.on("hello", l1)
    assert log == [("outer", "hello", True, 0), ("inner", "hello", True, 0)]
    assert ee.listeners("hello") == [l2, l1]

    seen: list[tuple[str, bool]] = []
    ee2 = EventEmitter()
    ee2.on("newListener", lambda ev, fn: seen.append((ev, fn is _noop)))
    ee2.on("newListener", _noop)
    ee2.once("x", _noop)
    assert seen == [("newListener", True), ("x", True)]


# -- listeners / raw_listeners / listener_count -----------------------------------------------


def test_listeners_returns_copies() -> None:
    # test-event-emitter-listeners / -listeners-side-effects: mutating the list changes nothing,
    # a snapshot keeps its listeners after remove_all_listeners
    ee = EventEmitter()

    def l2() -> None:
        pass

    ee.on("foo", _noop)
    copy = ee.listeners("foo")
    copy.append(l2)
    assert ee.listeners("foo") == [_noop]
    ee.on("foo", l2)
    snap = ee.listeners("foo")
    ee.remove_all_listeners("foo")
    assert (copy, snap, ee.listeners("foo"), ee.listeners("nothing")) == (
        [_noop, l2], [_noop, l2], [], [])
    assert ee.listeners("foo") is not ee.listeners("foo")


def test_raw_listeners_once_wrapper_returns_the_value_and_removes_itself() -> None:
    # test-event-emitter-listeners: calling a once wrapper from raw_listeners() returns the
    # listener's value and removes it; calling it again does nothing
    ee = EventEmitter()
    ee.once("foo", lambda: 0)
    ee.on("foo", lambda: 1)
    raw = ee.raw_listeners("foo")
    assert len(raw) == 2 and raw is not ee.raw_listeners("foo")
    assert raw[0]() == 0
    assert len(ee.raw_listeners("foo")) == 1
    assert ee.raw_listeners("foo")[0]() == 1
    assert raw[0]() is None and len(ee.raw_listeners("foo")) == 1


def test_listener_count_and_special_event_names() -> None:
    # test-event-emitter-listener-count / -special-event-names: any name is just a name
    ee = EventEmitter()
    ee.on("foo", lambda: None).on("foo", lambda: None).on("baz", lambda: None)
    ee.on(123, lambda: None)  # type: ignore[arg-type]
    assert [ee.listener_count(n) for n in ("foo", "bar", "baz", 123)] == [2, 0, 1, 1]  # type: ignore[misc]
    got: list[int] = []
    special = EventEmitter()
    special.on("__proto__", _noop).on("toString", _noop).on("__proto__", got.append)
    special.emit("__proto__", 1)
    assert special.event_names() == ["__proto__", "toString"]
    assert special.listener_count("__proto__") == 2 and got == [1]
    assert special.listener_count("hasOwnProperty") == 0 and special.listeners("__class__") == []


# -- 'error' ----------------------------------------------------------------------------------


def test_unhandled_error_that_is_not_an_exception() -> None:
    # test-event-emitter-errors / -no-error-provided-to-error-event: ERR_UNHANDLED_ERROR whose
    # message shows what was emitted (Python's repr where Node shows util.inspect)
    ee = EventEmitter()
    for value, shown in (("Accepts a string", "'Accepts a string'"), (42, "42"), (None, "None")):
        with pytest.raises(NodeError) as info:
            ee.emit("error", value)
        assert info.value.code == "ERR_UNHANDLED_ERROR"
        assert str(info.value) == f"Unhandled error. ({shown})"
    with pytest.raises(NodeError) as info:
        ee.emit("error")  # no argument at all
    assert info.value.code == "ERR_UNHANDLED_ERROR" and str(info.value) == "Unhandled error. (None)"


def test_once_error_listener_handles_only_the_first_error() -> None:
    # test-event-emitter-errors family: a once('error') listener is gone after the first
    log: list[str] = []
    e = EventEmitter()
    e.once("error", lambda x: log.append(f"handled:{x}"))
    e.emit("error", ValueError("one"))
    with pytest.raises(ValueError, match="two"):
        e.emit("error", ValueError("two"))
    assert log == ["handled:one"]


# -- max listeners ------------------------------------------------------------------------------


def _leak_warnings(fn: Any) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [w for w in caught if issubclass(w.category, MaxListenersExceededWarning)]


def test_max_listeners_warns_once_per_event() -> None:
    # test-event-emitter-max-listeners-warning / -check-listener-leaks: the warning names the
    # count, the event and the emitter's class, once; 0 is unlimited; prepend and once count
    class FakeInput(EventEmitter):
        pass

    def scenario() -> None:
        e = FakeInput()
        e.set_max_listeners(1)
        for _ in range(3):
            e.on("event-type", _noop)
        unlimited = EventEmitter()
        unlimited.set_max_listeners(0)
        for _ in range(100):
            unlimited.on("u", _noop)
        default = EventEmitter()
        for _ in range(11):
            default.on("d", _noop)
        p = EventEmitter().set_max_listeners(1)
        p.on("p", _noop).prepend_listener("p", _noop)
        o = EventEmitter().set_max_listeners(1)
        o.on("o", _noop).once("o", _noop)

    caught = _leak_warnings(scenario)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 4, messages
    assert "2 event-type listeners added to" in messages[0] and "FakeInput" in messages[0]
    assert "11 d listeners added to" in messages[1]
    assert "2 p listeners added to" in messages[2] and "2 o listeners added to" in messages[3]
    assert all(m.startswith("Possible EventEmitter memory leak detected.") for m in messages)


def test_max_listeners_warns_after_the_limit_is_lowered() -> None:
    # test-event-emitter-check-listener-leaks ("specific"), node v20: 5 listeners, then
    # setMaxListeners(2), a 6th -> "6 lowered listeners added to [EventEmitter]. MaxListeners is 2"
    def scenario() -> None:
        e = EventEmitter()
        for _ in range(5):
            e.on("lowered", _noop)
        e.set_max_listeners(2)
        e.on("lowered", _noop)

    caught = _leak_warnings(scenario)
    assert len(caught) == 1 and "6 lowered listeners added to" in str(caught[0].message)


def test_max_listeners_warning_carries_emitter_type_and_count() -> None:
    # test-event-emitter-max-listeners-warning: warning.emitter, .type, .count
    e = EventEmitter().set_max_listeners(1)

    def scenario() -> None:
        e.on("event-type", _noop).on("event-type", _noop)

    caught = _leak_warnings(scenario)
    assert len(caught) == 1
    w = caught[0].message
    assert (getattr(w, "emitter", None), getattr(w, "type", None), getattr(w, "count", None)) == (
        e, "event-type", 2)


def test_set_max_listeners_chains_and_rejects_negative() -> None:
    # test-event-emitter-max-listeners / -get-max-listeners
    e = EventEmitter()
    assert e.set_max_listeners(3) is e and e.get_max_listeners() == 3
    with pytest.raises(ValueError) as info:  # Node: RangeError
        e.set_max_listeners(-1)
    assert info.value.code == "ERR_OUT_OF_RANGE"  # type: ignore[attr-defined]
    assert e.get_max_listeners() == 3
    e.set_max_listeners(math.inf)  # type: ignore[arg-type]  # Node accepts Infinity
    e.on("x", _noop).on("x", _noop)
    assert e.get_max_listeners() == math.inf


def test_set_max_listeners_rejects_nan() -> None:
    # test-event-emitter-max-listeners: NaN -> ERR_OUT_OF_RANGE
    with pytest.raises(ValueError) as info:
        EventEmitter().set_max_listeners(math.nan)  # type: ignore[arg-type]
    assert info.value.code == "ERR_OUT_OF_RANGE"  # type: ignore[attr-defined]


def test_set_max_listeners_rejects_a_string_with_a_code() -> None:
    # test-event-emitter-max-listeners: 'and even this' -> TypeError ERR_INVALID_ARG_TYPE
    with pytest.raises(TypeError) as info:
        EventEmitter().set_max_listeners("and even this")  # type: ignore[arg-type]
    assert getattr(info.value, "code", None) == "ERR_INVALID_ARG_TYPE"


def test_process_wide_default_max_listeners(monkeypatch: pytest.MonkeyPatch) -> None:
    # test-event-emitter-check-listener-leaks ("process-wide"): EventEmitter.defaultMaxListeners
    # = 42 -> the 43rd listener warns; an emitter's own limit still wins
    import nodetls.events as events_module

    monkeypatch.setattr(events_module, "default_max_listeners", 42)
    e = EventEmitter()
    assert e.get_max_listeners() == 42
    assert _leak_warnings(lambda: [e.on("fortytwo", _noop) for _ in range(42)]) == []
    caught = _leak_warnings(lambda: e.on("fortytwo", _noop))
    assert len(caught) == 1 and "43 fortytwo listeners" in str(caught[0].message)
    own = EventEmitter().set_max_listeners(1)
    assert len(_leak_warnings(lambda: own.on("uno", _noop).on("uno", _noop))) == 1
