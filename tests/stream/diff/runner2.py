"""The nodetls side of ``gen2.py``'s ops (``pipeline``, ``finished``, ``iter``, ``signal``,
``abort``) and of its ``from`` streams, for ``runner.py``'s scripts marked ``"v": 2``;
``runner.js`` is the Node side.

JavaScript runs an ``async`` function at once, up to its first ``await`` that waits (calling
an async generator's ``next()`` runs its body then too): Node's ``for await`` starts reading a
stream in the op that starts it, ``promises.pipeline`` and ``promises.finished`` set up their
listeners there. asyncio runs a coroutine only from a task, on a later loop iteration; the
runner's own coroutines (the ``iter`` loop, the awaits of the promise forms) are therefore
started with nodetls's own ``start_eagerly`` (Python 3.12's eager tasks, by hand; nodetls's
``pipeline`` starts its helpers so), so that they start in their op as in Node.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from nodetls import stream as nstream
from nodetls.errors import node_error
from nodetls.stream import Readable
from nodetls.stream._eager import start_eagerly

from ...helpers.difftest import code_of


def _arg(a: Any) -> Any:
    if a is None:
        return None
    if isinstance(a, list):
        return a[1]
    return bytes.fromhex(a)


def from_stream(spec: dict[str, Any], opts: dict[str, Any]) -> Readable:
    """gen2.py's ``from`` stream: ``Readable.from_`` of ``src`` (an array or an async
    generator), as Node's ``Readable.from(src, {objectMode: false, ...})``."""
    items = [_arg(c) for c in spec.get("src") or []]

    async def agen() -> Any:
        for c in items:
            yield c

    return Readable.from_(agen() if spec.get("async") else items, opts, object_mode=False)


#: the runner is running a script's ops (synchronous code; Node's runner too, between ticks)
IN_OPS = [False]


async def _hop() -> None:
    """JavaScript's ``await`` (a ``for await`` step, a ``yield`` reaching its consumer) always
    goes on in a microtask; Python's goes on at once when nothing has to wait. Microtasks run
    once the synchronous code is done: after the runner's ops (until its next tick), but
    before the nextTick callbacks queued meanwhile when the loop is running. The runner's
    coroutines (Node's user code) take that hop by hand, so that they read and write when
    Node's would (nodetls's own awaits are left as they are)."""
    if IN_OPS[0]:
        await asyncio.sleep(0)


def _for_await(source: Any) -> Any:
    """What JavaScript's ``for await (c of source)`` iterates: a stream with a writable side
    through ``iterator()`` (Node's ending; ``async for`` on it keeps it when it ends normally,
    a documented difference), anything else as it is."""
    if isinstance(source, Readable) and getattr(source, "_HAS_W", False):
        return source.iterator()
    return source


def alog_key(line: str) -> str:
    """The async log is compared consumer by consumer (``it@K``, ``g@K``, ``a@K``, ``d@K``,
    ``pl@K``, ``fin@K``: the lines of each in their order): how the promise reactions of two
    of them interleave is JavaScript's microtask order (see gen2.py)."""
    return line.split(" ", 1)[0]


def _val(v: Any) -> str:
    return "undef" if v is None else str(v)


class V2:
    """gen2.py's ops on one script's run (``runner._Run``)."""

    def __init__(self, run: Any) -> None:
        self.run = run
        self.alog: list[str] = []
        self.pending: list[asyncio.Task[None] | None] = []
        self.aborted = False
        self.on_abort: list[Callable[[], None]] = []

    def op(self, k: int, op: list[Any]) -> str | None:
        name = op[0]
        L = self.run.log.append
        A = self.alog.append
        if name == "pipeline":
            stages = [self.stage(st, k) for st in op[2]]
            if op[3] == "cb":
                nstream.pipeline(*stages, lambda e=None, v=None: L(
                    f"pl@{k} {code_of(e)} {_val(v)}"))
            else:
                async def awaiting() -> None:
                    try:
                        v = await nstream.promises.pipeline(*stages, end=op[4])
                    except Exception as e:  # noqa: BLE001 - logged
                        A(f"pl@{k} reject {code_of(e)}")
                    else:
                        A(f"pl@{k} resolve {_val(v)}")
                self.pending.append(self.start(awaiting()))
        elif name == "finished":
            s = self.run.streams[op[1]]
            if op[3] == "cb":
                nstream.finished(s, op[2], lambda e=None: L(f"fin@{k} {code_of(e)}"))
            else:
                async def awaiting_fin() -> None:
                    try:
                        await nstream.promises.finished(s, op[2])
                    except Exception as e:  # noqa: BLE001 - logged
                        A(f"fin@{k} reject {code_of(e)}")
                    else:
                        A(f"fin@{k} ok")
                self.pending.append(self.start(awaiting_fin()))
        elif name == "iter":
            self.pending.append(self.start(self.iterate(k, op)))
        elif name == "signal":
            self.signal(self.run.streams[op[1]])
        elif name == "abort":
            if not self.aborted:
                self.aborted = True
                for fn in list(self.on_abort):
                    fn()
        else:
            raise ValueError(name)
        return None

    @staticmethod
    def start(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
        return start_eagerly(asyncio.get_running_loop(), coro)

    async def iterate(self, k: int, op: list[Any]) -> None:
        """``for await (const c of s)`` (a Readable's: ``async for``; a stream with a writable
        side: ``iterator()``, since ``async for`` keeps such a stream when it ends normally, a
        documented difference) or ``s.iterator({destroyOnReturn})``."""
        from .runner import chunk_str

        A = self.alog.append
        t, lim, dor = op[1], op[2], op[3]
        s = self.run.streams[t]
        plain = dor is None and not getattr(s, "_HAS_W", False)
        got = 0
        try:
            async for c in (s if plain else s.iterator(destroy_on_return=dor is not False)):
                await _hop()
                A(f"it@{k} {chunk_str(c)}")
                got += 1
                if lim is not None and got >= lim:
                    A(f"it@{k} break")
                    break
            A(f"it@{k} done")
        except Exception as e:  # noqa: BLE001 - logged
            A(f"it@{k} error {code_of(e)}")

    def signal(self, s: Any) -> None:
        """What Node's ``addAbortSignal(signal, stream)`` does."""
        def abort() -> None:
            s.destroy(node_error("ABORT_ERR", message="The operation was aborted"))

        if self.aborted:
            abort()
            return
        self.on_abort.append(abort)

        def dispose(*_: Any) -> None:
            if abort in self.on_abort:
                self.on_abort.remove(abort)

        nstream.finished(s, dispose)

    def stage(self, st: Any, k: int) -> Any:
        """A pipeline stage (see gen2.py)."""
        from .runner import chunk_str

        A = self.alog.append
        if isinstance(st, int):
            return self.run.streams[st]
        if isinstance(st, list):
            items = [_arg(c) for c in st[1]]

            async def gen() -> Any:
                for c in items:
                    A(f"g@{k} yield {chunk_str(c)}")
                    await _hop()
                    yield c
                await _hop()
            return gen
        if st == "agen":
            async def agen(source: Any) -> Any:
                async for c in _for_await(source):
                    await _hop()
                    A(f"a@{k} {chunk_str(c)}")
                    yield c
                await _hop()
            return agen
        if st == "adest":
            async def adest(source: Any) -> Any:
                async for c in _for_await(source):
                    await _hop()
                    A(f"d@{k} {chunk_str(c)}")
                await _hop()
                return "v"
            return adest
        raise ValueError(st)

    async def result(self) -> dict[str, Any]:
        """The script's result (copies: what the closing of the unfinished coroutines logs
        is not part of it)."""
        from .runner import state, tick

        out = {"log": list(self.run.log), "alog": sorted(self.alog, key=alog_key),
               "state": [state(s) for s in self.run.streams]}
        for task in self.pending:
            if task is not None:
                task.cancel()
        await tick()
        return out
