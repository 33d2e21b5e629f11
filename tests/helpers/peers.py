"""Real TLS peers (``node``, ``openssl``, ``gnutls``) in separate processes, for interop tests.

Every wait is bounded; every process is killed on exit from its ``async with`` block.

* :func:`require_peer` -- the path of a tool, or a skip (a failure when the ``CI`` environment
  variable is set: CI must not silently skip interop tests).
* :func:`run_process`, :func:`run_node`, :func:`run_openssl_client`, :func:`run_gnutls_client` --
  run to completion, return ``ProcResult(rc, stdout, stderr)`` (unpacks as a tuple).
* :func:`spawn_node`, :func:`spawn_openssl_server`, :func:`spawn_gnutls_server`,
  :func:`spawn_process` -- long-running peers as async context managers yielding a
  :class:`PeerProcess` once its *ready line* has been printed (``srv.port`` is parsed from it)::

      async with spawn_node(NODE_SERVER_JS, certs.server.key_path) as srv:
          reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)

Node scripts signal readiness by printing ``LISTENING <port>`` (the default ready pattern).
Peers listen on loopback only -- except ``gnutls-serv``, which has no bind option and listens on
every interface (on a random free port, for the short life of the test).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import shutil
import signal
import socket
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import pytest

__all__ = [
    "LOOPBACK",
    "PeerProcess",
    "PeerTimeout",
    "ProcResult",
    "free_port",
    "in_ci",
    "require_peer",
    "run_gnutls_client",
    "run_node",
    "run_openssl_client",
    "run_process",
    "spawn_gnutls_server",
    "spawn_node",
    "spawn_openssl_client",
    "spawn_openssl_server",
    "spawn_process",
]

LOOPBACK = "127.0.0.1"
DEFAULT_TIMEOUT = 15.0
NODE_READY = r"LISTENING (?P<port>\d+)"

PEER_PACKAGES = {"node": "nodejs", "openssl": "openssl", "gnutls-cli": "gnutls-bin",
                 "gnutls-serv": "gnutls-bin"}


def in_ci() -> bool:
    """True when the ``CI`` environment variable is set to something other than false/0/no."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_peer(name: str) -> str:
    """The absolute path of the executable ``name``.

    Missing: ``pytest.skip`` -- or ``pytest.fail`` when running in CI (``CI`` set), where every
    peer must be installed (``.ci/run`` installs them).
    """
    path = shutil.which(name)
    if path is None:
        pkg = PEER_PACKAGES.get(name, name)
        reason = f"{name!r} not found on PATH (Debian package {pkg!r})"
        if in_ci():
            pytest.fail(f"{reason}; CI must have every test peer installed", pytrace=False)
        pytest.skip(reason)
    return path


# Ports handed out by free_port(): below Linux's ephemeral range (32768-60999 by default), so the
# kernel never gives one of them to another process's connect() or bind(port 0) between the moment
# a test picks it and the moment its peer binds it (a port baked into a certificate's AIA, a server
# started by a separate process).  Only another explicit pick of the same random port can collide.
_PICK_RANGE = (20000, 32767)
_rng = random.Random()


def _bindable(family: socket.AddressFamily, host: str, port: int) -> bool:
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port free on ``host`` and on every interface right now (peers such as ``openssl
    ocsp`` cannot bind one address), picked at random below the kernel's ephemeral range; the
    kernel's own choice (bind to port 0) if none of 200 random picks is free."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    wildcard = "::" if family == socket.AF_INET6 else "0.0.0.0"
    for _ in range(200):
        port = _rng.randint(*_PICK_RANGE)
        if _bindable(family, wildcard, port) and _bindable(family, host, port):
            return port
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class ProcResult(NamedTuple):
    """A finished process: exit code and decoded output."""

    rc: int
    stdout: str
    stderr: str


class PeerTimeout(TimeoutError):
    """A peer did not finish (or get ready) in time; carries the output seen so far."""

    def __init__(self, message: str, stdout: str = "", stderr: str = "") -> None:
        super().__init__(f"{message}\n--- stdout ---\n{stdout[-4000:]}\n"
                         f"--- stderr ---\n{stderr[-4000:]}")
        self.stdout = stdout
        self.stderr = stderr


def _as_bytes(data: bytes | str | None) -> bytes | None:
    return data.encode() if isinstance(data, str) else data


async def _kill(proc: asyncio.subprocess.Process, grace: float = 3.0) -> None:
    """Terminate ``proc`` (SIGTERM, then SIGKILL after ``grace`` seconds) and reap it."""
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), grace)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await asyncio.wait_for(proc.wait(), grace)


async def run_process(argv: Sequence[str | os.PathLike[str]], *,
                      stdin: bytes | str | None = None, timeout: float = DEFAULT_TIMEOUT,
                      env: Mapping[str, str] | None = None,
                      cwd: str | os.PathLike[str] | None = None) -> ProcResult:
    """Run ``argv`` to completion with ``stdin`` fed and closed; kill it after ``timeout`` s.

    Raises:
        PeerTimeout: the process did not exit in time (it has been killed).
    """
    proc = await asyncio.create_subprocess_exec(
        *[os.fspath(a) for a in argv],
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=_env(env), cwd=cwd)
    try:
        out, err = await asyncio.wait_for(proc.communicate(_as_bytes(stdin) or b""), timeout)
    except TimeoutError:
        await _kill(proc)
        raise PeerTimeout(f"{os.fspath(argv[0])} did not exit within {timeout} s") from None
    finally:
        if proc.returncode is None:
            await _kill(proc)
    assert proc.returncode is not None
    return ProcResult(proc.returncode, out.decode(errors="replace"),
                      err.decode(errors="replace"))


def _env(extra: Mapping[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    # Keep the peers deterministic: no inherited key logs or Node TLS overrides.
    for name in ("SSLKEYLOGFILE", "NODE_TLS_REJECT_UNAUTHORIZED", "NODE_OPTIONS",
                 "NODE_EXTRA_CA_CERTS"):
        env.pop(name, None)
    if extra:
        env.update(extra)
    return env


def _write_script(text: str, suffix: str = ".js") -> Path:
    fd, name = tempfile.mkstemp(prefix="nodetls-peer-", suffix=suffix)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return Path(name)


async def run_node(script: str, *args: str | os.PathLike[str], timeout: float = DEFAULT_TIMEOUT,
                   stdin: bytes | str | None = None,
                   env: Mapping[str, str] | None = None) -> ProcResult:
    """Write ``script`` (JavaScript) to a temporary file and run ``node <file> *args``.

    In the script, ``process.argv[2:]`` are ``args``. Returns ``(rc, stdout, stderr)``.
    """
    node = require_peer("node")
    path = _write_script(script)
    try:
        return await run_process([node, path, *args], stdin=stdin, timeout=timeout, env=env)
    finally:
        path.unlink(missing_ok=True)


class _Stream:
    """Collects a pipe's output in the background; lets callers wait for a pattern."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.data = bytearray()
        self._changed = asyncio.Event()
        self.eof = False
        self.task = asyncio.ensure_future(self._pump(reader))

    async def _pump(self, reader: asyncio.StreamReader) -> None:
        try:
            while chunk := await reader.read(65536):
                self.data += chunk
                self._changed.set()
        finally:
            self.eof = True
            self._changed.set()

    @property
    def text(self) -> str:
        return self.data.decode(errors="replace")

    async def wait_for(self, pattern: re.Pattern[str], start: int = 0) -> re.Match[str] | None:
        """The first match of ``pattern`` in the output (from char ``start``); ``None`` at EOF."""
        while True:
            self._changed.clear()
            m = pattern.search(self.text, start)
            if m is not None:
                return m
            if self.eof:
                return None
            await self._changed.wait()


async def _first_match(streams: Sequence[_Stream], rx: re.Pattern[str],
                       start: int) -> re.Match[str] | None:
    """The first match of ``rx`` on any of ``streams``; ``None`` once all have ended without."""
    tasks = [asyncio.ensure_future(s.wait_for(rx, start)) for s in streams]
    try:
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                if t.result() is not None:
                    return t.result()
        return None
    finally:
        for t in tasks:
            t.cancel()


class PeerProcess:
    """A long-running peer process; use ``async with`` (it is started on entry, killed on exit).

    After entry, ``ready_match`` is the match of the ready pattern and ``port`` its ``port``
    group (or first group) as an ``int``, when there is one.
    """

    def __init__(self, argv: Sequence[str | os.PathLike[str]], *, ready: str | None = None,
                 ready_on: str = "any", timeout: float = DEFAULT_TIMEOUT,
                 env: Mapping[str, str] | None = None, cleanup: Sequence[Path] = (),
                 port: int | None = None) -> None:
        self.argv = [os.fspath(a) for a in argv]
        self.ready = re.compile(ready) if ready else None
        self.ready_on = ready_on
        self.timeout = timeout
        self.env = env
        self.port: int | None = port
        self.ready_match: re.Match[str] | None = None
        self.proc: asyncio.subprocess.Process | None = None
        self._cleanup = list(cleanup)
        self._out: _Stream | None = None
        self._err: _Stream | None = None
        #: index in ``argv`` of a port the helper picked in advance: when the process exits at
        #: start with "Address already in use" (a concurrent run took it), start() tries others
        self.port_arg: int | None = None

    # -- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> PeerProcess:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start the process and wait (at most ``timeout`` s) for the ready pattern."""
        for attempt in range(3):
            try:
                return await self._start_once()
            except PeerTimeout as exc:
                in_use = "already in use" in (exc.stdout + exc.stderr).lower()
                if self.port_arg is None or not in_use or attempt == 2:
                    raise
                await self.stop()
                self.port = free_port()
                self.argv[self.port_arg] = str(self.port)

    async def _start_once(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=_env(self.env))
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._out = _Stream(self.proc.stdout)
        self._err = _Stream(self.proc.stderr)
        if self.ready is None:
            return
        m = await self.wait_for_output(self.ready, stream=self.ready_on, timeout=self.timeout)
        if "already in use" in m.group(0):  # a ready pattern that also matches a bind failure
            raise PeerTimeout(f"{self.argv[0]}: {m.group(0)}", self.stdout, self.stderr)
        self.ready_match = m
        groups = m.groupdict()
        port = groups.get("port") or (m.group(1) if m.re.groups else None)
        if port is not None:
            self.port = int(port)

    async def stop(self) -> int | None:
        """Kill the process if still running and reap it; returns its exit code."""
        if self.proc is not None:
            await _kill(self.proc)
        for stream in (self._out, self._err):
            if stream is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(stream.task, 2)
        for path in self._cleanup:
            path.unlink(missing_ok=True)
        self._cleanup.clear()
        return self.proc.returncode if self.proc else None

    # -- interaction ------------------------------------------------------------------------

    @property
    def stdout(self) -> str:
        """Everything printed on stdout so far."""
        return self._out.text if self._out else ""

    @property
    def stderr(self) -> str:
        """Everything printed on stderr so far."""
        return self._err.text if self._err else ""

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode if self.proc else None

    async def wait_for_output(self, pattern: str | re.Pattern[str], *, stream: str = "any",
                              timeout: float = DEFAULT_TIMEOUT, start: int = 0) -> re.Match[str]:
        """Wait for ``pattern`` on ``stream``: ``'stdout'``, ``'stderr'`` or ``'any'`` (either;
        tools differ in where they report, e.g. ``gnutls-serv`` uses stderr when piped).

        Raises:
            PeerTimeout: not seen within ``timeout`` s, or the stream(s) ended without it.
        """
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        assert self._out is not None and self._err is not None, "process not started"
        targets = {"stdout": [self._out], "stderr": [self._err]}.get(
            stream, [self._out, self._err])
        try:
            m = await asyncio.wait_for(_first_match(targets, rx, start), timeout)
        except TimeoutError:
            raise PeerTimeout(f"{self.argv[0]}: no {rx.pattern!r} on {stream} within "
                              f"{timeout} s", self.stdout, self.stderr) from None
        if m is None:
            await self._reap(1.0)
            raise PeerTimeout(f"{self.argv[0]}: {stream} closed without {rx.pattern!r} "
                              f"(rc={self.returncode})", self.stdout, self.stderr)
        return m

    async def _reap(self, timeout: float) -> None:
        if self.proc is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.proc.wait(), timeout)

    async def write(self, data: bytes | str) -> None:
        """Write to the process's stdin."""
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(_as_bytes(data) or b"")
        await asyncio.wait_for(self.proc.stdin.drain(), self.timeout)

    def close_stdin(self) -> None:
        """Close the process's stdin (EOF)."""
        if self.proc is not None and self.proc.stdin is not None:
            self.proc.stdin.close()

    async def wait(self, timeout: float = DEFAULT_TIMEOUT) -> ProcResult:
        """Wait for the process to exit by itself; ``(rc, stdout, stderr)``.

        Raises:
            PeerTimeout: still running after ``timeout`` s (it is left running; exit kills it).
        """
        assert self.proc is not None
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            raise PeerTimeout(f"{self.argv[0]} still running after {timeout} s",
                              self.stdout, self.stderr) from None
        for stream in (self._out, self._err):
            if stream is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(stream.task), 2)
        assert self.proc.returncode is not None
        return ProcResult(self.proc.returncode, self.stdout, self.stderr)


def spawn_process(argv: Sequence[str | os.PathLike[str]], *, ready: str | None = None,
                  ready_on: str = "any", timeout: float = DEFAULT_TIMEOUT,
                  env: Mapping[str, str] | None = None, port: int | None = None) -> PeerProcess:
    """Any long-running process as a :class:`PeerProcess` (``async with`` it)."""
    return PeerProcess(argv, ready=ready, ready_on=ready_on, timeout=timeout, env=env, port=port)


def spawn_node(script: str, *args: str | os.PathLike[str], ready: str | None = NODE_READY,
               timeout: float = DEFAULT_TIMEOUT,
               env: Mapping[str, str] | None = None) -> PeerProcess:
    """A long-running ``node`` script; ready once it prints ``LISTENING <port>`` (``ready``).

    The script gets ``args`` as ``process.argv[2:]``; a server typically ends its ``listen``
    callback with ``console.log('LISTENING', server.address().port)``.
    """
    node = require_peer("node")
    path = _write_script(script)
    return PeerProcess([node, path, *args], ready=ready, timeout=timeout, env=env,
                       cleanup=[path])


def spawn_openssl_server(args: Sequence[str | os.PathLike[str]] = (), *,
                         host: str = LOOPBACK, port: int = 0,
                         timeout: float = DEFAULT_TIMEOUT) -> PeerProcess:
    """``openssl s_server -accept host:port *args``; ready at its ``ACCEPT`` line.

    With ``port=0`` (default) OpenSSL picks a free port and ``srv.port`` is read from the
    ``ACCEPT 127.0.0.1:<port>`` line. Typical ``args``: ``['-cert', p, '-key', p]``, plus
    ``'-www'`` (HTTP status page) or ``'-rev'`` (reverse lines), ``'-naccept', '1'``...
    """
    openssl = require_peer("openssl")
    accept = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return PeerProcess([openssl, "s_server", "-accept", accept, *args],
                       ready=r"ACCEPT\s+\S*?:(?P<port>\d+)", timeout=timeout)


async def run_openssl_client(args: Sequence[str | os.PathLike[str]] = (),
                             stdin: bytes | str | None = None, *, port: int | None = None,
                             host: str = LOOPBACK,
                             timeout: float = DEFAULT_TIMEOUT) -> ProcResult:
    """``openssl s_client [-connect host:port] *args`` with ``stdin`` (then EOF, which makes
    ``s_client`` close the connection). Returns ``(rc, stdout, stderr)``."""
    openssl = require_peer("openssl")
    argv = [openssl, "s_client"]
    if port is not None:
        argv += ["-connect", f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    return await run_process([*argv, *args], stdin=stdin, timeout=timeout)


def spawn_openssl_client(args: Sequence[str | os.PathLike[str]] = (), *, port: int,
                         host: str = LOOPBACK, ready: str | None = r"CONNECTED",
                         timeout: float = DEFAULT_TIMEOUT) -> PeerProcess:
    """An interactive ``openssl s_client`` (write to it with ``write()``); ready at
    ``CONNECTED`` (the TCP connection, before the handshake)."""
    openssl = require_peer("openssl")
    connect = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return PeerProcess([openssl, "s_client", "-connect", connect, *args], ready=ready,
                       timeout=timeout)


def spawn_gnutls_server(args: Sequence[str | os.PathLike[str]] = (), *, port: int | None = None,
                        timeout: float = DEFAULT_TIMEOUT) -> PeerProcess:
    """``gnutls-serv --port <port> *args``; ready when it says it is listening.

    Typical ``args``: ``['--x509certfile', chain, '--x509keyfile', key, '--echo']``.
    ``gnutls-serv`` cannot bind to one address: it listens on all interfaces.
    """
    serv = require_peer("gnutls-serv")
    repick = port is None  # our own pick can be taken by a concurrent run: start() retries
    port = port or free_port()
    # "...done" is printed once the socket listens (the first half of the line comes before).
    proc = PeerProcess([serv, "--port", str(port), *args],
                       ready=r"listening on IPv4 \S+ port (?P<port>\d+)\.\.\."
                             r"(?:done|bind\(\) failed: Address already in use)",
                       timeout=timeout, port=port)
    if repick:
        proc.port_arg = 2  # argv[2] is the port (gnutls-serv prints the port it was given)
    return proc


async def run_gnutls_client(args: Sequence[str | os.PathLike[str]] = (),
                            stdin: bytes | str | None = None, *, port: int | None = None,
                            host: str = LOOPBACK,
                            timeout: float = DEFAULT_TIMEOUT) -> ProcResult:
    """``gnutls-cli [--port port host] *args`` with ``stdin`` (EOF ends the session).
    Returns ``(rc, stdout, stderr)``."""
    cli = require_peer("gnutls-cli")
    argv = [cli]
    if port is not None:
        argv += ["--port", str(port), host]
    return await run_process([*argv, *args], stdin=stdin, timeout=timeout)
