"""Random scripts for the differential EventEmitter runners (``runner.js`` for Node's
``events``, ``runner.py`` for :mod:`nodetls.events`), from a seed:
``python -m tests.events.diff.gen FIRST COUNT > scripts.json``.

The script language (JSON)::

    {"kind": "plain"|"readable", "fns": [ACT, ...], "ops": [OP, ...]}

``kind``: the emitter is a plain ``EventEmitter`` or a ``stream.Readable`` (whose ``_read`` does
nothing: Node's ``kShapeMode`` table of preset keys; only events a Readable gives no meaning
to are used on it, besides 'close' and 'error').

``fns`` is the pool of listener functions ``f0``, ``f1``...: each logs ``fI ARGS`` at every
call (a function may be added to several events: the ``emit`` line before tells which), then, on its
first ``reps`` calls only (and when listeners are nested less than 6 deep), does its ACT:
``["log"]`` (nothing more), ``[ADD, EV, J]`` (ADD: on, once, prepend, prepend_once: add
``fJ`` for EV), ``["off", EV, J]``, ``["emit", EV]`` (logging what it returns), ``["rmall",
EV|null]``, ``["count", EV]`` (logs listenerCount). Anything the ACT throws is logged
(``fI throw CODE``), so no exception escapes a listener (nodetls deliberately handles those
differently from Node). ``reps`` is 1 unless the ACT is ``["log"]``.

An OP: ``[ADD, EV, J]``, ``["off", EV, J]``, ``["rmall", EV|null]``, ``["emit", EV, NARGS]``
(``"error"``: NARGS 0 (no argument), 1 (an Error with code EBOOM), or 2 (a string: Node's
ERR_UNHANDLED_ERROR)), ``["max", N]`` (setMaxListeners; N may be bad: -1, "x"), ``["count",
EV, J|null]`` (listenerCount(EV[, fJ])), ``["names"]``, ``["listeners", EV]``, ``["raw",
EV]``, ``["bad", ADD|"off"]`` (a non-function listener: throws).

EV is one of ``a``, ``b``, ``error``, ``newListener``, ``removeListener``, ``monitor``
(``events.errorMonitor``), and ``close`` on a Readable. Arguments are logged as names: a pool
function ``fI``, a once wrapper ``w(fI)``, an error ``E:CODE``, ``monitor``, or the string.
"""

from __future__ import annotations

import random
from typing import Any

from ...helpers.difftest import gen_main

_ADD = ("on", "once", "prepend", "prepend_once")
_PLAIN_EVENTS = ("a", "a", "a", "b", "b", "error", "newListener", "removeListener", "monitor")


def _act(r: random.Random, events: tuple[str, ...], nfns: int) -> list[Any]:
    x = r.random()
    if x < 0.3:
        return ["log"]
    if x < 0.55:
        return [r.choice(_ADD), r.choice(events), r.randrange(nfns)]
    if x < 0.75:
        return ["off", r.choice(events), r.randrange(nfns)]
    if x < 0.87:
        return ["emit", r.choice(events)]
    if x < 0.94:
        return ["rmall", r.choice(events + (None,))]
    return ["count", r.choice(events)]


def _op(r: random.Random, events: tuple[str, ...], nfns: int) -> list[list[Any]]:
    x = r.random()
    f = r.randrange(nfns)
    ev = r.choice(events)
    if x < 0.36:
        return [[r.choice(_ADD), ev, f]]
    if x < 0.48:
        return [["off", ev, f]]
    if x < 0.72:
        return [["emit", ev, r.choice((0, 1, 1, 2))]]
    if x < 0.76:
        return [["rmall", r.choice(events + (None,))]]
    if x < 0.80:
        n = r.choice((0, 1, 1, 2, 3, -1, "x"))
        # a limit, then enough additions to pass it
        return [["max", n]] + [["on", "a", r.randrange(nfns)] for _ in range(r.randrange(0, 5))]
    if x < 0.86:
        return [["count", ev, r.choice((None, f))]]
    if x < 0.91:
        return [["names"]]
    if x < 0.95:
        return [[r.choice(("listeners", "raw")), ev]]
    if x < 0.97:
        return [["bad", r.choice(_ADD + ("off",))]]
    # edge: a once listener added for an event, then emitted twice
    return [["once", ev, f], ["emit", ev, 1], ["emit", ev, 0]]


def generate(seed: int) -> dict[str, Any]:
    """The script of ``seed``: 4-20 ops over a pool of 2-6 listener functions."""
    r = random.Random(seed)
    kind = "readable" if r.random() < 0.2 else "plain"
    events = _PLAIN_EVENTS + (("close",) if kind == "readable" else ())
    nfns = r.randrange(2, 7)
    fns = [_act(r, events, nfns) for _ in range(nfns)]
    ops: list[list[Any]] = []
    n = r.randrange(4, 21)
    while len(ops) < n:
        ops += _op(r, events, nfns)
    return {"kind": kind, "fns": fns, "ops": ops}


def main() -> None:
    gen_main(generate)


if __name__ == "__main__":
    main()
