"""Processes under measurement: CPU pinning, CPU time from schedstat, RSS, servers, the C client.

CPU time is read from ``/proc/PID/task/*/schedstat`` (nanoseconds on a CPU, per thread, exact),
summed over every thread of the process and of its child processes (worker pools), so a server's
cost per operation is the difference of two readings divided by the operations the client counted.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["Pinning", "pinning", "tree_pids", "cpu_ns", "cpu_ns_by_pid", "rss_kib", "ServerProc", "free_port",
           "read_line", "find_tlsbench_source", "build_tlsbench", "run_json", "raise_fd_limit",
           "clean_env", "dies_with_parent", "popen", "run"]


# ------------------------------------------------------------------ children die with the harness
_PR_SET_PDEATHSIG = 1
_libc: Any = None


def dies_with_parent(*, any_thread: bool = False) -> Callable[[], None] | None:
    """A ``preexec_fn`` for every process the benchmarks start: the child is sent SIGKILL when
    this process dies, even by SIGKILL (Linux ``prctl(PR_SET_PDEATHSIG)``, kept across
    ``exec``), so a killed harness leaves no server or client running (``start_new_session``
    servers get no terminal hang-up either).  ``None`` off Linux.

    The kernel ties the signal to the *thread* that forked, so this must be called, and the child
    forked, from the main thread; ``any_thread``: from any thread that waits for the child to exit
    before it ends (:func:`run`, e.g. in an executor thread).  A server's own children go with it by their own means:
    nodetls's ``run(workers=N)`` workers (``PR_SET_PDEATHSIG`` to SIGTERM) and Node's cluster
    workers (they exit when the IPC channel to the primary closes)."""
    global _libc
    if not sys.platform.startswith("linux"):
        return None
    if not any_thread and threading.current_thread() is not threading.main_thread():
        raise RuntimeError("benchmark processes must be started from the main thread "
                           "(PR_SET_PDEATHSIG fires when the forking thread exits)")
    if _libc is None:
        import ctypes

        _libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()
    prctl = _libc.prctl

    def preexec() -> None:  # in the child, between fork and exec: no allocation-heavy work
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def popen(argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
    """``subprocess.Popen`` of a child that dies with this process (:func:`dies_with_parent`)."""
    return subprocess.Popen(list(argv), preexec_fn=dies_with_parent(), **kwargs)


def run(argv: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    """``subprocess.run`` of a child that dies with this process (:func:`dies_with_parent`; from
    any thread: the calling thread waits for the child)."""
    return subprocess.run(list(argv), preexec_fn=dies_with_parent(any_thread=True), **kwargs)


class Pinning:
    """Which CPU the client and the server run on (``taskset -c``); no pinning on one CPU."""

    def __init__(self, client: int | None, server: int | None) -> None:
        self.client, self.server = client, server

    def argv(self, argv: Sequence[str], cpu: int | None) -> list[str]:
        if cpu is None or shutil.which("taskset") is None:
            return list(argv)
        return ["taskset", "-c", str(cpu), *argv]

    def describe(self) -> str:
        if self.server is None:
            return "not pinned (one CPU available)"
        return f"client on CPU {self.client}, server on CPU {self.server} (taskset)"


def pinning() -> Pinning:
    """Client on the first CPU this process may use, server on the last."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2 or shutil.which("taskset") is None:
        return Pinning(None, None)
    return Pinning(cpus[0], cpus[-1])


def tree_pids(pid: int) -> list[int]:
    """``pid`` and all its descendants (through ``/proc/PID/task/TID/children``)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{p}/task"):
                with contextlib.suppress(OSError):
                    todo.extend(int(c) for c in
                                Path(f"/proc/{p}/task/{task}/children").read_text().split())
    return out


def cpu_ns_by_pid(pid: int) -> dict[int, int]:
    """Nanoseconds on a CPU (schedstat, all threads) of ``pid`` and of each descendant."""
    out = {}
    for p in tree_pids(pid):
        total = 0
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{p}/task"):
                with contextlib.suppress(OSError, ValueError, IndexError):
                    total += int(Path(f"/proc/{p}/task/{task}/schedstat").read_text().split()[0])
        out[p] = total
    return out


def cpu_ns(pid: int) -> int:
    """Nanoseconds on a CPU of every thread of ``pid`` and its descendants (schedstat)."""
    return sum(cpu_ns_by_pid(pid).values())


def rss_kib(pid: int) -> int:
    """Resident set size (``VmRSS``) of ``pid`` and its descendants, KiB."""
    total = 0
    for p in tree_pids(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def raise_fd_limit() -> None:
    """Soft RLIMIT_NOFILE up to the hard limit, for this process and the ones it starts."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for measured processes: no key logging, no Node/nodetls overrides."""
    env = dict(os.environ)
    for name in ("SSLKEYLOGFILE", "NODE_OPTIONS", "NODE_TLS_REJECT_UNAUTHORIZED",
                 "NODE_EXTRA_CA_CERTS", "NODETLS_LOOP", "PYTHONASYNCIODEBUG"):
        env.pop(name, None)
    env.update(extra or {})
    return env


def read_line(proc: subprocess.Popen[bytes], timeout: float, what: str) -> str:
    """The next line ``proc`` prints on stdout, within ``timeout`` seconds (nothing read past it)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buf = b""
    deadline = time.monotonic() + timeout
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError(f"{what}: no output within {timeout:.0f} s")
        chunk = os.read(fd, 1)
        if not chunk:
            raise RuntimeError(f"{what}: exited (rc={proc.wait(5)}) before printing a line")
        buf += chunk
    return buf.decode(errors="replace").strip()


def _stop(proc: subprocess.Popen[Any], group: bool) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        if group:
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
        proc.wait(10)


class ServerProc:
    """A server process (in its own process group) that printed ``LISTENING <port>``; it dies
    with this process (:func:`dies_with_parent`)."""

    def __init__(self, name: str, argv: Sequence[str], *, ready_lines: int = 1,
                 timeout: float = 60.0, env: dict[str, str] | None = None) -> None:
        """``env``: variables added to :func:`clean_env`'s environment."""
        self.name = name
        self.argv = list(argv)
        self._stderr = tempfile.TemporaryFile()
        self.proc = popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=self._stderr, env=clean_env(env), start_new_session=True)
        try:
            for _ in range(ready_lines):
                line = read_line(self.proc, timeout, f"{name} server")
                if not line.startswith("LISTENING "):
                    raise RuntimeError(f"{name} server said {line!r}")
            self.port = int(line.split()[1])
        except BaseException as exc:
            self.stop()
            raise RuntimeError(f"{name} server did not start: {exc}\n{self.stderr_tail()}") from exc

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu_ns(self) -> int:
        return cpu_ns(self.proc.pid)

    def settled_cpu_ns(self, limit: float = 1.0) -> int:
        """CPU time once the server has stopped working (two readings 50 ms apart agree)."""
        deadline = time.monotonic() + limit
        last = self.cpu_ns()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = self.cpu_ns()
            if now - last < 1_000_000:  # < 1 ms of work in 50 ms: idle
                return now
            last = now
        return last

    def rss_kib(self) -> int:
        return rss_kib(self.proc.pid)

    def stderr_tail(self, n: int = 3000) -> str:
        with contextlib.suppress(ValueError, OSError):
            self._stderr.seek(0)
            return self._stderr.read().decode(errors="replace")[-n:]
        return ""

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} server exited (rc={self.proc.returncode}):\n"
                               f"{self.stderr_tail()}")

    def stop(self) -> None:
        _stop(self.proc, group=True)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._stderr.close()


# ----------------------------------------------------------------------------- the C load client
def find_tlsbench_source(root: Path) -> Path | None:
    """The directory holding ``tlsbench.c``: ``$TLSBENCH_SRC``, or a ``shared/tlsbench`` beside
    the checkout (or beside its parent, for git worktrees)."""
    candidates = [os.environ.get("TLSBENCH_SRC", "")]
    for up in (root.parent, root.parent.parent):
        candidates.append(str(up / "shared" / "tlsbench"))
    for c in candidates:
        if c and (Path(c) / "tlsbench.c").is_file():
            return Path(c)
    return None


def build_tlsbench(root: Path, build_dir: Path) -> Path:
    """``build_dir/tlsbench``, built from its source with the command its README gives
    (``make``, in a copy of the folder: the source folder may be read-only)."""
    binary = build_dir / "tlsbench-src" / "tlsbench"
    src = find_tlsbench_source(root)
    if src is None:
        if binary.is_file():
            return binary
        raise FileNotFoundError("tlsbench source not found: set TLSBENCH_SRC to the folder "
                                "holding tlsbench.c (the shared tlsbench load client)")
    copy = binary.parent
    copy.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.is_file():
            dst = copy / f.name
            if not dst.exists() or dst.read_bytes() != f.read_bytes():
                dst.write_bytes(f.read_bytes())
    res = run(["make", "-C", str(copy)], capture_output=True, text=True, timeout=300)
    if res.returncode != 0 or not binary.is_file():
        raise RuntimeError(f"building tlsbench failed:\n{res.stdout}\n{res.stderr}")
    return binary


def run_json(argv: Sequence[str], timeout: float, what: str) -> dict[str, Any]:
    """Run ``argv`` to completion; its last stdout line, parsed as JSON."""
    res = run(argv, capture_output=True, timeout=timeout, env=clean_env(), stdin=subprocess.DEVNULL)
    lines = res.stdout.decode(errors="replace").strip().splitlines()
    if not lines:
        raise RuntimeError(f"{what}: no output (rc={res.returncode}):\n"
                           f"{res.stderr.decode(errors='replace')[-3000:]}")
    out: dict[str, Any] = json.loads(lines[-1])
    out["returncode"] = res.returncode
    if res.returncode not in (0, 1) or "fatal" in out:
        raise RuntimeError(f"{what}: failed (rc={res.returncode}): {lines[-1]}\n"
                           f"{res.stderr.decode(errors='replace')[-3000:]}")
    return out


@contextlib.contextmanager
def redis_server(tmp: Path, cpu: int | None) -> Iterator[str]:
    """A throw-away ``redis-server`` on a free loopback port, pinned to ``cpu`` (no snapshots,
    its files in ``tmp``); its URL.  (The Redis session-store variant's, ``bench.py`` and
    ``paired.py``.)"""
    port = free_port()
    argv = Pinning(cpu, None).argv(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                    "--save", "", "--appendonly", "no", "--dir", str(tmp)], cpu)
    proc = popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True,
                  timeout=10).stdout.strip() != "PONG":
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)
