"""What a ``'tlsClientError'`` listener sees of the socket's ``'close'``, as in Node v20.

* A TLS error before the handshake completed (here an HTTP request): Node's ``onerror`` destroys
  the socket with the error, its ``'error'`` (the server's ``onSocketTLSError``) is the
  ``'tlsClientError'``, then ``'close'`` comes with ``had_error`` **true** (nodetls gave false).
* The client going away (FIN) before the handshake completed: Node's socket ends and closes with
  ``had_error`` false, and its first ``'close'`` listener (``onSocketClose``) emits
  ``'tlsClientError'`` ``ECONNRESET`` "socket hang up": the socket is closed already, so a
  ``'close'`` listener added there never runs (nodetls ran it).

Both checked against node with the same peer, in its own process: it sends the exact bytes, then
half-closes and reads until the server closes (found comparing node and nodetls servers under the
hostile clients of ``tests/faults/hostile.py``).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest
from tlsutil import listen, shut, wait

from helpers.peers import run_node

_PEER = r"""
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(bytes.fromhex(sys.argv[2]))
s.shutdown(socket.SHUT_WR)
try:
    while s.recv(65536):
        pass
except ConnectionError:
    pass
s.close()
"""

CASES = [  # bytes the peer sends, then what the 'tlsClientError' listener sees
    (b"GET / HTTP/1.1\r\n\r\n", "ERR_SSL_HTTP_REQUEST close true"),
    (b"", "ECONNRESET socket hang up no close"),
    (b"\x16\x03\x01", "ECONNRESET socket hang up no close"),  # a record cut in its header
]

# Printed once the peer exited: it exits after the server closed the connection, so after that
# socket's 'close' (libuv's close callback runs in the turn that closed the descriptor).
_NODE_SERVER = r"""
const tls = require('tls'), fs = require('fs'), cp = require('child_process');
const [cert, key, py, peer, hex] = process.argv.slice(2);
const srv = tls.createServer({cert: fs.readFileSync(cert), key: fs.readFileSync(key)});
let seen = 'no tlsClientError', closed = 'no close';
srv.on('tlsClientError', (e, s) => {
  seen = e.code + (e.code === 'ECONNRESET' ? ' ' + e.message : '');
  s.on('close', (hadError) => { closed = 'close ' + hadError; });
});
srv.listen(0, '127.0.0.1', () => {
  cp.spawn(py, ['-c', peer, String(srv.address().port), hex], {stdio: 'inherit'})
    .on('exit', () => setImmediate(() => { console.log(seen + ' ' + closed); srv.close(); }));
});
"""


@pytest.mark.parametrize("data,expected", CASES)
async def test_node(certs: Any, data: bytes, expected: str) -> None:
    rc, out, err = await run_node(_NODE_SERVER, certs.server.chain_path, certs.server.key_path,
                                  sys.executable, _PEER, data.hex())
    assert (rc, out.strip(), err.strip()) == (0, expected, "")


@pytest.mark.parametrize("data,expected", CASES)
async def test_nodetls(certs: Any, data: bytes, expected: str) -> None:
    loop = asyncio.get_running_loop()
    seen: asyncio.Future[str] = loop.create_future()
    closed: asyncio.Future[Any] = loop.create_future()
    server, port = await listen(certs.server.options)

    def on_client_error(err: Any, sock: Any) -> None:
        seen.set_result(err.code + (f" {err}" if err.code == "ECONNRESET" else ""))
        sock.on("close", closed.set_result)

    server.on("tlsClientError", on_client_error)
    try:
        peer = await asyncio.create_subprocess_exec(sys.executable, "-c", _PEER, str(port),
                                                    data.hex())
        assert await wait(peer.wait()) == 0
        got = await wait(seen)
        if expected.endswith("close true"):
            got += f" close {str(await wait(closed)).lower()}"
        else:  # the 'close' was emitted before the 'tlsClientError' (which comes from it)
            await asyncio.sleep(0)
            got += f" close {closed.result()}" if closed.done() else " no close"
        assert got == expected
    finally:
        await shut(server)
