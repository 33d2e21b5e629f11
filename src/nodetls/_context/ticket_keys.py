"""Session-ticket keys: Node's 48-byte layout, with rotation, served by one OpenSSL callback.

Theory of operation
-------------------
Node encrypts session tickets itself (``TicketCompatibilityCallback`` in ``crypto_context.cc``)
with one 48-byte key per context: ``name[16] | hmac_key[16] | aes_key[16]``, AES-128-CBC and
HMAC-SHA256 (the RFC 5077 ticket format).  nodetls keeps that layout but holds a *list* of keys:
the first encrypts new tickets, every key decrypts, and a ticket under an older key is accepted and
renewed under the first one (return value 2), so keys can be rotated without a burst of full
handshakes (a deliberate difference from Node, listed in the README).

A context that was never given keys (no ``ticket_keys`` option, no ``set_ticket_keys``, no
``get_ticket_keys``) needs no callback at all: OpenSSL's own per-context random keys encrypt its
tickets (AES-256-CBC, HMAC-SHA256), with no Python code per ticket and no per-connection
bookkeeping, and nothing can tell the difference, since nobody knows those keys.  With the
compiled binding a C callback (``nodetls_tk_own``, the legacy ``HMAC_CTX`` form Node uses) serves
those keys with the steps and ticket format of OpenSSL's built-in code but with AES-256-CBC and
SHA256 fetched once per process: OpenSSL 3.0 fetches them (and the HMAC MAC) by name for every
ticket, ~9.5k of 2.50M instructions per resumed handshake and ~18k of 3.01M per full one (two
tickets).  Either code decrypts the other's tickets.  The first
``get_ticket_keys()`` or ``set_ticket_keys()`` switches the context to Node's layout below, served
by the callback.  After ``get_ticket_keys()`` (Node: reading the keys changes nothing) tickets
issued before the switch still resume: the callback recognises OpenSSL's key name and decrypts
them with OpenSSL's keys (read with ``SSL_CTRL_GET_TLSEXT_TICKET_KEYS``), renewing the ticket;
``set_ticket_keys()`` drops them, as Node's ``setTicketKeys`` invalidates outstanding tickets.

One callback serves every such context, installed with ``SSL_CTX_set_tlsext_ticket_key_evp_cb``
by :func:`install`.  With the compiled binding (``BINDING == "api"``; :data:`NATIVE`) it is C,
``nodetls_tk_cb`` in ``cdef.py``'s helpers, the same steps as Node's ``TicketCompatibilityCallback``
in C++: no Python runs per ticket, and a server of ``nodetls.run(main, workers=N)`` (whose workers
share the parent's keys) pays per ticket what OpenSSL's own keys cost.  In ABI mode
(``NODETLS_PURE=1``, or no compiler) the Python :data:`ticket_key_cb` below does it; both give the
same answers.  Either must find the keys of the right context:

* OpenSSL calls it on the connection's *original* ``SSL_CTX`` (the session context), even after
  ``SSL_set_SSL_CTX`` switched the connection to another context, while ``SSL_get_SSL_CTX``
  returns the switched one (observed with OpenSSL 3.0).  nodetls's SNI no longer switches (a
  context only lends its certificate, as Node's), but the engine still calls :func:`bind_ssl`
  right after ``SSL_new`` to record which context's keys serve that ``SSL*``, and
  :func:`unbind_ssl` before ``SSL_free``, so the keys never depend on that.  Node v20 serves such a connection's
  tickets with the server's keys too, not with the keys of the context ``SNICallback`` returned
  (``tests/tls/test_tls_sni_ticket_keys.py`` runs the scenario in ``node`` and in both modes).
* An unbound ``SSL*`` falls back to the context registered for ``SSL_get_SSL_CTX(ssl)``.

In C the binding needs no Python call: every ``SSL*`` created after this module's import holds, in
its ex_data, a counted reference to the ``SSL_CTX`` it was created on (its session context),
dropped when it is freed; the keys are a table in that ``SSL_CTX``'s ex_data, freed with it.
:func:`publish` copies a context's keys into a new table after each change (the old table is
swapped out under a lock the callback holds while reading, then wiped with ``OPENSSL_cleanse`` and
freed), so a rotation never frees memory a handshake in another thread may be reading, and a
connection whose context was closed keeps its keys.  The engine therefore binds only for the
Python callback (``SecureContext.binds_ssl``); :func:`bind_ssl` binds for both.

Key memory: every copy nodetls keeps is wiped when it is retired
-----------------------------------------------------------------
A context's keys live in one :class:`KeySet`: cffi memory it owns (Node's n*48 bytes, or
OpenSSL's own 80), copied in from the caller's buffer without an intermediate ``bytes``, with what
the Python callback needs per key (the 16-byte name, which every ticket carries in clear, pointers
to the HMAC and AES keys inside that memory and the ``OSSL_PARAM`` array naming the HMAC key).  No
other copy exists in Python: :func:`publish` hands the C callback that memory itself, and the
callback keeps no cache of its own.  :meth:`KeySet.wipe` zeroes the memory and forgets the entries
(the Python callback then issues no ticket and accepts none, never one under a zero key); the
context calls it when the keys are replaced (``set_ticket_keys``, a rotation), when OpenSSL's own
keys stop being accepted, and when it is closed with no connection bound to it, else when it is
collected (``weakref.finalize``, which also runs at interpreter exit).  The C tables are wiped with
``OPENSSL_cleanse`` when swapped out or when their ``SSL_CTX`` is freed.  What the user handed in
(``ticket_keys``, ``set_ticket_keys``'s argument) and what ``get_ticket_keys()`` returns (a new
``bytes``, as Node's ``getTicketKeys`` returns a new Buffer) are the user's.  Keys may change
from any thread: the C callback reads its table under the table's lock; the Python one reads a
context's entries and hands them to OpenSSL (which copies them) under ``_LOCK``, which
:meth:`KeySet.wipe` takes too, so no handshake reads keys being zeroed or memory freed after.

Decryption results follow ``SSL_CTX_set_tlsext_ticket_key_evp_cb(3)``: 0 for an unknown key name
(full handshake, no error), 1 for the current key, 2 for an older key (resume, then issue a new
ticket).  On TLS 1.3 a resumption under the current key therefore sends no new ticket, as Node's
``TicketCompatibilityCallback`` (which returns 1) does: a Node server sends two tickets after a
full handshake and none after a resumption, and the client keeps offering the ticket it has.

No exception may unwind through C: the Python callback body runs under ``try/except
BaseException``, reports the exception to :data:`on_error` (``on_error(ssl_ptr, exc)``; the engine
sets it; the default hands it to ``sys.unraisablehook``) and returns -1, which fails the handshake.
The C callback raises nothing: it returns -1 when OpenSSL fails (``RAND_bytes``, a cipher or MAC
init), whose error queue then says why the handshake failed; :data:`on_error` is not called.
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any, Protocol

from .._openssl import BINDING, ffi, lib
from .._openssl import constants as C
from .._option_table import SecretBytes
from ..errors import InvalidArgTypeError, InvalidArgValueError

__all__ = [
    "KEY_SIZE",
    "KeySet",
    "ContextKeys",
    "wipe",
    "openssl_keys",
    "validate_keys",
    "random_key",
    "install",
    "publish",
    "uninstall",
    "in_use",
    "bind_ssl",
    "unbind_ssl",
    "ticket_key_cb",
    "on_error",
    "NATIVE",
]

KEY_SIZE = 48
_OPENSSL_KEYS_SIZE = 80  # OpenSSL's own: name[16] | hmac_key[32] | aes_key[32] (AES-256-CBC)

# Called as on_error(ssl_ptr, exc) when the callback fails; None -> sys.unraisablehook.
on_error: Callable[[Any, BaseException], None] | None = None


def _native_setup() -> bool:
    """Whether the C callback is available: the compiled binding, its ex_data indexes obtained
    (once per process, here at import, so that every later ``SSL_new`` records its context)."""
    if BINDING != "api" or not hasattr(lib, "nodetls_tk_setup"):
        return False
    return bool(lib.nodetls_tk_setup() == 1)


#: The C callback serves contexts installed from now on (``False``: the Python one; tests set it).
NATIVE: bool = _native_setup()

# One key as the Python callback uses it: (name, AES key, OSSL_PARAM array with the HMAC key,
# cipher); the pointers point into the memory of the KeySet that made it.
Entry = tuple[bytes, Any, Any, Any]


class KeyHolder(Protocol):
    """What the callback needs from a context: its keys, first one current, and OpenSSL's own
    80-byte keys whose tickets are still accepted (``()``: none), as :attr:`KeySet.entries`."""

    @property
    def ticket_key_list(self) -> tuple[Entry, ...]: ...

    @property
    def openssl_ticket_keys(self) -> tuple[Entry, ...]: ...


# ---------------------------------------------------------------------------- key memory

_P_KEY = ffi.new("char[]", b"key")
_P_DIGEST = ffi.new("char[]", b"digest")
_P_SHA256 = ffi.new("char[]", b"SHA256")
_UNMODIFIED = ffi.cast("size_t", -1)  # OSSL_PARAM_UNMODIFIED
_AES_128_CBC = lib.EVP_aes_128_cbc()
_AES_256_CBC = lib.EVP_aes_256_cbc()


# Held by the Python callback while it reads a context's keys and hands them to OpenSSL (which
# copies them into the cipher and MAC contexts), and by KeySet.wipe: a handshake in another thread
# (cffi releases the GIL in every OpenSSL call) never reads keys being zeroed, nor memory freed
# after.  Re-entrant: a finalizer run by the garbage collector inside the callback may wipe
# another context's keys.
_LOCK = threading.RLock()


def wipe(buf: Any) -> None:
    """Zero ``buf`` in place: a ``bytearray`` (or writable memoryview) or cffi memory."""
    if isinstance(buf, (bytearray, memoryview)):
        buf[:] = bytes(len(buf))
    else:
        size = ffi.sizeof(buf)
        ffi.memmove(buf, bytes(size), size)


class KeySet:
    """Ticket keys in cffi memory this object owns, zeroed by :meth:`wipe` (see "Key memory").

    ``buf`` holds the keys in their layout: Node's (n*48 bytes: name, HMAC key, AES key of 16
    each; AES-128-CBC) or OpenSSL's own (80 bytes: name 16, HMAC key 32, AES key 32;
    AES-256-CBC).  :attr:`entries` holds one :data:`Entry` per key, the first one current.
    """

    __slots__ = ("buf", "size", "count", "entries", "_params")

    def __init__(self, buf: Any, openssl_layout: bool = False) -> None:
        self.buf = buf
        self.size = ffi.sizeof(buf)
        if openssl_layout:
            layout = [(0, 32, _AES_256_CBC)]
        else:
            layout = [(i, 16, _AES_128_CBC) for i in range(0, self.size, KEY_SIZE)]
        self.count = len(layout)
        self._params = ffi.new("OSSL_PARAM[]", 3 * self.count)  # zeroed: every third ends one
        entries = []
        for n, (off, secret, cipher) in enumerate(layout):
            params = self._params + 3 * n
            params[0].key = _P_KEY
            params[0].data_type = C.OSSL_PARAM_OCTET_STRING
            params[0].data = buf + off + 16
            params[0].data_size = secret
            params[0].return_size = _UNMODIFIED
            params[1].key = _P_DIGEST
            params[1].data_type = C.OSSL_PARAM_UTF8_STRING
            params[1].data = _P_SHA256
            params[1].data_size = 6
            params[1].return_size = _UNMODIFIED
            name = bytes(ffi.buffer(buf + off, 16))  # public: every ticket carries it in clear
            entries.append((name, buf + off + 16 + secret, params, cipher))
        self.entries: tuple[Entry, ...] = tuple(entries)

    @classmethod
    def copy_of(cls, keys: Any) -> KeySet:
        """A KeySet of Node's layout holding a copy of ``keys`` (a validated n*48-byte buffer),
        made without an intermediate ``bytes``."""
        view = memoryview(keys)
        if not view.c_contiguous:
            flat = SecretBytes(view)  # a strided memoryview: made contiguous, then wiped
            try:
                return cls.copy_of(flat)
            finally:
                wipe(flat)
        size = view.nbytes
        buf = ffi.new("unsigned char[]", size)
        ffi.memmove(buf, view.cast("B") if view.format != "B" else view, size)
        return cls(buf)

    @classmethod
    def random(cls) -> KeySet:
        """One fresh random key of Node's layout (``RAND_bytes``), as Node creates one per
        context."""
        buf = ffi.new("unsigned char[]", KEY_SIZE)
        _rand_into(buf, KEY_SIZE)
        return cls(buf)

    def __bytes__(self) -> bytes:
        """A copy for the caller (``get_ticket_keys``): the caller's to keep."""
        return bytes(ffi.buffer(self.buf, self.size))

    def wipe(self) -> None:
        """Zero the keys and forget the entries (the Python callback then knows no key); waits
        for a Python callback that is using them in another thread."""
        with _LOCK:
            self.entries = ()
            wipe(self.buf)


class ContextKeys:
    """One context's key memory: its keys (``keys``, Node's layout) and OpenSSL's own keys whose
    tickets it still accepts (``legacy``).  Whatever is replaced or dropped is wiped at once;
    :meth:`wipe` wipes the rest (the context's close, or a ``weakref.finalize`` of it)."""

    __slots__ = ("keys", "legacy")

    def __init__(self, keys: KeySet, legacy: KeySet | None) -> None:
        self.keys = keys
        self.legacy = legacy

    def replace(self, keys: KeySet, keep_legacy: bool) -> None:
        """Use ``keys`` from now on (wiping the previous ones, and OpenSSL's unless kept)."""
        old, self.keys = self.keys, keys
        if old is not keys:
            old.wipe()
        if not keep_legacy and self.legacy is not None:
            legacy, self.legacy = self.legacy, None
            legacy.wipe()

    def wipe(self) -> None:
        self.keys.wipe()
        if self.legacy is not None:
            self.legacy.wipe()


def _rand_into(buf: Any, size: int) -> None:
    if lib.RAND_bytes(buf, size) != 1:  # pragma: no cover - RNG failure
        lib.ERR_clear_error()
        raise RuntimeError("RAND_bytes failed")


# ---------------------------------------------------------------------------- validation


def validate_keys(keys: Any, name: str = "ticket_keys") -> memoryview:
    """Check ``keys`` is bytes-like of n*48 bytes (n >= 1) and return a view of it (no copy).

    Raises ``TypeError`` (``ERR_INVALID_ARG_TYPE``) for other types and ``ValueError``
    (``ERR_INVALID_ARG_VALUE``) for a wrong length; both name the option.  Node accepts exactly
    48 bytes; nodetls accepts several keys (the first issues tickets).
    """
    if isinstance(keys, str) or not isinstance(keys, (bytes, bytearray, memoryview)):
        raise InvalidArgTypeError(
            f'The "{name}" property must be an instance of bytes, bytearray or memoryview. '
            f"Received {type(keys).__name__}"
        )
    view = memoryview(keys)
    if not view.nbytes or view.nbytes % KEY_SIZE:
        raise InvalidArgValueError(
            f"The property '{name}' must be a multiple of {KEY_SIZE} bytes (at least {KEY_SIZE}). "
            f"Received {view.nbytes}",
            "ERR_INVALID_ARG_VALUE",
        )
    return view


def openssl_keys(ctx: Any) -> KeySet | None:
    """OpenSSL's own ticket keys of ``ctx`` (``name[16] | hmac[32] | aes[32]``), read straight
    into a KeySet's memory; ``None`` if OpenSSL will not tell."""
    buf = ffi.new("unsigned char[]", _OPENSSL_KEYS_SIZE)
    if lib.SSL_CTX_ctrl(ctx, C.SSL_CTRL_GET_TLSEXT_TICKET_KEYS, _OPENSSL_KEYS_SIZE, buf) != 1:
        lib.ERR_clear_error()  # pragma: no cover - the size is OpenSSL 3's
        return None
    return KeySet(buf, openssl_layout=True)


def random_key() -> bytearray:
    """A fresh random 48-byte key (``RAND_bytes``) in a ``bytearray`` the caller wipes (a
    :class:`~nodetls._option_table.SecretBytes`: its ``repr()`` shows no key)."""
    key = SecretBytes(KEY_SIZE)
    _rand_into(ffi.from_buffer("unsigned char[]", key), KEY_SIZE)
    return key


# ---------------------------------------------------------------------------- registries


_UINTPTR = ffi.typeof("uintptr_t")


def _addr(ptr: Any) -> int:
    return int(ffi.cast(_UINTPTR, ptr))


# SSL_CTX address -> context (weak: a context never stays alive because of the registry).
_by_ctx: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
# SSL* (the cdata: cffi pointers hash by address) -> context (strong: the keys must outlive
# every SSL that may use them).
_by_ssl: dict[Any, Any] = {}


def install(ctx: Any, context: KeyHolder) -> bool:
    """Install the ticket-key callback on ``ctx`` (the C one when :data:`NATIVE`) and register
    ``context`` as its key holder; :func:`publish` gives the C callback the keys.  Returns whether
    each connection must be bound (:func:`bind_ssl`): only the Python callback needs that."""
    if NATIVE:
        ok = lib.nodetls_tk_install(ctx) == 1
    else:
        ok = lib.SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_key_cb) == 1
    if not ok:  # pragma: no cover - out of memory
        lib.ERR_clear_error()
        raise RuntimeError("SSL_CTX_set_tlsext_ticket_key_evp_cb failed")
    # The callback decides renewal itself (older keys and OpenSSL's own renew).
    lib.SSL_CTX_set_session_ticket_cb(ctx, ffi.NULL, ffi.NULL, ffi.NULL)
    _by_ctx[_addr(ctx)] = context
    return not NATIVE


def publish(ctx: Any, keys: KeySet, legacy: KeySet | None) -> None:
    """Hand ``ctx``'s C callback its keys (Node's 48-byte keys, the first current, and OpenSSL's own
    80-byte key or ``None``), replacing the ones it had (the C side copies them and wipes the
    table it drops); nothing when the Python callback serves ``ctx`` (it reads the context's
    attributes).  Call after every change of keys."""
    if not hasattr(lib, "nodetls_tk_set"):
        return
    extra, extra_size = (legacy.buf, legacy.size) if legacy is not None else (ffi.NULL, 0)
    if lib.nodetls_tk_set(ctx, keys.buf, keys.count, extra, extra_size) < 0:
        lib.ERR_clear_error()  # pragma: no cover - out of memory
        raise MemoryError("nodetls_tk_set failed")


def no_renewal_on_resumption(ctx: Any) -> None:
    """Make ``ctx``, while OpenSSL's own ticket keys serve it, resume a ticket without issuing a
    new one, as Node's ticket callback does (OpenSSL's own keys renew every TLS 1.3 ticket).
    In C when :data:`NATIVE` (no Python per resumption), else :data:`use_without_renewal_cb`.
    When :data:`NATIVE`, those keys are also served by the C callback that fetches its
    algorithms once (see the module docstring; if it cannot be set up, OpenSSL's built-in code
    serves them, with the same tickets)."""
    if NATIVE:
        lib.nodetls_no_renewal_on_resumption(ctx)
        lib.nodetls_tk_own(ctx)
    else:
        lib.SSL_CTX_set_session_ticket_cb(ctx, ffi.NULL, use_without_renewal_cb, ffi.NULL)


def uninstall(ctx: Any, context: KeyHolder) -> None:
    """Forget ``ctx`` (called when its owner frees it), if it still maps to ``context``."""
    addr = _addr(ctx)
    if _by_ctx.get(addr) is context:
        del _by_ctx[addr]


def bind_ssl(ssl: Any, context: KeyHolder) -> None:
    """Serve ``ssl``'s tickets with ``context``'s keys (call right after ``SSL_new``).  The C
    callback needs this only when ``context`` is not the one ``ssl`` was created on."""
    _by_ssl[ssl] = context
    ctx = getattr(context, "ctx", None)
    if ctx is not None and hasattr(lib, "nodetls_tk_bind"):
        lib.nodetls_tk_bind(ssl, ctx)


def unbind_ssl(ssl: Any) -> None:
    """Forget ``ssl`` (call before ``SSL_free``), for both callbacks: from now on the keys of
    ``SSL_get_SSL_CTX(ssl)`` serve it.  Unknown pointers are ignored."""
    _by_ssl.pop(ssl, None)
    if hasattr(lib, "nodetls_tk_bind"):
        lib.nodetls_tk_bind(ssl, ffi.NULL)


def in_use(context: KeyHolder) -> bool:
    """Whether a connection is bound to ``context`` (so the Python callback may still read its
    keys): its owner then leaves the keys to be wiped when it is collected."""
    return any(holder is context for holder in list(_by_ssl.values()))  # (a snapshot: threads)


def _holder(ssl: Any) -> Any:
    holder = _by_ssl.get(ssl)
    if holder is None:
        holder = _by_ctx.get(_addr(lib.SSL_get_SSL_CTX(ssl)))
    return holder


def _keys_for(ssl: Any) -> tuple[Entry, ...]:
    holder = _by_ssl.get(ssl) or _holder(ssl)
    if holder is None:
        return ()
    keys: tuple[Entry, ...] = holder.ticket_key_list
    return keys


# ---------------------------------------------------------------------------- the callback

def _encrypt(ssl: Any, key_name: Any, iv: Any, cctx: Any, hctx: Any) -> int:
    # Runs for every ticket issued (two per TLS 1.3 full handshake): few calls.
    keys = _keys_for(ssl)
    if not keys:
        return 0  # no keys known for this connection: issue no ticket, handshake goes on
    name, aes, params, cipher = keys[0]
    key_name[0:16] = name
    if lib.RAND_bytes(iv, 16) != 1:
        return -1
    if lib.EVP_EncryptInit_ex(cctx, cipher, ffi.NULL, aes, iv) != 1:
        return -1
    if lib.EVP_MAC_CTX_set_params(hctx, params) != 1:
        return -1
    return 1


def _decrypt(ssl: Any, key_name: Any, iv: Any, cctx: Any, hctx: Any) -> int:
    name = ffi.buffer(key_name, 16)[:]
    for index, (key, aes, params, cipher) in enumerate(_keys_for(ssl)):
        if key != name:
            continue
        if lib.EVP_MAC_CTX_set_params(hctx, params) != 1:
            return -1
        if lib.EVP_DecryptInit_ex(cctx, cipher, ffi.NULL, aes, iv) != 1:
            return -1
        if index == 0:
            return 1  # current key: resume, the ticket stays valid (no new ticket, as Node)
        return 2  # older key: resume and issue a fresh ticket under the current key
    holder = _holder(ssl)
    legacy = holder.openssl_ticket_keys if holder is not None else ()
    if legacy and legacy[0][0] == name:
        # A ticket OpenSSL's own keys made before the context switched to ours: resume, renew.
        _, aes, params, cipher = legacy[0]
        if lib.EVP_MAC_CTX_set_params(hctx, params) != 1:
            return -1
        if lib.EVP_DecryptInit_ex(cctx, cipher, ffi.NULL, aes, iv) != 1:
            return -1
        return 2
    return 0  # unknown key name: full handshake (not an error)


def _report(ssl: Any, exc: BaseException) -> None:
    hook = on_error
    if hook is not None:
        try:
            hook(ssl, exc)
            return
        except BaseException as hook_exc:  # the hook itself failed: report that too
            exc = hook_exc
    _unraisable(exc)


class _Unraisable:
    """Python 3.11 has no public ``UnraisableHookArgs``; an exception escaping ``__del__`` is
    handed to ``sys.unraisablehook`` by the interpreter itself, which is what we want."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __del__(self) -> None:
        raise self.exc


def _unraisable(exc: BaseException) -> None:
    args_type = getattr(sys, "UnraisableHookArgs", None)
    if args_type is not None:  # pragma: no cover - newer Pythons
        sys.unraisablehook(
            args_type((type(exc), exc, exc.__traceback__, "nodetls ticket key callback", None))
        )
    else:
        _Unraisable(exc)


def _onerror(exc_type: Any, exc: BaseException, tb: Any) -> None:
    """cffi safety net for an exception raised before the ``try`` runs (a signal)."""
    frame = tb.tb_frame if tb is not None else None
    ssl = frame.f_locals.get("ssl") if frame is not None else None
    _report(ssl, exc)


@ffi.callback(
    "int(SSL *, unsigned char *, unsigned char *, EVP_CIPHER_CTX *, EVP_MAC_CTX *, int)",
    error=-1,
    onerror=_onerror,
)
def ticket_key_cb(ssl: Any, key_name: Any, iv: Any, cctx: Any, hctx: Any, enc: int) -> int:
    """``SSL_CTX_set_tlsext_ticket_key_evp_cb`` callback shared by every context.

    Returns (enc=1) 1 = ticket encrypted, 0 = no ticket, -1 = failure; (enc=0) 0 = unknown key,
    1 = ok, 2 = ok and renew, -1 = failure.  Failures come with ``on_error`` reporting why.
    """
    try:
        with _LOCK:  # the keys cannot be wiped while OpenSSL copies them (see _LOCK)
            if enc:
                return _encrypt(ssl, key_name, iv, cctx, hctx)
            return _decrypt(ssl, key_name, iv, cctx, hctx)
    except BaseException as exc:
        _report(ssl, exc)
        return -1


@ffi.callback("int(SSL *, SSL_SESSION *, const unsigned char *, size_t, int, void *)",
              error=C.SSL_TICKET_RETURN_IGNORE_RENEW)
def use_without_renewal_cb(ssl: Any, sess: Any, name: Any, name_len: int, status: int,
                           arg: Any) -> int:
    """``SSL_CTX_set_session_ticket_cb`` decrypt callback of contexts on OpenSSL's own keys
    (ABI mode's; C's ``nodetls_use_without_renewal`` does the same): a ticket that decrypted is used as it is (``USE``, never ``USE_RENEW``); anything else keeps
    OpenSSL's own answer (``IGNORE_RENEW``: a full handshake with a new ticket).  No Python
    exception can arise here; ``error=`` covers a signal."""
    if status == C.SSL_TICKET_SUCCESS or status == C.SSL_TICKET_SUCCESS_RENEW:
        return C.SSL_TICKET_RETURN_USE
    return C.SSL_TICKET_RETURN_IGNORE_RENEW
