"""Accepted sockets built from a prototype's state (``net.Socket._accepted_state``), and the
socket's own first ``'end'`` listener (Node's ``onReadableStreamEnd``), which that state's
:attr:`AcceptedState.fill` adds to every socket it fills.

A server builds the state once per set of options by running ``Socket.__init__`` on a prototype
over :data:`_PROTO_HANDLE` (:func:`instance_state` reads what it set), then gives it to each
accepted connection in one call (``Socket._init_accepted``).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

__all__ = ["AcceptedState", "instance_state"]


class _ProtoHandle:
    """The handle of a prototype socket (:meth:`Socket._accepted_state`): already reading."""

    owner: Any = None
    reading = True

    def read_start(self) -> None:
        pass

    def read_stop(self) -> None:
        pass


_PROTO_HANDLE = _ProtoHandle()
# What a prototype's state may share with every socket built from it: values never mutated in
# place (the shared empty buffers are replaced before their first use).
_SHAREABLE_TYPES = frozenset({bool, int, float, str, bytes, type(None), tuple, frozenset})


def instance_state(obj: Any) -> dict[str, Any]:
    """``obj``'s attributes: the values of its slots that are set (base classes' first), then
    its ``__dict__``."""
    state: dict[str, Any] = {}
    cls = type(obj)
    for klass in reversed(cls.__mro__):
        slots = klass.__dict__.get("__slots__", ())
        for name in (slots,) if type(slots) is str else slots:
            descr = klass.__dict__.get(name)
            if name in ("__dict__", "__weakref__") or descr is None:
                continue
            try:
                state[name] = descr.__get__(obj, cls)
            except AttributeError:
                pass
    state.update(getattr(obj, "__dict__", ()))
    return state


class AcceptedState(dict):  # type: ignore[type-arg]
    """The state an accepted socket starts with (:meth:`Socket._accepted_state`), name -> value,
    and :attr:`fill`, which gives it to a new socket: a function compiled for this state that
    stores every entry (a slot's, mostly) from one tuple, then the socket's own ``'end'``
    listener (``_events``) and pipe list (``_r_pipes``). ``self.a, self.b, ... = values``: two
    bytecodes per entry (``LOAD_FAST``, ``STORE_ATTR``), where ``self.a = value`` takes three;
    storing them in a loop, ``setattr`` per entry, costs ~7x as many instructions."""

    __slots__ = ("fill",)

    def __init__(self, state: dict[str, Any]) -> None:
        super().__init__(state)
        for name in state:
            if not name.isidentifier() or name.startswith("__") or name in ("_events", "_r_pipes"):
                raise ValueError(f"not an attribute name: {name!r}")
        stores = "".join(f"self.{name}, " for name in state)
        source = ("def fill(self):\n"
                  + (f"    {stores}= _VALUES\n" if state else "")
                  + '    self._events = {"end": (_END(self),)}\n'
                  + "    self._r_pipes = []\n")
        values: dict[str, Any] = {"_VALUES": tuple(state.values()), "_END": _OnReadableStreamEnd}
        exec(compile(source, f"<accepted state of {len(state)}>", "exec"), values)
        self.fill: Callable[[Any], None] = values["fill"]


class _OnReadableStreamEnd(weakref.ref):  # type: ignore[type-arg]
    """Node's ``onReadableStreamEnd``, the socket's own first ``'end'`` listener. It holds its
    socket weakly: a bound method would be a reference cycle (socket -> listeners -> socket)
    left to the cyclic garbage collector after every connection."""

    __slots__ = ()

    def __call__(self, *_: Any) -> None:
        sock = _deref(self)
        if sock is not None and not sock.allow_half_open:
            sock._fin_received = True

    def __repr__(self) -> str:
        return "<function onReadableStreamEnd>"


_deref = weakref.ref.__call__
