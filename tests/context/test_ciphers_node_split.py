"""Node v20's ``processCiphers`` split (lib/internal/tls/secure-context.js) for entries naming
TLS 1.3 suites with an operator in front: ``!TLS_*`` goes with the TLS 1.3 suites (where
OpenSSL, skipping names it does not know, ignores it), ``-TLS_*``/``+TLS_*`` stay in the TLS 1.2
list (where they match nothing).  Every expectation was checked against node v20.20 (OpenSSL
3.0.19), e.g. ``tls.createSecureContext({ciphers})`` and a handshake."""

from __future__ import annotations

import pytest

import nodetls as tls
from nodetls._context import SecureContext, process_ciphers
from nodetls._openssl import constants as C
from nodetls._openssl import ffi, lib
from nodetls.errors import ContextOptionError, InvalidArgValueError

from .memory_tls import HandshakeFailed, handshake
from .test_options import cipher_names


def negotiated(end) -> str:
    return ffi.string(lib.SSL_CIPHER_get_name(lib.SSL_get_current_cipher(end.ssl))).decode()


@pytest.mark.parametrize(
    ("ciphers", "cipher_list", "suites"),
    [
        ("TLS_AES_256_GCM_SHA384:!TLS_CHACHA20_POLY1305_SHA256",
         "", "TLS_AES_256_GCM_SHA384:!TLS_CHACHA20_POLY1305_SHA256"),
        ("!TLS_AES_128_GCM_SHA256", "", "!TLS_AES_128_GCM_SHA256"),
        ("ECDHE-RSA-AES128-GCM-SHA256:!TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384",
         "ECDHE-RSA-AES128-GCM-SHA256", "!TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384"),
        # only '!' counts in Node v20: '-' and '+' entries stay in the TLS 1.2 list
        ("TLS_AES_256_GCM_SHA384:-TLS_CHACHA20_POLY1305_SHA256",
         "-TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_256_GCM_SHA384"),
        ("TLS_AES_256_GCM_SHA384:+TLS_CHACHA20_POLY1305_SHA256",
         "+TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_256_GCM_SHA384"),
        # the prefix test is case-sensitive, as Node's startsWith
        ("!tls_aes_128_gcm_sha256:!ECDHE", "!tls_aes_128_gcm_sha256:!ECDHE", ""),
        ("HIGH:!aNULL::!TLS_", "HIGH:!aNULL", "!TLS_"),
    ],
)
def test_split(ciphers, cipher_list, suites):
    assert process_ciphers(ciphers) == (cipher_list, suites)


def test_negated_tls13_suite_is_accepted_like_node():
    # node: createSecureContext({ciphers: 'TLS_AES_256_GCM_SHA384:!TLS_CHACHA20_POLY1305_SHA256'})
    # is fine; no TLS 1.2 entry, so the minimum version goes up to TLS 1.3.
    ctx = tls.create_secure_context(ciphers="TLS_AES_256_GCM_SHA384:!TLS_CHACHA20_POLY1305_SHA256")
    assert cipher_names(ctx) == ["TLS_AES_256_GCM_SHA384"]
    assert ctx.min_version == C.TLS1_3_VERSION


def test_the_negation_removes_nothing(ctx_pki):
    # node: a server with 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:
    # !TLS_CHACHA20_POLY1305_SHA256' still negotiates TLS_CHACHA20_POLY1305_SHA256 with a client
    # offering only that, and refuses a TLS 1.2-only client (ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION).
    server = SecureContext(
        cert=ctx_pki.ec_chain, key=ctx_pki.ec_key,
        ciphers="TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:!TLS_CHACHA20_POLY1305_SHA256")
    assert cipher_names(server) == ["TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]
    client = SecureContext(ca=ctx_pki.root, ciphers="TLS_CHACHA20_POLY1305_SHA256")
    c, _ = handshake(client, server)
    assert negotiated(c) == "TLS_CHACHA20_POLY1305_SHA256"
    with pytest.raises(HandshakeFailed):
        handshake(SecureContext(ca=ctx_pki.root, max_version="TLSv1.2"), server)


@pytest.mark.parametrize(
    "ciphers",
    [
        "!TLS_AES_128_GCM_SHA256",  # only negated TLS 1.3 entries: no suite at all
        "!TLS_AES_128_GCM_SHA256:!TLS_AES_256_GCM_SHA384",
        "ECDHE-RSA-AES128-GCM-SHA256:!TLS_AES_128_GCM_SHA256",  # the suites part alone counts
        "!TLS_NOPE",
        "!TLS_",
        "TLS_AES_256_GCM_SHA384:-TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_256_GCM_SHA384:+TLS_CHACHA20_POLY1305_SHA256",
        "-TLS_AES_128_GCM_SHA256",
        "!tls_aes_128_gcm_sha256",
    ],
)
def test_no_cipher_match_like_node(ciphers):
    with pytest.raises(ContextOptionError) as info:
        tls.create_secure_context(ciphers=ciphers)
    assert info.value.code == "ERR_SSL_NO_CIPHER_MATCH"


# node -e "tls.createSecureContext({ciphers: ':'.repeat(n)})": the message shows the split array.
_ROW12 = "'', " * 11 + "''"


@pytest.mark.parametrize(
    ("ciphers", "received"),
    [
        (":", "[ '', '' ]"),
        ("::", "[ '', '', '' ]"),
        (":" * 5, "[ '', '', '', '', '', '' ]"),
        (":" * 6, "[\n  '', '', '', '',\n  '', '', ''\n]"),
        (":" * 7, "[\n  '', '', '', '',\n  '', '', '', ''\n]"),
        (":" * 8, "[\n  '', '', '', '', '',\n  '', '', '', ''\n]"),
        (":" * 20, "[\n" + ",\n".join(["  " + ", ".join(["''"] * 7)] * 3) + "\n]"),
        (":" * 40, ("[\n" + ",\n".join(["  " + ", ".join(["''"] * 10)] * 4))[:128] + "..."),
        (":" * 300, ("[\n  " + _ROW12 + ",\n  " + _ROW12 + ",\n  " + _ROW12)[:128] + "..."),
    ],
)
def test_no_entry_at_all_message_like_node(ciphers, received):
    with pytest.raises(InvalidArgValueError) as info:
        process_ciphers(ciphers)
    assert info.value.code == "ERR_INVALID_ARG_VALUE"
    assert str(info.value) == f"The property 'options.ciphers' is invalid. Received {received}"
