"""Random scripts for the differential net runners (``runner.js`` for Node's ``net``,
``runner.py`` for :mod:`nodetls.net`), from a seed:
``python -m tests.net.diff.gen FIRST COUNT > scripts.json``.

The script language (JSON)::

    {"server": {"allowHalfOpen": bool, "pauseOnConnect": bool},
     "client": {"allowHalfOpen": bool}, "ops": [OP, ...]}

One server on 127.0.0.1 (port 0) and one client connecting to it, in the same process; the ops
start once the client saw 'connect' and the server 'connection'. Each socket logs its own
events (``connect``, ``ready``, ``data``, ``end``, ``finish``, ``drain``, ``timeout``,
``error CODE``, ``close HAD_ERROR``, callbacks ``wcb@K CODE`` / ``endcb@K CODE``); the two
logs are kept apart (their interleaving is the kernel's). Consecutive 'data' are logged as one
(chunking is the kernel's too): ``data b:HEX`` (Buffers) or ``data s:HEX`` (strings, their
UTF-8), longer ones as ``len=N,sha=...``.

An OP is ``["settle"]`` (wait until neither socket logged anything for 30 ms, at most 1 s;
``~`` in both logs) or ``[T, NAME, ARGS...]`` with T ``"c"`` (the client) or ``"s"`` (the
accepted socket), logged ``> NAME`` then ``= RESULT`` in T's log: ``write CHUNK``, ``end
CHUNK|null``, ``destroy ERR`` (bool: an Error with code EBOOM), ``destroy_soon``, ``pause``,
``resume``, ``enc NAME`` (setEncoding), ``timeout MS`` (setTimeout), ``nodelay``, ``ref``,
``unref``. A CHUNK is hex or ``[N, BYTE]`` (N bytes of value BYTE). The ops between two settles
run synchronously, one after the other. The final state of each socket closes the result.
"""

from __future__ import annotations

import random
from typing import Any

from ...helpers.difftest import gen_main

_ENCODINGS = ("utf8", "hex", "latin1", "base64")


def _chunk(r: random.Random) -> Any:
    x = r.random()
    if x < 0.15:
        return [r.choice((16384, 20000, 65536, 200000)), r.randrange(256)]
    if x < 0.25:
        return r.choice(("c3", "a9", "e282", "ac", "c3a9"))
    return bytes(r.randrange(0x61, 0x67) for _ in range(r.choice((1, 2, 3, 5, 8)))).hex()


def _op(r: random.Random) -> list[list[Any]]:
    t = r.choice("cs")
    x = r.random()
    if x < 0.25:
        return [["settle"]]
    if x < 0.47:
        return [[t, "write", _chunk(r)]]
    if x < 0.57:
        return [[t, "end", None if r.random() < 0.6 else _chunk(r)]]
    if x < 0.63:
        return [[t, "destroy", r.random() < 0.4]]
    if x < 0.67:
        return [[t, "destroy_soon"]]
    if x < 0.74:
        return [[t, "pause"]]
    if x < 0.80:
        return [[t, "resume"]]
    if x < 0.84:
        return [[t, "enc", r.choice(_ENCODINGS)]]
    if x < 0.90:
        return [[t, "timeout", r.choice((10, 10, 0))]]
    if x < 0.93:
        return [[t, "nodelay"]]
    if x < 0.96:
        return [[t, r.choice(("ref", "unref"))]]
    # edges: write after end, end then destroy, pause with data in flight
    edges: tuple[list[list[Any]], ...] = (
        [[t, "end", None], [t, "write", "61"]],
        [[t, "end", _chunk(r)], [t, "destroy", False]],
        [[t, "pause"], ["cs".replace(t, ""), "write", _chunk(r)], ["settle"], [t, "resume"]],
    )
    return r.choice(edges)


def generate(seed: int) -> dict[str, Any]:
    """The script of ``seed``: 2-10 ops."""
    r = random.Random(seed)
    script: dict[str, Any] = {
        "server": {"allowHalfOpen": r.random() < 0.4, "pauseOnConnect": r.random() < 0.2},
        "client": {"allowHalfOpen": r.random() < 0.3},
    }
    ops: list[list[Any]] = []
    n = r.randrange(2, 11)
    while len(ops) < n:
        ops += _op(r)
    script["ops"] = ops
    return script


def main() -> None:
    gen_main(generate)


if __name__ == "__main__":
    main()
