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
