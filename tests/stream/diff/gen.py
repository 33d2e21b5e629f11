"""Random scripts for the differential stream runners (``runner.js`` for Node, ``runner.py`` for
nodetls), from a seed: ``python -m tests.stream.diff.gen FIRST COUNT > scripts.json``.

The script language (JSON)::

    {"streams": [SPEC, ...], "ops": [OP, ...]}

A SPEC makes one stream: ``{"kind": "readable"|"writable"|"duplex"|"transform"|"passthrough",
"hwm": int|null, "read": "noop"|"sync"|"tick", "src": [CHUNK, ...], "write":
"sync"|"tick"|"manual", "final": null|"sync"|"tick"|"error", "construct":
null|"sync"|"tick"|"error"|"manual", "autoDestroy": false?, "allowHalfOpen": false?,
"decodeStrings": false?, "emitClose": false?, "writev": true?}`` (``writev``: a ``writev`` hook too, completing as
``write``).
The ``read`` hook (readable, duplex) logs its size, then pushes the next ``src`` chunk (CHUNK
or null) at once (``sync``) or on the next tick, or nothing (``noop``, or ``src`` used up).
The ``write`` hook (writable, duplex) and ``transform`` hook (which passes the chunk through)
complete at once, on the next tick, or when an op ``wcb`` says so. ``final`` is the
``final`` hook (writable, duplex) or the transform's ``flush`` (which pushes ``ff``).
``construct``: Node's ``construct`` option, calling back at once, on the next tick, with an
error on the next tick, or at an op ``ccb``.

An OP is ``["tick"]`` (run the loop until idle) or ``[NAME, TARGET, ARGS...]``:
``push CHUNK|null``, ``read N|null``, ``write CHUNK``, ``end CHUNK|null``, ``cork``,
``uncork``, ``pause``, ``resume``, ``enc NAME`` (setEncoding), ``destroy ERR?`` (bool),
``unshift CHUNK``, ``on data MODE`` (``log``; ``pause`` or ``destroy``: log, then pause() or
destroy() in the listener), ``on readable MODE`` (``log``; ``drain``: read() until null in the
listener; ``read1``: one read(1) there), ``off data|readable`` (the oldest such listener), ``wcb ERR?`` (complete the oldest manual write),
``ccb ERR?`` (complete a manual construct), ``pipe DEST END?``, ``unpipe DEST``,
``on end|finish|drain ACTION`` (a listener logging, then, the first time, calling ``end()``,
``write()``, ``push()``, ``resume()`` or ``destroy()``: ``log`` does nothing more), ``destroy ERR? CB?``
(with a callback logging its error). ``on data unshift``: log, and the first time unshift the
chunk back.
A CHUNK is hex (a Buffer / bytes) or ``["s", text]`` (a string).

Every stream always has passive listeners for 'error', 'close', 'end' and 'finish' and 'drain'
(they change nothing in a stream's behaviour).
"""

from __future__ import annotations

import random
from typing import Any

from ...helpers.difftest import gen_main

_R_KINDS = ("readable", "duplex", "transform", "passthrough")
_W_KINDS = ("writable", "duplex", "transform", "passthrough")
_ENCODINGS = ("utf8", "hex", "base64", "latin1", "utf16le", "ascii")


def _chunk(r: random.Random) -> Any:
    x = r.random()
    if x < 0.12:  # split UTF-8 characters: the decoders must join them
        return r.choice(("c3", "a9", "e282", "ac", "c3a9", "f09f", "9880", "e282ac"))
    if x < 0.22:
        return ["s", r.choice(("a", "é", "hi", "€x", "abc"))]
    n = r.choice((1, 1, 2, 2, 3, 4, 7))
    return bytes(r.randrange(0x61, 0x67) for _ in range(n)).hex()


def _spec(r: random.Random, kind: str) -> dict[str, Any]:
    hwm = r.choices((None, 0, 1, 2, 3, 5), (35, 15, 20, 12, 10, 8))[0]
    spec: dict[str, Any] = {"kind": kind, "hwm": hwm}
    if kind in ("readable", "duplex"):
        spec["read"] = r.choice(("noop", "noop", "sync", "tick"))
        src = [_chunk(r) for _ in range(r.randrange(0, 4))]
        if r.random() < 0.5:
            src.append(None)
        spec["src"] = src
    if kind in ("writable", "duplex", "transform"):
        spec["write"] = r.choice(("sync", "tick", "manual"))
    if kind in ("writable", "duplex") and r.random() < 0.2:
        spec["writev"] = True
    if kind in ("writable", "duplex", "transform") and r.random() < 0.1:
        spec["decodeStrings"] = False
    if kind in ("writable", "duplex", "transform"):
        spec["final"] = r.choices((None, "sync", "tick", "error"), (50, 20, 20, 10))[0]
    if r.random() < 0.18:
        spec["construct"] = r.choice(("sync", "tick", "error", "manual", "manual"))
    if r.random() < 0.1:
        spec["autoDestroy"] = False
    if r.random() < 0.05:
        spec["emitClose"] = False
    if kind in ("duplex", "transform", "passthrough") and r.random() < 0.15:
        spec["allowHalfOpen"] = False
    return spec


def _ops_for(r: random.Random, t: int, spec: dict[str, Any]) -> list[list[Any]]:
    """One random operation on stream ``t`` (sometimes a short edge-case sequence)."""
    kind = spec["kind"]
    can_r = kind in _R_KINDS
    can_w = kind in _W_KINDS
    choices: list[tuple[float, Any]] = [(8, lambda: [["tick"]]),
                                        (2, lambda: [["destroy", t, r.random() < 0.5,
                                                      r.random() < 0.3]])]
    if can_r:
        choices += [
            (6, lambda: [["push", t, None if r.random() < 0.2 else _chunk(r)]]),
            (6, lambda: [["read", t, r.choice((None, None, 0, 1, 2, 3, 100))]]),
            (2, lambda: [["pause", t]]),
            (3, lambda: [["resume", t]]),
            (1.5, lambda: [["enc", t, r.choice(_ENCODINGS)]]),
            (1.5, lambda: [["unshift", t, _chunk(r)]]),
            (4, lambda: [["on", t, "data", r.choice(("log", "log", "pause", "destroy", "unshift"))]]),
            (1, lambda: [["on", t, "end", r.choice(("log", "destroy", "resume") + (
                ("end", "write") if can_w else ()))]]),
            (3, lambda: [["on", t, "readable", r.choice(("log", "drain", "read1"))]]),
            (1.5, lambda: [["off", t, r.choice(("data", "readable"))]]),
            # edge cases: push after end, read(0) on an ended stream
            (1, lambda: [["push", t, None], ["push", t, _chunk(r)]]),
            (1, lambda: [["push", t, _chunk(r)], ["push", t, None], ["read", t, 0]]),
        ]
    if can_w:
        choices += [
            (8, lambda: [["write", t, _chunk(r)]]),
            (4, lambda: [["end", t, None if r.random() < 0.6 else _chunk(r)]]),
            (2, lambda: [["cork", t]]),
            (2, lambda: [["uncork", t]]),
            (1.5, lambda: [["on", t, r.choice(("finish", "drain")), r.choice(
                ("log", "end", "write", "destroy") + (("push", "resume") if can_r else ()))]]),
            # edge cases: destroy while writing, end while corked, write after end
            (1.5, lambda: [["write", t, _chunk(r)], ["destroy", t, r.random() < 0.5]]),
            (1.5, lambda: [["cork", t], ["write", t, _chunk(r)], ["end", t, None]]),
            (1, lambda: [["end", t, None], ["write", t, _chunk(r)]]),
        ]
        if spec.get("write") == "manual":
            choices.append((6, lambda: [["wcb", t, r.random() < 0.2]]))
    if spec.get("construct") == "manual":
        choices.append((4, lambda: [["ccb", t, r.random() < 0.2]]))
    weights = [w for w, _ in choices]
    return r.choices([f for _, f in choices], weights)[0]()  # type: ignore[no-any-return]


def generate(seed: int) -> dict[str, Any]:
    """The script of ``seed``: short (3-12 ops), biased to the edge cases."""
    r = random.Random(seed)
    shape = r.choices(("readable", "writable", "duplex", "transform", "passthrough", "pipe"),
                      (28, 24, 12, 12, 8, 16))[0]
    ops: list[list[Any]] = []
    if shape == "pipe":
        streams = [_spec(r, r.choice(("readable", "readable", "passthrough", "transform", "duplex"))),
                   _spec(r, r.choice(("writable", "writable", "passthrough", "transform")))]
        ops.append(["pipe", 0, 1, r.random() < 0.85])
        x = r.random()
        if x < 0.12:  # a chain: 0 -> 1 -> 2
            streams[1] = _spec(r, r.choice(("passthrough", "transform")))
            streams.append(_spec(r, r.choice(("writable", "passthrough"))))
            ops.append(["pipe", 1, 2, r.random() < 0.85])
        elif x < 0.22:  # two destinations
            streams.append(_spec(r, r.choice(("writable", "passthrough"))))
            ops.append(["pipe", 0, 2, r.random() < 0.85])
    else:
        streams = [_spec(r, shape)]
    n = r.choices(range(3, 13), (6, 8, 8, 8, 7, 6, 5, 4, 3, 2))[0]
    while len(ops) < n:
        t = r.randrange(len(streams))
        ops += _ops_for(r, t, streams[t])
        if len(streams) > 1 and r.random() < 0.04:
            ops.append(["unpipe", 0, r.randrange(1, len(streams))])
    return {"streams": streams, "ops": ops}


def main() -> None:
    gen_main(generate)


if __name__ == "__main__":
    main()
