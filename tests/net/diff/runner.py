"""Differential net runner (nodetls side): runs scripts of the language described in
``gen.py`` (one server and one client over 127.0.0.1) against :mod:`nodetls.net` and logs what
is observable, in exactly the strings ``runner.js`` logs for Node's ``net``.

Usage: ``python -m tests.net.diff.runner scripts.json > results.json``, or :func:`run_scripts`
from a test. Node's times are milliseconds: ``timeout MS`` is ``set_timeout(MS / 1000)`` and the
final state's ``timeout`` is logged in milliseconds.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

from nodetls import net

from ...helpers.difftest import BoomError, code_of, runner_main

QUIET = 0.030
SETTLE_MAX = 1.0


def arg(a: Any) -> bytes | None:
    if a is None:
        return None
    if isinstance(a, list):
        return bytes([a[1]]) * int(a[0])
    return bytes.fromhex(str(a))


def data_str(kind: str, buf: bytes) -> str:
    if len(buf) <= 48:
        return f"data {kind}:{buf.hex()}"
    return f"data {kind}:len={len(buf)},sha={hashlib.sha256(buf).hexdigest()[:16]}"


def js(v: Any) -> str:
    return "true" if v is True else "false" if v is False else "" if v is None else str(v)


class _Clock:
    last = 0.0


class Log:
    def __init__(self, clock: _Clock) -> None:
        self.items: list[Any] = []
        self.clock = clock

    def add(self, s: str) -> None:
        self.items.append(s)
        self.clock.last = time.monotonic()

    def data(self, chunk: Any) -> None:
        kind = "s" if isinstance(chunk, str) else "b"
        buf = chunk.encode("utf-8", "surrogatepass") if isinstance(chunk, str) else bytes(chunk)
        last = self.items[-1] if self.items else None
        if isinstance(last, list) and last[0] == kind:
            last[1].append(buf)
        else:
            self.items.append([kind, [buf]])
        self.clock.last = time.monotonic()

    def render(self) -> list[str]:
        return [x if isinstance(x, str) else data_str(x[0], b"".join(x[1])) for x in self.items]


def watch(sock: Any, log: Log) -> None:
    for ev in ("connect", "ready", "end", "finish", "drain", "timeout"):
        sock.on(ev, lambda *_, ev=ev: log.add(ev))
    sock.on("data", log.data)
    sock.on("error", lambda e: log.add(f"error {code_of(e)}"))
    sock.on("close", lambda h=False: log.add(f"close {js(h)}"))


_STATE = (("bytes_read", "bytesRead"), ("bytes_written", "bytesWritten"),
          ("ready_state", "readyState"), ("destroyed", "destroyed"), ("pending", "pending"),
          ("connecting", "connecting"), ("allow_half_open", "allowHalfOpen"),
          ("readable", "readable"), ("writable", "writable"),
          ("readable_length", "readableLength"), ("readable_ended", "readableEnded"),
          ("readable_flowing", "readableFlowing"), ("writable_length", "writableLength"),
          ("writable_ended", "writableEnded"), ("writable_finished", "writableFinished"),
          ("writable_need_drain", "writableNeedDrain"))


def state(s: Any) -> dict[str, Any]:
    o: dict[str, Any] = {js_name: getattr(s, py, None) for py, js_name in _STATE}
    t = s.timeout
    o["timeout"] = None if t is None else round(t * 1000)
    o["errored"] = code_of(s.errored) if s.errored is not None else None
    return o


async def settle(clock: _Clock) -> None:
    start = time.monotonic()
    clock.last = max(clock.last, start)
    while True:
        await asyncio.sleep(0.005)
        now = time.monotonic()
        if now - clock.last >= QUIET or now - start > SETTLE_MAX:
            return


def _op(name: str, s: Any, op: list[Any], k: int, log: Log) -> Any:
    if name == "write":
        return s.write(arg(op[2]), callback=lambda e=None: log.add(f"wcb@{k} {code_of(e)}"))
    if name == "end":
        def cb(e: Any = None) -> None:
            log.add(f"endcb@{k} {code_of(e)}")
        return s.end(arg(op[2]), callback=cb)
    if name == "destroy":
        return s.destroy(BoomError("EBOOM") if op[2] else None)
    if name == "destroy_soon":
        return s.destroy_soon()
    if name == "pause":
        return s.pause()
    if name == "resume":
        return s.resume()
    if name == "enc":
        return s.set_encoding(op[2])
    if name == "timeout":
        return s.set_timeout(op[2] / 1000)
    if name == "nodelay":
        return s.set_no_delay(True)
    if name == "ref":
        return s.ref()
    if name == "unref":
        return s.unref()
    raise ValueError(name)


async def run_script(script: dict[str, Any]) -> dict[str, Any]:
    clock = _Clock()
    logs = {"c": Log(clock), "s": Log(clock)}
    server = net.create_server({"allow_half_open": script["server"]["allowHalfOpen"],
                                "pause_on_connect": script["server"]["pauseOnConnect"]})
    loop = asyncio.get_running_loop()
    got_conn: asyncio.Future[Any] = loop.create_future()

    def on_connection(sock: Any) -> None:
        watch(sock, logs["s"])
        if not got_conn.done():
            got_conn.set_result(sock)

    server.on("connection", on_connection)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), 5)
    address: Any = server.address()
    client = net.connect({"port": address["port"], "host": "127.0.0.1",
                          "allow_half_open": script["client"]["allowHalfOpen"]})
    watch(client, logs["c"])
    connected: asyncio.Future[Any] = loop.create_future()
    client.once("connect", lambda: None if connected.done() else connected.set_result(None))
    try:
        await asyncio.wait_for(asyncio.gather(got_conn, connected), 3)
    except TimeoutError:
        pass
    accepted = got_conn.result() if got_conn.done() else None
    socks = {"c": client, "s": accepted}
    for k, op in enumerate(script["ops"]):
        if op[0] == "settle":
            logs["c"].add("~")
            logs["s"].add("~")
            await settle(clock)
            continue
        t, name = op[0], op[1]
        s, log = socks[t], logs[t]
        log.add(f"> {name}")
        try:
            r = _op(name, s, op, k, log)
            ret = "this" if r is s else js(r)
        except Exception as e:  # noqa: BLE001 - logged, as the Node runner logs a throw
            ret = "throw " + code_of(e)
        log.add(f"= {ret}")
    logs["c"].add("~")
    logs["s"].add("~")
    await settle(clock)
    result = {"c": logs["c"].render(), "s": logs["s"].render(),
              "state": {"c": state(client), "s": state(accepted) if accepted else None}}
    client.destroy()
    if accepted is not None:
        accepted.destroy()
    await asyncio.wait_for(server.close(), 5)
    return result


async def run_scripts(scripts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run each script in turn on the running loop."""
    return [await run_script(sc) for sc in scripts]


def main() -> None:
    runner_main(run_scripts)


if __name__ == "__main__":
    main()
