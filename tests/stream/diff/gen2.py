"""Random scripts of the composite stream APIs (version 2 of the stream harness), from a seed:
``python -m tests.stream.diff.gen2 FIRST COUNT > scripts.json``.

``gen.py``'s scripts (single streams and ``pipe``) and their records (``expected.json``) are
left as they were; these scripts are a separate generator with their own records
(``expected2.json``, ``record2.py``, ``batch2.py``, ``test_stream_differential2.py``), run by
the same runners (``runner.js``, ``runner.py``). They are marked ``"v": 2``.

The language is ``gen.py``'s, plus:

* a SPEC of kind ``"from"``: ``Readable.from(src, {objectMode: false, highWaterMark})`` (Node;
  nodetls ``Readable.from_``) of the chunks ``src``, an array (``"async": false``) or an async
  generator yielding them (``"async": true``); the ordinary ops apply to it as to a readable;
* ``["pipeline", -1, STAGES, FORM, END]``: ``stream.pipeline(...stages, cb)`` (``FORM``
  ``"cb"``: the callback logs ``pl@K ERR VALUE`` in the main log) or
  ``stream.promises.pipeline(...stages, {end: END})`` (``"promise"``: ``pl@K resolve VALUE`` /
  ``pl@K reject ERR`` in the async log). A STAGE is a stream's index, ``["gen", [CHUNK...]]``
  (a source: an async generator function yielding the chunks, logging ``g@K yield C``),
  ``"agen"`` (a middle stage: an async generator function passing the chunks of its source
  through, logging ``a@K C``) or ``"adest"`` (the destination: an async function logging each
  chunk ``d@K C`` and returning ``"v"``);
* ``["finished", T, OPTS|null, FORM]``: ``stream.finished(s, OPTS, cb)`` (``"cb"``: logs
  ``fin@K ERR`` in the main log) or ``stream.promises.finished(s, OPTS)`` (``"promise"``:
  ``fin@K ok`` / ``fin@K reject ERR`` in the async log); OPTS: ``readable``, ``writable``,
  ``error`` (and ``cleanup`` for the promise);
* ``["iter", T, N|null, DOR]``: a task iterating stream T with ``for await`` (``DOR`` null:
  ``for await (c of s)``; else ``s.iterator({destroyOnReturn: DOR})``), logging ``it@K C`` for
  each chunk, ``it@K break`` after N chunks (then ``break``), ``it@K done`` or
  ``it@K error ERR`` in the async log;
* ``["signal", T]``: ``stream.addAbortSignal(ac.signal, s)`` (one AbortController a script);
  ``["abort", -1]``: ``ac.abort()``. nodetls has no AbortSignal: its runner does what Node's
  ``addAbortSignal`` does (destroy the stream with an ``AbortError`` at the abort, unless the
  stream was already done, ``eos``, by then).

What runs on promises (async iteration, generator stages, the promise forms) logs in a log of
its own (``alog``): JavaScript runs promise reactions after the whole nextTick queue, asyncio
interleaves them with ``call_soon`` callbacks, so only the order within each log is compared.
"""

from __future__ import annotations

import random
from typing import Any

from ...helpers.difftest import gen_main
from .gen import _chunk, _ops_for, _spec


def _from_spec(r: random.Random) -> dict[str, Any]:
    return {"kind": "from", "hwm": r.choices((None, 0, 1, 3), (50, 10, 25, 15))[0],
            "src": [_chunk(r) for _ in range(r.randrange(0, 4))], "async": r.random() < 0.4}


def _src_spec(r: random.Random) -> dict[str, Any]:
    kind = r.choices(("readable", "from", "passthrough", "transform", "duplex"),
                     (30, 30, 15, 15, 10))[0]
    return _from_spec(r) if kind == "from" else _spec(r, kind)


def _pipeline(r: random.Random, streams: list[dict[str, Any]]) -> list[Any]:
    """A pipeline op of 2-4 stages (new streams added to ``streams``)."""
    def new(spec: dict[str, Any]) -> int:
        streams.append(spec)
        return len(streams) - 1

    n = r.choices((2, 3, 4), (45, 40, 15))[0]
    stages: list[Any] = []
    if r.random() < 0.15:
        stages.append(["gen", [_chunk(r) for _ in range(r.randrange(0, 4))]])
    else:
        stages.append(new(_src_spec(r)))
    for _ in range(n - 2):
        if r.random() < 0.25:
            stages.append("agen")
        else:
            stages.append(new(_spec(r, r.choice(("passthrough", "transform", "duplex")))))
    if r.random() < 0.15 and any(isinstance(st, int) for st in stages):
        stages.append("adest")
    else:
        stages.append(new(_spec(r, r.choice(("writable", "writable", "passthrough",
                                               "transform")))))
    form = "promise" if r.random() < 0.4 else "cb"
    return ["pipeline", -1, stages, form, not (form == "promise" and r.random() < 0.15)]


def _finished(r: random.Random, t: int) -> list[Any]:
    form = "promise" if r.random() < 0.35 else "cb"
    opts: dict[str, Any] | None = None
    if r.random() < 0.5:
        opts = {}
        for key in ("readable", "writable", "error") + (("cleanup",) if form == "promise" else ()):
            if r.random() < 0.3:
                opts[key] = r.random() < 0.4
    return ["finished", t, opts, form]


def _readable_kind(spec: dict[str, Any]) -> bool:
    return spec["kind"] in ("readable", "from", "duplex", "transform", "passthrough")


def _ordinary(r: random.Random, t: int, spec: dict[str, Any]) -> list[list[Any]]:
    if spec["kind"] == "from":
        return _ops_for(r, t, {"kind": "readable"})
    return _ops_for(r, t, spec)


def generate(seed: int) -> dict[str, Any]:
    """The script of ``seed``: a pipeline (half of them), an iteration or ``finished`` calls,
    among 3-12 ordinary ops; the composite ops at the start or among the others."""
    r = random.Random(seed)
    shape = r.choices(("pipeline", "iter", "finished"), (50, 28, 22))[0]
    streams: list[dict[str, Any]] = []
    special: list[list[Any]] = []
    if shape == "pipeline":
        special.append(_pipeline(r, streams))
    elif shape == "iter":
        streams.append(_src_spec(r))
        special.append(["iter", 0, r.choice((None, None, 1, 2)),
                        r.choice((None, None, True, False))])
    else:
        streams.append(_src_spec(r) if r.random() < 0.5 else _spec(r, r.choice(
            ("writable", "duplex", "transform", "passthrough"))))
        special.append(_finished(r, 0))
    # more of the composite ops, sometimes
    if r.random() < 0.3:
        special.append(_finished(r, r.randrange(len(streams))))
    if r.random() < 0.12:
        cands = [i for i, s in enumerate(streams) if _readable_kind(s)]
        if cands:
            special.append(["iter", r.choice(cands), r.choice((None, 1, 2)),
                            r.choice((None, True, False))])
    if r.random() < 0.15:
        special.append(["signal", r.randrange(len(streams))])
        special.append(["abort", -1])
    n = r.choices(range(3, 13), (6, 8, 8, 8, 7, 6, 5, 4, 3, 2))[0]
    ops: list[list[Any]] = []
    while len(ops) < n:
        t = r.randrange(len(streams))
        ops += _ordinary(r, t, streams[t])
    for i, op in enumerate(special):
        if op[0] == "abort":  # after its signal
            lo = next(j for j, o in enumerate(ops) if o[0] == "signal") + 1
            ops.insert(r.randrange(lo, len(ops) + 1), op)
        elif i == 0 and r.random() < 0.6:
            ops.insert(0, op)
        else:
            ops.insert(r.randrange(len(ops) + 1), op)
    return {"v": 2, "streams": streams, "ops": ops}


def main() -> None:
    gen_main(generate)


if __name__ == "__main__":
    main()
