"""``net.Socket({'fd': n})`` over a pipe or a FIFO: Node's Pipe handle
(``src/nodetls/_net/pipe_handle.py``).

Every expectation was checked against node v20.20 with the same descriptors (an ``os.pipe()``
passed to a node child with ``pass_fds``; repro scripts /tmp/pipe31/p1.js, p2.js with run.py,
run2.py, and life.js with life.py for the lifetime cases): reading starts at construction (a
write-only descriptor fails at once, ``read ENOTCONN``), writing to a read-only one or to a pipe
without a reader is ``write EPIPE`` (the write callback, ``'error'``, ``'close'(true)``), at end
of file ``'end'`` (then ``'finish'`` and ``'close'(false)`` without ``allow_half_open``), the
shutdown of a pipe does not close it (the descriptor stays open until the socket closes), and
``destroy()`` closes the descriptor at once. Node's tests: test-net-socket-constructor (its
pipe descriptor), test-pipe-file-to-http / test-child-process-stdio (pipes as sockets).
"""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nodetls import _run, net

from .netutil import TIMEOUT, event

pytestmark = pytest.mark.skipif(os.name != "posix", reason="pipes as sockets: Unix only")


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _record(sock: Any, log: list[tuple[Any, ...]]) -> None:
    """Each event as ``(name, argument)``: data as bytes, an error as (code, message, syscall)."""
    def arg(value: Any) -> Any:
        if isinstance(value, BaseException):
            return (getattr(value, "code", None), str(value), getattr(value, "syscall", None))
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        return value

    for name in ("connect", "ready", "data", "end", "finish", "drain", "error", "close"):
        sock.on(name, lambda *a, _n=name: log.append((_n, arg(a[0]) if a else None)))


def _close_of(sock: Any) -> asyncio.Future[Any]:
    """``'close'``'s arguments (bounded), whatever ``'error'`` came before."""
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    sock.once("close", lambda *a: fut.done() or fut.set_result(a))
    return asyncio.ensure_future(asyncio.wait_for(fut, TIMEOUT))


def _write_cb(log: list[tuple[Any, ...]]) -> Any:
    def cb(err: BaseException | None = None) -> None:
        log.append(("write cb", None if err is None else getattr(err, "code", err)))
    return cb


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    """``os.pipe()``: (read end, write end); whichever end a test still holds is closed after."""
    ends = os.pipe()
    yield ends
    for fd in ends:
        if _is_open(fd):
            os.close(fd)


async def test_reads_until_end_of_file_then_ends_and_closes(pipe: tuple[int, int]) -> None:
    # node: 'data' hello, 'end', 'finish', 'close'(false); bytesRead 5; the descriptor closed
    r, w = pipe
    log: list[tuple[Any, ...]] = []
    gc.collect()  # (what earlier tests left unclosed is not this test's: collected first)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        sock = net.Socket({"fd": r})
        _record(sock, log)
        assert (sock.pending, sock.ready_state, sock.address(), sock.remote_address) == (
            False, "open", {}, None)
        closed = event(sock, "close")
        os.write(w, b"hello")
        os.close(w)
        await closed
        gc.collect()
    assert log == [("data", b"hello"), ("end", None), ("finish", None), ("close", False)]
    assert sock.bytes_read == 5
    assert not _is_open(r)


async def test_allow_half_open_keeps_the_descriptor_until_the_socket_ends(
        pipe: tuple[int, int]) -> None:
    # node: 'end', the descriptor still open (not destroyed, writable); end(): its callback,
    # 'finish', 'close'(false), and the descriptor is closed
    r, w = pipe
    log: list[tuple[Any, ...]] = []
    sock = net.Socket({"fd": r, "allow_half_open": True})
    _record(sock, log)
    ended = event(sock, "end")
    os.write(w, b"x")
    os.close(w)
    await ended
    await asyncio.sleep(0.05)  # (nothing more comes: the descriptor stays open)
    assert (sock.destroyed, sock.writable, _is_open(r)) == (False, True, True)
    closed = event(sock, "close")
    sock.end(lambda *_: log.append(("end cb", None)))
    await closed
    assert log == [("data", b"x"), ("end", None), ("end cb", None), ("finish", None),
                   ("close", False)]
    assert not _is_open(r)


async def test_reading_a_write_only_descriptor_fails_at_once(pipe: tuple[int, int]) -> None:
    # node: reading starts in the constructor, so write() already sees an errored socket
    # (ERR_STREAM_DESTROYED); 'error' read ENOTCONN (syscall 'read'), 'close'(true)
    r, w = pipe
    log: list[tuple[Any, ...]] = []
    sock = net.Socket({"fd": w})
    _record(sock, log)
    closed = _close_of(sock)
    assert sock.write(b"abc", _write_cb(log)) is False
    await closed
    assert log == [("error", ("ENOTCONN", "read ENOTCONN", "read")),
                   ("write cb", "ERR_STREAM_DESTROYED"), ("close", True)]
    assert not _is_open(w)


async def test_writing_a_read_only_descriptor_is_epipe(pipe: tuple[int, int]) -> None:
    # node: the write's callback gets EPIPE, then 'error' write EPIPE, 'close'(true)
    r, w = pipe
    log: list[tuple[Any, ...]] = []
    sock = net.Socket({"fd": r})
    _record(sock, log)
    closed = _close_of(sock)
    sock.write(b"abc", _write_cb(log))
    await closed
    assert log == [("write cb", "EPIPE"), ("error", ("EPIPE", "write EPIPE", "write")),
                   ("close", True)]
    assert not _is_open(r)


async def test_writing_a_pipe_without_reader_is_epipe(pipe: tuple[int, int]) -> None:
    # node (readable: false, the read end closed): write cb EPIPE, 'error' write EPIPE,
    # 'close'(true)
    r, w = pipe
    os.close(r)
    log: list[tuple[Any, ...]] = []
    sock = net.Socket({"fd": w, "readable": False})
    _record(sock, log)
    closed = _close_of(sock)
    sock.write(b"abc", _write_cb(log))
    await closed
    assert log == [("write cb", "EPIPE"), ("error", ("EPIPE", "write EPIPE", "write")),
                   ("close", True)]
    assert not _is_open(w)


async def test_a_large_write_drains_then_end_finishes_and_closes(pipe: tuple[int, int]) -> None:
    # node (readable: false): write() of 1 MiB returns false (writableLength 1 MiB), its
    # callback once the reader took it, then end()'s callback, 'finish', 'close'(false); the
    # reader gets every byte, then end of file (the descriptor closed)
    r, w = pipe
    log: list[tuple[Any, ...]] = []
    sock = net.Socket({"fd": w, "readable": False})
    _record(sock, log)
    closed = event(sock, "close")
    big = b"a" * (1 << 20)
    assert sock.write(big, _write_cb(log)) is False
    assert sock.writable_length == len(big)
    sock.end(lambda *_: log.append(("end cb", None)))
    loop = asyncio.get_running_loop()
    received = 0
    while chunk := await asyncio.wait_for(loop.run_in_executor(None, os.read, r, 65536),
                                          TIMEOUT):
        received += len(chunk)
    await closed
    assert received == len(big)
    assert log == [("write cb", None), ("end cb", None), ("finish", None), ("close", False)]


async def test_end_does_not_close_the_pipe_before_the_socket_closes(
        pipe: tuple[int, int]) -> None:
    # node: the shutdown of a pipe fails and is ignored: at 'finish' the descriptor is still
    # open (then 'close'(false), readable being false, and the reader sees end of file)
    r, w = pipe
    sock = net.Socket({"fd": w, "readable": False})
    at_finish: list[bool] = []
    sock.on("finish", lambda: at_finish.append(_is_open(w)))
    closed = event(sock, "close")
    sock.end(b"bye")
    assert await closed == (False,)
    assert at_finish == [True]
    assert os.read(r, 100) == b"bye"
    assert os.read(r, 100) == b""


async def test_destroy_closes_the_descriptor_at_once_and_only_once(
        pipe: tuple[int, int]) -> None:
    # node: destroy() closes the descriptor before it returns; 'close'(false) follows
    r, w = pipe
    sock = net.Socket({"fd": r})
    closed = event(sock, "close")
    sock.destroy()
    assert not _is_open(r)
    # The numbers are free again: descriptors made now may take them, and nothing closes
    # them behind our back (a second destroy, the close callback).
    again = os.pipe()
    try:
        sock.destroy()
        assert await closed == (False,)
        await asyncio.sleep(0)
        assert all(_is_open(fd) for fd in again)
    finally:
        for fd in again:
            os.close(fd)


async def test_pause_on_create_reads_only_after_resume(pipe: tuple[int, int]) -> None:
    # node (pauseOnCreate): nothing until resume(), then 'data', 'end', 'close'
    r, w = pipe
    log: list[tuple[Any, ...]] = []
    sock = net.Socket({"fd": r, "pause_on_create": True})
    _record(sock, log)
    os.write(w, b"held")
    os.close(w)
    await asyncio.sleep(0.05)
    assert log == []
    closed = event(sock, "close")
    sock.resume()
    await closed
    assert log == [("data", b"held"), ("end", None), ("finish", None), ("close", False)]


async def test_a_fifo_read_end(tmp_path: Path) -> None:
    # node: a FIFO's descriptor reads as a pipe's: 'data', 'end', 'close'(false)
    path = tmp_path / "fifo"
    os.mkfifo(path)
    r = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    w = os.open(path, os.O_WRONLY)
    log: list[tuple[Any, ...]] = []
    try:
        sock = net.Socket({"fd": r})
        _record(sock, log)
        closed = event(sock, "close")
        os.write(w, b"through the fifo")
    finally:
        os.close(w)
    await closed
    assert log == [("data", b"through the fifo"), ("end", None), ("finish", None),
                   ("close", False)]
    assert not _is_open(r)


async def test_a_fifo_opened_for_both_directions_reads_what_it_writes(tmp_path: Path) -> None:
    # node (O_RDWR): the write's callback, 'data' loop, then destroy(): 'close'(false)
    path = tmp_path / "fifo"
    os.mkfifo(path)
    fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    log: list[tuple[Any, ...]] = []
    sock = net.Socket({"fd": fd})
    _record(sock, log)
    sock.once("data", lambda _: sock.destroy())
    closed = event(sock, "close")
    sock.write(b"loop", _write_cb(log))
    await closed
    assert log == [("write cb", None), ("data", b"loop"), ("close", False)]
    assert not _is_open(fd)


async def test_a_pipe_shared_with_a_child_process(pipe: tuple[int, int]) -> None:
    # A child writes into the pipe we read, and reads from a second pipe we write (echoing to
    # its stdout): as Node's sockets over a child's pipes
    r, w = pipe
    r2, w2 = os.pipe()
    code = (f"import os, sys; os.write({w}, b'from the child'); os.close({w});"
            f"data = b''.join(iter(lambda: os.read({r2}, 100), b''));"
            "sys.stdout.buffer.write(data.upper())")
    try:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, pass_fds=(w, r2), stdout=subprocess.PIPE)
    finally:
        os.close(w)
        os.close(r2)
    log: list[tuple[Any, ...]] = []
    reader = net.Socket({"fd": r})
    _record(reader, log)
    writer = net.Socket({"fd": w2, "readable": False})
    closed = event(reader, "close"), event(writer, "close")
    writer.end(b"to the child")
    out, _ = await asyncio.wait_for(child.communicate(), TIMEOUT)
    await asyncio.gather(*closed)
    assert out == b"TO THE CHILD"
    assert log == [("data", b"from the child"), ("end", None), ("finish", None),
                   ("close", False)]
    assert child.returncode == 0


def test_run_lifetime_of_a_pipe_socket() -> None:
    # node (life.js): a pipe socket reading keeps the process alive (alive), paused too
    # (pause() alone does not stop reading), unref()'d it does not (exit); the descriptor is
    # then closed with no event
    outcomes = {}
    for mode in ("ref", "unref"):
        r, w = os.pipe()
        log: list[str] = []

        async def program(mode: str = mode, r: int = r, log: list[str] = log) -> None:
            loop = asyncio.get_running_loop()
            timer = loop.call_later(0.3, lambda: sock.destroy())
            sock = net.Socket({"fd": r})
            sock.on("close", lambda *_: (log.append("close"), timer.cancel()))
            if mode == "unref":
                sock.unref()

        try:
            _run.run(program)
        finally:
            os.close(w)
        outcomes[mode] = (log, _is_open(r))
    # ref: run() waited until the timer destroyed it; unref: it returned first, the
    # descriptor closed silently
    assert outcomes == {"ref": (["close"], False), "unref": ([], False)}


def test_on_uvloop(tmp_path: Path) -> None:
    # the same reads, writes and errors on uvloop's loop
    uvloop = pytest.importorskip("uvloop")

    async def main() -> list[tuple[Any, ...]]:
        r, w = os.pipe()
        log: list[tuple[Any, ...]] = []
        sock = net.Socket({"fd": r, "allow_half_open": True})
        _record(sock, log)
        ended = event(sock, "end")
        os.write(w, b"uv")
        os.close(w)
        await ended
        closed = _close_of(sock)
        sock.write(b"no", _write_cb(log))  # (a read-only descriptor)
        await closed
        assert not _is_open(r)
        return log

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        log = runner.run(main())
    assert log == [("data", b"uv"), ("end", None), ("write cb", "EPIPE"),
                   ("error", ("EPIPE", "write EPIPE", "write")), ("close", True)]
