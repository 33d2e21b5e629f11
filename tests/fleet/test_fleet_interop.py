"""Interop across a fleet: a Node client and ``openssl s_client -sess_out/-sess_in`` take a session
from server A and resume it on server B (two processes sharing one real redis-server)."""

from __future__ import annotations

import json

import pytest

from helpers.peers import run_node, run_openssl_client

from .test_fleet_processes import MODES, two_servers

pytestmark = [pytest.mark.interop, pytest.mark.slow]
T = 20.0

NODE_HOPPING_CLIENT = r"""
const tls = require('tls'); const fs = require('fs');
const [portA, portB, ca, ver] = process.argv.slice(2);
function once(port, session) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ port: +port, host: '127.0.0.1', ca: fs.readFileSync(ca),
      servername: 'localhost', minVersion: ver, maxVersion: ver, session });
    let last = null;
    s.on('session', (sess) => { last = sess; });
    s.on('data', () => {});
    s.on('end', () => resolve({ reused: s.isSessionReused(), session: last }));
    s.on('error', reject);
  });
}
(async () => {
  const a = await once(portA);
  const b = await once(portB, a.session);
  console.log(JSON.stringify({ first: a.reused, second: b.reused, got: !!a.session }));
})().catch(e => { console.log(JSON.stringify({ error: e.code || String(e) })); process.exit(1); });
"""

INTEROP_MODES = ["tls12-ids", "tls13-stateful", "tls13-stateless"]


@pytest.mark.parametrize("mode", INTEROP_MODES)
async def test_node_client_resumes_on_the_other_server(certs, node_bin, redis_server, mode):
    cfg = {**MODES[mode], "redis": redis_server.url}
    async with two_servers(certs, **cfg) as (a, b):
        res = await run_node(NODE_HOPPING_CLIENT, str(a.port), str(b.port),
                             str(certs.root.cert_path), cfg["version"], timeout=T)
        assert res.rc == 0, res
        out = json.loads(res.stdout.strip().splitlines()[-1])
        assert out == {"first": False, "second": True, "got": True}, (out, b.stdout)


@pytest.mark.parametrize("mode", INTEROP_MODES)
async def test_openssl_sess_out_on_a_sess_in_on_b(certs, openssl_bin, redis_server, mode,
                                                   tmp_path):
    cfg = {**MODES[mode], "redis": redis_server.url}
    flag = "-tls1_3" if cfg["version"] == "TLSv1.3" else "-tls1_2"
    sess = tmp_path / "sess.pem"
    args = ["-CAfile", str(certs.root.cert_path), "-servername", "localhost", flag, "-ign_eof"]
    async with two_servers(certs, **cfg) as (a, b):
        first = await run_openssl_client([*args, "-sess_out", sess], stdin=b"", port=a.port,
                                         timeout=T)
        assert "New, TLSv1" in first.stdout and sess.exists()
        second = await run_openssl_client([*args, "-sess_in", sess], stdin=b"", port=b.port,
                                          timeout=T)
        assert "Reused, TLSv1" in second.stdout, second.stdout
        assert " True" in second.stdout  # server B says it resumed
