"""OpenSSL 3 bound with cffi: ``ffi``, ``lib`` and helpers.

``BINDING`` says how: ``"api"``, the module compiled at install (:mod:`_build`), or ``"abi"``, libssl
dlopened at import (libcrypto's symbols resolve through its dependency); see :mod:`_loader`.
One ``ffi``/``lib`` pair per process: use these, never a ``cffi.FFI()`` of your own.
"""

from __future__ import annotations

from ._loader import OpenSSLLoadError, load

ffi, lib, LIBSSL_PATH, BINDING = load()
#: The compiled binding carries its own copy of OpenSSL (built with ``NODETLS_OPENSSL=static`` or
#: an OpenSSL build directory, :mod:`_build`); ``LIBSSL_PATH`` is then the shared library ABI mode
#: would load, not the one in use.
STATIC: bool = BINDING == "api" and bool(lib.NODETLS_STATIC)

OPENSSL_VERSION: str = ffi.string(lib.OpenSSL_version(0)).decode()
OPENSSL_VERSION_NUMBER: int = lib.OpenSSL_version_num()



def _resolve_all() -> None:
    """Resolve every declared function now.  cffi's ABI-mode ``lib`` resolves names lazily under
    an internal lock; a garbage-collected object whose ``__del__`` frees an OpenSSL object could
    otherwise re-enter that lock while it is held (a deadlock we hit from ``SSL_CTX_free``).
    (The compiled module's functions are all bound at import.)"""
    import re

    from .cdef import FUNCTIONS

    for name in set(re.findall(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(", FUNCTIONS)):
        try:
            getattr(lib, name)
        except AttributeError:
            pass


if BINDING == "abi":
    _resolve_all()

# Start every thread of ours with a clean error queue (cryptography does the same at init).
lib.ERR_clear_error()


def has(symbol: str) -> bool:
    """Whether the loaded OpenSSL exports ``symbol`` (feature probe)."""
    try:
        getattr(lib, symbol)
    except AttributeError:
        return False
    return True


__all__ = ["ffi", "lib", "has", "OpenSSLLoadError", "LIBSSL_PATH", "STATIC", "BINDING",
           "OPENSSL_VERSION", "OPENSSL_VERSION_NUMBER"]
