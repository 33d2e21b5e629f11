"""Node's error codes for OpenSSL failures outside the TLS library (``ERR_OSSL_*``).

Node's ``crypto_util.cc`` (``DecorateErrorStack``) derives ``err.code`` from one OpenSSL error:
``'ERR_' + prefix + lib + REASON`` where ``lib`` is the short name of a known library
(``PEM_``, ``X509_``, ``ASN1_``, ``PKCS12_``...; empty for libraries it does not list, such as the
3.0 provider and decoder libraries), ``prefix`` is ``'OSSL_'`` except for the SSL library, and
``REASON`` is the reason string upper-cased with spaces turned into underscores.  So a bad PEM is
``ERR_OSSL_PEM_NO_START_LINE``, a wrong passphrase ``ERR_OSSL_BAD_DECRYPT`` (provider library) and a
key that does not match its certificate ``ERR_OSSL_X509_KEY_VALUES_MISMATCH``, while handshake
failures keep ``ERR_SSL_*``.

When creating a secure context Node reports the *first* error of the queue (``ERR_get_error``),
which is the one closest to the cause (``wrong tag`` rather than the ``ASN1 lib`` wrapper around
it); :func:`context_error` does the same.
"""

from __future__ import annotations

from .._openssl import ffi, lib
from .._openssl.errors import OpenSSLErrorRecord, consume_errors
from ..errors import ContextOptionError

__all__ = ["node_code", "context_error", "drain"]

# ERR_LIB_* numbers (OpenSSL 3.0 err.h) of the libraries Node names in OSSL_ERROR_CODES_MAP.
_LIBS: dict[int, str] = {
    2: "SYS", 3: "BN", 4: "RSA", 5: "DH", 6: "EVP", 7: "BUF", 8: "OBJ", 9: "PEM", 10: "DSA",
    11: "X509", 13: "ASN1", 14: "CONF", 15: "CRYPTO", 16: "EC", 20: "SSL", 32: "BIO", 33: "PKCS7",
    34: "X509V3", 35: "PKCS12", 36: "RAND", 37: "DSO", 38: "ENGINE", 39: "OCSP", 40: "UI",
    41: "COMP", 42: "ECDSA", 43: "ECDH", 44: "OSSL_STORE", 45: "FIPS", 46: "CMS", 47: "TS",
    48: "HMAC", 50: "CT", 51: "ASYNC", 52: "KDF", 53: "SM2", 128: "USER",
}
_ERR_SYSTEM_FLAG = 0x80000000
_ERR_LIB_OFFSET = 23
_ERR_LIB_MASK = 0xFF
_ERR_LIB_SYS = 2


def _lib_number(code: int) -> int:
    """``ERR_GET_LIB`` (3.0): system errors carry a flag bit instead of a library number."""
    if code & _ERR_SYSTEM_FLAG:
        return _ERR_LIB_SYS
    return (code >> _ERR_LIB_OFFSET) & _ERR_LIB_MASK


def node_code(record: OpenSSLErrorRecord) -> str | None:
    """Node's ``code`` for one OpenSSL error record, or ``None`` when OpenSSL has no reason
    string for it (Node then sets no code either)."""
    reason = record.reason
    if not reason or reason.startswith("reason("):
        return None
    lib_name = _LIBS.get(_lib_number(record.code))
    if lib_name == "SSL":
        prefix = "SSL_"
    elif lib_name:
        prefix = f"OSSL_{lib_name}_"
    else:
        prefix = "OSSL_"
    return "ERR_" + prefix + reason.upper().replace(" ", "_")


def drain() -> list[OpenSSLErrorRecord]:
    """Empty this thread's OpenSSL error queue and return what was in it (oldest first)."""
    return consume_errors(ffi, lib)


def context_error(
    option: str,
    what: str,
    records: list[OpenSSLErrorRecord] | None = None,
    code: str | None = None,
) -> ContextOptionError:
    """A :class:`~nodetls.errors.ContextOptionError` for a failure applying ``option``.

    ``records`` defaults to the drained error queue.  The code is ``code`` when given, else
    derived from the first record as Node does, else ``ERR_CRYPTO_OPERATION_FAILED``.  The
    message names the option, says what failed and quotes OpenSSL's one-line error
    (``options.cert: cannot read the certificate: error:0480006C:PEM routines::no start line``).
    """
    if records is None:
        records = drain()
    first = records[0] if records else None
    if code is None:
        code = (node_code(first) if first is not None else None) or "ERR_CRYPTO_OPERATION_FAILED"
    message = f"{option}: {what}"
    if first is not None:
        message += f": error:{first.code:08X}:{first.library}::{first.reason}"
    return ContextOptionError(
        message,
        code,
        option=option,
        library=first.library if first is not None else None,
        reason=first.reason if first is not None else None,
        function=first.function if first is not None else None,
        openssl_errors=records,
    )
