"""Differential testing against Node v20: what the socket harnesses (``tests/net/diff``,
``tests/tls/diff``) share, on top of :mod:`tests.helpers.difftest`; ``difftest_sockets.js`` is
the Node side, logging the same strings.

Both script languages have two sockets, ``c`` (the client) and ``s`` (the server's), each
logging its own events in its own :class:`Log` (consecutive 'data' as one line: chunking is
the kernel's), and a list of ops: ``["settle"]`` (:func:`settle`: wait until neither socket
logged anything for 30 ms, at most 1 s; ``~`` in both logs) or ``[T, NAME, ARGS...]`` run on
socket T, logged ``> NAME`` then ``= RESULT`` (:func:`run_op`; ``= nosock`` when T has no
socket). The ops both languages have are :func:`common_op`'s; an area passes its own for the
rest. Also here: the final state of a socket (:func:`state`) and the tests of the recorded
cases (:func:`seeded_test`, :func:`known_divergence_test`, :func:`records_test`).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import pytest

from .difftest import BoomError, Harness, code_of, needs_node, node_v20

#: a settle ends once no socket logged anything for this long (s)
QUIET = 0.030
#: ... or after this long (s)
SETTLE_MAX = 1.0

#: an area's ops beyond :func:`common_op`'s: ``(name, socket, op, index, log, socks)`` -> the
#: op's result
Call = Callable[[str, Any, list[Any], int, "Log", dict[str, Any]], Any]


def arg(a: Any) -> bytes | None:
    """A script's CHUNK (hex, or ``[N, BYTE]``: N bytes of value BYTE) as bytes; None stays."""
    if a is None:
        return None
    if isinstance(a, list):
        return bytes([a[1]]) * int(a[0])
    return bytes.fromhex(str(a))


def data_str(kind: str, buf: bytes) -> str:
    """One 'data' line: ``data b:HEX`` (Buffers) or ``data s:HEX`` (strings, their UTF-8);
    longer than 48 bytes, ``len=N,sha=...``."""
    if len(buf) <= 48:
        return f"data {kind}:{buf.hex()}"
    return f"data {kind}:len={len(buf)},sha={hashlib.sha256(buf).hexdigest()[:16]}"


def js(v: Any) -> str:
    """A value as JavaScript's ``String(v)`` shows it (None: the empty string of undefined)."""
    return "true" if v is True else "false" if v is False else "" if v is None else str(v)


class Clock:
    """When either socket of a script last logged something (for :func:`settle`)."""

    last = 0.0


class Log:
    """One socket's log."""

    def __init__(self, clock: Clock) -> None:
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


def new_logs() -> tuple[Clock, dict[str, Log]]:
    """A script's clock and its two logs, ``c`` and ``s``."""
    clock = Clock()
    return clock, {"c": Log(clock), "s": Log(clock)}


def watch(sock: Any, log: Log, events: Iterable[str]) -> None:
    """Log ``events`` (no arguments), 'data', 'error CODE' and 'close HAD_ERROR' of ``sock``."""
    for ev in events:
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


def state(s: Any, extra: Iterable[tuple[str, str]] = ()) -> dict[str, Any]:
    """A socket's final state: net.Socket's properties, ``extra`` ``(python name, Node
    name)`` ones, ``timeout`` (ms) and ``errored`` (its code)."""
    o: dict[str, Any] = {js_name: getattr(s, py, None) for py, js_name in (*_STATE, *extra)}
    t = s.timeout
    o["timeout"] = None if t is None else round(t * 1000)
    o["errored"] = code_of(s.errored) if s.errored is not None else None
    return o


async def settle(clock: Clock) -> None:
    """Wait until no socket logged anything for :data:`QUIET`, at most :data:`SETTLE_MAX`."""
    start = time.monotonic()
    clock.last = max(clock.last, start)
    while True:
        await asyncio.sleep(0.005)
        now = time.monotonic()
        if now - clock.last >= QUIET or now - start > SETTLE_MAX:
            return


def common_op(name: str, s: Any, op: list[Any], k: int, log: Log) -> Any:
    """Run one of the ops both languages have (``write``, ``end``, ``destroy``,
    ``destroy_soon``, ``pause``, ``resume``, ``enc``, ``timeout``); NotImplemented for
    another."""
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
    return NotImplemented


def run_op(op: list[Any], k: int, socks: dict[str, Any], logs: dict[str, Log],
           call: Call) -> None:
    """Run the op ``op`` (index ``k``) on its socket and log it; ``call`` runs the area's own
    ops."""
    t, name = op[0], op[1]
    s, log = socks[t], logs[t]
    log.add(f"> {name}")
    if s is None:
        log.add("= nosock")
        return
    try:
        r = common_op(name, s, op, k, log)
        if r is NotImplemented:
            r = call(name, s, op, k, log, socks)
        ret = "this" if r is s else js(r)
    except Exception as e:  # noqa: BLE001 - logged, as the Node runner logs a throw
        ret = "throw " + code_of(e)
    log.add(f"= {ret}")


async def run_ops(ops: list[list[Any]], first: int, socks: dict[str, Any],
                  logs: dict[str, Log], clock: Clock, call: Call) -> None:
    """Run ``ops`` (indexed from ``first``) in turn, then settle a last time."""
    for k, op in enumerate(ops):
        if op[0] == "settle":
            await settle_logged(logs, clock)
            continue
        run_op(op, first + k, socks, logs, call)
    await settle_logged(logs, clock)


async def settle_logged(logs: dict[str, Log], clock: Clock) -> None:
    """``~`` in both logs, then :func:`settle`."""
    for log in logs.values():
        log.add("~")
    await settle(clock)


# -- the tests of the recorded cases (test_AREA_differential.py)

def seeded_test(harness: Harness, seeded: list[dict[str, Any]],
                n: int) -> Callable[[], Awaitable[None]]:
    """The test that the ``n`` recorded seeds run in nodetls as the records say they ran in
    Node."""
    async def test_seeded_scripts_match_node() -> None:
        """The fixed seeds: each socket's log and final state equal Node's."""
        bad = await harness.mismatches(seeded)
        assert not bad, "\n".join(bad)
        assert len(seeded) == n
    return test_seeded_scripts_match_node


def known_divergence_test(harness: Harness, named: list[dict[str, Any]], fixed: set[str],
                          area: str) -> Callable[[dict[str, Any]], Awaitable[None]]:
    """The test of each named case: it passes if the case is in ``fixed``, else it is a strict
    xfail (a known divergence of nodetls's ``area`` from Node)."""
    xfail = pytest.mark.xfail(strict=True, reason=f"a known divergence of nodetls's {area} "
                              "from Node (see the case's doc)")
    assert fixed <= {c["name"] for c in named}, "a fixed case that is not recorded"

    @pytest.mark.parametrize("case", [
        pytest.param(c, id=c["name"], marks=() if c["name"] in fixed else (xfail,))
        for c in named])
    async def test_known_divergence(case: dict[str, Any]) -> None:
        """A divergence the differential runs found (minimised): see its doc."""
        bad = await harness.mismatches([case])
        assert not bad, f"{case['doc']}\n{bad[0]}"
    return test_known_divergence


def records_test(harness: Harness, named: list[dict[str, Any]]) -> Callable[[], None]:
    """The test that the named cases' records are what this machine's Node v20 gives (for
    cases that need no timing luck)."""
    @needs_node
    def test_named_records_are_node_v20s() -> None:
        """The named cases' records are what this machine's Node v20 gives (they need no
        timing luck: each is deterministic)."""
        node_v20()
        assert harness.stale_records(named) == []
    return test_named_records_are_node_v20s
