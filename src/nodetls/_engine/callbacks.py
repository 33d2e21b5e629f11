"""Module-level OpenSSL callbacks (trampolines) and their installation.

Theory of operation
-------------------
cffi's advice is to create every ``ffi.callback`` once, at module level, and to find the Python
object a call belongs to from the C arguments.  Every callback here receives an ``SSL*`` (or an
``X509_STORE_CTX*`` from which the ``SSL*`` is found); :data:`ENGINES` maps the SSL (by address) to its
:class:`~nodetls._engine.engine.TLSEngine`, and the trampoline calls one ``_cb_*`` method on it.

No Python exception may unwind through C.  Each trampoline body runs under ``try/except
BaseException``: the exception is stored on the engine (``engine._exc``) and the callback returns
the failure value documented for that callback (comments below).  The engine re-raises the stored
exception after the OpenSSL call returns, before it interprets ``SSL_get_error``.  cffi's
``error=``/``onerror=`` arguments are the safety net for an exception raised before the ``try``
runs (a signal): the same failure value is returned and the exception is recorded.

Callbacks that live on an ``SSL_CTX`` are installed lazily, once per context and kind, by
:func:`enable`; they cost nothing until a connection needs them.  Per-connection callbacks (PSK,
info, msg) are set on the ``SSL*`` by the engine.
"""

from __future__ import annotations

import sys
import types
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._openssl import constants as C
from .._openssl import ffi, lib

if TYPE_CHECKING:
    from .engine import TLSEngine

# SSL address -> weak reference to its engine.  Weak, so a forgotten engine can still be collected
# (its __del__ frees, which removes the entry).  A plain dict of ``weakref.ref`` rather than a
# WeakValueDictionary: adding and removing an entry per connection are then C calls only.
# Keyed by the SSL* cdata itself: cffi pointers hash and compare by address, whatever their type,
# so a callback's ``ssl`` argument finds its engine without a cast.
ENGINES: dict[Any, weakref.ReferenceType[TLSEngine]] = {}

_STORE_CTX_SSL_IDX = lib.SSL_get_ex_data_X509_STORE_CTX_idx()


#: What :data:`ENGINES` answers for an SSL it does not hold: called like the weak reference, it
#: gives None.  A trampoline finds its engine as ``ENGINES.get(ssl, _NO_ENGINE)()``: two C calls,
#: no Python frame (the callbacks of a resumed handshake with a session store run four times).
_NO_ENGINE: Callable[[], None] = type(None)


def _record(ssl: Any, exc: BaseException) -> None:
    eng = ENGINES.get(ssl, _NO_ENGINE)()
    if eng is not None:
        if eng._exc is None:
            eng._exc = exc
    else:  # pragma: no cover - no owner to report to
        sys.unraisablehook(types.SimpleNamespace(
            exc_type=type(exc), exc_value=exc, exc_traceback=exc.__traceback__,
            err_msg="Exception in a nodetls OpenSSL callback", object=None))


def _onerror(exc_type: Any, exc: BaseException, tb: Any) -> None:
    """cffi's safety net for an exception raised before a trampoline's ``try`` (a signal):
    record it on the engine found from the ``ssl`` argument in the failing frame; cffi then
    returns the callback's ``error=`` value."""
    frame = tb.tb_frame if tb is not None else None
    local = frame.f_locals if frame is not None else {}
    ssl = local.get("ssl")
    if ssl is None and local.get("store") is not None:  # (the verify callbacks)
        ssl = lib.X509_STORE_CTX_get_ex_data(local["store"], _STORE_CTX_SSL_IDX)
    if ssl is not None:
        _record(ssl, exc)


# ---- verify: int (*)(int preverify_ok, X509_STORE_CTX *) -------------------------------------
# Set on the store by cert_verify_cb only, for its X509_verify_cert() run: accepts every error, so
# OpenSSL goes on checking and the store keeps the last error it reported (as Node's verify
# callback).  No engine to find: cert_verify_cb decides once the verification is done.
@ffi.callback("int(int, X509_STORE_CTX *)", error=1, onerror=_onerror)
def accept_verify_cb(preverify_ok: int, store: Any) -> int:
    return 1


# ---- cert verify (on the SSL_CTX): int (*)(X509_STORE_CTX *, void *arg) -------------------------
# Called by OpenSSL in place of X509_verify_cert() on the peer's chain.  1 = accept; 0 = fail the
# handshake with the alert matching the store's error (which becomes SSL_get_verify_result()).
@ffi.callback("int(X509_STORE_CTX *, void *)", error=0, onerror=_onerror)
def cert_verify_cb(store: Any, arg: Any) -> int:
    ssl = lib.X509_STORE_CTX_get_ex_data(store, _STORE_CTX_SSL_IDX)
    eng = ENGINES.get(ssl, _NO_ENGINE)()
    if eng is None:  # (not an engine's SSL: OpenSSL's own call)
        return 1 if lib.X509_verify_cert(store) > 0 else 0
    try:
        return eng._cb_cert_verify(store)
    except BaseException as exc:  # noqa: BLE001 - recorded and re-raised after the SSL call
        eng._exc = eng._exc or exc
        if not lib.X509_STORE_CTX_get_error(store):
            lib.X509_STORE_CTX_set_error(store, 1)  # UNSPECIFIED: never "verified" after it
        return 0


# ---- client hello: int (*)(SSL *, int *al, void *arg) ----------------------------------------
# 1 = continue, -1 = RETRY (pause: SSL_ERROR_WANT_CLIENT_HELLO_CB), 0 = fail with alert *al.
@ffi.callback("int(SSL *, int *, void *)", error=0, onerror=_onerror)
def client_hello_cb(ssl: Any, al: Any, arg: Any) -> int:
    eng = ENGINES.get(ssl, _NO_ENGINE)()
    if eng is None:
        return C.SSL_CLIENT_HELLO_SUCCESS
    try:
        return eng._cb_client_hello(al)
    except BaseException as exc:  # noqa: BLE001
        eng._exc = eng._exc or exc
        al[0] = 80  # internal_error
        return C.SSL_CLIENT_HELLO_ERROR


# ---- cert: int (*)(SSL *, void *arg) ------------------------------------------------------------
# 1 = continue, -1 = pause (SSL_ERROR_WANT_X509_LOOKUP), 0 = fail (internal_error alert).
@ffi.callback("int(SSL *, void *)", error=0, onerror=_onerror)
def cert_cb(ssl: Any, arg: Any) -> int:
    eng = ENGINES.get(ssl, _NO_ENGINE)()
    if eng is None:
        return 1
    try:
        return eng._cb_cert()
    except BaseException as exc:  # noqa: BLE001
        eng._exc = eng._exc or exc
        return 0


# ---- ALPN select (server) ------------------------------------------------------------------------
# SSL_TLSEXT_ERR_OK with *out set, NOACK to ignore ALPN, ALERT_FATAL for no_application_protocol.
@ffi.callback(
    "int(SSL *, const unsigned char **, unsigned char *, const unsigned char *, unsigned int, void *)",
    error=C.SSL_TLSEXT_ERR_ALERT_FATAL, onerror=_onerror,
)
def alpn_select_cb(ssl: Any, out: Any, outlen: Any, inp: Any, inlen: int, arg: Any) -> int:
    eng = ENGINES.get(ssl, _NO_ENGINE)()
    if eng is None:
        return C.SSL_TLSEXT_ERR_NOACK
    try:
        return eng._cb_alpn_select(out, outlen, inp, inlen)
    except BaseException as exc:  # noqa: BLE001
        eng._exc = eng._exc or exc
        return C.SSL_TLSEXT_ERR_ALERT_FATAL


# ---- OCSP status (server): int (*)(SSL *, void *) ----------------------------------------------
# 0 (OK) = a response was set, 3 (NOACK) = staple nothing, 2 (ALERT_FATAL) = fail.
@ffi.callback("int(SSL *, void *)", error=C.SSL_TLSEXT_ERR_ALERT_FATAL, onerror=_onerror)
def status_cb(ssl: Any, arg: Any) -> int:
    eng = ENGINES.get(ssl, _NO_ENGINE)()
    if eng is None:
        return C.SSL_TLSEXT_ERR_NOACK
    try:
        return eng._cb_status()
    except BaseException as exc:  # noqa: BLE001
        eng._exc = eng._exc or exc
        return C.SSL_TLSEXT_ERR_ALERT_FATAL


# ---- keylog: void (*)(const SSL *, const char *line) -------------------------------------------
# "void(*)(const SSL *, ...)": the compiled ffi cannot parse a function type whose first
# parameter starts with const (cffi API-mode parser); the pointer form parses in both modes.
@ffi.callback("void(*)(const SSL *, const char *)", onerror=_onerror)
def keylog_cb(ssl: Any, line: Any) -> None:
    eng = ENGINES.get(ssl, _NO_ENGINE)()
    if eng is None:
        return
    try:
        eng._cb_keylog(ffi.string(line))
    except BaseException as exc:  # noqa: BLE001
        eng._exc = eng._exc or exc


# ---- new session: int (*)(SSL *, SSL_SESSION *) -------------------------------------------------
# Return 0: we never keep OpenSSL's reference (the session is serialised to DER at once).
@ffi.callback("int(SSL *, SSL_SESSION *)", error=0, onerror=_onerror)
def new_session_cb(ssl: Any, sess: Any) -> int:
    eng = ENGINES.get(ssl, _NO_ENGINE)()
    if eng is None:
        return 0
    try:
        eng._cb_new_session(sess)
    except BaseException as exc:  # noqa: BLE001
        eng._exc = eng._exc or exc
    return 0


# ---- get session (server external cache) ---------------------------------------------------------
# Return a session with *copy = 0 (OpenSSL takes our only reference) or NULL (full handshake).
@ffi.callback("SSL_SESSION *(SSL *, const unsigned char *, int, int *)", error=ffi.NULL,
              onerror=_onerror)
def get_session_cb(ssl: Any, sid: Any, sidlen: int, copy: Any) -> Any:
    eng = ENGINES.get(ssl, _NO_ENGINE)()
    if eng is None:
        return ffi.NULL
    try:
        return eng._cb_get_session(bytes(ffi.buffer(sid, sidlen)), copy)
    except BaseException as exc:  # noqa: BLE001
        eng._exc = eng._exc or exc
        return ffi.NULL


# ---- PSK ------------------------------------------------------------------------------------------
# Both return the PSK length, 0 = no PSK (unknown_psk_identity / handshake failure).
@ffi.callback("unsigned int(SSL *, const char *, unsigned char *, unsigned int)", error=0,
              onerror=_onerror)
def psk_server_cb(ssl: Any, identity: Any, psk: Any, max_psk_len: int) -> int:
    eng = ENGINES.get(ssl, _NO_ENGINE)()
    if eng is None:
        return 0
    try:
        return eng._cb_psk_server(identity, psk, max_psk_len)
    except BaseException as exc:  # noqa: BLE001
        eng._exc = eng._exc or exc
        return 0


@ffi.callback(
    "unsigned int(SSL *, const char *, char *, unsigned int, unsigned char *, unsigned int)",
    error=0, onerror=_onerror,
)
def psk_client_cb(ssl: Any, hint: Any, identity: Any, max_id: int, psk: Any, max_psk: int) -> int:
    eng = ENGINES.get(ssl, _NO_ENGINE)()
    if eng is None:
        return 0
    try:
        return eng._cb_psk_client(hint, identity, max_id, psk, max_psk)
    except BaseException as exc:  # noqa: BLE001
        if eng._exc is None:  # (Node's onpskclient: owner.destroy(err), inside the callback)
            eng._exc = exc
            eng._exc_drops_flight = True
        return 0


# ---- info: void (*)(const SSL *, int where, int ret) — renegotiation accounting -------------------
_HANDSHAKE_WHERE = C.SSL_CB_HANDSHAKE_START | C.SSL_CB_HANDSHAKE_DONE


@ffi.callback("void(*)(const SSL *, int, int)", onerror=_onerror)
def info_cb(ssl: Any, where: int, ret: int) -> None:
    if not where & _HANDSHAKE_WHERE:
        return
    eng = ENGINES.get(ssl, _NO_ENGINE)()
    if eng is None:
        return
    try:
        if where & C.SSL_CB_HANDSHAKE_START:
            eng._cb_handshake_start()
        else:
            eng._cb_handshake_done()
    except BaseException as exc:  # noqa: BLE001
        eng._exc = eng._exc or exc


# ---- NPN (legacy) -----------------------------------------------------------------------------------
@ffi.callback("int(SSL *, const unsigned char **, unsigned int *, void *)",
              error=C.SSL_TLSEXT_ERR_NOACK, onerror=_onerror)
def npn_advertise_cb(ssl: Any, out: Any, outlen: Any, arg: Any) -> int:
    eng = ENGINES.get(ssl, _NO_ENGINE)()
    if eng is None or not eng._npn_wire:
        return C.SSL_TLSEXT_ERR_NOACK
    out[0] = eng._npn_buf
    outlen[0] = len(eng._npn_wire)
    return C.SSL_TLSEXT_ERR_OK


@ffi.callback(
    "int(SSL *, unsigned char **, unsigned char *, const unsigned char *, unsigned int, void *)",
    error=C.SSL_TLSEXT_ERR_NOACK, onerror=_onerror,
)
def npn_select_cb(ssl: Any, out: Any, outlen: Any, inp: Any, inlen: int, arg: Any) -> int:
    eng = ENGINES.get(ssl, _NO_ENGINE)()
    if eng is None:
        return C.SSL_TLSEXT_ERR_NOACK
    try:
        return eng._cb_npn_select(out, outlen, inp, inlen)
    except BaseException as exc:  # noqa: BLE001
        eng._exc = eng._exc or exc
        return C.SSL_TLSEXT_ERR_NOACK


# ---- the session path in C (compiled binding) ---------------------------------------------------
# The compiled binding answers the client-hello and get-session callbacks of a connection that
# asked for it (TLSEngine.enable_session_path) in C, and hands every other connection's calls to
# the trampolines above: with it, those two kinds are installed as its C dispatchers.  False in
# ABI mode (no such helpers), where the trampolines are installed themselves.
_sp_setup = getattr(lib, "nodetls_sp_setup", None)
SESSION_PATH: bool = bool(_sp_setup is not None and _sp_setup(client_hello_cb, get_session_cb))


# ---- installation on contexts -----------------------------------------------------------------------

def enable(context: Any, kind: str) -> None:
    """Install the ``kind`` callback on ``context``'s SSL_CTX, once per context.

    Kinds: ``client_hello``, ``cert``, ``verify`` (cert verify), ``alpn``, ``status``,
    ``keylog``, ``session`` (new + get), ``npn``.  The set of installed kinds is kept on the
    context object itself, so a freed context's reused address can never be mistaken for an
    installed one.
    """
    installed: set[str] | None = getattr(context, "_nodetls_callbacks", None)
    if installed is not None and kind in installed:
        return  # (the usual call: every connection of a server asks again)
    if installed is None:
        installed = set()
        context._nodetls_callbacks = installed
    if kind in installed:
        return
    ctx = context.ctx
    if kind == "client_hello":
        if SESSION_PATH:
            lib.nodetls_sp_install(ctx, 1)
        else:
            lib.SSL_CTX_set_client_hello_cb(ctx, client_hello_cb, ffi.NULL)
    elif kind == "cert":
        lib.SSL_CTX_set_cert_cb(ctx, cert_cb, ffi.NULL)
    elif kind == "verify":
        lib.SSL_CTX_set_cert_verify_callback(ctx, cert_verify_cb, ffi.NULL)
    elif kind == "alpn":
        lib.SSL_CTX_set_alpn_select_cb(ctx, alpn_select_cb, ffi.NULL)
    elif kind == "status":
        lib.SSL_CTX_callback_ctrl(ctx, C.SSL_CTRL_SET_TLSEXT_STATUS_REQ_CB,
                                  ffi.cast("void(*)(void)", status_cb))
    elif kind == "keylog":
        lib.SSL_CTX_set_keylog_callback(ctx, keylog_cb)
    elif kind == "session":
        lib.SSL_CTX_sess_set_new_cb(ctx, new_session_cb)
        if SESSION_PATH:
            lib.nodetls_sp_install(ctx, 2)
        else:
            lib.SSL_CTX_sess_set_get_cb(ctx, get_session_cb)
    elif kind == "npn":
        lib.SSL_CTX_set_next_protos_advertised_cb(ctx, npn_advertise_cb, ffi.NULL)
        lib.SSL_CTX_set_next_proto_select_cb(ctx, npn_select_cb, ffi.NULL)
    else:  # pragma: no cover
        raise ValueError(f"unknown callback kind {kind!r}")
    installed.add(kind)
