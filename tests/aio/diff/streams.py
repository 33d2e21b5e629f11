"""The stream mode of the aio differential runner: the same server and client as the protocol
scripts, made with the stream forms (``asyncio.start_server``/``asyncio.open_connection`` with
``ssl=``, or ``nodetls.aio.start_server``/``open_connection``), the ops run on each side's
``asyncio.StreamReader``/``StreamWriter``. ``python -m tests.aio.diff.streams FIRST COUNT``
prints the scripts of those seeds.

A stream script::

    {"mode": "stream", "tls": "TLSv1.3" | "TLSv1.2", "limit": N, "ops": [OP, ...]}

``limit`` is both sides' stream buffer limit (``limit=``). An OP is ``["settle"]`` (as in
``gen.py``) or ``[T, NAME, ARGS...]`` on side T, logged ``> NAME ARGS``. Reader ops:
``read N``, ``readexactly N``, ``readuntil HEX``, ``readline`` (awaited: they run as a task,
whose end is logged ``NAME -> RESULT`` or ``NAME ! Exception``, in the side's log when it
comes), ``at_eof``, ``exception``; writer ops: ``write CHUNK``, ``writelines [CHUNK...]``,
``write_eof``, ``can_write_eof``, ``close``, ``is_closing``, ``abort`` (its transport's),
``extra KEY``, and the awaited ``drain``, ``wait_closed``. The synchronous ops log
``= RESULT`` or ``! Exception``. After the last op, an awaited op still running is logged
``pending NAME``; the result's ``final`` holds each side's ``writer.is_closing()``,
``reader.at_eof()`` and ``reader.exception()``.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from typing import Any

from .runner import (
    Log,
    T,
    _extra,
    _Material,
    _op_str,
    chunk,
    connect_pair,
    data_str,
    exc_name,
    settle_logs,
    start_logs,
    wait_for,
)

_AWAITED = ("read", "readexactly", "readuntil", "readline", "drain", "wait_closed")
_EXTRA = ("peername", "sockname", "cipher", "ssl_object", "peercert")


def stream_exc(exc: BaseException) -> str:
    """An exception as logged: asyncio's stream errors by name (with what they carry)."""
    if isinstance(exc, asyncio.IncompleteReadError):
        return f"IncompleteReadError partial={len(exc.partial)} expected={exc.expected}"
    if isinstance(exc, asyncio.LimitOverrunError):
        return f"LimitOverrunError consumed={exc.consumed}"
    return exc_name(exc)


def _result(name: str, value: Any) -> str:
    if isinstance(value, bytes):
        return data_str(value)
    if name == "exception":
        return exc_name(value)
    return repr(value)


async def _awaited(name: str, args: list[Any], reader: asyncio.StreamReader,
                   writer: asyncio.StreamWriter, log: Log) -> None:
    try:
        if name == "read":
            res: Any = await reader.read(args[0])
        elif name == "readexactly":
            res = await reader.readexactly(args[0])
        elif name == "readuntil":
            res = await reader.readuntil(bytes.fromhex(args[0]))
        elif name == "readline":
            res = await reader.readline()
        elif name == "drain":
            res = await writer.drain()
        else:
            res = await writer.wait_closed()
    except Exception as exc:  # noqa: BLE001 - logged, compared
        log.add(f"{name} ! {stream_exc(exc)}")
    else:
        log.add(f"{name} -> {_result(name, res)}")


def _sync(name: str, args: list[Any], reader: asyncio.StreamReader,
          writer: asyncio.StreamWriter, addrs: dict[str, Any]) -> Any:
    if name == "at_eof":
        return reader.at_eof()
    if name == "exception":
        return reader.exception()
    if name == "write":
        return writer.write(chunk(args[0]))
    if name == "writelines":
        return writer.writelines([chunk(a) for a in args[0]])
    if name == "abort":
        return writer.transport.abort()
    if name == "extra":
        return _extra(writer, args[0], addrs)
    return getattr(writer, name)()


async def run_stream_script(script: dict[str, Any], impl: str, m: _Material) -> dict[str, Any]:
    """Run the stream ``script`` on the running loop with ``impl`` (see the module)."""
    loop = asyncio.get_running_loop()
    clock, logs, handled = start_logs(loop)
    accepted: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = \
        loop.create_future()

    def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        logs["s"].add("made")
        if not accepted.done():
            accepted.set_result((reader, writer))

    server, client = await connect_pair(script, impl, m, on_client, None, stream=True)
    logs["c"].add("made")
    ends = {"c": client, "s": await wait_for(accepted, T)}
    tasks: list[tuple[str, str, asyncio.Task[None]]] = []
    try:
        addrs = {t: tuple(ends[t][1].get_extra_info("sockname")[:2]) for t in "cs"}
        for op in script["ops"]:
            if op[0] == "settle":
                await settle_logs(clock, logs)
                continue
            t, name, args = op[0], op[1], op[2:]
            log = logs[t]
            reader, writer = ends[t]
            log.add(_op_str(op))
            if name in _AWAITED:
                tasks.append((t, name, loop.create_task(
                    _awaited(name, args, reader, writer, log))))
                continue
            try:
                res = _sync(name, args, reader, writer, addrs)
            except Exception as exc:  # noqa: BLE001 - logged, compared
                log.add(f"! {stream_exc(exc)}")
            else:
                log.add(f"= {res if name == 'extra' else _result(name, res)}")
        for t, name, task in tasks:
            if not task.done():
                logs[t].add(f"pending {name}")
        final = {t: {"closing": w.is_closing(), "at_eof": r.at_eof(),
                     "exc": exc_name(r.exception())} for t, (r, w) in ends.items()}
    finally:
        for _t, _name, task in tasks:
            task.cancel()
        for _r, w in ends.values():
            w.transport.abort()
        server.close()
        await wait_for(server.wait_closed(), T)
        await asyncio.sleep(0)
    return {"c": logs["c"].render(), "s": logs["s"].render(), "handled": handled,
            "final": final}


def _chunk(r: random.Random) -> Any:
    if r.random() < 0.2:
        return [r.choice((100, 70000, 300000)), r.choice((0x0a, 0x61, 0x7a))]
    return bytes(r.choice(b"abc\n") for _ in range(r.choice((1, 2, 3, 5, 8)))).hex()


def _op(r: random.Random) -> list[Any]:
    t = r.choice("cs")
    x = r.random()
    if x < 0.18:
        return ["settle"]
    if x < 0.34:
        return [t, "write", _chunk(r)]
    if x < 0.37:
        return [t, "writelines", [_chunk(r) for _ in range(r.choice((0, 1, 2)))]]
    if x < 0.45:
        return [t, "read", r.choice((-1, 0, 1, 3, 100, 70000))]
    if x < 0.51:
        return [t, "readexactly", r.choice((0, 1, 4, 9, 1000))]
    if x < 0.56:
        return [t, "readuntil", r.choice(("0a", "63", "6162"))]
    if x < 0.59:
        return [t, "readline"]
    if x < 0.62:
        return [t, "at_eof"]
    if x < 0.64:
        return [t, "exception"]
    if x < 0.69:
        return [t, "drain"]
    if x < 0.71:
        return [t, "write_eof"]
    if x < 0.72:
        return [t, "can_write_eof"]
    if x < 0.79:
        return [t, "close"]
    if x < 0.83:
        return [t, "wait_closed"]
    if x < 0.85:
        return [t, "is_closing"]
    if x < 0.87:
        return [t, "abort"]
    return [t, "extra", r.choice(_EXTRA)]


def generate_stream(seed: int) -> dict[str, Any]:
    """The stream script of ``seed``."""
    r = random.Random(seed)
    return {
        "mode": "stream",
        "tls": r.choice(("TLSv1.3", "TLSv1.2")),
        "limit": r.choice((2 ** 16, 2 ** 16, 16)),
        "ops": [_op(r) for _ in range(r.randint(2, 12))] + [["settle"]],
    }


def main() -> None:
    first, count = int(sys.argv[1]), int(sys.argv[2])
    for seed in range(first, first + count):
        print(json.dumps({"seed": seed, "script": generate_stream(seed)}))


if __name__ == "__main__":
    main()
