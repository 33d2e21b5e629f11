"""Node behaviours that a program meets first (issue 6, items 1-4).

Each test states Node v20's behaviour; the ``interop`` tests run the same scenario in ``node``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from typing import Any

import pytest
from cryptography.x509.oid import NameOID
from tlsutil import TIMEOUT, event, listen, read_until, wait

import nodetls as tls
from helpers.peers import free_port, run_node
from nodetls import net, stream
from nodetls._openssl import constants as C

# ---------------------------------------------------------------- item 1: 'newSession' timing

CASES = {
    "tls12-session-ids": ("TLSv1.2", C.SSL_OP_NO_TICKET),
    "tls13-tickets": ("TLSv1.3", 0),
    "tls13-stateful-tickets": ("TLSv1.3", C.SSL_OP_NO_TICKET),
}

# What Node v20 does (test_node_new_session_scenario runs it in node).
# TLS 1.2: the server holds its Finished until the 'newSession' callback is called, so
# 'secureConnection' (and the client's 'secureConnect') follow the callback.
EXPECTED_TLS12 = ["newSession", "callback", "secureConnection", "secureConnect", "session"]
# TLS 1.3: 'secureConnection' at the end of the handshake, one 'newSession' per ticket after it.
EXPECTED_TLS13_SERVER = ["secureConnection", "newSession", "newSession", "callback", "callback"]
SERVER_EVENTS = {"secureConnection", "newSession", "callback"}


async def new_session_scenario(certs: Any, version: str, secure_options: int,
                               mode: str) -> list[str]:
    """A server whose 'newSession' answers 50 ms later (an external store); a client that ends
    at 'secureConnect' (``mode='end'``) or once it has its sessions (``'keep'``).  Returns the
    events in order, once the client closed and every callback was called."""
    loop = asyncio.get_running_loop()
    log: list[str] = []
    state = {"new": 0, "called": 0, "closed": False}
    finished: asyncio.Future[None] = loop.create_future()

    def check() -> None:
        ended = "secureConnection" in log or any(e.startswith("tlsClientError") for e in log)
        if state["closed"] and ended and state["new"] and state["called"] == state["new"] \
                and not finished.done():
            finished.set_result(None)

    def on_new(session_id: bytes, data: bytes, cb: Any) -> None:
        log.append("newSession")
        state["new"] += 1

        def later() -> None:
            log.append("callback")
            state["called"] += 1
            cb()
            check()

        loop.call_later(0.05, later)

    def on_secure(sock: tls.TLSSocket) -> None:
        log.append("secureConnection")
        sock.on("error", lambda e: None)
        check()

    server, port = await listen({**certs.server.options, "min_version": version,
                                 "max_version": version, "secure_options": secure_options},
                                on_secure)
    server.on("newSession", on_new)
    server.on("tlsClientError", lambda e, s: (log.append(f"tlsClientError {e.code}"), check()))
    wanted = 1 if version == "TLSv1.2" else 2
    sessions: list[bytes] = []
    client = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                "servername": "localhost", "min_version": version,
                                "max_version": version})

    def on_secure_connect() -> None:
        log.append("secureConnect")
        if mode == "end":
            client.end()

    def on_session(der: bytes) -> None:
        log.append("session")
        sessions.append(der)
        if mode == "keep" and len(sessions) == wanted:
            client.end()

    def on_close(*_: Any) -> None:
        state["closed"] = True
        check()

    client.on("secureConnect", on_secure_connect)
    client.on("session", on_session)
    client.on("error", lambda e: log.append(f"client error {getattr(e, 'code', e)}"))
    client.on("close", on_close)
    try:
        await asyncio.wait_for(finished, TIMEOUT)
    except TimeoutError:
        pytest.fail(f"scenario did not finish: {log}")
    finally:
        client.destroy()
        server.close()
    return log


def project(log: list[str], version: str) -> list[str]:
    """The part of the log whose order is deterministic (as in Node)."""
    if version == "TLSv1.2":
        return log
    return [e for e in log if e in SERVER_EVENTS]


@pytest.mark.parametrize("case", list(CASES))
async def test_secure_connection_not_lost_when_client_ends_at_once(certs, case):
    version, secure_options = CASES[case]
    log = await new_session_scenario(certs, version, secure_options, "end")
    assert log.count("secureConnection") == 1, log
    assert not [e for e in log if "rror" in e], log
    if version == "TLSv1.2":
        assert log[:4] == EXPECTED_TLS12[:4], log
    else:
        assert project(log, version) == EXPECTED_TLS13_SERVER, log


@pytest.mark.parametrize("case", list(CASES))
async def test_new_session_ordering(certs, case):
    version, secure_options = CASES[case]
    log = await new_session_scenario(certs, version, secure_options, "keep")
    if version == "TLSv1.2":
        assert log == EXPECTED_TLS12
    else:
        assert project(log, version) == EXPECTED_TLS13_SERVER, log
        assert log.count("session") == 2, log


@pytest.mark.parametrize("how", ["end", "reset"])
async def test_tls12_close_while_new_session_pending_is_a_client_error(certs, how):
    """Node's onSocketClose: the peer leaves while the server still holds its Finished ->
    'tlsClientError' ECONNRESET 'socket hang up', no 'secureConnection'; the late callback is
    ignored."""
    loop = asyncio.get_running_loop()
    pending: asyncio.Future[Any] = loop.create_future()
    errors: asyncio.Future[BaseException] = loop.create_future()
    secure: list[Any] = []
    server, port = await listen({**certs.server.options, "min_version": "TLSv1.2",
                                 "max_version": "TLSv1.2",
                                 "secure_options": C.SSL_OP_NO_TICKET}, secure.append)
    server.on("newSession", lambda sid, data, cb: pending.set_result(cb))
    server.on("tlsClientError", lambda e, s: errors.done() or errors.set_result(e))
    client = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                "servername": "localhost"})
    client.on("error", lambda e: None)
    connected: list[Any] = []
    client.on("secureConnect", lambda: connected.append(True))
    try:
        cb = await wait(pending)
        assert connected == []  # the client cannot complete while the Finished is held
        if how == "reset":  # SO_LINGER 0: close() sends a TCP RST
            raw = client._handle.lower._tcp_socket()
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.destroy()
        err = await wait(errors)
        assert err.code == "ECONNRESET"
        if how == "end":
            assert str(err) == "socket hang up"
        cb()  # late: ignored
        assert secure == []
    finally:
        server.close()


# The same scenario in Node (server and client in one node process), printing the same events.
NODE_NEW_SESSION_SCENARIO = r"""
const tls = require('tls'); const fs = require('fs'); const { constants } = require('crypto');
const [cert, key, ca, version, noTicket, mode] = process.argv.slice(2);
const log = []; let news = 0, called = 0, closed = false, printed = false;
function check() {
  const ended = log.includes('secureConnection') || log.some((e) => e.startsWith('tlsClientError'));
  if (closed && ended && news && called === news && !printed) {
    printed = true; console.log(JSON.stringify(log)); srv.close();
  }
}
const srv = tls.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key),
  minVersion: version, maxVersion: version,
  secureOptions: noTicket === '1' ? constants.SSL_OP_NO_TICKET : 0 }, (s) => {
  log.push('secureConnection'); s.on('error', () => {}); check();
});
srv.on('newSession', (id, data, cb) => {
  log.push('newSession'); news++;
  setTimeout(() => { log.push('callback'); called++; cb(); check(); }, 50);
});
srv.on('tlsClientError', (e) => { log.push('tlsClientError ' + e.code); check(); });
srv.listen(0, '127.0.0.1', () => {
  const wanted = version === 'TLSv1.2' ? 1 : 2; let sessions = 0;
  const c = tls.connect({ port: srv.address().port, host: '127.0.0.1', ca: fs.readFileSync(ca),
    servername: 'localhost', minVersion: version, maxVersion: version }, () => {
    log.push('secureConnect'); if (mode === 'end') c.end();
  });
  c.on('session', () => { log.push('session'); if (mode === 'keep' && ++sessions === wanted) c.end(); });
  c.on('error', (e) => log.push('client error ' + e.code));
  c.on('close', () => { closed = true; check(); });
});
setTimeout(() => { console.log(JSON.stringify(log)); process.exit(1); }, 10000).unref();
"""


@pytest.mark.interop
@pytest.mark.parametrize("mode", ["end", "keep"])
@pytest.mark.parametrize("case", list(CASES))
async def test_node_new_session_scenario(certs, node_bin, case, mode):
    """Node's own order is the one the tests above expect, and nodetls's matches it."""
    version, secure_options = CASES[case]
    rc, out, err = await run_node(NODE_NEW_SESSION_SCENARIO, certs.server.chain_path,
                                  certs.server.key_path, certs.root.cert_path, version,
                                  "1" if secure_options else "0", mode, timeout=30)
    assert rc == 0, out + err
    node_log = json.loads(out.strip().splitlines()[-1])
    ours = await new_session_scenario(certs, version, secure_options, mode)
    if version == "TLSv1.2":
        expected = EXPECTED_TLS12 if mode == "keep" else EXPECTED_TLS12[:4]
        assert node_log[:len(expected)] == expected, node_log
        assert ours[:len(expected)] == expected, ours
    else:
        assert project(node_log, version) == EXPECTED_TLS13_SERVER, node_log
        assert project(ours, version) == EXPECTED_TLS13_SERVER, ours


NODE_CLIENT_ENDS_AT_ONCE = r"""
const tls = require('tls'); const fs = require('fs');
const [port, ca, version] = process.argv.slice(2);
const c = tls.connect({ port: +port, host: '127.0.0.1', ca: fs.readFileSync(ca),
  servername: 'localhost', minVersion: version, maxVersion: version }, () => {
  console.log('secureConnect'); c.end();
});
c.on('error', (e) => { console.log('error ' + e.code); process.exit(1); });
"""


@pytest.mark.interop
@pytest.mark.parametrize("case", list(CASES))
async def test_node_client_ending_at_once_gets_its_secure_connection(certs, node_bin, case):
    """A real Node client that ends at 'secureConnect': the nodetls server, whose 'newSession'
    answers late, still emits 'secureConnection' for it."""
    version, secure_options = CASES[case]
    loop = asyncio.get_running_loop()
    secure: asyncio.Future[Any] = loop.create_future()
    server, port = await listen({**certs.server.options, "min_version": version,
                                 "max_version": version, "secure_options": secure_options},
                                lambda s: secure.done() or secure.set_result(s))
    server.on("newSession", lambda sid, data, cb: loop.call_later(0.05, cb))
    try:
        rc, out, err = await run_node(NODE_CLIENT_ENDS_AT_ONCE, str(port), certs.root.cert_path,
                                      version, timeout=30)
        assert rc == 0 and "secureConnect" in out, out + err
        await wait(secure)
    finally:
        server.close()


# ---------------------------------------------------------------- item 2: a socket still connecting

async def reply_server(certs: Any) -> tuple[tls.Server, int]:
    def on_secure(s: tls.TLSSocket) -> None:
        s.on("data", lambda d: s.end(b"got " + bytes(d)))

    return await listen(certs.server.options, on_secure)


async def test_connect_over_a_net_socket_still_connecting(certs):
    """Node: tls.connect({socket}) with a socket still connecting waits for its 'connect', then
    starts TLS; meanwhile the TLS socket is ``connecting`` and queues writes."""
    server, port = await reply_server(certs)
    try:
        raw = net.connect(port, "127.0.0.1")
        assert raw.connecting
        sock = tls.connect({"socket": raw, "ca": certs.root.cert_pem, "servername": "localhost"})
        assert sock.connecting is True
        events: list[str] = []
        sock.on("connect", lambda: events.append("connect"))
        sock.on("secureConnect", lambda: events.append("secureConnect"))
        sock.write(b"early")
        await wait(sock)
        assert sock.connecting is False and sock.authorized
        assert await read_until(sock, 9) == b"got early"
        assert events == ["connect", "secureConnect"]
        sock.destroy()
    finally:
        server.close()


async def test_connect_over_a_new_net_socket_connected_later(certs):
    server, port = await reply_server(certs)
    try:
        raw = net.Socket()
        sock = tls.connect({"socket": raw, "ca": certs.root.cert_pem, "servername": "localhost"})
        raw.connect(port, "127.0.0.1")
        await wait(sock)
        sock.write(b"late")
        assert await read_until(sock, 8) == b"got late"
        sock.destroy()
    finally:
        server.close()


async def test_connect_error_of_the_wrapped_socket_reaches_the_tls_socket():
    """Node: the wrapped socket's connect error is the TLS socket's 'error', then 'close'."""
    raw = net.connect(free_port(), "127.0.0.1")
    sock = tls.connect({"socket": raw})
    closed = event(sock, "close")
    with pytest.raises(ConnectionRefusedError) as info:
        await wait(sock)
    assert info.value.code == "ECONNREFUSED"
    await wait(closed)


# ---------------------------------------------------------------- item 3: allow_half_open

async def test_allow_half_open_of_a_wrapping_socket_is_the_wrapped_sockets():
    """Node: ``allowHalfOpen = socket ? socket.allowHalfOpen : options.allowHalfOpen``."""
    assert tls.TLSSocket(net.Socket(), {"allow_half_open": True}).allow_half_open is False
    assert tls.TLSSocket(net.Socket(allow_half_open=True),
                         {"allow_half_open": False}).allow_half_open is True
    a, _b = stream.duplex_pair()
    assert tls.TLSSocket(a, {"allow_half_open": False}).allow_half_open is True
    assert tls.TLSSocket(None, {"allow_half_open": True}).allow_half_open is True
    assert tls.TLSSocket().allow_half_open is False


async def test_connect_over_a_duplex_pair_end_stays_half_open(certs):
    """A duplex_pair() end allows half-open (True), so the TLS client over it can still write
    after the server ended its side (Node)."""
    a, b = stream.duplex_pair()
    srv = tls.TLSSocket(b, {"is_server": True,
                            "secure_context": tls.create_secure_context(certs.server.options)})
    srv.on("secure", lambda: srv.end(b"bye"))
    got = bytearray()
    srv.on("data", got.extend)
    srv_end = event(srv, "end")
    cli = tls.connect({"socket": a, "ca": certs.root.cert_pem, "servername": "localhost",
                       "allow_half_open": False})
    assert cli.allow_half_open is True
    await wait(cli)
    cli_end = event(cli, "end")
    assert await read_until(cli, 3) == b"bye"
    await wait(cli_end)
    cli.end(b"still here")
    await wait(srv_end)
    assert bytes(got) == b"still here"
    cli.destroy()
    srv.destroy()


async def test_connect_allow_half_open_option_without_socket(certs):
    sock = tls.connect(free_port(), "127.0.0.1", allow_half_open=True)
    sock.on("error", lambda e: None)
    assert sock.allow_half_open is True
    sock.destroy()


# ---------------------------------------------------------------- item 4: check_server_identity

def chain_of(cert: dict[str, Any]) -> list[dict[str, Any]]:
    """Follow ``issuerCertificate`` until it points to itself (or stops)."""
    out = [cert]
    while "issuerCertificate" in out[-1] and out[-1]["issuerCertificate"] is not out[-1]:
        out.append(out[-1]["issuerCertificate"])
        assert len(out) < 10
    return out


def assert_detailed(cert: dict[str, Any], certs: Any) -> None:
    chain = chain_of(cert)
    expected = [certs.server.x509, certs.intermediate.x509, certs.root.x509]
    assert [c["subject"]["CN"] for c in chain] == [
        x.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value for x in expected]
    assert chain[-1]["issuerCertificate"] is chain[-1]  # the root is its own issuer (Node)


async def test_custom_check_server_identity_gets_the_detailed_certificate(certs):
    server, port = await listen(certs.server.options, lambda s: s.end())
    seen: list[tuple[str, dict[str, Any]]] = []

    def check(host: str, cert: dict[str, Any]) -> None:
        seen.append((host, cert))
        return tls.check_server_identity(host, cert)

    try:
        sock = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                  "servername": "localhost", "check_server_identity": check})
        await wait(sock)
        assert sock.authorized
        host, cert = seen[0]
        assert host == "localhost"
        assert_detailed(cert, certs)
        assert [c["fingerprint256"] for c in chain_of(cert)] == \
            [c["fingerprint256"] for c in chain_of(sock.get_peer_certificate(True))]
        sock.destroy()
    finally:
        server.close()


async def test_default_check_error_carries_the_detailed_certificate(certs):
    server, port = await listen(certs.server.options, lambda s: s.end())
    server.on("tlsClientError", lambda e, s: None)
    try:
        sock = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                  "servername": "other.example"})
        with pytest.raises(Exception) as info:
            await wait(sock)
        err = info.value
        assert err.code == "ERR_TLS_CERT_ALTNAME_INVALID"
        assert_detailed(err.cert, certs)
    finally:
        server.close()


NODE_IDENTITY_CHAINS = r"""
const tls = require('tls'); const fs = require('fs');
const [chain, key, ca] = process.argv.slice(2);
const names = (cert) => { const out = []; let x = cert;
  while (x) { out.push(x.subject.CN); if (x.issuerCertificate === x) { out.push('(self)'); break; }
    x = x.issuerCertificate; }
  return out; };
const result = {};
const srv = tls.createServer({ cert: fs.readFileSync(chain), key: fs.readFileSync(key) }, (s) => s.end());
srv.listen(0, '127.0.0.1', () => {
  const base = { port: srv.address().port, host: '127.0.0.1', ca: fs.readFileSync(ca) };
  const c = tls.connect({ ...base, servername: 'localhost',
    checkServerIdentity: (h, cert) => { result.custom = names(cert); } }, () => {
    c.destroy();
    const c2 = tls.connect({ ...base, servername: 'other.example' });
    c2.on('error', (e) => { result.error = names(e.cert); console.log(JSON.stringify(result)); srv.close(); });
  });
});
"""


def names(cert: dict[str, Any]) -> list[str]:
    out = [c["subject"]["CN"] for c in chain_of(cert)]
    return out + (["(self)"] if chain_of(cert)[-1].get("issuerCertificate") is not None else [])


@pytest.mark.interop
async def test_node_check_server_identity_certificate_chain(certs, node_bin):
    """Node's checkServerIdentity and err.cert see the same chain as ours."""
    rc, out, err = await run_node(NODE_IDENTITY_CHAINS, certs.server.chain_path,
                                  certs.server.key_path, certs.root.cert_path, timeout=30)
    assert rc == 0, out + err
    node = json.loads(out.strip().splitlines()[-1])
    server, port = await listen(certs.server.options, lambda s: s.end())
    server.on("tlsClientError", lambda e, s: None)
    ours: dict[str, Any] = {}
    try:
        base = {"host": "127.0.0.1", "ca": certs.root.cert_pem}
        sock = tls.connect(port, {**base, "servername": "localhost",
                                  "check_server_identity": lambda h, c: ours.update(custom=names(c))})
        await wait(sock)
        sock.destroy()
        bad = tls.connect(port, {**base, "servername": "other.example"})
        with pytest.raises(Exception) as info:
            await wait(bad)
        ours["error"] = names(info.value.cert)
    finally:
        server.close()
    assert ours == node
    assert node["custom"][-1] == "(self)" and len(node["custom"]) == 4


# ---------------------------------------------------------------- items 2 and 3 in node

NODE_CONNECTING_SOCKET = r"""
const tls = require('tls'); const net = require('net'); const fs = require('fs');
const [chain, key, ca] = process.argv.slice(2);
const srv = tls.createServer({ cert: fs.readFileSync(chain), key: fs.readFileSync(key) }, (s) => {
  s.on('data', (d) => s.end(Buffer.concat([Buffer.from('got '), d])));
});
srv.listen(0, '127.0.0.1', () => {
  const raw = net.connect(srv.address().port, '127.0.0.1');
  const out = { rawConnecting: raw.connecting, events: [] };
  const sock = tls.connect({ socket: raw, ca: fs.readFileSync(ca), servername: 'localhost' });
  out.connecting = sock.connecting;
  sock.on('connect', () => out.events.push('connect'));
  sock.on('secureConnect', () => out.events.push('secureConnect'));
  sock.write('early');
  let data = '';
  sock.on('data', (d) => { data += d; });
  sock.on('end', () => { out.data = data; console.log(JSON.stringify(out)); sock.destroy(); srv.close(); });
});
"""


@pytest.mark.interop
async def test_node_connect_over_a_connecting_socket(certs, node_bin):
    """The scenario of test_connect_over_a_net_socket_still_connecting, run by Node: the same
    states and events (and ours, side by side)."""
    rc, out, err = await run_node(NODE_CONNECTING_SOCKET, certs.server.chain_path,
                                  certs.server.key_path, certs.root.cert_path, timeout=30)
    assert rc == 0, out + err
    node = json.loads(out.strip().splitlines()[-1])
    server, port = await reply_server(certs)
    try:
        raw = net.connect(port, "127.0.0.1")
        ours: dict[str, Any] = {"rawConnecting": raw.connecting, "events": []}
        sock = tls.connect({"socket": raw, "ca": certs.root.cert_pem, "servername": "localhost"})
        ours["connecting"] = sock.connecting
        sock.on("connect", lambda: ours["events"].append("connect"))
        sock.on("secureConnect", lambda: ours["events"].append("secureConnect"))
        sock.write(b"early")
        ended = event(sock, "end")
        ours["data"] = (await read_until(sock, 9)).decode()
        await wait(ended)
        sock.destroy()
    finally:
        server.close()
    assert ours == node == {"rawConnecting": True, "connecting": True,
                            "events": ["connect", "secureConnect"], "data": "got early"}


NODE_ALLOW_HALF_OPEN = r"""
const tls = require('tls'); const net = require('net'); const { Duplex } = require('stream');
const duplex = (allowHalfOpen) => new Duplex({ read() {}, write(c, e, cb) { cb(); }, allowHalfOpen });
console.log(JSON.stringify([
  new tls.TLSSocket(new net.Socket(), { allowHalfOpen: true }).allowHalfOpen,
  new tls.TLSSocket(new net.Socket({ allowHalfOpen: true }), { allowHalfOpen: false }).allowHalfOpen,
  new tls.TLSSocket(duplex(true), { allowHalfOpen: false }).allowHalfOpen,
  new tls.TLSSocket(duplex(false), { allowHalfOpen: true }).allowHalfOpen,
  new tls.TLSSocket(undefined, { allowHalfOpen: true }).allowHalfOpen,
  new tls.TLSSocket().allowHalfOpen,
]));
process.exit(0);
"""


@pytest.mark.interop
async def test_node_allow_half_open_of_a_wrapping_socket(node_bin):
    rc, out, err = await run_node(NODE_ALLOW_HALF_OPEN, timeout=30)
    assert rc == 0, out + err
    node = json.loads(out.strip().splitlines()[-1])
    ours = [
        tls.TLSSocket(net.Socket(), {"allow_half_open": True}).allow_half_open,
        tls.TLSSocket(net.Socket(allow_half_open=True), {"allow_half_open": False}).allow_half_open,
        tls.TLSSocket(stream.Duplex(allow_half_open=True, read=lambda size: None),
                      {"allow_half_open": False}).allow_half_open,
        tls.TLSSocket(stream.Duplex(allow_half_open=False, read=lambda size: None),
                      {"allow_half_open": True}).allow_half_open,
        tls.TLSSocket(None, {"allow_half_open": True}).allow_half_open,
        tls.TLSSocket().allow_half_open,
    ]
    assert ours == node == [False, True, True, False, True, False]


@pytest.mark.parametrize("secure_options", [0, C.SSL_OP_NO_TICKET], ids=["tickets", "stateful"])
async def test_tls13_tickets_reach_the_client_only_once_stored(certs, secure_options):
    """Node: under TLS 1.3 the server's output (its tickets) waits for the 'newSession'
    callbacks, so a client never holds a ticket the session store does not have yet (a fleet's
    other server could not resume it). What the server writes and its end() in
    'secureConnection' meanwhile arrive after the release, in order (Node loses them)."""
    loop = asyncio.get_running_loop()
    stored: list[bytes] = []

    def on_secure(sock: Any) -> None:
        sock.end(b"bye")

    server, port = await listen({**certs.server.options, "min_version": "TLSv1.3",
                                 "secure_options": secure_options}, on_secure)

    def new_session(sid: bytes, data: bytes, cb: Any) -> None:
        def store() -> None:
            stored.append(sid)
            cb()
        loop.call_later(0.05, store)

    server.on("newSession", new_session)
    try:
        client = tls.connect(port, {"host": "127.0.0.1", "ca": certs.root.cert_pem,
                                    "servername": "localhost"})
        stored_when_seen: list[int] = []
        client.on("session", lambda _s: stored_when_seen.append(len(stored)))
        closed = event(client, "close")
        got = await wait(read_until(client, 3))
        await wait(closed)
        assert got.endswith(b"bye")
        assert stored_when_seen, "no ticket reached the client"
        assert stored_when_seen[0] == 2, (stored_when_seen, stored)  # both tickets stored first
    finally:
        server.close()


@pytest.mark.parametrize("listen_close", [True, False], ids=["close-listener", "close-awaited"])
async def test_write_after_destroy_calls_back_before_close_tls(certs, listen_close):
    # Node (run in v20): destroy() then write() on a secure client: the write callback's
    # ERR_STREAM_DESTROYED (a nextTick) comes before 'close' (the handle's close callback)
    server, port = await listen(certs.server.options, lambda s: s.resume())
    try:
        client = tls.connect(port, "127.0.0.1", {"ca": certs.root.cert_pem,
                                                 "servername": "localhost"})
        await wait(client)
        log: list[Any] = []
        if listen_close:
            client.on("close", lambda had_error: log.append("close"))
        closed = asyncio.ensure_future(client.wait_closed())
        closed.add_done_callback(lambda f: log.append("closed"))
        client.destroy()
        called = asyncio.get_running_loop().create_future()
        client.write(b"kaboom", None, lambda err=None: (log.append(err.code),
                                                       called.set_result(None)))
        await wait(closed)
        await wait(called)
        assert log[0] == "ERR_STREAM_DESTROYED"
        assert log[1:] == (["close", "closed"] if listen_close else ["closed"])
    finally:
        server.close()
