"""``run()`` returns: what its loop still has open is closed, silently, as at a Node process's exit.

Node's process ends once no referenced handle is left (or at an uncaught error); ``process.on
('exit')`` runs and nothing else, and the OS closes what was still open: an unreferenced server's
port is free, the peer of an unreferenced or idle connection sees it end. ``run()`` returns at the
same point and closes the same things itself (the Python process lives on), with no ``'end'``,
``'error'`` or ``'close'`` event after the program's end, and leaves nothing for the garbage
collector to warn about (``ResourceWarning``, an error under ``-W error``).

Each scenario runs as a real process: a JavaScript program under ``node`` and the same program
under ``nodetls.run`` with ``-X dev -W error`` on asyncio's loop and on uvloop. Each prints its
events then ``exit <status>`` (Node: ``process.on('exit')``; Python: after ``run()`` returned or
raised, and a ``gc.collect()``); the Python program then waits for the test before it ends, so the
test checks its sockets while it still lives (node's, once it has exited). The events, the exit
status and what the test sees of the sockets (``refused``: nothing listens on the port; ``eof``:
the connection was closed) must be the same everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from nodetls import _run, net
from nodetls import run as tls_run

from .test_run_lifetime_paused import _loops

pytestmark = pytest.mark.timeout(90)

TIMEOUT = 20.0
#: Seconds the test waits for a connection's end (it comes before ``exit`` is printed).
EOF_WAIT = 5.0

JS_PRELUDE = """
const net = require('net');
const log = (...a) => console.log(a.join(' '));
const PEER = Number(process.argv[3]), CLOSED = Number(process.argv[4]);
process.on('exit', (code) => log('exit', code));
"""

PY_PRELUDE = """
import gc, sys
import nodetls as tls
from nodetls import net

def log(*a):
    print(' '.join(str(x) for x in a), flush=True)

PEER, CLOSED = int(sys.argv[2]), int(sys.argv[3])
"""

PY_END = """
failure = None
try:
    tls.run(main, loop=sys.argv[1])
except Exception as exc:
    failure = exc
gc.collect()  # (a socket left open warns now: ResourceWarning, an error under -W error)
log('exit', 0 if failure is None else 1)
sys.stdin.readline()  # the test checks the sockets while this process lives on
if failure is not None:
    raise failure
"""

#: What must not be on a Python program's stderr: a leak reported by the garbage collector or
#: by a loop closing with a resource still open.
LEAK_MARKERS = ("ResourceWarning", "unclosed", "Exception ignored")


class _Prog:
    """A program's process; its stdout lines come through a queue (every wait bounded)."""

    def __init__(self, argv: list[str], cwd: Path) -> None:
        self.proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def until(self, prefix: str) -> list[str]:
        """The lines up to the first one starting with ``prefix`` (included)."""
        lines: list[str] = []
        while True:
            try:
                line = self._lines.get(timeout=TIMEOUT)
            except queue.Empty:
                return [*lines, f"(no {prefix!r} within {TIMEOUT}s)"]
            if line is None:
                return [*lines, "(stdout closed)"]
            lines.append(line)
            if line.startswith(prefix):
                return lines

    def finish(self) -> tuple[int, str]:
        """Let the program end; its exit status and stderr."""
        assert self.proc.stdin is not None and self.proc.stderr is not None
        with contextlib.suppress(BrokenPipeError):
            self.proc.stdin.close()
        try:
            self.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(TIMEOUT)
            return -1, "(killed: it did not end) " + self.proc.stderr.read()
        return self.proc.returncode, self.proc.stderr.read()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(TIMEOUT)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


def _refused(port: int) -> str:
    """``refused`` when nothing listens on ``port`` any more, else ``accepted``."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=EOF_WAIT).close()
    except (ConnectionRefusedError, ConnectionResetError):
        return "refused"
    return "accepted"


def _eof(conn: socket.socket) -> str:
    """``eof`` when the other end closed ``conn``, ``open`` when nothing comes."""
    conn.settimeout(EOF_WAIT)
    try:
        data = conn.recv(1)
    except TimeoutError:
        return "open"
    except ConnectionResetError:
        return "reset"
    return "eof" if data == b"" else f"data {data!r}"


def _port_of(lines: list[str]) -> int:
    return next(int(line.split()[1]) for line in lines if line.startswith("listening "))


def _events(lines: list[str]) -> list[str]:
    """The lines without the port a ``listening`` line carries."""
    return ["listening" if line.startswith("listening ") else line for line in lines]


#: A scenario's driver: reads the program's lines (``exit`` included), opening the connections
#: it needs (kept in the exit stack), and returns them with the checks to make afterwards.
Driver = Callable[["_Prog", socket.socket, contextlib.ExitStack],
                  tuple[list[str], list[Callable[[], str]]]]


def _everywhere(node_bin: str, tmp_path: Path, js: str, py: str,
                drive: Driver) -> dict[str, tuple[list[str], int, list[str]]]:
    """Run the scenario under node and both loops: per runtime, the events, the exit status and
    what the checks saw. A Python program's stderr must show no leak."""
    (tmp_path / "prog.js").write_text(JS_PRELUDE + js)
    (tmp_path / "prog.py").write_text(PY_PRELUDE + py + PY_END)
    results = {}
    with contextlib.ExitStack() as stack:
        started = {}
        for name in ["node", *_loops()]:  # (all at once: then each in turn)
            peer = stack.enter_context(socket.create_server(("127.0.0.1", 0)))
            peer.settimeout(TIMEOUT)
            args = [name, str(peer.getsockname()[1]), str(_closed_port())]
            if name == "node":
                argv = [node_bin, "prog.js", *args]
            else:
                argv = [sys.executable, "-X", "dev", "-W", "error", "prog.py", *args]
            prog = _Prog(argv, tmp_path)
            stack.callback(prog.kill)
            started[name] = (prog, peer)
        for name, (prog, peer) in started.items():
            lines, checks = drive(prog, peer, stack)
            if name == "node":  # (the OS has closed its sockets once it exited)
                status, err = prog.finish()
                seen = [check() for check in checks]
            else:  # (checked while the process still lives: run() closed them)
                seen = [check() for check in checks]
                status, err = prog.finish()
                assert not any(marker in err for marker in LEAK_MARKERS), err
            results[name] = (_events(lines), status, seen)
    return results


def _accept(peer: socket.socket, stack: contextlib.ExitStack) -> socket.socket:
    conn, _ = peer.accept()
    stack.callback(conn.close)
    return conn


# ---------------------------------------------------------------------------- servers


def test_an_unreferenced_server_is_closed_without_close_event(node_bin: str, tmp_path: Path) -> None:
    # Node: server.unref() lets the process exit; the port is free and 'close' never comes
    js = """
const srv = net.createServer();
srv.on('close', () => log('close'));
srv.listen(0, '127.0.0.1', () => log('listening', srv.address().port));
srv.unref();
"""
    py = """
def main():
    srv = net.create_server()
    srv.on('close', lambda: log('close'))
    srv.listen(0, '127.0.0.1', lambda: log('listening', srv.address()['port']))
    srv.unref()
"""

    def drive(prog: _Prog, peer: socket.socket,
              stack: contextlib.ExitStack) -> tuple[list[str], list[Callable[[], str]]]:
        lines = prog.until("exit")
        port = _port_of(lines)
        return lines, [lambda: _refused(port)]

    results = _everywhere(node_bin, tmp_path, js, py, drive)
    assert results == dict.fromkeys(results, (["listening", "exit 0"], 0, ["refused"]))


@pytest.mark.parametrize("how", ["paused", "unref"])
def test_a_connection_accepted_by_an_unreferenced_server_is_closed(
        node_bin: str, tmp_path: Path, how: str) -> None:
    # Node: the connection never reads (pauseOnConnect: an inactive handle) or is unreferenced,
    # the server is unreferenced in 'connection': the process exits, the client sees EOF
    js = f"""
const srv = net.createServer({{pauseOnConnect: {'true' if how == 'paused' else 'false'}}}, (c) => {{
  log('connection');
  for (const ev of ['end', 'close', 'error']) c.on(ev, () => log('connection', ev));
  if ('{how}' === 'unref') c.unref();
  srv.unref();
}});
srv.on('close', () => log('close'));
srv.listen(0, '127.0.0.1', () => log('listening', srv.address().port));
"""
    py = f"""
def main():
    def on_connection(c):
        log('connection')
        for ev in ('end', 'close', 'error'):
            c.on(ev, lambda *_, ev=ev: log('connection', ev))
        if '{how}' == 'unref':
            c.unref()
        srv.unref()
    srv = net.create_server({{'pause_on_connect': {how == 'paused'}}}, on_connection)
    srv.on('close', lambda: log('close'))
    srv.listen(0, '127.0.0.1', lambda: log('listening', srv.address()['port']))
"""

    def drive(prog: _Prog, peer: socket.socket,
              stack: contextlib.ExitStack) -> tuple[list[str], list[Callable[[], str]]]:
        lines = prog.until("listening")
        port = _port_of(lines)
        client = stack.enter_context(socket.create_connection(("127.0.0.1", port), TIMEOUT))
        lines += prog.until("exit")
        return lines, [lambda: _eof(client), lambda: _refused(port)]

    results = _everywhere(node_bin, tmp_path, js, py, drive)
    assert results == dict.fromkeys(
        results, (["listening", "connection", "exit 0"], 0, ["eof", "refused"]))


# ---------------------------------------------------------------------------- clients


@pytest.mark.parametrize("how", ["unref", "paused"])
def test_an_open_client_connection_is_closed_without_events(
        node_bin: str, tmp_path: Path, how: str) -> None:
    # Node: an unreferenced socket, or one paused before its connection is up (it never reads:
    # test-net-connect-paused-connection), lets the process exit; the peer sees EOF, and no
    # 'end' or 'close' is emitted
    js = f"""
const s = net.connect(PEER, '127.0.0.1');
if ('{how}' === 'paused') s.pause();
s.on('connect', () => {{ log('connect'); if ('{how}' === 'unref') s.unref(); }});
for (const ev of ['end', 'close', 'error']) s.on(ev, () => log(ev));
"""
    py = f"""
def main():
    s = net.connect(PEER, '127.0.0.1')
    if '{how}' == 'paused':
        s.pause()
    def on_connect():
        log('connect')
        if '{how}' == 'unref':
            s.unref()
    s.on('connect', on_connect)
    for ev in ('end', 'close', 'error'):
        s.on(ev, lambda *_, ev=ev: log(ev))
"""

    def drive(prog: _Prog, peer: socket.socket,
              stack: contextlib.ExitStack) -> tuple[list[str], list[Callable[[], str]]]:
        lines = prog.until("exit")
        conn = _accept(peer, stack)  # (the connection waited in the listening queue)
        return lines, [lambda: _eof(conn)]

    results = _everywhere(node_bin, tmp_path, js, py, drive)
    assert results == dict.fromkeys(results, (["connect", "exit 0"], 0, ["eof"]))


# ---------------------------------------------------------------------------- an uncaught error


def test_an_uncaught_error_closes_everything_without_events(node_bin: str, tmp_path: Path) -> None:
    # Node: an 'error' nobody listens to ends the process (status 1): the unreferenced server's
    # port is free, the open (referenced) connection's peer sees EOF, no 'close' is emitted
    js = """
const srv = net.createServer();
srv.on('close', () => log('close'));
srv.listen(0, '127.0.0.1', () => {
  log('listening', srv.address().port);
  const c = net.connect(PEER, '127.0.0.1', () => { log('connect'); net.connect(CLOSED, '127.0.0.1'); });
  for (const ev of ['end', 'close', 'error']) c.on(ev, () => log('client', ev));
});
srv.unref();
"""
    py = """
def main():
    def listening():
        log('listening', srv.address()['port'])
        def on_connect():
            log('connect')
            net.connect(CLOSED, '127.0.0.1')  # ECONNREFUSED, no 'error' listener
        c = net.connect(PEER, '127.0.0.1', on_connect)
        for ev in ('end', 'close', 'error'):
            c.on(ev, lambda *_, ev=ev: log('client', ev))
    srv = net.create_server()
    srv.on('close', lambda: log('close'))
    srv.listen(0, '127.0.0.1', listening)
    srv.unref()
"""

    def drive(prog: _Prog, peer: socket.socket,
              stack: contextlib.ExitStack) -> tuple[list[str], list[Callable[[], str]]]:
        lines = prog.until("exit")
        port = _port_of(lines)
        conn = _accept(peer, stack)
        return lines, [lambda: _eof(conn), lambda: _refused(port)]

    results = _everywhere(node_bin, tmp_path, js, py, drive)
    assert results == dict.fromkeys(
        results, (["listening", "connect", "exit 1"], 1, ["eof", "refused"]))


# ---------------------------------------------------------------------------- bookkeeping


@pytest.mark.parametrize("loop", _loops())
def test_closed_connections_leave_nothing_to_release(loop: str) -> None:
    """What ``run()`` would close on its way out is only what is open: a connection that went
    through the states that leave the registry open (both directions ended, idle, unreferenced)
    leaves no entry once closed (a long-running server keeps nothing per connection); a
    listening server is one until it closes. (Node keeps no such list: the OS has it.)"""
    seen: list[object] = []

    async def main() -> None:
        reg = _run.current_registry()
        assert reg is not None
        accepted: list[net.Socket] = []

        def on_connection(c: net.Socket) -> None:
            accepted.append(c)
            c.resume()  # (allow_half_open off: it ends in reply to the client's end)

        server = net.create_server(on_connection)
        await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
        port = server.address()["port"]
        seen.append(set(reg.open_unrefd) == {server})

        graceful = net.connect(port, "127.0.0.1")
        graceful.resume()
        graceful.end(b"bye")  # both directions end: _check_ended, then closed
        await asyncio.wait_for(graceful.wait_closed(), TIMEOUT)

        paused = net.connect(port, "127.0.0.1")
        paused.pause()  # before connecting: never reads (idle)
        unrefd = net.connect(port, "127.0.0.1")
        await asyncio.wait_for(asyncio.gather(paused, unrefd), TIMEOUT)
        unrefd.unref()
        handles = {paused._handle, unrefd._handle}
        seen.append(handles <= reg.open_unrefd and not handles & reg.refs)
        paused.destroy()
        unrefd.destroy()
        await asyncio.wait_for(asyncio.gather(paused.wait_closed(), unrefd.wait_closed()),
                               TIMEOUT)
        for c in accepted:
            c.destroy()
        await asyncio.wait_for(asyncio.gather(*(c.wait_closed() for c in accepted)), TIMEOUT)
        seen.append(len(accepted) == 3 and set(reg.open_unrefd) == {server})
        await asyncio.wait_for(server.close(), TIMEOUT)
        seen.append(reg.open_unrefd == set())

    tls_run(main, loop=loop)
    assert seen == [True, True, True, True]
