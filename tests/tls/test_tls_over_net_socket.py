"""A TLSSocket over a connected ``net.Socket`` (``tls.connect({'socket': raw})``, a server's
``'connection'`` socket): in Node both share one handle, so the raw socket still acts on the
connection once TLS runs over it.

Recorded with Node v20 (``test_same_events_as_node`` runs the scenarios in ``node``), per
socket, once the client's handshake completed:

* ``raw.destroy()``: raw ``'close'(false)``, then the TLS socket's ``'close'(false)``; the server
  sees the connection end (``'end'``, ``'close'(false)``);
* ``raw.resetAndDestroy()``: the same on the client; the server gets ``ECONNRESET`` and no
  ``'end'`` (a TCP RST, no close_notify before it);
* ``tlsSocket.destroy()``: the raw socket is destroyed too (``'close'(false)``);
* ``raw.destroy(err)``: ``err`` is the TLS socket's ``'error'`` too; the TLS socket closes
  without error, the raw one with;
* ``raw.destroy()`` while the handshake waits (the server's SNI callback never answers): the
  TLS socket closes without an error, the server reports ``'tlsClientError'`` ``ECONNRESET``.

Before, the raw socket was a shell without effect: its ``destroy()`` left the TLS connection
open for good, its ``resetAndDestroy()`` sent no RST, its ``unref()`` did not let the program
end, and its addresses were ``None``.
"""

from __future__ import annotations

import asyncio
import json
import socket
from functools import partial
from typing import Any

import pytest
from tlsutil import TIMEOUT, event, read_until, run_on, shut, wait

import nodetls as tls
from helpers.peers import run_node
from nodetls import net

HOWS = ("destroy", "reset", "tlsdestroy", "error", "stall")

# Per socket, what Node v20 emits in each scenario (see the module docstring).
NODE = {
    "destroy": {"raw": ["close false"], "tls": ["close false"], "server": ["end", "close false"]},
    "reset": {"raw": ["close false"], "tls": ["close false"],
              "server": ["error ECONNRESET", "close true"]},
    "tlsdestroy": {"raw": ["close false"], "tls": ["close false"],
                   "server": ["end", "close false"]},
    "error": {"raw": ["error boom", "close true"], "tls": ["error boom", "close false"],
              "server": ["end", "close false"]},
    "stall": {"raw": ["close false"], "tls": ["close false"],
              "server": ["tlsClientError ECONNRESET"]},
}


async def scenario(certs: Any, how: str) -> dict[str, list[str]]:
    """Run one scenario with nodetls; the events of each socket, once all three are done."""
    loop = asyncio.get_running_loop()
    log: dict[str, list[str]] = {"raw": [], "tls": [], "server": []}
    done = {"raw": loop.create_future(), "tls": loop.create_future(),
            "server": loop.create_future()}

    def record(who: str, what: str, last: bool = False) -> None:
        log[who].append(what)
        if last and not done[who].done():
            done[who].set_result(None)

    def on_secure(s: tls.TLSSocket) -> None:
        s.on("error", lambda e: record("server", f"error {e.code}"))
        s.on("end", lambda: record("server", "end"))
        s.on("close", lambda h: record("server", f"close {str(h).lower()}", True))
        s.write(b"x")

    opts = dict(certs.server.options)
    raw: Any = None
    if how == "stall":  # the SNI callback never answers; the client's raw socket is destroyed
        opts["SNICallback"] = lambda name, cb: loop.call_soon(raw.destroy)
    server = tls.create_server(opts, on_secure)
    server.on("tlsClientError",
              lambda e, s: record("server", f"tlsClientError {e.code}", True))
    await server.listen(0, "127.0.0.1")
    try:
        raw = net.connect(server.address()["port"], "127.0.0.1")
        await wait(event(raw, "connect"))
        sock = tls.connect({"socket": raw, "ca": certs.root.cert_pem, "servername": "localhost"})
        for who, emitter in (("raw", raw), ("tls", sock)):
            emitter.on("error", lambda e, who=who: record(who, f"error {getattr(e, 'code', None) or e}"))
            emitter.on("close", lambda h, who=who: record(who, f"close {str(h).lower()}", True))

        if how != "stall":
            await wait(event(sock, "data"))  # (the server's b"x": both ends are secure)
            if how == "destroy":
                raw.destroy()
            elif how == "reset":
                raw.reset_and_destroy()
            elif how == "tlsdestroy":
                sock.destroy()
            elif how == "error":
                raw.destroy(Exception("boom"))
        await asyncio.wait_for(asyncio.gather(*done.values()), TIMEOUT)
        assert raw.destroyed and sock.destroyed
    finally:
        server.close()
    return log


async def secure_over_raw(certs: Any, port: int) -> tuple[net.Socket, tls.TLSSocket]:
    """A net socket connected to ``port`` and a TLS client over it, once secure."""
    raw = net.connect(port, "127.0.0.1")
    await wait(event(raw, "connect"))
    sock = tls.connect({"socket": raw, "ca": certs.root.cert_pem, "servername": "localhost"})
    await wait(sock)
    return raw, sock


@pytest.mark.parametrize("how", HOWS)
async def test_raw_socket_acts_on_the_connection(certs, how):
    assert await scenario(certs, how) == NODE[how]


@pytest.mark.parametrize("how", HOWS)
def test_raw_socket_acts_on_the_connection_on_uvloop(certs, how):
    """The same on uvloop's transports (``nodetls.run(loop='uvloop')``)."""
    async def main() -> dict[str, list[str]]:
        return await scenario(certs, how)

    assert run_on("uvloop", main) == NODE[how]


async def test_raw_socket_close_comes_before_the_tls_sockets(certs):
    """Node: ``raw.destroy()`` after the handshake -- the raw socket's 'close', then the TLS
    socket's (whose destroy the raw one's close makes)."""
    server = tls.create_server(certs.server.options, lambda s: None)
    await server.listen(0, "127.0.0.1")
    try:
        raw, sock = await secure_over_raw(certs, server.address()["port"])
        order: list[str] = []
        raw.on("close", lambda h: order.append("raw"))
        closed = event(sock, "close")
        sock.on("close", lambda h: order.append("tls"))
        raw.destroy()
        await wait(closed)
        assert order == ["raw", "tls"]
    finally:
        server.close()


async def test_raw_socket_addresses_and_options_reach_the_connection(certs):
    """Node: the raw socket keeps the handle -- its addresses are the connection's, and its
    ``setNoDelay`` sets ``TCP_NODELAY`` on the socket TLS runs over."""
    server = tls.create_server(certs.server.options, lambda s: s.on("data", s.write))
    await server.listen(0, "127.0.0.1")
    port = server.address()["port"]
    try:
        raw, sock = await secure_over_raw(certs, port)
        assert (raw.remote_address, raw.remote_port, raw.remote_family) == \
            ("127.0.0.1", port, "IPv4")
        assert raw.local_port == sock.local_port and raw.address() == sock.address()
        fd = sock._handle.get_extra_info("socket")
        raw.set_no_delay(False)
        assert fd.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        raw.set_no_delay(True)
        assert fd.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        raw.set_keep_alive(True, 30)
        assert fd.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        sock.write(b"still fine")
        assert await read_until(sock, 10) == b"still fine"
        sock.destroy()
        await wait(event(raw, "close"))
    finally:
        server.close()


async def test_server_connection_socket_reset_is_an_rst(certs):
    """A server's ``'connection'`` socket, which the server's TLSSocket took over: its
    ``resetAndDestroy()`` resets the connection (the client reads ``ECONNRESET``, no 'end')."""
    raws: list[net.Socket] = []
    server = tls.create_server(certs.server.options, lambda s: None)
    server.on("connection", raws.append)
    secured = event(server, "secureConnection")
    await server.listen(0, "127.0.0.1")
    try:
        client = tls.connect({"port": server.address()["port"], "host": "127.0.0.1",
                              "ca": certs.root.cert_pem, "servername": "localhost"})
        await wait(client)
        await wait(secured)
        got: list[str] = []
        client.on("end", lambda: got.append("end"))
        failed = event(client, "error")
        assert raws[0].remote_port == client.local_port
        raws[0].reset_and_destroy()
        err = await wait(failed)
        assert err.code == "ECONNRESET" and got == []
    finally:
        server.close()


async def test_tls_socket_destroyed_before_the_raw_one_connects(certs):
    """The TLS socket destroyed while the socket under it still connects: that socket is
    destroyed too (Node: the TLS close destroys the socket it wraps), nothing stays open."""
    server = tls.create_server(certs.server.options, lambda s: None)
    await server.listen(0, "127.0.0.1")
    try:
        raw = net.connect(server.address()["port"], "127.0.0.1")
        sock = tls.connect({"socket": raw, "ca": certs.root.cert_pem, "servername": "localhost"})
        raw_closed, tls_closed = event(raw, "close"), event(sock, "close")
        sock.destroy()
        await wait(tls_closed)
        await wait(raw_closed)
        assert raw.destroyed
    finally:
        server.close()


NODE_SCENARIO = r"""
const tls = require('tls'); const net = require('net');
const [how, key, cert] = [process.argv[2], process.argv[3], process.argv[4]];
const log = { raw: [], tls: [], server: [] };
const left = new Set(['raw', 'tls', 'server']);
const record = (who, what, last) => {
  log[who].push(what);
  if (last) { left.delete(who); if (left.size === 0) { console.log(JSON.stringify(log)); srv.close(); } }
};
const opts = { key, cert };
let raw;
// stall: the server's SNI callback never answers; the client's raw socket is destroyed then
if (how === 'stall') opts.SNICallback = () => setImmediate(() => raw.destroy());
const srv = tls.createServer(opts, (s) => {
  s.on('error', (e) => record('server', 'error ' + e.code));
  s.on('end', () => record('server', 'end'));
  s.on('close', (h) => record('server', 'close ' + h, true));
  s.write('x');
});
srv.on('tlsClientError', (e) => record('server', 'tlsClientError ' + e.code, true));
srv.listen(0, '127.0.0.1', () => {
  raw = net.connect(srv.address().port, '127.0.0.1', () => {
    const sock = tls.connect({ socket: raw, rejectUnauthorized: false, servername: 'localhost' });
    for (const [who, e] of [['raw', raw], ['tls', sock]]) {
      e.on('error', (err) => record(who, 'error ' + (err.code || err.message)));
      e.on('close', (h) => record(who, 'close ' + h, true));
    }
    if (how === 'stall') return;
    sock.once('data', () => {  // (the server's 'x': both ends are secure)
      if (how === 'destroy') raw.destroy();
      else if (how === 'reset') raw.resetAndDestroy();
      else if (how === 'tlsdestroy') sock.destroy();
      else if (how === 'error') raw.destroy(new Error('boom'));
    });
  });
});
"""


@pytest.mark.interop
@pytest.mark.parametrize("how", HOWS)
async def test_same_events_as_node(certs, how):
    """The table above is Node's: the same scenario in ``node``."""
    res = await run_node(NODE_SCENARIO, how, certs.server.key_pem, certs.server.cert_pem)
    assert res.rc == 0, res.stderr
    assert json.loads(res.stdout.strip().splitlines()[-1]) == NODE[how]


@pytest.mark.timeout(20)
@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_raw_socket_unref_lets_run_return(certs, loop):
    """Node: ``raw.unref()`` unrefs the handle the TLSSocket shares, so the program ends with
    the TLS connection still open (here ``nodetls.run`` returns; before, it waited for good)."""
    secured: list[str] = []

    def main() -> None:
        server = tls.create_server(certs.server.options, lambda s: s.unref())

        def listening() -> None:  # (a host is looked up first: bound on a later step)
            raw = net.connect(server.address()["port"], "127.0.0.1")

            def connected() -> None:
                sock = tls.connect({"socket": raw, "ca": certs.root.cert_pem,
                                    "servername": "localhost"})
                sock.on("secureConnect", lambda: (secured.append("secure"), raw.unref()))

            raw.on("connect", connected)

        server.listen(0, "127.0.0.1", listening).unref()

    run_on(loop, main)
    assert secured == ["secure"]


async def test_tls_socket_reset_sends_no_close_notify(certs):
    """``TLSSocket.reset_and_destroy()`` itself: the peer reads the RST alone (``ECONNRESET``,
    no ``'end'``), as from Node's raw ``resetAndDestroy()`` -- the close_notify our
    ``destroy()`` otherwise sends first would end the peer's stream cleanly before it."""
    seen: list[str] = []
    done = asyncio.get_running_loop().create_future()

    def on_secure(s: tls.TLSSocket) -> None:
        s.on("end", lambda: seen.append("end"))
        s.on("error", lambda e: seen.append(f"error {e.code}"))
        s.on("close", lambda h: done.set_result(h))
        s.write(b"x")

    server = tls.create_server(certs.server.options, on_secure)
    await server.listen(0, "127.0.0.1")
    try:
        client = tls.connect({"port": server.address()["port"], "host": "127.0.0.1",
                              "ca": certs.root.cert_pem, "servername": "localhost"})
        await wait(event(client, "data"))
        client.reset_and_destroy()
        assert await wait(done) is True
        assert seen == ["error ECONNRESET"]
    finally:
        server.close()


async def test_given_sockets_in_every_state(certs):
    """Node's test-tls-connect-given-socket, in our words: TLS over a socket destroyed at once,
    over one whose TLSSocket is destroyed in the socket's own 'connect' (before TLS starts on
    it), over a connected one and over a connecting one. The last two get the server's
    'Hello' and its end; the first two reach no secure connection and leave nothing open:
    the server's close completes."""
    loop = asyncio.get_running_loop()
    secured: list[str] = []
    server = tls.create_server(certs.server.options, lambda s: (secured.append("s"),
                                                                s.end(b"Hello")))
    server.on("tlsClientError", lambda e, s: None)
    await server.listen(0, "127.0.0.1")
    port = server.address()["port"]
    got: list[bytes] = []
    ended = loop.create_future()

    def establish(raw: net.Socket) -> tls.TLSSocket:
        client = tls.connect({"socket": raw, "ca": certs.root.cert_pem,
                              "servername": "localhost"})
        chunks: list[bytes] = []
        client.on("data", lambda d: chunks.append(bytes(d)))

        def on_end() -> None:
            got.append(b"".join(chunks))
            if len(got) == 2:
                ended.set_result(None)

        client.on("end", on_end)
        assert client.readable and client.writable
        return client

    dead = net.connect(port, "127.0.0.1")
    establish(dead).destroy()
    outliving_tcp = net.connect(port, "127.0.0.1")
    outliving_tcp.on("connect", lambda: outliving_tls.destroy())
    outliving_tls = establish(outliving_tcp)
    await wait(event(outliving_tcp, "close"))
    connected = net.connect(port, "127.0.0.1", lambda: establish(connected))
    establish(net.connect(port, "127.0.0.1"))
    await wait(ended)
    assert got == [b"Hello", b"Hello"] and secured == ["s", "s"]
    assert dead.destroyed and outliving_tcp.destroyed
    closed = event(server, "close")
    server.close()
    await wait(closed)  # (nothing left open: a leftover connection would hold it)


HANDSHAKE_EOF_NODE = r"""
const net = require('net'); const tls = require('tls');
const server = net.createServer((c) => c.end()).listen(0, '127.0.0.1', async () => {
  const port = server.address().port;
  const out = {};
  for (const mode of ['plain', 'given-later', 'given-connected']) {
    out[mode] = await new Promise((resolve) => {
      const report = (e) => resolve([e.code, e.message, e.path ?? null, e.host ?? null,
                                     e.port === port ? 'port' : (e.port ?? null),
                                     e.localAddress ?? null]);
      if (mode === 'plain') {
        tls.connect({ port, host: '127.0.0.1' }).once('error', report);
      } else if (mode === 'given-later') {
        const s = new net.Socket();
        tls.connect({ socket: s }).once('error', report);
        s.connect(port, '127.0.0.1');
      } else {
        const s = net.connect(port, '127.0.0.1', () => tls.connect({ socket: s }).once('error', report));
      }
    });
  }
  console.log(JSON.stringify(out));
  server.close();
});
"""


async def handshake_eof_errors() -> dict[str, list[Any]]:
    """What a TLS client reports when the server ends the TCP connection during the handshake,
    connected by tls.connect itself and over a given socket (connected later / already)."""
    # (the accepted connections, ended at once, are never read: they never close on their own,
    # in Node neither; destroyed at the end)
    conns: list[net.Socket] = []
    server = net.create_server(lambda c: (conns.append(c), c.end()))
    await server.listen(0, "127.0.0.1")
    port = server.address()["port"]
    out: dict[str, list[Any]] = {}

    def wrap_reporting(raw: net.Socket, failed: asyncio.Future[Any]) -> None:
        tls.connect({"socket": raw}).once("error", failed.set_result)

    try:
        for mode in ("plain", "given-later", "given-connected"):
            failed = asyncio.get_running_loop().create_future()
            if mode == "plain":
                tls.connect({"port": port, "host": "127.0.0.1"}).once("error", failed.set_result)
            elif mode == "given-later":
                raw = net.Socket()
                tls.connect({"socket": raw}).once("error", failed.set_result)
                raw.connect(port, "127.0.0.1")
            else:  # (wrapped in the 'connect' listener, before the server's FIN is read: a
                # socket that read it first stays waiting for the handshake, in Node too)
                connected = net.Socket()
                connected.connect(port, "127.0.0.1", partial(wrap_reporting, connected, failed))
            e = await wait(failed)
            out[mode] = [e.code, str(e), e.path, e.host, "port" if e.port == port else e.port,
                         e.local_address]
    finally:
        await shut(server, *conns)
    return out


async def test_client_reports_the_server_ending_the_handshake_as_node():
    """Node's onConnectEnd (test-tls-wrap-econnreset-socket): ``ECONNRESET`` "Client network
    socket disconnected before secure TLS connection was established", with the connect
    options' ``path``, ``host``, ``port`` and ``localAddress`` as given (none over a given
    socket). Before: "socket hang up" without those fields."""
    assert await handshake_eof_errors() == HANDSHAKE_EOF_ERRORS


def test_client_reports_the_server_ending_the_handshake_on_uvloop():
    assert run_on("uvloop", handshake_eof_errors) == HANDSHAKE_EOF_ERRORS


_MSG = "Client network socket disconnected before secure TLS connection was established"
HANDSHAKE_EOF_ERRORS = {
    "plain": ["ECONNRESET", _MSG, None, "127.0.0.1", "port", None],
    "given-later": ["ECONNRESET", _MSG, None, None, None, None],
    "given-connected": ["ECONNRESET", _MSG, None, None, None, None],
}


@pytest.mark.interop
async def test_client_handshake_eof_error_same_as_node():
    res = await run_node(HANDSHAKE_EOF_NODE)
    assert res.rc == 0, res.stderr
    assert json.loads(res.stdout.strip().splitlines()[-1]) == await handshake_eof_errors()


async def test_raw_socket_timeout_counts_the_tls_traffic(certs):
    """Node: a timeout set on the raw socket (a STARTTLS server's idle timer, say) is refreshed
    by the TLSSocket's reads and writes (``_unrefTimer`` walks the parents), so it fires once
    the TLS traffic stops, not in the middle of it. Here: writes every 0.1 s for 2 s under a
    1 s timeout on the raw socket; before, it fired 1 s after being set."""
    loop = asyncio.get_running_loop()
    server = tls.create_server(certs.server.options, lambda s: s.on("data", s.write))
    await server.listen(0, "127.0.0.1")
    try:
        raw, sock = await secure_over_raw(certs, server.address()["port"])
        log: list[str] = []
        raw.set_timeout(1.0, lambda: log.append("raw timeout"))
        sock.on("timeout", lambda: log.append("tls timeout"))
        for _ in range(20):
            sock.write(b"x")
            await asyncio.sleep(0.1)  # (the traffic itself: no synchronisation depends on it)
        log.append("traffic stopped")
        fired = event(raw, "timeout")
        started = loop.time()
        await wait(fired)
        assert log == ["traffic stopped", "raw timeout"]
        assert loop.time() - started < 1.0 + 0.125 + 1.5  # (one timeout, one look, slack)
        sock.destroy()
    finally:
        await shut(server)
