"""What a configured context does in a real handshake (two SSL* over memory BIOs)."""

from __future__ import annotations

import pytest

from nodetls._context import SecureContext
from nodetls._context.root_certs import shared_root_store
from nodetls._openssl import constants as C
from nodetls._openssl import ffi, lib

from .conftest import DH2048, PFX_PASSPHRASE
from .memory_tls import HandshakeFailed, handshake, peer_key_type

RSA, EC = 6, 408
X509_V_ERR_CERT_REVOKED = 23
X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20


@pytest.fixture(params=["TLSv1.2", "TLSv1.3"])
def version(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def client(ctx_pki) -> SecureContext:
    return SecureContext(ca=ctx_pki.root)


@pytest.fixture(scope="module")
def dual_server(ctx_pki) -> SecureContext:
    return SecureContext(cert=[ctx_pki.rsa_chain, ctx_pki.ec_chain],
                         key=[ctx_pki.rsa_key, ctx_pki.ec_key])


def test_rsa_server(ctx_pki, client, version):
    server = SecureContext(cert=ctx_pki.rsa_chain, key=ctx_pki.rsa_key, max_version=version)
    c, s = handshake(client, server)
    assert peer_key_type(c) == RSA
    assert lib.SSL_get_verify_result(c.ssl) == C.X509_V_OK
    assert ffi.string(lib.SSL_get_version(c.ssl)).decode() == version


def test_ecdsa_server(ctx_pki, client, version):
    server = SecureContext(cert=ctx_pki.ec_chain, key=ctx_pki.ec_key, max_version=version)
    c, _ = handshake(client, server)
    assert peer_key_type(c) == EC
    assert lib.SSL_get_verify_result(c.ssl) == C.X509_V_OK


@pytest.mark.parametrize(("sigalgs", "key_type"), [
    ("ECDSA+SHA256", EC), ("rsa_pss_rsae_sha256:RSA+SHA256", RSA)])
def test_rsa_and_ecdsa_pairs_in_one_context(dual_server, ctx_pki, version, sigalgs, key_type):
    """OpenSSL keeps one certificate per key type; the client's signature algorithms pick."""
    client = SecureContext(ca=ctx_pki.root, sigalgs=sigalgs, max_version=version)
    c, _ = handshake(client, dual_server)
    assert peer_key_type(c) == key_type
    assert lib.SSL_get_verify_result(c.ssl) == C.X509_V_OK
    assert len(dual_server.cert_chain_der) == 2


def test_a_client_without_the_ca_does_not_verify(ctx_pki, dual_server):
    """Default trust is the Mozilla bundle, which does not hold the test root."""
    with pytest.raises(HandshakeFailed) as info:
        handshake(SecureContext(), dual_server)
    verify = lib.SSL_get_verify_result(info.value.end.ssl)
    assert verify == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY


def test_chain_and_ca_der(ctx_pki):
    ctx = SecureContext(cert=ctx_pki.rsa_chain, key=ctx_pki.rsa_key,
                        ca=[ctx_pki.root, ctx_pki.intermediate])
    assert ctx.cert_chain_der == [[ctx_pki.rsa_der, ctx_pki.intermediate_der]]
    assert ctx.ca_der == [ctx_pki.root_der, ctx_pki.intermediate_der]
    assert ctx.has_cert


def test_ca_sets_the_client_ca_list(ctx_pki):
    assert lib.SSL_CTX_get_client_CA_list(SecureContext().ctx) == ffi.NULL or \
        lib.OPENSSL_sk_num(lib.SSL_CTX_get_client_CA_list(SecureContext().ctx)) == 0
    ctx = SecureContext(ca=ctx_pki.root + ctx_pki.intermediate)  # one PEM, two certificates
    assert lib.OPENSSL_sk_num(lib.SSL_CTX_get_client_CA_list(ctx.ctx)) == 2


def test_default_trust_store_is_shared(ctx_pki):
    a, b = SecureContext(), SecureContext()
    shared = shared_root_store()
    assert lib.SSL_CTX_get_cert_store(a.ctx) == shared == lib.SSL_CTX_get_cert_store(b.ctx)
    assert a.cert_store_shared
    with_ca = SecureContext(ca=ctx_pki.root)
    assert lib.SSL_CTX_get_cert_store(with_ca.ctx) != shared and not with_ca.cert_store_shared


def test_crl_without_ca_gets_a_private_store(ctx_pki):
    """A CRL must never land in the shared store: the context gets a copy of the roots."""
    shared = shared_root_store()
    ctx = SecureContext(crl=ctx_pki.crl_intermediate)
    assert lib.SSL_CTX_get_cert_store(ctx.ctx) != shared and not ctx.cert_store_shared
    # The shared store still verifies without CRLs: a default client reaches the usual verdict
    # (the issuer is unknown), not "unable to get CRL".
    server = SecureContext(cert=ctx_pki.rsa_chain, key=ctx_pki.rsa_key)
    with pytest.raises(HandshakeFailed) as info:
        handshake(SecureContext(), server)
    assert lib.SSL_get_verify_result(info.value.end.ssl) == \
        X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY


def test_crl_revokes(ctx_pki, version):
    client = SecureContext(ca=ctx_pki.root, crl=[ctx_pki.crl_intermediate, ctx_pki.crl_root],
                           max_version=version)
    revoked = SecureContext(cert=ctx_pki.revoked_chain, key=ctx_pki.revoked_key)
    with pytest.raises(HandshakeFailed) as info:
        handshake(client, revoked)
    assert lib.SSL_get_verify_result(info.value.end.ssl) == X509_V_ERR_CERT_REVOKED
    good = SecureContext(cert=ctx_pki.ec_chain, key=ctx_pki.ec_key)
    c, _ = handshake(client, good)
    assert lib.SSL_get_verify_result(c.ssl) == C.X509_V_OK


def test_pfx_with_passphrase(ctx_pki, client, version):
    server = SecureContext(pfx=ctx_pki.pfx, passphrase=PFX_PASSPHRASE, max_version=version)
    assert server.has_cert
    assert server.cert_chain_der[0][0] == ctx_pki.rsa_der
    assert ctx_pki.intermediate_der in server.cert_chain_der[0][1:]
    # As Node: the bundle's CA certificates are trusted too, in a private copy of the store.
    assert not server.cert_store_shared
    c, _ = handshake(client, server)
    assert peer_key_type(c) == RSA
    assert lib.SSL_get_verify_result(c.ssl) == C.X509_V_OK


def test_dhe_only_with_dhparam(ctx_pki):
    """No DHE unless ``dhparam`` is given (Node's rule); with it, DHE-RSA negotiates."""
    client = SecureContext(ca=ctx_pki.root, max_version="TLSv1.2",
                           ciphers="DHE-RSA-AES128-GCM-SHA256")
    plain = SecureContext(cert=ctx_pki.rsa_chain, key=ctx_pki.rsa_key)
    with pytest.raises(HandshakeFailed):
        handshake(client, plain)
    for dhparam in (DH2048, "auto"):
        server = SecureContext(cert=ctx_pki.rsa_chain, key=ctx_pki.rsa_key, dhparam=dhparam)
        c, _ = handshake(client, server)
        cipher = lib.SSL_get_current_cipher(c.ssl)
        assert ffi.string(lib.SSL_CIPHER_get_name(cipher)) == b"DHE-RSA-AES128-GCM-SHA256"


def test_session_timeout_sets_the_ticket_lifetime_hint(ctx_pki, client, version):
    server = SecureContext(cert=ctx_pki.ec_chain, key=ctx_pki.ec_key, max_version=version)
    c, _ = handshake(client, server)
    session = c.session()
    assert lib.SSL_SESSION_get_ticket_lifetime_hint(session) == 300
    custom = SecureContext(cert=ctx_pki.ec_chain, key=ctx_pki.ec_key, max_version=version,
                           session_timeout=60)
    c, _ = handshake(client, custom)
    assert lib.SSL_SESSION_get_ticket_lifetime_hint(c.session()) == 60


def test_tls13_only_server_refuses_a_tls12_client(ctx_pki, client):
    server = SecureContext(cert=ctx_pki.ec_chain, key=ctx_pki.ec_key,
                           ciphers="TLS_AES_128_GCM_SHA256")
    old = SecureContext(ca=ctx_pki.root, max_version="TLSv1.2")
    with pytest.raises(HandshakeFailed):
        handshake(old, server)
    c, _ = handshake(client, server)
    assert ffi.string(lib.SSL_CIPHER_get_name(lib.SSL_get_current_cipher(c.ssl))) == \
        b"TLS_AES_128_GCM_SHA256"


def test_connections_outlive_close(ctx_pki, client):
    """close() drops only the context's reference: an SSL made before keeps working."""
    from .memory_tls import End

    server = SecureContext(cert=ctx_pki.ec_chain, key=ctx_pki.ec_key)
    s = End(server, True)
    server.close()
    server.close()  # twice is fine
    assert server.ctx is None and server.closed
    c = End(client, False)
    for _ in range(4):
        c.step()
        c.send_to(s)
        s.step()
        s.send_to(c)
    assert c.done and s.done
    c.close(client)
    s.close(server)
