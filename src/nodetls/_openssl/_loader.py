"""Find and dlopen libssl (cffi ABI mode: no compiler at install).

Order: ``NODETLS_LIBSSL`` / ``NODETLS_LIBCRYPTO`` when set; else the libssl that Python's own ``_ssl``
module is linked against (so nodetls and ``ssl`` share one OpenSSL); else the system's
``libssl.so.3``.  OpenSSL older than 3.0 is refused with an error naming what was tried.
"""

from __future__ import annotations

import os
import re
from typing import Any

from cffi import FFI

from .cdef import CDEF

MIN_VERSION = 0x30000000


class OpenSSLLoadError(ImportError):
    """No usable OpenSSL 3 could be loaded; the message lists every path tried."""


def _linked_by_python_ssl() -> list[str]:
    """Paths of libssl/libcrypto that CPython's ``_ssl`` extension is linked against."""
    try:
        import _ssl  # noqa: F401  (loads the libraries into this process)
    except ImportError:
        return []
    found: list[str] = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.rstrip().split(" ")[-1]
                if re.search(r"/libssl\.so[.0-9]*$", path) and path not in found:
                    found.append(path)
    except OSError:
        return []
    return found


def _candidates() -> list[tuple[str | None, str]]:
    env_ssl = os.environ.get("NODETLS_LIBSSL")
    env_crypto = os.environ.get("NODETLS_LIBCRYPTO")
    if env_ssl:
        return [(env_crypto, env_ssl)]
    out: list[tuple[str | None, str]] = [(None, p) for p in _linked_by_python_ssl()]
    out += [(None, "libssl.so.3"), (None, "libssl.3.dylib"), (None, "libssl-3-x64.dll")]
    return out


def load() -> tuple[FFI, Any, str]:
    """Return ``(ffi, lib, path)`` for the first OpenSSL >= 3.0 found."""
    ffi = FFI()
    ffi.cdef(CDEF)
    tried: list[str] = []
    for crypto_path, ssl_path in _candidates():
        try:
            if crypto_path:
                # libcrypto first, globally, so libssl's own dependency resolves to it.
                ffi.dlopen(crypto_path, ffi.RTLD_GLOBAL)
            lib = ffi.dlopen(ssl_path)
            version = lib.OpenSSL_version_num()
        except (OSError, AttributeError) as exc:
            tried.append(f"{ssl_path}: {exc}")
            continue
        if version < MIN_VERSION:
            tried.append(f"{ssl_path}: OpenSSL {version:#x} is older than 3.0")
            continue
        return ffi, lib, ssl_path
    raise OpenSSLLoadError(
        "nodetls needs OpenSSL >= 3.0 (libssl.so.3); tried: " + "; ".join(tried)
        + ". Set NODETLS_LIBSSL (and NODETLS_LIBCRYPTO) to the library paths."
    )
