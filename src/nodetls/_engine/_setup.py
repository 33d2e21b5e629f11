"""The engine's configuration: what the TLS layer sets up on a connection before and during its
handshake (SNI, ALPN/NPN, verification, the callbacks it wants, PSK, sessions, renegotiation,
trace), and the answers that resume a paused handshake.

:class:`_EngineSetup` is a base class of :class:`~nodetls._engine.engine.TLSEngine` (its state,
declared below, is the engine's); none of these is on the per-record data path, which is
:mod:`._records`' (``_EngineRecords``, the class between this one and the engine).
"""

from __future__ import annotations

import threading
from typing import Any, Final

from .._openssl import constants as C
from .._openssl import ffi, lib, macros
from .._openssl.errors import consume_errors, tls_error
from . import _keycert, callbacks
from ._callback_bodies import _EngineCallbacks
from ._wire import encode_alpn, session_from_der
from .protocol import Pause, State

NULL: Final = ffi.NULL  # (Final: a static C variable when compiled, not a dictionary lookup)
_local: Final = threading.local()
#: The session lookup in C (``nodetls_sp_*``, see :meth:`_EngineSetup.enable_session_path`):
#: None in ABI mode, or when the compiled binding could not set it up.
_sp_enable: Final = lib.nodetls_sp_enable if callbacks.SESSION_PATH else None
_HANDSHAKING: Final = State.HANDSHAKING
_SECURE: Final = State.SECURE
_PAUSED_STATE: Final = State.PAUSED
_CLIENT_HELLO: Final = Pause.CLIENT_HELLO
_CERT: Final = Pause.CERT


def _sp_out() -> tuple[Any, Any]:
    """This thread's out-parameters of ``nodetls_sp_pending`` (an id, its kind)."""
    try:
        return _local.sp_out
    except AttributeError:
        pair = _local.sp_out = (ffi.new("unsigned char[]", 32), ffi.new("int *"))
        return pair


class _EngineSetup(_EngineCallbacks):
    """The setters and ``enable_*`` methods the TLS layer calls on a connection, and
    :meth:`resume` (after a pause) and :meth:`renegotiate`."""

    # The engine's state these read and write (defaults: TLSEngine's).
    initial_context: Any
    state: State
    paused: Pause | None
    read_more: bool
    session_path: bool
    _npn_buf: Any
    _trace_bio: Any
    _renegotiation_refused: bool
    _exc: BaseException | None

    def set_servername(self, name: str) -> None:
        macros.SSL_set_tlsext_host_name(self.ssl, name.encode("idna") if name else NULL)

    def set_alpn_protocols(self, protocols: list[bytes]) -> None:
        """Client: offer ``protocols``; server: choose from them (first of ours the client
        offers, Node's order)."""
        wire = encode_alpn(protocols)
        if self.server:
            self._alpn_server_wire = wire
            callbacks.enable(self.context, "alpn")
        else:
            lib.SSL_set_alpn_protos(self.ssl, wire, len(wire))

    def set_alpn_callback(self, fn: Any) -> None:
        """Server: ``fn(offered: list[bytes]) -> bytes | None`` chooses (sync)."""
        self.alpn_callback = fn
        callbacks.enable(self.context, "alpn")

    def set_npn_protocols(self, protocols: list[bytes]) -> None:
        wire = encode_alpn(protocols)
        if self.server:
            self._npn_wire = wire
            self._npn_buf = ffi.new("unsigned char[]", wire)
        else:
            self.npn_client_protocols = protocols
        callbacks.enable(self.context, "npn")

    def set_verify(self, request: bool, reject: bool, check_identity: Any = None) -> None:
        """Peer verification.  ``request``: ask for / check the peer certificate; ``reject``:
        fail the handshake (with the matching alert) on a verification or identity error;
        ``check_identity(leaf_der) -> Exception | None`` runs on the client at the leaf."""
        self.reject_unauthorized = reject
        self.check_identity = check_identity
        mode = C.SSL_VERIFY_NONE
        if request:
            mode = C.SSL_VERIFY_PEER
            if self.server and reject:
                mode |= C.SSL_VERIFY_FAIL_IF_NO_PEER_CERT
        # The context's cert verify callback verifies and decides (_cb_cert_verify); the SSL
        # has no verify callback of its own.
        callbacks.enable(self.context, "verify")
        lib.SSL_set_verify(self.ssl, mode, NULL)

    def enable_client_hello(self) -> None:
        self.want_client_hello = True
        callbacks.enable(self.context, "client_hello")

    def enable_cert_cb(self) -> None:
        # The cert callback lives in the SSL's own CERT (copied from the context at SSL_new),
        # so it is set on the SSL, not on the context.
        self.want_cert = True
        lib.SSL_set_cert_cb(self.ssl, callbacks.cert_cb, NULL)

    def enable_keylog(self) -> None:
        callbacks.enable(self.context, "keylog")

    def enable_session_callbacks(self) -> None:
        """Server: external cache (``'newSession'``/``'resumeSession'``); client: ``'session'``."""
        callbacks.enable(self.initial_context, "session")

    def enable_session_path(self) -> bool:
        """Server, before the handshake, with :meth:`enable_session_callbacks` and
        :meth:`enable_client_hello` done on its contexts: let the compiled binding decide in its
        client-hello callback whether an external cache can resume this connection, pause for
        it (:data:`Pause.CLIENT_HELLO`, the id in :meth:`pending_lookup`, no
        :class:`ClientHello` and no ``hooks.on_client_hello``), and answer the get-session
        callback with what :meth:`set_prefetched_session` gave, all without a Python callback.
        The decision is ``pause_points.client_hello``'s for the ids OpenSSL looks up (a TLS 1.3
        PSK identity only when it is 32 bytes: the only length OpenSSL's stateful lookup takes).
        False when the binding has no such path (ABI mode): nothing changed."""
        if _sp_enable is None or self.ssl is None:
            return False
        if not _sp_enable(self.ssl):
            raise MemoryError("no memory for the session lookup")
        self.session_path = True
        return True

    def pending_lookup(self) -> tuple[bytes, bool] | None:
        """With :meth:`enable_session_path`, while paused for the client hello: the id to look
        up and whether it is a TLS 1.3 ticket; None otherwise."""
        if not self.session_path or self.ssl is None:
            return None
        out = _sp_out()
        n = lib.nodetls_sp_pending(self.ssl, out[0], out[1])
        if n < 0:
            return None
        return ffi.buffer(out[0], n)[:], bool(out[1][0])

    def enable_ocsp_status(self) -> None:
        callbacks.enable(self.context, "status")

    def request_ocsp(self) -> None:
        macros.SSL_set_tlsext_status_type(self.ssl, C.TLSEXT_STATUSTYPE_ocsp)

    def enable_psk(self) -> None:
        if self.server:
            lib.SSL_set_psk_server_callback(self.ssl, callbacks.psk_server_cb)
        else:
            lib.SSL_set_psk_client_callback(self.ssl, callbacks.psk_client_cb)

    def set_psk_identity_hint(self, hint: str) -> bool:
        return bool(lib.SSL_use_psk_identity_hint(self.ssl, hint.encode()))

    def enable_handshake_counting(self) -> None:
        """Watch handshakes through OpenSSL's info callback: each start is counted and reported
        (``hooks.on_handshake_start``: the server's renegotiation limits) and each later
        handshake's end is noted as :data:`HANDSHAKE_DONE` (Node's ``onhandshakedone``)."""
        if self.ssl is not None:
            lib.SSL_set_info_callback(self.ssl, callbacks.info_cb)

    def enable_trace(self) -> None:
        """OpenSSL's protocol trace (``SSL_trace``) to stderr, as Node's ``enableTrace()``."""
        if self._trace_bio != NULL or self.ssl is None:
            return
        bio = lib.BIO_new_fd(2, 0)
        self._trace_bio = bio
        lib.SSL_set_msg_callback(self.ssl, lib.SSL_trace)
        macros.SSL_set_msg_callback_arg(self.ssl, bio)

    def set_renegotiation(self, allow_client: bool) -> None:
        """Server: allow client-initiated TLS 1.2 renegotiation (counted through the info
        callback, Node's ``CLIENT_RENEG_LIMIT``), or refuse the peer's renegotiations
        (``SSL_OP_NO_RENEGOTIATION``, which :meth:`renegotiate` lifts for one this side asks
        for, as Node's server may renegotiate; OpenSSL 3 refuses a client's without
        ``SSL_OP_ALLOW_CLIENT_RENEGOTIATION`` anyway)."""
        if allow_client:
            lib.SSL_set_options(self.ssl, C.SSL_OP_ALLOW_CLIENT_RENEGOTIATION)
            self.enable_handshake_counting()
        elif self.ssl is not None:
            lib.SSL_set_options(self.ssl, C.SSL_OP_NO_RENEGOTIATION)

    def disable_renegotiation(self) -> None:
        """Refuse any later renegotiation, either side's (``SSL_OP_NO_RENEGOTIATION``, kept)."""
        self._renegotiation_refused = True
        if self.ssl is not None:
            lib.SSL_set_options(self.ssl, C.SSL_OP_NO_RENEGOTIATION)

    def set_session(self, der: bytes) -> bool:
        """Offer a saved session (client).  False when ``der`` is not a session."""
        sess = session_from_der(der)
        if sess == NULL:
            return False
        try:
            return bool(lib.SSL_set_session(self.ssl, sess))
        finally:
            lib.SSL_SESSION_free(sess)

    # ---- resuming a paused handshake
    def use_context(self, context: Any) -> None:
        """Serve this connection with the context SNI chose (``SNICallback``, ``add_context``),
        while paused: recorded here, lent inside the re-invoked client-hello or cert callback
        (:meth:`_apply_pending_context`), which is where OpenSSL picks the certificate up.  As in
        Node, the context lends only its certificate, key, chain, verify store and client CA
        list; :attr:`context` stays the connection's ``SSL_CTX``."""
        self._pending_context = context

    def use_key_cert(self, context: Any) -> None:
        """Serve this connection with ``context``'s key, certificate and chain, and verify the
        peer's certificate with its store (Node's ``TLSWrap::SetKeyCert``; see
        :mod:`._keycert`).  Raises ``TLSError`` with OpenSSL's error."""
        if self.ssl is not None:
            _keycert.use_key_cert(self.ssl, context.ctx)

    @staticmethod
    def check_key_cert(context: Any) -> None:
        """Raise what :meth:`use_key_cert` would raise for ``context``, before any connection
        exists (``_keycert.check_key_cert``)."""
        _keycert.check_key_cert(context.ctx)

    def set_prefetched_session(self, der: bytes | None) -> None:
        if self.session_path:
            if der and self.ssl is not None:
                lib.nodetls_sp_found(self.ssl, der, len(der))
            return
        self._prefetched_session = der

    def set_ocsp_response(self, der: bytes | None) -> None:
        self._ocsp_response = der

    def resume(self) -> None:
        """The owner has answered; the next :meth:`do_handshake` continues."""
        if self.paused is _CLIENT_HELLO:
            self._ch_state = 2
            if self.session_path and self.ssl is not None:
                lib.nodetls_sp_resume(self.ssl)
        elif self.paused is _CERT:
            self._cert_state = 2
        self.paused = None
        if self.state is _PAUSED_STATE:
            self.state = _SECURE if self.handshake_complete else _HANDSHAKING
        self.read_more = True  # a paused renegotiation continues inside the next read

    def set_max_send_fragment(self, size: int) -> bool:
        return bool(macros.SSL_set_max_send_fragment(self.ssl, size))

    def renegotiate(self) -> None:
        """Mark a TLS 1.2 renegotiation (``SSL_renegotiate``, as Node's ``TLSWrap::Renegotiate``):
        nothing is sent yet, and the keying material stays the old one.  The ClientHello (a
        server's HelloRequest) is made by the next :meth:`write`, or :meth:`read` of data
        received; with nothing received, the caller sets ``read_more`` for a read to call
        ``SSL_read`` all the same (the TLS wrap's empty write, Node's empty write's
        ``ClearOut``: not here, so a renegotiation marked inside the pass that finished the
        handshake waits for that write, as Node's); the rest of the handshake is driven by
        :meth:`read`, which (unlike SSL_do_handshake) accepts application data interleaved with
        it.  Its end is noted as
        :data:`HANDSHAKE_DONE` (the info callback is installed here, if it was not)."""
        self.enable_handshake_counting()
        if self.server and not self._renegotiation_refused:
            lib.SSL_clear_options(self.ssl, C.SSL_OP_NO_RENEGOTIATION)
        if lib.SSL_renegotiate(self.ssl) != 1:
            raise tls_error(consume_errors(ffi, lib), "renegotiation failed")
