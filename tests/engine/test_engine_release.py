"""``TLSEngine.release_bios``: after the handshake an engine keeps no buffer it does not need.

Measured with glibc's ``mallinfo2`` (bytes in use on the C heap, where OpenSSL allocates): a
TLS 1.3 server engine whose last act was writing its session tickets held its record layer's
16 KiB write buffer (and more) until ``release_bios`` also called ``SSL_free_buffers``:
47 KiB per engine before, 15 KiB after on OpenSSL 3.0, 60 and 28 KiB on 3.5 (whose client also
sends an ML-KEM key share, kept by the server).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc

import pytest

from nodetls._engine import TLSEngine
from nodetls._openssl import constants as C
from nodetls._openssl import ffi, lib, macros

from .pair import handshake
from .rawctx import RawContext, make_ca_and_leaf

CA, CERT, KEY = make_ca_and_leaf("localhost")


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def _heap_in_use() -> int | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallinfo2 = libc.mallinfo2
    except (OSError, AttributeError):
        return None
    mallinfo2.restype = _MallInfo2
    return int(mallinfo2().uordblks)


def _idle_server_engine_bytes(client_groups: bytes | None = None) -> float:
    """C heap bytes per idle TLS 1.3 server engine (200 of them, each after a full handshake
    whose last act was writing the session tickets, its client freed)."""
    sctx = RawContext(CERT, KEY, max_version=C.TLS1_3_VERSION)
    cctx = RawContext(ca=CA, max_version=C.TLS1_3_VERSION)
    if client_groups is not None:
        assert macros.SSL_CTX_set1_groups_list(cctx.ctx, client_groups) == 1

    def idle_servers(n: int) -> list[TLSEngine]:
        servers = []
        for _ in range(n):
            server, client = TLSEngine(sctx, server=True), TLSEngine(cctx, server=False)
            handshake(client, server)  # the server's last act: its session tickets
            assert server.release_bios()
            client.free()
            servers.append(server)
        return servers

    for s in idle_servers(20):  # (warm-up: the contexts' and the allocator's own first uses)
        s.free()
    gc.collect()
    before = _heap_in_use()
    servers = idle_servers(200)
    gc.collect()
    after = _heap_in_use()
    assert before is not None and after is not None
    for s in servers:
        s.free()
    return (after - before) / len(servers)


def test_an_idle_server_engine_keeps_no_record_buffers() -> None:
    if _heap_in_use() is None:
        pytest.skip("no glibc mallinfo2 here")
    per_engine = _idle_server_engine_bytes()
    assert per_engine < 40 * 1024, f"{per_engine / 1024:.1f} KiB per idle server engine"


def _bundled_build() -> bool:
    """The binding links the bundled OpenSSL (``_openssl/_bundle.py``): its pinned release,
    statically."""
    from nodetls._openssl import STATIC
    from nodetls._openssl._bundle import VERSION

    version = ffi.string(lib.OpenSSL_version(0)).decode()
    return STATIC and version.startswith(f"OpenSSL {VERSION} ")


def test_the_bundled_build_caps_record_pipelining() -> None:
    """``_bundle.EDITS``: OpenSSL built with ``SSL_MAX_PIPELINES`` 1, so the record layers' arrays
    hold one slot; asking for two pipelines fails as asking for 33 does in OpenSSL's own build."""
    if not _bundled_build():
        pytest.skip("not the bundled OpenSSL build")
    ctx = lib.SSL_CTX_new(lib.TLS_method())
    try:
        assert lib.SSL_CTX_ctrl(ctx, C.SSL_CTRL_SET_MAX_PIPELINES, 1, ffi.NULL) == 1
        assert lib.SSL_CTX_ctrl(ctx, C.SSL_CTRL_SET_MAX_PIPELINES, 2, ffi.NULL) == 0
    finally:
        lib.SSL_CTX_free(ctx)


def test_an_idle_server_engine_on_the_bundled_build_is_small() -> None:
    """What the pipelining cap is for: an idle TLS 1.3 server engine (a client offering X25519,
    as the benchmark's OpenSSL 3.0 client; a 3.5 client's ML-KEM key share adds ~6 KiB, kept by
    OpenSSL for the connection's life) costs about 12 KiB of C heap, against about 22 KiB with
    OpenSSL's 32 pipeline slots."""
    if not _bundled_build():
        pytest.skip("not the bundled OpenSSL build")
    if _heap_in_use() is None:
        pytest.skip("no glibc mallinfo2 here")
    per_engine = _idle_server_engine_bytes(client_groups=b"X25519")
    assert per_engine < 16 * 1024, f"{per_engine / 1024:.1f} KiB per idle server engine"
