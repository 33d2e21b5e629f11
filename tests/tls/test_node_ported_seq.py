"""Node's sequential, pummel and known_issues tls tests, rewritten for nodetls.

Ports (scaled down: the scenario kept, the counts shrunk, every wait bounded), by Node test name:
pummel/test-tls-server-large-request, test-tls-throttle, test-tls-ci-reneg-attack (and the TLS
part of test-https-ci-reneg-attack: the same attack with ``openssl s_client``'s ``R`` command),
the TLS part of test-https-no-reader (a client that does not read buffers a bounded amount,
not the whole response: an xfail for how much, Node's 48 KiB against nodetls's 64 or 112 KiB); sequential/test-tls-session-timeout (``openssl s_client
-sess_out/-sess_in``: New, Reused, then New once the timeout has passed), test-tls-connect,
test-tls-psk-client (against ``openssl s_server -psk -nocert -rev``, TLS 1.3 and 1.2).

Already covered under another name: sequential/test-tls-lookup (test_node_ported_i.py),
test-tls-client-renegotiation-limit's in-process variant of the attack (test_node_ported_a.py).

Not ported: pummel/test-tls-connect-memleak (``gc``: named in test_node_ported_h.py),
pummel/test-tls-securepair-client and sequential/test-tls-securepair-client
(``tls.createSecurePair``, removed API), pummel/test-https-large-response,
sequential/test-https-connect-localport and test-https-server-keep-alive-timeout (https/http
only: their TLS side is a plain server and client, covered many times over),
known_issues/test-tls-server-verify and test-tls-server-verify-multiple-subprocesses (after v20;
Node v20's test-tls-server-verify is named in test_node_ported_e.py).

nodetls refuses a client's renegotiation unless the server sets ``allow_client_renegotiation``
(a documented difference: docs/node-mapping.md); the attack test sets it, and then Node's
``CLIENT_RENEG_LIMIT`` applies as in Node.

Each expectation was checked against node v20.20 running the same scenario (scaled as here).
Tests marked ``xfail(strict=True)`` assert Node v20's behaviour where nodetls differs.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest
from tlsutil import TIMEOUT, connect, event, listen, shut, wait

import nodetls as tls
from helpers.peers import free_port, run_openssl_client, spawn_openssl_client, spawn_openssl_server
from nodetls import stream

pytestmark = pytest.mark.timeout(40)

TLS12 = {"max_version": "TLSv1.2"}


def future() -> asyncio.Future[Any]:
    return asyncio.get_running_loop().create_future()


def settle(fut: asyncio.Future[Any], value: Any = None) -> None:
    if not fut.done():
        fut.set_result(value)


async def until(check: Any, timeout: float = TIMEOUT) -> None:
    """Wait, bounded, until ``check()`` is true (polled every few ms)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.005)


# Node: pummel/test-tls-server-large-request
async def test_a_large_request_piped_into_a_slow_writable_arrives_whole(certs) -> None:
    # The client end()s with a 1 MB request; the server pipes its socket into a Writable that
    # acknowledges each chunk a loop turn later: it ends up with exactly the request.
    request = b"ABCD" * (256 * 1024 - 1)
    got = bytearray()
    whole = future()
    loop = asyncio.get_running_loop()

    def slow_write(chunk: bytes, cb: Any) -> None:
        got.extend(chunk)
        loop.call_soon(cb)
        if len(got) >= len(request):
            settle(whole, bytes(got))

    sink = stream.Writable({"write": slow_write})
    server, port = await listen(certs.server.options, lambda s: s.pipe(sink))
    client = None
    try:
        client = tls.connect(port, {"host": "127.0.0.1", "rejectUnauthorized": False})
        client.on("secureConnect", lambda: client.end(request))
        client.resume()
        assert await wait(whole) == request
    finally:
        await shut(server, client)


# Node: pummel/test-tls-throttle
async def test_a_client_pausing_after_every_chunk_gets_the_whole_body(certs) -> None:
    # The server end()s with a 2 MB body; the client pauses in each 'data' and resumes a loop
    # turn later: at 'close' it has counted every byte.
    body = b"hello world\n" * (2 * 1024 * 1024 // 12)
    server, port = await listen(certs.server.options, lambda s: s.end(body))
    client = tls.connect(port, {"host": "127.0.0.1", "rejectUnauthorized": False})
    loop = asyncio.get_running_loop()
    count = [0]

    def on_data(chunk: bytes) -> None:
        count[0] += len(chunk)
        client.pause()
        loop.call_soon(client.resume)

    client.on("data", on_data)
    closed = event(client, "close")
    try:
        await wait(closed)
    finally:
        await shut(server, client)
    assert count[0] == len(body)


async def _unread_buffer(certs: Any) -> int:
    """A server writes 8 MB to a client that only calls read(0) once after its handshake;
    once the flow has stopped (the client's buffer the same over a tenth of a second, with
    megabytes still queued at the server), what the client's readable buffer holds."""
    chunk = bytes(1024 * 1024)
    accepted = future()

    def on_secure(s: tls.TLSSocket) -> None:
        s.on("error", lambda e: None)
        for _ in range(8):
            s.write(chunk)
        s.end()
        settle(accepted, s)

    server, port = await listen(certs.server.options, on_secure)
    client = await connect(port, rejectUnauthorized=False)
    try:
        client.read(0)
        peer = await wait(accepted)
        last = [-1, time.monotonic()]

        def settled() -> bool:
            now = time.monotonic()
            if client.readable_length != last[0]:
                last[:] = [client.readable_length, now]
                return False
            return now - last[1] > 0.1 and peer.writable_length > 1024 * 1024

        await until(settled)
        assert client.readable_flowing is None
        return int(client.readable_length)
    finally:
        await shut(server, client)


# Node: pummel/test-https-no-reader (its TLS part)
async def test_a_client_that_does_not_read_holds_a_bounded_buffer(certs) -> None:
    # The writes back up on the server; the client takes in a bounded amount, not the rest
    # (Node's test: "should not leak"; nodetls holds 64 or 112 KiB, see the xfail below).
    assert await _unread_buffer(certs) <= 128 * 1024


# Node: pummel/test-https-no-reader (its TLS part): how much
@pytest.mark.xfail(strict=True, reason="Node v20 holds 49152 bytes (three 16 KiB records, "
                   "the high-water mark 16384) in a TLS socket nobody reads, every run; "
                   "nodetls decrypts a whole raw read ahead and holds 65536 or 114688 (under "
                   "Node's test's 100 KB bound only sometimes): the compiled TLS read path")
async def test_a_client_that_does_not_read_holds_what_node_holds(certs) -> None:
    assert await _unread_buffer(certs) <= 3 * 16384


# Node: sequential/test-tls-session-timeout
async def test_a_session_expires_after_the_session_timeout(certs, tmp_path) -> None:
    # A TLS 1.2 server with session_timeout 4 (seconds) and a session id context; s_client
    # saves its session: the first connection is New, resuming at once is Reused, resuming
    # once the timeout has passed is New again (node v20, same scenario: New, Reused, New).
    # (Node's test uses 1 s; 4 s leaves a busy machine's s_client start-up out of it.)
    options = {**certs.server.options, **TLS12, "session_timeout": 4,
               "session_id_context": "test-session-timeout"}

    def on_secure(s: tls.TLSSocket) -> None:
        s.on("error", lambda e: None)
        s.end()

    server, port = await listen(options, on_secure)
    sess = tmp_path / "session.pem"

    async def client(resume: bool) -> str:
        args = ["-CAfile", str(certs.root.cert_path), "-servername", "localhost",
                "-sess_out", str(sess)]
        if resume:
            args += ["-sess_in", str(sess)]
        rc, out, err = await run_openssl_client(args, b"", port=port)
        kind = re.search(r"^(New|Reused), ", out, re.M)
        assert kind is not None, out + err
        assert rc == 0, err
        return kind.group(1)

    try:
        first = await client(False)
        second = await client(True)
        await asyncio.sleep(5.1)  # the session's lifetime (4 s, whole seconds) runs out
        third = await client(True)
    finally:
        await shut(server)
    assert (first, second, third) == ("New", "Reused", "New")


# Node: sequential/test-tls-connect
async def test_connect_to_a_closed_port_is_econnrefused(certs) -> None:
    # With a key and cert of its own, a connection to a port nothing listens on: 'error'
    # ECONNREFUSED, the secure-connect listener never runs.
    port = free_port()
    seen: list[str] = []
    sock = tls.connect({**certs.client.options, "port": port, "host": "127.0.0.1"},
                       lambda: seen.append("secureConnect"))
    failed = future()
    sock.on("error", lambda e: settle(failed, e.code))
    assert await wait(failed) == "ECONNREFUSED"
    assert seen == []


# Node: sequential/test-tls-connect
def test_connect_with_no_cipher_matching_throws_at_the_call(certs) -> None:
    # ciphers 'rick-128-roll': tls.connect throws (Node: 'no cipher match' in the message),
    # no socket is made.
    with pytest.raises(Exception, match="(?i)no cipher match"):
        tls.connect({**certs.client.options, "port": 1, "ciphers": "rick-128-roll"},
                    lambda: None)


PSK_KEY = "d731ef57be09e5204f0b205b60627028"
PSK_IDENTITY = "Client_identity"


# Node: sequential/test-tls-psk-client
@pytest.mark.parametrize("version", ["TLSv1.3", "TLSv1.2"])
async def test_psk_client_against_openssl_s_server(version: str) -> None:
    # openssl s_server -psk KEY -psk_hint Client_identity -nocert -rev (it answers each line
    # reversed); the client's psk_callback answers that identity and key: the client gets
    # 'olleh\n' for 'hello' and the server's 'end'. node v20 (same scenario): TLS 1.3 calls the
    # callback once with hint null; TLS 1.2 (s_server -tls1_2) twice, with null (for the
    # ClientHello) then with the server's hint.
    extra = ["-tls1_2"] if version == "TLSv1.2" else []
    async with spawn_openssl_server(["-cipher", "PSK+HIGH", "-psk", PSK_KEY, "-psk_hint",
                                     PSK_IDENTITY, "-nocert", "-rev", *extra]) as srv:
        hints: list[Any] = []

        def psk(hint: Any) -> dict[str, Any]:
            hints.append(hint)
            return {"identity": PSK_IDENTITY, "psk": bytes.fromhex(PSK_KEY)}

        sock = tls.connect(srv.port, {"host": "127.0.0.1", "ciphers": "PSK+HIGH",
                                      "checkServerIdentity": lambda *a: None,
                                      "psk_callback": psk})
        data = bytearray()
        sock.on("data", data.extend)
        ended = event(sock, "end")
        secure = event(sock, "secureConnect")
        try:
            await wait(secure)
            protocol = sock.get_protocol()
            sock.end(b"hello")
            await wait(ended)
        finally:
            sock.destroy()
    assert bytes(data) == b"olleh\n"
    assert protocol == version
    assert hints == ([None] if version == "TLSv1.3" else [None, PSK_IDENTITY])


# Node: pummel/test-tls-ci-reneg-attack, pummel/test-https-ci-reneg-attack (TLS part)
@pytest.mark.parametrize("limit", [0, 1, 2])
async def test_openssl_client_renegotiating_in_a_loop_is_cut_off(certs, monkeypatch,
                                                                  limit: int) -> None:
    # An echo server (client renegotiation allowed) and `openssl s_client -tls1_2` sent 'R'
    # every 50 ms once its handshake is done: LIMIT renegotiations pass, the next makes the
    # server socket emit ERR_TLS_SESSION_ATTACK ('TLS session renegotiation attack detected')
    # and it is destroyed; s_client reports RENEGOTIATING LIMIT + 1 times and exits with 1.
    # (node v20, same scenario, limits 0, 1, 2: RENEGOTIATING 1, 2, 3 times; exit code 1.)
    monkeypatch.setattr(tls, "CLIENT_RENEG_LIMIT", limit)
    errors: list[Any] = []

    def on_secure(s: tls.TLSSocket) -> None:
        s.on("error", lambda e: (errors.append(e), s.destroy()))
        s.pipe(s)

    server, port = await listen({**certs.server.options, "allow_client_renegotiation": True},
                                on_secure)
    try:
        async with spawn_openssl_client(["-tls1_2", "-CAfile", str(certs.root.cert_path),
                                         "-servername", "localhost"], port=port) as cli:
            await cli.wait_for_output(r"Verify return code", timeout=TIMEOUT)
            deadline = time.monotonic() + TIMEOUT
            while cli.returncode is None and time.monotonic() < deadline:
                try:
                    await cli.write(b"R\n")
                except (ConnectionError, BrokenPipeError):
                    break
                await asyncio.sleep(0.05)
            rc, out, err = await cli.wait(TIMEOUT)
    finally:
        await shut(server)
    assert (out + err).count("RENEGOTIATING") == limit + 1
    assert rc == 1
    assert [e.code for e in errors] == ["ERR_TLS_SESSION_ATTACK"]
    assert "TLS session renegotiation attack detected" in str(errors[0])
