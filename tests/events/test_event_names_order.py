"""``event_names()`` order as Node v20's (``lib/events.js``: ``_addListener``, ``removeListener``,
``removeAllListeners``, ``eventNames`` = ``Reflect.ownKeys(this._events)``; a stream's
``eventNames`` lists the keys with listeners).

Node deletes an event's key with its last listener, so a new listener lists the event last --
except on a stream: its constructor presets ``_events`` (``kShapeMode``) and a removal then only
sets the key to ``undefined``, which keeps its place (presets and any other key alike) and emits
no ``'removeListener'``. ``removeAllListeners()`` starts a new table; ``removeAllListeners(name)``
with no ``'removeListener'`` listener deletes the key and ends ``kShapeMode`` (later removals
delete keys and report), while with one it removes each listener as ``removeListener`` does.
Every expectation below is node v20.20's output for the same operations (the script run is in
the module's ``OPS`` legend).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from nodetls import net
from nodetls.events import EventEmitter, error_monitor
from nodetls.stream import Duplex, PassThrough, Readable, Writable

#: Operations, space-separated: ``+x`` on('x', fx), ``2x`` on('x', fx2), ``-x`` off('x', fx),
#: ``=x`` off('x', fx2), ``^x`` prepend_listener('x', fx), ``1x`` once('x', fx), ``!x`` emit('x'),
#: ``*x`` remove_all_listeners('x'), ``**`` remove_all_listeners(), ``L`` on('removeListener',
#: log) (the log: the events 'removeListener' reports).
OPS = "+ 2 - = ^ 1 ! * L"

MAKERS: dict[str, Callable[[], EventEmitter]] = {
    "EE": EventEmitter,
    "R": lambda: Readable(read=lambda n: None),
    "W": lambda: Writable(write=lambda chunk, cb: cb()),
    "D": lambda: Duplex(read=lambda n: None, write=lambda chunk, cb: cb()),
    "P": PassThrough,  # (Node's Transform has its own 'prefinish' listener)
    "S": net.Socket,  # (its own 'end' listener, as Node's net.Socket)
}


def run(kind: str, ops: str) -> tuple[list[Any], list[Any]]:
    """Apply ``ops`` to a new emitter of ``kind``: its ``event_names()`` and the log."""
    em = MAKERS[kind]()
    log: list[Any] = []
    fns: dict[str, Callable[..., None]] = {}

    def fn(name: str) -> Callable[..., None]:
        return fns.setdefault(name, lambda *a: None)

    for op in ops.split():
        c, name = op[0], op[1:]
        if c == "+":
            em.on(name, fn(name))
        elif c == "2":
            em.on(name, fn(name + "2"))
        elif c == "-":
            em.off(name, fn(name))
        elif c == "=":
            em.off(name, fn(name + "2"))
        elif c == "^":
            em.prepend_listener(name, fn(name))
        elif c == "1":
            em.once(name, fn(name))
        elif c == "!":
            em.emit(name)
        elif c == "*":
            em.remove_all_listeners(None if name == "*" else name)
        elif c == "L":
            em.on("removeListener", lambda event, listener: log.append(event))
        else:  # pragma: no cover
            raise AssertionError(op)
    names = em.event_names()
    if isinstance(em, net.Socket):
        em.destroy()
    return names, log


# node v20.20 (the same operations on events.EventEmitter, stream.Readable, Writable, Duplex,
# PassThrough): eventNames() and what 'removeListener' reported
CASES: list[tuple[str, dict[str, tuple[list[str], list[str]]]]] = [
    ("+a +b -a +a", {
        "EE": (["b", "a"], []),
        "R": (["a", "b"], []),
        "W": (["a", "b"], []),
        "D": (["a", "b"], []),
        "P": (["prefinish", "a", "b"], []),
    }),
    ("1a +b !a +a", {
        "EE": (["b", "a"], []),
        "R": (["a", "b"], []),
        "W": (["a", "b"], []),
        "D": (["a", "b"], []),
        "P": (["prefinish", "a", "b"], []),
    }),
    ("^a +b -a ^a +c ^b", {
        "EE": (["b", "a", "c"], []),
        "R": (["a", "b", "c"], []),
        "W": (["a", "b", "c"], []),
        "D": (["a", "b", "c"], []),
        "P": (["prefinish", "a", "b", "c"], []),
    }),
    ("+a 2a +b -a =a +a", {
        "EE": (["b", "a"], []),
        "R": (["a", "b"], []),
        "W": (["a", "b"], []),
        "D": (["a", "b"], []),
        "P": (["prefinish", "a", "b"], []),
    }),
    ("+x +data -data +data", {
        "EE": (["x", "data"], []),
        "R": (["data", "x"], []),
        "W": (["x", "data"], []),
        "D": (["data", "x"], []),
        "P": (["prefinish", "data", "x"], []),
    }),
    ("+x +close -close +close", {
        "EE": (["x", "close"], []),
        "R": (["close", "x"], []),
        "W": (["close", "x"], []),
        "D": (["close", "x"], []),
        "P": (["close", "prefinish", "x"], []),
    }),
    ("+a +b -a *zz +c +a", {
        "EE": (["b", "c", "a"], []),
        "R": (["a", "b", "c"], []),
        "W": (["a", "b", "c"], []),
        "D": (["a", "b", "c"], []),
        "P": (["prefinish", "a", "b", "c"], []),
    }),
    ("+a +data *data +data", {
        "EE": (["a", "data"], []),
        "R": (["a", "data"], []),
        "W": (["a", "data"], []),
        "D": (["a", "data"], []),
        "P": (["prefinish", "a", "data"], []),
    }),
    ("+a +b *a +a", {
        "EE": (["b", "a"], []),
        "R": (["b", "a"], []),
        "W": (["b", "a"], []),
        "D": (["b", "a"], []),
        "P": (["prefinish", "b", "a"], []),
    }),
    ("+a *b L +close -close", {
        "EE": (["a", "removeListener"], ["close"]),
        "R": (["a", "removeListener"], ["close"]),
        "W": (["a", "removeListener"], ["close"]),
        "D": (["a", "removeListener"], ["close"]),
        "P": (["prefinish", "a", "removeListener"], ["close"]),
    }),
    ("L +a +close -close", {
        "EE": (["removeListener", "a"], ["close"]),
        "R": (["removeListener", "a"], []),
        "W": (["removeListener", "a"], []),
        "D": (["removeListener", "a"], []),
        "P": (["prefinish", "removeListener", "a"], []),
    }),
    ("+a +b -a L *b +c +a +b", {
        "EE": (["removeListener", "c", "a", "b"], ["b"]),
        "R": (["a", "b", "removeListener", "c"], []),
        "W": (["a", "b", "removeListener", "c"], []),
        "D": (["a", "b", "removeListener", "c"], []),
        "P": (["prefinish", "a", "b", "removeListener", "c"], []),
    }),
    ("+a +b -a *zz -b +c +a", {
        "EE": (["c", "a"], []),
        "R": (["c", "a"], []),
        "W": (["c", "a"], []),
        "D": (["c", "a"], []),
        "P": (["prefinish", "a", "c"], []),
    }),
    ("+a -a ** +b +data +a", {
        "EE": (["b", "data", "a"], []),
        "R": (["b", "data", "a"], []),
        "W": (["b", "data", "a"], []),
        "D": (["b", "data", "a"], []),
        "P": (["b", "data", "a"], []),
    }),
    ("+a +b -a *b +c +a", {
        "EE": (["c", "a"], []),
        "R": (["c", "a"], []),
        "W": (["c", "a"], []),
        "D": (["c", "a"], []),
        "P": (["prefinish", "a", "c"], []),
    }),
    ("L +a +b 2b +data -a ** +a", {
        "EE": (["a"], ["a", "b", "b", "data"]),
        "R": (["a"], ["b"]),
        "W": (["a"], ["b"]),
        "D": (["a"], ["b"]),
        "P": (["a"], ["b"]),
    }),
    ("1a 1b 1c !b !a +c +b +a", {
        "EE": (["c", "b", "a"], []),
        "R": (["a", "b", "c"], []),
        "W": (["a", "b", "c"], []),
        "D": (["a", "b", "c"], []),
        "P": (["prefinish", "a", "b", "c"], []),
    }),
    ("+data +a -data *zz +data", {
        "EE": (["a", "data"], []),
        "R": (["data", "a"], []),
        "W": (["data", "a"], []),
        "D": (["data", "a"], []),
        "P": (["prefinish", "data", "a"], []),
    }),
]

# node v20.20, net.Socket() (never connected)
SOCKET_CASES: list[tuple[str, dict[str, tuple[list[str], list[str]]]]] = [
    ("+x +data -data +data", {
        "S": (["data", "end", "x"], []),
    }),
    ("+a +b -a +a", {
        "S": (["end", "a", "b"], []),
    }),
    ("1a +b !a +a", {
        "S": (["end", "a", "b"], []),
    }),
    ("+a +data *data +data", {
        "S": (["end", "a", "data"], []),
    }),
    ("+a +b -a *zz -b +c +a", {
        "S": (["end", "a", "c"], []),
    }),
    ("+data +a -data *zz +data", {
        "S": (["data", "end", "a"], []),
    }),
]


@pytest.mark.parametrize(("ops", "expected"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("kind", ["EE", "R", "W", "D", "P"])
async def test_event_names_order_as_node(
        kind: str, ops: str, expected: dict[str, tuple[list[str], list[str]]]) -> None:
    # (async: a readable's on('data') resumes it on the running loop)
    names, log = run(kind, ops)
    assert (names, log) == expected[kind]


@pytest.mark.parametrize(("ops", "expected"), SOCKET_CASES, ids=[c[0] for c in SOCKET_CASES])
async def test_socket_event_names_order_as_node(
        ops: str, expected: dict[str, tuple[list[str], list[str]]]) -> None:
    # (a socket's on('data') resumes it: a running loop)
    names, log = run("S", ops)
    assert (names, log) == expected["S"]


def test_stream_key_reused_after_shape_mode_ended() -> None:
    # Node: the keys left without a listener stay in the table after kShapeMode ended
    # (removeAllListeners('zz')); a removal then deletes its key and reports it
    r = Readable(read=lambda n: None)
    f, g, h = (lambda: None), (lambda: None), (lambda: None)
    reported: list[Any] = []
    r.on("a", f).on("b", g).on("c", h).off("a", f)  # 'a' keeps its place (kShapeMode)
    r.remove_all_listeners("zz")
    r.on("removeListener", lambda event, listener: reported.append((event, listener)))
    r.off("c", h)
    assert reported == [("c", h)]  # (as on a plain emitter)
    r.on("d", h).on("c", h).on("a", f)
    assert r.event_names() == ["a", "b", "removeListener", "d", "c"]  # node v20.20


def test_event_names_javascript_key_order() -> None:
    # Node's Reflect.ownKeys: array-index names first, by value; symbols (here: names that are
    # not strings, and events.errorMonitor, a Symbol in Node) after the strings. node v20.20:
    # [ '0', '1', '10', 'b', 'a', '01', Symbol(events.errorMonitor), Symbol(s) ]
    em = EventEmitter()
    sym: Any = object()
    for name in (error_monitor, "b", sym, "1", "a", "0", "10", "01"):
        em.on(name, lambda *a: None)
    assert em.event_names() == ["0", "1", "10", "b", "a", "01", error_monitor, sym]
    r = Readable()
    f = lambda *a: None  # noqa: E731
    r.on(error_monitor, f).on("x", f).off(error_monitor, f).on("y", f).on(error_monitor, f)
    r.on("error", f)
    assert r.event_names() == ["error", "x", "y", error_monitor]  # node v20.20


async def test_socket_once_listener_keeps_its_event_place() -> None:
    # The brief's case, net.Socket: on('x'), on('data'), removed, on('data') again: 'data'
    # (preset) keeps its place; a once listener that fires leaves its key in place as well
    # (node v20.20: [ 'data', 'end', 'x', 'connect', 'y' ])
    s = net.Socket()
    f = lambda *a: None  # noqa: E731
    try:
        s.on("x", f).on("data", f)
        s.remove_listener("data", f)
        s.on("data", f)
        assert s.event_names() == ["data", "end", "x"]
        s.once("connect", f)
        s.on("y", f)
        s.emit("connect")
        assert s.event_names() == ["data", "end", "x", "y"]
        s.on("connect", f)
        assert s.event_names() == ["data", "end", "x", "connect", "y"]
    finally:
        s.destroy()


async def test_unpipe_keeps_the_destinations_unpipe_key_in_place() -> None:
    # Node v20: dest.on('x'); src.pipe(dest); dest.on('y') -> [close, error, prefinish, finish,
    # x, unpipe, y]; src.unpipe(dest) -> [prefinish, x, y]; dest.on('unpipe') takes its old
    # place: [prefinish, x, unpipe, y] (pipe()'s teardown deletes the keys itself: key_gone)
    from nodetls.stream import PassThrough

    src, dest = PassThrough(), PassThrough()

    def f(*_: object) -> None:
        return None

    dest.on("x", f)
    src.pipe(dest)
    dest.on("y", f)
    assert dest.event_names() == ["close", "error", "prefinish", "finish", "x", "unpipe", "y"]
    src.unpipe(dest)
    assert dest.event_names() == ["prefinish", "x", "y"]
    dest.on("unpipe", f)
    assert dest.event_names() == ["prefinish", "x", "unpipe", "y"]
