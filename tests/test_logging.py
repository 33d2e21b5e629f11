"""Logging: nodetls speaks through ``logging.getLogger('nodetls')`` and its children, never print.

* a failed handshake is one DEBUG line (``nodetls.tls``) on each side, no traceback;
* an ``'error'`` nobody listens to on a connection a server accepted is one WARNING line
  (``nodetls``), no traceback, also under plain ``asyncio.run`` (``nodetls.run`` has its own test
  in test_run_process.py), and the server keeps serving;
* no ``print()`` and no ``sys.stderr.write`` anywhere in ``src/`` outside the command line.
"""

from __future__ import annotations

import ast
import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

import nodetls as tls

TIMEOUT = 10.0
SRC = Path(__file__).resolve().parent.parent / "src" / "nodetls"
# Where writing to the terminal is the job: the command line (enable_trace is OpenSSL's own
# SSL_trace to a C stream, not Python code).
ALLOWED = (SRC / "cli",)


def _terminal_writes(path: Path, root: Path = SRC) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        fn = node.func
        if isinstance(fn, ast.Name) and fn.id == "print":
            found.append(f"{path.relative_to(root)}:{node.lineno}: print()")
        elif isinstance(fn, ast.Attribute) and fn.attr == "write" and isinstance(fn.value, ast.Attribute) \
                and fn.value.attr in ("stderr", "stdout"):
            found.append(f"{path.relative_to(root)}:{node.lineno}: {fn.value.attr}.write()")
    return found


def test_no_print_in_the_library() -> None:
    files = [p for p in SRC.rglob("*.py") if not any(a in p.parents for a in ALLOWED)]
    assert len(files) > 20
    found = [hit for p in files for hit in _terminal_writes(p)]
    assert found == []


def test_the_print_check_finds_a_print(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import sys\nprint('x', file=sys.stderr)\nsys.stderr.write('y')\n")
    assert len(_terminal_writes(bad, tmp_path)) == 2


def _lines(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == level and r.name.startswith("nodetls")]


async def test_a_failed_handshake_is_one_debug_line_each_side(
        certs: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="nodetls")
    server = tls.create_server({"key": certs.server.key_pem, "cert": certs.server.chain_pem})
    client_errors: list[BaseException] = []
    server_errors: list[BaseException] = []
    done = asyncio.get_running_loop().create_future()

    def on_client_error(err: BaseException, sock: Any) -> None:
        server_errors.append(err)
        if not done.done():
            done.set_result(None)

    server.on("tlsClientError", on_client_error)
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    try:
        # No ca: the client rejects the server's certificate (and says so with an alert).
        sock = tls.connect(server.address()["port"], "127.0.0.1", servername="localhost")
        sock.on("error", client_errors.append)
        await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
        await asyncio.wait_for(done, TIMEOUT)
    finally:
        await asyncio.wait_for(server.close(), TIMEOUT)
    assert client_errors and server_errors
    debug = [r for r in _lines(caplog, logging.DEBUG) if "handshake failed" in r.getMessage()]
    by_side = {("client" if "(client," in r.getMessage() else "server"): r for r in debug}
    assert sorted(by_side) == ["client", "server"], [r.getMessage() for r in debug]
    for rec in debug:
        text = rec.getMessage()
        assert rec.name == "nodetls.tls" and rec.exc_info is None and "\n" not in text
        assert "127.0.0.1:" in text
    client_code = getattr(client_errors[0], "code", None)
    assert isinstance(client_code, str) and f"[{client_code}]" in by_side["client"].getMessage()
    assert _lines(caplog, logging.WARNING) == [] and _lines(caplog, logging.ERROR) == []


async def test_a_handshake_failure_is_silent_at_the_default_level(
        certs: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="nodetls")
    server = tls.create_server({"key": certs.server.key_pem, "cert": certs.server.chain_pem})
    await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
    try:
        sock = tls.connect(server.address()["port"], "127.0.0.1", servername="localhost")
        sock.on("error", lambda err: None)
        await asyncio.wait_for(sock.wait_closed(), TIMEOUT)
    finally:
        await asyncio.wait_for(server.close(), TIMEOUT)
    assert [r for r in caplog.records if r.name.startswith("nodetls")] == []


def test_an_unhandled_connection_error_is_one_warning_under_asyncio_run(
        certs: Any, caplog: pytest.LogCaptureFixture) -> None:
    served: list[str] = []

    def on_secure(sock: tls.TLSSocket) -> None:
        if not served:
            served.append("first")
            # A listener that raises, nobody listening to 'error' (a tls.Server's socket
            # drops its other errors as Node's onSocketTLSError does: tests/tls/
            # test_tls_server_socket_errors.py)
            def trouble(_chunk: bytes) -> None:
                raise ValueError("trouble on\none connection")

            sock.on("data", trouble)
        else:
            served.append("second")
            sock.end(b"ok")

    async def main() -> list[str]:
        server = tls.create_server({"key": certs.server.key_pem, "cert": certs.server.chain_pem},
                                   on_secure)
        await asyncio.wait_for(server.listen(0, "127.0.0.1"), TIMEOUT)
        port = server.address()["port"]
        first = tls.connect(port, "127.0.0.1", ca=certs.root.cert_pem, servername="localhost")
        first.on("error", lambda err: None)
        first.write(b"x")
        await asyncio.wait_for(first.wait_closed(), TIMEOUT)
        second = tls.connect(port, "127.0.0.1", ca=certs.root.cert_pem, servername="localhost")
        second.set_encoding("latin1")
        got: list[str] = []
        second.on("data", got.append)
        await asyncio.wait_for(second.wait_closed(), TIMEOUT)
        await asyncio.wait_for(server.close(), TIMEOUT)
        return got

    with caplog.at_level(logging.DEBUG):
        got = asyncio.run(main())
    assert got == ["ok"] and served == ["first", "second"]
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == 1, [r.getMessage() for r in records]  # nothing from asyncio either
    rec = records[0]
    text = rec.getMessage()
    assert rec.name == "nodetls" and rec.levelno == logging.WARNING and rec.exc_info is None
    assert "\n" not in text and "TLSSocket 127.0.0.1:" in text
    assert "ValueError: trouble on one connection" in text
