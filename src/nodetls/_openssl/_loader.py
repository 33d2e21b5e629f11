"""Load OpenSSL: the compiled binding (cffi API mode) when usable, else dlopen libssl (ABI mode).

The compiled ``_binding`` (built at install when a compiler and headers exist, :mod:`_build`) is
used unless ``NODETLS_PURE=1``, ``NODETLS_LIBSSL`` is set, it was built from other declarations than
``cdef.py``'s, or it links another shared libssl than the one ABI mode would pick (a binding with
OpenSSL linked in statically, ``NODETLS_OPENSSL`` at build, is its own copy and always used).
Either way there is one ``ffi``/``lib`` pair per process: every ``ffi.new``/``cast``/``callback``
must use this ``ffi``.

ABI mode's order: ``NODETLS_LIBSSL`` / ``NODETLS_LIBCRYPTO`` when set; else the libssl that
Python's own ``_ssl`` module is linked against (so nodetls and ``ssl`` share one OpenSSL); else the
system's ``libssl.so.3``.  OpenSSL older than 3.0 is refused with an error naming what was tried.
"""

from __future__ import annotations

import importlib
import os
import re
from typing import Any

from cffi import FFI

from .cdef import CDEF, CDEF_HASH

MIN_VERSION = 0x30000000


class OpenSSLLoadError(ImportError):
    """No usable OpenSSL 3 could be loaded; the message lists every path tried."""


def _linked_by_python_ssl() -> list[str]:
    """Paths of libssl/libcrypto that CPython's ``_ssl`` extension is linked against."""
    try:
        import _ssl  # noqa: F401  (loads the libraries into this process)
    except ImportError:
        return []
    return _mapped_libssl()


def _mapped_libssl() -> list[str]:
    """Paths of every libssl mapped into this process (Linux; empty elsewhere)."""
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


def _candidates(linked: list[str]) -> list[tuple[str | None, str]]:
    env_ssl = os.environ.get("NODETLS_LIBSSL")
    env_crypto = os.environ.get("NODETLS_LIBCRYPTO")
    if env_ssl:
        return [(env_crypto, env_ssl)]
    out: list[tuple[str | None, str]] = [(None, p) for p in linked]
    out += [(None, "libssl.so.3"), (None, "libssl.3.dylib"), (None, "libssl-3-x64.dll")]
    return out


def _wants_compiled() -> bool:
    return not os.environ.get("NODETLS_LIBSSL") and os.environ.get("NODETLS_PURE", "") in ("", "0")


def _python_ssl_version() -> int:
    try:
        import _ssl
    except ImportError:
        return 0
    return int(_ssl.OPENSSL_VERSION_NUMBER)


def _load_compiled(linked: list[str]) -> tuple[Any, Any, str] | None:
    """``(ffi, lib, path)`` of the compiled binding, or ``None`` when it is absent or unusable.
    ``linked``: the libssl Python's ``ssl`` uses, mapped before the compiled module loads."""
    try:
        mod = importlib.import_module(f"{__package__}._binding")
    except ImportError:
        return None
    ffi, lib = mod.ffi, mod.lib
    if lib.NODETLS_CDEF_HASH != CDEF_HASH or lib.OpenSSL_version_num() < MIN_VERSION:
        return None  # built from older declarations, or against an OpenSSL before 3.0
    if lib.NODETLS_STATIC:  # (NODETLS_OPENSSL=static or a directory at build: _build.py)
        return ffi, lib, (linked or ["libssl.so.3"])[0]  # (the one ABI mode would pick)
    new = [p for p in _mapped_libssl() if p not in linked]
    if new and linked and _python_ssl_version() >= MIN_VERSION:
        return None  # ABI mode would use Python's libssl (OpenSSL 3); this module links another
    return ffi, lib, (new or linked or ["libssl (linked at build)"])[0]


def load() -> tuple[Any, Any, str, str]:
    """Return ``(ffi, lib, path, binding)`` for the first OpenSSL >= 3.0 found; ``binding`` is
    ``"api"`` (compiled) or ``"abi"`` (dlopened)."""
    linked = [] if os.environ.get("NODETLS_LIBSSL") else _linked_by_python_ssl()
    if _wants_compiled():
        compiled = _load_compiled(linked)
        if compiled is not None:
            return (*compiled, "api")
    return (*_load_abi(linked), "abi")


def _load_abi(linked: list[str]) -> tuple[FFI, Any, str]:
    ffi = FFI()
    ffi.cdef(CDEF)
    tried: list[str] = []
    for crypto_path, ssl_path in _candidates(linked):
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
