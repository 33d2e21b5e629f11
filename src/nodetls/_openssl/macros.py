"""Python versions of the OpenSSL header macros nodetls needs (over SSL_ctrl and friends)."""

from __future__ import annotations

from typing import Any

from . import constants as C
from . import ffi, lib

NULL = ffi.NULL


def SSL_CTX_set_min_proto_version(ctx: Any, version: int) -> int:
    return lib.SSL_CTX_ctrl(ctx, C.SSL_CTRL_SET_MIN_PROTO_VERSION, version, NULL)


def SSL_CTX_set_max_proto_version(ctx: Any, version: int) -> int:
    return lib.SSL_CTX_ctrl(ctx, C.SSL_CTRL_SET_MAX_PROTO_VERSION, version, NULL)


def SSL_CTX_get_min_proto_version(ctx: Any) -> int:
    return lib.SSL_CTX_ctrl(ctx, C.SSL_CTRL_GET_MIN_PROTO_VERSION, 0, NULL)


def SSL_CTX_get_max_proto_version(ctx: Any) -> int:
    return lib.SSL_CTX_ctrl(ctx, C.SSL_CTRL_GET_MAX_PROTO_VERSION, 0, NULL)


def SSL_CTX_set_mode(ctx: Any, mode: int) -> int:
    return lib.SSL_CTX_ctrl(ctx, C.SSL_CTRL_MODE, mode, NULL)


def SSL_CTX_set_session_cache_mode(ctx: Any, mode: int) -> int:
    return lib.SSL_CTX_ctrl(ctx, C.SSL_CTRL_SET_SESS_CACHE_MODE, mode, NULL)


def SSL_set_tlsext_host_name(ssl: Any, name: bytes) -> int:
    return lib.SSL_ctrl(ssl, C.SSL_CTRL_SET_TLSEXT_HOSTNAME, C.TLSEXT_NAMETYPE_host_name, name)


def SSL_CTX_set1_groups_list(ctx: Any, groups: bytes) -> int:
    return lib.SSL_CTX_ctrl(ctx, C.SSL_CTRL_SET_GROUPS_LIST, 0, ffi.new("char[]", groups))


def SSL_CTX_set1_sigalgs_list(ctx: Any, sigalgs: bytes) -> int:
    return lib.SSL_CTX_ctrl(ctx, C.SSL_CTRL_SET_SIGALGS_LIST, 0, ffi.new("char[]", sigalgs))


def SSL_CTX_add1_chain_cert(ctx: Any, x509: Any) -> int:
    return lib.SSL_CTX_ctrl(ctx, C.SSL_CTRL_CHAIN_CERT, 1, x509)


def SSL_CTX_clear_chain_certs(ctx: Any) -> int:
    return lib.SSL_CTX_ctrl(ctx, C.SSL_CTRL_CHAIN, 0, NULL)


def SSL_CTX_get0_chain_certs(ctx: Any) -> Any:
    out = ffi.new("OPENSSL_STACK **")
    lib.SSL_CTX_ctrl(ctx, C.SSL_CTRL_GET_CHAIN_CERTS, 0, out)
    return out[0]


def SSL_CTX_set_dh_auto(ctx: Any, onoff: int) -> int:
    return lib.SSL_CTX_ctrl(ctx, C.SSL_CTRL_SET_DH_AUTO, onoff, NULL)


def SSL_set_tlsext_status_type(ssl: Any, kind: int) -> int:
    return lib.SSL_ctrl(ssl, C.SSL_CTRL_SET_TLSEXT_STATUS_REQ_TYPE, kind, NULL)


def SSL_get_tlsext_status_type(ssl: Any) -> int:
    return lib.SSL_ctrl(ssl, C.SSL_CTRL_GET_TLSEXT_STATUS_REQ_TYPE, 0, NULL)


def SSL_get_tlsext_status_ocsp_resp(ssl: Any) -> bytes | None:
    out = ffi.new("unsigned char **")
    n = lib.SSL_ctrl(ssl, C.SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP, 0, out)
    if n < 0 or out[0] == NULL:
        return None
    return bytes(ffi.buffer(out[0], n))


def SSL_set_tlsext_status_ocsp_resp(ssl: Any, data: bytes) -> int:
    """Staple ``data``; OpenSSL takes ownership, so it is copied into OPENSSL_malloc memory."""
    buf = lib.CRYPTO_malloc(max(len(data), 1), NULL, 0)
    if buf == NULL:
        raise MemoryError("CRYPTO_malloc failed")
    ffi.memmove(buf, data, len(data))
    return lib.SSL_ctrl(ssl, C.SSL_CTRL_SET_TLSEXT_STATUS_REQ_OCSP_RESP, len(data), buf)


def SSL_set_max_send_fragment(ssl: Any, size: int) -> int:
    return lib.SSL_ctrl(ssl, C.SSL_CTRL_SET_MAX_SEND_FRAGMENT, size, NULL)


def SSL_get_peer_tmp_key(ssl: Any) -> Any:
    out = ffi.new("EVP_PKEY **")
    if lib.SSL_ctrl(ssl, C.SSL_CTRL_GET_PEER_TMP_KEY, 0, out) <= 0:
        return NULL
    return out[0]  # caller must EVP_PKEY_free


def SSL_set_msg_callback_arg(ssl: Any, arg: Any) -> int:
    return lib.SSL_ctrl(ssl, C.SSL_CTRL_SET_MSG_CALLBACK_ARG, 0, arg)


def BIO_set_mem_eof_return(bio: Any, value: int) -> int:
    return lib.BIO_ctrl(bio, C.BIO_C_SET_BUF_MEM_EOF_RETURN, value, NULL)
