"""The default trust store: certifi's Mozilla bundle, parsed once per process.

Node keeps one root ``X509_STORE`` per process (``GetOrCreateRootCertStore`` in
``crypto_context.cc``) and hands it, up-referenced, to every context created without ``ca``; a
context that must change its store (``crl``, or CA certificates from a ``pfx``) first gets a
private copy (``NewRootCertStore``).  nodetls does the same, so creating a client context costs no
certificate parsing.  Nobody may modify the shared store: :func:`shared_root_store` is for
``SSL_CTX_set_cert_store`` only, and :func:`new_root_store` makes a private copy.

The shared store also holds the certificates of ``NODE_EXTRA_CA_CERTS`` (:mod:`.extra_ca`),
read when it is built; private copies hold the bundled roots only, as Node v20's
``NewRootCertStore``.
"""

from __future__ import annotations

import functools
import re
import threading
from typing import Any

import certifi

from .._openssl import ffi, lib
from .extra_ca import add_extra_ca_certs

__all__ = ["root_certificates", "shared_root_store", "new_root_store", "add_roots_to"]

_PEM_CERT = re.compile(
    r"-----BEGIN CERTIFICATE-----\r?\n.+?\r?\n-----END CERTIFICATE-----", re.DOTALL
)

_lock = threading.Lock()
_root_x509: list[Any] = []  # X509* for each root, owned by this module for the process lifetime
_shared_store: Any = None  # X509_STORE*, one reference owned by this module


@functools.cache
def root_certificates() -> tuple[str, ...]:
    """The default trusted roots as PEM strings, as Node's ``tls.rootCertificates``: each string
    runs from ``-----BEGIN CERTIFICATE-----`` to ``-----END CERTIFICATE-----`` (no trailing
    newline).  Read from certifi's bundle once and cached."""
    with open(certifi.where(), encoding="ascii") as f:
        text = f.read()
    return tuple(m.group(0).replace("\r\n", "\n") for m in _PEM_CERT.finditer(text))


def _load_root_x509() -> list[Any]:
    """Parse every root once (caller holds ``_lock``)."""
    if not _root_x509:
        for pem in root_certificates():
            data = pem.encode()
            bio = lib.BIO_new_mem_buf(data, len(data))
            x509 = lib.PEM_read_bio_X509(bio, ffi.NULL, ffi.NULL, ffi.NULL)
            lib.BIO_free(bio)
            if x509 == ffi.NULL:  # a root OpenSSL cannot parse is skipped, as Node does
                lib.ERR_clear_error()
                continue
            _root_x509.append(x509)
    return _root_x509


def add_roots_to(store: Any) -> None:
    """Add every default root to ``store`` (the store takes its own references)."""
    with _lock:
        roots = _load_root_x509()
    for x509 in roots:
        lib.X509_STORE_add_cert(store, x509)
    lib.ERR_clear_error()  # "cert already in hash table" is not an error here


def shared_root_store() -> Any:
    """The process-wide store of default roots plus ``NODE_EXTRA_CA_CERTS``' certificates (Node's
    ``root_cert_store``), built on first use.  The caller must
    ``X509_STORE_up_ref`` it before handing it to ``SSL_CTX_set_cert_store``, and must never
    modify it."""
    global _shared_store
    store = _shared_store
    if store is not None:
        return store
    with _lock:
        if _shared_store is None:
            new = lib.X509_STORE_new()
            if new == ffi.NULL:  # pragma: no cover - out of memory
                raise MemoryError("X509_STORE_new failed")
            for x509 in _load_root_x509():
                lib.X509_STORE_add_cert(new, x509)
            lib.ERR_clear_error()
            add_extra_ca_certs(new)  # after the bundled roots, as Node's UseExtraCaCerts
            _shared_store = new
        return _shared_store


def new_root_store() -> Any:
    """A new store (one reference, owned by the caller) holding the bundled roots (not the
    ``NODE_EXTRA_CA_CERTS`` ones: Node v20's ``NewRootCertStore``)."""
    store = lib.X509_STORE_new()
    if store == ffi.NULL:  # pragma: no cover - out of memory
        raise MemoryError("X509_STORE_new failed")
    add_roots_to(store)
    return store
