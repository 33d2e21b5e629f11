"""A TLS server gets the records a client sent before a bad one, as Node v20's.

The server's side of ``test_tls_client_hostile_server.py``: a client completes the handshake,
then sends a good application-data record ("welcome") and a forged one (it fails decryption) in
one TCP segment, then its FIN. Node's ``ClearOut`` emits each ``SSL_read``'s plaintext before the
error that stops the reads: the server socket's ``'data'`` ("welcome"), then its ``'error'``
(``ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC`` on TLS 1.3, ``ERR_SSL_INVALID_AAD`` on TLS 1.2).
After the error Node leaves the socket open (``'end'`` at the FIN, ``'close'`` false) where
nodetls destroys it (``'close'`` true): the README's deliberate difference "a TLS error after
the handshake destroys the socket". The client is Python's ``ssl`` over memory BIOs in its own
process (the exact bytes, one send); node's server is checked against the same client.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest
from test_tls_client_hostile_server import _BAD_RECORD, CASES
from tlsutil import listen, shut, wait

from helpers.peers import run_node

_CLIENT = r"""
import socket, ssl, sys
port, ca, version, tail = int(sys.argv[1]), sys.argv[2], sys.argv[3], bytes.fromhex(sys.argv[4])
ctx = ssl.create_default_context(cafile=ca)
ctx.maximum_version = getattr(ssl.TLSVersion, version.replace(".", "_"))
c = socket.create_connection(("127.0.0.1", port))
c.settimeout(10)
i, o = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = ctx.wrap_bio(i, o, server_hostname="localhost")
while True:
    try:
        obj.do_handshake()
        break
    except ssl.SSLWantReadError:
        if o.pending:
            c.sendall(o.read())
        data = c.recv(65536)
        if not data:
            sys.exit("the server left during the handshake")
        i.write(data)
obj.write(b"welcome")
c.sendall(o.read() + tail)  # (the handshake's last output too), a good record and a bad one
c.shutdown(socket.SHUT_WR)
try:
    while c.recv(65536):
        pass
except (ConnectionError, socket.timeout):
    pass
c.close()
"""


_NODE_SERVER = r"""
const tls = require('tls'), fs = require('fs'), cp = require('child_process');
const [chain, key, ca, py, client, version, tail] = process.argv.slice(2);
const ev = [];
const srv = tls.createServer({cert: fs.readFileSync(chain), key: fs.readFileSync(key)}, (s) => {
  s.on('data', (d) => ev.push('data:' + d));
  s.on('error', (e) => ev.push('error:' + e.code));
  s.on('end', () => ev.push('end'));
  s.on('close', (h) => { ev.push('close:' + h); console.log(ev.join(' ')); srv.close(); });
});
srv.on('tlsClientError', (e) => { console.log('tlsClientError ' + e.code); srv.close(); });
srv.listen(0, '127.0.0.1', () => {
  cp.spawn(py, ['-c', client, String(srv.address().port), ca, version, tail], {stdio: 'inherit'});
});
"""


@pytest.mark.parametrize("version,code", CASES)
async def test_node(certs: Any, version: str, code: str) -> None:
    rc, out, err = await run_node(_NODE_SERVER, certs.server.chain_path, certs.server.key_path,
                                  certs.server.ca_path, sys.executable, _CLIENT, version,
                                  _BAD_RECORD.hex())
    assert (rc, out.strip(), err.strip()) == (0, f"data:welcome error:{code} end close:false", "")


@pytest.mark.parametrize("version,code", CASES)
async def test_nodetls(certs: Any, version: str, code: str) -> None:
    events: list[str] = []
    closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_secure(sock: Any) -> None:
        sock.on("data", lambda d: events.append(f"data:{bytes(d).decode()}"))
        sock.on("error", lambda e: events.append(f"error:{getattr(e, 'code', e)}"))
        sock.on("end", lambda: events.append("end"))
        sock.on("close", lambda h: (events.append(f"close:{str(h).lower()}"),
                                    closed.set_result(None)))

    server, port = await listen(certs.server.options, on_secure)
    try:
        client = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _CLIENT, str(port), str(certs.server.ca_path), version,
            _BAD_RECORD.hex())
        try:
            await wait(closed)
            assert await wait(client.wait()) == 0
        finally:
            if client.returncode is None:
                client.kill()
                await client.wait()
    finally:
        await shut(server)
    # node: "... end close:false" (the socket stays open until the peer's FIN)
    assert " ".join(events) == f"data:welcome error:{code} close:true"
