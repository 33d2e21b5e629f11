"""The examples run, and the ported Node docs examples talk to Node's originals both ways.

* ``examples/demo.py`` runs and prints what was negotiated;
* ``examples/echo_client.py`` <-> Node's ``tls.createServer`` docs server (run by ``node``);
* Node's ``tls.connect`` docs client (run by ``node``) <-> ``examples/echo_server.py``;
* ``examples/echo_client.py`` <-> ``examples/echo_server.py``;

Every example runs in its own process (as a user runs it), on loopback, with bounded waits.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from helpers.peers import run_node, run_process, spawn_node, spawn_process
from nodetls.devcert import write_echo_files

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
T = 30.0

# Node's tls.createServer docs example, as written there, except: files from the directory in
# argv[2], listening on loopback port 0, and a ready line with the port for the test.
NODE_DOCS_SERVER = r"""
process.chdir(process.argv[2]);
const tls = require('node:tls');
const fs = require('node:fs');

const options = {
  key: fs.readFileSync('server-key.pem'),
  cert: fs.readFileSync('server-cert.pem'),
  requestCert: true,
  ca: [ fs.readFileSync('client-cert.pem') ],
};

const server = tls.createServer(options, (socket) => {
  console.log('server connected',
              socket.authorized ? 'authorized' : 'unauthorized');
  socket.write('welcome!\n');
  socket.setEncoding('utf8');
  socket.pipe(socket);
});
server.listen(0, '127.0.0.1', () => {
  console.log('server bound');
  console.log('LISTENING', server.address().port);
});
"""

# Node's tls.connect docs example, as written there, except: files from argv[2], port argv[3],
# host 127.0.0.1.
NODE_DOCS_CLIENT = r"""
process.chdir(process.argv[2]);
const tls = require('node:tls');
const fs = require('node:fs');

const options = {
  host: '127.0.0.1',
  key: fs.readFileSync('client-key.pem'),
  cert: fs.readFileSync('client-cert.pem'),
  ca: [ fs.readFileSync('server-cert.pem') ],
  checkServerIdentity: () => { return null; },
};

const socket = tls.connect(Number(process.argv[3]), options, () => {
  console.log('client connected',
              socket.authorized ? 'authorized' : 'unauthorized');
  process.stdin.pipe(socket);
  process.stdin.resume();
});
socket.setEncoding('utf8');
socket.on('data', (data) => {
  console.log(data);
});
socket.on('end', () => {
  console.log('server ends connection');
});
"""

PY_SERVER_READY = r"server bound \S+:(?P<port>\d+)"


@pytest.fixture
def echo_dir(tmp_path: Path) -> Path:
    """The four PEM files of the Node docs examples (``nodetls devcert --node-examples``)."""
    write_echo_files(tmp_path)
    return tmp_path


def _python(script: Path, *args: object) -> list[str]:
    return [sys.executable, str(script), *map(str, args)]


def _assert_echo_client_output(out: str, line: str) -> None:
    assert "client connected authorized" in out
    assert "welcome!" in out
    assert line in out
    assert out.rstrip().endswith("server ends connection")


async def test_devcert_writes_the_echo_files_as_the_readme_shows(tmp_path: Path) -> None:
    res = await run_process([sys.executable, "-m", "nodetls", "devcert", "--node-examples",
                             "--dir", tmp_path / "c"], timeout=T)
    assert res.rc == 0, res.stderr
    names = sorted(p.name for p in (tmp_path / "c").iterdir())
    assert names == ["client-cert.pem", "client-key.pem", "server-cert.pem", "server-key.pem"]

async def test_demo_runs_serve_and_connect_and_prints_the_negotiated_parameters() -> None:
    """``make demo``: ``nodetls serve`` and ``nodetls connect`` against it, through the CLI."""
    res = await run_process(_python(EXAMPLES / "demo.py"), timeout=T, cwd=ROOT)
    assert res.rc == 0, f"demo failed:\n{res.stdout}\n{res.stderr}"
    out = res.stdout
    assert "$ nodetls serve" in out and "nodetls connect localhost:" in out
    assert "got back b'hello over TLS\\n'" in out
    for pattern in (r"protocol\s+TLSv1\.3", r"cipher\s+TLS_\w+", r"key exchange\s+\w+ \(\d+ bits\)",
                    r"ALPN\s+http/1\.1", r"SNI\s+localhost", r"verification\s+ok",
                    r"resumption\s+yes", r"subject\s+O=nodetls development, CN=localhost",
                    r"SHA-256\s+([0-9A-F]{2}:){31}[0-9A-F]{2}\s",
                    r"\[server\] \+ .* TLSv1\.3 .* alpn=http/1\.1 sni=localhost resumed",
                    r"server stopped by Ctrl-C"):
        assert re.search(pattern, out), (pattern, out)


@pytest.mark.interop
async def test_python_echo_client_to_node_docs_server(echo_dir: Path) -> None:
    async with spawn_node(NODE_DOCS_SERVER, echo_dir, timeout=T) as srv:
        res = await run_process(
            _python(EXAMPLES / "echo_client.py", "--dir", echo_dir, "--port", srv.port,
                    "--host", "127.0.0.1"),
            stdin=b"hello from the nodetls client\n", timeout=T)
        assert res.rc == 0, f"{res.stdout}\n{res.stderr}"
        _assert_echo_client_output(res.stdout, "hello from the nodetls client")
        await srv.wait_for_output("server connected authorized", timeout=T)


@pytest.mark.interop
async def test_node_docs_client_to_python_echo_server(echo_dir: Path) -> None:
    argv = _python(EXAMPLES / "echo_server.py", "--dir", echo_dir, "--port", 0,
                   "--host", "127.0.0.1", "--request-cert")
    async with spawn_process(argv, ready=PY_SERVER_READY, timeout=T) as srv:
        assert srv.port
        res = await run_node(NODE_DOCS_CLIENT, echo_dir, str(srv.port),
                             stdin=b"hello from the node client\n", timeout=T)
        assert res.rc == 0, f"{res.stdout}\n{res.stderr}"
        _assert_echo_client_output(res.stdout, "hello from the node client")
        await srv.wait_for_output("server connected authorized", timeout=T)


async def test_python_echo_client_to_python_echo_server(echo_dir: Path) -> None:
    argv = _python(EXAMPLES / "echo_server.py", "--dir", echo_dir, "--port", 0,
                   "--host", "127.0.0.1", "--request-cert")
    async with spawn_process(argv, ready=PY_SERVER_READY, timeout=T) as srv:
        res = await run_process(
            _python(EXAMPLES / "echo_client.py", "--dir", echo_dir, "--port", srv.port,
                    "--host", "127.0.0.1"),
            stdin=b"line one\nline two\n", timeout=T)
        assert res.rc == 0, f"{res.stdout}\n{res.stderr}"
        _assert_echo_client_output(res.stdout, "line two")
        assert "line one" in res.stdout
        await srv.wait_for_output("server connected authorized", timeout=T)


async def test_python_echo_client_reports_a_refused_connection(echo_dir: Path) -> None:
    from helpers.peers import free_port

    res = await run_process(
        _python(EXAMPLES / "echo_client.py", "--dir", echo_dir, "--port", free_port(),
                "--host", "127.0.0.1"), timeout=T)
    assert res.rc == 1
    assert "ECONNREFUSED" in res.stderr or "refused" in res.stderr.lower()
