"""Serving one connection from another context's key and certificate (Node's ``setKeyCert``).

Node's ``TLSWrap::SetKeyCert`` copies from the context's ``SSL_CTX`` into the ``SSL``: its
current certificate (``SSL_use_certificate``), that certificate's private key
(``SSL_use_PrivateKey``) and chain (``SSL_set1_chain``), then its certificate store, with which
a client's certificate is verified (``SSL_set1_verify_cert_store``).  Done before OpenSSL picks
the certificate (before the handshake, or from the ALPN callback of a TLS 1.3 handshake), the
peer is sent the new one.

One deliberate difference: Node leaves the connection's previous chain in place when the new
context has none (``SSL_set1_chain`` is skipped), so the new leaf goes out with the old
intermediates; here the chain is always replaced (emptied when the new context has none).  As in
Node, a certificate of another key type goes to that type's slot: the previous context's
certificate of the first type stays there, and OpenSSL may still choose it.
"""

from __future__ import annotations

from typing import Any, Final

from .._openssl import constants as C
from .._openssl import ffi, lib, macros
from .._openssl.errors import consume_errors, tls_error

NULL: Final = ffi.NULL


def use_key_cert(ssl: Any, ctx: Any) -> None:
    """Install ``ctx``'s current certificate, key and chain, and its certificate store, on
    ``ssl``.  Raises ``TLSError`` with OpenSSL's error (a context without a certificate:
    ``ERR_SSL_PASSED_A_NULL_PARAMETER``, as Node's ``SetKeyCert``)."""
    lib.ERR_clear_error()
    chain = macros.SSL_CTX_get0_chain_certs(ctx)
    ok = lib.SSL_use_certificate(ssl, lib.SSL_CTX_get0_certificate(ctx)) == 1 and \
        lib.SSL_use_PrivateKey(ssl, lib.SSL_CTX_get0_privatekey(ctx)) == 1 and \
        lib.SSL_ctrl(ssl, C.SSL_CTRL_CHAIN, 1, chain) == 1 and \
        lib.SSL_ctrl(ssl, C.SSL_CTRL_SET_VERIFY_CERT_STORE, 1,
                     lib.SSL_CTX_get_cert_store(ctx)) == 1
    if not ok:
        raise tls_error(consume_errors(ffi, lib), "SetKeyCert failed")


def check_key_cert(ctx: Any) -> None:
    """Raise what :func:`use_key_cert` would for ``ctx`` on a connection whose ``SSL`` is not
    made yet (a TLS socket over a socket still connecting, where Node has its handle already):
    a throwaway ``SSL`` of the context takes it."""
    ssl = lib.SSL_new(ctx)
    if ssl == NULL:
        raise tls_error(consume_errors(ffi, lib), "SSL_new failed")
    try:
        use_key_cert(ssl, ctx)
    finally:
        lib.SSL_free(ssl)
