"""A TLS 1.3 server that ends its socket in its ``'secureConnection'`` listener, seen by an
OpenSSL client (Python's ``ssl``, in its own process): what Node v20 sends, what nodetls sends.

Node runs a server's ``'secure'`` listeners inside OpenSSL's handshake-done callback, inside the
``SSL_read`` that took the client's Finished, before OpenSSL makes the session tickets
(``tls_finish_handshake`` ahead of them). Two consequences a peer can see:

* ``end()`` there (no data): ``TLSWrap::DoShutdown`` calls ``SSL_shutdown`` inside that
  callback, so OpenSSL makes no ticket afterwards: the client gets the close_notify and no
  session ticket (a Node client: no ``'session'``).
* ``end(data)`` (or a ``write()`` there, then ``end()`` there or in the write's callback): the
  write's ``SSL_write`` leaves its record in OpenSSL's handshake buffer ("No pending encrypted
  output, inside DoWrite()"), so the write's callback is queued on an immediate, ahead of the
  one completing the transport write of the flight (``OnStreamAfterWrite``) that the
  ``SSL_read`` then sends (the data, then the tickets). That callback runs ``_final``:
  ``DoShutdown`` makes the close_notify, its ``EncOut`` returns ("write currently in progress")
  and the TCP half-close goes first; the close_notify's own write then fails (``EPIPE``, ignored
  after the shutdown). The client reads the data and the tickets, then an EOF without
  close_notify: OpenSSL reports "unexpected eof while reading" (Python's ``SSLEOFError``;
  ``openssl s_client`` logs it) and OpenSSL 3 answers it with a ``decode_error`` alert, which
  Node's server, still reading, emits as ``'error'`` ``ERR_SSL_TLSV1_ALERT_DECODE_ERROR``. An
  ``end()`` from an immediate made in the listener comes after that write completed: the
  close_notify is sent. A Node client sees no difference (its ``'end'`` either way).

nodetls's engine makes the tickets in the handshake's last flight (the accepted difference of
docs/tls.md: OpenSSL's order, tickets before what the listeners write), so both cases send the
tickets, then the data, then the close_notify before the FIN: a clean close, with a ticket.
Matching Node's lost close_notify would make every OpenSSL client see a truncated connection
(docs/tls.md's accepted differences). Seen with ``openssl s_client -msg`` against node v20
(the records above, in that order) and ``NODE_DEBUG_NATIVE=tls`` (the TLSWrap's steps quoted);
these tests pin both sides.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from tlsutil import listen

import nodetls as tls
from helpers.peers import run_node, run_process
from nodetls import net

#: An OpenSSL client (Python's ``ssl``): connects, reads to the end with ragged EOFs reported,
#: prints what it read, how the stream ended, and whether it got a session ticket.
CLIENT = r"""
import json, socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
raw = socket.create_connection(("127.0.0.1", port), timeout=10)
s = ctx.wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=False)
data, how = b"", None
while how is None:
    try:
        chunk = s.recv(100)
    except ssl.SSLEOFError:
        how = "eof without close_notify"
    else:
        if chunk:
            data += chunk
        else:
            how = "close_notify"
print(json.dumps({"data": data.decode(), "end": how, "ticket": s.session.has_ticket}))
"""

NODE_SERVER = r"""
const tls = require('tls'), fs = require('fs'), {execFile} = require('child_process');
const [mode, python, client, ca, key, cert] = process.argv.slice(2);
const events = [];
const srv = tls.createServer({key: fs.readFileSync(key), cert: fs.readFileSync(cert)}, (s) => {
  s.on('error', (e) => events.push('error ' + e.code));
  s.on('close', () => events.push('close'));
  if (mode === 'end') s.end();
  else if (mode === 'end-data') s.end('x');
  else { s.write('x'); setImmediate(() => s.end()); }
});
srv.listen(0, '127.0.0.1', () => {
  execFile(python, [client, srv.address().port, ca], (err, out) => {
    srv.close();
    setTimeout(() => console.log(JSON.stringify({client: err ? String(err) : JSON.parse(out),
                                                 server: events})), 100);
  });
});
"""


def _client_script(tmp_path: Path) -> Path:
    path = tmp_path / "client.py"
    path.write_text(CLIENT)
    return path


#: What the OpenSSL client reports from Node v20's server (see the module's docstring).
NODE = {
    "end": {"data": "", "end": "close_notify", "ticket": False},
    "end-data": {"data": "x", "end": "eof without close_notify", "ticket": True},
    "write-then-end-on-immediate": {"data": "x", "end": "close_notify", "ticket": True},
}


@pytest.mark.interop
@pytest.mark.parametrize("mode", list(NODE))
async def test_node_server_ending_in_its_secure_listener(certs: Any, node_bin: Any,
                                                         tmp_path: Path, mode: str) -> None:
    """Node v20: no ticket after ``end()``; no close_notify after ``end(data)`` (the client's
    ``decode_error`` alert then fails the server's socket); both with an ``end()`` on an
    immediate."""
    rc, out, err = await run_node(NODE_SERVER, mode, sys.executable, str(_client_script(tmp_path)),
                                  certs.root.cert_path, certs.server.key_path,
                                  certs.server.chain_path, timeout=30)
    assert rc == 0, err
    got = json.loads(out)
    assert got["client"] == NODE[mode]
    if mode == "end-data":
        assert got["server"] == ["error ERR_SSL_TLSV1_ALERT_DECODE_ERROR", "close"]
    else:
        assert got["server"] == ["close"]


@pytest.mark.parametrize("mode", list(NODE))
@pytest.mark.parametrize("made_by_hand", [False, True])
async def test_nodetls_server_ending_in_its_secure_listener(certs: Any, tmp_path: Path,
                                                            mode: str, made_by_hand: bool
                                                            ) -> None:
    """nodetls: the tickets, the data, then the close_notify, in every mode (a server's
    ``'secureConnection'`` or the ``'secure'`` of a ``TLSSocket(is_server=True)``): the
    accepted difference of docs/tls.md. The server's socket closes without error."""
    events: list[str] = []
    closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_secure(s: tls.TLSSocket) -> None:
        s.on("error", lambda e: events.append(f"error {getattr(e, 'code', e)}"))
        s.on("close", lambda _h: (events.append("close"), closed.done() or closed.set_result(None)))
        if mode == "end":
            s.end()
        elif mode == "end-data":
            s.end(b"x")
        else:
            s.write(b"x")
            asyncio.get_running_loop().call_soon(s.end)

    if made_by_hand:
        def on_connection(raw: net.Socket) -> None:
            s = tls.TLSSocket(raw, {**certs.server.options, "is_server": True})
            s.on("secure", lambda: on_secure(s))
        server: Any = net.create_server(on_connection)
        server.listen(0, "127.0.0.1")
        await asyncio.wait_for(server, 10)
        port = server.address()["port"]
    else:
        server, port = await listen(certs.server.options, on_secure)
    try:
        rc, out, err = await run_process([sys.executable, _client_script(tmp_path), str(port),
                                          certs.root.cert_path], timeout=30)
        assert rc == 0, err
        assert json.loads(out) == {"data": "" if mode == "end" else "x", "end": "close_notify",
                                   "ticket": True}
        await asyncio.wait_for(closed, 10)
        assert events == ["close"]
    finally:
        server.close()
