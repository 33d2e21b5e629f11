"""Interop with tlslite-ng, an independent pure-Python TLS stack, in a separate process.

The tlslite-ng side is ``tests/interop/tlslite_peer.py`` (a child process that prints one JSON
line of observations).  Scenarios: TLS 1.2 and 1.3 handshakes and echo in both directions, a
KeyUpdate with update_requested mid-stream from either side with data both ways, TLS 1.3
record padding, the middlebox-compatibility CCS after a HelloRetryRequest, resumption (TLS 1.3
tickets, TLS 1.2 tickets) in both directions, half-close (the peer's close_notify, then our
answer), a TLS 1.2 warning alert of an unknown type mid-stream, and a refused renegotiation's
fatal alert (found by the tlsfuzzer campaign, docs/fuzzing.md).

tlslite-ng is on PyPI (the ``test`` extra installs it).  The child runs on this interpreter, or
on the one named by ``NODETLS_TLSLITE_PYTHON`` (any Python 3 with tlslite-ng installed).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.tls.tlsutil import shut

import nodetls as tls
from helpers.peers import in_ci, run_process, spawn_process

pytestmark = pytest.mark.interop
T = 30.0
PEER = Path(__file__).with_name("tlslite_peer.py")


def _tlslite_python() -> str:
    python = os.environ.get("NODETLS_TLSLITE_PYTHON") or sys.executable
    probe = subprocess.run([python, "-c", "import tlslite"], capture_output=True, timeout=30)
    if probe.returncode != 0:
        reason = f"tlslite-ng is not importable by {python} (pip install tlslite-ng)"
        if in_ci():
            pytest.fail(f"{reason}; CI must have every test peer installed", pytrace=False)
        pytest.skip(reason)
    return python


@pytest.fixture(scope="module")
def tlslite_python() -> str:
    return _tlslite_python()


async def echo_server(options, on_secure=None):
    def echo(sock):
        sock.on("data", sock.write)
        sock.on("end", sock.end)

    server = tls.create_server(options, on_secure or echo)
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, T)
    return server, server.address()["port"]


async def run_client(python, port, scenario, version):
    res = await run_process([python, PEER, "client", str(port), scenario, version], timeout=T)
    assert res.rc == 0, res.stdout + res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def rsa_server(certs, version, **extra):
    # tlslite-ng signs TLS 1.2 ServerKeyExchange with RSA or ECDSA; RSA keeps it simplest
    return {**certs.server_rsa.options, "min_version": version, "max_version": version, **extra}


# ------------------------------------------------------------------ tlslite-ng client -> nodetls
async def test_tlslite_client_echo(certs, tls_version, tlslite_python):
    server, port = await echo_server(rsa_server(certs, tls_version))
    try:
        out = await run_client(tlslite_python, port, "echo", tls_version)
        assert out["version"] == tls_version
        assert out["echo_ok"] is True
    finally:
        await shut(server, timeout=T)


async def test_tlslite_client_key_update_both_ways(certs, tlslite_python):
    """The client asks for a KeyUpdate twice while 40 KB flow each way: nodetls answers each
    with its own KeyUpdate (update_not_requested) and no byte is lost or reordered."""
    server, port = await echo_server(rsa_server(certs, "TLSv1.3"))
    try:
        out = await run_client(tlslite_python, port, "keyupdate", "TLSv1.3")
        assert out["echo_ok"] == [True, True, True]
        assert out["keyupdates_received"] == [0, 0]  # two KeyUpdates, update_not_requested
    finally:
        await shut(server, timeout=T)


async def test_tlslite_client_record_padding(certs, tlslite_python):
    """Every TLS 1.3 record the client sends is padded to the largest allowed size."""
    server, port = await echo_server(rsa_server(certs, "TLSv1.3"))
    try:
        out = await run_client(tlslite_python, port, "padding", "TLSv1.3")
        assert out["echo_ok"] is True
    finally:
        await shut(server, timeout=T)


async def test_tlslite_client_hrr_middlebox_ccs(certs, tlslite_python):
    """No key share in the first ClientHello: nodetls asks for one (HelloRetryRequest) and the
    client's middlebox-compatibility CCS before its second ClientHello is accepted."""
    server, port = await echo_server(rsa_server(certs, "TLSv1.3"))
    try:
        out = await run_client(tlslite_python, port, "ccs", "TLSv1.3")
        assert out["hrr_ccs_sent"] is True
        assert out["echo_ok"] is True
    finally:
        await shut(server, timeout=T)


async def test_tlslite_client_resumes_with_ticket(certs, tls_version, tlslite_python):
    server, port = await echo_server(rsa_server(certs, tls_version))
    try:
        out = await run_client(tlslite_python, port, "resume", tls_version)
        assert out["tickets"] >= 1
        assert out["resumed"] is True
        assert out["second_echo_ok"] is True
    finally:
        await shut(server, timeout=T)


async def test_tlslite_client_half_close(certs, tls_version, tlslite_python):
    """The client sends close_notify (no TCP FIN) and keeps reading: with ``allow_half_open``
    nodetls emits 'end' and may still answer, as Node does."""
    def on_secure(sock):
        got = bytearray()
        sock.on("data", got.extend)
        sock.on("end", lambda: sock.end(b"answer to " + bytes(got)))

    server, port = await echo_server(rsa_server(certs, tls_version, allow_half_open=True),
                                     on_secure)
    try:
        out = await run_client(tlslite_python, port, "halfclose", tls_version)
        assert out["answer"] == "answer to request"
    finally:
        await shut(server, timeout=T)


async def test_tlslite_client_unknown_warning_alert_tls12(certs, tlslite_python):
    """TLS 1.2: a warning alert of an unknown type is ignored and the data after it echoed."""
    server, port = await echo_server(rsa_server(certs, "TLSv1.2"))
    try:
        out = await run_client(tlslite_python, port, "alerts", "TLSv1.2")
        assert out["echo"] == "onetwo"
    finally:
        await shut(server, timeout=T)


async def test_refused_renegotiation_alert_reaches_client(certs, tlslite_python):
    """Found by tlsfuzzer (test-legacy-renegotiation, test-renegotiation-changed-clienthello):
    a renegotiation ClientHello that OpenSSL refuses (here: with the renegotiation SCSV in it)
    on a server allowing client renegotiation.  OpenSSL makes a fatal handshake_failure alert;
    ``openssl s_server`` and Node (its TLSWrap writes pending alerts out before 'error') send
    it, nodetls closed without it: its check of each renegotiation held the output."""
    errors = []

    def on_secure(sock):
        sock.on("data", sock.write)
        sock.on("error", errors.append)

    server, port = await echo_server(rsa_server(certs, "TLSv1.2",
                                                allow_client_renegotiation=True), on_secure)
    try:
        out = await run_client(tlslite_python, port, "reneg-scsv", "TLSv1.2")
        assert out["echo"] == "ping"
        assert out["outcome"] == "alert fatal handshake_failure"
        assert [getattr(e, "code", None) for e in errors] == [
            "ERR_SSL_SCSV_RECEIVED_WHEN_RENEGOTIATING"]
    finally:
        await shut(server, timeout=T)


# ------------------------------------------------------------------ nodetls -> tlslite-ng server
def spawn_tlslite_server(python, certs, scenario, version):
    return spawn_process([python, PEER, "server", scenario, version,
                          certs.server_rsa.chain_path, certs.server_rsa.key_path],
                         ready=r"LISTENING (?P<port>\d+)", timeout=T)


async def echo_round(sock, payload):
    buf = bytearray()
    done = asyncio.get_running_loop().create_future()

    def on_data(d):
        buf.extend(d)
        if len(buf) >= len(payload) and not done.done():
            done.set_result(None)

    sock.on("data", on_data)
    sock.write(payload)
    await asyncio.wait_for(done, T)
    sock.remove_listener("data", on_data)
    return bytes(buf)


def client_options(certs, version, **extra):
    return {"host": "127.0.0.1", "ca": certs.root.cert_pem, "servername": "localhost",
            "min_version": version, "max_version": version, **extra}


async def test_nodetls_client_to_tlslite_server(certs, tls_version, tlslite_python):
    async with spawn_tlslite_server(tlslite_python, certs, "echo", tls_version) as srv:
        sock = await asyncio.wait_for(tls.connect(srv.port, client_options(certs, tls_version)),
                                      T)
        assert sock.authorized
        assert sock.get_protocol() == tls_version
        payload = os.urandom(50000)
        assert await echo_round(sock, payload) == payload
        sock.end()
        res = await srv.wait(T)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["received"] == len(payload)
    sock.destroy()


async def test_tlslite_server_requests_key_update(certs, tlslite_python):
    """The server sends KeyUpdate(update_requested) after the first chunk: nodetls updates its
    sending keys (its KeyUpdate reaches the server) and data keeps flowing both ways."""
    async with spawn_tlslite_server(tlslite_python, certs, "keyupdate", "TLSv1.3") as srv:
        sock = await asyncio.wait_for(tls.connect(srv.port, client_options(certs, "TLSv1.3")),
                                      T)
        first, second = os.urandom(2000), os.urandom(30000)
        assert await echo_round(sock, first) == first
        assert await echo_round(sock, second) == second
        sock.end()
        res = await srv.wait(T)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["keyupdates_received"] == [0]  # our answer: update_not_requested
    assert out["received"] == len(first) + len(second)
    sock.destroy()


async def test_nodetls_client_resumes_tlslite_session(certs, tls_version, tlslite_python):
    async with spawn_tlslite_server(tlslite_python, certs, "resume", tls_version) as srv:
        opts = client_options(certs, tls_version)
        sessions: list[bytes] = []
        got = asyncio.get_running_loop().create_future()

        def on_session(session: bytes) -> None:
            sessions.append(session)
            if not got.done():
                got.set_result(None)

        first = tls.connect(srv.port, opts)
        first.on("session", on_session)
        await asyncio.wait_for(first, T)
        assert await echo_round(first, b"x") == b"x"
        await asyncio.wait_for(got, T)
        first.end()
        await asyncio.wait_for(first.wait_closed(), T)
        again = await asyncio.wait_for(tls.connect(srv.port, {**opts, "session": sessions[-1]}),
                                       T)
        assert again.is_session_reused() is True
        assert await echo_round(again, b"y") == b"y"
        again.end()
        res = await srv.wait(T)
        again.destroy()
    out = json.loads(res.stdout.strip().splitlines()[-1])
    # tlslite-ng's server reports ``resumed`` for TLS 1.2 only (a TLS 1.3 PSK handshake always
    # says False there); nodetls's is_session_reused() above is OpenSSL's own verdict
    assert out["resumed"] == ([False, True] if tls_version == "TLSv1.2" else [False, False])
