"""``pipeline`` starts its async helpers (a destination or stage function, the pumps) at once,
as Node calls them, and then goes on with them as Python 3.12's eager tasks do: a coroutine
whose first wait is a bare yield (``await asyncio.sleep(0)``, the asyncio spelling of a
JavaScript ``await`` that need not wait) goes on after one loop iteration, not two.

Found by the composite-API differential runs (``tests/stream/diff/gen2.py``, named cases
``pipeline_destination_gets_chunk_read_before_destroy`` and
``pipeline_generator_source_steps_before_destination_write``): the second iteration let a
``destroy()`` made right after ``pipeline()`` fail the pipeline first, whose cancelling of the
function then lost the chunk its ``async for`` had already taken from the stream.
"""

from __future__ import annotations

import asyncio
from typing import Any

from nodetls.errors import node_error
from nodetls.stream import PassThrough, pipeline

TIMEOUT = 5.0


async def test_destination_function_gets_the_chunk_it_took_before_a_destroy() -> None:
    """Node (v20, checked at top level and inside a promise reaction): a destination function
    whose ``for await`` took the buffered chunk inside the ``pipeline()`` call gets it in its
    loop body, though the source is destroyed right after: the callback gets the error, the
    body the chunk, the stream's buffer is empty."""
    got: list[bytes] = []
    done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    s = PassThrough()
    s.push(b"abc")

    async def destination(source: Any) -> str:
        async for c in source:
            await asyncio.sleep(0)
            got.append(bytes(c))
        return "v"

    pipeline(s, destination, lambda err=None, v=None: done.set_result((err, v)))
    s.destroy(node_error("EBOOM", message="boom"))
    err, value = await asyncio.wait_for(done, TIMEOUT)
    assert getattr(err, "code", None) == "EBOOM" and value is None
    assert got == [b"abc"]
    assert s.readable_length == 0


async def test_function_stage_goes_on_one_iteration_after_a_bare_yield() -> None:
    """A destination function's step after ``await asyncio.sleep(0)`` runs before a callback
    queued after ``pipeline()`` returned, as a Python 3.12 eager task's would (its bare yield
    queues the next step at once)."""
    loop = asyncio.get_running_loop()
    log: list[str] = []
    done: asyncio.Future[Any] = loop.create_future()
    s = PassThrough()

    async def destination(source: Any) -> None:
        log.append("started")
        await asyncio.sleep(0)
        log.append("resumed")
        async for _ in source:
            pass

    pipeline(s, destination, lambda err=None, v=None: done.set_result(err))
    loop.call_soon(log.append, "queued after")
    s.end()
    assert await asyncio.wait_for(done, TIMEOUT) is None
    assert log == ["started", "resumed", "queued after"]


async def test_a_cancel_before_the_first_step_reaches_the_coroutine() -> None:
    """``start_eagerly``'s task forwards a ``cancel()`` into the coroutine also before the task's
    first step ran: the coroutine's ``except``/``finally`` run then, not when it is garbage
    collected."""
    from nodetls.stream._eager import start_eagerly

    log: list[str] = []

    async def body() -> None:
        try:
            await asyncio.sleep(TIMEOUT)
        except asyncio.CancelledError:
            log.append("cancelled")
            raise
        finally:
            log.append("finally")

    task = start_eagerly(asyncio.get_running_loop(), body())
    assert task is not None
    task.cancel()
    try:
        await asyncio.wait_for(task, TIMEOUT)
    except asyncio.CancelledError:
        pass
    assert log == ["cancelled", "finally"]
