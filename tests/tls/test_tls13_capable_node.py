"""A server's TLS 1.3 choice before it looks at its certificates, as Node v20's.

Node's TLSWrap gives every SSL a certificate callback (``SSLCertCallback``), and OpenSSL 3.0's
server takes any certificate callback as "TLS 1.3 can work" (``is_tls13_capable``) instead of
checking its certificates first.  So a server whose only certificate is an EC one on a curve no
TLS 1.3 signature algorithm covers (secp256k1) answers a TLS 1.3 client with TLS 1.3 and fails
with ``ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM`` (the client gets a handshake_failure alert);
without the callback OpenSSL would fall back to TLS 1.2 and fail differently
(``ERR_SSL_NO_SHARED_CIPHER``).  Every SecureContext has such a callback (``_init``); the
interop test runs the scenario in ``node``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from tlsutil import listen, wait

import nodetls as tls
from helpers.peers import run_node


@pytest.fixture(scope="module")
def k1(pki: Any) -> Any:
    return pki.make_leaf("localhost", curve=ec.SECP256K1(), serial=0x0103)


async def nodetls_scenario(leaf: Any, client_max: str = "TLSv1.3") -> dict[str, str]:
    """A nodetls server with ``leaf``, a nodetls client (certificates not checked): the codes
    of the server's 'tlsClientError' and of the client's 'error' (or the protocol it got)."""
    loop = asyncio.get_running_loop()
    server_error: asyncio.Future[str] = loop.create_future()
    client_done: asyncio.Future[str] = loop.create_future()
    server, port = await listen({"key": leaf.key_pem, "cert": leaf.chain_pem},
                                lambda s: s.end(b"hi"))
    server.on("tlsClientError",
              lambda e, s: server_error.done() or server_error.set_result(str(e.code)))
    try:
        sock = tls.connect(port, {"host": "127.0.0.1", "reject_unauthorized": False,
                                  "max_version": client_max})
        sock.on("secureConnect", lambda: client_done.done()
                or client_done.set_result("connected " + str(sock.get_protocol())))
        sock.on("error", lambda e: client_done.done() or client_done.set_result(str(e.code)))
        result = {"client": await wait(client_done)}
        sock.destroy()
        if not result["client"].startswith("connected"):
            result["server"] = await wait(server_error)
        return result
    finally:
        server.close()


async def test_an_ec_certificate_no_tls13_algorithm_signs_for_fails_as_in_node(k1):
    assert await nodetls_scenario(k1) == {
        "client": "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE",
        "server": "ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM",
    }


async def test_a_p256_certificate_still_gets_tls13(certs):
    assert await nodetls_scenario(certs.server) == {"client": "connected TLSv1.3"}


NODE_SCENARIO = r"""
const tls = require('tls'); const fs = require('fs');
const [key, cert] = process.argv.slice(2).map((f) => fs.readFileSync(f));
const out = {};
const srv = tls.createServer({key, cert}, (s) => s.end('hi'));
srv.on('tlsClientError', (e) => { out.server = e.code; done(); });
function done() {
  if (out.client && (out.server || out.client.startsWith('connected'))) {
    console.log(JSON.stringify(out)); srv.close();
  }
}
srv.listen(0, '127.0.0.1', () => {
  const c = tls.connect({port: srv.address().port, host: '127.0.0.1',
                         rejectUnauthorized: false});
  c.on('secureConnect', () => { out.client = 'connected ' + c.getProtocol(); c.destroy(); done(); });
  c.on('error', (e) => { out.client = e.code; done(); });
});
"""


@pytest.mark.interop
async def test_node_fails_the_same_way(k1, node_bin):
    rc, out, err = await run_node(NODE_SCENARIO, k1.key_path, k1.chain_path, timeout=30)
    assert rc == 0, out + err
    assert json.loads(out.strip().splitlines()[-1]) == await nodetls_scenario(k1)
