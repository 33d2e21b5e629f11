"""A TLS 1.2 renegotiation after ``SNICallback`` chose a context: an accepted difference from Node.

node v20's servername callback (``SelectSNIContextCallback``) finds nothing to do in a
connection's first handshake (it runs before ``SNICallback`` answers), but runs again on each
renegotiation's ClientHello, finds the SNI context already chosen and makes it the connection's
whole ``SSL_CTX`` (``SSL_set_SSL_CTX``).  A renegotiated handshake thus takes from the SNI
context what a first handshake takes from the default one.  Checked with node v20 (OpenSSL
3.0.19), a Node client renegotiating:

* its cipher list (the first handshake used the default context's);
* its sigalgs (an SNI context whose sigalgs do not fit its key fails the renegotiation:
  ``ERR_SSL_NO_SHARED_CIPHER`` on the server, a handshake_failure alert for the client);
* the key of the ticket issued then (Node's ticket callback reads the keys of
  ``SSL_get_SSL_CTX``): that session does not resume on a new connection unless the SNI context
  has the server's ticket keys;
* its key log callback (none): the server emits no ``'keylog'`` for the renegotiation.

Not changed there (the same in Node and nodetls): the curves, the protocol range, the options,
ALPN (none is selected on a renegotiation, either way), and a client's abbreviated
renegotiation (it resumes the current session: no cipher is chosen).

nodetls only lends the SNI context's certificate, key, chain, verify store and client CA list,
in every handshake: its renegotiations keep the default context's cipher list, sigalgs, ticket
keys and key log (docs/tls.md).  Each test runs the scenario against both servers.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import pytest
from tlsutil import TIMEOUT, listen

import nodetls as tls
from helpers.peers import run_node, spawn_node

SNI_NAME = "other.example"
DEFAULT_CIPHER = "ECDHE-ECDSA-AES128-GCM-SHA256"  # what the client prefers, both contexts allow
SNI_CIPHERS = "ECDHE-ECDSA-AES256-GCM-SHA384"

# A Node client: the handshake, one renegotiation, then the session it got last offered again.
CLIENT_JS = r"""
const tls = require('tls');
const port = +process.argv[2];
const base = {port, host: '127.0.0.1', servername: 'other.example', rejectUnauthorized: false,
              maxVersion: 'TLSv1.2'};
const out = {};
const sessions = [];
// (node v20's client emits 'error' for a failed renegotiation but keeps the socket open)
const report = () => { console.log(JSON.stringify(out)); process.exit(0); };
const s = tls.connect(base);
s.on('session', (d) => sessions.push(d));
s.once('secureConnect', () => {
  out.first = s.getCipher().name;
  s.renegotiate({rejectUnauthorized: false}, (err) => {
    out.renegotiated = s.getCipher().name;
    s.end('bye');
  });
});
s.on('error', (e) => { out.error = e.code; report(); });
s.on('data', () => {});
s.on('close', () => {
  const s2 = tls.connect({...base, session: sessions[sessions.length - 1]});
  s2.on('secureConnect', () => { out.resumed = s2.isSessionReused(); s2.end(); });
  s2.on('data', () => {});
  s2.on('error', (e) => { out.resume_error = e.code; report(); });
  s2.on('close', report);
});
"""

# The same server in node v20: argv = key, cert, SNI key, SNI cert, SNI context options (JSON).
SERVER_JS = r"""
const tls = require('tls'); const fs = require('fs');
const [key, cert, sniKey, sniCert, sniOpts] = process.argv.slice(2);
const sniContext = tls.createSecureContext({key: fs.readFileSync(sniKey),
  cert: fs.readFileSync(sniCert), ticketKeys: require('crypto').randomBytes(48),
  ...JSON.parse(sniOpts)});
const server = tls.createServer({key: fs.readFileSync(key), cert: fs.readFileSync(cert),
  maxVersion: 'TLSv1.2', SNICallback: (name, cb) => cb(null, sniContext)}, (s) => {
  s.on('data', () => {});
  s.on('end', () => s.end());
  s.on('error', (e) => console.log('SOCKET_ERROR', e.code));
});
server.on('keylog', () => console.log('KEYLOG'));
server.listen(0, '127.0.0.1', () => console.log('LISTENING', server.address().port));
"""


async def _client(port: int) -> dict[str, Any]:
    res = await run_node(CLIENT_JS, str(port), timeout=TIMEOUT)
    assert res.rc == 0, res.stderr
    out: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


async def _on_node(certs: Any, sni: Any, sni_options: dict[str, Any]) -> dict[str, Any]:
    async with spawn_node(SERVER_JS, certs.server.key_path, certs.server.chain_path,
                          sni.key_path, sni.cert_path, json.dumps(sni_options)) as peer:
        assert peer.port is not None
        out = await _client(peer.port)
        errors = [line.split()[1] for line in peer.stdout.splitlines()
                  if line.startswith("SOCKET_ERROR")]
        out["server_errors"] = errors
        out["keylog_lines"] = peer.stdout.count("KEYLOG")
    return out


async def _on_nodetls(certs: Any, sni: Any, sni_options: dict[str, Any]) -> dict[str, Any]:
    sni_context = tls.create_secure_context({"key": sni.key_pem, "cert": sni.cert_pem,
                                             "ticket_keys": os.urandom(48), **sni_options})
    errors: list[Any] = []
    keylog: list[bytes] = []

    def on_secure(sock: tls.TLSSocket) -> None:
        sock.on("data", lambda chunk: None)
        sock.on("end", sock.end)
        sock.on("error", lambda err: errors.append(getattr(err, "code", None)))

    server, port = await listen({
        "key": certs.server.key_pem, "cert": certs.server.chain_pem, "max_version": "TLSv1.2",
        # (Node allows a client's renegotiation by default; nodetls does when asked: docs/tls.md)
        "allow_client_renegotiation": True,
        "sni_callback": lambda name, cb: cb(None, sni_context)}, on_secure)
    server.on("keylog", lambda line, sock: keylog.append(line))
    try:
        out = await _client(port)
        await asyncio.sleep(0)
    finally:
        server.close()
    out["server_errors"] = errors
    out["keylog_lines"] = len(keylog)
    return out


SERVERS = {"node": _on_node, "nodetls": _on_nodetls}

# What the renegotiated handshake takes from the SNI context (ciphers) in each.  The server's
# 'keylog' lines (TLS 1.2: one per handshake): the first handshake, the renegotiation, the
# second connection.
CIPHERS_EXPECTED = {
    # node v20: the SNI context's cipher list, ticket keys (the session does not resume on a
    # new connection, which starts on the default context) and key log callback (none).
    "node": {"first": DEFAULT_CIPHER, "renegotiated": SNI_CIPHERS, "resumed": False,
             "server_errors": [], "keylog_lines": 1 + 0 + 1},
    # nodetls: the default context's, as in the first handshake.
    "nodetls": {"first": DEFAULT_CIPHER, "renegotiated": DEFAULT_CIPHER, "resumed": True,
                "server_errors": [], "keylog_lines": 1 + 1 + 1},
}


@pytest.mark.parametrize("server", ["node", "nodetls"])
async def test_a_renegotiation_after_sni_takes_the_ciphers_of(server, certs, node_bin):
    sni = certs.pki.make_leaf(SNI_NAME, [f"DNS:{SNI_NAME}"], name="sni-reneg")
    got = await SERVERS[server](certs, sni, {"ciphers": SNI_CIPHERS})
    assert got == CIPHERS_EXPECTED[server]


SIGALGS_EXPECTED = {
    # node v20: the SNI context's sigalgs (RSA only, for an EC key): no shared cipher.
    "node": {"first": DEFAULT_CIPHER, "error": "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE",
             "server_errors": ["ERR_SSL_NO_SHARED_CIPHER"]},
    # nodetls: the default context's sigalgs; the renegotiation succeeds.
    "nodetls": {"first": DEFAULT_CIPHER, "renegotiated": DEFAULT_CIPHER, "resumed": True,
                "server_errors": []},
}


@pytest.mark.parametrize("server", ["node", "nodetls"])
async def test_a_renegotiation_after_sni_takes_the_sigalgs_of(server, certs, node_bin):
    sni = certs.pki.make_leaf(SNI_NAME, [f"DNS:{SNI_NAME}"], name="sni-reneg-sigalgs")
    got = await SERVERS[server](certs, sni, {"sigalgs": "RSA+SHA256"})
    got.pop("keylog_lines")
    assert got == SIGALGS_EXPECTED[server]
