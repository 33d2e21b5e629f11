"""How many TLS 1.3 tickets a server sends: two after a full handshake, none after a resumption.

Node's server (its ``TicketCompatibilityCallback`` answers 1 for its current key) sends no new
ticket on a resumed TLS 1.3 handshake, and the client keeps offering the ticket it has.  A Node
client counts the ``'session'`` events per connection against Node's own server and against a
nodetls server, and the two must agree.
"""

from __future__ import annotations

import json

import pytest
from tlsutil import listen

from helpers.peers import run_node

NODE_TICKET_COUNTS = r"""
const tls = require('tls'), fs = require('fs');
const [where, ca, key, cert] = process.argv.slice(2);
async function run(port) {
  const out = [];
  let session;
  for (let i = 0; i < 3; i++) {
    out.push(await new Promise((resolve, reject) => {
      const rec = {tickets: 0, reused: null};
      const c = tls.connect({port, host: '127.0.0.1', servername: 'localhost',
                             ca: fs.readFileSync(ca), session, minVersion: 'TLSv1.3'});
      c.on('session', (s) => { rec.tickets++; session = s; });
      c.on('secureConnect', () => { rec.reused = c.isSessionReused(); });
      c.on('data', () => {});
      c.on('error', reject);
      c.on('close', () => resolve(rec));
    }));
  }
  return out;
}
if (where === 'node') {
  const srv = tls.createServer({key: fs.readFileSync(key), cert: fs.readFileSync(cert)},
                               (s) => s.end('x'));
  srv.listen(0, '127.0.0.1', async () => {
    console.log(JSON.stringify(await run(srv.address().port)));
    srv.close();
  });
} else {
  run(Number(where)).then((r) => console.log(JSON.stringify(r)));
}
"""

EXPECTED = [{"tickets": 2, "reused": False}, {"tickets": 0, "reused": True},
            {"tickets": 0, "reused": True}]


@pytest.mark.interop
async def test_node_server_sends_no_ticket_on_resumption(certs, node_bin):
    rc, out, err = await run_node(NODE_TICKET_COUNTS, "node", certs.root.cert_path,
                                  certs.server.key_path, certs.server.chain_path, timeout=30)
    assert rc == 0, err
    assert json.loads(out) == EXPECTED


@pytest.mark.interop
@pytest.mark.parametrize("ticket_keys", [False, True])
async def test_nodetls_server_sends_tickets_as_node(certs, node_bin, ticket_keys):
    """Default keys and explicit ``ticketKeys`` alike: 2 tickets, then 0 per resumption."""
    options = dict(certs.server.options)
    if ticket_keys:
        options["ticket_keys"] = bytes(range(48))
    server, port = await listen(options, lambda s: s.end(b"x"))
    try:
        rc, out, err = await run_node(NODE_TICKET_COUNTS, str(port), certs.root.cert_path,
                                      timeout=30)
        assert rc == 0, err
        assert json.loads(out) == EXPECTED
    finally:
        server.close()
