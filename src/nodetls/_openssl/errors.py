"""The OpenSSL error queue as records, and records as Node-coded exceptions.

``consume_errors()`` drains the thread's queue into :class:`OpenSSLErrorRecord` tuples (as
cryptography's ``_consume_errors``); ``tls_error()`` turns them into :class:`~nodetls.errors.TLSError`
with Node's code: ``'ERR_SSL_' + reason.upper().replace(' ', '_')`` (Node's ``crypto_util.cc``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..errors import TLSError


class OpenSSLErrorRecord(NamedTuple):
    code: int
    library: str
    function: str
    reason: str
    data: str

    @property
    def text(self) -> str:
        """OpenSSL's one-line form: ``error:0A00010B:SSL routines:func:reason``."""
        extra = f":{self.data}" if self.data else ""
        return f"error:{self.code:08X}:{self.library}:{self.function}:{self.reason}{extra}"


def consume_errors(ffi: Any, lib: Any) -> list[OpenSSLErrorRecord]:
    """Drain the OpenSSL error queue into records (oldest first)."""
    records: list[OpenSSLErrorRecord] = []
    func = ffi.new("const char **")
    data = ffi.new("const char **")
    flags = ffi.new("int *")
    while True:
        code = lib.ERR_get_error_all(ffi.NULL, ffi.NULL, func, data, flags)
        if code == 0:
            return records
        libname = lib.ERR_lib_error_string(code)
        reason = lib.ERR_reason_error_string(code)
        records.append(
            OpenSSLErrorRecord(
                code,
                ffi.string(libname).decode() if libname else "",
                ffi.string(func[0]).decode() if func[0] else "",
                ffi.string(reason).decode() if reason else f"reason({code & 0x7FFFFF})",
                ffi.string(data[0]).decode("utf-8", "replace") if data[0] and flags[0] & 2 else "",
            )
        )


def code_for_reason(reason: str) -> str:
    """Node's error code for an OpenSSL reason string."""
    return "ERR_SSL_" + reason.upper().replace(" ", "_").replace("-", "_")


def tls_error(
    records: list[OpenSSLErrorRecord], fallback: str = "unknown OpenSSL error",
    code: str | None = None,
) -> TLSError:
    """A ``TLSError`` for the records; the *last* record (closest to the failure) names the code,
    as Node takes the most recent error."""
    if not records:
        return TLSError(fallback, code or "ERR_SSL_UNKNOWN", openssl_errors=[])
    rec = records[-1]
    return TLSError(
        rec.text,
        code or code_for_reason(rec.reason),
        library=rec.library,
        reason=rec.reason,
        function=rec.function,
        openssl_errors=records,
    )
