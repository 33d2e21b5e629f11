"""Differential net runner (nodetls side): runs scripts of the language described in
``gen.py`` (one server and one client over 127.0.0.1) against :mod:`nodetls.net` and logs what
is observable, in exactly the strings ``runner.js`` logs for Node's ``net``.

Usage: ``python -m tests.net.diff.runner scripts.json > results.json``, or :func:`run_scripts`
from a test. Node's times are milliseconds: ``timeout MS`` is ``set_timeout(MS / 1000)`` and the
final state's ``timeout`` is logged in milliseconds.
"""

from __future__ import annotations

import asyncio
from typing import Any

from nodetls import net

from ...helpers.difftest import runner_main
from ...helpers.difftest_sockets import Log, new_logs, run_op, run_ops, state, watch

EVENTS = ("connect", "ready", "end", "finish", "drain", "timeout")


def _own(name: str, s: Any, op: list[Any], k: int, log: Log, socks: dict[str, Any]) -> Any:
    """The ops only net's scripts have."""
    if name == "nodelay":
        return s.set_no_delay(True)
    if name == "ref":
        return s.ref()
    if name == "unref":
        return s.unref()
    raise ValueError(name)


async def run_script(script: dict[str, Any]) -> dict[str, Any]:
    clock, logs = new_logs()
    server = net.create_server({"allow_half_open": script["server"]["allowHalfOpen"],
                                "pause_on_connect": script["server"]["pauseOnConnect"]})
    loop = asyncio.get_running_loop()
    socks: dict[str, Any] = {"c": None, "s": None}
    # The ops start once both sides are connected (or after 3 s): Node's runner runs them in
    # the microtasks right after the event that completes the pair ('connection' or
    # 'connect', then 'ready'); here the ops up to the first settle run in that event's listener (the
    # last one), the rest once the future it sets wakes the script up (as the TLS runner).
    waiting = {"c", "s"}
    both: asyncio.Future[None] = loop.create_future()
    ops = script["ops"]
    head = next((i for i, op in enumerate(ops) if op[0] == "settle"), len(ops))

    def done(side: str) -> None:
        waiting.discard(side)
        if not waiting and not both.done():
            both.set_result(None)
            for k, op in enumerate(ops[:head]):
                run_op(op, k, socks, logs, _own)

    def on_connection(sock: Any) -> None:
        watch(sock, logs["s"], EVENTS)
        if socks["s"] is None:
            socks["s"] = sock
            done("s")

    server.on("connection", on_connection)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), 5)
    address: Any = server.address()
    client = net.connect({"port": address["port"], "host": "127.0.0.1",
                          "allow_half_open": script["client"]["allowHalfOpen"]})
    socks["c"] = client
    watch(client, logs["c"], EVENTS)
    client.once("ready", lambda: done("c"))  # (Node emits it right after 'connect')
    timer = loop.call_later(3, lambda: waiting.clear() or done(""))
    await both
    timer.cancel()
    accepted = socks["s"]
    await run_ops(ops[head:], head, socks, logs, clock, _own)
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
