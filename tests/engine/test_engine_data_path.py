"""The engine's data path: ``read_view(data)`` (ciphertext in, plaintext out in one call, with
``read_more`` saying whether another call can find more), ``write`` of bytes and of other buffers,
``take_output`` past its one-read buffer. Two engines in memory."""

from __future__ import annotations

import pytest

from nodetls._engine import DONE, NEED_DATA, TLSEngine
from nodetls._engine import engine as engine_module
from nodetls._openssl import constants as C

from .conftest import CA, CERT, KEY
from .rawctx import RawContext


def read_all(eng: TLSEngine, ciphertext: bytes) -> list[bytes]:
    """Feed ``ciphertext`` with the first read_view, then call again while read_more says so."""
    chunks = []
    view = eng.read_view(memoryview(ciphertext))
    while view is not None:
        chunks.append(bytes(view))
        if not eng.read_more:
            break
        view = eng.read_view()
    return chunks


def test_read_view_takes_the_ciphertext_and_knows_when_it_is_done(pair):
    client, server = pair
    assert server.write(b"ping" * 16) == 64
    out = server.take_output()
    assert out and server.take_output() == b""  # all of it in one take
    view = client.read_view(out)
    assert bytes(view) == b"ping" * 16
    assert client.read_more is False  # the read BIO is empty: no second call needed
    assert client.read_view() is None  # (and one would find nothing)


def test_a_write_larger_than_the_output_buffer_comes_out_whole(pair):
    client, server = pair
    payload = bytes(range(256)) * 4096  # 1 MiB in one write: 64 records
    assert server.write(payload) == len(payload)
    out = server.take_output()
    assert len(out) > engine_module._OUT_CHUNK  # more than one BIO_read's worth
    assert server.take_output() == b""
    chunks = read_all(client, out)
    assert b"".join(chunks) == payload
    assert len(chunks) == 4  # 256 KiB of plaintext per read_view (read_more between them)
    assert client.read_more is False and client.read_view() is None


@pytest.mark.parametrize("kind", [bytearray, memoryview, lambda b: memoryview(b)[3:]])
def test_write_takes_any_buffer(pair, kind):
    client, server = pair
    data = b"abc" + bytes(range(200)) * 100
    buf = kind(data)
    assert client.write(buf) == len(buf)
    assert b"".join(read_all(server, client.take_output())) == bytes(buf)


def test_read_view_with_a_partial_record_returns_nothing_until_it_is_complete(pair):
    client, server = pair
    server.write(b"x" * 1000)
    out = server.take_output()
    assert client.read_view(out[:10]) is None
    assert client.read_view(out[10:-1]) is None
    assert bytes(client.read_view(out[-1:])) == b"x" * 1000


def test_close_notify_through_read_view(pair):
    client, server = pair
    server.write(b"last words")
    server.shutdown()
    view = client.read_view(server.take_output())
    assert bytes(view) == b"last words"
    assert client.received_close_notify  # read in the same call, right after the data
    assert client.read_more is False


def test_seal_encrypts_and_takes_the_output_in_one_call(pair):
    client, server = pair
    out = server.seal(b"sealed" * 10)
    assert out and server.take_output() == b""  # nothing left behind
    assert bytes(client.read_view(out)) == b"sealed" * 10
    big = bytes(range(256)) * 4096  # past the one-read output buffer
    assert b"".join(read_all(server, client.seal(big))) == big
    assert b"".join(read_all(client, server.seal(bytearray(b"any buffer")))) == b"any buffer"


def test_seal_before_the_handshake_takes_nothing():
    client = TLSEngine(RawContext(ca=CA), server=False)
    try:
        assert client.seal(b"too early") == 0  # nothing taken: OpenSSL wants the handshake first
        assert client.take_output()[:1] == b"\x16"  # (which it started: a ClientHello)
    finally:
        client.free()
    with pytest.raises(Exception) as info:
        client.seal(b"after free")
    assert getattr(info.value, "code", None) == "ERR_SOCKET_CLOSED"


@pytest.mark.parametrize("helper", [True, False], ids=["c-helper", "python-steps"])
@pytest.mark.parametrize("version", [C.TLS1_2_VERSION, C.TLS1_3_VERSION], ids=["tls12", "tls13"])
def test_handshake_step_returns_the_flight_when_it_waits_for_the_peer(monkeypatch, helper,
                                                                      version):
    # The compiled binding's nodetls_handshake and ABI mode's Python steps: a step that waits for
    # the peer hands back the flight it produced (nothing left behind); a step that completes
    # hands back nothing and leaves its output (TLS 1.3: the client's Finished, the server's
    # tickets) for take_output, as do_handshake does.
    if not helper:
        monkeypatch.setattr(engine_module, "_c_handshake", None)
    elif engine_module._c_handshake is None:
        pytest.skip("ABI mode: no compiled helper")
    server = TLSEngine(RawContext(CERT, KEY, max_version=version), server=True)
    client = TLSEngine(RawContext(ca=CA, max_version=version), server=False)
    try:
        eng, other, incoming, done = client, server, b"", 0
        while done < 2:
            r, out = eng.handshake_step(memoryview(incoming) if incoming else None)
            if r is NEED_DATA:
                assert out[:1] == b"\x16" and eng.take_output() == b""
            else:
                assert r is DONE and out == b""
                out = eng.take_output()
                done += 1
            eng, other, incoming = other, eng, out
        assert other.handshake_complete and eng.handshake_complete
        if incoming:  # the last flight (tickets, or TLS 1.2's Finished): nothing to read from it
            assert read_all(eng, incoming) == []
        assert b"".join(read_all(client, server.seal(b"after the steps"))) == b"after the steps"
    finally:
        client.free()
        server.free()
