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


def test_an_idle_server_engine_keeps_no_record_buffers() -> None:
    if _heap_in_use() is None:
        pytest.skip("no glibc mallinfo2 here")
    sctx = RawContext(CERT, KEY, max_version=C.TLS1_3_VERSION)
    cctx = RawContext(ca=CA, max_version=C.TLS1_3_VERSION)

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
    per_engine = (after - before) / len(servers)
    for s in servers:
        s.free()
    assert per_engine < 40 * 1024, f"{per_engine / 1024:.1f} KiB per idle server engine"
