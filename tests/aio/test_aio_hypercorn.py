"""hypercorn (ASGI) over nodetls.aio: HTTP/2 by ALPN and HTTP/1.1, curl and Python's ssl as
peers; the example ``examples/aio_hypercorn.py`` runs as a user runs it."""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
from pathlib import Path

import pytest

from helpers.peers import require_peer, run_process, spawn_process

pytest.importorskip("hypercorn")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))
import aio_hypercorn  # noqa: E402

T = 20.0


@pytest.fixture
async def server(certs):
    srv = await aio_hypercorn.serve_hypercorn(aio_hypercorn.app, "127.0.0.1", 0,
                                              **certs.server.options)
    yield srv
    srv.close()
    srv.close_clients()
    await asyncio.wait_for(srv.wait_closed(), T)


async def curl(certs, port, *args):
    res = await run_process([require_peer("curl"), "-sS", "--cacert", str(certs.server.ca_path),
                             *args, f"https://localhost:{port}/"], timeout=T)
    assert res.rc == 0, res.stderr
    return json.loads(res.stdout)


async def test_curl_http2_and_http11(server, certs, tmp_path):
    port = server.sockets[0].getsockname()[1]
    got = await curl(certs, port, "--http2")
    assert got == {"scheme": "https", "http_version": "2", "received": 0}
    got = await curl(certs, port, "--http1.1")
    assert got == {"scheme": "https", "http_version": "1.1", "received": 0}
    big = tmp_path / "big"
    big.write_bytes(b"z" * 3_000_000)
    got = await curl(certs, port, "--http2", "--data-binary", f"@{big}")
    assert got["received"] == 3_000_000 and got["http_version"] == "2"


async def test_python_ssl_http11_client(server, certs):
    port = server.sockets[0].getsockname()[1]
    ctx = ssl.create_default_context(cafile=str(certs.server.ca_path))
    ctx.set_alpn_protocols(["http/1.1"])
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx,
                                                   server_hostname="localhost")
    writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    data = await asyncio.wait_for(reader.read(), T)
    assert data.startswith(b"HTTP/1.1 200")
    assert b'"scheme": "https"' in data
    writer.close()


async def test_example_runs(tmp_path):
    async with spawn_process([sys.executable, str(EXAMPLES / "aio_hypercorn.py"), "--dir",
                              str(tmp_path), "--port", "0"],
                             ready=r"serving https://localhost:(\d+)/", timeout=T) as proc:
        res = await run_process([require_peer("curl"), "-sS", "--http2", "--cacert",
                                 str(tmp_path / "ca-cert.pem"),
                                 f"https://localhost:{proc.port}/"], timeout=T)
        assert res.rc == 0, res.stderr
        assert json.loads(res.stdout)["http_version"] == "2"
