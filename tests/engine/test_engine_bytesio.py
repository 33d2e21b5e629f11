"""Large reads and writes go into ``bytes`` that OpenSSL writes itself (``_engine/_bytesio.py``,
``_openssl/_bytesio.c``): ``seal`` of 8 KiB and more, and ``read_plain`` of 8 KiB of ciphertext
and more, give the same bytes, flags and outcomes as the buffered path below that size, and as
the pure-Python path (``NODETLS_PURE=1``, where the extension is not used)."""

from __future__ import annotations

import os

import pytest

from nodetls._engine import TLSEngine, _bytesio
from nodetls._engine import engine as engine_module
from nodetls._engine.engine import receive_buffer
from nodetls._openssl import ffi

PURE = os.environ.get("NODETLS_PURE", "") not in ("", "0")


def deliver(eng: TLSEngine, ciphertext: bytes) -> bytes:
    """Hand ``ciphertext`` to ``eng.read_plain`` through the receive buffer, as nodetls.aio's
    direct route does, in chunks the size of the buffer; collect the plaintext."""
    view, cbuf = receive_buffer()
    got = []
    for i in range(0, len(ciphertext), len(view)):
        chunk = ciphertext[i:i + len(view)]
        view[:len(chunk)] = chunk
        plain = eng.read_plain(cbuf, len(chunk))
        while plain is not None:
            got.append(bytes(plain))
            if not eng.read_more:
                break
            plain = eng.read_view()
    return b"".join(got)


def test_the_extension_is_used_with_the_compiled_binding():
    if PURE or getattr(engine_module, "_c_read", None) is None:
        assert engine_module._bx_read is None and engine_module._bx_seal is None
    else:
        assert callable(_bytesio.read) and callable(_bytesio.seal)


@pytest.mark.parametrize("size", [100, 8191, 8192, 16384, 100_000, 1_000_000])
def test_seal_then_read_plain_round_trips_every_size(pair, size):
    client, server = pair
    data = os.urandom(size)
    sealed = client.seal(data)
    assert type(sealed) is bytes and len(sealed) > size  # every record's overhead on top
    assert client.take_output() == b""  # seal took all of the output
    assert deliver(server, sealed) == data


def test_a_large_read_is_bytes_when_plaintext_is_all_there_is(pair):
    client, server = pair
    data = os.urandom(64 * 1024)
    view, cbuf = receive_buffer()
    sealed = client.seal(data)
    view[:len(sealed)] = sealed
    plain = server.read_plain(cbuf, len(sealed))
    assert type(plain) is bytes and plain == data
    assert not server.read_more and not server.output_after_read


def test_a_large_read_that_ends_with_close_notify_reports_it(pair):
    client, server = pair
    data = os.urandom(32 * 1024)
    sealed = client.seal(data)
    client.shutdown()
    wire = sealed + client.take_output()
    view, cbuf = receive_buffer()
    view[:len(wire)] = wire
    plain = server.read_plain(cbuf, len(wire))
    assert type(plain) is not bytes  # not plaintext alone: the caller goes on as after read_view
    assert bytes(plain) == data
    assert server.received_close_notify


def test_a_tampered_large_read_fails_as_a_small_one_does(pair):
    client, server = pair
    sealed = bytearray(client.seal(os.urandom(20_000)))
    sealed[100] ^= 1  # inside the first record: its authentication fails
    view, cbuf = receive_buffer()
    view[:len(sealed)] = sealed
    with pytest.raises(Exception) as info:  # noqa: B017 - the engine's TLS error, as below 8 KiB
        server.read_plain(cbuf, len(sealed))
    assert "decrypt" in str(info.value).lower() or "mac" in str(info.value).lower()
    assert server.error is not None  # the terminal error state: it stays failed
    with pytest.raises(Exception):  # noqa: B017
        server.read_plain(cbuf, len(sealed))


@pytest.mark.skipif(_bytesio.read is None, reason="the extension is not built / not in use")
def test_the_extension_checks_its_arguments():
    mod = _bytesio._module
    with pytest.raises(TypeError):
        mod.read(1, 2)
    with pytest.raises(ValueError):
        mod.read(0, 0, 0, 0, 10, False, False, 65536, 0)  # NULL SSL and out
    with pytest.raises(ValueError):
        mod.read(1, 1, 1, 1, -1, False, False, 65536, 1)  # negative length
    with pytest.raises(ValueError):
        mod.read(1, 1, 1, 1, 10, False, False, 100, 1)  # smaller than a record
    with pytest.raises(ValueError):
        mod.seal(0, 0, b"x", 0)
    with pytest.raises(TypeError):
        mod.seal(1, 1, 12345, 1)  # not a buffer
    with pytest.raises(ValueError):
        mod.init(0, 0, 0, 0)
    assert ffi.sizeof("intptr_t") == 8 or ffi.sizeof("intptr_t") == 4
