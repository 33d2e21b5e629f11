"""Random scripts for the aio differential runner, from a seed:
``python -m tests.aio.diff.gen FIRST COUNT`` prints them (one JSON a line).

The script language (JSON)::

    {"tls": "TLSv1.3" | "TLSv1.2", "proto": {"c": PROTO, "s": PROTO},
     "eof": {"c": RET, "s": RET}, "ops": [OP, ...]}

One server on 127.0.0.1 (port 0) and one client connecting to it, in the same process and both
of the implementation under test. PROTO is ``"plain"`` (``asyncio.Protocol``) or
``"buffered"`` (``asyncio.BufferedProtocol``, 4 KiB buffers); RET is what that side's
``eof_received()`` returns (``null``, ``false`` or ``true``; ``"raise"``: it raises
``ValueError``, named cases only). Optional keys (named cases): ``"shutdown_timeout"``, both
sides' ``ssl_shutdown_timeout``; ``"mode": "stream"``, the stream forms (``streams.py``).
The ops start once both sides had ``connection_made``. Each side logs its protocol's callbacks (``made``, ``data HEX`` or
``data len=N,sha=...`` for consecutive data joined: chunking is the kernel's, ``eof -> RET``,
``pause_writing``, ``resume_writing``, ``lost EXC``) and the ops run on it.

An OP is ``["settle"]`` (wait until neither side logged anything for 40 ms, at most 2 s; ``~``
in both logs) or ``[T, NAME, ARGS...]`` with T ``"c"`` or ``"s"``, logged ``> NAME ARGS`` then
``= RESULT`` (or ``! ExceptionType``) in T's log: ``write CHUNK``, ``writelines [CHUNK...]``,
``write_eof``, ``can_write_eof``, ``close``, ``abort``, ``pause_reading``, ``resume_reading``,
``is_reading``, ``is_closing``, ``get_write_buffer_size``, ``set_write_buffer_limits HIGH LOW``
(either may be null), ``get_write_buffer_limits``, ``extra KEY`` (``get_extra_info``). A CHUNK
is hex or ``[N, BYTE]`` (N bytes of value BYTE). The ops between two settles run synchronously.
"""

from __future__ import annotations

import json
import random
import sys
from typing import Any

_EXTRA = ("peername", "sockname", "cipher", "ssl_object")
_LIMITS = ((None, None), (0, None), (None, 0), (1, 0), (16, 8), (70000, None), (None, 2000),
           (8, 16), (-1, None), (2 ** 20, 2 ** 18), (0, 0))


def _chunk(r: random.Random) -> Any:
    if r.random() < 0.3:
        return [r.choice((16384, 70000, 300000, 3000000)), r.randrange(256)]
    return bytes(r.randrange(0x61, 0x67) for _ in range(r.choice((1, 2, 3, 5, 8)))).hex()


# (weight, maker)
def _op(r: random.Random) -> list[Any]:
    t = r.choice("cs")
    x = r.random()
    if x < 0.22:
        return ["settle"]
    if x < 0.42:
        return [t, "write", _chunk(r)]
    if x < 0.46:
        return [t, "writelines", [_chunk(r) for _ in range(r.choice((0, 1, 2, 3)))]]
    if x < 0.48:
        return [t, "write_eof"]
    if x < 0.50:
        return [t, "can_write_eof"]
    if x < 0.56:
        return [t, "close"]
    if x < 0.59:
        return [t, "abort"]
    if x < 0.66:
        return [t, "pause_reading"]
    if x < 0.73:
        return [t, "resume_reading"]
    if x < 0.76:
        return [t, "is_reading"]
    if x < 0.79:
        return [t, "is_closing"]
    if x < 0.83:
        return [t, "get_write_buffer_size"]
    if x < 0.88:
        return [t, "set_write_buffer_limits", *r.choice(_LIMITS)]
    if x < 0.91:
        return [t, "get_write_buffer_limits"]
    return [t, "extra", r.choice(_EXTRA)]


def generate(seed: int) -> dict[str, Any]:
    """The script of ``seed``."""
    r = random.Random(seed)
    return {
        "tls": r.choice(("TLSv1.3", "TLSv1.2")),
        "proto": {t: "buffered" if r.random() < 0.2 else "plain" for t in "cs"},
        "eof": {t: r.choice((None, None, False, False, True)) for t in "cs"},
        "ops": [_op(r) for _ in range(r.randint(2, 12))] + [["settle"]],
    }


def main() -> None:
    first, count = int(sys.argv[1]), int(sys.argv[2])
    for seed in range(first, first + count):
        print(json.dumps({"seed": seed, "script": generate(seed)}))


if __name__ == "__main__":
    main()
