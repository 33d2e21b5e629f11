"""What the engine does when OpenSSL calls back: the bodies of the trampolines in :mod:`.callbacks`.

:mod:`.callbacks` holds the ``ffi.callback`` trampolines (created once, at module level) and
their installation on contexts; each trampoline finds the connection's engine and calls one
``_cb_*`` method of :class:`_EngineCallbacks` on it, a base class of
:class:`~nodetls._engine.engine.TLSEngine` (its state, declared below, is the engine's).  These
run inside an OpenSSL call (a handshake step, a read): synchronous answers come from the
engine's ``hooks`` and callables, notifications are noted in :attr:`TLSEngine.events` for the
caller to drain, and an exception is stored by the trampoline and re-raised by the engine.
"""

from __future__ import annotations

from typing import Any, Final

from .._openssl import constants as C
from .._openssl import ffi, lib, macros
from . import _keycert, callbacks
from ._queries import _EngineQueries
from ._wire import (
    _der_of_x509,
    _find_alpn,
    _out_params,
    _parse_client_hello,
    _session_der,
    decode_alpn,
    session_from_der,
)
from .protocol import HANDSHAKE_DONE, ClientHello, HandshakeDone, KeylogLine, NewSession

NULL: Final = ffi.NULL  # (Final: a static C variable when compiled, not a dictionary lookup)


class _EngineCallbacks(_EngineQueries):
    """The ``_cb_*`` methods :mod:`.callbacks`' trampolines call, and what they share (the
    pending SNI context's lending, the noting of events)."""

    # The engine's state these read and write (defaults: TLSEngine's).
    hooks: Any
    events: list[KeylogLine | NewSession | HandshakeDone] | tuple[()]
    _ch_state: int
    _cert_state: int
    client_hello: ClientHello | None
    want_client_hello: bool
    want_cert: bool
    _prefetched_session: bytes | None
    _ocsp_response: bytes | None
    npn_selected: bytes | None
    reject_unauthorized: bool
    verify_error: int
    verify_depth: int
    identity_error: BaseException | None
    check_identity: Any
    handshake_complete: bool
    handshakes: int
    _pinned: tuple[Any, ...]
    sni_context: Any
    _exc: BaseException | None

    def _apply_pending_context(self) -> None:
        """Serve the connection with the context SNI chose (``use_context``), from within the
        client-hello or cert callback, before OpenSSL picks its certificate: the context lends
        its certificate, key, chain, verify store and client CA list, nothing else (Node's
        ``UseSNIContext`` + ``SetCACerts``, :func:`._keycert.lend_sni_context`); the connection's
        ``SSL_CTX`` (:attr:`context`: ciphers, options, callbacks, ticket keys, session id
        context) stays its first one.  A failure (a context without a certificate) is Node's:
        the handshake step goes on with what the connection has (the default certificate, or
        none: a handshake_failure alert), then fails with that error (node v20 leaves
        ``SSL_use_certificate``'s error queued, and its next ``SSL_get_error`` reports it)."""
        context = self._pending_context
        if context is not None:
            self._pending_context = None
            self.sni_context = context
            try:
                _keycert.lend_sni_context(self.ssl, context.ctx)
            except Exception as exc:  # noqa: BLE001  (raised once this OpenSSL call returns)
                if self._exc is None:
                    self._exc = exc

    def _cb_cert_verify(self, store: Any) -> int:
        # In place of OpenSSL's X509_verify_cert() call on the peer's chain (the context's cert
        # verify callback).  Node accepts every error in its verify callback and reads
        # SSL_get_verify_result() after the handshake: the store's error once the verification
        # is done, i.e. the *last* error OpenSSL reported (it checks name constraints, RFC 3779
        # and policies after the chain's signatures and dates).  We verify the same way (the
        # store's verify callback accepts everything), then decide: when rejecting, the
        # handshake fails here with that error in the store (SSL_get_verify_result()), so
        # OpenSSL sends the matching alert (our deliberate difference: README).  The identity
        # check runs only on a verified chain (Node's onConnectSecure: the chain's error wins).
        lib.X509_STORE_CTX_set_verify_cb(store, callbacks.accept_verify_cb)
        ok = lib.X509_verify_cert(store)
        code = lib.X509_STORE_CTX_get_error(store)
        if ok <= 0 and not code:  # (OpenSSL sets an error on every failure; never "verified")
            code = 1  # X509_V_ERR_UNSPECIFIED
            lib.X509_STORE_CTX_set_error(store, code)
        self.verify_error = code
        if code:
            self.verify_depth = lib.X509_STORE_CTX_get_error_depth(store)
            return 0 if self.reject_unauthorized else 1
        if self.check_identity is not None and not self.server:
            self._verify_store = store
            try:
                err_obj = self.check_identity(
                    _der_of_x509(lib.X509_STORE_CTX_get_current_cert(store)))
            finally:
                self._verify_store = None
            if err_obj is not None:
                self.identity_error = err_obj
                if self.reject_unauthorized:
                    lib.X509_STORE_CTX_set_error(store, 62)  # HOSTNAME_MISMATCH -> bad_certificate
                    return 0
        return 1

    def _cb_client_hello(self, al: Any) -> int:
        state = self._ch_state
        if state == 2 or not self.want_client_hello:
            self._apply_pending_context()
            return C.SSL_CLIENT_HELLO_SUCCESS
        if state == 1:
            return C.SSL_CLIENT_HELLO_RETRY
        self.client_hello = ch = _parse_client_hello(self.ssl)
        if self.hooks is not None and self.hooks.on_client_hello(ch):
            self._ch_state = 1
            return C.SSL_CLIENT_HELLO_RETRY
        self._ch_state = 2
        self._apply_pending_context()
        return C.SSL_CLIENT_HELLO_SUCCESS

    def _cb_cert(self) -> int:
        state = self._cert_state
        if state == 2 or not self.want_cert:
            self._apply_pending_context()
            return 1
        if state == 1:
            return -1
        if self.hooks is not None and self.hooks.on_cert(self.servername()):
            self._cert_state = 1
            return -1
        self._cert_state = 2
        self._apply_pending_context()
        return 1

    def _cb_alpn_select(self, out: Any, outlen: Any, inp: Any, inlen: int) -> int:
        offered = bytes(ffi.buffer(inp, inlen))
        if self.alpn_callback is not None:
            choice = self.alpn_callback(decode_alpn(offered))
            if choice is None:
                return C.SSL_TLSEXT_ERR_ALERT_FATAL
            idx = _find_alpn(offered, choice)
            if idx < 0:
                return C.SSL_TLSEXT_ERR_ALERT_FATAL
            out[0] = inp + idx + 1
            outlen[0] = len(choice)
            return C.SSL_TLSEXT_ERR_OK
        wire = self._alpn_server_wire
        if wire is None:
            return C.SSL_TLSEXT_ERR_NOACK
        # Server preference order (Node uses SSL_select_next_proto with the server list first).
        for proto in decode_alpn(wire):
            idx = _find_alpn(offered, proto)
            if idx >= 0:
                out[0] = inp + idx + 1
                outlen[0] = len(proto)
                return C.SSL_TLSEXT_ERR_OK
        return C.SSL_TLSEXT_ERR_ALERT_FATAL

    def _cb_npn_select(self, out: Any, outlen: Any, inp: Any, inlen: int) -> int:
        offered = decode_alpn(bytes(ffi.buffer(inp, inlen)))
        ours = self.npn_client_protocols or []
        choice = next((p for p in ours if p in offered), ours[0] if ours else None)
        if choice is None:
            return C.SSL_TLSEXT_ERR_NOACK
        buf = ffi.new("unsigned char[]", choice)
        self._pinned = (*self._pinned, buf)
        out[0] = buf
        outlen[0] = len(choice)
        self.npn_selected = choice
        return C.SSL_TLSEXT_ERR_OK

    def _cb_status(self) -> int:
        resp = self._ocsp_response
        if resp is None:
            return C.SSL_TLSEXT_ERR_NOACK
        macros.SSL_set_tlsext_status_ocsp_resp(self.ssl, resp)
        return C.SSL_TLSEXT_ERR_OK

    def _note(self, event: KeylogLine | NewSession | HandshakeDone) -> None:
        events = self.events
        if type(events) is list:
            events.append(event)
        else:
            self.events = [event]

    def _cb_keylog(self, line: bytes) -> None:
        self._note(KeylogLine(line + b"\n"))

    def _cb_new_session(self, sess: Any) -> None:
        ln = _out_params()[2]
        p = lib.SSL_SESSION_get_id(sess, ln)
        n = ln[0]
        sid = ffi.buffer(p, n)[:] if n else b""
        self._note(NewSession(sid, _session_der(sess)))

    def _cb_get_session(self, sid: bytes, copy: Any) -> Any:
        # (kept until the handshake is done: after a HelloRetryRequest, OpenSSL looks the
        # second ClientHello's PSK up again)
        der = self._prefetched_session
        if not der:
            return NULL
        sess = session_from_der(der)
        if sess == NULL:
            return NULL
        ln = _out_params()[2]
        p = lib.SSL_SESSION_get_id(sess, ln)
        if ffi.buffer(p, ln[0])[:] != sid:
            # The cache answered with another session than the one asked for (a store bug, a
            # session of another server): a miss, so a full handshake, where OpenSSL would try
            # to resume with keys the client does not have (TLS 1.3: an illegal_parameter alert).
            lib.SSL_SESSION_free(sess)
            return NULL
        copy[0] = 0
        return sess

    def _cb_psk_server(self, identity: Any, psk: Any, max_len: int) -> int:
        ident = ffi.string(identity).decode("utf-8", "replace") if identity != NULL else ""
        key = self.hooks.psk_server(ident) if self.hooks is not None else None
        if not key:
            return 0
        if len(key) > max_len:
            raise ValueError(f"PSK is longer than {max_len} bytes")
        ffi.memmove(psk, key, len(key))
        return len(key)

    def _cb_psk_client(self, hint: Any, identity: Any, max_id: int, psk: Any, max_psk: int) -> int:
        h = ffi.string(hint).decode("utf-8", "replace") if hint != NULL else None
        answer = self.hooks.psk_client(h) if self.hooks is not None else None
        if answer is None:
            return 0
        ident, key = answer
        ident_b = ident.encode() if isinstance(ident, str) else bytes(ident)
        if len(ident_b) + 1 > max_id:
            raise ValueError(f"PSK identity is longer than {max_id - 1} bytes")
        if len(key) > max_psk:
            raise ValueError(f"PSK is longer than {max_psk} bytes")
        ffi.memmove(identity, ident_b + b"\0", len(ident_b) + 1)
        ffi.memmove(psk, key, len(key))
        return len(key)

    def _cb_handshake_start(self) -> None:
        self.handshakes += 1
        if self.hooks is not None:
            self.hooks.on_handshake_start(self.handshakes)

    def _cb_handshake_done(self) -> None:
        # The first handshake's end is do_handshake()'s DONE; a later one (a renegotiation,
        # inside SSL_read) is an event.  A server's HelloRequest is reported as a handshake of
        # its own, while the renegotiation it asks for is still pending: not an end (Node's
        # check too).  (OpenSSL 3 reports no end for TLS 1.3's post-handshake messages.)
        if self.handshake_complete and not lib.SSL_renegotiate_pending(self.ssl):
            self._note(HANDSHAKE_DONE)
