"""Starting a coroutine the way JavaScript starts an ``async`` function: at once, up to its
first ``await`` that has to wait (Python 3.12's eager tasks, for 3.11). Part of
:mod:`nodetls.stream`.

Node's ``pipeline`` calls its ``async`` helpers (``pumpToNode``, a destination function)
synchronously: their first steps -- a ``for await`` that starts an async generator stage, which
starts reading the stream before it -- run inside the ``pipeline()`` call. A task created with
``loop.create_task`` would take them one loop iteration later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any


def start_eagerly(loop: asyncio.AbstractEventLoop,
                  coro: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Run ``coro`` now until it waits; then go on in a task (returned; ``None`` if ``coro``
    finished at once), as an eager task: a bare yield (``asyncio.sleep(0)``) goes on after one
    loop iteration, the task's first step. The task forwards a ``cancel()`` into ``coro``. A
    task that is garbage collected while pending (its pipeline was abandoned, stuck) is dropped
    silently, as Node forgets a promise that never settles."""
    try:
        first = coro.send(None)
    except StopIteration:
        return None
    resume = _Resume(coro, first)
    task = loop.create_task(resume.run())
    task.add_done_callback(resume.cancelled_unstarted)
    task._log_destroy_pending = False  # type: ignore[attr-defined]
    return task


class _Resume:
    """An awaitable going on with a started coroutine: what it waits for, the task waits for."""

    __slots__ = ("coro", "first", "started")

    def __init__(self, coro: Coroutine[Any, Any, None], first: Any) -> None:
        self.coro = coro
        self.first = first
        self.started = False

    def cancelled_unstarted(self, task: asyncio.Task[None]) -> None:
        """The task's done callback: a task cancelled before its first step never ran
        :meth:`__await__`, so the cancel goes into ``coro`` here (its ``except``/``finally``
        run now, not when it is garbage collected)."""
        if self.started or not task.cancelled():
            return
        self.started = True
        coro = self.coro
        try:
            coro.throw(asyncio.CancelledError())
        except BaseException:  # noqa: BLE001 - its end (the task was cancelled already)
            return
        coro.close()  # (it caught the cancel and waits again: nobody would resume it)

    async def run(self) -> None:
        await self

    def __await__(self) -> Generator[Any, None, None]:
        coro, yielded = self.coro, self.first
        self.first = None
        self.started = True
        if yielded is None:  # a bare yield (sleep(0)): the task's first step was that hop
            try:
                yielded = coro.send(None)
            except StopIteration:
                return
        while True:
            try:
                yield yielded
            except GeneratorExit:  # closed (garbage collected): coro too, if it is not yet
                coro.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - the task's cancel(): into coro
                try:
                    yielded = coro.throw(exc)
                except StopIteration:
                    return
                continue
            try:
                yielded = coro.send(None)
            except StopIteration:
                return
