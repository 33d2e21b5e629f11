"""System calls counted by the kernel's own tracepoints (``perf stat -e syscalls:sys_enter_*``):
attached to running processes, or around a command.

Counting is exact where timing is noisy: a server that makes one more ``read`` or loop iteration
per connection than another shows it in every run. Unlike ``strace``, perf does not stop the
traced process at each call, so the process runs at its own speed and its event loop polls as
often as it would unobserved (how often a loop finds nothing to read depends on timing).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .procs import popen, run

__all__ = ["CALLS", "Calls", "available", "attached", "around"]

#: The calls counted (each with its failures): what a TLS server or client makes per connection
#: or per message on Linux, whichever event loop it runs.
CALLS = ("read", "write", "readv", "writev", "recvfrom", "sendto", "recvmsg", "sendmsg",
         "epoll_wait", "epoll_pwait", "epoll_ctl", "io_uring_enter", "accept4", "shutdown",
         "close", "socket", "dup2", "dup3", "ioctl", "fcntl", "setsockopt", "getsockopt",
         "getsockname", "getpeername", "getpid", "futex",
         "mprotect", "brk", "mmap", "munmap", "madvise", "openat", "newfstatat", "lseek")


@dataclass
class Calls:
    """What one count found: per system call, how many calls and how many failed; ``total``
    counts every system call, the listed ones or not."""

    calls: dict[str, int]
    errors: dict[str, int]
    total: int

    def per(self, n: float) -> tuple[dict[str, float], dict[str, float], float]:
        """Divided by ``n`` operations: (calls per op, failed calls per op, all calls per op)."""
        return ({k: v / n for k, v in self.calls.items()},
                {k: v / n for k, v in self.errors.items()}, self.total / n)


def _events() -> list[str]:
    out = ["-e", "raw_syscalls:sys_enter"]
    for name in CALLS:
        out += ["-e", f"syscalls:sys_enter_{name}", "-e", f"syscalls:sys_exit_{name}",
                "--filter", "ret < 0"]
    return out


def available() -> bool:
    """``perf`` is installed and may count syscall tracepoints here."""
    try:
        res = run(["perf", "stat", "-x", ",", "-e", "syscalls:sys_enter_read", "--", "true"],
                  capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return res.returncode == 0 and b"not supported" not in res.stderr


def _parse(text: str) -> Calls:
    """``perf stat -x,``'s lines: ``count,unit,event,...``."""
    calls: dict[str, int] = {}
    errors: dict[str, int] = {}
    total = 0
    for line in text.splitlines():
        parts = line.split(",")
        if len(parts) < 3 or not parts[0].strip().isdigit():
            continue
        count, event = int(parts[0]), parts[2]
        if event == "raw_syscalls:sys_enter":
            total = count
        elif event.startswith("syscalls:sys_enter_"):
            calls[event.removeprefix("syscalls:sys_enter_")] = count
        elif event.startswith("syscalls:sys_exit_"):
            errors[event.removeprefix("syscalls:sys_exit_")] = count
    return Calls({k: v for k, v in calls.items() if v},
                 {k: v for k, v in errors.items() if v}, total)


@contextlib.contextmanager
def attached(pids: Sequence[int], timeout: float = 30.0) -> Iterator[list[Calls]]:
    """Count the system calls of the running processes ``pids`` (every thread) while the
    ``with`` block runs; the yielded list then holds the counts. Counting is enabled before
    the block starts (perf's control FIFO acknowledges it) and stops when it ends."""
    result: list[Calls] = []
    with tempfile.TemporaryDirectory() as tmp:
        ctl, ack, out = Path(tmp) / "ctl", Path(tmp) / "ack", Path(tmp) / "out"
        os.mkfifo(ctl)
        os.mkfifo(ack)
        perf = popen(["perf", "stat", "-x", ",", "-o", str(out), "-D", "-1",
                      "--control", f"fifo:{ctl},{ack}", *_events(),
                      "-p", ",".join(str(p) for p in pids)],
                     stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            with open(ctl, "w") as c, open(ack) as a:  # (both opened by perf too: no deadlock)
                c.write("enable\n")
                c.flush()
                if a.readline().strip() != "ack":
                    raise RuntimeError("perf did not acknowledge 'enable'")
                yield result
                c.write("disable\n")
                c.flush()
                a.readline()
        finally:
            if perf.poll() is None:
                perf.send_signal(2)  # SIGINT: perf prints its counts and exits
            try:
                _, err = perf.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                perf.kill()
                perf.communicate(timeout=10)
                raise
        if perf.returncode not in (0, -2, 130):
            raise RuntimeError(f"perf stat failed (rc={perf.returncode}): {err[-2000:]!r}")
        result.append(_parse(out.read_text()))


def around(argv: Sequence[str], timeout: float) -> tuple[str, Calls]:
    """Run ``argv`` under ``perf stat``: its standard output and the system calls it made
    (every thread and child, from exec to exit)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        res = run(["perf", "stat", "-x", ",", "-o", str(out), *_events(), "--", *argv],
                  stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
        if res.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed (rc={res.returncode}): {res.stderr[-2000:]}")
        return res.stdout, _parse(out.read_text())
