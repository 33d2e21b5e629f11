"""The servers and clients the benchmark knows: one entry each.

A server entry is a command line with placeholders ({python}, {node}, {here}, {cert}, {key},
{host}, {port}, {redis}); the script it runs serves a TLS 1.3 echo service and prints
``LISTENING <port>`` (``servers/_common.py``). ``requires`` names what must be present: Python
modules (checked with ``importlib.util.find_spec`` in this interpreter, which also runs the
servers; ``module:attr`` also needs that attribute), ``node`` or ``redis-server`` (executables). An entry whose requirement is missing is
skipped, with a note in the output, so entries for modules still being written can sit here.

To add a variant, add one line: ``py_server(name, label, script, *args, requires=...,
workloads=...)``.
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["ServerSpec", "ClientSpec", "SERVERS", "CLIENTS", "BASELINE", "missing",
           "server_named", "client_named"]

#: Every ratio in the tables is to this server (and to the client of the same name).
BASELINE = "node"

_COMMON = ("--cert", "{cert}", "--key", "{key}", "--host", "{host}", "--port", "{port}")
_EXECUTABLES = {"node", "redis-server", "taskset"}


@dataclass(frozen=True)
class ServerSpec:
    """A server under test."""

    name: str  # identifier on the command line (--servers) and in the JSON
    label: str  # column heading
    argv: tuple[str, ...]
    requires: tuple[str, ...] = ()
    workloads: frozenset[str] | None = None  # server-side workloads it runs; None: all of them
    group: str = "main"  # 'main': the comparison table; otherwise a variants table
    compare_to: tuple[str, ...] = ()  # further references (besides Node) in the variants table
    pin: bool = True  # pinned to the server CPU; False: may use every CPU (worker pools)
    fixed_port: bool = False  # needs a known free port (SO_REUSEPORT workers)
    ready_lines: int = 1  # LISTENING lines to wait for (one per worker)
    note: str = ""

    def runs(self, workload: str) -> bool:
        return self.workloads is None or workload in self.workloads


@dataclass(frozen=True)
class ClientSpec:
    """A TLS client under test (client-side workloads); ``{spec}`` is its JSON job."""

    name: str
    label: str
    argv: tuple[str, ...]
    requires: tuple[str, ...] = ()
    workloads: frozenset[str] = field(default_factory=lambda: frozenset(
        {"client-hs", "client-rr", "client-rrcb"}))


def py_server(name: str, label: str, script: str, *args: str, **kw: object) -> ServerSpec:
    """An entry for ``servers/<script>`` run by this Python with the common options + ``args``."""
    return ServerSpec(name, label, ("{python}", "{here}/servers/" + script, *_COMMON, *args),
                      **kw)  # type: ignore[arg-type]


_AIO_WORKLOADS = frozenset({"hs", "rr64", "bulk"})
_RESUME = frozenset({"resume"})

_NODE_ARGV = ("{node}", "{here}/node/echo_server.js", "{cert}", "{key}", "{port}", "{host}")

SERVERS: tuple[ServerSpec, ...] = (
    ServerSpec("node", "Node v20", _NODE_ARGV, requires=("node",)),
    py_server("asyncio-ssl", "asyncio+ssl", "asyncio_echo.py", "--loop", "asyncio"),
    py_server("uvloop-ssl", "uvloop+ssl", "asyncio_echo.py", "--loop", "uvloop",
              requires=("uvloop",)),
    py_server("nodetls-asyncio", "nodetls (asyncio)", "nodetls_echo.py", "--loop", "asyncio",
              requires=("nodetls",)),
    py_server("nodetls-uvloop", "nodetls (uvloop)", "nodetls_echo.py", "--loop", "uvloop",
              requires=("nodetls", "uvloop")),
    # issue 8: the asyncio bridge serving the asyncio.Protocol echo asyncio_echo.py serves
    py_server("aio-asyncio", "nodetls.aio (asyncio)", "aio_echo.py", "--loop", "asyncio",
              requires=("nodetls.aio",), workloads=_AIO_WORKLOADS, group="aio",
              compare_to=("nodetls-asyncio", "asyncio-ssl")),
    py_server("aio-uvloop", "nodetls.aio (uvloop)", "aio_echo.py", "--loop", "uvloop",
              requires=("nodetls.aio", "uvloop"), workloads=_AIO_WORKLOADS, group="aio",
              compare_to=("nodetls-uvloop", "uvloop-ssl")),
    # issue 9: resumption through nodetls.sessions, and worker processes
    py_server("store-memory", "memory session store", "nodetls_echo.py", "--loop", "uvloop",
              "--store", "memory", requires=("nodetls.sessions", "uvloop"), workloads=_RESUME,
              group="sessions", compare_to=("ticket-keys",)),
    py_server("store-redis", "Redis session store", "nodetls_echo.py", "--loop", "uvloop",
              "--store", "redis", "--redis", "{redis}",
              requires=("nodetls.sessions", "redis", "redis-server", "uvloop"),
              workloads=_RESUME, group="sessions", compare_to=("ticket-keys",)),
    py_server("ticket-keys", "shared ticket keys", "nodetls_echo.py", "--loop", "uvloop",
              "--ticket-keys", requires=("nodetls.sessions", "uvloop"), workloads=_RESUME,
              group="sessions", compare_to=("nodetls-uvloop",)),
    py_server("workers-2", "nodetls workers=2", "nodetls_echo.py", "--loop", "uvloop",
              "--workers", "2", requires=("nodetls:worker_index", "uvloop"),
              workloads=frozenset({"hs"}), group="sessions", compare_to=("nodetls-uvloop",),
              pin=False, fixed_port=True, ready_lines=2,
              note="not pinned: the two workers may use both CPUs; CPU summed over the workers"),
    # one process placed like the workers (not pinned: the scheduler picks the CPU, and may share
    # the load client's): the like-for-like reference of workers-2
    py_server("nodetls-uvloop-free", "nodetls (uvloop), not pinned", "nodetls_echo.py", "--loop",
              "uvloop", requires=("nodetls", "uvloop"), workloads=frozenset({"hs"}),
              group="sessions", compare_to=("nodetls-uvloop",), pin=False,
              note="one process, not pinned (as workers-2 is)"),
    # the same two workers, both pinned to the single process's CPU: what workers cost per
    # connection, without the client sharing a CPU with one of them
    py_server("workers-2-pinned", "nodetls workers=2, one CPU", "nodetls_echo.py", "--loop",
              "uvloop", "--workers", "2", requires=("nodetls:worker_index", "uvloop"),
              workloads=frozenset({"hs"}), group="sessions", compare_to=("nodetls-uvloop",),
              fixed_port=True, ready_lines=2,
              note="both workers pinned to the server CPU; CPU summed over the workers"),
    # Node's own workers, the reference for workers-2: what two processes cost Node per
    # connection on this machine (cluster; CPU summed over the primary and the workers)
    ServerSpec("node-free", "Node v20, not pinned", _NODE_ARGV, requires=("node",),
               workloads=frozenset({"hs"}), group="sessions", pin=False,
               note="one Node process, not pinned (as node-cluster-2 is)"),
    ServerSpec("node-cluster-2", "Node cluster, 2 workers", (*_NODE_ARGV, "2", "rr"),
               requires=("node",), workloads=frozenset({"hs"}), group="sessions",
               compare_to=("node-free",), pin=False, fixed_port=True, ready_lines=2,
               note="node:cluster, round-robin (Node's default: the primary accepts and hands "
                    "connections to the workers); not pinned; CPU summed over all three"),
    ServerSpec("node-cluster-2-shared", "Node cluster, 2 workers, shared socket",
               (*_NODE_ARGV, "2", "none"), requires=("node",), workloads=frozenset({"hs"}),
               group="sessions", compare_to=("node-free",), pin=False, fixed_port=True,
               ready_lines=2,
               note="node:cluster, SCHED_NONE (the workers accept on the one shared socket); "
                    "not pinned; CPU summed over all three"),
)

CLIENTS: tuple[ClientSpec, ...] = (
    ClientSpec("node", "Node v20 client", ("{node}", "{here}/node/load.js", "{spec}"),
               requires=("node",)),
    ClientSpec("nodetls-asyncio", "nodetls client (asyncio)",
               ("{python}", "{here}/clients/nodetls_load.py", "--loop", "asyncio", "{spec}"),
               requires=("nodetls",)),
    ClientSpec("nodetls-uvloop", "nodetls client (uvloop)",
               ("{python}", "{here}/clients/nodetls_load.py", "--loop", "uvloop", "{spec}"),
               requires=("nodetls", "uvloop")),
)


def missing(requires: Sequence[str]) -> list[str]:
    """The requirements of an entry that this machine lacks."""
    out = []
    for req in requires:
        if req in _EXECUTABLES:
            if shutil.which(req) is None:
                out.append(f"`{req}` not on PATH")
            continue
        module, _, attr = req.partition(":")
        try:
            found = importlib.util.find_spec(module) is not None
            if found and attr:
                found = hasattr(importlib.import_module(module), attr)
        except (ImportError, ValueError):
            found = False
        if not found:
            out.append(f"module {req} not importable")
    return out


def server_named(name: str) -> ServerSpec:
    for s in SERVERS:
        if s.name == name:
            return s
    raise KeyError(name)


def client_named(name: str) -> ClientSpec:
    for c in CLIENTS:
        if c.name == name:
            return c
    raise KeyError(name)
