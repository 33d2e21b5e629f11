"""uvicorn (ASGI) over nodetls.aio: ``examples/aio_uvicorn.py``'s ``NodeTLSServer`` serves an
ASGI app with uvicorn's own HTTP protocol; curl, Python's ``ssl`` and Node's ``https`` as
peers; uvicorn's graceful shutdown; a Node-style event of the underlying ``tls.Server``; the
example run as a user runs it (Ctrl-C ends it cleanly)."""

from __future__ import annotations

import asyncio
import json
import signal
import ssl
import sys
from pathlib import Path
from typing import Any

import pytest

from helpers.peers import require_peer, run_node, run_process, spawn_process

pytest.importorskip("uvicorn")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))
import aio_uvicorn  # noqa: E402

T = 20.0


async def _start(server: aio_uvicorn.NodeTLSServer) -> asyncio.Task[None]:
    task = asyncio.ensure_future(server.serve())
    listening = asyncio.ensure_future(server.listening.wait())
    await asyncio.wait([task, listening], timeout=T, return_when=asyncio.FIRST_COMPLETED)
    listening.cancel()
    if task.done():
        task.result()  # raises what startup raised
    assert server.started
    return task


@pytest.fixture
async def served(certs):
    server = aio_uvicorn.make_server(aio_uvicorn.app, "127.0.0.1", 0, **certs.server.options)
    task = await _start(server)
    yield server
    server.should_exit = True
    await asyncio.wait_for(task, T)


async def curl(certs: Any, port: int, *args: str) -> dict[str, Any]:
    res = await run_process([require_peer("curl"), "-sS", "--cacert", str(certs.server.ca_path),
                             *args, f"https://localhost:{port}/"], timeout=T)
    assert res.rc == 0, res.stderr
    result: dict[str, Any] = json.loads(res.stdout)
    return result


async def test_curl_sees_https_and_bodies_arrive(served, certs, tmp_path):
    port = aio_uvicorn.port_of(served)
    assert await curl(certs, port) == {"scheme": "https", "http_version": "1.1", "received": 0}
    big = tmp_path / "big"
    big.write_bytes(b"u" * 3_000_000)
    got = await curl(certs, port, "--data-binary", f"@{big}")
    assert got == {"scheme": "https", "http_version": "1.1", "received": 3_000_000}


async def test_keep_alive_serves_many_requests_on_one_tls_connection(served, certs):
    port = aio_uvicorn.port_of(served)
    tls_server = served.servers[0].tls_server  # type: ignore[attr-defined]
    handshakes: list[str] = []
    tls_server.on("secureConnection", lambda sock: handshakes.append(sock.get_protocol()))
    ctx = ssl.create_default_context(cafile=str(certs.server.ca_path))
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx,
                                                   server_hostname="localhost")
    try:
        for i in range(5):
            body = b"x" * (1000 * i)
            writer.write(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n%s"
                         % (len(body), body))
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), T)
            assert head.startswith(b"HTTP/1.1 200")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            got = json.loads(await asyncio.wait_for(reader.readexactly(length), T))
            assert got == {"scheme": "https", "http_version": "1.1", "received": len(body)}
    finally:
        writer.close()
    assert handshakes == ["TLSv1.3"]  # one TLS connection for the five requests


async def test_node_https_client(served, certs):
    port = aio_uvicorn.port_of(served)
    res = await run_node(f"""
        const https = require('https');
        const fs = require('fs');
        const req = https.request({{host: '127.0.0.1', port: {port}, servername: 'localhost',
            ca: fs.readFileSync({json.dumps(str(certs.server.ca_path))}), method: 'POST'}}, (res) => {{
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d) => body += d);
          res.on('end', () => console.log(res.statusCode, body));
        }});
        req.end('n'.repeat(70000));
    """, timeout=T)
    assert res.rc == 0, res.stderr
    status, body = res.stdout.strip().split(" ", 1)
    assert status == "200"
    assert json.loads(body) == {"scheme": "https", "http_version": "1.1", "received": 70000}


async def test_graceful_shutdown_closes_the_port_and_serve_returns(certs):
    server = aio_uvicorn.make_server(aio_uvicorn.app, "127.0.0.1", 0, **certs.server.options)
    task = await _start(server)
    port = aio_uvicorn.port_of(server)
    assert (await curl(certs, port))["scheme"] == "https"
    server.should_exit = True
    await asyncio.wait_for(task, T)
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)


async def test_untrusted_client_certificate_refused_before_the_app(certs):
    """The tls.Server options apply: request_cert + reject_unauthorized refuses a client without
    a certificate, and uvicorn's app never runs for it."""
    calls: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        calls.append(scope["type"])
        await aio_uvicorn.app(scope, receive, send)

    server = aio_uvicorn.make_server(app, "127.0.0.1", 0, request_cert=True,
                                     reject_unauthorized=True, ca=certs.server.ca_pem,
                                     **certs.server.options)
    task = await _start(server)
    try:
        res = await run_process([require_peer("curl"), "-sS", "--cacert",
                                 str(certs.server.ca_path),
                                 f"https://localhost:{aio_uvicorn.port_of(server)}/"], timeout=T)
        assert res.rc != 0
        assert calls == []
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, T)


async def test_example_runs_and_stops_on_ctrl_c(tmp_path):
    async with spawn_process([sys.executable, str(EXAMPLES / "aio_uvicorn.py"), "--dir",
                              str(tmp_path), "--port", "0"],
                             ready=r"serving https://localhost:(\d+)/", timeout=T) as proc:
        res = await run_process([require_peer("curl"), "-sS", "--cacert",
                                 str(tmp_path / "ca-cert.pem"),
                                 f"https://localhost:{proc.port}/"], timeout=T)
        assert res.rc == 0, res.stderr
        assert json.loads(res.stdout)["scheme"] == "https"
        assert proc.proc is not None
        proc.proc.send_signal(signal.SIGINT)
        done = await proc.wait(T)
        assert done.rc == 0, done.stderr


_WORKERS_SCRIPT = """
import asyncio, json, os, sys
sys.path.insert(0, {examples!r})
import aio_uvicorn
import nodetls

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = json.dumps({{"worker": nodetls.worker_index(), "scheme": scope["scheme"]}}).encode()
    await send({{"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"%d" % len(body))]}})
    await send({{"type": "http.response.body", "body": body}})

async def main():
    server = aio_uvicorn.make_server(app, "127.0.0.1", {port}, key=open({key!r}, "rb").read(),
                                     cert=open({cert!r}, "rb").read())
    async def announce():
        await server.listening.wait()
        os.write(1, b"LISTENING %d\\n" % nodetls.worker_index())  # (one write: two workers)
    task = asyncio.ensure_future(announce())
    await server.serve()

nodetls.run(main, workers=2)
"""


async def test_uvicorn_in_two_workers_shares_the_port_and_stops_on_sigterm(certs, tmp_path):
    """``nodetls.run(main, workers=2)`` with uvicorn in each worker: both serve one port
    (``SO_REUSEPORT``), and SIGTERM to the parent stops every uvicorn gracefully: exit status 0."""
    from helpers.peers import free_port

    port = free_port()
    script = tmp_path / "uvicorn_workers.py"
    chain = tmp_path / "chain.pem"
    chain.write_bytes(certs.server.chain_pem)
    script.write_text(_WORKERS_SCRIPT.format(examples=str(EXAMPLES), port=port,
                                             key=str(certs.server.key_path), cert=str(chain)))
    async with spawn_process([sys.executable, str(script)], ready=r"LISTENING \d",
                             timeout=T) as proc:
        await proc.wait_for_output(r"LISTENING \d[\s\S]*LISTENING \d", timeout=T)
        seen: set[int] = set()
        for _ in range(40):
            got = await curl(certs, port)
            assert got["scheme"] == "https"
            seen.add(got["worker"])
            if seen == {0, 1}:
                break
        assert seen == {0, 1}
        assert proc.proc is not None
        proc.proc.send_signal(signal.SIGTERM)
        done = await proc.wait(T)
        assert done.rc == 0, done.stderr
