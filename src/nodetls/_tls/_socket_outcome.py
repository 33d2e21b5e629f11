"""``TLSSocket``'s handshake outcome (part of ``socket.py``): Node's ``onhandshakedone`` and
``_finishInit`` (``'secureConnect'``/``'secure'``/``'secureConnection'``, the verification
result, a client's OCSP staple), its TLS errors (``'tlsClientError'``, ``onConnectEnd``) and the
handshake timeout.

:class:`_TLSSocketOutcome` is a mixin of ``TLSSocket`` without state of its own
(``__slots__ = ()``).
"""

from __future__ import annotations

import asyncio
import errno
import logging
from typing import TYPE_CHECKING, Any

from .._engine import TLSEngine
from ..errors import CertificateError, NodeError, TLSError, node_error, system_error
from ..net import Socket
from .pause_points import _TLS1_3
from .renegotiation import release_for_error
from .template import IN_SWEEP

if TYPE_CHECKING:
    from ._socket_setup import _TLSSocketFields

    _Base = _TLSSocketFields
else:
    _Base = object

__all__ = ["_TLSSocketOutcome"]

_log = logging.getLogger("nodetls.tls")
_EPROTO = errno.EPROTO
_iscoroutine = asyncio.iscoroutine
_HANG_UP = "socket hang up"
_CONNECT_END = "Client network socket disconnected before secure TLS connection was established"
#: ``net.Socket``'s ``_on_handle_eof`` (a global read is specialised; an attribute of a class
#: is not on CPython 3.11).
_SOCKET_ON_EOF = Socket._on_handle_eof


#: OpenSSL's names of the TLS <= 1.2 ciphers that authenticate with the PSK
#: (``SSL_CIPHER_get_auth_nid`` is ``NID_auth_psk``; RSA-PSK's authentication is RSA's)
_PSK_AUTH_PREFIXES = ("PSK-", "DHE-PSK-", "ECDHE-PSK-")


def _psk_authenticated(eng: TLSEngine) -> bool:
    """Node's ``VerifyPeerCertificate`` test for a connection without a peer certificate."""
    if eng.session_reused() and eng.protocol_number() == _TLS1_3:
        return True
    cipher = eng.cipher()
    return cipher is not None and cipher["name"].startswith(_PSK_AUTH_PREFIXES)


class _TLSSocketOutcome(_Base):
    """``TLSSocket``'s handshake outcome and errors (a mixin: no state)."""

    __slots__ = ()
    #: ``docs/gen_reference.py`` lists this class's members as ``TLSSocket``'s own.
    _MEMBERS_OF_SUBCLASS = True

    def _tls_secure(self) -> None:
        """The handshake finished (Node's ``onhandshakedone`` + ``_finishInit``)."""
        wrap = self._wrap
        eng = wrap.engine if wrap is not None else None
        if eng is None:
            return
        if self._secure_established:
            self._tls_renegotiated()
            return
        timer = self._handshake_timer
        new_session_pending = self._new_session_pending
        if not new_session_pending and timer is not None:
            self._handshake_timer = None
            if timer is IN_SWEEP:  # (_stop_handshake_timer, inlined: every connection passes)
                self._tls_server._handshake_deadlines.pop(self, None)  # (the sweep stays armed)
            else:
                timer.cancel()
            self._handshake_timeout_off()
        self.secure_connecting = False
        alpn, npn, sn = eng.negotiated()
        self.alpn_protocol = alpn.decode("latin-1") if alpn else False
        if npn:
            self.npn_protocol = npn.decode("latin-1")
        if self._servername is None:  # (Node's _finishInit: unless its SNI callback set it)
            self._servername = sn if sn is not None else False
        if self._is_server:
            if self._tls_opts.get("request_cert"):
                self._server_verify_result(eng)
            if new_session_pending:
                # Node's _securePending (TLS 1.2): 'secureConnection' waits for the
                # 'newSession' callback, and so does the client (our Finished is held).
                self._secure_pending = True
                return
            self._emit_server_secure()
            # TLS 1.3: one 'newSession' per ticket, after 'secureConnection' (Node).
            deferred = self._deferred_new_sessions
            if deferred:
                self._deferred_new_sessions = ()
                for session_id, der in deferred:
                    if self.destroyed:
                        break
                    self._tls_session(session_id, der)
        else:
            self._client_verify_result(eng)
            if self.destroyed:
                return
            self._secure_established = True
            if self._tls_opts.get("request_ocsp") and not self._ocsp_response_seen:
                self._ocsp_response_seen = True
                resp = eng.stapled_ocsp_response()
                self._ocsp_staple = resp
                self.emit("OCSPResponse", resp)
                if self.listener_count("OCSPRequest"):
                    self.emit("OCSPRequest", resp)
                if self._tls_opts.get("ocsp") and not self.destroyed:
                    # Beyond Node: tls.connect(..., ocsp=...) checks the staple (nodetls.ocsp).
                    from .._ocsp_check import check_staple

                    peer = eng.peer_chain_der()
                    _, err = check_staple(resp, peer + eng.verified_chain_der()[1:])
                    if err is not None and (err.reason != "missing"
                                            or self._tls_opts["ocsp"] == "require"):
                        self.destroy(err)
                if self.destroyed:
                    return
            if self._is_client_connect:
                self.emit("secureConnect")
            self.emit("secure")
            if self.listener_count("secureConnection"):
                self.emit("secureConnection", self)
            pending, self._pending_sessions = self._pending_sessions, ()
            for der in pending:
                self._emit_session(der)

    def _emit_server_secure(self) -> None:
        self._secure_established = True
        if self._handshake_timer is not None:
            self._stop_handshake_timer()
            self._handshake_timeout_off()
        events = self._events
        if "secure" in events:  # (no emit call for an event nobody listens to)
            self.emit("secure")
        if "secureConnection" in events:
            self.emit("secureConnection", self)
        srv = self._tls_server
        if srv is not None and not self._destroyed:
            # The server's (emit(), without *args): EventEmitter._emit1's steps here, for a
            # server whose class does not override emit() (no call, the listener called
            # directly); otherwise through _emit1.
            if not srv._plain_emit:
                srv._emit1("secureConnection", self)
                return
            handlers = srv._events.get("secureConnection")
            if handlers is not None:
                for fn in handlers:
                    try:
                        r = fn(self)
                    except Exception as exc:
                        r = srv._listener_raised("secureConnection", fn, (self,), exc)
                    if r is not None and _iscoroutine(r):
                        srv._schedule("secureConnection", r, (self,))

    def _server_verify_result(self, eng: TLSEngine) -> None:
        """``authorized``/``authorization_error`` of a server that asked for a certificate.

        Without a client certificate, as Node's ``VerifyPeerCertificate``: authorized on a
        resumed TLS 1.3 session (TLS 1.3's PSK looks like a resumption) and with a PSK cipher
        (TLS 1.2 and lower), else ``UNABLE_TO_GET_ISSUER_CERT``."""
        if eng.peer_certificate_der() is None:
            if _psk_authenticated(eng):
                self.authorized = True
                return
            self.authorized = False
            self.authorization_error = "UNABLE_TO_GET_ISSUER_CERT"  # Node's value (sic)
            return
        code = eng.verify_result()
        if code == 0:
            self.authorized = True
        else:
            err = eng.certificate_error()
            self.authorization_error = err.code if err is not None else str(code)

    def _client_verify_result(self, eng: TLSEngine) -> None:
        opts = self._tls_opts
        code = eng.verify_result()
        err: NodeError | BaseException | None = None
        if code != 0:
            err = eng.certificate_error()
        elif eng.identity_error is not None:
            err = eng.identity_error
        if err is None:
            self.authorized = True
        else:
            self.authorized = False
            self.authorization_error = getattr(err, "code", None) or str(err)
            if opts.get("reject_unauthorized", True) is not False:
                self.destroy(err)
                return
        min_dh = opts.get("min_dh_size", 1024)
        info = eng.ephemeral_key_info()
        if info.get("type") == "DH" and info.get("size", 0) < min_dh:
            self.destroy(node_error("ERR_TLS_DH_PARAM_SIZE", info.get("size"), min_dh))

    def _tls_error(self, exc: BaseException, closed: bool = False) -> None:
        """A TLS failure (handshake or record layer); ``closed``: the connection itself is gone
        (the raw socket sharing it was destroyed), not just the peer's side ended."""
        if self._tls_error_reported or self.destroyed:
            return
        wrap = self._wrap
        if self._is_client_connect and not self._secure_established and wrap is not None \
                and getattr(exc, "code", None) == "ECONNRESET" \
                and (wrap._lower_eof or _hang_up(exc)) and exc.args != (_CONNECT_END,):
            # The server ended the connection during the handshake (the engine's or the wrap's
            # EOF error; or its close_notify, which the engine reports as "socket hang up" and
            # Node's ClearOut reads as the end of the stream, UV_EOF): Node's onConnectEnd
            # error, with its message and the connect options, which comes after 'end' (Node's
            # TLSWrap passes the EOF on as any other; the 'end' listener tls.connect() adds
            # destroys the socket with it).
            exc = self._connect_end_error()
            if not self._r_end_emitted and not self._r_ended:
                self._tls_error_reported = True
                self.prepend_once_listener("end", lambda: self._connect_ended(exc))
                _SOCKET_ON_EOF(self)
                return
        if self._is_server and not self._secure_established and wrap is not None \
                and wrap._lower_eof and self.allow_half_open and not closed \
                and getattr(exc, "code", None) == "ECONNRESET":
            # The client ended its side during the handshake, on a server allowing half-open
            # connections: Node's TLSWrap passes the EOF on ('end'), and the socket, which
            # does not end its own side, stays open: no 'tlsClientError' (its onSocketClose
            # comes when the socket closes), the handshake waits for its timeout.
            if not self._r_ended:
                _SOCKET_ON_EOF(self)
            return
        self._tls_error_reported = True
        if not self._secure_established and wrap is not None and self._servername is None:
            eng = wrap.engine
            if eng is not None and (exc is eng.identity_error or (
                    eng.verify_error and isinstance(exc, CertificateError))):
                # The peer's certificate, rejected in the handshake (our deliberate
                # difference): Node completes the handshake, then rejects the certificate; its
                # _finishInit has set servername (the name sent or received, else false).
                sn = eng.servername()
                self._servername = sn if sn is not None else False
        if not self._secure_established:
            _log.debug("TLS handshake failed (%s, %s): %s", "server" if self._is_server else "client",
                       _peer(self), _one_line(exc))
        if self._handshake_timer is not None:
            self._stop_handshake_timer()
        if not self._is_server and wrap is not None and wrap._owed and wrap._pending \
                and (not self._secure_established or wrap.renegotiating) \
                and isinstance(exc, TLSError) and self._pending_write_cb is not None:
            # A client's handshake (or renegotiation) failed with a write waiting for it
            # (Node's Cycle: ClearIn's SSL_write meets the failure first; a renegotiation's:
            # the server's application data before its ServerHello, OpenSSL's "unexpected
            # record"): that write fails with EPROTO (``write EPROTO <OpenSSL's error>``),
            # which destroys the socket with it.
            cb, self._pending_write_cb = self._pending_write_cb, None
            wrap._owed = False
            cb(system_error("EPROTO", f"write EPROTO {exc}", errno=_EPROTO, syscall="write"))
            return
        server = self._tls_server
        if self._is_server and not self._secure_established and server is not None:
            if _hang_up(exc):
                # The client went away (its FIN) before the handshake completed: Node's socket
                # ends and closes ('close' false), and its first 'close' listener
                # (onSocketClose) emits 'tlsClientError' "socket hang up" -- so a 'close'
                # listener added there never runs.
                self.prepend_once_listener("close", lambda *_: server._tls_client_error(exc, self))
                self.destroy()
                return
            # Node destroys the socket with the error (onerror's destroy(err)): its 'error'
            # (onSocketTLSError: 'tlsClientError') sees it destroyed, then 'close' true.
            self.destroy()
            self._had_error = True
            server._tls_client_error(exc, self)
            return
        if self._reneg_holds is not None:
            # (a renegotiation's check holds the output: OpenSSL's alert goes out first)
            release_for_error(self)  # type: ignore[arg-type]  # (a TLSSocket's mixin)
        self.destroy(exc)

    def _emit_error(self, err: BaseException) -> None:
        """``'error'`` on a socket a ``tls.Server`` accepted, with no listener of the user's:
        Node's ``tlsConnectionListener`` adds its own (``onSocketTLSError``), which makes such
        an error ``'tlsClientError'`` before the handshake completed and drops it after (a
        client's reset, a refused renegotiation...): nothing is reported, not even unhandled
        (debug log only). An exception a listener raised (``_on_listener_error``) is still
        reported as the API says (in Node an uncaught exception)."""
        if self._tls_server is not None and "error" not in self._events \
                and not self._has_error_monitor and err is not self._listener_exc:
            _log.debug("error on server socket %s, no 'error' listener (dropped, as Node's "
                       "onSocketTLSError): %s", _peer(self), _one_line(err))
            return
        Socket._emit_error(self, err)

    def _on_listener_error(self, exc: Exception) -> None:
        self._listener_exc = exc  # (reported even with no 'error' listener: _emit_error)
        Socket._on_listener_error(self, exc)

    def _connect_ended(self, exc: BaseException) -> None:
        """Node's ``onConnectEnd``: the first ``'end'`` listener of a client whose connection
        ended during the handshake destroys it with ``exc`` (``'error'``, then ``'close'``)."""
        if not self.destroyed:
            self._tls_error_reported = False
            self._tls_error(exc)

    def _tls_closed_before_secure(self, closed: bool = False) -> None:
        if self._tls_error_reported:
            return
        if self._is_server:
            self._tls_error(system_error("ECONNRESET", _HANG_UP), closed)
        else:
            self._tls_error(self._connect_end_error())

    def _connect_end_error(self) -> BaseException:
        """Node's ``onConnectEnd`` error: a client's connection ended before the handshake
        completed; ``path``, ``host``, ``port``, ``local_address`` as ``tls.connect`` got them."""
        fields = self._connect_fields
        if fields is None:
            opts = self._tls_opts
            fields = {"path": opts.get("path"), "host": opts.get("host"),
                      "port": opts.get("port"), "local_address": None}
        return system_error("ECONNRESET", _CONNECT_END, **fields)

    def _stop_handshake_timer(self) -> None:
        timer, self._handshake_timer = self._handshake_timer, None
        if timer is IN_SWEEP:
            self._tls_server._handshake_deadlines.pop(self, None)  # (the sweep stays armed)
        elif timer is not None:
            timer.cancel()

    def _handshake_timeout_off(self) -> None:
        """The handshake of a socket with a handshake timeout finished: Node's ``_finishInit``
        calls ``setTimeout(0)`` (its handshake timeout is the socket's idle timeout), so the
        socket's ``timeout`` is ``0`` from then on."""
        if self._destroyed:
            return
        # (set_timeout(0)'s work without its argument checks: this is every server handshake)
        self._timeout = 0.0
        self._timeout_set = True
        timer = self._timer
        if timer is not None:
            self._timer = None
            timer.cancel()

    def _on_handshake_timeout(self) -> None:
        self._handshake_timer = None
        if self._secure_established or self.destroyed:
            return
        # Deliberately differs from Node: the socket is destroyed, not left open.
        self._tls_error(node_error("ERR_TLS_HANDSHAKE_TIMEOUT"))


def _hang_up(exc: BaseException) -> bool:
    """The peer ended the stream during the handshake: ``ECONNRESET`` "socket hang up" (the
    engine's for a close_notify or an end of stream, :meth:`_tls_closed_before_secure`'s)."""
    return getattr(exc, "code", None) == "ECONNRESET" and exc.args == (_HANG_UP,)


def _peer(sock: Any) -> str:
    """``'host:port'`` of the peer, for a log line (never raises)."""
    try:
        host, port = sock.remote_address, sock.remote_port
    except Exception:  # noqa: BLE001 - a log line must never fail
        return "?"
    return f"{host}:{port}" if host is not None else "?"


def _one_line(exc: BaseException) -> str:
    """``'TLSError [ERR_SSL_...]: message'``: an error as one log line, no traceback."""
    code = getattr(exc, "code", None)
    text = " ".join(str(exc).split())
    return type(exc).__name__ + (f" [{code}]" if isinstance(code, str) else "") + f": {text}"
