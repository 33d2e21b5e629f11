"""The asyncio examples run as a user runs them: the Protocol echo (with ``openssl s_client`` as
a peer of its server mode) and the STARTTLS upgrade (against asyncio + Python's ssl)."""

from __future__ import annotations

import sys
from pathlib import Path

from helpers.peers import require_peer, run_process, spawn_process

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
T = 30.0


async def test_echo_protocol_demo(tmp_path):
    res = await run_process([sys.executable, str(EXAMPLES / "aio_echo_protocol.py"), "--dir",
                             str(tmp_path)], timeout=T)
    assert res.rc == 0, res.stderr
    assert "echo: hello over nodetls.aio (TLSv1.3, " in res.stdout
    assert "server saw 1 secure connection(s)" in res.stdout


async def test_echo_protocol_server_with_openssl_client(tmp_path):
    openssl = require_peer("openssl")
    async with spawn_process([sys.executable, str(EXAMPLES / "aio_echo_protocol.py"), "--serve",
                              "--dir", str(tmp_path), "--port", "0"],
                             ready=r"serving on 127\.0\.0\.1:(\d+)", timeout=T) as proc:
        async with spawn_process([openssl, "s_client", "-connect", f"127.0.0.1:{proc.port}",
                                  "-CAfile", str(tmp_path / "ca-cert.pem"), "-servername",
                                  "localhost", "-verify_return_error", "-quiet"],
                                 timeout=T) as client:
            await client.write(b"ping from openssl\n")
            await client.wait_for_output("ping from openssl", stream="stdout", timeout=T)


async def test_starttls_demo(tmp_path):
    res = await run_process([sys.executable, str(EXAMPLES / "aio_starttls.py"), "--dir",
                             str(tmp_path)], timeout=T)
    assert res.rc == 0, res.stderr
    assert res.stdout.strip() == "over TLSv1.3: HELLO AFTER STARTTLS"
