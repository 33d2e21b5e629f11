"""Live OpenSSL objects of the certificate readers, counted (the ``x509_der`` oracle's leak check).

The engine has a live-``SSL*`` counter and contexts a live-``SSL_CTX`` one; the certificate
readers (``nodetls._x509*``) allocate ``X509``, ``X509_NAME``, ``GENERAL_NAMES``, decoded
extensions, ``BIO``s, ``BIGNUM``s, stores and ``OPENSSL_malloc``'d strings and free each in a
``finally``, with no counter of their own. :func:`counting` swaps those modules' ``lib`` for a
proxy that counts every allocation OpenSSL hands them and every free they call, per kind, for
the duration of a ``with`` block; :class:`Counts` says what is still live at its end.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from nodetls import _x509, _x509_ossl, _x509_ssl
from nodetls._openssl import ffi, lib

NULL = ffi.NULL
_MODULES = (_x509, _x509_ossl, _x509_ssl)

# allocating function -> kind (a non-NULL pointer result is one live object of that kind)
_NEW_POINTER = {
    "d2i_X509": "X509", "X509_NAME_dup": "X509_NAME", "d2i_X509_NAME": "X509_NAME",
    "d2i_GENERAL_NAMES": "extension", "X509V3_EXT_d2i": "extension",
    "X509_get_ext_d2i": "extension", "BIO_new": "BIO", "X509_STORE_new": "X509_STORE",
    "X509_STORE_CTX_new": "X509_STORE_CTX",
}
# freeing function -> kind
_FREE = {
    "X509_free": "X509", "X509_NAME_free": "X509_NAME", "GENERAL_NAMES_free": "extension",
    "AUTHORITY_INFO_ACCESS_free": "extension", "EXTENDED_KEY_USAGE_free": "extension",
    "CRL_DIST_POINTS_free": "extension", "BIO_free": "BIO", "X509_STORE_free": "X509_STORE",
    "X509_STORE_CTX_free": "X509_STORE_CTX", "BN_free": "BIGNUM", "CRYPTO_free": "malloc",
}


# ``_x509_ossl._FREE``'s functions by name (an ABI-mode ``lib``'s functions have no ``__name__``)
_FREE_OF_NID = {
    _x509_ossl.NID_SUBJECT_ALT_NAME: "GENERAL_NAMES_free",
    _x509_ossl.NID_INFO_ACCESS: "AUTHORITY_INFO_ACCESS_free",
    _x509_ossl.NID_EXT_KEY_USAGE: "EXTENDED_KEY_USAGE_free",
    _x509_ossl.NID_CRL_DISTRIBUTION_POINTS: "CRL_DIST_POINTS_free",
}



#: Functions that allocate into an out-parameter: the kind counted, and when they did.
_OUT_ON_SUCCESS: dict[str, tuple[str, Callable[[int], bool]]] = {
    "ASN1_STRING_to_UTF8": ("malloc", lambda n: n >= 0),
    "EVP_PKEY_get_bn_param": ("BIGNUM", lambda ok: ok == 1),
    "X509_STORE_CTX_get1_issuer": ("X509", lambda ok: ok == 1),
}

class Counts:
    """Objects allocated minus objects freed, per kind, while :func:`counting` is active."""

    def __init__(self) -> None:
        self.live: Counter[str] = Counter()

    def leaked(self) -> dict[str, int]:
        return {k: v for k, v in self.live.items() if v}


class _CountingLib:
    """``lib`` with the allocating and freeing functions wrapped (everything else delegated)."""

    def __init__(self, counts: Counts) -> None:
        self._counts = counts
        self._cache: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        fn = self._cache.get(name)
        if fn is None:
            fn = self._cache[name] = self._wrap(name, getattr(lib, name))
        return fn

    def _wrap(self, name: str, real: Any) -> Any:
        live = self._counts.live
        if name in _NEW_POINTER:
            kind = _NEW_POINTER[name]

            def new(*args: Any) -> Any:
                out = real(*args)
                if out != NULL:
                    live[kind] += 1
                return out
            return new
        if name in _FREE:
            kind = _FREE[name]

            def free(p: Any, *args: Any) -> Any:
                if p != NULL:
                    live[kind] -= 1
                return real(p, *args)
            return free
        if name in ("i2d_X509", "i2d_ASN1_TYPE"):
            def i2d(obj: Any, pp: Any) -> Any:
                fresh = pp != NULL and pp[0] == NULL
                n = real(obj, pp)
                if fresh and n > 0:
                    live["malloc"] += 1
                return n
            return i2d
        if name in _OUT_ON_SUCCESS:
            kind, succeeded = _OUT_ON_SUCCESS[name]

            def out_param(*args: Any) -> Any:
                r = real(*args)
                if succeeded(r):
                    live[kind] += 1
                return r
            return out_param
        return real


def _swap(new_lib: Any, frees: dict[int, Callable[[Any], None]]) -> tuple[list[Any], Any]:
    old = [m.lib for m in _MODULES]
    old_free = dict(_x509_ossl._FREE)
    for m in _MODULES:
        m.lib = new_lib  # type: ignore[attr-defined]
    _x509_ossl._FREE.update(frees)
    return old, old_free


@contextlib.contextmanager
def counting(counts: Counts) -> Iterator[None]:
    """Count the certificate readers' OpenSSL objects into ``counts`` for the block."""
    proxy = _CountingLib(counts)
    frees = {nid: getattr(proxy, _FREE_OF_NID[nid]) for nid in _x509_ossl._FREE}
    old, old_free = _swap(proxy, frees)
    try:
        yield
    finally:
        for m, o in zip(_MODULES, old, strict=True):
            m.lib = o  # type: ignore[attr-defined]
        _x509_ossl._FREE.update(old_free)
