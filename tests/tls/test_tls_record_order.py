"""A client's ``'session'`` and ``'data'`` in record order, when one TCP read brings both.

Node v20's TLSWrap calls its JS ``onnewsession`` (OpenSSL's new-session callback) and ``ondata``
(each ``SSL_read``'s plaintext) synchronously as ``SSL_read`` meets each record, so a TLS 1.3
client's ``'session'`` events come between the ``'data'`` of the records around the tickets.
nodetls's engine read every record of a read first, then handed on its events, then its
plaintext: every ``'session'`` of a read came before all of its ``'data'`` (one chunk).

A node server (TLS 1.3, its two tickets) writes ``D1`` in ``'secureConnection'`` (which Node
runs inside the handshake's end, before the tickets are written: the records are ``D1``, then
the tickets) and/or ``D2`` when the client sends ``go`` after ``'secureConnect'`` (behind the
tickets). A TCP proxy between them holds the server's records from the client's Finished on
until all of them came, then sends them in one write: the client reads them in one TCP read.
The orders, recorded with a node v20 client over the same proxy (the ``node`` cases check them
again live), ``'keylog'`` included::

    tickets-data:      keylog x5 | secureConnect | session | session | data:D2
    data-tickets:      keylog x5 | secureConnect | data:D1 | session | session
    interleaved:       keylog x5 | secureConnect | data:D1 | session | session | data:D2
    interleaved-pause: keylog x5 | secureConnect | session | session | resume() | data:D1
                       | data:D2   (socket.pause() in 'secureConnect', resume() 0.3 s later: the
                                    tickets are read and their events emitted while paused; the
                                    data waits, one chunk per record)
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from tlsutil import LOOPS, TIMEOUT, run_on

import nodetls as tls
from helpers.peers import run_node, spawn_node

KEYLOG = ["keylog"] * 5
NODE_ORDERS = {
    "tickets-data": [*KEYLOG, "secureConnect", "session", "session", "data:D2"],
    "data-tickets": [*KEYLOG, "secureConnect", "data:D1", "session", "session"],
    "interleaved": [*KEYLOG, "secureConnect", "data:D1", "session", "session", "data:D2"],
    "interleaved-pause": [*KEYLOG, "secureConnect", "session", "session", "resume()",
                          "data:D1", "data:D2"],
}
#: (the server's writes, the records the proxy holds for one write: two tickets and the data)
SCENARIOS = {"tickets-data": ("late", 3), "data-tickets": ("early", 3),
             "interleaved": ("early,late", 4), "interleaved-pause": ("early,late,pause", 4)}
PAUSE = 0.3  # how long the pause cases stay paused (what they wait for is bounded apart)

SERVER_JS = r"""
const tls = require('tls'); const fs = require('fs');
const [key, cert, mode] = process.argv.slice(2);
const srv = tls.createServer({key: fs.readFileSync(key), cert: fs.readFileSync(cert),
  minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3'}, (s) => {
  if (mode.includes('early')) s.write('D1');
  s.on('data', (d) => { if (String(d) === 'go' && mode.includes('late')) s.write('D2'); });
  s.on('error', () => {});
});
srv.listen(0, '127.0.0.1', () => console.log('LISTENING', srv.address().port));
"""

CLIENT_JS = r"""
const tls = require('tls'); const fs = require('fs');
const [port, ca, mode, want, pause] = process.argv.slice(2);
const log = [];
const s = tls.connect({port: +port, host: '127.0.0.1', ca: fs.readFileSync(ca),
                       servername: 'localhost'});
s.on('keylog', () => log.push('keylog'));
s.on('secureConnect', () => {
  log.push('secureConnect');
  if (mode.includes('late')) s.write('go');
  if (mode.includes('pause')) {
    s.pause();
    setTimeout(() => { log.push('resume()'); s.resume(); }, +pause * 1000);
  }
});
s.on('session', () => { log.push('session'); check(); });
s.on('data', (d) => { log.push('data:' + d); check(); });
function check() {
  if (log.filter((x) => x === 'session' || x.startsWith('data:')).length === +want) {
    console.log(JSON.stringify(log)); s.destroy();
  }
}
"""


async def _coalescing_proxy(upstream: int, n_records: int) -> asyncio.Server:
    """127.0.0.1 -> ``upstream``: once the client's Finished (its first record of type 23)
    went to the server, the server's records are held until ``n_records`` whole ones came,
    then sent to the client in one write; everything else is passed on as it comes."""
    async def handle(cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
        sr, sw = await asyncio.open_connection("127.0.0.1", upstream)
        state = {"finished": False, "done": False}

        async def up() -> None:
            buf = b""
            while data := await cr.read(65536):
                sw.write(data)
                buf += data
                while len(buf) >= 5 and len(buf) >= 5 + int.from_bytes(buf[3:5], "big"):
                    if buf[0] == 23:
                        state["finished"] = True
                    buf = buf[5 + int.from_bytes(buf[3:5], "big"):]
            sw.close()

        async def down() -> None:
            held = b""
            while data := await sr.read(65536):
                if state["done"] or not state["finished"]:
                    cw.write(data)
                    continue
                held += data
                count = off = 0
                while len(held) - off >= 5 and \
                        len(held) - off >= 5 + int.from_bytes(held[off + 3:off + 5], "big"):
                    off += 5 + int.from_bytes(held[off + 3:off + 5], "big")
                    count += 1
                if count >= n_records:
                    assert off == len(held)  # (whole records: nothing else came)
                    cw.write(held)
                    held = b""
                    state["done"] = True
            cw.close()

        await asyncio.gather(up(), down(), return_exceptions=True)

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def _nodetls_client(certs: Any, port: int, mode: str, want: int) -> list[str]:
    loop = asyncio.get_running_loop()
    log: list[str] = []
    done: asyncio.Future[None] = loop.create_future()
    s = tls.connect({"port": port, "host": "127.0.0.1", "ca": certs.root.cert_pem,
                     "servername": "localhost"})

    def check() -> None:
        if sum(x == "session" or x.startswith("data:") for x in log) == want \
                and not done.done():
            done.set_result(None)

    def on_secure() -> None:
        log.append("secureConnect")
        if "late" in mode:
            s.write(b"go")
        if "pause" in mode:
            s.pause()

            def resume() -> None:
                log.append("resume()")
                s.resume()

            loop.call_later(PAUSE, resume)

    s.on("keylog", lambda _line: log.append("keylog"))
    s.on("secureConnect", on_secure)
    s.on("session", lambda _der: (log.append("session"), check()))
    s.on("data", lambda d: (log.append("data:" + bytes(d).decode()), check()))
    s.on("error", lambda e: log.append(f"error:{e}"))
    try:
        await asyncio.wait_for(done, TIMEOUT)
    except TimeoutError:
        pytest.fail(f"not every event came: {log}")
    finally:
        s.destroy()
    return log


async def _scenario(certs: Any, name: str, client: str) -> list[str]:
    mode, n_records = SCENARIOS[name]
    want = sum(x == "session" or x.startswith("data:") for x in NODE_ORDERS[name])
    async with spawn_node(SERVER_JS, certs.server.key_path, certs.server.chain_path,
                          mode) as srv:
        proxy = await _coalescing_proxy(srv.port, n_records)
        port = proxy.sockets[0].getsockname()[1]
        try:
            if client == "node":
                res = await run_node(CLIENT_JS, str(port), certs.root.cert_path, mode,
                                     str(want), str(PAUSE), timeout=TIMEOUT)
                assert res.rc == 0, res.stderr
                log: list[str] = json.loads(res.stdout)
                return log
            return await _nodetls_client(certs, port, mode, want)
        finally:
            proxy.close()


@pytest.mark.parametrize("name", list(NODE_ORDERS))
def test_node_client_events_in_record_order(certs: Any, name: str) -> None:
    """The reference: a node v20 client over the same proxy, the orders above."""
    assert run_on("asyncio", lambda: _scenario(certs, name, "node")) == NODE_ORDERS[name]


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("name", list(NODE_ORDERS))
def test_client_events_in_record_order(certs: Any, name: str, loop: str) -> None:
    """nodetls's client emits node's order: the plaintext of the records before the tickets,
    then one ``'session'`` per ticket, then the data behind them (a chunk of its own)."""
    assert run_on(loop, lambda: _scenario(certs, name, "nodetls")) == NODE_ORDERS[name]
