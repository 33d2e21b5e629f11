"""``run(main, workers=N)``: ``main`` in N forked worker processes, supervised by the parent.

* **Listening**: in a worker every TCP ``listen()`` sets ``SO_REUSEPORT``, so the N workers bind the
  same port and the kernel spreads connections over them (``_net.server._reuse_port``).
* **Ticket keys**: the parent owns one :class:`~nodetls.sessions.TicketKeys` and rotates it; a worker
  inherits the key set at fork and receives every new set on its own pipe
  (:class:`~nodetls.sessions._keys.PipedTicketKeys`); each ``tls.Server`` of a worker uses it unless
  it was given ``ticket_keys``.  A ticket from one worker resumes on any other.  No Redis needed.
  Key memory: each packed set is wiped once written to the pipes (``os.writev``, no joined copy); a
  worker wipes the copy of the parent's ``TicketKeys`` it inherited at fork (it is never rotated
  there) once it has its own.
* **Stopping**: SIGINT/SIGTERM to the parent sends SIGTERM to every worker, which does what Ctrl-C
  does to a single-process ``run()``: ``main`` is cancelled, the listening servers close, open
  connections get ``_run.SHUTDOWN_GRACE`` seconds to finish, the rest are closed.  Workers still
  alive after ``grace`` seconds are killed.  A second signal kills at once.
* **Restarting**: a worker that exits with a non-zero status or is killed is forked again.  One that
  keeps dying within a second of its start is restarted with a growing delay, and after 5 such deaths
  in a row the parent stops the others and gives up.
* **Exit status**: ``run`` returns ``None`` in the parent when every worker ended cleanly (status 0,
  whether they finished by themselves or were stopped by a signal); otherwise it raises
  ``SystemExit(1)`` (a crash loop, or workers killed after ``grace``).

The parent runs no event loop (forking from inside a running asyncio loop would hand the children a
copy of it): it waits on a signal wake-up pipe with ``select``.  Node's ``cluster`` module is the
model, without its IPC channel: only the ticket keys travel, one way.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import select
import signal
import struct
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from . import _run, _worker_state
from ._context.ticket_keys import wipe
from .sessions._keys import PipedTicketKeys, TicketKeys, pack_entries

_log = logging.getLogger("nodetls.workers")

__all__ = ["run_workers", "worker_index"]

_FAST_DEATH = 1.0  # seconds: a worker dying sooner than this counts towards a crash loop
_MAX_FAST_DEATHS = 5
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def worker_index() -> int | None:
    """0..N-1 in a worker of ``run(main, workers=N)``, ``None`` anywhere else (beyond Node; its
    ``cluster.worker.id`` counts from 1 and grows with restarts, this index is the slot)."""
    return _worker_state.index


class _Slot:
    __slots__ = ("index", "pid", "pipe", "started", "fast_deaths", "restart_at", "done")

    def __init__(self, index: int) -> None:
        self.index = index
        self.pid: int | None = None
        self.pipe: int | None = None
        self.started = 0.0
        self.fast_deaths = 0
        self.restart_at: float | None = None
        self.done = False  # exited cleanly by itself: not restarted


class _Supervisor:
    def __init__(self, main: Callable[[], Any], workers: int, keys: TicketKeys, grace: float,
                 run_options: dict[str, Any]) -> None:
        self.main = main
        self.keys = keys
        self.grace = grace
        self.run_options = run_options
        self.slots = [_Slot(i) for i in range(workers)]
        self.signals: list[int] = []
        self.stopping = False
        self.deadline: float | None = None
        self.status = 0
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)

    # -- the parent's loop
    def serve(self) -> int:
        handled = (*_STOP_SIGNALS, signal.SIGCHLD)
        old = {sig: signal.signal(sig, self._on_signal) for sig in handled}
        old_fd = signal.set_wakeup_fd(self.wake_w, warn_on_full_buffer=False)
        try:
            for slot in self.slots:
                self._spawn(slot)
            while any(s.pid is not None or (s.restart_at is not None and not self.stopping)
                      for s in self.slots):
                with contextlib.suppress(InterruptedError):
                    select.select([self.wake_r], [], [], self._timeout())
                self._drain()
                self._reap()
                self._handle_signals()
                self._tick()
            return self.status
        finally:
            signal.set_wakeup_fd(old_fd)
            for sig, handler in old.items():
                signal.signal(sig, handler)
            for slot in self.slots:
                self._close_pipe(slot)
            os.close(self.wake_r)
            os.close(self.wake_w)

    def _on_signal(self, signum: int, _frame: Any) -> None:
        self.signals.append(signum)

    def _timeout(self) -> float:
        now = time.time()
        waits = [self.keys._next_switch(now)]
        if self.deadline is not None:
            waits.append(self.deadline - time.monotonic())
        waits += [s.restart_at - time.monotonic() for s in self.slots if s.restart_at is not None]
        return max(0.0, min(waits))

    def _drain(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(self.wake_r, 4096):
                pass

    def _handle_signals(self) -> None:
        while self.signals:
            sig = self.signals.pop(0)
            if sig == signal.SIGCHLD:
                continue
            if self.stopping:  # a second stop signal: no more waiting
                self._kill_all(signal.SIGKILL)
                self.status = 1
            else:
                self._stop()

    def _stop(self) -> None:
        self.stopping = True
        self.deadline = time.monotonic() + self.grace
        for slot in self.slots:
            slot.restart_at = None
        self._kill_all(signal.SIGTERM)

    def _kill_all(self, sig: int) -> None:
        for slot in self.slots:
            if slot.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(slot.pid, sig)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            slot = next((s for s in self.slots if s.pid == pid), None)
            if slot is not None:
                self._exited(slot, os.waitstatus_to_exitcode(status))

    def _exited(self, slot: _Slot, code: int) -> None:
        slot.pid = None
        self._close_pipe(slot)
        if self.stopping:
            if code != 0:
                self.status = 1
            return
        if code == 0:
            slot.done = True
            return
        now = time.monotonic()
        slot.fast_deaths = slot.fast_deaths + 1 if now - slot.started < _FAST_DEATH else 0
        what = f"signal {-code}" if code < 0 else f"status {code}"
        if slot.fast_deaths >= _MAX_FAST_DEATHS:
            _log.error("nodetls: worker %d keeps dying (%s); stopping", slot.index, what)
            self.status = 1
            self._stop()
            return
        _log.warning("nodetls: worker %d exited (%s); restarting", slot.index, what)
        slot.restart_at = now + (0.05 * 2 ** slot.fast_deaths if slot.fast_deaths else 0.0)

    def _tick(self) -> None:
        now = time.monotonic()
        if self.deadline is not None and now >= self.deadline:
            if any(s.pid is not None for s in self.slots):
                self.status = 1
                self._kill_all(signal.SIGKILL)
            self.deadline = None
        for slot in self.slots:
            if slot.restart_at is not None and now >= slot.restart_at and not self.stopping:
                slot.restart_at = None
                self._spawn(slot)
        self._rotate()

    def _rotate(self) -> None:
        """Apply the key schedule; a changed set goes to every running worker."""
        if self.keys.rotate():
            message = pack_entries(self.keys.entries())
            try:
                for slot in self.slots:
                    self._send(slot, message)
            finally:
                wipe(message)  # the keys' only other copy here is the TicketKeys' own

    # -- worker processes
    def _send(self, slot: _Slot, message: bytearray) -> None:
        if slot.pipe is None:
            return
        try:  # writev: the length and the keys, without joining them into a bytes copy
            os.writev(slot.pipe, [struct.pack(">I", len(message)), message])
        except OSError:  # the worker is gone or not reading; it gets the set at its restart
            pass

    def _close_pipe(self, slot: _Slot) -> None:
        if slot.pipe is not None:
            os.close(slot.pipe)
            slot.pipe = None

    def _spawn(self, slot: _Slot) -> None:
        self._rotate()
        read_fd, write_fd = os.pipe()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        pid = os.fork()
        if pid == 0:  # the worker: never returns
            os.close(write_fd)
            self._become_worker(slot.index, read_fd)
        os.close(read_fd)
        os.set_blocking(write_fd, False)
        slot.pid, slot.pipe, slot.started = pid, write_fd, time.monotonic()

    def _become_worker(self, index: int, read_fd: int) -> None:
        code = 1
        parent = os.getppid()
        try:
            signal.set_wakeup_fd(-1)
            for sig in _STOP_SIGNALS:  # until the loop's handlers are in place: a quiet exit
                signal.signal(sig, _exit_quietly)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _die_with_parent(parent)
            for fd in [self.wake_r, self.wake_w] + [s.pipe for s in self.slots if s.pipe is not None]:
                with contextlib.suppress(OSError):
                    os.close(fd)
            _worker_state.index = index
            _worker_state.ticket_keys = PipedTicketKeys(read_fd, self.keys.entries(),
                                                        self.keys.interval, self.keys.keep)
            # The parent's TicketKeys came along with fork(): the worker has its own copy now,
            # and this one would never be rotated (nor its retired keys wiped) here.
            self.keys._wipe_all()
            _run.run(lambda: _worker_main(self.main), **self.run_options)
            code = 0
        except KeyboardInterrupt:  # stopped by SIGTERM/SIGINT, gracefully
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # noqa: BLE001 - report it like an uncaught exception
            traceback.print_exc()
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(code)


def _die_with_parent(parent: int) -> None:
    """Linux: SIGTERM this worker when the parent dies (even by SIGKILL), so no orphan keeps the
    port; elsewhere a no-op."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before prctl
        raise SystemExit(0)


def _exit_quietly(_signum: int, _frame: Any) -> None:
    raise SystemExit(0)


def _stop_worker(reg: Any) -> None:
    """SIGTERM (and SIGINT) in a worker: what Ctrl-C does to a single-process ``run`` (``main``
    cancelled, servers closed, connections given ``SHUTDOWN_GRACE``), plus the worker's unref'd
    servers."""
    _run._on_sigint(reg)
    for server in list(_worker_state.servers):
        with contextlib.suppress(Exception):
            server.close()


async def _worker_main(main: Callable[[], Any]) -> Any:
    loop = asyncio.get_running_loop()
    reg = _run._REGISTRIES[loop]
    for sig in _STOP_SIGNALS:
        loop.add_signal_handler(sig, _stop_worker, reg)
    result = main()
    if inspect.isawaitable(result):
        result = await result
    return result


def run_workers(main: Callable[[], Any], workers: int, *, ticket_keys: TicketKeys | None = None,
                grace: float = 10.0, **run_options: Any) -> None:
    """``run(main, workers=N)`` in the parent: fork, supervise, stop; see the module docstring.

    Args:
        workers: the number of worker processes (>= 1).
        ticket_keys: the rotation the workers share (default ``TicketKeys()``: 12 h, keep 2).
        grace: seconds the workers get to finish after SIGINT/SIGTERM before they are killed.
        run_options: ``loop``/``debug``, passed to each worker's ``run``.
    """
    if isinstance(workers, bool) or not isinstance(workers, int):
        raise TypeError(f'The "workers" argument must be an int. Received {workers!r}')
    if workers < 1:
        raise ValueError(f'The "workers" argument must be >= 1. Received {workers}')
    if ticket_keys is None:
        ticket_keys = TicketKeys()
    elif not isinstance(ticket_keys, TicketKeys):
        raise TypeError('The "ticket_keys" argument must be a nodetls.sessions.TicketKeys. '
                        f"Received {type(ticket_keys).__name__}")
    if isinstance(grace, bool) or not isinstance(grace, (int, float)) or grace < 0:
        raise ValueError(f'The "grace" argument must be a number >= 0. Received {grace!r}')
    if _worker_state.index is not None:
        raise RuntimeError("run(main, workers=N) cannot be called inside a worker")
    status = _Supervisor(main, workers, ticket_keys, float(grace), run_options).serve()
    if status:
        raise SystemExit(status)
