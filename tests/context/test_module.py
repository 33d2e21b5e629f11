"""Module-level helpers (get_ciphers, root_certificates), lifetime and creation cost."""

from __future__ import annotations

import gc
import json
import shutil
import subprocess
import time

import certifi
import pytest

from nodetls._context import SecureContext, get_ciphers, root_certificates
from nodetls._context import ticket_keys as tk


def test_get_ciphers_shape():
    names = get_ciphers()
    assert names == sorted(set(names))
    assert all(n == n.lower() for n in names)
    for suite in ("tls_aes_256_gcm_sha384", "tls_chacha20_poly1305_sha256",
                  "tls_aes_128_gcm_sha256", "ecdhe-rsa-aes128-gcm-sha256",
                  "ecdhe-ecdsa-chacha20-poly1305", "dhe-rsa-aes256-gcm-sha384"):
        assert suite in names
    assert get_ciphers() is not get_ciphers()  # callers may mutate their copy


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_get_ciphers_matches_node():
    """Same names as Node's tls.getCiphers(), apart from what the two OpenSSL builds differ on."""
    out = subprocess.run(["node", "-p", "JSON.stringify(require('tls').getCiphers())"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    node = set(json.loads(out))
    ours = set(get_ciphers())
    only_node, only_ours = sorted(node - ours), sorted(ours - node)
    print("only in node:", only_node)
    print("only in nodetls:", only_ours)
    assert {n for n in node if n.startswith("tls_")} <= ours
    assert len(only_node) + len(only_ours) <= len(node) // 10


def test_root_certificates():
    roots = root_certificates()
    assert isinstance(roots, tuple) and len(roots) > 100
    assert roots is root_certificates()  # cached
    for pem in roots:
        assert pem.startswith("-----BEGIN CERTIFICATE-----\n")
        assert pem.endswith("\n-----END CERTIFICATE-----")
    with open(certifi.where()) as f:
        assert f.read().count("-----BEGIN CERTIFICATE-----") == len(roots)


def test_creating_client_contexts_is_cheap():
    """Contexts without ``ca`` share one root store (no re-parsing of Mozilla's roots): 1,000 of
    them stay well under 2 ms of CPU each.  CPU time of this thread, not wall time: a busy
    machine delays the loop but does not make it do more work."""
    from nodetls._context.root_certs import shared_root_store
    from nodetls._openssl import lib

    a, b = SecureContext(), SecureContext()  # the first builds the shared store
    assert lib.SSL_CTX_get_cert_store(a.ctx) == lib.SSL_CTX_get_cert_store(b.ctx)
    assert lib.SSL_CTX_get_cert_store(a.ctx) == shared_root_store()
    a.close()
    b.close()
    start = time.thread_time()
    for _ in range(1000):
        SecureContext().close()
    per_context = (time.thread_time() - start) / 1000
    assert per_context < 0.002, f"{per_context * 1000:.3f} ms of CPU per context"


def test_close_is_idempotent_and_del_closes():
    ctx = SecureContext()
    address = int(tk.ffi.cast("uintptr_t", ctx.ctx))
    assert address not in tk._by_ctx  # OpenSSL's own ticket keys: nothing registered
    ctx.get_ticket_keys()  # ours from now on: the ticket callback finds the context
    assert tk._by_ctx.get(address) is ctx
    ctx.close()
    ctx.close()
    assert ctx.ctx is None and ctx.closed and address not in tk._by_ctx
    with pytest.raises(ValueError):
        _ = ctx.session_timeout
    ctx = SecureContext(ticket_keys=bytes(48))
    address = int(tk.ffi.cast("uintptr_t", ctx.ctx))
    assert tk._by_ctx.get(address) is ctx
    del ctx
    gc.collect()
    assert address not in tk._by_ctx


def test_failed_creation_leaves_nothing_registered():
    before = len(tk._by_ctx)
    with pytest.raises(ValueError):
        SecureContext(ciphers="NOPE")
    gc.collect()
    assert len(tk._by_ctx) == before


def test_context_manager():
    with SecureContext() as ctx:
        assert not ctx.closed
    assert ctx.closed
    assert "closed" in repr(ctx)
