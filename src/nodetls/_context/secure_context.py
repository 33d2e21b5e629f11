"""``SecureContext``: one ``SSL_CTX`` and the small native actions Node's ``SecureContext`` has.

Node splits a secure context in two: the native ``SecureContext`` (``crypto_context.cc``) exposes
one method per OpenSSL action (``addCACert``, ``setCert``, ``setKey``, ``setCiphers``...), and
``configSecureContext`` (``lib/internal/tls/secure-context.js``) validates the options and calls
those methods in a fixed order.  Here the actions are the ``_add_ca_cert``/``_set_cert``/... methods
below and the orchestration is :func:`nodetls._context.config.config_secure_context`.

Ownership: the object owns one reference to ``ctx`` (``SSL_CTX_new``), dropped exactly once by
:meth:`SecureContext.close` (also run by ``__del__``).  Connections (``SSL_new``) hold their own
references, so closing a context in use is safe: it lives on until its last connection is freed.
Every ``X509``/``EVP_PKEY``/``X509_CRL`` read while configuring is freed before the method
returns; OpenSSL keeps its own references.

The certificate store: a context without ``ca`` shares the process-wide store of default roots
(:mod:`.root_certs`); :meth:`SecureContext._own_store` swaps in a private copy before anything is
added to it (``crl``, CA certificates from a ``pfx``).  ``SSL_CTX_get_cert_store(ctx)`` may
therefore return the shared store: never modify it (see :attr:`SecureContext.cert_store_shared`).
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Unpack

from .. import _option_table
from .._openssl import constants as C
from .._openssl import ffi, lib, macros
from .._openssl.errors import consume_errors, tls_error
from .._options import normalize
from ..errors import InvalidArgValueError
from . import pem, ticket_keys
from .ciphers import CipherSplit
from .config import config_secure_context
from .node_codes import context_error, drain
from .root_certs import add_roots_to, shared_root_store

if TYPE_CHECKING:
    from ..types import SecureContextOptions

__all__ = ["SecureContext", "create_secure_context", "CONTEXT_OPTIONS", "SecurityWarning"]

NULL = ffi.NULL
_live = 0  # SSL_CTX references held by SecureContext objects (leak checks, fuzz oracle)


def live_contexts() -> int:
    """How many ``SecureContext`` objects hold their ``SSL_CTX`` right now (leak checks)."""
    return _live

CONTEXT_OPTIONS: frozenset[str] = _option_table.names("C")
"""The option names ``SecureContext`` accepts (snake_case; Node's names are accepted too)."""

# Options always set (Node: SSLv2/3 off).  SSL_OP_ALL's bug workarounds except
# DONT_INSERT_EMPTY_FRAGMENTS (which would drop the TLS 1.0 CBC countermeasure, as CPython's ssl
# also leaves it out), no compression (CRIME), no SSLv3.  Renegotiation policy is the tls layer's.
BASE_OPTIONS = (
    (C.SSL_OP_ALL & ~C.SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS) | C.SSL_OP_NO_COMPRESSION
    | C.SSL_OP_NO_SSLv3
)
# Memory BIOs never block, so one SSL_write_ex encrypts a whole buffer (no partial writes, no
# loop per record); a write retried after WANT_READ may come from another address.
BASE_MODE = C.SSL_MODE_RELEASE_BUFFERS | C.SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
# As Node: no built-in server cache; the tls layer adds external-cache callbacks when listened to.
SESSION_CACHE_MODE = (
    C.SSL_SESS_CACHE_CLIENT | C.SSL_SESS_CACHE_SERVER | C.SSL_SESS_CACHE_NO_INTERNAL
    | C.SSL_SESS_CACHE_NO_AUTO_CLEAR
)

_SSL_CTRL_SELECT_CURRENT_CERT = 116
_SSL_CTRL_SET_CURRENT_CERT = 117
_SSL_CERT_SET_FIRST = 1
_SSL_CERT_SET_NEXT = 2
_X509_V_FLAG_CRL_CHECKS = C.X509_V_FLAG_CRL_CHECK | C.X509_V_FLAG_CRL_CHECK_ALL

_KEY_TYPES = {6: "RSA", 912: "RSA-PSS", 116: "DSA", 408: "EC", 1087: "Ed25519", 1088: "Ed448"}


@ffi.callback("int(SSL *, void *)", error=1)
def _cert_cb_noop(ssl: Any, arg: Any) -> int:
    """ABI mode's certificate callback of every context (``nodetls_cert_cb_install`` in C)."""
    return 1


def _install_cert_cb(ctx: Any) -> None:
    install = getattr(lib, "nodetls_cert_cb_install", None)
    if install is not None:
        install(ctx)
    else:
        lib.SSL_CTX_set_cert_cb(ctx, _cert_cb_noop, NULL)


class SecurityWarning(UserWarning):
    """Node's ``'SecurityWarning'`` process warnings (e.g. DH parameters under 2048 bits)."""


def _key_type(pkey: Any) -> int:
    return lib.EVP_PKEY_get_base_id(pkey)


def _key_type_name(base_id: int) -> str:
    return _KEY_TYPES.get(base_id, f"type {base_id}")


class SecureContext:
    """Node's ``tls.SecureContext``: an ``SSL_CTX`` configured from Node's options.

    ``SecureContext(options=None, **options)``: options under their snake_case or Node names
    (``ca``, ``allow_partial_trust_chain``, ``cert``, ``key``, ``passphrase``, ``pfx``, ``crl``,
    ``ciphers``, ``ecdh_curve``, ``dhparam``, ``honor_cipher_order``, ``min_version``,
    ``max_version``, ``secure_options``, ``session_id_context``, ``sigalgs``, ``ticket_keys``,
    ``session_timeout``), applied in the
    order of Node's ``configSecureContext``.  Everything is checked here: bad PEM, a wrong
    passphrase or a key that does not match its certificate raise at creation
    (:class:`~nodetls.errors.ContextOptionError` with Node's ``ERR_OSSL_*`` code), never at
    handshake.

    Attributes:
        ctx: the ``SSL_CTX*`` (cdata); ``None`` after :meth:`close`.
        options: the normalised options dict (snake_case names).

    Raises:
        TypeError: an unknown option (naming the closest valid one) or a value of the wrong type.
        ValueError: a bad value; OpenSSL rejections are ``ContextOptionError`` (also a
            ``TLSError``), bad protocol versions ``ERR_TLS_INVALID_PROTOCOL_VERSION``.
    """

    ctx: Any

    def __init__(self, options: Mapping[str, Any] | None = None,
                 **kwargs: Unpack[SecureContextOptions]) -> None:
        self.ctx = None
        opts = normalize(options, kwargs, CONTEXT_OPTIONS, "options")
        del options, kwargs  # (a traceback's locals show ``opts``, whose repr hides secrets)
        self.options: dict[str, Any] = opts
        # No ticket keys of ours until asked for: OpenSSL's own keys serve (see ticket_keys).
        # Once given, their memory (wiped when replaced, or closed) and its wipe at collection.
        self._tk: ticket_keys.ContextKeys | None = None
        self._tk_finalizer: weakref.finalize[Any, Any] | None = None
        #: The Python ticket-key callback serves this context: each connection binds its SSL* to
        #: it (the C one, with the compiled binding, finds its context itself).
        self.binds_ssl = False
        self._keys_installed = False
        self._chains_der: list[list[bytes]] = []
        self._ca_der: list[bytes] = []
        self._leaf_types: list[int] = []
        self._store_shared = False
        ctx = lib.SSL_CTX_new(lib.TLS_method())
        if ctx == NULL:  # pragma: no cover - out of memory
            raise tls_error(consume_errors(ffi, lib), "SSL_CTX_new failed")
        self.ctx = ctx
        ticket_keys.no_renewal_on_resumption(ctx)
        global _live
        _live += 1
        try:
            config_secure_context(self, opts)
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Drop this object's reference to the ``SSL_CTX`` (exactly once; safe to repeat).
        Connections already created keep theirs."""
        ctx = self.ctx
        if ctx is None:
            return
        self.ctx = None
        ticket_keys.uninstall(ctx, self)
        lib.SSL_CTX_free(ctx)
        # The C tables went (or go with the last connection) with the SSL_CTX; ours are wiped now
        # unless a connection's Python callback may still read them (then at collection).
        if self._tk_finalizer is not None and not ticket_keys.in_use(self):
            self._tk_finalizer()
            self._tk = None
        global _live
        _live -= 1

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def __enter__(self) -> SecureContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self.ctx is None

    def _require_open(self) -> Any:
        if self.ctx is None:
            raise ValueError("SecureContext is closed")
        return self.ctx

    # ------------------------------------------------------------------ read-only views
    @property
    def cert_chain_der(self) -> list[list[bytes]]:
        """DER certificates of each configured chain (``cert`` items, then ``pfx``), leaf first."""
        return [list(chain) for chain in self._chains_der]

    @property
    def ca_der(self) -> list[bytes]:
        """DER of every certificate given in ``ca``, in order."""
        return list(self._ca_der)

    @property
    def has_cert(self) -> bool:
        """Whether a certificate (with its key) is configured (``cert``/``key`` or ``pfx``)."""
        return bool(self._chains_der)

    @property
    def session_timeout(self) -> int:
        """Session lifetime in seconds (``SSL_CTX_get_timeout``; 300 unless configured)."""
        return int(lib.SSL_CTX_get_timeout(self._require_open()))

    @property
    def min_version(self) -> int:
        """Lowest protocol version as OpenSSL's number (``0x303`` for TLS 1.2)."""
        return int(macros.SSL_CTX_get_min_proto_version(self._require_open()))

    @property
    def max_version(self) -> int:
        """Highest protocol version as OpenSSL's number (``0x304`` for TLS 1.3)."""
        return int(macros.SSL_CTX_get_max_proto_version(self._require_open()))

    @property
    def cert_store_shared(self) -> bool:
        """``True`` when the context uses the process-wide root store, which must not be
        modified (``SSL_CTX_get_cert_store`` returns it)."""
        return self._store_shared

    # ------------------------------------------------------------------ ticket keys
    @property
    def ticket_key_list(self) -> tuple[ticket_keys.Entry, ...]:
        """The ticket keys, the first one current, as the Python ticket callback uses them."""
        tk = self._tk
        return tk.keys.entries if tk is not None else ()

    @property
    def openssl_ticket_keys(self) -> tuple[ticket_keys.Entry, ...]:
        """OpenSSL's own keys (one entry), still accepted after :meth:`get_ticket_keys` switched
        this context to ours (``()``: none)."""
        tk = self._tk
        return tk.legacy.entries if tk is not None and tk.legacy is not None else ()

    def get_ticket_keys(self) -> bytes:
        """All ticket keys, n*48 bytes in Node's layout (16 name | 16 HMAC | 16 AES each): a new
        ``bytes``, the caller's (as Node's ``getTicketKeys`` returns a new Buffer).

        A context never given keys has used OpenSSL's own until now: it gets a random key of
        Node's layout here (as Node creates one per context), and tickets issued before keep
        resuming.  (A closed context has wiped its keys: it answers a fresh random key.)"""
        if self._tk is None:
            self._use_ticket_keys(ticket_keys.KeySet.random(), keep_openssl=True)
        assert self._tk is not None
        return bytes(self._tk.keys)

    def set_ticket_keys(self, keys: bytes | bytearray | memoryview) -> None:
        """Replace the ticket keys with ``keys`` (n*48 bytes, n >= 1): the first encrypts new
        tickets, all decrypt, and a ticket under a later key is renewed.  Node takes exactly 48
        bytes; ``setTicketKeys(new)`` invalidates every outstanding ticket, as here with n = 1.
        ``keys`` is copied (without an intermediate ``bytes``) into memory this context wipes
        when the keys are replaced or the context is closed; ``keys`` itself stays the caller's.

        Raises:
            TypeError: ``keys`` is not bytes-like.
            ValueError: the length is not a positive multiple of 48.
        """
        self._use_ticket_keys(ticket_keys.KeySet.copy_of(ticket_keys.validate_keys(keys)))

    def _use_ticket_keys(self, keys: ticket_keys.KeySet, keep_openssl: bool = False) -> None:
        """Serve tickets with ``keys`` (Node's layout; this context owns them from now on)
        through the ticket callback, wiping the keys they replace; ``keep_openssl``: still accept
        tickets OpenSSL's own keys made so far (else their copy is wiped)."""
        ctx = self.ctx
        tk = self._tk
        if tk is None:
            legacy = ticket_keys.openssl_keys(ctx) if keep_openssl and ctx is not None else None
            tk = self._tk = ticket_keys.ContextKeys(keys, legacy)
            self._tk_finalizer = weakref.finalize(self, tk.wipe)
        else:
            tk.replace(keys, keep_openssl)
        if not self._keys_installed and ctx is not None:
            self.binds_ssl = ticket_keys.install(ctx, self)
            self._keys_installed = True
        if ctx is not None:
            ticket_keys.publish(ctx, tk.keys, tk.legacy)

    def bind_ssl(self, ssl: Any) -> None:
        """Serve ``ssl``'s session tickets with this context's keys (the engine calls this right
        after ``SSL_new``; the ticket callback runs on the original context after SNI)."""
        ticket_keys.bind_ssl(ssl, self)

    def unbind_ssl(self, ssl: Any) -> None:
        """Forget ``ssl`` (the engine calls this before ``SSL_free``)."""
        ticket_keys.unbind_ssl(ssl)

    # ------------------------------------------------------------------ native actions
    # One method per OpenSSL action, as Node's native SecureContext; config.py calls them in
    # Node's order.  ``option`` is the name used in error messages ("options.cert").

    def _init(self, min_version: int, max_version: int, secure_options: int) -> None:
        """Node's ``SecureContext::Init`` plus ``setOptions``: base options and modes, the
        session-cache mode and protocol range (the ticket-key callback only once keys are given),
        and a certificate callback that returns 1: Node's TLSWrap gives every SSL one
        (``SSLCertCallback``, which returns 1 when nothing waits for it), and OpenSSL 3.0 lets a
        server with any certificate callback choose TLS 1.3 without checking its certificates
        first (``is_tls13_capable``).  So a server whose EC certificate no TLS 1.3 signature
        algorithm can sign for (secp256k1) fails a TLS 1.3 client's handshake with Node's
        ``ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM``, and an ECDSA server skips that check (~4k
        instructions per handshake).  A connection's own callback (``SNICallback``,
        ``'OCSPRequest'``) replaces it."""
        ctx = self.ctx
        lib.SSL_CTX_set_options(ctx, BASE_OPTIONS | secure_options)
        macros.SSL_CTX_set_mode(ctx, BASE_MODE)
        macros.SSL_CTX_set_session_cache_mode(ctx, SESSION_CACHE_MODE)
        macros.SSL_CTX_set_min_proto_version(ctx, min_version)
        macros.SSL_CTX_set_max_proto_version(ctx, max_version)
        _install_cert_cb(ctx)

    def _set_security_level(self, level: int) -> None:
        lib.SSL_CTX_set_security_level(self.ctx, level)

    def _add_root_certs(self) -> None:
        """Use the shared store of default roots (Node's ``addRootCerts``)."""
        store = shared_root_store()
        lib.X509_STORE_up_ref(store)
        lib.SSL_CTX_set_cert_store(self.ctx, store)  # takes our reference, frees the old store
        self._store_shared = True

    def _own_store(self) -> Any:
        """The context's store, made private (a copy of the default roots) if it was shared."""
        if self._store_shared:
            store = lib.X509_STORE_new()
            if store == NULL:  # pragma: no cover - out of memory
                raise MemoryError("X509_STORE_new failed")
            add_roots_to(store)
            lib.SSL_CTX_set_cert_store(self.ctx, store)
            self._store_shared = False
        return lib.SSL_CTX_get_cert_store(self.ctx)

    def _set_allow_partial_trust_chain(self) -> None:
        """Node's ``setAllowPartialTrustChain`` (``allowPartialTrustChain``, Node v20.18):
        ``X509_V_FLAG_PARTIAL_CHAIN`` on the context's own store, so a trusted certificate that is
        not self-signed (an intermediate CA in ``ca``, or the peer's certificate itself) ends a
        chain as a trust anchor."""
        lib.X509_STORE_set_flags(self._own_store(), C.X509_V_FLAG_PARTIAL_CHAIN)

    def _add_ca_cert(self, data: bytes, option: str) -> None:
        """Trust every certificate of ``data`` and offer it in the client-CA list
        (``X509_STORE_add_cert`` + ``SSL_CTX_add_client_CA``, as Node's ``addCACert``)."""
        certs = pem.read_certificates(data, option, what="CA certificate")
        try:
            store = self._own_store()
            for x509 in certs:
                if lib.X509_STORE_add_cert(store, x509) != 1:
                    raise context_error(option, "cannot add the CA certificate")
                if lib.SSL_CTX_add_client_CA(self.ctx, x509) != 1:
                    raise context_error(option, "cannot add the client CA name")
                self._ca_der.append(pem.x509_der(x509))
        finally:
            pem.free_x509s(certs)

    def _use_chain(self, leaf: Any, extra: list[Any], option: str) -> None:
        """Install ``leaf`` in its key type's slot and ``extra`` as that slot's chain."""
        ctx = self.ctx
        lib.ERR_clear_error()
        if lib.SSL_CTX_use_certificate(ctx, leaf) != 1:
            raise context_error(option, "cannot use the certificate")
        macros.SSL_CTX_clear_chain_certs(ctx)
        for x509 in extra:
            if macros.SSL_CTX_add1_chain_cert(ctx, x509) != 1:
                raise context_error(option, "cannot add the intermediate certificate")
        self._chains_der.append([pem.x509_der(leaf)] + [pem.x509_der(x) for x in extra])
        pubkey = lib.X509_get0_pubkey(leaf)
        if pubkey != NULL:
            self._leaf_types.append(_key_type(pubkey))

    def _set_cert(self, data: bytes, option: str) -> None:
        """Leaf + intermediates from one PEM chain (Node's ``setCert``)."""
        certs = pem.read_certificates(data, option)
        try:
            self._use_chain(certs[0], certs[1:], option)
        finally:
            pem.free_x509s(certs)

    def _use_key(self, pkey: Any, option: str) -> None:
        """``SSL_CTX_use_PrivateKey`` then ``SSL_CTX_check_private_key`` on the key's slot."""
        ctx = self.ctx
        lib.ERR_clear_error()
        if lib.SSL_CTX_use_PrivateKey(ctx, pkey) != 1:
            raise context_error(option, "the private key does not match the certificate")
        if lib.SSL_CTX_check_private_key(ctx) != 1:
            records = drain()
            kind = _key_type_name(_key_type(pkey))
            if self._leaf_types:
                # The slot of this key type has no certificate: another type was given.
                raise context_error(
                    option, f"the {kind} private key matches no certificate in options.cert",
                    [], code="ERR_OSSL_X509_KEY_VALUES_MISMATCH",
                )
            article = "a" if kind.startswith(("DSA", "type")) else "an"  # (an RSA, an EC)
            raise context_error(option, f"{article} {kind} private key was given without its "
                                "certificate", records)

    def _set_key(self, data: pem.Buffer, passphrase: pem.Buffer | None, option: str) -> None:
        """A private key, decrypted with ``passphrase`` (Node's ``setKey``)."""
        pkey = pem.read_private_key(data, passphrase, option)
        try:
            self._use_key(pkey, option)
        finally:
            lib.EVP_PKEY_free(pkey)

    def _load_pkcs12(self, data: pem.Buffer, passphrase: pem.Buffer | None, option: str) -> None:
        """Certificate, key and chain from PKCS#12 (Node's ``loadPKCS12``).  As in Node, the
        extra certificates are also trusted and offered as client CAs."""
        pkey, leaf, extra = pem.read_pkcs12(data, passphrase, option)
        try:
            self._use_chain(leaf, extra, option)
            self._use_key(pkey, option)
            if extra:
                store = self._own_store()
                for x509 in extra:
                    lib.X509_STORE_add_cert(store, x509)
                    lib.SSL_CTX_add_client_CA(self.ctx, x509)
                lib.ERR_clear_error()
        finally:
            lib.EVP_PKEY_free(pkey)
            lib.X509_free(leaf)
            pem.free_x509s(extra)

    def _check_certificates_have_keys(self) -> None:
        """Every configured certificate must have its private key (else the handshake would
        fail later).  Walks the complete (certificate + key) slots with
        ``SSL_CTX_set_current_cert`` and compares their key types with the certificates'."""
        if not self._leaf_types:
            return
        ctx = self.ctx
        complete: set[int] = set()
        op = _SSL_CERT_SET_FIRST
        while lib.SSL_CTX_ctrl(ctx, _SSL_CTRL_SET_CURRENT_CERT, op, NULL) == 1:
            x509 = lib.SSL_CTX_get0_certificate(ctx)
            pubkey = lib.X509_get0_pubkey(x509) if x509 != NULL else NULL
            if pubkey != NULL:
                complete.add(_key_type(pubkey))
            op = _SSL_CERT_SET_NEXT
        lib.ERR_clear_error()
        missing = [t for t in dict.fromkeys(self._leaf_types) if t not in complete]
        if missing:
            kinds = ", ".join(_key_type_name(t) for t in missing)
            raise context_error(
                "options.key", f"no private key was given for the {kinds} certificate", [],
                code="ERR_SSL_NO_PRIVATE_KEY_ASSIGNED",
            )

    def _set_sigalgs(self, sigalgs: str, option: str) -> None:
        lib.ERR_clear_error()
        if macros.SSL_CTX_set1_sigalgs_list(self.ctx, sigalgs.encode()) != 1:
            raise context_error(option, f"Failed to set sigalgs {sigalgs!r}",
                                code="ERR_CRYPTO_OPERATION_FAILED")

    def _set_ciphers(self, split: CipherSplit, option: str) -> None:
        """Node's ``setCipherSuites`` + ``setCiphers``: TLS 1.3 suites when given, then the
        TLS 1.2 list; an empty TLS 1.2 list deliberately clears them (not an error)."""
        ctx = self.ctx
        lib.ERR_clear_error()
        if split.cipher_suites:
            if lib.SSL_CTX_set_ciphersuites(ctx, split.cipher_suites.encode()) != 1:
                raise context_error(option, f"no TLS 1.3 cipher suite matches "
                                    f"{split.cipher_suites!r}")
        if lib.SSL_CTX_set_cipher_list(ctx, split.cipher_list.encode()) != 1:
            if split.cipher_list:
                raise context_error(option, f"no cipher matches {split.cipher_list!r}")
            lib.ERR_clear_error()

    def _set_ecdh_curve(self, curve: str, option: str) -> None:
        """``'auto'`` keeps OpenSSL's default groups; otherwise ``SSL_CTX_set1_groups_list``."""
        if curve == "auto":
            return
        lib.ERR_clear_error()
        # (OpenSSL 3.0, Node v20's, refuses an empty list, also one of blanks only; 3.2 and later
        # accept them: refused here.)
        if macros.SSL_CTX_set1_groups_list(self.ctx, curve.encode()) != 1 or not curve.strip():
            raise context_error(option, f"Failed to set ECDH curve {curve!r}",
                                code="ERR_CRYPTO_OPERATION_FAILED")

    def _set_dh_param(self, dhparam: bytes | str, option: str) -> None:
        """``'auto'`` -> ``SSL_CTX_set_dh_auto``; PEM -> those parameters.  Under 1024 bits is
        refused and under 2048 bits warns, as Node's ``setDHParam``; parameters OpenSSL refuses
        are ``ERR_CRYPTO_OPERATION_FAILED`` ("Error setting temp DH parameter"), as Node's."""
        if dhparam == "auto":
            macros.SSL_CTX_set_dh_auto(self.ctx, 1)
            return
        data = dhparam.encode() if isinstance(dhparam, str) else dhparam
        pkey = pem.read_dh_parameters(data, option)
        try:
            bits = lib.EVP_PKEY_get_bits(pkey)
            if bits < 1024:
                raise InvalidArgValueError(
                    f"{option}: DH parameter is less than 1024 bits ({bits})",
                    "ERR_INVALID_ARG_VALUE",
                )
            if bits < 2048:
                warnings.warn("DH parameter is less than 2048 bits", SecurityWarning,
                              stacklevel=4)  # the caller of SecureContext()
            lib.ERR_clear_error()
            if lib.SSL_CTX_set0_tmp_dh_pkey(self.ctx, pkey) != 1:
                # (Node's setDHParam: ERR_CRYPTO_OPERATION_FAILED whatever OpenSSL's reason,
                # e.g. a 2048-bit group under @SECLEVEL=3)
                raise context_error(option, "Error setting temp DH parameter",
                                    code="ERR_CRYPTO_OPERATION_FAILED")
            pkey = NULL  # owned by the context now
        finally:
            if pkey != NULL:
                lib.EVP_PKEY_free(pkey)

    def _add_crl(self, data: bytes, option: str) -> None:
        """Add the CRLs to a private store and check revocation for the whole chain
        (``X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL``), as Node's ``addCRL``."""
        crls = pem.read_crls(data, option)
        try:
            store = self._own_store()
            for crl in crls:
                if lib.X509_STORE_add_crl(store, crl) != 1:
                    raise context_error(option, "cannot add the CRL")
            lib.X509_STORE_set_flags(store, _X509_V_FLAG_CRL_CHECKS)
        finally:
            for crl in crls:
                lib.X509_CRL_free(crl)

    def _set_session_id_context(self, sid: bytes, option: str) -> None:
        lib.ERR_clear_error()
        if lib.SSL_CTX_set_session_id_context(self.ctx, sid, len(sid)) != 1:
            raise context_error(option, "cannot set the session id context")

    def _set_session_timeout(self, seconds: int) -> None:
        lib.SSL_CTX_set_timeout(self.ctx, seconds)

    def _bump_min_version_to_tls13(self) -> None:
        macros.SSL_CTX_set_min_proto_version(self.ctx, C.TLS1_3_VERSION)

    def __repr__(self) -> str:
        state = "closed" if self.ctx is None else f"ctx={int(ffi.cast('uintptr_t', self.ctx)):#x}"
        return f"<SecureContext {state} chains={len(self._chains_der)}>"


def create_secure_context(options: Mapping[str, Any] | None = None,
                          **kwargs: Unpack[SecureContextOptions]) -> SecureContext:
    """Node's ``tls.createSecureContext(options)``: a new :class:`SecureContext`."""
    # (checked here already, so that a traceback's locals of this frame hold no key)
    opts = normalize(options, kwargs, CONTEXT_OPTIONS, "options")
    del options, kwargs
    return SecureContext(opts)
