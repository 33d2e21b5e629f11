"""A TLS client under a hostile server, as Node v20's: records the peer sent before a bad one.

A server that completes the handshake, then sends a good application-data record and a bad one
(a forged record that fails decryption) in one TCP segment, then waits for the client's answer
(its alert), sends its FIN and waits for the client to leave.
Node's ``ClearOut`` emits each ``SSL_read``'s plaintext before the error that stops the reads:
``'data'`` ("welcome"), then ``'error'`` (``ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC`` on TLS
1.3, ``ERR_SSL_INVALID_AAD`` on TLS 1.2: OpenSSL 3.0 and 3.5 name them alike).  nodetls read
both records in one engine call and dropped the good record's plaintext with the error (no
``'data'``).  Then node's socket stays open until the peer's FIN (``'end'``, ``'close'`` false)
where nodetls destroys it at the error (``'close'`` true): the README's deliberate difference
"a TLS error after the handshake destroys the socket".

A server answering the ClientHello with a clear-text close_notify alert, then its FIN: node's
handshake meets ``SSL_ERROR_ZERO_RETURN`` and its ``ClearOut`` reads it as the end of the stream
(``'end'``, then ``onConnectEnd``'s "Client network socket disconnected before secure TLS
connection was established", ``'close'`` true); nodetls failed the handshake with "socket hang
up" and no ``'end'``.

The peer is Python's ``ssl`` over memory BIOs in its own process (the exact bytes, one send);
node's client is checked against the same peer.  Found comparing node's and nodetls's clients
under seeded hostile servers (a scratch comparison: ``docs/fuzzing.md``, "Hostile servers
against the client, compared with node").
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest
from tlsutil import LOOPS, run_on, wait

import nodetls as tls
from helpers.peers import run_node

_PEER = r"""
import socket, ssl, sys
chain, key, version, tail = sys.argv[1], sys.argv[2], sys.argv[3], bytes.fromhex(sys.argv[4])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(chain, key)
ctx.maximum_version = getattr(ssl.TLSVersion, version.replace(".", "_"))
ls = socket.create_server(("127.0.0.1", 0))
print("LISTENING", ls.getsockname()[1], flush=True)
ls.settimeout(10)
c, _ = ls.accept()
c.settimeout(10)
i, o = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = ctx.wrap_bio(i, o, server_side=True)
while True:
    try:
        obj.do_handshake()
        break
    except ssl.SSLWantReadError:
        if o.pending:
            c.sendall(o.read())
        data = c.recv(65536)
        if not data:
            sys.exit("the client left during the handshake")
        i.write(data)
c.sendall(o.read())  # the handshake's last output (TLS 1.3 tickets, TLS 1.2 Finished)
obj.write(b"welcome")
c.sendall(o.read() + tail)  # a good record and a bad one, in one segment
try:
    # the client's answer to the bad record: its alert (node and nodetls send one), or its FIN;
    # then this side's FIN, which node's socket (still open after the error) waits for
    c.recv(65536)
    c.shutdown(socket.SHUT_WR)
    while c.recv(65536):
        pass
except OSError:  # reset, or socket.timeout (the bound)
    pass
c.close()
"""

#: A forged application-data record ("hello" in the clear): it fails decryption.
_BAD_RECORD = b"\x17\x03\x03\x00\x05hello"
CASES = [("TLSv1.3", "ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC"),
         ("TLSv1.2", "ERR_SSL_INVALID_AAD")]

_NODE_CLIENT = r"""
const tls = require('tls'), fs = require('fs');
const [port, ca] = process.argv.slice(2);
const ev = [];
const s = tls.connect({port: +port, host: '127.0.0.1', ca: fs.readFileSync(ca),
                       servername: 'localhost'});
s.on('secureConnect', () => ev.push('secureConnect'));
s.on('data', (d) => ev.push('data:' + d));
s.on('error', (e) => ev.push('error:' + e.code));
s.on('end', () => ev.push('end'));
s.on('close', (h) => { ev.push('close:' + h); console.log(ev.join(' ')); });
"""


async def _peer(certs: Any, version: str) -> tuple[asyncio.subprocess.Process, int]:
    peer = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _PEER, str(certs.server.chain_path), str(certs.server.key_path),
        version, _BAD_RECORD.hex(), stdout=asyncio.subprocess.PIPE)
    assert peer.stdout is not None
    line = (await wait(peer.stdout.readline())).decode().split()
    assert line[0] == "LISTENING", line
    return peer, int(line[1])


async def _finish(peer: asyncio.subprocess.Process) -> None:
    try:
        assert await wait(peer.wait()) == 0
    finally:
        if peer.returncode is None:
            peer.kill()
            await peer.wait()


@pytest.mark.parametrize("version,code", CASES)
async def test_node(certs: Any, version: str, code: str) -> None:
    peer, port = await _peer(certs, version)
    try:
        rc, out, err = await run_node(_NODE_CLIENT, str(port), certs.server.ca_path)
    finally:
        await _finish(peer)
    assert (rc, out.strip(), err.strip()) == (
        0, f"secureConnect data:welcome error:{code} end close:false", "")


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("version,code", CASES)
def test_nodetls(certs: Any, version: str, code: str, loop: str) -> None:
    async def main() -> str:
        peer, port = await _peer(certs, version)
        events: list[str] = []
        closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        try:
            sock = tls.connect({"port": port, "host": "127.0.0.1",
                                "ca": certs.server.ca_path.read_bytes(),
                                "servername": "localhost"})
            sock.on("secureConnect", lambda: events.append("secureConnect"))
            sock.on("data", lambda d: events.append(f"data:{bytes(d).decode()}"))
            sock.on("error", lambda e: events.append(f"error:{getattr(e, 'code', e)}"))
            sock.on("end", lambda: events.append("end"))
            sock.on("close", lambda h: (events.append(f"close:{str(h).lower()}"),
                                        closed.set_result(None)))
            await wait(closed)
        finally:
            await _finish(peer)
        return " ".join(events)

    # node: "... end close:false" (the socket stays open until the peer's FIN)
    assert run_on(loop, main) == f"secureConnect data:welcome error:{code} close:true"


# A server that answers the ClientHello with a clear-text close_notify alert, then its FIN.
# Node: SSL_do_handshake meets the close_notify (SSL_ERROR_ZERO_RETURN), ClearOut reads it as the
# end of stream: 'end', then onConnectEnd destroys the socket with ECONNRESET "Client network
# socket disconnected before secure TLS connection was established".  nodetls's engine fails the
# handshake with ECONNRESET "socket hang up", which a tls.connect socket now takes as the end of
# the stream, as Node (it gave no 'end'; seeds 314 and 355 of the comparison).
_RAW_PEER = r"""
import socket, sys
ls = socket.create_server(("127.0.0.1", 0))
print("LISTENING", ls.getsockname()[1], flush=True)
ls.settimeout(10)
c, _ = ls.accept()
c.settimeout(10)
c.recv(65536)  # the ClientHello
c.sendall(bytes.fromhex(sys.argv[1]))
c.shutdown(socket.SHUT_WR)
try:
    while c.recv(65536):
        pass
except (ConnectionError, socket.timeout):
    pass
c.close()
"""
_CLOSE_NOTIFY = b"\x15\x03\x03\x00\x02\x01\x00"
_DISCONNECTED = ("end error:ECONNRESET Client network socket disconnected before secure TLS "
                 "connection was established close:true")
_NODE_CLIENT_MSG = _NODE_CLIENT.replace("e.code)", "e.code + ' ' + e.message)")


async def _raw_peer(data: bytes) -> tuple[asyncio.subprocess.Process, int]:
    peer = await asyncio.create_subprocess_exec(sys.executable, "-c", _RAW_PEER, data.hex(),
                                                stdout=asyncio.subprocess.PIPE)
    assert peer.stdout is not None
    line = (await wait(peer.stdout.readline())).decode().split()
    assert line[0] == "LISTENING", line
    return peer, int(line[1])


async def test_node_close_notify_before_server_hello(certs: Any) -> None:
    peer, port = await _raw_peer(_CLOSE_NOTIFY)
    try:
        rc, out, err = await run_node(_NODE_CLIENT_MSG, str(port), certs.server.ca_path)
    finally:
        await _finish(peer)
    assert (rc, out.strip(), err.strip()) == (0, _DISCONNECTED, "")


async def test_nodetls_close_notify_before_server_hello(certs: Any) -> None:
    peer, port = await _raw_peer(_CLOSE_NOTIFY)
    events: list[str] = []
    closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    try:
        sock = tls.connect({"port": port, "host": "127.0.0.1",
                            "ca": certs.server.ca_path.read_bytes(), "servername": "localhost"})
        sock.on("error", lambda e: events.append(f"error:{getattr(e, 'code', e)} {e}"))
        sock.on("end", lambda: events.append("end"))
        sock.on("close", lambda h: (events.append(f"close:{str(h).lower()}"),
                                    closed.set_result(None)))
        await wait(closed)
    finally:
        await _finish(peer)
    assert " ".join(events) == _DISCONNECTED
