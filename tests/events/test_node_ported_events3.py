"""Node v20's own EventEmitter tests not ported before (session 41), as scenarios for
``nodetls.events``. Each expectation is what node v20 printed for the same scenario (checked by
running it); the Node test each one ports (``test/parallel/<name>.js``) is named in its comment.

Examined and not ported: test-event-emitter-emit-context (``emit.call`` on another ``this``),
test-event-target, test-events-customevent (web ``Event``/``EventTarget``/``CustomEvent``),
test-eventemitter-asyncresource (async_hooks), test-events-add-abort-listener (AbortSignal),
test-events-uncaught-exception-stack (V8's stack text; the error itself is raised unchanged,
below)."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from nodetls import events
from nodetls.events import EventEmitter, MaxListenersExceededWarning
from nodetls.stream import Stream


def _noop(*_: Any) -> None:
    pass


def test_listeners_returns_copies() -> None:
    # test-event-emitter-listeners-side-effects: listeners() of an unknown event is an empty
    # list, listing does not create the event, and the list is a copy the emitter does not share
    e = EventEmitter()
    assert e.listeners("foo") == []
    assert e.event_names() == []
    e.on("foo", _noop)
    fl = e.listeners("foo")
    assert fl == [_noop]
    e.listeners("bar")
    assert e.event_names() == ["foo"]
    e.on("foo", print)
    fl2 = e.listeners("foo")
    assert fl2 == [_noop, print]
    fl2.append(repr)
    fl.clear()
    assert e.listeners("foo") == [_noop, print]
    assert e.listener_count("foo") == 2


def test_max_listeners_warning_for_a_non_string_event() -> None:
    # test-event-emitter-max-listeners-warning-for-symbol: an event that is not a string (node: a
    # Symbol) warns as any other: MaxListenersExceededWarning with emitter, count 2, type the
    # event, and "2 Symbol(symbol) listeners added to [EventEmitter]." in the message
    class Symbol:
        def __str__(self) -> str:
            return "Symbol(symbol)"

    symbol = Symbol()
    e = EventEmitter()
    e.set_max_listeners(1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        e.on(symbol, _noop)
        e.on(symbol, _noop)
    assert len(caught) == 1
    w: Any = caught[0].message
    assert isinstance(w, MaxListenersExceededWarning)
    assert (w.emitter, w.count, w.type) == (e, 2, symbol)
    assert "2 Symbol(symbol) listeners added to [EventEmitter]." in str(w)


def test_method_names_and_aliases() -> None:
    # test-event-emitter-method-names: off is remove_listener (the same method); on and
    # add_listener behave alike (nodetls's on is its own function: it also works as a
    # decorator); every other method's name is its own
    assert EventEmitter.off is EventEmitter.remove_listener
    for name in ("on", "add_listener"):
        e = EventEmitter()
        got: list[int] = []
        assert getattr(e, name)("x", got.append) is e
        e.emit("x", 1)
        assert got == [1]
    for name in dir(EventEmitter):
        fn = getattr(EventEmitter, name)
        if name.startswith("_") or name == "off" or not callable(fn):
            continue
        assert fn.__name__ == name


def test_prepend_listener_and_prepend_once_listener() -> None:
    # test-event-emitter-prepend: the prepended once listener runs first, then the prepended
    # one, then the one added first
    e = EventEmitter()
    order: list[str] = []
    e.on("foo", lambda: order.append("on"))
    e.prepend_listener("foo", lambda: order.append("prepend"))
    e.prepend_once_listener("foo", lambda: order.append("prepend once"))
    e.emit("foo")
    assert order == ["prepend once", "prepend", "on"]
    e.emit("foo")
    assert order[3:] == ["prepend", "on"]


def test_legacy_pipe_between_streams_without_prepend_listener() -> None:
    # test-event-emitter-prepend (second half): Stream.pipe between old-style streams whose
    # emitters lack prependListener still pipes (its 'error' listeners go on the usual way)
    r = Stream()
    r.readable = True  # type: ignore[attr-defined]
    r.prepend_listener = None  # type: ignore[assignment,method-assign]
    w = Stream()
    w.writable = True  # type: ignore[attr-defined]
    w.prepend_listener = None  # type: ignore[assignment,method-assign]
    got: list[bytes] = []
    w.write = lambda chunk: got.append(chunk) or True  # type: ignore[attr-defined]
    assert r.pipe(w) is w
    assert r.listener_count("error") == 1
    assert w.listener_count("error") == 1
    r.emit("data", b"x")
    assert got == [b"x"]


@pytest.mark.parametrize("name", ["__proto__", "__defineGetter__", "toString", "__class__",
                                  "__init__", "__dict__", "get", "keys", "hasOwnProperty"])
def test_special_event_names(name: str) -> None:
    # test-event-emitter-special-event-names: names that are properties of an object in
    # JavaScript (and in Python) are events like any other
    ee = EventEmitter()
    assert ee.event_names() == []
    assert ee.listeners(name) == []
    ee.on(name, _noop)
    ee.on("toString" if name != "toString" else "__proto__", _noop)
    assert ee.listeners(name) == [_noop]
    got: list[Any] = []
    ee.on(name, got.append)
    assert ee.emit(name, 1) is True
    assert got == [1]
    assert ee.event_names()[0] == name


def test_special_event_names_order() -> None:
    # test-event-emitter-special-event-names: event_names() in the order they were added
    ee = EventEmitter()
    for name in ("__proto__", "__defineGetter__", "toString"):
        ee.on(name, _noop)
    assert ee.event_names() == ["__proto__", "__defineGetter__", "toString"]


def test_get_max_listeners_function() -> None:
    # test-events-getmaxlisteners (the EventEmitter half; EventTarget has no counterpart):
    # events.get_max_listeners(ee) is the default until events.set_max_listeners(101, ee)
    ee = EventEmitter()
    assert events.get_max_listeners(ee) == events.default_max_listeners == 10
    events.set_max_listeners(101, ee)
    assert events.get_max_listeners(ee) == 101
    assert ee.get_max_listeners() == 101


def test_unhandled_error_is_raised_unchanged() -> None:
    # test-events-uncaught-exception-stack: emit('error', err) with no listener throws err
    # itself (node's stack starts with its own 'Error' line: the error is not wrapped)
    err = Exception()
    with pytest.raises(Exception) as info:
        EventEmitter().emit("error", err)
    assert info.value is err
