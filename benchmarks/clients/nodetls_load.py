"""The nodetls client for the client-side workloads: ``node/load.js`` written with nodetls.

    python clients/nodetls_load.py [--loop asyncio|uvloop] '{"mode": "hs", "port": ..., "ca": ...}'

Modes (options in the JSON, times in seconds), as load.js:
  hs  full handshakes: ``concurrency`` loops of connect -> 'secureConnect' -> end() -> 'close'
  rr  one connection: write ``size`` bytes, wait for them to come back, repeat
  rrcb  as rr, the next write from the ``'data'`` listener (no promise/future per round trip)
Each runs ``warmup`` s unmeasured, then ``duration`` s measured, and prints one JSON line:
``ops`` and ``seconds`` of the measured window, ``rate``, ``total_ops``, ``cpu`` (this process's
CPU seconds in the measured window) and ``errors``. One SecureContext serves every connection.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any


class _Reader:
    """Counts the bytes a socket receives; :meth:`until` waits for ``n`` more."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.got = 0
        self._want = 0
        self._waiter: asyncio.Future[None] | None = None
        # (load.js's ``new Promise`` looks nothing up: the loop once, not per round trip)
        self._loop = asyncio.get_running_loop()
        sock.on("data", self._on_data)

    def _on_data(self, chunk: bytes) -> None:
        self.got += len(chunk)
        if self._waiter is not None and self.got >= self._want:
            # As load.js's w(): no done() check (only a cancelled run's wait_for could have
            # cancelled the future, and that run has failed already)
            waiter, self._waiter = self._waiter, None
            waiter.set_result(None)

    def until(self, n: int) -> asyncio.Future[None]:
        fut: asyncio.Future[None] = self._loop.create_future()
        self._want = self.got + n
        if self.got >= self._want:
            fut.set_result(None)
        else:
            self._waiter = fut
        return fut


async def timed(spec: dict[str, Any], loops: int,
                step: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    """Run ``step`` in ``loops`` parallel loops for warm-up + duration; what load.js reports
    (its counters are closure variables, as here)."""
    t0 = time.monotonic()
    t_measure = t0 + spec["warmup"]
    t_end = t_measure + spec["duration"]
    ops = total = errors = 0
    cpu0: float | None = None
    cpu1 = t1 = 0.0

    async def worker() -> None:
        nonlocal ops, total, errors, cpu0, cpu1, t1
        while True:
            t = time.monotonic()
            if cpu0 is None and t >= t_measure:
                cpu0 = time.process_time()
            if t >= t_end:
                if not t1:
                    cpu1, t1 = time.process_time(), t
                return
            try:
                await step()
            except Exception:
                errors += 1
                if errors > 100:
                    raise
                continue
            total += 1
            if t_measure <= time.monotonic() < t_end:
                ops += 1

    await asyncio.gather(*(worker() for _ in range(loops)))
    assert cpu0 is not None
    seconds = min(t1, t_end) - t_measure
    return {"ops": ops, "seconds": seconds, "rate": ops / seconds,
            "total_ops": total, "cpu": cpu1 - cpu0, "errors": errors}


async def load(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the job ``spec`` (see the module docstring)."""
    import nodetls as tls

    ctx = tls.create_secure_context(ca=[Path(spec["ca"]).read_bytes()], min_version="TLSv1.3")

    def connect() -> Any:
        return tls.connect(spec["port"], spec.get("host", "127.0.0.1"), servername="localhost",
                           secure_context=ctx)

    async def closed(sock: Any) -> None:
        await asyncio.wait_for(sock.wait_closed(), 30)

    if spec["mode"] == "hs":
        async def one_connection() -> None:
            sock = connect()
            sock.resume()
            try:
                await asyncio.wait_for(sock, 30)
            except BaseException:
                sock.destroy()
                raise
            sock.end()
            await closed(sock)

        return await timed(spec, spec.get("concurrency", 8), one_connection)
    if spec["mode"] == "rr":
        sock = connect()
        await asyncio.wait_for(sock, 30)
        reader = _Reader(sock)
        msg = b"r" * spec.get("size", 64)

        def round_trip() -> asyncio.Future[None]:
            # As load.js's step, a plain function returning the promise: no coroutine of its
            # own per round trip; and no timer per round trip (asyncio.wait_for's costs as much
            # CPU as the round trip itself): the whole run is bounded below instead.
            fut = reader.until(len(msg))
            sock.write(msg)
            return fut

        res = await asyncio.wait_for(timed(spec, 1, round_trip),
                                     spec["warmup"] + spec["duration"] + 30)
        sock.end()
        await closed(sock)
        return res
    if spec["mode"] == "rrcb":
        return await _round_trips_in_callbacks(spec, connect())
    raise ValueError(f"unknown mode {spec['mode']!r} (hs, rr, rrcb)")


async def _round_trips_in_callbacks(spec: dict[str, Any], sock: Any) -> dict[str, Any]:
    """``rrcb``, as load.js's: the next write from the ``'data'`` listener (no future, no
    task wake-up per round trip), so only the library's path and the event loop's are measured.
    The window as :func:`timed`'s: CPU from the first round trip done after the warm-up to the
    first done after the end; the round trips done in between counted."""
    await asyncio.wait_for(sock, 30)
    loop = asyncio.get_running_loop()
    msg = b"r" * spec.get("size", 64)
    size = len(msg)
    t_measure = time.monotonic() + spec["warmup"]
    t_end = t_measure + spec["duration"]
    got = ops = total = 0
    cpu0: float | None = None
    done: asyncio.Future[dict[str, Any]] = loop.create_future()

    def on_data(chunk: bytes) -> None:
        nonlocal got, ops, total, cpu0
        got += len(chunk)
        if got < size:
            return
        got -= size
        total += 1
        t = time.monotonic()
        if cpu0 is None:
            if t >= t_measure:
                cpu0 = time.process_time()
        elif t < t_end:
            ops += 1
        else:
            if not done.done():
                seconds = min(t, t_end) - t_measure
                done.set_result({"ops": ops, "seconds": seconds, "rate": ops / seconds,
                                 "total_ops": total, "cpu": time.process_time() - cpu0,
                                 "errors": 0})
            return
        sock.write(msg)

    sock.on("data", on_data)
    sock.write(msg)
    res = await asyncio.wait_for(done, spec["warmup"] + spec["duration"] + 30)
    sock.end()
    await asyncio.wait_for(sock.wait_closed(), 30)
    return res


def main() -> None:
    import nodetls as tls

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    ap.add_argument("spec", help="the job, JSON")
    args = ap.parse_args()
    spec = json.loads(args.spec)
    result: dict[str, Any] = {"mode": spec["mode"], "client": "nodetls-" + args.loop}

    async def run() -> None:
        result.update(await load(spec))

    tls.run(run, loop=args.loop)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
