"""OpenSSL 3 bound with cffi in ABI mode: ``ffi``, ``lib`` and helpers.

One ``lib``: libssl is dlopened and libcrypto's symbols resolve through its dependency.
"""

from __future__ import annotations

from typing import Any

from ._loader import OpenSSLLoadError, load

ffi, lib, LIBSSL_PATH = load()
lib: Any

OPENSSL_VERSION: str = ffi.string(lib.OpenSSL_version(0)).decode()
OPENSSL_VERSION_NUMBER: int = lib.OpenSSL_version_num()

# Start every thread of ours with a clean error queue (cryptography does the same at init).
lib.ERR_clear_error()


def has(symbol: str) -> bool:
    """Whether the loaded OpenSSL exports ``symbol`` (feature probe)."""
    try:
        getattr(lib, symbol)
    except AttributeError:
        return False
    return True


__all__ = ["ffi", "lib", "has", "OpenSSLLoadError", "LIBSSL_PATH", "OPENSSL_VERSION",
           "OPENSSL_VERSION_NUMBER"]
