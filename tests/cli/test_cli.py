"""The ``nodetls`` command line, run as a user runs it (``python -m nodetls``, its own process),
against itself and against real peers: ``openssl s_client``/``s_server``/``verify``, ``curl``,
``redis-server``. Every wait is bounded."""

from __future__ import annotations

import json
import re
import signal
import sys
from pathlib import Path

import pytest

from helpers.peers import (
    require_peer,
    run_openssl_client,
    run_process,
    spawn_openssl_server,
    spawn_process,
)
from helpers.redis_server import RedisServer

T = 30.0
LISTENING = r"listening on https://127\.0\.0\.1:(?P<port>\d+)"


def nodetls(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "nodetls", *[str(a) for a in args]]


def serve(dev_dir: Path, *args: str) -> object:
    return spawn_process(nodetls("serve", "--port", "0", "--dev-dir", dev_dir, *args),
                         ready=LISTENING, timeout=T)


# -- ticket-keys, devcert ----------------------------------------------------------------------

async def test_ticket_keys_prints_fresh_48_byte_keys() -> None:
    res = await run_process(nodetls("ticket-keys", "--count", "3"), timeout=T)
    assert res.rc == 0, res.stderr
    keys = res.stdout.split()
    assert len(keys) == 3 and len(set(keys)) == 3
    assert all(re.fullmatch(r"[0-9a-f]{96}", k) for k in keys)
    bad = await run_process(nodetls("ticket-keys", "--count", "0"), timeout=T)
    assert bad.rc == 2 and "--count" in bad.stderr


async def test_devcert_keeps_its_ca_and_issues_certificates_openssl_verifies(tmp_path: Path) -> None:
    openssl = require_peer("openssl")
    first = await run_process(nodetls("devcert", "app.test", "127.0.0.2", "--dir", tmp_path),
                              timeout=T)
    assert first.rc == 0, first.stderr
    paths = [Path(p) for p in first.stdout.split()]
    assert [p.name for p in paths] == ["ca-cert.pem", "app.test-cert.pem", "app.test-key.pem"]
    assert "created the development CA" in first.stderr
    assert (tmp_path / "ca-key.pem").stat().st_mode & 0o077 == 0
    assert (tmp_path / "app.test-key.pem").stat().st_mode & 0o077 == 0
    ca_before = (tmp_path / "ca-cert.pem").read_bytes()

    second = await run_process(nodetls("devcert", "other.test", "--dir", tmp_path), timeout=T)
    assert second.rc == 0 and "reused the development CA" in second.stderr
    assert (tmp_path / "ca-cert.pem").read_bytes() == ca_before
    for leaf in ("app.test-cert.pem", "other.test-cert.pem"):
        res = await run_process([openssl, "verify", "-CAfile", tmp_path / "ca-cert.pem",
                                 tmp_path / leaf], timeout=T)
        assert res.rc == 0 and ": OK" in res.stdout, res.stdout + res.stderr
    text = await run_process([openssl, "x509", "-noout", "-ext", "subjectAltName", "-in",
                              tmp_path / "app.test-cert.pem"], timeout=T)
    assert "DNS:app.test" in text.stdout and "IP Address:127.0.0.2" in text.stdout


async def test_devcert_node_examples_writes_the_four_files(tmp_path: Path) -> None:
    res = await run_process(nodetls("devcert", "--node-examples", "--dir", tmp_path), timeout=T)
    assert res.rc == 0, res.stderr
    assert sorted(Path(p).name for p in res.stdout.split()) == [
        "client-cert.pem", "client-key.pem", "server-cert.pem", "server-key.pem"]


# -- serve and connect -------------------------------------------------------------------------

async def test_connect_reports_what_serve_negotiated_and_joins_stdin(tmp_path: Path) -> None:
    async with serve(tmp_path, "--alpn", "http/1.1") as server:
        ca = tmp_path / "ca-cert.pem"
        res = await run_process(nodetls("connect", f"localhost:{server.port}", "--ca", ca,
                                        "--alpn", "h2,http/1.1"),
                                stdin=b"ping over TLS\n", timeout=T)
        assert res.rc == 0, res.stderr
        assert res.stdout == "ping over TLS\n"          # the echo, alone on standard output
        err = res.stderr
        for pattern in (r"protocol\s+TLSv1\.3", r"ALPN\s+http/1\.1", r"SNI\s+localhost",
                        r"verification\s+ok", r"resumption\s+yes", r"OCSP staple\s+none stapled",
                        r"subject\s+O=nodetls development, CN=localhost",
                        r"SHA-256\s+([0-9A-F]{2}:){31}[0-9A-F]{2}"):
            assert re.search(pattern, err), (pattern, err)

        report = await run_process(nodetls("connect", f"127.0.0.1:{server.port}", "--json",
                                           "--ca", ca, "--tls1.2"), timeout=T)
        assert report.rc == 0, report.stderr
        r = json.loads(report.stdout)
        assert r["protocol"] == "TLSv1.2" and r["servername"] is None
        assert r["verification"] == {"authorized": True, "error": None}
        assert r["resumes"] is True
        assert [c["subject"] for c in r["chain"]] == [
            "O=nodetls development, CN=localhost",
            "O=nodetls development, CN=nodetls development CA"]


async def test_connect_fails_on_an_unverified_server_unless_insecure(tmp_path: Path) -> None:
    async with serve(tmp_path) as server:
        res = await run_process(nodetls("connect", f"localhost:{server.port}", "--json"),
                                timeout=T)
        assert res.rc == 1
        assert json.loads(res.stdout)["verification"]["error"]["code"] == \
            "SELF_SIGNED_CERT_IN_CHAIN"
        ok = await run_process(nodetls("connect", f"localhost:{server.port}", "--insecure"),
                               stdin=b"x\n", timeout=T)
        assert ok.rc == 0 and ok.stdout == "x\n", ok.stderr
        assert "(--insecure: going on)" in ok.stderr


async def test_sess_out_then_sess_in_resumes(tmp_path: Path) -> None:
    async with serve(tmp_path) as server:
        ca, sess = tmp_path / "ca-cert.pem", tmp_path / "session.bin"
        first = await run_process(nodetls("connect", f"localhost:{server.port}", "--ca", ca,
                                          "--json", "--sess-out", sess), timeout=T)
        assert first.rc == 0 and sess.stat().st_size > 0, first.stderr
        second = await run_process(nodetls("connect", f"localhost:{server.port}", "--ca", ca,
                                           "--json", "--sess-in", sess,
                                           "--no-resume-check"), timeout=T)
        r = json.loads(second.stdout)
        assert r["session_reused"] is True and r["resumes"] is None


async def test_connect_errors_are_one_line_with_the_code(tmp_path: Path) -> None:
    from helpers.peers import free_port

    res = await run_process(nodetls("connect", f"127.0.0.1:{free_port()}"), timeout=T)
    assert res.rc == 1
    assert "ECONNREFUSED" in res.stderr and "Traceback" not in res.stderr
    bad = await run_process(nodetls("connect", "localhost:99999"), timeout=T)
    assert bad.rc == 2 and "bad port" in bad.stderr


async def test_connect_ocsp_requires_a_staple(tmp_path: Path) -> None:
    async with serve(tmp_path) as server:
        res = await run_process(nodetls("connect", f"localhost:{server.port}", "--ca",
                                        tmp_path / "ca-cert.pem", "--ocsp", "--json"), timeout=T)
        assert res.rc == 1
        assert json.loads(res.stdout)["ocsp"]["stapled"] is False


async def test_serve_talks_to_openssl_s_client_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    async with serve(tmp_path, "--http") as server:
        request = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        res = await run_openssl_client(["-CAfile", tmp_path / "ca-cert.pem", "-servername",
                                        "localhost", "-verify_return_error", "-ign_eof"],
                                       stdin=request, port=server.port, timeout=T)
        assert "Verify return code: 0 (ok)" in res.stdout, res.stdout + res.stderr
        assert "hello from nodetls" in res.stdout, res.stdout + res.stderr
        await server.wait_for_output(r"\+ .* TLSv1\.3 .* sni=localhost", timeout=T)
        assert server.proc is not None
        server.proc.send_signal(signal.SIGINT)
        import asyncio
        rc = await asyncio.wait_for(server.proc.wait(), T)
        assert rc == 130
        await server.wait_for_output(r"stopped", timeout=T)


async def test_serve_http_answers_curl_and_writes_a_keylog(tmp_path: Path) -> None:
    curl = require_peer("curl")
    keylog = tmp_path / "keys.log"
    async with serve(tmp_path, "--http", "--keylog", str(keylog)) as server:
        url = f"https://localhost:{server.port}/"
        res = await run_process([curl, "-sS", "--cacert", tmp_path / "ca-cert.pem", url, url],
                                timeout=T)
        assert res.rc == 0, res.stderr
        assert res.stdout == "hello from nodetls\n" * 2
    lines = keylog.read_text().splitlines()
    assert any(line.startswith("CLIENT_TRAFFIC_SECRET_0 ") for line in lines)


async def test_connect_to_openssl_s_server(tmp_path: Path) -> None:
    await run_process(nodetls("devcert", "localhost", "--dir", tmp_path), timeout=T)
    async with spawn_openssl_server(["-cert", tmp_path / "localhost-cert.pem", "-key",
                                     tmp_path / "localhost-key.pem", "-tls1_2"]) as server:
        res = await run_process(nodetls("connect", f"localhost:{server.port}", "--ca",
                                        tmp_path / "ca-cert.pem", "--json",
                                        "--no-resume-check"), timeout=T)
        assert res.rc == 0, res.stderr
        r = json.loads(res.stdout)
        assert r["protocol"] == "TLSv1.2" and r["verification"]["authorized"] is True


async def test_serve_with_redis_shares_sessions(tmp_path: Path) -> None:
    async with RedisServer(tmp_path / "redis") as redis:
        async with serve(tmp_path, "--redis", redis.url) as server:
            res = await run_process(nodetls("connect", f"localhost:{server.port}", "--ca",
                                            tmp_path / "ca-cert.pem", "--json"), timeout=T)
            assert res.rc == 0, res.stderr
            assert json.loads(res.stdout)["resumes"] is True


async def test_help_lists_every_command() -> None:
    res = await run_process(nodetls("--help"), timeout=T)
    assert res.rc == 0
    for command in ("connect", "serve", "devcert", "ticket-keys"):
        assert command in res.stdout


@pytest.mark.parametrize("argv", [["serve", "--workers", "2", "--port", "0"],
                                  ["serve", "--cert", "x.pem"]])
async def test_serve_rejects_bad_arguments(argv: list[str], tmp_path: Path) -> None:
    res = await run_process(nodetls(*argv, "--dev-dir", tmp_path), timeout=T)
    assert res.rc == 2 and "serve:" in res.stderr
