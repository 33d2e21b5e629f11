"""A TLS 1.2 client's write waiting for the renegotiation it started, when the server's
application data arrives before its ServerHello: the write fails with ``EPROTO`` ("unexpected
record"), as node v20's.

OpenSSL lets only ``SSL_read`` take application data in the middle of a renegotiation; a waiting
write's ``SSL_write`` drives the handshake and meets the record: fatal. Node's TLSWrap cycles
ClearIn (the waiting ``SSL_write``) before ClearOut, so with the server streaming its client's
write fails: the write's callback gets ``write EPROTO ...unexpected record``, then ``'error'``
with the same error (the socket is destroyed; the server sees a FIN).

The scenario is made deterministic with a proxy that holds the server's records: the server
writes two 16 KiB records (before it sees the ClientHello); the client renegotiates, gets the
first record (taken by ``SSL_read`` in the middle of the handshake), writes, and only then gets
the second. When an ``SSL_read`` takes data in the middle of a renegotiation, OpenSSL remembers
it (``in_read_app_data``) until the next ``SSL_read`` that does not: Node's ClearOut always ends
with a failing ``SSL_read`` (which resets it), nodetls's read stops at an empty read BIO without
that call, so its ``SSL_write`` then met the record as allowed application data and failed with
an empty error queue (``SSL_ERROR_SYSCALL``): the socket failed with ``ECONNRESET`` "socket hang
up" and the waiting write's callback reported success for data never sent. Now the engine
reports it as OpenSSL's "unexpected record", as Node's ``SSL_write`` meets it.

A streaming client whose writes are all sent before it renegotiates (node v20's usually are:
its writes complete as they reach the kernel) never meets this; one still writing does, in Node
too.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from holding_proxy import HoldingProxy, records
from tlsutil import run_on

import nodetls as tls
from helpers.peers import run_node, spawn_node

TIMEOUT = 10.0

SERVER_JS = r"""
const tls = require('tls'); const fs = require('fs');
const [key, cert] = process.argv.slice(2);
const events = [];
const srv = tls.createServer({key: fs.readFileSync(key), cert: fs.readFileSync(cert),
                              maxVersion: 'TLSv1.2'}, (s) => {
  // Two whole records, before the client's ClientHello can arrive (its first data comes first).
  s.once('data', () => { s.write(Buffer.alloc(16384, 0x61)); s.write(Buffer.alloc(16384, 0x62)); });
  s.on('error', (e) => events.push('error ' + e.code));
  s.on('close', () => { console.log('SERVER ' + JSON.stringify(events)); srv.close(); });
});
srv.listen(0, '127.0.0.1', () => console.log('LISTENING', srv.address().port));
"""

# The same client in node, with the same holding proxy in its own process.
CLIENT_JS = r"""
const net = require('net'); const tls = require('tls'); const fs = require('fs');
const port = +process.argv[2], ca = fs.readFileSync(process.argv[3]);
const ev = [];
function recs(buf) { const out = []; let off = 0;
  while (buf.length - off >= 5) { const n = buf.readUInt16BE(off + 3); if (buf.length - off < 5 + n) break;
    out.push([buf[off], 5 + n]); off += 5 + n; } return out; }
let hold = false, held = Buffer.alloc(0), toClient, up = Buffer.alloc(0), secure = false, check = null;
const proxy = net.createServer((cs) => { const ss = net.connect(port, '127.0.0.1'); toClient = cs;
  cs.on('data', (d) => { ss.write(d); if (secure) { up = Buffer.concat([up, d]); if (check) check(); } });
  ss.on('data', (d) => { if (hold) { held = Buffer.concat([held, d]); if (check) check(); } else cs.write(d); });
  cs.on('error', () => {}); ss.on('error', () => {});
  cs.on('close', () => ss.destroy()); ss.on('close', () => cs.end());
});
const until = (pred) => new Promise((res) => { check = () => { if (pred()) { check = null; res(); } }; check(); });
proxy.listen(0, '127.0.0.1', () => {
  const s = tls.connect({port: proxy.address().port, host: '127.0.0.1', ca, servername: 'localhost',
                         maxVersion: 'TLSv1.2'});
  s.on('secureConnect', async () => {
    secure = true; hold = true;
    s.write('go');
    await until(() => recs(held).filter((r) => r[0] === 23).length >= 2);
    ev.push('renegotiate ' + s.renegotiate({}, (e) => ev.push('renegotiated ' + (e ? e.code : null))));
    await until(() => recs(up).some((r) => r[0] === 22));  // the ClientHello went out
    toClient.write(held.subarray(0, recs(held)[0][1]));
  });
  s.on('data', (d) => {
    ev.push('data ' + d.length);
    s.write('x', (e) => ev.push('write cb ' + (e ? e.code + ' ' + e.message : null)));
    setImmediate(() => { const [a, b] = recs(held); toClient.write(held.subarray(a[1], a[1] + b[1])); });
  });
  s.on('error', (e) => ev.push('error ' + e.code + ' ' + e.message));
  s.on('close', () => { console.log(JSON.stringify(ev)); proxy.close(); });
  setTimeout(() => { ev.push('timeout'); s.destroy(); }, 8000).unref();
});
"""


async def _nodetls_client(port: int, ca: str) -> list[str]:
    proxy = HoldingProxy(port)
    pport = await proxy.start()
    loop = asyncio.get_running_loop()
    ev: list[str] = []
    secure: asyncio.Future[None] = loop.create_future()
    got: asyncio.Future[None] = loop.create_future()
    closed: asyncio.Future[None] = loop.create_future()
    s = tls.connect({"port": pport, "host": "127.0.0.1", "ca": ca, "servername": "localhost",
                     "max_version": "TLSv1.2"})

    def on_write(err: Any = None) -> None:
        ev.append(f"write cb {err.code} {err}" if err is not None else "write cb None")

    def on_data(chunk: bytes) -> None:
        ev.append(f"data {len(chunk)}")
        s.write(b"x", on_write)
        got.done() or got.set_result(None)

    s.on("secureConnect", lambda: secure.set_result(None))
    s.on("data", on_data)
    s.on("error", lambda e: ev.append(f"error {e.code} {e}"))
    s.on("close", lambda *_: closed.done() or closed.set_result(None))
    try:
        await asyncio.wait_for(secure, TIMEOUT)
        proxy.secure = proxy.hold = True
        s.write(b"go")
        await proxy.until(lambda: sum(t == 23 for t, _ in records(proxy.held)) >= 2)
        ev.append(f"renegotiate {str(s.renegotiate({}, lambda e=None: ev.append(f'renegotiated {e}'))).lower()}")
        await proxy.until(lambda: any(t == 22 for t, _ in records(proxy.up)))  # the ClientHello
        (_, a), (_, b) = records(proxy.held)[:2]
        proxy.send(proxy.held[:a])
        await asyncio.wait_for(got, TIMEOUT)
        await asyncio.sleep(0)  # (Node's setImmediate: the write has reached the TLS layer)
        proxy.send(proxy.held[a:a + b])
        await asyncio.wait_for(closed, TIMEOUT)
    finally:
        s.destroy()
        await proxy.close()
    return ev


def _normalised(events: list[str]) -> list[str]:
    # Node's message carries OpenSSL's error line with its file and function
    # ("...:error:0A0000F5:SSL routines:ssl3_read_bytes:unexpected record:<file>:<line>:");
    # nodetls's the one-line form ("error:0A0000F5:SSL routines::unexpected record").
    out = []
    for e in events:
        if "0A0000F5" in e and "unexpected record" in e:
            e = e[:e.rindex(" EPROTO ")] + " EPROTO <unexpected record>"
        out.append(e)
    return out


EXPECTED = ["renegotiate true", "data 16384",
            "write cb EPROTO write EPROTO <unexpected record>",
            "error EPROTO write EPROTO <unexpected record>"]


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_write_waiting_for_renegotiation_meets_server_data_fails_as_nodes(
        loop: str, certs: Any, node_bin: str) -> None:
    async def main() -> tuple[list[str], list[str], str, str]:
        key, cert, ca = (certs.server_direct.key_path, certs.server_direct.cert_path,
                         certs.root.cert_path)
        async with spawn_node(SERVER_JS, key, cert, timeout=TIMEOUT) as srv:
            assert srv.port is not None
            res = await run_node(CLIENT_JS, str(srv.port), str(ca), timeout=TIMEOUT)
            assert res.rc == 0, res.stderr
            node_events = json.loads(res.stdout.strip().splitlines()[-1])
            await srv.wait_for_output(r"SERVER .*\n", timeout=TIMEOUT)
            node_server = srv.stdout.split("SERVER ", 1)[1].splitlines()[0]
        async with spawn_node(SERVER_JS, key, cert, timeout=TIMEOUT) as srv:
            assert srv.port is not None
            ours = await _nodetls_client(srv.port, certs.root.cert_pem)
            await srv.wait_for_output(r"SERVER .*\n", timeout=TIMEOUT)
            our_server = srv.stdout.split("SERVER ", 1)[1].splitlines()[0]
        return node_events, ours, node_server, our_server

    node_events, ours, node_server, our_server = run_on(loop, main)
    assert _normalised(node_events) == EXPECTED  # node v20's own client
    assert _normalised(ours) == EXPECTED
    # The server sees no TLS error (the client's alert is never sent): at most a reset, when the
    # proxy's close meets bytes still in flight to it (timing, with either client).
    for server_events in (node_server, our_server):
        assert set(json.loads(server_events)) <= {"error ECONNRESET"}, server_events
