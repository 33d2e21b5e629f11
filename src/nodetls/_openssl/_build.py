"""Build ``nodetls._openssl._binding``: the same declarations as ABI mode, compiled (cffi API mode).

API mode calls each OpenSSL function from generated C instead of through libffi: about half the
overhead per call (``benchmarks/README.md``); it also carries cdef.py's HELPERS (the data path's
loops, the session-ticket callbacks).  It needs a C compiler and OpenSSL 3's headers; when either
is missing the build is skipped and :mod:`nodetls._openssl` falls back to ABI mode.

This file runs outside the package (setup.py loads it by path, before nodetls is importable), so it
imports nothing from nodetls: ``cdef.py`` is read by path too.  ``ffibuilder`` is what setup.py's
``cffi_modules`` uses; :func:`build` compiles under a directory and never raises.
"""

from __future__ import annotations

import os
import runpy
from typing import Any

from cffi import FFI

MODULE = "nodetls._openssl._binding"

_HERE = os.path.dirname(os.path.abspath(__file__))

# The cdef says ``OPENSSL_STACK *`` for every ``STACK_OF(T) *`` (ABI mode has no typed stacks); the
# headers' typed stacks are distinct C types, so these macros cast, as OpenSSL's own sk_T macros do.
# ``(name)(...)`` calls the function itself: a function-like macro does not expand inside its body.
SOURCE = """
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>

#define NODETLS_CDEF_HASH %(hash)dLL

#define X509_STORE_CTX_get0_chain(c) ((OPENSSL_STACK *)(X509_STORE_CTX_get0_chain)(c))
#define SSL_get_peer_cert_chain(s) ((OPENSSL_STACK *)(SSL_get_peer_cert_chain)(s))
#define SSL_get0_verified_chain(s) ((OPENSSL_STACK *)(SSL_get0_verified_chain)(s))
#define SSL_get_ciphers(s) ((OPENSSL_STACK *)(SSL_get_ciphers)(s))
#define SSL_CTX_get_client_CA_list(c) ((OPENSSL_STACK *)(SSL_CTX_get_client_CA_list)(c))
#define SSL_CTX_set_client_CA_list(c, l) \\
    (SSL_CTX_set_client_CA_list)((c), (STACK_OF(X509_NAME) *)(l))
#define PKCS12_parse(p, pw, k, c, ca) \\
    (PKCS12_parse)((p), (pw), (k), (c), (STACK_OF(X509) **)(ca))
"""


def _cdef_module() -> dict[str, Any]:
    return runpy.run_path(os.path.join(_HERE, "cdef.py"))


def make_builder() -> FFI:
    """An ``FFI`` ready to compile: cdef.py's declarations plus the hash that ties the built module
    to them (the loader refuses a module built from other declarations)."""
    cdef = _cdef_module()
    builder = FFI()
    builder.cdef(cdef["CDEF"] + cdef["HELPERS"])
    builder.cdef("#define NODETLS_CDEF_HASH ...")
    builder.set_source(MODULE, SOURCE % {"hash": cdef["CDEF_HASH"]} + cdef["HELPERS_SOURCE"],
                       libraries=["ssl", "crypto"])
    return builder


def build(tmpdir: str, verbose: bool = False) -> str | None:
    """Compile the module under ``tmpdir``; its path, or ``None`` (with a warning) on any failure:
    no compiler, no OpenSSL headers, headers that disagree with the cdef."""
    import warnings

    try:
        return str(make_builder().compile(tmpdir=tmpdir, verbose=verbose))
    except Exception as exc:  # noqa: BLE001 - any failure means "no compiled binding"
        warnings.warn(f"nodetls: compiled OpenSSL binding not built ({exc}); ABI mode is used",
                      stacklevel=2)
        return None


ffibuilder = make_builder()
