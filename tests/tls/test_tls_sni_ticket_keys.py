"""Which context's ticket keys serve a connection an SNI callback moved to another context.

Node v20 (checked by running the scenario below in ``node``): the *server's* keys, not the keys of
the context ``SNICallback`` returned.  A session resumes although the SNI context has keys of its
own, and replacing the server's keys (``server.setTicketKeys``) is what makes it stop resuming.
OpenSSL calls the ticket callback of the connection's session context, and Node's callback reads
the keys of the context the connection started on.  nodetls's C callback (compiled binding) and
its Python callback (ABI mode, run in a subprocess with ``NODETLS_PURE=1``) must both agree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tlsutil import TIMEOUT, listen, wait

import nodetls as tls
from helpers.peers import run_node
from nodetls.events import once

VERSIONS = ["TLSv1.2", "TLSv1.3"]
# first connection, the same session offered again, then again after server.setTicketKeys(new)
NODE_V20 = {"first": False, "second": True, "after_server_keys_changed": False}


async def scenario(key: bytes, cert: bytes, ca: bytes, version: str,
                   use_sni: bool) -> dict[str, bool]:
    """Server keys A; ``SNICallback`` (when ``use_sni``) answers a context with keys B."""
    sni_context = tls.create_secure_context({"key": key, "cert": cert,
                                             "ticket_keys": os.urandom(48)})
    opts: dict[str, Any] = {"key": key, "cert": cert, "ticket_keys": os.urandom(48),
                            "min_version": version, "max_version": version}
    if use_sni:
        opts["sni_callback"] = lambda name, cb: cb(None, sni_context)
    server, port = await listen(opts, lambda sock: sock.end(b"x"))
    try:
        async def connect(session: bytes | None) -> tuple[bool, bytes | None]:
            copts: dict[str, Any] = {"ca": [ca], "servername": "localhost"}
            if session is not None:
                copts["session"] = session
            sock = tls.connect(port, "127.0.0.1", copts)
            sessions: list[bytes] = []
            sock.on("session", sessions.append)
            sock.on("data", lambda chunk: None)
            closed = once(sock, "close")
            await wait(sock)
            reused = sock.is_session_reused()
            await wait(closed)
            return reused, sessions[0] if sessions else None

        first, s1 = await connect(None)
        second, s2 = await connect(s1)
        server.set_ticket_keys(os.urandom(48))
        third, _ = await connect(s2 or s1)
    finally:
        server.close()
    return {"first": first, "second": second, "after_server_keys_changed": third}


@pytest.mark.parametrize("use_sni", [False, True], ids=["no-sni", "sni-context"])
@pytest.mark.parametrize("version", VERSIONS)
async def test_the_servers_keys_serve_a_connection_moved_by_sni(certs, version, use_sni):
    s = certs.server
    got = await scenario(s.key_pem, s.chain_pem, s.ca_pem, version, use_sni)
    assert got == NODE_V20


_PURE = """
import asyncio, json, sys
sys.path[:0] = sys.argv[1:3]
import test_tls_sni_ticket_keys as t
from pathlib import Path
from nodetls import _openssl
key, cert, ca = (Path(p).read_bytes() for p in sys.argv[3:6])
out = {v: asyncio.run(t.scenario(key, cert, ca, v, True)) for v in t.VERSIONS}
print(json.dumps({"binding": _openssl.BINDING, "results": out}))
"""


def test_the_python_callback_agrees(certs):
    """ABI mode (the Python ticket callback) gives Node's answers too."""
    here = Path(__file__).parent
    s = certs.server
    env = {**os.environ, "NODETLS_PURE": "1"}
    res = subprocess.run([sys.executable, "-c", _PURE, str(here), str(here.parent),
                          str(s.key_path), str(s.chain_path), str(s.ca_path)],
                         capture_output=True, text=True, env=env, timeout=TIMEOUT * 4)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["binding"] == "abi"
    assert out["results"] == {v: NODE_V20 for v in VERSIONS}


NODE_SCENARIO = r"""
const tls = require('tls'); const fs = require('fs'); const crypto = require('crypto');
const [keyPath, certPath, caPath, version, sni] = process.argv.slice(2);
const key = fs.readFileSync(keyPath), cert = fs.readFileSync(certPath), ca = fs.readFileSync(caPath);
const sniContext = tls.createSecureContext({ key, cert, ticketKeys: crypto.randomBytes(48) });
const server = tls.createServer({ key, cert, ticketKeys: crypto.randomBytes(48),
  minVersion: version, maxVersion: version,
  SNICallback: sni === '1' ? (name, cb) => cb(null, sniContext) : undefined },
  (s) => s.end('x'));
function connect(session) {
  return new Promise((resolve, reject) => {
    const c = tls.connect({ port: server.address().port, host: '127.0.0.1', ca,
      servername: 'localhost', session });
    let reused = null, sess = null;
    c.on('secureConnect', () => { reused = c.isSessionReused(); });
    c.on('session', (s) => { sess = sess || s; });
    c.on('data', () => {});
    c.on('error', reject);
    c.on('close', () => resolve([reused, sess]));
  });
}
server.listen(0, '127.0.0.1', async () => {
  const [first, s1] = await connect();
  const [second, s2] = await connect(s1);
  server.setTicketKeys(crypto.randomBytes(48));
  const [third] = await connect(s2 || s1);
  console.log(JSON.stringify({ first, second, after_server_keys_changed: third }));
  server.close();
});
"""


@pytest.mark.interop
@pytest.mark.parametrize("use_sni", [False, True], ids=["no-sni", "sni-context"])
@pytest.mark.parametrize("version", VERSIONS)
async def test_node_does_the_same(certs, node_bin, version, use_sni):
    s = certs.server
    rc, out, err = await run_node(NODE_SCENARIO, s.key_path, s.chain_path, s.ca_path, version,
                                  "1" if use_sni else "0", timeout=30)
    assert rc == 0, out + err
    assert json.loads(out.strip().splitlines()[-1]) == NODE_V20
