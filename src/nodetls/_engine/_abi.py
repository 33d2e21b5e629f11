"""The ABI-mode versions of the compiled binding's engine helpers (``_openssl/cdef.py`` HELPERS).

With the compiled binding an engine's creation, BIO swap and close_notify are one C call each
(``nodetls_new``, ``nodetls_release_bios``, ``nodetls_shutdown``); in ABI mode (libssl dlopened,
no C compiler) :mod:`.engine` runs these same steps in Python instead.
"""

from __future__ import annotations

from typing import Any

from .._openssl import constants as C
from .._openssl import ffi, lib

NULL = ffi.NULL
_BIO_S_MEM = lib.BIO_s_mem()


def _py_mem_bios(bios: Any) -> bool:
    """Two fresh memory BIOs in ``bios[0]`` (read) and ``bios[1]`` (write), or neither."""
    bios[0] = lib.BIO_new(_BIO_S_MEM)
    bios[1] = lib.BIO_new(_BIO_S_MEM)
    if bios[0] != NULL and bios[1] != NULL:
        return True
    lib.BIO_free(bios[0])  # (NULL-safe)
    lib.BIO_free(bios[1])
    return False


def _py_new(ctx: Any, options: int, server: bool, bios: Any) -> Any:
    """``nodetls_new`` (``_openssl/cdef.py``) for ABI mode: ``SSL_new(ctx)`` over two fresh
    memory BIOs (the SSL owns them: ``bios[0]`` read, ``bios[1]`` write), with ``options`` and
    the accept or connect state; NULL with nothing left allocated."""
    ssl = lib.SSL_new(ctx)
    if ssl == NULL:
        return NULL
    if not _py_mem_bios(bios):
        lib.SSL_free(ssl)
        return NULL
    lib.SSL_set_bio(ssl, bios[0], bios[1])  # the SSL owns both from here on
    lib.SSL_set_options(ssl, options)
    if server:
        lib.SSL_set_accept_state(ssl)
    else:
        lib.SSL_set_connect_state(ssl)
    return ssl


def _py_release_bios(ssl: Any) -> int:
    """``nodetls_release_bios`` for ABI mode: when both of ``ssl``'s memory BIOs are drained,
    a fresh, empty buffer for each (``BIO_set_mem_buf`` frees the old one), the record layers'
    buffers freed if empty (``SSL_free_buffers``), and 1; 0 when not
    drained, -1 when out of memory (nothing changed)."""
    rbio = lib.SSL_get_rbio(ssl)
    wbio = lib.SSL_get_wbio(ssl)
    if lib.BIO_ctrl_pending(rbio) or lib.BIO_ctrl_pending(wbio):
        return 0
    rbuf = lib.BUF_MEM_new()
    wbuf = lib.BUF_MEM_new()
    if rbuf == NULL or wbuf == NULL:
        lib.BUF_MEM_free(rbuf)  # (NULL-safe)
        lib.BUF_MEM_free(wbuf)
        lib.ERR_clear_error()
        return -1
    lib.BIO_ctrl(rbio, C.BIO_C_SET_BUF_MEM, C.BIO_CLOSE, rbuf)
    lib.BIO_ctrl(wbio, C.BIO_C_SET_BUF_MEM, C.BIO_CLOSE, wbuf)
    if not lib.SSL_free_buffers(ssl):  # (a record layer still holds data: its buffers stay)
        lib.ERR_clear_error()
    return 1


def _py_shutdown(ssl: Any) -> int:
    """``nodetls_shutdown`` for ABI mode: close_notify once, after a complete handshake."""
    if lib.SSL_get_shutdown(ssl) & C.SSL_SENT_SHUTDOWN or not lib.SSL_is_init_finished(ssl):
        return 0
    lib.SSL_shutdown(ssl)
    lib.ERR_clear_error()
    return 1
