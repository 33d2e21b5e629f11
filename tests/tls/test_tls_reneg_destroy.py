"""A TLS 1.2 client's write waiting for the renegotiation it started, when the connection dies
of something other than TLS: what the write's callback, ``'error'``, ``'close'`` and
``'finish'`` see, as node v20's client in the same scenario.

The client renegotiates; a proxy holds every byte the server sends from then on, so the
renegotiation waits for the server's answer for as long as the test wants (no timing). The
client writes twice: the first write reaches the TLS layer and waits there (``SSL_write`` needs
the handshake to finish first), the second waits in the Writable's buffer behind it. Then:

* ``reset``: the proxy resets the client's connection (``SO_LINGER`` 0), after the client's
  ``end()``: ``'error'`` ``ECONNRESET`` "read ECONNRESET", the waiting write's callback with no
  error, the buffered one's with the socket's error, ``'close'`` true, no ``'finish'``;
* ``fin``: the proxy ends the client's connection: ``'end'``; the socket (not half-open) ends
  its side, which waits for the waiting write, which waits for the renegotiation: the socket
  stays open (checked after a short while), both writes pending, until destroyed;
* ``destroy``: the client's ``destroy()`` after its ``end()``: the waiting write's callback
  with no error, the buffered one's ``ERR_STREAM_DESTROYED``, ``'close'`` false, no ``'finish'``;
* ``destroy_error``: ``destroy(err)``: ``'error'`` ``err``, the waiting write's callback with
  no error, the buffered one's with ``err``, ``'close'`` true;
* ``timeout``: ``set_timeout()`` fires in the window: ``'timeout'`` only (the socket stays, its
  writes pending); its listener's ``destroy()`` is the ``destroy`` case.

The waiting write's callback reports success for data never sent: that is Node's (the TLS
handle's write request is cancelled when the socket closes, and ``onWriteComplete`` calls back
with ``null`` on a destroyed stream), and nodetls matches it rather than invent an error Node
does not give. The renegotiation's callback is never called (Node's is a ``'secure'`` listener).
A client has no handshake timeout (Node's ``handshakeTimeout`` is a server's, and ends with the
first handshake).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from holding_proxy import HoldingProxy, records
from tlsutil import LOOPS, run_on

import nodetls as tls
from helpers.peers import run_node, spawn_node

TIMEOUT = 10.0
#: How long the ``fin`` case waits to see that nothing more happens (an absence, not a sync).
QUIET = 0.2

SERVER_JS = r"""
const tls = require('tls'); const fs = require('fs');
const [key, cert] = process.argv.slice(2);
const srv = tls.createServer({key: fs.readFileSync(key), cert: fs.readFileSync(cert),
                              maxVersion: 'TLSv1.2'}, (s) => { s.on('error', () => {}); });
srv.listen(0, '127.0.0.1', () => console.log('LISTENING', srv.address().port));
"""

# node's client, with the same holding proxy in its own process.
CLIENT_JS = r"""
const net = require('net'); const tls = require('tls'); const fs = require('fs');
const port = +process.argv[2], ca = fs.readFileSync(process.argv[3]), action = process.argv[4];
const QUIET = +process.argv[5] * 1000;
const ev = [];
const said = (e) => (e ? e.code + ' ' + e.message : 'None');
function handshakeSeen(buf) { let off = 0;
  while (buf.length - off >= 5) { if (buf[off] === 22) return true; off += 5 + buf.readUInt16BE(off + 3); }
  return false; }
let hold = false, toClient, up = Buffer.alloc(0), secure = false, check = null;
const proxy = net.createServer((cs) => { const ss = net.connect(port, '127.0.0.1'); toClient = cs;
  cs.on('data', (d) => { ss.write(d); if (secure) { up = Buffer.concat([up, d]); if (check) check(); } });
  ss.on('data', (d) => { if (!hold) cs.write(d); });
  cs.on('error', () => {}); ss.on('error', () => {});
  cs.on('close', () => ss.destroy()); ss.on('close', () => cs.destroy());
});
const until = (pred) => new Promise((res) => { check = () => { if (pred()) { check = null; res(); } }; check(); });
proxy.listen(0, '127.0.0.1', () => {
  const s = tls.connect({port: proxy.address().port, host: '127.0.0.1', ca, servername: 'localhost',
                         maxVersion: 'TLSv1.2'});
  s.on('secureConnect', async () => {
    secure = true; hold = true;
    ev.push('renegotiate ' + s.renegotiate({}, (e) => ev.push('renegotiated ' + said(e))));
    await until(() => handshakeSeen(up));  // the ClientHello went out
    ev.push('write ' + s.write('x', (e) => ev.push('write cb ' + said(e))));
    ev.push('write2 ' + s.write('y', (e) => ev.push('write2 cb ' + said(e))));
    if (action === 'reset' || action === 'destroy') s.end();
    setImmediate(() => {  // the first write has reached the TLS layer
      ev.push('pending ' + s.writableLength);
      if (action === 'reset') toClient.resetAndDestroy();
      else if (action === 'fin') toClient.end();
      else if (action === 'destroy') s.destroy();
      else if (action === 'destroy_error') s.destroy(Object.assign(new Error('boom'), {code: 'EBOOM'}));
      else if (action === 'timeout') {
        s.setTimeout(50);
        s.on('timeout', () => {
          ev.push('timeout pending ' + s.writableLength + ' destroyed ' + s.destroyed);
          s.destroy();
        });
      }
    });
  });
  s.on('data', (d) => ev.push('data ' + d.length));
  s.on('end', () => {
    ev.push('end');
    setTimeout(() => {
      ev.push('after end pending ' + s.writableLength + ' destroyed ' + s.destroyed);
      s.destroy();
    }, QUIET);
  });
  s.on('finish', () => ev.push('finish'));
  s.on('error', (e) => ev.push('error ' + said(e)));
  s.on('close', (h) => { ev.push('close ' + h); setImmediate(() => { console.log(JSON.stringify(ev)); proxy.close(); }); });
  setTimeout(() => { console.log(JSON.stringify(ev.concat(['stuck']))); process.exit(1); }, 8000).unref();
});
"""


async def _nodetls_client(port: int, ca: str, action: str) -> list[str]:
    proxy = HoldingProxy(port, forward_eof=False)
    pport = await proxy.start()
    loop = asyncio.get_running_loop()
    ev: list[str] = []
    secure: asyncio.Future[None] = loop.create_future()
    closed: asyncio.Future[None] = loop.create_future()
    s = tls.connect({"port": pport, "host": "127.0.0.1", "ca": ca, "servername": "localhost",
                     "max_version": "TLSv1.2"})

    def said(e: Any) -> str:
        return "None" if e is None else f"{getattr(e, 'code', None)} {e}"

    def on_end() -> None:
        ev.append("end")

        def later() -> None:
            ev.append(f"after end pending {s.writable_length} destroyed {str(s.destroyed).lower()}")
            s.destroy()

        loop.call_later(QUIET, later)

    def on_timeout() -> None:
        ev.append(f"timeout pending {s.writable_length} destroyed {str(s.destroyed).lower()}")
        s.destroy()

    def on_close(had_error: bool) -> None:
        ev.append(f"close {str(had_error).lower()}")
        loop.call_soon(lambda: closed.done() or closed.set_result(None))

    s.on("secureConnect", lambda: secure.set_result(None))
    s.on("data", lambda d: ev.append(f"data {len(d)}"))
    s.on("end", on_end)
    s.on("finish", lambda: ev.append("finish"))
    s.on("error", lambda e: ev.append(f"error {said(e)}"))
    s.on("close", on_close)
    try:
        await asyncio.wait_for(secure, TIMEOUT)
        proxy.secure = proxy.hold = True
        ok = s.renegotiate({}, lambda e=None: ev.append(f"renegotiated {said(e)}"))
        ev.append(f"renegotiate {str(ok).lower()}")
        await proxy.until(lambda: any(t == 22 for t, _ in records(proxy.up)))  # the ClientHello went out
        ev.append(f"write {str(s.write(b'x', lambda e=None: ev.append(f'write cb {said(e)}'))).lower()}")
        ev.append(f"write2 {str(s.write(b'y', lambda e=None: ev.append(f'write2 cb {said(e)}'))).lower()}")
        if action in ("reset", "destroy"):
            s.end()
        await asyncio.sleep(0)  # (Node's setImmediate: the first write has reached the TLS layer)
        ev.append(f"pending {s.writable_length}")
        if action == "reset":
            proxy.reset()
        elif action == "fin":
            proxy.end()
        elif action == "destroy":
            s.destroy()
        elif action == "destroy_error":
            err = Exception("boom")
            err.code = "EBOOM"  # type: ignore[attr-defined]
            s.destroy(err)
        elif action == "timeout":
            s.set_timeout(0.05)
            s.on("timeout", on_timeout)
        await asyncio.wait_for(closed, TIMEOUT)
    finally:
        s.destroy()
        await proxy.close()
    return ev


_START = ["renegotiate true", "write true", "write2 true", "pending 2"]
EXPECTED = {
    "reset": _START + ["error ECONNRESET read ECONNRESET", "write cb None",
                       "write2 cb ECONNRESET read ECONNRESET", "close true"],
    "fin": _START + ["end", "after end pending 2 destroyed false", "write cb None",
                     "write2 cb ERR_STREAM_DESTROYED Cannot call write after a stream was destroyed",
                     "close false"],
    "destroy": _START + ["write cb None",
                         "write2 cb ERR_STREAM_DESTROYED Cannot call write after a stream was "
                         "destroyed", "close false"],
    "destroy_error": _START + ["error EBOOM boom", "write cb None", "write2 cb EBOOM boom",
                               "close true"],
    "timeout": _START + ["timeout pending 2 destroyed false", "write cb None",
                         "write2 cb ERR_STREAM_DESTROYED Cannot call write after a stream was "
                         "destroyed", "close false"],
}


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("action", list(EXPECTED))
def test_write_waiting_for_renegotiation_when_the_socket_dies_as_nodes(
        action: str, loop: str, certs: Any, node_bin: str) -> None:
    async def main() -> tuple[list[str], list[str]]:
        key, cert, ca = (certs.server_direct.key_path, certs.server_direct.cert_path,
                         certs.root.cert_path)
        async with spawn_node(SERVER_JS, key, cert, timeout=TIMEOUT) as srv:
            assert srv.port is not None
            res = await run_node(CLIENT_JS, str(srv.port), str(ca), action, str(QUIET),
                                 timeout=TIMEOUT)
            assert res.rc == 0, (res.stdout, res.stderr)
            node_events = json.loads(res.stdout.strip().splitlines()[-1])
            ours = await _nodetls_client(srv.port, certs.root.cert_pem, action)
        return node_events, ours

    node_events, ours = run_on(loop, main)
    assert node_events == EXPECTED[action]  # node v20's own client
    assert ours == EXPECTED[action]
