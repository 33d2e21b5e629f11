"""The OpenSSL error queue as records, and records as Node-coded exceptions.

``consume_errors()`` drains the thread's queue into :class:`OpenSSLErrorRecord` tuples (as
cryptography's ``_consume_errors``); ``tls_error()`` turns them into :class:`~nodetls.errors.TLSError`
with Node's code: ``'ERR_SSL_' + reason.upper().replace(' ', '_')`` (Node's ``crypto_util.cc``).

The records read as under OpenSSL 3.0, the series Node v20 links, whichever OpenSSL 3 is linked
(:func:`node_v20_reason`): OpenSSL 3.2 renamed a few reason strings (``'sslv3 alert bad
certificate'`` became ``'ssl/tls alert bad certificate'``, so Node's code would have become
``ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE``), and its record layer adds a ``'record layer failure'``
after the error that says what failed.
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
        """OpenSSL's one-line form as ``ERR_error_string_n`` writes it, and so Node's
        ``message``: ``error:0A00010B:SSL routines::reason`` (OpenSSL 3 leaves the function out
        there; it stays in ``function``)."""
        extra = f":{self.data}" if self.data else ""
        return f"error:{self.code:08X}:{self.library}::{self.reason}{extra}"


#: ``SSL_R_RECORD_LAYER_FAILURE`` (OpenSSL 3.2 and later): pushed after the record layer's own
#: error (``'decryption failed or bad record mac'``...), which is the one Node v20 reports.
RECORD_LAYER_FAILURE = (20 << 23) | 313


def node_v20_reason(reason: str) -> str:
    """``reason`` as OpenSSL 3.0 words it: OpenSSL 3.2 renamed the SSLv3 alerts' reasons
    (``'ssl/tls alert ...'`` for ``'sslv3 alert ...'``) and two ``'cant ...'`` as ``"can't ..."``.
    The reason *numbers* did not change."""
    if reason.startswith("ssl/tls alert "):
        return "sslv3 alert " + reason[14:]
    if reason.startswith("can't "):
        return "cant " + reason[6:]
    return reason


def node_v20_records(records: list[OpenSSLErrorRecord]) -> list[OpenSSLErrorRecord]:
    """``records`` without a last ``'record layer failure'`` that follows another error (OpenSSL
    3.2 and later add it; the error before it is what Node v20 reports)."""
    if len(records) > 1 and records[-1].code == RECORD_LAYER_FAILURE:
        del records[-1]
    return records


def consume_errors(ffi: Any, lib: Any) -> list[OpenSSLErrorRecord]:
    """Drain the OpenSSL error queue into records (oldest first), worded as OpenSSL 3.0's (the
    module's docstring)."""
    records: list[OpenSSLErrorRecord] = []
    func = ffi.new("const char **")
    data = ffi.new("const char **")
    flags = ffi.new("int *")
    while True:
        code = lib.ERR_get_error_all(ffi.NULL, ffi.NULL, func, data, flags)
        if code == 0:
            return node_v20_records(records)
        libname = lib.ERR_lib_error_string(code)
        reason = lib.ERR_reason_error_string(code)
        records.append(
            OpenSSLErrorRecord(
                code,
                ffi.string(libname).decode() if libname else "",
                ffi.string(func[0]).decode() if func[0] else "",
                node_v20_reason(ffi.string(reason).decode()) if reason
                else f"reason({code & 0x7FFFFF})",
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
    """A ``TLSError`` for the records; the *first* record (the oldest in OpenSSL's queue) names
    the code, as Node's ``TLSWrap`` takes ``ERR_peek_error()`` (a TLS 1.2 AES-GCM record failing
    its tag: ``ERR_SSL_CIPHER_OPERATION_FAILED``, then OpenSSL's "decryption failed or bad record
    mac")."""
    if not records:
        return TLSError(fallback, code or "ERR_SSL_UNKNOWN", openssl_errors=[])
    rec = records[0]
    return TLSError(
        rec.text,
        code or code_for_reason(rec.reason),
        library=rec.library,
        reason=rec.reason,
        function=rec.function,
        openssl_errors=records,
    )
