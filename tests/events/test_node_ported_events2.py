"""Node v20's own EventEmitter tests, second batch (session 29), as scenarios for
``nodetls.events``. Each expectation is what node v20 printed for the same scenario (checked by
running it); the Node test each one ports is named in its comment
(``test/parallel/test-event-emitter-<name>.js`` / ``test-events-<name>.js``)."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import pytest

from nodetls import events
from nodetls.errors import NodeError
from nodetls.events import EventEmitter, MaxListenersExceededWarning, error_monitor


def _noop(*_: Any) -> None:
    pass


@pytest.mark.parametrize("method", ["on", "add_listener", "once", "prepend_listener",
                                    "prepend_once_listener", "remove_listener", "off"])
def test_listener_must_be_a_function(method: str) -> None:
    # test-event-emitter-invalid-listener.js: on/once/removeListener/prependOnceListener('foo',
    # null) raise ERR_INVALID_ARG_TYPE (a TypeError) naming "listener" -- None included (the
    # decorator form is on('foo') with no listener at all)
    ee = EventEmitter()
    with pytest.raises(TypeError) as info:
        getattr(ee, method)("foo", None)
    assert info.value.code == "ERR_INVALID_ARG_TYPE"  # type: ignore[attr-defined]
    assert str(info.value).startswith('The "listener" argument must be of type function.')
    assert ee.listener_count("foo") == 0


def test_decorator_form_still_works_without_a_listener() -> None:
    # (the Python form of on/once, next to test-event-emitter-invalid-listener.js)
    ee = EventEmitter()
    got: list[Any] = []

    @ee.on("x")
    def on_x(v: Any) -> None:
        got.append(("on", v))

    @ee.once("x")
    def once_x(v: Any) -> None:
        got.append(("once", v))

    ee.emit("x", 1)
    ee.emit("x", 2)
    assert got == [("on", 1), ("once", 1), ("on", 2)]


def test_listeners_get_the_arguments_emitted() -> None:
    # test-event-emitter-num-args.js: a listener sees as many arguments as emit() was given
    e = EventEmitter()
    seen: list[int] = []
    e.on("numArgs", lambda *a: seen.append(len(a)))
    e.on("foo", lambda *a: seen.append(len(a)))
    e.on("foo", lambda *a: seen.append(len(a)))
    for n in range(6):
        e.emit("numArgs", *([None] * n))
    e.emit("foo", None, None, None, None)
    assert seen == [0, 1, 2, 3, 4, 5, 4, 4]


async def test_error_monitor_sees_every_error_including_events_once() -> None:
    # test-event-emitter-error-monitor.js: the monitor sees an unhandled 'error' (which still
    # raises), a handled one, and one that rejects events.once(); other events do not reach it
    ee = EventEmitter()
    the_err = ValueError("MyError")
    seen: list[Any] = []
    ee.on(error_monitor, seen.append)
    with pytest.raises(ValueError) as info:
        ee.emit("error", the_err)
    assert info.value is the_err
    handled: list[Any] = []
    ee.once("error", handled.append)
    ee.emit("error", the_err)
    assert handled == [the_err]
    waiting = asyncio.ensure_future(events.once(ee, "notTriggered"))
    await asyncio.sleep(0)  # (the task starts: once() listens)
    ee.emit("error", the_err)
    with pytest.raises(ValueError) as info2:
        await asyncio.wait_for(waiting, 5)
    assert info2.value is the_err
    ee.on("aEvent", _noop)
    ee.emit("aEvent")
    assert seen == [the_err, the_err, the_err]


def test_listener_count_of_one_listener() -> None:
    # test-events-listener-count-with-listener.js: listener_count(event, listener) counts that
    # function's registrations, once wrappers included; emit and off update it
    ee = EventEmitter()
    calls: list[str] = []

    def handler() -> None:
        calls.append("h")

    def another() -> None:
        calls.append("a")

    def counts(event: str = "event") -> tuple[int, int, int]:
        return (ee.listener_count(event), ee.listener_count(event, handler),
                ee.listener_count(event, another))

    assert counts() == (0, 0, 0)
    ee.once("event", handler)
    assert counts() == (1, 1, 0)
    ee.remove_all_listeners("event")
    assert counts() == (0, 0, 0)
    ee.on("event", handler)
    assert counts() == (1, 1, 0)
    ee.once("event", another)
    assert counts() == (2, 1, 1)
    assert counts("another-event") == (0, 0, 0)
    ee.once("event", handler)
    assert counts() == (3, 2, 1)
    ee.emit("event")
    assert counts() == (1, 1, 0)
    ee.emit("event")
    assert counts() == (1, 1, 0)
    ee.off("event", handler)
    assert counts() == (0, 0, 0)
    assert calls == ["h", "a", "h", "h"]


def test_event_names_in_insertion_order_any_hashable_name() -> None:
    # test-events-list.js / test-event-emitter-symbols.js (an object() as the Symbol): names
    # come and go with their listeners; a non-string name works like any other
    ee = EventEmitter()
    m = _noop
    ee.on("foo", lambda: None)
    assert ee.event_names() == ["foo"]
    ee.on("bar", m)
    assert ee.event_names() == ["foo", "bar"]
    ee.remove_listener("bar", m)
    assert ee.event_names() == ["foo"]
    sym: Any = object()
    ee.on(sym, m)
    assert ee.event_names() == ["foo", sym]
    ee.remove_listener(sym, m)
    assert ee.event_names() == ["foo"]
    got: list[str] = []

    def listener() -> None:
        got.append("called")

    ee.on(sym, listener)
    assert ee.listeners(sym) == [listener]
    ee.emit(sym)
    ee.remove_all_listeners()
    assert ee.listeners(sym) == []
    ee.on(sym, listener)
    ee.remove_listener(sym, listener)
    assert ee.listeners(sym) == [] and got == ["called"]


@pytest.mark.parametrize("name", [None, "symbol"])
def test_max_listeners_warning_for_unusual_event_names(name: Any) -> None:
    # test-event-emitter-max-listeners-warning-for-null.js / -for-symbol.js: limit 1, two
    # listeners of the None (Node: null) or an object() (Node: a Symbol) event: one warning,
    # with the emitter, the name as type and the count 2
    event: Any = object() if name == "symbol" else None
    e = EventEmitter()
    e.set_max_listeners(1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        e.on(event, _noop)
        e.on(event, _noop)
    assert len(caught) == 1
    w: Any = caught[0].message
    assert isinstance(w, MaxListenersExceededWarning)
    assert w.emitter is e and w.type is event and w.count == 2
    assert f"2 {event} listeners added to [EventEmitter]." in str(w)


def test_subclass_emitting_in_its_constructor() -> None:
    # test-event-emitter-subclass.js: a subclass that emits 'error' while being built raises it;
    # one that adds, emits and removes its own listeners there works; two instances of a
    # subclass share no listeners
    class ErrorEE(EventEmitter):
        def __init__(self) -> None:
            super().__init__()
            self.emit("error", ValueError("blerg"))

    with pytest.raises(ValueError, match="blerg"):
        ErrorEE()
    got: list[str] = []

    class MyEE(EventEmitter):
        def __init__(self, cb: Any) -> None:
            super().__init__()
            self.once(1, cb)  # type: ignore[arg-type]
            self.emit(1)  # type: ignore[arg-type]
            self.remove_all_listeners()

    myee = MyEE(lambda: got.append("cb"))
    assert got == ["cb"] and myee.event_names() == []
    ee1, ee2 = MyEE(_noop), MyEE(_noop)
    ee1.on("x", _noop)
    assert ee2.listener_count("x") == 0 and ee1.listener_count("x") == 1


def test_unhandled_error_without_argument_names_it() -> None:
    # test-event-emitter-no-error-provided-to-error-event.js (next to the tests of session 28):
    # emit('error') with nothing: ERR_UNHANDLED_ERROR; with an error_monitor listener, the
    # monitor is called (with nothing) and the emit still raises
    ee = EventEmitter()
    seen: list[tuple[Any, ...]] = []
    ee.on(error_monitor, lambda *a: seen.append(a))
    with pytest.raises(NodeError) as info:
        ee.emit("error")
    assert info.value.code == "ERR_UNHANDLED_ERROR"
    assert seen == [()]
