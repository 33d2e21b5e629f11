"""aiohttp over nodetls.aio, with aiohttp's client (on Python's ssl) and curl as real peers; the
example ``examples/aio_aiohttp.py`` runs as a user runs it."""

from __future__ import annotations

import asyncio
import re
import ssl
import sys
from pathlib import Path

import pytest

from helpers.peers import require_peer, run_process, spawn_process

aiohttp = pytest.importorskip("aiohttp")
from aiohttp import web  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))
import aio_aiohttp  # noqa: E402

T = 20.0


@pytest.fixture
async def site(certs):
    runner = web.AppRunner(aio_aiohttp.make_app())
    await runner.setup()
    site = aio_aiohttp.NodeTLSSite(runner, "127.0.0.1", 0, **certs.server.options)
    await site.start()
    yield site
    await asyncio.wait_for(runner.cleanup(), T)


def client_ctx(certs) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certs.server.ca_path))


async def test_aiohttp_client_secure_large_bodies_keep_alive(site, certs):
    connections = []
    site.tls_server.on("secureConnection", connections.append)
    base = f"https://localhost:{site.port}"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=client_ctx(certs))) as s:
        async with s.get(base + "/") as r:
            info = await r.json()
        assert info["secure"] is True and info["scheme"] == "https"
        assert info["protocol"] in ("TLSv1.2", "TLSv1.3")
        body = bytes(range(256)) * (40 * 1024)  # 10 MiB up, streamed back
        async with s.post(base + "/echo", data=body) as r:
            assert r.status == 200
            assert await r.read() == body
        async with s.get(base + "/bytes/5000000") as r:
            assert len(await r.read()) == 5_000_000
        for _ in range(3):
            async with s.get(base + "/") as r:
                assert (await r.json())["secure"] is True
    assert len(connections) == 1  # every request on one kept-alive TLS connection


async def test_curl_against_the_app(site, certs):
    curl = require_peer("curl")
    base = f"https://localhost:{site.port}"
    body = EXAMPLES.parent / "pyproject.toml"
    res = await run_process([
        curl, "-sS", "-v", "--cacert", str(certs.server.ca_path), base + "/",
        "--next", "--cacert", str(certs.server.ca_path), "--data-binary", f"@{body}",
        base + "/echo"], timeout=T)
    assert res.rc == 0, res.stderr
    assert '"secure": true' in res.stdout and '"scheme": "https"' in res.stdout
    assert res.stdout.endswith(body.read_text())
    assert "Re-using existing connection" in res.stderr or "Reusing existing" in res.stderr


async def test_example_runs_and_serves_curl(tmp_path):
    curl = require_peer("curl")
    async with spawn_process([sys.executable, str(EXAMPLES / "aio_aiohttp.py"), "--dir",
                              str(tmp_path), "--port", "0"],
                             ready=r"serving https://localhost:(\d+)/", timeout=T) as proc:
        res = await run_process([curl, "-sS", "--cacert", str(tmp_path / "ca-cert.pem"),
                                 f"https://localhost:{proc.port}/bytes/100000"], timeout=T)
        assert res.rc == 0, res.stderr
        assert res.stdout == "x" * 100000
        res = await run_process([curl, "-sS", "--cacert", str(tmp_path / "ca-cert.pem"),
                                 f"https://localhost:{proc.port}/"], timeout=T)
        assert re.search(r'"secure": true', res.stdout)


NODE_HTTPS = r"""
const https = require('node:https');
const fs = require('node:fs');
const server = https.createServer({key: fs.readFileSync(process.argv[2]),
                                   cert: fs.readFileSync(process.argv[3])}, (req, res) => {
  let n = 0;
  req.on('data', (c) => { n += c.length; });
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({url: req.url, received: n, alpn: req.socket.alpnProtocol,
                            remote: req.socket.remotePort}));
  });
});
server.listen(0, '127.0.0.1', () => console.log('LISTENING', server.address().port));
"""


async def test_aiohttp_client_over_nodetls_against_node_https(certs, node_bin):
    """The other way: aiohttp's client with nodetls doing TLS (examples/aio_aiohttp_client.py)
    against Node's https server."""
    from aio_aiohttp_client import NodeTLSConnector

    from helpers.peers import spawn_node

    transports = []

    class Recording(NodeTLSConnector):
        async def _wrap_create_connection(self, *args, **kwargs):
            transport, protocol = await super()._wrap_create_connection(*args, **kwargs)
            transports.append(transport)
            return transport, protocol

    async with spawn_node(NODE_HTTPS, str(certs.server.key_path),
                          str(certs.server.chain_path)) as node:
        connector = Recording(tls_options={"ca": certs.server.ca_pem})
        async with aiohttp.ClientSession(connector=connector) as s:
            remotes = set()
            for i in range(3):
                async with s.post(f"https://localhost:{node.port}/r{i}",
                                  data=b"q" * 1_000_000) as r:
                    got = await r.json()
                assert got["url"] == f"/r{i}" and got["received"] == 1_000_000
                remotes.add(got["remote"])
            assert len(remotes) == 1  # keep-alive: one TLS connection
            assert len(transports) == 1
            tls_sock = transports[0].get_extra_info("tls_socket")
            assert tls_sock.authorized and tls_sock.get_protocol() == "TLSv1.3"
            assert tls_sock.remote_port == node.port
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            async with aiohttp.ClientSession(connector=NodeTLSConnector()) as s:
                await s.get(f"https://localhost:{node.port}/")  # untrusted: refused


async def test_aiohttp_client_example_against_the_server_example(site, certs):
    res = await run_process([sys.executable, str(EXAMPLES / "aio_aiohttp_client.py"),
                             f"https://localhost:{site.port}/", "--ca",
                             str(certs.server.ca_path)], timeout=T)
    assert res.rc == 0, res.stderr
    assert res.stdout.startswith("200\n") and '"secure": true' in res.stdout
