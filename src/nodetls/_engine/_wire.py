"""The engine's helpers for OpenSSL's encodings: DER of certificates and sessions, the ALPN/NPN
wire format, the parts of a ClientHello the engine reads, signature-algorithm names (as Node's
``getSharedSigalgs()`` prints them), and the per-thread out-parameters the callbacks use.
"""

from __future__ import annotations

import threading
from typing import Any, Final

from .._openssl import constants as C
from .._openssl import ffi, lib
from .protocol import ClientHello

# (Final: static C variables when compiled, not a dictionary lookup per read.)
NULL: Final = ffi.NULL
# Parsed once: ffi.new/ffi.cast with a C type object skip the per-call type lookup.
_UCHAR_PP: Final = ffi.typeof("const unsigned char **")
_UINT_P: Final = ffi.typeof("unsigned int *")
_SIZE_P: Final = ffi.typeof("size_t *")
_UCHAR_ARRAY: Final = ffi.typeof("unsigned char[]")
_OUT_PP: Final = ffi.typeof("unsigned char **")
_local: Final = threading.local()


def _out_params() -> tuple[Any, Any, Any, Any]:
    """This thread's out-parameters for the per-handshake callbacks (allocated once, not per
    call): ``const unsigned char **``, ``size_t *``, ``unsigned int *``, ``unsigned char **``.
    Each user reads what OpenSSL stored before making another call that could use them."""
    try:
        return _local.out_params
    except AttributeError:
        params = _local.out_params = (ffi.new(_UCHAR_PP), ffi.new(_SIZE_P), ffi.new(_UINT_P),
                                      ffi.new(_OUT_PP))
        return params


def _ders_of_stack(sk: Any) -> list[bytes]:
    """The DER of every certificate of a ``STACK_OF(X509)`` (``[]`` for NULL)."""
    if sk == NULL:
        return []
    return [_der_of_x509(lib.OPENSSL_sk_value(sk, i)) for i in range(lib.OPENSSL_sk_num(sk))]


def _der_of_x509(x509: Any) -> bytes:
    n = lib.i2d_X509(x509, NULL)
    if n <= 0:
        return b""
    buf = ffi.new("unsigned char[]", n)
    p = ffi.new("unsigned char **", buf)
    lib.i2d_X509(x509, p)
    return bytes(ffi.buffer(buf, n))


def _session_der(sess: Any) -> bytes:
    """``i2d_SSL_SESSION`` in one call (OpenSSL sizes and allocates the encoding itself); the
    buffer, which holds the session's secret, is wiped as it is freed."""
    p = _out_params()[3]
    p[0] = NULL
    n = lib.i2d_SSL_SESSION(sess, p)
    buf = p[0]
    if buf == NULL:
        return b""
    der = ffi.buffer(buf, n)[:] if n > 0 else b""
    lib.CRYPTO_clear_free(buf, n if n > 0 else 0, NULL, 0)
    return der


def ticket_of(sess: Any) -> bytes | None:
    """The session ticket an ``SSL_SESSION`` holds (``SSL_SESSION_get0_ticket``), or None."""
    if sess == NULL or not lib.SSL_SESSION_has_ticket(sess):
        return None
    p = ffi.new("const unsigned char **")
    n = ffi.new("size_t *")
    lib.SSL_SESSION_get0_ticket(sess, p, n)
    return bytes(ffi.buffer(p[0], n[0]))


def session_ticket(der: bytes) -> bytes | None:
    """The ticket of a serialized session (``i2d_SSL_SESSION``'s bytes), or None."""
    sess = session_from_der(der)
    if sess == NULL:
        return None
    try:
        return ticket_of(sess)
    finally:
        lib.SSL_SESSION_free(sess)


def session_from_der(der: bytes) -> Any:
    """``d2i_SSL_SESSION``; returns a new reference or NULL for garbage."""
    if not der:
        return NULL
    buf = ffi.from_buffer(_UCHAR_ARRAY, der)
    p = _out_params()[0]
    p[0] = buf
    sess = lib.d2i_SSL_SESSION(NULL, p, len(der))
    if sess == NULL:
        lib.ERR_clear_error()
    return sess


def encode_alpn(protocols: list[bytes]) -> bytes:
    """ALPN/NPN wire format: each name prefixed by its length."""
    out = bytearray()
    for p in protocols:
        if not 0 < len(p) < 256:
            raise ValueError(f"ALPN protocol name must be 1..255 bytes, got {p!r}")
        out.append(len(p))
        out += p
    return bytes(out)


def decode_alpn(wire: bytes) -> list[bytes]:
    out, i = [], 0
    while i < len(wire):
        n = wire[i]
        out.append(wire[i + 1 : i + 1 + n])
        i += 1 + n
    return out


def _find_alpn(wire: bytes, proto: bytes) -> int:
    i = 0
    while i < len(wire):
        n = wire[i]
        if wire[i + 1 : i + 1 + n] == proto:
            return i
        i += 1 + n
    return -1


#: RFC 8446's psk_key_exchange_modes (OpenSSL's TLSEXT_TYPE_psk_kex_modes).
_TLSEXT_TYPE_psk_kex_modes: Final = 45
#: The one PSK identity length OpenSSL's stateful TLS 1.3 lookup takes
#: (``tls_get_stateful_ticket``: ``SSL_MAX_SSL_SESSION_ID_LENGTH``).
_STATEFUL_ID_LEN: Final = 32


def _parse_client_hello(ssl: Any) -> ClientHello:
    """Read what SNI, OCSP and an external session cache need from the ClientHello, inside the
    client-hello callback: OpenSSL has split the extensions (their framing is checked) but not
    parsed their bodies yet, so each body is read only as OpenSSL's own parser will accept it,
    and anything it would reject (failing the handshake) yields the default, never a value
    OpenSSL would not have read.  A PSK offer (TLS 1.3 resumption) is all the cache needs when
    present: only its first identity is read (:func:`_stateful_psk_id`), not SNI, status
    request, legacy session id, ticket and version extensions (nothing reads those from here
    when a PSK is offered).  A PSK is read only when TLS 1.3 will be negotiated (the client's
    supported_versions offers it and this server allows it): otherwise OpenSSL ignores the
    extension and, negotiating TLS 1.2, looks up the legacy session id (or decrypts the
    session_ticket), which is then what is read, as Node reads it."""
    ch = ClientHello()
    out, outlen, _, _ = _out_params()
    get_ext = lib.SSL_client_hello_get0_ext
    if get_ext(ssl, C.TLSEXT_TYPE_pre_shared_key, out, outlen) == 1 and \
            _allows_tls13(ssl) and _offers_tls13(ssl, out, outlen):
        # (_offers_tls13 reuses out/outlen: the PSK extension is read again)
        get_ext(ssl, C.TLSEXT_TYPE_pre_shared_key, out, outlen)
        ch.psk_identity = _stateful_psk_id(ssl, out, outlen)
        ch.tls13 = True  # pre_shared_key is a TLS 1.3 extension
        return ch
    if get_ext(ssl, C.TLSEXT_TYPE_server_name, out, outlen) == 1:
        ch.servername = _host_name(ffi.buffer(out[0], outlen[0])[:])
    ch.status_request = get_ext(ssl, C.TLSEXT_TYPE_status_request, out, outlen) == 1
    n = lib.SSL_client_hello_get0_session_id(ssl, out)
    ch.session_id = ffi.buffer(out[0], n)[:] if n else b""
    ch.has_ticket_ext = (get_ext(ssl, C.TLSEXT_TYPE_session_ticket, out, outlen) == 1
                         and outlen[0] > 0)
    ch.tls13 = _offers_tls13(ssl, out, outlen)
    return ch


def _offers_tls13(ssl: Any, out: Any, outlen: Any) -> bool:
    """The ClientHello's supported_versions offers TLS 1.3 (``out``/``outlen``: scratch).
    versions<2..254>: a length byte, then 2-byte versions; any other shape fails the handshake
    (ssl_choose_server_version: length mismatch), so no TLS 1.3 is assumed.  (The rules of the
    compiled binding's ``nodetls_sp_offers_tls13``.)"""
    if lib.SSL_client_hello_get0_ext(ssl, C.TLSEXT_TYPE_supported_versions, out, outlen) != 1:
        return False
    sv = ffi.buffer(out[0], outlen[0])[:]
    n = len(sv)
    if n >= 3 and sv[0] == n - 1 and n % 2 == 1:
        return any(sv[i : i + 2] == b"\x03\x04" for i in range(1, n, 2))
    return False


def _allows_tls13(ssl: Any) -> bool:
    """TLS 1.3 can be negotiated on ``ssl`` (its max version and options; the rules of
    ``TLSEngine.allows_tls13`` and the compiled binding's ``nodetls_sp_allows_tls13``)."""
    top = lib.SSL_ctrl(ssl, C.SSL_CTRL_GET_MAX_PROTO_VERSION, 0, NULL)
    return (top == 0 or top >= C.TLS1_3_VERSION) and \
        not lib.SSL_get_options(ssl) & C.SSL_OP_NO_TLSv1_3


def _host_name(sn: bytes) -> str | None:
    """The name of a server_name extension body, or None where OpenSSL's
    ``tls_parse_ctos_server_name`` fails the handshake: exactly one entry, of type host_name,
    filling the list, which fills the extension; at most 255 bytes, no NUL.  (An empty name is
    accepted, as OpenSSL does: ``SSL_get_servername`` then says ``''``.)  Decoded as Latin-1,
    one character per byte, as Node reads ``SSL_get_servername`` (``OneByteString``)."""
    n = len(sn)
    if (n < 5 or (sn[0] << 8 | sn[1]) != n - 2 or sn[2] != 0
            or (sn[3] << 8 | sn[4]) != n - 5 or n - 5 > 255 or 0 in sn[5:]):
        return None
    return sn[5:].decode("latin-1")


def _stateful_psk_id(ssl: Any, out: Any, outlen: Any) -> bytes | None:
    """The first identity of the pre_shared_key extension ``out``/``outlen`` hold, when
    OpenSSL's ``tls_parse_ctos_psk`` will look it up in a stateful session cache: a well-formed
    first entry (``identities<7..2^16-1>`` = ``{identity<1..2^16-1>, obfuscated_ticket_age
    (4)}``..., inside the extension) of 32 bytes (``tls_get_stateful_ticket`` looks no other
    length up), offered with a key exchange mode OpenSSL uses (without one it ignores the
    extension); else None.  (The same rules as the compiled binding's ``nodetls_sp_psk_id``.)"""
    n, p = outlen[0], out[0]
    if n < 4:
        return None
    listed = (p[0] << 8) | p[1]
    ilen = (p[2] << 8) | p[3]
    if listed > n - 2 or ilen != _STATEFUL_ID_LEN or 2 + ilen + 4 > listed:
        return None
    identity = ffi.buffer(p + 4, ilen)[:]
    # (this call reuses out/outlen: the identity is read first)
    if lib.SSL_client_hello_get0_ext(ssl, _TLSEXT_TYPE_psk_kex_modes, out, outlen) != 1:
        return None  # OpenSSL: missing_extension alert, no lookup
    modes = ffi.buffer(out[0], outlen[0])[:]
    # ke_modes<1..255>; psk_dhe_ke (1) always counts, psk_ke (0) only with ALLOW_NO_DHE_KEX
    if len(modes) < 2 or modes[0] != len(modes) - 1:
        return None
    if 1 in modes[1:] or (0 in modes[1:]
                          and lib.SSL_get_options(ssl) & C.SSL_OP_ALLOW_NO_DHE_KEX):
        return identity
    return None


_SIG_NAMES: Final = {6: "RSA", 408: "ECDSA", 912: "RSA-PSS", 1087: "Ed25519", 1088: "Ed448"}


def _sigalg_name(sign_nid: int, hash_nid: int) -> str:
    """One entry of ``getSharedSigalgs()``, as Node's ``TLSWrap::GetSharedSigalgs`` spells it:
    the signature's name, ``+``, the hash's short name -- ``UNDEF`` for none, so Ed25519 and
    Ed448 (which hash nothing) are ``'Ed25519+UNDEF'`` and ``'Ed448+UNDEF'``."""
    sign = _SIG_NAMES.get(sign_nid)
    if sign is None:
        sign = ffi.string(lib.OBJ_nid2sn(sign_nid)).decode() if sign_nid else "UNDEF"
    hname = ffi.string(lib.OBJ_nid2sn(hash_nid)).decode() if hash_nid else "UNDEF"
    return f"{sign}+{hname}"
