"""Session resumption across implementations: Node, openssl s_client, nodetls (issue: tls rest)."""

from __future__ import annotations

import asyncio
import json

import pytest
from tests.tls.tlsutil import shut

import nodetls as tls
from helpers.peers import run_node, run_openssl_client, spawn_node
from nodetls._openssl import constants as C

pytestmark = pytest.mark.interop
T = 20.0

NODE_RESUMING_CLIENT = r"""
const tls = require('tls'); const fs = require('fs');
const [port, ca, ver] = process.argv.slice(2);
const base = { port: +port, host: '127.0.0.1', ca: fs.readFileSync(ca), servername: 'localhost',
  minVersion: ver, maxVersion: ver };
function once(session) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ ...base, session });
    let last = null;
    s.on('session', (sess) => { last = sess; });
    s.on('secureConnect', () => { s.write('x'); });
    s.on('data', () => { setTimeout(() => { resolve({ reused: s.isSessionReused(),
      session: last }); s.end(); }, 50); });
    s.on('error', reject);
  });
}
(async () => {
  const a = await once(undefined);
  const b = await once(a.session);
  console.log(JSON.stringify({ first: a.reused, second: b.reused, got: !!a.session }));
})().catch(e => { console.log(JSON.stringify({ error: e.code || String(e) })); process.exit(1); });
"""

NODE_SERVER = r"""
const tls = require('tls'); const fs = require('fs');
const [cert, key, ver] = process.argv.slice(2);
const srv = tls.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key),
  minVersion: ver, maxVersion: ver }, s => { s.on('data', d => s.write(d)); });
srv.listen(0, '127.0.0.1', () => console.log('LISTENING', srv.address().port));
"""


async def echo_server(options):
    server = tls.create_server(options, lambda s: s.on("data", s.write))
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, T)
    return server, server.address()["port"]


@pytest.mark.parametrize("extra", [{}, {"secure_options": C.SSL_OP_NO_TICKET}],
                         ids=["tickets", "session-ids"])
async def test_node_client_resumes_nodetls_session(certs, node_bin, tls_version, extra):
    if extra and tls_version == "TLSv1.3":
        # stateful TLS 1.3 tickets resume only through the external cache: use it
        pass
    server, port = await echo_server({**certs.server.options, "min_version": tls_version,
                                      "max_version": tls_version, **extra})
    store = {}
    if extra:
        server.on("newSession", lambda sid, data, cb: (store.__setitem__(sid, data), cb()))
        server.on("resumeSession", lambda sid, cb: cb(None, store.get(sid)))
    try:
        rc, out, err = await run_node(NODE_RESUMING_CLIENT, str(port), str(certs.root.cert_path),
                                      tls_version, timeout=T)
        assert rc == 0, out + err
        assert json.loads(out.strip().splitlines()[-1]) == {"first": False, "second": True,
                                                            "got": True}
    finally:
        await shut(server, timeout=T)


async def test_nodetls_client_resumes_node_session(certs, node_bin, tls_version):
    async with spawn_node(NODE_SERVER, str(certs.server.chain_path), str(certs.server.key_path),
                          tls_version, timeout=T) as srv:
        opts = {"host": "127.0.0.1", "ca": certs.root.cert_pem, "servername": "localhost"}
        sessions = []
        first = asyncio.get_running_loop().create_future()

        def on_session(session: bytes) -> None:
            sessions.append(session)
            if not first.done():
                first.set_result(None)

        sock = tls.connect(srv.port, opts)
        sock.on("session", on_session)
        await asyncio.wait_for(sock, T)
        sock.write(b"x")  # Node sends TLS 1.3 tickets only once it writes
        await asyncio.wait_for(first, T)
        sock.end()
        again = await asyncio.wait_for(tls.connect(srv.port, {**opts, "session": sessions[-1]}),
                                       T)
        assert again.is_session_reused() is True
        # (the first connection's close, after its end, may still be on its way: both closed)
        sock.destroy()
        again.destroy()
        await asyncio.wait_for(asyncio.gather(sock.wait_closed(), again.wait_closed()), T)


async def test_openssl_sess_out_sess_in(certs, tls_version, tmp_path):
    server = tls.create_server({**certs.server.options, "min_version": tls_version,
                                "max_version": tls_version}, lambda s: s.end(b"bye\n"))
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, T)
    port = server.address()["port"]
    try:
        sess = tmp_path / "sess.pem"
        args = ["-CAfile", certs.root.cert_path, "-servername", "localhost", "-ign_eof"]
        first = await run_openssl_client([*args, "-sess_out", sess], stdin=b"", port=port,
                                         timeout=T)
        assert "New, TLSv1" in first.stdout
        # the server ends the connection; the file holds the session (TLS 1.3: the ticket)
        assert sess.exists()
        second = await run_openssl_client([*args, "-sess_in", sess], stdin=b"", port=port,
                                          timeout=T)
        assert "Reused, TLSv1" in second.stdout, second.stdout
    finally:
        await shut(server, timeout=T)
