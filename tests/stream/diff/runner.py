"""Differential stream runner (nodetls side): runs scripts of the language described in
``gen.py`` against :mod:`nodetls.stream` and logs what is observable, in exactly the strings
``runner.js`` logs for Node's streams.

Usage: ``python -m tests.stream.diff.runner scripts.json > logs.json`` (a JSON array of logs,
one per script), or :func:`run_scripts` from a test.

Node's ``process.nextTick`` is ``loop.call_soon`` here; the script's ``tick`` (Node: three
``await new Promise(r => setImmediate(r))``, which drains every nextTick chain) is "let the loop
run until no callback is ready".
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from nodetls.stream import Duplex, PassThrough, Readable, Transform, Writable

from ...helpers.difftest import BoomError, code_of, runner_main
from .runner2 import IN_OPS, V2, from_stream


def chunk_str(c: Any) -> str:
    if c is None:
        return "null"
    if isinstance(c, str):
        return "s:" + c.encode("utf-8", "surrogatepass").hex()
    if isinstance(c, (bytes, bytearray, memoryview)):
        return bytes(c).hex()
    return "?" + type(c).__name__


def arg(a: Any) -> Any:
    """A chunk argument: hex (bytes), ``["s", text]`` (str) or None."""
    if a is None:
        return None
    if isinstance(a, list):
        return a[1]
    return bytes.fromhex(a)


def js_bool(v: Any) -> str:
    return "true" if v is True else "false" if v is False else str(v)


async def tick() -> None:
    """Run the loop until no callback is ready (Node: until the nextTick queue is empty)."""
    loop = asyncio.get_running_loop()
    ready = getattr(loop, "_ready", None)  # (asyncio's own loops; uvloop has none)
    if ready is None:
        for _ in range(200):
            await asyncio.sleep(0)
        return
    for _ in range(10000):
        await asyncio.sleep(0)
        if not ready:
            return


_STATE_PROPS = (("readable_length", "readableLength"), ("readable_ended", "readableEnded"),
                ("readable_flowing", "readableFlowing"), ("writable_length", "writableLength"),
                ("writable_ended", "writableEnded"), ("writable_finished", "writableFinished"),
                ("writable_need_drain", "writableNeedDrain"), ("writable_corked", "writableCorked"))


def state(s: Any) -> dict[str, Any]:
    o: dict[str, Any] = {
        "readable": getattr(s, "readable", None),
        "writable": getattr(s, "writable", None),
        "destroyed": s.destroyed,
        "closed": s.closed,
        "errored": code_of(s.errored) if s.errored is not None else None,
    }
    for py, js in _STATE_PROPS:
        o[js] = getattr(s, py, None)
    return o


class _Run:
    def __init__(self, script: dict[str, Any]) -> None:
        self.log: list[str] = []
        self.v2 = V2(self) if script.get("v") == 2 else None  # gen2.py's ops
        self.script_streams = script["streams"]
        self.pending_w: list[tuple[int, Any, Any]] = []
        self.pending_c: list[tuple[int, Any]] = []
        self.listeners: list[dict[str, list[Any]]] = []
        self.streams = [self.make(i, spec) for i, spec in enumerate(script["streams"])]
        self.ops = script["ops"]

    def make(self, i: int, spec: dict[str, Any]) -> Any:
        L = self.log.append
        opts: dict[str, Any] = {}
        if spec.get("hwm") is not None:
            opts["high_water_mark"] = spec["hwm"]
        if spec.get("autoDestroy") is False:
            opts["auto_destroy"] = False
        if spec.get("allowHalfOpen") is False:
            opts["allow_half_open"] = False
        if spec.get("decodeStrings") is False:
            opts["decode_strings"] = False
        if spec.get("emitClose") is False:
            opts["emit_close"] = False
        kind = spec["kind"]
        src = list(spec.get("src") or [])
        box: list[Any] = []
        loop = asyncio.get_running_loop()

        def do_push(c: Any) -> None:
            L(f"{i} _push {chunk_str(c)} -> {js_bool(box[0].push(c))}")

        def read_hook(n: int) -> None:
            L(f"{i} _read {n}")
            if spec.get("read") == "noop" or not src:
                return
            c = arg(src.pop(0))
            if spec["read"] == "sync":
                do_push(c)
            else:
                loop.call_soon(do_push, c)

        def done_w(cb: Any, data: Any = None) -> None:
            mode = spec.get("write")
            if mode == "sync":
                cb(None, data) if data is not None else cb(None)
            elif mode == "tick":
                loop.call_soon(lambda: cb(None, data) if data is not None else cb(None))
            else:
                self.pending_w.append((i, cb, data))

        def write_hook(chunk: Any, cb: Any) -> None:
            L(f"{i} _write {chunk_str(chunk)}")
            done_w(cb)

        def transform_hook(chunk: Any, cb: Any) -> None:
            L(f"{i} _transform {chunk_str(chunk)}")
            done_w(cb, chunk)

        def writev_hook(chunks: list[Any], cb: Any) -> None:
            L(f"{i} _writev {','.join(chunk_str(c) for c in chunks)}")
            done_w(cb)

        def final_hook(cb: Any) -> None:
            L(f"{i} _final")
            if spec["final"] == "sync":
                cb()
            elif spec["final"] == "tick":
                loop.call_soon(cb)
            else:
                loop.call_soon(cb, BoomError("EFINAL"))

        def flush_hook(cb: Any) -> None:
            L(f"{i} _flush")
            if spec["final"] == "sync":
                cb(None, b"\xff")
            elif spec["final"] == "tick":
                loop.call_soon(cb, None, b"\xff")
            else:
                loop.call_soon(cb, BoomError("EFINAL"))

        if spec.get("construct"):
            def construct_hook(cb: Any) -> None:
                L(f"{i} _construct")
                mode = spec["construct"]
                if mode == "sync":
                    cb()
                elif mode == "tick":
                    loop.call_soon(cb)
                elif mode == "error":
                    loop.call_soon(cb, BoomError("ECONSTRUCT"))
                else:
                    self.pending_c.append((i, cb))
            opts["construct"] = construct_hook

        s: Any
        if kind == "from":
            s = from_stream(spec, opts)
        elif kind == "readable":
            s = Readable(opts, read=read_hook)
        elif kind == "writable":
            if spec.get("writev"):
                opts["writev"] = writev_hook
            if spec.get("final"):
                opts["final"] = final_hook
            s = Writable(opts, write=write_hook)
        elif kind == "duplex":
            if spec.get("writev"):
                opts["writev"] = writev_hook
            if spec.get("final"):
                opts["final"] = final_hook
            s = Duplex(opts, read=read_hook, write=write_hook)
        elif kind == "transform":
            if spec.get("final"):
                opts["flush"] = flush_hook
            s = Transform(opts, transform=transform_hook)
        elif kind == "passthrough":
            s = PassThrough(opts)
        else:
            raise ValueError(kind)
        box.append(s)
        s.on("error", lambda e: L(f"{i} error {code_of(e)}"))
        s.on("close", lambda: L(f"{i} close"))
        if kind != "writable":
            s.on("end", lambda: L(f"{i} end"))
        if kind not in ("readable", "from"):
            s.on("finish", lambda: L(f"{i} finish"))
            s.on("drain", lambda: L(f"{i} drain"))
        self.listeners.append({})
        return s

    def op(self, k: int, op: list[Any]) -> str | None:
        name, t = op[0], op[1]
        s = self.streams[t]
        L = self.log.append
        if name == "push":
            return js_bool(s.push(arg(op[2])))
        if name == "read":
            return chunk_str(s.read(op[2]))
        if name == "write":
            return js_bool(s.write(arg(op[2]), callback=lambda e=None: L(f"{t} wcb@{k} {code_of(e)}")))
        if name == "end":
            def cb(e: Any = None) -> None:
                L(f"{t} endcb@{k} {code_of(e)}")
            s.end(arg(op[2]), callback=cb)
        elif name == "cork":
            s.cork()
        elif name == "uncork":
            s.uncork()
        elif name == "pause":
            s.pause()
        elif name == "resume":
            s.resume()
        elif name == "enc":
            s.set_encoding(op[2])
        elif name == "destroy":
            if len(op) > 3 and op[3]:
                def dcb(e: Any = None) -> None:
                    L(f"{t} dcb@{k} {code_of(e)}")
                s.destroy(BoomError("EBOOM") if op[2] else None, dcb)
            else:
                s.destroy(BoomError("EBOOM") if op[2] else None)
        elif name == "unshift":
            s.unshift(arg(op[2]))
        elif name == "on":
            ev = op[2]
            mode = op[3] if len(op) > 3 else "log"
            once: list[bool] = []
            if ev == "data":
                def fn(*a: Any) -> None:
                    L(f"{t} data {chunk_str(a[0])}")
                    if mode == "pause":
                        s.pause()
                    elif mode == "destroy":
                        s.destroy()
                    elif mode == "unshift" and not once:
                        once.append(True)
                        s.unshift(a[0])
            elif ev != "readable":
                def fn(*a: Any) -> None:  # 'end', 'finish', 'drain': an action in the listener
                    L(f"{t} on-{ev}")
                    if once:  # (once: a drain listener writing again would never end)
                        return
                    once.append(True)
                    if mode == "end":
                        s.end()
                    elif mode == "write":
                        L(f"{t} write-in-{ev} {js_bool(s.write(b'z'))}")
                    elif mode == "resume":
                        s.resume()
                    elif mode == "destroy":
                        s.destroy()
                    elif mode == "push":
                        L(f"{t} push-in-{ev} {js_bool(s.push(b'y'))}")
            elif mode == "drain":
                def fn(*a: Any) -> None:
                    L(f"{t} readable")
                    while (c := s.read()) is not None:
                        L(f"{t} read {chunk_str(c)}")
            elif mode == "read1":
                def fn(*a: Any) -> None:
                    L(f"{t} readable")
                    L(f"{t} read {chunk_str(s.read(1))}")
            else:
                def fn(*a: Any) -> None:
                    L(f"{t} readable")
            self.listeners[t].setdefault(ev, []).append(fn)
            s.on(ev, fn)
        elif name == "off":
            fns = self.listeners[t].get(op[2]) or []
            if fns:
                s.remove_listener(op[2], fns.pop(0))
        elif name == "wcb":
            for j, (si, cbw, data) in enumerate(self.pending_w):
                if si == t:
                    del self.pending_w[j]
                    if op[2]:
                        cbw(BoomError("EWRITE"))
                    elif data is not None:
                        cbw(None, data)
                    else:
                        cbw(None)
                    break
            else:
                return "none"
        elif name == "ccb":
            for j, (si, cbc) in enumerate(self.pending_c):
                if si == t:
                    del self.pending_c[j]
                    cbc(BoomError("ECONSTRUCT") if op[2] else None)
                    break
            else:
                return "none"
        elif name == "pipe":
            s.pipe(self.streams[op[2]], end=op[3])
        elif name == "unpipe":
            s.unpipe(self.streams[op[2]])
        elif self.v2 is not None:
            return self.v2.op(k, op)
        else:
            raise ValueError(name)
        return None

    async def run(self) -> dict[str, Any]:
        L = self.log.append
        for k, op in enumerate(self.ops):
            if op[0] == "tick":
                L("tick")
                await tick()
                continue
            L(f"> {op[1]} {op[0]}")
            IN_OPS[0] = True
            try:
                ret = self.op(k, op)
            except Exception as e:  # noqa: BLE001 - logged, as the Node runner logs a throw
                ret = "throw " + code_of(e)
            finally:
                IN_OPS[0] = False
            L("= " + ("" if ret is None else ret))
        L("tick")
        await tick()
        if self.v2 is not None:
            return await self.v2.result()
        return {"log": self.log, "state": [state(s) for s in self.streams]}


async def run_scripts(scripts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run each script in turn on the running loop; an exception reaching the loop's handler
    (Node: ``'uncaughtException'``) is logged into the script running then."""
    loop = asyncio.get_running_loop()
    current: list[list[str]] = [[]]

    def handler(_loop: Any, ctx: dict[str, Any]) -> None:
        current[0].append("uncaught " + code_of(ctx.get("exception")))

    old = loop.get_exception_handler()
    loop.set_exception_handler(handler)
    out = []
    # the runs are kept until the end: a pipeline left pending (as Node's promises may be)
    # is not garbage collected in the middle of a later script
    runs: list[_Run] = []
    try:
        for sc in scripts:
            r = _Run(sc)
            runs.append(r)
            current[0] = r.log
            out.append(await r.run())
    finally:
        current[0] = []
        runs.clear()
        gc.collect()
        await tick()
        loop.set_exception_handler(old)
    return out


def main() -> None:
    runner_main(run_scripts)


if __name__ == "__main__":
    main()
