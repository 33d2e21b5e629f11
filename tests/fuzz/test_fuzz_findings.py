"""Regression tests for what the fuzzers found (docs/fuzzing.md, "Findings")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fuzz import peers, run
from nodetls._engine import State, TLSEngine
from nodetls._tls.socket import alpn_list
from nodetls.errors import InvalidArgValueError


def test_a_freed_engine_ignores_late_ciphertext_instead_of_writing_into_a_freed_bio():
    # Found by server_first_flight: receive() after free() wrote into the BIO SSL_free had
    # freed (a segfault); take_output()/receive_eof()/output_pending() read it.
    eng = TLSEngine(peers.server_context(), server=True)
    eng.receive(b"\x16\x03\x01\x00\x01\x01")
    eng.free()
    assert eng.state is State.FREED
    eng.receive(b"\x16\x03\x01\x00\x05hello")
    eng.receive_eof()
    assert eng.take_output() == b""
    assert eng.output_pending() == 0
    assert eng.read_view() is None


@pytest.mark.parametrize("wire", [b"\x05ab", b"\x02h2\x00", b"\x00", b"\x02h2\x09http/1.1"])
def test_a_malformed_alpn_wire_buffer_is_refused_at_creation(wire):
    # Found by alpn_wire: a truncated or zero-length entry was silently accepted (Node v20
    # aborts the whole process on it: an assertion on SSL_set_alpn_protos).
    with pytest.raises(InvalidArgValueError, match="alpn_protocols") as info:
        alpn_list(wire)
    assert info.value.code == "ERR_INVALID_ARG_VALUE"


def test_a_wellformed_alpn_wire_buffer_still_decodes():
    assert alpn_list(b"\x02h2\x08http/1.1") == [b"h2", b"http/1.1"]


def test_a_tampered_tls12_record_is_named_by_the_first_openssl_error_as_in_node():
    # Found by the live hostile-client cases (tests/faults/hostile.py) played against a node
    # v20 server and a nodetls server (5 of 400 cases differed this way): a TLS 1.2 AES-GCM
    # record whose tag fails queues the provider's 'cipher operation failed', then the record
    # layer's 'decryption failed or bad record mac'. Node v20 (OpenSSL 3.0) reports
    # ERR_SSL_CIPHER_OPERATION_FAILED for a tampered Finished flight or a wrong PSK
    # ('tlsClientError') and for a tampered record after the handshake (the socket's 'error');
    # nodetls says ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC (OpenSSL 3.0 and 3.5 alike).
    from nodetls.errors import TLSError

    from ..engine.pair import handshake

    client, server = peers.new_client(tls12=True), peers.new_server(tls12=True)
    try:
        handshake(client, server)
        client.write(b"ping" * 16)
        record = bytearray(client.take_output())
        record[-1] ^= 1  # the GCM tag
        server.receive(bytes(record))
        with pytest.raises(TLSError) as info:
            server.read()
        assert info.value.code == "ERR_SSL_CIPHER_OPERATION_FAILED"
        assert info.value.reason == "cipher operation failed"
    finally:
        client.free()
        server.free()


_ATHERIS_CHECK = """
import os
os.environ["NODETLS_PURE"] = "1"
import atheris
from fuzz import run
with atheris.instrument_imports(include=["nodetls", "fuzz"]):
    run.harnesses()
from nodetls._engine import _records
def seen():
    return "__ATHERIS_INSTRUMENTED__" in _records._EngineRecords.read_view.__code__.co_consts
before = seen()
count = run.instrument_core(atheris)
print(before, seen(), count > 100)
"""


def test_under_atheris_the_core_modules_are_instrumented():
    # Found by this session's atheris runs: since the compiled core, its modules are imported
    # through nodetls._compiled's own finder (ahead of atheris's import hook), even from their
    # .py files, so libFuzzer saw no edge of the engine (server_first_flight: 112 edges, 225
    # with the engine instrumented by fuzz.run.instrument_core).
    pytest.importorskip("atheris")
    import nodetls

    root = Path(run.__file__).resolve().parent.parent
    src = str(Path(nodetls.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, str(root)])}
    out = subprocess.run([sys.executable, "-c", _ATHERIS_CHECK], cwd=root, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "True", "True"]


# ------------------------------------------------ the ocsp_response and store_records harnesses
# (docs/fuzzing.md, findings 19-25).

_OCSP_TIMEOUT = 10.0


def _staple_now(signer_key, leaf, ca, unknown_sig_alg=False, responder=None):
    """A genuine 'good' response for ``leaf``, valid now, naming ``responder`` (default: the
    issuer ``ca``) by key hash and carrying it if given; ``unknown_sig_alg``: its signature
    algorithm OID rewritten to one cryptography does not know (1.2.840.10045.4.3.9)."""
    import datetime as dt

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    t = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    builder = (ocsp.OCSPResponseBuilder()
               .add_response(cert=leaf, issuer=ca, algorithm=hashes.SHA256(),
                             cert_status=ocsp.OCSPCertStatus.GOOD, this_update=t,
                             next_update=t + dt.timedelta(days=1), revocation_time=None,
                             revocation_reason=None)
               .responder_id(ocsp.OCSPResponderEncoding.HASH, responder or ca))
    if responder is not None:
        builder = builder.certificates([responder])
    der = builder.sign(signer_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    if unknown_sig_alg:
        ecdsa_sha256 = bytes.fromhex("06082a8648ce3d040302")
        assert der.count(ecdsa_sha256) == 1
        der = der.replace(ecdsa_sha256, bytes.fromhex("06082a8648ce3d040309"))
    return der


async def _connect_with_staple(server_opts, staple, client_opts):
    """A nodetls server stapling ``staple``; a client with ``client_opts`` (``ocsp=...``):
    the client's error (None when it connected) and whether it reached 'secureConnect'."""
    import asyncio

    import nodetls as tls

    server = tls.create_server(server_opts, lambda s: s.end(b"hi"))
    server.on("OCSPRequest", lambda cert, issuer, cb: cb(None, staple))
    server.listen(0, "127.0.0.1")
    await asyncio.wait_for(server, _OCSP_TIMEOUT)
    secure = []
    sock = tls.connect(server.address()["port"], {"host": "127.0.0.1", "servername": "localhost",
                                                  **client_opts})
    sock.on("secureConnect", lambda: secure.append(True))
    try:
        await asyncio.wait_for(sock, _OCSP_TIMEOUT)
        return None, bool(secure)
    except Exception as exc:  # noqa: BLE001 - the outcome under test
        return exc, bool(secure)
    finally:
        sock.destroy()
        server.close()


async def test_a_staple_with_an_unknown_signature_algorithm_is_a_bad_signature():
    # Found by ocsp_response (finding 19): cryptography's signature_hash_algorithm raises
    # UnsupportedAlgorithm for an OID it does not know; check_response let it out (it expected
    # ValueError), so check_staple -- documented to return (checked, error) -- raised inside the
    # client's handshake completion, and the Stapler's _ask_responders (which passes over a
    # responder on OCSPError only) gave up on the remaining responders.
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

    from nodetls.ocsp import OCSPError

    ca_pem, leaf_pem, key_pem = peers.pems()
    ca, leaf = x509.load_pem_x509_certificate(ca_pem), x509.load_pem_x509_certificate(leaf_pem)
    ca_key = ec.derive_private_key(0xC0FFEE, ec.SECP256R1())
    staple = _staple_now(ca_key, leaf, ca, unknown_sig_alg=True)
    err, secure = await _connect_with_staple({"cert": leaf_pem, "key": key_pem}, staple,
                                             {"ca": ca_pem, "ocsp": "require"})
    assert isinstance(err, OCSPError), repr(err)
    assert (err.code, err.reason) == ("ERR_TLS_OCSP_BAD_SIGNATURE", "bad-signature")
    assert "1.2.840.10045.4.3.9" in str(err)
    assert not secure
    # The genuine response is accepted (the rewrite is what fails).
    err, secure = await _connect_with_staple({"cert": leaf_pem, "key": key_pem},
                                             _staple_now(ca_key, leaf, ca),
                                             {"ca": ca_pem, "ocsp": "require"})
    assert err is None and secure


async def test_a_v2_server_certificate_with_a_staple_is_checked_not_raised():
    # Found by ocsp_response (finding 20): OpenSSL accepts a version 2 certificate,
    # cryptography refuses it with InvalidVersion (not a ValueError): check_staple raised it
    # from the client's handshake completion instead of returning an OCSPError.
    from cryptography.hazmat.primitives import serialization

    from nodetls.ocsp import OCSPError
    from tests.x509 import gen

    name = gen.name([("2.5.4.3", 12, b"localhost")])
    der = gen.build(issuer=name, subject=name, version=1)  # self-signed, v2
    cert_pem = b"-----BEGIN CERTIFICATE-----\n" + __import__("base64").encodebytes(der) + \
        b"-----END CERTIFICATE-----\n"
    key_pem = gen._ISSUER_KEY.private_bytes(serialization.Encoding.PEM,
                                            serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption())
    for mode in ("require", "if-present"):
        err, secure = await _connect_with_staple({"cert": cert_pem, "key": key_pem},
                                                 b"\x30\x03\x0a\x01\x00",
                                                 {"ca": cert_pem, "ocsp": mode})
        assert isinstance(err, OCSPError), (mode, repr(err))
        assert err.code == "ERR_TLS_OCSP_MALFORMED" and "certificate" in str(err), mode
        assert not secure


@pytest.mark.parametrize("record", ["magic only", "cut stamp", "NaN stamp", "infinite stamp",
                                    "year 10000 stamp"])
async def test_a_corrupt_ocsp_store_record_does_not_stop_the_stapler_fetching(record):
    # Found by ocsp_response (finding 21): a record under the stapler's key that starts with
    # the magic but is cut short raised struct.error, one whose fetch time is no date (NaN,
    # infinite, past year 9999) ValueError/OverflowError, out of _store_get: each refresh
    # attempt failed there ('unreachable', "OCSP fetch failed: error(...)") without asking the
    # responders, for as long as the store kept the record (a shared Redis: any writer).
    import datetime as dt
    import struct

    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

    from helpers.peers import free_port
    from nodetls import ocsp as nocsp
    from tests.ocsp.responder import CannedResponder

    ca_pem, leaf_pem, _ = peers.pems()
    ca, leaf = x509.load_pem_x509_certificate(ca_pem), x509.load_pem_x509_certificate(leaf_pem)
    good = _staple_now(ec.derive_private_key(0xC0FFEE, ec.SECP256R1()), leaf, ca)
    stamp = {"magic only": b"", "cut stamp": b"\x41\xda",
             "NaN stamp": struct.pack("!d", float("nan")) + good,
             "infinite stamp": struct.pack("!d", float("inf")) + good,
             "year 10000 stamp": struct.pack("!d", 253402400000.0) + good}[record]

    class Store:
        async def get(self, key):
            return nocsp._STORE_MAGIC + stamp

        async def set(self, key, data, ttl):
            pass

        async def delete(self, key):
            pass

    port = free_port()
    async with CannedResponder(port, lambda body: (0, good)) as responder:
        stapler = nocsp.Stapler(store=Store(), timeout=5)
        try:
            entry = nocsp._Entry(leaf, ca, b"key", [f"http://127.0.0.1:{port}/"])
            await stapler._attempt(entry)
        finally:
            await stapler.close()
    assert len(responder.requests) == 1
    assert entry.held is not None and entry.held.der == good and entry.held.status == "good"
    assert nocsp._stored_record(nocsp._STORE_MAGIC + stamp, leaf, ca) is None
    now = dt.datetime.now(dt.UTC)
    sane = nocsp._STORE_MAGIC + struct.pack("!d", now.timestamp()) + good
    assert nocsp._stored_record(sane, leaf, ca)[0].der == good


def test_a_corrupt_length_on_the_worker_pipe_allocates_nothing_and_keeps_the_keys():
    # Found by store_records (finding 22): PipedTicketKeys grew its buffer to whatever a
    # message's 4-byte length said (up to 4 GiB, zeroed) before reading a byte of it. The
    # parent's sets hold at most keep + 2 keys; a longer length is a corrupt stream: the
    # worker keeps its keys and stops reading, as when the parent is gone.
    import asyncio
    import struct

    from nodetls.sessions import _keys

    key = (1_750_000_000.0, bytearray(b"\x11" * 48))
    good = bytes(_keys.pack_entries([(1_750_000_100.0, bytearray(b"\x22" * 48))]))
    r, w = os.pipe()
    loop = asyncio.new_event_loop()
    src = _keys.PipedTicketKeys(r, [key], 3600.0, 2)
    try:
        os.set_blocking(r, False)
        loop.add_reader(r, src._on_readable)

        async def turns():
            for _ in range(3):
                await asyncio.sleep(0)

        os.write(w, struct.pack(">I", len(good)) + good)
        loop.run_until_complete(turns())
        assert [bytes(k) for _, k in src._entries] == [b"\x22" * 48]
        os.write(w, struct.pack(">I", 200 << 20) + b"\x01" * 100)
        loop.run_until_complete(turns())
        assert len(src._buf) <= 4096, len(src._buf)
        assert [bytes(k) for _, k in src._entries] == [b"\x22" * 48]
        assert not loop.remove_reader(r)  # (it stopped reading)
    finally:
        loop.remove_reader(r)
        loop.close()
        os.close(r)
        os.close(w)


def test_a_ticket_key_set_packs_back_to_the_same_milliseconds():
    # Found by store_records (finding 23): pack_entries truncated not_before * 1000, and
    # 2183226373411 ms / 1000.0 * 1000 is ...410.9998: every reading and re-publishing of the
    # set from Redis moved such a key 1 ms earlier.
    from nodetls.sessions import _keys

    packed = bytes(_keys.pack_entries([(2183226373411 / 1000.0, bytearray(48))]))
    assert int.from_bytes(packed[1:9], "big") == 2183226373411
    assert bytes(_keys.pack_entries(_keys.unpack_entries(packed))) == packed


async def test_nodetls_serve_prints_a_hostile_servername_as_text(tmp_path):
    # Found listing the hostile-input surfaces (finding 24): `nodetls serve` printed each
    # connection's line as rich markup, the client's servername (SNI) in it unescaped, and
    # the CLI's escape for other text missed a backslash before '['. A client naming
    # 'x[/foo]' made rich raise MarkupError in the 'secureConnection' listener, and the whole
    # `nodetls serve` process exited (rc 1); '[link=...]' or '[on red]' styled its console.
    import asyncio
    import io
    import re

    import nodetls as tls
    from helpers.peers import spawn_process
    from nodetls.cli._output import Output

    argv = [sys.executable, "-m", "nodetls", "serve", "--port", "0", "--dev-dir", str(tmp_path)]
    async with spawn_process(argv, ready=r"listening on https://127\.0\.0\.1:(?P<port>\d+)",
                             timeout=30) as server:
        for name in ("x[/foo]", "y\\[bold]z"):
            echoed = asyncio.get_running_loop().create_future()
            sock = tls.connect(server.port, {"host": "127.0.0.1", "servername": name,
                                             "reject_unauthorized": False})
            sock.on("data", lambda d, f=echoed: f.done() or f.set_result(d))
            try:
                await asyncio.wait_for(sock, 10)
                await asyncio.wait_for(server.wait_for_output(f"sni={re.escape(name)}"), 10)
                sock.write(b"echo")  # (serve echoes: it is still up, this connection too)
                assert await asyncio.wait_for(echoed, 10) == b"echo", server.stderr
            finally:
                sock.destroy()
        assert "Traceback" not in server.stderr and "MarkupError" not in server.stderr
    # The CLI's escape keeps any text literal, a backslash before '[' too (a certificate's
    # subject in `nodetls connect`'s report, an error message).
    out = Output()
    for text in ("CN=x\\[/foo]", "a\\", "[link=https://evil.example]click[/link]"):
        out.console.file = io.StringIO()
        out.table("t", [("subject", text, "good")])
        out.note(text)
        out.fail(text)
        assert out.console.file.getvalue().count(text) == 3, out.console.file.getvalue()


def test_a_responder_certificate_with_an_undecodable_subject_is_refused_not_raised():
    # Found by ocsp_response under atheris (finding 25): a response naming (by key hash) a
    # certificate it carries whose subject holds a BIT STRING under commonName: cryptography
    # raises TypeError (not ValueError) when that name is read -- in the check that the
    # certificate was issued by the issuer, or in the message saying it was not -- and
    # check_staple raised it.

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from nodetls._ocsp_check import check_staple, verify_response
    from nodetls.ocsp import OCSPError
    from tests.x509 import gen

    ca_pem, leaf_pem, _ = peers.pems()
    ca, leaf = x509.load_pem_x509_certificate(ca_pem), x509.load_pem_x509_certificate(leaf_pem)
    odd = gen.name([("2.5.4.3", 0x03, b"\x00odd")])  # commonName as a BIT STRING
    responder = x509.load_der_x509_certificate(gen.build(issuer=odd, subject=odd))
    der = _staple_now(gen._ISSUER_KEY, leaf, ca, responder=responder)
    chain = [c.public_bytes(serialization.Encoding.DER) for c in (leaf, ca)]
    checked, err = check_staple(der, chain)
    assert checked is None and isinstance(err, OCSPError)
    assert (err.reason, err.code) == ("bad-signature", "ERR_TLS_OCSP_BAD_SIGNATURE")
    assert "was not issued by the certificate's issuer" in str(err)
    with pytest.raises(OCSPError, match="not issued by"):
        verify_response(der, leaf, ca)
