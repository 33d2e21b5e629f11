"""Serving one connection from another context's key and certificate (Node's ``setKeyCert`` and
the ``SNICallback`` context).

Node lends a context to a connection without making it the connection's ``SSL_CTX``: its
``UseSNIContext`` copies the context's current certificate (``SSL_use_certificate``), that
certificate's private key (``SSL_use_PrivateKey``) and chain (``SSL_set1_chain``, skipped when the
context has none), then its ``SetCACerts`` the context's certificate store, with which a client's
certificate is verified (``SSL_set1_verify_cert_store``), and a copy of its client CA list, the
names a CertificateRequest carries (``SSL_set_client_CA_list``).  Everything else -- cipher list,
options, protocol range, curves, sigalgs, DH parameters, ALPN, session id context, ticket keys --
stays the connection's first context's (``SSL_get_SSL_CTX`` never changes).  Done before OpenSSL
picks the certificate (from the cert callback, or the ALPN callback of a TLS 1.3 handshake), the
peer is sent the new one.

* The ``SNICallback`` context (:func:`lend_sni_context`, Node's ``CertCbDone``): as Node, a context
  without a chain leaves the connection's previous chain in place (checked with node v20: an SNI
  context whose certificate comes alone goes out with the default context's intermediates), and a
  certificate of another key type goes to that type's slot, so the default context's certificate
  of the first type stays and OpenSSL may still choose it.  A context without a certificate fails
  with ``ERR_SSL_PASSED_A_NULL_PARAMETER`` (node v20: that ``'tlsClientError'``).
* ``setKeyCert`` (:func:`use_key_cert`): one deliberate difference, the chain is always replaced
  (emptied when the new context has none), so the new leaf never goes out with the old
  intermediates.
"""

from __future__ import annotations

from typing import Any, Final

from .._openssl import constants as C
from .._openssl import ffi, lib, macros
from .._openssl.errors import consume_errors, tls_error

NULL: Final = ffi.NULL


def _lend(ssl: Any, ctx: Any, keep_chain: bool) -> bool:
    """Node's ``UseSNIContext`` + ``SetCACerts`` (``keep_chain``: a context without a chain leaves
    ``ssl``'s; else it is emptied).  False on failure, OpenSSL's error queued."""
    chain = macros.SSL_CTX_get0_chain_certs(ctx)
    ok = lib.SSL_use_certificate(ssl, lib.SSL_CTX_get0_certificate(ctx)) == 1 and \
        lib.SSL_use_PrivateKey(ssl, lib.SSL_CTX_get0_privatekey(ctx)) == 1 and \
        (keep_chain and chain == NULL or lib.SSL_ctrl(ssl, C.SSL_CTRL_CHAIN, 1, chain) == 1) and \
        lib.SSL_ctrl(ssl, C.SSL_CTRL_SET_VERIFY_CERT_STORE, 1,
                     lib.SSL_CTX_get_cert_store(ctx)) == 1
    if ok:
        # (SSL_set_client_CA_list owns the copy; a context without CAs lends its empty list)
        lib.SSL_set_client_CA_list(ssl, lib.SSL_dup_CA_list(lib.SSL_CTX_get_client_CA_list(ctx)))
    return ok


def lend_sni_context(ssl: Any, ctx: Any) -> None:
    """Serve ``ssl`` with the ``SNICallback`` context ``ctx`` as Node's ``CertCbDone`` does (see
    the module's docstring).  Raises ``TLSError`` with OpenSSL's error (a context without a
    certificate: ``ERR_SSL_PASSED_A_NULL_PARAMETER``)."""
    lib.ERR_clear_error()
    if not _lend(ssl, ctx, True):
        raise tls_error(consume_errors(ffi, lib), "CertCbDone failed")


def use_key_cert(ssl: Any, ctx: Any) -> None:
    """Install ``ctx``'s current certificate, key and chain, its certificate store and client CA
    list on ``ssl`` (Node's ``SetKeyCert``).  Raises ``TLSError`` with OpenSSL's error (a context
    without a certificate: ``ERR_SSL_PASSED_A_NULL_PARAMETER``, as Node's ``SetKeyCert``)."""
    lib.ERR_clear_error()
    if not _lend(ssl, ctx, False):
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
