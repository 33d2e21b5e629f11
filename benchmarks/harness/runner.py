"""Takes the measurements: starts servers, runs the C client or a client under test, reads CPU time.

One :class:`Measurement` per (workload, server or client, repetition). Servers stay up for the whole
run (one process per server and certificate type), except for the idle-memory workload, which
measures a fresh process each time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .procs import (
    Pinning,
    ServerProc,
    clean_env,
    cpu_ns_by_pid,
    free_port,
    popen,
    read_line,
    run_json,
)
from .registry import BASELINE, ClientSpec, ServerSpec, server_named
from .workloads import Profile, Workload

__all__ = ["Measurement", "Runner", "interleaved"]

HOST = "127.0.0.1"
HERE = Path(__file__).resolve().parent.parent


@dataclass
class Measurement:
    """One measured figure, with the raw numbers it came from."""

    workload: str
    target: str  # the server (server side) or client (client side) measured
    rep: int
    value: float  # in the workload's unit
    ops: int = 0
    seconds: float = 0.0
    rate: float = 0.0  # operations (bulk: MB) per second, as the client saw them
    server_cpu_s: float | None = None
    client_cpu_s: float | None = None
    errors: int = 0
    resumed: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def fill_argv(template: tuple[str, ...], **values: str) -> list[str]:
    """A registry entry's command line with its placeholders filled (``{python}``, ``{node}``,
    ``{here}``, ``{host}`` and ``{redis}`` by default, the rest from ``values``)."""
    base = {"python": sys.executable, "node": "node", "here": str(HERE), "host": HOST,
            "redis": "", **values}
    return [part.format(**base) for part in template]


def start_server(spec: ServerSpec, pki: dict[str, Path], pin: Pinning, cert: str = "ecdsa",
                 redis_url: str = "") -> ServerProc:
    """``spec``'s server for ``cert`` (``ecdsa`` or ``rsa``), pinned as it asks, once listening."""
    port = str(free_port()) if spec.fixed_port else "0"
    argv = fill_argv(spec.argv, cert=str(pki[f"{cert}-cert"]), key=str(pki[f"{cert}-key"]),
                     port=port, redis=redis_url)
    argv = pin.argv(argv, pin.server if spec.pin else None)
    return ServerProc(spec.name, argv, ready_lines=spec.ready_lines)


class Runner:
    """Everything one benchmark run needs; :meth:`measure` takes one measurement."""

    def __init__(self, profile: Profile, pki: dict[str, Path], tlsbench: Path, pin: Pinning,
                 redis_url: str | None = None) -> None:
        self.profile = profile
        self.pki = pki
        self.tlsbench = str(tlsbench)
        self.pin = pin
        self.redis_url = redis_url or ""
        self._servers: dict[tuple[str, str], ServerProc] = {}
        self.warnings: list[str] = []

    # ------------------------------------------------------------------------------ servers
    def _argv(self, template: tuple[str, ...], **values: str) -> list[str]:
        return fill_argv(template, redis=self.redis_url, **values)

    def start_server(self, spec: ServerSpec, cert: str = "ecdsa") -> ServerProc:
        return start_server(spec, self.pki, self.pin, cert, self.redis_url)

    def server(self, spec: ServerSpec, cert: str = "ecdsa") -> ServerProc:
        """The long-lived server process of ``spec`` for ``cert`` (started on first use)."""
        key = (spec.name, cert)
        srv = self._servers.get(key)
        if srv is None:
            srv = self._servers[key] = self.start_server(spec, cert)
            self._warm_up(srv)
        srv.check_alive()
        return srv

    def _warm_up(self, srv: ServerProc) -> None:
        """Unmeasured runs of each kind on a new server: imports, caches, Node's JIT."""
        t = str(self.profile.server_warmup)
        for args in (("-m", "hs", "-c", "4", "-t", t), ("-m", "pingpong", "-s", "64", "-t", t),
                     ("-m", "bulk", "-c", "1", "-b", str(2**30), "-t", t)):
            run_json(self.pin.argv(self._tlsbench(srv.port, *args), self.pin.client), 60,
                     f"tlsbench warm-up of {srv.name}")

    def close(self) -> None:
        for srv in self._servers.values():
            srv.stop()
        self._servers.clear()

    # ------------------------------------------------------------------------------ measuring
    def measure(self, workload: Workload, target: ServerSpec | ClientSpec,
                rep: int) -> Measurement:
        if workload.side == "client":
            assert isinstance(target, ClientSpec)
            return self._client(workload, target, rep)
        assert isinstance(target, ServerSpec)
        if workload.name == "idle":
            return self._idle(workload, target, rep)
        return self._server(workload, target, rep)

    def _tlsbench(self, port: int, *args: str) -> list[str]:
        return [self.tlsbench, "-h", HOST, "-p", str(port), *args]

    def _server(self, workload: Workload, spec: ServerSpec, rep: int) -> Measurement:
        p = self.profile
        srv = self.server(spec, workload.cert)
        client_cpu = self.pin.client
        if workload.name in ("hs", "hs-rsa"):
            args = ["-m", "hs", "-c", "16", "-S", "32", "-t", str(p.seconds)]
        elif workload.name == "resume":
            args = ["-m", "resume", "-c", "16", "-S", "32", "-t", str(p.seconds)]
        elif workload.name == "rr64":
            args = ["-m", "pingpong", "-s", "64", "-n", str(p.rr_count), "-t", str(p.rr_seconds)]
            if spec.pin:
                client_cpu = self.pin.server  # the README's recipe: client on the server's CPU
        elif workload.name == "bulk":
            args = ["-m", "bulk", "-c", "1", "-b", str(2**31), "-t", str(p.bulk_seconds)]
        else:
            raise ValueError(f"unknown server workload {workload.name!r}")
        argv = self.pin.argv(self._tlsbench(srv.port, *args), client_cpu)
        by_pid0 = cpu_ns_by_pid(srv.pid)
        cpu0 = sum(by_pid0.values())
        out = run_json(argv, 60 + 3 * max(p.seconds, p.bulk_seconds, p.rr_seconds),
                       f"tlsbench {workload.name} against {spec.name}")
        cpu1 = srv.settled_cpu_ns()
        srv.check_alive()
        if spec.ready_lines > 1:  # worker processes: how evenly did they share the work?
            work = {pid: ns - by_pid0.get(pid, 0) for pid, ns in cpu_ns_by_pid(srv.pid).items()
                    if pid != srv.pid}
            total = sum(work.values()) or 1
            out["worker_cpu_shares"] = sorted(round(w / total, 3) for w in work.values())
        server_cpu = (cpu1 - cpu0) / 1e9
        ops = int(out["ops"])
        if workload.name == "bulk":
            mb = int(out["bytes_recvd"]) / 1e6
            value = mb / server_cpu if server_cpu > 0 else float("nan")
            rate = float(out["mbps"])
        else:
            value = server_cpu / ops * 1e6 if ops else float("nan")
            rate = float(out["rate"])
        m = Measurement(workload.name, spec.name, rep, value, ops=ops,
                        seconds=float(out["elapsed"]), rate=rate, server_cpu_s=server_cpu,
                        client_cpu_s=float(out["client_cpu_user"]) + float(out["client_cpu_sys"]),
                        errors=int(out["errors"]), raw=out)
        if workload.name == "resume":
            m.resumed = int(out["resumed"])
            if ops and m.resumed < ops:
                self.warnings.append(f"{spec.name} rep {rep}: {ops - m.resumed} of {ops} "
                                     "resumption attempts were full handshakes")
        if m.errors:
            self.warnings.append(f"{spec.name} {workload.name} rep {rep}: {m.errors} client "
                                 f"errors ({out.get('last_error', '')})")
        return m

    def _idle(self, workload: Workload, spec: ServerSpec, rep: int) -> Measurement:
        n = self.profile.idle_conns
        srv = self.start_server(spec)  # fresh: no memory left from earlier workloads
        try:
            warm = self.pin.argv(self._tlsbench(srv.port, "-m", "idle", "-n", "32", "-c", "16",
                                                "-H", "0", "-t", "30"), self.pin.client)
            run_json(warm, 60, f"tlsbench idle warm-up against {spec.name}")
            time.sleep(0.3)
            rss0 = srv.rss_kib()
            argv = self.pin.argv(self._tlsbench(srv.port, "-m", "idle", "-n", str(n), "-c", "32",
                                                "-S", "32", "-H", "300", "-t", "120"),
                                 self.pin.client)
            proc = popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=clean_env())
            try:
                ready = json.loads(read_line(proc, 150, "tlsbench idle"))
                time.sleep(0.5)  # let the server settle (pending frees, GC)
                rss1 = srv.rss_kib()
                srv.check_alive()
                assert proc.stdin is not None
                proc.stdin.write(b"\n")
                proc.stdin.close()
                final = json.loads(read_line(proc, 60, "tlsbench idle (final)"))
                proc.wait(60)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(10)
        finally:
            srv.stop()
        held = int(ready["established"])
        value = (rss1 - rss0) / held if held else float("nan")
        m = Measurement(workload.name, spec.name, rep, value, ops=held,
                        seconds=float(ready["elapsed"]),
                        errors=int(ready["errors"]) + int(final.get("dropped", 0)),
                        raw={"ready": ready, "final": final, "rss_before_kib": rss0,
                             "rss_after_kib": rss1})
        if held < n or m.errors:
            self.warnings.append(f"{spec.name} idle rep {rep}: {held} of {n} connections held, "
                                 f"{m.errors} errors/drops")
        return m

    def _client(self, workload: Workload, spec: ClientSpec, rep: int) -> Measurement:
        p = self.profile
        srv = self.server(server_named(BASELINE))
        mode = {"client-hs": "hs", "client-rrcb": "rrcb"}.get(workload.name, "rr")
        job = {"mode": mode, "port": srv.port,
               "host": HOST, "ca": str(self.pki["ca"]), "duration": p.client_seconds,
               "warmup": p.client_warmup, "concurrency": 8, "size": 64}
        argv = self.pin.argv(self._argv(spec.argv, spec=json.dumps(job)), self.pin.client)
        cpu0 = srv.cpu_ns()
        out = run_json(argv, 120 + p.client_seconds, f"{spec.name} client {workload.name}")
        cpu1 = srv.settled_cpu_ns()
        srv.check_alive()
        ops = int(out["ops"])
        cpu = float(out["cpu"])
        m = Measurement(workload.name, spec.name, rep, cpu / ops * 1e6 if ops else float("nan"),
                        ops=ops, seconds=float(out["seconds"]), rate=float(out["rate"]),
                        server_cpu_s=(cpu1 - cpu0) / 1e9, client_cpu_s=cpu,
                        errors=int(out["errors"]), raw=out)
        if m.errors:
            self.warnings.append(f"client {spec.name} {workload.name} rep {rep}: "
                                 f"{m.errors} errors")
        return m


def interleaved(names: list[Any], rep: int) -> list[Any]:
    """The order of the targets in repetition ``rep``: rotated by one each time, reversed on odd
    repetitions, so no target is always first or always after the same one."""
    if not names:
        return []
    k = rep % len(names)
    order = names[k:] + names[:k]
    return order[::-1] if rep % 2 else order

