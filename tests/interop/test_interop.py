"""Interop with real peers in separate processes: openssl s_client/s_server, node, gnutls.

Both directions, TLS 1.2 and 1.3, client certificates, ALPN and SNI.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from tests.tls.tlsutil import shut

import nodetls as tls
from helpers.peers import (
    run_gnutls_client,
    run_node,
    run_openssl_client,
    spawn_gnutls_server,
    spawn_node,
    spawn_openssl_server,
)

pytestmark = pytest.mark.interop
T = 20.0

OSSL_FLAG = {"TLSv1.2": "-tls1_2", "TLSv1.3": "-tls1_3"}
GNUTLS_PRIO = {"TLSv1.2": "NORMAL:-VERS-ALL:+VERS-TLS1.2", "TLSv1.3": "NORMAL:-VERS-ALL:+VERS-TLS1.3"}


async def tls_echo_server(options, once=False):
    """Echo server; with ``once`` it echoes the first chunk and ends (for s_client -ign_eof)."""

    def on_secure(sock):
        if once:
            sock.on("data", lambda d: sock.end(d))
        else:
            sock.on("data", sock.write)
        sock.on("end", sock.end)

    server = tls.create_server(options, on_secure)
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, T)
    return server, server.address()["port"]


async def tls_read_all(sock, n=None):
    buf = bytearray()
    done = asyncio.get_running_loop().create_future()

    def on_data(d):
        buf.extend(d)
        if n is not None and len(buf) >= n and not done.done():
            done.set_result(None)

    sock.on("data", on_data)
    sock.on("end", lambda: done.done() or done.set_result(None))
    sock.on("close", lambda *a: done.done() or done.set_result(None))
    await asyncio.wait_for(done, T)
    return bytes(buf)


# ------------------------------------------------------------------ openssl s_client -> nodetls
async def test_openssl_client_to_nodetls(certs, tls_version):
    server, port = await tls_echo_server({**certs.server.options, "ALPNProtocols": ["h2", "x"],
                                          "min_version": tls_version}, once=True)
    try:
        res = await run_openssl_client(
            ["-CAfile", certs.root.cert_path, "-servername", "localhost",
             "-alpn", "x", OSSL_FLAG[tls_version], "-verify_return_error", "-ign_eof"],
            stdin=b"ping from openssl\n", port=port, timeout=T)
        assert "Verify return code: 0 (ok)" in res.stdout
        assert "ALPN protocol: x" in res.stdout
        assert f"Protocol  : {tls_version}" in res.stdout or tls_version in res.stdout
        assert "ping from openssl" in res.stdout
    finally:
        await shut(server, timeout=T)


async def test_openssl_client_cert_to_nodetls(certs, tls_version):
    got = asyncio.get_running_loop().create_future()
    server = tls.create_server({**certs.server.options, "request_cert": True,
                                "ca": certs.client_ca.cert_pem, "max_version": tls_version},
                               lambda s: (got.done() or got.set_result(
                                   (s.authorized, s.get_peer_certificate()["subject"]["CN"])),
                                          s.end(b"bye\n")))
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, T)
    try:
        await run_openssl_client(
            ["-CAfile", certs.root.cert_path, "-cert", certs.client.cert_path,
             "-key", certs.client.key_path, "-servername", "localhost", "-ign_eof"],
            stdin=b"", port=server.address()["port"], timeout=T)
        assert await asyncio.wait_for(got, T) == (True, "client")
    finally:
        await shut(server, timeout=T)


async def test_openssl_client_sni(certs):
    server, port = await tls_echo_server(certs.server.options, once=True)
    server.add_context("*.example.com", certs.wildcard.options)
    try:
        res = await run_openssl_client(["-servername", "www.example.com", "-ign_eof"],
                                       stdin=b"x\n", port=port, timeout=T)
        assert "CN = *.example.com" in res.stdout
    finally:
        await shut(server, timeout=T)


# ------------------------------------------------------------------ nodetls -> openssl s_server
async def test_nodetls_to_openssl_server(certs, tls_version):
    async with spawn_openssl_server(
        ["-cert", certs.server.cert_path, "-key", certs.server.key_path,
         "-cert_chain", certs.server.chain_path, "-alpn", "h2",
         OSSL_FLAG[tls_version], "-verify", "1", "-CAfile", certs.client_ca.cert_path,
         "-rev"], timeout=T) as srv:
        sock = tls.connect(srv.port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                      "servername": "localhost", "alpn_protocols": ["h2"],
                                      **certs.client.options})
        await asyncio.wait_for(sock, T)
        assert sock.authorized
        assert sock.get_protocol() == tls_version
        assert sock.alpn_protocol == "h2"
        sock.write(b"hello\n")
        data = await asyncio.wait_for(_read_line(sock), T)
        assert data.strip() == b"olleh"
        sock.destroy()


async def _read_line(sock):
    buf = bytearray()
    fut = asyncio.get_running_loop().create_future()

    def on_data(d):
        buf.extend(d)
        if b"\n" in buf and not fut.done():
            fut.set_result(bytes(buf))

    sock.on("data", on_data)
    return await fut


# ------------------------------------------------------------------ gnutls
async def test_gnutls_client_to_nodetls(certs, tls_version):
    server, port = await tls_echo_server({**certs.server.options,
                                          "ALPNProtocols": ["h2"], "request_cert": True,
                                          "ca": certs.client_ca.cert_pem})
    try:
        res = await run_gnutls_client(
            ["--x509cafile", str(certs.root.cert_path), "--priority", GNUTLS_PRIO[tls_version],
             "--alpn", "h2", "--x509certfile", str(certs.client.cert_path),
             "--x509keyfile", str(certs.client.key_path), "--sni-hostname", "localhost",
             "--port", str(port), "localhost"],
            stdin=b"ping gnutls\n", timeout=T)
        out = res.stdout + res.stderr
        assert "ping gnutls" in out
        assert "h2" in out
        assert tls_version.replace("v", " ").replace("TLS ", "TLS") in out.replace("TLS1", "TLSv1") \
            or tls_version[-3:] in out
    finally:
        await shut(server, timeout=T)


async def test_nodetls_to_gnutls_server(certs, tls_version):
    async with spawn_gnutls_server(
        ["--x509certfile", str(certs.server.chain_path), "--x509keyfile",
         str(certs.server.key_path), "--echo", "--priority", GNUTLS_PRIO[tls_version],
         "--alpn", "h2"], timeout=T) as srv:
        sock = tls.connect(srv.port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                      "servername": "localhost", "alpn_protocols": ["h2"]})
        await asyncio.wait_for(sock, T)
        assert sock.get_protocol() == tls_version
        assert sock.alpn_protocol == "h2"
        sock.write(b"echo me\n")
        assert (await asyncio.wait_for(_read_line(sock), T)).strip() == b"echo me"
        sock.destroy()


# ------------------------------------------------------------------ node
NODE_CLIENT = r"""
const tls = require('tls'); const fs = require('fs');
const [port, ca, ver, cert, key] = process.argv.slice(2);
const opts = { port: +port, host: '127.0.0.1', ca: fs.readFileSync(ca), servername: 'localhost',
  ALPNProtocols: ['h2'], minVersion: ver, maxVersion: ver };
if (cert) { opts.cert = fs.readFileSync(cert); opts.key = fs.readFileSync(key); }
const s = tls.connect(opts, () => {
  s.write('from node\n');
});
let buf = '';
s.on('data', d => { buf += d; if (buf.includes('\n')) {
  console.log(JSON.stringify({ authorized: s.authorized, protocol: s.getProtocol(),
    alpn: s.alpnProtocol, echoed: buf.trim(), cn: s.getPeerCertificate().subject.CN }));
  s.end(); } });
s.on('error', e => { console.log(JSON.stringify({ error: e.code })); process.exit(1); });
"""

NODE_SERVER = r"""
const tls = require('tls'); const fs = require('fs');
const [cert, key, ver, clientCa] = process.argv.slice(2);
const srv = tls.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key),
  minVersion: ver, maxVersion: ver, ALPNProtocols: ['h2'], requestCert: true,
  ca: fs.readFileSync(clientCa) }, s => {
  s.on('data', d => s.write(JSON.stringify({ got: d.toString().trim(), authorized: s.authorized,
      servername: s.servername, alpn: s.alpnProtocol }) + '\n'));
});
srv.listen(0, '127.0.0.1', () => console.log('LISTENING', srv.address().port));
"""


async def test_node_client_to_nodetls(certs, node_bin, tls_version):
    server, port = await tls_echo_server({**certs.server.options, "ALPNProtocols": ["h2"],
                                          "request_cert": True, "ca": certs.client_ca.cert_pem})
    try:
        rc, out, err = await run_node(NODE_CLIENT, str(port), str(certs.root.cert_path),
                                      tls_version, str(certs.client.cert_path),
                                      str(certs.client.key_path), timeout=T)
        assert rc == 0, err
        res = json.loads(out.strip().splitlines()[-1])
        assert res == {"authorized": True, "protocol": tls_version, "alpn": "h2",
                       "echoed": "from node", "cn": "localhost"}
    finally:
        await shut(server, timeout=T)


async def test_nodetls_to_node_server(certs, node_bin, tls_version):
    async with spawn_node(NODE_SERVER, str(certs.server.chain_path), str(certs.server.key_path),
                          tls_version, str(certs.client_ca.cert_path), timeout=T) as srv:
        sock = tls.connect(srv.port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                      "servername": "localhost", "alpn_protocols": ["h2"],
                                      **certs.client.options})
        await asyncio.wait_for(sock, T)
        sock.write(b"from nodetls\n")
        res = json.loads(await asyncio.wait_for(_read_line(sock), T))
        assert res == {"got": "from nodetls", "authorized": True, "servername": "localhost",
                       "alpn": "h2"}
        sock.destroy()
