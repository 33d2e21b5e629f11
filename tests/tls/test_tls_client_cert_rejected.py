"""A server that rejects the client's certificate: an accepted difference from Node (docs/tls.md).

The differential harness's case (``tests/tls/diff/batch.py``): ``request_cert`` and
``reject_unauthorized`` on the server, a self-signed client certificate.  nodetls's server
rejects it inside OpenSSL's verification, which sends the matching alert (``unknown_ca``): its
``'tlsClientError'`` carries the verify code, the client's error names the alert.  node v20's
OpenSSL accepts the certificate, then Node's JavaScript destroys the socket without a word: the
server's ``'tlsClientError'`` is ``ECONNRESET`` ("socket hang up"); a TLS 1.2 client gets
``'end'`` then ``ECONNRESET``, a TLS 1.3 client ``'secureConnect'``, ``'end'`` and a clean
``'close'``: neither learns why.  Each expectation was observed with node v20 (OpenSSL 3.0.19);
the client is a Node client in both cases, so only the server differs.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tlsutil import TIMEOUT, listen

from helpers.peers import run_node, spawn_node

CLIENT_JS = r"""
const tls = require('tls'); const fs = require('fs');
const [port, ca, key, cert] = process.argv.slice(2);
const s = tls.connect({port: +port, host: '127.0.0.1', servername: 'localhost',
  ca: fs.readFileSync(ca), key: fs.readFileSync(key), cert: fs.readFileSync(cert)});
s.on('secureConnect', () => console.log('secureConnect'));
s.on('error', (e) => console.log('error', e.code));
s.on('end', () => console.log('end'));
s.on('data', () => {});
s.on('close', (hadError) => console.log('close', hadError));
"""

SERVER_JS = r"""
const tls = require('tls'); const fs = require('fs');
const [key, cert, ca, version] = process.argv.slice(2);
const server = tls.createServer({key: fs.readFileSync(key), cert: fs.readFileSync(cert),
  ca: fs.readFileSync(ca), requestCert: true, rejectUnauthorized: true,
  minVersion: version, maxVersion: version}, () => console.log('SERVER secureConnection'));
server.on('tlsClientError', (e) => console.log('SERVER tlsClientError', e.code));
server.listen(0, '127.0.0.1', () => console.log('LISTENING', server.address().port));
"""

EXPECTED = {
    ("node", "TLSv1.2"): (["tlsClientError ECONNRESET"],
                          ["end", "error ECONNRESET", "close true"]),
    ("node", "TLSv1.3"): (["tlsClientError ECONNRESET"],
                          ["secureConnect", "end", "close false"]),
    ("nodetls", "TLSv1.2"): (["tlsClientError DEPTH_ZERO_SELF_SIGNED_CERT"],
                             ["error ERR_SSL_TLSV1_ALERT_UNKNOWN_CA", "close true"]),
    # (TLS 1.3: the client's handshake is over before the server reads its certificate)
    ("nodetls", "TLSv1.3"): (["tlsClientError DEPTH_ZERO_SELF_SIGNED_CERT"],
                             ["secureConnect", "error ERR_SSL_TLSV1_ALERT_UNKNOWN_CA", "end",
                              "close false"]),
}


async def _client(port: int, certs: Any) -> list[str]:
    c = certs.client_self_signed
    res = await run_node(CLIENT_JS, str(port), str(certs.root.cert_path), str(c.key_path),
                         str(c.cert_path), timeout=TIMEOUT)
    assert res.rc == 0, res.stderr
    return res.stdout.split("\n")[:-1]


async def _on_node(certs: Any, version: str) -> tuple[list[str], list[str]]:
    async with spawn_node(SERVER_JS, certs.server.key_path, certs.server.chain_path,
                          certs.root.cert_path, version) as peer:
        assert peer.port is not None
        client = await _client(peer.port, certs)
        # (the server's event may come after the client's close)
        await peer.wait_for_output(r"SERVER [^\n]*\n")
        server = [line.removeprefix("SERVER ") for line in peer.stdout.splitlines()
                  if line.startswith("SERVER ")]
    return server, client


async def _on_nodetls(certs: Any, version: str) -> tuple[list[str], list[str]]:
    server_log: list[str] = []
    seen = asyncio.get_running_loop().create_future()

    def log(line: str) -> None:
        server_log.append(line)
        seen.done() or seen.set_result(None)

    server, port = await listen({**certs.server.options, "ca": certs.root.cert_pem,
                                 "request_cert": True, "reject_unauthorized": True,
                                 "min_version": version, "max_version": version},
                                lambda sock: log("secureConnection"))
    server.on("tlsClientError", lambda err, sock: log(f"tlsClientError {err.code}"))
    try:
        client = await _client(port, certs)
        await asyncio.wait_for(seen, TIMEOUT)
    finally:
        server.close()
    return server_log, client


@pytest.mark.parametrize("version", ["TLSv1.2", "TLSv1.3"])
@pytest.mark.parametrize("server", ["node", "nodetls"])
async def test_a_server_rejecting_a_self_signed_client_certificate(server, version, certs,
                                                                   node_bin):
    run = _on_node if server == "node" else _on_nodetls
    assert await run(certs, version) == EXPECTED[server, version]
