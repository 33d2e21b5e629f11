"""The data path's direct C entries (``_engine/_bytesio.py``, ``_openssl/_bytesio.c``): ``seal``
of every size, ``read_plain`` (small reads into the read buffer, plaintext alone as ``bytes``;
8 KiB of ciphertext and more straight into new ``bytes``) and ``read_view`` give the same bytes,
flags and outcomes (close_notify, errors, partial records, KeyUpdate answers) as the cffi
helpers' and the pure-Python path's (``NODETLS_PURE=1``, where the extension is not used): the
same scenario runs in this process and under ``NODETLS_PURE=1`` and both traces must match."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from nodetls._engine import TLSEngine, _bytesio, _records
from nodetls._engine.engine import receive_buffer
from nodetls._openssl import constants as C
from nodetls._openssl import ffi, lib

from .conftest import CA, CERT, KEY
from .pair import handshake
from .rawctx import RawContext
from .test_engine_data_path import read_all

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
    # (the record path's module-level bindings: _engine/_records.py)
    if PURE or getattr(_records, "_c_read", None) is None:
        assert _records._bx_read is None and _records._bx_seal is None
        assert _records._bx_read_into is None and _records._bx_read_bytes is None
    else:
        assert callable(_bytesio.read) and callable(_bytesio.seal)
        assert callable(_bytesio.read_into) and callable(_bytesio.read_bytes)


SIZES = [1, 64, 100, 1000, 8191, 8192, 16383, 16384, 16385, 100_000, 1_000_000]


@pytest.mark.parametrize("size", SIZES)
def test_seal_then_read_plain_round_trips_every_size(pair, size):
    client, server = pair
    data = os.urandom(size)
    sealed = client.seal(data)
    assert type(sealed) is bytes and len(sealed) > size  # every record's overhead on top
    assert client.take_output() == b""  # seal took all of the output
    assert deliver(server, sealed) == data


@pytest.mark.parametrize("size", SIZES)
def test_seal_then_read_view_round_trips_every_size(pair, size):
    client, server = pair
    data = os.urandom(size)
    assert b"".join(read_all(server, client.seal(data))) == data
    assert not server.output_after_read and not server.received_close_notify
    assert server.read_view() is None and server.read_view(b"") is None


@pytest.mark.parametrize("size", [1, 64, 8191, 64 * 1024])
def test_a_read_is_bytes_when_plaintext_is_all_there_is(pair, size):
    client, server = pair
    data = os.urandom(size)
    view, cbuf = receive_buffer()
    sealed = client.seal(data)
    view[:len(sealed)] = sealed
    plain = server.read_plain(cbuf, len(sealed))
    assert type(plain) is bytes and plain == data
    assert not server.read_more and not server.output_after_read


@pytest.mark.parametrize("size", [64, 8191, 32 * 1024])
def test_a_read_that_ends_with_close_notify_reports_it(pair, size):
    client, server = pair
    data = os.urandom(size)
    sealed = client.seal(data)
    client.shutdown()
    wire = sealed + client.take_output()
    view, cbuf = receive_buffer()
    view[:len(wire)] = wire
    plain = server.read_plain(cbuf, len(wire))
    assert type(plain) is not bytes  # not plaintext alone: the caller goes on as after read_view
    assert bytes(plain) == data
    assert server.received_close_notify


@pytest.mark.parametrize("size", [64, 20_000])
def test_a_tampered_read_fails_the_engine(pair, size):
    client, server = pair
    sealed = bytearray(client.seal(os.urandom(size)))
    sealed[len(sealed) // 2] ^= 1  # inside the (first or only) record: its authentication fails
    view, cbuf = receive_buffer()
    view[:len(sealed)] = sealed
    with pytest.raises(Exception) as info:  # noqa: B017 - the engine's TLS error
        server.read_plain(cbuf, len(sealed))
    # Node v20's codes: the first error in OpenSSL's queue (TLS 1.2's AES-GCM names the
    # cipher's failure before the record layer's)
    assert info.value.code == ("ERR_SSL_CIPHER_OPERATION_FAILED"
                               if server.protocol_number() == 0x0303
                               else "ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC")
    assert server.error is not None  # the terminal error state: it stays failed
    with pytest.raises(Exception):  # noqa: B017
        server.read_plain(cbuf, len(sealed))
    with pytest.raises(Exception):  # noqa: B017
        server.read_view(b"x")


def test_a_partial_record_waits_for_the_rest(pair):
    client, server = pair
    sealed = client.seal(b"p" * 64)
    view, cbuf = receive_buffer()
    view[:5] = sealed[:5]
    assert server.read_plain(cbuf, 5) is None  # want-read: nothing yet
    assert not server.read_more and not server.output_after_read
    rest = sealed[5:]
    view[:len(rest)] = rest
    assert server.read_plain(cbuf, len(rest)) == b"p" * 64


def test_a_key_update_is_read_through(pair):
    """TLS 1.3: a KeyUpdate (update requested) then a record under the new key, in one read;
    the server's own KeyUpdate goes out with its next write (OpenSSL sends it then)."""
    client, server = pair
    if lib.SSL_version(client.ssl) != C.TLS1_3_VERSION:
        pytest.skip("KeyUpdate is TLS 1.3's")
    assert lib.SSL_key_update(client.ssl, C.SSL_KEY_UPDATE_REQUESTED) == 1
    sealed = client.seal(b"k" * 64)
    view, cbuf = receive_buffer()
    view[:len(sealed)] = sealed
    assert server.read_plain(cbuf, len(sealed)) == b"k" * 64
    answer = server.seal(b"back")
    assert bytes(client.read_view(answer)) == b"back"


@pytest.mark.skipif(_bytesio.read is None, reason="the extension is not built / not in use")
def test_read_into_packs_the_outcome(pair):
    client, server = pair
    mod = _bytesio._module
    buf = ffi.new("char[]", 65536)
    sealed = client.seal(b"q" * 100)
    code = mod.read_into(_bytesio.addr(server.ssl), sealed, len(sealed), False, False,
                         _bytesio.addr(buf), 65536)
    assert _bytesio.unpack_total(code) == 100 and ffi.buffer(buf, 100)[:] == b"q" * 100
    assert _bytesio.unpack_status(code) == 0 and not _bytesio.unpack_out(code)
    code = mod.read_into(_bytesio.addr(server.ssl), None, 0, False, False, _bytesio.addr(buf),
                         65536)
    assert _bytesio.unpack_total(code) == 0 and _bytesio.unpack_status(code) == -2
    sealed = client.seal(b"r" * 100)
    code = mod.read_into(_bytesio.addr(server.ssl), sealed, len(sealed) - 1, False, False,
                         _bytesio.addr(buf), 65536)  # one byte short of the record
    assert _bytesio.unpack_total(code) == 0
    assert _bytesio.unpack_status(code) == C.SSL_ERROR_WANT_READ
    plain = mod.read_bytes(_bytesio.addr(server.ssl), sealed[-1:], 1, False, False,
                           _bytesio.addr(buf), 65536)
    assert plain == b"r" * 100


@pytest.mark.skipif(_bytesio.read is None, reason="the extension is not built / not in use")
def test_the_extension_checks_its_arguments():
    mod = _bytesio._module
    buf = ffi.new("char[]", 16384)
    b = _bytesio.addr(buf)
    for fn in (mod.read_into, mod.read_bytes):
        with pytest.raises(TypeError):
            fn(1, 2)
        with pytest.raises(ValueError):
            fn(0, None, 0, False, False, b, 16384)  # NULL SSL
        with pytest.raises(ValueError):
            fn(1, None, 0, False, False, 0, 16384)  # NULL buffer
        with pytest.raises(ValueError):
            fn(1, None, 0, False, False, b, 100)  # smaller than a record
        with pytest.raises(ValueError):
            fn(1, b"abc", -2, False, False, b, 16384)  # negative length (-1: all of it)
        with pytest.raises(ValueError):
            fn(1, b, -1, False, False, b, 16384)  # an address needs its length
        with pytest.raises(ValueError):
            fn(1, b"abc", 4, False, False, b, 16384)  # past the buffer's end
        with pytest.raises(ValueError):
            fn(1, 0, 4, False, False, b, 16384)  # NULL data
        with pytest.raises(TypeError):
            fn(1, 12.5, 4, False, False, b, 16384)  # not a buffer
    with pytest.raises(TypeError):
        mod.read(1, 2)
    with pytest.raises(ValueError):
        mod.read(0, None, 0, False, False, 65536)  # NULL SSL
    with pytest.raises(ValueError):
        mod.read(1, None, 0, False, False, 100)  # smaller than a record
    with pytest.raises(ValueError):
        mod.read(1, b"abc", 4, False, False, 65536)  # past the buffer's end
    with pytest.raises(TypeError):
        mod.seal(1, b"x", 0)
    with pytest.raises(ValueError):
        mod.seal(0, b"x")
    with pytest.raises(TypeError):
        mod.seal(1, 12345)  # not a buffer
    assert mod.API == _bytesio.API
    with pytest.raises(ValueError):
        mod.init(0, 0, 0, 0, 0, 0)
    with pytest.raises(TypeError):
        mod.init(1, 2, 3, 4)


# ---------------------------------------------------------------- this process against NODETLS_PURE
def _obs(eng: TLSEngine, plain: object) -> list[object]:
    """One call's outcome: what came back (type, length, digest) and the flags after it."""
    got = None if plain is None else bytes(plain)  # type: ignore[call-overload]
    return [type(plain).__name__, None if got is None else len(got),
            None if got is None else hashlib.sha256(got).hexdigest()[:16], eng.read_more,
            eng.output_after_read, eng.received_close_notify, eng.paused is not None]


def _drain(eng: TLSEngine, first: object, steps: list[object]) -> None:
    steps.append(_obs(eng, first))
    while first is not None and eng.read_more:
        first = eng.read_view()
        steps.append(_obs(eng, first))


def trace(version: int) -> list[object]:
    """The scenario both ways: every size sealed and read with read_plain (whole, and cut into
    pieces at awkward places) and with read_view, a KeyUpdate, close_notify after data, and a
    tampered record; every call's outcome and flags."""
    rng = random.Random(version)
    server = TLSEngine(RawContext(CERT, KEY, max_version=version), server=True)
    client = TLSEngine(RawContext(ca=CA, max_version=version), server=False)
    handshake(client, server)
    steps: list[object] = []
    view, cbuf = receive_buffer()
    for size in SIZES:
        data = rng.randbytes(size)
        sealed = client.seal(data)
        steps.append(["seal", type(sealed).__name__, len(data)])
        # read_plain through the receive buffer: whole, then cut at 1, 5 and half a record
        for cuts in ([len(sealed)], [1, 5, 8000, len(sealed)]):
            wire = sealed if cuts[0] == len(sealed) else client.seal(data)
            at = 0
            for cut in cuts:
                piece = wire[at:min(cut, len(wire))]
                at = min(cut, len(wire))
                for i in range(0, len(piece), len(view)):
                    chunk = piece[i:i + len(view)]
                    if not chunk:
                        continue
                    view[:len(chunk)] = chunk
                    _drain(server, server.read_plain(cbuf, len(chunk)), steps)
        for kind in (bytes, bytearray, memoryview):
            _drain(server, server.read_view(kind(client.seal(data))), steps)
    if version == C.TLS1_2_VERSION:  # a renegotiation: the client's answers wait after reads
        server.renegotiate()
        wire = server.take_output()
        for _ in range(6):
            view[:len(wire)] = wire
            _drain(client, client.read_plain(cbuf, len(wire)), steps)
            wire = client.take_output()
            if not wire:
                break
            _drain(server, server.read_view(wire), steps)
            wire = server.take_output()
            if not wire:
                break
        steps.append(["renegotiated", lib.SSL_renegotiate_pending(server.ssl)])
    if version == C.TLS1_3_VERSION:
        lib.SSL_key_update(client.ssl, C.SSL_KEY_UPDATE_REQUESTED)
        wire = client.seal(b"k" * 64)
        view[:len(wire)] = wire
        _drain(server, server.read_plain(cbuf, len(wire)), steps)
        steps.append(["answer", len(server.take_output()) > 0])
    wire = client.seal(b"last" * 10)
    client.shutdown()
    wire += client.take_output()
    view[:len(wire)] = wire
    _drain(server, server.read_plain(cbuf, len(wire)), steps)
    _drain(server, server.read_view(), steps)
    # a tampered record fails the other direction's reader
    bad = bytearray(server.seal(b"t" * 64))
    bad[len(bad) // 2] ^= 1
    try:
        client.read_view(bytes(bad))
    except Exception as exc:  # noqa: BLE001 - the outcome is recorded
        steps.append(["error", type(exc).__name__, getattr(exc, "code", None),
                      client.error is not None])
    client.free()
    server.free()
    return steps


def test_the_direct_entries_and_the_pure_path_trace_alike():
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != "NODETLS_PURE"}
    env["NODETLS_PURE"] = "0" if PURE else "1"  # the other way round from this process
    script = ("import json; from tests.engine.test_engine_bytesio import trace; "
              "from nodetls._openssl import constants as C; "
              "print(json.dumps([trace(C.TLS1_2_VERSION), trace(C.TLS1_3_VERSION)]))")
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, cwd=root, timeout=120)
    assert res.returncode == 0, res.stderr
    other = json.loads(res.stdout.splitlines()[-1])
    here = json.loads(json.dumps([trace(C.TLS1_2_VERSION), trace(C.TLS1_3_VERSION)]))
    assert len(here[0]) > 100
    assert here == other


@pytest.mark.skipif(_bytesio.read is None, reason="the extension is not built / not in use")
def test_an_extension_built_from_other_sources_is_not_used(monkeypatch):
    """An editable install whose extension is older than ``_bytesio.py`` (not rebuilt yet): the
    engine runs without it instead of failing at import."""
    mod = _bytesio._module
    monkeypatch.setattr(mod, "API", _bytesio.API - 1)
    assert _bytesio._load() is None
    monkeypatch.undo()
    assert _bytesio._load() is mod
