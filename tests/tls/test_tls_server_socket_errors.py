"""An error on a socket a ``tls.Server`` accepted, once its handshake is done, with no ``'error'``
listener of the user's: nothing is reported, as in Node v20.

Node's ``tlsConnectionListener`` gives every socket it accepts its own ``'error'`` listener
(``onSocketTLSError``): before the handshake completed it turns the error into
``'tlsClientError'``; after, it drops it. So a client resetting an established connection is a
``'close'`` with ``had_error`` true and nothing else: no throw, no log line (checked here against
node with the same client). An exception a listener raises is still reported (the API's rule; in
Node an uncaught exception), and a client socket's unhandled error too.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

import pytest
from tlsutil import connect, event, listen, shut, wait

from helpers.peers import run_node

# A real peer in its own process: handshake, one byte there and back, then a reset (SO_LINGER 0).
_RESET_CLIENT = r"""
import socket, ssl, struct, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))),
                    server_hostname="localhost")
s.settimeout(10)
s.sendall(b"x")
assert s.recv(1) == b"x"
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
"""

_NODE_SERVER = r"""
const tls = require('tls'), fs = require('fs'), cp = require('child_process');
const [cert, key, ca, py, client] = process.argv.slice(2);
const srv = tls.createServer({cert: fs.readFileSync(cert), key: fs.readFileSync(key)}, (s) => {
  s.on('data', (d) => s.write(d));
  s.on('close', (hadError) => { console.log('close ' + hadError); srv.close(); });
});
srv.on('tlsClientError', (e) => { console.log('tlsClientError ' + e.code); srv.close(); });
srv.listen(0, '127.0.0.1', () => {
  cp.spawn(py, ['-c', client, String(srv.address().port), ca], {stdio: 'inherit'});
});
"""


async def _reset_client(port: int, ca: Any) -> None:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", _RESET_CLIENT, str(port),
                                                str(ca))
    assert await asyncio.wait_for(proc.wait(), 20) == 0


def _record_loop_reports() -> list[dict[str, Any]]:
    reports: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: reports.append(ctx))
    return reports


async def test_node_drops_a_reset_on_an_accepted_socket(certs: Any) -> None:
    rc, out, err = await run_node(_NODE_SERVER, certs.server.chain_path, certs.server.key_path,
                                  certs.server.ca_path, sys.executable, _RESET_CLIENT)
    assert (rc, out.strip(), err.strip()) == (0, "close true", "")


async def test_reset_after_the_handshake_is_not_reported(certs: Any,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    reports = _record_loop_reports()
    closed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    client_errors: list[Any] = []

    def on_secure(sock: Any) -> None:
        sock.on("data", sock.write)
        sock.on("close", closed.set_result)

    server, port = await listen(certs.server.options, on_secure)
    server.on("tlsClientError", client_errors.append)
    try:
        with caplog.at_level(logging.DEBUG, logger="nodetls"):
            await _reset_client(port, certs.server.ca_path)
            assert await wait(closed) is True  # had_error, as Node's
        assert reports == [] and client_errors == []
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
        # (said at debug level, for whoever looks)
        assert any("no 'error' listener" in r.getMessage() for r in caplog.records)
    finally:
        await shut(server)


async def test_a_user_error_listener_still_gets_it(certs: Any) -> None:
    got: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def on_secure(sock: Any) -> None:
        sock.on("data", sock.write)
        sock.on("error", got.set_result)

    server, port = await listen(certs.server.options, on_secure)
    try:
        await _reset_client(port, certs.server.ca_path)
        assert (await wait(got)).code == "ECONNRESET"
    finally:
        await shut(server)


async def test_a_listener_raising_is_still_reported(certs: Any) -> None:
    reports = _record_loop_reports()
    closed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    boom = RuntimeError("listener bug")

    def on_data(_chunk: bytes) -> None:
        raise boom

    def on_secure(sock: Any) -> None:
        sock.on("data", on_data)
        sock.on("close", closed.set_result)

    server, port = await listen(certs.server.options, on_secure)
    try:
        client = await connect(port, ca=certs.root.cert_pem, servername="localhost")
        client.on("error", lambda e: None)
        client_closed = event(client, "close")
        client.write(b"x")
        assert await wait(closed) is True
        await wait(client_closed)
        assert [r.get("exception") for r in reports] == [boom]
    finally:
        await shut(server)


async def test_a_client_socket_s_unhandled_error_is_still_reported(certs: Any) -> None:
    reports = _record_loop_reports()
    accepted: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    server, port = await listen(certs.server.options, accepted.set_result)
    try:
        client = await connect(port, ca=certs.root.cert_pem, servername="localhost")
        closed = event(client, "close")
        srv = await wait(accepted)
        srv.on("error", lambda e: None)
        srv.reset_and_destroy()  # (the RST: the client sees read ECONNRESET)
        assert await wait(closed) is True
        assert [getattr(r.get("exception"), "code", None) for r in reports] == ["ECONNRESET"]
    finally:
        await shut(server)
