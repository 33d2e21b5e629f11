"""``nodetls.run``: how a program ends, compared with the same program under ``node``.

Each scenario runs as a real process (a Python script under ``run()`` and, where the behaviour is
Node's, the same program in JavaScript under ``node``) and the exit status is compared: a caught
option error leaves nothing that keeps the program alive, a client that ends without reading lets
it finish, an ``'error'`` nobody listens to ends it with status 1 and a short report, Ctrl-C closes
the servers and ends it as SIGINT does. In-process tests check the details (what is registered,
what is logged).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import nodetls as tls
from nodetls import _run

pytestmark = pytest.mark.timeout(60)

TIMEOUT = 20.0


def _run_script(argv: list[str], cwd: Path, timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _py(tmp_path: Path, text: str, *args: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "prog.py"
    script.write_text(text)
    return _run_script([sys.executable, str(script), *args], tmp_path)


def _node(node_bin: str, tmp_path: Path, text: str, *args: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "prog.js"
    script.write_text(text)
    return _run_script([node_bin, str(script), *args], tmp_path)


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return int(port)


def _watchdog(seconds: float, fired: list[str]) -> None:
    """Close whatever keeps run() alive after ``seconds`` (so a regression fails, not hangs)."""
    loop = asyncio.get_running_loop()

    def fire() -> None:
        fired.append("watchdog")
        for obj in list(_run._REGISTRIES[loop].refs):
            obj.close()

    loop.call_later(seconds, fire)


# ---------------------------------------------------------------------------- item 5


def _bad_options(certs: Any) -> dict[str, tuple[dict[str, Any], str]]:
    return {
        "ciphers": ({"ciphers": "NOPE"}, "ERR_SSL_NO_CIPHER_MATCH"),
        "garbled ca": ({"ca": b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"},
                       "ERR_OSSL_PEM_BAD_BASE64_DECODE"),
        "min_version": ({"min_version": "TLSv9"}, "ERR_TLS_INVALID_PROTOCOL_VERSION"),
        "str alpn_protocols": ({"alpn_protocols": "h2"}, "ERR_INVALID_ARG_TYPE"),
        "key=123": ({"key": 123, "cert": certs.server.cert_pem}, "ERR_INVALID_ARG_TYPE"),
        "wrong passphrase": ({"key": certs.encrypted.key_pem, "cert": certs.encrypted.cert_pem,
                              "passphrase": "wrong"}, "ERR_OSSL_BAD_DECRYPT"),
        "str session": ({"session": "abc"}, "ERR_INVALID_ARG_TYPE"),
    }


@pytest.mark.parametrize("case", ["ciphers", "garbled ca", "min_version", "str alpn_protocols",
                                  "key=123", "wrong passphrase", "str session"])
def test_a_caught_option_error_registers_nothing(certs: Any, case: str) -> None:
    options, code = _bad_options(certs)[case]
    seen: dict[str, Any] = {}
    fired: list[str] = []

    def main() -> None:
        _watchdog(5, fired)
        reg = _run._REGISTRIES[asyncio.get_running_loop()]
        for attempt in ("connect", "create_server"):
            try:
                if attempt == "connect":
                    tls.connect(_closed_port(), "127.0.0.1", **options)
                else:
                    server_opts = dict(options)
                    if "session" in server_opts:
                        continue  # a client option
                    tls.create_server(server_opts).listen(0, "127.0.0.1")
            except Exception as exc:  # noqa: BLE001 - the caught error of the scenario
                seen[attempt] = getattr(exc, "code", None)
            seen[attempt + " leftover"] = list(reg.refs)

    start = time.monotonic()
    tls.run(main)
    assert time.monotonic() - start < 4
    assert fired == []
    assert seen["connect"] == code
    assert seen["connect leftover"] == []
    if "create_server" in seen:
        assert seen["create_server leftover"] == []


PROG_CAUGHT_PY = """
import nodetls as tls
def main():
    try:
        tls.connect(8000, 'localhost', ciphers='NOPE')
    except Exception as e:
        print('caught', e.code)
tls.run(main)
print('returned')
"""
PROG_CAUGHT_JS = """
const tls = require('tls');
try { tls.connect(8000, 'localhost', {ciphers: 'NOPE'}); }
catch (e) { console.log('caught', e.code); }
process.on('exit', () => console.log('returned'));
"""


def test_caught_option_error_ends_the_program_as_node(node_bin: str, tmp_path: Path) -> None:
    js = _node(node_bin, tmp_path, PROG_CAUGHT_JS)
    py = _py(tmp_path, PROG_CAUGHT_PY)
    assert js.returncode == 0 and js.stdout.split() == ["caught", "ERR_SSL_NO_CIPHER_MATCH", "returned"]
    assert py.returncode == 0, py.stderr
    assert py.stdout.split() == js.stdout.split()


# ---------------------------------------------------------------------------- item 6

PROG_END_PY = """
import asyncio, nodetls as tls
key = open('key.pem', 'rb').read(); cert = open('cert.pem', 'rb').read()
async def main():
    server = tls.create_server({'key': key, 'cert': cert}, lambda s: s.end(b'bye'))
    await server.listen(0, '127.0.0.1')
    sock = await tls.connect(server.address()['port'], '127.0.0.1', ca=cert)
    sock.end()                      # no 'data' reader: the server's b'bye' is never read
    await server.close()
    print('closed')
tls.run(main)
print('returned')
"""
PROG_END_JS = """
const tls = require('tls'), fs = require('fs');
const key = fs.readFileSync('key.pem'), cert = fs.readFileSync('cert.pem');
const server = tls.createServer({key, cert}, (s) => s.end('bye'));
server.listen(0, '127.0.0.1', () => {
  const sock = tls.connect(server.address().port, '127.0.0.1', {ca: cert}, () => {
    sock.end();
    server.close(() => console.log('closed'));
  });
});
process.on('exit', () => console.log('returned'));
"""


def _self_signed(certs: Any, tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_bytes(certs.self_signed.key_pem)
    (tmp_path / "cert.pem").write_bytes(certs.self_signed.cert_pem)


def test_client_ending_without_reading_ends_the_program_as_node(
        certs: Any, node_bin: str, tmp_path: Path) -> None:
    _self_signed(certs, tmp_path)
    js = _node(node_bin, tmp_path, PROG_END_JS)
    assert js.returncode == 0 and js.stdout.split() == ["closed", "returned"], js.stderr
    py = _py(tmp_path, PROG_END_PY)
    assert py.returncode == 0, py.stderr
    assert py.stdout.split() == ["closed", "returned"]


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_both_sides_ended_releases_the_client_socket(certs: Any, loop: str) -> None:
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    fired: list[str] = []
    state: dict[str, Any] = {}

    async def main() -> None:
        _watchdog(8, fired)
        server = tls.create_server({"key": certs.server.key_pem, "cert": certs.server.chain_pem},
                                   lambda s: s.end(b"bye"))
        await server.listen(0, "127.0.0.1")
        sock = await tls.connect(server.address()["port"], "127.0.0.1", ca=certs.root.cert_pem)
        sock.end()
        await server.close()
        state["destroyed"] = sock.destroyed
        state["buffered"] = sock.readable_length

    tls.run(main, loop=loop)
    assert fired == []
    # Released, not destroyed: what was received can still be read (as in Node).
    assert state == {"destroyed": False, "buffered": 3}


# ---------------------------------------------------------------------------- item 7

PROG_REFUSED_PY = """
import nodetls as tls, sys
def main():
    tls.connect(int(sys.argv[1]), '127.0.0.1')
tls.run(main)
print('not reached')
"""
PROG_REFUSED_JS = """
const tls = require('tls');
tls.connect(Number(process.argv[2]), '127.0.0.1');
"""
PROG_LISTENER_PY = """
import nodetls as tls
def main():
    server = tls.create_server()
    def on_listening():
        raise ValueError('listener failed')
    server.listen(0, '127.0.0.1', on_listening)
tls.run(main)
"""
PROG_LISTENER_JS = """
const tls = require('tls');
const server = tls.createServer();
server.listen(0, '127.0.0.1', () => { throw new Error('listener failed'); });
"""


def _short_report(stderr: str) -> list[str]:
    """The traceback's lines, checked to hold no asyncio frame and at most run()'s own. Lines of
    error-location markers alone (``~~~^^^``: CPython 3.13 prints them under more lines than
    3.11 and 3.12) are left out, so counts hold on every version."""
    lines = [line for line in stderr.strip().splitlines()
             if line.strip(" ~^") or not line.strip()]
    assert not any("asyncio" in line for line in lines), stderr
    frames = [line for line in lines if line.lstrip().startswith("File ")]
    internal = [f for f in frames if "nodetls" in f and "prog.py" not in f]
    assert len(internal) <= 1, stderr  # only run()'s own `raise`
    assert "The above exception" not in stderr and "During handling" not in stderr, stderr
    return lines


def test_unhandled_connect_error_exits_1_as_node(node_bin: str, tmp_path: Path) -> None:
    port = str(_closed_port())
    js = _node(node_bin, tmp_path, PROG_REFUSED_JS, port)
    py = _py(tmp_path, PROG_REFUSED_PY, port)
    assert js.returncode == 1 and "ECONNREFUSED" in js.stderr
    assert py.returncode == js.returncode, py.stderr
    assert "not reached" not in py.stdout
    lines = _short_report(py.stderr)
    assert len(lines) <= 8, py.stderr
    assert "ECONNREFUSED" in lines[-2] and "TLSSocket" in lines[-1] and "ECONNREFUSED" in lines[-1]


def test_listener_raising_on_a_server_exits_1_as_node(node_bin: str, tmp_path: Path) -> None:
    js = _node(node_bin, tmp_path, PROG_LISTENER_JS)
    py = _py(tmp_path, PROG_LISTENER_PY)
    assert js.returncode == 1 and "listener failed" in js.stderr
    assert py.returncode == 1, py.stderr
    lines = _short_report(py.stderr)
    assert any("raise ValueError('listener failed')" in line for line in lines)  # user's frame
    assert lines[-2] == "ValueError: listener failed" and "Server 127.0.0.1:" in lines[-1]


def test_unhandled_error_on_a_server_connection_is_one_warning(
        certs: Any, caplog: pytest.LogCaptureFixture) -> None:
    served: list[bytes] = []

    def on_secure(sock: tls.TLSSocket) -> None:
        if not served:
            served.append(b"first")
            # A listener that raises, nobody listening to 'error' (a tls.Server's socket
            # drops its other errors as Node's onSocketTLSError does: tests/tls/
            # test_tls_server_socket_errors.py)
            def trouble(_chunk: bytes) -> None:
                raise ValueError("trouble on one connection")

            sock.on("data", trouble)
        else:
            served.append(b"second")
            sock.end(b"ok")

    async def main() -> None:
        server = tls.create_server({"key": certs.server.key_pem, "cert": certs.server.chain_pem},
                                   on_secure)
        await server.listen(0, "127.0.0.1")
        port = server.address()["port"]
        first = tls.connect(port, "127.0.0.1", ca=certs.root.cert_pem)
        first.on("error", lambda err: None)
        first.write(b"x")
        await asyncio.wait_for(first.wait_closed(), TIMEOUT)
        second = tls.connect(port, "127.0.0.1", ca=certs.root.cert_pem)
        second.set_encoding("latin1")
        got = []
        second.on("data", got.append)
        await asyncio.wait_for(second.wait_closed(), TIMEOUT)
        assert got == ["ok"]
        await server.close()

    with caplog.at_level(logging.DEBUG):
        tls.run(main)
    assert served == [b"first", b"second"]
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == 1, records
    rec = records[0]
    assert rec.name == "nodetls" and rec.levelno == logging.WARNING and rec.exc_info is None
    text = rec.getMessage()
    assert "\n" not in text and "TLSSocket 127.0.0.1:" in text and "trouble on one connection" in text


def test_an_error_already_caught_is_not_reported_again(caplog: pytest.LogCaptureFixture) -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    codes: list[str] = []

    async def main() -> None:
        server = tls.create_server()
        try:
            await asyncio.wait_for(server.listen(port, "127.0.0.1"), 5)
        except OSError as exc:
            codes.append(exc.code)  # type: ignore[attr-defined]

    try:
        with caplog.at_level(logging.DEBUG):
            assert tls.run(main) is None
    finally:
        busy.close()
    assert codes == ["EADDRINUSE"]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


# ---------------------------------------------------------------------------- item 8

PROG_SIGINT_PY = """
import asyncio, sys, nodetls as tls
from nodetls import _run
_run.SHUTDOWN_GRACE = 30.0          # long: the test skips it with a second Ctrl-C
key = open('key.pem', 'rb').read(); cert = open('cert.pem', 'rb').read()
async def main():
    server = tls.create_server({'key': key, 'cert': cert}, lambda s: s.pipe(s))
    server.on('close', lambda: print('server close', flush=True))
    await server.listen(0, '127.0.0.1')
    client = await tls.connect(server.address()['port'], '127.0.0.1', ca=cert)
    client.on('data', lambda d: None)
    client.on('close', lambda *a: print('client close', flush=True))
    print('ready', server.address()['port'], flush=True)
tls.run(main)
"""
PROG_SIGINT_JS = """
const tls = require('tls'), fs = require('fs');
const key = fs.readFileSync('key.pem'), cert = fs.readFileSync('cert.pem');
const server = tls.createServer({key, cert}, (s) => s.pipe(s));
server.listen(0, '127.0.0.1', () => {
  const c = tls.connect(server.address().port, '127.0.0.1', {ca: cert}, () => {
    console.log('ready', server.address().port);
  });
  c.on('data', () => {});
});
"""


def _refused(port: int) -> bool:
    """Nothing accepts on ``port``: refused, or reset (the probe's connection was in the
    listening socket's queue when the server closed it)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except (ConnectionRefusedError, ConnectionResetError):
        return True
    return False


def _start(argv: list[str], cwd: Path) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # bounded by the test's timeout mark
    assert line.startswith("ready"), (line, proc.stderr.read() if proc.stderr else "")
    return proc, int(line.split()[1])


def test_ctrl_c_closes_servers_and_ends_with_keyboard_interrupt(
        certs: Any, node_bin: str, tmp_path: Path) -> None:
    _self_signed(certs, tmp_path)
    (tmp_path / "prog.js").write_text(PROG_SIGINT_JS)
    (tmp_path / "prog.py").write_text(PROG_SIGINT_PY)

    js, _ = _start([node_bin, "prog.js"], tmp_path)
    js.send_signal(signal.SIGINT)
    js.communicate(timeout=TIMEOUT)

    py, port = _start([sys.executable, "prog.py"], tmp_path)
    py.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 10
    while not _refused(port):  # the server stops accepting at once...
        assert time.monotonic() < deadline, "the server still accepts after SIGINT"
        time.sleep(0.05)
    assert py.poll() is None  # ...while its open connection gets its grace period
    py.send_signal(signal.SIGINT)  # a second Ctrl-C skips the grace period
    out, err = py.communicate(timeout=TIMEOUT)

    assert py.returncode == js.returncode == -signal.SIGINT, err
    assert "server close" in out.split("\n") and "client close" in out.split("\n")
    lines = _short_report(err)
    assert lines[-1] == "KeyboardInterrupt", err
    assert len(lines) <= 6 and "CancelledError" not in err, err


def test_ctrl_c_lets_open_connections_finish_within_the_grace_period(
        certs: Any, tmp_path: Path) -> None:
    _self_signed(certs, tmp_path)
    prog = PROG_SIGINT_PY.replace("_run.SHUTDOWN_GRACE = 30.0", "_run.SHUTDOWN_GRACE = 0.5")
    (tmp_path / "prog.py").write_text(prog)
    py, _ = _start([sys.executable, "prog.py"], tmp_path)
    py.send_signal(signal.SIGINT)
    out, err = py.communicate(timeout=TIMEOUT)
    assert py.returncode == -signal.SIGINT, err
    assert out.split("\n").count("server close") == 1
    assert err.strip().splitlines()[-1] == "KeyboardInterrupt"
