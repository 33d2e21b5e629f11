"""Cipher defaults, Node's ``processCiphers`` split, and ``get_ciphers()``.

``DEFAULT_CIPHERS`` deliberately differs from Node's (one of the README's
"deliberately differs" items): Node's
three TLS 1.3 suites in Node's order, then forward-secret AEAD TLS 1.2 suites only, in Mozilla's
"intermediate" order.  Node's list ends in ``HIGH``, which lets static-RSA, CCM and ARIA suites in.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

from .._openssl import ffi, lib
from ..errors import InvalidArgValueError

__all__ = [
    "DEFAULT_CIPHERS",
    "DEFAULT_ECDH_CURVE",
    "DEFAULT_MIN_VERSION",
    "DEFAULT_MAX_VERSION",
    "TLS13_CIPHERSUITES",
    "CipherSplit",
    "process_ciphers",
    "get_ciphers",
]

TLS13_CIPHERSUITES = (
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_GCM_SHA256",
)

_TLS12_AEAD_FS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-GCM-SHA256",
    "DHE-RSA-AES256-GCM-SHA384",
    "DHE-RSA-CHACHA20-POLY1305",
)

DEFAULT_CIPHERS: str = ":".join(TLS13_CIPHERSUITES + _TLS12_AEAD_FS)
"""nodetls's default cipher string (Node's TLS 1.3 suites, then FS AEAD TLS 1.2 suites)."""

DEFAULT_ECDH_CURVE: str = "X25519:P-256:P-384"
"""Groups offered by default (Node's ``'auto'`` also offers X448 and P-521)."""

DEFAULT_MIN_VERSION: str = "TLSv1.2"
DEFAULT_MAX_VERSION: str = "TLSv1.3"

# Every TLS 1.3 suite OpenSSL 3 implements; Node's build enables all five, so its getCiphers()
# lists the two CCM suites that OpenSSL's own default leaves out.
_ALL_TLS13 = TLS13_CIPHERSUITES + ("TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256")


class CipherSplit(NamedTuple):
    """A cipher string split as Node's ``processCiphers`` does."""

    cipher_list: str  # TLS <= 1.2 (SSL_CTX_set_cipher_list)
    cipher_suites: str  # TLS 1.3 (SSL_CTX_set_ciphersuites)


def _is_tls13_entry(entry: str) -> bool:
    # Node v20: a TLS 1.3 suite name, or one negated with '!'.  ('-TLS_...' and '+TLS_...' are
    # left in the TLS 1.2 list, where OpenSSL finds nothing to match them.)
    return entry.startswith("TLS_") or entry.startswith("!TLS_")


def _inspect_empty_entries(n: int) -> str:
    """Node's ``util.inspect`` of an array of ``n`` empty strings (at most 100 shown; more than
    six grouped in columns), cut to 128 characters as ERR_INVALID_ARG_VALUE does."""
    shown = min(n, 100)
    entries = ["''"] * shown
    if n > shown:
        more = n - shown
        entries.append(f"... {more} more item{'s' if more > 1 else ''}")
    if len(entries) <= 6:
        text = "[ " + ", ".join(entries) + " ]"
    else:
        # groupArrayElements: entries 2 wide plus ', ' -> min(round(sqrt(2.5 * shown)), 12)
        # columns (the 12 is 4 * the default compact=3).
        cols = min(int(math.floor(math.sqrt(2.5 * shown) + 0.5)), 12)
        rows = [", ".join(entries[i:min(i + cols, shown)]) for i in range(0, shown, cols)]
        rows += entries[shown:]
        text = "[\n  " + ",\n  ".join(rows) + "\n]"
    return text if len(text) <= 128 else text[:128] + "..."


def process_ciphers(ciphers: str, name: str = "options.ciphers") -> CipherSplit:
    """Split ``ciphers`` into the TLS 1.2 list and the TLS 1.3 suites, as Node v20's
    ``processCiphers`` (lib/internal/tls/secure-context.js) does: an entry naming a TLS 1.3
    suite (starting ``TLS_``) or negating one (starting ``!TLS_``) goes to the suites, every
    other non-empty entry to the TLS 1.2 list, each in the order given.  OpenSSL skips the names
    it does not know in a suites list, the negated ones included; so a negation there removes
    nothing, and a suites list of negations only matches no suite (ERR_SSL_NO_CIPHER_MATCH when
    the context is made).  A string with no entry at all (``':'``) is ``ERR_INVALID_ARG_VALUE``,
    its message showing the split entries as Node does (``[ '', '' ]``).
    """
    entries = ciphers.split(":")
    suites = ":".join(e for e in entries if e and _is_tls13_entry(e))
    cipher_list = ":".join(e for e in entries if e and not _is_tls13_entry(e))
    if not suites and not cipher_list:
        raise InvalidArgValueError(
            f"The property '{name}' is invalid. Received {_inspect_empty_entries(len(entries))}",
            "ERR_INVALID_ARG_VALUE",
        )
    return CipherSplit(cipher_list, suites)


@functools.cache
def _cipher_names() -> tuple[str, ...]:
    ctx = lib.SSL_CTX_new(lib.TLS_method())
    if ctx == ffi.NULL:  # pragma: no cover - out of memory
        raise MemoryError("SSL_CTX_new failed")
    try:
        # Unknown names are skipped by OpenSSL, so a build without CCM still works.
        lib.SSL_CTX_set_ciphersuites(ctx, ":".join(_ALL_TLS13).encode())
        lib.ERR_clear_error()
        ssl = lib.SSL_new(ctx)
        if ssl == ffi.NULL:  # pragma: no cover - out of memory
            raise MemoryError("SSL_new failed")
        try:
            stack = lib.SSL_get_ciphers(ssl)
            names = set()
            for i in range(lib.OPENSSL_sk_num(stack)):
                cipher = ffi.cast("SSL_CIPHER *", lib.OPENSSL_sk_value(stack, i))
                names.add(ffi.string(lib.SSL_CIPHER_get_name(cipher)).decode().lower())
        finally:
            lib.SSL_free(ssl)
    finally:
        lib.SSL_CTX_free(ctx)
    return tuple(sorted(names))


def get_ciphers() -> list[str]:
    """Names of the supported ciphers, lower-case and sorted, as Node's ``tls.getCiphers()``
    (OpenSSL's default TLS 1.2 list plus every TLS 1.3 suite, e.g. ``'tls_aes_256_gcm_sha384'``,
    ``'ecdhe-rsa-aes128-gcm-sha256'``).  A new list on each call."""
    return list(_cipher_names())
