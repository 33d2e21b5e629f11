"""``TLSEngine.release_bios``: after the handshake an engine keeps no buffer it does not need.

Measured with glibc's ``mallinfo2`` (bytes in use on the C heap, where OpenSSL allocates): a
TLS 1.3 server engine whose last act was writing its session tickets held its record layer's
16 KiB write buffer (and more) until ``release_bios`` also called ``SSL_free_buffers``:
47 KiB per engine before, 15 KiB after on OpenSSL 3.0, 60 and 28 KiB on 3.5 (whose client also
sends an ML-KEM key share, which the server kept until the bundled build's second edit).
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


@pytest.mark.parametrize("client_groups", [b"X25519", b"X25519MLKEM768"])
def test_an_idle_server_engine_on_the_bundled_build_is_small(client_groups: bytes) -> None:
    """What the bundled build's edits are for: an idle TLS 1.3 server engine costs about 12 KiB
    of C heap whether the client's key share was X25519 (the benchmark's OpenSSL 3.0 client) or
    X25519MLKEM768 (OpenSSL 3.5 clients, current browsers).  As released, OpenSSL 3.5 kept about
    22 KiB (its 32 pipeline slots), and the ML-KEM public key, about 6 KiB more, for the
    connection's life."""
    if not _bundled_build():
        pytest.skip("not the bundled OpenSSL build")
    if _heap_in_use() is None:
        pytest.skip("no glibc mallinfo2 here")
    per_engine = _idle_server_engine_bytes(client_groups=client_groups)
    assert per_engine < 14 * 1024, f"{per_engine / 1024:.1f} KiB per idle server engine"


#: ``SSL_get_negotiated_group`` answers a NID (X25519: 1034), or for a group without one
#: (X25519MLKEM768: TLS id 0x11EC) the TLS id with ``TLSEXT_nid_unknown`` set.
_GROUPS = {1034: "X25519", 0x1000000 | 0x11EC: "X25519MLKEM768"}


def _group_name(eng: TLSEngine) -> str:
    group = lib.SSL_ctrl(eng.ssl, C.SSL_CTRL_GET_NEGOTIATED_GROUP, 0, ffi.NULL)
    return _GROUPS.get(group, hex(group))


def _key_share_kept(eng: TLSEngine, peer: bool = True) -> bool:
    """``SSL_get_peer_tmp_key`` (the peer's key share) or ``SSL_get_tmp_key`` (the engine's own
    key pair) answers a key."""
    out = ffi.new("EVP_PKEY **")
    ctrl = C.SSL_CTRL_GET_PEER_TMP_KEY if peer else C.SSL_CTRL_GET_TMP_KEY
    if lib.SSL_ctrl(eng.ssl, ctrl, 0, out) <= 0 or out[0] == ffi.NULL:
        return False
    lib.EVP_PKEY_free(out[0])  # (the getters take a reference)
    return True


@pytest.mark.parametrize("server_groups, client_groups, hrr", [
    (b"X25519MLKEM768:X25519", b"X25519MLKEM768:X25519", False),
    (b"X25519:X25519MLKEM768", b"X25519", False),
    # the client's first share (X25519) is not one the server takes: HelloRetryRequest, then the
    # ML-KEM share
    (b"X25519MLKEM768", b"X25519:X25519MLKEM768", True),
])
def test_the_server_lets_go_of_the_key_shares(server_groups: bytes, client_groups: bytes,
                                              hrr: bool) -> None:
    """Bundled build (``_bundle.EDITS``): once a TLS 1.3 server has made its own key share it
    keeps neither the client's key share nor its own key pair (a client's side is OpenSSL's as
    released).  Handshake, HelloRetryRequest, data both ways and a resumption with a fresh
    (EC)DHE/KEM exchange all work as before."""
    if not _bundled_build():
        pytest.skip("not the bundled OpenSSL build")
    sctx = RawContext(CERT, KEY, max_version=C.TLS1_3_VERSION)
    cctx = RawContext(ca=CA, max_version=C.TLS1_3_VERSION)
    assert macros.SSL_CTX_set1_groups_list(sctx.ctx, server_groups) == 1
    assert macros.SSL_CTX_set1_groups_list(cctx.ctx, client_groups) == 1
    session = None
    for attempt in range(2):
        server, client = TLSEngine(sctx, server=True), TLSEngine(cctx, server=False)
        try:
            if session is not None:
                client.set_session(session)
            handshake(client, server)
            group = _group_name(server)
            assert group == _group_name(client)
            assert group == (client_groups if not hrr else server_groups).split(b":")[0].decode()
            assert not _key_share_kept(server) and not _key_share_kept(server, peer=False)
            # (a client keeps an ECDHE server's key share, as released; a KEM server sends a
            # ciphertext, no key)
            assert _key_share_kept(client) == (group == "X25519")
            assert bool(server.session_reused()) == (attempt == 1)
            for sender, receiver in ((client, server), (server, client)):
                sender.write(b"ping after the key share is gone")
                receiver.receive(sender.take_output())
                assert receiver.read() == b"ping after the key share is gone"
            session = client.session_der()
        finally:
            client.free()
            server.free()
