"""The engine's read-only queries: what the handshake negotiated, certificates and chains,
the session and its ticket, OCSP, keying material (what Node's ``TLSSocket`` getters report).

:class:`_EngineQueries` is the root of :class:`~nodetls._engine.engine.TLSEngine`'s compiled base
classes (``TLSEngine -> _EngineRecords -> _EngineSetup -> _EngineCallbacks -> _EngineQueries``);
none of these is on the per-record data path, which is :mod:`._records`'.
"""

from __future__ import annotations

from typing import Any, Final

from .._openssl import constants as C
from .._openssl import ffi, lib, macros
from .._openssl.errors import consume_errors, tls_error
from ._wire import (
    _UCHAR_PP,
    _UINT_P,
    _der_of_x509,
    _ders_of_stack,
    _session_der,
    _sigalg_name,
    ticket_of,
)
from .protocol import Referable

NULL: Final = ffi.NULL  # (Final: a static C variable when compiled, not a dictionary lookup)
# What every finished handshake's negotiated() calls.
_SSL_get_servername: Final = lib.SSL_get_servername
_HOST_NAME: Final = C.TLSEXT_NAMETYPE_host_name
_string: Final = ffi.string


class _EngineQueries(Referable):
    """The named queries the TLS layer asks instead of reading OpenSSL (docs/DESIGN.md, "The
    typed protocol"); the state they read is :class:`~nodetls._engine.engine.TLSEngine`'s."""

    ssl: Any
    server: bool
    context: Any
    _pending_context: Any
    sni_context: Any
    _alpn_server_wire: bytes | None
    alpn_callback: Any
    _npn_wire: bytes
    npn_client_protocols: list[bytes] | None
    _verify_store: Any

    @property
    def alive(self) -> bool:
        """The ``SSL*`` exists (not freed)."""
        return self.ssl is not None

    def ocsp_requested(self) -> bool:
        """Server: the client asked for a stapled OCSP response (status_request)."""
        return self.ssl is not None and macros.SSL_get_tlsext_status_type(self.ssl) == \
            C.TLSEXT_STATUSTYPE_ocsp

    def stapled_ocsp_response(self) -> bytes | None:
        """Client: the OCSP response the server stapled, or None."""
        if self.ssl is None:
            return None
        return macros.SSL_get_tlsext_status_ocsp_resp(self.ssl)

    def tickets_enabled(self) -> bool:
        """Stateless session tickets are on (no ``SSL_OP_NO_TICKET``): a TLS 1.3 PSK identity
        is then a ticket OpenSSL decrypts itself, not an id for an external cache."""
        return self.ssl is not None and not lib.SSL_get_options(self.ssl) & C.SSL_OP_NO_TICKET

    def allows_tls13(self) -> bool:
        """TLS 1.3 can be negotiated on this connection (max version and options)."""
        ssl = self.ssl
        if ssl is None:
            return False
        top = lib.SSL_ctrl(ssl, C.SSL_CTRL_GET_MAX_PROTO_VERSION, 0, NULL)
        return (top == 0 or top >= C.TLS1_3_VERSION) and \
            not lib.SSL_get_options(ssl) & C.SSL_OP_NO_TLSv1_3

    @property
    def sni_target(self) -> Any:
        """The SecureContext whose certificate the handshake will serve (Node's
        ``requestOCSP``: ``_handle.sni_context``, else the server's context): the one SNI chose
        (``use_context``, lent inside the next callback, or lent already) or :attr:`context`."""
        pending = self._pending_context
        if pending is not None:
            return pending
        lent = self.sni_context
        return lent if lent is not None else self.context

    @property
    def version(self) -> str | None:
        if self.ssl is None:
            return None
        return ffi.string(lib.SSL_get_version(self.ssl)).decode()

    def protocol_number(self) -> int:
        return lib.SSL_version(self.ssl)

    def cipher(self) -> dict[str, str] | None:
        c = lib.SSL_get_current_cipher(self.ssl) if self.ssl is not None else NULL
        if c == NULL:
            return None
        return {
            "name": ffi.string(lib.SSL_CIPHER_get_name(c)).decode(),
            "standardName": ffi.string(lib.SSL_CIPHER_standard_name(c)).decode(),
            "version": ffi.string(lib.SSL_CIPHER_get_version(c)).decode(),
        }

    def alpn_selected(self) -> bytes | None:
        if self.ssl is None or (self.server and self._alpn_server_wire is None
                                and self.alpn_callback is None):
            return None  # a server that offers no ALPN never selects one
        data = ffi.new(_UCHAR_PP)
        n = ffi.new(_UINT_P)
        lib.SSL_get0_alpn_selected(self.ssl, data, n)
        if not n[0]:
            return None
        return bytes(ffi.buffer(data[0], n[0]))

    def npn_negotiated(self) -> bytes | None:
        if self.ssl is None or (not self._npn_wire and self.npn_client_protocols is None):
            return None  # NPN was not configured on this side
        data = ffi.new(_UCHAR_PP)
        n = ffi.new(_UINT_P)
        lib.SSL_get0_next_proto_negotiated(self.ssl, data, n)
        if not n[0]:
            return None
        return bytes(ffi.buffer(data[0], n[0]))

    def negotiated(self) -> tuple[bytes | None, bytes | None, str | None]:
        """``(alpn_selected(), npn_negotiated(), servername())`` in one call (what a finished
        handshake reports; each ``None`` when unset or not configured)."""
        ssl = self.ssl
        if ssl is None:
            return None, None, None
        alpn = npn = None
        if not self.server or self._alpn_server_wire is not None or self.alpn_callback is not None:
            alpn = self.alpn_selected()
        if self._npn_wire or self.npn_client_protocols is not None:
            npn = self.npn_negotiated()
        p = _SSL_get_servername(ssl, _HOST_NAME)
        if p == NULL:
            return alpn, npn, None
        name: bytes = _string(p)  # (typed: the compiled decode is bytes', no method lookup)
        return alpn, npn, name.decode("latin-1")  # (one character per byte, as Node's)

    def servername(self) -> str | None:
        if self.ssl is None:
            return None
        p = _SSL_get_servername(self.ssl, _HOST_NAME)
        # (one character per byte, as Node's OneByteString: any bytes OpenSSL accepted)
        return _string(p).decode("latin-1") if p != NULL else None

    def peer_certificate_der(self) -> bytes | None:
        if self.ssl is None:
            return None
        x = lib.SSL_get0_peer_certificate(self.ssl)
        return _der_of_x509(x) if x != NULL else None

    def own_certificate_der(self) -> bytes | None:
        if self.ssl is None:
            return None
        x = lib.SSL_get_certificate(self.ssl)
        return _der_of_x509(x) if x != NULL else None

    def peer_certificate_x509(self) -> Any:
        """The peer's ``X509*``, borrowed from the SSL (valid until the engine's next step: for
        an immediate read by ``nodetls._x509``), or ``None``."""
        if self.ssl is None:
            return None
        x = lib.SSL_get0_peer_certificate(self.ssl)
        return x if x != NULL else None

    def chain_x509(self, verified: bool) -> list[Any]:
        """The verified chain's (else the sent chain's) ``X509*``s, borrowed as
        :meth:`peer_certificate_x509`'s."""
        if self.ssl is None:
            return []
        sk = lib.SSL_get0_verified_chain(self.ssl) if verified else \
            lib.SSL_get_peer_cert_chain(self.ssl)
        if sk == NULL:
            return []
        return [lib.OPENSSL_sk_value(sk, i) for i in range(lib.OPENSSL_sk_num(sk))]

    def peer_chain_der(self) -> list[bytes]:
        """The chain the peer sent (leaf first on clients; servers' stack excludes the leaf)."""
        if self.ssl is None:
            return []
        sk = lib.SSL_get_peer_cert_chain(self.ssl)
        return _ders_of_stack(sk)

    def verified_chain_der(self) -> list[bytes]:
        if self.ssl is None:
            return []
        sk = lib.SSL_get0_verified_chain(self.ssl)
        return _ders_of_stack(sk)

    def verifying_chain_der(self) -> list[bytes]:
        """Only from ``check_identity``: the chain just verified, leaf first, up to the trust
        anchor (``SSL_get0_verified_chain`` is not set yet at that point)."""
        store = self._verify_store
        if store is None:
            return []
        sk = lib.X509_STORE_CTX_get0_chain(store)
        return _ders_of_stack(sk)

    def verify_result(self) -> int:
        return lib.SSL_get_verify_result(self.ssl)

    def finished(self, peer: bool = False) -> bytes | None:
        buf = ffi.new("unsigned char[]", 128)
        fn = lib.SSL_get_peer_finished if peer else lib.SSL_get_finished
        n = fn(self.ssl, buf, 128)
        return bytes(ffi.buffer(buf, n)) if n else None

    def export_keying_material(self, length: int, label: bytes, context: bytes | None) -> bytes:
        out = ffi.new("unsigned char[]", length)
        ctx = context if context is not None else b""
        ok = lib.SSL_export_keying_material(
            self.ssl, out, length, label, len(label), ctx, len(ctx), 1 if context is not None else 0
        )
        if ok != 1:
            raise tls_error(consume_errors(ffi, lib), "export_keying_material failed")
        return bytes(ffi.buffer(out, length))

    def ephemeral_key_info(self) -> dict[str, Any]:
        """Node's ``getEphemeralKeyInfo()``: ``{'type','name','size'}`` or ``{}``."""
        pkey = macros.SSL_get_peer_tmp_key(self.ssl)
        if pkey == NULL:
            return {}
        try:
            kind = lib.EVP_PKEY_get_id(pkey)
            bits = lib.EVP_PKEY_get_bits(pkey)
            if kind == C.EVP_PKEY_DH:
                return {"type": "DH", "size": bits}
            if kind == C.EVP_PKEY_X25519:
                return {"type": "ECDH", "name": "X25519", "size": 253}
            if kind == C.EVP_PKEY_X448:
                return {"type": "ECDH", "name": "X448", "size": 448}
            if kind == C.EVP_PKEY_EC:
                name = ffi.new("char[]", 80)
                ln = ffi.new("size_t *")
                lib.EVP_PKEY_get_group_name(pkey, name, 80, ln)
                sn = ffi.string(name).decode()
                nid = lib.OBJ_sn2nid(sn.encode())
                if nid:
                    sn = ffi.string(lib.OBJ_nid2sn(nid)).decode()
                return {"type": "ECDH", "name": sn, "size": bits}
            return {}
        finally:
            lib.EVP_PKEY_free(pkey)

    def shared_sigalgs(self) -> list[str]:
        out: list[str] = []
        sign = ffi.new("int *")
        hsh = ffi.new("int *")
        n = lib.SSL_get_shared_sigalgs(self.ssl, 0, sign, hsh, NULL, NULL, NULL)
        for i in range(n):
            lib.SSL_get_shared_sigalgs(self.ssl, i, sign, hsh, NULL, NULL, NULL)
            out.append(_sigalg_name(sign[0], hsh[0]))
        return out

    def session_der(self) -> bytes | None:
        if self.ssl is None:
            return None
        sess = lib.SSL_get_session(self.ssl)
        if sess == NULL:
            return None
        return _session_der(sess)

    def session_reused(self) -> bool:
        return bool(self.ssl is not None and lib.SSL_session_reused(self.ssl))

    def tls_ticket(self) -> bytes | None:
        if self.ssl is None:
            return None
        return ticket_of(lib.SSL_get_session(self.ssl))

    def renegotiate_pending(self) -> bool:
        return bool(self.ssl is not None and lib.SSL_renegotiate_pending(self.ssl))

