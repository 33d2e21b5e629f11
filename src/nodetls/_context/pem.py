"""Reading PEM/PKCS#12 material into OpenSSL objects, with Node's errors.

Every reader returns *owned* references (the caller frees them: ``X509_free``, ``EVP_PKEY_free``,
``X509_CRL_free``) and raises :class:`~nodetls.errors.ContextOptionError` naming the option when
OpenSSL cannot read the input.  The error queue is cleared before each read, so the first record
is the cause (Node reports the first one).

Passphrases go through one module-level ``pem_password_cb`` (:data:`_password_cb`), which gets the
passphrase from a cffi handle.  Without a passphrase it answers an empty one rather than letting
OpenSSL prompt on the terminal; an encrypted key then fails with ``bad decrypt``, as in Node.
Key material arrives as the caller's buffer or a copy the caller wipes (``config.py``); the C
string a PKCS#12 passphrase needs is zeroed here once read.
"""

from __future__ import annotations

from typing import Any

from .._openssl import ffi, lib
from .node_codes import context_error, drain

__all__ = [
    "read_certificates",
    "read_private_key",
    "read_crls",
    "read_dh_parameters",
    "read_pkcs12",
    "x509_der",
    "free_x509s",
]

NULL = ffi.NULL

#: What the readers take: ``bytes``, or (key material) a ``bytearray``/``memoryview`` of bytes.
Buffer = bytes | bytearray | memoryview


@ffi.callback("int(char *, int, int, void *)", error=-1)
def _password_cb(buf: Any, size: int, rwflag: int, userdata: Any) -> int:
    """``pem_password_cb``: copy the passphrase held by the handle ``userdata`` into ``buf``.
    Like Node's ``PasswordCallback``, a passphrase longer than ``size`` is refused (-1)."""
    try:
        passphrase: bytes = ffi.from_handle(userdata) if userdata != NULL else b""
        if len(passphrase) > size:
            return -1
        ffi.memmove(buf, passphrase, len(passphrase))
        return len(passphrase)
    except BaseException:  # never unwind through C; OpenSSL reports a bad password read
        return -1


class _Bio:
    """A read-only memory BIO over ``data`` (kept alive with it), freed on exit."""

    def __init__(self, data: Buffer) -> None:
        self._data = ffi.from_buffer(data)
        self.bio = lib.BIO_new_mem_buf(self._data, len(data))
        if self.bio == NULL:  # pragma: no cover - out of memory
            raise MemoryError("BIO_new_mem_buf failed")

    def __enter__(self) -> Any:
        return self.bio

    def __exit__(self, *exc: object) -> None:
        lib.BIO_free(self.bio)


def free_x509s(items: list[Any]) -> None:
    """``X509_free`` every pointer of ``items`` and empty the list."""
    for x509 in items:
        lib.X509_free(x509)
    items.clear()


def _read_blocks(data: bytes, reader: Any) -> tuple[list[Any], bool]:
    """Every object ``reader`` (a ``PEM_read_bio_*``) finds in ``data``, and whether the text
    ended cleanly: after the last block OpenSSL reports "no start line" (PEM library 9, reason
    108), the normal end of the text unless nothing was read at all.  On success the error
    queue is cleared; on failure the caller frees the objects."""
    lib.ERR_clear_error()
    out: list[Any] = []
    with _Bio(data) as bio:
        while True:
            obj = reader(bio, NULL, NULL, NULL)
            if obj == NULL:
                break
            out.append(obj)
    err = lib.ERR_peek_error()
    end_of_text = (err >> 23) & 0xFF == 9 and err & 0x7FFFFF == 108
    ok = bool(out) and (err == 0 or end_of_text)
    if ok:
        lib.ERR_clear_error()
    return out, ok


def read_certificates(data: bytes, option: str, *, what: str = "certificate") -> list[Any]:
    """Every certificate of a PEM text, in order (``PEM_read_bio_X509_AUX``, so ``TRUSTED
    CERTIFICATE`` blocks are read too, as Node does).  Text between blocks is ignored.

    Raises when there is no certificate at all, or when a block is malformed.
    """
    out, ok = _read_blocks(data, lib.PEM_read_bio_X509_AUX)
    if ok:
        return out
    free_x509s(out)
    raise context_error(option, f"cannot read the {what} (PEM)")


def read_private_key(data: Buffer, passphrase: Buffer | None, option: str) -> Any:
    """A private key from PEM (any format OpenSSL's decoders know, encrypted or not)."""
    lib.ERR_clear_error()
    handle = ffi.new_handle(passphrase or b"")
    with _Bio(data) as bio:
        pkey = lib.PEM_read_bio_PrivateKey(bio, NULL, _password_cb, handle)
    if pkey == NULL:
        records = drain()
        reasons = {r.reason for r in records}
        if "bad decrypt" in reasons or "bad password read" in reasons:
            hint = "wrong passphrase" if passphrase else "encrypted, and no passphrase was given"
            what = f"cannot decrypt the private key ({hint})"
        else:
            what = "cannot read the private key (PEM)"
        raise context_error(option, what, records)
    return pkey


def read_crls(data: bytes, option: str) -> list[Any]:
    """The first CRL of a PEM text, as a one-element list: Node's ``SecureContext::AddCRL``
    makes one ``PEM_read_bio_X509_CRL`` call, so text before the block is skipped and anything
    after it (more CRLs, a malformed block) is ignored; an array of texts gives one CRL each.
    No CRL: ``ERR_CRYPTO_OPERATION_FAILED`` "Failed to parse CRL", Node's code."""
    lib.ERR_clear_error()
    with _Bio(data) as bio:
        crl = lib.PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)
    if crl == NULL:  # (OpenSSL's first record, e.g. "no start line", ends the message)
        raise context_error(option, "Failed to parse CRL", code="ERR_CRYPTO_OPERATION_FAILED")
    return [crl]


def read_dh_parameters(data: bytes, option: str) -> Any:
    """DH parameters (``PEM_read_bio_Parameters``), as an ``EVP_PKEY`` of type DH."""
    lib.ERR_clear_error()
    with _Bio(data) as bio:
        pkey = lib.PEM_read_bio_Parameters(bio, NULL)
    if pkey == NULL:
        raise context_error(option, "cannot read the DH parameters (PEM)")
    if lib.EVP_PKEY_get_base_id(pkey) not in (28, 920):  # EVP_PKEY_DH, EVP_PKEY_DHX
        lib.EVP_PKEY_free(pkey)
        raise context_error(option, "not DH parameters", [], code="ERR_INVALID_ARG_VALUE")
    return pkey


def read_pkcs12(data: Buffer, passphrase: Buffer | None,
                option: str) -> tuple[Any, Any, list[Any]]:
    """``(pkey, leaf, extra_certs)`` from PKCS#12 bytes; all owned by the caller.

    Node reports these failures with OpenSSL's reason only (``'mac verify failure'`` for a wrong
    passphrase, ``'not enough data'`` for garbage) and no code; nodetls adds the code Node's rule
    gives (``ERR_OSSL_PKCS12_MAC_VERIFY_FAILURE``, ``ERR_OSSL_ASN1_NOT_ENOUGH_DATA``).
    """
    lib.ERR_clear_error()
    with _Bio(data) as bio:
        p12 = lib.d2i_PKCS12_bio(bio, NULL)
    if p12 == NULL:
        # (Empty data: OpenSSL 3.0, Node v20's, queues no error, so Node's code is its generic
        # one; OpenSSL 3.2 and later queue 'not enough data'.)
        records = drain()
        raise context_error(option, "cannot read the PKCS#12 data", records if data else [])
    pkey = ffi.new("EVP_PKEY **")
    cert = ffi.new("X509 **")
    extra = ffi.new("OPENSSL_STACK **")
    # The passphrase as the C string PKCS12_parse wants, in memory of ours zeroed after use.
    size = len(passphrase) + 1 if passphrase is not None else 0
    password = ffi.new("char[]", size) if size else NULL
    if size:
        ffi.memmove(password, passphrase, size - 1)
    try:
        ok = lib.PKCS12_parse(p12, password, pkey, cert, extra)
    finally:
        lib.PKCS12_free(p12)
        if size:
            ffi.memmove(password, bytes(size), size)
    if ok != 1:
        records = drain()
        what = "cannot read the PKCS#12 data"
        if any(r.reason == "mac verify failure" for r in records):
            what += " (wrong passphrase)" if passphrase else " (no passphrase given)"
        if records and records[0].reason == "unsupported":
            # Node's LoadPKCS12: OpenSSL's bare "unsupported" first (an algorithm the loaded
            # providers lack, e.g. -legacy's RC2) is ERR_CRYPTO_UNSUPPORTED_OPERATION
            raise context_error(option, "Unsupported PKCS12 PFX data", records,
                                code="ERR_CRYPTO_UNSUPPORTED_OPERATION")
        raise context_error(option, what, records)
    extras: list[Any] = []
    stack = extra[0]
    if stack != NULL:
        for i in range(lib.OPENSSL_sk_num(stack)):
            extras.append(ffi.cast("X509 *", lib.OPENSSL_sk_value(stack, i)))
        lib.OPENSSL_sk_free(stack)  # the certificates now belong to ``extras``
    if cert[0] == NULL or pkey[0] == NULL:
        # Node's words: "Unable to load private key from PFX data" (or "... certificate ...")
        missing = "private key" if pkey[0] == NULL else "certificate"
        free_x509s(extras)
        if cert[0] != NULL:
            lib.X509_free(cert[0])
        if pkey[0] != NULL:
            lib.EVP_PKEY_free(pkey[0])
        raise context_error(option, f"unable to load the {missing} from the PKCS#12 data", [],
                            code="ERR_CRYPTO_OPERATION_FAILED")
    return pkey[0], cert[0], extras


def x509_der(x509: Any) -> bytes:
    """DER encoding of an ``X509*``."""
    n = lib.i2d_X509(x509, NULL)
    if n <= 0:  # pragma: no cover - unencodable certificate
        lib.ERR_clear_error()
        return b""
    buf = ffi.new("unsigned char[]", n)
    lib.i2d_X509(x509, ffi.new("unsigned char **", buf))
    return bytes(ffi.buffer(buf, n))
