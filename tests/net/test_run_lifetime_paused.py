"""``run()`` and sockets that do not read: Node's process lifetime follows libuv's *active* handles.

A TCP handle keeps Node's loop alive while it is connecting, reading (``readStart``), writing
(a write request not yet written) or shutting down. ``pause()`` alone does not stop the reading:
the handle reads until the stream's buffer passes its high-water mark (``readStop``, Node's
``onStreamRead``), or never starts when the socket is paused before its connection is up (the
``read(0)`` of ``afterConnect`` is skipped) or accepted with ``pauseOnConnect``. A TLS socket reads
from the start whatever its user does (``initRead``: ``read(0)``, paused or not), so its handshake
completes, and stops only on that same backpressure.

Each scenario runs as a real process: a JavaScript program under ``node`` and the same program
under ``nodetls.run`` (uvloop and asyncio's loop), and their output must be the expected one. Each
prints its events, then ``exit`` when the program ends by itself, or ``alive`` when something
still keeps it alive after :data:`WATCH` seconds (an unreferenced timer). Servers and their
connections are unreferenced: only the socket under test can keep the program alive.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.timeout(60)

#: Seconds after which a program still running prints ``alive`` and exits.
WATCH = 1.0
TIMEOUT = 20.0

JS_PRELUDE = f"""
const net = require('net'), tls = require('tls'), fs = require('fs');
const key = fs.readFileSync('key.pem'), cert = fs.readFileSync('cert.pem');
const log = (...a) => console.log(a.join(' '));
let alive = false;
process.on('exit', () => {{ if (!alive) console.log('exit'); }});
setTimeout(() => {{ alive = true; console.log('alive'); process.exit(0); }}, {WATCH * 1000}).unref();
"""

PY_PRELUDE = f"""
import asyncio, os, sys
import nodetls as tls
from nodetls import net
key = open('key.pem', 'rb').read(); cert = open('cert.pem', 'rb').read()

def log(*a):
    print(' '.join(str(x).lower() if isinstance(x, bool) else str(x) for x in a), flush=True)

def later(delay, fn):  # an unreferenced timer, as Node's setTimeout(...).unref()
    asyncio.get_running_loop().call_later(delay, fn)

def go(main):
    async def program():
        later({WATCH}, lambda: (log('alive'), os._exit(0)))
        result = main()
        if asyncio.iscoroutine(result):
            await result
    tls.run(program, loop=sys.argv[1])
    log('exit')
"""


def _start(argv: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _finish(proc: subprocess.Popen[str]) -> list[str]:
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    assert proc.returncode == 0, err
    return out.split("\n")[:-1]


def _loops() -> list[str]:
    """The loops ``run()`` is tried on: asyncio's, and uvloop where it is installed."""
    try:
        import uvloop  # type: ignore[import-not-found,unused-ignore]  # noqa: F401
    except ImportError:  # pragma: no cover
        return ["asyncio"]
    return ["asyncio", "uvloop"]


def _check(certs: Any, node_bin: str, tmp_path: Path, js: str, py: str,
           expected: list[str]) -> None:
    """Run ``js`` under node and ``py`` under both loops, at once; each prints ``expected``."""
    (tmp_path / "key.pem").write_bytes(certs.self_signed.key_pem)
    (tmp_path / "cert.pem").write_bytes(certs.self_signed.cert_pem)
    (tmp_path / "prog.js").write_text(JS_PRELUDE + js)
    (tmp_path / "prog.py").write_text(PY_PRELUDE + py)
    procs = {"node": _start([node_bin, "prog.js"], tmp_path)}
    for loop in _loops():
        procs[loop] = _start([sys.executable, "prog.py", loop], tmp_path)
    outputs = {name: _finish(proc) for name, proc in procs.items()}
    assert outputs == dict.fromkeys(procs, expected)


# ---------------------------------------------------------------------------- net: never read


def test_a_client_paused_before_connecting_does_not_keep_the_program(
        certs: Any, node_bin: str, tmp_path: Path) -> None:
    # Node's test-net-connect-paused-connection.js: afterConnect skips its read(0)
    js = """
net.createServer((c) => c.unref()).listen(0, '127.0.0.1', function() {
  const s = net.connect(this.address().port, '127.0.0.1');
  s.pause();
  s.on('connect', () => log('connect reading', s._handle.reading));
}).unref();
"""
    py = """
def main():
    def listening():
        s = net.connect(srv.address()['port'], '127.0.0.1')
        s.pause()
        s.on('connect', lambda: log('connect reading', s._handle.reading))
    srv = net.create_server(lambda c: c.unref())
    srv.listen(0, '127.0.0.1', listening).unref()
go(main)
"""
    _check(certs, node_bin, tmp_path, js, py, ["connect reading false", "exit"])


def test_a_client_paused_in_its_connect_listener_does_not_keep_the_program(
        certs: Any, node_bin: str, tmp_path: Path) -> None:
    # Node: 'connect' is emitted before afterConnect's read(0), which a paused socket skips
    js = """
net.createServer((c) => c.unref()).listen(0, '127.0.0.1', function() {
  const s = net.connect(this.address().port, '127.0.0.1');
  s.on('connect', () => { s.pause(); log('connect reading', s._handle.reading); });
}).unref();
"""
    py = """
def main():
    def listening():
        s = net.connect(srv.address()['port'], '127.0.0.1')
        s.on('connect', lambda: (s.pause(), log('connect reading', s._handle.reading)))
    srv = net.create_server(lambda c: c.unref())
    srv.listen(0, '127.0.0.1', listening).unref()
go(main)
"""
    _check(certs, node_bin, tmp_path, js, py, ["connect reading false", "exit"])


def test_a_server_with_pause_on_connect_does_not_keep_the_program(
        certs: Any, node_bin: str, tmp_path: Path) -> None:
    # Node's pauseOnConnect: the accepted handle never starts reading
    js = """
let client;
const srv = net.createServer({pauseOnConnect: true}, (c) => {
  log('connection reading', c._handle.reading);
  client.unref();
});
srv.listen(0, '127.0.0.1', () => { client = net.connect(srv.address().port, '127.0.0.1'); });
srv.unref();
"""
    py = """
def main():
    st = {}
    def on_connection(c):
        log('connection reading', c._handle.reading)
        st['client'].unref()
    srv = net.create_server({'pause_on_connect': True}, on_connection)
    def listening():
        st['client'] = net.connect(srv.address()['port'], '127.0.0.1')
    srv.listen(0, '127.0.0.1', listening).unref()
go(main)
"""
    _check(certs, node_bin, tmp_path, js, py, ["connection reading false", "exit"])


# ---------------------------------------------------------------------------- net: paused late


def test_a_client_paused_once_reading_keeps_the_program(
        certs: Any, node_bin: str, tmp_path: Path) -> None:
    # Node: pause() does not stop a handle that reads; it reads on (into the buffer)
    js = """
net.createServer((c) => { c.unref(); c.write('hi'); }).listen(0, '127.0.0.1', function() {
  const s = net.connect(this.address().port, '127.0.0.1');
  s.on('data', (d) => { s.pause(); log('data', d, 'reading', s._handle.reading); });
}).unref();
"""
    py = """
def main():
    def on_connection(c):
        c.unref()
        c.write(b'hi')
    def listening():
        s = net.connect(srv.address()['port'], '127.0.0.1')
        s.on('data', lambda d: (s.pause(), log('data', d.decode(), 'reading', s._handle.reading)))
    srv = net.create_server(on_connection)
    srv.listen(0, '127.0.0.1', listening).unref()
go(main)
"""
    _check(certs, node_bin, tmp_path, js, py, ["data hi reading true", "alive"])


def test_a_paused_client_stops_keeping_the_program_once_its_buffer_is_full(
        certs: Any, node_bin: str, tmp_path: Path) -> None:
    # Node's onStreamRead: push() returns false past the high-water mark, readStop()
    js = """
net.createServer((c) => {
  c.unref();
  c.write('x');
  setTimeout(() => c.write(Buffer.alloc(1 << 20)), 50).unref();
}).listen(0, '127.0.0.1', function() {
  const s = net.connect(this.address().port, '127.0.0.1');
  s.once('data', () => { s.pause(); log('paused reading', s._handle.reading); });
}).unref();
"""
    py = """
def main():
    def on_connection(c):
        c.unref()
        c.write(b'x')
        later(0.05, lambda: c.write(bytes(1 << 20)))
    def listening():
        s = net.connect(srv.address()['port'], '127.0.0.1')
        s.once('data', lambda d: (s.pause(), log('paused reading', s._handle.reading)))
    srv = net.create_server(on_connection)
    srv.listen(0, '127.0.0.1', listening).unref()
go(main)
"""
    _check(certs, node_bin, tmp_path, js, py, ["paused reading true", "exit"])


def test_a_server_connection_paused_in_its_listener_keeps_the_program(
        certs: Any, node_bin: str, tmp_path: Path) -> None:
    # Node: an accepted socket starts reading in its constructor, before 'connection'
    js = """
let client;
const srv = net.createServer((c) => {
  c.pause();
  log('connection reading', c._handle.reading);
  client.unref();
});
srv.listen(0, '127.0.0.1', () => { client = net.connect(srv.address().port, '127.0.0.1'); });
srv.unref();
"""
    py = """
def main():
    st = {}
    def on_connection(c):
        c.pause()
        log('connection reading', c._handle.reading)
        st['client'].unref()
    srv = net.create_server(on_connection)
    def listening():
        st['client'] = net.connect(srv.address()['port'], '127.0.0.1')
    srv.listen(0, '127.0.0.1', listening).unref()
go(main)
"""
    _check(certs, node_bin, tmp_path, js, py, ["connection reading true", "alive"])


def test_a_paused_client_resumed_from_a_timer_keeps_the_program_again(
        certs: Any, node_bin: str, tmp_path: Path) -> None:
    # Node: resume() -> read(0) -> readStart: active again, until the peer ends
    js = """
net.createServer((c) => {
  c.unref();
  setTimeout(() => { log('server ends'); c.end(); }, 300).unref();
}).listen(0, '127.0.0.1', function() {
  const s = net.connect(this.address().port, '127.0.0.1');
  s.pause();
  s.on('connect', () => log('connect reading', s._handle.reading));
  s.on('end', () => log('end'));
  s.on('close', () => log('close'));
  setTimeout(() => { log('resume'); s.resume(); }, 100);
}).unref();
"""
    py = """
async def main():
    def on_connection(c):
        c.unref()
        later(0.3, lambda: (log('server ends'), c.end()))
    srv = net.create_server(on_connection)
    await srv.listen(0, '127.0.0.1')
    srv.unref()
    s = net.connect(srv.address()['port'], '127.0.0.1')
    s.pause()
    s.on('connect', lambda: log('connect reading', s._handle.reading))
    s.on('end', lambda: log('end'))
    s.on('close', lambda *_: log('close'))
    await asyncio.sleep(0.1)
    log('resume')
    s.resume()
go(main)
"""
    _check(certs, node_bin, tmp_path, js, py,
           ["connect reading false", "resume", "server ends", "end", "close", "exit"])


def test_a_paused_client_destroyed_later_emits_close_before_the_end(
        certs: Any, node_bin: str, tmp_path: Path) -> None:
    # Node: a closing handle keeps the loop until its close callback ('close')
    js = """
net.createServer((c) => c.unref()).listen(0, '127.0.0.1', function() {
  const s = net.connect(this.address().port, '127.0.0.1');
  s.pause();
  s.on('close', () => log('close'));
  s.on('connect', () => setTimeout(() => { log('destroy'); s.destroy(); }, 50));
}).unref();
"""
    py = """
async def main():
    srv = net.create_server(lambda c: c.unref())
    await srv.listen(0, '127.0.0.1')
    srv.unref()
    s = net.connect(srv.address()['port'], '127.0.0.1')
    s.pause()
    s.on('close', lambda *_: log('close'))
    await s
    await asyncio.sleep(0.05)
    log('destroy')
    s.destroy()
go(main)
"""
    _check(certs, node_bin, tmp_path, js, py, ["destroy", "close", "exit"])


# ---------------------------------------------------------------------------- net: writes


def test_a_paused_client_with_a_pending_write_keeps_the_program_until_written(
        certs: Any, node_bin: str, tmp_path: Path) -> None:
    # libuv: a write request keeps the loop alive until its data is written
    js = """
let conn;
net.createServer({pauseOnConnect: true}, (c) => { c.unref(); conn = c; }).listen(0, '127.0.0.1', function() {
  const s = net.connect(this.address().port, '127.0.0.1');
  s.pause();
  s.write(Buffer.alloc(8 << 20), () => log('write done'));
  s.on('connect', () => log('connect reading', s._handle.reading));
  setTimeout(() => { log('server resumes'); conn.resume(); }, 300).unref();
}).unref();
"""
    py = """
def main():
    st = {}
    def on_connection(c):
        c.unref()
        st['conn'] = c
    def listening():
        s = net.connect(srv.address()['port'], '127.0.0.1')
        s.pause()
        s.write(bytes(8 << 20), lambda *_: log('write done'))
        s.on('connect', lambda: log('connect reading', s._handle.reading))
        later(0.3, lambda: (log('server resumes'), st['conn'].resume()))
    srv = net.create_server({'pause_on_connect': True}, on_connection)
    srv.listen(0, '127.0.0.1', listening).unref()
go(main)
"""
    _check(certs, node_bin, tmp_path, js, py,
           ["connect reading false", "server resumes", "write done", "exit"])


def test_a_paused_client_whose_write_the_peer_never_reads_keeps_the_program(
        certs: Any, node_bin: str, tmp_path: Path) -> None:
    js = """
net.createServer({pauseOnConnect: true}, (c) => c.unref()).listen(0, '127.0.0.1', function() {
  const s = net.connect(this.address().port, '127.0.0.1');
  s.pause();
  s.write(Buffer.alloc(8 << 20), () => log('write done'));
}).unref();
"""
    py = """
def main():
    def listening():
        s = net.connect(srv.address()['port'], '127.0.0.1')
        s.pause()
        s.write(bytes(8 << 20), lambda *_: log('write done'))
    srv = net.create_server({'pause_on_connect': True}, lambda c: c.unref())
    srv.listen(0, '127.0.0.1', listening).unref()
go(main)
"""
    _check(certs, node_bin, tmp_path, js, py, ["alive"])


# ---------------------------------------------------------------------------- TLS


def test_a_tls_client_paused_at_secure_connect_keeps_the_program(
        certs: Any, node_bin: str, tmp_path: Path) -> None:
    # Node: the TLS socket reads since initRead; pause() does not stop it
    js = """
tls.createServer({key, cert}, (c) => c.unref()).listen(0, '127.0.0.1', function() {
  const s = tls.connect({port: this.address().port, host: '127.0.0.1', rejectUnauthorized: false},
                        () => { s.pause(); log('secureConnect reading', s._handle.reading); });
}).unref();
"""
    py = """
def main():
    def listening():
        def on_secure():
            s.pause()
            log('secureConnect reading', s._handle.reading)
        s = tls.connect({'port': srv.address()['port'], 'host': '127.0.0.1',
                         'reject_unauthorized': False}, on_secure)
    srv = tls.create_server({'key': key, 'cert': cert}, lambda c: c.unref())
    srv.listen(0, '127.0.0.1', listening).unref()
go(main)
"""
    _check(certs, node_bin, tmp_path, js, py, ["secureConnect reading true", "alive"])


def test_a_tls_client_paused_before_its_handshake_completes_it(
        certs: Any, node_bin: str, tmp_path: Path) -> None:
    # Node's initRead: read(0) a tick after the TLSSocket is made, even when paused
    js = """
tls.createServer({key, cert}, (c) => c.unref()).listen(0, '127.0.0.1', function() {
  const s = tls.connect({port: this.address().port, host: '127.0.0.1', rejectUnauthorized: false},
                        () => log('secureConnect reading', s._handle.reading));
  s.pause();
}).unref();
"""
    py = """
def main():
    def listening():
        s = tls.connect({'port': srv.address()['port'], 'host': '127.0.0.1',
                         'reject_unauthorized': False},
                        lambda: log('secureConnect reading', s._handle.reading))
        s.pause()
    srv = tls.create_server({'key': key, 'cert': cert}, lambda c: c.unref())
    srv.listen(0, '127.0.0.1', listening).unref()
go(main)
"""
    _check(certs, node_bin, tmp_path, js, py, ["secureConnect reading true", "alive"])


def test_a_tls_client_paused_before_connecting_reads_the_peers_end(
        certs: Any, node_bin: str, tmp_path: Path) -> None:
    # Node: the paused TLS socket reads on: the server's end() ends and closes it, and then
    # nothing is left
    js = """
tls.createServer({key, cert}, (c) => {
  c.unref();
  setTimeout(() => { log('server ends'); c.end(); }, 300).unref();
}).listen(0, '127.0.0.1', function() {
  const s = tls.connect({port: this.address().port, host: '127.0.0.1', rejectUnauthorized: false});
  s.pause();
  s.on('end', () => log('end'));
  s.on('close', () => log('close'));
}).unref();
"""
    py = """
def main():
    def on_connection(c):
        c.unref()
        later(0.3, lambda: (log('server ends'), c.end()))
    def listening():
        s = tls.connect({'port': srv.address()['port'], 'host': '127.0.0.1',
                         'reject_unauthorized': False})
        s.pause()
        s.on('end', lambda: log('end'))
        s.on('close', lambda *_: log('close'))
    srv = tls.create_server({'key': key, 'cert': cert}, on_connection)
    srv.listen(0, '127.0.0.1', listening).unref()
go(main)
"""
    _check(certs, node_bin, tmp_path, js, py, ["server ends", "end", "close", "exit"])


def test_a_paused_tls_client_stops_keeping_the_program_once_its_buffer_is_full(
        certs: Any, node_bin: str, tmp_path: Path) -> None:
    # Node: TLSWrap's ReadStop (backpressure) stops the TCP handle below
    js = """
tls.createServer({key, cert}, (c) => {
  c.unref();
  c.write('x');
  setTimeout(() => c.write(Buffer.alloc(1 << 20)), 50).unref();
}).listen(0, '127.0.0.1', function() {
  const s = tls.connect({port: this.address().port, host: '127.0.0.1', rejectUnauthorized: false});
  s.once('data', () => { s.pause(); log('paused reading', s._handle.reading); });
}).unref();
"""
    py = """
def main():
    def on_connection(c):
        c.unref()
        c.write(b'x')
        later(0.05, lambda: c.write(bytes(1 << 20)))
    def listening():
        s = tls.connect({'port': srv.address()['port'], 'host': '127.0.0.1',
                         'reject_unauthorized': False})
        s.once('data', lambda d: (s.pause(), log('paused reading', s._handle.reading)))
    srv = tls.create_server({'key': key, 'cert': cert}, on_connection)
    srv.listen(0, '127.0.0.1', listening).unref()
go(main)
"""
    _check(certs, node_bin, tmp_path, js, py, ["paused reading true", "exit"])


@pytest.mark.parametrize("pause_on_connect", [False, True])
def test_a_paused_tls_server_connection_keeps_the_program(
        certs: Any, node_bin: str, tmp_path: Path, pause_on_connect: bool) -> None:
    # Node: the server's TLSSocket reads (initRead) whether its user or pauseOnConnect paused
    # it: the handshake needs it, and nothing stops it afterwards
    flag = "true" if pause_on_connect else "false"
    js = f"""
let client;
const srv = tls.createServer({{key, cert, pauseOnConnect: {flag}}}, (c) => {{
  c.pause();
  log('secureConnection reading', c._handle.reading);
  client.unref();
}});
srv.listen(0, '127.0.0.1', () => {{
  client = tls.connect({{port: srv.address().port, host: '127.0.0.1', rejectUnauthorized: false}});
}});
srv.unref();
"""
    py = f"""
def main():
    st = {{}}
    def on_secure(c):
        c.pause()
        log('secureConnection reading', c._handle.reading)
        st['client'].unref()
    srv = tls.create_server({{'key': key, 'cert': cert, 'pause_on_connect': {pause_on_connect}}},
                            on_secure)
    def listening():
        st['client'] = tls.connect({{'port': srv.address()['port'], 'host': '127.0.0.1',
                                    'reject_unauthorized': False}})
    srv.listen(0, '127.0.0.1', listening).unref()
go(main)
"""
    _check(certs, node_bin, tmp_path, js, py, ["secureConnection reading true", "alive"])


def _slow_reader(listener: socket.socket, got: list[int]) -> None:
    """Accept one connection, read nothing for a while, then count its bytes until EOF."""
    conn, _ = listener.accept()
    with conn:
        time.sleep(0.3)
        conn.settimeout(TIMEOUT)
        total = 0
        while chunk := conn.recv(1 << 20):
            total += len(chunk)
    got.append(total)


def test_a_paused_client_writing_later_keeps_the_program_until_all_is_sent(
        certs: Any, node_bin: str, tmp_path: Path) -> None:
    # libuv: the write request keeps the loop alive until the last byte is written, so the
    # peer (another process, reading late) receives everything before the program ends
    size = 8 << 20
    js = f"""
const s = net.connect(Number(process.argv[2]), '127.0.0.1');
s.pause();
s.on('connect', () => setTimeout(() => {{
  log('write', s._handle.reading);
  s.write(Buffer.alloc({size}), () => log('write done'));
}}, 50));
"""
    py = f"""
async def main():
    s = net.connect(int(sys.argv[2]), '127.0.0.1')
    s.pause()
    await s
    await asyncio.sleep(0.05)
    log('write', s._handle.reading)
    s.write(bytes({size}), lambda *_: log('write done'))
go(main)
"""
    (tmp_path / "key.pem").write_bytes(certs.self_signed.key_pem)
    (tmp_path / "cert.pem").write_bytes(certs.self_signed.cert_pem)
    (tmp_path / "prog.js").write_text(JS_PRELUDE + js)
    (tmp_path / "prog.py").write_text(PY_PRELUDE + py)
    commands = {"node": [node_bin, "prog.js"]}
    for loop in _loops():
        commands[loop] = [sys.executable, "prog.py", loop]
    got: dict[str, list[int]] = {}
    threads = []
    procs = {}
    listeners = []
    for name, argv in commands.items():
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(TIMEOUT)
        listeners.append(listener)
        got[name] = []
        thread = threading.Thread(target=_slow_reader, args=(listener, got[name]), daemon=True)
        thread.start()
        threads.append(thread)
        procs[name] = _start([*argv, str(listener.getsockname()[1])], tmp_path)
    try:
        outputs = {name: _finish(proc) for name, proc in procs.items()}
        for thread in threads:
            thread.join(TIMEOUT)
    finally:
        for listener in listeners:
            listener.close()
    assert outputs == dict.fromkeys(procs, ["write false", "write done", "exit"])
    assert got == dict.fromkeys(procs, [size])
